//! Churn through the registry API, in process: register and deregister on the memory registry
//! at the plan's rate for the plan's time, with watchers replaying `watch()` events into their
//! own views. At the end every view must equal the registry's state.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use muster_registry::memory::MemoryRegistry;
use muster_registry::{
    Action, DeregisterOptions, Error, Node, Options, QueryOptions, RegisterOptions, Registry,
    Service, WatchOptions,
};

use crate::bench::Bench;
use crate::report::verdict;
use crate::stats::Summary;

const SERVICES: usize = 20;

/// A watcher's view: (service, node id), and how often it had to resync.
#[derive(Default)]
struct WatcherView {
    nodes: BTreeSet<(String, String)>,
    events: u64,
    resyncs: u64,
    delays: Vec<Duration>,
}

fn service(index: usize) -> Service {
    Service {
        name: format!("churn.{:02}", index % SERVICES),
        version: "1.0.0".into(),
        nodes: vec![Node {
            id: format!("churn-{index:06}"),
            address: "10.0.0.1:7000".into(),
            ..Node::default()
        }],
        ..Service::default()
    }
}

async fn state(registry: &MemoryRegistry) -> BTreeSet<(String, String)> {
    let mut nodes = BTreeSet::new();
    for listed in registry
        .list_services(QueryOptions::default())
        .await
        .unwrap()
    {
        for version in registry
            .get_service(&listed.name, QueryOptions::default())
            .await
            .unwrap()
        {
            nodes.extend(
                version
                    .nodes
                    .iter()
                    .map(|n| (version.name.clone(), n.id.clone())),
            );
        }
    }
    nodes
}

/// Runs the in-process churn and checks every watcher. Panics on any difference.
pub async fn run(bench: &mut Bench<'_>) {
    let plan = bench.plan.clone();
    let registry = MemoryRegistry::new(Options::default());
    let pairs = (plan.churn_per_second * plan.churn.as_secs_f64()) as usize;
    let lifetime = plan.churn_per_second as usize;
    // When each registration was made, for the watchers' delay figures.
    let registered_at: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; pairs]));
    let mut views = Vec::new();
    for _ in 0..plan.churn_watchers {
        let view = Arc::new(Mutex::new(WatcherView::default()));
        let mut watcher = registry.watch(WatchOptions::default()).await.unwrap();
        let (view_task, registry, registered_at) =
            (view.clone(), registry.clone(), registered_at.clone());
        tokio::spawn(async move {
            loop {
                match watcher.next().await {
                    Ok(event) => {
                        let mut view = view_task.lock().unwrap();
                        view.events += 1;
                        for node in &event.service.nodes {
                            let key = (event.service.name.clone(), node.id.clone());
                            match event.action {
                                Action::Delete => {
                                    view.nodes.remove(&key);
                                }
                                _ => {
                                    view.nodes.insert(key);
                                    let index: usize = node.id[6..].parse().unwrap();
                                    if let Some(at) = registered_at.lock().unwrap()[index] {
                                        view.delays.push(at.elapsed());
                                    }
                                }
                            }
                        }
                    }
                    Err(Error::Lagged { .. }) => {
                        let nodes = state(&registry).await;
                        let mut view = view_task.lock().unwrap();
                        view.nodes = nodes;
                        view.resyncs += 1;
                    }
                    Err(_) => return,
                }
            }
        });
        views.push(view);
    }

    let gap = Duration::from_secs_f64(1.0 / plan.churn_per_second);
    let started = Instant::now();
    for index in 0..pairs {
        let due = started + gap.mul_f64(index as f64);
        tokio::time::sleep_until(due.into()).await;
        registered_at.lock().unwrap()[index] = Some(Instant::now());
        registry
            .register(&service(index), RegisterOptions::default())
            .await
            .unwrap();
        if index >= lifetime {
            registry
                .deregister(&service(index - lifetime), DeregisterOptions::default())
                .await
                .unwrap();
        }
    }
    let elapsed = started.elapsed();
    let achieved = pairs as f64 / elapsed.as_secs_f64();

    let truth = state(&registry).await;
    assert_eq!(
        truth.len(),
        lifetime.min(pairs),
        "the registry lost registrations"
    );
    let converged = bench
        .eventually(Duration::from_secs(10), || async {
            views.iter().all(|view| view.lock().unwrap().nodes == truth)
        })
        .await;
    if !converged {
        let wrong = views
            .iter()
            .filter(|v| v.lock().unwrap().nodes != truth)
            .count();
        panic!("WRONG FINAL STATE: {wrong} in-process watchers differ from the registry");
    }
    let resyncs: u64 = views.iter().map(|v| v.lock().unwrap().resyncs).sum();
    bench.report.add(
        "churn",
        format!(
            "register+deregister on the registry API in process (memory), {} s, {} watchers",
            plan.churn.as_secs(),
            views.len()
        ),
        format!(
            "{pairs} pairs in {:.1} s = {achieved:.0}/s; {} / {} watchers equal the registry \
             ({} nodes); lag resyncs {resyncs}",
            elapsed.as_secs_f64(),
            views.len(),
            views.len(),
            truth.len()
        ),
        verdict(
            achieved >= 0.95 * plan.churn_per_second,
            &format!("{}/s; views equal, or the run fails", plan.churn_per_second),
        ),
    );
    let delays: Vec<Duration> = views
        .iter()
        .flat_map(|v| std::mem::take(&mut v.lock().unwrap().delays))
        .collect();
    bench.report.add(
        "churn",
        "register → watcher event, in process",
        Summary::of(delays).to_string(),
        "(no target)",
    );
}
