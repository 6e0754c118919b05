//! `GET /api/stats`: what the console holds and what it dropped to stay within its bounds.
//!
//! Under attack the console keeps running by dropping: packets it cannot decode, nodes past a
//! bound, one-shot nodes evicted for a newcomer, tombstones past their budget, watchers past
//! `--max-watchers`. Each is counted here, so an operator sees a flood as numbers rising, not
//! as a console that quietly forgets.

use axum::extract::State;
use axum::Json;
use muster_registry::mdns::MdnsStats;
use serde::Serialize;

use crate::backend::Backend;
use crate::console::HubStats;
use crate::dnssd::cache_bound::CacheStats;
use crate::state::AppState;

/// The answer.
#[derive(Debug, Serialize)]
pub struct Stats {
    /// The console's view, replay ring, watchers and frames.
    pub console: HubStats,
    /// The mDNS engine's counters (`null` on another backend).
    pub mdns: Option<MdnsStats>,
    /// The standard-DNS-SD daemon's cache: records held at the last check, the bound, and
    /// restarts past it.
    pub dnssd: CacheStats,
    /// The process's resident memory (`VmRSS`), in bytes; `null` where /proc has none.
    pub rss_bytes: Option<u64>,
}

/// `GET /api/stats`.
pub async fn stats(State(state): State<AppState>) -> Json<Stats> {
    let mdns = match state.hub.backend() {
        Backend::Mdns(mdns) => Some(mdns.stats()),
        _ => None,
    };
    Json(Stats {
        console: state.hub.stats(),
        mdns,
        dnssd: state.dnssd_cache.stats(),
        rss_bytes: resident_bytes(),
    })
}

/// `VmRSS` of this process, from `/proc/self/status` (in kB there).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
