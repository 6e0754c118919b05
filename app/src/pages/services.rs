//! The services page: every service, live, searchable, filterable and sortable. The search,
//! filter, sort and page live in the URL, so a view can be bookmarked and shared.

use leptos::prelude::*;
use leptos_router::components::{Form, A};
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use serde::{Deserialize, Serialize};

use super::url::{form_query, urlencode};
use crate::format::utc_time;
use crate::live::{Live, ServiceMap};
use crate::wire::{summarize, HealthCounts, ServiceSummary};

/// Rows per page: keeps the page fast with thousands of services.
pub const PAGE_SIZE: usize = 50;

/// How the table is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Name,
    Nodes,
    Stale,
    Changed,
}

impl SortKey {
    fn parse(text: &str) -> Self {
        match text {
            "nodes" => SortKey::Nodes,
            "stale" => SortKey::Stale,
            "changed" => SortKey::Changed,
            _ => SortKey::Name,
        }
    }
}

/// The URL's query, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    text: String,
    only_stale: bool,
    sort: SortKey,
    page: usize,
}

/// One page of the table, with the counts around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesPageData {
    /// The rows shown.
    rows: Vec<ServiceSummary>,
    /// Services matching the search and filter.
    matching: usize,
    /// Services in all.
    total: usize,
    /// The page shown (clamped to the last page).
    page: usize,
    /// Pages in all.
    pages: usize,
}

/// Filters, sorts and pages the services of `map`: what the browser shows for `query` live,
/// from the whole view.
fn services_page(map: &ServiceMap, query: &Query) -> ServicesPageData {
    page_of(summarize(map.values()), query, |name, key, value| {
        has_metadata(map, name, key, value)
    })
}

/// Filters, sorts and pages `summaries` (sorted by name) for `query`: the same rows on the
/// server (first render, from the console's summaries) and in the browser (from the live
/// view). `has_metadata(name, key, value)` answers a `key=value` search.
fn page_of(
    summaries: Vec<ServiceSummary>,
    query: &Query,
    has_metadata: impl Fn(&str, &str, &str) -> bool,
) -> ServicesPageData {
    let total = summaries.len();
    let mut visible: Vec<ServiceSummary> = summaries
        .into_iter()
        .filter(|summary| !query.only_stale || summary.nodes.stale > 0)
        .filter(|summary| matches(summary, &query.text, &has_metadata))
        .collect();
    match query.sort {
        SortKey::Name => {}
        SortKey::Nodes => visible.sort_by_key(|s| std::cmp::Reverse(s.nodes.live())),
        SortKey::Stale => visible.sort_by_key(|s| std::cmp::Reverse(s.nodes.stale)),
        SortKey::Changed => visible.sort_by_key(|s| std::cmp::Reverse(s.last_change)),
    }
    let matching = visible.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.min(pages);
    let rows = visible
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .collect();
    ServicesPageData {
        rows,
        matching,
        total,
        page,
        pages,
    }
}

/// The page of the table for `query`, computed on the server from the console's summaries
/// (kept by its view: no node is copied); the first render carries these rows only, not the
/// whole registry.
#[server(prefix = "/rpc")]
pub async fn load_services_page(query: Query) -> Result<ServicesPageData, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    let named = metadata_search(&query.text)
        .map(|(key, value)| console.names_with_metadata(key, value))
        .unwrap_or_default();
    Ok(page_of(console.summaries(), &query, |name, _, _| {
        named.contains(name)
    }))
}

/// The `key=value` of a metadata search, trimmed; `None` for a name search.
fn metadata_search(text: &str) -> Option<(&str, &str)> {
    let (key, value) = text.trim().split_once('=')?;
    Some((key.trim(), value.trim()))
}

/// Does `summary` match the search text? A `key=value` search matches metadata of the service
/// or any of its nodes (`has_metadata`); anything else matches a part of the name,
/// case-insensitively.
fn matches(
    summary: &ServiceSummary,
    text: &str,
    has_metadata: impl Fn(&str, &str, &str) -> bool,
) -> bool {
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    if let Some((key, value)) = metadata_search(text) {
        return has_metadata(&summary.name, key, value);
    }
    summary.name.to_lowercase().contains(&text.to_lowercase())
}

/// Whether a version of `name` in `map`, or one of its nodes, has `key` set to `value`.
fn has_metadata(map: &ServiceMap, name: &str, key: &str, value: &str) -> bool {
    map.range((name.to_string(), String::new())..)
        .take_while(|((service, _), _)| service == name)
        .any(|(_, service)| {
            service.metadata.get(key).map(String::as_str) == Some(value)
                || service
                    .nodes
                    .iter()
                    .any(|node| node.node.metadata.get(key).map(String::as_str) == Some(value))
        })
}

/// The services table with its toolbar.
#[component]
pub fn ServicesPage() -> impl IntoView {
    let live = expect_context::<Live>();
    let query_map = use_query_map();
    let query = Memo::new(move |_| {
        let map = query_map.get();
        Query {
            text: map.get("q").unwrap_or_default(),
            only_stale: map.get("stale").is_some_and(|v| v == "1" || v == "on"),
            sort: SortKey::parse(&map.get("sort").unwrap_or_default()),
            page: map
                .get("page")
                .and_then(|page| page.parse::<usize>().ok())
                .unwrap_or(1)
                .max(1),
        }
    });
    // What the server renders (and the browser hydrates with): only this query's page. It is
    // not needed, nor fetched, once the live store holds the whole view.
    let first_load = Resource::new(
        move || (!live.has_view()).then(|| query.get()),
        |query| async move {
            match query {
                Some(query) => load_services_page(query).await.map(Some),
                None => Ok(None),
            }
        },
    );
    let navigate = use_navigate();
    // Typing, ticking or choosing updates the URL (and so the table) at once once hydrated;
    // before hydration the form's GET submit does the same.
    let on_change = move |event: leptos::ev::Event| {
        if let Some(query) = form_query(&event, &["q", "stale", "sort"]) {
            navigate(
                &format!("/?{query}"),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    };

    view! {
        <section class="services">
            <h1>"Services"</h1>
            <Form method="GET" action="/" attr:class="toolbar" attr:role="search">
                <label for="service-search">"Search"</label>
                <input
                    id="service-search"
                    name="q"
                    type="search"
                    placeholder="name or key=value"
                    prop:value=move || query.get().text
                    on:input=on_change.clone()
                />
                <label class="check">
                    <input
                        type="checkbox"
                        name="stale"
                        value="1"
                        prop:checked=move || query.get().only_stale
                        on:change=on_change.clone()
                    />
                    "Only with stale nodes"
                </label>
                <label for="service-sort">"Sort"</label>
                <select id="service-sort" name="sort" on:change=on_change>
                    <option value="name" selected=move || query.get().sort == SortKey::Name>
                        "Name"
                    </option>
                    <option value="nodes" selected=move || query.get().sort == SortKey::Nodes>
                        "Most nodes"
                    </option>
                    <option value="stale" selected=move || query.get().sort == SortKey::Stale>
                        "Most stale"
                    </option>
                    <option value="changed" selected=move || query.get().sort == SortKey::Changed>
                        "Last change"
                    </option>
                </select>
                <noscript>
                    <button type="submit">"Apply"</button>
                </noscript>
            </Form>
            <Suspense fallback=|| view! { <p class="empty">"Loading services…"</p> }>
                {move || {
                    let query = query.get();
                    // Live once the websocket delivered the whole view; until then (and on the
                    // server) the page loaded for this query.
                    let data = match live.with_services(|map| services_page(map, &query)) {
                        Some(data) => Ok(data),
                        None => match first_load.get()? {
                            Ok(Some(data)) => Ok(data),
                            Ok(None) => return None,
                            Err(error) => Err(error.to_string()),
                        },
                    };
                    Some(match data {
                        Ok(data) => view! { <ServiceTable data query /> }.into_any(),
                        Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                    })
                }}
            </Suspense>
        </section>
    }
}

/// The filtered, sorted, paged table.
#[component]
fn ServiceTable(data: ServicesPageData, query: Query) -> impl IntoView {
    let ServicesPageData {
        rows,
        matching,
        total,
        page,
        pages,
    } = data;
    let mut count = format!("{matching} of {total} services");
    if !query.text.trim().is_empty() {
        count.push_str(&format!(" matching “{}”", query.text.trim()));
    }
    let page_link = {
        let query = query.clone();
        move |page: usize| {
            let mut pairs = vec![format!("page={page}")];
            if !query.text.is_empty() {
                pairs.push(format!("q={}", urlencode(&query.text)));
            }
            if query.only_stale {
                pairs.push("stale=1".into());
            }
            format!("/?{}", pairs.join("&"))
        }
    };

    view! {
        <p class="count" data-testid="service-count">{count}</p>
        <table class="service-table">
            <thead>
                <tr>
                    <th scope="col">"Service"</th>
                    <th scope="col">"Versions"</th>
                    <th scope="col">"Nodes"</th>
                    <th scope="col">"Alive / stale"</th>
                    <th scope="col">"Health"</th>
                    <th scope="col">"Endpoints"</th>
                    <th scope="col">"Last change (UTC)"</th>
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|service| {
                        let href = format!("/services/{}", urlencode(&service.name));
                        let name = service.name.clone();
                        let row_name = service.name.clone();
                        view! {
                            <tr data-service=row_name>
                                <td class="name">
                                    <A href=href>{name}</A>
                                </td>
                                <td>{service.versions.join(", ")}</td>
                                <td>{service.nodes.live()}</td>
                                <td>
                                    <span class="state state-alive">{service.nodes.alive}</span>
                                    " / "
                                    <span class={if service.nodes.stale > 0 {
                                        "state state-stale"
                                    } else {
                                        "muted"
                                    }}>{service.nodes.stale}</span>
                                </td>
                                <HealthCell counts=service.health />
                                <td>{service.endpoints}</td>
                                <td>{utc_time(service.last_change)}</td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        {(pages > 1)
            .then(|| {
                view! {
                    <nav class="pager" aria-label="Pages">
                        {(page > 1).then(|| view! { <A href={page_link(page - 1)}>"← Previous"</A> })}
                        <span>{format!("Page {page} of {pages}")}</span>
                        {(page < pages).then(|| view! { <A href={page_link(page + 1)}>"Next →"</A> })}
                    </nav>
                }
            })}
    }
}

/// A service's live nodes by health, compact: the non-zero counts in their colours, every
/// count in the title. A service whose checked nodes are all failing or unreachable is
/// marked broken (the whole row, so it stands out in a long list).
#[component]
fn HealthCell(counts: HealthCounts) -> impl IntoView {
    let parts = [
        ("healthy", counts.healthy),
        ("failing", counts.failing),
        ("unreachable", counts.unreachable),
        ("no-check", counts.no_check),
        ("unsupported", counts.unsupported),
        ("unchecked", counts.unchecked),
    ];
    let title = parts
        .iter()
        .map(|(state, count)| format!("{count} {}", state.replace('-', " ")))
        .collect::<Vec<_>>()
        .join(", ");
    let shown: Vec<_> = parts.into_iter().filter(|(_, count)| *count > 0).collect();
    let broken = counts.broken();
    view! {
        <td
            class=if broken { "health-cell health-broken" } else { "health-cell" }
            title=title
            data-broken=broken.to_string()
        >
            {broken.then(|| view! { <span class="health-broken-label">"broken "</span> })}
            {if shown.is_empty() {
                view! { <span class="muted">"–"</span> }.into_any()
            } else {
                shown
                    .into_iter()
                    .map(|(state, count)| {
                        view! {
                            <span class=format!("health-count health-{state}") data-health-count=state>
                                {count}
                            </span>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </td>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rpc::{HealthState, NodeHealth};
    use crate::wire::{NodeState, NodeView, ServiceView};

    fn node(id: &str, state: NodeState, health: Option<(HealthState, Option<u64>)>) -> NodeView {
        NodeView {
            node: muster_registry::Node {
                id: id.into(),
                address: "127.0.0.1:1".into(),
                ..Default::default()
            },
            first_seen: 1,
            last_seen: 1,
            expires_at: None,
            state,
            owned: false,
            health: health.map(|(state, latency_ms)| NodeHealth {
                state,
                checked_at: 1,
                latency_ms,
                detail: String::new(),
            }),
        }
    }

    fn version(name: &str, version: &str, nodes: Vec<NodeView>) -> ServiceView {
        ServiceView {
            name: name.into(),
            version: version.into(),
            nodes,
            ..ServiceView::default()
        }
    }

    fn row(services: Vec<ServiceView>, name: &str) -> ServiceSummary {
        let query = Query {
            text: String::new(),
            only_stale: false,
            sort: SortKey::Name,
            page: 1,
        };
        let data = services_page(&crate::live::index(services), &query);
        data.rows.into_iter().find(|row| row.name == name).unwrap()
    }

    #[test]
    fn rows_count_live_nodes_by_health_across_versions() {
        use HealthState::*;
        let services = vec![
            version(
                "svc",
                "1",
                vec![
                    node("a", NodeState::Alive, Some((Healthy, Some(1)))),
                    node("b", NodeState::Alive, Some((Failing, Some(1)))),
                    node("c", NodeState::Stale, Some((Unreachable, None))),
                    // A tombstone's last check is history, not the service's health.
                    node("d", NodeState::Deregistered, Some((Healthy, Some(1)))),
                ],
            ),
            version(
                "svc",
                "2",
                vec![
                    node("e", NodeState::Alive, Some((NoCheck, None))),
                    node("f", NodeState::Alive, Some((Unsupported, Some(2)))),
                    node("g", NodeState::Stale, Some((Unsupported, None))),
                    node("h", NodeState::Alive, None),
                ],
            ),
        ];
        let health = row(services, "svc").health;
        assert_eq!(
            health,
            HealthCounts {
                healthy: 1,
                failing: 1,
                unreachable: 2,
                no_check: 1,
                unsupported: 1,
                unchecked: 1,
            }
        );
        assert_eq!(health.total(), 7);
        assert!(!health.broken());
    }

    #[test]
    fn a_service_with_no_node_answering_well_is_broken() {
        use HealthState::*;
        let down = |nodes| row(vec![version("svc", "1", nodes)], "svc").health;
        assert!(down(vec![
            node("a", NodeState::Stale, Some((Unreachable, None))),
            node("b", NodeState::Alive, Some((Failing, Some(1)))),
        ])
        .broken());
        assert!(
            !down(vec![
                node("a", NodeState::Stale, Some((Unreachable, None))),
                node("b", NodeState::Alive, None),
            ])
            .broken(),
            "not while a node is still unchecked"
        );
        assert!(!down(vec![
            node("a", NodeState::Stale, Some((Unreachable, None))),
            node("b", NodeState::Alive, Some((NoCheck, None))),
        ])
        .broken());
        assert!(
            !down(vec![node(
                "a",
                NodeState::Deregistered,
                Some((Unreachable, None))
            )])
            .broken(),
            "only tombstones: nothing live to be broken"
        );
    }
}
