//! Points in time as log lines write them, normalised to RFC 3339 UTC.
//!
//! A [`Timestamp`] is a Unix time (seconds and nanoseconds, UTC) plus the
//! number of fractional digits its source had, so that writing it back keeps
//! the source's precision: `[2018-09-17T12:13:43.123Z]` stays at
//! milliseconds, `17/Sep/2018:12:19:26 +0000` gets no fraction at all.
//!
//! The file is organised by layout: the type and its calendar arithmetic
//! first, then one section per layout with its parser (and writer, for the
//! one layout we write). Civil dates are converted by hand with the
//! days-from-civil algorithm (proleptic Gregorian calendar, as RFC 3339 and
//! ISO 8601 use), with no date crate.
//!
//! Invariants:
//! - every `Timestamp` lies in years 0000 to 9999 UTC, so it always has an
//!   RFC 3339 rendering; a source time that falls outside once its offset is
//!   applied is refused (`None`), never clamped;
//! - `nanos < 1_000_000_000`, `frac_digits <= 9`, and `nanos` has no digits
//!   beyond `frac_digits` (writing never loses or invents precision);
//! - parsers take the bytes of one field, examine each byte once, never
//!   panic, and return `None` for anything that is not exactly their layout
//!   (no trailing bytes, no 24:00, no day 31 in April); second 60 only as
//!   RFC 3339's leap second, written as the next second.

use std::cell::Cell;

/// A point in time in UTC with the precision its source had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
    frac_digits: u8,
}

/// `0000-01-01T00:00:00Z` as Unix seconds.
const MIN_SECS: i64 = -62_167_219_200;
/// `9999-12-31T23:59:59Z` as Unix seconds.
const MAX_SECS: i64 = 253_402_300_799;
const SECS_PER_DAY: i64 = 86_400;

/// The longest text [`Timestamp::write_rfc3339`] writes:
/// `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
pub const RFC3339_MAX: usize = 30;

/// `10^(9 - d)` for `d` fractional digits: the unit of the last digit.
const FRACTION_UNIT: [u32; 10] = [
    1_000_000_000,
    100_000_000,
    10_000_000,
    1_000_000,
    100_000,
    10_000,
    1_000,
    100,
    10,
    1,
];

impl Timestamp {
    /// A timestamp from Unix seconds, nanoseconds and the number of
    /// fractional digits to keep, or `None` if it breaks an invariant (year
    /// outside 0000-9999, `nanos` too large, more than 9 digits, or `nanos`
    /// finer than `frac_digits` can show).
    pub fn new(secs: i64, nanos: u32, frac_digits: u8) -> Option<Timestamp> {
        let unit = *FRACTION_UNIT.get(usize::from(frac_digits))?;
        if !(MIN_SECS..=MAX_SECS).contains(&secs)
            || nanos >= 1_000_000_000
            || !nanos.is_multiple_of(unit)
        {
            return None;
        }
        Some(Timestamp {
            secs,
            nanos,
            frac_digits,
        })
    }

    /// [`Timestamp::new`] for a caller whose nanoseconds and digits keep
    /// the invariants already (a parser's fraction: `digits` digits read
    /// as nanoseconds): only the range of `secs` is checked.
    #[inline(always)]
    pub(crate) fn with_fraction_of_digits(secs: i64, nanos: u32, digits: u8) -> Option<Timestamp> {
        debug_assert!(Timestamp::new(0, nanos, digits).is_some());
        (MIN_SECS..=MAX_SECS).contains(&secs).then_some(Timestamp {
            secs,
            nanos,
            frac_digits: digits,
        })
    }

    /// Seconds since 1970-01-01T00:00:00Z.
    pub fn unix_seconds(&self) -> i64 {
        self.secs
    }

    /// Nanoseconds within the second.
    pub fn nanos(&self) -> u32 {
        self.nanos
    }

    /// How many fractional digits the source had (0 to 9).
    pub fn frac_digits(&self) -> u8 {
        self.frac_digits
    }

    /// Builds a timestamp from a civil date and time with an offset east of
    /// UTC in seconds; `None` if the UTC result is outside the valid range.
    /// `nanos` and `frac_digits` come from a parser and already agree.
    fn from_civil(
        civil: Civil,
        nanos: u32,
        frac_digits: u8,
        offset_secs: i64,
    ) -> Option<Timestamp> {
        let days = days_from_civil(civil.year, civil.month, civil.day);
        let secs = days * SECS_PER_DAY
            + i64::from(civil.hour * 3_600 + civil.minute * 60 + civil.second)
            - offset_secs;
        (MIN_SECS..=MAX_SECS).contains(&secs).then_some(Timestamp {
            secs,
            nanos,
            frac_digits,
        })
    }

    /// Appends the RFC 3339 form in UTC with a `Z`, with exactly
    /// `frac_digits` fractional digits (none and no dot when it is 0), e.g.
    /// `2018-09-17T12:13:43.123Z`.
    pub fn write_rfc3339(&self, out: &mut Vec<u8>) {
        let mut buf = [0u8; RFC3339_MAX];
        let len = self.rfc3339_into(&mut buf);
        out.extend_from_slice(buf.get(..len).unwrap_or_default());
    }

    /// How many bytes [`Timestamp::rfc3339_into`] writes for this time.
    pub fn rfc3339_len(&self) -> usize {
        // `YYYY-MM-DDTHH:MM:SSZ`, then `.` and the digits when there are any.
        20 + match self.frac_digits {
            0 => 0,
            d => 1 + usize::from(d),
        }
    }

    /// Writes the time as [`Timestamp::write_rfc3339`] does into `buf` and
    /// returns how many bytes it took (at most [`RFC3339_MAX`]).
    ///
    /// Eight bytes per store: the date's first eight (`YYYY-MM-`), the
    /// clock (`HH:MM:SS`) and the fraction's first eight digits are each
    /// one word built from [`DIGIT_PAIRS`]. The fraction is the nanoseconds'
    /// nine digits cut to `frac_digits`: a [`Timestamp`]'s nanoseconds are
    /// a multiple of its unit, so the digits cut off are zeros.
    pub fn rfc3339_into(&self, buf: &mut [u8; RFC3339_MAX]) -> usize {
        let (date, day_pair, of_day) = date_words(self.secs);
        let clock = pair(of_day / 3_600)
            | u64::from(b':') << 16
            | pair(of_day / 60 % 60) << 24
            | u64::from(b':') << 40
            | pair(of_day % 60) << 48;
        let [day0, day1] = day_pair.to_le_bytes();
        let (head, rest) = buf.split_at_mut(8);
        head.copy_from_slice(&date.to_le_bytes());
        if let Some([d0, d1, t, time @ ..]) = rest.first_chunk_mut::<11>() {
            *d0 = day0;
            *d1 = day1;
            *t = b'T';
            time.copy_from_slice(&clock.to_le_bytes());
        }
        if self.frac_digits == 0 {
            return put_byte(buf, 19, b'Z');
        }
        let n = u64::from(self.nanos);
        // Milliseconds, the commonest precision, need only the first four
        // digits; the bytes past them are cut off by the `Z`.
        let mut eight = pair(n / 10_000_000) | pair(n / 100_000 % 100) << 16;
        if self.frac_digits > 4 {
            eight |= pair(n / 1_000 % 100) << 32 | pair(n / 10 % 100) << 48;
        }
        if let Some([dot, digits @ .., ninth]) =
            buf.get_mut(19..29).and_then(<[u8]>::first_chunk_mut::<10>)
        {
            *dot = b'.';
            digits.copy_from_slice(&eight.to_le_bytes());
            *ninth = b'0' + (n % 10) as u8;
        }
        put_byte(buf, 20 + usize::from(self.frac_digits), b'Z').min(RFC3339_MAX)
    }

    /// [`Timestamp::rfc3339_into`] a piece at a time: the reference its
    /// tests compare with.
    #[cfg(test)]
    fn rfc3339_by_pieces(&self, buf: &mut [u8; RFC3339_MAX]) -> usize {
        let days = self.secs.div_euclid(SECS_PER_DAY);
        let secs_of_day = self.secs.rem_euclid(SECS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let mut at = 0;
        at = put_digits(buf, at, year.unsigned_abs(), 4);
        at = put_byte(buf, at, b'-');
        at = put_digits(buf, at, u64::from(month), 2);
        at = put_byte(buf, at, b'-');
        at = put_digits(buf, at, u64::from(day), 2);
        at = put_byte(buf, at, b'T');
        at = put_digits(buf, at, secs_of_day.unsigned_abs() / 3_600, 2);
        at = put_byte(buf, at, b':');
        at = put_digits(buf, at, secs_of_day.unsigned_abs() / 60 % 60, 2);
        at = put_byte(buf, at, b':');
        at = put_digits(buf, at, secs_of_day.unsigned_abs() % 60, 2);
        if self.frac_digits > 0 {
            at = put_byte(buf, at, b'.');
            let unit = FRACTION_UNIT
                .get(usize::from(self.frac_digits))
                .copied()
                .unwrap_or(1);
            at = put_digits(
                buf,
                at,
                u64::from(self.nanos / unit),
                usize::from(self.frac_digits),
            );
        }
        put_byte(buf, at, b'Z').min(RFC3339_MAX)
    }
}

/// The date of the last time written: the Unix time of its first second,
/// and what [`date_words`] made of it. Records come in time order, so most
/// share their date with the one before. The module runs on one thread.
#[derive(Clone, Copy)]
struct LastDate {
    start: i64,
    date: u64,
    day: u16,
}

thread_local! {
    static LAST_DATE: Cell<LastDate> = const {
        Cell::new(LastDate {
            // No time lies within a day of it (`MIN_SECS`).
            start: i64::MIN,
            date: 0,
            day: 0,
        })
    };
}

/// The RFC 3339 date of the Unix time `secs` as two pieces of a store:
/// `YYYY-MM-` as one little-endian word and the day's two digits; and the
/// seconds since the day began. A time on the date of the last one costs
/// a subtraction and a comparison, no division.
#[inline(always)]
fn date_words(secs: i64) -> (u64, u16, u64) {
    let last = LAST_DATE.with(Cell::get);
    let of_day = secs.wrapping_sub(last.start);
    if (0..SECS_PER_DAY).contains(&of_day) {
        return (last.date, last.day, of_day.unsigned_abs());
    }
    let days = secs.div_euclid(SECS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    // Years are 0 to 9999 (`MIN_SECS`, `MAX_SECS`).
    let year = year.unsigned_abs();
    let date = pair(year / 100)
        | pair(year % 100) << 16
        | u64::from(b'-') << 32
        | pair(u64::from(month)) << 40
        | u64::from(b'-') << 56;
    let day = pair(u64::from(day)) as u16;
    let start = days * SECS_PER_DAY;
    LAST_DATE.with(|cell| cell.set(LastDate { start, date, day }));
    (date, day, (secs - start).unsigned_abs())
}

/// The two digits of `n % 100` as a little-endian `u16` (the tens digit
/// in the low byte), widened: a piece of an eight-byte store.
#[inline(always)]
fn pair(n: u64) -> u64 {
    let at = (n % 100) as usize * 2;
    DIGIT_PAIRS
        .get(at..at + 2)
        .and_then(|p| p.first_chunk::<2>())
        .map_or(0, |p| u64::from(u16::from_le_bytes(*p)))
}

/// A civil (calendar) date and time of day, already range-checked.
struct Civil {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
}

impl Civil {
    /// Checks the ranges of every part (the day against its month's length,
    /// leap years included); `None` if any is out of range.
    fn new(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<Civil> {
        let valid = (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month)
            && hour < 24
            && minute < 60
            && second < 60;
        valid.then_some(Civil {
            year,
            month,
            day,
            hour,
            minute,
            second,
        })
    }
}

// ---------------------------------------------------------------------------
// Calendar arithmetic (proleptic Gregorian).
//
// days_from_civil and civil_from_days are Howard Hinnant's algorithms
// ("chrono-Compatible Low-Level Date Algorithms"); eras are 400-year cycles
// of 146,097 days, and years start in March so the leap day is the last day.
// ---------------------------------------------------------------------------

fn is_leap(year: u32) -> bool {
    year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400))
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a valid civil date (year 0 to 9999).
fn days_from_civil(year: u32, month: u32, day: u32) -> i64 {
    // Shifted by one era (400 years, 146,097 days) so that the year before
    // 0000 is not negative and plain division is floor division.
    let y = i64::from(year) + 400 - i64::from(month <= 2);
    let (era, yoe) = (y / 400, y % 400);
    let mp = i64::from(if month > 2 { month - 3 } else { month + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era - 1) * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a count of days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

// ---------------------------------------------------------------------------
// Calendar access for the other layouts' parsers (`crate::timestamps`):
// thin names over the arithmetic above, so there is one calendar.
// ---------------------------------------------------------------------------

/// The number of days in `month` (1-12) of `year`, leap years included.
pub(crate) fn month_length(year: u32, month: u32) -> u32 {
    days_in_month(year, month)
}

/// Days since 1970-01-01 of a date that exists (year 0 to 9999, month 1 to
/// 12, day within its month).
pub(crate) fn days_from_date(year: u32, month: u32, day: u32) -> i64 {
    days_from_civil(year, month, day)
}

/// The date (year, month, day) of a count of days since 1970-01-01.
pub(crate) fn date_from_days(days: i64) -> (i64, u32, u32) {
    civil_from_days(days)
}

/// The days since 1970-01-01 that the year of the last [`year_from_days`]
/// spans, from its first day to the next year's first, and the year.
/// Records come with their times in order, so most fall in the year of
/// the one before. The module runs on one thread.
#[derive(Clone, Copy)]
struct LastYear {
    first: i64,
    next: i64,
    year: i64,
}

thread_local! {
    static LAST_YEAR: Cell<LastYear> = const {
        Cell::new(LastYear {
            first: 0,
            next: 0,
            year: 0,
        })
    };
}

/// The year of a count of days since 1970-01-01, as [`date_from_days`]
/// gives it; a day in the same year as the last one asked for costs two
/// comparisons.
pub(crate) fn year_from_days(days: i64) -> i64 {
    let last = LAST_YEAR.with(Cell::get);
    if (last.first..last.next).contains(&days) {
        return last.year;
    }
    let year = civil_from_days(days).0;
    // Years 0 to 9999 are remembered (`MIN_SECS`, `MAX_SECS`).
    if let Ok(y) = u32::try_from(year)
        && y <= 9999
    {
        LAST_YEAR.with(|cell| {
            cell.set(LastYear {
                first: days_from_civil(y, 1, 1),
                next: days_from_civil(y + 1, 1, 1),
                year,
            });
        });
    }
    year
}

// ---------------------------------------------------------------------------
// Small byte helpers: fixed-width digit fields, without indexing.
// ---------------------------------------------------------------------------

/// The value of two ASCII digits, or `None`.
#[inline(always)]
fn two_digits(tens: u8, units: u8) -> Option<u32> {
    let (t, u) = (tens.wrapping_sub(b'0'), units.wrapping_sub(b'0'));
    (t < 10 && u < 10).then_some(u32::from(t) * 10 + u32::from(u))
}

/// The value of four ASCII digits, or `None`.
#[inline(always)]
fn four_digits(a: u8, b: u8, c: u8, d: u8) -> Option<u32> {
    Some(two_digits(a, b)? * 100 + two_digits(c, d)?)
}

/// An offset of `hh` hours and `mm` minutes in seconds, or `None` if out of
/// range (RFC 3339 allows up to 23:59).
fn offset_seconds(negative: bool, hh: u32, mm: u32) -> Option<i64> {
    if hh > 23 || mm > 59 {
        return None;
    }
    let secs = i64::from(hh * 3_600 + mm * 60);
    Some(if negative { -secs } else { secs })
}

/// "00" to "99": decimal digits written two at a time.
pub(crate) const DIGIT_PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// Writes the low `width` decimal digits of `value` at `at`, two at a time.
#[cfg(test)]
fn put_digits(buf: &mut [u8], at: usize, mut value: u64, width: usize) -> usize {
    let end = at + width;
    if let Some(field) = buf.get_mut(at..end) {
        let mut i = width;
        while i >= 2 {
            let pair = (value % 100) as usize * 2;
            value /= 100;
            if let (Some(d), Some(p)) = (field.get_mut(i - 2..i), DIGIT_PAIRS.get(pair..pair + 2)) {
                d.copy_from_slice(p);
            }
            i -= 2;
        }
        if i == 1
            && let Some(d) = field.first_mut()
        {
            *d = b'0' + (value % 10) as u8;
        }
    }
    end
}

fn put_byte(buf: &mut [u8], at: usize, b: u8) -> usize {
    if let Some(slot) = buf.get_mut(at) {
        *slot = b;
    }
    at + 1
}

// ---------------------------------------------------------------------------
// Layout: RFC 3339 (`2018-09-17T12:13:43.123Z`, `2018-09-17T14:13:43+02:00`).
// Used by Envoy's %START_TIME% and JSON access logs.
// ---------------------------------------------------------------------------

/// Parses an RFC 3339 date-time: `YYYY-MM-DDTHH:MM:SS`, an optional fraction
/// of 1 to 9 digits, then `Z` or `±HH:MM`. `T` and `Z` may be lowercase (RFC
/// 3339 §5.6 allows it). The whole input must be the timestamp.
pub fn parse_rfc3339(s: &[u8]) -> Option<Timestamp> {
    let (head, rest) = s.split_first_chunk::<19>()?;
    let [
        y0,
        y1,
        y2,
        y3,
        dash1,
        mo0,
        mo1,
        dash2,
        d0,
        d1,
        t,
        h0,
        h1,
        colon1,
        mi0,
        mi1,
        colon2,
        s0,
        s1,
    ] = *head;
    let separators = dash1 == b'-'
        && dash2 == b'-'
        && matches!(t, b'T' | b't')
        && colon1 == b':'
        && colon2 == b':';
    let digits =
        [y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1].map(|b| b.wrapping_sub(b'0'));
    if !separators || digits.iter().any(|&d| d > 9) {
        return None;
    }
    let [y0, y1, y2, y3, mo0, mo1, d0, d1, h0, h1, mi0, mi1, s0, s1] = digits.map(u32::from);
    // Second 60 is read as second 59 plus one, then checked (see
    // `after_leap_second`).
    let second = s0 * 10 + s1;
    let leap = second == 60;
    let civil = Civil::new(
        y0 * 1000 + y1 * 100 + y2 * 10 + y3,
        mo0 * 10 + mo1,
        d0 * 10 + d1,
        h0 * 10 + h1,
        mi0 * 10 + mi1,
        if leap { 59 } else { second },
    )?;

    let (nanos, frac_digits, zone) = match rest.split_first() {
        Some((b'.', fraction)) => {
            let mut value = 0u32;
            let mut digits = 0usize;
            for &b in fraction {
                let digit = b.wrapping_sub(b'0');
                if digit > 9 || digits == 9 {
                    break;
                }
                value = value * 10 + u32::from(digit);
                digits += 1;
            }
            let zone = fraction.get(digits..)?;
            if digits == 0 || zone.first().is_some_and(u8::is_ascii_digit) {
                return None;
            }
            let unit = *FRACTION_UNIT.get(digits)?;
            (value * unit, u8::try_from(digits).ok()?, zone)
        }
        _ => (0, 0, rest),
    };

    let offset = match *zone {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h0, h1, b':', m0, m1] => {
            offset_seconds(sign == b'-', two_digits(h0, h1)?, two_digits(m0, m1)?)?
        }
        _ => return None,
    };
    let t = Timestamp::from_civil(civil, nanos, frac_digits, offset)?;
    if leap { after_leap_second(t) } else { Some(t) }
}

/// A leap second read as second 59 (`t`): the next second, when that is
/// midnight UTC at the start of a month (RFC 3339 allows second 60 only at
/// 23:59:60 UTC on a month's last day). Unix time counts no leap seconds,
/// so it is written as the next second, as POSIX clocks count it, and as
/// `crate::timestamps` reads the other layouts.
fn after_leap_second(t: Timestamp) -> Option<Timestamp> {
    let secs = t.secs + 1;
    let month_start =
        secs.rem_euclid(SECS_PER_DAY) == 0 && civil_from_days(secs.div_euclid(SECS_PER_DAY)).2 == 1;
    (month_start && secs <= MAX_SECS).then_some(Timestamp { secs, ..t })
}

/// Whether `s` is exactly what [`Timestamp::write_rfc3339`] writes for the
/// time it denotes: `YYYY-MM-DDTHH:MM:SS`, an optional fraction of one to
/// nine digits, then `Z` (uppercase `T` and `Z`, no offset), every part in
/// range as [`parse_rfc3339`] requires. Such a time (Envoy's
/// `%START_TIME%` is one) is copied to the output as it is instead of being
/// parsed and written again. The layout is checked a word at a time.
pub fn is_canonical_rfc3339(s: &[u8]) -> bool {
    use crate::scan::digit_bytes;
    let Some((head, rest)) = s.split_first_chunk::<19>() else {
        return false;
    };
    let zone_ok = match rest {
        [b'Z'] => true,
        [b'.', digits @ .., b'Z'] => {
            (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    };
    let (Some(a), Some(b), Some(c)) = (
        head.first_chunk::<8>(),
        head.get(8..).and_then(<[u8]>::first_chunk::<8>),
        head.last_chunk::<8>(),
    ) else {
        return false;
    };
    // `YYYY-MM-`, `DDTHH:MM` and `HH:MM:SS` (bytes 11 to 18).
    let (a, b, c) = (
        u64::from_le_bytes(*a),
        u64::from_le_bytes(*b),
        u64::from_le_bytes(*c),
    );
    const DIGITS_A: u64 = 0x0080_8000_8080_8080;
    const DIGITS_BC: u64 = 0x8080_0080_8000_8080;
    const SEPS_A: u64 = 0xff00_00ff_0000_0000;
    const SEPS_B: u64 = 0x0000_ff00_00ff_0000;
    const SEPS_C: u64 = 0x0000_ff00_00ff_0000;
    let shaped = zone_ok
        && digit_bytes(a) & DIGITS_A == DIGITS_A
        && digit_bytes(b) & DIGITS_BC == DIGITS_BC
        && digit_bytes(c) & DIGITS_BC == DIGITS_BC
        && a & SEPS_A == u64::from_le_bytes(*b"\0\0\0\0-\0\0-")
        && b & SEPS_B == u64::from_le_bytes(*b"\0\0T\0\0:\0\0")
        && c & SEPS_C == u64::from_le_bytes(*b"\0\0:\0\0:\0\0");
    if !shaped {
        return false;
    }
    // The value of the two digits at byte `i` of `w`.
    let pair = |w: u64, i: u32| {
        let tens = (w >> (8 * i)) as u32 & 0xf;
        let units = (w >> (8 * i + 8)) as u32 & 0xf;
        tens * 10 + units
    };
    let (month, day) = (pair(a, 5), pair(b, 0));
    let (hour, minute, second) = (pair(b, 3), pair(b, 6), pair(c, 6));
    if !(1..=12).contains(&month) || day == 0 || hour > 23 || minute > 59 || second > 59 {
        return false;
    }
    day <= 28 || day <= days_in_month(pair(a, 0) * 100 + pair(a, 2), month)
}

// ---------------------------------------------------------------------------
// Layout: Common Log Format (`17/Sep/2018:12:19:26 +0000`).
// nginx's $time_local; English month abbreviations, any case.
// ---------------------------------------------------------------------------

const MONTHS: [&[u8; 3]; 12] = [
    b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec",
];

/// The month number (1-12) of an English three-letter abbreviation, any case.
fn month_from_abbrev(name: &[u8]) -> Option<u32> {
    let [a, b, c] = name else {
        return None;
    };
    let lower = [
        a.to_ascii_lowercase(),
        b.to_ascii_lowercase(),
        c.to_ascii_lowercase(),
    ];
    let index = MONTHS.iter().position(|m| **m == lower)?;
    u32::try_from(index + 1).ok()
}

/// Parses `DD/Mon/YYYY:HH:MM:SS ±HHMM` exactly (26 bytes), the layout of
/// nginx's `$time_local` and Apache's `%t`. No fraction.
pub fn parse_clf(s: &[u8]) -> Option<Timestamp> {
    let [
        d0,
        d1,
        slash1,
        m0,
        m1,
        m2,
        slash2,
        y0,
        y1,
        y2,
        y3,
        colon1,
        h0,
        h1,
        colon2,
        mi0,
        mi1,
        colon3,
        s0,
        s1,
        space,
        sign,
        oh0,
        oh1,
        om0,
        om1,
    ] = *<&[u8; 26]>::try_from(s).ok()?;
    let separators = slash1 == b'/'
        && slash2 == b'/'
        && colon1 == b':'
        && colon2 == b':'
        && colon3 == b':'
        && space == b' ';
    if !separators {
        return None;
    }
    let civil = Civil::new(
        four_digits(y0, y1, y2, y3)?,
        month_from_abbrev(&[m0, m1, m2])?,
        two_digits(d0, d1)?,
        two_digits(h0, h1)?,
        two_digits(mi0, mi1)?,
        two_digits(s0, s1)?,
    )?;
    let negative = match sign {
        b'+' => false,
        b'-' => true,
        _ => return None,
    };
    let offset = offset_seconds(negative, two_digits(oh0, oh1)?, two_digits(om0, om1)?)?;
    Timestamp::from_civil(civil, 0, 0, offset)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::xorshift;

    /// The remembered year answers as the calendar does, for days in
    /// the same year, near the turn of one, and far apart.
    #[test]
    fn year_from_days_agrees_with_the_calendar() {
        let mut next = xorshift(0x5EED_0001);
        let mut days = 0i64;
        for _ in 0..20_000 {
            let r = next();
            days = match r % 4 {
                0 => i64::try_from(r >> 8).unwrap_or(0) % 3_652_425 - 719_528,
                1 => days + i64::try_from(r >> 8).unwrap_or(0) % 3 - 1,
                2 => days + i64::try_from(r >> 8).unwrap_or(0) % 800 - 400,
                _ => days,
            };
            days = days.clamp(-719_528, 2_932_896);
            assert_eq!(year_from_days(days), civil_from_days(days).0, "{days}");
        }
        for days in [-719_528, -1, 0, 364, 365, 2_932_896] {
            assert_eq!(year_from_days(days), civil_from_days(days).0, "{days}");
        }
    }

    fn rfc(ts: Timestamp) -> String {
        let mut out = Vec::new();
        ts.write_rfc3339(&mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    /// The word-at-a-time writer agrees with the piece-at-a-time one on
    /// every precision, on the range's ends, on the first and last seconds
    /// of days met in turn, and on seeded random instants, each followed by
    /// another instant of its day (the remembered date) and of the day before.
    #[test]
    fn rfc3339_words_agree_with_pieces() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let span = (MAX_SECS - MIN_SECS) as u64 + 1;
        let mut secs: Vec<i64> = vec![
            MIN_SECS,
            MIN_SECS + 86_399,
            -1,
            0,
            86_399,
            86_400,
            86_399,
            -86_400,
            -86_401,
            MAX_SECS,
        ];
        for _ in 0..20_000 {
            let s = MIN_SECS + (next() % span) as i64;
            let day = s - s.rem_euclid(SECS_PER_DAY);
            let same_day = day + (next() % SECS_PER_DAY as u64) as i64;
            let day_before = same_day - SECS_PER_DAY;
            secs.extend([s, same_day, day_before].map(|s| s.clamp(MIN_SECS, MAX_SECS)));
        }
        for (i, s) in secs.into_iter().enumerate() {
            let digits = (i % 10) as u8;
            let unit = FRACTION_UNIT[usize::from(digits)];
            let nanos = (next() % 1_000_000_000) as u32 / unit * unit;
            let t = Timestamp::new(s, nanos, digits).unwrap();
            let (mut a, mut b) = ([0u8; RFC3339_MAX], [0u8; RFC3339_MAX]);
            let (la, lb) = (t.rfc3339_into(&mut a), t.rfc3339_by_pieces(&mut b));
            assert_eq!((la, &a[..la]), (lb, &b[..lb]), "{t:?}");
            assert_eq!(la, t.rfc3339_len(), "{t:?}");
        }
    }

    /// Naive reference: count days year by year and month by month.
    fn naive_days(year: i64, month: u32, day: u32) -> i64 {
        let mut days = 0i64;
        if year >= 1970 {
            for y in 1970..year {
                days += if is_leap(y as u32) { 366 } else { 365 };
            }
        } else {
            for y in year..1970 {
                days -= if is_leap(y as u32) { 366 } else { 365 };
            }
        }
        for m in 1..month {
            days += i64::from(days_in_month(year as u32, m));
        }
        days + i64::from(day) - 1
    }

    #[test]
    fn calendar_matches_naive_reference() {
        for year in (0..=9999)
            .step_by(7)
            .chain([0, 1, 1600, 1900, 1970, 2000, 2100, 9999])
        {
            for month in 1..=12 {
                for day in [1, 15, 28, days_in_month(year, month)] {
                    let d = days_from_civil(year, month, day);
                    assert_eq!(
                        d,
                        naive_days(i64::from(year), month, day),
                        "{year}-{month}-{day}"
                    );
                    assert_eq!(civil_from_days(d), (i64::from(year), month, day));
                }
            }
        }
    }

    #[test]
    fn range_limits() {
        assert_eq!(days_from_civil(0, 1, 1) * SECS_PER_DAY, MIN_SECS);
        assert_eq!(
            days_from_civil(0, 2, 29) + 1,
            days_from_civil(0, 3, 1),
            "year 0 is a leap year"
        );
        assert_eq!(
            days_from_civil(9999, 12, 31) * SECS_PER_DAY + 86_399,
            MAX_SECS
        );
        assert!(Timestamp::new(MIN_SECS - 1, 0, 0).is_none());
        assert!(Timestamp::new(MAX_SECS + 1, 0, 0).is_none());
        assert!(Timestamp::new(0, 1_000_000_000, 9).is_none());
        assert!(Timestamp::new(0, 1, 3).is_none(), "finer than 3 digits");
        assert!(Timestamp::new(0, 0, 10).is_none());
        assert_eq!(
            rfc(Timestamp::new(MIN_SECS, 0, 0).unwrap()),
            "0000-01-01T00:00:00Z"
        );
        assert_eq!(
            rfc(Timestamp::new(MAX_SECS, 999_999_999, 9).unwrap()),
            "9999-12-31T23:59:59.999999999Z"
        );
    }

    /// Named cases: input, layout, expected RFC 3339 output or `None`.
    #[test]
    fn named_cases() {
        type Parser = fn(&[u8]) -> Option<Timestamp>;
        let r: Parser = parse_rfc3339;
        let c: Parser = parse_clf;
        let cases: &[(&str, Parser, &str, Option<&str>)] = &[
            (
                "envoy start_time, ms",
                r,
                "2016-04-15T20:17:00.310Z",
                Some("2016-04-15T20:17:00.310Z"),
            ),
            (
                "no fraction",
                r,
                "2018-09-17T12:13:43Z",
                Some("2018-09-17T12:13:43Z"),
            ),
            (
                "one digit",
                r,
                "2018-09-17T12:13:43.1Z",
                Some("2018-09-17T12:13:43.1Z"),
            ),
            (
                "nine digits",
                r,
                "2026-08-13T21:00:01.123456789Z",
                Some("2026-08-13T21:00:01.123456789Z"),
            ),
            (
                "trailing zeros kept",
                r,
                "2018-09-17T12:13:43.100Z",
                Some("2018-09-17T12:13:43.100Z"),
            ),
            (
                "positive offset",
                r,
                "2018-09-17T14:13:43.5+02:00",
                Some("2018-09-17T12:13:43.5Z"),
            ),
            (
                "negative offset crosses day",
                r,
                "2018-12-31T23:30:00-01:00",
                Some("2019-01-01T00:30:00Z"),
            ),
            (
                "lowercase t and z",
                r,
                "2018-09-17t12:13:43z",
                Some("2018-09-17T12:13:43Z"),
            ),
            (
                "leap day",
                r,
                "2024-02-29T00:00:00Z",
                Some("2024-02-29T00:00:00Z"),
            ),
            (
                "epoch",
                r,
                "1970-01-01T00:00:00Z",
                Some("1970-01-01T00:00:00Z"),
            ),
            (
                "before epoch",
                r,
                "1969-12-31T23:59:59.9Z",
                Some("1969-12-31T23:59:59.9Z"),
            ),
            ("ten digits", r, "2018-09-17T12:13:43.1234567890Z", None),
            ("empty fraction", r, "2018-09-17T12:13:43.Z", None),
            ("no zone", r, "2018-09-17T12:13:43", None),
            ("space separator", r, "2018-09-17 12:13:43Z", None),
            ("offset without colon", r, "2018-09-17T12:13:43+0200", None),
            ("offset hour 24", r, "2018-09-17T12:13:43+24:00", None),
            ("not a leap year", r, "2023-02-29T00:00:00Z", None),
            ("1900 not leap", r, "1900-02-29T00:00:00Z", None),
            ("april 31", r, "2018-04-31T00:00:00Z", None),
            ("month 13", r, "2018-13-01T00:00:00Z", None),
            ("hour 24", r, "2018-09-17T24:00:00Z", None),
            (
                "leap second: the next second",
                r,
                "2016-12-31T23:59:60.500Z",
                Some("2017-01-01T00:00:00.500Z"),
            ),
            (
                "leap second at an offset",
                r,
                "2016-12-31T18:59:60-05:00",
                Some("2017-01-01T00:00:00Z"),
            ),
            (
                "second 60 not at a month's end",
                r,
                "2016-12-30T23:59:60Z",
                None,
            ),
            (
                "second 60 not at midnight UTC",
                r,
                "2016-12-31T22:59:60Z",
                None,
            ),
            ("second 61", r, "2016-12-31T23:59:61Z", None),
            ("trailing byte", r, "2018-09-17T12:13:43Zx", None),
            (
                "before year 0 after offset",
                r,
                "0000-01-01T00:00:00+00:01",
                None,
            ),
            (
                "after year 9999 after offset",
                r,
                "9999-12-31T23:59:59-00:01",
                None,
            ),
            ("sign in year", r, "+018-09-17T12:13:43Z", None),
            ("non-ascii digit", r, "２018-09-17T12:13:43Z", None),
            ("empty", r, "", None),
            (
                "nginx time_local",
                c,
                "17/Sep/2018:12:19:26 +0000",
                Some("2018-09-17T12:19:26Z"),
            ),
            (
                "month any case",
                c,
                "17/SEP/2018:12:19:26 +0000",
                Some("2018-09-17T12:19:26Z"),
            ),
            (
                "month lower",
                c,
                "11/sep/2023:07:44:14 +0000",
                Some("2023-09-11T07:44:14Z"),
            ),
            (
                "positive offset",
                c,
                "01/Jan/2019:01:00:00 +0130",
                Some("2018-12-31T23:30:00Z"),
            ),
            (
                "negative offset",
                c,
                "31/Dec/2018:23:00:00 -0500",
                Some("2019-01-01T04:00:00Z"),
            ),
            (
                "feb 29 leap",
                c,
                "29/Feb/2000:00:00:00 +0000",
                Some("2000-02-29T00:00:00Z"),
            ),
            ("feb 29 not leap", c, "29/Feb/2100:00:00:00 +0000", None),
            ("unknown month", c, "17/Sek/2018:12:19:26 +0000", None),
            ("month in french", c, "17/Fév/2018:12:19:26 +0000", None),
            ("missing offset", c, "17/Sep/2018:12:19:26", None),
            ("one-digit day", c, "7/Sep/2018:12:19:26 +0000", None),
            ("offset with colon", c, "17/Sep/2018:12:19:26 +00:00", None),
            ("offset minutes 60", c, "17/Sep/2018:12:19:26 +0060", None),
            ("trailing byte", c, "17/Sep/2018:12:19:26 +0000]", None),
            ("rfc3339 to clf parser", c, "2018-09-17T12:13:43.123Z", None),
        ];
        for (name, parse, input, want) in cases {
            let got = parse(input.as_bytes()).map(rfc);
            assert_eq!(got.as_deref(), *want, "case {name:?}: {input:?}");
        }
    }

    #[test]
    fn fields_of_a_parsed_time() {
        let ts = parse_rfc3339(b"2020-11-25T21:26:18.409Z").unwrap();
        assert_eq!(ts.unix_seconds(), 1_606_339_578);
        assert_eq!(ts.nanos(), 409_000_000);
        assert_eq!(ts.frac_digits(), 3);
        assert_eq!(
            parse_clf(b"25/Nov/2020:21:26:18 +0000")
                .unwrap()
                .unix_seconds(),
            1_606_339_578
        );
    }

    /// The reference for [`is_canonical_rfc3339`]: parsing and writing
    /// back give the same text.
    fn naive_canonical(s: &[u8]) -> bool {
        parse_rfc3339(s).is_some_and(|t| {
            let mut text = Vec::new();
            t.write_rfc3339(&mut text);
            text == s
        })
    }

    #[test]
    fn canonical_rfc3339_cases() {
        let cases: &[(&str, &str, bool)] = &[
            ("istio start time", "2020-11-25T21:26:18.409Z", true),
            ("no fraction", "2018-09-17T12:13:43Z", true),
            ("nanoseconds", "2026-11-27T08:10:00.123456789Z", true),
            ("zero fraction kept", "2026-11-27T08:10:00.000Z", true),
            ("leap day", "2024-02-29T00:00:00Z", true),
            ("not a leap year", "2023-02-29T00:00:00Z", false),
            ("century not leap", "1900-02-29T00:00:00Z", false),
            ("400 years leap", "2000-02-29T00:00:00Z", true),
            ("april 31", "2024-04-31T00:00:00Z", false),
            ("month 13", "2024-13-01T00:00:00Z", false),
            ("month 0", "2024-00-01T00:00:00Z", false),
            ("day 0", "2024-01-00T00:00:00Z", false),
            ("hour 24", "2024-01-01T24:00:00Z", false),
            ("second 60", "2024-01-01T23:59:60Z", false),
            ("offset", "2024-01-01T00:00:00+00:00", false),
            ("lowercase t", "2024-01-01t00:00:00Z", false),
            ("lowercase z", "2024-01-01T00:00:00z", false),
            ("ten digits", "2024-01-01T00:00:00.0123456789Z", false),
            ("empty fraction", "2024-01-01T00:00:00.Z", false),
            ("no zone", "2024-01-01T00:00:00", false),
            ("slashes", "2024/01/01T00:00:00Z", false),
            ("empty", "", false),
        ];
        for (name, text, want) in cases {
            assert_eq!(is_canonical_rfc3339(text.as_bytes()), *want, "{name}");
            assert_eq!(
                naive_canonical(text.as_bytes()),
                *want,
                "{name} (reference)"
            );
        }
    }

    #[test]
    fn canonical_rfc3339_agrees_with_a_round_trip() {
        let mut next = xorshift(0x2545_f491_4f6c_dd1d);
        let bases = [
            "2020-11-25T21:26:18.409Z",
            "2024-02-29T23:59:59Z",
            "0000-01-01T00:00:00.000000001Z",
            "9999-12-31T23:59:59.9Z",
        ];
        let alphabet = b"0123456789-:TtZz.+ ";
        for _ in 0..50_000 {
            let mut s = bases[(next() % 4) as usize].as_bytes().to_vec();
            for _ in 0..(next() % 3) {
                let at = (next() % (s.len() as u64 + 1)) as usize;
                let b = alphabet[(next() % alphabet.len() as u64) as usize];
                match next() % 3 {
                    0 if at < s.len() => s[at] = b,
                    1 => s.insert(at, b),
                    _ if at < s.len() => {
                        s.remove(at);
                    }
                    _ => {}
                }
            }
            assert_eq!(
                is_canonical_rfc3339(&s),
                naive_canonical(&s),
                "{}",
                String::from_utf8_lossy(&s)
            );
        }
    }

    /// Every second-aligned time round-trips through both layouts.
    #[test]
    fn round_trip_generated() {
        let mut next = crate::test_rng::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let state = next();
            let secs = MIN_SECS + (state % (MAX_SECS - MIN_SECS + 1) as u64) as i64;
            let digits = (state >> 60) as u8 % 10;
            let unit = FRACTION_UNIT[usize::from(digits)];
            let nanos = ((state >> 20) as u32 % 1_000_000_000) / unit * unit;
            let ts = Timestamp::new(secs, nanos, digits).unwrap();
            let text = rfc(ts);
            assert_eq!(parse_rfc3339(text.as_bytes()), Some(ts), "{text}");
            let whole = Timestamp::new(secs, 0, 0).unwrap();
            let text = rfc(whole);
            let (date, time) = text.split_at(10);
            let (y, m, d) = (&date[0..4], &date[5..7], &date[8..10]);
            let month = [
                "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
            ][m.parse::<usize>().unwrap() - 1];
            let clf = format!("{d}/{month}/{y}:{} +0000", &time[1..9]);
            assert_eq!(parse_clf(clf.as_bytes()), Some(whole), "{clf}");
        }
    }
}
