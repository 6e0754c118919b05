//! How one etcd call is made: bounded by the operation timeout, and tried again while the
//! cluster did not serve it for a reason that passes by itself.
//!
//! The client spreads calls over the endpoints (tonic's balanced channel, power of two
//! choices). A member that died stays in the balance: tonic's reconnecting connection reports
//! ready after a failed connect and fails the next call it is given with that error, so the
//! balancer keeps handing it calls. With one member of three down, many calls fail at once
//! with "transport error" although the cluster is fine, and after a quorum returns, calls keep
//! landing on the member still down (the ~8 s of failures issue 18 saw). Such a call
//! never reached etcd, so trying it again (on whichever member the balancer picks next) is
//! safe; etcd's Go client does the same (its retry interceptor, on `Unavailable`). A call
//! that did reach a member is at worst applied twice, which for what this backend writes (the
//! same value again, a lease that lapses unused, a delete) changes nothing a reader sees.
//! A member without a leader (`etcdserver: no leader`) is retried for at most
//! [`ELECTION_WAIT`]: long enough for an election after a leader is lost, short enough that a
//! cluster without quorum is reported promptly.

use std::future::Future;
use std::time::Duration;

use etcd_client::Client;
use tokio::time::Instant;

use super::failure::{self, Retry};
use crate::error::{Error, Result};

/// How long a call waits for a leader: etcd elects one within about two election timeouts
/// (1 s by default) of losing one.
pub(crate) const ELECTION_WAIT: Duration = Duration::from_secs(2);

/// First pause before trying a call again; doubled each time up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(20);

/// Longest pause between two tries.
const MAX_PAUSE: Duration = Duration::from_millis(250);

/// Awaits one etcd call for at most `timeout`, mapping its error to the registry's.
pub(crate) async fn within<T>(
    timeout: Duration,
    call: impl Future<Output = Result<T, etcd_client::Error>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, call).await {
        Err(_) => Err(Error::Timeout),
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(failure::classify(error)),
    }
}

/// Makes the call `call` builds (given a clone of `client`), again while it failed without
/// being served, for at most `timeout` in all.
pub(crate) async fn retrying<T, F, Fut>(timeout: Duration, client: &Client, call: F) -> Result<T>
where
    F: FnMut(Client) -> Fut,
    Fut: Future<Output = Result<T, etcd_client::Error>>,
{
    match retrying_raw(timeout, client, call).await {
        Ok(value) => Ok(value),
        Err(None) => Err(Error::Timeout),
        Err(Some(error)) => Err(failure::classify(error)),
    }
}

/// [`retrying`], with the client's last error as it is (`None`: the timeout ran out).
pub(crate) async fn retrying_raw<T, F, Fut>(
    timeout: Duration,
    client: &Client,
    mut call: F,
) -> Result<T, Option<etcd_client::Error>>
where
    F: FnMut(Client) -> Fut,
    Fut: Future<Output = Result<T, etcd_client::Error>>,
{
    let started = Instant::now();
    let deadline = started + timeout;
    let mut pause = FIRST_PAUSE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let error = match tokio::time::timeout(left, call(client.clone())).await {
            Err(_) => return Err(None),
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(error)) => error,
        };
        let until = match failure::retry(&error) {
            Retry::NotServed => deadline,
            Retry::NoLeader => deadline.min(started + ELECTION_WAIT),
            Retry::No => return Err(Some(error)),
        };
        if Instant::now() + pause >= until {
            return Err(Some(error));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(MAX_PAUSE);
    }
}
