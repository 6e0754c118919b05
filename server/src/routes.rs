//! The router: every route of the console in one place.

use app::console::SharedConsole;
use app::{shell, App};
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, post};
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::services::ServeDir;

use crate::api::{self, body::MAX_BODY};
use crate::state::AppState;

/// The JSON API, login, `/healthz` and `/readyz`, the pages (server-rendered, then hydrated)
/// with their server functions, and the static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let console: SharedConsole = state.hub.clone();
    let registry = state.hub.registry();
    let site_root = state.leptos_options.site_root.to_string();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(api::ready::ready))
        .route(
            "/api/services",
            get(api::services::list).post(api::services::register),
        )
        .route("/api/services/{name}", get(api::services::get))
        .route(
            "/api/services/{name}/nodes/{id}",
            delete(api::nodes::deregister),
        )
        .route(
            "/api/services/{name}/nodes/{id}/evict",
            post(api::nodes::evict),
        )
        .route("/api/watch", get(api::watch::watch))
        .route("/api/lan", get(api::lan::list))
        .route("/api/lan/watch", get(api::lan::watch))
        .route("/api/session", get(api::session::info))
        .route("/api/{*rest}", any(api::not_found))
        .route("/login", post(api::session::login))
        .route("/logout", post(api::session::logout))
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(console.clone());
                provide_context(registry.clone());
            },
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        // build-site.sh leaves .br and .gz beside the bundle: sent to browsers that accept them.
        .fallback_service(
            ServeDir::new(site_root)
                .precompressed_br()
                .precompressed_gzip(),
        )
        .layer(middleware::from_fn_with_state(state.clone(), same_origin))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

/// Refuses every cross-origin mutation (server functions included) before it reaches a
/// handler; reads stay open. Websocket upgrades are checked by their handler.
async fn same_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe {
        if let Err(error) = state.hub.auth().check_origin(request.headers()) {
            return error.into_response();
        }
    }
    next.run(request).await
}
