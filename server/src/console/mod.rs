//! The console hub: the live view of the registry, its numbered events, and the actions.
//!
//! - [`view`]: the view and its event sequence, as plain data (no I/O, no clock).
//! - [`sync`]: the task that follows the registry's watcher, and resyncs when it lagged.
//! - [`ticker`]: time passing: tombstones purged, refreshes missed, backend timings read, and
//!   this console's own registrations refreshed before their TTL; it sleeps until the next of
//!   them is due, and each wake costs what came due, not what the view holds.
//! - [`probe`]: the health sweep: `Debug.Health` of every mucp node (a TCP connect for the
//!   others), bounded and jittered; [`schedule`]: when each node's check is due (plain data).
//! - [`owned`]: the registrations this console keeps (persisted, re-announced at start).
//! - [`pending`]: an action's claim or intent in the view, undone when the action fails.
//! - [`frames`]: the snapshot frame shared by every watcher of a revision, and the bytes of
//!   event frames in flight.
//! - [`budget`]: the byte bounds of what the network and the viewers make the console hold.
//! - [`tombstones`]: the bounded store of departed nodes, oldest dropped first.
//! - [`deadlines`]: when each live node turns stale unless heard from (a queue, not a sweep).
//! - [`summaries`]: one summary per service name, recounted only where the view changed.
//! - [`dedupe`]: one node per service version and address (a repeated register refreshes).
//! - [`endpoints`]: a version's endpoints settled from its nodes' records.
//! - [`follow`]: following the hub's events in order, starting again after a lag (the watch
//!   websocket and the DNS-SD bridge).
//! - [`ui`]: the app's `Console` (what pages and server functions ask), over the hub, the
//!   access rules and the LAN view.
//!
//! The view sits behind one mutex that is never held across an `.await`; events are broadcast
//! while it is held, so a websocket that subscribes under the same lock gets every event after
//! its snapshot exactly once, in order. Register and deregister are serialised by the
//! owned-registrations lock, which is held across the registry call and the state-file write,
//! so the file always matches what was done; evict takes it for its checks only (it writes no
//! file, and its network wait would stall the ticker's refreshes).

pub mod budget;
pub mod deadlines;
pub mod dedupe;
pub mod endpoints;
pub mod follow;
pub mod frames;
pub mod owned;
pub mod pending;
pub mod probe;
pub mod schedule;
pub mod shared;
pub mod summaries;
pub mod sync;
pub mod ticker;
pub mod tombstones;
pub mod ui;
pub mod view;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use app::bulk::{BulkEvictResponse, KeptNode, ListedNode, MAX_BULK_NODES};
use app::wire::{
    ConsoleEvent, EvictResponse, Indexed, NodeState, RegisterRequest, ServiceSummary, ServiceView,
    UnixMillis, WatchMessage,
};
use muster_registry::clock::unix_ms_now;
use muster_registry::{validate, DeregisterOptions, RegisterOptions, Registry, Service};
use tokio::sync::{broadcast, watch};

use crate::backend::Backend;
use crate::error::Error;
use crate::heap;
use crate::persist::StateStore;

use self::frames::{Held, InFlight, LatestSnapshot, SnapshotFrame};
use self::owned::Owned;
use self::pending::{Claim, Intent};
use self::view::{Holding, Removal, Ttl, View};

/// Evictions of one bulk request waiting on the network at once (an mDNS evict listens for
/// the owner's answer for a few hundred ms).
const EVICTS_AT_ONCE: usize = 8;

/// Events a websocket client may fall behind before it counts as lagging (and gets a
/// snapshot). The channel holds one shared frame per event whatever the number of clients
/// (about 1 KiB each: a few MiB in all), while a resync costs a copy and a serialization of
/// the whole view per client: with 256, a 10,000-node burst watched by 100 clients turned
/// into a storm of snapshots (end-to-end bench).
const BROADCAST_CAPACITY: usize = 4096;

/// One event as broadcast to the websockets: serialized once, however many clients watch.
/// (Broadcasting the event itself cost every client a deep clone and its own serialization:
/// with 100 clients the end-to-end bench's console fell behind a 500/s burst.)
#[derive(Debug, Clone)]
pub struct EventFrame {
    /// The event's sequence number.
    pub seq: u64,
    /// `WatchMessage::Event` as JSON text.
    pub json: Arc<str>,
    /// The event itself, for in-process followers (the DNS-SD bridge); shared, not copied.
    pub event: Arc<ConsoleEvent>,
    /// Its bytes, counted in the hub's frames in flight until every receiver read it.
    pub held: Arc<Held>,
}

/// What a websocket client is sent first ([`Hub::watch`]).
pub enum First {
    /// The events it missed, or a heartbeat when it missed none.
    Messages(Vec<WatchMessage>),
    /// The shared snapshot frame (to be preceded by its `Loading` message), then the events
    /// since it (none when it is of the current revision).
    Snapshot(Arc<SnapshotFrame>, Vec<WatchMessage>),
}

/// How many events a shared snapshot frame may be behind and still be sent, followed by
/// them, instead of building a new one. Under churn every watcher that fell behind asked for
/// a snapshot of a different revision, and each built its own in turn (100–200 ms apiece for
/// 10,000 nodes): the last of fifty waited seconds. Within the replay ring's reach, the latest
/// frame and a few hundred events are the same view for a fraction of the cost.
const SNAPSHOT_REUSE_EVENTS: u64 = 512;

/// A watcher's place under `--max-watchers`, given back when dropped.
pub struct WatcherSlot(Arc<Hub>);

impl Drop for WatcherSlot {
    fn drop(&mut self) {
        if self.0.watchers.fetch_sub(1, Ordering::Relaxed) == 1 {
            // The last watcher left: the snapshot frame's memory is returned. (Skipped if a
            // new watcher is building one right now: that one replaces it.)
            self.0.snapshot.expire(0, true);
        }
    }
}

/// What the console holds and dropped for its viewers, for `GET /api/stats`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HubStats {
    /// Tombstones and the replay ring.
    #[serde(flatten)]
    pub view: Holding,
    /// Websocket watchers connected now.
    pub watchers: usize,
    /// Watchers refused because `--max-watchers` were connected.
    pub watchers_refused: u64,
    /// Bytes of event frames some watcher has not read yet.
    pub frame_bytes_in_flight: usize,
    /// Watchers that fell behind while frames in flight were over budget, and were sent a
    /// snapshot instead of the frames they missed.
    pub watchers_resynced: u64,
    /// Snapshot frames serialized.
    pub snapshots_built: u64,
    /// Snapshot frames sent again to another watcher: of the same revision, or of one a few
    /// hundred events back, followed by those events.
    pub snapshots_shared: u64,
    /// Bytes of the latest snapshot frame, kept a few seconds for the next watchers (0: none).
    pub snapshot_frame_bytes: usize,
    /// Times the ticker woke (it sleeps until something is due: idle, this stays put).
    pub ticker_wakes: u64,
    /// Times freed heap memory was given back to the system after a burst.
    pub heap_trims: u64,
    /// What the allocator holds (absent where it cannot say).
    #[serde(flatten)]
    pub heap: Option<heap::Usage>,
}

/// `WatchMessage::Event` serialized from a borrowed event (the same JSON: the enum is tagged by
/// `type`), so broadcasting does not deep-copy the event first.
#[derive(serde::Serialize)]
struct EventMessage<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    event: &'a ConsoleEvent,
}

impl<'a> EventMessage<'a> {
    fn new(event: &'a ConsoleEvent) -> Self {
        EventMessage {
            kind: "event",
            event,
        }
    }
}

/// Timing settings of the hub.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Tombstones are dropped this long after the node left.
    pub tombstone_ttl: Duration,
    /// Time between reachability sweeps; zero: no probing.
    pub probe_interval: Duration,
    /// Time between websocket heartbeats.
    pub heartbeat_interval: Duration,
    /// Websocket watchers served at once (`--max-watchers`); more are refused with a 503.
    pub max_watchers: usize,
}

/// The console: view, events, actions. Who may act ([`crate::auth`]) and what the LAN shows
/// ([`crate::dnssd`]) are the app state's, beside it: the hub keeps only the registry's view.
pub struct Hub {
    backend: Backend,
    registry: Arc<dyn Registry>,
    view: Mutex<View>,
    events: broadcast::Sender<EventFrame>,
    owned: tokio::sync::Mutex<Owned>,
    settings: Settings,
    shutdown: watch::Sender<bool>,
    /// The snapshot frame of the latest revision sent, for a few seconds after it was last
    /// sent: a burst of pages opening (or reconnecting after a restart) serializes it once.
    snapshot: LatestSnapshot,
    frames_in_flight: Arc<InFlight>,
    /// When the ticker wakes next, and how to wake it sooner.
    wake: ticker::Wake,
    watchers: AtomicUsize,
    watchers_refused: AtomicU64,
    watchers_resynced: AtomicU64,
    snapshots_built: AtomicU64,
    snapshots_shared: AtomicU64,
}

impl Hub {
    /// Builds the hub, loads and re-registers the persisted registrations, loads `seed`
    /// (foreign registrations, memory backend), and starts the follower, ticker and probe tasks.
    pub async fn start(
        backend: Backend,
        store: StateStore,
        settings: Settings,
        seed: Vec<RegisterRequest>,
    ) -> Result<Arc<Hub>, String> {
        let saved = store.load()?;
        let (events, _) = broadcast::channel(BROADCAST_CAPACITY);
        let hub = Arc::new(Hub {
            registry: backend.registry(),
            backend,
            view: Mutex::new(View::new(unix_ms_now())),
            events,
            owned: tokio::sync::Mutex::new(Owned::new(store)),
            settings,
            shutdown: watch::channel(false).0,
            snapshot: LatestSnapshot::default(),
            frames_in_flight: Arc::default(),
            wake: ticker::Wake::default(),
            watchers: AtomicUsize::new(0),
            watchers_refused: AtomicU64::new(0),
            watchers_resynced: AtomicU64::new(0),
            snapshots_built: AtomicU64::new(0),
            snapshots_shared: AtomicU64::new(0),
        });
        for request in seed {
            hub.register_foreign(&request)
                .await
                .map_err(|error| format!("seed {}: {error}", request.service.name))?;
        }
        let restored = hub.owned.lock().await.restore(saved, &hub).await;
        if restored > 0 {
            tracing::info!("re-registered {restored} node(s) kept by this console");
        }
        // Follow first, then load, so nothing that happens in between is missed.
        let watcher = hub
            .registry
            .watch(Default::default())
            .await
            .map_err(|error| format!("cannot watch the registry: {error}"))?;
        hub.resync().await;
        tokio::spawn(sync::follow(hub.clone(), watcher));
        tokio::spawn(ticker::run(hub.clone()));
        if !settings.probe_interval.is_zero() {
            probe::spawn(hub.clone());
        }
        Ok(hub)
    }

    /// The embedded registry.
    pub fn registry(&self) -> Arc<dyn Registry> {
        self.registry.clone()
    }

    /// The embedded backend, for what only some backends can say (`/readyz`, its own stats).
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The timing settings.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Resolves when the console is shutting down (for long-lived connections).
    pub fn shutdown_signal(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    /// Starts the shutdown: websockets close, background tasks stop.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// Stops the backend (mDNS goodbyes for this console's nodes). The registrations stay in
    /// the state file and are re-announced at the next start.
    pub async fn stop(&self) {
        self.begin_shutdown();
        self.backend.shutdown().await;
    }

    /// Runs `change` on the view and broadcasts the events it returns, under the view lock.
    pub fn commit(&self, change: impl FnOnce(&mut View, UnixMillis) -> Vec<ConsoleEvent>) {
        let mut view = self.lock_view();
        let now = unix_ms_now();
        let events = change(&mut view, now);
        // The change may have queued something sooner than the ticker sleeps (a short TTL,
        // a first tombstone): the queues' heads say, without a walk.
        if let Some(at) = view.next_due(self.settings.tombstone_ttl) {
            self.wake.due_at(at);
        }
        if !events.is_empty() {
            self.wake.events_at(view.seq(), now);
        }
        for event in events {
            tracing::debug!(seq = event.seq, action = %event.action, service = %event.service.name, "console event");
            if self.events.receiver_count() == 0 {
                continue;
            }
            let event = Arc::new(event);
            let json = serde_json::to_string(&EventMessage::new(&event))
                .expect("an event is plain data with string keys");
            let bytes = json.len() + budget::service_view(&event.service);
            let _ = self.events.send(EventFrame {
                seq: event.seq,
                json: json.into(),
                event,
                held: Held::new(bytes, &self.frames_in_flight),
            });
        }
    }

    /// A receiver of the events after `since`, and what the client needs first: the missed
    /// events when the ring still has them (or a heartbeat acknowledging `since` when none
    /// were missed), else a snapshot. Returns the sequence number the client is at after those.
    pub fn subscribe(
        &self,
        since: Option<u64>,
    ) -> (broadcast::Receiver<EventFrame>, Vec<WatchMessage>, u64) {
        let view = self.lock_view();
        let receiver = self.events.subscribe();
        let seq = view.seq();
        let first = replay(&view, since).unwrap_or_else(|| {
            vec![WatchMessage::Snapshot {
                seq,
                services: view.services(),
                recent: view.recent(),
            }]
        });
        (receiver, first, seq)
    }

    /// [`Hub::subscribe`] for a websocket client: a snapshot comes as the frame shared by
    /// every client of the same revision, serialized once (off the async workers) while the
    /// others wait for it.
    pub async fn watch(&self, since: Option<u64>) -> (broadcast::Receiver<EventFrame>, First, u64) {
        let mut shared = self.snapshot.lock().await;
        let (receiver, seq, services, recent) = {
            let view = self.lock_view();
            let receiver = self.events.subscribe();
            let seq = view.seq();
            if let Some(messages) = replay(&view, since) {
                return (receiver, First::Messages(messages), seq);
            }
            let recent = shared
                .as_ref()
                .filter(|frame| seq - frame.seq.min(seq) <= SNAPSHOT_REUSE_EVENTS)
                .and_then(|frame| Some((frame, view.events_since(frame.seq)?)));
            if let Some((frame, since)) = recent {
                self.snapshots_shared.fetch_add(1, Ordering::Relaxed);
                self.snapshot.used(frame, unix_ms_now());
                let since = since.into_iter().map(WatchMessage::Event).collect();
                return (receiver, First::Snapshot(frame.clone(), since), seq);
            }
            (receiver, seq, view.shared_versions(), view.recent())
        };
        let frame = tokio::task::spawn_blocking(move || SnapshotFrame::new(seq, services, recent))
            .await
            .expect("serializing a snapshot does not panic");
        let frame = Arc::new(frame);
        self.snapshots_built.fetch_add(1, Ordering::Relaxed);
        *shared = Some(frame.clone());
        self.snapshot.used(&frame, unix_ms_now());
        drop(shared);
        if let Some(at) = self.snapshot.expires_at() {
            self.wake.due_at(at);
        }
        (receiver, First::Snapshot(frame, Vec::new()), seq)
    }

    /// A place for one more websocket watcher, or `None` when `--max-watchers` are connected.
    pub fn admit_watcher(self: &Arc<Self>) -> Option<WatcherSlot> {
        let admitted = self
            .watchers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |count| {
                (count < self.settings.max_watchers).then_some(count + 1)
            })
            .is_ok();
        if !admitted {
            self.watchers_refused.fetch_add(1, Ordering::Relaxed);
        }
        admitted.then(|| WatcherSlot(self.clone()))
    }

    /// Whether event frames in flight are past their budget: then a watcher that is behind
    /// should drop its place and take a snapshot (counted).
    pub fn frames_over_budget(&self) -> bool {
        self.frames_in_flight.bytes() > budget::MAX_FRAME_BYTES
    }

    /// Counts a watcher resynced because frames in flight were over budget.
    pub fn count_resync(&self) {
        self.watchers_resynced.fetch_add(1, Ordering::Relaxed);
    }

    /// What the console holds and dropped for its viewers.
    pub fn stats(&self) -> HubStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        HubStats {
            view: self.lock_view().holding(),
            watchers: self.watchers.load(Ordering::Relaxed),
            watchers_refused: load(&self.watchers_refused),
            frame_bytes_in_flight: self.frames_in_flight.bytes(),
            watchers_resynced: load(&self.watchers_resynced),
            snapshots_built: load(&self.snapshots_built),
            snapshots_shared: load(&self.snapshots_shared),
            snapshot_frame_bytes: self.snapshot.bytes(),
            ticker_wakes: self.wake.count(),
            heap_trims: self.wake.trims(),
            heap: heap::usage(),
        }
    }

    /// The events still held (the replay ring), oldest first, that `keep` keeps.
    pub fn events_matching(&self, keep: impl Fn(&ConsoleEvent) -> bool) -> Vec<ConsoleEvent> {
        self.lock_view()
            .events()
            .filter(|event| keep(event))
            .cloned()
            .collect()
    }

    /// The versions of `name` (tombstones included).
    pub fn service(&self, name: &str) -> Vec<ServiceView> {
        self.lock_view().service(name)
    }

    /// One summary per service name, sorted by name, without copying any node.
    pub fn summaries(&self) -> Vec<ServiceSummary> {
        self.lock_view().summaries()
    }

    /// Reads the summaries with their search texts, sorted by name, under the view's lock.
    pub fn read_index<R>(&self, read: impl FnOnce(&mut dyn Iterator<Item = &Indexed>) -> R) -> R {
        self.lock_view().read_index(read)
    }

    /// The whole view (tombstones included) and the sequence number it is at.
    pub fn snapshot(&self) -> (u64, Vec<ServiceView>) {
        let view = self.lock_view();
        (view.seq(), view.services())
    }

    /// Validates and registers `request`; this console owns the nodes from now on.
    pub async fn register(&self, mut request: RegisterRequest) -> Result<Vec<ServiceView>, Error> {
        let ttl = check_registration(&request)?;
        let mut owned = self.owned.lock().await;
        let claim = {
            let mut view = self.lock_view();
            let known = view.service(&request.service.name);
            dedupe::by_address(&mut request.service, &known)?;
            for node in &request.service.nodes {
                if view
                    .find(&request.service.name, &node.id)
                    .iter()
                    .any(|found| !found.owned)
                {
                    return Err(Error::Conflict(format!(
                        "node {} of {} is registered by another process; pick another id",
                        node.id, request.service.name
                    )));
                }
            }
            Claim::take(self, &mut view, &request.service)
        };
        self.registry
            .register(&request.service, RegisterOptions { ttl })
            .await?;
        if let Err(error) = owned.add(&request).await {
            let _ = self
                .registry
                .deregister(&request.service, DeregisterOptions::default())
                .await;
            return Err(error);
        }
        claim.settle(|view, now| view.upsert(&request.service, Some(true), Ttl::Set(ttl), now));
        // Its refresh may come before the ticker's next wake; a node without a TTL is never
        // refreshed, and waking for it would wake an idle console for nothing.
        if ttl.is_some() {
            self.wake.nudge();
        }
        Ok(self.service(&request.service.name))
    }

    /// Deregisters a node this console registered (a goodbye on mDNS); `actor` asked.
    pub async fn deregister(&self, name: &str, node_id: &str, actor: &str) -> Result<(), Error> {
        let mut owned = self.owned.lock().await;
        let (service, intent) = {
            let mut view = self.lock_view();
            let Some(service) = owned.get(name, node_id) else {
                return Err(if view.find(name, node_id).is_empty() {
                    not_found(&view, name, node_id)
                } else {
                    Error::Conflict(format!(
                        "node {node_id} of {name} was not registered by this console: evict it instead"
                    ))
                });
            };
            let removal = Removal {
                state: NodeState::Deregistered,
                actor: actor.to_string(),
            };
            let intent = Intent::take(self, &mut view, name, node_id, removal);
            (service, intent)
        };
        self.registry
            .deregister(&service, DeregisterOptions::default())
            .await?;
        owned.remove(name, node_id).await?;
        intent.depart(&service.version, true);
        Ok(())
    }

    /// Sends a goodbye on behalf of a node another process registered. The owned lock is
    /// held for the checks only, not while the backend waits on the network (an mDNS evict
    /// listens for the owner's answer): the ticker's refreshes go on meanwhile. `actor` asked.
    pub async fn evict(
        &self,
        name: &str,
        node_id: &str,
        actor: &str,
    ) -> Result<EvictResponse, Error> {
        let (target, intent) = {
            let _owned = self.owned.lock().await;
            let mut view = self.lock_view();
            let found = view.find(name, node_id);
            let Some(target) = found.into_iter().next() else {
                return Err(not_found(&view, name, node_id));
            };
            if target.owned {
                return Err(Error::Conflict(format!(
                    "node {node_id} of {name} is registered by this console: deregister it instead"
                )));
            }
            let removal = Removal {
                state: NodeState::Evicted,
                actor: actor.to_string(),
            };
            let intent = Intent::take(self, &mut view, name, node_id, removal);
            (target, intent)
        };
        let outcome = self.backend.evict(&target.service, node_id).await?;
        if outcome.reappeared {
            drop(intent);
        } else {
            intent.depart(&target.service.version, false);
        }
        let message = match (outcome.goodbye_sent, outcome.reappeared) {
            (true, true) => format!(
                "goodbye sent for {node_id}, but its owner answered again: the node is alive"
            ),
            (true, false) => format!(
                "goodbye sent for {node_id}: go-micro watchers dropped it, and its owner did not answer"
            ),
            (false, _) => format!("{node_id} removed from the {} registry", self.backend.name()),
        };
        Ok(EvictResponse {
            message,
            reappeared: outcome.reappeared,
        })
    }

    /// Evicts the listed nodes that are still stale, foreign and at the listed address now —
    /// not whatever is stale at this moment: a node that came back since the operator saw the
    /// list is kept. At most [`EVICTS_AT_ONCE`] evictions wait on the network at a time.
    pub async fn evict_listed(
        &self,
        listed: Vec<ListedNode>,
        actor: &str,
    ) -> Result<BulkEvictResponse, Error> {
        use futures::stream::{self, StreamExt};
        if listed.len() > MAX_BULK_NODES {
            return Err(Error::invalid(format!(
                "at most {MAX_BULK_NODES} nodes at once ({} listed)",
                listed.len()
            )));
        }
        let outcomes: Vec<(ListedNode, Result<(), String>)> = stream::iter(listed)
            .map(|node| async move {
                let outcome = match self.still_stale(&node) {
                    Err(reason) => Err(reason),
                    Ok(()) => self
                        .evict(&node.service, &node.node, actor)
                        .await
                        .map_err(|error| error.to_string())
                        .and_then(|answer| {
                            if answer.reappeared {
                                Err("its owner answered again: alive".to_string())
                            } else {
                                Ok(())
                            }
                        }),
                };
                (node, outcome)
            })
            .buffered(EVICTS_AT_ONCE)
            .collect()
            .await;
        let mut answer = BulkEvictResponse::default();
        for (node, outcome) in outcomes {
            match outcome {
                Ok(()) => answer.evicted.push(node),
                Err(reason) => answer.kept.push(KeptNode { node, reason }),
            }
        }
        Ok(answer)
    }

    /// Whether a listed node is still the stale foreign node the operator saw; why not.
    fn still_stale(&self, listed: &ListedNode) -> Result<(), String> {
        let view = self.lock_view();
        let Some(node) = view.node(&listed.service, &listed.version, &listed.node) else {
            return Err("gone already".into());
        };
        if node.node.address != listed.address {
            return Err(format!(
                "now at {}: another registration",
                node.node.address
            ));
        }
        if node.owned {
            return Err("registered by this console: deregister it instead".into());
        }
        match node.state {
            NodeState::Stale => Ok(()),
            NodeState::Alive => Err("alive again".into()),
            state => Err(format!("{} already", state.as_str())),
        }
    }

    /// Re-reads the whole registry and turns the differences with the view into events (at
    /// start, and after the watcher lagged).
    pub async fn resync(&self) {
        let services = match sync::read_all(self.registry.as_ref()).await {
            Ok(services) => services,
            Err(error) => {
                tracing::warn!("registry resync failed: {error}");
                return;
            }
        };
        self.commit(|view, now| sync::diff(view, &services, now));
        // Every node's timing (no mark): the resync rebuilt the view from scratch.
        if let Some((timings, _)) = self.backend.timings(None).await {
            self.commit(|view, now| view.apply_timings(&timings, now));
        }
    }

    /// Registers a node as if another process had (memory backend seeds).
    async fn register_foreign(&self, request: &RegisterRequest) -> Result<(), Error> {
        let ttl = check_registration(request)?;
        self.registry
            .register(&request.service, RegisterOptions { ttl })
            .await?;
        self.commit(|view, now| view.upsert(&request.service, Some(false), Ttl::Set(ttl), now));
        Ok(())
    }

    fn lock_view(&self) -> MutexGuard<'_, View> {
        self.view.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// No live node `node_id` of `name`: which of the two is missing.
fn not_found(view: &View, name: &str, node_id: &str) -> Error {
    if view.has_service(name) {
        Error::NotFound(format!("no live node {node_id} in service {name}"))
    } else {
        Error::NotFound(format!("no service {name}"))
    }
}

/// The events after `since` when the ring still holds them (a heartbeat when there are none);
/// `None` when the client needs a snapshot.
fn replay(view: &View, since: Option<u64>) -> Option<Vec<WatchMessage>> {
    let events = view.events_since(since?)?;
    Some(if events.is_empty() {
        vec![WatchMessage::Heartbeat { seq: view.seq() }]
    } else {
        events.into_iter().map(WatchMessage::Event).collect()
    })
}

/// The registration's checks beyond JSON shape: go-micro's bounds and the TTL.
fn check_registration(request: &RegisterRequest) -> Result<Option<Duration>, Error> {
    let ttl = request.ttl.map(Duration::from_secs);
    validate::registration_with_ttl(&request.service, ttl)?;
    Ok(ttl)
}

/// A service holding only `node`.
pub fn single(service: &Service, node: &muster_registry::Node) -> Service {
    Service {
        nodes: vec![node.clone()],
        ..service.clone()
    }
}

/// Resolves once the console is shutting down (the guard `wait_for` returns is dropped here,
/// so callers' futures stay `Send`).
pub async fn until_stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_borrowed_event_message_is_the_watch_message_json() {
        let event = ConsoleEvent {
            seq: 7,
            timestamp: 1,
            action: muster_registry::Action::Create,
            service: ServiceView {
                name: "svc".into(),
                ..ServiceView::default()
            },
            purged: false,
            reason: None,
            actor: None,
        };
        let borrowed = serde_json::to_value(EventMessage::new(&event)).unwrap();
        let owned = serde_json::to_value(WatchMessage::Event(event)).unwrap();
        assert_eq!(borrowed, owned);
    }
}
