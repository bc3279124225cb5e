//! JSON log lines: the line is itself one JSON object (slog's
//! `JSONHandler`, zap, logrus's `JSONFormatter`, Kubernetes components
//! with `--logging-format=json`), carried escaped inside the record's
//! string.
//!
//! Entry point: [`parse`]. Its result is not a list of fields but the
//! object's text, unescaped once and checked, to be written under a key
//! of the record as it is: keys are the application's own, so they cannot
//! be `&'static str` field names, and nested values keep their shape. The
//! caller lifts members to the top level if it wants to (fluent-bit's
//! `Merge_Log`): [`crate::record::members`] lists them as spans of the
//! returned text. The walk that checks the object also puts its string and
//! number members (the first of each key, at most
//! [`MAX_PAIRS`](super::MAX_PAIRS)) in the caller's [`Pairs`], where
//! [`crate::meaning`] reads the time, level and message without walking
//! the object again.
//!
//! # Fields
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | (the object) | object | the line, as the application wrote it | the whole line |
//!
//! fluent-bit's stock `json` parser (conf/parsers.conf) also lifts the
//! object's members into the record and reads its `time` key with
//! `%d/%b/%Y:%H:%M:%S %z`; here the object is returned whole and times are
//! left as they are (normalising them is a separate step).
//!
//! # Unescaping
//!
//! The line arrives as JSON string content: `{\"level\":\"info\"}`. One
//! level of escaping is removed into a caller-provided buffer: `\"` becomes
//! `"`, `\\` becomes `\`, `\/` becomes `/`, the whitespace escapes `\n`,
//! `\r`, `\t` become the bytes they stand for, and `\u0020` to `\u007e`
//! become their ASCII byte. Every other escape (`\b`, `\f`, `\u00e9`,
//! `\u0001`, surrogates, the `\uE0XX` code points fluent-bit writes for
//! bytes that were not UTF-8) is kept as it is: it can only be valid
//! inside a string of the inner object, where it means the same character,
//! so the object's strings stay valid JSON string content and nothing is
//! decoded. The result must then be exactly one JSON object (RFC 8259,
//! surrounding whitespace allowed), checked by the record's own member
//! walk ([`crate::record::each_member`]), which keeps nesting depth off
//! the call stack and refuses a number a double cannot hold (fluent-bit
//! would refuse the whole record). A line it refuses is checked again by
//! [`crate::record::validate`], whose message names what a JSON value
//! lacks there.
//!
//! One leniency follows: a control character written raw inside a string
//! of the inner object (invalid JSON) arrives as `\u0001` or `\b` and is
//! accepted, as that escape.
//!
//! Cost: a word-at-a-time search for backslashes and bulk copies between
//! them, then one checking walk; linear in the line's length.

use super::{Mismatch, Pairs, Value, trim_line_end};
use crate::record::{Kind, each_member, validate};
use crate::scan;

/// The format name.
pub const JSON: &str = "json";

/// Unescapes `line` once into `scratch` (cleared first) and returns the
/// JSON object it holds, without surrounding whitespace; see the module
/// documentation. A line that is not exactly one JSON object is a
/// [`Mismatch`] whose offset is in the (escaped) line.
pub fn parse<'a>(
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
    members: &mut Pairs<'a>,
) -> Result<&'a [u8], Mismatch> {
    let line = trim_line_end(line);
    let mismatch = |expected: &'static str, at: usize| Mismatch {
        format: JSON,
        expected,
        at,
    };
    let start = json_ws_end(line);
    if line.get(start) != Some(&b'{') {
        return Err(mismatch("`{` opening a JSON object", start));
    }
    scratch.clear();
    unescape_text(line, scratch);
    let text: &'a Vec<u8> = scratch;
    // The check and the index of the members meaning reads, in one walk.
    let walked = each_member(text, |m| {
        if matches!(m.kind, Kind::String | Kind::Number) {
            members.insert(m.key, Value::Text(m.value));
        }
    });
    if walked.is_err() {
        // The walk's messages speak of the record; a line's are those of
        // the check of any JSON value.
        members.clear();
        match validate(text) {
            Ok(Kind::Object) => {}
            Ok(_) => return Err(mismatch("a JSON object", start)),
            Err(e) => return Err(mismatch(e.expected, escaped_offset(line, e.at))),
        }
    }
    let from = text
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(0);
    let to = text
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(from, |p| p + 1);
    Ok(text.get(from..to).unwrap_or_default())
}

/// The position after the JSON whitespace at the start of the line:
/// spaces and the escapes `\n`, `\r`, `\t`.
fn json_ws_end(line: &[u8]) -> usize {
    let mut at = 0;
    loop {
        match (line.get(at), line.get(at + 1)) {
            (Some(b' '), _) => at += 1,
            (Some(b'\\'), Some(b'n' | b'r' | b't')) => at += 2,
            _ => return at,
        }
    }
}

/// What one escape of the line becomes in the unescaped text, and how many
/// bytes of the line it takes.
fn unescape_unit(line: &[u8], p: usize) -> (Unit, usize) {
    match line.get(p + 1) {
        Some(&c @ (b'"' | b'\\' | b'/')) => (Unit::Byte(c), 2),
        Some(b'n') => (Unit::Byte(b'\n'), 2),
        Some(b'r') => (Unit::Byte(b'\r'), 2),
        Some(b't') => (Unit::Byte(b'\t'), 2),
        Some(b'u') => match line.get(p + 2..p + 6).and_then(ascii_of_hex) {
            Some(b) => (Unit::Byte(b), 6),
            None => (Unit::Kept, 6),
        },
        _ => (Unit::Kept, 2),
    }
}

/// An escape's replacement: one byte, or the escape kept as written.
enum Unit {
    Byte(u8),
    Kept,
}

/// The printable ASCII byte of four hex digits `00XX`, if it is one.
fn ascii_of_hex(hex: &[u8]) -> Option<u8> {
    let [b'0', b'0', hi, lo] = *hex else {
        return None;
    };
    let digit = |d: u8| (d as char).to_digit(16).and_then(|v| u8::try_from(v).ok());
    let value = digit(hi)? * 16 + digit(lo)?;
    (0x20..=0x7e).contains(&value).then_some(value)
}

/// Appends the line with one level of escaping removed (see the module
/// documentation): bulk copies between backslashes.
fn unescape_text(line: &[u8], out: &mut Vec<u8>) {
    let mut copied = 0;
    let mut from = 0;
    while let Some(p) = scan::find_in(line, from, line.len(), b'\\') {
        let (unit, len) = unescape_unit(line, p);
        if let Unit::Byte(b) = unit {
            out.extend_from_slice(line.get(copied..p).unwrap_or_default());
            out.push(b);
            copied = p + len;
        }
        from = p + len;
    }
    out.extend_from_slice(line.get(copied..).unwrap_or_default());
}

/// The offset in the line of the byte that became byte `at` of the
/// unescaped text (the line's length if `at` is past its end). Walks the
/// line once; only called for a line that is not an object.
fn escaped_offset(line: &[u8], at: usize) -> usize {
    let mut produced = 0;
    let mut from = 0;
    while let Some(p) = scan::find_in(line, from, line.len(), b'\\') {
        if at < produced + (p - from) {
            return from + (at - produced);
        }
        produced += p - from;
        let (unit, len) = unescape_unit(line, p);
        let out_len = match unit {
            Unit::Byte(_) => 1,
            Unit::Kept => len,
        };
        if at < produced + out_len {
            return p;
        }
        produced += out_len;
        from = p + len;
    }
    (from + (at - produced)).min(line.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::formats::assert_linear;

    /// Named cases: a line as it sits in the record's JSON string, and the
    /// object text returned or the mismatch's message.
    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, Result<&str, &str>)] = &[
            (
                // https://pkg.go.dev/log/slog (JSONHandler example output)
                "slog JSONHandler, docs sample",
                r#"{\"time\":\"2022-11-08T15:28:26.000000000-05:00\",\"level\":\"INFO\",\"msg\":\"hello\",\"count\":3}\n"#,
                Ok(
                    r#"{"time":"2022-11-08T15:28:26.000000000-05:00","level":"INFO","msg":"hello","count":3}"#,
                ),
            ),
            (
                // https://kubernetes.io/docs/concepts/cluster-administration/system-logs/
                "kubernetes JSON log format, docs sample",
                r#"{\"ts\":1580306777.04728,\"v\":4,\"msg\":\"Pod status updated\",\"pod\":{\"name\":\"nginx-1\",\"namespace\":\"default\"},\"status\":\"ready\"}"#,
                Ok(
                    r#"{"ts":1580306777.04728,"v":4,"msg":"Pod status updated","pod":{"name":"nginx-1","namespace":"default"},"status":"ready"}"#,
                ),
            ),
            (
                "escapes of the inner object kept one level down",
                r#"{\"msg\":\"say \\\"hi\\\" \\\\ \\n\",\"path\":\"C:\\\\x\"}"#,
                Ok(r#"{"msg":"say \"hi\" \\ \n","path":"C:\\x"}"#),
            ),
            (
                "non-ASCII and invalid-byte escapes kept as they are",
                r#"{\"msg\":\"caf\u00e9 \ud83d\ude00 \ue0ff\"}"#,
                Ok(r#"{"msg":"caf\u00e9 \ud83d\ude00 \ue0ff"}"#),
            ),
            (
                "printable ASCII escapes become bytes",
                r#"{\"a\":\"\u0026\u003c\"}"#,
                Ok(r#"{"a":"&<"}"#),
            ),
            (
                "whitespace escapes around and inside the structure",
                r#"\n {\n\t\"a\" : [1, 2],\r\n\"b\":null } "#,
                Ok("{\n\t\"a\" : [1, 2],\r\n\"b\":null }"),
            ),
            (
                "a raw control character in a string is accepted as its escape",
                r#"{\"a\":\"x\u0001y\by\"}"#,
                Ok(r#"{"a":"x\u0001y\by"}"#),
            ),
            ("empty object", r#"{}"#, Ok(r#"{}"#)),
            (
                "hostile: a quote closing a string early",
                r#"{\"msg\":\"a\"b\"}"#,
                Err(r#"not json: expected ',' or a matching close at byte 14"#),
            ),
            (
                "invalid: a newline inside a string",
                r#"{\"msg\":\"a\nb\"}"#,
                Err(r#"not json: expected no raw control byte in a string at byte 12"#),
            ),
            (
                "invalid: trailing text",
                r#"{\"a\":1} tail"#,
                Err(r#"not json: expected the end of the record at byte 10"#),
            ),
            (
                "invalid: unterminated",
                r#"{\"a\":1"#,
                Err(r#"not json: expected ',' or a matching close at byte 8"#),
            ),
            (
                "invalid: an array",
                r#"[1,2]"#,
                Err(r#"not json: expected `{` opening a JSON object at byte 0"#),
            ),
            (
                "invalid: plain text",
                r#"hello {\"a\":1}"#,
                Err(r#"not json: expected `{` opening a JSON object at byte 0"#),
            ),
            (
                "invalid: two objects",
                r#"{}{}"#,
                Err(r#"not json: expected the end of the record at byte 2"#),
            ),
            (
                "invalid: a non-ASCII escape outside a string",
                r#"{\"a\":1,\u00e9}"#,
                Err(r#"not json: expected a string key at byte 9"#),
            ),
            (
                "invalid: empty line",
                r#""#,
                Err(r#"not json: expected `{` opening a JSON object at byte 0"#),
            ),
        ];
        for (name, line, want) in cases {
            let mut scratch = Vec::new();
            let got = parse(line.as_bytes(), &mut scratch, &mut Pairs::new())
                .map(|t| String::from_utf8_lossy(t).into_owned())
                .map_err(|m| m.to_string());
            let want = want.map(str::to_string).map_err(str::to_string);
            assert_eq!(got, want, "case {name:?}");
        }
    }

    /// The offset of a mismatch points at the escaped line's byte that
    /// became the unescaped one.
    #[test]
    fn offsets_map_back_to_the_line() {
        let line = br#"ab\"c\u00e9d\\e\u0041f"#;
        let mut text = Vec::new();
        unescape_text(line, &mut text);
        assert_eq!(text, br#"ab"c\u00e9d\eAf"#);
        // Each byte of the unescaped text and the line's byte it came from.
        let want = [0, 1, 2, 4, 5, 5, 5, 5, 5, 5, 11, 12, 14, 15, 21];
        for (at, &offset) in want.iter().enumerate() {
            assert_eq!(escaped_offset(line, at), offset, "byte {at}");
        }
        assert_eq!(escaped_offset(line, 99), line.len());
    }

    #[test]
    fn hostile_lines_cost_linear_time() {
        let shapes: [(&str, &str); 3] = [
            ("deep nesting", r#"[{\"a\":"#),
            ("backslashes in a string", r#"\\\\\\\"\\"#),
            ("spaces and quotes", r#" \" \"  "#),
        ];
        for (name, unit) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = br#"{\"k\":"#.to_vec();
                    while line.len() < size {
                        line.extend_from_slice(unit.as_bytes());
                    }
                    line
                },
                |line| {
                    let mut scratch = Vec::new();
                    let _ = parse(line, &mut scratch, &mut Pairs::new());
                },
            );
        }
    }
}
