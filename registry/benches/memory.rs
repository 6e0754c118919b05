//! The memory registry under load: 1,000 services × 10 nodes preloaded, then register,
//! get_service, and one change fanned out to 100 watchers.
//!
//! Absolute times depend on the machine, so each figure is also printed as a ratio to a
//! baseline measured in the same process, doing the least work the operation must do:
//! - `register_*` and `get_service` against `hashmap_clone`: look one service up in a plain
//!   `HashMap` and clone it (what answering a read costs at minimum);
//! - `watch_fanout_100` against `broadcast_fanout_100`: a raw tokio broadcast of the same event
//!   to 100 receivers, each cloning it (the floor for delivering one event to 100 watchers).
//!
//! Ratios use the median per-operation time over every timed batch (warm-up included).
//! Run: `cargo bench -p muster-registry --bench memory -- --warm-up-time 1 --measurement-time 3`.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Bencher, Criterion};
use muster_registry::memory::{MemoryOptions, MemoryRegistry};
use muster_registry::{
    Action, Endpoint, Event, Metadata, Node, Options, QueryOptions, RegisterOptions, Registry,
    Service, Value, WatchOptions, Watcher,
};
use tokio::sync::broadcast;

const SERVICES: usize = 1_000;
const NODES: usize = 10;
const WATCHERS: usize = 100;

/// Per-operation times of every timed batch, by benchmark name.
type Samples = RefCell<BTreeMap<&'static str, Vec<Duration>>>;

fn main() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let services: Vec<Service> = (0..SERVICES).map(service).collect();
    let registry = MemoryRegistry::new(Options::default());
    runtime.block_on(async {
        for service in &services {
            registry
                .register(service, RegisterOptions::with_ttl(Duration::from_secs(60)))
                .await
                .expect("preload");
        }
    });
    // Registration arguments built up front, so only the registry's work is timed: per
    // service, its node `index % NODES` as preloaded, and two changed variants to alternate.
    let unchanged: Vec<Service> = (0..SERVICES)
        .map(|i| one_node(&services[i], i % NODES, None))
        .collect();
    let changed: [Vec<Service>; 2] = [0, 1].map(|variant| {
        (0..SERVICES)
            .map(|i| one_node(&services[i], i % NODES, Some(variant)))
            .collect()
    });
    let samples = Samples::default();
    let mut criterion = Criterion::default().configure_from_args();

    let by_name: HashMap<String, Service> = services
        .iter()
        .map(|service| (service.name.clone(), service.clone()))
        .collect();
    let mut next = 0;
    criterion.bench_function("hashmap_clone", |b| {
        timed(b, &samples, "hashmap_clone", || {
            next = (next + 1) % SERVICES;
            black_box(by_name.get(&services[next].name).cloned());
        })
    });

    criterion.bench_function("get_service", |b| {
        timed(b, &samples, "get_service", || {
            next = (next + 1) % SERVICES;
            let found = runtime
                .block_on(registry.get_service(&services[next].name, QueryOptions::default()));
            black_box(found.expect("preloaded"));
        })
    });

    // go-micro's heartbeat: the same node again, which only moves its deadline.
    criterion.bench_function("register_refresh", |b| {
        timed(b, &samples, "register_refresh", || {
            next = (next + 1) % SERVICES;
            let ttl = RegisterOptions::with_ttl(Duration::from_secs(60));
            runtime
                .block_on(registry.register(&unchanged[next], ttl))
                .expect("refresh");
        })
    });

    // A node whose metadata changed: an update event (no watcher listening here). Each pass
    // over the services registers the other variant, so every registration is a change.
    let mut round = 0usize;
    criterion.bench_function("register_update", |b| {
        timed(b, &samples, "register_update", || {
            round += 1;
            let one = &changed[(round / SERVICES) % 2][round % SERVICES];
            let ttl = RegisterOptions::with_ttl(Duration::from_secs(60));
            runtime
                .block_on(registry.register(one, ttl))
                .expect("update");
        })
    });

    let (sender, _) = broadcast::channel::<Arc<Event>>(MemoryOptions::default().watch_buffer);
    let mut receivers: Vec<_> = (0..WATCHERS).map(|_| sender.subscribe()).collect();
    let event = Event {
        id: services[0].nodes[0].id.clone(),
        action: Action::Update,
        timestamp_ms: 0,
        service: one_node(&services[0], 0, Some(0)),
        lifetime: Default::default(),
    };
    criterion.bench_function("broadcast_fanout_100", |b| {
        timed(b, &samples, "broadcast_fanout_100", || {
            runtime.block_on(async {
                sender.send(Arc::new(event.clone())).expect("receivers");
                for receiver in &mut receivers {
                    black_box(Event::clone(&receiver.recv().await.expect("an event")));
                }
            })
        })
    });

    let mut watchers: Vec<Box<dyn Watcher>> = runtime.block_on(async {
        let mut watchers = Vec::with_capacity(WATCHERS);
        for _ in 0..WATCHERS {
            watchers.push(
                registry
                    .watch(WatchOptions::default())
                    .await
                    .expect("watch"),
            );
        }
        watchers
    });
    criterion.bench_function("watch_fanout_100", |b| {
        timed(b, &samples, "watch_fanout_100", || {
            round += 1;
            let one = &changed[(round / SERVICES) % 2][round % SERVICES];
            let ttl = RegisterOptions::with_ttl(Duration::from_secs(60));
            runtime.block_on(async {
                registry.register(one, ttl).await.expect("update");
                for watcher in &mut watchers {
                    black_box(watcher.next().await.expect("an event"));
                }
            })
        })
    });

    criterion.final_summary();
    report(&samples.into_inner());
}

/// Times `operation` in batches of criterion's choosing, recording the per-operation time.
fn timed(b: &mut Bencher<'_>, samples: &Samples, name: &'static str, mut operation: impl FnMut()) {
    b.iter_custom(|iterations| {
        let start = Instant::now();
        for _ in 0..iterations {
            operation();
        }
        let elapsed = start.elapsed();
        let per_operation = elapsed / u32::try_from(iterations.max(1)).unwrap_or(u32::MAX);
        samples
            .borrow_mut()
            .entry(name)
            .or_default()
            .push(per_operation);
        elapsed
    });
}

/// Prints each operation's median time and its ratio to its baseline.
fn report(samples: &BTreeMap<&'static str, Vec<Duration>>) {
    let median = |name: &str| {
        let mut times = samples.get(name)?.clone();
        times.sort_unstable();
        times.get(times.len() / 2).copied()
    };
    println!("\nmedian per operation, as a ratio to its same-process baseline:");
    for (subject, baseline) in [
        ("get_service", "hashmap_clone"),
        ("register_refresh", "hashmap_clone"),
        ("register_update", "hashmap_clone"),
        ("watch_fanout_100", "broadcast_fanout_100"),
    ] {
        if let (Some(time), Some(base)) = (median(subject), median(baseline)) {
            println!(
                "{subject:>18}: {time:>10.2?} = {:>6.2} × {baseline} ({base:.2?})",
                time.as_secs_f64() / base.as_secs_f64()
            );
        }
    }
}

/// Service number `index`: a go-micro greeter-like service with [`NODES`] nodes.
fn service(index: usize) -> Service {
    let name = format!("go.micro.srv.bench{index:04}");
    let field = |name: &str, r#type: &str| Value {
        name: name.into(),
        r#type: r#type.into(),
        values: Vec::new(),
    };
    Service {
        name: name.clone(),
        version: "latest".into(),
        metadata: Metadata::new(),
        endpoints: vec![Endpoint {
            name: "Greeter.Hello".into(),
            request: Some(Value {
                values: vec![field("name", "string")],
                ..field("Request", "Request")
            }),
            response: Some(Value {
                values: vec![field("msg", "string")],
                ..field("Response", "Response")
            }),
            metadata: Metadata::from([("stream".into(), "false".into())]),
        }],
        nodes: (0..NODES)
            .map(|node| Node {
                id: format!("{name}-{node}"),
                address: format!("10.{}.{}.{}:50051", index / 256, index % 256, node + 1),
                metadata: Metadata::from([
                    ("broker".into(), "http".into()),
                    ("protocol".into(), "mucp".into()),
                    ("registry".into(), "memory".into()),
                    ("server".into(), "mucp".into()),
                    ("transport".into(), "http".into()),
                ]),
            })
            .collect(),
    }
}

/// `service` with only its node `node`; with `variant`, that node's metadata says so (a change).
fn one_node(service: &Service, node: usize, variant: Option<u8>) -> Service {
    let mut one = Service {
        nodes: vec![service.nodes[node].clone()],
        ..service.clone()
    };
    if let Some(variant) = variant {
        one.nodes[0]
            .metadata
            .insert("variant".into(), variant.to_string());
    }
    one
}
