//! How much the console holds of what the network and the viewers make it hold.
//!
//! Everything here is learned from an unauthenticated LAN or asked for by anyone who can open
//! a websocket, so each store is bounded in bytes of what it really holds (as
//! [`muster_registry::footprint`] counts them), not only in entries: one fat node is worth a
//! thousand thin ones.

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

/// Bytes a service version's own parts hold (its metadata and endpoints).
pub fn version(metadata: &Metadata, endpoints: &[Endpoint]) -> usize {
    footprint::metadata(metadata)
        + footprint::heap_block(std::mem::size_of_val(endpoints))
        + endpoints.iter().map(footprint::endpoint).sum::<usize>()
}

/// Bytes a service view (as an event or a snapshot entry carries it) holds.
pub fn service_view(service: &ServiceView) -> usize {
    std::mem::size_of::<ServiceView>()
        + footprint::string(&service.name)
        + footprint::string(&service.version)
        + version(&service.metadata, &service.endpoints)
        + footprint::heap_block(std::mem::size_of_val(service.nodes.as_slice()))
        + service.nodes.iter().map(node_view).sum::<usize>()
}
