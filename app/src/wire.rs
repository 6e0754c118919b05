//! What the server tells the browser (and scripts): the JSON of `/api/*` and the watch websocket.
//!
//! Compiled on both sides so the two can never disagree. Services keep go-micro's registry JSON
//! shape (`name`, `version`, `metadata`, `endpoints`, `nodes`); each node adds what the console
//! learned about it (`first_seen`, `last_seen`, `expires_at`, `state`, `owned`).

use muster_registry::{Action, Endpoint, Metadata, Node};
use serde::{Deserialize, Serialize};

use super::search::SearchText;

/// Milliseconds since the Unix epoch (JSON numbers stay exact up to 2^53).
pub type UnixMillis = u64;

/// Where a node is in its life, as the console sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeState {
    /// Announced or answered within its TTL, and reachable.
    Alive,
    /// Missed the registry's last refresh, or its address refuses TCP connections.
    Stale,
    /// Its TTL ran out without a refresh (tombstone).
    Expired,
    /// An admin sent a goodbye on its behalf (tombstone; a live owner re-announces).
    Evicted,
    /// Its owner (this console or another) deregistered it (tombstone).
    Deregistered,
}

impl NodeState {
    /// A tombstone: the node left the registry and is kept only for a while, to be seen.
    pub fn is_tombstone(self) -> bool {
        matches!(
            self,
            NodeState::Expired | NodeState::Evicted | NodeState::Deregistered
        )
    }

    /// The lowercase name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeState::Alive => "alive",
            NodeState::Stale => "stale",
            NodeState::Expired => "expired",
            NodeState::Evicted => "evicted",
            NodeState::Deregistered => "deregistered",
        }
    }
}

/// A node with what the console knows of it.
///
/// `Deserialize` is written out ([`NodeViewFields`]): it reads what the derive with the
/// flattened `node` read, in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeView {
    /// `id`, `address`, `metadata`, as in go-micro.
    #[serde(flatten)]
    pub node: Node,
    /// When the console first saw it.
    pub first_seen: UnixMillis,
    /// When it was last announced, answered or refreshed.
    pub last_seen: UnixMillis,
    /// When its registration runs out unless refreshed; `None` when it has no TTL.
    pub expires_at: Option<UnixMillis>,
    /// Its state.
    pub state: NodeState,
    /// Registered by this console (deregister) rather than learned from the network (evict).
    pub owned: bool,
    /// The last health check (`Debug.Health`, or a TCP probe for nodes that are not mucp);
    /// none before the first.
    #[serde(default)]
    pub health: Option<super::rpc::NodeHealth>,
}

/// One version of a service, go-micro's `Service` JSON with [`NodeView`] nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceView {
    /// Service name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Service metadata.
    #[serde(default)]
    pub metadata: Metadata,
    /// Endpoints with their schemas: what most live nodes' records carry (go-micro puts the
    /// endpoints in every node's record, so one odd node does not change them).
    #[serde(default)]
    pub endpoints: Vec<Endpoint>,
    /// Nodes, tombstones included.
    #[serde(default)]
    pub nodes: Vec<NodeView>,
    /// When the nodes' records disagree: the node whose record `endpoints` come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints_from: Option<String>,
    /// Nodes whose own record lists other endpoints than `endpoints` (none, or another set).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoint_outliers: Vec<EndpointOutlier>,
    /// When the console last had an event about this version (a node registered, updated,
    /// deregistered, a state or health change); 0 before any. A refresh that changes nothing
    /// is not a change.
    #[serde(default)]
    pub last_change: UnixMillis,
}

/// A node whose record's endpoints differ from its version's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointOutlier {
    /// The node's id.
    pub node: String,
    /// How many endpoints its own record lists (0: none).
    pub endpoints: usize,
}

/// Node counts by state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateCounts {
    /// Alive nodes.
    pub alive: usize,
    /// Stale nodes.
    pub stale: usize,
    /// Expired tombstones.
    pub expired: usize,
    /// Evicted tombstones.
    pub evicted: usize,
    /// Deregistered tombstones.
    pub deregistered: usize,
}

impl StateCounts {
    /// Adds one node in `state`.
    pub fn add(&mut self, state: NodeState) {
        match state {
            NodeState::Alive => self.alive += 1,
            NodeState::Stale => self.stale += 1,
            NodeState::Expired => self.expired += 1,
            NodeState::Evicted => self.evicted += 1,
            NodeState::Deregistered => self.deregistered += 1,
        }
    }

    /// Nodes still registered (alive or stale).
    pub fn live(&self) -> usize {
        self.alive + self.stale
    }
}

/// Live nodes by their last health check, for a service's row on the services list.
/// Tombstones are no longer checked and are not counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthCounts {
    /// `Debug.Health` answered ok.
    pub healthy: usize,
    /// Answered, but not ok.
    pub failing: usize,
    /// No answer (a TCP-only node whose connect failed counts here too).
    pub unreachable: usize,
    /// Answered that it has no Debug handler.
    pub no_check: usize,
    /// Not go-micro rpc, and its address accepts TCP: reachable, nothing more known.
    pub unsupported: usize,
    /// Not checked yet (or probing is off).
    pub unchecked: usize,
}

impl HealthCounts {
    /// Adds one live node with its last check.
    pub fn add(&mut self, health: Option<&super::rpc::NodeHealth>) {
        use super::rpc::HealthState;
        let Some(health) = health else {
            self.unchecked += 1;
            return;
        };
        match health.state {
            HealthState::Healthy => self.healthy += 1,
            HealthState::Failing => self.failing += 1,
            HealthState::Unreachable => self.unreachable += 1,
            HealthState::NoCheck => self.no_check += 1,
            HealthState::Unsupported if health.latency_ms.is_none() => self.unreachable += 1,
            HealthState::Unsupported => self.unsupported += 1,
        }
    }

    /// Live nodes counted.
    pub fn total(&self) -> usize {
        self.healthy
            + self.failing
            + self.unreachable
            + self.no_check
            + self.unsupported
            + self.unchecked
    }

    /// Every live node was checked and none is healthy or answers normally: whoever calls
    /// the service now gets an error.
    pub fn broken(&self) -> bool {
        self.total() > 0
            && self.unchecked == 0
            && self.healthy + self.no_check + self.unsupported == 0
    }
}

/// One row of `GET /api/services`: a service name across its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// Service name.
    pub name: String,
    /// Every version with at least one node or tombstone, sorted.
    pub versions: Vec<String>,
    /// Nodes by state, across versions.
    pub nodes: StateCounts,
    /// Live nodes by their last health check, across versions.
    #[serde(default)]
    pub health: HealthCounts,
    /// Distinct endpoint names across versions.
    pub endpoints: usize,
    /// Its latest event, across versions ([`ServiceView::last_change`]).
    pub last_change: UnixMillis,
    /// Alive nodes whose last check did not fail (healthy, no Debug handler, reachable, or
    /// not checked yet): the nodes a caller can be served by.
    #[serde(default)]
    pub serving: usize,
}

/// How a service stands, for the list's status column, its facets and "needs attention".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceStatus {
    /// No node can serve: none alive, or every alive node failing or unreachable.
    NoHealthy,
    /// Some nodes serve, others are stale, failing or unreachable.
    Degraded,
    /// Every live node serves.
    Healthy,
}

impl ServiceStatus {
    /// The name in URLs and attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceStatus::NoHealthy => "no-healthy",
            ServiceStatus::Degraded => "degraded",
            ServiceStatus::Healthy => "healthy",
        }
    }

    /// The words shown.
    pub fn label(self) -> &'static str {
        match self {
            ServiceStatus::NoHealthy => "no healthy node",
            ServiceStatus::Degraded => "degraded",
            ServiceStatus::Healthy => "healthy",
        }
    }
}

impl ServiceSummary {
    /// How the service stands.
    pub fn status(&self) -> ServiceStatus {
        if self.serving == 0 {
            ServiceStatus::NoHealthy
        } else if self.serving < self.nodes.live() {
            ServiceStatus::Degraded
        } else {
            ServiceStatus::Healthy
        }
    }
}

/// Summaries of `services` (any order), one per name, sorted by name.
pub fn summarize<'a>(services: impl IntoIterator<Item = &'a ServiceView>) -> Vec<ServiceSummary> {
    use std::collections::BTreeMap;
    let mut by_name: BTreeMap<&str, Tally> = BTreeMap::new();
    for service in services {
        by_name.entry(&service.name).or_default().add_version(
            &service.version,
            &service.metadata,
            &service.endpoints,
            &service.nodes,
            service.last_change,
        );
    }
    by_name
        .into_iter()
        .map(|(name, tally)| tally.finish(name))
        .collect()
}

/// One service's [`ServiceSummary`] (and its [`SearchText`]) being counted from borrowed
/// versions, so a holder of the data (the console's view, the live store) can summarize
/// without copying nodes first.
#[derive(Debug, Default)]
pub struct Tally {
    versions: std::collections::BTreeSet<String>,
    nodes: StateCounts,
    health: HealthCounts,
    serving: usize,
    endpoints: std::collections::BTreeSet<String>,
    last_change: UnixMillis,
    /// Addresses and metadata values, then metadata pairs, for the search text.
    fields: std::collections::BTreeSet<String>,
    pairs: std::collections::BTreeSet<(String, String)>,
}

impl Tally {
    /// Counts one version with its metadata, settled endpoints, nodes (tombstones included)
    /// and last event.
    pub fn add_version<'a>(
        &mut self,
        version: &str,
        metadata: &Metadata,
        endpoints: &[Endpoint],
        nodes: impl IntoIterator<Item = &'a NodeView>,
        last_change: UnixMillis,
    ) {
        if !self.versions.contains(version) {
            self.versions.insert(version.to_string());
        }
        for endpoint in endpoints {
            if !self.endpoints.contains(&endpoint.name) {
                self.endpoints.insert(endpoint.name.clone());
            }
        }
        self.add_metadata(metadata);
        for node in nodes {
            self.nodes.add(node.state);
            if !node.state.is_tombstone() {
                self.health.add(node.health.as_ref());
            }
            if node.state == NodeState::Alive && !health_failed(node.health.as_ref()) {
                self.serving += 1;
            }
            if !self.fields.contains(&node.node.address) {
                self.fields.insert(node.node.address.clone());
            }
            self.add_metadata(&node.node.metadata);
        }
        self.last_change = self.last_change.max(last_change);
    }

    fn add_metadata(&mut self, metadata: &Metadata) {
        for (key, value) in metadata {
            if !self.fields.contains(value) {
                self.fields.insert(value.clone());
            }
            let pair = (key.clone(), value.clone());
            if !self.pairs.contains(&pair) {
                self.pairs.insert(pair);
            }
        }
    }

    /// The summary of the service `name`.
    pub fn finish(self, name: &str) -> ServiceSummary {
        self.finish_indexed(name).summary
    }

    /// The summary of the service `name` with the text it is searched by.
    pub fn finish_indexed(self, name: &str) -> Indexed {
        let fields = std::iter::once(name)
            .chain(self.versions.iter().map(String::as_str))
            .chain(self.endpoints.iter().map(String::as_str))
            .chain(self.fields.iter().map(String::as_str));
        let pairs = self
            .pairs
            .iter()
            .map(|(key, value)| (key.as_str(), value.as_str()));
        let search = SearchText::new(fields, pairs);
        Indexed {
            summary: ServiceSummary {
                name: name.to_string(),
                versions: self.versions.into_iter().collect(),
                nodes: self.nodes,
                health: self.health,
                endpoints: self.endpoints.len(),
                last_change: self.last_change,
                serving: self.serving,
            },
            search,
        }
    }
}

/// The last check found the node failing or unreachable (a TCP-only node whose connect
/// failed, too): it cannot serve.
fn health_failed(health: Option<&super::rpc::NodeHealth>) -> bool {
    use super::rpc::HealthState;
    health.is_some_and(|health| match health.state {
        HealthState::Failing | HealthState::Unreachable => true,
        HealthState::Unsupported => health.latency_ms.is_none(),
        HealthState::Healthy | HealthState::NoCheck => false,
    })
}

/// A service's summary with the text the list's search matches it by, kept together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    /// The summary.
    pub summary: ServiceSummary,
    /// Its search text.
    pub search: SearchText,
}

/// A change the console saw, numbered in the order it was applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsoleEvent {
    /// Position in the console's event sequence (strictly increasing, no gaps).
    pub seq: u64,
    /// When it happened.
    pub timestamp: UnixMillis,
    /// `create` (new node), `update` (node changed, state changes included), `delete` (node
    /// left the registry: now a tombstone) — or `delete` with `purged` set when the tombstone
    /// itself is dropped.
    pub action: Action,
    /// The service version, holding only the node concerned (in its new state).
    pub service: ServiceView,
    /// The node is gone from the console's view entirely (its tombstone timed out).
    #[serde(default)]
    pub purged: bool,
    /// Why, as the place it came from knows it; `None` from a console that predates reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<super::reason::EventReason>,
    /// Who asked, for the console's own actions (evict, deregister): "this console" or the
    /// signed-in admin and their address, as the access rules know them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
}

/// Server → browser messages on `GET /api/watch` (JSON text frames, tagged by `type`).
///
/// The client connects with `?since=<seq>` after a reconnect: the server replays the events
/// after `seq` if it still holds them, or sends a fresh snapshot.
///
/// `Deserialize` is written out ([`super::de::Tagged`]): it reads what the derive for
/// `#[serde(tag = "type", rename_all = "lowercase")]` read, in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum WatchMessage {
    /// The whole view as of `seq`; replaces whatever the client had.
    Snapshot {
        /// Sequence number of the last event included.
        seq: u64,
        /// Every service version, tombstones included.
        services: Vec<ServiceView>,
        /// Recent events (newest last), for the event log.
        recent: Vec<ConsoleEvent>,
    },
    /// Sent just before a snapshot, so that a page can say "loading N services…" while a large
    /// snapshot is on its way: the connection is not live until the snapshot is applied.
    Loading {
        /// Service versions in the snapshot that follows.
        services: u64,
        /// The snapshot frame's size on the wire, in bytes.
        bytes: u64,
    },
    /// One change, to apply on top of what the client has.
    Event(ConsoleEvent),
    /// Sent periodically so both sides detect a dead connection.
    Heartbeat {
        /// The latest sequence number.
        seq: u64,
    },
}

/// The JSON body of every error response: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for a person.
    pub error: String,
    /// The input field at fault, when there is one (forms show the message next to it); sent
    /// as its label (`"service name"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<muster_registry::Field>,
}

/// Body of `POST /api/services`: a go-micro Service plus an optional TTL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// The service with the nodes to register.
    #[serde(flatten)]
    pub service: muster_registry::Service,
    /// Seconds the registration lives without refresh; the console refreshes its own
    /// registrations, so this is how long they outlive a console that dies.
    #[serde(default)]
    pub ttl: Option<u64>,
}

/// Answer of `POST /api/services/{name}/nodes/{id}/evict`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvictResponse {
    /// What was done on the network, in words.
    pub message: String,
    /// The owner answered again after the goodbye: the node is alive and came back.
    pub reappeared: bool,
}

/// What the console allows this client to do (`GET /api/session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Mutations are allowed for this client.
    pub can_write: bool,
    /// Why not, when they are not (e.g. "read-only: no --admin-token set").
    pub reason: Option<String>,
    /// This client holds a login session (the top bar offers Sign out).
    #[serde(default)]
    pub signed_in: bool,
    /// Signing in would allow changes: the console has an admin token this client has not
    /// shown yet (the top bar offers Sign in; without a token there is nothing to sign in to).
    #[serde(default)]
    pub can_sign_in: bool,
    /// The embedded registry backend (`mdns`, `memory`, `etcd`).
    pub registry: String,
    /// What the operator should know about the registry's reach ("mDNS on loopback only: no
    /// LAN interface"), shown beside its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// Whether the registry backend can serve now (`GET /readyz`; 503 when not): for load
/// balancers, and for the connection badge to say why the console cannot act.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Readiness {
    /// Registrations and reads can succeed now.
    pub ready: bool,
    /// The embedded registry backend (`mdns`, `memory`, `etcd`).
    pub registry: String,
    /// What the backend's state is, plainly ("etcd has no quorum (2 of 3 members down)").
    pub message: String,
}

/// One standard DNS-SD service instance seen on the LAN (the "LAN" page, `GET /api/lan`).
///
/// These are not go-micro services: they are what avahi-browse or a Bonjour browser would list
/// (`_http._tcp`, `_ipp._tcp`, ... and the console's own `_micro._tcp` mirrors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanService {
    /// The full instance name, the key: `Muster on host._http._tcp.local.`.
    pub fullname: String,
    /// The service type: `_http._tcp.local.`.
    pub service_type: String,
    /// The instance label alone, as a person reads it: `Muster on host`.
    pub instance: String,
    /// The target host of the SRV record: `host.local.`.
    pub host: String,
    /// The port of the SRV record.
    pub port: u16,
    /// The host's addresses (A and AAAA), sorted.
    pub addresses: Vec<String>,
    /// TXT key=value pairs, in the order they were published; a key without `=` has an empty
    /// value, a value that is not UTF-8 is shown lossily.
    pub txt: Vec<(String, String)>,
    /// When the console last heard of it.
    pub last_seen: UnixMillis,
}

/// Answer of `GET /api/lan`, and what the LAN page loads first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LanSnapshot {
    /// The console browses the LAN (off with `--no-lan`, or when mDNS cannot start).
    pub enabled: bool,
    /// Why it is not browsing, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Every instance currently resolved, sorted by type then instance.
    pub services: Vec<LanService>,
}

/// Server → browser messages on `GET /api/lan/watch` (JSON text frames, tagged by `type`).
///
/// The first frame is always a snapshot; then changes; on reconnect the client gets a new
/// snapshot (the LAN view is small, so there is no replay).
///
/// `Deserialize` is written out, as [`WatchMessage`]'s is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum LanMessage {
    /// Everything known now; replaces what the client had.
    Snapshot(LanSnapshot),
    /// An instance resolved or changed (keyed by `fullname`).
    Upsert(LanService),
    /// An instance said goodbye or expired.
    Remove {
        /// The `fullname` of the instance gone.
        fullname: String,
    },
    /// Sent periodically so both sides detect a dead connection.
    Heartbeat,
}

impl<'de> Deserialize<'de> for NodeView {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let fields: NodeViewFields = super::de::flat(deserializer, "struct NodeView")?;
        Ok(NodeView {
            node: Node {
                id: fields.id,
                address: fields.address,
                metadata: fields.metadata,
            },
            first_seen: fields.first_seen,
            last_seen: fields.last_seen,
            expires_at: fields.expires_at,
            state: fields.state,
            owned: fields.owned,
            health: fields.health,
        })
    }
}

/// [`NodeView`]'s fields with its node's, flat: what its JSON holds. The node's fields read
/// as `muster_registry::Node` reads them (absent or `null`: empty).
#[derive(Deserialize)]
#[serde(rename = "NodeView")]
struct NodeViewFields {
    #[serde(default, deserialize_with = "super::de::null_as_default")]
    id: String,
    #[serde(default, deserialize_with = "super::de::null_as_default")]
    address: String,
    #[serde(default, deserialize_with = "super::de::null_as_default")]
    metadata: Metadata,
    first_seen: UnixMillis,
    last_seen: UnixMillis,
    expires_at: Option<UnixMillis>,
    state: NodeState,
    owned: bool,
    #[serde(default)]
    health: Option<super::rpc::NodeHealth>,
}

impl<'de> Deserialize<'de> for WatchMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::de::tagged(deserializer)
    }
}

impl super::de::Tagged for WatchMessage {
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["snapshot", "loading", "event", "heartbeat"];
    const EXPECTING: &'static str = "internally tagged enum WatchMessage";

    fn variant<'de, D: serde::Deserializer<'de>>(variant: &str, rest: D) -> Result<Self, D::Error> {
        /// The fields of [`WatchMessage::Snapshot`].
        #[derive(Deserialize)]
        #[serde(rename = "WatchMessage::Snapshot")]
        struct Snapshot {
            seq: u64,
            services: Vec<ServiceView>,
            recent: Vec<ConsoleEvent>,
        }
        /// The fields of [`WatchMessage::Loading`].
        #[derive(Deserialize)]
        #[serde(rename = "WatchMessage::Loading")]
        struct Loading {
            services: u64,
            bytes: u64,
        }
        /// The fields of [`WatchMessage::Heartbeat`].
        #[derive(Deserialize)]
        #[serde(rename = "WatchMessage::Heartbeat")]
        struct Heartbeat {
            seq: u64,
        }
        Ok(match variant {
            "snapshot" => {
                let Snapshot {
                    seq,
                    services,
                    recent,
                } = Snapshot::deserialize(rest)?;
                WatchMessage::Snapshot {
                    seq,
                    services,
                    recent,
                }
            }
            "loading" => {
                let Loading { services, bytes } = Loading::deserialize(rest)?;
                WatchMessage::Loading { services, bytes }
            }
            "event" => WatchMessage::Event(ConsoleEvent::deserialize(rest)?),
            _ => WatchMessage::Heartbeat {
                seq: Heartbeat::deserialize(rest)?.seq,
            },
        })
    }
}

impl<'de> Deserialize<'de> for LanMessage {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::de::tagged(deserializer)
    }
}

impl super::de::Tagged for LanMessage {
    const TAG: &'static str = "type";
    const VARIANTS: &'static [&'static str] = &["snapshot", "upsert", "remove", "heartbeat"];
    const EXPECTING: &'static str = "internally tagged enum LanMessage";

    fn variant<'de, D: serde::Deserializer<'de>>(variant: &str, rest: D) -> Result<Self, D::Error> {
        /// The fields of [`LanMessage::Remove`].
        #[derive(Deserialize)]
        #[serde(rename = "LanMessage::Remove")]
        struct Remove {
            fullname: String,
        }
        Ok(match variant {
            "snapshot" => LanMessage::Snapshot(LanSnapshot::deserialize(rest)?),
            "upsert" => LanMessage::Upsert(LanService::deserialize(rest)?),
            "remove" => LanMessage::Remove {
                fullname: Remove::deserialize(rest)?.fullname,
            },
            _ => {
                super::de::unit(rest)?;
                LanMessage::Heartbeat
            }
        })
    }
}
