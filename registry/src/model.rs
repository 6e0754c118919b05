//! The registry's data model: what a service is, in go-micro's own JSON shape.
//!
//! These types compile without any runtime (no tokio), so the browser half of the console uses
//! the very same definitions as the server.
//!
//! JSON compatibility with go-micro (`registry.Service` and friends):
//! - keys are lowercase (`name`, `version`, `metadata`, `endpoints`, `nodes`, …);
//! - Go marshals a nil slice or map as `null`, and go-micro peers send `null` everywhere a list
//!   or map is absent, so every list and map here deserializes from `null` as empty and
//!   serializes, when empty, as `null` — byte-for-byte what a Go peer writes for the same value;
//! - metadata maps are `BTreeMap`s because Go's encoder sorts map keys: the same order here
//!   keeps the JSON identical, which the etcd layout relies on.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// String metadata attached to a service, a node or an endpoint (`map[string]string` in Go).
pub type Metadata = BTreeMap<String, String>;

/// One named service at one version, with the nodes that run it.
///
/// A registry returns one `Service` per version of a name; nodes of the same version are merged.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Service {
    /// Dotted service name, e.g. `go.micro.srv.greeter`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Version string, e.g. `latest` or `1.2.0`; free-form, compared as text.
    #[serde(default, deserialize_with = "null_as_default")]
    pub version: String,
    /// Service-level metadata. Not carried by go-micro's mDNS dialect (only node metadata is).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_map_as_null"
    )]
    pub metadata: Metadata,
    /// The RPC endpoints the service exposes.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_vec_as_null"
    )]
    pub endpoints: Vec<Endpoint>,
    /// The running instances.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_vec_as_null"
    )]
    pub nodes: Vec<Node>,
}

impl Service {
    /// The service as [`crate::Registry::list_services`] lists it: name, version and the
    /// version's metadata, without endpoints or nodes (what go-micro's mDNS registry lists,
    /// and what a listing can give at the cost of the names rather than of every node).
    pub fn listing(&self) -> Service {
        Service {
            name: self.name.clone(),
            version: self.version.clone(),
            metadata: self.metadata.clone(),
            endpoints: Vec::new(),
            nodes: Vec::new(),
        }
    }
}

/// One running instance of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Node {
    /// Unique id of the instance, conventionally `<service>-<uuid>`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    /// Where the instance listens, `host:port` (an IP literal when learned over mDNS).
    #[serde(default, deserialize_with = "null_as_default")]
    pub address: String,
    /// Instance metadata (go-micro puts `broker`, `protocol`, `registry`, … here).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_map_as_null"
    )]
    pub metadata: Metadata,
}

/// One RPC endpoint with the schemas of its request and response.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `Handler.Method`, e.g. `Greeter.Hello`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Schema of the request message; `None` is Go's nil pointer (`null`).
    #[serde(default)]
    pub request: Option<Value>,
    /// Schema of the response message; `None` is Go's nil pointer (`null`).
    #[serde(default)]
    pub response: Option<Value>,
    /// Endpoint metadata (go-micro sets e.g. `stream`).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_map_as_null"
    )]
    pub metadata: Metadata,
}

/// A recursive schema node: a field (or message) name, its Go type, and its sub-fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Value {
    /// Field or message name.
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    /// Go type name as go-micro's reflection printed it, e.g. `string`, `[]string`, `Request`.
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub r#type: String,
    /// Sub-fields of a struct type; empty for scalars.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        serialize_with = "empty_vec_as_null"
    )]
    pub values: Vec<Value>,
}

impl Value {
    /// Nesting depth of this schema: 1 for a scalar, 1 + the deepest child otherwise.
    ///
    /// Iterative, so a hostile schema of any depth cannot overflow the stack here.
    pub fn depth(&self) -> usize {
        let mut deepest = 0;
        let mut stack = vec![(self, 1usize)];
        while let Some((value, depth)) = stack.pop() {
            deepest = deepest.max(depth);
            stack.extend(value.values.iter().map(|child| (child, depth + 1)));
        }
        deepest
    }

    /// Number of schema nodes, this one included.
    pub fn node_count(&self) -> usize {
        let mut count = 0;
        let mut stack = vec![self];
        while let Some(value) = stack.pop() {
            count += 1;
            stack.extend(value.values.iter());
        }
        count
    }
}

/// `null` (Go's nil) or an absent key both mean "the empty value".
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Go writes a nil slice as `null`; go-micro never builds an empty non-nil one.
fn empty_vec_as_null<S, T>(values: &[T], serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Serialize,
{
    if values.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.collect_seq(values)
    }
}

/// Go writes a nil map as `null`.
fn empty_map_as_null<S>(map: &Metadata, serializer: S) -> Result<S::Ok, S::Error>
where
    S: Serializer,
{
    if map.is_empty() {
        serializer.serialize_none()
    } else {
        serializer.collect_map(map)
    }
}
