//! The console's footprint with everything known: resident memory and CPU while nothing
//! happens on the LAN (websocket clients connected, heartbeats only).

use std::time::{Duration, Instant};

use crate::bench::Bench;
use crate::report::verdict;

/// Reports RSS (now and peak) under `label`.
pub fn memory(bench: &mut Bench<'_>, label: &str) {
    let (rss, peak) = bench.console.memory_kib();
    bench.report.add(
        "scale",
        format!("server RSS {label}"),
        format!(
            "{:.1} MB now, {:.1} MB peak (VmRSS, VmHWM)",
            rss as f64 / 1024.0,
            peak as f64 / 1024.0
        ),
        verdict(rss <= 100 * 1024, "≤ 100 MB"),
    );
}

/// Measures CPU time used over the plan's quiet interval and reports it.
pub async fn idle_cpu(bench: &mut Bench<'_>) {
    // Let the last events drain before the quiet interval starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = bench.console.cpu_time();
    let started = Instant::now();
    tokio::time::sleep(bench.plan.idle).await;
    let used = bench.console.cpu_time() - before;
    let wall = started.elapsed();
    let percent = 100.0 * used.as_secs_f64() / wall.as_secs_f64();
    bench.report.add(
        "scale",
        "server CPU when idle (all nodes known, clients connected)",
        format!(
            "{} ms of CPU in {:.1} s = {percent:.2}% of one core (10 ms clock ticks)",
            used.as_millis(),
            wall.as_secs_f64()
        ),
        verdict(percent < 1.0, "≈ 0 (< 1%)"),
    );
}
