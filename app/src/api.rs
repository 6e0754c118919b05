//! Server functions: the UI's calls into the console. Each goes through the server's
//! [`crate::console::Console`], which validates and authorizes exactly as the JSON API does.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::wire::{EvictResponse, SessionInfo};

/// The outcome of a form submission: field errors to show next to the inputs, or success.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormOutcome {
    /// Error messages keyed by the form field they concern (`""` for the form as a whole).
    pub errors: Vec<(String, String)>,
    /// What was done, when it worked.
    pub done: Option<String>,
    /// The service registered, when it worked.
    #[serde(default)]
    pub service: String,
    /// The ids of the nodes registered or refreshed, when it worked (the form links to them).
    #[serde(default)]
    pub nodes: Vec<String>,
}

impl FormOutcome {
    /// The message for `field`, if it has one.
    pub fn error_for(&self, field: &str) -> Option<String> {
        self.errors
            .iter()
            .find(|(name, _)| name == field)
            .map(|(_, message)| message.clone())
    }

    #[cfg(feature = "ssr")]
    fn error(field: &str, message: impl Into<String>) -> Self {
        FormOutcome {
            errors: vec![(field.to_string(), message.into())],
            ..FormOutcome::default()
        }
    }
}

/// What this browser may do, and which backend the console embeds.
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn get_session() -> Result<SessionInfo, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    let parts: http::request::Parts = leptos_axum::extract().await?;
    Ok(console.session(&parts))
}

/// Registers a service from the register form. Every field arrives as text, so the form works
/// before the page is hydrated; errors come back per field.
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn register_service(form: RegisterForm) -> Result<FormOutcome, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    let parts: http::request::Parts = leptos_axum::extract().await?;
    if let Err(error) = console.authorize(&parts) {
        return Ok(FormOutcome::error("", error.error));
    }
    let request = match form.parse() {
        Ok(request) => request,
        Err(outcome) => return Ok(outcome),
    };
    let (name, version) = (
        request.service.name.clone(),
        request.service.version.clone(),
    );
    let addresses: Vec<String> = request
        .service
        .nodes
        .iter()
        .map(|node| node.address.clone())
        .collect();
    let before = live_nodes_at(&console.service(&name), &version, &addresses);
    match console.register(request).await {
        Ok(()) => {
            let after = live_nodes_at(&console.service(&name), &version, &addresses);
            let refreshed = after.iter().filter(|id| before.contains(id)).count();
            let count = after.len();
            let done = if refreshed == 0 {
                format!(
                    "Registered {count} node{} of {name}: announced on the network and kept \
                     alive by this console until deregistered.",
                    plural(count)
                )
            } else {
                format!(
                    "Refreshed {refreshed} node{} of {name} already registered at the same \
                     address (no duplicate created); {} new.",
                    plural(refreshed),
                    count - refreshed
                )
            };
            Ok(FormOutcome {
                done: Some(done),
                service: name,
                nodes: after,
                ..FormOutcome::default()
            })
        }
        Err(error) => Ok(FormOutcome::error(
            &form_field(error.field.as_ref()),
            error.error,
        )),
    }
}

/// `"s"` unless `count` is one.
#[cfg(feature = "ssr")]
fn plural(count: usize) -> &'static str {
    if count == 1 {
        ""
    } else {
        "s"
    }
}

/// The ids of the live nodes of `version` at `addresses`, in the order of `addresses`.
#[cfg(feature = "ssr")]
fn live_nodes_at(
    versions: &[crate::wire::ServiceView],
    version: &str,
    addresses: &[String],
) -> Vec<String> {
    let live: Vec<_> = versions
        .iter()
        .filter(|service| service.version == version)
        .flat_map(|service| service.nodes.iter())
        .filter(|node| !node.state.is_tombstone())
        .collect();
    addresses
        .iter()
        .filter_map(|address| live.iter().find(|node| &node.node.address == address))
        .map(|node| node.node.id.clone())
        .collect()
}

/// The form input that holds the registry field at fault (`""`: the form as a whole).
#[cfg(feature = "ssr")]
fn form_field(field: Option<&muster_registry::Field>) -> String {
    use muster_registry::Field;
    let input = match field {
        Some(
            Field::ServiceEndpoints
            | Field::EndpointName
            | Field::EndpointMetadata
            | Field::EndpointSchema,
        ) => "endpoints",
        Some(Field::ServiceNodes | Field::NodeId | Field::NodeAddress | Field::NodeMetadata) => {
            "nodes"
        }
        Some(Field::ServiceMetadata) => "metadata",
        Some(Field::ServiceVersion) => "version",
        Some(Field::Ttl) => "ttl",
        Some(Field::ServiceName) => "name",
        _ => "",
    };
    input.to_string()
}

/// The console, once the request behind the current server function is allowed to change
/// things (token, session cookie, Origin).
#[cfg(feature = "ssr")]
async fn authorized_console() -> Result<crate::console::SharedConsole, ServerFnError> {
    let console = expect_context::<crate::console::SharedConsole>();
    let parts: http::request::Parts = leptos_axum::extract().await?;
    console
        .authorize(&parts)
        .map_err(|error| ServerFnError::new(error.error))?;
    Ok(console)
}

/// [`authorized_console`], and who the request acts as.
#[cfg(feature = "ssr")]
async fn acting_console() -> Result<(crate::console::SharedConsole, String), ServerFnError> {
    let console = authorized_console().await?;
    let parts: http::request::Parts = leptos_axum::extract().await?;
    let actor = console.actor(&parts);
    Ok((console, actor))
}

/// Deregisters a node this console registered (a goodbye on the network).
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn deregister_node(service: String, node_id: String) -> Result<String, ServerFnError> {
    let (console, actor) = acting_console().await?;
    console
        .deregister(&service, &node_id, &actor)
        .await
        .map_err(|error| ServerFnError::new(error.error))?;
    Ok(format!(
        "Deregistered {node_id}: goodbye sent for {service}."
    ))
}

/// Sends a goodbye for a node another process registered.
#[server(prefix = "/rpc", output = crate::codec::JsonOut)]
pub async fn evict_node(service: String, node_id: String) -> Result<EvictResponse, ServerFnError> {
    let (console, actor) = acting_console().await?;
    console
        .evict(&service, &node_id, &actor)
        .await
        .map_err(|error| ServerFnError::new(error.error))
}

/// The register form as submitted: plain text fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterForm {
    /// Service name.
    pub name: String,
    /// Version (default `latest`).
    #[serde(default)]
    pub version: String,
    /// `key=value`, one per line: service metadata, also given to every node.
    #[serde(default)]
    pub metadata: String,
    /// One node per line: `address` or `id address`.
    #[serde(default)]
    pub nodes: String,
    /// JSON array of endpoints (`[{"name": …, "request": Value, "response": Value}]`).
    #[serde(default)]
    pub endpoints: String,
    /// TTL in seconds (empty: the console's default).
    #[serde(default)]
    pub ttl: String,
}

impl RegisterForm {
    /// Turns the text fields into a registration, or field errors: every field is checked,
    /// so all its mistakes show at once, each next to its field. Shape checks only: the
    /// console validates the result (names, address syntax, bounds) once more.
    pub fn parse(&self) -> Result<crate::wire::RegisterRequest, FormOutcome> {
        use muster_registry::{Endpoint, Metadata, Node, Service};

        let mut errors = Vec::new();
        let mut fail = |field: &str, message: String| errors.push((field.to_string(), message));
        let name = self.name.trim().to_string();
        if name.is_empty() {
            fail("name", "A service needs a name.".into());
        }
        let version = match self.version.trim() {
            "" => "latest".to_string(),
            version => version.to_string(),
        };
        let mut metadata = Metadata::new();
        for (index, line) in self.metadata.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            match line.split_once('=') {
                Some((key, value)) => {
                    metadata.insert(key.trim().to_string(), value.trim().to_string());
                }
                None => {
                    fail(
                        "metadata",
                        format!("Line {}: expected key=value.", index + 1),
                    );
                    break;
                }
            }
        }
        let mut nodes = Vec::new();
        let mut bad_node_line = false;
        for (index, line) in self.nodes.lines().enumerate() {
            let words: Vec<&str> = line.split_whitespace().collect();
            let (id, address) = match words.as_slice() {
                [] => continue,
                [address] => (
                    format!("{name}-{}", uuid::Uuid::new_v4()),
                    address.to_string(),
                ),
                [id, address] => (id.to_string(), address.to_string()),
                _ => {
                    fail(
                        "nodes",
                        format!("Line {}: expected `address` or `id address`.", index + 1),
                    );
                    bad_node_line = true;
                    break;
                }
            };
            nodes.push(Node {
                id,
                address,
                metadata: metadata.clone(),
            });
        }
        if nodes.is_empty() && !bad_node_line {
            fail(
                "nodes",
                "Add at least one node address, e.g. 10.0.0.5:8080.".into(),
            );
        }
        let endpoints: Vec<Endpoint> = match self.endpoints.trim() {
            "" => Vec::new(),
            json => serde_json::from_str(json).unwrap_or_else(|error| {
                fail(
                    "endpoints",
                    format!(
                        "Not a JSON list of endpoints ({error}). Expected \
                         [{{\"name\": \"Svc.Method\", \"request\": {{\"name\": …, \"type\": …, \
                         \"values\": [...]}}, \"response\": …}}]."
                    ),
                );
                Vec::new()
            }),
        };
        let ttl = match self.ttl.trim() {
            "" => None,
            ttl => {
                let parsed = ttl.parse::<u64>().ok().filter(|ttl| *ttl > 0);
                if parsed.is_none() {
                    fail("ttl", "TTL is a whole number of seconds above zero.".into());
                }
                parsed
            }
        };
        if !errors.is_empty() {
            return Err(FormOutcome {
                errors,
                ..FormOutcome::default()
            });
        }
        Ok(crate::wire::RegisterRequest {
            service: Service {
                name,
                version,
                metadata,
                endpoints,
                nodes,
            },
            ttl,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> RegisterForm {
        RegisterForm {
            name: "shop.orders".into(),
            version: "".into(),
            metadata: "team=payments\n\nzone = eu-1\n".into(),
            nodes: "10.0.0.5:8080\norders-2 10.0.0.6:8080".into(),
            endpoints: r#"[{"name":"Orders.Get","request":{"name":"Req","type":"Req","values":[{"name":"id","type":"string","values":null}]},"response":null,"metadata":null}]"#.into(),
            ttl: "30".into(),
        }
    }

    #[test]
    fn parses_every_field() {
        let request = form().parse().unwrap();
        let service = request.service;
        assert_eq!(service.version, "latest");
        assert_eq!(service.metadata["zone"], "eu-1");
        assert_eq!(service.nodes.len(), 2);
        assert!(service.nodes[0].id.starts_with("shop.orders-"));
        assert_eq!(service.nodes[1].id, "orders-2");
        assert_eq!(service.nodes[1].metadata["team"], "payments");
        assert_eq!(
            service.endpoints[0].request.as_ref().unwrap().values[0].name,
            "id"
        );
        assert_eq!(request.ttl, Some(30));
    }

    #[test]
    fn reports_the_field_at_fault() {
        let cases = [
            (
                RegisterForm {
                    name: " ".into(),
                    ..form()
                },
                "name",
            ),
            (
                RegisterForm {
                    metadata: "novalue".into(),
                    ..form()
                },
                "metadata",
            ),
            (
                RegisterForm {
                    nodes: "".into(),
                    ..form()
                },
                "nodes",
            ),
            (
                RegisterForm {
                    nodes: "a b c".into(),
                    ..form()
                },
                "nodes",
            ),
            (
                RegisterForm {
                    endpoints: "{".into(),
                    ..form()
                },
                "endpoints",
            ),
            (
                RegisterForm {
                    ttl: "-1".into(),
                    ..form()
                },
                "ttl",
            ),
        ];
        for (form, field) in cases {
            let outcome = form.parse().unwrap_err();
            assert!(outcome.error_for(field).is_some(), "{field}: {outcome:?}");
        }
    }

    #[test]
    fn reports_every_field_at_fault_at_once() {
        let outcome = RegisterForm {
            name: "".into(),
            metadata: "novalue".into(),
            nodes: "".into(),
            endpoints: "{".into(),
            ttl: "0".into(),
            ..form()
        }
        .parse()
        .unwrap_err();
        for field in ["name", "metadata", "nodes", "endpoints", "ttl"] {
            assert!(outcome.error_for(field).is_some(), "{field}: {outcome:?}");
        }
    }
}
