//! How much the mDNS cache holds, and how much of it one sender may take.
//!
//! Anything decoded from a packet is untrusted. Each decoded service is checked against the
//! registry's own bounds ([`crate::validate`]: sizes, schema depth, counts); these bound the
//! cache as a whole, so a flood of distinct fake nodes costs at most this much memory. The
//! per-source quotas keep one sender (one IP address) from filling the cache or a service's
//! node bound, so that a flood from one host cannot lock the others out.

/// Distinct services the cache holds.
pub const MAX_SERVICES: usize = 1024;
/// Nodes per service the cache holds.
pub const MAX_NODES_PER_SERVICE: usize = 256;
/// Bytes the cache holds in total: the decoded services as held in memory
/// ([`crate::footprint`]), their TXT as received, names and index entries.
pub const MAX_CACHE_BYTES: usize = 32 * 1024 * 1024;
/// Bytes one node may hold. go-micro's own records are about 2.5 KB of hex for a service of
/// 100 endpoints, some 20 KiB decoded; 127 metadata values of 4,000 bytes fit in a 3 KiB
/// packet and decode to half a megabyte: such a node is dropped, not cached.
pub const MAX_NODE_BYTES: usize = 64 * 1024;
/// Bytes the nodes of one service may hold together.
pub const MAX_SERVICE_BYTES: usize = MAX_CACHE_BYTES / 8;
/// Nodes one source address may have in the cache by default (see
/// [`super::MdnsOptions::source_quota`]): a host running many services is well under it, and
/// one flooding host holds half the service bound at most. Past its quota a source's new
/// nodes are refused (before they are even decoded); other sources are not affected.
pub const DEFAULT_SOURCE_QUOTA: usize = 512;
/// Bytes per node of a source's quota: the byte share of one source address is its quota
/// times this (8 MiB, a quarter of the cache, by default), at most the whole cache.
pub const SOURCE_BYTES_PER_NODE: usize = 16 * 1024;
/// Nodes one source address may have in one service: half its node bound, so that another
/// host always finds room in a service one host floods.
pub const MAX_SOURCE_NODES_PER_SERVICE: usize = MAX_NODES_PER_SERVICE / 2;
/// Longest TTL believed from the network by default ([`super::MdnsOptions::max_ttl`]): twice
/// go-micro's 120 s. A live node is asked again at 80 % of it and answers, so it never
/// expires; a one-shot announcer that claims a day (the protocol allows it) is gone after
/// four minutes.
pub const DEFAULT_MAX_TTL_SECS: u32 = 240;
