//! The model against go-micro v1.18's own JSON.
//!
//! `tests/vectors/gomicro-v1.18/txt/*.json` hold what go-micro's mDNS TXT decoder returned,
//! re-marshalled by Go: `{"Service","Version","Endpoints","Metadata"}`, where the endpoints
//! and metadata are exactly go-micro's `registry.Endpoint` / `map[string]string` JSON. Decoding
//! them must give the expected values, and re-encoding with `go_json` must give Go's bytes.
//!
//! The vectors are kept in `tests/vectors` (see its README for where each came from).

use std::path::PathBuf;

use muster_registry::go_json::to_go_json;
use muster_registry::{validate, Endpoint, Metadata, Node, Service, Value};

#[path = "vectors/mod.rs"]
mod vectors;

fn txt_vector_dir() -> PathBuf {
    vectors::dir().join("gomicro-v1.18/txt")
}

/// The decoded parts of one vector, and the file's bytes.
struct Vector {
    raw: String,
    service: String,
    version: String,
    endpoints: Vec<Endpoint>,
    metadata: Metadata,
}

fn vector(name: &str) -> Vector {
    let path = txt_vector_dir().join(format!("{name}.json"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read {} ({error}): the vectors are part of the repository",
            path.display()
        )
    });
    let json: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let text = |key: &str| json[key].as_str().unwrap().to_owned();
    Vector {
        service: text("Service"),
        version: text("Version"),
        endpoints: serde_json::from_value(json["Endpoints"].clone()).unwrap_or_else(|error| {
            // `null` is Go's nil slice: no endpoints.
            assert!(json["Endpoints"].is_null(), "{name}: {error}");
            Vec::new()
        }),
        metadata: serde_json::from_value::<Option<Metadata>>(json["Metadata"].clone())
            .unwrap()
            .unwrap_or_default(),
        raw: raw.trim_end().to_owned(),
    }
}

/// What Go's `json.Marshal` writes for the vector's TXT struct, built from our encodings of
/// its parts: nil slices and maps as `null`, fields in declaration order.
fn go_bytes(vector: &Vector) -> String {
    let part = |json: Vec<u8>| String::from_utf8(json).unwrap();
    let endpoints = if vector.endpoints.is_empty() {
        "null".to_owned()
    } else {
        part(to_go_json(&vector.endpoints))
    };
    let metadata = if vector.metadata.is_empty() {
        "null".to_owned()
    } else {
        part(to_go_json(&vector.metadata))
    };
    format!(
        r#"{{"Service":{},"Version":{},"Endpoints":{endpoints},"Metadata":{metadata}}}"#,
        part(to_go_json(&vector.service)),
        part(to_go_json(&vector.version)),
    )
}

fn field(name: &str, r#type: &str) -> Value {
    Value {
        name: name.into(),
        r#type: r#type.into(),
        values: Vec::new(),
    }
}

fn meta(pairs: &[(&str, &str)]) -> Metadata {
    pairs
        .iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

#[test]
fn minimal_has_nulls_for_everything() {
    let minimal = vector("txt-minimal");
    assert_eq!(
        (minimal.service.as_str(), minimal.version.as_str()),
        ("svc", "1.0.0")
    );
    assert!(minimal.endpoints.is_empty());
    assert!(minimal.metadata.is_empty());
    assert_eq!(go_bytes(&minimal), minimal.raw);
}

#[test]
fn greeter_decodes_to_go_micro_values() {
    let greeter = vector("txt-greeter");
    assert_eq!(greeter.service, "go.micro.srv.greeter");
    assert_eq!(greeter.version, "latest");
    assert_eq!(
        greeter.endpoints,
        vec![Endpoint {
            name: "Greeter.Hello".into(),
            request: Some(Value {
                values: vec![field("name", "string")],
                ..field("Request", "Request")
            }),
            response: Some(Value {
                values: vec![field("msg", "string")],
                ..field("Response", "Response")
            }),
            metadata: meta(&[("stream", "false")]),
        }]
    );
    assert_eq!(
        greeter.metadata,
        meta(&[
            ("broker", "http"),
            ("protocol", "mucp"),
            ("registry", "mdns"),
            ("server", "mucp"),
            ("transport", "http"),
        ])
    );
    assert_eq!(go_bytes(&greeter), greeter.raw);
}

#[test]
fn large_nested_keeps_depth_unicode_and_html() {
    let large = vector("txt-large-nested");
    assert_eq!(large.service, "com.example.orders");
    assert_eq!(large.version, "2.3.4-rc.1");
    assert_eq!(large.endpoints.len(), 12);
    for (index, endpoint) in large.endpoints.iter().enumerate() {
        assert_eq!(endpoint.name, format!("Orders.Method{index:02}"));
        let request = endpoint.request.as_ref().unwrap();
        // Level3 > Level2 > Level1 > Level0 > scalar field.
        assert_eq!((request.name.as_str(), request.depth()), ("Level3", 5));
        assert_eq!(
            request.values[..3],
            [
                field("id", "string"),
                field("count", "int64"),
                field("tags", "[]string"),
            ]
        );
    }
    assert_eq!(
        large.metadata,
        meta(&[
            ("empty", ""),
            ("html", "<script>alert(1)</script>&\"'"),
            ("region", "eu-west-1"),
            ("unicode", "naïve ☃ 東京"),
        ])
    );
    // Go escaped the HTML as \u003c…; so must we, byte for byte.
    assert!(large.raw.contains(r"\u003cscript\u003e"));
    assert_eq!(go_bytes(&large), large.raw);
}

#[test]
fn every_vector_passes_validation() {
    for name in ["txt-minimal", "txt-greeter", "txt-large-nested"] {
        let vector = vector(name);
        let service = Service {
            name: vector.service,
            version: vector.version,
            endpoints: vector.endpoints,
            nodes: vec![Node {
                id: "go.micro.srv.greeter-18015368-48e9-4cb2-9b69-6791349bfdda".into(),
                address: "10.77.0.1:50051".into(),
                metadata: vector.metadata,
            }],
            ..Service::default()
        };
        validate::registration(&service).unwrap_or_else(|error| panic!("{name}: {error}"));
    }
}

/// go-micro's `registry.Service` JSON: lowercase keys in Go's field order, `null` for nil.
#[test]
fn service_json_is_go_micro_json() {
    let service = Service {
        name: "go.micro.srv.greeter".into(),
        version: "latest".into(),
        nodes: vec![Node {
            id: "greeter-1".into(),
            address: "10.77.0.1:50051".into(),
            metadata: meta(&[("broker", "http")]),
        }],
        ..Service::default()
    };
    let go = r#"{"name":"go.micro.srv.greeter","version":"latest","metadata":null,"endpoints":null,"nodes":[{"id":"greeter-1","address":"10.77.0.1:50051","metadata":{"broker":"http"}}]}"#;
    assert_eq!(String::from_utf8(to_go_json(&service)).unwrap(), go);
    assert_eq!(serde_json::from_str::<Service>(go).unwrap(), service);
}

/// Go peers write `null` for every nil list or map, and older ones omit keys; both decode.
#[test]
fn nulls_and_absent_keys_decode_as_empty() {
    let sent = r#"{"name":"svc","version":null,"metadata":null,"endpoints":[{"name":"E.M","request":null,"response":{"name":"R","type":"R","values":null},"metadata":null}],"nodes":[{"id":"n","address":"10.0.0.1:1","metadata":null},{"id":"m","address":"10.0.0.2:1"}]}"#;
    let service: Service = serde_json::from_str(sent).unwrap();
    assert_eq!(service.version, "");
    assert!(service.metadata.is_empty());
    assert_eq!(service.endpoints[0].request, None);
    assert_eq!(service.endpoints[0].response, Some(field("R", "R")));
    assert!(service.nodes.iter().all(|node| node.metadata.is_empty()));
    assert_eq!(
        serde_json::from_str::<Service>("{}").unwrap(),
        Service::default()
    );
    // Go's \u003c escapes decode like the plain characters.
    let escaped: Node =
        serde_json::from_str(r#"{"id":"\u003cn\u0026\u003e","address":"a:1"}"#).unwrap();
    assert_eq!(escaped.id, "<n&>");
}
