//! A node's kept health-check connection against the fake go-micro v1.18 peer (real
//! sockets): reused while the node answers, closed when it does not.

use std::time::Duration;

use muster_rpc::fake_peer::{Flavour, Peer};
use muster_rpc::kept::check_kept;
use muster_rpc::HealthState;

const TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test]
async fn one_connection_carries_every_check_of_a_node() {
    let peer = Peer::start(Flavour::V1_18).await;
    let (health, kept) = check_kept("svc", &peer.address(), TIMEOUT, None).await;
    assert_eq!(health.state, HealthState::Healthy);
    let mut kept = kept.expect("kept after a whole reply");
    for _ in 0..5 {
        let (health, again) = check_kept("svc", &peer.address(), TIMEOUT, Some(kept)).await;
        assert_eq!(health.state, HealthState::Healthy, "{}", health.detail);
        kept = again.expect("still kept");
    }
    assert_eq!(peer.requests(), 6);
    assert_eq!(peer.connections(), 1, "one connection for six checks");
}

#[tokio::test]
async fn a_node_without_debug_keeps_its_connection_and_a_dead_one_loses_it() {
    let peer = Peer::start(Flavour::V1_18NoDebug).await;
    let (health, kept) = check_kept("svc", &peer.address(), TIMEOUT, None).await;
    assert_eq!(health.state, HealthState::NoCheck);
    assert!(kept.is_some(), "a go-micro error is a whole reply");

    let address = peer.address();
    peer.kill().await;
    let (health, kept) = check_kept("svc", &address, TIMEOUT, kept).await;
    assert_eq!(health.state, HealthState::Unreachable, "{}", health.detail);
    assert!(kept.is_none());
    let _back = Peer::start_on(address.parse().unwrap(), Flavour::V1_18).await;
    let (health, kept) = check_kept("svc", &address, TIMEOUT, kept).await;
    assert_eq!(health.state, HealthState::Healthy);
    assert!(kept.is_some());
}

#[tokio::test]
async fn a_mute_node_times_out_and_its_connection_is_closed() {
    let peer = Peer::start(Flavour::Mute).await;
    let timeout = Duration::from_millis(200);
    let (health, kept) = check_kept("svc", &peer.address(), timeout, None).await;
    assert_eq!(health.state, HealthState::Unreachable);
    assert!(kept.is_none());
}
