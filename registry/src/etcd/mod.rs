//! The etcd backend, in go-micro's key layout: Muster and go-micro services share one cluster.
//!
//! Every node is one key, `/micro/registry/<service>/<node id>`, holding the JSON of its
//! service with only that node, exactly as go-micro's etcd registry (v1.18 to v5) reads and
//! writes it; a node registered with a TTL sits on an etcd lease of that many seconds.
//!
//! - `keys`: the key layout and its `/` → `-` rule.
//! - `connect`: the endpoints to dial and the client's options (TLS files, credentials).
//! - `call`: one call, bounded by the timeout and retried while it was not served.
//! - `codec`: the stored value, byte-for-byte what Go's `json.Marshal` writes.
//! - `lease`: leases, and the task keeping a registered node's lease alive.
//! - `lifetime`: what a watcher learns of a key's lease (TTL, expiry; expired or removed).
//! - `watch`: the resumable watcher (every event once, across reconnections and compactions).
//! - `failure`: what a failed call means (unreachable, no quorum, a TLS or auth refusal).
//! - `health`: whether the cluster serves, and how many members are down when it does not.
//! - `fuzz_entry`: the stored-value path, for the fuzzer and the corpus replay test.
//!
//! The client is [`etcd_client`]: the maintained async etcd v3 client for tokio (gRPC over
//! tonic, TLS with rustls), the one other Rust etcd tools build on. Its build compiles etcd's
//! protobuf files, which needs `protoc` (Debian's `protobuf-compiler`).

mod call;
mod codec;
mod connect;
mod failure;
#[doc(hidden)]
pub mod fuzz_entry;
mod health;
mod keys;
mod lease;
mod lifetime;
mod watch;

pub use self::health::{Health, HEALTH_REUSE};

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use etcd_client::{Client, ConnectOptions, GetOptions, KeyValue};
use tokio::sync::watch as signal;

use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::Service;
use crate::options::{DeregisterOptions, Options, QueryOptions, RegisterOptions, WatchOptions};
use crate::registry::{Registry, Watcher};
use crate::validate;

use self::call::{retrying, within};
use self::connect::Dial;
use self::lease::Registration;
use self::lifetime::Leases;
use self::watch::{EtcdWatcher, Start, View};

/// etcd's client port, added to an address given without one (as go-micro does).
pub const DEFAULT_PORT: u16 = 2379;

/// The endpoint used when [`Options::addrs`] names none: a local etcd.
pub const DEFAULT_ENDPOINT: &str = "127.0.0.1:2379";

/// How long one operation may take when [`Options::timeout`] is not set: go-micro's 5 s.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// Settings of the etcd backend, passed in [`Options::extensions`].
///
/// The endpoints, the operation timeout and TLS come from [`Options`] itself (`addrs`,
/// `timeout`, `secure` and `tls`), as in go-micro.
#[derive(Clone, PartialEq, Eq)]
pub struct EtcdOptions {
    /// User to authenticate as (go-micro's `etcd.Auth`); `None`: no authentication.
    pub username: Option<String>,
    /// That user's password.
    pub password: Option<String>,
    /// Keep the lease of every node this process registered with a TTL alive for as long as
    /// it stays registered (the default: the console registers once and does not re-register
    /// periodically). `false` is go-micro's own behaviour: the lease lapses after the TTL
    /// unless the node is registered again, which renews it.
    pub keep_alive: bool,
}

impl Default for EtcdOptions {
    fn default() -> Self {
        EtcdOptions {
            username: None,
            password: None,
            keep_alive: true,
        }
    }
}

impl fmt::Debug for EtcdOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EtcdOptions")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("keep_alive", &self.keep_alive)
            .finish()
    }
}

/// A registry stored in etcd, shared with go-micro services. Cheap to clone: clones share one
/// connection and one set of registrations.
///
/// Needs a tokio runtime. Dropping the last clone stops the keep-alive of every node it
/// registered (their leases lapse within their TTL; nodes without a TTL stay until
/// deregistered or evicted) and ends its watchers.
#[derive(Clone)]
pub struct EtcdRegistry {
    shared: Arc<Shared>,
}

/// What the clones of one registry share.
struct Shared {
    client: Client,
    /// The endpoints dialled, for messages and the member probe.
    endpoints: Vec<String>,
    /// How [`health`] connects to each member: TLS as `client`, no credentials, no
    /// require-leader header.
    probe: ConnectOptions,
    options: Mutex<Options>,
    etcd: EtcdOptions,
    /// One slot per node key this process registered; a slot's lock orders the calls about
    /// that node while letting calls about other nodes run at once.
    registrations: Mutex<HashMap<String, Slot>>,
    /// Dropped with the registry, which ends the watchers.
    alive: signal::Sender<()>,
    /// The last [`EtcdRegistry::health`] answer.
    last_health: health::Reused,
    /// The last count of members up, made for a failed call's message.
    last_count: health::Reused,
}

/// The registration of one key, if any, behind the lock its calls take in turn.
type Slot = Arc<tokio::sync::Mutex<Option<Registration>>>;

impl EtcdRegistry {
    /// A registry on the etcd cluster `options` name: endpoints from `options.addrs`
    /// (default [`DEFAULT_ENDPOINT`]; a bare host gets port [`DEFAULT_PORT`]; `http://` and
    /// `https://` URLs are taken as they are), [`EtcdOptions`] from `options.extensions`.
    ///
    /// With `options.secure` or `options.tls` set, the connection uses TLS, verifying the
    /// server against `tls.ca_file` or, without one, the system's roots (go-micro skips the
    /// verification then; Muster does not). `tls.cert_file` and `tls.key_file` together give
    /// a client certificate.
    ///
    /// The connection is made lazily: an unreachable cluster shows as errors of the calls,
    /// not here ([`EtcdRegistry::check`] tries it). With credentials the user is authenticated
    /// here, so wrong ones fail at once.
    ///
    /// Failures name the setting at fault: [`Error::Invalid`] with a TLS or credentials
    /// [`Field`] (`Field::TlsCaFile`, `Field::Credentials`, …).
    pub async fn connect(options: Options) -> Result<Self> {
        let etcd = etcd_options(&options);
        let timeout = options.timeout.unwrap_or(DEFAULT_TIMEOUT);
        let Dial {
            endpoints,
            probe,
            connect,
        } = Dial::new(&options, &etcd, timeout)?;
        let client = within(timeout, Client::connect(&endpoints, Some(connect))).await?;
        let (alive, _) = signal::channel(());
        Ok(EtcdRegistry {
            shared: Arc::new(Shared {
                client,
                endpoints,
                probe,
                options: Mutex::new(options),
                etcd,
                registrations: Mutex::new(HashMap::new()),
                alive,
                last_health: health::Reused::default(),
                last_count: health::Reused::default(),
            }),
        })
    }

    /// Checks that the cluster serves this client now: one linearizable read. A refusal of
    /// the TLS settings or the credentials is an [`Error::Invalid`] naming the setting; an
    /// unreachable cluster or one without quorum is [`Error::Unavailable`], saying which.
    pub async fn check(&self) -> Result<()> {
        let tls = {
            let options = self.shared.lock_options();
            options.secure || options.tls.is_some()
        };
        let read = |mut client: Client| async move {
            let options = GetOptions::new().with_prefix().with_count_only();
            client.get(keys::PREFIX, Some(options)).await
        };
        let error = match call::retrying_raw(self.shared.timeout(), &self.shared.client, read).await
        {
            Ok(_) => return Ok(()),
            Err(None) => Error::Timeout,
            // The first call on a new connection: a server closing it at once refused us.
            Err(Some(error)) if tls && failure::closed_under_call(&error) => {
                return Err(failure::client_certificate_refused())
            }
            Err(Some(error)) => failure::classify(error),
        };
        self.explained(async { Err(error) }).await
    }

    /// Whether the cluster serves now, and if not, why (unreachable, members down).
    ///
    /// Probes at most once per [`HEALTH_REUSE`]: callers within it share the last answer.
    pub async fn health(&self) -> Health {
        let shared = &self.shared;
        let probe = health::probe(
            &shared.client,
            &shared.probe,
            &shared.endpoints,
            shared.timeout(),
        );
        shared.last_health.get(probe).await
    }

    /// `call`'s result, an [`Error::Unavailable`] reworded to say what is down: the
    /// endpoints, or how many members (one status request per member, bounded, and shared
    /// by the failures of the same second).
    async fn explained<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        match call.await {
            Err(Error::Unavailable(reason)) => {
                let count = health::count_members(&self.shared.probe, &self.shared.endpoints);
                let health = self.shared.last_count.get(count).await;
                let message = match health {
                    Health::NoQuorum { down: 0, .. } => reason,
                    // A quorum is up: the members down are context, not the cause.
                    Health::NoQuorum { members, down } if down * 2 < members => {
                        format!("{reason} ({down} of {members} etcd members down)")
                    }
                    diagnosed => diagnosed.to_string(),
                };
                Err(Error::Unavailable(message))
            }
            other => other,
        }
    }

    /// Deletes a node's key, whoever registered it: an operator removing a node that died
    /// without deregistering. Watchers see it deleted. A live go-micro owner puts it back at
    /// its next re-registration, as does this backend's keep-alive for its own nodes.
    ///
    /// [`Error::NotFound`] when there was no such key.
    pub async fn evict(&self, service: &str, node_id: &str) -> Result<()> {
        validate::service_name(service)?;
        validate::node_id(node_id)?;
        let key = keys::node_key(service, node_id)?;
        let delete = |mut client: Client| {
            let key = key.clone();
            async move { client.delete(key, None).await }
        };
        let response = self
            .explained(retrying(self.shared.timeout(), &self.shared.client, delete))
            .await?;
        if response.deleted() == 0 {
            return Err(Error::NotFound);
        }
        Ok(())
    }

    /// Registers one node: `value` at `key`, on a lease of `ttl_secs` when given.
    ///
    /// An unchanged registration is not put again (watchers would see nothing, but every put
    /// costs a revision): with a keeper running there is nothing to do; otherwise the lease
    /// is renewed and the key restored if it went missing, as a go-micro re-registration does.
    async fn register_node(
        &self,
        key: String,
        value: Vec<u8>,
        ttl_secs: Option<i64>,
    ) -> Result<()> {
        let slot = self.shared.slot(&key);
        let mut registration = slot.lock().await;
        let timeout = self.shared.timeout();
        let client = self.shared.client.clone();
        if let Some(current) = registration
            .as_ref()
            .filter(|current| current.value == value && current.ttl_secs == ttl_secs)
        {
            if current.keeps_alive() {
                return Ok(());
            }
            let lease = current.lease();
            if ttl_secs.is_none() || lease::renew(&client, timeout, lease).await? {
                lease::restore(&client, timeout, &key, &value, lease).await?;
                return Ok(());
            }
        }
        let lease = lease::put(&client, timeout, &key, &value, ttl_secs).await?;
        let mut fresh = Registration::new(value, ttl_secs, lease);
        if self.shared.etcd.keep_alive {
            fresh.keep_alive(client, key, timeout);
        }
        // Replacing the old registration stops its keeper; its lease lapses unused.
        *registration = Some(fresh);
        Ok(())
    }

    /// Deregisters one node: stops keeping it alive and deletes its key.
    async fn deregister_node(&self, key: String) -> Result<()> {
        let slot = self.shared.slot(&key);
        let deleted = {
            let mut registration = slot.lock().await;
            registration.take();
            let delete = |mut client: Client| {
                let key = key.clone();
                async move { client.delete(key, None).await }
            };
            retrying(self.shared.timeout(), &self.shared.client, delete).await
        };
        self.shared.release(&key, slot);
        deleted.map(drop)
    }

    /// The services stored under `prefix` (of the name `only`, when given), nodes merged per
    /// name and version. Serializable (served by the nearest member) unless `fresh` asks for a
    /// linearizable read.
    async fn read(&self, prefix: String, only: Option<&str>, fresh: bool) -> Result<Vec<Service>> {
        let mut options = GetOptions::new().with_prefix();
        if !fresh {
            options = options.with_serializable();
        }
        let get = |mut client: Client| {
            let (prefix, options) = (prefix.clone(), options.clone());
            async move { client.get(prefix, Some(options)).await }
        };
        let response = self
            .explained(retrying(self.shared.timeout(), &self.shared.client, get))
            .await?;
        Ok(merge_nodes(response.kvs().iter().filter_map(
            |kv: &KeyValue| codec::decode(kv.value(), only),
        )))
    }
}

impl Shared {
    fn lock_options(&self) -> MutexGuard<'_, Options> {
        self.options.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lock_registrations(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        self.registrations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn timeout(&self) -> Duration {
        self.lock_options().timeout.unwrap_or(DEFAULT_TIMEOUT)
    }

    /// The slot of `key`, made if there is none.
    fn slot(&self, key: &str) -> Slot {
        self.lock_registrations()
            .entry(key.to_owned())
            .or_default()
            .clone()
    }

    /// Forgets `key`'s slot if it is empty and no other call holds it, so that registering
    /// and deregistering ever new node ids does not grow the map.
    fn release(&self, key: &str, slot: Slot) {
        let mut registrations = self.lock_registrations();
        // The map's reference and ours: nobody else can take the slot while the map is locked.
        if Arc::strong_count(&slot) == 2 && slot.try_lock().is_ok_and(|held| held.is_none()) {
            registrations.remove(key);
        }
    }
}

#[async_trait]
impl Registry for EtcdRegistry {
    /// Takes new options; only the timeout can change on a running registry. Other changes
    /// (endpoints, TLS, credentials, keep-alive) fail with [`Error::Invalid`], keeping the old
    /// options: build a new registry for another cluster.
    async fn init(&self, options: Options) -> Result<()> {
        let mut current = self.shared.lock_options();
        let same_cluster = options.addrs == current.addrs
            && options.secure == current.secure
            && options.tls == current.tls
            && etcd_options(&options) == self.shared.etcd;
        if !same_cluster {
            return Err(Error::invalid(
                Field::EtcdOptions,
                "only the timeout can change on a running registry; build a new one",
            ));
        }
        *current = options;
        Ok(())
    }

    fn options(&self) -> Options {
        self.shared.lock_options().clone()
    }

    /// Puts each node's key (go-micro goes on after a node fails, and so does this; the first
    /// error is returned). Nothing is written if any node's key is invalid.
    async fn register(&self, service: &Service, options: RegisterOptions) -> Result<()> {
        validate::registration_with_ttl(service, options.ttl)?;
        let ttl_secs = options.ttl.map(lease::ttl_secs);
        let keys = node_keys(service)?;
        let mut first_error = None;
        for (node, key) in service.nodes.iter().zip(keys) {
            let value = codec::encode(service, node);
            if let Err(error) = self
                .explained(self.register_node(key, value, ttl_secs))
                .await
            {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Deletes each node's key (go-micro leaves the lease to lapse, and so does this).
    async fn deregister(&self, service: &Service, _options: DeregisterOptions) -> Result<()> {
        validate::registration(service)?;
        let mut first_error = None;
        for key in node_keys(service)? {
            if let Err(error) = self.explained(self.deregister_node(key)).await {
                first_error.get_or_insert(error);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    async fn get_service(&self, name: &str, options: QueryOptions) -> Result<Vec<Service>> {
        validate::service_name(name)?;
        let services = self
            .read(keys::service_prefix(name)?, Some(name), options.fresh)
            .await?;
        if services.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(services)
    }

    async fn list_services(&self, options: QueryOptions) -> Result<Vec<Service>> {
        // Every node's value is read anyway (the version is in the value, not the key); the
        // listing keeps the contract every backend shares.
        let services = self
            .read(keys::PREFIX.to_owned(), None, options.fresh)
            .await?;
        let mut listed: Vec<Service> = services.iter().map(Service::listing).collect();
        listed.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        Ok(listed)
    }

    /// Reads the watched prefix now (linearizably), then follows it from that revision on:
    /// every change after this call returns is seen.
    async fn watch(&self, options: WatchOptions) -> Result<Box<dyn Watcher>> {
        let prefix = match &options.service {
            Some(name) => {
                validate::service_name(name)?;
                keys::service_prefix(name)?
            }
            None => keys::PREFIX.to_owned(),
        };
        let timeout = self.shared.timeout();
        let client = self.shared.client.clone();
        let get = |mut client: Client| {
            let prefix = prefix.clone();
            async move {
                client
                    .get(prefix, Some(GetOptions::new().with_prefix()))
                    .await
            }
        };
        let response = self.explained(retrying(timeout, &client, get)).await?;
        let revision = response
            .header()
            .map(|header| header.revision())
            .ok_or_else(|| Error::Backend("etcd answered a read without a header".into()))?;
        let view = View::read(
            options.service,
            response.kvs().iter().map(|kv| (kv.key(), kv.value())),
        );
        let leases = Leases::read(response.kvs().iter().map(|kv| (kv.key(), kv.lease())));
        Ok(Box::new(EtcdWatcher::spawn(Start {
            client,
            prefix,
            view,
            leases,
            revision,
            timeout,
            registry_alive: self.shared.alive.subscribe(),
        })))
    }

    fn name(&self) -> &'static str {
        "etcd"
    }
}

/// The key of every node of `service`, or the first refusal.
fn node_keys(service: &Service) -> Result<Vec<String>> {
    service
        .nodes
        .iter()
        .map(|node| keys::node_key(&service.name, &node.id))
        .collect()
}

/// One service per name and version with the nodes of all of them, in the order first seen
/// (etcd returns keys sorted, so by service name). The service-level data is the first
/// value's, as go-micro's `GetService` takes it; a node id seen twice (two keys that differ
/// only by `/` and `-`) is kept once.
fn merge_nodes(services: impl Iterator<Item = Service>) -> Vec<Service> {
    let mut merged: Vec<Service> = Vec::new();
    let mut position: HashMap<(String, String), usize> = HashMap::new();
    for mut service in services {
        let at = (service.name.clone(), service.version.clone());
        match position.get(&at) {
            Some(&index) => {
                let nodes = &mut merged[index].nodes;
                for node in service.nodes {
                    if !nodes.iter().any(|known| known.id == node.id) {
                        nodes.push(node);
                    }
                }
            }
            None => {
                position.insert(at, merged.len());
                service.nodes.dedup_by(|a, b| a.id == b.id);
                merged.push(service);
            }
        }
    }
    merged
}

/// The [`EtcdOptions`] in `options.extensions`, or the defaults.
fn etcd_options(options: &Options) -> EtcdOptions {
    options
        .extensions
        .get::<EtcdOptions>()
        .cloned()
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Node;

    #[test]
    fn merges_nodes_per_name_and_version() {
        let one = |name: &str, version: &str, id: &str| Service {
            name: name.into(),
            version: version.into(),
            nodes: vec![Node {
                id: id.into(),
                address: "127.0.0.1:1".into(),
                ..Node::default()
            }],
            ..Service::default()
        };
        let merged = merge_nodes(
            [
                one("a", "1", "a1"),
                one("a", "1", "a2"),
                one("a", "2", "a3"),
                one("a", "1", "a2"),
                one("b", "1", "b1"),
            ]
            .into_iter(),
        );
        let shape: Vec<(&str, &str, Vec<&str>)> = merged
            .iter()
            .map(|s| {
                let ids = s.nodes.iter().map(|n| n.id.as_str()).collect();
                (s.name.as_str(), s.version.as_str(), ids)
            })
            .collect();
        assert_eq!(
            shape,
            [
                ("a", "1", vec!["a1", "a2"]),
                ("a", "2", vec!["a3"]),
                ("b", "1", vec!["b1"]),
            ]
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let options = EtcdOptions {
            username: Some("root".into()),
            password: Some("hunter2".into()),
            keep_alive: true,
        };
        assert!(!format!("{options:?}").contains("hunter2"));
    }
}
