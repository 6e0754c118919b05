//! What to call, and the HTTP request go-micro's rpc server expects for it.
//!
//! One `POST /` per call (the path is ignored by the server) with the JSON body as is, and the
//! routing in headers: `Micro-Service` (the registry name), `Micro-Endpoint` and `Micro-Method`
//! (both `Service.Method`: v1.18 reads `Micro-Endpoint`, older servers `Micro-Method`),
//! `Micro-Id` (echoed in the reply), `Timeout` in nanoseconds (the server sets its context
//! deadline from it, but enforces nothing: case 16). Metadata travels as plain headers, which
//! go-micro's server turns back into the handler's context metadata.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue, CONTENT_TYPE, HOST};
use http::{Method, Request};
use http_body_util::Full;

use crate::error::Error;

/// Headers a metadata entry may not set: the routing headers above, and HTTP's own framing
/// and connection headers (a value there would change how the request is read, not what the
/// handler sees).
const RESERVED: [&str; 16] = [
    "content-type",
    "content-length",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "timeout",
    "micro-service",
    "micro-endpoint",
    "micro-method",
    "micro-id",
    "micro-error",
];

/// One call of one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// The service's registry name (`go.micro.srv.greeter`).
    pub service: String,
    /// `Handler.Method` (`Greeter.Hello`).
    pub endpoint: String,
    /// The request as JSON text.
    pub body: Bytes,
    /// Context metadata, sent as headers.
    pub metadata: Vec<(String, String)>,
    /// How long the whole call may take; also sent as `Timeout`.
    pub timeout: Duration,
}

/// Numbers the calls of this process (`Micro-Id`): go-micro only echoes it, so unique within
/// a connection is all it needs, and every call has its own connection.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

impl Call {
    /// A call of `endpoint` of `service` with the JSON `body`, no metadata.
    pub fn new(service: &str, endpoint: &str, body: impl Into<Bytes>, timeout: Duration) -> Call {
        Call {
            service: service.to_string(),
            endpoint: endpoint.to_string(),
            body: body.into(),
            metadata: Vec::new(),
            timeout,
        }
    }

    /// The HTTP request to send to the node at `address` (`host:port`).
    pub fn request(&self, address: &str) -> Result<Request<Full<Bytes>>, Error> {
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(HOST, value("node address", address)?)
            .header(CONTENT_TYPE, "application/json")
            .header("micro-service", value("service name", &self.service)?)
            .header("micro-endpoint", value("endpoint", &self.endpoint)?)
            .header("micro-method", value("endpoint", &self.endpoint)?)
            .header(
                "micro-id",
                NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string(),
            )
            .header("timeout", self.timeout.as_nanos().to_string());
        for (key, text) in &self.metadata {
            let name = HeaderName::from_bytes(key.as_bytes()).map_err(|_| {
                Error::Invalid(format!("metadata key {key:?} is not a header name"))
            })?;
            if RESERVED.contains(&name.as_str()) {
                return Err(Error::Invalid(format!(
                    "metadata key {key:?} is reserved for the RPC itself"
                )));
            }
            request = request.header(name, value(&format!("metadata {key:?}"), text)?);
        }
        request
            .body(Full::new(self.body.clone()))
            .map_err(|error| Error::Invalid(error.to_string()))
    }
}

/// `text` as a header value: visible ASCII and spaces only (no line breaks to smuggle headers).
fn value(what: &str, text: &str) -> Result<HeaderValue, Error> {
    if text
        .bytes()
        .all(|byte| byte == b' ' || byte.is_ascii_graphic())
    {
        HeaderValue::from_str(text).map_err(|_| Error::Invalid(format!("invalid {what}")))
    } else {
        Err(Error::Invalid(format!(
            "{what} may hold only printable ASCII: {text:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello() -> Call {
        Call::new(
            "go.micro.srv.greeter",
            "Greeter.Hello",
            r#"{"name":"x"}"#,
            Duration::from_secs(5),
        )
    }

    #[test]
    fn the_request_carries_go_micros_routing_headers() {
        let request = hello().request("10.78.0.2:8080").unwrap();
        let headers = request.headers();
        assert_eq!(request.method(), Method::POST);
        assert_eq!(request.uri(), "/");
        assert_eq!(headers["host"], "10.78.0.2:8080");
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["micro-service"], "go.micro.srv.greeter");
        assert_eq!(headers["micro-endpoint"], "Greeter.Hello");
        assert_eq!(headers["micro-method"], "Greeter.Hello");
        assert_eq!(headers["timeout"], "5000000000");
        assert!(headers["micro-id"].to_str().unwrap().parse::<u64>().is_ok());
    }

    #[test]
    fn metadata_becomes_headers() {
        let mut call = hello();
        call.metadata.push(("X-User".into(), "alice".into()));
        let request = call.request("127.0.0.1:1").unwrap();
        assert_eq!(request.headers()["x-user"], "alice");
    }

    #[test]
    fn metadata_cannot_override_routing_or_framing_or_smuggle_lines() {
        for (key, value) in [
            ("Micro-Service", "other"),
            ("content-length", "0"),
            ("Timeout", "1"),
            ("bad key", "x"),
            ("x-ok", "a\r\nMicro-Service: other"),
            ("x-ok", "é"),
        ] {
            let mut call = hello();
            call.metadata.push((key.into(), value.into()));
            assert!(
                matches!(call.request("127.0.0.1:1"), Err(Error::Invalid(_))),
                "{key}: {value:?}"
            );
        }
    }

    #[test]
    fn an_endpoint_with_a_line_break_is_refused() {
        let mut call = hello();
        call.endpoint = "Greeter.Hello\r\nX: y".into();
        assert!(matches!(
            call.request("127.0.0.1:1"),
            Err(Error::Invalid(_))
        ));
    }
}
