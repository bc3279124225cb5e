//! Apache httpd error logs, 2.4's default `ErrorLogFormat` and 2.2's
//! layout (<https://httpd.apache.org/docs/2.4/logs.html#errorlog>,
//! <https://httpd.apache.org/docs/2.4/mod/core.html#errorlogformat>):
//!
//! - 2.4: `[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico`
//! - 2.2: `[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test`
//!
//! 2.4 may write the APR error between the process and the client,
//! `(111)Connection refused: `; it is read into `error`.
//!
//! Entry point: [`parse`].
//!
//! # Fields
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `time` | string | local time as written, without the weekday | `%{u}t` |
//! | `module` | string | module that logged (2.4) | `%m` in `[module:level]` |
//! | `level` | string | severity as written: `emerg` to `debug`, `trace1`… | `%l` |
//! | `pid` | integer | process id | `[pid %P` |
//! | `tid` | integer | thread id | `:tid %T]` |
//! | `error` | string | APR status and its text, e.g. `(111)Connection refused` | `%E` |
//! | `client` | string | client address, with port in 2.4 | `[client %a]` |
//! | `client_ip`, `client_port` | string, integer | its parts, when `ip:port` or `[ipv6]:port` | (split) |
//! | `message` | string | the message, including any `, referer: …` suffix | `%M` |
//!
//! # Differences from fluent-bit's stock `apache_error` parser
//!
//! - The stock `level` of 2.4 lines is `core:error`; here the module and
//!   the severity are separate (`module` `core`, `level` `error`), so that
//!   `level` holds one vocabulary across versions.
//! - The stock `pid` of 2.4 lines is `35708:tid 4328636416`; here `pid` and
//!   `tid` are integers.
//! - The client is also read after the APR error, and split into IP and
//!   port; `error` is new.
//! - `time` is the same text (the weekday dropped); normalising it is a
//!   later step (Apache writes local time without a zone).
//!
//! # Why the split is certain
//!
//! Everything before the message is written by the server in a fixed
//! order of bracketed groups, read from the left; the client controls only
//! the message's content (a URI, a Referer), which is last and never
//! searched. Each group is read with one bounded search for its `]`. Work
//! is linear in the line's length.

use super::{AddressNames, Fields, Mismatch, Outcome, digits_end, trim_line_end};
use crate::scan;

/// The format name.
pub const APACHE_ERROR: &str = "apache-error";

const CLIENT: AddressNames = AddressNames {
    whole: "client",
    ip: "client_ip",
    port: "client_port",
};

/// Parses one Apache error-log line.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    let mismatch = |expected: &'static str, at: usize| {
        Err(Mismatch {
            format: APACHE_ERROR,
            expected,
            at,
        })
    };
    // `[Www ` then the time up to `]`.
    let weekday_ok = line.first() == Some(&b'[')
        && line
            .get(1..4)
            .is_some_and(|w| w.iter().all(u8::is_ascii_alphabetic))
        && line.get(4) == Some(&b' ');
    let time_end = scan::find_in(line, 5, line.len().min(64), b']');
    let Some(time_end) = time_end.filter(|&e| weekday_ok && e > 5) else {
        return mismatch("`[Www Mmm dd hh:mm:ss yyyy]` opening the line", 0);
    };
    let time = line.get(5..time_end).unwrap_or_default();

    // ` [module:level]` or ` [level]`.
    let Some((level_token, mut at)) = group(line, time_end + 1, b"") else {
        return mismatch("` [level]` after the time", time_end + 1);
    };
    let (module, level) = match level_token.iter().position(|&b| b == b':') {
        Some(colon) => (
            level_token.get(..colon).unwrap_or_default(),
            level_token.get(colon + 1..).unwrap_or_default(),
        ),
        None => (b"".as_slice(), level_token),
    };
    if level.is_empty() || !level.iter().all(u8::is_ascii_alphanumeric) {
        return mismatch("` [level]` after the time", time_end + 1);
    }

    // ` [pid P]` or ` [pid P:tid T]`.
    let mut pid: &[u8] = b"";
    let mut tid: &[u8] = b"";
    if let Some((inside, next)) = group(line, at, b"pid ") {
        let pid_end = digits_end(inside, 0);
        pid = inside.get(..pid_end).unwrap_or_default();
        match inside.get(pid_end..) {
            Some([]) => {}
            Some([b':', b't', b'i', b'd', b' ', rest @ ..]) => tid = rest,
            _ => return mismatch("`[pid P:tid T]`", at + 2),
        }
        at = next;
    }

    // ` (N)text: ` then ` [client C]` (either may be missing), then the
    // message after one space.
    let mut error: &[u8] = b"";
    let rest_start = match line.get(at) {
        Some(b' ') => at + 1,
        None => at,
        Some(_) => return mismatch("a space before the message", at),
    };
    let mut message_start = rest_start;
    if line.get(message_start) == Some(&b'(') {
        let close = digits_end(line, message_start + 1);
        let colon = super::find_str(line, close, line.len(), b": ");
        if let Some(colon) =
            colon.filter(|_| close > message_start + 1 && line.get(close) == Some(&b')'))
        {
            error = line.get(message_start..colon).unwrap_or_default();
            message_start = colon + 2;
        }
    }
    let mut client: &[u8] = b"";
    if let Some((inside, next)) = group(line, message_start.saturating_sub(1), b"client ")
        .filter(|_| line.get(message_start) == Some(&b'['))
    {
        client = inside;
        message_start = match line.get(next) {
            Some(b' ') => next + 1,
            _ => next,
        };
    }
    let message = line.get(message_start..).unwrap_or_default();

    fields.push_text("time", time);
    fields.push_text("module", module);
    fields.push_text("level", level);
    fields.push_count("pid", pid);
    fields.push_count("tid", tid);
    fields.push_text("error", error);
    fields.push_address(CLIENT, client);
    fields.push_text("message", message);
    Ok(APACHE_ERROR)
}

/// A group ` [<label>inside]` starting at `at` (the space): its inside
/// (after `label`) and the position after its `]`. The inside holds no
/// `]`, except an inside that starts with `[`, an `[ipv6]:port` address,
/// whose own `]` comes first; the search is one word-at-a-time pass.
fn group<'a>(line: &'a [u8], at: usize, label: &[u8]) -> Option<(&'a [u8], usize)> {
    let open = at + 2;
    if line.get(at..open) != Some(b" [".as_slice())
        || line.get(open..open + label.len()) != Some(label)
    {
        return None;
    }
    let inside = open + label.len();
    let from = match line.get(inside) {
        Some(b'[') => scan::find_in(line, inside, line.len(), b']').map_or(inside, |end| end + 1),
        _ => inside,
    };
    let close = scan::find_in(line, from, line.len(), b']')?;
    Some((line.get(inside..close)?, close + 1))
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
                // https://httpd.apache.org/docs/2.4/logs.html#errorlog
                "apache 2.4, docs sample",
                r#"[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico\n"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Sep 09 10:42:29.902022 2011""#,
                    r#"module:"core""#,
                    r#"level:"error""#,
                    r#"pid:35708"#,
                    r#"tid:4328636416"#,
                    r#"client:"72.15.99.187""#,
                    r#"message:"File does not exist: /usr/local/apache2/htdocs/favicon.ico""#,
                ],
            ),
            (
                // https://httpd.apache.org/docs/2.2/logs.html#errorlog
                "apache 2.2, docs sample",
                r#"[Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] client denied by server configuration: /export/home/live/ap/htdocs/test"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Oct 11 14:32:52 2000""#,
                    r#"level:"error""#,
                    r#"client:"127.0.0.1""#,
                    r#"message:"client denied by server configuration: /export/home/live/ap/htdocs/test""#,
                ],
            ),
            (
                "container start notice, no client",
                r#"[Sun Nov 14 10:20:30.123456 2021] [mpm_event:notice] [pid 1:tid 140420587775104] AH00489: Apache/2.4.51 (Unix) configured -- resuming normal operations"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Nov 14 10:20:30.123456 2021""#,
                    r#"module:"mpm_event""#,
                    r#"level:"notice""#,
                    r#"pid:1"#,
                    r#"tid:140420587775104"#,
                    r#"message:"AH00489: Apache/2.4.51 (Unix) configured -- resuming normal operations""#,
                ],
            ),
            (
                "APR error before the client, client with port",
                r#"[Sun Nov 14 10:20:30.123456 2021] [proxy:error] [pid 8:tid 9] (111)Connection refused: [client 172.17.0.1:50716] AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Nov 14 10:20:30.123456 2021""#,
                    r#"module:"proxy""#,
                    r#"level:"error""#,
                    r#"pid:8"#,
                    r#"tid:9"#,
                    r#"error:"(111)Connection refused""#,
                    r#"client:"172.17.0.1:50716""#,
                    r#"client_ip:"172.17.0.1""#,
                    r#"client_port:50716"#,
                    r#"message:"AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed""#,
                ],
            ),
            (
                "bracketed ipv6 client with port",
                r#"[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 1:tid 2] [client [2001:db8::1]:1234] m"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Sep 09 10:42:29.902022 2011""#,
                    r#"module:"core""#,
                    r#"level:"error""#,
                    r#"pid:1"#,
                    r#"tid:2"#,
                    r#"client:"[2001:db8::1]:1234""#,
                    r#"client_ip:"2001:db8::1""#,
                    r#"client_port:1234"#,
                    r#"message:"m""#,
                ],
            ),
            (
                "empty module, pid without tid, ipv6 client, referer suffix",
                r#"[Sun Nov 14 10:20:30 2021] [:error] [pid 42] [client ::1:58619] AH01630: denied: /x, referer: http://a/\"b"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Nov 14 10:20:30 2021""#,
                    r#"level:"error""#,
                    r#"pid:42"#,
                    r#"client:"::1:58619""#,
                    r#"message:"AH01630: denied: /x, referer: http://a/\"b""#,
                ],
            ),
            (
                "hostile: client text shaped like groups stays in the message",
                r#"[Sun Nov 14 10:20:30 2021] [core:info] [pid 1] AH00126: Invalid URI in request GET /[client 6.6.6.6] [pid 9] \"x HTTP/1.1"#,
                &[
                    r#"apache-error"#,
                    r#"time:"Nov 14 10:20:30 2021""#,
                    r#"module:"core""#,
                    r#"level:"info""#,
                    r#"pid:1"#,
                    r#"message:"AH00126: Invalid URI in request GET /[client 6.6.6.6] [pid 9] \"x HTTP/1.1""#,
                ],
            ),
            (
                "invalid: no level",
                r#"[Sun Nov 14 10:20:30 2021] message"#,
                &[r#"not apache-error: expected ` [level]` after the time at byte 26"#],
            ),
            (
                "invalid: level with a space",
                r#"[Sun Nov 14 10:20:30 2021] [core error] x"#,
                &[r#"not apache-error: expected ` [level]` after the time at byte 26"#],
            ),
            (
                "invalid: bad pid group",
                r#"[Sun Nov 14 10:20:30 2021] [error] [pid 1;2] x"#,
                &[r#"not apache-error: expected `[pid P:tid T]` at byte 36"#],
            ),
            (
                "invalid: an envoy line",
                r#"[2020-11-25T21:26:18.409Z] \"GET / HTTP/1.1\" 200"#,
                &[
                    r#"not apache-error: expected `[Www Mmm dd hh:mm:ss yyyy]` opening the line at byte 0"#,
                ],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[
                    r#"not apache-error: expected `[Www Mmm dd hh:mm:ss yyyy]` opening the line at byte 0"#,
                ],
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
        let head = "[Sun Nov 14 10:20:30 2021] [core:error] [pid 1:tid 2] ";
        let shapes: [(&str, String, &str); 4] = [
            ("a long client group", format!("{head}[client "), "1"),
            ("an APR error without its colon", format!("{head}(1)"), "x:"),
            (
                "brackets in the message",
                format!("{head}[client 1.2.3.4] "),
                "[]",
            ),
            ("quotes and backslashes", head.to_string(), r#"\" \\"#),
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
