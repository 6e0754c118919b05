//! The LAN page: every standard DNS-SD service the console hears on its interfaces (printers,
//! other consoles, Home Assistant, the `_micro._tcp` mirrors of a bridging Muster), live and
//! searchable. The search lives in the URL, as on the services page.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};
use leptos_router::NavigateOptions;

use crate::feed::Connection;
use crate::format::utc_time;
use crate::lan::{load_lan, mirror_link, open_link, short_type, LanView};
use crate::pages::url::form_query;
use crate::wire::LanService;

/// The page: loads the snapshot (rendered on the server), then follows `/api/lan/watch` while
/// it is shown.
#[component]
pub fn LanPage() -> impl IntoView {
    let initial = Resource::new(|| (), |_| load_lan());
    // `None` until the feed has said something; then it replaces the snapshot.
    let updated: RwSignal<Option<LanView>> = RwSignal::new(None);
    let connection = RwSignal::new(Connection::Connecting);

    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            let on_message = move |text: &str| {
                if let Ok(message) = serde_json::from_str::<crate::wire::LanMessage>(text) {
                    // The first frame of every connection is a snapshot, so the view is
                    // whole before any change is applied to it.
                    updated.update(|view| view.get_or_insert_with(LanView::default).apply(message));
                }
                true
            };
            let feed =
                crate::feed::Feed::open(|| "/api/lan/watch".to_string(), on_message, connection);
            let feed = send_wrapper::SendWrapper::new(feed);
            on_cleanup(move || feed.stop());
        }
    });

    let query_map = use_query_map();
    let text = Memo::new(move |_| query_map.get().get("q").unwrap_or_default());
    let navigate = use_navigate();
    let on_input = move |event: leptos::ev::Event| {
        if let Some(query) = form_query(&event, &["q"]) {
            navigate(
                &format!("/lan?{query}"),
                NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..NavigateOptions::default()
                },
            );
        }
    };

    let view_now = move || {
        if let Some(view) = updated.get() {
            return Some(Ok(view));
        }
        initial
            .get()
            .map(|snapshot| snapshot.map(LanView::from).map_err(|e| e.to_string()))
    };

    // "off" when LAN browsing is off (`--no-lan`, or mDNS could not start): the feed is live,
    // but there is nothing to follow.
    let badge_label = move || {
        // Read in place: `view_now` copies the whole view.
        let enabled = updated
            .with(|view| view.as_ref().map(|view| view.enabled))
            .or_else(|| {
                initial.with(|snapshot| snapshot.as_ref()?.as_ref().ok().map(|s| s.enabled))
            });
        if enabled == Some(false) {
            "off"
        } else {
            connection.get().label()
        }
    };

    view! {
        <Title text="LAN · Muster" />
        <section class="lan">
            <h1>
                "LAN "
                <span
                    class=move || format!("badge badge-{}", badge_label())
                    data-testid="lan-connection"
                    role="status"
                    aria-label="LAN updates"
                >
                    {badge_label}
                </span>
            </h1>
            <p class="hint">
                "Standard DNS-SD services (what avahi-browse or a Bonjour browser sees) on the "
                "console's interfaces. go-micro services are on the Services page."
            </p>
            <Form method="GET" action="/lan" attr:class="toolbar" attr:role="search">
                <label for="lan-search">"Search"</label>
                <input
                    id="lan-search"
                    name="q"
                    type="search"
                    placeholder="type, instance, host, address or TXT"
                    prop:value=move || text.get()
                    on:input=on_input
                />
                <noscript>
                    <button type="submit">"Apply"</button>
                </noscript>
            </Form>
            <Suspense fallback=|| view! { <p class="empty">"Loading the LAN…"</p> }>
                {move || {
                    view_now()
                        .map(|result| match result {
                            Ok(view) => view! { <LanTable view text=text.get() /> }.into_any(),
                            Err(error) => view! { <p class="error">{error}</p> }.into_any(),
                        })
                }}
            </Suspense>
        </section>
    }
}

/// The instances matching `text`, grouped visually by type.
#[component]
fn LanTable(view: LanView, text: String) -> impl IntoView {
    if !view.enabled {
        let reason = view
            .reason
            .unwrap_or_else(|| "LAN browsing is off".to_string());
        return view! { <p class="empty" data-testid="lan-disabled">{reason}</p> }.into_any();
    }
    let rows: Vec<LanService> = view.matching(&text).into_iter().cloned().collect();
    let mut count = format!(
        "{} of {} instances, {} types",
        rows.len(),
        view.services.len(),
        view.type_count()
    );
    if !text.trim().is_empty() {
        count.push_str(&format!(" matching “{}”", text.trim()));
    }
    if view.services.is_empty() {
        return view! {
            <p class="count" data-testid="lan-count">{count}</p>
            <p class="empty">"Nothing heard yet: no standard DNS-SD service answered on these interfaces."</p>
        }
        .into_any();
    }
    view! {
        <p class="count" data-testid="lan-count">{count}</p>
        <table class="lan-table table-cards">
            <thead>
                <tr>
                    <th scope="col">"Type"</th>
                    <th scope="col">"Instance"</th>
                    <th scope="col">"Host"</th>
                    <th scope="col">"Port"</th>
                    <th scope="col">"Addresses"</th>
                    <th scope="col">"TXT"</th>
                    <th scope="col">"Last seen (UTC)"</th>
                    <th scope="col">
                        <span class="visually-hidden">"Links"</span>
                    </th>
                </tr>
            </thead>
            <tbody>
                {rows.into_iter().map(|service| view! { <LanRow service /> }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// One instance.
#[component]
fn LanRow(service: LanService) -> impl IntoView {
    let pairs = service
        .txt
        .iter()
        .map(|(key, value)| {
            let pair = if value.is_empty() {
                key.clone()
            } else {
                format!("{key}={value}")
            };
            view! { <span class="pair">{pair}</span> }
        })
        .collect_view();
    let open = open_link(&service).map(|href| {
        view! {
            <a href=href target="_blank" rel="noopener noreferrer" data-testid="lan-open">
                "Open"
            </a>
        }
    });
    let mirrored = mirror_link(&service).map(|href| {
        view! { <a href=href data-testid="lan-mirror">"Service"</a> }
    });
    let links = (open, mirrored);
    view! {
        <tr data-fullname=service.fullname.clone() data-type=service.service_type.clone()>
            <td class="name" data-label="Type">{short_type(&service.service_type).to_string()}</td>
            <td class="instance" data-label="Instance">{service.instance.clone()}</td>
            <td class="name" data-label="Host">{service.host.clone()}</td>
            <td data-label="Port">{service.port}</td>
            <td class="name" data-label="Addresses">{service.addresses.join(", ")}</td>
            <td class="metadata" data-label="TXT">{pairs}</td>
            <td data-label="Last seen">{utc_time(service.last_seen)}</td>
            <td class="links" data-label="Links">{links}</td>
        </tr>
    }
}
