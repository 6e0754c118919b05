//! The health sweep: every live node checked once per `--probe-interval`, on its own
//! jittered schedule ([`super::schedule`]).
//!
//! A registry only knows that a node was announced; a process that crashed without a goodbye
//! stays registered until its TTL runs out (two minutes on mDNS), and one that accepts
//! connections but is broken looks alive. Nodes that speak go-micro's rpc over HTTP are asked
//! `Debug.Health`; the others (grpc or http servers, brokers) get a TCP connect, as their
//! reachability is all the console can tell. An unreachable node is stale until it answers.
//!
//! Bounded: at most [`CONCURRENCY`] checks at once, each given [`CHECK_TIMEOUT`]. A check
//! starts as soon as it is due and a place is free (the schedule is a deadline queue; the
//! loop sleeps until the next due check or a result). The view lock is taken to read the
//! live nodes once per interval and to store results, a batch at a time, never while a check
//! waits. Each mucp node's connection is kept from one check to the next ([`Kept`]).
//!
//! Its own thread ([`spawn`]): a sweep of 10,000 nodes is CPU work (a request and a reply
//! per node, every interval), and on the console's runtime it queued behind or ahead of
//! every browser's request: with the console on one core, `GET /api/services/{name}` took
//! 22 ms during the sweeps against 0.85 ms without (the rpc bench). On a thread of its own,
//! at a lower scheduling priority, the operating system lets a request run as soon as it
//! arrives and gives the sweep what is left.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::rpc::{HealthState, NodeHealth};
use muster_rpc::kept::{check_kept, KeptConnection};
use muster_rpc::Health;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use super::schedule::{self, Schedule};
use super::view::ProbeTarget;
use super::Hub;
use muster_registry::clock::unix_ms_now;

/// Checks in flight at once.
const CONCURRENCY: usize = 64;

/// How long one check may take before the node counts as unreachable.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Results stored under one hold of the view lock: enough that 5,000 checks a second take
/// the lock some hundred times, few enough that a request waiting for it waits microseconds.
const BATCH: usize = 64;

/// Most connections kept at once. Each costs a socket and hyper's buffers: with all 10,000
/// of the rpc bench's nodes kept the console's RSS was 311 MiB, so past this many nodes the
/// others connect afresh for each check, as before.
const MAX_KEPT: usize = 1024;

/// Connections kept at once: [`MAX_KEPT`], and at most half the soft limit of open files, so
/// that serving browsers and the registry always has the other half.
fn kept_limit() -> usize {
    crate::limits::open_files()
        .map_or(256, |limit| limit / 2)
        .min(MAX_KEPT)
}

/// What a finished check sends back to the loop.
struct Done {
    target: ProbeTarget,
    health: NodeHealth,
    reachable: bool,
    connection: Option<KeptConnection>,
}

/// Each mucp node's connection between two of its checks, at most `limit` of them (a node
/// past the limit connects afresh for each check).
struct Kept {
    connections: HashMap<schedule::Key, KeptConnection>,
    limit: usize,
}

impl Kept {
    /// `target`'s connection, if one is kept for its current address.
    fn take(&mut self, target: &ProbeTarget) -> Option<KeptConnection> {
        self.connections
            .remove(&schedule::key(target))
            .filter(|connection| connection.address() == target.address)
    }

    /// Keeps `target`'s connection for its next check, if there is room.
    fn put(&mut self, target: &ProbeTarget, connection: Option<KeptConnection>) {
        if let Some(connection) = connection {
            if self.connections.len() < self.limit {
                self.connections.insert(schedule::key(target), connection);
            }
        }
    }

    /// Closes the connections of nodes no longer live.
    fn retain(&mut self, schedule: &Schedule) {
        self.connections.retain(|key, _| schedule.tracks(key));
    }
}

/// How much lower the sweep's thread runs than the console's (a nice value): the sweep can
/// wait a few milliseconds, a person's request should not.
const NICENESS: i32 = 10;

/// Starts the sweep on a thread of its own with a single-threaded runtime, at a lower
/// priority. It stops at shutdown, or when the runtime that called this ends (a test's
/// runtime, dropped with the hub still referenced by the sweep).
pub fn spawn(hub: Arc<Hub>) {
    let (alive, gone) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _alive = alive;
        std::future::pending::<()>().await;
    });
    let started = std::thread::Builder::new()
        .name("muster-probe".into())
        .spawn(move || {
            lower_priority();
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(error) => {
                    tracing::error!("health checks off: no runtime for them: {error}");
                    return;
                }
            };
            runtime.block_on(async move {
                tokio::select! {
                    () = run(hub) => {}
                    _ = gone => {}
                }
            });
        });
    if let Err(error) = started {
        tracing::error!("health checks off: cannot start their thread: {error}");
    }
}

/// Lowers the calling thread's priority by [`NICENESS`] below the process's (on Linux a nice value is a
/// thread's, not the whole process's). Failing to is harmless: the sweep still runs.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread's own id; no memory is shared.
        // Relative to the process's own nice value (a console started with `nice -n -5`
        // keeps its sweep below its requests, not at an absolute 10).
        let result = unsafe {
            let thread = libc::gettid() as libc::id_t;
            let current = libc::getpriority(libc::PRIO_PROCESS, thread);
            libc::setpriority(libc::PRIO_PROCESS, thread, (current + NICENESS).min(19))
        };
        if result != 0 {
            tracing::debug!(
                "health checks run at normal priority: {}",
                std::io::Error::last_os_error()
            );
        }
    }
}

/// Checks until shutdown.
async fn run(hub: Arc<Hub>) {
    let mut shutdown = hub.shutdown_signal();
    let interval = hub.settings.probe_interval;
    let timeout = CHECK_TIMEOUT.min(interval);
    let mut schedule = Schedule::new(interval);
    let mut kept = Kept {
        connections: HashMap::new(),
        limit: kept_limit(),
    };
    let (done, mut results) = mpsc::unbounded_channel::<Done>();
    let mut tracked_at: Option<Instant> = None;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if tracked_at.is_none_or(|at| at.elapsed() >= interval) {
            let live = hub.lock_view().live_nodes();
            schedule.track(live, unix_ms_now());
            kept.retain(&schedule);
            tracked_at = Some(Instant::now());
        }
        let room = CONCURRENCY.saturating_sub(schedule.in_flight());
        let now = unix_ms_now();
        for target in schedule.take_due(now, room) {
            let connection = kept.take(&target);
            let done = done.clone();
            tokio::spawn(async move {
                let (health, reachable, connection) = check(&target, connection, timeout).await;
                let _ = done.send(Done {
                    target,
                    health,
                    reachable,
                    connection,
                });
            });
        }
        // Sleep until the next due check (none while every place is taken: a result wakes
        // the loop first) or the next re-read of the live nodes.
        let track_in =
            interval.saturating_sub(tracked_at.map_or(Duration::ZERO, |at| at.elapsed()));
        let due_in = (schedule.in_flight() < CONCURRENCY)
            .then(|| schedule.next_due())
            .flatten()
            .map(|due| Duration::from_millis(due.saturating_sub(unix_ms_now())));
        let wake = due_in.map_or(track_in, |due_in| due_in.min(track_in));
        tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => return,
            received = results.recv_many(&mut batch, BATCH) => {
                if received == 0 {
                    return;
                }
                let now = unix_ms_now();
                for result in &mut batch {
                    schedule.finish(&result.target, now);
                    kept.put(&result.target, result.connection.take());
                }
                hub.commit(|view, now| {
                    batch
                        .drain(..)
                        .filter_map(|result| {
                            view.set_health(&result.target, result.health, result.reachable, now)
                        })
                        .collect()
                });
            }
            () = tokio::time::sleep(wake) => {}
        }
    }
}

/// One node's check: its health, whether it answered at all, and the connection to keep
/// for its next check.
async fn check(
    target: &ProbeTarget,
    connection: Option<KeptConnection>,
    timeout: Duration,
) -> (NodeHealth, bool, Option<KeptConnection>) {
    let (health, connection) = if target.mucp {
        check_kept(&target.service, &target.address, timeout, connection).await
    } else {
        (connect(&target.address, timeout).await, None)
    };
    let reachable = match health.state {
        HealthState::Unreachable => false,
        HealthState::Unsupported => health.latency.is_some(),
        HealthState::Healthy | HealthState::Failing | HealthState::NoCheck => true,
    };
    let health = NodeHealth {
        state: health.state,
        checked_at: unix_ms_now(),
        latency_ms: health
            .latency
            .map(|latency| u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
        detail: health.detail,
    };
    (health, reachable, connection)
}

/// A TCP connect to a node that does not speak mucp: `unsupported`, with a latency when the
/// address accepted.
async fn connect(address: &str, timeout: Duration) -> Health {
    let started = Instant::now();
    let (latency, detail) = match tokio::time::timeout(timeout, TcpStream::connect(address)).await {
        Ok(Ok(_)) => (
            Some(started.elapsed()),
            "not go-micro rpc over HTTP; the address accepts TCP".to_string(),
        ),
        Ok(Err(error)) => (
            None,
            format!("not go-micro rpc over HTTP; TCP connect failed: {error}"),
        ),
        Err(_) => (
            None,
            format!(
                "not go-micro rpc over HTTP; no TCP answer within {} ms",
                timeout.as_millis()
            ),
        ),
    };
    Health {
        state: HealthState::Unsupported,
        latency,
        detail,
    }
}
