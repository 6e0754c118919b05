//! Churn through the console: the load generator registers and deregisters go-micro nodes
//! (announcements, then goodbyes one second later) at the plan's rate for the plan's time,
//! while websocket clients watch. At the end every client's view must equal the console's
//! state, and the console's live nodes must be exactly those still announced.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use app::wire::NodeState;

use crate::bench::Bench;
use crate::loadgen;
use crate::report::verdict;
use crate::stats::Summary;
use crate::watchers::{self, Client, View};

/// Services the churn spreads over. The mDNS cache holds at most 1,024 services: the scale
/// burst's 1,000, the answered query service, the four latency services, and these.
const SERVICES: usize = 19;
/// Prefix of the churn services.
const PREFIX: &str = "bench.churn.";
/// Tombstones the console keeps at most (`MAX_TOMBSTONES` in server/src/console/budget.rs; the
/// churn's nodes are small enough that its byte bound is not what binds). Past it the oldest
/// departed nodes are dropped: the final view holds the live nodes and at most this many of
/// the departed ones, never all 29,500 (what kept RSS at 158 MB before the bound).
const TOMBSTONE_BOUND: usize = 4096;

fn is_live(state: NodeState) -> bool {
    matches!(state, NodeState::Alive | NodeState::Stale)
}

/// Runs the churn and checks the final views. Panics on any difference.
pub async fn run(bench: &mut Bench<'_>, clients: &[Client]) {
    let plan = bench.plan.clone();
    let pairs = (plan.churn_per_second * plan.churn.as_secs_f64()) as usize;
    // Each node lives one second: at the end the last second's nodes are still registered.
    let lifetime = plan.churn_per_second as usize;
    let nodes: Vec<_> = (0..pairs)
        .map(|index| {
            let service = format!("{PREFIX}{:02}", index % SERVICES);
            loadgen::node(
                &service,
                &format!("churn-{index:06}"),
                bench.generator_ip,
                7000,
            )
        })
        .collect();
    // Interleaved: hello of node i, then goodbye of node i - lifetime.
    let mut packets = Vec::with_capacity(2 * pairs);
    let mut hello_index = Vec::with_capacity(pairs);
    for index in 0..pairs {
        hello_index.push(packets.len());
        packets.push(nodes[index].hello.clone());
        if index >= lifetime {
            packets.push(nodes[index - lifetime].goodbye.clone());
        }
    }
    let goodbyes = packets.len() - pairs;
    let cpu_before = bench.console.cpu_time();
    let started = Instant::now();
    let sent = bench.send_paced(packets, 2.0 * plan.churn_per_second).await;
    let elapsed = started.elapsed();
    let cpu = bench.console.cpu_time() - cpu_before;
    // Registrations per second from the first announcement to the last (the goodbyes of the
    // last second's nodes are never sent: they stay registered).
    let hellos_over = sent[hello_index[pairs - 1]] - sent[0];
    let achieved = (pairs - 1) as f64 / hellos_over.as_secs_f64();
    bench.report.add(
        "churn",
        format!(
            "register+deregister over mDNS, {} s, {} websocket watchers",
            plan.churn.as_secs(),
            clients.len()
        ),
        format!(
            "{pairs} announcements + {goodbyes} goodbyes in {:.1} s: {achieved:.0} registrations/s \
             and as many deregistrations; \
             console CPU {:.0}% of one core",
            elapsed.as_secs_f64(),
            100.0 * cpu.as_secs_f64() / elapsed.as_secs_f64()
        ),
        verdict(
            achieved >= 0.95 * plan.churn_per_second,
            &format!("{}/s sustained", plan.churn_per_second),
        ),
    );

    // The truth: the last `lifetime` nodes live, every earlier one gone.
    let live_truth: BTreeSet<String> = nodes[pairs.saturating_sub(lifetime)..]
        .iter()
        .map(|n| n.node_id.clone())
        .collect();
    let departed_truth: BTreeSet<String> = nodes[..pairs.saturating_sub(lifetime)]
        .iter()
        .map(|n| n.node_id.clone())
        .collect();
    let departed_shown = departed_truth.len().min(TOMBSTONE_BOUND);
    let services: Vec<String> = (0..SERVICES).map(|i| format!("{PREFIX}{i:02}")).collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (console_view, settled) = loop {
        let mut view = View::new();
        for name in &services {
            view.extend(watchers::view_of(&bench.service(name).await));
        }
        let live: BTreeSet<String> = view
            .iter()
            .filter(|(_, state)| is_live(**state))
            .map(|((_, _, id), _)| id.clone())
            .collect();
        // The departed nodes shown are tombstones of nodes that did leave, as many as the
        // bound allows (every one of them when fewer left).
        let departed: Vec<&String> = view
            .iter()
            .filter(|(_, state)| !is_live(**state))
            .map(|((_, _, id), _)| id)
            .collect();
        let settled = live == live_truth
            && departed.len() == departed_shown
            && departed.iter().all(|id| departed_truth.contains(*id));
        if settled || Instant::now() > deadline {
            break (view, settled);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let live = console_view.values().filter(|s| is_live(**s)).count();
    assert!(
        settled,
        "WRONG FINAL STATE: the console shows {live} live nodes of {} expected and {} nodes in all \
         ({} departed ones expected as tombstones) of {pairs} announced",
        live_truth.len(),
        console_view.len(),
        departed_shown
    );

    let seq = watchers::latest_seq(&bench.console.ws_url("/api/watch")).await;
    let behind = watchers::wait_for_seq(clients, seq, Duration::from_secs(60)).await;
    if behind > 0 {
        let who: Vec<String> = clients
            .iter()
            .enumerate()
            .filter(|(_, client)| client.seq() < seq)
            .map(|(index, client)| {
                let received = client.received.lock().unwrap();
                format!(
                    "watcher {index} at seq {} ({} behind) after {} resyncs and {} events, \
                     connection {}",
                    received.seq,
                    seq - received.seq.min(seq),
                    received.resyncs,
                    received.events,
                    received.ended.as_deref().unwrap_or("open")
                )
            })
            .collect();
        let stats = bench.stats().await;
        panic!(
            "LOST EVENTS: {behind} watchers never reached seq {seq}: {}; console stats: {stats}",
            who.join("; ")
        );
    }
    let mut resyncs = 0;
    for (index, client) in clients.iter().enumerate() {
        let received = client.received.lock().unwrap();
        resyncs += received.resyncs;
        let churn_view: View = received
            .view
            .iter()
            .filter(|((name, _, _), _)| name.starts_with(PREFIX))
            .map(|(key, state)| (key.clone(), *state))
            .collect();
        if churn_view != console_view {
            let missing = console_view
                .keys()
                .filter(|k| !churn_view.contains_key(*k))
                .count();
            let differing = console_view
                .iter()
                .filter(|(k, s)| churn_view.get(*k).is_some_and(|mine| mine != *s))
                .count();
            let extra = churn_view
                .keys()
                .filter(|k| !console_view.contains_key(*k))
                .count();
            panic!(
                "WRONG FINAL STATE: watcher {index} differs from the console: {missing} nodes \
                 missing, {differing} in another state, {extra} extra (at seq {}, after {} \
                 snapshot resyncs; {} events received)",
                received.seq, received.resyncs, received.events
            );
        }
    }
    bench.report.add(
        "churn",
        "every watcher's final view = the console's state",
        format!(
            "{} / {} watchers equal ({} nodes: {} live, {} departed); snapshot resyncs {resyncs}",
            clients.len(),
            clients.len(),
            console_view.len(),
            live,
            console_view.len() - live
        ),
        "equal, or the run fails",
    );

    let stamps = &clients[0].received.lock().unwrap().created_at;
    let delays: Vec<Duration> = nodes
        .iter()
        .zip(&hello_index)
        .filter_map(|(node, packet)| {
            stamps
                .get(&(node.service.clone(), node.node_id.clone()))
                .map(|at| *at - sent[*packet])
        })
        .collect();
    if !delays.is_empty() {
        bench.report.add(
            "churn",
            "announcement → create event at watcher 0 during churn",
            Summary::of(delays).to_string(),
            "(no target)",
        );
    }
}
