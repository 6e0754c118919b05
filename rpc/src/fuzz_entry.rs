//! The fuzz target's entry point (rpc/fuzz, and the corpus replay in `cargo test`): whatever a
//! node sends back must come out as JSON or an [`crate::Error`], never as a panic.
//!
//! Input layout, so a fuzzer reaches every branch of [`crate::reply::parse`]: the first byte
//! picks the status (bit 0: 200 or 502), whether a `Micro-Error` header is present (bit 1) and
//! the content type (bits 2–3: `application/json`, `application/json; charset=utf-8`,
//! `text/plain`, none); then the header's value up to the first `\n` (when present), then the
//! body.

use http::header::{HeaderValue, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};

use crate::remote::RemoteError;

/// Parses `data` as a reply; panics only if the parser broke a promise.
pub fn reply(data: &[u8]) {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let status = if flags & 1 == 0 {
        StatusCode::OK
    } else {
        StatusCode::BAD_GATEWAY
    };
    let mut headers = HeaderMap::new();
    let body = if flags & 2 != 0 {
        let split = rest.iter().position(|b| *b == b'\n').unwrap_or(rest.len());
        if let Ok(value) = HeaderValue::from_bytes(&rest[..split]) {
            headers.insert("micro-error", value);
        }
        &rest[(split + 1).min(rest.len())..]
    } else {
        rest
    };
    let content_type = match (flags >> 2) & 3 {
        0 => Some("application/json"),
        1 => Some("application/json; charset=utf-8"),
        2 => Some("text/plain"),
        _ => None,
    };
    if let Some(content_type) = content_type {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    match crate::reply::parse(status, &headers, body) {
        Ok(json) => {
            serde_json::from_str::<serde::de::IgnoredAny>(json.get())
                .expect("a success is valid JSON");
        }
        Err(crate::Error::Remote(remote)) => {
            let _ = remote.to_string();
            let again = serde_json::to_string(&remote).expect("serializable");
            let back: RemoteError = serde_json::from_str(&again).expect("it reads back");
            assert_eq!(back, remote, "a remote error round-trips through JSON");
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
}
