//! Request bodies: at most [`MAX_BODY`] bytes, JSON decoded with a message a person can act on.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::Error;

/// Largest request body. A go-micro registration is a few KiB even with a hundred endpoints;
/// 256 KiB leaves room for large schemas and refuses anything meant to exhaust memory.
pub const MAX_BODY: usize = 256 * 1024;

/// The body, or why it could not be read (413 when over the limit).
pub fn bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, Error> {
    body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::TooLarge { limit: MAX_BODY }
        } else {
            Error::invalid(format!("cannot read the request body: {rejection}"))
        }
    })
}

/// The body as JSON of type `T`.
pub fn json<T: DeserializeOwned>(body: Result<Bytes, BytesRejection>) -> Result<T, Error> {
    let bytes = bytes(body)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Error::invalid("the request body is empty; send JSON"));
    }
    serde_json::from_slice(&bytes).map_err(|error| Error::invalid(format!("invalid JSON: {error}")))
}
