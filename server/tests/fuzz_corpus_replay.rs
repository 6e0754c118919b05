//! Replays the kept fuzz corpus of the console's own parsers (`registry/fuzz/corpus/api_body`
//! and `dnssd_txt`) through the same properties the fuzz targets check
//! (`registry/fuzz/properties/`), with truncations of each input: CI cannot run a fuzzer,
//! and this keeps every input it ever found in the normal test run.

#[path = "../../registry/fuzz/properties/api_body.rs"]
mod api_body;
#[path = "../../registry/fuzz/properties/dnssd_txt.rs"]
mod dnssd_txt;

use std::path::PathBuf;

/// The inputs kept for `target`.
fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../registry/fuzz/corpus")
        .join(target);
    let inputs: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
        .collect();
    assert!(
        inputs.len() >= 3,
        "{target} corpus missing ({} files)",
        inputs.len()
    );
    inputs
}

/// `input` and prefixes of it (a body or a record cut short): every one of a short input, 64
/// spread over a long one.
fn with_truncations(input: &[u8]) -> impl Iterator<Item = &[u8]> {
    let step = (input.len() / 64).max(1);
    (0..=input.len())
        .rev()
        .step_by(step)
        .map(move |end| &input[..end])
}

#[test]
fn api_bodies_decode_and_round_trip() {
    for input in corpus("api_body") {
        with_truncations(&input).for_each(api_body::api_body);
    }
}

#[test]
fn dnssd_txt_records_stay_bounded_and_read_back() {
    for input in corpus("dnssd_txt") {
        with_truncations(&input).for_each(dnssd_txt::dnssd_txt);
    }
}
