//! A connection kept open to one node between its health checks.
//!
//! A health check asks the same `Debug.Health` of the same node every interval, so one
//! check's connection can carry the next: no connect, no handshake, no socket in TIME_WAIT
//! per check (the rpc bench's 10,000-node sweep spent most of its time there). It is safe
//! where sharing a connection between calls is not ([`crate::client`]): a v1.18 server
//! echoes the headers of the request that opened the connection into every later reply
//! (case 14), and every request on a kept connection is that same request. A v1.18 server
//! keeps connections open (cases 15, 19); one that closed it meanwhile costs a reconnect.
//!
//! One node, one connection, one check at a time: the caller hands the connection to the
//! check and gets it back after a whole reply. Nothing is shared across nodes (no pool).

use std::time::{Duration, Instant};

use serde_json::value::RawValue;

use crate::call::Call;
use crate::client::{open, send, Connection, Sender, MAX_REPLY};
use crate::error::Error;
use crate::health::{judge, Health};

/// An open HTTP/1.1 connection to one node, idle between two of its checks.
pub struct KeptConnection {
    address: String,
    sender: Sender,
    _connection: Connection,
}

impl std::fmt::Debug for KeptConnection {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("KeptConnection")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl KeptConnection {
    /// The node's `host:port`.
    pub fn address(&self) -> &str {
        &self.address
    }
}

/// Asks `Debug.Health` of the node of `service` at `address` within `timeout`, on `kept` when
/// that is still an open connection to the same address, else on a new one. Returns the
/// health and, when a whole go-micro reply was read (an answer or a go-micro error), the
/// connection for the next check; after a timeout or a broken reply it is closed.
pub async fn check_kept(
    service: &str,
    address: &str,
    timeout: Duration,
    kept: Option<KeptConnection>,
) -> (Health, Option<KeptConnection>) {
    let call = Call::new(service, "Debug.Health", "{}", timeout);
    let started = Instant::now();
    match tokio::time::timeout(timeout, exchange(address, &call, kept)).await {
        Err(_) => (judge(Err(Error::Timeout(timeout))), None),
        Ok((outcome, connection)) => {
            let whole_reply = matches!(outcome, Ok(_) | Err(Error::Remote(_)));
            let health = judge(outcome.map(|body| (body.get().to_string(), started.elapsed())));
            (health, connection.filter(|_| whole_reply))
        }
    }
}

/// One exchange, on the kept connection if it is usable; a kept connection that fails
/// without a go-micro answer (the node closed it while idle) is replaced once by a new one.
async fn exchange(
    address: &str,
    call: &Call,
    kept: Option<KeptConnection>,
) -> (Result<Box<RawValue>, Error>, Option<KeptConnection>) {
    let usable = kept.filter(|kept| kept.address == address && !kept.sender.is_closed());
    if let Some(mut kept) = usable {
        let outcome = match call.request(address) {
            Ok(request) => send(&mut kept.sender, request, MAX_REPLY).await,
            Err(error) => return (Err(error), None),
        };
        if matches!(outcome, Ok(_) | Err(Error::Remote(_))) {
            return (outcome, Some(kept));
        }
    }
    let (mut sender, connection) = match open(address).await {
        Ok(open) => open,
        Err(error) => return (Err(error), None),
    };
    let outcome = match call.request(address) {
        Ok(request) => send(&mut sender, request, MAX_REPLY).await,
        Err(error) => return (Err(error), None),
    };
    let kept = KeptConnection {
        address: address.to_string(),
        sender,
        _connection: connection,
    };
    (outcome, Some(kept))
}
