//! The registry's error type, shared by every backend.

use crate::field::Field;

/// What can go wrong in a registry operation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The service (or node) is not registered. go-micro's `ErrNotFound`.
    #[error("service not found")]
    NotFound,
    /// The watcher was stopped; no more events will come. go-micro's `ErrWatcherStopped`.
    #[error("watcher stopped")]
    WatcherStopped,
    /// The watcher fell behind and `missed` events were discarded for it. The consumer must
    /// resynchronise (list/get again); the watcher itself keeps working.
    #[error("watcher lagged behind and missed {missed} events; resync")]
    Lagged {
        /// How many events were lost for this watcher.
        missed: u64,
    },
    /// The caller (or a network peer) handed in something the registry refuses; nothing changed.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which input was wrong, e.g. [`Field::ServiceName`] or [`Field::NodeAddress`].
        field: Field,
        /// Why, in words an operator can act on.
        reason: String,
    },
    /// The backend did not answer within the configured timeout.
    #[error("registry operation timed out")]
    Timeout,
    /// The backend cannot serve now but may soon: its store is unreachable, or has no quorum.
    /// Nothing changed; the same call may succeed later. The message says why, plainly.
    #[error("{0}")]
    Unavailable(String),
    /// The backend failed (network, store); the message says how.
    #[error("registry backend error: {0}")]
    Backend(String),
}

impl Error {
    /// Shorthand for [`Error::Invalid`].
    pub fn invalid(field: Field, reason: impl Into<String>) -> Self {
        Error::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

/// `Result` with the registry's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
