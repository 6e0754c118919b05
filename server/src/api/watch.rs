//! `GET /api/watch[?since=SEQ]`: the live view over one websocket per page.
//!
//! The client first gets a snapshot (or, reconnecting with `since`, the events it missed while
//! the ring still holds them), then every event in sequence order. The snapshot is announced by
//! a `Loading` message and is the frame shared by every client of the same revision. Memory
//! per client is bounded by the broadcast channel and by the budget of frames in flight: a
//! client that reads too slowly falls behind, and instead of the lost events gets a fresh
//! snapshot. At most `--max-watchers` clients are served at once; more get a 503. A heartbeat (with a WebSocket ping) goes
//! out every `--heartbeat-interval`; a client silent for three intervals, or one whose socket
//! accepts nothing for that long, is disconnected.

use std::sync::Arc;
use std::time::Duration;

use app::wire::WatchMessage;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

use super::keepalive::{self, send, send_raw, Feed};
use super::socket::{Kind, Socket, Upgrade};
use crate::console::follow::{Followed, Follower};
use crate::console::{First, Hub, WatcherSlot};
use crate::error::Error;
use crate::state::AppState;

/// Largest message a client may send (it only needs pongs and keep-alives).
const MAX_CLIENT_MESSAGE: usize = 4096;

/// The read buffer kept per client. The connection loop polls the socket for reading after
/// every event it sends, and each poll zero-fills the buffer up to this size: with the
/// default (128 KiB) and 100 clients, every event cost 12.8 MB of `memset` (a fifth of the
/// console's CPU in the end-to-end bench's profile). Clients only send pongs.
const READ_BUFFER: usize = 2 * MAX_CLIENT_MESSAGE;

/// The query string.
#[derive(Debug, Deserialize)]
pub struct WatchQuery {
    /// The last sequence number the client applied (after a reconnect).
    since: Option<u64>,
    /// `deflate`: send the snapshot as one zlib-deflated binary frame (browsers inflate it
    /// with `DecompressionStream`); anything else or nothing: JSON text.
    encoding: Option<String>,
}

/// Upgrades to the websocket, after checking that a browser page asking is this console's own.
pub async fn watch(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<WatchQuery>, axum::extract::rejection::QueryRejection>,
    upgrade: Result<Upgrade, Error>,
) -> Result<Response, Error> {
    state.auth.check_origin(&headers)?;
    let Query(query) = query.map_err(|error| {
        Error::invalid_parameter("since", format!("since must be a sequence number: {error}"))
    })?;
    let upgrade = upgrade?;
    let slot = state.hub.admit_watcher().ok_or_else(|| {
        Error::Busy(format!(
            "{} watchers are connected, the most this console serves (--max-watchers)",
            state.hub.settings().max_watchers
        ))
    })?;
    let hub = state.hub.clone();
    let client = Client {
        since: query.since,
        deflate: query.encoding.as_deref() == Some("deflate"),
        _slot: slot,
    };
    Ok(upgrade
        .read_buffer_size(READ_BUFFER)
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, hub, client)))
}

/// What one client asked for, and its place under `--max-watchers` (given back on drop).
struct Client {
    since: Option<u64>,
    deflate: bool,
    _slot: WatcherSlot,
}

/// Streams messages to one client until it leaves, dies, or the console stops.
async fn serve(mut socket: Socket, hub: Arc<Hub>, client: Client) {
    let heartbeat = hub.settings().heartbeat_interval;
    let patience = heartbeat * 3;
    let mut shutdown = hub.shutdown_signal();
    let (follower, first) = Follower::watch(hub.clone(), client.since).await;
    if send_first(&mut socket, first, client.deflate, patience)
        .await
        .is_err()
    {
        return;
    }
    let mut feed = Watch {
        hub,
        follower,
        client,
    };
    keepalive::serve(&mut socket, &mut feed, heartbeat, &mut shutdown, "watch").await;
}

/// The hub's events, as one client follows them.
struct Watch {
    hub: Arc<Hub>,
    follower: Follower,
    client: Client,
}

impl Watch {
    /// Starts the client again from a snapshot (its place in the events is lost).
    async fn resync(
        &mut self,
        socket: &mut Socket,
        patience: Duration,
        why: &str,
    ) -> Result<(), ()> {
        let first = self.follower.rewatch().await;
        tracing::debug!("watch client {why} at {}", self.follower.seq());
        send_first(socket, first, self.client.deflate, patience).await
    }
}

impl Feed for Watch {
    type Item = Followed;
    type Beat = WatchMessage;

    async fn next(&mut self) -> Option<Followed> {
        match self.follower.next().await {
            Followed::Closed => None,
            followed => Some(followed),
        }
    }

    async fn send(
        &mut self,
        socket: &mut Socket,
        item: Followed,
        patience: Duration,
    ) -> Result<(), ()> {
        match item {
            Followed::Event(_) if self.follower.behind() && self.hub.frames_over_budget() => {
                // Behind while frames in flight are over budget: stop holding them.
                self.hub.count_resync();
                self.resync(socket, patience, "behind over budget: resynced")
                    .await
            }
            Followed::Event(frame) => {
                let text = Message::text(frame.json.as_ref());
                send_raw(socket, text, patience).await
            }
            Followed::Lagged => {
                self.resync(socket, patience, "lagged: resynced with a snapshot")
                    .await
            }
            Followed::Closed => Ok(()),
        }
    }

    fn heartbeat(&self) -> WatchMessage {
        WatchMessage::Heartbeat {
            seq: self.follower.seq(),
        }
    }
}

/// Sends what a (re)subscribed client needs first: its missed events, or `Loading` and the
/// shared snapshot frame (deflated, as binary, when the client asked for it), written from
/// the shared bytes: no copy of it is made or kept per client.
async fn send_first(
    socket: &mut Socket,
    first: First,
    deflate: bool,
    patience: Duration,
) -> Result<(), ()> {
    match first {
        First::Messages(messages) => {
            for message in &messages {
                send(socket, message, patience).await?;
            }
            Ok(())
        }
        First::Snapshot(frame, since) => {
            send(socket, &frame.loading(deflate), patience).await?;
            let (kind, bytes) = if deflate {
                (Kind::Binary, &frame.deflated)
            } else {
                (Kind::Text, &frame.text)
            };
            match tokio::time::timeout(patience, socket.send_shared(kind, bytes)).await {
                Ok(Ok(())) => {}
                _ => return Err(()),
            }
            for message in &since {
                send(socket, message, patience).await?;
            }
            Ok(())
        }
    }
}
