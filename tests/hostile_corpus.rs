//! The hostile corpus: records made to break a log filter, run through the
//! built module the way fluent-bit calls it, each compared with the exact
//! output it must give, and each held to invariants that do not depend on
//! that expected text.
//!
//! The cases are in `tests/hostile/*.jsonl`, one file per area, one JSON
//! object per line (lines starting with `#` are comments):
//!
//! - `name`: what the case is; `why`: the attack or edge it tries;
//!   `attack`: its classes, from [`ATTACKS`];
//! - `function`: `rosetta_filter`, `rosetta_envoy` or
//!   `rosetta_nginx_ingress`; `toml` (optional): the `rosetta.toml` the
//!   filter reads (none: `rosetta_filter` runs its defaults, `parsers =
//!   "auto"`); `tag` (optional, default [`TAG`]); `event_time` (optional
//!   `[seconds, nanoseconds]`, default [`EVENT_TIME`]); `msgpack` (optional
//!   `true`: `event_format msgpack`, the record sent as msgpack);
//! - the record, one of:
//!   - `log` (a string) or `log_hex` (its bytes, for bytes that are not
//!     UTF-8): a docker json-file record `{"log", "stream", "time"}`
//!     (`stream` and `time` optional members of the case), with the
//!     runtime's trailing newline unless `newline` is `false`, then the
//!     members of `extra` (optional, in order);
//!   - `record`: the record body, in order, duplicates allowed;
//!   - `raw` or `raw_hex`: the bytes handed to the module as they are,
//!     for what fluent-bit's encoder does not write (a record that is not
//!     one JSON object, a float it writes as `inf`);
//!
//!   A `record` or `extra` is a fluent-bit record body: it is rendered by
//!   the host crate's copy of fluent-bit's encoder (or packed as msgpack),
//!   never written by hand. Within any of these, a one-member object whose
//!   key starts with `$` builds a value: `{"$hex": "ff00"}` (a string of
//!   those bytes), `{"$bin": "ff00"}` (a msgpack bin), `{"$repeat":
//!   [piece, n]}`, `{"$concat": [part, ...]}`, `{"$seq": [n, template,
//!   separator]}` (the template with `{i}` replaced by 0..n, joined),
//!   `{"$float": "inf"}`, `{"$uint": "18446744073709551615"}`,
//!   `{"$int": "-9223372036854775808"}`; a `"$hex:6bff"` key is a key of
//!   those bytes, and a `"$many": [n, key template, value]` member of an
//!   object stands for n members;
//! - `truth` (optional, with `format`): the values of the fields of an
//!   access or server log that the client does not control, as the server
//!   wrote them;
//! - `rewritten` (optional): top-level input keys whose values the module
//!   changes on purpose (in msgpack mode: a non-string key, an ext value,
//!   a NaN or infinite float, which JSON cannot hold);
//! - `expect`: the exact output: a JSON string (or, for long outputs, an
//!   array of strings, `{"$repeat": ...}` runs and the case's own
//!   `{"$seq": ...}` texts, concatenated), `{"hex": ...}`
//!   for bytes that are not UTF-8, `{"msgpack_hex": ..., "json": ...}` in
//!   msgpack mode (`json` is for the reader; the bytes are compared), or
//!   `{"dropped": why}` / `{"error": message}` for what fluent-bit does
//!   with an answer it cannot use.
//!
//! Invariants checked on every case, whatever `expect` says:
//!
//! 1. fluent-bit keeps the answer, and it is exactly one JSON object by
//!    RFC 8259 (strictly: UTF-8, no raw control characters, no trailing
//!    text), read here by a reader of this file's own, with no depth limit;
//! 2. no top-level key appears twice (unless the input had it twice and
//!    the record passed through);
//! 3. every top-level input member comes out byte for byte, except the
//!    line (`log`, `message` or `log_key`) once parsed, a member moved to
//!    `rosetta.original.<key>` (byte for byte) because a parser writes
//!    that key, and rosetta's own `rosetta.*` keys, which it overwrites; a
//!    record that is not one JSON object (or holds a number no double
//!    can hold, which fluent-bit cannot read) comes back as `rosetta.raw` (the
//!    input, as a string) and `rosetta.error`;
//! 4. rosetta's own fields have the types the README gives them, and a
//!    `timestamp` rosetta adds is RFC 3339 UTC;
//! 5. with `truth`: each field the client does not control is the true
//!    value or absent, absent only when the line is marked
//!    (`rosetta.suspect`) or left unparsed (`rosetta.reason`), and never
//!    present when the server did not write it: no client text reaches
//!    it (the invariant of `tests/access_log_injection.rs`, through the
//!    module).
//!
//! In msgpack mode the answer must be one msgpack map with no 0x00 byte
//! (or the documented `msgpack-nul` wrapper, whose `rosetta.record` is
//! then checked as above), and every input entry must come out with the
//! same value.
//!
//! `tests/hostile/known_bugs.jsonl` holds cases whose output is wrong
//! today, each with `bug` (what is wrong) and `got` (the output when it
//! was filed): they are run and reported, never failed on; a case whose
//! output has changed is reported so that it can be checked and moved.
//!
//! `ROSETTA_BLESS=1` rewrites every `expect` (and every known bug's `got`)
//! with the module's current output. Read each rewritten line before
//! keeping it: blessing a wrong output hides a bug.

mod common;

use common::{Sandboxed, host_with};
use rosetta_host::{Body, EventFormat, HostConfig, Verdict, from_json_object};
use rosetta_host::{to_fluent_bit_json, to_msgpack};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The attack classes a case may name.
const ATTACKS: &[&str] = &[
    "quote-injection",
    "crlf-injection",
    "ansi-escape",
    "nul-byte",
    "invalid-utf8",
    "bidi-override",
    "overlong",
    "deep-nesting",
    "numeric-overflow",
    "absurd-timestamp",
    "many-keys",
    "duplicate-keys",
    "empty",
    "malformed",
    "key-collision",
    "routing",
    "envelope",
];

/// The tag of a case that names none: an application container.
const TAG: &str = "kube.shop.web-6d8f9b7c4-x2x9z.web";
/// fluent-bit's event time of a case that names none: 2026-11-27T08:10:00.1Z.
const EVENT_TIME: (u32, u32) = (1_795_767_000, 100_000_000);
/// The docker `time` of a `log` case that names none.
const DOCKER_TIME: &str = "2026-11-27T08:10:00.100Z";
/// Outputs longer than this are written to `expect` with runs folded.
const FOLD_ABOVE: usize = 2048;

// ---------------------------------------------------------------------
// Fields no client controls, per format.

fn controlled(format: &str) -> &'static [&'static str] {
    match format {
        "istio" | "envoy-json" => &[
            "start_time",
            "protocol",
            "response_code",
            "response_flags",
            "response_code_details",
            "connection_termination_details",
            "upstream_transport_failure_reason",
            "bytes_received",
            "bytes_sent",
            "duration",
            "x_envoy_upstream_service_time",
            "upstream_host",
            "upstream_host_ip",
            "upstream_host_port",
            "upstream_cluster",
            "upstream_local_address",
            "upstream_local_address_ip",
            "upstream_local_address_port",
            "downstream_local_address",
            "downstream_local_address_ip",
            "downstream_local_address_port",
            "downstream_remote_address",
            "downstream_remote_address_ip",
            "downstream_remote_address_port",
            "route_name",
            "timestamp",
        ],
        "envoy" => &[
            "start_time",
            "protocol",
            "code",
            "response_flags",
            "bytes_received",
            "bytes_sent",
            "duration",
            "x_envoy_upstream_service_time",
            "upstream_host",
            "upstream_host_ip",
            "upstream_host_port",
            "timestamp",
        ],
        "nginx-ingress" => &[
            "host",
            "real_ip",
            "time",
            "code",
            "size",
            "request_length",
            "request_time",
            "proxy_upstream_name",
            "proxy_alternative_upstream_name",
            "upstream_addr",
            "upstream_addr_ip",
            "upstream_addr_port",
            "upstream_addr_list",
            "upstream_response_length",
            "upstream_response_length_list",
            "upstream_response_time",
            "upstream_response_time_list",
            "upstream_status",
            "upstream_status_list",
            "timestamp",
        ],
        "apache" => &["host", "time", "code", "size", "timestamp"],
        "nginx" => &["remote", "time", "code", "size", "timestamp"],
        "nginx-error" => &[
            "time",
            "level",
            "pid",
            "tid",
            "connection",
            "client",
            "server",
            "timestamp",
        ],
        "apache-error" => &[
            "time",
            "module",
            "level",
            "pid",
            "tid",
            "error",
            "client",
            "client_ip",
            "client_port",
            "timestamp",
        ],
        "syslog" => &[
            "pri",
            "time",
            "host",
            "ident",
            "pid",
            "msgid",
            "extradata",
            "timestamp",
        ],
        "klog" => &["level", "time", "pid", "source", "timestamp"],
        "go-log" => &["time", "source", "timestamp"],
        other => panic!("no list of controlled fields for format {other:?}"),
    }
}

// ---------------------------------------------------------------------
// A strict JSON reader: RFC 8259, no depth limit, no recursion.

/// One top-level member of an object: its key decoded, where its value
/// lies in the text.
#[derive(Clone, Debug)]
struct Member<'a> {
    key: String,
    value: &'a [u8],
    start: usize,
    end: usize,
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn hex4(b: &[u8], i: usize) -> Result<u32, String> {
    let digits = b.get(i..i + 4).ok_or(format!("short \\u escape at {i}"))?;
    let text = std::str::from_utf8(digits).map_err(|_| format!("bad \\u escape at {i}"))?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return Err(format!("bad \\u escape at {i}"));
    }
    u32::from_str_radix(text, 16).map_err(|_| format!("bad \\u escape at {i}"))
}

/// Reads the string starting at `i` (its quote); returns the position past
/// it and its decoded text (lone surrogates as U+FFFD).
fn string_at(b: &[u8], i: usize) -> Result<(usize, String), String> {
    if b.get(i) != Some(&b'"') {
        return Err(format!("expected a string at {i}"));
    }
    let mut out: Vec<u8> = Vec::new();
    let mut i = i + 1;
    loop {
        match b.get(i) {
            None => return Err("unterminated string".into()),
            Some(b'"') => {
                return Ok((i + 1, String::from_utf8_lossy(&out).into_owned()));
            }
            Some(b'\\') => {
                let c = match b.get(i + 1) {
                    Some(b'"') => '"',
                    Some(b'\\') => '\\',
                    Some(b'/') => '/',
                    Some(b'b') => '\u{8}',
                    Some(b'f') => '\u{c}',
                    Some(b'n') => '\n',
                    Some(b'r') => '\r',
                    Some(b't') => '\t',
                    Some(b'u') => {
                        let hi = hex4(b, i + 2)?;
                        i += 6;
                        let c = if (0xD800..0xDC00).contains(&hi)
                            && b.get(i) == Some(&b'\\')
                            && b.get(i + 1) == Some(&b'u')
                            && hex4(b, i + 2).is_ok_and(|lo| (0xDC00..0xE000).contains(&lo))
                        {
                            let lo = hex4(b, i + 2)?;
                            i += 6;
                            char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                        } else {
                            char::from_u32(hi)
                        };
                        let mut utf8 = [0u8; 4];
                        out.extend_from_slice(
                            c.unwrap_or('\u{fffd}').encode_utf8(&mut utf8).as_bytes(),
                        );
                        continue;
                    }
                    _ => return Err(format!("invalid escape at {i}")),
                };
                let mut utf8 = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                i += 2;
            }
            Some(&c) if c < 0x20 => return Err(format!("raw control byte {c:#04x} at {i}")),
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

fn number_at(b: &[u8], mut i: usize) -> Result<usize, String> {
    let start = i;
    let digits = |b: &[u8], mut i: usize| {
        let from = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i, i - from)
    };
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(b, i).0,
        _ => return Err(format!("bad number at {start}")),
    }
    if b.get(i) == Some(&b'.') {
        let (j, n) = digits(b, i + 1);
        if n == 0 {
            return Err(format!("bad fraction at {start}"));
        }
        i = j;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let (j, n) = digits(b, i);
        if n == 0 {
            return Err(format!("bad exponent at {start}"));
        }
        i = j;
    }
    Ok(i)
}

/// Reads `"key" :` at `i`; returns the position after the colon.
fn key_colon(b: &[u8], i: usize) -> Result<usize, String> {
    let (i, _) = string_at(b, ws(b, i))?;
    let i = ws(b, i);
    if b.get(i) != Some(&b':') {
        return Err(format!("expected ':' at {i}"));
    }
    Ok(i + 1)
}

/// Skips one value starting at or after `i`, with an explicit stack.
fn value_end(b: &[u8], i: usize) -> Result<usize, String> {
    let mut open: Vec<u8> = Vec::new();
    let mut i = i;
    loop {
        i = ws(b, i);
        match b.get(i) {
            Some(b'"') => i = string_at(b, i)?.0,
            Some(b'{') => {
                i = ws(b, i + 1);
                if b.get(i) == Some(&b'}') {
                    i += 1;
                } else {
                    open.push(b'}');
                    i = key_colon(b, i)?;
                    continue;
                }
            }
            Some(b'[') => {
                i = ws(b, i + 1);
                if b.get(i) == Some(&b']') {
                    i += 1;
                } else {
                    open.push(b']');
                    continue;
                }
            }
            Some(b't') if b.get(i..i + 4) == Some(b"true") => i += 4,
            Some(b'f') if b.get(i..i + 5) == Some(b"false") => i += 5,
            Some(b'n') if b.get(i..i + 4) == Some(b"null") => i += 4,
            Some(b'-' | b'0'..=b'9') => i = number_at(b, i)?,
            _ => return Err(format!("expected a value at {i}")),
        }
        loop {
            let Some(&close) = open.last() else {
                return Ok(i);
            };
            i = ws(b, i);
            match b.get(i) {
                Some(b',') => {
                    i += 1;
                    if close == b'}' {
                        i = key_colon(b, i)?;
                    }
                    break;
                }
                Some(&c) if c == close => {
                    open.pop();
                    i += 1;
                }
                _ => return Err(format!("expected ',' or '{}' at {i}", close as char)),
            }
        }
    }
}

/// The members of `text` if it is exactly one JSON object (RFC 8259).
fn strict_object(text: &[u8]) -> Result<Vec<Member<'_>>, String> {
    read_object(text, true)
}

/// [`strict_object`], checking that the text is UTF-8 only if `utf8`.
fn read_object(text: &[u8], utf8: bool) -> Result<Vec<Member<'_>>, String> {
    if utf8 && let Err(e) = std::str::from_utf8(text) {
        return Err(format!("not UTF-8: {e}"));
    }
    let b = text;
    let mut i = ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return Err(format!("expected '{{' at {i}"));
    }
    let mut members = Vec::new();
    i = ws(b, i + 1);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            let (after_key, key) = string_at(b, ws(b, i))?;
            let j = ws(b, after_key);
            if b.get(j) != Some(&b':') {
                return Err(format!("expected ':' at {j}"));
            }
            let start = ws(b, j + 1);
            let end = value_end(b, start)?;
            members.push(Member {
                key,
                value: &b[start..end],
                start,
                end,
            });
            i = ws(b, end);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return Err(format!("expected ',' or '}}' at {i}")),
            }
        }
    }
    let i = ws(b, i);
    if i != b.len() {
        return Err(format!("text after the object at {i}"));
    }
    Ok(members)
}

// ---------------------------------------------------------------------
// Reading cases.

fn hex_decode(text: &str) -> Vec<u8> {
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    assert!(clean.len().is_multiple_of(2), "odd hex: {text}");
    clean
        .chunks(2)
        .map(|pair| {
            let s = std::str::from_utf8(pair).expect("hex is ASCII");
            u8::from_str_radix(s, 16).unwrap_or_else(|e| panic!("bad hex {s}: {e}"))
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn text(body: &Body) -> String {
    match body.as_bytes() {
        Some(bytes) => String::from_utf8(bytes.to_vec()).expect("case text is UTF-8"),
        None => panic!("expected a string, got {body:?}"),
    }
}

fn count(body: &Body) -> usize {
    match body {
        Body::UInt(n) => *n as usize,
        Body::Int(n) => *n as usize,
        _ => panic!("expected a count, got {body:?}"),
    }
}

/// The bytes of a built string value.
fn built_bytes(body: &Body) -> Vec<u8> {
    match expand(body) {
        Body::Str(bytes) | Body::Bin(bytes) => bytes,
        other => panic!("expected a string, got {other:?}"),
    }
}

/// A case value with its `$` constructs built.
fn expand(body: &Body) -> Body {
    match body {
        Body::Map(entries) => {
            if let [(Body::Str(key), arg)] = entries.as_slice()
                && key.first() == Some(&b'$')
                && key.as_slice() != b"$many"
            {
                return construct(&String::from_utf8_lossy(key), arg);
            }
            let mut out = Vec::new();
            for (key, value) in entries {
                if let Some(h) = key.as_bytes().and_then(|k| k.strip_prefix(b"$hex:")) {
                    out.push((
                        Body::Str(hex_decode(&String::from_utf8_lossy(h))),
                        expand(value),
                    ));
                } else if key.as_bytes() == Some(b"$many") {
                    let Body::Array(args) = value else {
                        panic!("$many takes [n, key, value]")
                    };
                    let [n, key, value] = args.as_slice() else {
                        panic!("$many takes [n, key, value]")
                    };
                    let (key, value) = (text(key), expand(value));
                    for i in 0..count(n) {
                        out.push((
                            Body::str(&key.replace("{i}", &i.to_string())),
                            value.clone(),
                        ));
                    }
                } else {
                    out.push((expand(key), expand(value)));
                }
            }
            Body::Map(out)
        }
        Body::Array(items) => Body::Array(items.iter().map(expand).collect()),
        other => other.clone(),
    }
}

fn construct(name: &str, arg: &Body) -> Body {
    let args = || match arg {
        Body::Array(items) => items.clone(),
        _ => panic!("{name} takes an array, got {arg:?}"),
    };
    match name {
        "$hex" => Body::Str(hex_decode(&text(arg))),
        "$bin" => Body::Bin(hex_decode(&text(arg))),
        "$repeat" => {
            let args = args();
            let [piece, n] = args.as_slice() else {
                panic!("$repeat takes [piece, n]")
            };
            Body::Str(built_bytes(piece).repeat(count(n)))
        }
        "$concat" => Body::Str(args().iter().flat_map(built_bytes).collect()),
        "$seq" => {
            let args = args();
            let [n, template, separator] = args.as_slice() else {
                panic!("$seq takes [n, template, separator]")
            };
            let (template, separator) = (built_bytes(template), built_bytes(separator));
            let mut out = Vec::new();
            for i in 0..count(n) {
                if i > 0 {
                    out.extend_from_slice(&separator);
                }
                let t = String::from_utf8_lossy(&template).replace("{i}", &i.to_string());
                out.extend_from_slice(t.as_bytes());
            }
            Body::Str(out)
        }
        "$float" => Body::Float(match text(arg).as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            "nan" => f64::NAN,
            other => other.parse().expect("$float"),
        }),
        "$uint" => Body::UInt(text(arg).parse().expect("$uint")),
        "$int" => Body::Int(text(arg).parse().expect("$int")),
        other => panic!("unknown construct {other}"),
    }
}

/// What the module is handed.
struct Input {
    bytes: Vec<u8>,
    /// The body, when the record is one (not `raw`).
    body: Option<Body>,
}

struct Case {
    /// `file:line name`.
    label: String,
    attacks: Vec<String>,
    function: String,
    toml: Option<String>,
    msgpack: bool,
    tag: String,
    event_time: (u32, u32),
    input: Input,
    truth: Option<(String, Vec<(String, serde_json::Value)>)>,
    /// Top-level input keys whose values the module documents it changes
    /// (msgpack values JSON cannot hold); exempt from invariant 3.
    rewritten: Vec<String>,
    /// `expect`, or a known bug's `got`.
    expect: Option<Body>,
    /// A known bug's description.
    bug: Option<String>,
    /// The case's `$seq` and `$many` texts, to fold long outputs with.
    seqs: Vec<(usize, String, String)>,
    /// The case's line and where its `expect`/`got` value lies in it.
    line: String,
    expect_span: Option<(usize, usize)>,
}

fn read_input(case: &Body, msgpack: bool) -> Input {
    if let Some(raw) = case.get("raw_hex") {
        return Input {
            bytes: hex_decode(&String::from_utf8_lossy(&built_bytes(raw))),
            body: None,
        };
    }
    if let Some(raw) = case.get("raw") {
        return Input {
            bytes: built_bytes(raw),
            body: None,
        };
    }
    let body = match case.get("record") {
        Some(record) => expand(record),
        None => {
            let mut log = match (case.get("log"), case.get("log_hex")) {
                (Some(log), None) => built_bytes(log),
                (None, Some(h)) => hex_decode(&text(h)),
                _ => panic!("a case needs one of record, log, log_hex, raw, raw_hex"),
            };
            if !matches!(case.get("newline"), Some(Body::Bool(false))) {
                log.push(b'\n');
            }
            let mut members = vec![
                (Body::str("log"), Body::Str(log)),
                (
                    Body::str("stream"),
                    case.get("stream").map_or(Body::str("stdout"), expand),
                ),
                (
                    Body::str("time"),
                    case.get("time").map_or(Body::str(DOCKER_TIME), expand),
                ),
            ];
            if let Some(Body::Map(extra)) = case.get("extra").map(expand) {
                members.extend(extra);
            }
            Body::Map(members)
        }
    };
    let bytes = if msgpack {
        to_msgpack(&body)
    } else {
        to_fluent_bit_json(&body)
    };
    Input {
        bytes,
        body: Some(body),
    }
}

fn read_file(path: &Path) -> Vec<Case> {
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
    let file = file.unwrap_or_default();
    let known_bugs = file == "known_bugs.jsonl";
    let content = std::fs::read_to_string(path).expect("hostile corpus file");
    let mut cases = Vec::new();
    for (n, line) in content.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{file}:{}", n + 1);
        let case =
            from_json_object(line.as_bytes()).unwrap_or_else(|| panic!("{at}: not a JSON object"));
        let members = strict_object(line.as_bytes()).unwrap_or_else(|e| panic!("{at}: {e}"));
        let get_text = |key: &str| case.get(key).map(text);
        let name = get_text("name").unwrap_or_else(|| panic!("{at}: no name"));
        let label = format!("{at} {name:?}");
        assert!(get_text("why").is_some(), "{label}: no why");
        let attacks: Vec<String> = match case.get("attack") {
            Some(Body::Array(items)) => items.iter().map(text).collect(),
            _ => panic!("{label}: no attack list"),
        };
        for a in &attacks {
            assert!(ATTACKS.contains(&a.as_str()), "{label}: unknown attack {a}");
        }
        let function = get_text("function").unwrap_or_else(|| panic!("{label}: no function"));
        let msgpack = matches!(case.get("msgpack"), Some(Body::Bool(true)));
        let event_time = match case.get("event_time") {
            Some(Body::Array(t)) => match t.as_slice() {
                [s, ns] => (count(s) as u32, count(ns) as u32),
                _ => panic!("{label}: event_time is [seconds, nanoseconds]"),
            },
            _ => EVENT_TIME,
        };
        let rewritten = match case.get("rewritten") {
            Some(Body::Array(keys)) => keys.iter().map(text).collect(),
            _ => Vec::new(),
        };
        let truth = case.get("truth").map(|t| {
            let format =
                get_text("format").unwrap_or_else(|| panic!("{label}: truth without format"));
            let Body::Map(entries) = t else {
                panic!("{label}: truth is an object")
            };
            let values = entries
                .iter()
                .map(|(k, v)| {
                    let json = to_fluent_bit_json(&expand(v));
                    (text(k), serde_json::from_slice(&json).expect("truth value"))
                })
                .collect();
            (format, values)
        });
        let key = if known_bugs { "got" } else { "expect" };
        let expect_span = members
            .iter()
            .find(|m| m.key == key)
            .map(|m| (m.start, m.end));
        let bug = get_text("bug");
        let mut seqs = Vec::new();
        sequences(&case, &mut seqs);
        assert_eq!(
            known_bugs,
            bug.is_some(),
            "{label}: `bug` belongs in known_bugs.jsonl only"
        );
        cases.push(Case {
            label,
            attacks,
            tag: case
                .get("tag")
                .map(|t| text(&expand(t)))
                .unwrap_or_else(|| TAG.to_string()),
            toml: get_text("toml"),
            input: read_input(&case, msgpack),
            function,
            msgpack,
            event_time,
            truth,
            rewritten,
            expect: case.get(key).cloned(),
            bug,
            seqs,
            line: line.to_string(),
            expect_span,
        });
    }
    cases
}

// ---------------------------------------------------------------------
// What came out.

/// The module's answer as fluent-bit takes it.
enum Got {
    Kept(Vec<u8>),
    Dropped(String),
    Error(String),
}

/// The JSON text of a string, every non-ASCII character escaped, so that
/// the corpus files show control, bidi and private-use characters as
/// escapes.
fn ascii_json(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (' '..='~').contains(&c) => out.push(c),
            c => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
        }
    }
    out.push('"');
    out
}

/// A piece of a long expected output.
enum Piece {
    Text(String),
    /// `{"$repeat": [unit, n]}`.
    Repeat(String, usize),
    /// `{"$seq": [n, template, separator]}`.
    Seq(usize, String, String),
}

/// The `$seq` and `$many` constructs of a case, as `(n, template,
/// separator)`, each also as it reads once escaped as JSON string content:
/// the forms in which they can reappear in an output.
fn sequences(body: &Body, out: &mut Vec<(usize, String, String)>) {
    let escaped = |s: &str| {
        let json = to_fluent_bit_json(&Body::str(s));
        String::from_utf8_lossy(json.get(1..json.len() - 1).unwrap_or_default()).into_owned()
    };
    let push = |out: &mut Vec<_>, n: usize, template: String, separator: String| {
        out.push((n, escaped(&template), escaped(&separator)));
        out.push((n, template, separator));
    };
    match body {
        Body::Map(entries) => {
            if let [(Body::Str(key), Body::Array(args))] = entries.as_slice()
                && key == b"$seq"
                && let [n, template, separator] = args.as_slice()
            {
                let text = |b: &Body| String::from_utf8_lossy(&built_bytes(b)).into_owned();
                push(out, count(n), text(template), text(separator));
            }
            for (key, value) in entries {
                if key.as_bytes() == Some(b"$many")
                    && let Body::Array(args) = value
                    && let [n, key, value] = args.as_slice()
                {
                    let member = format!(
                        "{}:{}",
                        String::from_utf8_lossy(&to_fluent_bit_json(key)),
                        String::from_utf8_lossy(&to_fluent_bit_json(&expand(value)))
                    );
                    push(out, count(n), member, ",".to_string());
                }
                sequences(value, out);
            }
        }
        Body::Array(items) => items.iter().for_each(|i| sequences(i, out)),
        _ => {}
    }
}

/// `text` cut into literal pieces, the case's sequences where they occur,
/// and runs of one unit (up to 64 characters) repeated, for long outputs.
fn fold(text: &str, seqs: &[(usize, String, String)]) -> Vec<Piece> {
    let mut pieces = vec![Piece::Text(text.to_string())];
    for (n, template, separator) in seqs {
        let expanded: Vec<String> = (0..*n)
            .map(|i| template.replace("{i}", &i.to_string()))
            .collect();
        let expanded = expanded.join(separator);
        if expanded.len() < 256 {
            continue;
        }
        let mut next = Vec::new();
        for piece in pieces {
            let Piece::Text(mut rest) = piece else {
                next.push(piece);
                continue;
            };
            while let Some(at) = rest.find(&expanded) {
                next.push(Piece::Text(rest[..at].to_string()));
                next.push(Piece::Seq(*n, template.clone(), separator.clone()));
                rest = rest[at + expanded.len()..].to_string();
            }
            next.push(Piece::Text(rest));
        }
        pieces = next;
    }
    let mut out = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Text(t) => fold_runs(&t, &mut out),
            other => out.push(other),
        }
    }
    out
}

fn fold_runs(text: &str, out: &mut Vec<Piece>) {
    let chars: Vec<char> = text.chars().collect();
    let mut literal = String::new();
    let mut i = 0;
    'outer: while i < chars.len() {
        for period in 1..=64 {
            let Some(unit) = chars.get(i..i + period) else {
                break;
            };
            let mut n = 1;
            while chars.get(i + n * period..i + (n + 1) * period) == Some(unit) {
                n += 1;
            }
            if n * period >= 256 && n >= 4 {
                if !literal.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut literal)));
                }
                out.push(Piece::Repeat(unit.iter().collect(), n));
                i += n * period;
                continue 'outer;
            }
        }
        literal.push(chars[i]);
        i += 1;
    }
    if !literal.is_empty() {
        out.push(Piece::Text(literal));
    }
}

/// A text as `expect` writes it: a string, or folded when long.
fn folded_json(text: &str, seqs: &[(usize, String, String)]) -> String {
    if text.len() <= FOLD_ABOVE {
        return ascii_json(text);
    }
    let pieces = fold(text, seqs);
    if let [Piece::Text(t)] = pieces.as_slice() {
        return ascii_json(t);
    }
    let parts: Vec<String> = pieces
        .iter()
        .filter(|p| !matches!(p, Piece::Text(t) if t.is_empty()))
        .map(|p| match p {
            Piece::Text(t) => ascii_json(t),
            Piece::Repeat(unit, n) => format!("{{\"$repeat\": [{}, {n}]}}", ascii_json(unit)),
            Piece::Seq(n, t, sep) => {
                format!(
                    "{{\"$seq\": [{n}, {}, {}]}}",
                    ascii_json(t),
                    ascii_json(sep)
                )
            }
        })
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The `expect` JSON for an answer.
fn expectation(got: &Got, msgpack: bool, seqs: &[(usize, String, String)]) -> String {
    match got {
        Got::Dropped(why) => format!("{{\"dropped\": {}}}", ascii_json(why)),
        Got::Error(message) => format!("{{\"error\": {}}}", ascii_json(message)),
        Got::Kept(raw) if msgpack => {
            let json = match rosetta_host::msgpack::decode_one(raw) {
                Ok(decoded) => decoded
                    .body
                    .map(|b| String::from_utf8_lossy(&to_fluent_bit_json(&b)).into_owned())
                    .unwrap_or_default(),
                Err(e) => format!("not msgpack: {e}"),
            };
            format!(
                "{{\"msgpack_hex\": {}, \"json\": {}}}",
                folded_json(&hex(raw), &[]),
                folded_json(&json, seqs)
            )
        }
        Got::Kept(raw) => match std::str::from_utf8(raw) {
            Err(_) => format!("{{\"hex\": {}}}", folded_json(&hex(raw), &[])),
            Ok(text) => folded_json(text, seqs),
        },
    }
}

/// The text an expected string or folded array stands for.
fn unfold(expect: &Body) -> Option<Vec<u8>> {
    match expect {
        Body::Str(text) => Some(text.clone()),
        Body::Array(parts) => {
            let mut out = Vec::new();
            for part in parts {
                match part {
                    Body::Str(s) => out.extend_from_slice(s),
                    Body::Map(_) => out.extend(built_bytes(part)),
                    _ => return None,
                }
            }
            Some(out)
        }
        _ => None,
    }
}

/// Whether the answer is what `expect` says.
fn matches_expect(got: &Got, expect: &Body, msgpack: bool) -> bool {
    let field = |key: &str| expect.get(key).and_then(unfold);
    match got {
        Got::Dropped(why) => field("dropped").as_deref() == Some(why.as_bytes()),
        Got::Error(message) => field("error").as_deref() == Some(message.as_bytes()),
        Got::Kept(raw) if msgpack => field("msgpack_hex").as_deref() == Some(hex(raw).as_bytes()),
        Got::Kept(raw) => match expect {
            Body::Map(_) => field("hex").as_deref() == Some(hex(raw).as_bytes()),
            other => unfold(other).as_deref() == Some(raw.as_slice()),
        },
    }
}

// ---------------------------------------------------------------------
// The invariants.

/// The line keys a configuration reads: `log`, `message`, and `log_key`.
fn line_keys(toml: Option<&str>) -> Vec<String> {
    let mut keys = vec!["log".to_string(), "message".to_string()];
    for line in toml.unwrap_or_default().lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("log_key")
            && let Some(value) = rest.trim().strip_prefix('=')
        {
            keys.push(value.trim().trim_matches('"').to_string());
        }
    }
    keys
}

fn decoded_string(value: &[u8]) -> Option<String> {
    string_at(value, 0).ok().map(|(_, s)| s)
}

fn is_rfc3339_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let head = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let tail = match b.get(19..) {
        Some(b"Z") => true,
        Some([b'.', rest @ ..]) => {
            rest.len() >= 2
                && rest.last() == Some(&b'Z')
                && rest[..rest.len() - 1].iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    head && tail
}

/// Invariants 1 to 5 on a JSON answer; the problems found.
fn check_json(case: &Case, input: &[u8], output: &[u8]) -> Vec<String> {
    let mut problems = Vec::new();
    // RFC 8259 wants UTF-8; bytes that came in as they are may go out so.
    let utf8_in = std::str::from_utf8(input).is_ok();
    let out = match read_object(output, utf8_in) {
        Ok(m) => m,
        Err(e) => return vec![format!("the answer is not one JSON object: {e}")],
    };
    let count_keys = |members: &[Member<'_>]| {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for m in members {
            *counts.entry(m.key.clone()).or_default() += 1;
        }
        counts
    };
    let out_counts = count_keys(&out);
    let find = |key: &str| out.iter().find(|m| m.key == key);
    let out_string = |key: &str| find(key).and_then(|m| decoded_string(m.value));

    // fluent-bit reads numbers as doubles: a record holding one that
    // overflows is not an object it can read either.
    let overflows = serde_json::from_slice::<serde_json::Value>(input)
        .is_err_and(|e| e.to_string().starts_with("number out of range"));
    let input_members = match read_object(input, false) {
        Ok(members) if !overflows => members,
        _ => {
            // 3, for a record that is not one JSON object.
            let keys: Vec<&str> = out.iter().map(|m| m.key.as_str()).collect();
            if keys != ["rosetta.raw", "rosetta.error"] {
                problems.push(format!("input is not a JSON object, output keys {keys:?}"));
            }
            if let Ok(text) = std::str::from_utf8(input)
                && out_string("rosetta.raw").as_deref() != Some(text)
            {
                problems.push("rosetta.raw is not the input".into());
            }
            if !out_string("rosetta.error").is_some_and(|e| e.starts_with("invalid-json: ")) {
                problems.push("rosetta.error is not invalid-json: ...".into());
            }
            return problems;
        }
    };
    let in_counts = count_keys(&input_members);
    // A rosetta.* member the module wrote, not one the record brought.
    let own = |key: &str| {
        find(key).filter(|m| {
            !input_members
                .iter()
                .any(|i| i.key == key && i.value == m.value)
        })
    };

    // 2.
    for (key, n) in &out_counts {
        if *n > 1 && *n > in_counts.get(key).copied().unwrap_or(0) {
            problems.push(format!("key {key:?} appears {n} times"));
        }
    }

    // 3. The line may go (or be replaced by what was parsed from it) when
    // a parser read it: no reason of the module's own other than an
    // unreadable time, no suspicion, not partial, no error.
    let line_keys = line_keys(case.toml.as_deref());
    let mut available: HashMap<(String, &[u8]), usize> = HashMap::new();
    for m in &out {
        *available.entry((m.key.clone(), m.value)).or_default() += 1;
    }
    let unparsed = own("rosetta.reason")
        .is_some_and(|m| !decoded_string(m.value).is_some_and(|r| r.starts_with("time: ")));
    let parsed = !unparsed
        && own("rosetta.suspect").is_none()
        && own("rosetta.partial").is_none()
        && own("rosetta.error").is_none();
    let mut lines_gone = 0;
    for m in &input_members {
        let mut take = |key: &str| match available.get_mut(&(key.to_string(), m.value)) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        };
        if take(&m.key) || take(&format!("rosetta.original.{}", m.key)) {
            continue;
        }
        if case.rewritten.contains(&m.key)
            || (m.key.starts_with("rosetta.") && own(&m.key).is_some())
        {
            continue; // rosetta's own field, overwritten
        }
        if line_keys.contains(&m.key) && parsed && lines_gone == 0 {
            lines_gone += 1;
            continue; // the line, parsed
        }
        let shown = String::from_utf8_lossy(m.value);
        let shown: String = shown.chars().take(80).collect();
        problems.push(format!(
            "input member {:?} = {shown} did not survive",
            m.key
        ));
    }

    // 4.
    for (key, want) in [
        ("rosetta.reason", "string"),
        ("rosetta.error", "string"),
        ("rosetta.raw", "string"),
        ("rosetta.suspect", "suspicion"),
        ("rosetta.partial", "true"),
    ] {
        let Some(m) = own(key) else { continue };
        let ok = match want {
            "string" => decoded_string(m.value).is_some(),
            "suspicion" => matches!(
                decoded_string(m.value).as_deref(),
                Some("quote-injection" | "out-of-range")
            ),
            _ => m.value == b"true",
        };
        if !ok {
            problems.push(format!("{key} is {}", String::from_utf8_lossy(m.value)));
        }
    }
    if let Some(m) = find("timestamp")
        && !input_members
            .iter()
            .any(|i| i.key == "timestamp" && i.value == m.value)
        && !decoded_string(m.value).is_some_and(|s| is_rfc3339_utc(&s))
    {
        problems.push(format!(
            "timestamp {} is not RFC 3339 UTC",
            String::from_utf8_lossy(m.value)
        ));
    }

    // 5.
    if let Some((format, truth)) = &case.truth {
        let marked = own("rosetta.suspect").is_some() || own("rosetta.reason").is_some();
        for &name in controlled(format) {
            // rosetta_filter's normalised `level` keeps the line's own
            // under `level_original` when it says it differently.
            let written = match find("level_original") {
                Some(_) if name == "level" => "level_original",
                _ => name,
            };
            // An input member passed through is the record's, not the line's.
            let got = find(written).filter(|m| {
                !input_members
                    .iter()
                    .any(|i| i.key == name && i.value == m.value)
            });
            let got = got.map(|m| serde_json::from_slice::<serde_json::Value>(m.value));
            let want = truth.iter().find(|(k, _)| k == name).map(|(_, v)| v);
            match (got, want) {
                (Some(Ok(g)), Some(t)) if &g == t => {}
                (Some(g), Some(t)) => {
                    problems.push(format!("{name} = {g:?}, the server wrote {t}"));
                }
                (Some(g), None) => {
                    problems.push(format!("{name} = {g:?}, which the server did not write"));
                }
                (None, Some(t)) if !marked => {
                    problems.push(format!("{name} ({t}) lost without a mark"));
                }
                (None, _) => {}
            }
        }
    }
    problems
}

/// The invariants on a msgpack answer.
fn check_msgpack(case: &Case, output: &[u8]) -> Vec<String> {
    if output.contains(&0) {
        return vec!["the msgpack answer holds a 0x00 byte".into()];
    }
    let decoded = match rosetta_host::msgpack::decode_one(output) {
        Ok(d) => d,
        Err(e) => return vec![format!("the answer is not msgpack: {e}")],
    };
    if decoded.kind != rosetta_host::msgpack::Kind::Map {
        return vec!["the answer is not a msgpack map".into()];
    }
    // The input as a map, when it is one shallow enough to compare.
    let input = match &case.input.body {
        Some(body) => Some(body.clone()),
        None => rosetta_host::msgpack::decode_one(&case.input.bytes)
            .ok()
            .and_then(|d| d.body),
    };
    let (Some(Body::Map(mut entries)), Some(Body::Map(input))) = (decoded.body, input) else {
        return Vec::new(); // nested too deep to build, or not a map: one map came out
    };
    // The documented wrapper: the record as JSON text.
    let is_wrapper = entries.len() == 2
        && entries.iter().any(|(k, v)| {
            k.as_bytes() == Some(b"rosetta.error")
                && v.as_bytes()
                    .is_some_and(|e| e.starts_with(b"msgpack-nul: "))
        });
    if is_wrapper {
        let record = entries
            .iter()
            .find(|(k, _)| k.as_bytes() == Some(b"rosetta.record"))
            .and_then(|(_, v)| v.as_bytes())
            .map(|t| t.trim_ascii_end().to_vec());
        let Some(record) = record else {
            return vec!["msgpack-nul wrapper without rosetta.record".into()];
        };
        if let Err(e) = read_object(&record, false) {
            return vec![format!("rosetta.record is not one JSON object: {e}")];
        }
        match from_json_object(&record) {
            Some(Body::Map(inner)) => entries = inner,
            _ => return Vec::new(), // nested too deep to build
        }
    }
    let render = |b: &Body| to_fluent_bit_json(b);
    let out: Vec<(Vec<u8>, Vec<u8>)> = entries
        .iter()
        .map(|(k, v)| (render(k), render(v)))
        .collect();
    let inp: Vec<(Vec<u8>, Vec<u8>)> = input.iter().map(|(k, v)| (render(k), render(v))).collect();
    let mut problems = Vec::new();
    let mut out_keys: HashMap<&[u8], usize> = HashMap::new();
    for (k, _) in &out {
        *out_keys.entry(k).or_default() += 1;
    }
    let mut in_keys: HashMap<&[u8], usize> = HashMap::new();
    for (k, _) in &inp {
        *in_keys.entry(k).or_default() += 1;
    }
    for (k, n) in &out_keys {
        if *n > 1 && *n > in_keys.get(k).copied().unwrap_or(0) {
            problems.push(format!(
                "key {} appears {n} times",
                String::from_utf8_lossy(k)
            ));
        }
    }
    let value_of = |key: &[u8]| out.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    // A rosetta.* entry the module wrote, not one the record brought.
    let own =
        |key: &[u8]| value_of(key).filter(|v| !inp.iter().any(|(ik, iv)| ik == key && &iv == v));
    let unparsed = own(b"\"rosetta.reason\"").is_some_and(|r| !r.starts_with(b"\"time: "));
    let parsed = !unparsed
        && own(b"\"rosetta.suspect\"").is_none()
        && own(b"\"rosetta.partial\"").is_none()
        && own(b"\"rosetta.error\"").is_none();
    let line_keys = line_keys(case.toml.as_deref());
    let mut available: HashMap<(Vec<u8>, &[u8]), usize> = HashMap::new();
    for (k, v) in &out {
        *available.entry((k.clone(), v)).or_default() += 1;
    }
    let mut lines_gone = 0;
    for (key, value) in &inp {
        let original = {
            let mut o = b"\"rosetta.original.".to_vec();
            o.extend_from_slice(key.get(1..).unwrap_or_default());
            o
        };
        let mut take = |k: &[u8]| match available.get_mut(&(k.to_vec(), value.as_slice())) {
            Some(n) if *n > 0 => {
                *n -= 1;
                true
            }
            _ => false,
        };
        if take(key) || take(&original) {
            continue;
        }
        let unquoted = key
            .strip_prefix(b"\"")
            .and_then(|k| k.strip_suffix(b"\""))
            .unwrap_or(key);
        let name = String::from_utf8_lossy(unquoted).into_owned();
        if case.rewritten.contains(&name) || (name.starts_with("rosetta.") && own(key).is_some()) {
            continue;
        }
        if line_keys.contains(&name) && parsed && lines_gone == 0 {
            lines_gone += 1;
            continue;
        }
        problems.push(format!("input entry {name:?} did not survive"));
    }
    problems
}

// ---------------------------------------------------------------------
// Running.

/// What a host is made for: the function, the `rosetta.toml` text, and
/// whether it runs in msgpack mode.
type HostKey = (String, Option<String>, bool);

struct Hosts {
    hosts: Vec<(HostKey, Sandboxed)>,
}

impl Hosts {
    /// The host for a function, configuration and event format, made at
    /// first use and then reused.
    fn get(&mut self, case: &Case) -> &mut Sandboxed {
        let key = (case.function.clone(), case.toml.clone(), case.msgpack);
        let at = match self.hosts.iter().position(|(k, _)| *k == key) {
            Some(at) => at,
            None => {
                let format = if case.msgpack {
                    EventFormat::Msgpack
                } else {
                    EventFormat::Json
                };
                let h = host_with(&case.function, |c| HostConfig {
                    event_format: format,
                    ..c
                });
                if let Some(toml) = &case.toml {
                    h.dot.write("rosetta.toml", toml);
                }
                self.hosts.push((key, h));
                self.hosts.len() - 1
            }
        };
        &mut self.hosts[at].1
    }
}

fn run(hosts: &mut Hosts, case: &Case) -> Got {
    let h = hosts.get(case);
    let (sec, nsec) = case.event_time;
    let outcome = h.filter(&case.tag, sec, nsec, &case.input.bytes);
    match outcome.verdict {
        Verdict::Kept { raw, .. } => Got::Kept(raw),
        Verdict::Dropped { reason } => Got::Dropped(reason.to_string()),
        Verdict::Error { message } => Got::Error(message),
    }
}

fn problems(case: &Case, got: &Got) -> Vec<String> {
    match got {
        Got::Dropped(why) => vec![format!("the record was dropped: {why}")],
        Got::Error(message) => vec![format!("fluent-bit rejects the answer: {message}")],
        Got::Kept(raw) if case.msgpack => check_msgpack(case, raw),
        Got::Kept(raw) => check_json(case, &case.input.bytes, raw),
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/hostile")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    files
}

fn short(got: &Got) -> String {
    let text = expectation(got, false, &[]);
    if text.len() > 600 {
        let head: String = text.chars().take(600).collect();
        format!("{head}... ({} bytes)", text.len())
    } else {
        text
    }
}

#[test]
fn hostile_corpus() {
    let bless = std::env::var_os("ROSETTA_BLESS").is_some_and(|v| v == "1");
    let mut hosts = Hosts { hosts: Vec::new() };
    let mut failures = Vec::new();
    let mut known = Vec::new();
    let mut per_file: Vec<(String, usize)> = Vec::new();
    let mut per_attack: HashMap<String, usize> = HashMap::new();
    let mut total = 0;
    for path in corpus_files() {
        let cases = read_file(&path);
        let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
        let file = file.unwrap_or_default();
        let mut rewritten: Vec<String> = Vec::new();
        for case in &cases {
            let got = run(&mut hosts, case);
            let found = problems(case, &got);
            let matches = case
                .expect
                .as_ref()
                .is_some_and(|e| matches_expect(&got, e, case.msgpack));
            if bless {
                let new = expectation(&got, case.msgpack, &case.seqs);
                let key = if case.bug.is_some() { "got" } else { "expect" };
                let line = match case.expect_span {
                    Some((start, end)) => {
                        format!("{}{new}{}", &case.line[..start], &case.line[end..])
                    }
                    None => {
                        let body = case.line.trim_end().strip_suffix('}').expect("object");
                        format!("{body}, \"{key}\": {new}}}")
                    }
                };
                rewritten.push(line);
            }
            if let Some(bug) = &case.bug {
                let state = if matches {
                    "still as filed"
                } else {
                    "OUTPUT CHANGED: check it and move the case"
                };
                known.push(format!(
                    "{}: {state}\n    bug: {bug}\n    invariants: {}\n    now: {}",
                    case.label,
                    if found.is_empty() {
                        "hold".to_string()
                    } else {
                        found.join("; ")
                    },
                    short(&got)
                ));
                continue;
            }
            total += 1;
            for a in &case.attacks {
                *per_attack.entry(a.clone()).or_default() += 1;
            }
            if !found.is_empty() {
                failures.push(format!("{}: {}", case.label, found.join("; ")));
            }
            if !matches && !bless {
                failures.push(format!(
                    "{}: output differs from expect\n    got: {}",
                    case.label,
                    short(&got)
                ));
            }
        }
        if bless {
            let content = std::fs::read_to_string(&path).expect("corpus file");
            let mut lines = rewritten.into_iter();
            let mut out = String::new();
            for line in content.lines() {
                if line.trim().is_empty() || line.starts_with('#') {
                    out.push_str(line);
                } else {
                    out.push_str(&lines.next().expect("one rewritten line per case"));
                }
                out.push('\n');
            }
            std::fs::write(&path, out).expect("rewrite corpus file");
        }
        if file != "known_bugs.jsonl" {
            per_file.push((file, cases.len()));
        }
    }
    let mut summary = String::from("hostile corpus:\n");
    for (file, n) in &per_file {
        let _ = writeln!(summary, "  {n:4}  {file}");
    }
    let _ = writeln!(summary, "  {total:4}  cases in all; by attack class:");
    for a in ATTACKS {
        let _ = writeln!(
            summary,
            "  {:4}  {a}",
            per_attack.get(*a).copied().unwrap_or(0)
        );
    }
    eprintln!("{summary}");
    if !known.is_empty() {
        eprintln!(
            "known bugs ({}), reported, not failed:\n{}",
            known.len(),
            known.join("\n")
        );
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(total >= 200, "the corpus has {total} cases");
    for a in ATTACKS {
        assert!(per_attack.contains_key(*a), "no case of attack class {a}");
    }
}

#[test]
fn the_strict_reader_is_strict() {
    for good in [
        &br#"{}"#[..],
        br#" {"a":1,"b":[{"c":null}],"d":"\u00e9\ud83d\ude00"} "#,
        br#"{"a":-0.5e+3,"b":true,"c":false}"#,
    ] {
        assert!(
            strict_object(good).is_ok(),
            "{}",
            String::from_utf8_lossy(good)
        );
    }
    for bad in [
        &b""[..],
        b"[]",
        b"{\"a\":1}{}",
        b"{\"a\":01}",
        b"{\"a\":1.}",
        b"{\"a\":\"\x01\"}",
        b"{\"a\":\"\\x41\"}",
        b"{\"a\":\"\xff\"}",
        b"{\"a\":inf}",
        b"{\"a\":[1,]}",
        b"{\"a\":1,}",
        b"{\"a\" 1}",
    ] {
        assert!(
            strict_object(bad).is_err(),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_eq!(strict_object(deep.as_bytes()).map(|m| m.len()), Ok(1));
    let members = strict_object(br#"{"\u0061":1,"a":2}"#).unwrap_or_default();
    assert_eq!(members.len(), 2);
    assert_eq!(members[0].key, members[1].key);
}

#[test]
fn folding_gives_back_the_text() {
    let seq: Vec<String> = (0..300).map(|i| format!("\"k{i}\":{i}")).collect();
    let text = format!(
        "{{\"a\":\"{}\",\"b\":\"{}x\",\"c\":{{{}}}}}",
        "ab".repeat(500),
        " ".repeat(300),
        seq.join(",")
    );
    let seqs = [(300, "\"k{i}\":{i}".to_string(), ",".to_string())];
    let folded = folded_json(&text, &seqs);
    assert!(folded.len() < 200, "{folded}");
    let body = from_json_object(format!("{{\"e\": {folded}}}").as_bytes()).expect("JSON");
    let back = body.get("e").and_then(unfold).expect("unfolds");
    assert_eq!(String::from_utf8_lossy(&back), text);
}
