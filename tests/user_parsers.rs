//! User parsers through the module: a `[[parser]]` in `rosetta.toml` and a
//! fluent-bit parsers file named by `parsers_file`, routed to by name and by
//! annotation; a pattern the linear-time engine cannot run, and one that
//! would overflow WAMR's default frame stack, refused at load with the
//! reason.

mod common;

use common::*;
use serde_json::Value;

const TAG: &str = "kube.shop.orders-7d9cf5cb46-d2h2z.orders";

fn run(toml: &str, files: &[(&str, &str)], log: &str) -> Value {
    let mut h = host("rosetta_filter");
    h.dot.write("rosetta.toml", toml);
    for (name, text) in files {
        h.dot.write(name, text);
    }
    let outcome = h.filter(TAG, 1_795_939_800, 0, &line(log));
    let out = outcome.raw().expect("kept");
    serde_json::from_slice(out).expect("one JSON object")
}

const ORDERS: &str = r#"
wasm_stack_size = "64k"
parsers = "none"

[[route]]
container = "orders"
parsers = ["orders-line", "auto"]

[[parser]]
name = "orders-line"
regex = '^(?<time>[^ ]+) order (?<order>[A-Z]-\d+) (?<amount>[0-9.]+) (?<paid>true|false) "(?<who>.*)"$'
time_key = "time"
time_format = "%Y-%m-%dT%H:%M:%S%z"
types = "amount:float paid:bool"
"#;

#[test]
fn a_user_parser_reads_typed_fields_under_merge_key() {
    let v = run(
        ORDERS,
        &[],
        r#"2026-11-27T08:10:00+0100 order A-1042 19.99 true "Zoë \"Z\" O'Brien""#,
    );
    let parsed = &v["log_processed"];
    assert_eq!(parsed["order"], "A-1042", "{v}");
    assert_eq!(parsed["amount"], 19.99, "{v}");
    assert_eq!(parsed["paid"], true, "{v}");
    assert_eq!(parsed["who"], r#"Zoë \"Z\" O'Brien"#, "{v}");
    assert!(parsed.get("time").is_none(), "time_keep is off: {v}");
    assert_eq!(v["timestamp"], "2026-11-27T07:10:00Z", "{v}");
    assert!(v.get("log").is_none(), "{v}");
}

#[test]
fn a_line_the_user_parser_does_not_match_goes_down_the_chain() {
    let v = run(ORDERS, &[], r#"{"msg":"hello"}"#);
    assert_eq!(v["log_processed"]["msg"], "hello", "{v}");
}

#[test]
fn a_parsers_file_is_read_and_its_names_used_by_annotation() {
    let conf = "[PARSER]\n    Name   shop-csv\n    Format regex\n    Regex  ^(?<a>[^,]*),(?<b>\\d+)$\n    Types  b:integer\n\n[PARSER]\n    Name   my-json\n    Format json\n";
    let toml = "wasm_stack_size = 65536\nparsers_file = \"parsers.conf\"\n[[route]]\ncontainer = \"orders\"\nparsers = \"shop-csv\"\n";
    let v = run(toml, &[("parsers.conf", conf)], "x,42");
    assert_eq!(v["log_processed"]["a"], "x", "{v}");
    assert_eq!(v["log_processed"]["b"], 42, "{v}");
    let toml = "parsers_file = \"parsers.conf\"\nparsers = \"my-json\"\n";
    let v = run(toml, &[("parsers.conf", conf)], r#"{"k":1}"#);
    assert!(
        v.get("rosetta.error").is_some(),
        "the regex parser needs a bigger stack: {v}"
    );
}

#[test]
fn what_the_engine_cannot_run_is_a_configuration_error() {
    let cases = [
        (
            "back-reference",
            "wasm_stack_size = \"64k\"\n[[parser]]\nname = \"bad\"\nregex = '^(?<a>x)\\1$'\n",
            "parser 'bad'",
        ),
        (
            "default 8 KiB stack",
            "[[parser]]\nname = \"deep\"\nregex = '^(?<a>x)$'\n",
            "wasm_stack_size",
        ),
        (
            "missing parsers file",
            "parsers_file = \"nope.conf\"\n",
            "nope.conf",
        ),
    ];
    for (name, toml, want) in cases {
        let v = run(toml, &[], "anything");
        let error = v["rosetta.error"].as_str().unwrap_or_default();
        assert!(error.contains(want), "{name}: {error}");
        assert_eq!(v["log"], "anything", "{name}: the record passes through");
    }
}
