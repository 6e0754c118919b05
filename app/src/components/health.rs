//! A node's last health check, shown the same way on the node table and the event log.

use leptos::prelude::*;

use crate::format::utc_time;
use crate::rpc::NodeHealth;

/// A coloured label for a node's health state, with the check's detail as its title.
#[component]
pub fn HealthBadge(health: Option<NodeHealth>) -> impl IntoView {
    match health {
        None => view! { <span class="health health-none muted">"not checked"</span> }.into_any(),
        Some(health) => {
            let state = health.state.as_str();
            let latency = health
                .latency_ms
                .map(|ms| format!(" {ms} ms"))
                .unwrap_or_default();
            let title = format!(
                "{} (checked {} UTC)",
                health.detail,
                utc_time(health.checked_at)
            );
            view! {
                <span class=format!("health health-{state}") title=title data-health=state>
                    {state}
                    <span class="muted">{latency}</span>
                </span>
            }
            .into_any()
        }
    }
}
