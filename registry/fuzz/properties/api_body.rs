//! The property of the `api_body` target (and of its corpus replay, server/tests/
//! fuzz_corpus_replay.rs). `RegisterRequest` lives in `app`, which a fuzz build cannot take
//! whole (it brings all of Leptos); its file depends on nothing but serde and
//! `muster_registry`, so it is compiled here as it is, from its one copy.

#[path = "../../../app/src/wire.rs"]
#[allow(dead_code)]
mod wire;
// `wire.rs` names node health from its sibling `rpc.rs`.
#[path = "../../../app/src/rpc.rs"]
#[allow(dead_code)]
mod rpc;
// And the search text its summaries keep, from `search.rs`.
#[path = "../../../app/src/search.rs"]
#[allow(dead_code)]
mod search;
// ... and an event's reason from its sibling `reason.rs`.
#[path = "../../../app/src/reason.rs"]
#[allow(dead_code)]
mod reason;
// Both read their tagged enums and flattened structs with `de.rs`.
#[path = "../../../app/src/de.rs"]
#[allow(dead_code)]
mod de;

use muster_registry::validate;

/// A `POST /api/services` body (and the CLI's `register -f` file) as the console decodes it:
/// JSON into a `RegisterRequest`, then the registration checks. What decodes must serialize
/// and decode back to itself: the console echoes registrations, and stores them in its state
/// file to re-register after a restart.
pub fn api_body(data: &[u8]) {
    let Ok(request) = serde_json::from_slice::<wire::RegisterRequest>(data) else {
        return;
    };
    let _ = validate::registration(&request.service);
    let json = serde_json::to_vec(&request).expect("a decoded request serializes");
    let back: wire::RegisterRequest = serde_json::from_slice(&json).unwrap_or_else(|error| {
        panic!(
            "our own JSON does not decode ({error}): {}",
            String::from_utf8_lossy(&json)
        )
    });
    assert_eq!(back, request, "the request changed through its own JSON");
}
