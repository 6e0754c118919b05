//! `POST /api/services/{name}/call` of the real binary against fake go-micro peers (real
//! sockets) registered in its real memory registry: every status, pinning, round robin, the
//! client-side deadline, the reply cap, no SSRF, and access control.

mod common;

use std::time::{Duration, Instant};

use common::{client, Server};
use muster_rpc::fake_peer::{self, Flavour, Peer};
use serde_json::{json, Value};

const SERVICE: &str = "go.micro.srv.greeter";

/// go-micro v1.18's rpc server metadata (README of the rpc vectors).
fn mucp() -> Value {
    json!({"broker": "http", "protocol": "mucp", "registry": "mdns", "server": "mucp", "transport": "http"})
}

/// Registers node `id` at `address` with `metadata` under [`SERVICE`].
async fn register(server: &Server, nodes: &[(&str, &str, Value)], token: Option<&str>) {
    let body = json!({
        "name": SERVICE,
        "version": "latest",
        "endpoints": [{"name": "Greeter.Hello", "request": null, "response": null, "metadata": {}}],
        "nodes": nodes.iter().map(|(id, address, metadata)| json!({"id": id, "address": address, "metadata": metadata})).collect::<Vec<_>>(),
    });
    let mut request = client().post(server.url("/api/services")).json(&body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 201, "{:?}", response.text().await);
}

/// `POST /api/services/{name}/call` with `body`: status and JSON.
async fn call(server: &Server, name: &str, body: Value) -> (u16, Value) {
    let response = client()
        .post(server.url(&format!("/api/services/{name}/call")))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_call_answers_200_with_the_reply_and_go_micro_errors_502() {
    let peer = Peer::start(Flavour::V1_18).await;
    let server = Server::start(&["--probe-interval", "0"]);
    register(&server, &[("node-1", &peer.address(), mucp())], None).await;

    let (status, body) = call(
        &server,
        SERVICE,
        json!({"endpoint": "Greeter.Hello", "request": {"name": "x"}, "metadata": {"X-User": "alice"}}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["response"], json!({"msg": "Hello x"}));
    assert_eq!(body["node"], "node-1");
    assert_eq!(body["address"], peer.address());
    assert!(body["duration_ms"].as_f64().unwrap() > 0.0);
    let headers = peer.seen().last_headers.lock().unwrap().clone();
    assert!(headers.contains(&("x-user".into(), "alice".into())));
    assert!(
        headers.contains(&("timeout".into(), "10000000000".into())),
        "default 10 s"
    );
    assert_eq!(*peer.seen().last_body.lock().unwrap(), br#"{"name":"x"}"#);

    let (status, body) = call(&server, SERVICE, json!({"endpoint": "Greeter.Fail"})).await;
    assert_eq!(status, 502);
    assert_eq!(
        body["remote"],
        json!({"id": "greeter", "code": 500, "detail": "boom", "status": "Internal Server Error"})
    );
    assert!(body["error"].as_str().unwrap().contains("boom"));

    let (status, body) = call(&server, SERVICE, json!({"endpoint": "Greeter.Nope"})).await;
    assert_eq!(status, 502);
    assert_eq!(body["remote"], "rpc: can't find method Nope");
}

#[tokio::test]
async fn the_timeout_is_honoured_within_ten_percent_and_answers_504() {
    let peer = Peer::start(Flavour::V1_18).await;
    let mute = Peer::start(Flavour::Mute).await;
    let server = Server::start(&["--probe-interval", "0"]);
    register(
        &server,
        &[
            ("slow", &peer.address(), mucp()),
            ("mute", &mute.address(), mucp()),
        ],
        None,
    )
    .await;
    for (node, endpoint) in [("slow", "Greeter.Slow"), ("mute", "Greeter.Hello")] {
        let started = Instant::now();
        let (status, body) = call(
            &server,
            SERVICE,
            json!({"endpoint": endpoint, "node": node, "timeout_ms": 1000}),
        )
        .await;
        let took = started.elapsed();
        assert_eq!(status, 504, "{body}");
        assert!(body["error"].as_str().unwrap().contains("1000 ms"));
        assert!(
            took >= Duration::from_millis(1000) && took <= Duration::from_millis(1100),
            "{node}: {took:?}"
        );
    }
}

#[tokio::test]
async fn an_unreachable_node_is_502_and_an_oversized_reply_is_refused() {
    let peer = Peer::start(Flavour::V1_18).await;
    let closed = fake_peer::closed_address().await;
    let server = Server::start(&["--probe-interval", "0"]);
    register(
        &server,
        &[("up", &peer.address(), mucp()), ("down", &closed, mucp())],
        None,
    )
    .await;
    let (status, body) = call(
        &server,
        SERVICE,
        json!({"endpoint": "Greeter.Hello", "node": "down"}),
    )
    .await;
    assert_eq!(status, 502);
    assert!(
        body["error"].as_str().unwrap().contains("cannot connect"),
        "{body}"
    );
    assert!(body.get("remote").is_none());

    let (status, body) = call(
        &server,
        SERVICE,
        json!({"endpoint": "Greeter.Big", "node": "up"}),
    )
    .await;
    assert_eq!(status, 502);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("larger than 4194304 bytes"),
        "{body}"
    );
}

#[tokio::test]
async fn bad_bodies_are_400_and_unknown_services_or_nodes_404_and_nothing_is_sent() {
    let peer = Peer::start(Flavour::V1_18).await;
    let server = Server::start(&["--probe-interval", "0"]);
    register(&server, &[("node-1", &peer.address(), mucp())], None).await;
    for body in [
        json!({}),
        json!({"endpoint": "Hello"}),
        json!({"endpoint": "Greeter.Hello", "timeout_ms": 0}),
        json!({"endpoint": "Greeter.Hello", "timeout_ms": 60001}),
        json!({"endpoint": "Greeter.Hello", "metadata": {"Micro-Service": "other"}}),
        json!({"endpoint": "Greeter.Hello", "metadata": {"X-A": "b\r\nMicro-Service: other"}}),
        json!({"endpoint": "Greeter.Hello", "extra": 1}),
        json!({"endpoint": "Greeter.Hello\r\nX: y"}),
    ] {
        let (status, answer) = call(&server, SERVICE, body.clone()).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(answer["error"].is_string());
    }
    let raw = client()
        .post(server.url(&format!("/api/services/{SERVICE}/call")))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let (status, _) = call(&server, "nope", json!({"endpoint": "Greeter.Hello"})).await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &server,
        SERVICE,
        json!({"endpoint": "Greeter.Hello", "node": "node-2"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(peer.requests(), 0, "no refused call reached the node");
}

#[tokio::test]
async fn only_registry_addresses_are_ever_called() {
    let registered = Peer::start(Flavour::V1_18).await;
    let victim = Peer::start(Flavour::V1_18).await;
    let server = Server::start(&["--probe-interval", "0"]);
    register(&server, &[("node-1", &registered.address(), mucp())], None).await;
    for body in [
        json!({"endpoint": "Greeter.Hello", "address": victim.address()}),
        json!({"endpoint": "Greeter.Hello", "node": victim.address()}),
        json!({"endpoint": "Greeter.Hello", "node": format!("http://{}/", victim.address())}),
        json!({"endpoint": "Greeter.Hello", "metadata": {"Host": victim.address()}}),
    ] {
        let (status, answer) = call(&server, SERVICE, body.clone()).await;
        assert!(status == 400 || status == 404, "{body}: {status} {answer}");
    }
    let (status, _) = call(
        &server,
        &format!("x/../../{}", victim.address()),
        json!({"endpoint": "Greeter.Hello"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        victim.requests(),
        0,
        "the unregistered address was never called"
    );
    assert_eq!(registered.requests(), 0);
}

#[tokio::test]
async fn calls_go_round_robin_unless_a_node_is_pinned() {
    let a = Peer::start(Flavour::V1_18).await;
    let b = Peer::start(Flavour::V5).await;
    let broker = Peer::start(Flavour::V1_18).await;
    let server = Server::start(&["--probe-interval", "0"]);
    register(
        &server,
        &[
            ("node-a", &a.address(), mucp()),
            (
                "node-b",
                &b.address(),
                json!({"server": "mucp", "transport": "http"}),
            ),
            (
                "node-grpc",
                &broker.address(),
                json!({"server": "grpc", "transport": "grpc"}),
            ),
        ],
        None,
    )
    .await;
    let mut order = Vec::new();
    for _ in 0..4 {
        let (status, body) = call(&server, SERVICE, json!({"endpoint": "Greeter.Hello"})).await;
        assert_eq!(status, 200, "{body}");
        order.push(body["node"].as_str().unwrap().to_string());
    }
    assert_eq!(order, ["node-a", "node-b", "node-a", "node-b"]);
    assert_eq!((a.requests(), b.requests()), (2, 2));
    for _ in 0..3 {
        let (status, body) = call(
            &server,
            SERVICE,
            json!({"endpoint": "Greeter.Hello", "node": "node-b"}),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(
            body["response"],
            json!({"msg": "Hello x", "servedBy": "v5"})
        );
    }
    assert_eq!((a.requests(), b.requests()), (2, 5));
    let (status, body) = call(
        &server,
        SERVICE,
        json!({"endpoint": "Greeter.Hello", "node": "node-grpc"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(broker.requests(), 0, "a grpc node is never sent mucp");
}

#[tokio::test]
async fn calls_need_the_same_authorization_as_register() {
    let peer = Peer::start(Flavour::V1_18).await;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        ([0, 0, 0, 0], 0).into(),
        dir.path(),
        &[
            "--admin-token",
            "call-test-token-0123456789abcdef",
            "--probe-interval",
            "0",
        ],
    );
    register(
        &server,
        &[("node-1", &peer.address(), mucp())],
        Some("call-test-token-0123456789abcdef"),
    )
    .await;
    let url = server.url(&format!("/api/services/{SERVICE}/call"));
    let body = json!({"endpoint": "Greeter.Hello"});
    let http = client();
    let anonymous = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let wrong = http
        .post(&url)
        .bearer_auth("nope")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let foreign = http
        .post(&url)
        .bearer_auth("call-test-token-0123456789abcdef")
        .header("origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
    assert_eq!(peer.requests(), 0);
    let admin = http
        .post(&url)
        .bearer_auth("call-test-token-0123456789abcdef")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(admin.status(), 200);
    assert_eq!(peer.requests(), 1);

    let read_only_dir = tempfile::tempdir().unwrap();
    let read_only = Server::start_with(([0, 0, 0, 0], 0).into(), read_only_dir.path(), &[]);
    let refused = http
        .post(read_only.url(&format!("/api/services/{SERVICE}/call")))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}
