//! Discovery latency: a node announced by the load generator (one real go-micro packet) →
//! its `create` event at each websocket client, with the scale burst's nodes already known.

use std::time::{Duration, Instant};

use crate::bench::Bench;
use crate::loadgen;
use crate::report::verdict;
use crate::stats::Summary;
use crate::watchers::Client;

/// Prefix of the latency probes' services; every client stamps their creates.
pub const SERVICE: &str = "bench.latency";

/// Services the probes spread over: the mDNS cache keeps at most 256 nodes per service, 128
/// of them from one source address (the load generator is one), and 1,024 services (the
/// burst's 1,000, the answered one, these and the churn's 19).
const SERVICES: usize = 4;

/// Announces the plan's latency probes one by one and reports the delay to every client.
/// Panics if any client misses one.
pub async fn run(bench: &mut Bench<'_>, clients: &[Client]) {
    let plan = bench.plan.clone();
    let probes: Vec<_> = (0..plan.latency_samples)
        .map(|index| {
            let service = format!("{SERVICE}.{}", index % SERVICES);
            loadgen::node(
                &service,
                &format!("lat-{index:05}"),
                bench.generator_ip,
                9000,
            )
        })
        .collect();
    let packets = probes.iter().map(|probe| probe.hello.clone()).collect();
    let sent = bench.send_paced(packets, plan.latency_per_second).await;

    let expected = probes.len();
    let complete = |client: &Client| {
        let received = client.received.lock().unwrap();
        probes
            .iter()
            .filter(|p| {
                received
                    .created_at
                    .contains_key(&(p.service.clone(), p.node_id.clone()))
            })
            .count()
    };
    let arrived = bench
        .eventually(Duration::from_secs(10), || async {
            clients.iter().all(|client| complete(client) == expected)
        })
        .await;
    if !arrived {
        let short: Vec<usize> = clients
            .iter()
            .map(complete)
            .filter(|n| *n < expected)
            .collect();
        panic!(
            "LOST EVENTS: {} clients missed latency probes (they got {short:?} of {expected})",
            short.len()
        );
    }

    let mut all = Vec::with_capacity(expected * clients.len());
    let mut first_client = Vec::with_capacity(expected);
    for (index, client) in clients.iter().enumerate() {
        let received = client.received.lock().unwrap();
        for (probe, sent_at) in probes.iter().zip(&sent) {
            let at: Instant = received.created_at[&(probe.service.clone(), probe.node_id.clone())];
            all.push(at - *sent_at);
            if index == 0 {
                first_client.push(at - *sent_at);
            }
        }
    }
    let all = Summary::of(all);
    let known = plan.nodes();
    bench.report.add(
        "discovery",
        format!(
            "announcement → event at all {} websocket clients, {known} nodes known, {}/s",
            clients.len(),
            plan.latency_per_second
        ),
        all.to_string(),
        verdict(all.p99 <= Duration::from_millis(10), "p99 ≤ 10 ms"),
    );
    let first = Summary::of(first_client);
    bench.report.add(
        "discovery",
        "the same, first client only",
        first.to_string(),
        verdict(first.p99 <= Duration::from_millis(10), "p99 ≤ 10 ms"),
    );
}
