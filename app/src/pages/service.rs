//! One service: per version, its nodes (with state, owner and actions) and its endpoints.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::api::{deregister_node, evict_node};
use crate::components::call_panel::CallPanel;
use crate::components::health::HealthBadge;
use crate::components::schema::{example_json, SchemaTree};
use crate::components::state::StateBadge;
use crate::format::{duration, utc_time};
use crate::live::{Live, ServiceMap};
use crate::wire::{NodeView, ServiceView};
use muster_registry::Endpoint;

/// The page for `/services/:name`.
#[component]
pub fn ServicePage() -> impl IntoView {
    let live = expect_context::<Live>();
    let params = use_params_map();
    let name = Memo::new(move |_| params.get().get("name").unwrap_or_default());
    // What the server renders (and the browser hydrates with): this service only. Not needed,
    // nor fetched, once the live store holds the whole view.
    let first_load = Resource::new(
        move || (!live.has_view()).then(|| name.get()),
        |name| async move {
            match name {
                Some(name) => load_service(name).await.map(Some),
                None => Ok(None),
            }
        },
    );

    view! {
        <section class="service">
            <p class="crumbs">
                <A href="/">"Services"</A>
                " / "
            </p>
            <h1 class="name">{move || name.get()}</h1>
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    let name = name.get();
                    // Live once the websocket delivered the whole view; until then (and on the
                    // server) what was loaded for this service alone.
                    let versions = match live.with_services(|map| versions_of(map, &name)) {
                        Some(versions) => versions,
                        None => match first_load.get()? {
                            Ok(Some(versions)) => versions,
                            Ok(None) => return None,
                            Err(error) => {
                                return Some(
                                    view! { <p class="error">{error.to_string()}</p> }.into_any(),
                                );
                            }
                        },
                    };
                    Some(
                        if versions.is_empty() {
                            view! {
                                <p class="empty">
                                    "No service of this name is registered (or its last nodes' tombstones have expired)."
                                </p>
                            }
                                .into_any()
                        } else {
                            versions
                                .into_iter()
                                .map(|service| view! { <VersionSection service /> })
                                .collect_view()
                                .into_any()
                        },
                    )
                }}
            </Suspense>
        </section>
    }
}

/// Every version of the service `name` in `map`, sorted by version.
fn versions_of(map: &ServiceMap, name: &str) -> Vec<ServiceView> {
    map.range((name.to_string(), String::new())..)
        .take_while(|((service, _), _)| service == name)
        .map(|(_, service)| service.clone())
        .collect()
}

/// The versions of one service, from the console's view (the page's first render).
#[server(prefix = "/rpc")]
pub async fn load_service(name: String) -> Result<Vec<ServiceView>, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    Ok(console.service(&name))
}

/// One version: nodes table, then endpoints.
#[component]
fn VersionSection(service: ServiceView) -> impl IntoView {
    let ServiceView {
        name,
        version,
        metadata,
        endpoints,
        nodes,
    } = service;
    let metadata_text = metadata
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let live_ids: Vec<String> = nodes
        .iter()
        .filter(|node| !node.state.is_tombstone())
        .map(|node| node.node.id.clone())
        .collect();
    view! {
        <section class="version" data-version=version.clone()>
            <h2>"Version " <span class="name">{version.clone()}</span></h2>
            {(!metadata_text.is_empty()).then(|| view! { <p class="muted">{metadata_text}</p> })}
            <NodeTable service=name.clone() nodes />
            <h3>{format!("Endpoints ({})", endpoints.len())}</h3>
            {if endpoints.is_empty() {
                view! { <p class="empty">"No endpoints registered."</p> }.into_any()
            } else {
                endpoints
                    .into_iter()
                    .map(|endpoint| view! { <EndpointCard endpoint service=name.clone() nodes=live_ids.clone() /> })
                    .collect_view()
                    .into_any()
            }}
        </section>
    }
}

/// The nodes of one version, tombstones included.
#[component]
fn NodeTable(service: String, nodes: Vec<NodeView>) -> impl IntoView {
    let live = expect_context::<Live>();
    view! {
        <table class="node-table">
            <thead>
                <tr>
                    <th scope="col">"Node"</th>
                    <th scope="col">"Address"</th>
                    <th scope="col">"Metadata"</th>
                    <th scope="col">"First seen (UTC)"</th>
                    <th scope="col">"Last seen (UTC)"</th>
                    <th scope="col">"TTL left"</th>
                    <th scope="col">"State"</th>
                    <th scope="col">"Health"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Action"</th>
                </tr>
            </thead>
            <tbody>
                {nodes
                    .into_iter()
                    .map(|node| {
                        let metadata = node
                            .node
                            .metadata
                            .iter()
                            .map(|(key, value)| format!("{key}={value}"))
                            .collect::<Vec<_>>();
                        let expires_at = node.expires_at;
                        let ttl_left = move || match expires_at {
                            None => "—".to_string(),
                            Some(at) => {
                                let now = live.now_ms.get();
                                if at > now { duration(at - now) } else { "0 s".to_string() }
                            }
                        };
                        let id = node.node.id.clone();
                        let address = node.node.address.clone();
                        let (state, owned) = (node.state, node.owned);
                        let health = node.health.clone();
                        let (first_seen, last_seen) = (node.first_seen, node.last_seen);
                        view! {
                            <tr data-node=id.clone() data-state=state.as_str()>
                                <td class="name">{id.clone()}</td>
                                <td class="name">{address}</td>
                                <td class="metadata">
                                    {metadata
                                        .into_iter()
                                        .map(|pair| view! { <span class="pair">{pair}</span> })
                                        .collect_view()}
                                </td>
                                <td>{utc_time(first_seen)}</td>
                                <td>{utc_time(last_seen)}</td>
                                <td>{ttl_left}</td>
                                <td>
                                    <StateBadge state />
                                </td>
                                <td>
                                    <HealthBadge health />
                                </td>
                                <td>{if owned { "this console" } else { "network" }}</td>
                                <td>
                                    <NodeAction service=service.clone() node />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

/// Deregister (own node) or Evict (foreign node), behind a confirmation that says exactly what
/// will happen on the network.
#[component]
fn NodeAction(service: String, node: NodeView) -> impl IntoView {
    if node.state.is_tombstone() {
        return view! { <span class="muted">"removed"</span> }.into_any();
    }
    let session = expect_context::<crate::Session>();
    let (confirming, set_confirming) = signal(false);
    let owned = node.owned;
    let node_id = node.node.id.clone();
    let action = Action::new(move |(service, node_id): &(String, String)| {
        let (service, node_id) = (service.clone(), node_id.clone());
        async move {
            if owned {
                deregister_node(service, node_id)
                    .await
                    .map_err(|error| error.to_string())
            } else {
                evict_node(service, node_id)
                    .await
                    .map(|response| response.message)
                    .map_err(|error| error.to_string())
            }
        }
    });
    let verb = if owned { "Deregister" } else { "Evict" };
    let explanation = if owned {
        format!(
            "Deregister {node_id}: this console stops announcing it and sends a goodbye \
             (TTL 0) for it; every go-micro client and watcher drops it."
        )
    } else {
        format!(
            "Evict {node_id}: this console sends a goodbye (TTL 0) on its behalf; every \
             go-micro watcher drops it. If its owner is still alive it answers the next query \
             and re-announces itself, and it reappears here."
        )
    };
    let target = (service, node_id);
    view! {
        <button
            type="button"
            class={if owned { "danger" } else { "warn" }}
            on:click=move |_| set_confirming.set(true)
            aria-haspopup="dialog"
            disabled=move || !session.can_write()
        >
            {verb}
        </button>
        <Show when=move || confirming.get()>
            <div class="confirm" role="alertdialog" aria-label=format!("{verb} node")>
                <p>{explanation.clone()}</p>
                <button
                    type="button"
                    class={if owned { "danger" } else { "warn" }}
                    on:click={
                        let target = target.clone();
                        move |_| {
                            action.dispatch(target.clone());
                            set_confirming.set(false);
                        }
                    }
                >
                    {format!("Yes, {}", verb.to_lowercase())}
                </button>
                <button type="button" on:click=move |_| set_confirming.set(false)>
                    "Cancel"
                </button>
            </div>
        </Show>
        {move || {
            action
                .value()
                .get()
                .map(|result| match result {
                    Ok(message) => view! { <p class="done" role="status">{message}</p> }.into_any(),
                    Err(error) => view! { <p class="error" role="alert">{error}</p> }.into_any(),
                })
        }}
    }
    .into_any()
}

/// One endpoint: metadata, request and response schema trees, example JSON to copy, and the
/// Call panel (`nodes`: ids of the live nodes of `service`).
#[component]
fn EndpointCard(endpoint: Endpoint, service: String, nodes: Vec<String>) -> impl IntoView {
    let call = view! {
        <CallPanel service endpoint=endpoint.name.clone() request=endpoint.request.clone() nodes />
    };
    let metadata = endpoint
        .metadata
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let schema_part = |title: &'static str, value: Option<muster_registry::Value>| match value {
        None => view! {
            <div class="schema-part">
                <h5>{title}</h5>
                <p class="muted">"none"</p>
            </div>
        }
        .into_any(),
        Some(value) => {
            let example = serde_json::to_string_pretty(&example_json(&value)).unwrap_or_default();
            view! {
                <div class="schema-part">
                    <h5>{title}</h5>
                    <SchemaTree value />
                    <CopyExample example />
                </div>
            }
            .into_any()
        }
    };
    view! {
        <article class="endpoint" data-endpoint=endpoint.name.clone()>
            <h4 class="name">{endpoint.name.clone()}</h4>
            {(!metadata.is_empty()).then(|| view! { <p class="muted">{metadata}</p> })}
            <div class="schemas">
                {schema_part("Request", endpoint.request)}
                {schema_part("Response", endpoint.response)}
            </div>
            {call}
        </article>
    }
}

/// Example JSON for a schema, with a button that copies it to the clipboard.
#[component]
fn CopyExample(example: String) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let text = example.clone();
    view! {
        <details class="example">
            <summary>"Example JSON"</summary>
            <pre>{example}</pre>
            <button
                type="button"
                on:click=move |_| {
                    let clipboard = window().navigator().clipboard();
                    let _ = clipboard.write_text(&text);
                    set_copied.set(true);
                }
            >
                {move || if copied.get() { "Copied" } else { "Copy example JSON" }}
            </button>
        </details>
    }
}
