//! Scale: services × nodes announced from the load generator's namespace while the websocket
//! clients watch. Every node must be discovered and every client must end with every node.

use std::time::{Duration, Instant};

use app::wire::NodeState;

use crate::bench::Bench;
use crate::loadgen;
use crate::stats::Summary;
use crate::watchers::{self, Client};

/// Prefix of the burst's service names.
pub const SERVICE_PREFIX: &str = "bench.scale.";

/// Name of scale service `index`.
pub fn service_name(index: usize) -> String {
    format!("{SERVICE_PREFIX}{index:04}")
}

/// Announces every node of the plan, checks that the console discovered each one and that
/// every client's view holds each one alive. Panics (the run fails) on any loss.
pub async fn run(bench: &mut Bench<'_>, clients: &[Client]) {
    let plan = bench.plan.clone();
    let mut names = Vec::with_capacity(plan.nodes());
    let mut packets = Vec::with_capacity(plan.nodes());
    // Node-major order: one node of every service, then the next, as services start on a LAN.
    for node in 0..plan.nodes_per_service {
        for service in 0..plan.services {
            let name = service_name(service);
            let node_id = format!("scale-{service:04}-{node:02}");
            let announced = loadgen::node(&name, &node_id, bench.generator_ip, 8000 + node as u16);
            packets.push(announced.hello);
            names.push((name, node_id));
        }
    }
    let udp_before = bench.console.udp_counters();
    let started = Instant::now();
    let sent = bench.send_paced(packets, plan.burst_per_second).await;
    let sending = started.elapsed();

    let expected = plan.nodes();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut failed_polls = Vec::new();
    let discovered = loop {
        bench.console.assert_running();
        let discovered: usize = match bench.live_nodes().await {
            Ok(live) => live
                .iter()
                .filter(|(name, _)| name.starts_with(SERVICE_PREFIX))
                .map(|(_, live)| live)
                .sum(),
            Err(error) => {
                failed_polls.push(error);
                0
            }
        };
        if discovered == expected || Instant::now() > deadline {
            break discovered;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    if !failed_polls.is_empty() {
        eprintln!(
            "  note: {} polls of /api/services failed during the burst (first: {})",
            failed_polls.len(),
            failed_polls[0]
        );
    }
    let discovery = started.elapsed();
    let udp = bench.console.udp_counters();
    let overflowed = udp.buffer_full - udp_before.buffer_full;
    assert!(
        discovered == expected,
        "LOST NODES: the console knows {discovered} of the {expected} announced nodes after 120 s; \
         its namespace's kernel dropped {overflowed} UDP datagrams for a full receive buffer \
         ({} delivered)",
        udp.delivered - udp_before.delivered
    );
    bench.report.add(
        "scale",
        format!("{} services × {} nodes discovered", plan.services, plan.nodes_per_service),
        format!(
            "{expected} / {expected}, all known {:.2} s after the first packet (sent over {:.2} s at {}/s)",
            discovery.as_secs_f64(),
            sending.as_secs_f64(),
            plan.burst_per_second
        ),
        "all (none lost)",
    );

    // Every client must have applied everything up to the console's latest change.
    let seq = watchers::latest_seq(&bench.console.ws_url("/api/watch")).await;
    let behind = watchers::wait_for_seq(clients, seq, Duration::from_secs(60)).await;
    assert_eq!(
        behind, 0,
        "LOST EVENTS: {behind} websocket clients never reached seq {seq}"
    );
    let mut events = Vec::new();
    let mut resyncs = 0;
    for (index, client) in clients.iter().enumerate() {
        let received = client.received.lock().unwrap();
        let alive = received
            .view
            .iter()
            .filter(|((name, _, _), state)| {
                name.starts_with(SERVICE_PREFIX) && **state == NodeState::Alive
            })
            .count();
        assert_eq!(
            alive, expected,
            "LOST EVENTS: websocket client {index} shows {alive} of {expected} nodes alive"
        );
        events.push(received.events);
        resyncs += received.resyncs;
    }
    let (min, max) = (events.iter().min().unwrap(), events.iter().max().unwrap());
    bench.report.add(
        "scale",
        format!("{} websocket clients receive every event", clients.len()),
        format!(
            "{} / {} clients hold all {expected} nodes; events per client {min}–{max}; \
             snapshot resyncs (client fell behind) {resyncs}",
            clients.len(),
            clients.len()
        ),
        crate::report::verdict(resyncs == 0, "every event at every client"),
    );

    // Client 0 stamps every create: the burst's delivery delay under load.
    let stamps = &clients[0].received.lock().unwrap().created_at;
    let delays: Vec<Duration> = names
        .iter()
        .zip(&sent)
        .filter_map(|(key, sent_at)| stamps.get(key).map(|arrived| *arrived - *sent_at))
        .collect();
    if !delays.is_empty() {
        let summary = Summary::of(delays);
        let met = summary.p99 <= Duration::from_millis(20);
        bench.report.add(
            "scale",
            format!(
                "announcement → websocket event during the burst ({}/s)",
                plan.burst_per_second
            ),
            summary.to_string(),
            crate::report::verdict(met, "p99 ≤ 20 ms at 500/s"),
        );
    }
}
