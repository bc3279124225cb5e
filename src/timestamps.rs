//! Times in the layouts logs write them, recognised without being told the
//! layout and normalised to RFC 3339 UTC with the precision they had.
//!
//! Two entry points:
//! - [`parse_any`] recognises a value by looking at a few bytes (its first
//!   byte, and whether byte 1, 2 or 4 is a separator), then reads it with
//!   the one grammar that shape allows: no layout is tried and abandoned.
//! - [`TimeFormat`] compiles a strptime-style format (fluent-bit's
//!   `Time_Format`, `%L` included) once, and reads values with it.
//!
//! Both give a [`Timestamp`], written as `2018-09-17T12:19:26.569980Z` by
//! [`Timestamp::write_rfc3339`], or a [`TimeError`] that says what was
//! expected at which byte; a value that is not recognised is left as it
//! was and the error is the reason.
//!
//! # Layouts `parse_any` recognises
//!
//! | shape | example | year from |
//! |---|---|---|
//! | ISO 8601 / RFC 3339 | `2018-09-17T12:19:26.569Z`, `2018-09-17 14:19:26+0200` | the value |
//! | nginx error log, Go `log` | `2018/09/17 12:19:26`, `2018/09/17 12:19:26.123456` | the value |
//! | Python `logging` | `2018-09-17 12:19:26,123` | the value |
//! | Java, Log4j | `2018-09-17 12:19:26.123` | the value |
//! | Go `time.Time.String` | `2018-09-17 12:19:26.5 +0000 UTC m=+0.000123` | the value |
//! | CLF (nginx `$time_local`, Apache `%t`) | `17/Sep/2018:12:19:26 +0000` | the value |
//! | RFC 2822 / RFC 1123 | `Mon, 17 Sep 2018 12:19:26 GMT`, `17 Sep 2018 14:19 +0200` | the value |
//! | C `asctime`, Go `UnixDate`, `RubyDate` | `Mon Sep 17 12:19:26 2018`, `Mon Sep 17 12:19:26 UTC 2018` | the value |
//! | syslog (RFC 3164), Go `Stamp` | `Sep 17 12:19:26`, `Sep  7 12:19:26.123` | the reference |
//! | klog / glog | `E0917 12:19:26.569980` | the reference |
//! | Unix epoch | `1537186766`, `1537186766569`, `1537186766.569` | the value |
//!
//! Month and day names are English, in any case, abbreviated or in full;
//! a day name is skipped, not checked against the date.
//!
//! # Rules
//!
//! - **No offset means UTC.** A value without `Z`, an offset or a zone
//!   name is taken as UTC: container runtimes and most images run in UTC,
//!   and a filter has no reliable way to learn a container's local zone.
//! - **Zone names** are `UTC`, `GMT`, `UT` and `Z` (any case). Any other
//!   name alone is an error: `CST` is UTC-6 in Chicago and UTC+8 in
//!   Shanghai, and guessing would silently shift the time by hours. After a
//!   numeric offset (Go writes `-0700 MST`) the name is only a label.
//! - **Missing year** (syslog, klog, a `Time_Format` without `%Y`): of the
//!   reference's year and the years before and after it, the one that puts
//!   the time closest to the reference. `Dec 31 23:59:59` seen on January 1
//!   is last year's; `Jan  1 00:00:01` seen on December 31 is next year's;
//!   `Feb 29` goes to the nearest leap year, or is an error when none of
//!   the three is one.
//! - **Epoch units** are told apart by the number of digits before the
//!   point, as written: 1 to 10 digits are seconds (up to 2286-11-20), 11
//!   to 13 milliseconds, 14 to 16 microseconds, 17 to 19 nanoseconds; 20
//!   or more are an error. Between 2001 and 2286 every unit has exactly 10,
//!   13, 16 or 19 digits, so real timestamps are never ambiguous.
//! - **Precision is kept**: the fraction's digits as written (`.5` stays
//!   one digit, `.100` three), an epoch's unit as digits (milliseconds are
//!   3, nanoseconds 9) plus its decimal digits. More than 9 in all is an
//!   error, not a rounding.
//! - **Impossible times are errors**: month 13, February 30, minute 60.
//!   Hour 24 only as ISO 8601's end of day `24:00:00` (the next day's
//!   midnight), and second 60 only where RFC 3339 allows a leap second:
//!   23:59:60 UTC on the last day of a month. Unix time counts no leap
//!   seconds, so it is written as the next second, as POSIX clocks do.
//!
//! # Limits, and why
//!
//! A value is read left to right with no backtracking: work is linear in
//! its length, and most hostile values are refused within a few bytes (a
//! fraction stops at its tenth digit, an epoch at its twentieth). The ISO
//! and CLF heads (19 and 20 bytes) are checked eight bytes at a time, and
//! the commonest values (RFC 3339 in UTC to the second, millisecond or
//! microsecond, klog's header time, `asctime` with a year and syslog's
//! stamp) are read whole that way; only a value that fails those checks
//! is read again, byte by byte, to say what is wrong and where.
//! Nothing allocates.
//!
//! Cost: a few hundred wasm instructions per value (the unit of
//! fluent-bit's interpreter and of wasmtime's fuel), more for syslog and
//! klog (the year is searched) and RFC 1123. The last date read is
//! remembered with its day number: a value on the same date, as most are
//! in a stream of records, skips the calendar arithmetic. `make bench`
//! prints what normalising time and level adds per record.
//!
//! Layouts whose meaning is ambiguous are refused rather than guessed:
//! `09/17/2018` and `17/09/2018` (month or day first?), two-digit years
//! outside `%y`, and zone names other than UTC's. Years are 0000 to 9999,
//! as RFC 3339's.

use crate::time::{self, Timestamp};
use std::cell::Cell;
use std::fmt;

const SECS_PER_DAY: i64 = 86_400;

/// `10^n` for `n` from 0 to 19.
const POW10: [u64; 20] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    10_000_000_000,
    100_000_000_000,
    1_000_000_000_000,
    10_000_000_000_000,
    100_000_000_000_000,
    1_000_000_000_000_000,
    10_000_000_000_000_000,
    100_000_000_000_000_000,
    1_000_000_000_000_000_000,
    10_000_000_000_000_000_000,
];

/// `10^n`, for `n <= 19`.
#[inline(always)]
fn pow10(n: usize) -> u64 {
    POW10.get(n).copied().unwrap_or(1)
}

// ---------------------------------------------------------------------------
// Eight bytes at a time (SWAR, as in `crate::scan`): the fixed-width heads
// of the common layouts and runs of digits are checked and converted a
// word at a time. Words are little-endian: lane 0 is the first byte.
// ---------------------------------------------------------------------------

const LOW_NIBBLES: u64 = 0x0F0F_0F0F_0F0F_0F0F;
const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
const ONES: u64 = 0x0101_0101_0101_0101;

/// `0xFF` in each lane of `word` equal to `b`, `0x00` in the others.
const fn lanes_equal(word: u64, b: u8) -> u64 {
    let x = word ^ (ONES * b as u64);
    let zero = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
    (zero >> 7) * 0xFF
}

/// Where an 8-byte layout wants digits and where it wants given bytes.
#[derive(Clone, Copy, Debug)]
struct Shape {
    digits: u64,
    literals: u64,
    values: u64,
}

impl Shape {
    /// From a pattern: `9` is a digit, `?` any byte, any other byte itself.
    const fn new(pattern: &[u8; 8]) -> Shape {
        let p = u64::from_le_bytes(*pattern);
        let digits = lanes_equal(p, b'9');
        let literals = !(digits | lanes_equal(p, b'?'));
        Shape {
            digits,
            literals,
            values: p & literals,
        }
    }

    /// Zero when `word` has ASCII digits and the literal bytes where the
    /// shape wants them: a digit lane is `0x3N` with `N + 6` still below
    /// `0x10`. Shapes' violations are ORed to test several words at once.
    #[inline(always)]
    fn violations(self, word: u64) -> u64 {
        let d = word & self.digits;
        let threes = (ONES * 0x30) & self.digits;
        let sixes = (ONES * 6) & self.digits;
        ((d & HIGH_NIBBLES) ^ threes)
            | (((d.wrapping_add(sixes)) & HIGH_NIBBLES) ^ threes)
            | ((word & self.literals) ^ self.values)
    }
}

/// The 8 bytes of `text` at `at`, if there are 8.
#[inline(always)]
fn word_at(text: &[u8], at: usize) -> Option<u64> {
    let bytes = text.get(at..)?.first_chunk::<8>()?;
    Some(u64::from_le_bytes(*bytes))
}

/// Each lane's digit times ten plus the next lane's: the value of the
/// two-digit field that starts at each lane (no lane overflows).
#[inline(always)]
fn pairs(word: u64) -> u64 {
    let n = word & LOW_NIBBLES;
    n * 10 + (n >> 8)
}

/// Lane `i` of a word.
#[inline(always)]
fn lane(word: u64, i: u32) -> u32 {
    ((word >> (8 * i)) & 0xFF) as u32
}

/// How many of a word's lanes, from lane 0, are ASCII digits. A lane is a
/// digit when its XOR with `0x30` is below 10; a carry can only corrupt
/// lanes after the first non-digit, which are not counted.
#[inline(always)]
fn leading_digits(word: u64) -> usize {
    let t = word ^ (ONES * 0x30);
    let non_digits = (t.wrapping_add(ONES * 0x76) | t) & HIGH_BITS;
    (non_digits.trailing_zeros() / 8) as usize
}

/// The value of a word's first `n` lanes (all digits, `n <= 8`): the
/// lanes after them are shifted out, zeros shifted in before them, and
/// the eight digits combined in three multiplications (pairs, quads, all).
#[inline(always)]
fn digits_value(word: u64, n: usize) -> u64 {
    let shift = u32::try_from(8 * (8 - n.min(8))).unwrap_or(64);
    let v = (word & LOW_NIBBLES).checked_shl(shift).unwrap_or(0);
    let v = v.wrapping_mul(10 * 256 + 1) >> 8;
    let v = (v & 0x00FF_00FF_00FF_00FF).wrapping_mul(100 * 65_536 + 1) >> 16;
    (v & 0x0000_FFFF_0000_FFFF).wrapping_mul(10_000 * (1 << 32) + 1) >> 32
}

// ---------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------

/// Why a value is not a time: what was expected, or out of range, at which
/// byte of the value. Its [`Display`](fmt::Display) is one short line for a
/// `rosetta.reason`-style field, e.g. `month out of range at byte 5`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeError {
    /// `what` was expected at byte `at`; something else, or the end, was
    /// there.
    Expected {
        /// What the layout needed there.
        what: Expected,
        /// Byte offset in the value.
        at: usize,
    },
    /// The field starting at byte `at` is out of its range: month 13, hour
    /// 25, February 30, a leap second that is not at a month's end.
    OutOfRange {
        /// Which field.
        field: Field,
        /// Byte offset of the field in the value.
        at: usize,
    },
    /// The fraction starting at byte `at` is finer than a nanosecond (more
    /// than 9 digits, counting an epoch's unit).
    TooPrecise {
        /// Byte offset of the fraction's first digit.
        at: usize,
    },
    /// The zone name at byte `at` is not one of `UTC`, `GMT`, `UT`, `Z`.
    UnknownZone {
        /// Byte offset of the name.
        at: usize,
    },
    /// The time is outside years 0000 to 9999 once converted to UTC.
    OutsideRange,
}

/// What a layout expected where it found something else.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The start of a known layout: a digit or an English day or month name.
    Time,
    /// A decimal digit.
    Digit,
    /// This exact byte.
    Byte(u8),
    /// `T` or a space between the date and the time.
    DateTimeSeparator,
    /// An English month name (`Sep`, `September`, any case).
    MonthName,
    /// An English day name (`Mon`, `Monday`, any case).
    DayName,
    /// An English day or month name.
    Name,
    /// A zone: `Z`, `+hh:mm`, `+hhmm`, `+hh` or a zone name.
    Zone,
    /// `AM` or `PM`, any case.
    AmPm,
    /// The end of the value.
    End,
}

/// A field of a date and time, as named in [`TimeError::OutOfRange`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Month (1 to 12).
    Month,
    /// Day of the month (1 to the month's length).
    Day,
    /// Day of the year (1 to 365 or 366).
    DayOfYear,
    /// Hour (0 to 23; 24 only as ISO 8601's `24:00:00`).
    Hour,
    /// Minute (0 to 59).
    Minute,
    /// Second (0 to 59; 60 only as a leap second).
    Second,
    /// Zone offset (up to 23:59 either way).
    Offset,
    /// Epoch value (at most 19 digits).
    Epoch,
}

impl fmt::Display for Expected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Expected::Time => f.write_str("a time"),
            Expected::Digit => f.write_str("a digit"),
            Expected::Byte(b) if b.is_ascii_graphic() || b == b' ' => {
                write!(f, "'{}'", char::from(b))
            }
            Expected::Byte(b) => write!(f, "byte 0x{b:02x}"),
            Expected::DateTimeSeparator => f.write_str("'T' or ' '"),
            Expected::MonthName => f.write_str("a month name"),
            Expected::DayName => f.write_str("a day name"),
            Expected::Name => f.write_str("a day or month name"),
            Expected::Zone => f.write_str("a zone (Z, +hh:mm, +hhmm, +hh, UTC, GMT)"),
            Expected::AmPm => f.write_str("AM or PM"),
            Expected::End => f.write_str("the end of the time"),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Month => "month",
            Field::Day => "day",
            Field::DayOfYear => "day of year",
            Field::Hour => "hour",
            Field::Minute => "minute",
            Field::Second => "second",
            Field::Offset => "zone offset",
            Field::Epoch => "epoch value",
        })
    }
}

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TimeError::Expected { what, at } => write!(f, "expected {what} at byte {at}"),
            TimeError::OutOfRange { field, at } => write!(f, "{field} out of range at byte {at}"),
            TimeError::TooPrecise { at } => {
                write!(f, "fraction finer than nanoseconds at byte {at}")
            }
            TimeError::UnknownZone { at } => {
                write!(f, "unknown zone name at byte {at} (only UTC, GMT, UT, Z)")
            }
            TimeError::OutsideRange => f.write_str("time outside years 0000-9999 UTC"),
        }
    }
}

// ---------------------------------------------------------------------------
// Recognition: one look at the shape, then one grammar.
// ---------------------------------------------------------------------------

/// Reads one time value in any layout of the module's table and returns it
/// in UTC with the precision it was written with.
///
/// `reference` is the record's own time (fluent-bit's event time): it gives
/// the year to layouts that have none (see the module's rules). Values
/// without an offset or zone are UTC. The whole value must be the time: no
/// leading or trailing spaces.
pub fn parse_any(text: &[u8], reference: Timestamp) -> Result<Timestamp, TimeError> {
    let Some(&first) = text.first() else {
        return Err(TimeError::Expected {
            what: Expected::Time,
            at: 0,
        });
    };
    if first.is_ascii_digit() {
        match (text.get(1), text.get(2), text.get(4)) {
            (_, _, Some(&separator @ (b'-' | b'/'))) => iso(text, separator),
            (_, Some(b'/'), _) => clf(text),
            (Some(b' '), _, _) | (_, Some(b' '), _) => day_first(&mut Cursor::new(text)),
            // klog's header without its level letter (`0917 12:19:26.569980`),
            // as the klog parser leaves it once the letter is its level.
            (_, _, Some(b' ')) => klog(text, 0, reference),
            _ => epoch(text),
        }
    } else if matches!(first, b'I' | b'W' | b'E' | b'F')
        && text.get(1).is_some_and(u8::is_ascii_digit)
    {
        klog(text, 1, reference)
    } else if first.is_ascii_alphabetic() {
        named(text, reference)
    } else {
        Err(TimeError::Expected {
            what: Expected::Time,
            at: 0,
        })
    }
}

const ISO_DATE_DASH: Shape = Shape::new(b"9999-99-");
const ISO_DATE_SLASH: Shape = Shape::new(b"9999/99/");
const ISO_DAY_HOUR: Shape = Shape::new(b"99?99:99");
const CLOCK: Shape = Shape::new(b"99:99:99");
const CLF_DAY: Shape = Shape::new(b"99/???/9");
const CLF_YEAR: Shape = Shape::new(b"9999:99:");

/// `YYYY-MM-DD` or `YYYY/MM/DD` (same separator twice), then the end (the
/// day's midnight), or `T`/`t`/space, the clock and [`trailing_zone`].
///
/// RFC 3339 in UTC to the second, millisecond or microsecond is read at
/// once by [`iso_utc`]. Otherwise ([`iso_general`]) the 19-byte head
/// `YYYY-MM-DDTHH:MM:SS` is checked in three words; a value whose head is
/// not all in place (an error, or a date alone) is read byte by byte by
/// [`iso_by_byte`], which says where it went wrong.
fn iso(text: &[u8], separator: u8) -> Result<Timestamp, TimeError> {
    if separator == b'-'
        && let Some(t) = iso_utc(text)
    {
        return Ok(t);
    }
    iso_general(text, separator)
}

/// The last eight bytes of RFC 3339 UTC values to the second
/// (`M:SS` and `Z` after the hour), the millisecond (`:SS.fffZ`) and the
/// microsecond (`.ffffffZ`).
const UTC_SECONDS: Shape = Shape::new(b"9:99:99Z");
const UTC_MILLIS: Shape = Shape::new(b":99.999Z");
const UTC_MICROS: Shape = Shape::new(b".999999Z");

/// The commonest ISO 8601 values, RFC 3339 in UTC to the second, the
/// millisecond or the microsecond (`2018-09-17T12:13:43.123Z`, what JSON
/// and logfmt loggers write), read with four word tests and no cursor:
/// the value's length says where its fraction is. `None` for anything
/// else, an error included: [`iso_general`] reads it, and says why when
/// it is wrong. Whatever this reads, that reads the same.
#[inline(always)]
fn iso_utc(text: &[u8]) -> Option<Timestamp> {
    let (tail_shape, digits) = match text.len() {
        20 => (UTC_SECONDS, 0),
        24 => (UTC_MILLIS, 3),
        27 => (UTC_MICROS, 6),
        _ => return None,
    };
    let tail = u64::from_le_bytes(*text.last_chunk::<8>()?);
    let (date, day_hour, clock) = (word_at(text, 0)?, word_at(text, 8)?, word_at(text, 11)?);
    let violations = ISO_DATE_DASH.violations(date)
        | ISO_DAY_HOUR.violations(day_hour)
        | CLOCK.violations(clock)
        | tail_shape.violations(tail);
    if violations != 0 || !matches!(lane(day_hour, 2), 0x54 | 0x74 | 0x20) {
        return None;
    }
    let (date, day_hour, clock) = (pairs(date), pairs(day_hour), pairs(clock));
    let month = lane(date, 5);
    let (hour, minute, second) = (lane(day_hour, 3), lane(day_hour, 6), lane(clock, 6));
    if !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let days = day_number(
        lane(date, 0) * 100 + lane(date, 2),
        month,
        lane(day_hour, 0),
        8,
    )
    .ok()?;
    let nanos = match digits {
        0 => 0,
        3 => {
            let digit = |i| lane(tail & LOW_NIBBLES, i);
            (digit(4) * 100 + digit(5) * 10 + digit(6)) * 1_000_000
        }
        _ => {
            let p = pairs(tail);
            (lane(p, 1) * 10_000 + lane(p, 3) * 100 + lane(p, 5)) * 1_000
        }
    };
    let secs = days * SECS_PER_DAY + i64::from(hour * 3_600 + minute * 60 + second);
    Timestamp::with_fraction_of_digits(secs, nanos, digits)
}

/// [`iso`] for every value: the head in three words when it is all in
/// place, then the fraction and the zone with a cursor.
fn iso_general(text: &[u8], separator: u8) -> Result<Timestamp, TimeError> {
    let date_shape = if separator == b'/' {
        ISO_DATE_SLASH
    } else {
        ISO_DATE_DASH
    };
    let (Some(date), Some(day_hour), Some(clock_word)) =
        (word_at(text, 0), word_at(text, 8), word_at(text, 11))
    else {
        return iso_by_byte(text, separator);
    };
    let violations = date_shape.violations(date)
        | ISO_DAY_HOUR.violations(day_hour)
        | CLOCK.violations(clock_word);
    if violations != 0 || !matches!(lane(day_hour, 2), 0x54 | 0x74 | 0x20) {
        return iso_by_byte(text, separator);
    }
    let (date, day_hour, clock_word) = (pairs(date), pairs(day_hour), pairs(clock_word));
    let month = lane(date, 5);
    if !(1..=12).contains(&month) {
        return Err(TimeError::OutOfRange {
            field: Field::Month,
            at: 5,
        });
    }
    let year = lane(date, 0) * 100 + lane(date, 2);
    let days = day_number(year, month, lane(day_hour, 0), 8)?;
    let mut c = Cursor { text, at: 19 };
    let fraction = c.optional_fraction()?;
    let clock = Clock::checked(
        [lane(day_hour, 3), lane(day_hour, 6), lane(clock_word, 6)],
        fraction,
        11,
        Hour24::EndOfDay,
    )?;
    let offset = match *c.rest() {
        [] | [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => fixed_offset(sign, [h0, h1, m0, m1]),
        _ => None,
    };
    let offset = match offset {
        Some(offset) => offset,
        None => trailing_zone(&mut c)?,
    };
    instant_inline(days, &clock, offset)
}

/// [`iso`] one byte at a time.
fn iso_by_byte(text: &[u8], separator: u8) -> Result<Timestamp, TimeError> {
    let mut c = Cursor::new(text);
    let year = c.fixed::<4>()?;
    c.at += 1;
    let month = c.month_number()?;
    c.expect(separator)?;
    let day_at = c.at;
    let day = c.fixed::<2>()?;
    let days = day_number(year, month, day, day_at)?;
    let clock = match c.peek() {
        None => return instant(days, &Clock::MIDNIGHT, 0),
        Some(b'T' | b't' | b' ') => {
            c.at += 1;
            clock(&mut c, Seconds::Required, Hour24::EndOfDay)?
        }
        Some(_) => return Err(c.error(Expected::DateTimeSeparator)),
    };
    let offset = trailing_zone(&mut c)?;
    instant(days, &clock, offset)
}

/// `DD/Mon/YYYY:HH:MM:SS` then [`trailing_zone`] (` +hhmm` in CLF). The
/// 20-byte head with a three-letter month is checked in three words; any
/// other value is read by [`clf_by_byte`].
fn clf(text: &[u8]) -> Result<Timestamp, TimeError> {
    let (Some(day), Some(year), Some(clock_word)) =
        (word_at(text, 0), word_at(text, 7), word_at(text, 12))
    else {
        return clf_by_byte(text);
    };
    if CLF_DAY.violations(day) | CLF_YEAR.violations(year) | CLOCK.violations(clock_word) != 0 {
        return clf_by_byte(text);
    }
    let key = ((day >> 24) as u32 & 0x00FF_FFFF) | 0x0020_2020;
    let Some(&(_, Name::Month(month), _)) = NAMES.iter().find(|(k, _, _)| *k == key) else {
        return clf_by_byte(text);
    };
    let (day, year, clock_word) = (pairs(day), pairs(year), pairs(clock_word));
    let days = day_number(lane(year, 0) * 100 + lane(year, 2), month, lane(day, 0), 0)?;
    let mut c = Cursor { text, at: 20 };
    let fraction = c.optional_fraction()?;
    let clock = Clock::checked(
        [lane(year, 5), lane(clock_word, 3), lane(clock_word, 6)],
        fraction,
        12,
        Hour24::Never,
    )?;
    let offset = match *c.rest() {
        [b' ', sign @ (b'+' | b'-'), h0, h1, m0, m1] => fixed_offset(sign, [h0, h1, m0, m1]),
        _ => None,
    };
    let offset = match offset {
        Some(offset) => offset,
        None => trailing_zone(&mut c)?,
    };
    instant_inline(days, &clock, offset)
}

/// [`clf`] one byte at a time.
fn clf_by_byte(text: &[u8]) -> Result<Timestamp, TimeError> {
    let mut c = Cursor::new(text);
    let day = c.fixed::<2>()?;
    c.expect(b'/')?;
    let month = c.month_name()?;
    c.expect(b'/')?;
    let year = c.fixed::<4>()?;
    let days = day_number(year, month, day, 0)?;
    c.expect(b':')?;
    let clock = clock(&mut c, Seconds::Required, Hour24::Never)?;
    let offset = trailing_zone(&mut c)?;
    instant(days, &clock, offset)
}

/// klog's header: a level letter (when `start` is 1), `MMDD`, a space and
/// the clock; UTC, the year from the reference.
fn klog(text: &[u8], start: usize, reference: Timestamp) -> Result<Timestamp, TimeError> {
    if let Some(t) = klog_at_once(text, start, reference) {
        return Ok(t);
    }
    klog_general(text, start, reference)
}

/// [`klog`] for every value, with a cursor.
fn klog_general(text: &[u8], start: usize, reference: Timestamp) -> Result<Timestamp, TimeError> {
    let mut c = Cursor::new(text);
    c.at = start;
    let (month, day, day_at) = month_day(&mut c)?;
    let clock = clock_inline(&mut c, Seconds::Required, Hour24::Never)?;
    c.end()?;
    in_nearest_year(reference, month, day, day_at, &clock, 0)
}

/// The last eight bytes of klog's header time: the seconds' last digit
/// and six fractional digits.
const KLOG_MICROS: Shape = Shape::new(b"9.999999");

/// klog's header time as klog writes it, `MMDD HH:MM:SS.uuuuuu` from
/// `start`, read with three word tests and no cursor, in the year nearest
/// the reference. `None` for anything else, an error included: the
/// general path reads it ([`klog_general`]), and says why when it is
/// wrong. Whatever this reads, that reads the same.
#[inline(always)]
fn klog_at_once(text: &[u8], start: usize, reference: Timestamp) -> Option<Timestamp> {
    if text.len() != start + 20 {
        return None;
    }
    let (date, hms) = (word_at(text, start)?, word_at(text, start + 5)?);
    let tail = u64::from_le_bytes(*text.last_chunk::<8>()?);
    if KLOG_DATE.violations(date) | HMS.violations(hms) | KLOG_MICROS.violations(tail) != 0 {
        return None;
    }
    let (date, hms, tail) = (pairs(date), pairs(hms), pairs(tail));
    let month = lane(date, 0);
    if !(1..=12).contains(&month) {
        return None;
    }
    let micros = lane(tail, 2) * 10_000 + lane(tail, 4) * 100 + lane(tail, 6);
    let clock = Clock::checked(
        [lane(hms, 0), lane(hms, 3), lane(hms, 6)],
        (micros * 1_000, 6),
        start + 5,
        Hour24::Never,
    )
    .ok()?;
    in_nearest_year(reference, month, lane(date, 2), start + 2, &clock, 0).ok()
}

/// klog's `MMDD ` before the clock: the month, the day and where the day
/// starts. The common case is checked in one word with the clock's first
/// bytes (`MMDD HH:`); anything else (every error) is read by
/// [`month_day_by_byte`].
fn month_day(c: &mut Cursor<'_>) -> Result<(u32, u32, usize), TimeError> {
    if let Some(word) = word_at(c.text, c.at)
        && KLOG_DATE.violations(word) == 0
    {
        let p = pairs(word);
        let month = lane(p, 0);
        if (1..=12).contains(&month) {
            let day_at = c.at + 2;
            c.at += 5;
            return Ok((month, lane(p, 2), day_at));
        }
    }
    month_day_by_byte(c)
}

/// [`month_day`] one byte at a time.
fn month_day_by_byte(c: &mut Cursor<'_>) -> Result<(u32, u32, usize), TimeError> {
    let month = c.month_number()?;
    let day_at = c.at;
    let day = c.fixed::<2>()?;
    c.expect(b' ')?;
    Ok((month, day, day_at))
}

/// A value that starts with a letter: a day name (RFC 2822, `asctime`) or
/// a month name (syslog). `asctime` with a year and a two-digit day, the
/// day name written or left out, is read at once by [`asctime`], syslog's
/// `Mmm DD HH:MM:SS` by [`syslog_stamp`]; anything else by
/// [`named_general`].
fn named(text: &[u8], reference: Timestamp) -> Result<Timestamp, TimeError> {
    if let Some(t) = asctime(text).or_else(|| syslog_stamp(text, reference)) {
        return Ok(t);
    }
    named_general(text, reference)
}

/// syslog's `Mmm DD HH:MM:SS` (RFC 3164 with a two-digit day), read with
/// two word tests and no cursor, in the year nearest the reference.
/// `None` for anything else, an error included: [`named_general`] reads
/// it, and says why when it is wrong. Whatever this reads, that reads the
/// same.
#[inline(always)]
fn syslog_stamp(text: &[u8], reference: Timestamp) -> Option<Timestamp> {
    if text.len() != 15 {
        return None;
    }
    let (head, hms) = (word_at(text, 0)?, word_at(text, 7)?);
    let Name::Month(month) = name_of_key(key_of(head))? else {
        return None;
    };
    if MONTH_DAY.violations(head) | HMS.violations(hms) != 0 {
        return None;
    }
    let (head, hms) = (pairs(head), pairs(hms));
    let clock = Clock::checked(
        [lane(hms, 0), lane(hms, 3), lane(hms, 6)],
        (0, 0),
        7,
        Hour24::Never,
    )
    .ok()?;
    in_nearest_year(reference, month, lane(head, 4), 4, &clock, 0).ok()
}

/// `Mmm DD H`: a month name, a two-digit day and the hour's first digit.
const MONTH_DAY: Shape = Shape::new(b"??? 99 9");
/// The last eight bytes of an `asctime` value: ` YYYY` after the seconds
/// or their fraction.
const YEAR_TAIL: Shape = Shape::new(b"??? 9999");

/// The three-letter name key (lower case) of a word's first three bytes:
/// `| 0x20` lowercases ASCII letters, and no other byte becomes one.
#[inline(always)]
fn key_of(word: u64) -> u32 {
    (word as u32 & 0x00FF_FFFF) | 0x0020_2020
}

/// The commonest `asctime`, `[Www ]Mmm DD HH:MM:SS[.f] YYYY` with a
/// two-digit day and up to 8 fractional digits (Apache's error log writes
/// `Fri Nov 27 08:48:51.310996 2026`, and its parser leaves the time
/// without the day name), read with four word tests and no cursor: the
/// value's length says where its fraction ends and its year starts.
/// `None` for anything else, an error included, a padded day, a leap
/// second, a zone or no year (syslog): [`named_general`] reads it, and
/// says why when it is wrong. Whatever this reads, that reads the same.
#[inline(always)]
fn asctime(text: &[u8]) -> Option<Timestamp> {
    let len = text.len();
    if !(20..=33).contains(&len) {
        return None;
    }
    let first = word_at(text, 0)?;
    // After a day name, one space and the month name (`named_general`
    // skips the spaces, and a name is not one).
    let (start, month) = match name_of_key(key_of(first))? {
        Name::Month(month) => (0, month),
        Name::Day if lane(first, 3) == u32::from(b' ') => match name_of_key(key_of(first >> 32))? {
            Name::Month(month) => (4, month),
            Name::Day => return None,
        },
        Name::Day => return None,
    };
    let tail = u64::from_le_bytes(*text.last_chunk::<8>()?);
    let (head, hms) = (word_at(text, start)?, word_at(text, start + 7)?);
    let violations = MONTH_DAY.violations(head) | HMS.violations(hms) | YEAR_TAIL.violations(tail);
    if violations != 0 {
        return None;
    }
    // The fraction: `.` or `,` after the seconds, then the digits up to
    // the year's space, the last lanes of the word that ends there.
    let (nanos, digits) = match len.checked_sub(start + 20)? {
        0 => (0, 0),
        separated @ 2..=9 => {
            let n = separated - 1;
            let shift = 8 * (8 - n as u32);
            let fraction = word_at(text, len - 13)? >> shift;
            if !matches!(text.get(start + 15), Some(b'.' | b',')) || leading_digits(fraction) != n {
                return None;
            }
            let value = digits_value(fraction, n) * pow10(9 - n);
            (u32::try_from(value).ok()?, n as u8)
        }
        _ => return None,
    };
    let (head, hms, tail) = (pairs(head), pairs(hms), pairs(tail));
    let (hour, minute, second) = (lane(hms, 0), lane(hms, 3), lane(hms, 6));
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let year = lane(tail, 4) * 100 + lane(tail, 6);
    let days = day_number(year, month, lane(head, 4), start + 4).ok()?;
    let secs = days * SECS_PER_DAY + i64::from(hour * 3_600 + minute * 60 + second);
    Timestamp::with_fraction_of_digits(secs, nanos, digits)
}

/// [`named`] for every value.
fn named_general(text: &[u8], reference: Timestamp) -> Result<Timestamp, TimeError> {
    let mut c = Cursor::new(text);
    match c.name() {
        Some(Name::Month(month)) => month_first(&mut c, month, reference),
        Some(Name::Day) => {
            c.eat(b',');
            c.skip_spaces();
            if c.peek().is_some_and(|b| b.is_ascii_digit()) {
                day_first(&mut c)
            } else {
                let month = c.month_name()?;
                month_first(&mut c, month, reference)
            }
        }
        None => Err(c.error(Expected::Name)),
    }
}

/// RFC 2822's date-time after the day name: `D[D] Mon YYYY HH:MM[:SS]`,
/// then a zone after spaces (`+hhmm`, `GMT`), or nothing (UTC).
fn day_first(c: &mut Cursor<'_>) -> Result<Timestamp, TimeError> {
    let day_at = c.at;
    let day = c.up_to(2)?;
    c.spaces()?;
    let month = c.month_name()?;
    c.spaces()?;
    let year = c.fixed::<4>()?;
    let days = day_number(year, month, day, day_at)?;
    c.spaces()?;
    let clock = clock(c, Seconds::Optional, Hour24::Never)?;
    let offset = if c.skip_spaces() > 0 { zone(c)? } else { 0 };
    c.end()?;
    instant(days, &clock, offset)
}

/// After a month name: ` D[D] HH:MM:SS[.f]` (the day may be space-padded),
/// then the end (the year from the reference), ` YYYY`, or a zone that a
/// ` YYYY` may follow (`asctime`, Go's `UnixDate` and `RubyDate`).
fn month_first(
    c: &mut Cursor<'_>,
    month: u32,
    reference: Timestamp,
) -> Result<Timestamp, TimeError> {
    let (day, day_at, clock) = day_and_clock(c)?;
    // `asctime`'s ` YYYY` and the end, the common case: read at once.
    if let [b' ', y0, y1, y2, y3] = *c.rest()
        && let Some(year) = four_digits([y0, y1, y2, y3])
    {
        return instant(day_number(year, month, day, day_at)?, &clock, 0);
    }
    after_month_day_clock(c, month, (day, day_at), &clock, reference)
}

/// What may follow a month, a day and a clock (at `day_at`), up to the end
/// of the value: nothing (the year from the reference), ` YYYY`, or a zone
/// that a ` YYYY` may follow.
fn after_month_day_clock(
    c: &mut Cursor<'_>,
    month: u32,
    (day, day_at): (u32, usize),
    clock: &Clock,
    reference: Timestamp,
) -> Result<Timestamp, TimeError> {
    let mut offset = 0;
    let mut year = None;
    if c.eat(b' ') {
        if c.peek().is_some_and(|b| b.is_ascii_digit()) {
            year = Some(c.fixed::<4>()?);
        } else {
            offset = zone(c)?;
            if c.eat(b' ') {
                year = Some(c.fixed::<4>()?);
            }
        }
    }
    c.end()?;
    match year {
        Some(year) => instant(day_number(year, month, day, day_at)?, clock, offset),
        None => in_nearest_year(reference, month, day, day_at, clock, offset),
    }
}

/// The value of four ASCII digits, or `None`.
#[inline(always)]
fn four_digits(bytes: [u8; 4]) -> Option<u32> {
    let digits = bytes.map(|b| b.wrapping_sub(b'0'));
    digits
        .iter()
        .all(|d| *d <= 9)
        .then(|| digits.iter().fold(0, |v, d| v * 10 + u32::from(*d)))
}

/// After a month name: ` D[D] HH:MM:SS[.f]` (spaces before the day, which
/// may be padded with one): the day, where it starts, and the clock.
/// The common case, ` DD HH:MM:SS`, is checked in two overlapping words;
/// anything else (a space-padded day, every error) is read by
/// [`day_and_clock_by_byte`].
fn day_and_clock(c: &mut Cursor<'_>) -> Result<(u32, usize, Clock), TimeError> {
    if let (Some(head), Some(hms)) = (word_at(c.text, c.at), word_at(c.text, c.at + 4))
        && DAY_CLOCK.violations(head) | HMS.violations(hms) == 0
    {
        let (day_at, hour_at) = (c.at + 1, c.at + 4);
        let p = pairs(hms);
        c.at += 12;
        let fraction = c.optional_fraction()?;
        let clock = Clock::checked(
            [lane(p, 0), lane(p, 3), lane(p, 6)],
            fraction,
            hour_at,
            Hour24::Never,
        )?;
        return Ok((lane(pairs(head), 1), day_at, clock));
    }
    day_and_clock_by_byte(c)
}

/// [`day_and_clock`] one byte at a time.
fn day_and_clock_by_byte(c: &mut Cursor<'_>) -> Result<(u32, usize, Clock), TimeError> {
    c.spaces()?;
    let day_at = c.at;
    let day = c.up_to(2)?;
    c.expect(b' ')?;
    let clock = clock(c, Seconds::Required, Hour24::Never)?;
    Ok((day, day_at, clock))
}

/// Seconds, milliseconds, microseconds or nanoseconds since 1970 by digit
/// count (see the module's rules), with an optional decimal fraction.
fn epoch(text: &[u8]) -> Result<Timestamp, TimeError> {
    let mut c = Cursor::new(text);
    let (value, digits, more) = c.digit_run(19);
    if more {
        return Err(TimeError::OutOfRange {
            field: Field::Epoch,
            at: 0,
        });
    }
    let unit = match digits {
        0..=10 => 0,
        11..=13 => 3,
        14..=16 => 6,
        _ => 9,
    };
    let (fraction, fraction_digits) = if c.eat(b'.') {
        let at = c.at;
        let (fraction, n) = c.fraction_digits()?;
        if unit + n > 9 {
            return Err(TimeError::TooPrecise { at });
        }
        (fraction, n)
    } else {
        (0, 0)
    };
    c.end()?;
    let scale = pow10(unit);
    let nanos =
        (value % scale) * pow10(9 - unit) + u64::from(fraction) * pow10(9 - unit - fraction_digits);
    let secs = i64::try_from(value / scale).map_err(|_| TimeError::OutsideRange)?;
    Timestamp::new(
        secs,
        u32::try_from(nanos).unwrap_or(u32::MAX),
        u8::try_from(unit + fraction_digits).unwrap_or(u8::MAX),
    )
    .ok_or(TimeError::OutsideRange)
}

// ---------------------------------------------------------------------------
// Shared pieces: the clock, zones, names, and civil time to an instant.
// ---------------------------------------------------------------------------

/// A time of day as read, already range-checked (hour 24 and second 60
/// are checked again once the date and offset are known). Its `nanos` are
/// a fraction of `digits` digits (at most 9) as [`Cursor::fraction`] reads
/// one, so that [`instant`] checks only the range of the seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Clock {
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    digits: u8,
    second_at: usize,
}

impl Clock {
    const MIDNIGHT: Clock = Clock {
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        digits: 0,
        second_at: 0,
    };
}

/// `HH:MM:SS`, the shape [`clock`] reads in one word.
const HMS: Shape = Shape::new(b"99:99:99");
/// `MMDD HH:`: klog's month and day, and the clock's start.
const KLOG_DATE: Shape = Shape::new(b"9999 99:");
/// ` DD HH:M`: a two-digit day after a month name, and the clock's start.
const DAY_CLOCK: Shape = Shape::new(b" 99 99:9");

/// Whether a layout may leave the seconds out (RFC 2822 may).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Seconds {
    Required,
    Optional,
}

/// Whether a layout allows ISO 8601's `24:00:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hour24 {
    Never,
    EndOfDay,
}

/// `HH:MM:SS`, or `HH:MM` where seconds are optional, then an optional
/// fraction after `.` or `,` (only after seconds).
fn clock(c: &mut Cursor<'_>, seconds: Seconds, hour24: Hour24) -> Result<Clock, TimeError> {
    clock_inline(c, seconds, hour24)
}

/// [`clock`], inlined into klog's path, whose clock is all it has after
/// its date.
#[inline(always)]
fn clock_inline(c: &mut Cursor<'_>, seconds: Seconds, hour24: Hour24) -> Result<Clock, TimeError> {
    let hour_at = c.at;
    // The common case, `HH:MM:SS` in one word; anything else (and every
    // error, with its position) byte by byte.
    if let Some(word) = word_at(c.text, c.at)
        && HMS.violations(word) == 0
    {
        let p = pairs(word);
        c.at += 8;
        let fraction = c.optional_fraction()?;
        return Clock::checked(
            [lane(p, 0), lane(p, 3), lane(p, 6)],
            fraction,
            hour_at,
            hour24,
        );
    }
    clock_by_byte(c, seconds, hour24)
}

/// [`clock`] one byte at a time.
fn clock_by_byte(c: &mut Cursor<'_>, seconds: Seconds, hour24: Hour24) -> Result<Clock, TimeError> {
    let hour_at = c.at;
    let hour = c.fixed::<2>()?;
    c.expect(b':')?;
    let minute = c.fixed::<2>()?;
    if seconds == Seconds::Optional && c.peek() != Some(b':') {
        return Clock::checked([hour, minute, 0], (0, 0), hour_at, hour24);
    }
    c.expect(b':')?;
    let second = c.fixed::<2>()?;
    let fraction = c.optional_fraction()?;
    Clock::checked([hour, minute, second], fraction, hour_at, hour24)
}

impl Clock {
    /// A clock from `[hour, minute, second]` and a fraction (nanoseconds,
    /// digits) written `HH:MM:SS` from byte `hour_at`, after the range
    /// checks: hour 24 only as `24:00:00` where `hour24` allows it, second
    /// 60 for now (see [`instant`]).
    #[inline(always)]
    fn checked(
        [hour, minute, second]: [u32; 3],
        (nanos, digits): (u32, u8),
        hour_at: usize,
        hour24: Hour24,
    ) -> Result<Clock, TimeError> {
        let end_of_day =
            hour24 == Hour24::EndOfDay && hour == 24 && minute == 0 && second == 0 && nanos == 0;
        let field = if hour > 23 && !end_of_day {
            Field::Hour
        } else if minute > 59 {
            Field::Minute
        } else if second > 60 {
            Field::Second
        } else {
            return Ok(Clock {
                hour,
                minute,
                second,
                nanos,
                digits,
                second_at: hour_at + 6,
            });
        };
        let at = match field {
            Field::Hour => hour_at,
            Field::Minute => hour_at + 3,
            _ => hour_at + 6,
        };
        Err(TimeError::OutOfRange { field, at })
    }
}

/// What may follow a date-time, up to the end of the value: nothing (UTC),
/// `Z`, `±hh[[:]mm]`, or a space and then either a zone name or
/// `±hh[[:]mm]` with Go's additions after it (` MST`, ` m=+0.001`).
fn trailing_zone(c: &mut Cursor<'_>) -> Result<i32, TimeError> {
    let offset = match c.peek() {
        None => return Ok(0),
        Some(b'Z' | b'z') => {
            c.at += 1;
            0
        }
        Some(b'+' | b'-') => numeric_offset(c)?,
        Some(b' ') => {
            c.at += 1;
            if matches!(c.peek(), Some(b'+' | b'-')) {
                let offset = numeric_offset(c)?;
                go_suffix(c)?;
                offset
            } else {
                zone_name(c)?
            }
        }
        Some(_) => return Err(c.error(Expected::Zone)),
    };
    c.end()?;
    Ok(offset)
}

/// A zone where one is due: `Z`, `±hh[[:]mm]` or a zone name.
fn zone(c: &mut Cursor<'_>) -> Result<i32, TimeError> {
    match c.peek() {
        Some(b'+' | b'-') => numeric_offset(c),
        _ => zone_name(c),
    }
}

/// `±hh`, `±hhmm` or `±hh:mm` at the cursor (which is on the sign), in
/// seconds east of UTC; up to 23:59 either way, as RFC 3339 allows.
fn numeric_offset(c: &mut Cursor<'_>) -> Result<i32, TimeError> {
    let at = c.at;
    let negative = c.peek() == Some(b'-');
    c.at += 1;
    let hours = c.fixed::<2>()?;
    let minutes = if c.eat(b':') || c.digit().is_some() {
        c.fixed::<2>()?
    } else {
        0
    };
    if hours > 23 || minutes > 59 {
        return Err(TimeError::OutOfRange {
            field: Field::Offset,
            at,
        });
    }
    let secs = i32::try_from(hours * 3_600 + minutes * 60).unwrap_or(0);
    Ok(if negative { -secs } else { secs })
}

/// `±hhmm` from its sign and four digits, in seconds east of UTC; `None`
/// unless all four are digits within 23:59, in which case
/// [`trailing_zone`] reads the tail again and says what is wrong.
#[inline(always)]
fn fixed_offset(sign: u8, [h0, h1, m0, m1]: [u8; 4]) -> Option<i32> {
    let digit = |b: u8| {
        Some(b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
            .map(i32::from)
    };
    let hours = digit(h0)? * 10 + digit(h1)?;
    let minutes = digit(m0)? * 10 + digit(m1)?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let secs = hours * 3_600 + minutes * 60;
    Some(if sign == b'-' { -secs } else { secs })
}

/// After Go's numeric offset: an optional zone label (letters, digits or
/// signs: `MST`, `+0530`), which the offset overrides, then an optional
/// monotonic clock reading ` m=±s.f`, which is not a time of day.
fn go_suffix(c: &mut Cursor<'_>) -> Result<(), TimeError> {
    if c.peek() == Some(b' ') && !c.rest().starts_with(b" m=") {
        c.at += 1;
        let label = c
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-'))
            .count();
        if label == 0 {
            return Err(c.error(Expected::Zone));
        }
        c.at += label;
    }
    if c.rest().starts_with(b" m=") {
        c.at += 3;
        if !(c.eat(b'+') || c.eat(b'-')) {
            return Err(c.error(Expected::Byte(b'+')));
        }
        c.digits()?;
        if c.eat(b'.') {
            c.digits()?;
        }
    }
    Ok(())
}

/// `UTC`, `GMT`, `UT` or `Z`, any case: offset 0. Any other run of letters
/// is an unknown zone.
fn zone_name(c: &mut Cursor<'_>) -> Result<i32, TimeError> {
    let at = c.at;
    let rest = c.rest();
    let len = rest.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let name = rest.get(..len).unwrap_or_default();
    if name.is_empty() {
        return Err(c.error(Expected::Zone));
    }
    let known = [&b"UTC"[..], b"GMT", b"UT", b"Z"]
        .iter()
        .any(|n| name.eq_ignore_ascii_case(n));
    if !known {
        return Err(TimeError::UnknownZone { at });
    }
    c.at += len;
    Ok(0)
}

/// What an English name at the cursor was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Name {
    Month(u32),
    Day,
}

/// A three-letter name as a little-endian `u32` key (lower case).
const fn name_key(name: &[u8; 3]) -> u32 {
    let [a, b, c] = *name;
    u32::from_le_bytes([a, b, c, 0])
}

/// English month and day names: key of the abbreviation, what it names,
/// and the rest of the full name. Months first: they are the common case.
const NAMES: [(u32, Name, &[u8]); 19] = [
    (name_key(b"jan"), Name::Month(1), b"uary"),
    (name_key(b"feb"), Name::Month(2), b"ruary"),
    (name_key(b"mar"), Name::Month(3), b"ch"),
    (name_key(b"apr"), Name::Month(4), b"il"),
    (name_key(b"may"), Name::Month(5), b""),
    (name_key(b"jun"), Name::Month(6), b"e"),
    (name_key(b"jul"), Name::Month(7), b"y"),
    (name_key(b"aug"), Name::Month(8), b"ust"),
    (name_key(b"sep"), Name::Month(9), b"tember"),
    (name_key(b"oct"), Name::Month(10), b"ober"),
    (name_key(b"nov"), Name::Month(11), b"ember"),
    (name_key(b"dec"), Name::Month(12), b"ember"),
    (name_key(b"mon"), Name::Day, b"day"),
    (name_key(b"tue"), Name::Day, b"sday"),
    (name_key(b"wed"), Name::Day, b"nesday"),
    (name_key(b"thu"), Name::Day, b"rsday"),
    (name_key(b"fri"), Name::Day, b"day"),
    (name_key(b"sat"), Name::Day, b"urday"),
    (name_key(b"sun"), Name::Day, b"day"),
];

/// The multiplier that gives each of [`NAMES`]' keys a slot of its own
/// among 32 (see [`name_slot`]).
const NAME_MULTIPLIER: u32 = 0xf024_b4a8;

/// The slot of a name key: the top five bits of the key times
/// [`NAME_MULTIPLIER`].
const fn name_slot(key: u32) -> usize {
    (key.wrapping_mul(NAME_MULTIPLIER) >> 27) as usize
}

/// The index in [`NAMES`] of the name in each slot: a name is found with
/// one multiplication and one comparison instead of a search of the list.
/// Built at compile time, which fails if two names share a slot (the
/// indexing runs only then: a slot is below 32 by construction).
#[allow(clippy::indexing_slicing)]
const NAME_SLOTS: [Option<u8>; 32] = {
    let mut slots = [None; 32];
    let mut i = 0;
    while i < NAMES.len() {
        let slot = name_slot(NAMES[i].0);
        assert!(slots[slot].is_none(), "two names share a slot");
        slots[slot] = Some(i as u8);
        i += 1;
    }
    slots
};

/// The name whose three-letter key (lower case) is `key`, if any.
#[inline(always)]
fn name_of_key(key: u32) -> Option<Name> {
    let slot = NAME_SLOTS.get(name_slot(key)).copied().flatten()?;
    NAMES
        .get(usize::from(slot))
        .filter(|(k, _, _)| *k == key)
        .map(|(_, name, _)| *name)
}

/// The last date [`day_number`] accepted, as (year, month, day), and its
/// day number; month 0, which no date has, at first. Records come with
/// their times in order, so most fall on the date of the one before. The
/// module runs on one thread.
#[derive(Clone, Copy)]
struct LastDay {
    date: (u32, u32, u32),
    days: i64,
}

thread_local! {
    static LAST_DAY: Cell<LastDay> = const {
        Cell::new(LastDay {
            date: (0, 0, 0),
            days: 0,
        })
    };
}

/// Days since 1970-01-01 of a date, after checking the day against its
/// month (the month is already 1 to 12 and the year 0 to 9999); the date
/// of the last call costs one comparison.
#[inline(always)]
fn day_number(year: u32, month: u32, day: u32, day_at: usize) -> Result<i64, TimeError> {
    let last = LAST_DAY.with(Cell::get);
    if last.date == (year, month, day) {
        return Ok(last.days);
    }
    day_number_new(year, month, day, day_at)
}

/// [`day_number`] for a date other than the last one: checked, counted
/// and remembered. Out of line, so that the common case stays small.
#[inline(never)]
fn day_number_new(year: u32, month: u32, day: u32, day_at: usize) -> Result<i64, TimeError> {
    if day == 0 || day > time::month_length(year, month) {
        return Err(TimeError::OutOfRange {
            field: Field::Day,
            at: day_at,
        });
    }
    let days = time::days_from_date(year, month, day);
    LAST_DAY.with(|cell| {
        cell.set(LastDay {
            date: (year, month, day),
            days,
        });
    });
    Ok(days)
}

/// Days since 1970-01-01 of the `yday`-th day (1-based) of `year`.
fn year_day_number(year: u32, yday: u32, at: usize) -> Result<i64, TimeError> {
    let length = if time::month_length(year, 2) == 29 {
        366
    } else {
        365
    };
    if yday == 0 || yday > length {
        return Err(TimeError::OutOfRange {
            field: Field::DayOfYear,
            at,
        });
    }
    Ok(time::days_from_date(year, 1, 1) + i64::from(yday) - 1)
}

/// The instant of `clock` on day `days` (since 1970-01-01) at `offset`
/// seconds east of UTC. A second 60 must land on 23:59:60 UTC on a month's
/// last day; it becomes the next second.
fn instant(days: i64, clock: &Clock, offset: i32) -> Result<Timestamp, TimeError> {
    instant_inline(days, clock, offset)
}

/// [`instant`], inlined into the common layouts' paths.
#[inline(always)]
fn instant_inline(days: i64, clock: &Clock, offset: i32) -> Result<Timestamp, TimeError> {
    let leap = clock.second == 60;
    let of_day = clock.hour * 3_600 + clock.minute * 60 + clock.second - u32::from(leap);
    let mut secs = days * SECS_PER_DAY + i64::from(of_day) - i64::from(offset);
    if leap {
        secs += 1;
        let month_end = secs.rem_euclid(SECS_PER_DAY) == 0
            && time::date_from_days(secs.div_euclid(SECS_PER_DAY)).2 == 1;
        if !month_end {
            return Err(TimeError::OutOfRange {
                field: Field::Second,
                at: clock.second_at,
            });
        }
    }
    Timestamp::with_fraction_of_digits(secs, clock.nanos, clock.digits)
        .ok_or(TimeError::OutsideRange)
}

/// The reference's year (UTC).
fn year_of(reference: Timestamp) -> i64 {
    time::year_from_days(reference.unix_seconds().div_euclid(SECS_PER_DAY))
}

/// A year from the reference's neighbourhood as a calendar year (0-9999).
fn calendar_year(year: i64) -> Result<u32, TimeError> {
    u32::try_from(year)
        .ok()
        .filter(|y| *y <= 9999)
        .ok_or(TimeError::OutsideRange)
}

/// Of `make(base - 1)`, `make(base)` and `make(base + 1)` (instants at
/// least `2 * half` seconds apart), the one closest to `reference`; the
/// first error if none is valid. `make(base)` alone settles it when it is
/// within `half` of the reference, which is the common case.
fn nearest(
    reference: Timestamp,
    base: i64,
    half: u64,
    make: impl Fn(i64) -> Result<Timestamp, TimeError>,
) -> Result<Timestamp, TimeError> {
    let distance = |ts: &Timestamp| ts.unix_seconds().abs_diff(reference.unix_seconds());
    let first = make(base);
    let others = match &first {
        Ok(ts) if distance(ts) <= half => return first,
        Ok(ts) if ts.unix_seconds() > reference.unix_seconds() => [Some(base - 1), None],
        Ok(_) => [Some(base + 1), None],
        Err(_) => [Some(base - 1), Some(base + 1)],
    };
    let mut best = first;
    for candidate in others.into_iter().flatten() {
        if let Ok(ts) = make(candidate) {
            match &best {
                Ok(b) if distance(b) <= distance(&ts) => {}
                _ => best = Ok(ts),
            }
        }
    }
    best
}

/// Half the shortest year, in seconds: a time within it of the reference
/// is closer than the same date a year before or after.
const HALF_YEAR: u64 = 365 * 86_400 / 2;

/// Half a day, in seconds.
const HALF_DAY: u64 = 86_400 / 2;

/// A month, day and clock without a year: in the year nearest the reference.
fn in_nearest_year(
    reference: Timestamp,
    month: u32,
    day: u32,
    day_at: usize,
    clock: &Clock,
    offset: i32,
) -> Result<Timestamp, TimeError> {
    nearest(reference, year_of(reference), HALF_YEAR, |year| {
        let days = day_number(calendar_year(year)?, month, day, day_at)?;
        instant(days, clock, offset)
    })
}

// ---------------------------------------------------------------------------
// The cursor: a position in the value and the few ways layouts read on.
// ---------------------------------------------------------------------------

/// A read position in a value. Every method advances only over what it
/// accepted and never indexes out of bounds.
#[derive(Clone, Copy, Debug)]
struct Cursor<'a> {
    text: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a [u8]) -> Self {
        Cursor { text, at: 0 }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// The digit's value at the cursor, if it is a digit.
    #[inline(always)]
    fn digit(&self) -> Option<u8> {
        self.peek()
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|d| *d <= 9)
    }

    fn rest(&self) -> &'a [u8] {
        self.text.get(self.at..).unwrap_or_default()
    }

    fn error(&self, what: Expected) -> TimeError {
        TimeError::Expected { what, at: self.at }
    }

    #[inline(always)]
    fn eat(&mut self, b: u8) -> bool {
        let found = self.peek() == Some(b);
        self.at += usize::from(found);
        found
    }

    fn expect(&mut self, b: u8) -> Result<(), TimeError> {
        if self.eat(b) {
            Ok(())
        } else {
            Err(self.error(Expected::Byte(b)))
        }
    }

    fn end(&self) -> Result<(), TimeError> {
        if self.at >= self.text.len() {
            Ok(())
        } else {
            Err(self.error(Expected::End))
        }
    }

    /// Exactly `N` digits (`N <= 4`).
    #[inline(always)]
    fn fixed<const N: usize>(&mut self) -> Result<u32, TimeError> {
        if let Some(chunk) = self.rest().first_chunk::<N>() {
            let mut value = 0u32;
            let mut all = true;
            for &b in chunk {
                let d = b.wrapping_sub(b'0');
                all &= d <= 9;
                value = value.wrapping_mul(10).wrapping_add(u32::from(d));
            }
            if all {
                self.at += N;
                return Ok(value);
            }
        }
        let good = self
            .rest()
            .iter()
            .take(N)
            .take_while(|b| b.is_ascii_digit())
            .count();
        Err(TimeError::Expected {
            what: Expected::Digit,
            at: self.at + good,
        })
    }

    /// One to `max` digits (`max <= 4`), as many as there are: strptime's
    /// rule for `%d`, `%H`, `%Y` and the like.
    fn up_to(&mut self, max: usize) -> Result<u32, TimeError> {
        let start = self.at;
        let mut value = 0u32;
        while self.at - start < max {
            let Some(d) = self.digit() else { break };
            value = value * 10 + u32::from(d);
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error(Expected::Digit));
        }
        Ok(value)
    }

    /// One or more digits, skipped.
    fn digits(&mut self) -> Result<(), TimeError> {
        let count = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if count == 0 {
            return Err(self.error(Expected::Digit));
        }
        self.at += count;
        Ok(())
    }

    /// The eight bytes at the cursor, zero bytes standing in past the end.
    #[inline(always)]
    fn word(&self) -> u64 {
        if let Some(word) = word_at(self.text, self.at) {
            return word;
        }
        match self.text.len().checked_sub(8) {
            // The text's last word, moved down so the cursor's byte is lane 0.
            Some(last) => {
                let shift = u32::try_from(8 * (self.at - last)).unwrap_or(64);
                word_at(self.text, last)
                    .and_then(|w| w.checked_shr(shift))
                    .unwrap_or(0)
            }
            None => self
                .rest()
                .iter()
                .rev()
                .fold(0, |w, &b| (w << 8) | u64::from(b)),
        }
    }

    /// Up to `limit` digits (at most 19), eight at a time: their value, how
    /// many there were, and whether one more digit follows.
    #[inline(always)]
    fn digit_run(&mut self, limit: usize) -> (u64, usize, bool) {
        let start = self.at;
        let mut value = 0u64;
        loop {
            let word = self.word();
            let n = leading_digits(word).min(limit - (self.at - start));
            if n == 0 {
                break;
            }
            value = value * pow10(n) + digits_value(word, n);
            self.at += n;
            if n < 8 {
                break;
            }
        }
        (value, self.at - start, self.digit().is_some())
    }

    /// The digits of a fraction, after its separator: 1 to 9 of them, as
    /// their integer value and count. A tenth digit is [`TimeError::TooPrecise`].
    /// Up to eight digits are read as one word.
    #[inline(always)]
    fn fraction_digits(&mut self) -> Result<(u32, usize), TimeError> {
        let start = self.at;
        let word = self.word();
        let n = leading_digits(word);
        if n == 0 {
            return Err(self.error(Expected::Digit));
        }
        let mut value = u32::try_from(digits_value(word, n)).unwrap_or(u32::MAX);
        self.at += n;
        if n == 8
            && let Some(d) = self.digit()
        {
            value = value * 10 + u32::from(d);
            self.at += 1;
            if self.digit().is_some() {
                return Err(TimeError::TooPrecise { at: start });
            }
        }
        Ok((value, self.at - start))
    }

    /// A fraction of a second after `.` or `,`, if one is there.
    #[inline(always)]
    fn optional_fraction(&mut self) -> Result<(u32, u8), TimeError> {
        if matches!(self.peek(), Some(b'.' | b',')) {
            self.at += 1;
            self.fraction()
        } else {
            Ok((0, 0))
        }
    }

    /// A fraction of a second as nanoseconds and its digit count.
    #[inline(always)]
    fn fraction(&mut self) -> Result<(u32, u8), TimeError> {
        let (value, n) = self.fraction_digits()?;
        let unit = u32::try_from(pow10(9 - n)).unwrap_or(1);
        Ok((value * unit, u8::try_from(n).unwrap_or(u8::MAX)))
    }

    /// Skips spaces; returns how many.
    fn skip_spaces(&mut self) -> usize {
        let start = self.at;
        while self.eat(b' ') {}
        self.at - start
    }

    /// One or more spaces.
    fn spaces(&mut self) -> Result<(), TimeError> {
        if self.skip_spaces() == 0 {
            return Err(self.error(Expected::Byte(b' ')));
        }
        Ok(())
    }

    /// Any ASCII whitespace, as a space in a strptime format matches.
    fn skip_whitespace(&mut self) {
        let count = self
            .rest()
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        self.at += count;
    }

    /// A month number `MM`, 01 to 12.
    fn month_number(&mut self) -> Result<u32, TimeError> {
        let at = self.at;
        let month = self.fixed::<2>()?;
        if !(1..=12).contains(&month) {
            return Err(TimeError::OutOfRange {
                field: Field::Month,
                at,
            });
        }
        Ok(month)
    }

    /// An English month or day name, any case: the three-letter
    /// abbreviation, taken with the rest of the full name when it follows.
    fn name(&mut self) -> Option<Name> {
        let &[a, b, c] = self.rest().first_chunk::<3>()?;
        // `| 0x20` lowercases ASCII letters, and no other byte becomes one.
        let key = u32::from_le_bytes([a, b, c, 0]) | 0x0020_2020;
        let slot = NAME_SLOTS.get(name_slot(key)).copied().flatten()?;
        let &(_, name, rest_of_full) =
            NAMES.get(usize::from(slot)).filter(|(k, _, _)| *k == key)?;
        self.at += 3;
        let rest = self.rest();
        let continues = rest
            .first()
            .zip(rest_of_full.first())
            .is_some_and(|(r, n)| r | 0x20 == *n);
        if continues
            && rest
                .get(..rest_of_full.len())
                .is_some_and(|r| r.eq_ignore_ascii_case(rest_of_full))
        {
            self.at += rest_of_full.len();
        }
        Some(name)
    }

    /// An English month name, any case.
    fn month_name(&mut self) -> Result<u32, TimeError> {
        let at = self.at;
        match self.name() {
            Some(Name::Month(month)) => Ok(month),
            _ => Err(TimeError::Expected {
                what: Expected::MonthName,
                at,
            }),
        }
    }
}

// ---------------------------------------------------------------------------
// strptime formats (fluent-bit's `Time_Format`).
// ---------------------------------------------------------------------------

/// Why a `Time_Format` cannot be compiled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// `%` followed by a conversion this module does not read (`%c`, `%U`,
    /// an `E`/`O` modifier...), at byte `at` of the format.
    Unsupported {
        /// The character after `%` (after `%:` for `%:x`).
        conversion: char,
        /// Byte offset of the `%`.
        at: usize,
    },
    /// The format ends with a lone `%` at byte `at`.
    Dangling {
        /// Byte offset of the `%`.
        at: usize,
    },
    /// A month without a day of the month or the other way round, or a
    /// year without either: no date can be made of it.
    IncompleteDate,
    /// No conversion gives a date, an hour or an epoch: nothing to read.
    NoTime,
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            FormatError::Unsupported { conversion, at } => {
                write!(f, "unsupported conversion %{conversion} at byte {at}")
            }
            FormatError::Dangling { at } => write!(f, "lone '%' at the end, byte {at}"),
            FormatError::IncompleteDate => f.write_str(
                "incomplete date: a month needs a day of the month, a year needs both or %j",
            ),
            FormatError::NoTime => f.write_str("no date, hour or %s to read"),
        }
    }
}

/// One step of a compiled format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    /// This byte, exactly.
    Literal(u8),
    /// Any run of whitespace, possibly empty (a space in the format).
    Space,
    /// `%Y`: 1 to 4 digits.
    Year,
    /// `%y`: 1 or 2 digits; 69-99 are 1969-1999, 00-68 are 2000-2068.
    ShortYear,
    /// `%m`: 1 to 12.
    Month,
    /// `%b %B %h`: an English month name.
    MonthName,
    /// `%d`: 1 to 31.
    Day,
    /// `%e`: as `%d`, after an optional space.
    PaddedDay,
    /// `%j`: 1 to 366.
    DayOfYear,
    /// `%a %A`: an English day name, not checked against the date.
    DayName,
    /// `%H`: 0 to 23.
    Hour,
    /// `%I`: 1 to 12.
    Hour12,
    /// `%p`: AM or PM.
    AmPm,
    /// `%M`: 0 to 59.
    Minute,
    /// `%S`: 0 to 60.
    Second,
    /// `%L %f`: 1 to 9 fractional digits.
    Fraction,
    /// `%z %:z`: `Z`, `±hh[[:]mm]` or a known zone name.
    Offset,
    /// `%Z`: a known zone name.
    ZoneName,
    /// `%s`: seconds since 1970.
    Epoch,
}

/// Where a compiled format's date comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum DateSource {
    /// `%s`: the whole instant.
    Epoch,
    /// Month and day, with or without a year.
    MonthDay { year: bool },
    /// Day of the year, with or without a year.
    YearDay { year: bool },
    /// No date: the day nearest the reference.
    TimeOnly,
}

/// A compiled strptime-style format: fluent-bit's `Time_Format` subset.
///
/// Conversions: `%Y %y %m %d %e %H %I %p %M %S %L %f %z %:z %Z %b %B %h %a
/// %A %j %s %T %D %F %R %n %t %%`; other bytes match themselves and a
/// whitespace byte matches any run of whitespace (as strptime's). Numbers
/// take as many digits as their field can have (strptime's rule, so
/// `%m%d` reads `0917`). `%L` (fluent-bit's) and `%f` read 1 to 9
/// fractional digits, kept as precision.
///
/// Year inference, UTC when there is no zone, and range checks follow
/// [`parse_any`]'s rules; a format without a date takes the day nearest the
/// reference. Text left after the format is an error, except a zone
/// designator (`Z`, `+hh:mm`...) when the format reads no zone: it is
/// applied, since fluent-bit's stock `docker` format `%Y-%m-%dT%H:%M:%S.%L`
/// meets a `Z` on every line, and fluent-bit ignores what follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeFormat {
    steps: Vec<Step>,
    date: DateSource,
    zone: bool,
}

impl TimeFormat {
    /// Compiles `fmt`; an unsupported conversion is an error naming it.
    pub fn compile(fmt: &str) -> Result<TimeFormat, FormatError> {
        let mut steps = Vec::with_capacity(fmt.len());
        let mut chars = fmt.char_indices();
        while let Some((at, ch)) = chars.next() {
            if ch != '%' {
                if ch.is_ascii_whitespace() {
                    steps.push(Step::Space);
                } else {
                    let mut buf = [0u8; 4];
                    steps.extend(ch.encode_utf8(&mut buf).bytes().map(Step::Literal));
                }
                continue;
            }
            let Some((_, conversion)) = chars.next() else {
                return Err(FormatError::Dangling { at });
            };
            let expansion: &[Step] = match conversion {
                'Y' => &[Step::Year],
                'y' => &[Step::ShortYear],
                'm' => &[Step::Month],
                'b' | 'B' | 'h' => &[Step::MonthName],
                'd' => &[Step::Day],
                'e' => &[Step::PaddedDay],
                'j' => &[Step::DayOfYear],
                'a' | 'A' => &[Step::DayName],
                'H' => &[Step::Hour],
                'I' => &[Step::Hour12],
                'p' => &[Step::AmPm],
                'M' => &[Step::Minute],
                'S' => &[Step::Second],
                'L' | 'f' => &[Step::Fraction],
                'z' => &[Step::Offset],
                'Z' => &[Step::ZoneName],
                's' => &[Step::Epoch],
                'T' => &[
                    Step::Hour,
                    Step::Literal(b':'),
                    Step::Minute,
                    Step::Literal(b':'),
                    Step::Second,
                ],
                'R' => &[Step::Hour, Step::Literal(b':'), Step::Minute],
                'D' => &[
                    Step::Month,
                    Step::Literal(b'/'),
                    Step::Day,
                    Step::Literal(b'/'),
                    Step::ShortYear,
                ],
                'F' => &[
                    Step::Year,
                    Step::Literal(b'-'),
                    Step::Month,
                    Step::Literal(b'-'),
                    Step::Day,
                ],
                'n' | 't' => &[Step::Space],
                '%' => &[Step::Literal(b'%')],
                ':' => match chars.next() {
                    Some((_, 'z')) => &[Step::Offset],
                    Some((_, other)) => {
                        return Err(FormatError::Unsupported {
                            conversion: other,
                            at,
                        });
                    }
                    None => return Err(FormatError::Dangling { at }),
                },
                other => {
                    return Err(FormatError::Unsupported {
                        conversion: other,
                        at,
                    });
                }
            };
            steps.extend_from_slice(expansion);
        }
        let has = |wanted: &[Step]| steps.iter().any(|s| wanted.contains(s));
        let year = has(&[Step::Year, Step::ShortYear]);
        let month = has(&[Step::Month, Step::MonthName]);
        let day = has(&[Step::Day, Step::PaddedDay]);
        let date = if has(&[Step::Epoch]) {
            DateSource::Epoch
        } else if has(&[Step::DayOfYear]) {
            DateSource::YearDay { year }
        } else if month && day {
            DateSource::MonthDay { year }
        } else if month || day || year {
            return Err(FormatError::IncompleteDate);
        } else if has(&[Step::Hour, Step::Hour12]) {
            DateSource::TimeOnly
        } else {
            return Err(FormatError::NoTime);
        };
        let zone = has(&[Step::Offset, Step::ZoneName]);
        steps.shrink_to_fit();
        Ok(TimeFormat { steps, date, zone })
    }

    /// Reads `text` with the format; `reference` (the record's time) gives a
    /// missing year or day, as in [`parse_any`].
    pub fn parse(&self, text: &[u8], reference: Timestamp) -> Result<Timestamp, TimeError> {
        let mut c = Cursor::new(text);
        let mut v = Parsed::default();
        for step in &self.steps {
            read_step(&mut c, *step, &mut v)?;
        }
        if self.zone {
            c.end()?;
        } else {
            v.offset = trailing_zone(&mut c)?;
        }
        let hour = match v.pm {
            Some(pm) => v.hour % 12 + if pm { 12 } else { 0 },
            None => v.hour,
        };
        let clock = Clock {
            hour,
            minute: v.minute,
            second: v.second,
            nanos: v.nanos,
            digits: v.digits,
            second_at: v.second_at,
        };
        match self.date {
            DateSource::Epoch => {
                let secs = i64::try_from(v.epoch).map_err(|_| TimeError::OutsideRange)?;
                Timestamp::new(secs, v.nanos, v.digits).ok_or(TimeError::OutsideRange)
            }
            DateSource::MonthDay { year: true } => instant(
                day_number(v.year, v.month, v.day, v.day_at)?,
                &clock,
                v.offset,
            ),
            DateSource::MonthDay { year: false } => {
                in_nearest_year(reference, v.month, v.day, v.day_at, &clock, v.offset)
            }
            DateSource::YearDay { year: true } => instant(
                year_day_number(v.year, v.yday, v.yday_at)?,
                &clock,
                v.offset,
            ),
            DateSource::YearDay { year: false } => {
                nearest(reference, year_of(reference), HALF_YEAR, |y| {
                    let days = year_day_number(calendar_year(y)?, v.yday, v.yday_at)?;
                    instant(days, &clock, v.offset)
                })
            }
            DateSource::TimeOnly => nearest(
                reference,
                reference.unix_seconds().div_euclid(SECS_PER_DAY),
                HALF_DAY,
                |days| instant(days, &clock, v.offset),
            ),
        }
    }
}

/// The fields a format has read so far.
#[derive(Clone, Copy, Debug, Default)]
struct Parsed {
    year: u32,
    month: u32,
    day: u32,
    day_at: usize,
    yday: u32,
    yday_at: usize,
    hour: u32,
    pm: Option<bool>,
    minute: u32,
    second: u32,
    second_at: usize,
    nanos: u32,
    digits: u8,
    offset: i32,
    epoch: u64,
}

/// A number of 1 to `max` digits in `low..=high`, else `field` is out of
/// range at its first byte.
fn ranged(
    c: &mut Cursor<'_>,
    max: usize,
    low: u32,
    high: u32,
    field: Field,
) -> Result<u32, TimeError> {
    let at = c.at;
    let value = c.up_to(max)?;
    if !(low..=high).contains(&value) {
        return Err(TimeError::OutOfRange { field, at });
    }
    Ok(value)
}

/// Reads one step of a format into `v`.
fn read_step(c: &mut Cursor<'_>, step: Step, v: &mut Parsed) -> Result<(), TimeError> {
    match step {
        Step::Literal(b) => c.expect(b)?,
        Step::Space => c.skip_whitespace(),
        Step::Year => v.year = c.up_to(4)?,
        Step::ShortYear => {
            let y = c.up_to(2)?;
            v.year = if y < 69 { 2000 + y } else { 1900 + y };
        }
        Step::Month => v.month = ranged(c, 2, 1, 12, Field::Month)?,
        Step::MonthName => v.month = c.month_name()?,
        Step::PaddedDay | Step::Day => {
            if step == Step::PaddedDay {
                c.eat(b' ');
            }
            v.day_at = c.at;
            v.day = ranged(c, 2, 1, 31, Field::Day)?;
        }
        Step::DayOfYear => {
            v.yday_at = c.at;
            v.yday = ranged(c, 3, 1, 366, Field::DayOfYear)?;
        }
        Step::DayName => {
            let at = c.at;
            if c.name() != Some(Name::Day) {
                return Err(TimeError::Expected {
                    what: Expected::DayName,
                    at,
                });
            }
        }
        Step::Hour => v.hour = ranged(c, 2, 0, 23, Field::Hour)?,
        Step::Hour12 => v.hour = ranged(c, 2, 1, 12, Field::Hour)?,
        Step::AmPm => {
            let [a, b] = c.rest().first_chunk::<2>().copied().unwrap_or_default();
            v.pm = match [a | 0x20, b | 0x20] {
                [b'a', b'm'] => Some(false),
                [b'p', b'm'] => Some(true),
                _ => return Err(c.error(Expected::AmPm)),
            };
            c.at += 2;
        }
        Step::Minute => v.minute = ranged(c, 2, 0, 59, Field::Minute)?,
        Step::Second => {
            v.second_at = c.at;
            v.second = ranged(c, 2, 0, 60, Field::Second)?;
        }
        Step::Fraction => (v.nanos, v.digits) = c.fraction()?,
        Step::Offset => {
            c.skip_whitespace();
            v.offset = zone(c)?;
        }
        Step::ZoneName => v.offset = zone_name(c)?,
        Step::Epoch => {
            let start = c.at;
            let (value, n, more) = c.digit_run(19);
            if more {
                return Err(TimeError::OutOfRange {
                    field: Field::Epoch,
                    at: start,
                });
            }
            if n == 0 {
                return Err(c.error(Expected::Digit));
            }
            v.epoch = value;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn ts(text: &str) -> Timestamp {
        time::parse_rfc3339(text.as_bytes()).unwrap()
    }

    fn rfc(t: Timestamp) -> String {
        let mut out = Vec::new();
        t.write_rfc3339(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn expected(what: Expected, at: usize) -> TimeError {
        TimeError::Expected { what, at }
    }

    fn range(field: Field, at: usize) -> TimeError {
        TimeError::OutOfRange { field, at }
    }

    /// The reference most cases use: shortly after the times they carry.
    const REF: &str = "2018-09-17T12:19:30Z";

    /// `base` with each byte replaced by a digit, a space, a separator or
    /// a letter, and cut short at every length, after `extra`.
    fn near(base: &[u8], mut extra: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
        for i in 0..base.len() {
            for b in [b'0', b'9', b':', b'.', b' ', b'a', 0x2f, 0x3a, 0xb0] {
                let mut v = base.to_vec();
                if let Some(slot) = v.get_mut(i) {
                    *slot = b;
                }
                extra.push(v);
            }
        }
        for len in 0..=base.len() {
            extra.push(base.get(..len).unwrap().to_vec());
        }
        extra
    }

    /// A word-wise reader and its byte-wise reference give the same
    /// outcome on every value, and stop at the same byte when they read it.
    fn word_and_bytes_agree<T: PartialEq + fmt::Debug>(
        values: &[Vec<u8>],
        word: fn(&mut Cursor<'_>) -> Result<T, TimeError>,
        bytes: fn(&mut Cursor<'_>) -> Result<T, TimeError>,
    ) {
        for v in values {
            let (mut w, mut b) = (Cursor::new(v), Cursor::new(v));
            let (got, want) = (word(&mut w), bytes(&mut b));
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(v));
            if want.is_ok() {
                assert_eq!(w.at, b.at, "{:?}", String::from_utf8_lossy(v));
            }
        }
    }

    /// `day_and_clock` reads what follows a month name as
    /// `day_and_clock_by_byte` does, and stops at the same byte: every
    /// day from 00 to 99, padded days, and each byte of
    /// ` DD HH:MM:SS.ffffff YYYY` replaced.
    #[test]
    fn day_and_clock_word_and_bytes_agree() {
        let days = (0..100u32).flat_map(|day| {
            [
                format!(" {day:02} 08:48:51 2026").into_bytes(),
                format!("  {} 08:48:51", day % 10).into_bytes(),
            ]
        });
        let values = near(b" 27 23:59:60.123456 2026", days.collect());
        word_and_bytes_agree(&values, day_and_clock, day_and_clock_by_byte);
    }

    /// `month_day` reads klog's `MMDD ` as `month_day_by_byte` does, and
    /// stops at the same byte: every month and day from 00 to 99, and each
    /// byte of `1127 08:42:32.376349` replaced.
    #[test]
    fn month_day_word_and_bytes_agree() {
        let dates = (0..100u32).flat_map(|n| {
            [
                format!("{n:02}27 08:42:32").into_bytes(),
                format!("11{n:02} 08:42:32").into_bytes(),
            ]
        });
        let values = near(b"1127 08:42:32.376349", dates.collect());
        word_and_bytes_agree(&values, month_day, month_day_by_byte);
    }

    /// The slot table finds each name as a search of the list does, for
    /// every three letters in any case and for bytes around the letters.
    #[test]
    fn name_slots_find_what_the_list_holds() {
        let bytes: Vec<u8> = (b'a'..=b'z')
            .chain(b'A'..=b'Z')
            .chain([b'@', b'[', 0])
            .collect();
        for &a in &bytes {
            for &b in &bytes {
                for &c in &bytes {
                    let text = [a, b, c];
                    let key = u32::from_le_bytes([a, b, c, 0]) | 0x0020_2020;
                    let want = NAMES.iter().find(|(k, _, _)| *k == key).map(|n| n.1);
                    assert_eq!(Cursor::new(&text).name(), want, "{text:?}");
                }
            }
        }
    }

    /// `clock` reads a time of day as `clock_by_byte` does, and stops at
    /// the same byte, for every value near `HH:MM:SS`: each byte of a
    /// valid clock replaced by a digit, a separator or a letter, every hour,
    /// minute and second from 00 to 99, fractions, and texts cut short.
    #[test]
    fn clock_word_and_bytes_agree() {
        let mut values: Vec<Vec<u8>> = Vec::new();
        for n in 0..100u32 {
            for (h, m, s) in [(n, 30, 30), (12, n, 30), (12, 30, n), (n, n, n)] {
                values.push(format!("{h:02}:{m:02}:{s:02}").into_bytes());
            }
        }
        let base = b"23:59:60.123456789 Z";
        for i in 0..base.len() {
            for b in [
                b'0', b'9', b':', b'.', b' ', b'/', b'a', 0x2f, 0x3a, 0x3b, 0x40, 0xb0,
            ] {
                let mut v = base.to_vec();
                if let Some(slot) = v.get_mut(i) {
                    *slot = b;
                }
                values.push(v);
            }
        }
        for len in 0..=base.len() {
            values.push(base.get(..len).unwrap().to_vec());
        }
        for v in &values {
            for seconds in [Seconds::Required, Seconds::Optional] {
                for hour24 in [Hour24::Never, Hour24::EndOfDay] {
                    for start in [0, 1] {
                        let mut text = b"T".repeat(start);
                        text.extend_from_slice(v);
                        let mut word = Cursor::new(&text);
                        word.at = start;
                        let mut bytes = word;
                        let a = clock(&mut word, seconds, hour24);
                        let b = clock_by_byte(&mut bytes, seconds, hour24);
                        let shown = String::from_utf8_lossy(v);
                        assert_eq!(a, b, "{shown:?} {seconds:?} {hour24:?}");
                        if a.is_ok() {
                            assert_eq!(word.at, bytes.at, "{shown:?}");
                        }
                    }
                }
            }
        }
    }

    type Case = (
        &'static str,
        &'static str,
        Option<&'static str>,
        Result<&'static str, TimeError>,
    );

    /// Named cases: name, value, reference (default [`REF`]), expected
    /// RFC 3339 rendering or error.
    #[rustfmt::skip]
    fn any_cases() -> Vec<Case> {
        use Expected as E;
        use Field as F;
        vec![
            // ISO 8601 / RFC 3339 and their relatives.
            ("rfc3339 utc ms", "2018-09-17T12:13:43.123Z", None, Ok("2018-09-17T12:13:43.123Z")),
            ("rfc3339 no fraction", "2018-09-17T12:13:43Z", None, Ok("2018-09-17T12:13:43Z")),
            ("one digit stays one digit", "2018-09-17T12:13:43.5Z", None, Ok("2018-09-17T12:13:43.5Z")),
            ("nanos stay nine digits", "2018-09-17T12:13:43.123456789Z", None, Ok("2018-09-17T12:13:43.123456789Z")),
            ("trailing zeros kept", "2018-09-17T12:13:43.100Z", None, Ok("2018-09-17T12:13:43.100Z")),
            ("offset +hh:mm", "2018-09-17T14:13:43+02:00", None, Ok("2018-09-17T12:13:43Z")),
            ("offset +hhmm", "2018-09-17T14:13:43.25+0200", None, Ok("2018-09-17T12:13:43.25Z")),
            ("offset +hh", "2018-09-17T14:13:43+02", None, Ok("2018-09-17T12:13:43Z")),
            ("offset -hh:mm crosses the year", "2018-12-31T23:30:00-01:00", None, Ok("2019-01-01T00:30:00Z")),
            ("offset with minutes", "2018-09-17T17:43:43+05:30", None, Ok("2018-09-17T12:13:43Z")),
            ("offset -00:00", "2018-09-17T12:13:43-00:00", None, Ok("2018-09-17T12:13:43Z")),
            ("lowercase t and z", "2018-09-17t12:13:43z", None, Ok("2018-09-17T12:13:43Z")),
            ("space separator", "2018-09-17 12:13:43Z", None, Ok("2018-09-17T12:13:43Z")),
            ("no zone is utc", "2018-09-17T12:13:43", None, Ok("2018-09-17T12:13:43Z")),
            ("python logging comma", "2018-09-17 12:13:43,123", None, Ok("2018-09-17T12:13:43.123Z")),
            ("java millis", "2018-09-17 12:13:43.123", None, Ok("2018-09-17T12:13:43.123Z")),
            ("date only", "2018-09-17", None, Ok("2018-09-17T00:00:00Z")),
            ("nginx error log", "2018/09/17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("go log microseconds", "2018/09/17 12:19:26.123456", None, Ok("2018-09-17T12:19:26.123456Z")),
            ("go time String", "2018-09-17 14:19:26.123456789 +0200 CEST", None, Ok("2018-09-17T12:19:26.123456789Z")),
            ("go layout of the issue", "2018-09-17 05:19:26.123456789 -0700 MST", None, Ok("2018-09-17T12:19:26.123456789Z")),
            ("go time String, monotonic", "2018-09-17 12:19:26.5 +0000 UTC m=+0.000123001", None, Ok("2018-09-17T12:19:26.5Z")),
            ("go monotonic without label", "2018-09-17 12:19:26 +0000 m=-1.5", None, Ok("2018-09-17T12:19:26Z")),
            ("go label of digits", "2018-09-17 17:49:26 +0530 +0530", None, Ok("2018-09-17T12:19:26Z")),
            ("rails, space before offset", "2018-09-17 05:19:26 -0700", None, Ok("2018-09-17T12:19:26Z")),
            ("postgres UTC name", "2018-09-17 12:19:26.123 UTC", None, Ok("2018-09-17T12:19:26.123Z")),
            ("zone name any case", "2018-09-17 12:19:26 gmt", None, Ok("2018-09-17T12:19:26Z")),
            ("leap day", "2024-02-29T00:00:00Z", None, Ok("2024-02-29T00:00:00Z")),
            ("leap day 2000", "2000-02-29T00:00:00Z", None, Ok("2000-02-29T00:00:00Z")),
            ("24:00 is the next midnight", "2018-12-31T24:00:00Z", None, Ok("2019-01-01T00:00:00Z")),
            ("24:00 with a zero fraction", "2018-09-17T24:00:00.000Z", None, Ok("2018-09-18T00:00:00.000Z")),
            ("leap second", "2016-12-31T23:59:60Z", None, Ok("2017-01-01T00:00:00Z")),
            ("leap second with fraction", "2015-06-30T23:59:60.5Z", None, Ok("2015-07-01T00:00:00.5Z")),
            ("leap second with offset", "2017-01-01T00:59:60+01:00", None, Ok("2017-01-01T00:00:00Z")),
            ("first instant", "0000-01-01T00:00:00Z", None, Ok("0000-01-01T00:00:00Z")),
            ("last instant", "9999-12-31T23:59:59.999999999Z", None, Ok("9999-12-31T23:59:59.999999999Z")),
            ("24:00:01", "2018-09-17T24:00:01Z", None, Err(range(F::Hour, 11))),
            ("24:00 with a fraction", "2018-09-17T24:00:00.1Z", None, Err(range(F::Hour, 11))),
            ("hour 25", "2018-09-17T25:00:00Z", None, Err(range(F::Hour, 11))),
            ("minute 60", "2018-09-17T12:60:00Z", None, Err(range(F::Minute, 14))),
            ("second 61", "2018-09-17T12:00:61Z", None, Err(range(F::Second, 17))),
            ("leap second mid-month", "2016-12-15T23:59:60Z", None, Err(range(F::Second, 17))),
            ("leap second at noon", "2016-12-31T12:00:60Z", None, Err(range(F::Second, 17))),
            ("month 13", "2018-13-01T00:00:00Z", None, Err(range(F::Month, 5))),
            ("month 0", "2018-00-01T00:00:00Z", None, Err(range(F::Month, 5))),
            ("february 30", "2018-02-30T00:00:00Z", None, Err(range(F::Day, 8))),
            ("february 29, common year", "2023-02-29T00:00:00Z", None, Err(range(F::Day, 8))),
            ("1900 is no leap year", "1900-02-29T00:00:00Z", None, Err(range(F::Day, 8))),
            ("april 31", "2018-04-31T00:00:00Z", None, Err(range(F::Day, 8))),
            ("day 0", "2018-04-00", None, Err(range(F::Day, 8))),
            ("ten fraction digits", "2018-09-17T12:13:43.1234567890Z", None, Err(TimeError::TooPrecise { at: 20 })),
            ("empty fraction", "2018-09-17T12:13:43.Z", None, Err(expected(E::Digit, 20))),
            ("offset hour 24", "2018-09-17T12:13:43+24:00", None, Err(range(F::Offset, 19))),
            ("offset minute 60", "2018-09-17T12:13:43+01:60", None, Err(range(F::Offset, 19))),
            ("offset of one digit", "2018-09-17T12:13:43+2", None, Err(expected(E::Digit, 21))),
            ("trailing byte", "2018-09-17T12:13:43Zx", None, Err(expected(E::End, 20))),
            ("trailing space", "2018-09-17T12:13:43Z ", None, Err(expected(E::End, 20))),
            ("mixed date separators", "2018-09/17", None, Err(expected(E::Byte(b'-'), 7))),
            ("bad date-time separator", "2018-09-17X12:13:43Z", None, Err(expected(E::DateTimeSeparator, 10))),
            ("no seconds", "2018-09-17T12:13Z", None, Err(expected(E::Byte(b':'), 16))),
            ("one-digit month", "2018-9-17", None, Err(expected(E::Digit, 6))),
            ("letter in the year", "2a18-09-17", None, Err(expected(E::Digit, 1))),
            ("unknown zone name", "2018-09-17 12:13:43 CET", None, Err(TimeError::UnknownZone { at: 20 })),
            ("ambiguous US zone alone", "2018-09-17 12:13:43 CST", None, Err(TimeError::UnknownZone { at: 20 })),
            ("go label missing", "2018-09-17 12:13:43 +0000 ", None, Err(expected(E::Zone, 26))),
            ("go monotonic without sign", "2018-09-17 12:13:43 +0000 UTC m=0.1", None, Err(expected(E::Byte(b'+'), 32))),
            ("junk after the seconds", "2018-09-17T12:13:43#", None, Err(expected(E::Zone, 19))),
            ("before year 0 once in UTC", "0000-01-01T00:00:00+00:01", None, Err(TimeError::OutsideRange)),
            ("after year 9999 once in UTC", "9999-12-31T23:59:59-00:01", None, Err(TimeError::OutsideRange)),
            // Common Log Format.
            ("nginx time_local", "17/Sep/2018:12:19:26 +0000", None, Ok("2018-09-17T12:19:26Z")),
            ("clf month upper case", "17/SEP/2018:12:19:26 +0000", None, Ok("2018-09-17T12:19:26Z")),
            ("clf month lower case", "17/sep/2018:12:19:26 +0000", None, Ok("2018-09-17T12:19:26Z")),
            ("clf full month name", "17/September/2018:12:19:26 +0000", None, Ok("2018-09-17T12:19:26Z")),
            ("clf offset crosses the year", "01/Jan/2019:01:00:00 +0130", None, Ok("2018-12-31T23:30:00Z")),
            ("clf negative offset", "31/Dec/2018:23:00:00 -0500", None, Ok("2019-01-01T04:00:00Z")),
            ("clf with a fraction", "17/Sep/2018:12:19:26.250 +0000", None, Ok("2018-09-17T12:19:26.250Z")),
            ("clf without offset", "17/Sep/2018:12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("clf unknown month", "17/Sek/2018:12:19:26 +0000", None, Err(expected(E::MonthName, 3))),
            ("numeric day/month is ambiguous", "17/09/2018 12:19:26", None, Err(expected(E::MonthName, 3))),
            ("clf february 29, 2100", "29/Feb/2100:00:00:00 +0000", None, Err(range(F::Day, 0))),
            ("clf space instead of colon", "17/Sep/2018 12:19:26 +0000", None, Err(expected(E::Byte(b':'), 11))),
            ("clf closing bracket", "17/Sep/2018:12:19:26 +0000]", None, Err(expected(E::End, 26))),
            // syslog (RFC 3164) and Go's Stamp: the year from the reference.
            ("syslog", "Sep 17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("syslog padded day", "Sep  7 12:19:26", None, Ok("2018-09-07T12:19:26Z")),
            ("syslog upper case", "SEP 17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("syslog lower case", "sep 17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("syslog full month name", "September 17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("go StampMilli", "Sep 17 12:19:26.123", None, Ok("2018-09-17T12:19:26.123Z")),
            ("dec 31 seen on jan 1 is last year", "Dec 31 23:59:59", Some("2019-01-01T00:00:05Z"), Ok("2018-12-31T23:59:59Z")),
            ("jan 1 seen on dec 31 is next year", "Jan  1 00:00:01", Some("2018-12-31T23:59:58Z"), Ok("2019-01-01T00:00:01Z")),
            ("a day late in the same year", "Mar  1 00:00:00", Some("2018-03-02T00:00:00Z"), Ok("2018-03-01T00:00:00Z")),
            ("feb 29 in a leap year", "Feb 29 10:00:00", Some("2024-03-01T00:00:00Z"), Ok("2024-02-29T10:00:00Z")),
            ("feb 29 seen the next january", "Feb 29 10:00:00", Some("2025-01-10T00:00:00Z"), Ok("2024-02-29T10:00:00Z")),
            ("feb 29 far from a leap year", "Feb 29 10:00:00", Some("2022-06-01T00:00:00Z"), Err(range(F::Day, 4))),
            ("syslog day 32", "Sep 32 12:19:26", None, Err(range(F::Day, 4))),
            ("syslog hour 24", "Sep 17 24:00:00", None, Err(range(F::Hour, 7))),
            ("syslog without time", "Sep 17", None, Err(expected(E::Byte(b' '), 6))),
            ("sept is not an abbreviation", "Sept 17 12:19:26", None, Err(expected(E::Byte(b' '), 3))),
            ("syslog with a year", "Sep 17 12:19:26 2018", Some("2030-01-01T00:00:00Z"), Ok("2018-09-17T12:19:26Z")),
            ("syslog junk after year", "Sep 17 12:19:26 2018x", None, Err(expected(E::End, 20))),
            ("asctime", "Mon Sep 17 12:19:26 2018", None, Ok("2018-09-17T12:19:26Z")),
            ("go UnixDate", "Mon Sep 17 12:19:26 UTC 2018", None, Ok("2018-09-17T12:19:26Z")),
            ("go RubyDate", "Mon Sep 17 14:19:26 +0200 2018", None, Ok("2018-09-17T12:19:26Z")),
            ("full day name, any case", "MONDAY Sep 17 12:19:26 2018", None, Ok("2018-09-17T12:19:26Z")),
            ("day name and syslog", "mon Sep 17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            // klog / glog.
            ("klog error", "E0917 12:19:26.569980", None, Ok("2018-09-17T12:19:26.569980Z")),
            ("klog fatal, no fraction", "F0917 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("klog without its letter", "0917 12:19:26.569980", None, Ok("2018-09-17T12:19:26.569980Z")),
            ("klog without its letter, bad month", "1317 12:19:26", None, Err(range(F::Month, 0))),
            ("klog across new year", "I1231 23:59:59.999999", Some("2019-01-01T00:00:01Z"), Ok("2018-12-31T23:59:59.999999Z")),
            ("klog month 13", "W1317 12:19:26.569980", None, Err(range(F::Month, 1))),
            ("klog february 30", "I0230 12:19:26.569980", None, Err(range(F::Day, 3))),
            ("klog with the rest of the header", "E0917 12:19:26.569980 1 watch.go:1]", None, Err(expected(E::End, 21))),
            // RFC 2822 / RFC 1123.
            ("rfc1123", "Mon, 17 Sep 2018 12:19:26 GMT", None, Ok("2018-09-17T12:19:26Z")),
            ("rfc2822 offset", "Mon, 17 Sep 2018 14:19:26 +0200", None, Ok("2018-09-17T12:19:26Z")),
            ("rfc2822 without day name", "17 Sep 2018 12:19:26 +0000", None, Ok("2018-09-17T12:19:26Z")),
            ("rfc2822 one-digit day", "7 Sep 2018 12:19:26 UT", None, Ok("2018-09-07T12:19:26Z")),
            ("rfc2822 without seconds", "Mon, 17 Sep 2018 12:19 +0000", None, Ok("2018-09-17T12:19:00Z")),
            ("rfc2822 without zone", "Mon, 17 Sep 2018 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("rfc2822 lower case", "mon, 17 sep 2018 12:19:26 gmt", None, Ok("2018-09-17T12:19:26Z")),
            ("rfc2822 full names upper case", "MONDAY, 17 SEPTEMBER 2018 12:19:26 GMT", None, Ok("2018-09-17T12:19:26Z")),
            ("day name not checked", "Fri, 17 Sep 2018 12:19:26 GMT", None, Ok("2018-09-17T12:19:26Z")),
            ("rfc2822 US zone name", "Mon, 17 Sep 2018 12:19:26 EST", None, Err(TimeError::UnknownZone { at: 26 })),
            ("rfc2822 september 31", "Mon, 31 Sep 2018 12:19:26 GMT", None, Err(range(F::Day, 5))),
            ("day name alone", "Mon", None, Err(expected(E::MonthName, 3))),
            ("not a name", "Foo 17 12:19:26", None, Err(expected(E::Name, 0))),
            // Epoch.
            ("epoch seconds", "1537186766", None, Ok("2018-09-17T12:19:26Z")),
            ("epoch seconds with ms", "1537186766.569", None, Ok("2018-09-17T12:19:26.569Z")),
            ("epoch seconds, one digit", "1537186766.5", None, Ok("2018-09-17T12:19:26.5Z")),
            ("python time.time()", "1537186766.5690002", None, Ok("2018-09-17T12:19:26.5690002Z")),
            ("epoch millis", "1537186766569", None, Ok("2018-09-17T12:19:26.569Z")),
            ("epoch millis with a fraction", "1537186766569.98", None, Ok("2018-09-17T12:19:26.56998Z")),
            ("epoch micros", "1537186766569980", None, Ok("2018-09-17T12:19:26.569980Z")),
            ("epoch nanos", "1537186766569980123", None, Ok("2018-09-17T12:19:26.569980123Z")),
            ("epoch zero", "0", None, Ok("1970-01-01T00:00:00Z")),
            ("epoch small", "42", None, Ok("1970-01-01T00:00:42Z")),
            ("epoch last 10-digit second", "9999999999", None, Ok("2286-11-20T17:46:39Z")),
            ("epoch 20 digits", "15371867665699801234", None, Err(range(F::Epoch, 0))),
            ("epoch nanos with a fraction", "1537186766569980123.4", None, Err(TimeError::TooPrecise { at: 20 })),
            ("epoch with a unit", "1537186766s", None, Err(expected(E::End, 10))),
            ("epoch empty fraction", "1537186766.", None, Err(expected(E::Digit, 11))),
            // Nothing recognisable.
            ("empty", "", None, Err(expected(E::Time, 0))),
            ("leading space", " 2018-09-17T12:13:43Z", None, Err(expected(E::Time, 0))),
            ("negative epoch", "-1", None, Err(expected(E::Time, 0))),
            ("non-ascii digit", "２018-09-17", None, Err(expected(E::Time, 0))),
        ]
    }

    #[test]
    fn named_cases() {
        for (name, input, reference, want) in any_cases() {
            let reference = ts(reference.unwrap_or(REF));
            let got = parse_any(input.as_bytes(), reference).map(rfc);
            assert_eq!(got, want.map(str::to_string), "case {name:?}: {input:?}");
        }
    }

    #[test]
    fn precision_is_kept() {
        let reference = ts(REF);
        for (input, digits) in [
            ("2018-09-17T12:13:43Z", 0),
            ("2018-09-17T12:13:43.5Z", 1),
            ("2018-09-17T12:13:43.120Z", 3),
            ("2018-09-17T12:13:43.123456789Z", 9),
            ("1537186766", 0),
            ("1537186766569", 3),
            ("1537186766569980", 6),
            ("1537186766569980123", 9),
            ("1537186766.5", 1),
        ] {
            let t = parse_any(input.as_bytes(), reference).unwrap();
            assert_eq!(t.frac_digits(), digits, "{input}");
        }
    }

    #[test]
    fn error_messages() {
        let reference = ts(REF);
        let cases = [
            ("2018-13-01", "month out of range at byte 5"),
            ("2018-09-17X", "expected 'T' or ' ' at byte 10"),
            (
                "17/Sek/2018:12:19:26 +0000",
                "expected a month name at byte 3",
            ),
            (
                "2018-09-17 12:13:43 CET",
                "unknown zone name at byte 20 (only UTC, GMT, UT, Z)",
            ),
            (
                "2018-09-17T12:13:43.1234567890",
                "fraction finer than nanoseconds at byte 20",
            ),
            (
                "0000-01-01T00:00:00+01:00",
                "time outside years 0000-9999 UTC",
            ),
            ("", "expected a time at byte 0"),
            (
                "2018-09-17T12:13:43Zx",
                "expected the end of the time at byte 20",
            ),
        ];
        for (input, message) in cases {
            let error = parse_any(input.as_bytes(), reference).unwrap_err();
            assert_eq!(error.to_string(), message, "{input}");
        }
        assert_eq!(Expected::Byte(0xc3).to_string(), "byte 0xc3");
    }

    // -----------------------------------------------------------------------
    // strptime formats.
    // -----------------------------------------------------------------------

    /// Every `Time_Format` of fluent-bit's stock parser files, with a value
    /// of its shape and the time it is.
    #[rustfmt::skip]
    const STOCK: &[(&str, &str, &str)] = &[
        ("%d/%b/%Y:%H:%M:%S %z", "17/Sep/2018:14:19:26 +0200", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%dT%H:%M:%S.%L%z", "2018-09-17T14:19:26.569+0200", "2018-09-17T12:19:26.569Z"),
        ("%Y-%m-%dT%H:%M:%S.%L", "2018-09-17T12:19:26.569980123Z", "2018-09-17T12:19:26.569980123Z"),
        ("%b %d %H:%M:%S", "Sep 17 12:19:26", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%dT%H:%M:%S %z", "2018-09-17T14:19:26 +02:00", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%dT%H:%M:%S.%L%Z", "2018-09-17T12:19:26.5UTC", "2018-09-17T12:19:26.5Z"),
        ("%Y-%m-%dT%H:%M:%S%z", "2018-09-17T14:19:26+02:00", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%dT%H:%M:%S.%LZ", "2021-03-09T17:32:02.136Z", "2021-03-09T17:32:02.136Z"),
        ("%Y/%m/%d %H:%M:%S", "2018/09/17 12:19:26", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%d %H:%M:%S", "2018-09-17 12:19:26", "2018-09-17T12:19:26Z"),
        ("%m%d %H:%M:%S.%L", "0917 12:19:26.569980", "2018-09-17T12:19:26.569980Z"),
        ("%Y-%m-%d %H:%M:%S.%L", "2018-09-17 12:19:26.569", "2018-09-17T12:19:26.569Z"),
        ("%Y-%m-%dT%H:%M:%S.%L%:z", "2018-09-17T14:19:26.569+02:00", "2018-09-17T12:19:26.569Z"),
        ("%Y-%m-%dT%H:%M:%S", "2018-09-17T12:19:26", "2018-09-17T12:19:26Z"),
        ("%d-%b-%Y::%H:%M:%S", "17-Sep-2018::12:19:26", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%dT%H:%M:%SZ", "2018-09-17T12:19:26Z", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%d %H:%M:%S,%L", "2018-09-17 12:19:26,5", "2018-09-17T12:19:26.5Z"),
        ("%Y-%m-%d %H:%M:%S %z", "2018-09-17 05:19:26 -0700", "2018-09-17T12:19:26Z"),
        ("%Y-%m-%dT%H:%M:%S.%L   ", "2018-09-17T12:19:26.136Z", "2018-09-17T12:19:26.136Z"),
    ];

    #[test]
    fn stock_formats_compile_and_read_their_values() {
        for (format, input, want) in STOCK {
            let compiled = TimeFormat::compile(format)
                .unwrap_or_else(|e| panic!("{format:?} does not compile: {e}"));
            let got = compiled.parse(input.as_bytes(), ts(REF)).map(rfc);
            assert_eq!(got.as_deref(), Ok(*want), "{format:?} on {input:?}");
        }
    }

    /// Name, format, value, reference (default [`REF`]), expected rendering
    /// or error.
    type FormatCase = (
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        Result<&'static str, TimeError>,
    );

    #[rustfmt::skip]
    fn format_cases() -> Vec<FormatCase> {
        use Expected as E;
        use Field as F;
        vec![
            ("docker time with an offset left", "%Y-%m-%dT%H:%M:%S.%L", "2018-09-17T14:19:26.5+02:00", None, Ok("2018-09-17T12:19:26.5Z")),
            ("docker time with junk left", "%Y-%m-%dT%H:%M:%S.%L", "2018-09-17T12:19:26.5 x", None, Err(TimeError::UnknownZone { at: 22 })),
            ("docker time without fraction", "%Y-%m-%dT%H:%M:%S.%L", "2018-09-17T12:19:26Z", None, Err(expected(E::Byte(b'.'), 19))),
            ("nothing may follow a zone", "%Y-%m-%d %H:%M:%S %z", "2018-09-17 12:19:26 +0000 x", None, Err(expected(E::End, 25))),
            ("syslog across new year", "%b %d %H:%M:%S", "Dec 31 23:59:59", Some("2019-01-01T00:00:05Z"), Ok("2018-12-31T23:59:59Z")),
            ("syslog into next year", "%b %d %H:%M:%S", "Jan  1 00:00:01", Some("2018-12-31T23:59:58Z"), Ok("2019-01-01T00:00:01Z")),
            ("padded day", "%b %e %H:%M:%S", "Sep  7 12:19:26", None, Ok("2018-09-07T12:19:26Z")),
            ("full month and day names", "%A %B %d %Y %R", "monday SEPTEMBER 17 2018 12:19", None, Ok("2018-09-17T12:19:00Z")),
            ("rfc2822 by format", "%a, %d %b %Y %T %z", "Mon, 17 Sep 2018 14:19:26 +0200", None, Ok("2018-09-17T12:19:26Z")),
            ("%D and %T", "%D %T", "09/17/18 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("%F and %T", "%F %T", "2018-09-17 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("%y 69 is 1969", "%y-%m-%d", "69-07-20", None, Ok("1969-07-20T00:00:00Z")),
            ("%y 68 is 2068", "%y-%m-%d", "68-07-20", None, Ok("2068-07-20T00:00:00Z")),
            ("12 AM is midnight", "%Y-%m-%d %I:%M:%S %p", "2018-09-17 12:19:26 AM", None, Ok("2018-09-17T00:19:26Z")),
            ("12 PM is noon", "%Y-%m-%d %I:%M:%S %p", "2018-09-17 12:19:26 PM", None, Ok("2018-09-17T12:19:26Z")),
            ("1 pm", "%Y-%m-%d %I:%M:%S %p", "2018-09-17 01:00:00 pm", None, Ok("2018-09-17T13:00:00Z")),
            ("am/pm before the hour", "%p %I:%M %Y-%m-%d", "PM 03:15 2018-09-17", None, Ok("2018-09-17T15:15:00Z")),
            ("%I without %p", "%Y-%m-%d %I:%M", "2018-09-17 11:05", None, Ok("2018-09-17T11:05:00Z")),
            ("not am or pm", "%Y-%m-%d %I:%M %p", "2018-09-17 11:05 XM", None, Err(expected(E::AmPm, 17))),
            ("day of year", "%Y %j %T", "2018 260 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("day 366 of a leap year", "%Y %j", "2020 366", None, Ok("2020-12-31T00:00:00Z")),
            ("day 366 of a common year", "%Y %j", "2018 366", None, Err(range(F::DayOfYear, 5))),
            ("day of year without year", "%j %T", "260 12:19:26", None, Ok("2018-09-17T12:19:26Z")),
            ("epoch", "%s", "1537186766", None, Ok("2018-09-17T12:19:26Z")),
            ("epoch and %L", "%s.%L", "1537186766.5", None, Ok("2018-09-17T12:19:26.5Z")),
            ("%f", "%H:%M:%S.%f %Y-%m-%d", "12:19:26.123456 2018-09-17", None, Ok("2018-09-17T12:19:26.123456Z")),
            ("time only, today", "%H:%M:%S", "12:19:20", None, Ok("2018-09-17T12:19:20Z")),
            ("time only, tomorrow", "%H:%M:%S", "00:00:01", Some("2018-09-17T23:59:59Z"), Ok("2018-09-18T00:00:01Z")),
            ("time only, yesterday", "%H:%M:%S", "23:59:59", Some("2018-09-18T00:00:01Z"), Ok("2018-09-17T23:59:59Z")),
            ("percent literal", "100%% %Y-%m-%d", "100% 2018-09-17", None, Ok("2018-09-17T00:00:00Z")),
            ("literal mismatch", "%Y-%m-%d", "2018/09/17", None, Err(expected(E::Byte(b'-'), 4))),
            ("space matches tabs and runs", "%Y %m %d", "2018\t 09   17", None, Ok("2018-09-17T00:00:00Z")),
            ("space matches nothing", "%Y %m %d", "20180917", None, Ok("2018-09-17T00:00:00Z")),
            ("%Z unknown", "%Y-%m-%d %H:%M %Z", "2018-09-17 12:19 CET", None, Err(TimeError::UnknownZone { at: 17 })),
            ("%z with a name", "%Y-%m-%d %H:%M %z", "2018-09-17 12:19 UTC", None, Ok("2018-09-17T12:19:00Z")),
            ("%z with Z", "%Y-%m-%dT%H:%M%z", "2018-09-17T12:19Z", None, Ok("2018-09-17T12:19:00Z")),
            ("month 13", "%m/%d/%Y", "13/01/2018", None, Err(range(F::Month, 0))),
            ("february 30", "%Y-%m-%d", "2018-02-30", None, Err(range(F::Day, 8))),
            ("hour 24", "%Y-%m-%d %H", "2018-02-03 24", None, Err(range(F::Hour, 11))),
            ("leap second by format", "%Y-%m-%d %H:%M:%S", "2016-12-31 23:59:60", None, Ok("2017-01-01T00:00:00Z")),
            ("bad leap second by format", "%Y-%m-%d %H:%M:%S", "2016-12-30 23:59:60", None, Err(range(F::Second, 17))),
            ("ten fraction digits", "%Y-%m-%d %H:%M:%S.%L", "2018-09-17 12:19:26.1234567890", None, Err(TimeError::TooPrecise { at: 20 })),
            ("epoch of 20 digits", "%s", "12345678901234567890", None, Err(range(F::Epoch, 0))),
            ("epoch beyond 9999", "%s", "999999999999", None, Err(TimeError::OutsideRange)),
            ("day name where a month is", "%b %d %H:%M:%S", "Mon 17 12:19:26", None, Err(expected(E::MonthName, 0))),
            ("month name where a day name is", "%a %Y-%m-%d", "Sep 2018-09-17", None, Err(expected(E::DayName, 0))),
            ("text too short", "%Y-%m-%d %H:%M:%S", "2018-09-17 12:19", None, Err(expected(E::Byte(b':'), 16))),
        ]
    }

    #[test]
    fn format_named_cases() {
        for (name, format, input, reference, want) in format_cases() {
            let compiled = TimeFormat::compile(format).unwrap();
            let reference = ts(reference.unwrap_or(REF));
            let got = compiled.parse(input.as_bytes(), reference).map(rfc);
            assert_eq!(
                got,
                want.map(str::to_string),
                "case {name:?}: {format:?} on {input:?}"
            );
        }
    }

    #[test]
    fn format_errors() {
        use FormatError as FE;
        let cases: &[(&str, Result<(), FormatError>)] = &[
            (
                "%Y-%m-%dT%H:%M:%S %Q",
                Err(FE::Unsupported {
                    conversion: 'Q',
                    at: 18,
                }),
            ),
            (
                "%c",
                Err(FE::Unsupported {
                    conversion: 'c',
                    at: 0,
                }),
            ),
            (
                "%Ey",
                Err(FE::Unsupported {
                    conversion: 'E',
                    at: 0,
                }),
            ),
            (
                "%U %Y",
                Err(FE::Unsupported {
                    conversion: 'U',
                    at: 0,
                }),
            ),
            (
                "%:x",
                Err(FE::Unsupported {
                    conversion: 'x',
                    at: 0,
                }),
            ),
            ("%Y %", Err(FE::Dangling { at: 3 })),
            ("%Y %:", Err(FE::Dangling { at: 3 })),
            ("%Y-%m", Err(FE::IncompleteDate)),
            ("%d %H", Err(FE::IncompleteDate)),
            ("%Y %H:%M", Err(FE::IncompleteDate)),
            ("abc", Err(FE::NoTime)),
            ("%M:%S", Err(FE::NoTime)),
            ("", Err(FE::NoTime)),
            ("%H", Ok(())),
            ("%s", Ok(())),
            ("é %Y-%m-%d", Ok(())),
        ];
        for (format, want) in cases {
            let got = TimeFormat::compile(format).map(|_| ());
            assert_eq!(&got, want, "{format:?}");
        }
        assert_eq!(
            FE::Unsupported {
                conversion: 'Q',
                at: 18
            }
            .to_string(),
            "unsupported conversion %Q at byte 18"
        );
        let accented = TimeFormat::compile("é %Y-%m-%d").unwrap();
        assert_eq!(
            accented.parse("é 2018-09-17".as_bytes(), ts(REF)).map(rfc),
            Ok("2018-09-17T00:00:00Z".to_string())
        );
    }

    // -----------------------------------------------------------------------
    // Properties: random instants written in many layouts read back the same.
    // -----------------------------------------------------------------------

    /// A small deterministic generator (xorshift64).
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            let mut x = self.0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.0 = x;
            x
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
            &items[self.below(items.len() as u64) as usize]
        }

        /// `HH:MM:SS`: mostly valid, else a leap second, 24:00:00, or
        /// fields out of range.
        fn clock(&mut self) -> String {
            match self.below(8) {
                0 => "23:59:60".to_string(),
                1 => "24:00:00".to_string(),
                2 => format!(
                    "{:02}:{:02}:{:02}",
                    self.below(100),
                    self.below(100),
                    self.below(100)
                ),
                _ => format!(
                    "{:02}:{:02}:{:02}",
                    self.below(24),
                    self.below(60),
                    self.below(60)
                ),
            }
        }

        /// `text` with `times` bytes of `alphabet` changed, cut or added,
        /// each at a random place.
        fn mutate(&mut self, text: &mut Vec<u8>, alphabet: &[u8], times: u64) {
            for _ in 0..times {
                let at = self.below(text.len() as u64 + 1) as usize;
                let b = *self.pick(alphabet);
                match self.below(3) {
                    0 if at < text.len() => text[at] = b,
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    _ => text.insert(at, b),
                }
            }
        }
    }

    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    const FULL_MONTHS: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    const DAYS: [&str; 14] = [
        "Mon",
        "Tue",
        "Wed",
        "Thu",
        "Fri",
        "Sat",
        "Sun",
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    const FIRST_SECS: i64 = -62_167_219_200;
    const LAST_SECS: i64 = 253_402_300_799;

    /// A random instant, two days inside the valid range, with 0 to 9
    /// fractional digits.
    fn random_instant(rng: &mut Rng) -> Timestamp {
        let span = (LAST_SECS - FIRST_SECS - 4 * SECS_PER_DAY) as u64;
        let secs = FIRST_SECS + 2 * SECS_PER_DAY + rng.below(span) as i64;
        random_fraction(rng, secs)
    }

    fn random_fraction(rng: &mut Rng, secs: i64) -> Timestamp {
        let digits = rng.below(10) as u8;
        let unit = 10u32.pow(9 - u32::from(digits));
        let nanos = rng.below(1_000_000_000) as u32 / unit * unit;
        Timestamp::new(secs, nanos, digits).unwrap()
    }

    fn whole(t: Timestamp) -> Timestamp {
        Timestamp::new(t.unix_seconds(), 0, 0).unwrap()
    }

    /// The civil parts of an instant shifted by `offset` seconds, as RFC
    /// 3339 writes them.
    struct Parts {
        year: String,
        month: usize,
        day: String,
        hms: String,
        frac: String,
        days: i64,
    }

    fn parts(t: Timestamp, offset: i64) -> Parts {
        let local = Timestamp::new(t.unix_seconds() + offset, t.nanos(), t.frac_digits()).unwrap();
        let s = rfc(local);
        Parts {
            year: s[0..4].to_string(),
            month: s[5..7].parse().unwrap(),
            day: s[8..10].to_string(),
            hms: s[11..19].to_string(),
            frac: s[19..s.len() - 1].trim_start_matches('.').to_string(),
            days: local.unix_seconds().div_euclid(SECS_PER_DAY),
        }
    }

    /// `±hh:mm`, `±hhmm` or `±hh` for an offset in seconds.
    fn offset_text(offset: i64, style: usize) -> String {
        let sign = if offset < 0 { '-' } else { '+' };
        let (h, m) = (offset.abs() / 3600, offset.abs() / 60 % 60);
        match style {
            0 => format!("{sign}{h:02}:{m:02}"),
            1 => format!("{sign}{h:02}{m:02}"),
            _ => format!("{sign}{h:02}"),
        }
    }

    fn frac(separator: char, digits: &str) -> String {
        if digits.is_empty() {
            String::new()
        } else {
            format!("{separator}{digits}")
        }
    }

    fn any_case(rng: &mut Rng, name: &str) -> String {
        match rng.below(3) {
            0 => name.to_lowercase(),
            1 => name.to_uppercase(),
            _ => name.to_string(),
        }
    }

    fn padded(day: &str) -> String {
        day.strip_prefix('0')
            .map_or(day.to_string(), |d| format!(" {d}"))
    }

    /// Renderings of `t` in every layout `parse_any` reads, each with the
    /// reference to read it with and the instant it must give.
    fn renderings(rng: &mut Rng, t: Timestamp) -> Vec<(String, Timestamp, Timestamp)> {
        let offset = rng.below(2 * 86_340 / 60 + 1) as i64 * 60 - 86_340;
        let hours = (offset / 3600) * 3600;
        let utc = parts(t, 0);
        let local = parts(t, offset);
        let local_h = parts(t, hours);
        let near = Timestamp::new(
            t.unix_seconds() + rng.below(300 * 86_400) as i64 - 150 * 86_400,
            0,
            0,
        )
        .unwrap_or(t);
        let month = |rng: &mut Rng, m: usize| {
            let name = if rng.below(4) == 0 {
                FULL_MONTHS[m - 1]
            } else {
                MONTHS[m - 1]
            };
            any_case(rng, name)
        };
        let reference = ts(REF);
        let p = &local;
        let day_names = [0, 1].map(|_| {
            let name = *rng.pick(&DAYS);
            any_case(rng, name)
        });
        let mut out = vec![
            (
                format!(
                    "{}-{:02}-{}T{}{}{}",
                    p.year,
                    p.month,
                    p.day,
                    p.hms,
                    frac('.', &p.frac),
                    offset_text(offset, 0)
                ),
                reference,
                t,
            ),
            (
                format!(
                    "{}-{:02}-{} {}{}{}",
                    p.year,
                    p.month,
                    p.day,
                    p.hms,
                    frac(',', &p.frac),
                    offset_text(offset, 1)
                ),
                reference,
                t,
            ),
            (
                format!(
                    "{}-{:02}-{}t{}{}{}",
                    local_h.year,
                    local_h.month,
                    local_h.day,
                    local_h.hms,
                    frac('.', &local_h.frac),
                    offset_text(hours, 2)
                ),
                reference,
                t,
            ),
            (
                format!(
                    "{}-{:02}-{} {}{} {} {}{}",
                    p.year,
                    p.month,
                    p.day,
                    p.hms,
                    frac('.', &p.frac),
                    offset_text(offset, 1),
                    *rng.pick(&["UTC", "MST", "CEST", "+0530", "-03"]),
                    *rng.pick(&["", " m=+0.000123001", " m=-12.5"]),
                ),
                reference,
                t,
            ),
            (
                format!(
                    "{}/{:02}/{} {}{}",
                    utc.year,
                    utc.month,
                    utc.day,
                    utc.hms,
                    frac('.', &utc.frac)
                ),
                reference,
                t,
            ),
            (
                format!(
                    "{}/{}/{}:{}{} {}",
                    p.day,
                    month(rng, p.month),
                    p.year,
                    p.hms,
                    frac('.', &p.frac),
                    offset_text(offset, 1)
                ),
                reference,
                t,
            ),
            (
                format!(
                    "{}, {} {} {} {} {}",
                    day_names[0],
                    utc.day,
                    month(rng, utc.month),
                    utc.year,
                    utc.hms,
                    *rng.pick(&["GMT", "UT", "+0000", "-00:00"])
                ),
                reference,
                whole(t),
            ),
            (
                format!(
                    "{} {} {}{}",
                    month(rng, utc.month),
                    padded(&utc.day),
                    utc.hms,
                    frac('.', &utc.frac)
                ),
                near,
                t,
            ),
            (
                format!(
                    "{}{:02}{} {}{}",
                    *rng.pick(&["I", "W", "E", "F"]),
                    utc.month,
                    utc.day,
                    utc.hms,
                    frac('.', &utc.frac)
                ),
                near,
                t,
            ),
            (
                format!(
                    "{} {} {} {} {}",
                    day_names[1],
                    month(rng, utc.month),
                    padded(&utc.day),
                    utc.hms,
                    utc.year
                ),
                reference,
                whole(t),
            ),
        ];
        if t.frac_digits() == 0 && t.nanos() == 0 && utc.hms == "00:00:00" {
            out.push((
                format!("{}-{:02}-{}", utc.year, utc.month, utc.day),
                reference,
                t,
            ));
        }
        out
    }

    #[test]
    fn random_instants_read_back_in_every_layout() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let t = random_instant(&mut rng);
            for (text, reference, want) in renderings(&mut rng, t) {
                let got = parse_any(text.as_bytes(), reference);
                assert_eq!(got, Ok(want), "{text:?} (reference {})", rfc(reference));
            }
        }
    }

    #[test]
    fn random_epochs_read_back_in_every_unit() {
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            // 10-digit seconds: 2001-09-09 to 2286-11-20.
            let secs = 1_000_000_000 + rng.below(9_000_000_000) as i64;
            let t = random_fraction(&mut rng, secs);
            let n = u64::from(t.nanos());
            let s = secs as u64;
            let unit = |digits: u8| {
                let keep = 10u32.pow(9 - u32::from(digits));
                Timestamp::new(secs, t.nanos() / keep * keep, digits).unwrap()
            };
            let p = parts(t, 0);
            for (text, want) in [
                (format!("{s}{}", frac('.', &p.frac)), t),
                (format!("{}", s * 1_000 + n / 1_000_000), unit(3)),
                (format!("{}", s * 1_000_000 + n / 1_000), unit(6)),
                (format!("{}", s * 1_000_000_000 + n), unit(9)),
            ] {
                assert_eq!(parse_any(text.as_bytes(), ts(REF)), Ok(want), "{text}");
            }
        }
    }

    #[test]
    fn random_instants_read_back_through_formats() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let formats: Vec<(TimeFormat, &str)> = [
            "%Y-%m-%dT%H:%M:%S.%L%z",
            "%d/%b/%Y:%H:%M:%S %z",
            "%b %d %H:%M:%S",
            "%Y-%m-%d %H:%M:%S,%L",
            "%a, %d %b %Y %T %z",
            "%Y %j %T",
            "%s.%L",
        ]
        .iter()
        .map(|f| (TimeFormat::compile(f).unwrap(), *f))
        .collect();
        for _ in 0..20_000 {
            let t = random_instant(&mut rng);
            let offset = rng.below(2 * 1439 + 1) as i64 * 60 - 1439 * 60;
            let p = parts(t, offset);
            let u = parts(t, 0);
            let near = Timestamp::new(
                t.unix_seconds() + rng.below(300 * 86_400) as i64 - 150 * 86_400,
                0,
                0,
            )
            .unwrap_or(t);
            let yday = u.days - time::days_from_date(u.year.parse().unwrap(), 1, 1) + 1;
            let fraction = |p: &Parts| {
                if p.frac.is_empty() {
                    "0".to_string()
                } else {
                    p.frac.clone()
                }
            };
            let with_fraction = if t.frac_digits() == 0 {
                Timestamp::new(t.unix_seconds(), 0, 1).unwrap()
            } else {
                t
            };
            let cases = [
                (
                    format!(
                        "{}-{:02}-{}T{}.{}{}",
                        p.year,
                        p.month,
                        p.day,
                        p.hms,
                        fraction(&p),
                        offset_text(offset, rng.below(2) as usize)
                    ),
                    ts(REF),
                    with_fraction,
                ),
                (
                    format!(
                        "{}/{}/{}:{} {}",
                        p.day,
                        MONTHS[p.month - 1],
                        p.year,
                        p.hms,
                        offset_text(offset, 1)
                    ),
                    ts(REF),
                    whole(t),
                ),
                (
                    format!("{} {} {}", MONTHS[u.month - 1], u.day, u.hms),
                    near,
                    whole(t),
                ),
                (
                    format!(
                        "{}-{:02}-{} {},{}",
                        u.year,
                        u.month,
                        u.day,
                        u.hms,
                        fraction(&u)
                    ),
                    ts(REF),
                    with_fraction,
                ),
                (
                    format!(
                        "{}, {} {} {} {} {}",
                        *rng.pick(&DAYS),
                        p.day,
                        FULL_MONTHS[p.month - 1],
                        p.year,
                        p.hms,
                        offset_text(offset, 0)
                    ),
                    ts(REF),
                    whole(t),
                ),
                (
                    format!("{} {:03} {}", u.year, yday, u.hms),
                    ts(REF),
                    whole(t),
                ),
            ];
            for ((text, reference, want), (format, source)) in cases.iter().zip(&formats) {
                let got = format.parse(text.as_bytes(), *reference);
                assert_eq!(got, Ok(*want), "{source:?} on {text:?}");
            }
            if t.unix_seconds() >= 0 {
                let text = format!("{}.{}", t.unix_seconds(), fraction(&u));
                let got = formats[6].0.parse(text.as_bytes(), ts(REF));
                assert_eq!(got, Ok(with_fraction), "%s.%L on {text:?}");
            }
        }
    }

    /// `asctime`'s year read at once reads as the general tail does: on
    /// random months, days (some out of range), clocks (leap seconds
    /// included) and tails (a year, a zone, nothing, a year with a byte
    /// changed, cut or added), values and errors alike.
    #[test]
    fn asctime_year_agrees_with_the_general_tail() {
        let mut rng = Rng(0x5EED_0004);
        let reference = ts(REF);
        let tails = [" ", " UTC", " UTC ", " +0000 ", " -0130 ", " x", ""];
        let mut read_at_once = 0;
        for _ in 0..50_000 {
            let month = *rng.pick(&MONTHS);
            let day = rng.below(40);
            let clock = match rng.below(4) {
                0 => "23:59:60".to_string(),
                _ => format!(
                    "{:02}:{:02}:{:02}",
                    rng.below(24),
                    rng.below(60),
                    rng.below(60)
                ),
            };
            let digits = format!("{:06}", rng.below(1_000_000));
            let fraction = frac('.', &digits[..rng.below(7) as usize]);
            let mut tail = format!("{}{:04}", rng.pick(&tails), rng.below(10_000)).into_bytes();
            let times = rng.below(2);
            rng.mutate(&mut tail, b"0123456789 Z+x", times);
            let mut text = format!("{month} {day:02} {clock}{fraction}").into_bytes();
            text.extend_from_slice(&tail);
            let month = MONTHS.iter().position(|m| *m == month).unwrap() as u32 + 1;
            let mut fast = Cursor::new(&text);
            fast.at = 3;
            let mut general = Cursor::new(&text);
            general.at = 3;
            let want = day_and_clock(&mut general).and_then(|(day, day_at, clock)| {
                after_month_day_clock(&mut general, month, (day, day_at), &clock, reference)
            });
            assert_eq!(
                month_first(&mut fast, month, reference),
                want,
                "{}",
                String::from_utf8_lossy(&text)
            );
            if let [b' ', year @ ..] = &tail[..]
                && year.len() == 4
                && year.iter().all(u8::is_ascii_digit)
                && want.is_ok()
            {
                read_at_once += 1;
            }
        }
        assert!(
            read_at_once > 1_000,
            "only {read_at_once} years read at once"
        );
    }

    /// `asctime` and syslog read at once read as the general path does,
    /// values and errors alike: on random references near a year's end,
    /// day names (or none, or a wrong one, with one
    /// or two spaces or a comma), month names (abbreviated, full, any case,
    /// wrong), days (0 to 39, padded, one digit; April 31 and February 29
    /// in leap and common years), clocks (hour 24, minute 60, leap
    /// seconds), fractions of 0 to 10 digits after `.` or `,`, and tails
    /// (a year, a zone, nothing), some with a byte changed, cut or added;
    /// and it reads most valid values itself.
    #[test]
    fn asctime_at_once_agrees_with_the_general_path() {
        let mut rng = Rng(0x5EED_0008);
        let references: [&str; 5] = [
            REF,
            "2026-12-31T23:59:59Z",
            "2027-01-01T00:00:01Z",
            "2025-03-01T00:00:00Z",
            "2024-02-29T12:00:00Z",
        ];
        let (mut read_at_once, mut syslog_at_once) = (0, 0);
        for _ in 0..200_000 {
            let reference = ts(references[rng.below(5) as usize]);
            let weekday = match rng.below(8) {
                0 => String::new(),
                1 => format!("{}  ", rng.pick(&DAYS)),
                2 => format!("{}, ", rng.pick(&DAYS)),
                3 => format!("{} ", rng.pick(&["Fry", "Nov", "Mo", "Tues", "Sunday"])),
                _ => {
                    let name = *rng.pick(&DAYS[..7]);
                    format!("{} ", any_case(&mut rng, name))
                }
            };
            let m = rng.below(12) as usize;
            let month = match rng.below(10) {
                0 => FULL_MONTHS[m].to_string(),
                1 => rng.pick(&["Nox", "Mon", "Se", "Sept", "Dez"]).to_string(),
                _ => any_case(&mut rng, MONTHS[m]),
            };
            let year = match rng.below(4) {
                0 => rng.below(10_000),
                _ => *rng.pick(&[2024, 2023, 2000, 1900, 2026, 0, 9999]),
            };
            let day = match rng.below(3) {
                0 => rng.below(40),
                _ => *rng.pick(&[0, 1, 28, 29, 30, 31, 32]),
            };
            let day = match rng.below(8) {
                0 => format!(" {day}"),
                1 => format!("{day}"),
                2 => format!("  {day:02}"),
                _ => format!("{day:02}"),
            };
            let clock = rng.clock();
            let digits = format!("{:010}", rng.below(10_000_000_000));
            let fraction = match rng.below(4) {
                0 => String::new(),
                1 => format!(",{}", &digits[..rng.below(11) as usize]),
                _ => format!(".{}", &digits[..rng.below(11) as usize]),
            };
            let tail = match rng.below(10) {
                0..=4 if weekday.is_empty() => String::new(),
                0 => String::new(),
                1 => format!(" UTC {year:04}"),
                2 => format!(" +0000 {year:04}"),
                3 => format!("  {year:04}"),
                4 => format!(" {year:04} "),
                5 => format!(" {}", year % 100),
                _ => format!(" {year:04}"),
            };
            let mut text = format!("{weekday}{month} {day} {clock}{fraction}{tail}").into_bytes();
            let times = rng.below(4).saturating_sub(2);
            rng.mutate(&mut text, b"0123456789 :.,aZ+\xff", times);
            let general = named_general(&text, reference);
            if let Some(t) = asctime(&text) {
                assert_eq!(Ok(t), general, "{}", String::from_utf8_lossy(&text));
                read_at_once += 1;
            }
            if let Some(t) = syslog_stamp(&text, reference) {
                assert_eq!(Ok(t), general, "{}", String::from_utf8_lossy(&text));
                syslog_at_once += 1;
            }
            assert_eq!(
                named(&text, reference),
                general,
                "{}",
                String::from_utf8_lossy(&text)
            );
        }
        assert!(
            read_at_once > 5_000 && syslog_at_once > 500,
            "only {read_at_once} asctime and {syslog_at_once} syslog values read at once"
        );
    }

    /// RFC 3339 UTC read at once reads as the general path does: on random
    /// dates (days and months out of range, leap days), clocks (hour 24,
    /// minute 60, leap seconds), separators, fractions of 0 to 9 digits
    /// and ends (`Z`, `z`, offsets), some with a byte changed, cut or
    /// added; and it reads most values itself (not 24:00, leap seconds,
    /// `z` or offsets, which it leaves to the general path).
    #[test]
    fn utc_at_once_agrees_with_the_general_path() {
        let mut rng = Rng(0x5EED_0007);
        let mut read_at_once = 0;
        for _ in 0..200_000 {
            let clock = rng.clock();
            let date = match rng.below(4) {
                0 => format!(
                    "{:04}-{:02}-{:02}",
                    rng.below(10_000),
                    rng.below(14),
                    rng.below(33)
                ),
                _ => format!(
                    "{:04}-{:02}-{:02}",
                    1970 + rng.below(100),
                    1 + rng.below(12),
                    1 + rng.below(28)
                ),
            };
            let separator = *rng.pick(&["T", "T", "t", " ", "x"]);
            let digits = format!("{:09}", rng.below(1_000_000_000));
            let fraction = match rng.below(4) {
                0 => frac('.', &digits[..rng.below(10) as usize]),
                1 => String::new(),
                2 => frac('.', &digits[..3]),
                _ => frac('.', &digits[..6]),
            };
            let end = *rng.pick(&["Z", "Z", "Z", "z", "+00:00", "-01:30", ""]);
            let mut text = format!("{date}{separator}{clock}{fraction}{end}").into_bytes();
            let times = rng.below(3).saturating_sub(1);
            rng.mutate(&mut text, b"0123456789-:.TZ x", times);
            let general = iso_general(&text, b'-');
            if let Some(t) = iso_utc(&text) {
                assert_eq!(Ok(t), general, "{}", String::from_utf8_lossy(&text));
                read_at_once += 1;
            }
            assert_eq!(iso(&text, b'-'), general);
        }
        assert!(
            read_at_once > 15_000,
            "only {read_at_once} values read at once"
        );
    }

    /// klog's header time read at once reads as the general path does: on
    /// random months and days (some out of range), clocks (hour 24,
    /// second 60), fractions of 0 to 9 digits, with and without the level
    /// letter, some with a byte changed, cut or added, and references
    /// near a year's end; and most are read at once.
    #[test]
    fn klog_at_once_agrees_with_the_general_path() {
        let mut rng = Rng(0x5EED_0009);
        let references = [
            ts(REF),
            ts("2026-12-31T23:59:59Z"),
            ts("2027-01-01T00:00:01Z"),
        ];
        let mut read_at_once = 0;
        for _ in 0..200_000 {
            let (month, day) = match rng.below(4) {
                0 => (rng.below(14), rng.below(33)),
                _ => (1 + rng.below(12), 1 + rng.below(28)),
            };
            let clock = rng.clock();
            let digits = format!("{:09}", rng.below(1_000_000_000));
            let fraction = match rng.below(3) {
                0 => frac('.', &digits[..rng.below(10) as usize]),
                _ => frac('.', &digits[..6]),
            };
            let letter = *rng.pick(&["", "", "E", "I"]);
            let mut text = format!("{letter}{month:02}{day:02} {clock}{fraction}").into_bytes();
            let times = rng.below(3).saturating_sub(1);
            rng.mutate(&mut text, b"0123456789:. x", times);
            let reference = *rng.pick(&references);
            let start = letter.len();
            let general = klog_general(&text, start, reference);
            if let Some(t) = klog_at_once(&text, start, reference) {
                assert_eq!(Ok(t), general, "{}", String::from_utf8_lossy(&text));
                read_at_once += 1;
            }
            assert_eq!(klog(&text, start, reference), general);
        }
        assert!(
            read_at_once > 50_000,
            "only {read_at_once} values read at once"
        );
    }

    /// The remembered date answers as the check and the calendar do, for
    /// runs of the same date, the next day, invalid days between valid
    /// ones, and dates far apart.
    #[test]
    fn remembered_day_number_agrees_with_the_calendar() {
        let mut rng = Rng(0x5EED_0003);
        let (mut year, mut month, mut day) = (2026, 11, 27);
        for _ in 0..50_000 {
            match rng.below(6) {
                0 => {
                    year = rng.below(10_000) as u32;
                    month = 1 + rng.below(12) as u32;
                    day = rng.below(33) as u32;
                }
                1 => day = (day + 1) % 33,
                2 => day = rng.below(100) as u32,
                _ => {}
            }
            let want = if day == 0 || day > time::month_length(year, month) {
                Err(TimeError::OutOfRange {
                    field: Field::Day,
                    at: 8,
                })
            } else {
                Ok(time::days_from_date(year, month, day))
            };
            assert_eq!(
                day_number(year, month, day, 8),
                want,
                "{year}-{month}-{day}"
            );
        }
    }

    /// The strict RFC 3339 and CLF readers of `crate::time` are references:
    /// whatever they accept, `parse_any` reads to the same instant, on
    /// valid values and on values with random bytes changed. The word-wise
    /// and byte-wise readers of ISO and CLF heads give the same outcome,
    /// errors included. Nothing panics, and every error points inside the
    /// value (or just past it).
    #[test]
    fn agrees_with_the_strict_readers_on_mutated_values() {
        let mut rng = Rng(0x0123_4567_89AB_CDEF);
        let alphabet = b"0123456789-:/.,TZz+ SepMonGMTU\xff";
        let format = TimeFormat::compile("%d/%b/%Y:%H:%M:%S.%L %z").unwrap();
        let mut agreed = 0;
        for _ in 0..100_000 {
            let t = random_instant(&mut rng);
            let offset = rng.below(2 * 1439 + 1) as i64 * 60 - 1439 * 60;
            let p = parts(t, offset);
            let mut text = match rng.below(3) {
                0 => rfc(t).into_bytes(),
                1 => format!(
                    "{}-{:02}-{}T{}{}{}",
                    p.year,
                    p.month,
                    p.day,
                    p.hms,
                    frac('.', &p.frac),
                    offset_text(offset, 0)
                )
                .into_bytes(),
                _ => format!(
                    "{}/{}/{}:{} {}",
                    p.day,
                    MONTHS[p.month - 1],
                    p.year,
                    p.hms,
                    offset_text(offset, 1)
                )
                .into_bytes(),
            };
            let times = rng.below(3);
            rng.mutate(&mut text, alphabet, times);
            match (text.get(2), text.get(4)) {
                (_, Some(&separator @ (b'-' | b'/'))) => assert_eq!(
                    iso(&text, separator),
                    iso_by_byte(&text, separator),
                    "{}",
                    String::from_utf8_lossy(&text)
                ),
                (Some(b'/'), _) => assert_eq!(
                    clf(&text),
                    clf_by_byte(&text),
                    "{}",
                    String::from_utf8_lossy(&text)
                ),
                _ => {}
            }
            let got = parse_any(&text, ts(REF));
            for strict in [time::parse_rfc3339(&text), time::parse_clf(&text)]
                .into_iter()
                .flatten()
            {
                assert_eq!(got, Ok(strict), "{}", String::from_utf8_lossy(&text));
                agreed += 1;
            }
            for error in [got.err(), format.parse(&text, ts(REF)).err()]
                .into_iter()
                .flatten()
            {
                let at = match error {
                    TimeError::Expected { at, .. }
                    | TimeError::OutOfRange { at, .. }
                    | TimeError::TooPrecise { at }
                    | TimeError::UnknownZone { at } => at,
                    TimeError::OutsideRange => 0,
                };
                assert!(
                    at <= text.len(),
                    "{error:?} in {}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
        assert!(agreed > 30_000, "only {agreed} values were valid");
    }

    // -----------------------------------------------------------------------
    // Cost: linear in the value, and hostile values refused early.
    // -----------------------------------------------------------------------

    /// Values of `n` hostile bytes, with what reading them must give.
    fn hostile(n: usize) -> Vec<(&'static str, Option<&'static str>, String)> {
        vec![
            (
                "fraction digits",
                None,
                format!("2018-09-17T12:13:43.{}", "1".repeat(n)),
            ),
            ("epoch digits", None, "1".repeat(n)),
            (
                "spaces after a month",
                None,
                format!("Sep{}17 12:19:26", " ".repeat(n)),
            ),
            (
                "spaces after a day name",
                None,
                format!("Mon,{}17 Sep 2018 12:19:26 GMT", " ".repeat(n)),
            ),
            (
                "spaces before a zone",
                None,
                format!("Mon, 17 Sep 2018 12:19:26{}GMT", " ".repeat(n)),
            ),
            (
                "a long zone name",
                None,
                format!("2018-09-17 12:13:43 {}", "A".repeat(n)),
            ),
            (
                "a long go label",
                None,
                format!("2018-09-17 12:13:43 +0000 {}", "A".repeat(n)),
            ),
            (
                "a long monotonic reading",
                None,
                format!("2018-09-17 12:13:43 +0000 UTC m=+{}", "1".repeat(n)),
            ),
            (
                "trailing garbage",
                None,
                format!("2018-09-17T12:13:43Z{}", "Z".repeat(n)),
            ),
            (
                "whitespace in a format",
                Some("%Y %m %d"),
                format!("2018{}09 17", " \t".repeat(n / 2)),
            ),
            ("a long %s", Some("%s"), "9".repeat(n)),
            (
                "a literal run",
                Some("%Y-%m-%d"),
                format!("2018-09-17{}", "-".repeat(n)),
            ),
        ]
    }

    fn read(format: Option<&str>, text: &str) -> Result<Timestamp, TimeError> {
        match format {
            Some(f) => TimeFormat::compile(f)
                .unwrap()
                .parse(text.as_bytes(), ts(REF)),
            None => parse_any(text.as_bytes(), ts(REF)),
        }
    }

    fn fastest(format: Option<&str>, text: &str) -> Duration {
        (0..5)
            .map(|_| {
                let start = Instant::now();
                let _ = std::hint::black_box(read(format, std::hint::black_box(text)));
                start.elapsed()
            })
            .min()
            .unwrap()
    }

    #[test]
    fn hostile_values_cost_linear_time() {
        let (small, large) = (16 << 10, 1 << 20);
        for ((name, format, short), (_, _, long)) in hostile(small).iter().zip(hostile(large)) {
            let a = fastest(*format, short);
            let b = fastest(*format, &long);
            // Linear is 64x, quadratic 4096x; the margin and the floor keep
            // timer noise and a busy machine out of the verdict.
            let floor = Duration::from_micros(200);
            assert!(
                b <= a.max(floor) * 400,
                "{name}: {a:?} at 16 KiB, {b:?} at 1 MiB"
            );
            assert!(b < Duration::from_secs(1), "{name}: {b:?} at 1 MiB");
        }
    }

    #[test]
    fn hostile_values_are_refused_early() {
        let reference = ts(REF);
        let long = "1".repeat(1 << 20);
        assert_eq!(
            parse_any(format!("2018-09-17T12:13:43.{long}").as_bytes(), reference),
            Err(TimeError::TooPrecise { at: 20 })
        );
        assert_eq!(
            parse_any(long.as_bytes(), reference),
            Err(TimeError::OutOfRange {
                field: Field::Epoch,
                at: 0
            })
        );
        assert_eq!(
            parse_any(format!("2018-09-17T12:13:43Z{long}").as_bytes(), reference),
            Err(expected(Expected::End, 20))
        );
    }
}
