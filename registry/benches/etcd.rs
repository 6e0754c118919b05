//! The etcd registry on a real local etcd: put → watch-event latency, and sustained
//! registrations per second.
//!
//! Every figure comes with a baseline measured in the same process against the same etcd,
//! doing only what the operation cannot avoid:
//! - latency: a raw etcd-client put seen by a raw etcd-client watch, against a Muster
//!   `register` seen by a Muster watcher (which decodes, validates and diffs the value);
//! - throughput: raw puts of the same values with the same concurrency, against Muster
//!   `register` without a TTL (one put) and with one (a lease grant, a put and a keep-alive
//!   task per node).
//!
//! etcd fsyncs every write, so absolute figures follow the disk; the ratios travel better.
//! Run: `cargo bench -p muster-registry --features etcd --bench etcd`.

#[path = "../tests/etcd_support/mod.rs"]
mod etcd_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use etcd_client::{Client, EventType, WatchOptions as RawWatchOptions};
use futures::stream::{self, StreamExt};
use muster_registry::etcd::EtcdRegistry;
use muster_registry::{Node, RegisterOptions, Registry, Service, WatchOptions};

/// Sequential round trips per latency figure.
const LATENCY_SAMPLES: usize = 300;
/// Registrations per throughput figure.
const REGISTRATIONS: usize = 2_000;
/// Registrations in flight at once.
const CONCURRENCY: usize = 32;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(run());
}

async fn run() {
    let Some(etcd) = etcd_support::Etcd::start().await else {
        return;
    };
    let registry = etcd.registry().await;
    let raw = etcd.client().await;

    let raw_latency = raw_put_to_event(raw.clone()).await;
    let muster_latency = register_to_event(&registry).await;
    report_latency("raw put → raw watch event", &raw_latency, None);
    report_latency(
        "register → Muster watch event",
        &muster_latency,
        Some(&raw_latency),
    );

    let raw_rate = raw_puts_per_sec(raw.clone()).await;
    let plain_rate = registrations_per_sec(&registry, "plain", None).await;
    let leased_rate =
        registrations_per_sec(&registry, "leased", Some(Duration::from_secs(60))).await;
    println!(
        "{:<44} {raw_rate:>8.0} /s",
        format!("raw puts ({CONCURRENCY} in flight)")
    );
    println!(
        "{:<44} {plain_rate:>8.0} /s  ({:.2}x raw)",
        "register, no TTL",
        plain_rate / raw_rate
    );
    println!(
        "{:<44} {leased_rate:>8.0} /s  ({:.2}x raw)",
        "register, TTL 60 s (lease + keep-alive)",
        leased_rate / raw_rate
    );
}

/// A one-node service; `round` changes the address so each registration is a real change.
fn service(name: &str, id: usize, round: usize) -> Service {
    Service {
        name: name.into(),
        version: "1.0.0".into(),
        nodes: vec![Node {
            id: format!("{name}-{id}"),
            address: format!("127.0.0.1:{}", 10_000 + round % 50_000),
            ..Node::default()
        }],
        ..Service::default()
    }
}

async fn raw_put_to_event(mut client: Client) -> Vec<Duration> {
    let key = "/bench/raw/latency";
    let mut stream = client
        .watch(key, Some(RawWatchOptions::new().with_prev_key()))
        .await
        .expect("raw watch");
    // The creation answer.
    stream.message().await.expect("watch created");
    let mut times = Vec::with_capacity(LATENCY_SAMPLES);
    for round in 0..LATENCY_SAMPLES {
        let value = serde_json::to_vec(&service("bench.raw", 0, round)).expect("json");
        let started = Instant::now();
        client.put(key, value, None).await.expect("raw put");
        loop {
            let response = stream.message().await.expect("watch").expect("open");
            if response
                .events()
                .iter()
                .any(|event| event.event_type() == EventType::Put)
            {
                break;
            }
        }
        times.push(started.elapsed());
    }
    times
}

async fn register_to_event(registry: &EtcdRegistry) -> Vec<Duration> {
    let mut watcher = registry
        .watch(WatchOptions::service("bench.latency"))
        .await
        .expect("watch");
    let mut times = Vec::with_capacity(LATENCY_SAMPLES);
    for round in 0..LATENCY_SAMPLES {
        let change = service("bench.latency", 0, round);
        let started = Instant::now();
        registry
            .register(&change, RegisterOptions::default())
            .await
            .expect("register");
        watcher.next().await.expect("event");
        times.push(started.elapsed());
    }
    watcher.stop();
    times
}

async fn raw_puts_per_sec(client: Client) -> f64 {
    let values: Vec<(String, Vec<u8>)> = (0..REGISTRATIONS)
        .map(|id| {
            let value = serde_json::to_vec(&service("bench.raw", id, 0)).expect("json");
            (format!("/bench/raw/{id}"), value)
        })
        .collect();
    let started = Instant::now();
    stream::iter(values)
        .for_each_concurrent(CONCURRENCY, |(key, value)| {
            let mut client = client.clone();
            async move {
                client.put(key, value, None).await.expect("raw put");
            }
        })
        .await;
    REGISTRATIONS as f64 / started.elapsed().as_secs_f64()
}

async fn registrations_per_sec(registry: &EtcdRegistry, name: &str, ttl: Option<Duration>) -> f64 {
    let services: Vec<Service> = (0..REGISTRATIONS)
        .map(|id| service(&format!("bench.{name}"), id, 0))
        .collect();
    let options = RegisterOptions { ttl };
    let registry = Arc::new(registry.clone());
    let started = Instant::now();
    stream::iter(services)
        .for_each_concurrent(CONCURRENCY, |service| {
            let registry = registry.clone();
            let options = options.clone();
            async move {
                registry
                    .register(&service, options)
                    .await
                    .expect("register");
            }
        })
        .await;
    REGISTRATIONS as f64 / started.elapsed().as_secs_f64()
}

fn report_latency(what: &str, times: &[Duration], baseline: Option<&[Duration]>) {
    let (median, p99) = percentiles(times);
    let ratio = baseline.map_or(String::new(), |baseline| {
        let (base_median, _) = percentiles(baseline);
        format!(
            "  ({:.2}x raw median)",
            median.as_secs_f64() / base_median.as_secs_f64()
        )
    });
    println!("{what:<44} median {median:>10.2?}  p99 {p99:>10.2?}{ratio}");
}

fn percentiles(times: &[Duration]) -> (Duration, Duration) {
    let mut sorted = times.to_vec();
    sorted.sort();
    let at = |fraction: f64| sorted[((sorted.len() - 1) as f64 * fraction).round() as usize];
    (at(0.5), at(0.99))
}
