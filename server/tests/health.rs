//! Node health in the real binary: `Debug.Health` of fake go-micro peers (real sockets)
//! registered in its memory registry, every `--probe-interval`; the states in
//! `/api/services/{name}` and the watch websocket, and the transitions as events.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{client, eventually, get_service, Server};
use futures::StreamExt;
use muster_rpc::fake_peer::{self, Flavour, Peer};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const SERVICE: &str = "go.micro.srv.greeter";

fn mucp() -> Value {
    json!({"broker": "http", "protocol": "mucp", "registry": "mdns", "server": "mucp", "transport": "http"})
}

/// Registers `nodes` (id, address, metadata) under [`SERVICE`] through the console's API.
async fn register(server: &Server, nodes: &[(&str, String, Value)]) {
    let body = json!({
        "name": SERVICE,
        "version": "latest",
        "nodes": nodes.iter().map(|(id, address, metadata)| json!({"id": id, "address": address, "metadata": metadata})).collect::<Vec<_>>(),
    });
    let response = client()
        .post(server.url("/api/services"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

/// The health object of node `id`, once it has one.
async fn health(server: &Server, id: &str) -> Option<Value> {
    let versions = get_service(server, SERVICE).await?;
    versions.as_array()?.iter().find_map(|version| {
        version["nodes"]
            .as_array()?
            .iter()
            .find(|node| node["id"] == id)
            .and_then(|node| (!node["health"].is_null()).then(|| node.clone()))
    })
}

/// Waits until node `id` is in health `state`; returns the node.
async fn wait_for(server: &Server, id: &str, state: &str) -> Value {
    eventually(Duration::from_secs(10), || async {
        health(server, id)
            .await
            .filter(|node| node["health"]["state"] == state)
    })
    .await
}

#[tokio::test]
async fn every_node_gets_its_health_and_a_killed_peer_turns_unreachable_as_an_event() {
    let healthy = Peer::start(Flavour::V1_18).await;
    let no_debug = Peer::start(Flavour::V1_18NoDebug).await;
    let v5 = Peer::start(Flavour::V5).await;
    let grpc = Peer::start(Flavour::V1_18).await;
    let closed = fake_peer::closed_address().await;
    let server = Server::start(&["--probe-interval", "300ms"]);
    let nodes = [
        ("healthy", healthy.address(), mucp()),
        ("no-debug", no_debug.address(), mucp()),
        (
            "v5",
            v5.address(),
            json!({"server": "mucp", "transport": "http"}),
        ),
        (
            "grpc",
            grpc.address(),
            json!({"server": "grpc", "transport": "grpc"}),
        ),
        ("dead", closed, mucp()),
    ];
    register(&server, &nodes).await;

    let node = wait_for(&server, "healthy", "healthy").await;
    assert_eq!(node["state"], "alive");
    assert_eq!(node["health"]["detail"], "ok");
    assert!(node["health"]["checked_at"].as_u64().unwrap() > 0);
    assert!(node["health"]["latency_ms"].is_u64());
    let node = wait_for(&server, "no-debug", "no-check").await;
    assert_eq!(node["state"], "alive");
    assert!(node["health"]["detail"]
        .as_str()
        .unwrap()
        .contains("can't find service Debug"));
    assert_eq!(wait_for(&server, "v5", "no-check").await["state"], "alive");
    let node = wait_for(&server, "grpc", "unsupported").await;
    assert_eq!(node["state"], "alive", "its address accepts TCP");
    assert_eq!(grpc.requests(), 0, "a grpc node is never sent mucp");
    let node = wait_for(&server, "dead", "unreachable").await;
    assert_eq!(node["state"], "stale");
    assert!(node["health"]["latency_ms"].is_null());

    let (mut socket, _) = tokio_tungstenite::connect_async(server.ws_url("/api/watch"))
        .await
        .unwrap();
    healthy.kill().await;
    let event = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] == "event" && message["service"]["nodes"][0]["id"] == "healthy" {
                return message;
            }
        }
    })
    .await
    .expect("an event within 10 s");
    assert_eq!(event["action"], "update");
    let node = &event["service"]["nodes"][0];
    assert_eq!(node["health"]["state"], "unreachable");
    assert_eq!(node["state"], "stale");
    assert_eq!(
        health(&server, "healthy").await.unwrap()["health"]["state"],
        "unreachable"
    );
}

#[tokio::test]
async fn a_peer_that_comes_back_is_healthy_again() {
    let peer = Peer::start(Flavour::V1_18).await;
    let address: std::net::SocketAddr = peer.address().parse().unwrap();
    let server = Server::start(&["--probe-interval", "200ms"]);
    register(&server, &[("n", address.to_string(), mucp())]).await;
    wait_for(&server, "n", "healthy").await;
    peer.kill().await;
    wait_for(&server, "n", "unreachable").await;
    let _back = Peer::start_on(address, Flavour::V1_18).await;
    let node = wait_for(&server, "n", "healthy").await;
    assert_eq!(node["state"], "alive");
}

/// The first event of `socket` about each node of `wanted` (id, health state) showing it in
/// that state, by node id, whatever order they come in.
async fn health_events<S>(socket: &mut S, wanted: &[(&str, &str)]) -> HashMap<String, Value>
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut seen = HashMap::new();
    let waited = tokio::time::timeout(Duration::from_secs(10), async {
        while seen.len() < wanted.len() {
            let Some(Ok(Message::Text(text))) = socket.next().await else {
                continue;
            };
            let message: Value = serde_json::from_str(&text).unwrap();
            let node = &message["service"]["nodes"][0];
            let wanted = wanted
                .iter()
                .any(|(id, state)| node["id"] == *id && node["health"]["state"] == *state);
            if message["type"] == "event" && wanted {
                let id = node["id"].as_str().unwrap().to_string();
                seen.entry(id).or_insert(message);
            }
        }
    })
    .await;
    assert!(
        waited.is_ok(),
        "of {wanted:?}, only {:?} within 10 s",
        seen.keys()
    );
    seen
}

/// [`SERVICE`]'s health counts on `GET /api/services`, once they equal `expected`.
async fn summary_health(server: &Server, expected: Value) -> Value {
    eventually(Duration::from_secs(10), || async {
        let summaries = common::get_json(server.url("/api/services")).await;
        let health = summaries
            .as_array()?
            .iter()
            .find(|summary| summary["name"] == SERVICE)?["health"]
            .clone();
        (health == expected).then_some(health)
    })
    .await
}

#[tokio::test]
async fn a_node_turning_failing_is_an_event_and_the_services_list_counts_health() {
    let peer = Peer::start(Flavour::V1_18).await;
    let closed = fake_peer::closed_address().await;
    let server = Server::start(&["--probe-interval", "200ms"]);
    let (mut socket, _) = tokio_tungstenite::connect_async(server.ws_url("/api/watch"))
        .await
        .unwrap();
    // The console's own address answers HTTP, but not as go-micro: a failing node.
    let failing = server.addr.to_string();
    register(
        &server,
        &[
            ("ok", peer.address(), mucp()),
            ("bad", failing, mucp()),
            ("dead", closed, mucp()),
        ],
    )
    .await;
    let events = health_events(&mut socket, &[("bad", "failing"), ("dead", "unreachable")]).await;
    let failing = &events["bad"];
    assert_eq!(failing["action"], "update");
    assert_eq!(
        failing["service"]["nodes"][0]["state"], "alive",
        "failing is not stale"
    );
    assert_eq!(events["dead"]["service"]["nodes"][0]["state"], "stale");

    let counts = |healthy: u64, unreachable: u64| json!({"healthy": healthy, "failing": 1, "unreachable": unreachable, "no_check": 0, "unsupported": 0, "unchecked": 0});
    summary_health(&server, counts(1, 1)).await;
    peer.kill().await;
    health_events(&mut socket, &[("ok", "unreachable")]).await;
    summary_health(&server, counts(0, 2)).await;
}
