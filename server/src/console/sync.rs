//! Following the registry: its watcher's events become console events; when the watcher
//! lagged (events were lost), the whole registry is read again and diffed against the view.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use app::wire::{ConsoleEvent, UnixMillis};
use muster_registry::{Action, Error, QueryOptions, Registry, Service, Watcher};

use super::view::{Ttl, View};
use super::Hub;

/// Pause before watching again after the watcher failed.
const RETRY: Duration = Duration::from_secs(1);

/// Applies the watcher's events until shutdown; re-watches (and resyncs) if it fails.
pub async fn follow(hub: Arc<Hub>, mut watcher: Box<dyn Watcher>) {
    let mut shutdown = hub.shutdown_signal();
    loop {
        let next = tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => return,
            next = watcher.next() => next,
        };
        match next {
            Ok(event) => hub.commit(|view, now| match event.action {
                Action::Create | Action::Update => {
                    let ttl = if event.lifetime.is_unknown() {
                        Ttl::Keep
                    } else {
                        Ttl::Lease(event.lifetime)
                    };
                    view.upsert(&event.service, None, ttl, now)
                }
                Action::Delete => event
                    .service
                    .nodes
                    .iter()
                    .flat_map(|node| {
                        let (name, version) = (&event.service.name, &event.service.version);
                        view.depart(name, version, &node.id, event.lifetime.departure, now)
                    })
                    .collect(),
            }),
            Err(Error::Lagged { missed }) => {
                tracing::warn!("registry watcher lagged ({missed} events lost): resyncing");
                hub.resync().await;
            }
            Err(error) => {
                if *shutdown.borrow() {
                    return;
                }
                tracing::warn!("registry watcher failed ({error}); watching again");
                tokio::time::sleep(RETRY).await;
                match hub.registry().watch(Default::default()).await {
                    Ok(fresh) => {
                        watcher = fresh;
                        hub.resync().await;
                    }
                    Err(error) => tracing::warn!("cannot watch the registry: {error}"),
                }
            }
        }
    }
}

/// Every service version with its nodes: the list, then each name in full (go-micro's
/// `ListServices` may leave nodes out).
pub async fn read_all(registry: &dyn Registry) -> Result<Vec<Service>, Error> {
    let listed = registry.list_services(QueryOptions::default()).await?;
    let mut names: Vec<String> = listed.into_iter().map(|service| service.name).collect();
    names.sort();
    names.dedup();
    let mut services = Vec::new();
    for name in names {
        match registry.get_service(&name, QueryOptions::default()).await {
            Ok(versions) => services.extend(versions),
            Err(Error::NotFound) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(services)
}

/// Events that bring `view` to what the registry holds: nodes in `services` are created or
/// updated, live nodes of the view missing from it depart.
pub fn diff(view: &mut View, services: &[Service], now: UnixMillis) -> Vec<ConsoleEvent> {
    let mut events = Vec::new();
    let mut present = HashSet::new();
    for service in services {
        for node in &service.nodes {
            present.insert((
                service.name.clone(),
                service.version.clone(),
                node.id.clone(),
            ));
        }
        events.extend(view.upsert(service, None, Ttl::Keep, now));
    }
    for node in view.live_nodes() {
        if !present.contains(&(
            node.service.clone(),
            node.version.clone(),
            node.node_id.clone(),
        )) {
            events.extend(view.depart(&node.service, &node.version, &node.node_id, None, now));
        }
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use muster_registry::Node;

    #[test]
    fn diff_creates_and_departs() {
        let service = |ids: &[&str]| Service {
            name: "greeter".into(),
            version: "1".into(),
            nodes: ids
                .iter()
                .map(|id| Node {
                    id: id.to_string(),
                    address: "10.0.0.1:1".into(),
                    ..Node::default()
                })
                .collect(),
            ..Service::default()
        };
        let mut view = View::new(0);
        let events = diff(&mut view, &[service(&["a", "b"])], 0);
        assert_eq!(events.len(), 2);
        let events = diff(&mut view, &[service(&["b"])], 1);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, Action::Delete);
        assert!(diff(&mut view, &[service(&["b"])], 2).is_empty());
    }
}
