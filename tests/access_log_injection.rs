//! Hostile access-log lines: a client puts quotes, separators, runs of
//! spaces, backslashes, control characters or a whole fake log line into
//! the fields it controls, and the parsers must never put its text into a
//! field it does not control.
//!
//! The invariant checked on every line: each field written by the proxy
//! (response code, flags, details, byte counts, durations, upstream host and
//! cluster, local and remote addresses, route, start time, protocol) either
//! equals the true value or is absent, and when one is absent that should
//! not be, the line is marked `quote-injection`. A line that is not marked
//! at all must come out exactly right, client fields included. The lines
//! are built from known values, escaped the way fluent-bit delivers them,
//! then parsed.
//!
//! Client-controlled: Envoy's path, User-Agent, X-Forwarded-For,
//! :authority, X-Request-ID and (TLS) SNI; nginx's `$remote_user`, request,
//! Referer, User-Agent and `$req_id`.

mod common;
use common::escape_like_fluent_bit;
use rosetta::formats::{Fields, Suspicion, Value, envoy, nginx_ingress};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// What nginx writes for a variable with the default `escape=default`:
/// `"`, `\`, control characters and bytes above 0x7e as `\xHH`.
fn nginx_escape(raw: &str) -> String {
    let mut out = String::new();
    for &b in raw.as_bytes() {
        if b == b'"' || b == b'\\' || !(0x20..0x7f).contains(&b) {
            out.push_str(&format!("\\x{b:02X}"));
        } else {
            out.push(b as char);
        }
    }
    out
}

/// The fields as decoded strings (text decoded from its JSON escapes, the
/// rest as written), checking that every text value is valid JSON string
/// content and that no field appears twice.
fn decoded(fields: &Fields<'_>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in fields.iter() {
        let text = match value {
            Value::Text(t) => {
                let quoted = format!("\"{}\"", std::str::from_utf8(t).expect("ASCII"));
                serde_json::from_str::<String>(&quoted).unwrap_or_else(|e| {
                    panic!("{name} is not valid JSON string content ({e}): {quoted}")
                })
            }
            Value::Int(i) => i.to_string(),
            Value::Decimal(d) => String::from_utf8_lossy(d).into_owned(),
            Value::Time(t) => {
                let mut text = Vec::new();
                t.write_rfc3339(&mut text);
                String::from_utf8(text).expect("ASCII")
            }
            Value::Bool(b) => b.to_string(),
        };
        assert!(
            out.insert(name.to_string(), text).is_none(),
            "{name} emitted twice"
        );
    }
    out
}

/// Checks a parsed line against the truth: fields in `proxy` (the ones the
/// client cannot control) equal the truth or are absent with the line
/// marked; an unmarked line equals the truth exactly.
fn check(truth: &BTreeMap<String, String>, proxy: &[&str], fields: &Fields<'_>, context: &str) {
    let got = decoded(fields);
    let marked = fields.suspect == Some(Suspicion::QuoteInjection);
    for name in proxy {
        match (got.get(*name), truth.get(*name)) {
            (Some(g), Some(t)) => assert_eq!(g, t, "{name} changed by the client\n{context}"),
            (Some(g), None) => panic!("{name} = {g:?} invented by the client\n{context}"),
            (None, Some(t)) => assert!(marked, "{name} ({t:?}) lost without a mark\n{context}"),
            (None, None) => {}
        }
    }
    for (name, value) in &got {
        if !proxy.contains(&name.as_str()) {
            // A client field, when kept, is the client's own value.
            assert_eq!(truth.get(name), Some(value), "{name} misplaced\n{context}");
        }
    }
    if fields.suspect.is_none() {
        assert_eq!(&got, truth, "unmarked line not exact\n{context}");
    }
}

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------
// Envoy and Istio.
// ---------------------------------------------------------------------------

/// The fields a client controls in Envoy's formats.
#[derive(Clone, Debug)]
struct Client {
    path: String,
    user_agent: String,
    forwarded_for: String,
    authority: String,
    request_id: String,
    sni: String,
}

impl Client {
    fn plain() -> Client {
        Client {
            path: "/api/v1/items".into(),
            user_agent: "curl/8.5.0".into(),
            forwarded_for: "203.0.113.9".into(),
            authority: "shop.example".into(),
            request_id: "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0".into(),
            sni: "shop.example".into(),
        }
    }

    fn set(&mut self, field: usize, value: String) {
        match field {
            0 => self.path = value,
            1 => self.user_agent = value,
            2 => self.forwarded_for = value,
            3 => self.authority = value,
            4 => self.request_id = value,
            _ => self.sni = value,
        }
    }
}

const CLIENT_FIELDS: [&str; 6] = [
    "path",
    "user agent",
    "x-forwarded-for",
    "authority",
    "request id",
    "sni",
];

/// What Envoy writes for a header value: `-` when empty.
fn or_dash(value: &str) -> &str {
    if value.is_empty() { "-" } else { value }
}

/// The Istio line Envoy writes for this request, and the record it means.
fn istio(client: &Client) -> (String, BTreeMap<String, String>) {
    let line = format!(
        "[2024-05-06T07:08:09.010Z] \"GET {} HTTP/1.1\" 503 UF,URX upstream_reset_before_response_started{{connection_failure}} - \"TLS_error:_x\" 123 456 789 101 \"{}\" \"{}\" \"{}\" \"{}\" \"10.1.2.3:8080\" outbound|8080||svc.ns.svc.cluster.local 10.1.2.4:40000 10.1.2.5:8080 10.1.2.6:50000 {} route-1",
        or_dash(&client.path),
        or_dash(&client.forwarded_for),
        or_dash(&client.user_agent),
        or_dash(&client.request_id),
        or_dash(&client.authority),
        or_dash(&client.sni),
    );
    let mut truth = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() && v != "-" {
            truth.insert(k.to_string(), v.to_string());
        }
    };
    put("start_time", "2024-05-06T07:08:09.010Z");
    put("method", "GET");
    put("path", client.path.trim_matches(' '));
    put("protocol", "HTTP/1.1");
    put("response_code", "503");
    put("response_flags", "UF,URX");
    put(
        "response_code_details",
        "upstream_reset_before_response_started{connection_failure}",
    );
    put("upstream_transport_failure_reason", "TLS_error:_x");
    put("bytes_received", "123");
    put("bytes_sent", "456");
    put("duration", "789");
    put("x_envoy_upstream_service_time", "101");
    put("x_forwarded_for", &client.forwarded_for);
    put("user_agent", &client.user_agent);
    put("x_request_id", &client.request_id);
    put("authority", &client.authority);
    put("upstream_host", "10.1.2.3:8080");
    put("upstream_host_ip", "10.1.2.3");
    put("upstream_host_port", "8080");
    put(
        "upstream_cluster",
        "outbound|8080||svc.ns.svc.cluster.local",
    );
    put("upstream_local_address", "10.1.2.4:40000");
    put("upstream_local_address_ip", "10.1.2.4");
    put("upstream_local_address_port", "40000");
    put("downstream_local_address", "10.1.2.5:8080");
    put("downstream_local_address_ip", "10.1.2.5");
    put("downstream_local_address_port", "8080");
    put("downstream_remote_address", "10.1.2.6:50000");
    put("downstream_remote_address_ip", "10.1.2.6");
    put("downstream_remote_address_port", "50000");
    put("requested_server_name", &client.sni);
    put("route_name", "route-1");
    (line, truth)
}

const ISTIO_PROXY_FIELDS: &[&str] = &[
    "start_time",
    "protocol",
    "response_code",
    "response_flags",
    "response_code_details",
    "connection_termination_details",
    "upstream_transport_failure_reason",
    "bytes_received",
    "bytes_sent",
    "duration",
    "x_envoy_upstream_service_time",
    "upstream_host",
    "upstream_host_ip",
    "upstream_host_port",
    "upstream_cluster",
    "upstream_local_address",
    "upstream_local_address_ip",
    "upstream_local_address_port",
    "downstream_local_address",
    "downstream_local_address_ip",
    "downstream_local_address_port",
    "downstream_remote_address",
    "downstream_remote_address_ip",
    "downstream_remote_address_port",
    "route_name",
];

/// The Envoy default-format line for this request (no SNI in it), and the
/// record it means.
fn envoy_default(client: &Client) -> (String, BTreeMap<String, String>) {
    let line = format!(
        "[2024-05-06T07:08:09.010Z] \"GET {} HTTP/2\" 200 - 12 34 56 7 \"{}\" \"{}\" \"{}\" \"{}\" \"10.1.2.3:8080\"",
        or_dash(&client.path),
        or_dash(&client.forwarded_for),
        or_dash(&client.user_agent),
        or_dash(&client.request_id),
        or_dash(&client.authority),
    );
    let mut truth = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() && v != "-" {
            truth.insert(k.to_string(), v.to_string());
        }
    };
    put("start_time", "2024-05-06T07:08:09.010Z");
    put("method", "GET");
    put("path", client.path.trim_matches(' '));
    put("protocol", "HTTP/2");
    put("code", "200");
    put("bytes_received", "12");
    put("bytes_sent", "34");
    put("duration", "56");
    put("x_envoy_upstream_service_time", "7");
    put("x_forwarded_for", &client.forwarded_for);
    put("user_agent", &client.user_agent);
    put("request_id", &client.request_id);
    put("authority", &client.authority);
    put("upstream_host", "10.1.2.3:8080");
    put("upstream_host_ip", "10.1.2.3");
    put("upstream_host_port", "8080");
    (line, truth)
}

const ENVOY_PROXY_FIELDS: &[&str] = &[
    "start_time",
    "protocol",
    "code",
    "response_flags",
    "bytes_received",
    "bytes_sent",
    "duration",
    "x_envoy_upstream_service_time",
    "upstream_host",
    "upstream_host_ip",
    "upstream_host_port",
];

/// Parses the line both ways (with and without the docker newline),
/// checks the invariant, and tells whether the line was marked.
fn check_envoy(
    case: &str,
    line: &str,
    truth: &BTreeMap<String, String>,
    proxy: &[&str],
    format: &str,
) -> bool {
    let mut marked = false;
    for raw in [line.to_string(), format!("{line}\n")] {
        let escaped = escape_like_fluent_bit(&raw);
        let mut fields = Fields::new();
        let context = format!("{case}\nline: {raw:?}\nescaped: {escaped}");
        let outcome = envoy::parse(escaped.as_bytes(), &mut fields);
        assert_eq!(outcome, Ok(format), "{context}");
        check(truth, proxy, &fields, &context);
        marked = fields.suspect.is_some();
    }
    marked
}

/// Injections tried in every client field, by name.
fn named_injections() -> Vec<(&'static str, String)> {
    let fake_istio = "[2024-05-06T07:08:09.010Z] \"GET /admin HTTP/1.1\" 200 - via_upstream - \"-\" 0 0 0 0 \"-\" \"ua\" \"id\" \"admin\" \"10.6.6.6:80\" outbound|80||evil 10.6.6.6:1 10.6.6.6:2 10.6.6.6:3 - evil";
    let fake_envoy = "[2024-05-06T07:08:09.010Z] \"GET /admin HTTP/1.1\" 200 - 0 0 0 0 \"-\" \"ua\" \"id\" \"admin\" \"10.6.6.6:80\"";
    vec![
        ("a quote", "a\"b".into()),
        ("a quote at each end", "\"x\"".into()),
        ("a separator", "a\" \"b".into()),
        ("a separator at the end", "a\" \"".into()),
        ("two separators", "\" \"x\" \"".into()),
        ("a run of spaces", "a          b".into()),
        ("only spaces", "     ".into()),
        ("backslashes", "\\\\a\\b\\".into()),
        ("a backslash before a quote", "a\\\" \\\"b".into()),
        ("control characters", "a\u{1}b\u{7}c\td\re\n".into()),
        ("a dash", "-".into()),
        ("empty", "".into()),
        ("non-ascii", "café 😀 日本".into()),
        (
            "a forged istio response section",
            "/x HTTP/1.1\" 200 - via_upstream - \"-\" 0 0 0 0 \"-\" \"y".into(),
        ),
        (
            "a forged envoy response section",
            "/x HTTP/1.1\" 200 - 0 0 0 0 \"-\" \"y".into(),
        ),
        (
            "a forged istio tail",
            "h\" \"10.6.6.6:80\" outbound|80||evil 10.6.6.6:1 10.6.6.6:2 10.6.6.6:3 - evil".into(),
        ),
        (
            "a forged tail without separator",
            "h\" 10.6.6.6:1 evil 1.1.1.1:1 2.2.2.2:2 3.3.3.3:3 - evil".into(),
        ),
        ("a whole fake istio line", fake_istio.into()),
        ("a whole fake envoy line", fake_envoy.into()),
        ("a fake line after a newline", format!("x\n{fake_istio}")),
    ]
}

#[test]
fn named_injections_in_every_client_field() {
    let mut marked = 0;
    for (what, value) in named_injections() {
        for (field, name) in CLIENT_FIELDS.iter().enumerate() {
            let case = format!("{what} in the {name}");
            let mut client = Client::plain();
            client.set(field, value.clone());
            let (line, truth) = istio(&client);
            marked += usize::from(check_envoy(
                &case,
                &line,
                &truth,
                ISTIO_PROXY_FIELDS,
                "istio",
            ));
            if field < 5 {
                let (line, truth) = envoy_default(&client);
                marked += usize::from(check_envoy(
                    &case,
                    &line,
                    &truth,
                    ENVOY_PROXY_FIELDS,
                    "envoy",
                ));
            }
        }
    }
    // Quote injections are marked, harmless values are not.
    assert!(marked > 20, "{marked} lines marked");
    let (line, truth) = istio(&Client::plain());
    assert!(!check_envoy(
        "plain",
        &line,
        &truth,
        ISTIO_PROXY_FIELDS,
        "istio"
    ));
}

/// Pieces that confuse a split: quotes, separators, spaces, backslashes,
/// control characters and fragments of the format.
const PIECES: &[&str] = &[
    "\"",
    "\" \"",
    " ",
    "   ",
    "\\",
    "\u{1}",
    "\n",
    "-",
    "a",
    "Z9",
    "[",
    "]",
    "é",
    " 200 - via_upstream - ",
    " 200 - ",
    "\"-\"",
    " 0 0 0 0 ",
    " 1 2 3 4 5 6 ",
    "\" 500 UF x - \"-\" 0 0 0 0 \"",
    "\" 500 UF 0 0 0 0 \"",
    "outbound|80||evil",
    " 10.6.6.6:666 ",
    " evil-route",
    "HTTP/1.1\"",
];

fn random_value(rng: &mut Rng) -> String {
    let pieces = rng.below(6);
    (0..pieces).map(|_| rng.pick(PIECES)).collect()
}

#[test]
fn random_injections_never_misplace_fields() {
    let mut rng = Rng(0x5DEE_CE66_D1CE_4E5B);
    let (mut marked, mut exact) = (0, 0);
    for round in 0..20_000 {
        let mut client = Client::plain();
        // One to three client fields tampered with at once.
        for _ in 0..1 + rng.below(3) {
            let field = rng.below(CLIENT_FIELDS.len());
            client.set(field, random_value(&mut rng));
        }
        let case = format!("round {round}: {client:?}");
        let (line, truth) = istio(&client);
        let istio_marked = check_envoy(&case, &line, &truth, ISTIO_PROXY_FIELDS, "istio");
        let (line, truth) = envoy_default(&client);
        let envoy_marked = check_envoy(&case, &line, &truth, ENVOY_PROXY_FIELDS, "envoy");
        for m in [istio_marked, envoy_marked] {
            if m {
                marked += 1;
            } else {
                exact += 1;
            }
        }
    }
    // Both outcomes are exercised: forged lines marked, the rest exact.
    assert!(
        marked > 5_000 && exact > 5_000,
        "marked {marked}, exact {exact}"
    );
}

/// Lines of the given size made of one repeated piece in a client field:
/// the shapes that make backtracking regexes slow.
fn hostile_clients(size: usize) -> Vec<(String, Client)> {
    let fill = |piece: &str| piece.repeat(size / piece.len().max(1));
    let mut out = Vec::new();
    for (name, piece) in [
        ("spaces", " "),
        ("quotes", "\""),
        ("separators", "\" \""),
        ("backslashes", "\\"),
        ("control", "\u{1}"),
        (
            "forged sections",
            "\" 200 - via_upstream - \"-\" 0 0 0 0 \"",
        ),
        ("forged envoy sections", "\" 200 - 0 0 0 0 \""),
    ] {
        for field in [0, 1, 5] {
            let mut client = Client::plain();
            client.set(field, fill(piece));
            out.push((format!("{name} in {}", CLIENT_FIELDS[field]), client));
        }
    }
    out
}

#[test]
fn hostile_lines_cost_time_proportional_to_length() {
    let time = |size: usize| -> Duration {
        let start = Instant::now();
        for (name, client) in hostile_clients(size) {
            let (line, truth) = istio(&client);
            let escaped = escape_like_fluent_bit(&line);
            let parse_start = Instant::now();
            let mut fields = Fields::new();
            let outcome = envoy::parse(escaped.as_bytes(), &mut fields);
            let took = parse_start.elapsed();
            assert_eq!(outcome, Ok("istio"), "{name}, {size} bytes");
            check(
                &truth,
                ISTIO_PROXY_FIELDS,
                &fields,
                &format!("{name}, {size} bytes"),
            );
            assert!(
                took < Duration::from_secs(2),
                "{name}: {size} bytes took {took:?}"
            );
            let (line, _) = envoy_default(&client);
            let escaped = escape_like_fluent_bit(&line);
            let mut fields = Fields::new();
            assert_eq!(
                envoy::parse(escaped.as_bytes(), &mut fields),
                Ok("envoy"),
                "{name}"
            );
        }
        start.elapsed()
    };
    let _warm_up = time(1 << 10);
    let small = time(1 << 16);
    let large = time(1 << 20);
    // 16 times the length: allow 64 times the time (cache effects, noise),
    // far below the 256 times of a quadratic algorithm.
    assert!(
        large < small * 64 + Duration::from_millis(200),
        "64 KiB: {small:?}, 1 MiB: {large:?}"
    );
}

// ---------------------------------------------------------------------------
// ingress-nginx.
// ---------------------------------------------------------------------------

#[derive(Clone, Debug)]
struct NginxClient {
    user: String,
    request: String,
    referer: String,
    agent: String,
    req_id: String,
}

fn nginx(client: &NginxClient, escape: fn(&str) -> String) -> (String, BTreeMap<String, String>) {
    let (user, request, referer, agent, req_id) = (
        escape(&client.user),
        escape(&client.request),
        escape(&client.referer),
        escape(&client.agent),
        escape(&client.req_id),
    );
    let line = format!(
        "192.0.2.10 - {} [01/Mar/2024:08:00:00 +0000] \"{}\" 502 157 \"{}\" \"{}\" 321 0.683 [shop-api-80] [] 10.244.2.3:8080, 10.244.2.4:8080 0, 157 0.096, 0.587 502, 502 {}",
        or_dash(&user),
        or_dash(&request),
        or_dash(&referer),
        or_dash(&agent),
        req_id,
    );
    let mut truth = BTreeMap::new();
    let mut put = |k: &str, v: &str| {
        if !v.is_empty() && v != "-" {
            truth.insert(k.to_string(), v.to_string());
        }
    };
    put("host", "192.0.2.10");
    put("user", &user);
    put("time", "2024-03-01T08:00:00Z");
    // The request line is cut as nginx wrote it (escapes included).
    let words: Vec<&str> = request.split(' ').collect();
    match words.len() {
        1 => put("method", words[0]),
        2 => {
            put("method", words[0]);
            put("path", words[1]);
        }
        n => {
            put("method", words[0]);
            put("path", words[1..n - 1].join(" ").trim_matches(' '));
            put("protocol", words[n - 1]);
        }
    }
    put("code", "502");
    put("size", "157");
    put("referer", &referer);
    put("agent", &agent);
    put("request_length", "321");
    put("request_time", "0.683");
    put("proxy_upstream_name", "shop-api-80");
    put("upstream_addr", "10.244.2.4:8080");
    put("upstream_addr_ip", "10.244.2.4");
    put("upstream_addr_port", "8080");
    put("upstream_addr_list", "10.244.2.3:8080, 10.244.2.4:8080");
    put("upstream_response_length", "157");
    put("upstream_response_length_list", "0, 157");
    put("upstream_response_time", "0.587");
    put("upstream_response_time_list", "0.096, 0.587");
    put("upstream_status", "502");
    put("upstream_status_list", "502, 502");
    put("req_id", &req_id);
    (line, truth)
}

const NGINX_PROXY_FIELDS: &[&str] = &[
    "host",
    "real_ip",
    "time",
    "code",
    "size",
    "request_length",
    "request_time",
    "proxy_upstream_name",
    "proxy_alternative_upstream_name",
    "upstream_addr",
    "upstream_addr_ip",
    "upstream_addr_port",
    "upstream_addr_list",
    "upstream_response_length",
    "upstream_response_length_list",
    "upstream_response_time",
    "upstream_response_time_list",
    "upstream_status",
    "upstream_status_list",
];

/// A `$remote_user` shaped like the older `[$the_real_ip] - user` layout
/// (with the true client address) is read as that layout: `real_ip` is then
/// the true address, never the client's text, and the last field is
/// `last`.
fn older_layout(mut truth: BTreeMap<String, String>) -> BTreeMap<String, String> {
    let older = truth
        .get("user")
        .and_then(|u| u.strip_prefix("[192.0.2.10] - "))
        .filter(|u| !u.is_empty())
        .map(str::to_string);
    if let Some(user) = older {
        truth.insert("real_ip".into(), "192.0.2.10".into());
        truth.remove("user");
        if user != "-" {
            truth.insert("user".into(), user);
        }
        if let Some(id) = truth.remove("req_id") {
            truth.insert("last".into(), id);
        }
    }
    truth
}

const NGINX_PIECES: &[&str] = &[
    "\"",
    " ",
    "  ",
    "\\",
    "\u{1}",
    "-",
    "a",
    "[",
    "]",
    "[192.0.2.10] - ",
    "] \"",
    ", ",
    " : ",
    ": ",
    "500",
    " 200 9 ",
    "é",
    "[01/Mar/2024:08:00:00 +0000]",
    "\" 200 1 \"-\" \"ua\" 1 0.001 [u] [] 10.6.6.6:80 1 0.001 200 ",
];

#[test]
fn nginx_random_injections_never_misplace_fields() {
    let mut rng = Rng(0x0123_4567_89AB_CDEF);
    for _ in 0..20_000 {
        let piece = |rng: &mut Rng| -> String {
            (0..rng.below(5)).map(|_| rng.pick(NGINX_PIECES)).collect()
        };
        let mut client = NginxClient {
            user: "-".into(),
            request: "GET /api HTTP/1.1".into(),
            referer: "-".into(),
            agent: "curl/8.5.0".into(),
            req_id: "0123456789abcdef0123456789abcdef".into(),
        };
        match rng.below(5) {
            0 => client.user = piece(&mut rng),
            1 => client.request = format!("GET {} HTTP/1.1", piece(&mut rng)),
            2 => client.referer = piece(&mut rng),
            3 => client.agent = piece(&mut rng),
            _ => client.req_id = piece(&mut rng),
        }
        if client.user.is_empty() || client.user.trim_matches(' ').is_empty() {
            client.user = "-".into(); // nginx writes `-` for an empty user
        }
        // Default escaping: quotes cannot close a field; the line must be
        // exact whatever the client sent.
        let (line, truth) = nginx(&client, nginx_escape);
        let escaped = escape_like_fluent_bit(&line);
        let mut fields = Fields::new();
        let context = format!("line: {line:?}");
        let outcome = nginx_ingress::parse(escaped.as_bytes(), &mut fields);
        let truth = older_layout(truth);
        assert_eq!(outcome, Ok("nginx-ingress"), "{context}");
        check(&truth, NGINX_PROXY_FIELDS, &fields, &context);
        assert!(fields.suspect.is_none(), "{context}");

        // escape=none: raw quotes get through; the invariant must still hold.
        let (line, truth) = nginx(&client, |s| s.to_string());
        let truth = older_layout(truth);
        let escaped = escape_like_fluent_bit(&line);
        let mut fields = Fields::new();
        let context = format!("escape=none line: {line:?}");
        if nginx_ingress::parse(escaped.as_bytes(), &mut fields).is_ok() {
            check(&truth, NGINX_PROXY_FIELDS, &fields, &context);
        }
    }
}

#[test]
fn nginx_hostile_lines_cost_time_proportional_to_length() {
    let time = |size: usize| -> Duration {
        let start = Instant::now();
        for piece in [" ", "\"", "\\", "[", "] ", ", ", " : "] {
            let long = piece.repeat(size / piece.len());
            for field in 0..5 {
                let mut client = NginxClient {
                    user: "-".into(),
                    request: "GET / HTTP/1.1".into(),
                    referer: "-".into(),
                    agent: "ua".into(),
                    req_id: "id".into(),
                };
                match field {
                    0 => client.user = format!("u{long}u"),
                    1 => client.request = format!("GET /{long} HTTP/1.1"),
                    2 => client.referer = long.clone(),
                    3 => client.agent = long.clone(),
                    _ => client.req_id = long.clone(),
                }
                let (line, truth) = nginx(&client, nginx_escape);
                let escaped = escape_like_fluent_bit(&line);
                let mut fields = Fields::new();
                let took = Instant::now();
                assert_eq!(
                    nginx_ingress::parse(escaped.as_bytes(), &mut fields),
                    Ok("nginx-ingress")
                );
                assert!(took.elapsed() < Duration::from_secs(2));
                check(&truth, NGINX_PROXY_FIELDS, &fields, "hostile nginx line");
            }
        }
        start.elapsed()
    };
    let _warm_up = time(1 << 10);
    let small = time(1 << 16);
    let large = time(1 << 20);
    assert!(
        large < small * 64 + Duration::from_millis(200),
        "64 KiB: {small:?}, 1 MiB: {large:?}"
    );
}
