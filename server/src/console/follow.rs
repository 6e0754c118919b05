//! Following the hub: its events in sequence order from a place in the sequence, and a fresh
//! start when the follower fell behind. The watch websocket and the DNS-SD bridge both follow
//! it this way; what they do with each event is theirs.

use std::sync::Arc;

use app::wire::WatchMessage;
use tokio::sync::broadcast::{self, error::RecvError};

use super::{EventFrame, First, Hub};

/// What following the hub brings next.
pub enum Followed {
    /// The next event after the follower's place (its place moved to it).
    Event(EventFrame),
    /// Events were lost for this follower: it must start again from a snapshot.
    Lagged,
    /// The hub is gone.
    Closed,
}

/// One follower of the hub's events.
pub struct Follower {
    hub: Arc<Hub>,
    /// `None` only while a fresh start is being made, so that what the old receiver still
    /// held is released before the snapshot is built.
    events: Option<broadcast::Receiver<EventFrame>>,
    seq: u64,
}

impl Follower {
    /// A websocket's follower from `since`, and what its client needs first (a snapshot as the
    /// frame shared by every client of the revision, or the events it missed).
    pub async fn watch(hub: Arc<Hub>, since: Option<u64>) -> (Follower, First) {
        let (events, first, seq) = hub.watch(since).await;
        let follower = Follower {
            hub,
            events: Some(events),
            seq,
        };
        (follower, first)
    }

    /// An in-process follower from now, and the snapshot it starts from (as data).
    pub fn subscribe(hub: Arc<Hub>) -> (Follower, Vec<WatchMessage>) {
        let (events, first, seq) = hub.subscribe(None);
        let follower = Follower {
            hub,
            events: Some(events),
            seq,
        };
        (follower, first)
    }

    /// The next event after this follower's place; events at or before it (sent before the
    /// snapshot it started from was taken) are skipped. Cancel-safe: nothing is lost when the
    /// future is dropped unfinished.
    pub async fn next(&mut self) -> Followed {
        let Some(events) = self.events.as_mut() else {
            return Followed::Closed;
        };
        loop {
            match events.recv().await {
                Ok(frame) if frame.seq <= self.seq => {}
                Ok(frame) => {
                    self.seq = frame.seq;
                    return Followed::Event(frame);
                }
                Err(RecvError::Lagged(_)) => return Followed::Lagged,
                Err(RecvError::Closed) => return Followed::Closed,
            }
        }
    }

    /// The sequence number of the last event followed (or of the snapshot started from).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Whether more events wait to be read.
    pub fn behind(&self) -> bool {
        self.events
            .as_ref()
            .is_some_and(|events| !events.is_empty())
    }

    /// Starts the websocket's follower again from a snapshot, which it returns.
    pub async fn rewatch(&mut self) -> First {
        self.events = None;
        let (events, first, seq) = self.hub.watch(None).await;
        self.events = Some(events);
        self.seq = seq;
        first
    }

    /// Starts the in-process follower again from a snapshot, which it returns.
    pub fn resubscribe(&mut self) -> Vec<WatchMessage> {
        self.events = None;
        let (events, first, seq) = self.hub.subscribe(None);
        self.events = Some(events);
        self.seq = seq;
        first
    }
}
