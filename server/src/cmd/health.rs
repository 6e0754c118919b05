//! `muster health NAME [--node ID] [--json]`: `Debug.Health` of each node of a service, like
//! `micro health`.

use std::time::Duration;

use muster_rpc::HealthState;
use serde::Serialize;

use super::call::{mucp_nodes, pick};
use super::{print_json, Result};
use crate::backend::Backend;

/// How long each node may take to answer.
const TIMEOUT: Duration = Duration::from_secs(5);

/// One node's line (or JSON object).
#[derive(Serialize)]
struct Row {
    node: String,
    address: String,
    state: HealthState,
    latency_ms: Option<f64>,
    detail: String,
}

/// Checks the nodes one after the other and prints a line (or a JSON array) of results; an
/// error when any is failing or unreachable.
pub async fn run(backend: &Backend, name: &str, node: Option<&str>, json: bool) -> Result {
    let nodes = mucp_nodes(backend, name).await?;
    let nodes = match node {
        Some(_) => vec![pick(&nodes, name, node)?],
        None if nodes.is_empty() => return Err(pick(&nodes, name, None).unwrap_err()),
        None => nodes,
    };
    let mut rows = Vec::new();
    for node in nodes {
        let health = muster_rpc::check(name, &node.address, TIMEOUT).await;
        rows.push(Row {
            node: node.id,
            address: node.address,
            state: health.state,
            latency_ms: health.latency.map(|latency| latency.as_secs_f64() * 1000.0),
            detail: health.detail,
        });
    }
    if json {
        print_json(&rows)?;
    } else {
        for row in &rows {
            let latency = row
                .latency_ms
                .map_or("-".to_string(), |ms| format!("{ms:.1}ms"));
            println!(
                "{}  {}  {}  {latency}  {}",
                row.node,
                row.address,
                row.state.as_str(),
                row.detail
            );
        }
    }
    let bad = rows
        .iter()
        .filter(|row| matches!(row.state, HealthState::Failing | HealthState::Unreachable))
        .count();
    if bad > 0 {
        return Err(format!("{bad} of {} node(s) failing or unreachable", rows.len()).into());
    }
    Ok(())
}
