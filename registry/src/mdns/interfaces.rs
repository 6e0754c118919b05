//! Which network interfaces the mDNS backend joins, announces and queries on.
//!
//! Uses `nix`'s `getifaddrs`: unlike `if-addrs`, it reports the interface flags (UP,
//! MULTICAST, LOOPBACK) that the default selection needs, and `nix` is needed anyway for the
//! host name. The default is every interface that is up, multicast-capable and not loopback —
//! where go-micro joins "every interface" and lets the kernel sort it out. A machine with no
//! such interface (a container, a laptop offline) gets its loopback instead: multicast sent with
//! `IP_MULTICAST_IF` = 127.0.0.1 loops back to every socket joined there, even without the
//! MULTICAST flag on `lo`, so the services of this one machine still find each other.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, Ipv6Addr};

use nix::ifaddrs::getifaddrs;
use nix::net::if_::InterfaceFlags;

use crate::error::{Error, Result};
use crate::field::Field;

/// One interface the engine uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interface {
    /// Kernel name, e.g. `eth0`.
    pub name: String,
    /// Kernel index (joins and IPv6 multicast sends are per index).
    pub index: u32,
    /// IPv4 addresses; the first one selects the interface for IPv4 multicast.
    pub ipv4: Vec<Ipv4Addr>,
    /// IPv6 addresses.
    pub ipv6: Vec<Ipv6Addr>,
    /// The kernel's flags said multicast-capable.
    pub multicast: bool,
    /// The loopback interface: reaches this machine only.
    pub loopback: bool,
}

/// Every interface of the machine (of this network namespace) that is up.
fn up_interfaces() -> Result<BTreeMap<String, (InterfaceFlags, Interface)>> {
    let mut found: BTreeMap<String, (InterfaceFlags, Interface)> = BTreeMap::new();
    let addresses =
        getifaddrs().map_err(|error| Error::Backend(format!("listing interfaces: {error}")))?;
    for address in addresses {
        if !address.flags.contains(InterfaceFlags::IFF_UP) {
            continue;
        }
        let entry = found
            .entry(address.interface_name.clone())
            .or_insert_with(|| {
                let index =
                    nix::net::if_::if_nametoindex(address.interface_name.as_str()).unwrap_or(0);
                (
                    address.flags,
                    Interface {
                        name: address.interface_name.clone(),
                        index,
                        ipv4: Vec::new(),
                        ipv6: Vec::new(),
                        multicast: address.flags.contains(InterfaceFlags::IFF_MULTICAST),
                        loopback: address.flags.contains(InterfaceFlags::IFF_LOOPBACK),
                    },
                )
            });
        if let Some(storage) = address.address {
            if let Some(v4) = storage.as_sockaddr_in() {
                entry.1.ipv4.push(v4.ip());
            } else if let Some(v6) = storage.as_sockaddr_in6() {
                entry.1.ipv6.push(v6.ip());
            }
        }
    }
    Ok(found)
}

/// Resolves the selection: `wanted` holds interface names or addresses; empty means every up,
/// multicast-capable, non-loopback interface, or the loopback interface when there is none
/// ([`only_loopback`] tells). A named interface that is missing or down is an error (a typo
/// must not silently listen nowhere).
pub fn select(wanted: &[String]) -> Result<Vec<Interface>> {
    let all = up_interfaces()?;
    if wanted.is_empty() {
        let (loopback, lan): (Vec<Interface>, Vec<Interface>) = all
            .into_values()
            .map(|(_, interface)| interface)
            .partition(|interface| interface.loopback);
        let lan: Vec<Interface> = lan.into_iter().filter(|i| i.multicast).collect();
        let with_ipv4 = |interfaces: Vec<Interface>| -> Vec<Interface> {
            interfaces
                .into_iter()
                .filter(|i| !i.ipv4.is_empty())
                .collect()
        };
        return match (lan.is_empty(), with_ipv4(loopback)) {
            (false, _) => Ok(lan),
            (true, loopback) if !loopback.is_empty() => Ok(loopback),
            (true, _) => Err(Error::Backend(
                "no interface is up, not even loopback with an IPv4 address; name one explicitly"
                    .into(),
            )),
        };
    }
    let mut chosen: Vec<Interface> = Vec::new();
    for want in wanted {
        let found = all
            .values()
            .map(|(_, interface)| interface)
            .find(|interface| {
                interface.name == *want
                    || interface.ipv4.iter().any(|ip| ip.to_string() == *want)
                    || interface.ipv6.iter().any(|ip| ip.to_string() == *want)
            });
        let Some(interface) = found else {
            return Err(Error::invalid(
                Field::MdnsInterface,
                format!("`{want}` is not the name or address of an interface that is up"),
            ));
        };
        if !chosen.iter().any(|c| c.name == interface.name) {
            chosen.push(interface.clone());
        }
    }
    Ok(chosen)
}

/// The selection reaches this machine only: every chosen interface is a loopback.
pub fn only_loopback(chosen: &[Interface]) -> bool {
    !chosen.is_empty() && chosen.iter().all(|interface| interface.loopback)
}
