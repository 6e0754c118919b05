//! Why an event happened, as the place it came from knows it: the registry (a goodbye, an
//! etcd lease that ran out), the console's own actions (evict, deregister, and who asked), its
//! health checks, and time passing (a missed refresh). Carried in [`crate::wire::ConsoleEvent`]
//! so that no page has to guess from states.

use serde::{Deserialize, Serialize};

use super::rpc::HealthState;

/// The cause of one event.
///
/// `Deserialize` is written out ([`super::de::Tagged`]): it reads what the derive for
/// `#[serde(tag = "kind", rename_all = "snake_case")]` read, in one pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventReason {
    /// A node appeared in the registry.
    Registered {
        /// This console registered it.
        by_console: bool,
    },
    /// Its record changed (address, metadata, endpoints, ownership).
    Changed,
    /// Its TTL ran out without a refresh.
    Expired {
        /// The TTL, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_secs: Option<u64>,
    },
    /// Evicted from this console (a goodbye on its behalf, or its key removed).
    Evicted,
    /// Deregistered from this console (one of its own nodes).
    Deregistered,
    /// Its owner said goodbye (mDNS) or removed it from the store while its registration was
    /// still valid.
    Goodbye,
    /// Silent past most of its TTL: it missed a refresh.
    MissedRefresh {
        /// The TTL, when known.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ttl_secs: Option<u64>,
    },
    /// Refreshed again after it had missed one.
    Refreshed,
    /// Its health check's answer changed.
    Health {
        /// The new state.
        state: HealthState,
        /// What the check said ("connection refused", the node's error).
        #[serde(default)]
        detail: String,
    },
    /// The tombstone was dropped (`--tombstone-ttl`, or the tombstone store's bound).
    Purged,
}

impl EventReason {
    /// The reason in plain words, as the events page shows it.
    pub fn words(&self) -> String {
        match self {
            EventReason::Registered { by_console: true } => "registered by this console".into(),
            EventReason::Registered { by_console: false } => "registered".into(),
            EventReason::Changed => "record changed".into(),
            EventReason::Expired {
                ttl_secs: Some(ttl),
            } => format!("TTL {ttl} s ran out"),
            EventReason::Expired { ttl_secs: None } => "TTL ran out".into(),
            EventReason::Evicted => "evicted from this console".into(),
            EventReason::Deregistered => "deregistered from this console".into(),
            EventReason::Goodbye => "goodbye from the owner".into(),
            EventReason::MissedRefresh {
                ttl_secs: Some(ttl),
            } => format!("missed its refresh (TTL {ttl} s)"),
            EventReason::MissedRefresh { ttl_secs: None } => "missed its refresh".into(),
            EventReason::Refreshed => "refreshed again".into(),
            EventReason::Health { state, detail } => health_words(*state, detail),
            EventReason::Purged => "tombstone dropped".into(),
        }
    }
}

impl<'de> Deserialize<'de> for EventReason {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        super::de::tagged(deserializer)
    }
}

impl super::de::Tagged for EventReason {
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &[
        "registered",
        "changed",
        "expired",
        "evicted",
        "deregistered",
        "goodbye",
        "missed_refresh",
        "refreshed",
        "health",
        "purged",
    ];
    const EXPECTING: &'static str = "internally tagged enum EventReason";

    fn variant<'de, D: serde::Deserializer<'de>>(variant: &str, rest: D) -> Result<Self, D::Error> {
        /// The fields of [`EventReason::Registered`].
        #[derive(Deserialize)]
        #[serde(rename = "EventReason::Registered")]
        struct Registered {
            by_console: bool,
        }
        /// The fields of [`EventReason::Expired`] and [`EventReason::MissedRefresh`].
        #[derive(Deserialize)]
        #[serde(rename = "EventReason::Expired")]
        struct Ttl {
            #[serde(default)]
            ttl_secs: Option<u64>,
        }
        /// The fields of [`EventReason::Health`].
        #[derive(Deserialize)]
        #[serde(rename = "EventReason::Health")]
        struct Health {
            state: HealthState,
            #[serde(default)]
            detail: String,
        }
        let unit = |reason: EventReason, rest: D| super::de::unit(rest).map(|()| reason);
        match variant {
            "registered" => Registered::deserialize(rest).map(|fields| EventReason::Registered {
                by_console: fields.by_console,
            }),
            "changed" => unit(EventReason::Changed, rest),
            "expired" => Ttl::deserialize(rest).map(|fields| EventReason::Expired {
                ttl_secs: fields.ttl_secs,
            }),
            "evicted" => unit(EventReason::Evicted, rest),
            "deregistered" => unit(EventReason::Deregistered, rest),
            "goodbye" => unit(EventReason::Goodbye, rest),
            "missed_refresh" => Ttl::deserialize(rest).map(|fields| EventReason::MissedRefresh {
                ttl_secs: fields.ttl_secs,
            }),
            "refreshed" => unit(EventReason::Refreshed, rest),
            "health" => Health::deserialize(rest).map(|fields| EventReason::Health {
                state: fields.state,
                detail: fields.detail,
            }),
            _ => unit(EventReason::Purged, rest),
        }
    }
}

/// A health check's outcome: "probe:" for what the connection said, "health:" for what the
/// node answered.
fn health_words(state: HealthState, detail: &str) -> String {
    let with_detail = |head: &str| {
        if detail.is_empty() {
            head.to_string()
        } else {
            format!("{head} — {detail}")
        }
    };
    match state {
        HealthState::Unreachable if detail.is_empty() => "probe: unreachable".into(),
        HealthState::Unreachable => format!("probe: {detail}"),
        HealthState::Unsupported => format!("probe: {detail}"),
        HealthState::Healthy => "health: healthy".into(),
        HealthState::Failing => with_detail("health: failing"),
        HealthState::NoCheck => "health: no Debug handler".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_the_issue_words_them() {
        let probe = EventReason::Health {
            state: HealthState::Unreachable,
            detail: "connection refused".into(),
        };
        assert_eq!(probe.words(), "probe: connection refused");
        let failing = EventReason::Health {
            state: HealthState::Failing,
            detail: "status degraded".into(),
        };
        assert_eq!(failing.words(), "health: failing — status degraded");
        let expired = EventReason::Expired {
            ttl_secs: Some(110),
        };
        assert_eq!(expired.words(), "TTL 110 s ran out");
        assert_eq!(EventReason::Evicted.words(), "evicted from this console");
        assert_eq!(EventReason::Goodbye.words(), "goodbye from the owner");
        let json = serde_json::to_value(&expired).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"kind": "expired", "ttl_secs": 110})
        );
    }
}
