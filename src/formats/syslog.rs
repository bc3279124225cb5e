//! syslog lines, RFC 5424 and RFC 3164 (BSD), as containers write them to
//! their output or relays forward them:
//!
//! - RFC 5424: `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event log entry`
//!   (<https://www.rfc-editor.org/rfc/rfc5424#section-6>);
//! - RFC 3164: `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`
//!   (<https://www.rfc-editor.org/rfc/rfc3164#section-4.1>), also without
//!   the `<PRI>` (as files under /var/log hold them), without the host (as
//!   a program writes to the local socket: fluent-bit's
//!   `syslog-rfc3164-local`), or with an RFC 3339 time (rsyslog's high
//!   precision timestamps).
//!
//! Entry points: [`parse`] (either, a line starting `<PRI>1 ` is RFC 5424),
//! [`parse_rfc5424`], [`parse_rfc3164`].
//!
//! # Fields
//!
//! The names are those of fluent-bit's stock `syslog-rfc5424`,
//! `syslog-rfc3164` and `syslog-rfc3164-local` parsers (conf/parsers.conf).
//! Every field is left out when the line has `-` (RFC 5424's nil value)
//! or nothing there.
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `pri` | integer | priority, facility × 8 + severity | `<PRI>` |
//! | `time` | string (RFC 3339 UTC) | RFC 5424 time, or an RFC 3339 time in an RFC 3164 line | `TIMESTAMP` |
//! | `time` | string | RFC 3164 time as written, no year, no zone | `Mmm dd hh:mm:ss` |
//! | `host` | string | sending host | `HOSTNAME` |
//! | `ident` | string | program | `APP-NAME`, the tag before `[pid]:` |
//! | `pid` | integer | process id | `PROCID`, `[pid]` |
//! | `msgid` | string | message type (RFC 5424) | `MSGID` |
//! | `extradata` | string | structured data as written (RFC 5424) | `[id k="v"]…` |
//! | `message` | string | the message (a leading byte order mark dropped) | `MSG` |
//!
//! `pri` is kept whole; severity and facility are `pri % 8` and `pri / 8`,
//! and mapping severities to one vocabulary is a later step. An RFC 5424
//! `PROCID` that is not a number (the RFC allows any word) is left out and
//! the line marked `out-of-range`, as is a time that is not a valid date.
//!
//! # Reading RFC 3164
//!
//! After the time come the host and the tag, `ident[pid]:`, both optional
//! in practice. The first word is the tag when it has the tag's shape
//! (letters, digits and `_/.-`, an optional `[digits]`, then `:`); the line
//! then has no host (the `-local` layout). Otherwise the first word is the
//! host and the tag is read after it; a line without a tag has its message
//! right after the host. Unlike the stock regex, a message without a tag
//! is not cut at its first `:`.
//!
//! # Why the split is certain
//!
//! Every header field is a single word written by the sender; only the
//! message, last, holds arbitrary text. RFC 5424's structured data may
//! hold quoted values with `\"`, `\\` and `\]` escaped: it is read with
//! those escapes honoured, so a `]` inside a value does not end it. Each
//! header word is found with one word-at-a-time search; the structured
//! data is read once. Work is linear in the line's length.

use super::{Fields, Mismatch, Outcome, Value, digits_end, has_shape, quoted_end};
use super::{skip_spaces, trim_line_end};
use crate::scan;
use crate::time::parse_rfc3339;

/// The format name of RFC 5424 lines.
pub const RFC5424: &str = "syslog-rfc5424";
/// The format name of RFC 3164 lines.
pub const RFC3164: &str = "syslog-rfc3164";

/// Parses one syslog line, RFC 5424 when it starts `<PRI>1 `, RFC 3164
/// otherwise.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    match pri(line) {
        Some((_, end)) if line.get(end..end + 2) == Some(b"1 ".as_slice()) => {
            parse_rfc5424(line, fields)
        }
        _ => parse_rfc3164(line, fields),
    }
}

/// `<PRI>` at the start: its digits and the position after `>`. One to
/// three digits, at most 191 (facility 23, severity 7).
fn pri(line: &[u8]) -> Option<(&[u8], usize)> {
    if line.first() != Some(&b'<') {
        return None;
    }
    let end = digits_end(line, 1);
    let digits = line.get(1..end)?;
    let value = crate::scan::parse_count(digits).ok()?;
    let fits = (1..=3).contains(&digits.len()) && value <= 191;
    (fits && line.get(end) == Some(&b'>')).then_some((digits, end + 1))
}

/// The word from `at` to the next space (or the end of the line), and the
/// position after that space.
fn word(line: &[u8], at: usize) -> Option<(&[u8], usize)> {
    let end = scan::find_in(line, at, line.len(), b' ').unwrap_or(line.len());
    let w = line.get(at..end).filter(|w| !w.is_empty())?;
    Some((w, end + 1))
}

/// The message without a leading byte order mark (`\ufeff` as escaped, or
/// its UTF-8 bytes).
fn without_bom(message: &[u8]) -> &[u8] {
    for bom in [b"\\ufeff".as_slice(), b"\\uFEFF", b"\xef\xbb\xbf"] {
        if let Some(rest) = message.strip_prefix(bom) {
            return rest;
        }
    }
    message
}

/// Parses one RFC 5424 line.
pub fn parse_rfc5424<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    let mismatch = |expected: &'static str, at: usize| {
        Err(Mismatch {
            format: RFC5424,
            expected,
            at,
        })
    };
    let Some((pri, at)) = pri(line) else {
        return mismatch("`<PRI>` (0 to 191)", 0);
    };
    if line.get(at..at + 2) != Some(b"1 ".as_slice()) {
        return mismatch("version `1 `", at);
    }
    let mut words: [&[u8]; 5] = [b""; 5];
    let mut next = at + 2;
    for slot in &mut words {
        let Some((w, after)) = word(line, next) else {
            return mismatch("time, host, app name, process id and message id", next);
        };
        *slot = w;
        next = after;
    }
    let [time, host, ident, pid, msgid] = words;
    let sd_start = next;
    let Some(sd_end) = structured_data_end(line, sd_start) else {
        return mismatch("structured data: `-` or `[id name=\"value\"]`", sd_start);
    };
    let message = match line.get(sd_end) {
        None => b"".as_slice(),
        Some(b' ') => without_bom(line.get(sd_end + 1..).unwrap_or_default()),
        Some(_) => return mismatch("a space after the structured data", sd_end),
    };

    fields.push_count("pri", pri);
    if time != b"-" {
        fields.push_time("time", parse_rfc3339(time));
    }
    fields.push_text("host", host);
    fields.push_text("ident", ident);
    fields.push_count("pid", pid);
    fields.push_text("msgid", msgid);
    fields.push_text("extradata", line.get(sd_start..sd_end).unwrap_or_default());
    fields.push_text("message", message);
    Ok(RFC5424)
}

/// The end of the structured data starting at `at`: `-`, or one or more
/// `[…]` elements whose quoted parameter values may hold escaped `"`, `\`
/// and `]`.
fn structured_data_end(line: &[u8], at: usize) -> Option<usize> {
    match line.get(at)? {
        b'-' => return Some(at + 1),
        b'[' => {}
        _ => return None,
    }
    let mut p = at;
    while line.get(p) == Some(&b'[') {
        p += 1;
        // Inside an element: names, `=`, spaces, and quoted values.
        loop {
            match line.get(p)? {
                b']' => {
                    p += 1;
                    break;
                }
                b'\\' if line.get(p + 1) == Some(&b'"') => {
                    let (close, _) = quoted_end(line, p + 2)?;
                    p = close + 2;
                }
                b'\\' => p += 2,
                _ => p += 1,
            }
        }
    }
    Some(p)
}

/// Parses one RFC 3164 line.
pub fn parse_rfc3164<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    let (pri, at) = match pri(line) {
        Some((digits, end)) => (Some(digits), end),
        None => (None, 0),
    };
    let Some((time, after_time)) = bsd_time(line, at) else {
        return Err(Mismatch {
            format: RFC3164,
            expected: "a time `Mmm dd hh:mm:ss` or RFC 3339",
            at,
        });
    };
    let rest_start = match line.get(after_time) {
        None => after_time,
        Some(b' ') => after_time + 1,
        Some(_) => {
            return Err(Mismatch {
                format: RFC3164,
                expected: "a space after the time",
                at: after_time,
            });
        }
    };

    if let Some(pri) = pri {
        fields.push_count("pri", pri);
    }
    match time {
        Value::Time(t) => fields.push_time("time", Some(t)),
        other => fields.push("time", other),
    }
    // The `-local` layout: the first word is a tag.
    let (host, tag_start) = match tag(line, rest_start) {
        Some(_) => (None, rest_start),
        None => match word(line, rest_start) {
            Some((host, after)) => (Some(host), after.min(line.len())),
            None => (None, rest_start),
        },
    };
    if let Some(host) = host {
        fields.push_text("host", host);
    }
    match tag(line, tag_start) {
        Some(t) => {
            fields.push_text("ident", t.ident);
            fields.push_count("pid", t.pid);
            let message_start = skip_spaces(line, t.end);
            fields.push_text("message", line.get(message_start..).unwrap_or_default());
        }
        None => fields.push_text("message", line.get(tag_start..).unwrap_or_default()),
    }
    Ok(RFC3164)
}

/// The time at `at`: `Mmm dd hh:mm:ss` (the day space-padded, or one
/// digit after a single space) kept as text, or an RFC 3339 word, parsed.
fn bsd_time(line: &[u8], at: usize) -> Option<(Value<'_>, usize)> {
    if has_shape(line, at, b"9999-99-99T") {
        let (w, after) = word(line, at)?;
        return Some((Value::Time(parse_rfc3339(w)?), after - 1));
    }
    let month = line.get(at..at + 3)?;
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    if !MONTHS.contains(&month) {
        return None;
    }
    let end = [b"  9 99:99:99".as_slice(), b" 99 99:99:99", b" 9 99:99:99"]
        .iter()
        .find(|shape| has_shape(line, at + 3, shape))
        .map(|shape| at + 3 + shape.len())?;
    Some((Value::Text(line.get(at..end)?), end))
}

/// A tag `ident[pid]:` at `at`.
struct Tag<'a> {
    ident: &'a [u8],
    pid: &'a [u8],
    /// The position after the `:`.
    end: usize,
}

/// Reads a tag at `at`: the stock regex's ident characters, an optional
/// `[digits]`, then `:` followed by a space or the end of the line.
fn tag(line: &[u8], at: usize) -> Option<Tag<'_>> {
    let ident_len = line
        .get(at..)?
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'/' | b'.' | b'-'))
        .count();
    let mut p = at + ident_len;
    let mut pid: &[u8] = b"";
    if line.get(p) == Some(&b'[') {
        let end = digits_end(line, p + 1);
        if end == p + 1 || line.get(end) != Some(&b']') {
            return None;
        }
        pid = line.get(p + 1..end)?;
        p = end + 1;
    }
    if ident_len == 0 || line.get(p) != Some(&b':') || !matches!(line.get(p + 1), None | Some(b' '))
    {
        return None;
    }
    Some(Tag {
        ident: line.get(at..at + ident_len)?,
        pid,
        end: p + 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_linear, render};

    /// Named cases: a line as it sits in the record's JSON string and the
    /// exact result. Invalid lines included.
    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                // https://www.rfc-editor.org/rfc/rfc5424#section-6.5 example 1
                "rfc 5424, RFC example 1 (BOM, nil values)",
                r#"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \ufeff'su root' failed for lonvick on /dev/pts/8\n"#,
                &[
                    r#"syslog-rfc5424"#,
                    r#"pri:34"#,
                    r#"time:@2003-10-11T22:14:15.003Z"#,
                    r#"host:"mymachine.example.com""#,
                    r#"ident:"su""#,
                    r#"msgid:"ID47""#,
                    r#"message:"'su root' failed for lonvick on /dev/pts/8""#,
                ],
            ),
            (
                // https://www.rfc-editor.org/rfc/rfc5424#section-6.5 example 2
                "rfc 5424, RFC example 2 (offset, microseconds)",
                r#"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."#,
                &[
                    r#"syslog-rfc5424"#,
                    r#"pri:165"#,
                    r#"time:@2003-08-24T12:14:15.000003Z"#,
                    r#"host:"192.0.2.1""#,
                    r#"ident:"myproc""#,
                    r#"pid:8710"#,
                    r#"message:"%% It's time to make the do-nuts.""#,
                ],
            ),
            (
                // https://www.rfc-editor.org/rfc/rfc5424#section-6.5 example 4
                "rfc 5424, RFC example 4 (two elements, no message)",
                r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]"#,
                &[
                    r#"syslog-rfc5424"#,
                    r#"pri:165"#,
                    r#"time:@2003-10-11T22:14:15.003Z"#,
                    r#"host:"mymachine.example.com""#,
                    r#"ident:"evntslog""#,
                    r#"msgid:"ID47""#,
                    r#"extradata:"[exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 class=\"high\"]""#,
                ],
            ),
            (
                "rfc 5424, escaped quote and bracket in a value, text procid",
                r#"<14>1 - - app worker-1 - [x@1 a=\"q\\\"] \\] z\"] msg"#,
                &[
                    r#"syslog-rfc5424 out-of-range"#,
                    r#"pri:14"#,
                    r#"ident:"app""#,
                    r#"extradata:"[x@1 a=\"q\\\"] \\] z\"]""#,
                    r#"message:"msg""#,
                ],
            ),
            (
                // https://www.rfc-editor.org/rfc/rfc3164#section-5.4 example 1
                "rfc 3164, RFC example 1",
                r#"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"#,
                &[
                    r#"syslog-rfc3164"#,
                    r#"pri:34"#,
                    r#"time:"Oct 11 22:14:15""#,
                    r#"host:"mymachine""#,
                    r#"ident:"su""#,
                    r#"message:"'su root' failed for lonvick on /dev/pts/8""#,
                ],
            ),
            (
                // https://www.rfc-editor.org/rfc/rfc3164#section-5.4 example 2
                "rfc 3164, RFC example 2 (padded day, no tag)",
                r#"<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!"#,
                &[
                    r#"syslog-rfc3164"#,
                    r#"pri:13"#,
                    r#"time:"Feb  5 17:32:18""#,
                    r#"host:"10.0.0.99""#,
                    r#"message:"Use the BFG!""#,
                ],
            ),
            (
                "rfc 3164 local: no host, pid",
                r#"<30>Sep 17 12:19:26 systemd[1]: Started Session 42 of user core."#,
                &[
                    r#"syslog-rfc3164"#,
                    r#"pri:30"#,
                    r#"time:"Sep 17 12:19:26""#,
                    r#"ident:"systemd""#,
                    r#"pid:1"#,
                    r#"message:"Started Session 42 of user core.""#,
                ],
            ),
            (
                "rfc 3164 without pri, rfc 3339 time, path tag",
                r#"2018-09-17T12:19:26.123+02:00 node-1 postfix/smtpd[1234]: connect from unknown[10.0.0.1]"#,
                &[
                    r#"syslog-rfc3164"#,
                    r#"time:@2018-09-17T10:19:26.123Z"#,
                    r#"host:"node-1""#,
                    r#"ident:"postfix/smtpd""#,
                    r#"pid:1234"#,
                    r#"message:"connect from unknown[10.0.0.1]""#,
                ],
            ),
            (
                "rfc 3164, colon later in an untagged message is not a tag",
                r#"Sep 7 12:19:26 host kernel message: with colon"#,
                &[
                    r#"syslog-rfc3164"#,
                    r#"time:"Sep 7 12:19:26""#,
                    r#"host:"host""#,
                    r#"message:"kernel message: with colon""#,
                ],
            ),
            (
                "hostile: a message forging a header stays the message",
                r#"<13>Sep 17 12:19:26 h app[1]: <0>Sep 17 12:19:26 evil root[0]: \"] x"#,
                &[
                    r#"syslog-rfc3164"#,
                    r#"pri:13"#,
                    r#"time:"Sep 17 12:19:26""#,
                    r#"host:"h""#,
                    r#"ident:"app""#,
                    r#"pid:1"#,
                    r#"message:"<0>Sep 17 12:19:26 evil root[0]: \"] x""#,
                ],
            ),
            (
                "invalid: rfc 5424 with a pri out of range",
                r#"<192>1 - - - - - - x"#,
                &[r#"not syslog-rfc3164: expected a time `Mmm dd hh:mm:ss` or RFC 3339 at byte 0"#],
            ),
            (
                "invalid: rfc 5424 structured data not closed",
                r#"<14>1 - h a - - [x@1 a=\"]\" msg"#,
                &[
                    r#"not syslog-rfc5424: expected structured data: `-` or `[id name="value"]` at byte 16"#,
                ],
            ),
            (
                "invalid: rfc 5424 missing fields",
                r#"<14>1 2003-10-11T22:14:15.003Z host"#,
                &[
                    r#"not syslog-rfc5424: expected time, host, app name, process id and message id at byte 36"#,
                ],
            ),
            (
                "invalid: rfc 3164 month in lowercase",
                r#"<13>feb  5 17:32:18 h x"#,
                &[r#"not syslog-rfc3164: expected a time `Mmm dd hh:mm:ss` or RFC 3339 at byte 4"#],
            ),
            (
                "invalid: RFC 3164 example 4, year before the month",
                r#"<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!"#,
                &[r#"not syslog-rfc3164: expected a time `Mmm dd hh:mm:ss` or RFC 3339 at byte 3"#],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[r#"not syslog-rfc3164: expected a time `Mmm dd hh:mm:ss` or RFC 3339 at byte 0"#],
            ),
        ];
        for (name, line, want) in cases {
            let mut fields = Fields::new();
            let outcome = parse(line.as_bytes(), &mut fields);
            assert_eq!(render(outcome, &fields), *want, "case {name:?}");
        }
    }

    #[test]
    fn hostile_lines_cost_linear_time() {
        let shapes: [(&str, &str, &str); 4] = [
            (
                "structured data of escaped quotes",
                r#"<14>1 - h a - - [x a=\""#,
                r#"\\\"\\]"#,
            ),
            ("many elements", "<14>1 - h a - - ", "[x]"),
            ("a long tag", "<13>Sep 17 12:19:26 ", "a"),
            ("spaces in the message", "<13>Sep 17 12:19:26 h a: ", " "),
        ];
        for (name, prefix, unit) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = prefix.as_bytes().to_vec();
                    while line.len() < size {
                        line.extend_from_slice(unit.as_bytes());
                    }
                    line
                },
                |line| {
                    let mut fields = Fields::new();
                    let _ = parse(line, &mut fields);
                },
            );
        }
    }
}
