//! go-micro's service registry, in Rust.
//!
//! The model (`Service`, `Node`, `Endpoint`, `Value`) serializes to the same JSON go-micro uses,
//! and the [`Registry`] trait mirrors go-micro's `registry.Registry`: register with a TTL,
//! deregister, get, list and watch. Backends are interchangeable and pass one conformance suite.
//!
//! # Layout
//!
//! - [`model`]: the data types, shared with the browser (compiles for wasm without features).
//! - [`go_json`]: JSON exactly as Go writes it, for byte-compatible stored records.
//! - [`error`]: the one error type (`NotFound`, `WatcherStopped`, `Lagged`, `Invalid`, …).
//! - [`event`]: watch events (`create` / `update` / `delete`).
//! - [`options`]: registry and per-call options, with an extension bag for backend settings.
//! - [`registry`]: the `Registry` and `Watcher` traits (feature `runtime`).
//! - `mdns`: the go-micro-compatible mDNS backend: TXT codec, responder, querier, cache
//!   (feature `mdns`).
#![deny(missing_docs)]

pub mod error;
pub mod event;
pub mod go_json;
pub mod model;
pub mod options;
#[cfg(feature = "runtime")]
pub mod registry;
#[cfg(feature = "mdns")]
pub mod mdns;

pub use error::{Error, Result};
pub use event::{Action, Event};
pub use model::{Endpoint, Metadata, Node, Service, Value};
pub use options::{
    DeregisterOptions, Extensions, Options, QueryOptions, RegisterOptions, TlsConfig,
    WatchOptions,
};
#[cfg(feature = "runtime")]
pub use registry::{Registry, Watcher};
