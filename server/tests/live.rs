//! The live side of the real binary: the watch websocket (snapshot, sequenced events, replay
//! after reconnect, heartbeats), node states over time (probe, TTL, tombstones), and the
//! registrations the console keeps across a crash.

mod common;

use std::time::Duration;

use common::{client, eventually, get_json, get_service, node_state, register, service, Server};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(server: &Server, path: &str) -> Socket {
    let (socket, _) = tokio_tungstenite::connect_async(server.ws_url(path))
        .await
        .expect("websocket connects");
    socket
}

/// The next JSON message (pings and pongs skipped). A snapshot comes right after the
/// `loading` message that announces its size, which is skipped too.
async fn next_message(socket: &mut Socket) -> Value {
    let mut announced = None;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket stays open")
            .expect("a frame");
        if let Message::Text(text) = frame {
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] == "loading" {
                announced = message["bytes"].as_u64();
                continue;
            }
            if message["type"] == "snapshot" {
                assert_eq!(
                    announced,
                    Some(text.len() as u64),
                    "loading announces the snapshot"
                );
            }
            return message;
        }
    }
}

/// The next message that is not a heartbeat.
async fn next_change(socket: &mut Socket) -> Value {
    loop {
        let message = next_message(socket).await;
        if message["type"] != "heartbeat" {
            return message;
        }
    }
}

#[tokio::test]
async fn watch_snapshot_events_and_replay() {
    let server = Server::start(&["--probe-interval", "0"]);
    let mut socket = connect(&server, "/api/watch").await;
    let snapshot = next_message(&mut socket).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["services"], json!([]));
    let base = snapshot["seq"].as_u64().unwrap();

    register(&server, service("greeter", "greeter-1", "127.0.0.1:50051")).await;
    let event = next_change(&mut socket).await;
    assert_eq!(event["type"], "event");
    assert_eq!(event["seq"], base + 1);
    assert_eq!(event["action"], "create");
    assert_eq!(event["service"]["name"], "greeter");
    assert_eq!(event["service"]["nodes"][0]["id"], "greeter-1");
    assert_eq!(event["service"]["nodes"][0]["state"], "alive");

    register(&server, service("greeter", "greeter-2", "127.0.0.1:50052")).await;
    assert_eq!(next_change(&mut socket).await["seq"], base + 2);
    socket.close(None).await.unwrap();

    // Missed while away: replayed, in order, without a snapshot.
    register(&server, service("greeter", "greeter-3", "127.0.0.1:50053")).await;
    let response = client()
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let mut socket = connect(&server, &format!("/api/watch?since={}", base + 2)).await;
    let replayed = next_change(&mut socket).await;
    assert_eq!(replayed["type"], "event");
    assert_eq!(replayed["seq"], base + 3);
    assert_eq!(replayed["service"]["nodes"][0]["id"], "greeter-3");
    let replayed = next_change(&mut socket).await;
    assert_eq!(replayed["seq"], base + 4);
    assert_eq!(replayed["action"], "delete");
    assert_eq!(replayed["service"]["nodes"][0]["state"], "deregistered");
    // ...and live events continue after the replay.
    register(&server, service("greeter", "greeter-4", "127.0.0.1:50054")).await;
    assert_eq!(next_change(&mut socket).await["seq"], base + 5);

    // Up to date: an acknowledging heartbeat, no snapshot.
    let mut socket = connect(&server, &format!("/api/watch?since={}", base + 5)).await;
    let ack = next_message(&mut socket).await;
    assert_eq!(ack, json!({"type": "heartbeat", "seq": base + 5}));

    // A sequence number this run never issued (an earlier run's): a fresh snapshot.
    let mut socket = connect(&server, "/api/watch?since=3").await;
    let snapshot = next_message(&mut socket).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["seq"], base + 5);
    let nodes = snapshot["services"][0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 4, "tombstones included");
    assert_eq!(snapshot["recent"].as_array().unwrap().len(), 5);

    // Bad input on the websocket route is a JSON 400.
    let response = client()
        .get(server.url("/api/watch?since=abc"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = client().get(server.url("/api/watch")).send().await.unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.json::<Value>().await.unwrap()["error"].is_string());
}

#[tokio::test]
async fn watch_heartbeats_and_origin_check() {
    let server = Server::start(&["--heartbeat-interval", "200ms"]);
    let mut socket = connect(&server, "/api/watch").await;
    let snapshot = next_message(&mut socket).await;
    let seq = snapshot["seq"].clone();
    let beat = next_message(&mut socket).await;
    assert_eq!(beat, json!({"type": "heartbeat", "seq": seq}));
    // Answering keeps the connection: still beating after several intervals.
    for _ in 0..6 {
        socket.send(Message::Text("{}".into())).await.unwrap();
        assert_eq!(next_message(&mut socket).await["type"], "heartbeat");
    }

    let mut request = server.ws_url("/api/watch").into_client_request().unwrap();
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    let refused = tokio_tungstenite::connect_async(request).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!("expected a 403, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_node_turns_stale() {
    let server = Server::start(&["--probe-interval", "1"]);
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let open = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let open_port = open.local_addr().unwrap().port();
    register(
        &server,
        service("gone", "gone-1", &format!("127.0.0.1:{closed_port}")),
    )
    .await;
    register(
        &server,
        service("here", "here-1", &format!("127.0.0.1:{open_port}")),
    )
    .await;
    assert_eq!(
        node_state(&server, "gone", "gone-1").await.unwrap(),
        "alive"
    );
    eventually(Duration::from_secs(8), || async {
        (node_state(&server, "gone", "gone-1").await? == "stale").then_some(())
    })
    .await;
    assert_eq!(
        node_state(&server, "here", "here-1").await.unwrap(),
        "alive"
    );
    let list: Value = get_json(server.url("/api/services")).await;
    assert_eq!(list[0]["name"], "gone");
    assert_eq!(list[0]["nodes"]["stale"], 1);
}

#[tokio::test]
async fn tombstones_are_purged_after_their_ttl() {
    let seed = tempfile::NamedTempFile::new().unwrap();
    let mut short_lived = service("legacy", "legacy-1", "127.0.0.1:40000");
    short_lived["ttl"] = json!(2);
    std::fs::write(seed.path(), json!([short_lived]).to_string()).unwrap();
    let server = Server::start(&[
        "--probe-interval",
        "0",
        "--tombstone-ttl",
        "2s",
        "--memory-seed",
        seed.path().to_str().unwrap(),
    ]);
    register(&server, service("greeter", "greeter-1", "127.0.0.1:50051")).await;
    let response = client()
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert_eq!(
        node_state(&server, "greeter", "greeter-1").await.unwrap(),
        "deregistered"
    );

    // The seeded node nobody refreshes: stale once it missed its refresh, then expired.
    eventually(Duration::from_secs(5), || async {
        (node_state(&server, "legacy", "legacy-1").await? == "stale").then_some(())
    })
    .await;
    eventually(Duration::from_secs(5), || async {
        (node_state(&server, "legacy", "legacy-1").await? == "expired").then_some(())
    })
    .await;

    // Both tombstones disappear after --tombstone-ttl, and so do their services.
    eventually(Duration::from_secs(6), || async {
        (get_service(&server, "greeter").await.is_none()
            && get_service(&server, "legacy").await.is_none())
        .then_some(())
    })
    .await;
}

#[tokio::test]
async fn purge_is_an_event() {
    let server = Server::start(&["--probe-interval", "0", "--tombstone-ttl", "500ms"]);
    let mut socket = connect(&server, "/api/watch").await;
    next_message(&mut socket).await;
    register(&server, service("greeter", "greeter-1", "127.0.0.1:50051")).await;
    assert_eq!(next_change(&mut socket).await["action"], "create");
    client()
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .send()
        .await
        .unwrap();
    let gone = next_change(&mut socket).await;
    assert_eq!(
        (gone["action"].as_str(), gone["purged"].as_bool()),
        (Some("delete"), Some(false))
    );
    let purged = next_change(&mut socket).await;
    assert_eq!(purged["action"], "delete");
    assert_eq!(purged["purged"], true);
    assert_eq!(purged["seq"], gone["seq"].as_u64().unwrap() + 1);
}

#[tokio::test]
async fn registrations_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let listen = ([127, 0, 0, 1], 0).into();
    let mut server = Server::start_with(listen, dir.path(), &["--probe-interval", "0"]);
    let mut kept = service("greeter", "greeter-1", "127.0.0.1:50051");
    kept["ttl"] = json!(30);
    register(&server, kept).await;
    register(&server, service("greeter", "greeter-2", "127.0.0.1:50052")).await;
    let response = client()
        .delete(server.url("/api/services/greeter/nodes/greeter-2"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    // SIGKILL right after the answers: what was acknowledged must already be on disk.
    server.kill();
    assert!(dir.path().join("registrations.redb").is_file());

    let server = Server::start_with(listen, dir.path(), &["--probe-interval", "0"]);
    let versions = get_service(&server, "greeter")
        .await
        .expect("re-registered");
    let nodes = versions[0]["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1);
    assert_eq!(nodes[0]["id"], "greeter-1");
    assert_eq!(nodes[0]["owned"], true);
    assert_eq!(nodes[0]["state"], "alive");
    // Still ours: it can be deregistered, and then stays gone after another restart.
    let response = client()
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    drop(server);
    let server = Server::start_with(listen, dir.path(), &["--probe-interval", "0"]);
    assert!(get_service(&server, "greeter").await.is_none());
}

#[tokio::test]
async fn sigterm_is_a_clean_exit() {
    let mut server = Server::start(&[]);
    let _socket = connect(&server, "/api/watch").await;
    assert!(server.terminate(), "exit status 0 with a websocket open");
}

#[tokio::test]
async fn corrupt_state_file_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("registrations.json"), "{oops").unwrap();
    let output = std::process::Command::new(common::MUSTER)
        .args([
            "--registry",
            "memory",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("registrations.json"), "{stderr}");
}

#[tokio::test]
async fn a_burst_reaches_the_client_without_gaps() {
    let server = Server::start(&["--probe-interval", "0"]);
    let mut socket = connect(&server, "/api/watch").await;
    let snapshot = next_message(&mut socket).await;
    let mut last_seq = snapshot["seq"].as_u64().unwrap();
    // Five registrations of 1000 nodes: 5000 events broadcast at once, more than a client may
    // fall behind (4096). A client that keeps up gets every event; one that falls behind gets
    // a snapshot instead of the lost ones. Either way: no silent gap, and it ends complete.
    for batch in 0..5 {
        let mut body = service(&format!("big{batch}"), "big-0", "127.0.0.1:1");
        body["nodes"] = (0..1000)
            .map(|i| json!({"id": format!("big-{i}"), "address": format!("127.0.0.1:{}", i + 1)}))
            .collect();
        register(&server, body).await;
    }
    let node_key = |service: &Value, node: &Value| {
        format!(
            "{}/{}",
            service["name"].as_str().unwrap(),
            node["id"].as_str().unwrap()
        )
    };
    let mut known = std::collections::BTreeSet::new();
    while known.len() < 5000 {
        let message = next_change(&mut socket).await;
        let seq = message["seq"].as_u64().unwrap();
        if message["type"] == "snapshot" {
            assert!(seq >= last_seq);
            known = message["services"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|service| {
                    let nodes = service["nodes"].as_array().unwrap();
                    nodes.iter().map(|node| node_key(service, node))
                })
                .collect();
        } else {
            assert_eq!(seq, last_seq + 1, "events follow each other without gaps");
            known.insert(node_key(
                &message["service"],
                &message["service"]["nodes"][0],
            ));
        }
        last_seq = seq;
    }
}
