//! The load generator: a go-micro peer on another host of the LAN, reduced to its wire output.
//!
//! Each packet is built by the registry's own encoder exactly as go-micro shapes it (SRV, A,
//! TXT; no PTR; ID 0; JSON → zlib → hex TXT) and multicast from a socket bound to 5353 on the
//! load generator's `eth0`, as go-micro's announcer does. Sending is paced to a rate so the
//! bench measures the console's latency, not the depth of a flooded socket buffer.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::time::{Duration, Instant};

use muster_registry::mdns::message::{announcement, NodeRecords};
use muster_registry::mdns::names::Names;
use muster_registry::mdns::txt::{self, TxtPayload};
use muster_registry::{Endpoint, Metadata, Service, Value};

/// The mDNS group.
const GROUP: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(224, 0, 0, 251), 5353);

/// The announcement TTL. go-micro uses 120 s and answers the cache's refresh queries; this
/// generator answers none, so its nodes carry an hour to stay alive for the whole run.
pub const TTL_SECS: u32 = 3600;

/// One node a go-micro service would announce.
#[derive(Debug, Clone)]
pub struct Announced {
    /// Service name.
    pub service: String,
    /// Node id.
    pub node_id: String,
    /// The announcement datagram.
    pub hello: Vec<u8>,
    /// The goodbye datagram (every TTL 0, full TXT, as go-micro sends it).
    pub goodbye: Vec<u8>,
}

/// Builds node `node_id` of `service` at `ip`:`port`, with one endpoint and go-micro's usual
/// node metadata (a realistic TXT of a few hundred bytes).
pub fn node(service: &str, node_id: &str, ip: Ipv4Addr, port: u16) -> Announced {
    let names = Names::new("micro").expect("the micro domain");
    let model = Service {
        name: service.to_string(),
        version: "1.0.0".to_string(),
        endpoints: vec![Endpoint {
            name: "Bench.Call".to_string(),
            request: Some(Value {
                name: "Request".to_string(),
                r#type: "Request".to_string(),
                values: vec![Value {
                    name: "name".to_string(),
                    r#type: "string".to_string(),
                    values: Vec::new(),
                }],
            }),
            response: Some(Value {
                name: "Response".to_string(),
                r#type: "Response".to_string(),
                values: Vec::new(),
            }),
            metadata: Metadata::from([("stream".to_string(), "false".to_string())]),
        }],
        ..Service::default()
    };
    let node_metadata = Metadata::from([
        ("broker".to_string(), "http".to_string()),
        ("protocol".to_string(), "grpc".to_string()),
        ("registry".to_string(), "mdns".to_string()),
        ("server".to_string(), "grpc".to_string()),
        ("transport".to_string(), "grpc".to_string()),
    ]);
    let records = NodeRecords {
        service_owner: names.service(service),
        instance: names.instance(service, node_id),
        host: "loadgen.".to_string(),
        ip: ip.into(),
        port,
        txt: txt::encode(&TxtPayload::for_node(&model, &node_metadata)),
    };
    Announced {
        service: service.to_string(),
        node_id: node_id.to_string(),
        hello: announcement(&records, TTL_SECS),
        goodbye: announcement(&records, 0),
    }
}

/// The generator's socket: bound to 0.0.0.0:5353 with the port shared (go-micro, Avahi and the
/// registry share it the same way). Must be called on a thread inside the generator's
/// namespace; the socket then works from any thread.
pub fn socket() -> UdpSocket {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::DGRAM, None)
        .expect("a UDP socket");
    socket.set_reuse_address(true).unwrap();
    socket.set_reuse_port(true).unwrap();
    // The generator hears nothing it needs: its own echoes only fill the buffer.
    socket.set_multicast_loop_v4(false).unwrap();
    socket
        .bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 5353)).into())
        .expect("bind 5353 in the generator's namespace");
    socket.into()
}

/// Sends `packets` at `per_second`, returning when each was handed to the kernel (stamped just
/// before its `send_to`, so the send itself counts towards the latency measured).
pub fn send_paced<'a>(
    socket: &UdpSocket,
    packets: impl IntoIterator<Item = &'a [u8]>,
    per_second: f64,
) -> Vec<Instant> {
    send_paced_with(socket, packets, per_second, Instant::now)
}

/// [`send_paced`], each packet stamped by `stamp` just before its `send_to`: `SystemTime`
/// where a browser's timestamps (the wall clock) are compared with it.
/// Sleeps between sends when the gap allows, spins the last stretch so stamps stay exact.
pub fn send_paced_with<'a, T>(
    socket: &UdpSocket,
    packets: impl IntoIterator<Item = &'a [u8]>,
    per_second: f64,
    mut stamp: impl FnMut() -> T,
) -> Vec<T> {
    let gap = Duration::from_secs_f64(1.0 / per_second);
    let start = Instant::now();
    let mut sent = Vec::new();
    for (index, packet) in packets.into_iter().enumerate() {
        let due = start + gap.mul_f64(index as f64);
        wait_until(due);
        sent.push(stamp());
        socket.send_to(packet, GROUP).expect("multicast send");
    }
    sent
}

/// Sleeps to within 200 µs of `due`, then yields until it passes.
pub fn wait_until(due: Instant) {
    loop {
        let now = Instant::now();
        if now >= due {
            return;
        }
        let left = due - now;
        if left > Duration::from_micros(200) {
            std::thread::sleep(left - Duration::from_micros(200));
        } else {
            std::thread::yield_now();
        }
    }
}
