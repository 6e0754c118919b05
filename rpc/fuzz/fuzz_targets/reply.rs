//! Any reply head and body through the RPC reply parser (see `muster_rpc::fuzz_entry`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    muster_rpc::fuzz_entry::reply(data);
});
