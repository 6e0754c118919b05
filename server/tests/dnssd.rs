//! Standard DNS-SD against an independent implementation (python-zeroconf) on a private LAN of
//! network namespaces (`common/netns.rs`): the console's `_http._tcp` advertisement and its
//! goodbye, `--no-advertise`, the `_micro._tcp` bridge following the registry, the LAN view
//! (`/api/lan`, `/api/lan/watch`), and port 5353 shared with the go-micro engine.
//!
//! Host 0 runs the console, host 1 the peer, host 2 (when there is one) a go-micro node.

mod common;

use std::time::Duration;

use common::netns::{console_ready, register, skip, url, Lan, Peer, CONSOLE_PORT, TOKEN};
use common::{client, eventually, get_json};
use futures::StreamExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

/// How long the LAN may take: mdns-sd probes for ~750 ms before announcing, python-zeroconf
/// browses with backoff; seconds in practice, generous under a loaded machine.
const WAIT: Duration = Duration::from_secs(20);

const HTTP: &str = "_http._tcp.local.";
const MICRO: &str = "_micro._tcp.local.";

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_string()
}

fn advertisement() -> String {
    format!("Muster on {}:{CONSOLE_PORT}.{HTTP}", host_name())
}

/// The TXT pairs of a peer event as (key, value) strings.
fn txt(event: &Value) -> Vec<(String, String)> {
    event["txt"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                pair[0].as_str().unwrap().to_string(),
                pair[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn pair(key: &str, value: &str) -> (String, String) {
    (key.to_string(), value.to_string())
}

fn resolved<'a>(name: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |event| event["event"] == "resolved" && event["name"] == name
}

fn removed<'a>(name: &'a str) -> impl Fn(&Value) -> bool + 'a {
    move |event| event["event"] == "removed" && event["name"] == name
}

fn greeter(metadata: Value) -> Value {
    json!({
        "name": "go.micro.srv.greeter",
        "version": "1.2.0",
        "nodes": [{"id": "go.micro.srv.greeter-7f3a", "address": "10.78.0.3:50051", "metadata": metadata}]
    })
}

async fn lan_snapshot() -> Value {
    get_json(url("/api/lan")).await
}

fn lan_row<'a>(snapshot: &'a Value, fullname: &str) -> Option<&'a Value> {
    snapshot["services"]
        .as_array()?
        .iter()
        .find(|row| row["fullname"] == fullname)
}

#[test]
fn the_peer_resolves_the_console_and_sees_its_goodbye_on_sigterm() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let host0 = lan.client(0);
    let mut console = lan.console(0, &[]);
    host0.run(console_ready());
    let peer = lan.browsing_peer(1, &[HTTP]);
    let name = advertisement();
    let found = peer.expect(WAIT, "the advertisement", resolved(&name));
    assert_eq!(found["port"], CONSOLE_PORT);
    assert_eq!(found["addresses"], json!([Lan::ip(0).to_string()]));
    assert_eq!(
        txt(&found),
        [
            pair("path", "/"),
            pair("version", env!("CARGO_PKG_VERSION"))
        ]
    );
    assert!(console.terminate(), "a clean exit on SIGTERM");
    // The goodbye, not the 120 s TTL: well within the wait.
    peer.expect(WAIT, "the advertisement's goodbye", removed(&name));
}

/// Two consoles on one host share its host name; each must be its own instance on the LAN
/// page of a third console: listed once each, told apart by port, not merged into one row and
/// not repeated per address.
#[test]
fn two_consoles_on_one_host_are_listed_once_each() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let second_port = CONSOLE_PORT + 1;
    let _first = lan.console(0, &["--no-lan"]);
    let _second = lan.console_on_port(0, second_port, &["--no-lan"]);
    let _browsing = lan.console(1, &["--no-advertise"]);
    let rows = lan.client(1).run(async move {
        console_ready().await;
        eventually(WAIT, || async {
            let snapshot = lan_snapshot().await;
            let rows: Vec<Value> = snapshot["services"]
                .as_array()?
                .iter()
                .filter(|row| row["service_type"] == HTTP)
                .cloned()
                .collect();
            (rows.len() >= 2).then_some(rows)
        })
        .await
    });
    // A moment more, for a duplicate (per address, per announcement) to show if there were one.
    std::thread::sleep(Duration::from_secs(2));
    let later = lan
        .client(1)
        .run(async { lan_snapshot().await["services"].clone() });
    let later: Vec<&Value> = later
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["service_type"] == HTTP)
        .collect();
    assert_eq!(later.len(), 2, "{later:#?}");
    let mut ports: Vec<u64> = rows
        .iter()
        .map(|row| row["port"].as_u64().unwrap())
        .collect();
    ports.sort_unstable();
    assert_eq!(ports, [u64::from(CONSOLE_PORT), u64::from(second_port)]);
    for row in later {
        let port = row["port"].as_u64().unwrap();
        assert_eq!(
            row["instance"],
            format!("Muster on {}:{port}", host_name()),
            "{row}"
        );
        // One row holding each of the host's addresses once (its IPv4 one, and the link-local
        // IPv6 one mdns-sd announces too), not a row per address.
        let addresses: Vec<&str> = row["addresses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|address| address.as_str().unwrap())
            .collect();
        assert!(
            addresses.contains(&Lan::ip(0).to_string().as_str()),
            "{row}"
        );
        let mut distinct = addresses.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), addresses.len(), "{row}");
    }
}

#[test]
fn no_advertise_keeps_the_console_off_the_lan() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let host0 = lan.client(0);
    let console = lan.console(0, &["--no-advertise", "--no-lan", "--bridge-dnssd"]);
    let peer = lan.browsing_peer(1, &[HTTP, MICRO]);
    host0.run(async {
        console_ready().await;
        let snapshot = lan_snapshot().await;
        assert_eq!(snapshot["enabled"], false);
        assert!(
            snapshot["reason"].as_str().unwrap().contains("--no-lan"),
            "{snapshot}"
        );
        register(greeter(json!({}))).await;
    });
    // The peer hears this console (the bridged node) ...
    let mirror = format!("go.micro.srv.greeter-7f3a.{MICRO}");
    peer.expect(WAIT, "the bridged node", resolved(&mirror));
    // ... and never its advertisement: that would have been announced first, at start, and
    // answered to the peer's queries since.
    let later = peer.collect(Duration::from_secs(2));
    assert!(
        later.iter().all(|event| event["type"] != HTTP),
        "the peer saw an advertisement: {later:#?}"
    );
    drop(console);
}

#[test]
fn the_bridge_mirrors_nodes_and_follows_updates_and_deregistration() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let host0 = lan.client(0);
    let _console = lan.console(0, &["--bridge-dnssd", "--no-lan"]);
    let peer = lan.browsing_peer(1, &[MICRO]);
    host0.run(async {
        console_ready().await;
        register(greeter(json!({"team": "core", "protocol": "grpc"}))).await;
    });
    // The node id has dots: one label all the same (escaped on the wire).
    let mirror = format!("go.micro.srv.greeter-7f3a.{MICRO}");
    let found = peer.expect(WAIT, "the bridged node", resolved(&mirror));
    assert_eq!(found["port"], 50051);
    assert_eq!(found["addresses"], json!(["10.78.0.3"]));
    // Its own host name (a goodbye for another mirror must not withdraw this one's address).
    let server = found["server"].as_str().unwrap();
    assert!(
        server.starts_with("ip-10-78-0-3-") && server.ends_with(".local."),
        "{server}"
    );
    assert_eq!(
        txt(&found),
        [
            pair("service", "go.micro.srv.greeter"),
            pair("version", "1.2.0"),
            pair("node", "go.micro.srv.greeter-7f3a"),
            pair("protocol", "grpc"),
            pair("team", "core"),
        ]
    );
    // An update (new metadata) is announced again; the peer sees the new TXT.
    host0.run(register(greeter(json!({"team": "edge"}))));
    let updated = peer.expect(WAIT, "the updated TXT", |event| {
        resolved(&mirror)(event) && txt(event).contains(&pair("team", "edge"))
    });
    assert!(!txt(&updated).iter().any(|(key, _)| key == "protocol"));
    // Deregistration: a goodbye.
    host0.run(async {
        let response = client()
            .delete(url(
                "/api/services/go.micro.srv.greeter/nodes/go.micro.srv.greeter-7f3a",
            ))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    });
    peer.expect(WAIT, "the mirror's goodbye", removed(&mirror));
}

/// Reads the next LAN watch message, skipping heartbeats.
async fn next_lan_message(
    socket: &mut (impl StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin),
) -> Value {
    loop {
        let frame = tokio::time::timeout(WAIT, socket.next())
            .await
            .expect("a LAN watch message in time")
            .expect("the socket stays open")
            .unwrap();
        if let Message::Text(text) = frame {
            let message: Value = serde_json::from_str(&text).unwrap();
            if message["type"] != "heartbeat" {
                return message;
            }
        }
    }
}

#[test]
fn a_peer_service_shows_in_the_lan_api_and_watch_until_its_goodbye() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let host0 = lan.client(0);
    let _console = lan.console(0, &["--no-advertise", "--heartbeat-interval", "1s"]);
    let (socket, first) = host0.run(async {
        console_ready().await;
        let (mut socket, _) = tokio_tungstenite::connect_async(format!(
            "ws://127.0.0.1:{CONSOLE_PORT}/api/lan/watch"
        ))
        .await
        .unwrap();
        let first = next_lan_message(&mut socket).await;
        (socket, first)
    });
    assert_eq!(first["type"], "snapshot");
    let mut peer = lan.publishing_peer(
        1,
        "_ipp._tcp.local.",
        "Peer printer",
        631,
        // The last value is not UTF-8: shown lossily, nothing breaks.
        &["rp=queue", "note=grüße", "raw=0xff00fe41"],
    );
    let fullname = "Peer printer._ipp._tcp.local.";
    let socket = host0.run(async move {
        let mut socket = socket;
        let row = eventually(WAIT, || async {
            lan_row(&lan_snapshot().await, fullname).cloned()
        })
        .await;
        assert_eq!(row["service_type"], "_ipp._tcp.local.");
        assert_eq!(row["instance"], "Peer printer");
        assert_eq!(row["host"], "dnssd-peer.local.");
        assert_eq!(row["port"], 631);
        assert_eq!(row["addresses"], json!([Lan::ip(1).to_string()]));
        assert_eq!(
            row["txt"],
            json!([
                ["rp", "queue"],
                ["note", "grüße"],
                ["raw", "\u{fffd}\u{0}\u{fffd}A"]
            ])
        );
        // The websocket said the same, live (a snapshot may come first, when browsing started
        // after the client connected).
        loop {
            let message = next_lan_message(&mut socket).await;
            if message["type"] == "upsert" && message["fullname"] == fullname {
                assert_eq!(message["port"], 631);
                break;
            }
        }
        socket
    });
    peer.close();
    host0.run(async move {
        let mut socket = socket;
        loop {
            let message = next_lan_message(&mut socket).await;
            if message["type"] == "remove" {
                assert_eq!(message["fullname"], fullname);
                break;
            }
        }
        assert!(lan_row(&lan_snapshot().await, fullname).is_none());
        let _ = socket.close(None).await;
    });
}

#[test]
fn the_go_micro_engine_and_mdns_sd_share_port_5353() {
    if skip() {
        return;
    }
    let lan = Lan::new(3);
    let host0 = lan.client(0);
    // The go-micro engine's debug log names every packet it drops.
    let console = lan.console_logging(
        0,
        &["--registry", "mdns", "--bridge-dnssd"],
        "info,muster_registry::mdns=debug",
    );
    host0.run(console_ready());
    let browser = lan.browsing_peer(1, &[MICRO, HTTP]);
    let _printer: Peer = lan.publishing_peer(1, "_ipp._tcp.local.", "Peer printer", 631, &[]);
    // A go-micro-dialect node from another host: the console's go-micro engine hears it.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(
        file.path(),
        json!({
            "name": "go.micro.srv.remote",
            "version": "0.9.0",
            "nodes": [{"id": "remote-1", "address": "10.78.0.3:8080", "metadata": {"zone": "b"}}]
        })
        .to_string(),
    )
    .unwrap();
    let path = file.path().to_str().unwrap().to_string();
    let _node = lan.muster_command(2, &["register", "-f", &path]);
    host0.run(async {
        eventually(WAIT, || async {
            let services: Value = client()
                .get(url("/api/services"))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            services
                .as_array()?
                .iter()
                .any(|s| s["name"] == "go.micro.srv.remote")
                .then_some(())
        })
        .await;
        eventually(WAIT, || async {
            lan_row(&lan_snapshot().await, "Peer printer._ipp._tcp.local.").map(drop)
        })
        .await;
    });
    // mdns-sd, on the same port in the same process, advertises the console and mirrors the
    // node to the peer (in whichever order).
    let (mirror_name, advertised) = (format!("remote-1.{MICRO}"), advertisement());
    let (mut mirror, mut advertisement_seen) = (None, false);
    while mirror.is_none() || !advertisement_seen {
        let event = browser.expect(WAIT, "the bridged node and the advertisement", |event| {
            resolved(&mirror_name)(event) || resolved(&advertised)(event)
        });
        if event["name"] == advertised.as_str() {
            advertisement_seen = true;
        } else {
            mirror = Some(event);
        }
    }
    let mirror = mirror.unwrap();
    assert!(txt(&mirror).contains(&pair("service", "go.micro.srv.remote")));
    assert!(txt(&mirror).contains(&pair("zone", "b")));
    // Neither stack complains about the other's packets, nor counts them as damaged.
    let log = console.log();
    assert!(
        !log.lines()
            .any(|line| line.contains("WARN") || line.contains("ERROR")),
        "warnings in the console's log:\n{log}"
    );
    assert!(
        !log.contains("dropped packet"),
        "the go-micro engine dropped DNS-SD packets as damaged:\n{log}"
    );
}

#[test]
fn without_a_usable_interface_the_console_runs_and_says_why() {
    if skip() {
        return;
    }
    let lan = Lan::new(1);
    lan.unplug(0);
    let host0 = lan.client(0);
    let console = lan.console(0, &["--bridge-dnssd"]);
    host0.run(async {
        console_ready().await;
        let snapshot = lan_snapshot().await;
        assert_eq!(snapshot["enabled"], false);
        let reason = snapshot["reason"].as_str().unwrap();
        assert!(
            reason.contains("could not start") && reason.contains("eth0"),
            "{reason}"
        );
        let services = client().get(url("/api/services")).send().await.unwrap();
        assert_eq!(services.status(), 200);
    });
    assert!(
        console.log().contains("dnssd: not running"),
        "{}",
        console.log()
    );
}
