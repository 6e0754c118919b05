//! The task that expires TTL'd nodes on time.
//!
//! Deadlines are data in the store ([`super::store::Store::next_deadline`]); this task only
//! sleeps until the earliest one, expires what is due, and goes back to sleep. It is woken
//! early when a registration may have brought an earlier deadline, and it ends when the
//! registry is dropped: it holds the registry only weakly, so it never keeps it alive.
//!
//! Reads and writes expire due nodes themselves too, so answers are right to the millisecond
//! even while this task has not run yet; the task is what makes delete events arrive on time
//! when nobody calls the registry.

use std::sync::{Arc, Weak};

use tokio::sync::Notify;
use tokio::time::{sleep_until, Instant};

use super::Shared;

/// Runs until the registry behind `shared` is gone. `wake` is signalled on every TTL
/// registration and when the registry drops.
pub(super) async fn run(shared: Weak<Shared>, wake: Arc<Notify>) {
    loop {
        let next_deadline = match shared.upgrade() {
            Some(shared) => shared.expire_due(),
            None => return,
        };
        match next_deadline {
            Some(at) => {
                tokio::select! {
                    () = sleep_until(Instant::from_std(at)) => {}
                    () = wake.notified() => {}
                }
            }
            None => wake.notified().await,
        }
    }
}
