//! The console's own advertisement: `Muster on <host>:<port>._http._tcp.local.`, TXT `path=/`
//! and `version=`, so Bonjour browsers, avahi-browse and `dns-sd -B _http._tcp` list it.
//!
//! The port is part of the instance name because the name is the instance's identity: two
//! consoles on one host under one name would be one instance with two SRV records, and every
//! browser (the LAN page too) would show one of them, flipping between the two ports.
//!
//! Addresses: a console listening on every address (`0.0.0.0`, `::`) is advertised with the
//! addresses of the chosen interfaces, kept current by mdns-sd as they change; one listening
//! on a single address is advertised with that address. mdns-sd announces an address only on
//! an interface whose subnet holds it, so a console on `127.0.0.1` is advertised only where a
//! loopback interface is chosen: a LAN peer could not reach it anyway.

use std::net::SocketAddr;

use mdns_sd::ServiceInfo;

use super::instance_name::sanitize;

/// The DNS-SD type of a web UI (RFC 6763 §7, IANA registry: `http`, TXT key `path`).
pub const HTTP_TYPE: &str = "_http._tcp.local.";

/// The advertisement of a console listening on `listen`, on the machine called `host`.
pub fn service_info(host: &str, listen: SocketAddr) -> Result<ServiceInfo, String> {
    let instance = sanitize(&format!("Muster on {host}:{}", listen.port()));
    let properties = [("path", "/"), ("version", env!("CARGO_PKG_VERSION"))];
    let info = if listen.ip().is_unspecified() {
        ServiceInfo::new(
            HTTP_TYPE,
            &instance,
            &host_name(host),
            (),
            listen.port(),
            &properties[..],
        )
        .map(ServiceInfo::enable_addr_auto)
    } else {
        ServiceInfo::new(
            HTTP_TYPE,
            &instance,
            &host_name(host),
            listen.ip(),
            listen.port(),
            &properties[..],
        )
    };
    info.map_err(|error| format!("cannot build the advertisement: {error}"))
}

/// `<host>.local.`, the SRV target, with the host name reduced to what a DNS host label may
/// hold (RFC 952/1123: letters, digits, hyphens; at most 63 bytes).
pub fn host_name(host: &str) -> String {
    let label: String = host
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(63)
        .collect();
    let label = label.trim_matches('-');
    if label.is_empty() {
        "muster.local.".to_string()
    } else {
        format!("{label}.local.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_txt() {
        let info = service_info("vm", "0.0.0.0:3000".parse().unwrap()).unwrap();
        assert_eq!(info.get_fullname(), "Muster on vm:3000._http._tcp.local.");
        assert_eq!(info.get_hostname(), "vm.local.");
        assert_eq!(info.get_port(), 3000);
        assert!(info.is_addr_auto());
        assert_eq!(info.get_property_val_str("path"), Some("/"));
        assert_eq!(
            info.get_property_val_str("version"),
            Some(env!("CARGO_PKG_VERSION"))
        );
        let pinned = service_info("vm", "10.78.0.1:80".parse().unwrap()).unwrap();
        assert!(!pinned.is_addr_auto());
        assert_eq!(pinned.get_addresses_v4().len(), 1);
    }

    #[test]
    fn odd_host_names() {
        assert_eq!(host_name("my_box.example"), "my-box-example.local.");
        assert_eq!(host_name("---"), "muster.local.");
        assert_eq!(host_name("ĥost"), "ost.local.");
        assert_eq!(host_name(&"h".repeat(300)).len(), 63 + ".local.".len());
        let long = service_info(&"h".repeat(300), "0.0.0.0:1".parse().unwrap()).unwrap();
        let instance = long
            .get_fullname()
            .strip_suffix("._http._tcp.local.")
            .unwrap();
        assert_eq!(instance.len(), 63);
    }

    #[test]
    fn two_consoles_on_one_host_are_two_instances() {
        let first = service_info("vm", "0.0.0.0:3000".parse().unwrap()).unwrap();
        let second = service_info("vm", "0.0.0.0:3001".parse().unwrap()).unwrap();
        assert_ne!(first.get_fullname(), second.get_fullname());
        assert_eq!(first.get_hostname(), second.get_hostname());
    }
}
