//! The in-memory registry: go-micro's `memory` registry, for one process.
//!
//! It is what the console embeds when no network registry is configured, what tests run
//! against, and the reference the conformance suite is written from.
//!
//! - `store`: the contents and the rules of create / update / refresh / expiry, as plain data.
//! - `expiry`: the task that expires TTL'd nodes on time.
//! - `watcher`: the per-consumer end of the event channel, with lag reporting.
//!
//! One mutex guards the store and is never held across an `.await`; events are published while
//! it is held, so every watcher sees changes in the order they were made.

mod expiry;
mod store;
mod watcher;

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::field::Field;
use crate::model::Service;
use crate::options::{DeregisterOptions, Options, QueryOptions, RegisterOptions, WatchOptions};
use crate::registry::{Registry, Watcher};
use crate::validate;

use self::store::Store;
use self::watcher::MemoryWatcher;

/// Settings of the memory backend, passed in [`Options::extensions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryOptions {
    /// How many recent events are kept for watchers that have not read them yet. A watcher
    /// further behind than this is told it lagged ([`Error::Lagged`]) and must resync.
    /// Clamped to `1..=`[`MemoryOptions::MAX_WATCH_BUFFER`].
    pub watch_buffer: usize,
}

impl MemoryOptions {
    /// Largest `watch_buffer`: the events are shared, but a million of them is already far
    /// more than any consumer that fell that far behind could use.
    pub const MAX_WATCH_BUFFER: usize = 1 << 20;
}

impl Default for MemoryOptions {
    /// 1024 events: a whole re-registration round of a large deployment.
    fn default() -> Self {
        MemoryOptions { watch_buffer: 1024 }
    }
}

/// An in-process registry. Cheap to clone: clones share one registry.
///
/// Constructing one needs no async runtime. The first registration with a TTL, when it runs
/// inside a tokio runtime, starts a small task on that runtime that delivers expiry events on
/// time; without a runtime, nodes still expire, and their delete events are published at the
/// next call to the registry. The task ends when the last clone is dropped, and so do the
/// watchers (they read the events already published, then get [`Error::WatcherStopped`]).
///
/// `Options::timeout`, `addrs`, `secure` and `tls` mean nothing here and are kept only to be
/// returned by [`Registry::options`].
#[derive(Clone)]
pub struct MemoryRegistry {
    shared: Arc<Shared>,
}

/// What the clones of one registry share.
struct Shared {
    state: Mutex<State>,
    /// Published events; each watcher holds a receiver.
    events: broadcast::Sender<Arc<Event>>,
    /// Wakes the expiry task: a new deadline may be earlier than the one it sleeps towards.
    wake_expiry: Arc<Notify>,
    /// The buffer the channel was built with, which `init` cannot change.
    watch_buffer: usize,
}

/// Everything behind the mutex.
struct State {
    store: Store,
    options: Options,
    /// The expiry task, once a TTL registration ran inside a runtime.
    expiry_task: Option<JoinHandle<()>>,
}

impl MemoryRegistry {
    /// An empty registry. Reads [`MemoryOptions`] from `options.extensions` (defaults when
    /// absent).
    pub fn new(options: Options) -> Self {
        let watch_buffer = watch_buffer(&options);
        let (events, _) = broadcast::channel(watch_buffer);
        MemoryRegistry {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    store: Store::default(),
                    options,
                    expiry_task: None,
                }),
                events,
                wake_expiry: Arc::new(Notify::new()),
                watch_buffer,
            }),
        }
    }

    /// Starts the expiry task if it is not running and a tokio runtime is at hand. A task
    /// that finished was on a runtime that has shut down (the task itself only ends with the
    /// registry), so it is started again on the current one.
    fn ensure_expiry_task(&self, state: &mut State) {
        if state
            .expiry_task
            .as_ref()
            .is_some_and(|task| !task.is_finished())
        {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            state.expiry_task = Some(runtime.spawn(expiry::run(
                Arc::downgrade(&self.shared),
                self.shared.wake_expiry.clone(),
            )));
        }
    }
}

impl Default for MemoryRegistry {
    fn default() -> Self {
        MemoryRegistry::new(Options::default())
    }
}

impl Shared {
    /// The state, even if a thread panicked while holding it: the store's invariants hold
    /// between any two statements that can panic, so the data is still consistent.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sends events to the watchers. With no watcher, `send` fails and the events are simply
    /// not needed by anyone.
    fn publish(&self, events: Vec<Event>) {
        for event in events {
            tracing::debug!(
                action = %event.action,
                service = %event.service.name,
                version = %event.service.version,
                node = %event.id,
                "memory registry change"
            );
            let _ = self.events.send(Arc::new(event));
        }
    }

    /// Expires what is due now, and returns when the next node is due.
    fn expire_due(&self) -> Option<Instant> {
        let mut state = self.lock();
        self.publish(state.store.expire(Instant::now()));
        state.store.next_deadline()
    }

    /// Locks the state after expiring what is due, so that no answer includes a dead node.
    fn lock_current(&self) -> MutexGuard<'_, State> {
        let mut state = self.lock();
        self.publish(state.store.expire(Instant::now()));
        state
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Let the expiry task see that the registry is gone.
        self.wake_expiry.notify_one();
    }
}

#[async_trait]
impl Registry for MemoryRegistry {
    /// Takes the new options; fails with [`Error::Invalid`] (keeping the old ones) if they ask
    /// for a different [`MemoryOptions::watch_buffer`], which the live channel cannot change.
    async fn init(&self, options: Options) -> Result<()> {
        if watch_buffer(&options) != self.shared.watch_buffer {
            return Err(Error::invalid(
                Field::MemoryWatchBuffer,
                "cannot change on a running registry; build a new one",
            ));
        }
        self.shared.lock().options = options;
        Ok(())
    }

    fn options(&self) -> Options {
        self.shared.lock().options.clone()
    }

    async fn register(&self, service: &Service, options: RegisterOptions) -> Result<()> {
        validate::registration(service)?;
        let now = Instant::now();
        let expires_at = options.ttl.map(|ttl| expiry_of(now, ttl)).transpose()?;
        let mut state = self.shared.lock_current();
        let events = state.store.register(service, expires_at);
        self.shared.publish(events);
        if expires_at.is_some() {
            self.ensure_expiry_task(&mut state);
            self.shared.wake_expiry.notify_one();
        }
        Ok(())
    }

    async fn deregister(&self, service: &Service, _options: DeregisterOptions) -> Result<()> {
        validate::registration(service)?;
        let mut state = self.shared.lock_current();
        let events = state.store.deregister(service);
        self.shared.publish(events);
        Ok(())
    }

    async fn get_service(&self, name: &str, _options: QueryOptions) -> Result<Vec<Service>> {
        validate::service_name(name)?;
        self.shared
            .lock_current()
            .store
            .get(name)
            .ok_or(Error::NotFound)
    }

    async fn list_services(&self, _options: QueryOptions) -> Result<Vec<Service>> {
        Ok(self.shared.lock_current().store.list())
    }

    async fn watch(&self, options: WatchOptions) -> Result<Box<dyn Watcher>> {
        if let Some(name) = &options.service {
            validate::service_name(name)?;
        }
        let receiver = self.shared.events.subscribe();
        Ok(Box::new(MemoryWatcher::new(receiver, options.service)))
    }

    fn name(&self) -> &'static str {
        "memory"
    }
}

/// The watch buffer `options` ask for, clamped to what the channel accepts.
fn watch_buffer(options: &Options) -> usize {
    let asked = options
        .extensions
        .get::<MemoryOptions>()
        .copied()
        .unwrap_or_default()
        .watch_buffer;
    asked.clamp(1, MemoryOptions::MAX_WATCH_BUFFER)
}

/// When a node registered at `now` with `ttl` expires; the TTL is checked first.
fn expiry_of(now: Instant, ttl: Duration) -> Result<Instant> {
    validate::ttl(ttl)?;
    now.checked_add(ttl).ok_or_else(|| {
        Error::invalid(
            Field::Ttl,
            "ends beyond what this system's clock can represent",
        )
    })
}
