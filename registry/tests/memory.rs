//! The memory backend's own promises, beyond the conformance suite: expiry events arrive on
//! time (with or without an async runtime), slow watchers are told they lagged, and many tasks
//! can use one registry at once.

use std::collections::BTreeSet;
use std::time::Duration;

use muster_registry::memory::{MemoryOptions, MemoryRegistry};
use muster_registry::{
    Action, DeregisterOptions, Error, Event, Field, Node, Options, QueryOptions, RegisterOptions,
    Registry, Service, WatchOptions, Watcher,
};
use tokio::time::timeout;

fn service(name: &str, node_id: &str) -> Service {
    Service {
        name: name.into(),
        version: "latest".into(),
        nodes: vec![Node {
            id: node_id.into(),
            address: "10.0.0.1:8080".into(),
            ..Node::default()
        }],
        ..Service::default()
    }
}

fn with_watch_buffer(watch_buffer: usize) -> MemoryRegistry {
    let mut options = Options::default();
    options.extensions.insert(MemoryOptions { watch_buffer });
    MemoryRegistry::new(options)
}

async fn next(watcher: &mut Box<dyn Watcher>) -> Result<Event, Error> {
    timeout(Duration::from_secs(5), watcher.next())
        .await
        .expect("an event within 5 s")
}

#[tokio::test]
async fn expired_nodes_produce_delete_events_without_further_calls() {
    let registry = MemoryRegistry::default();
    let mut watcher = registry.watch(WatchOptions::default()).await.unwrap();
    let ttl = RegisterOptions::with_ttl(Duration::from_millis(200));
    let kept = service("greeter", "kept");
    registry
        .register(&kept, RegisterOptions::default())
        .await
        .unwrap();
    registry
        .register(&service("greeter", "short"), ttl)
        .await
        .unwrap();
    assert_eq!(next(&mut watcher).await.unwrap().id, "kept");
    assert_eq!(next(&mut watcher).await.unwrap().action, Action::Create);

    // Nobody calls the registry now: the delete comes from the expiry task.
    let gone = next(&mut watcher).await.unwrap();
    assert_eq!((gone.action, gone.id.as_str()), (Action::Delete, "short"));
    let left = registry
        .get_service("greeter", QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(left, vec![kept]);
}

#[tokio::test]
async fn an_earlier_deadline_wakes_the_expiry_task() {
    let registry = MemoryRegistry::default();
    let mut watcher = registry.watch(WatchOptions::default()).await.unwrap();
    let long = RegisterOptions::with_ttl(Duration::from_secs(3600));
    let short = RegisterOptions::with_ttl(Duration::from_millis(100));
    registry
        .register(&service("a", "long"), long)
        .await
        .unwrap();
    registry
        .register(&service("b", "short"), short)
        .await
        .unwrap();
    next(&mut watcher).await.unwrap();
    next(&mut watcher).await.unwrap();
    let gone = next(&mut watcher).await.unwrap();
    assert_eq!((gone.action, gone.id.as_str()), (Action::Delete, "short"));
}

/// Outside any tokio runtime no task can be started, yet expiry still holds: reads never show
/// an expired node, and its delete event is published at the next call.
#[test]
fn expiry_works_without_a_runtime() {
    use futures::executor::block_on;

    let registry = MemoryRegistry::default();
    let mut watcher = block_on(registry.watch(WatchOptions::default())).unwrap();
    let ttl = RegisterOptions::with_ttl(Duration::from_millis(50));
    block_on(registry.register(&service("greeter", "n1"), ttl)).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let found = block_on(registry.get_service("greeter", QueryOptions::default()));
    assert_eq!(found, Err(Error::NotFound));
    assert_eq!(block_on(watcher.next()).unwrap().action, Action::Create);
    assert_eq!(block_on(watcher.next()).unwrap().action, Action::Delete);
}

#[tokio::test]
async fn a_lagging_watcher_is_told_once_and_carries_on() {
    let registry = with_watch_buffer(4);
    let mut slow = registry.watch(WatchOptions::default()).await.unwrap();
    for i in 0..10 {
        let node = service("greeter", &format!("n{i}"));
        registry
            .register(&node, RegisterOptions::default())
            .await
            .unwrap();
    }
    assert_eq!(next(&mut slow).await, Err(Error::Lagged { missed: 6 }));
    for i in 6..10 {
        assert_eq!(next(&mut slow).await.unwrap().id, format!("n{i}"));
    }
    // Resync: the registry itself lost nothing.
    let all = registry
        .get_service("greeter", QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(all[0].nodes.len(), 10);
    // And the watcher keeps working.
    let late = service("greeter", "late");
    registry
        .register(&late, RegisterOptions::default())
        .await
        .unwrap();
    assert_eq!(next(&mut slow).await.unwrap().id, "late");
}

#[tokio::test]
async fn a_filtered_watcher_skips_other_services() {
    let registry = MemoryRegistry::default();
    let mut only_b = registry.watch(WatchOptions::service("b")).await.unwrap();
    registry
        .register(&service("a", "a1"), RegisterOptions::default())
        .await
        .unwrap();
    registry
        .register(&service("b", "b1"), RegisterOptions::default())
        .await
        .unwrap();
    let event = next(&mut only_b).await.unwrap();
    assert_eq!(
        (event.service.name.as_str(), event.id.as_str()),
        ("b", "b1")
    );
}

#[tokio::test]
async fn watchers_stop_when_the_registry_is_dropped() {
    let registry = MemoryRegistry::default();
    let mut watcher = registry.watch(WatchOptions::default()).await.unwrap();
    registry
        .register(&service("a", "a1"), RegisterOptions::default())
        .await
        .unwrap();
    drop(registry);
    // What was published is still delivered, then the end.
    assert_eq!(next(&mut watcher).await.unwrap().id, "a1");
    assert_eq!(next(&mut watcher).await, Err(Error::WatcherStopped));
    assert_eq!(next(&mut watcher).await, Err(Error::WatcherStopped));
}

#[tokio::test]
async fn invalid_input_changes_nothing() {
    let registry = MemoryRegistry::default();
    let mut watcher = registry.watch(WatchOptions::default()).await.unwrap();
    let mut bad = service("greeter", "n1");
    bad.nodes.push(Node {
        id: "n2".into(),
        address: "no-port".into(),
        ..Node::default()
    });
    let refused = registry.register(&bad, RegisterOptions::default()).await;
    assert!(
        matches!(refused, Err(Error::Invalid { ref field, .. }) if *field == Field::NodeAddress)
    );
    // The valid first node was not registered either, and no event went out.
    let found = registry
        .get_service("greeter", QueryOptions::default())
        .await;
    assert_eq!(found, Err(Error::NotFound));
    assert!(timeout(Duration::from_millis(50), watcher.next())
        .await
        .is_err());
}

#[tokio::test]
async fn init_keeps_what_it_cannot_change() {
    let registry = with_watch_buffer(8);
    let mut same = Options {
        addrs: vec!["ignored:1".into()],
        ..Options::default()
    };
    same.extensions.insert(MemoryOptions { watch_buffer: 8 });
    registry.init(same).await.unwrap();
    assert_eq!(registry.options().addrs, ["ignored:1"]);
    let refused = registry.init(Options::default()).await;
    assert!(matches!(refused, Err(Error::Invalid { .. })));
    assert_eq!(registry.options().addrs, ["ignored:1"]);
    assert_eq!(registry.name(), "memory");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tasks_register_and_deregister_at_once() {
    const TASKS: usize = 8;
    const NODES: usize = 50;
    let registry = with_watch_buffer(4 * TASKS * NODES);
    let mut watcher = registry.watch(WatchOptions::default()).await.unwrap();
    let tasks: Vec<_> = (0..TASKS)
        .map(|task| {
            let registry = registry.clone();
            tokio::spawn(async move {
                for node in 0..NODES {
                    let one = service(&format!("svc{}", node % 5), &format!("t{task}-n{node}"));
                    registry
                        .register(&one, RegisterOptions::default())
                        .await
                        .unwrap();
                    if node % 2 == 1 {
                        registry
                            .deregister(&one, DeregisterOptions::default())
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let listed = registry
        .list_services(QueryOptions::default())
        .await
        .unwrap();
    let mut nodes = 0;
    for name in listed.iter().map(|s| &s.name) {
        for version in registry
            .get_service(name, QueryOptions::default())
            .await
            .unwrap()
        {
            nodes += version.nodes.len();
        }
    }
    assert_eq!(nodes, TASKS * NODES / 2);

    // Every change reached the watcher, in an order consistent with each node's life.
    let mut alive = BTreeSet::new();
    for _ in 0..TASKS * NODES * 3 / 2 {
        let event = next(&mut watcher).await.unwrap();
        match event.action {
            Action::Create => assert!(alive.insert(event.id)),
            Action::Delete => assert!(alive.remove(&event.id)),
            Action::Update => panic!("no node changed: {event:?}"),
        }
    }
    assert_eq!(alive.len(), nodes);
}

#[tokio::test]
async fn a_watcher_is_a_stream_that_ends_when_it_stops() {
    use futures::StreamExt;

    let registry = with_watch_buffer(2);
    let watcher = registry.watch(WatchOptions::default()).await.unwrap();
    let mut events = Box::pin(muster_registry::registry::into_stream(watcher));
    for node in ["n1", "n2", "n3"] {
        let one = service("greeter", node);
        registry
            .register(&one, RegisterOptions::default())
            .await
            .unwrap();
    }
    assert_eq!(events.next().await, Some(Err(Error::Lagged { missed: 1 })));
    assert_eq!(events.next().await.unwrap().unwrap().id, "n2");
    assert_eq!(events.next().await.unwrap().unwrap().id, "n3");
    drop(registry);
    assert_eq!(events.next().await, None);
}
