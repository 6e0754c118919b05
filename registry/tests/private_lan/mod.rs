//! A private LAN of network namespaces: the one place tests and benches build them.
//!
//! The machine's root namespace must never see test mDNS traffic (its `lo` has no MULTICAST
//! flag and `eth0` leads off the machine). So a test builds its own LAN: a bridge in one
//! namespace (no multicast snooping: multicast floods every port, as on a plain switch), one
//! namespace per host with a veth `eth0` on the bridge, `10.<subnet>.0.N/24`, IPv6 duplicate
//! address detection off (link-local addresses usable at once), and a route for 224.0.0.0/4.
//! Every namespace is deleted on drop, panics included.
//!
//! Shared by path (`#[path]`) by the registry's mDNS tests (10.77, `muster-t*`), the server's
//! DNS-SD tests (10.78, `mdsd-*`) and the end-to-end bench (10.79, `mbench-*`): distinct
//! subnets and names, so they can run at once. Needs root and `ip` (iproute2).
#![allow(dead_code)]

use std::fs::File;
use std::net::Ipv4Addr;
use std::process::Command;

use nix::sched::{setns, CloneFlags};

/// Runs `ip` with `args`, panicking with its message on failure.
pub fn ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` (iproute2 needed for netns tests): {e}"));
    assert!(
        output.status.success(),
        "`ip {}` failed: {} (netns tests need root; MUSTER_SKIP_NETNS=1 skips the tests)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// The namespaces of one LAN; host i has `10.<subnet>.0.(i+1)`.
pub struct PrivateLan {
    subnet: u8,
    bridge_ns: String,
    hosts: Vec<String>,
}

impl PrivateLan {
    /// Builds a LAN on `10.<subnet>.0.0/24` with one host per name in `hosts`; namespaces are
    /// named `<prefix>-lan` (the bridge) and `<prefix>-<host>`.
    pub fn new(prefix: &str, subnet: u8, hosts: &[String]) -> PrivateLan {
        let mut lan = PrivateLan {
            subnet,
            bridge_ns: format!("{prefix}-lan"),
            hosts: Vec::new(),
        };
        let bridge = lan.bridge_ns.clone();
        ip(&["netns", "add", &bridge]);
        ip(&[
            "-n",
            &bridge,
            "link",
            "add",
            "br0",
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ]);
        ip(&["-n", &bridge, "link", "set", "br0", "up"]);
        for (index, host) in hosts.iter().enumerate() {
            let ns = format!("{prefix}-{host}");
            ip(&["netns", "add", &ns]);
            lan.hosts.push(ns.clone());
            let dad = Command::new("ip")
                .args(["netns", "exec", &ns, "sysctl", "-qw"])
                .args([
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.accept_dad=0",
                ])
                .status()
                .expect("sysctl in a test namespace");
            assert!(dad.success(), "sysctl accept_dad in {ns}");
            let port = format!("p{index}");
            ip(&[
                "-n", &bridge, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &ns,
            ]);
            ip(&["-n", &bridge, "link", "set", &port, "master", "br0", "up"]);
            let address = format!("{}/24", lan.address(index));
            ip(&["-n", &ns, "addr", "add", &address, "dev", "eth0"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
            ip(&["-n", &ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
        }
        lan
    }

    /// Host `index`'s IPv4 address.
    pub fn address(&self, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, self.subnet, 0, index as u8 + 1)
    }

    /// Host `index`'s namespace name (for `ip netns exec` and [`enter`]).
    pub fn namespace(&self, index: usize) -> &str {
        &self.hosts[index]
    }
}

impl Drop for PrivateLan {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.bridge_ns)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// Moves the calling thread into namespace `ns` (`setns` is per thread). Threads it spawns
/// afterwards start there too, and sockets it opens belong to that namespace whichever thread
/// uses them later. Asserts the move happened: a test talking from the machine's namespace
/// would be a test of the wrong network.
pub fn enter(ns: &str) {
    let current = || std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    let before = current();
    let path = format!("/var/run/netns/{ns}");
    let namespace = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    setns(namespace, CloneFlags::CLONE_NEWNET).expect("setns into a test namespace");
    assert_ne!(
        current(),
        before,
        "thread still in its old network namespace"
    );
}
