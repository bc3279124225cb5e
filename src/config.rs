//! `rosetta.toml`: every key declared once, as data, and the loader that
//! holds a file to those declarations.
//!
//! The file has three kinds of tables, each with its declared keys:
//! the top level ([`TOP_KEYS`]: defaults for every record), `[[route]]`
//! ([`ROUTE_KEYS`]: which records get which parsers, tried in order) and
//! `[[parser]]` ([`PARSER_KEYS`]: user-defined regex parsers, with the keys
//! of a fluent-bit `[PARSER]`). The loader accepts exactly these keys with
//! exactly these types, and `docs/configuration.md` carries tables generated
//! from them (a test fails when the two differ). An unknown key, a wrong type
//! or an out-of-range value is a [`ConfigError`] naming the file, the line
//! and the problem; there is no silent fallback to a default.
//!
//! Parser names are checked where they can be: a name that is neither
//! built in nor a fluent-bit stock name nor a `[[parser]]` nor in the
//! `parsers_file` is an error at the line that names it (see
//! [`crate::route`]).

use crate::glob::Glob;
use crate::limit::{self, LimitSpec};
use crate::schema::Schema;
use crate::toml::{self, Entry, Item, Table};
use std::fmt;

/// The file name the module looks for in each of fluent-bit's
/// `accessible_paths`.
pub const FILE_NAME: &str = "rosetta.toml";

/// One declared key: its name, TOML type, default and meaning.
#[derive(Clone, Copy, Debug)]
pub struct KeyDoc {
    /// The key as written in `rosetta.toml`.
    pub key: &'static str,
    /// Its TOML type, with the allowed values where they are a list.
    pub kind: Kind,
    /// The default, as TOML text (`-` when there is none).
    pub default: &'static str,
    /// What it does, in the operator's words.
    pub doc: &'static str,
}

/// The type of a declared key.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A string from a fixed list.
    Choice(&'static [&'static str]),
    /// Any non-empty string.
    Str,
    /// A boolean.
    Bool,
    /// A glob over a name (`*` any run, `?` one character).
    Glob,
    /// An inline table of name = glob.
    Globs,
    /// A parser name, or an array of them tried in order.
    Chain,
    /// An array of tables (`[[route]]`, `[[parser]]`).
    Tables,
    /// A size in bytes: an integer, or a string with a `k` or `m` suffix
    /// as fluent-bit writes sizes (`"64k"`).
    Size,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Choice(list) => {
                let quoted: Vec<String> = list.iter().map(|c| format!("\"{c}\"")).collect();
                write!(f, "string: {}", quoted.join(", "))
            }
            Kind::Str => f.write_str("string"),
            Kind::Bool => f.write_str("boolean"),
            Kind::Glob => f.write_str("string (glob)"),
            Kind::Globs => f.write_str("table of string globs"),
            Kind::Chain => f.write_str("string or array of strings (parser names)"),
            Kind::Tables => f.write_str("array of tables"),
            Kind::Size => f.write_str("size (bytes, or a string like \"64k\")"),
        }
    }
}

/// The streams a route can match.
pub const STREAMS: &[&str] = &["stdout", "stderr"];

/// The top-level keys: defaults for every record.
pub const TOP_KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "parsers",
        kind: Kind::Chain,
        default: "\"auto\"",
        doc: "The parsers for a record no route and no annotation claims, tried in order; the first that reads the line wins. `none` passes records through unchanged; `auto` recognises every built-in format from the line's first bytes. Parser names: docs/formats.md.",
    },
    KeyDoc {
        key: "log_key",
        kind: Kind::Str,
        default: "\"log\"",
        doc: "The record key holding the log line. A record without it is read from `message` (what fluent-bit's `cri` parser writes) when that key exists.",
    },
    KeyDoc {
        key: "keep_log",
        kind: Kind::Bool,
        default: "false",
        doc: "Keep the raw line in the record after a successful parse. A line that does not parse, or parses as suspect, always keeps it.",
    },
    KeyDoc {
        key: "annotations",
        kind: Kind::Bool,
        default: "true",
        doc: "Honour the pod annotations `fluentbit.io/parser[_stream][-container]` found in the record's `kubernetes` map (set the kubernetes filter's `K8S-Logging.Parser` Off so that fluent-bit does not apply them first). An annotation beats every route.",
    },
    KeyDoc {
        key: "merge_key",
        kind: Kind::Str,
        default: "\"log_processed\"",
        doc: "The key under which the members of a line that is itself JSON, or logfmt, or a user parser's captures are written (never at the top level, so that one application's keys cannot clash in type with another's in Elasticsearch).",
    },
    KeyDoc {
        key: "normalise_time",
        kind: Kind::Bool,
        default: "true",
        doc: "Write each parsed record's time (the parser's `start_time`, `time`, `timestamp`, `ts`, `@timestamp` or `date`, in any layout of docs/timestamps.md) as RFC 3339 UTC under `time_key`; a time no layout reads leaves `rosetta.reason`.",
    },
    KeyDoc {
        key: "time_key",
        kind: Kind::Str,
        default: "\"timestamp\"",
        doc: "The key of the normalised time. Not `@timestamp`, which fluent-bit's es output writes itself (docs/timestamps.md).",
    },
    KeyDoc {
        key: "levels",
        kind: Kind::Bool,
        default: "true",
        doc: "Write each record's normalised severity under `level` (trace, debug, info, notice, warning, error, critical, alert, emergency), from its level field, syslog PRI, HTTP status or message head (docs/templates.md); a parser's own `level` that says it differently is kept as `level_original`.",
    },
    KeyDoc {
        key: "templates",
        kind: Kind::Bool,
        default: "true",
        doc: "Give each free-text message (a parser's `message` or `msg`, or a line no parser read) a `template`, a stable `template_id` and, when it names one, an `error_code` (docs/templates.md).",
    },
    KeyDoc {
        key: "tag_prefix",
        kind: Kind::Str,
        default: "\"kube.\"",
        doc: "The tag prefix of container records: `<prefix><namespace>.<pod>.<container>` (the `Tag_Regex` layout) or fluent-bit's default `<prefix>var.log.containers.<pod>_<namespace>_<container>-<id>.log`.",
    },
    KeyDoc {
        key: "wasm_stack_size",
        kind: Kind::Size,
        default: "8192",
        doc: "The `[FILTER]`'s `wasm_stack_size`, repeated here because the module cannot read it: user parsers whose regexes need more frame stack to compile are refused with the size to raise it to (docs/user-parsers.md).",
    },
    KeyDoc {
        key: "parsers_file",
        kind: Kind::Str,
        default: "-",
        doc: "A fluent-bit parsers file (classic format) whose `[PARSER]` entries become parsers a route or annotation can name, read from the same directory as `rosetta.toml`.",
    },
    KeyDoc {
        key: "schema",
        kind: Kind::Choice(Schema::NAMES),
        default: "\"rosetta\"",
        doc: "The names parsed fields are written under: `rosetta` (the formats' own, fluent-bit's stock parsers' names) or `ecs` (Elastic Common Schema: `http.request.method`, `url.original`, `event.duration` in nanoseconds...; needs the `es` output's `Replace_Dots Off`). Every field and its names: docs/schema.md.",
    },
];

/// The keys of a `[[route]]`. Every match key present must match; absent
/// ones match anything.
pub const ROUTE_KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "name",
        kind: Kind::Str,
        default: "route <n>",
        doc: "A name for messages and `rosetta.reason`.",
    },
    KeyDoc {
        key: "tag",
        kind: Kind::Glob,
        default: "-",
        doc: "Matches the record's tag.",
    },
    KeyDoc {
        key: "namespace",
        kind: Kind::Glob,
        default: "-",
        doc: "Matches the namespace (from the `kubernetes` map, else from the tag).",
    },
    KeyDoc {
        key: "pod",
        kind: Kind::Glob,
        default: "-",
        doc: "Matches the pod name.",
    },
    KeyDoc {
        key: "container",
        kind: Kind::Glob,
        default: "-",
        doc: "Matches the container name.",
    },
    KeyDoc {
        key: "stream",
        kind: Kind::Choice(STREAMS),
        default: "-",
        doc: "Matches the record's `stream`.",
    },
    KeyDoc {
        key: "labels",
        kind: Kind::Globs,
        default: "-",
        doc: "Pod labels that must be present and match, e.g. `{ app = \"orders*\" }`.",
    },
    KeyDoc {
        key: "annotations",
        kind: Kind::Globs,
        default: "-",
        doc: "Pod annotations that must be present and match.",
    },
    KeyDoc {
        key: "parsers",
        kind: Kind::Chain,
        default: "-",
        doc: "Required: the parsers to try, in order; the first that reads the line wins.",
    },
    KeyDoc {
        key: "keep_log",
        kind: Kind::Bool,
        default: "top-level `keep_log`",
        doc: "Keep the raw line after a successful parse.",
    },
    KeyDoc {
        key: "limit",
        kind: Kind::Tables,
        default: "-",
        doc: "Rate limits for the route's records, as `[[route.limit]]` tables (keys: docs/limits.md). Off unless configured.",
    },
    KeyDoc {
        key: "into",
        kind: Kind::Str,
        default: "-",
        doc: "Write the parsed fields under this key instead of at the top level (for parsers with a fixed schema; dynamic keys always go under `merge_key`, or under `into` when set).",
    },
];

/// The keys of a `[[parser]]`: a fluent-bit `[PARSER]` of format regex.
pub const PARSER_KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "name",
        kind: Kind::Str,
        default: "-",
        doc: "Required: the name routes and annotations use.",
    },
    KeyDoc {
        key: "format",
        kind: Kind::Choice(&["regex"]),
        default: "\"regex\"",
        doc: "Only `regex`: JSON and logfmt are built in (`json`, `logfmt`).",
    },
    KeyDoc {
        key: "regex",
        kind: Kind::Str,
        default: "-",
        doc: "Required: the pattern, with named groups `(?<name>...)` for fields. Run by a linear-time engine: constructs that need backtracking are refused (docs/user-parsers.md).",
    },
    KeyDoc {
        key: "time_key",
        kind: Kind::Str,
        default: "-",
        doc: "The capture holding the record's time.",
    },
    KeyDoc {
        key: "time_format",
        kind: Kind::Str,
        default: "-",
        doc: "Its strptime layout, as fluent-bit's `Time_Format`.",
    },
    KeyDoc {
        key: "time_keep",
        kind: Kind::Bool,
        default: "false",
        doc: "Keep the time capture as a field too.",
    },
    KeyDoc {
        key: "types",
        kind: Kind::Str,
        default: "-",
        doc: "Capture types, as fluent-bit's `Types`: `code:integer size:integer took:float ok:bool`.",
    },
];

/// A record stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// `stdout`.
    Stdout,
    /// `stderr`.
    Stderr,
}

impl Stream {
    /// The stream a record's `stream` value names.
    pub fn from_bytes(s: &[u8]) -> Option<Stream> {
        match s {
            b"stdout" => Some(Stream::Stdout),
            b"stderr" => Some(Stream::Stderr),
            _ => None,
        }
    }

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// A parser name as written, with the line that wrote it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAt {
    /// The name.
    pub name: String,
    /// Its line (0 for a default).
    pub line: usize,
}

/// One `[[route]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// Its name (`route <n>` when not given).
    pub name: String,
    /// The line of its header.
    pub line: usize,
    /// Glob over the tag.
    pub tag: Option<Glob>,
    /// Glob over the namespace.
    pub namespace: Option<Glob>,
    /// Glob over the pod name.
    pub pod: Option<Glob>,
    /// Glob over the container name.
    pub container: Option<Glob>,
    /// The stream.
    pub stream: Option<Stream>,
    /// Pod labels that must match.
    pub labels: Vec<(String, Glob)>,
    /// Pod annotations that must match.
    pub annotations: Vec<(String, Glob)>,
    /// The parsers, in order.
    pub parsers: Vec<NameAt>,
    /// Keep the raw line (else the top-level `keep_log`).
    pub keep_log: Option<bool>,
    /// Where the parsed fields go.
    pub into: Option<String>,
    /// Its rate limits.
    pub limits: Vec<LimitSpec>,
}

/// One `[[parser]]`: the raw declaration; compiled by
/// [`crate::route`] when the configuration is loaded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParserDecl {
    /// The name.
    pub name: String,
    /// The line of its header.
    pub line: usize,
    /// The pattern.
    pub regex: String,
    /// The capture holding the time.
    pub time_key: Option<String>,
    /// The time's strptime layout.
    pub time_format: Option<String>,
    /// Keep the time capture.
    pub time_keep: bool,
    /// The `Types` string.
    pub types: Option<String>,
}

/// The loaded configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file it was read from (for messages).
    pub file: String,
    /// The parsers for records nothing else claims.
    pub parsers_chain: Vec<NameAt>,
    /// The key holding the line.
    pub log_key: String,
    /// Keep the raw line after a successful parse.
    pub keep_log: bool,
    /// Honour `fluentbit.io/parser...` annotations.
    pub annotations: bool,
    /// Where dynamic keys go.
    pub merge_key: String,
    /// Normalise each record's time.
    pub normalise_time: bool,
    /// The key of the normalised time.
    pub time_key: TimeKey,
    /// Write normalised levels.
    pub levels: bool,
    /// Write message templates.
    pub templates: bool,
    /// The tag prefix of container records.
    pub tag_prefix: String,
    /// A fluent-bit parsers file to load, and the line naming it.
    pub parsers_file: Option<NameAt>,
    /// The filter's `wasm_stack_size`, in bytes.
    pub wasm_stack_size: usize,
    /// The names parsed fields are written under.
    pub schema: Schema,
    /// The routes, in order.
    pub routes: Vec<Route>,
    /// The user parsers.
    pub parsers: Vec<ParserDecl>,
    /// Rate limits over every record of the filter instance (`[[limit]]`).
    pub limits: Vec<LimitSpec>,
}

/// The key the normalised time is written under, kept with the text that
/// goes before every time written under it, `,"<key>":"`, so that a
/// record's time member is one copy and the time. The key has no quote,
/// backslash or control character (see `Loader::record_key`): it is its
/// own JSON string content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeKey {
    key: String,
    head: Vec<u8>,
}

impl TimeKey {
    /// `key`, which the caller has checked as a record key.
    pub fn new(key: &str) -> TimeKey {
        let head = [b",\"", key.as_bytes(), b"\":\""].concat();
        TimeKey {
            key: key.to_string(),
            head,
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.key
    }

    /// `,"<key>":"`: what goes before the time, the comma included.
    pub fn member_head(&self) -> &[u8] {
        &self.head
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::with_parser("auto")
    }
}

impl Config {
    /// The defaults, with `parser` set to one name.
    pub fn with_parser(name: &str) -> Self {
        Config {
            file: FILE_NAME.to_string(),
            parsers_chain: vec![NameAt {
                name: name.to_string(),
                line: 0,
            }],
            log_key: "log".to_string(),
            keep_log: false,
            annotations: true,
            merge_key: "log_processed".to_string(),
            normalise_time: true,
            time_key: TimeKey::new("timestamp"),
            levels: true,
            templates: true,
            tag_prefix: "kube.".to_string(),
            parsers_file: None,
            wasm_stack_size: 8192,
            schema: Schema::Rosetta,
            routes: Vec::new(),
            parsers: Vec::new(),
            limits: Vec::new(),
        }
    }
}

/// A configuration file that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as the module opened it.
    pub file: String,
    /// 1-based line, or 0 when the problem is the whole file.
    pub line: usize,
    /// What is wrong.
    pub problem: ConfigProblem,
}

/// What is wrong with a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigProblem {
    /// The TOML itself is malformed.
    Syntax(toml::Problem),
    /// A key no declaration names.
    UnknownKey(String),
    /// A value of the wrong TOML type.
    WrongType {
        /// The key.
        key: String,
        /// The declared type.
        want: String,
        /// What the file has.
        got: &'static str,
    },
    /// A value outside the declared choices or range.
    OutOfRange {
        /// The key.
        key: String,
        /// The declared type and values.
        want: String,
    },
    /// A required key is missing from a table.
    Missing {
        /// The table (`route`, `parser`).
        table: &'static str,
        /// The key.
        key: &'static str,
    },
    /// Two `[[parser]]` share a name.
    DuplicateParser(String),
    /// A parser name that nothing defines.
    UnknownParser(String),
    /// A user parser that cannot be compiled (the parser's own message).
    BadParser {
        /// The parser.
        name: String,
        /// Why.
        why: String,
    },
    /// A `[[limit]]` that cannot be used.
    Limit(String),
    /// The file could not be read.
    Unreadable(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        match &self.problem {
            ConfigProblem::Syntax(p) => {
                write!(
                    f,
                    "{}",
                    toml::SyntaxError {
                        line: self.line,
                        problem: p.clone()
                    }
                )
            }
            ConfigProblem::UnknownKey(k) => write!(f, "unknown key '{k}'"),
            ConfigProblem::WrongType { key, want, got } => {
                write!(f, "'{key}' must be a {want}, not a {got}")
            }
            ConfigProblem::OutOfRange { key, want } => write!(f, "'{key}' must be a {want}"),
            ConfigProblem::Missing { table, key } => {
                write!(f, "[[{table}]] needs '{key}'")
            }
            ConfigProblem::DuplicateParser(n) => write!(f, "parser '{n}' is defined twice"),
            ConfigProblem::UnknownParser(n) => write!(
                f,
                "unknown parser '{n}' (not built in, not a fluent-bit stock name, not a [[parser]], not in parsers_file)"
            ),
            ConfigProblem::BadParser { name, why } => write!(f, "parser '{name}': {why}"),
            ConfigProblem::Limit(why) => write!(f, "limit: {why}"),
            ConfigProblem::Unreadable(why) => write!(f, "cannot be read: {why}"),
        }
    }
}

/// Reads one table's entries against its declarations.
struct Loader<'f> {
    file: &'f str,
}

impl Loader<'_> {
    fn fail(&self, line: usize, problem: ConfigProblem) -> ConfigError {
        ConfigError {
            file: self.file.to_string(),
            line,
            problem,
        }
    }

    /// The declaration of `key`, or the unknown-key error.
    fn decl(&self, keys: &[KeyDoc], key: &str, entry: &Entry) -> Result<KeyDoc, ConfigError> {
        keys.iter()
            .find(|d| d.key == key)
            .copied()
            .ok_or_else(|| self.fail(entry.line, ConfigProblem::UnknownKey(key.to_string())))
    }

    fn wrong(&self, decl: &KeyDoc, entry: &Entry) -> ConfigError {
        self.fail(
            entry.line,
            ConfigProblem::WrongType {
                key: decl.key.to_string(),
                want: decl.kind.to_string(),
                got: entry.value.type_name(),
            },
        )
    }

    fn out_of_range(&self, decl: &KeyDoc, entry: &Entry, want: String) -> ConfigError {
        self.fail(
            entry.line,
            ConfigProblem::OutOfRange {
                key: decl.key.to_string(),
                want,
            },
        )
    }

    fn string(&self, decl: &KeyDoc, entry: &Entry) -> Result<String, ConfigError> {
        match &entry.value {
            Item::Str(s) if !s.is_empty() => Ok(s.clone()),
            Item::Str(_) => Err(self.out_of_range(decl, entry, "non-empty string".into())),
            _ => Err(self.wrong(decl, entry)),
        }
    }

    /// A string written out as a record key: no quotes, backslashes or
    /// control characters, which would need escaping.
    fn record_key(&self, decl: &KeyDoc, entry: &Entry) -> Result<String, ConfigError> {
        let s = self.string(decl, entry)?;
        if s.chars().any(|c| c == '"' || c == '\\' || c.is_control()) {
            return Err(self.out_of_range(
                decl,
                entry,
                "string without quotes, backslashes or control characters".into(),
            ));
        }
        Ok(s)
    }

    fn size(&self, decl: &KeyDoc, entry: &Entry) -> Result<usize, ConfigError> {
        let bad = || self.out_of_range(decl, entry, "size of 1 byte to 1 GiB".into());
        let bytes = match &entry.value {
            Item::Int(n) => u64::try_from(*n).map_err(|_| bad())?,
            Item::Str(s) => {
                let s = s.trim();
                let (digits, unit) = match s.char_indices().last() {
                    Some((i, 'k' | 'K')) => (s.get(..i).unwrap_or_default(), 1024),
                    Some((i, 'm' | 'M')) => (s.get(..i).unwrap_or_default(), 1024 * 1024),
                    _ => (s, 1),
                };
                let n: u64 = digits.trim().parse().map_err(|_| bad())?;
                n.checked_mul(unit).ok_or_else(bad)?
            }
            _ => return Err(self.wrong(decl, entry)),
        };
        if !(1..=1 << 30).contains(&bytes) {
            return Err(bad());
        }
        usize::try_from(bytes).map_err(|_| bad())
    }

    fn choice(&self, decl: &KeyDoc, entry: &Entry) -> Result<String, ConfigError> {
        let Kind::Choice(list) = decl.kind else {
            return Err(self.wrong(decl, entry));
        };
        match &entry.value {
            Item::Str(s) if list.contains(&s.as_str()) => Ok(s.clone()),
            Item::Str(_) => Err(self.out_of_range(decl, entry, decl.kind.to_string())),
            _ => Err(self.wrong(decl, entry)),
        }
    }

    fn boolean(&self, decl: &KeyDoc, entry: &Entry) -> Result<bool, ConfigError> {
        match entry.value {
            Item::Bool(b) => Ok(b),
            _ => Err(self.wrong(decl, entry)),
        }
    }

    fn glob(&self, decl: &KeyDoc, entry: &Entry) -> Result<Glob, ConfigError> {
        Ok(Glob::new(&self.string(decl, entry)?))
    }

    fn globs(&self, decl: &KeyDoc, entry: &Entry) -> Result<Vec<(String, Glob)>, ConfigError> {
        let Item::Table(table) = &entry.value else {
            return Err(self.wrong(decl, entry));
        };
        let mut out = Vec::with_capacity(table.entries.len());
        for (name, value) in &table.entries {
            match &value.value {
                Item::Str(s) => out.push((name.clone(), Glob::new(s))),
                _ => return Err(self.wrong(decl, value)),
            }
        }
        Ok(out)
    }

    fn chain(&self, decl: &KeyDoc, entry: &Entry) -> Result<Vec<NameAt>, ConfigError> {
        let one = |e: &Entry| match &e.value {
            Item::Str(s) if !s.is_empty() => Ok(NameAt {
                name: s.clone(),
                line: e.line,
            }),
            _ => Err(self.wrong(decl, e)),
        };
        match &entry.value {
            Item::Array(items) if !items.is_empty() => items.iter().map(one).collect(),
            Item::Array(_) => Err(self.out_of_range(decl, entry, "non-empty array".into())),
            _ => Ok(vec![one(entry)?]),
        }
    }

    fn tables<'t>(
        &self,
        entry: &'t Entry,
        decl: &KeyDoc,
    ) -> Result<Vec<(usize, &'t Table)>, ConfigError> {
        let Item::Array(items) = &entry.value else {
            return Err(self.wrong(decl, entry));
        };
        items
            .iter()
            .map(|e| match &e.value {
                Item::Table(t) => Ok((e.line, t)),
                _ => Err(self.wrong(decl, e)),
            })
            .collect()
    }

    fn limits(&self, entry: &Entry) -> Result<Vec<LimitSpec>, ConfigError> {
        limit::specs_from_entry(entry)
            .map_err(|e| self.fail(e.line, ConfigProblem::Limit(e.problem.to_string())))
    }

    fn route(&self, n: usize, line: usize, table: &Table) -> Result<Route, ConfigError> {
        let mut route = Route {
            name: format!("route {n}"),
            line,
            tag: None,
            namespace: None,
            pod: None,
            container: None,
            stream: None,
            labels: Vec::new(),
            annotations: Vec::new(),
            parsers: Vec::new(),
            keep_log: None,
            into: None,
            limits: Vec::new(),
        };
        for (key, entry) in &table.entries {
            let decl = self.decl(ROUTE_KEYS, key, entry)?;
            match decl.key {
                "name" => route.name = self.string(&decl, entry)?,
                "tag" => route.tag = Some(self.glob(&decl, entry)?),
                "namespace" => route.namespace = Some(self.glob(&decl, entry)?),
                "pod" => route.pod = Some(self.glob(&decl, entry)?),
                "container" => route.container = Some(self.glob(&decl, entry)?),
                "stream" => {
                    route.stream = Stream::from_bytes(self.choice(&decl, entry)?.as_bytes())
                }
                "labels" => route.labels = self.globs(&decl, entry)?,
                "annotations" => route.annotations = self.globs(&decl, entry)?,
                "parsers" => route.parsers = self.chain(&decl, entry)?,
                "keep_log" => route.keep_log = Some(self.boolean(&decl, entry)?),
                "limit" => route.limits = self.limits(entry)?,
                _ => route.into = Some(self.record_key(&decl, entry)?),
            }
        }
        if route.parsers.is_empty() {
            return Err(self.fail(
                line,
                ConfigProblem::Missing {
                    table: "route",
                    key: "parsers",
                },
            ));
        }
        Ok(route)
    }

    fn parser(&self, line: usize, table: &Table) -> Result<ParserDecl, ConfigError> {
        let mut p = ParserDecl {
            line,
            ..ParserDecl::default()
        };
        for (key, entry) in &table.entries {
            let decl = self.decl(PARSER_KEYS, key, entry)?;
            match decl.key {
                "name" => p.name = self.string(&decl, entry)?,
                "format" => {
                    self.choice(&decl, entry)?;
                }
                "regex" => p.regex = self.string(&decl, entry)?,
                "time_key" => p.time_key = Some(self.string(&decl, entry)?),
                "time_format" => p.time_format = Some(self.string(&decl, entry)?),
                "time_keep" => p.time_keep = self.boolean(&decl, entry)?,
                _ => p.types = Some(self.string(&decl, entry)?),
            }
        }
        for (key, missing) in [("name", p.name.is_empty()), ("regex", p.regex.is_empty())] {
            if missing {
                return Err(self.fail(
                    line,
                    ConfigProblem::Missing {
                        table: "parser",
                        key,
                    },
                ));
            }
        }
        Ok(p)
    }
}

/// The `[[route]]` and `[[parser]]` declarations, for the loader's lookup.
const ROUTE_TABLE: KeyDoc = KeyDoc {
    key: "route",
    kind: Kind::Tables,
    default: "-",
    doc: "",
};
const PARSER_TABLE: KeyDoc = KeyDoc {
    key: "parser",
    kind: Kind::Tables,
    default: "-",
    doc: "",
};

impl Config {
    /// Reads `text`, the content of `file`.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let loader = Loader { file };
        let table: Table =
            toml::parse(text).map_err(|e| loader.fail(e.line, ConfigProblem::Syntax(e.problem)))?;
        let mut config = Config {
            file: file.to_string(),
            ..Config::default()
        };
        for (key, entry) in &table.entries {
            if key == "route" {
                for (n, (line, t)) in loader.tables(entry, &ROUTE_TABLE)?.into_iter().enumerate() {
                    config.routes.push(loader.route(n + 1, line, t)?);
                }
                continue;
            }
            if key == "limit" {
                config.limits = loader.limits(entry)?;
                continue;
            }
            if key == "parser" {
                for (line, t) in loader.tables(entry, &PARSER_TABLE)? {
                    let p = loader.parser(line, t)?;
                    if config.parsers.iter().any(|q| q.name == p.name) {
                        return Err(loader.fail(line, ConfigProblem::DuplicateParser(p.name)));
                    }
                    config.parsers.push(p);
                }
                continue;
            }
            let decl = loader.decl(TOP_KEYS, key, entry)?;
            match decl.key {
                "parsers" => config.parsers_chain = loader.chain(&decl, entry)?,
                "log_key" => config.log_key = loader.string(&decl, entry)?,
                "keep_log" => config.keep_log = loader.boolean(&decl, entry)?,
                "annotations" => config.annotations = loader.boolean(&decl, entry)?,
                "merge_key" => config.merge_key = loader.record_key(&decl, entry)?,
                "tag_prefix" => config.tag_prefix = loader.string(&decl, entry)?,
                "normalise_time" => config.normalise_time = loader.boolean(&decl, entry)?,
                "levels" => config.levels = loader.boolean(&decl, entry)?,
                "templates" => config.templates = loader.boolean(&decl, entry)?,
                "time_key" => config.time_key = TimeKey::new(&loader.record_key(&decl, entry)?),
                "wasm_stack_size" => config.wasm_stack_size = loader.size(&decl, entry)?,
                "schema" => {
                    config.schema =
                        Schema::from_name(&loader.choice(&decl, entry)?).unwrap_or_default()
                }
                _ => {
                    config.parsers_file = Some(NameAt {
                        name: loader.string(&decl, entry)?,
                        line: entry.line,
                    })
                }
            }
        }
        Ok(config)
    }
}

/// The reference table of one set of keys, as it appears in
/// `docs/configuration.md`.
pub fn reference_table(keys: &[KeyDoc]) -> String {
    let mut s = String::from("| key | type | default | meaning |\n|---|---|---|---|\n");
    for k in keys {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            k.key,
            k.kind,
            if k.default.starts_with('"') || k.default == "true" || k.default == "false" {
                format!("`{}`", k.default)
            } else {
                k.default.to_string()
            },
            k.doc
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse("rosetta.toml", text)
    }

    #[test]
    fn defaults_match_declarations() {
        let text: String = TOP_KEYS
            .iter()
            .filter(|k| k.default != "-")
            .map(|k| format!("{} = {}\n", k.key, k.default))
            .collect();
        let mut want = Config::default();
        want.parsers_chain[0].line = 1;
        assert_eq!(parse(&text), Ok(want));
        assert_eq!(parse(""), Ok(Config::default()));
    }

    #[test]
    fn routes_and_parsers() {
        let c = parse(
            r#"
parsers = ["json", "auto"]
[[route]]
name = "sidecars"
container = "istio-proxy"
parsers = "envoy"

[[route]]
namespace = "shop"
labels = { app = "orders*" }
stream = "stderr"
parsers = ["mine", "logfmt"]
keep_log = true
into = "orders"

[[parser]]
name = "mine"
regex = '^(?<a>\w+) (?<b>\d+)$'
types = "b:integer"
"#,
        )
        .unwrap();
        assert_eq!(
            c.parsers_chain
                .iter()
                .map(|n| n.name.as_str())
                .collect::<Vec<_>>(),
            ["json", "auto"]
        );
        assert_eq!(c.parsers_chain[0].line, 2);
        assert_eq!(c.routes.len(), 2);
        let r = &c.routes[0];
        assert_eq!((r.name.as_str(), r.line), ("sidecars", 3));
        assert_eq!(r.container, Some(Glob::new("istio-proxy")));
        assert_eq!(r.parsers[0].name, "envoy");
        let r = &c.routes[1];
        assert_eq!(r.name, "route 2");
        assert_eq!(r.stream, Some(Stream::Stderr));
        assert_eq!(r.labels, vec![("app".to_string(), Glob::new("orders*"))]);
        assert_eq!(
            (r.keep_log, r.into.as_deref()),
            (Some(true), Some("orders"))
        );
        assert_eq!(c.parsers.len(), 1);
        assert_eq!(c.parsers[0].name, "mine");
        assert_eq!(c.parsers[0].line, 16);
        assert_eq!(c.parsers[0].types.as_deref(), Some("b:integer"));
    }

    #[test]
    fn errors_name_the_line() {
        let bad: &[(&str, &str, &str)] = &[
            (
                "unknown key",
                "\n\nparsr = \"envoy\"\n",
                "rosetta.toml:3: unknown key 'parsr'",
            ),
            (
                "wrong type",
                "keep_log = \"yes\"\n",
                "rosetta.toml:1: 'keep_log' must be a boolean, not a string",
            ),
            (
                "empty key",
                "log_key = \"\"\n",
                "rosetta.toml:1: 'log_key' must be a non-empty string",
            ),
            (
                "empty chain",
                "parsers = []\n",
                "rosetta.toml:1: 'parsers' must be a non-empty array",
            ),
            (
                "chain of numbers",
                "parsers = [1]\n",
                "rosetta.toml:1: 'parsers' must be a string or array of strings (parser names), not a integer",
            ),
            (
                "syntax",
                "parsers = envoy\n",
                "rosetta.toml:1: expected a value",
            ),
            (
                "duplicate",
                "keep_log = true\nkeep_log = false\n",
                "rosetta.toml:2: key 'keep_log' is defined twice",
            ),
            (
                "merge key with a quote",
                "merge_key = 'a\"b'\n",
                "rosetta.toml:1: 'merge_key' must be a string without quotes, backslashes or control characters",
            ),
            (
                "stack size",
                "wasm_stack_size = \"64x\"\n",
                "rosetta.toml:1: 'wasm_stack_size' must be a size of 1 byte to 1 GiB",
            ),
            (
                "route without parsers",
                "[[route]]\ncontainer = \"x\"\n",
                "rosetta.toml:1: [[route]] needs 'parsers'",
            ),
            (
                "unknown route key",
                "[[route]]\ncontainr = \"x\"\nparsers = \"envoy\"\n",
                "rosetta.toml:2: unknown key 'containr'",
            ),
            (
                "bad stream",
                "[[route]]\nstream = \"stdin\"\nparsers = \"envoy\"\n",
                "rosetta.toml:2: 'stream' must be a string: \"stdout\", \"stderr\"",
            ),
            (
                "labels not globs",
                "[[route]]\nlabels = { app = 1 }\nparsers = \"envoy\"\n",
                "rosetta.toml:2: 'labels' must be a table of string globs, not a integer",
            ),
            (
                "parser without regex",
                "[[parser]]\nname = \"x\"\n",
                "rosetta.toml:1: [[parser]] needs 'regex'",
            ),
            (
                "parser not a table",
                "parser = \"envoy\"\n",
                "rosetta.toml:1: 'parser' must be a array of tables, not a string",
            ),
            (
                "parser twice",
                "[[parser]]\nname = \"x\"\nregex = \"a\"\n[[parser]]\nname = \"x\"\nregex = \"b\"\n",
                "rosetta.toml:4: parser 'x' is defined twice",
            ),
            (
                "parser format",
                "[[parser]]\nname = \"x\"\nregex = \"a\"\nformat = \"json\"\n",
                "rosetta.toml:4: 'format' must be a string: \"regex\"",
            ),
        ];
        for (name, text, want) in bad {
            let e = parse(text).unwrap_err();
            assert_eq!(e.to_string(), *want, "{name}");
        }
    }

    #[test]
    fn reference_documentation_is_current() {
        let doc = include_str!("../docs/configuration.md");
        for keys in [TOP_KEYS, ROUTE_KEYS, PARSER_KEYS] {
            let table = reference_table(keys);
            assert!(
                doc.contains(&table),
                "docs/configuration.md is out of date; it must contain:\n{table}"
            );
        }
    }
}
