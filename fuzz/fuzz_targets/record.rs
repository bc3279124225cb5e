//! The whole per-record path, `Filter::run`: bytes in, one object out.
//!
//! The first byte picks the shape. 0 mod 4: the rest is the record itself,
//! arbitrary bytes (JSON, msgpack or neither) under the default
//! configuration and the two fixed entry points. Otherwise the rest is a
//! container's line inside a docker-shaped record (`checks::docker`), run
//! under one of `checks::CONFIGS`: the default `auto`, each built-in
//! parser alone, chains, routes with `into` and `keep_log`, and parser
//! annotations in the record's `kubernetes` map.
//!
//! Each record runs twice on one instance (the second run reuses the
//! lists and the routing cache the first one filled): both outputs must
//! be equal and pass `invariants`.

#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;
mod invariants;
mod msgpack_check;

fuzz_target!(|data: &[u8]| checks::check_record(data));
