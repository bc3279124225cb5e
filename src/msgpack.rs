//! `event_format msgpack`: records arrive as msgpack and leave as msgpack,
//! and the host cuts the result at its first 0x00 byte (fluent-bit issue
//! 9976, see the contract §6).
//!
//! A msgpack record is recognised by its first byte (a map marker: `0x80`
//! to `0x8f`, `0xde`, `0xdf`), which can never begin a JSON object, so a
//! user's `event_format` setting never makes the module misread a record.
//! It is transcoded to JSON, runs the same path as a JSON record, and the
//! result is encoded back to msgpack. Then:
//!
//! - if that encoding contains no 0x00 byte, it is the output;
//! - otherwise (an integer 0, a map or array of 16 to 255 entries, a string
//!   whose length has a zero byte...) the output is a two-entry map that
//!   cannot contain one: `rosetta.error` = `"msgpack-nul: ..."` and
//!   `rosetta.record` = the whole result as JSON text, padded with trailing
//!   spaces so that its length has no zero byte. Nothing is cut or lost.
//! - a record that is not valid msgpack leaves as `rosetta.error` and
//!   `rosetta.msgpack_hex`, the input bytes in hex.
//!
//! Both directions are single loops with explicit stacks: nesting depth
//! never becomes call depth. Strings that are not valid UTF-8 become
//! `\uE0XX` escapes in JSON and those escapes become raw bytes again on the
//! way back, as fluent-bit does.

use crate::out::write_int;
use std::fmt;

/// The wrapper's keys.
pub const RECORD_KEY: &str = "rosetta.record";
/// The key holding an undecodable input in hex.
pub const HEX_KEY: &str = "rosetta.msgpack_hex";

/// Whether `record` starts like a msgpack map.
pub fn looks_like_map(record: &[u8]) -> bool {
    matches!(record.first(), Some(0x80..=0x8f | 0xde | 0xdf))
}

/// Why a record is not valid msgpack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MsgpackError {
    /// What was expected.
    pub expected: &'static str,
    /// Byte offset.
    pub at: usize,
}

impl fmt::Display for MsgpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.at)
    }
}

struct Reader<'a> {
    input: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn fail<T>(&self, expected: &'static str) -> Result<T, MsgpackError> {
        Err(MsgpackError {
            expected,
            at: self.pos,
        })
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], MsgpackError> {
        match self.input.get(self.pos..self.pos.saturating_add(n)) {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => self.fail("more bytes"),
        }
    }

    fn uint(&mut self, n: usize) -> Result<u64, MsgpackError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }
}

/// One open container while transcoding to JSON.
struct Open {
    left: u64,
    map: bool,
    /// In a map: whether the next item is a key.
    key_next: bool,
    first: bool,
}

/// Transcodes one msgpack map into a JSON object.
pub fn to_json(input: &[u8], out: &mut Vec<u8>) -> Result<(), MsgpackError> {
    out.clear();
    let mut r = Reader { input, pos: 0 };
    let mut stack: Vec<Open> = Vec::new();
    let mut started = false;
    loop {
        // Close finished containers and write the separator for the next item.
        let mut as_key = false;
        while let Some(top) = stack.last_mut() {
            if top.left == 0 {
                out.push(if top.map { b'}' } else { b']' });
                stack.pop();
                continue;
            }
            if top.map && !top.key_next {
                out.push(b':');
            } else if !top.first {
                out.push(b',');
            }
            top.first = false;
            if top.map {
                as_key = top.key_next;
                if !top.key_next {
                    top.left -= 1;
                }
                top.key_next = !top.key_next;
            } else {
                top.left -= 1;
            }
            break;
        }
        if stack.is_empty() && started {
            return if r.pos == input.len() {
                Ok(())
            } else {
                r.fail("the end of the record")
            };
        }
        started = true;
        let at = r.pos;
        let marker = r.take(1)?.first().copied().unwrap_or(0);
        let open = |left: u64, map: bool, out: &mut Vec<u8>, stack: &mut Vec<Open>| {
            out.push(if map { b'{' } else { b'[' });
            stack.push(Open {
                left,
                map,
                key_next: true,
                first: true,
            });
        };
        if stack.is_empty() && !matches!(marker, 0x80..=0x8f | 0xde | 0xdf) {
            return Err(MsgpackError {
                expected: "a map",
                at,
            });
        }
        // A key that is not a string is written as a string of its JSON text.
        let key_start = out.len();
        match marker {
            0x00..=0x7f => write_int(out, i64::from(marker)),
            0xe0..=0xff => write_int(out, i64::from(marker as i8)),
            0x80..=0x8f => open(u64::from(marker & 0x0f), true, out, &mut stack),
            0x90..=0x9f => open(u64::from(marker & 0x0f), false, out, &mut stack),
            0xa0..=0xbf => json_string(out, r.take(usize::from(marker & 0x1f))?),
            0xc0 => out.extend_from_slice(b"null"),
            0xc2 => out.extend_from_slice(b"false"),
            0xc3 => out.extend_from_slice(b"true"),
            0xc4 | 0xd9 => {
                let n = r.uint(1)? as usize;
                json_string(out, r.take(n)?)
            }
            0xc5 | 0xda => {
                let n = r.uint(2)? as usize;
                json_string(out, r.take(n)?)
            }
            0xc6 | 0xdb => {
                let n = r.uint(4)? as usize;
                json_string(out, r.take(n)?)
            }
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                let n = match marker {
                    0xc7 => r.uint(1)? as usize,
                    0xc8 => r.uint(2)? as usize,
                    0xc9 => r.uint(4)? as usize,
                    0xd4 => 1,
                    0xd5 => 2,
                    0xd6 => 4,
                    0xd7 => 8,
                    _ => 16,
                };
                let kind = r.take(1)?.first().copied().unwrap_or(0) as i8;
                let data = r.take(n)?;
                let mut text = format!("ext:{kind}:");
                for b in data {
                    text.push_str(&format!("{b:02x}"));
                }
                json_string(out, text.as_bytes());
            }
            0xca => {
                let bits = r.uint(4)? as u32;
                write_float(out, f64::from(f32::from_bits(bits)));
            }
            0xcb => write_float(out, f64::from_bits(r.uint(8)?)),
            0xcc => write_int(out, r.uint(1)? as i64),
            0xcd => write_int(out, r.uint(2)? as i64),
            0xce => write_int(out, r.uint(4)? as i64),
            0xcf => {
                let v = r.uint(8)?;
                match i64::try_from(v) {
                    Ok(i) => write_int(out, i),
                    Err(_) => out.extend_from_slice(v.to_string().as_bytes()),
                }
            }
            0xd0 => write_int(out, i64::from(r.uint(1)? as u8 as i8)),
            0xd1 => write_int(out, i64::from(r.uint(2)? as u16 as i16)),
            0xd2 => write_int(out, i64::from(r.uint(4)? as u32 as i32)),
            0xd3 => write_int(out, r.uint(8)? as i64),
            0xdc => {
                let n = r.uint(2)?;
                open(n, false, out, &mut stack)
            }
            0xdd => {
                let n = r.uint(4)?;
                open(n, false, out, &mut stack)
            }
            0xde => {
                let n = r.uint(2)?;
                open(n, true, out, &mut stack)
            }
            0xdf => {
                let n = r.uint(4)?;
                open(n, true, out, &mut stack)
            }
            _ => {
                return Err(MsgpackError {
                    expected: "a valid marker",
                    at,
                });
            }
        }
        if as_key && out.get(key_start) != Some(&b'"') {
            if matches!(out.get(key_start), Some(b'{' | b'[')) {
                return Err(MsgpackError {
                    expected: "a scalar map key",
                    at,
                });
            }
            let text: Vec<u8> = out.split_off(key_start);
            json_string(out, &text);
        }
    }
}

/// A msgpack string as a JSON string: valid UTF-8 stays as it is (so a
/// private-use character U+E0XX that was in the record stays one), control
/// characters, `"` and `\\` are escaped, and each byte that is not valid
/// UTF-8 becomes the escape `\uE0XX`, which [`unescape`] turns back into
/// that byte.
fn json_string(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    for chunk in bytes.utf8_chunks() {
        for &b in chunk.valid().as_bytes() {
            match b {
                b'"' => out.extend_from_slice(b"\\\""),
                b'\\' => out.extend_from_slice(b"\\\\"),
                b'\n' => out.extend_from_slice(b"\\n"),
                b'\r' => out.extend_from_slice(b"\\r"),
                b'\t' => out.extend_from_slice(b"\\t"),
                0..=0x1f | 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
                _ => out.push(b),
            }
        }
        for &b in chunk.invalid() {
            out.extend_from_slice(format!("\\ue0{b:02x}").as_bytes());
        }
    }
    out.push(b'"');
}

fn write_float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        let s = format!("{f:?}");
        out.extend_from_slice(s.as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Encodes a JSON object (checked by the caller: the filter's own output)
/// as msgpack into `buf`, or as the zero-free wrapper when it would contain
/// a 0x00 byte.
pub fn from_json(json: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    if encode(json, buf).is_err() || buf.contains(&0) {
        buf.clear();
        wrapper(
            buf,
            "msgpack-nul: this record cannot be written as msgpack without a 0x00 byte, which fluent-bit would cut; it is carried whole as JSON text in rosetta.record",
            RECORD_KEY,
            json,
        );
    }
}

/// The output for an input that is not valid msgpack.
pub fn undecodable(record: &[u8], e: &MsgpackError, buf: &mut Vec<u8>) {
    let mut hex = Vec::with_capacity(record.len() * 2);
    for b in record {
        hex.extend_from_slice(format!("{b:02x}").as_bytes());
    }
    buf.clear();
    wrapper(buf, &format!("invalid-msgpack: {e}"), HEX_KEY, &hex);
}

/// `{"rosetta.error": message, key: text}` with every length padded so that
/// no byte of the encoding is zero. `message` and `text` hold no 0x00.
fn wrapper(buf: &mut Vec<u8>, message: &str, key: &str, text: &[u8]) {
    buf.push(0x82);
    zero_free_str(buf, crate::filter::keys::ERROR.as_bytes());
    zero_free_str(buf, message.as_bytes());
    zero_free_str(buf, key.as_bytes());
    zero_free_str(buf, text);
}

/// A msgpack string whose header has no zero byte: trailing spaces are
/// added until the length's bytes are all non-zero (at most 65,793 of them,
/// for lengths of 16 MiB and more).
fn zero_free_str(buf: &mut Vec<u8>, s: &[u8]) {
    let mut len = s.len();
    let ok = |len: usize| match len {
        0..=255 => true,
        256..=65535 => len & 0xff != 0,
        _ => (len as u32).to_be_bytes().iter().all(|&b| b != 0),
    };
    while !ok(len) {
        len += 1;
    }
    write_str_header(buf, len);
    buf.extend_from_slice(s);
    buf.resize(buf.len() + (len - s.len()), b' ');
}

fn write_str_header(buf: &mut Vec<u8>, len: usize) {
    match len {
        0..=31 => buf.push(0xa0 | len as u8),
        32..=255 => buf.extend_from_slice(&[0xd9, len as u8]),
        256..=65535 => {
            buf.push(0xda);
            buf.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            buf.push(0xdb);
            buf.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

fn write_len(buf: &mut Vec<u8>, len: usize, map: bool) {
    match (len, map) {
        (0..=15, true) => buf.push(0x80 | len as u8),
        (0..=15, false) => buf.push(0x90 | len as u8),
        (16..=65535, true) => {
            buf.push(0xde);
            buf.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (16..=65535, false) => {
            buf.push(0xdc);
            buf.extend_from_slice(&(len as u16).to_be_bytes());
        }
        (_, true) => {
            buf.push(0xdf);
            buf.extend_from_slice(&(len as u32).to_be_bytes());
        }
        (_, false) => {
            buf.push(0xdd);
            buf.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

/// JSON → msgpack in two loops: the first counts each container's items
/// (in order of opening), the second writes.
fn encode(json: &[u8], buf: &mut Vec<u8>) -> Result<(), ()> {
    let mut counts: Vec<usize> = Vec::new();
    let mut stack: Vec<(usize, bool)> = Vec::new(); // (index into counts, is_map)
    walk(json, |token| {
        match token {
            Token::Open(map) => {
                if let Some(c) = stack.last().and_then(|&(i, _)| counts.get_mut(i)) {
                    *c += 1;
                }
                counts.push(0);
                stack.push((counts.len() - 1, map));
            }
            Token::Close => {
                stack.pop();
            }
            Token::Key(_) => {}
            Token::Scalar(_) | Token::Str(_) => {
                if let Some(c) = stack.last().and_then(|&(i, _)| counts.get_mut(i)) {
                    *c += 1;
                }
            }
        }
        Ok(())
    })?;
    let mut next = counts.iter();
    walk(json, |token| {
        match token {
            Token::Open(map) => write_len(buf, next.next().copied().ok_or(())?, map),
            Token::Close => {}
            Token::Key(k) | Token::Str(k) => {
                let bytes = unescape(k);
                write_str_header(buf, bytes.len());
                buf.extend_from_slice(&bytes);
            }
            Token::Scalar(s) => write_scalar(buf, s),
        }
        Ok(())
    })
}

fn write_scalar(buf: &mut Vec<u8>, s: &[u8]) {
    match s {
        b"null" => buf.push(0xc0),
        b"true" => buf.push(0xc3),
        b"false" => buf.push(0xc2),
        _ => {
            let text = std::str::from_utf8(s).unwrap_or("0");
            if let Ok(i) = text.parse::<i64>() {
                write_int_shortest(buf, i);
            } else if let Ok(u) = text.parse::<u64>() {
                buf.push(0xcf);
                buf.extend_from_slice(&u.to_be_bytes());
            } else {
                buf.push(0xcb);
                buf.extend_from_slice(&text.parse::<f64>().unwrap_or(0.0).to_bits().to_be_bytes());
            }
        }
    }
}

/// An integer in its shortest msgpack form, as fluent-bit writes one.
fn write_int_shortest(buf: &mut Vec<u8>, i: i64) {
    match i {
        0..=0x7f => buf.push(i as u8),
        -32..=-1 => buf.push(i as i8 as u8),
        0x80..=0xff => buf.extend_from_slice(&[0xcc, i as u8]),
        0x100..=0xffff => {
            buf.push(0xcd);
            buf.extend_from_slice(&(i as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            buf.push(0xce);
            buf.extend_from_slice(&(i as u32).to_be_bytes());
        }
        0x1_0000_0000.. => {
            buf.push(0xcf);
            buf.extend_from_slice(&(i as u64).to_be_bytes());
        }
        -0x80..=-33 => buf.extend_from_slice(&[0xd0, i as i8 as u8]),
        -0x8000..=-0x81 => {
            buf.push(0xd1);
            buf.extend_from_slice(&(i as i16).to_be_bytes());
        }
        -0x8000_0000..=-0x8001 => {
            buf.push(0xd2);
            buf.extend_from_slice(&(i as i32).to_be_bytes());
        }
        _ => {
            buf.push(0xd3);
            buf.extend_from_slice(&i.to_be_bytes());
        }
    }
}

enum Token<'a> {
    Open(bool),
    Close,
    Key(&'a [u8]),
    Str(&'a [u8]),
    Scalar(&'a [u8]),
}

/// Visits the tokens of checked JSON text in order, in one loop.
fn walk<'a>(json: &'a [u8], mut visit: impl FnMut(Token<'a>) -> Result<(), ()>) -> Result<(), ()> {
    let mut pos = 0;
    let mut in_map: Vec<bool> = Vec::new();
    let mut key_next = false;
    while let Some(&c) = json.get(pos) {
        match c {
            b'{' | b'[' => {
                visit(Token::Open(c == b'{'))?;
                in_map.push(c == b'{');
                key_next = c == b'{';
                pos += 1;
            }
            b'}' | b']' => {
                visit(Token::Close)?;
                in_map.pop();
                pos += 1;
            }
            b',' => {
                key_next = in_map.last() == Some(&true);
                pos += 1;
            }
            b':' => {
                key_next = false;
                pos += 1;
            }
            b' ' | b'\t' | b'\n' | b'\r' => pos += 1,
            b'"' => {
                let end = crate::record::string_end(json, pos + 1).map_err(|_| ())?;
                let s = json.get(pos + 1..end).ok_or(())?;
                visit(if key_next {
                    Token::Key(s)
                } else {
                    Token::Str(s)
                })?;
                pos = end + 1;
            }
            _ => {
                let start = pos;
                while let Some(b) = json.get(pos) {
                    if matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    pos += 1;
                }
                visit(Token::Scalar(json.get(start..pos).ok_or(())?))?;
            }
        }
    }
    Ok(())
}

/// Decodes JSON string content to bytes; `\uE080`-`\uE0FF` become the raw
/// bytes fluent-bit used them for.
pub(crate) fn unescape(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    let hex4 = |at: usize| {
        s.get(at..at + 4)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
    };
    while let Some(&b) = s.get(i) {
        if b != b'\\' {
            out.push(b);
            i += 1;
            continue;
        }
        let esc = s.get(i + 1).copied().unwrap_or(b'\\');
        i += 2;
        let c = match esc {
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'u' => {
                let Some(mut unit) = hex4(i) else { continue };
                i += 4;
                if (0xE080..=0xE0FF).contains(&unit) {
                    out.push((unit - 0xE000) as u8);
                    continue;
                }
                let low = hex4(i + 2).filter(|l| (0xDC00..0xE000).contains(l));
                if let Some(low) = low
                    .filter(|_| (0xD800..0xDC00).contains(&unit) && s.get(i..i + 2) == Some(b"\\u"))
                {
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
                char::from_u32(unit).unwrap_or('\u{fffd}')
            }
            other => char::from(other),
        };
        let mut tmp = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(msgpack: &[u8]) -> Result<String, MsgpackError> {
        let mut out = Vec::new();
        to_json(msgpack, &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn transcodes_named_cases() {
        let cases: &[(&str, &[u8], &str)] = &[
            ("empty map", &[0x80], "{}"),
            (
                "one string",
                &[0x81, 0xa1, b'a', 0xa1, b'b'],
                r#"{"a":"b"}"#,
            ),
            (
                "ints",
                &[0x82, 0xa1, b'a', 0x00, 0xa1, b'b', 0xff],
                r#"{"a":0,"b":-1}"#,
            ),
            (
                "nested",
                &[0x81, 0xa1, b'a', 0x92, 0xc3, 0x80],
                r#"{"a":[true,{}]}"#,
            ),
            (
                "invalid utf8",
                &[0x81, 0xa1, b'a', 0xa1, 0xff],
                r#"{"a":"\ue0ff"}"#,
            ),
            ("int key", &[0x81, 0x01, 0xc0], r#"{"1":null}"#),
            (
                "u64",
                &[
                    0x81, 0xa1, b'a', 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                ],
                r#"{"a":18446744073709551615}"#,
            ),
        ];
        for (name, input, want) in cases {
            assert_eq!(json_of(input).as_deref(), Ok(*want), "{name}");
        }
        let bad: &[(&str, &[u8], MsgpackError)] = &[
            (
                "not a map",
                &[0x91, 0x01],
                MsgpackError {
                    expected: "a map",
                    at: 0,
                },
            ),
            (
                "truncated",
                &[0x81, 0xa3, b'a'],
                MsgpackError {
                    expected: "more bytes",
                    at: 2,
                },
            ),
            (
                "trailing",
                &[0x80, 0x80],
                MsgpackError {
                    expected: "the end of the record",
                    at: 1,
                },
            ),
            (
                "reserved",
                &[0x81, 0xa1, b'a', 0xc1],
                MsgpackError {
                    expected: "a valid marker",
                    at: 3,
                },
            ),
            (
                "map key",
                &[0x81, 0x80, 0x01],
                MsgpackError {
                    expected: "a scalar map key",
                    at: 1,
                },
            ),
        ];
        for (name, input, want) in bad {
            assert_eq!(json_of(input).err(), Some(*want), "{name}");
        }
    }

    #[test]
    fn round_trips_when_zero_free() {
        let input = [0x82, 0xa1, b'a', 0x01, 0xa1, b'b', 0x91, 0xa2, b'h', 0xff];
        let json = json_of(&input).unwrap();
        let mut back = Vec::new();
        from_json(json.as_bytes(), &mut back);
        assert_eq!(back, input);
    }

    #[test]
    fn zero_bytes_become_the_wrapper() {
        let mut back = Vec::new();
        from_json(br#"{"n":0}"#, &mut back);
        assert!(!back.contains(&0));
        assert_eq!(back.first(), Some(&0x82));
        let text = String::from_utf8_lossy(&back);
        assert!(text.contains(r#"{"n":0}"#), "{text}");
        for len in [0usize, 31, 32, 255, 256, 512, 65535, 65536, 1 << 24] {
            let mut b = Vec::new();
            zero_free_str(&mut b, &vec![b'x'; len]);
            assert!(!b.contains(&0), "{len}");
        }
    }

    #[test]
    fn deep_nesting_is_iterative() {
        let mut input = vec![0x81, 0xa1, b'a'];
        input.extend(std::iter::repeat_n(0x91, 100_000));
        input.push(0xc0);
        let json = json_of(&input).unwrap();
        assert!(json.starts_with(r#"{"a":[[[["#));
        let mut back = Vec::new();
        from_json(json.as_bytes(), &mut back);
        assert_eq!(back, input);
    }
}
