//! The registry backend chosen on the command line, with what only some backends can do.
//!
//! The console and the subcommands speak to every backend through the `Registry` trait; the
//! few backend-specific powers (an mDNS goodbye on behalf of a foreign node, the mDNS cache's
//! per-node timestamps, goodbyes at shutdown) are methods here, so adding a backend is one
//! variant and one arm per method.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

#[cfg(feature = "etcd")]
use muster_registry::etcd::EtcdRegistry;
use muster_registry::mdns::{MdnsOptions, MdnsRegistry};
use muster_registry::memory::MemoryRegistry;
use muster_registry::{DeregisterOptions, Error, Options, Registry, Service};

use crate::cli::{RegistryArgs, RegistryKind};

/// One embedded registry.
#[derive(Clone)]
pub enum Backend {
    /// go-micro's mDNS dialect on the LAN.
    Mdns(Arc<MdnsRegistry>),
    /// The in-process registry.
    Memory(MemoryRegistry),
    /// go-micro's etcd layout (`/micro/registry/...`), shared with go-micro services.
    #[cfg(feature = "etcd")]
    Etcd(EtcdRegistry),
}

/// What a backend knows of a node's timing (the mDNS cache does; others do not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTiming {
    /// Service name.
    pub service: String,
    /// Node id.
    pub node_id: String,
    /// When the backend first saw it.
    pub first_seen: SystemTime,
    /// When it was last announced or answered.
    pub last_seen: SystemTime,
    /// When it expires unless refreshed.
    pub expires_at: Option<SystemTime>,
    /// The TTL it was announced with.
    pub ttl: Duration,
}

/// What an eviction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// A goodbye went out on the network (mDNS); `false`: removed from the store.
    pub goodbye_sent: bool,
    /// The owner answered again after the goodbye: the node is back.
    pub reappeared: bool,
}

impl Backend {
    /// Builds the backend `args` ask for. mDNS binds its sockets here; etcd connects (lazily:
    /// an unreachable cluster shows in the calls).
    pub async fn new(args: &RegistryArgs) -> Result<Self, Error> {
        match args.registry {
            RegistryKind::Mdns => {
                let mut options = Options {
                    addrs: args.registry_address.clone(),
                    ..Options::default()
                };
                options.extensions.insert(MdnsOptions {
                    domain: args.mdns_domain.clone(),
                    interfaces: args.interface.clone(),
                    source_quota: args.mdns_source_quota,
                    max_ttl: args.mdns_max_ttl,
                    ..MdnsOptions::default()
                });
                Ok(Backend::Mdns(Arc::new(MdnsRegistry::from_options(
                    options,
                )?)))
            }
            RegistryKind::Memory => Ok(Backend::Memory(MemoryRegistry::new(Options {
                addrs: args.registry_address.clone(),
                ..Options::default()
            }))),
            #[cfg(feature = "etcd")]
            RegistryKind::Etcd => Ok(Backend::Etcd(
                EtcdRegistry::connect(Options {
                    addrs: args.registry_address.clone(),
                    ..Options::default()
                })
                .await?,
            )),
        }
    }

    /// The backend as the common trait.
    pub fn registry(&self) -> Arc<dyn Registry> {
        match self {
            Backend::Mdns(mdns) => mdns.clone(),
            Backend::Memory(memory) => Arc::new(memory.clone()),
            #[cfg(feature = "etcd")]
            Backend::Etcd(etcd) => Arc::new(etcd.clone()),
        }
    }

    /// Removes a node the caller does not own. On mDNS, a goodbye on its behalf, after which a
    /// live owner answers again (reported as `reappeared`); in a store, a plain removal.
    pub async fn evict(&self, service: &Service, node_id: &str) -> Result<Evicted, Error> {
        match self {
            Backend::Mdns(mdns) => {
                let outcome = mdns.evict(&service.name, node_id).await?;
                Ok(Evicted {
                    goodbye_sent: outcome.goodbye_sent,
                    reappeared: outcome.owner_answered,
                })
            }
            Backend::Memory(memory) => {
                memory
                    .deregister(service, DeregisterOptions::default())
                    .await?;
                Ok(Evicted {
                    goodbye_sent: false,
                    reappeared: false,
                })
            }
            #[cfg(feature = "etcd")]
            Backend::Etcd(etcd) => {
                etcd.evict(&service.name, node_id).await?;
                Ok(Evicted {
                    goodbye_sent: false,
                    reappeared: false,
                })
            }
        }
    }

    /// Per-node timing from the backend's own cache, for the nodes seen at or after `since`
    /// (a mark this returned before; every node when `None`), and the mark for the next call.
    /// `None` when the backend keeps no timing (the console then tracks timing from events
    /// and its own registrations).
    pub async fn timings(&self, since: Option<Instant>) -> Option<(Vec<NodeTiming>, Instant)> {
        match self {
            Backend::Mdns(mdns) => mdns.timings_since(since).await.ok().map(|times| {
                let nodes = times
                    .nodes
                    .into_iter()
                    .map(|node| NodeTiming {
                        service: node.service,
                        node_id: node.node_id,
                        first_seen: node.first_seen,
                        last_seen: node.last_seen,
                        expires_at: node.expires_at,
                        ttl: node.ttl,
                    })
                    .collect();
                (nodes, times.mark)
            }),
            Backend::Memory(_) => None,
            #[cfg(feature = "etcd")]
            Backend::Etcd(_) => None,
        }
    }

    /// Stops the backend: on mDNS, goodbyes for every node this process registered.
    pub async fn shutdown(&self) {
        match self {
            Backend::Mdns(mdns) => {
                if let Err(error) = mdns.shutdown().await {
                    tracing::warn!("mdns shutdown: {error}");
                }
            }
            Backend::Memory(_) => {}
            // Its nodes stay in the store (with their leases: until the TTL lapses).
            #[cfg(feature = "etcd")]
            Backend::Etcd(_) => {}
        }
    }

    /// The backend's name (`mdns`, `memory`).
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Mdns(mdns) => mdns.name(),
            Backend::Memory(memory) => memory.name(),
            #[cfg(feature = "etcd")]
            Backend::Etcd(etcd) => etcd.name(),
        }
    }
}
