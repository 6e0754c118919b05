//! How much the mDNS cache holds.
//!
//! Anything decoded from a packet is untrusted. Each decoded service is checked against the
//! registry's own bounds ([`crate::validate`]: sizes, schema depth, counts); these bound the
//! cache as a whole, so a flood of distinct fake nodes costs at most this much memory.

/// Distinct services the cache holds.
pub const MAX_SERVICES: usize = 1024;
/// Nodes per service the cache holds.
pub const MAX_NODES_PER_SERVICE: usize = 256;
/// Bytes of TXT (as received) and decoded JSON the cache holds in total.
pub const MAX_CACHE_BYTES: usize = 64 * 1024 * 1024;
