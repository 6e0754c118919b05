//! When each live node's next health check is due, as plain data (no I/O, no clock: callers
//! pass `now`), so the rules are tested without sockets.
//!
//! - Every node is checked once per interval, at its own moment: a node's first check falls
//!   at a random point of the first interval, and each next one an interval later ±10 %, so
//!   10,000 nodes registered together are not all asked in the same second (nor do their
//!   checks fall into step again later).
//! - Never more than one check of a node in flight: a node is not due again until its check
//!   ended, however long that takes.
//! - The caller bounds how many checks run at once ([`Schedule::take_due`]'s `room`).
//! - A deadline queue: taking the due checks costs what is due, not a scan of every node
//!   (the sweep rescanned 10,000 slots every 10 ms), and [`Schedule::next_due`] says how long
//!   the caller may sleep.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use app::wire::UnixMillis;

use super::view::ProbeTarget;

/// A node, as the schedule knows it: service, version, node id.
pub type Key = (String, String, String);

/// One node's place in the schedule.
#[derive(Debug, Clone)]
struct Slot {
    target: ProbeTarget,
    /// Which queue entry is this slot's (older entries of the same key are stale).
    ticket: u64,
    in_flight: bool,
    /// Still a live node; a departed node's slot stays until its check in flight ends, so
    /// that a node leaving and coming back meanwhile is not checked twice at once.
    live: bool,
}

/// The health-check schedule of every live node.
#[derive(Debug)]
pub struct Schedule {
    interval_ms: u64,
    slots: HashMap<Key, Slot>,
    /// (due, ticket, node), earliest first. An entry whose ticket is not its slot's any more
    /// (the node left, came back, or is in flight) is dropped when it comes up.
    queue: BinaryHeap<Reverse<(UnixMillis, u64, Key)>>,
    next_ticket: u64,
    /// Slots in flight (departed nodes' included: each check holds a socket).
    in_flight: usize,
    /// Seeds the jitter (random per schedule).
    jitter: RandomState,
}

/// The schedule's key of `target`.
pub fn key(target: &ProbeTarget) -> Key {
    (
        target.service.clone(),
        target.version.clone(),
        target.node_id.clone(),
    )
}

impl Schedule {
    /// A schedule checking every node once per `interval` (at least 1 ms).
    pub fn new(interval: Duration) -> Schedule {
        Schedule {
            interval_ms: u64::try_from(interval.as_millis())
                .unwrap_or(u64::MAX / 4)
                .max(1),
            slots: HashMap::new(),
            queue: BinaryHeap::new(),
            next_ticket: 0,
            in_flight: 0,
            jitter: RandomState::new(),
        }
    }

    /// Follows the view's live nodes: new ones are due within the next interval, departed
    /// ones are forgotten, and a changed address is used from the next check on.
    pub fn track(&mut self, live: Vec<ProbeTarget>, now: UnixMillis) {
        let mut kept = HashMap::with_capacity(live.len());
        for target in live {
            let key = key(&target);
            let slot = match self.slots.remove(&key) {
                Some(slot) => Slot {
                    target,
                    live: true,
                    ..slot
                },
                None => {
                    let due = now + self.random(&key, now) % self.interval_ms;
                    let ticket = self.enqueue(due, key.clone());
                    Slot {
                        target,
                        ticket,
                        in_flight: false,
                        live: true,
                    }
                }
            };
            kept.insert(key, slot);
        }
        for (key, mut slot) in self.slots.drain() {
            if slot.in_flight {
                slot.live = false;
                kept.insert(key, slot);
            }
        }
        self.slots = kept;
        // Departed nodes' entries would only come up to be dropped; past a point, drop them
        // now so the queue stays about the size of the schedule.
        if self.queue.len() > 2 * self.slots.len() + 64 {
            let slots = &self.slots;
            self.queue.retain(|Reverse((_, ticket, key))| {
                slots.get(key).is_some_and(|slot| slot.ticket == *ticket)
            });
        }
    }

    /// Whether `key` is a live node of the schedule.
    pub fn tracks(&self, key: &Key) -> bool {
        self.slots.get(key).is_some_and(|slot| slot.live)
    }

    /// The nodes due at `now` whose check is not in flight, at most `room` of them, earliest
    /// first; they count as in flight from now on.
    pub fn take_due(&mut self, now: UnixMillis, room: usize) -> Vec<ProbeTarget> {
        let mut taken = Vec::new();
        while taken.len() < room {
            let Some(Reverse((due, ticket, key))) = self.queue.peek() else {
                break;
            };
            let current = self
                .slots
                .get(key)
                .is_some_and(|slot| slot.ticket == *ticket && !slot.in_flight);
            if current && *due > now {
                break;
            }
            let Some(Reverse((_, _, key))) = self.queue.pop() else {
                break;
            };
            if let Some(slot) = self.slots.get_mut(&key).filter(|_| current) {
                slot.in_flight = true;
                self.in_flight += 1;
                taken.push(slot.target.clone());
            }
        }
        taken
    }

    /// When the earliest check not in flight is due; `None` when none is waiting.
    pub fn next_due(&mut self) -> Option<UnixMillis> {
        while let Some(Reverse((due, ticket, key))) = self.queue.peek() {
            if self
                .slots
                .get(key)
                .is_some_and(|slot| slot.ticket == *ticket && !slot.in_flight)
            {
                return Some(*due);
            }
            self.queue.pop();
        }
        None
    }

    /// The check of `target` ended at `now`: due again an interval later, ±10 %.
    pub fn finish(&mut self, target: &ProbeTarget, now: UnixMillis) {
        let key = key(target);
        match self.slots.get(&key) {
            Some(slot) if slot.in_flight => self.in_flight -= 1,
            _ => return,
        }
        if self.slots.get(&key).is_some_and(|slot| !slot.live) {
            self.slots.remove(&key);
            return;
        }
        let spread = (self.interval_ms / 5).max(1);
        let next = now + self.interval_ms - self.interval_ms / 10 + self.random(&key, now) % spread;
        let ticket = self.enqueue(next, key.clone());
        if let Some(slot) = self.slots.get_mut(&key) {
            slot.in_flight = false;
            slot.ticket = ticket;
        }
    }

    /// Checks in flight.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    fn enqueue(&mut self, due: UnixMillis, key: Key) -> u64 {
        self.next_ticket += 1;
        self.queue.push(Reverse((due, self.next_ticket, key)));
        self.next_ticket
    }

    fn random(&self, key: &Key, now: UnixMillis) -> u64 {
        self.jitter.hash_one((key, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTERVAL: u64 = 10_000;

    fn node(id: usize) -> ProbeTarget {
        ProbeTarget {
            service: "svc".into(),
            version: "1".into(),
            node_id: format!("n{id}"),
            address: format!("127.0.0.1:{}", 1000 + id),
            mucp: true,
        }
    }

    fn nodes(count: usize) -> Vec<ProbeTarget> {
        (0..count).map(node).collect()
    }

    fn schedule(count: usize) -> Schedule {
        let mut schedule = Schedule::new(Duration::from_millis(INTERVAL));
        schedule.track(nodes(count), 0);
        schedule
    }

    #[test]
    fn first_checks_spread_over_the_first_interval() {
        let mut schedule = schedule(1_000);
        let first_half = schedule.take_due(INTERVAL / 2, usize::MAX).len();
        assert!(
            (300..=700).contains(&first_half),
            "{first_half} of 1000 in the first half"
        );
        let rest = schedule.take_due(INTERVAL - 1, usize::MAX).len();
        assert_eq!(first_half + rest, 1_000, "every node within one interval");
    }

    #[test]
    fn at_most_room_checks_and_never_two_of_one_node() {
        let mut schedule = schedule(100);
        let first = schedule.take_due(INTERVAL, 30);
        assert_eq!(first.len(), 30);
        assert_eq!(schedule.in_flight(), 30);
        let second = schedule.take_due(INTERVAL * 5, usize::MAX);
        assert_eq!(second.len(), 70, "the 30 in flight are not due again");
        assert!(first.iter().all(|target| !second.contains(target)));
        assert!(schedule.take_due(INTERVAL * 50, usize::MAX).is_empty());
    }

    #[test]
    fn a_finished_check_is_due_an_interval_later_with_jitter() {
        let mut schedule = schedule(200);
        let all = schedule.take_due(INTERVAL, usize::MAX);
        for target in &all {
            schedule.finish(target, INTERVAL);
        }
        assert_eq!(schedule.in_flight(), 0);
        let early = INTERVAL + INTERVAL * 9 / 10;
        assert!(schedule.take_due(early - 1, usize::MAX).is_empty());
        let middle = schedule.take_due(2 * INTERVAL, usize::MAX).len();
        assert!(
            (40..=160).contains(&middle),
            "jittered: {middle} of 200 by the middle"
        );
        let late = INTERVAL + INTERVAL * 11 / 10;
        assert_eq!(middle + schedule.take_due(late, usize::MAX).len(), 200);
    }

    #[test]
    fn departed_nodes_are_forgotten_and_new_ones_scheduled() {
        let mut schedule = schedule(3);
        let taken = schedule.take_due(INTERVAL, usize::MAX);
        assert_eq!(taken.len(), 3);
        schedule.track(vec![node(0), node(7)], INTERVAL);
        assert_eq!(
            schedule.in_flight(),
            3,
            "the departed nodes' checks still run (and hold a socket each) until they end"
        );
        assert!(!schedule.tracks(&key(&node(1))));
        schedule.finish(&node(1), INTERVAL);
        schedule.finish(&node(2), INTERVAL);
        assert_eq!(schedule.in_flight(), 1, "node 0's check is still in flight");
        assert_eq!(schedule.take_due(3 * INTERVAL, usize::MAX), vec![node(7)]);
    }

    #[test]
    fn the_next_due_check_is_known_without_taking_it() {
        let mut schedule = schedule(50);
        let next = schedule.next_due().expect("50 checks waiting");
        assert!(next < INTERVAL);
        assert!(schedule
            .take_due(next.saturating_sub(1), usize::MAX)
            .is_empty());
        // The jitter is random: two nodes can share the first due millisecond.
        let first = schedule.take_due(next, usize::MAX).len();
        assert!(first >= 1, "the next due check is due then");
        let all = schedule.take_due(INTERVAL, usize::MAX);
        assert_eq!(first + all.len(), 50);
        assert_eq!(
            schedule.next_due(),
            None,
            "all in flight: nothing to wait for"
        );
        schedule.finish(&all[0], INTERVAL);
        let again = schedule.next_due().unwrap();
        assert!((INTERVAL + INTERVAL * 9 / 10..=INTERVAL + INTERVAL * 11 / 10).contains(&again));
    }

    #[test]
    fn a_node_that_left_and_came_back_is_scheduled_once() {
        let mut schedule = schedule(1);
        schedule.track(Vec::new(), 0);
        schedule.track(nodes(1), 0);
        assert_eq!(schedule.take_due(INTERVAL * 2, usize::MAX), vec![node(0)]);
        assert!(schedule.take_due(INTERVAL * 2, usize::MAX).is_empty());
    }

    #[test]
    fn a_node_back_while_its_old_check_runs_is_not_checked_twice_at_once() {
        let mut schedule = schedule(1);
        assert_eq!(schedule.take_due(INTERVAL, usize::MAX).len(), 1);
        schedule.track(Vec::new(), INTERVAL);
        schedule.track(nodes(1), 2 * INTERVAL);
        assert!(schedule.take_due(10 * INTERVAL, usize::MAX).is_empty());
        schedule.finish(&node(0), 10 * INTERVAL);
        assert_eq!(schedule.in_flight(), 0);
        assert_eq!(schedule.take_due(20 * INTERVAL, usize::MAX), vec![node(0)]);
    }

    #[test]
    fn a_moved_node_is_checked_at_its_new_address() {
        let mut schedule = schedule(1);
        let mut moved = node(0);
        moved.address = "127.0.0.1:9".into();
        schedule.track(vec![moved.clone()], 0);
        assert_eq!(schedule.take_due(INTERVAL, 1), vec![moved]);
    }
}
