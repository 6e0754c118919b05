//! The etcd registry on a real 3-member cluster on loopback: losing one member (the leader, so
//! the cluster also changes leader) changes nothing; losing a second is a prompt
//! [`Error::Unavailable`] that says how many members are down; once a quorum is back the first
//! call succeeds; and the watcher, across all of it, saw every change once.
#![cfg(feature = "etcd")]

mod etcd_support;

use std::collections::BTreeMap;
use std::time::Duration;

use etcd_client::GetOptions;
use etcd_support::Cluster;
use muster_registry::etcd::EtcdRegistry;
use muster_registry::{
    Action, DeregisterOptions, Error, Event, Node, QueryOptions, RegisterOptions, Registry,
    Service, WatchOptions,
};
use tokio::sync::mpsc;
use tokio::time::{timeout, Instant};

const SERVICE: &str = "go.micro.srv.clustered";

/// The registry's timeout in these tests (the harness's).
const TIMEOUT: Duration = Duration::from_secs(5);

/// Longest a call may take during the outage: the timeout, and the member count of the
/// message (one status request per member, each at most a second, made concurrently).
const OUTAGE_BOUND: Duration = Duration::from_secs(8);

fn node(id: &str) -> Service {
    Service {
        name: SERVICE.into(),
        version: "1.0.0".into(),
        nodes: vec![Node {
            id: id.into(),
            address: "127.0.0.1:50200".into(),
            ..Node::default()
        }],
        ..Service::default()
    }
}

/// Every event the watcher delivers, on a channel (the watcher lives in its own task).
fn record(mut watcher: Box<dyn muster_registry::Watcher>) -> mpsc::UnboundedReceiver<Event> {
    let (sender, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(event) = watcher.next().await {
            if sender.send(event).is_err() {
                return;
            }
        }
    });
    events
}

/// The node ids under the service's prefix, read from etcd itself.
async fn stored_ids(cluster: &Cluster) -> Vec<String> {
    let live = cluster
        .members
        .iter()
        .find(|member| member.is_running())
        .expect("a running member");
    let mut raw = live.client().await;
    let response = raw
        .get(
            format!("/micro/registry/{SERVICE}/"),
            Some(GetOptions::new().with_prefix().with_keys_only()),
        )
        .await
        .unwrap();
    response
        .kvs()
        .iter()
        .map(|kv| {
            let key = kv.key_str().unwrap();
            key.rsplit('/').next().unwrap().to_string()
        })
        .collect()
}

/// Applies the events received so far to a view, failing on any event that contradicts it
/// (a create of a known node, a delete of an unknown one: a doubled or lost event).
fn apply(view: &mut BTreeMap<String, Service>, events: &mut mpsc::UnboundedReceiver<Event>) {
    while let Ok(event) = events.try_recv() {
        match event.action {
            Action::Create => assert!(
                view.insert(event.id.clone(), event.service).is_none(),
                "create of {} seen twice",
                event.id
            ),
            Action::Update => assert!(
                view.insert(event.id.clone(), event.service).is_some(),
                "update of unknown {}",
                event.id
            ),
            Action::Delete => assert!(
                view.remove(&event.id).is_some(),
                "delete of unknown {} (doubled or out of order)",
                event.id
            ),
        }
    }
}

/// Waits until the watch view holds exactly what etcd stores.
async fn view_matches_store(
    cluster: &Cluster,
    view: &mut BTreeMap<String, Service>,
    events: &mut mpsc::UnboundedReceiver<Event>,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        apply(view, events);
        let stored = stored_ids(cluster).await;
        let seen: Vec<String> = view.keys().cloned().collect();
        if seen == stored {
            // A quiet moment more: nothing doubled arrives late.
            tokio::time::sleep(Duration::from_millis(300)).await;
            apply(view, events);
            assert_eq!(view.keys().cloned().collect::<Vec<_>>(), stored);
            return;
        }
        assert!(
            Instant::now() < deadline,
            "watch view {seen:?} never matched etcd's keys {stored:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn member_loss_quorum_loss_and_recovery() {
    let Some(mut cluster) = Cluster::start().await else {
        return;
    };
    let registry = EtcdRegistry::connect(cluster.options()).await.unwrap();
    let mut events = record(registry.watch(WatchOptions::default()).await.unwrap());
    let mut view = BTreeMap::new();
    let register = |id: &'static str| {
        let registry = registry.clone();
        async move {
            registry
                .register(&node(id), RegisterOptions::default())
                .await
        }
    };
    register("before").await.unwrap();
    registry
        .register(
            &node("kept"),
            RegisterOptions::with_ttl(Duration::from_secs(10)),
        )
        .await
        .unwrap();

    // One member down, the leader: once the others elected a new one, everything works.
    let leader = cluster.leader().await;
    cluster.members[leader].kill();
    let new_leader = cluster.leader().await;
    assert_ne!(new_leader, leader);
    register("one-down").await.unwrap();
    registry
        .deregister(&node("before"), DeregisterOptions::default())
        .await
        .unwrap();
    let listed = registry
        .get_service(SERVICE, QueryOptions::default())
        .await
        .unwrap();
    let mut ids: Vec<&str> = listed[0].nodes.iter().map(|n| n.id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["kept", "one-down"]);
    view_matches_store(&cluster, &mut view, &mut events).await;

    // A second member down: no quorum. Every call ends within the bound, and once the last
    // member knows it has no leader, the error says what is wrong.
    let second = (0..3).find(|&i| i != leader && i != new_leader).unwrap();
    cluster.members[second].kill();
    let deadline = Instant::now() + Duration::from_secs(20);
    let message = loop {
        let started = Instant::now();
        let outcome = timeout(OUTAGE_BOUND * 2, register("during-outage"))
            .await
            .expect("a call hung during the outage");
        let took = started.elapsed();
        assert!(
            took <= OUTAGE_BOUND,
            "a call took {took:?} during the outage"
        );
        match outcome {
            Err(Error::Unavailable(message)) if message.contains("no quorum") => break message,
            Err(Error::Unavailable(_) | Error::Timeout) => {}
            other => panic!("expected the registry to be unavailable, got {other:?}"),
        }
        assert!(Instant::now() < deadline, "never reported no quorum");
    };
    assert_eq!(message, "etcd has no quorum (2 of 3 members down)");
    assert!(TIMEOUT < OUTAGE_BOUND);

    // Quorum back: as soon as etcd has a leader again, the first call succeeds.
    cluster.restart(second).await;
    cluster.leader().await;
    register("after").await.unwrap();
    registry
        .get_service(SERVICE, QueryOptions::default())
        .await
        .unwrap();

    // The node kept alive by its lease survived the outage, and the watcher saw every change
    // once: its view is etcd's keys.
    view_matches_store(&cluster, &mut view, &mut events).await;
    assert!(view.contains_key("kept") && view.contains_key("after"));
    assert!(!view.contains_key("before"));
}

#[tokio::test]
async fn an_unreachable_cluster_is_named_with_its_endpoints() {
    let endpoints = vec![
        format!("127.0.0.1:{}", etcd_support::free_port()),
        format!("127.0.0.1:{}", etcd_support::free_port()),
    ];
    let options = muster_registry::Options {
        addrs: endpoints.clone(),
        timeout: Some(Duration::from_secs(2)),
        ..muster_registry::Options::default()
    };
    let registry = EtcdRegistry::connect(options).await.unwrap();
    let started = Instant::now();
    let error = registry.check().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let Error::Unavailable(message) = error else {
        panic!("expected unavailable, got {error:?}");
    };
    assert_eq!(
        message,
        format!(
            "cannot reach etcd at {}: Connection refused (os error 111)",
            endpoints.join(", ")
        )
    );
}
