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
//!
//! The Envoy/Istio text layouts and ingress-nginx's write their fields
//! straight into the output's JSON ([`Rendered`]), after the input's
//! members when no input key can collide with a field; otherwise, or when
//! the line turns out suspect (it is then kept in its place), the object is
//! put together around the fields set aside. Both paths give the output the
//! list path ([`Fields`], `write_parsed`) gives, byte for byte.

use crate::config::{Config, ConfigError, Parser};
use crate::formats::{self, Fields, KeyTable, Suspicion, Value, relifetime};
use crate::msgpack;
use crate::out::{Out, Rendered};
use crate::record::{self, Kind, Member, Quotes};
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
    /// The buffer parsers write their fields into as JSON (see
    /// [`Rendered`]) and the line's quote positions, kept for the same
    /// reason.
    rendered: Cell<Vec<u8>>,
    quotes: Cell<Vec<u32>>,
}

impl Filter {
    /// A filter running `config` (or reporting why it could not be loaded).
    pub fn new(config: Result<Config, ConfigError>) -> Self {
        Filter {
            config,
            defaults: Config::default(),
            members: Cell::new(Vec::with_capacity(8)),
            fields: Cell::new(Vec::with_capacity(32)),
            rendered: Cell::new(Vec::new()),
            quotes: Cell::new(Vec::with_capacity(record::QUOTES_MAX)),
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
        // The line's quotes are found while the record is checked.
        let mut quotes = Quotes::reusing(self.quotes.take());
        self.run_indexed(entry, record, members, &mut quotes, buf);
        self.quotes.set(quotes.into_list());
    }

    fn run_indexed<'r>(
        &self,
        entry: Entry,
        record: &'r [u8],
        members: &mut Vec<Member<'r>>,
        quotes: &mut Quotes,
        buf: &mut Vec<u8>,
    ) {
        let log_key = match (entry, &self.config) {
            (Entry::Filter, Ok(c)) => c.log_key.as_bytes(),
            _ => self.defaults.log_key.as_bytes(),
        };
        if let Err(e) = record::members_indexed(record, members, log_key, quotes) {
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
        // The indexed member is the one `line_member` would find first.
        let Some(line_at) = quotes.member().or_else(|| line_member(members, config)) else {
            let why = format!("no string '{}' to parse", config.log_key);
            return annotate(members, keys::REASON, &why, buf);
        };
        let line = members.get(line_at).map(|m| m.value).unwrap_or_default();
        // Envoy's and Istio's text layouts and ingress-nginx's: written
        // straight into JSON (Envoy's JSON layout goes through the list).
        let text = formats::trim_line_end(line);
        let direct = match parser {
            Parser::Envoy if text.first() != Some(&b'{') => Some(&formats::envoy::keys::TABLE),
            Parser::NginxIngress => Some(&formats::nginx_ingress::keys::TABLE),
            _ => None,
        };
        if let Some(table) = direct {
            let quotes = quotes.of(line_at);
            let parse = |rendered: Rendered| render(parser, line, text, quotes, rendered);
            if let Some(at) = members_first(members, line_at, table, config.keep_log, buf) {
                // The usual record: the fields go straight after the members.
                let rendered = Rendered::after(std::mem::take(buf), at, table, line.len());
                let (rendered, outcome) = parse(rendered);
                let suspect = rendered.suspect();
                match outcome {
                    Err(mismatch) => {
                        *buf = rendered.into_buf();
                        annotate(members, keys::REASON, &mismatch.to_string(), buf);
                    }
                    Ok(_) if suspect.is_none() || config.keep_log => {
                        *buf = rendered.into_buf();
                        let mut out = Out::resume(buf, buf.len(), true);
                        if let Some(s) = suspect {
                            out.str(keys::SUSPECT, s.as_str());
                        }
                        out.finish();
                    }
                    // Suspect: the line is kept after all, in its place among
                    // the members (rare): the fields are set aside and the
                    // members written again.
                    Ok(_) => {
                        let mut fields = self.rendered.take();
                        fields.clear();
                        fields.extend_from_slice(rendered.members());
                        let written = rendered.keys();
                        *buf = rendered.into_buf();
                        let parsed = Parsed {
                            has_name: &|key| written.has_name(key),
                            suspect,
                            room: fields.len(),
                        };
                        write_members(members, line_at, parsed, config.keep_log, buf, |out| {
                            out.rendered(&fields)
                        });
                        self.rendered.set(fields);
                    }
                }
                return;
            }
            let rendered = Rendered::reusing(self.rendered.take(), table, line.len());
            let (rendered, outcome) = parse(rendered);
            match outcome {
                Ok(_) => write_rendered(members, line_at, &rendered, config.keep_log, buf),
                Err(mismatch) => annotate(members, keys::REASON, &mismatch.to_string(), buf),
            }
            self.rendered.set(rendered.into_buf());
            return;
        }
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

/// Runs the parser that writes straight into JSON on `line` (`text`: the
/// line trimmed once). The rendering is taken and given back by value: held
/// in a local for the whole parse, its write position and flags stay out of
/// memory.
#[inline(never)]
fn render<'a>(
    parser: Parser,
    line: &'a [u8],
    text: &'a [u8],
    quotes: Option<&[u32]>,
    mut rendered: Rendered,
) -> (Rendered, formats::Outcome) {
    let outcome = match parser {
        // `parse` trims the line before `parse_text`, which trims it again:
        // so does this.
        Parser::Envoy => formats::envoy::parse_text_into(text, quotes, &mut rendered),
        _ => formats::nginx_ingress::parse_into(line, quotes, &mut rendered),
    };
    (rendered, outcome)
}

/// Writes `{` and the input's members as [`write_parsed`] will for a line
/// that is not suspect, when no member's key can collide with one of
/// `table`'s (so none is renamed whatever the parser writes) and at least
/// one member is written (returning where the object goes on); `None`,
/// writing nothing, otherwise. The parsed
/// fields can then be rendered straight after the members.
fn members_first(
    members: &[Member<'_>],
    line_at: usize,
    table: &KeyTable,
    keep_log: bool,
    buf: &mut Vec<u8>,
) -> Option<usize> {
    let written = |i: usize| i != line_at || keep_log;
    let any = (0..members.len()).any(written);
    let collides = members
        .iter()
        .enumerate()
        .any(|(i, m)| written(i) && table.find(m.key).is_some());
    if !any || collides {
        return None;
    }
    let size = members.iter().map(|m| m.span.len() + 1).sum::<usize>() + 64;
    let mut out = Out::begin(buf, size);
    for (i, m) in members.iter().enumerate() {
        if written(i) {
            out.raw_member(m.span);
        }
    }
    Some(out.position())
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
    let parsed = Parsed {
        has_name: &|key| fields.has_name(key),
        suspect: fields.suspect,
        room: fields.len() * 48,
    };
    write_members(members, line_at, parsed, keep_log, buf, |out| {
        out.values(fields.as_slice())
    });
}

/// [`write_parsed`] for fields already rendered as JSON.
fn write_rendered(
    members: &[Member<'_>],
    line_at: usize,
    rendered: &Rendered,
    keep_log: bool,
    buf: &mut Vec<u8>,
) {
    let text = rendered.members();
    let parsed = Parsed {
        has_name: &|key| rendered.has_name(key),
        suspect: rendered.suspect(),
        room: text.len(),
    };
    write_members(members, line_at, parsed, keep_log, buf, |out| {
        out.rendered(text)
    });
}

/// What the output of a parsed line needs to know of its fields.
struct Parsed<'p> {
    /// Whether a field has this name.
    has_name: &'p dyn Fn(&[u8]) -> bool,
    suspect: Option<Suspicion>,
    /// About how many bytes the fields take.
    room: usize,
}

/// The input's members (the line dropped unless kept), an input member
/// whose key is a field's kept as `rosetta.original.<key>`, then the
/// fields (written by `fields`), then `rosetta.suspect`.
fn write_members(
    members: &[Member<'_>],
    line_at: usize,
    parsed: Parsed<'_>,
    keep_log: bool,
    buf: &mut Vec<u8>,
    fields: impl FnOnce(&mut Out<'_>),
) {
    let size = members.iter().map(|m| m.span.len() + 1).sum::<usize>() * 2 + parsed.room + 64;
    let mut out = Out::begin(buf, size);
    let keep_line = keep_log || parsed.suspect.is_some();
    for (i, m) in members.iter().enumerate() {
        if i == line_at && !keep_line {
            continue;
        }
        if (parsed.has_name)(m.key) {
            out.raw_value_prefixed_key(keys::ORIGINAL_PREFIX, m.key, m.json);
            continue;
        }
        out.raw_member(m.span);
    }
    fields(&mut out);
    if let Some(s) = parsed.suspect {
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

    /// The list path for every line: the parser fills [`Fields`] and
    /// [`write_parsed`] writes them, as before the direct writer existed.
    fn through_the_list(entry: Entry, configured: &Config, record: &[u8]) -> Vec<u8> {
        let defaults = Config::default();
        let (config, parser) = match entry {
            Entry::Envoy => (&defaults, Parser::Envoy),
            Entry::NginxIngress => (&defaults, Parser::NginxIngress),
            Entry::Filter => (configured, configured.parser),
        };
        let mut members = Vec::new();
        let mut buf = Vec::new();
        if record::members(record, &mut members).is_err() {
            let filter = Filter::new(Ok(configured.clone()));
            filter.run(entry, record, &mut buf);
            return buf;
        }
        let Some(line_at) = line_member(&members, config) else {
            let why = format!("no string '{}' to parse", config.log_key);
            annotate(&members, keys::REASON, &why, &mut buf);
            return buf;
        };
        let line = members[line_at].value;
        let mut fields = Fields::new();
        let outcome = match parser {
            Parser::NginxIngress => formats::nginx_ingress::parse(line, &mut fields),
            _ => formats::envoy::parse(line, &mut fields),
        };
        match outcome {
            Ok(_) => write_parsed(&members, line_at, &fields, config.keep_log, &mut buf),
            Err(m) => annotate(&members, keys::REASON, &m.to_string(), &mut buf),
        }
        buf
    }

    /// A small xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    /// `raw` as JSON string content, escaped the way fluent-bit does.
    fn escaped(raw: &str) -> String {
        let json = serde_json::to_string(raw).unwrap();
        json[1..json.len() - 1].to_string()
    }

    const ISTIO: &str = r#"[2024-05-06T07:08:09.010Z] "GET /a/b?c=d HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{connection_failure} - "TLS_error:_x" 123 456 789 101 "10.0.0.1, 10.0.0.2" "Mozilla/5.0 (X11) x" "6513270e-a6a3" "svc:9080" "10.1.2.3:8080" outbound|8080||svc.ns.svc.cluster.local 10.1.2.4:40000 10.1.2.5:8080 10.1.2.6:50000 sni.example route-1"#;
    const ENVOY: &str = r#"[2024-05-06T07:08:09.010Z] "GET /a HTTP/2" 200 - 12 34 56 7 "-" "curl/8" "abc" "svc:80" "10.1.2.3:8080""#;
    const ENVOY_JSON: &str = r#"{"start_time":"2024-05-06T07:08:09.010Z","method":"GET","path":"/a?b=\"c\"","response_code":200,"bytes_sent":"12","upstream_host":"10.1.2.3:8080","route_name":"r"}"#;
    const INGRESS: &str = r#"10.128.0.95 - - [27/Nov/2026:08:10:00 +0000] "GET /api/v1/products/0/reviews HTTP/1.1" 200 4685 "-" "kube-probe/1.28" 220 0.479 [shop-productpage-9080] [] 10.44.1.27:9080, 10.44.1.28:9080 7195, 12 0.765, 0.1 502, 200 a906922fa4b9a9c4b753a1eef0836085"#;
    /// What a client (or a broken line) may put anywhere.
    const PIECES: &[&str] = &[
        "\"",
        "\" \"",
        " ",
        "  ",
        "\\",
        "-",
        "[",
        "]",
        "\"-\"",
        " 200 - ",
        "\n",
        "\t",
        "é",
        "😀",
        "\u{1}",
        "x",
        "10.0.0.9:1",
        "[::1]:80",
        "0",
        "007",
        "99999999999999999999",
        ":",
        ",",
        " : ",
        "2024-13-06T07:08:09.010Z",
        "2024-05-06t07:08:09Z",
        "+02:00",
        "\" 1 2 3 4 \"",
    ];

    /// A line made from `base` by a few random edits: pieces inserted,
    /// bytes deleted, the line cut short.
    fn mutated(rng: &mut Rng, base: &str) -> String {
        let mut line: Vec<char> = base.chars().collect();
        for _ in 0..rng.below(4) {
            let at = rng.below(line.len() + 1);
            match rng.below(3) {
                0 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    line.splice(at..at, piece.chars());
                }
                1 if at < line.len() => {
                    line.remove(at);
                }
                _ => line.truncate(at.max(1)),
            }
        }
        line.into_iter().collect()
    }

    #[test]
    fn the_direct_writer_agrees_with_the_list_path() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        let envelopes = [
            r#"{"log":"LINE\n","stream":"stdout","time":"2026-11-27T08:10:00.100Z"}"#,
            r#"{"time":"t","log":"LINE","path":1,"method":"m","route_name":{"a":[1]}}"#,
            r#"{"log":"LINE"}"#,
            r#"{"message":"LINE","host":"h","code":[1],"upstream_addr":null}"#,
            r#" { "log" : "LINE" , "stream" : "stderr" } "#,
            r#"{"stream":"stdout","log":"LINE","kubernetes":{"pod_name":"p","labels":{"app":"a"}}}"#,
        ];
        let configured = [
            Config {
                parser: Parser::Envoy,
                keep_log: true,
                ..Config::default()
            },
            Config {
                parser: Parser::NginxIngress,
                log_key: "message".to_string(),
                ..Config::default()
            },
        ];
        let runs = [
            (
                Entry::Envoy,
                Filter::new(Ok(Config::default())),
                Config::default(),
            ),
            (
                Entry::NginxIngress,
                Filter::new(Ok(Config::default())),
                Config::default(),
            ),
            (
                Entry::Filter,
                Filter::new(Ok(configured[0].clone())),
                configured[0].clone(),
            ),
            (
                Entry::Filter,
                Filter::new(Ok(configured[1].clone())),
                configured[1].clone(),
            ),
        ];
        // More quotes than the record check keeps: the parsers search
        // the line themselves.
        let many_quotes = ISTIO.replace("Mozilla/5.0 (X11) x", &"\" \"".repeat(30));
        let mut buf = Vec::new();
        for round in 0..6000 {
            let base = [ISTIO, ENVOY, INGRESS, many_quotes.as_str(), ENVOY_JSON][round % 5];
            let line = if round < 5 {
                base.to_string()
            } else {
                mutated(&mut rng, base)
            };
            let envelope = envelopes[rng.below(envelopes.len())];
            let record = envelope.replace("LINE", &escaped(&line));
            for (entry, filter, config) in &runs {
                filter.run(*entry, record.as_bytes(), &mut buf);
                let want = through_the_list(*entry, config, record.as_bytes());
                assert_eq!(
                    String::from_utf8_lossy(&buf),
                    String::from_utf8_lossy(&want),
                    "{entry:?} ({config:?}) on {record}"
                );
            }
        }
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
