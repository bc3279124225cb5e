//! The schema (`src/schema.rs`), the files generated from it and what the
//! module really writes agree:
//!
//! - the committed index templates and `docs/schema.md`'s table are the
//!   generated text, and the `rosetta` template stores names the way the
//!   shipped `es` output does (`Logstash_Format On`, `Replace_Dots On`);
//! - every bundled corpus, run through the built module (the example logs
//!   through `rosetta_filter` with `examples/rosetta.toml`, under both
//!   schemas, and through both fixed entry points; the access-log corpus
//!   through its entry point), yields only top-level keys the table lists,
//!   each with the table's JSON type (`log_processed` is flattened: its
//!   members are not checked);
//! - the Kibana saved objects parse, hold together (every reference is an
//!   object of the file) and name only fields of the table, as stored, or
//!   fields Elasticsearch and Kibana add themselves.
//!
//! `cargo test --test schema -- --ignored regenerate` rewrites the
//! generated files.

mod common;

use common::classic::{of_kind, read_classic};
use rosetta::schema::{self, EsType, FieldDoc, JsonType, Schema};
use rosetta_host::tail::{split_lines, tag_for_path, tail_line};
use rosetta_host::{Host, Verdict, to_fluent_bit_json};
use serde_json::Value as Json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    match std::fs::read_to_string(root().join(path)) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {path}: {e}"),
    }
}

/// The generated files and their generators.
fn generated() -> Vec<(&'static str, String)> {
    vec![
        (
            "fluent-bit-conf/elasticsearch/rosetta-template.json",
            schema::template(Schema::Rosetta),
        ),
        (
            "fluent-bit-conf/elasticsearch/rosetta-ecs-template.json",
            schema::template(Schema::Ecs),
        ),
    ]
}

#[test]
#[ignore = "rewrites the generated files"]
fn regenerate() {
    for (path, text) in generated() {
        std::fs::write(root().join(path), text).unwrap();
    }
}

#[test]
fn committed_templates_and_table_are_generated() {
    for (path, text) in generated() {
        assert!(
            read(path) == text,
            "{path} is not what src/schema.rs generates: run `cargo test --test schema -- --ignored regenerate`"
        );
    }
    let doc = read("docs/schema.md");
    let table = schema::reference_table();
    assert!(
        doc.contains(&table),
        "docs/schema.md is out of date; it must contain:\n{table}"
    );
    for (name, file) in [
        ("rosetta", "rosetta-template.json"),
        ("rosetta", "rosetta-ecs-template.json"),
    ] {
        let command = format!(
            "curl -X PUT \"http://localhost:9200/_index_template/{name}\" -H 'Content-Type: application/json' -d @fluent-bit-conf/elasticsearch/{file}"
        );
        assert!(doc.contains(&command), "docs/schema.md lacks: {command}");
    }
    let import = "curl -X POST \"http://localhost:5601/api/saved_objects/_import?overwrite=true\" -H 'kbn-xsrf: true' --form file=@fluent-bit-conf/kibana/rosetta.ndjson";
    assert!(doc.contains(import), "docs/schema.md lacks: {import}");
    assert!(
        read("README.md").contains(import),
        "README.md lacks: {import}"
    );
}

/// The shipped `es` outputs store what the `rosetta` template maps:
/// daily `logstash-*` indices, every dot of a key turned into `_`.
#[test]
fn the_rosetta_template_fits_the_shipped_es_output() {
    for path in [
        "fluent-bit-conf/fluent-bit.conf",
        "fluent-bit-conf/compose/fluent-bit.conf",
    ] {
        let sections = read_classic(&read(path));
        let outputs = of_kind(&sections, "output");
        let es: Vec<_> = outputs.iter().filter(|s| s.need("name") == "es").collect();
        assert_eq!(es.len(), 1, "{path}: one es output");
        let es = es[0];
        assert!(
            es.need("logstash_format").eq_ignore_ascii_case("on"),
            "{path}"
        );
        assert_eq!(es.get("logstash_prefix").unwrap_or("logstash"), "logstash");
        assert!(es.need("replace_dots").eq_ignore_ascii_case("on"), "{path}");
        assert_eq!(es.need("time_key"), "@timestamp", "{path}");
    }
    let template: Json = serde_json::from_str(&schema::template(Schema::Rosetta)).unwrap();
    assert_eq!(
        template["index_patterns"],
        serde_json::json!(["logstash-*"])
    );
    let properties = template["template"]["mappings"]["properties"]
        .as_object()
        .unwrap();
    for key in properties.keys() {
        assert!(!key.contains('.'), "{key}: Replace_Dots On stores no dot");
    }
}

/// A JSON value's type in the table's terms.
fn json_type_of(value: &Json) -> Option<JsonType> {
    match value {
        Json::String(_) => Some(JsonType::String),
        Json::Number(n) if n.is_i64() || n.is_u64() => Some(JsonType::Integer),
        Json::Number(_) => Some(JsonType::Number),
        Json::Bool(_) => Some(JsonType::Boolean),
        Json::Object(_) => Some(JsonType::Object),
        Json::Array(_) | Json::Null => None,
    }
}

/// Holds every top-level member of `out`, written under `schema`, to the
/// table; counts the keys seen.
fn check_record(out: &Json, schema: Schema, what: &str, seen: &mut BTreeMap<String, usize>) {
    let Some(object) = out.as_object() else {
        panic!("{what}: not an object: {out}");
    };
    for (key, value) in object {
        let rows: Vec<&FieldDoc> = schema::lookup(schema, key);
        assert!(
            !rows.is_empty(),
            "{what}: `{key}` is not in the {} schema: {out}",
            schema.name()
        );
        for row in rows {
            let want = row.json_in(schema);
            if want == JsonType::AsInput {
                continue;
            }
            let got = json_type_of(value);
            let fits =
                got == Some(want) || (want == JsonType::Number && got == Some(JsonType::Integer));
            assert!(
                fits,
                "{what}: `{key}` is {value}, the table says {}",
                want.as_str()
            );
            match row.es_in(schema) {
                EsType::Date => {
                    let text = value.as_str().unwrap_or_default();
                    assert!(
                        text.len() >= 20 && text.as_bytes()[10] == b'T' && text.ends_with('Z'),
                        "{what}: `{key}` is not RFC 3339 UTC: {text}"
                    );
                }
                EsType::Ip => {
                    let text = value.as_str().unwrap_or_default();
                    assert!(
                        text.parse::<std::net::IpAddr>().is_ok(),
                        "{what}: `{key}` is not an IP address: {text}"
                    );
                }
                _ => {}
            }
        }
        *seen.entry(key.clone()).or_default() += 1;
    }
}

fn example_logs() -> Vec<PathBuf> {
    let dir = root().join("examples/logs");
    let mut logs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(!logs.is_empty(), "no example logs");
    logs
}

/// The kept answer of `host` for one record.
fn answer(host: &mut Host, tag: &str, sec: u32, nsec: u32, body: &[u8], what: &str) -> Json {
    match host.filter(tag, sec, nsec, body).verdict {
        Verdict::Kept {
            json: Some(json), ..
        } => json,
        other => panic!("{what}: {other:?}"),
    }
}

/// Every example log through `function` (with `toml`, for
/// `rosetta_filter`), each record checked against `schema`.
fn run_examples(
    function: &str,
    toml: Option<&str>,
    schema: Schema,
    seen: &mut BTreeMap<String, usize>,
) {
    let mut host = common::host(function);
    if let Some(text) = toml {
        host.dot.write("rosetta.toml", text);
    }
    let now = Duration::from_secs(1_795_000_000);
    for log in example_logs() {
        let tag = tag_for_path(&log);
        let data = std::fs::read(&log).unwrap();
        for (n, line) in split_lines(&data).enumerate() {
            let record = tail_line(line, now);
            let body = to_fluent_bit_json(&record.body);
            let what = format!("{function} {}:{}", log.display(), n + 1);
            let out = answer(
                &mut host,
                &tag,
                record.time_sec,
                record.time_nsec,
                &body,
                &what,
            );
            check_record(&out, schema, &what, seen);
        }
    }
    assert!(host.stderr().is_empty(), "{function} wrote to stderr");
}

/// The access-log corpus through its entry point.
fn run_corpus(seen: &mut BTreeMap<String, usize>) {
    for (file, function) in [
        ("tests/corpus/envoy_istio.jsonl", "rosetta_envoy"),
        ("tests/corpus/nginx_ingress.jsonl", "rosetta_nginx_ingress"),
    ] {
        let mut host = common::host(function);
        let mut cases = 0;
        for (n, entry) in read(file).lines().enumerate() {
            if entry.trim().is_empty() || entry.starts_with('#') {
                continue;
            }
            let entry: Json = serde_json::from_str(entry).unwrap();
            let newline = entry.get("newline").and_then(Json::as_bool).unwrap_or(true);
            let mut line = entry["line"].as_str().unwrap().to_string();
            if newline {
                line.push('\n');
            }
            let body = common::line(&line);
            let what = format!("{function} {file}:{}", n + 1);
            let out = answer(&mut host, "kube.ns.pod.c", 1_795_000_000, 0, &body, &what);
            check_record(&out, Schema::Rosetta, &what, seen);
            cases += 1;
        }
        assert!(cases >= 10, "{file}: {cases} cases");
    }
}

#[test]
fn every_key_the_module_writes_is_in_the_schema() {
    let toml = read("examples/rosetta.toml");
    let mut seen = BTreeMap::new();
    run_examples("rosetta_filter", Some(&toml), Schema::Rosetta, &mut seen);
    run_examples("rosetta_envoy", None, Schema::Rosetta, &mut seen);
    run_examples("rosetta_nginx_ingress", None, Schema::Rosetta, &mut seen);
    run_corpus(&mut seen);
    for key in [
        "code",
        "response_code",
        "request_time",
        "upstream_host_ip",
        "timestamp",
        "log_processed",
        "rosetta.reason",
        "rosetta.suspect",
        "rosetta.original.time",
        "level",
        "message",
    ] {
        assert!(seen.contains_key(key), "no record had `{key}`: {seen:?}");
    }

    let mut ecs_seen = BTreeMap::new();
    let ecs_toml = format!("schema = \"ecs\"\n{toml}");
    run_examples(
        "rosetta_filter",
        Some(&ecs_toml),
        Schema::Ecs,
        &mut ecs_seen,
    );
    for key in [
        "http.request.method",
        "http.response.status_code",
        "event.duration",
        "url.original",
        "source.address",
        "user_agent.original",
        "log.level",
        "event.original",
    ] {
        assert!(
            ecs_seen.contains_key(key),
            "no ecs record had `{key}`: {ecs_seen:?}"
        );
    }
    assert!(
        !ecs_seen.contains_key("log"),
        "`log` under ecs: {ecs_seen:?}"
    );
}

/// The fields a KQL query names: each word directly followed (spaces
/// aside) by `:` or a comparison; quoted text skipped.
fn kql_fields(query: &str, out: &mut BTreeSet<String>) {
    let bytes = query.as_bytes();
    let mut i = 0;
    let word = |b: u8| b.is_ascii_alphanumeric() || b"_.@*".contains(&b);
    while i < bytes.len() {
        if bytes[i] == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
            continue;
        }
        if !word(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && word(bytes[i]) {
            i += 1;
        }
        let mut j = i;
        while j < bytes.len() && bytes[j] == b' ' {
            j += 1;
        }
        if j < bytes.len() && b":<>".contains(&bytes[j]) {
            out.insert(query[start..i].to_string());
        }
    }
}

/// Every field a saved object's JSON names: `sourceField`,
/// `timeFieldName`, `field`, the fields of KQL queries and of formulas'
/// `kql=` arguments, in nested objects and in JSON held in strings
/// (`panelsJSON`, `searchSourceJSON`).
fn referenced_fields(value: &Json, out: &mut BTreeSet<String>) {
    match value {
        Json::Object(map) => {
            let kuery = map.get("language").and_then(Json::as_str) == Some("kuery");
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("sourceField" | "timeFieldName" | "field", Json::String(s)) => {
                        out.insert(s.clone());
                    }
                    ("query", Json::String(q)) if kuery => kql_fields(q, out),
                    ("formula", Json::String(f)) => {
                        for part in f.split("kql='").skip(1) {
                            kql_fields(part.split('\'').next().unwrap_or_default(), out);
                        }
                    }
                    (_, Json::String(s)) if s.starts_with('{') || s.starts_with('[') => {
                        if let Ok(inner) = serde_json::from_str::<Json>(s) {
                            referenced_fields(&inner, out);
                        }
                    }
                    _ => referenced_fields(v, out),
                }
            }
        }
        Json::Array(items) => items.iter().for_each(|v| referenced_fields(v, out)),
        _ => {}
    }
}

#[test]
fn kibana_saved_objects_name_only_schema_fields() {
    let text = read("fluent-bit-conf/kibana/rosetta.ndjson");
    let objects: Vec<Json> = text
        .lines()
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("rosetta.ndjson:{}: {e}", n + 1))
        })
        .collect();
    let ids: BTreeSet<(String, String)> = objects
        .iter()
        .map(|o| {
            (
                o["type"].as_str().unwrap().to_string(),
                o["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ids.len(), objects.len(), "an id is used twice");
    let kinds: Vec<&str> = objects
        .iter()
        .map(|o| o["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == "index-pattern").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "dashboard").count(), 1);
    assert_eq!(kinds.iter().filter(|k| **k == "lens").count(), 4);

    let known: BTreeSet<String> = schema::stored_names(Schema::Rosetta).into_iter().collect();
    // What Elasticsearch adds (`@timestamp` is fluent-bit's es output's
    // Time_Key), and Lens's name for "count of records".
    let added = ["@timestamp", "_id", "_index", "___records___"];
    let mut fields = BTreeSet::new();
    for object in &objects {
        let what = object["id"].as_str().unwrap();
        for reference in object["references"].as_array().unwrap() {
            let target = (
                reference["type"].as_str().unwrap().to_string(),
                reference["id"].as_str().unwrap().to_string(),
            );
            assert!(
                ids.contains(&target),
                "{what}: reference to {target:?}, not in the file"
            );
        }
        referenced_fields(&object["attributes"], &mut fields);
        if object["type"] == "lens" {
            let layers = object["attributes"]["state"]["datasourceStates"]["formBased"]["layers"]
                .as_object()
                .unwrap();
            for layer in layers.keys() {
                let name = format!("indexpattern-datasource-layer-{layer}");
                assert!(
                    object["references"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["name"] == name),
                    "{what}: layer {layer} has no data view reference"
                );
            }
        }
        if object["type"] == "dashboard" {
            let panels: Json =
                serde_json::from_str(object["attributes"]["panelsJSON"].as_str().unwrap()).unwrap();
            for panel in panels.as_array().unwrap() {
                let name = format!(
                    "{}:{}",
                    panel["panelIndex"].as_str().unwrap(),
                    panel["panelRefName"].as_str().unwrap()
                );
                assert!(
                    object["references"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|r| r["name"] == name),
                    "dashboard panel {name} has no reference"
                );
            }
        }
        if object["type"] == "index-pattern" {
            assert_eq!(object["attributes"]["title"], "logstash-*");
            assert_eq!(object["attributes"]["timeFieldName"], "@timestamp");
        }
    }
    for must in [
        "kubernetes.container_name",
        "template",
        "rosetta_suppressed_records",
        "code",
        "level",
    ] {
        assert!(fields.contains(must), "the dashboard does not use `{must}`");
    }
    for field in &fields {
        assert!(
            known.contains(field) || added.contains(&field.as_str()),
            "rosetta.ndjson names `{field}`, which the schema does not store"
        );
    }
}

#[test]
fn kql_fields_are_read() {
    let mut got = BTreeSet::new();
    kql_fields(
        "code >= 500 or level:(error or \"a:b\") and not x_y.z : * or w<3",
        &mut got,
    );
    let want: BTreeSet<String> = ["code", "level", "x_y.z", "w"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(got, want);
}
