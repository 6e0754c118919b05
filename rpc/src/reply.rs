//! A node's reply, read as go-micro's rpc server writes it (registry/tests/vectors/gomicro-v1.18/rpc).
//!
//! The status line is `200 OK` for errors too: what tells them apart is the `Micro-Error`
//! header (and `X-Micro-Error`), whose presence wins over any body. That covers the legacy
//! jsonrpc codec's error reply (case 13), which has a body as well; its success envelope
//! (`{"id","result","error"}`, case 12) only answers requests without `Micro-*` headers, and
//! every request of ours has them, so a success body is always the handler's plain JSON.
//! A reply without `Micro-Error` in another content type is the server's own refusal (case 11:
//! `text/plain`, "Unsupported Content-Type"), not a go-micro error.

use http::header::CONTENT_TYPE;
use http::{HeaderMap, StatusCode};
use serde_json::value::RawValue;

use crate::error::Error;
use crate::remote::RemoteError;

/// How much of a non-JSON body an error message quotes.
const QUOTE: usize = 200;

/// The handler's JSON, or why the reply is not one.
pub fn parse(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Result<Box<RawValue>, Error> {
    if let Some(error) = headers
        .get("micro-error")
        .or_else(|| headers.get("x-micro-error"))
    {
        return Err(Error::Remote(RemoteError::parse(&String::from_utf8_lossy(
            error.as_bytes(),
        ))));
    }
    if status != StatusCode::OK {
        return Err(Error::Protocol(format!(
            "the node answered HTTP {status}{}",
            quoted(body)
        )));
    }
    let content_type = headers
        .get(CONTENT_TYPE)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Error::Protocol(format!(
            "the node answered {} instead of application/json{}",
            if content_type.is_empty() {
                "without a content type"
            } else {
                &content_type
            },
            quoted(body)
        )));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| Error::Protocol("the reply is not UTF-8 text".into()))?
        .trim_end();
    if text.is_empty() {
        return Err(Error::Protocol("the reply is empty".into()));
    }
    RawValue::from_string(text.to_string())
        .map_err(|error| Error::Protocol(format!("the reply is not JSON: {error}")))
}

/// `: "<the start of body>"`, for messages about bodies that are not what was expected.
fn quoted(body: &[u8]) -> String {
    if body.is_empty() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(QUOTE)]);
    let more = if body.len() > QUOTE { "…" } else { "" };
    format!(": {:?}{more}", text.trim_end())
}
