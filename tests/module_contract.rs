//! The built `rosetta.wasm` held to fluent-bit's wasm filter contract
//! (summarised in the README and in `src/abi.rs`),
//! run through the host in `tests/host`, which calls it the way fluent-bit
//! v5.1.1's `filter_wasm` does.
//!
//! One section per clause: the module's shape (§5), records passed through
//! unchanged (§1), large records (§2), bad input (§1, §3), memory (§2),
//! traps (§4), msgpack mode (§6), `rosetta.toml` (§5 and
//! docs/configuration.md), per-chunk instances (§5). Named cases come in
//! tables with the exact output expected; a table test reports every case
//! that fails, not only the first.
//!
//! Run with `make test`, or `make build && ROSETTA_WASM=$PWD/target/wasm32-wasip1/release/rosetta.wasm cargo test --test module_contract`.

mod common;

use common::*;
use rosetta_host::{Body, EventFormat, Host, HostConfig, Outcome, PreopenDir, Verdict};
use rosetta_host::{module_report, to_fluent_bit_json, to_msgpack};
use serde_json::Value;

const TAG: &str = "kube.shop.productpage-v1.istio-proxy";
const WARNING_NOT_REACTOR: &str = "a module with WASI apis should be either a command or a reactor";

/// A host for `function`; `rosetta_filter` is told to pass every record
/// through (`parsers = "none"`): these tests are about the host path, and
/// parsing has its own. A test that writes its own `rosetta.toml`
/// replaces that one.
fn host(function: &str) -> Sandboxed {
    host_with(function, |c| c)
}

/// As [`host`], with the host configuration changed by `edit` first.
fn host_with(function: &str, edit: impl FnOnce(HostConfig) -> HostConfig) -> Sandboxed {
    let h = common::host_with(function, edit);
    if function == "rosetta_filter" {
        h.dot.write("rosetta.toml", "parsers = \"none\"\n");
    }
    h
}

/// The answer of a kept record; fails the test with the verdict otherwise.
fn kept<'a>(outcome: &'a Outcome, what: &str) -> &'a [u8] {
    match outcome.raw() {
        Some(raw) => raw,
        None => panic!("{what}: the record was not kept: {:?}", outcome.verdict),
    }
}

/// `raw` parsed strictly (RFC 8259, nothing after the value) as one object.
fn one_object(raw: &[u8], what: &str) -> serde_json::Map<String, Value> {
    match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => map,
        Ok(other) => panic!("{what}: not an object: {other}"),
        Err(e) => panic!(
            "{what}: not exactly one valid JSON value ({e}): {}",
            String::from_utf8_lossy(raw)
        ),
    }
}

/// Bytes back from a string as rosetta (and fluent-bit) write them: each
/// code point U+E080..=U+E0FF stands for the invalid byte 0x80..=0xFF.
fn fluent_bit_bytes(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match u32::from(c) {
            cp @ 0xE080..=0xE0FF => out.push((cp - 0xE000) as u8),
            _ => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
        }
    }
    out
}

/// What one instance of `function` answers for each record, in order.
fn answers(function: &str, records: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut fresh = host(function);
    records
        .iter()
        .map(|r| kept(&fresh.filter(TAG, 0, 0, r), "reference instance").to_vec())
        .collect()
}

/// Deterministic printable text of `len` bytes that needs escaping here
/// and there (quotes, backslashes), so a misplaced byte shows.
fn varied_text(len: usize) -> String {
    (0..len)
        .map(|i| char::from(b' ' + ((i * 7 + i / 95) % 95) as u8))
        .collect()
}

/// Fails listing every failed case of a table.
fn report(table: &str, failures: &[String]) {
    assert!(
        failures.is_empty(),
        "{table}: {} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------
// §5: the module's shape.

#[test]
fn the_module_is_a_small_reactor_with_the_exports_fluent_bit_needs() {
    let bytes = match std::fs::read(module_path()) {
        Ok(b) => b,
        Err(e) => panic!("{}: {e}; run `make build`", module_path().display()),
    };
    assert!(
        bytes.len() <= 1 << 20,
        "rosetta.wasm is {} bytes, over 1 MiB",
        bytes.len()
    );
    let report = match module_report(&bytes) {
        Ok(r) => r,
        Err(e) => panic!("not a valid module: {e}"),
    };
    for export in [
        "rosetta_filter",
        "rosetta_envoy",
        "rosetta_nginx_ingress",
        "malloc",
        "free",
    ] {
        assert!(
            report.exports.iter().any(|e| e == export),
            "{export} is not exported: {:?}",
            report.exports
        );
    }
    assert!(report.exports_malloc_free, "malloc/free of the wrong type");
    assert!(report.is_reactor, "no _initialize: {:?}", report.exports);
    assert!(!report.has_start, "exports _start");
    assert!(
        report.wrapped_exports.is_empty(),
        "exports wrapped in per-call constructors: {:?}",
        report.wrapped_exports
    );
    assert!(!report.uses_simd, "uses SIMD: WAMR refuses to load it");

    let mut h = host("rosetta_filter");
    assert!(
        !h.log().iter().any(|l| l.contains(WARNING_NOT_REACTOR)),
        "{:?}",
        h.log()
    );
    assert!(h.filter(TAG, 0, 0, &line("hello")).is_kept());
    assert!(h.log().is_empty(), "{:?}", h.log());
}

// ---------------------------------------------------------------------
// §1: a record the module has nothing to do with comes back byte for byte.

#[test]
fn records_pass_through_byte_for_byte() {
    let docker_body = |log: Body| {
        to_fluent_bit_json(&Body::Map(vec![
            (Body::str("log"), log),
            (Body::str("stream"), Body::str("stderr")),
            (Body::str("time"), Body::str("2026-11-27T08:10:00.100Z")),
        ]))
    };
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("plain docker record", line("GET /health 200")),
        ("empty object", b"{}".to_vec()),
        (
            "non-ASCII as fluent-bit escapes it",
            docker_body(Body::str("café ü € 😀 日本語")),
        ),
        (
            "NUL inside a string",
            docker_body(Body::Str(b"a\0b".to_vec())),
        ),
        (
            "controls, quotes, backslashes, DEL",
            docker_body(Body::Str(b"\x01\x1f\t\"\\/\x7f end".to_vec())),
        ),
        (
            "invalid UTF-8, raw EE 83 BF form (fluent-bit's encoder)",
            docker_body(Body::Str(
                b"bad \xff byte, \xc3( broken, \xed\xa0\x80 surrogate".to_vec(),
            )),
        ),
        (
            "invalid UTF-8, \\ue0ff text form",
            br#"{"log":"bad \ue0ff byte","stream":"stdout"}"#.to_vec(),
        ),
        (
            "lone surrogates",
            br#"{"log":"\ud800 then \udc00 then \ud800\ud800","stream":"stdout"}"#.to_vec(),
        ),
        (
            "escaped NUL written by hand",
            br#"{"log":"a\u0000b"}"#.to_vec(),
        ),
        (
            "numbers, booleans, null, nesting",
            to_fluent_bit_json(&Body::Map(vec![
                (Body::str("i"), Body::Int(-42)),
                (Body::str("u"), Body::UInt(u64::MAX)),
                (Body::str("f"), Body::Float(2.5e-7)),
                (Body::str("t"), Body::Bool(true)),
                (Body::str("n"), Body::Nil),
                (
                    Body::str("kubernetes"),
                    Body::map([
                        ("pod_name", Body::str("web-1")),
                        ("labels", Body::Array(vec![Body::str("a"), Body::map([])])),
                    ]),
                ),
            ])),
        ),
        (
            "whitespace between tokens",
            b" { \"a\" : 1 ,\n\t\"b\" : [ 1 , 2 ] } ".to_vec(),
        ),
        (
            "a log key that is not a string",
            br#"{"log":{"nested":true},"message":7}"#.to_vec(),
        ),
    ];
    let mut h = host("rosetta_filter");
    let mut failures = Vec::new();
    for (name, input) in &cases {
        let outcome = h.filter(TAG, 1_700_000_000, 5, input);
        if outcome.raw() != Some(&input[..]) {
            failures.push(format!(
                "{name}:\n  input {:?}\n  got   {:?}",
                String::from_utf8_lossy(input),
                outcome
                    .raw()
                    .map(String::from_utf8_lossy)
                    .ok_or(&outcome.verdict)
            ));
        }
    }
    report("pass-through", &failures);
    assert!(h.log().is_empty(), "{:?}", h.log());
}

// ---------------------------------------------------------------------
// §2: large records, default wasm_heap_size.

#[test]
fn large_records_pass_through_with_the_default_heap() {
    let mut h = host("rosetta_filter");
    assert_eq!(h.config().heap_size, 8192);
    for size in [1 << 20, 16 << 20] {
        let input = line(&varied_text(size));
        let outcome = h.filter(TAG, 0, 0, &input);
        assert!(!outcome.copy_failed, "{size}: the copy did not fit");
        let raw = kept(&outcome, &format!("{size}-byte record"));
        assert!(
            raw == input,
            "{size}-byte record: {} bytes back for {}",
            raw.len(),
            input.len()
        );
    }
    assert!(h.log().is_empty(), "{:?}", h.log());
}

// ---------------------------------------------------------------------
// §1, §3: bad input. Never dropped, never an error, never a trap: one
// valid JSON object carrying the input and why it was refused.

/// The named cases, with the exact answer expected.
const INVALID: &[(&str, &[u8], &str)] = &[
    (
        "truncated object",
        br#"{"a":"#,
        r#"{"rosetta.raw":"{\"a\":","rosetta.error":"invalid-json: expected a value at byte 5"}"#,
    ),
    (
        "unclosed array",
        br#"{"a":["#,
        r#"{"rosetta.raw":"{\"a\":[","rosetta.error":"invalid-json: expected a value at byte 6"}"#,
    ),
    (
        "an array",
        b"[1,2]",
        r#"{"rosetta.raw":"[1,2]","rosetta.error":"invalid-json: expected '{' opening the record at byte 0"}"#,
    ),
    (
        "a number",
        b"42",
        r#"{"rosetta.raw":"42","rosetta.error":"invalid-json: expected '{' opening the record at byte 0"}"#,
    ),
    (
        "empty record",
        b"",
        r#"{"rosetta.raw":"","rosetta.error":"invalid-json: expected '{' opening the record at byte 0"}"#,
    ),
    (
        "bad \\u escape",
        br#"{"a":"\u12zz"}"#,
        r#"{"rosetta.raw":"{\"a\":\"\\u12zz\"}","rosetta.error":"invalid-json: expected four hex digits after '\\u' at byte 8"}"#,
    ),
    (
        "raw NUL inside a string",
        b"{\"a\":\"x\0y\"}",
        r#"{"rosetta.raw":"{\"a\":\"x\u0000y\"}","rosetta.error":"invalid-json: expected no raw control byte in a string at byte 7"}"#,
    ),
    (
        "raw NUL after the object",
        b"{\"a\":1}\0",
        r#"{"rosetta.raw":"{\"a\":1}\u0000","rosetta.error":"invalid-json: expected the end of the record at byte 7"}"#,
    ),
    (
        "raw control byte",
        b"{\"a\":\"\x01\"}",
        r#"{"rosetta.raw":"{\"a\":\"\u0001\"}","rosetta.error":"invalid-json: expected no raw control byte in a string at byte 6"}"#,
    ),
    (
        "raw newline",
        b"{\"a\":\"x\ny\"}",
        r#"{"rosetta.raw":"{\"a\":\"x\ny\"}","rosetta.error":"invalid-json: expected no raw control byte in a string at byte 7"}"#,
    ),
    (
        "trailing comma",
        br#"{"a":1,}"#,
        r#"{"rosetta.raw":"{\"a\":1,}","rosetta.error":"invalid-json: expected a string key at byte 7"}"#,
    ),
    (
        "two objects",
        b"{}{}",
        r#"{"rosetta.raw":"{}{}","rosetta.error":"invalid-json: expected the end of the record at byte 2"}"#,
    ),
    (
        "non-ASCII in a refused record",
        "{\"é\":".as_bytes(),
        r#"{"rosetta.raw":"{\"\u00e9\":","rosetta.error":"invalid-json: expected a value at byte 6"}"#,
    ),
    (
        "invalid UTF-8 in a refused record",
        b"\xff{",
        r#"{"rosetta.raw":"\ue0ff{","rosetta.error":"invalid-json: expected '{' opening the record at byte 0"}"#,
    ),
    (
        "unclosed string",
        br#"{"log":"abc"#,
        r#"{"rosetta.raw":"{\"log\":\"abc","rosetta.error":"invalid-json: expected '\"' closing a string at byte 11"}"#,
    ),
];

/// Checks the generic promise for a refused record: kept, one strict JSON
/// object of exactly `rosetta.raw` and `rosetta.error`, the raw text
/// giving back the input. Returns the error text, or what is wrong.
fn check_refused(outcome: &Outcome, input: &[u8]) -> Result<String, String> {
    let Some(raw) = outcome.raw() else {
        return Err(format!("not kept: {:?}", outcome.verdict));
    };
    let object = match serde_json::from_slice::<Value>(raw) {
        Ok(Value::Object(map)) => map,
        other => {
            return Err(format!(
                "not one valid JSON object ({:?}): {}",
                other.err(),
                String::from_utf8_lossy(raw)
            ));
        }
    };
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let (Some(Value::String(raw_text)), Some(Value::String(error)), 2) = (
        object.get("rosetta.raw"),
        object.get("rosetta.error"),
        keys.len(),
    ) else {
        return Err(format!("not rosetta.raw + rosetta.error: {keys:?}"));
    };
    let gives_back = match std::str::from_utf8(input) {
        Ok(text) => raw_text == text,
        Err(_) => fluent_bit_bytes(raw_text) == input,
    };
    if !gives_back {
        return Err("rosetta.raw does not give back the input".to_string());
    }
    if !error.starts_with("invalid-json: expected ") {
        return Err(format!("rosetta.error: {error}"));
    }
    Ok(error.clone())
}

/// [`check_refused`], failing the test.
fn refused(outcome: &Outcome, input: &[u8], what: &str) -> String {
    match check_refused(outcome, input) {
        Ok(error) => error,
        Err(problem) => panic!("{what}: {problem}"),
    }
}

#[test]
fn invalid_records_named_cases() {
    let mut h = host("rosetta_filter");
    let mut failures = Vec::new();
    for (name, input, expected) in INVALID {
        let outcome = h.filter(TAG, 0, 0, input);
        if let Err(problem) = check_refused(&outcome, input) {
            failures.push(format!("{name}: {problem}"));
        } else if outcome.raw() != Some(expected.as_bytes()) {
            failures.push(format!(
                "{name}:\n  want {expected}\n  got  {}",
                String::from_utf8_lossy(outcome.raw().unwrap_or_default())
            ));
        }
    }
    report("invalid records", &failures);
    assert!(h.log().is_empty(), "{:?}", h.log());
}

#[test]
fn invalid_records_through_every_entry_point() {
    // The same answers whatever the entry point: a refused record is
    // refused before any parser sees it.
    let mut failures = Vec::new();
    for function in ["rosetta_envoy", "rosetta_nginx_ingress"] {
        let mut h = host(function);
        let mut reference = host("rosetta_filter");
        for (name, input, _) in INVALID {
            let outcome = h.filter(TAG, 0, 0, input);
            let want = reference.filter(TAG, 0, 0, input);
            if let Err(problem) = check_refused(&outcome, input) {
                failures.push(format!("{function}: {name}: {problem}"));
            } else if outcome.raw() != want.raw() {
                failures.push(format!("{function}: {name}: differs from rosetta_filter"));
            }
        }
        assert!(h.log().is_empty(), "{function}: {:?}", h.log());
    }
    report("invalid records", &failures);
}

#[test]
fn a_null_or_out_of_memory_record_pointer_is_an_empty_record() {
    let expected = r#"{"rosetta.raw":"","rosetta.error":"invalid-json: expected '{' opening the record at byte 0"}"#;
    for function in ["rosetta_filter", "rosetta_envoy", "rosetta_nginx_ingress"] {
        let mut h = host(function);
        let end = h.memory_bytes() as u32;
        let cases: [(&str, u32, u32); 5] = [
            ("NULL, length 10", 0, 10),
            ("NULL, length 0", 0, 0),
            ("range past the end of memory", end - 4, 16),
            ("start past the end of memory", end + 65_536, 1),
            ("range wrapping the address space", u32::MAX - 2, 8),
        ];
        for (name, addr, len) in cases {
            let outcome = h.filter_at(TAG, 0, 0, addr, len);
            let what = format!("{function}: {name}");
            refused(&outcome, b"", &what);
            assert_eq!(outcome.raw(), Some(expected.as_bytes()), "{what}");
        }
        // And the instance is unharmed.
        let input = line("after");
        assert!(h.filter(TAG, 0, 0, &input).is_kept(), "{function}");
        assert!(h.log().is_empty(), "{function}: {:?}", h.log());
    }
}

/// `{"a":` + `[` × depth + `]` × depth + `}`, and the same unclosed.
fn nested(depth: usize) -> (Vec<u8>, Vec<u8>) {
    let mut valid = br#"{"a":"#.to_vec();
    valid.extend(std::iter::repeat_n(b'[', depth));
    let unclosed = valid.clone();
    valid.extend(std::iter::repeat_n(b']', depth));
    valid.push(b'}');
    (valid, unclosed)
}

/// `{"a":{"a":...{}...}}` nested `depth` deep.
fn nested_objects(depth: usize) -> Vec<u8> {
    let mut out = b"{\"a\":".repeat(depth);
    out.extend_from_slice(b"{}");
    out.extend(std::iter::repeat_n(b'}', depth));
    out
}

#[test]
fn nesting_10000_deep_costs_no_stack() {
    let (arrays, unclosed) = nested(10_000);
    let objects = nested_objects(10_000);
    let small_stack = |c: HostConfig| HostConfig {
        max_wasm_stack: Some(64 * 1024),
        ..c
    };
    for function in ["rosetta_filter", "rosetta_envoy"] {
        for (stack, mut h) in [
            ("default stack", host(function)),
            ("64 KiB stack", host_with(function, small_stack)),
        ] {
            let what = format!("{function}, {stack}");
            for (name, input) in [("arrays", &arrays), ("objects", &objects)] {
                let outcome = h.filter(TAG, 0, 0, input);
                match function {
                    "rosetta_filter" => assert!(
                        outcome.raw() == Some(&input[..]),
                        "{what}: {name} 10,000 deep must pass unchanged: {:?}",
                        outcome.raw().map(<[u8]>::len).ok_or(&outcome.verdict)
                    ),
                    _ => assert!(outcome.is_kept(), "{what}: {name}: {:?}", outcome.verdict),
                }
            }
            let outcome = h.filter(TAG, 0, 0, &unclosed);
            let error = refused(&outcome, &unclosed, &format!("{what}: unclosed"));
            assert!(
                error.ends_with(&format!(" at byte {}", unclosed.len())),
                "{what}: {error}"
            );
            assert!(h.log().is_empty(), "{what}: {:?}", h.log());
        }
    }
}

#[test]
fn a_16_mib_invalid_record_comes_back_whole_as_rosetta_raw() {
    let mut h = host("rosetta_filter");
    let mut input = br#"{"log":""#.to_vec();
    input.extend_from_slice(
        varied_text(16 << 20)
            .replace('"', "'")
            .replace('\\', "/")
            .as_bytes(),
    );
    input.extend_from_slice("é\u{1F600}".as_bytes());
    // No closing quote: invalid.
    let outcome = h.filter(TAG, 0, 0, &input);
    assert!(!outcome.copy_failed);
    let error = refused(&outcome, &input, "16 MiB invalid record");
    assert_eq!(
        error,
        format!(
            "invalid-json: expected '\"' closing a string at byte {}",
            input.len()
        )
    );
    assert!(h.log().is_empty(), "{:?}", h.log());
}

// ---------------------------------------------------------------------
// §2: memory is bounded by the largest record, not the number of records.

/// How many bytes linear memory grew between the end of the first `warmup`
/// records and the end of `records`, run through `host`.
fn memory_growth(
    host: &mut Host,
    records: impl IntoIterator<Item = Vec<u8>>,
    warmup: usize,
) -> u64 {
    let mut base = host.memory_bytes();
    for (i, record) in records.into_iter().enumerate() {
        if i == warmup {
            base = host.memory_bytes();
        }
        host.filter(TAG, 0, 0, &record);
    }
    host.memory_bytes().saturating_sub(base)
}

/// Fails unless `records` leave linear memory within `bound` bytes of its
/// size after the first `warmup` of them, every one kept.
fn assert_memory_flat(
    host: &mut Host,
    records: impl IntoIterator<Item = Vec<u8>>,
    warmup: usize,
    bound: u64,
) {
    let before = host.stats();
    let grown = memory_growth(host, records, warmup);
    let after = host.stats();
    let count = after.records_in - before.records_in;
    assert_eq!(
        after.kept - before.kept,
        count,
        "records lost: {:?}",
        host.log().first()
    );
    assert!(
        grown <= bound,
        "linear memory grew by {grown} bytes over {count} records after the first {warmup} (bound {bound})"
    );
}

/// `n` small records of many shapes, every one distinct: a short line,
/// a record with a key never seen before, a refused record, and now and
/// then an istio access-log line with a fresh path.
fn small_records(n: usize) -> impl Iterator<Item = Vec<u8>> {
    let istio = istio_lines();
    (0..n).map(move |i| {
        if i % 1000 == 999 {
            let template = &istio[i / 1000 % istio.len()];
            return line(&template.replacen(" HTTP/1.1", &format!("/{i} HTTP/1.1"), 1));
        }
        match i % 3 {
            0 => to_fluent_bit_json(&Body::map([("log", Body::str(&format!("{i} é")))])),
            1 => to_fluent_bit_json(&Body::Map(vec![(
                Body::Str(format!("k{i}").into_bytes()),
                Body::UInt(i as u64),
            )])),
            _ => format!("{{\"log\":\"{i}").into_bytes(),
        }
    })
}

const MIB: u64 = 1 << 20;

#[test]
fn memory_stays_flat_over_a_million_records() {
    let mut h = host("rosetta_envoy");
    assert_memory_flat(&mut h, small_records(1_000_000), 1000, MIB);
    assert!(h.log().is_empty(), "{:?}", h.log().first());
}

#[test]
fn the_memory_check_catches_a_leaking_module() {
    // tests/fixtures/leak.wat: fluent-bit issue 11072's leak. 100,000
    // records, of which roughly 70 bytes each are never freed.
    let mut leak = load(HostConfig::new(fixture("leak.wat")));
    let grown = memory_growth(&mut leak, small_records(100_000), 1000);
    assert!(
        grown > MIB,
        "the check must see a leak: grew only {grown} bytes"
    );
}

// ---------------------------------------------------------------------
// §4: a trap loses one record and nothing else.

#[test]
fn a_call_cut_off_anywhere_leaves_the_next_call_whole() {
    let records: Vec<Vec<u8>> = istio_lines().iter().take(2).map(|l| line(l)).collect();
    let expected = answers("rosetta_envoy", &records);
    let mut h = host("rosetta_envoy");
    // Warm up, and find what a whole call on records[0] costs.
    let mut full = u64::MAX;
    for round in 0..6 {
        let i = round % 2;
        let outcome = h.filter(TAG, 0, 0, &records[i]);
        assert_eq!(outcome.raw(), Some(&expected[i][..]), "warm-up {round}");
        if i == 0 {
            full = full.min(outcome.fuel);
        }
    }
    assert!(full > 1000, "a parse costs {full} fuel");

    let (mut cuts, mut limits) = (0, 0);
    for limit in (50..full).step_by(50) {
        limits += 1;
        h.set_fuel_per_call(Some(limit));
        let outcome = h.filter(TAG, 0, 0, &records[0]);
        match &outcome.verdict {
            Verdict::Error { .. } => cuts += 1,
            // Fuel per call varies a little with the allocator's state: a
            // call may finish just under the limit, and then it is whole.
            Verdict::Kept { raw, .. } if limit >= full / 100 * 95 && *raw == expected[0] => {}
            other => panic!("{limit} fuel of {full}: {other:?}"),
        }
        h.set_fuel_per_call(None);
        let i = limits % 2;
        let outcome = h.filter(TAG, 0, 0, &records[i]);
        assert!(
            outcome.raw() == Some(&expected[i][..]),
            "the call after one cut at {limit} fuel of {full}: got {:?}",
            outcome
                .raw()
                .map(String::from_utf8_lossy)
                .ok_or(&outcome.verdict)
        );
    }
    assert!(cuts >= limits * 9 / 10, "{cuts} cuts in {limits} limits");
    assert_eq!(h.stats().errors, cuts as u64);
}

/// Cuts the first call of a fresh instance at every 50 fuel while it loads
/// its configuration, and checks that the next calls answer `expected`.
fn first_call_cut_off(function: &str, conf: Option<&str>, record: &[u8], expected: &[u8]) {
    let fresh = || {
        let h = host(function);
        if let Some(text) = conf {
            h.dot.write("rosetta.toml", text);
        }
        h
    };
    let mut untouched = fresh();
    let first = untouched.filter(TAG, 0, 0, record);
    assert_eq!(first.raw(), Some(expected), "untouched first call");
    let second = untouched.filter(TAG, 0, 0, record);
    assert_eq!(second.raw(), Some(expected), "untouched second call");
    // What the first call spends beyond the second: the loading.
    // The fixed entry points load nothing, so the sweep covers the whole
    // first call; it always covers the loading and 500 fuel past it.
    let loading = first.fuel.saturating_sub(second.fuel);
    let mut failures = Vec::new();
    for limit in (50..(loading + 500).max(first.fuel * 9 / 10)).step_by(50) {
        let mut h = fresh();
        h.set_fuel_per_call(Some(limit));
        let outcome = h.filter(TAG, 0, 0, record);
        assert!(
            matches!(outcome.verdict, Verdict::Error { .. }),
            "first call with {limit} fuel of {}: {:?}",
            first.fuel,
            outcome.verdict
        );
        h.set_fuel_per_call(None);
        let next: Vec<Outcome> = (0..3).map(|_| h.filter(TAG, 0, 0, record)).collect();
        if next.iter().any(|o| o.raw() != Some(expected)) {
            failures.push(format!(
                "cut at {limit} fuel of {}: the next 3 calls gave {:?}; stderr {:?}",
                first.fuel,
                next.iter()
                    .map(|o| match o.raw() {
                        Some(raw) if raw == expected => "the expected record".to_string(),
                        Some(raw) => String::from_utf8_lossy(raw).into_owned(),
                        None => format!("{:?}", o.verdict),
                    })
                    .collect::<Vec<_>>(),
                String::from_utf8_lossy(&h.stderr())
                    .lines()
                    .take(3)
                    .collect::<Vec<_>>()
            ));
        }
    }
    report(
        &format!("{function} with rosetta.toml {conf:?}, first call cut off"),
        &failures,
    );
}

#[test]
fn a_first_call_cut_off_recovers_rosetta_envoy() {
    let record = line(&istio_lines()[0]);
    let parsed = answers("rosetta_envoy", std::slice::from_ref(&record)).remove(0);
    first_call_cut_off("rosetta_envoy", None, &record, &parsed);
}

#[test]
fn a_first_call_cut_off_while_loading_a_good_file_recovers() {
    let record = line(&istio_lines()[0]);
    let parsed = answers("rosetta_envoy", std::slice::from_ref(&record)).remove(0);
    first_call_cut_off(
        "rosetta_filter",
        Some("parsers = \"envoy\"\nnormalise_time = false\nlevels = false\ntemplates = false\n"),
        &record,
        &parsed,
    );
}

#[test]
fn a_first_call_cut_off_while_reporting_a_bad_file_recovers() {
    // The cut can land while the module prints the problem to stderr.
    let record = line(&istio_lines()[0]);
    let flagged = with_member(
        &record,
        "rosetta.error",
        "rosetta.toml:1: unknown key 'parsr'",
    );
    first_call_cut_off(
        "rosetta_filter",
        Some("parsr = \"envoy\"\n"),
        &record,
        &flagged,
    );
}

// ---------------------------------------------------------------------
// §6: event_format msgpack.

fn msgpack_host(function: &str) -> Sandboxed {
    host_with(function, |c| HostConfig {
        event_format: EventFormat::Msgpack,
        ..c
    })
}

/// `body` as serde_json sees fluent-bit's JSON of it.
fn as_json(body: &Body) -> Value {
    match serde_json::from_slice(&to_fluent_bit_json(body)) {
        Ok(v) => v,
        Err(e) => panic!("{body:?}: {e}"),
    }
}

#[test]
fn msgpack_records_without_zero_bytes_come_back_as_they_went_in() {
    let cases: Vec<(&str, Body)> = vec![
        (
            "strings, small integers, booleans, nil",
            Body::map([
                ("log", Body::str("GET /health 200")),
                ("stream", Body::str("stdout")),
                ("n", Body::UInt(5)),
                ("neg", Body::Int(-3)),
                ("ok", Body::Bool(true)),
                ("none", Body::Nil),
            ]),
        ),
        (
            "nesting",
            Body::map([(
                "kubernetes",
                Body::map([
                    ("pod_name", Body::str("web-1")),
                    ("labels", Body::Array(vec![Body::str("a"), Body::str("b")])),
                ]),
            )]),
        ),
        (
            "non-ASCII and invalid UTF-8",
            Body::map([(
                "log",
                Body::Str(b"caf\xc3\xa9 \xf0\x9f\x98\x80 bad \xff end".to_vec()),
            )]),
        ),
        (
            "str8 (100 bytes)",
            Body::map([("log", Body::str(&"s".repeat(100)))]),
        ),
        (
            "str16 (300 bytes)",
            Body::map([("log", Body::str(&"s".repeat(300)))]),
        ),
        ("float64 0.1", Body::map([("f", Body::Float(0.1))])),
        ("uint8 200", Body::map([("status", Body::UInt(200))])),
        ("uint16 1000", Body::map([("bytes", Body::UInt(1000))])),
        ("int8 -100", Body::map([("d", Body::Int(-100))])),
        ("int16 -1000", Body::map([("d", Body::Int(-1000))])),
        (
            "private-use U+E0FF as text",
            Body::map([("log", Body::str("\u{e0ff}"))]),
        ),
    ];
    let mut h = msgpack_host("rosetta_filter");
    let mut failures = Vec::new();
    for (name, body) in &cases {
        let input = to_msgpack(body);
        assert!(!input.contains(&0), "{name}: the case itself has a 0x00");
        let outcome = h.filter(TAG, 0, 0, &input);
        if outcome.raw() != Some(&input[..]) {
            failures.push(format!(
                "{name}:\n  input {}\n  got   {}",
                hex(&input),
                outcome
                    .raw()
                    .map(|raw| format!("{} = {:?}", hex(raw), outcome.json()))
                    .unwrap_or_else(|| format!("{:?}", outcome.verdict))
            ));
        }
    }
    report("msgpack round trip", &failures);
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn msgpack_records_that_need_a_zero_byte_come_back_whole_as_json_text() {
    let twenty = Body::Map(
        (0..20)
            .map(|i| (Body::Str(format!("k{i}").into_bytes()), Body::str("v")))
            .collect(),
    );
    let cases: Vec<(&str, Body)> = vec![
        (
            "integer 0",
            Body::map([("log", Body::str("x")), ("n", Body::UInt(0))]),
        ),
        ("20 keys (map16)", twenty),
        (
            "256-byte string",
            Body::map([("log", Body::str(&"x".repeat(256)))]),
        ),
        (
            "nested zero",
            Body::map([("a", Body::Array(vec![Body::UInt(0), Body::Bool(false)]))]),
        ),
    ];
    let mut h = msgpack_host("rosetta_filter");
    for (name, body) in &cases {
        let input = to_msgpack(body);
        assert!(input.contains(&0), "{name}: the case has no 0x00");
        let outcome = h.filter(TAG, 0, 0, &input);
        let raw = kept(&outcome, name);
        // The host kept every byte up to the first 0x00 and judged them one
        // whole map; the module wrote none: nothing was cut.
        assert!(!raw.contains(&0), "{name}");
        assert_eq!(h.last_answer(), Some(raw), "{name}");
        let Some(Value::Object(wrapper)) = outcome.json() else {
            panic!("{name}: {:?}", outcome.json())
        };
        let keys: Vec<&str> = wrapper.keys().map(String::as_str).collect();
        assert_eq!(keys.len(), 2, "{name}: {keys:?}");
        let error = wrapper.get("rosetta.error").and_then(Value::as_str);
        assert!(
            error.is_some_and(|e| e.starts_with("msgpack-nul")),
            "{name}: {error:?}"
        );
        let Some(text) = wrapper.get("rosetta.record").and_then(Value::as_str) else {
            panic!("{name}: no rosetta.record: {keys:?}")
        };
        let record: Value = match serde_json::from_str(text.trim_end_matches(' ')) {
            Ok(v) => v,
            Err(e) => panic!("{name}: rosetta.record is not JSON ({e}): {text}"),
        };
        assert_eq!(
            record,
            as_json(body),
            "{name}: rosetta.record is not the record"
        );
    }
    assert!(h.log().is_empty(), "{:?}", h.log());
}

#[test]
fn invalid_msgpack_comes_back_in_hex() {
    let cases: &[(&str, &[u8], &str)] = &[
        (
            "value missing",
            b"\x81\xa1a",
            "invalid-msgpack: expected more bytes at byte 3",
        ),
        (
            "0xc1 is no marker",
            b"\x82\xa1a\x01\xc1",
            "invalid-msgpack: expected a valid marker at byte 4",
        ),
        (
            "string longer than the record",
            b"\x81\xa1a\xa9abc",
            "invalid-msgpack: expected more bytes at byte 4",
        ),
        (
            "bytes after the map",
            b"\x81\xa1a\x01\x01",
            "invalid-msgpack: expected the end of the record at byte 4",
        ),
    ];
    let mut h = msgpack_host("rosetta_filter");
    let mut failures = Vec::new();
    for (name, input, error) in cases {
        let outcome = h.filter(TAG, 0, 0, input);
        let raw = kept(&outcome, name);
        assert!(!raw.contains(&0), "{name}");
        let want = serde_json::json!({"rosetta.error": error, "rosetta.msgpack_hex": hex(input)});
        let got = outcome.json().map(|v| {
            let mut v = v.clone();
            if let Some(Value::String(h)) = v.get_mut("rosetta.msgpack_hex") {
                *h = h.trim_end_matches(' ').to_string();
            }
            v
        });
        if got.as_ref() != Some(&want) {
            failures.push(format!("{name}:\n  want {want}\n  got  {got:?}"));
        }
    }
    report("invalid msgpack", &failures);
}

#[test]
fn a_record_is_read_by_its_bytes_whatever_the_event_format() {
    // A JSON record reaching a filter configured msgpack is read as JSON
    // (its first byte is '{'), and a msgpack record reaching a filter
    // configured json is read as msgpack: the module answers each in its
    // own kind, whatever fluent-bit then makes of the answer.
    let json_record = line(&istio_lines()[0]);
    let msgpack_record = to_msgpack(&Body::map([
        ("log", Body::str("hello")),
        ("n", Body::UInt(7)),
    ]));
    let mut as_json_host = host("rosetta_envoy");
    let mut as_msgpack_host = msgpack_host("rosetta_envoy");

    let json_answer = kept(
        &as_json_host.filter(TAG, 0, 0, &json_record),
        "json in json",
    )
    .to_vec();
    as_msgpack_host.filter(TAG, 0, 0, &json_record);
    assert_eq!(
        as_msgpack_host.last_answer(),
        Some(&json_answer[..]),
        "a JSON record in msgpack mode"
    );
    one_object(&json_answer, "the JSON answer");

    let msgpack_answer = kept(
        &as_msgpack_host.filter(TAG, 0, 0, &msgpack_record),
        "msgpack in msgpack",
    )
    .to_vec();
    as_json_host.filter(TAG, 0, 0, &msgpack_record);
    assert_eq!(
        as_json_host.last_answer(),
        Some(&msgpack_answer[..]),
        "a msgpack record in json mode"
    );
}

#[test]
fn deep_msgpack_costs_no_stack() {
    let mut input = b"\x81\xa1a".repeat(10_000);
    input.push(0x80);
    let mut h = host_with("rosetta_filter", |c| HostConfig {
        event_format: EventFormat::Msgpack,
        max_wasm_stack: Some(64 * 1024),
        ..c
    });
    let outcome = h.filter(TAG, 0, 0, &input);
    assert!(
        outcome.raw() == Some(&input[..]),
        "10,000 nested maps: {:?}",
        outcome.raw().map(<[u8]>::len).ok_or(&outcome.verdict)
    );
}

// ---------------------------------------------------------------------
// rosetta.toml (docs/configuration.md).

const BAD_TOML: &str = "# rosetta.toml\nparsers = \"none\"\nparsr = \"envoy\"\n";
const BAD_TOML_ERROR: &str = "rosetta.toml:3: unknown key 'parsr'";

/// `record` with one more member, as the module appends it.
fn with_member(record: &[u8], key: &str, value: &str) -> Vec<u8> {
    let mut out = record[..record.len() - 1].to_vec();
    out.push(b',');
    out.extend_from_slice(&serde_json::to_vec(key).unwrap_or_default());
    out.push(b':');
    out.extend_from_slice(&serde_json::to_vec(value).unwrap_or_default());
    out.push(b'}');
    out
}

#[test]
fn a_bad_configuration_flags_every_record_and_says_so_once() {
    let mut h = host("rosetta_filter");
    h.dot.write("rosetta.toml", BAD_TOML);
    let istio = istio_lines();
    let records: Vec<Vec<u8>> = (0..1000)
        .map(|i| match i % 3 {
            0 => line(&format!("plain {i}")),
            1 => line(&istio[i % istio.len()]),
            _ => docker_bytes(
                format!("caf\u{e9} \u{1F600} {i} \x01").as_bytes(),
                "stderr",
                "t",
            ),
        })
        .collect();
    for record in &records {
        let outcome = h.filter(TAG, 0, 0, record);
        let expected = with_member(record, "rosetta.error", BAD_TOML_ERROR);
        assert!(
            outcome.raw() == Some(&expected[..]),
            "want {}\ngot  {:?}",
            String::from_utf8_lossy(&expected),
            outcome
                .raw()
                .map(String::from_utf8_lossy)
                .ok_or(&outcome.verdict)
        );
    }
    let stderr = String::from_utf8_lossy(&h.stderr()).into_owned();
    assert_eq!(
        stderr.matches(BAD_TOML_ERROR).count(),
        1,
        "stderr: {stderr:?}"
    );
    assert!(h.log().is_empty(), "{:?}", h.log());
}

/// A host of `function` with `.` empty and `conf` pre-opened as
/// `/fluent-bit/etc` after it.
fn host_with_etc(function: &str, conf: &TempDir) -> Sandboxed {
    // No file in ".": the one in /fluent-bit/etc is the one to find.
    common::host_with(function, |c| {
        let mut mapped = c.mapped_dirs.clone();
        mapped.push(PreopenDir {
            host: conf.path.clone(),
            guest: "/fluent-bit/etc".to_string(),
        });
        HostConfig {
            mapped_dirs: mapped,
            ..c
        }
    })
}

#[test]
fn a_good_configuration_in_another_accessible_path_is_read_once() {
    let conf = TempDir::new("etc");
    conf.write(
        "rosetta.toml",
        "# istio-proxy\nparsers = \"envoy\"\nnormalise_time = false\nlevels = false\ntemplates = false\n",
    );
    let records: Vec<Vec<u8>> = istio_lines().iter().map(|l| line(l)).collect();
    let expected = answers("rosetta_envoy", &records);
    let mut h = host_with_etc("rosetta_filter", &conf);
    for (i, (record, want)) in records.iter().zip(&expected).enumerate() {
        let outcome = h.filter(TAG, 0, 0, record);
        assert_eq!(
            outcome.raw().map(String::from_utf8_lossy),
            Some(String::from_utf8_lossy(want)),
            "record {i}"
        );
        if i == 0 {
            assert!(
                outcome
                    .json()
                    .and_then(|v| v.get("response_code"))
                    .is_some(),
                "record {i} was not parsed"
            );
            // Read once: later changes to either directory change nothing.
            conf.write("rosetta.toml", "parsers = \"none\"\n");
            h.dot.write("rosetta.toml", BAD_TOML);
        }
    }
    assert!(
        h.stderr().is_empty(),
        "{}",
        String::from_utf8_lossy(&h.stderr())
    );
    assert!(h.log().is_empty(), "{:?}", h.log());
}

#[test]
fn the_fixed_entry_points_ignore_a_broken_configuration() {
    let records: Vec<Vec<u8>> = istio_lines()
        .iter()
        .take(5)
        .map(|l| line(l))
        .chain(
            example_lines("ingress-nginx_ingress-nginx-controller-5c8d66c76d-4vxzm_controller.log")
                .iter()
                .take(5)
                .map(|l| line(l)),
        )
        .chain([line("plain")])
        .collect();
    for function in ["rosetta_envoy", "rosetta_nginx_ingress"] {
        let expected = answers(function, &records);
        let mut h = host(function);
        h.dot.write("rosetta.toml", BAD_TOML);
        for (record, want) in records.iter().zip(&expected) {
            let outcome = h.filter(TAG, 0, 0, record);
            assert_eq!(
                outcome.raw().map(String::from_utf8_lossy),
                Some(String::from_utf8_lossy(want)),
                "{function}"
            );
        }
    }
}

#[test]
fn the_fixed_entry_points_do_not_read_the_file_at_all() {
    // docs/configuration.md: "rosetta_envoy and rosetta_nginx_ingress never
    // read the file". A broken one must not make them print that records
    // "pass through unchanged with rosetta.error", which they do not.
    for function in ["rosetta_envoy", "rosetta_nginx_ingress"] {
        let mut h = host(function);
        h.dot.write("rosetta.toml", BAD_TOML);
        assert!(h.filter(TAG, 0, 0, &line("x")).is_kept());
        assert!(
            h.stderr().is_empty(),
            "{function} printed: {}",
            String::from_utf8_lossy(&h.stderr())
        );
    }
}

// ---------------------------------------------------------------------
// §5: fluent-bit up to 4.0 instantiated the module for every chunk.

#[test]
fn a_fresh_instance_per_chunk_gives_the_same_records() {
    let records: Vec<Vec<u8>> = istio_lines().iter().map(|l| line(l)).collect();
    let expected = answers("rosetta_envoy", &records);
    let per_chunk = |c: HostConfig| HostConfig {
        instance_per_chunk: true,
        ..c
    };
    let mut envoy = host_with("rosetta_envoy", per_chunk);
    let mut filter = host_with("rosetta_filter", per_chunk);
    filter.dot.write(
        "rosetta.toml",
        "parsers = \"envoy\"\nnormalise_time = false\nlevels = false\ntemplates = false\n",
    );
    let mut bad = host_with("rosetta_filter", per_chunk);
    bad.dot.write("rosetta.toml", BAD_TOML);
    let mut chunks = 0;
    for (batch, wants) in records.chunks(4).zip(expected.chunks(4)) {
        for (record, want) in batch.iter().zip(wants) {
            for h in [&mut envoy, &mut filter] {
                let outcome = h.filter(TAG, 0, 0, record);
                assert!(
                    outcome.raw() == Some(&want[..]),
                    "chunk {chunks}: {:?}",
                    outcome
                        .raw()
                        .map(String::from_utf8_lossy)
                        .ok_or(&outcome.verdict),
                );
            }
            let flagged = with_member(record, "rosetta.error", BAD_TOML_ERROR);
            assert_eq!(bad.filter(TAG, 0, 0, record).raw(), Some(&flagged[..]));
        }
        for h in [&mut envoy, &mut filter, &mut bad] {
            if let Err(e) = h.end_chunk() {
                panic!("re-instantiation failed: {e}");
            }
        }
        chunks += 1;
    }
    for h in [&envoy, &filter, &bad] {
        assert_eq!(h.stats().instantiations, chunks + 1);
        assert!(h.log().is_empty(), "{:?}", h.log());
    }
}
