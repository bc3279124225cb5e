//! The container runtime's envelope around a line.
//!
//! - **Docker json-file**: fluent-bit's `docker` parser (or the tail
//!   input's `docker` multiline parser) already split it: the line is in
//!   `log`, with its trailing newline (`\n`, escaped), which every parser
//!   trims.
//! - **CRI** (containerd, CRI-O): `<time> <stream> <P|F> <message>`. Either
//!   fluent-bit's `cri` parser split it (`message`, `stream`, `logtag`,
//!   `time`), or the raw line sits in `log`; [`split_cri`] reads the raw
//!   form. `P` marks a partial line (the runtime cut a long line into
//!   pieces): it is marked `rosetta.partial` and passed on unparsed, since a
//!   fragment is not a line of any format.
//!
//! Recognising the raw form costs a fixed-size shape check of the time and
//! one bounded search; a line that is not CRI is left as it is.

use crate::config::Stream;

/// A raw CRI line, split.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cri<'a> {
    /// The runtime's time, RFC 3339 with nanoseconds.
    pub time: &'a [u8],
    /// The stream.
    pub stream: Stream,
    /// Whether this is a partial line (`P`).
    pub partial: bool,
    /// The message.
    pub message: &'a [u8],
}

/// Splits a raw CRI line (escaped JSON string content or plain text: the
/// envelope has no characters that need escaping).
pub fn split_cri(line: &[u8]) -> Option<Cri<'_>> {
    // `2016-10-06T00:17:09.669794202Z`: date, `T`, time; then a space.
    let shape = line.get(..20)?;
    let digit = |i: usize| shape.get(i).is_some_and(u8::is_ascii_digit);
    if !(digit(0) && digit(3) && shape.get(4) == Some(&b'-') && shape.get(10) == Some(&b'T'))
        || shape.get(13) != Some(&b':')
    {
        return None;
    }
    // The time is at most 35 bytes (nanoseconds and an offset).
    let space = line.iter().take(40).position(|&b| b == b' ')?;
    let time = line.get(..space)?;
    let rest = line.get(space + 1..)?;
    let (stream, rest) = if let Some(r) = rest.strip_prefix(b"stdout ") {
        (Stream::Stdout, r)
    } else if let Some(r) = rest.strip_prefix(b"stderr ") {
        (Stream::Stderr, r)
    } else {
        return None;
    };
    let (partial, message) = match rest {
        [b'P', b' ', m @ ..] => (true, m),
        [b'F', b' ', m @ ..] => (false, m),
        [b'P'] => (true, &[][..]),
        [b'F'] => (false, &[][..]),
        _ => return None,
    };
    Some(Cri {
        time,
        stream,
        partial,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_cases() {
        let t = b"2016-10-06T00:17:09.669794202Z";
        let full = split_cri(b"2016-10-06T00:17:09.669794202Z stdout F hello world").unwrap();
        assert_eq!(full.time, t);
        assert_eq!(full.stream, Stream::Stdout);
        assert!(!full.partial);
        assert_eq!(full.message, b"hello world");
        let partial = split_cri(b"2016-10-06T00:17:09.669794202Z stderr P part one").unwrap();
        assert!(partial.partial);
        assert_eq!(
            (partial.stream, partial.message),
            (Stream::Stderr, &b"part one"[..])
        );
        let empty = split_cri(b"2016-10-06T00:17:09.669794202Z stdout F").unwrap();
        assert_eq!(empty.message, b"");
        let offset = split_cri(b"2016-10-06T00:17:09.669794202+02:00 stdout F x").unwrap();
        assert_eq!(offset.message, b"x");
        for (name, line) in [
            ("docker line", &b"hello world"[..]),
            ("bad stream", b"2016-10-06T00:17:09.669794202Z stdin F x"),
            ("bad tag", b"2016-10-06T00:17:09.669794202Z stdout X x"),
            ("no tag", b"2016-10-06T00:17:09.669794202Z stdout "),
            (
                "istio line",
                b"[2020-11-25T21:26:18.409Z] \\\"GET / HTTP/1.1\\\" 200",
            ),
            ("date only", b"2016-10-06 00:17:09 stdout F x"),
            ("short", b"2016-10-06T00:17"),
        ] {
            assert_eq!(split_cri(line), None, "{name}");
        }
    }
}
