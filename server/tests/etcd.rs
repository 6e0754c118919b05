//! Console and CLI against a real etcd (skipped when the `etcd` binary is not installed):
//! what one `muster` process registers, another sees; the console tells its own nodes from
//! foreign ones, evicts foreign ones, and the CLI round-trips through the shared store.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{client, eventually, get_json, get_service, node_state, service, Server, MUSTER};
use serde_json::Value;

struct Etcd {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Drop for Etcd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A single-member etcd on free loopback ports, or `None` without the binary.
fn etcd() -> Option<Etcd> {
    if Command::new("etcd").arg("--version").output().is_err() {
        eprintln!("etcd not installed: skipping");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let (client_port, peer_port) = (free_port(), free_port());
    let client_url = format!("http://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let child = Command::new("etcd")
        .arg("--name=muster-server-test")
        .arg(format!("--data-dir={}", dir.path().join("data").display()))
        .arg(format!("--listen-client-urls={client_url}"))
        .arg(format!("--advertise-client-urls={client_url}"))
        .arg(format!("--listen-peer-urls={peer_url}"))
        .arg(format!("--initial-advertise-peer-urls={peer_url}"))
        .arg(format!("--initial-cluster=muster-server-test={peer_url}"))
        .arg("--log-level=error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let etcd = Etcd {
        child,
        endpoint: format!("127.0.0.1:{client_port}"),
        _dir: dir,
    };
    // Ready when `muster services` can list (etcd answers, with a leader).
    for _ in 0..100 {
        if cli(&etcd, &["services", "--json"]).status.success() {
            return Some(etcd);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("etcd did not become ready");
}

fn cli(etcd: &Etcd, args: &[&str]) -> std::process::Output {
    Command::new(MUSTER)
        .args(["--registry", "etcd", "--registry-address", &etcd.endpoint])
        .args(args)
        .env("MUSTER_LOG", "error")
        .output()
        .unwrap()
}

#[tokio::test]
async fn console_and_cli_share_an_etcd_registry() {
    let Some(etcd) = etcd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        ([127, 0, 0, 1], 0).into(),
        dir.path(),
        &[
            "--registry",
            "etcd",
            "--registry-address",
            &etcd.endpoint,
            "--probe-interval",
            "0",
        ],
    );
    let session: Value = get_json(server.url("/api/session")).await;
    assert_eq!(session["registry"], "etcd");

    // Another process (the CLI) registers: the console sees a foreign node.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        service("legacy", "legacy-1", "127.0.0.1:40000").to_string(),
    )
    .unwrap();
    let mut registrar = Command::new(MUSTER)
        .args(["--registry", "etcd", "--registry-address", &etcd.endpoint])
        .args(["register", "--json", "--ttl", "10s", "-f"])
        .arg(file.path())
        .env("MUSTER_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(registrar.stdout.take().unwrap()).lines();
    let registered: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(registered["registered"]["name"], "legacy");
    eventually(Duration::from_secs(10), || async {
        (node_state(&server, "legacy", "legacy-1").await? == "alive").then_some(())
    })
    .await;
    let versions = get_service(&server, "legacy").await.unwrap();
    assert_eq!(versions[0]["nodes"][0]["owned"], false);
    let conflict = client()
        .delete(server.url("/api/services/legacy/nodes/legacy-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(conflict.status(), 409);

    // The console registers: the CLI reads it back from etcd.
    let response = client()
        .post(server.url("/api/services"))
        .json(&service("greeter", "greeter-1", "127.0.0.1:50051"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let output = cli(&etcd, &["service", "greeter", "--json"]);
    assert!(output.status.success());
    let versions: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(versions[0]["nodes"][0]["id"], "greeter-1");
    let output = cli(&etcd, &["services"]);
    let table = String::from_utf8_lossy(&output.stdout);
    assert!(
        table.contains("greeter") && table.contains("legacy"),
        "{table}"
    );

    // The CLI's registration ends with its process: deregistered, seen by the console.
    Command::new("kill")
        .args(["-INT", &registrar.id().to_string()])
        .status()
        .unwrap();
    assert!(registrar.wait().unwrap().success());
    eventually(Duration::from_secs(10), || async {
        (node_state(&server, "legacy", "legacy-1").await? == "deregistered").then_some(())
    })
    .await;

    // The console's own node is deregistered through the console; the CLI sees it gone.
    let response = client()
        .delete(server.url("/api/services/greeter/nodes/greeter-1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    let output = cli(&etcd, &["service", "greeter"]);
    assert!(!output.status.success(), "gone from etcd");
}

#[tokio::test]
async fn console_evicts_a_foreign_etcd_node() {
    let Some(etcd) = etcd() else { return };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        service("crashed", "crashed-1", "127.0.0.1:40001").to_string(),
    )
    .unwrap();
    // Registered without a TTL by a process that is gone: only an eviction removes it.
    let mut registrar = Command::new(MUSTER)
        .args(["--registry", "etcd", "--registry-address", &etcd.endpoint])
        .args(["register", "-f"])
        .arg(file.path())
        .env("MUSTER_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(registrar.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    registrar.kill().unwrap();
    registrar.wait().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        ([127, 0, 0, 1], 0).into(),
        dir.path(),
        &["--registry", "etcd", "--registry-address", &etcd.endpoint],
    );
    assert_eq!(
        node_state(&server, "crashed", "crashed-1").await.as_deref(),
        Some("alive"),
        "loaded at start"
    );
    let response = client()
        .post(server.url("/api/services/crashed/nodes/crashed-1/evict"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        node_state(&server, "crashed", "crashed-1").await.as_deref(),
        Some("evicted")
    );
    assert!(!cli(&etcd, &["service", "crashed"]).status.success());
}

/// A go-micro node on etcd whose owner dies: its lease runs out, and the console shows an
/// expiry (with the lease's TTL), not a deregistration; while it lived, `expires_at` came
/// from its lease.
#[tokio::test]
async fn a_lapsed_etcd_lease_is_an_expiry_with_its_ttl() {
    let Some(etcd) = etcd() else { return };
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_with(
        ([127, 0, 0, 1], 0).into(),
        dir.path(),
        &["--registry", "etcd", "--registry-address", &etcd.endpoint],
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        service("leased", "leased-1", "127.0.0.1:40001").to_string(),
    )
    .unwrap();
    let mut owner = Command::new(MUSTER)
        .args(["--registry", "etcd", "--registry-address", &etcd.endpoint])
        .args(["register", "--json", "--ttl", "3s", "-f"])
        .arg(file.path())
        .env("MUSTER_LOG", "error")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(owner.stdout.take().unwrap()).lines();
    lines.next().unwrap().unwrap();
    let node = eventually(Duration::from_secs(10), || async {
        let versions = get_service(&server, "leased").await?;
        let node = versions[0]["nodes"][0].clone();
        (node["state"] == "alive").then_some(node)
    })
    .await;
    let expires_at = node["expires_at"]
        .as_u64()
        .expect("expires_at from the lease");
    let first_seen = node["first_seen"].as_u64().unwrap();
    assert!(
        (first_seen..=first_seen + 4_000).contains(&expires_at),
        "{node}"
    );

    // Killed: no deregister, nobody keeps the lease alive.
    owner.kill().unwrap();
    owner.wait().unwrap();
    eventually(Duration::from_secs(15), || async {
        (node_state(&server, "leased", "leased-1").await? == "expired").then_some(())
    })
    .await;
    let events: Value = get_json(server.url("/api/events?service=leased&action=delete")).await;
    assert_eq!(
        events[0]["reason"],
        serde_json::json!({"kind": "expired", "ttl_secs": 3})
    );
}
