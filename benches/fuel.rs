//! `make bench`: what rosetta costs, printed as tables.
//!
//! Fuel (wasmtime's count of executed wasm operators, about one per
//! instruction) is deterministic: it is what the module costs inside
//! fluent-bit's interpreter, about 1 ns per unit there (see the contract,
//! section 7), whatever else the machine is doing. Native nanoseconds are
//! measured on this machine and are only a comparison between engines on
//! the same lines: rosetta's parser, the `regex` crate and Oniguruma (the
//! engine family of fluent-bit's own `parser` filter) running fluent-bit's
//! stock `istio-envoy-proxy` regex.
//!
//! The corpora are generated here from a fixed seed, so every run measures
//! the same records.

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

/// A record as fluent-bit's tail input with the docker parser hands it on.
fn docker_record(line: &str) -> Vec<u8> {
    let body = Body::map([
        ("log", Body::str(&format!("{line}\n"))),
        ("stream", Body::str("stdout")),
        ("time", Body::str("2026-11-27T08:10:00.123456789Z")),
    ]);
    to_fluent_bit_json(&body)
}

fn module() -> PathBuf {
    std::env::var_os("ROSETTA_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/wasm32-wasip1/release/rosetta.wasm"))
}

/// A host for `function`, with `toml` as its `rosetta.toml` (none: no file).
fn host(function: &str, toml: Option<&str>) -> Host {
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
    config.accessible_paths = Vec::new();
    config.mapped_dirs = vec![PreopenDir {
        host: dir,
        guest: ".".to_string(),
    }];
    let mut host = Host::new(config).expect("the module loads (run `make build` first)");
    // The first call loads the configuration; keep it out of the figures.
    host.filter("kube.bench", 0, 0, b"{}");
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

fn run(function: &str, toml: Option<&str>, records: &[Vec<u8>]) -> Run {
    let mut host = host(function, toml);
    let (mut total, mut max, mut bytes_in, mut bytes_out, mut kept) = (0u64, 0u64, 0, 0, 0);
    for record in records {
        let outcome = host.filter("kube.shop.productpage.istio-proxy", 0, 0, record);
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

fn fuel_table() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let istio: Vec<Vec<u8>> = (0..100_000)
        .map(|_| docker_record(&istio_line(&mut rng)))
        .collect();
    let envoy: Vec<Vec<u8>> = (0..20_000)
        .map(|_| docker_record(&envoy_line(&mut rng)))
        .collect();
    let ingress: Vec<Vec<u8>> = (0..20_000)
        .map(|_| docker_record(&ingress_line(&mut rng)))
        .collect();
    println!("## Fuel per record (whole path: find `log`, parse, type, write the new object)\n");
    println!(
        "| corpus | function | records | kept | fuel/record mean | max | output/input bytes |"
    );
    println!("|---|---|---|---|---|---|---|");
    let routed = include_str!("../examples/rosetta.toml");
    for (name, function, toml, records) in [
        ("istio-proxy (docker)", "rosetta_envoy", None, &istio),
        ("envoy default (docker)", "rosetta_envoy", None, &envoy),
        (
            "ingress-nginx (docker)",
            "rosetta_nginx_ingress",
            None,
            &ingress,
        ),
        (
            "istio-proxy, pass-through (`parsers = \"none\"`)",
            "rosetta_filter",
            Some("parsers = \"none\"\n"),
            &istio,
        ),
        (
            "istio-proxy, routed by container (examples/rosetta.toml)",
            "rosetta_filter",
            Some(routed),
            &istio,
        ),
        (
            "istio-proxy, `parsers = \"envoy\"`, nothing added",
            "rosetta_filter",
            Some(PLAIN_ENVOY),
            &istio,
        ),
        (
            "istio-proxy, `parsers = \"auto\"`, nothing added",
            "rosetta_filter",
            Some(PLAIN_AUTO),
            &istio,
        ),
        (
            "istio-proxy, routed by container, nothing added",
            "rosetta_filter",
            Some(PLAIN_ROUTED),
            &istio,
        ),
        (
            "istio-proxy, routed, nothing added, limited per client IP (2 keys)",
            "rosetta_filter",
            Some(LIMITED_FEW),
            &istio,
        ),
        (
            "istio-proxy, routed, nothing added, limited per client address (~20,000 keys, max_keys 10,000)",
            "rosetta_filter",
            Some(LIMITED_MANY),
            &istio,
        ),
        (
            "ingress-nginx, `parsers = \"nginx-ingress\"`, nothing added",
            "rosetta_filter",
            Some(PLAIN_INGRESS),
            &ingress,
        ),
        (
            "ingress-nginx, `parsers = \"auto\"`, nothing added",
            "rosetta_filter",
            Some(PLAIN_AUTO),
            &ingress,
        ),
    ] {
        let r = run(function, toml, records);
        println!(
            "| {name} | `{function}` | {} | {} | {:.0} | {} | {:.2} |",
            r.records,
            r.kept,
            r.fuel_mean,
            r.fuel_max,
            r.bytes_out as f64 / r.bytes_in as f64
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
            let r = run(f, None, std::slice::from_ref(&record));
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

fn native_table() {
    let mut rng = Rng(0x5eed_1234_abcd_0002);
    let lines: Vec<String> = (0..20_000).map(|_| istio_line(&mut rng)).collect();
    // What the parser sees: the line as it sits inside the record's JSON.
    let escaped: Vec<Vec<u8>> = lines
        .iter()
        .map(|l| {
            let json = serde_json::to_string(l).expect("string");
            json.as_bytes()[1..json.len() - 1].to_vec()
        })
        .collect();
    println!(
        "## Native time per istio-proxy line (this machine; {} lines)\n",
        lines.len()
    );
    println!("| engine | ns/line | lines matched |");
    println!("|---|---|---|");
    let mut fields = rosetta::formats::Fields::new();
    let start = Instant::now();
    let mut matched = 0;
    for line in &escaped {
        fields.clear();
        if rosetta::formats::envoy::parse(line, &mut fields).is_ok() {
            matched += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / lines.len() as f64;
    println!("| rosetta (`formats::envoy::parse`) | {ns:.0} | {matched} |");

    let re = regex::Regex::new(STOCK_ISTIO).expect("the stock regex compiles");
    let start = Instant::now();
    let mut matched = 0;
    for line in &lines {
        if let Some(c) = re.captures(line) {
            matched += usize::from(c.len() > 1);
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / lines.len() as f64;
    println!("| `regex` crate, stock `istio-envoy-proxy` | {ns:.0} | {matched} |");

    let onig = onig::Regex::with_options(
        STOCK_ISTIO,
        onig::RegexOptions::REGEX_OPTION_NONE,
        onig::Syntax::ruby(),
    )
    .expect("the stock regex compiles in Oniguruma");
    let start = Instant::now();
    let mut matched = 0;
    for line in &lines {
        if onig.captures(line).is_some() {
            matched += 1;
        }
    }
    let ns = start.elapsed().as_nanos() as f64 / lines.len() as f64;
    println!("| Oniguruma (`onig`), stock `istio-envoy-proxy` | {ns:.0} | {matched} |");
    println!();
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read.
    println!("# rosetta benchmark\n");
    fuel_table();
    linear_table();
    native_table();
}
