//! Node health in the real binary: `Debug.Health` of fake go-micro peers (real sockets)
//! registered in its memory registry, every `--probe-interval`; the states in
//! `/api/services/{name}` and the watch websocket, and the transitions as events.

mod common;

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
