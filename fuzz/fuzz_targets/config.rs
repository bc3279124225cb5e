//! The configuration loader: arbitrary text to `Config::parse`, then
//! `Filter::new`, then a few records through the filter
//! (`checks::check_config`). Loading must not panic; an unusable file must
//! name a line within the text; every record's output must pass
//! `invariants` whatever the configuration.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;
mod invariants;
mod msgpack_check;

fuzz_target!(|data: &[u8]| checks::check_config(data));
