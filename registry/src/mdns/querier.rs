//! Queries this process sends, and the callers waiting for their answer window to close.
//!
//! go-micro's GetService / ListServices send ONE PTR query from an ephemeral port, never retry,
//! and collect answers for a fixed timeout (100 ms by default). Here the answers land in the
//! cache like every other packet, so a waiting caller is just a deadline: when it passes, the
//! caller is answered from the cache. The same path serves cache refreshes and the check after
//! an evict. Queries for one name are spaced out, so a chatty caller (or a flood of wildcard
//! hints) cannot make this process flood the link.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::EvictOutcome;
use crate::error::Result;
use crate::model::Service;

/// The shortest interval between two queries for the same name, except for an explicit
/// get/list (a caller asked, so the caller gets a query).
pub const MIN_REQUERY_INTERVAL: Duration = Duration::from_secs(1);

/// Names remembered for spacing queries; older ones are forgotten past this.
const MAX_REMEMBERED_NAMES: usize = 4096;

/// A caller waiting for a query's answer window to close.
#[derive(Debug)]
pub enum Waiting {
    /// `get_service(name)`.
    Get {
        /// The service asked for.
        name: String,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Vec<Service>>>,
    },
    /// `list_services`.
    List {
        /// Where the answer goes.
        reply: oneshot::Sender<Result<Vec<Service>>>,
    },
    /// `evict`: did the owner answer the query sent after the goodbye?
    Evict {
        /// The evicted node's instance name.
        instance: String,
        /// The outcome so far (goodbye sent, not owned).
        outcome: EvictOutcome,
        /// Where the answer goes.
        reply: oneshot::Sender<Result<EvictOutcome>>,
    },
}

/// Callers by query id, and when each name was last queried.
#[derive(Debug, Default)]
pub struct Querier {
    waiting: HashMap<u64, Waiting>,
    next_id: u64,
    last_query: HashMap<String, Instant>,
}

impl Querier {
    /// Registers a waiting caller; the engine schedules a deadline timer for the id returned.
    pub fn wait(&mut self, waiting: Waiting) -> u64 {
        self.next_id += 1;
        self.waiting.insert(self.next_id, waiting);
        self.next_id
    }

    /// The caller whose window closed.
    pub fn take(&mut self, id: u64) -> Option<Waiting> {
        self.waiting.remove(&id)
    }

    /// Every caller still waiting (at shutdown).
    pub fn drain(&mut self) -> Vec<Waiting> {
        self.waiting.drain().map(|(_, waiting)| waiting).collect()
    }

    /// Whether a query for `name` may go out now, at least `spacing` after the previous one
    /// (`None`: a caller asked, always), and if so records it.
    pub fn may_query(&mut self, name: &str, now: Instant, spacing: Option<Duration>) -> bool {
        if let (Some(spacing), Some(last)) = (spacing, self.last_query.get(name)) {
            if now.duration_since(*last) < spacing {
                return false;
            }
        }
        if self.last_query.len() >= MAX_REMEMBERED_NAMES {
            self.last_query
                .retain(|_, last| now.duration_since(*last) < MIN_REQUERY_INTERVAL);
        }
        if self.last_query.len() < MAX_REMEMBERED_NAMES {
            self.last_query.insert(name.to_string(), now);
        }
        true
    }
}

/// A random query ID, as go-micro's client sets one (responders answer with ID 0 anyway).
pub fn query_id() -> u16 {
    fastrand::u16(..)
}
