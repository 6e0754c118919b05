//! Muster's user interface, shared by the server (feature `ssr`) and the browser (`hydrate`).
//!
//! # Layout
//!
//! - [`shell`]: the HTML document the server renders around the app.
//! - [`App`]: routes and page frame.
//! - `pages/`: one file per page.
//! - [`wire`]: the JSON the server sends (API bodies, watch messages), shared by both sides.
//! - [`console`]: what the server provides to pages (feature `ssr`).
//! - [`api`]: server functions the pages call.
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod console;
mod pages;
pub mod wire;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

/// The whole HTML document; the server renders it and the browser hydrates the `<body>`.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Routes and the frame around every page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="muster" href="/pkg/muster.css" />
        <Title text="Muster" />
        <Router>
            <header class="topbar">
                <a class="brand" href="/">"Muster"</a>
                <span class="tagline">"go-micro service registry console"</span>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="empty">"Page not found."</p> }>
                    <Route path=path!("/") view=pages::services::ServicesPage />
                </Routes>
            </main>
        </Router>
    }
}

/// Entry point of the wasm bundle: attaches the reactive app to the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
    // A marker for tests and tooling: the page is interactive from here on.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
