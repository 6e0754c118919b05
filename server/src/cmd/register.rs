//! `muster register -f service.json`: register, stay registered until interrupted, then
//! deregister (an mDNS goodbye), like a go-micro service's life.

use std::path::Path;
use std::time::Duration;

use app::wire::RegisterRequest;
use muster_registry::{validate, DeregisterOptions, RegisterOptions};
use serde_json::json;

use app::escape::escape_controls as shown;

use super::{print_json_line, Result};
use crate::backend::Backend;

/// Shortest time between refreshes.
const MIN_REFRESH: Duration = Duration::from_millis(200);

/// Registers the service in `file` (`-`: stdin) with `ttl` (or the file's `ttl` seconds),
/// refreshes it every third of the TTL, and deregisters on SIGINT/SIGTERM.
pub async fn run(backend: &Backend, file: &Path, ttl: Option<Duration>, json: bool) -> Result {
    let text = if file == Path::new("-") {
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut text)?;
        text
    } else {
        std::fs::read(file).map_err(|error| format!("cannot read {}: {error}", file.display()))?
    };
    let request: RegisterRequest = serde_json::from_slice(&text)
        .map_err(|error| format!("{} is not a go-micro service: {error}", file.display()))?;
    let ttl = ttl.or(request.ttl.map(Duration::from_secs));
    let service = request.service;
    validate::registration_with_ttl(&service, ttl)?;
    let registry = backend.registry();
    registry.register(&service, RegisterOptions { ttl }).await?;
    let ids: Vec<String> = service
        .nodes
        .iter()
        .map(|node| shown(&node.id).into_owned())
        .collect();
    if json {
        print_json_line(&json!({"registered": &service, "ttl": ttl.map(|t| t.as_secs())}))?;
    } else {
        println!(
            "registered {} {} ({}); Ctrl-C to deregister",
            shown(&service.name),
            shown(&service.version),
            ids.join(", ")
        );
    }
    let refresh = ttl.map(|ttl| (ttl / 3).max(MIN_REFRESH));
    let signal = crate::shutdown::signal();
    tokio::pin!(signal);
    loop {
        let tick = async {
            match refresh {
                Some(every) => tokio::time::sleep(every).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut signal => break,
            () = tick => {
                if let Err(error) = registry.register(&service, RegisterOptions { ttl }).await {
                    eprintln!("muster: refreshing the registration: {error}");
                }
            }
        }
    }
    registry
        .deregister(&service, DeregisterOptions::default())
        .await?;
    if json {
        print_json_line(&json!({"deregistered": &service}))?;
    } else {
        println!("deregistered {} ({})", shown(&service.name), ids.join(", "));
    }
    Ok(())
}
