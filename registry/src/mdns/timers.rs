//! The engine's timers, as data: a min-heap of "at this instant, do this".
//!
//! Nothing in the engine sleeps; it computes the earliest deadline (here and in the cache),
//! waits for it or for a packet or command, and handles whatever came due. A timer that became
//! pointless (a node re-registered, a query answered) stays in the heap and is recognised as
//! stale by the generation it carries.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Something the engine must do at a given instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Timer {
    /// Send the next announcement of an owned node; `remaining` counts this one.
    Announce {
        /// The node's instance name.
        instance: String,
        /// The owned node's generation when scheduled.
        generation: u64,
        /// Announcements still to send, this one included.
        remaining: u8,
    },
    /// An owned node registered with a TTL may have lapsed (checked against its `expires_at`,
    /// which a re-registration moves).
    OwnedExpiry {
        /// The node's instance name.
        instance: String,
    },
    /// A get/list/evict query's answer window closed.
    QueryDeadline {
        /// The pending query's id.
        id: u64,
    },
}

#[derive(Debug, PartialEq, Eq)]
struct Scheduled {
    at: Instant,
    sequence: u64,
    timer: Timer,
}

impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: BinaryHeap is a max-heap, the earliest instant must come out first.
        (other.at, other.sequence).cmp(&(self.at, self.sequence))
    }
}

impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The timer heap.
#[derive(Debug, Default)]
pub struct Timers {
    heap: BinaryHeap<Scheduled>,
    sequence: u64,
}

impl Timers {
    /// Schedules `timer` at `at`.
    pub fn schedule(&mut self, at: Instant, timer: Timer) {
        self.sequence += 1;
        self.heap.push(Scheduled {
            at,
            sequence: self.sequence,
            timer,
        });
    }

    /// The earliest deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.heap.peek().map(|scheduled| scheduled.at)
    }

    /// Removes and returns every timer due at `now`, earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Vec<Timer> {
        let mut due = Vec::new();
        while self
            .heap
            .peek()
            .is_some_and(|scheduled| scheduled.at <= now)
        {
            if let Some(scheduled) = self.heap.pop() {
                due.push(scheduled.timer);
            }
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn earliest_first() {
        let now = Instant::now();
        let mut timers = Timers::default();
        timers.schedule(now + Duration::from_secs(2), Timer::QueryDeadline { id: 2 });
        timers.schedule(now + Duration::from_secs(1), Timer::QueryDeadline { id: 1 });
        timers.schedule(now + Duration::from_secs(1), Timer::QueryDeadline { id: 3 });
        assert_eq!(timers.next_deadline(), Some(now + Duration::from_secs(1)));
        assert_eq!(
            timers.pop_due(now + Duration::from_secs(1)),
            vec![
                Timer::QueryDeadline { id: 1 },
                Timer::QueryDeadline { id: 3 }
            ]
        );
        assert!(timers.pop_due(now).is_empty());
    }
}
