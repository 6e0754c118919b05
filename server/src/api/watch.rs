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
use std::time::{Duration, Instant};

use app::wire::WatchMessage;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

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
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Error> {
    state.auth.check_origin(&headers)?;
    let Query(query) = query.map_err(|error| {
        Error::invalid_parameter("since", format!("since must be a sequence number: {error}"))
    })?;
    let upgrade = upgrade.map_err(|rejection| {
        Error::invalid(format!("GET /api/watch is a websocket: {rejection}"))
    })?;
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

/// Why a connection ended.
enum End {
    Closed,
    Dead,
}

/// What one client asked for, and its place under `--max-watchers` (given back on drop).
struct Client {
    since: Option<u64>,
    deflate: bool,
    _slot: WatcherSlot,
}

/// Streams messages to one client until it leaves, dies, or the console stops.
async fn serve(mut socket: WebSocket, hub: Arc<Hub>, client: Client) {
    let heartbeat = hub.settings().heartbeat_interval;
    let patience = heartbeat * 3;
    let mut shutdown = hub.shutdown_signal();
    let deflate = client.deflate;
    let (mut events, first, mut seq) = hub.watch(client.since).await;
    if send_first(&mut socket, first, deflate, patience)
        .await
        .is_err()
    {
        return;
    }
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let end = loop {
        tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => break End::Closed,
            event = events.recv() => match event {
                Ok(frame) if frame.seq <= seq => {}
                Ok(_) if !events.is_empty() && hub.frames_over_budget() => {
                    // Behind while frames in flight are over budget: stop holding them.
                    hub.count_resync();
                    drop(events);
                    let (fresh, first, now_at) = hub.watch(None).await;
                    events = fresh;
                    seq = now_at;
                    tracing::debug!("watch client behind over budget: resynced at {seq}");
                    if send_first(&mut socket, first, deflate, patience).await.is_err() {
                        break End::Dead;
                    }
                }
                Ok(frame) => {
                    seq = frame.seq;
                    let text = Message::Text(frame.json.as_ref().into());
                    if send_raw(&mut socket, text, patience).await.is_err() {
                        break End::Dead;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    drop(events);
                    let (fresh, first, now_at) = hub.watch(None).await;
                    events = fresh;
                    seq = now_at;
                    tracing::debug!("watch client lagged: resynced with a snapshot at {seq}");
                    if send_first(&mut socket, first, deflate, patience).await.is_err() {
                        break End::Dead;
                    }
                }
                Err(RecvError::Closed) => break End::Closed,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break End::Dead,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ticker.tick() => {
                if last_heard.elapsed() > patience {
                    tracing::debug!("watch client silent for {patience:?}: disconnecting");
                    break End::Dead;
                }
                let beat = WatchMessage::Heartbeat { seq };
                if send(&mut socket, &beat, patience).await.is_err()
                    || send_raw(&mut socket, Message::Ping(Default::default()), patience).await.is_err()
                {
                    break End::Dead;
                }
            }
        }
    };
    if let End::Closed = end {
        let _ = send_raw(&mut socket, Message::Close(None), Duration::from_secs(1)).await;
    }
}

/// Sends what a (re)subscribed client needs first: its missed events, or `Loading` and the
/// shared snapshot frame (deflated, as binary, when the client asked for it).
async fn send_first(
    socket: &mut WebSocket,
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
        First::Snapshot(frame) => {
            send(socket, &frame.loading(deflate), patience).await?;
            let message = if deflate {
                Message::Binary(frame.deflated.clone())
            } else {
                Message::Text(frame.text.clone())
            };
            send_raw(socket, message, patience).await
        }
    }
}

async fn send(
    socket: &mut WebSocket,
    message: &WatchMessage,
    patience: Duration,
) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(|_| ())?;
    send_raw(socket, Message::Text(text.into()), patience).await
}

/// Sends one frame, giving up on a client that accepts nothing for `patience`.
pub(super) async fn send_raw(
    socket: &mut WebSocket,
    message: Message,
    patience: Duration,
) -> Result<(), ()> {
    match tokio::time::timeout(patience, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
