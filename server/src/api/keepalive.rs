//! The loop every websocket of the API runs: a feed's messages out, a heartbeat (with a
//! WebSocket ping) every `--heartbeat-interval`, and an end to clients that went away.
//!
//! A client silent for three intervals, or one whose socket accepts nothing for that long, is
//! disconnected; when the console stops (or the feed closes), the client is sent a close frame.
//! What is sent, and how a feed that fell behind starts again, is the feed's.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use super::socket::Socket;

/// What one websocket streams.
pub(super) trait Feed {
    /// One thing to send.
    type Item;
    /// The heartbeat message.
    type Beat: Serialize;

    /// The next thing to send; `None` when the feed closed. Must be cancel-safe.
    async fn next(&mut self) -> Option<Self::Item>;

    /// Sends `item` (and whatever it brings, such as a fresh snapshot); `Err`: the client is
    /// gone or accepted nothing for `patience`.
    async fn send(
        &mut self,
        socket: &mut Socket,
        item: Self::Item,
        patience: Duration,
    ) -> Result<(), ()>;

    /// The heartbeat to send now.
    fn heartbeat(&self) -> Self::Beat;
}

/// Serves `feed` on `socket` until the client leaves or dies, the feed closes or the console
/// stops (`shutdown`). `name` is the feed's, for the log.
pub(super) async fn serve(
    socket: &mut Socket,
    feed: &mut impl Feed,
    heartbeat: Duration,
    shutdown: &mut watch::Receiver<bool>,
    name: &str,
) {
    let patience = heartbeat * 3;
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + heartbeat, heartbeat);
    let mut last_heard = Instant::now();
    let closed = loop {
        tokio::select! {
            () = crate::console::until_stopping(shutdown) => break true,
            item = feed.next() => match item {
                Some(item) => {
                    if feed.send(socket, item, patience).await.is_err() {
                        break false;
                    }
                }
                None => break true,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break false,
                Some(Ok(_)) => last_heard = Instant::now(),
            },
            _ = ticker.tick() => {
                if last_heard.elapsed() > patience {
                    tracing::debug!("{name} client silent for {patience:?}: disconnecting");
                    break false;
                }
                if send(socket, &feed.heartbeat(), patience).await.is_err()
                    || send_raw(socket, Message::Ping(Default::default()), patience).await.is_err()
                {
                    break false;
                }
            }
        }
    };
    if closed {
        let _ = send_raw(socket, Message::Close(None), Duration::from_secs(1)).await;
    }
}

/// Sends `message` as JSON text.
pub(super) async fn send(
    socket: &mut Socket,
    message: &impl Serialize,
    patience: Duration,
) -> Result<(), ()> {
    let text = serde_json::to_string(message).map_err(|_| ())?;
    send_raw(socket, Message::text(text), patience).await
}

/// Sends one frame, giving up on a client that accepts nothing for `patience`.
pub(super) async fn send_raw(
    socket: &mut Socket,
    message: Message,
    patience: Duration,
) -> Result<(), ()> {
    match tokio::time::timeout(patience, socket.send(message)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}
