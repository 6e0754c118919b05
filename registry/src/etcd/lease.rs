//! Leases: how a registration with a TTL lives in etcd, and the task that keeps it alive.
//!
//! As go-micro does, a node registered with a TTL is put with a lease of that many seconds, so
//! etcd deletes it by itself when its owner stops refreshing it. go-micro servers refresh by
//! registering again every 30 s; the console registers once, so here one task per registered
//! node refreshes the lease at a third of its TTL for as long as the node stays registered by
//! this process. Each refresh also puts the key back if it is gone or no longer on our lease
//! (evicted by an operator, or the lease expired during a long outage): an owner that is alive
//! re-announces itself, as go-micro's eviction contract expects. Deregistering the node, or
//! dropping the registry, ends the task; the lease then lapses within its TTL.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use etcd_client::{Client, Compare, CompareOp, PutOptions, Txn, TxnOp};
use tokio::task::JoinHandle;

use crate::error::{Error, Result};

use super::call::{retrying, retrying_raw};
use super::failure;

/// Shortest pause between two refreshes, whatever the TTL.
const MIN_REFRESH: Duration = Duration::from_millis(500);

/// First pause before retrying a refresh that failed (etcd unreachable, timeout).
const RETRY_REFRESH: Duration = Duration::from_millis(500);

/// What this process registered under one key.
pub(crate) struct Registration {
    /// The value put, as [`super::codec::encode`] made it.
    pub(crate) value: Vec<u8>,
    /// The lease TTL in seconds; `None` for a key without a lease.
    pub(crate) ttl_secs: Option<i64>,
    /// The lease the key is on (0: none). The keeper replaces it when it had to re-grant.
    lease: Arc<AtomicI64>,
    /// The keep-alive task, when the registration has a lease and keep-alive is on.
    keeper: Option<JoinHandle<()>>,
}

impl Registration {
    /// A registration put under `lease` (0 for none), without a keeper.
    pub(crate) fn new(value: Vec<u8>, ttl_secs: Option<i64>, lease: i64) -> Self {
        Registration {
            value,
            ttl_secs,
            lease: Arc::new(AtomicI64::new(lease)),
            keeper: None,
        }
    }

    /// Whether a keeper refreshes this registration by itself.
    pub(crate) fn keeps_alive(&self) -> bool {
        self.keeper.is_some()
    }

    /// The lease the key is on now (0: none).
    pub(crate) fn lease(&self) -> i64 {
        self.lease.load(Ordering::Acquire)
    }

    /// Starts keeping `key` alive with `client`, when the registration has a lease.
    pub(crate) fn keep_alive(&mut self, client: Client, key: String, timeout: Duration) {
        let Some(ttl_secs) = self.ttl_secs else {
            return;
        };
        let keeper = Keeper {
            client,
            key,
            value: self.value.clone(),
            ttl_secs,
            lease: self.lease.clone(),
            timeout,
        };
        self.keeper = Some(tokio::spawn(keeper.run()));
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        if let Some(keeper) = &self.keeper {
            keeper.abort();
        }
    }
}

/// `ttl` in whole seconds for an etcd lease: rounded up (a TTL is a promise of at least that
/// long), at least 1. etcd raises TTLs below its own minimum (about 2 s by default) to it.
pub(crate) fn ttl_secs(ttl: Duration) -> i64 {
    let secs = ttl.as_secs() + u64::from(ttl.subsec_nanos() > 0);
    i64::try_from(secs.max(1)).unwrap_or(i64::MAX)
}

/// Puts `value` at `key`, on a new lease of `ttl_secs` when given; returns the lease (0: none).
pub(crate) async fn put(
    client: &Client,
    timeout: Duration,
    key: &str,
    value: &[u8],
    ttl_secs: Option<i64>,
) -> Result<i64> {
    let lease = match ttl_secs {
        Some(ttl_secs) => {
            let grant =
                |mut client: Client| async move { client.lease_grant(ttl_secs, None).await };
            retrying(timeout, client, grant).await?.id()
        }
        None => 0,
    };
    let put = |mut client: Client| {
        let options = (lease != 0).then(|| PutOptions::new().with_lease(lease));
        async move { client.put(key, value, options).await }
    };
    retrying(timeout, client, put).await?;
    Ok(lease)
}

/// Renews `lease` once; `false` when etcd no longer knows it (expired or revoked).
///
/// The client's keep-alive call sends one renewal and reads its answer before returning (an
/// error when the answer says the lease is gone); the stream it leaves open is not needed.
pub(crate) async fn renew(client: &Client, timeout: Duration, lease: i64) -> Result<bool> {
    let renew = |mut client: Client| async move { client.lease_keep_alive(lease).await };
    match retrying_raw(timeout, client, renew).await {
        Ok(_) => Ok(true),
        Err(None) => Err(Error::Timeout),
        Err(Some(etcd_client::Error::LeaseKeepAliveError(_))) => Ok(false),
        Err(Some(error)) => Err(failure::classify(error)),
    }
}

/// Puts `value` at `key` on `lease` (0: none) again unless the key holds exactly that already:
/// a registration's owner restoring it after an eviction or an overwrite. One round trip, and
/// no write (so no watch event) when nothing changed.
pub(crate) async fn restore(
    client: &Client,
    timeout: Duration,
    key: &str,
    value: &[u8],
    lease: i64,
) -> Result<()> {
    let options = (lease != 0).then(|| PutOptions::new().with_lease(lease));
    let txn = Txn::new()
        .when([
            Compare::value(key, CompareOp::Equal, value),
            Compare::lease(key, CompareOp::Equal, lease),
        ])
        .or_else([TxnOp::put(key, value, options)]);
    let restore = |mut client: Client| {
        let txn = txn.clone();
        async move { client.txn(txn).await }
    };
    if !retrying(timeout, client, restore).await?.succeeded() {
        tracing::info!(key, "etcd key was missing or changed; registered it again");
    }
    Ok(())
}

/// The keep-alive task of one registration.
struct Keeper {
    client: Client,
    key: String,
    value: Vec<u8>,
    ttl_secs: i64,
    lease: Arc<AtomicI64>,
    timeout: Duration,
}

impl Keeper {
    /// Refreshes every third of the TTL. Failed refreshes (etcd unreachable) are retried
    /// sooner, at a pause doubling from [`RETRY_REFRESH`] up to the period, and logged once
    /// per outage.
    async fn run(mut self) {
        let period = (Duration::from_secs(self.ttl_secs.unsigned_abs()) / 3).max(MIN_REFRESH);
        let mut pause = period;
        let mut failing = false;
        loop {
            tokio::time::sleep(pause).await;
            match self.refresh().await {
                Ok(()) => {
                    if failing {
                        tracing::info!(key = %self.key, "etcd lease refresh works again");
                    }
                    (pause, failing) = (period, false);
                }
                Err(error) => {
                    if failing {
                        tracing::debug!(%error, key = %self.key, "etcd lease refresh failed");
                        pause = (pause * 2).min(period);
                    } else {
                        tracing::warn!(%error, key = %self.key, "etcd lease refresh failed; retrying");
                        (pause, failing) = (RETRY_REFRESH.min(period), true);
                    }
                }
            }
        }
    }

    /// Renews the lease (or takes a new one if it lapsed) and makes sure the key is on it.
    async fn refresh(&mut self) -> Result<()> {
        let lease = self.lease.load(Ordering::Acquire);
        if !renew(&self.client, self.timeout, lease).await? {
            tracing::info!(key = %self.key, "etcd lease lapsed; registering again");
            let lease = put(
                &self.client,
                self.timeout,
                &self.key,
                &self.value,
                Some(self.ttl_secs),
            )
            .await?;
            self.lease.store(lease, Ordering::Release);
            return Ok(());
        }
        restore(&self.client, self.timeout, &self.key, &self.value, lease).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttls_round_up_to_whole_seconds() {
        assert_eq!(ttl_secs(Duration::from_millis(1)), 1);
        assert_eq!(ttl_secs(Duration::from_secs(2)), 2);
        assert_eq!(ttl_secs(Duration::from_millis(2001)), 3);
        assert_eq!(ttl_secs(Duration::from_secs(60)), 60);
    }
}
