//! The rate limiter: keyed budgets for records and output bytes that
//! understand amplification, keep errors apart, and never drop a record
//! without counting it in the data that does come out.
//!
//! Cheap traffic costs dear downstream: a 64-byte TCP SYN to an Envoy
//! listener becomes an 816-byte JSON record that fluent-bit, the network,
//! Elasticsearch and its storage all pay for. `docs/limits.md` is the
//! operator's guide (the model, the amplification formula with a worked
//! Istio example, the fields written, every bound); this file is the
//! engine. It is pure: it is given the record's facts, a way to read its
//! fields and the time, and it answers with a [`Decision`]; the filter reads
//! and writes the record.
//!
//! # Model
//!
//! - A [`LimitSpec`] (one `[[limit]]` table of a route in `rosetta.toml`,
//!   keys declared in [`LIMIT_KEYS`]) names a [`KeyTemplate`] and
//!   [`Budget`]s per key: records per second and output bytes per second,
//!   each a token bucket with a burst, for ordinary records and, apart, for
//!   records of severity error or worse (unlimited unless set). A template
//!   without fields gives one key: a ceiling for the whole filter instance.
//!   The buckets run as GCRA, the token bucket's exact equivalent in time
//!   ([`Pace`], [`schedule`]).
//! - Amplification: a record whose client is known (an access log) costs
//!   its size less `log_bytes_per_client_byte` times what the client sent
//!   ([`byte_cost`]), so connections that carry nothing pay full price and
//!   are limited first.
//! - [`Limits`] holds a route's limits and decides each record
//!   ([`Limits::admit`]): it comes out when every limit has room, and is
//!   charged to all of them; otherwise the first limit without room takes
//!   it. The first record refused after a quiet spell is replaced by a
//!   [`Summary`] (limiting has started, and why); the following ones are
//!   counted in the key's [`Tally`], which the next record that comes out
//!   carries ([`Carried`]). One limit per route may also collapse identical
//!   messages from a key within a window ([`Repeat`]).
//!
//! # Invariants
//!
//! - Conservation: every record given to [`Limits::admit`] comes out, or is
//!   counted in exactly one [`Summary`], [`Carried`] tally or [`Repeat`]
//!   count that comes out, or is still held and returned by
//!   [`Limits::drain`]. A held tally rides the next admitted record of its
//!   key, or, after `carry_after_secs`, the next record its limit admits.
//! - Bounded: a limit tracks at most `max_keys` keys plus the overflow key,
//!   in at most [`Limiter::memory_bound`] bytes. When the table is full a
//!   key is forgotten (CLOCK, the usual approximation of least recently
//!   used) and its tally folded into the overflow key's. Per record and
//!   limit the work is one template rendering, one hash over the key's
//!   words, at most [`MAX_PROBE`] index probes and, to forget a key, at
//!   most [`CLOCK_SCAN`] more; nothing is allocated once the table has
//!   grown, and nothing the host charges by the byte is copied on the
//!   common path.
//! - Pure and total: time comes in as `now`, monotonic nanoseconds from the
//!   host's clock, never a time read from the log line (which a client
//!   could forge to refill a bucket); there are no globals; arithmetic after
//!   configuration is integer and cannot overflow or panic.
//! - Seeded: keys are hashed with a per-instance seed, so colliding keys
//!   cannot be computed in advance. The hash is not cryptographic; keys are
//!   also compared word for word, and a key that cannot be placed within
//!   [`MAX_PROBE`] probes is charged to the overflow key, so even colliding
//!   keys cost a bounded amount of work.

#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use crate::out::{escape_into, write_int};
use crate::time::Timestamp;
use crate::toml::{Entry, Item, Table};
use std::fmt;

/// The names of the fields the limiter's decisions write into records.
pub mod fields {
    /// How many records a tally counts (dropped, collapsed, or the one a
    /// summary replaces).
    pub const SUPPRESSED_RECORDS: &str = "rosetta.suppressed.records";
    /// The output bytes those records would have taken.
    pub const SUPPRESSED_BYTES: &str = "rosetta.suppressed.bytes";
    /// How many of them were of severity error or worse (written when not 0).
    pub const SUPPRESSED_SEVERE: &str = "rosetta.suppressed.severe";
    /// How many of them were identical copies collapsed by dedupe (written
    /// when not 0).
    pub const SUPPRESSED_REPEATS: &str = "rosetta.suppressed.repeats";
    /// How many forgotten keys the overflow key's tally gathers (written
    /// for the overflow key only).
    pub const SUPPRESSED_KEYS: &str = "rosetta.suppressed.keys";
    /// When the first of them arrived (RFC 3339, host clock).
    pub const SUPPRESSED_FIRST: &str = "rosetta.suppressed.first";
    /// When the last of them arrived (RFC 3339, host clock).
    pub const SUPPRESSED_LAST: &str = "rosetta.suppressed.last";
    /// The limit's `name`.
    pub const LIMIT_NAME: &str = "rosetta.limit.name";
    /// The key the tally is for, as rendered from the template.
    pub const LIMIT_KEY: &str = "rosetta.limit.key";
    /// In a summary: which budget ran out.
    pub const LIMIT_EXCEEDED: &str = "rosetta.limit.exceeded";
    /// In a summary: that budget, in words.
    pub const LIMIT_BUDGET: &str = "rosetta.limit.budget";
    /// In a summary: one sentence saying what is happening.
    pub const MESSAGE: &str = "message";
    /// How many identical copies of this record's message were collapsed
    /// since it last came out.
    pub const REPEAT_COUNT: &str = "rosetta.repeat.count";
    /// When the first of those copies arrived.
    pub const REPEAT_FIRST: &str = "rosetta.repeat.first";
    /// When the last of those copies arrived.
    pub const REPEAT_LAST: &str = "rosetta.repeat.last";
    /// What [`super::Limits::write_carry`] writes as the key of the
    /// overflow key.
    pub const OVERFLOW_KEY: &str = "(overflow)";

    /// Every field name above, for documentation checks.
    pub const ALL: &[&str] = &[
        SUPPRESSED_RECORDS,
        SUPPRESSED_BYTES,
        SUPPRESSED_SEVERE,
        SUPPRESSED_REPEATS,
        SUPPRESSED_KEYS,
        SUPPRESSED_FIRST,
        SUPPRESSED_LAST,
        LIMIT_NAME,
        LIMIT_KEY,
        LIMIT_EXCEEDED,
        LIMIT_BUDGET,
        MESSAGE,
        REPEAT_COUNT,
        REPEAT_FIRST,
        REPEAT_LAST,
        OVERFLOW_KEY,
    ];
}

/// Nanoseconds per second.
const NANO: u64 = 1_000_000_000;

/// The fixed-point unit of `log_bytes_per_client_byte`: thousandths.
const MILLI: u64 = 1_000;

/// How many index positions a lookup examines before it gives up and
/// charges the key to the overflow key. The index is at most a quarter
/// full, so a lookup takes one or two positions and a long run is rare (the
/// longest in the million-key test is 10); the bound is for crafted
/// collisions, which the seed makes impractical to compute.
pub const MAX_PROBE: usize = 32;

/// How many bytes of each key are kept. Longer keys are told apart by the
/// bytes kept, their full length and their 64-bit seeded hash, and are
/// written cut to this length.
pub const MAX_KEY_BYTES: usize = 128;

/// [`MAX_KEY_BYTES`] in words.
const KEY_WORDS: usize = MAX_KEY_BYTES / 8;

/// The kept words of a key after the two its slot holds.
const TAIL_WORDS: usize = KEY_WORDS - 2;

/// How many kept words a `len`-byte key has after the first two.
#[inline(always)]
fn tail_words(len: usize) -> usize {
    len.min(MAX_KEY_BYTES).div_ceil(8).saturating_sub(2)
}

/// How many distinct messages per key the dedupe limit tracks at once.
pub const DEDUPE_MESSAGES: usize = 4;

/// The largest `max_keys`.
pub const MAX_KEYS_LIMIT: u64 = 1_000_000;

/// The most fields a key template may name.
pub const MAX_TEMPLATE_FIELDS: usize = 8;

/// The longest key template, in bytes.
pub const MAX_TEMPLATE_LEN: usize = 256;

// ---------------------------------------------------------------------------
// Configuration, declared as data
// ---------------------------------------------------------------------------

/// One declared key of a `[[limit]]` table: its name, type, default and
/// meaning.
#[derive(Clone, Copy, Debug)]
pub struct LimitKeyDoc {
    /// The key as written in `rosetta.toml`.
    pub key: &'static str,
    /// Its type and range.
    pub kind: LimitKind,
    /// The default, as TOML text, or a phrase in parentheses.
    pub default: &'static str,
    /// What it does, in the operator's words.
    pub doc: &'static str,
}

/// The type of a declared key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitKind {
    /// A non-empty string.
    Name,
    /// A key template (a string, see [`KeyTemplate`]).
    Template,
    /// An integer in a range.
    Integer {
        /// The smallest value.
        min: u64,
        /// The largest value.
        max: u64,
    },
    /// A number (integer or decimal) from 0 to `max`, kept to thousandths.
    Number {
        /// The largest value.
        max: u64,
    },
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitKind::Name => f.write_str("string"),
            LimitKind::Template => f.write_str("string (key template)"),
            LimitKind::Integer { min, max } => write!(f, "integer, {min} to {max}"),
            LimitKind::Number { max } => write!(f, "number, 0 to {max}"),
        }
    }
}

const RATE: LimitKind = LimitKind::Integer {
    min: 0,
    max: 1_000_000_000,
};

/// Every key a `[[limit]]` table accepts.
pub const LIMIT_KEYS: &[LimitKeyDoc] = &[
    LimitKeyDoc {
        key: "name",
        kind: LimitKind::Name,
        default: "(required)",
        doc: "Names the limit in the fields it writes (`rosetta.limit.name`). Unique within the route.",
    },
    LimitKeyDoc {
        key: "key",
        kind: LimitKind::Template,
        default: "\"\"",
        doc: "What the budgets are per: a template over the record's fields after parsing, such as `\"{kubernetes.namespace_name}/{kubernetes.container_name}\"` or `\"{downstream_remote_address_ip}\"`. `{field}` is replaced by the field's value (`-` when absent); `{{` and `}}` are literal braces. With no field, one budget is shared by every record: a ceiling for the filter instance.",
    },
    LimitKeyDoc {
        key: "records_per_sec",
        kind: RATE,
        default: "0",
        doc: "Records per second each key may pass. `0`: no record budget.",
    },
    LimitKeyDoc {
        key: "records_burst",
        kind: RATE,
        default: "0",
        doc: "Records a key may pass at once after a quiet spell (the bucket's size). `0`: one second's worth, `records_per_sec`.",
    },
    LimitKeyDoc {
        key: "bytes_per_sec",
        kind: RATE,
        default: "0",
        doc: "Output bytes per second each key may pass; a record costs its size as written. `0`: no byte budget.",
    },
    LimitKeyDoc {
        key: "bytes_burst",
        kind: RATE,
        default: "0",
        doc: "Output bytes a key may pass at once after a quiet spell. `0`: `bytes_per_sec`.",
    },
    LimitKeyDoc {
        key: "log_bytes_per_client_byte",
        kind: LimitKind::Number { max: 1_000_000 },
        default: "0",
        doc: "Amplification allowance: a record whose client is known (an access log) costs its size less this many bytes per byte the client sent, so that connections and scans that send nothing pay full price and are limited first. Kept to thousandths. Needs `bytes_per_sec`. `0`: every record costs its full size.",
    },
    LimitKeyDoc {
        key: "severe_records_per_sec",
        kind: RATE,
        default: "0",
        doc: "Records per second per key for records of severity error or worse, which are charged to these budgets only, so that a flood of lesser records cannot suppress them. `0`: unlimited.",
    },
    LimitKeyDoc {
        key: "severe_records_burst",
        kind: RATE,
        default: "0",
        doc: "The burst of `severe_records_per_sec`. `0`: `severe_records_per_sec`.",
    },
    LimitKeyDoc {
        key: "severe_bytes_per_sec",
        kind: RATE,
        default: "0",
        doc: "Output bytes per second per key for records of severity error or worse. `0`: unlimited.",
    },
    LimitKeyDoc {
        key: "severe_bytes_burst",
        kind: RATE,
        default: "0",
        doc: "The burst of `severe_bytes_per_sec`. `0`: `severe_bytes_per_sec`.",
    },
    LimitKeyDoc {
        key: "max_keys",
        kind: LimitKind::Integer {
            min: 1,
            max: MAX_KEYS_LIMIT,
        },
        default: "10000",
        doc: "Keys tracked at once. Beyond it the least recently seen key is forgotten and its tally folded into the overflow key, `(overflow)`. Memory: at most 312 bytes per key (632 with dedupe), 3.1 MB at the default, most of it taken when a 16th key arrives.",
    },
    LimitKeyDoc {
        key: "carry_after_secs",
        kind: LimitKind::Integer {
            min: 1,
            max: 86_400,
        },
        default: "60",
        doc: "A tally held this long for a key that has had no record admitted since rides the next record this limit admits, whatever its key.",
    },
    LimitKeyDoc {
        key: "dedupe_window_ms",
        kind: LimitKind::Integer {
            min: 0,
            max: 3_600_000,
        },
        default: "0",
        doc: "Collapse identical messages (same template, same variable fields) from one key for this long after one comes out; the next copy after the window carries `rosetta.repeat.count`. At most one limit per route. `0`: off.",
    },
];

/// The reference table of every `[[limit]]` key, as it appears in
/// `docs/limits.md`.
pub fn reference_table() -> String {
    let mut s = String::from("| key | type | default | meaning |\n|---|---|---|---|\n");
    for k in LIMIT_KEYS {
        let default = if k.default.starts_with('(') {
            k.default.to_string()
        } else {
            format!("`{}`", k.default)
        };
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            k.key, k.kind, default, k.doc
        ));
    }
    s
}

/// A budget: a token bucket refilled at `per_sec` tokens per second up to
/// `burst` tokens. A token is a record or a byte, as the budget says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Budget {
    /// Tokens added per second; 0 means no budget (everything passes).
    pub per_sec: u64,
    /// The bucket's size; 0 means `per_sec`.
    pub burst: u64,
}

impl Budget {
    /// Whether this budget limits anything.
    pub fn is_active(&self) -> bool {
        self.per_sec > 0
    }

    /// The bucket's size in tokens.
    pub fn size(&self) -> u64 {
        if self.burst == 0 {
            self.per_sec
        } else {
            self.burst
        }
    }
}

/// One limit of a route: what to key on and the budgets per key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitSpec {
    /// Written as `rosetta.limit.name`.
    pub name: String,
    /// What the budgets are per.
    pub key: KeyTemplate,
    /// Records per second, for records below error.
    pub records: Budget,
    /// Output bytes per second, for records below error.
    pub bytes: Budget,
    /// Amplification allowance in thousandths of a log byte per client
    /// byte (`log_bytes_per_client_byte` times 1000); 0 is off.
    pub log_milli_per_client_byte: u64,
    /// Records per second, for records of severity error or worse.
    pub severe_records: Budget,
    /// Output bytes per second, for records of severity error or worse.
    pub severe_bytes: Budget,
    /// Keys tracked at once (1 to [`MAX_KEYS_LIMIT`]).
    pub max_keys: usize,
    /// How long a silent key's tally is held before any admitted record
    /// may carry it, in nanoseconds.
    pub carry_after_ns: u64,
    /// The dedupe window in nanoseconds; 0 is off.
    pub dedupe_window_ns: u64,
}

impl LimitSpec {
    /// A limit named `name` keyed on `template`, with no budget yet and
    /// every other setting at its default.
    pub fn new(name: &str, template: &str) -> Result<LimitSpec, TemplateError> {
        Ok(LimitSpec {
            name: name.to_string(),
            key: KeyTemplate::compile(template)?,
            records: Budget::default(),
            bytes: Budget::default(),
            log_milli_per_client_byte: 0,
            severe_records: Budget::default(),
            severe_bytes: Budget::default(),
            max_keys: 10_000,
            carry_after_ns: 60 * NANO,
            dedupe_window_ns: 0,
        })
    }

    /// Reads one `[[limit]]` table that starts on `line`, holding it to
    /// [`LIMIT_KEYS`].
    pub fn from_table(table: &Table, line: usize) -> Result<LimitSpec, LimitError> {
        let mut spec = LimitSpec::new("", "").map_err(|e| LimitError {
            line,
            problem: LimitProblem::Template {
                key: "key",
                error: e,
            },
        })?;
        let mut named = false;
        for (key, entry) in &table.entries {
            let fail = |problem| LimitError {
                line: entry.line,
                problem,
            };
            let Some(decl) = LIMIT_KEYS.iter().find(|d| d.key == key) else {
                return Err(fail(LimitProblem::UnknownKey(key.clone())));
            };
            let wrong = || {
                fail(LimitProblem::WrongType {
                    key: decl.key,
                    want: decl.kind,
                    got: entry.value.type_name(),
                })
            };
            let range = || {
                fail(LimitProblem::OutOfRange {
                    key: decl.key,
                    want: decl.kind,
                })
            };
            match (decl.kind, &entry.value) {
                (LimitKind::Name, Item::Str(s)) if !s.is_empty() => {
                    spec.name = s.clone();
                    named = true;
                }
                (LimitKind::Name, Item::Str(_)) => return Err(range()),
                (LimitKind::Template, Item::Str(s)) => {
                    spec.key = KeyTemplate::compile(s).map_err(|error| {
                        fail(LimitProblem::Template {
                            key: decl.key,
                            error,
                        })
                    })?;
                }
                (LimitKind::Integer { min, max }, Item::Int(i)) => {
                    let v = u64::try_from(*i).map_err(|_| range())?;
                    if v < min || v > max {
                        return Err(range());
                    }
                    spec.set_integer(decl.key, v);
                }
                (LimitKind::Number { max }, Item::Int(i)) => {
                    let v = u64::try_from(*i).map_err(|_| range())?;
                    if v > max {
                        return Err(range());
                    }
                    spec.log_milli_per_client_byte = v * MILLI;
                }
                (LimitKind::Number { max }, Item::Float(x)) => {
                    // Configuration time: the one place a float is read.
                    if !x.is_finite() || *x < 0.0 || *x > max as f64 {
                        return Err(range());
                    }
                    spec.log_milli_per_client_byte = (x * MILLI as f64).round() as u64;
                }
                _ => return Err(wrong()),
            }
        }
        if !named {
            return Err(LimitError {
                line,
                problem: LimitProblem::Missing("name"),
            });
        }
        spec.check(line)?;
        Ok(spec)
    }

    fn set_integer(&mut self, key: &str, v: u64) {
        match key {
            "records_per_sec" => self.records.per_sec = v,
            "records_burst" => self.records.burst = v,
            "bytes_per_sec" => self.bytes.per_sec = v,
            "bytes_burst" => self.bytes.burst = v,
            "severe_records_per_sec" => self.severe_records.per_sec = v,
            "severe_records_burst" => self.severe_records.burst = v,
            "severe_bytes_per_sec" => self.severe_bytes.per_sec = v,
            "severe_bytes_burst" => self.severe_bytes.burst = v,
            "max_keys" => self.max_keys = usize::try_from(v).unwrap_or(usize::MAX),
            "carry_after_secs" => self.carry_after_ns = v.saturating_mul(NANO),
            "dedupe_window_ms" => self.dedupe_window_ns = v.saturating_mul(1_000_000),
            _ => {}
        }
    }

    /// The settings that depend on each other.
    fn check(&self, line: usize) -> Result<(), LimitError> {
        let needs = |key, needs| {
            Err(LimitError {
                line,
                problem: LimitProblem::Needs { key, needs },
            })
        };
        let pairs = [
            (self.records, "records_burst", "records_per_sec"),
            (self.bytes, "bytes_burst", "bytes_per_sec"),
            (
                self.severe_records,
                "severe_records_burst",
                "severe_records_per_sec",
            ),
            (
                self.severe_bytes,
                "severe_bytes_burst",
                "severe_bytes_per_sec",
            ),
        ];
        for (budget, burst, rate) in pairs {
            if budget.burst > 0 && budget.per_sec == 0 {
                return needs(burst, rate);
            }
        }
        if self.log_milli_per_client_byte > 0
            && !self.bytes.is_active()
            && !self.severe_bytes.is_active()
        {
            return needs("log_bytes_per_client_byte", "bytes_per_sec");
        }
        let any = pairs.iter().any(|(b, _, _)| b.is_active()) || self.dedupe_window_ns > 0;
        if !any {
            return Err(LimitError {
                line,
                problem: LimitProblem::NoBudget,
            });
        }
        Ok(())
    }
}

/// Reads a route's `limit` entry, which must be an array of tables
/// (`[[route.limit]]`), into its limits: names are unique and at most one
/// limit dedupes.
pub fn specs_from_entry(entry: &Entry) -> Result<Vec<LimitSpec>, LimitError> {
    let Item::Array(items) = &entry.value else {
        return Err(LimitError {
            line: entry.line,
            problem: LimitProblem::NotAnArrayOfTables,
        });
    };
    let mut specs: Vec<LimitSpec> = Vec::with_capacity(items.len());
    let mut dedupe: Option<String> = None;
    for item in items {
        let Item::Table(table) = &item.value else {
            return Err(LimitError {
                line: item.line,
                problem: LimitProblem::NotAnArrayOfTables,
            });
        };
        let spec = LimitSpec::from_table(table, item.line)?;
        let fail = |problem| LimitError {
            line: item.line,
            problem,
        };
        if specs.iter().any(|s| s.name == spec.name) {
            return Err(fail(LimitProblem::DuplicateName(spec.name)));
        }
        if spec.dedupe_window_ns > 0 {
            if let Some(first) = &dedupe {
                return Err(fail(LimitProblem::SecondDedupe(first.clone())));
            }
            dedupe = Some(spec.name.clone());
        }
        specs.push(spec);
    }
    Ok(specs)
}

/// A `[[limit]]` table that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitError {
    /// 1-based line in `rosetta.toml`.
    pub line: usize,
    /// What is wrong.
    pub problem: LimitProblem,
}

/// What is wrong with a `[[limit]]` table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LimitProblem {
    /// A key [`LIMIT_KEYS`] does not declare.
    UnknownKey(String),
    /// A value of the wrong TOML type.
    WrongType {
        /// The key.
        key: &'static str,
        /// Its declared type.
        want: LimitKind,
        /// The TOML type the file has.
        got: &'static str,
    },
    /// A value outside the declared range.
    OutOfRange {
        /// The key.
        key: &'static str,
        /// Its declared type and range.
        want: LimitKind,
    },
    /// A key template that does not compile.
    Template {
        /// The key.
        key: &'static str,
        /// Why.
        error: TemplateError,
    },
    /// A required key is missing.
    Missing(&'static str),
    /// A key that means nothing without another.
    Needs {
        /// The key set.
        key: &'static str,
        /// The key it needs.
        needs: &'static str,
    },
    /// Neither a budget nor dedupe: the limit would do nothing.
    NoBudget,
    /// Two limits of one route share a name.
    DuplicateName(String),
    /// A second limit of one route dedupes; the first is named.
    SecondDedupe(String),
    /// `limit` is not an array of tables.
    NotAnArrayOfTables,
}

impl fmt::Display for LimitProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitProblem::UnknownKey(k) => write!(f, "unknown limit key '{k}'"),
            LimitProblem::WrongType { key, want, got } => {
                write!(f, "'{key}' must be a {want}, not a {got}")
            }
            LimitProblem::OutOfRange { key, want } => match want {
                LimitKind::Name => write!(f, "'{key}' must be a non-empty string"),
                _ => write!(f, "'{key}' must be a {want}"),
            },
            LimitProblem::Template { key, error } => write!(f, "'{key}': {error}"),
            LimitProblem::Missing(k) => write!(f, "a limit needs '{k}'"),
            LimitProblem::Needs { key, needs } => write!(f, "'{key}' needs '{needs}'"),
            LimitProblem::NoBudget => f.write_str(
                "a limit needs a budget (records_per_sec, bytes_per_sec, severe_records_per_sec, severe_bytes_per_sec) or dedupe_window_ms",
            ),
            LimitProblem::DuplicateName(n) => write!(f, "two limits are named '{n}'"),
            LimitProblem::SecondDedupe(n) => {
                write!(f, "only one limit per route may dedupe, and '{n}' does")
            }
            LimitProblem::NotAnArrayOfTables => {
                f.write_str("'limit' must be an array of tables ([[...limit]])")
            }
        }
    }
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.problem)
    }
}

// ---------------------------------------------------------------------------
// Key templates
// ---------------------------------------------------------------------------

/// A compiled key template: literal text and field names, such as
/// `{kubernetes.namespace_name}/{kubernetes.container_name}`.
///
/// Literal text is kept as JSON string content (escaped once, here), and
/// field values are given as JSON string content, so a rendered key is
/// JSON string content too.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyTemplate {
    text: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    /// Escaped literal text.
    Text(Vec<u8>),
    /// A field path.
    Field(String),
}

/// Why a key template does not compile. Positions are byte offsets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TemplateError {
    /// A `{` with no `}` after it.
    Unclosed(usize),
    /// `{}`.
    EmptyField(usize),
    /// A `}` that closes nothing (write `}}` for a literal brace).
    StrayBrace(usize),
    /// A byte a field name may not hold (letters, digits, `_ - . / @ :`).
    BadFieldByte(usize),
    /// More than [`MAX_TEMPLATE_FIELDS`] fields.
    TooManyFields,
    /// Longer than [`MAX_TEMPLATE_LEN`] bytes.
    TooLong,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TemplateError::Unclosed(at) => write!(f, "'{{' at byte {at} is never closed"),
            TemplateError::EmptyField(at) => write!(f, "empty field name at byte {at}"),
            TemplateError::StrayBrace(at) => write!(
                f,
                "'}}' at byte {at} closes nothing (write '}}}}' for a literal brace)"
            ),
            TemplateError::BadFieldByte(at) => write!(
                f,
                "byte {at} cannot be part of a field name (letters, digits, '_', '-', '.', '/', '@', ':')"
            ),
            TemplateError::TooManyFields => {
                write!(f, "more than {MAX_TEMPLATE_FIELDS} fields")
            }
            TemplateError::TooLong => write!(f, "longer than {MAX_TEMPLATE_LEN} bytes"),
        }
    }
}

fn is_field_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'/' | b'@' | b':')
}

impl KeyTemplate {
    /// Compiles `text`.
    pub fn compile(text: &str) -> Result<KeyTemplate, TemplateError> {
        if text.len() > MAX_TEMPLATE_LEN {
            return Err(TemplateError::TooLong);
        }
        let bytes = text.as_bytes();
        let mut parts = Vec::new();
        let mut literal: Vec<u8> = Vec::new();
        let mut fields = 0;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'{' if bytes.get(i + 1) == Some(&b'{') => {
                    literal.push(b'{');
                    i += 2;
                }
                b'}' if bytes.get(i + 1) == Some(&b'}') => {
                    literal.push(b'}');
                    i += 2;
                }
                b'}' => return Err(TemplateError::StrayBrace(i)),
                b'{' => {
                    let start = i + 1;
                    let len = bytes
                        .get(start..)
                        .and_then(|rest| rest.iter().position(|&c| c == b'}'))
                        .ok_or(TemplateError::Unclosed(i))?;
                    if len == 0 {
                        return Err(TemplateError::EmptyField(i));
                    }
                    let name = bytes.get(start..start + len).unwrap_or_default();
                    if let Some(bad) = name.iter().position(|&c| !is_field_byte(c)) {
                        return Err(TemplateError::BadFieldByte(start + bad));
                    }
                    fields += 1;
                    if fields > MAX_TEMPLATE_FIELDS {
                        return Err(TemplateError::TooManyFields);
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Text(escape_content(&literal)));
                        literal.clear();
                    }
                    parts.push(Part::Field(String::from_utf8_lossy(name).into_owned()));
                    i = start + len + 1;
                }
                _ => {
                    literal.push(b);
                    i += 1;
                }
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Text(escape_content(&literal)));
        }
        Ok(KeyTemplate {
            text: text.to_string(),
            parts,
        })
    }

    /// The field a template of one field and nothing else (`{field}`)
    /// names: its key is that field's value.
    #[inline(always)]
    fn single_field(&self) -> Option<&str> {
        match self.parts.as_slice() {
            [Part::Field(f)] => Some(f),
            _ => None,
        }
    }

    /// The template as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The field paths it names, in order.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Field(f) => Some(f.as_str()),
            Part::Text(_) => None,
        })
    }

    /// Appends the key for one record to `out`: literal text as is, each
    /// field as `lookup` gives it (JSON string content), `-` for a field
    /// `lookup` does not find.
    pub fn render<'v>(&self, lookup: &mut dyn FnMut(&str) -> Option<&'v [u8]>, out: &mut Vec<u8>) {
        for part in &self.parts {
            match part {
                Part::Text(t) => out.extend_from_slice(t),
                Part::Field(f) => out.extend_from_slice(lookup(f).unwrap_or(ABSENT_FIELD)),
            }
        }
    }
}

impl KeyTemplate {
    /// The key for one record: a one-field template's value as `lookup`
    /// gives it (no copy), else the rendering in `scratch`.
    #[inline(always)]
    fn key<'k, 'v: 'k>(
        &self,
        lookup: &mut dyn FnMut(&str) -> Option<&'v [u8]>,
        scratch: &'k mut Vec<u8>,
    ) -> &'k [u8] {
        if let Some(f) = self.single_field() {
            return lookup(f).unwrap_or(ABSENT_FIELD);
        }
        scratch.clear();
        self.render(lookup, scratch);
        scratch
    }
}

/// What a key template writes for a field the record lacks.
pub const ABSENT_FIELD: &[u8] = b"-";

/// `bytes` as JSON string content (escaped, without the quotes).
fn escape_content(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + 2);
    escape_into(&mut out, bytes);
    out.pop();
    if !out.is_empty() {
        out.remove(0);
    }
    out
}

// ---------------------------------------------------------------------------
// Hashing and token buckets
// ---------------------------------------------------------------------------

const K0: u64 = 0x9E37_79B9_7F4A_7C15;
const K1: u64 = 0xBF58_476D_1CE4_E5B9;
const K2: u64 = 0x94D0_49BB_1331_11EB;

/// The seeded 64-bit hash of a key: its length and the seed, then each of
/// its eight-byte words (the last one zero-padded, and at least two
/// words, so that a short key's hash takes a fixed number of steps) folded
/// in by [`mix`]. The index takes its position from the hash's top bits
/// ([`Limiter::home`]), which depend on every bit of the key.
///
/// Not cryptographic: it is cheap (about ten instructions per eight bytes)
/// and seeded per filter instance, which is what stops an attacker from
/// computing colliding keys in advance. Keys are compared byte for byte as
/// well, so a collision never merges two keys; it only lengthens a probe,
/// and probes are bounded by [`MAX_PROBE`].
pub fn key_hash(seed: u64, key: &[u8]) -> u64 {
    let words = key.len().div_ceil(8).max(2);
    let mut h = seed ^ key.len() as u64;
    for i in 0..words {
        let bytes = key.get(i * 8..).unwrap_or_default();
        h = mix(h, word(bytes.get(..8).unwrap_or(bytes)));
    }
    h
}

/// One word into a hash state: the word folded in, the state's high half
/// folded onto its low half, then a multiply by an odd constant. Folding
/// before the multiply gives every bit of the word a say, through the
/// multiply's carries, in the bits above it, and none (not even the top
/// bit) a fixed effect on the result that a later word could cancel.
#[inline(always)]
fn mix(h: u64, w: u64) -> u64 {
    let x = h ^ w;
    (x ^ (x >> 32)).wrapping_mul(K1)
}

/// The two words of a key of at most 16 bytes, zero-padded, read with at
/// most two loads: overlapping loads shifted into place, as memchr-style
/// code reads short spans.
#[inline(always)]
fn short_words(key: &[u8]) -> (u64, u64) {
    let len = key.len();
    if len >= 8 {
        let w0 = key.get(..8).map_or(0, load);
        let w1 = match key.get(len.wrapping_sub(8)..) {
            Some(last) if len > 8 => load(last) >> (8 * (16 - len)),
            _ => 0,
        };
        (w0, w1)
    } else if len >= 4 {
        let four = |b: Option<&[u8]>| {
            u64::from(u32::from_le_bytes(
                b.and_then(|b| b.try_into().ok()).unwrap_or_default(),
            ))
        };
        let lo = four(key.get(..4));
        let hi = four(key.get(len - 4..));
        (lo | (hi << (8 * (len - 4))), 0)
    } else {
        (word(key), 0)
    }
}

/// Eight bytes as a little-endian word.
#[inline(always)]
fn load(eight: &[u8]) -> u64 {
    u64::from_le_bytes(eight.try_into().unwrap_or_default())
}

/// Up to eight bytes as a little-endian word, zero-padded.
#[inline(always)]
fn word(bytes: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    if let Some(dst) = w.get_mut(..bytes.len()) {
        dst.copy_from_slice(bytes);
    }
    u64::from_le_bytes(w)
}

/// Costs above this many tokens (4 GiB of log) are charged [`FOREVER`].
const MAX_COST: u64 = 1 << 32;

/// The time charged for a cost too large to compute: 2^62 ns, 146 years.
const FOREVER: u64 = 1 << 62;

/// What one token of a budget is worth in time: nanoseconds per token, in
/// 48.16 fixed point (`whole + frac / 65536`).
///
/// The buckets run as GCRA ("virtual scheduling", ITU-T I.371), the exact
/// equivalent of a token bucket that needs no refill arithmetic: a bucket
/// is one instant, its theoretical arrival time (TAT). It is full when the
/// TAT is not after now; a cost of `c` tokens moves it `c` tokens' worth of
/// time later, and fits while the TAT stays within the burst's worth of
/// time of now ([`schedule`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pace {
    whole: u64,
    frac: u64,
}

impl Pace {
    /// The pace of `per_sec` tokens per second (0: no time at all).
    pub fn of(per_sec: u64) -> Pace {
        if per_sec == 0 {
            return Pace::default();
        }
        let rem = NANO % per_sec;
        Pace {
            whole: NANO / per_sec,
            frac: ((rem << 16) / per_sec).min(0xffff),
        }
    }

    /// What `tokens` tokens are worth, in nanoseconds (rounded down; at
    /// most [`FOREVER`]). Two multiplies, never a 128-bit one: `tokens <=
    /// 2^32`, `whole <= 10^9` and `frac < 2^16`, so the result is below
    /// `2^32 * (10^9 + 1) < 2^62`.
    #[inline(always)]
    pub fn ns(&self, tokens: u64) -> u64 {
        if tokens > MAX_COST {
            return FOREVER;
        }
        tokens
            .wrapping_mul(self.whole)
            .wrapping_add(tokens.wrapping_mul(self.frac) >> 16)
    }
}

/// One GCRA step: a cost worth `cost_ns` at `now` against a bucket whose
/// TAT is `tat` and whose burst is worth `tolerance_ns`. The new TAT when
/// it fits: when the bucket is full (so that a record larger than the
/// burst passes after a quiet spell, its excess owed), or when the new TAT
/// is within the tolerance of now.
pub fn schedule(tat: u64, now: u64, cost_ns: u64, tolerance_ns: u64) -> Option<u64> {
    let full = tat <= now;
    let next = tat.max(now).saturating_add(cost_ns);
    (full || next - now <= tolerance_ns).then_some(next)
}

/// The byte cost of a record of `size` output bytes whose client sent
/// `paid` bytes, at `milli` thousandths of a log byte per client byte:
/// `max(0, size - floor(paid * milli / 1000))`.
pub fn byte_cost(size: u64, paid: Option<u64>, milli: u64) -> u64 {
    match paid {
        Some(p) if milli > 0 => match p.checked_mul(milli) {
            Some(credit) => size.saturating_sub(credit / MILLI),
            None => 0,
        },
        _ => size,
    }
}

// ---------------------------------------------------------------------------
// Records, tallies and decisions
// ---------------------------------------------------------------------------

/// What the limiter needs to know about a record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RecordFacts {
    /// The record's output size in bytes: its cost.
    pub size: u64,
    /// Whether its normalised severity is error or worse.
    pub severe: bool,
    /// What its client sent, in bytes, when known (for an access log: the
    /// bytes received plus the size of the request the client wrote).
    pub client_paid: Option<u64>,
    /// The id of its message template, when known; dedupe applies only to
    /// records that have one.
    pub template: Option<u64>,
    /// A hash of its message's variable fields (for dedupe).
    pub variables: u64,
}

/// Counts of records that did not come out as themselves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Records counted.
    pub records: u64,
    /// Their output bytes.
    pub bytes: u64,
    /// How many were of severity error or worse.
    pub severe: u64,
    /// How many were identical copies collapsed by dedupe.
    pub repeats: u64,
    /// For the overflow key: how many forgotten keys it gathers.
    pub keys: u64,
    /// When the first arrived (host monotonic nanoseconds).
    pub first: u64,
    /// When the last arrived (host monotonic nanoseconds).
    pub last: u64,
}

impl Tally {
    /// Whether it counts nothing.
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    fn one(facts: &RecordFacts, now: u64) -> Tally {
        let mut t = Tally::default();
        t.add(facts, now);
        t
    }

    fn add(&mut self, facts: &RecordFacts, now: u64) {
        if self.records == 0 {
            self.first = now;
        }
        self.records = self.records.saturating_add(1);
        self.bytes = self.bytes.saturating_add(facts.size);
        self.severe = self.severe.saturating_add(u64::from(facts.severe));
        self.last = now;
    }

    fn merge(&mut self, other: &Tally) {
        if other.records == 0 {
            return;
        }
        if self.records == 0 {
            self.first = other.first;
            self.last = other.last;
        } else {
            self.first = self.first.min(other.first);
            self.last = self.last.max(other.last);
        }
        self.records = self.records.saturating_add(other.records);
        self.bytes = self.bytes.saturating_add(other.bytes);
        self.severe = self.severe.saturating_add(other.severe);
        self.repeats = self.repeats.saturating_add(other.repeats);
        self.keys = self.keys.saturating_add(other.keys);
    }
}

/// A key as rendered, kept for writing: its first [`MAX_KEY_BYTES`] bytes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct KeyText {
    bytes: [u8; MAX_KEY_BYTES],
    kept: u8,
    /// The whole rendered key's length.
    full_len: u32,
    overflow: bool,
}

impl KeyText {
    fn of(key: &[u8], full_len: u32) -> KeyText {
        let mut bytes = [0u8; MAX_KEY_BYTES];
        let kept = key.len().min(MAX_KEY_BYTES);
        if let (Some(dst), Some(src)) = (bytes.get_mut(..kept), key.get(..kept)) {
            dst.copy_from_slice(src);
        }
        KeyText {
            bytes,
            kept: kept as u8,
            full_len,
            overflow: false,
        }
    }

    fn overflow() -> KeyText {
        KeyText {
            overflow: true,
            ..KeyText::of(b"", 0)
        }
    }

    /// The bytes kept (at most [`MAX_KEY_BYTES`]).
    pub fn bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.kept)).unwrap_or_default()
    }

    /// Whether this is the overflow key.
    pub fn is_overflow(&self) -> bool {
        self.overflow
    }

    /// Whether the key was longer than what was kept.
    pub fn is_cut(&self) -> bool {
        self.full_len as usize > usize::from(self.kept)
    }
}

impl fmt::Debug for KeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.overflow {
            return f.write_str(fields::OVERFLOW_KEY);
        }
        write!(f, "{:?}", String::from_utf8_lossy(self.bytes()))
    }
}

/// A tally leaving the limiter on an admitted record (see
/// [`Limits::carried`]) or from [`Limits::drain`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carried {
    /// Which limit of the route (its position).
    pub limit: usize,
    /// Whose tally.
    pub key: KeyText,
    /// The counts.
    pub tally: Tally,
}

/// Which budget a record did not fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exceeded {
    /// `records_per_sec`.
    Records,
    /// `bytes_per_sec`.
    Bytes,
    /// `severe_records_per_sec`.
    SevereRecords,
    /// `severe_bytes_per_sec`.
    SevereBytes,
}

impl Exceeded {
    /// As written in `rosetta.limit.exceeded`.
    pub fn as_str(self) -> &'static str {
        match self {
            Exceeded::Records => "records",
            Exceeded::Bytes => "bytes",
            Exceeded::SevereRecords => "severe_records",
            Exceeded::SevereBytes => "severe_bytes",
        }
    }

    fn index(self) -> usize {
        match self {
            Exceeded::Records => 0,
            Exceeded::Bytes => 1,
            Exceeded::SevereRecords => 2,
            Exceeded::SevereBytes => 3,
        }
    }
}

/// The record that replaces the first one over a key's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Which limit of the route.
    pub limit: usize,
    /// Whose budget ran out.
    pub key: KeyText,
    /// Which budget.
    pub exceeded: Exceeded,
    /// The record it replaces, counted.
    pub tally: Tally,
}

/// The collapsed copies of an admitted record's message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repeat {
    /// How many copies were collapsed since the message last came out.
    pub count: u64,
    /// When the first arrived (host monotonic nanoseconds).
    pub first: u64,
    /// When the last arrived.
    pub last: u64,
}

/// What to do with one record.
///
/// Small on purpose: it is returned for every record, and the host charges
/// copies by the byte. What a decision adds to the record (a carried tally,
/// a repeat count, a summary) waits in [`Limits`] until the next decision:
/// [`Limits::write_members`] writes it, [`Limits::carried`],
/// [`Limits::repeat`] and [`Limits::summary`] show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Let it out, with the members [`Limits::write_members`] writes.
    Admit {
        /// It carries a held tally ([`Limits::carried`]).
        carry: bool,
        /// It carries the count of its message's collapsed copies
        /// ([`Limits::repeat`]).
        repeat: bool,
    },
    /// Replace it with a summary ([`Limits::summary`]), written by
    /// [`Limits::write_members`].
    Summary,
    /// Drop it: it is counted in a tally of the limit at this position.
    Drop(usize),
    /// Drop it: it is a copy of a message that came out within the dedupe
    /// window, and is counted with that message.
    Collapse,
}

/// The host's clocks at one instant, to turn monotonic times into wall
/// times when writing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WallClock {
    /// Monotonic nanoseconds (the clock `now` comes from).
    pub mono_ns: u64,
    /// Nanoseconds since the Unix epoch (the host's realtime clock).
    pub unix_ns: i64,
}

impl WallClock {
    /// The wall time of monotonic instant `mono`, to the millisecond.
    pub fn at(&self, mono: u64) -> Option<Timestamp> {
        let unix = if mono <= self.mono_ns {
            self.unix_ns
                .saturating_sub(i64::try_from(self.mono_ns - mono).unwrap_or(i64::MAX))
        } else {
            self.unix_ns
                .saturating_add(i64::try_from(mono - self.mono_ns).unwrap_or(i64::MAX))
        };
        let secs = unix.div_euclid(NANO as i64);
        let millis = unix.rem_euclid(NANO as i64) / 1_000_000;
        Timestamp::new(secs, (millis * 1_000_000) as u32, 3)
    }
}

// ---------------------------------------------------------------------------
// One limit's state
// ---------------------------------------------------------------------------

/// Links of an intrusive doubly-linked list; 0 is "none" (slot 0, the
/// overflow key, is never on a list).
#[derive(Clone, Copy, Debug, Default)]
struct Link {
    prev: u32,
    next: u32,
}

#[derive(Clone, Copy, Debug, Default)]
struct Ends {
    head: u32,
    tail: u32,
}

/// One class's buckets (ordinary or severe): their TATs.
#[derive(Clone, Copy, Debug, Default)]
struct Tats {
    records: u64,
    bytes: u64,
    /// When a record was last refused (0: never): limiting starts again,
    /// with a summary, at the first refusal after a quiet spell.
    refused_at: u64,
}

/// One budget as the hot path uses it. An inactive budget has a pace of 0
/// and an unbounded tolerance: everything fits and it is always full, with
/// no test for it.
#[derive(Clone, Copy, Debug, Default)]
struct Gcra {
    pace: Pace,
    /// What one token is worth.
    unit: u64,
    /// What the burst is worth.
    tolerance: u64,
}

impl Gcra {
    fn of(b: Budget) -> Gcra {
        if !b.is_active() {
            return Gcra {
                tolerance: u64::MAX,
                ..Gcra::default()
            };
        }
        let pace = Pace::of(b.per_sec);
        Gcra {
            pace,
            unit: pace.ns(1),
            tolerance: pace.ns(b.size()),
        }
    }
}

/// A class's budgets.
#[derive(Clone, Copy, Debug, Default)]
struct Rates {
    records: Gcra,
    bytes: Gcra,
    active: bool,
    /// Whether the byte budget limits anything: when not, a record's byte
    /// cost is not computed and its bucket not kept.
    bytes_active: bool,
    /// How long an empty bucket of this class takes to fill: a key refused
    /// nothing for this long is no longer being limited.
    quiet: u64,
}

impl Rates {
    fn of(records: Budget, bytes: Budget) -> Rates {
        Rates {
            records: Gcra::of(records),
            bytes: Gcra::of(bytes),
            active: records.is_active() || bytes.is_active(),
            bytes_active: bytes.is_active(),
            quiet: quiet_ns(&[records, bytes]),
        }
    }
}

/// How long the slowest of `budgets` takes to fill from empty: the burst's
/// worth of time.
pub fn quiet_ns(budgets: &[Budget]) -> u64 {
    budgets
        .iter()
        .filter(|b| b.is_active())
        .map(|b| Pace::of(b.per_sec).ns(b.size()))
        .max()
        .unwrap_or(0)
}

/// The amplification allowance, precomputed so that the hot path needs no
/// overflow-checked multiply.
#[derive(Clone, Copy, Debug, Default)]
struct Credit {
    /// Thousandths of a log byte per client byte; 0 is off.
    milli: u64,
    /// The largest client byte count whose credit does not overflow.
    paid_max: u64,
}

impl Credit {
    fn of(milli: u64) -> Credit {
        Credit {
            milli,
            paid_max: u64::MAX.checked_div(milli).unwrap_or(u64::MAX),
        }
    }

    /// [`byte_cost`].
    #[inline(always)]
    fn cost(&self, facts: &RecordFacts) -> u64 {
        match facts.client_paid {
            Some(p) if self.milli > 0 => {
                if p > self.paid_max {
                    0
                } else {
                    facts.size.saturating_sub(p * self.milli / MILLI)
                }
            }
            _ => facts.size,
        }
    }
}

/// Runs the record's class's buckets of `slot` forward to `now` (see
/// [`Limiter::charge`]), the class's budgets being `rates`.
#[inline(always)]
fn charge_slot<const UNDO: bool>(
    slot: &mut Slot,
    rates: &Rates,
    credit: &Credit,
    facts: &RecordFacts,
    now: u64,
    undo: &mut [u64; 2],
) -> Option<Exceeded> {
    let t = if facts.severe {
        &mut slot.severe
    } else {
        &mut slot.normal
    };
    // A TAT is at most `now + 2^62` (a record is admitted only when its
    // new TAT is within the tolerance, itself below 2^62, or when the
    // bucket is full and the cost, at most FOREVER, starts from now), so
    // these sums stay below `now + 2^63`: no overflow for 292 years of
    // host uptime. A record budget's unit is within its tolerance (a
    // burst is at least one token), so a full bucket always has room for
    // a record, with no test for it. An inactive record budget (unit 0,
    // tolerance MAX) keeps its TAT at the last record's time: full again
    // at the next. An inactive byte budget is skipped: its TAT is never
    // read.
    let ahead = t.records.saturating_sub(now);
    if ahead.wrapping_add(rates.records.unit) > rates.records.tolerance {
        return Some(if facts.severe {
            Exceeded::SevereRecords
        } else {
            Exceeded::Records
        });
    }
    if UNDO {
        *undo = [t.records, t.bytes];
    }
    if rates.bytes_active {
        let cost = rates.bytes.pace.ns(credit.cost(facts));
        let bytes_ahead = t.bytes.saturating_sub(now);
        // A full bucket passes a record larger than the burst, its excess
        // owed.
        if bytes_ahead > 0 && bytes_ahead.wrapping_add(cost) > rates.bytes.tolerance {
            return Some(if facts.severe {
                Exceeded::SevereBytes
            } else {
                Exceeded::Bytes
            });
        }
        t.bytes = (now + bytes_ahead).wrapping_add(cost);
    }
    // `now + ahead` is the later of the TAT and now: it cannot overflow.
    t.records = (now + ahead).wrapping_add(rates.records.unit);
    None
}

/// One tracked key: what a record finds and charges. The fields every
/// record touches come first.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    hash: u64,
    /// The key's first two words (the last zero-padded): all of a key up to
    /// 16 bytes, compared without leaving the slot.
    head: [u64; 2],
    /// The rendered key's full length.
    len: u32,
    /// Set when a record finds the key; cleared as the clock hand passes.
    referenced: bool,
    /// Whether the key is on the pending list (its [`Held`] then exists).
    pending: bool,
    normal: Tats,
    severe: Tats,
}

/// What a tracked key holds for later: its tally and its place on the
/// pending list. Kept apart from its [`Slot`], in a table that reaches a
/// slot only once that key (or one placed after it) has held something,
/// so that a new key writes its slot alone: most keys never hold anything.
#[derive(Clone, Copy, Debug, Default)]
struct Held {
    tally: Tally,
    pend: Link,
    /// When it joined the pending list (or, for the overflow key, when its
    /// tally became non-empty).
    pending_since: u64,
}

/// One message tracked for dedupe.
#[derive(Clone, Copy, Debug, Default)]
struct Message {
    id: u64,
    used: bool,
    /// The window closes at this instant.
    open_until: u64,
    /// Copies collapsed and not yet carried.
    held: Tally,
}

enum Probe {
    Found(u32),
    Vacant(usize),
    Full,
}

enum MessageHit {
    Open(usize),
    Closed(usize),
    Miss,
}

enum Source {
    Own(u32),
    Stale(u32),
    Overflow,
}

/// How many keys the clock hand examines, at most, to choose one to
/// forget: the first not found by a record since the hand last passed it,
/// else the last examined.
pub const CLOCK_SCAN: usize = 8;

/// One limit: its spec and its table of keys.
///
/// Slot 0 is the overflow key; slots 1.. are tracked keys, found through
/// an open-addressing index (linear probing, at most 25% full, deletion by
/// backward shift, every key within [`MAX_PROBE`] of its home). When the
/// table is full a key is forgotten by the CLOCK ("second chance")
/// approximation of least-recently-used: a hand sweeps the slots, sparing
/// once each key a record has found since the hand last passed. A hit
/// costs one store (no list to relink), a key seen once is forgotten
/// before a key seen again, and a choice examines at most [`CLOCK_SCAN`]
/// keys. Slots holding a tally or collapsed copies are also on the pending
/// list (oldest first).
pub struct Limiter {
    spec: LimitSpec,
    seed: u64,
    normal: Rates,
    severe: Rates,
    credit: Credit,
    slots: Vec<Slot>,
    /// Each slot's [`Held`], up to the last slot that held something (the
    /// overflow key's always): readers treat a slot past the end as
    /// holding nothing. Its capacity follows the slots' (never more).
    held: Vec<Held>,
    /// [`TAIL_WORDS`] per slot: the key's kept words after the two in its
    /// slot's `head`. Only keys longer than 16 bytes have such words, so
    /// the table reaches slot `s` only once such a key was placed at or
    /// past `s`: keys of up to 16 bytes (an IPv4 address) cost nothing
    /// here, neither the bytes of a zeroed range per new key nor their
    /// copy when the table grows. A slot holding a longer key is always
    /// covered; readers treat a slot past the end as having no tail.
    keys: Vec<u64>,
    /// The current record's key's kept words after the first two, as
    /// hashing read them (keys longer than 16 bytes).
    tail: [u64; TAIL_WORDS],
    /// Whether the overflow key holds a tally.
    overflow_held: bool,
    /// [`DEDUPE_MESSAGES`] per slot when the limit dedupes.
    messages: Vec<[Message; DEDUPE_MESSAGES]>,
    index: Vec<u32>,
    mask: usize,
    /// 64 less the index size's bits: [`Limiter::home`]'s shift.
    shift: u32,
    hand: u32,
    pend: Ends,
    capacity: usize,
    longest_probe: usize,
    budget_text: [String; 4],
    /// The slot of the record being decided.
    current: u32,
    /// The TATs [`Limiter::charge`] replaced, for [`Limiter::undo`].
    undo: [u64; 2],
}

fn unlink(held: &mut [Held], ends: &mut Ends, i: u32) {
    let Some(link) = held
        .get_mut(i as usize)
        .map(|h| std::mem::take(&mut h.pend))
    else {
        return;
    };
    match held.get_mut(link.prev as usize) {
        Some(p) if link.prev != 0 => p.pend.next = link.next,
        _ => ends.head = link.next,
    }
    match held.get_mut(link.next as usize) {
        Some(n) if link.next != 0 => n.pend.prev = link.prev,
        _ => ends.tail = link.prev,
    }
}

fn push_back(held: &mut [Held], ends: &mut Ends, i: u32) {
    let old = ends.tail;
    if let Some(h) = held.get_mut(i as usize) {
        h.pend = Link { prev: old, next: 0 };
    }
    match held.get_mut(old as usize) {
        Some(o) if old != 0 => o.pend.next = i,
        _ => ends.head = i,
    }
    ends.tail = i;
}

/// The number with three decimals at most, as `2.5` or `1`.
fn milli_text(milli: u64) -> String {
    let (whole, frac) = (milli / MILLI, milli % MILLI);
    if frac == 0 {
        return whole.to_string();
    }
    let s = format!("{whole}.{frac:03}");
    s.trim_end_matches('0').to_string()
}

impl Limiter {
    /// A limit with an empty table; keys are hashed with `seed`.
    pub fn new(spec: LimitSpec, seed: u64) -> Limiter {
        let capacity = spec.max_keys.clamp(1, MAX_KEYS_LIMIT as usize);
        let size = (capacity * 4).next_power_of_two().max(8);
        let budget = |b: Budget, unit: &str| {
            let burst = if b.burst == 0 { b.per_sec } else { b.burst };
            format!("{} {unit}/s, burst {burst}", b.per_sec)
        };
        let amp = if spec.log_milli_per_client_byte > 0 {
            format!(
                ", less {} bytes per byte the client sent",
                milli_text(spec.log_milli_per_client_byte)
            )
        } else {
            String::new()
        };
        let budget_text = [
            budget(spec.records, "records"),
            budget(spec.bytes, "bytes") + &amp,
            format!("error or worse: {}", budget(spec.severe_records, "records")),
            format!("error or worse: {}", budget(spec.severe_bytes, "bytes")) + &amp,
        ];
        let mut limiter = Limiter {
            normal: Rates::of(spec.records, spec.bytes),
            severe: Rates::of(spec.severe_records, spec.severe_bytes),
            credit: Credit::of(spec.log_milli_per_client_byte),
            seed: mix_seed(seed),
            spec,
            slots: Vec::new(),
            held: vec![Held::default()],
            keys: Vec::new(),
            messages: Vec::new(),
            index: vec![0; size],
            mask: size - 1,
            shift: 64 - size.trailing_zeros(),
            hand: 0,
            pend: Ends::default(),
            capacity,
            longest_probe: 0,
            budget_text,
            current: 0,
            undo: [0; 2],
            tail: [0; TAIL_WORDS],
            overflow_held: false,
        };
        limiter.grow();
        limiter.slots.push(Slot::default());
        if limiter.dedupes() {
            limiter.messages.push(Default::default());
        }
        limiter
    }

    /// The limit's spec.
    pub fn spec(&self) -> &LimitSpec {
        &self.spec
    }

    /// How many keys are tracked now (the overflow key not counted).
    pub fn len(&self) -> usize {
        self.slots.len().saturating_sub(1)
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The longest probe sequence a lookup of a tracked key can need: the
    /// farthest from its home any key was placed (keys only move nearer).
    pub fn longest_probe(&self) -> usize {
        self.longest_probe
    }

    fn dedupes(&self) -> bool {
        self.spec.dedupe_window_ns > 0
    }

    /// The bytes this limit's tables take now.
    pub fn memory_bytes(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
            + self.held.capacity() * std::mem::size_of::<Held>()
            + self.keys.capacity() * std::mem::size_of::<u64>()
            + self.messages.capacity() * std::mem::size_of::<[Message; DEDUPE_MESSAGES]>()
            + self.index.capacity() * std::mem::size_of::<u32>()
    }

    /// The most bytes a limit with `max_keys` keys takes, whatever it is
    /// fed: `(max_keys + 1)` slots of [`Limiter::slot_bytes`] plus an index
    /// of 4-byte entries, four times `max_keys` rounded up to a power of two.
    pub fn memory_bound(max_keys: usize, dedupe: bool) -> usize {
        let capacity = max_keys.clamp(1, MAX_KEYS_LIMIT as usize);
        let index = (capacity * 4).next_power_of_two().max(8) * std::mem::size_of::<u32>();
        (capacity + 1) * Limiter::slot_bytes(dedupe) + index
    }

    /// The bytes one tracked key takes: its slot, its kept key bytes and,
    /// when the limit dedupes, its messages.
    pub fn slot_bytes(dedupe: bool) -> usize {
        std::mem::size_of::<Slot>()
            + std::mem::size_of::<Held>()
            + MAX_KEY_BYTES
            + if dedupe {
                std::mem::size_of::<[Message; DEDUPE_MESSAGES]>()
            } else {
                0
            }
    }

    /// Grows the slot tables, never past the capacity, so memory stays
    /// within [`Limiter::memory_bound`]: to 16 slots (the overflow key's
    /// and 15 more) at first, to the capacity at the 16th key. Growing
    /// copies the slots so far, bytes the host charges one fuel each:
    /// growing in one step copies 16 slots, where doubling would copy
    /// about as many as the table ends with. A slot is written only when a
    /// key takes it.
    fn grow(&mut self) {
        let total = self.capacity + 1;
        let have = self.slots.len();
        let next = if have < 16 { total.min(16) } else { total };
        let add = next.saturating_sub(have);
        self.slots.reserve_exact(add);
        if self.dedupes() {
            self.messages.reserve_exact(add);
        }
    }

    fn key_text(&self, s: u32) -> KeyText {
        if s == 0 {
            return KeyText::overflow();
        }
        let (full, head) = self
            .slots
            .get(s as usize)
            .map_or((0, [0; 2]), |slot| (slot.len, slot.head));
        let at = s as usize * TAIL_WORDS;
        let tail = self.keys.get(at..at + TAIL_WORDS).unwrap_or_default();
        let mut bytes = [0u8; MAX_KEY_BYTES];
        for (dst, w) in bytes.chunks_exact_mut(8).zip(head.iter().chain(tail)) {
            dst.copy_from_slice(&w.to_le_bytes());
        }
        let kept = (full as usize).min(MAX_KEY_BYTES);
        KeyText::of(bytes.get(..kept).unwrap_or_default(), full)
    }

    /// Hashes `key` ([`key_hash`]) and returns its first two words (the
    /// slot's `head`); the next kept words of a longer key wait in `tail`
    /// for the comparison and, if it is new, the table.
    #[inline(always)]
    fn hash(&mut self, key: &[u8]) -> (u64, [u64; 2]) {
        let len = key.len();
        let mut h = self.seed ^ len as u64;
        if len <= 16 {
            // Most keys (an IPv4 address, a short name): straight-line.
            let (w0, w1) = short_words(key);
            return (mix(mix(h, w0), w1), [w0, w1]);
        }
        let mut head = [0u64; 2];
        let mut at = 0;
        let mut n = 0;
        while let Some(eight) = key.get(at..at + 8) {
            let w = load(eight);
            self.keep(&mut head, n, w);
            h = mix(h, w);
            at += 8;
            n += 1;
        }
        if at < len {
            // The last bytes: the key's last word shifted down (one load).
            let w = key
                .get(len - 8..)
                .map_or(0, |last| load(last) >> (64 - 8 * (len - at)));
            self.keep(&mut head, n, w);
            h = mix(h, w);
        }
        (h, head)
    }

    /// Keeps word `n` of a key being hashed.
    #[inline(always)]
    fn keep(&mut self, head: &mut [u64; 2], n: usize, w: u64) {
        match head.get_mut(n) {
            Some(slot) => *slot = w,
            None => {
                if let Some(slot) = self.tail.get_mut(n - 2) {
                    *slot = w;
                }
            }
        }
    }

    /// Whether slot `s` holds the key of `len` bytes hashed as `hash`
    /// whose head is `head` (and, past 16 bytes, whose next words wait in
    /// `tail`). A key of up to 16 bytes is all in its length and head; a
    /// longer one's hash is compared before the rest of its words.
    #[inline(always)]
    fn holds_key(&self, slot: &Slot, s: u32, hash: u64, len: usize, head: [u64; 2]) -> bool {
        let [h0, h1] = slot.head;
        if slot.len as usize != len || h0 != head[0] || h1 != head[1] {
            return false;
        }
        len <= 16 || (slot.hash == hash && self.holds_tail(s, len))
    }

    /// The rest of [`Limiter::holds_key`], for keys longer than 16 bytes:
    /// out of line, so that its setup stays out of every probe.
    #[inline(never)]
    fn holds_tail(&self, s: u32, len: usize) -> bool {
        let at = s as usize * TAIL_WORDS;
        let Some(stored) = self.keys.get(at..at + TAIL_WORDS) else {
            return false;
        };
        let n = tail_words(len);
        stored.iter().zip(&self.tail).take(n).all(|(a, b)| a == b)
    }

    /// The index position where the probe for a key hashed as `hash`
    /// starts: the hash's top bits, which depend on all of the key.
    #[inline(always)]
    fn home(&self, hash: u64) -> usize {
        (hash >> self.shift) as usize
    }

    /// Finds the key [`Limiter::hash`] read (`len` bytes, hashed as
    /// `hash`) in the index.
    #[inline(always)]
    fn probe(&mut self, hash: u64, len: usize, head: [u64; 2]) -> Probe {
        let mut pos = self.home(hash);
        for step in 0..MAX_PROBE {
            let s = self.index.get(pos).copied().unwrap_or(0);
            if s == 0 {
                // Noted here, where a key is placed, not where it is found:
                // a placed key only ever moves nearer its home.
                self.note_probe(step);
                return Probe::Vacant(pos);
            }
            if let Some(slot) = self.slots.get(s as usize)
                && self.holds_key(slot, s, hash, len, head)
            {
                return Probe::Found(s);
            }
            pos = (pos + 1) & self.mask;
        }
        self.longest_probe = MAX_PROBE;
        Probe::Full
    }

    /// Notes that a key placed `step` positions past its home will need
    /// `step + 1` to be found.
    #[inline(always)]
    fn note_probe(&mut self, step: usize) {
        if step >= self.longest_probe {
            self.longest_probe = step + 1;
        }
    }

    /// The first vacant index position of `hash`'s probe sequence, for a
    /// key known not to be in the index: [`Limiter::probe`] without the
    /// comparisons.
    fn vacancy(&mut self, hash: u64) -> Option<usize> {
        let mut pos = self.home(hash);
        for step in 0..MAX_PROBE {
            if self.index.get(pos).copied().unwrap_or(0) == 0 {
                self.note_probe(step);
                return Some(pos);
            }
            pos = (pos + 1) & self.mask;
        }
        self.longest_probe = MAX_PROBE;
        None
    }

    /// Removes slot `s` from the index, moving later entries of its cluster
    /// back so that no probe sequence is broken.
    fn unindex(&mut self, s: u32) {
        let Some(hash) = self.slots.get(s as usize).map(|slot| slot.hash) else {
            return;
        };
        let mut hole = self.home(hash);
        let mut found = false;
        for _ in 0..MAX_PROBE {
            if self.index.get(hole).copied() == Some(s) {
                found = true;
                break;
            }
            hole = (hole + 1) & self.mask;
        }
        if !found {
            return;
        }
        let mut j = hole;
        for _ in 0..self.index.len() {
            j = (j + 1) & self.mask;
            let t = self.index.get(j).copied().unwrap_or(0);
            if t == 0 {
                break;
            }
            let home = self.slots.get(t as usize).map_or(0, |x| self.home(x.hash));
            // `t` may move to the hole when the hole lies between its home
            // and where it is now.
            if (j.wrapping_sub(home) & self.mask) >= (j.wrapping_sub(hole) & self.mask) {
                if let Some(h) = self.index.get_mut(hole) {
                    *h = t;
                }
                hole = j;
            }
        }
        if let Some(h) = self.index.get_mut(hole) {
            *h = 0;
        }
    }

    /// Finds the record's key (or starts tracking it); its slot becomes
    /// the current one: slot 0 when it cannot be placed.
    #[inline(always)]
    fn locate<'v>(
        &mut self,
        now: u64,
        lookup: &mut dyn FnMut(&str) -> Option<&'v [u8]>,
        scratch: &mut Vec<u8>,
    ) {
        let key = self.spec.key.key(lookup, scratch);
        let len = key.len();
        let (hash, head) = self.hash(key);
        self.current = match self.probe(hash, len, head) {
            Probe::Found(s) => {
                if let Some(slot) = self.slots.get_mut(s as usize) {
                    slot.referenced = true;
                }
                s
            }
            Probe::Full => 0,
            Probe::Vacant(pos) => self.insert(now, hash, len, head[0], head[1], pos),
        };
    }

    /// [`Limiter::locate`] then [`Limiter::charge`] for a limit that
    /// decides alone (nothing to undo), given the record's key: the slot
    /// is looked up once for both. Returns the slot, which the caller makes
    /// the current one only when it needs it (a refusal, a carry).
    #[inline(always)]
    fn locate_and_charge(
        &mut self,
        now: u64,
        facts: &RecordFacts,
        key: &[u8],
    ) -> (u32, Option<Exceeded>) {
        let len = key.len();
        let (hash, head) = self.hash(key);
        let (s, found) = match self.probe(hash, len, head) {
            Probe::Found(s) => (s, true),
            Probe::Full => (0, false),
            Probe::Vacant(pos) => (self.insert(now, hash, len, head[0], head[1], pos), false),
        };
        (s, self.charge_at(s, found, now, facts))
    }

    /// The rest of [`Limiter::locate_and_charge`]: charges slot `s`.
    #[inline(always)]
    fn charge_at(
        &mut self,
        s: u32,
        found: bool,
        now: u64,
        facts: &RecordFacts,
    ) -> Option<Exceeded> {
        let Limiter {
            normal,
            severe,
            credit,
            slots,
            undo,
            ..
        } = self;
        let slot = slots.get_mut(s as usize)?;
        if found {
            slot.referenced = true;
        }
        // No test for a class without budgets: its buckets pass every
        // record (see `charge_slot`), and the class with budgets, the one
        // most records are in, is spared the test.
        let rates = if facts.severe { severe } else { normal };
        charge_slot::<false>(slot, rates, credit, facts, now, undo)
    }

    /// Starts tracking the key [`Limiter::hash`] read (`len` bytes, hashed
    /// as `hash`, its first two words `h0` and `h1`) at index position
    /// `pos`, forgetting another key when the table is full.
    #[cold]
    fn insert(&mut self, now: u64, hash: u64, len: usize, h0: u64, h1: u64, pos: usize) -> u32 {
        if self.slots.len() > self.capacity {
            return self.insert_over(now, hash, len, h0, h1);
        }
        if self.slots.len() == self.slots.capacity() {
            self.grow();
        }
        // Written whole, once: a new slot past every other holds nothing,
        // and its `Held` is not there yet.
        self.slots.push(Slot {
            hash,
            head: [h0, h1],
            len: u32::try_from(len).unwrap_or(u32::MAX),
            referenced: false,
            pending: false,
            normal: Tats::default(),
            severe: Tats::default(),
        });
        if self.dedupes() {
            self.push_messages();
        }
        let s = (self.slots.len() - 1) as u32;
        self.place(s, len, pos)
    }

    /// A new slot's messages, for a limit that dedupes. Out of line: the
    /// messages are built on the stack, and the function that builds them
    /// keeps room for them on every call.
    #[inline(never)]
    fn push_messages(&mut self) {
        self.messages.push(Default::default());
    }

    /// [`Limiter::insert`] when the table is full: the key takes the slot
    /// of one it forgets. Out of line, so that filling the table does not
    /// pay for its stack frame.
    #[inline(never)]
    fn insert_over(&mut self, now: u64, hash: u64, len: usize, h0: u64, h1: u64) -> u32 {
        let victim = self.victim();
        self.evict(victim, now);
        // The key is not in the index (the probe that led here found a
        // vacancy before it); freeing a position may have moved that
        // vacancy nearer, never farther.
        let Some(pos) = self.vacancy(hash) else {
            // Cannot happen; kept total: the freed slot stays free.
            return 0;
        };
        if let Some(slot) = self.slots.get_mut(victim as usize) {
            // Field by field: a whole-slot assignment is a copy the host
            // charges by the byte. The forgotten key's tally was taken and
            // it is off the pending list.
            slot.hash = hash;
            slot.head = [h0, h1];
            slot.len = u32::try_from(len).unwrap_or(u32::MAX);
            slot.referenced = false;
            slot.normal = Tats::default();
            slot.severe = Tats::default();
        }
        if let Some(msgs) = self.messages.get_mut(victim as usize) {
            for m in msgs.iter_mut() {
                m.used = false;
            }
        }
        self.place(victim, len, pos)
    }

    /// Puts slot `s`, now holding a key of `len` bytes, at index position
    /// `pos`, its tail words (if any) kept.
    #[inline(always)]
    fn place(&mut self, s: u32, len: usize, pos: usize) -> u32 {
        let n = tail_words(len);
        if n > 0 {
            self.keep_tail(s, n);
        }
        if let Some(i) = self.index.get_mut(pos) {
            *i = s;
        }
        s
    }

    /// Stores the `n` tail words waiting in `tail` as slot `s`'s, first
    /// extending the table of tail words to reach them. The table's
    /// capacity follows the slots' (never more), so memory stays within
    /// [`Limiter::memory_bound`].
    fn keep_tail(&mut self, s: u32, n: usize) {
        let at = s as usize * TAIL_WORDS;
        let end = at + TAIL_WORDS;
        if self.keys.len() < end {
            if self.keys.capacity() < end {
                let room = self.slots.capacity() * TAIL_WORDS;
                self.keys
                    .reserve_exact(room.max(end).saturating_sub(self.keys.len()));
            }
            self.keys.resize(end, 0);
        }
        if let (Some(dst), Some(src)) = (self.keys.get_mut(at..at + n), self.tail.get(..n)) {
            dst.copy_from_slice(src);
        }
    }

    /// The slot to forget: CLOCK, examining at most [`CLOCK_SCAN`] slots.
    fn victim(&mut self) -> u32 {
        let last = (self.slots.len() - 1) as u32;
        for _ in 0..CLOCK_SCAN {
            self.hand = if self.hand >= last { 1 } else { self.hand + 1 };
            match self.slots.get_mut(self.hand as usize) {
                Some(slot) if slot.referenced => slot.referenced = false,
                _ => break,
            }
        }
        self.hand
    }

    /// Forgets slot `v`, folding what it holds into the overflow key.
    fn evict(&mut self, v: u32, now: u64) {
        if self.dedupes() {
            self.fold_messages(v, u64::MAX);
        }
        if let Some(held) = self
            .held
            .get(v as usize)
            .filter(|h| !h.tally.is_empty())
            .map(|h| h.tally)
        {
            self.add_to_overflow(&Tally { keys: 1, ..held }, now);
        }
        if self.slots.get(v as usize).is_some_and(|s| s.pending) {
            unlink(&mut self.held, &mut self.pend, v);
        }
        self.unindex(v);
        if let Some(h) = self.held.get_mut(v as usize)
            && !h.tally.is_empty()
        {
            h.tally = Tally::default();
        }
        if let Some(slot) = self.slots.get_mut(v as usize) {
            slot.pending = false;
        }
    }

    /// Slot `s`'s [`Held`], the table first extended to reach it.
    fn held_mut(&mut self, s: u32) -> Option<&mut Held> {
        let end = s as usize + 1;
        if self.held.len() < end {
            self.cover_held(end);
        }
        self.held.get_mut(s as usize)
    }

    /// Extends the table of [`Held`] to `end` slots, its capacity to the
    /// slots' at once (never more, so memory stays within
    /// [`Limiter::memory_bound`]).
    #[cold]
    fn cover_held(&mut self, end: usize) {
        if self.held.capacity() < end {
            let room = self.slots.capacity().max(end);
            self.held
                .reserve_exact(room.saturating_sub(self.held.len()));
        }
        self.held.resize(end, Held::default());
    }

    fn add_to_overflow(&mut self, tally: &Tally, now: u64) {
        if let Some(o) = self.held.get_mut(0) {
            if o.tally.is_empty() {
                o.pending_since = now;
            }
            o.tally.merge(tally);
            self.overflow_held = !o.tally.is_empty();
        }
    }

    /// Moves collapsed copies of messages whose window closed by
    /// `closed_by` (all of them for `u64::MAX`) into the slot's tally.
    fn fold_messages(&mut self, s: u32, closed_by: u64) {
        let Some(msgs) = self.messages.get_mut(s as usize) else {
            return;
        };
        let mut held = Tally::default();
        for m in msgs.iter_mut() {
            if !m.held.is_empty() && m.open_until <= closed_by {
                held.merge(&m.held);
                m.held = Tally::default();
            }
        }
        if !held.is_empty()
            && let Some(h) = self.held_mut(s)
        {
            h.tally.merge(&held);
        }
    }

    fn holds_messages(&self, s: u32, closed_by: u64) -> bool {
        self.messages.get(s as usize).is_some_and(|msgs| {
            msgs.iter()
                .any(|m| !m.held.is_empty() && m.open_until <= closed_by)
        })
    }

    /// Puts slot `s` on the pending list if it is not there.
    fn mark_pending(&mut self, s: u32, now: u64) {
        if s == 0 {
            return;
        }
        match self.slots.get_mut(s as usize) {
            Some(slot) if !slot.pending => slot.pending = true,
            _ => return,
        }
        if let Some(h) = self.held_mut(s) {
            h.pending_since = now;
        }
        push_back(&mut self.held, &mut self.pend, s);
    }

    /// After something was taken from slot `s`: off the pending list if it
    /// holds nothing more, else to its end (held since `now`).
    fn settle(&mut self, s: u32, now: u64) {
        let Some(slot) = self.slots.get(s as usize) else {
            return;
        };
        if !slot.pending {
            return;
        }
        unlink(&mut self.held, &mut self.pend, s);
        if let Some(slot) = self.slots.get_mut(s as usize) {
            slot.pending = false;
        }
        if self.holds_anything(s) {
            self.mark_pending(s, now);
        }
    }

    fn holds_anything(&self, s: u32) -> bool {
        self.held
            .get(s as usize)
            .is_some_and(|x| !x.tally.is_empty())
            || self.holds_messages(s, u64::MAX)
    }

    /// Runs the record's class's buckets of the current slot forward to
    /// `now`: charges the record and returns `None` when it fits every
    /// budget (the old TATs kept for [`Limiter::undo`]), else says which
    /// budget it does not fit and charges nothing.
    #[inline(always)]
    fn charge<const UNDO: bool>(&mut self, facts: &RecordFacts, now: u64) -> Option<Exceeded> {
        let Limiter {
            normal,
            severe,
            credit,
            slots,
            current,
            undo,
            ..
        } = self;
        let rates = if facts.severe { severe } else { normal };
        if !rates.active {
            return None;
        }
        let slot = slots.get_mut(*current as usize)?;
        charge_slot::<UNDO>(slot, rates, credit, facts, now, undo)
    }

    /// Gives back what [`Limiter::charge`] charged, when a later limit
    /// refuses the record.
    #[cold]
    fn undo(&mut self, facts: &RecordFacts) {
        let [records, bytes] = self.undo;
        if let Some(slot) = self.slots.get_mut(self.current as usize) {
            let t = if facts.severe {
                &mut slot.severe
            } else {
                &mut slot.normal
            };
            t.records = records;
            t.bytes = bytes;
        }
    }

    /// A record over the current slot's budget: the summary if limiting
    /// starts with it, else `None` and the record counted.
    #[cold]
    fn refuse(
        &mut self,
        limit: usize,
        exceeded: Exceeded,
        facts: &RecordFacts,
        now: u64,
    ) -> Option<Summary> {
        let s = self.current;
        let quiet = if facts.severe {
            self.severe.quiet
        } else {
            self.normal.quiet
        };
        let slot = self.slots.get_mut(s as usize)?;
        let t = if facts.severe {
            &mut slot.severe
        } else {
            &mut slot.normal
        };
        let last = t.refused_at;
        t.refused_at = last.max(now).max(1);
        if last == 0 || now.saturating_sub(last) >= quiet {
            return Some(Summary {
                limit,
                key: self.key_text(s),
                exceeded,
                tally: Tally::one(facts, now),
            });
        }
        if s == 0 {
            self.add_to_overflow(&Tally::one(facts, now), now);
        } else {
            if let Some(h) = self.held_mut(s) {
                h.tally.add(facts, now);
            }
            self.mark_pending(s, now);
        }
        None
    }

    fn find_message(&self, id: u64, now: u64) -> MessageHit {
        let s = self.current;
        let Some(msgs) = self.messages.get(s as usize) else {
            return MessageHit::Miss;
        };
        if s == 0 {
            return MessageHit::Miss;
        }
        for (i, m) in msgs.iter().enumerate() {
            if m.used && m.id == id {
                return if now < m.open_until {
                    MessageHit::Open(i)
                } else {
                    MessageHit::Closed(i)
                };
            }
        }
        MessageHit::Miss
    }

    fn collapse(&mut self, i: usize, facts: &RecordFacts, now: u64) {
        let s = self.current;
        if let Some(m) = self.messages.get_mut(s as usize).and_then(|m| m.get_mut(i)) {
            m.held.add(facts, now);
            m.held.repeats = m.held.repeats.saturating_add(1);
        }
        self.mark_pending(s, now);
    }

    /// An admitted record's message: reopens its window and hands over its
    /// collapsed copies, or takes a message slot for it.
    fn admit_message(&mut self, id: u64, hit: MessageHit, now: u64) -> Option<Repeat> {
        let s = self.current;
        if s == 0 {
            return None;
        }
        let until = now.saturating_add(self.spec.dedupe_window_ns);
        let msgs = self.messages.get_mut(s as usize)?;
        match hit {
            MessageHit::Closed(i) | MessageHit::Open(i) => {
                let m = msgs.get_mut(i)?;
                m.open_until = until;
                let held = std::mem::take(&mut m.held);
                if held.is_empty() {
                    return None;
                }
                if !self.holds_anything(s) {
                    self.settle(s, now);
                }
                Some(Repeat {
                    count: held.records,
                    first: held.first,
                    last: held.last,
                })
            }
            MessageHit::Miss => {
                // A free message slot, else the one whose window closed first.
                let mut victim = 0;
                let mut oldest = u64::MAX;
                for (i, m) in msgs.iter().enumerate() {
                    let age = if m.used { m.open_until } else { 0 };
                    if age < oldest {
                        oldest = age;
                        victim = i;
                    }
                }
                let m = msgs.get_mut(victim)?;
                let held = std::mem::take(&mut m.held);
                *m = Message {
                    id,
                    used: true,
                    open_until: until,
                    held: Tally::default(),
                };
                if !held.is_empty()
                    && let Some(h) = self.held_mut(s)
                {
                    h.tally.merge(&held);
                }
                None
            }
        }
    }

    /// Whether anything is held at all: when not, an admitted record has
    /// nothing to carry (the common case, decided in a few instructions).
    #[inline(always)]
    fn holds_any(&self) -> bool {
        // One test, not two: asked of every admitted record.
        (self.pend.head | u32::from(self.overflow_held)) != 0
    }

    /// The oldest held tally this admitted record (of the current slot)
    /// may carry: its own key's, the overflow key's, or a silent key's held
    /// longer than `carry_after_secs`. Returns when it has been held since.
    fn candidate(&self, now: u64) -> Option<(u64, Source)> {
        let s = self.current;
        let mut best: Option<(u64, Source)> = None;
        let mut offer = |since: u64, source: Source| {
            if best.as_ref().is_none_or(|(b, _)| since < *b) {
                best = Some((since, source));
            }
        };
        if let Some(o) = self.held.first()
            && !o.tally.is_empty()
        {
            offer(o.pending_since, Source::Overflow);
        }
        if s != 0
            && self.slots.get(s as usize).is_some_and(|slot| slot.pending)
            && let Some(h) = self.held.get(s as usize)
            && (!h.tally.is_empty() || self.holds_messages(s, now))
        {
            offer(h.pending_since, Source::Own(s));
        }
        let head = self.pend.head;
        if head != 0
            && head != s
            && let Some(h) = self.held.get(head as usize)
            && h.pending_since.saturating_add(self.spec.carry_after_ns) <= now
        {
            offer(h.pending_since, Source::Stale(head));
        }
        best
    }

    fn take(&mut self, limit: usize, source: Source, now: u64) -> Carried {
        match source {
            Source::Overflow => {
                self.overflow_held = false;
                let tally = self
                    .held
                    .get_mut(0)
                    .map(|o| std::mem::take(&mut o.tally))
                    .unwrap_or_default();
                Carried {
                    limit,
                    key: KeyText::overflow(),
                    tally,
                }
            }
            Source::Own(s) | Source::Stale(s) => {
                let closed_by = if matches!(source, Source::Own(_)) {
                    now
                } else {
                    u64::MAX
                };
                self.fold_messages(s, closed_by);
                let tally = self
                    .held
                    .get_mut(s as usize)
                    .map(|x| std::mem::take(&mut x.tally))
                    .unwrap_or_default();
                self.settle(s, now);
                Carried {
                    limit,
                    key: self.key_text(s),
                    tally,
                }
            }
        }
    }

    /// Every held tally, taken: the overflow key's, then each pending
    /// key's (oldest first) with all its collapsed copies.
    fn drain_into(&mut self, limit: usize, out: &mut Vec<Carried>, now: u64) {
        if self.held.first().is_some_and(|o| !o.tally.is_empty()) {
            out.push(self.take(limit, Source::Overflow, now));
        }
        for _ in 0..self.slots.len() {
            let head = self.pend.head;
            if head == 0 {
                break;
            }
            let c = self.take(limit, Source::Stale(head), now);
            if !c.tally.is_empty() {
                out.push(c);
            }
        }
    }
}

/// Decides a record of key `key` against `lim`, a route's only limit
/// (without dedupe): [`Limits::admit`]'s common case, without the loops
/// over limits and with nothing to undo.
#[inline(always)]
fn decide_alone(
    lim: &mut Limiter,
    carried: &mut Option<Carried>,
    summary: &mut Option<Summary>,
    now: u64,
    facts: &RecordFacts,
    key: &[u8],
) -> Decision {
    let (s, charged) = lim.locate_and_charge(now, facts, key);
    if let Some(exceeded) = charged {
        return if refuse_alone(lim, s, summary, exceeded, facts, now) {
            Decision::Summary
        } else {
            Decision::Drop(0)
        };
    }
    let carry = lim.holds_any() && carry_alone(lim, s, carried, now);
    Decision::Admit {
        carry,
        repeat: false,
    }
}

/// [`decide_alone`] for a record its limit refuses: whether it is
/// replaced by a summary (else dropped). Out of line, as the rest of the
/// decision is, so that the common path keeps no room on the stack for a
/// summary.
#[cold]
#[inline(never)]
fn refuse_alone(
    lim: &mut Limiter,
    s: u32,
    summary: &mut Option<Summary>,
    exceeded: Exceeded,
    facts: &RecordFacts,
    now: u64,
) -> bool {
    lim.current = s;
    match lim.refuse(0, exceeded, facts, now) {
        Some(s) => {
            *summary = Some(s);
            true
        }
        None => false,
    }
}

/// [`decide_alone`] for an admitted record while the limit holds a tally
/// somewhere: whether the record carries one (then in `carried`).
#[inline(never)]
fn carry_alone(lim: &mut Limiter, s: u32, carried: &mut Option<Carried>, now: u64) -> bool {
    lim.current = s;
    match lim.candidate(now) {
        Some((_, source)) => {
            *carried = Some(lim.take(0, source, now));
            true
        }
        None => false,
    }
}

/// Spreads a seed's bits (splitmix64), so that seeds 0, 1, 2... hash alike
/// badly only never.
fn mix_seed(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(K0);
    z = (z ^ (z >> 30)).wrapping_mul(K1);
    z = (z ^ (z >> 27)).wrapping_mul(K2);
    z ^ (z >> 31)
}

// ---------------------------------------------------------------------------
// A route's limits
// ---------------------------------------------------------------------------

/// The limits of one route, deciding each record together.
///
/// A record comes out when every limit has room for it, and is then
/// charged to each; otherwise the first limit (in configuration order)
/// without room takes it: as a summary if limiting starts there, else in
/// its key's tally. An admitted record carries at most one held tally: the
/// oldest its keys' limits offer.
pub struct Limits {
    limits: Vec<Limiter>,
    dedupe: Option<usize>,
    /// The field the key is, when these limits are one limit, without
    /// dedupe, keyed on one field and nothing else (see
    /// [`Limits::single_key_field`]).
    single: Option<String>,
    /// Per record: the key of a template with more than one part,
    /// rendered.
    scratch: Vec<u8>,
    /// What the last decision that named one carried.
    carried: Option<Carried>,
    repeat: Option<Repeat>,
    summary: Option<Summary>,
}

impl Limits {
    /// The limits `specs`, their keys hashed with seeds derived from
    /// `seed` (take it from the host's random source once per instance).
    pub fn new(specs: Vec<LimitSpec>, seed: u64) -> Limits {
        let dedupe = specs.iter().position(|s| s.dedupe_window_ns > 0);
        let limits: Vec<Limiter> = specs
            .into_iter()
            .enumerate()
            .map(|(i, spec)| Limiter::new(spec, seed ^ (i as u64).wrapping_mul(K2)))
            .collect();
        let single = match limits.as_slice() {
            [lim] if dedupe.is_none() => lim.spec.key.single_field().map(str::to_string),
            _ => None,
        };
        Limits {
            limits,
            dedupe,
            single,
            scratch: Vec::with_capacity(MAX_TEMPLATE_LEN * 2),
            carried: None,
            repeat: None,
            summary: None,
        }
    }

    /// Whether there is no limit (every record passes untouched).
    pub fn is_empty(&self) -> bool {
        self.limits.is_empty()
    }

    /// The limit at position `i`.
    pub fn limiter(&self, i: usize) -> Option<&Limiter> {
        self.limits.get(i)
    }

    /// The field the key is, when these limits are one limit keyed on one
    /// field and nothing else (`{field}`, the common case) that does not
    /// dedupe: such limits are decided by [`Limits::admit_single`].
    pub fn single_key_field(&self) -> Option<&str> {
        self.single.as_deref()
    }

    /// Decides one record at host monotonic time `now`. `lookup` gives a
    /// field's value (as JSON string content) by its path, for the key
    /// templates.
    pub fn admit<'v>(
        &mut self,
        now: u64,
        facts: &RecordFacts,
        lookup: &mut dyn FnMut(&str) -> Option<&'v [u8]>,
    ) -> Decision {
        let Limits {
            limits,
            dedupe,
            scratch,
            carried,
            summary,
            ..
        } = self;
        // One limit, no dedupe (the common case): the same steps without
        // the loops.
        if dedupe.is_none()
            && let [lim] = limits.as_mut_slice()
        {
            let key = lim.spec.key.key(lookup, scratch);
            return decide_alone(lim, carried, summary, now, facts, key);
        }
        self.admit_each(now, facts, lookup)
    }

    /// [`Limits::admit`] for a route whose limits are one limit keyed on
    /// one field (`{field}`, see [`Limits::single_key_field`]): the common
    /// case, decided in line, `value_of` giving that field's value
    /// ([`ABSENT_FIELD`] when the record lacks it, as a key renders it).
    /// `None`, with nothing asked, decided or changed, for other limits.
    #[inline(always)]
    pub fn admit_single<'v>(
        &mut self,
        now: u64,
        facts: &RecordFacts,
        value_of: impl FnOnce(&str) -> &'v [u8],
    ) -> Option<Decision> {
        let Limits {
            limits,
            single,
            carried,
            summary,
            ..
        } = self;
        let name = single.as_deref()?;
        // `single` is set for one limit only: the first is that one.
        let lim = limits.first_mut()?;
        // `{field}` renders as the value (see `KeyTemplate::key`).
        Some(decide_alone(
            lim,
            carried,
            summary,
            now,
            facts,
            value_of(name),
        ))
    }

    /// [`Limits::admit`] for several limits or dedupe: each limit's key
    /// found, then each charged in turn.
    #[inline(never)]
    fn admit_each<'v>(
        &mut self,
        now: u64,
        facts: &RecordFacts,
        lookup: &mut dyn FnMut(&str) -> Option<&'v [u8]>,
    ) -> Decision {
        let Limits {
            limits,
            dedupe,
            scratch,
            carried,
            repeat,
            summary,
            ..
        } = self;
        for lim in limits.iter_mut() {
            lim.locate(now, lookup, scratch);
        }

        let mut message = None;
        if let (Some(d), Some(template)) = (*dedupe, facts.template)
            && let Some(lim) = limits.get_mut(d)
        {
            let id = message_id(template, facts.variables);
            match lim.find_message(id, now) {
                MessageHit::Open(i) => {
                    lim.collapse(i, facts, now);
                    return Decision::Collapse;
                }
                hit => message = Some((d, id, hit)),
            }
        }

        let mut refused = None;
        let mut held = false;
        for (i, lim) in limits.iter_mut().enumerate() {
            if let Some(exceeded) = lim.charge::<true>(facts, now) {
                refused = Some((i, exceeded));
                break;
            }
            held |= lim.holds_any();
        }
        if let Some((i, exceeded)) = refused {
            for lim in limits.iter_mut().take(i) {
                lim.undo(facts);
            }
            let decision = limits
                .get_mut(i)
                .map(|lim| lim.refuse(i, exceeded, facts, now));
            return match decision {
                Some(Some(s)) => {
                    *summary = Some(s);
                    Decision::Summary
                }
                _ => Decision::Drop(i),
            };
        }
        let mut repeats = false;
        if let Some((d, id, hit)) = message
            && let Some(lim) = limits.get_mut(d)
            && let Some(r) = lim.admit_message(id, hit, now)
        {
            *repeat = Some(r);
            repeats = true;
        }

        let mut best: Option<(u64, usize, Source)> = None;
        if held {
            for (i, lim) in limits.iter().enumerate() {
                if lim.holds_any()
                    && let Some((since, source)) = lim.candidate(now)
                    && best.as_ref().is_none_or(|(b, _, _)| since < *b)
                {
                    best = Some((since, i, source));
                }
            }
        }
        let mut carries = false;
        if let Some((_, i, source)) = best
            && let Some(lim) = limits.get_mut(i)
        {
            *carried = Some(lim.take(i, source, now));
            carries = true;
        }
        Decision::Admit {
            carry: carries,
            repeat: repeats,
        }
    }

    /// Whether any of these limits reads [`RecordFacts::client_paid`]
    /// (one sets `log_bytes_per_client_byte`): the filter looks it up
    /// only then.
    pub fn reads_client_paid(&self) -> bool {
        self.limits
            .iter()
            .any(|l| l.spec.log_milli_per_client_byte > 0)
    }

    /// Whether one of these limits collapses identical messages, and so
    /// reads [`RecordFacts::variables`].
    pub fn dedupes(&self) -> bool {
        self.dedupe.is_some()
    }

    /// The tally the last decision with `carry: true` named.
    pub fn carried(&self) -> Option<&Carried> {
        self.carried.as_ref()
    }

    /// The repeat count the last decision with `repeat: true` named.
    pub fn repeat(&self) -> Option<&Repeat> {
        self.repeat.as_ref()
    }

    /// The summary the last [`Decision::Summary`] named.
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }

    /// Appends what `decision` (the last one [`Limits::admit`] returned)
    /// adds to its record, as members each with a leading comma: for an
    /// admitted record, the carried tally and the repeat count it names; for
    /// a summary, the summary's members. Nothing for a dropped record.
    pub fn write_members(&self, decision: &Decision, clock: WallClock, buf: &mut Vec<u8>) {
        match decision {
            Decision::Admit { carry, repeat } => {
                if *carry && let Some(c) = &self.carried {
                    self.write_carry(c, clock, buf);
                }
                if *repeat && let Some(r) = &self.repeat {
                    write_repeat(r, clock, buf);
                }
            }
            Decision::Summary => {
                if let Some(s) = &self.summary {
                    self.write_summary(s, clock, buf);
                }
            }
            Decision::Drop(_) | Decision::Collapse => {}
        }
    }

    /// Takes every held tally and collapsed count (for a shutdown, or to
    /// account for silent keys): what has not come out yet. `now` is the
    /// host's monotonic time.
    pub fn drain(&mut self, now: u64) -> impl Iterator<Item = Carried> + use<> {
        let mut out = Vec::new();
        for (i, lim) in self.limits.iter_mut().enumerate() {
            lim.drain_into(i, &mut out, now);
        }
        out.into_iter()
    }

    /// Appends a carried tally's members to an object being written, each
    /// with a leading comma: `,"rosetta.suppressed.records":3,...`.
    pub fn write_carry(&self, carried: &Carried, clock: WallClock, buf: &mut Vec<u8>) {
        let t = &carried.tally;
        member_int(buf, fields::SUPPRESSED_RECORDS, t.records);
        member_int(buf, fields::SUPPRESSED_BYTES, t.bytes);
        if t.severe > 0 {
            member_int(buf, fields::SUPPRESSED_SEVERE, t.severe);
        }
        if t.repeats > 0 {
            member_int(buf, fields::SUPPRESSED_REPEATS, t.repeats);
        }
        if carried.key.is_overflow() {
            member_int(buf, fields::SUPPRESSED_KEYS, t.keys);
        }
        member_time(buf, fields::SUPPRESSED_FIRST, clock.at(t.first));
        member_time(buf, fields::SUPPRESSED_LAST, clock.at(t.last));
        self.write_identity(carried.limit, &carried.key, buf);
    }

    /// Appends a summary's members, each with a leading comma: the
    /// sentence in `message`, the limit, key, budget, and the record it
    /// replaces counted as `rosetta.suppressed.*`.
    pub fn write_summary(&self, summary: &Summary, clock: WallClock, buf: &mut Vec<u8>) {
        let name = self
            .limits
            .get(summary.limit)
            .map_or("", |l| l.spec.name.as_str());
        let budget = self
            .limits
            .get(summary.limit)
            .and_then(|l| l.budget_text.get(summary.exceeded.index()))
            .map_or("", String::as_str);
        buf.extend_from_slice(b",\"");
        buf.extend_from_slice(fields::MESSAGE.as_bytes());
        buf.extend_from_slice(b"\":\"");
        let mut text = Vec::with_capacity(160);
        text.extend_from_slice(b"rosetta limit '");
        text.extend_from_slice(name.as_bytes());
        text.extend_from_slice(b"' is suppressing records of key '");
        let opening = text.len();
        // The sentence is escaped as a whole, then the key (already JSON
        // string content) goes into its place.
        text.extend_from_slice(b"' over its budget of ");
        text.extend_from_slice(budget.as_bytes());
        text.extend_from_slice(
            b"; they are counted, and the next record it admits for this key carries the count",
        );
        let (head, tail) = text.split_at(opening);
        buf.extend_from_slice(&escape_content(head));
        write_key_content(buf, &summary.key);
        buf.extend_from_slice(&escape_content(tail));
        buf.push(b'"');
        self.write_identity(summary.limit, &summary.key, buf);
        member_str(buf, fields::LIMIT_EXCEEDED, summary.exceeded.as_str());
        member_str(buf, fields::LIMIT_BUDGET, budget);
        let t = &summary.tally;
        member_int(buf, fields::SUPPRESSED_RECORDS, t.records);
        member_int(buf, fields::SUPPRESSED_BYTES, t.bytes);
        if t.severe > 0 {
            member_int(buf, fields::SUPPRESSED_SEVERE, t.severe);
        }
        member_time(buf, fields::SUPPRESSED_FIRST, clock.at(t.first));
        member_time(buf, fields::SUPPRESSED_LAST, clock.at(t.last));
    }

    fn write_identity(&self, limit: usize, key: &KeyText, buf: &mut Vec<u8>) {
        let name = self.limits.get(limit).map_or("", |l| l.spec.name.as_str());
        member_str(buf, fields::LIMIT_NAME, name);
        buf.extend_from_slice(b",\"");
        buf.extend_from_slice(fields::LIMIT_KEY.as_bytes());
        buf.extend_from_slice(b"\":\"");
        write_key_content(buf, key);
        buf.push(b'"');
    }
}

/// Appends a repeat count's members, each with a leading comma.
pub fn write_repeat(repeat: &Repeat, clock: WallClock, buf: &mut Vec<u8>) {
    member_int(buf, fields::REPEAT_COUNT, repeat.count);
    member_time(buf, fields::REPEAT_FIRST, clock.at(repeat.first));
    member_time(buf, fields::REPEAT_LAST, clock.at(repeat.last));
}

/// The dedupe identity of a message: its template and its variables.
pub fn message_id(template: u64, variables: u64) -> u64 {
    mix_seed(template ^ variables.rotate_left(32).wrapping_mul(K1))
}

fn member_key(buf: &mut Vec<u8>, key: &str) {
    buf.extend_from_slice(b",\"");
    buf.extend_from_slice(key.as_bytes());
    buf.extend_from_slice(b"\":");
}

fn member_int(buf: &mut Vec<u8>, key: &str, value: u64) {
    member_key(buf, key);
    write_int(buf, i64::try_from(value).unwrap_or(i64::MAX));
}

fn member_str(buf: &mut Vec<u8>, key: &str, value: &str) {
    member_key(buf, key);
    escape_into(buf, value.as_bytes());
}

fn member_time(buf: &mut Vec<u8>, key: &str, time: Option<Timestamp>) {
    member_key(buf, key);
    match time {
        Some(t) => {
            buf.push(b'"');
            t.write_rfc3339(buf);
            buf.push(b'"');
        }
        None => buf.extend_from_slice(b"null"),
    }
}

/// Writes a key as JSON string content (without quotes): the overflow
/// key's name, or the key's kept bytes cut at an escape and character
/// boundary when they are valid JSON string content, else those bytes
/// escaped (a lookup that handed over something else still yields valid
/// JSON).
fn write_key_content(buf: &mut Vec<u8>, key: &KeyText) {
    if key.is_overflow() {
        buf.extend_from_slice(fields::OVERFLOW_KEY.as_bytes());
        return;
    }
    let bytes = key.bytes();
    match content_prefix(bytes, key.is_cut()) {
        Some(n) => buf.extend_from_slice(bytes.get(..n).unwrap_or_default()),
        None => buf.extend_from_slice(&escape_content(bytes)),
    }
}

/// The length of the longest prefix of `bytes` that is whole JSON string
/// content, or `None` when `bytes` is not JSON string content (a prefix of
/// it, when `cut`, may end inside an escape or a character).
fn content_prefix(bytes: &[u8], cut: bool) -> Option<usize> {
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let step = match b {
            b'\\' => match bytes.get(i + 1) {
                Some(b'u') => {
                    let hex = bytes.get(i + 2..i + 6);
                    match hex {
                        Some(h) if h.iter().all(u8::is_ascii_hexdigit) => 6,
                        Some(_) => return None,
                        None if cut => break,
                        None => return None,
                    }
                }
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                Some(_) => return None,
                None if cut => break,
                None => return None,
            },
            b'"' | 0..=0x1f => return None,
            0x80.. => {
                let len = match b {
                    0xc2..=0xdf => 2,
                    0xe0..=0xef => 3,
                    0xf0..=0xf4 => 4,
                    _ => return None,
                };
                match bytes.get(i..i + len) {
                    Some(ch) if std::str::from_utf8(ch).is_ok() => len,
                    Some(_) => return None,
                    None if cut => break,
                    None => return None,
                }
            }
            _ => 1,
        };
        i += step;
    }
    Some(i)
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const SEC: u64 = NANO;
    const MS: u64 = 1_000_000;

    /// The wall clock of the writer tests: monotonic 1000 s is
    /// 2026-11-27T08:00:00Z.
    const CLOCK: WallClock = WallClock {
        mono_ns: 1_000 * SEC,
        unix_ns: 1_795_766_400 * NANO as i64,
    };

    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    fn spec(name: &str, template: &str) -> LimitSpec {
        LimitSpec::new(name, template).unwrap()
    }

    fn per_sec(n: u64, burst: u64) -> Budget {
        Budget { per_sec: n, burst }
    }

    fn info(size: u64) -> RecordFacts {
        RecordFacts {
            size,
            ..RecordFacts::default()
        }
    }

    fn error(size: u64) -> RecordFacts {
        RecordFacts {
            size,
            severe: true,
            ..RecordFacts::default()
        }
    }

    /// A decision with what it names, as the tests compare it.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Seen {
        Admit {
            carry: Option<Carried>,
            repeat: Option<Repeat>,
        },
        Summary(Summary),
        Drop(usize),
        Collapse,
    }

    /// Decides one record whose fields are `fields`.
    fn decide(limits: &mut Limits, now: u64, facts: RecordFacts, fields: &[(&str, &str)]) -> Seen {
        let d = limits.admit(now, &facts, &mut |name: &str| {
            fields
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_bytes())
        });
        match d {
            Decision::Admit { carry, repeat } => Seen::Admit {
                carry: carry.then(|| *limits.carried().unwrap()),
                repeat: repeat.then(|| *limits.repeat().unwrap()),
            },
            Decision::Summary => Seen::Summary(*limits.summary().unwrap()),
            Decision::Drop(i) => Seen::Drop(i),
            Decision::Collapse => Seen::Collapse,
        }
    }

    fn kind(d: &Seen) -> &'static str {
        match d {
            Seen::Admit { carry: None, .. } => "admit",
            Seen::Admit { carry: Some(_), .. } => "admit+carry",
            Seen::Summary(_) => "summary",
            Seen::Drop(_) => "drop",
            Seen::Collapse => "collapse",
        }
    }

    fn key(text: &str) -> KeyText {
        KeyText::of(text.as_bytes(), text.len() as u32)
    }

    // --- arithmetic -----------------------------------------------------

    #[test]
    fn bucket_arithmetic() {
        let pace: &[(&str, u64, u64, u64)] = &[
            ("10/s: a token is 100 ms", 10, 1, 100 * MS),
            ("3/s rounds down", 3, 1, 333_333_333),
            ("3/s, three tokens", 3, 3, 999_999_999),
            (
                "8192 bytes/s, 816 bytes: exact in 48.16",
                8_192,
                816,
                99_609_375,
            ),
            ("the fastest rate", 1_000_000_000, 7, 7),
            ("no budget: free", 0, 5, 0),
            ("a cost too large to compute", 1, (1 << 32) + 1, 1 << 62),
            ("the largest computed cost", 1, 1 << 32, (1 << 32) * NANO),
        ];
        for (name, rate, tokens, want) in pace {
            assert_eq!(Pace::of(*rate).ns(*tokens), *want, "{name}");
        }
        for rate in [1, 3, 7, 8_192, 999_999_937, 1_000_000_000] {
            for tokens in [0, 1, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, u64::MAX] {
                assert!(Pace::of(rate).ns(tokens) <= 1 << 62, "{rate} {tokens}");
            }
        }
        let t = 10 * SEC;
        // (name, tat, now, cost, tolerance, the new TAT if it fits)
        type Step = (&'static str, u64, u64, u64, u64, Option<u64>);
        let steps: &[Step] = &[
            ("full bucket, fits", 0, t, 100, 1_000, Some(t + 100)),
            (
                "full bucket, larger than the burst: passes, owed",
                t,
                t,
                5_000,
                1_000,
                Some(t + 5_000),
            ),
            ("partly spent, fits", t + 500, t, 100, 1_000, Some(t + 600)),
            ("exactly the burst", t + 900, t, 100, 1_000, Some(t + 1_000)),
            ("one nanosecond over", t + 901, t, 100, 1_000, None),
            (
                "spent, and time has passed",
                t + 900,
                t + 400,
                100,
                1_000,
                Some(t + 1_000),
            ),
            (
                "a clock gone backwards refills nothing",
                t + 900,
                t - 400,
                100,
                1_000,
                None,
            ),
            (
                "saturating",
                u64::MAX - 1,
                0,
                u64::MAX,
                u64::MAX,
                Some(u64::MAX),
            ),
        ];
        for (name, tat, now, cost, tolerance, want) in steps {
            assert_eq!(schedule(*tat, *now, *cost, *tolerance), *want, "{name}");
        }
        let cost: &[(&str, u64, Option<u64>, u64, u64)] = &[
            ("unknown client: full size", 816, None, 2_000, 816),
            ("client sent nothing: full size", 816, Some(0), 2_000, 816),
            ("client paid for it", 816, Some(420), 2_000, 0),
            ("partly paid", 816, Some(100), 2_500, 816 - 250),
            ("thousandths round the credit down", 10, Some(1), 1_999, 9),
            ("amplification off", 816, Some(420), 0, 816),
            ("a credit too large to compute", 816, Some(u64::MAX), 2, 0),
        ];
        for (name, size, paid, milli, want) in cost {
            assert_eq!(byte_cost(*size, *paid, *milli), *want, "{name}");
            let facts = RecordFacts {
                size: *size,
                client_paid: *paid,
                ..RecordFacts::default()
            };
            assert_eq!(Credit::of(*milli).cost(&facts), *want, "{name}");
        }
    }

    /// GCRA against the token bucket it stands for, run the obvious way
    /// (tokens in billionths, refilled by elapsed time times rate, in
    /// 128-bit arithmetic): the same decisions, record for record, for
    /// rates whose token is a whole number of nanoseconds.
    #[test]
    fn gcra_is_the_token_bucket() {
        let rates = [1u64, 2, 5, 10, 100, 1_000, 8_000, 1_000_000];
        for seed in 1..=300u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let per_sec = rates[rng.below(rates.len() as u64) as usize];
            let burst = 1 + rng.below(3 * per_sec);
            let pace = Pace::of(per_sec);
            let tolerance = pace.ns(burst);
            let cap = i128::from(burst) * i128::from(NANO);
            let (mut tat, mut tokens, mut then) = (0u64, cap, 0u64);
            let mut now = SEC;
            for step in 0..500 {
                now += rng.below(3 * NANO / per_sec);
                let cost = 1 + rng.below(burst + burst / 4);
                tokens = (tokens + i128::from(now - then) * i128::from(per_sec)).min(cap);
                then = now;
                let want = tokens >= i128::from(cost) * i128::from(NANO) || tokens == cap;
                if want {
                    tokens -= i128::from(cost) * i128::from(NANO);
                }
                let got = schedule(tat, now, pace.ns(cost), tolerance);
                assert_eq!(got.is_some(), want, "seed {seed} step {step}");
                if let Some(next) = got {
                    tat = next;
                }
            }
        }
    }

    /// The hot path's cost (no overflow-checked multiply) against the
    /// plain formula, over values of every size.
    #[test]
    fn precomputed_credit_matches_the_formula() {
        let mut rng = Rng(0xB0CE7);
        let any = |rng: &mut Rng| match rng.below(4) {
            0 => rng.below(100),
            1 => rng.below(1 << 20),
            2 => rng.below(1 << 40),
            _ => rng.next(),
        };
        for _ in 0..200_000 {
            let (size, paid, milli) = (any(&mut rng), any(&mut rng), any(&mut rng));
            let facts = RecordFacts {
                size,
                client_paid: Some(paid),
                ..RecordFacts::default()
            };
            assert_eq!(
                Credit::of(milli).cost(&facts),
                byte_cost(size, Some(paid), milli),
                "{size} {paid} {milli}"
            );
        }
    }

    #[test]
    fn token_bucket_with_burst() {
        let mut s = spec("per-client", "{client}");
        s.records = per_sec(10, 20);
        let mut limits = Limits::new(vec![s], 1);
        let client = [("client", "10.0.0.1")];
        let mut t = 5 * SEC;
        // The burst: 20 at once.
        for i in 0..20 {
            let d = decide(&mut limits, t, info(100), &client);
            assert_eq!(kind(&d), "admit", "record {i}");
        }
        // The 21st starts limiting: a summary replaces it.
        let d = decide(&mut limits, t, info(100), &client);
        assert_eq!(
            d,
            Seen::Summary(Summary {
                limit: 0,
                key: key("10.0.0.1"),
                exceeded: Exceeded::Records,
                tally: Tally {
                    records: 1,
                    bytes: 100,
                    first: t,
                    last: t,
                    ..Tally::default()
                },
            })
        );
        for _ in 0..3 {
            t += 10 * MS;
            assert_eq!(decide(&mut limits, t, info(100), &client), Seen::Drop(0));
        }
        // 100 ms after the burst: one token (10/s). The record carries the tally.
        t = 5 * SEC + 100 * MS;
        let d = decide(&mut limits, t, info(100), &client);
        assert_eq!(
            d,
            Seen::Admit {
                carry: Some(Carried {
                    limit: 0,
                    key: key("10.0.0.1"),
                    tally: Tally {
                        records: 3,
                        bytes: 300,
                        first: 5 * SEC + 10 * MS,
                        last: 5 * SEC + 30 * MS,
                        ..Tally::default()
                    },
                }),
                repeat: None,
            }
        );
        // Still limiting: the next record over budget is dropped, no new summary.
        assert_eq!(decide(&mut limits, t, info(100), &client), Seen::Drop(0));
        // Another client has its own budget.
        let d = decide(&mut limits, t, info(100), &[("client", "10.0.0.2")]);
        assert_eq!(kind(&d), "admit");
        // After two quiet seconds the bucket is full again: limiting has
        // ended, so the next time it starts there is a new summary.
        t += 2 * SEC + 1;
        let d = decide(&mut limits, t, info(100), &client);
        assert_eq!(kind(&d), "admit+carry");
        for _ in 0..19 {
            assert_eq!(kind(&decide(&mut limits, t, info(100), &client)), "admit");
        }
        assert_eq!(kind(&decide(&mut limits, t, info(100), &client)), "summary");
    }

    #[test]
    fn a_forged_or_backward_clock_never_refills() {
        let mut s = spec("c", "");
        s.records = per_sec(1, 1);
        let mut limits = Limits::new(vec![s], 1);
        assert_eq!(kind(&decide(&mut limits, 10 * SEC, info(1), &[])), "admit");
        assert_eq!(
            kind(&decide(&mut limits, 10 * SEC, info(1), &[])),
            "summary"
        );
        // The host's monotonic clock going backwards refills nothing.
        assert_eq!(kind(&decide(&mut limits, 3 * SEC, info(1), &[])), "drop");
        assert_eq!(kind(&decide(&mut limits, 10 * SEC, info(1), &[])), "drop");
        assert_eq!(
            kind(&decide(&mut limits, 11 * SEC, info(1), &[])),
            "admit+carry"
        );
    }

    // --- amplification -------------------------------------------------

    /// The worked example of docs/limits.md: an Istio ingress gateway, one
    /// client scanning (TCP connections that send nothing, one 816-byte
    /// record each), one client making HTTP requests that send 420 bytes
    /// each, both at 100 connections per second for 10 seconds.
    #[test]
    fn amplification_limits_clients_that_send_nothing_first() {
        let mut s = spec("per-client", "{downstream_remote_address_ip}");
        s.bytes = per_sec(8_192, 16_384);
        s.log_milli_per_client_byte = 2_000;
        let mut limits = Limits::new(vec![s], 7);
        let scanner = [("downstream_remote_address_ip", "198.51.100.23")];
        let client = [("downstream_remote_address_ip", "203.0.113.7")];
        let tcp = RecordFacts {
            size: 816,
            client_paid: Some(0),
            ..RecordFacts::default()
        };
        let http = RecordFacts {
            size: 816,
            client_paid: Some(420),
            ..RecordFacts::default()
        };
        let mut out: HashMap<&str, [u64; 4]> = HashMap::new();
        let mut first_summary = None;
        for i in 0..1_000u64 {
            let t = SEC + i * 10 * MS;
            for (name, fields, facts) in [("scanner", &scanner, tcp), ("client", &client, http)] {
                let d = decide(&mut limits, t, facts, fields);
                let n = out.entry(name).or_default();
                match d {
                    Seen::Admit { .. } => n[0] += 1,
                    Seen::Summary(s) => {
                        n[1] += 1;
                        first_summary.get_or_insert((i, s));
                    }
                    Seen::Drop(_) => n[2] += 1,
                    Seen::Collapse => n[3] += 1,
                }
            }
        }
        assert_eq!(out["client"], [1_000, 0, 0, 0]);
        // 16,384 bytes of burst plus 8,192 bytes/s for 9.99 s, at 816 bytes
        // a record: 120 records.
        assert_eq!(out["scanner"], [120, 1, 879, 0]);
        let (at, summary) = first_summary.unwrap();
        // The burst, 16,384 bytes, and 10 ms of refill per connection
        // (81.92 bytes) pay for 22 records: the 23rd is the first over.
        assert_eq!(at, 22);
        assert_eq!(summary.key, key("198.51.100.23"));
        assert_eq!(summary.exceeded, Exceeded::Bytes);
        let mut buf = Vec::new();
        limits.write_summary(&summary, CLOCK, &mut buf);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            ",\"message\":\"rosetta limit 'per-client' is suppressing records of key '198.51.100.23' over its budget of 8192 bytes/s, burst 16384, less 2 bytes per byte the client sent; they are counted, and the next record it admits for this key carries the count\",\"rosetta.limit.name\":\"per-client\",\"rosetta.limit.key\":\"198.51.100.23\",\"rosetta.limit.exceeded\":\"bytes\",\"rosetta.limit.budget\":\"8192 bytes/s, burst 16384, less 2 bytes per byte the client sent\",\"rosetta.suppressed.records\":1,\"rosetta.suppressed.bytes\":816,\"rosetta.suppressed.first\":\"2026-11-27T07:43:21.220Z\",\"rosetta.suppressed.last\":\"2026-11-27T07:43:21.220Z\""
        );
    }

    // --- severity ------------------------------------------------------

    /// 1,000,000 info records from one client, 100 error records from the
    /// same client and container among them: all 100 errors come out.
    #[test]
    fn a_flood_of_info_cannot_suppress_errors() {
        let mut client = spec("per-client", "{client_ip}");
        client.records = per_sec(100, 100);
        client.bytes = per_sec(100_000, 0);
        let mut container = spec("per-container", "{namespace}/{container}");
        container.records = per_sec(1_000, 0);
        let mut ceiling = spec("ceiling", "");
        ceiling.records = per_sec(5_000, 0);
        let mut limits = Limits::new(vec![client, container, ceiling], 99);
        let fields = [
            ("client_ip", "203.0.113.7"),
            ("namespace", "shop"),
            ("container", "api"),
        ];
        let (mut errors_out, mut info_out, mut carried, mut summaries) = (0u64, 0u64, 0u64, 0u64);
        let mut record = 0u64;
        let count = |d: &Seen, carried: &mut u64, summaries: &mut u64| match d {
            Seen::Admit { carry, .. } => {
                *carried += carry.map_or(0, |c| c.tally.records);
                true
            }
            Seen::Summary(s) => {
                *summaries += s.tally.records;
                false
            }
            _ => false,
        };
        for i in 0..1_000_000u64 {
            record += 1;
            let t = SEC + i * 1_000; // 1 µs apart: one second in all
            if count(
                &decide(&mut limits, t, info(300), &fields),
                &mut carried,
                &mut summaries,
            ) {
                info_out += 1;
            }
            if i % 10_000 == 5_000 {
                record += 1;
                if count(
                    &decide(&mut limits, t, error(300), &fields),
                    &mut carried,
                    &mut summaries,
                ) {
                    errors_out += 1;
                }
            }
        }
        assert_eq!(errors_out, 100);
        // 100 from the burst and 100 per second for the 0.999999 s after it.
        assert_eq!(info_out, 199);
        let held: u64 = limits.drain(3 * SEC).map(|c| c.tally.records).sum();
        assert_eq!(info_out + errors_out + carried + summaries + held, record);
    }

    #[test]
    fn severe_budgets_are_their_own() {
        let mut s = spec("c", "{c}");
        s.records = per_sec(1, 1);
        s.severe_records = per_sec(2, 2);
        let mut limits = Limits::new(vec![s], 3);
        let f = [("c", "x")];
        let got: Vec<&str> = [
            info(1),
            info(1),
            error(1),
            error(1),
            error(1),
            info(1),
            error(1),
        ]
        .iter()
        .map(|facts| kind(&decide(&mut limits, SEC, *facts, &f)))
        .collect();
        assert_eq!(
            got,
            [
                "admit", "summary", "admit", "admit", "summary", "drop", "drop"
            ]
        );
        match decide(&mut limits, 2 * SEC, error(1), &f) {
            Seen::Admit { carry: Some(c), .. } => {
                assert_eq!((c.tally.records, c.tally.severe), (2, 1))
            }
            d => panic!("{d:?}"),
        }
    }

    // --- dedupe --------------------------------------------------------

    fn message(template: u64, variables: u64) -> RecordFacts {
        RecordFacts {
            size: 200,
            template: Some(template),
            variables,
            ..RecordFacts::default()
        }
    }

    #[test]
    fn dedupe_collapses_identical_messages_within_the_window() {
        let mut s = spec("per-container", "{container}");
        s.dedupe_window_ns = 10 * SEC;
        let mut limits = Limits::new(vec![s], 5);
        let f = [("container", "api")];
        let g = [("container", "web")];
        // (second, record, its fields, what happens)
        type Step<'a> = (u64, RecordFacts, &'a [(&'a str, &'a str)], &'a str);
        let steps: &[Step] = &[
            (0, message(7, 1), &f, "admit"),
            (1, message(7, 1), &f, "collapse"),
            (2, message(7, 1), &f, "collapse"),
            (2, message(7, 1), &g, "admit"),
            (3, message(7, 2), &f, "admit"),
            (4, message(7, 1), &f, "collapse"),
            (5, message(7, 2), &f, "collapse"),
            (6, info(200), &f, "admit"),
        ];
        for (i, (t, facts, fields, want)) in steps.iter().enumerate() {
            let d = decide(&mut limits, SEC + t * SEC, *facts, fields);
            assert_eq!(kind(&d), *want, "step {i}");
        }
        // After the window: the next copy comes out with the count.
        let d = decide(&mut limits, 11 * SEC, message(7, 1), &f);
        assert_eq!(
            d,
            Seen::Admit {
                carry: None,
                repeat: Some(Repeat {
                    count: 3,
                    first: 2 * SEC,
                    last: 5 * SEC,
                }),
            }
        );
        let mut buf = Vec::new();
        if let Seen::Admit {
            repeat: Some(r), ..
        } = d
        {
            write_repeat(&r, CLOCK, &mut buf);
        }
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            ",\"rosetta.repeat.count\":3,\"rosetta.repeat.first\":\"2026-11-27T07:43:22.000Z\",\"rosetta.repeat.last\":\"2026-11-27T07:43:25.000Z\""
        );
        // Message (7, 2)'s one collapsed copy is still held: drain gives it.
        let held: Vec<Carried> = limits.drain(12 * SEC).collect();
        assert_eq!(held.len(), 1);
        assert_eq!(held[0].key, key("api"));
        assert_eq!((held[0].tally.records, held[0].tally.repeats), (1, 1));
    }

    // --- silent keys, overflow, several limits ------------------------

    #[test]
    fn a_silent_keys_tally_rides_any_record_after_carry_after() {
        let mut s = spec("per-client", "{client}");
        s.records = per_sec(1, 1);
        s.carry_after_ns = 60 * SEC;
        let mut limits = Limits::new(vec![s], 11);
        let a = [("client", "a")];
        let b = [("client", "b")];
        let t = 100 * SEC;
        assert_eq!(kind(&decide(&mut limits, t, info(10), &a)), "admit");
        assert_eq!(kind(&decide(&mut limits, t, info(10), &a)), "summary");
        assert_eq!(kind(&decide(&mut limits, t + 1, info(10), &a)), "drop");
        assert_eq!(kind(&decide(&mut limits, t + 2, info(10), &a)), "drop");
        // a goes silent. b's records come out; after 60 s one carries a's tally.
        assert_eq!(
            kind(&decide(&mut limits, t + 30 * SEC, info(10), &b)),
            "admit"
        );
        assert_eq!(
            kind(&decide(&mut limits, t + 59 * SEC, info(10), &b)),
            "admit"
        );
        match decide(&mut limits, t + 61 * SEC, info(10), &b) {
            Seen::Admit { carry: Some(c), .. } => {
                assert_eq!(c.key, key("a"));
                assert_eq!(
                    (c.tally.records, c.tally.first, c.tally.last),
                    (2, t + 1, t + 2)
                );
            }
            d => panic!("{d:?}"),
        }
        assert_eq!(limits.drain(t + 62 * SEC).count(), 0);
    }

    #[test]
    fn forgotten_keys_fold_into_the_overflow_key() {
        let mut s = spec("per-client", "{client}");
        s.records = per_sec(1, 1);
        s.max_keys = 2;
        let mut limits = Limits::new(vec![s], 13);
        let t = SEC;
        for c in ["a", "b"] {
            let f = [("client", c)];
            assert_eq!(kind(&decide(&mut limits, t, info(10), &f)), "admit");
            assert_eq!(kind(&decide(&mut limits, t, info(10), &f)), "summary");
            assert_eq!(kind(&decide(&mut limits, t, info(10), &f)), "drop");
        }
        // c pushes out a (least recently used), whose tally goes to the
        // overflow key, which c's admitted record carries at once.
        let d = decide(&mut limits, t, info(10), &[("client", "c")]);
        let Seen::Admit { carry: Some(c), .. } = d else {
            panic!("{d:?}")
        };
        assert!(c.key.is_overflow());
        assert_eq!((c.tally.records, c.tally.keys), (1, 1));
        assert_eq!(limits.limiter(0).unwrap().len(), 2);
        let mut buf = Vec::new();
        limits.write_carry(&c, CLOCK, &mut buf);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            ",\"rosetta.suppressed.records\":1,\"rosetta.suppressed.bytes\":10,\"rosetta.suppressed.keys\":1,\"rosetta.suppressed.first\":\"2026-11-27T07:43:21.000Z\",\"rosetta.suppressed.last\":\"2026-11-27T07:43:21.000Z\",\"rosetta.limit.name\":\"per-client\",\"rosetta.limit.key\":\"(overflow)\""
        );
        // a comes back as a new key with a full bucket, pushing out b, whose
        // tally its record carries.
        let d = decide(&mut limits, t, info(10), &[("client", "a")]);
        let Seen::Admit { carry: Some(c), .. } = d else {
            panic!("{d:?}")
        };
        assert!(c.key.is_overflow());
        assert_eq!((c.tally.records, c.tally.keys), (1, 1));
        assert_eq!(limits.drain(t).count(), 0);
    }

    #[test]
    fn a_record_carries_the_oldest_of_its_limits_tallies() {
        let mut client = spec("per-client", "{client}");
        client.records = per_sec(1, 1);
        let mut container = spec("per-container", "{container}");
        container.records = per_sec(1, 1);
        let mut limits = Limits::new(vec![client, container], 17);
        let t = SEC;
        // Container "api" runs out first, via client a.
        let a_api = [("client", "a"), ("container", "api")];
        let b_api = [("client", "b"), ("container", "api")];
        assert_eq!(kind(&decide(&mut limits, t, info(1), &a_api)), "admit");
        assert_eq!(
            decide(&mut limits, t, info(1), &b_api),
            Seen::Summary(Summary {
                limit: 1,
                key: key("api"),
                exceeded: Exceeded::Records,
                tally: Tally {
                    records: 1,
                    bytes: 1,
                    first: t,
                    last: t,
                    ..Tally::default()
                },
            })
        );
        assert_eq!(decide(&mut limits, t + 1, info(1), &b_api), Seen::Drop(1));
        // Client a runs out too (its first limit refuses first).
        assert_eq!(
            kind(&decide(&mut limits, t + 2, info(1), &a_api)),
            "summary"
        );
        assert_eq!(decide(&mut limits, t + 3, info(1), &a_api), Seen::Drop(0));
        // One second on: a's next record is admitted by both and carries the
        // older tally, the container's; the client's rides the next one.
        let t2 = t + 2 * SEC;
        let Seen::Admit {
            carry: Some(first), ..
        } = decide(&mut limits, t2, info(1), &a_api)
        else {
            panic!()
        };
        assert_eq!(
            (first.limit, first.key, first.tally.records),
            (1, key("api"), 1)
        );
        let t3 = t2 + 2 * SEC;
        let Seen::Admit {
            carry: Some(second),
            ..
        } = decide(&mut limits, t3, info(1), &a_api)
        else {
            panic!()
        };
        assert_eq!(
            (second.limit, second.key, second.tally.records),
            (0, key("a"), 1)
        );
    }

    // --- writing ---------------------------------------------------------

    #[test]
    fn written_members_are_valid_json() {
        let cases: &[(&str, &[u8], bool, &str)] = &[
            ("plain", b"10.0.0.1", false, "10.0.0.1"),
            ("escapes kept", b"a\\\"b\\u00e9", false, "a\\\"b\\u00e9"),
            (
                "not JSON content: escaped",
                b"a\"b\x01",
                false,
                "a\\\"b\\u0001",
            ),
            ("cut inside an escape", b"abc\\u00", true, "abc"),
            ("cut inside a character", b"ab\xc3", true, "ab"),
        ];
        for (name, bytes, cut, want) in cases {
            let k = KeyText::of(bytes, bytes.len() as u32 + u32::from(*cut));
            let mut buf = Vec::new();
            write_key_content(&mut buf, &k);
            assert_eq!(String::from_utf8_lossy(&buf), *want, "{name}");
        }
        let long = "x".repeat(200);
        let mut s = spec("long", "{k}");
        s.records = per_sec(1, 1);
        let mut limits = Limits::new(vec![s], 1);
        let f = [("k", long.as_str())];
        decide(&mut limits, SEC, info(1), &f);
        let Seen::Summary(summary) = decide(&mut limits, SEC, info(1), &f) else {
            panic!()
        };
        assert!(summary.key.is_cut());
        let mut buf = b"{\"a\":1".to_vec();
        limits.write_summary(&summary, CLOCK, &mut buf);
        buf.push(b'}');
        let v: serde_json::Value = serde_json::from_slice(&buf).unwrap();
        assert_eq!(v["rosetta.limit.key"], "x".repeat(MAX_KEY_BYTES));
        assert_eq!(v["rosetta.limit.exceeded"], "records");
    }

    #[test]
    fn every_field_is_documented() {
        let doc = include_str!("../docs/limits.md");
        for f in fields::ALL {
            assert!(
                doc.contains(&format!("`{f}`")),
                "docs/limits.md does not describe `{f}`"
            );
        }
    }

    // --- templates and hashing --------------------------------------------

    #[test]
    fn key_templates() {
        let values = [
            ("kubernetes.namespace_name", "shop"),
            ("kubernetes.container_name", "api"),
            ("ip", "10.0.0.1"),
        ];
        let ok: &[(&str, &str)] = &[
            (
                "{kubernetes.namespace_name}/{kubernetes.container_name}",
                "shop/api",
            ),
            ("{ip}", "10.0.0.1"),
            ("", ""),
            ("global", "global"),
            ("{missing}:{ip}", "-:10.0.0.1"),
            ("{{literal}} {ip}", "{literal} 10.0.0.1"),
            ("quote\" é", "quote\\\" \\u00e9"),
        ];
        for (template, want) in ok {
            let t = KeyTemplate::compile(template).unwrap();
            assert_eq!(t.text(), *template);
            let mut out = Vec::new();
            t.render(
                &mut |name: &str| {
                    values
                        .iter()
                        .find(|(k, _)| *k == name)
                        .map(|(_, v)| v.as_bytes())
                },
                &mut out,
            );
            assert_eq!(String::from_utf8(out).unwrap(), *want, "{template}");
        }
        let two = KeyTemplate::compile("{a}-{b.c}").unwrap();
        assert_eq!(two.fields().collect::<Vec<_>>(), ["a", "b.c"]);
        let long = "x".repeat(MAX_TEMPLATE_LEN + 1);
        let bad: &[(&str, &str, &str)] = &[
            ("unclosed", "{ip", "'{' at byte 0 is never closed"),
            ("empty", "a{}", "empty field name at byte 1"),
            (
                "stray",
                "a}b",
                "'}' at byte 1 closes nothing (write '}}' for a literal brace)",
            ),
            (
                "space",
                "{a b}",
                "byte 2 cannot be part of a field name (letters, digits, '_', '-', '.', '/', '@', ':')",
            ),
            (
                "nested",
                "{a{b}}",
                "byte 2 cannot be part of a field name (letters, digits, '_', '-', '.', '/', '@', ':')",
            ),
            (
                "too many",
                "{a}{b}{c}{d}{e}{f}{g}{h}{i}",
                "more than 8 fields",
            ),
            ("too long", &long, "longer than 256 bytes"),
        ];
        for (name, template, want) in bad {
            let e = KeyTemplate::compile(template).unwrap_err();
            assert_eq!(e.to_string(), *want, "{name}");
        }
    }

    /// The limiter's hash (straight-line for short keys, overlapping
    /// loads) is [`key_hash`] for every length, and keeps the key's words.
    #[test]
    fn the_fast_hash_is_key_hash() {
        let mut lim = Limiter::new(spec("l", "{k}"), 9);
        let bytes: Vec<u8> = (1..=200u8).collect();
        for len in 0..=bytes.len() {
            let key = &bytes[..len];
            let (hash, head) = lim.hash(key);
            assert_eq!(hash, key_hash(lim.seed, key), "length {len}");
            let mut padded = key.to_vec();
            padded.resize(len.div_ceil(8).max(2) * 8, 0);
            let words: Vec<u64> = padded.chunks(8).map(super::load).take(KEY_WORDS).collect();
            assert_eq!(head, [words[0], words[1]], "length {len}");
            let tail = tail_words(len);
            assert_eq!(&lim.tail[..tail], &words[2..2 + tail], "length {len}");
        }
    }

    /// The same over random keys of random lengths and bytes, with the
    /// limiter's own seed and others.
    #[test]
    fn the_fast_hash_is_key_hash_on_random_keys() {
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for round in 0..20_000 {
            let mut lim = Limiter::new(spec("l", "{k}"), next());
            let len = match round % 3 {
                0 => (next() % 17) as usize,
                1 => (next() % 40) as usize,
                _ => (next() % 300) as usize,
            };
            let key: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let (hash, head) = lim.hash(&key);
            assert_eq!(hash, key_hash(lim.seed, &key), "{key:?}");
            let mut padded = key.clone();
            padded.resize(len.div_ceil(8).max(2) * 8, 0);
            assert_eq!(
                head,
                [super::load(&padded[..8]), super::load(&padded[8..16])]
            );
            assert!(lim.home(hash) <= lim.mask, "{key:?}");
        }
    }

    /// [`Limits::admit_single`] (a route's one `{field}` limit, decided in
    /// line) decides as [`Limits::admit`] does over random streams, the
    /// field present or absent; and it declines, changing nothing, for
    /// limits it is not for.
    #[test]
    fn admit_single_decides_as_admit() {
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for seed in 1..=120u64 {
            let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut s = random_spec(&mut rng, "l", "{k}");
            s.max_keys = 1 + (next() % 12) as usize;
            let mut single = Limits::new(vec![s.clone()], seed);
            let mut reference = Limits::new(vec![s], seed);
            assert_eq!(single.single_key_field(), Some("k"));
            let keys = 1 + next() % 16;
            let mut t = SEC;
            for step in 0..1_500 {
                t += (next() % 80) * MS;
                let k = format!("10.0.{}.{}", next() % 3, next() % keys);
                let facts = random_facts(&mut rng, false);
                let absent = next().is_multiple_of(10);
                let value = (!absent).then_some(k.as_bytes());
                let got = single
                    .admit_single(t, &facts, |name| {
                        (name == "k")
                            .then_some(value)
                            .flatten()
                            .unwrap_or(ABSENT_FIELD)
                    })
                    .unwrap();
                let want = reference.admit(t, &facts, &mut |name: &str| {
                    (name == "k").then_some(value).flatten()
                });
                assert_eq!(got, want, "seed {seed} step {step}");
                assert_eq!(single.carried(), reference.carried());
                assert_eq!(single.summary(), reference.summary());
                *seen
                    .entry(kind(&match got {
                        Decision::Admit { carry, repeat } => Seen::Admit {
                            carry: carry.then(|| *single.carried().unwrap()),
                            repeat: repeat.then(|| *single.repeat().unwrap()),
                        },
                        Decision::Summary => Seen::Summary(*single.summary().unwrap()),
                        Decision::Drop(i) => Seen::Drop(i),
                        Decision::Collapse => Seen::Collapse,
                    }))
                    .or_default() += 1;
            }
            let (a, b): (Vec<_>, Vec<_>) =
                (single.drain(t).collect(), reference.drain(t).collect());
            assert_eq!(a, b, "seed {seed}");
        }
        for path in ["admit", "admit+carry", "summary", "drop"] {
            assert!(
                seen.get(path).copied().unwrap_or(0) > 100,
                "{path}: {seen:?}"
            );
        }
        // Limits it is not for: it declines, and a record decided after
        // by `admit` is decided as if it had not been asked.
        let mut dedupe = spec("d", "{k}");
        dedupe.records = per_sec(1, 1);
        dedupe.dedupe_window_ns = SEC;
        let mut two = spec("b", "{k}");
        two.records = per_sec(1, 1);
        let others = [
            vec![spec_with_budget("a", "{a}/{b}")],
            vec![spec_with_budget("a", "x{k}")],
            vec![spec_with_budget("a", "")],
            vec![spec_with_budget("a", "{k}"), two],
            vec![dedupe],
        ];
        for specs in others {
            let mut declined = Limits::new(specs.clone(), 5);
            let mut reference = Limits::new(specs, 5);
            assert_eq!(declined.single_key_field(), None);
            for i in 0..5 {
                let facts = info(100);
                let asked = std::cell::Cell::new(false);
                let declined_decision = declined.admit_single(SEC, &facts, |_| {
                    asked.set(true);
                    b"x"
                });
                assert_eq!(declined_decision, None);
                assert!(!asked.get());
                let fields: &[(&str, &str)] = &[("k", "x"), ("a", "1"), ("b", "2")];
                let got = decide(&mut declined, SEC + i, facts, fields);
                let want = decide(&mut reference, SEC + i, facts, fields);
                assert_eq!(got, want);
            }
        }
    }

    fn spec_with_budget(name: &str, template: &str) -> LimitSpec {
        let mut s = spec(name, template);
        s.records = per_sec(1, 1);
        s
    }

    /// Keys that differ only late (in the tail words, or past the 128
    /// bytes kept) are different keys; the same long key is found again.
    #[test]
    fn long_keys_are_told_apart() {
        let mut s = spec("l", "{k}");
        s.records = per_sec(1, 1);
        let mut limits = Limits::new(vec![s], 21);
        let a16 = "a".repeat(16);
        let keys = [
            format!("{a16}b"),
            format!("{a16}c"),
            format!("{}x{}", "a".repeat(30), "a".repeat(9)),
            format!("{}y{}", "a".repeat(30), "a".repeat(9)),
            format!("{}1", "a".repeat(150)),
            format!("{}2", "a".repeat(150)),
            "a".repeat(16),
            "a".repeat(15),
            "a".repeat(8),
            "a".repeat(7),
            String::new(),
        ];
        for (i, k) in keys.iter().enumerate() {
            let d = decide(&mut limits, SEC, info(1), &[("k", k.as_str())]);
            assert_eq!(kind(&d), "admit", "{i}: a new key has a full bucket");
            assert_eq!(limits.limiter(0).unwrap().len(), i + 1);
        }
        for (i, k) in keys.iter().enumerate() {
            let d = decide(&mut limits, SEC, info(1), &[("k", k.as_str())]);
            assert_eq!(kind(&d), "summary", "{i}: the same key, found again");
        }
        assert_eq!(limits.limiter(0).unwrap().len(), keys.len());
    }

    #[test]
    fn the_hash_is_seeded_and_length_aware() {
        let keys: Vec<Vec<u8>> = (0..=24)
            .map(|n| vec![b'a'; n])
            .chain([b"a\0".to_vec(), b"\0a".to_vec(), b"10.0.0.1".to_vec()])
            .collect();
        let mut seen = std::collections::HashSet::new();
        for k in &keys {
            assert!(seen.insert(key_hash(1, k)), "{k:?}");
            assert_eq!(key_hash(1, k), key_hash(1, k));
            assert_ne!(key_hash(1, k), key_hash(2, k));
        }
    }

    // --- configuration -----------------------------------------------------

    fn load(text: &str) -> Result<Vec<LimitSpec>, LimitError> {
        let root = crate::toml::parse(text).unwrap();
        let Some(Entry {
            value: Item::Table(route),
            ..
        }) = root.get("route")
        else {
            panic!("no [route]")
        };
        specs_from_entry(route.get("limit").unwrap())
    }

    #[test]
    fn defaults_match_declarations() {
        let text: String = LIMIT_KEYS
            .iter()
            .map(|k| match k.key {
                "name" => "name = \"x\"\n".to_string(),
                "records_per_sec" => "records_per_sec = 1\n".to_string(),
                _ => format!("{} = {}\n", k.key, k.default),
            })
            .collect();
        let specs = load(&format!("[[route.limit]]\n{text}")).unwrap();
        let mut want = LimitSpec::new("x", "").unwrap();
        want.records.per_sec = 1;
        assert_eq!(specs, vec![want]);
    }

    #[test]
    fn configuration_named_cases() {
        let specs = load(
            "[[route.limit]]\nname = \"per-client\"\nkey = \"{downstream_remote_address_ip}\"\nbytes_per_sec = 8192\nbytes_burst = 16384\nlog_bytes_per_client_byte = 2.5\nmax_keys = 20000\n\n[[route.limit]]\nname = \"per-container\"\nkey = \"{kubernetes.namespace_name}/{kubernetes.container_name}\"\nrecords_per_sec = 500\nsevere_records_per_sec = 100\ndedupe_window_ms = 10000\ncarry_after_secs = 30\n",
        )
        .unwrap();
        assert_eq!(specs.len(), 2);
        assert_eq!(specs[0].bytes, per_sec(8_192, 16_384));
        assert_eq!(specs[0].log_milli_per_client_byte, 2_500);
        assert_eq!(specs[0].max_keys, 20_000);
        assert_eq!(specs[1].records, per_sec(500, 0));
        assert_eq!(specs[1].severe_records, per_sec(100, 0));
        assert_eq!(specs[1].dedupe_window_ns, 10 * SEC);
        assert_eq!(specs[1].carry_after_ns, 30 * SEC);
        assert_eq!(
            specs[1].key.fields().collect::<Vec<_>>(),
            ["kubernetes.namespace_name", "kubernetes.container_name"]
        );
        let head = "[[route.limit]]\nname = \"a\"\n";
        let bad: &[(&str, String, &str)] = &[
            (
                "unknown key",
                format!("{head}records_per_second = 1\n"),
                "line 3: unknown limit key 'records_per_second'",
            ),
            (
                "wrong type",
                format!("{head}records_per_sec = \"10\"\n"),
                "line 3: 'records_per_sec' must be a integer, 0 to 1000000000, not a string",
            ),
            (
                "negative",
                format!("{head}records_per_sec = -1\n"),
                "line 3: 'records_per_sec' must be a integer, 0 to 1000000000",
            ),
            (
                "too many keys",
                format!("{head}records_per_sec = 1\nmax_keys = 1000001\n"),
                "line 4: 'max_keys' must be a integer, 1 to 1000000",
            ),
            (
                "no keys",
                format!("{head}records_per_sec = 1\nmax_keys = 0\n"),
                "line 4: 'max_keys' must be a integer, 1 to 1000000",
            ),
            (
                "ratio too big",
                format!("{head}bytes_per_sec = 1\nlog_bytes_per_client_byte = 1e7\n"),
                "line 4: 'log_bytes_per_client_byte' must be a number, 0 to 1000000",
            ),
            (
                "ratio negative",
                format!("{head}bytes_per_sec = 1\nlog_bytes_per_client_byte = -0.5\n"),
                "line 4: 'log_bytes_per_client_byte' must be a number, 0 to 1000000",
            ),
            (
                "bad template",
                format!("{head}records_per_sec = 1\nkey = \"{{ip\"\n"),
                "line 4: 'key': '{' at byte 0 is never closed",
            ),
            (
                "empty name",
                "[[route.limit]]\nname = \"\"\nrecords_per_sec = 1\n".to_string(),
                "line 2: 'name' must be a non-empty string",
            ),
            (
                "no name",
                "[[route.limit]]\nrecords_per_sec = 1\n".to_string(),
                "line 1: a limit needs 'name'",
            ),
            (
                "burst alone",
                format!("{head}records_burst = 5\n"),
                "line 1: 'records_burst' needs 'records_per_sec'",
            ),
            (
                "ratio alone",
                format!("{head}records_per_sec = 1\nlog_bytes_per_client_byte = 2\n"),
                "line 1: 'log_bytes_per_client_byte' needs 'bytes_per_sec'",
            ),
            (
                "no budget",
                format!("{head}key = \"{{ip}}\"\n"),
                "line 1: a limit needs a budget (records_per_sec, bytes_per_sec, severe_records_per_sec, severe_bytes_per_sec) or dedupe_window_ms",
            ),
            (
                "same name",
                format!("{head}records_per_sec = 1\n{head}records_per_sec = 2\n"),
                "line 4: two limits are named 'a'",
            ),
            (
                "two dedupes",
                format!(
                    "{head}dedupe_window_ms = 1\n[[route.limit]]\nname = \"b\"\ndedupe_window_ms = 1\n"
                ),
                "line 4: only one limit per route may dedupe, and 'a' does",
            ),
            (
                "a table, not an array",
                "[route.limit]\nname = \"a\"\nrecords_per_sec = 1\n".to_string(),
                "line 1: 'limit' must be an array of tables ([[...limit]])",
            ),
        ];
        for (name, text, want) in bad {
            let e = load(text).unwrap_err();
            assert_eq!(e.to_string(), *want, "{name}");
        }
    }

    #[test]
    fn reference_documentation_is_current() {
        let doc = include_str!("../docs/limits.md");
        let table = reference_table();
        assert!(
            doc.contains(&table),
            "docs/limits.md is out of date; its key table must read:\n{table}"
        );
    }

    // --- bounds ------------------------------------------------------------

    /// 1,000,000 distinct client IPs, each sending two or three records,
    /// through a limit of 10,000 keys: the table never grows past it,
    /// memory stays within the documented bound (and stops growing once the
    /// table is full), probes stay short, and every record is accounted for.
    #[test]
    fn a_million_clients_stay_within_max_keys() {
        let mut s = spec("per-client", "{ip}");
        s.records = per_sec(1, 1);
        let mut limits = Limits::new(vec![s], 0x5eed);
        let bound = Limiter::memory_bound(10_000, false);
        let (mut input, mut accounted) = (0u64, 0u64);
        let mut ip = String::new();
        let mut memory_at_full = 0;
        for i in 0..1_000_000u64 {
            use std::fmt::Write;
            ip.clear();
            write!(ip, "10.{}.{}.{}", i >> 16, (i >> 8) & 255, i & 255).unwrap();
            let t = SEC + i * 1_000;
            for _ in 0..(2 + i % 2) {
                input += 1;
                let d = decide(&mut limits, t, info(816), &[("ip", ip.as_str())]);
                accounted += match d {
                    Seen::Admit { carry, .. } => 1 + carry.map_or(0, |c| c.tally.records),
                    Seen::Summary(s) => s.tally.records,
                    _ => 0,
                };
            }
            let lim = limits.limiter(0).unwrap();
            assert!(lim.len() <= 10_000);
            if i % 997 == 0 {
                assert!(lim.memory_bytes() <= bound, "{i}: {}", lim.memory_bytes());
            }
            if i == 10_000 {
                memory_at_full = lim.memory_bytes();
            }
        }
        let lim = limits.limiter(0).unwrap();
        assert_eq!(lim.len(), 10_000);
        assert!(
            lim.memory_bytes() <= bound,
            "{} > {bound}",
            lim.memory_bytes()
        );
        assert_eq!(lim.memory_bytes(), memory_at_full);
        assert!(lim.longest_probe() <= 16, "{}", lim.longest_probe());
        accounted += limits.drain(2 * SEC).map(|c| c.tally.records).sum::<u64>();
        assert_eq!(accounted, input);
    }

    /// A limit that tracks few keys stays small: the index and 16 slots,
    /// what they held, and their key words; the slot table takes its full
    /// size at the 16th key.
    #[test]
    fn few_keys_take_sixteen_slots() {
        let mut s = spec("per-client", "{ip}");
        s.records = per_sec(1, 1);
        let mut limits = Limits::new(vec![s], 0x5eed);
        let index = (10_000usize * 4).next_power_of_two() * 4;
        let small = index + 16 * Limiter::slot_bytes(false);
        // Long keys (they use the key words) and refused records (they
        // hold tallies), so that every table is used.
        let key = |i: u32| format!("{i:0>40}");
        for i in 0..15 {
            for _ in 0..3 {
                decide(&mut limits, SEC, info(816), &[("ip", key(i).as_str())]);
            }
        }
        let lim = limits.limiter(0).unwrap();
        assert_eq!(lim.len(), 15);
        assert!(lim.memory_bytes() <= small, "{}", lim.memory_bytes());
        decide(&mut limits, SEC, info(816), &[("ip", key(15).as_str())]);
        let lim = limits.limiter(0).unwrap();
        assert!(lim.memory_bytes() > small);
        assert!(lim.memory_bytes() <= Limiter::memory_bound(10_000, false));
    }

    #[test]
    fn documented_memory_figures() {
        // docs/limits.md and LIMIT_KEYS quote these.
        assert_eq!(Limiter::slot_bytes(false), 280);
        assert_eq!(Limiter::slot_bytes(true), 600);
        for n in [1, 2, 10, 1_000, 10_000, 16_385, 1_000_000] {
            assert!(Limiter::memory_bound(n, false) <= 312 * n + 312, "{n}");
            assert!(Limiter::memory_bound(n, true) <= 632 * n + 632, "{n}");
        }
        assert_eq!(Limiter::memory_bound(10_000, false), 3_062_424);
        assert_eq!(Limiter::memory_bound(10_000, true), 6_262_744);
    }

    // --- properties --------------------------------------------------------

    /// What one record did, for the accounting.
    fn account(d: &Seen, key: &str, out: &mut HashMap<String, u64>) {
        let mut add = |k: &KeyText, n: u64| {
            let name = if k.is_overflow() {
                "(overflow)".to_string()
            } else {
                String::from_utf8(k.bytes().to_vec()).unwrap()
            };
            *out.entry(name).or_default() += n;
        };
        match d {
            Seen::Admit { carry, repeat } => {
                add(&key_of(key), 1 + repeat.map_or(0, |r| r.count));
                if let Some(c) = carry {
                    add(&c.key, c.tally.records);
                }
            }
            Seen::Summary(s) => add(&s.key, s.tally.records),
            Seen::Drop(_) | Seen::Collapse => {}
        }
    }

    fn key_of(text: &str) -> KeyText {
        key(text)
    }

    fn random_spec(rng: &mut Rng, name: &str, template: &str) -> LimitSpec {
        let mut s = spec(name, template);
        s.records = per_sec(1 + rng.below(20), rng.below(30));
        if rng.below(2) == 0 {
            s.bytes = per_sec(1_000 + rng.below(20_000), rng.below(40_000));
            if rng.below(2) == 0 {
                s.log_milli_per_client_byte = rng.below(4_000);
            }
        }
        if rng.below(3) == 0 {
            s.severe_records = per_sec(1 + rng.below(5), 0);
        }
        s.carry_after_ns = (1 + rng.below(3)) * SEC;
        s
    }

    fn random_facts(rng: &mut Rng, dedupe: bool) -> RecordFacts {
        RecordFacts {
            size: 50 + rng.below(2_000),
            severe: rng.below(10) == 0,
            client_paid: match rng.below(3) {
                0 => None,
                1 => Some(0),
                _ => Some(rng.below(3_000)),
            },
            template: (dedupe && rng.below(2) == 0).then(|| rng.below(3)),
            variables: rng.below(2),
        }
    }

    /// Over random streams through one limit, per key: records out, plus
    /// carried tallies, summaries and repeat counts, plus what drain gives
    /// at the end, equal the records in.
    #[test]
    fn conservation_per_key() {
        let (mut collapsed, mut repeated) = (0u64, 0u64);
        for seed in 1..=150u64 {
            let mut rng = Rng(seed * 0x9E37_79B9);
            let mut s = random_spec(&mut rng, "l", "{k}");
            if seed % 2 == 0 {
                s.dedupe_window_ns = (1 + rng.below(3_000)) * MS;
            }
            let dedupe = s.dedupe_window_ns > 0;
            let mut limits = Limits::new(vec![s], seed);
            let mut input: HashMap<String, u64> = HashMap::new();
            let mut out: HashMap<String, u64> = HashMap::new();
            let mut t = SEC;
            for _ in 0..3_000 {
                t += rng.below(200) * MS;
                let k = format!("k{}", rng.below(8));
                let facts = random_facts(&mut rng, dedupe);
                *input.entry(k.clone()).or_default() += 1;
                let d = decide(&mut limits, t, facts, &[("k", k.as_str())]);
                account(&d, &k, &mut out);
                match d {
                    Seen::Collapse => collapsed += 1,
                    Seen::Admit {
                        repeat: Some(_), ..
                    } => repeated += 1,
                    _ => {}
                }
            }
            for c in limits.drain(t) {
                account(
                    &Seen::Summary(Summary {
                        limit: c.limit,
                        key: c.key,
                        exceeded: Exceeded::Records,
                        tally: c.tally,
                    }),
                    "",
                    &mut out,
                );
            }
            out.retain(|_, n| *n > 0);
            assert_eq!(out, input, "seed {seed}");
        }
        assert!(collapsed > 100 && repeated > 100, "{collapsed} {repeated}");
    }

    /// Over random streams through several limits, with dedupe and keys
    /// forgotten for want of room: every record is accounted for once.
    #[test]
    fn conservation_in_total() {
        for seed in 1..=100u64 {
            let mut rng = Rng(seed * 0x51_7CC1_B727);
            let mut client = random_spec(&mut rng, "client", "{c}");
            client.max_keys = 1 + rng.below(6) as usize;
            let mut container = random_spec(&mut rng, "container", "{n}/{k}");
            container.dedupe_window_ns = rng.below(2) * (1 + rng.below(2_000)) * MS;
            let mut ceiling = random_spec(&mut rng, "ceiling", "");
            ceiling.records.per_sec *= 5;
            let dedupe = container.dedupe_window_ns > 0;
            let mut limits = Limits::new(vec![client, container, ceiling], seed);
            let (mut input, mut accounted) = (0u64, 0u64);
            let mut t = SEC;
            for _ in 0..3_000 {
                t += rng.below(100) * MS;
                let c = format!("10.0.0.{}", rng.below(12));
                let k = format!("c{}", rng.below(3));
                let facts = random_facts(&mut rng, dedupe);
                input += 1;
                let d = decide(
                    &mut limits,
                    t,
                    facts,
                    &[("c", c.as_str()), ("n", "ns"), ("k", k.as_str())],
                );
                accounted += match d {
                    Seen::Admit { carry, repeat } => {
                        1 + carry.map_or(0, |c| c.tally.records) + repeat.map_or(0, |r| r.count)
                    }
                    Seen::Summary(s) => s.tally.records,
                    _ => 0,
                };
                for i in 0..3 {
                    assert!(
                        limits.limiter(i).unwrap().len()
                            <= limits.limiter(i).unwrap().spec().max_keys
                    );
                }
            }
            accounted += limits.drain(t).map(|c| c.tally.records).sum::<u64>();
            assert_eq!(accounted, input, "seed {seed}");
        }
    }

    /// The reference: one limit, written the obvious way (maps, vectors,
    /// linear searches), with the same arithmetic.
    struct Naive {
        spec: LimitSpec,
        keys: HashMap<String, NaiveKey>,
        /// The clock: each slot's key and whether a record found it since
        /// the hand passed; slot 0 unused.
        clock: Vec<(String, bool)>,
        hand: usize,
        /// Pending keys, oldest first, with when they joined.
        pending: Vec<(String, u64)>,
        overflow: Tally,
        overflow_since: u64,
    }

    #[derive(Default)]
    struct NaiveKey {
        /// TATs, per class, records and bytes (0: full).
        buckets: [[u64; 2]; 2],
        /// When a record of each class was last refused.
        refused: [Option<u64>; 2],
        tally: Tally,
    }

    impl Naive {
        fn budgets(&self, severe: bool) -> [Budget; 2] {
            if severe {
                [self.spec.severe_records, self.spec.severe_bytes]
            } else {
                [self.spec.records, self.spec.bytes]
            }
        }

        fn admit(&mut self, now: u64, k: &str, facts: &RecordFacts) -> Seen {
            if let Some(entry) = self.clock.iter_mut().find(|(key, _)| key == k) {
                entry.1 = true;
            } else {
                let mut at = self.clock.len();
                if self.keys.len() == self.spec.max_keys {
                    for _ in 0..CLOCK_SCAN {
                        self.hand = if self.hand >= self.clock.len() - 1 {
                            1
                        } else {
                            self.hand + 1
                        };
                        if !self.clock[self.hand].1 {
                            break;
                        }
                        self.clock[self.hand].1 = false;
                    }
                    at = self.hand;
                    let victim = self.clock[at].0.clone();
                    let v = self.keys.remove(&victim).unwrap();
                    if !v.tally.is_empty() {
                        if self.overflow.is_empty() {
                            self.overflow_since = now;
                        }
                        self.overflow.merge(&Tally { keys: 1, ..v.tally });
                    }
                    self.pending.retain(|(p, _)| *p != victim);
                }
                self.keys.insert(k.to_string(), NaiveKey::default());
                if at == self.clock.len() {
                    self.clock.push((k.to_string(), false));
                } else {
                    self.clock[at] = (k.to_string(), false);
                }
            }
            let c = usize::from(facts.severe);
            let budgets = self.budgets(facts.severe);
            let costs = [
                1,
                byte_cost(
                    facts.size,
                    facts.client_paid,
                    self.spec.log_milli_per_client_byte,
                ),
            ];
            let entry = self.keys.get_mut(k).unwrap();
            let mut over = None;
            let mut next = entry.buckets[c];
            for (j, b) in budgets.iter().enumerate() {
                if !b.is_active() {
                    continue;
                }
                let pace = Pace::of(b.per_sec);
                let tat = entry.buckets[c][j];
                match schedule(tat, now, pace.ns(costs[j]), pace.ns(b.size())) {
                    Some(n) => next[j] = n,
                    None if over.is_none() => {
                        over = Some(
                            [
                                [Exceeded::Records, Exceeded::Bytes],
                                [Exceeded::SevereRecords, Exceeded::SevereBytes],
                            ][c][j],
                        );
                    }
                    None => {}
                }
            }
            if let Some(exceeded) = over {
                let quiet = quiet_ns(&budgets);
                let last = entry.refused[c];
                entry.refused[c] = Some(last.map_or(now, |l| l.max(now)));
                if last.is_none_or(|l| now.saturating_sub(l) >= quiet) {
                    return Seen::Summary(Summary {
                        limit: 0,
                        key: key(k),
                        exceeded,
                        tally: Tally::one(facts, now),
                    });
                }
                entry.tally.add(facts, now);
                if !self.pending.iter().any(|(p, _)| p == k) {
                    self.pending.push((k.to_string(), now));
                }
                return Seen::Drop(0);
            }
            entry.buckets[c] = next;
            // Candidates in the engine's order: overflow, own, stale.
            let mut best: Option<(u64, Option<String>)> = None;
            if !self.overflow.is_empty() {
                best = Some((self.overflow_since, None));
            }
            if let Some((_, since)) = self.pending.iter().find(|(p, _)| p == k)
                && best.as_ref().is_none_or(|(b, _)| since < b)
            {
                best = Some((*since, Some(k.to_string())));
            }
            if let Some((p, since)) = self.pending.first()
                && p != k
                && since + self.spec.carry_after_ns <= now
                && best.as_ref().is_none_or(|(b, _)| since < b)
            {
                best = Some((*since, Some(p.clone())));
            }
            let carry = best.map(|(_, who)| match who {
                None => Carried {
                    limit: 0,
                    key: KeyText::overflow(),
                    tally: std::mem::take(&mut self.overflow),
                },
                Some(p) => {
                    self.pending.retain(|(q, _)| *q != p);
                    Carried {
                        limit: 0,
                        key: key(&p),
                        tally: std::mem::take(&mut self.keys.get_mut(&p).unwrap().tally),
                    }
                }
            });
            Seen::Admit {
                carry,
                repeat: None,
            }
        }
    }

    #[test]
    fn matches_the_naive_reference() {
        let mut seen: HashMap<&str, u64> = HashMap::new();
        for seed in 1..=200u64 {
            let mut rng = Rng(seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
            let mut s = random_spec(&mut rng, "l", "{k}");
            s.max_keys = 1 + rng.below(10) as usize;
            let mut naive = Naive {
                spec: s.clone(),
                keys: HashMap::new(),
                clock: vec![(String::new(), false)],
                hand: 0,
                pending: Vec::new(),
                overflow: Tally::default(),
                overflow_since: 0,
            };
            // The same limit followed by one that never refuses: the
            // general path (loops over limits, undo) must decide as the
            // one-limit path does.
            let mut never = spec("never", "");
            never.records = per_sec(1_000_000_000, 0);
            never.severe_records = per_sec(1_000_000_000, 0);
            let mut general = Limits::new(vec![s.clone(), never], seed);
            let mut limits = Limits::new(vec![s], seed);
            let mut t = SEC;
            let (gap, keys) = (1 + rng.below(100), 1 + rng.below(12));
            for step in 0..2_000 {
                t += rng.below(gap) * MS;
                // Half the streams use a sliding set of keys, so that keys
                // go silent with tallies held.
                let n = if seed % 2 == 0 {
                    rng.below(keys)
                } else {
                    step / 150 + rng.below(keys.min(4))
                };
                // A third mix keys of up to 16 bytes with longer ones (past
                // the slot's head, and past the bytes kept), so that slots
                // pass from short keys to long ones and back.
                let pad = if seed % 3 == 0 {
                    [0, 12, 0, 140][n as usize % 4]
                } else {
                    0
                };
                let k = format!("key-{n}{}", "p".repeat(pad));
                let facts = random_facts(&mut rng, false);
                let got = decide(&mut limits, t, facts, &[("k", k.as_str())]);
                let want = naive.admit(t, &k, &facts);
                assert_eq!(got, want, "seed {seed} step {step}");
                let both = decide(&mut general, t, facts, &[("k", k.as_str())]);
                assert_eq!(both, got, "general path, seed {seed} step {step}");
                let path = match got {
                    Seen::Admit { carry: Some(c), .. } if c.key.is_overflow() => "carry overflow",
                    Seen::Admit { carry: Some(c), .. } if c.key.bytes() != k.as_bytes() => {
                        "carry another key's"
                    }
                    _ => kind(&got),
                };
                *seen.entry(path).or_default() += 1;
            }
        }
        for path in [
            "admit",
            "admit+carry",
            "carry overflow",
            "carry another key's",
            "summary",
            "drop",
        ] {
            assert!(
                seen.get(path).copied().unwrap_or(0) > 100,
                "{path}: {seen:?}"
            );
        }
    }
}
