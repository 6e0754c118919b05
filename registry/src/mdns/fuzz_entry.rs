//! Entry points for the fuzzer (`registry/fuzz`) and the corpus replay test.
//!
//! They run untrusted bytes through exactly what a received datagram goes through — packet
//! parsing, node decoding, the responder — and must never panic, whatever the input.

use std::collections::BTreeMap;

use super::announcer::{self, OwnedNode};
use super::message;
use super::names::Names;
use super::responder::{self, Zone};
use super::txt;
use crate::model::{Node, Service};

/// Parses a datagram, decodes every node in it and computes the answers a registry owning one
/// node would send.
pub fn parse_packet(data: &[u8]) {
    let Ok(parsed) = message::parse_packet(data) else {
        return;
    };
    let names = Names::new("micro").expect("static domain");
    for records in &parsed.instances {
        let _ = message::observe(records, &names);
    }
    let service = Service {
        name: "go.micro.srv.greeter".into(),
        version: "latest".into(),
        nodes: vec![Node {
            id: "go.micro.srv.greeter-1".into(),
            address: "10.77.0.1:50051".into(),
            metadata: Default::default(),
        }],
        ..Default::default()
    };
    let node = &service.nodes[0];
    let records = announcer::node_records(&names, "vm.", &service, node).expect("static node");
    let mut owned = BTreeMap::new();
    owned.insert(
        records.instance.clone(),
        OwnedNode {
            records,
            service: announcer::single_node(&service, node),
            generation: 1,
            expires_at: None,
        },
    );
    let zone = Zone {
        names: &names,
        host: "vm.",
        owned: &owned,
        ttl: 120,
    };
    for answer in responder::answers(&parsed, &zone) {
        // What we send must be what we can read.
        assert!(
            message::parse_packet(&answer).is_ok(),
            "answer does not parse"
        );
    }
}

/// Decodes TXT RDATA (length-prefixed character-strings) as the engine would, and the raw bytes
/// as already-joined hex.
pub fn decode_txt(data: &[u8]) {
    let mut strings: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while let Some((&length, tail)) = rest.split_first() {
        let length = usize::from(length).min(tail.len());
        strings.push(&tail[..length]);
        rest = &tail[length..];
    }
    let _ = txt::decode(&strings);
    let _ = txt::decode_joined(data);
}
