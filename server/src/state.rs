//! The state every handler shares.

use std::sync::Arc;

use leptos::prelude::LeptosOptions;
use muster_registry::memory::MemoryRegistry;
use muster_registry::{Options, Registry};

use crate::cli::{Cli, RegistryKind};

/// Shared by the router, the Leptos pages (through context) and the API handlers.
#[derive(Clone)]
pub struct AppState {
    /// Where the front end's files are and how pages load them.
    pub leptos_options: LeptosOptions,
    /// The embedded registry.
    pub registry: Arc<dyn Registry>,
}

impl AppState {
    /// Builds the registry backend chosen on the command line.
    pub fn new(cli: &Cli) -> Result<Self, Box<dyn std::error::Error>> {
        let registry: Arc<dyn Registry> = match cli.registry {
            RegistryKind::Memory => Arc::new(MemoryRegistry::new(Options::default())),
        };
        let leptos_options = LeptosOptions::builder()
            .output_name("muster")
            .site_root(cli.site_root.to_string_lossy().into_owned())
            .site_pkg_dir("pkg")
            .site_addr(cli.listen)
            .build();
        Ok(AppState {
            leptos_options,
            registry,
        })
    }
}

impl axum::extract::FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
