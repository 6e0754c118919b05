//! A service version as a snapshot frame shows it, sharing the view's nodes and endpoints.
//!
//! A snapshot is taken under the view's lock and written out after it is released. Taken as
//! [`ServiceView`]s, it was a deep copy of every node: with 10,000 nodes, about 10 MB of
//! small blocks per snapshot, made while every event waited for the lock, and after a churn
//! of resyncs (11 snapshots) 53 MB freed but held by the allocator. Shared, it is one pointer
//! per node; a node that changes while a snapshot still holds it is copied alone
//! (copy-on-write in the view).

use std::sync::Arc;

use app::wire::{EndpointOutlier, NodeView, ServiceView, UnixMillis};
use muster_registry::{Endpoint, Metadata};
use serde::{Serialize, Serializer};

use super::budget;

/// One version, serialized exactly as its [`ServiceView`] would be (same fields, same order:
/// the page reads either).
#[derive(Debug, Clone, Serialize)]
pub struct SharedVersion {
    /// Service name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Service metadata.
    pub metadata: Metadata,
    /// The version's endpoints, shared with the view.
    #[serde(serialize_with = "as_slice")]
    pub endpoints: Arc<[Endpoint]>,
    /// Nodes, tombstones included, shared with the view.
    #[serde(serialize_with = "nodes")]
    pub nodes: Vec<Arc<NodeView>>,
    /// As [`ServiceView::endpoints_from`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub endpoints_from: Option<String>,
    /// As [`ServiceView::endpoint_outliers`].
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub endpoint_outliers: Vec<EndpointOutlier>,
    /// As [`ServiceView::last_change`].
    pub last_change: UnixMillis,
}

impl SharedVersion {
    /// Bytes its [`ServiceView`] would hold (what the JSON size is estimated from).
    pub fn view_bytes(&self) -> usize {
        budget::service_parts(
            &self.name,
            &self.version,
            &self.metadata,
            &self.endpoints,
            &self.nodes,
        )
    }
}

impl From<SharedVersion> for ServiceView {
    /// The copy: every node cloned (those only the view holds as well).
    fn from(shared: SharedVersion) -> Self {
        ServiceView {
            name: shared.name,
            version: shared.version,
            metadata: shared.metadata,
            endpoints: shared.endpoints.to_vec(),
            nodes: shared.nodes.into_iter().map(Arc::unwrap_or_clone).collect(),
            endpoints_from: shared.endpoints_from,
            endpoint_outliers: shared.endpoint_outliers,
            last_change: shared.last_change,
        }
    }
}

#[cfg(test)]
impl From<ServiceView> for SharedVersion {
    fn from(view: ServiceView) -> Self {
        SharedVersion {
            name: view.name,
            version: view.version,
            metadata: view.metadata,
            endpoints: Arc::from(view.endpoints),
            nodes: view.nodes.into_iter().map(Arc::new).collect(),
            endpoints_from: view.endpoints_from,
            endpoint_outliers: view.endpoint_outliers,
            last_change: view.last_change,
        }
    }
}

fn as_slice<S: Serializer>(endpoints: &Arc<[Endpoint]>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(endpoints.iter())
}

fn nodes<S: Serializer>(nodes: &[Arc<NodeView>], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(nodes.iter().map(|node| &**node))
}
