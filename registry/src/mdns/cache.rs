//! The bounded cache of nodes seen on the link (and the ones this process owns).
//!
//! go-micro's watcher is passive and forgetful: every announcement is a `create`, every goodbye
//! a `delete`, and a killed node lingers in clients until someone asks again. This cache keeps
//! each node with its first-seen, last-seen and TTL, turns packets into real changes (create on
//! a new node, update when its TXT or address changes, nothing for a repeat), and keeps itself
//! fresh the way RFC 6762 §5.2 describes: it asks again at 80, 85, 90 and 95 % of a record's
//! TTL, so a live node never expires, and drops the node when the TTL runs out unanswered, so
//! a killed one disappears within its TTL.
//!
//! Deadlines live in a min-heap with lazy invalidation (an entry's generation changes whenever
//! its deadline moves), so the engine can sleep exactly until the next one.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant, SystemTime};

use super::admission::{Admission, Origin, Trust};
use super::bounds::{
    DEFAULT_SOURCE_QUOTA, MAX_CACHE_BYTES, MAX_NODES_PER_SERVICE, MAX_NODE_BYTES, MAX_SERVICES,
    MAX_SERVICE_BYTES, MAX_SOURCE_NODES_PER_SERVICE, SOURCE_BYTES_PER_NODE,
};
use super::message::NodeObservation;
use super::stats::DropReason;
use crate::footprint;
use crate::model::{Metadata, Node, Service};

/// Fractions of the TTL at which a record is refreshed (RFC 6762 §5.2), then it expires.
const REFRESH_PERCENTS: [u32; 4] = [80, 85, 90, 95];

/// A node heard again this long after its first sighting is a live peer, not a one-shot
/// announcement: go-micro and Muster announce at 0, 1 and 3 s, then answer refresh queries.
const CONFIRM_AFTER: Duration = Duration::from_millis(900);

/// Most nodes evicted to admit one (a node is at most [`MAX_NODE_BYTES`], the smallest far
/// less: the byte bounds may need several to go).
const MAX_EVICTIONS_PER_ADMISSION: usize = 256;

/// One cached node.
#[derive(Debug, Clone)]
struct Entry {
    host: String,
    /// The service with exactly this node.
    service: Service,
    raw_txt: Vec<u8>,
    first_seen: Instant,
    last_seen: Instant,
    ttl: Duration,
    owned: bool,
    /// Who sent it (`None`: registered here).
    source: Option<IpAddr>,
    trust: Trust,
    /// Its place among nodes of the same trust in the eviction order (oldest first).
    stamp: u64,
    /// How many refresh queries were already due since `last_seen` (0..=4).
    refresh_step: usize,
    /// Bumped whenever the deadline moves; stale heap entries carry an older one.
    generation: u64,
    bytes: usize,
}

/// A change the cache made, for the watchers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A node appeared.
    Created(Service),
    /// A node's TXT (version, endpoints, metadata) or address changed.
    Updated(Service),
    /// A node went away (goodbye, expiry, evict, deregister).
    Deleted(Service),
    /// Only the timestamps moved.
    Refreshed,
}

/// What came due at a tick.
#[derive(Debug, Default)]
pub struct Due {
    /// Services to query again because a node's record reached a refresh point, with the
    /// shortest TTL among those nodes (refresh queries are spaced relative to it).
    pub refresh: Vec<(String, Duration)>,
    /// Nodes whose TTL ran out unanswered (already removed).
    pub expired: Vec<Service>,
}

/// When a node was seen and when it expires ([`super::MdnsRegistry::timings_since`]): what a
/// console polls every second, without copying the node's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTimes {
    /// The service name.
    pub service: String,
    /// The node id.
    pub node_id: String,
    /// When this process first saw the node.
    pub first_seen: SystemTime,
    /// When a packet about it last arrived (or it was registered here).
    pub last_seen: SystemTime,
    /// When it expires unless refreshed; `None` for a node this process owns.
    pub expires_at: Option<SystemTime>,
    /// The TTL its records carry.
    pub ttl: Duration,
}

/// The answer to [`super::MdnsRegistry::timings_since`]: the nodes seen since the mark given,
/// and the mark to give next time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimesSince {
    /// Nodes whose last-seen time moved at or after the mark (every node when there was none).
    pub nodes: Vec<NodeTimes>,
    /// The engine's clock when this was read: pass it to the next call.
    pub mark: Instant,
}

/// A node as the console shows it ([`super::MdnsRegistry::nodes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedNode {
    /// The service name.
    pub service: String,
    /// The service version.
    pub version: String,
    /// The node (id, address, metadata).
    pub node: Node,
    /// The DNS instance name `<node id>.<service>.<domain>.`.
    pub instance: String,
    /// The SRV target host.
    pub host: String,
    /// When this process first saw the node.
    pub first_seen: SystemTime,
    /// When a packet about it last arrived (or it was registered here).
    pub last_seen: SystemTime,
    /// When it expires unless refreshed; `None` for a node this process owns without a TTL.
    pub expires_at: Option<SystemTime>,
    /// The TTL its records carry.
    pub ttl: Duration,
    /// Registered by this process (it answers for it and says goodbye for it).
    pub owned: bool,
}

/// What an upsert did: the change (or why the node was refused), and the nodes evicted to
/// make room for it (already removed; each owes its watchers a `delete`).
#[derive(Debug)]
pub struct Upserted {
    /// The change, or why the node was not cached.
    pub change: Result<Change, DropReason>,
    /// Less-trusted nodes evicted to make room.
    pub evicted: Vec<Service>,
}

impl Upserted {
    fn admitted(change: Change, evicted: Vec<Service>) -> Self {
        Upserted {
            change: Ok(change),
            evicted,
        }
    }

    fn refused(reason: DropReason, evicted: Vec<Service>) -> Self {
        Upserted {
            change: Err(reason),
            evicted,
        }
    }
}

/// The room a node from the network needs.
struct Need<'a> {
    instance: &'a str,
    service: &'a str,
    source: IpAddr,
    /// Bytes added (the growth, for an update from the same source).
    bytes: usize,
    /// A node not cached yet (counts against the node bounds).
    new_node: bool,
    /// A node not cached yet from this source (counts against the source's quota).
    new_for_source: bool,
}

/// The bound a newcomer would break, and so the scope in which a node must make room.
#[derive(Debug, Clone, Copy)]
enum Scope {
    /// The source's own quota (nodes or bytes), or its share of the service's nodes: the
    /// newcomer is refused, the source's earlier nodes stay.
    Source,
    /// The service's nodes or bytes.
    Service,
    /// The number of services.
    Services,
    /// The cache's bytes.
    Bytes,
}

/// The cache.
#[derive(Debug)]
pub struct Cache {
    /// By instance name (`<node id>.<service>.<domain>.`, unique per service and node).
    entries: HashMap<String, Entry>,
    /// Instance names per service name.
    by_service: BTreeMap<String, Vec<String>>,
    /// Nodes per service name and version, with the version's metadata: what a listing
    /// returns, kept as nodes come and go so that it costs the versions, not the nodes.
    versions: BTreeMap<(String, String), (usize, Metadata)>,
    /// Bytes held per service name.
    service_bytes: HashMap<String, usize>,
    deadlines: BinaryHeap<Reverse<(Instant, u64, String)>>,
    admission: Admission,
    source_quota: usize,
    source_bytes: usize,
    bytes: usize,
    next_generation: u64,
}

impl Default for Cache {
    fn default() -> Self {
        Cache::new(DEFAULT_SOURCE_QUOTA)
    }
}

impl Cache {
    /// An empty cache; one source address may hold `source_quota` nodes.
    pub fn new(source_quota: usize) -> Self {
        Cache {
            entries: HashMap::new(),
            by_service: BTreeMap::new(),
            versions: BTreeMap::new(),
            service_bytes: HashMap::new(),
            deadlines: BinaryHeap::new(),
            admission: Admission::default(),
            source_quota: source_quota.max(1),
            source_bytes: source_quota
                .saturating_mul(SOURCE_BYTES_PER_NODE)
                .min(MAX_CACHE_BYTES),
            bytes: 0,
            next_generation: 0,
        }
    }

    /// Source addresses with nodes in the cache now.
    pub fn sources(&self) -> usize {
        self.admission.sources()
    }

    /// Whether `source` has its quota of nodes: then a packet about a node not cached yet is
    /// refused without decoding it (a flood from one address costs a lookup per packet).
    pub fn source_is_full(&self, source: IpAddr, instance: &str) -> bool {
        !self.entries.contains_key(instance) && self.admission.share(source).0 >= self.source_quota
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when no node is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the instance is cached with exactly this TXT and address: then a packet about it
    /// is a refresh and need not be decoded at all.
    pub fn is_unchanged(&self, instance: &str, raw_txt: &[u8], address: &str) -> bool {
        self.entries.get(instance).is_some_and(|entry| {
            entry.raw_txt == raw_txt && entry.service.nodes[0].address == address
        })
    }

    /// The cached service-with-one-node of an instance.
    pub fn get(&self, instance: &str) -> Option<&Service> {
        self.entries.get(instance).map(|entry| &entry.service)
    }

    /// The instance name of a node, if cached.
    pub fn instance_of(&self, service: &str, node_id: &str) -> Option<&str> {
        self.by_service.get(service)?.iter().find_map(|instance| {
            let entry = self.entries.get(instance)?;
            (entry.service.nodes[0].id == node_id).then_some(instance.as_str())
        })
    }

    /// The host and raw TXT of a cached node (what a goodbye on its behalf must carry).
    pub fn wire_data(&self, instance: &str) -> Option<(&str, &[u8])> {
        self.entries
            .get(instance)
            .map(|entry| (entry.host.as_str(), entry.raw_txt.as_slice()))
    }

    /// Marks a repeat packet about an unchanged node: it is alive, push its deadlines out. A
    /// repeat that answered our query, or came a while after the first sighting, confirms it.
    pub fn refresh(&mut self, instance: &str, ttl: Duration, answered: bool, now: Instant) {
        let generation = self.bump_generation();
        let Some(entry) = self.entries.get_mut(instance) else {
            return;
        };
        entry.last_seen = now;
        if !entry.owned {
            entry.ttl = ttl;
            entry.refresh_step = 0;
            entry.generation = generation;
            let deadline = deadline_of(entry, now);
            self.deadlines
                .push(Reverse((deadline, generation, instance.to_string())));
            self.compact_deadlines();
            self.confirm(instance, answered, now);
        }
    }

    /// Applies what a packet (or `register`) said about a node. When a bound is reached the
    /// least-trusted, oldest node in its scope makes room (see `admission.rs`); the nodes
    /// evicted so are in the outcome either way, for their `delete` events.
    pub fn upsert(
        &mut self,
        observation: NodeObservation,
        ttl: Duration,
        origin: Origin,
        now: Instant,
    ) -> Upserted {
        let NodeObservation {
            instance,
            host,
            service,
            raw_txt,
            ..
        } = observation;
        let bytes = entry_bytes(&instance, &host, &service, &raw_txt);
        let owned = origin == Origin::Owned;
        let source = match origin {
            Origin::Owned => None,
            Origin::Heard { source, .. } => Some(source),
        };
        if !owned && bytes > MAX_NODE_BYTES {
            return Upserted::refused(DropReason::TxtTooLarge, Vec::new());
        }
        let existing = self
            .entries
            .get(&instance)
            .map(|entry| (entry.owned, entry.bytes, entry.source));
        let mut evicted = Vec::new();
        if let Some((was_owned, old_bytes, old_source)) = existing {
            if was_owned && !owned {
                // Our own announcement looping back, or a peer claiming our node id: ours wins.
                if let Some(entry) = self.entries.get_mut(&instance) {
                    entry.last_seen = now;
                }
                return Upserted::admitted(Change::Refreshed, evicted);
            }
            if let Some(source) = source {
                let moved = old_source != Some(source);
                let need = Need {
                    instance: &instance,
                    service: &service.name,
                    source,
                    bytes: if moved {
                        bytes
                    } else {
                        bytes.saturating_sub(old_bytes)
                    },
                    new_node: false,
                    new_for_source: moved,
                };
                if let Err(reason) = self.make_room(&need, &mut evicted) {
                    return Upserted::refused(reason, evicted);
                }
            }
            self.unrank(&instance);
            let generation = self.bump_generation();
            let Some(entry) = self.entries.get_mut(&instance) else {
                return Upserted::refused(DropReason::CacheFull, evicted);
            };
            let changed = entry.service != service || entry.host != host;
            self.bytes = self.bytes - entry.bytes + bytes;
            let name = service.name.clone();
            *self.service_bytes.entry(name).or_default() += bytes;
            if let Some(total) = self.service_bytes.get_mut(&entry.service.name) {
                *total = total.saturating_sub(entry.bytes);
            }
            // Most upserts here are refreshes of the same version: its count stays.
            if entry.service.version != service.version
                || entry.service.metadata != service.metadata
            {
                count_out(&mut self.versions, &entry.service);
                count_in(&mut self.versions, &service);
            }
            entry.service = service;
            entry.host = host;
            entry.raw_txt = raw_txt;
            entry.last_seen = now;
            entry.ttl = ttl;
            entry.owned = owned;
            if owned {
                entry.trust = Trust::Owned;
            }
            entry.source = source;
            entry.refresh_step = 0;
            entry.generation = generation;
            entry.bytes = bytes;
            let service = entry.service.clone();
            if !owned {
                let deadline = deadline_of(entry, now);
                self.deadlines
                    .push(Reverse((deadline, generation, instance.clone())));
                self.compact_deadlines();
            }
            self.rank(&instance);
            if let Origin::Heard { answered, .. } = origin {
                self.confirm(&instance, answered, now);
            }
            let change = if changed {
                Change::Updated(service)
            } else {
                Change::Refreshed
            };
            return Upserted::admitted(change, evicted);
        }
        if let Some(source) = source {
            let need = Need {
                instance: &instance,
                service: &service.name,
                source,
                bytes,
                new_node: true,
                new_for_source: true,
            };
            if let Err(reason) = self.make_room(&need, &mut evicted) {
                return Upserted::refused(reason, evicted);
            }
        }
        let generation = self.bump_generation();
        count_in(&mut self.versions, &service);
        let entry = Entry {
            host,
            service: service.clone(),
            raw_txt,
            first_seen: now,
            last_seen: now,
            ttl,
            owned,
            source,
            trust: if owned {
                Trust::Owned
            } else {
                Trust::Announced
            },
            stamp: 0,
            refresh_step: 0,
            generation,
            bytes,
        };
        if !owned {
            let deadline = deadline_of(&entry, now);
            self.deadlines
                .push(Reverse((deadline, generation, instance.clone())));
        }
        self.bytes += bytes;
        *self.service_bytes.entry(service.name.clone()).or_default() += bytes;
        self.by_service
            .entry(service.name.clone())
            .or_default()
            .push(instance.clone());
        self.entries.insert(instance.clone(), entry);
        self.rank(&instance);
        if let Origin::Heard { answered, .. } = origin {
            self.confirm(&instance, answered, now);
        }
        Upserted::admitted(Change::Created(service), evicted)
    }

    /// Removes a node; its last known service-with-one-node, for the `delete` event.
    pub fn remove(&mut self, instance: &str) -> Option<Service> {
        self.unrank(instance);
        let entry = self.entries.remove(instance)?;
        count_out(&mut self.versions, &entry.service);
        self.bytes -= entry.bytes;
        if let Some(total) = self.service_bytes.get_mut(&entry.service.name) {
            *total = total.saturating_sub(entry.bytes);
        }
        if let Some(instances) = self.by_service.get_mut(&entry.service.name) {
            instances.retain(|name| name != instance);
            if instances.is_empty() {
                self.by_service.remove(&entry.service.name);
                self.service_bytes.remove(&entry.service.name);
            }
        }
        Some(entry.service)
    }

    /// The next moment something comes due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Processes every deadline up to `now`: refresh points and expiries.
    pub fn due(&mut self, now: Instant) -> Due {
        let mut due = Due::default();
        while let Some(Reverse((at, generation, _))) = self.deadlines.peek() {
            if *at > now {
                break;
            }
            let generation = *generation;
            let Some(Reverse((_, _, instance))) = self.deadlines.pop() else {
                break;
            };
            let Some(entry) = self.entries.get_mut(&instance) else {
                continue;
            };
            if entry.generation != generation || entry.owned {
                continue;
            }
            if entry.refresh_step < REFRESH_PERCENTS.len() {
                entry.refresh_step += 1;
                match due
                    .refresh
                    .iter_mut()
                    .find(|(name, _)| *name == entry.service.name)
                {
                    Some((_, ttl)) => *ttl = (*ttl).min(entry.ttl),
                    None => due.refresh.push((entry.service.name.clone(), entry.ttl)),
                }
                let deadline = deadline_of(entry, now);
                self.deadlines
                    .push(Reverse((deadline, generation, instance)));
            } else if let Some(service) = self.remove(&instance) {
                due.expired.push(service);
            }
        }
        due
    }

    /// Every version of `name`, nodes merged per version and sorted by id.
    pub fn service(&self, name: &str) -> Vec<Service> {
        let mut versions: BTreeMap<&str, Service> = BTreeMap::new();
        for instance in self.by_service.get(name).into_iter().flatten() {
            let Some(entry) = self.entries.get(instance) else {
                continue;
            };
            let merged = versions
                .entry(entry.service.version.as_str())
                .or_insert_with(|| Service {
                    nodes: Vec::new(),
                    ..entry.service.clone()
                });
            merged.nodes.extend(entry.service.nodes.iter().cloned());
        }
        versions
            .into_values()
            .map(|mut service| {
                service.nodes.sort_by(|a, b| a.id.cmp(&b.id));
                service
            })
            .collect()
    }

    /// Every service version as a listing ([`Service::listing`]: no endpoints, no nodes),
    /// sorted by name and version: read from the kept count of versions, never from the
    /// nodes (reading each node's version was 4.5 ms with 10,000 nodes known).
    pub fn listing(&self) -> Vec<Service> {
        self.versions
            .iter()
            .map(|((name, version), (_, metadata))| Service {
                name: name.clone(),
                version: version.clone(),
                metadata: metadata.clone(),
                ..Service::default()
            })
            .collect()
    }

    /// Names of the services this process owns nodes of.
    pub fn owned_services(&self) -> Vec<String> {
        self.by_service
            .iter()
            .filter(|(_, instances)| {
                instances
                    .iter()
                    .any(|instance| self.entries.get(instance).is_some_and(|e| e.owned))
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// The timings of the nodes seen at or after `since` (all when `None`), unsorted. A
    /// console that polls every second with the previous mark copies only what moved: with
    /// 10,000 nodes known, the full [`Cache::snapshot`] every second was a third of an idle
    /// console's CPU (end-to-end bench).
    pub fn times_since(&self, since: Option<Instant>, now: Instant) -> TimesSince {
        let wall = wall_clock(now);
        let nodes = self
            .entries
            .values()
            .filter(|entry| since.is_none_or(|since| entry.last_seen >= since))
            .map(|entry| NodeTimes {
                service: entry.service.name.clone(),
                node_id: entry.service.nodes[0].id.clone(),
                first_seen: wall(entry.first_seen),
                last_seen: wall(entry.last_seen),
                expires_at: (!entry.owned).then(|| wall(entry.last_seen + entry.ttl)),
                ttl: entry.ttl,
            })
            .collect();
        TimesSince { nodes, mark: now }
    }

    /// A snapshot for the console, sorted by service, version and node id.
    pub fn snapshot(&self, now: Instant) -> Vec<CachedNode> {
        let wall = wall_clock(now);
        let mut nodes: Vec<CachedNode> = self
            .entries
            .iter()
            .map(|(instance, entry)| CachedNode {
                service: entry.service.name.clone(),
                version: entry.service.version.clone(),
                node: entry.service.nodes[0].clone(),
                instance: instance.clone(),
                host: entry.host.clone(),
                first_seen: wall(entry.first_seen),
                last_seen: wall(entry.last_seen),
                expires_at: (!entry.owned).then(|| wall(entry.last_seen + entry.ttl)),
                ttl: entry.ttl,
                owned: entry.owned,
            })
            .collect();
        nodes.sort_by(|a, b| {
            (&a.service, &a.version, &a.node.id).cmp(&(&b.service, &b.version, &b.node.id))
        });
        nodes
    }

    /// Bytes accounted against [`MAX_CACHE_BYTES`].
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Evicts least-trusted nodes until `need` fits every bound; [`DropReason::CacheFull`]
    /// when only nodes more trusted than a newcomer are left in the scope.
    fn make_room(&mut self, need: &Need, evicted: &mut Vec<Service>) -> Result<(), DropReason> {
        for _ in 0..MAX_EVICTIONS_PER_ADMISSION {
            let Some(scope) = self.broken_bound(need) else {
                return Ok(());
            };
            let exclude = need.instance;
            let victim = match scope {
                Scope::Source => return Err(DropReason::OverQuota),
                Scope::Service => self.victim_in_service(need.service, exclude),
                Scope::Services => self.admission.victim(exclude, |instance| {
                    self.entries.get(instance).is_some_and(|entry| {
                        self.by_service
                            .get(&entry.service.name)
                            .is_some_and(|nodes| nodes.len() == 1)
                    })
                }),
                Scope::Bytes => self.admission.victim(exclude, |_| true),
            }
            .map(str::to_string);
            let Some(victim) = victim else {
                return Err(DropReason::CacheFull);
            };
            evicted.extend(self.remove(&victim));
        }
        Err(DropReason::CacheFull)
    }

    /// The first bound `need` would break, if any.
    fn broken_bound(&self, need: &Need) -> Option<Scope> {
        let (source_nodes, source_bytes) = self.admission.share(need.source);
        let instances = self.by_service.get(need.service);
        let service_nodes = instances.map_or(0, Vec::len);
        let from_source = || {
            instances.into_iter().flatten().filter(|instance| {
                self.entries
                    .get(*instance)
                    .is_some_and(|entry| entry.source == Some(need.source))
            })
        };
        let service_bytes = self.service_bytes.get(need.service).copied().unwrap_or(0);
        if (need.new_for_source
            && (source_nodes >= self.source_quota
                || from_source().count() >= MAX_SOURCE_NODES_PER_SERVICE))
            || source_bytes + need.bytes > self.source_bytes
        {
            Some(Scope::Source)
        } else if (need.new_node && service_nodes >= MAX_NODES_PER_SERVICE)
            || service_bytes + need.bytes > MAX_SERVICE_BYTES
        {
            Some(Scope::Service)
        } else if need.new_node && service_nodes == 0 && self.by_service.len() >= MAX_SERVICES {
            Some(Scope::Services)
        } else if self.bytes + need.bytes > MAX_CACHE_BYTES {
            Some(Scope::Bytes)
        } else {
            None
        }
    }

    /// The least-trusted, oldest evictable node of `service`.
    fn victim_in_service(&self, service: &str, exclude: &str) -> Option<&str> {
        self.by_service
            .get(service)?
            .iter()
            .filter(|instance| *instance != exclude)
            .filter_map(|instance| Some((instance, self.entries.get(instance)?)))
            .filter(|(_, entry)| entry.trust == Trust::Announced && !entry.owned)
            .min_by_key(|(_, entry)| entry.stamp)
            .map(|(instance, _)| instance.as_str())
    }

    /// Puts a node learned from the network into the eviction order, as the newest of its
    /// trust.
    fn rank(&mut self, instance: &str) {
        let stamp = self.bump_generation();
        let Some(entry) = self.entries.get_mut(instance) else {
            return;
        };
        let Some(source) = entry.source.filter(|_| !entry.owned) else {
            return;
        };
        entry.stamp = stamp;
        self.admission.insert(
            (entry.trust, stamp, instance.to_string()),
            source,
            entry.bytes,
        );
    }

    /// Takes a node out of the eviction order (before it changes or goes).
    fn unrank(&mut self, instance: &str) {
        let Some(entry) = self.entries.get(instance) else {
            return;
        };
        if let Some(source) = entry.source.filter(|_| !entry.owned) {
            self.admission.remove(
                &(entry.trust, entry.stamp, instance.to_string()),
                source,
                entry.bytes,
            );
        }
    }

    /// Promotes a one-shot node that answered a query, or was heard again a while later.
    fn confirm(&mut self, instance: &str, answered: bool, now: Instant) {
        let due = self.entries.get(instance).is_some_and(|entry| {
            entry.trust == Trust::Announced
                && (answered || now.saturating_duration_since(entry.first_seen) >= CONFIRM_AFTER)
        });
        if due {
            self.unrank(instance);
            if let Some(entry) = self.entries.get_mut(instance) {
                entry.trust = Trust::Confirmed;
            }
            self.rank(instance);
        }
    }

    fn bump_generation(&mut self) -> u64 {
        self.next_generation += 1;
        self.next_generation
    }

    /// Refreshes push a heap entry each; rebuild once stale ones dominate.
    fn compact_deadlines(&mut self) {
        if self.deadlines.len() > 4 * self.entries.len() + 64 {
            let entries = &self.entries;
            let live: Vec<_> = std::mem::take(&mut self.deadlines)
                .into_iter()
                .filter(|Reverse((_, generation, instance))| {
                    entries
                        .get(instance)
                        .is_some_and(|entry| entry.generation == *generation)
                })
                .collect();
            self.deadlines = live.into();
        }
    }
}

/// The next deadline of an entry: its next refresh point (with up to 2 % jitter, RFC 6762
/// §5.2, so many caches do not query in lockstep), or its expiry after the last one.
fn deadline_of(entry: &Entry, now: Instant) -> Instant {
    let ttl = entry.ttl;
    let at = match REFRESH_PERCENTS.get(entry.refresh_step) {
        Some(percent) => {
            let jitter = fastrand::u32(0..=2);
            entry.last_seen + ttl * (percent + jitter) / 100
        }
        None => entry.last_seen + ttl,
    };
    at.max(now)
}

/// What an entry really holds: the decoded service ([`footprint::service`]), the TXT as
/// received, the host, the instance name in each index keyed by it (the map, the service's
/// list, the deadline heap, the two eviction orders) and the entry itself.
fn entry_bytes(instance: &str, host: &str, service: &Service, raw_txt: &[u8]) -> usize {
    const INDEXES: usize = 5;
    let name = std::mem::size_of::<String>() + footprint::string(instance);
    footprint::service(service)
        + footprint::heap_block(raw_txt.len())
        + footprint::string(host)
        + INDEXES * name
        + std::mem::size_of::<Entry>()
}

/// Converts the engine's monotonic instants to wall-clock times, taking `now` as the present.
fn wall_clock(now: Instant) -> impl Fn(Instant) -> SystemTime {
    let wall_now = SystemTime::now();
    move |at: Instant| {
        if at <= now {
            wall_now - (now - at)
        } else {
            wall_now + (at - now)
        }
    }
}

/// One more node of `service`'s version; the version's metadata is the latest node's.
fn count_in(versions: &mut BTreeMap<(String, String), (usize, Metadata)>, service: &Service) {
    let key = (service.name.clone(), service.version.clone());
    let (nodes, metadata) = versions.entry(key).or_default();
    *nodes += 1;
    metadata.clone_from(&service.metadata);
}

/// One node fewer of `service`'s version; the version is gone with its last node.
fn count_out(versions: &mut BTreeMap<(String, String), (usize, Metadata)>, service: &Service) {
    let key = (service.name.clone(), service.version.clone());
    if let Some((nodes, _)) = versions.get_mut(&key) {
        *nodes -= 1;
        if *nodes == 0 {
            versions.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    const HEARD: Origin = Origin::Heard {
        source: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 9)),
        answered: false,
    };

    fn observation(node: &str, address: &str, txt: &str) -> NodeObservation {
        NodeObservation {
            instance: format!("{node}.svc.micro."),
            host: "vm.".into(),
            service: Service {
                name: "svc".into(),
                version: "1".into(),
                nodes: vec![Node {
                    id: node.into(),
                    address: address.into(),
                    metadata: Default::default(),
                }],
                ..Default::default()
            },
            ttl: 10,
            raw_txt: txt.as_bytes().to_vec(),
        }
    }

    #[test]
    fn a_listing_names_each_version_once_without_nodes() {
        let mut cache = Cache::default();
        let (now, ttl) = (Instant::now(), Duration::from_secs(10));
        let node = |id: &str, name: &str, version: &str| {
            let mut seen = observation(id, "10.0.0.1:1", id);
            seen.instance = format!("{id}.{name}.micro.");
            seen.service.name = name.into();
            seen.service.version = version.into();
            seen
        };
        for seen in [
            node("a", "svc", "2"),
            node("b", "svc", "1"),
            node("c", "svc", "2"),
            node("d", "alpha", "1"),
        ] {
            assert!(cache.upsert(seen, ttl, HEARD, now).change.is_ok());
        }
        let listing = cache.listing();
        let listed: Vec<(&str, &str, usize)> = listing
            .iter()
            .map(|s| {
                (
                    s.name.as_str(),
                    s.version.as_str(),
                    s.nodes.len() + s.endpoints.len(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            [("alpha", "1", 0), ("svc", "1", 0), ("svc", "2", 0)]
        );

        // A node that changes version moves in the listing; a version goes with its last node.
        assert!(cache
            .upsert(node("a", "svc", "3"), ttl, HEARD, now)
            .change
            .is_ok());
        assert!(cache.remove("b.svc.micro.").is_some());
        let versions: Vec<(String, String)> = cache
            .listing()
            .into_iter()
            .map(|s| (s.name, s.version))
            .collect();
        let expected = [("alpha", "1"), ("svc", "2"), ("svc", "3")];
        assert_eq!(
            versions,
            expected.map(|(n, v)| (n.to_string(), v.to_string()))
        );
    }

    #[test]
    fn create_refresh_update_delete() {
        let mut cache = Cache::default();
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        let first = observation("n1", "10.0.0.1:1", "aa");
        assert!(matches!(
            cache.upsert(first.clone(), ttl, HEARD, now).change,
            Ok(Change::Created(_))
        ));
        assert!(cache.is_unchanged("n1.svc.micro.", b"aa", "10.0.0.1:1"));
        assert_eq!(
            cache.upsert(first, ttl, HEARD, now).change,
            Ok(Change::Refreshed)
        );
        let moved = observation("n1", "10.0.0.2:1", "aa");
        assert!(matches!(
            cache.upsert(moved, ttl, HEARD, now).change,
            Ok(Change::Updated(_))
        ));
        assert_eq!(cache.service("svc")[0].nodes[0].address, "10.0.0.2:1");
        assert!(cache.remove("n1.svc.micro.").is_some());
        assert!(cache.is_empty() && cache.bytes() == 0);
    }

    #[test]
    fn times_since_a_mark_holds_only_the_nodes_seen_since() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let ttl = Duration::from_secs(10);
        for node in ["n1", "n2"] {
            cache
                .upsert(observation(node, "10.0.0.1:1", "aa"), ttl, HEARD, start)
                .change
                .unwrap();
        }
        let all = cache.times_since(None, start);
        assert_eq!(all.nodes.len(), 2, "no mark: every node");
        assert_eq!(all.mark, start);

        // n2 answers again a second later; n1 stays silent.
        let later = start + Duration::from_secs(1);
        cache
            .upsert(observation("n2", "10.0.0.1:1", "aa"), ttl, HEARD, later)
            .change
            .unwrap();
        let moved = cache.times_since(Some(start + Duration::from_millis(500)), later);
        assert_eq!(moved.mark, later);
        assert_eq!(moved.nodes.len(), 1);
        let n2 = &moved.nodes[0];
        assert_eq!((n2.service.as_str(), n2.node_id.as_str()), ("svc", "n2"));
        assert_eq!(n2.ttl, ttl);
        assert_eq!(n2.expires_at, Some(n2.last_seen + ttl));
        assert!(
            n2.first_seen < n2.last_seen,
            "first seen stays the first sighting"
        );

        assert!(cache
            .times_since(Some(later + Duration::from_millis(1)), later)
            .nodes
            .is_empty());
    }

    #[test]
    fn refreshes_at_80_to_95_percent_then_expires() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let ttl = Duration::from_secs(100);
        cache
            .upsert(observation("n1", "10.0.0.1:1", "aa"), ttl, HEARD, start)
            .change
            .unwrap();
        let mut refreshes = 0;
        for second in 0..=100 {
            let due = cache.due(start + Duration::from_secs(second));
            refreshes += due.refresh.len();
            if second < 100 {
                assert!(due.expired.is_empty(), "expired early at {second} s");
                assert!(
                    second >= 80 || due.refresh.is_empty(),
                    "refresh before 80 % ({second} s)"
                );
            } else {
                assert_eq!(due.expired.len(), 1);
            }
        }
        assert_eq!(refreshes, 4);
        assert!(cache.is_empty());
    }

    #[test]
    fn answered_refresh_pushes_expiry_out() {
        let mut cache = Cache::default();
        let start = Instant::now();
        let ttl = Duration::from_secs(100);
        cache
            .upsert(observation("n1", "10.0.0.1:1", "aa"), ttl, HEARD, start)
            .change
            .unwrap();
        let at = start + Duration::from_secs(85);
        assert_eq!(cache.due(at).refresh.len(), 1);
        cache.refresh("n1.svc.micro.", ttl, false, at);
        assert!(cache
            .due(start + Duration::from_secs(150))
            .expired
            .is_empty());
        assert_eq!(cache.due(start + Duration::from_secs(185)).expired.len(), 1);
    }

    #[test]
    fn owned_nodes_never_expire_and_win() {
        let mut cache = Cache::default();
        let now = Instant::now();
        let ttl = Duration::from_secs(1);
        cache
            .upsert(
                observation("n1", "10.0.0.1:1", "aa"),
                ttl,
                Origin::Owned,
                now,
            )
            .change
            .unwrap();
        let impostor = observation("n1", "10.6.6.6:1", "bb");
        assert_eq!(
            cache.upsert(impostor, ttl, HEARD, now).change,
            Ok(Change::Refreshed)
        );
        assert!(cache
            .due(now + Duration::from_secs(3600))
            .expired
            .is_empty());
        assert_eq!(cache.service("svc")[0].nodes[0].address, "10.0.0.1:1");
    }

    fn from(last_octet: u8, answered: bool) -> Origin {
        Origin::Heard {
            source: IpAddr::V4(Ipv4Addr::new(10, 0, 0, last_octet)),
            answered,
        }
    }

    fn node_of(service: &str, node: &str) -> NodeObservation {
        let mut observation = observation(node, "10.0.0.1:1", "aa");
        observation.instance = format!("{node}.{service}.micro.");
        observation.service.name = service.into();
        observation
    }

    #[test]
    fn a_flood_from_one_source_stays_in_its_share() {
        let mut cache = Cache::new(100);
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        for i in 0..10_000 {
            let fake = node_of(&format!("fake{i}"), "n");
            let upserted = cache.upsert(fake, ttl, from(66, false), now);
            if i >= 100 {
                assert_eq!(upserted.change, Err(DropReason::OverQuota));
            }
            assert!(
                upserted.evicted.is_empty(),
                "a source never evicts for itself"
            );
        }
        assert_eq!(cache.len(), 100, "the flooder holds its share only");
        assert!(cache.source_is_full(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 66)), "x.y.micro."));
        let real = node_of("real", "r1");
        assert!(matches!(
            cache.upsert(real, ttl, from(1, false), now).change,
            Ok(Change::Created(_))
        ));
        assert_eq!(cache.service("real").len(), 1);
    }

    #[test]
    fn a_full_service_evicts_one_shot_nodes_never_answered_ones() {
        let mut cache = Cache::new(1000);
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        let half = MAX_SOURCE_NODES_PER_SERVICE;
        for i in 0..half {
            let real = node_of("svc", &format!("real{i}"));
            cache.upsert(real, ttl, from(1, true), now).change.unwrap();
            cache.refresh(&format!("real{i}.svc.micro."), ttl, true, now);
        }
        for i in 0..(MAX_NODES_PER_SERVICE - half) {
            let fake = node_of("svc", &format!("fake{i}"));
            cache
                .upsert(fake, ttl, from(66, false), now)
                .change
                .unwrap();
        }
        assert_eq!(cache.service("svc")[0].nodes.len(), MAX_NODES_PER_SERVICE);
        let newcomer = node_of("svc", "newcomer");
        let upserted = cache.upsert(newcomer, ttl, from(2, false), now);
        assert!(matches!(upserted.change, Ok(Change::Created(_))));
        assert_eq!(upserted.evicted.len(), 1);
        assert_eq!(
            upserted.evicted[0].nodes[0].id, "fake0",
            "the oldest one-shot node"
        );
        let nodes = &cache.service("svc")[0].nodes;
        assert_eq!(
            nodes.iter().filter(|n| n.id.starts_with("real")).count(),
            half,
            "every node that answered is kept"
        );
        assert!(nodes.iter().any(|n| n.id == "newcomer"));
    }

    #[test]
    fn when_only_trusted_nodes_are_left_a_newcomer_is_refused() {
        let mut cache = Cache::new(1000);
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        for i in 0..MAX_NODES_PER_SERVICE {
            let source = from(1 + (i / MAX_SOURCE_NODES_PER_SERVICE) as u8, true);
            let real = node_of("svc", &format!("real{i}"));
            cache.upsert(real, ttl, source, now).change.unwrap();
            cache.refresh(&format!("real{i}.svc.micro."), ttl, true, now);
        }
        let upserted = cache.upsert(node_of("svc", "straw"), ttl, from(66, false), now);
        assert_eq!(upserted.change, Err(DropReason::CacheFull));
        assert!(upserted.evicted.is_empty());
        assert_eq!(cache.len(), MAX_NODES_PER_SERVICE);
    }

    #[test]
    fn an_oversized_node_is_refused_and_owned_nodes_never_make_room() {
        let mut cache = Cache::new(1);
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        let mut fat = node_of("svc", "fat");
        fat.service.nodes[0].metadata = (0..127)
            .map(|i| (format!("k{i}"), "x".repeat(4000)))
            .collect();
        let upserted = cache.upsert(fat, ttl, from(66, false), now);
        assert_eq!(upserted.change, Err(DropReason::TxtTooLarge));
        assert!(cache.is_empty());

        cache
            .upsert(node_of("mine", "m"), ttl, Origin::Owned, now)
            .change
            .unwrap();
        for i in 0..10 {
            let fake = node_of(&format!("fake{i}"), "n");
            let upserted = cache.upsert(fake, ttl, from(66, false), now);
            assert_eq!(upserted.change.is_ok(), i == 0);
        }
        assert_eq!(
            cache.len(),
            2,
            "the owned node and the flooder's one-node share"
        );
        assert!(
            cache.get("n.fake0.micro.").is_some(),
            "the share's first node stays"
        );
        assert!(cache
            .entries
            .get("m.mine.micro.")
            .is_some_and(|entry| entry.owned));
    }
}
