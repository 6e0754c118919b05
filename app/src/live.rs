//! The live view: the registry as the browser knows it, kept current by the watch websocket.
//!
//! Pages are rendered on the server from only what they show (the services page from one page
//! of summaries, a service page from that service: see their `load_*` server functions), so a
//! registry of 10,000 nodes does not put its whole view into every HTML page. Once hydrated,
//! the browser opens `/api/watch`, which starts with a snapshot of the whole view; from then on
//! pages render from this store, and sequenced events keep it current. A gap in the sequence, a
//! lagging connection or a reconnect after the server forgot our position all end in a fresh
//! snapshot, so the view never silently diverges.

mod catalog;

use std::collections::{BTreeMap, VecDeque};

use leptos::prelude::*;
use muster_registry::Action;

use crate::feed::{now_ms, Connection};
use crate::wire::{ConsoleEvent, ServiceView, WatchMessage};
pub use catalog::Catalog;

/// How many events the event log keeps in the browser.
pub const EVENT_LOG_LEN: usize = 500;

/// A service version's key: (name, version).
pub type Key = (String, String);

/// Services keyed by (name, version).
pub type ServiceMap = BTreeMap<Key, ServiceView>;

/// The live store, provided as context by [`crate::App`]. Cheap to copy.
///
/// Two views of the same data: `view`, the whole map in one signal (pages that summarise
/// every service read it), and `cells`, one signal per service version, so that a page
/// showing one service re-renders only when that service changes. `cells` itself changes
/// only when a version appears or leaves.
#[derive(Clone, Copy)]
pub struct Live {
    /// The whole view and the sequence number it is at; `None` until the websocket's first
    /// snapshot (server-side rendering never has it).
    view: RwSignal<Option<(u64, ServiceMap)>>,
    /// One cell per service version, updated with `view`.
    cells: RwSignal<BTreeMap<Key, ArcRwSignal<ServiceView>>>,
    /// One summary per service name with its search text, updated with `view` (the services
    /// page reads these, not the nodes).
    catalog: RwSignal<Catalog>,
    /// A snapshot was applied: flips once, so pages switch to the store without re-running
    /// on every event.
    loaded: RwSignal<bool>,
    /// Recent events, newest first.
    pub events: RwSignal<VecDeque<ConsoleEvent>>,
    /// The watch connection's state.
    pub connection: RwSignal<Connection>,
    /// The browser's clock, ticking every second once hydrated (TTL countdowns).
    pub now_ms: RwSignal<u64>,
}

impl Live {
    /// Creates the store; call once, in the app root.
    pub fn new() -> Self {
        Live {
            view: RwSignal::new(None),
            cells: RwSignal::new(BTreeMap::new()),
            catalog: RwSignal::new(Catalog::default()),
            loaded: RwSignal::new(false),
            events: RwSignal::new(VecDeque::new()),
            connection: RwSignal::new(Connection::Connecting),
            now_ms: RwSignal::new(now_ms()),
        }
    }

    /// Reads the whole current view, keyed by (name, version), once the websocket delivered
    /// it (tracked: re-runs on every event); `None` until then, when pages show what they
    /// loaded for themselves.
    pub fn with_services<R>(&self, read: impl FnOnce(&ServiceMap) -> R) -> Option<R> {
        self.view
            .with(|view| view.as_ref().map(|(_, map)| read(map)))
    }

    /// Reads the summaries of every service with their search texts, once the websocket
    /// delivered the view (tracked: re-runs on every event); `None` until then.
    pub fn with_catalog<R>(&self, read: impl FnOnce(&Catalog) -> R) -> Option<R> {
        self.catalog
            .with(|catalog| self.loaded.get_untracked().then(|| read(catalog)))
    }

    /// The store holds the whole view (tracked: pages switch over to it when it arrives).
    pub fn has_view(&self) -> bool {
        self.loaded.get()
    }

    /// [`Live::has_view`], without tracking (for code that must not re-run when it flips).
    pub fn has_view_untracked(&self) -> bool {
        self.loaded.get_untracked()
    }

    /// The versions of service `name`, sorted (tracked: changes only when one appears or
    /// leaves, not when one of them or another service changes).
    pub fn versions_of(&self, name: &str) -> Vec<String> {
        self.cells.with(|cells| {
            cells
                .range((name.to_string(), String::new())..)
                .take_while(|((service, _), _)| service == name)
                .map(|((_, version), _)| version.clone())
                .collect()
        })
    }

    /// One service version (tracked: changes only when that version does).
    pub fn service(&self, key: &Key) -> Option<ServiceView> {
        let cell = self.cells.with(|cells| cells.get(key).cloned())?;
        Some(cell.get())
    }

    /// The sequence number the view is at, if the websocket delivered a snapshot yet.
    pub fn seq(&self) -> Option<u64> {
        self.view
            .with_untracked(|view| view.as_ref().map(|(seq, _)| *seq))
    }

    /// Applies one message from the watch socket. Returns `false` when the message does not
    /// follow on from the view (a gap): the caller must reconnect for a fresh snapshot.
    pub fn apply(&self, message: WatchMessage) -> bool {
        match message {
            WatchMessage::Snapshot {
                seq,
                services,
                recent,
            } => {
                let map = index(services);
                self.sync_cells(&map);
                self.catalog.set(Catalog::of(&map));
                self.view.set(Some((seq, map)));
                self.events
                    .set(recent.into_iter().rev().take(EVENT_LOG_LEN).collect());
                if !self.loaded.get_untracked() {
                    self.loaded.set(true);
                }
                self.connection.set(Connection::Live);
                true
            }
            WatchMessage::Loading { services, .. } => {
                self.connection.set(Connection::Loading { services });
                true
            }
            WatchMessage::Heartbeat { .. } => true,
            WatchMessage::Event(event) => {
                let Some(seq) = self.seq() else { return false };
                if event.seq <= seq {
                    return true; // already applied (replayed after a reconnect)
                }
                if event.seq != seq + 1 {
                    return false;
                }
                let key = (event.service.name.clone(), event.service.version.clone());
                let mut changed = None;
                self.view.update(|view| {
                    if let Some((seq, map)) = view {
                        apply_event(map, &event);
                        *seq = event.seq;
                        changed = Some(map.get(&key).cloned());
                        self.catalog
                            .update(|catalog| catalog.refresh(map, &event.service.name));
                    }
                });
                if let Some(service) = changed {
                    self.set_cell(key, service);
                }
                self.events.update(|events| {
                    events.push_front(event);
                    events.truncate(EVENT_LOG_LEN);
                });
                true
            }
        }
    }

    /// Brings the cells in line with a fresh snapshot: versions that changed get the new
    /// value, the others are not touched (a reconnect re-renders nothing that stayed put).
    fn sync_cells(&self, map: &ServiceMap) {
        let gone: Vec<Key> = self.cells.with_untracked(|cells| {
            cells
                .keys()
                .filter(|key| !map.contains_key(*key))
                .cloned()
                .collect()
        });
        for key in gone {
            self.set_cell(key, None);
        }
        for (key, service) in map {
            self.set_cell(key.clone(), Some(service.clone()));
        }
    }

    /// Sets one version's cell (`None`: it left), notifying only if it changed.
    fn set_cell(&self, key: Key, service: Option<ServiceView>) {
        let cell = self.cells.with_untracked(|cells| cells.get(&key).cloned());
        match (cell, service) {
            (Some(cell), Some(service)) => {
                if cell.with_untracked(|known| *known != service) {
                    cell.set(service);
                }
            }
            (None, Some(service)) => self.cells.update(|cells| {
                cells.insert(key, ArcRwSignal::new(service));
            }),
            (Some(_), None) => self.cells.update(|cells| {
                cells.remove(&key);
            }),
            (None, None) => {}
        }
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// Indexes a list of services by (name, version).
pub fn index(services: Vec<ServiceView>) -> ServiceMap {
    services
        .into_iter()
        .map(|service| ((service.name.clone(), service.version.clone()), service))
        .collect()
}

/// Applies one event to the map: upsert the node it carries (tombstones included), or drop it
/// when purged; the version's metadata and endpoints (with the nodes that differ) come with
/// the event and replace ours.
pub fn apply_event(map: &mut ServiceMap, event: &ConsoleEvent) {
    let key = (event.service.name.clone(), event.service.version.clone());
    if event.purged {
        if let Some(service) = map.get_mut(&key) {
            let gone: Vec<&str> = event
                .service
                .nodes
                .iter()
                .map(|n| n.node.id.as_str())
                .collect();
            service
                .nodes
                .retain(|node| !gone.contains(&node.node.id.as_str()));
            if service.nodes.is_empty() {
                map.remove(&key);
            }
        }
        return;
    }
    let service = map.entry(key).or_insert_with(|| ServiceView {
        name: event.service.name.clone(),
        version: event.service.version.clone(),
        ..ServiceView::default()
    });
    if event.action != Action::Delete || !event.service.endpoints.is_empty() {
        service.metadata = event.service.metadata.clone();
        service.endpoints = event.service.endpoints.clone();
        service.endpoints_from = event.service.endpoints_from.clone();
        service.endpoint_outliers = event.service.endpoint_outliers.clone();
    }
    service.last_change = event.service.last_change;
    for node in &event.service.nodes {
        match service
            .nodes
            .iter_mut()
            .find(|known| known.node.id == node.node.id)
        {
            Some(known) => *known = node.clone(),
            None => service.nodes.push(node.clone()),
        }
    }
    service.nodes.sort_by(|a, b| a.node.id.cmp(&b.node.id));
}

/// Browser side: the watch websocket that feeds [`Live`].
#[cfg(feature = "hydrate")]
pub mod socket {
    use std::time::Duration;

    use leptos::prelude::*;

    use super::Live;
    use crate::feed::{now_ms, Feed};
    use crate::wire::WatchMessage;

    /// Starts the clock and the watch connection; runs for the page's lifetime.
    pub fn start(live: Live) {
        let _ = set_interval_with_handle(move || live.now_ms.set(now_ms()), Duration::from_secs(1));
        // Asked at every (re)connect: resume after the last event applied, or get a snapshot.
        let path = move || match live.seq() {
            Some(seq) => format!("/api/watch?since={seq}"),
            None => "/api/watch".to_string(),
        };
        let on_message = move |text: &str| match serde_json::from_str::<WatchMessage>(text) {
            Ok(message) => live.apply(message),
            Err(_) => true,
        };
        let _feed = Feed::open(path, on_message, live.connection)
            .live_on_open(move || live.seq().is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{NodeState, NodeView};
    use muster_registry::Node;

    fn event(seq: u64, action: Action, id: &str, state: NodeState, purged: bool) -> ConsoleEvent {
        ConsoleEvent {
            seq,
            timestamp: seq,
            action,
            purged,
            reason: None,
            actor: None,
            service: ServiceView {
                name: "svc".into(),
                version: "1".into(),
                nodes: vec![NodeView {
                    node: Node {
                        id: id.into(),
                        address: "10.0.0.1:1".into(),
                        ..Node::default()
                    },
                    first_seen: 1,
                    last_seen: seq,
                    expires_at: None,
                    state,
                    owned: false,
                    health: None,
                }],
                ..ServiceView::default()
            },
        }
    }

    /// Signals need an owner: in the workspace build leptos_axum turns on reactive_graph's
    /// `sandboxed-arenas`, where a signal made outside an `Owner` panics.
    fn in_owner(test: impl FnOnce()) {
        Owner::new().with(test)
    }

    #[test]
    fn an_event_reaches_only_what_reads_its_service() {
        in_owner(|| {
            use std::sync::atomic::{AtomicUsize, Ordering};
            use std::sync::Arc;

            let live = Live::new();
            let other = |seq, name: &str| {
                let mut event = event(seq, Action::Create, "x", NodeState::Alive, false);
                event.service.name = name.into();
                event
            };
            assert!(live.apply(WatchMessage::Snapshot {
                seq: 0,
                services: vec![event(0, Action::Create, "a", NodeState::Alive, false).service],
                recent: vec![],
            }));
            assert_eq!(live.connection.get_untracked(), Connection::Live);
            let runs = Arc::new(AtomicUsize::new(0));
            let key = ("svc".to_string(), "1".to_string());
            let shown = Memo::new({
                let runs = runs.clone();
                move |_| {
                    runs.fetch_add(1, Ordering::SeqCst);
                    live.service(&key)
                }
            });
            assert_eq!(shown.get_untracked().unwrap().nodes.len(), 1);
            assert_eq!(runs.load(Ordering::SeqCst), 1);

            // Another service appears, then changes: the page's read of `svc` is not even re-run
            // for the change, and for the appearance it re-runs to the same value.
            assert!(live.apply(WatchMessage::Event(other(1, "elsewhere"))));
            assert!(live.apply(WatchMessage::Event(ConsoleEvent {
                action: Action::Update,
                ..other(2, "elsewhere")
            })));
            let _ = shown.get_untracked();
            assert!(runs.load(Ordering::SeqCst) <= 2);
            let settled = runs.load(Ordering::SeqCst);
            assert!(live.apply(WatchMessage::Event(ConsoleEvent {
                action: Action::Update,
                ..other(3, "elsewhere")
            })));
            let _ = shown.get_untracked();
            assert_eq!(runs.load(Ordering::SeqCst), settled);

            // Its own new node does reach it.
            assert!(live.apply(WatchMessage::Event(event(
                4,
                Action::Create,
                "b",
                NodeState::Alive,
                false
            ))));
            assert_eq!(shown.get_untracked().unwrap().nodes.len(), 2);

            // A fresh snapshot with the same content for `svc` does not touch its cell.
            let before = runs.load(Ordering::SeqCst);
            let same = live.service(&("svc".into(), "1".into())).unwrap();
            assert!(live.apply(WatchMessage::Snapshot {
                seq: 10,
                services: vec![same],
                recent: vec![],
            }));
            let _ = shown.get_untracked();
            assert!(
                runs.load(Ordering::SeqCst) <= before + 1,
                "only the map of versions changed"
            );
        });
    }

    #[test]
    fn the_badge_says_loading_until_the_snapshot_is_applied() {
        in_owner(|| {
            let live = Live::new();
            assert_eq!(live.connection.get_untracked().text(), "connecting");
            live.apply(WatchMessage::Loading {
                services: 40,
                bytes: 1,
            });
            assert_eq!(
                live.connection.get_untracked().text(),
                "loading 40 services…"
            );
            assert!(!live.has_view_untracked());
            live.apply(WatchMessage::Snapshot {
                seq: 1,
                services: vec![],
                recent: vec![],
            });
            assert_eq!(live.connection.get_untracked().text(), "live");
            let offline = Connection::Offline {
                since: 1_764_621_727_000,
            };
            assert_eq!(offline.text(), "offline since 20:42:07 UTC");
            assert!(offline.unavailable_reason().is_some());
        });
    }

    #[test]
    fn events_upsert_tombstone_and_purge_nodes() {
        let mut map = ServiceMap::new();
        apply_event(
            &mut map,
            &event(1, Action::Create, "a", NodeState::Alive, false),
        );
        apply_event(
            &mut map,
            &event(2, Action::Create, "b", NodeState::Alive, false),
        );
        let key = ("svc".to_string(), "1".to_string());
        assert_eq!(map[&key].nodes.len(), 2);

        apply_event(
            &mut map,
            &event(3, Action::Delete, "a", NodeState::Evicted, false),
        );
        let nodes = &map[&key].nodes;
        assert_eq!(nodes.len(), 2, "a tombstone stays visible");
        assert_eq!(nodes[0].state, NodeState::Evicted);

        apply_event(
            &mut map,
            &event(4, Action::Delete, "a", NodeState::Evicted, true),
        );
        assert_eq!(map[&key].nodes.len(), 1);
        apply_event(
            &mut map,
            &event(5, Action::Delete, "b", NodeState::Expired, true),
        );
        assert!(map.is_empty(), "a service without nodes leaves the view");
    }
}
