//! Runs every line of the access-log corpus through its parser and compares
//! the result with the expected record.
//!
//! The corpus (`tests/corpus/*.jsonl`) holds one JSON object per line;
//! lines starting with `#` are comments:
//!
//! - `name`: what the case shows;
//! - `source`: where the log line comes from (a documentation or issue URL),
//!   or `constructed: …` with the format it follows;
//! - `parser`: `envoy` (Envoy, Istio and JSON access logs) or
//!   `nginx-ingress`;
//! - `line`: the log line as the application wrote it;
//! - `newline` (optional, default `true`): whether the container runtime's
//!   trailing newline is part of the `log` field;
//! - `expect`: either `{"format": …, "suspect": null | "quote-injection" |
//!   "out-of-range", "fields": {…}}` with every field the parser must emit
//!   and nothing else (text as JSON strings, integers and decimals as JSON
//!   numbers, times as RFC 3339 strings), or `{"mismatch": format}`.
//!
//! Each line is escaped the way fluent-bit delivers a record to the filter
//! (`json.escape_unicode`: `"` and `\` escaped, control characters as
//! `\n`-style or `\u00XX` escapes, every non-ASCII character as `\uXXXX`,
//! surrogate pairs above U+FFFF), and each text value the parser returns is
//! checked to be valid JSON string content before it is decoded and
//! compared.

mod common;
use common::escape_like_fluent_bit;
use rosetta::formats::{Fields, Value, envoy, nginx_ingress};
use serde_json::{Map, Value as Json};
use std::path::Path;

/// A parser's fields as a JSON object, checking that every text value is
/// valid JSON string content and that no field is emitted twice.
fn fields_as_json(fields: &Fields<'_>, case: &str) -> Map<String, Json> {
    let mut out = Map::new();
    for (name, value) in fields.iter() {
        let json = match value {
            Value::Text(t) => {
                let quoted = format!("\"{}\"", std::str::from_utf8(t).expect("text is ASCII"));
                serde_json::from_str::<Json>(&quoted).unwrap_or_else(|e| {
                    panic!("{case}: {name} is not valid JSON string content: {e}")
                })
            }
            Value::Int(i) => Json::from(*i),
            Value::Decimal(d) => serde_json::from_slice::<Json>(d)
                .unwrap_or_else(|e| panic!("{case}: {name} is not a JSON number: {e}")),
            Value::Time(t) => {
                let mut text = Vec::new();
                t.write_rfc3339(&mut text);
                Json::String(String::from_utf8(text).expect("RFC 3339 is ASCII"))
            }
            Value::Bool(b) => Json::Bool(*b),
        };
        assert!(
            out.insert(name.to_string(), json).is_none(),
            "{case}: {name} emitted twice"
        );
    }
    out
}

fn run_file(path: &Path) -> usize {
    let text = std::fs::read_to_string(path).expect("corpus file");
    let mut cases = 0;
    for (number, entry) in text.lines().enumerate() {
        let entry = entry.trim();
        if entry.is_empty() || entry.starts_with('#') {
            continue;
        }
        let entry: Json = serde_json::from_str(entry)
            .unwrap_or_else(|e| panic!("{}:{}: {e}", path.display(), number + 1));
        let field = |key: &str| {
            entry
                .get(key)
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let case = format!("{}:{} {:?}", path.display(), number + 1, field("name"));
        assert!(
            !field("source").is_empty(),
            "{case}: every case cites its source"
        );
        let newline = entry.get("newline").and_then(Json::as_bool).unwrap_or(true);
        let raw = if newline {
            field("line") + "\n"
        } else {
            field("line")
        };
        let escaped = escape_like_fluent_bit(&raw);

        let mut fields = Fields::new();
        let mut scratch = Vec::new();
        let outcome = match field("parser").as_str() {
            "envoy" => envoy::parse_with_scratch(escaped.as_bytes(), &mut scratch, &mut fields),
            "nginx-ingress" => nginx_ingress::parse(escaped.as_bytes(), &mut fields),
            other => panic!("{case}: unknown parser {other:?}"),
        };
        let expect = entry
            .get("expect")
            .unwrap_or_else(|| panic!("{case}: no expect"));
        match expect.get("mismatch").and_then(Json::as_str) {
            Some(format) => {
                let mismatch = outcome
                    .err()
                    .unwrap_or_else(|| panic!("{case}: expected a mismatch"));
                assert_eq!(mismatch.format, format, "{case}");
            }
            None => {
                let format = outcome.unwrap_or_else(|m| panic!("{case}: {m}"));
                assert_eq!(
                    Some(format),
                    expect.get("format").and_then(Json::as_str),
                    "{case}: format"
                );
                let suspect = fields.suspect.map(|s| s.as_str());
                assert_eq!(
                    suspect,
                    expect.get("suspect").and_then(Json::as_str),
                    "{case}: suspect"
                );
                let got = fields_as_json(&fields, &case);
                let want = expect
                    .get("fields")
                    .and_then(Json::as_object)
                    .cloned()
                    .unwrap_or_default();
                for (name, value) in &want {
                    assert_eq!(got.get(name), Some(value), "{case}: field {name}");
                }
                for name in got.keys() {
                    assert!(
                        want.contains_key(name),
                        "{case}: unexpected field {name} = {}",
                        got[name]
                    );
                }
            }
        }
        cases += 1;
    }
    cases
}

#[test]
fn corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let total: usize = files.iter().map(|f| run_file(f)).sum();
    assert!(total >= 40, "the corpus has {total} cases");
}

#[test]
fn escaping_matches_fluent_bit() {
    assert_eq!(escape_like_fluent_bit("a\"b\\c\n"), "a\\\"b\\\\c\\n");
    assert_eq!(
        escape_like_fluent_bit("\u{1}é😀"),
        "\\u0001\\u00e9\\ud83d\\ude00"
    );
}
