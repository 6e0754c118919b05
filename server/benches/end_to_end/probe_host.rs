//! An in-process mDNS registry on its own host of the LAN, for the registry-level query
//! figures: it hears the same announcements as the console and queries the network the
//! go-micro way when asked for fresh answers.

use std::sync::Arc;
use std::thread::JoinHandle;

use muster_registry::mdns::{MdnsOptions, MdnsRegistry};
use tokio::sync::oneshot;

use crate::lan;

/// A thread inside the probe host's namespace, driving the registry's engine.
pub struct ProbeHost {
    /// The registry (usable from any runtime: its engine runs on the host's thread).
    pub registry: Arc<MdnsRegistry>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ProbeHost {
    /// Starts the registry on `eth0` of namespace `ns`.
    pub fn start(ns: &str) -> ProbeHost {
        let ns = ns.to_string();
        let (registry_tx, registry_rx) = std::sync::mpsc::channel();
        let (stop, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("probe host".into())
            .spawn(move || {
                lan::enter(&ns);
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the probe host's runtime");
                runtime.block_on(async {
                    let options = MdnsOptions {
                        interfaces: vec!["eth0".into()],
                        host_name: Some("probe".into()),
                        // The load generator is one address announcing 10,000 nodes with a
                        // TTL of an hour: the console is started with the same two limits
                        // raised, and the probe host must hold the same registry to measure
                        // the registry-level queries over it.
                        source_quota: 100_000,
                        max_ttl: std::time::Duration::from_secs(3600),
                        ..MdnsOptions::default()
                    };
                    let registry =
                        MdnsRegistry::new(options).expect("mDNS registry on the probe host");
                    registry_tx.send(Arc::new(registry)).unwrap();
                    let _ = stop_rx.await;
                });
            })
            .expect("the probe host thread");
        let registry = registry_rx.recv().expect("the probe host started");
        ProbeHost {
            registry,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for ProbeHost {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
