//! Below a service page's title: its recent events ("History", the events page's rows), the
//! service as go-micro's registry JSON ("View raw JSON"), and that JSON as a download
//! ("Export", `<name>.json`: what `GetService` returns — one record per version, live nodes).

use leptos::prelude::*;
use muster_registry::Service;

use crate::components::event_table::EventTable;
use crate::live::Live;
use crate::pages::url::urlencode;
use crate::wire::ServiceView;

/// go-micro's records of the versions of a service: live nodes only (tombstones are the
/// console's, not the registry's), versions without a live node left out.
pub fn go_micro_records<'a>(versions: impl IntoIterator<Item = &'a ServiceView>) -> Vec<Service> {
    versions
        .into_iter()
        .filter_map(|version| {
            let nodes: Vec<_> = version
                .nodes
                .iter()
                .filter(|node| !node.state.is_tombstone())
                .map(|node| node.node.clone())
                .collect();
            (!nodes.is_empty()).then(|| Service {
                name: version.name.clone(),
                version: version.version.clone(),
                metadata: version.metadata.clone(),
                endpoints: version.endpoints.clone(),
                nodes,
            })
        })
        .collect()
}

/// History, raw JSON and Export for the service `name`.
#[component]
pub fn ServiceExtras(#[prop(into)] name: Signal<String>) -> impl IntoView {
    let live = expect_context::<Live>();
    let history = Signal::derive(move || {
        let name = name.get();
        live.events.with(|events| {
            events
                .iter()
                .filter(|event| event.service.name == name)
                .cloned()
                .collect()
        })
    });
    // The count is all a closed History shows: rendered rows inside a closed <details> were
    // rebuilt on every event of this service (the wire → DOM bench's profile), so the table
    // exists only while History is open, and follows the events live then.
    let history_len = Memo::new(move |_| {
        let name = name.get();
        live.events
            .with(|events| events.iter().filter(|e| e.service.name == name).count())
    });
    let history_open = RwSignal::new(false);
    // The JSON is the whole service, and `with_services` tracks the whole view: kept live, it
    // was rebuilt (twice: text and link) on every event of any service, the largest share of
    // an event's cost on this page. So it is built only while "View raw JSON" is open, and the
    // Export link gets it when clicked (before the browser follows it).
    let json = move || {
        let name = name.get();
        let records = live
            .with_services(|map| {
                go_micro_records(map.values().filter(|version| version.name == name))
            })
            .unwrap_or_default();
        serde_json::to_string_pretty(&records).unwrap_or_default()
    };
    let raw_open = RwSignal::new(false);
    let export = move |event: leptos::ev::MouseEvent| {
        let href = format!(
            "data:application/json;charset=utf-8,{}",
            urlencode(&untrack(json))
        );
        let _ = event_target::<web_sys::Element>(&event).set_attribute("href", &href);
    };
    view! {
        <div class="service-extras">
            <details
                class="history"
                on:toggle=move |event| {
                    history_open.set(event_target::<web_sys::HtmlDetailsElement>(&event).open());
                }
            >
                <summary>"History " {move || format!("({})", history_len.get())}</summary>
                {move || history_open.get().then(|| view! { <EventTable events=history /> })}
            </details>
            <details
                class="raw-json"
                on:toggle=move |event| {
                    raw_open.set(event_target::<web_sys::HtmlDetailsElement>(&event).open());
                }
            >
                <summary>"View raw JSON"</summary>
                <pre class="json">{move || raw_open.get().then(json)}</pre>
            </details>
            <a
                class="button export"
                href="data:application/json;charset=utf-8,"
                download=move || format!("{}.json", name.get())
                on:click=export
            >
                "Export"
            </a>
        </div>
    }
    .into_any()
}
