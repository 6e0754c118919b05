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
    let json = move || {
        let name = name.get();
        let records = live
            .with_services(|map| {
                go_micro_records(map.values().filter(|version| version.name == name))
            })
            .unwrap_or_default();
        serde_json::to_string_pretty(&records).unwrap_or_default()
    };
    let href = move || format!("data:application/json;charset=utf-8,{}", urlencode(&json()));
    view! {
        <div class="service-extras">
            <details class="history">
                <summary>
                    "History " {move || format!("({})", history.with(Vec::len))}
                </summary>
                <EventTable events=history />
            </details>
            <details class="raw-json">
                <summary>"View raw JSON"</summary>
                <pre class="json">{json}</pre>
            </details>
            <a class="button export" href=href download=move || format!("{}.json", name.get())>
                "Export"
            </a>
        </div>
    }
    .into_any()
}
