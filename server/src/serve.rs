//! The console's start-up and shutdown: registry, hub, DNS-SD, and the listeners.
//!
//! Everything that can be wrong with the flags (a weak admin token, unreadable TLS files, an
//! address in use) is refused before the registry starts, with the flag named.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::backend::Backend;
use crate::cli::{Cli, RegistryKind};
use crate::edge::accept::{self, Serving};
use crate::edge::hosts::HostPolicy;
use crate::edge::limits::Limits;
use crate::edge::{redirect, tls};
use crate::{auth, console, dnssd, persist, routes, shutdown, state};

/// Runs the console until SIGINT/SIGTERM, then closes connections and says goodbye.
pub async fn run(cli: &Cli) -> Result<(), Box<dyn std::error::Error>> {
    let args = &cli.serve;
    let edge = &args.edge;
    if let Some(token) = &args.admin_token {
        auth::strength::check(token)?;
    }
    if edge.header_timeout.is_zero() {
        return Err("--header-timeout must be more than 0".into());
    }
    let certificate = match (&edge.tls_cert, &edge.tls_key) {
        (Some(cert), Some(key)) => Some(tls::Certificate::load(cert, key)?),
        _ => None,
    };
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
    let listener = bind(args.listen, "--listen").await?;
    let redirect_listener = match edge.redirect_http {
        Some(addr) => Some(bind(addr, "--redirect-http").await?),
        None => None,
    };
    let backend = Backend::new(&cli.registry).await?;
    let backend_name = backend.name();
    let data_dir = args
        .data_dir
        .clone()
        .unwrap_or_else(persist::StateStore::default_dir);
    let notice = backend.notice(!cli.registry.interface.is_empty());
    if let Some(notice) = notice {
        tracing::warn!("{notice} (--interface chooses)");
    }
    let auth = Arc::new(
        auth::Auth::new(args.listen, args.admin_token.clone(), backend_name).with_notice(notice),
    );
    let settings = console::Settings {
        tombstone_ttl: args.tombstone_ttl,
        probe_interval: args.probe_interval,
        heartbeat_interval: args.heartbeat_interval.max(Duration::from_millis(100)),
        max_watchers: args.max_watchers,
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
        persist::StateStore::open(&data_dir)?,
        settings,
        seed,
    )
    .await?;
    let dnssd_cache = Arc::new(dnssd::cache_bound::CacheBound::new(args.dnssd_max_records));
    let dnssd = dnssd::Supervisor::start(&dnssd_settings, &hub, &lan_view, dnssd_cache.clone());
    let policy = Arc::new(HostPolicy::new(
        args.listen,
        &edge.allowed_host,
        edge.trusted_proxy.clone(),
    ));
    let state = state::AppState::new(hub.clone(), auth, lan_view, &args.site_root, args.listen)
        .with_dnssd_cache(dnssd_cache);
    let https_port = listener.local_addr()?.port();
    let limits = Limits::new(
        edge.max_connections,
        edge.max_connections_per_client,
        edge.trusted_proxy.clone(),
    );
    let tls = match &certificate {
        Some(certificate) => {
            certificate.spawn_reloader()?;
            Some(certificate.acceptor()?)
        }
        None => None,
    };
    let serving = Serving {
        app: routes::router(state, policy.clone()),
        limits,
        header_timeout: edge.header_timeout,
        tls,
    };
    let access = match (&args.admin_token, args.listen.ip().is_loopback()) {
        (Some(_), _) => "actions need the admin token",
        (None, true) => "actions allowed (loopback)",
        (None, false) => "read-only (no --admin-token)",
    };
    let scheme = if certificate.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(
        "muster serving {scheme}://{} (registry: {backend_name}; {access}; state in {})",
        listener.local_addr()?,
        data_dir.display()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let until_stopped = |mut stopped: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stopped.wait_for(|stop| *stop).await;
    };
    let redirecting = redirect_listener.map(|listener| {
        let serving = Serving {
            app: redirect::router(policy.clone(), https_port),
            tls: None,
            ..serving.clone()
        };
        tokio::spawn(accept::serve(
            listener,
            serving,
            until_stopped(stopped.clone()),
        ))
    });
    let stopping = hub.clone();
    tokio::spawn(async move {
        shutdown::signal().await;
        tracing::info!("stopping: closing connections");
        stopping.begin_shutdown();
        let _ = stop.send(true);
    });
    accept::serve(listener, serving, until_stopped(stopped)).await;
    if let Some(redirecting) = redirecting {
        let _ = redirecting.await;
    }
    if let Some(dnssd) = dnssd {
        dnssd.stop().await;
    }
    hub.stop().await;
    tracing::info!("muster stopped");
    Ok(())
}

/// Listens on `addr`; the error names `flag`.
async fn bind(addr: std::net::SocketAddr, flag: &str) -> Result<TcpListener, String> {
    TcpListener::bind(addr)
        .await
        .map_err(|error| format!("cannot listen on {addr} ({flag}): {error}"))
}
