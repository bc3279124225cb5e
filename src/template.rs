//! Message templates: the text of a free-text log message with its variable
//! parts masked, a content hash of that text (`template_id`), and the error
//! code the message names, if any.
//!
//! Two messages of one event type ("Connection to 10.0.0.7:5432 lost after
//! 30s", "Connection to 10.0.0.9:5432 lost after 2m10s") get one template
//! (`Connection to <IP>:<NUM> lost after <DURATION>`) and so one id, and the
//! id is a pure function of the template's bytes: every node of a DaemonSet
//! and every restart computes the same id for the same template, with no
//! table, no counter and no coordination.
//!
//! # Memory
//!
//! Nothing is tracked per template, so memory does not grow with the number
//! of templates seen: the id is a hash of the template text, which needs no
//! table to be stable, and the cap on templates tracked is zero. The only
//! state is one output buffer of [`MAX_OUTPUT`] bytes, allocated once and
//! reused for every record.
//!
//! # Input
//!
//! The message **as it sits inside the record's JSON string**: the bytes
//! between the quotes, escapes intact (`\"`, `\\`, `\n`, `\uXXXX`), as the
//! format parsers see it. Every escape is one unit, copied whole or masked
//! whole, so the template is valid JSON string content whenever the message
//! is. `\"` is a double quote; `\t` is whitespace; `\n` and `\r` end the
//! message (only its first line is templated: a stack trace or continuation
//! adds nothing to what the event is); `\uXXXX` and the other escapes are
//! ordinary characters of a word. Text without escapes, quotes or control
//! bytes is its own JSON string content and is handled the same way; a raw
//! `"` or control byte (which JSON string content never has) is copied as
//! it is.
//!
//! Only the first [`MAX_INPUT`] bytes are looked at, cut back to the last
//! space before that point (or, with no space, to an escape boundary), so
//! a long message still gets a stable template from its first kilobyte.
//! Work is one forward pass, linear in the bytes looked at: look-ahead and
//! look-back are bounded (at most 45 bytes, for an IPv6 address), and
//! quote searches remember a failed search, so no byte is scanned twice for
//! the same purpose. Nothing is allocated once the buffer exists.
//!
//! # Masks
//!
//! Most bytes (letters, single spaces, punctuation) are copied as they
//! are; the pass stops only at *special* bytes, found sixteen at a time:
//! digits, `'`, `\`, `=`, and a space after a space. A *word* is a maximal
//! run of ASCII letters and digits, `_`, non-ASCII bytes, and a `-` between
//! `_` and a digit (`blk_-42`); `.`, `-`, `/`, `:` and all other
//! punctuation separate words. What starts at a special byte is, in order
//! of precedence:
//!
//! | # | what | mask | example → template |
//! |---|---|---|---|
//! | 1 | `\n` or `\r` (end of the first line) | the rest is dropped | `failed\n\tat Foo.bar` → `failed` |
//! | 2 | a run of spaces and `\t` | one space, none at either end | `a    b` → `a b` |
//! | 3 | `=` after a letter, digit or `_`, with a value: up to a space, `,` `;` `&` `)` `]` `}` `>` `'` `\|`, or an escape other than `\uXXXX` `\\` `\/`; or a quoted span | `key=<*>` (an empty value stays empty) | `uid=0 tty=NODEVssh ruser=` → `uid=<*> tty=<*> ruser=`, `?a=1&b=x` → `?a=<*>&b=<*>` |
//! | 4 | `\"` and the next `\"` | `<QUOTED>` | `open \"a b.txt\" failed` → `open <QUOTED> failed` |
//! | 5 | `'` not after a word byte, and the next `'` not followed by one | `<QUOTED>` | `can't open 'x y'` → `can't open <QUOTED>` |
//! | 6 | a word with a digit, classified as below | | |
//!
//! A word with a digit is, in this order:
//!
//! | # | what | mask | example → template |
//! |---|---|---|---|
//! | 6.1 | a UUID: 8-4-4-4-12 hex digits | `<UUID>` | `123e4567-e89b-12d3-a456-426614174000` → `<UUID>` |
//! | 6.2 | a date and/or time (see below) | `<TIME>` | `2018-09-17T12:13:43Z`, `Sun Jul 10 03:55:15 2005`, `17:41:44,747` → `<TIME>` |
//! | 6.3 | an IPv6 address: eight groups of one to four hex digits, or fewer with one `::` | `<IP>` | `fe80::1`, `[::1]:8080` → `<IP>`, `[<IP>]:<NUM>` |
//! | 6.4 | hex: `0x` then hex digits, or eight or more hex digits not all decimal | `<HEX>` | `0x1F`, `54fadb412c4e40cd` → `<HEX>` |
//! | 6.5 | a word that starts with a letter or `_` | `<ID>` | `/api/v1/pods/web7` → `/api/<ID>/pods/<ID>`, `blk_-42` → `<ID>` |
//! | 6.6 | an IPv4 address: four `.`-separated numbers of at most three digits, each ≤ 255 | `<IP>` | `10.0.0.1:80` → `<IP>:<NUM>` |
//! | 6.7 | a number (digits, `.`-separated groups, with the sign `-` or `+` when that follows no word byte) and a size unit (`B`, `kB`, `KB`, `MB`, `GB`, `TB`, `PB`, `KiB`…`PiB`), joined or after one space | `<SIZE>` | `320.3 KB`, `100MB` → `<SIZE>` |
//! | 6.8 | such a number alone | `<NUM>` | `-12`, `3.14`, `1.2.3` → `<NUM>` |
//! | 6.9 | digits and units `ns` `us` `ms` `s` `m` `h` `d`, repeated (Go's form) | `<DURATION>` | `0.030957s`, `1h2m3s`, `500ms` → `<DURATION>` |
//! | 6.10 | digits followed by letters only | `<NUM>` and the letters | `10px` → `<NUM>px` |
//! | 6.11 | any other word with a digit | `<ID>` | `2xx9` → `<ID>` |
//!
//! Dates and times (6.2) are: `yyyy-mm-dd` or `yyyy/mm/dd` (month 1-12, day
//! 1-31), `dd/mm/yy[yy]` or `mm-dd-yyyy`, `dd Mon yyyy`, `dd-Mon-yyyy` and
//! `dd/Mon/yyyy`; `hh:mm` and `hh:mm:ss` with a fraction after `.` or `,`;
//! a day after an abbreviated month name, itself after an abbreviated
//! weekday name or not (`Jul 10`, `Sun Jul  1`); each followed, when present,
//! by a time (after a space, `T`, or `:`), a year (after a named day), and
//! a zone (`Z`, `±hh:mm`, `±hhmm`, ` UTC`, ` GMT`). Month and weekday names
//! are English, abbreviated to three letters with the first in upper case
//! (`Jul`, `JUL`); the names are masked with the numbers.
//!
//! Last, a list of like items is written once: when a mask would repeat the
//! item that ends at one of the last two masks written, separated from it
//! by `,`, `, ` or a space, with the same text (at most 16 bytes, no
//! separator) before the mask, the item is dropped: `blk_1 blk_2 blk_3` →
//! `<ID>`, `[10.0.0.1:80, 10.0.0.2:80]` → `[<IP>:<NUM>]`, `10.0.0.1,10.0.0.2`
//! → `<IP>`. A list's length is rarely what tells one event from another.
//!
//! Words without a digit are kept: a user or host name made only of letters
//! stays in the template (telling it from the words around it would take a
//! dictionary, or state shared across messages, which this module does not
//! keep). That is the main source of split event types in the measured
//! quality (`docs/templates.md`).
//!
//! # The id
//!
//! `template_id` is [XXH64](https://github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md)
//! with seed 0 over the template's bytes (the JSON string content, as
//! written out), rendered as 16 lowercase hex digits, most significant
//! first. XXH64 is specified byte for byte (little-endian reads, wrapping
//! 64-bit arithmetic), so the id is the same on every platform and in every
//! build, and any XXH64 implementation reproduces it, e.g. Python's
//! `xxhash.xxh64(template, seed=0).hexdigest()`. It reads eight bytes per
//! step, which matters in the interpreter: a byte-at-a-time hash such as
//! FNV-1a costs several instructions per byte.
//!
//! # Error codes
//!
//! The first error code the message names is returned as written (a
//! sub-slice of the message). A key, any case, is followed by a separator
//! and a value:
//!
//! | key | separator | value |
//! |---|---|---|
//! | `err`, `error` | `:`, `=` or `#` (up to two spaces each side) | a number |
//! | `errno` | `:`, `=`, `#`, or spaces | a number, or a name after `=` (`ENOENT`) |
//! | `code`, `errcode`, `err_code`, `error_code`, `errorcode`, `exit_code`, `exitcode` | `:`, `=` or `#` | a number, or a name after `=` (`code=Unavailable`, `code = NotFound`) |
//! | `error code`, `exit code`, `return code`, `exit status` | `:`, `=`, `#`, or spaces | a number, or a name after `=` |
//!
//! A number is decimal with an optional sign, or `0x` and hex digits; a
//! name is a letter, then letters, digits or `_`. The key must start a word
//! (`barcode=1` has none). Examples: `ERR: 5762` → `5762`, `errno=13` →
//! `13`, `exit status 2` → `2`, `error code 1234` → `1234`, `rpc error: code
//! = Unavailable` → `Unavailable`. The value is masked in the template like
//! any other (`ERR: <NUM>`), so messages that differ only in their code
//! share a template, and the code is a field to split them by.

#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use crate::scan::{find_in, rfind_in};

/// How many bytes of a message are templated (see the module doc).
pub const MAX_INPUT: usize = 1024;

/// The largest template: a mask is at most four times as long as the bytes
/// it replaces (`""` → `<QUOTED>`).
pub const MAX_OUTPUT: usize = 4 * MAX_INPUT;

/// The id of the empty template (XXH64 of no bytes).
const EMPTY_ID: u64 = 0xef46_db37_51d8_e999;

/// A message's template, built into a buffer kept across records.
#[derive(Debug, Clone)]
pub struct Template {
    text: Vec<u8>,
    id: u64,
}

impl Default for Template {
    fn default() -> Self {
        Template::new()
    }
}

impl Template {
    /// An empty template with room for the largest one, so that building
    /// never allocates.
    pub fn new() -> Template {
        Template {
            text: Vec::with_capacity(MAX_OUTPUT),
            id: EMPTY_ID,
        }
    }

    /// Replaces the template with `message`'s and returns the error code the
    /// message names, if any (a sub-slice of `message`).
    pub fn build<'m>(&mut self, message: &'m [u8]) -> Option<&'m [u8]> {
        self.text.clear();
        let text = head(message);
        let mut walk = Walk {
            text,
            out: &mut self.text,
            lit: 0,
            floor: 0,
            code: None,
            no_quote_from: usize::MAX,
            no_apostrophe_from: usize::MAX,
            recent: Recent::NONE,
        };
        walk.run();
        let code = walk.code;
        while self.text.last() == Some(&b' ') {
            self.text.pop();
        }
        self.id = xxh64(&self.text, 0);
        code
    }

    /// The template: valid JSON string content when the message was.
    pub fn text(&self) -> &[u8] {
        &self.text
    }

    /// The template's id: XXH64 (seed 0) of [`Template::text`].
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The id as 16 lowercase hex digits.
    pub fn id_hex(&self) -> [u8; 16] {
        id_hex(self.id)
    }
}

/// An id as 16 lowercase hex digits, most significant first.
pub fn id_hex(id: u64) -> [u8; 16] {
    let mut out = [0u8; 16];
    let (high, low) = out.split_at_mut(8);
    high.copy_from_slice(&hex_word((id >> 32) as u32).to_le_bytes());
    low.copy_from_slice(&hex_word(id as u32).to_le_bytes());
    out
}

/// The eight hex digits of `x`, most significant first in memory order
/// (lane 0): four byte values looked up as digit pairs.
fn hex_word(x: u32) -> u64 {
    let pair = |shift: u32| {
        let byte = ((x >> shift) & 0xff) as usize;
        u64::from(HEX_PAIRS.get(byte).copied().unwrap_or(0))
    };
    pair(24) | pair(16) << 16 | pair(8) << 32 | pair(0) << 48
}

/// Each byte value's two hex digits as a little-endian `u16` (the high
/// nibble's digit in the low byte), computed at compile time.
static HEX_PAIRS: [u16; 256] = hex_pairs();

#[allow(clippy::indexing_slicing)]
const fn hex_pairs() -> [u16; 256] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut table = [0u16; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = DIGITS[b >> 4] as u16 | (DIGITS[b & 15] as u16) << 8;
        b += 1;
    }
    table
}

// ---------------------------------------------------------------------------
// Byte classes.

/// ASCII letter or digit, or a non-ASCII byte (part of a UTF-8 character).
const ALNUM: u8 = 1;
/// `0-9`.
const DIGIT: u8 = 2;
/// `0-9a-fA-F`.
const HEX: u8 = 4;
/// ASCII letter.
const LETTER: u8 = 8;
/// Ends an unquoted `key=value` value.
const VALUE_END: u8 = 16;
/// Whitespace: space, tab, and other control bytes.
const SPACE: u8 = 32;
/// A byte of a word: [`ALNUM`] or `_`.
const WORD: u8 = 64;
/// A byte the pass always stops at: a digit, `'`, `\` or `=` (a space
/// is special only after a space: see [`is_special`]).
const SPECIAL: u8 = 128;

/// The class table, computed at compile time (an index out of bounds here
/// would fail the build, never a record).
#[allow(clippy::indexing_slicing)]
const fn classes() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut class = 0;
        if c.is_ascii_digit() {
            class |= ALNUM | DIGIT | HEX;
        }
        if c.is_ascii_alphabetic() {
            class |= ALNUM | LETTER;
        }
        if c.is_ascii_hexdigit() {
            class |= HEX;
        }
        if c >= 0x80 {
            class |= ALNUM;
        }
        if class & ALNUM != 0 || c == b'_' {
            class |= WORD;
        }
        if c <= b' ' || c == 0x7f {
            class |= SPACE | VALUE_END;
        }
        if matches!(c, b'0'..=b'9' | b'\'' | b'\\' | b'=') {
            class |= SPECIAL;
        }
        if matches!(
            c,
            b',' | b';' | b'&' | b')' | b']' | b'}' | b'>' | b'"' | b'\'' | b'|'
        ) {
            class |= VALUE_END;
        }
        table[b] = class;
        b += 1;
    }
    table
}

static CLASS: [u8; 256] = classes();

#[inline(always)]
fn class(b: u8) -> u8 {
    // A `u8` indexes a 256-entry table: never out of bounds.
    CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

#[inline(always)]
fn byte(text: &[u8], at: usize) -> u8 {
    text.get(at).copied().unwrap_or(0)
}

#[inline(always)]
fn is(text: &[u8], at: usize, flags: u8) -> bool {
    at < text.len() && class(byte(text, at)) & flags != 0
}

// ---------------------------------------------------------------------------
// Word-at-a-time search for special bytes.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

#[inline(always)]
const fn splat(b: u8) -> u64 {
    ONES * b as u64
}

/// `0x80` in exactly the bytes that are zero.
#[inline(always)]
const fn zero_exact(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// The special-byte tests on `x`, where `y` holds the byte before each
/// byte of `x` (`x` read one byte earlier), before non-ASCII bytes are set
/// apart: `(marks, doubled)`, where a byte's `0x80` is set
///
/// - in `marks` for `0x30..=0x3f` and `'` (XOR with `0x37` maps exactly
///   these to `0x00..=0x10`, so one test finds digits, `=` and `'`, and
///   lets `:`, `;`, `<`, `>`, `?` through: false alarms the pass copies)
///   and for `\`, which starts every escape, `"` included;
/// - in `doubled` for a space after a space: a byte OR the byte before it
///   is at most 0x20 only when both are spaces, as JSON string content has
///   no control bytes (and never 0x00);
///
/// and may be set in others: after a byte that matched (a borrow), and in
/// non-ASCII bytes. No special byte is missed, so a window with no flag in
/// either word holds none, and most windows are skipped on this test
/// alone; where one is flagged, [`first_special`] confirms each flag by
/// the byte's value.
#[inline(always)]
fn loose(x: u64, y: u64) -> (u64, u64) {
    let marks = (x ^ splat(0x37)).wrapping_sub(splat(0x11)) | (x ^ splat(b'\\')).wrapping_sub(ONES);
    let doubled = (x | y).wrapping_sub(splat(0x21));
    (marks, doubled)
}

/// Flags (`0x80`, the lowest one exact) of the special bytes in `x`, from
/// [`loose`]'s tests on `x` and `y`: without the non-ASCII bytes, which a
/// subtraction flags when their high bit survives it. The pass does not
/// use it: [`first_special`] confirms every flag anyway, and keeping the
/// four test words of a window alive for this step cost more per window
/// (most windows hold no special byte) than it saved per hit.
#[cfg(test)]
fn exact(x: u64, y: u64, (marks, doubled): (u64, u64)) -> u64 {
    (marks & !x | doubled & !(x | y)) & HIGH
}

/// Whether `b` (after `previous`) is a special byte: a digit, `'`, `\`,
/// `=`, or a space after a space. One table look-up: it confirms every
/// flag of [`loose`], where a chain of compares cost about twice as much.
#[inline(always)]
fn is_special(b: u8, previous: u8) -> bool {
    class(b) & SPECIAL != 0 || (b == b' ' && previous == b' ')
}

/// The first special byte flagged in `flags` for the word `x` (with the
/// bytes before in `y`, as for [`loose`]), checked byte by byte: the
/// flags of [`loose`] also flag `:` `;` `<` `>` `?`, non-ASCII bytes and
/// bytes after a match, so each candidate is confirmed by its value. Its
/// offset in `x`, and the byte.
#[inline(always)]
fn first_special(x: u64, y: u64, mut flags: u64) -> Option<(usize, u8)> {
    while flags != 0 {
        let i = flags.trailing_zeros() / 8;
        let b = (x >> (8 * i)) as u8;
        if is_special(b, (y >> (8 * i)) as u8) {
            return Some((i as usize, b));
        }
        flags &= flags - 1;
    }
    None
}

/// The eight bytes of `window` from `at` (at most 9) as a little-endian
/// word.
#[inline(always)]
fn word_at(window: &[u8; 17], at: usize) -> u64 {
    window
        .get(at..)
        .and_then(|w| w.first_chunk::<8>())
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// Masks of the two words of a window (bytes 1..9 and 9..17) that keep
/// all but the first `skip` (`skip < 16`) of its 16 bytes.
#[inline(always)]
fn keep(skip: usize) -> (u64, u64) {
    if skip >= 8 {
        (0, !0u64 << (8 * (skip - 8)))
    } else {
        (!0u64 << (8 * skip), !0)
    }
}

/// The first special byte of the 16 bytes that follow the first byte of
/// `window` (the byte before them), skipping the first `skip` of them
/// (`skip < 16`): its offset among the 16, and the byte. Most windows have
/// none, and are told by [`loose`]'s tests alone.
#[inline(always)]
fn window_special(window: &[u8; 17], skip: usize) -> Option<(usize, u8)> {
    let (y0, x0) = (word_at(window, 0), word_at(window, 1));
    let (y1, x1) = (word_at(window, 8), word_at(window, 9));
    let (t0, t1) = (loose(x0, y0), loose(x1, y1));
    let (f0, f1) = (t0.0 | t0.1, t1.0 | t1.1);
    // The skipped bytes are masked off only when something is flagged:
    // the window that ends the text mostly has no flag at all.
    if (f0 | f1) & HIGH == 0 {
        return None;
    }
    let (keep0, keep1) = keep(skip);
    // Every flag of `loose` goes to `first_special`, which confirms it.
    let (f0, f1) = (f0 & keep0 & HIGH, f1 & keep1 & HIGH);
    first_special(x0, y0, f0).or_else(|| first_special(x1, y1, f1).map(|(i, b)| (i + 8, b)))
}

/// The position of the first special byte in `text[from..]` (a digit, `'`,
/// `\`, `=`, or a space that follows a space), and the byte. Sixteen bytes
/// at a time, read with the byte before them.
fn next_special(text: &[u8], from: usize) -> Option<(usize, u8)> {
    // Each window starts with the byte before the bytes it tests; the first
    // byte of the text has none, and is tested on its own.
    let before = match from.checked_sub(1) {
        Some(before) => before,
        None if is_special(*text.first()?, b'x') => return Some((0, *text.first()?)),
        None => 0,
    };
    let mut rest = text.get(before..)?;
    // Two windows per step, each with its own length check (a short
    // search pays no more than with one window per step), and the loop's
    // other bookkeeping paid once per 32 bytes.
    while let Some(window) = rest.first_chunk::<17>() {
        if let Some((i, b)) = window_special(window, 0) {
            return Some((text.len() - rest.len() + 1 + i, b));
        }
        let Some(pair) = rest.first_chunk::<33>() else {
            rest = rest.get(16..).unwrap_or_default();
            break;
        };
        if let Some(window) = pair.last_chunk::<17>()
            && let Some((i, b)) = window_special(window, 0)
        {
            return Some((text.len() - rest.len() + 17 + i, b));
        }
        rest = rest.get(32..).unwrap_or_default();
    }
    // At most 16 bytes left after the one before: the window that ends the
    // text, with the bytes already seen skipped, or one byte at a time.
    let left = rest.len().checked_sub(1).filter(|&n| n > 0)?;
    match text.last_chunk::<17>() {
        Some(window) => window_special(window, 16 - left).map(|(i, b)| (text.len() - 16 + i, b)),
        None => {
            let start = text.len() - left;
            let mut previous = byte(text, start - 1);
            for (i, &b) in rest.get(1..).unwrap_or_default().iter().enumerate() {
                if is_special(b, previous) {
                    return Some((start + i, b));
                }
                previous = b;
            }
            None
        }
    }
}

// ---------------------------------------------------------------------------
// The pass.

/// The part of a message that is templated: the first [`MAX_INPUT`] bytes,
/// cut back to the last whitespace, or else to a boundary that keeps every
/// escape whole.
fn head(message: &[u8]) -> &[u8] {
    if message.len() <= MAX_INPUT {
        return message;
    }
    let cut = message.get(..MAX_INPUT).unwrap_or(message);
    if let Some(space) = rfind_in(message, 0, MAX_INPUT, b' ') {
        return cut.get(..space).unwrap_or(cut);
    }
    // No whitespace: step back over a possibly split escape (at most
    // `\uXXX`, five bytes). A backslash preceded by an odd run of
    // backslashes is the start of an escape.
    let mut end = MAX_INPUT;
    for back in 1..=5usize {
        let at = MAX_INPUT - back;
        if byte(message, at) == b'\\' {
            let run = message
                .get(..at)
                .unwrap_or_default()
                .iter()
                .rev()
                .take_while(|&&b| b == b'\\')
                .count();
            let unit = if byte(message, at + 1) == b'u' { 6 } else { 2 };
            if run % 2 == 0 && at + unit > MAX_INPUT {
                end = at;
            }
            break;
        }
    }
    message.get(..end).unwrap_or(cut)
}

/// What a token becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mask {
    Num,
    Hex,
    Uuid,
    Ip,
    Time,
    Duration,
    Size,
    Id,
    Quoted,
    Value,
}

impl Mask {
    fn text(self) -> &'static [u8] {
        match self {
            Mask::Num => b"<NUM>",
            Mask::Hex => b"<HEX>",
            Mask::Uuid => b"<UUID>",
            Mask::Ip => b"<IP>",
            Mask::Time => b"<TIME>",
            Mask::Duration => b"<DURATION>",
            Mask::Size => b"<SIZE>",
            Mask::Id => b"<ID>",
            Mask::Quoted => b"<QUOTED>",
            Mask::Value => b"<*>",
        }
    }
}

/// A classified token: `text[from..suffix]` becomes `mask`, and
/// `text[suffix..end]` is copied as it is (`suffix == end` when nothing is).
struct Token {
    from: usize,
    end: usize,
    mask: Mask,
    suffix: usize,
}

/// The last two masks written, most recent first: where each ends in the
/// output and which it was, as 16 bits each, in one word. The pass carries
/// its state from step to step, and in the interpreter each value carried
/// costs moves at every step: one word costs less than four. An end past
/// [`MAX_OUTPUT`] marks no mask.
#[derive(Clone, Copy)]
struct Recent(u64);

impl Recent {
    /// No mask written yet.
    const NONE: Recent = Recent(u64::MAX);

    /// The most recent mask (`i` = 0) or the one before it (`i` = 1):
    /// where it ends, and which it is (a [`Mask`] as a number).
    #[inline(always)]
    fn get(self, i: u32) -> (usize, u64) {
        let half = self.0 >> (32 * i);
        ((half & 0xffff) as usize, half >> 16 & 0xffff)
    }

    /// With `mask`, ending at `end`, as the most recent.
    #[inline(always)]
    fn push(self, end: usize, mask: Mask) -> Recent {
        Recent(self.0 << 32 | (end as u64 & 0xffff) | (mask as u64) << 16)
    }

    /// With the most recent mask dropped: the one before is the most
    /// recent, and none is before it.
    #[inline(always)]
    fn drop_last(self) -> Recent {
        Recent(self.0 >> 32 | Recent::NONE.0 << 32)
    }
}

struct Walk<'m, 'o> {
    text: &'m [u8],
    out: &'o mut Vec<u8>,
    /// Start of the input not yet written out (copied as it is).
    lit: usize,
    /// No token may start before this (the end of the last masked token,
    /// escape or whitespace run).
    floor: usize,
    code: Option<&'m [u8]>,
    /// A search for a closing `"` from here on has failed.
    no_quote_from: usize,
    /// A search for a closing `'` from here on has failed.
    no_apostrophe_from: usize,
    /// The last masks written.
    recent: Recent,
}

impl<'m> Walk<'m, '_> {
    fn run(&mut self) {
        let text = self.text;
        let mut at = 0;
        while is(text, at, SPACE) || (byte(text, at) == b'\\' && byte(text, at + 1) == b't') {
            at += if byte(text, at) == b'\\' { 2 } else { 1 };
        }
        self.lit = at;
        self.floor = at;
        let mut end = text.len();
        while let Some((p, b)) = next_special(text, at) {
            let next = match b {
                b'0'..=b'9' => self.number(p),
                b'\'' => self.apostrophe(p),
                b'=' => self.pair(p),
                b' ' => self.space(p),
                b'\\' => match byte(text, p + 1) {
                    b'"' => self.quote(p, p + 2),
                    b't' => self.space(p),
                    b'n' | b'r' => None,
                    b'u' => Some(self.skip_escape(p, 6)),
                    0 => None,
                    _ => Some(self.skip_escape(p, 2)),
                },
                _ => Some(p + 1),
            };
            match next {
                Some(next) => at = next,
                None => {
                    end = p;
                    break;
                }
            }
        }
        self.flush(end);
    }

    /// Writes the pending input up to `to`.
    #[inline(always)]
    fn flush(&mut self, to: usize) {
        if to > self.lit
            && let Some(part) = self.text.get(self.lit..to)
        {
            self.out.extend_from_slice(part);
        }
    }

    /// Writes the pending input up to `start`, then `mask`; the input
    /// resumes at `resume` and nothing may start before `floor`.
    #[inline(always)]
    fn replace(&mut self, start: usize, mask: Mask, resume: usize, floor: usize) {
        self.flush(start);
        let len = self.out.len();
        let ((end0, mask0), (end1, mask1)) = (self.recent.get(0), self.recent.get(1));
        // A repeat needs the same mask to end at most 18 bytes back.
        let near = |end: usize| end < len && len - end <= 18;
        let text = mask.text();
        if mask0 == mask as u64 && near(end0) && repeats(self.out, end0, text) {
            // The new item is dropped; the last mask stays the same.
        } else if mask1 == mask as u64 && near(end1) && repeats(self.out, end1, text) {
            // The mask written after the repeated one went with the item.
            self.recent = self.recent.drop_last();
        } else {
            self.out.extend_from_slice(text);
            self.recent = self.recent.push(self.out.len(), mask);
        }
        self.lit = resume;
        self.floor = floor;
    }

    fn skip_escape(&mut self, p: usize, len: usize) -> usize {
        let end = (p + len).min(self.text.len());
        self.floor = end;
        end
    }

    /// Whitespace at `p` (a doubled space, or `\t`): the whole run becomes
    /// one space.
    fn space(&mut self, p: usize) -> Option<usize> {
        let text = self.text;
        let mut start = p;
        while start > self.floor && byte(text, start - 1) == b' ' {
            start -= 1;
        }
        let mut end = p;
        loop {
            let b = byte(text, end);
            if end < text.len() && class(b) & SPACE != 0 {
                end += 1;
            } else if b == b'\\' && byte(text, end + 1) == b't' {
                end += 2;
            } else {
                break;
            }
        }
        if matches!(byte(text, end), b'\\') && matches!(byte(text, end + 1), b'n' | b'r') {
            // Trailing whitespace before the end of the line.
            self.flush(start);
            self.lit = end;
            return None;
        }
        self.flush(start);
        if self.out.last().is_some_and(|&b| b != b' ') {
            self.out.push(b' ');
        }
        self.lit = end;
        self.floor = end;
        Some(end)
    }

    /// A double-quoted span opening at `p` (`"` or `\"`), its content from
    /// `content`.
    fn quote(&mut self, p: usize, content: usize) -> Option<usize> {
        match self.closing_quote(content) {
            Some(close) => {
                self.replace(p, Mask::Quoted, close + 1, close + 1);
                Some(close + 1)
            }
            None => Some(content),
        }
    }

    /// The position of the `"` that closes a quote whose content starts at
    /// `from` (in escaped text, the `"` of `\"`).
    #[inline(always)]
    fn closing_quote(&mut self, from: usize) -> Option<usize> {
        if from >= self.no_quote_from {
            return None;
        }
        let found = find_after(self.text, from, b'"');
        if found.is_none() {
            self.no_quote_from = from;
        }
        found
    }

    /// A single-quoted span opening at `p`, if `p` can open one.
    fn apostrophe(&mut self, p: usize) -> Option<usize> {
        let text = self.text;
        if p > 0 && (is(text, p - 1, ALNUM) || byte(text, p - 1) == b'_') {
            return Some(p + 1);
        }
        match self.closing_apostrophe(p + 1) {
            Some(close) => {
                self.replace(p, Mask::Quoted, close + 1, close + 1);
                Some(close + 1)
            }
            None => Some(p + 1),
        }
    }

    /// The first `'` at or after `from` that is not followed by a word byte.
    fn closing_apostrophe(&mut self, from: usize) -> Option<usize> {
        if from >= self.no_apostrophe_from {
            return None;
        }
        let text = self.text;
        let mut at = from;
        while let Some(close) = find_after(text, at, b'\'') {
            if !is(text, close + 1, ALNUM) && byte(text, close + 1) != b'_' {
                return Some(close);
            }
            at = close + 1;
        }
        self.no_apostrophe_from = from;
        None
    }

    /// `=` at `p`: an error code, and `key=value` masking.
    fn pair(&mut self, p: usize) -> Option<usize> {
        let text = self.text;
        if self.code.is_none() {
            self.code = code_at_equals(text, p);
        }
        let keyed = p > 0 && (is(text, p - 1, ALNUM) || byte(text, p - 1) == b'_');
        let value = p + 1;
        if !keyed || value >= text.len() {
            return Some(p + 1);
        }
        let end = match byte(text, value) {
            b'"' => self.closing_quote(value + 1).map(|c| c + 1),
            b'\'' => self.closing_apostrophe(value + 1).map(|c| c + 1),
            b'\\' if byte(text, value + 1) == b'"' => self.closing_quote(value + 2).map(|c| c + 1),
            _ => None,
        }
        .unwrap_or_else(|| value_end(text, value));
        if end == value {
            return Some(value);
        }
        self.replace(value, Mask::Value, end, end);
        Some(end)
    }

    /// A digit at `p`: the token around it, masked.
    fn number(&mut self, p: usize) -> Option<usize> {
        let text = self.text;
        // The byte before the digit; at the floor nothing before it counts
        // (0 is in no class). Read once: most digits follow no word byte
        // and no `-`, and then the word starts at `p`.
        let prev = if p > self.floor { byte(text, p - 1) } else { 0 };
        let mut start = p;
        while start > self.floor && (class(prev) & WORD != 0 || prev == b'-') {
            if is(text, start - 1, WORD) {
                start -= 1;
            } else if start >= self.floor + 2
                && byte(text, start - 1) == b'-'
                && byte(text, start - 2) == b'_'
                && is(text, start, DIGIT)
            {
                // `_-` before digits belongs to the id (`blk_-42`).
                start -= 1;
            } else {
                break;
            }
        }
        let Token {
            from,
            end,
            mask,
            suffix,
        } = if start == p {
            let digits = digit_run(text, start);
            plain_number_at(text, start, digits, prev)
                .unwrap_or_else(|| classify(text, start, self.floor, Some(digits)))
        } else {
            classify(text, start, self.floor, None)
        };
        if self.code.is_none()
            && suffix == end
            && matches!(mask, Mask::Num | Mask::Hex)
            && may_follow_key(text, from)
        {
            let value = text.get(from..end).unwrap_or_default();
            if key_before(text, from).is_some_and(|k| k.number) && is_code_number(value) {
                self.code = Some(value);
            }
        }
        if mask == Mask::Time {
            // Month and weekday names before the numbers are part of the
            // time; they were copied out already.
            self.flush(from);
            self.lit = from;
            let names = if self.out.last() == Some(&b' ') {
                names_before(self.out)
            } else {
                0
            };
            self.out.truncate(self.out.len() - names);
        }
        self.replace(from, mask, suffix, end);
        Some(end)
    }
}

/// The first `needle` in `text[from..]`. Out of line: quotes are rare in
/// most messages, and the search inlined in the pass has every message
/// pay for setting it up.
#[inline(never)]
fn find_after(text: &[u8], from: usize, needle: u8) -> Option<usize> {
    find_in(text, from, text.len(), needle)
}

/// A word: where it ends and how many digits it starts with.
struct Word {
    /// The first byte after it.
    end: usize,
    /// The first byte that is not a decimal digit (`end` at most).
    digits: usize,
}

/// Flags (`0x80`) of the bytes of `x` that belong to a word (ASCII letters
/// and digits, `_`, non-ASCII bytes).
#[inline(always)]
fn word_flags(x: u64) -> u64 {
    let low = x & LOW7;
    // Digits: 0x30..=0x39.
    let digit = low.wrapping_add(splat(0x50)) & !low.wrapping_add(splat(0x46)) & !x & HIGH;
    // Letters: fold case (set bit 5), then 0x61..=0x7a.
    let folded = low | splat(0x20);
    let letter = folded.wrapping_add(splat(0x1f)) & !folded.wrapping_add(splat(0x05));
    let underscore = zero_exact(x ^ splat(b'_'));
    (digit | letter | underscore | x) & HIGH
}

/// The end of the word that starts at `at`: letters, digits, `_`,
/// non-ASCII bytes, and a `-` between `_` and a digit (`blk_-42`); eight
/// bytes per step. Where its leading digits end is found apart, by the
/// callers that need it: most already know.
fn word_end(text: &[u8], at: usize) -> usize {
    let mut chunk_at = at;
    loop {
        // The first byte that is not a word byte, from `chunk_at`.
        let end = match text
            .get(chunk_at..)
            .and_then(|rest| rest.first_chunk::<8>())
        {
            Some(chunk) => {
                let stop = !word_flags(u64::from_le_bytes(*chunk)) & HIGH;
                if stop == 0 {
                    chunk_at += 8;
                    continue;
                }
                chunk_at + (stop.trailing_zeros() / 8) as usize
            }
            // Fewer than eight bytes left: one at a time.
            None => span_of(text, chunk_at, WORD),
        };
        if byte(text, end) == b'-'
            && end > at
            && byte(text, end - 1) == b'_'
            && is(text, end + 1, DIGIT)
        {
            chunk_at = end + 1;
            continue;
        }
        return end.min(text.len());
    }
}

/// The end of the run of decimal digits from `at`, eight bytes per step.
fn digit_run(text: &[u8], at: usize) -> usize {
    let mut chunk_at = at;
    while let Some(chunk) = text
        .get(chunk_at..)
        .and_then(|rest| rest.first_chunk::<8>())
    {
        // XOR with `0`s maps the digits, and only them, to 0..=9; adding
        // 0x76 then sets the high bit of each byte above 9, and a byte's
        // own high bit marks the rest. A carry reaches only later bytes,
        // so the lowest flag is exact.
        let v = u64::from_le_bytes(*chunk) ^ splat(b'0');
        let other = (v | v.wrapping_add(splat(0x76))) & HIGH;
        if other != 0 {
            return chunk_at + (other.trailing_zeros() / 8) as usize;
        }
        chunk_at += 8;
    }
    span_of(text, chunk_at, DIGIT)
}

/// [`digit_run`] out of line, for a number's later groups: inlined there
/// too, its setup was paid by every message, before the pass's loop.
#[inline(never)]
fn group_digits(text: &[u8], at: usize) -> usize {
    digit_run(text, at)
}

/// Whether `text[from..to]` is all hex digits, eight bytes per step.
fn all_hex(text: &[u8], from: usize, to: usize) -> bool {
    let Some(part) = text.get(from..to) else {
        return false;
    };
    let (chunks, tail) = part.as_chunks::<8>();
    for chunk in chunks {
        if hex_flags(u64::from_le_bytes(*chunk)) != HIGH {
            return false;
        }
    }
    tail.iter().all(u8::is_ascii_hexdigit)
}

/// Flags (`0x80`, exact) of the bytes of `x` that are hex digits, any
/// case: no byte carries into the next.
#[inline(always)]
fn hex_flags(x: u64) -> u64 {
    let low = x & LOW7;
    let digit = low.wrapping_add(splat(0x50)) & !low.wrapping_add(splat(0x46));
    let folded = low | splat(0x20);
    let af = folded.wrapping_add(splat(0x1f)) & !folded.wrapping_add(splat(0x19));
    (digit | af) & !x & HIGH
}

/// The end of the run of `flags` bytes from `at`.
#[inline(always)]
fn span_of(text: &[u8], at: usize, flags: u8) -> usize {
    let mut end = at;
    while let Some(&b) = text.get(end) {
        if class(b) & flags == 0 {
            break;
        }
        end += 1;
    }
    end
}

/// In [`NUMBER_EDGE`]: after digits, a byte that makes them part of
/// something other than a plain number (a word byte, `.`, `:`, `-`, `/`).
const STOPS_AFTER: u8 = 1;
/// In [`NUMBER_EDGE`]: before digits, `-`, `+` or `:`.
const STOPS_BEFORE: u8 = 2;
/// In [`NUMBER_EDGE`]: an ASCII capital, which after short digits and a
/// space may start a month name.
const CAPITAL: u8 = 4;
/// In [`NUMBER_EDGE`]: a size unit's first letter, after digits and a space.
const UNIT: u8 = 8;

/// What a byte next to a run of digits says about it, so that the common
/// case costs one lookup per side instead of chains of comparisons.
#[allow(clippy::indexing_slicing)]
const fn number_edges() -> [u8; 256] {
    let mut table = [0u8; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        let mut edge = 0;
        if CLASS[b] & WORD != 0 || matches!(c, b'.' | b':' | b'-' | b'/') {
            edge |= STOPS_AFTER;
        }
        if matches!(c, b'-' | b'+' | b':') {
            edge |= STOPS_BEFORE;
        }
        if c.is_ascii_uppercase() {
            edge |= CAPITAL;
        }
        if matches!(c, b'B' | b'k' | b'K' | b'M' | b'G' | b'T' | b'P') {
            edge |= UNIT;
        }
        table[b] = edge;
        b += 1;
    }
    table
}

static NUMBER_EDGE: [u8; 256] = number_edges();

#[inline(always)]
fn number_edge(b: u8) -> u8 {
    // A `u8` indexes a 256-entry table: never out of bounds.
    NUMBER_EDGE.get(usize::from(b)).copied().unwrap_or(0)
}

/// The common case, decided from the bytes around the digits alone: digits
/// that no table row other than "number" can claim (not followed by a
/// letter, digit, `_`, `.`, `:`, `-`, `/`, or a space and a unit; not after
/// `-`, `+` or `:`; and, for one or two digits, not next to what may be a
/// month name). The digits run from `start` to `end`; `prev` is the byte
/// before them, or 0 when they start at the floor, where nothing before
/// them counts (0 has no edge bits).
#[inline(always)]
fn plain_number_at(text: &[u8], start: usize, end: usize, prev: u8) -> Option<Token> {
    let next = byte(text, end);
    if number_edge(next) & STOPS_AFTER != 0 || number_edge(prev) & STOPS_BEFORE != 0 {
        return None;
    }
    let short = end - start <= 2;
    // `-` and `/` after the digits were turned away above, so a space is
    // the one byte left that a unit or month name may follow.
    if next == b' ' {
        let after = number_edge(byte(text, end + 1));
        if after & UNIT != 0 || (short && after & CAPITAL != 0) {
            return None;
        }
    }
    if short && byte(text, start.wrapping_sub(1)) == b' ' && letter_before_spaces(text, start) {
        return None;
    }
    Some(Token {
        from: start,
        end,
        mask: Mask::Num,
        suffix: end,
    })
}

/// [`plain_number_at`] with the digits found first, as its test calls it.
#[cfg(test)]
fn plain_number(text: &[u8], start: usize, prev: u8) -> Option<Token> {
    plain_number_at(text, start, digit_run(text, start), prev)
}

/// Classifies the word that starts at `start` (and holds a digit), in the
/// order of the module doc's table. `digits` is where the digits that
/// start the word end, when the caller found that already.
fn classify(text: &[u8], start: usize, floor: usize, digits: Option<usize>) -> Token {
    let Word { end, digits } = match digits {
        // Digits followed by no word byte are the whole word (the `-` of
        // `_-` follows a `_`, never a digit); after a word byte, the word
        // goes on from there.
        Some(digits) if is(text, digits, WORD) => Word {
            end: word_end(text, digits),
            digits,
        },
        Some(digits) => Word {
            end: digits,
            digits,
        },
        None => Word {
            end: word_end(text, start),
            digits: span_of(text, start, DIGIT),
        },
    };
    let len = end - start;
    let all_digits = digits == end;
    let next = byte(text, end);
    let prev = if start > floor {
        byte(text, start - 1)
    } else {
        0
    };
    let whole = |mask| Token {
        from: start,
        end,
        mask,
        suffix: end,
    };
    let span = |from: usize, end: usize, mask| Token {
        from,
        end,
        mask,
        suffix: end,
    };
    // Only the rows that need it ask whether the word is hex.
    let hex = || all_hex(text, start, end);
    // UUID, from its first group or (when that has no digit) a later one.
    // `is_uuid` checks the first group's hex digits itself.
    if len == 8 && next == b'-' && is_uuid(text, start) {
        return span(start, start + 36, Mask::Uuid);
    }
    if (len == 4 || len == 12) && prev == b'-' && hex() {
        for back in [9usize, 14, 19, 24] {
            if let Some(uuid) = start.checked_sub(back)
                && uuid >= floor
                && is_uuid(text, uuid)
            {
                return span(uuid, uuid + 36, Mask::Uuid);
            }
        }
    }
    let starts_with_digit = digits > start;
    // A time (`12:13:43`) before IPv6, which it can never be (three groups,
    // no `::`).
    if starts_with_digit && let Some(time_end) = timestamp(text, start, digits) {
        return span(start, time_end, Mask::Time);
    }
    // IPv6: a group of up to four hex digits before a `:`, or after `::`.
    if len <= 4 && (next == b':' || prev == b':') && hex() {
        if next == b':'
            && let Some(ip_end) = ipv6_end(text, start)
        {
            return span(start, ip_end, Mask::Ip);
        }
        if start >= floor + 2
            && byte(text, start - 2) == b':'
            && prev == b':'
            && !is(text, start.wrapping_sub(3), WORD)
            && let Some(ip_end) = ipv6_end(text, start - 2)
        {
            return span(start - 2, ip_end, Mask::Ip);
        }
    }
    if starts_with_digit
        && digits == start + 1
        && byte(text, start) == b'0'
        && matches!(byte(text, start + 1), b'x' | b'X')
        && len > 2
        && all_hex(text, start + 2, end)
    {
        return whole(Mask::Hex);
    }
    if len >= 8 && !all_digits && hex() {
        return whole(Mask::Hex);
    }
    if !starts_with_digit {
        return whole(Mask::Id);
    }
    // A sign: `-` or `+` right before the digits, itself not after a
    // letter, digit or `_` (`-5`, `x=+3`, but not `2018-09`).
    let signed = if matches!(prev, b'-' | b'+') && !is(text, start.wrapping_sub(2), WORD) {
        start - 1
    } else {
        start
    };
    if all_digits {
        if len <= 3
            && next == b'.'
            && signed == start
            && let Some(ip_end) = ipv4_end(text, start)
        {
            return span(start, ip_end, Mask::Ip);
        }
        // Digits, then `.digits` groups: a number or a version; the last
        // group may carry a unit.
        let mut at = end;
        while byte(text, at) == b'.' && is(text, at + 1, DIGIT) {
            let group = at + 1;
            let digits_end = group_digits(text, group);
            // A group that goes on past its digits carries a unit.
            if is(text, digits_end, WORD) {
                at = word_end(text, digits_end);
                let mut token = unit_token(text, group, at, digits_end);
                token.from = if token.mask == Mask::Id {
                    start
                } else {
                    signed
                };
                return token;
            }
            at = digits_end;
        }
        if let Some(size_end) = size_unit(text, at) {
            return span(signed, size_end, Mask::Size);
        }
        return span(signed, at, Mask::Num);
    }
    let mut token = unit_token(text, start, end, digits);
    if token.mask != Mask::Id {
        token.from = signed;
    }
    token
}

/// The end of the IPv4 address at `start`, if one is there: four
/// `.`-separated groups of one to three digits, each at most 255, not
/// followed by a word byte or by `.` and a digit (a fifth group), in one
/// pass over its bytes. The general number path, which reads each group
/// and then the address again for its values, runs only when this fails.
fn ipv4_end(text: &[u8], start: usize) -> Option<usize> {
    let mut at = start;
    for group in 0..4 {
        if group > 0 {
            if byte(text, at) != b'.' {
                return None;
            }
            at += 1;
        }
        let mut value = 0u32;
        let group_start = at;
        while at - group_start < 3 {
            let digit = byte(text, at).wrapping_sub(b'0');
            if digit > 9 {
                break;
            }
            value = value * 10 + u32::from(digit);
            at += 1;
        }
        if at == group_start || value > 255 {
            return None;
        }
    }
    if is(text, at, WORD) || (byte(text, at) == b'.' && is(text, at + 1, DIGIT)) {
        return None;
    }
    Some(at)
}

/// [`ipv4_end`] as the number's group loop first applied it: the word
/// all digits, then `.digits` groups, four in all, each of at most three
/// digits, none followed by a word byte, and every group at most 255
/// (checked over the address's bytes again). The reference its test
/// compares with.
#[cfg(test)]
fn ipv4_end_by_groups(text: &[u8], start: usize) -> Option<usize> {
    let end = span_of(text, start, DIGIT);
    if end == start || is(text, end, WORD) {
        return None;
    }
    let (mut groups, mut short, mut at) = (1, end - start <= 3, end);
    while byte(text, at) == b'.' && is(text, at + 1, DIGIT) {
        let group = at + 1;
        at = digit_run(text, group);
        if is(text, at, WORD) {
            return None;
        }
        groups += 1;
        short &= at - group <= 3;
    }
    let octets = || {
        text.get(start..at)
            .unwrap_or_default()
            .split(|&b| b == b'.')
            .all(|group| {
                group
                    .iter()
                    .fold(0u32, |v, &d| v * 10 + u32::from(d - b'0'))
                    <= 255
            })
    };
    (groups == 4 && short && octets()).then_some(at)
}

/// The end of a size unit (`B`, `KB`, `MiB`, …) right after a number at
/// `at`, directly or after one space, if there is one.
fn size_unit(text: &[u8], at: usize) -> Option<usize> {
    let from = if byte(text, at) == b' ' { at + 1 } else { at };
    if !matches!(
        byte(text, from),
        b'B' | b'k' | b'K' | b'M' | b'G' | b'T' | b'P'
    ) {
        return None;
    }
    let end = span_of(text, from, LETTER);
    if is(text, end, WORD) {
        return None;
    }
    matches!(
        text.get(from..end)?,
        b"B" | b"kB"
            | b"KB"
            | b"MB"
            | b"GB"
            | b"TB"
            | b"PB"
            | b"KiB"
            | b"MiB"
            | b"GiB"
            | b"TiB"
            | b"PiB"
    )
    .then_some(end)
}

/// The end of a date and/or time starting at the digits at `start`:
///
/// - `yyyy-mm-dd` or `yyyy/mm/dd`, `dd/mm/yy[yy]` or `mm-dd-yyyy`;
/// - `dd Mon yyyy`, `dd-Mon-yyyy`, `dd/Mon/yyyy` (a month name);
/// - `dd` after a month name (`Jul 10`, `Sun Jul 10`: see [`names_before`]);
/// - `h:mm`, `hh:mm:ss`, with a fraction after `.` or `,`;
///
/// each followed, when present, by a time (after a space, `T`, or `:` after
/// a year), a year (after a day named by its month), and a zone (`Z`,
/// `±hh:mm`, `±hhmm`, ` UTC`, ` GMT`). Bounded: at most about 40 bytes are
/// read.
fn timestamp(text: &[u8], start: usize, digits: usize) -> Option<usize> {
    let n = digits - start;
    let sep = byte(text, digits);
    let after = byte(text, digits + 1);
    // What the byte after the digits allows, before any closer look.
    let possible = match (n, sep) {
        (4, b'-' | b'/') => after.is_ascii_digit(),
        (1 | 2, b':') => after.is_ascii_digit(),
        (1 | 2, b'-' | b'/' | b' ') if after.is_ascii_digit() || after.is_ascii_uppercase() => true,
        (1 | 2, _) => {
            !is(text, digits, WORD)
                && byte(text, start.wrapping_sub(1)) == b' '
                && letter_before_spaces(text, start)
        }
        _ => false,
    };
    if !possible {
        return None;
    }
    timestamp_end(text, start, digits)
}

/// [`timestamp`] once the bytes after the digits allow one: out of line,
/// as few words are dates or times, and inlined in the pass its setup was
/// paid by every message.
#[inline(never)]
fn timestamp_end(text: &[u8], start: usize, digits: usize) -> Option<usize> {
    let n = digits - start;
    let sep = byte(text, digits);
    let mut at;
    let mut time = false;
    let mut year = true;
    if n == 4 && matches!(sep, b'-' | b'/') {
        // yyyy-mm-dd
        let month = two_digits(text, digits + 1)?;
        if byte(text, digits + 3) != sep || !(1..=12).contains(&month) {
            return None;
        }
        let day = two_digits(text, digits + 4)?;
        if !(1..=31).contains(&day) {
            return None;
        }
        at = digits + 6;
    } else if (1..=2).contains(&n)
        && matches!(sep, b'-' | b'/' | b' ')
        && byte(text, digits + 1).is_ascii_uppercase()
        && is_month(text, digits + 1).is_some()
    {
        // dd Mon yyyy, dd-Mon-yyyy, dd/Mon/yyyy
        let name_end = is_month(text, digits + 1)?;
        if byte(text, name_end) != sep {
            return None;
        }
        let year_end = span_of(text, name_end + 1, DIGIT);
        if !matches!(year_end - (name_end + 1), 2 | 4) {
            return None;
        }
        at = year_end;
    } else if n == 2 && matches!(sep, b'-' | b'/') && two_digits(text, digits + 1).is_some() {
        // dd/mm/yy, dd/mm/yyyy, mm-dd-yyyy
        if byte(text, digits + 3) != sep {
            return None;
        }
        let year_end = span_of(text, digits + 4, DIGIT);
        if !matches!(year_end - (digits + 4), 2 | 4) {
            return None;
        }
        at = year_end;
    } else if (1..=2).contains(&n) && sep == b':' {
        at = clock(text, start)?;
        time = true;
    } else if (1..=2).contains(&n)
        && matches!(sep, b' ' | b',' | 0)
        && byte(text, start.wrapping_sub(1)) == b' '
        && letter_before_spaces(text, start)
        && names_before(text.get(..start)?) > 0
    {
        // The day of `Jul 10`.
        at = digits;
        year = false;
    } else {
        return None;
    }
    if is(text, at, WORD) && !(byte(text, at) == b'T' && is(text, at + 1, DIGIT)) {
        return None;
    }
    if !time {
        let clock_at = match (byte(text, at), byte(text, at + 1)) {
            (b' ' | b'T' | b':', b'0'..=b'9') => Some(at + 1),
            (b',', b' ') if is(text, at + 2, DIGIT) => Some(at + 2),
            _ => None,
        };
        if let Some(end) = clock_at.and_then(|c| clock(text, c)) {
            at = end;
            time = true;
        }
    }
    if !year && byte(text, at) == b' ' {
        let year_end = span_of(text, at + 1, DIGIT);
        if year_end - (at + 1) == 4 && !is(text, year_end, WORD) {
            at = year_end;
        }
    }
    if time {
        at = zone(text, at);
    }
    Some(at)
}

/// Whether an upper-case letter and two letters come right before the
/// (one to three) spaces that end at `at`: the shape of `Jul `.
fn letter_before_spaces(text: &[u8], at: usize) -> bool {
    let mut k = at;
    while k > 0 && at - k < 3 && byte(text, k - 1) == b' ' {
        k -= 1;
    }
    k >= 3 && byte(text, k - 3).is_ascii_uppercase() && is(text, k - 1, LETTER)
}

/// The value of the two digits at `at`, if both are digits.
fn two_digits(text: &[u8], at: usize) -> Option<u32> {
    let (a, b) = (byte(text, at), byte(text, at + 1));
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| u32::from(a - b'0') * 10 + u32::from(b - b'0'))
}

/// The end of `h:mm`, `hh:mm:ss`, with an optional fraction (`.123`,
/// `,123`), starting at `at`.
fn clock(text: &[u8], at: usize) -> Option<usize> {
    let hours = span_of(text, at, DIGIT);
    if !(1..=2).contains(&(hours - at)) || byte(text, hours) != b':' {
        return None;
    }
    two_digits(text, hours + 1).filter(|&m| m < 60)?;
    let mut end = hours + 3;
    if byte(text, end) == b':' {
        two_digits(text, end + 1).filter(|&s| s <= 60)?;
        end += 3;
        if matches!(byte(text, end), b'.' | b',') && is(text, end + 1, DIGIT) {
            end = span_of(text, end + 1, DIGIT);
        }
    }
    (!is(text, end, LETTER) || matches!(byte(text, end), b'Z')).then_some(end)
}

/// The end of a time zone after a time at `at` (or `at` if there is none).
fn zone(text: &[u8], at: usize) -> usize {
    let b = byte(text, at);
    if b == b'Z' && !is(text, at + 1, WORD) {
        return at + 1;
    }
    let sign = if b == b' ' && matches!(byte(text, at + 1), b'+' | b'-') {
        at + 1
    } else {
        at
    };
    if matches!(byte(text, sign), b'+' | b'-') {
        let digits = span_of(text, sign + 1, DIGIT);
        match digits - (sign + 1) {
            4 if !is(text, digits, WORD) => return digits,
            2 if byte(text, digits) == b':' => {
                let minutes = span_of(text, digits + 1, DIGIT);
                if minutes - (digits + 1) == 2 && !is(text, minutes, WORD) {
                    return minutes;
                }
            }
            _ => {}
        }
        return at;
    }
    if b == b' '
        && matches!(text.get(at + 1..at + 4), Some(b"UTC" | b"GMT"))
        && !is(text, at + 4, WORD)
    {
        return at + 4;
    }
    at
}

/// The end of an English month name abbreviated to three letters (`Jan`,
/// `JAN`: the first letter upper case) at `at`, if one is there and ends a
/// word.
fn is_month(text: &[u8], at: usize) -> Option<usize> {
    let end = at + 3;
    if is(text, end, WORD) {
        return None;
    }
    (name_kind(text.get(at..end)?) == Some(Name::Month)).then_some(end)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Name {
    Month,
    Weekday,
}

/// Whether three letters are an English month or weekday name abbreviated
/// to three letters, the first in upper case (`Jul`, `JUL`, `Sun`).
fn name_kind(word: &[u8]) -> Option<Name> {
    let [first, second, third] = *word else {
        return None;
    };
    if !first.is_ascii_uppercase() || !second.is_ascii_alphabetic() || !third.is_ascii_alphabetic()
    {
        return None;
    }
    match [first | 0x20, second | 0x20, third | 0x20] {
        [b'j', b'a', b'n']
        | [b'f', b'e', b'b']
        | [b'm', b'a', b'r']
        | [b'a', b'p', b'r']
        | [b'm', b'a', b'y']
        | [b'j', b'u', b'n']
        | [b'j', b'u', b'l']
        | [b'a', b'u', b'g']
        | [b's', b'e', b'p']
        | [b'o', b'c', b't']
        | [b'n', b'o', b'v']
        | [b'd', b'e', b'c'] => Some(Name::Month),
        [b'm', b'o', b'n']
        | [b't', b'u', b'e']
        | [b'w', b'e', b'd']
        | [b't', b'h', b'u']
        | [b'f', b'r', b'i']
        | [b's', b'a', b't']
        | [b's', b'u', b'n'] => Some(Name::Weekday),
        _ => None,
    }
}

/// How many bytes at the end of `text` are abbreviated month and weekday
/// names that lead into a date: `Jul `, `Sun Jul `, `Sun, `, `Sun `, with
/// one to three spaces after each name. 0 when there are none.
fn names_before(text: &[u8]) -> usize {
    let mut end = text.len();
    let mut taken = 0;
    for _ in 0..2 {
        let mut at = end;
        let mut spaces = 0;
        while spaces < 3 && at > 0 && byte(text, at - 1) == b' ' {
            at -= 1;
            spaces += 1;
        }
        if spaces == 0 {
            break;
        }
        if at > 0 && byte(text, at - 1) == b',' {
            at -= 1;
        }
        let Some(word) = at.checked_sub(3) else {
            break;
        };
        if (word > 0 && is(text, word - 1, WORD))
            || text.get(word..at).and_then(name_kind).is_none()
        {
            break;
        }
        taken = text.len() - word;
        end = word;
    }
    taken
}

/// Whether writing `mask` at the end of `out` would repeat the list item
/// that ends at `last_end` with the same mask: `out` ends with `item sep
/// prefix`, where `sep` is `,`, `, ` or a space, `prefix` (what the new
/// item has before its mask) holds no separator and is at most 16 bytes,
/// and `item` is `prefix` then `mask`, itself after a separator or at the
/// start. If so `sep prefix` is removed from `out` and `true` returned: a
/// list of like values is written as one (`blk_1 blk_2` → `blk_<NUM>`).
fn repeats(out: &mut Vec<u8>, last_end: usize, mask: &[u8]) -> bool {
    let len = out.len();
    let sep = match (byte(out, last_end), byte(out, last_end + 1)) {
        (b',', b' ') => 2,
        (b',' | b' ', _) => 1,
        _ => return false,
    };
    let Some(prefix) = out.get(last_end + sep..len) else {
        return false;
    };
    if prefix.len() > 16 || prefix.iter().rev().any(|&b| matches!(b, b' ' | b',')) {
        return false;
    }
    let Some(item) = last_end.checked_sub(mask.len() + prefix.len()) else {
        return false;
    };
    let bounded = item == 0
        || matches!(
            byte(out, item - 1),
            b' ' | b',' | b'(' | b'[' | b'{' | b'=' | b':'
        );
    if bounded && out.get(item..item + prefix.len()) == Some(prefix) {
        out.truncate(last_end);
        return true;
    }
    false
}

/// A word `[start, end)` that starts with a digit and has letters: a
/// duration, a number with a unit, or an id. Its leading digits end at
/// `digits`.
fn unit_token(text: &[u8], start: usize, end: usize, digits: usize) -> Token {
    let token = |mask, suffix| Token {
        from: start,
        end,
        mask,
        suffix,
    };
    if is_duration(text, end, digits) {
        return token(Mask::Duration, end);
    }
    if size_unit(text, digits) == Some(end) {
        return token(Mask::Size, end);
    }
    if span_of(text, digits, LETTER) == end {
        return token(Mask::Num, digits);
    }
    token(Mask::Id, end)
}

/// Whether the word that ends at `end`, whose leading digits end at
/// `digits`, is one or more `digits unit` pairs (`1h2m`, `030957s`,
/// `500ms`).
fn is_duration(text: &[u8], end: usize, digits: usize) -> bool {
    let mut digits_end = digits;
    loop {
        let unit = match (byte(text, digits_end), byte(text, digits_end + 1)) {
            (b'n' | b'u' | b'm', b's') => 2,
            (b's' | b'm' | b'h' | b'd', _) => 1,
            _ => return false,
        };
        let at = digits_end + unit;
        if at >= end {
            return at == end;
        }
        digits_end = span_of(text, at, DIGIT);
        if digits_end == at {
            return false;
        }
    }
}

/// [`is_duration`] as it was first written, from the word's start: the
/// reference its test compares with.
#[cfg(test)]
fn is_duration_from_start(text: &[u8], start: usize, end: usize) -> bool {
    let mut at = start;
    let mut pairs = 0;
    while at < end {
        let digits_end = span_of(text, at, DIGIT);
        if digits_end == at {
            return false;
        }
        let unit = match (byte(text, digits_end), byte(text, digits_end + 1)) {
            (b'n' | b'u' | b'm', b's') => 2,
            (b's' | b'm' | b'h' | b'd', _) => 1,
            _ => return false,
        };
        at = digits_end + unit;
        pairs += 1;
    }
    pairs > 0 && at == end
}

/// Whether a UUID (8-4-4-4-12 hex digits, not followed by a word byte)
/// starts at `at`. Its 36 bytes are checked in five overlapping words
/// (at 0, 8, 16, 24 and 28), each lane a hex digit or, where the `-`
/// goes, a `-`: a byte loop cost about thirty operations per pair of
/// bytes, and ids are common in logs.
fn is_uuid(text: &[u8], at: usize) -> bool {
    /// The lanes of the words at 8 and 16 that hold a `-` (bytes 8 and
    /// 13, 18 and 23).
    const DASHES_8: u64 = 0x80 | 0x80 << 40;
    const DASHES_16: u64 = 0x80 << 16 | 0x80 << 56;
    let Some(uuid) = text.get(at..).and_then(<[u8]>::first_chunk::<36>) else {
        return false;
    };
    let fits = |offset: usize, dashes: u64| {
        let x = uuid
            .get(offset..)
            .and_then(<[u8]>::first_chunk::<8>)
            .map_or(0, |w| u64::from_le_bytes(*w));
        hex_flags(x) & !dashes | zero_exact(x ^ splat(b'-')) & dashes == HIGH
    };
    fits(0, 0)
        && fits(8, DASHES_8)
        && fits(16, DASHES_16)
        && fits(24, 0)
        && fits(28, 0)
        && !is(text, at + 36, ALNUM)
        && (at == 0 || !is(text, at - 1, ALNUM))
}

/// [`is_uuid`] a byte at a time, as it was first written: the reference
/// its test compares with.
#[cfg(test)]
fn is_uuid_by_byte(text: &[u8], at: usize) -> bool {
    let Some(uuid) = text.get(at..at + 36) else {
        return false;
    };
    let shape = uuid.iter().enumerate().all(|(i, &b)| match i {
        8 | 13 | 18 | 23 => b == b'-',
        _ => class(b) & HEX != 0,
    });
    shape && !is(text, at + 36, ALNUM) && (at == 0 || !is(text, at - 1, ALNUM))
}

/// The end of an IPv6 address starting at `at` (a hex group or `::`), if
/// one does: eight groups of one to four hex digits, or fewer with one
/// `::`, not followed by a word byte.
fn ipv6_end(text: &[u8], at: usize) -> Option<usize> {
    let mut i = at;
    let mut groups = 0;
    let mut double = false;
    let mut end = at;
    if byte(text, i) == b':' && byte(text, i + 1) == b':' {
        double = true;
        i += 2;
        end = i;
    }
    while groups < 8 {
        // At most five bytes: a sixth hex digit already disqualifies.
        let group_end = i + text
            .get(i..)
            .unwrap_or_default()
            .iter()
            .take(5)
            .take_while(|&&b| class(b) & HEX != 0)
            .count();
        let len = group_end - i;
        if len == 0 || len > 4 {
            break;
        }
        groups += 1;
        i = group_end;
        end = i;
        if byte(text, i) != b':' {
            break;
        }
        if byte(text, i + 1) == b':' {
            if double {
                break;
            }
            double = true;
            i += 2;
            end = i;
        } else if is(text, i + 1, HEX) {
            i += 1;
        } else {
            break;
        }
    }
    let complete = if double { groups <= 7 } else { groups == 8 };
    (complete && groups > 0 && !is(text, end, ALNUM) && byte(text, end) != b'_').then_some(end)
}

/// The end of an unquoted `key=value` value starting at `at`: the first
/// whitespace or `,` `;` `&` `)` `]` `}` `>` `"` `'` `|`, or an escape
/// other than `\uXXXX`, `\\`, `\/`. Out of line: most messages have no
/// `key=value` pair, and the search inlined in the pass has every
/// message pay for setting it up.
#[inline(never)]
fn value_end(text: &[u8], at: usize) -> usize {
    let mut end = at;
    loop {
        let stop = value_stop(text, end);
        if byte(text, stop) != b'\\' {
            return stop;
        }
        end = match byte(text, stop + 1) {
            b'u' => stop + 6,
            b'\\' | b'/' => stop + 2,
            _ => return stop,
        };
        if end >= text.len() {
            return text.len();
        }
    }
}

/// The first byte from `from` that ends a value or is a `\` (the length
/// of `text` if none), eight bytes per step: [`value_stop_flags`] flags
/// every such byte, and each flag is confirmed by the byte's class.
fn value_stop(text: &[u8], from: usize) -> usize {
    let stops = |b: u8| class(b) & VALUE_END != 0 || b == b'\\';
    let mut at = from;
    while let Some(chunk) = text.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let x = u64::from_le_bytes(*chunk);
        let mut flags = value_stop_flags(x);
        while flags != 0 {
            let i = (flags.trailing_zeros() / 8) as usize;
            if stops((x >> (8 * i)) as u8) {
                return at + i;
            }
            flags &= flags - 1;
        }
        at += 8;
    }
    let rest = text.get(at..).unwrap_or_default();
    at + rest.iter().position(|&b| stops(b)).unwrap_or(rest.len())
}

/// Flags (`0x80`) of the bytes of `x` that may end a value or start an
/// escape: below `!`, `\` and `]`, `|` to DEL, `"` to `,`, and `;` to `>`.
/// Every byte that does is flagged; so are `#` `$` `%` `(` `*` `+` `<`
/// `=` `~` and, after a flagged byte, others (a borrow), which the caller
/// turns down by their class.
#[inline(always)]
fn value_stop_flags(x: u64) -> u64 {
    let low = x & LOW7;
    // `low + (0x80 - lo)` reaches the high bit from `lo` on, and
    // `low + (0x7f - hi)` past `hi`: no byte carries into the next.
    let between =
        |lo: u8, hi: u8| low.wrapping_add(splat(0x80 - lo)) & !low.wrapping_add(splat(0x7f - hi));
    let controls = x.wrapping_sub(splat(0x21));
    let escape = (x ^ splat(b'\\')).wrapping_sub(splat(0x02)) & !(x ^ splat(b'\\'));
    let high = low.wrapping_add(splat(0x04));
    (controls | escape | high | between(0x22, 0x2c) | between(0x3b, 0x3e)) & !x & HIGH
}

/// [`value_end`] a byte at a time, as it was first written: the
/// reference its test compares with.
#[cfg(test)]
fn value_end_by_byte(text: &[u8], at: usize) -> usize {
    let mut end = at;
    while let Some(&b) = text.get(end) {
        if b == b'\\' {
            match byte(text, end + 1) {
                b'u' => end += 6,
                b'\\' | b'/' => end += 2,
                _ => break,
            }
            continue;
        }
        if class(b) & VALUE_END != 0 {
            break;
        }
        end += 1;
    }
    end.min(text.len())
}

// ---------------------------------------------------------------------------
// Error codes.

/// What a key found before a value accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Key {
    /// A number is an error code here.
    number: bool,
    /// A name is an error code here (after `=`).
    name: bool,
}

/// The two-letter endings of the error-code keys that [`may_follow_key`]
/// looks for, any case: those of `err`, `error`, `errno`, the `code` keys
/// and `status`, the words a value's own key can be (`exit` and `return`
/// only come before `code` or `status`).
const KEY_ENDINGS: [[u8; 2]; 5] = [*b"rr", *b"or", *b"no", *b"de", *b"us"];

/// In [`KEY_TAIL`]: a byte that may separate a key from its value.
const KEY_SEPARATOR: u16 = 0x80;

/// Per byte, what [`may_follow_key`] asks of the bytes before a value:
/// bit `k` (`k < 5`) when the byte, any case, is the first letter of
/// [`KEY_ENDINGS`]`[k]`, bit `8 + k` when it is the second, and
/// [`KEY_SEPARATOR`] for ` `, `:`, `=` and `#`. Two bytes end a key
/// exactly when the first's low bits meet the second's high bits.
#[allow(clippy::indexing_slicing)]
const fn key_tail_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut b = 0usize;
    while b < 256 {
        let lower = b as u8 | 0x20;
        let mut bits = 0u16;
        let mut k = 0;
        while k < KEY_ENDINGS.len() {
            if lower == KEY_ENDINGS[k][0] {
                bits |= 1 << k;
            }
            if lower == KEY_ENDINGS[k][1] {
                bits |= 1 << (8 + k);
            }
            k += 1;
        }
        if matches!(b as u8, b' ' | b':' | b'=' | b'#') {
            bits |= KEY_SEPARATOR;
        }
        table[b] = bits;
        b += 1;
    }
    table
}

static KEY_TAIL: [u16; 256] = key_tail_table();

#[inline(always)]
fn key_tail(b: u8) -> u16 {
    // A `u8` indexes a 256-entry table: never out of bounds.
    KEY_TAIL.get(usize::from(b)).copied().unwrap_or(0)
}

/// A cheap test that [`key_before`] may find a key before `value`: one to
/// five separator bytes before it, and the two bytes before those ending
/// one of the keys ([`KEY_ENDINGS`]). One table look-up per byte: most
/// numbers follow no separator, or a word with no such ending.
#[inline(always)]
fn may_follow_key(text: &[u8], value: usize) -> bool {
    let Some((&last, mut rest)) = text.get(..value).and_then(<[u8]>::split_last) else {
        return false;
    };
    if key_tail(last) & KEY_SEPARATOR == 0 {
        return false;
    }
    for _ in 0..4 {
        match rest.split_last() {
            Some((&b, head)) if key_tail(b) & KEY_SEPARATOR != 0 => rest = head,
            _ => break,
        }
    }
    match rest.last_chunk::<2>() {
        Some(&[first, second]) => key_tail(first) & (key_tail(second) >> 8) != 0,
        None => false,
    }
}

/// The key that the value at `value` belongs to, if it is an error-code
/// key: reads back over the separator and one or two words.
fn key_before(text: &[u8], value: usize) -> Option<Key> {
    if value == 0 || !matches!(byte(text, value - 1), b' ' | b':' | b'=' | b'#') {
        return None;
    }
    let mut at = value;
    // Spaces, then at most one of `:` `=` `#`, then spaces (at most two of
    // each).
    let mut spaces = 0;
    while spaces < 2 && at > 0 && byte(text, at - 1) == b' ' {
        at -= 1;
        spaces += 1;
    }
    let strong = at > 0 && matches!(byte(text, at - 1), b':' | b'=' | b'#');
    if strong {
        at -= 1;
        let mut spaces = 0;
        while spaces < 2 && at > 0 && byte(text, at - 1) == b' ' {
            at -= 1;
            spaces += 1;
        }
    } else if at == value {
        return None;
    }
    // Every key ends with one of these letters (cheap to reject the rest).
    if !matches!(
        byte(text, at.wrapping_sub(1)) | 0x20,
        b'r' | b'o' | b'e' | b's' | b't' | b'n'
    ) {
        return None;
    }
    let (word, word_start) = word_before(text, at)?;
    let key = lower_key(word)?;
    let both = Key {
        number: true,
        name: true,
    };
    match key {
        KeyWord::Err if strong => Some(Key {
            number: true,
            name: false,
        }),
        KeyWord::Errno => Some(both),
        KeyWord::Code if strong => Some(both),
        KeyWord::Code | KeyWord::Status => {
            // `error code 1234`, `exit status 2`: the word before must be
            // `error`, `exit` or `return` (`exit` only for `status`).
            let mut at = word_start;
            if at == 0 || byte(text, at - 1) != b' ' {
                return None;
            }
            at -= 1;
            let (first, _) = word_before(text, at)?;
            let first = lower_key(first)?;
            let ok = match key {
                KeyWord::Code => matches!(first, KeyWord::Err | KeyWord::Exit | KeyWord::Return),
                _ => first == KeyWord::Exit,
            };
            ok.then_some(both)
        }
        _ => None,
    }
}

/// The word (letters and `_`) that ends at `end`, if it starts a word, and
/// where it starts.
fn word_before(text: &[u8], end: usize) -> Option<(&[u8], usize)> {
    let mut start = end;
    while start > 0
        && end - start <= 10
        && (is(text, start - 1, LETTER) || byte(text, start - 1) == b'_')
    {
        start -= 1;
    }
    if start == end || end - start > 10 || (start > 0 && is(text, start - 1, ALNUM)) {
        return None;
    }
    Some((text.get(start..end)?, start))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum KeyWord {
    /// `err`, `error`: numbers after a strong separator; also the first
    /// word of `error code`.
    Err,
    Errno,
    /// `code` and the one-word code keys.
    Code,
    /// `status` (of `exit status`).
    Status,
    Exit,
    Return,
}

/// The key word `word` is, any case.
fn lower_key(word: &[u8]) -> Option<KeyWord> {
    let mut lower = [0u8; 12];
    let len = word.len();
    // Every key is 3 to 10 bytes and starts with c, e, r or s.
    if !(3..=10).contains(&len) || !matches!(word.first()? | 0x20, b'c' | b'e' | b'r' | b's') {
        return None;
    }
    for (slot, &b) in lower.iter_mut().zip(word) {
        *slot = b.to_ascii_lowercase();
    }
    Some(match lower.get(..len)? {
        b"err" | b"error" => KeyWord::Err,
        b"errno" => KeyWord::Errno,
        b"code" | b"errcode" | b"err_code" | b"error_code" | b"errorcode" | b"exit_code"
        | b"exitcode" => KeyWord::Code,
        b"status" => KeyWord::Status,
        b"exit" => KeyWord::Exit,
        b"return" => KeyWord::Return,
        _ => return None,
    })
}

/// Whether `value` is a number as an error code: decimal with an optional
/// sign, or `0x` hex.
fn is_code_number(value: &[u8]) -> bool {
    let digits = match value {
        [b'-' | b'+', rest @ ..] => rest,
        _ => value,
    };
    match digits {
        [b'0', b'x' | b'X', hex @ ..] => !hex.is_empty() && hex.iter().all(u8::is_ascii_hexdigit),
        _ => !digits.is_empty() && digits.iter().all(u8::is_ascii_digit),
    }
}

/// Whether `value` is a name as an error code: a letter, then letters,
/// digits or `_`.
fn is_code_name(value: &[u8]) -> bool {
    matches!(value.first(), Some(b) if b.is_ascii_alphabetic())
        && value.len() <= 64
        && value
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// The error code of `key=value` (or `key = value`) when the `=` at `p`
/// follows an error-code key.
fn code_at_equals(text: &[u8], p: usize) -> Option<&[u8]> {
    // Most `key=value` pairs have no error-code key: the cheap test first.
    if !may_follow_key(text, p + 1) {
        return None;
    }
    let key = key_before(text, p + 1)?;
    let mut start = p + 1;
    let mut spaces = 0;
    while spaces < 2 && byte(text, start) == b' ' {
        start += 1;
        spaces += 1;
    }
    let mut end = start;
    while let Some(&b) = text.get(end) {
        if !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+')) {
            break;
        }
        end += 1;
    }
    let value = text.get(start..end)?;
    ((key.number && is_code_number(value)) || (key.name && is_code_name(value))).then_some(value)
}

// ---------------------------------------------------------------------------
// XXH64.

const P1: u64 = 0x9e37_79b1_85eb_ca87;
const P2: u64 = 0xc2b2_ae3d_27d4_eb4f;
const P3: u64 = 0x1656_67b1_9e37_79f9;
const P4: u64 = 0x85eb_ca77_c2b2_ae63;
const P5: u64 = 0x27d4_eb2f_1656_67c5;

#[inline(always)]
fn round(acc: u64, lane: u64) -> u64 {
    acc.wrapping_add(lane.wrapping_mul(P2))
        .rotate_left(31)
        .wrapping_mul(P1)
}

#[inline(always)]
fn merge(acc: u64, lane: u64) -> u64 {
    (acc ^ round(0, lane)).wrapping_mul(P1).wrapping_add(P4)
}

/// XXH64 of `data` with `seed`, as specified in xxHash's
/// `doc/xxhash_spec.md`.
pub fn xxh64(data: &[u8], seed: u64) -> u64 {
    let len = data.len() as u64;
    let (stripes, mut rest) = data.as_chunks::<32>();
    let mut hash = if stripes.is_empty() {
        seed.wrapping_add(P5)
    } else {
        let mut acc = [
            seed.wrapping_add(P1).wrapping_add(P2),
            seed.wrapping_add(P2),
            seed,
            seed.wrapping_sub(P1),
        ];
        for stripe in stripes {
            let (lanes, _) = stripe.as_chunks::<8>();
            for (a, lane) in acc.iter_mut().zip(lanes) {
                *a = round(*a, u64::from_le_bytes(*lane));
            }
        }
        let [a, b, c, d] = acc;
        let mut hash = a
            .rotate_left(1)
            .wrapping_add(b.rotate_left(7))
            .wrapping_add(c.rotate_left(12))
            .wrapping_add(d.rotate_left(18));
        for lane in acc {
            hash = merge(hash, lane);
        }
        hash
    };
    hash = hash.wrapping_add(len);
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        hash = (hash ^ round(0, u64::from_le_bytes(*word)))
            .rotate_left(27)
            .wrapping_mul(P1)
            .wrapping_add(P4);
        rest = tail;
    }
    if let Some((word, tail)) = rest.split_first_chunk::<4>() {
        hash = (hash ^ u64::from(u32::from_le_bytes(*word)).wrapping_mul(P1))
            .rotate_left(23)
            .wrapping_mul(P2)
            .wrapping_add(P3);
        rest = tail;
    }
    for &b in rest {
        hash = (hash ^ u64::from(b).wrapping_mul(P5))
            .rotate_left(11)
            .wrapping_mul(P1);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(P2);
    hash ^= hash >> 29;
    hash = hash.wrapping_mul(P3);
    hash ^ (hash >> 32)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replaces `text` with `len` bytes drawn from `alphabet`.
    fn draw(next: &mut impl FnMut() -> u64, alphabet: &[u8], len: usize, text: &mut Vec<u8>) {
        text.clear();
        text.extend((0..len).map(|_| alphabet[(next() % alphabet.len() as u64) as usize]));
    }

    fn build(message: &str) -> (String, Option<String>) {
        let mut template = Template::new();
        let code = template.build(message.as_bytes());
        let code = code.map(|c| String::from_utf8(c.to_vec()).unwrap());
        (String::from_utf8(template.text().to_vec()).unwrap(), code)
    }

    /// Named cases: a message as JSON string content, its exact template,
    /// and the error code found.
    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &str, Option<&str>)] = &[
            (
                "plain text is kept",
                "upstream prematurely closed connection",
                "upstream prematurely closed connection",
                None,
            ),
            ("empty", "", "", None),
            ("only spaces", "   ", "", None),
            ("spaces collapse and trim", "  a    b  ", "a b", None),
            ("tab escape is whitespace", "a\\tb\\t\\tc", "a b c", None),
            (
                "first line only",
                "failed\\n\\tat Foo.bar(Foo.java:12)",
                "failed",
                None,
            ),
            ("carriage return ends", "done\\r\\nmore", "done", None),
            ("number", "retry 3 of 10", "retry <NUM> of <NUM>", None),
            (
                "signed number",
                "offset -42 applied",
                "offset <NUM> applied",
                None,
            ),
            ("decimal", "took 0.2477829 s", "took <NUM> s", None),
            (
                "version",
                "version 1.2.3 ready",
                "version <NUM> ready",
                None,
            ),
            (
                "dates are numbers with dashes",
                "on 2017-05-16 only",
                "on <TIME> only",
                None,
            ),
            ("ipv4", "from 10.11.10.1 now", "from <IP> now", None),
            (
                "ipv4 with port",
                "dial 10.0.0.1:8080 failed",
                "dial <IP>:<NUM> failed",
                None,
            ),
            (
                "not an ipv4",
                "value 300.1.2.3 kept",
                "value <NUM> kept",
                None,
            ),
            ("ipv6 compressed", "bind fe80::1 ok", "bind <IP> ok", None),
            (
                "ipv6 loopback",
                "bind [::1]:8080 ok",
                "bind [<IP>]:<NUM> ok",
                None,
            ),
            (
                "ipv6 full",
                "peer 0:0:0:0:0:0:0:2181:Leader",
                "peer <IP>:Leader",
                None,
            ),
            (
                "uuid",
                "image 0673dd71-34c5-4fbb-86c4-40623fbe45b4 at",
                "image <UUID> at",
                None,
            ),
            (
                "uuid with letters first",
                "id abcdefab-1234-4fbb-86c4-40623fbe45b4",
                "id <UUID>",
                None,
            ),
            (
                "hex id",
                "instance 54fadb412c4e40cdbaed9335e4c35a9e gone",
                "instance <HEX> gone",
                None,
            ),
            (
                "0x hex",
                "session 0x34ed93485090001 closed",
                "session <HEX> closed",
                None,
            ),
            (
                "short hex word is an id",
                "ref a1b2 ok",
                "ref <ID> ok",
                None,
            ),
            (
                "duration",
                "after 0.030957s: x",
                "after <DURATION>: x",
                None,
            ),
            ("go duration", "waited 1h2m3s", "waited <DURATION>", None),
            ("milliseconds", "in 500ms", "in <DURATION>", None),
            ("size", "free 320.3 KB left", "free <SIZE> left", None),
            ("size joined", "limit 100MB", "limit <SIZE>", None),
            ("number with unit", "10px wide", "<NUM>px wide", None),
            ("id with digits", "user test9 from", "user <ID> from", None),
            (
                "snake id",
                "attempt_1445144423722_0020_m_000000_0 done",
                "<ID> done",
                None,
            ),
            (
                "signed snake id",
                "blk_-9016567407076718172 deleted",
                "<ID> deleted",
                None,
            ),
            (
                "path ids",
                "GET /api/v1/pods/web7/logs",
                "GET /api/<ID>/pods/<ID>/logs",
                None,
            ),
            (
                "key value",
                "uid=0 euid=0 tty=NODEVssh ruser= rhost=1.2.3.4",
                "uid=<*> euid=<*> tty=<*> ruser= rhost=<*>",
                None,
            ),
            (
                "query string",
                "?watch=true\\u0026rv=344761\\u0026x=1",
                "?watch=<*>",
                None,
            ),
            (
                "quoted value",
                "open \\\"a b.txt\\\" failed",
                "open <QUOTED> failed",
                None,
            ),
            (
                "key quoted value",
                "msg=\\\"hello world\\\" ok",
                "msg=<*> ok",
                None,
            ),
            ("unclosed quote kept", "say \\\"hi", "say \\\"hi", None),
            (
                "single quoted",
                "can't open 'x y': denied",
                "can't open <QUOTED>: denied",
                None,
            ),
            ("apostrophe alone", "don't stop", "don't stop", None),
            (
                "unicode escape stays whole",
                "caf\\u00e9 1",
                "caf\\u00e9 <NUM>",
                None,
            ),
            (
                "escaped backslash",
                "C:\\\\dir\\\\7",
                "C:\\\\dir\\\\<NUM>",
                None,
            ),
            ("time", "at 12:13:43 done", "at <TIME> done", None),
            (
                "time with fraction",
                "at 17:41:44,747 done",
                "at <TIME> done",
                None,
            ),
            (
                "iso timestamp",
                "expires 2018-09-17T12:13:43Z now",
                "expires <TIME> now",
                None,
            ),
            (
                "iso with offset",
                "at 2018-09-17T12:13:43.123+02:00 x",
                "at <TIME> x",
                None,
            ),
            (
                "date and time",
                "at 2015-10-18 18:01:47,978 x",
                "at <TIME> x",
                None,
            ),
            (
                "ctime",
                "at Sun Jul 10 03:55:15 2005 x",
                "at <TIME> x",
                None,
            ),
            (
                "ctime padded day",
                "at Fri Jul  1 07:57:30 2005 x",
                "at <TIME> x",
                None,
            ),
            (
                "common log",
                "[10/Oct/2000:13:55:36 -0700] GET",
                "[<TIME>] GET",
                None,
            ),
            ("month day", "since Jan 5", "since <TIME>", None),
            ("day month year", "on 02 Jan 2006 x", "on <TIME> x", None),
            ("slash date", "17/06/09 20:10:40 INFO", "<TIME> INFO", None),
            (
                "list of ids",
                "delete blk_1 blk_2 blk_3 now",
                "delete <ID> now",
                None,
            ),
            (
                "list of endpoints",
                "targets: [10.0.0.1:80, 10.0.0.2:80]",
                "targets: [<IP>:<NUM>]",
                None,
            ),
            (
                "list of ips",
                "from 10.11.21.122,10.11.10.1 x",
                "from <IP> x",
                None,
            ),
            (
                "error code ERR",
                "Ooops. This shouldn't occer. ERR: 5762",
                "Ooops. This shouldn't occer. ERR: <NUM>",
                Some("5762"),
            ),
            (
                "errno",
                "open failed errno=13",
                "open failed errno=<*>",
                Some("13"),
            ),
            (
                "errno name",
                "open failed errno=ENOENT",
                "open failed errno=<*>",
                Some("ENOENT"),
            ),
            (
                "code name",
                "rpc failed code=Unavailable",
                "rpc failed code=<*>",
                Some("Unavailable"),
            ),
            (
                "grpc code",
                "rpc error: code = DeadlineExceeded desc = x",
                "rpc error: code = DeadlineExceeded desc = x",
                Some("DeadlineExceeded"),
            ),
            (
                "exit status",
                "process exited: exit status 2",
                "process exited: exit status <NUM>",
                Some("2"),
            ),
            (
                "error code",
                "failed with error code 1234",
                "failed with error code <NUM>",
                Some("1234"),
            ),
            (
                "exit code",
                "container exit code: 137",
                "container exit code: <NUM>",
                Some("137"),
            ),
            (
                "negative code",
                "call failed, error=-5",
                "call failed, error=<*>",
                Some("-5"),
            ),
            (
                "hex code",
                "fault error: 0x1F",
                "fault error: <HEX>",
                Some("0x1F"),
            ),
            (
                "first code wins",
                "errno=2 then ERR: 7",
                "errno=<*> then ERR: <NUM>",
                Some("2"),
            ),
            (
                "error word then text is no code",
                "stream error: stream ID 1499",
                "stream error: stream ID <NUM>",
                None,
            ),
            (
                "code needs a separator",
                "code 42 is fine",
                "code <NUM> is fine",
                None,
            ),
            ("barcode is not code", "barcode=12345", "barcode=<*>", None),
            ("error name not a code", "error: EOF", "error: EOF", None),
            (
                "status alone is not a code",
                "status 500",
                "status <NUM>",
                None,
            ),
        ];
        for (name, input, template, code) in cases {
            let (got, got_code) = build(input);
            assert_eq!(
                (got.as_str(), got_code.as_deref()),
                (*template, *code),
                "{name}"
            );
        }
    }

    /// The word-at-a-time searches agree with naive byte loops, from every
    /// starting position, on random text made of the bytes they test.
    #[test]
    fn word_at_a_time_helpers_match_naive_loops() {
        let alphabet = b"aZ_09 =':;<>?\\\"-.x\x80\xff\t";
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..3_000 {
            let state = next();
            let len = (state % 72) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| {
                    let r = state.rotate_left(5 * i as u32) ^ (i as u64).wrapping_mul(0x2545_f491);
                    alphabet[(r % alphabet.len() as u64) as usize]
                })
                .collect();
            for from in 0..=len {
                let naive_special = (from..len).find(|&i| {
                    let previous = if i > 0 { text[i - 1] } else { b'x' };
                    is_special_naive(text[i], previous)
                });
                assert_eq!(
                    next_special(&text, from).map(|(p, b)| {
                        assert_eq!(b, text[p]);
                        p
                    }),
                    naive_special,
                    "{text:?} from {from}"
                );
                let naive_digits = (from..len)
                    .find(|&i| !text[i].is_ascii_digit())
                    .unwrap_or(len);
                assert_eq!(digit_run(&text, from), naive_digits, "{text:?} from {from}");
                for to in from..=len {
                    let naive_hex = text[from..to].iter().all(u8::is_ascii_hexdigit);
                    assert_eq!(all_hex(&text, from, to), naive_hex, "{text:?} {from}..{to}");
                }
                let naive_end = {
                    let mut end = from;
                    loop {
                        match text.get(end) {
                            Some(&b) if class(b) & WORD != 0 => end += 1,
                            Some(b'-')
                                if end > from
                                    && text[end - 1] == b'_'
                                    && text.get(end + 1).is_some_and(u8::is_ascii_digit) =>
                            {
                                end += 1
                            }
                            _ => break,
                        }
                    }
                    end
                };
                assert_eq!(word_end(&text, from), naive_end, "{text:?} from {from}");
            }
        }
    }

    /// [`Recent`] reads back what a pair of `(end, mask)` would hold, after
    /// random pushes and drops, and a slot with no mask matches no mask and
    /// ends past every output.
    /// `is_uuid` agrees with the byte loop it replaced: on UUIDs with
    /// one or two bytes changed (a `-` or a digit moved, a byte of every
    /// value at every place), at every start, with word bytes or not
    /// around them.
    #[test]
    fn is_uuid_matches_the_byte_loop() {
        let uuid = *b"123e4567-e89b-12d3-A456-426614174000";
        let mut next = crate::test_rng::xorshift(0x0d1d_5eed_4a11_0002);
        let mut text = Vec::new();
        for place in 0..36 {
            for b in 0..=255u8 {
                for (before, after) in [("", ""), (" ", " "), ("x", ""), ("", "_"), ("", "g")] {
                    text.clear();
                    text.extend_from_slice(before.as_bytes());
                    text.extend_from_slice(&uuid);
                    text[before.len() + place] = b;
                    text.extend_from_slice(after.as_bytes());
                    for at in 0..text.len() {
                        assert_eq!(
                            is_uuid(&text, at),
                            is_uuid_by_byte(&text, at),
                            "{text:?} {at}"
                        );
                    }
                }
            }
        }
        const BYTES: &[u8] = b"0123456789abcdefABCDEFgG-_ :\xc3";
        for _ in 0..20_000 {
            text.clear();
            text.extend_from_slice(&uuid);
            for _ in 0..(next() % 3) {
                let at = (next() % 36) as usize;
                text[at] = BYTES[(next() % BYTES.len() as u64) as usize];
            }
            if next().is_multiple_of(2) {
                text.insert(0, BYTES[(next() % BYTES.len() as u64) as usize]);
            }
            for at in 0..text.len() {
                assert_eq!(
                    is_uuid(&text, at),
                    is_uuid_by_byte(&text, at),
                    "{text:?} {at}"
                );
            }
        }
        assert!(is_uuid(&uuid, 0));
    }

    #[test]
    fn recent_reads_back_the_last_two_masks() {
        const MASKS: [Mask; 10] = [
            Mask::Num,
            Mask::Hex,
            Mask::Uuid,
            Mask::Ip,
            Mask::Time,
            Mask::Duration,
            Mask::Size,
            Mask::Id,
            Mask::Quoted,
            Mask::Value,
        ];
        let mut next = crate::test_rng::xorshift(0x1234_5678_9abc_def1);
        let mut recent = Recent::NONE;
        let mut model: [Option<(usize, Mask)>; 2] = [None, None];
        for _ in 0..100_000 {
            let r = next();
            if r.is_multiple_of(4) {
                recent = recent.drop_last();
                model = [model[1], None];
            } else {
                let end = (r >> 8) as usize % (MAX_OUTPUT + 1);
                let mask = MASKS[(r >> 24) as usize % MASKS.len()];
                recent = recent.push(end, mask);
                model = [Some((end, mask)), model[0]];
            }
            for (i, slot) in model.iter().enumerate() {
                let (end, mask) = recent.get(i as u32);
                match slot {
                    Some((e, m)) => assert_eq!((end, mask), (*e, *m as u64)),
                    None => {
                        assert!(end > MAX_OUTPUT);
                        assert!(MASKS.iter().all(|&m| m as u64 != mask));
                    }
                }
            }
        }
    }

    /// [`ipv4_end`] finds what the group rule it replaced finds: random
    /// texts of digits, dots and word bytes from every digit, and named
    /// addresses and near misses.
    #[test]
    fn ipv4_end_matches_the_group_rule() {
        // Mostly digits and dots, so that four-group shapes are common;
        // `a` and `_` are word bytes, `:` and ` ` are not.
        const ALPHABET: &[u8] = b"0125899..._a: ";
        let mut next = crate::test_rng::xorshift(0x1b4e_0c7a_55d2_0003);
        let mut text = Vec::new();
        let mut addresses = 0;
        for _ in 0..200_000 {
            let len = (next() % 20) as usize;
            draw(&mut next, ALPHABET, len, &mut text);
            for at in 0..len {
                if !is(&text, at, DIGIT) {
                    continue;
                }
                let expected = ipv4_end_by_groups(&text, at);
                addresses += usize::from(expected.is_some());
                assert_eq!(ipv4_end(&text, at), expected, "{text:?} {at}");
            }
        }
        // The shapes that matter were drawn: addresses, and near misses.
        assert!(addresses > 1_000, "{addresses}");
        for (text, end) in [
            (&b"10.0.0.1:80"[..], Some(8)),
            (b"255.255.255.255.", Some(15)),
            (b"256.1.1.1", None),
            (b"1.2.3.4.5", None),
            (b"1.2.3.4a", None),
            (b"1.2.3.4_", None),
            (b"1.2.3", None),
            (b"1.2.3.1000", None),
            (b"0001.2.3.4", None),
        ] {
            assert_eq!(ipv4_end(text, 0), end, "{text:?}");
            assert_eq!(ipv4_end_by_groups(text, 0), end, "{text:?}");
        }
    }

    /// `value_end` finds what the byte loop it replaced finds: every byte
    /// value after 0 to 17 value bytes (at every place in a word), and random texts dense with stops
    /// and escapes (`\u` near the end included), from every start.
    #[test]
    fn value_end_matches_the_byte_loop() {
        let mut text = Vec::new();
        for len in 0..=17usize {
            for stop in 0..=255u8 {
                for after in [b'u', b'\\', b'/', b'n', b'a', b' '] {
                    text.clear();
                    text.extend_from_slice(&b"a/1.b-_:%+=#~(x9Z"[..len]);
                    text.extend_from_slice(&[stop, after, b'x']);
                    text.extend_from_slice(b"yz,12345");
                    assert_eq!(value_end(&text, 0), value_end_by_byte(&text, 0), "{text:?}");
                }
            }
        }
        const ALPHABET: &[u8] = b"ab1/._-:=\\u \t,;&)]}>\"'|\x7f\x00\xc3";
        let mut next = crate::test_rng::xorshift(0x7a1e_e4d0_0b5e_0001);
        for _ in 0..20_000 {
            let len = (next() % 24) as usize;
            draw(&mut next, ALPHABET, len, &mut text);
            for at in 0..=len {
                assert_eq!(
                    value_end(&text, at),
                    value_end_by_byte(&text, at),
                    "{text:?} {at}"
                );
            }
        }
    }

    /// [`digit_run`] stops at exactly the first byte that is not a digit:
    /// every such byte, after none to nine digits, with every byte after it
    /// (the word test's carries must not move the stop).
    #[test]
    fn digit_run_stops_at_every_other_byte() {
        let mut text = Vec::new();
        for digits in 0..=9usize {
            for stop in (0..=255u8).filter(|b| !b.is_ascii_digit()) {
                for after in 0..=255u8 {
                    text.clear();
                    text.extend_from_slice(&b"1234567890"[..digits]);
                    text.extend_from_slice(&[stop, after]);
                    text.extend_from_slice(b"12345678");
                    assert_eq!(digit_run(&text, 0), digits, "{text:?}");
                }
            }
        }
    }

    /// [`is_special`] as it was first written: byte compares.
    fn is_special_naive(b: u8, previous: u8) -> bool {
        matches!(b, b'0'..=b'9' | b'\'' | b'\\' | b'=') || (b == b' ' && previous == b' ')
    }

    /// The table look-up of [`is_special`] agrees with byte compares on
    /// every byte after every byte.
    #[test]
    fn is_special_matches_byte_compares() {
        for b in 0..=255u8 {
            for previous in 0..=255u8 {
                assert_eq!(
                    is_special(b, previous),
                    is_special_naive(b, previous),
                    "{b:#x} after {previous:#x}"
                );
            }
        }
    }

    /// The error-code pre-check as it was first written: byte by byte.
    fn may_follow_key_naive(text: &[u8], value: usize) -> bool {
        let mut at = value;
        let mut steps = 0;
        while steps < 5 && at > 0 && matches!(byte(text, at - 1), b' ' | b':' | b'=' | b'#') {
            at -= 1;
            steps += 1;
        }
        if steps == 0 || at < 2 {
            return false;
        }
        let pair = [byte(text, at - 2) | 0x20, byte(text, at - 1) | 0x20];
        matches!(&pair, b"rr" | b"or" | b"no" | b"de" | b"us")
    }

    /// [`may_follow_key`] turns away no value that [`key_before`] finds a
    /// key for: random keys (one word or two), near misses and separator
    /// runs, any case, after random text, at every position.
    #[test]
    fn may_follow_key_passes_every_key() {
        const FIRST: &[&str] = &["", "error ", "exit ", "return ", "for ", "x "];
        const KEYS: &[&str] = &[
            "err",
            "error",
            "errno",
            "code",
            "errcode",
            "err_code",
            "error_code",
            "errorcode",
            "exit_code",
            "exitcode",
            "status",
            "exit",
            "return",
            "for",
            "terror",
            "codes",
            "x",
        ];
        const SEPARATORS: &[&str] = &["", " ", "  ", ":", "=", "#", " : ", "  =  ", " # "];
        const VALUES: &[&str] = &["12", "-3", "0x1f", "ENOENT", "x"];
        let mut next = crate::test_rng::xorshift(0x6b0d_e11a_4f00_0006);
        let mut pick = |parts: &[&'static str]| parts[(next() % parts.len() as u64) as usize];
        let (mut text, mut keys) = (Vec::new(), 0);
        for _ in 0..50_000 {
            text.clear();
            let key = [
                pick(&["", "a", "1 "]),
                pick(FIRST),
                pick(KEYS),
                pick(SEPARATORS),
            ];
            let upper = pick(&["", "", "u"]) == "u";
            for part in key {
                text.extend(
                    part.bytes()
                        .map(|b| if upper { b.to_ascii_uppercase() } else { b }),
                );
            }
            text.extend_from_slice(pick(VALUES).as_bytes());
            for value in 0..=text.len() {
                if key_before(&text, value).is_some() {
                    keys += 1;
                    assert!(may_follow_key(&text, value), "{text:?} at {value}");
                }
            }
        }
        assert!(keys > 1_000, "{keys}");
    }

    /// [`may_follow_key`]'s table look-ups accept exactly what the byte
    /// tests accept: every pair of bytes before every run of separators
    /// (none to six), and random text from every position.
    #[test]
    fn may_follow_key_matches_byte_tests() {
        for run in ["", " ", ":", "=", "#", " : ", "  =  ", ":: ##", "      "] {
            for a in 0..=255u8 {
                for b in 0..=255u8 {
                    let mut text = vec![a, b];
                    text.extend_from_slice(run.as_bytes());
                    text.push(b'7');
                    let value = text.len() - 1;
                    for start in 0..=2 {
                        let text = &text[start..];
                        let value = value - start;
                        assert_eq!(
                            may_follow_key(text, value),
                            may_follow_key_naive(text, value),
                            "{text:?}"
                        );
                    }
                }
            }
        }
        let alphabet = b"eErRnNoOdDsStTiIuUcCx_ :=#0\x80";
        let mut next = crate::test_rng::xorshift(0x5851_f42d_4c95_7f2d);
        for _ in 0..20_000 {
            let state = next();
            let len = (state % 12) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| {
                    alphabet[(state.rotate_left(5 * i as u32) % alphabet.len() as u64) as usize]
                })
                .collect();
            for value in 0..=len + 1 {
                assert_eq!(
                    may_follow_key(&text, value),
                    may_follow_key_naive(&text, value),
                    "{text:?} at {value}"
                );
            }
        }
    }

    /// Nine bytes drawn from an alphabet rich in the pass's special bytes
    /// and near misses, and the two words [`loose`] reads from them: `x`
    /// the last eight, `y` the same shifted by one (each byte's previous).
    fn random_window(next: &mut impl FnMut() -> u64) -> ([u8; 9], u64, u64) {
        let alphabet = b"aZ_09 =':;<>?\\\"-.x\x80\xb0\xbc\xe9\xff\t!";
        let r = next();
        let bytes: [u8; 9] =
            std::array::from_fn(|i| alphabet[((r >> (6 * i)) % alphabet.len() as u64) as usize]);
        let y = u64::from_le_bytes(bytes[..8].try_into().unwrap());
        let x = u64::from_le_bytes(bytes[1..].try_into().unwrap());
        (bytes, x, y)
    }

    /// [`loose`] flags every special byte of a word, non-ASCII bytes
    /// around or not, and [`exact`]'s lowest flag is the first special
    /// byte, as a byte-by-byte test says.
    #[test]
    fn loose_flags_every_special_byte_and_exact_the_first() {
        let mut next = crate::test_rng::xorshift(0x0123_4567_89ab_cdef);
        for _ in 0..100_000 {
            let (bytes, x, y) = random_window(&mut next);
            let (marks, doubled) = loose(x, y);
            let first = (0..8).find(|&i| is_special_naive(bytes[i + 1], bytes[i]));
            for i in 0..8 {
                if is_special_naive(bytes[i + 1], bytes[i]) {
                    assert_ne!((marks | doubled) >> (8 * i) & 0x80, 0, "{bytes:?} at {i}");
                }
            }
            let flags = exact(x, y, (marks, doubled));
            let lowest = (flags != 0).then(|| flags.trailing_zeros() as usize / 8);
            let exact_first = first_special(x, y, flags).map(|(i, _)| i);
            assert_eq!(exact_first, first, "{bytes:?}");
            if let Some(first) = first {
                assert!(lowest.is_some_and(|l| l <= first), "{bytes:?}");
            }
        }
    }

    /// [`first_special`] on all of [`loose`]'s flags, false ones (borrows,
    /// non-ASCII bytes, `:` `;` `<` `>` `?`) included, finds the first
    /// special byte, as the pass uses it.
    #[test]
    fn first_special_confirms_every_loose_flag() {
        let mut next = crate::test_rng::xorshift(0x5851_f42d_4c95_7f2d);
        for _ in 0..100_000 {
            let (bytes, x, y) = random_window(&mut next);
            let (marks, doubled) = loose(x, y);
            let first = (0..8)
                .find(|&i| is_special_naive(bytes[i + 1], bytes[i]))
                .map(|i| (i, bytes[i + 1]));
            assert_eq!(
                first_special(x, y, (marks | doubled) & HIGH),
                first,
                "{bytes:?}"
            );
        }
    }

    #[test]
    fn xxh64_test_vectors() {
        // From xxHash's reference implementation.
        assert_eq!(xxh64(b"", 0), 0xef46_db37_51d8_e999);
        assert_eq!(xxh64(b"a", 0), 0xd24e_c4f1_a98c_6e5b);
        assert_eq!(xxh64(b"abc", 0), 0x44bc_2cf5_ad77_0999);
        assert_eq!(
            xxh64(b"Nobody inspects the spammish repetition", 0),
            0xfbce_a83c_8a37_8bf1
        );
        // Longer than one 32-byte stripe.
        assert_eq!(xxh64(&[b'x'; 100], 0), 0x92f0_de5a_88a3_c094);
    }

    #[test]
    fn id_is_the_hash_of_the_text() {
        let mut template = Template::new();
        template.build(b"Connection to 10.0.0.7:5432 lost after 30s");
        assert_eq!(
            template.text(),
            b"Connection to <IP>:<NUM> lost after <DURATION>"
        );
        assert_eq!(template.id(), xxh64(template.text(), 0));
        let first = template.id();
        template.build(b"Connection to 10.0.0.9:5432 lost after 2m10s");
        assert_eq!(template.id(), first);
        assert_eq!(&template.id_hex(), format!("{first:016x}").as_bytes());
        template.build(b"");
        assert_eq!(template.id(), EMPTY_ID);
        assert_eq!(&id_hex(0x0123_4567_89ab_cdef), b"0123456789abcdef");
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..10_000 {
            let x = next();
            assert_eq!(&id_hex(x), format!("{x:016x}").as_bytes());
        }
        for x in [0, u64::MAX, 0xa0a0_a0a0_a0a0_a0a0, 0x0909_0909_9090_9090] {
            assert_eq!(&id_hex(x), format!("{x:016x}").as_bytes());
        }
    }

    #[test]
    fn long_messages_are_cut_at_a_space() {
        let mut long = "word ".repeat(300);
        long.push_str("tail");
        let (template, _) = build(&long);
        assert!(template.len() <= MAX_INPUT);
        assert!(template.ends_with("word"));
        // A cut never splits an escape.
        let mut escapes = "x".repeat(MAX_INPUT - 3);
        escapes.push_str("\\u00e9\\u00e9");
        let (template, _) = build(&escapes);
        assert_eq!(template.len(), MAX_INPUT - 3);
    }

    /// The template of JSON string content is JSON string content, and the
    /// buffer never grows past its first allocation.
    #[test]
    fn random_messages_keep_escapes_whole() {
        let pieces: &[&str] = &[
            "a", "Z", " ", "  ", "0", "12", "-", "_", ".", ":", "/", "=", ",", "'", "\\\"", "\\\\",
            "\\n", "\\t", "\\u00e9", "0x", "ff", "Jul", "Sun", "ms", "KB", "[", "]", "::", "blk_",
        ];
        let mut template = Template::new();
        let capacity = template.text.capacity();
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..20_000 {
            let mut message = String::new();
            let state = next();
            let count = (state % 40) as usize;
            for i in 0..count {
                let r = state.rotate_left(7 * i as u32) ^ (i as u64).wrapping_mul(0x9e37_79b9);
                message.push_str(pieces[(r % pieces.len() as u64) as usize]);
            }
            let code = template.build(message.as_bytes());
            if let Some(code) = code {
                let start = code.as_ptr() as usize - message.as_ptr() as usize;
                assert!(start + code.len() <= message.len());
            }
            let quoted = format!("\"{}\"", std::str::from_utf8(template.text()).unwrap());
            assert!(
                serde_json::from_str::<String>(&quoted).is_ok(),
                "{message:?} -> {quoted}"
            );
            assert!(!template.text().starts_with(b" ") && !template.text().ends_with(b" "));
            assert_eq!(template.text.capacity(), capacity, "{message:?}");
            // Building again gives the same template.
            let first = template.text().to_vec();
            template.build(message.as_bytes());
            assert_eq!(template.text(), &first[..]);
        }
    }

    /// Work is linear: a message made of one repeated piece costs no more
    /// per byte when it is long than when it is short (counted in bytes
    /// looked at, through the output size and time as a proxy).
    #[test]
    fn adversarial_inputs_are_linear() {
        let pieces = [
            "'a ",
            "\\\"a ",
            "a=",
            "1.",
            "1:",
            "::",
            "_-1",
            "a-",
            "Jul 1 ",
            "12/12/",
            "a1::",
            "0x",
            "1-",
            "10.0.0.",
            "Sun ",
            "  ",
            "\\t",
            "abcd1234-",
            "1:aaaaaaaaaaaaaaaa",
        ];
        for piece in pieces {
            let message = piece.repeat(MAX_INPUT / piece.len());
            let start = std::time::Instant::now();
            let mut template = Template::new();
            for _ in 0..100 {
                template.build(message.as_bytes());
            }
            assert!(start.elapsed().as_millis() < 2_000, "{piece}");
        }
    }

    /// [`plain_number`] as it was before its comparison chains became
    /// table bits: the reference the table is tested against.
    fn plain_number_reference(text: &[u8], start: usize, floor: usize) -> Option<Token> {
        let end = digit_run(text, start);
        let next = byte(text, end);
        let prev = if start > floor {
            byte(text, start - 1)
        } else {
            b'x'
        };
        if class(next) & WORD != 0
            || matches!(next, b'.' | b':' | b'-' | b'/')
            || matches!(prev, b'-' | b'+' | b':')
            || (end - start <= 2
                && ((byte(text, start.wrapping_sub(1)) == b' '
                    && letter_before_spaces(text, start))
                    || (matches!(next, b' ' | b'-' | b'/')
                        && byte(text, end + 1).is_ascii_uppercase())))
            || (next == b' '
                && matches!(
                    byte(text, end + 1),
                    b'B' | b'k' | b'K' | b'M' | b'G' | b'T' | b'P'
                ))
        {
            return None;
        }
        Some(Token {
            from: start,
            end,
            mask: Mask::Num,
            suffix: end,
        })
    }

    /// A token's fields, to compare two.
    fn parts(token: Option<Token>) -> Option<(usize, usize, Mask, usize)> {
        token.map(|t| (t.from, t.end, t.mask, t.suffix))
    }

    /// [`is_duration`], given where the leading digits end, agrees with
    /// reading the pairs from the word's start.
    #[test]
    fn is_duration_matches_reading_from_the_start() {
        const ALPHABET: &[u8] = b"0129nusmhdx_";
        let mut next = crate::test_rng::xorshift(0x3d2c_9e01_77aa_0005);
        let mut text = Vec::new();
        let mut durations = 0;
        for _ in 0..100_000 {
            let len = 1 + (next() % 12) as usize;
            draw(&mut next, ALPHABET, len, &mut text);
            text.push(b' ');
            for start in 0..len {
                let digits = span_of(&text, start, DIGIT);
                if digits == start {
                    continue;
                }
                for end in digits + 1..=len {
                    let expected = is_duration_from_start(&text, start, end);
                    durations += usize::from(expected);
                    assert_eq!(
                        is_duration(&text, end, digits),
                        expected,
                        "{text:?} {start} {end}"
                    );
                }
            }
        }
        assert!(durations > 1_000, "{durations}");
    }

    /// [`classify`] told where a word's leading digits end gives the
    /// token it finds by itself.
    #[test]
    fn classify_with_known_digits_matches() {
        const ALPHABET: &[u8] = b"0123456789abcdefxX_-.:/ msKBZT'";
        let mut next = crate::test_rng::xorshift(0x2c1a_55f1_0e77_0004);
        let mut text = Vec::new();
        for _ in 0..100_000 {
            let len = 1 + (next() % 40) as usize;
            draw(&mut next, ALPHABET, len, &mut text);
            for start in 0..len {
                if !is(&text, start, DIGIT) || (start > 0 && is(&text, start - 1, WORD)) {
                    continue;
                }
                for floor in [0, start] {
                    let known = classify(&text, start, floor, Some(digit_run(&text, start)));
                    let found = classify(&text, start, floor, None);
                    assert_eq!(parts(Some(known)), parts(Some(found)), "{text:?} {start}");
                }
            }
        }
    }

    /// [`plain_number`] agrees with the comparison chains it replaced for
    /// every byte before the digits, every byte after them, every byte
    /// after that, one to three digits (short runs take other checks), and
    /// with the digits at the floor or past it.
    #[test]
    fn plain_number_matches_reference() {
        let mut text = Vec::new();
        for digits in 1..=3usize {
            for before in 0..=255u8 {
                for after in 0..=255u8 {
                    for then in [b' ', b'A', b'B', b'k', b'a', b'x', b'1', b'-', 0x80, 0] {
                        text.clear();
                        text.extend_from_slice(b"Jul ");
                        text.push(before);
                        text.extend(std::iter::repeat_n(b'7', digits));
                        text.push(after);
                        text.push(then);
                        for floor in [0, 4, 5] {
                            let prev = if floor < 5 { text[4] } else { 0 };
                            assert_eq!(
                                parts(plain_number(&text, 5, prev)),
                                parts(plain_number_reference(&text, 5, floor)),
                                "{text:?} {floor}"
                            );
                        }
                    }
                }
            }
        }
        for before in 0..=255u8 {
            for then in 0..=255u8 {
                for gap in [&b""[..], b" ", b"  ", b"   "] {
                    text.clear();
                    text.extend_from_slice(b"xJu");
                    text.push(before);
                    text.extend_from_slice(gap);
                    let start = text.len();
                    text.extend_from_slice(b"12 ");
                    text.push(then);
                    for floor in [0, start] {
                        let prev = if floor < start { text[start - 1] } else { 0 };
                        assert_eq!(
                            parts(plain_number(&text, start, prev)),
                            parts(plain_number_reference(&text, start, floor)),
                            "{text:?} {floor}"
                        );
                    }
                }
            }
        }
    }
}
