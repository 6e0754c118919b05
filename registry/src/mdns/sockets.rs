//! The engine's UDP sockets, set up the way go-micro, Avahi and mdns-sd can share the port.
//!
//! - `0.0.0.0:5353` and `[::]:5353` with SO_REUSEADDR and SO_REUSEPORT: go-micro binds the same
//!   port with SO_REUSEADDR (Go sets it for multicast listeners), Avahi and mdns-sd with both;
//!   on Linux a UDP port is shared when every binder set the same option.
//! - Groups 224.0.0.251 / ff02::fb joined on each chosen interface only, and
//!   IP_MULTICAST_ALL off so the socket hears those joins and not every group of the machine.
//! - Multicast loop on: another registry on the same host (a go-micro service next to Muster)
//!   must hear our announcements.
//! - An ephemeral-port socket per family for queries: a unicast answer sent to port 5353 is
//!   delivered to only ONE of the sockets bound there, so answers to our queries must come to a
//!   port that is ours alone (go-micro queries the same way).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockRef, Socket, Type};
use tokio::net::UdpSocket;

use super::interfaces::Interface;
use crate::error::{Error, Result};

/// The mDNS port. Fixed by the protocol: go-micro peers only ever talk to 5353.
pub const MDNS_PORT: u16 = 5353;
/// The IPv4 mDNS group.
pub const GROUP_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 251);
/// The IPv6 link-local mDNS group.
pub const GROUP_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0xfb);

/// A datagram can be up to 64 KiB; go-micro payloads with many endpoints exceed the MTU.
pub const RECV_BUFFER_BYTES: usize = 64 * 1024;

/// Receive queue asked for each socket. A LAN where many go-micro services start at once
/// multicasts thousands of announcements a second, and the default queue (208 KiB, about a
/// hundred announcements) overflowed while the engine was busy: the end-to-end bench lost a
/// quarter of a 2,000/s burst. The kernel caps the request at `net.core.rmem_max`.
pub const RECEIVE_QUEUE_BYTES: usize = 4 * 1024 * 1024;

/// The sockets of one engine.
#[derive(Debug)]
pub struct Sockets {
    /// `0.0.0.0:5353`, joined on the interfaces.
    pub mdns_v4: Option<UdpSocket>,
    /// `[::]:5353`, joined on the interfaces.
    pub mdns_v6: Option<UdpSocket>,
    /// Ephemeral IPv4 port for queries.
    pub query_v4: Option<UdpSocket>,
    /// Ephemeral IPv6 port for queries.
    pub query_v6: Option<UdpSocket>,
    /// The interfaces sends go out on.
    pub interfaces: Vec<Interface>,
}

impl Sockets {
    /// Binds and joins. A family that cannot be set up (no IPv6 on the host, say) is logged and
    /// left out; having neither is an error.
    pub fn open(interfaces: Vec<Interface>, ipv4: bool, ipv6: bool) -> Result<Sockets> {
        let mut sockets = Sockets {
            mdns_v4: None,
            mdns_v6: None,
            query_v4: None,
            query_v6: None,
            interfaces,
        };
        let mut errors = Vec::new();
        if ipv4 {
            match open_v4(&sockets.interfaces) {
                Ok((mdns, query)) => {
                    sockets.mdns_v4 = Some(mdns);
                    sockets.query_v4 = Some(query);
                }
                Err(error) => errors.push(format!("IPv4: {error}")),
            }
        }
        if ipv6 {
            match open_v6(&sockets.interfaces) {
                Ok((mdns, query)) => {
                    sockets.mdns_v6 = Some(mdns);
                    sockets.query_v6 = Some(query);
                }
                Err(error) => errors.push(format!("IPv6: {error}")),
            }
        }
        if sockets.mdns_v4.is_none() && sockets.mdns_v6.is_none() {
            return Err(Error::Backend(format!(
                "cannot open mDNS sockets: {}",
                if errors.is_empty() {
                    "both IPv4 and IPv6 are disabled".to_string()
                } else {
                    errors.join("; ")
                }
            )));
        }
        for error in errors {
            tracing::warn!("mdns: {error}; continuing without it");
        }
        Ok(sockets)
    }

    /// Sends `packet` to the mDNS groups from the 5353 sockets, once per interface and family:
    /// announcements and goodbyes go out this way.
    pub async fn multicast(&self, packet: &[u8]) -> (usize, usize) {
        self.send_groups(self.mdns_v4.as_ref(), self.mdns_v6.as_ref(), packet)
            .await
    }

    /// Sends a query to the groups from the ephemeral sockets, once per interface and family.
    pub async fn multicast_query(&self, packet: &[u8]) -> (usize, usize) {
        self.send_groups(self.query_v4.as_ref(), self.query_v6.as_ref(), packet)
            .await
    }

    /// Sends an answer unicast to `to` from the 5353 socket of its family (go-micro answers from
    /// its listening socket, and queriers accept that).
    pub async fn unicast(&self, packet: &[u8], to: SocketAddr) -> io::Result<()> {
        let socket = match to.ip() {
            IpAddr::V4(_) => self.mdns_v4.as_ref(),
            IpAddr::V6(_) => self.mdns_v6.as_ref(),
        };
        let socket = socket.ok_or_else(|| io::Error::other("no socket of that family"))?;
        socket.send_to(packet, to).await.map(|_| ())
    }

    async fn send_groups(
        &self,
        v4: Option<&UdpSocket>,
        v6: Option<&UdpSocket>,
        packet: &[u8],
    ) -> (usize, usize) {
        let (mut sent, mut failed) = (0, 0);
        for interface in &self.interfaces {
            if let (Some(socket), Some(ip)) = (v4, interface.ipv4.first()) {
                let result = match SockRef::from(socket).set_multicast_if_v4(ip) {
                    Ok(()) => socket
                        .send_to(packet, SocketAddrV4::new(GROUP_V4, MDNS_PORT))
                        .await
                        .map(|_| ()),
                    Err(error) => Err(error),
                };
                count(result, &interface.name, &mut sent, &mut failed);
            }
            if let Some(socket) = v6 {
                let result = match SockRef::from(socket).set_multicast_if_v6(interface.index) {
                    Ok(()) => socket
                        .send_to(
                            packet,
                            SocketAddrV6::new(GROUP_V6, MDNS_PORT, 0, interface.index),
                        )
                        .await
                        .map(|_| ()),
                    Err(error) => Err(error),
                };
                count(result, &interface.name, &mut sent, &mut failed);
            }
        }
        (sent, failed)
    }
}

fn count(result: io::Result<()>, interface: &str, sent: &mut usize, failed: &mut usize) {
    match result {
        Ok(()) => *sent += 1,
        Err(error) => {
            *failed += 1;
            tracing::debug!("mdns: send on {interface} failed: {error}");
        }
    }
}

fn open_v4(interfaces: &[Interface]) -> io::Result<(UdpSocket, UdpSocket)> {
    let socket = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_recv_buffer_size(RECEIVE_QUEUE_BYTES)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, MDNS_PORT)).into())?;
    socket.set_multicast_all_v4(false)?;
    socket.set_multicast_loop_v4(true)?;
    socket.set_multicast_ttl_v4(255)?;
    let mut joined = 0;
    for interface in interfaces {
        let by = InterfaceIndexOrAddress::Index(interface.index);
        match socket.join_multicast_v4_n(&GROUP_V4, &by) {
            Ok(()) => joined += 1,
            Err(error) => tracing::warn!("mdns: joining {GROUP_V4} on {}: {error}", interface.name),
        }
    }
    if joined == 0 {
        return Err(io::Error::other(format!(
            "could not join {GROUP_V4} on any interface"
        )));
    }
    let query = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    // Answers to a list query arrive together, one packet per service.
    query.set_recv_buffer_size(RECEIVE_QUEUE_BYTES)?;
    query.bind(&SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)).into())?;
    query.set_multicast_loop_v4(true)?;
    query.set_multicast_ttl_v4(255)?;
    Ok((into_tokio(socket)?, into_tokio(query)?))
}

fn open_v6(interfaces: &[Interface]) -> io::Result<(UdpSocket, UdpSocket)> {
    let socket = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    socket.set_recv_buffer_size(RECEIVE_QUEUE_BYTES)?;
    socket.set_only_v6(true)?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, MDNS_PORT)).into())?;
    socket.set_multicast_all_v6(false)?;
    socket.set_multicast_loop_v6(true)?;
    socket.set_multicast_hops_v6(255)?;
    let mut joined = 0;
    for interface in interfaces {
        match socket.join_multicast_v6(&GROUP_V6, interface.index) {
            Ok(()) => joined += 1,
            Err(error) => tracing::warn!("mdns: joining {GROUP_V6} on {}: {error}", interface.name),
        }
    }
    if joined == 0 {
        return Err(io::Error::other(format!(
            "could not join {GROUP_V6} on any interface"
        )));
    }
    let query = Socket::new(Domain::IPV6, Type::DGRAM, Some(Protocol::UDP))?;
    query.set_recv_buffer_size(RECEIVE_QUEUE_BYTES)?;
    query.set_only_v6(true)?;
    query.bind(&SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)).into())?;
    query.set_multicast_loop_v6(true)?;
    query.set_multicast_hops_v6(255)?;
    Ok((into_tokio(socket)?, into_tokio(query)?))
}

fn into_tokio(socket: Socket) -> io::Result<UdpSocket> {
    socket.set_nonblocking(true)?;
    UdpSocket::from_std(socket.into())
}
