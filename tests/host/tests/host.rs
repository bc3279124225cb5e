//! The host's own tests: each runs a small WAT module from tests/fixtures
//! through [`Host`] and checks one rule of fluent-bit's wasm filter contract
//! (copies, verdicts, traps, memory, fuel, clocks, stdio, directories).

use rosetta_host::{
    Body, DropReason, EventFormat, Host, HostConfig, HostError, PreopenDir, Verdict, VirtualClock,
    module_report, to_fluent_bit_json, to_msgpack,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures")
        .join(name)
}

fn config(name: &str, function: &str) -> HostConfig {
    HostConfig {
        function: function.to_string(),
        ..HostConfig::new(fixture(name))
    }
}

fn load(config: HostConfig) -> Host {
    match Host::new(config) {
        Ok(host) => host,
        Err(e) => panic!("fixture failed to load: {e}"),
    }
}

fn host(name: &str, function: &str) -> Host {
    load(config(name, function))
}

/// A directory under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!("rosetta-host-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        assert!(std::fs::create_dir_all(&path).is_ok());
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record(pairs: &[(&str, &str)]) -> Vec<u8> {
    to_fluent_bit_json(&Body::map(pairs.iter().map(|(k, v)| (*k, Body::str(v)))))
}

fn error_message(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Error { message } => message,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn identity_keeps_the_record_and_the_memory_flat() {
    let mut host = host("identity.wat", "rosetta_filter");
    let input = record(&[("log", "hello"), ("stream", "stdout")]);
    let outcome = host.filter("kube.a.b.c", 1, 2, &input);
    assert_eq!(outcome.raw(), Some(&input[..]));
    assert_eq!(
        outcome.json(),
        Some(&json!({"log": "hello", "stream": "stdout"}))
    );
    let after_first = host.memory_bytes();
    for i in 0..300 {
        let input = record(&[("log", &format!("line {i}"))]);
        assert_eq!(host.filter("t", 1, 2, &input).raw(), Some(&input[..]));
    }
    assert_eq!(
        host.memory_bytes(),
        after_first,
        "one reused output buffer: memory must not grow"
    );
    let stats = host.stats();
    assert_eq!(
        (stats.records_in, stats.kept, stats.dropped, stats.errors),
        (301, 301, 0, 0)
    );
    assert!(host.log().is_empty(), "{:?}", host.log());
}

#[test]
fn tag_time_and_nul_terminated_copies_reach_the_module() {
    // echo_tag traps unless _initialize ran and both copies end in NUL.
    let mut host = host("identity.wat", "echo_tag");
    let outcome = host.filter("kube.ns.pod.web", 1_700_000_123, 456_789, b"{\"x\":1}");
    assert_eq!(
        outcome.raw(),
        Some(&br#"{"tag":"kube.ns.pod.web","sec":1700000123,"nsec":456789}"#[..])
    );
    let outcome = host.filter("", 0, 0, b"{}");
    assert_eq!(
        outcome.json(),
        Some(&json!({"tag": "", "sec": 0, "nsec": 0}))
    );
}

#[test]
fn fluent_bit_json_reaches_the_module_byte_for_byte() {
    let mut host = host("identity.wat", "rosetta_filter");
    let body = Body::Map(vec![
        (
            Body::str("log"),
            Body::Str(b"caf\xc3\xa9 \xf0\x9f\x98\x80 tab\there \x01 bad\xff end of line".to_vec()),
        ),
        (Body::str("n"), Body::Int(-3)),
        (Body::str("f"), Body::Float(2.5)),
    ]);
    let input = to_fluent_bit_json(&body);
    let expected: &[u8] =
        b"{\"log\":\"caf\\u00e9 \\ud83d\\ude00 tab\\there \\u0001 bad\xee\x83\xbf end of line\",\"n\":-3,\"f\":2.5}";
    assert_eq!(input, expected.to_vec());
    let outcome = host.filter("t", 0, 0, &input);
    assert_eq!(outcome.raw(), Some(expected));
    assert_eq!(
        outcome.json(),
        Some(&json!({"log": "café 😀 tab\there \u{1} bad\u{e0ff} end of line", "n": -3, "f": 2.5}))
    );
}

#[test]
fn large_records_pass_through_the_module_malloc() {
    let mut host = host("identity.wat", "rosetta_filter");
    for size in [1 << 20, 4 << 20] {
        let input = record(&[("log", &"x".repeat(size))]);
        let outcome = host.filter("t", 0, 0, &input);
        assert!(!outcome.copy_failed);
        assert_eq!(
            outcome.raw().map(<[u8]>::len),
            Some(input.len()),
            "{size}-byte record"
        );
    }
    assert!(host.log().is_empty(), "{:?}", host.log());
}

#[test]
fn app_heap_at_heap_base_is_exactly_8k() {
    let mut host = host("no_malloc.wat", "rosetta_filter");
    assert_eq!(host.report().heap_base, Some(40_000));
    let small = record(&[("log", &"s".repeat(1000))]);
    assert_eq!(host.filter("kube.a", 0, 0, &small).raw(), Some(&small[..]));

    let big = record(&[("log", &"b".repeat(20_000))]);
    let outcome = host.filter("kube.a", 0, 0, &big);
    assert!(outcome.copy_failed);
    assert!(
        !outcome.is_kept(),
        "the record is lost: the module saw address 0"
    );
    let warning = format!("warning: allocate {} bytes memory failed", big.len() + 1);
    assert!(host.log().contains(&warning), "{:?}", host.log());

    // The heap is whole again: the small record still fits.
    assert_eq!(host.filter("kube.a", 0, 0, &small).raw(), Some(&small[..]));
    let stats = host.stats();
    assert_eq!(
        (stats.records_in, stats.kept, stats.copy_failures),
        (3, 2, 1)
    );
}

#[test]
fn app_heap_after_the_memory_takes_a_page() {
    // No __heap_base: WAMR adds one page of which 64,512 bytes are usable.
    let mut host = host("leak.wat", "rosetta_filter");
    assert_eq!(host.memory_bytes(), 2 * 65_536);
    let twenty_k = record(&[("log", &"m".repeat(20_000))]);
    assert_eq!(host.filter("t", 0, 0, &twenty_k).raw(), Some(&twenty_k[..]));
    let one_mib = record(&[("log", &"m".repeat(1 << 20))]);
    let outcome = host.filter("t", 0, 0, &one_mib);
    assert!(outcome.copy_failed && !outcome.is_kept());
    let warning = format!(
        "warning: allocate {} bytes memory failed",
        one_mib.len() + 1
    );
    assert!(host.log().contains(&warning), "{:?}", host.log());

    // A larger wasm_heap_size makes room; one below the default is raised.
    let mut roomy = load(HostConfig {
        heap_size: 2 << 20,
        ..config("leak.wat", "rosetta_filter")
    });
    assert_eq!(
        roomy.filter("t", 0, 0, &one_mib).raw().map(<[u8]>::len),
        Some(one_mib.len())
    );
    let small = load(HostConfig {
        heap_size: 100,
        ..config("leak.wat", "rosetta_filter")
    });
    assert_eq!(small.config().heap_size, 8192);
}

#[test]
fn a_leaking_module_grows_and_the_host_measures_it() {
    let mut host = host("leak.wat", "rosetta_filter");
    let input = record(&[("log", &"l".repeat(1000))]);
    for _ in 0..500 {
        assert!(host.filter("t", 0, 0, &input).is_kept());
    }
    let stats = host.stats();
    let grown = stats.memory_now - stats.memory_at_start;
    assert!(
        grown >= 400_000,
        "500 leaked 1 KB buffers, memory grew by only {grown}"
    );
    assert_eq!(stats.memory_now, host.memory_bytes());
}

#[test]
fn a_trap_loses_one_record_and_the_same_instance_goes_on() {
    let mut host = host("trap.wat", "rosetta_filter");
    assert_eq!(
        host.filter("t", 0, 0, b"{\"a\":1}").json(),
        Some(&json!({"ok": true}))
    );
    let outcome = host.filter("t", 0, 0, b"{\"log\":\"TRAP\"}");
    assert_eq!(
        error_message(&outcome.verdict),
        "Got exception running wasm code: Exception: unreachable"
    );
    assert_eq!(
        host.log().last().map(String::as_str),
        Some("Got exception running wasm code: Exception: unreachable")
    );
    // The flag set before the trap is still set: same instance.
    assert_eq!(
        host.filter("t", 0, 0, b"{\"a\":1}").json(),
        Some(&json!({"after_trap": true}))
    );
    host.end_chunk().ok();
    assert_eq!(
        host.filter("t", 0, 0, b"{\"a\":1}").json(),
        Some(&json!({"after_trap": true}))
    );
    let stats = host.stats();
    assert_eq!((stats.kept, stats.errors, stats.instantiations), (3, 1, 1));
}

#[test]
fn instance_per_chunk_starts_afresh() {
    let mut trap = load(HostConfig {
        instance_per_chunk: true,
        ..config("trap.wat", "rosetta_filter")
    });
    assert!(!trap.filter("t", 0, 0, b"TRAP").is_kept());
    assert_eq!(
        trap.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"after_trap": true}))
    );
    assert!(trap.end_chunk().is_ok());
    assert_eq!(
        trap.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"ok": true}))
    );
    assert_eq!(trap.stats().instantiations, 2);

    let mut leak = load(HostConfig {
        instance_per_chunk: true,
        ..config("leak.wat", "rosetta_filter")
    });
    let start = leak.memory_bytes();
    let input = record(&[("log", &"l".repeat(5000))]);
    for _ in 0..100 {
        leak.filter("t", 0, 0, &input);
    }
    assert!(leak.memory_bytes() > start);
    assert!(leak.end_chunk().is_ok());
    assert_eq!(leak.memory_bytes(), start);
}

#[test]
fn null_empty_and_invalid_answers_are_dropped() {
    let cases = [
        ("rosetta_filter", DropReason::NullResult),
        ("empty", DropReason::EmptyResult),
        ("unterminated", DropReason::InvalidAddress),
    ];
    for (function, reason) in cases {
        let mut host = host("returns_null.wat", function);
        assert_eq!(
            host.filter("t", 0, 0, b"{}").verdict,
            Verdict::Dropped { reason },
            "{function}"
        );
        assert_eq!(host.stats().dropped, 1);
        assert!(
            host.log()
                .iter()
                .any(|l| l
                    == "warning: a module with WASI apis should be either a command or a reactor"),
            "{:?}",
            host.log()
        );
    }
}

#[test]
fn an_invalid_address_also_fails_the_next_call() {
    // WAMR sets "out of bounds memory access" on the instance and fluent-bit
    // never clears it: the next call reports it.
    let mut host = host("returns_null.wat", "wild_once");
    assert_eq!(
        host.filter("t", 0, 0, b"{}").verdict,
        Verdict::Dropped {
            reason: DropReason::InvalidAddress
        }
    );
    assert!(
        host.log()
            .iter()
            .any(|l| l == "[wasm] returned value is invalid")
    );
    let outcome = host.filter("t", 0, 0, b"{}");
    assert_eq!(
        error_message(&outcome.verdict),
        "Got exception running wasm code: Exception: out of bounds memory access"
    );
    assert_eq!(host.filter("t", 0, 0, b"{}").json(), Some(&json!({})));
}

#[test]
fn proc_exit_is_an_exception() {
    let mut host = host("returns_null.wat", "exit");
    let outcome = host.filter("t", 0, 0, b"{}");
    assert!(
        error_message(&outcome.verdict).contains("wasi proc exit"),
        "{outcome:?}"
    );
}

#[test]
fn json_answers_are_judged_like_fluent_bit() {
    let mut array = host("returns_array.wat", "rosetta_filter");
    let outcome = array.filter("t", 0, 0, b"{}");
    assert!(error_message(&outcome.verdict).starts_with("invalid JSON format. ret: 0, buf: [1,2]"));
    assert_eq!(array.stats().errors, 1);

    let mut broken = host("returns_array.wat", "not_json");
    let outcome = broken.filter("t", 0, 0, b"{}");
    assert!(
        error_message(&outcome.verdict).starts_with("invalid JSON format. ret: -1, buf: {oops")
    );

    let mut lone = host("returns_array.wat", "lone_surrogate");
    assert_eq!(
        lone.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"a": "\u{FFFD}"}))
    );

    let mut trailing = host("returns_array.wat", "trailing");
    let outcome = trailing.filter("t", 0, 0, b"{}");
    assert_eq!(outcome.raw(), Some(&b"{\"a\":1} junk"[..]));
    assert_eq!(outcome.json(), Some(&json!({"a": 1})));

    let mut deep = host("returns_array.wat", "deep");
    let outcome = deep.filter("t", 0, 0, b"{}");
    assert!(
        outcome.is_kept(),
        "10,000 levels of nesting are a valid object"
    );
    assert_eq!(outcome.raw().map(<[u8]>::len), Some(60_001));
    assert_eq!(
        outcome.json(),
        None,
        "too deep to hand out as a serde_json value"
    );
}

#[test]
fn msgpack_answers_are_cut_at_the_first_zero_byte() {
    let msgpack = |function: &str| {
        load(HostConfig {
            event_format: EventFormat::Msgpack,
            ..config("returns_array.wat", function)
        })
    };
    assert_eq!(
        msgpack("mp_map").filter("t", 0, 0, b"\x80").json(),
        Some(&json!({"a": 1}))
    );
    let outcome = msgpack("mp_zero").filter("t", 0, 0, b"\x80");
    assert!(
        error_message(&outcome.verdict).contains("not one map"),
        "{outcome:?}"
    );
    let outcome = msgpack("mp_array").filter("t", 0, 0, b"\x80");
    assert!(
        error_message(&outcome.verdict).contains("not a msgpack map"),
        "{outcome:?}"
    );

    // End to end: the record goes in as msgpack; {"a":0} comes back cut.
    let mut echo = load(HostConfig {
        event_format: EventFormat::Msgpack,
        ..config("leak.wat", "rosetta_filter")
    });
    let one = to_msgpack(&Body::map([("a", Body::UInt(1))]));
    assert_eq!(echo.filter("t", 0, 0, &one).json(), Some(&json!({"a": 1})));
    let zero = to_msgpack(&Body::map([("a", Body::UInt(0))]));
    assert!(!echo.filter("t", 0, 0, &zero).is_kept());
}

#[test]
fn fuel_is_counted_per_call() {
    let mut host = host("identity.wat", "rosetta_filter");
    let small = host.filter("t", 0, 0, &record(&[("log", "x")])).fuel;
    let big = host
        .filter("t", 0, 0, &record(&[("log", &"x".repeat(10_000))]))
        .fuel;
    assert!(small > 0);
    assert!(
        big > small + 10_000 * 5,
        "a byte loop over 10 KB: small={small}, big={big}"
    );
    let stats = host.stats();
    assert_eq!((stats.total_fuel, stats.max_fuel), (small + big, big));
    assert!((stats.fuel_per_record() - (small + big) as f64 / 2.0).abs() < 1e-9);
}

#[test]
fn bytes_moved_are_counted_only_when_asked() {
    // leak.wat copies the record with one memory.copy.
    let fuel = |per_byte: bool, len: usize| {
        let mut host = load(HostConfig {
            fuel_per_byte_moved: per_byte,
            ..config("leak.wat", "rosetta_filter")
        });
        host.filter("t", 0, 0, &record(&[("log", &"x".repeat(len))]))
            .fuel
    };
    let extra = |len: usize| fuel(true, len) - fuel(false, len);
    assert!(extra(100) > 100);
    assert_eq!(extra(10_100) - extra(100), 10_000);
    assert_eq!(
        fuel(false, 10_100),
        fuel(false, 100),
        "one operator either way"
    );
}

#[test]
fn a_fuel_limit_traps_the_call() {
    let mut host = load(HostConfig {
        fuel_per_call: Some(2_000),
        ..config("identity.wat", "rosetta_filter")
    });
    let outcome = host.filter("t", 0, 0, &record(&[("log", &"x".repeat(1000))]));
    assert!(
        error_message(&outcome.verdict).contains("fuel"),
        "{outcome:?}"
    );
    assert_eq!(outcome.fuel, 2_000);
    assert!(
        host.filter("t", 0, 0, b"{}").is_kept(),
        "a cheap record still fits the limit"
    );
}

#[test]
fn the_module_reads_the_virtual_clock() {
    let clock = VirtualClock::new(Duration::from_secs(1_700_000_000));
    let mut host = load(HostConfig {
        clock: clock.clone(),
        ..config("wasi.wat", "clock")
    });
    assert_eq!(
        host.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"wall": 1_700_000_000_000_000_000u64, "mono": 0}))
    );
    clock.advance(Duration::from_millis(1500));
    assert_eq!(
        host.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"wall": 1_700_000_001_500_000_000u64, "mono": 1_500_000_000u64}))
    );
    host.clock().set_monotonic(7);
    assert_eq!(
        host.filter("t", 0, 0, b"{}")
            .json()
            .and_then(|v| v.get("mono")),
        Some(&json!(7))
    );
}

#[test]
fn stdout_and_stderr_are_captured() {
    let mut host = host("wasi.wat", "say");
    let input = record(&[("log", "to stderr")]);
    assert_eq!(host.filter("my.tag", 0, 0, &input).raw(), Some(&input[..]));
    assert_eq!(host.stderr(), input);
    assert_eq!(host.stdout(), b"my.tag".to_vec());
    host.filter("second", 0, 0, b"{}");
    assert_eq!(host.stdout(), b"my.tagsecond".to_vec());
}

#[test]
fn a_mapped_directory_is_readable_as_dot() {
    let dir = TempDir::new("preopen");
    assert!(std::fs::write(dir.0.join("rosetta.toml"), "{\"from\":\"file\"}").is_ok());
    let as_dot = HostConfig {
        accessible_paths: Vec::new(),
        mapped_dirs: vec![PreopenDir {
            host: dir.0.clone(),
            guest: ".".to_string(),
        }],
        ..config("wasi.wat", "read_config")
    };
    assert_eq!(
        as_dot.preopens(),
        vec![PreopenDir {
            host: dir.0.clone(),
            guest: ".".to_string()
        }]
    );
    let mut host = load(as_dot);
    assert_eq!(
        host.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"from": "file"}))
    );

    // Under another name the module does not find "." at fd 3.
    let elsewhere = HostConfig {
        accessible_paths: Vec::new(),
        mapped_dirs: vec![PreopenDir {
            host: dir.0.clone(),
            guest: "conf".to_string(),
        }],
        ..config("wasi.wat", "read_config")
    };
    let mut host = load(elsewhere);
    assert_eq!(
        host.filter("t", 0, 0, b"{}").verdict,
        Verdict::Dropped {
            reason: DropReason::NullResult
        }
    );

    // accessible_paths keep their own names, as WAMR pre-opens them.
    let same_name = HostConfig {
        accessible_paths: vec![dir.0.clone()],
        ..config("wasi.wat", "read_config")
    };
    let guest = same_name.preopens().first().map(|p| p.guest.clone());
    assert_eq!(guest, Some(dir.0.to_string_lossy().into_owned()));
    assert_eq!(
        HostConfig::new("m.wasm").preopens(),
        vec![PreopenDir {
            host: ".".into(),
            guest: ".".to_string()
        }]
    );
}

#[test]
fn a_missing_function_loses_every_record() {
    let mut host = host("identity.wat", "nope");
    let outcome = host.filter("t", 0, 0, b"{}");
    assert_eq!(
        error_message(&outcome.verdict),
        "The nope wasm function is not found."
    );
    assert_eq!(outcome.fuel, 0);
}

#[test]
fn modules_that_do_not_load() {
    match Host::new(HostConfig::new(fixture("simd.wat"))) {
        Err(HostError::Compile { message, .. }) => assert!(message.contains("SIMD"), "{message}"),
        Err(other) => panic!("expected a compile error, got {other}"),
        Ok(_) => panic!("a SIMD module must not load"),
    }
    assert!(matches!(
        Host::new(HostConfig::new(fixture("missing.wasm"))),
        Err(HostError::Read { .. })
    ));
    let dir = TempDir::new("badmodule");
    let bad = dir.0.join("bad.wat");
    assert!(std::fs::write(&bad, "(module (func (result i32)))").is_ok());
    assert!(matches!(
        Host::new(HostConfig::new(&bad)),
        Err(HostError::Compile { .. })
    ));
}

#[test]
fn fixture_reports() {
    let report = |name: &str| match std::fs::read(fixture(name)).map(|b| module_report(&b)) {
        Ok(Ok(report)) => report,
        other => panic!("{name}: {other:?}"),
    };
    let identity = report("identity.wat");
    assert!(
        identity.is_reactor && identity.exports_malloc_free && identity.wrapped_exports.is_empty()
    );
    assert!(identity.imports_wasi && !identity.uses_simd && !identity.has_start);
    let null = report("returns_null.wat");
    assert!(null.imports_wasi && !null.is_reactor && !null.has_start && !null.exports_malloc_free);
    let wasi = report("wasi.wat");
    assert!(wasi.imports_wasi && wasi.is_reactor);
    assert!(report("simd.wat").uses_simd);
}

#[test]
fn a_small_wasm_stack_makes_deep_recursion_trap() {
    let deep = vec![b' '; 5000];
    let mut roomy = host("trap.wat", "recurse");
    assert_eq!(
        roomy.filter("t", 0, 0, &deep).json(),
        Some(&json!({"ok": true}))
    );
    let mut tight = load(HostConfig {
        max_wasm_stack: Some(16 * 1024),
        ..config("trap.wat", "recurse")
    });
    let outcome = tight.filter("t", 0, 0, &deep);
    assert!(
        error_message(&outcome.verdict).contains("stack overflow"),
        "{outcome:?}"
    );
    assert_eq!(
        tight.filter("t", 0, 0, b"{}").json(),
        Some(&json!({"ok": true}))
    );
}

#[test]
fn passthrough_hands_output_on_and_keeps_nothing() {
    let mut host = load(HostConfig {
        passthrough_output: true,
        ..config("wasi.wat", "say")
    });
    assert!(host.filter("tag", 0, 0, b"{}").is_kept());
    assert!(host.stderr().is_empty() && host.stdout().is_empty());
    let mut trap = load(HostConfig {
        passthrough_output: true,
        ..config("trap.wat", "rosetta_filter")
    });
    assert!(!trap.filter("t", 0, 0, b"TRAP").is_kept());
    assert!(trap.log().is_empty());
    assert_eq!(trap.stats().errors, 1);
}

#[test]
fn filter_at_hands_over_an_address_as_it_is() {
    // identity.wat reads record[len] (must be NUL) and copies len bytes.
    let mut identity = host("identity.wat", "rosetta_filter");
    let outcome = identity.filter_at("t", 0, 0, 0, 0);
    assert_eq!(
        outcome.verdict,
        Verdict::Dropped {
            reason: DropReason::EmptyResult
        }
    );
    assert!(!outcome.copy_failed);
    assert_eq!(identity.last_answer(), Some(&b""[..]));
    let data = identity.read_memory(16, 8);
    assert_eq!(data.as_deref(), Some(&b"{\"tag\":\""[..]));

    // leak.wat copies with memory.copy: a range past the end traps.
    let mut leak = host("leak.wat", "rosetta_filter");
    let end = leak.memory_bytes() as u32;
    let outcome = leak.filter_at("t", 0, 0, end - 4, 10);
    assert_eq!(
        error_message(&outcome.verdict),
        "Got exception running wasm code: Exception: out of bounds memory access"
    );
    assert_eq!(leak.last_answer(), None);
    let input = record(&[("log", "after")]);
    assert_eq!(leak.filter("t", 0, 0, &input).raw(), Some(&input[..]));
    let stats = leak.stats();
    assert_eq!((stats.records_in, stats.kept, stats.errors), (2, 1, 1));
}

#[test]
fn the_fuel_limit_can_change_between_calls() {
    let mut host = host("identity.wat", "rosetta_filter");
    let input = record(&[("log", &"x".repeat(1000))]);
    host.set_fuel_per_call(Some(2_000));
    let outcome = host.filter("t", 0, 0, &input);
    assert!(
        error_message(&outcome.verdict).contains("fuel"),
        "{outcome:?}"
    );
    assert_eq!(host.config().fuel_per_call, Some(2_000));
    host.set_fuel_per_call(None);
    assert_eq!(host.filter("t", 0, 0, &input).raw(), Some(&input[..]));
}

#[test]
fn last_answer_is_what_strlen_kept_whatever_the_verdict() {
    let mut mp = load(HostConfig {
        event_format: EventFormat::Msgpack,
        ..config("returns_array.wat", "mp_zero")
    });
    assert!(!mp.filter("t", 0, 0, b"\x80").is_kept());
    assert_eq!(mp.last_answer(), Some(&b"\x81\xa1a"[..]));
    let mut array = host("returns_array.wat", "rosetta_filter");
    assert!(!array.filter("t", 0, 0, b"{}").is_kept());
    assert_eq!(array.last_answer(), Some(&b"[1,2]"[..]));
    let mut trap = host("trap.wat", "rosetta_filter");
    assert!(!trap.filter("t", 0, 0, b"TRAP").is_kept());
    assert_eq!(trap.last_answer(), None);
}
