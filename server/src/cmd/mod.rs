//! The subcommands: go-micro's `micro` registry commands, speaking to the registry directly
//! (the same `--registry` / `--interface` flags as the console), human-readable by default and
//! JSON with `--json`. Everything printed goes through [`app::escape`]: names, metadata and
//! schemas come from any peer, and none of their control characters may reach the terminal.
//!
//! - [`services`]: `muster services`.
//! - [`service`]: `muster service NAME`.
//! - [`register`]: `muster register -f service.json [--ttl 30s]`.
//! - [`deregister`]: `muster deregister NAME NODE_ID`.
//! - [`watch`]: `muster watch [NAME]`.
//! - [`call`]: `muster call NAME ENDPOINT [JSON|-]`, over go-micro's RPC.
//! - [`health`]: `muster health NAME [--node ID]`: `Debug.Health` of each node.

pub mod call;
pub mod clock;
pub mod deregister;
pub mod health;
pub mod register;
pub mod service;
pub mod services;
pub mod watch;

use app::escape::escape_json_controls;

use crate::backend::Backend;
use crate::cli::{Command, RegistryArgs};

/// What a subcommand can fail with: a message for the terminal.
pub type Result<T = ()> = std::result::Result<T, Box<dyn std::error::Error>>;

/// Runs `command` against the registry `args` describe, then stops the backend (goodbyes for
/// anything still registered).
pub async fn run(args: &RegistryArgs, command: &Command, json: bool) -> Result {
    let backend = Backend::new(args).await?;
    let result = match command {
        Command::Services => services::run(&backend, json).await,
        Command::Service { name } => service::run(&backend, name, json).await,
        Command::Register { file, ttl } => register::run(&backend, file, *ttl, json).await,
        Command::Deregister { name, node_id } => {
            deregister::run(&backend, name, node_id, json).await
        }
        Command::Watch { name, local_time } => {
            let clock = clock::Clock::new(*local_time);
            watch::run(&backend, name.as_deref(), json, &clock).await
        }
        Command::Call {
            name,
            endpoint,
            request,
            node,
            timeout,
            metadata,
        } => {
            let call = call::Args {
                name,
                endpoint,
                request: request.as_deref(),
                node: node.as_deref(),
                timeout: *timeout,
                metadata,
            };
            call::run(&backend, &call).await
        }
        Command::Health { name, node } => health::run(&backend, name, node.as_deref(), json).await,
    };
    backend.shutdown().await;
    result
}

/// Every version of `name`, or a plain "service NAME not found" for the subcommands that need it.
async fn get_service(backend: &Backend, name: &str) -> Result<Vec<muster_registry::Service>> {
    match backend
        .registry()
        .get_service(name, muster_registry::QueryOptions::default())
        .await
    {
        Ok(services) => Ok(services),
        Err(muster_registry::Error::NotFound) => Err(format!("service {name} not found").into()),
        Err(error) => Err(error.into()),
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> Result {
    println!(
        "{}",
        escape_json_controls(&serde_json::to_string_pretty(value)?)
    );
    Ok(())
}

/// Prints `value` as one line of JSON on stdout (a stream of events, a command's outcome).
fn print_json_line(value: &impl serde::Serialize) -> Result {
    println!("{}", escape_json_controls(&serde_json::to_string(value)?));
    Ok(())
}
