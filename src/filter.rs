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
//! | `rosetta.toml` unusable | the input's members plus `rosetta.error` (file, line, problem) |
//! | not a JSON object (invalid JSON, an array, a number, empty) | `{"rosetta.raw": <the input as a string>, "rosetta.error": "invalid-json: ..."}` |
//! | a msgpack map (`event_format msgpack`) | see [`crate::msgpack`] |
//!
//! A parsed field never collides with an input key: an input member whose
//! key a parser also writes is kept as `rosetta.original.<key>`.

use crate::config::{Config, ConfigError, Parser};
use crate::formats::{self, Fields, Value, relifetime};
use crate::msgpack;
use crate::out::Out;
use crate::record::{self, Kind, Member};
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
    /// Prefix for an input member whose key a parser also writes.
    pub const ORIGINAL_PREFIX: &str = "rosetta.original.";
}

/// One filter instance's settings, as loaded once.
pub struct Filter {
    config: Result<Config, ConfigError>,
    defaults: Config,
    /// The per-record lists' allocations, kept empty between records so
    /// that a record costs no allocation once the lists have grown.
    members: Cell<Vec<Member<'static>>>,
    fields: Cell<Vec<(&'static str, Value<'static>)>>,
}

impl Filter {
    /// A filter running `config` (or reporting why it could not be loaded).
    pub fn new(config: Result<Config, ConfigError>) -> Self {
        Filter {
            config,
            defaults: Config::default(),
            members: Cell::new(Vec::with_capacity(8)),
            fields: Cell::new(Vec::with_capacity(32)),
        }
    }

    /// Runs one record through `entry` and leaves the output in `buf`
    /// (without a trailing NUL).
    pub fn run(&self, entry: Entry, record: &[u8], buf: &mut Vec<u8>) {
        if msgpack::looks_like_map(record) {
            let mut json = Vec::with_capacity(record.len() * 2);
            let mut result = Vec::with_capacity(record.len() * 2);
            match msgpack::to_json(record, &mut json) {
                Ok(()) => {
                    self.run_json(entry, &json, &mut result);
                    msgpack::from_json(&result, buf);
                }
                Err(e) => msgpack::undecodable(record, &e, buf),
            }
            return;
        }
        self.run_json(entry, record, buf);
    }

    fn run_json(&self, entry: Entry, record: &[u8], buf: &mut Vec<u8>) {
        let mut members = relifetime(self.members.take());
        self.run_members(entry, record, &mut members, buf);
        self.members.set(relifetime(members));
    }

    fn run_members<'r>(
        &self,
        entry: Entry,
        record: &'r [u8],
        members: &mut Vec<Member<'r>>,
        buf: &mut Vec<u8>,
    ) {
        if let Err(e) = record::members(record, members) {
            let mut out = Out::begin(buf, record.len() * 2 + 128);
            out.bytes(keys::RAW, record);
            out.str(keys::ERROR, &format!("invalid-json: {e}"));
            out.finish();
            return;
        }
        let (config, parser) = match entry {
            Entry::Envoy => (&self.defaults, Parser::Envoy),
            Entry::NginxIngress => (&self.defaults, Parser::NginxIngress),
            Entry::Filter => match &self.config {
                Ok(c) => (c, c.parser),
                Err(e) => return annotate(members, keys::ERROR, &e.to_string(), buf),
            },
        };
        if parser == Parser::None {
            buf.clear();
            buf.extend_from_slice(record);
            return;
        }
        let Some(line_at) = line_member(members, config) else {
            let why = format!("no string '{}' to parse", config.log_key);
            return annotate(members, keys::REASON, &why, buf);
        };
        let line = members.get(line_at).map(|m| m.value).unwrap_or_default();
        let mut fields = Fields::reusing(self.fields.take());
        let outcome = match parser {
            Parser::Envoy => formats::envoy::parse(line, &mut fields),
            Parser::NginxIngress => formats::nginx_ingress::parse(line, &mut fields),
            Parser::None => {
                self.fields.set(fields.into_list());
                return;
            }
        };
        match outcome {
            Ok(_) => write_parsed(members, line_at, &fields, config.keep_log, buf),
            Err(mismatch) => annotate(members, keys::REASON, &mismatch.to_string(), buf),
        }
        self.fields.set(fields.into_list());
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

/// The input's members plus one string field.
fn annotate(members: &[Member<'_>], key: &str, value: &str, buf: &mut Vec<u8>) {
    let size = members.iter().map(|m| m.span.len() + 1).sum::<usize>() + value.len() * 2 + 64;
    let mut out = Out::begin(buf, size);
    for m in members {
        if m.key != key.as_bytes() {
            out.raw_member(m.span);
        }
    }
    out.str(key, value);
    out.finish();
}

fn write_parsed(
    members: &[Member<'_>],
    line_at: usize,
    fields: &Fields<'_>,
    keep_log: bool,
    buf: &mut Vec<u8>,
) {
    let size = members.iter().map(|m| m.span.len() + 1).sum::<usize>() * 2 + fields.len() * 48 + 64;
    let mut out = Out::begin(buf, size);
    let keep_line = keep_log || fields.suspect.is_some();
    for (i, m) in members.iter().enumerate() {
        if i == line_at && !keep_line {
            continue;
        }
        if fields.has_name(m.key) {
            let mut key = Vec::with_capacity(keys::ORIGINAL_PREFIX.len() + m.key.len());
            key.extend_from_slice(keys::ORIGINAL_PREFIX.as_bytes());
            key.extend_from_slice(m.key);
            out.raw_value_escaped_key(&key, m.json);
            continue;
        }
        out.raw_member(m.span);
    }
    out.values(fields.as_slice());
    if let Some(s) = fields.suspect {
        out.str(keys::SUSPECT, s.as_str());
    }
    out.finish();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(entry: Entry, record: &str) -> String {
        let filter = Filter::new(Ok(Config::default()));
        let mut buf = Vec::new();
        // Twice: the second run reuses the lists the first one grew.
        filter.run(entry, record.as_bytes(), &mut buf);
        filter.run(entry, record.as_bytes(), &mut buf);
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
