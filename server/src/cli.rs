//! Command-line interface of the `muster` binary.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, ValueEnum};

/// Muster: a live web console for go-micro service registries.
///
/// Serves the dashboard on --listen and embeds the chosen registry backend. Every flag can also
/// be set through the environment variable named in its help.
#[derive(Debug, Parser)]
#[command(name = "muster", version, about, long_about)]
pub struct Cli {
    /// Address the web console listens on.
    #[arg(long, env = "MUSTER_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,

    /// Registry backend the console embeds.
    #[arg(long, env = "MUSTER_REGISTRY", value_enum, default_value_t = RegistryKind::Memory)]
    pub registry: RegistryKind,

    /// Directory holding the built front end (the wasm bundle, CSS and public assets).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: PathBuf,
}

/// The registry backends the console can embed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegistryKind {
    /// In-process registry: what is registered through this console only.
    Memory,
}
