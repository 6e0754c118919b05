//! Time passing: what changes in the view without any registry event.
//!
//! The ticker sleeps until the next thing that time changes: this console's next refresh
//! of one of its own nodes (before its TTL), the next node that turns stale unless heard
//! from, the next tombstone past `--tombstone-ttl`, the shared snapshot frame unsent for a
//! few seconds. Each of those is the head of an ordered
//! queue, so a wake costs what came due. The backend's timings (the mDNS cache knows when
//! each node last answered) are read once a second, and only when a packet came in since
//! the last read. A console with nothing happening wakes once a second (mDNS) or not at all
//! (memory, etcd) — it used to wake four times a second to look.
//!
//! After a burst of changes, once the registry is quiet for a moment, it also gives the
//! allocator's freed memory back to the system ([`crate::heap`]).
//!
//! Something that comes due sooner than the ticker sleeps (a registration with a short TTL,
//! a first tombstone, a trim after a burst) wakes it: [`Hub::commit`] and [`Hub::register`]
//! call [`Wake::due_at`] and [`Wake::nudge`].

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::wire::UnixMillis;
use muster_registry::clock::unix_ms_now;
use muster_registry::RegisterOptions;
use tokio::sync::Notify;

use super::view::Ttl;
use super::Hub;
use crate::heap;

/// Shortest time between two wakes: deadlines closer together than this are taken at once
/// (a flood of short TTLs costs at most this many wakes a second).
const MIN_SLEEP: Duration = Duration::from_millis(20);

/// How often the backend's timings are read (while it heard anything since the last read).
const TIMINGS_EVERY: Duration = Duration::from_secs(1);

/// How far each timings read reaches back before the previous one.
const TIMINGS_OVERLAP: Duration = Duration::from_secs(2);

/// When the ticker wakes next, and how to wake it sooner. Shared by the ticker and the hub.
#[derive(Debug)]
pub struct Wake {
    /// The wall-clock time (ms) the ticker sleeps until; `u64::MAX` while it sleeps without
    /// a deadline.
    planned: AtomicU64,
    notify: Notify,
    /// Wakes so far, for `GET /api/stats` (an idle console's should not grow).
    wakes: AtomicU64,
    /// The view's sequence number at the last heap trim ([`crate::heap`]).
    trimmed_seq: AtomicU64,
    /// When the last event was committed (wall-clock ms).
    last_event_ms: AtomicU64,
    /// Heap trims so far, for `GET /api/stats`.
    trims: AtomicU64,
}

impl Default for Wake {
    fn default() -> Self {
        Wake {
            planned: AtomicU64::new(0),
            notify: Notify::new(),
            wakes: AtomicU64::new(0),
            trimmed_seq: AtomicU64::new(0),
            last_event_ms: AtomicU64::new(0),
            trims: AtomicU64::new(0),
        }
    }
}

impl Wake {
    /// Something comes due at `at` (wall-clock ms): wakes the ticker if it sleeps past it.
    pub fn due_at(&self, at: UnixMillis) {
        if at < self.planned.load(Ordering::Acquire) {
            self.nudge();
        }
    }

    /// Wakes the ticker to look again (a new owned node's refresh).
    pub fn nudge(&self) {
        self.notify.notify_one();
    }

    /// Events were committed at `now`, the view being at `seq`: after enough of them, the
    /// ticker wakes once the registry is quiet, to give freed memory back.
    pub fn events_at(&self, seq: u64, now: UnixMillis) {
        self.last_event_ms.store(now, Ordering::Relaxed);
        let trimmed = self.trimmed_seq.load(Ordering::Relaxed);
        if trimmed == 0 {
            // The first events: trims count from here (the sequence starts at a time base).
            self.trimmed_seq.store(seq, Ordering::Relaxed);
        } else if seq >= trimmed + heap::AFTER_EVENTS {
            self.due_at(now + heap::QUIET.as_millis() as u64);
        }
    }

    /// When a heap trim is due (wall-clock ms): enough events since the last and the registry
    /// quiet since; `None` when too little happened.
    fn trim_due(&self, seq: u64) -> Option<UnixMillis> {
        let trimmed = self.trimmed_seq.load(Ordering::Relaxed);
        (trimmed != 0 && seq >= trimmed + heap::AFTER_EVENTS)
            .then(|| self.last_event_ms.load(Ordering::Relaxed) + heap::QUIET.as_millis() as u64)
    }

    /// How many times the ticker woke.
    pub fn count(&self) -> u64 {
        self.wakes.load(Ordering::Relaxed)
    }

    /// How many times freed heap was given back.
    pub fn trims(&self) -> u64 {
        self.trims.load(Ordering::Relaxed)
    }
}

/// Where the timings reads are.
struct Timings {
    /// Where the last read left off: each read carries only the nodes seen since.
    mark: Option<Instant>,
    /// When the next read is due.
    next: Instant,
    /// The backend's packet count at the last read: unchanged, nothing was heard.
    heard: Option<u64>,
}

/// Ticks until shutdown.
pub async fn run(hub: Arc<Hub>) {
    let mut shutdown = hub.shutdown_signal();
    let reads_timings = hub.backend.heard().is_some();
    let mut timings = Timings {
        mark: None,
        next: Instant::now() + TIMINGS_EVERY,
        heard: None,
    };
    let mut last_wake = Instant::now();
    let mut last_trim: Option<Instant> = None;
    loop {
        let trim_from = last_trim.map_or_else(Instant::now, |at| at + heap::MIN_GAP);
        let wake = plan(&hub, reads_timings.then_some(timings.next), trim_from).await;
        let sleep = async {
            match wake {
                Some(at) => tokio::time::sleep_until(at.max(last_wake + MIN_SLEEP).into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => return,
            () = sleep => {}
            () = hub.wake.notify.notified() => {}
        }
        let now = Instant::now();
        last_wake = now;
        hub.wake.wakes.fetch_add(1, Ordering::Relaxed);
        refresh_owned(&hub, now).await;
        let view_due = hub
            .lock_view()
            .next_due(hub.settings.tombstone_ttl)
            .is_some_and(|at| at <= unix_ms_now());
        if reads_timings && (now >= timings.next || view_due) {
            timings.next = now + TIMINGS_EVERY;
            read_timings(&hub, &mut timings).await;
        }
        hub.snapshot.expire(unix_ms_now(), false);
        let tombstone_ttl = hub.settings.tombstone_ttl;
        hub.commit(|view, now| {
            let mut events = view.refresh_states(now);
            events.extend(view.purge(tombstone_ttl, now));
            events
        });
        let seq = hub.lock_view().seq();
        let trim_due = hub.wake.trim_due(seq).is_some_and(|at| at <= unix_ms_now());
        if trim_due && last_trim.is_none_or(|at| now >= at + heap::MIN_GAP) {
            hub.wake.trimmed_seq.store(seq, Ordering::Relaxed);
            hub.wake.trims.fetch_add(1, Ordering::Relaxed);
            last_trim = Some(now);
            let _ = tokio::task::spawn_blocking(heap::release).await;
        }
    }
}

/// The next wake: the earliest of the next owned refresh, the view's next deadline, the next
/// timings read, the next heap trim (not before `trim_from`) and the shared snapshot frame's
/// expiry (`None`: none of them, sleep until nudged). Publishes it, under the view's lock, for [`Wake::due_at`].
async fn plan(hub: &Hub, timings_at: Option<Instant>, trim_from: Instant) -> Option<Instant> {
    let owned_at = hub.owned.lock().await.next_refresh();
    let view = hub.lock_view();
    let (now, now_ms) = (Instant::now(), unix_ms_now());
    let instant = |at: UnixMillis| now + Duration::from_millis(at.saturating_sub(now_ms));
    let view_at = view.next_due(hub.settings.tombstone_ttl).map(instant);
    let trim_at = hub
        .wake
        .trim_due(view.seq())
        .map(|at| instant(at).max(trim_from));
    let snapshot_at = hub.snapshot.expires_at().map(instant);
    let wake = [owned_at, view_at, timings_at, trim_at, snapshot_at]
        .into_iter()
        .flatten()
        .min();
    let planned = wake.map_or(u64::MAX, |at| {
        let ms = at.saturating_duration_since(now).as_millis();
        now_ms.saturating_add(u64::try_from(ms).unwrap_or(u64::MAX))
    });
    hub.wake.planned.store(planned, Ordering::Release);
    drop(view);
    wake
}

/// Reads the nodes the backend heard from since the last read, if it heard anything.
async fn read_timings(hub: &Hub, timings: &mut Timings) {
    let heard = hub.backend.heard();
    if heard.is_some() && heard == timings.heard {
        return;
    }
    if let Some((read, mark)) = hub.backend.timings(timings.mark).await {
        timings.heard = heard;
        // Overlap the next read by a little: a node whose packet came just before this read
        // but whose event reaches the view just after it would otherwise miss its timing
        // until its next refresh.
        timings.mark = Some(mark.checked_sub(TIMINGS_OVERLAP).unwrap_or(mark));
        if !read.is_empty() {
            hub.commit(|view, now| view.apply_timings(&read, now));
        }
    }
}

/// Re-registers the owned nodes that are due, the way a go-micro service re-registers every
/// `RegisterInterval`. The owned lock is held throughout, so a node deregistered meanwhile
/// cannot be brought back by its refresh.
async fn refresh_owned(hub: &Hub, now: Instant) {
    let mut owned = hub.owned.lock().await;
    let due = owned.due(now);
    for (service, ttl) in due {
        match hub
            .registry
            .register(&service, RegisterOptions::with_ttl(ttl))
            .await
        {
            Ok(()) => {
                hub.commit(|view, now| view.upsert(&service, Some(true), Ttl::Set(Some(ttl)), now))
            }
            Err(error) => tracing::warn!(
                "refreshing {} {}: {error}",
                service.name,
                service.nodes.first().map_or("", |node| node.id.as_str())
            ),
        }
    }
}
