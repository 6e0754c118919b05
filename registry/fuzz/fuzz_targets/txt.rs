//! Any TXT RDATA through go-micro's TXT decoder (hex → zlib → JSON, bounded).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    muster_registry::mdns::fuzz_entry::decode_txt(data);
});
