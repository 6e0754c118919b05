//! The query paths of issue #16, at 1,000 and at 10,000 nodes in the same run: `GET
//! /api/services`, the services page and a service page rendered on the server, each beside
//! `GET /healthz` (the floor of an HTTP round trip to the same console, interleaved with them),
//! and the memory registry's cached `list_services` beside its `get_service` in process.
//!
//! Both registries have the same 1,000 services (1 node each, then 10): what the list and the
//! services page return does not change between them, only the registry behind it, so a
//! figure that grows from one to the other grows with the registry. The real release `muster`
//! (memory registry, loopback only). Not a test: figures are printed against their targets.
//! `cargo bench -p server --bench queries` (or `scripts/bench.sh`).

#[allow(dead_code)] // shared with the rpc bench, which uses all of it
#[path = "../rpc/console.rs"]
mod console;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use muster_registry::memory::MemoryRegistry;
use muster_registry::{Node, QueryOptions, RegisterOptions, Registry, Service};

use crate::console::Console;

/// Services in every registry measured.
const SERVICES: usize = 1_000;
/// Requests of each kind per registry (after as many warm-up rounds as `WARM_UP`).
const ROUNDS: usize = 200;
const WARM_UP: usize = 20;
/// The service the service page shows (in the middle of the map).
const ONE: &str = "bench.query.0500";

fn main() -> ExitCode {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("queries: not measuring outside `cargo bench` (see scripts/bench.sh)");
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut rows = Vec::new();
    runtime.block_on(async {
        for per_service in [1, 10] {
            rows.extend(http_paths(per_service).await);
            rows.extend(list_services(per_service).await);
        }
    });
    println!("\n| nodes | figure | p50 / p90 | same-run baseline p50 | ratio | target |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for row in rows {
        println!(
            "| {} | {} | {:.3} / {:.3} ms | {:.3} ms | {:.1}× | {} |",
            row.nodes,
            row.figure,
            row.p50,
            row.p90,
            row.baseline,
            row.p50 / row.baseline,
            row.target
        );
    }
    ExitCode::SUCCESS
}

/// One printed figure.
struct Row {
    nodes: usize,
    figure: String,
    p50: f64,
    p90: f64,
    baseline: f64,
    target: String,
}

/// Percentile `p` (0–100) of `samples`, in ms.
fn percentile(samples: &mut [Duration], p: usize) -> f64 {
    samples.sort();
    let index = (samples.len() * p / 100).min(samples.len() - 1);
    samples[index].as_secs_f64() * 1000.0
}

fn verdict(p50: f64, target_ms: f64) -> String {
    let met = if p50 <= target_ms { "met" } else { "MISSED" };
    format!("≤ {target_ms} ms — {met}")
}

/// `SERVICES` services of `per_service` nodes each, go-micro's node metadata on every node.
fn services(per_service: usize) -> Vec<Service> {
    (0..SERVICES)
        .map(|index| Service {
            name: format!("bench.query.{index:04}"),
            version: "1.0.0".into(),
            nodes: (0..per_service)
                .map(|node| Node {
                    id: format!("bench.query.{index:04}-{node}"),
                    address: format!("10.1.{}.{}:{}", index / 250, index % 250, 8000 + node),
                    metadata: [
                        ("broker", "http"),
                        ("protocol", "mucp"),
                        ("registry", "mdns"),
                        ("server", "mucp"),
                        ("transport", "http"),
                    ]
                    .into_iter()
                    .map(|(key, value)| (key.to_string(), value.to_string()))
                    .collect(),
                })
                .collect(),
            ..Service::default()
        })
        .collect()
}

/// The console's HTTP paths against `/healthz`, requests of every kind interleaved.
async fn http_paths(per_service: usize) -> Vec<Row> {
    let nodes = SERVICES * per_service;
    let seed: Vec<serde_json::Value> = services(per_service)
        .iter()
        .map(|service| serde_json::to_value(service).expect("JSON"))
        .collect();
    let console = Console::start(&["--probe-interval", "0"], Some(&seed));
    let http = reqwest::Client::new();
    // The seed is registered at start: wait until the console lists every service.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let list: Vec<serde_json::Value> = http
            .get(console.url("/api/services"))
            .send()
            .await
            .expect("GET /api/services")
            .json()
            .await
            .expect("JSON");
        if list.len() == SERVICES {
            break;
        }
        assert!(Instant::now() < deadline, "the seed was not registered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let one = format!("/services/{ONE}");
    let paths = [
        ("/healthz", "GET /healthz (baseline)", f64::INFINITY),
        ("/api/services", "GET /api/services (1,000 summaries)", 2.0),
        ("/", "GET / (services page, SSR, 50 rows)", 10.0),
        (
            one.as_str(),
            "GET /services/{name} (service page, SSR)",
            10.0,
        ),
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); paths.len()];
    let mut sizes = vec![0; paths.len()];
    for round in 0..WARM_UP + ROUNDS {
        for (which, (path, _, _)) in paths.iter().enumerate() {
            let sent = Instant::now();
            let response = http.get(console.url(path)).send().await.expect("GET");
            assert_eq!(response.status(), 200, "GET {path}");
            sizes[which] = response.bytes().await.expect("body").len();
            if round >= WARM_UP {
                samples[which].push(sent.elapsed());
            }
        }
    }
    let baseline = percentile(&mut samples[0], 50);
    paths
        .iter()
        .zip(samples.iter_mut())
        .zip(sizes)
        .map(|(((_, figure, target), samples), size)| {
            let p50 = percentile(samples, 50);
            Row {
                nodes,
                figure: format!("{figure}, {size} B"),
                p50,
                p90: percentile(samples, 90),
                baseline,
                target: if target.is_finite() {
                    verdict(p50, *target)
                } else {
                    "(baseline)".into()
                },
            }
        })
        .collect()
}

/// The memory registry's cached `list_services` against its `get_service` of one service, in
/// process, interleaved.
async fn list_services(per_service: usize) -> Vec<Row> {
    let nodes = SERVICES * per_service;
    let registry = MemoryRegistry::default();
    for service in services(per_service) {
        registry
            .register(&service, RegisterOptions::default())
            .await
            .expect("register");
    }
    let (mut list, mut get) = (Vec::new(), Vec::new());
    for round in 0..WARM_UP + ROUNDS {
        let started = Instant::now();
        let listed = registry
            .list_services(QueryOptions::default())
            .await
            .expect("list");
        let listed_in = started.elapsed();
        assert_eq!(listed.len(), SERVICES);
        let started = Instant::now();
        let got = registry
            .get_service(ONE, QueryOptions::default())
            .await
            .expect("get");
        let got_in = started.elapsed();
        assert_eq!(got[0].nodes.len(), per_service);
        if round >= WARM_UP {
            list.push(listed_in);
            get.push(got_in);
        }
    }
    let baseline = percentile(&mut get, 50);
    let p50 = percentile(&mut list, 50);
    vec![
        Row {
            nodes,
            figure: "memory registry get_service, one service (baseline)".into(),
            p50: baseline,
            p90: percentile(&mut get, 90),
            baseline,
            target: "(baseline)".into(),
        },
        Row {
            nodes,
            figure: "memory registry list_services (every version listed, no nodes)".into(),
            p50,
            p90: percentile(&mut list, 90),
            baseline,
            target: verdict(p50, 0.5),
        },
    ]
}
