//! msgpack mode (`event_format msgpack`): `Filter::run` on records that
//! start with a map marker. An even first byte: arbitrary bytes behind the
//! map marker it picks. An odd one: a docker-shaped record
//! (`checks::docker`) encoded with `msgpack::from_json`, run under the
//! configuration it picks. The output must be one zero-free msgpack map
//! that reads back as a JSON object passing `invariants` (see
//! `msgpack_check`).

#![no_main]

use libfuzzer_sys::fuzz_target;

mod checks;
mod invariants;
mod msgpack_check;

fuzz_target!(|data: &[u8]| checks::check_msgpack(data));
