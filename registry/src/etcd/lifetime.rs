//! What a watcher learns of each key's lease, so that its events say when a node runs out and
//! why it left.
//!
//! etcd reports a lease expiry as a plain delete of every key on the lease, exactly like an
//! explicit delete. The two differ in what is left behind: a lease that ran out is gone
//! (`LeaseTimeToLive` answers TTL -1), while go-micro's deregister deletes the key and leaves
//! its lease alone (it lapses later by itself). So on a delete of a key that was on a lease,
//! the watcher asks for that lease: gone means expired, alive means removed. (A lease revoked
//! by hand also takes its keys along and looks expired: go-micro never revokes.)
//!
//! When a key is first seen on a lease, the same call gives its granted TTL and what is left of
//! it, so the consumer knows `expires_at` for go-micro's leased keys. go-micro refreshes a lease
//! with a keep-alive, not a put, so no event follows a refresh: the expiry is as of the put.
//!
//! Every lookup is bounded by the operation timeout, made once per lease per watch response
//! (many keys on one lease expire in one response), and at most [`MAX_LOOKUPS_PER_RESPONSE`]
//! times per response: past that (a mass expiry) events go out without a lifetime rather than
//! holding the stream back.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use etcd_client::Client;

use crate::event::{Departure, Lifetime};

use super::call::within;

/// Lease lookups made for one watch response at most.
pub(crate) const MAX_LOOKUPS_PER_RESPONSE: usize = 256;

/// The lease each followed key is on (keys without a lease are absent).
#[derive(Debug, Default, Clone)]
pub(crate) struct Leases {
    by_key: BTreeMap<Vec<u8>, i64>,
}

impl Leases {
    /// The leases of a prefix read: `(key, lease)` pairs as etcd returned them (0: none).
    pub(crate) fn read<'a>(pairs: impl IntoIterator<Item = (&'a [u8], i64)>) -> Self {
        let mut leases = Leases::default();
        for (key, lease) in pairs {
            leases.put(key, lease);
        }
        leases
    }

    /// Records that `key` is now on `lease` (0: none).
    pub(crate) fn put(&mut self, key: &[u8], lease: i64) {
        if lease == 0 {
            self.by_key.remove(key);
        } else {
            self.by_key.insert(key.to_vec(), lease);
        }
    }

    /// Forgets `key` (deleted); the lease it was on, if any.
    pub(crate) fn delete(&mut self, key: &[u8]) -> Option<i64> {
        self.by_key.remove(key)
    }
}

/// What one lease lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeaseState {
    /// The lease exists: seconds granted, seconds left.
    Alive { granted_secs: i64, left_secs: i64 },
    /// etcd no longer has it: it expired (or was revoked).
    Gone,
}

/// Lease lookups for one watch response: each lease asked once, at most
/// [`MAX_LOOKUPS_PER_RESPONSE`] asked.
pub(crate) struct Lookups<'a> {
    client: &'a Client,
    timeout: Duration,
    answers: HashMap<i64, Option<LeaseState>>,
}

impl<'a> Lookups<'a> {
    /// Lookups with `client`, each bounded by `timeout`.
    pub(crate) fn new(client: &'a Client, timeout: Duration) -> Self {
        Lookups {
            client,
            timeout,
            answers: HashMap::new(),
        }
    }

    /// The lifetime of a key put on `lease`, as of `now_ms`.
    pub(crate) async fn of_put(&mut self, lease: i64, now_ms: u64) -> Lifetime {
        match self.ask(lease).await {
            Some(LeaseState::Alive {
                granted_secs,
                left_secs,
            }) => Lifetime {
                ttl_secs: u64::try_from(granted_secs).ok(),
                expires_at_ms: u64::try_from(left_secs)
                    .ok()
                    .map(|left| now_ms + left * 1000),
                departure: None,
            },
            _ => Lifetime::default(),
        }
    }

    /// Why a key that was on `lease` (`None`: on no lease) was deleted.
    pub(crate) async fn of_delete(&mut self, lease: Option<i64>) -> Lifetime {
        let Some(lease) = lease else {
            // No lease, nothing could expire: someone deleted it.
            return Lifetime {
                departure: Some(Departure::Removed),
                ..Lifetime::default()
            };
        };
        match self.ask(lease).await {
            Some(LeaseState::Gone) => Lifetime {
                departure: Some(Departure::Expired),
                ..Lifetime::default()
            },
            Some(LeaseState::Alive { granted_secs, .. }) => Lifetime {
                ttl_secs: u64::try_from(granted_secs).ok(),
                expires_at_ms: None,
                departure: Some(Departure::Removed),
            },
            None => Lifetime::default(),
        }
    }

    /// The lease's state; `None` when it could not be asked (timeout, past the bound).
    async fn ask(&mut self, lease: i64) -> Option<LeaseState> {
        if let Some(answer) = self.answers.get(&lease) {
            return *answer;
        }
        if self.answers.len() >= MAX_LOOKUPS_PER_RESPONSE {
            return None;
        }
        let mut client = self.client.clone();
        let answer = match within(self.timeout, client.lease_time_to_live(lease, None)).await {
            // etcd answers TTL -1 for a lease it does not have.
            Ok(response) if response.ttl() < 0 => Some(LeaseState::Gone),
            Ok(response) => Some(LeaseState::Alive {
                granted_secs: response.granted_ttl(),
                left_secs: response.ttl(),
            }),
            Err(error) => {
                tracing::debug!(%error, lease, "etcd lease lookup failed");
                None
            }
        };
        self.answers.insert(lease, answer);
        answer
    }
}
