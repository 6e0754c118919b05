//! One service: a summary, one node table for all its versions (with state, owner and
//! actions), then its endpoints once per distinct schema.
//!
//! Rendered from fine-grained parts of the live store, with keyed lists (nodes by version and
//! id, endpoints by name and content): an event re-renders only the rows it changes, so an
//! open schema tree, a "+N", the version filter, typed text, the scroll position and an open
//! confirmation survive any number of updates, of other services and of this one. Endpoints
//! and nodes carry ids (`#endpoint-…`, `#node-…`) for deep links.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use crate::components::confirm::{NodeConfirm, NodeConfirmDialog};
use crate::components::endpoint_list::EndpointList;
use crate::components::node_table::NodeTable;
use crate::components::not_found::NotFound;
use crate::components::service_summary::ServiceSummary;
use crate::live::Live;
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
                        Ok(_) => view! { <ServiceBody name first_load /> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// Summary, nodes and endpoints of every version: from the live store once it holds the
/// view, until then from the first load.
#[component]
fn ServiceBody(name: Memo<String>, first_load: FirstLoad) -> impl IntoView {
    let live = expect_context::<Live>();
    // Each version's own cell is read, so another service's change does not re-run this.
    let versions = Memo::new(move |_| {
        let name = name.get();
        let mut versions = if live.has_view() {
            live.versions_of(&name)
                .into_iter()
                .filter_map(|version| live.service(&(name.clone(), version)))
                .collect()
        } else {
            loaded_versions(first_load)
        };
        // The newest version is the one an operator looks for first.
        versions.sort_by(|a, b| crate::version::newest_first(&a.version, &b.version));
        versions
    });
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
            <ServiceSummary versions />
            <NodeTable name versions />
            <EndpointList name versions />
        </Show>
    }
    .into_any()
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
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn load_service(name: String) -> Result<Vec<ServiceView>, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    Ok(console.service(&name))
}
