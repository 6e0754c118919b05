//! Any datagram through the mDNS packet parser, node decoder and responder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    muster_registry::mdns::fuzz_entry::parse_packet(data);
});
