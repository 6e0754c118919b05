//! What a decoded model value really holds in memory, for memory budgets.
//!
//! A budget that counts JSON bytes undercounts what is held: every `String` is a 24-byte header
//! plus a heap block (rounded up by the allocator), every metadata entry a B-tree slot, every
//! schema value a vector element. A peer that packs thousands of tiny strings costs several
//! times its JSON size. These estimates count the headers, the heap blocks (with the allocator's
//! 16-byte granularity) and the collections' slots. Hand-written rather than a derive crate
//! (`get-size`, `deepsize`): the model is shared with the browser build, and those crates count
//! neither allocator rounding nor B-tree node overhead.

use crate::model::{Endpoint, Metadata, Node, Service, Value};

/// The allocator hands out blocks in multiples of this (glibc malloc: 16 bytes, 8 of header).
const ALLOCATION_GRANULE: usize = 16;

/// A `String`'s header (pointer, capacity, length).
const STRING_HEADER: usize = std::mem::size_of::<String>();

/// What one B-tree map entry costs beyond its key and value: nodes hold up to 11 entries with
/// their edges and are on average about two-thirds full.
const BTREE_ENTRY_OVERHEAD: usize = 16;

/// Bytes a heap block of `len` usable bytes takes (0 for none).
pub fn heap_block(len: usize) -> usize {
    if len == 0 {
        0
    } else {
        (len + 8).div_ceil(ALLOCATION_GRANULE) * ALLOCATION_GRANULE
    }
}

/// Heap bytes of a string (its header is counted by whatever holds it).
pub fn string(text: &str) -> usize {
    heap_block(text.len())
}

/// Heap bytes of a metadata map.
pub fn metadata(map: &Metadata) -> usize {
    map.iter()
        .map(|(key, value)| 2 * STRING_HEADER + BTREE_ENTRY_OVERHEAD + string(key) + string(value))
        .sum()
}

/// Heap bytes of a schema value tree.
pub fn value(value: &Value) -> usize {
    string(&value.name) + string(&value.r#type) + values(&value.values)
}

fn values(list: &[Value]) -> usize {
    heap_block(std::mem::size_of_val(list)) + list.iter().map(value).sum::<usize>()
}

/// Heap bytes of an endpoint.
pub fn endpoint(endpoint: &Endpoint) -> usize {
    // A request or response schema is held inline (an `Option<Value>`, not a box).
    let schema = |schema: &Option<Value>| schema.as_ref().map_or(0, value);
    string(&endpoint.name)
        + schema(&endpoint.request)
        + schema(&endpoint.response)
        + metadata(&endpoint.metadata)
}

/// Heap bytes of a node.
pub fn node(node: &Node) -> usize {
    string(&node.id) + string(&node.address) + metadata(&node.metadata)
}

/// Bytes a service holds: its own size plus everything it points to.
pub fn service(service: &Service) -> usize {
    std::mem::size_of::<Service>()
        + string(&service.name)
        + string(&service.version)
        + metadata(&service.metadata)
        + heap_block(std::mem::size_of_val(service.endpoints.as_slice()))
        + service.endpoints.iter().map(endpoint).sum::<usize>()
        + heap_block(std::mem::size_of_val(service.nodes.as_slice()))
        + service.nodes.iter().map(node).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiny_strings_cost_more_than_their_json() {
        let node = Node {
            id: "n".into(),
            address: "10.0.0.1:1".into(),
            metadata: (0..100)
                .map(|i| (format!("k{i}"), "v".to_string()))
                .collect(),
        };
        let json = serde_json::to_vec(&node).unwrap().len();
        assert!(
            super::node(&node) > 3 * json,
            "{} vs {json}",
            super::node(&node)
        );
    }

    #[test]
    fn big_values_cost_about_their_length() {
        let node = Node {
            metadata: Metadata::from([("k".to_string(), "x".repeat(4000))]),
            ..Node::default()
        };
        let bytes = super::node(&node);
        assert!((4000..4200).contains(&bytes), "{bytes}");
    }
}
