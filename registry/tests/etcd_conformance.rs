//! The backend conformance suite, run on the etcd registry against a real etcd.
//!
//! Twice: with the default keep-alive (a registration lives while this process holds it, so
//! the TTL check does not apply), and with go-micro's own lease behaviour (`keep_alive: false`:
//! the lease lapses after the TTL unless the node is registered again), where it does.
#![cfg(feature = "etcd")]

mod etcd_support;

use std::time::Duration;

use muster_registry::conformance::{self, Suite};
use muster_registry::etcd::EtcdOptions;

#[tokio::test]
async fn conformance_with_keep_alive() {
    let etcd = etcd_or_skip!();
    let registry = etcd.registry().await;
    conformance::run_all(&registry, &Suite::unique())
        .await
        .unwrap();
}

#[tokio::test]
async fn conformance_with_go_micro_leases() {
    let etcd = etcd_or_skip!();
    let registry = etcd
        .registry_with(EtcdOptions {
            keep_alive: false,
            ..EtcdOptions::default()
        })
        .await;
    // etcd's shortest lease is about 2 s; 3 s keeps the refresh and expiry margins clear of
    // its half-second expiry checks.
    let suite = Suite::unique().with_ttl(Duration::from_secs(3));
    conformance::run_all(&registry, &suite).await.unwrap();
}
