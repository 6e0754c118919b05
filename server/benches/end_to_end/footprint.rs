//! The console's footprint with everything known: resident memory and CPU while nothing
//! happens on the LAN (websocket clients connected, heartbeats only).

use std::time::{Duration, Instant};

use crate::bench::Bench;
use crate::report::verdict;

/// Reports RSS (now and peak) under `label`, beside what the console itself accounts for
/// (`GET /api/stats`: the mDNS cache, tombstones, the replay ring, event frames in flight).
pub async fn memory(bench: &mut Bench<'_>, label: &str) {
    // At rest: the console drops its shared snapshot frame once no watcher asked for it for
    // a few seconds (`SNAPSHOT_KEEP`), and gives freed heap back once the registry is quiet.
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_secs(10)
        && bench.stats().await["console"]["snapshot_frame_bytes"].as_u64() != Some(0)
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let waited = waited.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss, peak) = bench.console.memory_kib();
    let stats = bench.stats().await;
    let mb = |value: &serde_json::Value| value.as_f64().unwrap_or(0.0) / 1e6;
    let console = &stats["console"];
    bench.report.add(
        "scale",
        format!("server RSS {label}"),
        format!(
            "{:.1} MB now, {:.1} MB peak (VmRSS, VmHWM); allocator: {:.1} MB in use, {:.1} MB \
             freed but held; accounted: mDNS cache {:.1} MB, tombstones {:.1} MB, replay ring \
             {:.1} MB, event frames in flight {:.1} MB, snapshot frame {:.1} MB (after waiting \
             {:.1} s for it to go); heap trims so far {}",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0,
            mb(&console["heap_in_use_bytes"]),
            mb(&console["heap_free_held_bytes"]),
            mb(&stats["mdns"]["cache_bytes"]),
            mb(&console["tombstone_bytes"]),
            mb(&console["ring_bytes"]),
            mb(&console["frame_bytes_in_flight"]),
            mb(&console["snapshot_frame_bytes"]),
            waited.as_secs_f64(),
            console["heap_trims"],
        ),
        verdict(rss <= 100 * 1024, "≤ 100 MB"),
    );
}

/// Measures CPU time used over the plan's quiet interval and reports it.
pub async fn idle_cpu(bench: &mut Bench<'_>) {
    // Let the last events drain before the quiet interval starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ticker_before = ticker(bench).await;
    let before = bench.console.thread_cpu_ns();
    let started = Instant::now();
    tokio::time::sleep(bench.plan.idle).await;
    let after = bench.console.thread_cpu_ns();
    let wall = started.elapsed();
    let ticker_after = ticker(bench).await;
    // A thread started meanwhile counts whole; one that ended meanwhile loses only what it
    // ran since `before` (the runtime's blocking threads come and go; rarely when idle).
    let used_ns: u64 = after
        .iter()
        .map(|(tid, ns)| ns.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum();
    let used = Duration::from_nanos(used_ns);
    let percent = 100.0 * used.as_secs_f64() / wall.as_secs_f64();
    bench.report.add(
        "scale",
        "server CPU when idle (all nodes known, clients connected)",
        format!(
            "{:.1} ms of CPU in {:.1} s = {percent:.3}% of one core (scheduler time, all \
             threads); meanwhile the ticker woke {} times and gave freed heap back {} times",
            used.as_secs_f64() * 1000.0,
            wall.as_secs_f64(),
            ticker_after.0 - ticker_before.0,
            ticker_after.1 - ticker_before.1,
        ),
        verdict(percent <= 0.2, "≤ 0.2 % of a core"),
    );
}

/// The console's ticker wakes and heap trims so far (`GET /api/stats`).
async fn ticker(bench: &Bench<'_>) -> (u64, u64) {
    let stats = bench.stats().await;
    let count = |name: &str| stats["console"][name].as_u64().unwrap_or(0);
    (count("ticker_wakes"), count("heap_trims"))
}
