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
//! - [`persist`]: the state store those registrations survive restarts in (redb: one durable
//!   record per node).
//! - [`serve`]: the console's start-up and shutdown: registry, hub, DNS-SD, listeners.
//! - [`edge`]: between socket and router: connection caps, header timeout, TLS, the Host
//!   allow-list, trusted proxies, security headers, the HTTP → HTTPS redirect.
//! - [`auth`]: who may act: admin token (strength, attempt limit), login sessions, Origin
//!   checks.
//! - [`api`]: the JSON API and the watch websocket, one file per resource.
//! - [`error`]: the one error type, answered as `{"error": "..."}` with its status code.
//! - [`state`]: the one typed state shared by every handler.
//! - [`routes`]: the axum router: every route in one place.
//! - [`cmd`]: the subcommands (`services`, `service`, `register`, `deregister`, `watch`,
//!   `call`, `health`).
//! - [`shutdown`]: SIGINT/SIGTERM, and the goodbyes owed on the way out.
//! - [`heap`]: freed heap memory given back to the system after a burst.

mod api;
mod auth;
mod backend;
mod cli;
mod cmd;
mod console;
mod dnssd;
mod edge;
mod error;
mod heap;
mod limits;
mod persist;
mod routes;
mod serve;
mod shutdown;
mod state;

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::Cli;

/// Stack of each runtime thread. Server-side rendering walks the page's view tree
/// recursively, and an unoptimised build's frames are large: the services page overflowed
/// tokio's default 2 MiB now and then in debug builds (the tests' binary), which aborts the
/// whole process. 8 MiB is the main thread's default on Linux; it is reserved, not used.
const THREAD_STACK: usize = 8 * 1024 * 1024;

fn main() -> ExitCode {
    heap::configure();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(THREAD_STACK)
        .build()
    {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => {
            eprintln!("muster: cannot start the runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> ExitCode {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            EnvFilter::try_from_env("MUSTER_LOG").unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        None => serve::run(&cli).await,
        Some(ref command) => cmd::run(&cli.registry, command, cli.json).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if cli.command.is_some() {
                // Errors quote what peers sent (names, etcd's messages): escaped like all output.
                eprintln!(
                    "muster: {}",
                    app::escape::escape_controls(&error.to_string())
                );
            } else {
                tracing::error!("{error}");
            }
            ExitCode::FAILURE
        }
    }
}
