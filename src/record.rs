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
//! - strings are scanned eight bytes at a time for `"`, `\` and control bytes,
//!   two words per step.
//!
//! [`members_indexed`] also notes, while it checks them, where the `\"`
//! escapes of one string are (the log line's), so that the access-log
//! parsers find the line's quotes without scanning it again.

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
    walk(input, &mut |m| list.push(m), None)
}

/// Like [`members`], handing each member to `each` instead of a list:
/// a caller that keeps only some members checks and reads the object in
/// one walk.
pub fn each_member<'a>(input: &'a [u8], mut each: impl FnMut(Member<'a>)) -> Result<(), JsonError> {
    walk(input, &mut each, None)
}

/// Like [`members`], and records in `quotes` where the quote escapes of one
/// string are: the value of the first member called `key` whose value is a
/// string (the member [`crate::filter`] reads the log line from). The
/// positions come out of the check itself, so a parser gets the line's
/// quotes without scanning it again.
pub fn members_indexed<'a>(
    input: &'a [u8],
    list: &mut Vec<Member<'a>>,
    key: &[u8],
    quotes: &mut Quotes,
) -> Result<(), JsonError> {
    quotes.clear();
    walk(input, &mut |m| list.push(m), Some((key, quotes)))
}

/// The most quote positions a [`Quotes`] holds. An Istio line has fourteen
/// quotes, an Envoy line ten, an ingress-nginx line six; a line with more
/// than this is left to its parser's own scan.
pub const QUOTES_MAX: usize = 48;

/// The quote escapes (`\"`) of one string: the offsets of their `"` bytes
/// from the string's first content byte, in order (see
/// [`members_indexed`]). Holds at most [`QUOTES_MAX`]; a string with more
/// is marked as such and offers none. The list keeps its allocation from
/// record to record ([`Quotes::reusing`]).
#[derive(Clone, Debug, Default)]
pub struct Quotes {
    at: Vec<u32>,
    /// Whether the string had more quotes than `at` holds.
    overflow: bool,
    /// The index, in the member list, of the member whose string this is.
    member: Option<usize>,
}

impl Quotes {
    /// An empty index.
    pub fn new() -> Self {
        Quotes::reusing(Vec::with_capacity(QUOTES_MAX))
    }

    /// An empty index that takes over `list`'s allocation (see
    /// [`Quotes::into_list`]).
    pub fn reusing(mut list: Vec<u32>) -> Self {
        list.clear();
        Quotes {
            at: list,
            overflow: false,
            member: None,
        }
    }

    /// Gives the list's allocation back, for [`Quotes::reusing`].
    pub fn into_list(self) -> Vec<u32> {
        self.at
    }

    /// Forgets every position.
    pub fn clear(&mut self) {
        self.at.clear();
        self.overflow = false;
        self.member = None;
    }

    /// The index, in the member list, of the member indexed: the first
    /// member with the key asked for and a string value.
    pub fn member(&self) -> Option<usize> {
        self.member
    }

    /// The positions of the quotes of the string of member `member` (its
    /// index in the list), when that member is the one indexed and every
    /// quote of its string is held.
    pub fn of(&self, member: usize) -> Option<&[u32]> {
        if self.member != Some(member) || self.overflow {
            return None;
        }
        Some(&self.at)
    }
}

/// The object walk behind [`members`], [`each_member`] and
/// [`members_indexed`]. The common layout (no whitespace between tokens,
/// as fluent-bit writes) is tested first at each step; whitespace is
/// skipped only where it is found.
#[inline(always)]
fn walk<'a>(
    input: &'a [u8],
    each: &mut impl FnMut(Member<'a>),
    mut index: Option<(&[u8], &mut Quotes)>,
) -> Result<(), JsonError> {
    let mut stack = Vec::new();
    let mut count = 0;
    let mut pos = skip_ws(input, 0);
    if input.get(pos) != Some(&b'{') {
        return err("'{' opening the record", pos);
    }
    pos = skip_ws(input, pos + 1);
    if input.get(pos) == Some(&b'}') {
        return finish(input, pos + 1);
    }
    let slice = |a: usize, b: usize| input.get(a..b).unwrap_or_default();
    loop {
        let start = pos;
        if input.get(pos) != Some(&b'"') {
            return err("a string key", pos);
        }
        let key_end = match string_close(input, pos + 1) {
            usize::MAX => string_end(input, pos + 1)?,
            close => close,
        };
        let key = slice(pos + 1, key_end);
        pos = key_end + 1;
        if input.get(pos) != Some(&b':') {
            pos = skip_ws(input, pos);
            if input.get(pos) != Some(&b':') {
                return err("':' after the key", pos);
            }
        }
        pos += 1;
        if input.get(pos) != Some(&b'"') {
            pos = skip_ws(input, pos);
        }
        let (kind, value, end) = if input.get(pos) == Some(&b'"') {
            let content = pos + 1;
            let close = match &mut index {
                Some((wanted, quotes))
                    if quotes.member.is_none() && crate::scan::same(key, wanted) =>
                {
                    let mut sink = Recorder {
                        at: &mut quotes.at,
                        content,
                        overflow: false,
                    };
                    let close = scan_string(input, content, &mut sink)?;
                    quotes.overflow = sink.overflow;
                    quotes.member = Some(count);
                    close
                }
                _ => match string_close(input, content) {
                    usize::MAX => string_end(input, content)?,
                    close => close,
                },
            };
            (Kind::String, slice(content, close), close + 1)
        } else {
            value(input, pos, &mut stack)?
        };
        each(Member {
            key,
            value,
            kind,
            json: slice(pos, end),
            span: slice(start, end),
        });
        count += 1;
        pos = end;
        if input.get(pos) != Some(&b',') {
            pos = skip_ws(input, pos);
        }
        match input.get(pos) {
            Some(b',') => {
                pos += 1;
                if input.get(pos) != Some(&b'"') {
                    pos = skip_ws(input, pos);
                }
            }
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
/// at (the test may also flag a byte above a true one, and non-ASCII bytes:
/// those are skipped), escapes are checked where they start, and the scan
/// goes on in the same word, so a line full of `\"` escapes costs a few
/// instructions per escape, not a new search each. Bytes too few for a word
/// are looked at one by one.
pub fn string_end(input: &[u8], pos: usize) -> Result<usize, JsonError> {
    match string_close(input, pos) {
        usize::MAX => scan_string(input, pos, &mut NoQuotes),
        close => Ok(close),
    }
}

/// [`string_end`] returning the closing quote's index as it is, or
/// `usize::MAX` for any error (the member walk then asks [`string_end`]
/// which): a plain number is cheaper to hand back than a `Result`.
#[inline(never)]
fn string_close(input: &[u8], pos: usize) -> usize {
    // A short string (a key, a stream name) closes within its first word
    // with nothing to look at before: one test.
    if let Some(eight) = input.get(pos..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*eight);
        let hits = special_bytes(x);
        let k = flag_index(hits);
        if hits != 0 && (x >> (8 * k)) as u8 == b'"' {
            return pos + k;
        }
    }
    scan_string(input, pos, &mut NoQuotes).unwrap_or(usize::MAX)
}

/// Where [`scan_string`] reports the quotes of `\"` escapes.
trait QuoteSink {
    /// The `"` of a `\"` escape is at `at`.
    fn quote(&mut self, at: usize);
}

/// Reports nowhere: [`string_end`].
struct NoQuotes;

impl QuoteSink for NoQuotes {
    #[inline(always)]
    fn quote(&mut self, _: usize) {}
}

/// Keeps the first [`QUOTES_MAX`] positions, as offsets from `content`.
struct Recorder<'q> {
    at: &'q mut Vec<u32>,
    content: usize,
    overflow: bool,
}

impl QuoteSink for Recorder<'_> {
    #[inline(always)]
    fn quote(&mut self, at: usize) {
        if self.at.len() < QUOTES_MAX {
            self.at.push((at - self.content) as u32);
        } else {
            self.overflow = true;
        }
    }
}

/// What the flags of one word led to.
enum Step {
    /// Nothing that stops the scan: go on with the next word.
    Next,
    /// As `Next`, but the next word's first byte ends an escape begun in
    /// this one (the `"` or `\` of `\"` or `\\`): its flag is not a match.
    Carry,
    /// The closing quote is here.
    End(usize),
}

/// The flag of a word's first byte.
const FIRST: u64 = 0x80;

/// `\"` read as a little-endian `u16`.
const ESCAPED_QUOTE: u16 = u16::from_le_bytes(*b"\\\"");

/// `\\` read as a little-endian `u16`.
const ESCAPED_BACKSLASH: u16 = u16::from_le_bytes(*b"\\\\");

/// Looks at each flagged byte of the word `x`, which starts at `word_at`.
///
/// An escape is checked where it starts, and its flags cleared: the
/// backslash's, and the next byte's when that is the `"` or `\` of `\"` or
/// `\\` (no other byte of an escape can be a match: `\u` is followed by hex
/// digits).
#[inline(always)]
fn flagged(
    input: &[u8],
    word_at: usize,
    x: u64,
    mut hits: u64,
    quote: &mut impl QuoteSink,
) -> Result<Step, JsonError> {
    while hits != 0 {
        let k = flag_index(hits);
        let at = word_at + k;
        // The usual escapes in a log line, `\"` and `\\`, decided on both
        // bytes at once, read from the word when both are in it.
        let pair = if k < 7 {
            Some((x >> (8 * k)) as u16)
        } else {
            input
                .get(at..)
                .and_then(<[u8]>::first_chunk::<2>)
                .map(|pair| u16::from_le_bytes(*pair))
        };
        let second = match pair {
            Some(ESCAPED_QUOTE) => {
                quote.quote(at + 1);
                b'"'
            }
            Some(ESCAPED_BACKSLASH) => b'\\',
            _ => match input.get(at) {
                Some(b'"') => return Ok(Step::End(at)),
                Some(b'\\') => {
                    escape_end(input, at)?;
                    input.get(at + 1).copied().unwrap_or(0)
                }
                Some(&c) if c < 0x20 => return err("no raw control byte in a string", at),
                // Not special: a borrow's flag, or a non-ASCII byte. Skip
                // it and every other non-ASCII byte of the word.
                _ => {
                    hits &= (hits - 1) & !x;
                    continue;
                }
            },
        };
        hits &= hits - 1;
        if matches!(second, b'"' | b'\\') {
            if k == 7 {
                // The backslash was the word's last byte.
                return Ok(Step::Carry);
            }
            hits &= hits - 1;
        }
    }
    Ok(Step::Next)
}

/// [`string_end`], calling `quote` with the position of the `"` of every
/// `\"` escape, in order.
///
/// Two words per step: a pair free of flags costs one test. The words are
/// those of the string from its start; an escape split between two words
/// clears the flag it leaves in the second.
#[inline(always)]
fn scan_string(input: &[u8], pos: usize, quote: &mut impl QuoteSink) -> Result<usize, JsonError> {
    let rest = input.get(pos..).unwrap_or_default();
    let (words, tail) = rest.as_chunks::<8>();
    let (pairs, single) = words.as_chunks::<2>();
    // The flags to keep in the next word: all but the first byte's after
    // an escape split across words.
    let mut keep = u64::MAX;
    for [a, b] in pairs {
        let (x, y) = (u64::from_le_bytes(*a), u64::from_le_bytes(*b));
        let hx = special_bytes(x) & keep;
        let mut hy = special_bytes(y);
        keep = u64::MAX;
        if hx | hy == 0 {
            continue;
        }
        // Where this pair starts in `input`, worked out only for a pair
        // with flags (one subtraction instead of a counter).
        let word_at = pos + (a.as_ptr() as usize - rest.as_ptr() as usize);
        match flagged(input, word_at, x, hx, quote)? {
            Step::Next => {}
            Step::Carry => hy &= !FIRST,
            Step::End(at) => return Ok(at),
        }
        match flagged(input, word_at + 8, y, hy, quote)? {
            Step::Next => {}
            Step::Carry => keep = !FIRST,
            Step::End(at) => return Ok(at),
        }
    }
    let mut at = pos + pairs.len() * 16;
    for eight in single {
        let x = u64::from_le_bytes(*eight);
        match flagged(input, at, x, special_bytes(x) & keep, quote)? {
            Step::Next => keep = u64::MAX,
            Step::Carry => keep = !FIRST,
            Step::End(at) => return Ok(at),
        }
        at += 8;
    }
    // The last bytes, one at a time (after the end of an escape split
    // off the last word, if one was).
    let mut pos = at + usize::from(keep != u64::MAX && !tail.is_empty());
    loop {
        match input.get(pos) {
            Some(b'"') => return Ok(pos),
            Some(b'\\') => {
                if input.get(pos + 1) == Some(&b'"') {
                    quote.quote(pos + 1);
                }
                pos = escape_end(input, pos)?;
            }
            Some(&c) if c < 0x20 => return err("no raw control byte in a string", pos),
            Some(_) => pos += 1,
            None => return err("'\"' closing a string", input.len()),
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

#[inline(always)]
fn flag_index(hits: u64) -> usize {
    (hits.trailing_zeros() / 8) as usize
}

/// Flags (0x80) the bytes of `x` that are `"`, `\\` or below 0x20, and
/// maybe others.
///
/// Two has-zero-byte tests `(v - 0x01..) & 0x80..` in one: `x ^ 0x02..`
/// turns `"` into 0x20 and keeps control bytes below 0x20, so "less than
/// 0x21" flags both; `x ^ '\\'` against zero flags the backslashes. The
/// usual `& !x` is left out: every true match is flagged, and so are
/// non-ASCII bytes and, through a borrow, bytes just above a true match
/// (`#` above a `"`, `]` above a `\\`). The caller looks at each flagged
/// byte; the false ones are rare in fluent-bit's ASCII records.
#[inline(always)]
fn special_bytes(x: u64) -> u64 {
    let quote_or_control = (x ^ (LO * 0x02)).wrapping_sub(LO * 0x21);
    let slash = (x ^ (LO * u64::from(b'\\'))).wrapping_sub(LO);
    (quote_or_control | slash) & HI
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

/// JSON's number grammar: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`,
/// and a value a double can hold: fluent-bit reads numbers as doubles and
/// refuses a whole answer holding one that overflows (`1e400`, a
/// 400-digit integer), so such a record is refused here, and kept whole
/// as `rosetta.raw`.
pub fn number_end(input: &[u8], mut pos: usize) -> Result<usize, JsonError> {
    let digits = |mut p: usize| {
        while input.get(p).is_some_and(u8::is_ascii_digit) {
            p += 1;
        }
        p
    };
    let start = pos;
    if input.get(pos) == Some(&b'-') {
        pos += 1;
    }
    let int_start = pos;
    match input.get(pos) {
        Some(b'0') => pos += 1,
        Some(b'1'..=b'9') => pos = digits(pos + 1),
        _ => return err("a digit", pos),
    }
    let int_digits = pos - int_start;
    if input.get(pos) == Some(&b'.') {
        let end = digits(pos + 1);
        if end == pos + 1 {
            return err("a digit after '.'", end);
        }
        pos = end;
    }
    let mut exponent = 0i64;
    if let Some(b'e' | b'E') = input.get(pos) {
        pos += 1;
        let negative = input.get(pos) == Some(&b'-');
        if let Some(b'+' | b'-') = input.get(pos) {
            pos += 1;
        }
        let end = digits(pos);
        if end == pos {
            return err("a digit in the exponent", end);
        }
        exponent = input
            .get(pos..end)
            .unwrap_or_default()
            .iter()
            .fold(0i64, |n, &d| {
                n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
            });
        if negative {
            exponent = -exponent;
        }
        pos = end;
    }
    // Only a number whose decimal magnitude reaches 300 is read as a
    // double to decide.
    if exponent.saturating_add(int_digits as i64) >= 300
        && input
            .get(start..pos)
            .and_then(|t| std::str::from_utf8(t).ok())
            .and_then(|t| t.parse::<f64>().ok())
            .is_none_or(f64::is_infinite)
    {
        return err(
            "numbers a double can hold (a larger one loses the record in fluent-bit)",
            start,
        );
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

    #[test]
    fn numbers_a_double_cannot_hold_are_refused() {
        let cases: &[(&str, Option<usize>)] = &[
            ("{\"n\":1e308}", None),
            ("{\"n\":1.7976931348623157e308}", None),
            ("{\"n\":1e-400}", None),
            ("{\"n\":0.000001e305}", None),
            ("{\"n\":123456789012345678901234567890}", None),
            ("{\"n\":1e400}", Some(5)),
            ("{\"a\":[1,-2e309]}", Some(8)),
            ("{\"s\":\"1e999\",\"n\":2}", None),
            ("{\"s\":\"x\\\"1e999\"}", None),
        ];
        for (text, want) in cases {
            let got = validate(text.as_bytes()).err().map(|e| e.at);
            assert_eq!(got, *want, "{text}");
        }
        let huge = format!("{{\"n\":{}}}", "9".repeat(400));
        assert_eq!(validate(huge.as_bytes()).err().map(|e| e.at), Some(5));
    }

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

    /// The reference for [`members_indexed`]: the `"` of every `\"`
    /// escape of a string's content, one escape at a time.
    fn naive_quotes(content: &[u8]) -> Vec<u32> {
        let mut out = Vec::new();
        let mut i = 0;
        while i < content.len() {
            if content[i] == b'\\' {
                if content.get(i + 1) == Some(&b'"') {
                    out.push(i as u32 + 1);
                }
                i += if content.get(i + 1) == Some(&b'u') {
                    6
                } else {
                    2
                };
            } else {
                i += 1;
            }
        }
        out
    }

    #[test]
    fn indexed_members_cases() {
        let mut list = Vec::new();
        let mut quotes = Quotes::new();
        type Case<'a> = (&'a str, &'a str, Option<usize>, Option<Vec<u32>>);
        let cases: &[Case] = &[
            (
                "docker",
                r#"{"log":"a \"b\" c","stream":"x"}"#,
                Some(0),
                Some(vec![3, 6]),
            ),
            (
                "log second",
                r#"{"time":"t","log":"\"\""}"#,
                Some(1),
                Some(vec![1, 3]),
            ),
            ("no quotes", r#"{"log":"plain"}"#, Some(0), Some(vec![])),
            (
                "escaped backslash then quote",
                r#"{"log":"\\\"x"}"#,
                Some(0),
                Some(vec![3]),
            ),
            (
                "unicode escape",
                r#"{"log":"\u0022\"x"}"#,
                Some(0),
                Some(vec![7]),
            ),
            (
                "not a string first",
                r#"{"log":1,"log":"\"x"}"#,
                Some(1),
                Some(vec![1]),
            ),
            (
                "first string wins",
                r#"{"log":"\"","log":"x\""}"#,
                Some(0),
                Some(vec![1]),
            ),
            ("no log", r#"{"message":"\""}"#, None, None),
        ];
        for (name, input, member, want) in cases {
            list.clear();
            members_indexed(input.as_bytes(), &mut list, b"log", &mut quotes).unwrap();
            assert_eq!(quotes.member(), *member, "{name}");
            let got = member.and_then(|m| quotes.of(m)).map(<[u32]>::to_vec);
            assert_eq!(got, *want, "{name}");
        }
        // More quotes than are kept: none is offered.
        let many = format!(r#"{{"log":"{}"}}"#, "\\\"".repeat(QUOTES_MAX + 1));
        list.clear();
        members_indexed(many.as_bytes(), &mut list, b"log", &mut quotes).unwrap();
        assert_eq!(quotes.member(), Some(0));
        assert_eq!(quotes.of(0), None);
        // Errors are those of `members`.
        let bad = r#"{"log":"\x"}"#;
        let mut plain = Vec::new();
        assert_eq!(
            members_indexed(bad.as_bytes(), &mut list, b"log", &mut quotes),
            members(bad.as_bytes(), &mut plain)
        );
    }

    #[test]
    fn indexed_quotes_agree_with_a_naive_walk() {
        let alphabet: [&[u8]; 10] = [
            b"\\\"", b"\\\\", b"\\n", b"\\u00e9", b" ", b"a", b"\"", b"\x01", b"#", b"]",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut quotes = Quotes::new();
        for _ in 0..20_000 {
            let mut content = Vec::new();
            for _ in 0..(seed % 40) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                // Mostly plain bytes, so escapes land at every offset.
                let pick = (seed % 24) as usize;
                content.extend_from_slice(alphabet.get(pick).copied().unwrap_or(b"x"));
            }
            let mut input = b"{\"k\":1,\"log\":\"".to_vec();
            input.extend_from_slice(&content);
            input.extend_from_slice(b"\"}");
            let (mut list, mut plain) = (Vec::new(), Vec::new());
            let got = members_indexed(&input, &mut list, b"log", &mut quotes);
            assert_eq!(got, members(&input, &mut plain), "{input:?}");
            if got.is_ok() {
                assert_eq!(list, plain);
                let want = naive_quotes(list[1].value);
                let want = (want.len() <= QUOTES_MAX).then_some(want);
                assert_eq!(quotes.of(1).map(<[u32]>::to_vec), want, "{input:?}");
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
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
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
