//! The registrations this console made: kept until deregistered, across restarts.
//!
//! Like a go-micro service with `RegisterInterval`, the console re-registers each of its nodes
//! well before the TTL runs out (every third of it), so the TTL only matters when the console
//! dies: then its nodes expire everywhere after that long. Each change is written to the state
//! store, durably, before it is made here and before the action is acknowledged; it writes the
//! records of the nodes concerned, never the whole set.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use app::wire::RegisterRequest;
use muster_registry::{RegisterOptions, Service};

use super::view::Ttl;
use super::{single, Hub};
use crate::error::Error;
use crate::persist::StateStore;

/// Shortest time between two refreshes of one node.
const MIN_REFRESH: Duration = Duration::from_millis(200);

/// One owned node.
#[derive(Debug, Clone)]
struct OwnedNode {
    /// The service holding just this node, and its TTL.
    request: RegisterRequest,
    next_refresh: Instant,
}

/// An owned node's key: (service name, node id).
type Key = (String, String);

/// The owned nodes, by (service name, node id), when each is refreshed next, and where they
/// are saved.
#[derive(Debug)]
pub struct Owned {
    store: StateStore,
    nodes: BTreeMap<Key, OwnedNode>,
    /// Every node with a TTL by its next refresh, earliest first: a refresh costs the nodes
    /// due, not a walk of all of them (a console may own 10,000).
    refreshes: BTreeSet<(Instant, Key)>,
}

impl Owned {
    /// None yet; `store` is where they will be saved.
    pub fn new(store: StateStore) -> Self {
        Owned {
            store,
            nodes: BTreeMap::new(),
            refreshes: BTreeSet::new(),
        }
    }

    /// Takes ownership of every node of `request` once saved; on a failed save nothing changed.
    pub async fn add(&mut self, request: &RegisterRequest) -> Result<(), Error> {
        let per_node: Vec<RegisterRequest> = request
            .service
            .nodes
            .iter()
            .map(|node| RegisterRequest {
                service: single(&request.service, node),
                ttl: request.ttl,
            })
            .collect();
        let saved = per_node.clone();
        self.saving(move |store| store.put(&saved)).await?;
        for request in per_node {
            self.insert(request);
        }
        Ok(())
    }

    /// The owned node `node_id` of `name`, as a service holding only it.
    pub fn get(&self, name: &str, node_id: &str) -> Option<Service> {
        self.nodes
            .get(&(name.to_string(), node_id.to_string()))
            .map(|owned| owned.request.service.clone())
    }

    /// Gives up a node (after deregistering it) once saved.
    pub async fn remove(&mut self, name: &str, node_id: &str) -> Result<(), Error> {
        let key = (name.to_string(), node_id.to_string());
        let (service, node) = key.clone();
        self.saving(move |store| store.remove(&service, &node))
            .await?;
        if let Some(owned) = self.nodes.remove(&key) {
            self.refreshes.remove(&(owned.next_refresh, key));
        }
        Ok(())
    }

    /// Registers the saved nodes again at start and marks them owned. A node the registry
    /// refuses now stays saved (and is retried at the next refresh).
    pub async fn restore(&mut self, saved: Vec<RegisterRequest>, hub: &Hub) -> usize {
        let mut restored = 0;
        for request in saved {
            let ttl = request.ttl.map(Duration::from_secs);
            match hub
                .registry()
                .register(&request.service, RegisterOptions { ttl })
                .await
            {
                Ok(()) => {
                    restored += 1;
                    hub.commit(|view, now| {
                        view.upsert(&request.service, Some(true), Ttl::Set(ttl), now)
                    });
                }
                Err(error) => tracing::warn!(
                    "cannot re-register {} from the state file: {error}",
                    request.service.name
                ),
            }
            self.insert(request);
        }
        restored
    }

    /// The nodes due for a refresh at `now` (those with a TTL), with their TTL; their next
    /// refresh is scheduled.
    pub fn due(&mut self, now: Instant) -> Vec<(Service, Duration)> {
        let mut due = Vec::new();
        while let Some((at, _)) = self.refreshes.first() {
            if *at > now {
                break;
            }
            let Some((_, key)) = self.refreshes.pop_first() else {
                break;
            };
            let Some(owned) = self.nodes.get_mut(&key) else {
                continue;
            };
            let Some(ttl) = owned.request.ttl.map(Duration::from_secs) else {
                continue;
            };
            owned.next_refresh = now + (ttl / 3).max(MIN_REFRESH);
            self.refreshes.insert((owned.next_refresh, key));
            due.push((owned.request.service.clone(), ttl));
        }
        due
    }

    /// When the next refresh is due; `None` when no owned node has a TTL.
    pub fn next_refresh(&self) -> Option<Instant> {
        self.refreshes.first().map(|(at, _)| *at)
    }

    fn insert(&mut self, request: RegisterRequest) {
        let Some(node) = request.service.nodes.first() else {
            return;
        };
        let key = (request.service.name.clone(), node.id.clone());
        let interval = request.ttl.map_or(Duration::MAX, |ttl| {
            (Duration::from_secs(ttl) / 3).max(MIN_REFRESH)
        });
        let next_refresh = Instant::now()
            .checked_add(interval)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
        if let Some(replaced) = self.nodes.get(&key) {
            self.refreshes.remove(&(replaced.next_refresh, key.clone()));
        }
        if request.ttl.is_some() {
            self.refreshes.insert((next_refresh, key.clone()));
        }
        self.nodes.insert(
            key,
            OwnedNode {
                request,
                next_refresh,
            },
        );
    }

    /// Runs one write of the store off the async threads (it waits for the disk).
    async fn saving(
        &self,
        write: impl FnOnce(&StateStore) -> Result<(), String> + Send + 'static,
    ) -> Result<(), Error> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || write(&store))
            .await
            .map_err(|error| Error::Internal(error.to_string()))?
            .map_err(|error| {
                tracing::error!("{error}");
                Error::Internal(format!("the state store could not be written: {error}"))
            })
    }
}

#[cfg(test)]
mod tests {
    use muster_registry::Node;

    use super::*;

    fn request(name: &str, ttl: Option<u64>) -> RegisterRequest {
        RegisterRequest {
            service: Service {
                name: name.into(),
                version: "1".into(),
                nodes: vec![Node {
                    id: format!("{name}-1"),
                    address: "10.0.0.1:1".into(),
                    ..Node::default()
                }],
                ..Service::default()
            },
            ttl,
        }
    }

    #[tokio::test]
    async fn refreshes_come_due_in_order_and_only_for_nodes_with_a_ttl() {
        let dir = tempfile::tempdir().unwrap();
        let mut owned = Owned::new(StateStore::open(dir.path()).unwrap());
        let start = Instant::now();
        owned.add(&request("slow", Some(30))).await.unwrap();
        owned.add(&request("fast", Some(3))).await.unwrap();
        owned.add(&request("forever", None)).await.unwrap();
        let next = owned.next_refresh().expect("two nodes have a TTL");
        assert!(next >= start + Duration::from_secs(1) && next < start + Duration::from_secs(2));
        assert!(owned.due(start).is_empty());
        let due = owned.due(next);
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].0.name, "fast");
        assert_eq!(due[0].1, Duration::from_secs(3));
        // Rescheduled a third of its TTL later; the slow one is due after ten seconds.
        assert_eq!(owned.next_refresh(), Some(next + Duration::from_secs(1)));
        let names = |due: Vec<(Service, Duration)>| -> Vec<String> {
            due.into_iter().map(|(service, _)| service.name).collect()
        };
        assert_eq!(
            names(owned.due(start + Duration::from_secs(11))),
            ["fast", "slow"]
        );
        owned.remove("fast", "fast-1").await.unwrap();
        owned.remove("slow", "slow-1").await.unwrap();
        assert_eq!(owned.next_refresh(), None, "only the TTL-less node is left");
        // Registering a node again replaces its refresh, it does not add one.
        owned.add(&request("again", Some(3))).await.unwrap();
        owned.add(&request("again", Some(3))).await.unwrap();
        assert_eq!(owned.refreshes.len(), 1);
    }
}
