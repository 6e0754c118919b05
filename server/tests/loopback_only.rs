//! A machine whose only interface is loopback (a container, a laptop offline): the console run
//! as `scripts/run.sh` runs it (no `--interface`) still serves, puts its mDNS registry on `lo`,
//! says so in the log and to every page, and finds the go-micro nodes of the same machine.
//!
//! The host is a network namespace of the test's own with only `lo` up; the go-micro node is
//! the announcement a real go-micro v1.18 peer sent (captured), multicast over `lo` from another
//! socket, as a go-micro service on the same machine sends it.

mod common;

#[path = "../../registry/tests/vectors/mod.rs"]
mod vectors;

use std::net::{Ipv4Addr, SocketAddrV4, UdpSocket};
use std::time::Duration;

use serde_json::Value;
use socket2::SockRef;

use common::netns::{console_ready, skip, url, Lan};
use common::{client, eventually, get_json};

const GREETER: &str = "go.micro.srv.greeter";
const GREETER_NODE: &str = "go.micro.srv.greeter-18015368-48e9-4cb2-9b69-6791349bfdda";

#[test]
fn with_only_loopback_the_default_console_serves_and_finds_local_go_micro_nodes() {
    if skip() {
        return;
    }
    let lan = Lan::new(1);
    lan.unplug(0); // eth0 down: `lo` is the only interface up
    let host = lan.client(0);
    let console = lan.console_choosing_interfaces(0, &["--registry", "mdns"]);
    let announce = vectors::read("gomicro-v1.18/02-announce.bin");
    host.run(async move {
        console_ready().await;
        let session: Value = get_json(url("/api/session")).await;
        assert_eq!(session["registry"], "mdns");
        assert_eq!(session["notice"], "mDNS on loopback only: no LAN interface");

        // go-micro multicasts from an ephemeral socket on the interface it announces on.
        let peer = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        SockRef::from(&peer)
            .set_multicast_if_v4(&Ipv4Addr::LOCALHOST)
            .unwrap();
        let group = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353);
        let node = eventually(Duration::from_secs(15), || {
            peer.send_to(&announce, group).unwrap();
            async {
                let response = client()
                    .get(url(&format!("/api/services/{GREETER}")))
                    .send()
                    .await
                    .ok()?;
                let versions: Value = response.json().await.ok()?;
                versions[0]["nodes"]
                    .as_array()?
                    .iter()
                    .find(|node| node["id"] == GREETER_NODE)
                    .cloned()
            }
        })
        .await;
        assert_eq!(node["address"], "10.77.0.1:50051");
        assert_eq!(node["state"], "alive");
    });
    let log = console.log();
    assert!(
        log.contains("mDNS on loopback only: no LAN interface"),
        "{log}"
    );
}
