//! Whether the registry behind the console serves, for the connection badge.
//!
//! The watch socket says whether the *console* is reachable; it stays live while etcd loses
//! quorum (the console keeps the view it had), so on its own the badge would say `live` while
//! every registration fails with a 503. The browser therefore also asks `GET /readyz` (the
//! server probes etcd at most once a second, however many pages ask) and the badge combines
//! both: [`Badge::of`]. In-process backends (mDNS, memory) are always ready.

use std::time::Duration;

use leptos::prelude::*;

use crate::feed::Connection;
use crate::wire::Readiness;

/// How often a page asks while the registry serves.
pub const POLL_READY: Duration = Duration::from_secs(5);
/// How often while it does not, so that recovery shows within a couple of seconds.
pub const POLL_NOT_READY: Duration = Duration::from_secs(2);

/// The registry's last known readiness (`None` until the first answer), provided as context
/// by [`crate::App`].
#[derive(Clone, Copy)]
pub struct BackendState(pub RwSignal<Option<Readiness>>);

/// What the top bar's badge shows: the watch connection, unless the registry does not serve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Badge {
    /// One word, for the CSS class and tests (`badge-live`, `badge-degraded`).
    pub label: &'static str,
    /// The badge's text.
    pub text: String,
    /// The tooltip: what the registry's state is, in words.
    pub title: String,
    /// Why actions will fail now, shown as an alert under the top bar.
    pub alert: Option<String>,
}

impl Badge {
    /// The badge for `connection` with the registry last reported as `backend`.
    ///
    /// An offline console trumps everything (its readiness is unknown then); a registry that
    /// does not serve trumps `live`, since the page cannot act on it.
    pub fn of(connection: Connection, backend: Option<&Readiness>) -> Badge {
        let title = match backend {
            Some(backend) => format!("registry {}: {}", backend.registry, backend.message),
            None => "registry state not known yet".to_string(),
        };
        match (connection, backend) {
            (Connection::Offline { .. }, _) => Badge {
                label: connection.label(),
                text: connection.text(),
                title,
                alert: connection.unavailable_reason(),
            },
            (_, Some(backend)) if !backend.ready => Badge {
                label: "degraded",
                text: format!("{} unavailable", backend.registry),
                alert: Some(format!(
                    "The registry is not serving: {}. The page shows what the console last \
                     saw; registrations and evictions fail until it is back.",
                    backend.message
                )),
                title,
            },
            _ => Badge {
                label: connection.label(),
                text: connection.text(),
                title,
                alert: None,
            },
        }
    }
}

/// Asks `/readyz` now and then for as long as the page lives (browser only).
#[cfg(feature = "hydrate")]
pub fn start(state: BackendState) {
    leptos::task::spawn_local(async move {
        loop {
            let known = crate::browser::get_json::<Readiness>("/readyz").await.ok();
            let ready = known.as_ref().is_none_or(|readiness| readiness.ready);
            // An unanswered request says nothing about the registry (the watch badge says the
            // console is offline): keep the last answer.
            if let Some(readiness) = known {
                if state.0.get_untracked().as_ref() != Some(&readiness) {
                    state.0.set(Some(readiness));
                }
            }
            crate::browser::sleep(if ready { POLL_READY } else { POLL_NOT_READY }).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn etcd(ready: bool, message: &str) -> Readiness {
        Readiness {
            ready,
            registry: "etcd".into(),
            message: message.into(),
        }
    }

    #[test]
    fn a_registry_that_does_not_serve_overrides_live() {
        let down = etcd(false, "etcd has no quorum (2 of 3 members down)");
        let badge = Badge::of(Connection::Live, Some(&down));
        assert_eq!(badge.label, "degraded");
        assert_eq!(badge.text, "etcd unavailable");
        assert!(badge.title.contains("no quorum"));
        assert!(badge
            .alert
            .unwrap()
            .contains("no quorum (2 of 3 members down)"));
    }

    #[test]
    fn a_serving_registry_leaves_the_connection_state() {
        let up = etcd(true, "3 of 3 members healthy");
        let live = Badge::of(Connection::Live, Some(&up));
        assert_eq!((live.label, live.text.as_str()), ("live", "live"));
        assert_eq!(live.alert, None);
        assert_eq!(live.title, "registry etcd: 3 of 3 members healthy");
        let loading = Badge::of(Connection::Loading { services: 2 }, Some(&up));
        assert_eq!(loading.text, "loading 2 services…");
        assert_eq!(Badge::of(Connection::Live, None).label, "live");
    }

    #[test]
    fn an_offline_console_says_offline_whatever_the_registry_said_last() {
        let down = etcd(false, "cannot reach etcd at 127.0.0.1:2379");
        let badge = Badge::of(Connection::Offline { since: 0 }, Some(&down));
        assert_eq!(badge.label, "offline");
        assert!(badge.alert.unwrap().contains("not reachable"));
    }
}
