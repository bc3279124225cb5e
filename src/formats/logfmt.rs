//! logfmt lines: `key=value` pairs separated by spaces, as logrus's
//! `TextFormatter`, go-kit's and slog's `TextHandler` write them, e.g.
//! `time="2018-09-17T12:13:43Z" level=error msg="..." source="collector.go:123"`
//! (<https://brandur.org/logfmt>).
//!
//! Entry point: [`parse`]. The keys are the application's, so the pairs go
//! into a [`Pairs`] (keys borrowed from the line) instead of [`Fields`](super::Fields),
//! whose names are fixed at compile time.
//!
//! # Fields
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | each key as written | string | its value, unquoted and unescaped once | `key=value`, `key="value"` |
//! | `time`, `ts`, `timestamp` | string (RFC 3339 UTC) | when the value is an RFC 3339 time | `time=2018-09-17T12:13:43Z` |
//! | a key alone | string `"true"` | a flag | `key` |
//!
//! Every value is a string: a bare `8` or `true` stays the text `"8"` or
//! `"true"`. Guessing types per line would give one key a number in one
//! record and a string in the next, which an index mapping cannot hold. The
//! known time keys `time`, `ts` and `timestamp` are the exception: when the
//! value is an RFC 3339 time it is normalised to UTC (still a string);
//! any other layout is kept as written, to be normalised later.
//!
//! # Grammar
//!
//! - Pairs are separated by one or more spaces (or `\t`).
//! - A key is one or more bytes other than space, `=` and `"` (escapes such
//!   as `\u00e9` are taken whole).
//! - `key=value`: a bare value runs to the next space (it may contain `=`:
//!   `url=/a?b=c`); `key="value"` is quoted, with `\"` and `\\` escaped as
//!   Go's `strconv.Quote` writes them; `key=` is the empty string.
//! - `key` alone is a flag and reads as `"true"` (fluent-bit's `logfmt`
//!   parser writes the boolean `true` there, and also for `key=`; a string
//!   keeps one JSON type per key).
//! - A repeated key: the first occurrence wins, later ones are skipped.
//! - At most 64 distinct keys (`MAX_PAIRS`): the rest of the line is left out
//!   and the line marked `out-of-range` (it is then kept whole).
//! - A line is logfmt only if it has at least one `key=value` pair; a line
//!   of bare words is plain text.
//!
//! # Quoted values and escaping
//!
//! In the record's string the line is escaped once more: `msg="a \"b\""`
//! arrives as `msg=\"a \\\"b\\\"\"`. A quoted value without an escape of
//! its own is a sub-slice of the line. One with escapes (`\"`, `\\`, `\n`,
//! `\t`, `\uXXXX`) is unescaped once into a caller-provided buffer, so
//! that `\"` in the value becomes a quote in the output; an escape JSON
//! does not have (`\x41`, `\a`) keeps its backslash as a literal one. A
//! bare value is taken as written (logfmt does not unescape bare values).
//!
//! # Unescaped quotes
//!
//! A logger that does not escape a quote inside a quoted value (as in
//! `msg="parsing "N/A": invalid syntax"`) makes the split ambiguous: the
//! quote may end the value or belong to it. The parser does not guess.
//! When a quoted value is followed by anything but a space or the end of
//! the line, or a quote appears inside a key or bare value, the pairs read
//! before it are kept, the rest is left out and the line is marked
//! `quote-injection` (it is then kept whole). A line that breaks before
//! its first `key=value` pair is not logfmt.
//!
//! Cost: keys and bare values are short and read a byte at a time; quoted
//! values are searched a word at a time for backslashes; unescaping is one
//! bulk-copying pass. The first-wins check compares a key with at most
//! 64 others, after a two-hash filter. Linear in the line's
//! length.

use super::{Mismatch, Outcome, Pairs, Suspicion, Value, quoted_end, trim_line_end};
use crate::time::parse_rfc3339;

/// The format name.
pub const LOGFMT: &str = "logfmt";

/// What a flag (a key without `=`) reads as.
const FLAG: &[u8] = b"true";

/// Parses one logfmt line into `pairs`; quoted values that need unescaping
/// are unescaped into `scratch` (cleared first). On a mismatch `pairs` is
/// left as it was.
pub fn parse<'a>(line: &'a [u8], scratch: &'a mut Vec<u8>, pairs: &mut Pairs<'a>) -> Outcome {
    let line = trim_line_end(line);
    let before = pairs.len();
    scratch.clear();
    let read = read_pairs(line, scratch, pairs);
    let mismatch = match read {
        Read::Done { valued: true } => None,
        Read::Done { valued: false } => Some(("a `key=value` pair", 0)),
        Read::Broke { at, quote, valued } => {
            if quote && valued {
                pairs.flag(Suspicion::QuoteInjection);
                None
            } else {
                Some(("a `key=value` pair, space separated", at))
            }
        }
    };
    if let Some((expected, at)) = mismatch {
        pairs.truncate(before);
        return Err(Mismatch {
            format: LOGFMT,
            expected,
            at,
        });
    }
    // The unescaped values: a header (the pair's index and the value's
    // length, four bytes each) before each one.
    let shared: &'a Vec<u8> = scratch;
    let mut rest: &'a [u8] = shared;
    while let Some((header, tail)) = rest.split_first_chunk::<8>() {
        let [i0, i1, i2, i3, l0, l1, l2, l3] = *header;
        let index = u32::from_le_bytes([i0, i1, i2, i3]) as usize;
        let len = u32::from_le_bytes([l0, l1, l2, l3]) as usize;
        let (value, after) = tail.split_at_checked(len).unwrap_or((tail, &[]));
        pairs.set_value(index, Value::Text(value));
        rest = after;
    }
    Ok(LOGFMT)
}

/// How reading the line ended.
#[derive(Debug)]
enum Read {
    /// The whole line was read (or the pair limit reached); `valued` when
    /// a `key=value` pair was among what was read.
    Done { valued: bool },
    /// The grammar broke at `at`; `quote` when a quote is to blame,
    /// `valued` when a `key=value` pair was read before.
    Broke {
        at: usize,
        quote: bool,
        valued: bool,
    },
}

/// What ends a bare token (a key or a bare value).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// A space, a `\t` escape or the end of the line.
    Separator,
    /// `=` (keys only).
    Equals,
    /// A quote (`\"`).
    Quote,
}

/// Reads a bare token from `at`: bytes up to a space, `\t`, `\"` or, for a
/// key, `=`; other escapes are taken whole (`\u` and its four digits, any
/// other two bytes). Returns where it ends and why.
fn bare_end(line: &[u8], mut at: usize, is_key: bool) -> (usize, Stop) {
    loop {
        match line.get(at) {
            None | Some(b' ') => return (at, Stop::Separator),
            Some(b'=') if is_key => return (at, Stop::Equals),
            Some(b'\\') => match line.get(at + 1) {
                Some(b'"') => return (at, Stop::Quote),
                Some(b't') => return (at, Stop::Separator),
                Some(b'u') => at += 6,
                _ => at += 2,
            },
            Some(_) => at += 1,
        }
    }
}

/// Skips spaces and `\t` escapes.
fn separators_end(line: &[u8], mut at: usize) -> usize {
    loop {
        match (line.get(at), line.get(at + 1)) {
            (Some(b' '), _) => at += 1,
            (Some(b'\\'), Some(b't')) => at += 2,
            _ => return at,
        }
    }
}

/// Whether a key is one of the time keys normalised when they hold an RFC
/// 3339 time.
fn is_time_key(key: &[u8]) -> bool {
    matches!(key, b"time" | b"ts" | b"timestamp")
}

/// Reads the pairs into `pairs`. A value needing unescaping is pushed as
/// its raw text and unescaped into `scratch` after a header naming the
/// pair; [`parse`] swaps it in once the buffer is complete.
fn read_pairs<'a>(line: &'a [u8], scratch: &mut Vec<u8>, pairs: &mut Pairs<'a>) -> Read {
    let mut at = separators_end(line, 0);
    let mut valued = false;
    while at < line.len() {
        let broke = |at: usize, quote: bool| Read::Broke { at, quote, valued };
        let (key_end, stop) = bare_end(line, at, true);
        let key = line.get(at..key_end).unwrap_or_default();
        if key.is_empty() {
            return broke(at, stop == Stop::Quote);
        }
        let (value, escaped, next) = match stop {
            Stop::Quote => return broke(key_end, true),
            Stop::Separator => (FLAG, false, key_end),
            Stop::Equals if line.get(key_end + 1..key_end + 3) == Some(b"\\\"".as_slice()) => {
                let from = key_end + 3;
                let Some((close, escaped)) = quoted_end(line, from) else {
                    return broke(key_end + 1, true);
                };
                let after = close + 2;
                if after < line.len() && separators_end(line, after) == after {
                    return broke(after, true);
                }
                (line.get(from..close).unwrap_or_default(), escaped, after)
            }
            Stop::Equals => {
                let from = key_end + 1;
                let (end, stop) = bare_end(line, from, false);
                if stop == Stop::Quote {
                    return broke(end, true);
                }
                (line.get(from..end).unwrap_or_default(), false, end)
            }
        };
        if pairs.is_full() && !pairs.has_key(key) {
            pairs.flag(Suspicion::OutOfRange);
            return Read::Done { valued };
        }
        let time = (!escaped && is_time_key(key)).then(|| parse_rfc3339(value));
        let typed = match time {
            Some(Some(time)) => Value::Time(time),
            _ => Value::Text(value),
        };
        let index = pairs.len();
        if pairs.insert(key, typed) && escaped {
            let header = scratch.len();
            scratch.extend_from_slice(&u32::try_from(index).unwrap_or(u32::MAX).to_le_bytes());
            scratch.extend_from_slice(&[0; 4]);
            let start = scratch.len();
            super::unescape_once(value, scratch);
            let len = u32::try_from(scratch.len() - start).unwrap_or(u32::MAX);
            if let Some(slot) = scratch.get_mut(header + 4..header + 8) {
                slot.copy_from_slice(&len.to_le_bytes());
            }
        }
        valued |= stop == Stop::Equals;
        at = separators_end(line, next);
    }
    Read::Done { valued }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{MAX_PAIRS, assert_linear, render_pairs};

    /// Named cases: a line as it sits in the record's JSON string and the
    /// exact result. Invalid lines included.
    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                // The issue's line, with the quotes inside `msg` escaped as
                // the logger wrote them.
                "prometheus node exporter (logrus), issue sample",
                r#"time=\"2018-09-17T12:13:43Z\" level=error msg=\"ERROR: infiniband collector failed after 0.030957s: strconv.ParseUint: parsing \\\"N/A (no PMA)\\\": invalid syntax\" source=\"collector.go:123\"\n"#,
                &[
                    r#"logfmt"#,
                    r#"time:@2018-09-17T12:13:43Z"#,
                    r#"level:"error""#,
                    r#"msg:"ERROR: infiniband collector failed after 0.030957s: strconv.ParseUint: parsing \"N/A (no PMA)\": invalid syntax""#,
                    r#"source:"collector.go:123""#,
                ],
            ),
            (
                // https://brandur.org/logfmt
                "heroku router, logfmt article sample",
                r#"at=info method=GET path=/ host=mutelight.org fwd=\"124.133.52.161\" dyno=web.2 connect=4ms service=8ms status=200 bytes=1653"#,
                &[
                    r#"logfmt"#,
                    r#"at:"info""#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"host:"mutelight.org""#,
                    r#"fwd:"124.133.52.161""#,
                    r#"dyno:"web.2""#,
                    r#"connect:"4ms""#,
                    r#"service:"8ms""#,
                    r#"status:"200""#,
                    r#"bytes:"1653""#,
                ],
            ),
            (
                // https://pkg.go.dev/log/slog (TextHandler example output)
                "slog TextHandler, docs sample, offset time normalised",
                r#"time=2022-11-08T15:28:26.000-05:00 level=INFO msg=hello count=3"#,
                &[
                    r#"logfmt"#,
                    r#"time:@2022-11-08T20:28:26.000Z"#,
                    r#"level:"INFO""#,
                    r#"msg:"hello""#,
                    r#"count:"3""#,
                ],
            ),
            (
                // https://github.com/sirupsen/logrus (README)
                "logrus README sample",
                r#"time=\"2015-03-26T01:27:38-04:00\" level=debug msg=\"Started observing beach\" animal=walrus number=8"#,
                &[
                    r#"logfmt"#,
                    r#"time:@2015-03-26T05:27:38Z"#,
                    r#"level:"debug""#,
                    r#"msg:"Started observing beach""#,
                    r#"animal:"walrus""#,
                    r#"number:"8""#,
                ],
            ),
            (
                "go-kit ts and caller, a time key in another layout kept as text",
                r#"ts=2018-09-17T12:13:43.123456789Z caller=main.go:12 t=1537186423 time=\"17 Sep 2018\""#,
                &[
                    r#"logfmt"#,
                    r#"ts:@2018-09-17T12:13:43.123456789Z"#,
                    r#"caller:"main.go:12""#,
                    r#"t:"1537186423""#,
                    r#"time:"17 Sep 2018""#,
                ],
            ),
            (
                "flags, empty values, repeated keys, extra spaces and tabs",
                r#"  debug a= b=\"\" a=2  c=x=y\tverbose  "#,
                &[
                    r#"logfmt"#,
                    r#"debug:"true""#,
                    r#"a:"""#,
                    r#"b:"""#,
                    r#"c:"x=y""#,
                    r#"verbose:"true""#,
                ],
            ),
            (
                "escapes: go quoting unescaped once, JSON escapes and bare backslashes kept",
                r#"msg=\"tab\\there \\\\ \\u00e9 \\x41 caf\u00e9\" path=C:\\dir k\u00e9y=v"#,
                &[
                    r#"logfmt"#,
                    r#"msg:"tab\there \\ \u00e9 \\x41 caf\u00e9""#,
                    r#"path:"C:\\dir""#,
                    r#"k\u00e9y:"v""#,
                ],
            ),
            (
                "hostile: the issue's line as printed, quotes not escaped",
                r#"time=\"2018-09-17T12:13:43Z\" level=error msg=\"ERROR: parsing \"N/A (no PMA)\": invalid syntax\" source=\"collector.go:123\""#,
                &[
                    r#"logfmt quote-injection"#,
                    r#"time:@2018-09-17T12:13:43Z"#,
                    r#"level:"error""#,
                ],
            ),
            (
                "hostile: a quoted value forging a pair stops at the first break",
                r#"level=info msg=\"x\" level=\"debug\" user=\"a\"b\" admin=true"#,
                &[r#"logfmt quote-injection"#, r#"level:"info""#, r#"msg:"x""#],
            ),
            (
                "hostile: unterminated quoted value",
                r#"level=info msg=\"no end"#,
                &[r#"logfmt quote-injection"#, r#"level:"info""#],
            ),
            (
                "hostile: a quote inside a bare value",
                r#"a=1 b=x\"y c=2"#,
                &[r#"logfmt quote-injection"#, r#"a:"1""#],
            ),
            (
                "invalid: plain text",
                r#"Starting the server"#,
                &[r#"not logfmt: expected a `key=value` pair at byte 0"#],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[r#"not logfmt: expected a `key=value` pair at byte 0"#],
            ),
            (
                "invalid: a quote before any pair",
                r#"hello \"world\" a=1"#,
                &[r#"not logfmt: expected a `key=value` pair, space separated at byte 6"#],
            ),
            (
                "invalid: a pair without a key",
                r#"a=1 =2"#,
                &[r#"not logfmt: expected a `key=value` pair, space separated at byte 4"#],
            ),
        ];
        for (name, line, want) in cases {
            let mut pairs = Pairs::new();
            let mut scratch = Vec::new();
            let outcome = parse(line.as_bytes(), &mut scratch, &mut pairs);
            assert_eq!(render_pairs(outcome, &pairs), *want, "case {name:?}");
        }
    }

    /// A mismatch leaves the pairs as they were.
    #[test]
    fn mismatch_pushes_nothing() {
        for line in ["a b \"c", "x y =z", "flag other"] {
            let mut pairs = Pairs::new();
            let mut scratch = Vec::new();
            assert!(parse(line.as_bytes(), &mut scratch, &mut pairs).is_err());
            assert!(pairs.is_empty() && pairs.suspect.is_none(), "{line}");
            assert!(!pairs.has_key(b"a") && !pairs.has_key(b"x"), "{line}");
        }
    }

    /// More distinct keys than the cap: the first ones are kept and the
    /// line is flagged; repeats of a held key do not count.
    #[test]
    fn pair_cap() {
        let mut line = String::from("k=0 k=1");
        for i in 0..100 {
            line.push_str(&format!(" k{i}=v"));
        }
        let mut pairs = Pairs::new();
        let mut scratch = Vec::new();
        assert_eq!(parse(line.as_bytes(), &mut scratch, &mut pairs), Ok(LOGFMT));
        assert_eq!(pairs.len(), MAX_PAIRS);
        assert_eq!(pairs.suspect, Some(Suspicion::OutOfRange));
        assert_eq!(pairs.get(b"k"), Some(Value::Text(b"0")));
        assert!(pairs.has_key(b"k62") && !pairs.has_key(b"k63"));
    }

    /// Quoted values against a naive reference: Go-style quoting of random
    /// text, escaped for JSON, read back to the JSON escape of the text.
    #[test]
    fn quoted_values_match_naive_escaping() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let alphabet = ['a', ' ', '"', '\\', '\n', '\t', 'é', '=', 'x'];
        for _ in 0..3_000 {
            let mut text = String::new();
            for _ in 0..(state % 12) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                text.push(alphabet[(state >> 32) as usize % alphabet.len()]);
            }
            // The logger's quoting (Go strconv.Quote, for this alphabet).
            let quoted = format!("{text:?}");
            let log_line = format!("a=1 msg={quoted} b=2");
            // The record's string content: the line escaped for JSON, and
            // non-ASCII characters as `\uXXXX`, as fluent-bit writes them.
            let json = serde_json::to_string(&log_line).unwrap();
            let escaped: String = json[1..json.len() - 1]
                .chars()
                .map(|c| {
                    if c.is_ascii() {
                        c.to_string()
                    } else {
                        format!("\\u{:04x}", u32::from(c))
                    }
                })
                .collect();
            let mut pairs = Pairs::new();
            let mut scratch = Vec::new();
            assert_eq!(
                parse(escaped.as_bytes(), &mut scratch, &mut pairs),
                Ok(LOGFMT),
                "{escaped}"
            );
            let Some(Value::Text(got)) = pairs.get(b"msg") else {
                panic!("no msg in {escaped}");
            };
            let want = serde_json::to_string(&text).unwrap();
            let decoded: String =
                serde_json::from_str(&format!("\"{}\"", String::from_utf8_lossy(got))).unwrap();
            assert_eq!(decoded, text, "{escaped} gave {want}");
            assert_eq!(pairs.get(b"b"), Some(Value::Text(b"2")), "{escaped}");
        }
    }

    #[test]
    fn hostile_lines_cost_linear_time() {
        let shapes: [(&str, &str, &str); 5] = [
            ("spaces", "x=1 ", "a=1         "),
            ("escaped quotes in a value", r#"x=1 msg=\""#, r#"\\\"\\\\ "#),
            ("quotes and spaces", "x=1 ", r#"\" \" "#),
            ("flags", "x=1 ", "f "),
            ("same key repeated", "", "k=v "),
        ];
        for (name, prefix, unit) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = prefix.as_bytes().to_vec();
                    while line.len() < size {
                        line.extend_from_slice(unit.as_bytes());
                    }
                    line
                },
                |line| {
                    let mut pairs = Pairs::new();
                    let mut scratch = Vec::new();
                    let _ = parse(line, &mut scratch, &mut pairs);
                },
            );
        }
    }
}
