//! Which input an [`crate::Error::Invalid`] is about, as a type: callers branch on it (a form
//! shows the message next to the input at fault, a command line names the flag) without
//! reading the words of the message.
//!
//! Each field keeps the label it has always been shown and sent with (`service name`, `node
//! address`, …): the JSON API's `field` is that label.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The input an invalid-argument error is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    /// A service's name.
    ServiceName,
    /// A service's version.
    ServiceVersion,
    /// A service's metadata map.
    ServiceMetadata,
    /// A service's node list as a whole (none, too many).
    ServiceNodes,
    /// A service's endpoint list as a whole (too many).
    ServiceEndpoints,
    /// A node's id.
    NodeId,
    /// A node's address.
    NodeAddress,
    /// A node's metadata map.
    NodeMetadata,
    /// An endpoint's name.
    EndpointName,
    /// An endpoint's metadata map.
    EndpointMetadata,
    /// An endpoint's request or response schema.
    EndpointSchema,
    /// A registration's TTL.
    Ttl,
    /// The machine's host name, as mDNS would announce it.
    HostName,
    /// The mDNS registry's record TTL.
    MdnsTtl,
    /// The mDNS domain.
    MdnsDomain,
    /// An mDNS interface asked for by name or address.
    MdnsInterface,
    /// The mDNS options of a running registry.
    MdnsOptions,
    /// The memory registry's watch buffer.
    MemoryWatchBuffer,
    /// The etcd options of a running registry.
    EtcdOptions,
    /// The CA that should have signed etcd's certificate.
    TlsCaFile,
    /// The client certificate (mutual TLS).
    TlsCertFile,
    /// The client certificate's key.
    TlsKeyFile,
    /// The name etcd's certificate is checked against.
    TlsServerName,
    /// TLS as a whole (on or off).
    Tls,
    /// The user name and password.
    Credentials,
    /// An input outside the registry's model, by the name its caller knows it by (a
    /// command-line flag, a query parameter).
    Named(String),
}

/// Every field of the registry's own model, for reading a label back.
const KNOWN: [Field; 25] = [
    Field::ServiceName,
    Field::ServiceVersion,
    Field::ServiceMetadata,
    Field::ServiceNodes,
    Field::ServiceEndpoints,
    Field::NodeId,
    Field::NodeAddress,
    Field::NodeMetadata,
    Field::EndpointName,
    Field::EndpointMetadata,
    Field::EndpointSchema,
    Field::Ttl,
    Field::HostName,
    Field::MdnsTtl,
    Field::MdnsDomain,
    Field::MdnsInterface,
    Field::MdnsOptions,
    Field::MemoryWatchBuffer,
    Field::EtcdOptions,
    Field::TlsCaFile,
    Field::TlsCertFile,
    Field::TlsKeyFile,
    Field::TlsServerName,
    Field::Tls,
    Field::Credentials,
];

impl Field {
    /// The label shown to operators and sent as the JSON API's `field`.
    pub fn label(&self) -> &str {
        match self {
            Field::ServiceName => "service name",
            Field::ServiceVersion => "service version",
            Field::ServiceMetadata => "service metadata",
            Field::ServiceNodes => "service nodes",
            Field::ServiceEndpoints => "service endpoints",
            Field::NodeId => "node id",
            Field::NodeAddress => "node address",
            Field::NodeMetadata => "node metadata",
            Field::EndpointName => "endpoint name",
            Field::EndpointMetadata => "endpoint metadata",
            Field::EndpointSchema => "endpoint schema",
            Field::Ttl => "ttl",
            Field::HostName => "host name",
            Field::MdnsTtl => "mdns ttl",
            Field::MdnsDomain => "mdns domain",
            Field::MdnsInterface => "mdns interface",
            Field::MdnsOptions => "mdns options",
            Field::MemoryWatchBuffer => "memory watch buffer",
            Field::EtcdOptions => "etcd options",
            Field::TlsCaFile => "tls ca file",
            Field::TlsCertFile => "tls cert file",
            Field::TlsKeyFile => "tls key file",
            Field::TlsServerName => "tls server name",
            Field::Tls => "tls",
            Field::Credentials => "credentials",
            Field::Named(name) => name,
        }
    }

    /// The field with `label` ([`Field::Named`] when it is none of the registry's own).
    pub fn from_label(label: &str) -> Field {
        KNOWN
            .into_iter()
            .find(|field| field.label() == label)
            .unwrap_or_else(|| Field::Named(label.to_string()))
    }

    /// A field outside the registry's model (a flag, a query parameter), by its name.
    pub fn named(name: impl Into<String>) -> Field {
        Field::Named(name.into())
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// As its label, so the JSON a client reads is the same words it always was.
impl Serialize for Field {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|label| Field::from_label(&label))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_reads_back_as_its_field() {
        for field in KNOWN {
            assert_eq!(Field::from_label(field.label()), field);
        }
        assert_eq!(
            Field::from_label("--registry-ca-file"),
            Field::named("--registry-ca-file")
        );
        let json = serde_json::to_string(&Field::NodeAddress).unwrap();
        assert_eq!(json, "\"node address\"");
        assert_eq!(
            serde_json::from_str::<Field>(&json).unwrap(),
            Field::NodeAddress
        );
    }
}
