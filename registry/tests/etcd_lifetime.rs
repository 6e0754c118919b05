//! What the etcd watcher says of a node's lease, against a real etcd: a key put on a lease
//! comes with its TTL and expiry, and a delete says whether the lease ran out (an expiry) or
//! the key was removed while its lease lived (go-micro's deregister, an evict) — the two are
//! the same `delete` in etcd's watch.
#![cfg(feature = "etcd")]

mod etcd_support;

use std::time::Duration;

use etcd_client::PutOptions;
use muster_registry::clock::unix_ms_now;
use muster_registry::{Action, Departure, Event, Node, Registry, Service, WatchOptions, Watcher};
use tokio::time::timeout;

const SERVICE: &str = "go.micro.srv.leased";

fn key(id: &str) -> String {
    format!("/micro/registry/{SERVICE}/{id}")
}

/// go-micro's value for a one-node registration.
fn value(id: &str, port: u16) -> Vec<u8> {
    serde_json::to_vec(&Service {
        name: SERVICE.into(),
        version: "1.0.0".into(),
        nodes: vec![Node {
            id: id.into(),
            address: format!("127.0.0.1:{port}"),
            ..Node::default()
        }],
        ..Service::default()
    })
    .unwrap()
}

/// Puts `id` as go-micro does: on a fresh lease of `ttl_secs` (0: no lease), never refreshed.
async fn put(client: &mut etcd_client::Client, id: &str, port: u16, ttl_secs: i64) {
    let options = if ttl_secs > 0 {
        let lease = client.lease_grant(ttl_secs, None).await.unwrap();
        Some(PutOptions::new().with_lease(lease.id()))
    } else {
        None
    };
    client.put(key(id), value(id, port), options).await.unwrap();
}

async fn next(watcher: &mut dyn Watcher, patience: Duration) -> Event {
    timeout(patience, watcher.next())
        .await
        .expect("no event in time")
        .expect("watcher failed")
}

#[tokio::test]
async fn a_leased_key_says_when_it_runs_out_and_an_expiry_is_not_a_removal() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    let mut client = etcd.client().await;
    // On a lease before the watch began: the watcher learns its lease from its first read.
    put(&mut client, "before", 50201, 60).await;
    let mut watcher = registry
        .watch(WatchOptions::service(SERVICE))
        .await
        .unwrap();

    let put_at = unix_ms_now();
    put(&mut client, "short", 50202, 2).await;
    let created = next(&mut *watcher, Duration::from_secs(5)).await;
    assert_eq!(
        (created.action, created.id.as_str()),
        (Action::Create, "short")
    );
    assert_eq!(created.lifetime.ttl_secs, Some(2));
    let expires_at = created
        .lifetime
        .expires_at_ms
        .expect("expiry read from the lease");
    assert!(
        (put_at..=put_at + 3_500).contains(&expires_at),
        "expires_at {expires_at} is not put time {put_at} + 2 s"
    );
    assert_eq!(created.lifetime.departure, None);

    put(&mut client, "long", 50203, 60).await;
    put(&mut client, "unleased", 50204, 0).await;
    let long = next(&mut *watcher, Duration::from_secs(5)).await;
    assert_eq!(long.lifetime.ttl_secs, Some(60));
    let unleased = next(&mut *watcher, Duration::from_secs(5)).await;
    assert_eq!(unleased.id, "unleased");
    assert!(unleased.lifetime.is_unknown(), "no lease, no TTL");

    // Deleted while their leases live (go-micro's deregister leaves the lease alone).
    for id in ["long", "before", "unleased"] {
        client.delete(key(id), None).await.unwrap();
        let deleted = next(&mut *watcher, Duration::from_secs(5)).await;
        assert_eq!((deleted.action, deleted.id.as_str()), (Action::Delete, id));
        assert_eq!(
            deleted.lifetime.departure,
            Some(Departure::Removed),
            "{id}: an explicit delete"
        );
    }

    // Nobody refreshes "short": etcd deletes it when its lease runs out.
    let deleted = next(&mut *watcher, Duration::from_secs(10)).await;
    assert_eq!(
        (deleted.action, deleted.id.as_str()),
        (Action::Delete, "short")
    );
    assert_eq!(deleted.lifetime.departure, Some(Departure::Expired));
    assert!(
        unix_ms_now() + 1_000 >= expires_at,
        "expired before its lease ran out"
    );
}
