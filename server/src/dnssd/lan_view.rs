//! What the LAN page shows: every standard DNS-SD instance resolved, and whether browsing runs.
//!
//! Written by the browsing task alone ([`super::lan`]), read by `GET /api/lan` and the
//! `/api/lan/watch` websockets. Changes are broadcast while the lock is held, so a websocket
//! that subscribes under the same lock gets every change after its snapshot exactly once.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use app::wire::{LanMessage, LanService, LanSnapshot};
use tokio::sync::broadcast;

/// Changes buffered per websocket client before it counts as lagging (and gets a snapshot).
const BROADCAST_CAPACITY: usize = 256;

/// The LAN view, shared.
pub struct LanView {
    state: Mutex<State>,
    changes: broadcast::Sender<LanMessage>,
}

struct State {
    enabled: bool,
    reason: Option<String>,
    services: BTreeMap<String, LanService>,
}

impl LanView {
    /// An empty view, not browsing for `reason` (until [`LanView::set_enabled`]).
    pub fn new(reason: impl Into<String>) -> LanView {
        LanView {
            state: Mutex::new(State {
                enabled: false,
                reason: Some(reason.into()),
                services: BTreeMap::new(),
            }),
            changes: broadcast::channel(BROADCAST_CAPACITY).0,
        }
    }

    /// Browsing runs.
    pub fn set_enabled(&self) {
        let mut state = self.lock();
        state.enabled = true;
        state.reason = None;
        let _ = self.changes.send(LanMessage::Snapshot(snapshot(&state)));
    }

    /// Browsing stopped (or never started) because of `reason`; what was seen is dropped.
    pub fn set_disabled(&self, reason: impl Into<String>) {
        let mut state = self.lock();
        state.enabled = false;
        state.reason = Some(reason.into());
        state.services.clear();
        let _ = self.changes.send(LanMessage::Snapshot(snapshot(&state)));
    }

    /// Everything now, sorted by type then instance.
    pub fn snapshot(&self) -> LanSnapshot {
        snapshot(&self.lock())
    }

    /// A receiver of the changes after the snapshot returned with it.
    pub fn subscribe(&self) -> (broadcast::Receiver<LanMessage>, LanSnapshot) {
        let state = self.lock();
        (self.changes.subscribe(), snapshot(&state))
    }

    /// An instance resolved or changed; nothing is sent when it is unchanged but for
    /// `last_seen` (mdns-sd resolves again on every refresh).
    pub fn upsert(&self, service: LanService) {
        let mut state = self.lock();
        if let Some(known) = state.services.get(&service.fullname) {
            let refreshed = LanService {
                last_seen: service.last_seen,
                ..known.clone()
            };
            if refreshed == service {
                state.services.insert(service.fullname.clone(), service);
                return;
            }
        }
        state
            .services
            .insert(service.fullname.clone(), service.clone());
        let _ = self.changes.send(LanMessage::Upsert(service));
    }

    /// An instance said goodbye or expired.
    pub fn remove(&self, fullname: &str) {
        let mut state = self.lock();
        if state.services.remove(fullname).is_some() {
            let _ = self.changes.send(LanMessage::Remove {
                fullname: fullname.to_string(),
            });
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn snapshot(state: &State) -> LanSnapshot {
    let mut services: Vec<LanService> = state.services.values().cloned().collect();
    services.sort_by(|a, b| {
        (&a.service_type, &a.instance, &a.fullname).cmp(&(
            &b.service_type,
            &b.instance,
            &b.fullname,
        ))
    });
    LanSnapshot {
        enabled: state.enabled,
        reason: state.reason.clone(),
        services,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(fullname: &str, ty: &str, instance: &str) -> LanService {
        LanService {
            fullname: fullname.into(),
            service_type: ty.into(),
            instance: instance.into(),
            host: "h.local.".into(),
            port: 80,
            addresses: vec!["10.0.0.1".into()],
            txt: vec![],
            last_seen: 1,
        }
    }

    #[test]
    fn snapshot_sorted_and_changes_broadcast_once() {
        let view = LanView::new("starting");
        assert!(!view.snapshot().enabled);
        view.set_enabled();
        let (mut changes, first) = view.subscribe();
        assert!(first.enabled && first.services.is_empty());
        view.upsert(service("b._ipp._tcp.local.", "_ipp._tcp.local.", "b"));
        view.upsert(service("z._http._tcp.local.", "_http._tcp.local.", "z"));
        view.upsert(service("a._http._tcp.local.", "_http._tcp.local.", "a"));
        // Only last_seen changed: kept quietly.
        view.upsert(LanService {
            last_seen: 2,
            ..service("a._http._tcp.local.", "_http._tcp.local.", "a")
        });
        view.remove("b._ipp._tcp.local.");
        view.remove("never-seen._ipp._tcp.local.");
        let names: Vec<String> = view
            .snapshot()
            .services
            .into_iter()
            .map(|s| s.fullname)
            .collect();
        assert_eq!(names, ["a._http._tcp.local.", "z._http._tcp.local."]);
        let mut kinds = Vec::new();
        while let Ok(message) = changes.try_recv() {
            kinds.push(match message {
                LanMessage::Upsert(s) => format!("+{}", s.instance),
                LanMessage::Remove { fullname } => format!("-{fullname}"),
                other => format!("{other:?}"),
            });
        }
        assert_eq!(kinds, ["+b", "+z", "+a", "-b._ipp._tcp.local."]);
        view.set_disabled("gone");
        let snapshot = view.snapshot();
        assert_eq!(snapshot.reason.as_deref(), Some("gone"));
        assert!(snapshot.services.is_empty());
    }
}
