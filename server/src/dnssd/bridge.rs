//! The bridge: every live registry node mirrored as a standard DNS-SD instance under
//! `_micro._tcp.local.`, so avahi-browse and Bonjour browsers see go-micro services too.
//!
//! It follows the console's view (snapshot, then numbered events; a fresh snapshot after a
//! lag), whatever the backend (go-micro mDNS, etcd, memory). A node that is alive or stale is
//! mirrored; a tombstone is not. The mirror's SRV points at `ip-<address>-<tag>.local.`, whose
//! A/AAAA record is the node's IP, on the node's port (a host name per mirror: mdns-sd's goodbye
//! for one mirror withdraws its host's address record too, which would take the address away
//! from every other mirror sharing the host name, in every peer's cache); its TXT is [`super::txt::node_txt`]. A node
//! whose address is not an IP literal cannot be mirrored (DNS-SD needs an address record) and
//! is skipped. mdns-sd announces an address only on an interface whose subnet holds it, so a
//! node on another network is mirrored nowhere: that is mdns-sd's rule, and a sane one.
//!
//! Changes become mdns-sd commands: `register` (again, for an update: mdns-sd re-announces)
//! and `unregister` (a goodbye). At stop, every mirror says goodbye.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use app::wire::{NodeView, ServiceView, WatchMessage};
use mdns_sd::{ServiceDaemon, ServiceInfo};
use tokio::sync::watch;

use super::instance_name::InstanceNames;
use super::retry;
use super::txt::node_txt;
use crate::console::follow::{Followed, Follower};
use crate::console::Hub;

/// The DNS-SD type of the mirrors (`micro` is not in IANA's registry; nothing else uses it).
pub const MICRO_TYPE: &str = "_micro._tcp.local.";

/// How long stop waits for mdns-sd to confirm each goodbye.
const GOODBYE_CONFIRM: Duration = Duration::from_millis(500);

/// A mirrored node: service, version, node id.
type Key = (String, String, String);

/// What a mirror publishes; a change means announcing again.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Published {
    fullname: String,
    address: SocketAddr,
    txt: Vec<(String, String)>,
}

/// What to tell mdns-sd.
#[derive(Debug)]
pub enum Action {
    /// Announce (or announce again, changed).
    Register(Box<ServiceInfo>),
    /// Say goodbye for this fullname.
    Unregister(String),
}

/// The mirrors, as plain data: turns the console's view into actions.
#[derive(Default)]
pub struct Mirrors {
    names: InstanceNames<Key>,
    published: BTreeMap<Key, Published>,
}

impl Mirrors {
    /// Makes the mirrors match `services` (a whole snapshot): linear in the snapshot, with a
    /// set of the nodes seen (a 10,000-node snapshot is one pass, not one per mirror).
    pub fn sync(&mut self, services: &[ServiceView]) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut seen = BTreeSet::new();
        for service in services {
            for node in &service.nodes {
                seen.insert(key(service, node));
                actions.extend(self.node(service, node));
            }
        }
        let gone: Vec<Key> = self
            .published
            .keys()
            .filter(|key| !seen.contains(key))
            .cloned()
            .collect();
        actions.extend(gone.iter().filter_map(|key| self.remove(key)));
        actions
    }

    /// Applies what the console now knows of `node` of `service`.
    pub fn node(&mut self, service: &ServiceView, node: &NodeView) -> Option<Action> {
        let key = key(service, node);
        let address = match mirror_address(node) {
            Some(address) if !node.state.is_tombstone() => address,
            _ => return self.remove(&key),
        };
        let txt = node_txt(
            &service.name,
            &service.version,
            &node.node.id,
            &node.node.metadata,
        );
        let label = self.names.claim(&key, &node.node.id);
        let info = match ServiceInfo::new(
            MICRO_TYPE,
            &label,
            &mirror_host_name(&label, address.ip()),
            address.ip(),
            address.port(),
            &txt[..],
        ) {
            Ok(info) => info,
            Err(error) => {
                tracing::debug!("dnssd: cannot mirror node {}: {error}", node.node.id);
                return self.remove(&key);
            }
        };
        let published = Published {
            fullname: info.get_fullname().to_string(),
            address,
            txt,
        };
        if self.published.get(&key) == Some(&published) {
            return None;
        }
        self.published.insert(key, published);
        Some(Action::Register(Box::new(info)))
    }

    /// Every mirror's fullname, for the goodbyes at stop; the mirrors are forgotten.
    pub fn drain(&mut self) -> Vec<String> {
        let keys: Vec<Key> = self.published.keys().cloned().collect();
        keys.iter()
            .filter_map(|key| match self.remove(key) {
                Some(Action::Unregister(fullname)) => Some(fullname),
                _ => None,
            })
            .collect()
    }

    fn remove(&mut self, key: &Key) -> Option<Action> {
        self.names.release(key);
        self.published
            .remove(key)
            .map(|published| Action::Unregister(published.fullname))
    }
}

fn key(service: &ServiceView, node: &NodeView) -> Key {
    (
        service.name.clone(),
        service.version.clone(),
        node.node.id.clone(),
    )
}

/// The node's address when it can be published: an IP literal with a port, not `0.0.0.0`.
fn mirror_address(node: &NodeView) -> Option<SocketAddr> {
    let address: SocketAddr = node.node.address.parse().ok()?;
    (!address.ip().is_unspecified() && address.port() != 0).then_some(address)
}

/// `ip-10-78-0-2-1a2b3c4d.local.`: the mirror's own host name, its address and a tag of its
/// instance label (FNV-1a: the same across restarts, so peers' caches stay right). Not one
/// name per address: a goodbye for one mirror withdraws its host name's address record, and
/// every other mirror on a shared name would lose its address with it.
pub fn mirror_host_name(label: &str, ip: IpAddr) -> String {
    let address: String = ip
        .to_string()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let tag = label.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    format!("ip-{address}-{tag:08x}.local.")
}

/// Follows the console until `stop` turns true, then says goodbye for every mirror.
pub async fn run(daemon: ServiceDaemon, hub: Arc<Hub>, mut stop: watch::Receiver<bool>) {
    let mut mirrors = Mirrors::default();
    let (mut follower, first) = Follower::subscribe(hub);
    apply_snapshot(&daemon, &mut mirrors, first).await;
    loop {
        tokio::select! {
            () = crate::console::until_stopping(&mut stop) => break,
            followed = follower.next() => match followed {
                Followed::Event(frame) => {
                    for node in &frame.event.service.nodes {
                        if let Some(action) = mirrors.node(&frame.event.service, node) {
                            execute(&daemon, action).await;
                        }
                    }
                }
                Followed::Lagged => {
                    let first = follower.resubscribe();
                    apply_snapshot(&daemon, &mut mirrors, first).await;
                }
                Followed::Closed => break,
            },
        }
    }
    let mut confirmations = Vec::new();
    for fullname in mirrors.drain() {
        if let Some(confirmation) = retry(|| daemon.unregister(&fullname)).await {
            confirmations.push(confirmation);
        }
    }
    for confirmation in confirmations {
        let _ = tokio::time::timeout(GOODBYE_CONFIRM, confirmation.recv_async()).await;
    }
}

async fn apply_snapshot(daemon: &ServiceDaemon, mirrors: &mut Mirrors, first: Vec<WatchMessage>) {
    for message in first {
        if let WatchMessage::Snapshot { services, .. } = message {
            for action in mirrors.sync(&services) {
                execute(daemon, action).await;
            }
        }
    }
}

async fn execute(daemon: &ServiceDaemon, action: Action) {
    match action {
        Action::Register(info) => {
            let info = *info;
            retry(|| daemon.register(info.clone())).await;
        }
        Action::Unregister(fullname) => {
            retry(|| daemon.unregister(&fullname)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_mirror_has_its_own_host_name_stable_across_runs() {
        let ip: IpAddr = "10.78.0.3".parse().unwrap();
        let one = mirror_host_name("greeter-1", ip);
        assert_eq!(one, "ip-10-78-0-3-a006cd73.local.");
        assert_ne!(one, mirror_host_name("greeter-2", ip));
        let longest = mirror_host_name(
            "x",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff".parse().unwrap(),
        );
        assert!(longest.trim_end_matches(".local.").len() <= 63, "{longest}");
    }
    use app::wire::NodeState;
    use muster_registry::Node;

    fn view(name: &str, version: &str, nodes: Vec<NodeView>) -> ServiceView {
        ServiceView {
            name: name.into(),
            version: version.into(),
            nodes,
            ..Default::default()
        }
    }

    fn node(id: &str, address: &str, state: NodeState) -> NodeView {
        NodeView {
            node: Node {
                id: id.into(),
                address: address.into(),
                metadata: [("team".to_string(), "core".to_string())].into(),
            },
            first_seen: 0,
            last_seen: 0,
            expires_at: None,
            state,
            owned: false,
            health: None,
        }
    }

    fn registered(action: Option<Action>) -> ServiceInfo {
        match action {
            Some(Action::Register(info)) => *info,
            other => panic!("expected a register, got {other:?}"),
        }
    }

    #[test]
    fn create_update_delete() {
        let mut mirrors = Mirrors::default();
        let service = view("go.micro.srv.greeter", "1.0", vec![]);
        let alive = node("greeter-1", "10.78.0.3:8080", NodeState::Alive);
        let info = registered(mirrors.node(&service, &alive));
        assert_eq!(info.get_fullname(), "greeter-1._micro._tcp.local.");
        assert_eq!(
            info.get_hostname(),
            mirror_host_name("greeter-1", "10.78.0.3".parse().unwrap())
        );
        assert!(info.get_hostname().starts_with("ip-10-78-0-3-"));
        assert_eq!(info.get_port(), 8080);
        assert_eq!(
            info.get_property_val_str("service"),
            Some("go.micro.srv.greeter")
        );
        assert_eq!(info.get_property_val_str("version"), Some("1.0"));
        assert_eq!(info.get_property_val_str("node"), Some("greeter-1"));
        assert_eq!(info.get_property_val_str("team"), Some("core"));
        // Unchanged (stale is still registered): nothing to announce.
        assert!(mirrors
            .node(
                &service,
                &node("greeter-1", "10.78.0.3:8080", NodeState::Stale)
            )
            .is_none());
        // Metadata changed: announce again under the same name.
        let mut changed = alive.clone();
        changed.node.metadata.insert("zone".into(), "b".into());
        let info = registered(mirrors.node(&service, &changed));
        assert_eq!(info.get_fullname(), "greeter-1._micro._tcp.local.");
        assert_eq!(info.get_property_val_str("zone"), Some("b"));
        // A tombstone: goodbye.
        let gone = node("greeter-1", "10.78.0.3:8080", NodeState::Deregistered);
        assert!(matches!(
            mirrors.node(&service, &gone),
            Some(Action::Unregister(name)) if name == "greeter-1._micro._tcp.local."
        ));
        assert!(mirrors.node(&service, &gone).is_none());
    }

    #[test]
    fn unpublishable_addresses_are_skipped() {
        let mut mirrors = Mirrors::default();
        let service = view("s", "1", vec![]);
        for address in [
            "greeter:8080",
            "0.0.0.0:80",
            "10.0.0.1",
            "10.0.0.1:0",
            "",
            ":80",
        ] {
            assert!(
                mirrors
                    .node(&service, &node("n", address, NodeState::Alive))
                    .is_none(),
                "{address}"
            );
        }
        let info = registered(mirrors.node(&service, &node("n", "[fe80::1]:80", NodeState::Alive)));
        assert!(info.get_hostname().starts_with("ip-fe80--1-"));
        // The address became a name: the mirror says goodbye.
        assert!(matches!(
            mirrors.node(&service, &node("n", "host:80", NodeState::Alive)),
            Some(Action::Unregister(_))
        ));
    }

    #[test]
    fn colliding_ids_get_distinct_names_and_sync_removes_the_missing() {
        let mut mirrors = Mirrors::default();
        let long = "x".repeat(80);
        let snapshot = vec![
            view("a", "1", vec![node(&long, "10.0.0.1:1", NodeState::Alive)]),
            view("b", "1", vec![node(&long, "10.0.0.1:2", NodeState::Alive)]),
            view("c", "1", vec![node("dup", "10.0.0.1:3", NodeState::Alive)]),
            view("d", "1", vec![node("DUP", "10.0.0.1:4", NodeState::Alive)]),
        ];
        let names: Vec<String> = mirrors
            .sync(&snapshot)
            .into_iter()
            .map(|action| registered(Some(action)).get_fullname().to_string())
            .collect();
        assert_eq!(
            names,
            [
                format!("{}._micro._tcp.local.", "x".repeat(63)),
                format!("{} (2)._micro._tcp.local.", "x".repeat(59)),
                "dup._micro._tcp.local.".to_string(),
                "DUP (2)._micro._tcp.local.".to_string(),
            ]
        );
        let actions = mirrors.sync(&snapshot[2..3]);
        assert_eq!(actions.len(), 3);
        assert!(actions.iter().all(|a| matches!(a, Action::Unregister(_))));
        assert_eq!(mirrors.drain(), ["dup._micro._tcp.local."]);
        assert!(mirrors.drain().is_empty());
    }

    #[test]
    fn dotted_ids_are_escaped_in_the_fullname() {
        let mut mirrors = Mirrors::default();
        let service = view("go.micro.srv.greeter", "1", vec![]);
        let info = registered(mirrors.node(
            &service,
            &node("go.micro.srv.greeter-1", "10.0.0.1:1", NodeState::Alive),
        ));
        assert_eq!(
            info.get_fullname(),
            r"go\.micro\.srv\.greeter-1._micro._tcp.local."
        );
    }
}
