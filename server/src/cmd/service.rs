//! `muster service NAME`: one service in full.

use muster_registry::{QueryOptions, Service, Value};

use super::{print_json, Result};
use crate::backend::Backend;

/// Shows every version of `name` with endpoints and nodes (JSON: go-micro's service list).
pub async fn run(backend: &Backend, name: &str, json: bool) -> Result {
    let services = match backend
        .registry()
        .get_service(name, QueryOptions::default())
        .await
    {
        Ok(services) => services,
        Err(muster_registry::Error::NotFound) => {
            return Err(format!("service {name} not found").into())
        }
        Err(error) => return Err(error.into()),
    };
    if json {
        return print_json(&services);
    }
    for service in &services {
        print!("{}", describe(service));
    }
    Ok(())
}

/// The human-readable form of one service version.
pub fn describe(service: &Service) -> String {
    let mut out = format!("service  {}\nversion  {}\n", service.name, service.version);
    for (key, value) in &service.metadata {
        out += &format!("metadata {key}={value}\n");
    }
    out += "\nnodes:\n";
    for node in &service.nodes {
        let metadata: Vec<String> = node
            .metadata
            .iter()
            .map(|(key, value)| format!("{key}={value}"))
            .collect();
        out += &format!("  {}  {}  {}\n", node.id, node.address, metadata.join(","));
    }
    if !service.endpoints.is_empty() {
        out += "\nendpoints:\n";
        for endpoint in &service.endpoints {
            out += &format!("  {}\n", endpoint.name);
            for (label, value) in [
                ("request", &endpoint.request),
                ("response", &endpoint.response),
            ] {
                if let Some(value) = value {
                    out += &format!("    {label}: {}\n", schema(value));
                }
            }
        }
    }
    out + "\n"
}

/// `Name{field type, …}`, one line.
fn schema(value: &Value) -> String {
    if value.values.is_empty() {
        return format!("{} {}", value.name, value.r#type);
    }
    let fields: Vec<String> = value.values.iter().map(schema).collect();
    format!("{} {}{{{}}}", value.name, value.r#type, fields.join(", "))
}
