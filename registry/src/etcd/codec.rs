//! The value stored under a node's key: go-micro's `json.Marshal` of the service holding only
//! that node.
//!
//! The bytes must be what a Go peer writes for the same registration, byte for byte: Go's field
//! order (`name`, `version`, `metadata`, `endpoints`, `nodes`), `null` for nil maps and slices,
//! sorted map keys and Go's HTML escapes. The model serializes in that order and shape, and
//! [`to_go_json`] adds the escapes. Decoding accepts any JSON of that shape (a Go peer's, an
//! older Muster's), then checks it like any other input from the network.

use crate::go_json::to_go_json;
use crate::model::{Node, Service};
use crate::validate;

/// The value for `node` of `service`: the service's own fields, and `nodes` holding `node` only.
pub(crate) fn encode(service: &Service, node: &Node) -> Vec<u8> {
    to_go_json(&Service {
        name: service.name.clone(),
        version: service.version.clone(),
        metadata: service.metadata.clone(),
        endpoints: service.endpoints.clone(),
        nodes: vec![node.clone()],
    })
}

/// The service a stored value describes, if it is a valid one with at least one node.
///
/// Keys under the prefix that hold anything else (another tool's data, a truncated write, a
/// hostile peer's oversized schema) are skipped by every reader, as go-micro skips values it
/// cannot decode. `only` keeps services of that exact name: `a/b` and `a-b` share a key prefix.
pub(crate) fn decode(value: &[u8], only: Option<&str>) -> Option<Service> {
    let service: Service = match serde_json::from_slice(value) {
        Ok(service) => service,
        Err(error) => {
            tracing::debug!(%error, "skipping an etcd value that is not a go-micro service");
            return None;
        }
    };
    if let Err(error) = validate::service(&service) {
        tracing::debug!(%error, service = %service.name, "skipping an invalid etcd value");
        return None;
    }
    let wanted = only.is_none_or(|name| name == service.name);
    (wanted && !service.nodes.is_empty()).then_some(service)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Metadata, Value};

    /// A greeter as go-micro v1.18 registers it, and the exact bytes `json.Marshal` gives for
    /// it (Go field order, nil → `null`, sorted map keys, `&` escaped).
    fn greeter() -> (Service, &'static str) {
        let service = Service {
            name: "go.micro.srv.greeter".into(),
            version: "latest".into(),
            metadata: Metadata::new(),
            endpoints: vec![Endpoint {
                name: "Say.Hello".into(),
                request: Some(Value {
                    name: "Request".into(),
                    r#type: "Request".into(),
                    values: vec![Value {
                        name: "name".into(),
                        r#type: "string".into(),
                        values: Vec::new(),
                    }],
                }),
                response: None,
                metadata: Metadata::from([("stream".into(), "false".into())]),
            }],
            nodes: vec![Node {
                id: "go.micro.srv.greeter-1".into(),
                address: "10.0.0.1:50051".into(),
                metadata: Metadata::from([
                    ("registry".into(), "etcd".into()),
                    ("broker".into(), "http".into()),
                    ("note".into(), "a&b".into()),
                ]),
            }],
        };
        let json = concat!(
            r#"{"name":"go.micro.srv.greeter","version":"latest","metadata":null,"#,
            r#""endpoints":[{"name":"Say.Hello","request":{"name":"Request","type":"Request","#,
            r#""values":[{"name":"name","type":"string","values":null}]},"response":null,"#,
            r#""metadata":{"stream":"false"}}],"nodes":[{"id":"go.micro.srv.greeter-1","#,
            r#""address":"10.0.0.1:50051","metadata":{"broker":"http","note":"a\u0026b","#,
            r#""registry":"etcd"}}]}"#
        );
        (service, json)
    }

    #[test]
    fn encodes_exactly_like_go() {
        let (service, json) = greeter();
        let encoded = encode(&service, &service.nodes[0]);
        assert_eq!(String::from_utf8(encoded).unwrap(), json);
    }

    #[test]
    fn encodes_one_node_per_value() {
        let (mut service, _) = greeter();
        let second = Node {
            id: "go.micro.srv.greeter-2".into(),
            address: "10.0.0.2:50051".into(),
            metadata: Metadata::new(),
        };
        service.nodes.push(second.clone());
        let decoded = decode(&encode(&service, &second), None).unwrap();
        assert_eq!(decoded.nodes, [second]);
    }

    #[test]
    fn decodes_what_go_writes() {
        let (service, json) = greeter();
        assert_eq!(decode(json.as_bytes(), None), Some(service));
        assert!(decode(json.as_bytes(), Some("go.micro.srv.greeter")).is_some());
        assert_eq!(decode(json.as_bytes(), Some("go.micro.srv.other")), None);
    }

    #[test]
    fn skips_what_is_not_a_service() {
        for value in [
            &b""[..],
            b"not json",
            b"{}",
            br#"{"name":"greeter","nodes":null}"#,
            br#"{"name":"","nodes":[{"id":"n","address":"127.0.0.1:1"}]}"#,
            br#"{"name":"greeter","nodes":[{"id":"n","address":"no-port"}]}"#,
        ] {
            assert_eq!(
                decode(value, None),
                None,
                "{}",
                String::from_utf8_lossy(value)
            );
        }
    }
}
