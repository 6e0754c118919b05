//! Any DNS-SD TXT record through the LAN view's parser and the bridge's TXT writer.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../properties/dnssd_txt.rs"]
mod property;

fuzz_target!(|data: &[u8]| {
    property::dnssd_txt(data);
});
