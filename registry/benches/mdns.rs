//! mDNS backend benchmarks.
//!
//! - `parse`: packets parsed and decoded per second on one core (go-micro v1.18's captured
//!   announcement), against baselines measured in the same process: a copy of the datagram and
//!   simple-dns's `Packet::parse` alone; plus the refresh path (parse, no TXT decode) and the
//!   in-process path from datagram bytes to a cache change (what precedes a watch event).
//! - `registry` (needs root and `ip`: a private LAN of network namespaces, as the tests):
//!   cached `get_service` latency (go-micro's is a fixed 100 ms), and the time from an
//!   announcement datagram leaving a peer's socket to the watch event on another host.
//!   Skipped with a message where namespaces cannot be made (or `MUSTER_SKIP_NETNS=1`).
//!
//! `cargo bench -p muster-registry --features mdns --bench mdns`

#[path = "../tests/mdns_support/mod.rs"]
mod mdns_support;

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use muster_registry::mdns::admission::Origin;
use muster_registry::mdns::cache::Cache;
use muster_registry::mdns::message;
use muster_registry::mdns::names::Names;
use muster_registry::mdns::txt;
use muster_registry::mdns::MdnsOptions;
use muster_registry::{Action, QueryOptions, Registry, WatchOptions};

#[path = "../tests/vectors/mod.rs"]
mod vectors;

use vectors::read as vector;

fn parse(c: &mut Criterion) {
    let announce = vector("gomicro-v1.18/02-announce.bin");
    let names = Names::new("micro").unwrap();
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Elements(1));
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("baseline_copy", |b| b.iter(|| black_box(announce.clone())));
    group.bench_function("baseline_simple_dns_parse", |b| {
        b.iter(|| black_box(simple_dns::Packet::parse(black_box(&announce)).unwrap()))
    });
    group.bench_function("parse_only_refresh_path", |b| {
        b.iter(|| black_box(message::parse_packet(black_box(&announce)).unwrap()))
    });
    let greeter_txt = message::parse_packet(&announce).unwrap().instances[0]
        .txt
        .clone()
        .unwrap()
        .0;
    group.bench_function("txt_decode_only", |b| {
        b.iter(|| black_box(txt::decode_joined(black_box(&greeter_txt)).unwrap()))
    });
    group.bench_function("parse_and_decode", |b| {
        b.iter(|| {
            let parsed = message::parse_packet(black_box(&announce)).unwrap();
            let node = message::observe(&parsed.instances[0], &names)
                .unwrap()
                .unwrap();
            black_box(node)
        })
    });
    group.bench_function("datagram_to_cache_change", |b| {
        b.iter_batched(
            Cache::default,
            |mut cache| {
                let parsed = message::parse_packet(black_box(&announce)).unwrap();
                let node = message::observe(&parsed.instances[0], &names)
                    .unwrap()
                    .unwrap();
                let origin = Origin::Heard {
                    source: std::net::Ipv4Addr::new(10, 0, 0, 1).into(),
                    answered: false,
                };
                let upserted = cache.upsert(node, Duration::from_secs(120), origin, Instant::now());
                black_box(upserted.change.unwrap())
            },
            criterion::BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn registry(c: &mut Criterion) {
    if mdns_support::skip() {
        return;
    }
    let root = std::fs::read_to_string("/proc/self/status").is_ok_and(|status| {
        status
            .lines()
            .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
    });
    let has_ip = std::process::Command::new("ip").arg("-V").output().is_ok();
    if !root || !has_ip {
        eprintln!(
            "registry benches SKIPPED: network namespaces need root and `ip`; the in-process \
             `parse/datagram_to_cache_change` bench measures the path from bytes to a change"
        );
        return;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let lan = mdns_support::Lan::new(2);
    let (peer, host) = (lan.host(0), lan.host(1));
    let registry = runtime.block_on(host.registry(MdnsOptions::default()));
    let announce = vector("gomicro-v1.18/02-announce.bin");
    let goodbye = vector("gomicro-v1.18/07-goodbye.bin");
    // A plain std socket made inside the peer's namespace works from any thread.
    let sender = runtime
        .block_on(peer.run(|| async {
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)?;
            socket.set_reuse_address(true)?;
            socket.set_reuse_port(true)?;
            socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5353)).into())?;
            std::io::Result::Ok(std::net::UdpSocket::from(socket))
        }))
        .unwrap();
    let group_addr = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353);
    let mut watcher = runtime
        .block_on(registry.watch(WatchOptions::default()))
        .unwrap();

    let mut group = c.benchmark_group("registry");
    group.measurement_time(Duration::from_secs(3));
    group.sample_size(30);

    // The node must be known (and the cache warm) before cached reads are measured.
    sender.send_to(&announce, group_addr).unwrap();
    runtime.block_on(async {
        assert_eq!(watcher.next().await.unwrap().action, Action::Create);
        tokio::time::sleep(Duration::from_millis(300)).await;
    });
    group.bench_function("cached_get_service", |b| {
        b.iter(|| {
            runtime
                .block_on(registry.get_service("go.micro.srv.greeter", QueryOptions::default()))
                .unwrap()
        })
    });
    let mut message_id: u16 = 0;
    group.bench_function("announcement_to_watch_event", |b| {
        b.iter_custom(|iterations| {
            let mut total = Duration::ZERO;
            for _ in 0..iterations {
                // Goodbye first (the node is known), then the announcement: delete, create.
                for (packet, action) in [(&goodbye, Action::Delete), (&announce, Action::Create)] {
                    // A fresh message ID each time: the engine drops byte-identical copies
                    // (the other family's) seen within 250 ms.
                    message_id = message_id.wrapping_add(1);
                    let mut packet = packet.clone();
                    packet[..2].copy_from_slice(&message_id.to_be_bytes());
                    let sent_at = Instant::now();
                    sender.send_to(&packet, group_addr).unwrap();
                    let event = runtime.block_on(watcher.next()).unwrap();
                    total += sent_at.elapsed() / 2;
                    assert_eq!(event.action, action);
                }
            }
            total
        })
    });
    group.finish();
    let stats = registry.stats();
    eprintln!("registry stats after the benches: {stats:?}");
    drop(runtime);
}

criterion_group!(benches, parse, registry);
criterion_main!(benches);
