//! Time passing: what changes in the view without any registry event.
//!
//! Every tick: this console's own nodes are re-registered when due (before their TTL), the
//! backend's timings are read (the mDNS cache knows when each node last answered), nodes that
//! missed their refresh turn stale, and tombstones past `--tombstone-ttl` are purged.

use std::sync::Arc;
use std::time::{Duration, Instant};

use muster_registry::RegisterOptions;

use super::view::Ttl;
use super::Hub;

/// Granularity of refreshes, staleness and purges.
const TICK: Duration = Duration::from_millis(250);

/// Backend timings are read every this many ticks.
const TIMINGS_EVERY: u32 = 4;

/// How far each timings read reaches back before the previous one.
const TIMINGS_OVERLAP: Duration = Duration::from_secs(2);

/// Ticks until shutdown.
pub async fn run(hub: Arc<Hub>) {
    let mut shutdown = hub.shutdown_signal();
    let mut interval = tokio::time::interval(TICK);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    // Where the last timings read left off: each read carries only the nodes seen since.
    let mut timings_mark = None;
    loop {
        tokio::select! {
            () = crate::console::until_stopping(&mut shutdown) => return,
            _ = interval.tick() => {}
        }
        ticks += 1;
        refresh_owned(&hub).await;
        if ticks == TIMINGS_EVERY {
            ticks = 0;
            if let Some((timings, mark)) = hub.backend.timings(timings_mark).await {
                // Overlap the next read by a little: a node whose packet came just before this
                // read but whose event reaches the view just after it would otherwise miss its
                // timing until its next refresh.
                timings_mark = Some(mark.checked_sub(TIMINGS_OVERLAP).unwrap_or(mark));
                if !timings.is_empty() {
                    hub.commit(|view, now| view.apply_timings(&timings, now));
                }
            }
        }
        let tombstone_ttl = hub.settings.tombstone_ttl;
        hub.commit(|view, now| {
            let mut events = view.refresh_states(now);
            events.extend(view.purge(tombstone_ttl, now));
            events
        });
    }
}

/// Re-registers the owned nodes that are due, the way a go-micro service re-registers every
/// `RegisterInterval`. The owned lock is held throughout, so a node deregistered meanwhile
/// cannot be brought back by its refresh.
async fn refresh_owned(hub: &Hub) {
    let mut owned = hub.owned.lock().await;
    let due = owned.due(Instant::now());
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
