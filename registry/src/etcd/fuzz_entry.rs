//! Entry point for the fuzzer (`registry/fuzz`, target `etcd_value`) and the corpus replay
//! test: a value as anyone with write access to `/micro/registry/` may store it.
//!
//! It goes through what the readers and the watcher do with a stored value (decode; apply to
//! a view as a put, then as the previous value of a delete) and must never panic. Whatever
//! decodes must survive our own encoding: what Muster writes for a node it read, Muster (and
//! so a go-micro peer, whose JSON it is) reads back as the same node.

use super::codec;
use super::watch::View;
use crate::validate;

/// Runs `value` through decoding, the watcher's view and the encoder.
pub fn decode_value(value: &[u8]) {
    const KEY: &[u8] = b"/micro/registry/fuzzed/node";
    let mut view = View::new(None);
    let put = view.put(KEY, value);
    let decoded = codec::decode(value, None);
    assert_eq!(
        put.is_some(),
        decoded.is_some(),
        "the view and the readers disagree"
    );
    if let Some(service) = &decoded {
        for node in &service.nodes {
            let encoded = codec::encode(service, node);
            let again = codec::decode(&encoded, None).unwrap_or_else(|| {
                panic!(
                    "our own encoding does not decode: {}",
                    String::from_utf8_lossy(&encoded)
                )
            });
            assert!(validate::service(&again).is_ok());
            assert_eq!(
                (
                    &again.name,
                    &again.version,
                    &again.metadata,
                    &again.endpoints
                ),
                (
                    &service.name,
                    &service.version,
                    &service.metadata,
                    &service.endpoints
                ),
                "service fields changed through our encoding"
            );
            assert_eq!(
                again.nodes,
                std::slice::from_ref(node),
                "the node changed through our encoding"
            );
        }
    }
    let deleted = view.delete(KEY, Some(value));
    assert_eq!(
        deleted.is_some(),
        decoded.is_some(),
        "a delete of what was put"
    );
}
