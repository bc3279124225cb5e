//! The deployment files in `fluent-bit-conf/` hold together: the classic
//! and YAML configurations declare the same pipeline; every
//! `Function_Name` they name is an export of the built module;
//! `rosetta.toml` loads; the tail `Tag_Regex` and the kubernetes filter's
//! `Regex_Parser` read the kubelet's file names and the resulting tags
//! (with Oniguruma, the engine family of fluent-bit's own regexes); and the
//! bundled example logs, run through the wasm filters in the order and by
//! the `Match` rules of the configuration, all come out, the istio-proxy
//! records parsed.
//!
//! The configuration files are read by a small line-oriented reader made
//! for these files (one `Key Value` a line in the classic syntax; block
//! maps and lists of maps, one `key: value` a line, in the YAML), not a
//! general parser: a file it cannot read fails the test.

mod common;

use common::classic::{Section, of_kind, read_classic};
use rosetta::config::Config;
use rosetta::route::{Builtin, Identity, ParserRef, Router};
use rosetta_host::tail::{split_lines, tag_for_path, tail_line};
use rosetta_host::{EventFormat, Host, HostConfig, PreopenDir, Verdict, to_fluent_bit_json};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn conf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fluent-bit-conf")
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

/// A YAML scalar as these files write them: plain, or single- or
/// double-quoted without escapes.
fn yaml_scalar(raw: &str) -> String {
    let raw = raw.trim();
    if let Some(inner) = raw.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        assert!(!inner.contains('\\'), "escapes in a YAML string: {raw}");
        return inner.to_string();
    }
    raw.to_string()
}

/// The YAML syntax of these files: `key:` alone opens a block (`service`
/// is a map; `inputs`, `filters`, `outputs` and `parsers` are lists of
/// maps, each item opened by `- key: value`); `key: value` adds to the
/// current section; `#` starts a comment line.
fn read_yaml(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut block = String::new();
    for (n, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let (item, entry) = match trimmed.strip_prefix("- ") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (key, value) = match entry.split_once(':') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim()),
            None => panic!("YAML line {}: not `key: value`: {line}", n + 1),
        };
        if !item && value.is_empty() {
            block = key;
            if block == "service" {
                sections.push(Section {
                    kind: block.clone(),
                    props: Vec::new(),
                });
            }
            continue;
        }
        if item {
            let kind = match block.as_str() {
                "inputs" => "input",
                "filters" => "filter",
                "outputs" => "output",
                "parsers" => "parser",
                other => panic!("YAML line {}: a list item under `{other}`", n + 1),
            };
            sections.push(Section {
                kind: kind.to_string(),
                props: Vec::new(),
            });
        }
        match sections.last_mut() {
            Some(section) => section.props.push((key, yaml_scalar(value))),
            None => panic!("YAML line {}: a key outside any section", n + 1),
        }
    }
    sections
}

/// The classic file, its parsers file and the YAML file, read.
struct Deployment {
    classic: Vec<Section>,
    parsers: Vec<Section>,
    yaml: Vec<Section>,
}

fn deployment() -> Deployment {
    let dir = conf_dir();
    Deployment {
        classic: read_classic(&read(&dir.join("fluent-bit.conf"))),
        parsers: read_classic(&read(&dir.join("parsers.conf"))),
        yaml: read_yaml(&read(&dir.join("fluent-bit.yaml"))),
    }
}

impl Deployment {
    /// The wasm filters, in order (from the classic file; the YAML file is
    /// checked to hold the same).
    fn wasm_filters(&self) -> Vec<&Section> {
        of_kind(&self.classic, "filter")
            .into_iter()
            .filter(|f| f.need("name") == "wasm")
            .collect()
    }

    fn input(&self) -> &Section {
        let inputs = of_kind(&self.classic, "input");
        assert_eq!(inputs.len(), 1, "one input: {inputs:?}");
        inputs[0]
    }

    fn kubernetes(&self) -> &Section {
        let filters: Vec<&Section> = of_kind(&self.classic, "filter")
            .into_iter()
            .filter(|f| f.need("name") == "kubernetes")
            .collect();
        assert_eq!(filters.len(), 1, "one kubernetes filter: {filters:?}");
        filters[0]
    }

    fn parser(&self, name: &str) -> &Section {
        match of_kind(&self.parsers, "parser")
            .into_iter()
            .find(|p| p.get("name") == Some(name))
        {
            Some(p) => p,
            None => panic!("parsers.conf has no parser {name}"),
        }
    }
}

/// fluent-bit's `Match` pattern: `*` matches any run of characters (dots
/// included), everything else itself.
fn tag_matches(pattern: &str, tag: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == tag,
        Some((head, rest)) => {
            let Some(tail) = tag.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| tag_matches(rest, &tail[i..]))
        }
    }
}

/// The named groups a regex captures in `text`, with Oniguruma's Ruby
/// syntax (fluent-bit's `flb_regex` uses Onigmo with the Ruby syntax).
fn named_captures(pattern: &str, text: &str) -> Option<Vec<(String, String)>> {
    let regex = match onig::Regex::with_options(
        pattern,
        onig::RegexOptions::REGEX_OPTION_NONE,
        onig::Syntax::ruby(),
    ) {
        Ok(r) => r,
        Err(e) => panic!("regex {pattern} does not compile: {e}"),
    };
    let captures = regex.captures(text)?;
    let mut named = Vec::new();
    regex.foreach_name(|name, groups| {
        let value = groups
            .iter()
            .find_map(|&g| captures.at(g as usize))
            .unwrap_or_default();
        named.push((name.to_string(), value.to_string()));
        true
    });
    Some(named)
}

fn capture<'a>(named: &'a [(String, String)], name: &str) -> &'a str {
    named
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_default()
}

/// The example log files, sorted.
fn example_logs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/logs");
    let entries = match std::fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    let mut logs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    logs.sort();
    assert!(!logs.is_empty(), "no example logs in {}", dir.display());
    logs
}

#[test]
fn match_glob() {
    let cases = [
        ("kube.*", "kube.shop.web-1.istio-proxy", true),
        ("kube.*", "kube.", true),
        ("kube.*", "kubex", false),
        ("kube.*.istio-proxy", "kube.shop.web-1.istio-proxy", true),
        ("kube.*.istio-proxy", "kube.shop.web-1.orders", false),
        ("kube.*.istio-proxy", "kube.shop.web-1.istio-proxy-x", false),
        (
            "kube.ingress-nginx.*.controller",
            "kube.ingress-nginx.c-1.controller",
            true,
        ),
        (
            "kube.ingress-nginx.*.controller",
            "kube.shop.c-1.controller",
            false,
        ),
        ("*", "anything", true),
    ];
    for (pattern, tag, expected) in cases {
        assert_eq!(tag_matches(pattern, tag), expected, "{pattern} ~ {tag}");
    }
}

#[test]
fn classic_and_yaml_declare_the_same_pipeline() {
    let d = deployment();
    for kind in ["input", "filter", "output"] {
        let classic = of_kind(&d.classic, kind);
        let yaml = of_kind(&d.yaml, kind);
        assert!(!classic.is_empty(), "no {kind} in fluent-bit.conf");
        assert_eq!(classic, yaml, "the {kind} sections differ");
    }

    // The service settings agree; the classic file names parsers.conf, the
    // YAML file declares the same parsers itself.
    let without_parsers_file = |sections: &[Section]| -> Vec<(String, String)> {
        of_kind(sections, "service")
            .into_iter()
            .flat_map(|s| s.props.iter().cloned())
            .filter(|(k, _)| k != "parsers_file")
            .collect()
    };
    assert_eq!(
        without_parsers_file(&d.classic),
        without_parsers_file(&d.yaml)
    );
    let service = of_kind(&d.classic, "service");
    assert_eq!(
        service.first().map(|s| s.need("parsers_file")),
        Some("/fluent-bit/etc/parsers.conf")
    );
    assert_eq!(of_kind(&d.yaml, "parser"), of_kind(&d.parsers, "parser"));
    assert!(
        d.parsers.iter().all(|s| s.kind == "parser"),
        "parsers.conf holds only parsers"
    );

    // parsers.conf holds exactly the parsers the filters name.
    let named: Vec<&str> = of_kind(&d.classic, "filter")
        .into_iter()
        .filter_map(|f| f.get("regex_parser"))
        .collect();
    let declared: Vec<&str> = d.parsers.iter().map(|p| p.need("name")).collect();
    assert_eq!(named, declared);

    // The wasm filters: the routing the README describes, in that order.
    let wasm: Vec<(&str, &str)> = d
        .wasm_filters()
        .iter()
        .map(|f| (f.need("match"), f.need("function_name")))
        .collect();
    assert_eq!(
        wasm,
        [
            ("kube.*.istio-proxy", "rosetta_envoy"),
            ("kube.ingress-nginx.*.controller", "rosetta_nginx_ingress"),
            ("kube.*", "rosetta_filter"),
        ]
    );
    for f in d.wasm_filters() {
        assert_eq!(f.need("event_format"), "json");
        assert_eq!(f.need("wasm_path"), "/fluent-bit/etc/rosetta.wasm");
        assert_eq!(f.need("accessible_paths"), "/fluent-bit/etc");
    }

    // The kubernetes filter runs before rosetta, and parses nothing.
    let filters = of_kind(&d.classic, "filter");
    assert_eq!(filters.first().map(|f| f.need("name")), Some("kubernetes"));
    let k = d.kubernetes();
    assert_eq!(k.need("merge_log"), "Off");
    assert_eq!(k.need("k8s-logging.parser"), "Off");
    assert_eq!(k.need("k8s-logging.exclude"), "On");
}

#[test]
fn every_function_name_is_an_export_of_the_module() {
    let d = deployment();
    let path = common::module_path();
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => panic!(
            "cannot read {} ({e}); build it with `make build` or set ROSETTA_WASM",
            path.display()
        ),
    };
    let report = match rosetta_host::module_report(&bytes) {
        Ok(r) => r,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    for f in d.wasm_filters() {
        let function = f.need("function_name");
        assert!(
            report.exports.iter().any(|e| e == function),
            "{function} is not exported by {} (exports: {:?})",
            path.display(),
            report.exports
        );
    }
}

#[test]
fn rosetta_toml_leaves_the_dedicated_filters_records_alone() {
    let text = read(&conf_dir().join("rosetta.toml"));
    let config = match Config::parse("rosetta.toml", &text) {
        Ok(c) => c,
        Err(e) => panic!("fluent-bit-conf/rosetta.toml: {e}"),
    };
    let router = match Router::new("rosetta.toml", &config, &[]) {
        Ok(r) => r,
        Err(e) => panic!("fluent-bit-conf/rosetta.toml: {e}"),
    };
    // The catch-all filter sees every record, the istio-proxy and
    // ingress-nginx ones after their own filter: for those, "none".
    let d = deployment();
    for f in d.wasm_filters() {
        let function = f.need("function_name");
        if function == "rosetta_filter" {
            continue;
        }
        let glob = rosetta::glob::Glob::new(f.need("match"));
        let tags = [
            "kube.shop.productpage-v1-6b746f74dc-9stvs.istio-proxy",
            "kube.ingress-nginx.ingress-nginx-controller-5c8d66c76d-4vxzm.controller",
        ];
        for tag in tags.iter().filter(|t| glob.matches(t.as_bytes())) {
            let id = Identity {
                tag: tag.as_bytes(),
                ..identity_of(tag, &config)
            };
            let chosen = router.route(&id).map(|r| r.parsers.clone());
            assert_eq!(
                chosen,
                Some(vec![ParserRef::Builtin(Builtin::None)]),
                "{tag} (parsed by {function}) must be passed through by rosetta_filter"
            );
        }
    }
    assert_eq!(router.default, vec![ParserRef::Builtin(Builtin::Auto)]);
}

fn identity_of<'t>(tag: &'t str, config: &Config) -> Identity<'t> {
    let (namespace, pod, container) =
        rosetta::route::from_tag(tag.as_bytes(), config.tag_prefix.as_bytes()).unwrap_or_default();
    Identity {
        tag: tag.as_bytes(),
        namespace: Some(namespace),
        pod: Some(pod),
        container: Some(container),
        ..Identity::default()
    }
}

#[test]
fn tags_come_from_kubelet_file_names_and_back() {
    let d = deployment();
    let input = d.input();
    let template = input.need("tag");
    let tag_regex = input.need("tag_regex");
    let k = d.kubernetes();
    let prefix = k.need("kube_tag_prefix");
    let kube_tag = d.parser(k.need("regex_parser")).need("regex");
    let container_id = "5c8d66c76d".repeat(7);
    for log in example_logs() {
        let tag = tag_for_path(&log);
        let parts: Vec<&str> = tag.splitn(4, '.').skip(1).collect();
        let [namespace, pod, container] = parts[..] else {
            panic!("{}: no kube tag ({tag})", log.display());
        };

        // tail: the kubelet's file name through Tag_Regex into the Tag.
        let file = format!(
            "/var/log/containers/{pod}_{namespace}_{container}-{}.log",
            &container_id[..64]
        );
        let named = match named_captures(tag_regex, &file) {
            Some(n) => n,
            None => panic!("Tag_Regex does not match {file}"),
        };
        let mut composed = template.to_string();
        for (name, value) in &named {
            composed = composed.replace(&format!("<{name}>"), value);
        }
        assert_eq!(composed, tag, "tag of {file}");

        // kubernetes: the tag, less Kube_Tag_Prefix, through Regex_Parser.
        let rest = match tag.strip_prefix(prefix) {
            Some(rest) => rest,
            None => panic!("{tag} does not start with Kube_Tag_Prefix {prefix}"),
        };
        let named = match named_captures(kube_tag, rest) {
            Some(n) => n,
            None => panic!("Regex_Parser does not match {rest}"),
        };
        assert_eq!(capture(&named, "namespace_name"), namespace, "{tag}");
        assert_eq!(capture(&named, "pod_name"), pod, "{tag}");
        assert_eq!(capture(&named, "container_name"), container, "{tag}");
    }
}

/// A host for one wasm filter of the configuration, with the directory
/// holding `rosetta.toml` pre-opened under the filter's accessible path.
fn filter_host(filter: &Section) -> Host {
    let event_format = match filter.need("event_format") {
        "json" => EventFormat::Json,
        "msgpack" => EventFormat::Msgpack,
        other => panic!("event_format {other}"),
    };
    let mapped_dirs = filter
        .need("accessible_paths")
        .split(',')
        .map(|guest| PreopenDir {
            host: conf_dir(),
            guest: guest.trim().to_string(),
        })
        .collect();
    common::load(HostConfig {
        function: filter.need("function_name").to_string(),
        accessible_paths: Vec::new(),
        mapped_dirs,
        event_format,
        ..HostConfig::new(common::module_path())
    })
}

#[test]
fn example_logs_run_through_the_configured_filters() {
    let d = deployment();
    let filters = d.wasm_filters();
    let mut hosts: Vec<Host> = filters.iter().map(|f| filter_host(f)).collect();
    let now = Duration::from_secs(1_795_000_000);
    let mut istio_records = 0;

    for log in example_logs() {
        let tag = tag_for_path(&log);
        let chain: Vec<usize> = (0..filters.len())
            .filter(|&i| tag_matches(filters[i].need("match"), &tag))
            .collect();
        assert!(
            chain.contains(&(filters.len() - 1)),
            "{tag}: the catch-all filter does not match"
        );
        let istio = tag.ends_with(".istio-proxy");
        if istio {
            assert_eq!(
                chain.first(),
                Some(&0),
                "{tag}: rosetta_envoy does not match"
            );
        }

        let data = match std::fs::read(&log) {
            Ok(data) => data,
            Err(e) => panic!("cannot read {}: {e}", log.display()),
        };
        let mut count = 0;
        for (n, line) in split_lines(&data).enumerate() {
            let record = tail_line(line, now);
            let mut body = to_fluent_bit_json(&record.body);
            let mut last = None;
            for &i in &chain {
                let outcome = hosts[i].filter(&tag, record.time_sec, record.time_nsec, &body);
                let function = filters[i].need("function_name");
                match outcome.verdict {
                    Verdict::Kept { raw, json } => {
                        body = raw;
                        last = json;
                    }
                    other => panic!(
                        "{}:{}: {function} on {tag}: {other:?}",
                        log.display(),
                        n + 1
                    ),
                }
            }
            let Some(out) = last else {
                panic!("{}:{}: the answer is not JSON", log.display(), n + 1);
            };
            assert!(
                out.get("rosetta.error").is_none(),
                "{}:{}: {out}",
                log.display(),
                n + 1
            );
            if istio {
                istio_records += 1;
                let parsed = out.get("response_code").is_some()
                    || out.get("rosetta.suspect").is_some()
                    || out.get("rosetta.reason").is_some();
                assert!(parsed, "{}:{}: not parsed: {out}", log.display(), n + 1);
            }
            count += 1;
        }
        assert!(count > 0, "{}: no records", log.display());
    }

    assert!(istio_records > 0, "no istio-proxy example log");
    for (host, filter) in hosts.iter().zip(&filters) {
        let stats = host.stats();
        let function = filter.need("function_name");
        assert!(stats.records_in > 0, "{function} saw no record");
        assert_eq!(stats.kept, stats.records_in, "{function}: {stats:?}");
        assert!(
            host.stderr().is_empty(),
            "{function} wrote to stderr: {}",
            String::from_utf8_lossy(&host.stderr())
        );
        assert!(host.log().is_empty(), "{function}: {:?}", host.log());
    }
}

#[test]
fn the_commented_examples_of_rosetta_toml_load_when_uncommented() {
    let text = read(&conf_dir().join("rosetta.toml"));
    let Some((active, examples)) = text.split_once("# --- More that a rosetta.toml can say") else {
        panic!("fluent-bit-conf/rosetta.toml has no commented examples");
    };
    // The commented lines that are TOML: table headers and `key = value`.
    let uncommented: String = examples
        .lines()
        .filter_map(|l| l.strip_prefix("# "))
        .filter(|l| l.starts_with("[[") || l.contains(" = "))
        .filter(|l| !l.starts_with("parsers_file"))
        .map(|l| format!("{l}\n"))
        .collect();
    // The active part's own settings first (TOML: keys before tables).
    let (keys, tables) = match active.find("[[route]]") {
        Some(at) => active.split_at(at),
        None => (active, ""),
    };
    // Top-level keys go before the tables (TOML); a key tables also use
    // (`parsers`, `name`) belongs to the table it follows.
    let top_level = |l: &&str| {
        let key = l.split(" = ").next().unwrap_or_default();
        use rosetta::config::{PARSER_KEYS, ROUTE_KEYS, TOP_KEYS};
        TOP_KEYS.iter().any(|k| k.key == key)
            && !ROUTE_KEYS.iter().chain(PARSER_KEYS).any(|k| k.key == key)
    };
    let (example_keys, example_tables): (Vec<&str>, Vec<&str>) =
        uncommented.lines().partition(top_level);
    let whole = format!(
        "{keys}{}\n{tables}\n{}\n",
        example_keys.join("\n"),
        example_tables.join("\n")
    );
    let config = match Config::parse("rosetta.toml", &whole) {
        Ok(c) => c,
        Err(e) => panic!("the uncommented examples do not load: {e}\n{whole}"),
    };
    assert_eq!(config.routes.len(), 3, "{:?}\n{whole}", config.routes);
    assert_eq!(config.routes[2].limits.len(), 2, "{whole}");
    assert_eq!(config.parsers.len(), 1, "{whole}");
    let filter = rosetta::filter::Filter::new(Ok(config));
    assert!(
        filter.config_error().is_none(),
        "{:?}",
        filter.config_error()
    );
}
