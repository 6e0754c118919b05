//! The live store's cells for one service version, split by what changes together, so that an
//! event about one node reaches only what shows that node (issue #16: with one cell per
//! version, every event of a service of 400 nodes cloned all 400 and re-ran a memo per row).
//!
//! - the head: metadata and endpoints (with the nodes that differ), which nodes' events carry
//!   but seldom change;
//! - the counts of its nodes by state and health (the page's summary);
//! - the rows: which nodes there are, each with its [`Place`] in the node table's order and
//!   its own cell. The map changes only when a node appears, leaves, or moves (attention or
//!   address); a node's cell changes when that node does, and nothing else does then.
//!
//! A node keeps its cell while it stays in the view (across snapshots too); one that leaves and
//! comes back gets a new one, so a keyed row made for the old cell is made again.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::rpc::HealthState;
use crate::wire::{HealthCounts, NodeState, NodeView, ServiceView, StateCounts};

/// A version's nodes by state, and its live nodes by their last health check.
pub type NodeCounts = (StateCounts, HealthCounts);

/// How urgently a node wants an operator's eye: 0 for a stale node or one whose health check
/// fails or cannot reach it, 1 for the others alive, 2 for tombstones.
pub fn attention(node: &NodeView) -> u8 {
    let unhealthy = matches!(
        node.health.as_ref().map(|health| health.state),
        Some(HealthState::Failing | HealthState::Unreachable)
    );
    match node.state {
        state if state.is_tombstone() => 2,
        NodeState::Stale => 0,
        _ if unhealthy => 0,
        _ => 1,
    }
}

/// Where a node goes in the node table, as far as the node itself says: by [`attention`],
/// then host, then port as a number (`:9000` before `:19000`). The table adds the version's
/// newness and the id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// [`attention`].
    pub attention: u8,
    /// The address up to its last `:` (the whole address when the port is not a number).
    pub host: String,
    /// The port; 0 when there is none.
    pub port: u32,
}

impl Place {
    /// The place of `node`.
    pub fn of(node: &NodeView) -> Self {
        let address = node.node.address.as_str();
        let (host, port) = match address.rsplit_once(':') {
            Some((host, port)) => match port.parse() {
                Ok(port) => (host, port),
                Err(_) => (address, 0),
            },
            None => (address, 0),
        };
        Place {
            attention: attention(node),
            host: host.to_string(),
            port,
        }
    }

    /// The node is a tombstone.
    pub fn is_tombstone(&self) -> bool {
        self.attention == 2
    }
}

/// One node of a version: its place and its cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeSlot {
    /// Where it goes in the table.
    pub place: Place,
    /// The node, updated in place by its events.
    pub node: ArcRwSignal<NodeView>,
}

/// One service version's cells. Cheap to clone (handles); equal when they are the same cells.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct VersionCell {
    /// The version without its nodes (`nodes` empty, `last_change` 0: it changes on every
    /// event and the service page does not show it).
    head: ArcRwSignal<ServiceView>,
    /// Its nodes' counts.
    counts: ArcRwSignal<NodeCounts>,
    /// Its nodes by id.
    rows: ArcRwSignal<BTreeMap<String, NodeSlot>>,
}

impl VersionCell {
    /// Cells holding `service`.
    pub fn of(service: &ServiceView) -> Self {
        VersionCell {
            head: ArcRwSignal::new(head_of(service)),
            counts: ArcRwSignal::new(count(&service.nodes)),
            rows: ArcRwSignal::new(
                service
                    .nodes
                    .iter()
                    .map(|node| (node.node.id.clone(), slot(node)))
                    .collect(),
            ),
        }
    }

    /// The version's metadata and endpoints, without nodes (tracked: changes when those do).
    pub fn head(&self) -> ServiceView {
        self.head.get()
    }

    /// Reads the head in place (tracked, as [`VersionCell::head`]).
    pub fn with_head<R>(&self, read: impl FnOnce(&ServiceView) -> R) -> R {
        self.head.with(read)
    }

    /// The counts of its nodes (tracked: changes when a node's state or health class does).
    pub fn counts(&self) -> NodeCounts {
        self.counts.get()
    }

    /// Reads its nodes by id (tracked: changes only when one appears, leaves or moves, not
    /// when one changes otherwise; read a slot's `node` for that).
    pub fn with_rows<R>(&self, read: impl FnOnce(&BTreeMap<String, NodeSlot>) -> R) -> R {
        self.rows.with(read)
    }

    /// Brings every cell in line with `service` (a snapshot): what changed is set, what
    /// stayed is not touched.
    pub(super) fn sync(&self, service: &ServiceView) {
        self.sync_head(service);
        let gone: Vec<String> = self.rows.with_untracked(|rows| {
            rows.keys()
                .filter(|id| find(service, id).is_none())
                .cloned()
                .collect()
        });
        for id in &gone {
            self.sync_node(id, None);
        }
        for node in &service.nodes {
            self.sync_node(&node.node.id, Some(node));
        }
        self.recount(service);
    }

    /// Brings the cells of the nodes `ids` in line with `service` (an event about them: the
    /// other nodes did not change), and the head and counts.
    pub(super) fn sync_some<'a>(
        &self,
        service: &ServiceView,
        ids: impl IntoIterator<Item = &'a str>,
    ) {
        self.sync_head(service);
        for id in ids {
            self.sync_node(id, find(service, id));
        }
        self.recount(service);
    }

    fn sync_head(&self, service: &ServiceView) {
        let same = self.head.with_untracked(|head| {
            head.name == service.name
                && head.version == service.version
                && head.metadata == service.metadata
                && head.endpoints == service.endpoints
                && head.endpoints_from == service.endpoints_from
                && head.endpoint_outliers == service.endpoint_outliers
        });
        if !same {
            self.head.set(head_of(service));
        }
    }

    fn recount(&self, service: &ServiceView) {
        let counts = count(&service.nodes);
        if self.counts.with_untracked(|known| *known != counts) {
            self.counts.set(counts);
        }
    }

    /// Sets one node's cell (`None`: it left), and its slot when it appears, leaves or moves.
    fn sync_node(&self, id: &str, node: Option<&NodeView>) {
        let known = self
            .rows
            .with_untracked(|rows| rows.get(id).map(|slot| slot.node.clone()));
        match (known, node) {
            (Some(cell), Some(node)) => {
                if cell.with_untracked(|known| known != node) {
                    cell.set(node.clone());
                }
                let place = Place::of(node);
                let moved = self
                    .rows
                    .with_untracked(|rows| rows.get(id).is_some_and(|slot| slot.place != place));
                if moved {
                    self.rows.update(|rows| {
                        if let Some(slot) = rows.get_mut(id) {
                            slot.place = place;
                        }
                    });
                }
            }
            (None, Some(node)) => self.rows.update(|rows| {
                rows.insert(id.to_string(), slot(node));
            }),
            (Some(_), None) => self.rows.update(|rows| {
                rows.remove(id);
            }),
            (None, None) => {}
        }
    }
}

/// The node `id` of `service` (its nodes are sorted by id: see [`super::index`]).
fn find<'a>(service: &'a ServiceView, id: &str) -> Option<&'a NodeView> {
    service
        .nodes
        .binary_search_by(|node| node.node.id.as_str().cmp(id))
        .ok()
        .map(|at| &service.nodes[at])
}

fn slot(node: &NodeView) -> NodeSlot {
    NodeSlot {
        place: Place::of(node),
        node: ArcRwSignal::new(node.clone()),
    }
}

/// `service` without its nodes (and without its last change).
fn head_of(service: &ServiceView) -> ServiceView {
    ServiceView {
        name: service.name.clone(),
        version: service.version.clone(),
        metadata: service.metadata.clone(),
        endpoints: service.endpoints.clone(),
        nodes: Vec::new(),
        endpoints_from: service.endpoints_from.clone(),
        endpoint_outliers: service.endpoint_outliers.clone(),
        last_change: 0,
    }
}

/// Nodes by state; live nodes (not tombstones) by health.
pub fn count(nodes: &[NodeView]) -> NodeCounts {
    let (mut states, mut health) = (StateCounts::default(), HealthCounts::default());
    for node in nodes {
        states.add(node.state);
        if !node.state.is_tombstone() {
            health.add(node.health.as_ref());
        }
    }
    (states, health)
}

/// The counts of several versions together.
pub fn total(counts: impl IntoIterator<Item = NodeCounts>) -> NodeCounts {
    let (mut states, mut health) = (StateCounts::default(), HealthCounts::default());
    for (s, h) in counts {
        // Destructured in full: a count added to either struct must be added here too.
        let StateCounts {
            alive,
            stale,
            expired,
            evicted,
            deregistered,
        } = s;
        states.alive += alive;
        states.stale += stale;
        states.expired += expired;
        states.evicted += evicted;
        states.deregistered += deregistered;
        let HealthCounts {
            healthy,
            failing,
            unreachable,
            no_check,
            unsupported,
            unchecked,
        } = h;
        health.healthy += healthy;
        health.failing += failing;
        health.unreachable += unreachable;
        health.no_check += no_check;
        health.unsupported += unsupported;
        health.unchecked += unchecked;
    }
    (states, health)
}
