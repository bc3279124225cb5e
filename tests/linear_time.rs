//! A hostile line costs what its length costs: fuel per input byte, counted
//! in the host, stays within 2x between a 1 KiB and a 256 KiB line of the
//! same shape, and under a generous absolute bound. (`make bench` prints the
//! full table, up to 1 MiB.) Fuel is deterministic, so this is no timing
//! test: fluent-bit's own regex is cubic on the first shape.

mod common;

/// Generous: today's worst shape costs about 100 fuel a byte.
const MAX_FUEL_PER_BYTE: f64 = 400.0;

fn istio_with(path: &str, agent: &str) -> String {
    format!(
        r#"[2026-11-27T08:10:00.000Z] "GET {path} HTTP/1.1" 200 - via_upstream - "-" 0 0 1 1 "-" "{agent}" "id" "host" "10.0.0.1:80" inbound|80|| 127.0.0.6:1 10.0.0.1:80 10.0.0.2:1 - default"#
    )
}

fn shapes(size: usize) -> Vec<(&'static str, &'static str, String)> {
    let pad = |unit: &str| unit.repeat(size / unit.len());
    vec![
        (
            "request line of N spaces",
            "rosetta_envoy",
            istio_with(&pad(" "), "curl"),
        ),
        (
            "quotes in the User-Agent",
            "rosetta_envoy",
            istio_with("/", &pad("\" \"")),
        ),
        (
            "backslashes in the path",
            "rosetta_envoy",
            istio_with(&format!("/{}", pad("\\")), "curl"),
        ),
        (
            "a whole fake line in the agent",
            "rosetta_envoy",
            istio_with("/", &pad(&istio_with("/x", "y"))),
        ),
        (
            "ingress-nginx spaces and quotes",
            "rosetta_nginx_ingress",
            format!(
                r#"10.0.0.1 - - [27/Nov/2026:08:10:00 +0000] "GET /{} HTTP/1.1" 200 1 "-" "{}" 1 0.001 [up] [] 10.0.0.2:80 1 0.001 200 id"#,
                pad(" "),
                pad("\"")
            ),
        ),
    ]
}

fn fuel_per_byte(function: &str, line: &str) -> f64 {
    let mut host = common::host(function);
    let record = common::line(line);
    host.filter("kube.a.b.c", 0, 0, b"{}");
    let outcome = host.filter("kube.a.b.c", 0, 0, &record);
    assert!(outcome.is_kept(), "{function} dropped a hostile record");
    outcome.fuel as f64 / record.len() as f64
}

#[test]
fn fuel_per_byte_is_flat_from_1_kib_to_256_kib() {
    let small = shapes(1 << 10);
    let large = shapes(256 << 10);
    for ((name, function, short), (_, _, long)) in small.iter().zip(&large) {
        let a = fuel_per_byte(function, short);
        let b = fuel_per_byte(function, long);
        let ratio = a.max(b) / a.min(b);
        assert!(
            ratio <= 2.0,
            "{name}: {a:.1} fuel/byte at 1 KiB, {b:.1} at 256 KiB"
        );
        assert!(
            a <= MAX_FUEL_PER_BYTE && b <= MAX_FUEL_PER_BYTE,
            "{name}: {a:.1} and {b:.1} fuel/byte"
        );
    }
}
