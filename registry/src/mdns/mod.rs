//! The embedded mDNS registry, wire-compatible with go-micro v1–v6 (feature `mdns`).
//!
//! go-micro services on the LAN appear here, and what this registry registers appears to
//! go-micro clients and watchers, v1.x (no question echo) and v2.9.1+ (question echo required)
//! alike. The dialect is documented in `docs/gomicro-mdns.md`; every file below cites the
//! protocol fact behind what it does.
//!
//! # Layout
//!
//! - [`txt`]: the TXT codec (JSON → zlib → hex → 255-char strings and back, bounded).
//! - [`names`]: go-micro's name scheme under a domain (`<service>.micro.`, instances, wildcards).
//! - [`message`]: DNS messages ↔ records: building announcements, answers, goodbyes, queries;
//!   reading any packet leniently into instance records and node observations.
//! - [`bounds`]: how much the cache holds, and one source address's share of it (decoded
//!   services are checked by [`crate::validate`]).
//! - [`admission`]: trust levels and the eviction order: when a bound is reached, the
//!   least-trusted, oldest node makes room (never an owned or answered one).
//! - [`interfaces`]: which interfaces to use (names or addresses; default: up, multicast,
//!   not loopback).
//! - [`sockets`]: the shared-port 5353 sockets and the ephemeral query sockets.
//! - `responder`: answers for the nodes this process owns (one node per packet).
//! - `announcer`: owned nodes, their 0/1/3 s announcements and their goodbyes.
//! - `querier`: outgoing queries and the callers waiting for their answer window.
//! - [`cache`]: the bounded node cache with RFC 6762 §5.2 refresh and TTL expiry.
//! - `timers`: the engine's deadlines, as data.
//! - `engine`: the one task that owns sockets and cache, driven by commands.
//! - [`stats`]: counters, including dropped packets by reason.
//! - [`fuzz_entry`]: the parser and decoder entry points for fuzzing and corpus replay.
//!
//! # Use
//!
//! ```no_run
//! # async fn demo() -> muster_registry::Result<()> {
//! use muster_registry::mdns::{MdnsOptions, MdnsRegistry};
//! use muster_registry::{QueryOptions, Registry};
//!
//! let registry = MdnsRegistry::new(MdnsOptions::default())?;
//! let greeters = registry.get_service("go.micro.srv.greeter", QueryOptions::default()).await?;
//! for node in registry.nodes().await? {
//!     println!("{} {} owned={} expires={:?}", node.service, node.node.id, node.owned, node.expires_at);
//! }
//! registry.shutdown().await?; // goodbye for every node registered here
//! # Ok(()) }
//! ```

pub mod admission;
mod announcer;
pub mod bounds;
pub mod cache;
mod engine;
pub mod fuzz_entry;
pub mod interfaces;
pub mod message;
pub mod names;
mod querier;
mod responder;
pub mod sockets;
pub mod stats;
mod timers;
pub mod txt;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::sync::{broadcast, mpsc, oneshot};

pub use cache::{CachedNode, NodeTimes, TimesSince};
pub use interfaces::Interface;
pub use stats::{DroppedCounts, MdnsStats};

use engine::{Command, Engine, EngineConfig};
use names::Names;
use sockets::Sockets;
use stats::Counters;

use crate::error::{Error, Result};
use crate::event::Event;
use crate::field::Field;
use crate::model::Service;
use crate::options::{DeregisterOptions, Options, QueryOptions, RegisterOptions, WatchOptions};
use crate::registry::{Registry, Watcher};

/// go-micro's query timeout: it waits exactly this long for answers, then returns.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);
/// go-micro's record TTL.
pub const DEFAULT_TTL: Duration = Duration::from_secs(120);

/// Settings of the mDNS backend. Also read from [`Options::extensions`] (insert one there), the
/// way go-micro carried `mdns.domain` in `Options.Context`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MdnsOptions {
    /// The domain names live under; go-micro's default is `micro`.
    pub domain: String,
    /// Interfaces by name (`eth0`) or address (`10.0.0.5`); empty: every interface that is
    /// up, multicast-capable and not loopback.
    pub interfaces: Vec<String>,
    /// Use IPv4 (224.0.0.251).
    pub ipv4: bool,
    /// Use IPv6 (ff02::fb); if the host has no IPv6, the registry runs on IPv4 alone.
    pub ipv6: bool,
    /// How long a network query collects answers (go-micro: 100 ms). `Options::timeout`, when
    /// set, wins.
    pub timeout: Duration,
    /// TTL of the records announced here (go-micro: 120 s). Peers forget a silently killed
    /// node of ours after this long.
    pub ttl: Duration,
    /// The host name put in SRV targets, with or without the trailing dot; default: the
    /// machine's host name (as go-micro, not `.local.`).
    pub host_name: Option<String>,
    /// Nodes one source address may have in the cache (default
    /// [`bounds::DEFAULT_SOURCE_QUOTA`]); past it, that source's own oldest one-shot nodes make
    /// room. Raise it for a host that really runs more nodes (a load generator).
    pub source_quota: usize,
    /// Longest TTL believed from the network (default [`bounds::DEFAULT_MAX_TTL_SECS`]); a
    /// node claiming more is asked again at 80 % of this and must answer to stay.
    pub max_ttl: Duration,
}

impl Default for MdnsOptions {
    fn default() -> Self {
        MdnsOptions {
            domain: "micro".into(),
            interfaces: Vec::new(),
            ipv4: true,
            ipv6: true,
            timeout: DEFAULT_TIMEOUT,
            ttl: DEFAULT_TTL,
            host_name: None,
            source_quota: bounds::DEFAULT_SOURCE_QUOTA,
            max_ttl: Duration::from_secs(u64::from(bounds::DEFAULT_MAX_TTL_SECS)),
        }
    }
}

/// What [`MdnsRegistry::evict`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvictOutcome {
    /// The node was registered by this process: evicting it deregistered it.
    pub owned: bool,
    /// A goodbye (TTL 0, full TXT) went out: every go-micro watcher dropped the node.
    pub goodbye_sent: bool,
    /// The owner answered the query sent after the goodbye (or re-announced) within the
    /// window: it is alive, and the node is back in this cache. `false`: it stayed away.
    pub owner_answered: bool,
}

/// The mDNS registry: a handle to the engine task that owns the sockets and the cache.
///
/// Dropping every handle is a clean shutdown too (goodbyes are sent); [`Self::shutdown`] waits
/// for them to be on the wire.
#[derive(Debug)]
pub struct MdnsRegistry {
    commands: mpsc::Sender<Command>,
    counters: Arc<Counters>,
    options: Mutex<Options>,
    mdns: MdnsOptions,
    interfaces: Vec<Interface>,
}

impl MdnsRegistry {
    /// Binds the sockets and starts the engine on the current Tokio runtime.
    pub fn new(mdns: MdnsOptions) -> Result<Self> {
        let mut options = Options::default();
        options.extensions.insert(mdns);
        Self::from_options(options)
    }

    /// Builds from go-micro-style [`Options`]: [`MdnsOptions`] from the extensions (defaults
    /// otherwise), `timeout` overriding its timeout.
    pub fn from_options(options: Options) -> Result<Self> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Backend("the mDNS registry needs a Tokio runtime".into()))?;
        let mut mdns = options
            .extensions
            .get::<MdnsOptions>()
            .cloned()
            .unwrap_or_default();
        if let Some(timeout) = options.timeout {
            mdns.timeout = timeout;
        }
        if mdns.ttl < Duration::from_secs(1) {
            return Err(Error::invalid(Field::MdnsTtl, "at least one second"));
        }
        let names = Names::new(&mdns.domain)?;
        let host = match &mdns.host_name {
            Some(name) => format!("{}.", name.trim_end_matches('.')),
            None => names::local_host_name(),
        };
        let interfaces = interfaces::select(&mdns.interfaces)?;
        let sockets = Sockets::open(interfaces.clone(), mdns.ipv4, mdns.ipv6)?;
        let counters = Arc::new(Counters::default());
        let config = EngineConfig {
            names,
            host,
            ttl: mdns.ttl,
            timeout: mdns.timeout,
            source_quota: mdns.source_quota,
            max_ttl: mdns.max_ttl.max(Duration::from_secs(1)),
        };
        let (commands, receiver) = mpsc::channel(256);
        let engine = Engine::new(config, counters.clone());
        runtime.spawn(engine.run(sockets, receiver));
        Ok(MdnsRegistry {
            commands,
            counters,
            options: Mutex::new(options),
            mdns,
            interfaces,
        })
    }

    /// The mDNS settings in force.
    pub fn mdns_options(&self) -> &MdnsOptions {
        &self.mdns
    }

    /// The interfaces joined.
    pub fn interfaces(&self) -> &[Interface] {
        &self.interfaces
    }

    /// Says goodbye on behalf of a node — the admin's "remove stale node". Every go-micro
    /// watcher drops it. Then one query for its service: a live owner answers (go-micro) or
    /// re-announces (Muster) within a short window and the node comes back, which
    /// [`EvictOutcome::owner_answered`] reports. A node this process owns is deregistered.
    /// [`Error::NotFound`] when the node is not in the cache.
    pub async fn evict(&self, service: &str, node_id: &str) -> Result<EvictOutcome> {
        let window = (self.timeout() * 3).max(Duration::from_millis(300));
        self.ask(|reply| Command::Evict {
            service: service.to_string(),
            node_id: node_id.to_string(),
            window,
            reply,
        })
        .await?
    }

    /// Every cached node with first-seen, last-seen, expiry and ownership, for the console.
    pub async fn nodes(&self) -> Result<Vec<CachedNode>> {
        self.ask(|reply| Command::Nodes { reply }).await
    }

    /// When each node was last seen and when it expires, for the nodes seen at or after
    /// `since` (every node when `None`); pass the returned `mark` to the next call to get only
    /// what moved meanwhile. Cheaper than [`MdnsRegistry::nodes`] for a periodic poll: no
    /// metadata is copied and nothing is sorted.
    pub async fn timings_since(&self, since: Option<Instant>) -> Result<TimesSince> {
        self.ask(|reply| Command::Times { since, reply }).await
    }

    /// Counters: packets, answers, announcements, and dropped packets by reason.
    pub fn stats(&self) -> MdnsStats {
        self.counters.snapshot()
    }

    /// Sends a goodbye for every node this process owns and stops the engine (call it on
    /// SIGINT/SIGTERM). Watchers end with `WatcherStopped`; later calls fail.
    pub async fn shutdown(&self) -> Result<()> {
        match self.ask(|reply| Command::Shutdown { reply }).await {
            Ok(()) | Err(Error::Backend(_)) => Ok(()),
            Err(error) => Err(error),
        }
    }

    fn timeout(&self) -> Duration {
        self.options
            .lock()
            .map(|options| options.timeout)
            .ok()
            .flatten()
            .unwrap_or(self.mdns.timeout)
    }

    async fn ask<T>(&self, command: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(command(reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }
}

fn stopped() -> Error {
    Error::Backend("mdns registry shut down".into())
}

#[async_trait]
impl Registry for MdnsRegistry {
    async fn init(&self, options: Options) -> Result<()> {
        if let Some(mdns) = options.extensions.get::<MdnsOptions>() {
            let mut wanted = mdns.clone();
            wanted.timeout = self.mdns.timeout;
            if wanted != self.mdns {
                return Err(Error::invalid(
                    Field::MdnsOptions,
                    "domain, interfaces, families, TTL and host name are fixed once the sockets \
                     are bound; build a new registry to change them",
                ));
            }
        }
        let mut current = self.options.lock().map_err(|_| stopped())?;
        let timeout = options
            .timeout
            .or_else(|| options.extensions.get::<MdnsOptions>().map(|m| m.timeout));
        *current = Options {
            timeout: timeout.or(current.timeout),
            ..options
        };
        Ok(())
    }

    fn options(&self) -> Options {
        self.options
            .lock()
            .map(|options| options.clone())
            .unwrap_or_default()
    }

    async fn register(&self, service: &Service, options: RegisterOptions) -> Result<()> {
        let service = service.clone();
        self.ask(|reply| Command::Register {
            service,
            ttl: options.ttl,
            reply,
        })
        .await?
    }

    async fn deregister(&self, service: &Service, _options: DeregisterOptions) -> Result<()> {
        let service = service.clone();
        self.ask(|reply| Command::Deregister { service, reply })
            .await?
    }

    async fn get_service(&self, name: &str, options: QueryOptions) -> Result<Vec<Service>> {
        crate::validate::service_name(name)?;
        let timeout = self.timeout();
        self.ask(|reply| Command::Get {
            name: name.to_string(),
            fresh: options.fresh,
            timeout,
            reply,
        })
        .await?
    }

    async fn list_services(&self, options: QueryOptions) -> Result<Vec<Service>> {
        let timeout = self.timeout();
        self.ask(|reply| Command::List {
            fresh: options.fresh,
            timeout,
            reply,
        })
        .await?
    }

    async fn watch(&self, options: WatchOptions) -> Result<Box<dyn Watcher>> {
        if let Some(name) = &options.service {
            crate::validate::service_name(name)?;
        }
        let events = self
            .ask(|reply| Command::Watch { reply })
            .await
            .map_err(|_| Error::WatcherStopped)?;
        Ok(Box::new(MdnsWatcher {
            events,
            service: options.service,
            stopped: false,
        }))
    }

    fn name(&self) -> &'static str {
        "mdns"
    }
}

/// A watcher on the engine's event stream: create / update / delete as the cache changes.
struct MdnsWatcher {
    events: broadcast::Receiver<Event>,
    service: Option<String>,
    stopped: bool,
}

#[async_trait]
impl Watcher for MdnsWatcher {
    async fn next(&mut self) -> Result<Event> {
        loop {
            if self.stopped {
                return Err(Error::WatcherStopped);
            }
            match self.events.recv().await {
                Ok(event) => {
                    if self
                        .service
                        .as_ref()
                        .is_none_or(|name| *name == event.service.name)
                    {
                        return Ok(event);
                    }
                }
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    return Err(Error::Lagged { missed })
                }
                Err(broadcast::error::RecvError::Closed) => self.stopped = true,
            }
        }
    }

    fn stop(&mut self) {
        self.stopped = true;
    }
}
