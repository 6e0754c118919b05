//! The snapshot frame of `/api/watch`: announced by `loading`, deflated on request (`encoding=deflate`, what the browser's feed asks for), and
//! watchers capped by `--max-watchers` with their slots given back.

mod common;

use std::io::Read;
use std::time::Duration;

use common::{client, get_json, service, Server};
use futures::StreamExt;
use serde_json::Value;
use tokio_tungstenite::tungstenite::Message;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A console whose memory registry holds `services` services of 5 nodes each.
fn console_with(services: usize, args: &[&str]) -> (Server, tempfile::NamedTempFile) {
    let seed: Vec<Value> = (0..services)
        .map(|i| {
            let mut body = service(&format!("go.micro.srv.svc{i:04}"), "n0", "10.0.0.1:8080");
            body["nodes"] = (0..5)
                .map(|n| {
                    serde_json::json!({
                        "id": format!("svc{i:04}-{n}"),
                        "address": format!("10.0.{}.{n}:8080", i % 250),
                        "metadata": {"protocol": "grpc", "registry": "mdns", "server": "grpc"}
                    })
                })
                .collect();
            body
        })
        .collect();
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&seed).unwrap()).unwrap();
    let path = file.path().to_string_lossy().into_owned();
    let mut all = vec!["--memory-seed", path.as_str()];
    all.extend_from_slice(args);
    (Server::start(&all), file)
}

/// The `loading` message and the snapshot frame after it, as text (inflated when binary), and
/// the snapshot frame's size on the wire.
async fn first_snapshot(socket: &mut Socket) -> (Value, Value, usize) {
    let mut loading = None;
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(20), socket.next())
            .await
            .expect("a frame within 20 s")
            .expect("open")
            .expect("a frame");
        match frame {
            Message::Text(text) => {
                let message: Value = serde_json::from_str(&text).unwrap();
                if message["type"] == "loading" {
                    loading = Some(message);
                } else if message["type"] == "snapshot" {
                    return (loading.expect("loading first"), message, text.len());
                }
            }
            Message::Binary(bytes) => {
                let mut text = String::new();
                flate2::read::ZlibDecoder::new(bytes.as_ref())
                    .read_to_string(&mut text)
                    .expect("a zlib stream");
                return (
                    loading.expect("loading first"),
                    serde_json::from_str(&text).unwrap(),
                    bytes.len(),
                );
            }
            _ => {}
        }
    }
}

async fn connect(server: &Server, query: &str) -> Socket {
    tokio_tungstenite::connect_async(server.ws_url(&format!("/api/watch{query}")))
        .await
        .expect("a watcher connects")
        .0
}

#[tokio::test]
async fn the_snapshot_is_announced_shared_and_deflated_on_request() {
    for services in [40, 2_000] {
        let (server, _seed) = console_with(services, &[]);
        let mut plain = connect(&server, "").await;
        let (loading, snapshot, plain_bytes) = first_snapshot(&mut plain).await;
        assert_eq!(loading["services"], services as u64);
        assert_eq!(loading["bytes"], plain_bytes as u64);
        let mut deflated = connect(&server, "?encoding=deflate").await;
        let (loading, inflated, deflated_bytes) = first_snapshot(&mut deflated).await;
        assert_eq!(loading["bytes"], deflated_bytes as u64);
        assert_eq!(inflated, snapshot, "the same snapshot, deflated");
        assert!(
            deflated_bytes * 4 < plain_bytes,
            "{deflated_bytes} vs {plain_bytes}"
        );
        eprintln!(
            "snapshot of {services} services × 5 nodes: {plain_bytes} bytes as JSON, \
             {deflated_bytes} deflated ({:.1}×)",
            plain_bytes as f64 / deflated_bytes as f64
        );
        let stats: Value = get_json(server.url("/api/stats")).await;
        assert_eq!(stats["console"]["snapshots_built"], 1, "{stats:#}");
        assert_eq!(stats["console"]["snapshots_shared"], 1, "{stats:#}");
    }
}

#[tokio::test]
async fn watchers_past_the_cap_get_a_503_until_one_leaves() {
    let (server, _seed) = console_with(3, &["--max-watchers", "2"]);
    let mut first = connect(&server, "").await;
    first_snapshot(&mut first).await;
    let mut second = connect(&server, "").await;
    first_snapshot(&mut second).await;
    match tokio_tungstenite::connect_async(server.ws_url("/api/watch")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 503)
        }
        other => panic!("expected a 503, got {other:?}"),
    }
    drop(first);
    common::eventually(Duration::from_secs(10), || async {
        let stats: Value = client()
            .get(server.url("/api/stats"))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        (stats["console"]["watchers"] == 1).then_some(())
    })
    .await;
    let mut third = connect(&server, "").await;
    first_snapshot(&mut third).await;
}

/// The console's resident memory, in bytes.
fn rss(server: &Server) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", server.pid())).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .expect("VmRSS in /proc/<pid>/status");
    kib * 1024
}

#[tokio::test]
async fn watchers_hold_no_copy_of_the_snapshot_they_were_sent() {
    // Through axum's `WebSocket`, each watcher kept a write buffer the size of the largest
    // message it was sent: one snapshot's worth per watcher, for as long as it stayed.
    const WATCHERS: usize = 40;
    let (server, _seed) = console_with(2_000, &["--probe-interval", "0"]);
    let mut first = connect(&server, "").await;
    let (_, _, snapshot_bytes) = first_snapshot(&mut first).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss(&server);
    let mut watchers = Vec::new();
    for _ in 0..WATCHERS {
        let mut watcher = connect(&server, "").await;
        let (_, _, bytes) = first_snapshot(&mut watcher).await;
        assert_eq!(bytes, snapshot_bytes);
        watchers.push(watcher);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let per_watcher = rss(&server).saturating_sub(before) / WATCHERS as u64;
    eprintln!(
        "{WATCHERS} watchers of a {snapshot_bytes}-byte snapshot: {per_watcher} bytes of RSS each"
    );
    assert!(
        per_watcher < snapshot_bytes as u64 / 4,
        "each watcher holds {per_watcher} bytes after a {snapshot_bytes}-byte snapshot"
    );
    let stats: Value = get_json(server.url("/api/stats")).await;
    assert_eq!(stats["console"]["snapshots_built"], 1, "{stats:#}");
}

#[tokio::test]
async fn the_shared_snapshot_frame_is_dropped_seconds_after_it_was_last_sent() {
    // Kept for as long as any watcher stayed, the last frame of a churn outlived it by hours
    // (8 MB for 10,000 nodes); it is for watchers asking at nearly the same time.
    let (server, _seed) = console_with(200, &["--probe-interval", "0"]);
    let mut watcher = connect(&server, "?encoding=deflate").await;
    let (_, _, deflated_bytes) = first_snapshot(&mut watcher).await;
    let stats: Value = get_json(server.url("/api/stats")).await;
    let held = stats["console"]["snapshot_frame_bytes"].as_u64().unwrap();
    assert!(
        held > deflated_bytes as u64 * 4,
        "the frame holds the text and the {deflated_bytes} deflated bytes: {stats:#}"
    );
    // Still watching, nothing sent since: dropped after frames::SNAPSHOT_KEEP (5 s).
    let started = std::time::Instant::now();
    common::eventually(Duration::from_secs(15), || async {
        let stats: Value = get_json(server.url("/api/stats")).await;
        (stats["console"]["snapshot_frame_bytes"] == 0).then_some(())
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "dropped after {:?}, before anyone could share it",
        started.elapsed()
    );
    let stats: Value = get_json(server.url("/api/stats")).await;
    assert_eq!(stats["console"]["watchers"], 1, "{stats:#}");
    // The next watcher gets a frame built again, with the same content.
    let mut next = connect(&server, "?encoding=deflate").await;
    let (_, _, again) = first_snapshot(&mut next).await;
    assert_eq!(again, deflated_bytes);
    let stats: Value = get_json(server.url("/api/stats")).await;
    assert_eq!(stats["console"]["snapshots_built"], 2, "{stats:#}");
}
