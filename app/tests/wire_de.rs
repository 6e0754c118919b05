//! The hand-written `Deserialize` impls of the wire's tagged enums and flattened structs
//! (`app/src/de.rs`) read every input as serde's derive read it, and the JSON written is
//! unchanged. The derive's reading is kept here, in copies of the types with the attributes
//! they had (`reference`), and each input is read by both.

use app::bulk::KeptNode;
use app::reason::EventReason;
use app::wire::{LanMessage, NodeView, ServiceView, WatchMessage};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

/// The types as they were, with serde's derive.
mod reference {
    use app::rpc::{HealthState, NodeHealth};
    use app::wire::{EndpointOutlier, LanService, LanSnapshot, NodeState, UnixMillis};
    use muster_registry::{Action, Endpoint, Metadata, Node};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    pub struct NodeView {
        #[serde(flatten)]
        pub node: Node,
        pub first_seen: UnixMillis,
        pub last_seen: UnixMillis,
        pub expires_at: Option<UnixMillis>,
        pub state: NodeState,
        pub owned: bool,
        #[serde(default)]
        pub health: Option<NodeHealth>,
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub struct ServiceView {
        pub name: String,
        pub version: String,
        #[serde(default)]
        pub metadata: Metadata,
        #[serde(default)]
        pub endpoints: Vec<Endpoint>,
        #[serde(default)]
        pub nodes: Vec<NodeView>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub endpoints_from: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        pub endpoint_outliers: Vec<EndpointOutlier>,
        #[serde(default)]
        pub last_change: UnixMillis,
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub struct ConsoleEvent {
        pub seq: u64,
        pub timestamp: UnixMillis,
        pub action: Action,
        pub service: ServiceView,
        #[serde(default)]
        pub purged: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub reason: Option<EventReason>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub actor: Option<String>,
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "lowercase")]
    pub enum WatchMessage {
        Snapshot {
            seq: u64,
            services: Vec<ServiceView>,
            recent: Vec<ConsoleEvent>,
        },
        Loading {
            services: u64,
            bytes: u64,
        },
        Event(ConsoleEvent),
        Heartbeat {
            seq: u64,
        },
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(tag = "type", rename_all = "lowercase")]
    pub enum LanMessage {
        Snapshot(LanSnapshot),
        Upsert(LanService),
        Remove { fullname: String },
        Heartbeat,
    }

    #[derive(Debug, Serialize, Deserialize)]
    #[serde(tag = "kind", rename_all = "snake_case")]
    pub enum EventReason {
        Registered {
            by_console: bool,
        },
        Changed,
        Expired {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            ttl_secs: Option<u64>,
        },
        Evicted,
        Deregistered,
        Goodbye,
        MissedRefresh {
            #[serde(default, skip_serializing_if = "Option::is_none")]
            ttl_secs: Option<u64>,
        },
        Refreshed,
        Health {
            state: HealthState,
            #[serde(default)]
            detail: String,
        },
        Purged,
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub struct ListedNode {
        pub service: String,
        pub version: String,
        pub node: String,
        pub address: String,
    }

    #[derive(Debug, Serialize, Deserialize)]
    pub struct KeptNode {
        #[serde(flatten)]
        pub node: ListedNode,
        pub reason: String,
    }
}

/// `text` reads the same with the derive (`Old`) and the hand-written impl (`New`): both
/// fail, or both give the same value (compared as the JSON they write, which must be equal).
fn same<Old, New>(text: &str)
where
    Old: DeserializeOwned + Serialize + std::fmt::Debug,
    New: DeserializeOwned + Serialize + std::fmt::Debug,
{
    let old = serde_json::from_str::<Old>(text);
    let new = serde_json::from_str::<New>(text);
    match (&old, &new) {
        (Ok(old), Ok(new)) => assert_eq!(
            serde_json::to_string(old).unwrap(),
            serde_json::to_string(new).unwrap(),
            "read differently: {text}"
        ),
        (Err(_), Err(_)) => {}
        _ => panic!("one read failed: {text}\n  derive: {old:?}\n  now: {new:?}"),
    }
    // From bytes too (the server reads request bodies so), and from a `serde_json::Value`.
    let old =
        serde_json::from_slice::<Old>(text.as_bytes()).map(|v| serde_json::to_value(v).unwrap());
    let new =
        serde_json::from_slice::<New>(text.as_bytes()).map(|v| serde_json::to_value(v).unwrap());
    assert_eq!(old.is_ok(), new.is_ok(), "from_slice: {text}");
    if let (Ok(old), Ok(new)) = (old, new) {
        assert_eq!(old, new, "from_slice: {text}");
    }
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let old =
            serde_json::from_value::<Old>(value.clone()).map(|v| serde_json::to_value(v).unwrap());
        let new = serde_json::from_value::<New>(value).map(|v| serde_json::to_value(v).unwrap());
        assert_eq!(old.is_ok(), new.is_ok(), "from_value: {text}");
        if let (Ok(old), Ok(new)) = (old, new) {
            assert_eq!(old, new, "from_value: {text}");
        }
    }
}

/// `value` with its keys in reverse order (the tag last), at the top level only.
fn reversed(value: &Value) -> String {
    let Value::Object(map) = value else {
        return value.to_string();
    };
    let fields: Vec<String> = map
        .iter()
        .rev()
        .map(|(key, value)| format!("{}:{}", Value::String(key.clone()), value))
        .collect();
    format!("{{{}}}", fields.join(","))
}

fn node(id: &str, health: bool) -> Value {
    let mut node = json!({
        "id": id, "address": "10.0.0.1:8080", "metadata": {"protocol": "mucp"},
        "first_seen": 1, "last_seen": 2, "expires_at": 3, "state": "alive", "owned": false,
    });
    if health {
        node["health"] = json!({"state": "failing", "checked_at": 5, "latency_ms": 7,
            "detail": "status degraded"});
    }
    node
}

fn service(nodes: Vec<Value>) -> Value {
    json!({
        "name": "go.micro.srv.greeter", "version": "1.0", "metadata": {"a": "b"},
        "endpoints": [{"name": "Greeter.Hello",
            "request": {"name": "Request", "type": "Request",
                "values": [{"name": "name", "type": "string", "values": null}]},
            "response": null, "metadata": {"stream": "false"}}],
        "nodes": nodes, "endpoints_from": "n1",
        "endpoint_outliers": [{"node": "n2", "endpoints": 0}], "last_change": 9,
    })
}

fn reasons() -> Vec<Value> {
    vec![
        json!({"kind": "registered", "by_console": true}),
        json!({"kind": "changed"}),
        json!({"kind": "expired", "ttl_secs": 110}),
        json!({"kind": "expired"}),
        json!({"kind": "evicted"}),
        json!({"kind": "deregistered"}),
        json!({"kind": "goodbye"}),
        json!({"kind": "missed_refresh", "ttl_secs": 90}),
        json!({"kind": "missed_refresh", "ttl_secs": null}),
        json!({"kind": "refreshed"}),
        json!({"kind": "health", "state": "unreachable", "detail": "connection refused"}),
        json!({"kind": "health", "state": "no-check"}),
        json!({"kind": "purged"}),
    ]
}

fn event(reason: Option<Value>) -> Value {
    let mut event = json!({"seq": 4, "timestamp": 8, "action": "update",
        "service": service(vec![node("n1", true)]), "purged": false, "actor": "this console"});
    if let Some(reason) = reason {
        event["reason"] = reason;
    }
    event
}

fn watch_messages() -> Vec<Value> {
    let mut messages = vec![
        json!({"type": "snapshot", "seq": 3,
            "services": [service(vec![node("n1", true), node("n2", false)]), service(vec![])],
            "recent": [event(None), event(Some(json!({"kind": "goodbye"})))]}),
        json!({"type": "loading", "services": 2, "bytes": 1000}),
        json!({"type": "heartbeat", "seq": 7}),
        json!({"type": "event", "seq": 4, "timestamp": 8, "action": "create",
            "service": service(vec![node("n1", false)])}),
    ];
    messages.extend(reasons().into_iter().map(|reason| {
        let mut message = event(Some(reason));
        message["type"] = json!("event");
        message
    }));
    messages
}

/// Inputs that are not what the server writes: each must fail or read as before.
const ODD_WATCH: &[&str] = &[
    r#"{}"#,
    r#"[]"#,
    r#"null"#,
    r#""snapshot""#,
    r#"{"type": "nope", "seq": 1}"#,
    r#"{"type": null, "seq": 1}"#,
    r#"{"type": 3, "seq": 1}"#,
    r#"{"type": 1, "services": 1, "bytes": 2}"#,
    r#"{"type": 9, "seq": 1}"#,
    r#"{"type": "heartbeat"}"#,
    r#"{"type": "heartbeat", "seq": "1"}"#,
    r#"{"type": "heartbeat", "seq": 1, "extra": [1, {"a": null}]}"#,
    r#"{"seq": 1, "type": "heartbeat"}"#,
    r#"{"seq": 1}"#,
    r#"{"seq": 1, "type": "heartbeat", "type": "heartbeat"}"#,
    r#"{"seq": 1, "seq": 2, "type": "heartbeat"}"#,
    r#"{"type": "heartbeat", "seq": 1, "seq": 2}"#,
    r#"["heartbeat", 5]"#,
    r#"["loading", 1, 2]"#,
    r#"["loading", 1]"#,
    r#"["nope"]"#,
    r#"{"type": "loading", "services": -1, "bytes": 2}"#,
    r#"{"type": "loading", "services": 1.5, "bytes": 2}"#,
    r#"{"type": "snapshot", "seq": 1, "services": [], "recent": [], "services": []}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "delete",
        "service": {"name": "a", "version": "b", "nodes": [{"first_seen": 1, "last_seen": 2,
        "state": "expired", "owned": true, "id": null, "address": null, "metadata": null}]}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "delete",
        "service": {"name": "a", "version": "b", "nodes": [[1, 2]]}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "delete",
        "service": {"name": "a", "version": "b", "nodes": [{"first_seen": 1, "last_seen": 2,
        "state": "alive", "owned": true, "id": "x", "id": "y"}]}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "delete",
        "service": {"name": "a", "version": "b", "nodes": [{"first_seen": 1, "last_seen": 2,
        "state": "alive", "owned": true, "id": 5}]}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "delete",
        "service": {"name": "a", "version": "b", "nodes": [{"first_seen": 1,
        "state": "alive", "owned": true}]}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "update",
        "service": {"name": "a", "version": "b"}, "reason": {"by_console": false,
        "kind": "registered"}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "update",
        "service": {"name": "a", "version": "b"}, "reason": {"kind": "health"}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "update",
        "service": {"name": "a", "version": "b"}, "reason": {"kind": "changed", "x": 1}}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "update",
        "service": {"name": "a", "version": "b"}, "reason": null}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "update",
        "service": {"name": "a", "version": "b"}, "reason": ["expired", 5]}"#,
    r#"{"type": "event", "seq": 1, "timestamp": 2, "action": "update",
        "service": {"name": "a", "version": "b"}, "reason": {"kind": "lost"}}"#,
    r#"{"type": "snapshot", "seq": 1, "services": [], "recent": [] "#,
    // Escaped keys (read as owned strings, not borrowed).
    r#"{"\u0074ype": "heartbeat", "seq": 1}"#,
    r#"{"type": "heartbeat", "s\u0065q": 1}"#,
    r#"{"type": "heartbeat", "seq": 1, "typ\u0065": "loading"}"#,
    r#"{"s\u0065q": 1, "typ\u0065": "heartbeat"}"#,
    r#"{"type": "h\u0065artbeat", "seq": 1}"#,
];

#[test]
fn watch_messages_read_as_the_derive_read_them() {
    for message in watch_messages() {
        let text = message.to_string();
        same::<reference::WatchMessage, WatchMessage>(&text);
        same::<reference::WatchMessage, WatchMessage>(&reversed(&message));
        // What the server writes reads back to itself, and writes the same text again.
        let read: WatchMessage = serde_json::from_str(&text).unwrap();
        let old: reference::WatchMessage = serde_json::from_str(&text).unwrap();
        assert_eq!(
            serde_json::to_string(&read).unwrap(),
            serde_json::to_string(&old).unwrap()
        );
    }
    for text in ODD_WATCH {
        same::<reference::WatchMessage, WatchMessage>(text);
    }
}

#[test]
fn reasons_nodes_and_services_read_as_the_derive_read_them() {
    for reason in reasons() {
        same::<reference::EventReason, EventReason>(&reason.to_string());
        same::<reference::EventReason, EventReason>(&reversed(&reason));
    }
    for text in [
        r#"{"kind": 0, "by_console": true}"#,
        r#"{"kind": 8, "state": "healthy"}"#,
        r#"{"kind": "health", "state": "healthy", "kind": "health"}"#,
        r#"{"state": "healthy", "kind": "health", "kind": "health"}"#,
        r#"["health", "healthy", "ok"]"#,
        r#"["purged", 1, 2]"#,
        r#"{"kind": "registered"}"#,
        r#"{"kind": "registered", "by_console": 1}"#,
    ] {
        same::<reference::EventReason, EventReason>(text);
    }
    for node in [node("n1", true), node("n2", false)] {
        same::<reference::NodeView, NodeView>(&node.to_string());
        same::<reference::NodeView, NodeView>(&reversed(&node));
    }
    for text in [
        r#"{"first_seen": 1, "last_seen": 2, "state": "stale", "owned": false}"#,
        r#"{"first_seen": 1, "last_seen": 2, "state": "stale", "owned": false, "health": null}"#,
        r#"{"first_seen": 1, "last_seen": 2, "state": "stale", "owned": false, "x": {"y": []}}"#,
        r#"[1, 2, null, "stale", false]"#,
        r#"{"first_seen": 1, "last_seen": 2, "state": "gone", "owned": false}"#,
        r#"{"first_seen": 1, "last_seen": 2, "expires_at": null, "state": "stale",
            "owned": false, "metadata": {"a": null}}"#,
    ] {
        same::<reference::NodeView, NodeView>(text);
    }
    let service = service(vec![node("n1", true)]);
    same::<reference::ServiceView, ServiceView>(&service.to_string());
}

#[test]
fn lan_messages_and_kept_nodes_read_as_the_derive_read_them() {
    let lan_service = json!({"fullname": "Muster on h._http._tcp.local.",
        "service_type": "_http._tcp.local.", "instance": "Muster on h", "host": "h.local.",
        "port": 3000, "addresses": ["10.0.0.1"], "txt": [["path", "/"], ["k", ""]],
        "last_seen": 4});
    let mut upsert = lan_service.clone();
    upsert["type"] = json!("upsert");
    let messages = [
        json!({"type": "snapshot", "enabled": true, "services": [lan_service]}),
        json!({"type": "snapshot", "enabled": false, "reason": "--no-lan", "services": []}),
        upsert,
        json!({"type": "remove", "fullname": "x._http._tcp.local."}),
        json!({"type": "heartbeat"}),
    ];
    for message in messages {
        let text = message.to_string();
        same::<reference::LanMessage, LanMessage>(&text);
        same::<reference::LanMessage, LanMessage>(&reversed(&message));
        let ours = serde_json::to_string(&serde_json::from_str::<LanMessage>(&text).unwrap());
        let theirs =
            serde_json::to_string(&serde_json::from_str::<reference::LanMessage>(&text).unwrap());
        assert_eq!(ours.unwrap(), theirs.unwrap());
    }
    for text in [
        r#"{"type": "heartbeat", "x": 1}"#,
        r#"{"type": "remove"}"#,
        r#"{"fullname": "a", "type": "remove"}"#,
        r#"["heartbeat", 1, 2]"#,
        r#"["remove", "a"]"#,
        r#"{"type": "snapshot", "enabled": true}"#,
        r#"{"type": 3}"#,
    ] {
        same::<reference::LanMessage, LanMessage>(text);
    }
    for text in [
        r#"{"service": "a", "version": "1", "node": "n", "address": "h:1", "reason": "alive again"}"#,
        r#"{"reason": "gone", "address": "h:1", "node": "n", "version": "1", "service": "a"}"#,
        r#"{"service": "a", "version": "1", "node": "n", "address": "h:1"}"#,
        r#"{"service": "a", "version": "1", "node": "n", "address": "h:1", "reason": "r", "x": 1}"#,
        r#"["a", "1", "n", "h:1", "r"]"#,
    ] {
        same::<reference::KeptNode, KeptNode>(text);
    }
}
