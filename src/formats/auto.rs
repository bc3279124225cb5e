//! `auto`: picks the format of each line from its first bytes, then runs
//! that one parser only.
//!
//! Entry points: [`sniff`] (which format a line looks like), [`parse`]
//! (sniff, then parse), [`parse_as`] (parse with a format chosen in
//! advance). Sniffing never tries a parser: it reads at most the first
//! 128 bytes, plus at most one bounded probe (the first 256 bytes of a
//! JSON line, or the last 512 bytes of an access-log line), so its cost
//! does not depend on the line's length, and a line costs one parser's
//! work, not the sum of all of them.
//!
//! # Sniffing rules
//!
//! The first rule that matches wins.
//!
//! | the line starts with | format | probe |
//! |---|---|---|
//! | `{` | `envoy-json` when the first key is `:authority` (Envoy Gateway's default) or `authority` followed by `bytes_received` (Istio's key order); `json` otherwise | the first 256 bytes |
//! | `[` and a digit | `envoy` (Envoy's or Istio's text layout) | |
//! | `[` and a letter | `apache-error` | |
//! | `<PRI>1 ` | `syslog-rfc5424` | |
//! | `<PRI>` | `syslog-rfc3164` | |
//! | `Lmmdd hh:mm:ss.uuuuuu ` (`L` one of `IWEF`), at the start or after a `: ` in the first 64 bytes | `klog` | |
//! | `yyyy/mm/dd hh:mm:ss [` | `nginx-error` | |
//! | `yyyy/mm/dd hh:mm:ss` | `go-log` | |
//! | `Mmm dd hh:mm:ss ` (English month) | `syslog-rfc3164` | |
//! | a key (letters, digits, `_.-/@`) and `=` | `logfmt` | |
//! | ` [dd/Mmm/yyyy:` within the first 128 bytes | `nginx-ingress` when a quote in the last 512 bytes is followed by ` <digits> <decimal> [`, the request length, time and upstream name; `apache` otherwise | the last 512 bytes |
//! | anything else | none: a mismatch of format `auto` | |
//!
//! The rules look at bytes no client controls: each format's first bytes
//! are written by the program (a time, a bracket, a priority, an address).
//! Combined and common access logs are read with the `apache` names
//! (`host`, `user`), the names ingress-nginx lines also get, and nginx's
//! `main` layout too (the `apache` parser marks it); set the
//! `nginx` format to get fluent-bit's stock `nginx` names. A line whose
//! probe misleads (an ingress-nginx line with more than 512 bytes after
//! its user agent) is read by the other parser, which marks it or refuses
//! it; it is never split silently wrong. JSON that is not an access log
//! keeps every key as `json`; the `envoy-json` parser keeps only access-log
//! keys, so it is chosen only on those key layouts.

use super::{Fields, Mismatch, Pairs, has_shape, quoted_end, trim_line_end};
use super::{
    apache_error, clf, envoy, golog, json, klog, logfmt, nginx_error, nginx_ingress, syslog,
};
use crate::scan;

/// The name of this pseudo-format, in a [`Mismatch`] for a line no rule
/// recognises.
pub const AUTO: &str = "auto";

/// How many leading bytes the prefix rules read at most.
const HEAD: usize = 128;
/// How far into a JSON line the `envoy-json` probe reads.
const JSON_PROBE: usize = 256;
/// How far from the end the `nginx-ingress` probe reads.
const TAIL_PROBE: usize = 512;

/// Every built-in format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// A JSON object ([`json`]).
    Json,
    /// Envoy and Istio JSON access logs ([`envoy::parse_json`]).
    EnvoyJson,
    /// Envoy's and Istio's text access logs ([`envoy::parse_text`]).
    Envoy,
    /// ingress-nginx access logs ([`nginx_ingress`]).
    NginxIngress,
    /// Common, combined and `main` access logs, `apache` names ([`clf::parse`]).
    Apache,
    /// The same, `nginx` names ([`clf::parse_nginx`]).
    Nginx,
    /// Apache httpd error logs ([`apache_error`]).
    ApacheError,
    /// nginx error logs ([`nginx_error`]).
    NginxError,
    /// klog and glog ([`klog`]).
    Klog,
    /// Go's standard `log` package ([`golog`]).
    GoLog,
    /// syslog, RFC 5424 ([`syslog::parse_rfc5424`]).
    Syslog5424,
    /// syslog, RFC 3164 ([`syslog::parse_rfc3164`]).
    Syslog3164,
    /// logfmt ([`logfmt`]).
    Logfmt,
}

impl Format {
    /// Every format, in the order of the table in the module documentation.
    pub const ALL: [Format; 13] = [
        Format::Json,
        Format::EnvoyJson,
        Format::Envoy,
        Format::NginxIngress,
        Format::Apache,
        Format::Nginx,
        Format::ApacheError,
        Format::NginxError,
        Format::Klog,
        Format::GoLog,
        Format::Syslog5424,
        Format::Syslog3164,
        Format::Logfmt,
    ];

    /// The format's name as its parser reports it (`Envoy` covers both
    /// `envoy` and `istio`, reported per line).
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => json::JSON,
            Format::EnvoyJson => envoy::ENVOY_JSON,
            Format::Envoy => envoy::ENVOY,
            Format::NginxIngress => nginx_ingress::NGINX_INGRESS,
            Format::Apache => clf::APACHE,
            Format::Nginx => clf::NGINX,
            Format::ApacheError => apache_error::APACHE_ERROR,
            Format::NginxError => nginx_error::NGINX_ERROR,
            Format::Klog => klog::KLOG,
            Format::GoLog => golog::GO_LOG,
            Format::Syslog5424 => syslog::RFC5424,
            Format::Syslog3164 => syslog::RFC3164,
            Format::Logfmt => logfmt::LOGFMT,
        }
    }
}

/// What a parser produced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// Fields were added to `fields`; the format's name.
    Fields(&'static str),
    /// Pairs were added to `pairs` (logfmt); the format's name.
    Pairs(&'static str),
    /// The line is a JSON object: its text, unescaped once (see [`json`]).
    Object(&'a [u8]),
}

/// The format a line looks like, by the rules in the module
/// documentation; `None` when no rule matches.
pub fn sniff(line: &[u8]) -> Option<Format> {
    let line = trim_line_end(line);
    let first = *line.first()?;
    let second = line.get(1).copied();
    Some(match first {
        b'{' => {
            if is_envoy_json(line) {
                Format::EnvoyJson
            } else {
                Format::Json
            }
        }
        b'[' if second.is_some_and(|b| b.is_ascii_digit()) => Format::Envoy,
        b'[' if second.is_some_and(|b| b.is_ascii_alphabetic()) => Format::ApacheError,
        b'<' => {
            let end = super::digits_end(line, 1);
            if end == 1 || line.get(end) != Some(&b'>') {
                return None;
            }
            if line.get(end + 1..end + 3) == Some(b"1 ".as_slice()) {
                Format::Syslog5424
            } else {
                Format::Syslog3164
            }
        }
        _ if is_klog(line) => Format::Klog,
        _ if has_shape(line, 0, b"9999/99/99 99:99:99 [") => Format::NginxError,
        _ if has_shape(line, 0, b"9999/99/99 99:99:99") => Format::GoLog,
        _ if is_bsd_time(line) => Format::Syslog3164,
        _ if is_logfmt(line) => Format::Logfmt,
        _ if has_clf_time(line) => {
            if is_ingress_tail(line) {
                Format::NginxIngress
            } else {
                Format::Apache
            }
        }
        _ => return None,
    })
}

/// Sniffs the line's format and parses it with that format's parser only.
/// A line no rule recognises is a [`Mismatch`] of format [`AUTO`]; a line
/// the chosen parser refuses is that parser's mismatch.
pub fn parse<'a>(
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
    fields: &mut Fields<'a>,
    pairs: &mut Pairs<'a>,
) -> Result<Parsed<'a>, Mismatch> {
    let Some(format) = sniff(line) else {
        return Err(Mismatch {
            format: AUTO,
            expected: "a line of a built-in format (see the sniffing rules)",
            at: 0,
        });
    };
    if format == Format::Apache {
        // Either server's line: `main` is nginx's.
        return clf::parse_sniffed(line, fields).map(Parsed::Fields);
    }
    parse_as(format, line, scratch, fields, pairs)
}

/// Parses the line with `format`'s parser.
pub fn parse_as<'a>(
    format: Format,
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
    fields: &mut Fields<'a>,
    pairs: &mut Pairs<'a>,
) -> Result<Parsed<'a>, Mismatch> {
    let name = match format {
        Format::Json => return json::parse(line, scratch, pairs).map(Parsed::Object),
        Format::Logfmt => return logfmt::parse(line, scratch, pairs).map(Parsed::Pairs),
        Format::EnvoyJson => envoy::parse_json(trim_line_end(line), Some(scratch), fields),
        Format::Envoy => envoy::parse_text(line, fields),
        Format::NginxIngress => nginx_ingress::parse(line, fields),
        Format::Apache => clf::parse(line, fields),
        Format::Nginx => clf::parse_nginx(line, fields),
        Format::ApacheError => apache_error::parse(line, fields),
        Format::NginxError => nginx_error::parse(line, fields),
        Format::Klog => klog::parse(line, fields),
        Format::GoLog => golog::parse(line, fields),
        Format::Syslog5424 => syslog::parse_rfc5424(line, fields),
        Format::Syslog3164 => syslog::parse_rfc3164(line, fields),
    };
    name.map(Parsed::Fields)
}

/// Whether a JSON line has Envoy Gateway's or Istio's access-log key
/// layout: `{":authority"` or `{"authority":"…","bytes_received":`.
fn is_envoy_json(line: &[u8]) -> bool {
    if line.starts_with(b"{\\\":authority\\\":") {
        return true;
    }
    let Some(value) = line.strip_prefix(b"{\\\"authority\\\":\\\"".as_slice()) else {
        return false;
    };
    let window = value.get(..value.len().min(JSON_PROBE)).unwrap_or_default();
    quoted_end(window, 0).is_some_and(|(close, _)| {
        window
            .get(close + 2..)
            .is_some_and(|rest| rest.starts_with(b",\\\"bytes_received\\\":"))
    })
}

/// Whether a klog header starts the line or follows a `: ` in its first
/// 64 bytes.
fn is_klog(line: &[u8]) -> bool {
    let header = |at: usize| {
        line.get(at)
            .is_some_and(|b| matches!(b, b'I' | b'W' | b'E' | b'F'))
            && has_shape(line, at + 1, b"9999 99:99:99.999999 ")
    };
    if header(0) {
        return true;
    }
    // `: ` within the first 64 bytes, its colon found a word at a time.
    let head = line.get(..line.len().min(64)).unwrap_or_default();
    let mut at = 0;
    while let Some(p) = scan::find_in(head, at, head.len(), b':') {
        if head.get(p + 1) == Some(&b' ') && header(p + 2) {
            return true;
        }
        at = p + 1;
    }
    false
}

/// Whether the line starts with an RFC 3164 time, `Mmm dd hh:mm:ss `.
fn is_bsd_time(line: &[u8]) -> bool {
    const MONTHS: [&[u8]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    line.first().is_some_and(u8::is_ascii_uppercase)
        && line.get(..3).is_some_and(|m| MONTHS.contains(&m))
        && [
            b"  9 99:99:99 ".as_slice(),
            b" 99 99:99:99 ",
            b" 9 99:99:99 ",
        ]
        .iter()
        .any(|shape| has_shape(line, 3, shape))
}

/// Whether the line starts with a logfmt key and `=`.
fn is_logfmt(line: &[u8]) -> bool {
    let head = line.get(..line.len().min(HEAD)).unwrap_or_default();
    let key = head
        .iter()
        .position(|&b| !KEY_BYTES.get(usize::from(b)).copied().unwrap_or(false))
        .unwrap_or(head.len());
    key > 0 && line.get(key) == Some(&b'=')
}

/// The bytes of a logfmt key as [`is_logfmt`] reads it: ASCII letters and
/// digits and `_.-/@`, as a table (one lookup a byte).
static KEY_BYTES: [bool; 256] = key_bytes();

#[allow(clippy::indexing_slicing)]
const fn key_bytes() -> [bool; 256] {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'/' | b'@');
        b += 1;
    }
    table
}

/// Whether ` [dd/Mmm/yyyy:` appears in the first 128 bytes.
fn has_clf_time(line: &[u8]) -> bool {
    let head = line.get(..line.len().min(HEAD)).unwrap_or_default();
    let mut at = 0;
    while let Some(p) = super::find_str(head, at, head.len(), b" [") {
        let month = line.get(p + 5..p + 8);
        if has_shape(line, p + 2, b"99/")
            && has_shape(line, p + 8, b"/9999:")
            && month.is_some_and(|m| m.iter().all(u8::is_ascii_alphabetic))
        {
            return true;
        }
        at = p + 1;
    }
    false
}

/// Whether the last quote within the last 512 bytes is followed by
/// ` <digits> <decimal> [`, as the user agent is in ingress-nginx lines.
fn is_ingress_tail(line: &[u8]) -> bool {
    if line.last() == Some(&b'"') {
        return false;
    }
    let from = line.len().saturating_sub(TAIL_PROBE);
    let Some(q) = scan::rfind_in(line, from, line.len(), b'"') else {
        return false;
    };
    let digits = |at: usize, decimal: bool| {
        at + line
            .get(at..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&b| b.is_ascii_digit() || (decimal && b == b'.'))
            .count()
    };
    let length_end = digits(q + 2, false);
    let time_end = digits(length_end + 1, true);
    line.get(q + 1) == Some(&b' ')
        && length_end > q + 2
        && line.get(length_end) == Some(&b' ')
        && time_end > length_end + 1
        && line.get(time_end..time_end + 2) == Some(b" [".as_slice())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::assert_linear;

    /// Sample lines of every format (from each parser's named cases), the
    /// format [`sniff`] must pick, and the format name the parse reports.
    #[test]
    fn sniff_picks_the_right_parser() {
        let cases: &[(&str, Option<Format>, &str)] = &[
            (
                r#"{\"time\":\"2022-11-08T15:28:26.000000000-05:00\",\"level\":\"INFO\",\"msg\":\"hello\",\"count\":3}\n"#,
                Some(Format::Json),
                "json",
            ),
            (
                r#"{\"response_code\":200,\"upstream_host\":\"10.0.0.1:80\"}"#,
                Some(Format::Json),
                "json",
            ),
            (
                r#"{\"authority\":\"httpbin.local.kyma.dev\",\"bytes_received\":0,\"bytes_sent\":442,\"response_code\":200}"#,
                Some(Format::EnvoyJson),
                "envoy-json",
            ),
            (
                r#"{\":authority\":\"reviews:9080\",\"bytes_received\":0,\"response_code\":429}"#,
                Some(Format::EnvoyJson),
                "envoy-json",
            ),
            (
                r#"[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" \"tcp://10.0.2.1:80\""#,
                Some(Format::Envoy),
                "envoy",
            ),
            (
                r#"[2020-11-25T21:26:18.409Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0 135 4 4 \"-\" \"curl/7.73.0-DEV\" \"84961386-6d84-929d-98bd-c5aee93b5c88\" \"httpbin:8000\" \"10.44.1.27:80\" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default"#,
                Some(Format::Envoy),
                "istio",
            ),
            (
                r#"10.220.21.73 - - [11/Sep/2023:07:44:14 +0000] \"GET / HTTP/1.1\" 404 146 \"-\" \"-\" 77 0.002 [upstream-default-backend] [] 127.0.0.1:8181 146 0.001 404 90bb52ccaeab256487893bab7d294261\n"#,
                Some(Format::NginxIngress),
                "nginx-ingress",
            ),
            (
                r#"10.0.0.9 - [10.0.0.9] - - [01/Mar/2018:10:00:00 +0100] \"GET /old HTTP/1.1\" 200 5 \"-\" \"curl\" 70 0.010 [default-web-80] 10.1.1.1:80 5 0.009 200"#,
                Some(Format::NginxIngress),
                "nginx-ingress",
            ),
            (
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326"#,
                Some(Format::Apache),
                "apache",
            ),
            (
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 2326 \"http://www.example.com/start.html\" \"Mozilla/4.08 [en] (Win98; I ;Nav)\""#,
                Some(Format::Apache),
                "apache",
            ),
            (
                r#"2001:db8::1 - - [01/Mar/2024:10:00:00 +0100] \"GET / HTTP/2.0\" 404 153 \"-\" \"curl/8.5.0\" \"203.0.113.7\""#,
                Some(Format::Apache),
                "apache",
            ),
            (
                r#"[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico"#,
                Some(Format::ApacheError),
                "apache-error",
            ),
            (
                r#"2018/09/17 12:19:26 [error] 8#8: *758040 upstream prematurely closed connection while reading upstream, client:, server: _, request: \"GET / HTTP/2.0\", upstream: \"\", host: \"\""#,
                Some(Format::NginxError),
                "nginx-error",
            ),
            (
                r#"ERROR: logging before flag.Parse: E0917 12:19:26.569980 1 streamwatcher.go:109] Unable to decode an event from the watch stream"#,
                Some(Format::Klog),
                "klog",
            ),
            (
                r#"I1025 00:15:15.525108       1 httplog.go:79] GET /api/v1/namespaces/kube-system/pods/metrics-server-v0.3.1-57c75779f-9p8wg: (1.512ms) 200"#,
                Some(Format::Klog),
                "klog",
            ),
            (
                r#"2009/01/23 01:23:23.123123 /a/b/c/d.go:23: message"#,
                Some(Format::GoLog),
                "go-log",
            ),
            (
                r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\"] An application event log entry..."#,
                Some(Format::Syslog5424),
                "syslog-rfc5424",
            ),
            (
                r#"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"#,
                Some(Format::Syslog3164),
                "syslog-rfc3164",
            ),
            (
                r#"Feb  5 17:32:18 10.0.0.99 Use the BFG!"#,
                Some(Format::Syslog3164),
                "syslog-rfc3164",
            ),
            (
                r#"time=\"2018-09-17T12:13:43Z\" level=error msg=\"ERROR: infiniband collector failed\" source=\"collector.go:123\""#,
                Some(Format::Logfmt),
                "logfmt",
            ),
            (
                r#"at=info method=GET path=/ host=mutelight.org fwd=\"124.133.52.161\" dyno=web.2"#,
                Some(Format::Logfmt),
                "logfmt",
            ),
            (r#"Ooops. This shouldn't occer. ERR: 5762"#, None, "auto"),
            (r#"2018-09-17T12:19:26Z INFO starting"#, None, "auto"),
            (r#"<x>y"#, None, "auto"),
            (r#""#, None, "auto"),
        ];
        for (line, want, name) in cases {
            assert_eq!(sniff(line.as_bytes()), *want, "{line}");
            let mut scratch = Vec::new();
            let mut fields = Fields::new();
            let mut pairs = Pairs::new();
            let got = match parse(line.as_bytes(), &mut scratch, &mut fields, &mut pairs) {
                Ok(Parsed::Fields(n) | Parsed::Pairs(n)) => n,
                Ok(Parsed::Object(_)) => json::JSON,
                Err(m) => m.format,
            };
            assert_eq!(got, *name, "{line}");
            if want.is_some() {
                assert!(
                    !fields.is_empty() || !pairs.is_empty() || got == json::JSON,
                    "nothing parsed from {line}"
                );
            }
        }
    }

    /// Every format is reachable through [`parse_as`] and reports its name.
    #[test]
    fn klog_after_a_prefix_is_found_as_a_byte_scan_finds_it() {
        // The rule as first written: every pair of the first 64 bytes.
        let by_pairs = |line: &[u8]| {
            let header = |at: usize| {
                line.get(at)
                    .is_some_and(|b| matches!(b, b'I' | b'W' | b'E' | b'F'))
                    && has_shape(line, at + 1, b"9999 99:99:99.999999 ")
            };
            header(0)
                || line
                    .get(..line.len().min(64))
                    .unwrap_or_default()
                    .windows(2)
                    .enumerate()
                    .any(|(p, pair)| pair == b": " && header(p + 2))
        };
        let klog = "E0917 12:19:26.569980       1 x.go:1] m";
        let mut lines = Vec::new();
        for prefix in 0..70 {
            for sep in [": ", ":", ": :", "::", " "] {
                let head = "a".repeat(prefix);
                lines.push(format!("{head}{sep}{klog}"));
                lines.push(format!("{head}{sep}"));
                lines.push(format!("{head}: b{sep}{klog}"));
            }
        }
        for line in &lines {
            let line = line.as_bytes();
            assert_eq!(
                is_klog(line),
                by_pairs(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }

    #[test]
    fn every_format_has_a_name() {
        for format in Format::ALL {
            assert!(!format.name().is_empty(), "{format:?}");
        }
        let mut scratch = Vec::new();
        let mut fields = Fields::new();
        let mut pairs = Pairs::new();
        let line = br#"127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1"#;
        assert_eq!(
            parse_as(Format::Nginx, line, &mut scratch, &mut fields, &mut pairs),
            Ok(Parsed::Fields("nginx"))
        );
    }

    /// Sniffing costs the same whatever the line's length.
    #[test]
    fn sniffing_is_bounded() {
        let shapes: [(&str, &str, &str); 4] = [
            ("spaces", "", " "),
            ("a long key", "", "k"),
            (
                "access-log head then spaces",
                r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "#,
                " ",
            ),
            (
                "json authority without end",
                r#"{\"authority\":\""#,
                r#"\\\""#,
            ),
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
                    let _ = sniff(line);
                },
            );
        }
    }
}
