//! How much the console holds of what the network and the viewers make it hold.
//!
//! Everything here is learned from an unauthenticated LAN or asked for by anyone who can open
//! a websocket, so each store is bounded in bytes of what it really holds (as
//! [`muster_registry::footprint`] counts them), not only in entries: one fat node is worth a
//! thousand thin ones.

use std::borrow::Borrow;

use app::wire::{NodeView, ServiceView};
use muster_registry::{footprint, Endpoint, Metadata};

/// Tombstones kept at most (departed nodes shown as `expired`, `evicted`, `deregistered`).
pub const MAX_TOMBSTONES: usize = 4096;
/// Bytes tombstones may hold together; past it (or [`MAX_TOMBSTONES`]) the oldest go first.
/// 1,500 "fat node + goodbye" pairs in 30 s kept 1.3 GiB before this bound.
pub const MAX_TOMBSTONE_BYTES: usize = 16 * 1024 * 1024;
/// Bytes the replay ring of recent events may hold (each event is a full copy of its node
/// and its version's endpoints).
pub const MAX_RING_BYTES: usize = 8 * 1024 * 1024;
/// Bytes of event frames that websocket clients have not all read yet. A client that is
/// behind while this is exceeded gets a snapshot instead of the frames it missed, and so
/// stops holding them.
pub const MAX_FRAME_BYTES: usize = 32 * 1024 * 1024;

/// Bytes a node view holds (its slot in a map or vector counted as its own size).
pub fn node_view(node: &NodeView) -> usize {
    std::mem::size_of::<NodeView>() + footprint::node(&node.node)
}

/// Bytes a node view of the console's view holds: a heap block of its own (an `Arc`, with its
/// two counts, shared with the snapshots being written) and what the node points to.
pub fn shared_node_view(node: &NodeView) -> usize {
    footprint::heap_block(std::mem::size_of::<NodeView>() + 2 * std::mem::size_of::<usize>())
        + footprint::node(&node.node)
}

/// Bytes a service version's own parts hold (its metadata and endpoints).
pub fn version(metadata: &Metadata, endpoints: &[Endpoint]) -> usize {
    footprint::metadata(metadata)
        + footprint::heap_block(std::mem::size_of_val(endpoints))
        + endpoints.iter().map(footprint::endpoint).sum::<usize>()
}

/// Bytes a service view (as an event or a snapshot entry carries it) holds.
pub fn service_view(service: &ServiceView) -> usize {
    service_parts(
        &service.name,
        &service.version,
        &service.metadata,
        &service.endpoints,
        &service.nodes,
    )
}

/// Bytes a service view of these parts holds ([`service_view`], for views still in parts).
pub fn service_parts<N: Borrow<NodeView>>(
    name: &str,
    version: &str,
    metadata: &Metadata,
    endpoints: &[Endpoint],
    nodes: &[N],
) -> usize {
    std::mem::size_of::<ServiceView>()
        + footprint::string(name)
        + footprint::string(version)
        + self::version(metadata, endpoints)
        + footprint::heap_block(nodes.len() * std::mem::size_of::<NodeView>())
        + nodes
            .iter()
            .map(|node| node_view(node.borrow()))
            .sum::<usize>()
}
