//! The live feeds' transport: a websocket that stays open ([`Feed`], in the browser), the
//! state of its connection that the badges show ([`Connection`]), and the clock both read.
//!
//! [`Connection`] and [`now_ms`] compile on both sides (the server renders the badge in its
//! first state); the socket itself is the browser's ([`socket`]). What the messages mean is
//! the caller's ([`crate::live`] for the registry, the LAN page for DNS-SD).

#[cfg(feature = "hydrate")]
pub mod socket;

#[cfg(feature = "hydrate")]
pub use socket::Feed;

/// The state of the watch connection, shown by the badge in the top bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Connection {
    /// Opening the websocket (the page's first state, and on the server).
    Connecting,
    /// Connected; a snapshot of this many service versions is on its way. Not live yet: what
    /// the page shows is what it loaded, until the snapshot is applied.
    Loading {
        /// Service versions in the snapshot.
        services: u64,
    },
    /// The snapshot is applied (or the events missed were replayed); events arrive as they
    /// happen.
    Live,
    /// The connection dropped at `since` (Unix ms); retrying. What the page shows may be out
    /// of date, and actions wait for the connection.
    Offline {
        /// When the connection was lost.
        since: u64,
    },
}

impl Connection {
    /// One word for the state, for CSS classes and tests (`badge-live`).
    pub fn label(self) -> &'static str {
        match self {
            Connection::Connecting => "connecting",
            Connection::Loading { .. } => "loading",
            Connection::Live => "live",
            Connection::Offline { .. } => "offline",
        }
    }

    /// The badge's text: `loading 40 services…`, `offline since 10:42:07 UTC`.
    pub fn text(self) -> String {
        match self {
            Connection::Loading { services } => format!(
                "loading {services} service{}…",
                if services == 1 { "" } else { "s" }
            ),
            Connection::Offline { since } => {
                let time = crate::format::utc_time(since);
                let clock = time.split(' ').nth(1).unwrap_or(&time);
                format!("offline since {clock} UTC")
            }
            other => other.label().to_string(),
        }
    }

    /// Why actions are disabled in this state: only offline (while connecting, the page
    /// shows what the server rendered moments ago, and the server checks every action).
    pub fn unavailable_reason(self) -> Option<String> {
        match self {
            Connection::Offline { .. } => Some(
                "The console is not reachable: what you see may be out of date, and actions \
                 wait until the connection is back."
                    .to_string(),
            ),
            _ => None,
        }
    }
}

/// Milliseconds since the Unix epoch, on either side.
pub fn now_ms() -> u64 {
    #[cfg(feature = "hydrate")]
    {
        js_sys::Date::now() as u64
    }
    #[cfg(not(feature = "hydrate"))]
    {
        muster_registry::clock::unix_ms_now()
    }
}
