//! A virtual clock for the module's WASI `clock_time_get`.
//!
//! The wall clock (nanoseconds since the Unix epoch) and the monotonic clock
//! (nanoseconds since an arbitrary start) are two shared atomics: a test
//! holds a [`VirtualClock`] handle and sets or advances them, and the module
//! reads exactly those values, so time-dependent module logic (rate limits,
//! windows) is tested deterministically.
//!
//! Invariants: the clocks change only when a handle changes them;
//! [`VirtualClock::advance`] moves both by the same amount; the monotonic
//! clock never goes backwards through `advance` (it saturates).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// A settable wall and monotonic clock shared between a test and a module.
#[derive(Debug, Clone)]
pub struct VirtualClock {
    wall_ns: Arc<AtomicU64>,
    monotonic_ns: Arc<AtomicU64>,
}

impl Default for VirtualClock {
    /// Starts at the Unix epoch, monotonic 0.
    fn default() -> Self {
        VirtualClock::new(Duration::ZERO)
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

impl VirtualClock {
    /// A clock whose wall time is `since_epoch` and monotonic time 0.
    pub fn new(since_epoch: Duration) -> VirtualClock {
        VirtualClock {
            wall_ns: Arc::new(AtomicU64::new(nanos(since_epoch))),
            monotonic_ns: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A clock set to the system's current wall time.
    pub fn starting_now() -> VirtualClock {
        VirtualClock::new(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        )
    }

    /// Sets the wall clock.
    pub fn set_wall(&self, since_epoch: Duration) {
        self.wall_ns.store(nanos(since_epoch), Ordering::SeqCst);
    }

    /// The wall clock.
    pub fn wall(&self) -> Duration {
        Duration::from_nanos(self.wall_ns.load(Ordering::SeqCst))
    }

    /// Sets the monotonic clock, in nanoseconds.
    pub fn set_monotonic(&self, ns: u64) {
        self.monotonic_ns.store(ns, Ordering::SeqCst);
    }

    /// The monotonic clock, in nanoseconds.
    pub fn monotonic(&self) -> u64 {
        self.monotonic_ns.load(Ordering::SeqCst)
    }

    /// Moves both clocks forward by `by`.
    pub fn advance(&self, by: Duration) {
        let by = nanos(by);
        let add = |cell: &AtomicU64| {
            let _ = cell.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |v| {
                Some(v.saturating_add(by))
            });
        };
        add(&self.wall_ns);
        add(&self.monotonic_ns);
    }

    /// Sets the wall clock to the system time and the monotonic clock to the
    /// time elapsed since `start` (for replaying logs in real time).
    pub fn follow_system(&self, start: Instant) {
        self.set_wall(
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default(),
        );
        self.set_monotonic(nanos(start.elapsed()));
    }

    pub(crate) fn wall_source(&self) -> WallSource {
        WallSource(Arc::clone(&self.wall_ns))
    }

    pub(crate) fn monotonic_source(&self) -> MonotonicSource {
        MonotonicSource(Arc::clone(&self.monotonic_ns))
    }
}

/// The wall clock as WASI sees it.
pub(crate) struct WallSource(Arc<AtomicU64>);

impl HostWallClock for WallSource {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

/// The monotonic clock as WASI sees it.
pub(crate) struct MonotonicSource(Arc<AtomicU64>);

impl HostMonotonicClock for MonotonicSource {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_and_advance() {
        let clock = VirtualClock::new(Duration::from_secs(1_700_000_000));
        let wall = clock.wall_source();
        let mono = clock.monotonic_source();
        assert_eq!(wall.now(), Duration::from_secs(1_700_000_000));
        assert_eq!(mono.now(), 0);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(wall.now(), Duration::from_millis(1_700_000_001_500));
        assert_eq!(mono.now(), 1_500_000_000);
        clock.set_monotonic(u64::MAX - 1);
        clock.advance(Duration::from_secs(5));
        assert_eq!(clock.monotonic(), u64::MAX, "saturates, never wraps");
        let copy = clock.clone();
        copy.set_wall(Duration::from_secs(3));
        assert_eq!(
            clock.wall(),
            Duration::from_secs(3),
            "handles share the clock"
        );
    }
}
