//! `timestamps::parse_any` on arbitrary text, and `TimeFormat` (a strptime
//! layout compiled from the input up to its first 0x00) on the rest. An
//! accepted time must write out as RFC 3339 that `time::parse_rfc3339`
//! reads back to the same instant (`checks::check_time`).

#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;
mod invariants;
mod msgpack_check;

fuzz_target!(|data: &[u8]| checks::check_time(data));
