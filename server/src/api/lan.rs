//! `GET /api/lan` and `GET /api/lan/watch`: the standard DNS-SD services on the LAN.
//!
//! The websocket sends a snapshot first, then `upsert` and `remove` changes, and a heartbeat
//! (with a WebSocket ping) every `--heartbeat-interval`. The LAN view is small, so there is no
//! replay: a client that reads too slowly, or reconnects, gets a fresh snapshot. A client
//! silent for three intervals, or one whose socket accepts nothing for that long, is dropped.

use std::sync::Arc;
use std::time::Duration;

use app::wire::{LanMessage, LanSnapshot};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Json;
use tokio::sync::broadcast::{self, error::RecvError};

use super::keepalive::{self, send, Feed};
use super::socket::{Socket, Upgrade};
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
    upgrade: Result<Upgrade, Error>,
) -> Result<Response, Error> {
    state.auth.check_origin(&headers)?;
    let upgrade = upgrade?;
    let (hub, lan) = (state.hub.clone(), state.lan.clone());
    Ok(upgrade
        .max_message_size(MAX_CLIENT_MESSAGE)
        .on_upgrade(move |socket| serve(socket, hub, lan)))
}

/// Streams the LAN view to one client until it leaves, dies, or the console stops.
async fn serve(mut socket: Socket, hub: Arc<Hub>, lan: Arc<LanView>) {
    let heartbeat = hub.settings().heartbeat_interval;
    let mut shutdown = hub.shutdown_signal();
    let (changes, first) = lan.subscribe();
    if send(&mut socket, &LanMessage::Snapshot(first), heartbeat * 3)
        .await
        .is_err()
    {
        return;
    }
    let mut feed = Lan { lan, changes };
    keepalive::serve(
        &mut socket,
        &mut feed,
        heartbeat,
        &mut shutdown,
        "lan watch",
    )
    .await;
}

/// The LAN view's changes, as one client follows them.
struct Lan {
    lan: Arc<LanView>,
    changes: broadcast::Receiver<LanMessage>,
}

impl Feed for Lan {
    type Item = LanMessage;
    type Beat = LanMessage;

    async fn next(&mut self) -> Option<LanMessage> {
        match self.changes.recv().await {
            Ok(message) => Some(message),
            Err(RecvError::Lagged(_)) => {
                let (fresh, snapshot) = self.lan.subscribe();
                self.changes = fresh;
                tracing::debug!("lan watch client lagged: resynced with a snapshot");
                Some(LanMessage::Snapshot(snapshot))
            }
            Err(RecvError::Closed) => None,
        }
    }

    async fn send(
        &mut self,
        socket: &mut Socket,
        message: LanMessage,
        patience: Duration,
    ) -> Result<(), ()> {
        send(socket, &message, patience).await
    }

    fn heartbeat(&self) -> LanMessage {
        LanMessage::Heartbeat
    }
}
