//! The deployment kit in `fluent-bit-conf/` holds together: the Kubernetes
//! manifests (`kubernetes/`), the values for the official Helm chart
//! (`helm/values.yaml`) and the compose file (`docker-compose.yml`) are read
//! with a YAML parser, and what fluent-bit's configuration names is followed
//! through the volumes and mounts of each to the file a container would
//! find there: the configuration itself, its `Parsers_File`, each wasm
//! filter's `Wasm_Path` (the module) and the `rosetta.toml` in its
//! `Accessible_Paths`, the tail input's log directory and its database
//! (which must be writable). Files that come from the repository must be
//! there byte for byte; the module must be the one `make build` writes.
//!
//! Also checked: every mount names a volume and every volume is mounted;
//! the DaemonSet's service account can read pods and namespaces; the
//! pipelines embedded in the Helm values and in the compose configuration
//! are fluent-bit.conf's (without the kubernetes filter for compose); and
//! the compose service that writes the example logs, run here with `sh`,
//! writes files whose names the tail input's `Tag_Regex` turns into the
//! tags the examples stand for.
//!
//! The model of a pod is what these files use (ConfigMap, emptyDir and
//! hostPath volumes, `subPath` mounts; compose binds and named volumes),
//! and way (b) of shipping the module is checked by applying its kustomize
//! patch with a small strategic merge (lists of named maps merged by name,
//! `null` removing a key): enough for these files, not a general one.

mod common;

use common::classic::{Section, of_kind, read_classic};
use rosetta_host::tail::tag_for_path;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// The module `make build` writes, relative to the repository's root.
const MODULE: &str = "target/wasm32-wasip1/release/rosetta.wasm";

/// The chart's ConfigMap volume and where it mounts it
/// (fluent/helm-charts, charts/fluent-bit/templates/_pod.tpl), and the
/// configuration file its default `args` name.
const CHART_CONFIG_VOLUME: &str = "config";
const CHART_CONFIG_DIR: &str = "/fluent-bit/etc/conf";
const CHART_CONFIG_FILE: &str = "/fluent-bit/etc/conf/fluent-bit.conf";
/// The name the chart gives its ConfigMap here (release `fluent-bit`).
const CHART_CONFIG_MAP: &str = "fluent-bit";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn conf_dir() -> PathBuf {
    repo().join("fluent-bit-conf")
}

fn read(path: &Path) -> String {
    match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => panic!("cannot read {}: {e}", path.display()),
    }
}

/// The YAML documents of a file under `fluent-bit-conf/`.
fn yaml_docs(rel: &str) -> Vec<Yaml> {
    let path = conf_dir().join(rel);
    match YamlLoader::load_from_str(&read(&path)) {
        Ok(docs) => docs,
        Err(e) => panic!("{}: not YAML: {e}", path.display()),
    }
}

/// The one YAML document of a file under `fluent-bit-conf/`.
fn yaml_doc(rel: &str) -> Yaml {
    let mut docs = yaml_docs(rel);
    assert_eq!(docs.len(), 1, "{rel}: one YAML document");
    docs.remove(0)
}

/// A string at `y`, or the test fails saying what was expected.
fn text<'a>(y: &'a Yaml, what: &str) -> &'a str {
    match y.as_str() {
        Some(s) => s,
        None => panic!("{what}: not a string: {y:?}"),
    }
}

/// A list at `y` (a missing key is an empty list).
fn list<'a>(y: &'a Yaml, what: &str) -> &'a [Yaml] {
    match y {
        Yaml::Array(items) => items,
        Yaml::BadValue | Yaml::Null => &[],
        other => panic!("{what}: not a list: {other:?}"),
    }
}

/// The string keys of a map at `y`, in order.
fn keys(y: &Yaml, what: &str) -> Vec<String> {
    match y.as_hash() {
        Some(h) => h
            .keys()
            .map(|k| text(k, what).to_string())
            .collect::<Vec<_>>(),
        None => panic!("{what}: not a map: {y:?}"),
    }
}

// ---------------------------------------------------------------------------
// The model of a pod: volumes, ConfigMaps, containers and their mounts.

/// Where a volume's files come from.
#[derive(Debug, Clone, PartialEq)]
enum Source {
    /// A ConfigMap, by name.
    ConfigMap(String),
    /// An emptyDir: what the init containers copy into it.
    EmptyDir,
    /// A path of the node.
    HostPath(String),
    /// compose: a path of the machine, relative to the compose file.
    Bind(String),
    /// compose: a named volume.
    Named(String),
}

/// What a ConfigMap key holds.
#[derive(Debug, Clone, PartialEq)]
enum Data {
    Text(String),
    /// binaryData: the module, made by the documented `kubectl` command.
    Module,
}

#[derive(Debug, Clone)]
struct ConfigMap {
    name: String,
    data: Vec<(String, Data)>,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq)]
struct Mount {
    volume: String,
    path: String,
    sub_path: Option<String>,
    read_only: bool,
}

#[derive(Debug, Clone)]
struct Container {
    name: String,
    command: Vec<String>,
    mounts: Vec<Mount>,
}

#[derive(Debug, Clone)]
struct Pod {
    /// Where the pod comes from, for messages.
    label: String,
    volumes: Vec<(String, Source)>,
    config_maps: Vec<ConfigMap>,
    init_containers: Vec<Container>,
    containers: Vec<Container>,
}

/// A path as a container sees it: the mount holding it and the path within
/// that mount's volume ("" for the volume's root).
fn place<'a>(mounts: &'a [Mount], path: &str) -> Option<(&'a Mount, String)> {
    let (mount, rest) = mounts
        .iter()
        .filter_map(|m| {
            let rest = path.strip_prefix(m.path.as_str())?;
            if rest.is_empty() {
                Some((m, String::new()))
            } else {
                rest.strip_prefix('/').map(|r| (m, r.to_string()))
            }
        })
        .max_by_key(|(m, _)| m.path.len())?;
    let within = match (&mount.sub_path, rest.is_empty()) {
        (Some(sub), true) => sub.clone(),
        (Some(sub), false) => format!("{sub}/{rest}"),
        (None, _) => rest,
    };
    Some((mount, within))
}

/// What a container finds at a path.
#[derive(Debug, PartialEq)]
enum Found {
    /// A file whose content the pod's files declare (a ConfigMap key).
    Text(String),
    /// The module.
    Module,
    /// A path of the machine (compose binds).
    Host(PathBuf),
    /// A place in a volume shared with the node or with other containers.
    Shared {
        volume: String,
        within: String,
        writable: bool,
    },
}

impl Pod {
    fn volume(&self, name: &str) -> Option<&Source> {
        self.volumes.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }

    fn container(&self, name: &str) -> &Container {
        match self.containers.iter().find(|c| c.name == name) {
            Some(c) => c,
            None => panic!("{}: no container {name}", self.label),
        }
    }

    /// What `container` finds at `path`, or why nothing is there.
    fn find(&self, container: &Container, path: &str) -> Result<Found, String> {
        let Some((mount, within)) = place(&container.mounts, path) else {
            return Err(format!("{path}: no mount holds it"));
        };
        let Some(source) = self.volume(&mount.volume) else {
            return Err(format!("{path}: volume {} is not declared", mount.volume));
        };
        match source {
            Source::ConfigMap(name) => {
                let Some(map) = self.config_maps.iter().find(|m| &m.name == name) else {
                    return Err(format!("{path}: ConfigMap {name} is not made here"));
                };
                match map.data.iter().find(|(k, _)| *k == within) {
                    Some((_, Data::Text(t))) => Ok(Found::Text(t.clone())),
                    Some((_, Data::Module)) => Ok(Found::Module),
                    None => Err(format!("{path}: ConfigMap {name} has no key {within:?}")),
                }
            }
            Source::EmptyDir => {
                // An init container that copies the module to this place.
                let copied = self.init_containers.iter().any(|init| {
                    let [cp, from, to] = init.command.as_slice() else {
                        return false;
                    };
                    cp == "cp"
                        && from.ends_with("/rosetta.wasm")
                        && place(&init.mounts, to)
                            .is_some_and(|(m, w)| m.volume == mount.volume && w == within)
                });
                if copied {
                    Ok(Found::Module)
                } else {
                    Err(format!(
                        "{path}: nothing writes {within:?} into emptyDir {}",
                        mount.volume
                    ))
                }
            }
            Source::Bind(host) => {
                let mut p = conf_dir().join(host);
                if !within.is_empty() {
                    p = p.join(&within);
                }
                Ok(Found::Host(p))
            }
            Source::HostPath(_) | Source::Named(_) => Ok(Found::Shared {
                volume: mount.volume.clone(),
                within,
                writable: !mount.read_only,
            }),
        }
    }

    fn found(&self, container: &Container, path: &str) -> Found {
        match self.find(container, path) {
            Ok(found) => found,
            Err(e) => panic!("{}, container {}: {e}", self.label, container.name),
        }
    }

    /// The text of the file at `path`.
    fn text_at(&self, container: &Container, path: &str) -> String {
        match self.found(container, path) {
            Found::Text(t) => t,
            Found::Host(p) => read(&p),
            other => panic!("{}: {path} is not a file: {other:?}", self.label),
        }
    }

    /// Every mount names a volume, every volume is mounted, no container
    /// mounts two things at one path.
    fn check_mounts(&self) {
        let all: Vec<&Container> = self
            .init_containers
            .iter()
            .chain(&self.containers)
            .collect();
        for c in &all {
            for m in &c.mounts {
                assert!(
                    self.volume(&m.volume).is_some(),
                    "{}: container {} mounts {} from volume {}, which is not declared",
                    self.label,
                    c.name,
                    m.path,
                    m.volume
                );
                let twice = c.mounts.iter().filter(|o| o.path == m.path).count();
                assert_eq!(twice, 1, "{}: {} mounted twice", self.label, m.path);
            }
        }
        for (name, _) in &self.volumes {
            assert!(
                all.iter()
                    .any(|c| c.mounts.iter().any(|m| &m.volume == name)),
                "{}: volume {name} is mounted nowhere",
                self.label
            );
        }
    }
}

/// A Kubernetes volume: its name and its one source.
fn k8s_volume(v: &Yaml, label: &str) -> (String, Source) {
    let name = text(&v["name"], label).to_string();
    let sources: Vec<String> = keys(v, label).into_iter().filter(|k| k != "name").collect();
    assert_eq!(
        sources.len(),
        1,
        "{label}: volume {name} has sources {sources:?}"
    );
    let source = match sources.first().map(String::as_str) {
        Some("configMap") => Source::ConfigMap(text(&v["configMap"]["name"], label).to_string()),
        Some("emptyDir") => Source::EmptyDir,
        Some("hostPath") => Source::HostPath(text(&v["hostPath"]["path"], label).to_string()),
        other => panic!("{label}: volume {name}: source {other:?} not modelled"),
    };
    (name, source)
}

fn k8s_mount(m: &Yaml, label: &str) -> Mount {
    Mount {
        volume: text(&m["name"], label).to_string(),
        path: text(&m["mountPath"], label).to_string(),
        sub_path: m["subPath"].as_str().map(str::to_string),
        read_only: m["readOnly"].as_bool().unwrap_or(false),
    }
}

fn k8s_container(c: &Yaml, label: &str) -> Container {
    let strings = |y: &Yaml| -> Vec<String> {
        list(y, label)
            .iter()
            .map(|s| text(s, label).to_string())
            .collect()
    };
    let mut command = strings(&c["command"]);
    command.extend(strings(&c["args"]));
    Container {
        name: text(&c["name"], label).to_string(),
        command,
        mounts: list(&c["volumeMounts"], label)
            .iter()
            .map(|m| k8s_mount(m, label))
            .collect(),
    }
}

/// A pod from a DaemonSet, with the ConfigMaps it may use.
fn daemonset_pod(label: &str, ds: &Yaml, config_maps: Vec<ConfigMap>) -> Pod {
    let spec = &ds["spec"]["template"]["spec"];
    let containers = |key: &str| -> Vec<Container> {
        list(&spec[key], label)
            .iter()
            .map(|c| k8s_container(c, label))
            .collect()
    };
    Pod {
        label: label.to_string(),
        volumes: list(&spec["volumes"], label)
            .iter()
            .map(|v| k8s_volume(v, label))
            .collect(),
        config_maps,
        init_containers: containers("initContainers"),
        containers: containers("containers"),
    }
}

/// The value of `--name=value` in a command line.
fn flag<'a>(command: &'a [String], name: &str) -> Option<&'a str> {
    let prefix = format!("--{name}=");
    command.iter().find_map(|a| a.strip_prefix(prefix.as_str()))
}

// ---------------------------------------------------------------------------
// The configuration, followed through a pod's mounts.

/// What the checks of one configuration found, for further checks.
struct Pipeline {
    sections: Vec<Section>,
    /// Where the tail input's log files are: (volume, path within it).
    log_dir: (String, String),
}

/// Follows everything fluent-bit's configuration at `conf_path` names, in
/// `container` of `pod`: the parsers file, the module, `rosetta.toml`, the
/// log files and the tail database.
fn check_pipeline(pod: &Pod, container: &str, conf_path: &str) -> Pipeline {
    let c = pod.container(container);
    let label = format!("{}: {conf_path}", pod.label);
    let sections = read_classic(&pod.text_at(c, conf_path));

    let service = of_kind(&sections, "service");
    let parsers_file = match service.first() {
        Some(s) => s.need("parsers_file"),
        None => panic!("{label}: no [SERVICE]"),
    };
    assert_eq!(
        pod.text_at(c, parsers_file),
        read(&conf_dir().join("parsers.conf")),
        "{label}: Parsers_File {parsers_file} is not parsers.conf"
    );

    let wasm: Vec<&Section> = of_kind(&sections, "filter")
        .into_iter()
        .filter(|f| f.need("name") == "wasm")
        .collect();
    assert!(!wasm.is_empty(), "{label}: no wasm filter");
    let rosetta_toml = read(&conf_dir().join("rosetta.toml"));
    for f in wasm {
        let wasm_path = f.need("wasm_path");
        match pod.found(c, wasm_path) {
            Found::Module => {}
            Found::Host(p) => assert_eq!(p, conf_dir().join("..").join(MODULE), "{label}"),
            other => panic!("{label}: Wasm_Path {wasm_path} is not the module: {other:?}"),
        }
        for dir in f.need("accessible_paths").split(',') {
            let toml = format!("{}/rosetta.toml", dir.trim());
            assert_eq!(
                pod.text_at(c, &toml),
                rosetta_toml,
                "{label}: {toml} is not rosetta.toml"
            );
        }
    }

    let inputs = of_kind(&sections, "input");
    let [tail] = inputs.as_slice() else {
        panic!("{label}: one input: {inputs:?}");
    };
    let log_path = tail.need("path");
    let Some(dir) = log_path.strip_suffix("/*.log") else {
        panic!("{label}: tail Path {log_path} is not <dir>/*.log");
    };
    let log_dir = match pod.found(c, dir) {
        Found::Shared { volume, within, .. } => (volume, within),
        other => panic!("{label}: {dir} is not a shared directory: {other:?}"),
    };
    let db = tail.need("db");
    match pod.found(c, db) {
        Found::Shared { writable: true, .. } => {}
        other => panic!("{label}: the tail DB {db} is not on a writable volume: {other:?}"),
    }
    Pipeline { sections, log_dir }
}

/// fluent-bit.conf of `fluent-bit-conf/`, read.
fn main_conf() -> Vec<Section> {
    read_classic(&read(&conf_dir().join("fluent-bit.conf")))
}

/// The sections of `kinds`, in order.
fn sections_of(sections: &[Section], kinds: &[&str]) -> Vec<Section> {
    sections
        .iter()
        .filter(|s| kinds.contains(&s.kind.as_str()))
        .cloned()
        .collect()
}

// ---------------------------------------------------------------------------
// The `kubectl create configmap` commands the files document.

/// A `kubectl create configmap NAME -n NS --from-file=KEY=PATH ... > OUT`
/// command, as a comment of a file shows it.
#[derive(Debug, PartialEq)]
struct CreateConfigMap {
    name: String,
    namespace: Option<String>,
    /// (key, path) of each `--from-file`.
    files: Vec<(String, String)>,
    output: Option<String>,
}

/// The command creating ConfigMap `name` in the comments of `text`.
fn documented_command(text: &str, name: &str) -> CreateConfigMap {
    let comment: String = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix('#'))
        .map(|l| l.trim().trim_end_matches('\\'))
        .collect::<Vec<_>>()
        .join(" ");
    let start = format!("kubectl create configmap {name} ");
    let Some(at) = comment.find(&start) else {
        panic!("no `{start}` command documented");
    };
    let mut words = comment[at + start.len()..].split_whitespace();
    let mut command = CreateConfigMap {
        name: name.to_string(),
        namespace: None,
        files: Vec::new(),
        output: None,
    };
    while let Some(word) = words.next() {
        match word {
            "-n" => command.namespace = words.next().map(str::to_string),
            "--dry-run=client" => {}
            "-o" => {
                words.next();
            }
            ">" => {
                command.output = words.next().map(str::to_string);
                break;
            }
            _ => {
                let Some(file) = word.strip_prefix("--from-file=") else {
                    break;
                };
                // --from-file=KEY=PATH, or --from-file=PATH keyed by its name.
                let (key, path) = match file.split_once('=') {
                    Some((k, p)) => (k, p),
                    None => (file.rsplit('/').next().unwrap_or(file), file),
                };
                command.files.push((key.to_string(), path.to_string()));
            }
        }
    }
    command
}

/// The module's ConfigMap as the documented command makes it.
fn module_config_map(command: &CreateConfigMap) -> ConfigMap {
    assert_eq!(
        command.files,
        [("rosetta.wasm".to_string(), MODULE.to_string())],
        "the module's ConfigMap holds `make build`'s module as rosetta.wasm"
    );
    ConfigMap {
        name: command.name.clone(),
        data: vec![("rosetta.wasm".to_string(), Data::Module)],
    }
}

// ---------------------------------------------------------------------------
// Kubernetes.

const K8S_DIR: &str = "kubernetes";

/// Every document of the kustomization's committed resources, with its file.
fn k8s_objects() -> Vec<(String, Yaml)> {
    let kustomization = yaml_doc(&format!("{K8S_DIR}/kustomization.yaml"));
    let mut objects = Vec::new();
    for r in list(&kustomization["resources"], "resources") {
        let file = text(r, "resources");
        if file == "rosetta-wasm.yaml" {
            continue; // generated, see kustomization_documents_the_module
        }
        for doc in yaml_docs(&format!("{K8S_DIR}/{file}")) {
            objects.push((file.to_string(), doc));
        }
    }
    objects
}

fn object<'a>(objects: &'a [(String, Yaml)], kind: &str) -> Vec<&'a Yaml> {
    objects
        .iter()
        .map(|(_, o)| o)
        .filter(|o| o["kind"].as_str() == Some(kind))
        .collect()
}

fn the_object<'a>(objects: &'a [(String, Yaml)], kind: &str) -> &'a Yaml {
    match object(objects, kind).as_slice() {
        [one] => one,
        many => panic!("one {kind} expected, {} found", many.len()),
    }
}

fn config_map_of(o: &Yaml) -> ConfigMap {
    let name = text(&o["metadata"]["name"], "ConfigMap name").to_string();
    let data = match o["data"].as_hash() {
        Some(h) => h
            .iter()
            .map(|(k, v)| {
                (
                    text(k, &name).to_string(),
                    Data::Text(text(v, &name).to_string()),
                )
            })
            .collect(),
        None => Vec::new(),
    };
    ConfigMap { name, data }
}

/// The module's ConfigMap as kustomization.yaml documents it.
fn k8s_module_command() -> CreateConfigMap {
    documented_command(
        &read(&conf_dir().join(K8S_DIR).join("kustomization.yaml")),
        "rosetta-wasm",
    )
}

/// The ConfigMaps the manifests make, and the module's.
fn k8s_config_maps(objects: &[(String, Yaml)]) -> Vec<ConfigMap> {
    let mut maps: Vec<ConfigMap> = object(objects, "ConfigMap")
        .into_iter()
        .map(config_map_of)
        .collect();
    maps.push(module_config_map(&k8s_module_command()));
    maps
}

/// A strategic merge patch as these files use it: maps merged key by key,
/// `null` removing a key, lists of maps with a `name` merged by name (new
/// names appended), anything else replaced.
fn merge(base: &Yaml, patch: &Yaml) -> Yaml {
    match (base, patch) {
        (Yaml::Hash(b), Yaml::Hash(p)) => {
            let mut out = b.clone();
            for (k, v) in p {
                if v.is_null() {
                    out.remove(k);
                } else {
                    let merged = match b.get(k) {
                        Some(old) => merge(old, v),
                        None => v.clone(),
                    };
                    out.replace(k.clone(), merged);
                }
            }
            Yaml::Hash(out)
        }
        (Yaml::Array(b), Yaml::Array(p))
            if p.iter().chain(b).all(|i| i["name"].as_str().is_some()) =>
        {
            let mut out = b.clone();
            for item in p {
                match out.iter_mut().find(|o| o["name"] == item["name"]) {
                    Some(old) => *old = merge(old, item),
                    None => out.push(item.clone()),
                }
            }
            Yaml::Array(out)
        }
        (_, p) => p.clone(),
    }
}

#[test]
fn mounts_place_paths_in_volumes() {
    let mount = |volume: &str, path: &str, sub: Option<&str>| Mount {
        volume: volume.to_string(),
        path: path.to_string(),
        sub_path: sub.map(str::to_string),
        read_only: false,
    };
    let mounts = [
        mount(
            "config",
            "/fluent-bit/etc/fluent-bit.conf",
            Some("fluent-bit.conf"),
        ),
        mount("chart", "/fluent-bit/etc/conf", None),
        mount("state", "/var/log", None),
        mount("containers", "/var/log/containers", None),
        mount("dir", "/data", Some("sub/dir")),
    ];
    let cases = [
        (
            "subPath file",
            "/fluent-bit/etc/fluent-bit.conf",
            Some(("config", "fluent-bit.conf")),
        ),
        (
            "not below a subPath file",
            "/fluent-bit/etc/fluent-bit.conf.d",
            None,
        ),
        (
            "whole volume",
            "/fluent-bit/etc/conf/custom_parsers.conf",
            Some(("chart", "custom_parsers.conf")),
        ),
        ("volume root", "/fluent-bit/etc/conf", Some(("chart", ""))),
        ("sibling name is not inside", "/fluent-bit/etc/config", None),
        (
            "deepest mount wins",
            "/var/log/containers/a.log",
            Some(("containers", "a.log")),
        ),
        (
            "parent mount",
            "/var/log/flb_kube.db",
            Some(("state", "flb_kube.db")),
        ),
        (
            "parent of a nested mount",
            "/var/log/pods",
            Some(("state", "pods")),
        ),
        (
            "subPath directory",
            "/data/x/y",
            Some(("dir", "sub/dir/x/y")),
        ),
        ("outside every mount", "/etc/passwd", None),
    ];
    for (name, path, expected) in cases {
        let got = place(&mounts, path).map(|(m, w)| (m.volume.clone(), w));
        let expected = expected.map(|(v, w)| (v.to_string(), w.to_string()));
        assert_eq!(got, expected, "{name}: {path}");
    }
}

#[test]
fn merge_patches_like_kustomize() {
    let yaml = |s: &str| match YamlLoader::load_from_str(s) {
        Ok(mut d) => d.remove(0),
        Err(e) => panic!("{e}"),
    };
    let cases = [
        ("scalar replaced", "a: 1\nb: 2", "b: 3", "a: 1\nb: 3"),
        ("null removes", "a: 1\nb: 2", "b: null", "a: 1"),
        (
            "named items merged by name",
            "v: [{name: x, configMap: {name: m}}, {name: y, emptyDir: {}}]",
            "v: [{name: x, configMap: null, emptyDir: {}}]",
            "v: [{name: x, emptyDir: {}}, {name: y, emptyDir: {}}]",
        ),
        (
            "new names appended",
            "v: [{name: x}]",
            "v: [{name: z, image: i}]",
            "v: [{name: x}, {name: z, image: i}]",
        ),
        ("other lists replaced", "c: [a, b]", "c: [c]", "c: [c]"),
        ("new key added", "a: 1", "s: {t: 2}", "a: 1\ns: {t: 2}"),
    ];
    for (name, base, patch, expected) in cases {
        assert_eq!(merge(&yaml(base), &yaml(patch)), yaml(expected), "{name}");
    }
}

#[test]
fn config_map_holds_the_configuration_files_byte_for_byte() {
    let objects = k8s_objects();
    let maps: Vec<ConfigMap> = object(&objects, "ConfigMap")
        .into_iter()
        .map(config_map_of)
        .collect();
    let [map] = maps.as_slice() else {
        panic!("one ConfigMap in the manifests: {maps:?}");
    };
    let names: Vec<&str> = map.data.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["fluent-bit.conf", "parsers.conf", "rosetta.toml"]);

    // The command in its header makes it from those files.
    let header = read(&conf_dir().join(K8S_DIR).join("configmap.yaml"));
    let command = documented_command(&header, &map.name);
    let from: Vec<(String, String)> = names
        .iter()
        .map(|n| (n.to_string(), format!("fluent-bit-conf/{n}")))
        .collect();
    assert_eq!(command.files, from);
    assert_eq!(command.namespace.as_deref(), Some("logging"));
    for (key, data) in &map.data {
        assert_eq!(
            data,
            &Data::Text(read(&conf_dir().join(key))),
            "kubernetes/configmap.yaml: {key} differs from fluent-bit-conf/{key}; regenerate it \
             with the command in its header"
        );
    }
}

#[test]
fn kustomization_lists_the_manifests_and_documents_the_module() {
    let dir = conf_dir().join(K8S_DIR);
    let kustomization = yaml_doc(&format!("{K8S_DIR}/kustomization.yaml"));
    let resources: Vec<&str> = list(&kustomization["resources"], "resources")
        .iter()
        .map(|r| text(r, "resources"))
        .collect();

    // Every manifest in the directory is a resource, but the patch of way
    // (b); every resource is in the directory, but the generated one.
    let mut files: Vec<String> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".yaml") && n != "kustomization.yaml")
            .filter(|n| n != "module-from-image.yaml" && n != "rosetta-wasm.yaml")
            .collect(),
        Err(e) => panic!("cannot list {}: {e}", dir.display()),
    };
    files.sort();
    let mut committed: Vec<String> = resources
        .iter()
        .filter(|r| **r != "rosetta-wasm.yaml")
        .map(|r| r.to_string())
        .collect();
    committed.sort();
    assert_eq!(committed, files);

    // Way (a): the documented command writes the one generated resource,
    // in the namespace of the others, and git ignores it.
    let command = k8s_module_command();
    assert!(resources.contains(&"rosetta-wasm.yaml"));
    assert_eq!(
        command.output.as_deref(),
        Some("fluent-bit-conf/kubernetes/rosetta-wasm.yaml")
    );
    assert_eq!(command.namespace.as_deref(), Some("logging"));
    let ignored = read(&dir.join(".gitignore"));
    assert!(ignored.lines().any(|l| l.trim() == "rosetta-wasm.yaml"));

    // Way (b): the patch is there and named in the kustomization.
    let text = read(&dir.join("kustomization.yaml"));
    assert!(text.contains("path: module-from-image.yaml"));
    assert!(dir.join("module-from-image.yaml").is_file());
}

/// The DaemonSet's pod, as kustomization.yaml makes it (way a) and with
/// the init container's patch applied (way b).
fn daemonset_pods() -> Vec<Pod> {
    let objects = k8s_objects();
    let ds = the_object(&objects, "DaemonSet");
    let maps = k8s_config_maps(&objects);
    let patch = yaml_doc(&format!("{K8S_DIR}/module-from-image.yaml"));
    assert_eq!(patch["kind"], ds["kind"]);
    assert_eq!(patch["metadata"]["name"], ds["metadata"]["name"]);
    let patched = merge(ds, &patch);
    let without_module_map: Vec<ConfigMap> = maps
        .iter()
        .filter(|m| m.name != "rosetta-wasm")
        .cloned()
        .collect();
    vec![
        daemonset_pod("daemonset.yaml (module from a ConfigMap)", ds, maps),
        daemonset_pod(
            "daemonset.yaml + module-from-image.yaml (module from an image)",
            &patched,
            without_module_map,
        ),
    ]
}

#[test]
fn daemonset_finds_every_file_its_configuration_names() {
    for pod in daemonset_pods() {
        pod.check_mounts();
        let fluent_bit = pod.container("fluent-bit");
        let conf = match flag(&fluent_bit.command, "config") {
            Some(c) => c.to_string(),
            None => panic!("{}: no --config", pod.label),
        };
        let pipeline = check_pipeline(&pod, "fluent-bit", &conf);
        assert_eq!(pipeline.sections, main_conf(), "{}", pod.label);
        assert_eq!(
            pod.volume(&pipeline.log_dir.0),
            Some(&Source::HostPath("/var/log/containers".to_string())),
            "{}: the tail input reads the node's container logs",
            pod.label
        );
        // The kubelet's /var/log/containers entries are links into
        // /var/log/pods: the same path in the container.
        assert_eq!(
            pod.found(fluent_bit, "/var/log/pods/ns_pod_uid/c/0.log"),
            Found::Shared {
                volume: "pods".to_string(),
                within: "ns_pod_uid/c/0.log".to_string(),
                writable: false
            }
        );
        assert_eq!(
            pod.volume("pods"),
            Some(&Source::HostPath("/var/log/pods".to_string()))
        );
        // Nothing of the node's /var/log is writable.
        for m in &fluent_bit.mounts {
            if let Some(Source::HostPath(p)) = pod.volume(&m.volume) {
                assert!(
                    m.read_only || !p.starts_with("/var/log"),
                    "{}: {p} mounted writable",
                    pod.label
                );
            }
        }
    }
}

#[test]
fn daemonset_runs_everywhere_with_limits_and_a_health_endpoint() {
    let objects = k8s_objects();
    let ds = the_object(&objects, "DaemonSet");
    let spec = &ds["spec"]["template"]["spec"];
    let tolerations = list(&spec["tolerations"], "tolerations");
    assert!(
        tolerations
            .iter()
            .any(|t| t["operator"].as_str() == Some("Exists") && t["key"].is_badvalue()),
        "a toleration of every taint"
    );
    let containers = list(&spec["containers"], "containers");
    let [container] = containers else {
        panic!("one container");
    };
    for kind in ["requests", "limits"] {
        for resource in ["cpu", "memory"] {
            assert!(
                !container["resources"][kind][resource].is_badvalue(),
                "resources.{kind}.{resource}"
            );
        }
    }
    let image = text(&container["image"], "image");
    let version = image.rsplit(':').next().unwrap_or_default();
    assert!(fluent_bit_at_least_4_1(version), "{image}");

    // The probes ask the HTTP server the arguments switch on, on its port.
    let c = k8s_container(container, "daemonset.yaml");
    assert!(c.command.iter().any(|a| a == "--http_server"));
    let port = flag(&c.command, "http_port").unwrap_or("2020");
    let ports = list(&container["ports"], "ports");
    let named: Vec<(&str, String)> = ports
        .iter()
        .map(|p| {
            (
                text(&p["name"], "port name"),
                p["containerPort"].as_i64().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(named.contains(&("http", port.to_string())), "{named:?}");
    for probe in ["livenessProbe", "readinessProbe"] {
        assert_eq!(
            container[probe]["httpGet"]["port"].as_str(),
            Some("http"),
            "{probe}"
        );
    }
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"].as_str(),
        Some("/api/v2/health")
    );
}

/// `version` is a fluent-bit release whose wasm filter keeps its instance
/// across chunks (4.1.0 and later).
fn fluent_bit_at_least_4_1(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(major), Some(minor)) => (major, minor) >= (4, 1),
        _ => false,
    }
}

#[test]
fn fluent_bit_versions() {
    let cases = [
        ("5.1.1", true),
        ("4.1.0", true),
        ("4.0.14", false),
        ("3.2", false),
        ("latest", false),
        ("", false),
    ];
    for (version, expected) in cases {
        assert_eq!(fluent_bit_at_least_4_1(version), expected, "{version}");
    }
}

#[test]
fn daemonset_service_account_has_the_kubernetes_filter_rbac() {
    let objects = k8s_objects();
    let namespace = text(
        &the_object(&objects, "Namespace")["metadata"]["name"],
        "Namespace",
    );
    // Every namespaced object is in the Namespace the manifests make.
    for (file, o) in &objects {
        let kind = text(&o["kind"], file);
        if !["Namespace", "ClusterRole", "ClusterRoleBinding"].contains(&kind) {
            assert_eq!(
                o["metadata"]["namespace"].as_str(),
                Some(namespace),
                "{file}: {kind}"
            );
        }
    }

    let ds = the_object(&objects, "DaemonSet");
    let account = text(
        &ds["spec"]["template"]["spec"]["serviceAccountName"],
        "serviceAccountName",
    );
    assert!(
        object(&objects, "ServiceAccount")
            .iter()
            .any(|sa| sa["metadata"]["name"].as_str() == Some(account)),
        "no ServiceAccount {account}"
    );

    let bound_roles: Vec<&str> = object(&objects, "ClusterRoleBinding")
        .into_iter()
        .filter(|b| {
            list(&b["subjects"], "subjects").iter().any(|s| {
                s["kind"].as_str() == Some("ServiceAccount")
                    && s["name"].as_str() == Some(account)
                    && s["namespace"].as_str() == Some(namespace)
            })
        })
        .filter(|b| b["roleRef"]["kind"].as_str() == Some("ClusterRole"))
        .filter_map(|b| b["roleRef"]["name"].as_str())
        .collect();
    let may = |resource: &str, verb: &str| {
        object(&objects, "ClusterRole")
            .into_iter()
            .filter(|r| {
                r["metadata"]["name"]
                    .as_str()
                    .is_some_and(|n| bound_roles.contains(&n))
            })
            .flat_map(|r| list(&r["rules"], "rules"))
            .any(|rule| {
                let has = |key: &str, want: &str| {
                    list(&rule[key], key)
                        .iter()
                        .any(|v| v.as_str() == Some(want))
                };
                has("apiGroups", "") && has("resources", resource) && has("verbs", verb)
            })
    };
    for resource in ["pods", "namespaces"] {
        for verb in ["get", "list", "watch"] {
            assert!(may(resource, verb), "{account} may not {verb} {resource}");
        }
    }
    assert!(!may("secrets", "get"), "{account} reads secrets");
}

// ---------------------------------------------------------------------------
// Helm.

fn helm_values() -> (Yaml, String) {
    let text = read(&conf_dir().join("helm/values.yaml"));
    (yaml_doc("helm/values.yaml"), text)
}

/// The pod the chart makes from the values: its ConfigMap (the
/// configuration, `custom_parsers.conf`, `extraFiles`) mounted at
/// /fluent-bit/etc/conf, then `daemonSetVolumeMounts` and
/// `extraVolumeMounts` (charts/fluent-bit/templates/configmap.yaml and
/// _pod.tpl).
fn helm_pod() -> Pod {
    let (values, text_of_values) = helm_values();
    let config = &values["config"];
    let part = |key: &str| text(&config[key], key).to_string();
    let mut data = vec![
        (
            "custom_parsers.conf".to_string(),
            Data::Text(part("customParsers")),
        ),
        (
            "fluent-bit.conf".to_string(),
            Data::Text(
                ["service", "inputs", "filters", "outputs"]
                    .map(part)
                    .join("\n"),
            ),
        ),
    ];
    for key in keys(&config["extraFiles"], "extraFiles") {
        data.push((
            key.clone(),
            Data::Text(text(&config["extraFiles"][key.as_str()], &key).to_string()),
        ));
    }
    let chart_map = ConfigMap {
        name: CHART_CONFIG_MAP.to_string(),
        data,
    };
    let module_map = module_config_map(&documented_command(&text_of_values, "rosetta-wasm"));

    let mut volumes = vec![(
        CHART_CONFIG_VOLUME.to_string(),
        Source::ConfigMap(CHART_CONFIG_MAP.to_string()),
    )];
    let mut mounts = vec![Mount {
        volume: CHART_CONFIG_VOLUME.to_string(),
        path: CHART_CONFIG_DIR.to_string(),
        sub_path: None,
        read_only: false,
    }];
    for key in ["daemonSetVolumes", "extraVolumes"] {
        volumes.extend(list(&values[key], key).iter().map(|v| k8s_volume(v, key)));
    }
    for key in ["daemonSetVolumeMounts", "extraVolumeMounts"] {
        mounts.extend(list(&values[key], key).iter().map(|m| k8s_mount(m, key)));
    }
    Pod {
        label: "helm/values.yaml".to_string(),
        volumes,
        config_maps: vec![chart_map, module_map],
        init_containers: Vec::new(),
        containers: vec![Container {
            name: "fluent-bit".to_string(),
            command: vec![format!("--config={CHART_CONFIG_FILE}")],
            mounts,
        }],
    }
}

#[test]
fn helm_values_declare_the_same_pipeline() {
    let (values, _) = helm_values();
    let config = &values["config"];
    let main = main_conf();
    let mut embedded = Vec::new();
    for (key, kind) in [
        ("inputs", "input"),
        ("filters", "filter"),
        ("outputs", "output"),
    ] {
        let sections = read_classic(text(&config[key], key));
        assert!(
            sections.iter().all(|s| s.kind == kind),
            "config.{key} holds only [{}] sections",
            kind.to_uppercase()
        );
        embedded.extend(sections);
    }
    assert_eq!(embedded, sections_of(&main, &["input", "filter", "output"]));

    // [SERVICE]: fluent-bit.conf's, with the chart's parsers file and its
    // HTTP server on the port its probes and Service use.
    let service = read_classic(text(&config["service"], "service"));
    let [service] = service.as_slice() else {
        panic!("config.service: one [SERVICE]");
    };
    let main_service = of_kind(&main, "service");
    for key in ["flush", "log_level"] {
        assert_eq!(
            service.get(key),
            main_service.first().and_then(|s| s.get(key)),
            "{key}"
        );
    }
    assert_eq!(service.need("http_server"), "On");
    assert_eq!(
        service.need("http_port"),
        values["metricsPort"].as_i64().unwrap_or(2020).to_string()
    );

    // What the chart passes through `tpl` holds no template.
    for key in ["service", "inputs", "filters", "outputs", "customParsers"] {
        assert!(!text(&config[key], key).contains("{{"), "config.{key}");
    }
    for key in keys(&config["extraFiles"], "extraFiles") {
        assert!(!text(&config["extraFiles"][key.as_str()], &key).contains("{{"));
    }

    let image_tag = values["image"]["tag"].as_str().unwrap_or_default();
    assert!(fluent_bit_at_least_4_1(image_tag), "image.tag {image_tag}");
    assert!(
        list(&values["tolerations"], "tolerations")
            .iter()
            .any(|t| t["operator"].as_str() == Some("Exists"))
    );
    for kind in ["requests", "limits"] {
        assert!(!values["resources"][kind].is_badvalue(), "resources.{kind}");
    }
}

#[test]
fn helm_values_mounts_find_every_file() {
    let pod = helm_pod();
    pod.check_mounts();
    let pipeline = check_pipeline(&pod, "fluent-bit", CHART_CONFIG_FILE);
    assert_eq!(
        sections_of(&pipeline.sections, &["input", "filter", "output"]),
        sections_of(&main_conf(), &["input", "filter", "output"])
    );
    assert_eq!(
        pod.volume(&pipeline.log_dir.0),
        Some(&Source::HostPath("/var/log/containers".to_string()))
    );
}

// ---------------------------------------------------------------------------
// docker compose.

/// A compose value with its variables replaced as compose does: `$$` is a
/// `$`; `${NAME:-default}` and `${NAME-default}` are NAME's value from
/// `env`, else the default; `${NAME}` and `$NAME` are NAME's value, and an
/// unset one is an error here (compose would put an empty string).
fn interpolate(value: &str, env: &[(&str, &str)]) -> Result<String, String> {
    let lookup = |name: &str| env.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
    let mut out = String::new();
    let mut rest = value;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(braced) = after.strip_prefix('{') {
            let Some(end) = braced.find('}') else {
                return Err(format!("unclosed ${{ in {value:?}"));
            };
            let inner = &braced[..end];
            let (name, default) = match inner.split_once(":-").or_else(|| inner.split_once('-')) {
                Some((n, d)) => (n, Some(d)),
                None => (inner, None),
            };
            match (lookup(name), default) {
                (Some(v), _) => out.push_str(v),
                (None, Some(d)) => out.push_str(d),
                (None, None) => return Err(format!("${{{name}}} is unset in {value:?}")),
            }
            rest = &braced[end + 1..];
        } else {
            let len = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(after.len());
            if len == 0 {
                return Err(format!("a lone $ in {value:?}"));
            }
            let name = &after[..len];
            match lookup(name) {
                Some(v) => out.push_str(v),
                None => return Err(format!("${name} is unset in {value:?}")),
            }
            rest = &after[len..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[test]
fn compose_interpolation() {
    let env = [("SET", "value")];
    let cases = [
        ("no variable", "plain", Ok("plain")),
        ("escaped", "$$HOME and $${x#y}", Ok("$HOME and ${x#y}")),
        ("default used", "${UNSET:-a/b}:c", Ok("a/b:c")),
        ("default unused", "${SET:-a/b}", Ok("value")),
        ("dash default", "${UNSET-d}", Ok("d")),
        ("braced", "x${SET}y", Ok("xvaluey")),
        ("bare", "$SET/z", Ok("value/z")),
        ("unset", "$UNSET", Err(())),
        ("unset braced", "${UNSET}", Err(())),
        ("lone dollar", "a $ b", Err(())),
        ("unclosed", "${SET", Err(())),
    ];
    for (name, input, expected) in cases {
        let got = interpolate(input, &env).map_err(|_| ());
        assert_eq!(got, expected.map(str::to_string), "{name}: {input}");
    }
}

fn compose() -> Yaml {
    yaml_doc("docker-compose.yml")
}

/// The compose file's services as a pod: binds and named volumes, each
/// service a container (its `command`, its `volumes`).
fn compose_pod(compose: &Yaml) -> Pod {
    let label = "docker-compose.yml";
    let named = keys(&compose["volumes"], "volumes");
    let mut volumes: Vec<(String, Source)> = named
        .iter()
        .map(|n| (n.clone(), Source::Named(n.clone())))
        .collect();
    let mut containers = Vec::new();
    for service in keys(&compose["services"], "services") {
        let s = &compose["services"][service.as_str()];
        let mut mounts = Vec::new();
        for v in list(&s["volumes"], &service) {
            let spec = match interpolate(text(v, &service), &[]) {
                Ok(spec) => spec,
                Err(e) => panic!("{label}: {service}: {e}"),
            };
            let parts: Vec<&str> = spec.split(':').collect();
            let (source, path, read_only) = match parts.as_slice() {
                [s, p] => (*s, *p, false),
                [s, p, "ro"] => (*s, *p, true),
                _ => panic!("{label}: {service}: volume {spec:?} not modelled"),
            };
            let is_bind = source.starts_with('.') || source.starts_with('/');
            if is_bind && !volumes.iter().any(|(n, _)| n == source) {
                volumes.push((source.to_string(), Source::Bind(source.to_string())));
            }
            assert!(
                is_bind || named.iter().any(|n| n == source),
                "{label}: {service} mounts volume {source}, not declared under `volumes:`"
            );
            mounts.push(Mount {
                volume: source.to_string(),
                path: path.to_string(),
                sub_path: None,
                read_only,
            });
        }
        containers.push(Container {
            name: service.clone(),
            command: list(&s["command"], &service)
                .iter()
                .map(|c| text(c, &service).to_string())
                .collect(),
            mounts,
        });
    }
    Pod {
        label: label.to_string(),
        volumes,
        config_maps: Vec::new(),
        init_containers: Vec::new(),
        // Services without a mount (Kibana) have no place in the checks.
        containers: containers
            .into_iter()
            .filter(|c| !c.mounts.is_empty())
            .collect(),
    }
}

/// The compose configuration's pipeline, followed through its mounts.
fn compose_pipeline(pod: &Pod) -> Pipeline {
    let conf = match flag(&pod.container("fluent-bit").command, "config") {
        Some(c) => c.to_string(),
        None => panic!("docker-compose.yml: fluent-bit has no --config"),
    };
    assert_eq!(
        pod.found(pod.container("fluent-bit"), &conf),
        Found::Host(conf_dir().join("./compose/fluent-bit.conf"))
    );
    check_pipeline(pod, "fluent-bit", &conf)
}

#[test]
fn compose_config_is_the_pipeline_without_the_kubernetes_filter() {
    let compose_conf = read_classic(&read(&conf_dir().join("compose/fluent-bit.conf")));
    let without_kubernetes: Vec<Section> = main_conf()
        .into_iter()
        .filter(|s| !(s.kind == "filter" && s.get("name") == Some("kubernetes")))
        .collect();
    assert_eq!(compose_conf, without_kubernetes);
    assert_ne!(
        compose_conf.len(),
        main_conf().len(),
        "no kubernetes filter to leave out"
    );
}

#[test]
fn compose_mounts_find_every_file() {
    let compose = compose();
    let pod = compose_pod(&compose);
    pod.check_mounts();
    let pipeline = compose_pipeline(&pod);

    // The example-log writer writes where the tail input reads.
    let writer = pod.container("example-logs");
    let env = &compose["services"]["example-logs"]["environment"];
    let dest = text(&env["DEST"], "DEST");
    match pod.found(writer, dest) {
        Found::Shared {
            volume,
            within,
            writable: true,
        } => assert_eq!((volume, within), pipeline.log_dir, "DEST {dest}"),
        other => panic!("DEST {dest}: {other:?}"),
    }
    let source = text(&env["SOURCE"], "SOURCE");
    match pod.found(writer, source) {
        Found::Host(p) => assert_eq!(
            p.canonicalize().ok(),
            repo().join("examples/logs").canonicalize().ok(),
            "SOURCE {source}"
        ),
        other => panic!("SOURCE {source}: {other:?}"),
    }

    // The es output's Host is the Elasticsearch service; the writer waits
    // for fluent-bit's HTTP server, which the command switches on.
    let output = of_kind(&pipeline.sections, "output");
    let host = output.first().map(|o| o.need("host")).unwrap_or_default();
    assert!(
        !compose["services"][host].is_badvalue(),
        "no service {host}"
    );
    let fluent_bit = pod.container("fluent-bit");
    assert!(fluent_bit.command.iter().any(|a| a == "--http_server"));
    let port = flag(&fluent_bit.command, "http_port").unwrap_or("2020");
    assert_eq!(
        text(&env["FLUENT_BIT"], "FLUENT_BIT"),
        format!("http://fluent-bit:{port}/")
    );
}

#[test]
fn compose_publishes_ports_on_loopback_only() {
    let compose = compose();
    for service in keys(&compose["services"], "services") {
        for port in list(&compose["services"][service.as_str()]["ports"], &service) {
            let port = text(port, &service);
            assert!(
                port.starts_with("127.0.0.1:"),
                "{service} publishes {port} beyond this machine"
            );
        }
    }
}

/// The name fluent-bit's tail gives a file: its `Tag` with the `Tag_Regex`
/// captures put in, matched with Oniguruma's Ruby syntax as fluent-bit's
/// `flb_regex` does; `None` when the regex does not match.
fn tag_of(tag_regex: &str, template: &str, path: &str) -> Option<String> {
    let regex = match onig::Regex::with_options(
        tag_regex,
        onig::RegexOptions::REGEX_OPTION_NONE,
        onig::Syntax::ruby(),
    ) {
        Ok(r) => r,
        Err(e) => panic!("Tag_Regex {tag_regex} does not compile: {e}"),
    };
    let captures = regex.captures(path)?;
    let mut tag = template.to_string();
    regex.foreach_name(|name, groups| {
        let value = groups
            .iter()
            .find_map(|&g| captures.at(g as usize))
            .unwrap_or_default();
        tag = tag.replace(&format!("<{name}>"), value);
        true
    });
    Some(tag)
}

#[test]
fn compose_example_writer_names_files_as_the_tag_regex_reads_them() {
    let compose = compose();
    let service = &compose["services"]["example-logs"];
    let command: Vec<&str> = list(&service["command"], "command")
        .iter()
        .map(|c| text(c, "command"))
        .collect();
    let [shell, "-c", script] = command.as_slice() else {
        panic!("example-logs: command is not [sh, -c, <script>]: {command:?}");
    };
    // The script as the container's shell gets it: compose has replaced
    // `$$` by `$`, and must find no variable of its own to replace.
    let script = match interpolate(script, &[]) {
        Ok(s) => s,
        Err(e) => panic!("example-logs: compose would interpolate the script: {e}"),
    };

    let out = common::TempDir::new("compose-example-logs");
    let examples = repo().join("examples/logs");
    let run = std::process::Command::new(shell)
        .arg("-c")
        .arg(&script)
        .env("SOURCE", &examples)
        .env("DEST", &out.path)
        .env("FLUENT_BIT", "")
        .env("LINE_DELAY", "0")
        .output();
    let run = match run {
        Ok(run) => run,
        Err(e) => panic!("cannot run {shell}: {e}"),
    };
    assert!(
        run.status.success(),
        "the script failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );

    let pipeline = compose_pipeline(&compose_pod(&compose));
    let inputs = of_kind(&pipeline.sections, "input");
    let tail = inputs.first().copied();
    let tag_regex = tail.map(|t| t.need("tag_regex")).unwrap_or_default();
    let template = tail.map(|t| t.need("tag")).unwrap_or_default();
    let log_dir = tail
        .and_then(|t| t.need("path").strip_suffix("/*.log"))
        .unwrap_or_default();

    let mut written: Vec<PathBuf> = match std::fs::read_dir(&out.path) {
        Ok(entries) => entries.filter_map(|e| e.ok().map(|e| e.path())).collect(),
        Err(e) => panic!("cannot list {}: {e}", out.path.display()),
    };
    written.sort();
    let mut tags: Vec<String> = Vec::new();
    for file in &written {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        // The kubelet's name: <pod>_<namespace>_<container>-<64 hex>.log.
        let id = name
            .strip_suffix(".log")
            .and_then(|stem| stem.rsplit_once('-'))
            .map(|(_, id)| id)
            .unwrap_or_default();
        assert!(
            id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}: no 64-hex-digit container id"
        );
        let path = format!("{log_dir}/{name}");
        match tag_of(tag_regex, template, &path) {
            Some(tag) => tags.push(tag),
            None => panic!("Tag_Regex does not match {path}"),
        }
    }

    // One file per example, each tagged as the example stands for, holding
    // the example's lines unchanged.
    let mut expected: Vec<(String, Vec<u8>)> = match std::fs::read_dir(&examples) {
        Ok(entries) => entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "log"))
            .map(|p| {
                let bytes = std::fs::read(&p).unwrap_or_default();
                (tag_for_path(&p), bytes)
            })
            .collect(),
        Err(e) => panic!("cannot list {}: {e}", examples.display()),
    };
    expected.sort();
    let mut got: Vec<(String, Vec<u8>)> = tags
        .into_iter()
        .zip(&written)
        .map(|(tag, file)| (tag, std::fs::read(file).unwrap_or_default()))
        .collect();
    got.sort();
    assert!(!expected.is_empty());
    assert!(expected.iter().all(|(tag, _)| tag.starts_with("kube.")));
    assert_eq!(
        got.iter().map(|(t, _)| t).collect::<Vec<_>>(),
        expected.iter().map(|(t, _)| t).collect::<Vec<_>>()
    );
    for ((tag, got), (_, want)) in got.iter().zip(&expected) {
        assert!(
            got == want,
            "{tag}: the written lines differ from the example's"
        );
    }
}
