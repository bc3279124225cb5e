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
use crate::formats::{Fields, Hint, Pairs, Value, names_bits};
use crate::record::{self, Kind, Member};
use crate::severity::{self, Level};
use crate::time::Timestamp;
use crate::timestamps::{self, TimeError};

/// The fields a level is read from, in order.
pub const LEVEL_FIELDS: [&str; 5] = ["level", "severity", "lvl", "loglevel", "log_level"];
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

/// The bits of each list of names: a record none of whose names shares
/// them skips the list's lookups.
const LEVEL_BITS: (u64, u64) = names_bits(&LEVEL_FIELDS);
const STATUS_BITS: (u64, u64) = names_bits(STATUS_FIELDS);
const MESSAGE_BITS: (u64, u64) = names_bits(MESSAGE_FIELDS);
const PRI_BITS: (u64, u64) = names_bits(&["pri"]);

/// Whether what the parser produced may hold one of the names whose
/// [`names_bits`] are `bits` (always, for a JSON object whose members
/// were not indexed: see [`object_string`]).
fn may_hold(parsed: Parsed<'_>, fields: &Fields<'_>, pairs: &Pairs<'_>, bits: (u64, u64)) -> bool {
    match parsed {
        Parsed::Fields(_) => fields.may_hold_any(bits),
        Parsed::Pairs(_) => pairs.may_hold_any(bits),
        Parsed::Object(_) => pairs.is_empty() || pairs.is_full() || pairs.may_hold_any(bits),
    }
}

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
    // One loop per kind of parser output, so that the kind is not asked
    // again for every name.
    let usable = |value: Option<Value<'a>>| value.filter(|v| !matches!(v, Value::Bool(_)));
    let (field, value) =
        match parsed {
            Parsed::Fields(_) => TIME_FIELDS
                .iter()
                .find_map(|&f| usable(fields.get(f)).map(|v| (f, v)))?,
            Parsed::Pairs(_) => TIME_FIELDS
                .iter()
                .find_map(|&f| usable(pairs.get(f.as_bytes())).map(|v| (f, v)))?,
            Parsed::Object(_) if !pairs.is_empty() && !pairs.is_full() => TIME_FIELDS
                .iter()
                .find_map(|&f| match pairs.get(f.as_bytes()) {
                    Some(Value::Text(text)) => Some((f, Value::Text(text))),
                    _ => None,
                })?,
            Parsed::Object(text) => TIME_FIELDS
                .iter()
                .find_map(|&f| walked_string(text, f, scratch).map(|t| (f, Value::Text(t))))?,
        };
    let read = |text: &[u8]| match timestamps::parse_any(text, reference) {
        Ok(t) => Found::Time(t),
        Err(why) => Found::Unreadable { field, why },
    };
    Some(match value {
        Value::Time(t) => Found::Time(t),
        Value::Text(text) | Value::Decimal(text) => read(text),
        Value::Int(n) => read(n.to_string().as_bytes()),
        Value::Bool(_) => return None,
    })
}

/// One field of what the parser produced, by name.
#[inline(always)]
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
        Parsed::Object(text) => object_string(text, pairs, name, scratch).map(Value::Text),
    }
}

thread_local! {
    /// Where each of [`STATUS_FIELDS`] was found last: an access log's
    /// status sits at the same place in most of its lines (see
    /// [`Fields::get_hinted`]). The module runs on one thread.
    static STATUS_HINTS: [Hint; 3] = const { [Hint::new(), Hint::new(), Hint::new()] };
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
        return STATUS_HINTS.with(|hints| {
            STATUS_FIELDS.iter().zip(hints).find_map(|(name, hint)| {
                match fields.get_hinted_if_held(name, hint) {
                    Some(Value::Int(code)) => severity::from_status(*code),
                    _ => None,
                }
            })
        });
    }
    let klog = matches!(parsed, Parsed::Fields(f) if f == crate::formats::klog::KLOG);
    if may_hold(parsed, fields, pairs, LEVEL_BITS) {
        // Name by name, each a constant where the lookup is inlined: a
        // loop over the list compares the names with `memcmp`.
        let [a, b, c, d, e] = LEVEL_FIELDS;
        let mut level_in = |name| level_field(parsed, fields, pairs, name, klog, scratch);
        let level = level_in(a)
            .or_else(|| level_in(b))
            .or_else(|| level_in(c))
            .or_else(|| level_in(d))
            .or_else(|| level_in(e));
        if level.is_some() {
            return level;
        }
    }
    if may_hold(parsed, fields, pairs, PRI_BITS)
        && let Some(Value::Int(pri)) = lookup(parsed, fields, pairs, "pri", scratch)
    {
        return u8::try_from(pri).ok().and_then(severity::from_syslog_pri);
    }
    if may_hold(parsed, fields, pairs, STATUS_BITS) {
        for &name in STATUS_FIELDS {
            if let Some(Value::Int(code)) = lookup(parsed, fields, pairs, name, scratch) {
                return severity::from_status(code);
            }
        }
    }
    message_of(parsed, fields, pairs, scratch)
        .and_then(severity::sniff_message)
        .map(|(level, _)| level)
}

/// The level a field called `name` gives, if it is there and says one.
#[inline(always)]
fn level_field<'a>(
    parsed: Parsed<'a>,
    fields: &Fields<'a>,
    pairs: &Pairs<'a>,
    name: &str,
    klog: bool,
    scratch: &mut Vec<Member<'a>>,
) -> Option<Level> {
    match lookup(parsed, fields, pairs, name, scratch) {
        Some(Value::Text(v) | Value::Decimal(v)) => match (klog, v) {
            (true, [letter]) => severity::from_klog_letter(*letter),
            _ => severity::from_value(v),
        },
        Some(Value::Int(n)) => u8::try_from(n)
            .ok()
            .and_then(|n| severity::from_value(n.to_string().as_bytes())),
        _ => None,
    }
}

/// The record's free-text message, escaped JSON string content.
pub fn message_of<'a>(
    parsed: Parsed<'a>,
    fields: &Fields<'a>,
    pairs: &Pairs<'a>,
    scratch: &mut Vec<Member<'a>>,
) -> Option<&'a [u8]> {
    if !may_hold(parsed, fields, pairs, MESSAGE_BITS) {
        return None;
    }
    MESSAGE_FIELDS
        .iter()
        .find_map(|name| match lookup(parsed, fields, pairs, name, scratch) {
            Some(Value::Text(t)) => Some(t),
            _ => None,
        })
}

/// A top-level string or number member of a JSON object, as text: from
/// `members`, where the JSON line parser put the object's string and
/// number members as it checked it, or, when it holds none or may have
/// left some out (it holds at most
/// [`MAX_PAIRS`](crate::formats::MAX_PAIRS)), from a walk of the
/// object listed in `scratch`.
#[inline(always)]
fn object_string<'a>(
    object: &'a [u8],
    members: &Pairs<'a>,
    key: &str,
    scratch: &mut Vec<Member<'a>>,
) -> Option<&'a [u8]> {
    if !members.is_empty() && !members.is_full() {
        return match members.get(key.as_bytes()) {
            Some(Value::Text(text)) => Some(text),
            _ => None,
        };
    }
    walked_string(object, key, scratch)
}

/// [`object_string`] by a walk of the object, listed in `scratch` by the
/// first call for the record.
#[inline(never)]
fn walked_string<'a>(
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

    /// The time `time_of` finds among `fields` (a parser's) or `pairs`
    /// (logfmt's), rendered.
    fn time_in(
        fields: &[(&'static str, Value<'static>)],
        pairs: &[(&'static [u8], Value<'static>)],
    ) -> String {
        let (mut f, mut p) = (Fields::new(), Pairs::new());
        for &(name, value) in fields {
            f.push(name, value);
        }
        for &(key, value) in pairs {
            p.insert(key, value);
        }
        let parsed = if pairs.is_empty() {
            Parsed::Fields("x")
        } else {
            Parsed::Pairs("logfmt")
        };
        rendered(time_of(parsed, &f, &p, reference(), &mut Vec::new()))
    }

    #[test]
    fn named_cases() {
        assert_eq!(
            time_in(&[("time", Value::Text(b"Sep 17 12:19:26"))], &[]),
            "2026-09-17T12:19:26Z",
            "syslog, year from the record"
        );
        assert!(
            time_in(&[("time", Value::Text(b"not a time"))], &[]).starts_with("time: "),
            "unreadable"
        );
        assert_eq!(time_in(&[], &[]), "none");
        // A name whose value is no time (a boolean) gives way to the next.
        assert_eq!(
            time_in(
                &[
                    ("time", Value::Bool(true)),
                    ("ts", Value::Int(1_537_186_423))
                ],
                &[]
            ),
            "2018-09-17T12:13:43Z",
            "skips a boolean"
        );
        assert_eq!(
            time_in(
                &[],
                &[
                    (b"date", Value::Text(b"2018-09-17")),
                    (b"time", Value::Bool(false))
                ]
            ),
            "2018-09-17T00:00:00Z",
            "keys in their order"
        );

        let fields = Fields::new();
        let pairs = Pairs::new();
        let mut scratch = Vec::new();
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

    /// A JSON line's members as the line parser indexes them, and the walk
    /// meaning falls back on when the index may lack some, read alike.
    #[test]
    fn json_members_indexed_or_walked_agree() {
        let fields = Fields::new();
        // The level first as an object (not read), then as text; more
        // string members than the index holds before `ts` in the second.
        let small = r#"{\"level\":{\"x\":1},\"level\":\"WARN\",\"ts\":\"2026-11-27T08:00:00Z\",\"msg\":\"disk 91% full\"}"#.to_string();
        let padding: String = (0..crate::formats::MAX_PAIRS + 3)
            .map(|i| format!(r#"\"k{i}\":\"v\","#))
            .collect();
        let large = format!(
            r#"{{{padding}\"ts\":\"2026-11-27T08:00:00Z\",\"level\":\"WARN\",\"msg\":\"disk 91% full\"}}"#
        );
        for (line, indexed) in [(small, true), (large, false)] {
            let mut text = Vec::new();
            let mut pairs = Pairs::new();
            let object =
                crate::formats::json::parse(line.as_bytes(), &mut text, &mut pairs).unwrap();
            assert_eq!(!pairs.is_full(), indexed, "{line}");
            let mut scratch = Vec::new();
            let parsed = Parsed::Object(object);
            let got = time_of(parsed, &fields, &pairs, reference(), &mut scratch);
            assert_eq!(rendered(got), "2026-11-27T08:00:00Z", "{line}");
            let level = level_of(parsed, &fields, &pairs, &mut scratch);
            assert_eq!(level, Some(Level::Warning), "{line}");
            let message = message_of(parsed, &fields, &pairs, &mut scratch);
            assert_eq!(message, Some(&b"disk 91% full"[..]), "{line}");
            // Without the index, the walk finds the same.
            let mut scratch = Vec::new();
            let none = Pairs::new();
            assert_eq!(
                time_of(parsed, &fields, &none, reference(), &mut scratch),
                got
            );
            assert_eq!(level_of(parsed, &fields, &none, &mut scratch), level);
        }
    }

    /// An access log's level comes from its status wherever the status
    /// sits, record after record, as a plain lookup finds it: the hints
    /// that remember where it was never answer for another layout.
    #[test]
    fn status_level_follows_every_layout() {
        const NAMES: [&str; 6] = ["host", "user", "method", "path", "size", "agent"];
        let mut next = crate::test_rng::xorshift(0x57a7_0500_0000_0001);
        let mut fields = Fields::new();
        for _ in 0..20_000 {
            let r = next();
            fields.clear();
            let before = (r % 5) as usize;
            for name in NAMES.iter().take(before) {
                fields.push(name, Value::Text(b"x"));
            }
            // No status, one of them, or two (the first in STATUS_FIELDS
            // that says a level wins), each a number or text.
            let code = [0i64, 99, 200, 302, 404, 503, 600][(r >> 8) as usize % 7];
            let status = |shift: u32| match (r >> shift) % 3 {
                0 => Value::Int(code),
                1 => Value::Int(code + 100),
                _ => Value::Text(b"200"),
            };
            let which = (r >> 16) % 4;
            if which & 1 == 1 {
                fields.push("status", status(20));
            }
            for name in NAMES.iter().skip(before).take((r >> 24) as usize % 3) {
                fields.push(name, Value::Text(b"y"));
            }
            if which & 2 == 2 {
                fields.push("code", status(28));
            }
            let want = STATUS_FIELDS
                .iter()
                .find_map(|name| match fields.get(name) {
                    Some(Value::Int(code)) => severity::from_status(code),
                    _ => None,
                });
            let parsed = Parsed::Fields("apache");
            let got = level_of(parsed, &fields, &Pairs::new(), &mut Vec::new());
            assert_eq!(got, want, "{:?}", fields.as_slice());
        }
    }
}
