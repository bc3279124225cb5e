//! Each built-in parser on its own, `auto::parse_as` (and `auto::parse`).
//!
//! The first byte picks the format; the rest is the line, escaped the way
//! fluent-bit escapes a record's string (`out::escape_into`), so the
//! parsers see what they see in production: valid JSON string content.
//! The parsed fields, written out as rosetta writes them, must be one
//! JSON object with unique keys; a JSON line's object must be one JSON
//! object.
//!
//! Work: wall-clock time is too noisy for a fuzzer, so the deterministic
//! proxy here is allocation, counted by a global allocator: the line
//! repeated four times must not cost more than twice the allocations of
//! the line plus a constant (growth by doubling), nor more bytes than a
//! linear bound. Instruction-level linearity is `tests/linear_time.rs`'s
//! business (fuel counted in the wasm host).

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

mod checks;
mod invariants;
mod msgpack_check;

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static BYTES: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded to `System` with the caller's own
// arguments; the counters are the only addition.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract for `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size, Ordering::Relaxed);
        // SAFETY: the caller's contract for `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The allocations and bytes `check_line`'s parse took.
fn measured(format: Option<rosetta::formats::auto::Format>, content: &[u8]) -> (usize, usize) {
    let mut start = (0, 0);
    let mut cost = (0, 0);
    checks::check_line(format, content, &mut |begin| {
        let now = (
            ALLOCS.load(Ordering::Relaxed),
            BYTES.load(Ordering::Relaxed),
        );
        if begin {
            start = now;
        } else {
            cost = (now.0 - start.0, now.1 - start.1);
        }
    });
    cost
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, line)) = data.split_first() else {
        return;
    };
    let format = checks::format(selector);
    let once = checks::escaped(line);
    let (allocs1, bytes1) = measured(format, &once);
    let four = checks::escaped(&line.repeat(4));
    let (allocs4, bytes4) = measured(format, &four);
    assert!(
        allocs4 <= 2 * allocs1 + 16,
        "{format:?}: {allocs1} allocations for {} bytes, {allocs4} for four times the line",
        once.len()
    );
    assert!(
        bytes4 <= 16 * four.len() + 65536,
        "{format:?}: {bytes4} bytes allocated for a {}-byte line ({bytes1} for a quarter)",
        four.len()
    );
});
