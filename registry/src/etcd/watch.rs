//! The etcd watcher: every event, exactly once, across dropped connections and etcd restarts.
//!
//! go-micro's etcd watcher returns the first event of each watch response and drops the rest,
//! and dies with its stream. Here one task per watcher owns the etcd watch stream and a [`View`]
//! of every node under the watched prefix, and hands events to the consumer over a bounded
//! channel:
//! - every event of every response becomes at most one registry event, judged against the view:
//!   a put of an unknown key is a `create`, of a known key with a different service an
//!   `update`, of an unchanged one (a refresh, a new lease) nothing; a delete (or a lease
//!   expiry, which etcd reports as a delete) of a known key is a `delete`, decoded from the
//!   previous value;
//! - the task remembers the last revision it applied. When the stream breaks (connection
//!   lost, etcd restarted, leader lost) it opens a new one from the next revision, so etcd
//!   replays exactly what was missed; events at or below the applied revision are skipped;
//! - when that revision was compacted away, etcd cannot replay it: the task reads the prefix
//!   afresh and emits the difference between the view and the store, so the consumer's state
//!   still ends up equal to the store's, with no event twice and no change unreported;
//! - a consumer that does not read blocks the task, which stops reading the stream; etcd keeps
//!   the events (or reports a compaction, handled as above), so a slow consumer loses nothing
//!   and costs bounded memory here.
//!
//! - each event carries what the key's lease says (see [`super::lifetime`]): its TTL and expiry
//!   when the key is first put, and on a delete whether the lease ran out or the key was
//!   removed.
//!
//! Transient failures are logged, not handed to the consumer: it cannot act on them, and the
//! watcher repairs itself.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, EventType, GetOptions, WatchOptions as EtcdWatchOptions, WatchStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};
use crate::event::{Action, Event};
use crate::model::Service;
use crate::registry::Watcher;

use super::call::within;
use super::codec;
use super::lifetime::{Leases, Lookups};

/// Events decoded but not yet read by the consumer. Past this the task waits for the consumer.
const EVENT_BUFFER: usize = 1024;

/// First pause before reconnecting; doubled on each failure up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(50);

/// Longest pause between reconnection attempts: an etcd restart is noticed within this.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What a watcher knows of its prefix: the service stored under each key it follows, as it
/// last told the consumer.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct View {
    nodes: BTreeMap<Vec<u8>, Service>,
    /// Only services of this name, for a watcher of one service.
    only: Option<String>,
}

impl View {
    /// An empty view, keeping services named `only` when given.
    pub(crate) fn new(only: Option<String>) -> Self {
        View {
            nodes: BTreeMap::new(),
            only,
        }
    }

    /// The view of a prefix read: `(key, value)` pairs as etcd returned them.
    pub(crate) fn read<'a>(
        only: Option<String>,
        pairs: impl IntoIterator<Item = (&'a [u8], &'a [u8])>,
    ) -> Self {
        let mut view = View::new(only);
        for (key, value) in pairs {
            if let Some(service) = codec::decode(value, view.only.as_deref()) {
                view.nodes.insert(key.to_vec(), service);
            }
        }
        view
    }

    /// Applies a put of `value` at `key`; the event the consumer must see, if any.
    ///
    /// A value that is not a service (or not of the followed name) makes the key unknown: if it
    /// held a service before, that service is gone for the consumer.
    pub(crate) fn put(&mut self, key: &[u8], value: &[u8]) -> Option<Event> {
        let Some(service) = codec::decode(value, self.only.as_deref()) else {
            return self.delete(key, None);
        };
        let action = match self.nodes.get(key) {
            None => Action::Create,
            Some(known) if *known == service => return None,
            Some(_) => Action::Update,
        };
        self.nodes.insert(key.to_vec(), service.clone());
        Some(event(action, service))
    }

    /// Applies a delete of `key`, whose value before was `previous` when etcd sent it; the
    /// event the consumer must see, if any. A key the consumer never heard of needs none.
    pub(crate) fn delete(&mut self, key: &[u8], previous: Option<&[u8]>) -> Option<Event> {
        let known = self.nodes.remove(key)?;
        let service = previous
            .and_then(|value| codec::decode(value, self.only.as_deref()))
            .unwrap_or(known);
        Some(event(Action::Delete, service))
    }

    /// Replaces the view by `fresh` (a new read of the prefix) and returns the events that take
    /// a consumer from the old state to the new one: deletes first, then creates and updates,
    /// each in key order.
    pub(crate) fn resync(&mut self, fresh: View) -> Vec<Event> {
        let old = std::mem::replace(self, fresh);
        let mut events: Vec<Event> = old
            .nodes
            .iter()
            .filter(|(key, _)| !self.nodes.contains_key(*key))
            .map(|(_, service)| event(Action::Delete, service.clone()))
            .collect();
        for (key, service) in &self.nodes {
            match old.nodes.get(key) {
                None => events.push(event(Action::Create, service.clone())),
                Some(known) if known != service => {
                    events.push(event(Action::Update, service.clone()))
                }
                Some(_) => {}
            }
        }
        events
    }
}

/// A registry event about `service`'s node, stamped now.
fn event(action: Action, service: Service) -> Event {
    let timestamp_ms = crate::clock::unix_ms_now();
    Event {
        id: service
            .nodes
            .first()
            .map(|node| node.id.clone())
            .unwrap_or_default(),
        action,
        timestamp_ms,
        service,
        lifetime: Default::default(),
    }
}

/// Where a watcher's task starts: what to follow and the state it starts from.
pub(crate) struct Start {
    /// The client the task reads with (a clone of the registry's: one connection).
    pub(crate) client: Client,
    /// The watched key prefix.
    pub(crate) prefix: String,
    /// The prefix as read when the watcher was created.
    pub(crate) view: View,
    /// The leases of the keys of that read.
    pub(crate) leases: Leases,
    /// The store revision of that read: the task follows from the next one.
    pub(crate) revision: i64,
    /// How long opening a stream or reading the prefix may take.
    pub(crate) timeout: Duration,
    /// Changes (to closed) when the registry is dropped: the watcher ends with it.
    pub(crate) registry_alive: watch::Receiver<()>,
}

/// A watcher of the etcd registry: the consumer's end of its task's channel.
pub(crate) struct EtcdWatcher {
    /// `None` once stopped.
    events: Option<mpsc::Receiver<Event>>,
    task: JoinHandle<()>,
}

impl EtcdWatcher {
    /// Starts the task following `start.prefix` from `start.revision + 1`.
    pub(crate) fn spawn(start: Start) -> Self {
        let (sender, events) = mpsc::channel(EVENT_BUFFER);
        let mut registry_alive = start.registry_alive.clone();
        let follow = Follower::new(start, sender);
        let task = tokio::spawn(async move {
            tokio::select! {
                () = follow.run() => {}
                // Err: the registry's sender was dropped.
                _ = registry_alive.changed() => {}
            }
        });
        EtcdWatcher {
            events: Some(events),
            task,
        }
    }
}

impl Drop for EtcdWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[async_trait]
impl Watcher for EtcdWatcher {
    /// Cancel-safe: dropping the future loses no event.
    async fn next(&mut self) -> Result<Event> {
        let events = self.events.as_mut().ok_or(Error::WatcherStopped)?;
        match events.recv().await {
            Some(event) => Ok(event),
            None => {
                self.events = None;
                Err(Error::WatcherStopped)
            }
        }
    }

    fn stop(&mut self) {
        self.events = None;
        self.task.abort();
    }
}

/// The task's state: the stream's position and the consumer's view.
struct Follower {
    client: Client,
    prefix: String,
    view: View,
    leases: Leases,
    /// Every change up to this revision has been applied to the view.
    revision: i64,
    timeout: Duration,
    sender: mpsc::Sender<Event>,
}

/// Why a stream stopped being read.
enum Interruption {
    /// The connection or the watch broke: reopen from the next revision.
    Broken,
    /// The next revision was compacted: read the prefix afresh.
    Compacted,
    /// The consumer is gone: the task ends.
    ConsumerGone,
}

impl Follower {
    fn new(start: Start, sender: mpsc::Sender<Event>) -> Self {
        Follower {
            client: start.client,
            prefix: start.prefix,
            view: start.view,
            leases: start.leases,
            revision: start.revision,
            timeout: start.timeout,
            sender,
        }
    }

    /// Follows the prefix until the consumer goes away.
    async fn run(mut self) {
        let mut backoff = MIN_BACKOFF;
        let mut compacted = false;
        loop {
            if compacted {
                match self.resync().await {
                    Ok(true) => compacted = false,
                    Ok(false) => return,
                    Err(error) => {
                        tracing::warn!(%error, prefix = %self.prefix, "etcd watch resync failed; retrying");
                        backoff = pause(backoff).await;
                        continue;
                    }
                }
            }
            let stream = match self.open().await {
                Ok(stream) => stream,
                Err(error) => {
                    tracing::debug!(%error, prefix = %self.prefix, "etcd watch not open; retrying");
                    backoff = pause(backoff).await;
                    continue;
                }
            };
            let before = self.revision;
            match self.follow(stream).await {
                Interruption::ConsumerGone => return,
                Interruption::Compacted => {
                    tracing::warn!(
                        prefix = %self.prefix,
                        revision = self.revision,
                        "etcd compacted past this watcher's revision; resyncing from a fresh read"
                    );
                    compacted = true;
                }
                Interruption::Broken => {
                    tracing::info!(
                        prefix = %self.prefix,
                        revision = self.revision,
                        "etcd watch interrupted; resuming from the next revision"
                    );
                }
            }
            if self.revision > before {
                backoff = MIN_BACKOFF;
            }
            backoff = pause(backoff).await;
        }
    }

    /// Opens a watch of the prefix from the revision after the last applied one, with previous
    /// values (for deletes) and progress notifications (so an idle watcher's revision keeps up
    /// with the store and a later resume is not needlessly compacted).
    async fn open(&mut self) -> Result<WatchStream> {
        let options = EtcdWatchOptions::new()
            .with_prefix()
            .with_prev_key()
            .with_progress_notify()
            .with_start_revision(self.revision + 1);
        let prefix = self.prefix.clone();
        within(self.timeout, self.client.watch(prefix, Some(options))).await
    }

    /// Reads the stream until it breaks, applying each response.
    async fn follow(&mut self, mut stream: WatchStream) -> Interruption {
        loop {
            let response = match stream.message().await {
                Ok(Some(response)) => response,
                Ok(None) => return Interruption::Broken,
                Err(error) => {
                    tracing::debug!(%error, prefix = %self.prefix, "etcd watch stream failed");
                    return Interruption::Broken;
                }
            };
            if response.compact_revision() > 0 {
                return Interruption::Compacted;
            }
            if response.canceled() {
                tracing::debug!(
                    reason = response.cancel_reason(),
                    "etcd cancelled the watch"
                );
                return Interruption::Broken;
            }
            let mut applied = self.revision;
            let mut lookups = Lookups::new(&self.client, self.timeout);
            for change in response.events() {
                let Some(kv) = change.kv() else { continue };
                // Already applied before a reconnection: etcd replays from the asked revision,
                // so this only guards against a server that sends more.
                if kv.mod_revision() <= self.revision {
                    continue;
                }
                applied = applied.max(kv.mod_revision());
                let event = match change.event_type() {
                    EventType::Put => {
                        self.leases.put(kv.key(), kv.lease());
                        match self.view.put(kv.key(), kv.value()) {
                            Some(mut event) if kv.lease() != 0 => {
                                event.lifetime =
                                    lookups.of_put(kv.lease(), event.timestamp_ms).await;
                                Some(event)
                            }
                            event => event,
                        }
                    }
                    EventType::Delete => {
                        let lease = self.leases.delete(kv.key());
                        match self
                            .view
                            .delete(kv.key(), change.prev_kv().map(|previous| previous.value()))
                        {
                            Some(mut event) => {
                                event.lifetime = lookups.of_delete(lease).await;
                                Some(event)
                            }
                            None => None,
                        }
                    }
                };
                if let Some(event) = event {
                    if self.sender.send(event).await.is_err() {
                        return Interruption::ConsumerGone;
                    }
                }
            }
            // A progress notification (no events, not the creation answer) says every change
            // up to the header's revision has been sent.
            if response.events().is_empty() && !response.created() {
                if let Some(header) = response.header() {
                    applied = applied.max(header.revision());
                }
            }
            self.revision = applied;
        }
    }

    /// Reads the prefix afresh and sends the consumer the difference from its view. `Ok(false)`
    /// when the consumer is gone.
    async fn resync(&mut self) -> Result<bool> {
        let prefix = self.prefix.clone();
        let response = within(
            self.timeout,
            self.client
                .get(prefix, Some(GetOptions::new().with_prefix())),
        )
        .await?;
        let fresh = View::read(
            self.view.only.clone(),
            response.kvs().iter().map(|kv| (kv.key(), kv.value())),
        );
        self.leases = Leases::read(response.kvs().iter().map(|kv| (kv.key(), kv.lease())));
        let revision = response
            .header()
            .map_or(self.revision, |header| header.revision());
        for event in self.view.resync(fresh) {
            if self.sender.send(event).await.is_err() {
                return Ok(false);
            }
        }
        self.revision = revision;
        Ok(true)
    }
}

/// Waits `backoff`, and returns the next one.
async fn pause(backoff: Duration) -> Duration {
    tokio::time::sleep(backoff).await;
    (backoff * 2).min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    fn value(name: &str, id: &str, port: u16) -> Vec<u8> {
        let service = Service {
            name: name.into(),
            version: "1.0.0".into(),
            ..Service::default()
        };
        let node = Node {
            id: id.into(),
            address: format!("127.0.0.1:{port}"),
            ..Node::default()
        };
        codec::encode(&service, &node)
    }

    fn summary(events: &[Event]) -> Vec<(Action, String, String)> {
        events
            .iter()
            .map(|e| (e.action, e.id.clone(), e.service.nodes[0].address.clone()))
            .collect()
    }

    #[test]
    fn puts_and_deletes_become_events_once() {
        let mut view = View::new(None);
        let a1 = value("svc", "a", 1);
        let a2 = value("svc", "a", 2);
        let created = view.put(b"k/a", &a1).unwrap();
        assert_eq!((created.action, created.id.as_str()), (Action::Create, "a"));
        assert_eq!(view.put(b"k/a", &a1), None, "a refresh is silent");
        assert_eq!(view.put(b"k/a", &a2).unwrap().action, Action::Update);
        let deleted = view.delete(b"k/a", Some(&a2)).unwrap();
        assert_eq!(deleted.action, Action::Delete);
        assert_eq!(deleted.service.nodes[0].address, "127.0.0.1:2");
        assert_eq!(view.delete(b"k/a", Some(&a2)), None, "no second delete");
        assert_eq!(view.delete(b"k/never", None), None);
    }

    #[test]
    fn undecodable_values_are_absent() {
        let mut view = View::new(None);
        assert_eq!(view.put(b"k/a", b"garbage"), None);
        view.put(b"k/a", &value("svc", "a", 1)).unwrap();
        assert_eq!(view.put(b"k/a", b"garbage").unwrap().action, Action::Delete);
    }

    #[test]
    fn a_service_watch_keeps_its_name_only() {
        let mut view = View::new(Some("a/b".into()));
        assert_eq!(view.put(b"k/x", &value("a-b", "x", 1)), None);
        assert!(view.put(b"k/y", &value("a/b", "y", 1)).is_some());
    }

    #[test]
    fn resync_emits_the_difference() {
        let mut view = View::new(None);
        view.put(b"k/gone", &value("svc", "gone", 1));
        view.put(b"k/same", &value("svc", "same", 2));
        view.put(b"k/moved", &value("svc", "moved", 3));
        let (moved, new) = (value("svc", "moved", 4), value("svc", "new", 5));
        let same = value("svc", "same", 2);
        let fresh = View::read(
            None,
            [
                (&b"k/moved"[..], &moved[..]),
                (b"k/new", &new[..]),
                (b"k/same", &same[..]),
            ],
        );
        let events = view.resync(fresh.clone());
        assert_eq!(
            summary(&events),
            [
                (Action::Delete, "gone".into(), "127.0.0.1:1".into()),
                (Action::Update, "moved".into(), "127.0.0.1:4".into()),
                (Action::Create, "new".into(), "127.0.0.1:5".into()),
            ]
        );
        assert_eq!(view, fresh);
        assert!(view.resync(fresh).is_empty());
    }
}
