//! Network namespaces for mDNS tests: a private LAN of "hosts" that only this test sees.
//!
//! The machine's root namespace must never see test mDNS traffic (its `lo` has no MULTICAST
//! flag and `eth0` leads off the machine). So each test builds its own LAN: a bridge in one
//! namespace, one namespace per host with a veth `eth0` on the bridge, 10.77.0.N/24, IPv6
//! link-local without duplicate address detection, a route for 224.0.0.0/4. Every registry
//! runs on a dedicated thread that entered its host's namespace (`setns` is per thread) and
//! drives a current-thread Tokio runtime there, so its sockets and interface list are that
//! host's. Namespaces are deleted on drop, panics included.
//!
//! Needs root and `ip` (CI runs as root). Without them the tests fail loudly; set
//! `MUSTER_SKIP_NETNS=1` to skip them explicitly (a warning is printed).
#![allow(dead_code)]

use std::fs::File;
use std::future::Future;
use std::net::Ipv4Addr;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use muster_registry::mdns::{MdnsOptions, MdnsRegistry};
use nix::sched::{setns, CloneFlags};

static NEXT_LAN: AtomicUsize = AtomicUsize::new(0);

/// `true` (after a warning) when the environment asks to skip namespace tests.
pub fn skip() -> bool {
    if std::env::var_os("MUSTER_SKIP_NETNS").is_some_and(|v| v == "1") {
        // Straight to the stream: the test harness captures `eprintln!` of passing tests.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"WARNING: MUSTER_SKIP_NETNS=1: mDNS network-namespace test SKIPPED\n",
        );
        return true;
    }
    false
}

fn ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `ip` (iproute2 needed for mDNS netns tests): {e}"));
    assert!(
        output.status.success(),
        "`ip {}` failed: {} (mDNS netns tests need root; set MUSTER_SKIP_NETNS=1 to skip)",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    );
}

/// A private LAN of hosts.
pub struct Lan {
    bridge_ns: String,
    host_ns: Vec<String>,
}

impl Lan {
    /// Builds a LAN with `hosts` hosts: host i has 10.77.0.(i+1).
    pub fn new(hosts: usize) -> Lan {
        let id = format!(
            "muster-t{}-{}",
            std::process::id(),
            NEXT_LAN.fetch_add(1, Ordering::Relaxed)
        );
        let mut lan = Lan {
            bridge_ns: format!("{id}-lan"),
            host_ns: Vec::new(),
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
        for index in 0..hosts {
            let ns = format!("{id}-h{index}");
            ip(&["netns", "add", &ns]);
            lan.host_ns.push(ns.clone());
            // Link-local IPv6 must be usable at once: no duplicate address detection.
            let dad = Command::new("ip")
                .args(["netns", "exec", &ns, "sysctl", "-qw"])
                .args([
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.accept_dad=0",
                ])
                .status()
                .expect("sysctl in the test namespace");
            assert!(dad.success(), "sysctl accept_dad in {ns}");
            let port = format!("p{index}");
            ip(&[
                "-n", &bridge, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
                "netns", &ns,
            ]);
            ip(&["-n", &bridge, "link", "set", &port, "master", "br0", "up"]);
            let address = format!("10.77.0.{}/24", index + 1);
            ip(&["-n", &ns, "addr", "add", &address, "dev", "eth0"]);
            ip(&["-n", &ns, "link", "set", "lo", "up"]);
            ip(&["-n", &ns, "link", "set", "eth0", "up"]);
            ip(&["-n", &ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
        }
        lan
    }

    /// Starts host `index`'s thread.
    pub fn host(&self, index: usize) -> Host {
        Host::spawn(
            &self.host_ns[index],
            Ipv4Addr::new(10, 77, 0, index as u8 + 1),
        )
    }
}

impl Drop for Lan {
    fn drop(&mut self) {
        for ns in self.host_ns.iter().chain(std::iter::once(&self.bridge_ns)) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// A thread inside one host's namespace, running a Tokio runtime.
pub struct Host {
    /// The namespace name.
    pub ns: String,
    /// The host's IPv4 address.
    pub ip: Ipv4Addr,
    handle: tokio::runtime::Handle,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Host {
    fn spawn(ns: &str, ip: Ipv4Addr) -> Host {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let path = format!("/var/run/netns/{ns}");
        let thread = std::thread::Builder::new()
            .name(format!("host {ns}"))
            .spawn(move || {
                let current = || std::fs::read_link("/proc/thread-self/ns/net").unwrap();
                let machine = current();
                let namespace = File::open(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
                setns(namespace, CloneFlags::CLONE_NEWNET).expect("setns into the test namespace");
                assert_ne!(
                    current(),
                    machine,
                    "test host thread is still in the machine's network namespace"
                );
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                handle_tx.send(runtime.handle().clone()).unwrap();
                runtime.block_on(async {
                    let _ = stop_rx.await;
                });
                // Abrupt: tasks are dropped where they stand, as with SIGKILL (no goodbyes).
                runtime.shutdown_background();
            })
            .unwrap();
        let handle = handle_rx.recv().expect("host thread started");
        Host {
            ns: ns.to_string(),
            ip,
            handle,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// Runs `task` on this host (inside its namespace) and returns its output.
    pub async fn run<F, T>(&self, task: impl FnOnce() -> F + Send + 'static) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.handle
            .spawn(async move { task().await })
            .await
            .expect("task on a test host")
    }

    /// A registry on this host, on its `eth0`.
    pub async fn registry(&self, mut options: MdnsOptions) -> Arc<MdnsRegistry> {
        if options.interfaces.is_empty() {
            options.interfaces = vec!["eth0".into()];
        }
        if options.host_name.is_none() {
            options.host_name = Some(format!("host-{}", self.ip.octets()[3]));
        }
        self.run(move || async move { MdnsRegistry::new(options).map(Arc::new) })
            .await
            .expect("mdns registry on a test host")
    }

    /// Kills the host's runtime: every registry on it stops dead, without goodbyes.
    pub fn kill(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        self.kill();
    }
}
