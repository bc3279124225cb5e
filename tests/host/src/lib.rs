//! A stand-in for fluent-bit's `wasm` filter, for testing and measuring a
//! filter module outside fluent-bit.
//!
//! [`Host`] loads a module (`.wasm`, or `.wat` text) and calls its filter
//! export once per record exactly the way fluent-bit v5.1.1's `filter_wasm`
//! does through WAMR 2.4.1: the tag and the record are copied into the
//! module's memory (through its exported `malloc`/`free`, or through an
//! emulation of WAMR's app heap), the result pointer is read as a
//! NUL-terminated string and judged the way fluent-bit judges it, a trap is
//! logged and the same instance is used again. On top of that it counts fuel
//! (about one unit per executed wasm instruction), watches linear memory,
//! captures the module's stdout and stderr, and drives a virtual clock.
//!
//! [`Body`] and [`to_fluent_bit_json`] produce the record text exactly as
//! fluent-bit's encoder hands it to the module; [`json`] judges a module's
//! answer with the same leniency as fluent-bit's JSON reader; [`tail`] turns
//! log-file lines into records the way fluent-bit's `tail` input and its
//! stock `docker` and `cri` parsers do; [`module_report`] inspects a module
//! without running it.
//!
//! Invariant: nothing in this crate is `unsafe`; every interaction with the
//! module goes through wasmtime's safe API.

#![forbid(unsafe_code)]

pub mod body;
pub mod capture;
pub mod clock;
pub mod error;
pub mod heap;
pub mod host;
pub mod json;
pub mod msgpack;
pub mod report;
pub mod tail;

pub use body::{Body, from_json_object, to_fluent_bit_json, to_msgpack};
pub use clock::VirtualClock;
pub use error::HostError;
pub use host::{
    DEFAULT_FUNCTION, DEFAULT_HEAP_SIZE, DropReason, EventFormat, Host, HostConfig, Outcome,
    PreopenDir, Stats, Verdict,
};
pub use report::{MemoryReport, ModuleReport, ReportError, module_report};
