//! The per-record path: record bytes in, one JSON object (or, in msgpack
//! mode, one msgpack map) out. Safe code; the ABI layer owns the buffers.
//!
//! Every input yields exactly one output object, never an empty one:
//!
//! | input | output |
//! |---|---|
//! | a JSON object, nothing to do | the input, byte for byte |
//! | a JSON object, line parsed | the input's members (the line's dropped unless `keep_log`), then the parsed fields |
//! | parsed, but part of the line is ambiguous | as above, the line kept, plus `rosetta.suspect` |
//! | a line no parser recognises | the input's members plus `rosetta.reason` |
//! | a partial CRI line (`P`) | the input's members plus `rosetta.partial: true`, unparsed |
//! | an annotation naming an unknown parser | the input's members plus `rosetta.reason` (and one stderr line per name) |
//! | `rosetta.toml` unusable | the input's members plus `rosetta.error` (file, line, problem) |
//! | not a JSON object (invalid JSON, an array, a number, empty) | `{"rosetta.raw": <the input as a string>, "rosetta.error": "invalid-json: ..."}` |
//! | a msgpack map (`event_format msgpack`) | see [`crate::msgpack`] |
//!
//! Which parsers a record gets is [`crate::route`]'s business; the raw CRI
//! envelope is [`crate::envelope`]'s.
//!
//! A parsed field never collides with an input key: an input member whose
//! key a parser also writes is kept as `rosetta.original.<key>`.
//!
//! With `schema = "ecs"`, a fixed-schema parser's top-level fields are
//! written under their ECS names, values converted where ECS says so, and
//! the line `log` as `event.original` ([`crate::schema`]).

use crate::config::{Config, ConfigError};
use crate::envelope;
use crate::formats::auto::{self, Format, Parsed};
use crate::formats::{self, Fields, Mismatch, Pairs, Value, relifetime};
use crate::meaning::{self, Found};
use crate::msgpack;
use crate::out::Out;
use crate::record::{self, Kind, Member};
use crate::route::{self, Builtin, Decision, DecisionCache, ParserRef, Router};
use crate::schema::{self, Schema};
use crate::time::Timestamp;
use std::cell::Cell;

/// Which export was called.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    /// `rosetta_filter`: does what `rosetta.toml` says.
    Filter,
    /// `rosetta_envoy`: the Envoy family, no configuration file needed.
    Envoy,
    /// `rosetta_nginx_ingress`: ingress-nginx, no configuration file needed.
    NginxIngress,
}

/// The record fields rosetta itself writes.
pub mod keys {
    /// Why a record is not what it claims (bad JSON, bad configuration).
    pub const ERROR: &str = "rosetta.error";
    /// Why a line was left unparsed.
    pub const REASON: &str = "rosetta.reason";
    /// Why a parsed line is not fully trusted.
    pub const SUSPECT: &str = "rosetta.suspect";
    /// The input, as a string, when it was not a JSON object.
    pub const RAW: &str = "rosetta.raw";
    /// Set on a partial CRI line, which is passed on unparsed.
    pub const PARTIAL: &str = "rosetta.partial";
    /// Prefix for an input member whose key a parser also writes.
    pub const ORIGINAL_PREFIX: &str = "rosetta.original.";
}

/// The most parser names an instance reports unknown on stderr; past it,
/// records still carry the reason but nothing more is printed.
const MAX_WARNED: usize = 256;

/// A loaded configuration with its parser names resolved.
struct Setup {
    config: Config,
    router: Router,
}

/// What applies to one record.
struct Plan<'c> {
    /// `None` for the fixed entry points.
    route: Option<&'c str>,
    chain: &'c [ParserRef],
    keep_log: bool,
    into: Option<&'c str>,
}

/// One filter instance's settings, as loaded once.
pub struct Filter {
    setup: Result<Setup, ConfigError>,
    defaults: Config,
    /// The per-record lists' allocations, kept empty between records so
    /// that a record costs no allocation once the lists have grown.
    members: Cell<Vec<Member<'static>>>,
    inner: Cell<Vec<Member<'static>>>,
    fields: Cell<Vec<(&'static str, Value<'static>)>>,
    pairs: Cell<Vec<(&'static [u8], Value<'static>)>>,
    /// One unescaping buffer per parser of the longest chain.
    scratch: Cell<Vec<Vec<u8>>>,
    /// Lines for fluent-bit's stderr, taken by the ABI after each call.
    notices: Cell<Vec<String>>,
    /// Parser names already reported unknown.
    warned: Cell<Vec<Vec<u8>>>,
    /// Routing decisions per writer.
    ///
    /// State is held in `Cell`s and taken out for the time it is used,
    /// never in a `RefCell`: a trap while a `RefCell` is borrowed would
    /// leave it borrowed for good, and fluent-bit goes on calling the same
    /// instance. A trap with the state taken out merely loses it.
    cache: Cell<DecisionCache>,
}

const ENVOY: &[ParserRef] = &[ParserRef::Builtin(Builtin::Format(Format::Envoy))];
const NGINX_INGRESS: &[ParserRef] = &[ParserRef::Builtin(Builtin::Format(Format::NginxIngress))];

impl Filter {
    /// A filter running `config` (or reporting why it could not be loaded).
    pub fn new(config: Result<Config, ConfigError>) -> Self {
        let setup = config.and_then(|config| {
            let router = Router::new(&config.file, &config, &[])?;
            Ok(Setup { config, router })
        });
        Filter {
            setup,
            defaults: Config::default(),
            members: Cell::new(Vec::with_capacity(8)),
            inner: Cell::new(Vec::new()),
            fields: Cell::new(Vec::with_capacity(32)),
            pairs: Cell::new(Vec::new()),
            scratch: Cell::new(Vec::new()),
            notices: Cell::new(Vec::new()),
            warned: Cell::new(Vec::new()),
            cache: Cell::new(DecisionCache::default()),
        }
    }

    /// Why the configuration cannot be used, if it cannot.
    pub fn config_error(&self) -> Option<&ConfigError> {
        self.setup.as_ref().err()
    }

    /// The stderr lines produced since the last call.
    pub fn take_notices(&self) -> Vec<String> {
        self.notices.take()
    }

    /// Runs one record (tagged `tag`) through `entry` and leaves the output
    /// in `buf` (without a trailing NUL).
    ///
    /// `time` is the record's event time as fluent-bit passes it: the
    /// reference for times in the line that lack a year.
    pub fn run(&self, entry: Entry, tag: &[u8], time: Timestamp, record: &[u8], buf: &mut Vec<u8>) {
        if msgpack::looks_like_map(record) {
            let mut json = Vec::with_capacity(record.len() * 2);
            let mut result = Vec::with_capacity(record.len() * 2);
            match msgpack::to_json(record, &mut json) {
                Ok(()) => {
                    self.run_json(entry, tag, time, &json, &mut result);
                    msgpack::from_json(&result, buf);
                }
                Err(e) => msgpack::undecodable(record, &e, buf),
            }
            return;
        }
        self.run_json(entry, tag, time, record, buf);
    }

    fn run_json(
        &self,
        entry: Entry,
        tag: &[u8],
        time: Timestamp,
        record: &[u8],
        buf: &mut Vec<u8>,
    ) {
        let mut members = relifetime(self.members.take());
        let mut inner = relifetime(self.inner.take());
        self.run_members(entry, tag, time, record, &mut members, &mut inner, buf);
        self.inner.set(relifetime(inner));
        self.members.set(relifetime(members));
    }

    #[allow(clippy::too_many_arguments)]
    fn run_members<'r>(
        &self,
        entry: Entry,
        tag: &'r [u8],
        time: Timestamp,
        record: &'r [u8],
        members: &mut Vec<Member<'r>>,
        inner: &mut Vec<Member<'r>>,
        buf: &mut Vec<u8>,
    ) {
        if let Err(e) = record::members(record, members) {
            let mut out = Out::begin(buf, record.len() * 2 + 128);
            out.bytes(keys::RAW, record);
            out.str(keys::ERROR, &format!("invalid-json: {e}"));
            out.finish();
            return;
        }
        let (config, plan) = match entry {
            Entry::Envoy | Entry::NginxIngress => {
                let chain = if entry == Entry::Envoy {
                    ENVOY
                } else {
                    NGINX_INGRESS
                };
                let plan = Plan {
                    route: None,
                    chain,
                    keep_log: false,
                    into: None,
                };
                (&self.defaults, plan)
            }
            Entry::Filter => {
                let setup = match &self.setup {
                    Ok(s) => s,
                    Err(e) => {
                        let why = e.to_string();
                        return annotate(members, keys::ERROR, &why, Schema::Rosetta, buf);
                    }
                };
                match self.plan(setup, tag, members, inner) {
                    Ok(plan) => (&setup.config, plan),
                    Err(why) => {
                        return annotate(members, keys::REASON, &why, setup.config.schema, buf);
                    }
                }
            }
        };
        if plan.chain.first() == Some(&ParserRef::Builtin(Builtin::None)) {
            buf.clear();
            buf.extend_from_slice(record);
            return;
        }
        let Some(line_at) = line_member(members, config) else {
            let why = format!("no string '{}' to parse", config.log_key);
            return annotate(members, keys::REASON, &why, config.schema, buf);
        };
        let line = members.get(line_at).map(|m| m.value).unwrap_or_default();
        let logtag_partial = members
            .iter()
            .any(|m| m.key == b"logtag" && m.kind == Kind::String && m.value == b"P");
        let cri = envelope::split_cri(line);
        if logtag_partial || cri.is_some_and(|c| c.partial) {
            return annotate_bool(members, keys::PARTIAL, config.schema, buf);
        }
        let line = cri.map_or(line, |c| c.message);
        let mut fields = Fields::reusing(self.fields.take());
        let mut pairs = Pairs::reusing(self.pairs.take());
        let mut scratch = self.scratch.take();
        if scratch.len() < plan.chain.len() {
            scratch.resize_with(plan.chain.len(), Vec::new);
        }
        match apply(plan.chain, line, &mut scratch, &mut fields, &mut pairs) {
            Ok(parsed) => {
                let when = match entry {
                    Entry::Filter if config.normalise_time => {
                        inner.clear();
                        let mut object = relifetime(std::mem::take(inner));
                        let found = meaning::time_of(parsed, &fields, &pairs, time, &mut object);
                        *inner = relifetime(object);
                        found
                    }
                    _ => None,
                };
                let got = Got {
                    parsed,
                    fields: &fields,
                    pairs: &pairs,
                    cri,
                    when,
                };
                write_parsed(members, line_at, &got, &plan, config, buf);
            }
            Err(mismatch) => {
                let why = match plan.route {
                    Some(route) => format!("{route}: {mismatch}"),
                    None => mismatch.to_string(),
                };
                annotate(members, keys::REASON, &why, config.schema, buf);
            }
        }
        self.fields.set(fields.into_list());
        self.pairs.set(pairs.into_list());
        self.scratch.set(scratch);
    }

    /// What `rosetta_filter` applies to a record: an annotation, else the
    /// first matching route, else the default chain (see
    /// [`crate::route`]), remembered per writer. `Err` is the reason
    /// written when an annotation names an unknown parser.
    fn plan<'s, 'r>(
        &self,
        setup: &'s Setup,
        tag: &'r [u8],
        members: &[Member<'r>],
        inner: &mut Vec<Member<'r>>,
    ) -> Result<Plan<'s>, String> {
        let config = &setup.config;
        let member = |key: &[u8], kind: Kind| {
            members
                .iter()
                .find(|m| m.key == key && m.kind == kind)
                .map(|m| m.json)
        };
        let key = DecisionCache::key(
            tag,
            member(b"stream", Kind::String),
            member(b"kubernetes", Kind::Object),
        );
        let mut cache = self.cache.take();
        let decided = match cache.get(key) {
            Some(d) => Ok(d),
            None => {
                let id = route::identify(tag, members, config.tag_prefix.as_bytes(), inner);
                let decided = setup.router.decide(&id, config.annotations, inner);
                if let Ok(d) = decided {
                    cache.put(key, d);
                }
                decided
            }
        };
        self.cache.set(cache);
        let decision = match decided {
            Ok(d) => d,
            Err((key, value)) => return Err(self.unknown_annotation(key, value)),
        };
        let chain = setup.router.chain(decision);
        Ok(match decision {
            Decision::Annotation(_) => Plan {
                route: Some("annotation"),
                chain,
                keep_log: config.keep_log,
                into: None,
            },
            Decision::Route(i) => {
                let route = setup.router.routes.get(i).map(|r| &r.route);
                Plan {
                    route: route.map(|r| r.name.as_str()),
                    chain,
                    keep_log: route.and_then(|r| r.keep_log).unwrap_or(config.keep_log),
                    into: route.and_then(|r| r.into.as_deref()),
                }
            }
            Decision::Default => Plan {
                route: Some("default"),
                chain,
                keep_log: config.keep_log,
                into: None,
            },
        })
    }

    /// The reason for an annotation naming no parser; printed once per name.
    fn unknown_annotation(&self, key: &[u8], value: &[u8]) -> String {
        let why = format!(
            "unknown parser '{}' in annotation '{}'",
            String::from_utf8_lossy(value),
            String::from_utf8_lossy(key)
        );
        let mut warned = self.warned.take();
        if warned.len() < MAX_WARNED && !warned.iter().any(|w| w == value) {
            warned.push(value.to_vec());
            let mut notices = self.notices.take();
            notices.push(format!("[rosetta] {why}; records pass through unparsed"));
            self.notices.set(notices);
        }
        self.warned.set(warned);
        why
    }
}

/// Runs the chain: the first parser that reads the line wins; when none
/// does, the last one's mismatch. Each parser gets its own unescaping
/// buffer (`scratch` has one per parser), so that what a failed attempt
/// left there cannot be mistaken for the winner's.
fn apply<'a>(
    chain: &[ParserRef],
    line: &'a [u8],
    scratch: &'a mut [Vec<u8>],
    fields: &mut Fields<'a>,
    pairs: &mut Pairs<'a>,
) -> Result<Parsed<'a>, Mismatch> {
    let mut last = Mismatch {
        format: "none",
        expected: "a parser",
        at: 0,
    };
    for (p, scratch) in chain.iter().zip(scratch.iter_mut()) {
        fields.clear();
        pairs.clear();
        let outcome = match *p {
            // The family, text and JSON told apart per line, as
            // `rosetta_envoy` applies it.
            ParserRef::Builtin(Builtin::Format(Format::Envoy)) => {
                formats::envoy::parse_with_scratch(line, scratch, fields).map(Parsed::Fields)
            }
            ParserRef::Builtin(Builtin::Format(f)) => {
                auto::parse_as(f, line, scratch, fields, pairs)
            }
            ParserRef::Builtin(Builtin::Auto) => auto::parse(line, scratch, fields, pairs),
            ParserRef::Builtin(Builtin::None) | ParserRef::User(_) => continue,
        };
        match outcome {
            Ok(parsed) => return Ok(parsed),
            Err(m) => last = m,
        }
    }
    Err(last)
}

/// What a successful chain produced, for the writer.
struct Got<'g, 'a> {
    parsed: Parsed<'a>,
    fields: &'g Fields<'a>,
    pairs: &'g Pairs<'a>,
    cri: Option<envelope::Cri<'a>>,
    /// The record's normalised time, when it is written.
    when: Option<Found>,
}

impl Got<'_, '_> {
    fn suspect(&self) -> Option<formats::Suspicion> {
        match self.parsed {
            Parsed::Fields(_) => self.fields.suspect,
            Parsed::Pairs(_) => self.pairs.suspect,
            Parsed::Object(_) => None,
        }
    }
}

/// The index of the member holding the line: `log_key`, else `message`.
fn line_member(members: &[Member<'_>], config: &Config) -> Option<usize> {
    let find = |key: &[u8]| {
        members
            .iter()
            .position(|m| m.key == key && m.kind == Kind::String)
    };
    find(config.log_key.as_bytes()).or_else(|| find(b"message"))
}

fn members_size(members: &[Member<'_>]) -> usize {
    members.iter().map(|m| m.span.len() + 1).sum::<usize>()
}

/// The input's members plus one string field.
fn annotate(members: &[Member<'_>], key: &str, value: &str, schema: Schema, buf: &mut Vec<u8>) {
    let mut out = Out::begin(buf, members_size(members) + value.len() * 2 + 64);
    for m in members {
        if m.key != key.as_bytes() {
            write_member(&mut out, m, schema);
        }
    }
    out.str(key, value);
    out.finish();
}

/// The input's members plus `key: true`.
fn annotate_bool(members: &[Member<'_>], key: &str, schema: Schema, buf: &mut Vec<u8>) {
    let mut out = Out::begin(buf, members_size(members) + 64);
    for m in members {
        if m.key != key.as_bytes() {
            write_member(&mut out, m, schema);
        }
    }
    out.bool(key, true);
    out.finish();
}

fn write_parsed(
    members: &[Member<'_>],
    line_at: usize,
    got: &Got<'_, '_>,
    plan: &Plan<'_>,
    config: &Config,
    buf: &mut Vec<u8>,
) {
    let object_len = match got.parsed {
        Parsed::Object(text) => text.len(),
        _ => 0,
    };
    let size =
        members_size(members) * 2 + (got.fields.len() + got.pairs.len()) * 48 + object_len + 128;
    let mut out = Out::begin(buf, size);
    let suspect = got
        .suspect()
        .or_else(|| schema_unfit(config.schema, got, plan));
    let keep_line = plan.keep_log || suspect.is_some();
    // Where the parsed members go: a fixed-schema parser's at the top level
    // unless the route says `into`; dynamic keys (JSON, logfmt) always
    // under one key, so that they cannot collide with the record's.
    let container = match (got.parsed, plan.into) {
        (_, Some(into)) => Some(into),
        (Parsed::Fields(_), None) => None,
        (_, None) => Some(config.merge_key.as_str()),
    };
    let time_key = got.when.map(|_| config.time_key.as_str());
    let taken = |key: &[u8]| {
        time_key.is_some_and(|t| key == t.as_bytes())
            || match container {
                Some(c) => key == c.as_bytes(),
                None => got.fields.has_name(key) || schema_taken(config.schema, got, key),
            }
    };
    for (i, m) in members.iter().enumerate() {
        if i == line_at && !keep_line {
            continue;
        }
        if taken(m.key) {
            let mut key = Vec::with_capacity(keys::ORIGINAL_PREFIX.len() + m.key.len());
            key.extend_from_slice(keys::ORIGINAL_PREFIX.as_bytes());
            key.extend_from_slice(m.key);
            out.raw_value_escaped_key(&key, m.json);
            continue;
        }
        write_member(&mut out, m, config.schema);
    }
    match (got.parsed, container) {
        (Parsed::Object(text), Some(c)) => out.raw_value(c, text),
        (Parsed::Pairs(_), Some(c)) => {
            out.open(c);
            out.values(got.pairs.as_slice());
            out.close();
        }
        (_, Some(c)) => {
            out.open(c);
            out.values(got.fields.as_slice());
            out.close();
        }
        (_, None) => write_fields(&mut out, got, config.schema),
    }
    match (got.when, time_key) {
        (Some(Found::Time(t)), Some(key)) => out.values(&[(key, Value::Time(t))]),
        (Some(Found::Unreadable { field, why }), _) => out.str(
            keys::REASON,
            &format!("time: '{field}' is not a time: {why}"),
        ),
        _ => {}
    }
    // A raw CRI envelope's stream and time, where nothing else has them.
    if let Some(cri) = got.cri {
        let free =
            |key: &str| !members.iter().any(|m| m.key == key.as_bytes()) && !taken(key.as_bytes());
        if free("stream") {
            out.str("stream", cri.stream.as_str());
        }
        if free("time") {
            out.bytes("time", cri.time);
        }
    }
    if let Some(s) = suspect {
        out.str(keys::SUSPECT, s.as_str());
    }
    out.finish();
}

/// An input member, under its name in `schema` (under `ecs`, the line
/// `log` is `event.original`: `log` is the object of `log.level`).
fn write_member(out: &mut Out<'_>, m: &Member<'_>, schema: Schema) {
    match schema::input_key(schema, m.key, m.kind == Kind::String) {
        Some(key) => out.raw_value_escaped_key(key.as_bytes(), m.json),
        None => out.raw_member(m.span),
    }
}

/// A fixed-schema parser's fields at the top level, under their names in
/// `schema` (see [`crate::schema::ecs`]); a converted value that does not
/// fit its type is left out, and [`schema_unfit`] has flagged the record.
fn write_fields(out: &mut Out<'_>, got: &Got<'_, '_>, schema: Schema) {
    match (schema, got.parsed) {
        (Schema::Ecs, Parsed::Fields(format)) => {
            for &(name, value) in got.fields.iter() {
                if let Some(field) = schema::ecs(format, name, value) {
                    out.values(&[field]);
                }
            }
        }
        _ => out.values(got.fields.as_slice()),
    }
}

/// `out-of-range` when a value `schema` converts for the top level does not
/// fit its type.
fn schema_unfit(schema: Schema, got: &Got<'_, '_>, plan: &Plan<'_>) -> Option<formats::Suspicion> {
    let (Schema::Ecs, Parsed::Fields(format), None) = (schema, got.parsed, plan.into) else {
        return None;
    };
    let unfit = got
        .fields
        .iter()
        .any(|&(n, v)| schema::ecs(format, n, v).is_none());
    unfit.then_some(formats::Suspicion::OutOfRange)
}

/// Whether a parsed field is written under `key` in `schema` (besides its
/// own name).
fn schema_taken(schema: Schema, got: &Got<'_, '_>, key: &[u8]) -> bool {
    let (Schema::Ecs, Parsed::Fields(format)) = (schema, got.parsed) else {
        return false;
    };
    got.fields
        .iter()
        .any(|&(n, _)| schema::ecs_name(format, n).is_some_and(|e| e.as_bytes() == key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(entry: Entry, record: &str) -> String {
        let filter = Filter::new(Ok(Config::default()));
        let mut buf = Vec::new();
        // Twice: the second run reuses the lists the first one grew.
        let time = Timestamp::new(0, 0, 0).unwrap();
        filter.run(entry, b"t", time, record.as_bytes(), &mut buf);
        filter.run(entry, b"t", time, record.as_bytes(), &mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn colliding_input_keys_are_kept_as_originals() {
        let line = r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#;
        let record = format!(
            r#"{{"path":1,"log":"{line}","time":"t","route_name":{{"a":[1]}},"method":"m"}}"#
        );
        let out = run(Entry::Envoy, &record);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(value["rosetta.original.path"], 1);
        assert_eq!(value["rosetta.original.route_name"]["a"][0], 1);
        assert_eq!(value["rosetta.original.method"], "m");
        assert_eq!(value["time"], "t");
        assert_eq!(value["path"], "/x");
        assert_eq!(value["method"], "GET");
        assert_eq!(value["route_name"], "r");
        assert_eq!(value["start_time"], "2024-01-02T03:04:05.006Z");
        assert_eq!(value["downstream_remote_address_port"], 3);
        assert!(value.get("rosetta.original.time").is_none());
        assert!(value.get("log").is_none());
        assert!(out.starts_with(r#"{"rosetta.original.path":1,"time":"t","#));
    }
}
