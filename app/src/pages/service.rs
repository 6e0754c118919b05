//! One service: a summary, one node table for all its versions (with state, owner and
//! actions), then its endpoints once per distinct schema.
//!
//! Rendered from fine-grained parts of the live store, with keyed lists (nodes by version and
//! id, endpoints by name and content): an event re-renders only the rows it changes, so an
//! open schema tree, a "+N", the version filter, typed text, the scroll position and an open
//! confirmation survive any number of updates, of other services and of this one. Endpoints
//! and nodes carry ids (`#endpoint-…`, `#node-…`) for deep links.
//!
//! Nothing here holds the service's nodes in one value: the page reads each version's cells
//! (head, counts, rows, one cell per node; see [`crate::live::VersionCell`]), so an event of
//! one node of a service of 400 costs that node's row, not a clone of all 400 (issue #16).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::confirm::{NodeConfirm, NodeConfirmDialog};
use crate::components::endpoint_list::EndpointList;
use crate::components::node_table::NodeTable;
use crate::components::not_found::NotFound;
use crate::components::service_summary::ServiceSummary;
use crate::live::{Live, NodeCounts, VersionCell};
use crate::wire::ServiceView;

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
                        Ok(loaded) => view! { <ServiceBody name loaded /> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// Summary, nodes and endpoints of every version, from the live store's cells: until the
/// store holds the view, the page seeds them with what it `loaded` (the same on the server and
/// when hydrating), and the snapshot then updates them in place.
#[component]
fn ServiceBody(name: Memo<String>, loaded: Option<Vec<ServiceView>>) -> impl IntoView {
    let live = expect_context::<Live>();
    if let Some(loaded) = loaded {
        live.seed(&loaded);
    }
    // Each version's cells, newest first (the one an operator looks for first): re-run only
    // when a version of this service appears or leaves.
    let versions = Memo::new(move |_| {
        let mut versions = live.version_cells(&name.get());
        versions.sort_by(|a, b| crate::version::newest_first(&a.0, &b.0));
        versions
    });
    // The versions without their nodes: what the summary and the endpoints read.
    let heads = Memo::new(move |_| {
        versions.with(|versions| {
            versions
                .iter()
                .map(|(_, cell)| cell.head())
                .collect::<Vec<_>>()
        })
    });
    let counts: Memo<NodeCounts> = Memo::new(move |_| {
        versions.with(|versions| crate::live::total(versions.iter().map(|(_, cell)| cell.counts())))
    });
    let callable = Memo::new(move |_| versions.with(|versions| live_node_ids(versions)));
    let empty = Memo::new(move |_| versions.with(Vec::is_empty));
    view! {
        <Show
            when=move || !empty.get()
            fallback=move || {
                view! {
                    <NotFound
                        wanted=name
                        message="No service of this name is registered (or its last nodes' tombstones have expired)."
                    />
                }
            }
        >
            <ServiceSummary versions=heads counts />
            <NodeTable name versions />
            <EndpointList name versions=heads callable />
        </Show>
    }
    .into_any()
}

/// The ids of each version's nodes that are not tombstones (the Call panels' node pickers),
/// in the versions' order (tracked: changes when a node appears, leaves or moves).
fn live_node_ids(versions: &[(String, VersionCell)]) -> Vec<(String, Vec<String>)> {
    versions
        .iter()
        .map(|(version, cell)| {
            let ids = cell.with_rows(|rows| {
                rows.iter()
                    .filter(|(_, slot)| !slot.place.is_tombstone())
                    .map(|(id, _)| id.clone())
                    .collect()
            });
            (version.clone(), ids)
        })
        .collect()
}

/// The versions of one service, from the console's view (the page's first render).
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn load_service(name: String) -> Result<Vec<ServiceView>, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    Ok(console.service(&name))
}
