//! The view's bookkeeping of an action in flight, as guards that undo themselves.
//!
//! While the console registers a node, the registry's create event may reach the view before
//! the registration call returns: a [`Claim`] makes that event show the node as owned at once.
//! While it removes a node (deregister, evict), the registry's delete event does not say who
//! removed it: an [`Intent`] makes it a tombstone in the state the console meant. Each guard is
//! taken under the view lock that checked the action may go ahead (no window between check and
//! claim), is settled with the action's events under one lock, and is undone when dropped
//! unsettled: whatever way the action fails, nothing is left behind.

use app::wire::{ConsoleEvent, UnixMillis};
use muster_registry::Service;

use super::view::{Removal, View};
use super::Hub;

/// The nodes of a service being registered by this console.
pub struct Claim<'a> {
    hub: &'a Hub,
    service: &'a Service,
    settled: bool,
}

impl<'a> Claim<'a> {
    /// Claims the nodes of `service`, under the view lock held by the caller.
    pub fn take(hub: &'a Hub, view: &mut View, service: &'a Service) -> Self {
        view.claim(service);
        Claim {
            hub,
            service,
            settled: false,
        }
    }

    /// Applies `change` and ends the claim, under one view lock.
    pub fn settle(mut self, change: impl FnOnce(&mut View, UnixMillis) -> Vec<ConsoleEvent>) {
        let service = self.service;
        self.hub.commit(|view, now| {
            let events = change(view, now);
            view.unclaim(service);
            events
        });
        self.settled = true;
    }
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.hub.lock_view().unclaim(self.service);
        }
    }
}

/// A node this console is removing, and the state its departure means.
pub struct Intent<'a> {
    hub: &'a Hub,
    name: &'a str,
    node_id: &'a str,
    removal: Removal,
    settled: bool,
}

impl<'a> Intent<'a> {
    /// Records the intent, under the view lock held by the caller.
    pub fn take(
        hub: &'a Hub,
        view: &mut View,
        name: &'a str,
        node_id: &'a str,
        removal: Removal,
    ) -> Self {
        view.intend(name, node_id, removal.clone());
        Intent {
            hub,
            name,
            node_id,
            removal,
            settled: false,
        }
    }

    /// The node left: it becomes a tombstone of `version` in the intended state (unless the
    /// registry's delete event already made it one), and the intent ends, under one view lock.
    /// Only while the node is still `owned` as it was when the action was checked: a node
    /// that left by itself and was registered again meanwhile is not the one removed.
    pub fn depart(mut self, version: &str, owned: bool) {
        let (name, node_id, removal) = (self.name, self.node_id, self.removal.clone());
        self.hub.commit(|view, now| {
            let same = view
                .find(name, node_id)
                .iter()
                .all(|found| found.owned == owned);
            let events = if same {
                view.intend(name, node_id, removal);
                view.depart(name, version, node_id, None, now)
            } else {
                Vec::new()
            };
            view.forget_intent(name, node_id);
            events
        });
        self.settled = true;
    }
}

impl Drop for Intent<'_> {
    fn drop(&mut self) {
        if !self.settled {
            self.hub.lock_view().forget_intent(self.name, self.node_id);
        }
    }
}
