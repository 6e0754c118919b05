//! The JSON of endpoint calls (`POST /api/services/{name}/call`) and of node health, shared
//! by the server, its CLI and the browser.

use std::collections::BTreeMap;

pub use muster_rpc::HealthState;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

// `super::`, not `crate::`: the fuzz properties compile this file and `wire.rs` as siblings
// inside a module of their own (registry/fuzz/properties/api_body.rs).
use super::wire::UnixMillis;

/// Default time a call may take.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// Longest time a call may be given: a console's request should not hold a connection open
/// for longer than an operator waits.
pub const MAX_TIMEOUT_MS: u64 = 60_000;

/// The body of `POST /api/services/{name}/call`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    /// `Handler.Method`.
    pub endpoint: String,
    /// The request JSON, sent as is (`{}` when absent).
    #[serde(default)]
    pub request: Option<Box<RawValue>>,
    /// A node id of the service; absent: the next live node, round robin.
    #[serde(default)]
    pub node: Option<String>,
    /// How long the call may take, 1 to [`MAX_TIMEOUT_MS`]; absent: [`DEFAULT_TIMEOUT_MS`].
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Context metadata, sent as headers.
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

/// A successful call (200).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallReply {
    /// The node that answered.
    pub node: String,
    /// Its address.
    pub address: String,
    /// From connect to the last byte of the reply, in milliseconds (fractional).
    pub duration_ms: f64,
    /// The handler's JSON, as the node wrote it.
    pub response: Box<RawValue>,
}

/// A call that reached the node's side and failed (502, 504).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallFailure {
    /// What went wrong, for a person.
    pub error: String,
    /// The go-micro error as the node sent it: `{id, code, detail, status}` or a string.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<muster_rpc::RemoteError>,
    /// The node called.
    pub node: String,
    /// Its address.
    pub address: String,
}

/// A node's last health check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeHealth {
    /// What it found.
    pub state: HealthState,
    /// When.
    pub checked_at: UnixMillis,
    /// How long the answer took, in milliseconds; none without an answer.
    pub latency_ms: Option<u64>,
    /// What the node said, or why it did not.
    pub detail: String,
}
