//! Bulk evict and the event feed of the real binary: `POST /api/evict-stale` evicts exactly
//! the listed nodes that are still stale (one that recovered in between is kept), under the
//! same access rules as a single evict; `GET /api/events` says why and who, and exports NDJSON.

mod common;

use std::net::TcpListener;
use std::time::Duration;

use common::{client, eventually, get_json, node_state, service, Server};
use serde_json::{json, Value};

const TOKEN: &str = "s3cret-admin-token-0042";

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A console seeded with foreign nodes `go.micro.srv.bulk` `a`, `b` and `c` at `ports`, probed
/// every 300 ms (TCP: their metadata says grpc), so a closed port makes a node stale.
fn console(ports: [u16; 3], extra: &[&str]) -> (Server, tempfile::NamedTempFile) {
    let seed = tempfile::NamedTempFile::new().unwrap();
    let nodes: Vec<Value> = ["a", "b", "c"]
        .iter()
        .zip(ports)
        .map(|(id, port)| service("go.micro.srv.bulk", id, &format!("127.0.0.1:{port}")))
        .collect();
    std::fs::write(seed.path(), Value::Array(nodes).to_string()).unwrap();
    let mut args = vec![
        "--probe-interval",
        "300ms",
        "--memory-seed",
        seed.path().to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    (Server::start(&args), seed)
}

async fn wait_state(server: &Server, id: &str, want: &str) {
    eventually(Duration::from_secs(10), || async {
        (node_state(server, "go.micro.srv.bulk", id).await.as_deref() == Some(want)).then_some(())
    })
    .await;
}

fn listed(ids_ports: &[(&str, u16)]) -> Value {
    let nodes: Vec<Value> = ids_ports
        .iter()
        .map(|(id, port)| {
            json!({"service": "go.micro.srv.bulk", "version": "1.0.0", "node": id,
                   "address": format!("127.0.0.1:{port}")})
        })
        .collect();
    json!({ "nodes": nodes })
}

fn ids(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|node| node["node"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn only_the_listed_nodes_still_stale_are_evicted() {
    let (a, b) = (closed_port(), closed_port());
    // `c` listens: alive throughout, and not listed.
    let alive = TcpListener::bind("127.0.0.1:0").unwrap();
    let c = alive.local_addr().unwrap().port();
    let (server, _seed) = console([a, b, c], &[]);
    wait_state(&server, "a", "stale").await;
    wait_state(&server, "b", "stale").await;
    wait_state(&server, "c", "alive").await;

    // The operator saw a and b stale; b comes back before the confirmation arrives.
    let _b_back = TcpListener::bind(("127.0.0.1", b)).unwrap();
    wait_state(&server, "b", "alive").await;
    let answer = evict_stale(&server, &listed(&[("a", a), ("b", b), ("gone", 1)])).await;
    assert_eq!(ids(&answer["evicted"]), ["a"]);
    assert_eq!(ids(&answer["kept"]), ["b", "gone"]);
    assert_eq!(answer["kept"][0]["reason"], "alive again");
    assert_eq!(
        node_state(&server, "go.micro.srv.bulk", "a")
            .await
            .as_deref(),
        Some("evicted")
    );
    assert_eq!(
        node_state(&server, "go.micro.srv.bulk", "b")
            .await
            .as_deref(),
        Some("alive")
    );
    assert_eq!(
        node_state(&server, "go.micro.srv.bulk", "c")
            .await
            .as_deref(),
        Some("alive")
    );

    // A listed address that is no longer the node's: another registration, kept.
    let moved = evict_stale(&server, &listed(&[("c", c + 1)])).await;
    assert!(moved["evicted"].as_array().unwrap().is_empty());
    assert!(moved["kept"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("another registration"));

    // The feed says why and who: the evict names this console's local user.
    let events = get_json(server.url("/api/events?service=go.micro.srv.bulk&action=delete")).await;
    let evicted = &events.as_array().unwrap()[0];
    assert_eq!(evicted["service"]["nodes"][0]["id"], "a");
    assert_eq!(evicted["reason"]["kind"], "evicted");
    assert!(evicted["actor"]
        .as_str()
        .unwrap()
        .starts_with("local user (127.0.0.1"));
    let stale = get_json(server.url("/api/events?q=127.0.0.1&action=update")).await;
    assert!(stale
        .as_array()
        .unwrap()
        .iter()
        .any(|event| event["reason"]["kind"] == "health"
            && event["reason"]["state"] == "unsupported"));

    // NDJSON: one event per line, the same filtered list, as a download.
    let response = client()
        .get(server.url("/api/events?format=ndjson&service=go.micro.srv.bulk&action=delete"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "application/x-ndjson");
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let text = response.text().await.unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(lines, *events.as_array().unwrap());
}

#[tokio::test]
async fn bulk_evict_needs_what_a_single_evict_needs() {
    let (a, b, c) = (closed_port(), closed_port(), closed_port());
    let (server, _seed) = console([a, b, c], &["--admin-token", TOKEN]);
    wait_state(&server, "a", "stale").await;
    let body = listed(&[("a", a)]);
    let refused = client()
        .post(server.url("/api/evict-stale"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    let foreign_origin = client()
        .post(server.url("/api/evict-stale"))
        .bearer_auth(TOKEN)
        .header("origin", "http://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(foreign_origin.status(), 403);
    assert_eq!(
        node_state(&server, "go.micro.srv.bulk", "a")
            .await
            .as_deref(),
        Some("stale")
    );

    let answer: Value = client()
        .post(server.url("/api/evict-stale"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&answer["evicted"]), ["a"]);
    let events = get_json(server.url("/api/events?service=go.micro.srv.bulk&action=delete")).await;
    assert!(events[0]["actor"]
        .as_str()
        .unwrap()
        .starts_with("admin token ("));
}

/// `POST /api/evict-stale` from loopback with `body`; the answer's JSON.
async fn evict_stale(server: &Server, body: &Value) -> Value {
    client()
        .post(server.url("/api/evict-stale"))
        .json(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}
