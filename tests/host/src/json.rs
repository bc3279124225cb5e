//! Judges JSON text the way fluent-bit v5.1.1 does when a wasm filter
//! answers: `flb_pack_json` with its default yyjson 0.12 backend, read
//! flags `STOP_WHEN_DONE | INSITU | ALLOW_INVALID_UNICODE |
//! REPLACE_INVALID_UNICODE` (`src/flb_pack.c`, `pack_json_to_msgpack_yyjson`).
//!
//! What that accepts beyond strict JSON, and so what this reader accepts:
//! - raw control characters and invalid UTF-8 inside strings (kept as is);
//! - a lone or mismatched surrogate escape (`\ud800`): it becomes U+FFFD;
//! - a `\u` escape with fewer than four hex digits: kept literally as
//!   `\u` plus the digits, and the character after them is skipped unless
//!   it is a quote;
//! - anything after the first complete value (fluent-bit reads further
//!   values from it, but the first one's type decides).
//!
//! Still rejected: other invalid escapes, leading zeros, `1.`, `.5`, `+1`,
//! numbers that overflow a double, `NaN`/`Infinity`, comments, trailing
//! commas, unclosed strings or containers, text that is only whitespace.
//!
//! Invariant: the reader is iterative (any nesting depth is checked in
//! constant stack); it builds a [`Body`] only for values that nest no deeper
//! than the limit it is given, so dropping the result cannot exhaust the
//! stack either.

use crate::body::Body;
use std::fmt;

/// Nesting depth up to which the convenience readers build a [`Body`]
/// (serde_json's own recursion limit).
pub const BUILD_DEPTH_LIMIT: usize = 128;

/// The type of the first JSON value in a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKind {
    Object,
    Array,
    String,
    /// A number, `true`, `false` or `null`.
    Primitive,
}

/// The first JSON value of a text.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: RootKind,
    /// Byte offset just past the value.
    pub end: usize,
    /// Deepest container nesting (0 for a scalar).
    pub depth: usize,
    /// The value as fluent-bit would pack it, when `depth` is within the
    /// build limit.
    pub body: Option<Body>,
}

/// Why text is not JSON to fluent-bit, with the byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub at: usize,
    pub kind: JsonErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonErrorKind {
    /// Only whitespace (or nothing).
    NoValue,
    UnexpectedEnd,
    UnexpectedCharacter,
    InvalidLiteral,
    InvalidEscape,
    UnclosedString,
    NoDigitAfterSign,
    LeadingZero,
    NoDigitAfterPoint,
    NoDigitInExponent,
    NumberIsInfinite,
    ExpectedColon,
    ExpectedKey,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            JsonErrorKind::NoValue => "no JSON value",
            JsonErrorKind::UnexpectedEnd => "unexpected end of data",
            JsonErrorKind::UnexpectedCharacter => "unexpected character",
            JsonErrorKind::InvalidLiteral => "invalid literal",
            JsonErrorKind::InvalidEscape => "invalid escaped sequence in string",
            JsonErrorKind::UnclosedString => "unclosed string",
            JsonErrorKind::NoDigitAfterSign => "no digit after sign",
            JsonErrorKind::LeadingZero => "number with leading zero is not allowed",
            JsonErrorKind::NoDigitAfterPoint => "no digit after decimal point",
            JsonErrorKind::NoDigitInExponent => "no digit after exponent sign",
            JsonErrorKind::NumberIsInfinite => "number is infinity when parsed as double",
            JsonErrorKind::ExpectedColon => "expected ':' after object key",
            JsonErrorKind::ExpectedKey => "expected a string key",
        };
        write!(f, "{what} at byte {}", self.at)
    }
}

impl std::error::Error for JsonError {}

/// Reads the first JSON value of `text` (after leading whitespace), with
/// fluent-bit's leniency; builds its [`Body`] if it nests no deeper than
/// `build_depth`.
pub fn read_first(text: &[u8], build_depth: usize) -> Result<Document, JsonError> {
    let mut reader = Reader { s: text, pos: 0 };
    reader.skip_ws();
    if reader.pos >= text.len() {
        return Err(JsonError {
            at: reader.pos,
            kind: JsonErrorKind::NoValue,
        });
    }
    let start = reader.pos;
    let (kind, depth) = reader.value(None)?;
    let end = reader.pos;
    let body = if depth <= build_depth {
        let mut builder = Builder::default();
        let mut again = Reader {
            s: text,
            pos: start,
        };
        again.value(Some(&mut builder))?;
        builder.finish()
    } else {
        None
    };
    Ok(Document {
        kind,
        end,
        depth,
        body,
    })
}

/// Whether fluent-bit keeps a wasm filter's JSON answer: its first value
/// must be an object.
pub fn is_fluent_bit_object(text: &[u8]) -> bool {
    matches!(
        read_first(text, 0),
        Ok(Document {
            kind: RootKind::Object,
            ..
        })
    )
}

/// Receives the values a [`Reader`] finds, in document order.
#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    done: Option<Body>,
}

enum Frame {
    Array(Vec<Body>),
    Object(Vec<(Body, Body)>, Option<Body>),
}

impl Builder {
    fn open(&mut self, object: bool) {
        self.stack.push(if object {
            Frame::Object(Vec::new(), None)
        } else {
            Frame::Array(Vec::new())
        });
    }

    fn close(&mut self) {
        let value = match self.stack.pop() {
            Some(Frame::Array(items)) => Body::Array(items),
            Some(Frame::Object(entries, _)) => Body::Map(entries),
            None => return,
        };
        self.push(value);
    }

    fn key(&mut self, key: Vec<u8>) {
        if let Some(Frame::Object(_, pending)) = self.stack.last_mut() {
            *pending = Some(Body::Str(key));
        }
    }

    fn push(&mut self, value: Body) {
        match self.stack.last_mut() {
            None => self.done = Some(value),
            Some(Frame::Array(items)) => items.push(value),
            Some(Frame::Object(entries, pending)) => {
                if let Some(key) = pending.take() {
                    entries.push((key, value));
                }
            }
        }
    }

    fn finish(self) -> Option<Body> {
        self.done
    }
}

struct Reader<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn err(&self, kind: JsonErrorKind) -> JsonError {
        JsonError { at: self.pos, kind }
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// Reads one value with an explicit stack of open containers (`true` =
    /// object). Returns the first value's kind and the deepest nesting.
    fn value(&mut self, mut out: Option<&mut Builder>) -> Result<(RootKind, usize), JsonError> {
        let mut open: Vec<bool> = Vec::new();
        let mut depth = 0usize;
        let mut root: Option<RootKind> = None;
        // Set when a value has just been read inside a container.
        let mut after_value = false;
        loop {
            if after_value {
                after_value = false;
                let Some(&object) = open.last() else { break };
                self.skip_ws();
                match self.peek() {
                    Some(b',') => {
                        self.pos += 1;
                        self.skip_ws();
                        if object {
                            self.key(&mut out)?;
                        }
                    }
                    Some(b'}') if object => {
                        self.pos += 1;
                        open.pop();
                        if let Some(b) = out.as_deref_mut() {
                            b.close();
                        }
                        after_value = true;
                        continue;
                    }
                    Some(b']') if !object => {
                        self.pos += 1;
                        open.pop();
                        if let Some(b) = out.as_deref_mut() {
                            b.close();
                        }
                        after_value = true;
                        continue;
                    }
                    None => return Err(self.err(JsonErrorKind::UnexpectedEnd)),
                    Some(_) => return Err(self.err(JsonErrorKind::UnexpectedCharacter)),
                }
            }
            // Read a value.
            self.skip_ws();
            let c = self.peek().ok_or(self.err(JsonErrorKind::UnexpectedEnd))?;
            let kind = match c {
                b'{' | b'[' => {
                    let object = c == b'{';
                    self.pos += 1;
                    open.push(object);
                    depth = depth.max(open.len());
                    if let Some(b) = out.as_deref_mut() {
                        b.open(object);
                    }
                    root.get_or_insert(if object {
                        RootKind::Object
                    } else {
                        RootKind::Array
                    });
                    self.skip_ws();
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.pos += 1;
                        open.pop();
                        if let Some(b) = out.as_deref_mut() {
                            b.close();
                        }
                        after_value = true;
                        continue;
                    }
                    if object {
                        self.key(&mut out)?;
                    }
                    continue;
                }
                b'"' => {
                    let text = self.string(out.is_some())?;
                    if let Some(b) = out.as_deref_mut() {
                        b.push(Body::Str(text));
                    }
                    RootKind::String
                }
                b't' | b'f' | b'n' => {
                    let (word, value): (&[u8], Body) = match c {
                        b't' => (b"true", Body::Bool(true)),
                        b'f' => (b"false", Body::Bool(false)),
                        _ => (b"null", Body::Nil),
                    };
                    if self.s.get(self.pos..self.pos + word.len()) != Some(word) {
                        return Err(self.err(JsonErrorKind::InvalidLiteral));
                    }
                    self.pos += word.len();
                    if let Some(b) = out.as_deref_mut() {
                        b.push(value);
                    }
                    RootKind::Primitive
                }
                b'-' | b'0'..=b'9' => {
                    let number = self.number()?;
                    if let Some(b) = out.as_deref_mut() {
                        b.push(number);
                    }
                    RootKind::Primitive
                }
                _ => return Err(self.err(JsonErrorKind::UnexpectedCharacter)),
            };
            root.get_or_insert(kind);
            if open.is_empty() {
                break;
            }
            after_value = true;
        }
        Ok((root.unwrap_or(RootKind::Primitive), depth))
    }

    /// Reads `"key" :` inside an object.
    fn key(&mut self, out: &mut Option<&mut Builder>) -> Result<(), JsonError> {
        if self.peek() != Some(b'"') {
            return Err(self.err(if self.peek().is_none() {
                JsonErrorKind::UnexpectedEnd
            } else {
                JsonErrorKind::ExpectedKey
            }));
        }
        let key = self.string(out.is_some())?;
        if let Some(b) = out.as_deref_mut() {
            b.key(key);
        }
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.err(JsonErrorKind::ExpectedColon));
        }
        self.pos += 1;
        Ok(())
    }

    fn hex4(&self, at: usize) -> Option<u16> {
        let digits = self.s.get(at..at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u16::from_str_radix(text, 16).ok()
    }

    /// Reads a string at `"`, decoding escapes as yyjson does with
    /// REPLACE_INVALID_UNICODE; the decoded bytes are kept only if `keep`.
    fn string(&mut self, keep: bool) -> Result<Vec<u8>, JsonError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = Vec::new();
        let push = |out: &mut Vec<u8>, bytes: &[u8]| {
            if keep {
                out.extend_from_slice(bytes);
            }
        };
        loop {
            let Some(c) = self.peek() else {
                return Err(JsonError {
                    at: start,
                    kind: JsonErrorKind::UnclosedString,
                });
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return Ok(out);
                }
                b'\\' => {
                    let escaped = self.s.get(self.pos + 1).copied();
                    let simple: Option<u8> = match escaped {
                        Some(b'"') => Some(b'"'),
                        Some(b'\\') => Some(b'\\'),
                        Some(b'/') => Some(b'/'),
                        Some(b'b') => Some(0x08),
                        Some(b'f') => Some(0x0c),
                        Some(b'n') => Some(b'\n'),
                        Some(b'r') => Some(b'\r'),
                        Some(b't') => Some(b'\t'),
                        _ => None,
                    };
                    if let Some(byte) = simple {
                        push(&mut out, &[byte]);
                        self.pos += 2;
                    } else if escaped == Some(b'u') {
                        self.unicode_escape(&mut out, keep);
                    } else {
                        return Err(self.err(JsonErrorKind::InvalidEscape));
                    }
                }
                _ => {
                    push(&mut out, &[c]);
                    self.pos += 1;
                }
            }
        }
    }

    /// `\uXXXX` at `self.pos` (pointing at the backslash).
    fn unicode_escape(&mut self, out: &mut Vec<u8>, keep: bool) {
        const REPLACEMENT: &[u8] = "\u{FFFD}".as_bytes();
        let emit = |out: &mut Vec<u8>, bytes: &[u8]| {
            if keep {
                out.extend_from_slice(bytes);
            }
        };
        let digits_at = self.pos + 2;
        let Some(hi) = self.hex4(digits_at) else {
            // Fewer than four hex digits: kept literally, and the character
            // after the digits is skipped unless it is a quote or the end.
            let count = self
                .s
                .iter()
                .skip(digits_at)
                .take(4)
                .take_while(|b| b.is_ascii_hexdigit())
                .count();
            emit(out, b"\\u");
            emit(
                out,
                self.s.get(digits_at..digits_at + count).unwrap_or_default(),
            );
            self.pos = digits_at + count;
            if matches!(self.peek(), Some(ch) if ch != b'"' && ch != b'\'') {
                self.pos += 1;
            }
            return;
        };
        self.pos = digits_at + 4;
        let mut utf8 = [0u8; 4];
        match hi {
            0xD800..=0xDBFF => {
                if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
                    emit(out, REPLACEMENT);
                    return;
                }
                let Some(lo) = self.hex4(self.pos + 2) else {
                    let count = self
                        .s
                        .iter()
                        .skip(self.pos + 2)
                        .take(4)
                        .take_while(|b| b.is_ascii_hexdigit())
                        .count();
                    self.pos += 2 + count;
                    emit(out, REPLACEMENT);
                    return;
                };
                self.pos += 6;
                if !(0xDC00..=0xDFFF).contains(&lo) {
                    emit(out, REPLACEMENT);
                    return;
                }
                let codepoint =
                    0x10000 + ((u32::from(hi) - 0xD800) << 10) + (u32::from(lo) - 0xDC00);
                let ch = char::from_u32(codepoint).unwrap_or('\u{FFFD}');
                emit(out, ch.encode_utf8(&mut utf8).as_bytes());
            }
            0xDC00..=0xDFFF => emit(out, REPLACEMENT),
            _ => {
                let ch = char::from_u32(u32::from(hi)).unwrap_or('\u{FFFD}');
                emit(out, ch.encode_utf8(&mut utf8).as_bytes());
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.pos += 1;
        }
        self.pos - start
    }

    /// A JSON number: integers that fit become `UInt`/`Int`, anything else
    /// a float64 (an integer too big for 64 bits too, as yyjson reads it).
    fn number(&mut self) -> Result<Body, JsonError> {
        let start = self.pos;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.pos += 1;
        }
        let int_start = self.pos;
        match self.digits() {
            0 => return Err(self.err(JsonErrorKind::NoDigitAfterSign)),
            n if n > 1 && self.s.get(int_start) == Some(&b'0') => {
                return Err(JsonError {
                    at: int_start,
                    kind: JsonErrorKind::LeadingZero,
                });
            }
            _ => {}
        }
        let mut real = false;
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.err(JsonErrorKind::NoDigitAfterPoint));
            }
            real = true;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.err(JsonErrorKind::NoDigitInExponent));
            }
            real = true;
        }
        let text =
            std::str::from_utf8(self.s.get(start..self.pos).unwrap_or_default()).unwrap_or("0");
        if !real {
            if negative {
                if let Ok(v) = text.parse::<i64>() {
                    return Ok(Body::Int(v));
                }
            } else if let Ok(v) = text.parse::<u64>() {
                return Ok(Body::UInt(v));
            }
        }
        let v: f64 = text.parse().unwrap_or(f64::INFINITY);
        if v.is_infinite() {
            return Err(JsonError {
                at: start,
                kind: JsonErrorKind::NumberIsInfinite,
            });
        }
        Ok(Body::Float(v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(text: &str) -> Result<RootKind, JsonErrorKind> {
        read_first(text.as_bytes(), 0)
            .map(|d| d.kind)
            .map_err(|e| e.kind)
    }

    #[test]
    fn accepted_and_rejected() {
        use JsonErrorKind as E;
        use RootKind as K;
        let cases: &[(&str, &str, Result<RootKind, JsonErrorKind>)] = &[
            ("empty object", "{}", Ok(K::Object)),
            (
                "object",
                r#" {"a": [1, -2.5e3, true, null], "b": {"c": "d"}} "#,
                Ok(K::Object),
            ),
            ("array root", "[1]", Ok(K::Array)),
            ("string root", r#""x""#, Ok(K::String)),
            ("number root", "12", Ok(K::Primitive)),
            (
                "trailing junk after object",
                r#"{"a":1} garbage"#,
                Ok(K::Object),
            ),
            ("two objects", r#"{"a":1}{"b":2}"#, Ok(K::Object)),
            ("lone high surrogate", r#"{"a":"\ud800"}"#, Ok(K::Object)),
            ("lone low surrogate", r#"{"a":"x\udc00y"}"#, Ok(K::Object)),
            ("short unicode escape", r#"{"a":"\u12"}"#, Ok(K::Object)),
            ("raw control char", "{\"a\":\"\x01\"}", Ok(K::Object)),
            ("raw tab and newline", "{\"a\":\"\t\n\"}", Ok(K::Object)),
            (
                "huge integer",
                r#"{"a":123456789012345678901234567890}"#,
                Ok(K::Object),
            ),
            ("only whitespace", " \n ", Err(E::NoValue)),
            ("nothing", "", Err(E::NoValue)),
            ("bad escape", r#"{"a":"\x"}"#, Err(E::InvalidEscape)),
            ("leading zero", r#"{"a":01}"#, Err(E::LeadingZero)),
            (
                "dot without digits",
                r#"{"a":1.}"#,
                Err(E::NoDigitAfterPoint),
            ),
            ("leading dot", r#"{"a":.5}"#, Err(E::UnexpectedCharacter)),
            ("plus sign", r#"{"a":+1}"#, Err(E::UnexpectedCharacter)),
            ("minus alone", r#"{"a":-}"#, Err(E::NoDigitAfterSign)),
            (
                "exponent without digits",
                r#"{"a":1e}"#,
                Err(E::NoDigitInExponent),
            ),
            (
                "overflowing double",
                r#"{"a":1e999}"#,
                Err(E::NumberIsInfinite),
            ),
            ("NaN", r#"{"a":NaN}"#, Err(E::UnexpectedCharacter)),
            ("trailing comma", r#"{"a":1,}"#, Err(E::ExpectedKey)),
            ("unquoted key", r#"{a:1}"#, Err(E::ExpectedKey)),
            ("missing colon", r#"{"a" 1}"#, Err(E::ExpectedColon)),
            ("unclosed object", r#"{"a":1"#, Err(E::UnexpectedEnd)),
            ("unclosed string", r#"{"a":"x"#, Err(E::UnclosedString)),
            ("bad literal", r#"{"a":tru}"#, Err(E::InvalidLiteral)),
            ("comment", "{/*x*/}", Err(E::ExpectedKey)),
            (
                "mismatched close",
                r#"{"a":[1}"#,
                Err(E::UnexpectedCharacter),
            ),
        ];
        for (name, text, expected) in cases {
            assert_eq!(&kind(text), expected, "{name}");
        }
    }

    #[test]
    fn decoded_values() {
        let cases: &[(&str, &[u8], Body)] = &[
            (
                "escapes",
                br#"{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"}"#,
                Body::map([("a", Body::str("\"\\/\u{8}\u{c}\n\r\té😀"))]),
            ),
            (
                "lone surrogate is U+FFFD",
                br#"{"a":"\ud800x"}"#,
                Body::map([("a", Body::str("\u{FFFD}x"))]),
            ),
            (
                "high then non-low escape swallows it",
                br#"{"a":"\ud800\u0041z"}"#,
                Body::map([("a", Body::str("\u{FFFD}z"))]),
            ),
            (
                "short escape skips the next char",
                br#"{"a":"\u12G4"}"#,
                Body::map([("a", Body::str("\\u124"))]),
            ),
            (
                "invalid utf-8 kept raw",
                b"{\"a\":\"\xff\"}",
                Body::Map(vec![(Body::str("a"), Body::Str(vec![0xff]))]),
            ),
            (
                "numbers",
                br#"{"u":7,"i":-7,"f":0.5,"big":18446744073709551616}"#,
                Body::map([
                    ("u", Body::UInt(7)),
                    ("i", Body::Int(-7)),
                    ("f", Body::Float(0.5)),
                    ("big", Body::Float(18446744073709551616.0)),
                ]),
            ),
            (
                "duplicate keys kept",
                br#"{"a":1,"a":2}"#,
                Body::Map(vec![
                    (Body::str("a"), Body::UInt(1)),
                    (Body::str("a"), Body::UInt(2)),
                ]),
            ),
            (
                "nested",
                br#"{"a":[{},[]]}"#,
                Body::map([("a", Body::Array(vec![Body::map([]), Body::Array(vec![])]))]),
            ),
        ];
        for (name, text, expected) in cases {
            let doc = read_first(text, BUILD_DEPTH_LIMIT);
            assert_eq!(doc.map(|d| d.body), Ok(Some(expected.clone())), "{name}");
        }
    }

    #[test]
    fn ten_thousand_levels() {
        let depth = 10_000;
        let mut text = "{\"a\":".repeat(depth);
        text.push('1');
        text.push_str(&"}".repeat(depth));
        let doc = read_first(text.as_bytes(), BUILD_DEPTH_LIMIT);
        assert_eq!(
            doc.as_ref().map(|d| (d.kind, d.depth)),
            Ok((RootKind::Object, depth))
        );
        assert_eq!(doc.ok().and_then(|d| d.body), None);
        let unclosed = &text[..text.len() - 1];
        assert!(!is_fluent_bit_object(unclosed.as_bytes()));
    }

    #[test]
    fn end_offset_stops_after_first_value() {
        let doc = read_first(br#"  {"a":1} {"b":2}"#, 0);
        assert_eq!(doc.map(|d| d.end), Ok(9));
    }
}
