//! What the integration tests share: where the built module is, a host that
//! runs it the way fluent-bit would, in a sandbox of its own, records
//! shaped the way fluent-bit's `tail` + `docker` parser hands them over,
//! and ([`classic`]) a reader of fluent-bit's classic configuration files.
//!
//! Invariants: every [`Sandboxed`] host pre-opens a fresh, initially empty
//! temporary directory as `.`, so no `rosetta.toml` lying around the
//! working directory is ever read, and the directory is removed when the
//! host is dropped; records are always rendered by the host crate's copy of
//! fluent-bit's JSON encoder, never written by hand.

#![allow(dead_code)]

pub mod classic;

use rosetta_host::{Body, Host, HostConfig, PreopenDir, to_fluent_bit_json};
use std::ops::{Deref, DerefMut};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The built module: `$ROSETTA_WASM`, else the release build under this
/// crate's `target/`.
pub fn module_path() -> PathBuf {
    match std::env::var_os("ROSETTA_WASM") {
        Some(path) => PathBuf::from(path),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/wasm32-wasip1/release/rosetta.wasm")
        }
    }
}

/// A test fixture module from `tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A directory under the system temp dir, unique to this process and call,
/// removed when dropped.
pub struct TempDir {
    pub path: PathBuf,
}

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("rosetta-it-{}-{n}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        if let Err(e) = std::fs::create_dir_all(&path) {
            panic!("cannot create {}: {e}", path.display());
        }
        TempDir { path }
    }

    /// Writes `text` to `name` inside the directory.
    pub fn write(&self, name: &str, text: &str) {
        if let Err(e) = std::fs::write(self.path.join(name), text) {
            panic!("cannot write {name} in {}: {e}", self.path.display());
        }
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// fluent-bit's defaults for `function` of the built module, with
/// `dot` pre-opened as `.` and nothing else.
pub fn config(function: &str, dot: &Path) -> HostConfig {
    HostConfig {
        function: function.to_string(),
        accessible_paths: Vec::new(),
        mapped_dirs: vec![PreopenDir {
            host: dot.to_path_buf(),
            guest: ".".to_string(),
        }],
        ..HostConfig::new(module_path())
    }
}

/// A host and the directory it sees as `.` (empty until a test writes to
/// it; the module reads `rosetta.toml` at its first record, so a file
/// written before then is the one it reads).
pub struct Sandboxed {
    pub host: Host,
    pub dot: TempDir,
}

impl Deref for Sandboxed {
    type Target = Host;
    fn deref(&self) -> &Host {
        &self.host
    }
}

impl DerefMut for Sandboxed {
    fn deref_mut(&mut self) -> &mut Host {
        &mut self.host
    }
}

/// Loads `config` or fails the test saying why.
pub fn load(config: HostConfig) -> Host {
    let module = config.module.clone();
    match Host::new(config) {
        Ok(host) => host,
        Err(e) => panic!(
            "{} does not load ({e}); build it with `make build` or set ROSETTA_WASM",
            module.display()
        ),
    }
}

/// The built module called through `function`, with fluent-bit's
/// defaults, in a fresh sandbox.
pub fn host(function: &str) -> Sandboxed {
    host_with(function, |c| c)
}

/// As [`host`], with the configuration changed by `edit` first.
pub fn host_with(function: &str, edit: impl FnOnce(HostConfig) -> HostConfig) -> Sandboxed {
    let dot = TempDir::new(function);
    let host = load(edit(config(function, &dot.path)));
    Sandboxed { host, dot }
}

/// A docker json-file record body, `{"log":..,"stream":..,"time":..}`, as
/// fluent-bit's encoder hands it to the module. `log` is raw bytes: invalid
/// UTF-8 is rendered the way fluent-bit renders it.
pub fn docker_bytes(log: &[u8], stream: &str, time: &str) -> Vec<u8> {
    to_fluent_bit_json(&Body::Map(vec![
        (Body::str("log"), Body::Str(log.to_vec())),
        (Body::str("stream"), Body::str(stream)),
        (Body::str("time"), Body::str(time)),
    ]))
}

/// [`docker_bytes`] for a text line.
pub fn docker(log: &str, stream: &str, time: &str) -> Vec<u8> {
    docker_bytes(log.as_bytes(), stream, time)
}

/// A docker record of `log` on stdout at a fixed time.
pub fn line(log: &str) -> Vec<u8> {
    docker(log, "stdout", "2026-11-27T08:10:00.100Z")
}

/// The `log` strings of an example log file (docker json-file lines).
pub fn example_lines(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/logs")
        .join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("log").and_then(|l| l.as_str()).map(str::to_string))
        .collect()
}

/// The example istio-proxy log's access-log lines (those starting `[`).
pub fn istio_lines() -> Vec<String> {
    example_lines("shop_productpage-v1-6b746f74dc-9stvs_istio-proxy.log")
        .into_iter()
        .filter(|l| l.starts_with('['))
        .collect()
}

/// `raw` as JSON string content (no quotes), escaped the way fluent-bit's
/// encoder does with `json.escape_unicode` on: the module's own escaper,
/// which the unit tests hold to fluent-bit's rules.
pub fn escape_like_fluent_bit(raw: &str) -> String {
    let mut quoted = Vec::with_capacity(raw.len() + 2);
    rosetta::out::escape_into(&mut quoted, raw.as_bytes());
    let inner = quoted.get(1..quoted.len() - 1).unwrap_or_default();
    String::from_utf8_lossy(inner).into_owned()
}
