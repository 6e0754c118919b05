//! go-micro's RPC ("mucp" over HTTP) as a client: call an endpoint of a node, ask a node's
//! `Debug.Health`.
//!
//! # Layout
//!
//! A crate of its own because two programs use it (the console's `/api/services/{name}/call`
//! and health checks, and the `muster call` / `muster health` commands), and because it is the
//! one place in Muster that speaks go-micro's mucp-over-HTTP: every wire fact of
//! registry/tests/vectors/gomicro-v1.18/rpc lives here and nowhere else.
//!
//! - [`call`]: what to call (`Call`) and the HTTP request it becomes (headers
//!   `Micro-Service`, `Micro-Endpoint`, `Micro-Method`, `Micro-Id`, `Timeout`, metadata).
//! - [`remote`]: a go-micro error as the node sent it (`Micro-Error`: JSON or a plain string).
//! - [`reply`]: the reply's head and body turned into JSON or an [`Error`] (pure, fuzzed).
//! - [`client`]: one connection per call, the client-side deadline, the reply-size cap.
//! - [`health`]: `Debug.Health` and what its answer says about the node ([`HealthState`]).
//! - [`kept`]: a node's own connection, kept open from one health check to the next.
//! - [`support`]: which nodes speak mucp over HTTP, from their registry metadata.
//! - [`error`]: why a call failed.
//! - `fake_peer` (feature `fake-peer`): a go-micro peer for tests and benchmarks.
//! - `fuzz_entry`: the reply parser's fuzz entry point (rpc/fuzz, and its corpus replay test).
//!
//! Feature `client` (default) holds everything that touches a socket or HTTP ([`call`],
//! [`reply`], [`client`], `health::check`); without it the crate is plain data that the UI's
//! wasm half shares with the server (health states, go-micro errors, the `supported` rule).
#![deny(missing_docs)]

#[cfg(feature = "client")]
pub mod call;
#[cfg(feature = "client")]
pub mod client;
pub mod error;
#[cfg(feature = "fake-peer")]
pub mod fake_peer;
#[cfg(feature = "client")]
#[doc(hidden)]
pub mod fuzz_entry;
pub mod health;
#[cfg(feature = "client")]
pub mod kept;
pub mod remote;
#[cfg(feature = "client")]
pub mod reply;
pub mod support;

#[cfg(feature = "client")]
pub use call::Call;
#[cfg(feature = "client")]
pub use client::{call, Reply, MAX_REPLY};
pub use error::Error;
#[cfg(feature = "client")]
pub use health::check;
pub use health::{Health, HealthState};
pub use remote::{GoError, RemoteError};
pub use support::supported;
