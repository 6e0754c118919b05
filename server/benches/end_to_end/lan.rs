//! A private LAN of network namespaces for the benchmark: nothing it sends can reach the
//! machine's own interfaces (the root namespace's `lo` has no MULTICAST flag and its `eth0`
//! leads off the machine).
//!
//! One bridge namespace, and one namespace per host with a veth `eth0` on the bridge,
//! 10.79.0.N/24 (a subnet no test uses: the registry's tests take 10.77.0.0/24), a route for
//! 224.0.0.0/4 and IPv6 duplicate address detection off so link-local addresses work at once.
//! Names start with `mbench-<pid>`; every namespace is deleted on drop, panics included.

use std::fs::File;
use std::net::Ipv4Addr;
use std::process::Command;

use nix::sched::{setns, CloneFlags};

/// Runs `ip` with `args`, panicking with its message on failure (the bench needs root).
fn ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` (iproute2 needed): {e}"));
    assert!(
        output.status.success(),
        "`ip {}` failed: {} (the end-to-end bench needs root)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// The LAN; hosts are numbered from 0 and host i has 10.79.0.(i+1).
pub struct Lan {
    bridge_ns: String,
    hosts: Vec<String>,
}

impl Lan {
    /// Builds a LAN with one host per name in `roles` (used in the namespace names).
    pub fn new(roles: &[&str]) -> Lan {
        let prefix = format!("mbench-{}", std::process::id());
        let mut lan = Lan {
            bridge_ns: format!("{prefix}-lan"),
            hosts: Vec::new(),
        };
        let bridge = lan.bridge_ns.clone();
        ip(&["netns", "add", &bridge]);
        // No snooping: multicast floods every port, as on a plain switch.
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
        for (index, role) in roles.iter().enumerate() {
            let ns = format!("{prefix}-{role}");
            ip(&["netns", "add", &ns]);
            lan.hosts.push(ns.clone());
            let dad = Command::new("ip")
                .args(["netns", "exec", &ns, "sysctl", "-qw"])
                .args([
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.accept_dad=0",
                ])
                .status()
                .expect("sysctl in a bench namespace");
            assert!(dad.success(), "sysctl accept_dad in {ns}");
            let port = format!("p{index}");
            ip(&[
                "-n", &bridge, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &ns,
            ]);
            ip(&["-n", &bridge, "link", "set", &port, "master", "br0", "up"]);
            let address = format!("{}/24", Lan::address(index));
            ip(&["-n", &ns, "addr", "add", &address, "dev", "eth0"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
            ip(&["-n", &ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
        }
        lan
    }

    /// Host `index`'s IPv4 address.
    pub fn address(index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 79, 0, index as u8 + 1)
    }

    /// Host `index`'s namespace name (for `ip netns exec`).
    pub fn namespace(&self, index: usize) -> &str {
        &self.hosts[index]
    }
}

/// Moves the calling thread into namespace `ns`. Threads it spawns afterwards (a Tokio
/// runtime's workers included) start there too, and sockets it opens belong to that namespace
/// whichever thread uses them later.
pub fn enter(ns: &str) {
    let path = format!("/var/run/netns/{ns}");
    let namespace = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let before = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    setns(namespace, CloneFlags::CLONE_NEWNET).expect("setns into a bench namespace");
    let after = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
    assert_ne!(
        before, after,
        "bench thread still in its old network namespace"
    );
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.hosts.iter().chain(std::iter::once(&self.bridge_ns)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
