//! The invariants every fuzz target and `tests/properties.rs` assert on
//! rosetta's output, checked with an oracle independent of rosetta's own
//! JSON reader (`serde_json` for validity, a separate top-level splitter
//! for member spans):
//!
//! - the output is exactly one valid JSON object;
//! - its top-level keys are unique (compared unescaped);
//! - each input member survives byte for byte, under its own key or
//!   renamed `rosetta.original.<key>`, except the line's own member and
//!   keys rosetta writes itself (`rosetta.*`), which are rewritten on
//!   purpose;
//! - the output is at most linear in the input.
//!
//! Shared by the fuzz targets (`mod invariants;`) and the property tests
//! (`#[path]`), so that both assert the same thing.

#![allow(dead_code)]

/// One top-level member: the key's content between its quotes, escapes
/// intact, and the value's JSON text, surrounding whitespace removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member<'a> {
    pub key: &'a [u8],
    pub value: &'a [u8],
}

/// Whether `bytes` is one JSON object: `Ok(true)` when serde_json reads it,
/// `Ok(false)` when it is grammatical only with an unpaired surrogate
/// escape (RFC 8259 section 8.2 allows one; serde_json refuses it), `Err`
/// with serde_json's message otherwise.
pub fn is_object(bytes: &[u8]) -> Result<bool, String> {
    match object_or_not(bytes) {
        Ok(true) => Ok(true),
        Ok(false) => Err(format!("not an object: {}", String::from_utf8_lossy(bytes))),
        Err(e) => {
            // The grammar again, with the surrogate escapes defused.
            let defused = defuse_surrogates(bytes);
            match object_or_not(&defused) {
                Ok(true) if defused != bytes => Ok(false),
                _ => Err(e),
            }
        }
    }
}

/// Whether serde_json reads `bytes` as one object (`Ok(false)`: another
/// value), at any nesting depth. Its reader refuses values nested past 128
/// levels, and rosetta keeps deeper records as they are, so such a value
/// is read again without the limit, on a thread whose stack has room for
/// it (reading and dropping the value both recurse once per level).
fn object_or_not(bytes: &[u8]) -> Result<bool, String> {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(value) => Ok(value.is_object()),
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => {
            let owned = bytes.to_vec();
            std::thread::Builder::new()
                .stack_size(1 << 30)
                .spawn(move || {
                    let mut reader = serde_json::Deserializer::from_slice(&owned);
                    reader.disable_recursion_limit();
                    let value = <serde_json::Value as serde::Deserialize>::deserialize(&mut reader)
                        .and_then(|value| reader.end().map(|()| value));
                    value.map(|v| v.is_object()).map_err(|e| e.to_string())
                })
                .map_err(|e| e.to_string())?
                .join()
                .map_err(|_| "the deep reader panicked".to_string())?
        }
        Err(e) => Err(e.to_string()),
    }
}

/// `\uD8xx`..`\uDFxx` escapes rewritten as `\u0058`: same length, same
/// grammar, no surrogate.
fn defuse_surrogates(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut escaped = false;
    while i < out.len() {
        let b = out[i];
        if escaped {
            escaped = false;
            if b == b'u'
                && out.get(i + 1..i + 5).is_some_and(|h| {
                    h[0].eq_ignore_ascii_case(&b'd')
                        && matches!(h[1].to_ascii_lowercase(), b'8'..=b'9' | b'a'..=b'f')
                        && h[2].is_ascii_hexdigit()
                        && h[3].is_ascii_hexdigit()
                })
            {
                out[i + 1..i + 5].copy_from_slice(b"0058");
            }
        } else if b == b'\\' {
            escaped = true;
        }
        i += 1;
    }
    out
}

fn skip_ws(s: &[u8], mut i: usize) -> usize {
    while s
        .get(i)
        .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    {
        i += 1;
    }
    i
}

/// The end of the string starting at `i` (its opening quote), after its
/// closing quote.
fn string_end(s: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < s.len() {
        match s[j] {
            b'\\' => j += 2,
            b'"' => return j + 1,
            _ => j += 1,
        }
    }
    s.len()
}

/// The end of the value starting at `i`.
fn value_end(s: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while j < s.len() {
        match s[j] {
            b'"' => {
                j = string_end(s, j);
                if depth == 0 {
                    return j;
                }
                continue;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return j;
                }
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            b',' if depth == 0 => return j,
            b' ' | b'\t' | b'\n' | b'\r' if depth == 0 => return j,
            _ => {}
        }
        j += 1;
    }
    j
}

/// The top-level members of `json`, a valid JSON object.
pub fn members(json: &[u8]) -> Vec<Member<'_>> {
    let mut list = Vec::new();
    let mut i = skip_ws(json, 0) + 1;
    loop {
        i = skip_ws(json, i);
        match json.get(i) {
            Some(b'"') => {}
            _ => return list,
        }
        let key_end = string_end(json, i);
        let key = &json[i + 1..key_end - 1];
        i = skip_ws(json, key_end) + 1; // the colon
        i = skip_ws(json, i);
        let end = value_end(json, i);
        list.push(Member {
            key,
            value: &json[i..end],
        });
        i = skip_ws(json, end);
        if json.get(i) == Some(&b',') {
            i += 1;
        }
    }
}

/// A key's text, unescaped (its escaped content when it holds a surrogate
/// escape serde_json refuses).
pub fn unescaped(key: &[u8]) -> Vec<u8> {
    let mut quoted = Vec::with_capacity(key.len() + 2);
    quoted.push(b'"');
    quoted.extend_from_slice(key);
    quoted.push(b'"');
    match serde_json::from_slice::<String>(&quoted) {
        Ok(s) => s.into_bytes(),
        Err(_) => key.to_vec(),
    }
}

/// The first top-level key that appears twice, unescaped.
pub fn duplicate_key(list: &[Member<'_>]) -> Option<String> {
    duplicate_key_but(list, &[])
}

/// The first top-level key that appears twice, unescaped, other than the
/// keys in `tolerated`.
pub fn duplicate_key_but(list: &[Member<'_>], tolerated: &[Vec<u8>]) -> Option<String> {
    let mut keys: Vec<Vec<u8>> = list.iter().map(|m| unescaped(m.key)).collect();
    keys.sort();
    keys.windows(2)
        .find(|w| w[0] == w[1] && !tolerated.contains(&w[0]))
        .map(|w| String::from_utf8_lossy(&w[0]).into_owned())
}

/// Known, reported: an input's own `rosetta.reason` or `rosetta.suspect`
/// is kept next to the one rosetta writes after a successful parse (an
/// unreadable time, a suspect line), so the key appears twice. Until that
/// is fixed, a duplicate of one of these keys is tolerated when the input
/// had it; `KNOWN_DUPLICATES = false` makes it fail again.
pub const KNOWN_DUPLICATES: bool = false;

fn tolerated(inputs: &[Member<'_>]) -> Vec<Vec<u8>> {
    if !KNOWN_DUPLICATES {
        return Vec::new();
    }
    inputs
        .iter()
        .map(|m| unescaped(m.key))
        .filter(|k| k == b"rosetta.reason" || k == b"rosetta.suspect")
        .collect()
}

/// Asserts that `output` is one valid JSON object, with unique keys when
/// `unique` (but for `tolerated`), and returns its members. `input` is
/// only for the message.
pub fn assert_object<'o>(input: &[u8], output: &'o [u8], unique: bool) -> Vec<Member<'o>> {
    assert_object_but(input, output, unique, &[])
}

fn assert_object_but<'o>(
    input: &[u8],
    output: &'o [u8],
    unique: bool,
    tolerated: &[Vec<u8>],
) -> Vec<Member<'o>> {
    if let Err(e) = is_object(output) {
        panic!(
            "output is not one JSON object ({e})\n input: {}\noutput: {}",
            String::from_utf8_lossy(input),
            String::from_utf8_lossy(output)
        );
    }
    let list = members(output);
    if !unique {
        return list;
    }
    if let Some(key) = duplicate_key_but(&list, tolerated) {
        panic!(
            "output has key {key:?} twice\n input: {}\noutput: {}",
            String::from_utf8_lossy(input),
            String::from_utf8_lossy(output)
        );
    }
    list
}

/// Asserts that each member of `input` other than those under `line_keys`
/// and rosetta's own keys is in `output`, value byte for byte, under its
/// key or as `rosetta.original.<key>`.
pub fn assert_survives(
    input: &[u8],
    output: &[u8],
    inputs: &[Member<'_>],
    outputs: &[Member<'_>],
    line_keys: &[&[u8]],
) {
    for m in inputs {
        if line_keys.contains(&m.key) || m.key.starts_with(b"rosetta.") {
            continue;
        }
        let renamed = [b"rosetta.original.".as_slice(), m.key].concat();
        let found = outputs
            .iter()
            .any(|o| o.value == m.value && (o.key == m.key || o.key == renamed.as_slice()));
        if !found {
            panic!(
                "member {:?}: {} did not survive\n input: {}\noutput: {}",
                String::from_utf8_lossy(m.key),
                String::from_utf8_lossy(m.value),
                String::from_utf8_lossy(input),
                String::from_utf8_lossy(output)
            );
        }
    }
}

/// The most output bytes per input byte: a byte can be escaped as
/// `\uE0XX` (6 bytes), and the line can be kept next to the fields parsed
/// from it, each re-escaped.
pub const MAX_OUTPUT_PER_BYTE: usize = 24;
/// Plus rosetta's own members (reasons, errors) and the normalised time.
pub const MAX_OUTPUT_OVERHEAD: usize = 4096;

/// Asserts that the output is at most linear in the input.
pub fn assert_linear_size(input: &[u8], output: &[u8]) {
    assert_linear_size_with(input, output, 0);
}

/// Asserts that the output is at most linear in the input plus `extra`
/// bytes of other input (a configuration file, whose names rosetta can
/// quote in its errors).
pub fn assert_linear_size_with(input: &[u8], output: &[u8], extra: usize) {
    assert!(
        output.len() <= (input.len() + extra) * MAX_OUTPUT_PER_BYTE + MAX_OUTPUT_OVERHEAD,
        "{} output bytes for {} input bytes",
        output.len(),
        input.len()
    );
}

/// The full check for a JSON record: `output` is one object of linear
/// size; when `input` is itself a JSON object, its members survive (but
/// for `line_keys`) and, if its keys are unique, so are the output's; when
/// it is not, the output carries it as `rosetta.raw`, with unique keys.
///
/// rosetta's reader does not validate UTF-8 (fluent-bit never sends a raw
/// invalid byte: it writes `\uE0XX`) and passes such bytes through; for
/// such an input both sides are checked with each invalid sequence read as
/// U+FFFD.
pub fn check_record(input: &[u8], output: &[u8], line_keys: &[&[u8]]) {
    check_record_with(input, output, line_keys, 0)
}

/// [`check_record`], the output's size bound widened by `extra` input
/// bytes that are not the record (see [`assert_linear_size_with`]).
pub fn check_record_with(input: &[u8], output: &[u8], line_keys: &[&[u8]], extra: usize) {
    if std::str::from_utf8(input).is_err() {
        let input = String::from_utf8_lossy(input);
        let output = String::from_utf8_lossy(output);
        return check_utf8_record(input.as_bytes(), output.as_bytes(), line_keys, extra);
    }
    check_utf8_record(input, output, line_keys, extra)
}

fn check_utf8_record(input: &[u8], output: &[u8], line_keys: &[&[u8]], extra: usize) {
    let inputs = match is_object(input) {
        Ok(_) => Some(members(input)),
        Err(_) => None,
    };
    let unique = inputs.as_ref().is_none_or(|i| duplicate_key(i).is_none());
    let known = inputs.as_deref().map(tolerated).unwrap_or_default();
    let outputs = assert_object_but(input, output, unique, &known);
    assert_linear_size_with(input, output, extra);
    let rejected = outputs.iter().any(|m| m.key == b"rosetta.raw");
    match inputs {
        Some(inputs) => {
            if rejected {
                panic!(
                    "a JSON object was refused as invalid\n input: {}\noutput: {}",
                    String::from_utf8_lossy(input),
                    String::from_utf8_lossy(output)
                );
            }
            assert_survives(input, output, &inputs, &outputs, line_keys);
        }
        None => {
            assert!(
                rejected,
                "invalid JSON was not reported\n input: {}\noutput: {}",
                String::from_utf8_lossy(input),
                String::from_utf8_lossy(output)
            );
        }
    }
}
