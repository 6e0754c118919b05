//! The router: every route of the console in one place, behind the edge's guard (Host
//! allow-list, Origin check for mutations and websocket upgrades, security headers).

use std::sync::Arc;

use app::console::SharedConsole;
use app::{shell, App};
use axum::extract::{DefaultBodyLimit, RawQuery};
use axum::http::{header, HeaderValue};
use axum::middleware;
use axum::response::Redirect;
use axum::routing::{any, delete, get, post};
use axum::Router;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{
    generate_route_list, render_app_to_stream_with_context, LeptosRoutes, ResponseOptions,
};
use tower_http::services::ServeDir;

use crate::api::{self, body::MAX_BODY};
use crate::console::ui::Ui;
use crate::edge::{guard, headers, hosts::HostPolicy};
use crate::state::AppState;

/// The JSON API, login, `/healthz` and `/readyz`, the pages (server-rendered, then hydrated)
/// with their server functions, and the static files; every request passes `policy`'s guard
/// first.
pub fn router(state: AppState, policy: Arc<HostPolicy>) -> Router {
    let routes = generate_route_list(App);
    let console: SharedConsole = Arc::new(Ui::new(
        state.hub.clone(),
        state.auth.clone(),
        state.lan.clone(),
    ));
    let registry = state.hub.registry();
    let site_root = state.leptos_options.site_root.to_string();
    // What every page is rendered with: the console, the registry, its CSP.
    let page_context = move || {
        provide_context(console.clone());
        provide_context(registry.clone());
        page_policy();
    };
    let app_shell = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    // A path that is neither a route nor a file gets the app's own framed 404 page.
    let not_found = {
        let render = render_app_to_stream_with_context(page_context.clone(), app_shell.clone());
        tower::service_fn(move |request| {
            let render = render.clone();
            async move { Ok::<_, std::convert::Infallible>(render(request).await) }
        })
    };
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(api::ready::ready))
        .route(
            "/api/services",
            get(api::services::list).post(api::services::register),
        )
        .route("/api/services/{name}", get(api::services::get))
        .route("/api/services/{name}/call", post(api::call::call))
        .route(
            "/api/services/{name}/nodes/{id}",
            delete(api::nodes::deregister),
        )
        .route(
            "/api/services/{name}/nodes/{id}/evict",
            post(api::nodes::evict),
        )
        .route("/api/watch", get(api::watch::watch))
        .route("/api/events", get(api::events::list))
        .route("/api/evict-stale", post(api::nodes::evict_stale))
        .route("/api/lan", get(api::lan::list))
        .route("/api/lan/watch", get(api::lan::watch))
        .route("/api/session", get(api::session::info))
        .route("/api/stats", get(api::stats::stats))
        .route("/api/{*rest}", any(api::not_found))
        .route("/login", post(api::session::login))
        .route("/logout", post(api::session::logout))
        // `/services/` is the services list (the page lives at `/`).
        .route("/services", get(services_list))
        .route("/services/", get(services_list))
        .leptos_routes_with_context(&state, routes, page_context, app_shell)
        // build-site.sh leaves .br and .gz beside the bundle: sent to browsers that accept them.
        .fallback_service(
            ServeDir::new(site_root)
                .precompressed_br()
                .precompressed_gzip()
                .fallback(not_found),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn_with_state(policy, guard::guard))
        .with_state(state)
}

/// Redirects `/services/` (what one types after seeing `/services/NAME`) to the services
/// list, keeping its query (search, filter, sort).
async fn services_list(RawQuery(query): RawQuery) -> Redirect {
    match query.filter(|query| !query.is_empty()) {
        Some(query) => Redirect::permanent(&format!("/?{query}")),
        None => Redirect::permanent("/"),
    }
}

/// Gives the page being rendered its Content-Security-Policy, naming the nonce leptos put on
/// its inline scripts (a fresh one per page).
fn page_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else {
        return;
    };
    if let (Some(options), Ok(policy)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&headers::page_policy(&nonce)),
    ) {
        options.insert_header(header::CONTENT_SECURITY_POLICY, policy);
    }
}
