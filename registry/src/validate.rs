//! Bounds on everything a caller or a network peer can hand to a registry.
//!
//! A registry stores what it is given and shows it to operators, and the mDNS backend decodes
//! services from packets anyone on the LAN can send. So every backend checks its input here
//! before changing anything: a rejected input leaves the registry as it was and comes back as
//! [`Error::Invalid`] naming the field and the reason.
//!
//! The checks are linear in the size of the input, allocate only to describe an error, never
//! recurse (schemas are walked with an explicit stack and the walk stops at the first bound
//! crossed) and never panic, so they are cheap enough to run on every decoded packet.
//!
//! The bounds are generous for real go-micro services (a greeter's whole registration is a few
//! hundred bytes; go-micro's mDNS TXT carries at most a few KiB) and tight enough that one
//! service cannot make the registry hold more than a few MiB.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::field::Field;
use crate::model::{Endpoint, Metadata, Node, Service, Value};

/// Longest service name, version, node id, endpoint name or metadata key, in bytes: the limit
/// of a whole DNS name, which the mDNS backend builds from service names and node ids.
pub const MAX_NAME_LEN: usize = 255;

/// Longest metadata value, in bytes. go-micro puts short words there (`broker`, `protocol`,
/// endpoint `stream` flags); 4 KiB leaves room for descriptions without admitting blobs.
pub const MAX_METADATA_VALUE_LEN: usize = 4096;

/// Most entries in one metadata map (a service's, a node's or an endpoint's).
pub const MAX_METADATA_ENTRIES: usize = 128;

/// Most nodes in one registration or one decoded service.
pub const MAX_NODES: usize = 1024;

/// Most endpoints of one service.
pub const MAX_ENDPOINTS: usize = 1024;

/// Deepest schema (request or response [`Value`] tree), counting the message itself as 1.
/// go-micro's reflection stops nesting at a few levels; 32 is far beyond real messages.
pub const MAX_SCHEMA_DEPTH: usize = 32;

/// Most schema nodes ([`Value`]s) across all endpoints of one service.
pub const MAX_SCHEMA_VALUES: usize = 16_384;

/// Longest schema field name or type name, in bytes (Go type names can be long, e.g.
/// `map[string]*github.com/org/repo/proto.Message`).
pub const MAX_SCHEMA_STRING_LEN: usize = 1024;

/// Longest registration TTL. A longer one is surely a unit mistake (milliseconds given as
/// seconds), and keeping deadlines this close keeps `Instant` arithmetic far from overflow.
pub const MAX_TTL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// Longest DNS host name in an address (RFC 1035's 253 printable characters).
const MAX_HOST_LEN: usize = 253;

/// Longest DNS label (RFC 1035).
const MAX_LABEL_LEN: usize = 63;

/// How much of an offending value an error message quotes.
const QUOTE_CHARS: usize = 48;

/// Checks a whole service as a registry would store it: name, version, metadata, endpoints
/// (with their schemas) and every node, node ids distinct. Zero nodes is allowed here (a decoded service may
/// describe a name only); [`registration`] is the stricter check for register/deregister.
pub fn service(service: &Service) -> Result<()> {
    service_name(&service.name)?;
    version(&service.version)?;
    metadata(Field::ServiceMetadata, &service.metadata)?;
    endpoints(&service.endpoints)?;
    if service.nodes.len() > MAX_NODES {
        return Err(Error::invalid(
            Field::ServiceNodes,
            format!("{} nodes, at most {MAX_NODES}", service.nodes.len()),
        ));
    }
    service.nodes.iter().try_for_each(node)?;
    // One registration stating two different nodes under one id is ambiguous: refuse it
    // rather than let the later one silently win.
    let mut ids: Vec<&str> = service.nodes.iter().map(|node| node.id.as_str()).collect();
    ids.sort_unstable();
    match ids.windows(2).find(|pair| pair[0] == pair[1]) {
        Some(pair) => Err(Error::invalid(
            Field::NodeId,
            format!("{} is listed twice", quote(pair[0])),
        )),
        None => Ok(()),
    }
}

/// Checks the argument of `register` and `deregister`: a valid [`service`] naming at least one
/// node. Both calls act on the nodes listed, so a node-less call would silently do nothing.
pub fn registration(service: &Service) -> Result<()> {
    self::service(service)?;
    if service.nodes.is_empty() {
        return Err(Error::invalid(
            Field::ServiceNodes,
            "no nodes listed; register and deregister act on the nodes they name",
        ));
    }
    Ok(())
}

/// Checks the arguments of `register`: a valid [`registration`], and its TTL when it has one.
pub fn registration_with_ttl(service: &Service, ttl: Option<Duration>) -> Result<()> {
    registration(service)?;
    ttl.map_or(Ok(()), self::ttl)
}

/// Checks a service name: not empty, at most [`MAX_NAME_LEN`] bytes, no control characters.
pub fn service_name(name: &str) -> Result<()> {
    label_like(&Field::ServiceName, name, false)
}

/// Checks a version: at most [`MAX_NAME_LEN`] bytes, no control characters. Empty is allowed:
/// Go's zero value is a version go-micro services can register with.
pub fn version(version: &str) -> Result<()> {
    label_like(&Field::ServiceVersion, version, true)
}

/// Checks one node: its id, its address and its metadata.
pub fn node(node: &Node) -> Result<()> {
    node_id(&node.id)?;
    address(&node.address)?;
    metadata(Field::NodeMetadata, &node.metadata)
}

/// Checks a node id: not empty, at most [`MAX_NAME_LEN`] bytes, no control characters.
pub fn node_id(id: &str) -> Result<()> {
    label_like(&Field::NodeId, id, false)
}

/// Checks a node address: `host:port`, as Go's `net.SplitHostPort` reads it.
///
/// The port is decimal, 1 to 65535. The host is an IPv4 literal, a DNS name (letters, digits,
/// `-` and `_`, labels of 1 to 63 bytes), or an IPv6 literal in brackets, optionally with a
/// zone (`[fe80::1%eth0]:8080`). Anything else — a missing port, an unbracketed IPv6 address,
/// a URL — is refused: peers dial this address, so it has to be one.
pub fn address(address: &str) -> Result<()> {
    let fail = |reason: &str| {
        Err(Error::invalid(
            Field::NodeAddress,
            format!("{}: {reason}", quote(address)),
        ))
    };
    let Some((host, port)) = address.rsplit_once(':') else {
        return fail("not host:port (no port)");
    };
    if port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()) {
        return fail("the port is not a number from 1 to 65535");
    }
    match port.parse::<u32>() {
        Ok(1..=65535) => {}
        _ => return fail("the port is not a number from 1 to 65535"),
    }
    if let Some(bracketed) = host.strip_prefix('[') {
        let Some(inner) = bracketed.strip_suffix(']') else {
            return fail("unclosed '[' around the IPv6 host");
        };
        let (ip, zone) = match inner.split_once('%') {
            Some((ip, zone)) => (ip, Some(zone)),
            None => (inner, None),
        };
        if ip.parse::<std::net::Ipv6Addr>().is_err() {
            return fail("the bracketed host is not an IPv6 address");
        }
        if let Some(zone) = zone {
            let zone_ok = !zone.is_empty()
                && zone.len() <= MAX_LABEL_LEN
                && zone
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !zone_ok {
                return fail("the IPv6 zone is not an interface name or index");
            }
        }
        return Ok(());
    }
    if host.contains(':') {
        return fail("an IPv6 host must be in brackets, e.g. [::1]:8080");
    }
    if host.parse::<std::net::Ipv4Addr>().is_ok() || dns_name(host) {
        return Ok(());
    }
    fail("the host is neither an IP address nor a DNS name")
}

/// Checks a registration TTL: longer than zero and at most [`MAX_TTL`].
pub fn ttl(ttl: Duration) -> Result<()> {
    if ttl.is_zero() {
        return Err(Error::invalid(Field::Ttl, "must be longer than zero"));
    }
    if ttl > MAX_TTL {
        return Err(Error::invalid(
            Field::Ttl,
            format!("{ttl:?} is longer than the limit of {MAX_TTL:?}"),
        ));
    }
    Ok(())
}

/// Checks a metadata map: at most [`MAX_METADATA_ENTRIES`] entries; keys not empty, at most
/// [`MAX_NAME_LEN`] bytes, without control characters; values at most
/// [`MAX_METADATA_VALUE_LEN`] bytes (values are free text: empty and multi-line are fine).
/// `field` names the map in the error ([`Field::NodeMetadata`], [`Field::EndpointMetadata`], …).
pub fn metadata(field: Field, metadata: &Metadata) -> Result<()> {
    if metadata.len() > MAX_METADATA_ENTRIES {
        return Err(Error::invalid(
            field,
            format!("{} entries, at most {MAX_METADATA_ENTRIES}", metadata.len()),
        ));
    }
    for (key, value) in metadata {
        label_like(&field, key, false)?;
        if value.len() > MAX_METADATA_VALUE_LEN {
            return Err(Error::invalid(
                field.clone(),
                format!(
                    "the value of {} is {} bytes, at most {MAX_METADATA_VALUE_LEN}",
                    quote(key),
                    value.len()
                ),
            ));
        }
    }
    Ok(())
}

/// Checks a service's endpoints: at most [`MAX_ENDPOINTS`], each with a valid name and
/// metadata, and schemas within [`MAX_SCHEMA_DEPTH`] and, all together,
/// [`MAX_SCHEMA_VALUES`].
pub fn endpoints(endpoints: &[Endpoint]) -> Result<()> {
    if endpoints.len() > MAX_ENDPOINTS {
        return Err(Error::invalid(
            Field::ServiceEndpoints,
            format!("{} endpoints, at most {MAX_ENDPOINTS}", endpoints.len()),
        ));
    }
    let mut budget = MAX_SCHEMA_VALUES;
    for endpoint in endpoints {
        label_like(&Field::EndpointName, &endpoint.name, false)?;
        metadata(Field::EndpointMetadata, &endpoint.metadata)?;
        for value in [&endpoint.request, &endpoint.response]
            .into_iter()
            .flatten()
        {
            schema(value, &mut budget)?;
        }
    }
    Ok(())
}

/// Walks one schema tree, spending one unit of `budget` per [`Value`]; stops at the first
/// bound crossed, so a hostile tree costs at most `budget` steps.
fn schema(root: &Value, budget: &mut usize) -> Result<()> {
    let mut stack = vec![(root, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        if depth > MAX_SCHEMA_DEPTH {
            return Err(Error::invalid(
                Field::EndpointSchema,
                format!("nested deeper than {MAX_SCHEMA_DEPTH} levels"),
            ));
        }
        let Some(left) = budget.checked_sub(1) else {
            return Err(Error::invalid(
                Field::EndpointSchema,
                format!("more than {MAX_SCHEMA_VALUES} values across the service's endpoints"),
            ));
        };
        *budget = left;
        for (what, text) in [("name", &value.name), ("type", &value.r#type)] {
            if text.len() > MAX_SCHEMA_STRING_LEN || text.chars().any(char::is_control) {
                return Err(Error::invalid(
                    Field::EndpointSchema,
                    format!(
                        "field {what} {} is longer than {MAX_SCHEMA_STRING_LEN} bytes or \
                         holds control characters",
                        quote(text)
                    ),
                ));
            }
        }
        stack.extend(value.values.iter().map(|child| (child, depth + 1)));
    }
    Ok(())
}

/// The common rule for identifiers: bounded length, no control characters, and not empty
/// unless `empty_ok`. Control characters would corrupt logs and the console's tables.
fn label_like(field: &Field, text: &str, empty_ok: bool) -> Result<()> {
    if text.is_empty() && !empty_ok {
        return Err(Error::invalid(field.clone(), "must not be empty"));
    }
    if text.len() > MAX_NAME_LEN {
        return Err(Error::invalid(
            field.clone(),
            format!(
                "{} is {} bytes, at most {MAX_NAME_LEN}",
                quote(text),
                text.len()
            ),
        ));
    }
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(
            field.clone(),
            format!("{} holds control characters", quote(text)),
        ));
    }
    Ok(())
}

/// Whether `host` is a DNS name: dot-separated labels of letters, digits, `-` and `_` (the
/// underscore appears in real service host names), no label empty or starting/ending with `-`.
/// One trailing dot (a fully qualified name) is accepted.
fn dns_name(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.len() <= MAX_HOST_LEN
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= MAX_LABEL_LEN
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
        })
}

/// The start of an offending value, escaped, for an error message: enough to recognise it,
/// never a whole oversized input echoed back.
fn quote(text: &str) -> String {
    let mut shown: String = text.chars().take(QUOTE_CHARS).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    format!("\"{}\"", shown.escape_debug())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn greeter() -> Service {
        Service {
            name: "go.micro.srv.greeter".into(),
            version: "latest".into(),
            nodes: vec![Node {
                id: "go.micro.srv.greeter-1".into(),
                address: "10.77.0.1:50051".into(),
                metadata: Metadata::from([("broker".into(), "http".into())]),
            }],
            ..Service::default()
        }
    }

    fn field_of(result: Result<()>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field.to_string(),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_go_micro_registration() {
        registration(&greeter()).unwrap();
    }

    #[test]
    fn addresses_follow_go_split_host_port() {
        for ok in [
            "10.0.0.1:8080",
            "localhost:1",
            "host.example.com:65535",
            "my_host.local.:9090",
            "[::1]:8080",
            "[fe80::1%eth0]:80",
            "[2001:db8::8a2e:370:7334]:443",
        ] {
            assert!(address(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in [
            "",
            "10.0.0.1",
            "10.0.0.1:",
            "10.0.0.1:0",
            "10.0.0.1:65536",
            "10.0.0.1:+80",
            "10.0.0.1:8080000",
            ":8080",
            "::1:8080",
            "[::1]",
            "[::1:8080",
            "[not-ip]:80",
            "[fe80::1%]:80",
            "-bad.example:80",
            "a..b:80",
            "http://x:80",
            "host name:80",
            "héllo:80",
        ] {
            assert_eq!(field_of(address(bad)), "node address", "{bad:?}");
        }
    }

    #[test]
    fn names_are_bounded_and_printable() {
        assert_eq!(field_of(service_name("")), "service name");
        assert_eq!(field_of(service_name("a\nb")), "service name");
        assert!(service_name(&"a".repeat(MAX_NAME_LEN)).is_ok());
        let long = field_of(service_name(&"a".repeat(MAX_NAME_LEN + 1)));
        assert_eq!(long, "service name");
        assert!(version("").is_ok());
        assert_eq!(field_of(node_id("")), "node id");
    }

    #[test]
    fn errors_quote_only_the_start_of_a_value() {
        let err = service_name(&"x".repeat(100_000)).unwrap_err();
        assert!(err.to_string().len() < 200, "{err}");
    }

    #[test]
    fn node_ids_are_distinct() {
        let mut service = greeter();
        service.nodes.push(service.nodes[0].clone());
        assert_eq!(field_of(self::service(&service)), "node id");
    }

    #[test]
    fn registration_needs_a_node() {
        let mut service = greeter();
        service.nodes.clear();
        assert!(self::service(&service).is_ok());
        assert_eq!(field_of(registration(&service)), "service nodes");
    }

    #[test]
    fn metadata_is_bounded() {
        let mut service = greeter();
        service.nodes[0]
            .metadata
            .insert("big".into(), "v".repeat(MAX_METADATA_VALUE_LEN + 1));
        assert_eq!(field_of(self::service(&service)), "node metadata");
        let crowded: Metadata = (0..=MAX_METADATA_ENTRIES)
            .map(|i| (i.to_string(), String::new()))
            .collect();
        assert_eq!(
            field_of(metadata(Field::ServiceMetadata, &crowded)),
            "service metadata"
        );
        let empty_key = Metadata::from([(String::new(), "v".into())]);
        assert_eq!(
            field_of(metadata(Field::NodeMetadata, &empty_key)),
            "node metadata"
        );
    }

    fn nested(depth: usize) -> Value {
        let mut value = Value {
            name: "leaf".into(),
            r#type: "string".into(),
            values: Vec::new(),
        };
        for _ in 1..depth {
            value = Value {
                name: "level".into(),
                r#type: "Level".into(),
                values: vec![value],
            };
        }
        value
    }

    #[test]
    fn schemas_are_bounded_in_depth_and_size() {
        let endpoint = |value: Value| Endpoint {
            name: "Greeter.Hello".into(),
            request: Some(value),
            ..Endpoint::default()
        };
        assert!(endpoints(&[endpoint(nested(MAX_SCHEMA_DEPTH))]).is_ok());
        let deep = endpoints(&[endpoint(nested(MAX_SCHEMA_DEPTH + 1))]);
        assert_eq!(field_of(deep), "endpoint schema");
        let wide = Value {
            values: vec![nested(1); MAX_SCHEMA_VALUES],
            ..nested(1)
        };
        assert_eq!(field_of(endpoints(&[endpoint(wide)])), "endpoint schema");
    }

    #[test]
    fn ttl_is_positive_and_bounded() {
        assert!(ttl(Duration::from_secs(30)).is_ok());
        assert_eq!(field_of(ttl(Duration::ZERO)), "ttl");
        assert_eq!(field_of(ttl(MAX_TTL + Duration::from_secs(1))), "ttl");
    }
}
