//! Why a module cannot be loaded into the host.
//!
//! Only loading fails with an error: once a module is running, everything a
//! record can do (trap, bad answer, failed copy) is an
//! [`Outcome`](crate::Outcome), as it is in fluent-bit.

use crate::heap::HeapError;
use std::fmt;
use std::path::PathBuf;

/// A module that fluent-bit's wasm filter would fail to start with, or that
/// this host cannot run.
#[derive(Debug)]
pub enum HostError {
    /// The module file could not be read.
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The module is not valid WebAssembly (or WAT), or uses a feature the
    /// host has switched off as WAMR has (SIMD).
    Compile { path: PathBuf, message: String },
    /// A directory in `accessible_paths` could not be pre-opened.
    Preopen {
        host: PathBuf,
        guest: String,
        message: String,
    },
    /// The module imports something WASI preview 1 does not provide.
    Link { message: String },
    /// Instantiation failed (a start function trapped, or a resource limit).
    Instantiate { message: String },
    /// The module has no exported memory (WAMR refuses a WASI module
    /// without one, and the host has nowhere to copy records).
    NoMemory,
    /// WAMR's app heap could not be inserted.
    Heap(HeapError),
    /// `_initialize` trapped.
    Initialize { message: String },
    /// The wasmtime engine could not be configured.
    Engine { message: String },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Read { path, source } => write!(
                f,
                "cannot read wasm program at {}: {source}",
                path.display()
            ),
            HostError::Compile { path, message } => {
                write!(f, "cannot load wasm program {}: {message}", path.display())
            }
            HostError::Preopen {
                host,
                guest,
                message,
            } => {
                write!(
                    f,
                    "cannot pre-open {} as {guest:?}: {message}",
                    host.display()
                )
            }
            HostError::Link { message } => write!(f, "cannot link the module: {message}"),
            HostError::Instantiate { message } => {
                write!(f, "cannot instantiate the module: {message}")
            }
            HostError::NoMemory => write!(f, "a module with WASI apis must export memory"),
            HostError::Heap(e) => write!(f, "cannot instantiate the module: {e}"),
            HostError::Initialize { message } => write!(f, "_initialize failed: {message}"),
            HostError::Engine { message } => write!(f, "cannot configure wasmtime: {message}"),
        }
    }
}

impl std::error::Error for HostError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HostError::Read { source, .. } => Some(source),
            HostError::Heap(e) => Some(e),
            _ => None,
        }
    }
}

impl From<HeapError> for HostError {
    fn from(e: HeapError) -> Self {
        HostError::Heap(e)
    }
}
