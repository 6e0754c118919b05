//! The backend conformance suite, run on the memory registry.
//!
//! One test per check, so a failure names the behaviour that broke; `run_all` once more at the
//! end, as other backends call it.

use std::time::Duration;

use muster_registry::conformance::{self, Suite};
use muster_registry::memory::MemoryRegistry;
use muster_registry::Options;

fn suite() -> Suite {
    // Memory is instant: a short settle keeps a failing run short too.
    Suite::unique()
        .with_settle(Duration::from_secs(2))
        .with_ttl(Duration::from_secs(1))
}

fn registry() -> MemoryRegistry {
    MemoryRegistry::new(Options::default())
}

#[tokio::test]
async fn register_get_list() {
    conformance::register_get_list(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn versions_and_nodes() {
    conformance::versions_and_nodes(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn watch_lifecycle() {
    conformance::watch_lifecycle(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn watch_filter() {
    conformance::watch_filter(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn refresh_is_silent() {
    conformance::refresh_is_silent(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn watcher_stop() {
    conformance::watcher_stop(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_input() {
    conformance::invalid_input(&registry(), &suite())
        .await
        .unwrap();
}

#[tokio::test]
async fn ttl_expiry() {
    conformance::ttl_expiry(&registry(), &suite())
        .await
        .unwrap();
}

/// The whole suite on one registry, through `&dyn Registry`, as the server would run it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_all_on_one_shared_registry() {
    let registry: std::sync::Arc<dyn muster_registry::Registry> = std::sync::Arc::new(registry());
    conformance::run_all(registry.as_ref(), &suite())
        .await
        .unwrap();
}
