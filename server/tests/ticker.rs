//! Time passing in the real binary: the ticker sleeps until something is due (an owned
//! node's refresh, a node's stale deadline, a tombstone's purge), so an idle console does
//! not wake at all, and a deadline still comes on time.

mod common;

use std::time::Duration;

use common::{client, eventually, get_json, node_state, register, service, Server};
use serde_json::{json, Value};

async fn wakes(server: &Server) -> u64 {
    let stats: Value = get_json(server.url("/api/stats")).await;
    stats["console"]["ticker_wakes"]
        .as_u64()
        .unwrap_or_else(|| panic!("ticker_wakes in {stats:#}"))
}

#[tokio::test]
async fn an_idle_console_does_not_wake_and_a_deadline_still_comes() {
    let server = Server::start(&["--probe-interval", "0", "--tombstone-ttl", "2s"]);
    // Nodes without a TTL: nothing of theirs ever comes due.
    for i in 0..20 {
        register(&server, service(&format!("svc{i}"), "n1", "10.0.0.1:1")).await;
    }
    let before = wakes(&server).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let idle = wakes(&server).await - before;
    assert_eq!(idle, 0, "the ticker woke {idle} times with nothing due");

    // A node with a TTL: the ticker wakes for its refreshes (every third of the TTL) and
    // for nothing else.
    let mut short = service("short", "s1", "10.0.0.2:1");
    short["ttl"] = json!(3);
    register(&server, short).await;
    // The registration itself wakes the ticker, up to twice (its commit queues a stale
    // deadline sooner than the ticker's plan, and the register nudges for the refresh);
    // those wakes may land after the 201. Let them pass before counting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = wakes(&server).await;
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let refreshing = wakes(&server).await - before;
    assert!(
        (2..=4).contains(&refreshing),
        "{refreshing} wakes in 2.6 s for one refresh a second"
    );
    assert_eq!(
        node_state(&server, "short", "s1").await.as_deref(),
        Some("alive")
    );

    // A deregistered node becomes a tombstone, purged after --tombstone-ttl (2 s) though
    // the ticker slept without a deadline before it left.
    let response = client()
        .delete(server.url("/api/services/svc0/nodes/n1"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    assert_eq!(
        node_state(&server, "svc0", "n1").await.as_deref(),
        Some("deregistered")
    );
    eventually(Duration::from_secs(5), || async {
        node_state(&server, "svc0", "n1")
            .await
            .is_none()
            .then_some(())
    })
    .await;
}

async fn trims(server: &Server) -> u64 {
    let stats: Value = get_json(server.url("/api/stats")).await;
    stats["console"]["heap_trims"].as_u64().unwrap()
}

#[tokio::test]
async fn after_a_burst_freed_memory_is_given_back_once_and_then_the_console_sleeps() {
    let server = Server::start(&["--probe-interval", "0"]);
    // A few events are no burst.
    for i in 0..10 {
        register(&server, service(&format!("few{i}"), "n1", "10.0.0.1:1")).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(trims(&server).await, 0, "no trim after ten events");
    // A burst: 300 registrations (more than heap::AFTER_EVENTS), then quiet.
    for i in 0..300 {
        register(&server, service(&format!("burst{i}"), "n1", "10.0.0.1:1")).await;
    }
    eventually(Duration::from_secs(5), || async {
        (trims(&server).await == 1).then_some(())
    })
    .await;
    let before = wakes(&server).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(trims(&server).await, 1, "one trim per burst");
    // Beside the trims, what the allocator holds: live data vs freed memory it kept.
    let stats: Value = get_json(server.url("/api/stats")).await;
    let in_use = stats["console"]["heap_in_use_bytes"].as_u64();
    assert!(in_use.is_some_and(|bytes| bytes > 0), "{stats:#}");
    assert!(
        stats["console"]["heap_free_held_bytes"].is_u64(),
        "{stats:#}"
    );
    assert_eq!(wakes(&server).await, before, "asleep again after the trim");
}
