//! The reachability probe: a TCP connect to every live node's address, every
//! `--probe-interval`.
//!
//! A registry only knows that a node was announced; a process that crashed without a goodbye
//! stays registered until its TTL runs out (two minutes on mDNS). A refused connection shows
//! it at once, as stale. The probe is bounded: at most [`CONCURRENCY`] connects at a time,
//! each given [`CONNECT_TIMEOUT`], and the next sweep starts an interval after the previous one
//! ended, so a large registry slows the sweeps down rather than flooding the network.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::net::TcpStream;

use super::Hub;

/// Connects in flight at once.
const CONCURRENCY: usize = 16;

/// How long one connect may take before the address counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Sweeps until shutdown.
pub async fn run(hub: Arc<Hub>) {
    let mut shutdown = hub.shutdown_signal();
    let interval = hub.settings.probe_interval;
    loop {
        tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => return,
            _ = tokio::time::sleep(interval) => {}
        }
        let targets = hub.lock_view().live_nodes();
        let results: Vec<_> = futures::stream::iter(targets)
            .map(|target| async move {
                let reachable = reachable(&target.address).await;
                (target, reachable)
            })
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await;
        hub.commit(|view, now| {
            results
                .iter()
                .flat_map(|(target, reachable)| view.set_reachable(target, *reachable, now))
                .collect()
        });
    }
}

/// Whether `address` accepts a TCP connection within [`CONNECT_TIMEOUT`].
async fn reachable(address: &str) -> bool {
    matches!(
        tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(address)).await,
        Ok(Ok(_))
    )
}
