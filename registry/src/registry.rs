//! The `Registry` trait every backend implements, and its `Watcher`.
//!
//! Kept as small as go-micro's interface: backend knobs live in the backends' own option types.

use async_trait::async_trait;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::model::Service;
use crate::options::{DeregisterOptions, Options, QueryOptions, RegisterOptions, WatchOptions};

/// A service registry: go-micro's `registry.Registry`, async.
///
/// Every method may be called concurrently from many tasks.
#[async_trait]
pub trait Registry: Send + Sync {
    /// Applies new options to a running registry (go-micro's `Init`). Backends that cannot
    /// change a setting live say so with [`crate::Error::Invalid`] and keep the old one.
    async fn init(&self, options: Options) -> Result<()>;

    /// The options in force.
    fn options(&self) -> Options;

    /// Registers every node of `service` (adding to, or refreshing, what is there).
    async fn register(&self, service: &Service, options: RegisterOptions) -> Result<()>;

    /// Removes every node of `service` that is listed in it; other nodes stay.
    async fn deregister(&self, service: &Service, options: DeregisterOptions) -> Result<()>;

    /// Every version of the named service, nodes merged per version.
    /// [`crate::Error::NotFound`] when no node of it is known.
    async fn get_service(&self, name: &str, options: QueryOptions) -> Result<Vec<Service>>;

    /// Every known service version, as [`Service::listing`]: name, version and the version's
    /// metadata, without endpoints or nodes (go-micro's mDNS registry lists names alone; its
    /// other backends vary, so portable go-micro code reads a service's nodes with
    /// `GetService`, as it must here). Sorted by name, then version; an empty list when there
    /// are none. It costs what it returns: with 10,000 nodes known, a listing of every node
    /// was a copy of all of them.
    async fn list_services(&self, options: QueryOptions) -> Result<Vec<Service>>;

    /// Follows changes from now on.
    async fn watch(&self, options: WatchOptions) -> Result<Box<dyn Watcher>>;

    /// The backend's name: `"memory"`, `"mdns"`, `"etcd"`.
    fn name(&self) -> &'static str;
}

/// A stream of registry changes (go-micro's `registry.Watcher`).
#[async_trait]
pub trait Watcher: Send {
    /// Waits for the next event.
    ///
    /// Errors: [`crate::Error::WatcherStopped`] after [`Watcher::stop`] (or when the registry
    /// shut down), for ever after; [`crate::Error::Lagged`] once when events were lost because
    /// the consumer fell behind — resync, then keep calling `next`.
    async fn next(&mut self) -> Result<Event>;

    /// Stops the watcher; pending and future `next` calls return `WatcherStopped`.
    fn stop(&mut self);
}

/// `watcher` as a [`futures::Stream`], for consumers built on streams (a WebSocket forwarding
/// events, `StreamExt` combinators).
///
/// Every event is an item, and so is every other error ([`Error::Lagged`]: resync and keep
/// reading; a network backend's transient errors). [`Error::WatcherStopped`] is not an item:
/// the stream ends there. Dropping the stream drops, and so stops, the watcher.
pub fn into_stream(
    watcher: Box<dyn Watcher>,
) -> impl futures::Stream<Item = Result<Event>> + Send + 'static {
    futures::stream::unfold(watcher, |mut watcher| async move {
        match watcher.next().await {
            Err(Error::WatcherStopped) => None,
            item => Some((item, watcher)),
        }
    })
}
