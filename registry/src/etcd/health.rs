//! Whether the etcd cluster can serve, and if not, why in words an operator acts on: "no
//! quorum (2 of 3 members down)", "cannot reach etcd at …".
//!
//! A linearizable read answers "can it serve": etcd serves one only through its leader, with a
//! quorum behind it, and only to a user it accepts. When that read fails for want of a leader
//! or a connection, each member (from the member list, which every member answers from its own
//! copy) is asked for its status on its own connection, to count the ones that are up. The
//! probe connection carries neither the require-leader header nor credentials: both would make
//! a member without a leader refuse even these answers (etcd 3.4 authenticates through raft).

use std::fmt;
use std::future::Future;
use std::time::{Duration, Instant};

use etcd_client::{Client, ConnectOptions, GetOptions};

use crate::error::Error;

use super::call::{retrying, retrying_raw};
use super::{failure, keys};

/// How long one probe's answer is reused.
pub const HEALTH_REUSE: Duration = Duration::from_secs(1);

/// Longest wait for one member's status: a member that takes longer is counted down.
const MEMBER_PROBE: Duration = Duration::from_secs(1);

/// Longest wait for the probe's read. Shorter than a registry call's timeout: a readiness
/// probe (a load balancer's, the connection badge's) must answer while etcd is away, and a
/// cluster that cannot serve a count-only read in this long is not ready whatever the cause.
pub const READ_PROBE: Duration = Duration::from_secs(2);

/// The state of the etcd cluster behind a registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// A linearizable read works: registrations and reads will.
    Ready,
    /// The members answering cannot elect a leader: too few are up.
    NoQuorum {
        /// Members in the cluster's member list.
        members: usize,
        /// Of those, how many did not answer.
        down: usize,
    },
    /// No endpoint answered at all.
    Unreachable {
        /// The endpoints tried.
        endpoints: Vec<String>,
        /// The innermost cause ("Connection refused (os error 111)").
        reason: String,
    },
    /// etcd answers but refuses (credentials, TLS, permissions) or failed otherwise.
    Failing(String),
}

impl Health {
    /// Whether the cluster serves.
    pub fn is_ready(&self) -> bool {
        *self == Health::Ready
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Health::Ready => write!(f, "etcd is reachable and has a leader"),
            Health::NoQuorum { members, down: 0 } => {
                write!(
                    f,
                    "etcd has no leader yet ({members} members up, electing one)"
                )
            }
            Health::NoQuorum { members, down } => {
                write!(f, "etcd has no quorum ({down} of {members} members down)")
            }
            Health::Unreachable { endpoints, reason } => {
                write!(f, "cannot reach etcd at {}: {reason}", endpoints.join(", "))
            }
            Health::Failing(message) => write!(f, "{message}"),
        }
    }
}

/// The last answer of a probe, handed to every caller within [`HEALTH_REUSE`] of it; callers
/// that come while a probe is under way wait for it. However many poll (a load balancer,
/// every open console, every failing request), etcd sees one probe a second.
#[derive(Default)]
pub(crate) struct Reused(tokio::sync::Mutex<Option<(Instant, Health)>>);

impl Reused {
    /// The last answer if it is recent, else `probe`'s.
    pub(crate) async fn get(&self, probe: impl Future<Output = Health>) -> Health {
        let mut last = self.0.lock().await;
        if let Some((_, health)) = last.as_ref().filter(|(at, _)| at.elapsed() < HEALTH_REUSE) {
            return health.clone();
        }
        let health = probe.await;
        *last = Some((Instant::now(), health.clone()));
        health
    }
}

/// Probes the cluster: one linearizable read with `client`, then, if it failed for want of a
/// leader or a connection, each member's status through `probe_options` at `endpoints`.
/// Takes at most `timeout` (capped at [`READ_PROBE`]) plus one [`MEMBER_PROBE`].
pub(crate) async fn probe(
    client: &Client,
    probe_options: &ConnectOptions,
    endpoints: &[String],
    timeout: Duration,
) -> Health {
    let read = |mut client: Client| async move {
        let options = GetOptions::new().with_prefix().with_count_only();
        client.get(keys::PREFIX, Some(options)).await
    };
    match retrying(timeout.min(READ_PROBE), client, read).await {
        Ok(_) => Health::Ready,
        Err(Error::Unavailable(_) | Error::Timeout) => {
            count_members(probe_options, endpoints).await
        }
        Err(other) => Health::Failing(other.to_string()),
    }
}

/// How many members answer, when the cluster did not serve a read.
pub(crate) async fn count_members(options: &ConnectOptions, endpoints: &[String]) -> Health {
    let unreachable = |reason| Health::Unreachable {
        endpoints: endpoints.to_vec(),
        reason,
    };
    let Ok(listing) = Client::connect(endpoints, Some(options.clone())).await else {
        return unreachable("no endpoint to connect to".into());
    };
    let list = |mut client: Client| async move { client.member_list().await };
    let members = match retrying_raw(MEMBER_PROBE, &listing, list).await {
        Ok(list) => list.members().to_vec(),
        Err(Some(error)) => return unreachable(failure::cause(&error)),
        Err(None) => return unreachable(format!("no answer within {MEMBER_PROBE:?}")),
    };
    let answers = members.iter().map(|member| async move {
        let urls = member.client_urls().to_vec();
        let Ok(mut one) = Client::connect(urls, Some(options.clone())).await else {
            return false;
        };
        matches!(
            tokio::time::timeout(MEMBER_PROBE, one.status()).await,
            Ok(Ok(_))
        )
    });
    let up = futures::future::join_all(answers)
        .await
        .into_iter()
        .filter(|up| *up)
        .count();
    Health::NoQuorum {
        members: members.len(),
        down: members.len() - up,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_what_is_wrong() {
        let no_quorum = Health::NoQuorum {
            members: 3,
            down: 2,
        };
        assert_eq!(
            no_quorum.to_string(),
            "etcd has no quorum (2 of 3 members down)"
        );
        let unreachable = Health::Unreachable {
            endpoints: vec!["10.0.0.1:2379".into(), "10.0.0.2:2379".into()],
            reason: "Connection refused (os error 111)".into(),
        };
        assert_eq!(
            unreachable.to_string(),
            "cannot reach etcd at 10.0.0.1:2379, 10.0.0.2:2379: Connection refused (os error 111)"
        );
        assert!(Health::Ready.is_ready() && !no_quorum.is_ready());
    }
}
