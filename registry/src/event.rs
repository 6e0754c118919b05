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
    /// What the backend knows of the node's registration beyond go-micro's event (etcd: its
    /// lease); empty when it keeps no such record.
    #[serde(default, skip_serializing_if = "Lifetime::is_unknown")]
    pub lifetime: Lifetime,
}

/// Why a node left, when the backend can tell: go-micro's watch says only `delete`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Departure {
    /// Its TTL ran out without a refresh (on etcd: its lease expired and took the key along).
    Expired,
    /// It was removed while its registration was still valid (a deregister or an evict).
    Removed,
}

/// A node's registration lifetime, as far as the backend knows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lifetime {
    /// The TTL the registration was granted, in seconds (etcd: the lease's granted TTL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_secs: Option<u64>,
    /// When it runs out unless refreshed, in ms since the Unix epoch, as of the event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// On a `delete`: why the node left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub departure: Option<Departure>,
}

impl Lifetime {
    /// Nothing known (what backends without leases send).
    pub fn is_unknown(&self) -> bool {
        *self == Lifetime::default()
    }
}
