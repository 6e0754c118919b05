//! The console on a real 3-member etcd cluster on loopback, as issue 18 tried it: one member
//! down (the leader) changes nothing; two down is a prompt 503 with `Retry-After` and a plain
//! message, `/readyz` says the same while `/healthz` stays 200; and as soon as etcd has a
//! leader again, the first registration succeeds.

#[path = "../../registry/tests/etcd_support/mod.rs"]
mod etcd_support;

mod common;

use std::time::{Duration, Instant};

use common::{client, service, Server};
use etcd_support::Cluster;
use reqwest::StatusCode;
use serde_json::Value;

/// Longest a request may take during the outage: the registry's 5 s timeout and the member
/// count of the message (one status request per member, a second at most, concurrently).
const OUTAGE_BOUND: Duration = Duration::from_secs(8);

/// Longest `/readyz` may take during the outage: its own 2 s read and the member count (a
/// readiness probe must answer well before a load balancer's or the badge's next poll).
const READY_BOUND: Duration = Duration::from_millis(3500);

/// `POST /api/services` of one node; the status, the `Retry-After` header and the body.
async fn register(server: &Server, id: &str) -> (StatusCode, Option<String>, Value) {
    let response = client()
        .post(server.url("/api/services"))
        .json(&service("go.micro.srv.clustered", id, "127.0.0.1:50300"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|value| value.to_str().unwrap().to_string());
    (status, retry_after, response.json().await.unwrap())
}

async fn get(server: &Server, path: &str) -> (StatusCode, Value) {
    let response = client().get(server.url(path)).send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&body).unwrap_or(Value::String(body)),
    )
}

#[tokio::test]
async fn member_loss_quorum_loss_and_recovery_through_the_console() {
    let Some(mut cluster) = Cluster::start().await else {
        return;
    };
    let endpoints = cluster.endpoints().join(",");
    let server = Server::start(&[
        "--registry",
        "etcd",
        "--registry-address",
        &endpoints,
        "--probe-interval",
        "0",
    ]);
    let (status, ready) = get(&server, "/readyz").await;
    assert_eq!(status, StatusCode::OK, "{ready}");
    assert_eq!(ready["ready"], true);
    assert_eq!(register(&server, "before").await.0, StatusCode::CREATED);

    // The leader down: once the others elected a new one, every request works.
    let leader = cluster.leader().await;
    cluster.members[leader].kill();
    let new_leader = cluster.leader().await;
    for id in ["one-down-1", "one-down-2", "one-down-3"] {
        let (status, _, body) = register(&server, id).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    assert_eq!(get(&server, "/readyz").await.0, StatusCode::OK);

    // A second member down: 503, Retry-After, and a message that says what is wrong.
    let second = (0..3).find(|&i| i != leader && i != new_leader).unwrap();
    cluster.members[second].kill();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let started = Instant::now();
        let (status, retry_after, body) = register(&server, "during-outage").await;
        let took = started.elapsed();
        assert!(
            took <= OUTAGE_BOUND,
            "a request took {took:?} during the outage"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE
            && body["error"] == "etcd has no quorum (2 of 3 members down)"
        {
            assert_eq!(retry_after.as_deref(), Some("2"));
            break;
        }
        assert!(
            matches!(
                status,
                StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
            ),
            "{status}: {body}"
        );
        assert!(
            Instant::now() < deadline,
            "never reported no quorum: {status} {body}"
        );
    }
    let started = Instant::now();
    let (status, ready) = get(&server, "/readyz").await;
    let took = started.elapsed();
    assert!(took <= READY_BOUND, "/readyz took {took:?} without quorum");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready["ready"], false);
    assert_eq!(ready["message"], "etcd has no quorum (2 of 3 members down)");
    assert_eq!(
        get(&server, "/healthz").await.0,
        StatusCode::OK,
        "liveness is not readiness"
    );

    // Quorum back: the first request after etcd has a leader again succeeds.
    cluster.restart(second).await;
    cluster.leader().await;
    let (status, _, body) = register(&server, "after").await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    common::eventually(Duration::from_secs(5), || async {
        (get(&server, "/readyz").await.0 == StatusCode::OK).then_some(())
    })
    .await;
}
