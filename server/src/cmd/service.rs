//! `muster service NAME`: one service in full.

use muster_registry::{Service, Value};

use app::escape::escape_controls as shown;

use super::{get_service, print_json, Result};
use crate::backend::Backend;

/// Shows every version of `name` with endpoints and nodes (JSON: go-micro's service list).
pub async fn run(backend: &Backend, name: &str, json: bool) -> Result {
    let services = get_service(backend, name).await?;
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
    let mut out = format!(
        "service  {}\nversion  {}\n",
        shown(&service.name),
        shown(&service.version)
    );
    for (key, value) in &service.metadata {
        out += &format!("metadata {}={}\n", shown(key), shown(value));
    }
    out += "\nnodes:\n";
    for node in &service.nodes {
        let metadata: Vec<String> = node
            .metadata
            .iter()
            .map(|(key, value)| format!("{}={}", shown(key), shown(value)))
            .collect();
        out += &format!(
            "  {}  {}  {}\n",
            shown(&node.id),
            shown(&node.address),
            metadata.join(",")
        );
    }
    if !service.endpoints.is_empty() {
        out += "\nendpoints:\n";
        for endpoint in &service.endpoints {
            out += &format!("  {}\n", shown(&endpoint.name));
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
    let (name, r#type) = (shown(&value.name), shown(&value.r#type));
    if value.values.is_empty() {
        return format!("{name} {type}");
    }
    let fields: Vec<String> = value.values.iter().map(schema).collect();
    format!("{name} {type}{{{}}}", fields.join(", "))
}
