//! Giving freed heap memory back to the system after a burst.
//!
//! A burst (10,000 nodes announced, a churn, watchers resynced with snapshots) allocates and
//! frees tens of megabytes across the runtime's threads; glibc's allocator keeps what was
//! freed in its arenas for reuse, so the console's RSS stayed at its peak long after the
//! burst (a release console of 10,000 nodes: 85 MB after 50 watchers came and went, 56 MB
//! after `malloc_trim`). The ticker calls [`release`] once the registry has been quiet for a
//! moment after enough changes, at most every [`MIN_GAP`]; an idle console never does.

use std::time::{Duration, Instant};

/// Events after which a quiet moment is worth a trim.
pub const AFTER_EVENTS: u64 = 256;
/// How long the registry must have been quiet (no event) before a trim.
pub const QUIET: Duration = Duration::from_secs(1);
/// Least time between two trims (one costs a few milliseconds of walking the free lists).
pub const MIN_GAP: Duration = Duration::from_secs(10);

/// Returns the allocator's free memory to the system (glibc: `malloc_trim`; elsewhere
/// nothing). Blocks for as long as that takes: call it off the async workers.
pub fn release() {
    let started = Instant::now();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` only walks and shrinks the allocator's own free lists; it is
    // thread-safe (it takes each arena's lock) and has no precondition.
    unsafe {
        libc::malloc_trim(0);
    }
    tracing::debug!(
        "freed heap returned to the system in {:?}",
        started.elapsed()
    );
}
