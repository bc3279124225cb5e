//! Go's standard `log` package with its default flags (`LstdFlags`):
//! `2018/09/17 12:19:26 message`, and the optional parts other flags add,
//! microseconds (`Lmicroseconds`) and the source file (`Lshortfile`,
//! `Llongfile`): `2009/01/23 01:23:23.123123 /a/b/c/d.go:23: message`
//! (<https://pkg.go.dev/log#pkg-constants>).
//!
//! Entry point: [`parse`]. A prefix set with `log.SetPrefix` before the
//! date is not recognised (it could be anything); with `Lmsgprefix` it
//! sits after the header and stays in the message.
//!
//! # Fields
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `time` | string | local date and time as written (no zone) | `2009/01/23 01:23:23`, `.123123` with `Lmicroseconds` |
//! | `source` | string | file and line, when `Lshortfile` or `Llongfile` is set | `d.go:23` before `: ` |
//! | `message` | string | the rest of the line | the message |
//!
//! `time` is kept as written: the package writes the process's local time
//! without a zone, so turning it into UTC needs a setting; that is left to
//! the later time-normalisation step.
//!
//! # Why the split is certain
//!
//! The date and time are fixed-width. The source is recognised only as a
//! first word of the form `<path>.go:<digits>:` followed by a space; a
//! message that happens to start that way without the flag set is read as
//! having a source, the only ambiguity, and a harmless one (nothing in the
//! message can reach another field). The first word is read a byte at a
//! time, once; work is linear in the line's length.

use super::{Fields, Mismatch, Outcome, has_shape, trim_line_end};

/// The format name.
pub const GO_LOG: &str = "go-log";

/// The date and time, `2009/01/23 01:23:23`.
const DATE_TIME: &[u8] = b"9999/99/99 99:99:99";

/// Parses one line of Go's standard logger.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    if !has_shape(line, 0, DATE_TIME) {
        return Err(Mismatch {
            format: GO_LOG,
            expected: "a date and time `yyyy/mm/dd hh:mm:ss`",
            at: 0,
        });
    }
    let mut end = DATE_TIME.len();
    if has_shape(line, end, b".999999") {
        end += 7;
    }
    let time = line.get(..end).unwrap_or_default();
    let rest = match line.get(end) {
        None => b"".as_slice(),
        Some(b' ') => line.get(end + 1..).unwrap_or_default(),
        Some(_) => {
            return Err(Mismatch {
                format: GO_LOG,
                expected: "a space after the time",
                at: end,
            });
        }
    };
    fields.push_text("time", time);
    let (source, message) = split_source(rest);
    if let Some(source) = source {
        fields.push_text("source", source);
    }
    fields.push_text("message", message);
    Ok(GO_LOG)
}

/// Splits `<path>.go:<line>: message` into the source and the message.
fn split_source(rest: &[u8]) -> (Option<&[u8]>, &[u8]) {
    let word_len = rest.iter().position(|&b| b == b' ').unwrap_or(rest.len());
    let found = rest.get(..word_len).and_then(|word| {
        let source = word.strip_suffix(b":")?;
        let colon = source.iter().rposition(|&b| b == b':')?;
        let (file, number) = source.split_at_checked(colon)?;
        let number = number.get(1..)?;
        (file.ends_with(b".go") && file.len() > 3 && crate::scan::is_digits(number))
            .then_some(source)
    });
    match found {
        Some(source) => {
            let message = rest.get(word_len + 1..).unwrap_or_default();
            (Some(source), message)
        }
        None => (None, rest),
    }
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
                // https://pkg.go.dev/log#pkg-constants
                "LstdFlags, docs sample",
                r#"2009/01/23 01:23:23 message\n"#,
                &[
                    r#"go-log"#,
                    r#"time:"2009/01/23 01:23:23""#,
                    r#"message:"message""#,
                ],
            ),
            (
                // https://pkg.go.dev/log#pkg-constants
                "Lmicroseconds and Llongfile, docs sample",
                r#"2009/01/23 01:23:23.123123 /a/b/c/d.go:23: message"#,
                &[
                    r#"go-log"#,
                    r#"time:"2009/01/23 01:23:23.123123""#,
                    r#"source:"/a/b/c/d.go:23""#,
                    r#"message:"message""#,
                ],
            ),
            (
                "Lshortfile",
                r#"2018/09/17 12:19:26 main.go:42: listening on :8080"#,
                &[
                    r#"go-log"#,
                    r#"time:"2018/09/17 12:19:26""#,
                    r#"source:"main.go:42""#,
                    r#"message:"listening on :8080""#,
                ],
            ),
            (
                "message starting like a source but not one",
                r#"2018/09/17 12:19:26 error: main.go failed: x.go:1 \"quoted\""#,
                &[
                    r#"go-log"#,
                    r#"time:"2018/09/17 12:19:26""#,
                    r#"message:"error: main.go failed: x.go:1 \"quoted\"""#,
                ],
            ),
            (
                "an nginx error line reads as a Go log line",
                r#"2018/09/17 12:19:26 [error] 8#8: *1 x"#,
                &[
                    r#"go-log"#,
                    r#"time:"2018/09/17 12:19:26""#,
                    r#"message:"[error] 8#8: *1 x""#,
                ],
            ),
            (
                "hostile: a forged second line stays in the message",
                r#"2018/09/17 12:19:26 login failed for \"bob\nx\"\n2018/09/17 12:19:27 main.go:1: admin logged in"#,
                &[
                    r#"go-log"#,
                    r#"time:"2018/09/17 12:19:26""#,
                    r#"message:"login failed for \"bob\nx\"\n2018/09/17 12:19:27 main.go:1: admin logged in""#,
                ],
            ),
            (
                "empty message",
                r#"2018/09/17 12:19:26 "#,
                &[r#"go-log"#, r#"time:"2018/09/17 12:19:26""#],
            ),
            (
                "invalid: dashes in the date",
                r#"2018-09-17 12:19:26 x"#,
                &[r#"not go-log: expected a date and time `yyyy/mm/dd hh:mm:ss` at byte 0"#],
            ),
            (
                "invalid: milliseconds",
                r#"2018/09/17 12:19:26.123 x"#,
                &[r#"not go-log: expected a space after the time at byte 19"#],
            ),
            (
                "invalid: prefix before the date",
                r#"app: 2018/09/17 12:19:26 x"#,
                &[r#"not go-log: expected a date and time `yyyy/mm/dd hh:mm:ss` at byte 0"#],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[r#"not go-log: expected a date and time `yyyy/mm/dd hh:mm:ss` at byte 0"#],
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
        let shapes: [(&str, &str); 3] = [
            ("a long first word of colons", "a.go:1:"),
            ("spaces", " "),
            ("quotes and backslashes", r#"\" \\"#),
        ];
        for (name, unit) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = b"2018/09/17 12:19:26 ".to_vec();
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
