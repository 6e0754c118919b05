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

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::time::Duration;

use app::wire::UnixMillis;

use super::view::ProbeTarget;

/// A node, as the schedule knows it: service, version, node id.
type Key = (String, String, String);

/// One node's place in the schedule.
#[derive(Debug, Clone)]
struct Slot {
    target: ProbeTarget,
    due: UnixMillis,
    in_flight: bool,
}

/// The health-check schedule of every live node.
#[derive(Debug)]
pub struct Schedule {
    interval_ms: u64,
    slots: HashMap<Key, Slot>,
    /// Seeds the jitter (random per schedule).
    jitter: RandomState,
}

fn key(target: &ProbeTarget) -> Key {
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
                Some(slot) => Slot { target, ..slot },
                None => Slot {
                    due: now + self.random(&key, now) % self.interval_ms,
                    target,
                    in_flight: false,
                },
            };
            kept.insert(key, slot);
        }
        self.slots = kept;
    }

    /// The nodes due at `now` whose check is not in flight, at most `room` of them, earliest
    /// first; they count as in flight from now on.
    pub fn take_due(&mut self, now: UnixMillis, room: usize) -> Vec<ProbeTarget> {
        let mut due: Vec<&mut Slot> = self
            .slots
            .values_mut()
            .filter(|slot| !slot.in_flight && slot.due <= now)
            .collect();
        due.sort_by_key(|slot| slot.due);
        due.into_iter()
            .take(room)
            .map(|slot| {
                slot.in_flight = true;
                slot.target.clone()
            })
            .collect()
    }

    /// The check of `target` ended at `now`: due again an interval later, ±10 %.
    pub fn finish(&mut self, target: &ProbeTarget, now: UnixMillis) {
        let key = key(target);
        let spread = (self.interval_ms / 5).max(1);
        let next = now + self.interval_ms - self.interval_ms / 10 + self.random(&key, now) % spread;
        if let Some(slot) = self.slots.get_mut(&key) {
            slot.in_flight = false;
            slot.due = next;
        }
    }

    /// Checks in flight.
    pub fn in_flight(&self) -> usize {
        self.slots.values().filter(|slot| slot.in_flight).count()
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
        assert_eq!(schedule.in_flight(), 1, "node 0's check is still in flight");
        schedule.finish(&node(1), INTERVAL);
        assert_eq!(schedule.take_due(3 * INTERVAL, usize::MAX), vec![node(7)]);
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
