//! The client against the fake go-micro peer on real loopback sockets.

use std::time::{Duration, Instant};

use muster_rpc::fake_peer::{self, Flavour, Peer};
use muster_rpc::{call, check, Call, Error, GoError, HealthState, RemoteError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const SERVICE: &str = "go.micro.srv.greeter";

fn hello() -> Call {
    Call::new(
        SERVICE,
        "Greeter.Hello",
        r#"{"name":"x"}"#,
        Duration::from_secs(5),
    )
}

#[tokio::test]
async fn a_call_returns_the_handlers_json_and_sends_the_routing_headers() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mut request = hello();
    request.metadata.push(("X-Trace".into(), "abc".into()));
    let reply = call(&peer.address(), &request).await.unwrap();
    assert_eq!(reply.body.get(), r#"{"msg":"Hello x"}"#);
    let headers = peer.seen().last_headers.lock().unwrap().clone();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    assert_eq!(get("micro-service").as_deref(), Some(SERVICE));
    assert_eq!(get("micro-endpoint").as_deref(), Some("Greeter.Hello"));
    assert_eq!(get("micro-method").as_deref(), Some("Greeter.Hello"));
    assert_eq!(get("timeout").as_deref(), Some("5000000000"));
    assert_eq!(get("content-type").as_deref(), Some("application/json"));
    assert_eq!(get("x-trace").as_deref(), Some("abc"));
    assert!(get("micro-id").is_some());
    assert_eq!(*peer.seen().last_body.lock().unwrap(), br#"{"name":"x"}"#);
}

#[tokio::test]
async fn go_micro_errors_come_back_as_remote_errors() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mut fail = hello();
    fail.endpoint = "Greeter.Fail".into();
    assert!(matches!(
        call(&peer.address(), &fail).await,
        Err(Error::Remote(RemoteError::Go(GoError { code: 500, .. })))
    ));
    fail.endpoint = "Greeter.Nope".into();
    assert_eq!(
        call(&peer.address(), &fail).await.unwrap_err(),
        Error::Remote(RemoteError::Plain("rpc: can't find method Nope".into()))
    );
}

#[tokio::test]
async fn the_client_deadline_ends_a_slow_handler_within_ten_percent() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mut slow = hello();
    slow.endpoint = "Greeter.Slow".into();
    slow.timeout = Duration::from_secs(1);
    let started = Instant::now();
    assert_eq!(
        call(&peer.address(), &slow).await.unwrap_err(),
        Error::Timeout(Duration::from_secs(1))
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(1) && took <= Duration::from_millis(1100),
        "{took:?}"
    );
}

#[tokio::test]
async fn a_mute_node_times_out_and_a_closed_port_is_unreachable() {
    let mute = Peer::start(Flavour::Mute).await;
    let mut request = hello();
    request.timeout = Duration::from_millis(300);
    assert!(matches!(
        call(&mute.address(), &request).await,
        Err(Error::Timeout(_))
    ));
    assert_eq!(mute.requests(), 1);
    let closed = fake_peer::closed_address().await;
    assert!(matches!(
        call(&closed, &request).await,
        Err(Error::Unreachable { .. })
    ));
}

#[tokio::test]
async fn a_reply_over_the_cap_is_refused() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mut big = hello();
    big.endpoint = "Greeter.Big".into();
    assert_eq!(
        call(&peer.address(), &big).await.unwrap_err(),
        Error::TooLarge {
            limit: muster_rpc::MAX_REPLY
        }
    );
    let small = muster_rpc::client::call_capped(&peer.address(), &hello(), 10).await;
    assert_eq!(small.unwrap_err(), Error::TooLarge { limit: 10 });
}

#[tokio::test]
async fn health_states_of_each_flavour() {
    let timeout = Duration::from_secs(2);
    let healthy = Peer::start(Flavour::V1_18).await;
    let health = check(SERVICE, &healthy.address(), timeout).await;
    assert_eq!(health.state, HealthState::Healthy);
    assert!(health.latency.is_some());
    let no_debug = Peer::start(Flavour::V1_18NoDebug).await;
    assert_eq!(
        check(SERVICE, &no_debug.address(), timeout).await.state,
        HealthState::NoCheck
    );
    let v5 = Peer::start(Flavour::V5).await;
    assert_eq!(
        check(SERVICE, &v5.address(), timeout).await.state,
        HealthState::NoCheck
    );
    let address = healthy.address();
    healthy.kill().await;
    assert_eq!(
        check(SERVICE, &address, timeout).await.state,
        HealthState::Unreachable
    );
}

#[tokio::test]
async fn the_v5_flavour_speaks_camel_case_and_drops_empty_error_fields() {
    let v5 = Peer::start(Flavour::V5).await;
    let reply = call(&v5.address(), &hello()).await.unwrap();
    assert_eq!(reply.body.get(), r#"{"msg":"Hello x","servedBy":"v5"}"#);
    let mut fail = hello();
    fail.endpoint = "Greeter.Fail".into();
    assert_eq!(
        call(&v5.address(), &fail).await.unwrap_err(),
        Error::Remote(RemoteError::Go(GoError {
            id: "greeter".into(),
            code: 500,
            detail: "boom".into(),
            status: String::new(),
        }))
    );
}

/// Raw bytes of one request (so the tests see what the peer does on the connection).
fn raw(endpoint: &str, id: &str, extra: &str) -> Vec<u8> {
    format!(
        "POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nMicro-Service: {SERVICE}\r\nMicro-Endpoint: {endpoint}\r\nMicro-Id: {id}\r\n{extra}Content-Length: 2\r\n\r\n{{}}"
    )
    .into_bytes()
}

/// Reads until `expected` bytes arrived or `wait` passed; the bytes and whether EOF was seen.
async fn read_for(stream: &mut TcpStream, expected: usize, wait: Duration) -> (Vec<u8>, bool) {
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    let mut chunk = [0u8; 4096];
    while bytes.len() < expected {
        match tokio::time::timeout_at(deadline, stream.read(&mut chunk)).await {
            Ok(Ok(0)) => return (bytes, true),
            Ok(Ok(read)) => bytes.extend_from_slice(&chunk[..read]),
            Ok(Err(_)) => return (bytes, true),
            Err(_) => return (bytes, false),
        }
    }
    (bytes, false)
}

#[tokio::test]
async fn the_v1_18_peer_keeps_the_connection_and_answers_in_sequence() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mut stream = TcpStream::connect(peer.address()).await.unwrap();
    let mut two = raw("Greeter.Hello", "14a", "Connection: close\r\n");
    two.extend(raw("Debug.Health", "14b", ""));
    stream.write_all(&two).await.unwrap();
    let expected = fake_peer::captures::HELLO.bytes.len() + fake_peer::captures::HEALTH.bytes.len();
    let (bytes, closed) = read_for(&mut stream, expected, Duration::from_secs(2)).await;
    let mut replay = fake_peer::captures::HELLO.bytes.to_vec();
    replay.extend_from_slice(fake_peer::captures::HEALTH.bytes);
    assert_eq!(bytes, replay);
    assert!(!closed);
    let (more, closed) = read_for(&mut stream, 1, Duration::from_millis(300)).await;
    assert!(
        more.is_empty() && !closed,
        "v1.18 neither closes nor sends more"
    );
}

#[tokio::test]
async fn the_v5_peer_honours_connection_close() {
    let peer = Peer::start(Flavour::V5).await;
    let mut stream = TcpStream::connect(peer.address()).await.unwrap();
    stream
        .write_all(&raw("Greeter.Hello", "1", "Connection: close\r\n"))
        .await
        .unwrap();
    let (bytes, closed) = read_for(&mut stream, usize::MAX, Duration::from_secs(2)).await;
    assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert!(closed);
}

#[tokio::test]
async fn a_half_closed_request_gets_no_reply_from_v1_18() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mut stream = TcpStream::connect(peer.address()).await.unwrap();
    stream
        .write_all(&raw("Greeter.Hello", "20", "")[..40])
        .await
        .unwrap();
    stream.shutdown().await.unwrap();
    let (bytes, closed) = read_for(&mut stream, 1, Duration::from_secs(2)).await;
    assert!(bytes.is_empty() && closed);
}
