//! Any value stored under `/micro/registry/` through the etcd backend's decoder, the watcher's
//! view and our own encoder.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    muster_registry::etcd::fuzz_entry::decode_value(data);
});
