//! Routing through the module, as fluent-bit runs it: a table of (tag,
//! `kubernetes` map, annotations, stream, line) and the parser that must
//! read the line, covering every precedence rule, both tag layouts, the CRI
//! envelope and every fluent-bit stock parser name rosetta maps.
//!
//! Which parser ran is read from the output: each format writes a field no
//! other writes (`response_code` for the Envoy family, `upstream_status`
//! for ingress-nginx); pass-through means the record comes back byte for
//! byte.

mod common;

use common::*;
use rosetta::formats::auto::Format;
use rosetta::route::Builtin;
use rosetta_host::{Body, to_fluent_bit_json};
use serde_json::Value;

const ISTIO: &str = r#"[2026-11-27T08:10:00.100Z] "GET /api/v1/products/0/reviews HTTP/1.1" 200 - via_upstream - "-" 374 19096 8 13 "-" "curl/7.73.0-DEV" "6513270e-a6a3-0c5c-128b-892fd23f0824" "productpage:9080" "10.44.1.27:9080" inbound|9080|| 127.0.0.6:40000 10.44.1.27:9080 10.44.3.9:50000 outbound_.9080_._.productpage.shop.svc.cluster.local default"#;
const NGINX: &str = r#"10.128.0.95 - - [27/Nov/2026:08:10:00 +0000] "GET /api/v1/products/0/reviews HTTP/1.1" 200 4685 "-" "kube-probe/1.28" 220 0.479 [shop-productpage-9080] [] 10.44.1.27:9080 7195 0.765 200 a906922fa4b9a9c4b753a1eef0836085"#;

/// The parser the output shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ran {
    /// The record came back byte for byte.
    Nothing,
    Envoy,
    NginxIngress,
    /// Left unparsed with this `rosetta.reason` prefix.
    Reason(&'static str),
}

fn ran(input: &[u8], output: &[u8]) -> Ran {
    if input == output {
        return Ran::Nothing;
    }
    let v: Value = match serde_json::from_slice(output) {
        Ok(v) => v,
        Err(e) => panic!("not JSON ({e}): {}", String::from_utf8_lossy(output)),
    };
    if v.get("response_code").is_some() {
        Ran::Envoy
    } else if v.get("upstream_status").is_some() {
        Ran::NginxIngress
    } else {
        Ran::Reason("?")
    }
}

fn kubernetes(container: &str, annotations: &[(&str, &str)], labels: &[(&str, &str)]) -> Body {
    let map = |pairs: &[(&str, &str)]| {
        Body::Map(
            pairs
                .iter()
                .map(|(k, v)| (Body::str(k), Body::str(v)))
                .collect(),
        )
    };
    Body::Map(vec![
        (
            Body::str("pod_name"),
            Body::str("productpage-v1-6b746f74dc-9stvs"),
        ),
        (Body::str("namespace_name"), Body::str("shop")),
        (Body::str("container_name"), Body::str(container)),
        (Body::str("labels"), map(labels)),
        (Body::str("annotations"), map(annotations)),
    ])
}

fn record(line: &str, stream: &str, kube: Option<Body>) -> Vec<u8> {
    let mut members = vec![
        (Body::str("log"), Body::str(&format!("{line}\n"))),
        (Body::str("stream"), Body::str(stream)),
        (Body::str("time"), Body::str("2026-11-27T08:10:00.100Z")),
    ];
    if let Some(k) = kube {
        members.push((Body::str("kubernetes"), k));
    }
    to_fluent_bit_json(&Body::Map(members))
}

struct Case {
    name: &'static str,
    toml: Option<&'static str>,
    tag: &'static str,
    record: Vec<u8>,
    want: Ran,
}

const SIDECAR_TAG: &str = "kube.shop.productpage-v1-6b746f74dc-9stvs.istio-proxy";
const APP_TAG: &str = "kube.shop.productpage-v1-6b746f74dc-9stvs.productpage";
const DEFAULT_LAYOUT_TAG: &str = "kube.var.log.containers.productpage-v1-6b746f74dc-9stvs_shop_istio-proxy-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log";

const ROUTES: &str = r#"
parsers = "none"
[[route]]
name = "sidecars"
container = "istio-proxy"
parsers = "envoy"
[[route]]
name = "ingress by label"
labels = { "app.kubernetes.io/name" = "ingress-nginx" }
parsers = "nginx-ingress"
[[route]]
name = "stderr of the app"
container = "productpage"
stream = "stderr"
parsers = ["envoy", "nginx-ingress"]
"#;

fn cases() -> Vec<Case> {
    let k = |c: &str, a: &[(&str, &str)]| Some(kubernetes(c, a, &[]));
    let cases = vec![
        Case {
            name: "no file: the default `auto` reads an istio line",
            toml: None,
            tag: APP_TAG,
            record: record(ISTIO, "stdout", None),
            want: Ran::Envoy,
        },
        Case {
            name: "route by container from the tag_regex tag",
            toml: Some(ROUTES),
            tag: SIDECAR_TAG,
            record: record(ISTIO, "stdout", None),
            want: Ran::Envoy,
        },
        Case {
            name: "route by container from fluent-bit's default tag",
            toml: Some(ROUTES),
            tag: DEFAULT_LAYOUT_TAG,
            record: record(ISTIO, "stdout", None),
            want: Ran::Envoy,
        },
        Case {
            name: "route by container from the kubernetes map (tag says nothing)",
            toml: Some(ROUTES),
            tag: "tail.0",
            record: record(ISTIO, "stdout", k("istio-proxy", &[])),
            want: Ran::Envoy,
        },
        Case {
            name: "the kubernetes map wins over the tag",
            toml: Some(ROUTES),
            tag: SIDECAR_TAG,
            record: record(ISTIO, "stdout", k("productpage", &[])),
            want: Ran::Nothing,
        },
        Case {
            name: "route by label",
            toml: Some(ROUTES),
            tag: "tail.0",
            record: record(
                NGINX,
                "stdout",
                Some(kubernetes(
                    "controller",
                    &[],
                    &[("app.kubernetes.io/name", "ingress-nginx")],
                )),
            ),
            want: Ran::NginxIngress,
        },
        Case {
            name: "route by stream: stderr matches",
            toml: Some(ROUTES),
            tag: APP_TAG,
            record: record(NGINX, "stderr", None),
            want: Ran::NginxIngress,
        },
        Case {
            name: "route by stream: stdout falls to the default",
            toml: Some(ROUTES),
            tag: APP_TAG,
            record: record(NGINX, "stdout", None),
            want: Ran::Nothing,
        },
        Case {
            name: "a chain: the first that reads the line wins",
            toml: Some(ROUTES),
            tag: APP_TAG,
            record: record(ISTIO, "stderr", None),
            want: Ran::Envoy,
        },
        Case {
            name: "a chain that reads nothing: reason names the route",
            toml: Some(ROUTES),
            tag: APP_TAG,
            record: record("plain text", "stderr", None),
            want: Ran::Reason("stderr of the app: "),
        },
        Case {
            name: "pod-wide annotation beats the routes",
            toml: Some(ROUTES),
            tag: SIDECAR_TAG,
            record: record(
                NGINX,
                "stdout",
                k(
                    "istio-proxy",
                    &[("fluentbit.io/parser", "k8s-nginx-ingress")],
                ),
            ),
            want: Ran::NginxIngress,
        },
        Case {
            name: "container annotation for the sidecar only",
            toml: Some(ROUTES),
            tag: APP_TAG,
            record: record(
                ISTIO,
                "stdout",
                k(
                    "productpage",
                    &[("fluentbit.io/parser-istio-proxy", "envoy")],
                ),
            ),
            want: Ran::Nothing,
        },
        Case {
            name: "container annotation beats the pod-wide one",
            toml: None,
            tag: SIDECAR_TAG,
            record: record(
                ISTIO,
                "stdout",
                k(
                    "istio-proxy",
                    &[
                        ("fluentbit.io/parser", "none"),
                        ("fluentbit.io/parser-istio-proxy", "istio-envoy-proxy"),
                    ],
                ),
            ),
            want: Ran::Envoy,
        },
        Case {
            name: "stream annotation applies to its stream only",
            toml: None,
            tag: APP_TAG,
            record: record(
                ISTIO,
                "stdout",
                k("productpage", &[("fluentbit.io/parser_stderr", "none")]),
            ),
            want: Ran::Envoy,
        },
        Case {
            name: "stream annotation on its stream",
            toml: None,
            tag: APP_TAG,
            record: record(
                ISTIO,
                "stderr",
                k("productpage", &[("fluentbit.io/parser_stderr", "none")]),
            ),
            want: Ran::Nothing,
        },
        Case {
            name: "stream and container annotation beats the container one",
            toml: None,
            tag: APP_TAG,
            record: record(
                ISTIO,
                "stderr",
                k(
                    "productpage",
                    &[
                        ("fluentbit.io/parser-productpage", "none"),
                        ("fluentbit.io/parser_stderr-productpage", "envoy"),
                    ],
                ),
            ),
            want: Ran::Envoy,
        },
        Case {
            name: "annotations off: the route applies",
            toml: Some(
                "annotations = false\nparsers = \"none\"\n[[route]]\ncontainer = \"istio-proxy\"\nparsers = \"envoy\"\n",
            ),
            tag: SIDECAR_TAG,
            record: record(
                ISTIO,
                "stdout",
                k("istio-proxy", &[("fluentbit.io/parser", "none")]),
            ),
            want: Ran::Envoy,
        },
        Case {
            name: "an unknown annotation name: unchanged, with a reason",
            toml: None,
            tag: APP_TAG,
            record: record(
                ISTIO,
                "stdout",
                k("productpage", &[("fluentbit.io/parser", "my-onigmo-regex")]),
            ),
            want: Ran::Reason(
                "unknown parser 'my-onigmo-regex' in annotation 'fluentbit.io/parser'",
            ),
        },
        Case {
            name: "a raw CRI line is split, then parsed",
            toml: None,
            tag: APP_TAG,
            record: record(
                &format!("2026-11-27T08:10:00.100000000Z stdout F {ISTIO}"),
                "stdout",
                None,
            ),
            want: Ran::Envoy,
        },
    ];
    cases
}

#[test]
fn each_record_gets_the_parser_its_identity_selects() {
    let mut failures = Vec::new();
    for case in cases() {
        let mut h = host("rosetta_filter");
        if let Some(text) = case.toml {
            h.dot.write("rosetta.toml", text);
        }
        let outcome = h.filter(case.tag, 0, 0, &case.record);
        let Some(out) = outcome.raw() else {
            failures.push(format!("{}: not kept: {:?}", case.name, outcome.verdict));
            continue;
        };
        let got = ran(&case.record, out);
        let ok = match (case.want, got) {
            (Ran::Reason(prefix), Ran::Reason(_)) => {
                let v: Value = serde_json::from_slice(out).unwrap_or_default();
                let reason = v["rosetta.reason"].as_str().unwrap_or_default();
                reason.starts_with(prefix)
            }
            (want, got) => want == got,
        };
        if !ok {
            failures.push(format!(
                "{}: want {:?}, got {:?}: {}",
                case.name,
                case.want,
                got,
                String::from_utf8_lossy(out)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A line each built-in reads (from each format's own documentation).
fn sample(builtin: Builtin) -> &'static str {
    match builtin {
        Builtin::Format(Format::Envoy) | Builtin::Auto | Builtin::None => ISTIO,
        Builtin::Format(Format::NginxIngress) => NGINX,
        Builtin::Format(Format::Apache | Format::Nginx) => {
            r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)""#
        }
        Builtin::Format(Format::ApacheError) => {
            "[Fri Sep 09 10:42:29.902022 2011] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187] File does not exist: /usr/local/apache2/htdocs/favicon.ico"
        }
        Builtin::Format(Format::Json) => r#"{"level":"info","msg":"hello","n":1}"#,
        Builtin::Format(Format::Logfmt) => {
            r#"time="2018-09-17T12:13:43Z" level=error msg="boom" source="collector.go:123""#
        }
        Builtin::Format(Format::Syslog5424) => {
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry"#
        }
        Builtin::Format(Format::Syslog3164) => {
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"
        }
        Builtin::Format(f) => panic!("no sample line for {f:?}: add one to this table"),
    }
}

/// Every fluent-bit stock name, given by annotation, reads its sample line
/// exactly as the built-in it maps to does when a route names it.
#[test]
fn every_stock_name_runs_its_builtin() {
    let mut failures = Vec::new();
    for &(stock, builtin) in rosetta::route::STOCK {
        let own = rosetta::route::BUILTIN
            .iter()
            .find(|(_, b)| *b == builtin)
            .map(|(name, _)| *name)
            .unwrap_or("none");
        let rec = record(
            sample(builtin),
            "stdout",
            Some(kubernetes(
                "productpage",
                &[("fluentbit.io/parser", stock)],
                &[],
            )),
        );
        let mut by_annotation = host("rosetta_filter");
        by_annotation
            .dot
            .write("rosetta.toml", "parsers = \"none\"\n");
        let mut by_route = host("rosetta_filter");
        by_route.dot.write(
            "rosetta.toml",
            &format!("annotations = false\nparsers = \"{own}\"\n"),
        );
        let a = by_annotation.filter(APP_TAG, 0, 0, &rec);
        let b = by_route.filter(APP_TAG, 0, 0, &rec);
        let (Some(a), Some(b)) = (a.raw(), b.raw()) else {
            failures.push(format!("{stock}: not kept"));
            continue;
        };
        if a != b || a == &rec[..] || String::from_utf8_lossy(a).contains("rosetta.reason") {
            failures.push(format!(
                "{stock} -> {own}:\n  annotation: {}\n  route:      {}",
                String::from_utf8_lossy(a),
                String::from_utf8_lossy(b)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_unknown_annotation_name_is_printed_once() {
    let mut h = host("rosetta_filter");
    let rec = record(
        ISTIO,
        "stdout",
        Some(kubernetes("c", &[("fluentbit.io/parser", "nope")], &[])),
    );
    let other = record(
        ISTIO,
        "stdout",
        Some(kubernetes("c", &[("fluentbit.io/parser", "other")], &[])),
    );
    for _ in 0..3 {
        assert!(h.filter(APP_TAG, 0, 0, &rec).is_kept());
    }
    assert!(h.filter(APP_TAG, 0, 0, &other).is_kept());
    let stderr = String::from_utf8_lossy(&h.stderr()).into_owned();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines[0].contains("unknown parser 'nope'"), "{stderr}");
    assert!(lines[1].contains("unknown parser 'other'"), "{stderr}");
}

#[test]
fn a_partial_cri_line_is_marked_not_parsed() {
    let mut h = host("rosetta_filter");
    let raw = record(
        &format!("2026-11-27T08:10:00.100000000Z stdout P {ISTIO}"),
        "stdout",
        None,
    );
    let split = to_fluent_bit_json(&Body::Map(vec![
        (Body::str("message"), Body::str(ISTIO)),
        (Body::str("stream"), Body::str("stdout")),
        (Body::str("logtag"), Body::str("P")),
    ]));
    for rec in [raw, split] {
        let outcome = h.filter(APP_TAG, 0, 0, &rec);
        let out = outcome.raw().expect("kept");
        let v: Value = serde_json::from_slice(out).expect("JSON");
        assert_eq!(
            v["rosetta.partial"],
            true,
            "{}",
            String::from_utf8_lossy(out)
        );
        assert!(v.get("response_code").is_none());
    }
}
