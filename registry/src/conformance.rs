//! The behaviour every backend must show, as checks a backend's tests run against it.
//!
//! Each check registers services under the suite's name prefix, drives the registry through
//! the [`Registry`] trait only, compares what comes back with what went in, and deregisters
//! what it registered, whether it passed or not. A check returns a [`Failure`] saying what was
//! expected and what the registry did, instead of panicking, so a server can run the suite as
//! a self-test too.
//!
//! Network backends see their own changes late (an mDNS answer takes a query round trip, an
//! etcd watch a store round trip), so no check assumes instant visibility: reads are retried
//! until they show the expected state or [`Suite::settle`] has passed, and events are awaited
//! with the same deadline. Other processes may share the registry (a LAN, an etcd cluster), so
//! every name starts with [`Suite::prefix`] and events of other names are ignored.
//!
//! What the checks assume, beyond the trait's documentation:
//! - the service-level `metadata` may be dropped (go-micro's mDNS dialect does not carry it),
//!   so the checks register none; everything else must come back exactly;
//! - `list_services` must name each service, but may leave out versions and nodes (go-micro's
//!   mDNS listing does);
//! - invalid input (see [`crate::validate`]) is refused with [`Error::Invalid`];
//! - a refresh of an unchanged node (go-micro re-registers periodically) emits no event.

use std::collections::BTreeSet;
use std::fmt;
use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::{sleep, timeout, Instant};

use crate::error::{Error, Result};
use crate::event::{Action, Event};
use crate::model::{Endpoint, Metadata, Node, Service, Value};
use crate::options::{DeregisterOptions, QueryOptions, RegisterOptions, WatchOptions};
use crate::registry::{Registry, Watcher};
use crate::validate;

/// How to run the suite against one backend.
#[derive(Debug, Clone)]
pub struct Suite {
    /// Start of every service name the checks register, e.g. `muster.conformance.4242.17`.
    /// Must be a valid service name itself.
    pub prefix: String,
    /// How long a change may take to show in reads and watchers, and how long any single
    /// registry call may take.
    pub settle: Duration,
    /// Pause between two reads while waiting for a change to show.
    pub poll_interval: Duration,
    /// The TTL to test expiry with, for backends that expire registrations; `None` skips
    /// [`ttl_expiry`]. Expiry is checked with a margin of 40 % of this.
    pub ttl: Option<Duration>,
}

impl Suite {
    /// A suite registering names that start with `prefix`; 5 s to settle, polls every 20 ms,
    /// no TTL check.
    pub fn new(prefix: impl Into<String>) -> Self {
        Suite {
            prefix: prefix.into(),
            settle: Duration::from_secs(5),
            poll_interval: Duration::from_millis(20),
            ttl: None,
        }
    }

    /// A suite whose prefix is unique to this process and moment, so that concurrent runs on
    /// one shared registry never see each other's services.
    pub fn unique() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        Suite::new(format!("muster.conformance.{}.{nanos}", std::process::id()))
    }

    /// Also check expiry, registering with `ttl`.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }

    /// Allow `settle` for changes to show.
    pub fn with_settle(mut self, settle: Duration) -> Self {
        self.settle = settle;
        self
    }
}

/// A check the registry did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The check, as its function's name (`watch_lifecycle`, …).
    pub check: &'static str,
    /// What was expected and what happened instead.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "conformance check `{}` failed: {}",
            self.check, self.message
        )
    }
}

impl std::error::Error for Failure {}

/// Runs every check in turn; the first failure ends the run.
pub async fn run_all(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    register_get_list(registry, suite).await?;
    versions_and_nodes(registry, suite).await?;
    watch_lifecycle(registry, suite).await?;
    watch_filter(registry, suite).await?;
    refresh_is_silent(registry, suite).await?;
    watcher_stop(registry, suite).await?;
    invalid_input(registry, suite).await?;
    ttl_expiry(registry, suite).await
}

/// register → get (exact round trip) → list names it → deregister → get is `NotFound` and
/// list no longer names it.
pub async fn register_get_list(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "register_get_list");
    let service = sample(&check.name("basic"), "1.0.0", &["node-1"], 41001);
    check
        .cleaning_up(std::slice::from_ref(&service), async {
            match check.call("get_service", check.get(&service.name)).await? {
                Err(Error::NotFound) => {}
                other => {
                    return Err(check.fail(format!("before register: want NotFound, got {other:?}")))
                }
            }
            check.register(&service, RegisterOptions::default()).await?;
            let expected = vec![service.clone()];
            check
                .until(
                    "the registered service",
                    |found| found.as_ref() == Ok(&expected),
                    &service.name,
                )
                .await?;
            check.until_listed(&service.name, true).await?;
            // The listing is the version without its endpoints and nodes, on every backend.
            let listed: Vec<Service> = check
                .call(
                    "list_services",
                    registry.list_services(QueryOptions::default()),
                )
                .await?
                .map_err(|error| check.fail(format!("list_services: {error}")))?
                .into_iter()
                .filter(|listed| listed.name == service.name)
                .collect();
            if listed != [service.listing()] {
                return Err(check.fail(format!(
                    "list_services gave {listed:?}, want the version's listing {:?}",
                    service.listing()
                )));
            }
            check.deregister(&service).await?;
            check
                .until(
                    "NotFound after deregister",
                    |found| found == &Err(Error::NotFound),
                    &service.name,
                )
                .await?;
            check.until_listed(&service.name, false).await
        })
        .await
}

/// Nodes of one version are merged into one service; versions stay apart; deregistering a
/// node leaves its siblings and the other versions alone.
pub async fn versions_and_nodes(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "versions_and_nodes");
    let name = check.name("versions");
    let v1_a = sample(&name, "1.0.0", &["node-a"], 41011);
    let v1_b = sample(&name, "1.0.0", &["node-b"], 41012);
    let v2_c = sample(&name, "2.0.0", &["node-c"], 41013);
    let registered = [v1_a.clone(), v1_b.clone(), v2_c.clone()];
    check
        .cleaning_up(&registered, async {
            for service in &registered {
                check.register(service, RegisterOptions::default()).await?;
            }
            let shape = |want: &[(&str, &[&str])]| {
                let want: BTreeSet<(String, BTreeSet<String>)> = want
                    .iter()
                    .map(|(version, ids)| {
                        (
                            version.to_string(),
                            ids.iter().map(|id| format!("{name}-{id}")).collect(),
                        )
                    })
                    .collect();
                move |found: &Result<Vec<Service>>| match found {
                    Ok(services) => {
                        let got: BTreeSet<(String, BTreeSet<String>)> = services
                            .iter()
                            .map(|s| {
                                (
                                    s.version.clone(),
                                    s.nodes.iter().map(|n| n.id.clone()).collect(),
                                )
                            })
                            .collect();
                        got.len() == services.len() && got == want
                    }
                    Err(_) => false,
                }
            };
            check
                .until(
                    "versions 1.0.0 {node-a, node-b} and 2.0.0 {node-c}",
                    shape(&[("1.0.0", &["node-a", "node-b"]), ("2.0.0", &["node-c"])]),
                    &name,
                )
                .await?;
            check.deregister(&v1_a).await?;
            check
                .until(
                    "versions 1.0.0 {node-b} and 2.0.0 {node-c}",
                    shape(&[("1.0.0", &["node-b"]), ("2.0.0", &["node-c"])]),
                    &name,
                )
                .await?;
            check.deregister(&v1_b).await?;
            check
                .until(
                    "version 2.0.0 {node-c} only",
                    shape(&[("2.0.0", &["node-c"])]),
                    &name,
                )
                .await?;
            Ok(())
        })
        .await
}

/// A watcher of the whole registry sees create, then update (the node's metadata changed),
/// then delete, each carrying the node concerned.
pub async fn watch_lifecycle(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "watch_lifecycle");
    let service = sample(&check.name("watched"), "1.0.0", &["node-w"], 41021);
    let mut changed = service.clone();
    changed.nodes[0]
        .metadata
        .insert("changed".into(), "yes".into());
    check
        .cleaning_up(std::slice::from_ref(&service), async {
            let mut watcher = check.watch(WatchOptions::default()).await?;
            check.register(&service, RegisterOptions::default()).await?;
            check
                .expect_event(&mut *watcher, Action::Create, &service)
                .await?;
            check.register(&changed, RegisterOptions::default()).await?;
            check
                .expect_event(&mut *watcher, Action::Update, &changed)
                .await?;
            check.deregister(&changed).await?;
            check
                .expect_event(&mut *watcher, Action::Delete, &changed)
                .await?;
            watcher.stop();
            Ok(())
        })
        .await
}

/// A watcher of one service gets none of another service's events.
pub async fn watch_filter(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "watch_filter");
    let ignored = sample(&check.name("filter-other"), "1.0.0", &["node-x"], 41031);
    let followed = sample(&check.name("filter-followed"), "1.0.0", &["node-f"], 41032);
    let registered = [ignored.clone(), followed.clone()];
    check
        .cleaning_up(&registered, async {
            let mut watcher = check.watch(WatchOptions::service(&followed.name)).await?;
            // The other service first: if the filter let it through, it would come first.
            check.register(&ignored, RegisterOptions::default()).await?;
            check
                .register(&followed, RegisterOptions::default())
                .await?;
            let event = check.next_event(&mut *watcher, None).await?;
            if event.service.name != followed.name || event.action != Action::Create {
                return Err(check.fail(format!(
                    "a watcher of {} got {} {} of {}",
                    followed.name, event.action, event.id, event.service.name
                )));
            }
            watcher.stop();
            Ok(())
        })
        .await
}

/// Registering an unchanged node again (go-micro's periodic re-registration) refreshes it
/// without an event: after it, the next event is about the next real change.
pub async fn refresh_is_silent(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "refresh_is_silent");
    let name = check.name("refreshed");
    let service = sample(&name, "1.0.0", &["node-r"], 41041);
    let marker = sample(&name, "1.0.0", &["node-marker"], 41042);
    let registered = [service.clone(), marker.clone()];
    check
        .cleaning_up(&registered, async {
            let mut watcher = check.watch(WatchOptions::service(&name)).await?;
            check.register(&service, RegisterOptions::default()).await?;
            check
                .expect_event(&mut *watcher, Action::Create, &service)
                .await?;
            check.register(&service, RegisterOptions::default()).await?;
            check.register(&marker, RegisterOptions::default()).await?;
            check
                .expect_event(&mut *watcher, Action::Create, &marker)
                .await?;
            watcher.stop();
            Ok(())
        })
        .await
}

/// After `stop`, `next` returns `WatcherStopped`, at once and for ever.
pub async fn watcher_stop(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "watcher_stop");
    let mut watcher = check.watch(WatchOptions::default()).await?;
    watcher.stop();
    for attempt in ["first", "second"] {
        match check.call("Watcher::next", watcher.next()).await? {
            Err(Error::WatcherStopped) => {}
            other => {
                return Err(check.fail(format!(
                    "{attempt} next after stop: want WatcherStopped, got {other:?}"
                )))
            }
        }
    }
    Ok(())
}

/// Invalid registrations, names and TTLs are refused with `Invalid`, and change nothing.
pub async fn invalid_input(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let check = Check::new(registry, suite, "invalid_input");
    let name = check.name("invalid");
    let valid = sample(&name, "1.0.0", &["node-i"], 41051);
    let edit = |change: &dyn Fn(&mut Service)| {
        let mut service = valid.clone();
        change(&mut service);
        service
    };
    let too_deep = (0..=validate::MAX_SCHEMA_DEPTH).fold(Value::default(), |inner, level| Value {
        name: format!("level{level}"),
        r#type: format!("Level{level}"),
        values: vec![inner],
    });
    let cases: Vec<(&str, Service, RegisterOptions)> = vec![
        (
            "an empty name",
            edit(&|s| s.name.clear()),
            RegisterOptions::default(),
        ),
        (
            "a name with a newline",
            edit(&|s| s.name.push('\n')),
            RegisterOptions::default(),
        ),
        (
            "an oversized name",
            edit(&|s| s.name = "n".repeat(validate::MAX_NAME_LEN + 1)),
            RegisterOptions::default(),
        ),
        (
            "no nodes",
            edit(&|s| s.nodes.clear()),
            RegisterOptions::default(),
        ),
        (
            "an empty node id",
            edit(&|s| s.nodes[0].id.clear()),
            RegisterOptions::default(),
        ),
        (
            "a node id listed twice",
            edit(&|s| s.nodes.push(s.nodes[0].clone())),
            RegisterOptions::default(),
        ),
        (
            "an address without port",
            edit(&|s| s.nodes[0].address = "127.0.0.1".into()),
            RegisterOptions::default(),
        ),
        (
            "port 0",
            edit(&|s| s.nodes[0].address = "127.0.0.1:0".into()),
            RegisterOptions::default(),
        ),
        (
            "an unbracketed IPv6 host",
            edit(&|s| s.nodes[0].address = "::1:8080".into()),
            RegisterOptions::default(),
        ),
        (
            "a schema too deep",
            edit(&|s| s.endpoints[0].request = Some(too_deep.clone())),
            RegisterOptions::default(),
        ),
        (
            "a zero TTL",
            valid.clone(),
            RegisterOptions::with_ttl(Duration::ZERO),
        ),
    ];
    check
        .cleaning_up(std::slice::from_ref(&valid), async {
            for (case, service, options) in &cases {
                match check
                    .call("register", registry.register(service, options.clone()))
                    .await?
                {
                    Err(Error::Invalid { .. }) => {}
                    other => {
                        return Err(check
                            .fail(format!("register with {case}: want Invalid, got {other:?}")))
                    }
                }
            }
            let deregistered = registry.deregister(&cases[0].1, DeregisterOptions::default());
            let get_empty = check.get("");
            let watch_empty = registry.watch(WatchOptions::service(""));
            let refusals = [
                (
                    "deregister with an empty name",
                    check.call("deregister", deregistered).await?.err(),
                ),
                (
                    "get_service(\"\")",
                    check.call("get_service", get_empty).await?.err(),
                ),
                (
                    "watch of \"\"",
                    check.call("watch", watch_empty).await?.err(),
                ),
            ];
            for (what, error) in refusals {
                if !matches!(error, Some(Error::Invalid { .. })) {
                    return Err(check.fail(format!("{what}: want Invalid, got {error:?}")));
                }
            }
            match check.call("get_service", check.get(&name)).await? {
                Err(Error::NotFound) => Ok(()),
                other => Err(check.fail(format!(
                    "after refused registrations: want NotFound, got {other:?}"
                ))),
            }
        })
        .await
}

/// With [`Suite::ttl`] set: a node registered with a TTL stays while refreshed, then expires
/// by itself, with a delete event. Passes at once when the suite has no TTL.
pub async fn ttl_expiry(registry: &dyn Registry, suite: &Suite) -> Result<(), Failure> {
    let Some(ttl) = suite.ttl else {
        return Ok(());
    };
    let check = Check::new(registry, suite, "ttl_expiry");
    let service = sample(&check.name("expiring"), "1.0.0", &["node-t"], 41061);
    check
        .cleaning_up(std::slice::from_ref(&service), async {
            let mut watcher = check.watch(WatchOptions::service(&service.name)).await?;
            let registered_at = Instant::now();
            check
                .register(&service, RegisterOptions::with_ttl(ttl))
                .await?;
            check
                .expect_event(&mut *watcher, Action::Create, &service)
                .await?;
            // Refresh at 60 % of the TTL; at 120 % the node must still be there (it now
            // expires at 160 %).
            tokio::time::sleep_until(registered_at + ttl.mul_f32(0.6)).await;
            check
                .register(&service, RegisterOptions::with_ttl(ttl))
                .await?;
            tokio::time::sleep_until(registered_at + ttl.mul_f32(1.2)).await;
            match check.call("get_service", check.get(&service.name)).await? {
                Ok(found) if found == [service.clone()] => {}
                other => {
                    return Err(check.fail(format!(
                        "a refreshed node expired early: want it listed, got {other:?}"
                    )))
                }
            }
            check
                .expect_event(&mut *watcher, Action::Delete, &service)
                .await?;
            check
                .until(
                    "NotFound after expiry",
                    |found| found == &Err(Error::NotFound),
                    &service.name,
                )
                .await?;
            watcher.stop();
            Ok(())
        })
        .await
}

/// One check's context: the registry, the suite, and the check's name for failures.
struct Check<'a> {
    registry: &'a dyn Registry,
    suite: &'a Suite,
    name: &'static str,
}

impl<'a> Check<'a> {
    fn new(registry: &'a dyn Registry, suite: &'a Suite, name: &'static str) -> Self {
        Check {
            registry,
            suite,
            name,
        }
    }

    fn fail(&self, message: impl Into<String>) -> Failure {
        Failure {
            check: self.name,
            message: message.into(),
        }
    }

    /// A service name of this run.
    fn name(&self, suffix: &str) -> String {
        format!("{}.{suffix}", self.suite.prefix)
    }

    /// Awaits one registry call, failing the check if it takes longer than `settle`.
    async fn call<T>(&self, what: &str, call: impl Future<Output = T>) -> Result<T, Failure> {
        timeout(self.suite.settle, call).await.map_err(|_| {
            self.fail(format!(
                "{what} did not return within {:?}",
                self.suite.settle
            ))
        })
    }

    fn get<'b>(&'b self, name: &'b str) -> impl Future<Output = Result<Vec<Service>>> + 'b {
        self.registry.get_service(name, QueryOptions::default())
    }

    async fn register(&self, service: &Service, options: RegisterOptions) -> Result<(), Failure> {
        self.call("register", self.registry.register(service, options))
            .await?
            .map_err(|error| self.fail(format!("register {}: {error}", service.name)))
    }

    async fn deregister(&self, service: &Service) -> Result<(), Failure> {
        self.call(
            "deregister",
            self.registry
                .deregister(service, DeregisterOptions::default()),
        )
        .await?
        .map_err(|error| self.fail(format!("deregister {}: {error}", service.name)))
    }

    async fn watch(&self, options: WatchOptions) -> Result<Box<dyn Watcher>, Failure> {
        self.call("watch", self.registry.watch(options))
            .await?
            .map_err(|error| self.fail(format!("watch: {error}")))
    }

    /// Runs `steps`, then deregisters `services` whatever the outcome (errors ignored: some
    /// were never registered, or already gone), so a failed check leaves nothing behind.
    async fn cleaning_up(
        &self,
        services: &[Service],
        steps: impl Future<Output = Result<(), Failure>>,
    ) -> Result<(), Failure> {
        let outcome = steps.await;
        for service in services {
            let _ = timeout(
                self.suite.settle,
                self.registry
                    .deregister(service, DeregisterOptions::default()),
            )
            .await;
        }
        outcome
    }

    /// Reads `get_service(name)` until `wanted` holds, for at most `settle`.
    async fn until(
        &self,
        what: &str,
        wanted: impl Fn(&Result<Vec<Service>>) -> bool,
        name: &str,
    ) -> Result<(), Failure> {
        let deadline = Instant::now() + self.suite.settle;
        loop {
            let found = self.call("get_service", self.get(name)).await?;
            if wanted(&found) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(self.fail(format!(
                    "waited {:?} for {what} from get_service({name}); last answer: {found:?}",
                    self.suite.settle
                )));
            }
            sleep(self.suite.poll_interval).await;
        }
    }

    /// Reads `list_services` until it names `name` (`listed`) or does not, for at most `settle`.
    async fn until_listed(&self, name: &str, listed: bool) -> Result<(), Failure> {
        let deadline = Instant::now() + self.suite.settle;
        loop {
            let services = self
                .call(
                    "list_services",
                    self.registry.list_services(QueryOptions::default()),
                )
                .await?
                .map_err(|error| self.fail(format!("list_services: {error}")))?;
            if services.iter().any(|s| s.name == name) == listed {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let state = if listed { "named" } else { "gone" };
                return Err(self.fail(format!(
                    "waited {:?} for {name} to be {state} in list_services",
                    self.suite.settle
                )));
            }
            sleep(self.suite.poll_interval).await;
        }
    }

    /// The next event about the service `name` (any, when `None`), waiting at most `settle`.
    /// `Lagged` is tolerated (the deadline catches a lost event), `WatcherStopped` is not.
    async fn next_event(
        &self,
        watcher: &mut dyn Watcher,
        name: Option<&str>,
    ) -> Result<Event, Failure> {
        let deadline = Instant::now() + self.suite.settle;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match timeout(left, watcher.next()).await {
                Err(_) => {
                    return Err(self.fail(format!(
                        "no event about {} within {:?}",
                        name.unwrap_or("any service"),
                        self.suite.settle
                    )))
                }
                Ok(Ok(event)) if name.is_none_or(|name| name == event.service.name) => {
                    return Ok(event)
                }
                Ok(Ok(_) | Err(Error::Lagged { .. })) => {}
                Ok(Err(error)) => return Err(self.fail(format!("watcher failed: {error}"))),
            }
        }
    }

    /// Waits for the next event about `service`'s name and checks it is `action` on its one
    /// node, carrying the node and the service's endpoints as registered.
    async fn expect_event(
        &self,
        watcher: &mut dyn Watcher,
        action: Action,
        service: &Service,
    ) -> Result<(), Failure> {
        let event = self.next_event(watcher, Some(&service.name)).await?;
        let node = &service.nodes[0];
        let as_expected = event.action == action
            && event.id == node.id
            && event.service.version == service.version
            && event.service.nodes == [node.clone()]
            && (action == Action::Delete || event.service.endpoints == service.endpoints);
        if as_expected {
            Ok(())
        } else {
            Err(self.fail(format!(
                "want {action} of node {} ({} {}), got {event:?}",
                node.id, service.name, service.version
            )))
        }
    }
}

/// A service like a go-micro greeter: one endpoint with a nested schema, node metadata as
/// go-micro sets it, one node per id at consecutive loopback ports from `port`.
fn sample(name: &str, version: &str, node_ids: &[&str], port: u16) -> Service {
    let field = |name: &str, r#type: &str| Value {
        name: name.into(),
        r#type: r#type.into(),
        values: Vec::new(),
    };
    Service {
        name: name.into(),
        version: version.into(),
        metadata: Metadata::new(),
        endpoints: vec![Endpoint {
            name: "Greeter.Hello".into(),
            request: Some(Value {
                name: "Request".into(),
                r#type: "Request".into(),
                values: vec![
                    field("name", "string"),
                    Value {
                        name: "meta".into(),
                        r#type: "Meta".into(),
                        values: vec![field("tags", "[]string")],
                    },
                ],
            }),
            response: Some(Value {
                name: "Response".into(),
                r#type: "Response".into(),
                values: vec![field("msg", "string")],
            }),
            metadata: Metadata::from([("stream".into(), "false".into())]),
        }],
        nodes: node_ids
            .iter()
            .zip(port..)
            .map(|(id, port)| Node {
                id: format!("{name}-{id}"),
                address: format!("127.0.0.1:{port}"),
                metadata: Metadata::from([
                    ("broker".into(), "http".into()),
                    ("protocol".into(), "mucp".into()),
                    ("registry".into(), "conformance".into()),
                ]),
            })
            .collect(),
    }
}
