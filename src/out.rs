//! The output record: a JSON object written into one reused buffer.
//!
//! [`Out`] only ever writes valid JSON when its callers keep two promises:
//! a key or value passed as *escaped* text is valid JSON string content (the
//! parsers and [`crate::record`] guarantee it: they hand over sub-slices of
//! checked input cut at escape boundaries), and a *raw* member is a span that
//! [`crate::record::members`] checked. Plain Rust strings are escaped here.
//! Writing never allocates once the buffer has grown to the largest record.
//!
//! What a record costs is what it writes, once: the buffer keeps its bytes
//! from record to record and each piece is written over the old bytes (or
//! appended past them), never zero-filled ahead, because a fill costs as
//! much as the writing (wasmtime's fuel counts every byte a bulk copy or
//! fill moves; WAMR's memmove moves them). [`Rendered`] writes a parser's
//! fields as JSON members as they are found, straight after the input's
//! members when nothing can collide with them.

use crate::formats::{Key, KeyTable, Suspicion, Value};
use crate::time::{DIGIT_PAIRS, RFC3339_MAX, Timestamp};

/// Writes `s` at `*pos` over the bytes `buf` still holds from an earlier
/// record while they last, appending past them: old bytes serve as room
/// without being zero-filled (a fill costs as much as the writing), and a
/// write over them is one bounds test and a copy. The caller cuts `buf`
/// to `*pos` when done.
#[inline(always)]
fn write_at(buf: &mut Vec<u8>, pos: &mut usize, s: &[u8]) {
    let end = *pos + s.len();
    match buf.get_mut(*pos..end) {
        Some(dst) => dst.copy_from_slice(s),
        None => {
            buf.truncate(*pos);
            buf.extend_from_slice(s);
        }
    }
    *pos = end;
}

/// [`write_at`] for one byte.
#[inline(always)]
fn write_byte_at(buf: &mut Vec<u8>, pos: &mut usize, b: u8) {
    match buf.get_mut(*pos) {
        Some(dst) => *dst = b,
        None => {
            buf.truncate(*pos);
            buf.push(b);
        }
    }
    *pos += 1;
}

/// A JSON object being written.
///
/// The buffer keeps its allocation, and its bytes, from record to record:
/// pieces are written over the old bytes and appended past them (see
/// `write_at`), never zero-filled ahead; [`Out::finish`] cuts the buffer
/// to the text.
pub struct Out<'b> {
    buf: &'b mut Vec<u8>,
    /// Where the next byte goes; `buf[..pos]` is the text so far.
    pos: usize,
    /// Whether the next member needs a comma before it.
    comma: bool,
    depth: usize,
    /// The last time written as RFC 3339 and where its text starts: a
    /// record that writes the same time twice (a parser's `start_time`,
    /// then the normalised `timestamp`) renders it once.
    last_time: Option<(Timestamp, usize)>,
}

impl<'b> Out<'b> {
    /// Starts an object in `buf` (its old text is overwritten), expecting
    /// about `size` bytes of output; more is grown into when needed.
    pub fn begin(buf: &'b mut Vec<u8>, size: usize) -> Self {
        buf.reserve(size.saturating_sub(buf.len()));
        let mut pos = 0;
        write_byte_at(buf, &mut pos, b'{');
        Out {
            buf,
            pos,
            comma: false,
            depth: 1,
            last_time: None,
        }
    }

    /// Goes on with a top-level object begun by [`Out::begin`], left open
    /// at `pos` in `buf`; `comma`: whether it has a member yet.
    pub fn resume(buf: &'b mut Vec<u8>, pos: usize, comma: bool) -> Self {
        Out {
            buf,
            pos,
            comma,
            depth: 1,
            last_time: None,
        }
    }

    /// Where the next byte goes (for [`Out::resume`] after a pause).
    pub fn position(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    fn put(&mut self, s: &[u8]) {
        write_at(self.buf, &mut self.pos, s);
    }

    #[inline(always)]
    fn byte(&mut self, b: u8) {
        write_byte_at(self.buf, &mut self.pos, b);
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

    /// Copies a whole member, `"key":value`, as it is: a checked input
    /// member, or a constant of the caller's that is valid JSON text.
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

    /// A member whose key is `prefix` (plain text needing no escape) then
    /// `key` (escaped JSON string content), and whose value is valid JSON
    /// text (both checked by the caller): [`Out::raw_value_escaped_key`]
    /// without assembling the key first.
    pub fn raw_value_prefixed_key(&mut self, prefix: &str, key: &[u8], json: &[u8]) {
        self.sep();
        self.byte(b'"');
        self.put(prefix.as_bytes());
        self.put(key);
        self.put(b"\":");
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
        self.buf.truncate(self.pos);
        escape_into(self.buf, value);
        self.pos = self.buf.len();
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

    /// Members from parsed fields, in order (the per-record list path:
    /// about thirty fields per access-log line).
    ///
    /// Names are `&str` (a parser's fixed names) or escaped JSON string
    /// content (`&[u8]`, logfmt's keys): either is written as it is.
    pub fn values<K: AsRef<[u8]>>(&mut self, list: &[(K, Value<'_>)]) {
        let room: usize = list
            .iter()
            .map(|(name, value)| field_room(name.as_ref(), *value))
            .sum();
        self.buf
            .reserve((self.pos + room).saturating_sub(self.buf.len()));
        for (name, value) in list {
            let value = *value;
            self.sep();
            self.byte(b'"');
            self.put(name.as_ref());
            match value {
                Value::Text(t) => {
                    self.put(b"\":\"");
                    self.put(t);
                    self.byte(b'"');
                }
                Value::Int(i) => {
                    self.put(b"\":");
                    if i < 0 {
                        self.byte(b'-');
                    }
                    let mut digits = [0u8; 20];
                    self.put(int_text(i, &mut digits));
                }
                Value::Decimal(d) => {
                    self.put(b"\":");
                    self.put(d);
                }
                Value::Time(t) => {
                    self.put(b"\":\"");
                    self.time(t);
                    self.byte(b'"');
                }
                Value::Bool(b) => {
                    self.put(b"\":");
                    self.put(if b { b"true" } else { b"false" });
                }
            }
        }
    }

    /// Writes `t` as RFC 3339 text: copied from where the same time was
    /// written last in this record, or rendered.
    fn time(&mut self, t: Timestamp) {
        let end = self.pos + RFC3339_MAX;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        self.pos += self.time_at(t, self.pos, true);
    }

    /// Writes `t` at `start`, where the buffer holds at least
    /// [`RFC3339_MAX`] bytes, and returns its length: copied from where
    /// the same time was written last in this record (a parser's own time,
    /// then the normalised one), or rendered in place, over the old bytes,
    /// with no zeroed scratch array to fill and copy from. A rendered time
    /// is remembered when `remember` (a constant in each caller): the
    /// record's last time need not be.
    #[inline(always)]
    fn time_at(&mut self, t: Timestamp, start: usize, remember: bool) -> usize {
        let len = t.rfc3339_len();
        if let Some((last, at)) = self.last_time
            && last == t
            && at + len <= start
            && start + len <= self.buf.len()
        {
            self.buf.copy_within(at..at + len, start);
            return len;
        }
        let Some(room) = self
            .buf
            .get_mut(start..)
            .and_then(|room| room.first_chunk_mut::<RFC3339_MAX>())
        else {
            return 0;
        };
        let len = t.rfc3339_into(room);
        if remember {
            self.last_time = Some((t, start));
        }
        len
    }

    /// One member whose value is a time, as [`Out::values`] writes a
    /// [`Value::Time`]: `head` is `,"name":"`, the comma included (see
    /// [`crate::config::TimeKey`]), and the name needs no escaping.
    ///
    /// Written as one copy of the head (without its comma when none is
    /// due), the time and its closing quote: every record with a time
    /// writes it, and piece by piece it cost a check and a store per
    /// piece. The time is copied when the record already holds it (a
    /// parser's own, written with [`Out::values`]), else rendered in
    /// place; it is the record's last time, so where it went is not kept
    /// (see [`Out::time_at`]).
    pub fn time_member(&mut self, head: &[u8], t: Timestamp) {
        let head = head.get(usize::from(!self.comma)..).unwrap_or_default();
        let start = self.pos + head.len();
        let end = start + RFC3339_MAX + 1;
        if self.buf.len() < end {
            self.buf.resize(end, 0);
        }
        if let Some(dst) = self.buf.get_mut(self.pos..start) {
            dst.copy_from_slice(head);
        }
        let len = self.time_at(t, start, false);
        if let Some(quote) = self.buf.get_mut(start + len) {
            *quote = b'"';
        }
        self.pos = start + len + 1;
        self.comma = true;
    }

    /// One member whose value is text that needs no escaping (a level, a
    /// template id): as [`Out::values`] writes it.
    pub fn text_member(&mut self, name: &[u8], value: &[u8]) {
        self.text_piece(name, value, b"\"");
    }

    /// `"name":"` (after a comma when one is due), then `value` and `tail`,
    /// with one bounds check where the buffer already reaches past them
    /// (it keeps the bytes of earlier records).
    #[inline(always)]
    fn text_piece(&mut self, name: &[u8], value: &[u8], tail: &[u8]) {
        let comma = usize::from(self.comma);
        let end = self.pos + comma + name.len() + 4 + value.len() + tail.len();
        let Some(dst) = self.buf.get_mut(self.pos..end) else {
            // Past the end of what earlier records wrote: piece by piece.
            self.sep();
            self.byte(b'"');
            self.put(name);
            self.put(b"\":\"");
            self.put(value);
            self.put(tail);
            return;
        };
        let mut at = 0;
        let mut put = |piece: &[u8]| {
            if let Some(d) = dst.get_mut(at..at + piece.len()) {
                d.copy_from_slice(piece);
            }
            at += piece.len();
        };
        if comma == 1 {
            put(b",");
        }
        put(b"\"");
        put(name);
        put(b"\":\"");
        put(value);
        put(tail);
        self.pos = end;
        self.comma = true;
    }

    /// Two members whose values are text that needs no escaping, written
    /// as one piece: `open` is the first's `"name":"`, `between` closes
    /// its value and opens the second's (`","name":"`). One bounds check
    /// where the buffer already reaches past them, as [`Out::text_member`]
    /// does for one; a message's `template` and `template_id` go out so.
    pub fn text_members<const O: usize, const B: usize, const S: usize>(
        &mut self,
        open: &[u8; O],
        first: &[u8],
        between: &[u8; B],
        second: &[u8; S],
    ) {
        let comma = usize::from(self.comma);
        let end = self.pos + comma + O + first.len() + B + S + 1;
        let Some(dst) = self.buf.get_mut(self.pos..end) else {
            // Past the end of what earlier records wrote: piece by piece.
            self.sep();
            self.put(open);
            self.put(first);
            self.put(between);
            self.put(second);
            self.byte(b'"');
            return;
        };
        // `dst` is exactly as long as the pieces: none of these checks
        // fails.
        if let Some((open_at, rest)) = dst.split_at_mut_checked(comma + O)
            && let Some((first_at, rest)) = rest.split_at_mut_checked(first.len())
            && let Some((between_at, rest)) = rest.split_first_chunk_mut::<B>()
            && let Some((second_at, [quote])) = rest.split_first_chunk_mut::<S>()
        {
            // The comma, if any, then `open` (over the comma when there
            // is none).
            if let Some(c) = open_at.first_mut() {
                *c = b',';
            }
            if let Some(o) = open_at.last_chunk_mut::<O>() {
                *o = *open;
            }
            first_at.copy_from_slice(first);
            *between_at = *between;
            *second_at = *second;
            *quote = b'"';
        }
        self.pos = end;
        self.comma = true;
    }

    /// Members already rendered by [`Rendered`], each starting with its
    /// comma (dropped here when nothing precedes it): one bulk copy.
    pub fn rendered(&mut self, members: &[u8]) {
        if members.is_empty() {
            return;
        }
        let members = match members.split_first() {
            Some((_, rest)) if !self.comma => rest,
            _ => members,
        };
        self.put(members);
        self.comma = true;
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

/// Parsed fields rendered straight into JSON members, `,"name":value`
/// each, in the order they come: what a parser writing through
/// [`crate::formats::Sink`] produces instead of a list of values.
///
/// The buffer keeps its allocation from record to record and is appended
/// to, never zero-filled; the key, its quotes and colon are one piece
/// rendered at compile time ([`Key::json`]), copied with a few word moves.
/// Which keys were written is kept as one bit each, for
/// [`Rendered::has_name`].
#[derive(Debug)]
pub struct Rendered {
    buf: Vec<u8>,
    /// Where the members written here start in `buf`.
    start: usize,
    /// Where the next byte goes (see [`write_at`]).
    pos: usize,
    /// Bit `key.id` set for every key written.
    written: u64,
    table: &'static KeyTable,
    suspect: Option<Suspicion>,
}

impl Rendered {
    /// An empty rendering for `table`'s keys that takes over `buf`'s
    /// allocation (see [`Rendered::into_buf`]), with room for what a line
    /// of `line_len` bytes may yield: every field is a piece of the line or
    /// shorter than the piece it comes from (a number, a time), a byte of
    /// the line lands in at most two fields (an address and its IP), and
    /// the keys come on top.
    pub fn reusing(buf: Vec<u8>, table: &'static KeyTable, line_len: usize) -> Self {
        Rendered::after(buf, 0, table, line_len)
    }

    /// Like [`Rendered::reusing`], but the members are written from `at`
    /// on, after what `buf` holds before (an object being written, say).
    pub fn after(mut buf: Vec<u8>, at: usize, table: &'static KeyTable, line_len: usize) -> Self {
        buf.reserve((at + 2 * line_len + 1024).saturating_sub(buf.len()));
        Rendered {
            buf,
            start: at,
            pos: at,
            written: 0,
            table,
            suspect: None,
        }
    }

    /// Gives the buffer back, cut to the members written (for
    /// [`Rendered::reusing`]).
    pub fn into_buf(mut self) -> Vec<u8> {
        self.buf.truncate(self.pos);
        self.buf
    }

    /// Where the next byte goes.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// The members written, each starting with a comma.
    pub fn members(&self) -> &[u8] {
        self.buf.get(self.start..self.pos).unwrap_or_default()
    }

    /// What the line is suspected of, if anything.
    pub fn suspect(&self) -> Option<Suspicion> {
        self.suspect
    }

    /// Records a suspicion, keeping the graver one: a possible quote
    /// injection outranks a value out of range.
    #[inline(always)]
    pub fn flag(&mut self, suspicion: Suspicion) {
        if self.suspect != Some(Suspicion::QuoteInjection) {
            self.suspect = Some(suspicion);
        }
    }

    /// Whether a field called `name` was written (escapes, if any,
    /// compared as they are written).
    pub fn has_name(&self, name: &[u8]) -> bool {
        self.keys().has_name(name)
    }

    /// Which keys were written, apart from the buffer.
    pub fn keys(&self) -> WrittenKeys {
        WrittenKeys {
            written: self.written,
            table: self.table,
        }
    }

    /// `,"name":"text"`; `text` must be valid JSON string content.
    #[inline(always)]
    pub fn put_text(&mut self, key: &'static Key, text: &[u8]) {
        self.written |= 1 << (key.id & 63);
        write_at(&mut self.buf, &mut self.pos, key.json);
        write_at(&mut self.buf, &mut self.pos, text);
        write_byte_at(&mut self.buf, &mut self.pos, b'"');
    }

    /// `,"name":number`; `number` must be a JSON number.
    #[inline(always)]
    pub fn put_number(&mut self, key: &'static Key, number: &[u8]) {
        self.written |= 1 << (key.id & 63);
        // The key without the quote that opens a text value.
        let (_, json) = key.json.split_last().unwrap_or((&0, key.json));
        write_at(&mut self.buf, &mut self.pos, json);
        write_at(&mut self.buf, &mut self.pos, number);
    }

    /// `,"name":integer`.
    #[inline(always)]
    pub fn put_int(&mut self, key: &'static Key, value: i64) {
        let mut digits = [0u8; 20];
        let magnitude = int_text(value, &mut digits);
        self.written |= 1 << (key.id & 63);
        let (_, json) = key.json.split_last().unwrap_or((&0, key.json));
        write_at(&mut self.buf, &mut self.pos, json);
        if value < 0 {
            write_byte_at(&mut self.buf, &mut self.pos, b'-');
        }
        write_at(&mut self.buf, &mut self.pos, magnitude);
    }

    /// `,"name":"time"`, the time in RFC 3339 UTC.
    #[inline(always)]
    pub fn put_time(&mut self, key: &'static Key, time: Timestamp) {
        let mut text = [0u8; RFC3339_MAX];
        let len = time.rfc3339_into(&mut text);
        self.put_text(key, text.get(..len).unwrap_or_default());
    }
}

/// Which of a [`KeyTable`]'s keys a [`Rendered`] wrote.
#[derive(Clone, Copy, Debug)]
pub struct WrittenKeys {
    written: u64,
    table: &'static KeyTable,
}

impl WrittenKeys {
    /// Whether a field called `name` was written (escapes, if any,
    /// compared as they are written).
    pub fn has_name(&self, name: &[u8]) -> bool {
        self.table
            .find(name)
            .is_some_and(|key| self.written & (1 << (key.id & 63)) != 0)
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

/// The decimal digits of `value`'s magnitude, written at the end of
/// `digits`, two at a time from a table of pairs.
fn int_text(value: i64, digits: &mut [u8; 20]) -> &[u8] {
    const PAIRS: &[u8; 200] = DIGIT_PAIRS;
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
    use crate::config::TimeKey;

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
    fn a_reused_buffer_holds_only_the_new_object() {
        let mut buf = Vec::new();
        let mut out = Out::begin(&mut buf, 8);
        out.str("a-long-key", "a long value that leaves old bytes behind");
        out.finish();
        // Shorter, then longer again: old bytes are overwritten or cut.
        for (key, value) in [("k", "v"), ("key", "x".repeat(100).as_str())] {
            let mut out = Out::begin(&mut buf, 8);
            out.str(key, value);
            let text = out.finish().to_vec();
            assert_eq!(text, format!(r#"{{"{key}":"{value}"}}"#).as_bytes());
            assert_eq!(buf, text);
        }
        // Paused and resumed, as the direct path does.
        let mut out = Out::begin(&mut buf, 8);
        out.raw_member(br#""m":1"#);
        let at = out.position();
        let mut out = Out::resume(&mut buf, at, true);
        out.bool("b", false);
        assert_eq!(out.finish(), br#"{"m":1,"b":false}"#);
    }

    /// Two members written as one piece come out as two written one by
    /// one, first or not, over a buffer that holds more or fewer bytes of
    /// an earlier record than they need.
    #[test]
    fn text_members_match_two_text_members() {
        let mut next = crate::test_rng::xorshift(0x51a7_e5ee_d000_0001);
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for _ in 0..2_000 {
            let r = next();
            let first = "t".repeat((r % 90) as usize);
            let second: [u8; 16] = *b"0123456789abcdef";
            let leading = r >> 8 & 1 == 1;
            let old = "o".repeat((r >> 16) as usize % 200);
            for buf in [&mut fast, &mut slow] {
                let mut out = Out::begin(buf, 8);
                out.str("old", &old);
                out.finish();
            }
            let mut out = Out::begin(&mut fast, 0);
            if leading {
                out.bool("a", true);
            }
            out.text_members(
                b"\"first\":\"",
                first.as_bytes(),
                b"\",\"second\":\"",
                &second,
            );
            out.bool("z", false);
            let fast_text = out.finish().to_vec();
            let mut out = Out::begin(&mut slow, 0);
            if leading {
                out.bool("a", true);
            }
            out.text_member(b"first", first.as_bytes());
            out.text_member(b"second", &second);
            out.bool("z", false);
            assert_eq!(fast_text, out.finish(), "{first} after {old}");
        }
    }

    /// A time member written as one piece comes out as its rendering
    /// written as a text member: first or not, with or without a
    /// fraction, after the same time or another was written in the record
    /// or after none, over a buffer that holds more or fewer bytes of an
    /// earlier record than it needs.
    #[test]
    fn time_member_matches_its_rendering_as_text() {
        let mut next = crate::test_rng::xorshift(0x71de_5eed_0000_0003);
        let (mut fast, mut slow) = (Vec::new(), Vec::new());
        for _ in 0..5_000 {
            let r = next();
            let digits = (r % 10) as u8;
            let unit = 10u32.pow(9 - u32::from(digits));
            let nanos = (next() % 1_000_000_000) as u32 / unit * unit;
            let secs = (next() % 253_402_300_800) as i64 - 62_167_219_200;
            let t = Timestamp::new(secs, nanos, digits).unwrap();
            let name = "k".repeat((r >> 8) as usize % 20 + 1);
            let leading = r >> 16 & 1 == 1;
            let twice = r >> 17 & 1 == 1;
            // The time written before is this one, or another.
            let before = if r >> 18 & 1 == 1 {
                t
            } else {
                Timestamp::new(secs ^ 1, nanos, digits).unwrap_or(t)
            };
            let old = "o".repeat((r >> 24) as usize % 120);
            for buf in [&mut fast, &mut slow] {
                let mut out = Out::begin(buf, 8);
                out.str("old", &old);
                out.finish();
            }
            let mut rendered = Vec::new();
            t.write_rfc3339(&mut rendered);
            let mut out = Out::begin(&mut fast, 0);
            if leading {
                out.bool("a", true);
            }
            if twice {
                out.values(&[("start", Value::Time(before))]);
            }
            out.time_member(TimeKey::new(&name).member_head(), t);
            out.bool("z", false);
            let fast_text = out.finish().to_vec();
            let mut out = Out::begin(&mut slow, 0);
            if leading {
                out.bool("a", true);
            }
            if twice {
                let mut first = Vec::new();
                before.write_rfc3339(&mut first);
                out.text_member(b"start", &first);
            }
            out.text_member(name.as_bytes(), &rendered);
            out.bool("z", false);
            assert_eq!(fast_text, out.finish(), "{t:?} after {old}");
        }
    }

    #[test]
    fn rendered_fields() {
        crate::formats::key_table! {
            mod test_keys {
                NAME = "name",
                COUNT = "count",
                PORT = "port",
            }
        }
        let mut r = Rendered::reusing(b"old bytes, more old bytes".to_vec(), &test_keys::TABLE, 8);
        r.put_text(test_keys::NAME, br#"a"b"#);
        r.put_number(test_keys::COUNT, b"12");
        r.put_int(test_keys::PORT, -7);
        assert_eq!(r.members(), br#","name":"a"b","count":12,"port":-7"#);
        assert!(r.has_name(b"count") && !r.has_name(b"nam") && !r.has_name(b"other"));
        r.flag(Suspicion::QuoteInjection);
        r.flag(Suspicion::OutOfRange);
        assert_eq!(r.suspect(), Some(Suspicion::QuoteInjection));
        let buf = r.into_buf();
        assert_eq!(buf, br#","name":"a"b","count":12,"port":-7"#);
        // Appended after what the buffer holds.
        let mut r = Rendered::after(b"{\"m\":1,junk".to_vec(), 6, &test_keys::TABLE, 8);
        r.put_text(test_keys::NAME, b"x");
        assert_eq!(r.into_buf(), br#"{"m":1,"name":"x""#);
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
