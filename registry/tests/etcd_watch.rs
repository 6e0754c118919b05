//! The etcd watcher against a real etcd: every event of a response, lease expiry as a delete,
//! and no event lost or doubled across an etcd kill -9 and restart, with or without the
//! missed revisions compacted away.
#![cfg(feature = "etcd")]

mod etcd_support;

use std::collections::BTreeMap;
use std::time::Duration;

use etcd_client::{CompactionOptions, Txn, TxnOp};
use muster_registry::etcd::{EtcdOptions, EtcdRegistry};
use muster_registry::{
    Action, DeregisterOptions, Error, Node, QueryOptions, RegisterOptions, Registry, Service,
    WatchOptions, Watcher,
};
use tokio::time::{timeout, Instant};

const SERVICE: &str = "go.micro.srv.watched";

/// A one-node registration of [`SERVICE`].
fn node(id: &str, port: u16) -> Service {
    Service {
        name: SERVICE.into(),
        version: "1.0.0".into(),
        nodes: vec![Node {
            id: id.into(),
            address: format!("127.0.0.1:{port}"),
            ..Node::default()
        }],
        ..Service::default()
    }
}

/// What a set of changes looks like to a watcher: how many times each (action, node id).
type Changes = BTreeMap<(&'static str, String), usize>;

fn changes(list: &[(Action, &str)]) -> Changes {
    let mut counted = Changes::new();
    for (action, id) in list {
        *counted
            .entry((action.as_str(), id.to_string()))
            .or_default() += 1;
    }
    counted
}

/// Reads events until `want` of them came (at most `patience`), then for `quiet` more, to
/// catch any extra (doubled) one.
async fn seen(
    watcher: &mut dyn Watcher,
    want: usize,
    patience: Duration,
    quiet: Duration,
) -> Changes {
    let mut got = Changes::new();
    let mut count = 0;
    let deadline = Instant::now() + patience;
    while count < want {
        let left = deadline.saturating_duration_since(Instant::now());
        match timeout(left, watcher.next()).await {
            Ok(Ok(event)) => {
                *got.entry((event.action.as_str(), event.id)).or_default() += 1;
                count += 1;
            }
            Ok(Err(error)) => panic!("watcher failed: {error}"),
            Err(_) => return got,
        }
    }
    while let Ok(next) = timeout(quiet, watcher.next()).await {
        let event = next.expect("watcher failed");
        *got.entry((event.action.as_str(), event.id)).or_default() += 1;
    }
    got
}

async fn register(registry: &EtcdRegistry, service: &Service) {
    registry
        .register(service, RegisterOptions::default())
        .await
        .unwrap_or_else(|error| panic!("register {}: {error}", service.nodes[0].id));
}

async fn deregister(registry: &EtcdRegistry, service: &Service) {
    registry
        .deregister(service, DeregisterOptions::default())
        .await
        .unwrap_or_else(|error| panic!("deregister {}: {error}", service.nodes[0].id));
}

#[tokio::test]
async fn every_event_of_a_response_is_delivered() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    let mut watcher = registry
        .watch(WatchOptions::service(SERVICE))
        .await
        .unwrap();
    // One transaction: one revision, one watch response with three events. go-micro's
    // watcher would report the first and lose the other two.
    let puts: Vec<TxnOp> = ["t-1", "t-2", "t-3"]
        .iter()
        .zip(50001..)
        .map(|(id, port)| {
            let value = serde_json::to_vec(&node(id, port)).unwrap();
            TxnOp::put(format!("/micro/registry/{SERVICE}/{id}"), value, None)
        })
        .collect();
    let mut raw = etcd.client().await;
    raw.txn(Txn::new().and_then(puts)).await.unwrap();
    let got = seen(
        &mut *watcher,
        3,
        Duration::from_secs(5),
        Duration::from_millis(300),
    )
    .await;
    assert_eq!(
        got,
        changes(&[
            (Action::Create, "t-1"),
            (Action::Create, "t-2"),
            (Action::Create, "t-3")
        ])
    );
}

#[tokio::test]
async fn lease_expiry_is_a_delete() {
    let etcd = etcd_or_skip!();
    let observer = etcd.registry().await;
    let mut watcher = observer
        .watch(WatchOptions::service(SERVICE))
        .await
        .unwrap();
    let owner = etcd.registry().await;
    let service = node("leased", 50010);
    let ttl = Duration::from_secs(2);
    owner
        .register(&service, RegisterOptions::with_ttl(ttl))
        .await
        .unwrap();
    let created = timeout(Duration::from_secs(5), watcher.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (created.action, created.id.as_str()),
        (Action::Create, "leased")
    );

    // While its owner lives, the keep-alive holds the node well past its TTL.
    tokio::time::sleep(ttl * 3).await;
    assert_eq!(
        observer
            .get_service(SERVICE, QueryOptions::default())
            .await
            .unwrap(),
        std::slice::from_ref(&service)
    );

    // The owner goes away without deregistering: the lease lapses and etcd deletes the key.
    let dropped_at = Instant::now();
    drop(owner);
    let deleted = timeout(Duration::from_secs(10), watcher.next())
        .await
        .expect("no delete event after the lease lapsed")
        .unwrap();
    assert_eq!(
        (deleted.action, deleted.id.as_str()),
        (Action::Delete, "leased")
    );
    assert_eq!(
        deleted.service.nodes, service.nodes,
        "decoded from the previous value"
    );
    assert!(
        dropped_at.elapsed() >= ttl / 2,
        "deleted too early for a lapsed lease: {:?}",
        dropped_at.elapsed()
    );
    assert_eq!(
        observer.get_service(SERVICE, QueryOptions::default()).await,
        Err(Error::NotFound)
    );
}

#[tokio::test]
async fn watch_resumes_after_etcd_is_killed_and_restarted() {
    let mut etcd = etcd_or_skip!();
    let writer = etcd.registry().await;
    // Watchers end with their registry: keep it.
    let observer = etcd.registry().await;
    let mut watcher = observer.watch(WatchOptions::default()).await.unwrap();
    let nodes: Vec<Service> = (1..=7)
        .map(|i| node(&format!("n-{i}"), 50100 + i))
        .collect();

    // Before: three nodes come.
    for service in &nodes[..3] {
        register(&writer, service).await;
    }
    let before = seen(
        &mut *watcher,
        3,
        Duration::from_secs(5),
        Duration::from_millis(100),
    )
    .await;
    assert_eq!(
        before,
        changes(&[
            (Action::Create, "n-1"),
            (Action::Create, "n-2"),
            (Action::Create, "n-3")
        ])
    );

    // kill -9 mid-watch; the watcher retries while etcd is down.
    etcd.kill();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    etcd.restart().await;
    // During the outage window: a second client changes things right after the restart,
    // racing the watcher's reconnection.
    let other = etcd
        .registry_with(EtcdOptions {
            keep_alive: false,
            ..EtcdOptions::default()
        })
        .await;
    register(&other, &nodes[3]).await;
    register(&other, &nodes[4]).await;
    deregister(&other, &nodes[0]).await;

    // After: the first registry, reconnected, goes on.
    register(&writer, &nodes[5]).await;
    deregister(&writer, &nodes[1]).await;

    let after = seen(
        &mut *watcher,
        5,
        Duration::from_secs(15),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(
        after,
        changes(&[
            (Action::Create, "n-4"),
            (Action::Create, "n-5"),
            (Action::Delete, "n-1"),
            (Action::Create, "n-6"),
            (Action::Delete, "n-2"),
        ]),
        "events after the restart must be exactly the changes made; etcd log:\n{}",
        etcd.log()
    );
}

#[tokio::test]
async fn watch_resyncs_when_its_revision_was_compacted() {
    let mut etcd = etcd_or_skip!();
    let home_port = etcd.client_port;
    let writer = etcd.registry().await;
    let observer = etcd.registry().await;
    let mut watcher = observer
        .watch(WatchOptions::service(SERVICE))
        .await
        .unwrap();
    let nodes: Vec<Service> = (1..=5)
        .map(|i| node(&format!("c-{i}"), 50200 + i))
        .collect();
    for service in &nodes[..3] {
        register(&writer, service).await;
    }
    let before = seen(
        &mut *watcher,
        3,
        Duration::from_secs(5),
        Duration::from_millis(100),
    )
    .await;
    assert_eq!(before.values().sum::<usize>(), 3);

    // etcd comes back where the watcher cannot reach it; changes are made there and the
    // history compacted, so the watcher's next revision is gone when it reconnects.
    let away_port = etcd_support::free_port();
    etcd.restart_on(away_port).await;
    let other = etcd
        .registry_with(EtcdOptions {
            keep_alive: false,
            ..EtcdOptions::default()
        })
        .await;
    register(&other, &nodes[3]).await;
    let mut moved = nodes[1].clone();
    moved.nodes[0].address = "127.0.0.1:50299".into();
    register(&other, &moved).await;
    deregister(&other, &nodes[0]).await;
    let mut raw = etcd.client().await;
    let revision = raw
        .get("/", None)
        .await
        .unwrap()
        .header()
        .unwrap()
        .revision();
    raw.compact(revision, Some(CompactionOptions::new().with_physical()))
        .await
        .unwrap();
    drop((other, raw));

    etcd.restart_on(home_port).await;
    register(&writer, &nodes[4]).await;

    let after = seen(
        &mut *watcher,
        4,
        Duration::from_secs(15),
        Duration::from_secs(2),
    )
    .await;
    assert_eq!(
        after,
        changes(&[
            (Action::Create, "c-4"),
            (Action::Update, "c-2"),
            (Action::Delete, "c-1"),
            (Action::Create, "c-5"),
        ]),
        "etcd log:\n{}",
        etcd.log()
    );
}
