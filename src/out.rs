//! The output record: a JSON object written into one reused buffer.
//!
//! [`Out`] only ever writes valid JSON when its callers keep two promises:
//! a key or value passed as *escaped* text is valid JSON string content (the
//! parsers and [`crate::record`] guarantee it: they hand over sub-slices of
//! checked input cut at escape boundaries), and a *raw* member is a span that
//! [`crate::record::members`] checked. Plain Rust strings are escaped here.
//! Writing never allocates once the buffer has grown to the largest record.

use crate::formats::Value;
use crate::time::RFC3339_MAX;

/// A JSON object being written.
///
/// The buffer is sized once per record (zero-filled past the text written,
/// then cut to the text by [`Out::finish`]); each write is then one bounds
/// test and one bulk copy, instead of a capacity check and a call per piece.
pub struct Out<'b> {
    buf: &'b mut Vec<u8>,
    /// Where the next byte goes; `buf[..pos]` is the text so far.
    pos: usize,
    /// Whether the next member needs a comma before it.
    comma: bool,
    depth: usize,
}

impl<'b> Out<'b> {
    /// Starts an object in `buf` (clearing it), expecting about `size`
    /// bytes of output; more is grown into when needed.
    pub fn begin(buf: &'b mut Vec<u8>, size: usize) -> Self {
        buf.clear();
        buf.resize(size.max(64), 0);
        let mut out = Out {
            buf,
            pos: 0,
            comma: false,
            depth: 1,
        };
        out.byte(b'{');
        out
    }

    #[cold]
    fn grow(&mut self, need: usize) {
        let len = need.max(self.buf.len() * 2);
        self.buf.resize(len, 0);
    }

    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        let end = self.pos + s.len();
        if end > self.buf.len() {
            self.grow(end);
        }
        if let Some(dst) = self.buf.get_mut(self.pos..end) {
            dst.copy_from_slice(s);
        }
        self.pos = end;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        if self.pos >= self.buf.len() {
            self.grow(self.pos + 1);
        }
        if let Some(dst) = self.buf.get_mut(self.pos) {
            *dst = b;
        }
        self.pos += 1;
    }

    #[inline(always)]
    fn sep(&mut self) {
        if self.comma {
            self.byte(b',');
        }
        self.comma = true;
    }

    fn key_escaped(&mut self, key: &[u8]) {
        self.sep();
        self.byte(b'"');
        self.put(key);
        self.put(b"\":");
    }

    fn key(&mut self, key: &str) {
        self.key_escaped(key.as_bytes());
    }

    /// Copies a checked input member, `"key":value`, as it is.
    pub fn raw_member(&mut self, span: &[u8]) {
        self.sep();
        self.put(span);
    }

    /// A member whose key is escaped JSON string content and whose value is
    /// valid JSON text (both checked by the caller).
    pub fn raw_value_escaped_key(&mut self, key: &[u8], json: &[u8]) {
        self.key_escaped(key);
        self.put(json);
    }

    /// A string member from plain text, escaped here.
    pub fn str(&mut self, key: &str, value: &str) {
        self.bytes(key, value.as_bytes());
    }

    /// A string member from arbitrary bytes, escaped here: bytes that are
    /// not valid UTF-8 become `\uE0XX`, as fluent-bit writes them.
    pub fn bytes(&mut self, key: &str, value: &[u8]) {
        self.key(key);
        let mut text = Vec::with_capacity(value.len() + 2);
        escape_into(&mut text, value);
        self.put(&text);
    }

    /// A member whose value is valid JSON text (checked by the caller),
    /// under a plain key.
    pub fn raw_value(&mut self, key: &str, json: &[u8]) {
        self.key(key);
        self.put(json);
    }

    /// A boolean member.
    pub fn bool(&mut self, key: &str, value: bool) {
        self.key(key);
        self.put(if value { b"true" } else { b"false" });
    }

    /// Members from parsed fields, in order, written into one slice held
    /// in locals and sized once for all of them (the per-record hot path:
    /// about thirty fields per access-log line).
    ///
    /// Names are `&str` (a parser's fixed names) or escaped JSON string
    /// content (`&[u8]`, logfmt's keys): either is written as it is.
    pub fn values<K: AsRef<[u8]>>(&mut self, list: &[(K, Value<'_>)]) {
        let room: usize = list
            .iter()
            .map(|(name, value)| field_room(name.as_ref(), *value))
            .sum();
        let end = self.pos + room;
        if end > self.buf.len() {
            self.grow(end);
        }
        let Some(dst) = self.buf.get_mut(self.pos..end) else {
            return;
        };
        let mut w = Cursor { dst, at: 0 };
        let mut comma = self.comma;
        for (name, value) in list {
            let value = *value;
            if comma {
                w.byte(b',');
            }
            comma = true;
            w.byte(b'"');
            w.put(name.as_ref());
            match value {
                Value::Text(t) => {
                    w.put(b"\":\"");
                    w.put(t);
                    w.byte(b'"');
                }
                Value::Int(i) => {
                    w.put(b"\":");
                    if i < 0 {
                        w.byte(b'-');
                    }
                    let mut digits = [0u8; 20];
                    w.put(int_text(i, &mut digits));
                }
                Value::Decimal(d) => {
                    w.put(b"\":");
                    w.put(d);
                }
                Value::Time(t) => {
                    w.put(b"\":\"");
                    let mut text = [0u8; RFC3339_MAX];
                    let len = t.rfc3339_into(&mut text);
                    w.put(text.get(..len).unwrap_or_default());
                    w.byte(b'"');
                }
                Value::Bool(b) => {
                    w.put(b"\":");
                    w.put(if b { b"true" } else { b"false" });
                }
            }
        }
        self.pos += w.at.min(room);
        self.comma = comma;
    }

    /// Opens a nested object under `key`; close it with [`Out::close`].
    pub fn open(&mut self, key: &str) {
        self.key(key);
        self.byte(b'{');
        self.comma = false;
        self.depth += 1;
    }

    /// Closes the innermost open object.
    pub fn close(&mut self) {
        if self.depth > 1 {
            self.byte(b'}');
            self.depth -= 1;
            self.comma = true;
        }
    }

    /// Closes every open object, cuts the buffer to the text and returns it.
    pub fn finish(mut self) -> &'b [u8] {
        for _ in 0..self.depth {
            self.byte(b'}');
        }
        self.buf.truncate(self.pos);
        self.buf
    }
}

/// The most bytes [`Out::values`] writes for one field: `,"name":` and the
/// value (a text with its quotes, at most 20 digits and a sign, a time).
#[inline(always)]
fn field_room(name: &[u8], value: Value<'_>) -> usize {
    name.len()
        + 4
        + match value {
            Value::Text(t) => t.len() + 2,
            Value::Int(_) => 21,
            Value::Decimal(d) => d.len(),
            Value::Time(_) => RFC3339_MAX + 2,
            Value::Bool(_) => 5,
        }
}

/// A write position in a slice that [`field_room`] sized: every write fits.
struct Cursor<'d> {
    dst: &'d mut [u8],
    at: usize,
}

impl Cursor<'_> {
    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        let end = self.at + s.len();
        if let Some(d) = self.dst.get_mut(self.at..end) {
            d.copy_from_slice(s);
        }
        self.at = end;
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        if let Some(d) = self.dst.get_mut(self.at) {
            *d = b;
        }
        self.at += 1;
    }
}

/// The decimal digits of `value`'s magnitude, written at the end of
/// `digits`, two at a time from a table of pairs.
fn int_text(value: i64, digits: &mut [u8; 20]) -> &[u8] {
    const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
        2021222324252627282930313233343536373839\
        4041424344454647484950515253545556575859\
        6061626364656667686970717273747576777879\
        8081828384858687888990919293949596979899";
    let mut n = value.unsigned_abs();
    let mut i = digits.len();
    // At most nine pairs: u64::MAX has twenty digits.
    while n >= 100 {
        let pair = (n % 100) as usize * 2;
        n /= 100;
        i = i.saturating_sub(2);
        if let (Some(d), Some(p)) = (digits.get_mut(i..i + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    }
    if n >= 10 {
        let pair = n as usize * 2;
        i = i.saturating_sub(2);
        if let (Some(d), Some(p)) = (digits.get_mut(i..i + 2), PAIRS.get(pair..pair + 2)) {
            d.copy_from_slice(p);
        }
    } else {
        i = i.saturating_sub(1);
        if let Some(d) = digits.get_mut(i) {
            *d = b'0' + n as u8;
        }
    }
    digits.get(i..).unwrap_or_default()
}

/// Writes `value` in decimal.
pub fn write_int(buf: &mut Vec<u8>, value: i64) {
    let mut digits = [0u8; 20];
    if value < 0 {
        buf.push(b'-');
    }
    buf.extend_from_slice(int_text(value, &mut digits));
}

/// Writes `bytes` as a quoted JSON string the way fluent-bit escapes: `"`,
/// `\` and the short escapes, other control bytes as `\u00XX`, non-ASCII
/// characters as `\uXXXX` (surrogate pairs above U+FFFF), and each byte that
/// is not part of valid UTF-8 as `\uE0XX`.
pub fn escape_into(buf: &mut Vec<u8>, bytes: &[u8]) {
    buf.push(b'"');
    let mut rest = bytes;
    while !rest.is_empty() {
        let (valid, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, None),
            Err(e) => {
                let (ok, tail) = rest.split_at(e.valid_up_to());
                let n = e.error_len().unwrap_or(tail.len()).max(1);
                (
                    std::str::from_utf8(ok).unwrap_or_default(),
                    Some(tail.split_at(n.min(tail.len()))),
                )
            }
        };
        for c in valid.chars() {
            escape_char(buf, c);
        }
        match bad {
            Some((invalid, tail)) => {
                for &b in invalid {
                    hex_escape(buf, 0xE000 + u32::from(b));
                }
                rest = tail;
            }
            None => rest = &[],
        }
    }
    buf.push(b'"');
}

fn escape_char(buf: &mut Vec<u8>, c: char) {
    match c {
        '"' => buf.extend_from_slice(b"\\\""),
        '\\' => buf.extend_from_slice(b"\\\\"),
        '\n' => buf.extend_from_slice(b"\\n"),
        '\r' => buf.extend_from_slice(b"\\r"),
        '\t' => buf.extend_from_slice(b"\\t"),
        '\u{8}' => buf.extend_from_slice(b"\\b"),
        '\u{c}' => buf.extend_from_slice(b"\\f"),
        c if (c as u32) < 0x20 || c == '\u{7f}' => hex_escape(buf, c as u32),
        c if c.is_ascii() => buf.push(c as u8),
        c => {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                hex_escape(buf, u32::from(*unit));
            }
        }
    }
}

fn hex_escape(buf: &mut Vec<u8>, unit: u32) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        let digit = HEX
            .get(((unit >> shift) & 0xf) as usize)
            .copied()
            .unwrap_or(b'0');
        buf.push(digit);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(bytes: &[u8]) -> String {
        let mut buf = Vec::new();
        escape_into(&mut buf, bytes);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn escaping_named_cases() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("plain", b"abc", r#""abc""#),
            ("quote and backslash", br#"a"b\c"#, r#""a\"b\\c""#),
            ("short escapes", b"\n\r\t\x08\x0c", r#""\n\r\t\b\f""#),
            ("control", b"\x01\x1f\x7f", r#""\u0001\u001f\u007f""#),
            ("nul", b"a\0b", r#""a\u0000b""#),
            ("latin", "é".as_bytes(), r#""\u00e9""#),
            ("astral", "😀".as_bytes(), r#""\ud83d\ude00""#),
            ("invalid byte", b"a\xffb", r#""a\ue0ffb""#),
            ("truncated utf8", b"\xc3", r#""\ue0c3""#),
            ("bad then good", b"\xe2\x28\xa1", r#""\ue0e2(\ue0a1""#),
        ];
        for (name, input, want) in cases {
            assert_eq!(escaped(input), *want, "{name}");
            serde_json::from_str::<String>(want).unwrap();
        }
    }

    #[test]
    fn ints() {
        let powers = (0..19).flat_map(|e| {
            let p = 10i64.pow(e);
            [p - 1, p, p + 1, -p]
        });
        let edges = [0, 1, -1, 42, i64::MAX, i64::MIN, 1_000_000];
        for v in (-1000..100_000).chain(powers).chain(edges) {
            let mut b = Vec::new();
            write_int(&mut b, v);
            assert_eq!(String::from_utf8(b).unwrap(), v.to_string());
        }
    }

    #[test]
    fn nested_objects() {
        let mut buf = Vec::new();
        let mut out = Out::begin(&mut buf, 8);
        out.values(&[("a", Value::Int(1))]);
        out.open("p");
        out.str("b", "x");
        out.values(&[("c", Value::Int(2)), ("t", Value::Text(br#"q\"q"#))]);
        out.close();
        out.bool("d", true);
        out.open("q");
        let text = out.finish();
        assert_eq!(
            text,
            br#"{"a":1,"p":{"b":"x","c":2,"t":"q\"q"},"d":true,"q":{}}"#
        );
    }
}
