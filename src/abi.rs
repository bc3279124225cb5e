//! The only place that touches fluent-bit's ABI: exported symbols, raw
//! pointers, the WASI preopen imports. Everything here is a thin wrapper
//! around [`crate::filter`].
//!
//! The contract (fluent-bit's `filter_wasm`, see the README), as invariants:
//!
//! - fluent-bit calls `fn(tag, tag_len, time_sec, time_nsec, record,
//!   record_len) -> *const u8` once per record, one call at a time, never
//!   re-entering. `tag` and `record` point at copies it made with our
//!   exported `malloc`, each followed by a NUL that the lengths exclude; it
//!   frees them after the call. They are only read during the call.
//! - The result points at a NUL-terminated string in our memory. fluent-bit
//!   copies it (`strdup`) and never frees it: the module owns it. It lives in
//!   one buffer that every call clears and reuses, so memory is bounded by
//!   the largest record, never by the number of records.
//! - A NULL or empty result drops the record; anything but a JSON object
//!   is an error that drops it. So every path returns a non-empty object.
//! - A trap (there should be none) drops that one record and the host calls
//!   the same instance again. No state here is ever left "in progress": the
//!   buffer is cleared at the start of each call, and the configuration is
//!   loaded through `once_cell::unsync::OnceCell`, which stays empty if its
//!   initialiser was cut off, so the next call simply loads it again.

#![allow(unsafe_code)]

use crate::config::{Config, ConfigError, ConfigProblem, FILE_NAME};
use crate::filter::{Entry, Filter};
use crate::time::Timestamp;
use once_cell::unsync::OnceCell;
use std::cell::UnsafeCell;

/// The per-instance state: the filters and the output buffer.
struct Instance {
    /// `rosetta_filter`'s, built from `rosetta.toml` at its first record.
    /// Boxed, here and below: storing the finished filter is then one
    /// pointer store, which a trap cannot cut in half (a struct stored
    /// field by field could be left marked present but half written).
    configured: OnceCell<Box<Filter>>,
    /// The fixed entry points', which never read the file.
    fixed: OnceCell<Box<Filter>>,
    out: Vec<u8>,
}

struct Global(UnsafeCell<Instance>);

// SAFETY: a wasm32-wasip1 module has one thread. fluent-bit (WAMR) calls one
// export at a time and none of them re-enters another, so there is never
// more than one live reference to the instance.
unsafe impl Sync for Global {}

static INSTANCE: Global = Global(UnsafeCell::new(Instance {
    configured: OnceCell::new(),
    fixed: OnceCell::new(),
    out: Vec::new(),
}));

/// The bytes `len` long at `ptr`, or an empty slice when the range is not
/// inside linear memory.
///
/// # Safety
/// When the range is inside linear memory, it must not be written while the
/// returned slice is alive (fluent-bit's copies are not touched until the
/// call returns).
unsafe fn input<'a>(ptr: *const u8, len: u32) -> &'a [u8] {
    let memory_end = core::arch::wasm32::memory_size(0).saturating_mul(65536);
    let start = ptr as usize;
    if ptr.is_null()
        || start
            .checked_add(len as usize)
            .is_none_or(|end| end > memory_end)
    {
        return &[];
    }
    // SAFETY: the range [ptr, ptr + len) is inside linear memory (checked
    // above), every byte of which is initialised and readable for u8, and
    // the caller promises it is not written during the call.
    unsafe { core::slice::from_raw_parts(ptr, len as usize) }
}

fn call(
    entry: Entry,
    tag_ptr: *const u8,
    tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record_ptr: *const u8,
    record_len: u32,
) -> *const u8 {
    // SAFETY: single-threaded and never re-entered (see `Global`), so this is
    // the only reference to the instance for the duration of the call.
    let instance = unsafe { &mut *INSTANCE.0.get() };
    // SAFETY: fluent-bit's record copy stays untouched until we return.
    let record = unsafe { input(record_ptr, record_len) };
    // SAFETY: as for the record: fluent-bit's tag copy is not touched until
    // we return.
    let tag = unsafe { input(tag_ptr, tag_len) };
    let filter = match entry {
        Entry::Filter => instance.configured.get_or_init(|| {
            let (config, parsers_file) = load_config();
            Box::new(Filter::load(config, parsers_file, random_seed()))
        }),
        Entry::Envoy | Entry::NginxIngress => instance
            .fixed
            .get_or_init(|| Box::new(Filter::new(Ok(Config::default())))),
    };
    let time = Timestamp::new(i64::from(time_sec), time_nsec, 9)
        .or_else(|| Timestamp::new(i64::from(time_sec), 0, 0))
        .unwrap_or_default();
    if entry == Entry::Filter {
        let unix = i64::try_from(clock(CLOCK_REALTIME)).unwrap_or(i64::MAX);
        filter.set_clock(clock(CLOCK_MONOTONIC), unix);
    }
    filter.run(entry, tag, time, record, &mut instance.out);
    for line in filter.take_notices() {
        write_stderr(&line);
    }
    instance.out.push(0);
    instance.out.as_ptr()
}

/// fluent-bit's entry point, driven by `rosetta.toml`.
#[unsafe(no_mangle)]
pub extern "C" fn rosetta_filter(
    tag: *const u8,
    tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    call(
        Entry::Filter,
        tag,
        tag_len,
        time_sec,
        time_nsec,
        record,
        record_len,
    )
}

/// The Envoy family (Envoy text, Istio text, Envoy/Istio JSON), no
/// configuration file needed.
#[unsafe(no_mangle)]
pub extern "C" fn rosetta_envoy(
    tag: *const u8,
    tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    call(
        Entry::Envoy,
        tag,
        tag_len,
        time_sec,
        time_nsec,
        record,
        record_len,
    )
}

/// ingress-nginx access logs, no configuration file needed.
#[unsafe(no_mangle)]
pub extern "C" fn rosetta_nginx_ingress(
    tag: *const u8,
    tag_len: u32,
    time_sec: u32,
    time_nsec: u32,
    record: *const u8,
    record_len: u32,
) -> *const u8 {
    call(
        Entry::NginxIngress,
        tag,
        tag_len,
        time_sec,
        time_nsec,
        record,
        record_len,
    )
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
unsafe extern "C" {
    fn fd_prestat_get(fd: u32, prestat: *mut Prestat) -> u16;
    fn fd_prestat_dir_name(fd: u32, path: *mut u8, len: u32) -> u16;
    fn fd_write(fd: u32, iovs: *const Ciovec, iovs_len: u32, written: *mut u32) -> u16;
    fn clock_time_get(id: u32, precision: u64, time: *mut u64) -> u16;
    fn random_get(buf: *mut u8, len: u32) -> u16;
}

/// WASI's clock ids.
const CLOCK_REALTIME: u32 = 0;
const CLOCK_MONOTONIC: u32 = 1;

/// The host's clock `id`, in nanoseconds (0 if it has none).
fn clock(id: u32) -> u64 {
    let mut time = 0u64;
    // SAFETY: `time` is a valid, writable u64, the out-parameter WASI
    // preview 1 defines for `clock_time_get`.
    if unsafe { clock_time_get(id, 1, &mut time) } != 0 {
        return 0;
    }
    time
}

/// Eight bytes from the host's random source (0 if it has none): the
/// limiters' hash seed, so that keys that collide cannot be computed in
/// advance.
fn random_seed() -> u64 {
    let mut bytes = [0u8; 8];
    // SAFETY: `bytes` is 8 writable bytes, the length passed.
    if unsafe { random_get(bytes.as_mut_ptr(), 8) } != 0 {
        return 0;
    }
    u64::from_le_bytes(bytes)
}

/// WASI's `ciovec`: a buffer to write.
#[repr(C)]
struct Ciovec {
    buf: *const u8,
    len: u32,
}

/// Writes one line to fluent-bit's stderr with a bare WASI call.
///
/// Not `eprintln!`: std's stderr sits behind a lock and a `RefCell`, and a
/// trap in the middle of a write (fluent-bit carries on with the same
/// instance) would leave it borrowed, making every later write, and so every
/// later record, trap.
fn write_stderr(line: &str) {
    let text = format!("{line}\n");
    let mut rest = text.as_bytes();
    while !rest.is_empty() {
        let iov = Ciovec {
            buf: rest.as_ptr(),
            len: rest.len() as u32,
        };
        let mut written = 0u32;
        // SAFETY: `iov` describes `rest`, which is alive and unmodified for
        // the call; `written` is a valid, writable u32.
        let errno = unsafe { fd_write(2, &iov, 1, &mut written) };
        if errno != 0 || written == 0 {
            return;
        }
        rest = rest.get(written as usize..).unwrap_or_default();
    }
}

/// WASI's `prestat`: a tag (0 = directory) and the name's length.
#[repr(C)]
struct Prestat {
    tag: u8,
    name_len: u32,
}

/// The directories fluent-bit pre-opened (its `accessible_paths`), in order.
fn preopened_dirs() -> Vec<String> {
    let mut dirs = Vec::new();
    for fd in 3u32..64 {
        let mut prestat = Prestat {
            tag: 0,
            name_len: 0,
        };
        // SAFETY: `prestat` is a valid, writable `Prestat`, the layout WASI
        // preview 1 defines for `fd_prestat_get`.
        if unsafe { fd_prestat_get(fd, &mut prestat) } != 0 {
            break;
        }
        if prestat.tag != 0 {
            continue;
        }
        let mut name = vec![0u8; prestat.name_len as usize];
        // SAFETY: `name` has exactly `name_len` writable bytes, the length
        // the host reported for this descriptor's name.
        if unsafe { fd_prestat_dir_name(fd, name.as_mut_ptr(), prestat.name_len) } == 0 {
            dirs.push(
                String::from_utf8_lossy(&name)
                    .trim_end_matches('\0')
                    .to_string(),
            );
        }
    }
    dirs
}

/// Reads `rosetta.toml` from the first pre-opened directory that has one
/// (the defaults when none has), and the `parsers_file` it names, from the
/// same directory unless its path is absolute. A problem is printed once,
/// here, to stderr.
fn load_config() -> (Result<Config, ConfigError>, Option<(String, String)>) {
    let config = read_config();
    let Ok(Some((named, dir))) = config
        .as_ref()
        .map(|(c, dir)| c.parsers_file.as_ref().map(|n| (n.clone(), dir.clone())))
    else {
        return (config.map(|(c, _)| c), None);
    };
    let path = if named.name.starts_with('/') || dir == "." {
        named.name.clone()
    } else {
        format!("{}/{}", dir.trim_end_matches('/'), named.name)
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => (config.map(|(c, _)| c), Some((path, text))),
        Err(e) => {
            let e = ConfigError {
                file: config
                    .as_ref()
                    .map(|(c, _)| c.file.clone())
                    .unwrap_or_default(),
                line: named.line,
                problem: ConfigProblem::Unreadable(format!("parsers_file {path}: {e}")),
            };
            write_stderr(&format!(
                "[rosetta] {e}; records pass through unchanged with rosetta.error"
            ));
            (Err(e), None)
        }
    }
}

/// Reads `rosetta.toml` and says which directory it came from.
fn read_config() -> Result<(Config, String), ConfigError> {
    for dir in preopened_dirs() {
        let path = if dir == "." {
            FILE_NAME.to_string()
        } else {
            format!("{}/{FILE_NAME}", dir.trim_end_matches('/'))
        };
        let loaded = match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => Config::parse(&path, &text).map(|c| (c, dir.clone())),
                Err(_) => Err(ConfigError {
                    file: path,
                    line: 0,
                    problem: ConfigProblem::Unreadable("not UTF-8".to_string()),
                }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => Err(ConfigError {
                file: path,
                line: 0,
                problem: ConfigProblem::Unreadable(e.to_string()),
            }),
        };
        if let Err(e) = &loaded {
            write_stderr(&format!(
                "[rosetta] {e}; records pass through unchanged with rosetta.error"
            ));
        }
        return loaded;
    }
    Ok((Config::default(), ".".to_string()))
}
