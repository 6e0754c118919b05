//! The services page: every service, live, with a health strip, a status per row, search,
//! facet chips, sorting and paging. The search, facets, sort, page size and page live in the
//! URL, so a view can be bookmarked and shared.
//!
//! Rows come from kept summaries (the console's view on the server, the live store's
//! [`crate::live::Catalog`] in the browser), each with its search text: a keystroke filters
//! and sorts those, never the nodes behind them.
//!
//! Its links (rows, chips, column headers, pager) are plain `<a>`: the router handles their
//! clicks as it does `<A>`'s, and none of them needs `<A>`'s `aria-current`, whose memos (the
//! resolved href, whether it is the current page) every row, chip and header hydrated.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;
use serde::{Deserialize, Serialize};

use super::url::{form_query, urlencode};
use crate::format::{ago, utc_time};
use crate::live::Live;
use crate::search::Search;
use crate::wire::{HealthCounts, Indexed, ServiceStatus, ServiceSummary};

/// The metadata keys offered as facet chips: what go-micro nodes say they speak.
pub const FACET_KEYS: [&str; 3] = ["server", "protocol", "transport"];

/// Rows per page (`size=` in the URL): 50 by default, 100, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PageSize {
    Rows(usize),
    All,
}

impl PageSize {
    const DEFAULT: PageSize = PageSize::Rows(50);

    fn parse(text: &str) -> Self {
        match text {
            "100" => PageSize::Rows(100),
            "all" => PageSize::All,
            _ => PageSize::DEFAULT,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            PageSize::Rows(100) => "100",
            PageSize::All => "all",
            PageSize::Rows(_) => "50",
        }
    }

    /// Rows on one page when `matching` rows match.
    fn rows(self, matching: usize) -> usize {
        match self {
            PageSize::Rows(rows) => rows,
            PageSize::All => matching.max(1),
        }
    }
}

/// The state chip chosen (`state=` in the URL): a status, or "has stale nodes".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateFacet {
    Status(ServiceStatus),
    Stale,
}

impl StateFacet {
    /// Every chip, in the order shown.
    const ALL: [StateFacet; 4] = [
        StateFacet::Status(ServiceStatus::Healthy),
        StateFacet::Status(ServiceStatus::Degraded),
        StateFacet::Status(ServiceStatus::NoHealthy),
        StateFacet::Stale,
    ];

    fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|facet| facet.as_str() == text)
    }

    fn as_str(self) -> &'static str {
        match self {
            StateFacet::Status(status) => status.as_str(),
            StateFacet::Stale => "stale",
        }
    }

    fn label(self) -> &'static str {
        match self {
            StateFacet::Status(status) => status.label(),
            StateFacet::Stale => "with stale nodes",
        }
    }

    fn holds(self, summary: &ServiceSummary) -> bool {
        match self {
            StateFacet::Status(status) => summary.status() == status,
            StateFacet::Stale => summary.nodes.stale > 0,
        }
    }
}

/// The column the table is ordered by (`sort=` in the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortKey {
    Name,
    /// Needs attention: no healthy node first, then degraded, then healthy.
    Attention,
    Nodes,
    Stale,
    Endpoints,
    Changed,
}

impl SortKey {
    fn parse(text: &str) -> Self {
        match text {
            "attention" => SortKey::Attention,
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
            SortKey::Attention => "attention",
            SortKey::Nodes => "nodes",
            SortKey::Stale => "stale",
            SortKey::Endpoints => "endpoints",
            SortKey::Changed => "changed",
        }
    }

    /// The direction a first click on the column gives: names A to Z and the worst status
    /// first, counts and times largest (latest) first, which is what an operator scans for.
    fn default_desc(self) -> bool {
        !matches!(self, SortKey::Name | SortKey::Attention)
    }

    /// `a` against `b` on this column, ascending.
    fn compare(self, a: &ServiceSummary, b: &ServiceSummary) -> std::cmp::Ordering {
        match self {
            SortKey::Name => a.name.cmp(&b.name),
            SortKey::Attention => a.status().cmp(&b.status()),
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
    /// The state chip chosen (`stale=1`, from older links, is `state=stale`).
    state: Option<StateFacet>,
    /// The metadata chips chosen, one value per key of [`FACET_KEYS`] at most.
    meta: [Option<String>; 3],
    sort: SortKey,
    /// Descending (`dir=desc`); without `dir=`, the column's own default.
    desc: bool,
    size: PageSize,
    page: usize,
}

impl Query {
    /// The query from the URL's parameters.
    fn from_params(param: impl Fn(&str) -> Option<String>) -> Self {
        let sort = SortKey::parse(&param("sort").unwrap_or_default());
        let stale = param("stale").is_some_and(|v| v == "1" || v == "on");
        Query {
            text: param("q").unwrap_or_default(),
            state: param("state")
                .and_then(|state| StateFacet::parse(&state))
                .or(stale.then_some(StateFacet::Stale)),
            meta: FACET_KEYS.map(|key| {
                param(key)
                    .map(|value| value.trim().to_lowercase())
                    .filter(|value| !value.is_empty())
            }),
            sort,
            desc: match param("dir").as_deref() {
                Some("asc") => false,
                Some("desc") => true,
                _ => sort.default_desc(),
            },
            size: PageSize::parse(&param("size").unwrap_or_default()),
            page: param("page")
                .and_then(|page| page.parse::<usize>().ok())
                .unwrap_or(1)
                .max(1),
        }
    }

    /// The services page's URL for this query: search, chips, sort and page size kept,
    /// defaults left out, so paging or re-sorting never loses the rest of the view.
    fn href(&self) -> String {
        let mut pairs = Vec::new();
        if !self.text.is_empty() {
            pairs.push(format!("q={}", urlencode(&self.text)));
        }
        if let Some(state) = self.state {
            pairs.push(format!("state={}", state.as_str()));
        }
        for (key, value) in FACET_KEYS.iter().zip(&self.meta) {
            if let Some(value) = value {
                pairs.push(format!("{key}={}", urlencode(value)));
            }
        }
        if self.sort != SortKey::Name || self.desc {
            pairs.push(format!("sort={}", self.sort.as_str()));
            pairs.push(format!("dir={}", if self.desc { "desc" } else { "asc" }));
        }
        if self.size != PageSize::DEFAULT {
            pairs.push(format!("size={}", self.size.as_str()));
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

    /// This query with the state chip `state` toggled, from the first page.
    fn toggled_state(&self, state: StateFacet) -> Self {
        Query {
            state: (self.state != Some(state)).then_some(state),
            page: 1,
            ..self.clone()
        }
    }

    /// This query with the chip `value` of metadata key number `key` toggled, from the
    /// first page.
    fn toggled_meta(&self, key: usize, value: &str) -> Self {
        let mut meta = self.meta.clone();
        meta[key] = (meta[key].as_deref() != Some(value)).then(|| value.to_string());
        Query {
            meta,
            page: 1,
            ..self.clone()
        }
    }

    /// Which chip groups `entry` passes: the state chip, then each metadata chip.
    fn passes(&self, entry: &Indexed) -> [bool; 4] {
        let state = self.state.is_none_or(|state| state.holds(&entry.summary));
        let meta = |key: usize| {
            self.meta[key].as_deref().is_none_or(|value| {
                entry
                    .search
                    .values_of(FACET_KEYS[key])
                    .any(|found| found == value)
            })
        };
        [state, meta(0), meta(1), meta(2)]
    }
}

/// The figures over every service, whatever the search: the strip above the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Strip {
    services: usize,
    /// Live nodes (alive or stale).
    nodes: usize,
    stale: usize,
    /// Services with no node that can serve.
    no_healthy: usize,
}

impl Strip {
    fn add(&mut self, summary: &ServiceSummary) {
        self.services += 1;
        self.nodes += summary.nodes.live();
        self.stale += summary.nodes.stale;
        if summary.status() == ServiceStatus::NoHealthy {
            self.no_healthy += 1;
        }
    }
}

/// The chips with their counts: services matching the search and every other chip group
/// chosen (so a count says what a click would show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facets {
    state: Vec<(StateFacet, usize)>,
    /// Per key of [`FACET_KEYS`], the values present, most services first.
    meta: Vec<Vec<(String, usize)>>,
}

/// One page of the table, with the counts around it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServicesPageData {
    /// The rows shown.
    rows: Vec<ServiceSummary>,
    /// Services matching the search and chips.
    matching: usize,
    /// Services in all.
    total: usize,
    /// The page shown (clamped to the last page).
    page: usize,
    /// Pages in all.
    pages: usize,
    strip: Strip,
    facets: Facets,
}

/// Filters, counts, sorts and pages `entries` (sorted by name) for `query`: the same rows
/// on the server (first render, from the console's kept summaries) and in the browser (from
/// the live store's). One pass over the summaries; no node is looked at.
fn page_of<'a>(entries: impl Iterator<Item = &'a Indexed>, query: &Query) -> ServicesPageData {
    use std::collections::BTreeMap;
    let search = Search::parse(&query.text);
    let mut strip = Strip::default();
    let mut state_counts = [0usize; StateFacet::ALL.len()];
    let mut meta_counts: [BTreeMap<&str, usize>; 3] = Default::default();
    let mut visible: Vec<&ServiceSummary> = Vec::new();
    for entry in entries {
        strip.add(&entry.summary);
        if !search.matches(&entry.search) {
            continue;
        }
        let passes = query.passes(entry);
        let others = |group: usize| {
            passes
                .iter()
                .enumerate()
                .all(|(other, pass)| other == group || *pass)
        };
        if others(0) {
            for (count, facet) in state_counts.iter_mut().zip(StateFacet::ALL) {
                *count += usize::from(facet.holds(&entry.summary));
            }
        }
        for (key, counts) in meta_counts.iter_mut().enumerate() {
            if others(key + 1) {
                for value in entry.search.values_of(FACET_KEYS[key]) {
                    *counts.entry(value).or_default() += 1;
                }
            }
        }
        if passes.iter().all(|pass| *pass) {
            visible.push(&entry.summary);
        }
    }
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
    let per_page = query.size.rows(matching);
    let pages = matching.div_ceil(per_page).max(1);
    let page = query.page.min(pages);
    let rows = visible
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .map(|row| {
            let mut row = row.clone();
            // The newest version is the one an operator looks for first.
            row.versions
                .sort_by(|a, b| crate::version::newest_first(a, b));
            row
        })
        .collect();
    let facets = Facets {
        state: StateFacet::ALL.into_iter().zip(state_counts).collect(),
        meta: meta_counts
            .iter()
            .map(|counts| {
                let mut values: Vec<(String, usize)> = counts
                    .iter()
                    .map(|(value, count)| (value.to_string(), *count))
                    .collect();
                values.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                values
            })
            .collect(),
    };
    ServicesPageData {
        rows,
        matching,
        total: strip.services,
        page,
        pages,
        strip,
        facets,
    }
}

/// The page of the table for `query`, computed on the server from the console's kept
/// summaries and search texts (no node is copied or looked at); the first render carries
/// these rows only, not the whole registry.
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn load_services_page(query: Query) -> Result<ServicesPageData, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    let mut data = None;
    console.read_index(&mut |entries| data = Some(page_of(entries, &query)));
    data.ok_or_else(|| ServerFnError::new("the console did not read its summaries"))
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
    // The page from the live store's summaries; a memo, so an event that changes nothing
    // shown (another service, off this page) renders nothing.
    let live_page = Memo::new(move |_| {
        let query = query.get();
        live.with_catalog(|catalog| page_of(catalog.entries(), &query))
    });
    // `/` jumps to the search box from anywhere on the page (browser only).
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, focus_search_on_slash);
        on_cleanup(move || handle.remove());
    }
    let navigate = use_navigate();
    // Typing, ticking or choosing updates the URL (and so the table) at once once hydrated;
    // before hydration the form's GET submit does the same.
    let on_change = {
        let navigate = navigate.clone();
        move |event: leptos::ev::Event| {
            let keys = [
                "q",
                "state",
                "server",
                "protocol",
                "transport",
                "sort",
                "dir",
                "size",
            ];
            if let Some(query) = form_query(&event, &keys) {
                navigate(
                    &format!("/?{query}"),
                    NavigateOptions {
                        replace: true,
                        scroll: false,
                        ..NavigateOptions::default()
                    },
                );
            }
        }
    };
    // Enter opens the service when exactly one matches. Once live the table follows every
    // keystroke, so Enter submits nothing else; before that the form's GET applies the search.
    let on_keydown = move |event: leptos::ev::KeyboardEvent| {
        if event.key() != "Enter" {
            return;
        }
        let Some(only) = live_page.with_untracked(|data| {
            data.as_ref().map(|data| {
                (data.matching == 1)
                    .then(|| data.rows.first().map(|row| row.name.clone()))
                    .flatten()
            })
        }) else {
            return;
        };
        event.prevent_default();
        if let Some(name) = only {
            navigate(
                &format!("/services/{}", urlencode(&name)),
                NavigateOptions::default(),
            );
        }
    };
    let hidden = move |key: &'static str, value: fn(&Query) -> String| {
        view! { <input type="hidden" name=key prop:value=move || value(&query.get()) /> }
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
                    placeholder="name, endpoint, address, key=value, prefix*"
                    title="Terms are AND-ed; key=value matches metadata; a * globs"
                    prop:value=move || query.get().text
                    on:input=on_change.clone()
                    on:keydown=on_keydown
                />
                <label for="page-size">"Per page"</label>
                <select
                    id="page-size"
                    name="size"
                    prop:value=move || query.get().size.as_str()
                    on:change=on_change.clone()
                >
                    <option value="50">"50"</option>
                    <option value="100">"100"</option>
                    <option value="all">"all"</option>
                </select>
                // The chips and column headers choose these; they stay while the search changes.
                {hidden("state", |q| q.state.map(StateFacet::as_str).unwrap_or_default().into())}
                {hidden("server", |q| q.meta[0].clone().unwrap_or_default())}
                {hidden("protocol", |q| q.meta[1].clone().unwrap_or_default())}
                {hidden("transport", |q| q.meta[2].clone().unwrap_or_default())}
                {hidden("sort", |q| q.sort.as_str().into())}
                {hidden("dir", |q| if q.desc { "desc" } else { "asc" }.into())}
                <noscript>
                    <button type="submit">"Apply"</button>
                </noscript>
            </Form>
            <Suspense fallback=|| view! { <p class="empty">"Loading services…"</p> }>
                {move || {
                    let query = query.get();
                    // Live once the websocket delivered the whole view; until then (and on the
                    // server) the page loaded for this query.
                    let data = match live_page.get() {
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

/// The strip, the chips, and the filtered, sorted, paged table.
#[component]
fn ServiceTable(data: ServicesPageData, query: Query) -> impl IntoView {
    let ServicesPageData {
        rows,
        matching,
        total,
        page,
        pages,
        strip,
        facets,
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
        <HealthStrip strip query=query.clone() />
        <FacetChips facets query=query.clone() />
        <p class="count" data-testid="service-count">{count}</p>
        <table class="service-table table-cards">
            <thead>
                <tr>
                    {header("Service", SortKey::Name)}
                    <th scope="col">"Versions"</th>
                    {header("Nodes", SortKey::Nodes)}
                    {header("Alive / stale", SortKey::Stale)}
                    {header("Status", SortKey::Attention)}
                    <th scope="col">"Health"</th>
                    {header("Endpoints", SortKey::Endpoints)}
                    {header("Last change", SortKey::Changed)}
                </tr>
            </thead>
            <tbody>
                {rows
                    .into_iter()
                    .map(|service| {
                        let href = format!("/services/{}", urlencode(&service.name));
                        let name = service.name.clone();
                        let row_name = service.name.clone();
                        let status = service.status();
                        view! {
                            <tr data-service=row_name data-status=status.as_str() class=format!("row-{}", status.as_str())>
                                <td class="name" data-label="Service">
                                    <a href=href>{name}</a>
                                </td>
                                <td data-label="Versions">{service.versions.join(", ")}</td>
                                <td data-label="Nodes">{service.nodes.live()}</td>
                                <td data-label="Alive / stale">
                                    <span class="state state-alive">{service.nodes.alive}</span>
                                    " / "
                                    <span class={if service.nodes.stale > 0 {
                                        "state state-stale"
                                    } else {
                                        "muted"
                                    }}>{service.nodes.stale}</span>
                                </td>
                                <td data-label="Status">
                                    <span class=format!("status status-{}", status.as_str())>
                                        {status.label()}
                                    </span>
                                </td>
                                <HealthCell counts=service.health />
                                <td data-label="Endpoints">{service.endpoints}</td>
                                <LastChange at=service.last_change />
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {(page > 1)
                .then(|| view! { <a href=query.on_page(page - 1).href()>"← Previous"</a> })}
            <span data-testid="page-of">{format!("Page {page} of {pages}")}</span>
            {(page < pages)
                .then(|| view! { <a href=query.on_page(page + 1).href()>"Next →"</a> })}
        </nav>
    }
}

/// The figures over every service: services, live nodes, stale nodes, and services with no
/// healthy node, marked when there are any (a link to exactly those).
#[component]
fn HealthStrip(strip: Strip, query: Query) -> impl IntoView {
    let broken = strip.no_healthy > 0;
    let only_broken = query.toggled_state(StateFacet::Status(ServiceStatus::NoHealthy));
    view! {
        <dl class="health-strip" data-testid="health-strip">
            <div data-figure="services">
                <dt>"Services"</dt>
                <dd>{strip.services}</dd>
            </div>
            <div data-figure="nodes">
                <dt>"Nodes"</dt>
                <dd>{strip.nodes}</dd>
            </div>
            <div data-figure="stale" class:figure-warn={strip.stale > 0}>
                <dt>"Stale nodes"</dt>
                <dd>{strip.stale}</dd>
            </div>
            <div data-figure="no-healthy" class:figure-broken=broken data-alert=broken.to_string()>
                <dt>"No healthy node"</dt>
                <dd>
                    <a href=only_broken.href() title="Show only these services">
                        {strip.no_healthy}
                        {broken.then_some(" ⚠")}
                    </a>
                </dd>
            </div>
        </dl>
    }
}

/// Chips that filter by state and by the `server`, `protocol` and `transport` metadata values
/// present, each with how many services it would show; a chip toggles (a link: it works
/// before hydration too).
#[component]
fn FacetChips(facets: Facets, query: Query) -> impl IntoView {
    let chip = |label: String, count: usize, on: bool, href: String, facet: String| {
        view! {
            <a
                href=href
                class=if on { "chip chip-on" } else { "chip" }
                aria-pressed=on.to_string()
                data-facet=facet
            >
                {label}
                " "
                <span class="chip-count">{count}</span>
            </a>
        }
    };
    let states = facets
        .state
        .into_iter()
        .map(|(facet, count)| {
            let on = query.state == Some(facet);
            chip(
                facet.label().to_string(),
                count,
                on,
                query.toggled_state(facet).href(),
                format!("state={}", facet.as_str()),
            )
        })
        .collect_view();
    let meta = FACET_KEYS
        .iter()
        .enumerate()
        .filter_map(|(index, key)| {
            let mut values = facets.meta.get(index).cloned().unwrap_or_default();
            // A chosen value stays shown (and can be cleared) even when nothing matches it.
            if let Some(chosen) = &query.meta[index] {
                if !values.iter().any(|(value, _)| value == chosen) {
                    values.push((chosen.clone(), 0));
                }
            }
            if values.is_empty() {
                return None;
            }
            let chips = values
                .into_iter()
                .map(|(value, count)| {
                    let on = query.meta[index].as_deref() == Some(value.as_str());
                    chip(
                        value.clone(),
                        count,
                        on,
                        query.toggled_meta(index, &value).href(),
                        format!("{key}={value}"),
                    )
                })
                .collect_view();
            Some(view! {
                <span class="chip-group" role="group" aria-label=*key>
                    <span class="chip-key">{*key}</span>
                    {chips}
                </span>
            })
        })
        .collect_view();
    view! {
        <div class="facets" data-testid="facets">
            <span class="chip-group" role="group" aria-label="state">
                <span class="chip-key">"state"</span>
                {states}
            </span>
            {meta}
        </div>
    }
}

/// The time of a service's last event, relative ("3 min ago", following the browser's clock)
/// with the exact UTC time in the title.
#[component]
fn LastChange(at: u64) -> impl IntoView {
    let live = expect_context::<Live>();
    view! {
        <td class="last-change" data-label="Last change" title=format!("{} UTC", utc_time(at)) data-at=at.to_string()>
            {move || ago(live.now_ms.get(), at)}
        </td>
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
            <a href=href class="sort">
                {label}
                <span aria-hidden="true">{arrow}</span>
            </a>
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
            data-label="Health"
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

    /// The page for `url`'s query over `services`, as the browser computes it.
    fn page(services: &[ServiceView], url: &str) -> ServicesPageData {
        let params: std::collections::HashMap<String, String> = url
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k.to_string(), super::super::url::urldecode(v)))
            .collect();
        let query = Query::from_params(|key| params.get(key).cloned());
        let catalog = crate::live::Catalog::of(&crate::live::index(services.to_vec()));
        page_of(catalog.entries(), &query)
    }

    fn row(services: Vec<ServiceView>, name: &str) -> ServiceSummary {
        let data = page(&services, "");
        data.rows.into_iter().find(|row| row.name == name).unwrap()
    }

    fn names(services: &[ServiceView], url: &str) -> Vec<String> {
        page(services, url)
            .rows
            .into_iter()
            .map(|row| row.name)
            .collect()
    }

    fn with_metadata(mut service: ServiceView, pairs: &[(&str, &str)]) -> ServiceView {
        for node in &mut service.nodes {
            for (key, value) in pairs {
                node.node
                    .metadata
                    .insert(key.to_string(), value.to_string());
            }
        }
        service
    }

    /// Three services: `a` broken (its only node unreachable), `b` degraded (one of two
    /// nodes stale), `c` healthy; grpc and mucp servers.
    fn mixed() -> Vec<ServiceView> {
        use HealthState::*;
        vec![
            with_metadata(
                version(
                    "c",
                    "1",
                    vec![node("c1", NodeState::Alive, Some((Healthy, Some(1))))],
                ),
                &[("server", "grpc"), ("transport", "grpc")],
            ),
            with_metadata(
                version(
                    "a",
                    "1",
                    vec![node("a1", NodeState::Alive, Some((Unreachable, None)))],
                ),
                &[("server", "mucp"), ("transport", "http")],
            ),
            with_metadata(
                version(
                    "b",
                    "1",
                    vec![
                        node("b1", NodeState::Alive, Some((Healthy, Some(1)))),
                        node("b2", NodeState::Stale, None),
                    ],
                ),
                &[("server", "mucp"), ("transport", "http")],
            ),
        ]
    }

    #[test]
    fn needs_attention_puts_no_healthy_node_first_then_degraded() {
        let services = mixed();
        assert_eq!(names(&services, "sort=attention"), ["a", "b", "c"]);
        assert_eq!(names(&services, "sort=attention&dir=desc"), ["c", "b", "a"]);
        let statuses: Vec<_> = page(&services, "")
            .rows
            .iter()
            .map(|row| row.status())
            .collect();
        assert_eq!(
            statuses,
            [
                ServiceStatus::NoHealthy,
                ServiceStatus::Degraded,
                ServiceStatus::Healthy
            ]
        );
        let strip = page(&services, "q=nothing-matches").strip;
        assert_eq!(
            strip,
            Strip {
                services: 3,
                nodes: 4,
                stale: 1,
                no_healthy: 1
            },
            "the strip counts every service, whatever the search"
        );
        let only_tombstones = version("gone", "1", vec![node("g", NodeState::Deregistered, None)]);
        assert_eq!(
            row(vec![only_tombstones], "gone").status(),
            ServiceStatus::NoHealthy
        );
    }

    #[test]
    fn chips_filter_and_count_what_a_click_would_show() {
        let services = mixed();
        assert_eq!(names(&services, "server=mucp"), ["a", "b"]);
        assert_eq!(names(&services, "server=mucp&state=degraded"), ["b"]);
        assert_eq!(names(&services, "state=stale"), ["b"]);
        assert_eq!(names(&services, "stale=1"), ["b"], "older links");
        let facets = page(&services, "server=mucp").facets;
        assert_eq!(
            facets.meta[0],
            [("mucp".to_string(), 2), ("grpc".to_string(), 1)],
            "a group's own choice does not narrow its counts"
        );
        assert_eq!(facets.meta[2], [("http".to_string(), 2)], "other groups do");
        let no_healthy = StateFacet::Status(ServiceStatus::NoHealthy);
        assert!(facets.state.contains(&(no_healthy, 1)));
        // Chips combine with the search text.
        assert_eq!(names(&services, "q=b&server=mucp"), ["b"]);
        assert_eq!(names(&services, "q=transport%3Dhttp%20a1"), [] as [&str; 0]);
        assert_eq!(
            names(&services, "q=transport%3Dhttp%20127.0.0.1"),
            ["a", "b"]
        );
    }

    #[test]
    fn page_size_and_pages_keep_sort_and_chips() {
        let services: Vec<ServiceView> = (0..120)
            .map(|i| {
                version(
                    &format!("svc.{i:03}"),
                    "1",
                    vec![node("n", NodeState::Alive, None)],
                )
            })
            .collect();
        let data = page(&services, "sort=name&dir=desc&page=2");
        assert_eq!((data.page, data.pages, data.rows.len()), (2, 3, 50));
        assert_eq!(data.rows[0].name, "svc.069");
        let data = page(&services, "size=100&page=2");
        assert_eq!((data.page, data.pages, data.rows.len()), (2, 2, 20));
        let data = page(&services, "size=all&page=3");
        assert_eq!((data.page, data.pages, data.rows.len()), (1, 1, 120));
        let query = Query::from_params(|key| match key {
            "q" => Some("svc.*".into()),
            "state" => Some("healthy".into()),
            "server" => Some("grpc".into()),
            "size" => Some("100".into()),
            "sort" => Some("changed".into()),
            _ => None,
        });
        assert_eq!(
            query.on_page(2).href(),
            "/?q=svc.%2A&state=healthy&server=grpc&sort=changed&dir=desc&size=100&page=2"
        );
        assert_eq!(
            query.toggled_meta(0, "grpc").href(),
            "/?q=svc.%2A&state=healthy&sort=changed&dir=desc&size=100"
        );
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
            "/?q=go%20micro&state=stale&sort=nodes&dir=desc&page=2"
        );
        let reversed = query.on_page(3).sorted_by(SortKey::Nodes);
        assert_eq!(
            reversed.href(),
            "/?q=go%20micro&state=stale&sort=nodes&dir=asc"
        );
        assert_eq!(
            query.sorted_by(SortKey::Name).href(),
            "/?q=go%20micro&state=stale"
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
