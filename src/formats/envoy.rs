//! Envoy and Istio access logs: Envoy's default text format, Istio's
//! default proxy text format, and Envoy/Istio JSON access logs, told apart
//! per line.
//!
//! Entry points: [`parse`] (any of the three), [`parse_with_scratch`] (the
//! same, keeping JSON values that need unescaping), [`parse_text`] and
//! [`parse_json`], and [`parse_text_into`] (the text layouts written into any
//! `Sink`, given the line's quote positions when they are known). The `Ok`
//! of the outcome names the format: [`ENVOY`], [`ISTIO`] or [`ENVOY_JSON`].
//!
//! A line starting with `[` is text; it is Envoy's layout when it ends with
//! the quote that closes `"%UPSTREAM_HOST%"`, Istio's when it ends with the
//! bare `%ROUTE_NAME%` (neither field is client-controlled, so the choice is
//! certain). A line starting with `{` is a JSON access log
//! (`accessLogEncoding: JSON`).
//!
//! # Fields
//!
//! Every field is left out when Envoy wrote `-` (or, in JSON, `null`, `"-"`
//! or `""`). Integers that are not digits or do not fit an `i64` are left
//! out and the line is marked `out-of-range`. Addresses are kept as written
//! and, when they are `ip:port` or `[ipv6]:port`, also split into `_ip`
//! (text, IPv6 without brackets) and `_port` (integer); other forms
//! (`envoy://…`, `tcp://…`, a socket path) are kept whole only.
//!
//! ## `envoy`: Envoy's default format
//!
//! `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `start_time` | string (RFC 3339 UTC) | request (TCP: connection) start | `%START_TIME%` |
//! | `method` | string | request method, client-controlled | `%REQ(:METHOD)%` |
//! | `path` | string | request path, client-controlled | `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%` |
//! | `protocol` | string | `HTTP/1.1`, `HTTP/2`, `HTTP/3` | `%PROTOCOL%` |
//! | `code` | integer | response code, 0 if none was sent | `%RESPONSE_CODE%` |
//! | `response_flags` | string | short flags such as `UH`, `UF,URX` | `%RESPONSE_FLAGS%` |
//! | `bytes_received` | integer | body bytes received | `%BYTES_RECEIVED%` |
//! | `bytes_sent` | integer | body bytes sent | `%BYTES_SENT%` |
//! | `duration` | integer | total duration, ms | `%DURATION%` |
//! | `x_envoy_upstream_service_time` | integer | time spent upstream, ms | `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%` |
//! | `x_forwarded_for` | string | X-Forwarded-For, client-controlled | `%REQ(X-FORWARDED-FOR)%` |
//! | `user_agent` | string | User-Agent, client-controlled | `%REQ(USER-AGENT)%` |
//! | `request_id` | string | X-Request-ID, client-controlled | `%REQ(X-REQUEST-ID)%` |
//! | `authority` | string | :authority / Host, client-controlled | `%REQ(:AUTHORITY)%` |
//! | `upstream_host` | string | upstream address | `%UPSTREAM_HOST%` |
//! | `upstream_host_ip` | string | its IP | (split) |
//! | `upstream_host_port` | integer | its port | (split) |
//!
//! ## `istio`: Istio's default proxy format (`accessLogEncoding: TEXT`)
//!
//! `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%`
//! (Istio's `EnvoyTextLogFormat`, pilot/pkg/model/telemetry_logging.go;
//! older releases wrote `%UPSTREAM_CLUSTER%`, the same token here.)
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `start_time` | string (RFC 3339 UTC) | request (TCP: connection) start | `%START_TIME%` |
//! | `method` | string | request method, client-controlled | `%REQ(:METHOD)%` |
//! | `path` | string | request path, client-controlled | `%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%` |
//! | `protocol` | string | `HTTP/1.1`, `HTTP/2`, `HTTP/3` | `%PROTOCOL%` |
//! | `response_code` | integer | response code, 0 if none was sent | `%RESPONSE_CODE%` |
//! | `response_flags` | string | short flags such as `UH`, `UF,URX` | `%RESPONSE_FLAGS%` |
//! | `response_code_details` | string | who set the code and why (`via_upstream`) | `%RESPONSE_CODE_DETAILS%` |
//! | `connection_termination_details` | string | why Envoy closed the connection | `%CONNECTION_TERMINATION_DETAILS%` |
//! | `upstream_transport_failure_reason` | string | upstream TLS/transport failure | `%UPSTREAM_TRANSPORT_FAILURE_REASON%` |
//! | `bytes_received` | integer | body bytes received | `%BYTES_RECEIVED%` |
//! | `bytes_sent` | integer | body bytes sent | `%BYTES_SENT%` |
//! | `duration` | integer | total duration, ms | `%DURATION%` |
//! | `x_envoy_upstream_service_time` | integer | time spent upstream, ms | `%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%` |
//! | `x_forwarded_for` | string | X-Forwarded-For, client-controlled | `%REQ(X-FORWARDED-FOR)%` |
//! | `user_agent` | string | User-Agent, client-controlled | `%REQ(USER-AGENT)%` |
//! | `x_request_id` | string | X-Request-ID, client-controlled | `%REQ(X-REQUEST-ID)%` |
//! | `authority` | string | :authority / Host, client-controlled | `%REQ(:AUTHORITY)%` |
//! | `upstream_host` | string | upstream address | `%UPSTREAM_HOST%` |
//! | `upstream_host_ip`, `upstream_host_port` | string, integer | its parts | (split) |
//! | `upstream_cluster` | string | upstream cluster (`outbound\|80\|\|svc`) | `%UPSTREAM_CLUSTER_RAW%` |
//! | `upstream_local_address` | string | local address of the upstream connection | `%UPSTREAM_LOCAL_ADDRESS%` |
//! | `upstream_local_address_ip`, `upstream_local_address_port` | string, integer | its parts | (split) |
//! | `downstream_local_address` | string | local address of the downstream connection | `%DOWNSTREAM_LOCAL_ADDRESS%` |
//! | `downstream_local_address_ip`, `downstream_local_address_port` | string, integer | its parts | (split) |
//! | `downstream_remote_address` | string | peer address of the downstream connection | `%DOWNSTREAM_REMOTE_ADDRESS%` |
//! | `downstream_remote_address_ip`, `downstream_remote_address_port` | string, integer | its parts | (split) |
//! | `requested_server_name` | string | TLS SNI, client-controlled | `%REQUESTED_SERVER_NAME%` |
//! | `route_name` | string | matched route | `%ROUTE_NAME%` |
//!
//! ## `envoy-json`: JSON access logs
//!
//! Istio's `accessLogEncoding: JSON` (`EnvoyJSONLogFormatIstio`) and Envoy
//! `json_format` logs with the same keys. The output has the `istio` names
//! and types above whatever the input used: numbers may arrive as JSON
//! numbers (typed JSON) or strings (`"200"`), absent values as `null`,
//! `"-"` or `""`. Input keys are mapped as follows; the columns are
//! JSON key → field:
//!
//! | JSON key | field | JSON key | field |
//! |---|---|---|---|
//! | `start_time` | `start_time` | `upstream_service_time` | `x_envoy_upstream_service_time` |
//! | `method` | `method` | `x_forwarded_for` | `x_forwarded_for` |
//! | `path` | `path` | `user_agent` | `user_agent` |
//! | `protocol` | `protocol` | `request_id` | `x_request_id` |
//! | `response_code` | `response_code` | `authority` | `authority` |
//! | `response_flags` | `response_flags` | `upstream_host` | `upstream_host` (+ split) |
//! | `response_code_details` | `response_code_details` | `upstream_cluster` | `upstream_cluster` |
//! | `connection_termination_details` | `connection_termination_details` | `upstream_local_address` | `upstream_local_address` (+ split) |
//! | `upstream_transport_failure_reason` | `upstream_transport_failure_reason` | `downstream_local_address` | `downstream_local_address` (+ split) |
//! | `bytes_received` | `bytes_received` | `downstream_remote_address` | `downstream_remote_address` (+ split) |
//! | `bytes_sent` | `bytes_sent` | `requested_server_name` | `requested_server_name` |
//! | `duration` | `duration` | `route_name` | `route_name` |
//!
//! Also accepted, for Envoy Gateway's default JSON keys: `x-envoy-origin-path`
//! (→ `path`), `x-envoy-upstream-service-time` and
//! `x_envoy_upstream_service_time` (→ `x_envoy_upstream_service_time`),
//! `x-forwarded-for`, `user-agent`, `x-request-id`/`x_request_id`,
//! `:authority`. Other keys are skipped (they have no place in the schema);
//! the first occurrence of a repeated key wins. A line is `envoy-json` only
//! if it has at least one key that only an access log has (a response code,
//! flag, byte count, upstream or downstream address, cluster or route).
//!
//! # Differences from fluent-bit's stock `envoy` and `istio-envoy-proxy` parsers
//!
//! The field names are the stock regexes' (so dashboards keep working), with
//! these deliberate differences:
//!
//! - Values are typed (integers, RFC 3339 `start_time`) and `-` means the
//!   field is absent; the stock parsers keep strings and `"-"`.
//! - Addresses are also split into `_ip` and `_port`.
//! - Istio: the regex once given as the stock `istio-envoy-proxy` has
//!   `"(?<authority>[^ ]*)"` without its opening quote, so it captured
//!   `"host`, and wrote `%UPSTREAM_TRANSPORT_FAILURE_REASON%` without the
//!   quotes Istio puts around it; current fluent-bit has both fixed. Here
//!   `authority` is the bare host and `upstream_transport_failure_reason`
//!   the text inside its quotes, as Istio's format defines them.
//! - `x_forwarded_for` and `authority` may contain spaces (`10.0.0.1,
//!   10.0.0.2` is a normal XFF); the stock `[^ ]*` fails the whole line on
//!   them.
//! - The stock request-line group, `(?<path>[^\"]*?)(?: +\S*)? (?<protocol>\S+)`,
//!   drops the last word of a path that contains a space (`GET /a b
//!   HTTP/1.1` gives `path` `/a`). Here the path is everything between the
//!   method and the protocol, spaces included (runs of spaces next to the
//!   method and protocol are dropped, as the regex's ` +` does).
//! - A line the stock regexes would split wrongly because a client put
//!   quotes in a header is marked `quote-injection` and only the fields that
//!   are certain are kept (see below); the stock parsers silently misplace
//!   fields or drop the line.
//! - `%REQUESTED_SERVER_NAME%` is treated as client-controlled: it is the
//!   TLS SNI the client sent, and Envoy wrote it unsanitised until
//!   `sanitize_sni_in_access_log`.
//! - The JSON keys are mapped to the `istio` names (`request_id` →
//!   `x_request_id`, `upstream_service_time` →
//!   `x_envoy_upstream_service_time`).
//!
//! # Why a split is certain, or not
//!
//! Envoy writes request headers into the text format as they came, without
//! escaping quotes. The client controls the path, User-Agent,
//! X-Forwarded-For, :authority, X-Request-ID and (TLS) the SNI, so a quote
//! in a line may be Envoy's or the client's. (In the text we see, every
//! quote is the escape `\"`, whoever wrote it.) The parser never guesses:
//!
//! 1. The part between the request line and X-Forwarded-For is written by
//!    Envoy alone: `" CODE FLAGS DETAILS TERM "UTFR" BR BS DUR UST "`
//!    (Istio) or `" CODE FLAGS BR BS DUR UST "` (Envoy). In one left-to-right
//!    pass over the quotes, every run of consecutive quotes (four for Istio,
//!    two for Envoy) is tested against that shape: single spaces, the right
//!    number of space-free tokens, nothing else between the quotes. The true
//!    section always passes, because Envoy writes no quotes and no spaces in
//!    those values (it replaces spaces by `_` in the details and the
//!    transport failure reason) and the test looks at nothing outside them;
//!    the token classes are deliberately loose (any space-free token), so
//!    that no value Envoy may write can make the true section fail while a
//!    forged one passes. A client can forge more such runs, but not remove
//!    the true one.
//! 2. Exactly one run passes: it is the true one, so the request line, the
//!    response code, flags, details, byte counts and durations are certain.
//!    More than one: the request line's end and every field after it are
//!    uncertain; the line is marked `quote-injection` and keeps only
//!    `start_time`, `method` (the first word of the request line), and what
//!    can be read from the right end (below). None: the line is not of this
//!    format.
//! 3. The quoted client fields that follow are separated by `" "`. Each of
//!    the four separators Envoy writes (XFF|UA, UA|ID, ID|authority,
//!    authority|upstream host) is always there; a client can only add more.
//!    So if exactly four occurrences of `" "` follow the section, they are
//!    Envoy's, and every quoted field, the upstream host after them and the
//!    tail are certain. Any other count: the line is marked
//!    `quote-injection` and the client fields are left out.
//! 4. From the right end: Istio's last word is `%ROUTE_NAME%` (config, no
//!    spaces), always certain. Envoy's line ends with `"%UPSTREAM_HOST%"`,
//!    which has no quote inside, so its last two quotes delimit it: certain.
//!    Istio's tail `cluster ula dla dra sni route` is only taken when step 3
//!    holds, because a client SNI with quotes and spaces could forge it; the
//!    first four words after the upstream host are Envoy's, the last is the
//!    route, and the SNI is everything between (it may contain spaces).
//!
//! Cost: the pass takes the quotes from the record's check, which notes
//! where the line's `\"` escapes are while it validates them (up to 48; a
//! line with more is searched a word at a time, eight bytes per step, the
//! quotes collected in batches), and tests each run in a plain loop. A run
//! is first tested on a few bytes next to its quotes (is the last one
//! preceded by a space, are the gaps long enough); only runs that pass are
//! tokenised, one word-at-a-time pass over a gap, and a gap can be
//! tokenised by at most two runs (as the first or the last gap of a
//! section). The request line, the client fields and the tail are then cut
//! with a handful of searches from known positions. Every byte is looked at
//! a bounded number of times, so the work is linear in the line's length
//! whatever the client sent (fluent-bit's regexes are cubic on a path of
//! spaces). The fields go straight into the output's JSON as they are
//! found; a count, a port or a start time already written the way JSON and
//! RFC 3339 write it (`200`, `2020-11-25T21:26:18.409Z`) is copied as it is.
//!
//! # JSON and escaping
//!
//! A JSON access log arrives escaped once more: `{\"path\":\"/a\"}`. A value
//! with no escape of its own (`\\` in what we see) is already valid JSON
//! string content and is returned as a sub-slice of the line. A value with
//! one (a client's `"` arrives as `\\\"`) needs one level of unescaping:
//! [`parse_with_scratch`] writes it into a caller-provided buffer;
//! [`parse`] has none and leaves such values out. Numbers, `null`, `true`
//! and `false` are read directly. Nested objects and arrays are skipped
//! without recursion (the interpreter's stack is 8 KiB).

use super::{
    AddressKeys, AddressNames, Fields, Mismatch, Outcome, RequestLine, Sink, Suspicion, between,
    is_absent, key_table, split_request_line, trim_line_end,
};
use crate::scan;
use crate::time::parse_rfc3339;

/// The format name of Envoy's default text layout.
pub const ENVOY: &str = "envoy";
/// The format name of Istio's default text layout.
pub const ISTIO: &str = "istio";
/// The format name of JSON access logs.
pub const ENVOY_JSON: &str = "envoy-json";

const UPSTREAM_HOST: AddressNames = AddressNames {
    whole: "upstream_host",
    ip: "upstream_host_ip",
    port: "upstream_host_port",
};
const UPSTREAM_LOCAL: AddressNames = AddressNames {
    whole: "upstream_local_address",
    ip: "upstream_local_address_ip",
    port: "upstream_local_address_port",
};
const DOWNSTREAM_LOCAL: AddressNames = AddressNames {
    whole: "downstream_local_address",
    ip: "downstream_local_address_ip",
    port: "downstream_local_address_port",
};
const DOWNSTREAM_REMOTE: AddressNames = AddressNames {
    whole: "downstream_remote_address",
    ip: "downstream_remote_address_ip",
    port: "downstream_remote_address_port",
};

key_table! {
    /// The keys the text layouts write.
    pub(crate) mod keys {
        START_TIME = "start_time",
        METHOD = "method",
        PATH = "path",
        PROTOCOL = "protocol",
        CODE = "code",
        RESPONSE_CODE = "response_code",
        RESPONSE_FLAGS = "response_flags",
        RESPONSE_CODE_DETAILS = "response_code_details",
        CONNECTION_TERMINATION_DETAILS = "connection_termination_details",
        UPSTREAM_TRANSPORT_FAILURE_REASON = "upstream_transport_failure_reason",
        BYTES_RECEIVED = "bytes_received",
        BYTES_SENT = "bytes_sent",
        DURATION = "duration",
        X_ENVOY_UPSTREAM_SERVICE_TIME = "x_envoy_upstream_service_time",
        X_FORWARDED_FOR = "x_forwarded_for",
        USER_AGENT = "user_agent",
        REQUEST_ID = "request_id",
        X_REQUEST_ID = "x_request_id",
        AUTHORITY = "authority",
        UPSTREAM_HOST = "upstream_host",
        UPSTREAM_HOST_IP = "upstream_host_ip",
        UPSTREAM_HOST_PORT = "upstream_host_port",
        UPSTREAM_CLUSTER = "upstream_cluster",
        UPSTREAM_LOCAL_ADDRESS = "upstream_local_address",
        UPSTREAM_LOCAL_ADDRESS_IP = "upstream_local_address_ip",
        UPSTREAM_LOCAL_ADDRESS_PORT = "upstream_local_address_port",
        DOWNSTREAM_LOCAL_ADDRESS = "downstream_local_address",
        DOWNSTREAM_LOCAL_ADDRESS_IP = "downstream_local_address_ip",
        DOWNSTREAM_LOCAL_ADDRESS_PORT = "downstream_local_address_port",
        DOWNSTREAM_REMOTE_ADDRESS = "downstream_remote_address",
        DOWNSTREAM_REMOTE_ADDRESS_IP = "downstream_remote_address_ip",
        DOWNSTREAM_REMOTE_ADDRESS_PORT = "downstream_remote_address_port",
        REQUESTED_SERVER_NAME = "requested_server_name",
        ROUTE_NAME = "route_name",
    }
}

const UPSTREAM_HOST_KEYS: AddressKeys = AddressKeys {
    whole: keys::UPSTREAM_HOST,
    ip: keys::UPSTREAM_HOST_IP,
    port: keys::UPSTREAM_HOST_PORT,
};
const UPSTREAM_LOCAL_KEYS: AddressKeys = AddressKeys {
    whole: keys::UPSTREAM_LOCAL_ADDRESS,
    ip: keys::UPSTREAM_LOCAL_ADDRESS_IP,
    port: keys::UPSTREAM_LOCAL_ADDRESS_PORT,
};
const DOWNSTREAM_LOCAL_KEYS: AddressKeys = AddressKeys {
    whole: keys::DOWNSTREAM_LOCAL_ADDRESS,
    ip: keys::DOWNSTREAM_LOCAL_ADDRESS_IP,
    port: keys::DOWNSTREAM_LOCAL_ADDRESS_PORT,
};
const DOWNSTREAM_REMOTE_KEYS: AddressKeys = AddressKeys {
    whole: keys::DOWNSTREAM_REMOTE_ADDRESS,
    ip: keys::DOWNSTREAM_REMOTE_ADDRESS_IP,
    port: keys::DOWNSTREAM_REMOTE_ADDRESS_PORT,
};

/// Parses one Envoy or Istio access-log line, text or JSON. JSON values
/// that need unescaping (a client field containing `"`, `\` or a control
/// character) are left out; use [`parse_with_scratch`] to keep them.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    match line.first() {
        Some(b'{') => parse_json(line, None, fields),
        _ => parse_text(line, fields),
    }
}

/// Like [`parse`], but JSON values that need one level of unescaping are
/// unescaped into `scratch` (cleared first) instead of being left out.
pub fn parse_with_scratch<'a>(
    line: &'a [u8],
    scratch: &'a mut Vec<u8>,
    fields: &mut Fields<'a>,
) -> Outcome {
    let line = trim_line_end(line);
    match line.first() {
        Some(b'{') => parse_json(line, Some(scratch), fields),
        _ => parse_text(line, fields),
    }
}

// ---------------------------------------------------------------------------
// Text layouts.
// ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Envoy,
    Istio,
}

impl Layout {
    fn name(self) -> &'static str {
        match self {
            Layout::Envoy => ENVOY,
            Layout::Istio => ISTIO,
        }
    }
}

/// The values of a middle section (Envoy's has no details, termination
/// details or transport failure reason: those stay empty).
#[derive(Clone, Copy, Debug, Default)]
struct MiddleValues<'a> {
    code: &'a [u8],
    flags: &'a [u8],
    details: &'a [u8],
    termination: &'a [u8],
    transport_failure: &'a [u8],
    received: &'a [u8],
    sent: &'a [u8],
    duration: &'a [u8],
    upstream_time: &'a [u8],
}

/// The quotes delimiting a middle section: the one closing the request
/// line and the one opening `"%REQ(X-FORWARDED-FOR)%"`.
#[derive(Clone, Copy, Debug)]
struct Middle {
    request_close: usize,
    xff_open: usize,
}

/// What the single pass over the quotes found.
#[derive(Debug, Default)]
struct Pass<'a> {
    /// How many runs of quotes have the middle section's shape.
    candidates: u32,
    /// The first of them, with its values.
    middle: Option<(Middle, MiddleValues<'a>)>,
    /// The `" "` separators after the first candidate (first four kept).
    separators: [usize; 4],
    /// How many separators follow the first candidate, counting stops at 5.
    separator_count: usize,
    /// The last two quotes of the line.
    last: Option<usize>,
    second_last: Option<usize>,
}

/// Whether the quote at `q` starts a `" "` separator (`"`, space, `\"`).
#[inline(always)]
fn is_separator(line: &[u8], q: usize) -> bool {
    line.get(q..).and_then(<[u8]>::first_chunk::<4>) == Some(b"\" \\\"")
}

/// Whether the byte at `at` (if any) is a space.
#[inline(always)]
fn space_at(line: &[u8], at: usize) -> bool {
    line.get(at) == Some(&b' ')
}

/// Whether the quotes at `a` and `b` are at least `gap` bytes apart.
#[inline(always)]
fn apart(a: usize, b: usize, gap: usize) -> bool {
    b.checked_sub(a).is_some_and(|d| d >= gap)
}

/// The `N` tokens of the gap between the quotes at `a` and `b` when it is
/// ` t1 t2 … tN `: a space after `a` and before `b`'s backslash, `N + 1`
/// spaces in all, none adjacent (so no token is empty). One word-at-a-time
/// pass over the gap, stopping at one space too many.
#[inline(always)]
fn gap_tokens<const N: usize>(line: &[u8], a: usize, b: usize) -> Option<[&[u8]; N]> {
    let mut spaces = [0usize; 8];
    let mut count = 0usize;
    scan::each_in(line, a + 1, b - 1, b' ', |at| {
        if let Some(slot) = spaces.get_mut(count) {
            *slot = at;
        }
        count += 1;
        count <= N + 1
    });
    if count != N + 1 || spaces.first() != Some(&(a + 1)) || spaces.get(N) != Some(&(b - 2)) {
        return None;
    }
    let mut out: [&[u8]; N] = [&[]; N];
    for (slot, pair) in out.iter_mut().zip(spaces.windows(2)) {
        let [start, end] = *pair else {
            return None;
        };
        *slot = line.get(start + 1..end).filter(|t| !t.is_empty())?;
    }
    Some(out)
}

/// Whether four consecutive quotes `a` to `d` may delimit Istio's middle
/// section, ` CODE FLAGS DETAILS TERM "UTFR" BR BS DUR UST `, judged on a
/// few bytes next to them; the cheapest and most selective tests come
/// first (`d` must open a field).
#[inline(always)]
fn istio_shaped(line: &[u8], [a, b, c, d]: [usize; 4]) -> bool {
    space_at(line, d.wrapping_sub(2))
        && apart(c, d, 11)
        && apart(a, b, 11)
        && apart(b, c, 2)
        && space_at(line, c + 1)
        && space_at(line, a + 1)
}

/// Istio's middle section over four consecutive quotes that passed
/// [`istio_shaped`]: its gaps tokenised.
#[inline(never)]
fn istio_middle(line: &[u8], [a, b, c, d]: [usize; 4]) -> Option<MiddleValues<'_>> {
    let [received, sent, duration, upstream_time] = gap_tokens::<4>(line, c, d)?;
    let [code, flags, details, termination] = gap_tokens::<4>(line, a, b)?;
    Some(MiddleValues {
        code,
        flags,
        details,
        termination,
        transport_failure: between(line, b, c)?,
        received,
        sent,
        duration,
        upstream_time,
    })
}

/// Whether consecutive quotes `a` and `b` may delimit Envoy's middle
/// section, ` CODE FLAGS BR BS DUR UST `.
#[inline(always)]
fn envoy_shaped(line: &[u8], a: usize, b: usize) -> bool {
    space_at(line, b.wrapping_sub(2)) && apart(a, b, 15) && space_at(line, a + 1)
}

/// Envoy's middle section between quotes that passed [`envoy_shaped`].
#[inline(never)]
fn envoy_middle(line: &[u8], a: usize, b: usize) -> Option<MiddleValues<'_>> {
    let [code, flags, received, sent, duration, upstream_time] = gap_tokens::<6>(line, a, b)?;
    Some(MiddleValues {
        code,
        flags,
        received,
        sent,
        duration,
        upstream_time,
        ..MiddleValues::default()
    })
}

/// How many quote positions the pass collects before testing them.
const BATCH: usize = 32;

/// The state of the single left-to-right pass over the quotes, between
/// batches.
#[derive(Clone, Copy)]
struct Walk {
    /// Separators count only after the first candidate, while it is the
    /// only one (`MAX`: not now).
    separators_after: usize,
    /// The three quotes before the current one, oldest first (`MAX`: none).
    window: (usize, usize, usize),
}

/// Takes the quotes `quotes` (in order, all after `open`) into the pass.
/// The state lives in locals for the loop; the rare events (a candidate, a
/// separator after it) go through `pass`.
#[inline(always)]
fn walk_quotes<'a>(
    line: &'a [u8],
    layout: Layout,
    quotes: impl Iterator<Item = usize>,
    walk: &mut Walk,
    pass: &mut Pass<'a>,
) {
    let (mut w0, mut w1, mut w2) = walk.window;
    let mut separators_after = walk.separators_after;
    for q in quotes {
        if q > separators_after && is_separator(line, q) {
            if let Some(slot) = pass.separators.get_mut(pass.separator_count) {
                *slot = q;
            }
            pass.separator_count = (pass.separator_count + 1).min(5);
        }
        let shaped = match layout {
            Layout::Envoy => envoy_shaped(line, w2, q),
            Layout::Istio => istio_shaped(line, [w0, w1, w2, q]),
        };
        if shaped {
            separators_after = candidate(line, layout, [w0, w1, w2, q], pass, separators_after);
        }
        (w0, w1, w2) = (w1, w2, q);
    }
    walk.window = (w0, w1, w2);
    walk.separators_after = separators_after;
}

/// A run of quotes ending at `run[3]` that has the middle section's shape
/// on its few bytes: tokenised, and counted if it is one. Returns where
/// separators count from now on.
#[inline(never)]
fn candidate<'a>(
    line: &'a [u8],
    layout: Layout,
    [w0, w1, w2, q]: [usize; 4],
    pass: &mut Pass<'a>,
    separators_after: usize,
) -> usize {
    let (request_close, values) = match layout {
        Layout::Envoy => (w2, envoy_middle(line, w2, q)),
        Layout::Istio => (w0, istio_middle(line, [w0, w1, w2, q])),
    };
    let Some(values) = values else {
        return separators_after;
    };
    pass.candidates += 1;
    if pass.middle.is_some() {
        return usize::MAX;
    }
    let middle = Middle {
        request_close,
        xff_open: q,
    };
    pass.middle = Some((middle, values));
    q
}

/// The single left-to-right pass over the quotes after the one at `open`.
/// The quotes come from `quotes` (the line's quote positions, all of them,
/// as [`crate::record::members_indexed`] found them) or, without it, a
/// batch at a time from the word-at-a-time search; each is tested in a
/// plain loop.
fn scan_quotes<'a>(
    line: &'a [u8],
    open: usize,
    layout: Layout,
    quotes: Option<&[u32]>,
    pass: &mut Pass<'a>,
) {
    let mut walk = Walk {
        separators_after: usize::MAX,
        window: (usize::MAX, usize::MAX, usize::MAX),
    };
    match quotes {
        Some(quotes) => {
            let after_open = quotes
                .iter()
                .map(|&q| q as usize)
                .skip_while(|&q| q <= open)
                .take_while(|&q| q < line.len());
            walk_quotes(line, layout, after_open, &mut walk, pass);
        }
        None => {
            let mut batch = [0usize; BATCH];
            let mut from = open + 1;
            loop {
                let mut count = 0usize;
                let mut resume = None;
                scan::each_in(line, from, line.len(), b'"', |q| {
                    match batch.get_mut(count) {
                        Some(slot) => {
                            *slot = q;
                            count += 1;
                            true
                        }
                        None => {
                            resume = Some(q);
                            false
                        }
                    }
                });
                let found = batch.get(..count).unwrap_or_default().iter().copied();
                walk_quotes(line, layout, found, &mut walk, pass);
                match resume {
                    Some(q) => from = q,
                    None => break,
                }
            }
        }
    }
    let (_, w1, w2) = walk.window;
    let known = |q: usize| (q != usize::MAX).then_some(q);
    pass.last = known(w2);
    pass.second_last = known(w1);
}

/// Parses a text line (Envoy's or Istio's layout, chosen by its last byte).
pub fn parse_text<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    parse_text_into(line, None, fields)
}

/// [`parse_text`] into any [`Sink`], given the positions of the line's
/// quotes (every `"` of a `\"` escape) when they are known.
#[inline(always)]
pub fn parse_text_into<'a, S: Sink<'a>>(
    line: &'a [u8],
    quotes: Option<&[u32]>,
    sink: &mut S,
) -> Outcome {
    let line = trim_line_end(line);
    let layout = if line.last() == Some(&b'"') {
        Layout::Envoy
    } else {
        Layout::Istio
    };
    let format = layout.name();
    let mismatch = |expected: &'static str, at: usize| {
        Err(Mismatch {
            format,
            expected,
            at,
        })
    };

    if line.first() != Some(&b'[') {
        return mismatch("`[` opening the start time", 0);
    }
    let Some(close) = scan::find_in(line, 0, line.len(), b']') else {
        return mismatch("`]` closing the start time", line.len());
    };
    let start = line.get(1..close).unwrap_or_default();
    if line.get(close + 1..close + 4) != Some(b" \\\"".as_slice()) {
        return mismatch("` \"` opening the request line", close + 1);
    }
    let open = close + 3;
    let mut pass = Pass::default();
    scan_quotes(line, open, layout, quotes, &mut pass);

    let Some((middle, values)) = pass.middle else {
        return mismatch("the response code section after the request line", open + 1);
    };
    if pass.candidates > 1 {
        return Ok(ambiguous(line, layout, open, start, &pass, sink));
    }
    let request = split_request_line(line, open + 1, middle.request_close - 1, false);
    if request.protocol.is_empty() {
        return mismatch("method, path and protocol", open + 1);
    }
    match layout {
        Layout::Envoy => Ok(envoy_line(
            line, start, request, middle, values, &pass, sink,
        )),
        Layout::Istio => istio_line(line, start, request, middle, values, &pass, sink),
    }
}

/// The four quoted client fields between the middle section and the
/// upstream host, and where the upstream host starts, when exactly four
/// separators follow the middle section.
fn client_fields<'a>(
    line: &'a [u8],
    middle: Middle,
    pass: &Pass<'_>,
) -> Option<([&'a [u8]; 4], usize)> {
    if pass.separator_count != 4 {
        return None;
    }
    let [s1, s2, s3, s4] = pass.separators;
    let xff = between(line, middle.xff_open, s1)?;
    let ua = between(line, s1 + 3, s2)?;
    let id = between(line, s2 + 3, s3)?;
    let authority = between(line, s3 + 3, s4)?;
    Some(([xff, ua, id, authority], s4 + 4))
}

#[inline(always)]
fn push_start<'a, S: Sink<'a>>(sink: &mut S, start: &'a [u8]) {
    if !is_absent(start) {
        sink.rfc3339(keys::START_TIME, start);
    }
}

#[inline(always)]
fn push_request<'a, S: Sink<'a>>(sink: &mut S, request: RequestLine<'a>) {
    sink.text(keys::METHOD, request.method);
    sink.text(keys::PATH, request.path);
    sink.text(keys::PROTOCOL, request.protocol);
}

#[inline(always)]
fn envoy_line<'a, S: Sink<'a>>(
    line: &'a [u8],
    start: &'a [u8],
    request: RequestLine<'a>,
    middle: Middle,
    values: MiddleValues<'a>,
    pass: &Pass<'_>,
    sink: &mut S,
) -> &'static str {
    // Certain only if the fourth separator opens the upstream host, which
    // the line's last two quotes delimit.
    let client = client_fields(line, middle, pass)
        .filter(|&(_, host_start)| pass.second_last == Some(host_start - 1));
    push_start(sink, start);
    push_request(sink, request);
    sink.count(keys::CODE, values.code);
    sink.text(keys::RESPONSE_FLAGS, values.flags);
    sink.count(keys::BYTES_RECEIVED, values.received);
    sink.count(keys::BYTES_SENT, values.sent);
    sink.count(keys::DURATION, values.duration);
    sink.count(keys::X_ENVOY_UPSTREAM_SERVICE_TIME, values.upstream_time);
    match client {
        Some(([xff, ua, id, authority], _)) => {
            sink.text(keys::X_FORWARDED_FOR, xff);
            sink.text(keys::USER_AGENT, ua);
            sink.text(keys::REQUEST_ID, id);
            sink.text(keys::AUTHORITY, authority);
        }
        None => sink.flag(Suspicion::QuoteInjection),
    }
    push_envoy_upstream_host(line, pass, sink);
    ENVOY
}

/// Envoy's `"%UPSTREAM_HOST%"`, read from the right end: the line's last two
/// quotes, the first of which must close a `" "` separator.
#[inline(always)]
fn push_envoy_upstream_host<'a, S: Sink<'a>>(line: &'a [u8], pass: &Pass<'_>, sink: &mut S) {
    let (Some(open), Some(close)) = (pass.second_last, pass.last) else {
        return;
    };
    let separated = open.checked_sub(3).is_some_and(|q| is_separator(line, q));
    if let Some(host) = between(line, open, close).filter(|_| separated && close + 1 == line.len())
    {
        sink.address(UPSTREAM_HOST_KEYS, host);
    }
}

/// Istio's tail after the upstream host's closing quote:
/// ` cluster ula dla dra sni route`, the SNI possibly containing spaces.
struct IstioTail<'a> {
    cluster: &'a [u8],
    upstream_local: &'a [u8],
    downstream_local: &'a [u8],
    downstream_remote: &'a [u8],
    sni: &'a [u8],
    route: &'a [u8],
}

/// Cuts the tail after the upstream host's closing quote at `close`: four
/// words, then the SNI and the route around the line's last space. The
/// first five spaces are found in one word-at-a-time pass, the last one
/// from the end.
fn istio_tail(line: &[u8], close: usize) -> Option<IstioTail<'_>> {
    if !space_at(line, close + 1) {
        return None;
    }
    let mut spaces = [0usize; 5];
    let mut count = 0usize;
    scan::each_in(line, close + 1, line.len(), b' ', |at| {
        if let Some(slot) = spaces.get_mut(count) {
            *slot = at;
        }
        count += 1;
        count < spaces.len()
    });
    if count < spaces.len() {
        return None;
    }
    let [s0, s1, s2, s3, s4] = spaces;
    let word = |a: usize, b: usize| line.get(a + 1..b).filter(|w| !w.is_empty());
    let (cluster, upstream_local) = (word(s0, s1)?, word(s1, s2)?);
    let (downstream_local, downstream_remote) = (word(s2, s3)?, word(s3, s4)?);
    let start = s4 + 1;
    let last = scan::rfind_in(line, start, line.len(), b' ')?;
    Some(IstioTail {
        cluster,
        upstream_local,
        downstream_local,
        downstream_remote,
        sni: line.get(start..last)?,
        route: line.get(last + 1..)?,
    })
}

/// Istio's `%ROUTE_NAME%`: the line's last word, always certain.
fn last_word(line: &[u8]) -> &[u8] {
    let from = scan::rfind_in(line, 0, line.len(), b' ').map_or(0, |p| p + 1);
    line.get(from..).unwrap_or_default()
}

#[inline(always)]
fn istio_line<'a, S: Sink<'a>>(
    line: &'a [u8],
    start: &'a [u8],
    request: RequestLine<'a>,
    middle: Middle,
    values: MiddleValues<'a>,
    pass: &Pass<'_>,
    sink: &mut S,
) -> Outcome {
    let client = match client_fields(line, middle, pass) {
        Some((quoted, host_start)) => {
            // The upstream host has no quote: the next one closes it.
            let close = scan::find_in(line, host_start, line.len(), b'"');
            let Some((close, tail)) = close.and_then(|c| Some((c, istio_tail(line, c)?))) else {
                return Err(Mismatch {
                    format: ISTIO,
                    expected: "cluster, three addresses, server name and route after the upstream host",
                    at: host_start,
                });
            };
            let host = between(line, host_start - 1, close).unwrap_or_default();
            Some((quoted, host, tail))
        }
        None => None,
    };
    push_start(sink, start);
    push_request(sink, request);
    sink.count(keys::RESPONSE_CODE, values.code);
    sink.text(keys::RESPONSE_FLAGS, values.flags);
    sink.text(keys::RESPONSE_CODE_DETAILS, values.details);
    sink.text(keys::CONNECTION_TERMINATION_DETAILS, values.termination);
    sink.text(
        keys::UPSTREAM_TRANSPORT_FAILURE_REASON,
        values.transport_failure,
    );
    sink.count(keys::BYTES_RECEIVED, values.received);
    sink.count(keys::BYTES_SENT, values.sent);
    sink.count(keys::DURATION, values.duration);
    sink.count(keys::X_ENVOY_UPSTREAM_SERVICE_TIME, values.upstream_time);
    match client {
        Some(([xff, ua, id, authority], host, tail)) => {
            sink.text(keys::X_FORWARDED_FOR, xff);
            sink.text(keys::USER_AGENT, ua);
            sink.text(keys::X_REQUEST_ID, id);
            sink.text(keys::AUTHORITY, authority);
            sink.address(UPSTREAM_HOST_KEYS, host);
            sink.text(keys::UPSTREAM_CLUSTER, tail.cluster);
            sink.address(UPSTREAM_LOCAL_KEYS, tail.upstream_local);
            sink.address(DOWNSTREAM_LOCAL_KEYS, tail.downstream_local);
            sink.address(DOWNSTREAM_REMOTE_KEYS, tail.downstream_remote);
            sink.text(keys::REQUESTED_SERVER_NAME, tail.sni);
            sink.text(keys::ROUTE_NAME, tail.route);
        }
        None => {
            sink.flag(Suspicion::QuoteInjection);
            sink.text(keys::ROUTE_NAME, last_word(line));
        }
    }
    Ok(ISTIO)
}

/// More than one run of quotes looks like the middle section: keep only the
/// start time, the method and what the right end makes certain.
#[inline(always)]
fn ambiguous<'a, S: Sink<'a>>(
    line: &'a [u8],
    layout: Layout,
    open: usize,
    start: &'a [u8],
    pass: &Pass<'_>,
    sink: &mut S,
) -> &'static str {
    sink.flag(Suspicion::QuoteInjection);
    push_start(sink, start);
    // The method is the request line's first word, when no quote comes
    // before its end (no genuine method contains one).
    let from = open + 1;
    let space = scan::find_in(line, from, line.len(), b' ');
    if let Some(space) = space.filter(|&s| scan::find_in(line, from, s, b'"').is_none()) {
        sink.text(keys::METHOD, line.get(from..space).unwrap_or_default());
    }
    match layout {
        Layout::Envoy => push_envoy_upstream_host(line, pass, sink),
        Layout::Istio => sink.text(keys::ROUTE_NAME, last_word(line)),
    }
    layout.name()
}

// ---------------------------------------------------------------------------
// JSON layout.
// ---------------------------------------------------------------------------

/// How a JSON value is typed in the output.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Text,
    Count,
    Time,
    Address(AddressNames),
}

/// One output field of the JSON layout, in output order.
struct Slot {
    name: &'static str,
    kind: Kind,
    /// Whether only an access log has this key (used to recognise one).
    distinctive: bool,
}

const fn slot(name: &'static str, kind: Kind, distinctive: bool) -> Slot {
    Slot {
        name,
        kind,
        distinctive,
    }
}

const SLOTS: [Slot; 24] = [
    slot("start_time", Kind::Time, false),
    slot("method", Kind::Text, false),
    slot("path", Kind::Text, false),
    slot("protocol", Kind::Text, false),
    slot("response_code", Kind::Count, true),
    slot("response_flags", Kind::Text, true),
    slot("response_code_details", Kind::Text, true),
    slot("connection_termination_details", Kind::Text, true),
    slot("upstream_transport_failure_reason", Kind::Text, true),
    slot("bytes_received", Kind::Count, true),
    slot("bytes_sent", Kind::Count, true),
    slot("duration", Kind::Count, false),
    slot("x_envoy_upstream_service_time", Kind::Count, true),
    slot("x_forwarded_for", Kind::Text, false),
    slot("user_agent", Kind::Text, false),
    slot("x_request_id", Kind::Text, false),
    slot("authority", Kind::Text, false),
    slot("upstream_host", Kind::Address(UPSTREAM_HOST), true),
    slot("upstream_cluster", Kind::Text, true),
    slot(
        "upstream_local_address",
        Kind::Address(UPSTREAM_LOCAL),
        true,
    ),
    slot(
        "downstream_local_address",
        Kind::Address(DOWNSTREAM_LOCAL),
        true,
    ),
    slot(
        "downstream_remote_address",
        Kind::Address(DOWNSTREAM_REMOTE),
        true,
    ),
    slot("requested_server_name", Kind::Text, true),
    slot("route_name", Kind::Text, true),
];

/// The slot a JSON key fills, if any.
fn slot_of(key: &[u8]) -> Option<usize> {
    Some(match key {
        b"start_time" => 0,
        b"method" => 1,
        b"path" | b"x-envoy-origin-path" => 2,
        b"protocol" => 3,
        b"response_code" => 4,
        b"response_flags" => 5,
        b"response_code_details" => 6,
        b"connection_termination_details" => 7,
        b"upstream_transport_failure_reason" => 8,
        b"bytes_received" => 9,
        b"bytes_sent" => 10,
        b"duration" => 11,
        b"upstream_service_time"
        | b"x_envoy_upstream_service_time"
        | b"x-envoy-upstream-service-time" => 12,
        b"x_forwarded_for" | b"x-forwarded-for" => 13,
        b"user_agent" | b"user-agent" => 14,
        b"request_id" | b"x_request_id" | b"x-request-id" => 15,
        b"authority" | b":authority" => 16,
        b"upstream_host" => 17,
        b"upstream_cluster" => 18,
        b"upstream_local_address" => 19,
        b"downstream_local_address" => 20,
        b"downstream_remote_address" => 21,
        b"requested_server_name" => 22,
        b"route_name" => 23,
        _ => return None,
    })
}

/// A JSON value as found in the line, before typing.
#[derive(Clone, Copy, Debug, Default)]
enum Raw {
    #[default]
    Missing,
    Null,
    /// String content between `start` and `end`; `escaped` when it holds an
    /// escape of its own and so needs one level of unescaping.
    Str {
        start: usize,
        end: usize,
        escaped: bool,
    },
    /// A number or `true`/`false`, as written.
    Scalar {
        start: usize,
        end: usize,
    },
    /// An object or array.
    Nested,
}

/// A cursor over the once-more-escaped JSON text.
struct Cursor<'a> {
    s: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.at += 1;
        }
        hit
    }

    /// Skips JSON whitespace: a space, or a tab, newline or carriage return,
    /// which arrive as the escapes `\t`, `\n`, `\r`.
    fn skip_ws(&mut self) {
        loop {
            match (self.s.get(self.at), self.s.get(self.at + 1)) {
                (Some(b' '), _) => self.at += 1,
                (Some(b'\\'), Some(b't' | b'n' | b'r')) => self.at += 2,
                _ => return,
            }
        }
    }

    /// Reads a string starting at `\"`, up to the `\"` that ends it. Inside,
    /// `\\` starts an escape of the inner JSON, followed by the escaped
    /// character (`\"` and `\\` arrive as two bytes each); any other `\`
    /// starts an escape that is one character of the value (`\u00e9`).
    /// Inner escapes are validated, so unescaping yields valid content.
    fn string(&mut self) -> Option<Raw> {
        if self.s.get(self.at..self.at + 2)? != b"\\\"" {
            return None;
        }
        let start = self.at + 2;
        let mut from = start;
        let mut escaped = false;
        loop {
            let p = scan::find_in(self.s, from, self.s.len(), b'\\')?;
            match self.s.get(p + 1)? {
                b'"' => {
                    self.at = p + 2;
                    return Some(Raw::Str {
                        start,
                        end: p,
                        escaped,
                    });
                }
                b'\\' => {
                    escaped = true;
                    from = match self.s.get(p + 2)? {
                        b'\\' if matches!(self.s.get(p + 3)?, b'"' | b'\\') => p + 4,
                        b'/' | b'b' | b'f' | b'n' | b'r' | b't' => p + 3,
                        b'u' => {
                            let hex = self.s.get(p + 3..p + 7)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            p + 7
                        }
                        _ => return None,
                    };
                }
                _ => from = p + 2,
            }
        }
    }

    /// Reads a number in JSON's grammar, as written.
    fn number(&mut self) -> Option<Raw> {
        let start = self.at;
        self.eat(b'-');
        let digits = |c: &mut Self| {
            let from = c.at;
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.at += 1;
            }
            c.at > from
        };
        if self.eat(b'0') {
            // A leading zero stands alone.
        } else if !digits(self) {
            return None;
        }
        if self.eat(b'.') && !digits(self) {
            return None;
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if !digits(self) {
                return None;
            }
        }
        Some(Raw::Scalar {
            start,
            end: self.at,
        })
    }

    /// Reads a scalar or skips a container, returning what was there.
    fn value(&mut self) -> Option<Raw> {
        match self.peek()? {
            b'\\' => self.string(),
            b'-' | b'0'..=b'9' => self.number(),
            b'{' | b'[' => self.skip_container().map(|()| Raw::Nested),
            _ => {
                let start = self.at;
                let literal = |word: &[u8]| self.s.get(start..start + word.len()) == Some(word);
                let (len, raw) = if literal(b"null") {
                    (4, Raw::Null)
                } else if literal(b"true") {
                    (
                        4,
                        Raw::Scalar {
                            start,
                            end: start + 4,
                        },
                    )
                } else if literal(b"false") {
                    (
                        5,
                        Raw::Scalar {
                            start,
                            end: start + 5,
                        },
                    )
                } else {
                    return None;
                };
                self.at = start + len;
                Some(raw)
            }
        }
    }

    /// Skips an object or array with a depth counter (no recursion),
    /// stepping over strings so their brackets do not count.
    fn skip_container(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            self.skip_ws();
            match self.peek()? {
                b'{' | b'[' => {
                    depth += 1;
                    self.at += 1;
                }
                b'}' | b']' => {
                    depth = depth.checked_sub(1)?;
                    self.at += 1;
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'\\' => {
                    self.string()?;
                }
                _ => self.at += 1,
            }
        }
    }
}

/// Appends `src`, the content of a string needing unescaping, to `out` with
/// one level of escaping removed: `\\\"` becomes `\"`, `\\\\` becomes `\\`,
/// `\\n` becomes `\n`, `\\u00e9` becomes `\u00e9`; every other byte and
/// escape is kept. `src` was validated by [`Cursor::string`], so the result
/// is valid JSON string content.
fn unescape_into(src: &[u8], out: &mut Vec<u8>) {
    let mut copied = 0;
    let mut from = 0;
    while let Some(p) = scan::find_in(src, from, src.len(), b'\\') {
        if src.get(p + 1) == Some(&b'\\') {
            out.extend_from_slice(src.get(copied..p).unwrap_or_default());
            let skip = if src.get(p + 2) == Some(&b'\\') { 2 } else { 1 };
            copied = p + skip;
            from = p + skip + 2;
        } else {
            from = p + 2;
        }
    }
    out.extend_from_slice(src.get(copied..).unwrap_or_default());
}

/// Parses a JSON access-log line; see the module documentation. `scratch`,
/// when given, is cleared and receives the values that need unescaping.
pub fn parse_json<'a>(
    line: &'a [u8],
    scratch: Option<&'a mut Vec<u8>>,
    fields: &mut Fields<'a>,
) -> Outcome {
    let line = trim_line_end(line);
    let raws = match read_object(line) {
        Ok(raws) => raws,
        Err(at) => {
            return Err(Mismatch {
                format: ENVOY_JSON,
                expected: "a JSON object",
                at,
            });
        }
    };
    let recognised = raws
        .iter()
        .zip(SLOTS.iter())
        .any(|(raw, slot)| slot.distinctive && !matches!(raw, Raw::Missing));
    if !recognised {
        return Err(Mismatch {
            format: ENVOY_JSON,
            expected: "an access-log key (response_code, upstream_host, ...)",
            at: 0,
        });
    }

    // Unescape what needs it, then share the buffer for the field values.
    let mut unescaped = [(0usize, 0usize); SLOTS.len()];
    let shared: &'a [u8] = match scratch {
        Some(buf) => {
            buf.clear();
            for (raw, range) in raws.iter().zip(unescaped.iter_mut()) {
                if let Raw::Str {
                    start,
                    end,
                    escaped: true,
                } = *raw
                {
                    let begin = buf.len();
                    unescape_into(line.get(start..end).unwrap_or_default(), buf);
                    *range = (begin, buf.len());
                }
            }
            let buf: &'a Vec<u8> = buf;
            buf.as_slice()
        }
        None => &[],
    };

    for ((raw, slot), range) in raws.iter().zip(SLOTS.iter()).zip(unescaped) {
        let text: Option<&'a [u8]> = match *raw {
            Raw::Str {
                start,
                end,
                escaped: false,
            } => line.get(start..end),
            Raw::Str { escaped: true, .. } => {
                shared.get(range.0..range.1).filter(|_| range.1 > range.0)
            }
            _ => None,
        };
        match (slot.kind, *raw, text) {
            (_, Raw::Missing | Raw::Null, _) => {}
            (Kind::Text, Raw::Scalar { start, end }, _) => {
                fields.push_text(slot.name, line.get(start..end).unwrap_or_default());
            }
            (Kind::Count, Raw::Scalar { start, end }, _) => {
                fields.push_count(slot.name, line.get(start..end).unwrap_or_default());
            }
            (Kind::Text, Raw::Str { .. }, Some(text)) => fields.push_text(slot.name, text),
            (Kind::Count, Raw::Str { .. }, Some(text)) => fields.push_count(slot.name, text),
            (Kind::Time, Raw::Str { .. }, Some(text)) => {
                if !is_absent(text) {
                    fields.push_time(slot.name, parse_rfc3339(text));
                }
            }
            (Kind::Address(names), Raw::Str { .. }, Some(text)) => {
                fields.push_address(names, text);
            }
            // An escaped string without a scratch buffer: left out.
            (Kind::Text | Kind::Address(_), Raw::Str { .. }, None) => {}
            _ => fields.flag(Suspicion::OutOfRange),
        }
    }
    Ok(ENVOY_JSON)
}

/// Reads the top-level object into one raw value per slot; `Err` carries
/// the byte offset where the text stopped being a JSON object.
fn read_object(line: &[u8]) -> Result<[Raw; SLOTS.len()], usize> {
    let mut raws = [Raw::Missing; SLOTS.len()];
    let mut c = Cursor { s: line, at: 0 };
    c.skip_ws();
    if !c.eat(b'{') {
        return Err(c.at);
    }
    c.skip_ws();
    if !c.eat(b'}') {
        loop {
            c.skip_ws();
            let Some(Raw::Str { start, end, .. }) = c.string() else {
                return Err(c.at);
            };
            c.skip_ws();
            if !c.eat(b':') {
                return Err(c.at);
            }
            c.skip_ws();
            let target = slot_of(line.get(start..end).unwrap_or_default())
                .and_then(|i| raws.get_mut(i))
                .filter(|raw| matches!(raw, Raw::Missing));
            let value = c.value().ok_or(c.at)?;
            if let Some(raw) = target {
                *raw = value;
            }
            c.skip_ws();
            if c.eat(b',') {
                continue;
            }
            if c.eat(b'}') {
                break;
            }
            return Err(c.at);
        }
    }
    c.skip_ws();
    if c.at == line.len() {
        Ok(raws)
    } else {
        Err(c.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::render;

    /// Named cases: a line as it sits in the record's JSON string, whether
    /// a scratch buffer is given, and the exact result. Invalid lines
    /// included.
    #[test]
    fn named_cases() {
        let cases: &[(&str, bool, &str, &[&str])] = &[
            (
                "istio doc sample, inbound, with SNI and docker newline",
                false,
                r#"[2020-11-25T21:26:18.409Z] \"GET /status/418 HTTP/1.1\" 418 - via_upstream - \"-\" 0 135 3 1 \"-\" \"curl/7.73.0-DEV\" \"84961386-6d84-929d-98bd-c5aee93b5c88\" \"httpbin:8000\" \"127.0.0.1:80\" inbound|8000|| 127.0.0.1:41854 10.44.1.27:80 10.44.1.23:37652 outbound_.8000_._.httpbin.foo.svc.cluster.local default\n"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2020-11-25T21:26:18.409Z"#,
                    r#"method:"GET""#,
                    r#"path:"/status/418""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:418"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:135"#,
                    r#"duration:3"#,
                    r#"x_envoy_upstream_service_time:1"#,
                    r#"user_agent:"curl/7.73.0-DEV""#,
                    r#"x_request_id:"84961386-6d84-929d-98bd-c5aee93b5c88""#,
                    r#"authority:"httpbin:8000""#,
                    r#"upstream_host:"127.0.0.1:80""#,
                    r#"upstream_host_ip:"127.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"inbound|8000||""#,
                    r#"upstream_local_address:"127.0.0.1:41854""#,
                    r#"upstream_local_address_ip:"127.0.0.1""#,
                    r#"upstream_local_address_port:41854"#,
                    r#"downstream_local_address:"10.44.1.27:80""#,
                    r#"downstream_local_address_ip:"10.44.1.27""#,
                    r#"downstream_local_address_port:80"#,
                    r#"downstream_remote_address:"10.44.1.23:37652""#,
                    r#"downstream_remote_address_ip:"10.44.1.23""#,
                    r#"downstream_remote_address_port:37652"#,
                    r#"requested_server_name:"outbound_.8000_._.httpbin.foo.svc.cluster.local""#,
                    r#"route_name:"default""#,
                ],
            ),
            (
                "envoy doc sample, tcp:// upstream kept whole",
                false,
                r#"[2016-04-15T20:17:00.310Z] \"POST /api/v1/locations HTTP/2\" 204 - 154 0 226 100 \"10.0.35.28\" \"nsq2http\" \"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2\" \"locations\" \"tcp://10.0.2.1:80\""#,
                &[
                    r#"envoy"#,
                    r#"start_time:@2016-04-15T20:17:00.310Z"#,
                    r#"method:"POST""#,
                    r#"path:"/api/v1/locations""#,
                    r#"protocol:"HTTP/2""#,
                    r#"code:204"#,
                    r#"bytes_received:154"#,
                    r#"bytes_sent:0"#,
                    r#"duration:226"#,
                    r#"x_envoy_upstream_service_time:100"#,
                    r#"x_forwarded_for:"10.0.35.28""#,
                    r#"user_agent:"nsq2http""#,
                    r#"request_id:"cc21d9b0-cf5c-432b-8c7e-98aeb7988cd2""#,
                    r#"authority:"locations""#,
                    r#"upstream_host:"tcp://10.0.2.1:80""#,
                ],
            ),
            (
                "istio tcp entry, envoy:// addresses not split",
                false,
                r#"[2023-11-24T13:21:52.798Z] \"- - -\" 0 - - - \"-\" 813 111152 55 - \"-\" \"-\" \"-\" \"-\" \"185.15.59.224:443\" dynamic_forward_proxy_cluster 172.17.5.170:48262 envoy://sni_listener/ envoy://internal_client_address/ en.wikipedia.org -"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2023-11-24T13:21:52.798Z"#,
                    r#"response_code:0"#,
                    r#"bytes_received:813"#,
                    r#"bytes_sent:111152"#,
                    r#"duration:55"#,
                    r#"upstream_host:"185.15.59.224:443""#,
                    r#"upstream_host_ip:"185.15.59.224""#,
                    r#"upstream_host_port:443"#,
                    r#"upstream_cluster:"dynamic_forward_proxy_cluster""#,
                    r#"upstream_local_address:"172.17.5.170:48262""#,
                    r#"upstream_local_address_ip:"172.17.5.170""#,
                    r#"upstream_local_address_port:48262"#,
                    r#"downstream_local_address:"envoy://sni_listener/""#,
                    r#"downstream_remote_address:"envoy://internal_client_address/""#,
                    r#"requested_server_name:"en.wikipedia.org""#,
                ],
            ),
            (
                "ipv6 addresses, xff list, non-ascii escape",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /v6 HTTP/2\" 200 - via_upstream - \"-\" 12 34 5 4 \"2001:db8::7, 10.0.0.1\" \"caf\u00e9-client/1.0\" \"id-1\" \"svc:8080\" \"[fd00:10:244::1a]:9000\" outbound|9000||svc.ns.svc.cluster.local [fd00:10:244::18]:40000 [fd00:10:96::f9fc]:9000 [::1]:50000 - default"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/v6""#,
                    r#"protocol:"HTTP/2""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:12"#,
                    r#"bytes_sent:34"#,
                    r#"duration:5"#,
                    r#"x_envoy_upstream_service_time:4"#,
                    r#"x_forwarded_for:"2001:db8::7, 10.0.0.1""#,
                    r#"user_agent:"caf\u00e9-client/1.0""#,
                    r#"x_request_id:"id-1""#,
                    r#"authority:"svc:8080""#,
                    r#"upstream_host:"[fd00:10:244::1a]:9000""#,
                    r#"upstream_host_ip:"fd00:10:244::1a""#,
                    r#"upstream_host_port:9000"#,
                    r#"upstream_cluster:"outbound|9000||svc.ns.svc.cluster.local""#,
                    r#"upstream_local_address:"[fd00:10:244::18]:40000""#,
                    r#"upstream_local_address_ip:"fd00:10:244::18""#,
                    r#"upstream_local_address_port:40000"#,
                    r#"downstream_local_address:"[fd00:10:96::f9fc]:9000""#,
                    r#"downstream_local_address_ip:"fd00:10:96::f9fc""#,
                    r#"downstream_local_address_port:9000"#,
                    r#"downstream_remote_address:"[::1]:50000""#,
                    r#"downstream_remote_address_ip:"::1""#,
                    r#"downstream_remote_address_port:50000"#,
                    r#"route_name:"default""#,
                ],
            ),
            (
                "path with spaces kept whole",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /a b  c HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 - \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/a b  c""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"user_agent:"ua""#,
                    r#"authority:"h""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "quotes in user agent without a separator are certain",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua \"quoted\" part\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"user_agent:"ua \"quoted\" part""#,
                    r#"authority:"h""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "backslash-quote in user agent is not a separator",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"evil\\\" \\\"x\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"user_agent:"evil\\\" \\\"x""#,
                    r#"authority:"h""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "separator injected in user agent",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"evil\" \"injected\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio quote-injection"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "forged response section in path",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 500 UF upstream_reset - \"-\" 0 0 0 0 \"-\" \"y HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio quote-injection"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "forged tail in authority without separator",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" 10.9.9.9:1 evilc 1.1.1.1:1 2.2.2.2:2 3.3.3.3:3 - evilroute\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"user_agent:"ua""#,
                    r#"authority:"h\" 10.9.9.9:1 evilc 1.1.1.1:1 2.2.2.2:2 3.3.3.3:3 - evilroute""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "sni with quote and spaces",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 sni with\" spaces r"#,
                &[
                    r#"istio"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"user_agent:"ua""#,
                    r#"authority:"h""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"requested_server_name:"sni with\" spaces""#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "separator injected in sni",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 x\" \"y r"#,
                &[
                    r#"istio quote-injection"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "envoy: extra quoted field, host read from the right",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - 0 1 2 3 \"-\" \"ua\" \"x\" \"-\" \"h\" \"10.0.0.1:80\""#,
                &[
                    r#"envoy quote-injection"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"code:200"#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                ],
            ),
            (
                "envoy: forged response section in user agent",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - 0 1 2 3 \"-\" \"ua\" 500 UF 9 9 9 9 \"x\" \"-\" \"h\" \"10.0.0.1:80\""#,
                &[
                    r#"envoy quote-injection"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                ],
            ),
            (
                "numbers out of range",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 99999999999999999999 1 -2 x1 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[
                    r#"istio out-of-range"#,
                    r#"start_time:@2024-01-02T03:04:05.006Z"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_sent:1"#,
                    r#"user_agent:"ua""#,
                    r#"authority:"h""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "start time not rfc 3339",
                false,
                r#"[yesterday] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 sni.example r"#,
                &[
                    r#"istio out-of-range"#,
                    r#"method:"GET""#,
                    r#"path:"/x""#,
                    r#"protocol:"HTTP/1.1""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:1"#,
                    r#"duration:2"#,
                    r#"x_envoy_upstream_service_time:3"#,
                    r#"user_agent:"ua""#,
                    r#"authority:"h""#,
                    r#"upstream_host:"10.0.0.1:80""#,
                    r#"upstream_host_ip:"10.0.0.1""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"c""#,
                    r#"upstream_local_address:"10.0.0.2:1""#,
                    r#"upstream_local_address_ip:"10.0.0.2""#,
                    r#"upstream_local_address_port:1"#,
                    r#"downstream_local_address:"10.0.0.3:2""#,
                    r#"downstream_local_address_ip:"10.0.0.3""#,
                    r#"downstream_local_address_port:2"#,
                    r#"downstream_remote_address:"10.0.0.4:3""#,
                    r#"downstream_remote_address_ip:"10.0.0.4""#,
                    r#"downstream_remote_address_port:3"#,
                    r#"requested_server_name:"sni.example""#,
                    r#"route_name:"r""#,
                ],
            ),
            (
                "invalid: no start time",
                false,
                r#"2024-01-02 \"GET /x HTTP/1.1\" 200"#,
                &[r#"not istio: expected `[` opening the start time at byte 0"#],
            ),
            (
                "invalid: start time not closed",
                false,
                r#"[2024-01-02T03:04:05.006Z \"GET /x HTTP/1.1\" 200"#,
                &[r#"not istio: expected `]` closing the start time at byte 49"#],
            ),
            (
                "invalid: request line not quoted",
                false,
                r#"[2024-01-02T03:04:05.006Z] GET /x HTTP/1.1 200 - 0 1 2 3"#,
                &[r#"not istio: expected ` "` opening the request line at byte 26"#],
            ),
            (
                "invalid: no response section",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - 0 1 2 3"#,
                &[
                    r#"not istio: expected the response code section after the request line at byte 29"#,
                ],
            ),
            (
                "invalid: empty line",
                false,
                r#""#,
                &[r#"not istio: expected `[` opening the start time at byte 0"#],
            ),
            (
                "invalid: request line of one word",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#,
                &[r#"not istio: expected method, path and protocol at byte 29"#],
            ),
            (
                "invalid: tail cut short",
                false,
                r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1"#,
                &[
                    r#"not istio: expected cluster, three addresses, server name and route after the upstream host at byte 109"#,
                ],
            ),
            (
                "json: istio typed format",
                false,
                r#"{\"authority\":\"httpbin.local.kyma.dev\",\"bytes_received\":0,\"bytes_sent\":442,\"connection_termination_details\":null,\"downstream_local_address\":\"10.42.0.9:8443\",\"downstream_remote_address\":\"10.42.0.1:22564\",\"duration\":15,\"method\":\"GET\",\"path\":\"/headers\",\"protocol\":\"HTTP/2\",\"request_id\":\"b947e4b6-2965-4cca-af90-51e3a1f4673f\",\"requested_server_name\":\"httpbin.local.kyma.dev\",\"response_code\":200,\"response_code_details\":\"via_upstream\",\"response_flags\":\"-\",\"route_name\":null,\"start_time\":\"2026-06-30T09:09:58.374Z\",\"upstream_cluster\":\"outbound|8000||httpbin.test.svc.cluster.local\",\"upstream_host\":\"10.42.0.13:80\",\"upstream_local_address\":\"10.42.0.9:35226\",\"upstream_service_time\":\"14\",\"upstream_transport_failure_reason\":null,\"user_agent\":\"curl/8.5.0\",\"x_forwarded_for\":\"10.42.0.1\"}\n"#,
                &[
                    r#"envoy-json"#,
                    r#"start_time:@2026-06-30T09:09:58.374Z"#,
                    r#"method:"GET""#,
                    r#"path:"/headers""#,
                    r#"protocol:"HTTP/2""#,
                    r#"response_code:200"#,
                    r#"response_code_details:"via_upstream""#,
                    r#"bytes_received:0"#,
                    r#"bytes_sent:442"#,
                    r#"duration:15"#,
                    r#"x_envoy_upstream_service_time:14"#,
                    r#"x_forwarded_for:"10.42.0.1""#,
                    r#"user_agent:"curl/8.5.0""#,
                    r#"x_request_id:"b947e4b6-2965-4cca-af90-51e3a1f4673f""#,
                    r#"authority:"httpbin.local.kyma.dev""#,
                    r#"upstream_host:"10.42.0.13:80""#,
                    r#"upstream_host_ip:"10.42.0.13""#,
                    r#"upstream_host_port:80"#,
                    r#"upstream_cluster:"outbound|8000||httpbin.test.svc.cluster.local""#,
                    r#"upstream_local_address:"10.42.0.9:35226""#,
                    r#"upstream_local_address_ip:"10.42.0.9""#,
                    r#"upstream_local_address_port:35226"#,
                    r#"downstream_local_address:"10.42.0.9:8443""#,
                    r#"downstream_local_address_ip:"10.42.0.9""#,
                    r#"downstream_local_address_port:8443"#,
                    r#"downstream_remote_address:"10.42.0.1:22564""#,
                    r#"downstream_remote_address_ip:"10.42.0.1""#,
                    r#"downstream_remote_address_port:22564"#,
                    r#"requested_server_name:"httpbin.local.kyma.dev""#,
                ],
            ),
            (
                "json: string values and dashes, unknown key skipped",
                false,
                r#"{\"bytes_sent\":\"37\",\"upstream_cluster\":\"outbound|80||payment-service\",\"response_code\":\"203\",\"response_flags\":\"-\",\"duration\":\"27\",\"route_name\":\"-\",\"istio_policy_status\":\"-\",\"start_time\":\"2021-02-03T11:22:33.033Z\"}"#,
                &[
                    r#"envoy-json"#,
                    r#"start_time:@2021-02-03T11:22:33.033Z"#,
                    r#"response_code:203"#,
                    r#"bytes_sent:37"#,
                    r#"duration:27"#,
                    r#"upstream_cluster:"outbound|80||payment-service""#,
                ],
            ),
            (
                "json: envoy gateway keys",
                false,
                r#"{\":authority\":\"reviews:9080\",\"bytes_received\":0,\"response_code\":429,\"response_flags\":\"RL\",\"user-agent\":\"Mozilla/5.0\",\"x-envoy-origin-path\":\"/reviews/0\",\"x-envoy-upstream-service-time\":null,\"x-request-id\":\"4000a69d\",\"x-forwarded-for\":\"10.244.0.30\"}"#,
                &[
                    r#"envoy-json"#,
                    r#"path:"/reviews/0""#,
                    r#"response_code:429"#,
                    r#"response_flags:"RL""#,
                    r#"bytes_received:0"#,
                    r#"x_forwarded_for:"10.244.0.30""#,
                    r#"user_agent:"Mozilla/5.0""#,
                    r#"x_request_id:"4000a69d""#,
                    r#"authority:"reviews:9080""#,
                ],
            ),
            (
                "json: escaped value left out without scratch",
                false,
                r#"{\"response_code\":200,\"user_agent\":\"ua \\\"quoted\\\" \\\\ \\u00e9 \\n end\",\"path\":\"/caf\u00e9\"}"#,
                &[
                    r#"envoy-json"#,
                    r#"path:"/caf\u00e9""#,
                    r#"response_code:200"#,
                ],
            ),
            (
                "json: escaped value unescaped once with scratch",
                true,
                r#"{\"response_code\":200,\"user_agent\":\"ua \\\"quoted\\\" \\\\ \\u00e9 \\n end\",\"path\":\"/caf\u00e9\"}"#,
                &[
                    r#"envoy-json"#,
                    r#"path:"/caf\u00e9""#,
                    r#"response_code:200"#,
                    r#"user_agent:"ua \"quoted\" \\ \u00e9 \n end""#,
                ],
            ),
            (
                "json: nested values skipped or out of range",
                false,
                r#"{\"response_code\":200,\"extra\":{\"a\":[1,2,{\"b\":\"}]\"}],\"c\":null},\"duration\":{\"x\":1}}"#,
                &[r#"envoy-json out-of-range"#, r#"response_code:200"#],
            ),
            (
                "json: wrong types left out",
                false,
                r#"{\"protocol\": \"HTTP/1.1\", \"response_code\": -5, \"bytes_sent\": 1.5, \"bytes_received\": 1e3, \"duration\": 99999999999999999999, \"upstream_host\": 5, \"start_time\": \"noon\"}"#,
                &[r#"envoy-json out-of-range"#, r#"protocol:"HTTP/1.1""#],
            ),
            (
                "json: first of repeated keys wins",
                false,
                r#"{\"response_code\":200,\"response_code\":500}"#,
                &[r#"envoy-json"#, r#"response_code:200"#],
            ),
            (
                "json: whitespace escapes and a boolean",
                false,
                r#"{\n\t\"response_code\" : 200 ,\r\n \"method\":true}"#,
                &[r#"envoy-json"#, r#"method:"true""#, r#"response_code:200"#],
            ),
            (
                "invalid json: envoy doc custom format has no access-log key",
                false,
                r#"{\"protocol\": \"HTTP/1.1\", \"duration\": \"123\", \"my_custom_header\": \"value_of_MY_CUSTOM_HEADER\"}"#,
                &[
                    r#"not envoy-json: expected an access-log key (response_code, upstream_host, ...) at byte 0"#,
                ],
            ),
            (
                "invalid json: empty object",
                false,
                r#"{}"#,
                &[
                    r#"not envoy-json: expected an access-log key (response_code, upstream_host, ...) at byte 0"#,
                ],
            ),
            (
                "invalid json: unterminated",
                false,
                r#"{\"response_code\":200"#,
                &[r#"not envoy-json: expected a JSON object at byte 22"#],
            ),
            (
                "invalid json: trailing bytes",
                false,
                r#"{\"response_code\":200} trailing"#,
                &[r#"not envoy-json: expected a JSON object at byte 24"#],
            ),
            (
                "invalid json: leading zero",
                false,
                r#"{\"response_code\":01}"#,
                &[r#"not envoy-json: expected a JSON object at byte 20"#],
            ),
            (
                "invalid json: bad inner escape",
                false,
                r#"{\"response_code\":200,\"path\":\"/a\\x\"}"#,
                &[r#"not envoy-json: expected a JSON object at byte 32"#],
            ),
        ];
        for (name, with_scratch, line, want) in cases {
            let mut fields = Fields::new();
            let mut scratch = Vec::new();
            let outcome = if *with_scratch {
                parse_with_scratch(line.as_bytes(), &mut scratch, &mut fields)
            } else {
                parse(line.as_bytes(), &mut fields)
            };
            assert_eq!(render(outcome, &fields), *want, "case {name:?}");
        }
    }

    /// A mismatch leaves the fields untouched.
    #[test]
    fn mismatch_pushes_nothing() {
        for line in [
            r#"[2024-01-02T03:04:05.006Z] \"GET /x HTTP/1.1\" 200 - via_upstream - \"-\" 0 1 2 3 \"-\" \"ua\" \"-\" \"h\" \"10.0.0.1:80\" c 10.0.0.2:1"#,
            r#"{\"response_code\":200"#,
        ] {
            let mut fields = Fields::new();
            assert!(parse(line.as_bytes(), &mut fields).is_err());
            assert!(fields.is_empty() && fields.suspect.is_none(), "{line}");
        }
    }

    #[test]
    fn line_end_cases() {
        let cases: &[(&str, &[u8], &[u8])] = &[
            ("docker newline escape", b"a b\\n", b"a b"),
            ("raw newline", b"a b\n", b"a b"),
            ("raw crlf", b"a b\r\n", b"a b"),
            ("escape then raw newline", b"a\\n\n", b"a"),
            ("escaped backslash then n is content", b"a\\\\n", b"a\\\\n"),
            (
                "three backslashes: escape after an escaped backslash",
                b"a\\\\\\n",
                b"a\\\\",
            ),
            ("only one escape stripped", b"a\\n\\n", b"a\\n"),
            ("nothing to strip", b"abc", b"abc"),
            ("empty", b"", b""),
        ];
        for (name, line, want) in cases {
            assert_eq!(trim_line_end(line), *want, "case {name:?}");
        }
    }

    #[test]
    fn request_line_cases() {
        // (name, request line, two words end in path, method, path, protocol)
        let cases: &[(&str, &str, bool, [&str; 3])] = &[
            (
                "three words",
                "GET /a HTTP/1.1",
                false,
                ["GET", "/a", "HTTP/1.1"],
            ),
            (
                "spaces in path",
                "GET /a b c HTTP/1.1",
                false,
                ["GET", "/a b c", "HTTP/1.1"],
            ),
            (
                "runs of spaces around path",
                "GET   /a  HTTP/1.1",
                false,
                ["GET", "/a", "HTTP/1.1"],
            ),
            (
                "path of spaces",
                "GET      HTTP/1.1",
                false,
                ["GET", "", "HTTP/1.1"],
            ),
            (
                "two words, envoy",
                "GET HTTP/1.1",
                false,
                ["GET", "", "HTTP/1.1"],
            ),
            ("two words, nginx", "GET /", true, ["GET", "/", ""]),
            ("one word", "GET", false, ["GET", "", ""]),
            ("empty", "", false, ["", "", ""]),
        ];
        for (name, request, two_words_end_in_path, want) in cases {
            let line = format!("x{request}x");
            let got =
                split_request_line(line.as_bytes(), 1, line.len() - 1, *two_words_end_in_path);
            let got = [got.method, got.path, got.protocol]
                .map(|p| String::from_utf8_lossy(p).into_owned());
            assert_eq!(got, want.map(String::from), "case {name:?}");
        }
    }
}
