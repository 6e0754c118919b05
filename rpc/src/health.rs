//! A node's health, as go-micro's debug handler reports it: `Debug.Health` → `{"status":"ok"}`.
//!
//! The answer sorts nodes into what an operator acts on. A node that does not register the
//! Debug handler (every go-micro from v4.8 on, and v1.18 without it: case 17) answers
//! `rpc: can't find service Debug`: it is up and serving, but has no check to ask.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What a node's health check found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HealthState {
    /// `Debug.Health` answered `{"status":"ok"}`.
    Healthy,
    /// It answered, but not ok: another status, an error, or not a go-micro reply.
    Failing,
    /// It answered that it has no Debug handler: reachable, nothing to check.
    NoCheck,
    /// No answer: refused, no route, or nothing within the deadline.
    Unreachable,
    /// Not an rpc server over HTTP (grpc or http servers, broker nodes): not asked.
    Unsupported,
}

impl HealthState {
    /// The name, as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthState::Healthy => "healthy",
            HealthState::Failing => "failing",
            HealthState::NoCheck => "no-check",
            HealthState::Unreachable => "unreachable",
            HealthState::Unsupported => "unsupported",
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    /// What it found.
    pub state: HealthState,
    /// How long the answer took (none without an answer).
    pub latency: Option<Duration>,
    /// What the node said, or why there is no answer ("ok" when healthy).
    pub detail: String,
}

/// The shape of `debug.HealthResponse` in JSON.
#[derive(Deserialize)]
struct HealthReply {
    #[serde(default)]
    status: String,
}

/// Asks `Debug.Health` of the node of `service` at `address`, waiting at most `timeout`.
#[cfg(feature = "client")]
pub async fn check(service: &str, address: &str, timeout: Duration) -> Health {
    let call = crate::call::Call::new(service, "Debug.Health", "{}", timeout);
    let outcome = crate::client::call(address, &call).await;
    judge(outcome.map(|reply| (reply.body.get().to_string(), reply.duration)))
}

/// The health a call's outcome means: the reply's text and latency, or the error.
pub fn judge(outcome: Result<(String, Duration), Error>) -> Health {
    let (state, latency, detail) = match outcome {
        Ok((text, latency)) => match serde_json::from_str::<HealthReply>(&text) {
            Ok(reply) if reply.status == "ok" => (HealthState::Healthy, Some(latency), "ok".into()),
            Ok(reply) => (
                HealthState::Failing,
                Some(latency),
                format!("status {:?}", reply.status),
            ),
            Err(_) => (
                HealthState::Failing,
                Some(latency),
                format!("not a health reply: {text}"),
            ),
        },
        Err(Error::Remote(remote)) if remote.is_unknown_service("Debug") => {
            (HealthState::NoCheck, None, remote.to_string())
        }
        Err(error @ (Error::Unreachable { .. } | Error::Timeout(_))) => {
            (HealthState::Unreachable, None, error.to_string())
        }
        Err(error) => (HealthState::Failing, None, error.to_string()),
    };
    Health {
        state,
        latency,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::remote::RemoteError;

    fn ok(text: &str) -> Health {
        judge(Ok((text.into(), Duration::from_millis(3))))
    }

    #[test]
    fn status_ok_is_healthy_and_anything_else_failing() {
        assert_eq!(ok(r#"{"status":"ok"}"#).state, HealthState::Healthy);
        assert_eq!(
            ok(r#"{"status":"ok"}"#).latency,
            Some(Duration::from_millis(3))
        );
        assert_eq!(ok(r#"{"status":"degraded"}"#).state, HealthState::Failing);
        assert_eq!(ok(r#"{}"#).state, HealthState::Failing);
        assert_eq!(ok("[1]").state, HealthState::Failing);
    }

    #[test]
    fn no_debug_handler_is_no_check_and_other_errors_failing() {
        let missing = judge(Err(Error::Remote(RemoteError::parse(
            "rpc: can't find service Debug",
        ))));
        assert_eq!(missing.state, HealthState::NoCheck);
        let boom = judge(Err(Error::Remote(RemoteError::parse(
            r#"{"id":"x","code":500,"detail":"db down"}"#,
        ))));
        assert_eq!(boom.state, HealthState::Failing);
        assert!(boom.detail.contains("db down"));
        let broken = judge(Err(Error::Protocol("not JSON".into())));
        assert_eq!(broken.state, HealthState::Failing);
    }

    #[test]
    fn no_answer_is_unreachable() {
        for error in [
            Error::Timeout(Duration::from_secs(1)),
            Error::Unreachable {
                address: "a".into(),
                reason: "refused".into(),
            },
        ] {
            assert_eq!(judge(Err(error)).state, HealthState::Unreachable);
        }
    }
}
