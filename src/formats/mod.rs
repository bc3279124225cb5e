//! The built-in log formats: one file per format, each exposing the same
//! small interface.
//!
//! A parser reads one log line **as it sits inside the record's JSON string**:
//! the bytes between the quotes, escapes intact (`\"`, `\\`, `\n`, `\uXXXX`).
//! Working on the escaped form means a field is a sub-slice of the input that
//! is already valid JSON string content, so it is copied to the output
//! without unescaping or re-escaping. Every escape is one unit: a parser cuts
//! the line only at unit boundaries, so every [`Value::Text`] it returns is
//! valid JSON string content.
//!
//! Invariants every parser keeps:
//! - single pass, no backtracking: work is linear in the line's length;
//! - never panics, never indexes out of bounds, never allocates per byte;
//! - a field the client controls never lands in a field it does not control:
//!   where a line cannot be split unambiguously the parser says so with a
//!   [`Suspicion`] and leaves the ambiguous fields out.

pub mod envoy;
pub mod nginx_ingress;

use crate::time::Timestamp;
use std::fmt;

/// One parsed field's value, borrowing from the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// Text exactly as it sits in the JSON string (escapes intact): valid
    /// JSON string content, written out between quotes as it is.
    Text(&'a [u8]),
    /// An integer: status codes, byte counts, durations in milliseconds.
    Int(i64),
    /// A non-negative decimal number already checked against JSON's number
    /// grammar, written out as it is (e.g. `0.001`).
    Decimal(&'a [u8]),
    /// A time normalised to RFC 3339 UTC.
    Time(Timestamp),
}

/// The fields a parser found, in output order, plus what it suspects.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    list: Vec<(&'static str, Value<'a>)>,
    /// Two hashes of every name pushed (see [`name_bits`]): a key whose bits
    /// are not both set is certainly not a field name.
    names: (u64, u64),
    /// Set when part of the line could not be attributed unambiguously.
    pub suspect: Option<Suspicion>,
}

/// One bit for a name's length and one for a mix of its length and first
/// and last bytes: a filter in front of the exact name comparison.
#[inline(always)]
fn name_bits(name: &[u8]) -> (u64, u64) {
    let len = name.len();
    let first = name.first().map_or(0, |&b| usize::from(b));
    let last = name.last().map_or(0, |&b| usize::from(b));
    (1 << (len & 63), 1 << ((first + 2 * last + len) & 63))
}

impl<'a> Fields<'a> {
    /// An empty set with room for a typical access-log line.
    pub fn new() -> Self {
        Fields::reusing(Vec::with_capacity(32))
    }

    /// An empty set that takes over `list`'s allocation (see
    /// [`Fields::into_list`]): the per-record path keeps one list for the
    /// life of the filter instead of allocating one per record.
    pub fn reusing(list: Vec<(&'static str, Value<'static>)>) -> Self {
        Fields {
            list: relifetime(list),
            names: (0, 0),
            suspect: None,
        }
    }

    /// Gives the list's allocation back, emptied (for [`Fields::reusing`]).
    pub fn into_list(self) -> Vec<(&'static str, Value<'static>)> {
        relifetime(self.list)
    }

    /// Forgets every field, keeping the allocation.
    pub fn clear(&mut self) {
        self.list.clear();
        self.names = (0, 0);
        self.suspect = None;
    }

    /// Adds a field.
    pub fn push(&mut self, name: &'static str, value: Value<'a>) {
        let (a, b) = name_bits(name.as_bytes());
        self.names.0 |= a;
        self.names.1 |= b;
        self.list.push((name, value));
    }

    /// Whether a field is called `name` (escapes, if any, compared as they
    /// are written).
    pub fn has_name(&self, name: &[u8]) -> bool {
        let (a, b) = name_bits(name);
        self.names.0 & a != 0
            && self.names.1 & b != 0
            && self.list.iter().any(|(n, _)| n.as_bytes() == name)
    }

    /// The fields in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = &(&'static str, Value<'a>)> {
        self.list.iter()
    }

    /// The fields in the order they were pushed, as a slice.
    pub fn as_slice(&self) -> &[(&'static str, Value<'a>)] {
        &self.list
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.list.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
}

/// An empty vector with `list`'s allocation and another element lifetime.
/// The elements are dropped and none is produced, so the standard library's
/// in-place collection keeps the allocation (same size and alignment); no
/// `unsafe` is needed and, were it ever not applied, the result would merely
/// be a fresh empty vector.
pub fn relifetime<T, U>(mut list: Vec<T>) -> Vec<U> {
    list.clear();
    list.into_iter().filter_map(|_| None).collect()
}

/// Why a parsed line is not fully trusted; written as `rosetta.suspect`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Suspicion {
    /// A client-controlled field holds quotes that make the split ambiguous.
    QuoteInjection,
    /// A value that should be a number does not fit the schema's type
    /// (overflow, sign); it was left out and the raw line kept.
    OutOfRange,
}

impl Suspicion {
    /// The value written to `rosetta.suspect`.
    pub fn as_str(self) -> &'static str {
        match self {
            Suspicion::QuoteInjection => "quote-injection",
            Suspicion::OutOfRange => "out-of-range",
        }
    }
}

/// Why a line is not of a format; written as `rosetta.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The format that was tried (`envoy`, `istio`, `nginx-ingress`...).
    pub format: &'static str,
    /// What was expected and not found.
    pub expected: &'static str,
    /// Byte offset in the (escaped) line where it was expected.
    pub at: usize,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not {}: expected {} at byte {}",
            self.format, self.expected, self.at
        )
    }
}

/// What a parser reports: which format matched and whether it is suspect
/// (`fields.suspect`), or why the line is not of its format.
pub type Outcome = Result<&'static str, Mismatch>;

// ---------------------------------------------------------------------------
// Helpers shared by the format parsers (crate-internal). They push a field
// only when its value is present and of the schema's type: `-` and the empty
// string mean "absent", and a number that does not fit is left out with
// `Suspicion::OutOfRange`.
// ---------------------------------------------------------------------------

/// The names an address field is written under: the address as logged, and
/// its IP and port when it is `ip:port` or `[ipv6]:port`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AddressNames {
    pub(crate) whole: &'static str,
    pub(crate) ip: &'static str,
    pub(crate) port: &'static str,
}

/// Whether a raw value means "no value": Envoy and nginx write `-`.
pub(crate) fn is_absent(raw: &[u8]) -> bool {
    matches!(raw, b"" | b"-")
}

impl<'a> Fields<'a> {
    /// Records a suspicion, keeping the graver one: a possible quote
    /// injection outranks a value out of range.
    pub(crate) fn flag(&mut self, suspicion: Suspicion) {
        if self.suspect != Some(Suspicion::QuoteInjection) {
            self.suspect = Some(suspicion);
        }
    }

    /// A text field, unless absent.
    pub(crate) fn push_text(&mut self, name: &'static str, raw: &'a [u8]) {
        if !is_absent(raw) {
            self.push(name, Value::Text(raw));
        }
    }

    /// A non-negative integer field, unless absent; anything else but
    /// digits fitting an `i64` is left out and flagged.
    pub(crate) fn push_count(&mut self, name: &'static str, raw: &'a [u8]) {
        if is_absent(raw) {
            return;
        }
        match crate::scan::parse_count(raw) {
            Ok(n) => self.push(name, Value::Int(n)),
            Err(_) => self.flag(Suspicion::OutOfRange),
        }
    }

    /// A non-negative decimal field (`0.005`), unless absent; anything not
    /// in JSON's number grammar is left out and flagged.
    pub(crate) fn push_decimal(&mut self, name: &'static str, raw: &'a [u8]) {
        if is_absent(raw) {
            return;
        }
        if crate::scan::is_json_decimal(raw) {
            self.push(name, Value::Decimal(raw));
        } else {
            self.flag(Suspicion::OutOfRange);
        }
    }

    /// An address field, unless absent, followed by its IP and port when it
    /// is `ip:port` or `[ipv6]:port` (other forms are kept whole only).
    pub(crate) fn push_address(&mut self, names: AddressNames, raw: &'a [u8]) {
        if is_absent(raw) {
            return;
        }
        self.push(names.whole, Value::Text(raw));
        if let Some((ip, port)) = crate::scan::split_ip_port(raw) {
            self.push(names.ip, Value::Text(ip));
            self.push(names.port, Value::Int(port));
        }
    }

    /// A time field; a value that is not a valid time in its layout is left
    /// out and flagged.
    pub(crate) fn push_time(&mut self, name: &'static str, parsed: Option<Timestamp>) {
        match parsed {
            Some(ts) => self.push(name, Value::Time(ts)),
            None => self.flag(Suspicion::OutOfRange),
        }
    }
}

/// The line without the line end the container runtime left on it: one
/// trailing `\n` escape (two bytes, when its backslash starts an escape
/// rather than ending a `\\`), then any raw `\r` or `\n` bytes.
pub(crate) fn trim_line_end(line: &[u8]) -> &[u8] {
    let mut line = line;
    while let Some((b'\r' | b'\n', rest)) = line.split_last() {
        line = rest;
    }
    if let Some(rest) = line.strip_suffix(b"\\n") {
        let backslashes = rest.iter().rev().take_while(|&&b| b == b'\\').count();
        if backslashes % 2 == 0 {
            line = rest;
        }
    }
    while let Some((b'\r' | b'\n', rest)) = line.split_last() {
        line = rest;
    }
    line
}

/// A request line `METHOD PATH PROTOCOL` cut into its parts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RequestLine<'a> {
    pub(crate) method: &'a [u8],
    pub(crate) path: &'a [u8],
    pub(crate) protocol: &'a [u8],
}

/// Cuts the request line `line[from..to]`: the method is the first word,
/// the protocol the last one, the path everything between (runs of spaces
/// around it dropped, spaces inside kept). With only two words the second
/// is the path when `two_words_end_in_path` (nginx: `GET /` from HTTP/0.9)
/// and the protocol otherwise (Envoy always writes three fields). Missing
/// parts are empty. One search from each end: linear, no backtracking.
pub(crate) fn split_request_line(
    line: &[u8],
    from: usize,
    to: usize,
    two_words_end_in_path: bool,
) -> RequestLine<'_> {
    let piece = |a: usize, b: usize| line.get(a..b).unwrap_or_default();
    let Some(first) = crate::scan::find_in(line, from, to, b' ') else {
        return RequestLine {
            method: piece(from, to),
            ..RequestLine::default()
        };
    };
    let method = piece(from, first);
    let last = crate::scan::rfind_in(line, first, to, b' ').unwrap_or(first);
    if last == first {
        let second = piece(first + 1, to);
        return if two_words_end_in_path {
            RequestLine {
                method,
                path: second,
                protocol: b"",
            }
        } else {
            RequestLine {
                method,
                path: b"",
                protocol: second,
            }
        };
    }
    let middle = piece(first + 1, last);
    let path = match (
        crate::scan::find_not_byte(middle, b' '),
        crate::scan::rfind_not_byte(middle, b' '),
    ) {
        (Some(a), Some(b)) => middle.get(a..=b).unwrap_or_default(),
        _ => b"",
    };
    RequestLine {
        method,
        path,
        protocol: piece(last + 1, to),
    }
}

/// The bytes strictly between the quotes at `a` and `b` (excluding the
/// backslash that starts `b`'s escape).
pub(crate) fn between(line: &[u8], a: usize, b: usize) -> Option<&[u8]> {
    line.get(a + 1..b.checked_sub(1)?)
}

/// The most tokens [`tokens_in`] splits.
const MAX_TOKENS: usize = 7;

/// Splits `line[from..to]`, which must be ` t1 t2 … tN ` (one leading and
/// one trailing space, single spaces, non-empty space-free tokens), into its
/// `N` tokens (`N <= 7`). One word-at-a-time pass over the spaces, stopping
/// as soon as there is one too many.
pub(crate) fn tokens_in<const N: usize>(line: &[u8], from: usize, to: usize) -> Option<[&[u8]; N]> {
    if line.get(from) != Some(&b' ') || line.get(to.checked_sub(1)?) != Some(&b' ') {
        return None;
    }
    let mut spaces = [0usize; MAX_TOKENS + 1];
    let mut count = 0usize;
    crate::scan::each_in(line, from, to, b' ', |at| {
        if let Some(slot) = spaces.get_mut(count) {
            *slot = at;
        }
        count += 1;
        count <= N
    });
    if count != N + 1 || N > MAX_TOKENS {
        return None;
    }
    let mut out: [&[u8]; N] = [&[]; N];
    for (slot, pair) in out.iter_mut().zip(spaces.windows(2)) {
        let [start, end] = *pair else {
            return None;
        };
        *slot = line.get(start + 1..end).filter(|t| !t.is_empty())?;
    }
    Some(out)
}

#[cfg(test)]
/// The outcome and fields as text: the format (and suspicion) on the
/// first line, then `name:value` per field, in order; text values in
/// quotes as they sit in the line, decimals after `~`, times after `@`.
/// A mismatch renders as its message.
pub(crate) fn render(outcome: Outcome, fields: &Fields<'_>) -> Vec<String> {
    let format = match outcome {
        Ok(format) => format,
        Err(mismatch) => return vec![mismatch.to_string()],
    };
    let head = match fields.suspect {
        Some(s) => format!("{format} {}", s.as_str()),
        None => format.to_string(),
    };
    let mut out = vec![head];
    for (name, value) in fields.iter() {
        let value = match value {
            Value::Text(t) => format!("\"{}\"", String::from_utf8_lossy(t)),
            Value::Int(i) => i.to_string(),
            Value::Decimal(d) => format!("~{}", String::from_utf8_lossy(d)),
            Value::Time(t) => {
                let mut text = Vec::new();
                t.write_rfc3339(&mut text);
                format!("@{}", String::from_utf8_lossy(&text))
            }
        };
        out.push(format!("{name}:{value}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reused_list_keeps_its_allocation() {
        let mut list: Vec<(&'static str, Value<'static>)> = Vec::with_capacity(32);
        list.push(("a", Value::Int(1)));
        let at = list.as_ptr().cast::<u8>();
        let line = b"x".to_vec();
        let mut fields = Fields::reusing(list);
        assert!(fields.is_empty());
        fields.push("b", Value::Text(&line));
        let back = fields.into_list();
        assert!(back.is_empty());
        assert_eq!(back.as_ptr().cast::<u8>(), at);
        assert!(back.capacity() >= 32);
    }

    #[test]
    fn has_name_agrees_with_a_naive_search() {
        let names = [
            "start_time",
            "method",
            "path",
            "code",
            "upstream_host_ip",
            "x",
            "",
        ];
        let keys: &[&[u8]] = &[
            b"log",
            b"stream",
            b"time",
            b"path",
            b"code",
            b"x",
            b"",
            b"pat",
            b"paths",
            b"method",
            b"upstream_host_ip",
            b"upstream_host_io",
            b"rosetta.reason",
        ];
        for n in 0..=names.len() {
            let mut fields = Fields::new();
            for name in names.iter().take(n) {
                fields.push(name, Value::Int(0));
            }
            for key in keys {
                let naive = names.iter().take(n).any(|name| name.as_bytes() == *key);
                assert_eq!(fields.has_name(key), naive, "{n} names, key {key:?}");
            }
            fields.clear();
            assert!(keys.iter().all(|key| !fields.has_name(key)));
        }
    }
}
