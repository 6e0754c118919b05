//! What the websockets are sent, held once however many clients watch: the snapshot frame
//! shared by every client that needs the same revision, and the accounting of event frames
//! not every client has read yet.
//!
//! Before this, every `/api/watch` client serialized its own copy of the whole view: after a
//! flood of fat nodes, 20 viewers took the console from 217 MiB to 5 GiB.

use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::wire::{ConsoleEvent, UnixMillis, WatchMessage};
use axum::body::Bytes;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use serde::Serialize;

use super::budget;
use super::shared::SharedVersion;

/// A little over what one service view takes as JSON, from what it holds in memory
/// ([`budget::service_view`]): go-micro nodes take about a third as much as JSON as in
/// memory (allocation rounding, map slots). An under-estimate costs one growth of the buffer.
fn json_estimate(view_bytes: usize) -> usize {
    view_bytes * 2 / 5
}

/// [`WatchMessage::Snapshot`] of shared versions: the same JSON.
#[derive(Serialize)]
#[serde(tag = "type", rename = "snapshot")]
struct SnapshotMessage<'a> {
    seq: u64,
    services: &'a [SharedVersion],
    recent: &'a [ConsoleEvent],
}

/// A snapshot as sent: `WatchMessage::Snapshot` serialized once for one revision. The hub
/// keeps the latest while any watcher is connected, and drops it when the last one leaves.
#[derive(Debug)]
pub struct SnapshotFrame {
    /// The revision (sequence number) it shows.
    pub seq: u64,
    /// Service versions in it (for the `Loading` message before it).
    pub services: u64,
    /// The JSON text, shared by every client sending it.
    pub text: Bytes,
    /// The same text zlib-deflated (what browsers' `DecompressionStream("deflate")` inflates),
    /// for clients that ask `encoding=deflate`: JSON of many similar nodes shrinks about
    /// tenfold, and so does every client's send buffer while it goes out.
    pub deflated: Bytes,
}

impl SnapshotFrame {
    /// Serializes the snapshot of revision `seq`.
    ///
    /// Both buffers are sized up front and trimmed to their length before they are shared:
    /// grown by doubling, the text's buffer held the old and the new copy at once during each
    /// growth (three 8 MB reservations per snapshot of 10,000 nodes in a heap profile), and the
    /// spare capacity of the last one stayed with the frame for as long as it was kept.
    pub fn new(seq: u64, services: Vec<SharedVersion>, recent: Vec<ConsoleEvent>) -> Self {
        let count = services.len() as u64;
        let estimate = services
            .iter()
            .map(|version| json_estimate(version.view_bytes()))
            .sum::<usize>()
            + recent
                .iter()
                .map(|event| json_estimate(budget::service_view(&event.service)))
                .sum::<usize>();
        let message = SnapshotMessage {
            seq,
            services: &services,
            recent: &recent,
        };
        let mut text = Vec::with_capacity(estimate);
        serde_json::to_writer(&mut text, &message).expect("a snapshot is plain data");
        // The nodes go back to the view alone before the deflating (a change meanwhile
        // would copy them).
        drop((services, recent));
        text.shrink_to_fit();
        // The fastest level: most of the gain for a fraction of the time of the default.
        let mut encoder = ZlibEncoder::new(Vec::with_capacity(text.len() / 6), Compression::fast());
        encoder.write_all(&text).expect("deflating into memory");
        let mut deflated = encoder.finish().expect("deflating into memory");
        deflated.shrink_to_fit();
        SnapshotFrame {
            seq,
            services: count,
            text: Bytes::from(text),
            deflated: Bytes::from(deflated),
        }
    }

    /// Bytes the frame holds (both forms).
    pub fn bytes(&self) -> usize {
        self.text.len() + self.deflated.len()
    }

    /// The message announcing it (with the size of the frame as sent), sent just before it.
    pub fn loading(&self, deflated: bool) -> WatchMessage {
        let bytes = if deflated {
            self.deflated.len()
        } else {
            self.text.len()
        };
        WatchMessage::Loading {
            services: self.services,
            bytes: bytes as u64,
        }
    }
}

/// How long the latest snapshot frame is kept after it was last sent. It is there for a
/// storm of watchers asking at once (pages reopening after a restart, watchers resynced in a
/// churn: within milliseconds of each other); kept for as long as any watcher stayed, the
/// last one of a churn (8 MB for 10,000 nodes) outlived the churn by hours.
pub const SNAPSHOT_KEEP: Duration = Duration::from_secs(5);

/// The latest snapshot frame sent, kept for the next watchers of (nearly) the same revision
/// until [`SNAPSHOT_KEEP`] passes without one, or the last watcher leaves.
#[derive(Debug, Default)]
pub struct LatestSnapshot {
    frame: tokio::sync::Mutex<Option<Arc<SnapshotFrame>>>,
    /// When it was last sent (wall-clock ms); 0 while none is held.
    used_ms: AtomicU64,
    /// Bytes it holds; 0 while none is held.
    bytes: AtomicUsize,
}

impl LatestSnapshot {
    /// The frame, locked: whoever builds a new one holds this meanwhile, so that the
    /// watchers asking at the same time wait for it rather than build their own.
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, Option<Arc<SnapshotFrame>>> {
        self.frame.lock().await
    }

    /// `frame` (the one held) was sent at `now`: it is kept until `now` + [`SNAPSHOT_KEEP`].
    /// Call with the lock held.
    pub fn used(&self, frame: &SnapshotFrame, now: UnixMillis) {
        self.bytes.store(frame.bytes(), Ordering::Relaxed);
        self.used_ms.store(now.max(1), Ordering::Relaxed);
    }

    /// When the frame held is dropped unless sent again; `None` while none is held.
    pub fn expires_at(&self) -> Option<UnixMillis> {
        let used = self.used_ms.load(Ordering::Relaxed);
        (used != 0).then(|| used + SNAPSHOT_KEEP.as_millis() as u64)
    }

    /// Drops the frame if it went unsent for [`SNAPSHOT_KEEP`] at `now` (or at once with
    /// `force`: the last watcher left). Skipped while someone holds the lock: that one is
    /// about to send it or replace it.
    pub fn expire(&self, now: UnixMillis, force: bool) {
        let Ok(mut frame) = self.frame.try_lock() else {
            return;
        };
        if force || self.expires_at().is_some_and(|at| at <= now) {
            *frame = None;
            self.used_ms.store(0, Ordering::Relaxed);
            self.bytes.store(0, Ordering::Relaxed);
        }
    }

    /// Bytes the frame held now takes (0: none).
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }
}

/// Bytes held by event frames in flight, shared by the hub and every frame.
#[derive(Debug, Default)]
pub struct InFlight(AtomicUsize);

impl InFlight {
    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

/// One frame's share of [`InFlight`]: counted while any clone of the frame exists (the
/// broadcast channel drops its copy once every receiver read it).
#[derive(Debug)]
pub struct Held {
    bytes: usize,
    total: Arc<InFlight>,
}

impl Held {
    /// Counts `bytes` in `total` until dropped.
    pub fn new(bytes: usize, total: &Arc<InFlight>) -> Arc<Held> {
        total.0.fetch_add(bytes, Ordering::Relaxed);
        Arc::new(Held {
            bytes,
            total: total.clone(),
        })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.total.0.fetch_sub(self.bytes, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::console::view::{Ttl, View};
    use app::wire::{NodeView, ServiceView};
    use muster_registry::{Endpoint, Node, Service};

    fn shared(services: Vec<ServiceView>) -> Vec<SharedVersion> {
        services.into_iter().map(SharedVersion::from).collect()
    }

    #[test]
    fn a_snapshot_of_shared_versions_is_the_json_of_the_copied_ones() {
        let mut view = View::new(0);
        let node = |id: &str, endpoints: &[&str]| Service {
            name: "greeter".into(),
            version: "1".into(),
            metadata: [("team".to_string(), "core".to_string())].into(),
            endpoints: endpoints
                .iter()
                .map(|name| Endpoint {
                    name: name.to_string(),
                    ..Endpoint::default()
                })
                .collect(),
            nodes: vec![Node {
                id: id.into(),
                address: format!("10.0.0.{}:1", id.len()),
                metadata: [("protocol".to_string(), "mucp".to_string())].into(),
            }],
        };
        view.upsert(&node("a", &["Greeter.Hello"]), Some(false), Ttl::Keep, 1);
        view.upsert(&node("bb", &["Greeter.Hello"]), Some(true), Ttl::Keep, 2);
        // An odd node (outliers, endpoints_from) and a tombstone.
        view.upsert(&node("ccc", &[]), Some(false), Ttl::Keep, 3);
        view.upsert(&node("dddd", &["Greeter.Hello"]), Some(false), Ttl::Keep, 4);
        view.depart("greeter", "1", "dddd", None, 5);
        let mut other = node("e", &[]);
        other.name = "other".into();
        view.upsert(&other, Some(false), Ttl::Keep, 6);

        let copied = serde_json::to_string(&WatchMessage::Snapshot {
            seq: view.seq(),
            services: view.services(),
            recent: view.recent(),
        })
        .unwrap();
        let frame = SnapshotFrame::new(view.seq(), view.shared_versions(), view.recent());
        assert!(copied.contains("endpoint_outliers"), "{copied}");
        assert_eq!(std::str::from_utf8(&frame.text).unwrap(), copied);
    }

    #[test]
    fn a_node_changed_while_a_snapshot_holds_it_is_copied_not_changed_under_it() {
        let mut view = View::new(0);
        let service = |address: &str| Service {
            name: "greeter".into(),
            version: "1".into(),
            nodes: vec![Node {
                id: "a".into(),
                address: address.into(),
                ..Node::default()
            }],
            ..Service::default()
        };
        view.upsert(&service("10.0.0.1:1"), Some(false), Ttl::Keep, 1);
        let held = view.shared_versions();
        view.upsert(&service("10.0.0.2:2"), Some(false), Ttl::Keep, 2);
        assert_eq!(held[0].nodes[0].node.address, "10.0.0.1:1");
        assert_eq!(view.services()[0].nodes[0].node.address, "10.0.0.2:2");
        // Once the snapshot let go, the view's node is its own again.
        drop(held);
        let again = view.shared_versions();
        assert_eq!(again[0].nodes[0].node.address, "10.0.0.2:2");
        assert_eq!(Arc::strong_count(&again[0].nodes[0]), 2);
    }

    #[test]
    fn in_flight_bytes_are_returned_when_the_last_copy_goes() {
        let total = Arc::new(InFlight::default());
        let held = Held::new(1000, &total);
        let copy = held.clone();
        drop(held);
        assert_eq!(total.bytes(), 1000);
        drop(copy);
        assert_eq!(total.bytes(), 0);
    }

    #[test]
    fn the_text_buffer_is_sized_close_to_the_json_up_front() {
        // What the bench's churn nodes look like: go-micro metadata, three timestamps.
        let node = |i: usize| NodeView {
            node: muster_registry::Node {
                id: format!("bench.churn.07-churn-{i:06}"),
                address: format!("10.99.0.2:{}", 7000 + i),
                metadata: [
                    ("broker", "http"),
                    ("protocol", "mucp"),
                    ("registry", "mdns"),
                    ("server", "mucp"),
                    ("transport", "http"),
                ]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            },
            first_seen: 1_790_000_000_000,
            last_seen: 1_790_000_000_123,
            expires_at: Some(1_790_000_120_000),
            state: app::wire::NodeState::Alive,
            owned: false,
            health: None,
        };
        let services: Vec<_> = (0..100)
            .map(|s| ServiceView {
                name: format!("bench.churn.{s:02}"),
                version: "latest".into(),
                nodes: (0..100).map(node).collect(),
                ..ServiceView::default()
            })
            .collect();
        let estimate: usize = services
            .iter()
            .map(|service| json_estimate(budget::service_view(service)))
            .sum();
        let frame = SnapshotFrame::new(1, shared(services), Vec::new());
        let len = frame.text.len();
        // Over, so that the buffer never grows (copying) while the snapshot is written; not
        // far over, since the reservation is held (if untouched) until the trim at the end.
        assert!(
            estimate >= len && estimate <= len * 2,
            "estimated {estimate} bytes for {len}"
        );
    }

    #[test]
    fn the_loading_message_announces_the_frame() {
        let frame = SnapshotFrame::new(7, shared(vec![ServiceView::default()]), Vec::new());
        assert_eq!(
            frame.loading(false),
            WatchMessage::Loading {
                services: 1,
                bytes: frame.text.len() as u64
            }
        );
        assert_eq!(
            frame.loading(true),
            WatchMessage::Loading {
                services: 1,
                bytes: frame.deflated.len() as u64
            }
        );
        let parsed: WatchMessage = serde_json::from_slice(&frame.text).unwrap();
        assert!(matches!(parsed, WatchMessage::Snapshot { seq: 7, .. }));
        let mut inflated = String::new();
        std::io::Read::read_to_string(
            &mut flate2::read::ZlibDecoder::new(frame.deflated.as_ref()),
            &mut inflated,
        )
        .unwrap();
        assert_eq!(inflated.as_bytes(), frame.text.as_ref());
    }
}
