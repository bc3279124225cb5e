//! What a parsed record means, beyond its fields: when it happened, in one
//! time format; how bad it is, on one scale; and what kind of message it
//! is, as a template with a stable id.
//!
//! Applied by `rosetta_filter` after a parser has read the line; the fixed
//! entry points (`rosetta_envoy`, `rosetta_nginx_ingress`) stay pure
//! parsers.
//!
//! **Time.** The parser's time field is the first present of
//! [`TIME_FIELDS`], looked up among its fields, its logfmt keys, or the
//! top-level keys of a JSON line. A value the parser already typed as a
//! time is used as it is; text is read by [`crate::timestamps::parse_any`],
//! whose missing years come from the record's own time (fluent-bit's
//! event time). The result, RFC 3339 UTC with the source's precision, is
//! written under `time_key`; the original field is kept. A value no layout
//! reads is left as it was and the record says why in `rosetta.reason`.
//!
//! **Level** ([`crate::severity`]), the first that gives one:
//!
//! | source | formats |
//! |---|---|
//! | a `level`, `severity`, `lvl`, `loglevel` or `log_level` field or key (words, numbers) | klog (its letter), nginx and Apache error logs, JSON, logfmt |
//! | syslog's `pri` | syslog |
//! | the HTTP status (`response_code`, `code`, `status`): 5xx error, 4xx warning, else info | access logs |
//! | the sign at the head of the message (`ERROR:`, `[warn]`, Python and Java layouts) | everything with a message, and lines no parser read |
//!
//! The normalised level is written under `level`; a parser's own `level`
//! field that says it differently (klog's `E`) is kept as `level_original`.
//!
//! **Template** ([`crate::template`]): the free-text message (`message`,
//! `msg`; for a line no parser read, the line itself) gets `template`,
//! `template_id` and, when it names one, `error_code`. Access logs are
//! structured records with no free text, and get none.

use crate::formats::auto::Parsed;
use crate::formats::{Fields, Pairs, Value};
use crate::record::{self, Kind, Member};
use crate::severity::{self, Level};
use crate::time::Timestamp;
use crate::timestamps::{self, TimeError};

/// The fields a level is read from, in order.
pub const LEVEL_FIELDS: &[&str] = &["level", "severity", "lvl", "loglevel", "log_level"];
/// The fields holding an HTTP status.
pub const STATUS_FIELDS: &[&str] = &["response_code", "code", "status"];
/// The fields holding the free-text message.
pub const MESSAGE_FIELDS: &[&str] = &["message", "msg"];

/// The field names a record's time is looked for under, in order.
pub const TIME_FIELDS: &[&str] = &[
    "start_time",
    "time",
    "timestamp",
    "ts",
    "@timestamp",
    "date",
];

/// The time found for a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    /// Normalised.
    Time(Timestamp),
    /// Present under `field` but unreadable.
    Unreadable {
        /// The field.
        field: &'static str,
        /// Why.
        why: TimeError,
    },
}

/// The record's time, from what the parser produced; `None` when it has
/// no time field. `scratch` is a reused list for a JSON line's members.
pub fn time_of<'a>(
    parsed: Parsed<'a>,
    fields: &Fields<'a>,
    pairs: &Pairs<'a>,
    reference: Timestamp,
    scratch: &mut Vec<Member<'a>>,
) -> Option<Found> {
    for &field in TIME_FIELDS {
        let value = match parsed {
            Parsed::Fields(_) => fields.get(field),
            Parsed::Pairs(_) => pairs.get(field.as_bytes()),
            Parsed::Object(text) => object_string(text, field, scratch).map(Value::Text),
        };
        let found = match value {
            None | Some(Value::Bool(_)) => continue,
            Some(Value::Time(t)) => Found::Time(t),
            Some(Value::Text(text) | Value::Decimal(text)) => {
                match timestamps::parse_any(text, reference) {
                    Ok(t) => Found::Time(t),
                    Err(why) => Found::Unreadable { field, why },
                }
            }
            Some(Value::Int(n)) => {
                let digits = n.to_string();
                match timestamps::parse_any(digits.as_bytes(), reference) {
                    Ok(t) => Found::Time(t),
                    Err(why) => Found::Unreadable { field, why },
                }
            }
        };
        return Some(found);
    }
    None
}

/// One field of what the parser produced, by name.
fn lookup<'a>(
    parsed: Parsed<'a>,
    fields: &Fields<'a>,
    pairs: &Pairs<'a>,
    name: &str,
    scratch: &mut Vec<Member<'a>>,
) -> Option<Value<'a>> {
    match parsed {
        Parsed::Fields(_) => fields.get(name),
        Parsed::Pairs(_) => pairs.get(name.as_bytes()),
        Parsed::Object(text) => object_string(text, name, scratch).map(Value::Text),
    }
}

/// Whether the parser read an access log: structured, with a status and
/// no free text, so that its level comes from the status at once.
fn is_access_log(parsed: Parsed<'_>) -> bool {
    matches!(
        parsed,
        Parsed::Fields("envoy" | "istio" | "envoy-json" | "nginx-ingress" | "apache" | "nginx")
    )
}

/// The record's level; see the module documentation.
pub fn level_of<'a>(
    parsed: Parsed<'a>,
    fields: &Fields<'a>,
    pairs: &Pairs<'a>,
    scratch: &mut Vec<Member<'a>>,
) -> Option<Level> {
    if is_access_log(parsed) {
        return STATUS_FIELDS
            .iter()
            .find_map(|name| match fields.get(name) {
                Some(Value::Int(code)) => severity::from_status(code),
                _ => None,
            });
    }
    let klog = matches!(parsed, Parsed::Fields(f) if f == crate::formats::klog::KLOG);
    for &name in LEVEL_FIELDS {
        if let Some(Value::Text(v) | Value::Decimal(v)) =
            lookup(parsed, fields, pairs, name, scratch)
        {
            let level = match (klog, v) {
                (true, [letter]) => severity::from_klog_letter(*letter),
                _ => severity::from_value(v),
            };
            if level.is_some() {
                return level;
            }
        }
        let numeric = match lookup(parsed, fields, pairs, name, scratch) {
            Some(Value::Int(n)) => u8::try_from(n).ok(),
            _ => None,
        };
        if let Some(level) = numeric.and_then(|n| severity::from_value(n.to_string().as_bytes())) {
            return Some(level);
        }
    }
    if let Some(Value::Int(pri)) = lookup(parsed, fields, pairs, "pri", scratch) {
        return u8::try_from(pri).ok().and_then(severity::from_syslog_pri);
    }
    for &name in STATUS_FIELDS {
        if let Some(Value::Int(code)) = lookup(parsed, fields, pairs, name, scratch) {
            return severity::from_status(code);
        }
    }
    message_of(parsed, fields, pairs, scratch)
        .and_then(severity::sniff_message)
        .map(|(level, _)| level)
}

/// The record's free-text message, escaped JSON string content.
pub fn message_of<'a>(
    parsed: Parsed<'a>,
    fields: &Fields<'a>,
    pairs: &Pairs<'a>,
    scratch: &mut Vec<Member<'a>>,
) -> Option<&'a [u8]> {
    MESSAGE_FIELDS
        .iter()
        .find_map(|name| match lookup(parsed, fields, pairs, name, scratch) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        })
}

/// A top-level string or number member of a JSON object, as text.
fn object_string<'a>(
    object: &'a [u8],
    key: &str,
    scratch: &mut Vec<Member<'a>>,
) -> Option<&'a [u8]> {
    if scratch.is_empty() && record::members(object, scratch).is_err() {
        return None;
    }
    scratch
        .iter()
        .find(|m| m.key == key.as_bytes() && matches!(m.kind, Kind::String | Kind::Number))
        .map(|m| m.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Timestamp {
        // 2026-11-27T08:10:00Z
        Timestamp::new(1_795_939_800, 0, 0).unwrap()
    }

    fn rendered(found: Option<Found>) -> String {
        match found {
            Some(Found::Time(t)) => {
                let mut out = Vec::new();
                t.write_rfc3339(&mut out);
                String::from_utf8(out).unwrap()
            }
            Some(Found::Unreadable { field, why }) => format!("{field}: {why}"),
            None => "none".to_string(),
        }
    }

    #[test]
    fn named_cases() {
        let mut fields = Fields::new();
        let pairs = Pairs::new();
        let mut scratch = Vec::new();
        fields.push("time", Value::Text(b"Sep 17 12:19:26"));
        let got = time_of(
            Parsed::Fields("x"),
            &fields,
            &pairs,
            reference(),
            &mut scratch,
        );
        assert_eq!(
            rendered(got),
            "2026-09-17T12:19:26Z",
            "syslog, year from the record"
        );

        let mut fields = Fields::new();
        fields.push("time", Value::Text(b"not a time"));
        let got = time_of(
            Parsed::Fields("x"),
            &fields,
            &pairs,
            reference(),
            &mut scratch,
        );
        assert!(rendered(got).starts_with("time: "), "unreadable");

        let fields = Fields::new();
        let got = time_of(
            Parsed::Fields("x"),
            &fields,
            &pairs,
            reference(),
            &mut scratch,
        );
        assert_eq!(rendered(got), "none");

        let object = br#"{"msg":"hi","ts":1537186423.5}"#;
        scratch.clear();
        let got = time_of(
            Parsed::Object(object),
            &fields,
            &pairs,
            reference(),
            &mut scratch,
        );
        assert_eq!(
            rendered(got),
            "2018-09-17T12:13:43.5Z",
            "epoch seconds in JSON"
        );
    }
}
