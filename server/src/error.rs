//! The one error type of the console's actions and API, and how it becomes a response.
//!
//! Every failure a client can cause or see maps to one status code and the JSON body
//! `{"error": "...", "field": "..."}` (`app::wire::ApiError`), so a form can show the message
//! next to the field and a script can branch on the status.

use app::wire::ApiError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use muster_registry::Field;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The input is malformed or out of bounds; nothing changed.
    #[error("{message}")]
    Invalid {
        /// The field at fault, when there is one (a registry field, or a request's own
        /// parameter by its name).
        field: Option<Field>,
        /// What is wrong with it.
        message: String,
    },
    /// Credentials are needed (or the ones given are wrong).
    #[error("{0}")]
    Unauthorized(String),
    /// No credentials can make this allowed here (read-only console, foreign Origin).
    #[error("{0}")]
    Forbidden(String),
    /// No such service or node.
    #[error("{0}")]
    NotFound(String),
    /// The request contradicts the node's state (foreign vs owned, id taken).
    #[error("{0}")]
    Conflict(String),
    /// The body is larger than the limit.
    #[error("request body too large (at most {limit} bytes)")]
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Too many attempts (admin tokens); the client may try again after `retry_after` seconds.
    #[error("{message}")]
    TooManyRequests {
        /// What was refused, and when to come back.
        message: String,
        /// Seconds until the next attempt is allowed (the `Retry-After` header).
        retry_after: u64,
    },
    /// The registry or the state file failed.
    #[error("{0}")]
    Internal(String),
    /// The registry did not answer in time.
    #[error("the registry did not answer in time")]
    Timeout,
    /// A bound on what the console serves at once is reached; try again later.
    #[error("{0}")]
    Busy(String),
    /// The registry's store cannot serve now (unreachable, no quorum): nothing changed, and
    /// the same request may succeed later. Answered with `Retry-After`.
    #[error("{0}")]
    Unavailable(String),
}

/// Seconds a client is told to wait (`Retry-After`) when the registry is unavailable: about
/// one etcd leader election, after which a cluster that got its quorum back serves again.
pub const RETRY_AFTER_SECS: u64 = 2;

impl Error {
    /// An invalid input without a particular field.
    pub fn invalid(message: impl Into<String>) -> Self {
        Error::Invalid {
            field: None,
            message: message.into(),
        }
    }

    /// An invalid request parameter `name` (not a registry field).
    pub fn invalid_parameter(name: &str, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: Some(Field::named(name)),
            message: message.into(),
        }
    }

    /// The status code the error is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Invalid { .. } => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Error::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Error::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The JSON body.
    pub fn body(&self) -> ApiError {
        ApiError {
            error: self.to_string(),
            field: match self {
                Error::Invalid { field, .. } => field.clone(),
                _ => None,
            },
        }
    }
}

impl From<muster_registry::Error> for Error {
    fn from(error: muster_registry::Error) -> Self {
        match error {
            muster_registry::Error::Invalid { field, reason } => Error::Invalid {
                message: format!("invalid {field}: {reason}"),
                field: Some(field),
            },
            muster_registry::Error::NotFound => Error::NotFound("service not found".into()),
            muster_registry::Error::Timeout => Error::Timeout,
            muster_registry::Error::Unavailable(message) => Error::Unavailable(message),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if self.status().is_server_error() {
            tracing::warn!("request failed: {self}");
        }
        let retry_after = match &self {
            Error::TooManyRequests { retry_after, .. } => Some(retry_after.to_string()),
            Error::Unavailable(_) => Some(RETRY_AFTER_SECS.to_string()),
            _ => None,
        };
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(seconds) = retry_after.and_then(|s| axum::http::HeaderValue::from_str(&s).ok())
        {
            response.headers_mut().insert(header::RETRY_AFTER, seconds);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_registry_is_a_503_to_retry() {
        let error = Error::from(muster_registry::Error::Unavailable(
            "etcd has no quorum (2 of 3 members down)".into(),
        ));
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers()[header::RETRY_AFTER], "2");
    }
}
