//! The state every handler shares.

use std::sync::Arc;

use leptos::prelude::LeptosOptions;

use crate::api::call::RoundRobin;
use crate::auth::Auth;
use crate::console::Hub;
use crate::dnssd::cache_bound::CacheBound;
use crate::dnssd::lan_view::LanView;

/// Shared by the router, the Leptos pages (through context) and the API handlers.
#[derive(Clone)]
pub struct AppState {
    /// Where the front end's files are and how pages load them.
    pub leptos_options: LeptosOptions,
    /// The console: view, events, actions.
    pub hub: Arc<Hub>,
    /// Who may act: admin token, login sessions, Origin checks.
    pub auth: Arc<Auth>,
    /// The standard DNS-SD services seen on the LAN, filled by [`crate::dnssd`] when it runs.
    pub lan: Arc<LanView>,
    /// Where endpoint calls without a pinned node go next.
    pub calls: Arc<RoundRobin>,
    /// The standard-DNS-SD daemon's cache and its bound (`/api/stats`).
    pub dnssd_cache: Arc<CacheBound>,
}

impl AppState {
    /// State for a console serving `hub` with the access rules `auth` and the LAN view `lan`,
    /// with the front end in `site_root`.
    pub fn new(
        hub: Arc<Hub>,
        auth: Arc<Auth>,
        lan: Arc<LanView>,
        site_root: &std::path::Path,
        listen: std::net::SocketAddr,
    ) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("muster")
            .site_root(site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(listen)
            .build();
        AppState {
            leptos_options,
            hub,
            auth,
            lan,
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
