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
//! A parser writes what it finds into a [`Sink`]: a [`Fields`] list (the
//! tests, the general path) or, on the per-record path, the output's JSON
//! itself ([`crate::out::Rendered`]), with the same typing rules either way,
//! so the list is not built only to be walked again. Its field names are
//! [`Key`]s declared in one [`KeyTable`] per parser (`key_table!`), each
//! JSON key (`,"name":"`) rendered at compile time.
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
const fn name_bits(name: &[u8]) -> (u64, u64) {
    let len = name.len();
    let (first, last) = match (name.first(), name.last()) {
        (Some(&f), Some(&l)) => (f as usize, l as usize),
        _ => (0, 0),
    };
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

// ---------------------------------------------------------------------------
// The direct path: keys rendered at compile time and a sink trait, so that
// a parser written once feeds either a [`Fields`] list or the output JSON.
// ---------------------------------------------------------------------------

/// A field's name with its JSON key rendered once, at compile time: what
/// parsers that write through a [`Sink`] name their fields with. Declared
/// in tables by `key_table!`.
#[derive(Debug)]
pub struct Key {
    /// The field's name.
    pub name: &'static str,
    /// `,"name":"`: the separator, the quoted name, the colon and the
    /// opening quote of a text value, copied to the output in one piece.
    pub json: &'static [u8],
    /// The key's place in its [`KeyTable`] (below 64).
    pub id: u8,
}

/// Every key one parser may write, and a filter over their names.
#[derive(Debug)]
pub struct KeyTable {
    /// The keys; `keys[i].id == i`.
    pub keys: &'static [&'static Key],
    /// The union of the names' `name_bits`: a name whose bits are not
    /// both set is none of the table's.
    pub bits: (u64, u64),
}

impl KeyTable {
    /// The table of `keys`, which must be numbered in order.
    pub const fn new(keys: &'static [&'static Key]) -> Self {
        let mut bits = (0u64, 0u64);
        let mut i = 0;
        while i < keys.len() {
            let (a, b) = name_bits(keys[i].name.as_bytes());
            bits = (bits.0 | a, bits.1 | b);
            i += 1;
        }
        KeyTable { keys, bits }
    }

    /// The key called `name`, if the table has one.
    #[inline]
    pub fn find(&self, name: &[u8]) -> Option<&'static Key> {
        let (a, b) = name_bits(name);
        if self.bits.0 & a == 0 || self.bits.1 & b == 0 {
            return None;
        }
        self.keys
            .iter()
            .copied()
            .find(|k| k.name.as_bytes() == name)
    }
}

/// Declares a module holding a table of [`Key`]s: one constant per key,
/// numbered in order, and `TABLE`, the [`KeyTable`] of them all.
macro_rules! key_table {
    ($(#[$meta:meta])* $vis:vis mod $module:ident { $($key:ident = $name:literal),* $(,)? }) => {
        $(#[$meta])*
        $vis mod $module {
            use $crate::formats::{Key, KeyTable};
            #[allow(non_camel_case_types, clippy::upper_case_acronyms, dead_code)]
            #[repr(u8)]
            enum Id { $($key),* }
            $(
                #[doc = concat!("`", $name, "`")]
                pub(crate) const $key: &Key = &Key {
                    name: $name,
                    json: concat!(",\"", $name, "\":\"").as_bytes(),
                    id: Id::$key as u8,
                };
            )*
            /// Every key above, in order.
            pub(crate) const TABLE: KeyTable = KeyTable::new(&[$($key),*]);
        }
    };
}
pub(crate) use key_table;

/// The keys an address field is written under: the address as logged, and
/// its IP and port when it is `ip:port` or `[ipv6]:port`.
#[derive(Clone, Copy, Debug)]
pub struct AddressKeys {
    /// The address as logged.
    pub whole: &'static Key,
    /// Its IP (IPv6 without brackets).
    pub ip: &'static Key,
    /// Its port.
    pub port: &'static Key,
}

/// Where a parser puts the fields it finds, typed by the same rules
/// whatever the sink: `-` and the empty string mean absent, a number that
/// does not fit is left out and flagged `out-of-range`. [`Fields`] keeps
/// them as a list; [`crate::out::Rendered`] writes them straight into the
/// output's JSON.
pub trait Sink<'a> {
    /// A text field, unless absent.
    fn text(&mut self, key: &'static Key, raw: &'a [u8]);
    /// A non-negative integer field, unless absent.
    fn count(&mut self, key: &'static Key, raw: &'a [u8]);
    /// A non-negative decimal field (`0.005`), unless absent.
    fn decimal(&mut self, key: &'static Key, raw: &'a [u8]);
    /// An address field, unless absent, then its IP and port when it is
    /// `ip:port` or `[ipv6]:port`.
    fn address(&mut self, keys: AddressKeys, raw: &'a [u8]);
    /// An RFC 3339 time, normalised to UTC; flagged when not a valid time.
    fn rfc3339(&mut self, key: &'static Key, raw: &'a [u8]);
    /// A time already parsed.
    fn time(&mut self, key: &'static Key, time: Timestamp);
    /// Records a suspicion, keeping the graver one.
    fn flag(&mut self, suspicion: Suspicion);
}

impl<'a> Sink<'a> for Fields<'a> {
    fn text(&mut self, key: &'static Key, raw: &'a [u8]) {
        self.push_text(key.name, raw);
    }

    fn count(&mut self, key: &'static Key, raw: &'a [u8]) {
        self.push_count(key.name, raw);
    }

    fn decimal(&mut self, key: &'static Key, raw: &'a [u8]) {
        self.push_decimal(key.name, raw);
    }

    fn address(&mut self, keys: AddressKeys, raw: &'a [u8]) {
        let names = AddressNames {
            whole: keys.whole.name,
            ip: keys.ip.name,
            port: keys.port.name,
        };
        self.push_address(names, raw);
    }

    fn rfc3339(&mut self, key: &'static Key, raw: &'a [u8]) {
        self.push_time(key.name, crate::time::parse_rfc3339(raw));
    }

    fn time(&mut self, key: &'static Key, time: Timestamp) {
        self.push(key.name, Value::Time(time));
    }

    fn flag(&mut self, suspicion: Suspicion) {
        Fields::flag(self, suspicion);
    }
}

/// The same typing as [`Fields`], written straight into JSON: a count
/// already in canonical form (digits, no leading zero) and an RFC 3339
/// UTC time already as it would be written are copied as they are,
/// without a round trip through a number.
impl<'a> Sink<'a> for crate::out::Rendered {
    #[inline(always)]
    fn text(&mut self, key: &'static Key, raw: &'a [u8]) {
        if !is_absent(raw) {
            self.put_text(key, raw);
        }
    }

    #[inline(always)]
    fn count(&mut self, key: &'static Key, raw: &'a [u8]) {
        if is_absent(raw) {
            return;
        }
        if crate::scan::is_canonical_count(raw) {
            self.put_number(key, raw);
            return;
        }
        match crate::scan::parse_count(raw) {
            Ok(n) => self.put_int(key, n),
            Err(_) => crate::out::Rendered::flag(self, Suspicion::OutOfRange),
        }
    }

    #[inline(always)]
    fn decimal(&mut self, key: &'static Key, raw: &'a [u8]) {
        if is_absent(raw) {
            return;
        }
        if crate::scan::is_json_decimal(raw) {
            self.put_number(key, raw);
        } else {
            crate::out::Rendered::flag(self, Suspicion::OutOfRange);
        }
    }

    #[inline(always)]
    fn address(&mut self, keys: AddressKeys, raw: &'a [u8]) {
        if is_absent(raw) {
            return;
        }
        self.put_text(keys.whole, raw);
        if let Some((ip, port)) = crate::scan::split_ip_port_text(raw) {
            self.put_text(keys.ip, ip);
            match port.canonical {
                Some(digits) => self.put_number(keys.port, digits),
                None => self.put_int(keys.port, port.value),
            }
        }
    }

    #[inline(always)]
    fn rfc3339(&mut self, key: &'static Key, raw: &'a [u8]) {
        if crate::time::is_canonical_rfc3339(raw) {
            self.put_text(key, raw);
            return;
        }
        match crate::time::parse_rfc3339(raw) {
            Some(t) => self.put_time(key, t),
            None => crate::out::Rendered::flag(self, Suspicion::OutOfRange),
        }
    }

    #[inline(always)]
    fn time(&mut self, key: &'static Key, time: Timestamp) {
        self.put_time(key, time);
    }

    #[inline(always)]
    fn flag(&mut self, suspicion: Suspicion) {
        crate::out::Rendered::flag(self, suspicion);
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
    // The usual end, `x\n` with `x` neither a backslash nor a line end,
    // decided at once.
    if let Some([before, b'\\', b'n']) = line.last_chunk::<3>()
        && !matches!(before, b'\\' | b'\r' | b'\n')
    {
        return line.get(..line.len() - 2).unwrap_or_default();
    }
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
    // Usually no run of spaces to drop around the path.
    if let (Some(&a), Some(&b)) = (middle.first(), middle.last())
        && a != b' '
        && b != b' '
    {
        return RequestLine {
            method,
            path: middle,
            protocol: piece(last + 1, to),
        };
    }
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
    fn key_tables_are_numbered_and_rendered() {
        for table in [&envoy::keys::TABLE, &nginx_ingress::keys::TABLE] {
            assert!(table.keys.len() <= 64);
            for (i, key) in table.keys.iter().enumerate() {
                assert_eq!(usize::from(key.id), i, "{}", key.name);
                assert_eq!(key.json, format!(",\"{}\":\"", key.name).as_bytes());
                let same = table.keys.iter().filter(|k| k.name == key.name).count();
                assert_eq!(same, 1, "{} twice", key.name);
            }
        }
    }

    #[test]
    fn key_table_find_agrees_with_a_naive_search() {
        let probes: &[&[u8]] = &[
            b"log",
            b"stream",
            b"time",
            b"path",
            b"code",
            b"host",
            b"",
            b"pat",
            b"paths",
            b"route_name",
            b"route_namE",
            b"upstream_host_ip",
            b"upstream_addr_ip",
            b"req_id",
            b"x_request_id",
            b"request_id",
            b"rosetta.reason",
        ];
        for table in [&envoy::keys::TABLE, &nginx_ingress::keys::TABLE] {
            for probe in probes {
                let naive = table.keys.iter().find(|k| k.name.as_bytes() == *probe);
                let found = table.find(probe);
                assert_eq!(found.map(|k| k.id), naive.map(|k| k.id), "{probe:?}");
            }
        }
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
