//! The live event log: every create, update and delete the console saw, newest first, each
//! saying why and linking to its service and node.
//!
//! The filter and the pause live in the URL (`/events?q=order&action=delete&paused=4711`): a
//! paused log shows the events up to that sequence number and holds still, counting what came
//! since ("3 new"); Resume shows them. The export link downloads the same filtered events as
//! NDJSON from the server (`GET /api/events?format=ndjson&…`).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::components::event_table::EventTable;
use crate::event_filter::EventFilter;
use crate::live::Live;
use crate::pages::url::form_query;
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

/// The event log with its filter, pause and export.
#[component]
pub fn EventLog() -> impl IntoView {
    let live = expect_context::<Live>();
    let query_map = use_query_map();
    let filter = Memo::new(move |_| {
        let map = query_map.get();
        EventFilter::from_params(|key| map.get(key))
    });
    let paused = Memo::new(move |_| {
        query_map
            .get()
            .get("paused")
            .and_then(|seq| seq.parse::<u64>().ok())
    });
    // What a paused log holds still: the events up to the pause, taken once they are known
    // (after a reload, once the snapshot came).
    let frozen = RwSignal::new(None::<(u64, Vec<ConsoleEvent>)>);
    Effect::new(move |_| {
        let loaded = live.has_view();
        match paused.get() {
            None => frozen.set(None),
            Some(at) => {
                let taken = frozen.with_untracked(|held| held.as_ref().map(|(seq, _)| *seq));
                if loaded && taken != Some(at) {
                    let held = live.events.with_untracked(|events| {
                        events
                            .iter()
                            .filter(|event| event.seq <= at)
                            .cloned()
                            .collect()
                    });
                    frozen.set(Some((at, held)));
                }
            }
        }
    });
    let shown = Signal::derive(move || {
        let filter = filter.get();
        let keep = |event: &&ConsoleEvent| filter.matches(event);
        match paused.get() {
            Some(_) => frozen.with(|held| {
                held.as_ref()
                    .map(|(_, events)| events.iter().filter(keep).cloned().collect())
                    .unwrap_or_default()
            }),
            None => live
                .events
                .with(|events| events.iter().filter(keep).cloned().collect()),
        }
    });
    let new_since_pause = move || {
        let at = paused.get()?;
        let filter = filter.get();
        Some(live.events.with(|events| {
            events
                .iter()
                .filter(|event| event.seq > at && filter.matches(event))
                .count()
        }))
    };
    let navigate = use_navigate();
    let go = move |query: String| {
        let url = if query.is_empty() {
            "/events".to_string()
        } else {
            format!("/events?{query}")
        };
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..NavigateOptions::default()
            },
        );
    };
    let on_change = {
        let go = go.clone();
        move |event: leptos::ev::Event| {
            if let Some(query) = form_query(&event, &["q", "action", "paused"]) {
                go(query);
            }
        }
    };
    let toggle_pause = move |_| {
        let mut query = filter.get_untracked().query();
        if paused.get_untracked().is_none() {
            let latest = live
                .events
                .with_untracked(|events| events.front().map_or(0, |event| event.seq));
            if !query.is_empty() {
                query.push('&');
            }
            query.push_str(&format!("paused={latest}"));
        }
        go(query);
    };
    let export_href = move || {
        let query = filter.get().query();
        if query.is_empty() {
            "/api/events?format=ndjson".to_string()
        } else {
            format!("/api/events?format=ndjson&{query}")
        }
    };
    let status = move || {
        let count = shown.with(Vec::len);
        let rows = if count == 1 { "event" } else { "events" };
        match new_since_pause() {
            Some(new) => format!("Paused: {count} {rows} shown, {new} new"),
            None => format!("{count} {rows} shown, live"),
        }
    };
    let action_is =
        move |action: &'static str| move || filter.get().action.map(|a| a.as_str()) == Some(action);
    view! {
        <Form method="GET" action="/events" attr:class="toolbar" attr:role="search">
            <label for="event-filter">"Filter"</label>
            <input
                id="event-filter"
                name="q"
                type="search"
                placeholder="service, node or address"
                prop:value=move || filter.get().text
                on:input=on_change.clone()
            />
            <label for="event-action">"Action"</label>
            <select id="event-action" name="action" on:change=on_change.clone()>
                <option value="">"All"</option>
                <option value="create" selected=action_is("create")>"create"</option>
                <option value="update" selected=action_is("update")>"update"</option>
                <option value="delete" selected=action_is("delete")>"delete"</option>
            </select>
            <input
                type="hidden"
                name="paused"
                prop:value=move || paused.get().map(|seq| seq.to_string()).unwrap_or_default()
            />
            <button
                type="button"
                class="pause"
                aria-pressed=move || paused.get().is_some().to_string()
                on:click=toggle_pause
            >
                {move || match (paused.get(), new_since_pause()) {
                    (None, _) => "Pause".to_string(),
                    (Some(_), Some(new)) if new > 0 => format!("Resume ({new} new)"),
                    (Some(_), _) => "Resume".to_string(),
                }}
            </button>
            <a class="button export" href=export_href download="muster-events.ndjson">
                "Export NDJSON"
            </a>
        </Form>
        <p class="event-status" role="status" aria-live="polite">
            {status}
        </p>
        <EventTable events=shown />
        <Show when=move || live.events.with(|events| events.is_empty())>
            <p class="empty">"No events yet: changes appear here as they happen."</p>
        </Show>
    }
}
