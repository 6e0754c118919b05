//! One service: per version, its nodes (with state, owner and actions) and its endpoints.
//!
//! Rendered from fine-grained parts of the live store, with keyed lists (versions by name,
//! nodes by id, endpoints by name and content): an event re-renders only the rows it changes,
//! so an open schema tree, the scroll position and an open confirmation survive any number of
//! updates, of other services and of this one. Versions, endpoints and nodes carry ids
//! (`#version-…`, `#endpoint-…`, `#node-…`) for deep links.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::call_panel::CallPanel;
use crate::components::confirm::{NodeConfirm, NodeConfirmDialog, NodeTarget};
use crate::components::health::HealthBadge;
use crate::components::not_found::NotFound;
use crate::components::schema::{example_json, SchemaTree};
use crate::components::state::StateBadge;
use crate::format::{duration, utc_time};
use crate::live::{Key, Live};
use crate::pages::url::urlencode;
use crate::wire::{NodeView, ServiceView};
use muster_registry::Endpoint;

/// What the server loaded for the page's first render: the service's versions, or `None` once
/// the live store holds the whole view (nothing to fetch then).
type FirstLoad = Resource<Result<Option<Vec<ServiceView>>, ServerFnError>>;

/// The page for `/services/:name`.
#[component]
pub fn ServicePage() -> impl IntoView {
    let live = expect_context::<Live>();
    let params = use_params_map();
    let name = Memo::new(move |_| params.get().get("name").unwrap_or_default());
    // What the server renders (and the browser hydrates with): this service only. Not
    // fetched once the live store holds the whole view; not re-run when the store arrives, so
    // the switch to live data re-renders nothing that stayed the same.
    let first_load: FirstLoad = Resource::new(
        move || name.get(),
        move |name| async move {
            if live.has_view_untracked() {
                Ok(None)
            } else {
                load_service(name).await.map(Some)
            }
        },
    );
    let confirm = NodeConfirm::new();
    provide_context(confirm);
    // The server knows at once whether the name is registered: an unknown one is a 404 (set
    // now, before the first chunk goes out; the page itself says so once loaded).
    #[cfg(feature = "ssr")]
    if expect_context::<crate::console::SharedConsole>()
        .service(&name.get_untracked())
        .is_empty()
    {
        crate::components::not_found::set_status_not_found();
    }

    view! {
        <Title text=move || format!("{} · Muster", name.get()) />
        <section class="service">
            <p class="crumbs">
                <A href="/">"Services"</A>
                " / "
            </p>
            <h1 class="name" tabindex="-1">{move || name.get()}</h1>
            <crate::components::bulk_evict::BulkEvict service=name />
            <crate::components::service_extras::ServiceExtras name />
            <NodeConfirmDialog confirm />
            <Suspense fallback=|| view! { <p class="empty">"Loading…"</p> }>
                {move || {
                    Some(match first_load.get()? {
                        Err(error) => view! { <p class="error">{error.to_string()}</p> }.into_any(),
                        Ok(_) => view! { <Versions name first_load /> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The service's versions, keyed: from the live store once it holds the view, until then
/// from the first load.
#[component]
fn Versions(name: Memo<String>, first_load: FirstLoad) -> impl IntoView {
    let live = expect_context::<Live>();
    let keys = Memo::new(move |_| {
        let name = name.get();
        let mut versions = if live.has_view() {
            live.versions_of(&name)
        } else {
            loaded_versions(first_load)
                .iter()
                .map(|service| service.version.clone())
                .collect()
        };
        // The newest version is the one an operator looks for first.
        versions.sort_by(|a, b| crate::version::newest_first(a, b));
        versions
            .into_iter()
            .map(|version| (name.clone(), version))
            .collect::<Vec<Key>>()
    });
    view! {
        <Show when=move || keys.with(Vec::is_empty)>
            <NotFound
                wanted=name
                message="No service of this name is registered (or its last nodes' tombstones have expired)."
            />
        </Show>
        <For each=move || keys.get() key=Clone::clone let:key>
            <VersionSection key first_load />
        </For>
    }
}

/// The versions the first load brought (empty once the store took over).
fn loaded_versions(first_load: FirstLoad) -> Vec<ServiceView> {
    first_load
        .get()
        .and_then(Result::ok)
        .flatten()
        .unwrap_or_default()
}

/// The versions of one service, from the console's view (the page's first render).
#[server(prefix = "/rpc")]
pub async fn load_service(name: String) -> Result<Vec<ServiceView>, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    Ok(console.service(&name))
}

/// One version: nodes table, then endpoints.
#[component]
fn VersionSection(key: Key, first_load: FirstLoad) -> impl IntoView {
    let live = expect_context::<Live>();
    let service = {
        let key = key.clone();
        Memo::new(move |_| {
            live.service(&key)
                .or_else(|| {
                    loaded_versions(first_load)
                        .into_iter()
                        .find(|service| service.version == key.1)
                })
                .unwrap_or_default()
        })
    };
    let version = key.1;
    let metadata_text = move || {
        service.with(|service| {
            service
                .metadata
                .iter()
                .map(|(key, value)| format!("{key}={value}"))
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    let node_ids = Memo::new(move |_| {
        service.with(|service| {
            service
                .nodes
                .iter()
                .map(|node| node.node.id.clone())
                .collect::<Vec<_>>()
        })
    });
    let endpoints = Memo::new(move |_| service.with(|service| service.endpoints.clone()));
    let disagreement = move || {
        service.with(|service| {
            let from = service.endpoints_from.clone()?;
            let odd: Vec<&str> = service
                .endpoint_outliers
                .iter()
                .map(|outlier| outlier.node.as_str())
                .collect();
            Some(format!(
                "The nodes' records disagree: these schemas are node {from}'s (as most nodes \
                 have them); {} differ{} (flagged in the table).",
                odd.join(", "),
                if odd.len() == 1 { "s" } else { "" }
            ))
        })
    };
    let anchor = format!("version-{}", urlencode(&version));
    let card_version = version.clone();
    let service_name = key.0.clone();
    // The Call panels' node picker: the version's live nodes (tombstones cannot answer).
    let live_nodes = Memo::new(move |_| {
        service.with(|service| {
            service
                .nodes
                .iter()
                .filter(|node| !node.state.is_tombstone())
                .map(|node| node.node.id.clone())
                .collect::<Vec<_>>()
        })
    });
    view! {
        <section class="version" data-version=version.clone() id=format!("version-{version}")>
            <h2>
                "Version " <span class="name">{version.clone()}</span> " "
                <a class="anchor" href=format!("#{anchor}") aria-label="Link to this version">
                    "#"
                </a>
            </h2>
            <p class="muted">{metadata_text}</p>
            <NodeTable service node_ids />
            <h3>{move || format!("Endpoints ({})", endpoints.with(Vec::len))}</h3>
            {move || disagreement().map(|text| view! { <p class="hint endpoints-source">{text}</p> })}
            <Show when=move || endpoints.with(Vec::is_empty)>
                <p class="empty">"No endpoints registered."</p>
            </Show>
            <For each=move || endpoints.get() key=endpoint_key let:endpoint>
                <EndpointCard
                    endpoint
                    version=card_version.clone()
                    service=service_name.clone()
                    nodes=live_nodes
                />
            </For>
        </section>
    }
}

/// An endpoint's identity in the list: its name and content, so a changed schema is rendered
/// anew and an unchanged one is left alone.
fn endpoint_key(endpoint: &Endpoint) -> (String, String) {
    (
        endpoint.name.clone(),
        serde_json::to_string(endpoint).unwrap_or_default(),
    )
}

/// The nodes of one version, tombstones included, one keyed row per node id.
#[component]
fn NodeTable(service: Memo<ServiceView>, node_ids: Memo<Vec<String>>) -> impl IntoView {
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
                <For each=move || node_ids.get() key=Clone::clone let:id>
                    <NodeRow service id />
                </For>
            </tbody>
        </table>
    }
}

/// One node's row; its cells follow that node only.
#[component]
fn NodeRow(service: Memo<ServiceView>, id: String) -> impl IntoView {
    let live = expect_context::<Live>();
    let node = {
        let id = id.clone();
        // Nodes come sorted by id (the server's view and `apply_event` keep them so): a
        // binary search keeps a change of a large service at n log n for all its rows.
        Memo::new(move |_| {
            service.with(|service| {
                let nodes = &service.nodes;
                nodes
                    .binary_search_by(|node| node.node.id.as_str().cmp(&id))
                    .ok()
                    .map(|at| nodes[at].clone())
            })
        })
    };
    let field = move |read: fn(&NodeView) -> String| {
        move || node.with(|node| node.as_ref().map(read).unwrap_or_default())
    };
    let ttl_left = move || match node.with(|node| node.as_ref().and_then(|node| node.expires_at)) {
        None => "—".to_string(),
        Some(at) => {
            let now = live.now_ms.get();
            if at > now {
                duration(at - now)
            } else {
                "0 s".to_string()
            }
        }
    };
    let metadata = move || {
        node.with(|node| {
            node.iter()
                .flat_map(|node| node.node.metadata.iter())
                .map(|(key, value)| view! { <span class="pair">{format!("{key}={value}")}</span> })
                .collect_view()
        })
    };
    let state = Memo::new(move |_| node.with(|node| node.as_ref().map(|node| node.state)));
    let outlier = {
        let id = id.clone();
        Memo::new(move |_| {
            service.with(|service| {
                service
                    .endpoint_outliers
                    .iter()
                    .find(|outlier| outlier.node == id)
                    .map(|outlier| outlier.endpoints)
            })
        })
    };
    let anchor = format!("node-{}", urlencode(&id));
    view! {
        <tr
            data-node=id.clone()
            id=format!("node-{id}")
            data-state=move || state.get().map(|state| state.as_str()).unwrap_or_default()
        >
            <td class="name">
                {id.clone()} " "
                <a class="anchor" href=format!("#{anchor}") aria-label="Link to this node">
                    "#"
                </a>
                {move || {
                    outlier
                        .get()
                        .map(|count| {
                            let text = match count {
                                0 => "its record lists no endpoints".to_string(),
                                count => format!("its record lists {count} other endpoints"),
                            };
                            view! { <span class="endpoints-differ">{text}</span> }
                        })
                }}
            </td>
            <td class="name">{field(|node| node.node.address.clone())}</td>
            <td class="metadata">{metadata}</td>
            <td>{field(|node| utc_time(node.first_seen))}</td>
            <td>{field(|node| utc_time(node.last_seen))}</td>
            <td>{ttl_left}</td>
            <td>{move || state.get().map(|state| view! { <StateBadge state /> })}</td>
            <td>
                {move || {
                    let health = node.with(|node| node.as_ref().and_then(|node| node.health.clone()));
                    view! { <HealthBadge health /> }
                }}
            </td>
            <td>
                {field(|node| if node.owned { "this console" } else { "network" }.to_string())}
            </td>
            <td>
                <NodeAction service node />
            </td>
        </tr>
    }
}

/// Deregister (own node) or Evict (foreign node): opens the page's confirmation dialog.
/// Disabled, with the reason, while the console is unreachable or the session read-only.
#[component]
fn NodeAction(service: Memo<ServiceView>, node: Memo<Option<NodeView>>) -> impl IntoView {
    let live = expect_context::<Live>();
    let session = expect_context::<crate::Session>();
    let confirm = expect_context::<NodeConfirm>();
    let target = Memo::new(move |_| {
        let (name, version) = service.with(|s| (s.name.clone(), s.version.clone()));
        node.with(|node| {
            node.as_ref()
                .filter(|node| !node.state.is_tombstone())
                .map(|node| NodeTarget {
                    service: name,
                    version,
                    node_id: node.node.id.clone(),
                    owned: node.owned,
                })
        })
    });
    let reason = move || live.connection.get().unavailable_reason();
    move || match target.get() {
        None => view! { <span class="muted">"removed"</span> }.into_any(),
        Some(target) => {
            let owned = target.owned;
            view! {
                <button
                    type="button"
                    class=if owned { "danger" } else { "warn" }
                    aria-haspopup="dialog"
                    title=reason
                    disabled=move || !session.can_write() || reason().is_some()
                    on:click=move |event| {
                        let trigger = event_target::<web_sys::HtmlElement>(&event);
                        confirm.ask(target.clone(), Some(trigger));
                    }
                >
                    {if owned { "Deregister" } else { "Evict" }}
                </button>
            }
            .into_any()
        }
    }
}

/// One endpoint: metadata, request and response schema trees, and example JSON to copy.
#[component]
fn EndpointCard(
    endpoint: Endpoint,
    version: String,
    service: String,
    nodes: Memo<Vec<String>>,
) -> impl IntoView {
    // Erased: the card's view type with the panel's inside it is deeper than the server
    // crate's type-layout limit.
    let call = view! {
        <CallPanel
            service
            endpoint=endpoint.name.clone()
            request=endpoint.request.clone()
            nodes=nodes
        />
    }
    .into_any();
    let metadata = endpoint
        .metadata
        .iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect::<Vec<_>>()
        .join(", ");
    let id = format!("endpoint-{version}-{}", endpoint.name);
    let anchor = urlencode(&id);
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
        <article class="endpoint" data-endpoint=endpoint.name.clone() id=id>
            <h4>
                <span class="name">{endpoint.name.clone()}</span> " "
                <a class="anchor" href=format!("#{anchor}") aria-label="Link to this endpoint">
                    "#"
                </a>
            </h4>
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
                    let _ = clipboard.write_text(&crate::escape::escape_json_controls(&text));
                    set_copied.set(true);
                }
            >
                {move || if copied.get() { "Copied" } else { "Copy example JSON" }}
            </button>
        </details>
    }
}
