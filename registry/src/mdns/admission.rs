//! Who gets room in the cache when it is full: trust levels, per-source shares, and the order
//! in which nodes make room.
//!
//! Refusing newcomers once a bound is reached turns a flood into a lock-out: 10,000 fake
//! services fill the cache and a real one announced later is never learned. Instead the cache
//! makes room by evicting the least-trusted, oldest node in the bound's scope, and never one
//! more trusted than the newcomer (always [`Trust::Announced`]): what this process owns and
//! what already answered stay. Each source address also has a share (nodes and bytes): past
//! it, that address's newcomers are refused, so one host flooding never reaches the others'.

use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// How far a cached node is trusted, lowest first: the order in which nodes make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Trust {
    /// Heard once, in a packet nobody asked for: what a flood is made of.
    Announced,
    /// Answered one of this process's queries (a unicast answer on the query socket), or
    /// repeated itself a while after it was first heard: a live peer.
    Confirmed,
    /// Registered by this process: never evicted.
    Owned,
}

/// Where an upsert comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// This process registers the node.
    Owned,
    /// A packet from `source`; `answered` when it came in answer to our query.
    Heard {
        /// The sender's address.
        source: IpAddr,
        /// It arrived on the query socket, in answer to a query of ours.
        answered: bool,
    },
}

/// A node's place in the eviction order: trust first, then admission stamp (oldest first).
pub type Rank = (Trust, u64, String);

/// One source address's share of the cache.
#[derive(Debug, Default)]
struct Share {
    nodes: usize,
    bytes: usize,
}

/// The eviction order of every node learned from the network, and each source's share.
#[derive(Debug, Default)]
pub struct Admission {
    order: BTreeSet<Rank>,
    sources: HashMap<IpAddr, Share>,
}

impl Admission {
    /// Adds a node learned from `source`.
    pub fn insert(&mut self, rank: Rank, source: IpAddr, bytes: usize) {
        let share = self.sources.entry(source).or_default();
        share.nodes += 1;
        share.bytes += bytes;
        self.order.insert(rank);
    }

    /// Removes a node (evicted, expired, gone, or re-ranked).
    pub fn remove(&mut self, rank: &Rank, source: IpAddr, bytes: usize) {
        if !self.order.remove(rank) {
            return;
        }
        if let Some(share) = self.sources.get_mut(&source) {
            share.nodes -= 1;
            share.bytes = share.bytes.saturating_sub(bytes);
            if share.nodes == 0 {
                self.sources.remove(&source);
            }
        }
    }

    /// Nodes and bytes `source` holds.
    pub fn share(&self, source: IpAddr) -> (usize, usize) {
        self.sources
            .get(&source)
            .map_or((0, 0), |share| (share.nodes, share.bytes))
    }

    /// The first node to make room overall for which `fits` holds (e.g. the last node of its
    /// service, when a service slot is needed), if any may.
    pub fn victim(&self, exclude: &str, fits: impl Fn(&str) -> bool) -> Option<&str> {
        evictable(self.order.iter(), exclude, fits)
    }

    /// Source addresses holding nodes now.
    pub fn sources(&self) -> usize {
        self.sources.len()
    }
}

/// The lowest-ranked node that may be evicted for a newcomer: only [`Trust::Announced`] ones.
fn evictable<'a>(
    ranks: impl Iterator<Item = &'a Rank>,
    exclude: &str,
    fits: impl Fn(&str) -> bool,
) -> Option<&'a str> {
    ranks
        .take_while(|(trust, _, _)| *trust == Trust::Announced)
        .map(|(_, _, instance)| instance.as_str())
        .find(|instance| *instance != exclude && fits(instance))
}
