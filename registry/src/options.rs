//! Options for building a registry and for its operations, as go-micro's `registry.Options`.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How a registry is set up. Every backend reads the fields that mean something to it.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Addresses of the backing store (etcd endpoints); ignored by memory and mDNS.
    pub addrs: Vec<String>,
    /// How long one operation may take. go-micro's default is 100 ms for mDNS queries and 5 s
    /// for etcd; backends apply their own default when this is `None`.
    pub timeout: Option<Duration>,
    /// Use TLS to reach the store.
    pub secure: bool,
    /// TLS material, when `secure` is set.
    pub tls: Option<TlsConfig>,
    /// Backend-specific settings, the way go-micro carried them in `Options.Context`
    /// (for example the mDNS domain). Backends document which types they look up.
    pub extensions: Extensions,
}

/// Files for a TLS connection to a registry store.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM file of the certificate authority that signed the server's certificate.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate, for mutual TLS.
    pub cert_file: Option<PathBuf>,
    /// PEM key of the client certificate.
    pub key_file: Option<PathBuf>,
    /// Server name to verify instead of the host in the address.
    pub domain_name: Option<String>,
}

/// Options of one `register` call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegisterOptions {
    /// How long the registration lives without being refreshed. `None`: until deregistered
    /// (backends that need a TTL on the wire, like mDNS, use their default).
    pub ttl: Option<Duration>,
}

impl RegisterOptions {
    /// Register with this TTL.
    pub fn with_ttl(ttl: Duration) -> Self {
        RegisterOptions { ttl: Some(ttl) }
    }
}

/// Options of one `deregister` call (none yet; kept for go-micro's signature and growth).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeregisterOptions {}

/// Options of `get_service` and `list_services`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryOptions {
    /// Ask the network or store even when a warm cache could answer.
    pub fresh: bool,
}

/// What a watcher follows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WatchOptions {
    /// Only events of this service name; `None` watches every service.
    pub service: Option<String>,
}

impl WatchOptions {
    /// Watch one service by name.
    pub fn service(name: impl Into<String>) -> Self {
        WatchOptions {
            service: Some(name.into()),
        }
    }
}

/// A type-keyed bag of backend settings: at most one value per type.
#[derive(Clone, Default)]
pub struct Extensions {
    values: HashMap<TypeId, Arc<dyn Any + Send + Sync>>,
}

impl Extensions {
    /// Stores `value`, replacing a previous value of the same type.
    pub fn insert<T: Any + Send + Sync>(&mut self, value: T) {
        self.values.insert(TypeId::of::<T>(), Arc::new(value));
    }

    /// The value of type `T`, if one was stored.
    pub fn get<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.values
            .get(&TypeId::of::<T>())
            .and_then(|value| value.downcast_ref::<T>())
    }
}

impl fmt::Debug for Extensions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Extensions")
            .field("len", &self.values.len())
            .finish()
    }
}
