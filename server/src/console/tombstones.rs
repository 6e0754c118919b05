//! The bounded store of tombstones: which departed nodes the view still shows, oldest first.
//!
//! A tombstone keeps the whole node (its metadata) for `--tombstone-ttl` so that a page shows
//! why it left. A LAN peer can make them at will (announce a fat node, say goodbye, repeat), so
//! they are bounded in number and in bytes ([`super::budget`]), and past either bound the
//! oldest is dropped first, as if its TTL had run out; drops are counted for the stats.

use std::collections::{HashMap, VecDeque};

use super::budget::{MAX_TOMBSTONES, MAX_TOMBSTONE_BYTES};

/// A node of a service version: (service, version, node id).
pub type NodeKey = (String, String, String);

/// The tombstones' order and sizes (the nodes themselves stay in the view).
#[derive(Debug, Default)]
pub struct Tombstones {
    /// In order of departure; an entry whose departure time no longer matches `held` is stale
    /// (the node came back, or left again later) and is skipped.
    order: VecDeque<(NodeKey, u64)>,
    /// Departure time and bytes of every tombstone.
    held: HashMap<NodeKey, (u64, usize)>,
    bytes: usize,
    dropped: u64,
}

impl Tombstones {
    /// A node became a tombstone at `departed` holding `bytes`.
    pub fn bury(&mut self, key: NodeKey, departed: u64, bytes: usize) {
        self.forget(&key);
        self.bytes += bytes;
        self.held.insert(key.clone(), (departed, bytes));
        self.order.push_back((key, departed));
        if self.order.len() > 2 * self.held.len() + 64 {
            let held = &self.held;
            self.order
                .retain(|(key, at)| held.get(key).is_some_and(|(departed, _)| departed == at));
        }
    }

    /// A tombstone is gone (the node came back, or it was purged).
    pub fn forget(&mut self, key: &NodeKey) {
        if let Some((_, bytes)) = self.held.remove(key) {
            self.bytes -= bytes;
        }
    }

    /// The oldest tombstone while the store is past a bound, forgotten already: the caller
    /// removes it from the view. Counted as dropped.
    pub fn pop_over_budget(&mut self) -> Option<NodeKey> {
        if self.held.len() <= MAX_TOMBSTONES && self.bytes <= MAX_TOMBSTONE_BYTES {
            return None;
        }
        let key = self.pop_departed_by(u64::MAX)?;
        self.dropped += 1;
        Some(key)
    }

    /// The oldest tombstone if it departed at or before `cutoff` (its TTL ran out),
    /// forgotten already: the caller removes it from the view. Skips the order's stale
    /// entries on the way.
    pub fn pop_departed_by(&mut self, cutoff: u64) -> Option<NodeKey> {
        while let Some((_, at)) = self.order.front() {
            if *at > cutoff {
                return None;
            }
            let (key, at) = self.order.pop_front()?;
            if self
                .held
                .get(&key)
                .is_some_and(|(departed, _)| *departed == at)
            {
                self.forget(&key);
                return Some(key);
            }
        }
        None
    }

    /// When the oldest tombstone departed (possibly a stale entry of the order: a wake at its
    /// purge time then finds nothing to do), for the ticker to sleep until its purge.
    pub fn oldest_departed(&self) -> Option<u64> {
        self.order.front().map(|(_, at)| *at)
    }

    /// Tombstones held now.
    pub fn len(&self) -> usize {
        self.held.len()
    }

    /// Bytes they hold.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Tombstones dropped early because a bound was reached.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: usize) -> NodeKey {
        ("svc".into(), "1".into(), format!("n{id}"))
    }

    #[test]
    fn the_oldest_go_first_past_the_byte_bound() {
        let mut store = Tombstones::default();
        let fat = MAX_TOMBSTONE_BYTES / 4;
        for id in 0..6 {
            store.bury(key(id), id as u64, fat);
        }
        assert_eq!(store.pop_over_budget(), Some(key(0)));
        assert_eq!(store.pop_over_budget(), Some(key(1)));
        assert_eq!(store.pop_over_budget(), None);
        assert_eq!(
            (store.len(), store.bytes(), store.dropped()),
            (4, 4 * fat, 2)
        );
    }

    #[test]
    fn expired_ones_come_off_the_front_in_order_of_departure() {
        let mut store = Tombstones::default();
        for id in 0..4 {
            store.bury(key(id), 100 * id as u64, 1);
        }
        store.forget(&key(1));
        assert_eq!(store.pop_departed_by(250), Some(key(0)));
        assert_eq!(
            store.pop_departed_by(250),
            Some(key(2)),
            "the revived 1 is skipped"
        );
        assert_eq!(store.pop_departed_by(250), None);
        assert_eq!((store.len(), store.dropped()), (1, 0));
    }

    #[test]
    fn a_revived_node_is_not_counted_nor_dropped() {
        let mut store = Tombstones::default();
        store.bury(key(0), 0, 10);
        store.forget(&key(0));
        for id in 1..=MAX_TOMBSTONES {
            store.bury(key(id), id as u64, 1);
        }
        assert_eq!(
            store.pop_over_budget(),
            None,
            "the revived node is not a tombstone"
        );
        store.bury(key(0), 9_999, 1);
        assert_eq!(store.pop_over_budget(), Some(key(1)));
        assert_eq!(store.len(), MAX_TOMBSTONES);
    }
}
