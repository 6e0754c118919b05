//! The reply parser against every captured reply of a real go-micro v1.18 server.

use muster_rpc::fake_peer::captures::{self, Capture};
use muster_rpc::reply::parse;
use muster_rpc::{Error, GoError, RemoteError};

fn parsed(capture: Capture) -> Result<String, Error> {
    let (status, headers, body) = capture.parts();
    parse(status, &headers, &body).map(|json| json.get().to_string())
}

fn remote(capture: Capture) -> RemoteError {
    match parsed(capture) {
        Err(Error::Remote(error)) => error,
        other => panic!("{}: {other:?}", capture.case),
    }
}

#[test]
fn successes_are_the_handlers_json_without_the_newline() {
    assert_eq!(parsed(captures::HELLO).unwrap(), r#"{"msg":"Hello x"}"#);
    assert_eq!(parsed(captures::HEALTH).unwrap(), r#"{"status":"ok"}"#);
    assert_eq!(
        parsed(captures::SLOW).unwrap(),
        r#"{"msg":"Hello x (after 5s)"}"#
    );
    assert_eq!(
        parsed(captures::KEEPALIVE).unwrap(),
        r#"{"msg":"Hello first"}"#
    );
}

#[test]
fn a_handlers_go_micro_error_keeps_its_four_fields() {
    assert_eq!(
        remote(captures::FAIL),
        RemoteError::Go(GoError {
            id: "greeter".into(),
            code: 500,
            detail: "boom".into(),
            status: "Internal Server Error".into(),
        })
    );
}

#[test]
fn router_errors_are_plain_strings() {
    for (capture, text) in [
        (captures::UNKNOWN_METHOD, "rpc: can't find method Nope"),
        (captures::UNKNOWN_SERVICE, "rpc: can't find service Nope"),
        (
            captures::ILL_FORMED,
            "rpc: service/endpoint request ill-formed: Hello",
        ),
        (
            captures::HEALTH_UNKNOWN_FIELD,
            "unknown field \"foo\" in debug.HealthRequest",
        ),
        (captures::NO_DEBUG, "rpc: can't find service Debug"),
    ] {
        assert_eq!(
            remote(capture),
            RemoteError::Plain(text.into()),
            "{}",
            capture.case
        );
    }
    assert!(remote(captures::NO_DEBUG).is_unknown_service("Debug"));
}

#[test]
fn the_legacy_error_envelope_is_read_from_its_header_not_its_body() {
    assert_eq!(
        remote(captures::LEGACY_ERROR),
        RemoteError::Plain("rpc: service/endpoint request ill-formed:".into())
    );
}

#[test]
fn wrong_content_types_are_protocol_errors_quoting_the_server() {
    for capture in [captures::WRONG_CONTENT_TYPE, captures::HEALTH_PROTO] {
        match parsed(capture) {
            Err(Error::Protocol(message)) => {
                assert!(message.contains("instead of application/json"), "{message}")
            }
            other => panic!("{}: {other:?}", capture.case),
        }
    }
    let Err(Error::Protocol(message)) = parsed(captures::WRONG_CONTENT_TYPE) else {
        unreachable!()
    };
    assert!(
        message.contains("Unsupported Content-Type: text/plain"),
        "{message}"
    );
}

#[test]
fn every_capture_is_understood_one_way_or_another() {
    for capture in captures::ALL {
        let outcome = parsed(capture);
        assert!(
            matches!(
                outcome,
                Ok(_) | Err(Error::Remote(_)) | Err(Error::Protocol(_))
            ),
            "{}: {outcome:?}",
            capture.case
        );
    }
    assert!(parsed(captures::LEGACY).is_ok());
}
