//! `muster`: the Muster console's server binary.
//!
//! # Layout
//!
//! - [`cli`]: command-line flags (also read from `MUSTER_*` environment variables).
//! - [`state`]: the one typed state shared by every handler.
//! - [`routes`]: the axum router: Leptos pages, static files, health check.

mod cli;
mod routes;
mod state;

use clap::Parser;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("MUSTER_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = cli::Cli::parse();
    match run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Builds the registry and serves the console until SIGINT/SIGTERM.
async fn run(cli: cli::Cli) -> Result<(), Box<dyn std::error::Error>> {
    let state = state::AppState::new(&cli)?;
    let router = routes::router(state.clone());
    let listener = tokio::net::TcpListener::bind(cli.listen).await?;
    tracing::info!(
        "muster serving http://{} (registry: {})",
        listener.local_addr()?,
        state.registry.name()
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("muster stopped");
    Ok(())
}

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
