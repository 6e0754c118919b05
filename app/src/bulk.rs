//! Bulk eviction of stale nodes: what the confirmation lists, and what the server did.
//!
//! The browser lists the stale nodes it shows, the operator confirms that list, and the server
//! evicts exactly those of them that are still stale when it gets the list: a node that came
//! back meanwhile is kept (and said so), never evicted because it was stale a moment ago.

use serde::{Deserialize, Serialize};

use crate::wire::{NodeState, ServiceView};

/// Nodes one request may name at most (their JSON stays under the body limit).
pub const MAX_BULK_NODES: usize = 1_000;

/// One node, as the confirmation listed it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ListedNode {
    /// Service name.
    pub service: String,
    /// Version.
    pub version: String,
    /// Node id.
    pub node: String,
    /// Address as listed: a node re-registered at another address is another node.
    pub address: String,
}

/// Body of `POST /api/evict-stale`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkEvictRequest {
    /// The nodes the operator confirmed.
    pub nodes: Vec<ListedNode>,
}

/// A listed node the server did not evict, and why.
///
/// `Deserialize` is written out: it reads what the derive with the flattened `node` read, in
/// one pass (see [`crate::de`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptNode {
    /// The node as listed.
    #[serde(flatten)]
    pub node: ListedNode,
    /// Why it was kept ("alive again", "gone already", the evict's error).
    pub reason: String,
}

impl<'de> Deserialize<'de> for KeptNode {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// [`KeptNode`]'s fields with its node's, flat: what its JSON holds.
        #[derive(Deserialize)]
        #[serde(rename = "KeptNode")]
        struct Fields {
            service: String,
            version: String,
            node: String,
            address: String,
            reason: String,
        }
        let fields: Fields = crate::de::flat(deserializer, "struct KeptNode")?;
        Ok(KeptNode {
            node: ListedNode {
                service: fields.service,
                version: fields.version,
                node: fields.node,
                address: fields.address,
            },
            reason: fields.reason,
        })
    }
}

/// Answer of `POST /api/evict-stale`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkEvictResponse {
    /// Evicted, in the order listed.
    pub evicted: Vec<ListedNode>,
    /// Not evicted, in the order listed.
    pub kept: Vec<KeptNode>,
}

/// The stale, foreign nodes of `versions` (this console's own are deregistered, not
/// evicted), sorted by service, version, node id: what the confirmation lists.
pub fn stale_nodes<'a>(versions: impl IntoIterator<Item = &'a ServiceView>) -> Vec<ListedNode> {
    let mut listed: Vec<ListedNode> = versions
        .into_iter()
        .flat_map(|version| {
            version
                .nodes
                .iter()
                .filter(|node| node.state == NodeState::Stale && !node.owned)
                .map(|node| ListedNode {
                    service: version.name.clone(),
                    version: version.version.clone(),
                    node: node.node.id.clone(),
                    address: node.node.address.clone(),
                })
        })
        .collect();
    listed.sort();
    listed
}
