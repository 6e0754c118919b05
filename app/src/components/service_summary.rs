//! The head of the service page: its versions (newest first), its nodes by state, its
//! endpoints (links that jump there, ahead of the node table's actions in tab order), and the
//! place for the page's service-wide actions.

use leptos::prelude::*;

use crate::endpoints::{group_endpoints, subscriber_topic};
use crate::wire::{HealthCounts, NodeState, ServiceView, StateCounts};

/// Versions, node counts and endpoint counts of the service, given newest first.
#[component]
pub fn ServiceSummary(versions: Memo<Vec<ServiceView>>) -> impl IntoView {
    let names = move || {
        versions.with(|versions| {
            versions
                .iter()
                .map(|service| service.version.clone())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let counts = Memo::new(move |_| {
        versions.with(|versions| {
            let (mut states, mut health) = (StateCounts::default(), HealthCounts::default());
            for node in versions.iter().flat_map(|service| service.nodes.iter()) {
                states.add(node.state);
                if !node.state.is_tombstone() {
                    health.add(node.health.as_ref());
                }
            }
            (states, health)
        })
    });
    let node_counts = move || {
        let (states, health) = counts.get();
        let by_state = [
            (NodeState::Alive, states.alive),
            (NodeState::Stale, states.stale),
            (NodeState::Expired, states.expired),
            (NodeState::Evicted, states.evicted),
            (NodeState::Deregistered, states.deregistered),
        ];
        let unhealthy = [
            ("failing", health.failing),
            ("unreachable", health.unreachable),
        ];
        let parts = by_state
            .into_iter()
            .map(|(state, count)| (state.as_str(), "state", count))
            .chain(
                unhealthy
                    .into_iter()
                    .map(|(what, count)| (what, "health", count)),
            )
            .filter(|(_, _, count)| *count > 0)
            .map(|(what, kind, count)| {
                view! {
                    <span class=format!("summary-count {kind}-{what}") data-count=what>
                        {format!("{count} {what}")}
                    </span>
                }
            })
            .collect_view();
        view! { {parts} }
    };
    let endpoint_counts = Memo::new(move |_| {
        versions.with(|versions| {
            let groups = group_endpoints(
                versions
                    .iter()
                    .map(|service| (service.version.as_str(), &service.endpoints[..])),
            );
            let mut handlers: Vec<&str> = Vec::new();
            let mut subscribers: Vec<&str> = Vec::new();
            for group in &groups {
                let list = match subscriber_topic(&group.endpoint) {
                    Some(_) => &mut subscribers,
                    None => &mut handlers,
                };
                if list.last() != Some(&group.endpoint.name.as_str()) {
                    list.push(&group.endpoint.name);
                }
            }
            (handlers.len(), subscribers.len())
        })
    });
    view! {
        <section class="service-summary" aria-label="Summary">
            <dl>
                <div>
                    <dt>"Versions"</dt>
                    <dd class="summary-versions name">{names}</dd>
                </div>
                <div>
                    <dt>"Nodes"</dt>
                    <dd class="summary-nodes">{node_counts}</dd>
                </div>
                <div>
                    <dt>"Endpoints"</dt>
                    <dd class="summary-endpoints">
                        <a href="#endpoints" class="jump-endpoints">
                            {move || counted(endpoint_counts.get().0, "endpoint")}
                        </a>
                        {move || {
                            let subscribers = endpoint_counts.get().1;
                            (subscribers > 0)
                                .then(|| {
                                    view! {
                                        ", "
                                        <a href="#subscribers" class="jump-subscribers">
                                            {counted(subscribers, "subscriber")}
                                        </a>
                                    }
                                })
                        }}
                    </dd>
                </div>
            </dl>
            // Service-wide actions (bulk evict, history, raw JSON and export) go here.
            <div class="service-actions"></div>
        </section>
    }
    .into_any()
}

/// `1 endpoint`, `3 endpoints`.
fn counted(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}
