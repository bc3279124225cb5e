//! A record body as fluent-bit holds it (a msgpack value), and the JSON text
//! fluent-bit's encoder makes of it for the wasm filter.
//!
//! [`to_fluent_bit_json`] reproduces fluent-bit v5.1.1's msgpack-to-JSON
//! encoder (`msgpack2json` in `src/flb_pack.c` with `flb_utils_write_str`
//! in `src/flb_utils.c`, `json.escape_unicode` on, as built for x86-64 with
//! SSE2) byte for byte, quirks included:
//!
//! - Short escapes `\"` `\\` `\n` `\r` `\t` `\b` `\f`; every other byte below
//!   0x20 as `\u00XX` (lower-case hex); `/` is not escaped.
//! - DEL (0x7F) becomes `\u007f` only when the encoder is looking at it one
//!   byte at a time, that is within the 16 bytes that follow a byte needing
//!   attention; inside a clean 16-byte block it is copied raw.
//! - Valid UTF-8 becomes `\uXXXX` escapes, code points above U+FFFF a
//!   surrogate pair, all lower-case hex. Overlong two- and three-byte forms
//!   are decoded, not rejected (`C0 80` becomes `\u0000`).
//! - A byte that cannot start or continue a sequence is written as the raw
//!   UTF-8 of the private-use code point U+E000 + byte (three bytes
//!   `EE 8x xx`, not an escape), one per byte of the broken sequence.
//! - A lead byte whose sequence would run past the end of the string is
//!   dropped silently (so a lone `\xff` in the last five bytes vanishes).
//! - Integers print in decimal; a float equal to its truncation to a C
//!   `long long` prints with `%.1f`, any other with `%.16g` (`inf`, `nan`
//!   included, which is not JSON).
//! - In a map, an entry whose string key appears again later is skipped:
//!   the last duplicate wins, at its own position.
//! - Binary strings are written like strings.
//!
//! Invariant: the encoder never fails and never panics; any byte string is
//! written.

use crate::{json, msgpack};

/// A msgpack value, the shape of a fluent-bit record body.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `nil`.
    Nil,
    /// `true` or `false`.
    Bool(bool),
    /// A signed integer (fluent-bit's JSON reader makes negatives this).
    Int(i64),
    /// An unsigned integer (fluent-bit's JSON reader makes non-negatives this).
    UInt(u64),
    /// A float64 (a float32 is widened on reading, as msgpack-c does).
    Float(f64),
    /// A msgpack `str`: raw bytes, which need not be valid UTF-8.
    Str(Vec<u8>),
    /// A msgpack `bin` (an `ext` is read as this too).
    Bin(Vec<u8>),
    /// An array.
    Array(Vec<Body>),
    /// A map, in order, duplicate keys allowed.
    Map(Vec<(Body, Body)>),
}

impl Body {
    /// A `str` from text.
    pub fn str(text: &str) -> Body {
        Body::Str(text.as_bytes().to_vec())
    }

    /// A map from `(key, value)` pairs with text keys.
    pub fn map<'a>(entries: impl IntoIterator<Item = (&'a str, Body)>) -> Body {
        Body::Map(
            entries
                .into_iter()
                .map(|(k, v)| (Body::str(k), v))
                .collect(),
        )
    }

    /// The value under the first string key equal to `key`, if this is a map.
    pub fn get(&self, key: &str) -> Option<&Body> {
        match self {
            Body::Map(entries) => entries.iter().find_map(|(k, v)| match k {
                Body::Str(bytes) if bytes == key.as_bytes() => Some(v),
                _ => None,
            }),
            _ => None,
        }
    }

    /// The bytes of a `str` or `bin`.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        match self {
            Body::Str(bytes) | Body::Bin(bytes) => Some(bytes),
            _ => None,
        }
    }
}

/// The JSON text fluent-bit v5.1.1 hands to a wasm filter for `body` (with
/// the default `json.escape_unicode true`), without a trailing NUL.
pub fn to_fluent_bit_json(body: &Body) -> Vec<u8> {
    let mut out = Vec::new();
    write_value(&mut out, body);
    out
}

/// The msgpack fluent-bit hands to a wasm filter in `event_format msgpack`:
/// standard msgpack in msgpack-c's shortest forms (floats always float64).
pub fn to_msgpack(body: &Body) -> Vec<u8> {
    msgpack::encode(body)
}

/// Parses a JSON object with fluent-bit's leniency (see [`json`]); `None`
/// when the text does not start with a JSON object or nests deeper than
/// [`json::BUILD_DEPTH_LIMIT`].
pub fn from_json_object(text: &[u8]) -> Option<Body> {
    match json::read_first(text, json::BUILD_DEPTH_LIMIT) {
        Ok(doc) if doc.kind == json::RootKind::Object => doc.body,
        _ => None,
    }
}

fn write_value(out: &mut Vec<u8>, body: &Body) {
    match body {
        Body::Nil => out.extend_from_slice(b"null"),
        Body::Bool(true) => out.extend_from_slice(b"true"),
        Body::Bool(false) => out.extend_from_slice(b"false"),
        Body::Int(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Body::UInt(v) => out.extend_from_slice(v.to_string().as_bytes()),
        Body::Float(v) => out.extend_from_slice(format_float(*v).as_bytes()),
        Body::Str(bytes) | Body::Bin(bytes) => {
            out.push(b'"');
            write_escaped_str(out, bytes);
            out.push(b'"');
        }
        Body::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item);
            }
            out.push(b']');
        }
        Body::Map(entries) => {
            out.push(b'{');
            let mut packed = 0usize;
            for (i, (key, value)) in entries.iter().enumerate() {
                if key_appears_later(key, entries.get(i + 1..).unwrap_or_default()) {
                    continue;
                }
                if packed > 0 {
                    out.push(b',');
                }
                write_value(out, key);
                out.push(b':');
                write_value(out, value);
                packed += 1;
            }
            out.push(b'}');
        }
    }
}

/// fluent-bit skips a map entry whose key is a `str` that occurs again, as
/// a `str`, later in the same map.
fn key_appears_later(key: &Body, later: &[(Body, Body)]) -> bool {
    let Body::Str(key) = key else { return false };
    later
        .iter()
        .any(|(k, _)| matches!(k, Body::Str(other) if other == key))
}

/// `%.1f` when the value survives a round trip through a C `long long`
/// (x86-64 semantics: NaN and out-of-range values become `i64::MIN`),
/// `%.16g` otherwise.
pub fn format_float(v: f64) -> String {
    const TWO_POW_63: f64 = (1u64 << 63) as f64;
    let truncated = if v.is_nan() || !(-TWO_POW_63..TWO_POW_63).contains(&v) {
        i64::MIN
    } else {
        v.trunc() as i64
    };
    if truncated as f64 == v {
        format!("{v:.1}")
    } else {
        format_g(v, 16)
    }
}

/// C's `%.<precision>g` for a double, as glibc prints it.
pub fn format_g(v: f64, precision: usize) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_string();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    let precision = precision.max(1);
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let scientific = format!("{:.*e}", precision - 1, v);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let exponent: i64 = exponent.parse().unwrap_or(0);
    if exponent < -4 || exponent >= precision as i64 {
        let mantissa = strip_fraction_zeros(mantissa);
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    } else {
        let decimals = (precision as i64 - 1 - exponent).max(0) as usize;
        strip_fraction_zeros(&format!("{v:.decimals$}")).to_string()
    }
}

fn strip_fraction_zeros(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Bytes fluent-bit's encoder examines 16 at a time (one SSE2 register).
const BLOCK: usize = 16;

/// Whether a byte makes the encoder leave its 16-byte fast path.
fn needs_attention(c: u8) -> bool {
    c <= 0x1F || c == b'"' || c == b'\\' || c >= 0x80
}

/// The escape fluent-bit's table gives an ASCII byte, if any.
fn ascii_escape(c: u8) -> Option<Vec<u8>> {
    let short: &[u8] = match c {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        0x08 => b"\\b",
        0x0C => b"\\f",
        0x00..=0x1F | 0x7F => return Some(format!("\\u{c:04x}").into_bytes()),
        _ => return None,
    };
    Some(short.to_vec())
}

/// Sequence length fluent-bit assumes from a lead byte (continuation bytes
/// and ASCII count 1; F8..FB count 5 and FC..FF count 6).
fn sequence_len(lead: u8) -> usize {
    match lead {
        0x00..=0xBF => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        0xF8..=0xFB => 5,
        0xFC..=0xFF => 6,
    }
}

enum Step {
    Accept,
    Reject,
    Continue,
}

/// fluent-bit's UTF-8 decoder step: `remaining` is the number of
/// continuation bytes still expected (0 at the start of a character).
fn decode_step(remaining: &mut u32, codepoint: &mut u32, byte: u8) -> Step {
    if *remaining == 0 {
        if byte <= 0x7F {
            *codepoint = u32::from(byte);
            return Step::Accept;
        } else if byte & 0xE0 == 0xC0 {
            *codepoint = u32::from(byte & 0x1F);
            *remaining = 1;
        } else if byte & 0xF0 == 0xE0 {
            *codepoint = u32::from(byte & 0x0F);
            *remaining = 2;
        } else if byte & 0xF8 == 0xF0 {
            *codepoint = u32::from(byte & 0x07);
            *remaining = 3;
        } else {
            return Step::Reject;
        }
    } else if byte & 0xC0 == 0x80 {
        *codepoint = (*codepoint << 6) | u32::from(byte & 0x3F);
        *remaining -= 1;
    } else {
        return Step::Reject;
    }
    if *remaining == 0 {
        if (0xD800..=0xDFFF).contains(codepoint) || *codepoint > 0x10FFFF {
            Step::Reject
        } else {
            Step::Accept
        }
    } else {
        Step::Continue
    }
}

/// Writes the raw UTF-8 of U+E000 + `byte`.
fn push_fragment(out: &mut Vec<u8>, byte: u8) {
    out.extend_from_slice(&[0xEE, 0x80 | (byte >> 6), 0x80 | (byte & 0x3F)]);
}

/// The body of a JSON string as fluent-bit writes it (see the module doc).
///
/// Structure mirrors the C loop so that the position-dependent DEL quirk
/// comes out the same: skip clean 16-byte blocks, copy them, then look at
/// up to 16 characters one at a time; the per-character counter is reset to
/// the fragment count after a broken sequence, and a truncated sequence ends
/// the per-character run early.
pub fn write_escaped_str(out: &mut Vec<u8>, s: &[u8]) {
    let n = s.len();
    let mut i = 0usize;
    let mut copied_to = 0usize;
    loop {
        while let Some(block) = s.get(i..i + BLOCK) {
            if block.iter().any(|&c| needs_attention(c)) {
                break;
            }
            i += BLOCK;
        }
        if copied_to < i {
            out.extend_from_slice(s.get(copied_to..i).unwrap_or_default());
        }
        let mut counter = 0usize;
        while counter < BLOCK {
            let Some(&c) = s.get(i) else { return };
            if c < 0x80 {
                match ascii_escape(c) {
                    Some(escape) => out.extend_from_slice(&escape),
                    None => out.push(c),
                }
            } else {
                let mut len = sequence_len(c);
                if i + len > n {
                    i += 1;
                    break;
                }
                let mut remaining = 0u32;
                let mut codepoint = 0u32;
                let mut valid = true;
                let mut fragment = [0u8; 6];
                let mut k = 0usize;
                while k < len {
                    let byte = s.get(i).copied().unwrap_or(0);
                    if let Step::Reject = decode_step(&mut remaining, &mut codepoint, byte) {
                        if k == 0 {
                            fragment[0] = byte;
                            len = 1;
                            i += 1;
                        } else {
                            len = k;
                        }
                        valid = false;
                        break;
                    }
                    if let Some(slot) = fragment.get_mut(k) {
                        *slot = byte;
                    }
                    i += 1;
                    k += 1;
                }
                i -= 1;
                if valid {
                    if codepoint > 0xFFFF {
                        let high = 0xD800 + ((codepoint - 0x10000) >> 10);
                        let low = 0xDC00 + ((codepoint - 0x10000) & 0x3FF);
                        out.extend_from_slice(format!("\\u{high:04x}\\u{low:04x}").as_bytes());
                    } else {
                        out.extend_from_slice(format!("\\u{codepoint:04x}").as_bytes());
                    }
                } else {
                    for &byte in fragment.get(..len).unwrap_or_default() {
                        push_fragment(out, byte);
                    }
                    counter = len;
                }
            }
            i += 1;
            counter += 1;
        }
        copied_to = i;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(bytes: &[u8]) -> Vec<u8> {
        to_fluent_bit_json(&Body::Str(bytes.to_vec()))
    }

    /// Named cases; expectations written by hand from fluent-bit's encoder.
    #[test]
    fn string_escapes() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("plain ascii", b"hello world", b"\"hello world\""),
            ("empty", b"", b"\"\""),
            ("slash is not escaped", b"a/b", b"\"a/b\""),
            (
                "short escapes",
                b"\"\\\n\r\t\x08\x0c",
                b"\"\\\"\\\\\\n\\r\\t\\b\\f\"",
            ),
            (
                "other controls",
                b"\x00\x01\x0b\x1f",
                b"\"\\u0000\\u0001\\u000b\\u001f\"",
            ),
            (
                "DEL after a control char",
                b"\x01\x7f",
                b"\"\\u0001\\u007f\"",
            ),
            (
                "DEL in a clean block",
                b"abcdefghijklmno\x7f",
                b"\"abcdefghijklmno\x7f\"",
            ),
            ("DEL alone, short string", b"\x7f", b"\"\\u007f\""),
            ("two-byte char", "é".as_bytes(), b"\"\\u00e9\""),
            ("three-byte char", "€".as_bytes(), b"\"\\u20ac\""),
            ("astral char", "😀".as_bytes(), b"\"\\ud83d\\ude00\""),
            ("lone continuation byte", b"\x80abc", b"\"\xee\x82\x80abc\""),
            (
                "0xff with enough bytes after",
                b"\xffabcdef",
                b"\"\xee\x83\xbfabcdef\"",
            ),
            ("0xff at the end is dropped", b"ab\xff", b"\"ab\""),
            (
                "truncated sequence at the end",
                b"ab\xe2\x82",
                b"\"ab\xee\x82\x82\"",
            ),
            ("bad continuation", b"\xc3(xx", b"\"\xee\x83\x83(xx\""),
            (
                "two good then bad",
                b"\xe2\x82(xx",
                b"\"\xee\x83\xa2\xee\x82\x82(xx\"",
            ),
            ("overlong NUL", b"\xc0\x80", b"\"\\u0000\""),
            (
                "encoded surrogate",
                b"\xed\xa0\x80xyz",
                b"\"\xee\x83\xad\xee\x82\xa0\xee\x82\x80xyz\"",
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(
                enc(input),
                expected.to_vec(),
                "{name}: got {:?}",
                String::from_utf8_lossy(&enc(input))
            );
        }
    }

    #[test]
    fn long_clean_prefix_then_special() {
        let mut input = b"0123456789abcdef0123456789abcdef".to_vec();
        input.extend_from_slice("ü\x7f".as_bytes());
        let mut expected = b"\"0123456789abcdef0123456789abcdef".to_vec();
        expected.extend_from_slice(b"\\u00fc\\u007f\"");
        assert_eq!(enc(&input), expected);
    }

    #[test]
    fn scalars() {
        let cases: &[(Body, &str)] = &[
            (Body::Nil, "null"),
            (Body::Bool(true), "true"),
            (Body::Bool(false), "false"),
            (Body::Int(-42), "-42"),
            (Body::UInt(u64::MAX), "18446744073709551615"),
            (Body::Float(1.0), "1.0"),
            (Body::Float(-0.0), "-0.0"),
            (Body::Float(0.5), "0.5"),
            (Body::Float(3.25), "3.25"),
            (Body::Float(2.2), "2.2"),
            (Body::Float(0.1), "0.1"),
            (Body::Float(1e15), "1000000000000000.0"),
            (Body::Float(1e20), "1e+20"),
            (Body::Float(1e300), "1e+300"),
            (Body::Float(1.5e-7), "1.5e-07"),
            (Body::Float((1u64 << 63) as f64), "9.223372036854776e+18"),
            (
                Body::Float(-((1u64 << 63) as f64)),
                "-9223372036854775808.0",
            ),
            (Body::Float(f64::INFINITY), "inf"),
            (Body::Float(f64::NAN), "nan"),
            (Body::Float(123456.789), "123456.789"),
            (Body::Float(0.0001), "0.0001"),
            (Body::Float(0.00001234), "1.234e-05"),
        ];
        for (body, expected) in cases {
            assert_eq!(
                String::from_utf8(to_fluent_bit_json(body)).ok().as_deref(),
                Some(*expected),
                "{body:?}"
            );
        }
    }

    #[test]
    fn maps_and_arrays() {
        let body = Body::Map(vec![
            (Body::str("a"), Body::UInt(1)),
            (Body::str("b"), Body::Array(vec![Body::Nil, Body::str("x")])),
            (Body::str("a"), Body::UInt(2)),
            (Body::str("c"), Body::map([])),
        ]);
        assert_eq!(
            to_fluent_bit_json(&body),
            br#"{"b":[null,"x"],"a":2,"c":{}}"#.to_vec()
        );
        assert_eq!(to_fluent_bit_json(&Body::Array(vec![])), b"[]".to_vec());
        assert_eq!(
            to_fluent_bit_json(&Body::Bin(b"\x01".to_vec())),
            b"\"\\u0001\"".to_vec()
        );
    }

    #[test]
    fn get_finds_string_keys() {
        let body = Body::map([("log", Body::str("x")), ("n", Body::UInt(3))]);
        assert_eq!(body.get("n"), Some(&Body::UInt(3)));
        assert_eq!(body.get("missing"), None);
        assert_eq!(body.get("log").and_then(Body::as_bytes), Some(&b"x"[..]));
    }
}
