//! Websocket clients of `/api/watch`, each replaying what it receives into its own view the way
//! the browser does: a snapshot replaces the view, an event updates the one node it carries.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use app::wire::{NodeState, ServiceView};
use futures::{SinkExt, StreamExt};
use muster_registry::Action;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

/// `app::wire::WatchMessage` reduced to what a view needs: the clients share two cores with
/// the console, and building every endpoint schema of every event only slowed them down
/// (serde skips the other fields without building them).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
enum WatchMessage {
    Snapshot {
        seq: u64,
        services: Vec<Version>,
    },
    Event {
        seq: u64,
        action: Action,
        service: Version,
        #[serde(default)]
        purged: bool,
    },
    Heartbeat {},
    Loading {},
}

/// A service version with its nodes' ids and states.
#[derive(Debug, Deserialize)]
struct Version {
    name: String,
    version: String,
    nodes: Vec<NodeEntry>,
}

#[derive(Debug, Deserialize)]
struct NodeEntry {
    id: String,
    state: NodeState,
}

/// A node in a view: (service, version, node id).
pub type NodeKey = (String, String, String);

/// What a client has seen: node → its state.
pub type View = BTreeMap<NodeKey, NodeState>;

/// What one client has received so far.
#[derive(Debug, Default)]
pub struct Received {
    /// Its replayed view.
    pub view: View,
    /// Sequence number of the last change applied.
    pub seq: u64,
    /// Events received (snapshots not counted).
    pub events: u64,
    /// Snapshots received after the first: the server resynced a client that fell behind.
    pub resyncs: u64,
    /// Arrival time of each `create` (by service and node id), when the client stamps.
    pub created_at: HashMap<(String, String), Instant>,
    /// Why the connection ended, once it did (the console closed it, or an error).
    pub ended: Option<String>,
}

/// A connected client; its reader runs until the socket closes or the client is dropped.
pub struct Client {
    /// What it received.
    pub received: Arc<Mutex<Received>>,
    reader: Reader,
}

/// Where a client's reader runs.
enum Reader {
    /// A task on the bench's clients' runtime, beside the 99 others.
    Task(tokio::task::JoinHandle<()>),
    /// A thread and runtime of its own, stopped by dropping `stop`.
    Thread {
        stop: Option<tokio::sync::oneshot::Sender<()>>,
        thread: Option<std::thread::JoinHandle<()>>,
    },
}

impl Client {
    /// Connects to `url` and waits for the first snapshot. The client records when each
    /// `create` of a service whose name starts with `stamp_prefix` arrived (for latency
    /// figures; `""` stamps every create).
    pub async fn connect(url: &str, stamp_prefix: &'static str) -> Client {
        let (received, reading) = Self::start(url, stamp_prefix).await;
        Client {
            received,
            reader: Reader::Task(tokio::spawn(reading)),
        }
    }

    /// [`Client::connect`] with the reader on a thread and runtime of its own: the client
    /// whose arrival stamps are the latency figures. On the shared runtime its frames waited
    /// behind the other clients' (100 clients decode 50,000 events a second in a burst), so
    /// the figure measured the bench's own queue as well as the console.
    pub async fn connect_alone(url: &str, stamp_prefix: &'static str) -> Client {
        let url = url.to_string();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
        // A thread made here is in this thread's network namespace (the console's).
        let thread = std::thread::Builder::new()
            .name("stamping client".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("the stamping client's runtime");
                runtime.block_on(async move {
                    let (received, reading) = Self::start(&url, stamp_prefix).await;
                    let _ = ready_tx.send(received);
                    tokio::select! {
                        () = reading => {}
                        _ = stop_rx => {}
                    }
                });
            })
            .expect("the stamping client's thread");
        let received = ready_rx.await.expect("the stamping client connected");
        Client {
            received,
            reader: Reader::Thread {
                stop: Some(stop),
                thread: Some(thread),
            },
        }
    }

    /// Connects, waits for the snapshot, and returns what is received with the reading loop.
    async fn start(
        url: &str,
        stamp_prefix: &'static str,
    ) -> (Arc<Mutex<Received>>, impl std::future::Future<Output = ()>) {
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("websocket {url}: {e}"));
        let received = Arc::new(Mutex::new(Received::default()));
        // Wait for the snapshot itself (a `loading` message comes first), so the caller knows
        // the client is live and `seq()` is the snapshot's. Breaking on the first text frame
        // returned before the snapshot was read: `latest_seq` said 0, `wait_for_seq` never
        // waited, and a watcher still catching up after a late resync was compared seconds
        // stale (two end-to-end runs failed the churn check so, the console being right).
        loop {
            let frame = socket.next().await.expect("open").expect("a frame");
            if let Message::Text(text) = frame {
                let message: WatchMessage = serde_json::from_str(&text).expect("watch JSON");
                let snapshot = matches!(message, WatchMessage::Snapshot { .. });
                apply(
                    &mut received.lock().unwrap(),
                    message,
                    stamp_prefix,
                    Instant::now(),
                );
                if snapshot {
                    break;
                }
            }
        }
        let shared = received.clone();
        let reading = async move {
            loop {
                let frame = match socket.next().await {
                    Some(Ok(frame)) => frame,
                    end => {
                        shared.lock().unwrap().ended = Some(match end {
                            Some(Err(error)) => format!("error: {error}"),
                            _ => "closed".to_string(),
                        });
                        break;
                    }
                };
                let text = match frame {
                    Message::Text(text) => text,
                    // The console drops a client silent for three heartbeats, as a browser
                    // tab that went away: answer its pings like a browser does.
                    Message::Ping(payload) => {
                        if let Err(error) = socket.send(Message::Pong(payload)).await {
                            shared.lock().unwrap().ended = Some(format!("pong: {error}"));
                            break;
                        }
                        continue;
                    }
                    Message::Close(frame) => {
                        shared.lock().unwrap().ended = Some(format!("close frame {frame:?}"));
                        continue;
                    }
                    _ => continue,
                };
                let arrived = Instant::now();
                let message: WatchMessage = serde_json::from_str(&text).expect("watch JSON");
                apply(&mut shared.lock().unwrap(), message, stamp_prefix, arrived);
            }
        };
        (received, reading)
    }

    /// The sequence number of the last change applied.
    pub fn seq(&self) -> u64 {
        self.received.lock().unwrap().seq
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        match &mut self.reader {
            Reader::Task(task) => task.abort(),
            Reader::Thread { stop, thread } => {
                drop(stop.take());
                if let Some(thread) = thread.take() {
                    let _ = thread.join();
                }
            }
        }
    }
}

fn apply(received: &mut Received, message: WatchMessage, stamp_prefix: &str, arrived: Instant) {
    match message {
        WatchMessage::Snapshot { seq, services } => {
            if received.seq > 0 || !received.view.is_empty() {
                received.resyncs += 1;
            }
            received.view = services
                .into_iter()
                .flat_map(|service| {
                    let (name, version) = (service.name, service.version);
                    service
                        .nodes
                        .into_iter()
                        .map(move |node| ((name.clone(), version.clone(), node.id), node.state))
                })
                .collect();
            received.seq = seq;
        }
        WatchMessage::Event {
            seq,
            action,
            service,
            purged,
        } => {
            received.events += 1;
            received.seq = seq;
            for node in service.nodes {
                if action == Action::Create && service.name.starts_with(stamp_prefix) {
                    received
                        .created_at
                        .entry((service.name.clone(), node.id.clone()))
                        .or_insert(arrived);
                }
                let key = (service.name.clone(), service.version.clone(), node.id);
                if purged {
                    received.view.remove(&key);
                } else {
                    received.view.insert(key, node.state);
                }
            }
        }
        WatchMessage::Heartbeat {} | WatchMessage::Loading {} => {}
    }
}

/// The view of a list of service versions (a snapshot, or `GET /api/services/{name}`).
pub fn view_of(services: &[ServiceView]) -> View {
    services
        .iter()
        .flat_map(|service| {
            service.nodes.iter().map(|node| {
                (
                    (
                        service.name.clone(),
                        service.version.clone(),
                        node.node.id.clone(),
                    ),
                    node.state,
                )
            })
        })
        .collect()
}

/// The console's latest sequence number, read from a fresh client's snapshot.
pub async fn latest_seq(url: &str) -> u64 {
    let seq = Client::connect(url, "-").await.seq();
    assert!(seq > 0, "a snapshot carries the console's sequence number");
    seq
}

/// Waits until every client has applied the change numbered `seq` (or later), up to `timeout`;
/// returns how many are still behind.
pub async fn wait_for_seq(clients: &[Client], seq: u64, timeout: Duration) -> usize {
    let deadline = Instant::now() + timeout;
    loop {
        let behind = clients.iter().filter(|c| c.seq() < seq).count();
        if behind == 0 || Instant::now() > deadline {
            return behind;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
