//! Why a call failed: the caller maps each kind to its own answer (the API to 400/502/504).

use std::time::Duration;

use crate::remote::RemoteError;

/// A failed call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The call itself is malformed (endpoint, metadata); nothing was sent.
    #[error("{0}")]
    Invalid(String),
    /// No connection to the node (refused, no route, name not resolved).
    #[error("cannot connect to {address}: {reason}")]
    Unreachable {
        /// The node's address.
        address: String,
        /// What the operating system said.
        reason: String,
    },
    /// No complete reply within the deadline (go-micro does not enforce `Timeout` itself).
    #[error("no reply within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The node answered with a go-micro error (`Micro-Error`).
    #[error("{0}")]
    Remote(RemoteError),
    /// The reply body is larger than the cap; it was not read further.
    #[error("the reply is larger than {limit} bytes")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The node answered, but not with a go-micro JSON reply (broken HTTP, wrong content type,
    /// a body that is not JSON).
    #[error("{0}")]
    Protocol(String),
}
