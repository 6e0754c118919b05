//! The console's view of the registry, as plain data: every service version with its nodes
//! (tombstones included), and the numbered events that got it there.
//!
//! Every change goes through a method here that returns the [`ConsoleEvent`]s it caused, each
//! with the next sequence number and kept in a bounded ring for clients that reconnect. No
//! I/O, no clock: callers pass `now`, so the rules are testable as data.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use app::reason::EventReason;
use app::rpc::NodeHealth;
use app::wire::{
    ConsoleEvent, EndpointOutlier, Indexed, NodeState, NodeView, ServiceSummary, ServiceView,
    Tally, UnixMillis,
};
use muster_registry::{Action, Departure, Endpoint, Lifetime, Metadata, Node, Service};

use muster_registry::clock::unix_ms;
use muster_registry::mdns::NodeTimes;

use super::budget::{self, MAX_RING_BYTES};
use super::deadlines::Deadlines;
use super::shared::SharedVersion;
use super::summaries::Summaries;
use super::tombstones::{NodeKey, Tombstones};

/// Events kept for replay to reconnecting clients.
pub const RING_CAPACITY: usize = 1024;

/// Events of the ring included in a snapshot, for the UI's event log.
const RECENT_IN_SNAPSHOT: usize = 100;

/// A node counts as stale once this share of its TTL passed since it was last seen: the
/// registry refreshes at 80 % of the TTL (RFC 6762 §5.2, and the console's own re-register
/// at a third), so a node still silent at 85 % missed that refresh.
const STALE_PERCENT_OF_TTL: u32 = 85;

/// A departure within this long of the node's expiry is the TTL running out, not a goodbye
/// (the registry's expiry timer and the console's clock differ by a little).
const EXPIRY_SLACK_MS: u64 = 1_500;

/// How a change sets the TTL the console tracks for a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ttl {
    /// Keep what is known (a registry event re-registered the node: its deadline moves).
    Keep,
    /// The node was (re-)registered here with this TTL.
    Set(Option<Duration>),
    /// The backend's lease of the node (etcd), as of the event: its expiry is shown, but not
    /// used for staleness — a lease is refreshed by a keep-alive that no event reports.
    Lease(Lifetime),
}

/// A removal the console itself is making: the tombstone state it means, and who asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// `Deregistered` or `Evicted`.
    pub state: NodeState,
    /// Who asked ([`crate::auth::Auth::actor`]).
    pub actor: String,
}

/// One node with what the console tracks beyond its [`NodeView`].
#[derive(Debug, Clone)]
struct NodeEntry {
    /// Shared with a snapshot being written ([`View::shared_versions`]): a change while it
    /// is ([`NodeEntry::view_mut`]) copies this one node, instead of every snapshot copying
    /// every node under the view's lock (10 MB of small blocks for 10,000 nodes, freed but
    /// held by the allocator after a churn of resyncs).
    view: Arc<NodeView>,
    ttl: Option<Duration>,
    /// The backend's lease TTL, when it has one (for the words of an expiry).
    lease_ttl_secs: Option<u64>,
    /// When the backend's lease runs out, as of the last event that said.
    lease_expires_at: Option<UnixMillis>,
    /// The last TCP probe failed.
    unreachable: bool,
    /// When it became a tombstone.
    departed_at: Option<UnixMillis>,
    /// The endpoints its own record carries (the version shows what most nodes carry). Shared
    /// with the version's other nodes that carry the same list ([`shared_endpoints`]): go-micro
    /// puts the whole list in every node's record, and a copy per node was about 1 KB of the
    /// view's memory for each node of a one-endpoint service.
    endpoints: Arc<[Endpoint]>,
}

impl NodeEntry {
    /// The node view to change (copied first if a snapshot shares it).
    fn view_mut(&mut self) -> &mut NodeView {
        Arc::make_mut(&mut self.view)
    }
}

/// One service version.
#[derive(Debug, Clone, Default)]
struct VersionEntry {
    metadata: Metadata,
    /// Settled from the nodes' records ([`super::endpoints::settle`]); shared with the
    /// snapshots being written, as the nodes are.
    endpoints: Arc<[Endpoint]>,
    endpoints_from: Option<String>,
    endpoint_outliers: Vec<EndpointOutlier>,
    nodes: BTreeMap<String, NodeEntry>,
    /// When the last event about this version was emitted (set in [`View::emit`]: one store
    /// per event, so "last change" costs no scan).
    last_change: UnixMillis,
}

impl VersionEntry {
    /// Settles the version's endpoints from its nodes' records; returns whether they changed.
    fn settle_endpoints(&mut self) -> bool {
        let records: Vec<super::endpoints::Record> = self
            .nodes
            .iter()
            .map(|(id, node)| super::endpoints::Record {
                id,
                endpoints: &node.endpoints,
                live: node.departed_at.is_none(),
            })
            .collect();
        let settled = super::endpoints::settle(&records);
        let endpoints_changed = settled.endpoints[..] != self.endpoints[..];
        let changed = endpoints_changed
            || settled.from != self.endpoints_from
            || settled.outliers != self.endpoint_outliers;
        if endpoints_changed {
            self.endpoints = Arc::from(settled.endpoints);
        }
        self.endpoints_from = settled.from;
        self.endpoint_outliers = settled.outliers;
        changed
    }
}

/// A live node to probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeTarget {
    /// Service name.
    pub service: String,
    /// Service version.
    pub version: String,
    /// Node id.
    pub node_id: String,
    /// `host:port`.
    pub address: String,
    /// It speaks go-micro's rpc over HTTP (`Debug.Health` can be asked), from its metadata.
    pub mucp: bool,
}

/// A live node found by service name and node id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// The service version holding only that node.
    pub service: Service,
    /// Registered by this console.
    pub owned: bool,
}

/// The view and its event sequence.
#[derive(Debug)]
pub struct View {
    versions: BTreeMap<(String, String), VersionEntry>,
    /// The sequence number of the latest event.
    seq: u64,
    ring: VecDeque<ConsoleEvent>,
    /// Departures the console itself is causing (deregister, evict), by (service, node id): the
    /// registry's delete event does not say who removed a node.
    intents: HashMap<(String, String), Removal>,
    /// Nodes the console is registering right now, by (service, node id): the registry's
    /// create event may arrive before the registration call returns, and must already show
    /// the node as owned (else clients would see a create, then an ownership update).
    claims: HashSet<(String, String)>,
    /// Which nodes are tombstones, oldest first, and what they hold (bounded).
    tombstones: Tombstones,
    /// Bytes each event of the ring holds, in the ring's order, and their sum.
    ring_sizes: VecDeque<usize>,
    ring_bytes: usize,
    /// One summary per service name; every change to `versions` touches its name here.
    summaries: Summaries,
    /// When each live node with a TTL turns stale unless heard from.
    deadlines: Deadlines,
}

/// What the view holds, for the stats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Holding {
    /// Tombstones shown now.
    pub tombstones: usize,
    /// Bytes they hold.
    pub tombstone_bytes: usize,
    /// Tombstones dropped before their TTL because a bound was reached.
    pub tombstones_dropped: u64,
    /// Events in the replay ring.
    pub ring_events: usize,
    /// Bytes they hold.
    pub ring_bytes: usize,
}

impl View {
    /// An empty view whose first event will be `first_seq + 1`. Starting each run at a new
    /// base (the start time in ms) lets a client that reconnects with a sequence number from
    /// an earlier run be recognised, and sent a snapshot instead of a wrong replay.
    pub fn new(first_seq: u64) -> Self {
        View {
            versions: BTreeMap::new(),
            seq: first_seq,
            ring: VecDeque::new(),
            intents: HashMap::new(),
            claims: HashSet::new(),
            tombstones: Tombstones::default(),
            ring_sizes: VecDeque::new(),
            ring_bytes: 0,
            summaries: Summaries::default(),
            deadlines: Deadlines::default(),
        }
    }

    /// What the view holds now.
    pub fn holding(&self) -> Holding {
        Holding {
            tombstones: self.tombstones.len(),
            tombstone_bytes: self.tombstones.bytes(),
            tombstones_dropped: self.tombstones.dropped(),
            ring_events: self.ring.len(),
            ring_bytes: self.ring_bytes,
        }
    }

    /// The sequence number of the latest event.
    pub fn seq(&self) -> u64 {
        self.seq
    }

    /// Every service version, tombstones included, sorted by name then version.
    pub fn services(&self) -> Vec<ServiceView> {
        self.versions.iter().map(service_view).collect()
    }

    /// Every service version as [`View::services`] has it, its nodes and endpoints shared
    /// with the view rather than copied: a snapshot to write out after the lock is released.
    pub fn shared_versions(&self) -> Vec<SharedVersion> {
        self.versions.iter().map(shared_version).collect()
    }

    /// The versions of one service, tombstones included; empty when unknown. A range of the
    /// map, not a filtered copy of the whole view: with 10,000 nodes known, copying them all
    /// made every `GET /api/services/{name}` take milliseconds (end-to-end bench).
    pub fn service(&self, name: &str) -> Vec<ServiceView> {
        self.versions
            .range((name.to_string(), String::new())..)
            .take_while(|((service, _), _)| service == name)
            .map(service_view)
            .collect()
    }

    /// One summary per service name, sorted by name: the services that changed since the last
    /// call are recounted from their borrowed versions, the others copied as they were.
    pub fn summaries(&mut self) -> Vec<ServiceSummary> {
        let versions = &self.versions;
        self.summaries.refresh(|name| summary_of(versions, name));
        self.summaries.all()
    }

    /// Reads the kept summaries with their search texts, sorted by name, in place (the
    /// services page filters them without a copy of any, nor a look at a node).
    pub fn read_index<R>(
        &mut self,
        read: impl FnOnce(&mut dyn Iterator<Item = &Indexed>) -> R,
    ) -> R {
        let versions = &self.versions;
        self.summaries.refresh(|name| summary_of(versions, name));
        read(&mut self.summaries.entries())
    }

    /// Every event the ring holds, oldest first.
    pub fn events(&self) -> impl Iterator<Item = &ConsoleEvent> {
        self.ring.iter()
    }

    /// The newest events, for a snapshot's event log.
    pub fn recent(&self) -> Vec<ConsoleEvent> {
        let skip = self.ring.len().saturating_sub(RECENT_IN_SNAPSHOT);
        self.ring.iter().skip(skip).cloned().collect()
    }

    /// The events after `since`, if the ring still holds all of them (and `since` belongs to
    /// this run); `None` means the client needs a snapshot.
    pub fn events_since(&self, since: u64) -> Option<Vec<ConsoleEvent>> {
        if since > self.seq {
            return None;
        }
        let oldest_kept = self.ring.front().map_or(self.seq + 1, |event| event.seq);
        if since + 1 < oldest_kept {
            return None;
        }
        Some(
            self.ring
                .iter()
                .filter(|event| event.seq > since)
                .cloned()
                .collect(),
        )
    }

    /// Every live (not departed) node of the service `name` with id `node_id`.
    pub fn find(&self, name: &str, node_id: &str) -> Vec<Found> {
        self.versions
            .iter()
            .filter(|((service, _), _)| service == name)
            .filter_map(|((service, version), entry)| {
                let node = entry.nodes.get(node_id)?;
                node.departed_at.is_none().then(|| Found {
                    service: Service {
                        name: service.clone(),
                        version: version.clone(),
                        metadata: entry.metadata.clone(),
                        endpoints: entry.endpoints.to_vec(),
                        nodes: vec![node.view.node.clone()],
                    },
                    owned: node.view.owned,
                })
            })
            .collect()
    }

    /// The node `node_id` of one service version as it is now: state, address, owned.
    pub fn node(&self, name: &str, version: &str, node_id: &str) -> Option<&NodeView> {
        self.versions
            .get(&(name.to_string(), version.to_string()))?
            .nodes
            .get(node_id)
            .map(|node| &*node.view)
    }

    /// Whether any version of `name` is known (tombstones count).
    pub fn has_service(&self, name: &str) -> bool {
        // Its versions are a range of the map: no walk of every version.
        self.versions
            .range((name.to_string(), String::new())..)
            .next()
            .is_some_and(|((service, _), _)| service == name)
    }

    /// Every live node, one service per node (for resync diffs).
    pub fn live_nodes(&self) -> Vec<ProbeTarget> {
        self.versions
            .iter()
            .flat_map(|((service, version), entry)| {
                entry
                    .nodes
                    .values()
                    .filter(|node| node.departed_at.is_none())
                    .map(|node| ProbeTarget {
                        service: service.clone(),
                        version: version.clone(),
                        node_id: node.view.node.id.clone(),
                        address: node.view.node.address.clone(),
                        mucp: muster_rpc::supported(service, &node.view.node.metadata),
                    })
            })
            .collect()
    }

    /// Records that the console is about to remove a node, so that the registry's delete
    /// event becomes a tombstone in the removal's state, saying who asked.
    pub fn intend(&mut self, name: &str, node_id: &str, removal: Removal) {
        self.intents
            .insert((name.to_string(), node_id.to_string()), removal);
    }

    /// Forgets an intent that did not happen (the registry refused).
    pub fn forget_intent(&mut self, name: &str, node_id: &str) {
        self.intents
            .remove(&(name.to_string(), node_id.to_string()));
    }

    /// Marks the nodes of `service` as being registered by the console (see `claims`).
    pub fn claim(&mut self, service: &Service) {
        for node in &service.nodes {
            self.claims.insert((service.name.clone(), node.id.clone()));
        }
    }

    /// Ends a [`View::claim`].
    pub fn unclaim(&mut self, service: &Service) {
        for node in &service.nodes {
            self.claims.remove(&(service.name.clone(), node.id.clone()));
        }
    }

    /// A registration or a registry create/update: new nodes are created, changed ones
    /// updated, departed ones brought back; an unchanged node is only marked seen.
    /// `owned`: `Some` sets the ownership, `None` keeps it (new nodes: foreign).
    pub fn upsert(
        &mut self,
        service: &Service,
        owned: Option<bool>,
        ttl: Ttl,
        now: UnixMillis,
    ) -> Vec<ConsoleEvent> {
        let key = (service.name.clone(), service.version.clone());
        self.summaries.touch(&service.name);
        let entry = self.versions.entry(key.clone()).or_default();
        let metadata_changed = entry.metadata != service.metadata;
        entry.metadata = service.metadata.clone();
        let mut changed = Vec::new();
        for node in &service.nodes {
            let claimed = self
                .claims
                .contains(&(service.name.clone(), node.id.clone()));
            let owned = owned.or(claimed.then_some(true));
            let node_key = (
                service.name.clone(),
                service.version.clone(),
                node.id.clone(),
            );
            self.tombstones.forget(&node_key);
            let action = upsert_node(entry, node, &service.endpoints, owned, ttl, now);
            if let Some(at) = entry.nodes.get(&node.id).and_then(stale_at) {
                self.deadlines.schedule(&node_key, at);
            }
            let reason = match action {
                Some(Action::Create) => EventReason::Registered {
                    by_console: entry.nodes.get(&node.id).is_some_and(|n| n.view.owned),
                },
                _ => EventReason::Changed,
            };
            changed.push((node.id.clone(), action.map(|action| (action, reason))));
        }
        let endpoints_changed = entry.settle_endpoints();
        if metadata_changed || endpoints_changed {
            // Every other live node of the version shows the new endpoints too.
            for (id, node) in &entry.nodes {
                if node.departed_at.is_none() && !changed.iter().any(|(other, _)| other == id) {
                    changed.push((id.clone(), Some((Action::Update, EventReason::Changed))));
                }
            }
        }
        // A node heard from may be alive again (it had missed its refresh): that is news
        // even when its record did not change.
        for (id, action) in &mut changed {
            if let Some(node) = entry.nodes.get_mut(id.as_str()) {
                let state = live_state(node, now);
                if state != node.view.state {
                    node.view_mut().state = state;
                    action.get_or_insert((Action::Update, EventReason::Refreshed));
                }
            }
        }
        changed
            .into_iter()
            .filter_map(|(id, change)| {
                let (action, reason) = change?;
                Some(self.emit(action, &key, &id, Cause::of(reason), now))
            })
            .collect()
    }

    /// The registry says the node left (or the console removed it): it becomes a tombstone —
    /// `Deregistered`/`Evicted` when the console caused it, `Expired` when its TTL ran out,
    /// else `Deregistered` (its owner said goodbye). `departure` is what the backend knows of
    /// why (etcd: whether the lease ran out); without it, a departure at the node's expiry is
    /// taken for one.
    pub fn depart(
        &mut self,
        name: &str,
        version: &str,
        node_id: &str,
        departure: Option<Departure>,
        now: UnixMillis,
    ) -> Vec<ConsoleEvent> {
        let intent = self
            .intents
            .remove(&(name.to_string(), node_id.to_string()));
        let key = (name.to_string(), version.to_string());
        let Some(node) = self
            .versions
            .get_mut(&key)
            .and_then(|entry| entry.nodes.get_mut(node_id))
        else {
            return Vec::new();
        };
        if node.departed_at.is_some() {
            return Vec::new();
        }
        self.summaries.touch(name);
        let expired = match departure {
            Some(departure) => departure == Departure::Expired,
            None => node
                .view
                .expires_at
                .is_some_and(|expires_at| now + EXPIRY_SLACK_MS >= expires_at),
        };
        let ttl_secs = node.ttl.map(|ttl| ttl.as_secs()).or(node.lease_ttl_secs);
        let cause = match intent {
            Some(Removal { state, actor }) => {
                node.view_mut().state = state;
                let reason = if state == NodeState::Evicted {
                    EventReason::Evicted
                } else {
                    EventReason::Deregistered
                };
                Cause {
                    reason,
                    actor: Some(actor),
                }
            }
            None if expired => {
                node.view_mut().state = NodeState::Expired;
                Cause::of(EventReason::Expired { ttl_secs })
            }
            None => {
                node.view_mut().state = NodeState::Deregistered;
                Cause::of(EventReason::Goodbye)
            }
        };
        node.departed_at = Some(now);
        let mut bytes = budget::shared_node_view(&node.view);
        if let Some(entry) = self.versions.get_mut(&key) {
            // One node less may change what most live nodes say; the event carries the result.
            entry.settle_endpoints();
            if entry.nodes.values().all(|node| node.departed_at.is_some()) {
                // The version itself now stays only for its tombstones.
                bytes += budget::version(&entry.metadata, &entry.endpoints);
            }
        }
        let node_key = (key.0.clone(), key.1.clone(), node_id.to_string());
        // A tombstone never turns stale: its deadline would only hold its key for its TTL.
        self.deadlines.cancel(&node_key);
        self.tombstones.bury(node_key, now, bytes);
        let mut events = vec![self.emit(Action::Delete, &key, node_id, cause, now)];
        while let Some(oldest) = self.tombstones.pop_over_budget() {
            events.extend(self.purge_node(oldest, now));
        }
        events
    }

    /// Drops tombstones older than `tombstone_ttl`.
    pub fn purge(&mut self, tombstone_ttl: Duration, now: UnixMillis) -> Vec<ConsoleEvent> {
        // The tombstones are in order of departure: the expired ones are at the front, and
        // nothing else is looked at.
        let cutoff = now.saturating_sub(duration_ms(tombstone_ttl));
        let mut events = Vec::new();
        while let Some(node_key) = self.tombstones.pop_departed_by(cutoff) {
            events.extend(self.purge_node(node_key, now));
        }
        events
    }

    /// Removes a tombstone for good (its TTL ran out, or the store is past its bound).
    fn purge_node(
        &mut self,
        (service, version, id): NodeKey,
        now: UnixMillis,
    ) -> Option<ConsoleEvent> {
        self.deadlines
            .cancel(&(service.clone(), version.clone(), id.clone()));
        let key = (service, version);
        self.versions.get(&key)?.nodes.get(&id)?;
        let event = self.emit(
            Action::Delete,
            &key,
            &id,
            Cause::of(EventReason::Purged),
            now,
        );
        self.summaries.touch(&key.0);
        if let Some(entry) = self.versions.get_mut(&key) {
            entry.nodes.remove(&id);
            if entry.nodes.is_empty() {
                self.versions.remove(&key);
            }
        }
        Some(event)
    }

    /// Takes a health check's result. A node is stale while unreachable (`reachable` false:
    /// the check or, for nodes that do not speak mucp, the TCP probe got no answer). Announces
    /// the node when its state or its health state changes; a new latency alone is not news
    /// (with 10,000 nodes, every sweep would be 10,000 events).
    pub fn set_health(
        &mut self,
        target: &ProbeTarget,
        health: NodeHealth,
        reachable: bool,
        now: UnixMillis,
    ) -> Option<ConsoleEvent> {
        let key = (target.service.clone(), target.version.clone());
        let node = self
            .versions
            .get_mut(&key)
            .and_then(|entry| entry.nodes.get_mut(&target.node_id))
            .filter(|node| node.departed_at.is_none())?;
        self.summaries.touch(&target.service);
        let news = node.view.health.as_ref().map(|old| old.state) != Some(health.state);
        let reason = EventReason::Health {
            state: health.state,
            detail: health.detail.clone(),
        };
        node.view_mut().health = Some(health);
        node.unreachable = !reachable;
        let state = live_state(node, now);
        let news = news || state != node.view.state;
        node.view_mut().state = state;
        news.then(|| {
            self.emit(
                Action::Update,
                &key,
                &target.node_id,
                Cause::of(reason),
                now,
            )
        })
    }

    /// Takes the backend's own timing of its nodes (the mDNS cache's first/last seen and
    /// expiry); silent unless a state changes as a result (a stale node heard from again is
    /// alive; one whose deadline came is stale).
    pub fn apply_timings(&mut self, timings: &[NodeTimes], now: UnixMillis) -> Vec<ConsoleEvent> {
        let mut changed = Vec::new();
        for timing in timings {
            // The versions of one service are a range of the map: scanning every version for
            // every node held the view lock for a second's worth of compares with 10,000 nodes
            // known, and delayed every event behind it (end-to-end bench).
            let versions = self
                .versions
                .range_mut((timing.service.clone(), String::new())..)
                .take_while(|((service, _), _)| *service == timing.service);
            for ((service, version), entry) in versions {
                if let Some(node) = entry.nodes.get_mut(&timing.node_id) {
                    if node.departed_at.is_some() {
                        continue;
                    }
                    self.summaries.touch(&timing.service);
                    node.view_mut().first_seen =
                        node.view.first_seen.min(unix_ms(timing.first_seen));
                    node.view_mut().last_seen = unix_ms(timing.last_seen);
                    node.view_mut().expires_at = timing.expires_at.map(unix_ms);
                    node.ttl = Some(timing.ttl);
                    if let Some(at) = stale_at(node) {
                        let key = (service.clone(), version.clone(), timing.node_id.clone());
                        self.deadlines.schedule(&key, at);
                    }
                    let state = live_state(node, now);
                    if state != node.view.state {
                        node.view_mut().state = state;
                        let reason = state_reason(node);
                        let key = (service.clone(), version.clone());
                        changed.push((key, timing.node_id.clone(), reason));
                    }
                }
            }
        }
        let mut events: Vec<ConsoleEvent> = changed
            .into_iter()
            .map(|(key, id, reason)| self.emit(Action::Update, &key, &id, Cause::of(reason), now))
            .collect();
        events.extend(self.refresh_states(now));
        events
    }

    /// When time passing next changes something: the earliest stale deadline queued, or the
    /// oldest tombstone's purge. Both are the heads of ordered queues (no walk of any node);
    /// `None` when nothing is waiting.
    pub fn next_due(&self, tombstone_ttl: Duration) -> Option<UnixMillis> {
        let purge = self
            .tombstones
            .oldest_departed()
            .map(|departed| departed.saturating_add(duration_ms(tombstone_ttl)));
        match (self.deadlines.next_at(), purge) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Turns stale the live nodes whose refresh is overdue at `now` (time passes): the ones
    /// whose deadline came, not a walk of every node ([`Deadlines`]).
    pub fn refresh_states(&mut self, now: UnixMillis) -> Vec<ConsoleEvent> {
        let mut events = Vec::new();
        for (service, version, id) in self.deadlines.take_due(now) {
            let key = (service, version);
            let Some(node) = self
                .versions
                .get_mut(&key)
                .and_then(|entry| entry.nodes.get_mut(&id))
                .filter(|node| node.departed_at.is_none())
            else {
                continue;
            };
            if let Some(at) = stale_at(node).filter(|at| *at > now) {
                // Heard from since this entry was made: its deadline moved on.
                self.deadlines
                    .schedule(&(key.0.clone(), key.1.clone(), id.clone()), at);
            }
            let state = live_state(node, now);
            if state != node.view.state {
                node.view_mut().state = state;
                self.summaries.touch(&key.0);
                let reason = state_reason(node);
                events.push(self.emit(Action::Update, &key, &id, Cause::of(reason), now));
            }
        }
        events
    }

    /// Numbers an event about one node (in its current state) and keeps it in the ring.
    fn emit(
        &mut self,
        action: Action,
        key: &(String, String),
        node_id: &str,
        cause: Cause,
        now: UnixMillis,
    ) -> ConsoleEvent {
        let purged = cause.reason == EventReason::Purged;
        if !purged {
            if let Some(entry) = self.versions.get_mut(key) {
                entry.last_change = now;
            }
        }
        let entry = self.versions.get(key);
        let service = ServiceView {
            name: key.0.clone(),
            version: key.1.clone(),
            metadata: entry.map(|e| e.metadata.clone()).unwrap_or_default(),
            endpoints: entry.map(|e| e.endpoints.to_vec()).unwrap_or_default(),
            nodes: entry
                .and_then(|e| e.nodes.get(node_id))
                .map(|node| vec![NodeView::clone(&node.view)])
                .unwrap_or_default(),
            endpoints_from: entry.and_then(|e| e.endpoints_from.clone()),
            endpoint_outliers: entry
                .map(|e| e.endpoint_outliers.clone())
                .unwrap_or_default(),
            last_change: entry.map_or(0, |e| e.last_change),
        };
        self.seq += 1;
        let event = ConsoleEvent {
            seq: self.seq,
            timestamp: now,
            action,
            service,
            purged,
            reason: Some(cause.reason),
            actor: cause.actor,
        };
        let bytes = budget::service_view(&event.service);
        self.ring.push_back(event.clone());
        self.ring_sizes.push_back(bytes);
        self.ring_bytes += bytes;
        // The newest event always stays, for a client one event behind.
        while self.ring.len() > 1
            && (self.ring.len() > RING_CAPACITY || self.ring_bytes > MAX_RING_BYTES)
        {
            self.ring.pop_front();
            self.ring_bytes -= self.ring_sizes.pop_front().unwrap_or(0);
        }
        event
    }
}

/// Why an event is emitted, and who asked (a purge is the reason [`EventReason::Purged`]).
struct Cause {
    reason: EventReason,
    actor: Option<String>,
}

impl Cause {
    /// A cause with no actor, not a purge.
    fn of(reason: EventReason) -> Self {
        Cause {
            reason,
            actor: None,
        }
    }
}

/// `endpoints` as a shared list: another node of the version that carries the same list lends
/// its allocation (they normally all do); otherwise a new one. Costs a comparison per node of
/// the version only when a node's list changes, which is when it is first seen.
fn shared_endpoints(entry: &VersionEntry, except: &str, endpoints: &[Endpoint]) -> Arc<[Endpoint]> {
    entry
        .nodes
        .iter()
        .find(|(id, node)| id.as_str() != except && *node.endpoints == *endpoints)
        .map(|(_, node)| Arc::clone(&node.endpoints))
        .unwrap_or_else(|| Arc::from(endpoints))
}

/// Creates, updates or refreshes one node; returns the action to announce, if any.
fn upsert_node(
    entry: &mut VersionEntry,
    node: &Node,
    endpoints: &[Endpoint],
    owned: Option<bool>,
    ttl: Ttl,
    now: UnixMillis,
) -> Option<Action> {
    let live = entry
        .nodes
        .get(&node.id)
        .is_some_and(|slot| slot.departed_at.is_none());
    let action = if live {
        let slot = entry.nodes.get(&node.id)?;
        let changed = slot.view.node != *node
            || *slot.endpoints != *endpoints
            || owned.is_some_and(|o| o != slot.view.owned);
        changed.then_some(Action::Update)
    } else {
        let fresh = NodeEntry {
            view: Arc::new(NodeView {
                node: node.clone(),
                first_seen: now,
                last_seen: now,
                expires_at: None,
                state: NodeState::Alive,
                owned: false,
                health: None,
            }),
            ttl: None,
            lease_ttl_secs: None,
            lease_expires_at: None,
            unreachable: false,
            departed_at: None,
            endpoints: Arc::from([]),
        };
        entry.nodes.insert(node.id.clone(), fresh);
        Some(Action::Create)
    };
    let kept = entry.nodes.get(&node.id)?;
    let shared =
        (*kept.endpoints != *endpoints).then(|| shared_endpoints(entry, &node.id, endpoints));
    let slot = entry.nodes.get_mut(&node.id)?;
    if let Some(shared) = shared {
        slot.endpoints = shared;
    }
    slot.view_mut().node = node.clone();
    slot.view_mut().last_seen = now;
    if let Some(owned) = owned {
        slot.view_mut().owned = owned;
    }
    match ttl {
        Ttl::Keep => {}
        Ttl::Set(ttl) => slot.ttl = ttl,
        Ttl::Lease(lease) => {
            slot.lease_ttl_secs = lease.ttl_secs.or(slot.lease_ttl_secs);
            slot.lease_expires_at = lease.expires_at_ms.or(slot.lease_expires_at);
        }
    }
    slot.view_mut().expires_at = slot
        .ttl
        .map(|ttl| now + duration_ms(ttl))
        .or(slot.lease_expires_at);
    action
}

/// The moment a live node with a TTL counts as having missed its refresh ([`live_state`]).
fn stale_at(node: &NodeEntry) -> Option<UnixMillis> {
    if node.departed_at.is_some() {
        return None;
    }
    let ttl = node.ttl?;
    Some(node.view.last_seen + duration_ms(ttl * STALE_PERCENT_OF_TTL / 100) + 1)
}

/// Why a live node's state just changed by time or timings: it missed its refresh, or it
/// was heard from again.
fn state_reason(node: &NodeEntry) -> EventReason {
    if node.view.state == NodeState::Stale && !node.unreachable {
        EventReason::MissedRefresh {
            ttl_secs: node.ttl.map(|ttl| ttl.as_secs()),
        }
    } else {
        EventReason::Refreshed
    }
}

/// Alive, or stale when its address refused or it missed its refresh.
fn live_state(node: &NodeEntry, now: UnixMillis) -> NodeState {
    let missed_refresh = node.ttl.is_some_and(|ttl| {
        now > node.view.last_seen + duration_ms(ttl * STALE_PERCENT_OF_TTL / 100)
    });
    if node.unreachable || missed_refresh {
        NodeState::Stale
    } else {
        NodeState::Alive
    }
}

fn duration_ms(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX / 4)
}

/// The summary of the service `name` with its search text, from its versions in place;
/// `None` when it has none.
fn summary_of(versions: &BTreeMap<(String, String), VersionEntry>, name: &str) -> Option<Indexed> {
    let mut tally: Option<Tally> = None;
    for ((_, version), entry) in versions
        .range((name.to_string(), String::new())..)
        .take_while(|((service, _), _)| service == name)
    {
        tally.get_or_insert_with(Tally::default).add_version(
            version,
            &entry.metadata,
            &entry.endpoints,
            entry.nodes.values().map(|node| &*node.view),
            entry.last_change,
        );
    }
    tally.map(|tally| tally.finish_indexed(name))
}

/// One version of the view, its nodes and endpoints shared with it.
fn shared_version(((name, version), entry): (&(String, String), &VersionEntry)) -> SharedVersion {
    SharedVersion {
        name: name.clone(),
        version: version.clone(),
        metadata: entry.metadata.clone(),
        endpoints: Arc::clone(&entry.endpoints),
        nodes: entry
            .nodes
            .values()
            .map(|node| Arc::clone(&node.view))
            .collect(),
        endpoints_from: entry.endpoints_from.clone(),
        endpoint_outliers: entry.endpoint_outliers.clone(),
        last_change: entry.last_change,
    }
}

/// One version of the view as the wire shows it (a copy of every node).
fn service_view(version: (&(String, String), &VersionEntry)) -> ServiceView {
    shared_version(version).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::rpc::HealthState;

    fn greeter(id: &str, address: &str) -> Service {
        Service {
            name: "greeter".into(),
            version: "1".into(),
            nodes: vec![Node {
                id: id.into(),
                address: address.into(),
                ..Node::default()
            }],
            ..Service::default()
        }
    }

    fn actions(events: &[ConsoleEvent]) -> Vec<(Action, u64, bool)> {
        events.iter().map(|e| (e.action, e.seq, e.purged)).collect()
    }

    #[test]
    fn an_endpoint_less_node_does_not_erase_its_versions_endpoints() {
        let mut view = View::new(0);
        let mut full = greeter("a", "10.0.0.1:1");
        full.endpoints = vec![Endpoint {
            name: "Greeter.Hello".into(),
            ..Endpoint::default()
        }];
        view.upsert(&full, Some(false), Ttl::Keep, 1);
        let events = view.upsert(&greeter("b", "10.0.0.2:1"), Some(false), Ttl::Keep, 2);
        let version = &view.service("greeter")[0];
        assert_eq!(version.endpoints, full.endpoints);
        assert_eq!(version.endpoints_from.as_deref(), Some("a"));
        let outlier = EndpointOutlier {
            node: "b".into(),
            endpoints: 0,
        };
        assert_eq!(version.endpoint_outliers, vec![outlier]);
        // Every event carries the version's endpoints, so watching clients keep them too.
        assert!(!events.is_empty());
        assert!(events.iter().all(|e| e.service.endpoints == full.endpoints));

        // Once the odd node leaves, the version's records agree again.
        let events = view.depart("greeter", "1", "b", None, 3);
        assert!(events[0].service.endpoint_outliers.is_empty());
        assert_eq!(view.service("greeter")[0].endpoints_from, None);
    }

    #[test]
    fn nodes_that_carry_the_same_endpoints_share_one_list() {
        let with = |id: &str, address: &str, endpoint: &str| {
            let mut service = greeter(id, address);
            service.endpoints = vec![Endpoint {
                name: endpoint.into(),
                ..Endpoint::default()
            }];
            service
        };
        let mut view = View::new(0);
        let announce = |view: &mut View, seen: &[(&str, &str, &str)], first: u64| {
            for (at, (id, address, endpoint)) in (first..).zip(seen) {
                view.upsert(&with(id, address, endpoint), None, Ttl::Keep, at);
            }
        };
        announce(
            &mut view,
            &[
                ("a", "10.0.0.1:1", "Greeter.Hello"),
                ("b", "10.0.0.2:1", "Greeter.Hello"),
                ("c", "10.0.0.3:1", "Greeter.Other"),
            ],
            1,
        );
        let lists = |view: &View| -> Vec<Arc<[Endpoint]>> {
            let version = &view.versions[&("greeter".to_string(), "1".to_string())];
            version
                .nodes
                .values()
                .map(|n| Arc::clone(&n.endpoints))
                .collect()
        };
        let [a, b, c] = <[_; 3]>::try_from(lists(&view)).expect("three nodes");
        assert!(
            Arc::ptr_eq(&a, &b),
            "a and b carry the same list: one allocation"
        );
        assert!(!Arc::ptr_eq(&a, &c));
        assert_eq!(c[0].name, "Greeter.Other");

        // A node whose record changes to the others' list takes theirs; a refresh keeps it.
        announce(
            &mut view,
            &[
                ("c", "10.0.0.3:1", "Greeter.Hello"),
                ("a", "10.0.0.1:1", "Greeter.Hello"),
            ],
            4,
        );
        let [a2, _, c] = <[_; 3]>::try_from(lists(&view)).expect("three nodes");
        assert!(Arc::ptr_eq(&a, &c) && Arc::ptr_eq(&a, &a2));
    }

    #[test]
    fn create_refresh_update_delete_purge() {
        let mut view = View::new(100);
        let events = view.upsert(
            &greeter("a", "10.0.0.1:1"),
            Some(true),
            Ttl::Set(None),
            1_000,
        );
        assert_eq!(actions(&events), [(Action::Create, 101, false)]);
        assert!(events[0].service.nodes[0].owned);
        assert!(view
            .upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 2_000)
            .is_empty());
        let events = view.upsert(&greeter("a", "10.0.0.1:2"), None, Ttl::Keep, 3_000);
        assert_eq!(actions(&events), [(Action::Update, 102, false)]);
        view.intend(
            "greeter",
            "a",
            Removal {
                state: NodeState::Evicted,
                actor: "this console".into(),
            },
        );
        let events = view.depart("greeter", "1", "a", None, 4_000);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Evicted);
        assert!(view.depart("greeter", "1", "a", None, 4_000).is_empty());
        assert!(view.purge(Duration::from_secs(10), 13_999).is_empty());
        let events = view.purge(Duration::from_secs(10), 14_000);
        assert_eq!(actions(&events), [(Action::Delete, 104, true)]);
        assert!(view.services().is_empty());
    }

    /// "Last change" is the time of the version's last event: a refresh that changes nothing
    /// leaves it, a change of health state moves it, a purge is not a change of the service.
    #[test]
    fn last_change_is_the_time_of_the_last_event() {
        let mut view = View::new(0);
        let last = |view: &mut View| view.summaries()[0].last_change;
        view.upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 1_000);
        assert_eq!(last(&mut view), 1_000);
        assert!(view
            .upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 2_000)
            .is_empty());
        assert_eq!(last(&mut view), 1_000, "a refresh is no change");
        let target = view.live_nodes().remove(0);
        view.set_health(&target, health(HealthState::Healthy, 3_000), true, 3_000);
        assert_eq!(last(&mut view), 3_000);
        view.set_health(&target, health(HealthState::Healthy, 4_000), true, 4_000);
        assert_eq!(last(&mut view), 3_000, "the same health again is no change");
        let events = view.upsert(&greeter("b", "10.0.0.2:1"), None, Ttl::Keep, 5_000);
        assert_eq!(
            events[0].service.last_change, 5_000,
            "events carry it to the browser"
        );
        view.depart("greeter", "1", "a", None, 6_000);
        assert_eq!(last(&mut view), 6_000);
        view.purge(Duration::from_secs(1), 9_000);
        assert_eq!(last(&mut view), 6_000);
    }

    /// The kept summaries are what summarizing a full copy of the view gives, after every
    /// kind of change (create, a second version, a second service, health, timings, states
    /// running stale, departure, purge).
    #[test]
    fn kept_summaries_equal_a_summary_of_the_whole_view() {
        use app::wire::summarize;
        let mut view = View::new(0);
        let same = |view: &mut View| assert_eq!(view.summaries(), summarize(&view.services()));
        same(&mut view);
        view.upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 1_000);
        same(&mut view);
        let mut v2 = greeter("b", "10.0.0.2:1");
        v2.version = "2".into();
        v2.endpoints = vec![Endpoint {
            name: "Greeter.Hello".into(),
            ..Endpoint::default()
        }];
        view.upsert(
            &v2,
            Some(true),
            Ttl::Set(Some(Duration::from_secs(10))),
            2_000,
        );
        let mut other = greeter("c", "10.0.0.3:1");
        other.name = "other".into();
        view.upsert(&other, None, Ttl::Keep, 2_500);
        same(&mut view);
        let target = view.live_nodes().remove(0);
        view.set_health(&target, health(HealthState::Healthy, 3_000), true, 3_000);
        same(&mut view);
        let at = |ms: u64| std::time::UNIX_EPOCH + Duration::from_millis(ms);
        view.apply_timings(
            &[NodeTimes {
                service: "other".into(),
                node_id: "c".into(),
                first_seen: at(2_500),
                last_seen: at(5_000),
                expires_at: Some(at(9_000)),
                ttl: Duration::from_secs(4),
            }],
            5_000,
        );
        same(&mut view);
        view.refresh_states(20_000);
        same(&mut view);
        view.depart("greeter", "1", "a", None, 21_000);
        same(&mut view);
        view.purge(Duration::from_secs(1), 30_000);
        same(&mut view);
        view.depart("other", "1", "c", None, 31_000);
        view.purge(Duration::from_secs(1), 40_000);
        same(&mut view);
        assert_eq!(
            view.summaries()
                .iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>(),
            ["greeter"]
        );
    }

    #[test]
    fn ttl_runs_stale_then_expired() {
        let mut view = View::new(0);
        view.upsert(
            &greeter("a", "10.0.0.1:1"),
            Some(false),
            Ttl::Set(Some(Duration::from_secs(10))),
            0,
        );
        assert!(view.refresh_states(8_000).is_empty());
        let events = view.refresh_states(8_600);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Stale);
        let events = view.depart("greeter", "1", "a", None, 10_000);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Expired);
    }

    /// The backend's timings can turn a node stale too (its last answer is older than the
    /// view knew): that says it missed its refresh, and a later answer says it is back.
    #[test]
    fn timings_say_why_a_node_went_stale_or_came_back() {
        let mut view = View::new(0);
        let ten = Ttl::Set(Some(Duration::from_secs(10)));
        view.upsert(&greeter("a", "10.0.0.1:1"), Some(false), ten, 5_000);
        let at = |ms: u64| std::time::UNIX_EPOCH + Duration::from_millis(ms);
        let seen = |last_seen: u64| NodeTimes {
            service: "greeter".into(),
            node_id: "a".into(),
            first_seen: at(0),
            last_seen: at(last_seen),
            expires_at: Some(at(last_seen + 10_000)),
            ttl: Duration::from_secs(10),
        };
        let events = view.apply_timings(&[seen(0)], 9_000);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Stale);
        assert_eq!(
            events[0].reason,
            Some(EventReason::MissedRefresh { ttl_secs: Some(10) })
        );
        let events = view.apply_timings(&[seen(9_500)], 9_600);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Alive);
        assert_eq!(events[0].reason, Some(EventReason::Refreshed));
    }

    /// Staleness comes from each node's deadline: a refresh moves it on (through a
    /// registration or the backend's timings), and a node heard from is not turned stale at
    /// the deadline it had before.
    #[test]
    fn a_refresh_moves_the_stale_deadline_on() {
        let ten = Ttl::Set(Some(Duration::from_secs(10)));
        let mut view = View::new(0);
        view.upsert(&greeter("a", "10.0.0.1:1"), Some(false), ten, 0);
        view.upsert(&greeter("b", "10.0.0.2:1"), Some(false), ten, 0);
        // a is re-registered at 5 s (deadline 13.5 s); b's backend saw it at 6 s (14.5 s).
        view.upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 5_000);
        let at = |ms: u64| std::time::UNIX_EPOCH + Duration::from_millis(ms);
        view.apply_timings(
            &[NodeTimes {
                service: "greeter".into(),
                node_id: "b".into(),
                first_seen: at(0),
                last_seen: at(6_000),
                expires_at: Some(at(16_000)),
                ttl: Duration::from_secs(10),
            }],
            6_000,
        );
        assert!(
            view.refresh_states(8_600).is_empty(),
            "both were heard from"
        );
        let stale = |events: Vec<ConsoleEvent>| -> Vec<String> {
            events
                .iter()
                .filter(|event| event.service.nodes[0].state == NodeState::Stale)
                .map(|event| event.service.nodes[0].node.id.clone())
                .collect()
        };
        assert_eq!(stale(view.refresh_states(13_501)), ["a"]);
        assert_eq!(stale(view.refresh_states(14_501)), ["b"]);
        assert!(
            view.refresh_states(60_000).is_empty(),
            "stale once, not again"
        );
        // Heard from again: alive, and a new deadline.
        let events = view.upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 61_000);
        assert_eq!(actions(&events).len(), 1, "a stale node heard from is news");
        assert_eq!(events[0].service.nodes[0].state, NodeState::Alive);
        assert_eq!(stale(view.refresh_states(69_501)), ["a"]);
    }

    #[test]
    fn goodbye_before_expiry_is_deregistered() {
        let mut view = View::new(0);
        view.upsert(
            &greeter("a", "10.0.0.1:1"),
            None,
            Ttl::Set(Some(Duration::from_secs(120))),
            0,
        );
        let events = view.depart("greeter", "1", "a", None, 5_000);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Deregistered);
        let events = view.upsert(&greeter("a", "10.0.0.1:1"), None, Ttl::Keep, 6_000);
        assert_eq!(
            events[0].action,
            Action::Create,
            "a departed node came back"
        );
    }

    fn health(state: HealthState, checked_at: UnixMillis) -> NodeHealth {
        NodeHealth {
            state,
            checked_at,
            latency_ms: None,
            detail: String::new(),
        }
    }

    #[test]
    fn unreachable_is_stale_until_it_answers() {
        let mut view = View::new(0);
        view.upsert(&greeter("a", "127.0.0.1:9"), None, Ttl::Keep, 0);
        let target = view.live_nodes().remove(0);
        assert!(
            target.mucp,
            "no transport/server/protocol keys: an old go-micro node"
        );
        let event = view
            .set_health(&target, health(HealthState::Unreachable, 1), false, 1)
            .unwrap();
        assert_eq!(event.service.nodes[0].state, NodeState::Stale);
        assert_eq!(
            event.service.nodes[0].health.as_ref().unwrap().state,
            HealthState::Unreachable
        );
        assert!(view
            .set_health(&target, health(HealthState::Unreachable, 2), false, 2)
            .is_none());
        let event = view
            .set_health(&target, health(HealthState::Healthy, 3), true, 3)
            .unwrap();
        assert_eq!(event.service.nodes[0].state, NodeState::Alive);
    }

    #[test]
    fn a_health_state_change_is_news_and_a_new_check_time_is_not() {
        let mut view = View::new(0);
        view.upsert(&greeter("a", "127.0.0.1:9"), None, Ttl::Keep, 0);
        let target = view.live_nodes().remove(0);
        assert!(view
            .set_health(&target, health(HealthState::Healthy, 1), true, 1)
            .is_some());
        assert!(view
            .set_health(&target, health(HealthState::Healthy, 2), true, 2)
            .is_none());
        assert_eq!(
            view.service("greeter")[0].nodes[0].health,
            Some(health(HealthState::Healthy, 2)),
            "the view keeps the latest check"
        );
        let event = view
            .set_health(&target, health(HealthState::Failing, 3), true, 3)
            .unwrap();
        assert_eq!(
            event.service.nodes[0].state,
            NodeState::Alive,
            "failing is not stale"
        );
        view.depart("greeter", "1", "a", None, 4);
        assert!(view
            .set_health(&target, health(HealthState::Healthy, 5), true, 5)
            .is_none());
    }

    #[test]
    fn a_departed_node_keeps_no_stale_deadline() {
        let mut view = View::new(0);
        let ttl = Ttl::Set(Some(Duration::from_secs(3600)));
        for i in 0..100 {
            view.upsert(&greeter(&format!("n{i}"), "10.0.0.1:1"), Some(true), ttl, 1);
        }
        assert_eq!(view.deadlines.scheduled(), 100);
        for i in 0..100 {
            view.depart("greeter", "1", &format!("n{i}"), None, 2);
        }
        assert_eq!(view.deadlines.scheduled(), 0, "tombstones with deadlines");
        assert!(
            view.deadlines.queued() <= 64,
            "{} queued",
            view.deadlines.queued()
        );
    }

    #[test]
    fn fat_tombstones_are_bounded_in_bytes_oldest_dropped_first() {
        let mut view = View::new(0);
        let fat: Metadata = (0..127)
            .map(|i| (format!("k{i}"), "x".repeat(4000)))
            .collect();
        for i in 0..1_500 {
            let mut service = greeter(&format!("n{i}"), "10.0.0.1:1");
            service.name = format!("fat{i}");
            service.nodes[0].metadata = fat.clone();
            view.upsert(&service, None, Ttl::Keep, i);
            view.depart(&service.name, "1", &format!("n{i}"), None, i);
        }
        let holding = view.holding();
        assert!(
            holding.tombstone_bytes <= budget::MAX_TOMBSTONE_BYTES,
            "{holding:?}"
        );
        assert!(holding.tombstones_dropped > 1_000, "{holding:?}");
        assert!(holding.ring_bytes <= MAX_RING_BYTES, "{holding:?}");
        assert!(!view.has_service("fat0"), "the oldest went first");
        assert!(view.has_service("fat1499"), "the newest stays");
        assert_eq!(view.services().len(), holding.tombstones);
    }

    #[test]
    fn replay_or_snapshot() {
        let mut view = View::new(0);
        for i in 0..(RING_CAPACITY + 10) {
            view.upsert(&greeter(&format!("n{i}"), "10.0.0.1:1"), None, Ttl::Keep, 0);
        }
        let latest = view.seq();
        assert_eq!(view.events_since(latest), Some(Vec::new()));
        assert_eq!(view.events_since(latest - 2).unwrap().len(), 2);
        assert_eq!(view.events_since(1), None, "fell out of the ring");
        assert_eq!(
            view.events_since(latest + 5),
            None,
            "a sequence from another run"
        );
    }

    #[test]
    fn every_event_says_why_in_the_terms_of_its_origin() {
        let reason = |events: &[ConsoleEvent]| events[0].reason.clone().unwrap();
        let mut view = View::new(0);
        let events = view.upsert(&greeter("a", "127.0.0.1:9"), None, Ttl::Keep, 0);
        assert_eq!(
            reason(&events),
            EventReason::Registered { by_console: false }
        );

        // The console's own evict names who asked.
        view.intend(
            "greeter",
            "a",
            Removal {
                state: NodeState::Evicted,
                actor: "admin session from 10.0.0.7".into(),
            },
        );
        let events = view.depart("greeter", "1", "a", None, 1_000);
        assert_eq!(reason(&events), EventReason::Evicted);
        assert_eq!(
            events[0].actor.as_deref(),
            Some("admin session from 10.0.0.7")
        );

        // A health check that got no answer.
        view.upsert(&greeter("b", "127.0.0.1:9"), None, Ttl::Keep, 2_000);
        let target = view
            .live_nodes()
            .into_iter()
            .find(|node| node.node_id == "b")
            .unwrap();
        let mut refused = health(HealthState::Unreachable, 2_100);
        refused.detail = "connection refused".into();
        let event = view.set_health(&target, refused, false, 2_100).unwrap();
        assert_eq!(event.reason.unwrap().words(), "probe: connection refused");
        assert_eq!(event.actor, None);

        // Its owner left before its TTL.
        let events = view.depart("greeter", "1", "b", None, 3_000);
        assert_eq!(reason(&events), EventReason::Goodbye);
        let purged = view.purge(Duration::from_secs(1), 10_000);
        assert!(purged
            .iter()
            .all(|e| e.purged && e.reason == Some(EventReason::Purged)));
    }

    #[test]
    fn an_etcd_lease_gives_the_expiry_and_its_end_is_an_expiry_whenever_it_comes() {
        let mut view = View::new(0);
        let lease = Lifetime {
            ttl_secs: Some(110),
            expires_at_ms: Some(110_000),
            departure: None,
        };
        view.upsert(&greeter("a", "127.0.0.1:9"), None, Ttl::Lease(lease), 0);
        let node = &view.service("greeter")[0].nodes[0];
        assert_eq!(node.expires_at, Some(110_000));
        // Kept alive unseen (go-micro's keep-alive is no event): never stale for that.
        assert!(view.refresh_states(500_000).is_empty());
        // The backend says the lease ran out, long after the expiry the put gave.
        let events = view.depart("greeter", "1", "a", Some(Departure::Expired), 600_000);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Expired);
        assert_eq!(
            events[0].reason.as_ref().unwrap().words(),
            "TTL 110 s ran out"
        );

        // Removed while its lease lived, though near its expiry: not an expiry.
        view.upsert(&greeter("b", "127.0.0.1:9"), None, Ttl::Lease(lease), 0);
        let events = view.depart("greeter", "1", "b", Some(Departure::Removed), 110_000);
        assert_eq!(events[0].service.nodes[0].state, NodeState::Deregistered);
        assert_eq!(events[0].reason, Some(EventReason::Goodbye));
    }
}
