//! The live view: the registry as the browser knows it, kept current by the watch websocket.
//!
//! Pages are rendered on the server from only what they show (the services page from one page
//! of summaries, a service page from that service: see their `load_*` server functions), so a
//! registry of 10,000 nodes does not put its whole view into every HTML page. Once hydrated,
//! the browser opens `/api/watch`, which starts with a snapshot of the whole view; from then on
//! pages render from this store, and sequenced events keep it current. A gap in the sequence, a
//! lagging connection or a reconnect after the server forgot our position all end in a fresh
//! snapshot, so the view never silently diverges.

use std::collections::{BTreeMap, VecDeque};

use leptos::prelude::*;
use muster_registry::Action;

use crate::wire::{ConsoleEvent, ServiceView, WatchMessage};

/// How many events the event log keeps in the browser.
pub const EVENT_LOG_LEN: usize = 500;

/// The state of the watch connection, shown by the badge in the top bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Events arrive as they happen.
    Live,
    /// The connection dropped; retrying.
    Reconnecting,
    /// Not connected (server-rendered page before hydration, or the browser is offline).
    Offline,
}

impl Connection {
    /// Text of the badge.
    pub fn label(self) -> &'static str {
        match self {
            Connection::Live => "live",
            Connection::Reconnecting => "reconnecting",
            Connection::Offline => "offline",
        }
    }
}

/// Services keyed by (name, version).
pub type ServiceMap = BTreeMap<(String, String), ServiceView>;

/// The live store, provided as context by [`crate::App`]. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Live {
    /// The whole view and the sequence number it is at; `None` until the websocket's first
    /// snapshot (server-side rendering never has it).
    view: RwSignal<Option<(u64, ServiceMap)>>,
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
            events: RwSignal::new(VecDeque::new()),
            connection: RwSignal::new(Connection::Offline),
            now_ms: RwSignal::new(now_ms()),
        }
    }

    /// Reads the whole current view, keyed by (name, version), once the websocket delivered
    /// it (tracked); `None` until then, when pages show what they loaded for themselves.
    pub fn with_services<R>(&self, read: impl FnOnce(&ServiceMap) -> R) -> Option<R> {
        self.view
            .with(|view| view.as_ref().map(|(_, map)| read(map)))
    }

    /// The store holds the whole view (tracked: pages switch over to it when it arrives).
    pub fn has_view(&self) -> bool {
        self.view.with(Option::is_some)
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
                self.view.set(Some((seq, index(services))));
                self.events
                    .set(recent.into_iter().rev().take(EVENT_LOG_LEN).collect());
                true
            }
            WatchMessage::Heartbeat { .. } | WatchMessage::Loading { .. } => true,
            WatchMessage::Event(event) => {
                let Some(seq) = self.seq() else { return false };
                if event.seq <= seq {
                    return true; // already applied (replayed after a reconnect)
                }
                if event.seq != seq + 1 {
                    return false;
                }
                self.view.update(|view| {
                    if let Some((seq, map)) = view {
                        apply_event(map, &event);
                        *seq = event.seq;
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
/// when purged; the service's metadata and endpoints come with the event and replace ours.
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
    }
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

/// Milliseconds since the Unix epoch, on either side.
pub fn now_ms() -> u64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as u64)
            .unwrap_or(0)
    }
}

/// Browser side: the watch websocket that feeds [`Live`].
#[cfg(feature = "hydrate")]
pub mod socket {
    use std::time::Duration;

    use leptos::prelude::*;

    use super::{now_ms, Live};
    use crate::feed::Feed;
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
        let _feed = Feed::open(path, on_message, live.connection);
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
