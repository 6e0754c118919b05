//! The router: every route of the console in one place.

use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, LeptosRoutes};
use tower_http::services::ServeDir;

use crate::state::AppState;

/// Pages (server-rendered, then hydrated), server functions, static files and `/healthz`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let registry = state.registry.clone();
    let site_root = state.leptos_options.site_root.to_string();
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(registry.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .fallback_service(ServeDir::new(site_root))
        .with_state(state)
}
