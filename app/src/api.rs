//! Server functions: the UI's calls into the server, which holds the registry.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One row of the services page: a service name with what is known about its versions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceSummary {
    /// The service name.
    pub name: String,
    /// Every version seen, sorted.
    pub versions: Vec<String>,
    /// Nodes across all versions.
    pub nodes: usize,
    /// Distinct endpoint names across all versions.
    pub endpoints: usize,
}

/// The services the server's registry knows, one summary per name, sorted by name.
#[server(prefix = "/rpc")]
pub async fn list_services() -> Result<Vec<ServiceSummary>, ServerFnError> {
    use muster_registry::{QueryOptions, Registry};
    use std::collections::BTreeMap;
    use std::sync::Arc;

    let registry = expect_context::<Arc<dyn Registry>>();
    let services = registry
        .list_services(QueryOptions::default())
        .await
        .map_err(|error| ServerFnError::new(error.to_string()))?;
    let mut by_name: BTreeMap<String, ServiceSummary> = BTreeMap::new();
    for service in services {
        let summary = by_name
            .entry(service.name.clone())
            .or_insert_with(|| ServiceSummary {
                name: service.name.clone(),
                versions: Vec::new(),
                nodes: 0,
                endpoints: 0,
            });
        if !summary.versions.contains(&service.version) {
            summary.versions.push(service.version.clone());
            summary.versions.sort();
        }
        summary.nodes += service.nodes.len();
        summary.endpoints = summary.endpoints.max(service.endpoints.len());
    }
    Ok(by_name.into_values().collect())
}
