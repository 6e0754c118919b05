//! Muster's user interface, shared by the server (feature `ssr`) and the browser (`hydrate`).
//!
//! # Layout
//!
//! - [`shell`]: the HTML document the server renders around the app.
//! - [`App`]: routes and page frame.
//! - `pages/`: one file per page; `components/`: pieces several pages share.
//! - [`live`]: the live view fed by the watch websocket; [`lan`]: the LAN (DNS-SD) view;
//!   `feed`: the reconnecting websocket both use; [`format`]: times and durations.
//! - [`escape`]: control characters made visible, for the CLI's output and copied text;
//!   [`commands`]: shell commands that ask one node (go-micro's CLI, curl).
//! - [`wire`]: the JSON the server sends (API bodies, watch messages), shared by both sides;
//!   [`rpc`]: the JSON of endpoint calls and node health; [`version`]: versions newest first;
//!   [`reason`]: why an event happened, in plain words; [`bulk`]: bulk eviction's list;
//!   [`event_filter`]: which events a list (or the NDJSON export) holds.
//! - [`endpoints`]: a service's endpoints across versions (distinct ones, subscribers, diffs).
//! - [`search`]: the services list's search terms and the per-service text they match;
//!   [`live::Catalog`]: the live store's summaries with that text, kept per service.
//! - [`console`]: what the server provides to pages (feature `ssr`).
//! - [`api`]: server functions the pages call.
#![recursion_limit = "256"]

// The server renders and the bundle hydrates the same view types only if both are built with
// Leptos's `erase_components` (.cargo/config.toml sets it; a RUSTFLAGS variable replaces it).
#[cfg(not(erase_components))]
compile_error!(
    "build with `--cfg erase_components` (.cargo/config.toml sets it; a RUSTFLAGS variable \
     replaces that list, so add it there): without it the server's pages do not hydrate"
);

pub mod api;
mod browser;
pub mod bulk;
pub mod codec;
pub mod commands;
pub mod components;
#[cfg(feature = "ssr")]
pub mod console;
pub mod de;
pub mod endpoints;
pub mod escape;
pub mod event_filter;
pub mod feed;
pub mod format;
pub mod lan;
pub mod live;
mod pages;
pub mod readiness;
pub mod reason;
pub mod rpc;
pub mod search;
pub mod version;
pub use pages::login::same_origin_path;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    path,
};

use crate::api::get_session;
use crate::components::access::AccessNote;
use crate::components::not_found::NotFound;
use crate::components::theme::ThemeToggle;
use crate::live::Live;
use crate::wire::SessionInfo;

/// The whole HTML document; the server renders it and the browser hydrates the `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                // A stored light/dark choice, applied before first paint (see components::theme).
                <script nonce=leptos::nonce::use_nonce()>
                    {crate::components::theme::PRE_PAINT_SCRIPT}
                </script>
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// What this browser may do, loaded once per page and shared (context) by every control.
#[derive(Clone, Copy)]
pub struct Session(pub Resource<Result<SessionInfo, ServerFnError>>);

impl Session {
    /// Changes are allowed, as far as the page knows (the server checks every request anyway).
    pub fn can_write(&self) -> bool {
        self.0
            .get()
            .and_then(Result::ok)
            .is_none_or(|session| session.can_write)
    }
}

/// Routes and the frame around every page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let live = Live::new();
    provide_context(live);
    let session = Session(Resource::new(|| (), |_| get_session()));
    provide_context(session);
    let backend = crate::readiness::BackendState(RwSignal::new(None));
    provide_context(backend);
    let badge = Memo::new(move |_| {
        crate::readiness::Badge::of(live.connection.get(), backend.0.get().as_ref())
    });

    // Effects run only in the browser: the live connection starts once the page is hydrated.
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            crate::live::socket::start(live);
            crate::readiness::start(backend);
        }
    });

    view! {
        <Stylesheet id="muster" href="/pkg/muster.css" />
        <Title text="Muster" />
        <Router>
            // First in tab order: past the top bar straight to the page.
            <a class="skip-link" href="#content" on:click=focus_content>
                "Skip to content"
            </a>
            <header class="topbar">
                <a class="brand" href="/">"Muster"</a>
                <nav aria-label="Main">
                    <A href="/">"Services"</A>
                    <A href="/register">"Register"</A>
                    <A href="/events">"Events"</A>
                    <A href="/lan">"LAN"</A>
                    <A href="/stats">"Stats"</A>
                </nav>
                <span class="spacer"></span>
                <Suspense>
                    {move || {
                        session.0.get().and_then(Result::ok).map(|info| {
                            let registry = format!("registry: {}", info.registry);
                            let notice = info.notice.clone().map(|notice| {
                                view! {
                                    <span class="notice" role="status" data-testid="registry-notice">
                                        {notice}
                                    </span>
                                }
                            });
                            view! {
                                <AccessNote info />
                                <span class="muted">{registry}</span>
                                {notice}
                            }
                        })
                    }}
                </Suspense>
                <ThemeToggle />
                <span
                    class=move || format!("badge badge-{}", badge.read().label)
                    data-testid="connection"
                    role="status"
                    aria-label="Live updates"
                    title=move || badge.read().title.clone()
                >
                    {move || badge.read().text.clone()}
                </span>
            </header>
            <main id="content" tabindex="-1" class:stale=move || badge.read().alert.is_some()>
                <Show when=move || badge.read().alert.is_some()>
                    <p
                        class="stale-note"
                        role="alert"
                        id=crate::components::access::CONNECTION_ALERT_ID
                        data-testid="connection-alert"
                    >
                        {move || badge.read().alert.clone()}
                    </p>
                </Show>
                <Routes fallback=UnknownPage>
                    <Route path=path!("/") view=pages::services::ServicesPage />
                    <Route path=path!("/services/:name") view=pages::service::ServicePage />
                    <Route path=path!("/register") view=pages::register::RegisterPage />
                    <Route path=path!("/events") view=pages::events::EventsPage />
                    <Route path=path!("/lan") view=pages::lan::LanPage />
                    <Route path=path!("/stats") view=pages::stats::StatsPage />
                    <Route path=path!("/login") view=pages::login::LoginPage />
                </Routes>
            </main>
        </Router>
    }
}

/// The page for a path no route knows: framed, with services named like its last part.
#[component]
fn UnknownPage() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let wanted = Signal::derive(move || {
        let path = location.pathname.get();
        let last = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        pages::url::urldecode(last)
    });
    view! {
        <Title text="Not found · Muster" />
        <NotFound wanted message="There is no page at this address." />
    }
}

/// Moves focus to the page's content (the skip link's job: the router handles the `#content`
/// link itself and would only scroll).
fn focus_content(_: leptos::ev::MouseEvent) {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        if let Some(main) = document()
            .get_element_by_id("content")
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok())
        {
            let _ = main.focus();
        }
    }
}

/// Entry point of the wasm bundle: attaches the reactive app to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Again, in case the pre-paint script could not run (storage blocked, say).
    components::theme::browser::apply(components::theme::browser::stored());
    leptos::mount::hydrate_body(App);
    // A marker for tests and tooling: the page is interactive from here on.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
