//! The nodes this process owns, and how they are announced.
//!
//! go-micro announces a new node three times, at +0 s, +1 s and +3 s (multicast, QR=1, AA=0,
//! SRV, A, TXT, TTL 120), and never again: afterwards it only answers queries. On deregister it
//! sends one goodbye — the same packet with every TTL 0, TXT included, because go-micro's
//! watcher decodes the TXT of every packet and ignores one it cannot decode. A killed process
//! sends nothing; its node lives on in caches until the TTL runs out.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use super::message::NodeRecords;
use super::names::Names;
use super::txt::{self, TxtPayload};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::{Node, Service};

/// When the announcements go out, counted from registration: +0 s, +1 s, +3 s.
pub const ANNOUNCE_OFFSETS: [Duration; 3] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(3),
];

/// A node registered by this process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedNode {
    /// Its records, ready to put on the wire.
    pub records: NodeRecords,
    /// The service carrying exactly this node, as registered.
    pub service: Service,
    /// Bumped on every change, so stale announce/expiry timers are recognised.
    pub generation: u64,
    /// When the registration lapses unless renewed (`RegisterOptions::ttl`); `None`: never.
    pub expires_at: Option<Instant>,
}

/// The records announcing `node` of `service` from this host. Refuses addresses that are not
/// `ip:port`: the address travels as an A/AAAA record, which only holds an IP literal.
pub fn node_records(
    names: &Names,
    host: &str,
    service: &Service,
    node: &Node,
) -> Result<NodeRecords> {
    names.check_node(&service.name, &node.id)?;
    let address: SocketAddr = node.address.parse().map_err(|_| {
        Error::invalid(
            Field::NodeAddress,
            format!(
                "`{}` is not ip:port; mDNS carries the address as an A/AAAA record",
                node.address
            ),
        )
    })?;
    if address.port() == 0 {
        return Err(Error::invalid(
            Field::NodeAddress,
            "port 0 cannot be announced",
        ));
    }
    let ip: IpAddr = address.ip();
    Ok(NodeRecords {
        service_owner: names.service(&service.name),
        instance: names.instance(&service.name, &node.id),
        host: host.to_string(),
        ip,
        port: address.port(),
        txt: txt::encode(&TxtPayload::for_node(service, &node.metadata)),
    })
}

/// The service with only `node` (service-level metadata dropped: mDNS does not carry it, and
/// what a peer would see is what the cache must hold).
pub fn single_node(service: &Service, node: &Node) -> Service {
    Service {
        name: service.name.clone(),
        version: service.version.clone(),
        metadata: Default::default(),
        endpoints: service.endpoints.clone(),
        nodes: vec![node.clone()],
    }
}
