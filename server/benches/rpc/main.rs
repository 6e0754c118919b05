//! The RPC path of issue #14, measured against a same-run baseline:
//!
//! - a call through `POST /api/services/{name}/call` against the same call made directly to
//!   the same fake go-micro peer (muster-rpc's client, a fresh connection each, as the console
//!   makes it), interleaved so both see the same machine; target API ≤ 1.3 × direct + 0.5 ms;
//! - a health sweep of 10,000 nodes (fake v1.18 peers on loopback ports): checks per second,
//!   the time one sweep of every node takes, the console's CPU, and `GET
//!   /api/services/{name}` latency while it runs (target ≤ 1 ms).
//!
//! The real release `muster` binary (memory registry, loopback only). Not a test: figures are
//! printed against their targets. `cargo bench -p server --bench rpc` (or `scripts/bench.sh`).

mod console;

use std::process::ExitCode;
use std::time::{Duration, Instant};

use muster_rpc::fake_peer::{Flavour, Peer};
use serde_json::json;

use crate::console::Console;

/// Calls of each kind in the overhead comparison.
const CALLS: usize = 1_000;
/// Nodes in the sweep.
const NODES: usize = 10_000;
/// Services they are spread over.
const SERVICES: usize = 100;
/// The sweep's `--probe-interval`, short enough that the console's capacity, not the
/// schedule, sets the pace when it cannot keep up.
const SWEEP_INTERVAL: Duration = Duration::from_secs(2);
/// How long the sweep is watched after every node was checked once.
const SWEEP_WATCH: Duration = Duration::from_secs(10);

fn mucp() -> serde_json::Value {
    json!({"broker": "http", "protocol": "mucp", "registry": "mdns", "server": "mucp", "transport": "http"})
}

fn main() -> ExitCode {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("rpc: not measuring outside `cargo bench` (see scripts/bench.sh)");
        return ExitCode::SUCCESS;
    }
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let mut rows = Vec::new();
    runtime.block_on(async {
        rows.extend(call_overhead().await);
        rows.extend(sweep().await);
    });
    println!("\n| figure | value | target |\n| --- | --- | --- |");
    for (figure, value, target) in rows {
        println!("| {figure} | {value} | {target} |");
    }
    ExitCode::SUCCESS
}

/// Percentile `p` (0–100) of sorted `samples`, in ms.
fn percentile(samples: &[Duration], p: usize) -> f64 {
    let index = (samples.len() * p / 100).min(samples.len() - 1);
    samples[index].as_secs_f64() * 1000.0
}

type Row = (String, String, String);

async fn call_overhead() -> Vec<Row> {
    let peer = Peer::start(Flavour::V1_18).await;
    let console = Console::start(&["--probe-interval", "0"], None);
    let http = reqwest::Client::new();
    let registration = json!({
        "name": "bench.call", "version": "1",
        "nodes": [{"id": "n", "address": peer.address(), "metadata": mucp()}],
    });
    let created = http
        .post(console.url("/api/services"))
        .json(&registration)
        .send()
        .await
        .expect("register");
    assert_eq!(created.status(), 201);
    let url = console.url("/api/services/bench.call/call");
    let body = json!({"endpoint": "Greeter.Hello", "request": {"name": "x"}});
    let call = muster_rpc::Call::new(
        "bench.call",
        "Greeter.Hello",
        r#"{"name":"x"}"#,
        Duration::from_secs(5),
    );
    let (mut direct, mut api) = (Vec::new(), Vec::new());
    for round in 0..CALLS + 100 {
        let started = Instant::now();
        muster_rpc::call(&peer.address(), &call)
            .await
            .expect("direct call");
        let direct_took = started.elapsed();
        let started = Instant::now();
        let response = http.post(&url).json(&body).send().await.expect("API call");
        assert_eq!(response.status(), 200);
        response.bytes().await.expect("API reply");
        let api_took = started.elapsed();
        if round >= 100 {
            direct.push(direct_took);
            api.push(api_took);
        }
    }
    direct.sort();
    api.sort();
    let (direct50, api50) = (percentile(&direct, 50), percentile(&api, 50));
    let budget = 1.3 * direct50 + 0.5;
    eprintln!("call: direct p50 {direct50:.3} ms, API p50 {api50:.3} ms (budget {budget:.3} ms)");
    vec![
        (
            format!("call, direct to the peer (p50 / p90 of {CALLS})"),
            format!("{direct50:.3} / {:.3} ms", percentile(&direct, 90)),
            "baseline".into(),
        ),
        (
            format!("call through /api/…/call (p50 / p90 of {CALLS})"),
            format!("{api50:.3} / {:.3} ms", percentile(&api, 90)),
            format!(
                "≤ 1.3 × direct + 0.5 ms = {budget:.3} ms: {}",
                verdict(api50 <= budget)
            ),
        ),
        (
            "API / direct (p50)".into(),
            format!("{:.2}×", api50 / direct50),
            String::new(),
        ),
    ]
}

fn verdict(met: bool) -> &'static str {
    if met {
        "met"
    } else {
        "MISSED"
    }
}

async fn sweep() -> Vec<Row> {
    let mut peers = Vec::with_capacity(NODES);
    for _ in 0..NODES {
        peers.push(Peer::start(Flavour::V1_18).await);
    }
    let seed: Vec<serde_json::Value> = (0..SERVICES)
        .map(|service| {
            let nodes: Vec<serde_json::Value> = peers
                .iter()
                .enumerate()
                .filter(|(index, _)| index % SERVICES == service)
                .map(|(index, peer)| json!({"id": format!("n{index}"), "address": peer.address(), "metadata": mucp()}))
                .collect();
            json!({"name": format!("bench.sweep.{service}"), "version": "1", "nodes": nodes})
        })
        .collect();
    // Same-run baselines, before any sweep: the same GET with the same view and no probing,
    // and `/healthz`, the floor of an HTTP round trip to the console.
    let (idle_get, idle_healthz) = {
        let idle = Console::start(&["--probe-interval", "0"], Some(&seed));
        let samples = poll(&idle, SWEEP_WATCH / 2).await;
        (samples.get, samples.healthz)
    };
    let interval = format!("{}ms", SWEEP_INTERVAL.as_millis());
    let console = Console::start(&["--probe-interval", &interval], Some(&seed));
    let checks = || peers.iter().map(Peer::requests).sum::<usize>();
    let started = Instant::now();
    while checks() < NODES {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the first sweep never ended"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_sweep = started.elapsed();
    eprintln!("sweep: every node checked once after {first_sweep:?}");

    let (checks_before, cpu_before, watch_started) = (checks(), console.cpu(), Instant::now());
    let samples = poll(&console, SWEEP_WATCH).await;
    let wall = watch_started.elapsed();
    let done = checks() - checks_before;
    let cpu = console.cpu() - cpu_before;
    let (rss, files) = (console.rss_mib(), console.open_files());
    let latencies = samples.get;
    let healthz = samples.healthz;
    let per_second = done as f64 / wall.as_secs_f64();
    let sweep_time = NODES as f64 / per_second;
    let p99 = percentile(&latencies, 99);
    eprintln!("sweep: {done} checks in {wall:?}, console CPU {cpu:?}");
    vec![
        (
            format!("health checks, {NODES} nodes, --probe-interval {interval}"),
            format!("{per_second:.0} checks/s: one sweep of every node per {sweep_time:.2} s"),
            format!(
                "every node once per interval: {}",
                verdict(sweep_time <= SWEEP_INTERVAL.as_secs_f64() * 1.1)
            ),
        ),
        (
            "first sweep (console start → every node checked once)".into(),
            format!("{:.2} s", first_sweep.as_secs_f64()),
            String::new(),
        ),
        (
            "console CPU during the sweeps".into(),
            format!(
                "{:.0} % of one core ({:.1} µs per check)",
                100.0 * cpu.as_secs_f64() / wall.as_secs_f64(),
                cpu.as_secs_f64() * 1e6 / done.max(1) as f64
            ),
            String::new(),
        ),
        (
            format!(
                "GET /api/services/{{name}} during the sweeps (p50 / p99 / max of {})",
                latencies.len()
            ),
            format!(
                "{:.3} / {p99:.3} / {:.3} ms",
                percentile(&latencies, 50),
                latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1000.0)
            ),
            format!("≤ 1 ms: {}", verdict(p99 <= 1.0)),
        ),
        (
            "baseline: the same GET, same view, no probing (p50 / p99)".into(),
            format!(
                "{:.3} / {:.3} ms → during the sweeps {:.1}× at p50",
                percentile(&idle_get, 50),
                percentile(&idle_get, 99),
                percentile(&latencies, 50) / percentile(&idle_get, 50)
            ),
            "baseline".into(),
        ),
        (
            "baseline: GET /healthz during the sweeps (p50 / p99); with no probing".into(),
            format!(
                "{:.3} / {:.3} ms; {:.3} / {:.3} ms",
                percentile(&healthz, 50),
                percentile(&healthz, 99),
                percentile(&idle_healthz, 50),
                percentile(&idle_healthz, 99)
            ),
            "baseline".into(),
        ),
        (
            "console memory and sockets after the sweeps".into(),
            format!("{rss:.0} MiB VmRSS, {files} open files"),
            String::new(),
        ),
    ]
}

/// Latencies of `GET /api/services/bench.sweep.0` and of `GET /healthz`, alternated every
/// 10 ms for `span`, each sorted.
struct Samples {
    get: Vec<Duration>,
    healthz: Vec<Duration>,
}

/// Polls on a thread and runtime of its own: on the bench's runtime the requests waited
/// behind the 10,000 peers' work (with the bench on one core, `/healthz` measured 23 ms
/// during the sweeps for the client's own queueing, not the console's).
async fn poll(console: &Console, span: Duration) -> Samples {
    let urls = [
        console.url("/api/services/bench.sweep.0"),
        console.url("/healthz"),
    ];
    tokio::task::spawn_blocking(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the poller")
            .block_on(poll_urls(urls, span))
    })
    .await
    .expect("the poller")
}

async fn poll_urls(urls: [String; 2], span: Duration) -> Samples {
    let http = reqwest::Client::new();
    let mut samples = [Vec::new(), Vec::new()];
    let started = Instant::now();
    for round in 0.. {
        if started.elapsed() >= span {
            break;
        }
        let which = round % 2;
        let sent = Instant::now();
        let response = http.get(&urls[which]).send().await.expect("GET");
        assert_eq!(response.status(), 200);
        response.bytes().await.expect("body");
        samples[which].push(sent.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let [mut get, mut healthz] = samples;
    get.sort();
    healthz.sort();
    Samples { get, healthz }
}
