//! Giving freed heap memory back to the system after a burst.
//!
//! A burst (10,000 nodes announced, a churn, watchers resynced with snapshots) allocates and
//! frees tens of megabytes across the runtime's threads; glibc's allocator keeps what was
//! freed in its arenas for reuse, so the console's RSS stayed at its peak long after the
//! burst (a release console of 10,000 nodes: 85 MB after 50 watchers came and went, 56 MB
//! after `malloc_trim`). The ticker calls [`release`] once the registry has been quiet for a
//! moment after enough changes, at most every [`MIN_GAP`]; an idle console never does.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Events after which a quiet moment is worth a trim.
pub const AFTER_EVENTS: u64 = 256;
/// How long the registry must have been quiet (no event) before a trim.
pub const QUIET: Duration = Duration::from_secs(1);
/// Least time between two trims (one costs a few milliseconds of walking the free lists).
pub const MIN_GAP: Duration = Duration::from_secs(10);

/// Allocations at least this large get a mapping of their own, unmapped when freed.
///
/// glibc starts at 128 KiB but raises the threshold to the size of each mapped block freed
/// (up to 32 MiB), so after the first multi-megabyte snapshot frame or map growth every block
/// below that size came from the arenas, where a few live chunks among freed ones pin whole
/// pages that `malloc_trim` cannot give back. A release console after the bench's 60 s churn:
/// 124 MB RSS with 59.7 MB freed but held by glibc, against 99.9 MB and 23.1 MB with the
/// threshold fixed here (same in-use 86.1 MB). A block this large costs a `mmap` and page
/// faults (tens of microseconds) where the arenas would reuse memory: it is rare and already
/// costs more than that to fill.
pub const MMAP_THRESHOLD: usize = 256 << 10;

/// Sets the allocator up for a long-lived console: a fixed [`MMAP_THRESHOLD`] (glibc;
/// elsewhere nothing). Call once, at startup, before the runtime's threads exist.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `mallopt` only changes the allocator's tunables (under its lock) and has no
    // precondition; setting the threshold also turns off its dynamic adjustment.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int) != 1 {
            eprintln!("muster: the allocator refused a fixed mmap threshold; continuing");
        }
    }
}

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

/// What the allocator holds, for `GET /api/stats`: whether a large RSS is live data or freed
/// memory the allocator kept (fragmentation, arenas of threads that were busy).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Usage {
    /// Bytes in allocated chunks, mmapped ones included.
    pub heap_in_use_bytes: u64,
    /// Bytes freed but still held by the allocator (not given back to the system).
    pub heap_free_held_bytes: u64,
}

/// The allocator's totals over all its arenas (glibc: `mallinfo2`; elsewhere `None`). Takes
/// each arena's lock and walks its free bins: for a stats request, not a hot path.
pub fn usage() -> Option<Usage> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: `mallinfo2` only reads the allocator's own bookkeeping under its locks and
        // has no precondition; it returns a plain struct by value.
        let info = unsafe { libc::mallinfo2() };
        let bytes = |n: usize| n as u64;
        Some(Usage {
            heap_in_use_bytes: bytes(info.uordblks) + bytes(info.hblkhd),
            heap_free_held_bytes: bytes(info.fordblks),
        })
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Set in the child process that runs the mmap-threshold check alone.
    const PROBE: &str = "MUSTER_HEAP_PROBE";

    /// glibc serves a request above the threshold from the arena's top chunk when that is
    /// large enough: in this binary, where other tests allocate and free on other threads at
    /// the same time, the top is sometimes large (a cold CI run failed so). The check runs in a
    /// fresh process of this test binary, with this one test and nothing else.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn after_configure_a_large_block_is_mapped_even_after_a_larger_one_was_freed() {
        if std::env::var_os(PROBE).is_none() {
            let name = "heap::tests::after_configure_a_large_block_is_mapped_even_after_a_larger_one_was_freed";
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", name, "--test-threads=1", "--nocapture"])
                .env(PROBE, "1")
                .output()
                .unwrap();
            let printed = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && printed.contains("1 passed"),
                "the probe failed: {printed}{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        configure();
        // Unconfigured, freeing this mapped 8 MiB block raises glibc's threshold to 8 MiB and
        // the block below comes from an arena.
        drop(std::hint::black_box(vec![1u8; 8 << 20]));
        let block = std::hint::black_box(vec![1u8; 2 * MMAP_THRESHOLD]);
        // SAFETY: glibc keeps each chunk's size word just before the memory it hands out,
        // its bit 1 set when the chunk is a mapping of its own (`IS_MMAPPED` in malloc.c);
        // the word is initialised and stays put while the block lives. Read, not written.
        let size_word = unsafe { block.as_ptr().cast::<usize>().sub(1).read_unaligned() };
        assert_ne!(size_word & 2, 0, "the block came from an arena");
        drop(block);
    }

    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn usage_counts_a_live_allocation_and_not_after_it_is_freed() {
        let before = usage().unwrap().heap_in_use_bytes;
        let held = vec![1u8; 64 << 20];
        let during = usage().unwrap().heap_in_use_bytes;
        // Other tests of this binary allocate and free meanwhile: a margin of 16 MiB each way.
        assert!(
            during >= before + (48 << 20),
            "{before} then {during} with 64 MiB held"
        );
        drop(std::hint::black_box(held));
        let after = usage().unwrap().heap_in_use_bytes;
        assert!(
            after + (48 << 20) <= during,
            "{during} then {after} after freeing"
        );
    }
}
