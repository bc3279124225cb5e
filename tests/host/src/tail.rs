//! Log-file lines turned into records the way fluent-bit v5.1.1's `tail`
//! input delivers them, for replaying container logs through a module.
//!
//! Each line (split on `\n`, one trailing `\r` removed, empty lines kept,
//! as with tail's default `skip_empty_lines off`) becomes:
//! - a JSON object line (a docker json-file line): the object as the stock
//!   `docker` parser gives it (`Format json`, `Time_Key time`, `Time_Format
//!   %Y-%m-%dT%H:%M:%S.%L`, `Time_Keep On`): every key kept in order, the
//!   record time read from `time` as UTC. A line holding more than one JSON
//!   value is not parsed (the parser wants exactly one record);
//! - a CRI line: the stock `cri` parser's regex
//!   `^(?<time>[^ ]+) (?<stream>stdout|stderr) (?<logtag>[^ ]*) (?<message>.*)$`
//!   gives `time`, `stream`, `logtag`, `message` (its `Time_Keep On` keeps
//!   `time` in the body), the record time read with
//!   `%Y-%m-%dT%H:%M:%S.%L%z`;
//! - anything else: `{"log": "<line>"}` as tail packs an unparsed line.
//!
//! When no time can be read the record time is `now`, as tail does.
//! Lines are bytes: invalid UTF-8 is carried through untouched, for the
//! encoder to render as fluent-bit does.
//!
//! Invariant: every line yields exactly one record; nothing here fails.

use crate::body::Body;
use crate::json;
use std::path::Path;
use std::time::Duration;

/// Which of the three shapes a line had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineFormat {
    Docker,
    Cri,
    Raw,
}

/// One record as tail delivers it.
#[derive(Debug, Clone, PartialEq)]
pub struct TailRecord {
    pub time_sec: u32,
    pub time_nsec: u32,
    pub body: Body,
    pub format: LineFormat,
}

/// Splits file content into lines as tail does. A last line without a
/// newline is returned too (tail would wait for its end).
pub fn split_lines(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let trimmed = data.strip_suffix(b"\n").unwrap_or(data);
    let empty = data.is_empty();
    trimmed
        .split(|&b| b == b'\n')
        .filter(move |_| !empty)
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
}

/// The tag tail would give a file: `kube.<namespace>.<pod>.<container>` for
/// a name `<namespace>_<pod>_<container>.log`, else `tail.0`.
pub fn tag_for_path(path: &Path) -> String {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if let Some(stem) = name.strip_suffix(".log") {
        let parts: Vec<&str> = stem.split('_').collect();
        if let [namespace, pod, container] = parts.as_slice()
            && parts.iter().all(|p| !p.is_empty())
        {
            return format!("kube.{namespace}.{pod}.{container}");
        }
    }
    "tail.0".to_string()
}

fn split_time(now: Duration) -> (u32, u32) {
    (
        u32::try_from(now.as_secs()).unwrap_or(u32::MAX),
        now.subsec_nanos(),
    )
}

/// One line as a record (see the module doc); `now` is the time since the
/// Unix epoch used when the line carries none.
pub fn tail_line(line: &[u8], now: Duration) -> TailRecord {
    let (now_sec, now_nsec) = split_time(now);
    if let Some(body) = docker_body(line) {
        let time = body
            .get("time")
            .and_then(Body::as_bytes)
            .and_then(|t| parse_time(t, false));
        let (time_sec, time_nsec) = time.unwrap_or((now_sec, now_nsec));
        return TailRecord {
            time_sec,
            time_nsec,
            body,
            format: LineFormat::Docker,
        };
    }
    if let Some((time, stream, logtag, message)) = cri_fields(line) {
        let (time_sec, time_nsec) = parse_time(time, true).unwrap_or((now_sec, now_nsec));
        let body = Body::Map(vec![
            (Body::str("time"), Body::Str(time.to_vec())),
            (Body::str("stream"), Body::Str(stream.to_vec())),
            (Body::str("logtag"), Body::Str(logtag.to_vec())),
            (Body::str("message"), Body::Str(message.to_vec())),
        ]);
        return TailRecord {
            time_sec,
            time_nsec,
            body,
            format: LineFormat::Cri,
        };
    }
    TailRecord {
        time_sec: now_sec,
        time_nsec: now_nsec,
        body: Body::Map(vec![(Body::str("log"), Body::Str(line.to_vec()))]),
        format: LineFormat::Raw,
    }
}

/// The docker parser's record: exactly one JSON value, an object.
fn docker_body(line: &[u8]) -> Option<Body> {
    let doc = json::read_first(line, json::BUILD_DEPTH_LIMIT).ok()?;
    if doc.kind != json::RootKind::Object {
        return None;
    }
    let rest = line.get(doc.end..).unwrap_or_default();
    if json::read_first(rest, 0).is_ok() {
        return None;
    }
    doc.body
}

type CriFields<'a> = (&'a [u8], &'a [u8], &'a [u8], &'a [u8]);

/// The stock cri parser's captures, if the line matches its regex.
fn cri_fields(line: &[u8]) -> Option<CriFields<'_>> {
    let space = line.iter().position(|&b| b == b' ')?;
    let (time, rest) = (line.get(..space)?, line.get(space + 1..)?);
    if time.is_empty() {
        return None;
    }
    let (stream, rest) = if let Some(rest) = rest.strip_prefix(b"stdout ") {
        (&b"stdout"[..], rest)
    } else {
        (&b"stderr"[..], rest.strip_prefix(b"stderr ")?)
    };
    let space = rest.iter().position(|&b| b == b' ')?;
    Some((time, stream, rest.get(..space)?, rest.get(space + 1..)?))
}

fn number(text: &[u8]) -> Option<i64> {
    if text.is_empty() || !text.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Days from 1970-01-01 to a proleptic Gregorian date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads `%Y-%m-%dT%H:%M:%S.%L` (then `%z` if `with_zone`: `Z`, `+hh:mm`
/// or `+hhmm`) as seconds and nanoseconds since the epoch, UTC.
pub fn parse_time(text: &[u8], with_zone: bool) -> Option<(u32, u32)> {
    let field = |range: std::ops::Range<usize>| text.get(range).and_then(number);
    if text.get(4) != Some(&b'-') || text.get(7) != Some(&b'-') || text.get(10) != Some(&b'T') {
        return None;
    }
    if text.get(13) != Some(&b':') || text.get(16) != Some(&b':') || text.get(19) != Some(&b'.') {
        return None;
    }
    let (year, month, day) = (field(0..4)?, field(5..7)?, field(8..10)?);
    let (hour, minute, second) = (field(11..13)?, field(14..16)?, field(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let rest = text.get(20..)?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut fraction = rest.get(..digits.min(9))?.to_vec();
    fraction.resize(9, b'0');
    let nanos = number(&fraction)?;
    let zone = rest.get(digits..).unwrap_or_default();
    let offset = if with_zone {
        match zone {
            [b'Z', ..] => 0,
            [sign @ (b'+' | b'-'), h1, h2, rest @ ..] => {
                let hours = number(&[*h1, *h2])?;
                let minutes = match rest {
                    [b':', m1, m2, ..] | [m1, m2, ..] => number(&[*m1, *m2])?,
                    _ => 0,
                };
                let seconds = hours * 3600 + minutes * 60;
                if *sign == b'-' { -seconds } else { seconds }
            }
            _ => return None,
        }
    } else {
        0
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some((u32::try_from(secs).ok()?, u32::try_from(nanos).ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Duration = Duration::from_secs(1_000);

    #[test]
    fn docker_line() {
        let line =
            br#"{"log":"hello\n","stream":"stdout","time":"2018-03-04T05:06:07.123456789Z"}"#;
        let record = tail_line(line, NOW);
        assert_eq!(record.format, LineFormat::Docker);
        assert_eq!(
            (record.time_sec, record.time_nsec),
            (1_520_139_967, 123_456_789)
        );
        assert_eq!(
            record.body,
            Body::map([
                ("log", Body::str("hello\n")),
                ("stream", Body::str("stdout")),
                ("time", Body::str("2018-03-04T05:06:07.123456789Z")),
            ])
        );
    }

    #[test]
    fn cri_line() {
        let line = b"2024-01-02T03:04:05.5+01:00 stderr F oops: it broke";
        let record = tail_line(line, NOW);
        assert_eq!(record.format, LineFormat::Cri);
        assert_eq!(
            (record.time_sec, record.time_nsec),
            (1_704_161_045, 500_000_000)
        );
        assert_eq!(
            record.body,
            Body::map([
                ("time", Body::str("2024-01-02T03:04:05.5+01:00")),
                ("stream", Body::str("stderr")),
                ("logtag", Body::str("F")),
                ("message", Body::str("oops: it broke")),
            ])
        );
    }

    #[test]
    fn other_lines() {
        let cases: &[(&str, &[u8])] = &[
            ("plain text", b"just some text"),
            ("bad stream", b"2024-01-02T03:04:05Z stdin F x"),
            ("two json values", br#"{"a":1} {"b":2}"#),
            ("json array", b"[1,2]"),
            ("invalid utf-8", b"caf\xe9"),
            ("empty", b""),
        ];
        for (name, line) in cases {
            let record = tail_line(line, NOW);
            assert_eq!(record.format, LineFormat::Raw, "{name}");
            assert_eq!((record.time_sec, record.time_nsec), (1_000, 0), "{name}");
            assert_eq!(
                record.body,
                Body::Map(vec![(Body::str("log"), Body::Str(line.to_vec()))]),
                "{name}"
            );
        }
    }

    #[test]
    fn unreadable_times_fall_back_to_now() {
        let record = tail_line(br#"{"log":"x","time":"yesterday"}"#, NOW);
        assert_eq!(
            (record.format, record.time_sec),
            (LineFormat::Docker, 1_000)
        );
        let record = tail_line(b"2024-01-02T03:04:05 stdout F x", NOW);
        assert_eq!((record.format, record.time_sec), (LineFormat::Cri, 1_000));
    }

    #[test]
    fn lines_and_tags() {
        let lines: Vec<&[u8]> = split_lines(b"a\r\n\nb\nc").collect();
        assert_eq!(lines, vec![&b"a"[..], b"", b"b", b"c"]);
        assert_eq!(split_lines(b"").count(), 0);
        assert_eq!(split_lines(b"x\n").count(), 1);
        assert_eq!(
            tag_for_path(Path::new("/logs/prod_web-1_nginx.log")),
            "kube.prod.web-1.nginx"
        );
        assert_eq!(tag_for_path(Path::new("app.log")), "tail.0");
        assert_eq!(tag_for_path(Path::new("a__b.log")), "tail.0");
        assert_eq!(tag_for_path(Path::new("a_b_c.txt")), "tail.0");
    }
}
