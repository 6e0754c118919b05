//! `GET /api/lan` and `GET /api/lan/watch`: the standard DNS-SD services on the LAN.
//!
//! The websocket sends a snapshot first, then `upsert` and `remove` changes, and a heartbeat
//! (with a WebSocket ping) every `--heartbeat-interval`. The LAN view is small, so there is no
//! replay: a client that reads too slowly, or reconnects, gets a fresh snapshot. A client
//! silent for three intervals, or one whose socket accepts nothing for that long, is dropped.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::{LanMessage, LanSnapshot};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use tokio::sync::broadcast::error::RecvError;

use super::watch::send_raw;
use crate::console::Hub;
use crate::dnssd::lan_view::LanView;
use crate::error::Error;
use crate::state::AppState;

/// Largest message a client may send (it only needs pongs and keep-alives).
const MAX_CLIENT_MESSAGE: usize = 4096;

/// `GET /api/lan`: every instance seen, and whether browsing runs.
pub async fn list(State(state): State<AppState>) -> Json<LanSnapshot> {
    Json(state.lan.snapshot())
}

/// Upgrades to the websocket, after checking that a browser page asking is this console's own.
pub async fn watch(
    State(state): State<AppState>,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Error> {
    state.auth.check_origin(&headers)?;
    let upgrade = upgrade.map_err(|rejection| {
        Error::invalid(format!("GET /api/lan/watch is a websocket: {rejection}"))
    })?;
    let (hub, lan) = (state.hub.clone(), state.lan.clone());
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, hub, lan)))
}

/// Streams the LAN view to one client until it leaves, dies, or the console stops.
async fn serve(mut socket: WebSocket, hub: Arc<Hub>, lan: Arc<LanView>) {
    let heartbeat = hub.settings().heartbeat_interval;
    let patience = heartbeat * 3;
    let mut shutdown = hub.shutdown_signal();
    let (mut changes, first) = lan.subscribe();
    if send(&mut socket, &LanMessage::Snapshot(first), patience)
        .await
        .is_err()
    {
        return;
    }
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let closed = loop {
        tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => break true,
            change = changes.recv() => {
                let message = match change {
                    Ok(message) => message,
                    Err(RecvError::Lagged(_)) => {
                        let (fresh, snapshot) = lan.subscribe();
                        changes = fresh;
                        tracing::debug!("lan watch client lagged: resynced with a snapshot");
                        LanMessage::Snapshot(snapshot)
                    }
                    Err(RecvError::Closed) => break true,
                };
                if send(&mut socket, &message, patience).await.is_err() {
                    break false;
                }
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break false,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ticker.tick() => {
                if last_heard.elapsed() > patience {
                    tracing::debug!("lan watch client silent for {patience:?}: disconnecting");
                    break false;
                }
                if send(&mut socket, &LanMessage::Heartbeat, patience).await.is_err()
                    || send_raw(&mut socket, Message::Ping(Default::default()), patience).await.is_err()
                {
                    break false;
                }
            }
        }
    };
    if closed {
        let _ = send_raw(&mut socket, Message::Close(None), Duration::from_secs(1)).await;
    }
}

async fn send(socket: &mut WebSocket, message: &LanMessage, patience: Duration) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(|_| ())?;
    send_raw(socket, Message::Text(text.into()), patience).await
}
