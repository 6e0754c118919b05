//! The registry backend chosen on the command line, with what only some backends can do.
//!
//! The console and the subcommands speak to every backend through the `Registry` trait; the
//! few backend-specific powers (an mDNS goodbye on behalf of a foreign node, the mDNS cache's
//! per-node timestamps, goodbyes at shutdown) are methods here, so adding a backend is one
//! variant and one arm per method.

use std::sync::Arc;

use app::wire::Readiness;
use std::time::Instant;

#[cfg(feature = "etcd")]
use muster_registry::etcd::{EtcdOptions, EtcdRegistry};
use muster_registry::mdns::interfaces::only_loopback;
use muster_registry::mdns::{MdnsOptions, MdnsRegistry, NodeTimes};
use muster_registry::memory::MemoryRegistry;
#[cfg(feature = "etcd")]
use muster_registry::TlsConfig;
use muster_registry::{DeregisterOptions, Error, Field, Options, Registry, Service};

#[cfg(feature = "etcd")]
use crate::cli::EtcdArgs;
use crate::cli::{RegistryArgs, RegistryKind};

/// The etcd registry's options from the flags: endpoints, TLS files, user and password (read
/// from its file here, so that a missing file names its flag).
#[cfg(feature = "etcd")]
fn etcd_options(addrs: &[String], args: &EtcdArgs) -> Result<Options, Error> {
    let tls = (args.registry_ca_file.is_some()
        || args.registry_cert_file.is_some()
        || args.registry_server_name.is_some())
    .then(|| TlsConfig {
        ca_file: args.registry_ca_file.clone(),
        cert_file: args.registry_cert_file.clone(),
        key_file: args.registry_key_file.clone(),
        domain_name: args.registry_server_name.clone(),
    });
    let password = match &args.registry_password_file {
        Some(path) => Some(read_password(path)?),
        None => args.registry_password.clone(),
    };
    let mut options = Options {
        addrs: addrs.to_vec(),
        secure: args.registry_secure,
        tls,
        ..Options::default()
    };
    options.extensions.insert(EtcdOptions {
        username: args.registry_user.clone(),
        password,
        ..EtcdOptions::default()
    });
    Ok(options)
}

/// The first line of a password file.
#[cfg(feature = "etcd")]
fn read_password(path: &std::path::Path) -> Result<String, Error> {
    const FLAG: &str = "--registry-password-file";
    let text = std::fs::read_to_string(path).map_err(|error| {
        Error::invalid(
            Field::named(FLAG),
            format!("cannot read {}: {error}", path.display()),
        )
    })?;
    let password = text.lines().next().unwrap_or_default();
    if password.is_empty() {
        return Err(Error::invalid(
            Field::named(FLAG),
            format!("{} is empty", path.display()),
        ));
    }
    Ok(password.to_string())
}

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

/// What an eviction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Evicted {
    /// A goodbye went out on the network (mDNS); `false`: removed from the store.
    pub goodbye_sent: bool,
    /// The owner answered again after the goodbye: the node is back.
    pub reappeared: bool,
}

impl Backend {
    /// Builds the backend `args` ask for. mDNS binds its sockets here; etcd connects and
    /// reads once, so that a wrong file, CA, name or password fails here, naming its flag.
    pub async fn new(args: &RegistryArgs) -> Result<Self, Error> {
        #[cfg(feature = "etcd")]
        let etcd = args.registry == RegistryKind::Etcd;
        #[cfg(not(feature = "etcd"))]
        let etcd = false;
        if let Some(flag) = args.etcd.given().filter(|_| !etcd) {
            return Err(Error::invalid(
                Field::named(flag),
                "is for --registry etcd only",
            ));
        }
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
            RegistryKind::Etcd => {
                let options = etcd_options(&args.registry_address, &args.etcd)?;
                let etcd = EtcdRegistry::connect(options)
                    .await
                    .map_err(|error| args.etcd.name_flag(error))?;
                etcd.check()
                    .await
                    .map_err(|error| args.etcd.name_flag(error))?;
                Ok(Backend::Etcd(etcd))
            }
        }
    }

    /// Whether the backend can serve now, in words for `/readyz` and the connection badge.
    /// mDNS and memory have no store to lose: always ready.
    pub async fn readiness(&self) -> Readiness {
        let name = self.name().to_string();
        match self {
            #[cfg(feature = "etcd")]
            Backend::Etcd(etcd) => {
                let health = etcd.health().await;
                Readiness {
                    ready: health.is_ready(),
                    registry: name,
                    message: health.to_string(),
                }
            }
            _ => Readiness {
                ready: true,
                registry: name,
                message: "in-process, always ready".into(),
            },
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
    pub async fn timings(&self, since: Option<Instant>) -> Option<(Vec<NodeTimes>, Instant)> {
        match self {
            Backend::Mdns(mdns) => mdns
                .timings_since(since)
                .await
                .ok()
                .map(|times| (times.nodes, times.mark)),
            Backend::Memory(_) => None,
            #[cfg(feature = "etcd")]
            Backend::Etcd(_) => None,
        }
    }

    /// How many packets the backend has received, for backends that keep timings (mDNS):
    /// while it is unchanged, no node was heard from and a timings read would find nothing.
    pub fn heard(&self) -> Option<u64> {
        match self {
            Backend::Mdns(mdns) => Some(mdns.stats().packets_received),
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
    /// What the operator should know about where the backend reaches, when it is not the
    /// whole LAN: mDNS fell back to loopback because no LAN interface is up.
    pub fn notice(&self, interfaces_chosen: bool) -> Option<&'static str> {
        match self {
            Backend::Mdns(mdns) if only_loopback(mdns.interfaces()) => Some(if interfaces_chosen {
                "mDNS on loopback only: services on this machine alone"
            } else {
                "mDNS on loopback only: no LAN interface"
            }),
            _ => None,
        }
    }

    /// The backend's name: `mdns`, `memory` or `etcd`.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Mdns(mdns) => mdns.name(),
            Backend::Memory(memory) => memory.name(),
            #[cfg(feature = "etcd")]
            Backend::Etcd(etcd) => etcd.name(),
        }
    }
}
