//! The rows of an event log: when, what, which service and node (each a link), the address,
//! why in plain words and who asked. The events page and a service's History show the same.
//!
//! The table is not a live region: a screen reader announcing every row of a busy registry is
//! noise. Pages put their counts in one polite status line instead.

use leptos::prelude::*;

use crate::format::utc_time;
use crate::pages::url::urlencode;
use crate::wire::ConsoleEvent;

/// The link to a service's page, or to one node's row on it.
pub fn service_href(name: &str, node_id: Option<&str>) -> String {
    let page = format!("/services/{}", urlencode(name));
    match node_id {
        Some(id) => format!("{page}#node-{}", urlencode(id)),
        None => page,
    }
}

/// What a row says of why; the node's state for an event from a console without reasons.
fn why(event: &ConsoleEvent) -> String {
    match &event.reason {
        Some(reason) => reason.words(),
        None => event
            .service
            .nodes
            .first()
            .map(|node| node.state.as_str().to_string())
            .unwrap_or_default(),
    }
}

/// A table of `events`, in the order given.
#[component]
pub fn EventTable(#[prop(into)] events: Signal<Vec<ConsoleEvent>>) -> impl IntoView {
    view! {
        <table class="event-log table-cards">
            <thead>
                <tr>
                    <th scope="col">"Time (UTC)"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Node"</th>
                    <th scope="col">"Address"</th>
                    <th scope="col">"Why"</th>
                    <th scope="col">"By"</th>
                </tr>
            </thead>
            <tbody>
                <For each=move || events.get() key=|event| event.seq let:event>
                    <EventRow event />
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

/// One event.
#[component]
fn EventRow(event: ConsoleEvent) -> impl IntoView {
    let node = event.service.nodes.first().cloned();
    let action = event.action.as_str();
    let name = event.service.name.clone();
    let (node_id, address) = node
        .map(|node| (node.node.id, node.node.address))
        .unwrap_or_default();
    let node_link = (!node_id.is_empty() && !event.purged).then(|| {
        let href = service_href(&name, Some(&node_id));
        view! { <a href=href>{node_id.clone()}</a> }
    });
    let node_text = event.purged.then(|| node_id.clone());
    let why = why(&event);
    view! {
        <tr data-action=action data-seq=event.seq data-event-node=node_id.clone()>
            <td data-label="Time">{utc_time(event.timestamp)}</td>
            <td class=format!("action action-{action}") data-label="Action">{action}</td>
            <td class="name" data-label="Service">
                <a href=service_href(&name, None)>{name.clone()}</a>
            </td>
            <td data-label="Version">{event.service.version.clone()}</td>
            <td class="name" data-label="Node">{node_link}{node_text}</td>
            <td class="address" data-label="Address">{address}</td>
            <td class="why" data-label="Why">{why}</td>
            <td class="actor" data-label="By">{event.actor.clone().unwrap_or_default()}</td>
        </tr>
    }
    .into_any()
}
