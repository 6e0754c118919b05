//! Browser side: a websocket that stays open, for the live feeds (`/api/watch`, `/api/lan/watch`).
//!
//! Reconnects with exponential backoff, closes a connection that has gone silent (the server
//! sends heartbeats, so silence means a dead link the browser has not noticed), and reports
//! its state in a [`Connection`] signal for the badges: `connecting` once a socket opens,
//! `live` after its first message (unless that message set another state, such as a watch
//! snapshot's `loading`), `offline since …` when it drops. What the messages mean is the caller's:
//! `on_message` returns `false` when the feed lost its place (a gap), and the connection is
//! closed and reopened so the server sends what was missed.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

use crate::live::{now_ms, Connection};

/// First wait before reconnecting; doubled on each failure.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Longest wait between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// With no message (heartbeats included) for this long, the connection is presumed dead.
const SILENCE_LIMIT_MS: u64 = 35_000;

/// What a feed needs: where to connect (asked again at each reconnect, so it can carry the
/// position reached) and what to do with each text frame.
struct Spec {
    path: Box<dyn Fn() -> String>,
    on_message: Box<dyn Fn(&str) -> bool>,
    connection: RwSignal<Connection>,
    stopped: Cell<bool>,
    /// The wait before the next reconnection attempt: reset once a connection opens.
    backoff: Cell<Duration>,
    current: std::cell::RefCell<Option<WebSocket>>,
    /// Asked when a socket opens: the data is current as soon as it does (a watch resuming
    /// with `since`, whose server may have nothing to replay), so the feed is live at once.
    live_on_open: std::cell::RefCell<Box<dyn Fn() -> bool>>,
}

/// A running feed; [`Feed::stop`] closes it for good (a page that owns one stops it on cleanup).
#[derive(Clone)]
pub struct Feed(Rc<Spec>);

impl Feed {
    /// Opens the feed at `path()` (a path and query on this page's host, e.g. `/api/watch`).
    pub fn open(
        path: impl Fn() -> String + 'static,
        on_message: impl Fn(&str) -> bool + 'static,
        connection: RwSignal<Connection>,
    ) -> Feed {
        let feed = Feed(Rc::new(Spec {
            path: Box::new(path),
            on_message: Box::new(on_message),
            connection,
            stopped: Cell::new(false),
            backoff: Cell::new(FIRST_BACKOFF),
            current: Default::default(),
            live_on_open: std::cell::RefCell::new(Box::new(|| false)),
        }));
        feed.connect();
        feed
    }

    /// Makes the feed live as soon as a socket opens whenever `resuming()` says so.
    pub fn live_on_open(self, resuming: impl Fn() -> bool + 'static) -> Feed {
        *self.0.live_on_open.borrow_mut() = Box::new(resuming);
        self
    }

    /// Closes the connection and stops reconnecting.
    pub fn stop(&self) {
        self.0.stopped.set(true);
        if let Some(socket) = self.0.current.borrow_mut().take() {
            let _ = socket.close();
        }
    }

    fn url(&self) -> Option<String> {
        let location = window().location();
        let scheme = if location.protocol().ok()? == "https:" {
            "wss"
        } else {
            "ws"
        };
        let host = location.host().ok()?;
        Some(format!("{scheme}://{host}{}", (self.0.path)()))
    }

    fn connect(&self) {
        if self.0.stopped.get() {
            return;
        }
        let Some(url) = self.url() else { return };
        let Ok(socket) = WebSocket::new(&url) else {
            self.went_offline();
            self.retry();
            return;
        };
        *self.0.current.borrow_mut() = Some(socket.clone());
        let last_message = Rc::new(Cell::new(now_ms()));

        let on_open = {
            let feed = self.clone();
            Closure::<dyn FnMut()>::new(move || {
                feed.0.backoff.set(FIRST_BACKOFF);
                let resuming = (feed.0.live_on_open.borrow())();
                feed.0.connection.set(if resuming {
                    Connection::Live
                } else {
                    Connection::Connecting
                });
            })
        };
        let on_message = {
            let feed = self.clone();
            let socket = socket.clone();
            let last_message = last_message.clone();
            Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
                last_message.set(now_ms());
                let Some(text) = event.data().as_string() else {
                    return;
                };
                if !(feed.0.on_message)(&text) {
                    // Lost our place: close; the reconnect asks for what we missed.
                    let _ = socket.close();
                } else if feed.0.connection.get_untracked() == Connection::Connecting {
                    feed.0.connection.set(Connection::Live);
                }
            })
        };
        let on_close = {
            let feed = self.clone();
            let closed = Rc::new(Cell::new(false));
            Closure::<dyn FnMut(CloseEvent)>::new(move |_event: CloseEvent| {
                if closed.replace(true) || feed.0.stopped.get() {
                    return;
                }
                feed.went_offline();
                feed.retry();
            })
        };
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The handlers live as long as the socket, which the browser keeps until it closes.
        on_open.forget();
        on_message.forget();
        on_close.forget();

        watchdog(socket, last_message);
    }

    /// Marks the feed offline, keeping the time it was first lost across failed retries.
    fn went_offline(&self) {
        if !matches!(
            self.0.connection.get_untracked(),
            Connection::Offline { .. }
        ) {
            self.0
                .connection
                .set(Connection::Offline { since: now_ms() });
        }
    }

    fn retry(&self) {
        let backoff = self.0.backoff.get();
        self.0.backoff.set((backoff * 2).min(MAX_BACKOFF));
        let feed = self.clone();
        set_timeout(move || feed.connect(), backoff);
    }
}

/// Closes `socket` once nothing (not even a heartbeat) arrived for [`SILENCE_LIMIT_MS`]; its
/// close handler then reconnects.
fn watchdog(socket: WebSocket, last_message: Rc<Cell<u64>>) {
    set_timeout(
        move || {
            if socket.ready_state() > WebSocket::OPEN {
                return;
            }
            if now_ms().saturating_sub(last_message.get()) > SILENCE_LIMIT_MS {
                let _ = socket.close();
            } else {
                watchdog(socket, last_message);
            }
        },
        Duration::from_secs(5),
    );
}
