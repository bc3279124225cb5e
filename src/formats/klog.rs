//! klog and glog lines, the text format of Kubernetes components and of
//! many Go programs (<https://github.com/kubernetes/klog>):
//!
//! `Lmmdd hh:mm:ss.uuuuuu threadid file:line] msg`
//!
//! e.g. `E0917 12:19:26.569980       1 streamwatcher.go:109] Unable to decode an event from the watch stream`,
//! where `L` is the severity (`I`nfo, `W`arning, `E`rror, `F`atal) and the
//! thread id is space-padded to seven columns. Also accepted behind a
//! prefix ending in `: ` within the first 80 bytes, as glog writes
//! `ERROR: logging before flag.Parse: E0917 ...` for messages logged before
//! its flags were read.
//!
//! Entry point: [`parse`].
//!
//! # Fields
//!
//! | field | JSON type | meaning | source token |
//! |---|---|---|---|
//! | `prefix` | string | text before the header, without its `: ` | e.g. `ERROR: logging before flag.Parse` |
//! | `level` | string | severity letter as written: `I`, `W`, `E`, `F` | `L` |
//! | `time` | string | month, day and time, as written (no year, no zone) | `mmdd hh:mm:ss.uuuuuu` |
//! | `pid` | integer | process id (glog's documentation calls it the thread id; klog writes the pid) | `threadid` |
//! | `source` | string | source file and line | `file:line` |
//! | `message` | string | the rest of the line | `msg` |
//!
//! `level` keeps the letter and `time` the text: mapping severities to one
//! vocabulary and completing the year are later steps, done the same way
//! for every format. klog's structured form (`"msg" key="value"`) stays
//! whole in `message`.
//!
//! # Why the split is certain
//!
//! The header is fixed-width up to the thread id and written by the
//! library; `file:line` is a single word ending at `]`. Only the message,
//! last, can hold text from elsewhere, so nothing in it can move a field.
//! The header is checked byte by byte (digits where digits go), and the
//! source file is read up to the first `]` or space: a byte loop over one
//! word. Work is linear in the line's length.

use super::{Fields, Mismatch, Outcome, digits_end, has_shape, trim_line_end};

/// The format name.
pub const KLOG: &str = "klog";

/// How far into the line a prefix may end.
const PREFIX_WINDOW: usize = 80;

/// Parses one klog or glog line.
pub fn parse<'a>(line: &'a [u8], fields: &mut Fields<'a>) -> Outcome {
    let line = trim_line_end(line);
    let found = header(line, 0).map(|h| (None, h)).or_else(|| {
        // A prefix: try the header after each `: ` in the window.
        let window = line
            .get(..PREFIX_WINDOW.min(line.len()))
            .unwrap_or_default();
        window
            .windows(2)
            .enumerate()
            .filter(|(_, pair)| *pair == b": ")
            .find_map(|(p, _)| header(line, p + 2).map(|h| (line.get(..p), h)))
    });
    let Some((prefix, h)) = found else {
        return Err(Mismatch {
            format: KLOG,
            expected: "a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] `",
            at: 0,
        });
    };
    if let Some(prefix) = prefix {
        fields.push_text("prefix", prefix);
    }
    fields.push_text("level", h.level);
    fields.push_text("time", h.time);
    fields.push_count("pid", h.pid);
    fields.push_text("source", h.source);
    fields.push_text("message", h.message);
    Ok(KLOG)
}

/// The parts of a header and the message after it.
struct Header<'a> {
    level: &'a [u8],
    time: &'a [u8],
    pid: &'a [u8],
    source: &'a [u8],
    message: &'a [u8],
}

/// Reads a header starting at `at`.
fn header(line: &[u8], at: usize) -> Option<Header<'_>> {
    let level = line.get(at..at + 1)?;
    if !matches!(level, b"I" | b"W" | b"E" | b"F")
        || !has_shape(line, at + 1, b"9999 99:99:99.999999 ")
    {
        return None;
    }
    let time = line.get(at + 1..at + 21)?;
    let pid_start = super::skip_spaces(line, at + 21);
    let pid_end = digits_end(line, pid_start);
    if pid_end == pid_start || line.get(pid_end) != Some(&b' ') {
        return None;
    }
    let source_start = pid_end + 1;
    let source_len = line
        .get(source_start..)?
        .iter()
        .position(|&b| b == b']' || b == b' ')?;
    let close = source_start + source_len;
    let source = line.get(source_start..close)?;
    if line.get(close) != Some(&b']') || !source.contains(&b':') {
        return None;
    }
    let message = match line.get(close + 1) {
        None => b"".as_slice(),
        Some(b' ') => line.get(close + 2..)?,
        Some(_) => return None,
    };
    Some(Header {
        level,
        time,
        pid: line.get(pid_start..pid_end)?,
        source,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formats::{assert_linear, render};

    /// Named cases: a line as it sits in the record's JSON string and the
    /// exact result. Invalid lines included.
    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "heapster behind glog's prefix, issue sample",
                r#"ERROR: logging before flag.Parse: E0917 12:19:26.569980 1 streamwatcher.go:109] Unable to decode an event from the watch stream: stream error: stream ID 1499; INTERNAL_ERROR\n"#,
                &[
                    r#"klog"#,
                    r#"prefix:"ERROR: logging before flag.Parse""#,
                    r#"level:"E""#,
                    r#"time:"0917 12:19:26.569980""#,
                    r#"pid:1"#,
                    r#"source:"streamwatcher.go:109""#,
                    r#"message:"Unable to decode an event from the watch stream: stream error: stream ID 1499; INTERNAL_ERROR""#,
                ],
            ),
            (
                // https://kubernetes.io/docs/concepts/cluster-administration/system-logs/
                "kubernetes docs sample, padded thread id",
                r#"I1025 00:15:15.525108       1 httplog.go:79] GET /api/v1/namespaces/kube-system/pods/metrics-server-v0.3.1-57c75779f-9p8wg: (1.512ms) 200 [pod_nanny/v0.0.0 (linux/amd64) kubernetes/$Format 10.56.1.19:51756]"#,
                &[
                    r#"klog"#,
                    r#"level:"I""#,
                    r#"time:"1025 00:15:15.525108""#,
                    r#"pid:1"#,
                    r#"source:"httplog.go:79""#,
                    r#"message:"GET /api/v1/namespaces/kube-system/pods/metrics-server-v0.3.1-57c75779f-9p8wg: (1.512ms) 200 [pod_nanny/v0.0.0 (linux/amd64) kubernetes/$Format 10.56.1.19:51756]""#,
                ],
            ),
            (
                // https://kubernetes.io/docs/concepts/cluster-administration/system-logs/
                "kubernetes docs sample, structured message kept whole",
                r#"I1025 00:15:15.525108       1 controller_utils.go:116] \"Pod status updated\" pod=\"kube-system/kubedns\" status=\"ready\""#,
                &[
                    r#"klog"#,
                    r#"level:"I""#,
                    r#"time:"1025 00:15:15.525108""#,
                    r#"pid:1"#,
                    r#"source:"controller_utils.go:116""#,
                    r#"message:"\"Pod status updated\" pod=\"kube-system/kubedns\" status=\"ready\"""#,
                ],
            ),
            (
                "warning, large pid, empty message",
                r#"W0102 03:04:05.000006 4294967 reflector.go:424]"#,
                &[
                    r#"klog"#,
                    r#"level:"W""#,
                    r#"time:"0102 03:04:05.000006""#,
                    r#"pid:4294967"#,
                    r#"source:"reflector.go:424""#,
                ],
            ),
            (
                "another prefix",
                r#"kube-proxy: F0102 03:04:05.000006 7 server.go:1] fatal \u00e9"#,
                &[
                    r#"klog"#,
                    r#"prefix:"kube-proxy""#,
                    r#"level:"F""#,
                    r#"time:"0102 03:04:05.000006""#,
                    r#"pid:7"#,
                    r#"source:"server.go:1""#,
                    r#"message:"fatal \u00e9""#,
                ],
            ),
            (
                "hostile: a forged header in the message stays in the message",
                r#"I0102 03:04:05.000006 7 a.go:1] E0102 03:04:05.000006 9 b.go:2] \"] x"#,
                &[
                    r#"klog"#,
                    r#"level:"I""#,
                    r#"time:"0102 03:04:05.000006""#,
                    r#"pid:7"#,
                    r#"source:"a.go:1""#,
                    r#"message:"E0102 03:04:05.000006 9 b.go:2] \"] x""#,
                ],
            ),
            (
                "invalid: unknown severity letter",
                r#"D0102 03:04:05.000006 7 a.go:1] x"#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
            (
                "invalid: milliseconds only",
                r#"I0102 03:04:05.000 7 a.go:1] x"#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
            (
                "invalid: no thread id",
                r#"I0102 03:04:05.000006 a.go:1] x"#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
            (
                "invalid: source without a line number",
                r#"I0102 03:04:05.000006 7 a.go] x"#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
            (
                "invalid: no space after the bracket",
                r#"I0102 03:04:05.000006 7 a.go:1]x"#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
            (
                "invalid: a Go log line",
                r#"2018/09/17 12:19:26 message"#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
            (
                "invalid: empty line",
                r#""#,
                &[
                    r#"not klog: expected a header `Lmmdd hh:mm:ss.uuuuuu threadid file:line] ` at byte 0"#,
                ],
            ),
        ];
        for (name, line, want) in cases {
            let mut fields = Fields::new();
            let outcome = parse(line.as_bytes(), &mut fields);
            assert_eq!(render(outcome, &fields), *want, "case {name:?}");
        }
    }

    #[test]
    fn hostile_lines_cost_linear_time() {
        let shapes: [(&str, &str, &str); 3] = [
            ("padding spaces", "I0102 03:04:05.000006 ", " "),
            ("a long source word", "I0102 03:04:05.000006 7 ", "a"),
            (
                "message of quotes and backslashes",
                "I0102 03:04:05.000006 7 a.go:1] ",
                r#"\" \\"#,
            ),
        ];
        for (name, prefix, unit) in shapes {
            assert_linear(
                name,
                |size| {
                    let mut line = prefix.as_bytes().to_vec();
                    while line.len() < size {
                        line.extend_from_slice(unit.as_bytes());
                    }
                    line
                },
                |line| {
                    let mut fields = Fields::new();
                    let _ = parse(line, &mut fields);
                },
            );
        }
    }
}
