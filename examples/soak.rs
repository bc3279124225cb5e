//! A soak run: millions of mixed records through one module instance, as
//! one fluent-bit `[FILTER]` would see them over days, checking that none
//! is lost, that linear memory stays flat and that fuel per record does
//! not drift.
//!
//! ```text
//! cargo run --profile host --example soak -- [RECORDS] [--config FILE]
//! ```
//!
//! `RECORDS` defaults to 10,000,000. The records cycle through every line
//! of `examples/logs/` (istio-proxy, ingress-nginx, an application's mixed
//! lines), each made distinct by a counter in its request id or message,
//! plus one hostile line in a hundred (quotes, spaces and backslashes
//! where a client controls the text). They go to `rosetta_filter` with
//! `examples/rosetta.toml` (or `--config FILE`), tagged by their file.
//!
//! Printed: records in, kept, dropped by the host, and suppressed as the
//! records' own `rosetta.suppressed.records` tallies say; linear memory
//! after warm-up (the first 100,000 records) and at the end; mean fuel per
//! record for each million. Exit status 1 when a record is lost
//! (in != kept + counted suppressions), memory grew by more than 1 MiB
//! after warm-up, or the last million's mean fuel differs from the first's
//! by more than 5%.

use rosetta_host::tail::tag_for_path;
use rosetta_host::{Body, Host, HostConfig, PreopenDir, to_fluent_bit_json};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const WARM_UP: u64 = 100_000;
const MILLION: u64 = 1_000_000;

struct Source {
    tag: String,
    lines: Vec<(String, String)>,
}

fn sources() -> Vec<Source> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines = text
                .lines()
                .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
                .filter_map(|v| {
                    let log = v.get("log")?.as_str()?.to_string();
                    let stream = v.get("stream")?.as_str()?.to_string();
                    Some((log, stream))
                })
                .collect();
            Source {
                tag: tag_for_path(path),
                lines,
            }
        })
        .collect()
}

/// The `time` of every record, as docker's json-file driver writes it.
const DOCKER_TIME: &str = "2026-11-27T08:10:00.100Z";

/// The n-th record: a line of the examples with its digits varied by `n`,
/// or, one in a hundred, a hostile access-log line.
fn record(n: u64, sources: &[Source]) -> (String, Vec<u8>) {
    let source = &sources[(n % sources.len() as u64) as usize];
    let (line, stream) =
        &source.lines[((n / sources.len() as u64) % source.lines.len() as u64) as usize];
    let mut log = line.replacen("0", &format!("{}", n % 10), 1);
    if n % 100 == 99 {
        let filler = ["\" \"", "   ", "\\\\", "\"-\" 200 "][(n / 100 % 4) as usize].repeat(40);
        log = format!(
            "[2026-11-27T08:10:00.100Z] \"GET /{filler} HTTP/1.1\" 200 - via_upstream - \"-\" 0 0 1 1 \"-\" \"{filler}\" \"id-{n}\" \"host\" \"10.0.0.1:80\" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:1 - default\n"
        );
    }
    let body = Body::Map(vec![
        (Body::str("log"), Body::str(&log)),
        (Body::str("stream"), Body::str(stream)),
        (Body::str("time"), Body::str(DOCKER_TIME)),
    ]);
    (source.tag.clone(), to_fluent_bit_json(&body))
}

fn suppressed_in(out: &[u8]) -> u64 {
    const KEY: &[u8] = b"rosetta.suppressed.records";
    if !out.windows(KEY.len()).any(|w| w == KEY) {
        return 0;
    }
    serde_json::from_slice::<serde_json::Value>(out)
        .ok()
        .and_then(|v| v.get("rosetta.suppressed.records").and_then(|n| n.as_u64()))
        .unwrap_or(0)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut total = 10 * MILLION;
    let mut config = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/rosetta.toml");
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--config" => config = it.next().map(PathBuf::from).unwrap_or(config),
            "--bench" => {}
            n => match n.replace('_', "").parse() {
                Ok(n) => total = n,
                Err(_) => {
                    eprintln!("usage: soak [RECORDS] [--config FILE]");
                    return ExitCode::from(2);
                }
            },
        }
    }
    let dir = std::env::temp_dir().join(format!("rosetta-soak-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    if std::fs::copy(&config, dir.join("rosetta.toml")).is_err() {
        eprintln!("cannot read {}", config.display());
        return ExitCode::from(1);
    }
    let module = std::env::var_os("ROSETTA_WASM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/wasm32-wasip1/release/rosetta.wasm"));
    let mut host_config = HostConfig::new(module);
    host_config.function = "rosetta_filter".to_string();
    host_config.accessible_paths = Vec::new();
    host_config.mapped_dirs = vec![PreopenDir {
        host: dir.clone(),
        guest: ".".to_string(),
    }];
    let mut host = match Host::new(host_config) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("the module does not load (run `make build`): {e}");
            return ExitCode::from(1);
        }
    };
    let sources = sources();
    // The record time fluent-bit passes: tail's stock `docker` parser reads
    // it from the record's `time` (`Time_Key time`).
    let Some((sec, nsec)) = rosetta_host::tail::parse_time(DOCKER_TIME.as_bytes(), false) else {
        eprintln!("cannot read the record time {DOCKER_TIME}");
        return ExitCode::from(1);
    };
    let (mut kept, mut dropped, mut suppressed) = (0u64, 0u64, 0u64);
    let mut memory_after_warm_up = 0;
    let mut fuel_this_million = 0u64;
    let mut per_million: Vec<f64> = Vec::new();
    for n in 0..total {
        let (tag, rec) = record(n, &sources);
        let outcome = host.filter(&tag, sec, nsec, &rec);
        fuel_this_million += outcome.fuel;
        match outcome.raw() {
            Some(out) => {
                kept += 1;
                suppressed += suppressed_in(out);
            }
            None => dropped += 1,
        }
        if n + 1 == WARM_UP.min(total) {
            memory_after_warm_up = host.memory_bytes();
        }
        if (n + 1) % MILLION == 0 || n + 1 == total {
            let in_this = (n % MILLION) + 1;
            per_million.push(fuel_this_million as f64 / in_this as f64);
            eprintln!(
                "{:>10} records, fuel/record {:.0}",
                n + 1,
                per_million.last().unwrap_or(&0.0)
            );
            fuel_this_million = 0;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    let memory_end = host.memory_bytes();
    let first = per_million.first().copied().unwrap_or(0.0);
    let last = per_million.last().copied().unwrap_or(0.0);
    let drift = if first > 0.0 {
        (last - first).abs() / first
    } else {
        0.0
    };
    let lost = total as i64 - kept as i64 - suppressed as i64;
    println!("| what | figure |\n|---|---|");
    println!("| records in | {total} |");
    println!("| kept | {kept} |");
    println!("| dropped by the host (traps, bad answers) | {dropped} |");
    println!("| suppressed, as counted in the records | {suppressed} |");
    println!("| lost (in - kept - suppressed) | {lost} |");
    println!("| linear memory after {WARM_UP} records | {memory_after_warm_up} bytes |");
    println!("| linear memory at the end | {memory_end} bytes |");
    println!("| fuel/record, first million | {first:.0} |");
    println!("| fuel/record, last million | {last:.0} |");
    println!("| drift | {:.2}% |", drift * 100.0);
    let grown = memory_end.saturating_sub(memory_after_warm_up);
    if lost != 0 || dropped != 0 || grown > 1 << 20 || drift > 0.05 {
        println!(
            "\nFAILED: lost {lost}, dropped {dropped}, memory grew {grown} bytes, drift {:.2}%",
            drift * 100.0
        );
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}
