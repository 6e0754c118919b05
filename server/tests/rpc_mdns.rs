//! Calls and health over go-micro's RPC to a node found on the LAN: a fake go-micro peer on
//! one host of a private LAN of network namespaces, announced over mDNS by `muster register`
//! there, and the console (`--registry mdns`) and the CLI on another host.

mod common;

use std::process::{Command, Output};
use std::time::Duration;

use common::netns::{console_ready, skip, url, Lan, TOKEN};
use common::{client, eventually, MUSTER};
use muster_rpc::fake_peer::{Flavour, Peer};
use serde_json::{json, Value};

const SERVICE: &str = "go.micro.srv.greeter";
const WAIT: Duration = Duration::from_secs(20);

/// `muster <args>` on host `index` (`--registry mdns --interface eth0`), to completion.
fn muster(lan: &Lan, index: usize, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", lan.ns(index), MUSTER])
        .args(["--registry", "mdns", "--interface", "eth0"])
        .args(args)
        .env("MUSTER_LOG", "warn")
        .output()
        .unwrap()
}

/// The health state of node `id`, once it has one.
async fn health_state(id: &str) -> Option<String> {
    let versions: Value = client()
        .get(url(&format!("/api/services/{SERVICE}")))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    versions.as_array()?.iter().find_map(|version| {
        version["nodes"].as_array()?.iter().find_map(|node| {
            (node["id"] == id).then(|| node["health"]["state"].as_str().map(str::to_string))?
        })
    })
}

#[test]
fn a_node_announced_over_mdns_is_called_and_checked() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (console_host, node_host) = (lan.client(0), lan.client(1));
    let address = format!("{}:8080", Lan::ip(1));
    let listen = address.parse().unwrap();
    let peer = node_host.run(async move { Peer::start_on(listen, Flavour::V1_18).await });
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        json!({
            "name": SERVICE,
            "version": "latest",
            "endpoints": [{"name": "Greeter.Hello", "request": null, "response": null, "metadata": {}}],
            "nodes": [{"id": "greeter-1", "address": address, "metadata": {
                "broker": "http", "protocol": "mucp", "registry": "mdns", "server": "mucp", "transport": "http"
            }}]
        })
        .to_string(),
    )
    .unwrap();
    let _announcer = lan.muster_command(1, &["register", "-f", file.path().to_str().unwrap()]);
    let _console = lan.console(0, &["--registry", "mdns", "--probe-interval", "300ms"]);

    console_host.run(async {
        console_ready().await;
        eventually(WAIT, || async {
            (health_state("greeter-1").await.as_deref() == Some("healthy")).then_some(())
        })
        .await;
        let response = client()
            .post(url(&format!("/api/services/{SERVICE}/call")))
            .bearer_auth(TOKEN)
            .json(&json!({"endpoint": "Greeter.Hello", "request": {"name": "x"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["response"], json!({"msg": "Hello x"}));
        assert_eq!(body["address"], "10.78.0.2:8080");
    });

    let output = muster(
        &lan,
        0,
        &["call", SERVICE, "Greeter.Hello", r#"{"name":"x"}"#],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        r#"{"msg":"Hello x"}"#
    );
    let output = muster(&lan, 0, &["call", SERVICE, "Greeter.Fail"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(r#""detail":"boom""#), "{stderr}");
    let output = muster(&lan, 0, &["health", SERVICE, "--json"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rows: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rows[0]["node"], "greeter-1");
    assert_eq!(rows[0]["state"], "healthy");

    node_host.run(peer.kill());
    console_host.run(async {
        eventually(WAIT, || async {
            (health_state("greeter-1").await.as_deref() == Some("unreachable")).then_some(())
        })
        .await;
    });
    let output = muster(&lan, 0, &["health", SERVICE]);
    assert!(
        !output.status.success(),
        "an unreachable node is exit status 1"
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("unreachable"));
}
