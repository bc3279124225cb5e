//! `make bench`: what rosetta costs, printed as tables.
//!
//! Fuel (wasmtime's count of executed wasm operators, about one per
//! instruction) is deterministic: it is what the module costs inside
//! fluent-bit's interpreter, about 1 ns per unit there (see the contract,
//! section 7), whatever else the machine is doing. Native nanoseconds are
//! measured on this machine and are only a comparison between engines on
//! the same lines: rosetta's own code compiled natively, and fluent-bit's
//! stock regex parsers (conf/parsers.conf) in Oniguruma (the engine family
//! of fluent-bit's `parser` filter) and in the `regex` crate.
//!
//! The tables: the report (one row per corpus: istio-proxy, Envoy's
//! default format, ingress-nginx, an application mix, and the hostile
//! corpus of tests/hostile/), what each optional step adds, and fuel per
//! input byte on hostile lines from 1 KiB to 1 MiB. The generated corpora
//! come from a fixed seed, so every run measures the same records.

use rosetta_host::{Body, Host, HostConfig, PreopenDir, to_fluent_bit_json};
use std::path::PathBuf;
use std::time::Instant;

/// fluent-bit's stock `istio-envoy-proxy` regex (conf/parsers.conf).
const STOCK_ISTIO: &str = r#"^\[(?<start_time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)? (?<protocol>\S+)" (?<response_code>[^ ]*) (?<response_flags>[^ ]*) (?<response_code_details>[^ ]*) (?<connection_termination_details>[^ ]*) (?<upstream_transport_failure_reason>[^ ]*) (?<bytes_received>[^ ]*) (?<bytes_sent>[^ ]*) (?<duration>[^ ]*) (?<x_envoy_upstream_service_time>[^ ]*) "(?<x_forwarded_for>[^ ]*)" "(?<user_agent>[^\"]*)" "(?<x_request_id>[^\"]*)" (?<authority>[^ ]*)" "(?<upstream_host>[^ ]*)" (?<upstream_cluster>[^ ]*) (?<upstream_local_address>[^ ]*) (?<downstream_local_address>[^ ]*) (?<downstream_remote_address>[^ ]*) (?<requested_server_name>[^ ]*) (?<route_name>[^  ]*)"#;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const PATHS: &[&str] = &[
    "/productpage",
    "/api/v1/products/0/reviews",
    "/static/bootstrap.css",
    "/login",
    "/api/v1/products/1/ratings?user=jason",
];
const AGENTS: &[&str] = &[
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "curl/7.73.0-DEV",
    "kube-probe/1.28",
    "Go-http-client/1.1",
];

fn time(rng: &mut Rng) -> String {
    format!(
        "2026-11-27T08:{:02}:{:02}.{:03}Z",
        rng.below(60),
        rng.below(60),
        rng.below(1000)
    )
}

fn istio_line(rng: &mut Rng) -> String {
    let t = time(rng);
    if rng.below(8) == 0 {
        return format!(
            r#"[{t}] "- - -" 0 - - - "-" {} {} {} - "-" "-" "-" "-" "10.44.0.8:3306" outbound|3306||mysqldb.shop.svc.cluster.local 10.44.1.23:{} 10.0.12.55:3306 10.44.1.23:{} - -"#,
            rng.below(4000),
            rng.below(9000),
            rng.below(5000),
            40000 + rng.below(20000),
            40000 + rng.below(20000)
        );
    }
    let code = ["200", "200", "200", "304", "404", "503"][rng.below(6) as usize];
    let (flags, details) = if code == "503" {
        (
            "UF,URX",
            "upstream_reset_before_response_started{connection_failure}",
        )
    } else {
        ("-", "via_upstream")
    };
    format!(
        r#"[{t}] "GET {} HTTP/1.1" {code} {flags} {details} - "-" {} {} {} {} "-" "{}" "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}" "productpage:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:{} 10.44.1.27:9080 10.44.3.9:{} outbound_.9080_._.productpage.shop.svc.cluster.local default"#,
        rng.pick(PATHS),
        rng.below(900),
        rng.below(20000),
        1 + rng.below(200),
        1 + rng.below(100),
        rng.pick(AGENTS),
        rng.next() as u32,
        rng.next() as u16,
        rng.below(0xfff),
        rng.below(0xfff),
        rng.next() & 0xffff_ffff_ffff,
        40000 + rng.below(20000),
        40000 + rng.below(20000)
    )
}

fn envoy_line(rng: &mut Rng) -> String {
    format!(
        r#"[{}] "GET {} HTTP/1.1" 200 - {} {} {} {} "-" "{}" "{:016x}" "productpage:9080" "10.44.1.27:9080""#,
        time(rng),
        rng.pick(PATHS),
        rng.below(900),
        rng.below(20000),
        1 + rng.below(200),
        1 + rng.below(100),
        rng.pick(AGENTS),
        rng.next()
    )
}

fn ingress_line(rng: &mut Rng) -> String {
    format!(
        r#"10.128.0.{} - - [27/Nov/2026:08:{:02}:{:02} +0000] "GET {} HTTP/1.1" 200 {} "-" "{}" {} 0.{:03} [shop-productpage-9080] [] 10.44.1.27:9080 {} 0.{:03} 200 {:032x}"#,
        2 + rng.below(250),
        rng.below(60),
        rng.below(60),
        rng.pick(PATHS),
        rng.below(20000),
        rng.pick(AGENTS),
        80 + rng.below(900),
        rng.below(1000),
        rng.below(20000),
        rng.below(1000),
        u128::from(rng.next()) << 64 | u128::from(rng.next())
    )
}

/// The `time` of every record here, as docker's json-file driver writes it.
const DOCKER_TIME: &str = "2026-11-27T08:10:00.123456789Z";

/// The record time fluent-bit passes with each record: tail's stock
/// `docker` parser reads it from the record's `time` (`Time_Key time`).
/// It is the year klog and syslog times are placed in.
fn record_time() -> (u32, u32) {
    rosetta_host::tail::parse_time(DOCKER_TIME.as_bytes(), false).expect("a docker time")
}

/// A record as fluent-bit's tail input with the docker parser hands it on.
fn docker_record(line: &str) -> Vec<u8> {
    let body = Body::map([
        ("log", Body::str(&format!("{line}\n"))),
        ("stream", Body::str("stdout")),
        ("time", Body::str(DOCKER_TIME)),
    ]);
    to_fluent_bit_json(&body)
}

fn module() -> PathBuf {
    std::env::var_os("ROSETTA_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/wasm32-wasip1/release/rosetta.wasm"))
}

/// A host for `function`, with `toml` as its `rosetta.toml` (none: no file).
fn host(function: &str, tag: &str, toml: Option<&str>, per_byte: bool) -> Host {
    let dir = std::env::temp_dir().join(format!("rosetta-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("rosetta.toml");
    match toml {
        Some(text) => std::fs::write(&file, text).expect("rosetta.toml"),
        None => {
            let _ = std::fs::remove_file(&file);
        }
    }
    let mut config = HostConfig::new(module());
    config.function = function.to_string();
    config.fuel_per_byte_moved = per_byte;
    config.accessible_paths = Vec::new();
    config.mapped_dirs = vec![PreopenDir {
        host: dir,
        guest: ".".to_string(),
    }];
    let mut host = Host::new(config).expect("the module loads (run `make build` first)");
    // The first call loads the configuration; keep it out of the figures.
    let (sec, nsec) = record_time();
    host.filter(tag, sec, nsec, b"{}");
    host
}

struct Run {
    records: usize,
    fuel_mean: f64,
    fuel_max: u64,
    bytes_in: usize,
    bytes_out: usize,
    kept: usize,
}

fn run(function: &str, tag: &str, toml: Option<&str>, records: &[Vec<u8>]) -> Run {
    run_counting(function, tag, toml, records, true)
}

/// [`run`], fuel counting the bytes `memory.copy` and `memory.fill` move
/// (`per_byte`, wasmtime's default) or operators only.
fn run_counting(
    function: &str,
    tag: &str,
    toml: Option<&str>,
    records: &[Vec<u8>],
    per_byte: bool,
) -> Run {
    let mut host = host(function, tag, toml, per_byte);
    let (sec, nsec) = record_time();
    let (mut total, mut max, mut bytes_in, mut bytes_out, mut kept) = (0u64, 0u64, 0, 0, 0);
    for record in records {
        let outcome = host.filter(tag, sec, nsec, record);
        total += outcome.fuel;
        max = max.max(outcome.fuel);
        bytes_in += record.len();
        if let Some(raw) = outcome.raw() {
            bytes_out += raw.len();
            kept += 1;
        }
    }
    Run {
        records: records.len(),
        fuel_mean: total as f64 / records.len() as f64,
        fuel_max: max,
        bytes_in,
        bytes_out,
        kept,
    }
}

/// `rosetta_filter` with nothing but a parser: what routing and `auto`
/// cost over the parser they select is the difference from these.
const PLAIN_ENVOY: &str = concat!(
    "parsers = \"envoy\"\n",
    "normalise_time = false\nlevels = false\ntemplates = false\n"
);
const PLAIN_AUTO: &str = concat!(
    "parsers = \"auto\"\n",
    "normalise_time = false\nlevels = false\ntemplates = false\n"
);
const PLAIN_INGRESS: &str = concat!(
    "parsers = \"nginx-ingress\"\n",
    "normalise_time = false\nlevels = false\ntemplates = false\n"
);
const PLAIN_ROUTED: &str = concat!(
    "parsers = \"none\"\n",
    "normalise_time = false\nlevels = false\ntemplates = false\n",
    "[[route]]\nname = \"others\"\nnamespace = \"other\"\nparsers = \"auto\"\n",
    "[[route]]\nname = \"sidecars\"\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n"
);

/// [`PLAIN_ROUTED`] with a limit on the sidecars' route whose budgets are
/// never reached, so that every record pays the limiter and none is
/// dropped: its cost is the difference from the routed row.
const LIMITED_FEW: &str = concat!(
    "parsers = \"none\"\n",
    "normalise_time = false\nlevels = false\ntemplates = false\n",
    "[[route]]\nname = \"others\"\nnamespace = \"other\"\nparsers = \"auto\"\n",
    "[[route]]\nname = \"sidecars\"\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n",
    "[[route.limit]]\nname = \"per-client\"\nkey = \"{downstream_remote_address_ip}\"\n",
    "records_per_sec = 1000000000\nrecords_burst = 1000000000\n"
);
const LIMITED_MANY: &str = concat!(
    "parsers = \"none\"\n",
    "normalise_time = false\nlevels = false\ntemplates = false\n",
    "[[route]]\nname = \"others\"\nnamespace = \"other\"\nparsers = \"auto\"\n",
    "[[route]]\nname = \"sidecars\"\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n",
    "[[route.limit]]\nname = \"per-address\"\nkey = \"{downstream_remote_address}\"\n",
    "records_per_sec = 1000000000\nrecords_burst = 1000000000\nmax_keys = 10000\n"
);

/// `rosetta_filter` with the meaning steps on (their defaults) and nothing
/// else: [`PLAIN_ROUTED`] plus normalised time and level.
const ROUTED_MEANING: &str = concat!(
    "parsers = \"none\"\n",
    "templates = false\n",
    "[[route]]\nname = \"others\"\nnamespace = \"other\"\nparsers = \"auto\"\n",
    "[[route]]\nname = \"sidecars\"\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n"
);
/// No parser and no meaning: what it costs to take a record in and give
/// it back.
const UNPARSED: &str =
    "parsers = \"none\"\nnormalise_time = false\nlevels = false\ntemplates = false\n";
/// ingress-nginx with time and level normalised.
const INGRESS_MEANING: &str = "parsers = \"nginx-ingress\"\ntemplates = false\n";
/// Application lines with time and level, without and with templates.
const AUTO_NO_TEMPLATES: &str = "parsers = \"auto\"\ntemplates = false\n";
const AUTO: &str = "parsers = \"auto\"\n";

/// The tag of every record of the fuel figures (a route on `istio-proxy`
/// picks the sidecars; `auto` takes the rest).
const TAG: &str = "kube.shop.productpage.istio-proxy";
const APP_TAG: &str = "kube.shop.orders.orders";

/// A random version-4 UUID.
fn uuid(rng: &mut Rng) -> String {
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        rng.next() as u32,
        rng.next() as u16,
        rng.below(0xfff),
        rng.below(0xfff),
        rng.next() & 0xffff_ffff_ffff
    )
}

/// A 200-byte-class message: free text with the variable parts a
/// template masks (numbers, addresses, ids, durations, key=value pairs).
fn message(rng: &mut Rng) -> String {
    let id = uuid(rng);
    match rng.below(4) {
        0 => format!(
            "Failed to connect to upstream 10.44.{}.{}:9080 for request {id} after {} retries in {}ms: connection refused (errno=111) user_id={} path=/api/v1/products/{}/reviews",
            rng.below(255),
            rng.below(255),
            rng.below(5),
            rng.below(5000),
            rng.below(100_000),
            rng.below(500)
        ),
        1 => format!(
            "Order {} for customer {} accepted: {} items, total {}.{:02} EUR, payment {id} authorised by gateway psp-{} in {}ms, shipping to warehouse wh-{}",
            rng.below(10_000_000),
            rng.below(1_000_000),
            1 + rng.below(20),
            rng.below(2000),
            rng.below(100),
            rng.below(9),
            rng.below(900),
            rng.below(40)
        ),
        2 => format!(
            "Slow query on table orders_{} took {}.{:03}s (threshold 1s): SELECT * FROM orders WHERE customer_id = {} AND created_at > '2026-11-{:02}' trace_id={id}",
            rng.below(16),
            1 + rng.below(9),
            rng.below(1000),
            rng.below(1_000_000),
            1 + rng.below(27)
        ),
        _ => format!(
            "Cache miss for key session:{id} on node redis-{}.cache.svc:6379, refilled {} bytes from origin 0x{:08x} in {}us, hit ratio now {}.{}%",
            rng.below(6),
            rng.below(65536),
            rng.next() as u32,
            rng.below(100_000),
            rng.below(100),
            rng.below(10)
        ),
    }
}

/// A message of about 200 bytes that is mostly prose, with one or two
/// variable parts: the common case in application logs.
fn prose(rng: &mut Rng) -> String {
    match rng.below(4) {
        0 => format!(
            "Starting the HTTP server on port {} with the configuration loaded from /etc/orders/config.yaml and the default worker pool; waiting for the load balancer before serving traffic",
            8000 + rng.below(100)
        ),
        1 => format!(
            "Reconciling deployment shop/orders: the desired replica count differs from the observed one ({}), scaling the replica set and waiting for the new pods to become ready",
            rng.below(10)
        ),
        2 => format!(
            "The payment provider answered with a temporary error for order {}; the request will be retried with exponential backoff until the configured deadline is reached",
            rng.below(10_000_000)
        ),
        _ => format!(
            "Background job cleanup-sessions finished: expired sessions were removed from the store and the next run is scheduled in {} minutes according to the cron expression",
            1 + rng.below(59)
        ),
    }
}

/// A JSON application line whose message is `msg`.
fn json_line_with(rng: &mut Rng, msg: &str) -> String {
    let level = ["info", "info", "warn", "error"][rng.below(4) as usize];
    serde_json::json!({ "level": level, "ts": time(rng), "msg": msg }).to_string()
}

/// The objects of the `.jsonl` files of `tests/<dir>` (lines starting with
/// `#` are comments), file by file in name order, but those of `skip`.
fn jsonl_objects(dir: &str, skip: &str) -> Vec<serde_json::Value> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("a tests directory")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "jsonl") && p.file_name().is_some_and(|n| n != skip)
        })
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a jsonl file");
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            objects.push(serde_json::from_str(line).expect("one JSON object a line"));
        }
    }
    objects
}

/// The messages of tests/templates/ (Loghub samples of eight programs).
fn loghub_messages() -> Vec<String> {
    jsonl_objects("templates", "")
        .iter()
        .filter_map(|case| case["message"].as_str().map(str::to_string))
        .collect()
}

/// JSON lines whose `msg` is each of `messages` (levels drawn from `rng`),
/// run without and with templates: the messages' mean length and both
/// runs.
fn templating_runs(messages: &[String], rng: &mut Rng) -> (f64, Run, Run) {
    let records: Vec<Vec<u8>> = messages
        .iter()
        .map(|m| docker_record(&json_line_with(rng, m)))
        .collect();
    let mean = messages.iter().map(String::len).sum::<usize>() as f64 / messages.len() as f64;
    let without = run("rosetta_filter", APP_TAG, Some(AUTO_NO_TEMPLATES), &records);
    let with = run("rosetta_filter", APP_TAG, Some(AUTO), &records);
    (mean, without, with)
}

/// What templating adds per message, and per 200 bytes of message, on
/// JSON lines whose `msg` is each of `messages`.
fn templating_table(sets: &[(&str, Vec<String>)]) {
    println!("## Templating: what it adds per message (JSON lines, `auto`, time and level on)\n");
    println!("| messages | count | mean bytes | without | with | added | added per 200 bytes |");
    println!("|---|---|---|---|---|---|---|");
    let mut rng = Rng(0x5eed_1234_abcd_0003);
    for (name, messages) in sets {
        let (mean, a, b) = templating_runs(messages, &mut rng);
        let added = b.fuel_mean - a.fuel_mean;
        println!(
            "| {name} | {} | {mean:.0} | {:.0} | {:.0} | {added:+.0} | {:.0} |",
            messages.len(),
            a.fuel_mean,
            b.fuel_mean,
            added / mean * 200.0
        );
    }
    println!();
}

/// What one variable part of each kind adds to a message's templating:
/// messages of 32 plain words (about 200 bytes), and the same messages with
/// eight of their words (every third from the third) replaced by parts of
/// one kind. The difference over the plain messages, divided by eight, is
/// what a part costs: finding it, classifying it, writing its mask, and
/// its own bytes.
fn part_cost_table() {
    const WORDS: &[&str] = &[
        "the",
        "request",
        "was",
        "sent",
        "to",
        "upstream",
        "service",
        "after",
        "waiting",
        "for",
        "connection",
        "pool",
        "and",
        "retry",
        "budget",
        "while",
        "cache",
        "refill",
        "finished",
    ];
    type Part = fn(&mut Rng) -> String;
    let kinds: [(&str, Option<Part>); 7] = [
        ("plain words, no variable part", None),
        ("a number (`48213`)", Some(|r| r.below(100_000).to_string())),
        (
            "an IPv4 address (`10.44.7.19`)",
            Some(|r| format!("10.{}.{}.{}", r.below(255), r.below(255), r.below(255))),
        ),
        ("a UUID", Some(uuid)),
        (
            "a duration (`1874ms`)",
            Some(|r| format!("{}ms", r.below(5000))),
        ),
        (
            "a `key=value` pair (`user_id=77483`)",
            Some(|r| format!("user_id={}", r.below(100_000))),
        ),
        (
            "a quoted value (`'orders-7'`)",
            Some(|r| format!("'orders-{}'", r.below(10))),
        ),
    ];
    println!(
        "## Templating: what one variable part adds (JSON lines, `auto`, time and level on)\n"
    );
    println!(
        "| messages: 32 words, eight of them replaced by | mean bytes | templating adds per message | per variable part |"
    );
    println!("|---|---|---|---|");
    let mut base = 0.0;
    for (name, part) in kinds {
        // The same words for every kind, so that only the parts differ.
        let mut words = Rng(0x5eed_1234_abcd_0005);
        let mut values = Rng(0x5eed_1234_abcd_0006);
        let mut levels = Rng(0x5eed_1234_abcd_0007);
        let messages: Vec<String> = (0..4_000)
            .map(|_| {
                let mut message: Vec<String> =
                    (0..32).map(|_| words.pick(WORDS).to_string()).collect();
                if let Some(part) = part {
                    for k in 0..8 {
                        message[2 + 3 * k] = part(&mut values);
                    }
                }
                message.join(" ")
            })
            .collect();
        let (mean, a, b) = templating_runs(&messages, &mut levels);
        let added = b.fuel_mean - a.fuel_mean;
        if part.is_none() {
            base = added;
            println!("| {name} | {mean:.0} | {added:.0} | - |");
        } else {
            println!(
                "| {name} | {mean:.0} | {added:.0} | {:+.0} |",
                (added - base) / 8.0
            );
        }
    }
    println!();
}

/// One JSON application line carrying [`message`].
fn json_app_line(rng: &mut Rng) -> String {
    let level = ["info", "info", "warn", "error"][rng.below(4) as usize];
    let body = serde_json::json!({
        "level": level,
        "ts": time(rng),
        "msg": message(rng),
        "service": "orders",
    });
    body.to_string()
}

/// Which of fluent-bit's stock regex parsers (conf/parsers.conf) reads a
/// line: the one an operator would configure for its format.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stock {
    Istio,
    Envoy,
    Ingress,
    Apache2,
    ApacheError,
    Syslog5424,
    Syslog3164,
}

/// fluent-bit's stock regexes, as conf/parsers.conf writes them.
fn stock_regex(stock: Stock) -> &'static str {
    match stock {
        Stock::Istio => STOCK_ISTIO,
        Stock::Envoy => {
            r#"^\[(?<start_time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)? (?<protocol>\S+)" (?<code>[^ ]*) (?<response_flags>[^ ]*) (?<bytes_received>[^ ]*) (?<bytes_sent>[^ ]*) (?<duration>[^ ]*) (?<x_envoy_upstream_service_time>[^ ]*) "(?<x_forwarded_for>[^ ]*)" "(?<user_agent>[^\"]*)" "(?<request_id>[^\"]*)" "(?<authority>[^ ]*)" "(?<upstream_host>[^ ]*)""#
        }
        Stock::Ingress => {
            r#"^(?<host>[^ ]*) - (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^\"]*?)(?: +\S*)?)?" (?<code>[^ ]*) (?<size>[^ ]*) "(?<referer>[^\"]*)" "(?<agent>[^\"]*)" (?<request_length>[^ ]*) (?<request_time>[^ ]*) \[(?<proxy_upstream_name>[^ ]*)\] (\[(?<proxy_alternative_upstream_name>[^ ]*)\] )?(?<upstream_addr>[^ ]*) (?<upstream_response_length>[^ ]*) (?<upstream_response_time>[^ ]*) (?<upstream_status>[^ ]*) (?<reg_id>[^ ]*).*$"#
        }
        Stock::Apache2 => {
            r#"^(?<host>[^ ]*) [^ ]* (?<user>[^ ]*) \[(?<time>[^\]]*)\] "(?<method>\S+)(?: +(?<path>[^ ]*) +\S*)?" (?<code>[^ ]*) (?<size>[^ ]*)(?: "(?<referer>[^\"]*)" "(?<agent>.*)")?$"#
        }
        Stock::ApacheError => {
            r#"^\[[^ ]* (?<time>[^\]]*)\] \[(?<level>[^\]]*)\](?: \[pid (?<pid>[^\]]*)\])?( \[client (?<client>[^\]]*)\])? (?<message>.*)$"#
        }
        Stock::Syslog5424 => {
            r#"^\<(?<pri>[0-9]{1,5})\>1 (?<time>[^ ]+) (?<host>[^ ]+) (?<ident>[^ ]+) (?<pid>[-0-9]+) (?<msgid>[^ ]+) (?<extradata>(\[(.*?)\]|-)) (?<message>.+)$"#
        }
        Stock::Syslog3164 => {
            r#"/^\<(?<pri>[0-9]+)\>(?<time>[^ ]* {1,2}[^ ]* [^ ]*) (?<host>[^ ]*) (?<ident>[a-zA-Z0-9_\/\.\-]*)(?:\[(?<pid>[0-9]+)\])?(?:[^\:]*\:)? *(?<message>.*)$/"#
        }
    }
}

/// A stock regex in both engines: Oniguruma as fluent-bit runs it, and the
/// `regex` crate after rosetta's translation of user parsers (the same
/// pattern in that crate's syntax).
struct Engines {
    onig: onig::Regex,
    regex: regex::Regex,
}

impl Engines {
    fn new(stock: Stock) -> Engines {
        let (body, _, options) = rosetta::user_parser::unwrap_slashes(stock_regex(stock));
        let onig = onig::Regex::with_options(
            body,
            onig::RegexOptions::REGEX_OPTION_NONE,
            onig::Syntax::ruby(),
        )
        .expect("the stock regex compiles in Oniguruma");
        let translated = rosetta::user_parser::translate(body, options)
            .expect("the stock regex translates for the regex crate");
        let regex = regex::RegexBuilder::new(&translated.pattern)
            .multi_line(true)
            .build()
            .expect("the translated regex compiles");
        Engines { onig, regex }
    }
}

/// An application mix: what `auto` meets among ordinary containers.
fn app_line(rng: &mut Rng) -> (String, Option<Stock>) {
    let t = time(rng);
    match rng.below(9) {
        0 | 1 => (json_app_line(rng), None),
        2 => (
            format!(
                "time={t} level={} msg=\"request served\" method=GET path={} status={} duration={}ms",
                ["info", "warn", "error"][rng.below(3) as usize],
                rng.pick(PATHS),
                ["200", "404", "500"][rng.below(3) as usize],
                rng.below(900)
            ),
            None,
        ),
        3 => (
            format!(
                "E1127 08:{:02}:{:02}.{:06}       1 reflector.go:{}] k8s.io/client-go/informers/factory.go:150: Failed to watch *v1.Pod: Get \"https://10.96.0.1:443/api/v1/pods?resourceVersion={}\": dial tcp 10.96.0.1:443: connect: connection refused",
                rng.below(60),
                rng.below(60),
                rng.below(1_000_000),
                rng.below(500),
                rng.below(10_000_000)
            ),
            None,
        ),
        4 => (
            format!(
                "2026/11/27 08:{:02}:{:02} http: TLS handshake error from 10.44.{}.{}:{}: EOF",
                rng.below(60),
                rng.below(60),
                rng.below(255),
                rng.below(255),
                40000 + rng.below(20000)
            ),
            None,
        ),
        5 => (
            format!(
                "2026/11/27 08:{:02}:{:02} [error] 31#31: *{} connect() failed (111: Connection refused) while connecting to upstream, client: 10.128.0.{}, server: shop.example, request: \"GET {} HTTP/1.1\", upstream: \"http://10.44.1.27:9080{}\", host: \"shop.example\"",
                rng.below(60),
                rng.below(60),
                rng.below(100_000),
                rng.below(255),
                rng.pick(PATHS),
                rng.pick(PATHS)
            ),
            None,
        ),
        6 => (
            format!(
                "10.128.0.{} - - [27/Nov/2026:08:{:02}:{:02} +0000] \"GET {} HTTP/1.1\" {} {} \"https://shop.example/\" \"{}\"",
                rng.below(255),
                rng.below(60),
                rng.below(60),
                rng.pick(PATHS),
                ["200", "304", "404"][rng.below(3) as usize],
                rng.below(20000),
                rng.pick(AGENTS)
            ),
            Some(Stock::Apache2),
        ),
        7 => (
            format!(
                "[Fri Nov 27 08:{:02}:{:02}.{:06} 2026] [proxy:error] [pid {}] [client 10.128.0.{}:{}] AH00957: HTTP: attempt to connect to 10.44.1.27:9080 (backend) failed",
                rng.below(60),
                rng.below(60),
                rng.below(1_000_000),
                rng.below(40000),
                rng.below(255),
                40000 + rng.below(20000)
            ),
            Some(Stock::ApacheError),
        ),
        _ => {
            if rng.below(2) == 0 {
                (
                    format!(
                        "<{}>1 {t} node-{}.cluster sshd {} - - Accepted publickey for deploy from 10.0.0.{} port {} ssh2",
                        rng.below(192),
                        rng.below(40),
                        rng.below(40000),
                        rng.below(255),
                        40000 + rng.below(20000)
                    ),
                    Some(Stock::Syslog5424),
                )
            } else {
                (
                    format!(
                        "<{}>Nov 27 08:{:02}:{:02} node-{} kernel: [{}.{:06}] TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies.",
                        rng.below(192),
                        rng.below(60),
                        rng.below(60),
                        rng.below(40),
                        rng.below(100_000),
                        rng.below(1_000_000)
                    ),
                    Some(Stock::Syslog3164),
                )
            }
        }
    }
}

/// Lines with the stock regex parser that reads each.
type Lines = Vec<(String, Option<Stock>)>;

/// One row of the steps table: what it measures, the tag, the
/// configuration without the step and with it, and the records.
type Step<'r> = (
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    &'r [Vec<u8>],
);

/// One corpus of the report.
struct Corpus {
    name: &'static str,
    function: &'static str,
    toml: Option<&'static str>,
    tag: &'static str,
    /// The records as fluent-bit hands them over.
    records: Vec<Vec<u8>>,
    /// Each record's line, and the stock regex parser that reads it.
    lines: Lines,
}

fn corpus(
    name: &'static str,
    function: &'static str,
    toml: Option<&'static str>,
    tag: &'static str,
    lines: Lines,
) -> Corpus {
    let records = lines.iter().map(|(l, _)| docker_record(l)).collect();
    Corpus {
        name,
        function,
        toml,
        tag,
        records,
        lines,
    }
}

/// The hostile corpus's cases that are a docker record around one line,
/// run by their own function with its defaults (tests/hostile/; the cases
/// with a configuration, msgpack or built values are left out here).
fn hostile_corpus() -> Vec<Corpus> {
    let mut by_function: Vec<(&'static str, Lines)> = vec![
        ("rosetta_envoy", Vec::new()),
        ("rosetta_nginx_ingress", Vec::new()),
        ("rosetta_filter", Vec::new()),
    ];
    for case in jsonl_objects("hostile", "known_bugs.jsonl") {
        let simple = [
            "toml",
            "msgpack",
            "extra",
            "tag",
            "event_time",
            "stream",
            "time",
        ]
        .iter()
        .all(|k| case.get(k).is_none())
            && case.get("newline").is_none();
        let (Some(log), true) = (case["log"].as_str(), simple) else {
            continue;
        };
        let function = case["function"].as_str().unwrap_or_default();
        let stock = match (function, case["format"].as_str()) {
            ("rosetta_envoy", Some("envoy")) => Some(Stock::Envoy),
            ("rosetta_envoy", _) => Some(Stock::Istio),
            ("rosetta_nginx_ingress", _) => Some(Stock::Ingress),
            (_, Some("apache")) => Some(Stock::Apache2),
            (_, Some("apache-error")) => Some(Stock::ApacheError),
            (_, Some("syslog")) if log.contains(">1 ") => Some(Stock::Syslog5424),
            (_, Some("syslog")) => Some(Stock::Syslog3164),
            _ => None,
        };
        if let Some((_, lines)) = by_function.iter_mut().find(|(f, _)| *f == function) {
            lines.push((log.to_string(), stock));
        }
    }
    by_function
        .into_iter()
        .map(|(function, lines)| {
            let name = match function {
                "rosetta_envoy" => "hostile: Envoy and Istio cases",
                "rosetta_nginx_ingress" => "hostile: ingress-nginx cases",
                _ => "hostile: every other format (`auto`)",
            };
            corpus(name, function, None, HOSTILE_TAG, lines)
        })
        .collect()
}

/// The hostile corpus's tag (tests/hostile_corpus.rs).
const HOSTILE_TAG: &str = "kube.shop.web-6d8f9b7c4-x2x9z.web";

/// Nanoseconds per record of rosetta's whole path compiled natively (find
/// the line, parse, type, write the record): the module's own code, run by
/// the CPU instead of an interpreter.
fn native_rosetta(c: &Corpus, rounds: usize) -> f64 {
    let config = match c.toml {
        Some(text) => rosetta::config::Config::parse("rosetta.toml", text),
        None => Ok(rosetta::config::Config::default()),
    };
    let filter = rosetta::filter::Filter::load(config, None, 1);
    let entry = match c.function {
        "rosetta_envoy" => rosetta::filter::Entry::Envoy,
        "rosetta_nginx_ingress" => rosetta::filter::Entry::NginxIngress,
        _ => rosetta::filter::Entry::Filter,
    };
    let (sec, nsec) = record_time();
    let time = rosetta::time::Timestamp::new(i64::from(sec), nsec, 9).expect("a time");
    let mut buf = Vec::new();
    let start = Instant::now();
    for _ in 0..rounds {
        for record in &c.records {
            filter.run(entry, c.tag.as_bytes(), time, record, &mut buf);
            std::hint::black_box(&buf);
        }
    }
    start.elapsed().as_nanos() as f64 / (rounds * c.records.len()) as f64
}

/// Nanoseconds per line of the stock regexes in each engine, over the
/// lines that have one, and how many of those lines each engine matched.
fn native_engines(c: &Corpus, rounds: usize) -> Option<(f64, f64, usize, usize, usize)> {
    let mut compiled: Vec<(Stock, Engines)> = Vec::new();
    let mut lines: Vec<(&str, usize)> = Vec::new();
    for (line, stock) in &c.lines {
        let Some(stock) = *stock else { continue };
        let at = match compiled.iter().position(|(s, _)| *s == stock) {
            Some(at) => at,
            None => {
                compiled.push((stock, Engines::new(stock)));
                compiled.len() - 1
            }
        };
        lines.push((line.as_str(), at));
    }
    if lines.is_empty() {
        return None;
    }
    let runs = (rounds * lines.len()) as f64;
    let mut onig_matched = 0;
    let start = Instant::now();
    for round in 0..rounds {
        for (line, at) in &lines {
            let m = compiled[*at].1.onig.captures(line).is_some();
            onig_matched += usize::from(m && round == 0);
        }
    }
    let onig_ns = start.elapsed().as_nanos() as f64 / runs;
    let mut regex_matched = 0;
    let start = Instant::now();
    for round in 0..rounds {
        for (line, at) in &lines {
            let m = compiled[*at].1.regex.captures(line).is_some();
            regex_matched += usize::from(m && round == 0);
        }
    }
    let regex_ns = start.elapsed().as_nanos() as f64 / runs;
    Some((onig_ns, regex_ns, lines.len(), onig_matched, regex_matched))
}

fn report(corpora: &[Corpus]) {
    println!("## Report: one row per corpus\n");
    println!(
        "Fuel: the module in the host, mean and max per record. Native: ns per record on this \
         machine, rosetta's whole path compiled natively, and fluent-bit's stock regex parser \
         for each line's format in Oniguruma (the engine family of fluent-bit's `parser` filter) \
         and in the `regex` crate (captures only), over the lines that have one. Of it, bytes \
         moved: the part of the fuel that counts the bytes `memory.copy` and `memory.fill` move, \
         one unit each (fluent-bit's interpreter runs each as one native memmove or memset).\n"
    );
    println!(
        "| corpus | records (kept) | function | fuel/record | of it, bytes moved | fuel max | output/input bytes | rosetta ns | Oniguruma ns | regex ns | lines with a stock regex (matched: onig / regex) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for c in corpora {
        let r = run(c.function, c.tag, c.toml, &c.records);
        let ops = run_counting(c.function, c.tag, c.toml, &c.records, false);
        let rounds = (200_000 / c.records.len().max(1)).clamp(1, 20);
        let ns = native_rosetta(c, rounds);
        let engines = native_engines(c, rounds);
        let (onig, regex, stock) = match engines {
            Some((o, re, n, om, rm)) => (
                format!("{o:.0}"),
                format!("{re:.0}"),
                format!("{n} ({om} / {rm})"),
            ),
            None => ("-".into(), "-".into(), "0".into()),
        };
        println!(
            "| {} | {} ({}) | `{}` | {:.0} | {:.0} | {} | {:.2} | {ns:.0} | {onig} | {regex} | {stock} |",
            c.name,
            r.records,
            r.kept,
            c.function,
            r.fuel_mean,
            r.fuel_mean - ops.fuel_mean,
            r.fuel_max,
            r.bytes_out as f64 / r.bytes_in as f64
        );
    }
    println!();
}

/// `records` with the HTTP entries' client (10.44.3.9) drawn from `n`
/// addresses.
fn clients(records: &[Vec<u8>], n: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(0x5eed_1234_abcd_0004);
    records
        .iter()
        .map(|r| {
            let text = String::from_utf8_lossy(r);
            let k = rng.below(n);
            let ip = format!(" 10.{}.{}.{}:", 100 + k / 65536, k / 256 % 256, k % 256);
            text.replacen(" 10.44.3.9:", &ip, 1).into_bytes()
        })
        .collect()
}

/// What each optional step adds: the same records with and without it.
fn steps(istio: &[Vec<u8>], ingress: &[Vec<u8>], app: &[Vec<u8>]) {
    println!("## What each step costs (fuel per record, same records without and with it)\n");
    println!("| step | records | without | with | added |");
    println!("|---|---|---|---|---|");
    // The istio-proxy records from 10 clients and from 10,000: the TCP
    // entries' client and 9 or 9,999 others.
    let ten_clients = clients(istio, 9);
    let many_clients = clients(istio, 9_999);
    let rows: [Step; 10] = [
        (
            "routing by container, over `parsers = \"envoy\"` (istio-proxy)",
            TAG,
            Some(PLAIN_ENVOY),
            Some(PLAIN_ROUTED),
            istio,
        ),
        (
            "`auto` instead of the right parser (istio-proxy)",
            TAG,
            Some(PLAIN_ENVOY),
            Some(PLAIN_AUTO),
            istio,
        ),
        (
            "`auto` instead of the right parser (ingress-nginx)",
            TAG,
            Some(PLAIN_INGRESS),
            Some(PLAIN_AUTO),
            ingress,
        ),
        (
            "normalisation: time and level (istio-proxy, routed)",
            TAG,
            Some(PLAIN_ROUTED),
            Some(ROUTED_MEANING),
            istio,
        ),
        (
            "normalisation: time and level (ingress-nginx)",
            TAG,
            Some(PLAIN_INGRESS),
            Some(INGRESS_MEANING),
            ingress,
        ),
        (
            "normalisation: time and level (the application mix, `auto`)",
            APP_TAG,
            Some(PLAIN_AUTO),
            Some(AUTO_NO_TEMPLATES),
            app,
        ),
        (
            "a limit, 10 keys: per client IP (istio-proxy, routed)",
            TAG,
            Some(PLAIN_ROUTED),
            Some(LIMITED_FEW),
            &ten_clients,
        ),
        (
            "a limit, 10,000 keys: per client IP (istio-proxy, routed)",
            TAG,
            Some(PLAIN_ROUTED),
            Some(LIMITED_FEW),
            &many_clients,
        ),
        (
            "a limit, ~20,000 keys, max_keys 10,000 (a key forgotten on most records): per client address (istio-proxy, routed)",
            TAG,
            Some(PLAIN_ROUTED),
            Some(LIMITED_MANY),
            istio,
        ),
        (
            "templating: the application mix",
            APP_TAG,
            Some(AUTO_NO_TEMPLATES),
            Some(AUTO),
            app,
        ),
    ];
    for (step, tag, without, with, records) in rows {
        let a = run("rosetta_filter", tag, without, records);
        let b = run("rosetta_filter", tag, with, records);
        println!(
            "| {step} | {} | {:.0} | {:.0} | {:+.0} |",
            records.len(),
            a.fuel_mean,
            b.fuel_mean,
            b.fuel_mean - a.fuel_mean
        );
    }
    println!();
}

/// A hostile line of about `size` bytes: the client-controlled parts
/// stuffed with `filler`.
fn hostile(kind: &str, size: usize) -> (String, &'static str) {
    let pad = |unit: &str| unit.repeat(size / unit.len());
    match kind {
        "request line of N spaces" => (
            format!(
                r#"[2026-11-27T08:10:00.000Z] "GET {} HTTP/1.1" 200 - via_upstream - "-" 0 0 1 1 "-" "curl" "id" "host" "10.0.0.1:80" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:1 - default"#,
                pad(" ")
            ),
            "rosetta_envoy",
        ),
        "quotes in the User-Agent" => (
            format!(
                r#"[2026-11-27T08:10:00.000Z] "GET / HTTP/1.1" 200 - via_upstream - "-" 0 0 1 1 "-" "{}" "id" "host" "10.0.0.1:80" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:1 - default"#,
                pad("\" \"")
            ),
            "rosetta_envoy",
        ),
        "backslashes in the path" => (
            format!(
                r#"[2026-11-27T08:10:00.000Z] "GET /{} HTTP/1.1" 200 - via_upstream - "-" 0 0 1 1 "-" "curl" "id" "host" "10.0.0.1:80" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:1 - default"#,
                pad("\\")
            ),
            "rosetta_envoy",
        ),
        _ => (
            format!(
                r#"10.0.0.1 - - [27/Nov/2026:08:10:00 +0000] "GET /{} HTTP/1.1" 200 1 "-" "{}" 1 0.001 [up] [] 10.0.0.2:80 1 0.001 200 id"#,
                pad(" "),
                pad("\"")
            ),
            "rosetta_nginx_ingress",
        ),
    }
}

fn linear_table() {
    println!("## Linear time: fuel per input byte on hostile lines\n");
    println!("| line | function | 1 KiB | 64 KiB | 1 MiB | max/min |");
    println!("|---|---|---|---|---|---|");
    for kind in [
        "request line of N spaces",
        "quotes in the User-Agent",
        "backslashes in the path",
        "ingress-nginx: spaces and quotes",
    ] {
        let mut per_byte = Vec::new();
        let mut function = "";
        for size in [1 << 10, 64 << 10, 1 << 20] {
            let (line, f) = hostile(kind, size);
            function = f;
            let record = docker_record(&line);
            let r = run(f, TAG, None, std::slice::from_ref(&record));
            per_byte.push(r.fuel_mean / record.len() as f64);
        }
        let max = per_byte.iter().cloned().fold(f64::MIN, f64::max);
        let min = per_byte.iter().cloned().fold(f64::MAX, f64::min);
        println!(
            "| {kind} | `{function}` | {:.2} | {:.2} | {:.2} | {:.2} |",
            per_byte[0],
            per_byte[1],
            per_byte[2],
            max / min
        );
    }
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    println!("# rosetta benchmark\n");
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let istio = (0..100_000)
        .map(|_| (istio_line(&mut rng), Some(Stock::Istio)))
        .collect();
    let envoy = (0..20_000)
        .map(|_| (envoy_line(&mut rng), Some(Stock::Envoy)))
        .collect();
    let ingress = (0..20_000)
        .map(|_| (ingress_line(&mut rng), Some(Stock::Ingress)))
        .collect();
    let app = (0..20_000).map(|_| app_line(&mut rng)).collect();
    let dense: Vec<String> = (0..20_000).map(|_| message(&mut rng)).collect();
    let prose: Vec<String> = (0..20_000).map(|_| prose(&mut rng)).collect();
    let mut corpora = vec![
        corpus("istio-proxy", "rosetta_envoy", None, TAG, istio),
        corpus("Envoy default format", "rosetta_envoy", None, TAG, envoy),
        corpus("ingress-nginx", "rosetta_nginx_ingress", None, TAG, ingress),
        corpus(
            "application mix: JSON, logfmt, klog, Go, nginx and Apache error, combined, syslog (`auto`, time, level, templates)",
            "rosetta_filter",
            Some(AUTO),
            APP_TAG,
            app,
        ),
    ];
    // The floor under every figure above: the record checked, its line
    // found and the record written back, with no parser.
    let unparsed = corpora[0]
        .lines
        .iter()
        .map(|(line, _)| (line.clone(), None))
        .collect();
    corpora.push(corpus(
        "istio-proxy, no parser (`parsers = \"none\"`): the record checked and written back",
        "rosetta_filter",
        Some(UNPARSED),
        TAG,
        unparsed,
    ));
    corpora.extend(hostile_corpus());
    report(&corpora);
    steps(
        &corpora[0].records,
        &corpora[2].records,
        &corpora[3].records,
    );
    templating_table(&[
        ("~200 bytes of prose, one variable part", prose),
        (
            "~200 bytes dense with variables (addresses, ids, numbers, key=value)",
            dense,
        ),
        (
            "Loghub samples of eight programs (tests/templates/)",
            loghub_messages(),
        ),
    ]);
    part_cost_table();
    linear_table();
}
