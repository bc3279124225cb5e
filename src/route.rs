//! Which parsers a record gets: from who wrote it (tag, the `kubernetes`
//! map, the stream) through pod annotations, then `[[route]]`s in order,
//! then the default `parser`.
//!
//! **Identity.** Two tag layouts are understood (`tag_prefix` defaults to
//! `kube.`):
//!
//! | tag | namespace | pod | container |
//! |---|---|---|---|
//! | `kube.<namespace>.<pod>.<container>` (a `Tag_Regex` layout) | first part | the middle (pod names may hold dots) | last part |
//! | `kube.var.log.containers.<pod>_<namespace>_<container>-<id>.log` (fluent-bit's default) | second `_` field | first `_` field | third, less `-<id>.log` |
//!
//! Namespaces and container names are DNS labels (no dots, no
//! underscores), which is what makes both splits unambiguous. The
//! `kubernetes` map added by fluent-bit's kubernetes filter
//! (`namespace_name`, `pod_name`, `container_name`, `labels`, `annotations`)
//! wins over the tag where it has a value. With neither, only a route's
//! `tag` can match.
//!
//! **Annotations** (when `annotations = true`), from the pod's
//! `annotations`, the most specific that applies winning:
//!
//! | annotation | applies to | rank |
//! |---|---|---|
//! | `fluentbit.io/parser_<stream>-<container>` | that container's lines on that stream | 1 |
//! | `fluentbit.io/parser-<container>` | that container's lines | 2 |
//! | `fluentbit.io/parser_<stream>` | every container's lines on that stream | 3 |
//! | `fluentbit.io/parser` | every container's lines | 4 |
//!
//! A container-specific annotation beats a pod-wide one, and a
//! stream-specific one applies to its stream only, as in fluent-bit's
//! kubernetes filter. The value names one parser. An annotation beats
//! every route: it is the pod owner's statement of what the container
//! writes.
//!
//! **Parser names**: rosetta's own (docs/formats.md), a `[[parser]]` or a
//! `parsers_file` entry, or a fluent-bit stock name, mapped by [`STOCK`] to
//! its built-in equivalent.

use crate::config::{Config, ConfigError, ConfigProblem, NameAt, Route, Stream};
use crate::formats::auto::Format;
use crate::record::{self, Kind, Member};

/// A built-in parser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Builtin {
    /// Pass the record through unchanged.
    None,
    /// Pick the format from the line's first bytes ([`crate::formats::auto`]).
    Auto,
    /// One format. `Format::Envoy` is the whole Envoy family (text and
    /// JSON, told apart per line), as `rosetta_envoy` applies it.
    Format(Format),
}

/// rosetta's own parser names: `none`, `auto`, each format's name
/// (docs/formats.md) and `istio` for the Envoy family.
pub const BUILTIN: &[(&str, Builtin)] = &[
    ("none", Builtin::None),
    ("auto", Builtin::Auto),
    ("envoy", Builtin::Format(Format::Envoy)),
    ("istio", Builtin::Format(Format::Envoy)),
    ("envoy-json", Builtin::Format(Format::EnvoyJson)),
    ("nginx-ingress", Builtin::Format(Format::NginxIngress)),
    ("json", Builtin::Format(Format::Json)),
    ("logfmt", Builtin::Format(Format::Logfmt)),
    ("klog", Builtin::Format(Format::Klog)),
    ("go-log", Builtin::Format(Format::GoLog)),
    ("nginx-error", Builtin::Format(Format::NginxError)),
    ("apache", Builtin::Format(Format::Apache)),
    ("nginx", Builtin::Format(Format::Nginx)),
    ("apache-error", Builtin::Format(Format::ApacheError)),
    ("syslog-rfc5424", Builtin::Format(Format::Syslog5424)),
    ("syslog-rfc3164", Builtin::Format(Format::Syslog3164)),
];

/// fluent-bit's stock `parsers.conf` names and the built-in each maps to.
/// `cri` is the runtime's envelope, which rosetta always splits: the
/// message then goes to `auto`. `mongodb`, `kube-custom` (a tag parser)
/// and `kmsg-netfilter-log` have no equivalent: load fluent-bit's file with
/// `parsers_file` to run their regexes.
pub const STOCK: &[(&str, Builtin)] = &[
    ("apache", Builtin::Format(Format::Apache)),
    ("apache2", Builtin::Format(Format::Apache)),
    ("apache_error", Builtin::Format(Format::ApacheError)),
    ("nginx", Builtin::Format(Format::Nginx)),
    ("k8s-nginx-ingress", Builtin::Format(Format::NginxIngress)),
    ("json", Builtin::Format(Format::Json)),
    ("docker", Builtin::Format(Format::Json)),
    ("logfmt", Builtin::Format(Format::Logfmt)),
    ("docker-daemon", Builtin::Format(Format::Logfmt)),
    ("syslog-rfc5424", Builtin::Format(Format::Syslog5424)),
    ("syslog-rfc3164", Builtin::Format(Format::Syslog3164)),
    ("syslog-rfc3164-local", Builtin::Format(Format::Syslog3164)),
    ("envoy", Builtin::Format(Format::Envoy)),
    ("istio-envoy-proxy", Builtin::Format(Format::Envoy)),
    ("cri", Builtin::Auto),
];

/// The parser names, as the table in `docs/configuration.md`.
pub fn names_table() -> String {
    let label = |b: Builtin| match b {
        Builtin::None => "pass the record through unchanged".to_string(),
        Builtin::Auto => "pick the format from the line's first bytes".to_string(),
        Builtin::Format(f) => format!("the `{}` format", f.name()),
    };
    let mut s = String::from(
        "| name | what it runs | also known as (fluent-bit stock names) |\n|---|---|---|\n",
    );
    for &(name, b) in BUILTIN {
        let stock: Vec<String> = STOCK
            .iter()
            .filter(|&&(_, sb)| sb == b)
            .map(|(n, _)| format!("`{n}`"))
            .collect();
        let what = if name == "istio" || name == "envoy" {
            "the Envoy family: Envoy and Istio text, Envoy/Istio JSON, told apart per line"
                .to_string()
        } else {
            label(b)
        };
        s.push_str(&format!("| `{name}` | {what} | {} |\n", stock.join(", ")));
    }
    s
}

/// A parser a route or annotation names, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParserRef {
    /// A built-in one.
    Builtin(Builtin),
    /// The n-th user parser.
    User(usize),
}

/// A name the configuration defines: a `[[parser]]` or `parsers_file`
/// entry (a user regex parser, or another name for a built-in format).
pub type Named = (String, ParserRef);

/// Resolves `name` among the built-ins, the configuration's own names
/// (`named`, first wins) and the stock names.
pub fn resolve(name: &str, named: &[Named]) -> Option<ParserRef> {
    let builtin = |list: &[(&str, Builtin)]| {
        list.iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, b)| ParserRef::Builtin(b))
    };
    builtin(BUILTIN)
        .or_else(|| named.iter().find(|(n, _)| n == name).map(|&(_, p)| p))
        .or_else(|| builtin(STOCK))
}

/// Who wrote a record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Identity<'r> {
    /// The tag.
    pub tag: &'r [u8],
    /// The namespace (escaped JSON string content when from the record).
    pub namespace: Option<&'r [u8]>,
    /// The pod.
    pub pod: Option<&'r [u8]>,
    /// The container.
    pub container: Option<&'r [u8]>,
    /// The stream.
    pub stream: Option<Stream>,
    /// The pod's labels, as a JSON object.
    pub labels: Option<&'r [u8]>,
    /// The pod's annotations, as a JSON object.
    pub annotations: Option<&'r [u8]>,
}

/// Namespace, pod and container from a tag; see the module documentation.
pub fn from_tag<'t>(tag: &'t [u8], prefix: &[u8]) -> Option<(&'t [u8], &'t [u8], &'t [u8])> {
    let rest = tag.strip_prefix(prefix)?;
    if let Some(file) = rest.strip_prefix(b"var.log.containers.") {
        let file = file.strip_suffix(b".log").unwrap_or(file);
        let mut parts = file.splitn(3, |&b| b == b'_');
        let (pod, namespace, tail) = (parts.next()?, parts.next()?, parts.next()?);
        // `<container>-<id>`: the id is 64 hex digits.
        let container = match tail.iter().rposition(|&b| b == b'-') {
            Some(dash) if tail.len() - dash - 1 == 64 => tail.get(..dash)?,
            _ => tail,
        };
        return nonempty3(namespace, pod, container);
    }
    let first = rest.iter().position(|&b| b == b'.')?;
    let last = rest.iter().rposition(|&b| b == b'.')?;
    if last <= first {
        return None;
    }
    nonempty3(
        rest.get(..first)?,
        rest.get(first + 1..last)?,
        rest.get(last + 1..)?,
    )
}

fn nonempty3<'t>(a: &'t [u8], b: &'t [u8], c: &'t [u8]) -> Option<(&'t [u8], &'t [u8], &'t [u8])> {
    (!a.is_empty() && !b.is_empty() && !c.is_empty()).then_some((a, b, c))
}

/// The identity of a record: `members` are its top-level members, `scratch`
/// a reused list for the `kubernetes` map's.
pub fn identify<'r>(
    tag: &'r [u8],
    members: &[Member<'r>],
    prefix: &[u8],
    scratch: &mut Vec<Member<'r>>,
) -> Identity<'r> {
    let mut id = Identity {
        tag,
        ..Identity::default()
    };
    if let Some((ns, pod, container)) = from_tag(tag, prefix) {
        id.namespace = Some(ns);
        id.pod = Some(pod);
        id.container = Some(container);
    }
    for m in members {
        match (m.key, m.kind) {
            (b"stream", Kind::String) => id.stream = Stream::from_bytes(m.value),
            (b"kubernetes", Kind::Object) => {
                scratch.clear();
                if record::members(m.json, scratch).is_err() {
                    continue;
                }
                for k in scratch.iter() {
                    match (k.key, k.kind) {
                        (b"namespace_name", Kind::String) => id.namespace = Some(k.value),
                        (b"pod_name", Kind::String) => id.pod = Some(k.value),
                        (b"container_name", Kind::String) => id.container = Some(k.value),
                        (b"labels", Kind::Object) => id.labels = Some(k.json),
                        (b"annotations", Kind::Object) => id.annotations = Some(k.json),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    id
}

/// Whether escaped JSON string content `escaped` reads as `plain`.
pub fn json_str_eq(escaped: &[u8], plain: &[u8]) -> bool {
    if escaped.contains(&b'\\') {
        crate::msgpack::unescape(escaped) == plain
    } else {
        escaped == plain
    }
}

/// The value of `key` in the JSON object `object` (a string's content,
/// escapes intact), when it is a string.
pub fn string_member<'o>(
    object: &'o [u8],
    key: &str,
    scratch: &mut Vec<Member<'o>>,
) -> Option<&'o [u8]> {
    scratch.clear();
    record::members(object, scratch).ok()?;
    scratch
        .iter()
        .find(|m| m.kind == Kind::String && json_str_eq(m.key, key.as_bytes()))
        .map(|m| m.value)
}

/// The parser annotation that applies to this container and stream: its
/// key and value (escaped JSON string content), most specific first; see
/// the module documentation.
pub fn annotated<'o>(
    annotations: &'o [u8],
    container: Option<&[u8]>,
    stream: Option<Stream>,
    scratch: &mut Vec<Member<'o>>,
) -> Option<(&'o [u8], &'o [u8])> {
    scratch.clear();
    record::members(annotations, scratch).ok()?;
    let mut best: Option<(u8, &'o [u8], &'o [u8])> = None;
    for m in scratch.iter() {
        if m.kind != Kind::String {
            continue;
        }
        let Some(rank) = annotation_rank(m.key, container, stream) else {
            continue;
        };
        if best.is_none_or(|(r, _, _)| rank < r) {
            best = Some((rank, m.key, m.value));
        }
    }
    best.map(|(_, k, v)| (k, v))
}

/// The rank of a `fluentbit.io/parser...` annotation key for this
/// container and stream (1 most specific), or `None` when it does not
/// apply. Keys are compared as written (annotation keys never need escapes,
/// `/` aside, which fluent-bit does not escape).
fn annotation_rank(key: &[u8], container: Option<&[u8]>, stream: Option<Stream>) -> Option<u8> {
    let rest = key.strip_prefix(b"fluentbit.io/parser")?;
    let (for_stream, rest) = if let Some(r) = rest.strip_prefix(b"_stdout") {
        (Some(Stream::Stdout), r)
    } else if let Some(r) = rest.strip_prefix(b"_stderr") {
        (Some(Stream::Stderr), r)
    } else {
        (None, rest)
    };
    let for_container = match rest {
        [] => None,
        [b'-', name @ ..] if !name.is_empty() => Some(name),
        _ => return None,
    };
    if for_stream.is_some() && for_stream != stream {
        return None;
    }
    if for_container.is_some() && for_container != container {
        return None;
    }
    Some(match (for_stream.is_some(), for_container.is_some()) {
        (true, true) => 1,
        (false, true) => 2,
        (true, false) => 3,
        (false, false) => 4,
    })
}

/// A route with its parsers resolved.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The route as configured.
    pub route: Route,
    /// Its parsers.
    pub parsers: Vec<ParserRef>,
}

/// The routes and default chain of a configuration, every name resolved.
#[derive(Clone, Debug)]
pub struct Router {
    /// The routes, in order.
    pub routes: Vec<Resolved>,
    /// The default chain.
    pub default: Vec<ParserRef>,
    /// The configuration's own names.
    users: Vec<Named>,
    /// Every parser once, so that a name resolves to a one-parser chain.
    singles: Vec<ParserRef>,
}

impl Router {
    /// Resolves every name `config` uses; `user` are the configuration's
    /// own names. An unknown name is an error at its line.
    pub fn new(file: &str, config: &Config, user: &[Named]) -> Result<Router, ConfigError> {
        let chain = |names: &[NameAt]| -> Result<Vec<ParserRef>, ConfigError> {
            names
                .iter()
                .map(|n| {
                    resolve(&n.name, user).ok_or_else(|| ConfigError {
                        file: file.to_string(),
                        line: n.line,
                        problem: ConfigProblem::UnknownParser(n.name.clone()),
                    })
                })
                .collect()
        };
        let routes = config
            .routes
            .iter()
            .map(|r| {
                Ok(Resolved {
                    route: r.clone(),
                    parsers: chain(&r.parsers)?,
                })
            })
            .collect::<Result<_, ConfigError>>()?;
        let mut singles: Vec<ParserRef> = BUILTIN
            .iter()
            .map(|&(_, b)| ParserRef::Builtin(b))
            .collect();
        singles.extend(user.iter().map(|&(_, p)| p));
        Ok(Router {
            routes,
            default: chain(&config.parsers_chain)?,
            users: user.to_vec(),
            singles,
        })
    }

    /// The first route `id` matches.
    pub fn route(&self, id: &Identity<'_>) -> Option<&Resolved> {
        self.routes.iter().find(|r| matches(&r.route, id))
    }
}

/// Whether a route matches a record's identity: every key present must.
fn matches(route: &Route, id: &Identity<'_>) -> bool {
    let name = |glob: &Option<crate::glob::Glob>, value: Option<&[u8]>| match glob {
        None => true,
        Some(g) => value.is_some_and(|v| g.matches(v)),
    };
    // Labels and annotations are read only for a route that asks for them.
    let object = |wanted: &[(String, crate::glob::Glob)], object: Option<&[u8]>| {
        if wanted.is_empty() {
            return true;
        }
        let Some(object) = object else { return false };
        let mut list = Vec::new();
        if record::members(object, &mut list).is_err() {
            return false;
        }
        wanted.iter().all(|(key, glob)| {
            list.iter().any(|m| {
                m.kind == Kind::String
                    && json_str_eq(m.key, key.as_bytes())
                    && glob.matches(m.value)
            })
        })
    };
    name(&route.tag, Some(id.tag))
        && name(&route.namespace, id.namespace)
        && name(&route.pod, id.pod)
        && name(&route.container, id.container)
        && route.stream.is_none_or(|s| id.stream == Some(s))
        && object(&route.labels, id.labels)
        && object(&route.annotations, id.annotations)
}

/// What [`Router::decide`] chose for a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// A parser named by an annotation (an index into the one-parser chains).
    Annotation(usize),
    /// The n-th route.
    Route(usize),
    /// The default chain.
    Default,
}

impl Router {
    /// Annotation, else first matching route, else default; `Err` carries
    /// the annotation key and value when the value names no parser.
    pub fn decide<'o>(
        &self,
        id: &Identity<'o>,
        annotations: bool,
        scratch: &mut Vec<Member<'o>>,
    ) -> Result<Decision, (&'o [u8], &'o [u8])> {
        let found = id
            .annotations
            .filter(|_| annotations)
            .and_then(|object| annotated(object, id.container, id.stream, scratch));
        if let Some((key, value)) = found {
            let wanted = std::str::from_utf8(value)
                .ok()
                .and_then(|name| resolve(name, &self.users));
            return match wanted.and_then(|w| self.singles.iter().position(|&p| p == w)) {
                Some(at) => Ok(Decision::Annotation(at)),
                None => Err((key, value)),
            };
        }
        Ok(self
            .routes
            .iter()
            .position(|r| matches(&r.route, id))
            .map_or(Decision::Default, Decision::Route))
    }

    /// The chain a decision names.
    pub fn chain(&self, decision: Decision) -> &[ParserRef] {
        match decision {
            Decision::Annotation(at) => self.singles.get(at..=at).unwrap_or_default(),
            Decision::Route(i) => self.routes.get(i).map_or(&[][..], |r| &r.parsers),
            Decision::Default => &self.default,
        }
    }
}

/// How many decisions [`DecisionCache`] keeps.
pub const CACHE_SLOTS: usize = 256;
/// How many times a cached decision is used before it is made again.
pub const CACHE_USES: u32 = 1024;

/// Decisions remembered per writer, so that a record does not pay for
/// reading its `kubernetes` map (labels, annotations: often a kilobyte or
/// more) when the same container's previous record already did.
///
/// The key is the tag, the stream, and the map's length, its last 8 bytes
/// and four 8-byte words spread over it: fluent-bit's kubernetes filter writes the
/// same map, byte for byte, for every record of a container, so a key
/// match means the same writer. A pod whose annotations or labels are
/// edited in place almost always changes the map's length or a sampled
/// word; to bound the case where neither changes, every decision is made
/// afresh after [`CACHE_USES`] uses. The map is metadata from the API
/// server, not text a client controls. Direct-mapped, [`CACHE_SLOTS`]
/// entries, no allocation after the first record.
#[derive(Debug, Default)]
pub struct DecisionCache {
    slots: Vec<(u64, u32, Decision)>,
}

impl DecisionCache {
    /// The key of a writer.
    pub fn key(tag: &[u8], stream: Option<&[u8]>, kubernetes: Option<&[u8]>) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut mix = |w: u64| {
            h = (h ^ w).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
        };
        // The first eight bytes of `b` (zero-padded), as one load when
        // there are eight.
        let word = |b: &[u8]| match b.first_chunk::<8>() {
            Some(w) => u64::from_le_bytes(*w),
            None => b
                .iter()
                .rev()
                .fold(0u64, |w, &byte| w << 8 | u64::from(byte)),
        };
        for i in (0..tag.len()).step_by(8) {
            mix(word(tag.get(i..).unwrap_or_default()));
        }
        mix(tag.len() as u64);
        mix(stream.map_or(0, |s| word(s) ^ 1));
        if let Some(map) = kubernetes {
            mix(map.len() as u64 | 1 << 63);
            let step = map.len() / 4;
            for i in 0..4 {
                mix(word(map.get(i * step..).unwrap_or_default()));
            }
            mix(word(
                map.get(map.len().saturating_sub(8)..).unwrap_or_default(),
            ));
        }
        h
    }

    /// The decision cached under `key`, counting one use.
    pub fn get(&mut self, key: u64) -> Option<Decision> {
        let slot = self.slots.get_mut(key as usize % CACHE_SLOTS)?;
        if slot.0 != key || slot.1 == 0 {
            return None;
        }
        slot.1 -= 1;
        Some(slot.2)
    }

    /// Remembers a decision.
    pub fn put(&mut self, key: u64, decision: Decision) {
        if self.slots.is_empty() {
            self.slots = vec![(0, 0, Decision::Default); CACHE_SLOTS];
        }
        if let Some(slot) = self.slots.get_mut(key as usize % CACHE_SLOTS) {
            *slot = (key, CACHE_USES, decision);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members_of(json: &str) -> Vec<Member<'_>> {
        let mut list = Vec::new();
        record::members(json.as_bytes(), &mut list).unwrap();
        list
    }

    #[test]
    fn tags() {
        type Parts = Option<(&'static str, &'static str, &'static str)>;
        let cases: &[(&str, &str, Parts)] = &[
            (
                "tag_regex layout",
                "kube.shop.productpage-v1-6b746f74dc-9stvs.istio-proxy",
                Some(("shop", "productpage-v1-6b746f74dc-9stvs", "istio-proxy")),
            ),
            (
                "pod name with dots",
                "kube.shop.web.v2.example.app",
                Some(("shop", "web.v2.example", "app")),
            ),
            (
                "fluent-bit default layout",
                "kube.var.log.containers.productpage-v1-6b746f74dc-9stvs_shop_istio-proxy-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log",
                Some(("shop", "productpage-v1-6b746f74dc-9stvs", "istio-proxy")),
            ),
            (
                "default layout without id",
                "kube.var.log.containers.web_shop_app.log",
                Some(("shop", "web", "app")),
            ),
            ("too few parts", "kube.shop.app", None),
            ("another prefix", "tail.0", None),
            ("empty part", "kube..pod.c", None),
        ];
        for (name, tag, want) in cases {
            let got = from_tag(tag.as_bytes(), b"kube.");
            let want = want.map(|(a, b, c)| (a.as_bytes(), b.as_bytes(), c.as_bytes()));
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn the_kubernetes_map_wins_over_the_tag() {
        let record = r#"{"log":"x","stream":"stderr","kubernetes":{"pod_name":"p2","namespace_name":"ns2","container_name":"c2","labels":{"app":"a"},"annotations":{"fluentbit.io/parser":"json"}}}"#;
        let members = members_of(record);
        let mut scratch = Vec::new();
        let id = identify(b"kube.ns.p.c", &members, b"kube.", &mut scratch);
        assert_eq!(id.namespace, Some(&b"ns2"[..]));
        assert_eq!(id.pod, Some(&b"p2"[..]));
        assert_eq!(id.container, Some(&b"c2"[..]));
        assert_eq!(id.stream, Some(Stream::Stderr));
        assert_eq!(id.labels, Some(&br#"{"app":"a"}"#[..]));
        assert!(id.annotations.is_some());
        let bare = identify(
            b"other",
            &members_of(r#"{"log":"x"}"#),
            b"kube.",
            &mut scratch,
        );
        assert_eq!((bare.namespace, bare.stream), (None, None));
    }

    /// Every precedence rule of the annotations, as a table: the
    /// annotations, the record's container and stream, the value chosen.
    #[test]
    fn annotation_precedence() {
        let all = r#"{"fluentbit.io/parser":"pod","fluentbit.io/parser_stdout":"pod-out","fluentbit.io/parser_stderr":"pod-err","fluentbit.io/parser-app":"app","fluentbit.io/parser_stdout-app":"app-out","fluentbit.io/parser_stderr-side":"side-err"}"#;
        let cases: &[(&str, &str, &str, Stream, Option<&str>)] = &[
            (
                "stream and container beat all",
                all,
                "app",
                Stream::Stdout,
                Some("app-out"),
            ),
            (
                "container beats pod-wide stream",
                all,
                "app",
                Stream::Stderr,
                Some("app"),
            ),
            (
                "stream-specific pod-wide",
                all,
                "other",
                Stream::Stderr,
                Some("pod-err"),
            ),
            (
                "another container's is ignored",
                all,
                "side",
                Stream::Stdout,
                Some("pod-out"),
            ),
            (
                "its own stream only",
                all,
                "side",
                Stream::Stderr,
                Some("side-err"),
            ),
            (
                "pod-wide",
                r#"{"fluentbit.io/parser":"pod"}"#,
                "x",
                Stream::Stdout,
                Some("pod"),
            ),
            (
                "stream-only for the other stream",
                r#"{"fluentbit.io/parser_stderr":"e"}"#,
                "x",
                Stream::Stdout,
                None,
            ),
            (
                "container-only for another container",
                r#"{"fluentbit.io/parser-web":"w"}"#,
                "x",
                Stream::Stdout,
                None,
            ),
            (
                "container beats pod",
                r#"{"fluentbit.io/parser-x":"mine","fluentbit.io/parser":"pod"}"#,
                "x",
                Stream::Stdout,
                Some("mine"),
            ),
            (
                "order does not matter",
                r#"{"fluentbit.io/parser":"pod","fluentbit.io/parser-x":"mine"}"#,
                "x",
                Stream::Stdout,
                Some("mine"),
            ),
            (
                "other annotations",
                r#"{"fluentbit.io/exclude":"true","fluentbit.io/parserx":"no"}"#,
                "x",
                Stream::Stdout,
                None,
            ),
            (
                "not a string",
                r#"{"fluentbit.io/parser":1}"#,
                "x",
                Stream::Stdout,
                None,
            ),
        ];
        for (name, annotations, container, stream, want) in cases {
            let mut scratch = Vec::new();
            let got = annotated(
                annotations.as_bytes(),
                Some(container.as_bytes()),
                Some(*stream),
                &mut scratch,
            )
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned());
            assert_eq!(got.as_deref(), *want, "{name}");
        }
    }

    #[test]
    fn names_resolve() {
        let user = vec![
            ("mine".to_string(), ParserRef::User(0)),
            ("envoy".to_string(), ParserRef::User(1)),
        ];
        assert_eq!(
            resolve("auto", &user),
            Some(ParserRef::Builtin(Builtin::Auto))
        );
        assert_eq!(resolve("mine", &user), Some(ParserRef::User(0)));
        // rosetta's own names come first, then user parsers, then stock.
        let envoy = Some(ParserRef::Builtin(Builtin::Format(Format::Envoy)));
        assert_eq!(resolve("envoy", &user), envoy);
        assert_eq!(resolve("istio-envoy-proxy", &[]), envoy);
        assert_eq!(
            resolve("k8s-nginx-ingress", &[]),
            Some(ParserRef::Builtin(Builtin::Format(Format::NginxIngress)))
        );
        // Every format has its own name.
        for f in Format::ALL {
            let want = Some(ParserRef::Builtin(Builtin::Format(f)));
            assert_eq!(resolve(f.name(), &[]), want, "{f:?}");
        }
        assert_eq!(resolve("onigmo", &user), None);
    }

    #[test]
    fn the_names_table_is_current() {
        let doc = include_str!("../docs/configuration.md");
        let table = names_table();
        assert!(
            doc.contains(&table),
            "docs/configuration.md must contain:\n{table}"
        );
    }

    #[test]
    fn routes_match_in_order() {
        let config = Config::parse(
            "rosetta.toml",
            r#"
[[route]]
name = "web stderr"
container = "web"
stream = "stderr"
parsers = "none"
[[route]]
name = "labelled"
labels = { app = "ord*" }
parsers = "nginx-ingress"
[[route]]
name = "by tag"
tag = "kube.shop.*"
parsers = "envoy"
[[route]]
name = "unknown"
container = "x"
parsers = "onigmo"
"#,
        );
        let config = config.unwrap();
        let e = Router::new("rosetta.toml", &config, &[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "rosetta.toml:18: unknown parser 'onigmo' (not built in, not a fluent-bit stock name, not a [[parser]], not in parsers_file)"
        );
        let mut config = config;
        config.routes.pop();
        let router = Router::new("rosetta.toml", &config, &[]).unwrap();
        let name = |id: &Identity<'_>| router.route(id).map(|r| r.route.name.clone());
        let web_err = Identity {
            tag: b"kube.shop.p.web",
            container: Some(b"web"),
            stream: Some(Stream::Stderr),
            ..Identity::default()
        };
        assert_eq!(name(&web_err).as_deref(), Some("web stderr"));
        let web_out = Identity {
            stream: Some(Stream::Stdout),
            ..web_err
        };
        assert_eq!(name(&web_out).as_deref(), Some("by tag"));
        let labelled = Identity {
            labels: Some(br#"{"app":"orders"}"#),
            ..web_out
        };
        assert_eq!(name(&labelled).as_deref(), Some("labelled"));
        let nothing = Identity {
            tag: b"kube.other.p.c",
            ..Identity::default()
        };
        assert_eq!(name(&nothing), None);
    }
}
