//! A bound on what the mdns-sd daemon caches, which the crate does not have.
//!
//! mdns-sd (0.21) keeps every record of a response it takes as "for us" until the TTL its
//! sender chose, and it takes as "for us" any response without a PTR record, and any answer
//! of a type the LAN page browses: 80,000 junk A records from one LAN peer cost the console
//! 124 MiB, linearly, and `--no-lan` alone does not stop it (the advertisement keeps the
//! daemon running). The daemon reports how many records it holds (`get_metrics`, the
//! `cached-*` counters), so [`super::Supervisor`] reads that count every
//! [`CHECK_EVERY`] and, past `--dnssd-max-records`, restarts the daemon empty: the
//! advertisement and the mirrors are announced again and the LAN is browsed again, what
//! real peers announce comes back at their next announcement, and the junk is gone.
//!
//! Upstream, the right fix is a cache bound in mdns-sd itself (a record cap with the
//! oldest-expiring dropped first, and a TTL cap for unsolicited records); until then this is
//! the bound, and the restarts are counted in `/api/stats`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mdns_sd::ServiceDaemon;
use serde::Serialize;

/// How often the daemon's record count is read: the bound can be overshot by what a LAN peer
/// sends in this long (the daemon parses a few thousand packets a second at most).
pub const CHECK_EVERY: Duration = Duration::from_millis(250);

/// Longest wait for the daemon's metrics (it answers from its own thread).
const METRICS_TIMEOUT: Duration = Duration::from_secs(2);

/// The bound and what was seen of it, shared with `/api/stats`.
#[derive(Debug, Default)]
pub struct CacheBound {
    max_records: u64,
    records: AtomicU64,
    restarts: AtomicU64,
}

/// `/api/stats`' `dnssd` object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Records the daemon held at the last check.
    pub records: u64,
    /// `--dnssd-max-records`.
    pub max_records: u64,
    /// Times the daemon was restarted because it held more.
    pub restarts: u64,
}

impl CacheBound {
    /// A bound of `max_records` records.
    pub fn new(max_records: u64) -> Self {
        CacheBound {
            max_records,
            ..CacheBound::default()
        }
    }

    /// What `/api/stats` shows.
    pub fn stats(&self) -> CacheStats {
        CacheStats {
            records: self.records.load(Ordering::Relaxed),
            max_records: self.max_records,
            restarts: self.restarts.load(Ordering::Relaxed),
        }
    }

    /// Records `records` as the latest count; `true` when the daemon holds too many and is
    /// to be restarted (counted as a restart).
    pub fn over(&self, records: u64) -> bool {
        self.records.store(records, Ordering::Relaxed);
        if records <= self.max_records {
            return false;
        }
        self.restarts.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// A fresh daemon holds nothing yet.
    pub fn restarted(&self) {
        self.records.store(0, Ordering::Relaxed);
    }
}

/// How many records `daemon` caches now (the sum of its `cached-*` counters); `None` when it
/// does not answer (stopping, or its command queue is full: the next check asks again).
pub async fn records(daemon: &ServiceDaemon) -> Option<u64> {
    let answer = daemon.get_metrics().ok()?;
    let metrics = tokio::time::timeout(METRICS_TIMEOUT, answer.recv_async())
        .await
        .ok()?
        .ok()?;
    Some(cached(&metrics))
}

/// The sum of the `cached-*` counters of a metrics map (PTR, SRV, TXT, addresses, NSEC,
/// subtypes).
fn cached(metrics: &std::collections::HashMap<String, i64>) -> u64 {
    metrics
        .iter()
        .filter(|(name, _)| name.starts_with("cached-"))
        .map(|(_, count)| u64::try_from(*count).unwrap_or(0))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_cached_kind_and_nothing_else() {
        let metrics = [
            ("cached-ptr", 3),
            ("cached-srv", 2),
            ("cached-txt", 2),
            ("cached-addr", 10),
            ("cached-nsec", 1),
            ("cached-subtype", 0),
            ("respond", 500),
            ("browse", 7),
        ]
        .into_iter()
        .map(|(name, count)| (name.to_string(), count))
        .collect();
        assert_eq!(cached(&metrics), 18);
    }

    #[test]
    fn over_the_bound_is_a_restart_and_a_restart_starts_at_zero() {
        let bound = CacheBound::new(100);
        assert!(!bound.over(100));
        assert!(bound.over(101));
        assert_eq!(
            bound.stats(),
            CacheStats {
                records: 101,
                max_records: 100,
                restarts: 1
            }
        );
        bound.restarted();
        assert_eq!(bound.stats().records, 0);
    }
}
