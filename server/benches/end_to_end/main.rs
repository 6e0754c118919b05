//! Muster end to end (issue #7): the real release `muster` binary on a private LAN of network
//! namespaces, fed real go-micro mDNS packets from a load generator on another host, watched
//! by websocket clients. Prints every figure with its target as a Markdown table.
//!
//! - [`lan`]: the namespaces (10.79.0.0/24, `mbench-<pid>-*`), deleted on drop.
//! - [`console`]: the `muster` process and its `/proc` figures.
//! - [`loadgen`]: go-micro packets from the registry's own encoder, paced.
//! - [`watchers`]: `/api/watch` clients replaying events into views.
//! - [`probe_host`]: an in-process mDNS registry on a third host.
//! - phases: [`scale`], [`discovery`], [`wire_dom`] (Chromium), [`query`], [`footprint`], [`churn`], [`churn_registry`].
//! - [`plan`], [`stats`], [`report`], [`bench`]: sizes, percentiles, the table, shared state.
//!
//! A benchmark is not a test: slow figures are reported against their targets, but a lost
//! node, a lost event or a wrong final view fails the run (non-zero exit). Needs root and
//! `ip`, and for the wire → DOM phase the built site, Node and Chromium (checked first).
//! `MUSTER_BENCH_QUICK=1`: 100 × 10 nodes and 5 s of churn, for iterating.
//!
//! `cargo bench -p server --bench end_to_end` (or `scripts/bench.sh`).

mod bench;
mod churn;
mod churn_registry;
mod console;
mod discovery;
mod footprint;
mod lan;
mod loadgen;
mod plan;
mod probe_host;
mod query;
mod report;
mod scale;
mod stats;
mod watchers;
mod wire_dom;

use std::process::ExitCode;
use std::time::Duration;

use serde_json::json;

use crate::bench::Bench;
use crate::console::Console;
use crate::lan::Lan;
use crate::plan::Plan;
use crate::probe_host::ProbeHost;
use crate::watchers::Client;

/// Host indices on the LAN.
const CONSOLE: usize = 0;
const GENERATOR: usize = 1;
const PROBE: usize = 2;
/// The console's port on its namespace's loopback.
const PORT: u16 = 3000;

fn main() -> ExitCode {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` runs this binary without it,
    // and a benchmark has nothing to check there.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("end_to_end: not measuring outside `cargo bench` (see scripts/bench.sh)");
        return ExitCode::SUCCESS;
    }
    if !is_root() {
        eprintln!("end_to_end bench SKIPPED: it builds network namespaces and needs root and `ip`");
        return ExitCode::FAILURE;
    }
    if let Err(missing) = wire_dom::preflight() {
        eprintln!("end_to_end: FAILED before starting: {missing}");
        return ExitCode::FAILURE;
    }
    let (plan, quick) = Plan::from_env();
    eprintln!(
        "end_to_end: {}plan {plan:?}",
        if quick { "QUICK " } else { "" }
    );
    let lan = Lan::new(&["console", "loadgen", "probe"]);
    let console = Console::start(lan.namespace(CONSOLE), "eth0", PORT, &[]);
    let generator = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                lan::enter(lan.namespace(GENERATOR));
                loadgen::socket()
            })
            .join()
            .expect("the load generator's socket")
    });
    let outcome = std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // The clients run where the console listens: its namespace's loopback.
                lan::enter(lan.namespace(CONSOLE));
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
                    .expect("the clients' runtime");
                runtime.block_on(run(
                    plan,
                    &console,
                    generator,
                    lan.namespace(PROBE).to_string(),
                ))
            })
            .join()
    });
    drop(console);
    drop(lan);
    match outcome {
        Ok(table) => {
            println!("\n{table}");
            ExitCode::SUCCESS
        }
        Err(_) => {
            eprintln!("end_to_end: FAILED (see the panic above)");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    plan: Plan,
    console: &Console,
    generator: std::net::UdpSocket,
    probe_ns: String,
) -> String {
    console.wait_listening();
    let mut bench = Bench {
        plan,
        console,
        http: reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            // The console closes a keep-alive connection idle for its header timeout (10 s);
            // reusing one at that moment is answered with a reset (a run failed so after the
            // 10 s idle phase), so pooled connections are let go well before.
            .pool_idle_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
        generator,
        generator_ip: Lan::address(GENERATOR),
        report: report::Report::default(),
    };
    let probe = ProbeHost::start(&probe_ns);
    register_answered_service(&bench).await;

    let url = console.ws_url("/api/watch");
    let mut clients = Vec::with_capacity(bench.plan.clients);
    for index in 0..bench.plan.clients {
        // Client 0 stamps every create; all stamp the latency probes.
        let client = if index == 0 {
            Client::connect_alone(&url, "").await
        } else {
            Client::connect(&url, discovery::SERVICE).await
        };
        clients.push(client);
    }

    scale::run(&mut bench, &clients).await;
    let known = format!("with {} nodes known", bench.plan.nodes());
    footprint::memory(&mut bench, &known).await;
    discovery::run(&mut bench, &clients).await;
    wire_dom::run(&mut bench, &clients[0]).await;
    query::registry(&mut bench, &probe).await;
    query::http(&mut bench).await;
    footprint::idle_cpu(&mut bench).await;

    clients.truncate(bench.plan.churn_watchers);
    churn::run(&mut bench, &clients).await;
    footprint::memory(&mut bench, "after the churn (tombstones kept)").await;
    churn_registry::run(&mut bench).await;
    drop(probe);
    bench.report.table()
}

/// Registers `bench.query` (10 nodes) through the console: as their owner it answers the
/// probe host's cold network queries, as a go-micro service would.
async fn register_answered_service(bench: &Bench<'_>) {
    let nodes: Vec<_> = (0..10)
        .map(|i| json!({"id": format!("query-{i}"), "address": format!("10.79.0.1:{}", 9100 + i)}))
        .collect();
    let body = json!({"name": query::ANSWERED, "version": "1.0.0", "nodes": nodes});
    let response = bench
        .http
        .post(bench.console.url("/api/services"))
        .json(&body)
        .send()
        .await
        .expect("POST /api/services");
    assert!(
        response.status().is_success(),
        "registering {}: {} {:?}",
        query::ANSWERED,
        response.status(),
        response.text().await
    );
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    }) && std::process::Command::new("ip").arg("-V").output().is_ok()
}
