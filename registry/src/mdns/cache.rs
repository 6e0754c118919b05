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
use std::time::{Duration, Instant, SystemTime};

use super::bounds::{MAX_CACHE_BYTES, MAX_NODES_PER_SERVICE, MAX_SERVICES};
use super::message::NodeObservation;
use super::stats::DropReason;
use crate::model::{Node, Service};

/// Fractions of the TTL at which a record is refreshed (RFC 6762 §5.2), then it expires.
const REFRESH_PERCENTS: [u32; 4] = [80, 85, 90, 95];

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

/// The cache.
#[derive(Debug, Default)]
pub struct Cache {
    /// By instance name (`<node id>.<service>.<domain>.`, unique per service and node).
    entries: HashMap<String, Entry>,
    /// Instance names per service name.
    by_service: BTreeMap<String, Vec<String>>,
    deadlines: BinaryHeap<Reverse<(Instant, u64, String)>>,
    bytes: usize,
    next_generation: u64,
}

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
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

    /// Whether the instance is owned by this process.
    pub fn is_owned(&self, instance: &str) -> bool {
        self.entries.get(instance).is_some_and(|entry| entry.owned)
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

    /// Marks a repeat packet about an unchanged node: it is alive, push its deadlines out.
    pub fn refresh(&mut self, instance: &str, ttl: Duration, now: Instant) -> Change {
        let generation = self.bump_generation();
        let Some(entry) = self.entries.get_mut(instance) else {
            return Change::Refreshed;
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
        }
        Change::Refreshed
    }

    /// Applies what a packet (or `register`) said about a node.
    pub fn upsert(
        &mut self,
        observation: NodeObservation,
        ttl: Duration,
        owned: bool,
        now: Instant,
    ) -> Result<Change, DropReason> {
        let NodeObservation {
            instance,
            host,
            service,
            raw_txt,
            ..
        } = observation;
        let bytes = entry_bytes(&instance, &host, &service, &raw_txt);
        let generation = self.bump_generation();
        if let Some(entry) = self.entries.get_mut(&instance) {
            if entry.owned && !owned {
                // Our own announcement looping back, or a peer claiming our node id: ours wins.
                entry.last_seen = now;
                return Ok(Change::Refreshed);
            }
            if !owned && self.bytes - entry.bytes + bytes > MAX_CACHE_BYTES {
                return Err(DropReason::CacheFull);
            }
            let changed = entry.service != service || entry.host != host;
            self.bytes = self.bytes - entry.bytes + bytes;
            entry.service = service;
            entry.host = host;
            entry.raw_txt = raw_txt;
            entry.last_seen = now;
            entry.ttl = ttl;
            entry.owned = owned;
            entry.refresh_step = 0;
            entry.generation = generation;
            entry.bytes = bytes;
            let service = entry.service.clone();
            if !owned {
                let deadline = deadline_of(entry, now);
                self.deadlines
                    .push(Reverse((deadline, generation, instance)));
                self.compact_deadlines();
            }
            return Ok(if changed {
                Change::Updated(service)
            } else {
                Change::Refreshed
            });
        }
        if !owned {
            let nodes = self.by_service.get(&service.name).map_or(0, Vec::len);
            let new_service = nodes == 0;
            if (new_service && self.by_service.len() >= MAX_SERVICES)
                || nodes >= MAX_NODES_PER_SERVICE
                || self.bytes + bytes > MAX_CACHE_BYTES
            {
                return Err(DropReason::CacheFull);
            }
        }
        let entry = Entry {
            host,
            service: service.clone(),
            raw_txt,
            first_seen: now,
            last_seen: now,
            ttl,
            owned,
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
        self.by_service
            .entry(service.name.clone())
            .or_default()
            .push(instance.clone());
        self.entries.insert(instance, entry);
        Ok(Change::Created(service))
    }

    /// Removes a node; its last known service-with-one-node, for the `delete` event.
    pub fn remove(&mut self, instance: &str) -> Option<Service> {
        let entry = self.entries.remove(instance)?;
        self.bytes -= entry.bytes;
        if let Some(instances) = self.by_service.get_mut(&entry.service.name) {
            instances.retain(|name| name != instance);
            if instances.is_empty() {
                self.by_service.remove(&entry.service.name);
            }
        }
        Some(entry.service)
    }

    /// Stops owning a node without removing it (it stays until its TTL runs out unless
    /// refreshed, like any node learned from the network).
    pub fn disown(&mut self, instance: &str, now: Instant) {
        let generation = self.bump_generation();
        if let Some(entry) = self.entries.get_mut(instance) {
            entry.owned = false;
            entry.last_seen = now;
            entry.refresh_step = 0;
            entry.generation = generation;
            let deadline = deadline_of(entry, now);
            self.deadlines
                .push(Reverse((deadline, generation, instance.to_string())));
        }
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

    /// Every service (one entry per name and version), sorted by name and version.
    pub fn services(&self) -> Vec<Service> {
        self.by_service
            .keys()
            .flat_map(|name| self.service(name))
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

/// What an entry costs: its texts plus the decoded service (estimated from its JSON size).
fn entry_bytes(instance: &str, host: &str, service: &Service, raw_txt: &[u8]) -> usize {
    let decoded = serde_json::to_vec(service).map_or(0, |json| json.len());
    instance.len() + host.len() + raw_txt.len() + decoded + 256
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn create_refresh_update_delete() {
        let mut cache = Cache::new();
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        let first = observation("n1", "10.0.0.1:1", "aa");
        assert!(matches!(
            cache.upsert(first.clone(), ttl, false, now),
            Ok(Change::Created(_))
        ));
        assert!(cache.is_unchanged("n1.svc.micro.", b"aa", "10.0.0.1:1"));
        assert_eq!(cache.upsert(first, ttl, false, now), Ok(Change::Refreshed));
        let moved = observation("n1", "10.0.0.2:1", "aa");
        assert!(matches!(
            cache.upsert(moved, ttl, false, now),
            Ok(Change::Updated(_))
        ));
        assert_eq!(cache.service("svc")[0].nodes[0].address, "10.0.0.2:1");
        assert!(cache.remove("n1.svc.micro.").is_some());
        assert!(cache.is_empty() && cache.bytes() == 0);
    }

    #[test]
    fn times_since_a_mark_holds_only_the_nodes_seen_since() {
        let mut cache = Cache::new();
        let start = Instant::now();
        let ttl = Duration::from_secs(10);
        for node in ["n1", "n2"] {
            cache
                .upsert(observation(node, "10.0.0.1:1", "aa"), ttl, false, start)
                .unwrap();
        }
        let all = cache.times_since(None, start);
        assert_eq!(all.nodes.len(), 2, "no mark: every node");
        assert_eq!(all.mark, start);

        // n2 answers again a second later; n1 stays silent.
        let later = start + Duration::from_secs(1);
        cache
            .upsert(observation("n2", "10.0.0.1:1", "aa"), ttl, false, later)
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
        let mut cache = Cache::new();
        let start = Instant::now();
        let ttl = Duration::from_secs(100);
        cache
            .upsert(observation("n1", "10.0.0.1:1", "aa"), ttl, false, start)
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
        let mut cache = Cache::new();
        let start = Instant::now();
        let ttl = Duration::from_secs(100);
        cache
            .upsert(observation("n1", "10.0.0.1:1", "aa"), ttl, false, start)
            .unwrap();
        let at = start + Duration::from_secs(85);
        assert_eq!(cache.due(at).refresh.len(), 1);
        cache.refresh("n1.svc.micro.", ttl, at);
        assert!(cache
            .due(start + Duration::from_secs(150))
            .expired
            .is_empty());
        assert_eq!(cache.due(start + Duration::from_secs(185)).expired.len(), 1);
    }

    #[test]
    fn owned_nodes_never_expire_and_win() {
        let mut cache = Cache::new();
        let now = Instant::now();
        let ttl = Duration::from_secs(1);
        cache
            .upsert(observation("n1", "10.0.0.1:1", "aa"), ttl, true, now)
            .unwrap();
        let impostor = observation("n1", "10.6.6.6:1", "bb");
        assert_eq!(
            cache.upsert(impostor, ttl, false, now),
            Ok(Change::Refreshed)
        );
        assert!(cache
            .due(now + Duration::from_secs(3600))
            .expired
            .is_empty());
        assert_eq!(cache.service("svc")[0].nodes[0].address, "10.0.0.1:1");
    }

    #[test]
    fn bounded_per_service() {
        let mut cache = Cache::new();
        let now = Instant::now();
        let ttl = Duration::from_secs(10);
        for i in 0..MAX_NODES_PER_SERVICE {
            let node = observation(&format!("n{i}"), "10.0.0.1:1", "aa");
            cache.upsert(node, ttl, false, now).unwrap();
        }
        let one_more = observation("straw", "10.0.0.1:1", "aa");
        assert_eq!(
            cache.upsert(one_more, ttl, false, now),
            Err(DropReason::CacheFull)
        );
        assert_eq!(cache.len(), MAX_NODES_PER_SERVICE);
    }
}
