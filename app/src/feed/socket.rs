//! Browser side: a websocket that stays open, for the live feeds (`/api/watch`, `/api/lan/watch`).
//!
//! Reconnects with exponential backoff, closes a connection that has gone silent (the server
//! sends heartbeats, so silence means a dead link the browser has not noticed), and reports
//! its state in a [`Connection`] signal for the badges: `connecting` once a socket opens,
//! `live` after its first message (unless that message set another state, such as a watch
//! snapshot's `loading`), `offline since …` when it drops. What the messages mean is the caller's:
//! `on_message` returns `false` when the feed lost its place (a gap), and the connection is
//! closed and reopened so the server sends what was missed.
//!
//! Every feed asks for `encoding=deflate`: `/api/watch` then sends its snapshot as one deflated
//! binary frame shared by all watchers (a tenth of the JSON's size), which [`receive`] inflates
//! with the browser's own `DecompressionStream` before the text frames that follow it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use leptos::prelude::*;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::{now_ms, Connection};

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
        let path = (self.0.path)();
        let separator = if path.contains('?') { '&' } else { '?' };
        Some(format!(
            "{scheme}://{host}{path}{separator}encoding=deflate"
        ))
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
        socket.set_binary_type(BinaryType::Arraybuffer);
        let last_message = Rc::new(Cell::new(now_ms()));
        let inbox = Rc::new(Inbox::default());

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
                receive(&feed, &socket, &inbox, event.data());
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

/// Frames of one connection waiting behind a binary frame that is being inflated.
#[derive(Default)]
struct Inbox {
    frames: RefCell<VecDeque<JsValue>>,
    inflating: Cell<bool>,
}

/// Hands each frame to the feed in arrival order: a text frame at once, a binary frame (deflated
/// JSON) once the browser's `DecompressionStream` inflated it, with every frame that arrives
/// meanwhile queued behind it. A frame that does not inflate closes the connection, so the
/// reconnect asks for a fresh snapshot.
fn receive(feed: &Feed, socket: &WebSocket, inbox: &Rc<Inbox>, data: JsValue) {
    let deliver = |feed: &Feed, socket: &WebSocket, text: Option<String>| {
        if !text.is_some_and(|text| (feed.0.on_message)(&text)) {
            // Lost our place: close; the reconnect asks for what we missed.
            let _ = socket.close();
        } else if feed.0.connection.get_untracked() == Connection::Connecting {
            // The first message of a feed without a snapshot protocol (the LAN page's): live.
            feed.0.connection.set(Connection::Live);
        }
    };
    if !inbox.inflating.get() {
        if let Some(text) = data.as_string() {
            return deliver(feed, socket, Some(text));
        }
    }
    inbox.frames.borrow_mut().push_back(data);
    if inbox.inflating.replace(true) {
        return;
    }
    let (feed, socket, inbox) = (feed.clone(), socket.clone(), inbox.clone());
    leptos::task::spawn_local(async move {
        loop {
            let Some(frame) = inbox.frames.borrow_mut().pop_front() else {
                break;
            };
            let text = match frame.as_string() {
                Some(text) => Some(text),
                None => inflate(frame).await.ok().and_then(|text| text.as_string()),
            };
            deliver(&feed, &socket, text);
        }
        inbox.inflating.set(false);
    });

    async fn inflate(frame: JsValue) -> Result<JsValue, JsValue> {
        use js_sys::{Array, Reflect};
        // DecompressionStream is a {readable, writable} pair; web-sys has it only behind an
        // unstable flag, so it is built through the global constructor.
        let constructor = Reflect::get(&js_sys::global(), &"DecompressionStream".into())?;
        let format = Array::of1(&"deflate".into());
        let constructor: js_sys::Function = constructor.unchecked_into();
        let stream = Reflect::construct(&constructor, &format)?;
        let blob = web_sys::Blob::new_with_buffer_source_sequence(&Array::of1(&frame))?;
        let inflated = blob.stream().pipe_through(stream.unchecked_ref());
        let response = web_sys::Response::new_with_opt_readable_stream(Some(&inflated))?;
        wasm_bindgen_futures::JsFuture::from(response.text()?).await
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
