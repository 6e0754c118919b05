//! Counters of what the mDNS engine did and, above all, what it refused.
//!
//! Every packet is untrusted: whatever is dropped is counted here by reason (and logged at
//! debug level), so an operator can tell a noisy LAN from a broken peer without a debugger.
//! The engine increments lock-free atomics; the console reads a snapshot.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Why a packet (or one record set in it) was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// Not a DNS message (truncated, bad header, name compression loop, absurd counts).
    Malformed,
    /// A name that is not text, too long, or not in the domain's scheme.
    BadName,
    /// TXT that is not hex.
    TxtHex,
    /// TXT that is not a zlib stream.
    TxtZlib,
    /// TXT larger than the bounds, compressed or decompressed, or a node holding more than
    /// [`super::bounds::MAX_NODE_BYTES`] decoded.
    TxtTooLarge,
    /// TXT that is not go-micro's JSON.
    TxtJson,
    /// A decoded service outside the registry's bounds (sizes, depth, empty name).
    Invalid,
    /// The cache is at a bound (services, nodes per service, bytes) and only nodes more
    /// trusted than the newcomer are left to make room.
    CacheFull,
    /// More queries than the responder answers per second.
    RateLimited,
    /// A new node from a source address that has its quota (nodes, bytes, or its share of
    /// one service's nodes).
    OverQuota,
}

/// The engine's live counters.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub packets_received: AtomicU64,
    pub packets_sent: AtomicU64,
    pub send_errors: AtomicU64,
    pub queries_answered: AtomicU64,
    pub announcements_sent: AtomicU64,
    pub goodbyes_sent: AtomicU64,
    pub queries_sent: AtomicU64,
    pub cached_nodes: AtomicU64,
    pub cache_bytes: AtomicU64,
    pub owned_nodes: AtomicU64,
    pub sources: AtomicU64,
    pub evicted: AtomicU64,
    dropped: [AtomicU64; 10],
}

impl Counters {
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub fn drop_for(&self, reason: DropReason) {
        Self::bump(&self.dropped[reason as usize]);
    }

    pub fn snapshot(&self) -> MdnsStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        let dropped = |reason: DropReason| load(&self.dropped[reason as usize]);
        MdnsStats {
            packets_received: load(&self.packets_received),
            packets_sent: load(&self.packets_sent),
            send_errors: load(&self.send_errors),
            queries_answered: load(&self.queries_answered),
            announcements_sent: load(&self.announcements_sent),
            goodbyes_sent: load(&self.goodbyes_sent),
            queries_sent: load(&self.queries_sent),
            cached_nodes: load(&self.cached_nodes),
            cache_bytes: load(&self.cache_bytes),
            owned_nodes: load(&self.owned_nodes),
            sources: load(&self.sources),
            evicted: load(&self.evicted),
            dropped: DroppedCounts {
                malformed: dropped(DropReason::Malformed),
                bad_name: dropped(DropReason::BadName),
                txt_hex: dropped(DropReason::TxtHex),
                txt_zlib: dropped(DropReason::TxtZlib),
                txt_too_large: dropped(DropReason::TxtTooLarge),
                txt_json: dropped(DropReason::TxtJson),
                invalid: dropped(DropReason::Invalid),
                cache_full: dropped(DropReason::CacheFull),
                rate_limited: dropped(DropReason::RateLimited),
                over_quota: dropped(DropReason::OverQuota),
            },
        }
    }
}

/// A snapshot of the engine's counters ([`super::MdnsRegistry::stats`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MdnsStats {
    /// Datagrams read from any socket.
    pub packets_received: u64,
    /// Datagrams sent (announcements, goodbyes, answers, queries; one per interface).
    pub packets_sent: u64,
    /// Sends the kernel refused.
    pub send_errors: u64,
    /// Answer packets sent to queriers.
    pub queries_answered: u64,
    /// Announcement packets sent.
    pub announcements_sent: u64,
    /// Goodbye packets sent (deregister, evict, shutdown).
    pub goodbyes_sent: u64,
    /// Query packets sent (get/list, cache refresh, evict check).
    pub queries_sent: u64,
    /// Nodes in the cache now (owned ones included).
    pub cached_nodes: u64,
    /// Bytes the cache accounts now (bounded by [`super::bounds::MAX_CACHE_BYTES`]).
    pub cache_bytes: u64,
    /// Nodes this process registered and answers for now.
    pub owned_nodes: u64,
    /// Source addresses with nodes in the cache now (each has its quota).
    pub sources: u64,
    /// One-shot nodes evicted to make room for a newcomer when a bound was reached.
    pub evicted: u64,
    /// What was dropped, by reason.
    pub dropped: DroppedCounts,
}

/// Dropped packets or record sets, by [`DropReason`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DroppedCounts {
    /// [`DropReason::Malformed`].
    pub malformed: u64,
    /// [`DropReason::BadName`].
    pub bad_name: u64,
    /// [`DropReason::TxtHex`].
    pub txt_hex: u64,
    /// [`DropReason::TxtZlib`].
    pub txt_zlib: u64,
    /// [`DropReason::TxtTooLarge`].
    pub txt_too_large: u64,
    /// [`DropReason::TxtJson`].
    pub txt_json: u64,
    /// [`DropReason::Invalid`].
    pub invalid: u64,
    /// [`DropReason::CacheFull`].
    pub cache_full: u64,
    /// [`DropReason::RateLimited`].
    pub rate_limited: u64,
    /// [`DropReason::OverQuota`].
    pub over_quota: u64,
}

impl DroppedCounts {
    /// All drops together.
    pub fn total(&self) -> u64 {
        self.malformed
            + self.bad_name
            + self.txt_hex
            + self.txt_zlib
            + self.txt_too_large
            + self.txt_json
            + self.invalid
            + self.cache_full
            + self.rate_limited
            + self.over_quota
    }
}
