//! The live view: the registry as the browser knows it, kept current by the watch websocket.
//!
//! Pages are rendered on the server from only what they show (the services page from one page
//! of summaries, a service page from that service: see their `load_*` server functions), so a
//! registry of 10,000 nodes does not put its whole view into every HTML page. Once hydrated,
//! the browser opens `/api/watch`, which starts with a snapshot of the whole view; from then on
//! pages render from this store, and sequenced events keep it current. A gap in the sequence, a
//! lagging connection or a reconnect after the server forgot our position all end in a fresh
//! snapshot, so the view never silently diverges.
//!
//! Until that snapshot, a page that loaded its own data seeds the store's cells with it
//! ([`Live::seed`]), so that server render, hydration and the live view all render from the
//! same cells, and the snapshot then changes only what moved meanwhile.

mod catalog;
mod cells;

use std::collections::{BTreeMap, VecDeque};

use leptos::prelude::*;
use muster_registry::Action;

use crate::feed::{now_ms, Connection};
use crate::wire::{ConsoleEvent, NodeView, ServiceView, WatchMessage};
pub use catalog::Catalog;
pub use cells::{attention, count, total, NodeCounts, NodeSlot, Place, VersionCell};

/// How many events the event log keeps in the browser.
pub const EVENT_LOG_LEN: usize = 500;

/// A service version's key: (name, version).
pub type Key = (String, String);

/// Services keyed by (name, version).
pub type ServiceMap = BTreeMap<Key, ServiceView>;

/// The live store, provided as context by [`crate::App`]. Cheap to copy.
///
/// Two views of the same data: `view`, the whole map in one signal (pages that summarise
/// every service read it), and `cells`, one [`VersionCell`] per service version (its head,
/// its counts, its rows and one cell per node), so that a page showing one service re-renders
/// only what an event of that service changed. `cells` itself changes only when a version
/// appears or leaves.
#[derive(Clone, Copy)]
pub struct Live {
    /// The whole view and the sequence number it is at; `None` until the websocket's first
    /// snapshot (server-side rendering never has it).
    view: RwSignal<Option<(u64, ServiceMap)>>,
    /// One cell per service version, updated with `view` (or seeded by a page before it).
    cells: RwSignal<BTreeMap<Key, VersionCell>>,
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

    /// The cells of every version of service `name`, sorted by version (tracked: changes only
    /// when one appears or leaves).
    pub fn version_cells(&self, name: &str) -> Vec<(String, VersionCell)> {
        self.cells.with(|cells| {
            cells
                .range((name.to_string(), String::new())..)
                .take_while(|((service, _), _)| service == name)
                .map(|((_, version), cell)| (version.clone(), cell.clone()))
                .collect()
        })
    }

    /// One node of one version (tracked: changes when that node does, or appears or leaves).
    pub fn node(&self, key: &Key, id: &str) -> Option<NodeView> {
        let cell = self.cells.with(|cells| cells.get(key).cloned())?;
        let node = cell.with_rows(|rows| rows.get(id).map(|slot| slot.node.clone()))?;
        Some(node.get())
    }

    /// Seeds the cells with what a page loaded for itself, before the websocket's snapshot
    /// (a no-op once the store holds the view). Rows rendered from these cells stay when the
    /// snapshot arrives: it updates them in place, and drops what is gone.
    pub fn seed(&self, services: &[ServiceView]) {
        if self.loaded.get_untracked() {
            return;
        }
        for service in services {
            let mut service = service.clone();
            service.nodes.sort_by(|a, b| a.node.id.cmp(&b.node.id));
            let key = (service.name.clone(), service.version.clone());
            self.sync_cell(key, Some(&service), None::<[&str; 0]>);
        }
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
                self.view.update(|view| {
                    if let Some((seq, map)) = view {
                        apply_event(map, &event);
                        *seq = event.seq;
                        self.catalog
                            .update(|catalog| catalog.refresh(map, &event.service.name));
                        // Only the event's nodes changed: the others' cells are not compared.
                        let ids = event.service.nodes.iter().map(|node| node.node.id.as_str());
                        self.sync_cell(key.clone(), map.get(&key), Some(ids));
                    }
                });
                self.events.update(|events| {
                    events.push_front(event);
                    events.truncate(EVENT_LOG_LEN);
                });
                true
            }
        }
    }

    /// Brings the cells in line with a fresh snapshot: what changed gets the new value, the
    /// rest is not touched (a reconnect re-renders nothing that stayed put).
    fn sync_cells(&self, map: &ServiceMap) {
        let gone: Vec<Key> = self.cells.with_untracked(|cells| {
            cells
                .keys()
                .filter(|key| !map.contains_key(*key))
                .cloned()
                .collect()
        });
        for key in gone {
            self.sync_cell(key, None, None::<[&str; 0]>);
        }
        for (key, service) in map {
            self.sync_cell(key.clone(), Some(service), None::<[&str; 0]>);
        }
    }

    /// Brings one version's cells in line with `service` (`None`: it left): all its nodes, or
    /// only those of `ids`. Notifies only what changed.
    fn sync_cell<'a>(
        &self,
        key: Key,
        service: Option<&ServiceView>,
        ids: Option<impl IntoIterator<Item = &'a str>>,
    ) {
        let cell = self.cells.with_untracked(|cells| cells.get(&key).cloned());
        match (cell, service) {
            (Some(cell), Some(service)) => match ids {
                Some(ids) => cell.sync_some(service, ids),
                None => cell.sync(service),
            },
            (None, Some(service)) => self.cells.update(|cells| {
                cells.insert(key, VersionCell::of(service));
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

/// Indexes a list of services by (name, version), each one's nodes sorted by id (the
/// server sends them so; [`apply_event`] and the cells look nodes up by binary search).
pub fn index(services: Vec<ServiceView>) -> ServiceMap {
    services
        .into_iter()
        .map(|mut service| {
            if !service.nodes.is_sorted_by(|a, b| a.node.id <= b.node.id) {
                service.nodes.sort_by(|a, b| a.node.id.cmp(&b.node.id));
            }
            ((service.name.clone(), service.version.clone()), service)
        })
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
    // Kept sorted by id: a binary search, not a scan and a sort of every node per event.
    for node in &event.service.nodes {
        match service
            .nodes
            .binary_search_by(|known| known.node.id.cmp(&node.node.id))
        {
            Ok(at) => service.nodes[at] = node.clone(),
            Err(at) => service.nodes.insert(at, node.clone()),
        }
    }
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
    use crate::wire::NodeState;
    use muster_registry::Node;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

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

    /// Counts the runs of a memo reading `read`, for tests of what an event reaches.
    fn runs_of<T: PartialEq + Send + Sync + 'static>(
        read: impl Fn() -> T + Send + Sync + 'static,
    ) -> (Memo<T>, Arc<AtomicUsize>) {
        let runs = Arc::new(AtomicUsize::new(0));
        let memo = Memo::new({
            let runs = runs.clone();
            move |_| {
                runs.fetch_add(1, Ordering::SeqCst);
                read()
            }
        });
        (memo, runs)
    }

    fn snapshot(seq: u64, services: Vec<ServiceView>) -> WatchMessage {
        WatchMessage::Snapshot {
            seq,
            services,
            recent: vec![],
        }
    }

    /// A version with nodes `ids`, each at its own address.
    fn version_of(ids: &[&str]) -> ServiceView {
        let mut service = event(0, Action::Create, "x", NodeState::Alive, false).service;
        service.nodes = ids
            .iter()
            .enumerate()
            .map(|(at, id)| {
                let mut node = event(0, Action::Create, id, NodeState::Alive, false)
                    .service
                    .nodes[0]
                    .clone();
                node.node.address = format!("10.0.0.1:{}", 1000 + at);
                node
            })
            .collect();
        service
    }

    fn key() -> Key {
        ("svc".to_string(), "1".to_string())
    }

    fn cell(live: &Live) -> VersionCell {
        live.version_cells("svc").remove(0).1
    }

    fn node_cell(cell: &VersionCell, id: &str) -> ArcRwSignal<NodeView> {
        cell.with_rows(|rows| rows[id].node.clone())
    }

    #[test]
    fn an_event_reaches_only_what_reads_its_service() {
        in_owner(|| {
            let live = Live::new();
            let other = |seq, name: &str| {
                let mut event = event(seq, Action::Create, "x", NodeState::Alive, false);
                event.service.name = name.into();
                event
            };
            assert!(live.apply(snapshot(
                0,
                vec![event(0, Action::Create, "a", NodeState::Alive, false).service]
            )));
            assert_eq!(live.connection.get_untracked(), Connection::Live);
            let (versions, version_runs) = runs_of(move || live.version_cells("svc"));
            let (shown, runs) = runs_of(move || live.node(&key(), "a"));
            assert!(shown.get_untracked().is_some());
            assert_eq!(versions.get_untracked().len(), 1);
            assert_eq!(runs.load(Ordering::SeqCst), 1);

            // Another service appears, then changes: the page's reads of `svc` are not even
            // re-run for the change, and for the appearance they re-run to the same value.
            assert!(live.apply(WatchMessage::Event(other(1, "elsewhere"))));
            assert!(live.apply(WatchMessage::Event(ConsoleEvent {
                action: Action::Update,
                ..other(2, "elsewhere")
            })));
            let _ = (shown.get_untracked(), versions.get_untracked());
            assert!(runs.load(Ordering::SeqCst) <= 2);
            let settled = (
                runs.load(Ordering::SeqCst),
                version_runs.load(Ordering::SeqCst),
            );
            assert!(live.apply(WatchMessage::Event(ConsoleEvent {
                action: Action::Update,
                ..other(3, "elsewhere")
            })));
            let _ = (shown.get_untracked(), versions.get_untracked());
            assert_eq!(
                (
                    runs.load(Ordering::SeqCst),
                    version_runs.load(Ordering::SeqCst)
                ),
                settled
            );

            // Its own new node does reach its rows.
            let (rows, _) = runs_of({
                let cell = cell(&live);
                move || cell.with_rows(|rows| rows.keys().cloned().collect::<Vec<_>>())
            });
            assert!(live.apply(WatchMessage::Event(event(
                4,
                Action::Create,
                "b",
                NodeState::Alive,
                false
            ))));
            assert_eq!(rows.get_untracked(), ["a", "b"]);

            // A fresh snapshot with the same content for `svc` does not touch its cells.
            let a = node_cell(&cell(&live), "a");
            let (seen_a, a_runs) = runs_of({
                let a = a.clone();
                move || a.get()
            });
            let _ = seen_a.get_untracked();
            let before = runs.load(Ordering::SeqCst);
            let mut same = version_of(&[]);
            same.nodes = ["a", "b"].map(|id| live.node(&key(), id).unwrap()).to_vec();
            assert!(live.apply(snapshot(10, vec![same])));
            let _ = (shown.get_untracked(), seen_a.get_untracked());
            assert_eq!(a_runs.load(Ordering::SeqCst), 1, "a's cell was not set");
            assert!(
                runs.load(Ordering::SeqCst) <= before + 1,
                "only the map of versions changed (`elsewhere` left)"
            );
            assert_eq!(node_cell(&cell(&live), "a"), a, "the same cell");
        });
    }

    #[test]
    fn an_event_of_one_node_sets_that_node_cell_only() {
        in_owner(|| {
            let live = Live::new();
            assert!(live.apply(snapshot(0, vec![version_of(&["a", "b", "c"])])));
            let cell = cell(&live);
            let (a, b, c) = (
                node_cell(&cell, "a"),
                node_cell(&cell, "b"),
                node_cell(&cell, "c"),
            );
            let (rows, row_runs) = runs_of({
                let cell = cell.clone();
                move || cell.with_rows(|rows| rows.len())
            });
            let (head, head_runs) = runs_of({
                let cell = cell.clone();
                move || cell.head()
            });
            let (counts, count_runs) = runs_of({
                let cell = cell.clone();
                move || cell.counts()
            });
            let (seen_b, b_runs) = runs_of({
                let b = b.clone();
                move || b.get().last_seen
            });
            let (seen_a, a_runs) = runs_of({
                let a = a.clone();
                move || a.get()
            });
            let (seen_c, c_runs) = runs_of({
                let c = c.clone();
                move || c.get()
            });
            let read_all = || {
                let _ = (
                    rows.get_untracked(),
                    head.get_untracked(),
                    counts.get_untracked(),
                );
                let _ = (
                    seen_a.get_untracked(),
                    seen_b.get_untracked(),
                    seen_c.get_untracked(),
                );
            };
            read_all();
            let others = || (a_runs.load(Ordering::SeqCst), c_runs.load(Ordering::SeqCst));
            assert_eq!(others(), (1, 1));

            // b is refreshed (last seen moves), at its own address: b's cell alone changes.
            let mut refresh = event(1, Action::Update, "b", NodeState::Alive, false);
            refresh.service.nodes[0].node.address = "10.0.0.1:1001".into();
            assert!(live.apply(WatchMessage::Event(refresh)));
            read_all();
            assert_eq!(seen_b.get_untracked(), 1);
            assert_eq!(b_runs.load(Ordering::SeqCst), 2, "b's cell changed");
            assert_eq!(others(), (1, 1), "a's and c's did not");
            assert_eq!(
                row_runs.load(Ordering::SeqCst),
                1,
                "the rows did not change"
            );
            assert_eq!(head_runs.load(Ordering::SeqCst), 1, "nor did the head");
            assert_eq!(count_runs.load(Ordering::SeqCst), 1, "nor the counts");
            assert_eq!(node_cell(&cell, "b"), b, "b keeps its cell");

            // b goes stale: its place and the counts change, the other cells still do not.
            let mut stale = event(2, Action::Update, "b", NodeState::Stale, false);
            stale.service.nodes[0].node.address = "10.0.0.1:1001".into();
            assert!(live.apply(WatchMessage::Event(stale)));
            read_all();
            assert_eq!(counts.get_untracked().0.stale, 1);
            assert_eq!(cell.with_rows(|rows| rows["b"].place.attention), 0);
            assert_eq!(row_runs.load(Ordering::SeqCst), 2, "b moved");
            assert_eq!(head_runs.load(Ordering::SeqCst), 1);
            assert_eq!(others(), (1, 1));
            assert_eq!(node_cell(&cell, "b"), b);
        });
    }

    #[test]
    fn a_snapshot_replaces_the_cells_and_drops_what_is_gone() {
        in_owner(|| {
            let live = Live::new();
            // A page seeded the cells before the snapshot; the snapshot keeps what it still has.
            live.seed(&[version_of(&["c", "a", "b"])]);
            assert!(!live.has_view_untracked());
            let cell = cell(&live);
            let a = node_cell(&cell, "a");
            assert_eq!(
                cell.with_rows(|rows| rows.keys().cloned().collect::<Vec<_>>()),
                ["a", "b", "c"]
            );

            let mut changed = version_of(&["a", "c"]);
            changed.nodes[1].state = NodeState::Evicted;
            let mut other = version_of(&["z"]);
            other.version = "2".into();
            assert!(live.apply(snapshot(5, vec![changed, other])));
            assert_eq!(live.version_cells("svc").len(), 2);
            assert_eq!(
                live.version_cells("svc")[0].1,
                cell,
                "the same version cell"
            );
            assert_eq!(
                cell.with_rows(|rows| rows.keys().cloned().collect::<Vec<_>>()),
                ["a", "c"],
                "b's cell is gone"
            );
            assert_eq!(node_cell(&cell, "a"), a, "a kept its cell");
            assert_eq!(live.node(&key(), "c").unwrap().state, NodeState::Evicted);
            assert_eq!(cell.counts().0.evicted, 1);
            assert!(cell.with_rows(|rows| rows["c"].place.is_tombstone()));

            // Seeding once the store has the view does nothing.
            live.seed(&[version_of(&["q"])]);
            assert!(live.node(&key(), "q").is_none());

            // A snapshot without the version drops its cells; a gap asks for a resync.
            assert!(live.apply(snapshot(6, vec![])));
            assert!(live.version_cells("svc").is_empty());
            assert!(!live.apply(WatchMessage::Event(event(
                8,
                Action::Create,
                "a",
                NodeState::Alive,
                false
            ))));
        });
    }

    #[test]
    fn purging_the_last_node_drops_the_version_cell() {
        in_owner(|| {
            let live = Live::new();
            assert!(live.apply(snapshot(0, vec![version_of(&["a", "b"])])));
            assert!(live.apply(WatchMessage::Event(event(
                1,
                Action::Delete,
                "a",
                NodeState::Evicted,
                true
            ))));
            assert_eq!(
                cell(&live).with_rows(|rows| rows.keys().cloned().collect::<Vec<_>>()),
                ["b"]
            );
            assert!(live.apply(WatchMessage::Event(event(
                2,
                Action::Delete,
                "b",
                NodeState::Evicted,
                true
            ))));
            assert!(live.version_cells("svc").is_empty());
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
