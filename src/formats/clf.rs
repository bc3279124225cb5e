//! Apache and nginx access logs in the Common Log Format and its extensions,
//! told apart per line:
//!
//! - common: `%h %l %u %t "%r" %>s %b`, e.g. `127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326`;
//! - combined: common plus `"%{Referer}i" "%{User-agent}i"` (Apache), the
//!   same as nginx's predefined `combined`
//!   `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`;
//! - combined plus `"$http_x_forwarded_for"`, the `main` format of nginx's
//!   sample `nginx.conf`, which the official container image uses.
//!
//! (<https://httpd.apache.org/docs/2.4/logs.html#accesslog>,
//! <https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format>.)
//!
//! Entry points: [`parse`] writes fluent-bit's stock `apache` names,
//! [`parse_nginx`] its stock `nginx` names (conf/parsers.conf), so that
//! dashboards built on either keep working. A line ending with a quote is
//! combined (six quotes) or `main` (eight); any other line is common (two).
//! Apache writes no `main`: with the `apache` parser, eight quotes are an
//! injection (below). `auto` reads them as `main`, with the `apache`
//! names ([`parse_sniffed`]).
//!
//! # Fields
//!
//! Every field is left out when the server wrote `-`. A status or size
//! that is not a number fitting an `i64` is left out and the line marked
//! `out-of-range`.
//!
//! | `apache` field | `nginx` field | JSON type | meaning | source token |
//! |---|---|---|---|---|
//! | `host` | `remote` | string | client address | `%h`, `$remote_addr` |
//! | `ident` | `host` | string | identd user (nginx writes `-`) | `%l`, `-` |
//! | `user` | `user` | string | authenticated user, client-controlled | `%u`, `$remote_user` |
//! | `time` | `time` | string (RFC 3339 UTC) | request time | `%t`, `$time_local` |
//! | `method` | `method` | string | request method, client-controlled | first word of `%r`, `$request` |
//! | `path` | `path` | string | request target, client-controlled | middle of `%r`, `$request` |
//! | `protocol` | `protocol` | string | `HTTP/1.1`, `HTTP/2.0` | last word of `%r`, `$request` (3+ words) |
//! | `code` | `code` | integer | response status | `%>s`, `$status` |
//! | `size` | `size` | integer | response body bytes | `%b`, `$body_bytes_sent` |
//! | `referer` | `referer` | string | Referer, client-controlled | `%{Referer}i`, `$http_referer` |
//! | `agent` | `agent` | string | User-Agent, client-controlled | `%{User-agent}i`, `$http_user_agent` |
//! | `x_forwarded_for` | `x_forwarded_for` | string | X-Forwarded-For, client-controlled (`main` only) | `$http_x_forwarded_for` |
//!
//! # Differences from fluent-bit's stock `apache`, `apache2` and `nginx` parsers
//!
//! - The stock `nginx` regex calls the client address `remote` and the
//!   second field, which nginx always writes as `-`, `host`; those names
//!   are kept for `nginx`. Apache's `%l` is `ident` here (the stock regex
//!   drops it).
//! - Values are typed (integers, RFC 3339 `time`) and `-` means absent.
//! - `protocol` is added; a request of two words (`GET /`) has a path and
//!   no protocol; a path with spaces is kept whole (the stock group drops
//!   its last word).
//! - `$remote_user` may contain spaces: it is placed by position, between
//!   the second field and the fixed-width `[time]`.
//! - The `main` layout (a trailing `"$http_x_forwarded_for"`) is read; the
//!   stock regexes reject it.
//!
//! # Why the split is certain
//!
//! Both servers escape the quotes a client sends: nginx writes `"` as
//! `\x22` by default, Apache writes `\"` in `%r` and `%i` (since 2.0.46),
//! as does nginx with `escape=json`. A quote escaped with a backslash is
//! not a delimiter and is skipped, so every other quote is one the format
//! wrote: two, six or eight of them. In one pass the parser counts those
//! quotes (stopping at nine): any other count (a server configured not to
//! escape, `escape=none`) means a client could have closed a field early,
//! so the line is marked `quote-injection` and keeps only what precedes
//! the request, the client address and time. Before the first quote the
//! only client-controlled word is the user, placed between the second
//! field and the fixed-width time, so it cannot shift anything. Every
//! search is word-at-a-time; an escaped quote costs a look back over the
//! backslashes before it, which no other quote shares.
//!
//! One such line cannot be told from a good one: a combined line whose
//! Referer holds `a" "b` unescaped has eight quotes, as `main` has. The
//! `apache` parser marks it (Apache has no `main`); `nginx` and `auto`
//! read it as `main`, the real User-Agent then being `x_forwarded_for`
//! (no field the client does not control moves). Servers escape quotes
//! unless told not to, so only a server configured so writes such a line.

use super::{Fields, Mismatch, Outcome, Suspicion, Value, between, is_escaped_quote};
use super::{split_request_line, tokens_in, trim_line_end};
use crate::scan;
use crate::time::parse_clf;

/// The format name of [`parse`].
pub const APACHE: &str = "apache";
/// The format name of [`parse_nginx`].
pub const NGINX: &str = "nginx";

/// `%t` is always 26 bytes inside its brackets: `10/Oct/2000:13:55:36 -0700`.
const TIME_LEN: usize = 26;

/// The most delimiter quotes a line has (`main`), plus one to tell "more".
const MAX_QUOTES: usize = 9;

/// The field names one flavour writes, and whether it has `main`.
struct Names {
    format: &'static str,
    address: &'static str,
    ident: &'static str,
    main: bool,
}

const APACHE_NAMES: Names = Names {
    format: APACHE,
    address: "host",
    ident: "ident",
    main: false,
};

const SNIFFED_NAMES: Names = Names {
    main: true,
    ..APACHE_NAMES
};

const NGINX_NAMES: Names = Names {
    format: NGINX,
    address: "remote",
    ident: "host",
    main: true,
};

/// Parses one access-log line with the `apache` names: common or
/// combined.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    parse_as(line, fields, &APACHE_NAMES)
}

/// Parses one access-log line with the `apache` names, `main` included:
/// `auto`'s choice for a line of this family, which may come from either
/// server.
pub fn parse_sniffed<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    parse_as(line, fields, &SNIFFED_NAMES)
}

/// Parses one access-log line with the `nginx` names.
pub fn parse_nginx<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    parse_as(line, fields, &NGINX_NAMES)
}

fn parse_as<'a>(line: &'a [u8], fields: &mut Fields<'a>, names: &Names) -> Outcome {
    let line = trim_line_end(line);
    let format = names.format;
    let mismatch = |expected: &'static str, at: usize| {
        Err(Mismatch {
            format,
            expected,
            at,
        })
    };

    let Some(host_end) = scan::find_in(line, 0, line.len(), b' ').filter(|&e| e > 0) else {
        return mismatch("the client address and a space", 0);
    };
    let ident_start = host_end + 1;
    let Some(ident_end) = scan::find_in(line, ident_start, line.len(), b' ') else {
        return mismatch("the identity and user after the address", ident_start);
    };

    // The delimiter quotes: all but those escaped by the server.
    let mut quotes = [0usize; MAX_QUOTES];
    let mut count = 0usize;
    scan::each_in(line, ident_end, line.len(), b'"', |q| {
        if is_escaped_quote(line, q) {
            return true;
        }
        if let Some(slot) = quotes.get_mut(count) {
            *slot = q;
        }
        count += 1;
        count < MAX_QUOTES
    });
    let [q1, q2, q3, q4, q5, q6, q7, q8, _] = quotes;
    if count < 2 {
        return mismatch("two quotes around the request", line.len());
    }

    // ` [%t] "` just before the first quote; the user ends at the space
    // before `[`.
    let Some(user_end) = q1.checked_sub(TIME_LEN + 5) else {
        return mismatch("` [time] \"` before the request", q1);
    };
    let time_start = user_end + 2;
    let framed = line.get(user_end..time_start) == Some(b" [".as_slice())
        && line.get(q1 - 3..q1) == Some(b"] \\".as_slice());
    let time = line
        .get(time_start..time_start + TIME_LEN)
        .filter(|_| framed)
        .and_then(parse_clf);
    let Some(time) = time else {
        return mismatch("` [time] \"` before the request", q1);
    };
    let user = line.get(ident_end + 1..user_end).unwrap_or_default();
    if user.is_empty() || ident_end == ident_start {
        return mismatch("the identity and user after the address", ident_start);
    }
    let host = line.get(..host_end).unwrap_or_default();

    // The layout: the last byte is a delimiter quote, or the size.
    let quoted_tail = line.last() == Some(&b'"') && !is_escaped_quote(line, line.len() - 1);
    let expected_ok = if quoted_tail {
        count == 6 || (count == 8 && names.main)
    } else {
        count == 2
    };
    if !expected_ok {
        if quoted_tail && count < 6 {
            return mismatch("six quotes (request, referer, user agent)", line.len());
        }
        fields.flag(Suspicion::QuoteInjection);
        fields.push_text(names.address, host);
        fields.push("time", Value::Time(time));
        return Ok(format);
    }

    let request = split_request_line(line, q1 + 1, q2 - 1, true);
    let (status, size, quoted) = if quoted_tail {
        let Some([status, size]) = tokens_in::<2>(line, q2 + 1, q3 - 1) else {
            return mismatch("` status size ` after the request", q2 + 1);
        };
        let separated = |a: usize, b: usize| between(line, a, b) == Some(b" ".as_slice());
        if !separated(q4, q5) || (count == 8 && !separated(q6, q7)) {
            return mismatch("`\" \"` between the quoted fields", q4 + 1);
        }
        let referer = between(line, q3, q4).unwrap_or_default();
        let agent = between(line, q5, q6).unwrap_or_default();
        let forwarded = (count == 8).then(|| between(line, q7, q8).unwrap_or_default());
        (status, size, Some((referer, agent, forwarded)))
    } else {
        let Some([status, size]) = common_tail(line, q2) else {
            return mismatch("` status size` after the request", q2 + 1);
        };
        (status, size, None)
    };

    fields.push_text(names.address, host);
    fields.push_text(
        names.ident,
        line.get(ident_start..ident_end).unwrap_or_default(),
    );
    fields.push_text("user", user);
    fields.push("time", Value::Time(time));
    fields.push_text("method", request.method);
    fields.push_text("path", request.path);
    fields.push_text("protocol", request.protocol);
    fields.push_count("code", status);
    fields.push_count("size", size);
    if let Some((referer, agent, forwarded)) = quoted {
        fields.push_text("referer", referer);
        fields.push_text("agent", agent);
        if let Some(forwarded) = forwarded {
            fields.push_text("x_forwarded_for", forwarded);
        }
    }
    Ok(format)
}

/// ` status size` from the request's closing quote at `q2` to the end of
/// the line.
fn common_tail(line: &[u8], q2: usize) -> Option<[&[u8]; 2]> {
    if line.get(q2 + 1) != Some(&b' ') {
        return None;
    }
    let space = scan::find_in(line, q2 + 2, line.len(), b' ')?;
    let status = line.get(q2 + 2..space).filter(|s| !s.is_empty())?;
    let size = line.get(space + 1..).filter(|s| !s.is_empty())?;
    if size.contains(&b' ') {
        return None;
    }
    Some([status, size])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_linear, render};

    /// Named cases: whether the `nginx` names are used, a line as it sits
    /// in the record's JSON string, and the exact result. Invalid lines
    /// included.
    #[test]
    fn named_cases() {
        let cases: &[(&str, bool, &str, &[&str])] = &[
            (
                // https://httpd.apache.org/docs/2.4/logs.html#common
                "apache common, docs sample",
                false,
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326\n"#,
                &[
                    r#"apache"#,
                    r#"host:"127.0.0.1""#,
                    r#"user:"frank""#,
                    r#"time:@2000-10-10T20:55:36Z"#,
                    r#"method:"GET""#,
                    r#"path:"/apache_pb.gif""#,
                    r#"protocol:"HTTP/1.0""#,
                    r#"code:200"#,
                    r#"size:2326"#,
                ],
            ),
            (
                // https://httpd.apache.org/docs/2.4/logs.html#combined
                "apache combined, docs sample",
                false,
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\""#,
                &[
                    r#"apache"#,
                    r#"host:"127.0.0.1""#,
                    r#"user:"frank""#,
                    r#"time:@2000-10-10T20:55:36Z"#,
                    r#"method:"GET""#,
                    r#"path:"/apache_pb.gif""#,
                    r#"protocol:"HTTP/1.0""#,
                    r#"code:200"#,
                    r#"size:2326"#,
                    r#"referer:"http://www.example.com/start.html""#,
                    r#"agent:"Mozilla/4.08 [en] (Win98; I ;Nav)""#,
                ],
            ),
            (
                "nginx combined with the nginx names",
                true,
                r#"10.1.2.3 - - [17/Sep/2018:12:19:26 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\" \"kube-probe/1.12\""#,
                &[
                    r#"nginx"#,
                    r#"remote:"10.1.2.3""#,
                    r#"time:@2018-09-17T12:19:26Z"#,
                    r#"method:"GET""#,
                    r#"path:"/healthz""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:2"#,
                    r#"agent:"kube-probe/1.12""#,
                ],
            ),
            (
                // https://github.com/nginx/nginx/blob/master/conf/nginx.conf (log_format main)
                "nginx main with X-Forwarded-For, nginx escapes kept",
                true,
                r#"172.17.0.1 - bob smith [01/Mar/2024:10:00:00 +0100] \"GET /a b\\x22c HTTP/2.0\" 404 153 \"https://example.com/\" \"curl/8.5.0\" \"203.0.113.7, 10.0.0.1\""#,
                &[
                    r#"nginx"#,
                    r#"remote:"172.17.0.1""#,
                    r#"user:"bob smith""#,
                    r#"time:@2024-03-01T09:00:00Z"#,
                    r#"method:"GET""#,
                    r#"path:"/a b\\x22c""#,
                    r#"protocol:"HTTP/2.0""#,
                    r#"code:404"#,
                    r#"size:153"#,
                    r#"referer:"https://example.com/""#,
                    r#"agent:"curl/8.5.0""#,
                    r#"x_forwarded_for:"203.0.113.7, 10.0.0.1""#,
                ],
            ),
            (
                "apache escapes a client's quotes and backslashes",
                false,
                r#"::1 - - [10/Oct/2000:13:55:36 +0000] \"GET /\\\"x\\\" HTTP/1.1\" 200 - \"-\" \"ua \\\"q\\\" \\\\\""#,
                &[
                    r#"apache"#,
                    r#"host:"::1""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                    r#"method:"GET""#,
                    r#"path:"/\\\"x\\\"""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"agent:"ua \\\"q\\\" \\\\""#,
                ],
            ),
            (
                "two-word request, ident",
                false,
                r#"10.0.0.1 someone - [10/Oct/2000:13:55:36 +0000] \"GET /\" 400 0"#,
                &[
                    r#"apache"#,
                    r#"host:"10.0.0.1""#,
                    r#"ident:"someone""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"code:400"#,
                    r#"size:0"#,
                ],
            ),
            (
                "numbers out of range",
                false,
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"-\" 2x0 99999999999999999999"#,
                &[
                    r#"apache out-of-range"#,
                    r#"host:"10.0.0.1""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                ],
            ),
            (
                "hostile: unescaped quotes forging a status in the path",
                false,
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /x\" 200 1 \"-\" \"-\" HTTP/1.1\" 404 0 \"-\" \"curl\""#,
                &[
                    r#"apache quote-injection"#,
                    r#"host:"10.0.0.1""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                ],
            ),
            (
                "hostile: unescaped quote in a common line's path",
                true,
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /a\" 200 5 HTTP/1.1\" 404 0"#,
                &[
                    r#"nginx quote-injection"#,
                    r#"remote:"10.0.0.1""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                ],
            ),
            (
                "hostile: user forging a time stays the user",
                false,
                r#"10.0.0.1 - [01/Jan/1999:00:00:00 +0000] x [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1"#,
                &[
                    r#"apache"#,
                    r#"host:"10.0.0.1""#,
                    r#"user:"[01/Jan/1999:00:00:00 +0000] x""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:1"#,
                ],
            ),
            (
                "invalid: combined without the user agent",
                false,
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1 \"-\""#,
                &[r#"not apache: expected six quotes (request, referer, user agent) at byte 72"#],
            ),
            (
                "invalid: no size",
                false,
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200"#,
                &[r#"not apache: expected ` status size` after the request at byte 60"#],
            ),
            (
                "invalid: time in another layout",
                false,
                r#"10.0.0.1 - - [2000-10-10T13:55:36Z] \"GET / HTTP/1.1\" 200 1"#,
                &[r#"not apache: expected ` [time] "` before the request at byte 37"#],
            ),
            (
                "an ingress-nginx line is marked, not misread",
                true,
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.2:80 1 0.001 200 id"#,
                &[
                    r#"nginx quote-injection"#,
                    r#"remote:"10.0.0.1""#,
                    r#"time:@2000-10-10T13:55:36Z"#,
                ],
            ),
            (
                "invalid: no quotes",
                false,
                r#"hello big wide world"#,
                &[r#"not apache: expected two quotes around the request at byte 20"#],
            ),
            (
                "invalid: empty line",
                false,
                r#""#,
                &[r#"not apache: expected the client address and a space at byte 0"#],
            ),
        ];
        for (name, nginx, line, want) in cases {
            let mut fields = Fields::new();
            let outcome = if *nginx {
                parse_nginx(line.as_bytes(), &mut fields)
            } else {
                parse(line.as_bytes(), &mut fields)
            };
            assert_eq!(render(outcome, &fields), *want, "case {name:?}");
        }
    }

    /// A mismatch leaves the fields untouched.
    #[test]
    fn mismatch_pushes_nothing() {
        let line = r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET / HTTP/1.1\" 200"#;
        let mut fields = Fields::new();
        assert!(parse(line.as_bytes(), &mut fields).is_err());
        assert!(fields.is_empty() && fields.suspect.is_none());
    }

    /// Apache-escaped client fields against a naive reference: random
    /// paths and user agents of quotes, backslashes and spaces, escaped as
    /// Apache writes them and then for JSON, come back as the escaped text.
    #[test]
    fn apache_escaping_matches_naive_reference() {
        let mut next = crate::test_rng::xorshift(0x9E37_79B9_7F4A_7C15);
        let alphabet = ['a', ' ', '"', '\\', '/', 'é'];
        let apache = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
        for _ in 0..3_000 {
            let mut random = |n: u64| -> String {
                (0..next() % n)
                    .map(|_| alphabet[(next() >> 32) as usize % alphabet.len()])
                    .collect()
            };
            let (path, agent) = (format!("/{}", random(10)), random(12));
            let log_line = format!(
                r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET {} HTTP/1.1" 200 1 "-" "{}""#,
                apache(&path),
                apache(&agent)
            );
            let json = serde_json::to_string(&log_line).unwrap();
            let escaped = &json[1..json.len() - 1];
            let mut fields = Fields::new();
            assert_eq!(
                parse(escaped.as_bytes(), &mut fields),
                Ok(APACHE),
                "{escaped}"
            );
            assert_eq!(fields.suspect, None, "{escaped}");
            let decoded = |name: &str| match fields.get(name) {
                Some(Value::Text(t)) => {
                    serde_json::from_str::<String>(&format!("\"{}\"", String::from_utf8_lossy(t)))
                        .unwrap()
                }
                _ => String::new(),
            };
            let want_path = apache(&path);
            let want_path = want_path.trim_matches(' ');
            assert_eq!(decoded("path"), want_path, "{escaped}");
            assert_eq!(decoded("agent"), apache(&agent), "{escaped}");
        }
    }

    #[test]
    fn hostile_lines_cost_linear_time() {
        let head = r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] \"GET /"#;
        let shapes: [(&str, &str, &str); 4] = [
            ("path of spaces", " ", r#" HTTP/1.1\" 200 1 \"-\" \"ua\""#),
            ("path of quotes", r#"\" "#, r#" HTTP/1.1\" 200 1"#),
            ("path of escaped quotes", r#"\\\" "#, r#" HTTP/1.1\" 200 1"#),
            ("path of backslashes", r#"\\\\\\"#, r#" HTTP/1.1\" 200 1"#),
        ];
        for (name, unit, tail) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = head.as_bytes().to_vec();
                    while line.len() < size {
                        line.extend_from_slice(unit.as_bytes());
                    }
                    line.extend_from_slice(tail.as_bytes());
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
