//! The HTTP edge: everything between a client's socket and the router.
//!
//! axum::serve has no header read timeout, no connection cap and no TLS, so the console serves
//! connections itself. What a client reaches, in order:
//!
//! - [`accept`]: the accept loop: connection caps ([`limits`]), the TLS handshake ([`tls`]),
//!   hyper's HTTP/1 with a header read timeout, graceful shutdown; every request body has
//!   the same time again to arrive ([`body_deadline`]).
//! - [`guard`]: the middleware every request and websocket upgrade passes: the Host allow-list
//!   ([`hosts`]), the Origin check, `X-Forwarded-*` from a trusted proxy only, and the security
//!   headers of every answer ([`headers`]).
//! - [`redirect`]: the plain-HTTP listener that sends browsers to the HTTPS console.

pub mod accept;
pub mod body_deadline;
pub mod guard;
pub mod headers;
pub mod hosts;
pub mod limits;
pub mod redirect;
pub mod tls;

use std::net::SocketAddr;

/// The connection a request arrived on, as the accept loop saw it (a request extension).
#[derive(Debug, Clone, Copy)]
pub struct Peer {
    /// The TCP peer: the client, or a reverse proxy in front of it.
    pub addr: SocketAddr,
    /// The connection is TLS.
    pub tls: bool,
}
