//! Network namespaces for mDNS tests: a private LAN of "hosts" that only this test sees.
//!
//! The LAN itself is `private_lan` (10.77.0.0/24 here: a bridge, a veth `eth0` per host,
//! deleted on drop). Every registry
//! runs on a dedicated thread that entered its host's namespace (`setns` is per thread) and
//! drives a current-thread Tokio runtime there, so its sockets and interface list are that
//! host's. Namespaces are deleted on drop, panics included.
//!
//! Needs root and `ip` (CI runs as root). Without them the tests fail loudly; set
//! `MUSTER_SKIP_NETNS=1` to skip them explicitly (a warning is printed).
#![allow(dead_code)]

use std::future::Future;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use muster_registry::mdns::{MdnsOptions, MdnsRegistry};

#[path = "../private_lan/mod.rs"]
mod private_lan;
use private_lan::{enter, PrivateLan};

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

/// A private LAN of hosts (10.77.0.0/24, namespaces `muster-t<pid>-<n>-*`).
pub struct Lan(PrivateLan);

impl Lan {
    /// Builds a LAN with `hosts` hosts: host i has 10.77.0.(i+1).
    pub fn new(hosts: usize) -> Lan {
        let prefix = format!(
            "muster-t{}-{}",
            std::process::id(),
            NEXT_LAN.fetch_add(1, Ordering::Relaxed)
        );
        let names: Vec<String> = (0..hosts).map(|index| format!("h{index}")).collect();
        Lan(PrivateLan::new(&prefix, 77, &names))
    }

    /// Starts host `index`'s thread.
    pub fn host(&self, index: usize) -> Host {
        Host::spawn(self.0.namespace(index), self.0.address(index))
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
        let entered = ns.to_string();
        let thread = std::thread::Builder::new()
            .name(format!("host {ns}"))
            .spawn(move || {
                enter(&entered);
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
