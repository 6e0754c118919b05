//! Watch events: what changed in the registry, as go-micro's `registry.Result` / `Event`.

use serde::{Deserialize, Serialize};

use crate::model::Service;

/// The kind of change. Serialized lowercase, as go-micro's action strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// A node appeared.
    Create,
    /// A known node changed (address, metadata, endpoints, version data).
    Update,
    /// A node went away: deregistered, evicted or expired.
    Delete,
}

impl Action {
    /// The lowercase name go-micro uses (`"create"`, `"update"`, `"delete"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One change seen by a watcher.
///
/// `service` holds the service with only the nodes the event is about (go-micro's convention),
/// so a consumer can apply it to its view with [`crate::util::merge`] / [`crate::util::remove`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Identifier of the change: the node id it concerns.
    pub id: String,
    /// What happened.
    pub action: Action,
    /// When the registry saw it, in milliseconds since the Unix epoch.
    pub timestamp_ms: u64,
    /// The service, carrying only the affected node(s).
    pub service: Service,
}
