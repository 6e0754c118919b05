//! `muster`: the Muster console's server binary, and go-micro-style registry commands.
//!
//! # Layout
//!
//! - [`cli`]: command-line flags (also read from `MUSTER_*` environment variables).
//! - [`backend`]: the embedded registry (mDNS, etcd or memory) and its backend-specific
//!   powers.
//! - [`console`]: the hub: the live view, numbered events, states, health checks, tombstones,
//!   and the registrations the console keeps.
//! - [`dnssd`]: standard DNS-SD (mdns-sd): the console's `_http._tcp` advertisement, the
//!   `_micro._tcp` bridge of registry nodes, and the LAN view.
//! - [`persist`]: the state file those registrations survive restarts in (atomic writes).
//! - [`auth`]: who may act: admin token, login sessions, Origin checks.
//! - [`api`]: the JSON API and the watch websocket, one file per resource.
//! - [`error`]: the one error type, answered as `{"error": "..."}` with its status code.
//! - [`state`]: the one typed state shared by every handler.
//! - [`routes`]: the axum router: every route in one place.
//! - [`cmd`]: the subcommands (`services`, `service`, `register`, `deregister`, `watch`,
//!   `call`, `health`).
//! - [`shutdown`]: SIGINT/SIGTERM, and the goodbyes owed on the way out.

mod api;
mod auth;
mod backend;
mod cli;
mod cmd;
mod console;
mod dnssd;
mod error;
mod persist;
mod routes;
mod shutdown;
mod state;

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::backend::Backend;
use crate::cli::{Cli, RegistryKind};

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_env("MUSTER_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve(&cli).await,
        Some(ref command) => cmd::run(&cli.registry, command, cli.json).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if cli.command.is_some() {
                eprintln!("muster: {error}");
            } else {
                tracing::error!("{error}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Runs the console until SIGINT/SIGTERM, then closes connections and says goodbye.
async fn serve(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let args = &cli.serve;
    let seed = match &args.memory_seed {
        Some(_) if cli.registry.registry != RegistryKind::Memory => {
            return Err("--memory-seed needs --registry memory".into())
        }
        Some(path) => {
            let text = std::fs::read(path)
                .map_err(|error| format!("cannot read {}: {error}", path.display()))?;
            serde_json::from_slice(&text).map_err(|error| {
                format!("{} is not a list of registrations: {error}", path.display())
            })?
        }
        None => Vec::new(),
    };
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let backend = Backend::new(&cli.registry).await?;
    let backend_name = backend.name();
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(persist::StateStore::default_dir);
    let auth = auth::Auth::new(args.listen, args.admin_token.clone(), backend_name);
    let settings = console::Settings {
        tombstone_ttl: args.tombstone_ttl,
        probe_interval: args.probe_interval,
        heartbeat_interval: args
            .heartbeat_interval
            .max(std::time::Duration::from_millis(100)),
    };
    let dnssd_settings = dnssd::Settings {
        advertise: !args.no_advertise,
        bridge: args.bridge_dnssd,
        lan: !args.no_lan,
        interfaces: cli.registry.interface.clone(),
        listen: listener.local_addr()?,
    };
    let lan_view = Arc::new(dnssd::lan_view::LanView::new(if dnssd_settings.lan {
        "LAN browsing is starting"
    } else {
        "LAN browsing is off (--no-lan)"
    }));
    let hub = console::Hub::start(
        backend,
        persist::StateStore::new(data_dir.clone()),
        auth,
        settings,
        seed,
        lan_view,
    )
    .await?;
    let dnssd = dnssd::Dnssd::start(&dnssd_settings, &hub);
    let state = state::AppState::new(hub.clone(), &args.site_root, args.listen);
    let router = routes::router(state);
    let access = match (&args.admin_token, args.listen.ip().is_loopback()) {
        (Some(_), _) => "actions need the admin token",
        (None, true) => "actions allowed (loopback)",
        (None, false) => "read-only (no --admin-token)",
    };
    tracing::info!(
        "muster serving http://{} (registry: {backend_name}; {access}; state in {})",
        listener.local_addr()?,
        data_dir.display()
    );
    let stopping = hub.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown::signal().await;
            tracing::info!("stopping: closing connections");
            stopping.begin_shutdown();
        })
        .await?;
    if let Some(dnssd) = dnssd {
        dnssd.stop().await;
    }
    hub.stop().await;
    tracing::info!("muster stopped");
    Ok(())
}
