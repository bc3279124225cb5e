//! ingress-nginx access logs: the controller's default `log-format-upstream`
//! in each of its historical layouts, told apart per line.
//!
//! Today's default (ingress-nginx `internal/ingress/controller/config`,
//! documented in `docs/user-guide/nginx-configuration/log-format.md`):
//!
//! `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id`
//!
//! Earlier defaults, all accepted: before September 2019 the address was
//! followed by ` - [$the_real_ip]` (the layout of the k8s-nginx-ingress
//! regex this parser replaces); `[$proxy_alternative_upstream_name]` was
//! added in June 2019; `$req_id` in April 2018. A line is read in the
//! `[$the_real_ip]` layout only when the bracketed value equals
//! `$remote_addr`: ingress-nginx set both from the same variable, and the
//! test keeps a `$remote_user` such as `[10.0.0.9] - bob` (the user is
//! client-controlled) from inventing a `real_ip`.
//!
//! # Fields
//!
//! Every field is left out when nginx wrote `-` or an empty value (`[]`).
//! Integers and decimals that do not fit their type are left out and the
//! line is marked `out-of-range`.
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `host` | string | client address | `$remote_addr` (or `$proxy_protocol_addr`) |
//! | `real_ip` | string | client address, older layouts only | `$the_real_ip` |
//! | `user` | string | Basic-auth user name, client-controlled | `$remote_user` |
//! | `time` | string (RFC 3339 UTC) | request end time | `$time_local` |
//! | `method` | string | request method, client-controlled | first word of `$request` |
//! | `path` | string | request target, client-controlled | middle of `$request` |
//! | `protocol` | string | `HTTP/1.1`, `HTTP/2.0` | last word of `$request` (3+ words) |
//! | `code` | integer | response status | `$status` |
//! | `size` | integer | body bytes sent | `$body_bytes_sent` |
//! | `referer` | string | Referer, client-controlled | `$http_referer` |
//! | `agent` | string | User-Agent, client-controlled | `$http_user_agent` |
//! | `request_length` | integer | request bytes, line and headers included | `$request_length` |
//! | `request_time` | number (decimal) | seconds, ms resolution | `$request_time` |
//! | `proxy_upstream_name` | string | `namespace-service-port` | `$proxy_upstream_name` |
//! | `proxy_alternative_upstream_name` | string | canary upstream | `$proxy_alternative_upstream_name` |
//! | `upstream_addr` | string | last upstream tried | `$upstream_addr` |
//! | `upstream_addr_ip`, `upstream_addr_port` | string, integer | its parts, when `ip:port` / `[ipv6]:port` | (split) |
//! | `upstream_addr_list` | string | every upstream tried, when more than one | `$upstream_addr` |
//! | `upstream_response_length` | integer | last upstream's response length | `$upstream_response_length` |
//! | `upstream_response_length_list` | string | all of them, when more than one | `$upstream_response_length` |
//! | `upstream_response_time` | number (decimal) | last upstream's time, seconds | `$upstream_response_time` |
//! | `upstream_response_time_list` | string | all of them, when more than one | `$upstream_response_time` |
//! | `upstream_status` | integer | last upstream's status | `$upstream_status` |
//! | `upstream_status_list` | string | all of them, when more than one | `$upstream_status` |
//! | `req_id` | string | X-Request-ID or a generated id, client-controlled | `$req_id` |
//! | `last` | string | what follows `$upstream_status` in the `[$the_real_ip]` layout | (rest of line) |
//!
//! # Upstream lists
//!
//! When nginx tries several upstreams, each `$upstream_*` variable holds a
//! list: `10.0.0.1:80, 10.0.0.2:80` (`, ` between servers of one group,
//! ` : ` after an internal redirect to another group), the four lists in
//! step. Each field keeps one JSON type in every record (an index mapping
//! cannot hold a number in one document and a list in the next), so:
//! `upstream_status` etc. hold the value of the *last* upstream, the one
//! whose response the client got, typed as for a single value; the whole
//! list is kept as text in `<name>_list`, present only when there was more
//! than one upstream. The first list fixes the shape (item count and
//! separators) and the other three must repeat it exactly; `$req_id`, which
//! the client controls, starts after that and cannot extend a list.
//!
//! # Differences from fluent-bit's stock `k8s-nginx-ingress` parser and the
//! regex it replaces
//!
//! - The last field is `req_id` (fluent-bit's stock regex has `reg_id`);
//!   in the `[$the_real_ip]` layout it keeps the old regex's name, `last`.
//! - `protocol` is added (the regexes match it and throw it away); a
//!   request of two words (`GET /`) has a path and no protocol.
//! - Values are typed; `-` and `[]` mean absent; upstream lists as above.
//! - `$remote_user` may contain spaces and `$req_id` too: both are placed
//!   by position (the user ends where the fixed-width `[$time_local]`
//!   begins; the request id is the rest of the line), where `[^ ]*` failed.
//! - A path with spaces is kept whole (the stock group drops its last word).
//!
//! # Why the split is certain
//!
//! nginx escapes `"` in variables as `\x22` (and `\`, control and non-ASCII
//! bytes as `\xHH`) by default, so every quote in a line is one of the six
//! the format writes. The parser counts the quotes in one pass: six, and
//! every quoted field is delimited by them; more than six (a
//! `log_format ... escape=none` setup, or JSON escaping) means a client
//! could have closed a field early, so the line is marked `quote-injection`
//! and keeps only `host`, its first word. Around the quotes, the only
//! client-controlled words are `$remote_user` (between the address and the
//! fixed-width time, so it cannot shift anything) and `$req_id` (last).
//! Every search is word-at-a-time and every byte is looked at a bounded
//! number of times; the quotes come from the record's check, which notes
//! where they are while it validates the line (up to 48 of them).

use super::{
    AddressKeys, Fields, Key, Mismatch, Outcome, Sink, Suspicion, between, key_table,
    split_request_line, tokens_in, trim_line_end,
};
use crate::scan;
use crate::time::parse_clf;

/// The format name.
pub const NGINX_INGRESS: &str = "nginx-ingress";

/// `$time_local` is always 26 bytes: `17/Sep/2018:12:19:26 +0000`.
const TIME_LOCAL_LEN: usize = 26;

/// The most upstreams a list may hold (nginx tries a handful at most).
const MAX_LIST_ITEMS: u32 = 64;

key_table! {
    /// The keys this parser writes.
    pub(crate) mod keys {
        HOST = "host",
        REAL_IP = "real_ip",
        USER = "user",
        TIME = "time",
        METHOD = "method",
        PATH = "path",
        PROTOCOL = "protocol",
        CODE = "code",
        SIZE = "size",
        REFERER = "referer",
        AGENT = "agent",
        REQUEST_LENGTH = "request_length",
        REQUEST_TIME = "request_time",
        PROXY_UPSTREAM_NAME = "proxy_upstream_name",
        PROXY_ALTERNATIVE_UPSTREAM_NAME = "proxy_alternative_upstream_name",
        UPSTREAM_ADDR = "upstream_addr",
        UPSTREAM_ADDR_IP = "upstream_addr_ip",
        UPSTREAM_ADDR_PORT = "upstream_addr_port",
        UPSTREAM_ADDR_LIST = "upstream_addr_list",
        UPSTREAM_RESPONSE_LENGTH = "upstream_response_length",
        UPSTREAM_RESPONSE_LENGTH_LIST = "upstream_response_length_list",
        UPSTREAM_RESPONSE_TIME = "upstream_response_time",
        UPSTREAM_RESPONSE_TIME_LIST = "upstream_response_time_list",
        UPSTREAM_STATUS = "upstream_status",
        UPSTREAM_STATUS_LIST = "upstream_status_list",
        REQ_ID = "req_id",
        LAST = "last",
    }
}

/// Parses one ingress-nginx access-log line.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    parse_into(line, None, fields)
}

/// [`parse`] into any [`Sink`], given the positions of the line's quotes
/// (every `"` of a `\"` escape) when they are known.
#[inline(always)]
pub fn parse_into<'a, S: Sink<'a>>(
    line: &'a [u8],
    quotes: Option<&[u32]>,
    sink: &mut S,
) -> Outcome {
    let line = trim_line_end(line);
    let mismatch = |expected: &'static str, at: usize| {
        Err(Mismatch {
            format: NGINX_INGRESS,
            expected,
            at,
        })
    };

    let Some(host_end) = scan::find_in(line, 0, line.len(), b' ') else {
        return mismatch("the client address and ` - `", 0);
    };
    let host = line.get(..host_end).unwrap_or_default();
    if line.get(host_end..host_end + 3) != Some(b" - ".as_slice()) {
        return mismatch("` - ` after the client address", host_end);
    }

    // The first six quotes, and whether there are more.
    let mut six = [0usize; 6];
    let mut count = 0usize;
    let mut take = |q: usize| {
        if let Some(slot) = six.get_mut(count) {
            *slot = q;
        }
        count += 1;
        count <= 6
    };
    match quotes {
        Some(quotes) => {
            for &q in quotes {
                let q = q as usize;
                if q >= host_end && q < line.len() && !take(q) {
                    break;
                }
            }
        }
        None => scan::each_in(line, host_end, line.len(), b'"', take),
    }
    if count < six.len() {
        return mismatch("six quotes (request, referer, user agent)", line.len());
    }
    let [q1, q2, q3, q4, q5, q6] = six;

    // ` [$time_local] "` just before the first quote; the user ends at the
    // space before `[`.
    let Some(user_end) = q1.checked_sub(TIME_LOCAL_LEN + 5) else {
        return mismatch("` [$time_local] \"` before the request", q1);
    };
    let time_start = user_end + 2;
    let framed = line.get(user_end..time_start) == Some(b" [".as_slice())
        && line.get(q1 - 3..q1) == Some(b"] \\".as_slice());
    let time = line
        .get(time_start..time_start + TIME_LOCAL_LEN)
        .filter(|_| framed)
        .and_then(parse_clf);
    let Some(time) = time else {
        return mismatch("` [$time_local] \"` before the request", q1);
    };
    let user_region = line.get(host_end + 3..user_end).unwrap_or_default();
    if user_region.is_empty() {
        return mismatch("the remote user after ` - `", host_end + 3);
    }

    if count > six.len() {
        sink.flag(Suspicion::QuoteInjection);
        sink.text(keys::HOST, host);
        return Ok(NGINX_INGRESS);
    }

    let (real_ip, user) = split_real_ip(user_region, host);
    let request = split_request_line(line, q1 + 1, q2 - 1, true);
    let Some([status, size]) = tokens_in::<2>(line, q2 + 1, q3 - 1) else {
        return mismatch("` $status $body_bytes_sent ` after the request", q2 + 1);
    };
    let referer = between(line, q3, q4).unwrap_or_default();
    if between(line, q4, q5) != Some(b" ".as_slice()) {
        return mismatch("`\" \"` between referer and user agent", q4 + 1);
    }
    let agent = between(line, q5, q6).unwrap_or_default();
    let Some(tail) = read_tail(line, q6) else {
        return mismatch(
            "request length, time, [upstream name] and the four upstream lists",
            q6 + 1,
        );
    };

    sink.text(keys::HOST, host);
    if let Some(ip) = real_ip {
        sink.text(keys::REAL_IP, ip);
    }
    sink.text(keys::USER, user);
    sink.time(keys::TIME, time);
    sink.text(keys::METHOD, request.method);
    sink.text(keys::PATH, request.path);
    sink.text(keys::PROTOCOL, request.protocol);
    sink.count(keys::CODE, status);
    sink.count(keys::SIZE, size);
    sink.text(keys::REFERER, referer);
    sink.text(keys::AGENT, agent);
    sink.count(keys::REQUEST_LENGTH, tail.request_length);
    sink.decimal(keys::REQUEST_TIME, tail.request_time);
    sink.text(keys::PROXY_UPSTREAM_NAME, tail.upstream_name);
    if let Some(alternative) = tail.alternative_name {
        sink.text(keys::PROXY_ALTERNATIVE_UPSTREAM_NAME, alternative);
    }
    let lists = [
        (ListKind::Address, tail.addr),
        (ListKind::Count, tail.response_length),
        (ListKind::Decimal, tail.response_time),
        (ListKind::Count, tail.status),
    ];
    for (names, (kind, list)) in LIST_KEYS.iter().zip(lists) {
        push_list(line, sink, names, kind, list);
    }
    let rest_key = if real_ip.is_some() {
        keys::LAST
    } else {
        keys::REQ_ID
    };
    sink.text(rest_key, tail.rest);
    Ok(NGINX_INGRESS)
}

/// Splits the text between ` - ` and ` [$time_local]` into `$the_real_ip`
/// and `$remote_user` for the older layout, `[ip] - user` with `ip` equal
/// to the client address, or returns it whole as the user.
fn split_real_ip<'a>(region: &'a [u8], host: &[u8]) -> (Option<&'a [u8]>, &'a [u8]) {
    let older = region.strip_prefix(b"[").and_then(|rest| {
        let close = rest.iter().position(|&b| b == b']')?;
        let (ip, after) = rest.split_at_checked(close)?;
        let user = after.strip_prefix(b"] - ")?;
        (ip == host && !user.is_empty()).then_some((ip, user))
    });
    match older {
        Some((ip, user)) => (Some(ip), user),
        None => (None, region),
    }
}

/// Byte range of a word in the line.
type Span = (usize, usize);

/// Space-separated words of the line from a position on, with their spans.
struct Words<'a> {
    line: &'a [u8],
    at: usize,
    done: bool,
}

impl<'a> Words<'a> {
    fn next_span(&mut self) -> Option<Span> {
        if self.done {
            return None;
        }
        let start = self.at;
        match scan::find_in(self.line, start, self.line.len(), b' ') {
            Some(space) => {
                self.at = space + 1;
                Some((start, space))
            }
            None => {
                self.done = true;
                Some((start, self.line.len()))
            }
        }
    }

    /// Whether the next word is a lone `:` (the separator nginx writes
    /// between the upstreams of two groups); consumes it if so.
    fn eat_colon(&mut self) -> bool {
        let hit = !self.done && self.line.get(self.at..self.at + 2) == Some(b": ".as_slice());
        if hit {
            self.at += 2;
        }
        hit
    }

    /// What is left after the last word taken, if anything.
    fn rest(&self) -> &'a [u8] {
        if self.done {
            b""
        } else {
            self.line.get(self.at..).unwrap_or_default()
        }
    }
}

/// An upstream list: its whole span and its last item.
#[derive(Clone, Copy, Debug)]
struct List {
    whole: Span,
    last: Span,
    items: u32,
    /// Bit `i` set: the separator after item `i` is ` : `, else `, `.
    colons: u64,
}

/// The words after the user agent.
struct Tail<'a> {
    request_length: &'a [u8],
    request_time: &'a [u8],
    upstream_name: &'a [u8],
    alternative_name: Option<&'a [u8]>,
    addr: List,
    response_length: List,
    response_time: List,
    status: List,
    rest: &'a [u8],
}

/// `[name]` without its brackets.
fn bracketed(word: &[u8]) -> Option<&[u8]> {
    word.strip_prefix(b"[")?.strip_suffix(b"]")
}

fn slice(line: &[u8], (from, to): Span) -> &[u8] {
    line.get(from..to).unwrap_or_default()
}

/// Reads ` $request_length $request_time [$proxy_upstream_name]
/// [$proxy_alternative_upstream_name]? <four lists> $req_id?` after the
/// quote closing the user agent at `q6`.
fn read_tail(line: &[u8], q6: usize) -> Option<Tail<'_>> {
    if line.get(q6 + 1) != Some(&b' ') {
        return None;
    }
    let mut words = Words {
        line,
        at: q6 + 2,
        done: false,
    };
    let request_length = slice(line, words.next_span()?);
    let request_time = slice(line, words.next_span()?);
    let upstream_name = bracketed(slice(line, words.next_span()?))?;
    let mut next = words.next_span()?;
    let alternative_name = match bracketed(slice(line, next)) {
        Some(name) => {
            next = words.next_span()?;
            Some(name)
        }
        None => None,
    };
    let addr = first_list(line, &mut words, next)?;
    let response_length = same_list(line, &mut words, addr)?;
    let response_time = same_list(line, &mut words, addr)?;
    let status = same_list(line, &mut words, addr)?;
    Some(Tail {
        request_length,
        request_time,
        upstream_name,
        alternative_name,
        addr,
        response_length,
        response_time,
        status,
        rest: words.rest(),
    })
}

/// Reads `$upstream_addr`, whose items are followed by `,` or by a lone `:`
/// word when another item follows.
fn first_list(line: &[u8], words: &mut Words<'_>, first: Span) -> Option<List> {
    let mut item = first;
    let mut items = 1u32;
    let mut colons = 0u64;
    loop {
        let comma = slice(line, item).ends_with(b",");
        let colon = !comma && words.eat_colon();
        if !comma && !colon {
            break;
        }
        if items >= MAX_LIST_ITEMS {
            return None;
        }
        if colon {
            colons |= 1 << (items - 1);
        }
        item = words.next_span()?;
        items += 1;
    }
    Some(List {
        whole: (first.0, item.1),
        last: item,
        items,
        colons,
    })
}

/// Reads a list that must have the same shape as `shape`.
fn same_list(line: &[u8], words: &mut Words<'_>, shape: List) -> Option<List> {
    let first = words.next_span()?;
    let mut item = first;
    for i in 1..shape.items {
        let comma = slice(line, item).ends_with(b",");
        let want_colon = shape.colons & (1 << (i - 1)) != 0;
        let ok = if want_colon {
            !comma && words.eat_colon()
        } else {
            comma
        };
        if !ok {
            return None;
        }
        item = words.next_span()?;
    }
    if slice(line, item).ends_with(b",") {
        return None;
    }
    Some(List {
        whole: (first.0, item.1),
        last: item,
        ..shape
    })
}

#[derive(Clone, Copy)]
enum ListKind {
    Address,
    Count,
    Decimal,
}

/// The keys of one upstream list: its last value's (with, for addresses,
/// the IP's and port's) and the whole list's.
struct ListKeys {
    value: AddressKeys,
    list: &'static Key,
}

/// For lists of something else than addresses: one key in all three places.
const fn single(key: &'static Key) -> AddressKeys {
    AddressKeys {
        whole: key,
        ip: key,
        port: key,
    }
}

const LIST_KEYS: [ListKeys; 4] = [
    ListKeys {
        value: AddressKeys {
            whole: keys::UPSTREAM_ADDR,
            ip: keys::UPSTREAM_ADDR_IP,
            port: keys::UPSTREAM_ADDR_PORT,
        },
        list: keys::UPSTREAM_ADDR_LIST,
    },
    ListKeys {
        value: single(keys::UPSTREAM_RESPONSE_LENGTH),
        list: keys::UPSTREAM_RESPONSE_LENGTH_LIST,
    },
    ListKeys {
        value: single(keys::UPSTREAM_RESPONSE_TIME),
        list: keys::UPSTREAM_RESPONSE_TIME_LIST,
    },
    ListKeys {
        value: single(keys::UPSTREAM_STATUS),
        list: keys::UPSTREAM_STATUS_LIST,
    },
];

/// Pushes the last item typed, and the whole list when it has several.
#[inline(always)]
fn push_list<'a, S: Sink<'a>>(
    line: &'a [u8],
    sink: &mut S,
    keys: &ListKeys,
    kind: ListKind,
    list: List,
) {
    let last = slice(line, list.last);
    match kind {
        ListKind::Address => sink.address(keys.value, last),
        ListKind::Count => sink.count(keys.value.whole, last),
        ListKind::Decimal => sink.decimal(keys.value.whole, last),
    }
    if list.items > 1 {
        sink.text(keys.list, slice(line, list.whole));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::render;

    /// Named cases: a line as it sits in the record's JSON string and the
    /// exact result. Invalid lines included.
    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "current default, ingress-nginx issue sample",
                r#"10.220.21.73 - - [11/Sep/2023:07:44:14 +0000] \"GET / HTTP/1.1\" 404 146 \"-\" \"-\" 77 0.002 [upstream-default-backend] [] 127.0.0.1:8181 146 0.001 404 90bb52ccaeab256487893bab7d294261\n"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"10.220.21.73""#,
                    r#"time:@2023-09-11T07:44:14Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:404"#,
                    r#"size:146"#,
                    r#"request_length:77"#,
                    r#"request_time:~0.002"#,
                    r#"proxy_upstream_name:"upstream-default-backend""#,
                    r#"upstream_addr:"127.0.0.1:8181""#,
                    r#"upstream_addr_ip:"127.0.0.1""#,
                    r#"upstream_addr_port:8181"#,
                    r#"upstream_response_length:146"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:404"#,
                    r#"req_id:"90bb52ccaeab256487893bab7d294261""#,
                ],
            ),
            (
                "the_real_ip layout with req_id kept as last",
                r#"10.244.2.1 - [10.244.2.1] - - [25/Feb/2019:21:04:21 +0000] \"GET /somethingOne HTTP/1.1\" 404 153 \"-\" \"Go-http-client/1.1\" 100 0.001 [upstream-default-backend] 127.0.0.1:8181 153 0.000 404 7d8c51f3b6b1d5c8a2e4f0a9b3c6d1e2"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"10.244.2.1""#,
                    r#"real_ip:"10.244.2.1""#,
                    r#"time:@2019-02-25T21:04:21Z"#,
                    r#"method:"GET""#,
                    r#"path:"/somethingOne""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:404"#,
                    r#"size:153"#,
                    r#"agent:"Go-http-client/1.1""#,
                    r#"request_length:100"#,
                    r#"request_time:~0.001"#,
                    r#"proxy_upstream_name:"upstream-default-backend""#,
                    r#"upstream_addr:"127.0.0.1:8181""#,
                    r#"upstream_addr_ip:"127.0.0.1""#,
                    r#"upstream_addr_port:8181"#,
                    r#"upstream_response_length:153"#,
                    r#"upstream_response_time:~0.000"#,
                    r#"upstream_status:404"#,
                    r#"last:"7d8c51f3b6b1d5c8a2e4f0a9b3c6d1e2""#,
                ],
            ),
            (
                "the_real_ip layout without req_id, local offset",
                r#"10.0.0.9 - [10.0.0.9] - - [01/Mar/2018:10:00:00 +0100] \"GET /old HTTP/1.1\" 200 5 \"-\" \"curl\" 70 0.010 [default-web-80] 10.1.1.1:80 5 0.009 200"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"10.0.0.9""#,
                    r#"real_ip:"10.0.0.9""#,
                    r#"time:@2018-03-01T09:00:00Z"#,
                    r#"method:"GET""#,
                    r#"path:"/old""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:5"#,
                    r#"agent:"curl""#,
                    r#"request_length:70"#,
                    r#"request_time:~0.010"#,
                    r#"proxy_upstream_name:"default-web-80""#,
                    r#"upstream_addr:"10.1.1.1:80""#,
                    r#"upstream_addr_ip:"10.1.1.1""#,
                    r#"upstream_addr_port:80"#,
                    r#"upstream_response_length:5"#,
                    r#"upstream_response_time:~0.009"#,
                    r#"upstream_status:200"#,
                ],
            ),
            (
                "upstream lists: last typed, whole kept",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET /some/path HTTP/2.0\" 200 28 \"https://example.com/\" \"Mozilla/5.0\" 60 0.683 [upstream-name] [] 10.0.0.1:443, 10.0.0.2:443 : 10.0.0.3:443 0, 0 : 39 0.096, 0.092 : 0.496 502, 502 : 200 d0f69894df9d4b231eca7773a6759ba2"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"1.2.3.4""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/some/path""#,
                    r#"protocol:"HTTP/2.0""#,
                    r#"code:200"#,
                    r#"size:28"#,
                    r#"referer:"https://example.com/""#,
                    r#"agent:"Mozilla/5.0""#,
                    r#"request_length:60"#,
                    r#"request_time:~0.683"#,
                    r#"proxy_upstream_name:"upstream-name""#,
                    r#"upstream_addr:"10.0.0.3:443""#,
                    r#"upstream_addr_ip:"10.0.0.3""#,
                    r#"upstream_addr_port:443"#,
                    r#"upstream_addr_list:"10.0.0.1:443, 10.0.0.2:443 : 10.0.0.3:443""#,
                    r#"upstream_response_length:39"#,
                    r#"upstream_response_length_list:"0, 0 : 39""#,
                    r#"upstream_response_time:~0.496"#,
                    r#"upstream_response_time_list:"0.096, 0.092 : 0.496""#,
                    r#"upstream_status:200"#,
                    r#"upstream_status_list:"502, 502 : 200""#,
                    r#"req_id:"d0f69894df9d4b231eca7773a6759ba2""#,
                ],
            ),
            (
                "user forging a real_ip that differs from the address",
                r#"1.2.3.4 - [9.9.9.9] - bob smith [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"1.2.3.4""#,
                    r#"user:"[9.9.9.9] - bob smith""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:1"#,
                    r#"agent:"ua""#,
                    r#"request_length:1"#,
                    r#"request_time:~0.001"#,
                    r#"proxy_upstream_name:"u""#,
                    r#"upstream_addr:"10.0.0.1:80""#,
                    r#"upstream_addr_ip:"10.0.0.1""#,
                    r#"upstream_addr_port:80"#,
                    r#"upstream_response_length:1"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:200"#,
                    r#"req_id:"id""#,
                ],
            ),
            (
                "real_ip equal to the address reads as the older layout",
                r#"1.2.3.4 - [1.2.3.4] - bob [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"1.2.3.4""#,
                    r#"real_ip:"1.2.3.4""#,
                    r#"user:"bob""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:1"#,
                    r#"agent:"ua""#,
                    r#"request_length:1"#,
                    r#"request_time:~0.001"#,
                    r#"proxy_upstream_name:"u""#,
                    r#"upstream_addr:"10.0.0.1:80""#,
                    r#"upstream_addr_ip:"10.0.0.1""#,
                    r#"upstream_addr_port:80"#,
                    r#"upstream_response_length:1"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:200"#,
                    r#"last:"id""#,
                ],
            ),
            (
                "raw quote in a field (escape=none)",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 200 9 \"x\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[r#"nginx-ingress quote-injection"#, r#"host:"1.2.3.4""#],
            ),
            (
                "nginx escapes kept as they are",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET /\\x22a HTTP/1.1\" 200 1 \"-\" \"ua \\x22x\\x22 caf\\xC3\\xA9\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"1.2.3.4""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/\\x22a""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:1"#,
                    r#"agent:"ua \\x22x\\x22 caf\\xC3\\xA9""#,
                    r#"request_length:1"#,
                    r#"request_time:~0.001"#,
                    r#"proxy_upstream_name:"u""#,
                    r#"upstream_addr:"10.0.0.1:80""#,
                    r#"upstream_addr_ip:"10.0.0.1""#,
                    r#"upstream_addr_port:80"#,
                    r#"upstream_response_length:1"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:200"#,
                    r#"req_id:"id""#,
                ],
            ),
            (
                "empty request and no upstream",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"-\" 400 0 \"-\" \"-\" 0 0.000 [] [] - - - - 4f1c"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"1.2.3.4""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"code:400"#,
                    r#"size:0"#,
                    r#"request_length:0"#,
                    r#"request_time:~0.000"#,
                    r#"req_id:"4f1c""#,
                ],
            ),
            (
                "ipv6 client and upstream, http/0.9 request, req_id with spaces",
                r#"2001:db8::1 - - [24/Aug/2020:01:28:53 -0700] \"GET /\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] [fd00::5]:8080 1 0.001 200 req id with spaces"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"2001:db8::1""#,
                    r#"time:@2020-08-24T08:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"code:200"#,
                    r#"size:1"#,
                    r#"agent:"ua""#,
                    r#"request_length:1"#,
                    r#"request_time:~0.001"#,
                    r#"proxy_upstream_name:"u""#,
                    r#"upstream_addr:"[fd00::5]:8080""#,
                    r#"upstream_addr_ip:"fd00::5""#,
                    r#"upstream_addr_port:8080"#,
                    r#"upstream_response_length:1"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:200"#,
                    r#"req_id:"req id with spaces""#,
                ],
            ),
            (
                "numbers out of range",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 2x0 -1 \"-\" \"ua\" 99999999999999999999 1.2.3 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[
                    r#"nginx-ingress out-of-range"#,
                    r#"host:"1.2.3.4""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"agent:"ua""#,
                    r#"proxy_upstream_name:"u""#,
                    r#"upstream_addr:"10.0.0.1:80""#,
                    r#"upstream_addr_ip:"10.0.0.1""#,
                    r#"upstream_addr_port:80"#,
                    r#"upstream_response_length:1"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:200"#,
                    r#"req_id:"id""#,
                ],
            ),
            (
                "req_id starting like a list separator stays req_id",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 : 500 fake"#,
                &[
                    r#"nginx-ingress"#,
                    r#"host:"1.2.3.4""#,
                    r#"time:@2020-08-24T01:28:53Z"#,
                    r#"method:"GET""#,
                    r#"path:"/""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"size:1"#,
                    r#"agent:"ua""#,
                    r#"request_length:1"#,
                    r#"request_time:~0.001"#,
                    r#"proxy_upstream_name:"u""#,
                    r#"upstream_addr:"10.0.0.1:80""#,
                    r#"upstream_addr_ip:"10.0.0.1""#,
                    r#"upstream_addr_port:80"#,
                    r#"upstream_response_length:1"#,
                    r#"upstream_response_time:~0.001"#,
                    r#"upstream_status:200"#,
                    r#"req_id:": 500 fake""#,
                ],
            ),
            (
                "invalid: upstream lists out of step",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80, 10.0.0.2:80 1 0.001 200 id"#,
                &[
                    r#"not nginx-ingress: expected request length, time, [upstream name] and the four upstream lists at byte 78"#,
                ],
            ),
            (
                "invalid: nothing after the user agent",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\""#,
                &[
                    r#"not nginx-ingress: expected request length, time, [upstream name] and the four upstream lists at byte 78"#,
                ],
            ),
            (
                "invalid: four quotes",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\""#,
                &[
                    r#"not nginx-ingress: expected six quotes (request, referer, user agent) at byte 71"#,
                ],
            ),
            (
                "invalid: time without offset",
                r#"1.2.3.4 - - [24/Aug/2020:01:28:53] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[
                    r#"not nginx-ingress: expected ` [$time_local] "` before the request at byte 36"#,
                ],
            ),
            (
                "invalid: april 31",
                r#"1.2.3.4 - - [31/Apr/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[
                    r#"not nginx-ingress: expected ` [$time_local] "` before the request at byte 42"#,
                ],
            ),
            (
                "invalid: no dash after the address",
                r#"1.2.3.4 x - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[r#"not nginx-ingress: expected ` - ` after the client address at byte 7"#],
            ),
            (
                "invalid: an istio line",
                r#"[2020-11-25T21:26:18.409Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0 135 4 4 \"-\" \"curl/7.73.0-DEV\" \"84961386\" \"httpbin:8000\" \"10.44.1.27:80\" outbound|8000||httpbin 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default"#,
                &[r#"not nginx-ingress: expected ` - ` after the client address at byte 26"#],
            ),
            (
                "invalid: empty user",
                r#"1.2.3.4 -  [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.0.0.1:80 1 0.001 200 id"#,
                &[r#"not nginx-ingress: expected the remote user after ` - ` at byte 10"#],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[r#"not nginx-ingress: expected the client address and ` - ` at byte 0"#],
            ),
        ];
        for (name, line, want) in cases {
            let mut fields = Fields::new();
            let outcome = parse(line.as_bytes(), &mut fields);
            assert_eq!(render(outcome, &fields), *want, "case {name:?}");
        }
    }

    /// A mismatch leaves the fields untouched.
    #[test]
    fn mismatch_pushes_nothing() {
        let line =
            r#"1.2.3.4 - - [24/Aug/2020:01:28:53 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\""#;
        let mut fields = Fields::new();
        assert!(parse(line.as_bytes(), &mut fields).is_err());
        assert!(fields.is_empty() && fields.suspect.is_none());
    }
}
