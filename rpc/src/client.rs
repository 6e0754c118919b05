//! Calling a node: one TCP connection per call, HTTP/1.1 through hyper, a deadline of our own
//! and a cap on the reply.
//!
//! - One connection per call, closed once the reply is read: go-micro's server keeps every
//!   connection open, `Connection: close` or not (cases 15, 19), so a pool would hold idle
//!   sockets to every node of the registry, and a connection shared across calls would carry
//!   the first request's echoed headers into later replies (case 14).
//! - The deadline covers connect, request and the whole body: the server sets its context
//!   from `Timeout` but nothing stops a slow handler (case 16: 5 s for a 1 s timeout).
//! - The request is never half-closed: a v1.18 server drops the connection without a reply
//!   when it sees the client's FIN (case 20). hyper keeps the write side open until the end.
//! - Bodies are capped at [`MAX_REPLY`]: a node on the LAN must not exhaust the console.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper_util::rt::TokioIo;
use serde_json::value::RawValue;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::call::Call;
use crate::error::Error;
use crate::reply;

/// Largest reply body read: go-micro's own transport caps messages at 4 MiB too, and no
/// JSON a person reads is larger.
pub const MAX_REPLY: usize = 4 * 1024 * 1024;

/// A successful call.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The handler's JSON, as the node wrote it.
    pub body: Box<RawValue>,
    /// From the first connect to the last byte of the body.
    pub duration: Duration,
}

/// Calls `call` on the node at `address`, with a reply of at most [`MAX_REPLY`] bytes.
pub async fn call(address: &str, call: &Call) -> Result<Reply, Error> {
    call_capped(address, call, MAX_REPLY).await
}

/// [`call`] with a reply of at most `limit` bytes.
pub async fn call_capped(address: &str, call: &Call, limit: usize) -> Result<Reply, Error> {
    let request = call.request(address)?;
    let started = Instant::now();
    match tokio::time::timeout(call.timeout, exchange(address, request, limit)).await {
        Ok(body) => Ok(Reply {
            body: body?,
            duration: started.elapsed(),
        }),
        Err(_) => Err(Error::Timeout(call.timeout)),
    }
}

/// Aborts the connection's task when the call ends, however it ends (a timeout drops the
/// exchange mid-way: the socket must not outlive it).
pub(crate) struct Connection(JoinHandle<()>);

impl Drop for Connection {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The request type every call sends.
pub(crate) type Request = http::Request<http_body_util::Full<bytes::Bytes>>;

/// The sending half of an open HTTP/1.1 connection.
pub(crate) type Sender =
    hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>;

/// Connect, send, read the whole reply.
async fn exchange(address: &str, request: Request, limit: usize) -> Result<Box<RawValue>, Error> {
    let (mut sender, _connection) = open(address).await?;
    send(&mut sender, request, limit).await
}

/// A TCP connection to `address` with HTTP/1.1 over it; the connection lives as long as the
/// returned guard.
pub(crate) async fn open(address: &str) -> Result<(Sender, Connection), Error> {
    let stream = TcpStream::connect(address)
        .await
        .map_err(|error| Error::Unreachable {
            address: address.to_string(),
            reason: error.to_string(),
        })?;
    // The request is small and written at once; no reason to wait for an ACK to send the rest.
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| Error::Protocol(format!("HTTP: {error}")))?;
    let connection = Connection(tokio::spawn(async move {
        let _ = connection.await;
    }));
    Ok((sender, connection))
}

/// Sends `request` on an open connection and reads the whole reply (at most `limit` bytes).
pub(crate) async fn send(
    sender: &mut Sender,
    request: Request,
    limit: usize,
) -> Result<Box<RawValue>, Error> {
    let response = sender.send_request(request).await.map_err(|error| {
        Error::Protocol(if error.is_incomplete_message() || error.is_canceled() {
            "the node closed the connection without a reply".to_string()
        } else {
            format!("HTTP: {error}")
        })
    })?;
    let (head, body) = response.into_parts();
    let announced = head
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(Error::TooLarge { limit });
    }
    let body = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<LengthLimitError>() {
                Error::TooLarge { limit }
            } else {
                Error::Protocol(format!("reading the reply: {error}"))
            }
        })?
        .to_bytes();
    reply::parse(head.status, &head.headers, &body)
}
