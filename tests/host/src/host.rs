//! The host: fluent-bit v5.1.1's `filter_wasm` call path, reproduced on
//! wasmtime.
//!
//! Per record, [`Host::filter`] does what `flb_wasm_call_function_format_json`
//! (or `..._msgpack`) and `cb_wasm_filter` do (`src/wasm/flb_wasm.c`,
//! `plugins/filter_wasm/filter_wasm.c`, WAMR 2.4.1):
//!
//! 1. Look the function up; if it is missing, log
//!    `The <name> wasm function is not found.` and lose the record.
//! 2. Copy the tag (with a trailing NUL) and the record (JSON mode: with a
//!    trailing NUL; msgpack mode: without) into the module's memory, through
//!    its `malloc` when it exports `malloc: (i32) -> i32` and
//!    `free: (i32) -> ()`, else through WAMR's app heap ([`crate::heap`]).
//!    A copy that does not fit logs `warning: allocate N bytes memory
//!    failed` and, as in WAMR, the module is called with address 0 for it.
//! 3. Call `(tag, tag_len, time_sec, time_nsec, record, record_len) -> i32`.
//!    A trap logs `Got exception running wasm code: Exception: ...`, loses
//!    the record, and the same instance is used for the next record.
//! 4. Read the result as a NUL-terminated string. An address outside memory,
//!    or with no NUL before the end of memory, logs `[wasm] returned value
//!    is invalid` and loses the record, and (as in WAMR, which sets an
//!    exception it never clears) the next call then fails with
//!    `out of bounds memory access`. Address 0 is read like any other
//!    address (WAMR does not treat it specially); it normally holds an
//!    empty string.
//! 5. Free both copies, then judge the string. JSON mode: empty means
//!    dropped; otherwise its first JSON value (read with yyjson's
//!    leniency, [`crate::json`]) must be an object, else an error (`invalid
//!    JSON format`). Msgpack mode: the string (cut at its first 0x00 byte,
//!    fluent-bit issue 9976) must be exactly one msgpack map, else an error:
//!    fluent-bit would append those bytes unchecked as a corrupt record body.
//!
//! Beyond what fluent-bit does, [`Host::filter_at`] hands the module a
//! record address and length as they are (NULL, past the end of memory),
//! [`Host::set_fuel_per_call`] changes the fuel limit between calls, and
//! [`Host::last_answer`] shows the string the last call returned whatever
//! the verdict on it.
//!
//! At instantiation: WAMR's app heap is inserted (memory grows) when the
//! module does not export `malloc`/`free`; WAMR's warning `a module with
//! WASI apis should be either a command or a reactor` is logged for a module
//! that imports WASI but exports neither `_start` nor `_initialize`;
//! `_initialize` is called once for a WASI reactor (`__wasm_call_ctors` for
//! a module that imports no WASI). Directories are pre-opened under the
//! names given, no arguments or environment are passed, clocks come from a
//! [`VirtualClock`], stdout and stderr are captured.
//!
//! Invariants: a record can never make [`Host::filter`] fail or panic, only
//! produce an [`Outcome`]; `stats().records_in == kept + dropped + errors`;
//! the fuel of a call is the fuel the filter function itself consumed (the
//! copies through `malloc`/`free` are not counted).

use crate::body::{Body, to_fluent_bit_json};
use crate::capture::OutputCapture;
use crate::clock::VirtualClock;
use crate::error::HostError;
use crate::heap::{self, AppHeap};
use crate::json::{self, RootKind};
use crate::msgpack;
use crate::report::{ModuleReport, module_report, to_binary};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock, PoisonError};
use wasmtime::{Config, Engine, Instance, Linker, Memory, Module, Store, Trap, TypedFunc};
use wasmtime_wasi::p1::{WasiP1Ctx, add_to_linker_sync};
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtxBuilder};

/// The export rosetta's filter is called through by default.
pub const DEFAULT_FUNCTION: &str = "rosetta_filter";
/// fluent-bit's `wasm_heap_size` default (smaller values are raised to it).
pub const DEFAULT_HEAP_SIZE: u32 = 8192;
/// Fuel given to calls that have no limit.
const UNLIMITED_FUEL: u64 = u64::MAX;

/// fluent-bit's `event_format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventFormat {
    #[default]
    Json,
    Msgpack,
}

/// A host directory pre-opened under a guest name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreopenDir {
    pub host: PathBuf,
    pub guest: String,
}

/// How to run the module (fluent-bit's filter settings plus the host's
/// own measuring knobs).
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// `wasm_path`: a `.wasm` file, or `.wat` text.
    pub module: PathBuf,
    /// `function_name`.
    pub function: String,
    /// `accessible_paths`: each pre-opened under its own name, as WAMR does
    /// (`.` as `.`, `/etc/x` as `/etc/x`).
    pub accessible_paths: Vec<PathBuf>,
    /// Further directories pre-opened under another guest name (after
    /// `accessible_paths`), e.g. a temporary directory as `.`.
    pub mapped_dirs: Vec<PreopenDir>,
    /// `wasm_heap_size`; values below 8192 are raised to 8192, as
    /// fluent-bit does.
    pub heap_size: u32,
    /// `event_format`.
    pub event_format: EventFormat,
    /// Fuel one filter call may consume before it traps; `None` = no limit.
    pub fuel_per_call: Option<u64>,
    /// wasmtime's native stack limit for wasm code, in bytes (`None`:
    /// wasmtime's 512 KiB). Not WAMR's 8 KiB interpreter frame stack, which
    /// has no exact equivalent here; a small value makes deep recursion trap.
    pub max_wasm_stack: Option<usize>,
    /// Whether fuel counts each byte `memory.copy` and `memory.fill` move
    /// (wasmtime's default, `true`) on top of one unit per operator.
    /// fluent-bit's interpreter runs each of them as one native memmove or
    /// memset: `false` counts operators only, which tells how much of a
    /// figure is bytes moved.
    pub fuel_per_byte_moved: bool,
    /// Re-instantiate at every [`Host::end_chunk`], as fluent-bit up to 4.0 did.
    pub instance_per_chunk: bool,
    /// The clock the module sees.
    pub clock: VirtualClock,
    /// Write the module's stdout/stderr and the host log to the real stderr
    /// as they appear, instead of keeping them for [`Host::stdout`],
    /// [`Host::stderr`] and [`Host::log`].
    pub passthrough_output: bool,
}

impl HostConfig {
    /// fluent-bit's defaults for `module`, with no fuel limit, a persistent
    /// instance, a clock at the Unix epoch and captured output.
    pub fn new(module: impl Into<PathBuf>) -> HostConfig {
        HostConfig {
            module: module.into(),
            function: DEFAULT_FUNCTION.to_string(),
            accessible_paths: vec![PathBuf::from(".")],
            mapped_dirs: Vec::new(),
            heap_size: DEFAULT_HEAP_SIZE,
            event_format: EventFormat::Json,
            fuel_per_call: None,
            max_wasm_stack: None,
            fuel_per_byte_moved: true,
            instance_per_chunk: false,
            clock: VirtualClock::default(),
            passthrough_output: false,
        }
    }

    /// Every pre-opened directory, in the order the module sees them
    /// (fd 3 onwards).
    pub fn preopens(&self) -> Vec<PreopenDir> {
        self.accessible_paths
            .iter()
            .map(|p| PreopenDir {
                host: p.clone(),
                guest: p.to_string_lossy().into_owned(),
            })
            .chain(self.mapped_dirs.iter().cloned())
            .collect()
    }
}

/// Why a record was dropped without an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropReason {
    /// The function returned 0 and address 0 held an empty string.
    NullResult,
    /// The function returned an empty string.
    EmptyResult,
    /// The result address is outside memory or has no NUL before its end.
    InvalidAddress,
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DropReason::NullResult => "the function returned NULL",
            DropReason::EmptyResult => "the function returned an empty string",
            DropReason::InvalidAddress => "[wasm] returned value is invalid",
        })
    }
}

/// What fluent-bit does with one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The answer becomes the record's body.
    Kept {
        /// The answer's bytes (NUL excluded).
        raw: Vec<u8>,
        /// The answer as JSON (msgpack answers converted), when it nests no
        /// deeper than 128 levels; first duplicate keys are overwritten.
        json: Option<serde_json::Value>,
    },
    /// The record is gone; fluent-bit logs at most a debug line or a warning.
    Dropped { reason: DropReason },
    /// The record is gone and fluent-bit logs an error.
    Error { message: String },
}

/// The verdict on one record and what the call cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub verdict: Verdict,
    /// Fuel the filter call consumed (0 if it was not called).
    pub fuel: u64,
    /// A copy of the tag or record did not fit and the module was called
    /// with address 0 for it.
    pub copy_failed: bool,
}

impl Outcome {
    /// Whether the record was kept.
    pub fn is_kept(&self) -> bool {
        matches!(self.verdict, Verdict::Kept { .. })
    }

    /// The kept answer's bytes.
    pub fn raw(&self) -> Option<&[u8]> {
        match &self.verdict {
            Verdict::Kept { raw, .. } => Some(raw),
            _ => None,
        }
    }

    /// The kept answer as JSON.
    pub fn json(&self) -> Option<&serde_json::Value> {
        match &self.verdict {
            Verdict::Kept { json, .. } => json.as_ref(),
            _ => None,
        }
    }
}

/// Running totals.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub records_in: u64,
    pub kept: u64,
    pub dropped: u64,
    pub errors: u64,
    /// Records whose tag or record copy did not fit.
    pub copy_failures: u64,
    /// Fuel consumed by all filter calls.
    pub total_fuel: u64,
    /// Most fuel one filter call consumed.
    pub max_fuel: u64,
    /// Linear memory after the first instantiation (and `_initialize`).
    pub memory_at_start: u64,
    /// Linear memory now.
    pub memory_now: u64,
    /// Instantiations so far (1 unless `instance_per_chunk`).
    pub instantiations: u64,
}

impl Stats {
    /// Mean fuel per record in.
    pub fn fuel_per_record(&self) -> f64 {
        if self.records_in == 0 {
            0.0
        } else {
            self.total_fuel as f64 / self.records_in as f64
        }
    }
}

type FilterFn = TypedFunc<(i32, i32, i32, i32, i32, i32), i32>;

/// How input copies are made.
enum Copier {
    Exports {
        malloc: TypedFunc<i32, i32>,
        free: TypedFunc<i32, ()>,
    },
    AppHeap(AppHeap),
}

/// One instance and what the host holds of it.
struct Live {
    store: Store<WasiP1Ctx>,
    memory: Memory,
    filter: Result<FilterFn, String>,
    copier: Copier,
}

/// A filter module loaded the way fluent-bit's wasm filter loads it.
pub struct Host {
    config: HostConfig,
    engine: Engine,
    module: Module,
    linker: Linker<WasiP1Ctx>,
    report: ModuleReport,
    live: Live,
    stdout: OutputCapture,
    stderr: OutputCapture,
    log: Vec<String>,
    stats: Stats,
    /// WAMR's exception left set on the instance (see step 4).
    pending_exception: Option<String>,
    /// The string read at the result address by the last call.
    last_answer: Option<Vec<u8>>,
}

/// Where the record a call sees comes from.
#[derive(Clone, Copy)]
enum RecordArg<'a> {
    /// Copied into the module's memory and freed after the call, as
    /// fluent-bit does.
    Copy(&'a [u8]),
    /// An address and length handed over as they are: nothing is copied or
    /// freed.
    At { addr: u32, len: u32 },
}

/// WAMR's wording for a wasmtime trap.
fn exception_text(e: &wasmtime::Error) -> String {
    if let Some(exit) = e.downcast_ref::<I32Exit>() {
        return format!("wasi proc exit (code {})", exit.0);
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return match trap {
            Trap::UnreachableCodeReached => "unreachable".to_string(),
            Trap::MemoryOutOfBounds => "out of bounds memory access".to_string(),
            Trap::IntegerDivisionByZero => "integer divide by zero".to_string(),
            Trap::IntegerOverflow => "integer overflow".to_string(),
            Trap::BadConversionToInteger => "invalid conversion to integer".to_string(),
            Trap::IndirectCallToNull => "uninitialized element".to_string(),
            Trap::BadSignature => "indirect call type mismatch".to_string(),
            Trap::TableOutOfBounds => "undefined element".to_string(),
            Trap::StackOverflow => "wasm operand stack overflow (call stack exhausted)".to_string(),
            Trap::OutOfFuel => "fuel limit reached (all fuel consumed by WebAssembly)".to_string(),
            other => other.to_string(),
        };
    }
    format!("{e:#}")
}

/// A Body as serde_json sees it (lossy strings; non-string keys as their
/// fluent-bit JSON text). Only called on bodies of bounded depth.
fn to_value(body: &Body) -> serde_json::Value {
    use serde_json::Value;
    match body {
        Body::Nil => Value::Null,
        Body::Bool(b) => Value::Bool(*b),
        Body::Int(v) => Value::from(*v),
        Body::UInt(v) => Value::from(*v),
        Body::Float(v) => serde_json::Number::from_f64(*v).map_or(Value::Null, Value::Number),
        Body::Str(bytes) | Body::Bin(bytes) => {
            Value::String(String::from_utf8_lossy(bytes).into_owned())
        }
        Body::Array(items) => Value::Array(items.iter().map(to_value).collect()),
        Body::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (key, value) in entries {
                let key = match key {
                    Body::Str(bytes) | Body::Bin(bytes) => {
                        String::from_utf8_lossy(bytes).into_owned()
                    }
                    other => String::from_utf8_lossy(&to_fluent_bit_json(other)).into_owned(),
                };
                map.insert(key, to_value(value));
            }
            Value::Object(map)
        }
    }
}

impl Host {
    /// Loads, links and instantiates the module (see the module doc).
    pub fn new(mut config: HostConfig) -> Result<Host, HostError> {
        config.heap_size = config.heap_size.max(DEFAULT_HEAP_SIZE);
        let source = std::fs::read(&config.module).map_err(|source| HostError::Read {
            path: config.module.clone(),
            source,
        })?;
        let compile_error = |message: String| HostError::Compile {
            path: config.module.clone(),
            message,
        };
        let wasm = to_binary(&source).map_err(|e| compile_error(e.to_string()))?;
        let report = report_for(&wasm).map_err(|e| compile_error(e.to_string()))?;
        if report.uses_simd {
            return Err(compile_error(
                "the module uses SIMD, which fluent-bit's WAMR is built without (it refuses to load it)".to_string(),
            ));
        }

        let module = compile(&config, &wasm)?;
        let engine = module.engine().clone();
        let mut linker: Linker<WasiP1Ctx> = Linker::new(&engine);
        add_to_linker_sync(&mut linker, |ctx| ctx).map_err(|e| HostError::Link {
            message: format!("{e:#}"),
        })?;

        let stdout = OutputCapture::new();
        let stderr = OutputCapture::new();
        let mut log = Vec::new();
        let live = instantiate(
            &config, &engine, &module, &linker, &report, &stdout, &stderr, &mut log,
        )?;
        let memory = live.memory.data_size(&live.store) as u64;
        let mut host = Host {
            config,
            engine,
            module,
            linker,
            report,
            live,
            stdout,
            stderr,
            log,
            stats: Stats {
                memory_at_start: memory,
                memory_now: memory,
                instantiations: 1,
                ..Stats::default()
            },
            pending_exception: None,
            last_answer: None,
        };
        host.echo();
        Ok(host)
    }

    /// Runs one record through the module (see the module doc).
    pub fn filter(&mut self, tag: &str, time_sec: u32, time_nsec: u32, record: &[u8]) -> Outcome {
        let outcome =
            self.filter_inner(tag.as_bytes(), time_sec, time_nsec, RecordArg::Copy(record));
        self.tally(outcome)
    }

    /// Calls the filter function with `record_addr` and `record_len` passed
    /// as they are, pointing into the module's memory (or not): a NULL
    /// record, a range past the end of memory. fluent-bit never does this;
    /// it shows what the module makes of arguments it cannot trust. The tag
    /// is copied as in [`Host::filter`]; nothing is copied for the record
    /// and nothing is freed for it. The result is judged as usual.
    pub fn filter_at(
        &mut self,
        tag: &str,
        time_sec: u32,
        time_nsec: u32,
        record_addr: u32,
        record_len: u32,
    ) -> Outcome {
        let record = RecordArg::At {
            addr: record_addr,
            len: record_len,
        };
        let outcome = self.filter_inner(tag.as_bytes(), time_sec, time_nsec, record);
        self.tally(outcome)
    }

    /// Adds one outcome to the running totals.
    fn tally(&mut self, outcome: Outcome) -> Outcome {
        let s = &mut self.stats;
        s.records_in += 1;
        match outcome.verdict {
            Verdict::Kept { .. } => s.kept += 1,
            Verdict::Dropped { .. } => s.dropped += 1,
            Verdict::Error { .. } => s.errors += 1,
        }
        if outcome.copy_failed {
            s.copy_failures += 1;
        }
        s.total_fuel += outcome.fuel;
        s.max_fuel = s.max_fuel.max(outcome.fuel);
        self.stats.memory_now = self.memory_bytes();
        self.echo();
        outcome
    }

    /// Changes the fuel one filter call may consume from the next call on
    /// (`None` = no limit), e.g. to cut one call off and let the next run.
    pub fn set_fuel_per_call(&mut self, fuel: Option<u64>) {
        self.config.fuel_per_call = fuel;
    }

    /// The bytes the last call's result address held up to its NUL, as
    /// fluent-bit's `strdup` copies them, whatever the verdict on them;
    /// `None` when the last call trapped or returned an invalid address.
    pub fn last_answer(&self) -> Option<&[u8]> {
        self.last_answer.as_deref()
    }

    /// Ends a chunk: with `instance_per_chunk`, the instance is replaced by
    /// a fresh one (fluent-bit up to 4.0); otherwise nothing happens.
    pub fn end_chunk(&mut self) -> Result<(), HostError> {
        if self.config.instance_per_chunk {
            self.live = instantiate(
                &self.config,
                &self.engine,
                &self.module,
                &self.linker,
                &self.report,
                &self.stdout,
                &self.stderr,
                &mut self.log,
            )?;
            self.pending_exception = None;
            self.stats.instantiations += 1;
            self.stats.memory_now = self.memory_bytes();
            self.echo();
        }
        Ok(())
    }

    /// Running totals.
    pub fn stats(&self) -> Stats {
        Stats {
            memory_now: self.memory_bytes(),
            ..self.stats.clone()
        }
    }

    /// Current size of the module's linear memory in bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.live.memory.data_size(&self.live.store) as u64
    }

    /// Everything the module wrote to stdout.
    pub fn stdout(&self) -> Vec<u8> {
        self.stdout.contents()
    }

    /// Everything the module wrote to stderr.
    pub fn stderr(&self) -> Vec<u8> {
        self.stderr.contents()
    }

    /// The lines fluent-bit (and WAMR) would have logged.
    pub fn log(&self) -> &[String] {
        &self.log
    }

    /// The clock the module sees.
    pub fn clock(&self) -> &VirtualClock {
        &self.config.clock
    }

    /// What the module is.
    pub fn report(&self) -> &ModuleReport {
        &self.report
    }

    /// The configuration in force (heap size already raised to the minimum).
    pub fn config(&self) -> &HostConfig {
        &self.config
    }

    /// Bytes of the module's memory at `[addr, addr + len)`, if in bounds.
    pub fn read_memory(&self, addr: u32, len: usize) -> Option<Vec<u8>> {
        let start = usize::try_from(addr).ok()?;
        self.live
            .memory
            .data(&self.live.store)
            .get(start..start.checked_add(len)?)
            .map(<[u8]>::to_vec)
    }

    /// With `passthrough_output`, hands new module output and log lines to
    /// the real stderr and forgets them (a long replay keeps nothing).
    fn echo(&mut self) {
        if !self.config.passthrough_output {
            return;
        }
        let mut real = std::io::stderr().lock();
        let _ = real.write_all(&self.stdout.contents());
        let _ = real.write_all(&self.stderr.contents());
        for line in self.log.drain(..) {
            let _ = writeln!(real, "{line}");
        }
        let _ = real.flush();
        self.stdout.clear();
        self.stderr.clear();
    }

    /// Copies `bytes` into the module's memory; 0 when it does not fit.
    fn dup(&mut self, bytes: &[u8]) -> u32 {
        let size = bytes.len() as u64;
        let live = &mut self.live;
        let addr = match &mut live.copier {
            Copier::AppHeap(heap) => heap.alloc(size),
            Copier::Exports { malloc, .. } => {
                let _ = live.store.set_fuel(UNLIMITED_FUEL);
                match i32::try_from(size).map(|n| malloc.call(&mut live.store, n)) {
                    Ok(Ok(addr)) if addr != 0 => Some(addr as u32),
                    Ok(Ok(_)) => None,
                    Ok(Err(e)) => {
                        self.pending_exception = Some(exception_text(&e));
                        return 0;
                    }
                    Err(_) => None,
                }
            }
        };
        let written = addr.and_then(|addr| {
            let data = live.memory.data_mut(&mut live.store);
            let start = usize::try_from(addr).ok()?;
            data.get_mut(start..start.checked_add(bytes.len())?)?
                .copy_from_slice(bytes);
            Some(addr)
        });
        match written {
            Some(addr) => addr,
            None => {
                self.log
                    .push(format!("warning: allocate {size} bytes memory failed"));
                0
            }
        }
    }

    fn release(&mut self, addr: u32) {
        if addr == 0 {
            return;
        }
        let live = &mut self.live;
        match &mut live.copier {
            Copier::AppHeap(heap) => {
                heap.free(addr);
            }
            Copier::Exports { free, .. } => {
                let _ = live.store.set_fuel(UNLIMITED_FUEL);
                if let Err(e) = free.call(&mut live.store, addr as i32) {
                    self.pending_exception = Some(exception_text(&e));
                }
            }
        }
    }

    fn exception(&mut self, text: String) -> Verdict {
        let line = format!("Got exception running wasm code: Exception: {text}");
        self.log.push(line.clone());
        Verdict::Error { message: line }
    }

    fn filter_inner(
        &mut self,
        tag: &[u8],
        time_sec: u32,
        time_nsec: u32,
        record: RecordArg<'_>,
    ) -> Outcome {
        self.last_answer = None;
        let filter = match &self.live.filter {
            Ok(f) => f.clone(),
            Err(message) => {
                self.log.push(message.clone());
                return Outcome {
                    verdict: Verdict::Error {
                        message: message.clone(),
                    },
                    fuel: 0,
                    copy_failed: false,
                };
            }
        };
        let mut tag_copy = tag.to_vec();
        tag_copy.push(0);
        let tag_addr = self.dup(&tag_copy);
        let (record_addr, record_len, record_copied) = match (record, self.config.event_format) {
            (RecordArg::Copy(record), EventFormat::Json) => {
                let mut record_copy = record.to_vec();
                record_copy.push(0);
                (self.dup(&record_copy), record.len(), true)
            }
            (RecordArg::Copy(record), EventFormat::Msgpack) => {
                (self.dup(record), record.len(), true)
            }
            (RecordArg::At { addr, len }, _) => (addr, len as usize, false),
        };
        let copy_failed = tag_addr == 0 || (record_copied && record_addr == 0);
        // Only the host's own copy is freed.
        let record_copy_addr = if record_copied { record_addr } else { 0 };

        let live = &mut self.live;
        let _ = live
            .store
            .set_fuel(self.config.fuel_per_call.unwrap_or(UNLIMITED_FUEL));
        let before = live.store.get_fuel().unwrap_or(0);
        let args = (
            tag_addr as i32,
            tag.len() as i32,
            time_sec as i32,
            time_nsec as i32,
            record_addr as i32,
            record_len as i32,
        );
        let result = filter.call(&mut live.store, args);
        let fuel = before.saturating_sub(live.store.get_fuel().unwrap_or(0));

        let verdict = match result {
            Err(e) => {
                self.pending_exception = None;
                self.exception(exception_text(&e))
            }
            Ok(_) if self.pending_exception.is_some() => {
                let text = self.pending_exception.take().unwrap_or_default();
                self.exception(text)
            }
            Ok(addr) => match self.read_result(addr as u32) {
                None => {
                    self.log
                        .push("[wasm] returned value is invalid".to_string());
                    self.pending_exception = Some("out of bounds memory access".to_string());
                    Verdict::Dropped {
                        reason: DropReason::InvalidAddress,
                    }
                }
                Some(answer) => {
                    self.release(tag_addr);
                    self.release(record_copy_addr);
                    self.last_answer = Some(answer.clone());
                    let verdict = self.judge(addr == 0, answer);
                    return Outcome {
                        verdict,
                        fuel,
                        copy_failed,
                    };
                }
            },
        };
        self.release(tag_addr);
        self.release(record_copy_addr);
        Outcome {
            verdict,
            fuel,
            copy_failed,
        }
    }

    /// The NUL-terminated string at `addr` (strdup), if WAMR accepts it.
    fn read_result(&self, addr: u32) -> Option<Vec<u8>> {
        let data = self.live.memory.data(&self.live.store);
        let tail = data.get(usize::try_from(addr).ok()?..)?;
        let len = tail.iter().position(|&b| b == 0)?;
        tail.get(..len).map(<[u8]>::to_vec)
    }

    fn judge(&mut self, null: bool, answer: Vec<u8>) -> Verdict {
        match self.config.event_format {
            EventFormat::Json => {
                if answer.is_empty() {
                    let reason = if null {
                        DropReason::NullResult
                    } else {
                        DropReason::EmptyResult
                    };
                    return Verdict::Dropped { reason };
                }
                let (ret, detail) = match json::read_first(&answer, json::BUILD_DEPTH_LIMIT) {
                    Ok(doc) if doc.kind == RootKind::Object => {
                        return Verdict::Kept {
                            json: doc.body.as_ref().map(to_value),
                            raw: answer,
                        };
                    }
                    Ok(doc) => (
                        0,
                        format!("the first value is {:?}, not an object", doc.kind),
                    ),
                    Err(e) if e.kind == json::JsonErrorKind::NoValue => (0, e.to_string()),
                    Err(e) => (-1, e.to_string()),
                };
                let line = format!(
                    "invalid JSON format. ret: {ret}, buf: {}",
                    String::from_utf8_lossy(&answer)
                );
                self.log.push(line.clone());
                Verdict::Error {
                    message: format!("{line} ({detail})"),
                }
            }
            EventFormat::Msgpack => {
                let problem = match msgpack::decode_one(&answer) {
                    Ok(decoded) if decoded.kind == msgpack::Kind::Map => {
                        return Verdict::Kept {
                            json: decoded.body.as_ref().map(to_value),
                            raw: answer,
                        };
                    }
                    Ok(_) => "the answer is not a msgpack map".to_string(),
                    Err(e) => e.to_string(),
                };
                let message = format!(
                    "msgpack answer of {} bytes (as cut by strlen) is not one map: {problem}; \
                     fluent-bit would append it unchecked as a corrupt record body",
                    answer.len()
                );
                self.log.push(message.clone());
                Verdict::Error { message }
            }
        }
    }
}

/// Reports of the modules loaded so far, keyed by their bytes: validating
/// a large module (twice: with and without SIMD) takes milliseconds, and a
/// test suite builds many hosts of one module.
type ReportCache = Mutex<Vec<(Vec<u8>, ModuleReport)>>;
static REPORTS: OnceLock<ReportCache> = OnceLock::new();

/// [`module_report`] of `wasm`, or the copy made earlier.
fn report_for(wasm: &[u8]) -> Result<ModuleReport, crate::report::ReportError> {
    let cache = REPORTS.get_or_init(ReportCache::default);
    let cached = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(bytes, _)| bytes == wasm)
        .map(|(_, report)| report.clone());
    if let Some(report) = cached {
        return Ok(report);
    }
    let report = module_report(wasm)?;
    cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push((wasm.to_vec(), report.clone()));
    Ok(report)
}

/// Compiled modules shared by every [`Host`] in the process, keyed by the
/// module's bytes and the engine settings: compiling a large module takes
/// seconds, and a test suite builds many hosts of one module.
type CompiledCache = Mutex<Vec<((Option<usize>, bool), Vec<u8>, Module)>>;
static COMPILED: OnceLock<CompiledCache> = OnceLock::new();

/// Compiles `wasm` with fuel metering on and SIMD off (as WAMR is built),
/// or returns the copy compiled earlier.
fn compile(config: &HostConfig, wasm: &[u8]) -> Result<Module, HostError> {
    let cache = COMPILED.get_or_init(CompiledCache::default);
    let settings = (config.max_wasm_stack, config.fuel_per_byte_moved);
    let cached = cache
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .find(|(s, bytes, _)| *s == settings && bytes == wasm)
        .map(|(_, _, module)| module.clone());
    if let Some(module) = cached {
        return Ok(module);
    }
    let mut engine_config = Config::new();
    engine_config.consume_fuel(true);
    engine_config.wasm_relaxed_simd(false);
    engine_config.wasm_simd(false);
    if !config.fuel_per_byte_moved {
        let mut cost = wasmtime::OperatorCost::new();
        cost.variable.memory_copy_per_byte = 0;
        cost.variable.memory_fill_per_byte = 0;
        engine_config.operator_cost(cost);
    }
    if let Some(bytes) = config.max_wasm_stack {
        engine_config.max_wasm_stack(bytes);
    }
    let engine = Engine::new(&engine_config).map_err(|e| HostError::Engine {
        message: format!("{e:#}"),
    })?;
    let module = Module::from_binary(&engine, wasm).map_err(|e| HostError::Compile {
        path: config.module.clone(),
        message: format!("{e:#}"),
    })?;
    cache.lock().unwrap_or_else(PoisonError::into_inner).push((
        settings,
        wasm.to_vec(),
        module.clone(),
    ));
    Ok(module)
}

/// Builds the WASI context, instantiates, inserts the app heap, runs
/// `_initialize`.
#[allow(clippy::too_many_arguments)]
fn instantiate(
    config: &HostConfig,
    engine: &Engine,
    module: &Module,
    linker: &Linker<WasiP1Ctx>,
    report: &ModuleReport,
    stdout: &OutputCapture,
    stderr: &OutputCapture,
    log: &mut Vec<String>,
) -> Result<Live, HostError> {
    if report.imports_wasi && !report.is_reactor && !report.has_start {
        log.push(
            "warning: a module with WASI apis should be either a command or a reactor".to_string(),
        );
    }
    let mut wasi = WasiCtxBuilder::new();
    wasi.stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(config.clock.wall_source())
        .monotonic_clock(config.clock.monotonic_source());
    for dir in config.preopens() {
        wasi.preopened_dir(&dir.host, &dir.guest, FsPerms::ReadWrite)
            .map_err(|e| HostError::Preopen {
                host: dir.host.clone(),
                guest: dir.guest.clone(),
                message: format!("{e:#}"),
            })?;
    }
    let mut store = Store::new(engine, wasi.build_p1());
    store
        .set_fuel(UNLIMITED_FUEL)
        .map_err(|e| HostError::Engine {
            message: format!("{e:#}"),
        })?;
    let instance: Instance =
        linker
            .instantiate(&mut store, module)
            .map_err(|e| HostError::Instantiate {
                message: format!("{e:#}"),
            })?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or(HostError::NoMemory)?;

    let copier = if report.exports_malloc_free {
        let malloc = instance.get_typed_func::<i32, i32>(&mut store, "malloc");
        let free = instance.get_typed_func::<i32, ()>(&mut store, "free");
        match (malloc, free) {
            (Ok(malloc), Ok(free)) => Copier::Exports { malloc, free },
            _ => {
                return Err(HostError::Instantiate {
                    message: "malloc/free exports are not callable".to_string(),
                });
            }
        }
    } else {
        let declared = report
            .memory
            .map(|m| (m.initial_pages, m.maximum_pages))
            .unwrap_or((0, None));
        let placement = heap::place(declared.0, declared.1, config.heap_size, report.heap_base)?;
        if placement.grow_pages > 0 {
            memory
                .grow(&mut store, placement.grow_pages)
                .map_err(|e| HostError::Instantiate {
                    message: format!("inserting the app heap: {e:#}"),
                })?;
        }
        let data = memory.data_mut(&mut store);
        let start = usize::try_from(placement.offset).unwrap_or(usize::MAX);
        let end = start.saturating_add(placement.size as usize);
        if let Some(pool) = data.get_mut(start..end) {
            pool.fill(0);
        }
        Copier::AppHeap(AppHeap::new(placement))
    };

    let init = if report.imports_wasi {
        "_initialize"
    } else {
        "__wasm_call_ctors"
    };
    if let Ok(func) = instance.get_typed_func::<(), ()>(&mut store, init) {
        func.call(&mut store, ())
            .map_err(|e| HostError::Initialize {
                message: exception_text(&e),
            })?;
    }

    let filter = match instance.get_func(&mut store, &config.function) {
        None => Err(format!("The {} wasm function is not found.", config.function)),
        Some(func) => func.typed::<(i32, i32, i32, i32, i32, i32), i32>(&store).map_err(|_| {
            format!(
                "Got exception running wasm code: the {} export is not (i32, i32, i32, i32, i32, i32) -> i32",
                config.function
            )
        }),
    };
    Ok(Live {
        store,
        memory,
        filter,
        copier,
    })
}
