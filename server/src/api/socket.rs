//! The websocket of the API's feeds (`/api/watch`, `/api/lan/watch`), upgraded here rather
//! than by axum's extractor, so that a large shared frame goes to each connection straight
//! from its shared bytes.
//!
//! Through axum's `WebSocket`, every message is copied into the connection's tungstenite
//! write buffer, and that buffer keeps its largest size for the connection's life: after one
//! 3 MB snapshot of 10,000 nodes, every watcher held 3 MB more until it left (50 watchers:
//! +157 MB of RSS, outside every bound the console keeps). [`Socket::send_shared`] writes
//! the frame's header and then the shared bytes to the connection itself, after the buffer
//! is flushed: nothing of the snapshot is copied per client, nor kept.
//!
//! The protocol around it is tungstenite's (RFC 6455: masking, fragments, control frames,
//! close); the handshake is the HTTP/1.1 one (the console serves HTTP/1.1 only).

use std::future::Future;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use futures::{SinkExt, StreamExt};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::error::Error;

/// A websocket upgrade asked for by a request: checked, not yet answered.
pub struct Upgrade {
    key: HeaderValue,
    on_upgrade: OnUpgrade,
    config: WebSocketConfig,
}

/// Whether the comma-separated header `name` holds `token` (case-insensitive).
fn lists(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Error> {
        let refuse = |why: &str| {
            Err(Error::invalid(format!(
                "{} is a websocket: {why}",
                parts.uri.path()
            )))
        };
        if parts.method != Method::GET {
            return refuse("use GET");
        }
        if !lists(&parts.headers, header::CONNECTION, "upgrade")
            || !lists(&parts.headers, header::UPGRADE, "websocket")
        {
            return refuse("the request asks for no websocket upgrade");
        }
        if parts
            .headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_none_or(|version| version != "13")
        {
            return refuse("Sec-WebSocket-Version must be 13");
        }
        let Some(key) = parts.headers.get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return refuse("Sec-WebSocket-Key is missing");
        };
        let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
            return refuse("this connection cannot be upgraded");
        };
        Ok(Upgrade {
            key,
            on_upgrade,
            config: WebSocketConfig::default(),
        })
    }
}

impl Upgrade {
    /// The largest message (and frame) the client may send.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self
            .config
            .max_message_size(Some(bytes))
            .max_frame_size(Some(bytes));
        self
    }

    /// The read buffer kept for the connection.
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.config = self.config.read_buffer_size(bytes);
        self
    }

    /// Answers `101 Switching Protocols` and runs `serve` on the socket once the connection
    /// is handed over.
    pub fn on_upgrade<F, Fut>(self, serve: F) -> Response
    where
        F: FnOnce(Socket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Upgrade {
            key,
            on_upgrade,
            config,
        } = self;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(error) => {
                    tracing::debug!("websocket upgrade failed: {error}");
                    return;
                }
            };
            let stream = WebSocketStream::from_raw_socket(
                TokioIo::new(upgraded),
                Role::Server,
                Some(config),
            )
            .await;
            serve(Socket(stream)).await;
        });
        let accept = derive_accept_key(key.as_bytes());
        Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::CONNECTION, "upgrade")
            .header(header::UPGRADE, "websocket")
            .header(header::SEC_WEBSOCKET_ACCEPT, accept)
            .body(Body::empty())
            .expect("a 101 with valid headers")
    }
}

/// The kind of a data frame sent from shared bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// UTF-8 text (the caller vouches for it).
    Text,
    /// Bytes.
    Binary,
}

/// One upgraded websocket connection.
pub struct Socket(WebSocketStream<TokioIo<Upgraded>>);

impl Socket {
    /// The next message from the client; `None` once the connection is closed.
    pub async fn recv(&mut self) -> Option<Result<Message, tungstenite::Error>> {
        self.0.next().await
    }

    /// Sends one message (copied into the connection's write buffer: for small messages).
    pub async fn send(&mut self, message: Message) -> Result<(), tungstenite::Error> {
        self.0.send(message).await
    }

    /// Sends `payload` as one unfragmented frame written from the caller's bytes: whatever
    /// tungstenite holds is flushed first, then the frame goes to the connection itself, so
    /// the write buffer never grows to the payload's size. Not cancel-safe: a future dropped
    /// mid-frame leaves the connection unusable (callers disconnect then anyway).
    pub async fn send_shared(
        &mut self,
        kind: Kind,
        payload: &[u8],
    ) -> Result<(), tungstenite::Error> {
        self.0.flush().await?;
        let header = frame_header(kind, payload.len());
        let connection = self.0.get_mut();
        connection.write_all(&header).await?;
        connection.write_all(payload).await?;
        connection.flush().await?;
        Ok(())
    }
}

/// The header of a final, unmasked (server-to-client) data frame of `len` bytes (RFC 6455
/// §5.2): FIN and the opcode, then the length in 7 bits, or 126 and 16 bits, or 127 and 64.
fn frame_header(kind: Kind, len: usize) -> Vec<u8> {
    let opcode = match kind {
        Kind::Text => 0x1,
        Kind::Binary => 0x2,
    };
    let mut header = Vec::with_capacity(10);
    header.push(0x80 | opcode);
    match len {
        0..=125 => header.push(len as u8),
        126..=0xFFFF => {
            header.push(126);
            header.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            header.push(127);
            header.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    header
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_the_length_in_the_shortest_form() {
        assert_eq!(frame_header(Kind::Text, 5), [0x81, 5]);
        assert_eq!(frame_header(Kind::Binary, 125), [0x82, 125]);
        assert_eq!(frame_header(Kind::Text, 126), [0x81, 126, 0, 126]);
        assert_eq!(frame_header(Kind::Text, 0xFFFF), [0x81, 126, 0xFF, 0xFF]);
        assert_eq!(
            frame_header(Kind::Binary, 0x1_0000),
            [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]
        );
    }
}
