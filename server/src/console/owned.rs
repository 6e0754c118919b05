//! The registrations this console made: kept until deregistered, across restarts.
//!
//! Like a go-micro service with `RegisterInterval`, the console re-registers each of its nodes
//! well before the TTL runs out (every third of it), so the TTL only matters when the console
//! dies: then its nodes expire everywhere after that long. Each change is written to the state
//! store, durably, before it is made here and before the action is acknowledged; it writes the
//! records of the nodes concerned, never the whole set.

use std::collections::BTreeMap;
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

/// The owned nodes, by (service name, node id), and where they are saved.
#[derive(Debug)]
pub struct Owned {
    store: StateStore,
    nodes: BTreeMap<(String, String), OwnedNode>,
}

impl Owned {
    /// None yet; `store` is where they will be saved.
    pub fn new(store: StateStore) -> Self {
        Owned {
            store,
            nodes: BTreeMap::new(),
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
        self.nodes.remove(&key);
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
        self.nodes
            .values_mut()
            .filter_map(|owned| {
                let ttl = Duration::from_secs(owned.request.ttl?);
                if owned.next_refresh > now {
                    return None;
                }
                owned.next_refresh = now + (ttl / 3).max(MIN_REFRESH);
                Some((owned.request.service.clone(), ttl))
            })
            .collect()
    }

    fn insert(&mut self, request: RegisterRequest) {
        let Some(node) = request.service.nodes.first() else {
            return;
        };
        let interval = request.ttl.map_or(Duration::MAX, |ttl| {
            (Duration::from_secs(ttl) / 3).max(MIN_REFRESH)
        });
        let next_refresh = Instant::now()
            .checked_add(interval)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(365 * 24 * 3600));
        self.nodes.insert(
            (request.service.name.clone(), node.id.clone()),
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
