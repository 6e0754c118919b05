//! Which events a list shows: the events page's filter, the service page's history, and the
//! server's `GET /api/events` (its NDJSON export) read the same query, so an export holds
//! exactly what the page listed.

use muster_registry::Action;

use crate::pages::url::urlencode;
use crate::wire::ConsoleEvent;

/// The filter, as the URL query holds it: `q` (a part of the service name, node id or
/// address, any case), `action` (`create`, `update`, `delete`), `service` (one exact name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Text to find in the service name, node id or address.
    pub text: String,
    /// Only this action.
    pub action: Option<Action>,
    /// Only this service.
    pub service: Option<String>,
}

impl EventFilter {
    /// The filter of a URL query, read with `get` (decoded values); unknown actions match all.
    pub fn from_params(get: impl Fn(&str) -> Option<String>) -> Self {
        let action = match get("action").as_deref() {
            Some("create") => Some(Action::Create),
            Some("update") => Some(Action::Update),
            Some("delete") => Some(Action::Delete),
            _ => None,
        };
        EventFilter {
            text: get("q").unwrap_or_default(),
            action,
            service: get("service").filter(|name| !name.is_empty()),
        }
    }

    /// Whether `event` passes.
    pub fn matches(&self, event: &ConsoleEvent) -> bool {
        if self.action.is_some_and(|action| action != event.action) {
            return false;
        }
        if self
            .service
            .as_ref()
            .is_some_and(|name| *name != event.service.name)
        {
            return false;
        }
        let needle = self.text.trim().to_lowercase();
        if needle.is_empty() {
            return true;
        }
        let has = |text: &str| text.to_lowercase().contains(&needle);
        has(&event.service.name)
            || event
                .service
                .nodes
                .iter()
                .any(|node| has(&node.node.id) || has(&node.node.address))
    }

    /// The filter as a URL query (`q=…&action=…&service=…`), empty parts left out.
    pub fn query(&self) -> String {
        let mut pairs = Vec::new();
        if !self.text.is_empty() {
            pairs.push(format!("q={}", urlencode(&self.text)));
        }
        if let Some(action) = self.action {
            pairs.push(format!("action={action}"));
        }
        if let Some(service) = &self.service {
            pairs.push(format!("service={}", urlencode(service)));
        }
        pairs.join("&")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{NodeState, NodeView, ServiceView};
    use muster_registry::Node;

    fn event(name: &str, id: &str, address: &str, action: Action) -> ConsoleEvent {
        ConsoleEvent {
            seq: 1,
            timestamp: 0,
            action,
            service: ServiceView {
                name: name.into(),
                nodes: vec![NodeView {
                    node: Node {
                        id: id.into(),
                        address: address.into(),
                        ..Node::default()
                    },
                    first_seen: 0,
                    last_seen: 0,
                    expires_at: None,
                    state: NodeState::Alive,
                    owned: false,
                    health: None,
                }],
                ..ServiceView::default()
            },
            purged: false,
            reason: None,
            actor: None,
        }
    }

    #[test]
    fn text_action_and_service_all_hold() {
        let params = |pairs: &'static [(&'static str, &'static str)]| {
            EventFilter::from_params(move |key| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, v)| v.to_string())
            })
        };
        let order = event(
            "go.micro.srv.order",
            "order-1",
            "10.0.0.9:8080",
            Action::Delete,
        );
        assert!(params(&[("q", "ORDER")]).matches(&order));
        assert!(params(&[("q", "10.0.0.9")]).matches(&order));
        assert!(!params(&[("q", "user")]).matches(&order));
        assert!(!params(&[("action", "create")]).matches(&order));
        assert!(params(&[("service", "go.micro.srv.order")]).matches(&order));
        assert!(
            !params(&[("service", "go.micro.srv")]).matches(&order),
            "exact"
        );
        let filter = params(&[("q", "a b"), ("action", "delete")]);
        assert_eq!(filter.query(), "q=a%20b&action=delete");
    }
}
