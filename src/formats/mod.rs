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

pub mod apache_error;
pub mod auto;
pub mod clf;
pub mod envoy;
pub mod golog;
pub mod json;
pub mod klog;
pub mod logfmt;
pub mod nginx_error;
pub mod nginx_ingress;
pub mod syslog;

use crate::time::Timestamp;
use std::cell::Cell;
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
    /// `true` or `false` (a user parser's `bool` type).
    Bool(bool),
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

/// Where [`Fields::get_hinted`] last found a name: the address of the name
/// asked for (a string that lives as long as the configuration), and per
/// number of fields in a record (modulo [`HINT_PLACES`]), the address of
/// the `'static` name that matched and its position. A format's lines
/// come in several layouts (Envoy's HTTP and TCP access logs, fields a
/// line lacks), each with the name at its own place; the number of
/// fields tells most of them apart. Written through a shared reference:
/// the filter keeps its hints where it only has one.
#[derive(Debug, Default)]
pub struct Hint {
    asked: Cell<usize>,
    /// The address 0 matches no name.
    places: [Cell<(usize, u32)>; HINT_PLACES],
}

impl Hint {
    /// A hint that knows nothing yet, for a constant.
    pub const fn new() -> Hint {
        Hint {
            asked: Cell::new(0),
            places: [const { Cell::new((0, 0)) }; HINT_PLACES],
        }
    }
}

/// How many places a [`Hint`] remembers.
const HINT_PLACES: usize = 8;

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

/// The bits of [`name_bits`] of every name of `names`, together: a set
/// whose names share none of one half holds none of `names` (see
/// [`Fields::may_hold_any`]). Computed once, at compile time.
pub const fn names_bits(names: &[&str]) -> (u64, u64) {
    let mut bits = (0, 0);
    let mut rest = names;
    while let [name, tail @ ..] = rest {
        let (a, b) = name_bits(name.as_bytes());
        bits.0 |= a;
        bits.1 |= b;
        rest = tail;
    }
    bits
}

impl<'a> Fields<'a> {
    /// Whether a field may be called one of the names whose
    /// [`names_bits`] are `bits`: `false` answers for the whole list
    /// without a search.
    pub fn may_hold_any(&self, bits: (u64, u64)) -> bool {
        self.names.0 & bits.0 != 0 && self.names.1 & bits.1 != 0
    }

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

    /// The value of the first field called `name`. A name whose bits are
    /// not both set is answered without a search (most lookups of
    /// [`crate::meaning`] ask for fields a format does not have).
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        self.position(name)
            .and_then(|at| self.list.get(at))
            .map(|(_, v)| *v)
    }

    /// Where the first field called `name` is, answered without a search
    /// when its bits are not both set.
    fn position(&self, name: &str) -> Option<usize> {
        let (a, b) = name_bits(name.as_bytes());
        if self.names.0 & a == 0 || self.names.1 & b == 0 {
            return None;
        }
        self.list.iter().position(|(n, _)| *n == name)
    }

    /// As [`Fields::get`], trying first where `hint` says the same name
    /// was found last time in a record with as many fields, and updating
    /// it. Names are `'static`, so a field whose name has the address and
    /// length it had when it matched still matches, without comparing
    /// bytes: the limiter asks for the same few names on every record of
    /// a format, at the same positions.
    #[inline(always)]
    pub fn get_hinted(&self, name: &str, hint: &Hint) -> Option<&Value<'a>> {
        let place = hint.places.get(self.list.len() % HINT_PLACES);
        let (found, at) = place.map_or((0, 0), Cell::get);
        if hint.asked.get() == name.as_ptr() as usize
            && let Some((n, v)) = self.list.get(at as usize)
            && n.as_ptr() as usize == found
            && n.len() == name.len()
        {
            return Some(v);
        }
        self.list.get(self.find_hinted(name, hint)).map(|(_, v)| v)
    }

    /// [`Fields::get_hinted`] behind the names' filter: a name no field
    /// can have is answered at once, without the hint, for lookups that
    /// often ask for a name the record lacks.
    #[inline(always)]
    pub fn get_hinted_if_held(&self, name: &str, hint: &Hint) -> Option<&Value<'a>> {
        if !self.may_hold_any(name_bits(name.as_bytes())) {
            return None;
        }
        self.get_hinted(name, hint)
    }

    /// The rest of [`Fields::get_hinted`], when the field is not where
    /// `hint` says: where it is (`usize::MAX` when absent). Out of line,
    /// so that a hit stays a few instructions.
    #[inline(never)]
    fn find_hinted(&self, name: &str, hint: &Hint) -> usize {
        let asked = name.as_ptr() as usize;
        if hint.asked.get() != asked {
            hint.asked.set(asked);
            for place in &hint.places {
                place.set((0, 0));
            }
        }
        let Some(place) = hint.places.get(self.list.len() % HINT_PLACES) else {
            return usize::MAX;
        };
        // Near where it was in a record with as many fields (or, the first
        // time, in any other): addresses compare without the bytes,
        // nearest first.
        let near = match place.get() {
            (0, _) => hint.places.iter().map(Cell::get).find(|&(f, _)| f != 0),
            known => Some(known),
        };
        let mut at = None;
        if let Some((found, last)) = near {
            let last = last as usize;
            let matches = |i: usize| {
                self.list
                    .get(i)
                    .is_some_and(|(n, _)| n.as_ptr() as usize == found && n.len() == name.len())
            };
            at = (0..self.list.len()).find_map(|d| {
                [last.wrapping_sub(d), last + d]
                    .into_iter()
                    .find(|&i| matches(i))
            });
        }
        let at = match at.or_else(|| self.position(name)) {
            Some(at) => at,
            None => return usize::MAX,
        };
        let found = self.list.get(at).map_or(0, |(n, _)| n.as_ptr() as usize);
        place.set((found, u32::try_from(at).unwrap_or(u32::MAX)));
        at
    }

    /// Renames every field called `from` to `to`.
    pub fn rename(&mut self, from: &str, to: &'static str) {
        let mut renamed = false;
        for (name, _) in self.list.iter_mut().filter(|(n, _)| *n == from) {
            *name = to;
            renamed = true;
        }
        if renamed {
            let (a, b) = name_bits(to.as_bytes());
            self.names.0 |= a;
            self.names.1 |= b;
        }
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
    // Evaluated at compile time for the parsers' constant tables: an index
    // out of bounds there is a build error, never a trap.
    #[allow(clippy::indexing_slicing)]
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
/// rather than ending a `\\`), then a `\r` escape before it (a CR LF line
/// end: JSON writes the CR as `\r`), then any raw `\r` or `\n` bytes.
pub(crate) fn trim_line_end(line: &[u8]) -> &[u8] {
    // The usual end, `x\n` with `x` neither a backslash, an `r` (it may
    // end a `\r`) nor a line end, decided at once.
    if let Some([before, b'\\', b'n']) = line.last_chunk::<3>()
        && !matches!(before, b'\\' | b'r' | b'\r' | b'\n')
    {
        return line.get(..line.len() - 2).unwrap_or_default();
    }
    let mut line = line;
    while let Some((b'\r' | b'\n', rest)) = line.split_last() {
        line = rest;
    }
    for escape in [&b"\\n"[..], b"\\r"] {
        if let Some(rest) = line.strip_suffix(escape) {
            let backslashes = rest.iter().rev().take_while(|&&b| b == b'\\').count();
            if backslashes % 2 == 0 {
                line = rest;
            }
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

// ---------------------------------------------------------------------------
// Pairs: fields whose names come from the line (logfmt).
// ---------------------------------------------------------------------------

/// The most pairs [`Pairs`] takes from one line: a line with more distinct
/// keys keeps the first ones and is flagged [`Suspicion::OutOfRange`]. The
/// cap keeps the first-wins check on repeated keys linear, and keeps one
/// noisy line from adding hundreds of fields to an index mapping.
pub const MAX_PAIRS: usize = 64;

/// Fields whose names are read from the line itself (logfmt keys), in
/// order, plus what the parser suspects.
///
/// Invariants, as for [`Fields`]: every key is a sub-slice of the line cut
/// at escape-unit boundaries, so it is valid JSON string content written
/// between quotes as it is; every value keeps [`Value`]'s invariants. A key
/// is held once: the first occurrence wins. At most [`MAX_PAIRS`] pairs.
#[derive(Debug, Default)]
pub struct Pairs<'a> {
    list: Vec<(&'a [u8], Value<'a>)>,
    /// Two hashes of every key held (see [`name_bits`]).
    names: (u64, u64),
    /// Set when part of the line could not be attributed unambiguously.
    pub suspect: Option<Suspicion>,
}

impl<'a> Pairs<'a> {
    /// An empty set with room for a typical line.
    pub fn new() -> Self {
        Pairs::reusing(Vec::with_capacity(16))
    }

    /// An empty set that takes over `list`'s allocation (see
    /// [`Pairs::into_list`]).
    pub fn reusing(list: Vec<(&'static [u8], Value<'static>)>) -> Self {
        Pairs {
            list: relifetime(list),
            names: (0, 0),
            suspect: None,
        }
    }

    /// Gives the list's allocation back, emptied (for [`Pairs::reusing`]).
    pub fn into_list(self) -> Vec<(&'static [u8], Value<'static>)> {
        relifetime(self.list)
    }

    /// Forgets every pair, keeping the allocation.
    pub fn clear(&mut self) {
        self.list.clear();
        self.names = (0, 0);
        self.suspect = None;
    }

    /// Adds a pair unless its key is already held (the first occurrence
    /// wins) or [`MAX_PAIRS`] are held; returns whether it was added.
    pub fn insert(&mut self, key: &'a [u8], value: Value<'a>) -> bool {
        if self.list.len() >= MAX_PAIRS || self.has_key(key) {
            return false;
        }
        let (a, b) = name_bits(key);
        self.names.0 |= a;
        self.names.1 |= b;
        self.list.push((key, value));
        true
    }

    /// Whether a pair has the key `key` (escapes compared as written).
    pub fn has_key(&self, key: &[u8]) -> bool {
        let (a, b) = name_bits(key);
        self.names.0 & a != 0 && self.names.1 & b != 0 && self.list.iter().any(|(k, _)| *k == key)
    }

    /// The value of the pair with the key `key`, answered without a search
    /// when its bits are not both set.
    pub fn get(&self, key: &[u8]) -> Option<Value<'a>> {
        let (a, b) = name_bits(key);
        if self.names.0 & a == 0 || self.names.1 & b == 0 {
            return None;
        }
        self.list.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    }

    /// As [`Fields::may_hold_any`], for keys.
    pub fn may_hold_any(&self, bits: (u64, u64)) -> bool {
        self.names.0 & bits.0 != 0 && self.names.1 & bits.1 != 0
    }

    /// The pairs in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = &(&'a [u8], Value<'a>)> {
        self.list.iter()
    }

    /// The pairs in the order they were added, as a slice.
    pub fn as_slice(&self) -> &[(&'a [u8], Value<'a>)] {
        &self.list
    }

    /// How many pairs there are.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Whether no more pairs can be added.
    pub fn is_full(&self) -> bool {
        self.list.len() >= MAX_PAIRS
    }

    /// Records a suspicion, keeping the graver one (as [`Fields::flag`]).
    pub(crate) fn flag(&mut self, suspicion: Suspicion) {
        if self.suspect != Some(Suspicion::QuoteInjection) {
            self.suspect = Some(suspicion);
        }
    }

    /// Drops the pairs after the first `len` (a parser undoing its work on
    /// a line that turned out not to be of its format).
    pub(crate) fn truncate(&mut self, len: usize) {
        self.list.truncate(len);
        self.names = self.list.iter().fold((0, 0), |(x, y), (k, _)| {
            let (a, b) = name_bits(k);
            (x | a, y | b)
        });
    }

    /// Replaces the value of the pair at `index`, if there is one.
    pub(crate) fn set_value(&mut self, index: usize, value: Value<'a>) {
        if let Some(slot) = self.list.get_mut(index) {
            slot.1 = value;
        }
    }
}

// ---------------------------------------------------------------------------
// Quoted values inside the escaped line, and one level of unescaping.
//
// A format that quotes its values with `"` and escapes with `\` (logfmt,
// RFC 5424 structured data, Apache's `%r` and `%i`) arrives escaped twice:
// its quote is the JSON escape `\"`, its backslash is `\\`, so an escaped
// quote of the format is `\\\"` and an escaped backslash `\\\\`.
// ---------------------------------------------------------------------------

/// Where the value that starts at `from` (just after an opening `\"`)
/// ends: the position of the backslash of the closing `\"`, and whether the
/// value holds a backslash of the format's own (`\\` in the line), so that
/// [`unescape_once`] is needed to read it. The format's escaped quotes and
/// backslashes (`\\\"`, `\\\\`) are stepped over. `None` when no closing
/// quote follows. One word-at-a-time search per backslash: linear.
pub(crate) fn quoted_end(line: &[u8], from: usize) -> Option<(usize, bool)> {
    let mut at = from;
    let mut escaped = false;
    loop {
        let p = crate::scan::find_in(line, at, line.len(), b'\\')?;
        match line.get(p + 1)? {
            b'"' => return Some((p, escaped)),
            b'\\' => {
                escaped = true;
                // The unit after the format's backslash starts at `p + 2`;
                // when it is itself an escape, its first two bytes go too
                // (`\\\"`, `\\\\`, `\\\n`, or `\\\u00e9` whose hex digits
                // follow as plain bytes).
                at = if line.get(p + 2) == Some(&b'\\') {
                    p + 4
                } else {
                    p + 2
                };
            }
            _ => at = p + 2,
        }
    }
}

/// Appends `src`, content read by [`quoted_end`], to `out` with the
/// format's escapes resolved one level: `\\\"` becomes `\"`, `\\\\` becomes
/// `\\`, `\\n` (and `b`, `f`, `r`, `t`) becomes `\n`, `\\/` becomes `/`,
/// `\\uXXXX` becomes `\uXXXX`. A backslash of the format followed by
/// anything else (`\x41`, `\a`) is not a JSON escape and is kept as the
/// literal backslash `\\`. Every other unit is copied as it is, so the
/// output is valid JSON string content whatever `src` holds. Bulk copies
/// between backslashes, found a word at a time.
pub(crate) fn unescape_once(src: &[u8], out: &mut Vec<u8>) {
    let mut copied = 0;
    let mut from = 0;
    while let Some(p) = crate::scan::find_in(src, from, src.len(), b'\\') {
        if src.get(p + 1) != Some(&b'\\') {
            // A JSON escape of one character of the value: kept.
            from = p + 2;
            continue;
        }
        let replaced: Option<(&[u8], usize)> = match src.get(p + 2) {
            Some(b'\\') => match src.get(p + 3) {
                Some(b'"') => Some((b"\\\"", p + 4)),
                Some(b'\\') => Some((b"\\\\", p + 4)),
                _ => None,
            },
            Some(b'/') => Some((b"/", p + 3)),
            Some(&c @ (b'b' | b'f' | b'n' | b'r' | b't')) => {
                out.extend_from_slice(src.get(copied..p).unwrap_or_default());
                out.push(b'\\');
                out.push(c);
                copied = p + 3;
                from = p + 3;
                continue;
            }
            Some(b'u') => match src.get(p + 3..p + 7) {
                Some(hex) if hex.iter().all(u8::is_ascii_hexdigit) => {
                    out.extend_from_slice(src.get(copied..p).unwrap_or_default());
                    out.push(b'\\');
                    copied = p + 2;
                    from = p + 7;
                    continue;
                }
                _ => None,
            },
            _ => None,
        };
        match replaced {
            Some((with, next)) => {
                out.extend_from_slice(src.get(copied..p).unwrap_or_default());
                out.extend_from_slice(with);
                copied = next;
                from = next;
            }
            // A literal backslash: `\\` kept, the next unit read as usual.
            None => from = p + 2,
        }
    }
    out.extend_from_slice(src.get(copied..).unwrap_or_default());
}

/// Whether the quote whose `"` byte is at `q` (its JSON escape's backslash
/// at `q - 1`) was escaped in the log line itself, as Apache writes `\"`
/// in `%r` and `%i` and nginx does with `escape=json`: the line's
/// backslashes before that escape come in pairs (`\\`, one of the log's
/// backslashes each), and an odd number of the log's backslashes escapes
/// the quote. Reads back over the run of backslashes only; the runs before
/// different quotes do not overlap, so a pass over all quotes is linear.
pub(crate) fn is_escaped_quote(line: &[u8], q: usize) -> bool {
    let Some(before) = q.checked_sub(1).and_then(|b| line.get(..b)) else {
        return false;
    };
    let run = before.iter().rev().take_while(|&&b| b == b'\\').count();
    (run / 2) % 2 == 1
}

/// The position of the first occurrence of `needle` in `line[from..to]`:
/// a word-at-a-time search for its first byte, then a comparison. Linear
/// for a needle of a few bytes (the comparisons cost its length at most
/// per occurrence of the first byte).
pub(crate) fn find_str(line: &[u8], from: usize, to: usize, needle: &[u8]) -> Option<usize> {
    let (&first, _) = needle.split_first()?;
    let to = to.min(line.len());
    let mut at = from;
    while let Some(p) = crate::scan::find_in(line, at, to, first) {
        if p + needle.len() <= to
            && line
                .get(p..p + needle.len())
                .is_some_and(|found| crate::scan::same(found, needle))
        {
            return Some(p);
        }
        at = p + 1;
    }
    None
}

/// The end of the run of ASCII digits starting at `from` (`from` itself
/// when there is none).
pub(crate) fn digits_end(line: &[u8], from: usize) -> usize {
    from + line
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count()
}

/// Whether `line[at..]` starts with `N` bytes that fit `shape`, where `9`
/// in the shape stands for any ASCII digit and every other byte for
/// itself (`b"9999/99/99 99:99:99"`).
pub(crate) fn has_shape(line: &[u8], at: usize, shape: &[u8]) -> bool {
    let Some(bytes) = line.get(at..at + shape.len()) else {
        return false;
    };
    bytes.iter().zip(shape).all(|(&b, &s)| {
        if s == b'9' {
            b.is_ascii_digit()
        } else {
            b == s
        }
    })
}

/// The position of the first byte that is not a space, from `from` on.
pub(crate) fn skip_spaces(line: &[u8], from: usize) -> usize {
    from + line
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b' ')
        .count()
}

#[cfg(test)]
/// Pairs rendered as [`render`] renders fields: the format (and suspicion)
/// on the first line, then `key:value` per pair.
pub(crate) fn render_pairs(outcome: Outcome, pairs: &Pairs<'_>) -> Vec<String> {
    let format = match outcome {
        Ok(format) => format,
        Err(mismatch) => return vec![mismatch.to_string()],
    };
    let mut fields = Fields::new();
    fields.suspect = pairs.suspect;
    let mut out = render(Ok(format), &fields);
    for line in pairs.iter().map(|&(key, value)| {
        let mut one = Fields::new();
        one.push("k", value);
        let text = render(Ok(""), &one).pop().unwrap_or_default();
        format!("{}:{}", String::from_utf8_lossy(key), &text[2..])
    }) {
        out.push(line);
    }
    out
}

#[cfg(test)]
/// Checks that `run` costs time linear in its input: a line of about 64
/// KiB built by `make` must cost at most four times what eight lines of
/// about 8 KiB cost (a quadratic parser costs eight times as much), and
/// under a second. The best of five runs of each is taken, so that noise
/// from a busy machine does not fail the test.
pub(crate) fn assert_linear(name: &str, make: impl Fn(usize) -> Vec<u8>, run: impl Fn(&[u8])) {
    use std::time::{Duration, Instant};
    let small = make(8 << 10);
    let large = make(64 << 10);
    assert!(
        large.len() >= 60 << 10,
        "{name}: the large line is too short"
    );
    let best = |f: &dyn Fn()| {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                f();
                start.elapsed()
            })
            .min()
            .unwrap_or_default()
    };
    let t_small = best(&|| {
        for _ in 0..8 {
            run(&small);
        }
    });
    let t_large = best(&|| run(&large));
    assert!(
        t_large <= t_small * 4 + Duration::from_millis(2),
        "{name}: 64 KiB took {t_large:?}, 8 x 8 KiB took {t_small:?}"
    );
    assert!(
        t_large < Duration::from_secs(1),
        "{name}: 64 KiB took {t_large:?}"
    );
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
            Value::Bool(b) => b.to_string(),
        };
        out.push(format!("{name}:{value}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_follows_its_field_and_never_answers_for_another() {
        let (a, b) = (String::from("client"), String::from("route"));
        let hint = Hint::default();
        let mut fields = Fields::new();
        fields.push("code", Value::Int(200));
        fields.push("client", Value::Text(b"10.0.0.1"));
        fields.push("route", Value::Text(b"default"));
        assert_eq!(
            fields.get_hinted(&a, &hint),
            Some(&Value::Text(b"10.0.0.1"))
        );
        // The next record lacks a field: the same name has moved.
        fields.clear();
        fields.push("client", Value::Text(b"10.0.0.2"));
        fields.push("route", Value::Text(b"other"));
        assert_eq!(
            fields.get_hinted(&a, &hint),
            Some(&Value::Text(b"10.0.0.2"))
        );
        // Another name given the same hint is looked up as itself.
        assert_eq!(fields.get_hinted(&b, &hint), Some(&Value::Text(b"other")));
        assert_eq!(
            fields.get_hinted(&a, &hint),
            Some(&Value::Text(b"10.0.0.2"))
        );
        // Two layouts in turn: each finds it where that layout has it.
        for round in 0..6 {
            fields.clear();
            if round % 2 == 0 {
                fields.push("code", Value::Int(200));
                fields.push("route", Value::Text(b"default"));
            }
            fields.push("client", Value::Text(b"10.0.0.3"));
            assert_eq!(
                fields.get_hinted(&a, &hint),
                Some(&Value::Text(b"10.0.0.3"))
            );
        }
        // And a record without it answers none.
        fields.clear();
        fields.push("route", Value::Text(b"x"));
        assert_eq!(fields.get_hinted(&a, &hint), None);
    }

    /// Over random records (fields missing, moved, of other types), the
    /// hinted lookup answers as the plain one, whether the
    /// hint hits, finds the field nearby or searches.
    #[test]
    fn a_hinted_lookup_answers_as_the_plain_one() {
        const NAMES: [&str; 6] = ["client", "route", "code", "peer", "path", "id"];
        let asked: Vec<String> = NAMES.iter().map(|n| n.to_string()).collect();
        let hints: Vec<Hint> = asked.iter().map(|_| Hint::default()).collect();
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        let mut fields = Fields::new();
        for record in 0..2_000 {
            fields.clear();
            for (i, name) in NAMES.iter().enumerate() {
                match next() % 4 {
                    0 => {}
                    1 => fields.push(name, Value::Int(i as i64)),
                    _ => fields.push(name, Value::Text(b"v")),
                }
            }
            for (name, hint) in asked.iter().zip(&hints) {
                assert_eq!(
                    fields.get_hinted(name, hint),
                    fields.get(name).as_ref(),
                    "record {record}, {name}"
                );
            }
        }
    }

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
