//! A watcher of the memory registry: one receiver of its broadcast channel.
//!
//! The channel keeps the last `watch_buffer` events for all watchers together. A watcher that
//! falls further behind loses the oldest ones; the channel tells it how many, and it reports
//! that once as [`Error::Lagged`] before carrying on with the oldest event still kept. So a
//! slow consumer costs bounded memory and is never left with a silently wrong view: go-micro's
//! memory watcher, by contrast, drops events when its buffer is full and says nothing.

use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::error::{Error, Result};
use crate::event::Event;
use crate::registry::Watcher;

/// Follows the registry's events, optionally of one service only.
pub(super) struct MemoryWatcher {
    /// `None` once stopped, or once the registry is gone and every kept event was read.
    receiver: Option<broadcast::Receiver<Arc<Event>>>,
    /// Only events of this service name, when set.
    service: Option<String>,
}

impl MemoryWatcher {
    /// A watcher reading from `receiver`, keeping events of `service` only when given.
    pub(super) fn new(receiver: broadcast::Receiver<Arc<Event>>, service: Option<String>) -> Self {
        MemoryWatcher {
            receiver: Some(receiver),
            service,
        }
    }
}

#[async_trait]
impl Watcher for MemoryWatcher {
    /// Cancel-safe: dropping the future loses no event, so it can sit in a `select!`.
    ///
    /// A filtered watcher's `Lagged { missed }` counts every missed registry event, not only
    /// the followed service's: which ones were lost is exactly what it cannot know.
    async fn next(&mut self) -> Result<Event> {
        loop {
            let receiver = self.receiver.as_mut().ok_or(Error::WatcherStopped)?;
            match receiver.recv().await {
                Ok(event) => {
                    let wanted = self
                        .service
                        .as_deref()
                        .is_none_or(|name| name == event.service.name);
                    if wanted {
                        return Ok(Event::clone(&event));
                    }
                }
                Err(RecvError::Lagged(missed)) => return Err(Error::Lagged { missed }),
                Err(RecvError::Closed) => {
                    self.receiver = None;
                    return Err(Error::WatcherStopped);
                }
            }
        }
    }

    /// Drops the receiver at once, so a stopped watcher holds back no buffer space.
    fn stop(&mut self) {
        self.receiver = None;
    }
}
