//! The one task that owns the sockets and the cache.
//!
//! Everything else talks to it through [`Command`]s and hears from it through the event
//! broadcast; nothing shares a lock with the network loop. Each turn of the loop waits for the
//! first of: a command, a datagram on any socket, or the earliest deadline (timers and cache
//! refresh/expiry points are data, see `timers.rs` and `cache.rs`), and handles just that.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::admission::Origin;
use super::announcer::{self, OwnedNode, ANNOUNCE_OFFSETS};
use super::cache::{Cache, CachedNode, Change, TimesSince};
use super::message::{self, InstanceRecords, NodeObservation, NodeRecords};
use super::names::Names;
use super::querier::{self, Querier, Waiting};
use super::responder::{self, Zone};
use super::sockets::{Sockets, RECV_BUFFER_BYTES};
use super::stats::{Counters, DropReason};
use super::timers::{Timer, Timers};
use super::EvictOutcome;
use crate::error::{Error, Result};
use crate::event::{Action, Event};
use crate::model::Service;

/// Events buffered per watcher before it is told it lagged.
pub const EVENT_BUFFER: usize = 1024;

/// Evictions remembered to recognise the echoes of their goodbyes.
const MAX_REMEMBERED_EVICTIONS: usize = 1024;

/// How long a datagram is remembered to recognise its copies. Every packet comes once per
/// family (and interface), read from different sockets in no fixed order; processing only the
/// first copy means a late copy of an OLDER packet can never undo a newer one (the older
/// packet's first copy was read before the newer one on the same socket). Copies arrive within
/// milliseconds; a real repeat (the next announcement, a refresh answer) comes much later.
const DUPLICATE_WINDOW: Duration = Duration::from_millis(250);

/// Datagram fingerprints remembered; past this, only those inside the window are kept.
const MAX_REMEMBERED_DATAGRAMS: usize = 8192;

/// Answer packets the responder sends per second at most (a burst of as many is allowed):
/// enough for hundreds of queriers, not enough to turn this process into a flood amplifier.
const ANSWERS_PER_SECOND: f64 = 512.0;

/// What the registry handle asks of the engine.
#[derive(Debug)]
pub enum Command {
    /// Register (or refresh) every node of a service.
    Register {
        service: Service,
        ttl: Option<Duration>,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Deregister the listed nodes.
    Deregister {
        service: Service,
        reply: oneshot::Sender<Result<()>>,
    },
    /// Every version of a service.
    Get {
        name: String,
        fresh: bool,
        timeout: Duration,
        reply: oneshot::Sender<Result<Vec<Service>>>,
    },
    /// Every service.
    List {
        fresh: bool,
        timeout: Duration,
        reply: oneshot::Sender<Result<Vec<Service>>>,
    },
    /// A new event subscription.
    Watch {
        reply: oneshot::Sender<broadcast::Receiver<Event>>,
    },
    /// Goodbye on behalf of a node, then check whether its owner answers.
    Evict {
        service: String,
        node_id: String,
        window: Duration,
        reply: oneshot::Sender<Result<EvictOutcome>>,
    },
    /// The cache, for the console.
    Nodes {
        reply: oneshot::Sender<Vec<CachedNode>>,
    },
    /// The timings of the nodes seen since a mark, for the console.
    Times {
        since: Option<Instant>,
        reply: oneshot::Sender<TimesSince>,
    },
    /// Goodbye for every owned node, then stop.
    Shutdown { reply: oneshot::Sender<()> },
}

/// The engine's fixed settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The domain's names.
    pub names: Names,
    /// This host's name with the trailing dot.
    pub host: String,
    /// TTL of the records this process announces.
    pub ttl: Duration,
    /// The query timeout (the start-up query makes the cache warm after twice this).
    pub timeout: Duration,
    /// Nodes one source address may have in the cache.
    pub source_quota: usize,
    /// Longest TTL believed from the network.
    pub max_ttl: Duration,
}

/// The engine's state (the sockets are the loop's, lent to each handler).
pub struct Engine {
    config: EngineConfig,
    ttl_secs: u32,
    cache: Cache,
    owned: BTreeMap<String, OwnedNode>,
    timers: Timers,
    querier: Querier,
    events: broadcast::Sender<Event>,
    counters: Arc<Counters>,
    warm_at: Instant,
    generation: u64,
    answer_tokens: f64,
    tokens_at: Instant,
    /// Instances this process said goodbye for on someone else's behalf, and when: the copies
    /// of that goodbye loop back (multicast loop, both families) and must not delete the node
    /// again once its live owner has answered.
    evicted: HashMap<String, Instant>,
    /// Fingerprints of recently processed datagrams, and when.
    recent_datagrams: HashMap<u64, Instant>,
}

impl Engine {
    /// A fresh engine; `counters` are shared with the handle.
    pub fn new(config: EngineConfig, counters: Arc<Counters>) -> Engine {
        let now = Instant::now();
        let warm_at = now + (config.timeout * 2).max(Duration::from_millis(200));
        let ttl_secs = u32::try_from(config.ttl.as_secs())
            .unwrap_or(u32::MAX)
            .max(1);
        let cache = Cache::new(config.source_quota);
        Engine {
            config,
            ttl_secs,
            cache,
            owned: BTreeMap::new(),
            timers: Timers::default(),
            querier: Querier::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            counters,
            warm_at,
            generation: 0,
            answer_tokens: ANSWERS_PER_SECOND,
            tokens_at: now,
            evicted: HashMap::new(),
            recent_datagrams: HashMap::new(),
        }
    }

    /// Runs until shutdown (or until every handle is gone, which is a clean shutdown too).
    pub async fn run(mut self, sockets: Sockets, mut commands: mpsc::Receiver<Command>) {
        let mut buffers = [
            vec![0u8; RECV_BUFFER_BYTES],
            vec![0u8; RECV_BUFFER_BYTES],
            vec![0u8; RECV_BUFFER_BYTES],
            vec![0u8; RECV_BUFFER_BYTES],
        ];
        // Warm the cache: ask what services exist, then (on the wildcard answers) their nodes.
        let services = self.config.names.services();
        self.send_query(&sockets, &services, Instant::now(), None)
            .await;
        loop {
            let deadline = earliest(self.timers.next_deadline(), self.cache.next_deadline());
            let [b0, b1, b2, b3] = &mut buffers;
            tokio::select! {
                command = commands.recv() => match command {
                    Some(Command::Shutdown { reply }) => {
                        self.goodbye_all(&sockets).await;
                        let _ = reply.send(());
                        break;
                    }
                    Some(command) => {
                        self.on_command(&sockets, command).await;
                        self.update_gauges();
                    }
                    None => {
                        self.goodbye_all(&sockets).await;
                        break;
                    }
                },
                received = recv(sockets.mdns_v4.as_ref(), b0) => {
                    self.on_received(&sockets, received, b0, true).await;
                    self.update_gauges();
                }
                received = recv(sockets.mdns_v6.as_ref(), b1) => {
                    self.on_received(&sockets, received, b1, true).await;
                    self.update_gauges();
                }
                received = recv(sockets.query_v4.as_ref(), b2) => {
                    self.on_received(&sockets, received, b2, false).await;
                    self.update_gauges();
                }
                received = recv(sockets.query_v6.as_ref(), b3) => {
                    self.on_received(&sockets, received, b3, false).await;
                    self.update_gauges();
                }
                () = sleep_until(deadline) => {
                    self.on_tick(&sockets).await;
                    self.update_gauges();
                }
            }
        }
        for waiting in self.querier.drain() {
            let stopped = || Error::Backend("mdns registry shut down".into());
            match waiting {
                Waiting::Get { reply, .. } | Waiting::List { reply } => {
                    let _ = reply.send(Err(stopped()));
                }
                Waiting::Evict { reply, .. } => {
                    let _ = reply.send(Err(stopped()));
                }
            }
        }
    }

    async fn on_received(
        &mut self,
        sockets: &Sockets,
        received: io::Result<(usize, SocketAddr)>,
        buffer: &[u8],
        multicast: bool,
    ) {
        match received {
            Ok((length, from)) => {
                let datagram = &buffer[..length];
                // Copies are a multicast affair (one per family and interface). Unicast answers
                // to our queries are never dropped as copies: identical answers to two queries
                // (ID 0, same question) are both news, e.g. after an evict.
                if multicast && self.is_copy(datagram) {
                    Counters::bump(&self.counters.packets_received);
                    return;
                }
                self.on_datagram(sockets, datagram, from, !multicast).await
            }
            // ICMP errors of earlier sends surface here on some kernels; nothing to do.
            Err(error) => tracing::debug!("mdns: receive error: {error}"),
        }
    }

    /// One datagram from anywhere: answer it if it asks about us, learn from it if it tells.
    /// `answered`: it came on a query socket, in answer to a query of ours.
    pub async fn on_datagram(
        &mut self,
        sockets: &Sockets,
        datagram: &[u8],
        from: SocketAddr,
        answered: bool,
    ) {
        Counters::bump(&self.counters.packets_received);
        let parsed = match message::parse_packet(datagram) {
            Ok(parsed) => parsed,
            Err(reason) => {
                self.dropped(reason, from, "not a DNS message");
                return;
            }
        };
        for _ in 0..parsed.bad_names {
            self.dropped(DropReason::BadName, from, "name is not text in the scheme");
        }
        // RFC 6762 §6: questions in a response are not questions; only a query gets answers.
        if !parsed.is_response && !parsed.questions.is_empty() && !self.owned.is_empty() {
            let zone = Zone {
                names: &self.config.names,
                host: &self.config.host,
                owned: &self.owned,
                ttl: self.ttl_secs,
            };
            let answers = responder::answers(&parsed, &zone);
            for answer in answers {
                if !self.take_answer_token() {
                    self.dropped(DropReason::RateLimited, from, "answer rate limit");
                    break;
                }
                self.send_unicast(sockets, &answer, from).await;
                Counters::bump(&self.counters.queries_answered);
            }
        }
        let now = Instant::now();
        let origin = Origin::Heard {
            source: from.ip(),
            answered,
        };
        for records in &parsed.instances {
            self.learn(sockets, records, from, origin, now).await;
        }
    }

    /// Whether an identical datagram was processed within [`DUPLICATE_WINDOW`] (then this is
    /// its copy from the other family or interface); remembers it otherwise.
    fn is_copy(&mut self, datagram: &[u8]) -> bool {
        use std::hash::{Hash, Hasher};
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        datagram.hash(&mut hasher);
        let fingerprint = hasher.finish();
        let now = Instant::now();
        if let Some(at) = self.recent_datagrams.get(&fingerprint) {
            if now.saturating_duration_since(*at) < DUPLICATE_WINDOW {
                return true;
            }
        }
        if self.recent_datagrams.len() >= MAX_REMEMBERED_DATAGRAMS {
            self.recent_datagrams
                .retain(|_, at| now.saturating_duration_since(*at) < DUPLICATE_WINDOW);
            if self.recent_datagrams.len() >= MAX_REMEMBERED_DATAGRAMS {
                self.recent_datagrams.clear();
            }
        }
        self.recent_datagrams.insert(fingerprint, now);
        false
    }

    /// What one packet says about one instance name.
    async fn learn(
        &mut self,
        sockets: &Sockets,
        records: &InstanceRecords,
        from: SocketAddr,
        origin: Origin,
        now: Instant,
    ) {
        if let Some(service) = self
            .config
            .names
            .service_of_services_instance(&records.name)
        {
            // A list-wildcard answer names a service; ask for its nodes if we know none.
            if records.ttl() > 0 && self.cache.service(service).is_empty() {
                let owner = self.config.names.service(service);
                self.send_query(sockets, &owner, now, Some(querier::MIN_REQUERY_INTERVAL))
                    .await;
            }
            return;
        }
        let ttl = records.ttl();
        if ttl == 0 {
            let own_echo = self
                .evicted
                .get(&records.name)
                .is_some_and(|at| now.saturating_duration_since(*at) < DUPLICATE_WINDOW);
            if own_echo {
                return;
            }
            if self.owned.contains_key(&records.name) {
                // Someone said goodbye for a node we own (an evict): we are alive, say so.
                self.defend(sockets, &records.name).await;
            } else if let Some(service) = self.cache.remove(&records.name) {
                self.emit(Change::Deleted(service));
            }
            return;
        }
        let (Some((raw_txt, _)), Some(address)) = (&records.txt, records.address()) else {
            return;
        };
        if let Origin::Heard { source, .. } = origin {
            if self.cache.source_is_full(source, &records.name) {
                self.dropped(DropReason::OverQuota, from, "source address over its quota");
                return;
            }
        }
        // The sender chooses the TTL; a node that really lives that long answers the refresh
        // queries sent at 80 % of the capped one.
        let ttl = Duration::from_secs(u64::from(ttl)).min(self.config.max_ttl);
        // A repeat (a refresh answer, the 2nd and 3rd announcement) with the
        // same TXT and address needs no decoding: it only proves the node is alive.
        if self.cache.is_unchanged(&records.name, raw_txt, &address) {
            let answered = matches!(origin, Origin::Heard { answered: true, .. });
            self.cache.refresh(&records.name, ttl, answered, now);
            return;
        }
        match message::observe(records, &self.config.names) {
            None => {}
            Some(Err(reason)) => self.dropped(reason, from, "undecodable node records"),
            Some(Ok(observation)) => {
                let upserted = self.cache.upsert(observation, ttl, origin, now);
                for service in upserted.evicted {
                    Counters::bump(&self.counters.evicted);
                    self.emit(Change::Deleted(service));
                }
                match upserted.change {
                    Ok(change) => self.emit(change),
                    Err(reason) => self.dropped(reason, from, "cache bound reached"),
                }
            }
        }
    }

    async fn on_command(&mut self, sockets: &Sockets, command: Command) {
        let now = Instant::now();
        match command {
            Command::Register {
                service,
                ttl,
                reply,
            } => {
                let result = self.register(sockets, service, ttl, now).await;
                let _ = reply.send(result);
            }
            Command::Deregister { service, reply } => {
                if let Err(error) = crate::validate::registration(&service) {
                    let _ = reply.send(Err(error));
                    return;
                }
                for node in &service.nodes {
                    let instance = self.config.names.instance(&service.name, &node.id);
                    self.drop_owned(sockets, &instance).await;
                }
                let _ = reply.send(Ok(()));
            }
            Command::Get {
                name,
                fresh,
                timeout,
                reply,
            } => {
                let cached = self.cache.service(&name);
                if !fresh && now >= self.warm_at && !cached.is_empty() {
                    let _ = reply.send(Ok(cached));
                    return;
                }
                let owner = self.config.names.service(&name);
                self.send_query(sockets, &owner, now, None).await;
                let id = self.querier.wait(Waiting::Get { name, reply });
                self.timers
                    .schedule(now + timeout, Timer::QueryDeadline { id });
            }
            Command::List {
                fresh,
                timeout,
                reply,
            } => {
                if !fresh && now >= self.warm_at {
                    let _ = reply.send(Ok(self.cache.listing()));
                    return;
                }
                let services = self.config.names.services();
                self.send_query(sockets, &services, now, None).await;
                let id = self.querier.wait(Waiting::List { reply });
                self.timers
                    .schedule(now + timeout, Timer::QueryDeadline { id });
            }
            Command::Watch { reply } => {
                let _ = reply.send(self.events.subscribe());
            }
            Command::Evict {
                service,
                node_id,
                window,
                reply,
            } => {
                self.evict(sockets, service, node_id, window, reply, now)
                    .await
            }
            Command::Nodes { reply } => {
                let _ = reply.send(self.cache.snapshot(now));
            }
            Command::Times { since, reply } => {
                let _ = reply.send(self.cache.times_since(since, now));
            }
            Command::Shutdown { .. } => unreachable!("handled by the loop"),
        }
    }

    async fn register(
        &mut self,
        sockets: &Sockets,
        service: Service,
        ttl: Option<Duration>,
        now: Instant,
    ) -> Result<()> {
        crate::validate::registration_with_ttl(&service, ttl)?;
        let names = &self.config.names;
        let mut nodes = Vec::with_capacity(service.nodes.len());
        // Check every node before touching anything: a refused registration changes nothing.
        for node in &service.nodes {
            let records = announcer::node_records(names, &self.config.host, &service, node)?;
            nodes.push((records, announcer::single_node(&service, node)));
        }
        let expires_at = ttl.map(|ttl| now + ttl);
        for (records, single) in nodes {
            let instance = records.instance.clone();
            if let Some(expiry) = expires_at {
                self.timers.schedule(
                    expiry,
                    Timer::OwnedExpiry {
                        instance: instance.clone(),
                    },
                );
            }
            if let Some(existing) = self.owned.get_mut(&instance) {
                if existing.records == records && existing.service == single {
                    // A periodic re-registration: renew, announce nothing (as go-micro).
                    existing.expires_at = expires_at;
                    continue;
                }
            }
            self.generation += 1;
            let generation = self.generation;
            let observation = NodeObservation {
                instance: instance.clone(),
                host: records.host.clone(),
                service: single.clone(),
                ttl: self.ttl_secs,
                raw_txt: records.txt.concat().into_bytes(),
            };
            self.owned.insert(
                instance.clone(),
                OwnedNode {
                    records,
                    service: single,
                    generation,
                    expires_at,
                },
            );
            let upserted = self
                .cache
                .upsert(observation, self.config.ttl, Origin::Owned, now);
            if let Ok(change) = upserted.change {
                self.emit(change);
            }
            self.announce(sockets, &instance).await;
            self.timers.schedule(
                now + ANNOUNCE_OFFSETS[1],
                Timer::Announce {
                    instance,
                    generation,
                    remaining: 2,
                },
            );
        }
        Ok(())
    }

    async fn evict(
        &mut self,
        sockets: &Sockets,
        service: String,
        node_id: String,
        window: Duration,
        reply: oneshot::Sender<Result<EvictOutcome>>,
        now: Instant,
    ) {
        let Some(instance) = self
            .cache
            .instance_of(&service, &node_id)
            .map(str::to_string)
        else {
            let _ = reply.send(Err(Error::NotFound));
            return;
        };
        if self.owned.contains_key(&instance) {
            self.drop_owned(sockets, &instance).await;
            let _ = reply.send(Ok(EvictOutcome {
                owned: true,
                goodbye_sent: true,
                owner_answered: false,
            }));
            return;
        }
        let goodbye = self
            .foreign_records(&instance)
            .map(|records| message::announcement(&records, 0));
        if self.evicted.len() >= MAX_REMEMBERED_EVICTIONS {
            self.evicted
                .retain(|_, at| now.saturating_duration_since(*at) < DUPLICATE_WINDOW);
        }
        self.evicted.insert(instance.clone(), now);
        let goodbye_sent = match goodbye {
            Some(packet) => {
                self.send_multicast(sockets, &packet).await;
                Counters::bump(&self.counters.goodbyes_sent);
                true
            }
            None => false,
        };
        if let Some(service) = self.cache.remove(&instance) {
            self.emit(Change::Deleted(service));
        }
        // A live owner answers the next query (go-micro) or defends its node at once (Muster).
        let owner = self.config.names.service(&service);
        self.send_query(sockets, &owner, now, None).await;
        let outcome = EvictOutcome {
            owned: false,
            goodbye_sent,
            owner_answered: false,
        };
        let id = self.querier.wait(Waiting::Evict {
            instance,
            outcome,
            reply,
        });
        self.timers
            .schedule(now + window, Timer::QueryDeadline { id });
    }

    /// The records of a node we learned from the network, rebuilt for a goodbye on its
    /// behalf: its own TXT as received (go-micro watchers ignore a goodbye whose TXT they
    /// cannot decode), cut again into 255-character strings.
    fn foreign_records(&self, instance: &str) -> Option<NodeRecords> {
        let service = self.cache.get(instance)?;
        let (host, raw_txt) = self.cache.wire_data(instance)?;
        let address: SocketAddr = service.nodes.first()?.address.parse().ok()?;
        let txt = raw_txt
            .chunks(super::txt::MAX_STRING_CHARS)
            .map(|chunk| String::from_utf8(chunk.to_vec()).ok())
            .collect::<Option<Vec<String>>>()?;
        Some(NodeRecords {
            service_owner: self.config.names.service(&service.name),
            instance: instance.to_string(),
            host: host.to_string(),
            ip: address.ip(),
            port: address.port(),
            txt,
        })
    }

    async fn on_tick(&mut self, sockets: &Sockets) {
        let now = Instant::now();
        for timer in self.timers.pop_due(now) {
            match timer {
                Timer::Announce {
                    instance,
                    generation,
                    remaining,
                } => {
                    if self.owned.get(&instance).map(|node| node.generation) != Some(generation) {
                        continue;
                    }
                    self.announce(sockets, &instance).await;
                    if remaining > 1 {
                        let sent = ANNOUNCE_OFFSETS.len() - usize::from(remaining) + 1;
                        let gap = ANNOUNCE_OFFSETS[sent] - ANNOUNCE_OFFSETS[sent - 1];
                        self.timers.schedule(
                            now + gap,
                            Timer::Announce {
                                instance,
                                generation,
                                remaining: remaining - 1,
                            },
                        );
                    }
                }
                Timer::OwnedExpiry { instance } => {
                    let lapsed = self
                        .owned
                        .get(&instance)
                        .and_then(|node| node.expires_at)
                        .is_some_and(|at| at <= now);
                    if lapsed {
                        self.drop_owned(sockets, &instance).await;
                    }
                }
                Timer::QueryDeadline { id } => self.complete(id),
            }
        }
        let due = self.cache.due(now);
        for (service, ttl) in due.refresh {
            // The four refresh points are 5 % of the TTL apart; keep each its own query.
            let spacing = (ttl / 25).min(querier::MIN_REQUERY_INTERVAL);
            let owner = self.config.names.service(&service);
            self.send_query(sockets, &owner, now, Some(spacing)).await;
        }
        for service in due.expired {
            self.emit(Change::Deleted(service));
        }
    }

    fn complete(&mut self, id: u64) {
        match self.querier.take(id) {
            Some(Waiting::Get { name, reply }) => {
                let services = self.cache.service(&name);
                let result = if services.is_empty() {
                    Err(Error::NotFound)
                } else {
                    Ok(services)
                };
                let _ = reply.send(result);
            }
            Some(Waiting::List { reply }) => {
                let _ = reply.send(Ok(self.cache.listing()));
            }
            Some(Waiting::Evict {
                instance,
                mut outcome,
                reply,
            }) => {
                outcome.owner_answered = self.cache.get(&instance).is_some();
                let _ = reply.send(Ok(outcome));
            }
            None => {}
        }
    }

    /// Stops owning a node: goodbye on the wire, `delete` for the watchers.
    async fn drop_owned(&mut self, sockets: &Sockets, instance: &str) {
        let Some(node) = self.owned.remove(instance) else {
            return;
        };
        let goodbye = message::announcement(&node.records, 0);
        self.send_multicast(sockets, &goodbye).await;
        Counters::bump(&self.counters.goodbyes_sent);
        if let Some(service) = self.cache.remove(instance) {
            self.emit(Change::Deleted(service));
        }
    }

    async fn goodbye_all(&mut self, sockets: &Sockets) {
        let instances: Vec<String> = self.owned.keys().cloned().collect();
        for instance in instances {
            self.drop_owned(sockets, &instance).await;
        }
    }

    async fn announce(&mut self, sockets: &Sockets, instance: &str) {
        let Some(node) = self.owned.get(instance) else {
            return;
        };
        let packet = message::announcement(&node.records, self.ttl_secs);
        self.send_multicast(sockets, &packet).await;
        Counters::bump(&self.counters.announcements_sent);
    }

    /// One extra announcement when someone said goodbye for a node we own.
    async fn defend(&mut self, sockets: &Sockets, instance: &str) {
        let now = Instant::now();
        if self.querier.may_query(
            &format!("defend {instance}"),
            now,
            Some(querier::MIN_REQUERY_INTERVAL),
        ) {
            self.announce(sockets, instance).await;
        }
    }

    async fn send_query(
        &mut self,
        sockets: &Sockets,
        name: &str,
        now: Instant,
        spacing: Option<Duration>,
    ) {
        if !self.querier.may_query(name, now, spacing) {
            return;
        }
        let packet = message::query(name, querier::query_id());
        let (sent, failed) = sockets.multicast_query(&packet).await;
        self.count_sends(sent, failed);
        Counters::bump(&self.counters.queries_sent);
    }

    async fn send_multicast(&mut self, sockets: &Sockets, packet: &[u8]) {
        let (sent, failed) = sockets.multicast(packet).await;
        self.count_sends(sent, failed);
    }

    async fn send_unicast(&mut self, sockets: &Sockets, packet: &[u8], to: SocketAddr) {
        match sockets.unicast(packet, to).await {
            Ok(()) => self.count_sends(1, 0),
            Err(error) => {
                tracing::debug!("mdns: answer to {to} failed: {error}");
                self.count_sends(0, 1);
            }
        }
    }

    /// Publishes the cache and ownership sizes for [`super::MdnsRegistry::stats`].
    fn update_gauges(&self) {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters
            .cached_nodes
            .store(self.cache.len() as u64, Relaxed);
        self.counters
            .cache_bytes
            .store(self.cache.bytes() as u64, Relaxed);
        self.counters
            .owned_nodes
            .store(self.owned.len() as u64, Relaxed);
        self.counters
            .sources
            .store(self.cache.sources() as u64, Relaxed);
    }

    fn count_sends(&self, sent: usize, failed: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.counters.packets_sent.fetch_add(sent as u64, Relaxed);
        self.counters.send_errors.fetch_add(failed as u64, Relaxed);
    }

    fn take_answer_token(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.tokens_at).as_secs_f64() * ANSWERS_PER_SECOND;
        self.answer_tokens = (self.answer_tokens + refill).min(ANSWERS_PER_SECOND);
        self.tokens_at = now;
        if self.answer_tokens >= 1.0 {
            self.answer_tokens -= 1.0;
            true
        } else {
            false
        }
    }

    fn dropped(&self, reason: DropReason, from: SocketAddr, what: &str) {
        self.counters.drop_for(reason);
        tracing::debug!("mdns: dropped packet from {from}: {what} ({reason:?})");
    }

    fn emit(&self, change: Change) {
        let (action, service) = match change {
            Change::Created(service) => (Action::Create, service),
            Change::Updated(service) => (Action::Update, service),
            Change::Deleted(service) => (Action::Delete, service),
            Change::Refreshed => return,
        };
        let id = service
            .nodes
            .first()
            .map(|node| node.id.clone())
            .unwrap_or_default();
        let timestamp_ms = crate::clock::unix_ms_now();
        // No receiver is fine: nobody is watching.
        let _ = self.events.send(Event {
            id,
            action,
            timestamp_ms,
            service,
            lifetime: Default::default(),
        });
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

async fn recv(socket: Option<&UdpSocket>, buffer: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
    match socket {
        Some(socket) => socket.recv_from(buffer).await,
        None => std::future::pending().await,
    }
}
