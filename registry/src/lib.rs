//! go-micro's service registry, in Rust.
//!
//! The model (`Service`, `Node`, `Endpoint`, `Value`) serializes to the same JSON go-micro uses,
//! and the [`Registry`] trait mirrors go-micro's `registry.Registry`: register with a TTL,
//! deregister, get, list and watch. Backends are interchangeable and pass one conformance suite.
//!
//! # Example
//!
//! Register a node, see it come and go through a watcher, as the console does:
//!
//! ```
//! use std::time::Duration;
//!
//! use muster_registry::memory::MemoryRegistry;
//! use muster_registry::{
//!     Action, DeregisterOptions, Error, Node, Options, QueryOptions, RegisterOptions, Registry,
//!     Service, WatchOptions,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Error> {
//! let registry = MemoryRegistry::new(Options::default());
//! let mut watcher = registry.watch(WatchOptions::service("go.micro.srv.greeter")).await?;
//!
//! let greeter = Service {
//!     name: "go.micro.srv.greeter".into(),
//!     version: "latest".into(),
//!     nodes: vec![Node {
//!         id: "go.micro.srv.greeter-1".into(),
//!         address: "10.0.0.1:50051".into(),
//!         ..Node::default()
//!     }],
//!     ..Service::default()
//! };
//! registry
//!     .register(&greeter, RegisterOptions::with_ttl(Duration::from_secs(30)))
//!     .await?;
//! assert_eq!(watcher.next().await?.action, Action::Create);
//! assert_eq!(
//!     registry.get_service("go.micro.srv.greeter", QueryOptions::default()).await?,
//!     vec![greeter.clone()]
//! );
//!
//! registry.deregister(&greeter, DeregisterOptions::default()).await?;
//! let gone = watcher.next().await?;
//! assert_eq!((gone.action, gone.id.as_str()), (Action::Delete, "go.micro.srv.greeter-1"));
//! assert_eq!(
//!     registry.get_service("go.micro.srv.greeter", QueryOptions::default()).await,
//!     Err(Error::NotFound)
//! );
//!
//! watcher.stop();
//! assert_eq!(watcher.next().await, Err(Error::WatcherStopped));
//! # Ok(())
//! # }
//! ```
//!
//! # Layout
//!
//! - [`model`]: the data types, shared with the browser (compiles for wasm without features).
//! - [`go_json`]: JSON exactly as Go writes it, for byte-compatible stored records.
//! - [`error`]: the one error type (`NotFound`, `WatcherStopped`, `Lagged`, `Invalid`, …).
//! - [`event`]: watch events (`create` / `update` / `delete`).
//! - [`footprint`]: bytes a decoded model value really holds, for memory budgets.
//! - [`clock`]: wall-clock time as events carry it (Unix milliseconds).
//! - [`field`]: which input an invalid-argument error is about.
//! - [`options`]: registry and per-call options, with an extension bag for backend settings.
//! - [`validate`]: bounds on everything a caller or a peer hands in (names, addresses, schemas).
//! - [`util`]: go-micro's `Copy` / `Merge` / `Remove` on service lists, without its merge bug.
//! - [`registry`]: the `Registry` and `Watcher` traits (feature `runtime`).
//! - [`memory`]: the in-process backend, with TTL expiry and lag-reporting watchers
//!   (feature `memory`).
//! - `conformance`: the checks every backend must pass, for backends' tests (feature
//!   `conformance`).
//! - `mdns`: the go-micro-compatible mDNS backend: TXT codec, responder, querier, cache
//!   (feature `mdns`).
//! - `etcd`: the etcd backend in go-micro's key layout, with leases kept alive and a watcher
//!   that resumes from its last revision (feature `etcd`).
#![deny(missing_docs)]

pub mod clock;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod error;
#[cfg(feature = "etcd")]
pub mod etcd;
pub mod event;
pub mod field;
pub mod footprint;
pub mod go_json;
#[cfg(feature = "mdns")]
pub mod mdns;
#[cfg(feature = "memory")]
pub mod memory;
pub mod model;
pub mod options;
#[cfg(feature = "runtime")]
pub mod registry;
pub mod util;
pub mod validate;

pub use error::{Error, Result};
pub use event::{Action, Departure, Event, Lifetime};
pub use field::Field;
pub use model::{Endpoint, Metadata, Node, Service, Value};
pub use options::{
    DeregisterOptions, Extensions, Options, QueryOptions, RegisterOptions, TlsConfig, WatchOptions,
};
#[cfg(feature = "runtime")]
pub use registry::{Registry, Watcher};
