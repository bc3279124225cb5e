//! Rate limits through the module on the host's virtual clock: a flood from
//! one client is limited, the first refusal becomes a summary, every
//! dropped record is counted in a tally a later record carries, and a
//! forged time in the log line cannot refill a budget.

mod common;

use common::*;
use serde_json::Value;
use std::time::Duration;

const TAG: &str = "kube.shop.productpage-v1-6b746f74dc-9stvs.istio-proxy";

const TOML: &str = r#"
parsers = "none"
[[route]]
name = "sidecars"
container = "istio-proxy"
parsers = "envoy"

[[route.limit]]
name = "per-client"
key = "{downstream_remote_address_ip}"
records_per_sec = 10
records_burst = 10
"#;

fn istio(client: &str, year: u32) -> Vec<u8> {
    line(&format!(
        r#"[{year}-11-27T08:10:00.100Z] "GET /x HTTP/1.1" 200 - via_upstream - "-" 0 10 1 1 "-" "curl" "id" "h" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:40000 10.44.1.27:9080 {client}:50000 - default"#
    ))
}

#[test]
fn a_flood_is_limited_and_every_drop_is_counted() {
    let mut h = host("rosetta_filter");
    h.dot.write("rosetta.toml", TOML);
    let (mut admitted, mut summaries, mut dropped, mut counted) = (0u64, 0u64, 0u64, 0u64);
    let mut tally = |out: Option<&[u8]>| match out {
        Some(raw) if !raw.is_empty() => {
            let v: Value = serde_json::from_slice(raw).expect("one JSON object");
            counted += v["rosetta.suppressed.records"].as_u64().unwrap_or(0);
            if v.get("rosetta.limit.exceeded").is_some() {
                summaries += 1;
            } else {
                admitted += 1;
            }
        }
        _ => dropped += 1,
    };
    // 1,000 records from one client within one (virtual) second, their
    // lines claiming times years apart.
    for i in 0..1000u32 {
        let outcome = h.filter(TAG, 0, 0, &istio("10.44.3.9", 2000 + i % 50));
        tally(outcome.raw());
    }
    // A paying client meanwhile is not limited by the other's flood.
    let other = h.filter(TAG, 0, 0, &istio("10.44.3.10", 2026));
    assert!(
        other.raw().is_some_and(|r| !r.is_empty()),
        "another key has its own budget"
    );
    // Later, the next record of the flooding client carries the tally.
    h.clock().advance(Duration::from_secs(5));
    tally(h.filter(TAG, 0, 0, &istio("10.44.3.9", 2026)).raw());
    assert_eq!(summaries, 1, "the first refusal becomes a summary");
    assert_eq!(
        admitted,
        10 + 1,
        "the burst, then the record after the pause"
    );
    assert!(dropped > 900, "{dropped} dropped");
    // Nothing lost: every record is admitted, or counted in a tally.
    assert_eq!(
        admitted + counted,
        1001,
        "admitted {admitted} + counted {counted}"
    );
}

#[test]
fn without_limits_nothing_is_dropped() {
    let mut h = host("rosetta_filter");
    h.dot.write(
        "rosetta.toml",
        "[[route]]\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n",
    );
    for _ in 0..100 {
        let outcome = h.filter(TAG, 0, 0, &istio("10.44.3.9", 2026));
        assert!(outcome.raw().is_some_and(|r| !r.is_empty()));
    }
}

#[test]
fn a_bad_limit_is_a_configuration_error_at_its_line() {
    let mut h = host("rosetta_filter");
    h.dot.write(
        "rosetta.toml",
        "[[route]]\ncontainer = \"x\"\nparsers = \"envoy\"\n[[route.limit]]\nname = \"a\"\nrecords_per_sec = -1\n",
    );
    let outcome = h.filter(TAG, 0, 0, &istio("10.44.3.9", 2026));
    let v: Value = serde_json::from_slice(outcome.raw().expect("kept")).expect("JSON");
    let error = v["rosetta.error"].as_str().unwrap_or_default();
    assert!(error.contains("rosetta.toml:6: limit:"), "{error}");
}

/// `make demo`'s flood (examples/flood/): a scanner among 40 ordinary
/// clients, the lines arriving at 100 a second on the host's clock. Every
/// scanner request is admitted or counted, once; no ordinary client is
/// limited.
#[test]
fn the_demo_flood_is_limited_per_client_and_fully_counted() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/flood");
    let log = dir.join("ingress-nginx_ingress-nginx-controller-5c8d66c76d-4vxzm_controller.log");
    let mut h = host("rosetta_filter");
    h.dot.write(
        "rosetta.toml",
        &std::fs::read_to_string(dir.join("rosetta.toml")).expect("examples/flood/rosetta.toml"),
    );
    let tag = rosetta_host::tail::tag_for_path(&log);
    let data = std::fs::read(&log).expect("the flood log");
    let mut sent = std::collections::BTreeMap::<String, u64>::new();
    let mut out = std::collections::BTreeMap::<String, u64>::new();
    let mut summaries = Vec::new();
    for raw_line in rosetta_host::tail::split_lines(&data) {
        h.clock().advance(Duration::from_millis(10));
        let docker: Value = serde_json::from_slice(raw_line).expect("a docker line");
        let client = docker["log"].as_str().and_then(|l| l.split(' ').next());
        *sent
            .entry(client.expect("a client").to_string())
            .or_default() += 1;
        let record = rosetta_host::tail::tail_line(raw_line, h.clock().wall());
        let outcome = h.filter(&tag, 0, 0, &rosetta_host::to_fluent_bit_json(&record.body));
        let Some(raw) = outcome.raw().filter(|r| !r.is_empty()) else {
            continue;
        };
        let v: Value = serde_json::from_slice(raw).expect("one JSON object");
        if let Some(key) = v["rosetta.limit.key"].as_str() {
            *out.entry(key.to_string()).or_default() +=
                v["rosetta.suppressed.records"].as_u64().expect("a count");
        }
        if v.get("rosetta.limit.exceeded").is_some() {
            summaries.push(v["rosetta.limit.key"].clone());
        } else {
            *out.entry(v["host"].as_str().expect("a client").to_string())
                .or_default() += 1;
        }
    }
    assert_eq!(summaries, ["203.0.113.66"], "one summary, for the scanner");
    assert_eq!(out, sent, "per client, admitted + counted = sent");
    let scanner = sent["203.0.113.66"];
    assert!(scanner > 150, "{scanner} scanner requests");
}
