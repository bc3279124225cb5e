//! The schema: every field rosetta can put in a record, each with exactly
//! one JSON type, the Elasticsearch mapping that type gets, and its name
//! under the Elastic Common Schema.
//!
//! [`FIELDS`] is the one table. The index templates
//! (`fluent-bit-conf/elasticsearch/*.json`, [`template`]) and the reference
//! in `docs/schema.md` ([`reference_table`]) are generated from it, and the
//! tests hold the parsers' own field tables, what the module emits on the
//! bundled corpora, and the Kibana saved objects to it. A value that does
//! not fit its field's type is never written with another type: the parser
//! leaves the field out and flags the record (`rosetta.suspect:
//! "out-of-range"`), keeping the raw line.
//!
//! Two schemas name the same fields:
//!
//! - `rosetta` (the default): the names of fluent-bit's stock parsers, as
//!   the formats write them. fluent-bit's `es` output with `Replace_Dots
//!   On` (the shipped configuration) stores `rosetta.reason` as
//!   `rosetta_reason`; the `rosetta` template uses those stored names.
//! - `ecs`: [`ecs`] renames the top-level fields a parser writes to their
//!   ECS names (`http.request.method`, `url.original`, ...) and converts
//!   the values that need it (`event.duration` is in nanoseconds). Dotted
//!   names are written as dotted keys, which Elasticsearch expands into
//!   objects: the `es` output needs `Replace_Dots Off`.
//!
//! The same name has one type across every format; where one name means
//! different things in different formats (`host` is a client address in
//! access logs, the sending host in syslog), the table has one row per
//! meaning, the formats of the rows do not overlap, and each row has its
//! own ECS name.
//!
//! Cost: [`ecs`] is a `match` on the field name, called only when the
//! `ecs` schema is configured; the default schema costs nothing per record.

use crate::formats::{
    Value, apache_error, clf, envoy, golog, json, klog, logfmt, nginx_error, nginx_ingress, syslog,
};
use serde_json::{Map, Value as Json, json};

/// Which names the fields are written under.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Schema {
    /// The formats' own names (fluent-bit's stock parsers').
    #[default]
    Rosetta,
    /// Elastic Common Schema names, with converted values.
    Ecs,
}

impl Schema {
    /// The names `rosetta.toml`'s `schema` accepts.
    pub const NAMES: &'static [&'static str] = &["rosetta", "ecs"];

    /// The schema a `schema` value names.
    pub fn from_name(name: &str) -> Option<Schema> {
        match name {
            "rosetta" => Some(Schema::Rosetta),
            "ecs" => Some(Schema::Ecs),
            _ => None,
        }
    }

    /// Its name.
    pub fn name(self) -> &'static str {
        match self {
            Schema::Rosetta => "rosetta",
            Schema::Ecs => "ecs",
        }
    }
}

/// A field's JSON type: the one it has in every record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonType {
    /// A string.
    String,
    /// An integer (fits an `i64`).
    Integer,
    /// A number, possibly with decimals.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An object.
    Object,
    /// Whatever the input record had under that key: `rosetta.original.*`
    /// only, which keeps an input member a parser's field displaced.
    AsInput,
}

impl JsonType {
    /// The name used in the documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Integer => "integer",
            JsonType::Number => "number",
            JsonType::Boolean => "boolean",
            JsonType::Object => "object",
            JsonType::AsInput => "as input",
        }
    }
}

/// A field's Elasticsearch mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EsType {
    /// `keyword`: exact values, aggregatable.
    Keyword,
    /// `keyword`, plus a `text` sub-field `<name>.text` for full-text search.
    KeywordText,
    /// `text`: full-text search only.
    Text,
    /// `long`.
    Long,
    /// `double`.
    Double,
    /// `date` (milliseconds; RFC 3339 with any number of decimals).
    Date,
    /// `ip` (`ignore_malformed`: an address that is not one is kept in
    /// `_source` and not indexed, never a rejected record).
    Ip,
    /// `boolean`.
    Boolean,
    /// `flattened`: a whole object as one field of keywords, whatever its
    /// keys and their types.
    Flattened,
    /// `object`, with declared sub-fields.
    Object,
}

impl EsType {
    /// The name used in the documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            EsType::Keyword => "keyword",
            EsType::KeywordText => "keyword + text",
            EsType::Text => "text",
            EsType::Long => "long",
            EsType::Double => "double",
            EsType::Date => "date",
            EsType::Ip => "ip",
            EsType::Boolean => "boolean",
            EsType::Flattened => "flattened",
            EsType::Object => "object",
        }
    }

    /// The mapping of a leaf field of this type.
    fn mapping(self) -> Json {
        match self {
            // 8191 characters of UTF-8 stay under Lucene's 32766-byte term
            // limit: a longer value is kept in `_source`, not indexed,
            // never a rejected record.
            EsType::Keyword => json!({ "type": "keyword", "ignore_above": IGNORE_ABOVE }),
            EsType::KeywordText => json!({
                "type": "keyword",
                "ignore_above": IGNORE_ABOVE,
                "fields": { "text": { "type": "text" } }
            }),
            EsType::Text => json!({ "type": "text" }),
            EsType::Long => json!({ "type": "long" }),
            EsType::Double => json!({ "type": "double" }),
            EsType::Date => json!({ "type": "date" }),
            EsType::Ip => json!({ "type": "ip", "ignore_malformed": true }),
            EsType::Boolean => json!({ "type": "boolean" }),
            EsType::Flattened => json!({
                "type": "flattened",
                "ignore_above": IGNORE_ABOVE,
                "depth_limit": FLATTENED_DEPTH
            }),
            EsType::Object => json!({ "type": "object" }),
        }
    }
}

/// The longest keyword indexed, in characters.
const IGNORE_ABOVE: u32 = 8191;

/// How deep a `flattened` field's object may nest (Elasticsearch's default
/// is 20, which a JSON log line can exceed).
const FLATTENED_DEPTH: u32 = 64;

/// How a value changes when the field gets its ECS name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conversion {
    /// None: the value is written as it is.
    None,
    /// An integer of milliseconds becomes nanoseconds (`event.duration`).
    MillisToNanos,
    /// A decimal of seconds becomes an integer of nanoseconds
    /// (`event.duration`); digits past the ninth decimal are dropped.
    SecondsToNanos,
    /// `HTTP/1.1` becomes `1.1` (`http.version`); a value without the
    /// `HTTP/` prefix is written as it is.
    HttpVersion,
}

impl Conversion {
    /// The documentation of the conversion.
    pub fn as_str(self) -> &'static str {
        match self {
            Conversion::None => "",
            Conversion::MillisToNanos => "ms → ns",
            Conversion::SecondsToNanos => "s → ns (integer)",
            Conversion::HttpVersion => "`HTTP/1.1` → `1.1`",
        }
    }
}

/// One field.
#[derive(Clone, Copy, Debug)]
pub struct FieldDoc {
    /// The key rosetta writes. For a field inside an object (`within` not
    /// empty), the key inside that object. A name ending in `.*` stands for
    /// every key with that prefix.
    pub name: &'static str,
    /// The object the field sits in (`kubernetes`), or `""` at the top
    /// level.
    pub within: &'static str,
    /// Its JSON type.
    pub json: JsonType,
    /// Its Elasticsearch mapping.
    pub es: EsType,
    /// Its name under the `ecs` schema; `""` when it keeps its name.
    pub ecs: &'static str,
    /// How its value changes under the `ecs` schema.
    pub convert: Conversion,
    /// What writes it: format names (as `rosetta.reason` and
    /// docs/formats.md name them) or one of [`FLUENT_BIT`], [`MODULE`],
    /// [`FILTER`], [`MEANING`], [`LIMITER`], [`DEDUPE`].
    pub from: &'static [&'static str],
    /// What it holds.
    pub doc: &'static str,
}

impl FieldDoc {
    /// The field's full name as rosetta writes it (`kubernetes.pod_name`
    /// for a field inside `kubernetes`).
    pub fn full_name(&self) -> String {
        if self.within.is_empty() {
            self.name.to_string()
        } else {
            format!("{}.{}", self.within, self.name)
        }
    }

    /// Its name under `schema`, before storage.
    pub fn name_in(&self, schema: Schema) -> &'static str {
        match schema {
            Schema::Ecs if !self.ecs.is_empty() => self.ecs,
            _ => self.name,
        }
    }

    /// Its JSON type under `schema`.
    pub fn json_in(&self, schema: Schema) -> JsonType {
        match (schema, self.convert) {
            (Schema::Ecs, Conversion::MillisToNanos | Conversion::SecondsToNanos) => {
                JsonType::Integer
            }
            _ => self.json,
        }
    }

    /// Its Elasticsearch mapping under `schema`.
    pub fn es_in(&self, schema: Schema) -> EsType {
        match (schema, self.convert) {
            (Schema::Ecs, Conversion::MillisToNanos | Conversion::SecondsToNanos) => EsType::Long,
            _ => self.es,
        }
    }

    /// The field's path in Elasticsearch, as the shipped `es` output
    /// stores it: under `rosetta`, `Replace_Dots On` turns every dot in a
    /// key into `_` (`rosetta.reason` → `rosetta_reason`, a pattern
    /// `rosetta.original.*` → `rosetta_original_*`); under `ecs`,
    /// `Replace_Dots Off` and each dot is an object level (`rosetta.original.*`
    /// is the one field `rosetta.original`).
    pub fn stored_name(&self, schema: Schema) -> String {
        let name = self.name_in(schema);
        match schema {
            Schema::Rosetta => {
                let key = name.replace('.', "_");
                if self.within.is_empty() {
                    key
                } else {
                    format!("{}.{}", self.within, key)
                }
            }
            Schema::Ecs => {
                let name = name.strip_suffix(".*").unwrap_or(name);
                if self.within.is_empty() {
                    name.to_string()
                } else {
                    format!("{}.{}", self.within, name)
                }
            }
        }
    }
}

/// Written by fluent-bit (the tail input's parsers, the kubernetes filter)
/// and passed through.
pub const FLUENT_BIT: &str = "fluent-bit";
/// Written by every entry point of the module.
pub const MODULE: &str = "module";
/// Written by `rosetta_filter` on a parsed record.
pub const FILTER: &str = "rosetta_filter";
/// Written by `rosetta_filter`'s severity and message-template step.
pub const MEANING: &str = "meaning";
/// Written by the rate limiter's summary records.
pub const LIMITER: &str = "limiter";
/// Written by the duplicate-line folding.
pub const DEDUPE: &str = "dedupe";

const APACHE: &str = clf::APACHE;
const NGINX: &str = clf::NGINX;
const ENVOY: &str = envoy::ENVOY;
const ISTIO: &str = envoy::ISTIO;
const ENVOY_JSON: &str = envoy::ENVOY_JSON;
const INGRESS: &str = nginx_ingress::NGINX_INGRESS;
const APACHE_ERROR: &str = apache_error::APACHE_ERROR;
const NGINX_ERROR: &str = nginx_error::NGINX_ERROR;
const KLOG: &str = klog::KLOG;
const GO_LOG: &str = golog::GO_LOG;
const SYSLOG5424: &str = syslog::RFC5424;
const SYSLOG3164: &str = syslog::RFC3164;

const ENVOY_ALL: &[&str] = &[ENVOY, ISTIO, ENVOY_JSON];
const ISTIO_NAMES: &[&str] = &[ISTIO, ENVOY_JSON];
const SYSLOG: &[&str] = &[SYSLOG5424, SYSLOG3164];
const CLF_INGRESS: &[&str] = &[INGRESS, APACHE, NGINX];
const REQUEST_LINE: &[&str] = &[
    ENVOY,
    ISTIO,
    ENVOY_JSON,
    INGRESS,
    APACHE,
    NGINX,
    NGINX_ERROR,
];
const TIME_AS_WRITTEN: &[&str] = &[
    INGRESS,
    APACHE,
    NGINX,
    APACHE_ERROR,
    NGINX_ERROR,
    KLOG,
    GO_LOG,
    SYSLOG5424,
    SYSLOG3164,
    FLUENT_BIT,
    FILTER,
];
const MESSAGE: &[&str] = &[
    APACHE_ERROR,
    NGINX_ERROR,
    KLOG,
    GO_LOG,
    SYSLOG5424,
    SYSLOG3164,
    FLUENT_BIT,
];

/// A field with its ECS name and no conversion.
const fn field(
    name: &'static str,
    json: JsonType,
    es: EsType,
    ecs: &'static str,
    from: &'static [&'static str],
    doc: &'static str,
) -> FieldDoc {
    FieldDoc {
        name,
        within: "",
        json,
        es,
        ecs,
        convert: Conversion::None,
        from,
        doc,
    }
}

/// A field with a conversion under `ecs`.
const fn converted(
    name: &'static str,
    json: JsonType,
    es: EsType,
    ecs: &'static str,
    convert: Conversion,
    from: &'static [&'static str],
    doc: &'static str,
) -> FieldDoc {
    FieldDoc {
        name,
        within: "",
        json,
        es,
        ecs,
        convert,
        from,
        doc,
    }
}

/// A field of the kubernetes filter's `kubernetes` object.
const fn kubernetes(name: &'static str, es: EsType, doc: &'static str) -> FieldDoc {
    FieldDoc {
        name,
        within: "kubernetes",
        json: if matches!(es, EsType::Flattened) {
            JsonType::Object
        } else {
            JsonType::String
        },
        es,
        ecs: "",
        convert: Conversion::None,
        from: &[FLUENT_BIT],
        doc,
    }
}

use EsType as E;
use JsonType as J;

/// Every field, grouped by where it comes from.
pub const FIELDS: &[FieldDoc] = &[
    // What the pipeline writes before rosetta, passed through.
    field(
        "log",
        J::String,
        E::Text,
        "event.original",
        &[FLUENT_BIT],
        "The line (docker parser, `cri` multiline parser): kept when it is not parsed, parsed as suspect, or `keep_log` is set.",
    ),
    field(
        "message",
        J::String,
        E::Text,
        "",
        MESSAGE,
        "The message part of the line; also the line itself where fluent-bit's `cri` parser wrote it.",
    ),
    field(
        "stream",
        J::String,
        E::Keyword,
        "",
        &[FLUENT_BIT, FILTER],
        "`stdout` or `stderr`; added from a raw CRI line where the record has none.",
    ),
    field(
        "time",
        J::String,
        E::Keyword,
        "",
        TIME_AS_WRITTEN,
        "A time as the source wrote it: the runtime's RFC 3339 stamp (docker, CRI) or a parser's time (RFC 3339 UTC for access logs and RFC 5424, the layout as written for the others). A keyword, not a date: its layouts differ; the normalised time is `timestamp`.",
    ),
    field(
        "logtag",
        J::String,
        E::Keyword,
        "",
        &[FLUENT_BIT],
        "fluent-bit's `cri` parser: `F` (full line) or `P` (partial).",
    ),
    field(
        "_p",
        J::String,
        E::Keyword,
        "",
        &[FLUENT_BIT],
        "fluent-bit's `cri` multiline parser: `F` or `P`.",
    ),
    field(
        "kubernetes",
        J::Object,
        E::Object,
        "",
        &[FLUENT_BIT],
        "The kubernetes filter's metadata.",
    ),
    kubernetes("namespace_name", E::Keyword, "The pod's namespace."),
    kubernetes("pod_name", E::Keyword, "The pod."),
    kubernetes(
        "container_name",
        E::Keyword,
        "The container: the dashboard's service.",
    ),
    kubernetes("pod_id", E::Keyword, "The pod's UID."),
    kubernetes("host", E::Keyword, "The node."),
    kubernetes("pod_ip", E::Keyword, "The pod's IP."),
    kubernetes("docker_id", E::Keyword, "The container's ID."),
    kubernetes("container_hash", E::Keyword, "The image digest."),
    kubernetes("container_image", E::Keyword, "The image."),
    kubernetes(
        "labels",
        E::Flattened,
        "The pod's labels: flattened, so that `app` beside `app.kubernetes.io/name` cannot conflict.",
    ),
    kubernetes(
        "annotations",
        E::Flattened,
        "The pod's annotations: flattened.",
    ),
    // What rosetta_filter writes on every parsed record.
    field(
        "timestamp",
        J::String,
        E::Date,
        "",
        &[FILTER],
        "The record's time, RFC 3339 UTC with the source's precision (`time_key`; docs/timestamps.md).",
    ),
    field(
        "log_processed",
        J::Object,
        E::Flattened,
        "",
        &[json::JSON, logfmt::LOGFMT, FILTER],
        "The members of a JSON or logfmt line, or a user parser's captures (`merge_key`): flattened, so that one application's keys never conflict in type with another's.",
    ),
    // rosetta's own diagnostics, under every schema.
    field(
        "rosetta.error",
        J::String,
        E::Keyword,
        "",
        &[MODULE],
        "Why the record is not what it claims: invalid JSON, an unusable `rosetta.toml`, msgpack that could not be carried.",
    ),
    field(
        "rosetta.reason",
        J::String,
        E::Keyword,
        "",
        &[MODULE],
        "Why the line was left unparsed, or its time unread.",
    ),
    field(
        "rosetta.suspect",
        J::String,
        E::Keyword,
        "",
        &[MODULE],
        "`quote-injection` or `out-of-range`: the line was parsed in part, the raw line kept.",
    ),
    field(
        "rosetta.raw",
        J::String,
        E::Text,
        "",
        &[MODULE],
        "The input, as a string, when it was not a JSON object.",
    ),
    field(
        "rosetta.partial",
        J::Boolean,
        E::Boolean,
        "",
        &[MODULE],
        "`true` on a partial CRI line, passed on unparsed.",
    ),
    field(
        "rosetta.original.*",
        J::AsInput,
        E::Flattened,
        "",
        &[MODULE],
        "An input member whose key a parser also writes, under `rosetta.original.<key>`, as the input had it. Stored as `rosetta_original_<key>` (keyword, or flattened for an object) under `rosetta`, inside one flattened `rosetta.original` under `ecs`.",
    ),
    field(
        "rosetta.record",
        J::String,
        E::Text,
        "",
        &[MODULE],
        "msgpack mode: the whole record as JSON text, when it could not be written as msgpack without a 0x00 byte.",
    ),
    field(
        "rosetta.msgpack_hex",
        J::String,
        E::Keyword,
        "",
        &[MODULE],
        "msgpack mode: the record in hex, when it was not valid msgpack.",
    ),
    // Severity, templates, limits.
    field(
        "level",
        J::String,
        E::Keyword,
        "log.level",
        &[APACHE_ERROR, NGINX_ERROR, KLOG, MEANING],
        "The severity: `trace`, `debug`, `info`, `notice`, `warning`, `error`, `critical`, `alert` or `emergency`.",
    ),
    field(
        "level_original",
        J::String,
        E::Keyword,
        "",
        &[MEANING],
        "A parser's own `level` when the normalised `level` says it differently (klog's `E`).",
    ),
    field(
        "template",
        J::String,
        E::KeywordText,
        "",
        &[MEANING],
        "The message with its variable parts replaced by placeholders.",
    ),
    field(
        "template_id",
        J::String,
        E::Keyword,
        "",
        &[MEANING],
        "A hash of `template`, 16 hex digits.",
    ),
    field(
        "error_code",
        J::String,
        E::Keyword,
        "error.code",
        &[MEANING],
        "An error code found in the message (`ERR: 5762`).",
    ),
    field(
        "repeat_count",
        J::Integer,
        E::Long,
        "",
        &[DEDUPE],
        "How many identical lines this record stands for.",
    ),
    field(
        "rosetta.suppressed.records",
        J::Integer,
        E::Long,
        "",
        &[LIMITER],
        "Records the limiter dropped since its last summary.",
    ),
    field(
        "rosetta.suppressed.bytes",
        J::Integer,
        E::Long,
        "",
        &[LIMITER],
        "Their bytes.",
    ),
    field(
        "rosetta.suppressed.severe",
        J::Integer,
        E::Long,
        "",
        &[LIMITER],
        "How many of them were errors or worse.",
    ),
    field(
        "rosetta.suppressed.repeats",
        J::Integer,
        E::Long,
        "",
        &[LIMITER],
        "How many of them repeated an earlier line.",
    ),
    field(
        "rosetta.suppressed.keys",
        J::Integer,
        E::Long,
        "",
        &[LIMITER],
        "How many distinct keys were over budget.",
    ),
    field(
        "rosetta.suppressed.first",
        J::String,
        E::Date,
        "",
        &[LIMITER],
        "The first dropped record's time, RFC 3339 UTC.",
    ),
    field(
        "rosetta.suppressed.last",
        J::String,
        E::Date,
        "",
        &[LIMITER],
        "The last dropped record's time, RFC 3339 UTC.",
    ),
    field(
        "rosetta.limit.name",
        J::String,
        E::Keyword,
        "",
        &[LIMITER],
        "The limit that dropped them.",
    ),
    field(
        "rosetta.limit.key",
        J::String,
        E::Keyword,
        "",
        &[LIMITER],
        "The key it counts by (a container, a template).",
    ),
    field(
        "rosetta.limit.exceeded",
        J::String,
        E::Keyword,
        "",
        &[LIMITER],
        "Which budget was exceeded.",
    ),
    field(
        "rosetta.limit.budget",
        J::String,
        E::Keyword,
        "",
        &[LIMITER],
        "The budget, as configured.",
    ),
    // Access logs.
    field(
        "start_time",
        J::String,
        E::Date,
        "event.start",
        ENVOY_ALL,
        "Request (TCP: connection) start, RFC 3339 UTC.",
    ),
    field(
        "method",
        J::String,
        E::Keyword,
        "http.request.method",
        REQUEST_LINE,
        "Request method, client-controlled.",
    ),
    field(
        "path",
        J::String,
        E::Keyword,
        "url.original",
        REQUEST_LINE,
        "Request target, client-controlled.",
    ),
    converted(
        "protocol",
        J::String,
        E::Keyword,
        "http.version",
        Conversion::HttpVersion,
        REQUEST_LINE,
        "`HTTP/1.1`, `HTTP/2`...",
    ),
    field(
        "code",
        J::Integer,
        E::Long,
        "http.response.status_code",
        &[ENVOY, INGRESS, APACHE, NGINX],
        "Response status (Envoy: 0 when none was sent).",
    ),
    field(
        "response_code",
        J::Integer,
        E::Long,
        "http.response.status_code",
        ISTIO_NAMES,
        "Response status, Istio's name (0 when none was sent).",
    ),
    field(
        "response_flags",
        J::String,
        E::Keyword,
        "",
        ENVOY_ALL,
        "Envoy's response flags (`UH`, `UF,URX`).",
    ),
    field(
        "response_code_details",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Who set the code and why (`via_upstream`).",
    ),
    field(
        "connection_termination_details",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Why Envoy closed the connection.",
    ),
    field(
        "upstream_transport_failure_reason",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Upstream TLS or transport failure.",
    ),
    field(
        "bytes_received",
        J::Integer,
        E::Long,
        "http.request.body.bytes",
        ENVOY_ALL,
        "Body bytes received.",
    ),
    field(
        "bytes_sent",
        J::Integer,
        E::Long,
        "http.response.body.bytes",
        ENVOY_ALL,
        "Body bytes sent.",
    ),
    converted(
        "duration",
        J::Integer,
        E::Long,
        "event.duration",
        Conversion::MillisToNanos,
        ENVOY_ALL,
        "Total duration, ms.",
    ),
    field(
        "x_envoy_upstream_service_time",
        J::Integer,
        E::Long,
        "",
        ENVOY_ALL,
        "Time spent upstream, ms.",
    ),
    field(
        "x_forwarded_for",
        J::String,
        E::Keyword,
        "",
        &[ENVOY, ISTIO, ENVOY_JSON, APACHE, NGINX],
        "X-Forwarded-For, client-controlled.",
    ),
    field(
        "user_agent",
        J::String,
        E::Keyword,
        "user_agent.original",
        ENVOY_ALL,
        "User-Agent, client-controlled.",
    ),
    field(
        "request_id",
        J::String,
        E::Keyword,
        "http.request.id",
        &[ENVOY],
        "X-Request-ID, client-controlled (Envoy's name).",
    ),
    field(
        "x_request_id",
        J::String,
        E::Keyword,
        "http.request.id",
        ISTIO_NAMES,
        "X-Request-ID, client-controlled (Istio's name).",
    ),
    field(
        "authority",
        J::String,
        E::Keyword,
        "",
        ENVOY_ALL,
        ":authority / Host, client-controlled.",
    ),
    field(
        "upstream_host",
        J::String,
        E::Keyword,
        "destination.address",
        ENVOY_ALL,
        "Upstream address.",
    ),
    field(
        "upstream_host_ip",
        J::String,
        E::Ip,
        "destination.ip",
        ENVOY_ALL,
        "Its IP.",
    ),
    field(
        "upstream_host_port",
        J::Integer,
        E::Long,
        "destination.port",
        ENVOY_ALL,
        "Its port.",
    ),
    field(
        "upstream_cluster",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Upstream cluster (`outbound|80||svc`).",
    ),
    field(
        "upstream_local_address",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Local address of the upstream connection.",
    ),
    field(
        "upstream_local_address_ip",
        J::String,
        E::Ip,
        "",
        ISTIO_NAMES,
        "Its IP.",
    ),
    field(
        "upstream_local_address_port",
        J::Integer,
        E::Long,
        "",
        ISTIO_NAMES,
        "Its port.",
    ),
    field(
        "downstream_local_address",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Local address of the downstream connection.",
    ),
    field(
        "downstream_local_address_ip",
        J::String,
        E::Ip,
        "",
        ISTIO_NAMES,
        "Its IP.",
    ),
    field(
        "downstream_local_address_port",
        J::Integer,
        E::Long,
        "",
        ISTIO_NAMES,
        "Its port.",
    ),
    field(
        "downstream_remote_address",
        J::String,
        E::Keyword,
        "source.address",
        ISTIO_NAMES,
        "Peer address of the downstream connection.",
    ),
    field(
        "downstream_remote_address_ip",
        J::String,
        E::Ip,
        "source.ip",
        ISTIO_NAMES,
        "Its IP.",
    ),
    field(
        "downstream_remote_address_port",
        J::Integer,
        E::Long,
        "source.port",
        ISTIO_NAMES,
        "Its port.",
    ),
    field(
        "requested_server_name",
        J::String,
        E::Keyword,
        "tls.client.server_name",
        ISTIO_NAMES,
        "TLS SNI, client-controlled.",
    ),
    field(
        "route_name",
        J::String,
        E::Keyword,
        "",
        ISTIO_NAMES,
        "Matched route.",
    ),
    field(
        "host",
        J::String,
        E::Keyword,
        "source.address",
        &[INGRESS, APACHE],
        "Client address (ingress-nginx, `apache` names).",
    ),
    field(
        "host",
        J::String,
        E::Keyword,
        "ident",
        &[NGINX],
        "identd user, which nginx writes as `-` (`nginx` names).",
    ),
    field(
        "host",
        J::String,
        E::Keyword,
        "url.domain",
        &[NGINX_ERROR],
        "Host header, client-controlled.",
    ),
    field(
        "host",
        J::String,
        E::Keyword,
        "host.hostname",
        SYSLOG,
        "Sending host.",
    ),
    field(
        "remote",
        J::String,
        E::Keyword,
        "source.address",
        &[NGINX],
        "Client address (`nginx` names).",
    ),
    field(
        "ident",
        J::String,
        E::Keyword,
        "",
        &[APACHE],
        "identd user.",
    ),
    field(
        "ident",
        J::String,
        E::Keyword,
        "log.syslog.appname",
        SYSLOG,
        "Program.",
    ),
    field(
        "real_ip",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "Client address, older ingress-nginx layouts.",
    ),
    field(
        "user",
        J::String,
        E::Keyword,
        "user.name",
        CLF_INGRESS,
        "Authenticated user, client-controlled.",
    ),
    field(
        "size",
        J::Integer,
        E::Long,
        "http.response.body.bytes",
        CLF_INGRESS,
        "Response body bytes.",
    ),
    field(
        "referer",
        J::String,
        E::Keyword,
        "http.request.referrer",
        CLF_INGRESS,
        "Referer, client-controlled.",
    ),
    field(
        "agent",
        J::String,
        E::Keyword,
        "user_agent.original",
        CLF_INGRESS,
        "User-Agent, client-controlled.",
    ),
    field(
        "request_length",
        J::Integer,
        E::Long,
        "http.request.bytes",
        &[INGRESS],
        "Request bytes, line and headers included.",
    ),
    converted(
        "request_time",
        J::Number,
        E::Double,
        "event.duration",
        Conversion::SecondsToNanos,
        &[INGRESS],
        "Request time, seconds.",
    ),
    field(
        "proxy_upstream_name",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "`namespace-service-port`.",
    ),
    field(
        "proxy_alternative_upstream_name",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "Canary upstream.",
    ),
    field(
        "upstream_addr",
        J::String,
        E::Keyword,
        "destination.address",
        &[INGRESS],
        "Last upstream tried.",
    ),
    field(
        "upstream_addr_ip",
        J::String,
        E::Ip,
        "destination.ip",
        &[INGRESS],
        "Its IP.",
    ),
    field(
        "upstream_addr_port",
        J::Integer,
        E::Long,
        "destination.port",
        &[INGRESS],
        "Its port.",
    ),
    field(
        "upstream_addr_list",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "Every upstream tried, when more than one.",
    ),
    field(
        "upstream_response_length",
        J::Integer,
        E::Long,
        "",
        &[INGRESS],
        "Last upstream's response length.",
    ),
    field(
        "upstream_response_length_list",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "All of them, when more than one.",
    ),
    field(
        "upstream_response_time",
        J::Number,
        E::Double,
        "",
        &[INGRESS],
        "Last upstream's time, seconds.",
    ),
    field(
        "upstream_response_time_list",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "All of them, when more than one.",
    ),
    field(
        "upstream_status",
        J::Integer,
        E::Long,
        "",
        &[INGRESS],
        "Last upstream's status.",
    ),
    field(
        "upstream_status_list",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "All of them, when more than one.",
    ),
    field(
        "req_id",
        J::String,
        E::Keyword,
        "http.request.id",
        &[INGRESS],
        "X-Request-ID or a generated id, client-controlled.",
    ),
    field(
        "last",
        J::String,
        E::Keyword,
        "",
        &[INGRESS],
        "What follows the upstream status in the `[$the_real_ip]` layout.",
    ),
    // Error logs, klog, Go, syslog.
    field(
        "module",
        J::String,
        E::Keyword,
        "log.logger",
        &[APACHE_ERROR],
        "Apache module that logged.",
    ),
    field(
        "pid",
        J::Integer,
        E::Long,
        "process.pid",
        &[APACHE_ERROR, NGINX_ERROR, KLOG, SYSLOG5424, SYSLOG3164],
        "Process id.",
    ),
    field(
        "tid",
        J::Integer,
        E::Long,
        "process.thread.id",
        &[APACHE_ERROR, NGINX_ERROR],
        "Thread id.",
    ),
    field(
        "error",
        J::String,
        E::Text,
        "error.message",
        &[APACHE_ERROR],
        "APR status and its text (`(111)Connection refused`).",
    ),
    field(
        "client",
        J::String,
        E::Keyword,
        "client.address",
        &[APACHE_ERROR, NGINX_ERROR],
        "Client address.",
    ),
    field(
        "client_ip",
        J::String,
        E::Ip,
        "client.ip",
        &[APACHE_ERROR],
        "Its IP.",
    ),
    field(
        "client_port",
        J::Integer,
        E::Long,
        "client.port",
        &[APACHE_ERROR],
        "Its port.",
    ),
    field(
        "connection",
        J::Integer,
        E::Long,
        "",
        &[NGINX_ERROR],
        "Connection serial number.",
    ),
    field(
        "server",
        J::String,
        E::Keyword,
        "server.address",
        &[NGINX_ERROR],
        "`server_name` of the server block, or the listening address.",
    ),
    field(
        "subrequest",
        J::String,
        E::Keyword,
        "",
        &[NGINX_ERROR],
        "Subrequest URI, client-influenced.",
    ),
    field(
        "upstream",
        J::String,
        E::Keyword,
        "",
        &[NGINX_ERROR],
        "Upstream URL, client-influenced.",
    ),
    field(
        "referrer",
        J::String,
        E::Keyword,
        "http.request.referrer",
        &[NGINX_ERROR],
        "Referer, client-controlled (nginx's error-log spelling).",
    ),
    field(
        "prefix",
        J::String,
        E::Keyword,
        "",
        &[KLOG],
        "Text before the klog header.",
    ),
    field(
        "source",
        J::String,
        E::Keyword,
        "log.origin.file.name",
        &[KLOG, GO_LOG],
        "Source file and line (`d.go:23`).",
    ),
    field(
        "pri",
        J::Integer,
        E::Long,
        "log.syslog.priority",
        SYSLOG,
        "Priority, facility × 8 + severity.",
    ),
    field(
        "msgid",
        J::String,
        E::Keyword,
        "log.syslog.msgid",
        &[SYSLOG5424],
        "Message type.",
    ),
    field(
        "extradata",
        J::String,
        E::Keyword,
        "",
        &[SYSLOG5424],
        "Structured data as written.",
    ),
];

/// The field's name under the `ecs` schema, when it differs from `name`.
/// `format` is the parser's format name (a field such as `host` means
/// different things in different formats). The table's `ecs` column says
/// the same; a test holds the two together.
pub fn ecs_name(format: &str, name: &str) -> Option<&'static str> {
    Some(match name {
        "log" => "event.original",
        "level" => "log.level",
        "error_code" => "error.code",
        "start_time" => "event.start",
        "method" => "http.request.method",
        "path" => "url.original",
        "protocol" => "http.version",
        "code" | "response_code" => "http.response.status_code",
        "bytes_received" => "http.request.body.bytes",
        "bytes_sent" | "size" => "http.response.body.bytes",
        "duration" | "request_time" => "event.duration",
        "user_agent" | "agent" => "user_agent.original",
        "request_id" | "x_request_id" | "req_id" => "http.request.id",
        "upstream_host" | "upstream_addr" => "destination.address",
        "upstream_host_ip" | "upstream_addr_ip" => "destination.ip",
        "upstream_host_port" | "upstream_addr_port" => "destination.port",
        "downstream_remote_address" | "remote" => "source.address",
        "downstream_remote_address_ip" => "source.ip",
        "downstream_remote_address_port" => "source.port",
        "requested_server_name" => "tls.client.server_name",
        "host" => match format {
            NGINX => "ident",
            NGINX_ERROR => "url.domain",
            SYSLOG5424 | SYSLOG3164 => "host.hostname",
            _ => "source.address",
        },
        "ident" => match format {
            SYSLOG5424 | SYSLOG3164 => "log.syslog.appname",
            _ => return None,
        },
        "user" => "user.name",
        "referer" | "referrer" => "http.request.referrer",
        "request_length" => "http.request.bytes",
        "module" => "log.logger",
        "pid" => "process.pid",
        "tid" => "process.thread.id",
        "error" => "error.message",
        "client" => "client.address",
        "client_ip" => "client.ip",
        "client_port" => "client.port",
        "server" => "server.address",
        "source" => "log.origin.file.name",
        "pri" => "log.syslog.priority",
        "msgid" => "log.syslog.msgid",
        _ => return None,
    })
}

/// A parsed field as the `ecs` schema writes it: its ECS name (or its own)
/// and its value, converted where the table says so. `None` when the
/// converted value does not fit its type (a duration past `i64`
/// nanoseconds, about 292 years): the caller leaves the field out and
/// flags the record `out-of-range`, as a parser does.
pub fn ecs<'a>(
    format: &str,
    name: &'static str,
    value: Value<'a>,
) -> Option<(&'static str, Value<'a>)> {
    let Some(ecs) = ecs_name(format, name) else {
        return Some((name, value));
    };
    let value = match (name, value) {
        ("duration", Value::Int(ms)) => Value::Int(ms.checked_mul(1_000_000)?),
        ("request_time", Value::Decimal(seconds)) => Value::Int(seconds_to_nanos(seconds)?),
        ("protocol", Value::Text(t)) => Value::Text(t.strip_prefix(b"HTTP/").unwrap_or(t)),
        (_, v) => v,
    };
    Some((ecs, value))
}

/// A non-negative decimal of seconds (`0.479`, `12`) as whole nanoseconds;
/// decimals past the ninth are dropped. `None` past `i64`.
fn seconds_to_nanos(text: &[u8]) -> Option<i64> {
    let (int, frac) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (text.get(..dot)?, text.get(dot + 1..)?),
        None => (text, &[][..]),
    };
    let mut nanos: i64 = 0;
    for &d in int {
        if !d.is_ascii_digit() {
            return None;
        }
        nanos = nanos.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    nanos = nanos.checked_mul(1_000_000_000)?;
    let mut scale = 100_000_000;
    for &d in frac.iter().take(9) {
        if !d.is_ascii_digit() {
            return None;
        }
        nanos = nanos.checked_add(i64::from(d - b'0') * scale)?;
        scale /= 10;
    }
    Some(nanos)
}

/// The name an input member is written under: `log` (the line, a string)
/// is `event.original` under `ecs`, where `log` is the object holding
/// `log.level`; every other member keeps its key.
pub fn input_key(schema: Schema, key: &[u8], is_string: bool) -> Option<&'static str> {
    match (schema, key) {
        (Schema::Ecs, b"log") if is_string => Some("event.original"),
        _ => None,
    }
}

/// The rows that describe `key`, a top-level key of a record written
/// under `schema` (before storage: `rosetta.reason`, `http.request.method`).
pub fn lookup(schema: Schema, key: &str) -> Vec<&'static FieldDoc> {
    FIELDS
        .iter()
        .filter(|f| f.within.is_empty())
        .filter(|f| {
            let name = f.name_in(schema);
            match name.strip_suffix('*') {
                Some(prefix) => key.starts_with(prefix) && key.len() > prefix.len(),
                None => name == key,
            }
        })
        .collect()
}

/// Every field name as stored in Elasticsearch under `schema` (see
/// [`FieldDoc::stored_name`]), with the `.text` sub-fields of
/// keyword + text fields.
pub fn stored_names(schema: Schema) -> Vec<String> {
    let mut names = Vec::new();
    for f in FIELDS {
        let name = f.stored_name(schema);
        if f.es_in(schema) == EsType::KeywordText {
            names.push(format!("{name}.text"));
        }
        names.push(name);
    }
    names.sort();
    names.dedup();
    names
}

/// The composable index template for `schema`, as installed with
/// `PUT _index_template/rosetta`: index patterns `logstash-*` (fluent-bit's
/// `es` output with `Logstash_Format On`), and a mapping for every field of
/// [`FIELDS`] under its stored name. Pretty-printed, ending in a newline.
pub fn template(schema: Schema) -> String {
    let mut properties = Map::new();
    let mut dynamic = Vec::new();
    for f in FIELDS {
        let es = f.es_in(schema);
        let path = f.stored_name(schema);
        if let Some(prefix) = path.strip_suffix('*') {
            // `rosetta_original_<key>`: any key, its value as the input had it.
            dynamic.push(json!({ "rosetta_original_objects": {
                "match": format!("{prefix}*"),
                "match_mapping_type": "object",
                "mapping": EsType::Flattened.mapping()
            }}));
            dynamic.push(json!({ "rosetta_original_values": {
                "match": format!("{prefix}*"),
                "mapping": EsType::Keyword.mapping()
            }}));
            continue;
        }
        let leaf = match es {
            EsType::Object => json!({ "type": "object", "properties": {} }),
            other => other.mapping(),
        };
        insert(&mut properties, &path, leaf);
    }
    let kind = match schema {
        Schema::Rosetta => {
            "rosetta's field names as fluent-bit's es output stores them with Replace_Dots On"
        }
        Schema::Ecs => "rosetta with schema = \"ecs\": ECS names; needs Replace_Dots Off",
    };
    let mut mappings = Map::new();
    mappings.insert("date_detection".into(), Json::Bool(false));
    if !dynamic.is_empty() {
        mappings.insert("dynamic_templates".into(), Json::Array(dynamic));
    }
    mappings.insert("properties".into(), Json::Object(properties));
    let template = json!({
        "index_patterns": ["logstash-*"],
        "priority": 200,
        "_meta": {
            "description": format!("Generated from rosetta's schema (src/schema.rs): {kind}."),
            "schema": schema.name()
        },
        "template": { "mappings": Json::Object(mappings) }
    });
    let mut text = serde_json::to_string_pretty(&template).unwrap_or_default();
    text.push('\n');
    text
}

/// Puts `leaf` at `path` (dot-separated object levels) in `properties`,
/// unless something is there already (an object keeps the sub-fields it
/// has; a name of several rows has one mapping, which the tests check). A
/// path that runs through a leaf is a conflict no document could satisfy;
/// the tests rule it out.
fn insert(properties: &mut Map<String, Json>, path: &str, leaf: Json) {
    let mut level = properties;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            level.entry(part.to_string()).or_insert(leaf);
            return;
        }
        let entry = level
            .entry(part.to_string())
            .or_insert_with(|| json!({ "type": "object", "properties": {} }));
        let Some(object) = entry.as_object_mut() else {
            return;
        };
        let children = object
            .entry("properties")
            .or_insert_with(|| Json::Object(Map::new()));
        let Some(next) = children.as_object_mut() else {
            return;
        };
        level = next;
    }
}

/// The reference table of `docs/schema.md`.
pub fn reference_table() -> String {
    let mut s = String::from(
        "| field | JSON | Elasticsearch | stored as (`rosetta`) | `ecs` name | `ecs` conversion | written by | meaning |\n|---|---|---|---|---|---|---|---|\n",
    );
    for f in FIELDS {
        let ecs = if f.ecs.is_empty() {
            "same".to_string()
        } else {
            format!("`{}`", f.ecs)
        };
        let from: Vec<String> = f.from.iter().map(|n| format!("`{n}`")).collect();
        s.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} | {} | {} | {} |\n",
            f.full_name(),
            f.json.as_str(),
            f.es.as_str(),
            f.stored_name(Schema::Rosetta),
            ecs,
            f.convert.as_str(),
            from.join(", "),
            f.doc.replace('|', "\\|")
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// Every format that writes top-level fields, and its module's `//!`
    /// documentation.
    const FORMAT_DOCS: &[(&[&str], &str)] = &[
        (
            &[ENVOY, ISTIO, ENVOY_JSON],
            include_str!("formats/envoy.rs"),
        ),
        (&[INGRESS], include_str!("formats/nginx_ingress.rs")),
        (&[APACHE_ERROR], include_str!("formats/apache_error.rs")),
        (&[NGINX_ERROR], include_str!("formats/nginx_error.rs")),
        (&[KLOG], include_str!("formats/klog.rs")),
        (&[GO_LOG], include_str!("formats/golog.rs")),
        (&[SYSLOG5424, SYSLOG3164], include_str!("formats/syslog.rs")),
    ];

    fn json_type(spec: &str) -> Option<JsonType> {
        let spec = spec.trim();
        [
            ("string", JsonType::String),
            ("integer", JsonType::Integer),
            ("number", JsonType::Number),
            ("object", JsonType::Object),
        ]
        .into_iter()
        .find(|(word, _)| spec.starts_with(word))
        .map(|(_, t)| t)
    }

    /// `(name, type)` of every row of a format's `# Fields` tables: the
    /// names in backquotes before the first column that is a JSON type,
    /// paired with that column's comma-separated types.
    fn documented_fields(source: &str) -> Vec<(String, JsonType)> {
        let mut out = Vec::new();
        for line in source.lines().take_while(|l| l.starts_with("//!")) {
            let Some(row) = line.strip_prefix("//! | `") else {
                continue;
            };
            let cells: Vec<&str> = row.split(" | ").collect();
            let Some(at) = cells.iter().position(|c| json_type(c).is_some()) else {
                continue;
            };
            let types: Vec<JsonType> = cells[at].split(", ").filter_map(json_type).collect();
            for cell in &cells[..at] {
                let names: Vec<&str> = cell
                    .split(", ")
                    .map(|n| n.trim().trim_matches('`'))
                    .collect();
                for (i, name) in names.iter().enumerate() {
                    let t = types.get(i).or(types.last()).copied().unwrap();
                    out.push((name.to_string(), t));
                }
            }
        }
        out
    }

    #[test]
    fn every_documented_parser_field_is_in_the_table_with_its_type() {
        let mut seen = 0;
        for (formats, source) in FORMAT_DOCS {
            for (name, t) in documented_fields(source) {
                let rows: Vec<_> = FIELDS
                    .iter()
                    .filter(|f| f.within.is_empty() && f.name == name)
                    .collect();
                assert!(!rows.is_empty(), "{formats:?}: `{name}` is not in FIELDS");
                for f in &rows {
                    assert_eq!(f.json, t, "{formats:?}: `{name}`");
                }
                seen += 1;
            }
        }
        // clf's table has two name columns.
        for (name, t) in documented_fields(include_str!("formats/clf.rs")) {
            let rows: Vec<_> = FIELDS.iter().filter(|f| f.name == name).collect();
            assert!(!rows.is_empty(), "clf: `{name}` is not in FIELDS");
            assert!(rows.iter().all(|f| f.json == t), "clf: `{name}`");
            seen += 1;
        }
        assert!(seen > 100, "only {seen} documented fields read");
    }

    #[test]
    fn one_name_one_type() {
        for schema in [Schema::Rosetta, Schema::Ecs] {
            let mut types: BTreeMap<String, (JsonType, EsType, &str)> = BTreeMap::new();
            for f in FIELDS {
                let key = f.stored_name(schema);
                let t = (f.json_in(schema), f.es_in(schema), f.name);
                if let Some(prev) = types.insert(key.clone(), t) {
                    assert_eq!(
                        (prev.0, prev.1),
                        (t.0, t.1),
                        "{schema:?}: `{key}` is `{}` and `{}` with different types",
                        prev.2,
                        t.2
                    );
                }
            }
        }
    }

    #[test]
    fn rows_of_one_name_have_disjoint_writers() {
        for (i, a) in FIELDS.iter().enumerate() {
            for b in FIELDS.iter().skip(i + 1) {
                if a.full_name() == b.full_name() {
                    for w in a.from {
                        assert!(!b.from.contains(w), "`{}` has two rows for `{w}`", a.name);
                    }
                }
            }
        }
    }

    #[test]
    fn ecs_names_match_the_table() {
        for f in FIELDS.iter().filter(|f| f.within.is_empty()) {
            for format in f.from {
                let want = if f.ecs.is_empty() { None } else { Some(f.ecs) };
                assert_eq!(ecs_name(format, f.name), want, "`{}` from {format}", f.name);
            }
        }
    }

    #[test]
    fn ecs_paths_never_run_through_a_leaf() {
        let names: Vec<String> = FIELDS.iter().map(|f| f.stored_name(Schema::Ecs)).collect();
        for a in &names {
            for b in &names {
                assert!(
                    !b.starts_with(&format!("{a}.")) || {
                        let f = FIELDS.iter().find(|f| &f.stored_name(Schema::Ecs) == a);
                        f.is_some_and(|f| f.es == EsType::Object)
                    },
                    "`{b}` would need `{a}` to be an object"
                );
            }
        }
    }

    #[test]
    fn conversions() {
        type Case<'a> = (&'a str, &'a str, Value<'a>, Option<(&'a str, Value<'a>)>);
        let cases: &[Case<'_>] = &[
            (
                "envoy duration",
                "duration",
                Value::Int(8),
                Some(("event.duration", Value::Int(8_000_000))),
            ),
            (
                "envoy duration past i64",
                "duration",
                Value::Int(i64::MAX / 1000),
                None,
            ),
            (
                "ingress request time",
                "request_time",
                Value::Decimal(b"0.479"),
                Some(("event.duration", Value::Int(479_000_000))),
            ),
            (
                "whole seconds",
                "request_time",
                Value::Decimal(b"12"),
                Some(("event.duration", Value::Int(12_000_000_000))),
            ),
            (
                "past nanoseconds",
                "request_time",
                Value::Decimal(b"0.0000000019"),
                Some(("event.duration", Value::Int(1))),
            ),
            (
                "request time past i64",
                "request_time",
                Value::Decimal(b"9223372037"),
                None,
            ),
            (
                "http version",
                "protocol",
                Value::Text(b"HTTP/1.1"),
                Some(("http.version", Value::Text(b"1.1"))),
            ),
            (
                "another protocol",
                "protocol",
                Value::Text(b"SPDY/3"),
                Some(("http.version", Value::Text(b"SPDY/3"))),
            ),
            (
                "renamed",
                "method",
                Value::Text(b"GET"),
                Some(("http.request.method", Value::Text(b"GET"))),
            ),
            (
                "kept",
                "route_name",
                Value::Text(b"default"),
                Some(("route_name", Value::Text(b"default"))),
            ),
        ];
        for (case, name, value, want) in cases {
            let name: &'static str = FIELDS.iter().find(|f| f.name == *name).unwrap().name;
            assert_eq!(ecs(ENVOY, name, *value), *want, "{case}");
        }
        assert_eq!(
            ecs(SYSLOG3164, "host", Value::Text(b"h")),
            Some(("host.hostname", Value::Text(b"h")))
        );
        assert_eq!(seconds_to_nanos(b"9223372036.854775807"), Some(i64::MAX));
        assert_eq!(seconds_to_nanos(b"9223372036.854775808"), None);
    }

    #[test]
    fn lookup_finds_patterns_and_ecs_names() {
        assert_eq!(
            lookup(Schema::Rosetta, "rosetta.original.time")[0].name,
            "rosetta.original.*"
        );
        assert!(lookup(Schema::Rosetta, "rosetta.original.").is_empty());
        assert_eq!(lookup(Schema::Ecs, "event.duration").len(), 2);
        assert!(lookup(Schema::Ecs, "duration").is_empty());
        assert_eq!(lookup(Schema::Rosetta, "host").len(), 4);
    }

    #[test]
    fn templates_are_json_with_every_field() {
        for schema in [Schema::Rosetta, Schema::Ecs] {
            let t: Json = serde_json::from_str(&template(schema)).unwrap();
            assert_eq!(t["index_patterns"][0], "logstash-*");
            let props = &t["template"]["mappings"]["properties"];
            for name in stored_names(schema) {
                if name.ends_with('*') || name.ends_with(".text") {
                    continue;
                }
                let mut at = props;
                let parts: Vec<&str> = name.split('.').collect();
                for (i, part) in parts.iter().enumerate() {
                    at = &at[*part];
                    if i + 1 < parts.len() {
                        at = &at["properties"];
                    }
                }
                assert!(at.get("type").is_some(), "{schema:?}: {name} not mapped");
            }
        }
        let t = template(Schema::Rosetta);
        assert!(t.contains("\"rosetta_reason\""));
        assert!(t.contains("\"rosetta_original_*\""));
        let t = template(Schema::Ecs);
        assert!(t.contains("\"status_code\""));
    }

    /// `rosetta_filter` with `schema = "ecs"` on one docker record.
    fn ecs_run(line: &str) -> Json {
        ecs_run_record(json!({ "log": line, "stream": "stdout", "time": "2026-11-27T08:10:00Z" }))
    }

    /// `rosetta_filter` with `schema = "ecs"` on one record.
    fn ecs_run_record(record: Json) -> Json {
        use crate::config::Config;
        use crate::filter::{Entry, Filter};
        use crate::time::Timestamp;
        let config = Config::parse("rosetta.toml", "schema = \"ecs\"\n").unwrap();
        let filter = Filter::new(Ok(config));
        let mut buf = Vec::new();
        let time = Timestamp::new(1_795_939_800, 0, 0).unwrap();
        filter.run(
            Entry::Filter,
            b"kube.shop.orders-1.orders",
            time,
            record.to_string().as_bytes(),
            &mut buf,
        );
        serde_json::from_slice(&buf).unwrap()
    }

    const ISTIO_LINE: &str = r#"[2024-01-02T03:04:05.006Z] "GET /x HTTP/1.1" 200 - via_upstream - "-" 0 1 DURATION 3 "-" "ua" "-" "h" "10.0.0.1:80" c 10.0.0.2:1 10.0.0.3:2 10.0.0.4:3 - r"#;

    #[test]
    fn ecs_schema_in_the_filter() {
        let out = ecs_run(&ISTIO_LINE.replace("DURATION", "8"));
        assert_eq!(out["http.request.method"], "GET");
        assert_eq!(out["url.original"], "/x");
        assert_eq!(out["http.version"], "1.1");
        assert_eq!(out["http.response.status_code"], 200);
        assert_eq!(out["event.duration"], 8_000_000);
        assert_eq!(out["event.start"], "2024-01-02T03:04:05.006Z");
        assert_eq!(out["source.ip"], "10.0.0.4");
        assert_eq!(out["destination.address"], "10.0.0.1:80");
        assert_eq!(out["route_name"], "r");
        assert_eq!(out["timestamp"], "2024-01-02T03:04:05.006Z");
        assert_eq!(out["time"], "2026-11-27T08:10:00Z");
        for gone in [
            "method",
            "duration",
            "log",
            "event.original",
            "rosetta.suspect",
        ] {
            assert!(out.get(gone).is_none(), "{gone}: {out}");
        }

        // A duration past i64 nanoseconds: left out, flagged, the line kept.
        let out = ecs_run(&ISTIO_LINE.replace("DURATION", "9223372036854775"));
        assert!(out.get("event.duration").is_none(), "{out}");
        assert_eq!(out["rosetta.suspect"], "out-of-range");
        assert!(out["event.original"].as_str().unwrap().starts_with("[2024"));
        assert!(out.get("log").is_none(), "{out}");

        // An unparsed line keeps its text as `event.original`.
        let out = ecs_run("Ooops. This shouldn't occer. ERR: 5762\n");
        assert!(out["rosetta.reason"].is_string(), "{out}");
        assert!(out["event.original"].is_string(), "{out}");
        assert!(out.get("log").is_none(), "{out}");

        // syslog's host is the sending host; an input key equal to an ECS
        // name a parser writes is kept as an original.
        let out = ecs_run("<34>Oct 11 22:14:15 mymachine su: 'su root' failed\n");
        assert_eq!(out["host.hostname"], "mymachine");
        assert_eq!(out["log.syslog.appname"], "su");
        assert_eq!(out["log.syslog.priority"], 34);
        let out = ecs_run_record(json!({
            "log": "<34>Oct 11 22:14:15 mymachine su: x\n",
            "host.hostname": "node-1",
        }));
        assert_eq!(out["host.hostname"], "mymachine");
        assert_eq!(out["rosetta.original.host.hostname"], "node-1");
    }
}
