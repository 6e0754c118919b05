//! One node per address: a registration that repeats the address of a live node of the same
//! service version refreshes that node instead of adding a second one.
//!
//! go-micro keys nodes by id only, and the register form (like go-micro's own `server`) makes
//! up a random id for a node given by address alone, so submitting the same form twice would
//! otherwise announce two nodes that are one process. Same service, version and address is
//! the same node: if this console owns it, the registration takes over its id (a refresh);
//! if another process owns it, the registration is refused. A node whose id the version
//! already has is a refresh of itself and left alone (scripts may put several ids on one
//! address on purpose).

use app::wire::ServiceView;
use muster_registry::Service;

use crate::error::Error;

/// Rewrites the ids of `service`'s new nodes whose address a live node of `known` (the view
/// of that service, every version) already has, or refuses the registration when that node
/// belongs to another process.
pub fn by_address(service: &mut Service, known: &[ServiceView]) -> Result<(), Error> {
    let live: Vec<_> = known
        .iter()
        .filter(|view| view.version == service.version)
        .flat_map(|view| view.nodes.iter())
        .filter(|node| !node.state.is_tombstone())
        .collect();
    for node in &mut service.nodes {
        if live.iter().any(|known| known.node.id == node.id) {
            continue;
        }
        let Some(existing) = live.iter().find(|known| known.node.address == node.address) else {
            continue;
        };
        if !existing.owned {
            return Err(Error::Conflict(format!(
                "{} version {} already has node {} at {}, registered by another process",
                service.name, service.version, existing.node.id, node.address
            )));
        }
        node.id = existing.node.id.clone();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::wire::{NodeState, NodeView};
    use muster_registry::Node;

    fn node(id: &str, address: &str) -> Node {
        Node {
            id: id.into(),
            address: address.into(),
            ..Node::default()
        }
    }

    fn known(id: &str, address: &str, state: NodeState, owned: bool) -> Vec<ServiceView> {
        vec![ServiceView {
            name: "svc".into(),
            version: "1".into(),
            nodes: vec![NodeView {
                node: node(id, address),
                first_seen: 1,
                last_seen: 1,
                expires_at: None,
                state,
                owned,
                health: None,
            }],
            ..ServiceView::default()
        }]
    }

    fn request(nodes: Vec<Node>) -> Service {
        Service {
            name: "svc".into(),
            version: "1".into(),
            nodes,
            ..Service::default()
        }
    }

    #[test]
    fn an_own_node_at_the_same_address_is_refreshed_not_duplicated() {
        let mut service = request(vec![node("svc-random", "10.0.0.5:80")]);
        let view = known("svc-first", "10.0.0.5:80", NodeState::Alive, true);
        by_address(&mut service, &view).unwrap();
        assert_eq!(service.nodes[0].id, "svc-first");
    }

    #[test]
    fn another_process_at_the_same_address_is_a_conflict() {
        let mut service = request(vec![node("svc-random", "10.0.0.5:80")]);
        let view = known("theirs", "10.0.0.5:80", NodeState::Stale, false);
        let error = by_address(&mut service, &view).unwrap_err();
        assert!(matches!(error, Error::Conflict(_)), "{error}");
    }

    #[test]
    fn tombstones_other_versions_and_other_addresses_do_not_count() {
        let view = known("gone", "10.0.0.5:80", NodeState::Deregistered, true);
        let mut service = request(vec![node("new", "10.0.0.5:80")]);
        by_address(&mut service, &view).unwrap();
        assert_eq!(service.nodes[0].id, "new");

        let mut other_version = request(vec![node("new", "10.0.0.5:80")]);
        other_version.version = "2".into();
        let view = known("old", "10.0.0.5:80", NodeState::Alive, false);
        by_address(&mut other_version, &view).unwrap();
        assert_eq!(other_version.nodes[0].id, "new");

        let mut other_address = request(vec![node("new", "10.0.0.6:80")]);
        by_address(&mut other_address, &view).unwrap();
        assert_eq!(other_address.nodes[0].id, "new");
    }

    #[test]
    fn a_known_id_is_its_own_refresh_even_where_others_share_its_address() {
        let mut view = known("a", "10.0.0.5:80", NodeState::Alive, true);
        let mut second = view[0].nodes[0].clone();
        second.node.id = "b".into();
        view[0].nodes.push(second);
        let mut service = request(vec![node("b", "10.0.0.5:80"), node("a", "10.0.0.5:80")]);
        by_address(&mut service, &view).unwrap();
        let ids: Vec<&str> = service.nodes.iter().map(|node| node.id.as_str()).collect();
        assert_eq!(ids, ["b", "a"]);
    }
}
