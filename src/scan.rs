//! Scanning helpers shared by the format parsers: word-at-a-time byte
//! search, token tests, number and address parsing over escaped text.
//!
//! The parsers run inside fluent-bit's wasm interpreter, where every
//! executed instruction costs about the same: a loop that looks at one byte
//! per iteration costs ten to twenty instructions per byte. The searches
//! here look at eight bytes per step instead (SWAR: "SIMD within a
//! register", as memchr's portable fallback does; WAMR has no SIMD): a
//! `u64` is loaded, XORed with the needle repeated in every byte, and the
//! bytes that became zero are found with the "has zero byte" identities:
//!
//! - the classic `(x - 0x01..) & !x & 0x80..` is non-zero exactly when some
//!   byte is zero, and is cheap: it decides whether a word needs a closer
//!   look;
//! - the exact `!(((x & 0x7f..) + 0x7f..) | x | 0x7f..)` sets the high bit
//!   of a byte if and only if that byte is zero (no false positives from
//!   borrows), so its lowest set bit is the first match and its highest the
//!   last.
//!
//! Range searches (`*_in`) take the whole text and a range in it, and read
//! whole words from the text even past the range's end (those bytes are
//! masked out): a short range costs one or two word steps, and only the
//! last seven bytes of the text are ever read one at a time. Short values
//! (numbers, addresses) are copied into a padded word and checked at once.
//!
//! Invariants: every function is pure and safe (no `unsafe`, no indexing
//! that can panic); a returned position is always inside the range asked
//! for; each byte of the range is loaded a bounded number of times.
//!
//! Escaped text: the parsers work on JSON string content with its escapes
//! intact. A space, a quote (`"`, always the second byte of a `\"` escape),
//! `[`, `]`, `,`, `.` and `:` never occur inside a multi-byte escape, and
//! digits do only inside `\uXXXX`, whose backslash fails every digit test:
//! cutting the text just before or after one of those bytes keeps every
//! escape whole.

const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The byte `b` repeated in all eight bytes of a word.
#[inline(always)]
const fn splat(b: u8) -> u64 {
    ONES * b as u64
}

/// `0x80` in each byte of `x` that is zero, `0x00` in every other byte.
#[inline(always)]
const fn zero_bytes(x: u64) -> u64 {
    !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
}

/// `0x80` in each byte of `word` equal to `b`.
#[inline(always)]
const fn eq_bytes(word: u64, b: u8) -> u64 {
    zero_bytes(word ^ splat(b))
}

/// The index of the byte flagged by the lowest set bit of a mask.
#[inline(always)]
fn first_flag(mask: u64) -> usize {
    (mask.trailing_zeros() / 8) as usize
}

/// The index of the byte flagged by the highest set bit of a mask.
#[inline(always)]
fn last_flag(mask: u64) -> usize {
    7 - (mask.leading_zeros() / 8) as usize
}

/// The position of the first byte different from `skip`.
pub fn find_not_byte(haystack: &[u8], skip: u8) -> Option<usize> {
    let (words, tail) = haystack.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        let differs = !eq_bytes(u64::from_le_bytes(*word), skip) & !LOW7;
        if differs != 0 {
            return Some(i * 8 + first_flag(differs));
        }
    }
    let base = words.len() * 8;
    tail.iter().position(|&b| b != skip).map(|p| base + p)
}

/// The position of the last byte different from `skip`.
pub fn rfind_not_byte(haystack: &[u8], skip: u8) -> Option<usize> {
    let (head, words) = haystack.as_rchunks::<8>();
    for (i, word) in words.iter().enumerate().rev() {
        let differs = !eq_bytes(u64::from_le_bytes(*word), skip) & !LOW7;
        if differs != 0 {
            return Some(head.len() + i * 8 + last_flag(differs));
        }
    }
    head.iter().rposition(|&b| b != skip)
}

/// `0x80` in each of the first `n` bytes of a word (`n < 8`).
#[inline(always)]
fn first_bytes(n: usize) -> u64 {
    HIGH & ((1u64 << (8 * n)) - 1)
}

/// The word of `text` starting at `at`, if eight bytes are there.
#[inline(always)]
fn word_at(text: &[u8], at: usize) -> Option<u64> {
    let bytes: &[u8; 8] = text.get(at..)?.first_chunk()?;
    Some(u64::from_le_bytes(*bytes))
}

/// The first eight bytes of `text` (all of it when shorter, zero-padded)
/// as a little-endian word, read with at most two overlapping loads
/// instead of a byte loop.
#[inline(always)]
pub fn head_word(text: &[u8]) -> u64 {
    let n = text.len();
    if let Some(eight) = text.first_chunk::<8>() {
        return u64::from_le_bytes(*eight);
    }
    if n >= 4 {
        let four =
            |b: Option<&[u8; 4]>| u64::from(u32::from_le_bytes(b.copied().unwrap_or_default()));
        // The two halves overlap for fewer than eight bytes: the bytes they
        // share land at the same place in both.
        return four(text.first_chunk()) | four(text.last_chunk()) << (8 * (n - 4));
    }
    let at = |i: usize| u64::from(text.get(i).copied().unwrap_or(0)) << (8 * i);
    match n {
        0 => 0,
        // `n / 2` and `n - 1` name the middle and last bytes of 1 to 3.
        _ => at(0) | at(n / 2) | at(n - 1),
    }
}

/// Whether `a` and `b` are the same bytes, for a comparison made once per
/// record (a record's key against the configured one): slice equality
/// calls `memcmp`, about fifty instructions for a three-byte key; up to
/// sixteen bytes take two overlapping loads from each side here. Not for
/// loops over many names, where the larger inlined body costs more than
/// it saves.
#[inline(always)]
pub fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        0 => true,
        1..=3 => a.first() == b.first() && a.get(n / 2) == b.get(n / 2) && a.last() == b.last(),
        4..=8 => {
            let word = |s: &[u8]| match (s.first_chunk::<4>(), s.last_chunk::<4>()) {
                (Some(h), Some(t)) => (u32::from_le_bytes(*h), u32::from_le_bytes(*t)),
                _ => (0, 0),
            };
            word(a) == word(b)
        }
        9..=16 => {
            let word = |s: &[u8]| match (s.first_chunk::<8>(), s.last_chunk::<8>()) {
                (Some(h), Some(t)) => (u64::from_le_bytes(*h), u64::from_le_bytes(*t)),
                _ => (0, 0),
            };
            word(a) == word(b)
        }
        _ => a == b,
    }
}

/// The position of the first byte equal to `needle` in `text[from..to]`
/// (`to` is clamped to the text). Reads whole words from `text`, beyond
/// `to` when they are there (those bytes are masked out), so a short range
/// costs one or two word steps instead of a byte loop over its end; only
/// the last seven bytes of `text` are ever read one at a time.
#[inline(always)]
pub fn find_in(text: &[u8], from: usize, to: usize, needle: u8) -> Option<usize> {
    let to = to.min(text.len());
    let mut at = from;
    while at < to {
        let Some(word) = word_at(text, at) else {
            let rest = text.get(at..to)?;
            return rest.iter().position(|&b| b == needle).map(|p| at + p);
        };
        let mut mask = eq_bytes(word, needle);
        if to - at < 8 {
            mask &= first_bytes(to - at);
        }
        if mask != 0 {
            return Some(at + first_flag(mask));
        }
        at += 8;
    }
    None
}

/// The position of the last byte equal to `needle` in `text[from..to]`,
/// reading whole words as [`find_in`] does (backwards, masking bytes before
/// `from`).
#[inline(always)]
pub fn rfind_in(text: &[u8], from: usize, to: usize, needle: u8) -> Option<usize> {
    let mut end = to.min(text.len());
    if end <= from {
        return None;
    }
    let pattern = splat(needle);
    // Whole words of the range, from its end: one test each.
    while end - from >= 8 {
        let at = end - 8;
        let mask = zero_bytes(word_at(text, at)? ^ pattern);
        if mask != 0 {
            return Some(at + last_flag(mask));
        }
        end = at;
    }
    if end == from {
        return None;
    }
    // One to seven bytes left: the word that ends with them, the bytes
    // before `from` masked out, or one at a time at the text's start.
    match end.checked_sub(8).and_then(|at| word_at(text, at)) {
        Some(word) => {
            let mask = zero_bytes(word ^ pattern) & !first_bytes(8 - (end - from));
            (mask != 0).then(|| end - 8 + last_flag(mask))
        }
        None => {
            let rest = text.get(from..end)?;
            rest.iter().rposition(|&b| b == needle).map(|p| from + p)
        }
    }
}

/// Calls `f` with the position of every byte equal to `needle` in
/// `text[from..to]`, in increasing order, until `f` returns `false`.
///
/// Two words per step, and no byte loop at the end: the last few bytes are
/// read as the word that ends at `to` (when `text` has eight bytes before
/// it), with the bytes already seen masked out. The loop's state stays in
/// locals, which the interpreter handles more cheaply than an iterator's
/// fields.
#[inline(always)]
pub fn each_in(text: &[u8], from: usize, to: usize, needle: u8, mut f: impl FnMut(usize) -> bool) {
    let to = to.min(text.len());
    let Some(range) = text.get(from..to) else {
        return;
    };
    let pattern = splat(needle);
    // Calls `f` for each match flagged in `mask`, the word at `base`.
    let mut visit = |base: usize, mut mask: u64| -> bool {
        while mask != 0 {
            if !f(base + first_flag(mask)) {
                return false;
            }
            mask &= mask - 1;
        }
        true
    };
    let (words, rest) = range.as_chunks::<8>();
    let (pairs, single) = words.as_chunks::<2>();
    let mut at = from;
    for [a, b] in pairs {
        let (x, y) = (
            u64::from_le_bytes(*a) ^ pattern,
            u64::from_le_bytes(*b) ^ pattern,
        );
        // The classic test is exact as a yes/no answer and cheaper; the
        // exact masks are only computed when there is a match.
        if (x.wrapping_sub(ONES) & !x | y.wrapping_sub(ONES) & !y) & HIGH != 0
            && !(visit(at, zero_bytes(x)) && visit(at + 8, zero_bytes(y)))
        {
            return;
        }
        at += 16;
    }
    for word in single {
        if !visit(at, eq_bytes(u64::from_le_bytes(*word), needle)) {
            return;
        }
        at += 8;
    }
    if rest.is_empty() {
        return;
    }
    // The word ending at `to`, minus the bytes before `at`.
    match to.checked_sub(8).and_then(|start| word_at(text, start)) {
        Some(word) => {
            let seen = 8 - rest.len();
            let _ = visit(to - 8, eq_bytes(word, needle) & !first_bytes(seen));
        }
        None => {
            for (i, &b) in rest.iter().enumerate() {
                if b == needle && !f(at + i) {
                    return;
                }
            }
        }
    }
}

/// The positions of the spaces in `text[from..to]`, written into `out` in
/// increasing order, and how many there are; `None` if two of them are
/// adjacent (an empty token) or there are more than `out` holds. Words are
/// read as in [`find_in`]: a run of space-separated tokens is checked and
/// cut in one pass.
pub fn single_spaces(text: &[u8], from: usize, to: usize, out: &mut [usize]) -> Option<usize> {
    let to = to.min(text.len());
    let mut at = from;
    let mut count = 0usize;
    // The previous space (when `count > 0`), to reject two in a row.
    let mut previous = 0usize;
    while at < to {
        let mut mask = match word_at(text, at) {
            Some(word) => eq_bytes(word, b' '),
            // Fewer than eight bytes left in `text`: one at a time.
            None => text
                .get(at..to)
                .unwrap_or_default()
                .iter()
                .enumerate()
                .filter(|&(_, &b)| b == b' ')
                .fold(0, |mask, (i, _)| mask | 0x80 << (8 * i)),
        };
        if to - at < 8 {
            mask &= first_bytes(to - at);
        }
        while mask != 0 {
            let position = at + first_flag(mask);
            if count > 0 && position == previous + 1 {
                return None;
            }
            *out.get_mut(count)? = position;
            previous = position;
            count += 1;
            mask &= mask - 1;
        }
        at += 8;
    }
    Some(count)
}

// ---------------------------------------------------------------------------
// Token tests and number parsing. Tokens are short (a status code, a byte
// count), so these go a byte at a time.
// ---------------------------------------------------------------------------

/// Why a token is not a number of the schema's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberError {
    /// The token is empty.
    Empty,
    /// A byte is not an ASCII digit (a sign, a dot, a letter).
    NotDigits,
    /// The value does not fit in an `i64`.
    Overflow,
}

impl std::fmt::Display for NumberError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NumberError::Empty => "empty number",
            NumberError::NotDigits => "not a non-negative integer",
            NumberError::Overflow => "integer larger than 2^63-1",
        })
    }
}

/// Parses a non-negative decimal integer made only of ASCII digits (leading
/// zeros allowed, no sign) that fits in an `i64`.
pub fn parse_count(token: &[u8]) -> Result<i64, NumberError> {
    if token.is_empty() {
        return Err(NumberError::Empty);
    }
    if token.len() <= 8 {
        return parse_short(token).ok_or(NumberError::NotDigits);
    }
    // Up to 18 digits cannot overflow an i64: no checked arithmetic needed.
    // A token that is not all digits is `NotDigits` even if it overflowed
    // first.
    let checked = token.len() > 18;
    let mut value = Some(0i64);
    for &b in token {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return Err(NumberError::NotDigits);
        }
        value = match value {
            Some(v) if checked => v
                .checked_mul(10)
                .and_then(|v| v.checked_add(i64::from(digit))),
            Some(v) => Some(v * 10 + i64::from(digit)),
            None => None,
        };
    }
    value.ok_or(NumberError::Overflow)
}

/// The value of one to eight ASCII digits, computed a word at a time: the
/// digits are right-aligned in a word padded with `0`s.
fn parse_short(token: &[u8]) -> Option<i64> {
    let mut buf = [b'0'; 8];
    buf.get_mut(8usize.checked_sub(token.len())?..)?
        .copy_from_slice(token);
    parse_digits_word(u64::from_le_bytes(buf))
}

/// The value of the eight ASCII digits of `word` (byte 0, the first in
/// memory, most significant), or `None` if a byte is not a digit: checked
/// at once, then combined pairwise (tens and units, hundreds, ten
/// thousands).
fn parse_digits_word(word: u64) -> Option<i64> {
    if digit_bytes(word) != HIGH {
        return None;
    }
    i64::try_from(digits_value(word)).ok()
}

/// Whether `token` is a count already written the way JSON writes its
/// value: one to eighteen ASCII digits, no leading zero (`0` alone is
/// fine). Such a token is copied to the output as it is, without a round
/// trip through [`parse_count`]. Up to eight digits are checked at once.
#[inline(always)]
pub fn is_canonical_count(token: &[u8]) -> bool {
    match token {
        [] | [b'0', _, ..] => false,
        _ if token.len() <= 8 => {
            let mut buf = [b'0'; 8];
            match buf.get_mut(..token.len()) {
                Some(dst) => dst.copy_from_slice(token),
                None => return false,
            }
            digit_bytes(u64::from_le_bytes(buf)) == HIGH
        }
        _ => token.len() <= 18 && token.iter().all(u8::is_ascii_digit),
    }
}

/// Whether every byte is an ASCII digit and there is at least one.
pub fn is_digits(token: &[u8]) -> bool {
    !token.is_empty() && token.iter().all(u8::is_ascii_digit)
}

/// Whether `token` is a non-negative number in JSON's grammar without an
/// exponent: `0` or a digit string not starting with `0`, optionally
/// followed by `.` and one or more digits (`0.005`, `12`, `1.5`). Such a
/// token can be written into JSON as a number as it is.
pub fn is_json_decimal(token: &[u8]) -> bool {
    let int_len = token.iter().take_while(|b| b.is_ascii_digit()).count();
    let Some((int, rest)) = token.split_at_checked(int_len) else {
        return false;
    };
    // `0` alone, or digits not starting with `0`.
    let int_ok = !matches!(int, [] | [b'0', _, ..]);
    int_ok
        && match rest {
            [] => true,
            [b'.', frac @ ..] => is_digits(frac),
            _ => false,
        }
}

/// `0x80` in each byte of `word` that is an ASCII digit.
#[inline(always)]
pub(crate) const fn digit_bytes(word: u64) -> u64 {
    // For an ASCII byte b, b + 0x50 has its high bit set iff b >= '0', and
    // b + 0x46 iff b > '9'; neither sum carries into the next byte.
    let ascii = !word & HIGH;
    let low = word & LOW7;
    let at_least_0 = low.wrapping_add(splat(0x50)) & HIGH;
    let above_9 = low.wrapping_add(splat(0x46)) & HIGH;
    at_least_0 & !above_9 & ascii
}

/// Splits `ip:port` (IPv4, e.g. `10.0.0.1:80`) or `[ip]:port` (IPv6, e.g.
/// `[::1]:80`, as Envoy and nginx write them) into the address without
/// brackets and the port. `None` for anything else (`-`, a Unix socket
/// path, `envoy://internal`, a name, a port above 65535).
///
/// An IPv4 address is checked for its shape: digits and exactly three
/// non-adjacent dots, starting and ending with a digit (the length of each
/// part is not checked: neither Envoy nor nginx write `1234.1.1.1`). The
/// check runs a word at a time on the text itself: the port is the end of
/// the last eight bytes, the host is covered by the first eight and the
/// eight that end it. IPv6 is checked a byte at a time.
pub fn split_ip_port(addr: &[u8]) -> Option<(&[u8], i64)> {
    split_ip_port_text(addr).map(|(ip, port)| (ip, port.value))
}

/// A port as [`split_ip_port_text`] found it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port<'a> {
    /// Its value, at most 65535.
    pub value: i64,
    /// Its digits as written, when they are how JSON writes the value (no
    /// leading zero), so they can be copied as they are.
    pub canonical: Option<&'a [u8]>,
}

/// [`split_ip_port`], with the port's digits as written.
#[inline(always)]
pub fn split_ip_port_text(addr: &[u8]) -> Option<(&[u8], Port<'_>)> {
    match addr.first()? {
        b'[' => split_ipv6_port(addr).map(|(ip, value)| {
            let port = Port {
                value,
                canonical: None,
            };
            (ip, port)
        }),
        b'0'..=b'9' => split_ipv4_port(addr),
        _ => None,
    }
}

/// `a.b.c.d:port`, from 9 (`1.1.1.1:1`) to 21 bytes.
#[inline(always)]
fn split_ipv4_port(addr: &[u8]) -> Option<(&[u8], Port<'_>)> {
    let len = addr.len();
    if !(9..=21).contains(&len) {
        return None;
    }
    // The last eight bytes: the port (the digits ending the address), its
    // colon (the last byte that is not a digit) and the end of the host.
    let end = u64::from_le_bytes(*addr.last_chunk::<8>()?);
    let others = !digit_bytes(end) & HIGH;
    if others == 0 {
        return None;
    }
    let colon = last_flag(others);
    if colon < 2 || colon == 7 || (end >> (8 * colon)) as u8 != b':' {
        return None; // a port of more than five digits, or none, or no colon
    }
    // The port's digits right-aligned after `0`s, combined pairwise.
    let before = (1u64 << (8 * (colon + 1))) - 1;
    let value = digits_value((end & !before) | (splat(b'0') & before));
    if value > 65_535 {
        return None;
    }
    let host_len = len - 8 + colon;
    let (host, port) = (addr.get(..host_len)?, addr.get(host_len + 1..)?);
    if host_len > 15 || !host.last()?.is_ascii_digit() || !host.first()?.is_ascii_digit() {
        return None;
    }
    // The host's first eight bytes (masked to the host) and the eight
    // that end it cover every byte and every pair of neighbours. A byte
    // that is not a digit must be a dot.
    let w0 = u64::from_le_bytes(*addr.first_chunk::<8>()?);
    let inside0 = if host_len >= 8 {
        HIGH
    } else {
        first_bytes(host_len)
    };
    let dots0 = !digit_bytes(w0) & inside0;
    let mut stray = (w0 ^ splat(b'.')) & ((dots0 >> 7) * 0xff);
    let mut dots = dots0.count_ones();
    let mut adjacent = dots0 & (dots0 << 8);
    if host_len > 8 {
        let w1 = u64::from_le_bytes(*host.last_chunk::<8>()?);
        let dots1 = !digit_bytes(w1) & HIGH;
        stray |= (w1 ^ splat(b'.')) & ((dots1 >> 7) * 0xff);
        // Only the bytes past the first eight count towards the dots.
        dots += (dots1 & !first_bytes(16 - host_len)).count_ones();
        adjacent |= dots1 & (dots1 << 8);
    }
    let canonical = match port {
        [b'0', _, ..] => None,
        _ => Some(port),
    };
    let value = i64::try_from(value).ok()?;
    (stray == 0 && adjacent == 0 && dots == 3).then_some((host, Port { value, canonical }))
}

/// The value of the eight ASCII digits of `word` (byte 0, the first in
/// memory, most significant), known to be digits: combined pairwise (tens
/// and units, hundreds, ten thousands).
#[inline(always)]
fn digits_value(word: u64) -> u64 {
    let x = word - splat(b'0');
    let x = (x.wrapping_mul(10) + (x >> 8)) & 0x00ff_00ff_00ff_00ff;
    let x = (x.wrapping_mul(100) + (x >> 16)) & 0x0000_ffff_0000_ffff;
    (x.wrapping_mul(10_000) + (x >> 32)) & 0xffff_ffff
}

/// `[ipv6]:port`, a byte at a time (rare in access logs).
fn split_ipv6_port(addr: &[u8]) -> Option<(&[u8], i64)> {
    let from = addr.len().saturating_sub(6);
    let colon = from + addr.get(from..)?.iter().rposition(|&b| b == b':')?;
    let (host, port) = addr.split_at_checked(colon)?;
    let port = port.get(1..).filter(|p| !p.is_empty())?;
    let port = parse_count(port).ok().filter(|p| *p <= 65_535)?;
    let inner = host.strip_prefix(b"[")?.strip_suffix(b"]")?;
    let mut colons = 0u32;
    for &b in inner {
        if b == b':' {
            colons += 1;
        } else if !(b.is_ascii_hexdigit() || b == b'.') {
            return None;
        }
    }
    (colons > 0).then_some((inner, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Naive references: one byte at a time, obviously right.
    fn naive_find(t: &[u8], from: usize, to: usize, n: u8) -> Option<usize> {
        let to = to.min(t.len());
        (from..to).find(|&i| t[i] == n)
    }
    fn naive_rfind(t: &[u8], from: usize, to: usize, n: u8) -> Option<usize> {
        let to = to.min(t.len());
        (from..to).rev().find(|&i| t[i] == n)
    }
    fn naive_all(t: &[u8], from: usize, to: usize, n: u8) -> Vec<usize> {
        let to = to.min(t.len());
        (from..to).filter(|&i| t[i] == n).collect()
    }
    fn naive_single_spaces(t: &[u8], from: usize, to: usize) -> Option<Vec<usize>> {
        let all = naive_all(t, from, to, b' ');
        if all.windows(2).any(|w| w[1] == w[0] + 1) {
            return None;
        }
        Some(all)
    }
    fn naive_count(t: &[u8]) -> Result<i64, NumberError> {
        if t.is_empty() {
            return Err(NumberError::Empty);
        }
        if !t.iter().all(u8::is_ascii_digit) {
            return Err(NumberError::NotDigits);
        }
        std::str::from_utf8(t)
            .unwrap()
            .parse::<i64>()
            .map_err(|_| NumberError::Overflow)
    }
    fn naive_ip_port(a: &[u8]) -> Option<(&[u8], i64)> {
        let colon = a.iter().rposition(|&b| b == b':')?;
        let (host, port) = (&a[..colon], &a[colon + 1..]);
        if port.is_empty() || port.len() > 5 || !port.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let port: i64 = std::str::from_utf8(port).unwrap().parse().ok()?;
        if port > 65_535 {
            return None;
        }
        if let Some(inner) = host.strip_prefix(b"[").and_then(|h| h.strip_suffix(b"]")) {
            let ok = inner.contains(&b':')
                && inner
                    .iter()
                    .all(|b| b.is_ascii_hexdigit() || *b == b':' || *b == b'.');
            return ok.then_some((inner, port));
        }
        let parts: Vec<&[u8]> = host.split(|&b| b == b'.').collect();
        let ok = host.len() <= 15
            && parts.len() == 4
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
        ok.then_some((host, port))
    }

    /// Seeds: the shapes that break word-at-a-time code (matches at word
    /// edges, bytes next to the needle that trip a borrow, high bytes,
    /// ranges shorter than a word, texts shorter than a word).
    fn seeds() -> Vec<Vec<u8>> {
        let mut s: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"\"".to_vec(),
            b"abcdefg\"".to_vec(),
            b"abcdefgh\"".to_vec(),
            b"\"abcdefgh".to_vec(),
            b"\x01\x00\x01\"\x21\x22\x23\x01".to_vec(),
            b"\x80\xff\"\x7f\x00\x22\xa2\x01\x02".to_vec(),
            b"               ".to_vec(),
            b"\\\\\\\"\\\\\\\"".to_vec(),
            b" 418 - via_upstream - ".to_vec(),
            b"[2020-11-25T21:26:18.409Z] \\\"GET /status/418 HTTP/1.1\\\" 418".to_vec(),
        ];
        for len in 0..40 {
            s.push(vec![b' '; len]);
            let mut v = vec![b'x'; len];
            if len > 0 {
                v[len - 1] = b'"';
                v[len / 2] = b' ';
            }
            s.push(v);
        }
        s
    }

    /// A small deterministic generator (xorshift64).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn generated(count: usize) -> Vec<Vec<u8>> {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let alphabet = b" \"\\x\x00\x01\x21\x22\x80\xff[]:.0123456789";
        (0..count)
            .map(|_| {
                let len = rng.below(70);
                (0..len)
                    .map(|_| {
                        let r = rng.next();
                        if r.is_multiple_of(4) {
                            (r >> 8) as u8
                        } else {
                            alphabet[(r >> 16) as usize % alphabet.len()]
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn check_all(t: &[u8], rng: &mut Rng) {
        let len = t.len();
        let mut ranges = vec![(0, len), (0, len + 3), (len, len), (len + 1, len + 2)];
        for _ in 0..6 {
            let a = rng.below(len + 2);
            let b = rng.below(len + 2);
            ranges.push((a.min(b), a.max(b)));
        }
        for n in [b'"', b' ', b'\\', 0x00, 0x01, 0x21, 0x22, 0x80, 0xff, b'x'] {
            for &(from, to) in &ranges {
                let ctx = format!("{n:#x} in {t:?}[{from}..{to}]");
                assert_eq!(
                    find_in(t, from, to, n),
                    naive_find(t, from, to, n),
                    "find_in {ctx}"
                );
                assert_eq!(
                    rfind_in(t, from, to, n),
                    naive_rfind(t, from, to, n),
                    "rfind_in {ctx}"
                );
                let mut seen = Vec::new();
                each_in(t, from, to, n, |p| {
                    seen.push(p);
                    true
                });
                assert_eq!(seen, naive_all(t, from, to, n), "each_in {ctx}");
                let mut first_two = Vec::new();
                each_in(t, from, to, n, |p| {
                    first_two.push(p);
                    first_two.len() < 2
                });
                let want: Vec<usize> = naive_all(t, from, to, n).into_iter().take(2).collect();
                assert_eq!(first_two, want, "each_in early stop {ctx}");
            }
            let naive_not = t.iter().position(|&b| b != n);
            assert_eq!(find_not_byte(t, n), naive_not, "find_not {n:#x} in {t:?}");
            assert_eq!(
                rfind_not_byte(t, n),
                t.iter().rposition(|&b| b != n),
                "rfind_not {n:#x} in {t:?}"
            );
        }
        for &(from, to) in &ranges {
            let mut out = [0usize; 4];
            let got = single_spaces(t, from, to, &mut out).map(|n| out[..n].to_vec());
            let want = naive_single_spaces(t, from, to).filter(|all| all.len() <= 4);
            assert_eq!(got, want, "single_spaces {t:?}[{from}..{to}]");
        }
        for cut in [t.len().min(3), t.len().min(8), t.len().min(21), t.len()] {
            let v = &t[..cut];
            assert_eq!(parse_count(v), naive_count(v), "parse_count {v:?}");
            assert_eq!(split_ip_port(v), naive_ip_port(v), "split_ip_port {v:?}");
        }
    }

    #[test]
    fn search_matches_naive_on_seeds() {
        let mut rng = Rng(7);
        for t in seeds() {
            check_all(&t, &mut rng);
        }
    }

    #[test]
    fn search_matches_naive_on_generated() {
        let mut rng = Rng(11);
        for t in generated(3_000) {
            check_all(&t, &mut rng);
        }
    }

    #[test]
    fn numbers_and_addresses_match_naive_on_generated() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..50_000 {
            let len = 1 + rng.below(22);
            let pick = rng.below(4);
            let v: Vec<u8> = (0..len)
                .map(|i| match (pick, rng.below(12)) {
                    (0, _) => b"0123456789"[rng.below(10)],
                    (_, 0) => b':',
                    (_, 1) if i == 0 => b'[',
                    (_, 2) => b'.',
                    (_, 3) => b"[]:xa\x80/"[rng.below(7)],
                    _ => b"0123456789"[rng.below(10)],
                })
                .collect();
            assert_eq!(parse_count(&v), naive_count(&v), "parse_count {v:?}");
            assert_eq!(split_ip_port(&v), naive_ip_port(&v), "split_ip_port {v:?}");
            // Canonical text is exactly how the parsed value is written.
            let written = parse_count(&v).ok().map(|n| n.to_string());
            let canonical = v.len() <= 18 && written.as_deref().map(str::as_bytes) == Some(&v);
            assert_eq!(
                is_canonical_count(&v),
                canonical,
                "is_canonical_count {v:?}"
            );
            if let Some((_, port)) = split_ip_port_text(&v) {
                let text = port.value.to_string();
                let colon = v.iter().rposition(|&b| b == b':').unwrap();
                let written = &v[colon + 1..];
                match port.canonical {
                    Some(digits) => assert_eq!(digits, text.as_bytes(), "port of {v:?}"),
                    // IPv6 ports are always written from the value.
                    None => assert!(
                        v[0] == b'[' || (written.len() > 1 && written[0] == b'0'),
                        "{v:?}"
                    ),
                }
            }
        }
    }

    #[test]
    fn canonical_count_cases() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("zero", b"0", true),
            ("status", b"200", true),
            ("eight digits", b"12345678", true),
            ("eighteen digits", b"123456789012345678", true),
            ("nineteen digits", b"1234567890123456789", false),
            ("leading zero", b"007", false),
            ("two zeros", b"00", false),
            ("empty", b"", false),
            ("dash", b"-", false),
            ("sign", b"+1", false),
            ("letter", b"12a", false),
            ("space", b"1 2", false),
        ];
        for (name, token, want) in cases {
            assert_eq!(is_canonical_count(token), *want, "{name}");
        }
    }

    #[test]
    fn port_text_cases() {
        // The IP, the port's value, and its digits when copied as written.
        type Split<'a> = Option<(&'a [u8], i64, Option<&'a [u8]>)>;
        let cases: &[(&str, &[u8], Split)] = &[
            ("ipv4", b"10.0.0.1:80", Some((b"10.0.0.1", 80, Some(b"80")))),
            (
                "leading zero",
                b"10.0.0.1:080",
                Some((b"10.0.0.1", 80, None)),
            ),
            (
                "zero port",
                b"10.0.0.1:0",
                Some((b"10.0.0.1", 0, Some(b"0"))),
            ),
            (
                "max port",
                b"255.255.255.255:65535",
                Some((b"255.255.255.255", 65535, Some(b"65535"))),
            ),
            ("port too big", b"10.0.0.1:65536", None),
            ("ipv6", b"[::1]:8080", Some((b"::1", 8080, None))),
            ("no port", b"10.0.0.1:", None),
            ("two colons", b"1.2.3.4:5:6", None),
            ("dash", b"-", None),
        ];
        for (name, addr, want) in cases {
            let got = split_ip_port_text(addr).map(|(ip, p)| (ip, p.value, p.canonical));
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn count_cases() {
        let cases: &[(&str, &[u8], Result<i64, NumberError>)] = &[
            ("zero", b"0", Ok(0)),
            ("status", b"418", Ok(418)),
            ("leading zeros", b"007", Ok(7)),
            ("eight digits", b"12345678", Ok(12_345_678)),
            ("nine digits", b"123456789", Ok(123_456_789)),
            ("max", b"9223372036854775807", Ok(i64::MAX)),
            (
                "max plus one",
                b"9223372036854775808",
                Err(NumberError::Overflow),
            ),
            (
                "twenty digits",
                b"99999999999999999999",
                Err(NumberError::Overflow),
            ),
            ("empty", b"", Err(NumberError::Empty)),
            ("dash", b"-", Err(NumberError::NotDigits)),
            ("negative", b"-1", Err(NumberError::NotDigits)),
            ("plus", b"+1", Err(NumberError::NotDigits)),
            ("decimal", b"1.5", Err(NumberError::NotDigits)),
            ("escape", b"\\u0031", Err(NumberError::NotDigits)),
            ("space", b"1 2", Err(NumberError::NotDigits)),
            ("colon next to digits", b"9:", Err(NumberError::NotDigits)),
            ("slash before 0", b"/0", Err(NumberError::NotDigits)),
            ("high byte", b"1\xb0", Err(NumberError::NotDigits)),
        ];
        for (name, token, want) in cases {
            assert_eq!(parse_count(token), *want, "case {name:?}");
        }
    }

    #[test]
    fn decimal_cases() {
        let cases: &[(&str, &[u8], bool)] = &[
            ("ms", b"0.005", true),
            ("int", b"12", true),
            ("zero", b"0", true),
            ("big", b"143.855", true),
            ("leading zero", b"01.5", false),
            ("no int", b".5", false),
            ("no frac", b"1.", false),
            ("negative", b"-0.1", false),
            ("exponent", b"1e3", false),
            ("dash", b"-", false),
            ("empty", b"", false),
            ("two dots", b"1.2.3", false),
        ];
        for (name, token, want) in cases {
            assert_eq!(is_json_decimal(token), *want, "case {name:?}");
        }
    }

    #[test]
    fn ip_port_cases() {
        type Split<'a> = Option<(&'a [u8], i64)>;
        let cases: &[(&str, &[u8], Split<'_>)] = &[
            ("ipv4", b"10.44.1.27:80", Some((b"10.44.1.27", 80))),
            ("ipv6", b"[::1]:8080", Some((b"::1", 8080))),
            (
                "ipv6 full",
                b"[fd00:10:244::1a]:9000",
                Some((b"fd00:10:244::1a", 9000)),
            ),
            (
                "ipv4-mapped",
                b"[::ffff:10.0.0.1]:443",
                Some((b"::ffff:10.0.0.1", 443)),
            ),
            ("max port", b"1.2.3.4:65535", Some((b"1.2.3.4", 65535))),
            (
                "longest",
                b"255.255.255.255:65535",
                Some((b"255.255.255.255", 65535)),
            ),
            ("shortest", b"1.1.1.1:1", Some((b"1.1.1.1", 1))),
            ("port too big", b"1.2.3.4:65536", None),
            ("port six digits", b"1.2.3.4:000080", None),
            ("no port", b"1.2.3.4", None),
            ("empty port", b"1.2.3.4:", None),
            ("dash", b"-", None),
            ("ipv6 no brackets", b"::1:80", None),
            ("envoy internal", b"envoy://sni_listener/", None),
            ("scheme", b"tcp://10.0.2.1:80", None),
            ("unix socket", b"unix:/run/app.sock", None),
            ("name", b"httpbin:8000", None),
            ("five parts", b"1.2.3.4.5:80", None),
            (
                "part length not checked",
                b"1.2.3.4444:80",
                Some((b"1.2.3.4444", 80)),
            ),
            ("adjacent dots", b"1..2.3:80", None),
            ("leading dot", b".1.2.3:80", None),
            ("trailing dot", b"1.2.3.:80", None),
            ("letter", b"1.2.a.4:80", None),
            ("sixteen-byte host", b"111.111.111.1111:80", None),
            ("eight-byte host", b"1.2.3.45:80", Some((b"1.2.3.45", 80))),
            ("dots across words", b"1.2.3456..7:80", None),
            ("escape in host", b"1.2.3.\\u0034:80", None),
            ("high byte", b"1.2.3.\xb4:80", None),
            ("brackets no colon", b"[1234]:80", None),
        ];
        for (name, addr, want) in cases {
            assert_eq!(split_ip_port(addr), *want, "case {name:?}");
        }
    }

    /// `same` against slice equality: every length up to 20, equal pairs
    /// and pairs that differ in one bit anywhere or in length, from a small
    /// alphabet so that near misses are common.
    #[test]
    fn same_is_slice_equality() {
        let mut next = crate::test_rng::xorshift(0x5a3e_0001);
        for _ in 0..20_000 {
            let len = (next() % 21) as usize;
            let a: Vec<u8> = (0..len).map(|_| b"ab"[(next() % 2) as usize]).collect();
            let mut b = a.clone();
            if next().is_multiple_of(2) && len > 0 {
                let at = (next() as usize) % len;
                b[at] ^= 1 << (next() % 8);
            }
            if next().is_multiple_of(8) {
                b.push(b'a');
            }
            assert_eq!(same(&a, &b), a == b, "{a:?} {b:?}");
            assert_eq!(same(&b, &a), a == b, "{b:?} {a:?}");
        }
    }

    /// `head_word` against a byte loop: every length up to 12, random
    /// bytes.
    #[test]
    fn head_word_is_the_first_bytes() {
        let mut next = crate::test_rng::xorshift(0x5a3e_0002);
        for _ in 0..20_000 {
            let len = (next() % 13) as usize;
            let text: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            let want = text
                .iter()
                .take(8)
                .enumerate()
                .fold(0u64, |w, (i, &b)| w | u64::from(b) << (8 * i));
            assert_eq!(head_word(&text), want, "{text:?}");
        }
    }
}
