//! Any `POST /api/services` body through the console's decoding and registration checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../properties/api_body.rs"]
mod property;

fuzz_target!(|data: &[u8]| {
    property::api_body(data);
});
