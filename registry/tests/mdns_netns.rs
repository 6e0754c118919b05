//! The mDNS registry on a private LAN of network namespaces (see `mdns_support`): Muster ↔
//! Muster, a go-micro peer replayed from captured packets, TTL expiry of a killed node, evict,
//! shutdown goodbyes, garbage on the wire, and the registry conformance suite.
#![cfg(feature = "mdns")]

mod mdns_support;
#[path = "vectors/mod.rs"]
mod vectors;

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mdns_support::{skip, Lan};
use muster_registry::conformance::{self, Suite};
use muster_registry::mdns::{message, MdnsOptions, MdnsRegistry};
use muster_registry::{
    Action, DeregisterOptions, Error, Event, Node, Options, QueryOptions, RegisterOptions,
    Registry, Result, Service, WatchOptions, Watcher,
};
use tokio::time::timeout;

const WAIT: Duration = Duration::from_secs(5);

fn greeter(node: &str, ip: Ipv4Addr, port: u16) -> Service {
    Service {
        name: "go.micro.srv.greeter".into(),
        version: "latest".into(),
        endpoints: vec![muster_registry::Endpoint {
            name: "Greeter.Hello".into(),
            ..Default::default()
        }],
        nodes: vec![Node {
            id: format!("go.micro.srv.greeter-{node}"),
            address: format!("{ip}:{port}"),
            metadata: [("registry".to_string(), "mdns".to_string())].into(),
        }],
        ..Default::default()
    }
}

async fn next_event(watcher: &mut Box<dyn Watcher>) -> Event {
    timeout(WAIT, watcher.next())
        .await
        .expect("an event within 5 s")
        .expect("a watch event")
}

async fn wait_for<F>(what: &str, mut done: impl FnMut() -> F)
where
    F: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn fresh() -> QueryOptions {
    QueryOptions { fresh: true }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn muster_to_muster_register_get_list_watch_deregister() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (a, b) = (lan.host(0), lan.host(1));
    let registry_a = a.registry(MdnsOptions::default()).await;
    let registry_b = b.registry(MdnsOptions::default()).await;
    let mut watcher = registry_b
        .watch(WatchOptions::service("go.micro.srv.greeter"))
        .await
        .unwrap();

    let service = greeter("1", a.ip, 50051);
    registry_a
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();

    let created = next_event(&mut watcher).await;
    assert_eq!(created.action, Action::Create);
    assert_eq!(created.id, "go.micro.srv.greeter-1");
    assert_eq!(created.service, service);

    // Cached and fresh reads agree, and list names it.
    assert_eq!(
        registry_b
            .get_service(&service.name, QueryOptions::default())
            .await
            .unwrap(),
        vec![service.clone()]
    );
    assert_eq!(
        registry_b
            .get_service(&service.name, fresh())
            .await
            .unwrap(),
        vec![service.clone()]
    );
    let listed = registry_b.list_services(fresh()).await.unwrap();
    assert!(listed.iter().any(|s| s.name == service.name), "{listed:?}");

    // The second and third announcements and the IPv6 copies are no news.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let nodes = registry_b.nodes().await.unwrap();
    assert_eq!(nodes.len(), 1);
    assert!(!nodes[0].owned);
    assert!(nodes[0].expires_at.is_some());
    assert!(registry_a.nodes().await.unwrap()[0].owned);

    // A change of metadata is an update.
    let mut changed = service.clone();
    changed.nodes[0].metadata.insert("build".into(), "2".into());
    registry_a
        .register(&changed, RegisterOptions::default())
        .await
        .unwrap();
    let updated = next_event(&mut watcher).await;
    assert_eq!(updated.action, Action::Update, "{updated:?}");
    assert_eq!(updated.service, changed);

    registry_a
        .deregister(&changed, DeregisterOptions::default())
        .await
        .unwrap();
    let deleted = next_event(&mut watcher).await;
    assert_eq!(deleted.action, Action::Delete);
    assert_eq!(deleted.id, "go.micro.srv.greeter-1");
    assert_eq!(
        registry_b
            .get_service(&service.name, QueryOptions::default())
            .await,
        Err(Error::NotFound)
    );
    let stats = registry_b.stats();
    assert_eq!(stats.dropped.total(), 0, "{stats:?}");
    assert_eq!(
        (stats.cached_nodes, stats.cache_bytes, stats.owned_nodes),
        (0, 0, 0)
    );
    let stats_a = registry_a.stats();
    assert!(
        stats_a.announcements_sent >= 3 && stats_a.goodbyes_sent == 1,
        "{stats_a:?}"
    );
    assert!(stats.packets_received > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_starter_learns_existing_nodes_by_query() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (a, b) = (lan.host(0), lan.host(1));
    let registry_a = a.registry(MdnsOptions::default()).await;
    let service = greeter("early", a.ip, 50051);
    registry_a
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    // B starts after the announcements: only its start-up and get queries can find the node.
    tokio::time::sleep(Duration::from_millis(3500)).await;
    let registry_b = b.registry(MdnsOptions::default()).await;
    assert_eq!(
        registry_b
            .get_service(&service.name, QueryOptions::default())
            .await
            .unwrap(),
        vec![service.clone()]
    );
    let listed = registry_b
        .list_services(QueryOptions::default())
        .await
        .unwrap();
    assert!(listed.iter().any(|s| s.name == service.name));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_node_expires_within_its_ttl_and_live_one_does_not() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (mut a, b) = (lan.host(0), lan.host(1));
    let ttl = Duration::from_secs(2);
    let registry_a = a
        .registry(MdnsOptions {
            ttl,
            ..Default::default()
        })
        .await;
    let registry_b = b.registry(MdnsOptions::default()).await;
    let mut watcher = registry_b.watch(WatchOptions::default()).await.unwrap();
    let service = greeter("mortal", a.ip, 50051);
    registry_a
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    assert_eq!(next_event(&mut watcher).await.action, Action::Create);

    // Alive for three TTLs: B's refresh queries (80–95 % of the TTL) keep it.
    let quiet = timeout(ttl * 3, watcher.next()).await;
    assert!(quiet.is_err(), "a live node must not change: {quiet:?}");
    assert_eq!(registry_b.nodes().await.unwrap().len(), 1);

    // Killed without a goodbye: gone from B within the TTL (plus scheduling slack).
    a.kill();
    let deleted = timeout(ttl + Duration::from_secs(1), watcher.next())
        .await
        .expect("delete within the TTL")
        .unwrap();
    assert_eq!(deleted.action, Action::Delete);
    assert_eq!(
        registry_b
            .get_service(&service.name, QueryOptions::default())
            .await,
        Err(Error::NotFound)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evict_reports_live_owner_and_dead_owner() {
    if skip() {
        return;
    }
    let lan = Lan::new(3);
    let (mut a, b, c) = (lan.host(0), lan.host(1), lan.host(2));
    let registry_a = a.registry(MdnsOptions::default()).await;
    let registry_b = b.registry(MdnsOptions::default()).await;
    let registry_c = c.registry(MdnsOptions::default()).await;
    let mut watcher_c = registry_c.watch(WatchOptions::default()).await.unwrap();
    let service = greeter("evictee", a.ip, 50051);
    let id = service.nodes[0].id.clone();
    registry_a
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    assert_eq!(next_event(&mut watcher_c).await.action, Action::Create);
    wait_for("B to see the node", || {
        let registry_b = registry_b.clone();
        async move {
            registry_b
                .get_service("go.micro.srv.greeter", QueryOptions::default())
                .await
                .is_ok()
        }
    })
    .await;

    // A stale node is an old one: let the registration's announcements (0/1/3 s) be over.
    tokio::time::sleep(Duration::from_millis(3500)).await;

    // The owner is alive: the goodbye reaches every watcher, then the owner defends its node.
    let outcome = registry_b.evict(&service.name, &id).await.unwrap();
    assert!(
        !outcome.owned && outcome.goodbye_sent && outcome.owner_answered,
        "{outcome:?}"
    );
    assert_eq!(next_event(&mut watcher_c).await.action, Action::Delete);
    assert_eq!(next_event(&mut watcher_c).await.action, Action::Create);

    // The owner is dead: the node is gone for good.
    a.kill();
    let outcome = registry_b.evict(&service.name, &id).await.unwrap();
    assert!(
        outcome.goodbye_sent && !outcome.owner_answered,
        "{outcome:?}"
    );
    assert_eq!(next_event(&mut watcher_c).await.action, Action::Delete);
    assert_eq!(
        registry_c.get_service(&service.name, fresh()).await,
        Err(Error::NotFound)
    );
    assert_eq!(
        registry_b.evict(&service.name, &id).await,
        Err(Error::NotFound)
    );
    drop(registry_a);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_says_goodbye_for_every_owned_node() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (a, b) = (lan.host(0), lan.host(1));
    let registry_a = a.registry(MdnsOptions::default()).await;
    let registry_b = b.registry(MdnsOptions::default()).await;
    let mut watcher = registry_b.watch(WatchOptions::default()).await.unwrap();
    let mut own_watcher = registry_a.watch(WatchOptions::default()).await.unwrap();
    let mut service = greeter("1", a.ip, 50051);
    service.nodes.push(Node {
        id: "go.micro.srv.greeter-2".into(),
        address: format!("{}:50052", a.ip),
        metadata: Default::default(),
    });
    registry_a
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    let mut created = [
        next_event(&mut watcher).await,
        next_event(&mut watcher).await,
    ];
    created.sort_by(|x, y| x.id.cmp(&y.id));
    assert!(created.iter().all(|e| e.action == Action::Create));
    let nodes = registry_b
        .get_service(&service.name, QueryOptions::default())
        .await
        .unwrap();
    assert_eq!(nodes[0].nodes.len(), 2);

    registry_a.shutdown().await.unwrap();
    for _ in 0..2 {
        assert_eq!(next_event(&mut watcher).await.action, Action::Delete);
    }
    // Local watchers see the creates and the deletes, then the end.
    let actions: Vec<Action> = [
        next_event(&mut own_watcher).await,
        next_event(&mut own_watcher).await,
        next_event(&mut own_watcher).await,
        next_event(&mut own_watcher).await,
    ]
    .iter()
    .map(|event| event.action)
    .collect();
    assert_eq!(
        actions,
        [
            Action::Create,
            Action::Create,
            Action::Delete,
            Action::Delete
        ]
    );
    let ended = timeout(WAIT, own_watcher.next()).await.unwrap();
    assert_eq!(ended, Err(Error::WatcherStopped));
    assert!(registry_a
        .get_service("x", QueryOptions::default())
        .await
        .is_err());
}

/// Replays what a real go-micro v1.18 peer sent (captured packets) on host C.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn go_micro_peer_is_seen_and_sees_us() {
    if skip() {
        return;
    }
    let read = vectors::read;
    let announce = read("gomicro-v1.18/02-announce.bin");
    let goodbye = read("gomicro-v1.18/07-goodbye.bin");
    let get_query_v5 = read("gomicro-v5/03-get-query.bin");

    let lan = Lan::new(2);
    let (peer, b) = (lan.host(0), lan.host(1));
    let registry_b = b.registry(MdnsOptions::default()).await;
    let mut watcher = registry_b.watch(WatchOptions::default()).await.unwrap();

    // go-micro announces: we see its node exactly.
    peer.run(move || async move { multicast_from_5353(&announce).await })
        .await;
    let created = next_event(&mut watcher).await;
    assert_eq!(created.action, Action::Create);
    assert_eq!(
        created.id,
        "go.micro.srv.greeter-18015368-48e9-4cb2-9b69-6791349bfdda"
    );
    assert_eq!(created.service.nodes[0].address, "10.77.0.1:50051");
    assert_eq!(created.service.nodes[0].metadata["broker"], "http");

    // go-micro says goodbye: delete.
    peer.run(move || async move { multicast_from_5353(&goodbye).await })
        .await;
    assert_eq!(next_event(&mut watcher).await.action, Action::Delete);

    // A go-micro v5 client asks B for a service B registered: one node per packet, question
    // echoed, sent back to the client's ephemeral port.
    let service = Service {
        name: "go.micro.srv.v5greeter".into(),
        version: "latest".into(),
        nodes: (1..=2)
            .map(|i| Node {
                id: format!("go.micro.srv.v5greeter-node{i}"),
                address: format!("{}:5005{i}", b.ip),
                metadata: Default::default(),
            })
            .collect(),
        ..Default::default()
    };
    registry_b
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    let answers = peer
        .run(move || async move {
            let socket = tokio::net::UdpSocket::bind("0.0.0.0:0").await.unwrap();
            socket
                .send_to(
                    &get_query_v5,
                    SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353),
                )
                .await
                .unwrap();
            let mut answers = Vec::new();
            let mut buffer = vec![0u8; 65536];
            while let Ok(Ok((n, _))) =
                timeout(Duration::from_millis(300), socket.recv_from(&mut buffer)).await
            {
                answers.push(buffer[..n].to_vec());
            }
            answers
        })
        .await;
    // Our own announcements go to 5353, not to the client's port: only answers arrive here.
    assert_eq!(answers.len(), 2, "one answer packet per node");
    let mut ids = Vec::new();
    for answer in &answers {
        let parsed = message::parse_packet(answer).unwrap();
        assert_eq!(parsed.questions.len(), 1);
        assert_eq!(parsed.questions[0].name, "go.micro.srv.v5greeter.micro.");
        assert_eq!(parsed.instances.len(), 1);
        let names = muster_registry::mdns::names::Names::new("micro").unwrap();
        let node = message::observe(&parsed.instances[0], &names)
            .unwrap()
            .unwrap();
        ids.push(node.service.nodes[0].id.clone());
    }
    ids.sort();
    assert_eq!(
        ids,
        [
            "go.micro.srv.v5greeter-node1",
            "go.micro.srv.v5greeter-node2"
        ]
    );
}

async fn multicast_from_5353(packet: &[u8]) {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None).unwrap();
    socket.set_reuse_address(true).unwrap();
    socket.set_reuse_port(true).unwrap();
    socket
        .bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5353)).into())
        .unwrap();
    socket.set_nonblocking(true).unwrap();
    let socket = tokio::net::UdpSocket::from_std(socket.into()).unwrap();
    socket
        .send_to(
            packet,
            SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_is_counted_and_dropped() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (attacker, b) = (lan.host(0), lan.host(1));
    let registry_b = b.registry(MdnsOptions::default()).await;
    let announce = vectors::read("gomicro-v1.18/02-announce.bin");
    attacker
        .run(move || async move {
            let mut packets: Vec<Vec<u8>> = vec![
                vec![],
                vec![0; 5],
                vec![0xff; 12],
                // A question that points at itself.
                vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 12, 0, 1],
            ];
            // The announcement with its TXT hex damaged.
            let mut bad_hex = announce.clone();
            let at = bad_hex.len() - 10;
            bad_hex[at] = b'z';
            packets.push(bad_hex);
            // A flood of 2000 random datagrams.
            let mut seed = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..2000 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                let len = (seed % 600) as usize;
                packets.push((0..len).map(|i| (seed >> (i % 56)) as u8).collect());
            }
            for packet in packets {
                multicast_from_5353(&packet).await;
            }
        })
        .await;
    wait_for("the drops to be counted", || {
        let registry_b = registry_b.clone();
        async move { registry_b.stats().dropped.malformed >= 3 }
    })
    .await;
    let stats = registry_b.stats();
    assert!(stats.dropped.txt_hex >= 1, "{stats:?}");
    assert_eq!(registry_b.nodes().await.unwrap(), vec![]);
    // Still working.
    let service = greeter("after", b.ip, 1234);
    registry_b
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    assert_eq!(
        registry_b
            .get_service(&service.name, fresh())
            .await
            .unwrap(),
        vec![service]
    );
}

/// A one-shot announcer may claim any TTL (up to 68 years); the cache believes at most twice
/// go-micro's 120 s, so a fake node that never answers a refresh query is gone in minutes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_long_ttl_from_the_network_is_capped() {
    use muster_registry::mdns::names::Names;
    use muster_registry::mdns::txt::{self, TxtPayload};
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (announcer, b) = (lan.host(0), lan.host(1));
    let registry_b = b.registry(MdnsOptions::default()).await;
    let service = greeter("squatter", announcer.ip, 9);
    let names = Names::new("micro").unwrap();
    let records = message::NodeRecords {
        service_owner: names.service(&service.name),
        instance: names.instance(&service.name, &service.nodes[0].id),
        host: "squatter.".into(),
        ip: announcer.ip.into(),
        port: 9,
        txt: txt::encode(&TxtPayload::for_node(&service, &service.nodes[0].metadata)),
    };
    let packet = message::announcement(&records, 24 * 60 * 60);
    announcer
        .run(move || async move { multicast_from_5353(&packet).await })
        .await;
    wait_for("the node to be cached", || {
        let registry_b = registry_b.clone();
        async move { !registry_b.nodes().await.unwrap().is_empty() }
    })
    .await;
    let nodes = registry_b.nodes().await.unwrap();
    assert_eq!(nodes[0].ttl, Duration::from_secs(240), "{nodes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_single_registry() {
    if skip() {
        return;
    }
    let lan = Lan::new(1);
    let a = lan.host(0);
    let registry = a.registry(MdnsOptions::default()).await;
    let suite = Suite::unique().with_ttl(Duration::from_secs(2));
    conformance::run_all(&*registry, &suite).await.unwrap();
}

/// Writes on host A, reads and watches on host B: the suite sees the registry as a LAN does.
struct AcrossTheLan {
    writer: Arc<MdnsRegistry>,
    reader: Arc<MdnsRegistry>,
}

#[async_trait]
impl Registry for AcrossTheLan {
    async fn init(&self, options: Options) -> Result<()> {
        self.reader.init(options).await
    }
    fn options(&self) -> Options {
        self.reader.options()
    }
    async fn register(&self, service: &Service, options: RegisterOptions) -> Result<()> {
        self.writer.register(service, options).await
    }
    async fn deregister(&self, service: &Service, options: DeregisterOptions) -> Result<()> {
        self.writer.deregister(service, options).await
    }
    async fn get_service(&self, name: &str, options: QueryOptions) -> Result<Vec<Service>> {
        self.reader.get_service(name, options).await
    }
    async fn list_services(&self, options: QueryOptions) -> Result<Vec<Service>> {
        self.reader.list_services(options).await
    }
    async fn watch(&self, options: WatchOptions) -> Result<Box<dyn Watcher>> {
        self.reader.watch(options).await
    }
    fn name(&self) -> &'static str {
        "mdns"
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance_across_two_hosts() {
    if skip() {
        return;
    }
    let lan = Lan::new(2);
    let (a, b) = (lan.host(0), lan.host(1));
    let registry = AcrossTheLan {
        writer: a.registry(MdnsOptions::default()).await,
        reader: b.registry(MdnsOptions::default()).await,
    };
    let suite = Suite::unique().with_ttl(Duration::from_secs(2));
    conformance::run_all(&registry, &suite).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_only_and_dual_stack_copies_are_one_node() {
    if skip() {
        return;
    }
    let lan = Lan::new(3);
    let (a, b, c) = (lan.host(0), lan.host(1), lan.host(2));
    let v6_only = MdnsOptions {
        ipv4: false,
        ..Default::default()
    };
    let registry_a = a.registry(v6_only.clone()).await;
    let registry_b = b.registry(v6_only).await;
    // C listens on both families: every announcement arrives twice.
    let registry_c = c.registry(MdnsOptions::default()).await;
    let mut watcher_b = registry_b.watch(WatchOptions::default()).await.unwrap();
    let mut watcher_c = registry_c.watch(WatchOptions::default()).await.unwrap();

    let mut service = greeter("v6", a.ip, 50051);
    service.nodes.push(Node {
        id: "go.micro.srv.greeter-v6-2".into(),
        address: "[fe80::1]:50052".into(),
        metadata: Default::default(),
    });
    registry_a
        .register(&service, RegisterOptions::default())
        .await
        .unwrap();
    for watcher in [&mut watcher_b, &mut watcher_c] {
        let events = [next_event(watcher).await, next_event(watcher).await];
        assert!(events.iter().all(|event| event.action == Action::Create));
        let mut ids = events.map(|event| event.id);
        ids.sort();
        assert_eq!(
            ids,
            ["go.micro.srv.greeter-v6", "go.micro.srv.greeter-v6-2"]
        );
    }
    let found = registry_b
        .get_service(&service.name, fresh())
        .await
        .unwrap();
    assert_eq!(
        found,
        vec![service.clone()],
        "AAAA addresses come back bracketed"
    );
    // The remaining announcements and their second copies change nothing.
    let quiet = timeout(Duration::from_millis(3500), watcher_c.next()).await;
    assert!(quiet.is_err(), "duplicates must not make events: {quiet:?}");
    assert!(registry_c.stats().packets_received >= 6);
}
