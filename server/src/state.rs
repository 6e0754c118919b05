//! The state every handler shares.

use std::sync::Arc;

use leptos::prelude::LeptosOptions;

use crate::api::call::RoundRobin;
use crate::console::Hub;
use crate::dnssd::cache_bound::CacheBound;

/// Shared by the router, the Leptos pages (through context) and the API handlers.
#[derive(Clone)]
pub struct AppState {
    /// Where the front end's files are and how pages load them.
    pub leptos_options: LeptosOptions,
    /// The console: view, events, actions, access rules.
    pub hub: Arc<Hub>,
    /// Where endpoint calls without a pinned node go next.
    pub calls: Arc<RoundRobin>,
    /// The standard-DNS-SD daemon's cache and its bound (`/api/stats`).
    pub dnssd_cache: Arc<CacheBound>,
}

impl AppState {
    /// State for a console serving `hub`, with the front end in `site_root`.
    pub fn new(hub: Arc<Hub>, site_root: &std::path::Path, listen: std::net::SocketAddr) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("muster")
            .site_root(site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listen)
            .build();
        AppState {
            leptos_options,
            hub,
            calls: Arc::default(),
            dnssd_cache: Arc::default(),
        }
    }

    /// The same state, reporting the DNS-SD daemon's cache as `bound` sees it.
    pub fn with_dnssd_cache(self, bound: Arc<CacheBound>) -> Self {
        AppState {
            dnssd_cache: bound,
            ..self
        }
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
