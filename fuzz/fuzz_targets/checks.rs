//! What each fuzz target runs, shared with `tests/properties.rs` so that
//! the fuzzers and the property tests assert the same invariants: the
//! configurations records run under, the docker-shaped record builder,
//! and one `check_*` function per target.

#![allow(dead_code)]

use crate::invariants;
use crate::msgpack_check;
use rosetta::config::Config;
use rosetta::filter::{Entry, Filter};
use rosetta::formats::auto::{self, Format, Parsed};
use rosetta::formats::{Fields, Pairs};
use rosetta::out::{Out, escape_into};
use rosetta::time::{Timestamp, parse_rfc3339};
use rosetta::timestamps::{TimeFormat, parse_any};

/// The configurations a docker-shaped record runs under.
pub const CONFIGS: &[&str] = &[
    "",
    "parsers = \"none\"",
    "parsers = \"auto\"",
    "parsers = \"envoy\"",
    "parsers = \"envoy-json\"",
    "parsers = \"nginx-ingress\"",
    "parsers = \"json\"",
    "parsers = \"logfmt\"",
    "parsers = \"klog\"",
    "parsers = \"go-log\"",
    "parsers = \"nginx-error\"",
    "parsers = \"apache\"",
    "parsers = \"nginx\"",
    "parsers = \"apache-error\"",
    "parsers = \"syslog-rfc5424\"",
    "parsers = \"syslog-rfc3164\"",
    "parsers = [\"json\", \"envoy\", \"nginx-ingress\", \"klog\", \"go-log\", \"syslog-rfc5424\", \"logfmt\"]",
    "parsers = [\"apache-error\", \"nginx-error\", \"syslog-rfc3164\", \"nginx\", \"apache\", \"auto\"]",
    "keep_log = true\nnormalise_time = false\nmerge_key = \"method\"\ntime_key = \"level\"",
    "keep_log = true\nannotations = false\nlog_key = \"message\"",
    r#"parsers = "auto"
[[route]]
name = "sidecars"
container = "istio-proxy"
parsers = "envoy"

[[route]]
name = "ingress"
namespace = "ingress-nginx"
container = "controller"
parsers = "nginx-ingress"
keep_log = true

[[route]]
name = "orders"
labels = { app = "orders*" }
stream = "stderr"
parsers = ["json", "logfmt"]
into = "parsed"

[[route]]
name = "fixed"
namespace = "n*"
parsers = ["klog", "go-log", "envoy"]
into = "method"
"#,
];

/// The annotation values a record's `kubernetes` map can carry.
const ANNOTATED: &[&str] = &[
    "json", "logfmt", "envoy", "klog", "apache", "nope", "none", "cri", "docker",
];

/// The tags a record can carry.
const TAGS: &[&str] = &[
    "kube.ns.pod.app",
    "kube.default.web-1.istio-proxy",
    "kube.ingress-nginx.ctl-1.controller",
    "kube.orders.orders-1.api",
    "other",
];

/// A CRI envelope a line can arrive in.
const CRI: &[&str] = &[
    "",
    "2024-01-02T03:04:05.123456789Z stdout F ",
    "2024-01-02T03:04:05.123456789Z stderr P ",
];

/// The keys a record can carry that a parser, `merge_key`, `time_key` or
/// rosetta also writes.
const COLLIDING: &[&str] = &[
    r#""timestamp":1"#,
    r#""log_processed":{"a":[1,"x"]}"#,
    r#""method":"m""#,
    r#""level":null"#,
    r#""message":"a \"message\"""#,
    r#""rosetta.reason":"old""#,
    r#""parsed":true"#,
    r#""path":"/p\u00e9""#,
];

/// The event time fluent-bit passes.
pub fn event_time() -> Timestamp {
    Timestamp::new(1_700_000_000, 0, 0).unwrap_or_default()
}

thread_local! {
    static FILTERS: Vec<Filter> = CONFIGS
        .iter()
        .map(|text| {
            let config = Config::parse("rosetta.toml", text);
            assert!(config.is_ok(), "{text}: {config:?}");
            Filter::new(config)
        })
        .collect();
    static DEFAULT: Filter = Filter::new(Ok(Config::default()));
}

/// A docker-shaped record from `bytes`: the first three pick the tag, the
/// CRI envelope, the stream, the `kubernetes` map and the colliding keys;
/// the rest is the line, escaped as fluent-bit escapes. Returns the
/// configuration index, the tag and the record.
pub fn docker(bytes: &[u8]) -> (usize, &'static str, Vec<u8>) {
    let pick = |i: usize| bytes.get(i).copied().unwrap_or(0) as usize;
    let (config, shape, collide) = (pick(0), pick(1), pick(2));
    let line = bytes.get(3..).unwrap_or_default();
    let mut record = Vec::with_capacity(line.len() * 2 + 256);
    record.extend_from_slice(b"{");
    for (i, member) in COLLIDING.iter().enumerate() {
        if collide & (1 << i) != 0 && i < 4 {
            record.extend_from_slice(member.as_bytes());
            record.push(b',');
        }
    }
    record.extend_from_slice(b"\"log\":");
    let mut text = CRI[shape % CRI.len()].as_bytes().to_vec();
    text.extend_from_slice(line);
    escape_into(&mut record, &text);
    let stream = if shape & 4 != 0 { "stderr" } else { "stdout" };
    record.extend_from_slice(format!(",\"stream\":\"{stream}\"").as_bytes());
    record.extend_from_slice(b",\"time\":\"2024-01-02T03:04:05.123456789Z\"");
    if shape & 8 != 0 {
        let annotation = ANNOTATED[(shape >> 5) % ANNOTATED.len()];
        let key = if shape & 16 != 0 {
            "fluentbit.io/parser_stderr"
        } else {
            "fluentbit.io/parser"
        };
        record.extend_from_slice(
            format!(
                r#","kubernetes":{{"namespace_name":"orders","pod_name":"orders-1","container_name":"api","labels":{{"app":"orders-v2"}},"annotations":{{"{key}":"{annotation}"}}}}"#
            )
            .as_bytes(),
        );
    }
    for (i, member) in COLLIDING.iter().enumerate() {
        if collide & (1 << i) != 0 && i >= 4 {
            record.push(b',');
            record.extend_from_slice(member.as_bytes());
        }
    }
    record.push(b'}');
    let tag = TAGS[(shape >> 2) % TAGS.len()];
    (config % CONFIGS.len(), tag, record)
}

/// Runs `record` twice through `filter` and checks both outputs.
fn check_with(filter: &Filter, tag: &str, record: &[u8]) {
    let mut first = Vec::new();
    let mut second = Vec::new();
    filter.run(
        Entry::Filter,
        tag.as_bytes(),
        event_time(),
        record,
        &mut first,
    );
    filter.run(
        Entry::Filter,
        tag.as_bytes(),
        event_time(),
        record,
        &mut second,
    );
    assert!(
        first == second,
        "two runs differ\n input: {}\n first: {}\nsecond: {}",
        String::from_utf8_lossy(record),
        String::from_utf8_lossy(&first),
        String::from_utf8_lossy(&second)
    );
    if rosetta::msgpack::looks_like_map(record) {
        msgpack_check::assert_one_map(record, &first);
    } else {
        invariants::check_record(record, &first, &[b"log", b"message"]);
    }
}

/// Arbitrary bytes as a record, under the default configuration and the
/// fixed entry points.
pub fn check_raw(record: &[u8]) {
    DEFAULT.with(|f| check_with(f, "kube.ns.pod.app", record));
    let mut out = Vec::new();
    for entry in [Entry::Envoy, Entry::NginxIngress] {
        DEFAULT.with(|f| f.run(entry, b"t", event_time(), record, &mut out));
        if rosetta::msgpack::looks_like_map(record) {
            msgpack_check::assert_one_map(record, &out);
        } else {
            invariants::check_record(record, &out, &[b"log", b"message"]);
        }
    }
}

/// A docker-shaped record built from `bytes`, under the configuration
/// they pick.
pub fn check_docker(bytes: &[u8]) {
    let (config, tag, record) = docker(bytes);
    FILTERS.with(|filters| check_with(&filters[config], tag, &record));
}

/// The `record` target: the first byte picks arbitrary bytes as the
/// record (0 mod 4) or a docker-shaped record built from the rest.
pub fn check_record(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 4 == 0 {
        check_raw(rest);
    } else {
        check_docker(rest);
    }
}

const MARKERS: [u8; 18] = [
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0xde, 0xdf,
];

/// The `msgpack` target: an even first byte puts the rest behind the map
/// marker it picks, under the default configuration; an odd one encodes a
/// docker-shaped record built from the rest with `msgpack::from_json`,
/// run under the configuration it picks.
pub fn check_msgpack(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let (config, tag, record) = if mode % 2 == 0 {
        let mut record = vec![MARKERS[usize::from(mode / 2) % MARKERS.len()]];
        record.extend_from_slice(rest);
        (0, "kube.ns.pod.app", record)
    } else {
        let (config, tag, json) = docker(rest);
        let mut record = Vec::new();
        rosetta::msgpack::from_json(&json, &mut record);
        (config, tag, record)
    };
    FILTERS.with(|filters| check_with(&filters[config], tag, &record));
}

/// The `parsers` target's format: `None` is `auto::parse`.
pub fn format(selector: u8) -> Option<Format> {
    Format::ALL
        .get(usize::from(selector) % (Format::ALL.len() + 1))
        .copied()
}

/// `line` as fluent-bit escapes a record's string: valid JSON string
/// content, without the quotes.
pub fn escaped(line: &[u8]) -> Vec<u8> {
    let mut quoted = Vec::with_capacity(line.len() * 2 + 2);
    escape_into(&mut quoted, line);
    quoted.pop();
    quoted.remove(0);
    quoted
}

/// Parses `content` (escaped) with `format` and checks what came out: the
/// fields, written as rosetta writes them, are one JSON object with
/// unique keys; a JSON line's object is one JSON object; both of linear
/// size. `measure(true)` and `measure(false)` bracket the parse alone.
pub fn check_line(format: Option<Format>, content: &[u8], measure: &mut dyn FnMut(bool)) {
    let mut scratch = Vec::new();
    let mut fields = Fields::new();
    let mut pairs = Pairs::new();
    measure(true);
    let parsed = match format {
        Some(f) => auto::parse_as(f, content, &mut scratch, &mut fields, &mut pairs),
        None => auto::parse(content, &mut scratch, &mut fields, &mut pairs),
    };
    measure(false);
    let mut buf = Vec::new();
    match parsed {
        Ok(Parsed::Object(text)) => {
            if let Err(e) = invariants::is_object(text) {
                panic!(
                    "{format:?}: the JSON line's object is not one ({e})\n  line: {}\nobject: {}",
                    String::from_utf8_lossy(content),
                    String::from_utf8_lossy(text)
                );
            }
            invariants::assert_linear_size(content, text);
        }
        Ok(Parsed::Fields(name))
            if KNOWN_NGINX_ERROR_SLICE && nginx_error_slice_bug(name, content) => {}
        Ok(Parsed::Fields(_)) => {
            let mut out = Out::begin(&mut buf, 64);
            out.values(fields.as_slice());
            out.finish();
        }
        Ok(Parsed::Pairs(_)) => {
            let mut out = Out::begin(&mut buf, 64);
            out.values(pairs.as_slice());
            out.finish();
        }
        Err(_) => {}
    }
    if !buf.is_empty() {
        invariants::assert_object(content, &buf, true);
        invariants::assert_linear_size(content, &buf);
    }
}

/// Known, reported: the nginx error parser skips the byte after
/// `pid#tid:` as if it were a space; when it is the `\` of an escape
/// (`8#8:"x`), `message` starts mid-escape and the output is not JSON.
/// Until that is fixed such lines are not checked;
/// `KNOWN_NGINX_ERROR_SLICE = false` makes them fail again.
pub const KNOWN_NGINX_ERROR_SLICE: bool = false;

/// Whether `content` parsed as nginx error has a byte other than a space
/// after `pid#tid:`.
fn nginx_error_slice_bug(name: &str, content: &[u8]) -> bool {
    if name != rosetta::formats::nginx_error::NGINX_ERROR {
        return false;
    }
    let Some(close) = content.iter().skip(21).position(|&b| b == b']') else {
        return false;
    };
    let rest = content.get(21 + close + 2..).unwrap_or_default();
    let Some(colon) = rest.iter().position(|&b| b == b':') else {
        return false;
    };
    rest.get(colon + 1) != Some(&b' ')
}

fn check_written(text: &[u8], t: Timestamp) {
    let mut out = Vec::new();
    t.write_rfc3339(&mut out);
    let back = parse_rfc3339(&out);
    assert!(
        back == Some(t),
        "{:?} -> {t:?} writes {:?}, which reads back as {back:?}",
        String::from_utf8_lossy(text),
        String::from_utf8_lossy(&out)
    );
}

/// The `timestamps` target: `parse_any` on the input, and, when it holds a
/// 0x00, the part before it compiled as a `Time_Format` layout and run on
/// the part after. An accepted time writes out as RFC 3339 that reads back
/// to the same instant and precision.
pub fn check_time(data: &[u8]) {
    let reference = event_time();
    if let Ok(t) = parse_any(data, reference) {
        check_written(data, t);
    }
    if let Some(zero) = data.iter().position(|&b| b == 0) {
        let (layout, text) = data.split_at(zero);
        let text = text.get(1..).unwrap_or_default();
        if let Ok(layout) = std::str::from_utf8(layout)
            && let Ok(format) = TimeFormat::compile(layout)
            && let Ok(t) = format.parse(text, reference)
        {
            check_written(text, t);
        }
    }
}

/// Records run under every configuration the `config` target loads.
const CONFIG_RECORDS: &[(&str, &str)] = &[
    (
        "kube.ns.pod.app",
        r#"{"log":"{\"level\":\"info\",\"msg\":\"hi\"}","stream":"stdout","time":"2024-01-02T03:04:05Z"}"#,
    ),
    (
        "kube.ingress-nginx.p.controller",
        r#"{"log":"I0102 03:04:05.006000       1 main.go:10] hello","stream":"stderr","kubernetes":{"namespace_name":"ingress-nginx","pod_name":"p","container_name":"controller","labels":{"app":"orders"},"annotations":{"fluentbit.io/parser":"logfmt"}}}"#,
    ),
    (
        "x",
        r#"{"message":"level=info msg=\"a b\" took=1.5","timestamp":1,"log_processed":2}"#,
    ),
];

/// The `config` target: the text to `Config::parse`, then `Filter::new`,
/// then a few records. An unusable file names a line within the text;
/// every record's output passes `invariants` whatever the configuration.
pub fn check_config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let config = Config::parse("rosetta.toml", text);
    let log_key = config
        .as_ref()
        .map_or_else(|_| "log".to_string(), |c| c.log_key.clone());
    if let Err(e) = &config {
        let lines = text.lines().count().max(1);
        assert!(e.line <= lines + 1, "{e} for a {lines}-line file");
        let _ = e.to_string();
    }
    let filter = Filter::new(config);
    if let Some(e) = filter.config_error() {
        let _ = e.to_string();
    }
    let mut out = Vec::new();
    for (tag, record) in CONFIG_RECORDS {
        filter.run(
            Entry::Filter,
            tag.as_bytes(),
            event_time(),
            record.as_bytes(),
            &mut out,
        );
        invariants::check_record_with(
            record.as_bytes(),
            &out,
            &[log_key.as_bytes(), b"message"],
            text.len(),
        );
    }
    let _ = filter.take_notices();
}
