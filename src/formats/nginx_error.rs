//! nginx error logs (`error_log`), the HTTP module's layout:
//!
//! `2018/09/17 12:19:26 [error] 8#8: *758040 upstream prematurely closed connection while reading upstream, client: 10.0.0.1, server: _, request: "GET /api HTTP/2.0", upstream: "http://10.0.0.2:8080/api", host: "example.com"`
//!
//! The head is nginx's `ngx_log_error_core` (src/core/ngx_log.c): time,
//! `[level]`, `pid#tid: `, and `*connection ` when there is a connection.
//! The context after the message is `ngx_http_log_error` and
//! `ngx_http_log_error_handler` (src/http/ngx_http_request.c): `, client: `
//! and `, server: ` unquoted, then `request`, `subrequest`, `upstream`,
//! `host` and `referrer`, each quoted and each only when known, always in
//! that order.
//!
//! Entry point: [`parse`].
//!
//! # Fields
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `time` | string | local date and time as written (no zone) | `yyyy/mm/dd hh:mm:ss` |
//! | `level` | string | severity as written: `debug` to `emerg` | `[level]` |
//! | `pid` | integer | worker process id | `pid#` |
//! | `tid` | integer | thread id | `#tid:` |
//! | `connection` | integer | connection serial number | `*N` |
//! | `message` | string | the message, up to the context | the text after the head |
//! | `client` | string | client address | `client: …` |
//! | `server` | string | `server_name` of the server block, or the listening address | `server: …` |
//! | `method` | string | request method, client-controlled | first word of `request: "…"` |
//! | `path` | string | request target, client-controlled | middle of `request: "…"` |
//! | `protocol` | string | `HTTP/1.1`, `HTTP/2.0` | last word of `request: "…"` (3+ words) |
//! | `subrequest` | string | subrequest URI, client-influenced | `subrequest: "…"` |
//! | `upstream` | string | upstream URL: peer address and URI, client-influenced | `upstream: "…"` |
//! | `host` | string | Host header, client-controlled | `host: "…"` |
//! | `referrer` | string | Referer header, client-controlled | `referrer: "…"` |
//!
//! Empty values are left out (`host: ""`). `level` is nginx's word; mapping
//! severities to one vocabulary is a later step, as is `time`'s zone (nginx
//! writes local time).
//!
//! # Why the split is certain, or not
//!
//! nginx writes the context values unescaped: the request line, the Host
//! and Referer headers come from the client and may hold `"` and `, `. The
//! message before the context may quote client data too (a file path made
//! from the URI). So:
//!
//! 1. The head is fixed-shape and nginx's: certain.
//! 2. nginx writes `, client:` once. When the line holds it more than once,
//!    one was forged: the line is marked `quote-injection` and everything
//!    after the head stays whole in `message`. When it holds none there is
//!    no context and the rest is the message.
//! 3. The client address and the server name come first and contain no
//!    `,`: certain. A context that does not start with both is reported
//!    as in step 4, with neither.
//! 4. Each quoted value must end at the first quote after its start, and
//!    that quote must end the line or be followed by `, ` and a key that may
//!    come next in nginx's order. A value that holds a quote fails this: the
//!    line is marked `quote-injection`, `client` and `server` are kept, the
//!    quoted values are left out.
//! 5. A context that does not have this shape (the stream and mail modules
//!    write other keys) also fails step 4 and is reported the same way: the
//!    line is kept whole.
//!
//! What no parser can tell: a request line that contains the exact text
//! `", upstream: "` creates an `upstream` that nginx did not write, when
//! the real line has none. Every value after `request` is therefore
//! documented as client-influenced; `upstream` carries the client's URI in
//! any case. (nginx 1.21.1 and later refuse spaces in the request target,
//! which such a forgery needs.)
//!
//! Cost: the head is read in place; the search for `, client:` is one
//! word-at-a-time pass for `,`; each quoted value is one word-at-a-time
//! search for its closing quote. Linear in the line's length.

use super::{Fields, Mismatch, Outcome, Suspicion, digits_end, find_str, has_shape, trim_line_end};
use super::{skip_spaces, split_request_line};
use crate::scan;

/// The format name.
pub const NGINX_ERROR: &str = "nginx-error";

/// The quoted context keys, in the order nginx writes them.
const KEYS: [&[u8]; 5] = [b"request", b"subrequest", b"upstream", b"host", b"referrer"];

/// Parses one nginx error-log line.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    let mismatch = |expected: &'static str, at: usize| {
        Err(Mismatch {
            format: NGINX_ERROR,
            expected,
            at,
        })
    };
    if !has_shape(line, 0, b"9999/99/99 99:99:99 [") {
        return mismatch("a date and time `yyyy/mm/dd hh:mm:ss [`", 0);
    }
    let level_start = 21;
    let level_end = level_start
        + line
            .get(level_start..)
            .unwrap_or_default()
            .iter()
            .take_while(|b| b.is_ascii_lowercase())
            .count();
    if level_end == level_start || line.get(level_end..level_end + 2) != Some(b"] ".as_slice()) {
        return mismatch("a level `[error] `", level_start);
    }
    let pid_start = level_end + 2;
    let pid_end = digits_end(line, pid_start);
    let tid_end = digits_end(line, pid_end + 1);
    let shaped = pid_end > pid_start
        && line.get(pid_end) == Some(&b'#')
        && tid_end > pid_end + 1
        && line.get(tid_end..tid_end + 1) == Some(b":".as_slice());
    if !shaped {
        return mismatch("`pid#tid:` after the level", pid_start);
    }
    // The message starts after `pid#tid:` and the space nginx writes; a
    // line without that space starts its message at once (skipping a byte
    // there could cut an escape in two).
    let after_colon = tid_end + 1;
    let mut rest_start = if line.get(after_colon) == Some(&b' ') {
        after_colon + 1
    } else {
        after_colon
    }
    .min(line.len());
    let mut connection: &[u8] = b"";
    if line.get(tid_end + 1) == Some(&b' ') && line.get(rest_start) == Some(&b'*') {
        let end = digits_end(line, rest_start + 1);
        if end > rest_start + 1 && matches!(line.get(end), None | Some(b' ')) {
            connection = line.get(rest_start + 1..end).unwrap_or_default();
            rest_start = (end + 1).min(line.len());
        }
    }

    fields.push_text("time", line.get(..19).unwrap_or_default());
    fields.push_text(
        "level",
        line.get(level_start..level_end).unwrap_or_default(),
    );
    fields.push_count("pid", line.get(pid_start..pid_end).unwrap_or_default());
    fields.push_count("tid", line.get(pid_end + 1..tid_end).unwrap_or_default());
    fields.push_count("connection", connection);

    let rest = line.get(rest_start..).unwrap_or_default();
    let first = find_str(line, rest_start, line.len(), b", client:");
    let second = first.and_then(|c| find_str(line, c + 1, line.len(), b", client:"));
    let (Some(client_at), None) = (first, second) else {
        if second.is_some() {
            fields.flag(Suspicion::QuoteInjection);
        }
        fields.push_text("message", rest);
        return Ok(NGINX_ERROR);
    };
    fields.push_text(
        "message",
        line.get(rest_start..client_at).unwrap_or_default(),
    );
    let Some(context) = read_context(line, client_at) else {
        fields.flag(Suspicion::QuoteInjection);
        return Ok(NGINX_ERROR);
    };
    fields.push_text("client", context.client);
    fields.push_text("server", context.server);
    match context.quoted {
        Some(values) => {
            let [request, subrequest, upstream, host, referrer] = values;
            let request = split_request_line(request, 0, request.len(), true);
            fields.push_text("method", request.method);
            fields.push_text("path", request.path);
            fields.push_text("protocol", request.protocol);
            fields.push_text("subrequest", subrequest);
            fields.push_text("upstream", upstream);
            fields.push_text("host", host);
            fields.push_text("referrer", referrer);
        }
        None => fields.flag(Suspicion::QuoteInjection),
    }
    Ok(NGINX_ERROR)
}

/// The context after the message.
struct Context<'a> {
    client: &'a [u8],
    server: &'a [u8],
    /// The quoted values in [`KEYS`] order (empty when absent), or `None`
    /// when they cannot be split with certainty.
    quoted: Option<[&'a [u8]; 5]>,
}

/// Reads `, client: C, server: S` at `at`, then the quoted values.
/// `None` when even the client and server cannot be read.
fn read_context(line: &[u8], at: usize) -> Option<Context<'_>> {
    let client_start = skip_spaces(line, at + b", client:".len());
    let client_end = scan::find_in(line, client_start, line.len(), b',')?;
    if line.get(client_end..client_end + 9) != Some(b", server:".as_slice()) {
        return None;
    }
    let server_start = skip_spaces(line, client_end + 9);
    let server_end = scan::find_in(line, server_start, line.len(), b',').unwrap_or(line.len());
    let client = line.get(client_start..client_end)?;
    let server = line.get(server_start..server_end)?;
    Some(Context {
        client,
        server,
        quoted: read_quoted(line, server_end),
    })
}

/// Whether `line[at..]` is `, KEY: \"` for a key after `after` in nginx's
/// order; returns the key's index and where its value starts.
fn next_key(line: &[u8], at: usize, after: Option<usize>) -> Option<(usize, usize)> {
    if line.get(at..at + 2) != Some(b", ".as_slice()) {
        return None;
    }
    let first = after.map_or(0, |i| i + 1);
    KEYS.iter().enumerate().skip(first).find_map(|(i, key)| {
        let start = at + 2;
        let colon = start + key.len();
        (line.get(start..colon) == Some(*key)
            && line.get(colon..colon + 4) == Some(b": \\\"".as_slice()))
        .then_some((i, colon + 4))
    })
}

/// Reads the quoted values from `at` (just after the server name) to the
/// end of the line; `None` when a value holds a quote or the shape is
/// not nginx's.
fn read_quoted(line: &[u8], mut at: usize) -> Option<[&[u8]; 5]> {
    let mut values: [&[u8]; 5] = [b""; 5];
    let mut previous = None;
    while at < line.len() {
        let (index, start) = next_key(line, at, previous)?;
        let quote = scan::find_in(line, start, line.len(), b'"')?;
        let close = quote.checked_sub(1).filter(|&c| c >= start)?;
        let ends_line = quote + 1 == line.len();
        if !ends_line && next_key(line, quote + 1, Some(index)).is_none() {
            return None;
        }
        *values.get_mut(index)? = line.get(start..close)?;
        previous = Some(index);
        at = quote + 1;
    }
    Some(values)
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
                "azureproxy, issue sample",
                r#"2018/09/17 12:19:26 [error] 8#8: *758040 upstream prematurely closed connection while reading upstream, client:, server: _, request: \"GET /api/v1/namespaces/kube-system/services?resourceVersion=344761\u0026timeoutSeconds=438\u0026watch=true HTTP/2.0\", upstream: \"\", host: \"\"\n"#,
                &[
                    r#"nginx-error"#,
                    r#"time:"2018/09/17 12:19:26""#,
                    r#"level:"error""#,
                    r#"pid:8"#,
                    r#"tid:8"#,
                    r#"connection:758040"#,
                    r#"message:"upstream prematurely closed connection while reading upstream""#,
                    r#"server:"_""#,
                    r#"method:"GET""#,
                    r#"path:"/api/v1/namespaces/kube-system/services?resourceVersion=344761\u0026timeoutSeconds=438\u0026watch=true""#,
                    r#"protocol:"HTTP/2.0""#,
                ],
            ),
            (
                // https://mail-archive.com/nginx@nginx.org/msg17557.html
                "limit_req rejection, nginx mailing list sample",
                r#"2017/12/01 11:08:29 [error] 26592#37196: *15466 limiting requests, excess: 101.000 by zone \"all\", client: 127.0.0.1, server: localhost, request: \"GET /private/rush2purchase/inventory/aquire?productId=product1 HTTP/1.1\", host: \"localhost\""#,
                &[
                    r#"nginx-error"#,
                    r#"time:"2017/12/01 11:08:29""#,
                    r#"level:"error""#,
                    r#"pid:26592"#,
                    r#"tid:37196"#,
                    r#"connection:15466"#,
                    r#"message:"limiting requests, excess: 101.000 by zone \"all\"""#,
                    r#"client:"127.0.0.1""#,
                    r#"server:"localhost""#,
                    r#"method:"GET""#,
                    r#"path:"/private/rush2purchase/inventory/aquire?productId=product1""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"host:"localhost""#,
                ],
            ),
            (
                // Every key ngx_http_log_error_handler writes
                // (src/http/ngx_http_request.c), in its order.
                "upstream, host and referrer",
                r#"2023/03/15 09:32:45 [error] 31#31: *123 connect() failed (111: Connection refused) while connecting to upstream, client: 192.168.1.10, server: example.com, request: \"GET /api/data HTTP/1.1\", upstream: \"http://127.0.0.1:8080/api/data\", host: \"example.com\", referrer: \"https://example.com/\""#,
                &[
                    r#"nginx-error"#,
                    r#"time:"2023/03/15 09:32:45""#,
                    r#"level:"error""#,
                    r#"pid:31"#,
                    r#"tid:31"#,
                    r#"connection:123"#,
                    r#"message:"connect() failed (111: Connection refused) while connecting to upstream""#,
                    r#"client:"192.168.1.10""#,
                    r#"server:"example.com""#,
                    r#"method:"GET""#,
                    r#"path:"/api/data""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"upstream:"http://127.0.0.1:8080/api/data""#,
                    r#"host:"example.com""#,
                    r#"referrer:"https://example.com/""#,
                ],
            ),
            (
                "message quoting a path, no upstream",
                r#"2008/08/14 14:37:31 [error] 7418#0: *820 open() \"/var/www/example.com/robots.txt\" failed (2: No such file or directory), client: 66.249.71.184, server: example.com, request: \"GET /robots.txt HTTP/1.1\", host: \"example.com\""#,
                &[
                    r#"nginx-error"#,
                    r#"time:"2008/08/14 14:37:31""#,
                    r#"level:"error""#,
                    r#"pid:7418"#,
                    r#"tid:0"#,
                    r#"connection:820"#,
                    r#"message:"open() \"/var/www/example.com/robots.txt\" failed (2: No such file or directory)""#,
                    r#"client:"66.249.71.184""#,
                    r#"server:"example.com""#,
                    r#"method:"GET""#,
                    r#"path:"/robots.txt""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"host:"example.com""#,
                ],
            ),
            (
                "no connection, no context",
                r#"2024/01/02 03:04:05 [notice] 1#1: start worker processes"#,
                &[
                    r#"nginx-error"#,
                    r#"time:"2024/01/02 03:04:05""#,
                    r#"level:"notice""#,
                    r#"pid:1"#,
                    r#"tid:1"#,
                    r#"message:"start worker processes""#,
                ],
            ),
            (
                "client and server only, ipv6",
                r#"2024/01/02 03:04:05 [info] 29#29: *1 client closed connection while SSL handshaking, client: 2001:db8::1, server: 0.0.0.0:443"#,
                &[
                    r#"nginx-error"#,
                    r#"time:"2024/01/02 03:04:05""#,
                    r#"level:"info""#,
                    r#"pid:29"#,
                    r#"tid:29"#,
                    r#"connection:1"#,
                    r#"message:"client closed connection while SSL handshaking""#,
                    r#"client:"2001:db8::1""#,
                    r#"server:"0.0.0.0:443""#,
                ],
            ),
            (
                "hostile: a quote in the request line",
                r#"2024/01/02 03:04:05 [error] 29#29: *1 x, client: 1.2.3.4, server: s, request: \"GET /a\" b HTTP/1.1\", host: \"h\""#,
                &[
                    r#"nginx-error quote-injection"#,
                    r#"time:"2024/01/02 03:04:05""#,
                    r#"level:"error""#,
                    r#"pid:29"#,
                    r#"tid:29"#,
                    r#"connection:1"#,
                    r#"message:"x""#,
                    r#"client:"1.2.3.4""#,
                    r#"server:"s""#,
                ],
            ),
            (
                "hostile: a second context forged in the request line",
                r#"2024/01/02 03:04:05 [error] 29#29: *1 x, client: 1.2.3.4, server: s, request: \"GET /a, client: 6.6.6.6, server: evil HTTP/1.1\""#,
                &[
                    r#"nginx-error quote-injection"#,
                    r#"time:"2024/01/02 03:04:05""#,
                    r#"level:"error""#,
                    r#"pid:29"#,
                    r#"tid:29"#,
                    r#"connection:1"#,
                    r#"message:"x, client: 1.2.3.4, server: s, request: \"GET /a, client: 6.6.6.6, server: evil HTTP/1.1\"""#,
                ],
            ),
            (
                "hostile: keys out of nginx's order",
                r#"2024/01/02 03:04:05 [error] 29#29: *1 x, client: 1.2.3.4, server: s, host: \"h\", upstream: \"u\""#,
                &[
                    r#"nginx-error quote-injection"#,
                    r#"time:"2024/01/02 03:04:05""#,
                    r#"level:"error""#,
                    r#"pid:29"#,
                    r#"tid:29"#,
                    r#"connection:1"#,
                    r#"message:"x""#,
                    r#"client:"1.2.3.4""#,
                    r#"server:"s""#,
                ],
            ),
            (
                "stream module context is not split",
                r#"2024/01/02 03:04:05 [error] 29#29: *1 connect() failed, client: 1.2.3.4, server: 0.0.0.0:5432, upstream: \"10.0.0.1:5432\", bytes from/to client:0/0, bytes from/to upstream:0/0"#,
                &[
                    r#"nginx-error quote-injection"#,
                    r#"time:"2024/01/02 03:04:05""#,
                    r#"level:"error""#,
                    r#"pid:29"#,
                    r#"tid:29"#,
                    r#"connection:1"#,
                    r#"message:"connect() failed""#,
                    r#"client:"1.2.3.4""#,
                    r#"server:"0.0.0.0:5432""#,
                ],
            ),
            (
                "invalid: no level",
                r#"2024/01/02 03:04:05 1#1: x"#,
                &[r#"not nginx-error: expected a date and time `yyyy/mm/dd hh:mm:ss [` at byte 0"#],
            ),
            (
                "invalid: no tid",
                r#"2024/01/02 03:04:05 [error] 1: x"#,
                &[r#"not nginx-error: expected `pid#tid:` after the level at byte 28"#],
            ),
            (
                "invalid: level in capitals",
                r#"2024/01/02 03:04:05 [ERROR] 1#1: x"#,
                &[r#"not nginx-error: expected a level `[error] ` at byte 21"#],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[r#"not nginx-error: expected a date and time `yyyy/mm/dd hh:mm:ss [` at byte 0"#],
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
        let head = "2024/01/02 03:04:05 [error] 29#29: *1 x";
        let shapes: [(&str, String, &str, &str); 4] = [
            (
                "commas in the message",
                head.to_string(),
                ", ",
                ", client: 1.2.3.4, server: s",
            ),
            (
                "quotes in the request line",
                format!(r#"{head}, client: 1.2.3.4, server: s, request: \"GET /"#),
                r#"\" "#,
                r#" HTTP/1.1\""#,
            ),
            (
                "separators forged in the host",
                format!(r#"{head}, client: 1.2.3.4, server: s, host: \""#),
                r#"\", host: \""#,
                r#"\""#,
            ),
            ("spaces", head.to_string(), " ", ""),
        ];
        for (name, prefix, unit, suffix) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = prefix.as_bytes().to_vec();
                    while line.len() < size {
                        line.extend_from_slice(unit.as_bytes());
                    }
                    line.extend_from_slice(suffix.as_bytes());
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
