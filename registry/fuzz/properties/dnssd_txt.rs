//! The property of the `dnssd_txt` target (and of its corpus replay, server/tests/
//! fuzz_corpus_replay.rs). The bridge's TXT writer lives in the `server` binary, which nothing
//! can depend on; its file depends on nothing but `muster_registry`, so it is compiled here as
//! it is, from its one copy.

#[path = "../../../server/src/dnssd/txt.rs"]
#[allow(dead_code)]
mod txt;

use muster_registry::Metadata;

/// A TXT record as a LAN peer sends it, parsed as the LAN view parses it (mdns-sd), and its
/// entries taken as a node's metadata by the DNS-SD bridge: the TXT the bridge then writes
/// keeps RFC 6763's bounds and reads back, through the same parser, as exactly what was
/// written.
pub fn dnssd_txt(data: &[u8]) {
    let parsed = mdns_sd::TxtProperties::from(data);
    let metadata: Metadata = parsed
        .iter()
        .map(|property| (property.key().to_string(), property.val_str().to_string()))
        .collect();
    let entries = txt::node_txt("go.micro.srv.fuzzed", "1.0.0", "fuzzed-1", &metadata);
    let mut wire = Vec::new();
    for (key, value) in &entries {
        assert!(txt::valid_key(key), "invalid key written: {key:?}");
        let entry = format!("{key}={value}");
        let length = u8::try_from(entry.len()).expect("an entry over 255 bytes");
        assert!(entry.len() <= txt::MAX_ENTRY_BYTES);
        wire.push(length);
        wire.extend_from_slice(entry.as_bytes());
    }
    assert!(
        wire.len() <= txt::MAX_TXT_BYTES,
        "TXT of {} bytes",
        wire.len()
    );
    let read: Vec<(String, String)> = mdns_sd::TxtProperties::from(&wire[..])
        .iter()
        .map(|property| (property.key().to_string(), property.val_str().to_string()))
        .collect();
    assert_eq!(
        read, entries,
        "the bridge's TXT does not read back as written"
    );
}
