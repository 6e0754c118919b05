//! What the websockets are sent, held once however many clients watch: the snapshot frame
//! shared by every client that needs the same revision, and the accounting of event frames
//! not every client has read yet.
//!
//! Before this, every `/api/watch` client serialized its own copy of the whole view: after a
//! flood of fat nodes, 20 viewers took the console from 217 MiB to 5 GiB.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use app::wire::{ConsoleEvent, ServiceView, WatchMessage};
use axum::body::Bytes;
use flate2::write::ZlibEncoder;
use flate2::Compression;

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
    pub fn new(seq: u64, services: Vec<ServiceView>, recent: Vec<ConsoleEvent>) -> Self {
        let count = services.len() as u64;
        let message = WatchMessage::Snapshot {
            seq,
            services,
            recent,
        };
        let text = serde_json::to_string(&message).expect("a snapshot is plain data");
        // The fastest level: most of the gain for a fraction of the time of the default.
        let mut encoder = ZlibEncoder::new(Vec::with_capacity(text.len() / 8), Compression::fast());
        encoder
            .write_all(text.as_bytes())
            .expect("deflating into memory");
        let deflated = encoder.finish().expect("deflating into memory");
        SnapshotFrame {
            seq,
            services: count,
            text: Bytes::from(text),
            deflated: deflated.into(),
        }
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
    fn the_loading_message_announces_the_frame() {
        let frame = SnapshotFrame::new(7, vec![ServiceView::default()], Vec::new());
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
