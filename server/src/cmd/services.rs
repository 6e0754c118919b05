//! `muster services`: every service in the registry.

use std::collections::BTreeMap;

use app::escape::escape_controls as shown;

use super::{print_json, Result};
use crate::backend::Backend;
use crate::console::sync::read_all;

/// Lists the services: JSON (every version with its nodes, as go-micro's `Service`s) or a
/// table of name, versions and node count. The registry's listing names the versions; each
/// name is then read whole, as go-micro's tools read a service.
pub async fn run(backend: &Backend, json: bool) -> Result {
    let services = read_all(backend.registry().as_ref()).await?;
    if json {
        return print_json(&services);
    }
    if services.is_empty() {
        println!("no services");
        return Ok(());
    }
    let mut by_name: BTreeMap<String, (Vec<String>, usize)> = BTreeMap::new();
    for service in &services {
        let row = by_name
            .entry(shown(&service.name).into_owned())
            .or_default();
        row.0.push(shown(&service.version).into_owned());
        row.1 += service.nodes.len();
    }
    let width = by_name
        .keys()
        .map(|name| name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    println!("{:width$}  {:20}  NODES", "NAME", "VERSIONS");
    for (name, (mut versions, nodes)) in by_name {
        versions.sort_unstable();
        versions.dedup();
        println!("{name:width$}  {:20}  {nodes}", versions.join(","));
    }
    Ok(())
}
