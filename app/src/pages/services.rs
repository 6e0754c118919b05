//! The services page: every service, live, searchable, filterable and sortable. The search,
//! filter, sort and page live in the URL, so a view can be bookmarked and shared.

use leptos::prelude::*;
use leptos_meta::Title;
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

/// The column the table is ordered by (`sort=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Name,
    Nodes,
    Stale,
    Endpoints,
    Changed,
}

impl SortKey {
    fn parse(text: &str) -> Self {
        match text {
            "nodes" => SortKey::Nodes,
            "stale" => SortKey::Stale,
            "endpoints" => SortKey::Endpoints,
            "changed" => SortKey::Changed,
            _ => SortKey::Name,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Nodes => "nodes",
            SortKey::Stale => "stale",
            SortKey::Endpoints => "endpoints",
            SortKey::Changed => "changed",
        }
    }

    /// The direction a first click on the column gives: names A to Z, counts and times
    /// largest (latest) first, which is what an operator scans for.
    fn default_desc(self) -> bool {
        self != SortKey::Name
    }

    /// `a` against `b` on this column, ascending.
    fn compare(self, a: &ServiceSummary, b: &ServiceSummary) -> std::cmp::Ordering {
        match self {
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::Nodes => a.nodes.live().cmp(&b.nodes.live()),
            SortKey::Stale => a.nodes.stale.cmp(&b.nodes.stale),
            SortKey::Endpoints => a.endpoints.cmp(&b.endpoints),
            SortKey::Changed => a.last_change.cmp(&b.last_change),
        }
    }
}

/// The URL's query, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    text: String,
    only_stale: bool,
    sort: SortKey,
    /// Descending (`dir=desc`); without `dir=`, the column's own default.
    desc: bool,
    page: usize,
}

impl Query {
    /// The query from the URL's parameters.
    fn from_params(param: impl Fn(&str) -> Option<String>) -> Self {
        let sort = SortKey::parse(&param("sort").unwrap_or_default());
        Query {
            text: param("q").unwrap_or_default(),
            only_stale: param("stale").is_some_and(|v| v == "1" || v == "on"),
            sort,
            desc: match param("dir").as_deref() {
                Some("asc") => false,
                Some("desc") => true,
                _ => sort.default_desc(),
            },
            page: param("page")
                .and_then(|page| page.parse::<usize>().ok())
                .unwrap_or(1)
                .max(1),
        }
    }

    /// The services page's URL for this query: search, filter and sort kept, defaults left
    /// out, so paging or re-sorting never loses the rest of the view.
    fn href(&self) -> String {
        let mut pairs = Vec::new();
        if !self.text.is_empty() {
            pairs.push(format!("q={}", urlencode(&self.text)));
        }
        if self.only_stale {
            pairs.push("stale=1".into());
        }
        if self.sort != SortKey::Name || self.desc {
            pairs.push(format!("sort={}", self.sort.as_str()));
            pairs.push(format!("dir={}", if self.desc { "desc" } else { "asc" }));
        }
        if self.page > 1 {
            pairs.push(format!("page={}", self.page));
        }
        if pairs.is_empty() {
            "/".into()
        } else {
            format!("/?{}", pairs.join("&"))
        }
    }

    /// This query on page `page`.
    fn on_page(&self, page: usize) -> Self {
        Query {
            page,
            ..self.clone()
        }
    }

    /// This query sorted by `key` from the first page: a click on the column already sorted
    /// reverses it, on another column sorts it in that column's default direction.
    fn sorted_by(&self, key: SortKey) -> Self {
        let desc = if key == self.sort {
            !self.desc
        } else {
            key.default_desc()
        };
        Query {
            sort: key,
            desc,
            page: 1,
            ..self.clone()
        }
    }
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
    // Ties stay in name order (the summaries come sorted by name and the sort is stable).
    visible.sort_by(|a, b| {
        let order = query.sort.compare(a, b);
        if query.desc {
            order.reverse()
        } else {
            order
        }
    });
    let matching = visible.len();
    let pages = matching.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.min(pages);
    let rows = visible
        .into_iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(|mut row| {
            // The newest version is the one an operator looks for first.
            row.versions
                .sort_by(|a, b| crate::version::newest_first(a, b));
            row
        })
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
        Query::from_params(|key| map.get(key))
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
    // `/` jumps to the search box from anywhere on the page (browser only).
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, focus_search_on_slash);
        on_cleanup(move || handle.remove());
    }
    let navigate = use_navigate();
    // Typing, ticking or choosing updates the URL (and so the table) at once once hydrated;
    // before hydration the form's GET submit does the same.
    let on_change = move |event: leptos::ev::Event| {
        if let Some(query) = form_query(&event, &["q", "stale", "sort", "dir"]) {
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
        <Title text="Services · Muster" />
        <section class="services">
            <h1>"Services"</h1>
            <crate::components::bulk_evict::BulkEvict />
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
                // The column headers sort; these keep the order while the search changes.
                <input type="hidden" name="sort" prop:value=move || query.get().sort.as_str() />
                <input
                    type="hidden"
                    name="dir"
                    prop:value=move || if query.get().desc { "desc" } else { "asc" }
                />
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

/// Focuses the search box on a bare `/`, unless the user is typing in a field already (a
/// `/` there is text) or a dialog is open.
#[cfg(feature = "hydrate")]
fn focus_search_on_slash(event: web_sys::KeyboardEvent) {
    use wasm_bindgen::JsCast;
    if event.key() != "/" || event.ctrl_key() || event.meta_key() || event.alt_key() {
        return;
    }
    let typing = document().active_element().is_some_and(|element| {
        matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
            || element
                .dyn_ref::<web_sys::HtmlElement>()
                .is_some_and(|element| element.is_content_editable())
            || element.closest("dialog[open]").ok().flatten().is_some()
    });
    if typing {
        return;
    }
    if let Some(search) = document()
        .get_element_by_id("service-search")
        .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
    {
        event.prevent_default();
        let _ = search.focus();
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
    let header = {
        let query = query.clone();
        move |label: &'static str, key: SortKey| view! { <SortHeader label key query=query.clone() /> }
    };

    view! {
        <p class="count" data-testid="service-count">{count}</p>
        <table class="service-table">
            <thead>
                <tr>
                    {header("Service", SortKey::Name)}
                    <th scope="col">"Versions"</th>
                    {header("Nodes", SortKey::Nodes)}
                    {header("Alive / stale", SortKey::Stale)}
                    <th scope="col">"Health"</th>
                    {header("Endpoints", SortKey::Endpoints)}
                    {header("Last change (UTC)", SortKey::Changed)}
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
                        {(page > 1)
                            .then(|| {
                                view! { <A href=query.on_page(page - 1).href()>"← Previous"</A> }
                            })}
                        <span data-testid="page-of">{format!("Page {page} of {pages}")}</span>
                        {(page < pages)
                            .then(|| view! { <A href=query.on_page(page + 1).href()>"Next →"</A> })}
                    </nav>
                }
            })}
    }
}

/// A column header that sorts the table by its column: a link (it works before hydration
/// too) to the same view sorted by it, or reversed when it is the column sorted already.
#[component]
fn SortHeader(label: &'static str, key: SortKey, query: Query) -> impl IntoView {
    let current = query.sort == key;
    let aria_sort = current.then_some(if query.desc {
        "descending"
    } else {
        "ascending"
    });
    let arrow = match (current, query.desc) {
        (false, _) => "",
        (true, false) => " ▲",
        (true, true) => " ▼",
    };
    let href = query.sorted_by(key).href();
    view! {
        <th scope="col" aria-sort=aria_sort data-sort=key.as_str()>
            <A href=href attr:class="sort">
                {label}
                <span aria-hidden="true">{arrow}</span>
            </A>
        </th>
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
        let query = Query::from_params(|_| None);
        let data = services_page(&crate::live::index(services), &query);
        data.rows.into_iter().find(|row| row.name == name).unwrap()
    }

    fn names(services: &[ServiceView], url: &str) -> Vec<String> {
        let params: std::collections::HashMap<String, String> = url
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let query = Query::from_params(|key| params.get(key).cloned());
        let data = services_page(&crate::live::index(services.to_vec()), &query);
        data.rows.into_iter().map(|row| row.name).collect()
    }

    #[test]
    fn columns_sort_both_ways_with_ties_in_name_order() {
        let alive = |id: &str| node(id, NodeState::Alive, None);
        let services = vec![
            version("b", "1", vec![alive("b1"), alive("b2")]),
            version("a", "1", vec![alive("a1")]),
            version("c", "1", vec![alive("c1"), alive("c2")]),
        ];
        assert_eq!(names(&services, ""), ["a", "b", "c"]);
        assert_eq!(names(&services, "sort=name&dir=desc"), ["c", "b", "a"]);
        assert_eq!(names(&services, "sort=nodes"), ["b", "c", "a"]);
        assert_eq!(names(&services, "sort=nodes&dir=asc"), ["a", "b", "c"]);
    }

    #[test]
    fn links_keep_search_filter_and_sort() {
        let query = Query::from_params(|key| match key {
            "q" => Some("go micro".into()),
            "stale" => Some("1".into()),
            "sort" => Some("nodes".into()),
            _ => None,
        });
        assert_eq!(
            query.on_page(2).href(),
            "/?q=go%20micro&stale=1&sort=nodes&dir=desc&page=2"
        );
        let reversed = query.on_page(3).sorted_by(SortKey::Nodes);
        assert_eq!(reversed.href(), "/?q=go%20micro&stale=1&sort=nodes&dir=asc");
        assert_eq!(
            query.sorted_by(SortKey::Name).href(),
            "/?q=go%20micro&stale=1"
        );
        assert_eq!(Query::from_params(|_| None).href(), "/");
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
