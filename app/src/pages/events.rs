//! The live event log: every create, update and delete the console saw, newest first.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::health::HealthBadge;
use crate::format::utc_time;
use crate::live::Live;
use crate::wire::ConsoleEvent;

/// The page for `/events`.
#[component]
pub fn EventsPage() -> impl IntoView {
    view! {
        <Title text="Events · Muster" />
        <section class="events">
            <h1>"Events"</h1>
            <EventLog />
        </section>
    }
}

/// The event log with its filter (service name part, action).
#[component]
pub fn EventLog() -> impl IntoView {
    let live = expect_context::<Live>();
    let (filter, set_filter) = signal(String::new());
    let (action, set_action) = signal(String::new());
    let visible = move || {
        let needle = filter.get().to_lowercase();
        let action = action.get();
        live.events
            .get()
            .into_iter()
            .filter(|event| event.service.name.to_lowercase().contains(&needle))
            .filter(|event| action.is_empty() || event.action.as_str() == action)
            .collect::<Vec<ConsoleEvent>>()
    };
    view! {
        <div class="toolbar">
            <label for="event-filter">"Filter"</label>
            <input
                id="event-filter"
                type="search"
                placeholder="service name"
                on:input=move |event| set_filter.set(event_target_value(&event))
            />
            <label for="event-action">"Action"</label>
            <select id="event-action" on:change=move |event| set_action.set(event_target_value(&event))>
                <option value="">"All"</option>
                <option value="create">"create"</option>
                <option value="update">"update"</option>
                <option value="delete">"delete"</option>
            </select>
        </div>
        <table class="event-log table-cards" aria-live="polite">
            <thead>
                <tr>
                    <th scope="col">"Time (UTC)"</th>
                    <th scope="col">"Action"</th>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Version"</th>
                    <th scope="col">"Node"</th>
                    <th scope="col">"State"</th>
                </tr>
            </thead>
            <tbody>
                <For each=visible key=|event| event.seq let:event>
                    {
                        let node = event.service.nodes.first().cloned();
                        let health = node.as_ref().and_then(|node| node.health.clone());
                        let action = event.action.as_str();
                        let state = node
                            .as_ref()
                            .map(|node| {
                                if event.purged { "purged" } else { node.state.as_str() }
                            })
                            .unwrap_or("");
                        view! {
                            <tr data-action=action data-seq=event.seq>
                                <td data-label="Time">{utc_time(event.timestamp)}</td>
                                <td class=format!("action action-{action}") data-label="Action">{action}</td>
                                <td class="name" data-label="Service">{event.service.name.clone()}</td>
                                <td data-label="Version">{event.service.version.clone()}</td>
                                <td class="name" data-label="Node">{node.map(|node| node.node.id).unwrap_or_default()}</td>
                                <td data-label="State">
                                    {state}
                                    {health.map(|health| view! { " " <HealthBadge health=Some(health) /> })}
                                </td>
                            </tr>
                        }
                    }
                </For>
            </tbody>
        </table>
        <Show when=move || live.events.with(|events| events.is_empty())>
            <p class="empty">"No events yet: changes appear here as they happen."</p>
        </Show>
    }
}
