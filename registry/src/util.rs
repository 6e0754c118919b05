//! Combining service lists: go-micro's `Copy`, `Merge` and `Remove`, with sound semantics.
//!
//! Registries answer with one [`Service`] per name and version, each carrying the nodes that run
//! it. Consumers keep such lists up to date by folding in what changed: a watch event's service
//! (which carries only the affected nodes) is merged in on create/update and removed on delete.
//!
//! Services are matched by name *and* version. go-micro matches by version alone because its
//! lists always hold one name; with one name the two agree, and with several (a full
//! `list_services`) matching by version alone would mix services up. Nodes are matched by id.
//!
//! go-micro v1.18's `Merge` emits a copy of every old service once per *non-matching* new
//! service, so merging lists that both hold several versions duplicates services (and drops old
//! versions when the new list is empty). [`merge`] instead never yields two services with the
//! same name and version, keeps every old service, and is idempotent.

use std::collections::hash_map::{Entry, HashMap};

use crate::model::{Node, Service};

/// A deep copy of `services` (go-micro's `Copy`).
///
/// Rust's `Clone` is already deep — nodes, endpoints and schemas are owned — so this is
/// `to_vec`; it exists so code ported from go-micro reads the same.
pub fn copy(services: &[Service]) -> Vec<Service> {
    services.to_vec()
}

/// `old` updated with `new` (go-micro's `Merge`, without its duplication bug).
///
/// The result holds every service of `old`, then the services of `new` whose name and version
/// `old` does not hold, in order. Where both hold a name and version:
/// - the service-level data (metadata, endpoints) is `new`'s: it is the more recent statement
///   of the service, as go-micro's registry cache takes it;
/// - the nodes are `old`'s, each replaced in place by the node of `new` with the same id, then
///   `new`'s other nodes appended.
///
/// Duplicates inside either list are folded the same way (later wins), so the result never
/// holds two services with one name and version, nor one node id twice within a service.
/// Properties, tested below: `merge(merge(a, b), b) == merge(a, b)`; removing `b` from
/// `merge(a, b)` gives `a` back when `b` brings only new nodes (and, where it matches a service
/// of `a`, the same service-level data).
pub fn merge(old: &[Service], new: &[Service]) -> Vec<Service> {
    let mut merged: Vec<Service> = Vec::with_capacity(old.len() + new.len());
    let mut position: HashMap<(&str, &str), usize> = HashMap::with_capacity(merged.capacity());
    for service in old.iter().chain(new) {
        match position.entry((&service.name, &service.version)) {
            Entry::Occupied(at) => {
                let kept = &mut merged[*at.get()];
                kept.metadata.clone_from(&service.metadata);
                kept.endpoints.clone_from(&service.endpoints);
                add_nodes(&mut kept.nodes, &service.nodes);
            }
            Entry::Vacant(slot) => {
                slot.insert(merged.len());
                let mut fresh = service.clone_without_nodes();
                add_nodes(&mut fresh.nodes, &service.nodes);
                merged.push(fresh);
            }
        }
    }
    merged
}

/// `old` without the nodes listed in `del` (go-micro's `Remove`).
///
/// For each service of `old` with the name and version of a service in `del`, the nodes whose
/// ids `del` lists are removed; if that leaves the service without nodes, the service is
/// dropped. Services `del` does not mention are kept as they are, in order.
pub fn remove(old: &[Service], del: &[Service]) -> Vec<Service> {
    old.iter()
        .filter_map(|service| {
            let mut targets = del
                .iter()
                .filter(|gone| gone.name == service.name && gone.version == service.version)
                .peekable();
            if targets.peek().is_none() {
                return Some(service.clone());
            }
            let doomed: Vec<&str> = targets
                .flat_map(|gone| gone.nodes.iter().map(|node| node.id.as_str()))
                .collect();
            let nodes: Vec<Node> = service
                .nodes
                .iter()
                .filter(|node| !doomed.contains(&node.id.as_str()))
                .cloned()
                .collect();
            (!nodes.is_empty()).then(|| Service {
                nodes,
                ..service.clone_without_nodes()
            })
        })
        .collect()
}

/// Puts each of `new` into `nodes`: in place of the node with the same id, or at the end.
/// Linear per node: a service has a handful of nodes, rarely more than a few dozen.
fn add_nodes(nodes: &mut Vec<Node>, new: &[Node]) {
    for node in new {
        match nodes.iter_mut().find(|kept| kept.id == node.id) {
            Some(kept) => kept.clone_from(node),
            None => nodes.push(node.clone()),
        }
    }
}

impl Service {
    /// This service's name, version, metadata and endpoints, without its nodes.
    fn clone_without_nodes(&self) -> Service {
        Service {
            name: self.name.clone(),
            version: self.version.clone(),
            metadata: self.metadata.clone(),
            endpoints: self.endpoints.clone(),
            nodes: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use proptest::prelude::*;

    use super::*;
    use crate::model::{Endpoint, Metadata};

    fn node(id: &str, address: &str) -> Node {
        Node {
            id: id.into(),
            address: address.into(),
            metadata: Metadata::new(),
        }
    }

    fn service(name: &str, version: &str, nodes: Vec<Node>) -> Service {
        Service {
            name: name.into(),
            version: version.into(),
            nodes,
            ..Service::default()
        }
    }

    /// go-micro's Merge turns these two versions into three services; ours keeps two.
    #[test]
    fn merging_several_versions_does_not_duplicate() {
        let old = vec![
            service("greeter", "1", vec![node("a", "10.0.0.1:1")]),
            service("greeter", "2", vec![node("b", "10.0.0.2:1")]),
        ];
        let new = vec![
            service("greeter", "1", vec![node("c", "10.0.0.3:1")]),
            service("greeter", "2", vec![node("b", "10.0.0.9:1")]),
        ];
        let merged = merge(&old, &new);
        assert_eq!(
            merged,
            vec![
                service(
                    "greeter",
                    "1",
                    vec![node("a", "10.0.0.1:1"), node("c", "10.0.0.3:1")]
                ),
                service("greeter", "2", vec![node("b", "10.0.0.9:1")]),
            ]
        );
    }

    #[test]
    fn merging_nothing_keeps_every_old_service() {
        let old = vec![
            service("greeter", "1", vec![node("a", "10.0.0.1:1")]),
            service("greeter", "2", vec![node("b", "10.0.0.2:1")]),
        ];
        assert_eq!(merge(&old, &[]), old);
    }

    #[test]
    fn new_service_data_wins() {
        let old = vec![service("greeter", "1", vec![node("a", "10.0.0.1:1")])];
        let mut update = service("greeter", "1", vec![node("a", "10.0.0.1:1")]);
        update.endpoints = vec![Endpoint {
            name: "Greeter.Hello".into(),
            ..Endpoint::default()
        }];
        assert_eq!(merge(&old, std::slice::from_ref(&update)), vec![update]);
    }

    #[test]
    fn removing_the_last_node_drops_the_service_only() {
        let old = vec![
            service("greeter", "1", vec![node("a", "10.0.0.1:1")]),
            service("greeter", "2", vec![node("b", "10.0.0.2:1")]),
            service("other", "1", vec![]),
        ];
        let del = vec![service("greeter", "1", vec![node("a", "")])];
        assert_eq!(remove(&old, &del), old[1..].to_vec());
    }

    /// Small alphabets, so that generated lists collide on names, versions and node ids.
    fn arb_node() -> impl Strategy<Value = Node> {
        (0..5u8, 1..4u8, prop::option::of(0..3u8)).prop_map(|(id, host, meta)| Node {
            id: format!("n{id}"),
            address: format!("10.0.0.{host}:8080"),
            metadata: meta
                .map(|m| Metadata::from([("k".to_string(), m.to_string())]))
                .unwrap_or_default(),
        })
    }

    fn arb_service() -> impl Strategy<Value = Service> {
        (
            prop::sample::select(vec!["a", "b"]),
            prop::sample::select(vec!["1", "2", "latest"]),
            prop::option::of(0..3u8),
            prop::collection::vec(arb_node(), 0..4),
        )
            .prop_map(|(name, version, endpoint, nodes)| Service {
                name: name.into(),
                version: version.into(),
                endpoints: endpoint
                    .map(|e| {
                        vec![Endpoint {
                            name: format!("E.M{e}"),
                            ..Endpoint::default()
                        }]
                    })
                    .unwrap_or_default(),
                nodes,
                ..Service::default()
            })
    }

    fn arb_services() -> impl Strategy<Value = Vec<Service>> {
        prop::collection::vec(arb_service(), 0..6)
    }

    fn key(service: &Service) -> (String, String) {
        (service.name.clone(), service.version.clone())
    }

    fn find<'a>(services: &'a [Service], of: &Service) -> Option<&'a Service> {
        services.iter().find(|s| key(s) == key(of))
    }

    proptest! {
        #[test]
        fn merge_yields_each_service_and_node_once(a in arb_services(), b in arb_services()) {
            let merged = merge(&a, &b);
            let keys: HashSet<_> = merged.iter().map(key).collect();
            prop_assert_eq!(keys.len(), merged.len());
            for service in &merged {
                let ids: HashSet<_> = service.nodes.iter().map(|n| &n.id).collect();
                prop_assert_eq!(ids.len(), service.nodes.len());
            }
        }

        #[test]
        fn merge_is_idempotent(a in arb_services(), b in arb_services()) {
            let once = merge(&a, &b);
            prop_assert_eq!(merge(&once, &b), once.clone());
            prop_assert_eq!(merge(&once, &[]), once);
        }

        #[test]
        fn merge_keeps_old_nodes_and_takes_new_ones(a in arb_services(), b in arb_services()) {
            let merged = merge(&a, &b);
            for service in a.iter().chain(&b) {
                prop_assert!(find(&merged, service).is_some());
            }
            // The last mention of a node id wins: b's over a's, later over earlier.
            for service in a.iter().chain(&b) {
                let kept = find(&merged, service).unwrap();
                for node in &service.nodes {
                    let last = a
                        .iter()
                        .chain(&b)
                        .filter(|s| key(s) == key(service))
                        .flat_map(|s| &s.nodes)
                        .rfind(|n| n.id == node.id)
                        .unwrap();
                    prop_assert!(kept.nodes.contains(last));
                }
            }
        }

        #[test]
        fn remove_undoes_merge_of_new_nodes(a in arb_services(), b in arb_services()) {
            // A registry's view: no duplicates, no node-less services.
            let a: Vec<Service> = merge(&a, &[]).into_iter().filter(|s| !s.nodes.is_empty()).collect();
            // Changes that only add nodes, restating a known service's data unchanged.
            let b: Vec<Service> = b
                .into_iter()
                .map(|mut change| {
                    if let Some(known) = find(&a, &change) {
                        change.nodes.retain(|n| known.nodes.iter().all(|k| k.id != n.id));
                        change.metadata.clone_from(&known.metadata);
                        change.endpoints.clone_from(&known.endpoints);
                    }
                    change
                })
                .filter(|change| !change.nodes.is_empty())
                .collect();
            prop_assert_eq!(remove(&merge(&a, &b), &b), a);
        }

        #[test]
        fn remove_takes_out_every_listed_node(a in arb_services(), del in arb_services()) {
            let left = remove(&a, &del);
            for service in &left {
                for gone in del.iter().filter(|d| key(d) == key(service)) {
                    prop_assert!(!service.nodes.is_empty());
                    for node in &gone.nodes {
                        prop_assert!(service.nodes.iter().all(|n| n.id != node.id));
                    }
                }
            }
            // Services `del` does not mention are untouched.
            let untouched: Vec<&Service> = a.iter().filter(|s| find(&del, s).is_none()).collect();
            let kept: Vec<&Service> = left.iter().filter(|s| find(&del, s).is_none()).collect();
            prop_assert_eq!(untouched, kept);
        }

        #[test]
        fn copy_is_equal(a in arb_services()) {
            prop_assert_eq!(copy(&a), a);
        }
    }
}
