//! The JSON API for scripts (and the websocket the pages use), one file per resource.
//!
//! Handlers are thin: they authorize, decode, and hand over to the [`crate::console::Hub`].
//! Every error is a [`crate::error::Error`], answered as `{"error": "..."}` with its status.
//!
//! - [`services`]: `GET /api/services`, `GET /api/services/{name}`, `POST /api/services`.
//! - [`nodes`]: `DELETE /api/services/{name}/nodes/{id}`, `POST …/{id}/evict`.
//! - [`call`]: `POST /api/services/{name}/call`: an endpoint called on a registry node.
//! - [`events`]: `GET /api/events` (`format=ndjson`: the events page's export);
//!   `POST /api/evict-stale` (bulk evict) is in [`nodes`].
//! - [`session`]: `GET /api/session`, `POST /login`, `POST /logout`.
//! - [`watch`]: `GET /api/watch` (websocket).
//! - [`stats`]: `GET /api/stats`: what the console holds and dropped (bounds under attack).
//! - [`lan`]: `GET /api/lan`, `GET /api/lan/watch` (websocket): standard DNS-SD on the LAN.
//! - [`ready`]: `GET /readyz`: whether the registry backend serves now.
//! - [`body`]: request bodies: size limit and JSON decoding with readable errors.
//! - [`keepalive`]: the loop both websockets run: heartbeats, pings, silent clients dropped.
//! - [`socket`]: their upgrade and connection, which sends a shared frame without a copy.

pub mod body;
pub mod call;
pub mod events;
pub mod keepalive;
pub mod lan;
pub mod nodes;
pub mod ready;
pub mod services;
pub mod session;
pub mod socket;
pub mod stats;
pub mod watch;

use crate::error::Error;

/// `/api/*` paths that do not exist.
pub async fn not_found() -> Error {
    Error::NotFound("no such API endpoint".into())
}
