//! The record body as fluent-bit hands it over in JSON mode: one JSON object.
//!
//! [`members`] checks the whole text against JSON's grammar (RFC 8259) and
//! lists the top-level members as spans of the input, without decoding a
//! single string: a member is copied to the output as the bytes it came in,
//! so whatever fluent-bit encoded (`\uXXXX` escapes, the `\uE0XX` code points
//! it uses for invalid UTF-8 bytes, lone surrogates) goes back unchanged.
//!
//! Invariants:
//! - nesting depth never becomes call depth: nested values are checked by one
//!   loop with an explicit stack, so a value nested 10,000 deep costs what its
//!   length costs and nothing of WAMR's 8 KiB frame stack;
//! - every span returned lies inside the input and starts and ends on token
//!   boundaries, so `{` + spans joined by `,` + `}` is valid JSON;
//! - strings are scanned eight bytes at a time for `"`, `\` and control bytes.

use std::fmt;

/// The JSON type of a member's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    String,
    /// A number.
    Number,
    /// An object.
    Object,
    /// An array.
    Array,
    /// `true` or `false`.
    Bool,
    /// `null`.
    Null,
}

/// One top-level member of the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Member<'a> {
    /// The key's content between its quotes, escapes intact.
    pub key: &'a [u8],
    /// The value as it appears in the input; for a string, its content
    /// between the quotes, escapes intact.
    pub value: &'a [u8],
    /// The value's type.
    pub kind: Kind,
    /// The value as JSON text (a string with its quotes).
    pub json: &'a [u8],
    /// The whole member, `"key":value`, as it appears in the input.
    pub span: &'a [u8],
}

/// Why the input is not one JSON object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// What was expected.
    pub expected: &'static str,
    /// The byte offset where it was expected.
    pub at: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {} at byte {}", self.expected, self.at)
    }
}

fn err<T>(expected: &'static str, at: usize) -> Result<T, JsonError> {
    Err(JsonError { expected, at })
}

/// Checks that `input` is exactly one JSON object (surrounding whitespace
/// allowed) and appends its top-level members to `list`, in order.
pub fn members<'a>(input: &'a [u8], list: &mut Vec<Member<'a>>) -> Result<(), JsonError> {
    let mut stack = Vec::new();
    let mut pos = skip_ws(input, 0);
    if input.get(pos) != Some(&b'{') {
        return err("'{' opening the record", pos);
    }
    pos = skip_ws(input, pos + 1);
    if input.get(pos) == Some(&b'}') {
        return finish(input, pos + 1);
    }
    loop {
        let start = pos;
        if input.get(pos) != Some(&b'"') {
            return err("a string key", pos);
        }
        let key_end = string_end(input, pos + 1)?;
        let key = input.get(pos + 1..key_end).unwrap_or_default();
        pos = skip_ws(input, key_end + 1);
        if input.get(pos) != Some(&b':') {
            return err("':' after the key", pos);
        }
        pos = skip_ws(input, pos + 1);
        let (kind, value, end) = value(input, pos, &mut stack)?;
        list.push(Member {
            key,
            value,
            kind,
            json: input.get(pos..end).unwrap_or_default(),
            span: input.get(start..end).unwrap_or_default(),
        });
        pos = skip_ws(input, end);
        match input.get(pos) {
            Some(b',') => pos = skip_ws(input, pos + 1),
            Some(b'}') => return finish(input, pos + 1),
            _ => return err("',' or '}' after a member", pos),
        }
    }
}

/// Checks that `input` is exactly one JSON value of any type.
pub fn validate(input: &[u8]) -> Result<Kind, JsonError> {
    let mut stack = Vec::new();
    let pos = skip_ws(input, 0);
    let (kind, _, end) = value(input, pos, &mut stack)?;
    finish(input, end).map(|()| kind)
}

fn finish(input: &[u8], pos: usize) -> Result<(), JsonError> {
    let pos = skip_ws(input, pos);
    if pos < input.len() {
        return err("the end of the record", pos);
    }
    Ok(())
}

fn skip_ws(input: &[u8], mut pos: usize) -> usize {
    while let Some(b' ' | b'\t' | b'\n' | b'\r') = input.get(pos) {
        pos += 1;
    }
    pos
}

/// Given `pos` just past an opening quote, returns the index of the closing
/// quote, checking every escape and rejecting raw control bytes (a raw NUL
/// would cut the record short in fluent-bit).
///
/// One loop over words of eight bytes: a word free of `"`, `\\` and control
/// bytes costs one test; in a word with flags, each flagged byte is looked
/// at (a flag above the lowest may be a false one and is skipped), escapes
/// are checked where they start, and the scan goes on in the same word, so
/// a line full of `\"` escapes costs a few instructions per escape, not a
/// new search each. Bytes too few for a word are looked at one by one.
pub fn string_end(input: &[u8], mut pos: usize) -> Result<usize, JsonError> {
    // `pos` is a word start; bytes of that word before `from` are consumed.
    let mut from = pos;
    while let Some(eight) = input.get(pos..pos.wrapping_add(8)) {
        let mut hits = special_bytes(load(eight)) & !low_bytes(from - pos);
        while hits != 0 {
            let at = pos + flag_index(hits);
            match input.get(at) {
                Some(b'"') => return Ok(at),
                Some(b'\\') => {
                    let end = escape_end(input, at)?;
                    if end >= pos + 8 {
                        from = end;
                        hits = 0;
                        continue;
                    }
                    hits &= !low_bytes(end - pos);
                }
                Some(&c) if c < 0x20 => return err("no raw control byte in a string", at),
                _ => hits &= hits - 1,
            }
        }
        pos = (pos + 8).max(from);
        from = pos;
    }
    loop {
        match input.get(pos) {
            Some(b'"') => return Ok(pos),
            Some(b'\\') => pos = escape_end(input, pos)?,
            Some(&c) if c < 0x20 => return err("no raw control byte in a string", pos),
            Some(_) => pos += 1,
            None => return err("'\"' closing a string", input.len()),
        }
    }
}

/// A mask of the low `n` bytes of a word (all of it for `n >= 8`).
#[inline(always)]
fn low_bytes(n: usize) -> u64 {
    if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (n * 8)) - 1
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn load(eight: &[u8]) -> u64 {
    let bytes: [u8; 8] = eight.try_into().unwrap_or_default();
    u64::from_le_bytes(bytes)
}

#[inline(always)]
fn flag_index(hits: u64) -> usize {
    (hits.trailing_zeros() / 8) as usize
}

/// Flags (0x80) the bytes of `x` that are `"`, `\\` or below 0x20.
///
/// It is the has-zero-byte test `(v - 0x01..) & !v & 0x80..` for `v = x ^
/// '"'`, `x ^ '\\'` and (as "less than") `x` against 0x20, sharing one
/// `!x & 0x80..`: the needles are ASCII, so `v` and `x` have the same high
/// bits. It flags a byte exactly when it matches, except that a borrow can
/// flag bytes *above* a true match; the lowest flag is therefore always
/// exact, and it is the only one used.
#[inline(always)]
fn special_bytes(x: u64) -> u64 {
    let quote = (x ^ (LO * u64::from(b'"'))).wrapping_sub(LO);
    let slash = (x ^ (LO * u64::from(b'\\'))).wrapping_sub(LO);
    let control = x.wrapping_sub(LO * 0x20);
    (quote | slash | control) & !x & HI
}

/// Given `pos` at a backslash, returns the index just past the escape.
fn escape_end(input: &[u8], pos: usize) -> Result<usize, JsonError> {
    match input.get(pos + 1) {
        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => Ok(pos + 2),
        Some(b'u') => {
            let hex = input.get(pos + 2..pos + 6).unwrap_or_default();
            if hex.len() == 4 && hex.iter().all(u8::is_ascii_hexdigit) {
                Ok(pos + 6)
            } else {
                err("four hex digits after '\\u'", pos + 2)
            }
        }
        _ => err("a valid escape after '\\'", pos + 1),
    }
}

/// Parses the value at `pos`; returns its kind, its slice (string content
/// for strings) and the index just past it.
fn value<'a>(
    input: &'a [u8],
    pos: usize,
    stack: &mut Vec<u8>,
) -> Result<(Kind, &'a [u8], usize), JsonError> {
    let slice = |a: usize, b: usize| input.get(a..b).unwrap_or_default();
    match input.get(pos) {
        Some(b'"') => {
            let end = string_end(input, pos + 1)?;
            Ok((Kind::String, slice(pos + 1, end), end + 1))
        }
        Some(b'{') | Some(b'[') => {
            let end = container_end(input, pos, stack)?;
            let kind = if input.get(pos) == Some(&b'{') {
                Kind::Object
            } else {
                Kind::Array
            };
            Ok((kind, slice(pos, end), end))
        }
        Some(b't') => literal(input, pos, b"true", Kind::Bool),
        Some(b'f') => literal(input, pos, b"false", Kind::Bool),
        Some(b'n') => literal(input, pos, b"null", Kind::Null),
        Some(b'-' | b'0'..=b'9') => {
            let end = number_end(input, pos)?;
            Ok((Kind::Number, slice(pos, end), end))
        }
        _ => err("a value", pos),
    }
}

fn literal<'a>(
    input: &'a [u8],
    pos: usize,
    word: &'static [u8],
    kind: Kind,
) -> Result<(Kind, &'a [u8], usize), JsonError> {
    let end = pos + word.len();
    match input.get(pos..end) {
        Some(s) if s == word => Ok((kind, s, end)),
        _ => err("true, false or null", pos),
    }
}

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
pub fn number_end(input: &[u8], mut pos: usize) -> Result<usize, JsonError> {
    let digits = |mut p: usize| {
        while input.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        p
    };
    if input.get(pos) == Some(&b'-') {
        pos += 1;
    }
    match input.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits(pos + 1),
        _ => return err("a digit", pos),
    }
    if input.get(pos) == Some(&b'.') {
        let end = digits(pos + 1);
        if end == pos + 1 {
            return err("a digit after '.'", end);
        }
        pos = end;
    }
    if let Some(b'e' | b'E') = input.get(pos) {
        pos += 1;
        if let Some(b'+' | b'-') = input.get(pos) {
            pos += 1;
        }
        let end = digits(pos);
        if end == pos {
            return err("a digit in the exponent", end);
        }
        pos = end;
    }
    Ok(pos)
}

/// Given `pos` at `{` or `[`, returns the index just past its matching
/// close, checking everything inside. One loop; `stack` holds the open
/// containers, so depth costs heap bytes, never call frames.
fn container_end(input: &[u8], pos: usize, stack: &mut Vec<u8>) -> Result<usize, JsonError> {
    stack.clear();
    let mut pos = pos;
    // What the loop expects next inside the innermost container.
    #[derive(PartialEq)]
    enum Want {
        FirstOrClose,
        Value,
        CommaOrClose,
    }
    let mut want = Want::FirstOrClose;
    let open = |stack: &mut Vec<u8>, b: u8| stack.push(b);
    match input.get(pos) {
        Some(&b) => open(stack, b),
        None => return err("a value", pos),
    }
    pos += 1;
    loop {
        pos = skip_ws(input, pos);
        let top = stack.last().copied().unwrap_or(b'[');
        match want {
            Want::CommaOrClose => {
                match (input.get(pos), top) {
                    (Some(b','), _) => {
                        pos += 1;
                        want = Want::Value;
                    }
                    (Some(b'}'), b'{') | (Some(b']'), b'[') => {
                        pos += 1;
                        stack.pop();
                        if stack.is_empty() {
                            return Ok(pos);
                        }
                    }
                    _ => return err("',' or a matching close", pos),
                }
                continue;
            }
            Want::FirstOrClose => {
                let close = if top == b'{' { b'}' } else { b']' };
                if input.get(pos) == Some(&close) {
                    pos += 1;
                    stack.pop();
                    if stack.is_empty() {
                        return Ok(pos);
                    }
                    want = Want::CommaOrClose;
                    continue;
                }
            }
            Want::Value => {}
        }
        // A value (in an array) or a member (in an object) starts here.
        if top == b'{' {
            if input.get(pos) != Some(&b'"') {
                return err("a string key", pos);
            }
            pos = skip_ws(input, string_end(input, pos + 1)? + 1);
            if input.get(pos) != Some(&b':') {
                return err("':' after the key", pos);
            }
            pos = skip_ws(input, pos + 1);
        }
        match input.get(pos) {
            Some(&b @ (b'{' | b'[')) => {
                open(stack, b);
                pos += 1;
                want = Want::FirstOrClose;
            }
            Some(b'"') => {
                pos = string_end(input, pos + 1)? + 1;
                want = Want::CommaOrClose;
            }
            Some(b't') => {
                pos = literal(input, pos, b"true", Kind::Bool)?.2;
                want = Want::CommaOrClose;
            }
            Some(b'f') => {
                pos = literal(input, pos, b"false", Kind::Bool)?.2;
                want = Want::CommaOrClose;
            }
            Some(b'n') => {
                pos = literal(input, pos, b"null", Kind::Null)?.2;
                want = Want::CommaOrClose;
            }
            Some(b'-' | b'0'..=b'9') => {
                pos = number_end(input, pos)?;
                want = Want::CommaOrClose;
            }
            _ => return err("a value", pos),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(input: &str) -> Result<Vec<(String, Kind, String)>, JsonError> {
        let mut v = Vec::new();
        members(input.as_bytes(), &mut v)?;
        Ok(v.iter()
            .map(|m| {
                (
                    String::from_utf8_lossy(m.key).into_owned(),
                    m.kind,
                    String::from_utf8_lossy(m.value).into_owned(),
                )
            })
            .collect())
    }

    #[test]
    fn named_cases() {
        type Case<'a> = (&'a str, &'a str, &'a [(&'a str, Kind, &'a str)]);
        let ok: &[Case] = &[
            ("empty", "{}", &[]),
            ("spaces", " { } \n", &[]),
            (
                "docker",
                r#"{"log":"a \"q\"\n","stream":"stdout","time":"2018-09-17T12:13:43Z"}"#,
                &[
                    ("log", Kind::String, r#"a \"q\"\n"#),
                    ("stream", Kind::String, "stdout"),
                    ("time", Kind::String, "2018-09-17T12:13:43Z"),
                ],
            ),
            (
                "types",
                r#"{"a":1,"b":-0.5e+3,"c":true,"d":null,"e":[1,{"x":[]}],"f":{}}"#,
                &[
                    ("a", Kind::Number, "1"),
                    ("b", Kind::Number, "-0.5e+3"),
                    ("c", Kind::Bool, "true"),
                    ("d", Kind::Null, "null"),
                    ("e", Kind::Array, r#"[1,{"x":[]}]"#),
                    ("f", Kind::Object, "{}"),
                ],
            ),
            (
                "escapes kept",
                r#"{"k\u00e9":"\ue0ff\ud800\u0000"}"#,
                &[(r"k\u00e9", Kind::String, r"\ue0ff\ud800\u0000")],
            ),
            (
                "duplicate keys",
                r#"{"a":1,"a":2}"#,
                &[("a", Kind::Number, "1"), ("a", Kind::Number, "2")],
            ),
        ];
        for (name, input, want) in ok {
            let got = list(input).unwrap_or_else(|e| panic!("{name}: {e}"));
            let want: Vec<_> = want
                .iter()
                .map(|(k, t, v)| (k.to_string(), *t, v.to_string()))
                .collect();
            assert_eq!(got, want, "{name}");
        }
        let bad: &[(&str, &str, JsonError)] = &[
            (
                "empty input",
                "",
                JsonError {
                    expected: "'{' opening the record",
                    at: 0,
                },
            ),
            (
                "array",
                "[1]",
                JsonError {
                    expected: "'{' opening the record",
                    at: 0,
                },
            ),
            (
                "number",
                "42",
                JsonError {
                    expected: "'{' opening the record",
                    at: 0,
                },
            ),
            (
                "unclosed",
                r#"{"a":1"#,
                JsonError {
                    expected: "',' or '}' after a member",
                    at: 6,
                },
            ),
            (
                "bad escape",
                r#"{"a":"\x"}"#,
                JsonError {
                    expected: "a valid escape after '\\'",
                    at: 7,
                },
            ),
            (
                "short unicode",
                r#"{"a":"\u12"}"#,
                JsonError {
                    expected: "four hex digits after '\\u'",
                    at: 8,
                },
            ),
            (
                "raw control",
                "{\"a\":\"\u{1}\"}",
                JsonError {
                    expected: "no raw control byte in a string",
                    at: 6,
                },
            ),
            (
                "raw nul",
                "{\"a\":\"\0\"}",
                JsonError {
                    expected: "no raw control byte in a string",
                    at: 6,
                },
            ),
            (
                "trailing",
                r#"{"a":1} x"#,
                JsonError {
                    expected: "the end of the record",
                    at: 8,
                },
            ),
            (
                "leading zero",
                r#"{"a":01}"#,
                JsonError {
                    expected: "',' or '}' after a member",
                    at: 6,
                },
            ),
            (
                "bare dot",
                r#"{"a":1.}"#,
                JsonError {
                    expected: "a digit after '.'",
                    at: 7,
                },
            ),
            (
                "mismatched",
                r#"{"a":[1}"#,
                JsonError {
                    expected: "',' or a matching close",
                    at: 7,
                },
            ),
            (
                "trailing comma",
                r#"{"a":[1,]}"#,
                JsonError {
                    expected: "a value",
                    at: 8,
                },
            ),
            (
                "no key",
                r#"{1:2}"#,
                JsonError {
                    expected: "a string key",
                    at: 1,
                },
            ),
            (
                "unclosed string",
                r#"{"a":"abc"#,
                JsonError {
                    expected: "'\"' closing a string",
                    at: 9,
                },
            ),
        ];
        for (name, input, want) in bad {
            assert_eq!(list(input).err(), Some(*want), "{name}");
        }
    }

    #[test]
    fn word_scan_agrees_with_a_byte_by_byte_one() {
        // The reference: one byte at a time, the same rules.
        let naive = |s: &[u8], from: usize| {
            let mut i = from;
            loop {
                match s.get(i)? {
                    b'"' => return Some(i),
                    b'\\' => match s.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' if s.get(i + 2..i + 6)?.iter().all(u8::is_ascii_hexdigit) => i += 6,
                        _ => return None,
                    },
                    &c if c < 0x20 => return None,
                    _ => i += 1,
                }
            }
        };
        let alphabet = [
            b'a', b'"', b'\\', b'\\', b'n', b'u', b'0', b'f', 0, 0x1f, 0x20, 0x5b, 0x7f, 0x80,
            0xa2, 0xdc, 0xff,
        ];
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        for len in 0..80usize {
            for _ in 0..200 {
                let mut s = Vec::with_capacity(len);
                for _ in 0..len {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    // Mostly plain bytes, so matches land at every offset.
                    let pick = (seed % 40) as usize;
                    s.push(if pick < alphabet.len() {
                        alphabet[pick]
                    } else {
                        b'x'
                    });
                }
                for from in 0..=len {
                    assert_eq!(
                        string_end(&s, from).ok(),
                        naive(&s, from),
                        "{s:?} from {from}"
                    );
                }
            }
        }
    }

    #[test]
    fn deep_nesting_is_iterative() {
        let depth = 100_000;
        let mut s = String::from(r#"{"deep":"#);
        s.push_str(&"[".repeat(depth));
        s.push_str(&"]".repeat(depth));
        s.push('}');
        let got = list(&s).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, Kind::Array);
        let unbalanced = format!(r#"{{"deep":{}}}"#, "[".repeat(depth));
        assert!(list(&unbalanced).is_err());
    }

    #[test]
    fn agrees_with_serde_json_on_generated_documents() {
        // A small deterministic generator of valid and broken documents.
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let atoms = [
            "1",
            "-2.5",
            "0",
            "1e9",
            "true",
            "false",
            "null",
            r#""s""#,
            r#""\"q\"""#,
            "[]",
            "{}",
            r#"[1,2]"#,
            r#"{"k":[null]}"#,
            r#""\u00e9""#,
            "01",
            "[1,]",
            r#""\x""#,
            "{",
            "]",
            ",",
        ];
        for _ in 0..20_000 {
            let n = (next() % 4) as usize;
            let mut s = String::from("{");
            for i in 0..n {
                if i > 0 {
                    s.push(',');
                }
                let a = atoms[(next() % atoms.len() as u64) as usize];
                s.push_str(&format!(r#""k{i}":{a}"#));
            }
            s.push('}');
            let ours = list(&s).is_ok();
            let theirs =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(&s).is_ok();
            assert_eq!(ours, theirs, "{s}");
        }
    }
}
