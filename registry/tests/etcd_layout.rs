//! The etcd registry reads and writes exactly go-micro's layout: the key of each node, the
//! JSON bytes under it, leases for TTLs, deletes on deregister and evict.
#![cfg(feature = "etcd")]

mod etcd_support;

use std::time::Duration;

use etcd_client::{GetOptions, LeaseTimeToLiveOptions};
use muster_registry::etcd::EtcdOptions;
use muster_registry::Field;
use muster_registry::{
    DeregisterOptions, Endpoint, Error, Metadata, Node, QueryOptions, RegisterOptions, Registry,
    Service, Value,
};

/// A greeter as a go-micro v1.18 server registers it.
fn greeter(name: &str, node_id: &str) -> Service {
    Service {
        name: name.into(),
        version: "latest".into(),
        metadata: Metadata::new(),
        endpoints: vec![Endpoint {
            name: "Say.Hello".into(),
            request: Some(Value {
                name: "Request".into(),
                r#type: "Request".into(),
                values: vec![Value {
                    name: "name".into(),
                    r#type: "string".into(),
                    values: Vec::new(),
                }],
            }),
            response: Some(Value {
                name: "Response".into(),
                r#type: "Response".into(),
                values: vec![Value {
                    name: "msg".into(),
                    r#type: "string".into(),
                    values: Vec::new(),
                }],
            }),
            metadata: Metadata::from([("stream".into(), "false".into())]),
        }],
        nodes: vec![Node {
            id: node_id.into(),
            address: "10.0.0.1:50051".into(),
            metadata: Metadata::from([
                ("broker".into(), "http".into()),
                ("protocol".into(), "mucp".into()),
                ("registry".into(), "etcd".into()),
                ("server".into(), "mucp".into()),
                ("transport".into(), "http".into()),
            ]),
        }],
    }
}

/// What Go's `json.Marshal` writes for `greeter(name, node_id)`, byte for byte.
fn greeter_json(name: &str, node_id: &str) -> String {
    format!(
        concat!(
            r#"{{"name":"{name}","version":"latest","metadata":null,"endpoints":[{{"#,
            r#""name":"Say.Hello","request":{{"name":"Request","type":"Request","values":[{{"#,
            r#""name":"name","type":"string","values":null}}]}},"response":{{"name":"Response","#,
            r#""type":"Response","values":[{{"name":"msg","type":"string","values":null}}]}},"#,
            r#""metadata":{{"stream":"false"}}}}],"nodes":[{{"id":"{id}","#,
            r#""address":"10.0.0.1:50051","metadata":{{"broker":"http","protocol":"mucp","#,
            r#""registry":"etcd","server":"mucp","transport":"http"}}}}]}}"#
        ),
        name = name,
        id = node_id
    )
}

#[tokio::test]
async fn writes_go_micro_keys_and_bytes() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    let mut raw = etcd.client().await;

    let service = greeter("go.micro.srv.greeter", "go.micro.srv.greeter-1");
    registry
        .register(&service, RegisterOptions::with_ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    let stored = raw
        .get("/micro/registry/", Some(GetOptions::new().with_prefix()))
        .await
        .unwrap();
    assert_eq!(stored.kvs().len(), 1);
    let kv = &stored.kvs()[0];
    assert_eq!(
        kv.key_str().unwrap(),
        "/micro/registry/go.micro.srv.greeter/go.micro.srv.greeter-1"
    );
    assert_eq!(
        kv.value_str().unwrap(),
        greeter_json("go.micro.srv.greeter", "go.micro.srv.greeter-1")
    );
    // RegisterTTL is the lease's TTL.
    assert_ne!(kv.lease(), 0, "a TTL registration is on a lease");
    let lease = raw
        .lease_time_to_live(kv.lease(), None::<LeaseTimeToLiveOptions>)
        .await
        .unwrap();
    assert_eq!(lease.granted_ttl(), 60);

    // `/` in names becomes `-` in the key; the value keeps the real names. No TTL, no lease.
    let slashed = greeter("team/greeter", "host/1");
    registry
        .register(&slashed, RegisterOptions::default())
        .await
        .unwrap();
    let stored = raw
        .get("/micro/registry/team-greeter/host-1", None)
        .await
        .unwrap();
    let kv = &stored.kvs()[0];
    assert_eq!(
        kv.value_str().unwrap(),
        greeter_json("team/greeter", "host/1")
    );
    assert_eq!(kv.lease(), 0);
    assert_eq!(
        registry
            .get_service("team/greeter", QueryOptions::default())
            .await
            .unwrap(),
        std::slice::from_ref(&slashed)
    );

    // Deregister deletes the key.
    registry
        .deregister(&service, DeregisterOptions::default())
        .await
        .unwrap();
    registry
        .deregister(&slashed, DeregisterOptions::default())
        .await
        .unwrap();
    let left = raw
        .get("/micro/registry/", Some(GetOptions::new().with_prefix()))
        .await
        .unwrap();
    assert!(left.kvs().is_empty(), "keys left: {:?}", left.kvs());
}

#[tokio::test]
async fn reads_what_go_micro_writes() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    let mut raw = etcd.client().await;

    assert_eq!(
        registry
            .get_service("go.micro.srv.greeter", QueryOptions::default())
            .await,
        Err(Error::NotFound)
    );
    // Two nodes of one version and one of another, as three go-micro servers put them.
    for (id, version) in [("g-1", "latest"), ("g-2", "latest"), ("g-3", "v2")] {
        let json = greeter_json("go.micro.srv.greeter", id).replace(
            r#""version":"latest""#,
            &format!(r#""version":"{version}""#),
        );
        raw.put(
            format!("/micro/registry/go.micro.srv.greeter/{id}"),
            json,
            None,
        )
        .await
        .unwrap();
    }
    // Something that is not a service under the prefix is skipped, not an error.
    raw.put("/micro/registry/go.micro.srv.greeter/junk", "{oops", None)
        .await
        .unwrap();

    let mut found = registry
        .get_service("go.micro.srv.greeter", QueryOptions::default())
        .await
        .unwrap();
    found.sort_by(|a, b| a.version.cmp(&b.version));
    let mut latest = greeter("go.micro.srv.greeter", "g-1");
    latest
        .nodes
        .extend(greeter("go.micro.srv.greeter", "g-2").nodes);
    let mut v2 = greeter("go.micro.srv.greeter", "g-3");
    v2.version = "v2".into();
    assert_eq!(found, [latest.clone(), v2.clone()]);

    let listed = registry
        .list_services(QueryOptions { fresh: true })
        .await
        .unwrap();
    assert_eq!(listed, [latest.listing(), v2.listing()]);

    // A prefix read of `greeter` does not take `greeter.v2`'s keys.
    raw.put(
        "/micro/registry/go.micro.srv.greeter.v2/x-1",
        greeter_json("go.micro.srv.greeter.v2", "x-1"),
        None,
    )
    .await
    .unwrap();
    assert_eq!(
        registry
            .get_service("go.micro.srv.greeter", QueryOptions::default())
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn evict_deletes_a_foreign_key() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    let mut raw = etcd.client().await;

    let key = "/micro/registry/go.micro.srv.greeter/g-dead";
    raw.put(key, greeter_json("go.micro.srv.greeter", "g-dead"), None)
        .await
        .unwrap();
    registry
        .evict("go.micro.srv.greeter", "g-dead")
        .await
        .unwrap();
    assert!(raw.get(key, None).await.unwrap().kvs().is_empty());
    assert_eq!(
        registry.evict("go.micro.srv.greeter", "g-dead").await,
        Err(Error::NotFound)
    );
    assert!(matches!(
        registry.evict("", "g-dead").await,
        Err(Error::Invalid { .. })
    ));
}

#[tokio::test]
async fn a_live_owner_puts_an_evicted_node_back() {
    let etcd = etcd_or_skip!();
    let owner = etcd.registry().await;
    let operator = etcd
        .registry_with(EtcdOptions {
            keep_alive: false,
            ..EtcdOptions::default()
        })
        .await;
    let service = greeter("go.micro.srv.greeter", "g-owned");
    owner
        .register(&service, RegisterOptions::with_ttl(Duration::from_secs(3)))
        .await
        .unwrap();
    operator
        .evict("go.micro.srv.greeter", "g-owned")
        .await
        .unwrap();
    // The owner's keep-alive runs every TTL / 3 = 1 s and restores the key.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let found = operator
            .get_service("go.micro.srv.greeter", QueryOptions::default())
            .await;
        if found.as_ref() == Ok(&vec![service.clone()]) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the evicted node did not come back: {found:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn refuses_names_go_micro_paths_would_move() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    for (name, id) in [("..", "node"), ("greeter", ".")] {
        let mut service = greeter(name, id);
        service.name = name.into();
        assert!(
            matches!(
                registry
                    .register(&service, RegisterOptions::default())
                    .await,
                Err(Error::Invalid { .. })
            ),
            "{name}/{id}"
        );
    }
}

#[tokio::test]
async fn authenticates_with_username_and_password_and_names_a_refusal() {
    let etcd = etcd_or_skip!();
    let mut raw = etcd.client().await;
    raw.user_add("root", "s3cret", None).await.unwrap();
    raw.user_grant_role("root", "root").await.unwrap();
    raw.auth_enable().await.unwrap();

    let registry = etcd
        .registry_with(EtcdOptions {
            username: Some("root".into()),
            password: Some("s3cret".into()),
            ..EtcdOptions::default()
        })
        .await;
    let service = greeter("go.micro.srv.greeter", "g-auth");
    registry
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    assert_eq!(
        registry
            .get_service("go.micro.srv.greeter", QueryOptions::default())
            .await
            .unwrap(),
        [service]
    );

    // Without credentials etcd refuses: the error names the credentials instead of
    // pretending emptiness.
    fn credentials<T>(result: Result<T, Error>) -> bool {
        matches!(result, Err(Error::Invalid { field, .. }) if field == Field::Credentials)
    }
    let anonymous = etcd.registry().await;
    assert!(credentials(
        anonymous.list_services(QueryOptions::default()).await
    ));
    assert!(credentials(anonymous.check().await));
    // A wrong password fails at connect, saying so.
    let mut wrong = etcd.options();
    wrong.extensions.insert(EtcdOptions {
        username: Some("root".into()),
        password: Some("wrong".into()),
        ..EtcdOptions::default()
    });
    assert!(credentials(
        muster_registry::etcd::EtcdRegistry::connect(wrong)
            .await
            .map(drop)
    ));
}

#[tokio::test]
async fn init_changes_only_the_timeout() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    let mut options = registry.options();
    options.timeout = Some(Duration::from_secs(1));
    registry.init(options).await.unwrap();
    assert_eq!(registry.options().timeout, Some(Duration::from_secs(1)));

    let mut elsewhere = registry.options();
    elsewhere.addrs = vec!["127.0.0.1:1".into()];
    assert!(matches!(
        registry.init(elsewhere).await,
        Err(Error::Invalid { .. })
    ));
    assert_eq!(registry.options().addrs, [etcd.endpoint()]);
    assert_eq!(registry.name(), "etcd");
}
