//! rosetta: a Fluent Bit filter that turns container logs into typed,
//! trustworthy records.
//!
//! The crate is compiled twice: to `wasm32-wasip1` as the module fluent-bit
//! loads (`rosetta.wasm`), and natively for its unit tests. Everything that
//! touches the host ABI (exported symbols, raw pointers, WASI imports) lives in
//! [`abi`], the only module allowed `unsafe`; the rest is safe, pure code that
//! takes bytes and returns bytes, so it can be tested without a host.
//!
//! The per-record path ([`filter::Filter::run`]) never panics on input: every
//! outcome is one valid JSON object (see [`filter`] for what each error adds).

#![deny(unsafe_code)]
// Per-record code never panics on input: no unwrap, expect, panic or
// slice indexing that can fail (tests may). `unsafe` lives in `abi` only,
// and every block there says why it is sound.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]
#![deny(clippy::undocumented_unsafe_blocks, clippy::missing_safety_doc)]

#[cfg(target_arch = "wasm32")]
mod abi;
pub mod config;
pub mod envelope;
pub mod filter;
pub mod formats;
pub mod glob;
pub mod limit;
pub mod meaning;
pub mod msgpack;
pub mod out;
pub mod parsers_conf;
pub mod record;
pub mod route;
pub mod scan;
pub mod schema;
pub mod severity;
pub mod template;
pub mod time;
pub mod timestamps;
pub mod toml;
pub mod user_parser;

#[cfg(test)]
mod test_rng;
