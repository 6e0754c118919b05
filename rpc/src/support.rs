//! Which nodes speak go-micro's RPC over HTTP, judged from what they registered.
//!
//! A go-micro node puts its plugins in its metadata: `transport=http`, `server=mucp`,
//! `protocol=mucp` for the default rpc server (v1.18: `broker=http,protocol=mucp,
//! registry=mdns,server=mucp,transport=http`). A grpc or http server says `server=grpc` /
//! `protocol=grpc` / `server=http`, and a grpc transport `transport=grpc`: the mucp request
//! means nothing to those. Nodes that set none of these keys are old go-micro (or hand-made
//! registrations) and get the benefit of the doubt. The http broker registers a node of its own
//! (`go.micro.http.broker`, metadata `broker`, `secure`, `topic`) that is not an rpc server.

use muster_registry::Metadata;

/// The service the http broker registers its subscriber nodes under.
const HTTP_BROKER: &str = "go.micro.http.broker";

/// Whether a node of `service` with `metadata` can be called over mucp-over-HTTP.
pub fn supported(service: &str, metadata: &Metadata) -> bool {
    if service == HTTP_BROKER || metadata.contains_key("topic") {
        return false;
    }
    let get = |key: &str| metadata.get(key).map(String::as_str);
    match (get("transport"), get("server"), get("protocol")) {
        (None, None, None) => true,
        (Some("http"), server, protocol) => server == Some("mucp") || protocol == Some("mucp"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> Metadata {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_v1_18_rpc_server_is_supported() {
        let metadata = meta(&[
            ("broker", "http"),
            ("protocol", "mucp"),
            ("registry", "mdns"),
            ("server", "mucp"),
            ("transport", "http"),
        ]);
        assert!(supported("go.micro.srv.greeter", &metadata));
    }

    #[test]
    fn nodes_without_any_of_the_keys_are_supported() {
        assert!(supported("old", &meta(&[])));
        assert!(supported("old", &meta(&[("owner", "team")])));
    }

    #[test]
    fn grpc_http_servers_other_transports_and_brokers_are_not() {
        for metadata in [
            meta(&[("server", "grpc"), ("transport", "grpc")]),
            meta(&[("protocol", "grpc"), ("transport", "http")]),
            meta(&[("server", "http"), ("transport", "http")]),
            meta(&[("server", "mucp")]),
            meta(&[("transport", "http")]),
            meta(&[("transport", "grpc"), ("server", "mucp")]),
        ] {
            assert!(!supported("svc", &metadata), "{metadata:?}");
        }
        let broker = meta(&[("broker", "http"), ("secure", "false"), ("topic", "svc")]);
        assert!(!supported("go.micro.http.broker", &broker));
        assert!(!supported("go.micro.http.broker", &meta(&[])));
    }
}
