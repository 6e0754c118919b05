//! When each live node turns stale if nothing is heard from it: a queue of deadlines, so
//! that time passing costs what changes, not what the view holds.
//!
//! The ticker used to walk every node four times a second to find the ones that missed
//! their refresh: with 10,000 nodes known and nothing happening, that walk was the
//! console's idle CPU. A node's deadline only moves later when it is heard from, so the
//! queue holds one entry per node, at the deadline it had when the entry was made; when an
//! entry comes due, the node's current deadline decides: stale now, or a new entry later.
//! An entry made earlier than a node's newest one (its TTL shrank) is superseded and
//! skipped: `scheduled` says which entry is a node's own. So is the entry of a node that
//! left: its entry stays queued (a heap cannot drop one from its middle) until it comes due
//! or the queue is compacted, which happens once a fifth of it is such entries. Without
//! that, a churn of short-lived nodes believed for an hour left every departed node's key
//! queued (the bench's 60 s churn: tens of thousands of keys, megabytes held for an hour).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use app::wire::UnixMillis;

use super::tombstones::NodeKey;

/// The pending stale checks: a min-heap by time, and each node's own entry.
#[derive(Debug, Default)]
pub struct Deadlines {
    heap: BinaryHeap<Reverse<(UnixMillis, NodeKey)>>,
    scheduled: HashMap<NodeKey, UnixMillis>,
}

impl Deadlines {
    /// `key` turns stale at `at` unless heard from before: queued unless an entry at or
    /// before `at` is queued already (that one, when due, re-queues at the node's then
    /// current deadline).
    pub fn schedule(&mut self, key: &NodeKey, at: UnixMillis) {
        if self.scheduled.get(key).is_some_and(|queued| *queued <= at) {
            return;
        }
        self.scheduled.insert(key.clone(), at);
        self.heap.push(Reverse((at, key.clone())));
        self.compact();
    }

    /// Drops the entries that are no node's own once they are a fifth of the queue, and the
    /// room they took: each compaction walks the queue once, after at least a quarter of its
    /// size in changes, so its cost per change stays constant.
    fn compact(&mut self) {
        let own = self.scheduled.len();
        if self.heap.len() <= own + own / 4 + 64 {
            return;
        }
        let scheduled = &self.scheduled;
        self.heap
            .retain(|Reverse((at, key))| scheduled.get(key) == Some(at));
        self.heap.shrink_to(2 * self.heap.len());
        self.scheduled.shrink_to(2 * own);
    }

    /// The nodes whose own entry is due at `now`, each taken off the queue (the caller
    /// re-schedules those still alive at their new deadline).
    pub fn take_due(&mut self, now: UnixMillis) -> Vec<NodeKey> {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.heap.peek() {
            if *at > now {
                break;
            }
            let Some(Reverse((at, key))) = self.heap.pop() else {
                break;
            };
            if self.scheduled.get(&key) == Some(&at) {
                self.scheduled.remove(&key);
                due.push(key);
            }
        }
        due
    }

    /// When the earliest entry comes due (possibly one superseded since: then that wake finds
    /// nothing to do), for the ticker to sleep until.
    pub fn next_at(&self) -> Option<UnixMillis> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// The node left the view (or turned into a tombstone): its entry, if still queued, is
    /// skipped when it comes and dropped at the next compaction.
    pub fn cancel(&mut self, key: &NodeKey) {
        if self.scheduled.remove(key).is_some() {
            self.compact();
        }
    }

    /// Entries queued, superseded ones included.
    #[cfg(test)]
    pub fn queued(&self) -> usize {
        self.heap.len()
    }

    /// Nodes with a deadline queued.
    #[cfg(test)]
    pub fn scheduled(&self) -> usize {
        self.scheduled.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> NodeKey {
        ("svc".into(), "1".into(), id.into())
    }

    #[test]
    fn due_in_order_and_only_once() {
        let mut deadlines = Deadlines::default();
        deadlines.schedule(&key("b"), 200);
        deadlines.schedule(&key("a"), 100);
        deadlines.schedule(&key("a"), 150); // later: the entry at 100 stays
        assert!(deadlines.take_due(99).is_empty());
        assert_eq!(deadlines.take_due(100), [key("a")]);
        assert!(deadlines.take_due(150).is_empty());
        assert_eq!(deadlines.take_due(1_000), [key("b")]);
        assert_eq!(deadlines.queued(), 0);
    }

    #[test]
    fn an_earlier_deadline_supersedes_and_a_cancelled_one_never_comes() {
        let mut deadlines = Deadlines::default();
        deadlines.schedule(&key("a"), 500);
        deadlines.schedule(&key("a"), 100);
        deadlines.schedule(&key("c"), 50);
        deadlines.cancel(&key("c"));
        assert_eq!(deadlines.take_due(100), [key("a")]);
        assert!(
            deadlines.take_due(10_000).is_empty(),
            "the superseded 500 is skipped"
        );
    }

    #[test]
    fn superseded_entries_stay_bounded() {
        let mut deadlines = Deadlines::default();
        for at in (0..10_000u64).rev() {
            deadlines.schedule(&key("a"), at);
        }
        assert!(deadlines.queued() <= 1 + 64 + 1, "{}", deadlines.queued());
        assert_eq!(deadlines.take_due(u64::MAX), [key("a")]);
    }

    #[test]
    fn entries_of_departed_nodes_do_not_pile_up_behind_live_ones() {
        let mut deadlines = Deadlines::default();
        for id in 0..1_000 {
            deadlines.schedule(&key(&format!("live{id}")), 3_600_000);
        }
        // A churn: 10,000 short-lived nodes, each believed for an hour, leaving at once.
        for id in 0..10_000 {
            let churned = key(&format!("churn{id}"));
            deadlines.schedule(&churned, 3_600_000 + id);
            deadlines.cancel(&churned);
        }
        assert_eq!(deadlines.scheduled(), 1_000);
        assert!(
            deadlines.queued() <= 1_000 + 250 + 64 + 1,
            "{} entries queued for 1,000 nodes",
            deadlines.queued()
        );
        assert_eq!(deadlines.take_due(u64::MAX).len(), 1_000);
    }
}
