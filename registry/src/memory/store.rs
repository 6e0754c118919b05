//! The registry's contents and their deadlines, as plain data.
//!
//! No locks, no clocks, no tasks: every change takes the current instant as an argument and
//! returns the events it caused, so the rules (what is a create, an update, a mere refresh, an
//! expiry) are decided in one place and tested deterministically. [`super::MemoryRegistry`]
//! wraps it in a mutex and publishes the events.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use crate::event::{Action, Event};
use crate::model::{Endpoint, Metadata, Node, Service};

/// Every registered service, by name then version; plus the expiry deadline of every node
/// registered with a TTL.
#[derive(Debug, Default)]
pub(super) struct Store {
    /// Name → version → record. `BTreeMap`s so that listings come out sorted.
    services: BTreeMap<String, BTreeMap<String, Record>>,
    /// When each TTL'd node expires, earliest first: the timer queue, as data.
    deadlines: BTreeSet<(Instant, NodeKey)>,
}

/// One version of one service: the data its last registration stated, and its nodes.
#[derive(Debug)]
struct Record {
    metadata: Metadata,
    endpoints: Vec<Endpoint>,
    /// Node id → node; sorted by id, so `get_service` answers in a stable order.
    nodes: BTreeMap<String, Entry>,
}

/// A registered node and when it expires (`None`: registered without a TTL).
#[derive(Debug)]
struct Entry {
    node: Node,
    expires_at: Option<Instant>,
}

/// Where a node lives in [`Store::services`].
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct NodeKey {
    name: String,
    version: String,
    id: String,
}

impl Store {
    /// Adds or refreshes the nodes of `service`, each to expire at `expires_at`.
    ///
    /// A node not yet known is a [`Action::Create`]; a known one whose address or metadata
    /// changed, or whose version's metadata or endpoints changed, is an [`Action::Update`]; a
    /// known, unchanged one only has its deadline moved (no event, as go-micro's periodic
    /// re-registration must not flood watchers). The version's metadata and endpoints become
    /// the ones stated here. `service` must have passed [`crate::validate::registration`].
    pub(super) fn register(
        &mut self,
        service: &Service,
        expires_at: Option<Instant>,
    ) -> Vec<Event> {
        let versions = self.services.entry(service.name.clone()).or_default();
        let record = versions
            .entry(service.version.clone())
            .or_insert_with(|| Record {
                metadata: service.metadata.clone(),
                endpoints: service.endpoints.clone(),
                nodes: BTreeMap::new(),
            });
        let data_changed =
            record.metadata != service.metadata || record.endpoints != service.endpoints;
        if data_changed {
            record.metadata.clone_from(&service.metadata);
            record.endpoints.clone_from(&service.endpoints);
        }
        let mut events = Vec::new();
        for node in &service.nodes {
            let key = NodeKey {
                name: service.name.clone(),
                version: service.version.clone(),
                id: node.id.clone(),
            };
            let action = match record.nodes.get_mut(&node.id) {
                None => {
                    record.nodes.insert(
                        node.id.clone(),
                        Entry {
                            node: node.clone(),
                            expires_at,
                        },
                    );
                    Some(Action::Create)
                }
                Some(entry) => {
                    if let Some(old) = entry.expires_at {
                        self.deadlines.remove(&(old, key.clone()));
                    }
                    entry.expires_at = expires_at;
                    if entry.node != *node {
                        entry.node.clone_from(node);
                        Some(Action::Update)
                    } else {
                        data_changed.then_some(Action::Update)
                    }
                }
            };
            if let Some(action) = action {
                events.push(event(action, record, &service.name, &service.version, node));
            }
            if let Some(at) = expires_at {
                self.deadlines.insert((at, key));
            }
        }
        events
    }

    /// Removes the nodes `service` lists; unknown ones are ignored (deregistering twice is
    /// not an error, as in go-micro). A version left without nodes is forgotten, and so is a
    /// name left without versions.
    pub(super) fn deregister(&mut self, service: &Service) -> Vec<Event> {
        service
            .nodes
            .iter()
            .filter_map(|node| {
                self.remove(&NodeKey {
                    name: service.name.clone(),
                    version: service.version.clone(),
                    id: node.id.clone(),
                })
            })
            .collect()
    }

    /// Removes every node whose deadline is at or before `now`, with a delete event each.
    pub(super) fn expire(&mut self, now: Instant) -> Vec<Event> {
        let mut events = Vec::new();
        while let Some(first) = self.deadlines.first() {
            if first.0 > now {
                break;
            }
            if let Some((_, key)) = self.deadlines.pop_first() {
                events.extend(self.remove(&key));
            }
        }
        events
    }

    /// The next instant at which [`Store::expire`] would remove something.
    pub(super) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Every version of `name`, or `None` when no node of it is registered.
    pub(super) fn get(&self, name: &str) -> Option<Vec<Service>> {
        let versions = self.services.get(name)?;
        Some(
            versions
                .iter()
                .map(|(version, record)| service(name, version, record))
                .collect(),
        )
    }

    /// Every version of every service as a listing (no endpoints, no nodes: see
    /// [`Service::listing`]), sorted by name then version.
    pub(super) fn list(&self) -> Vec<Service> {
        self.services
            .iter()
            .flat_map(|(name, versions)| {
                versions.iter().map(move |(version, record)| Service {
                    name: name.clone(),
                    version: version.clone(),
                    metadata: record.metadata.clone(),
                    ..Service::default()
                })
            })
            .collect()
    }

    /// Removes one node and its deadline; the delete event, if the node was there.
    fn remove(&mut self, key: &NodeKey) -> Option<Event> {
        let versions = self.services.get_mut(&key.name)?;
        let record = versions.get_mut(&key.version)?;
        let entry = record.nodes.remove(&key.id)?;
        if let Some(at) = entry.expires_at {
            self.deadlines.remove(&(at, key.clone()));
        }
        let gone = event(Action::Delete, record, &key.name, &key.version, &entry.node);
        if record.nodes.is_empty() {
            versions.remove(&key.version);
            if versions.is_empty() {
                self.services.remove(&key.name);
            }
        }
        Some(gone)
    }
}

/// The service as a registry answers it: the version's data and all its nodes.
fn service(name: &str, version: &str, record: &Record) -> Service {
    Service {
        name: name.to_owned(),
        version: version.to_owned(),
        metadata: record.metadata.clone(),
        endpoints: record.endpoints.clone(),
        nodes: record
            .nodes
            .values()
            .map(|entry| entry.node.clone())
            .collect(),
    }
}

/// An event about one node, carrying the version's data and that node only (go-micro's
/// convention, so that consumers can [`crate::util::merge`] or [`crate::util::remove`] it).
fn event(action: Action, record: &Record, name: &str, version: &str, node: &Node) -> Event {
    Event {
        id: node.id.clone(),
        action,
        timestamp_ms: crate::clock::unix_ms_now(),
        service: Service {
            name: name.to_owned(),
            version: version.to_owned(),
            metadata: record.metadata.clone(),
            endpoints: record.endpoints.clone(),
            nodes: vec![node.clone()],
        },
        lifetime: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn greeter(id: &str, address: &str) -> Service {
        Service {
            name: "greeter".into(),
            version: "1".into(),
            nodes: vec![Node {
                id: id.into(),
                address: address.into(),
                metadata: Metadata::new(),
            }],
            ..Service::default()
        }
    }

    fn actions(events: &[Event]) -> Vec<(Action, &str)> {
        events.iter().map(|e| (e.action, e.id.as_str())).collect()
    }

    #[test]
    fn create_refresh_update_delete() {
        let mut store = Store::default();
        let node = greeter("a", "10.0.0.1:1");
        assert_eq!(
            actions(&store.register(&node, None)),
            [(Action::Create, "a")]
        );
        assert!(store.register(&node, None).is_empty(), "refresh is silent");
        let moved = greeter("a", "10.0.0.2:1");
        assert_eq!(
            actions(&store.register(&moved, None)),
            [(Action::Update, "a")]
        );
        let mut new_endpoints = moved.clone();
        new_endpoints.endpoints = vec![Endpoint {
            name: "Greeter.Hello".into(),
            ..Endpoint::default()
        }];
        let events = store.register(&new_endpoints, None);
        assert_eq!(actions(&events), [(Action::Update, "a")]);
        assert_eq!(events[0].service, new_endpoints);
        assert_eq!(store.get("greeter"), Some(vec![new_endpoints.clone()]));
        assert_eq!(
            actions(&store.deregister(&new_endpoints)),
            [(Action::Delete, "a")]
        );
        assert!(store.deregister(&new_endpoints).is_empty());
        assert_eq!(store.get("greeter"), None);
        assert!(store.list().is_empty());
    }

    #[test]
    fn expiry_follows_the_latest_deadline() {
        let mut store = Store::default();
        let start = Instant::now();
        let node = greeter("a", "10.0.0.1:1");
        store.register(&node, Some(start + Duration::from_secs(10)));
        // A refresh moves the deadline; the old one must not fire.
        store.register(&node, Some(start + Duration::from_secs(20)));
        assert_eq!(store.next_deadline(), Some(start + Duration::from_secs(20)));
        assert!(store.expire(start + Duration::from_secs(15)).is_empty());
        assert_eq!(
            actions(&store.expire(start + Duration::from_secs(20))),
            [(Action::Delete, "a")]
        );
        assert_eq!(store.next_deadline(), None);
        assert!(store.list().is_empty());
    }

    #[test]
    fn registering_without_ttl_cancels_expiry() {
        let mut store = Store::default();
        let start = Instant::now();
        let node = greeter("a", "10.0.0.1:1");
        store.register(&node, Some(start + Duration::from_secs(1)));
        store.register(&node, None);
        assert_eq!(store.next_deadline(), None);
        assert!(store.expire(start + Duration::from_secs(5)).is_empty());
        assert_eq!(store.list().len(), 1);
    }

    #[test]
    fn deregistering_drops_the_deadline() {
        let mut store = Store::default();
        let node = greeter("a", "10.0.0.1:1");
        store.register(&node, Some(Instant::now() + Duration::from_secs(1)));
        store.deregister(&node);
        assert_eq!(store.next_deadline(), None);
    }

    #[test]
    fn versions_and_nodes_are_kept_apart() {
        let mut store = Store::default();
        store.register(&greeter("b", "10.0.0.2:1"), None);
        store.register(&greeter("a", "10.0.0.1:1"), None);
        let mut v2 = greeter("c", "10.0.0.3:1");
        v2.version = "2".into();
        store.register(&v2, None);
        let services = store.get("greeter").unwrap();
        assert_eq!(services.len(), 2);
        let ids: Vec<&str> = services[0].nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        store.deregister(&greeter("a", ""));
        assert_eq!(store.get("greeter").unwrap()[0].nodes.len(), 1);
    }
}
