//! msgpack as fluent-bit writes it and as the host reads a module's answer
//! in `event_format msgpack`.
//!
//! Writing follows msgpack-c's packers: the shortest integer form (unsigned
//! forms for non-negative values), `str8` for 32..=255-byte strings, floats
//! always as float64.
//!
//! Reading checks that a byte string is exactly one msgpack value and says
//! what its outer type is, without recursion (any nesting depth is checked
//! in constant stack); it builds a [`Body`] only when the value nests no
//! deeper than [`BUILD_DEPTH_LIMIT`], so that dropping the result cannot
//! exhaust the stack either.

use crate::body::Body;
use std::fmt;

/// Deepest nesting for which [`decode_one`] builds a [`Body`].
pub const BUILD_DEPTH_LIMIT: usize = 128;

/// Why a byte string is not exactly one msgpack value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsgpackError {
    /// The input ended inside a value (`at` is where the value started).
    Truncated { at: usize },
    /// A byte that no msgpack value starts with (only 0xc1).
    InvalidMarker { at: usize, marker: u8 },
    /// The value ended before the input did.
    TrailingBytes { end: usize, len: usize },
    /// Nothing at all.
    Empty,
}

impl fmt::Display for MsgpackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MsgpackError::Truncated { at } => write!(
                f,
                "msgpack truncated (value at byte {at} runs past the end)"
            ),
            MsgpackError::InvalidMarker { at, marker } => {
                write!(f, "invalid msgpack marker 0x{marker:02x} at byte {at}")
            }
            MsgpackError::TrailingBytes { end, len } => {
                write!(
                    f,
                    "msgpack value ends at byte {end} of {len}: more than one value"
                )
            }
            MsgpackError::Empty => write!(f, "empty msgpack"),
        }
    }
}

impl std::error::Error for MsgpackError {}

/// The outer type of a msgpack value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Map,
    Array,
    Other,
}

/// One checked msgpack value.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub kind: Kind,
    /// The value, when it nests no deeper than [`BUILD_DEPTH_LIMIT`].
    pub body: Option<Body>,
}

/// Encodes `body` the way msgpack-c packs it.
pub fn encode(body: &Body) -> Vec<u8> {
    let mut out = Vec::new();
    write(&mut out, body);
    out
}

fn write(out: &mut Vec<u8>, body: &Body) {
    match body {
        Body::Nil => out.push(0xc0),
        Body::Bool(false) => out.push(0xc2),
        Body::Bool(true) => out.push(0xc3),
        Body::UInt(v) => write_uint(out, *v),
        Body::Int(v) => {
            if *v >= 0 {
                write_uint(out, v.unsigned_abs());
            } else if *v >= -32 {
                out.push(*v as u8);
            } else if *v >= i64::from(i8::MIN) {
                out.push(0xd0);
                out.push(*v as i8 as u8);
            } else if *v >= i64::from(i16::MIN) {
                out.push(0xd1);
                out.extend_from_slice(&(*v as i16).to_be_bytes());
            } else if *v >= i64::from(i32::MIN) {
                out.push(0xd2);
                out.extend_from_slice(&(*v as i32).to_be_bytes());
            } else {
                out.push(0xd3);
                out.extend_from_slice(&v.to_be_bytes());
            }
        }
        Body::Float(v) => {
            out.push(0xcb);
            out.extend_from_slice(&v.to_be_bytes());
        }
        Body::Str(bytes) => {
            write_len(out, bytes.len(), Some(0xa0), 32, [0xd9, 0xda, 0xdb]);
            out.extend_from_slice(bytes);
        }
        Body::Bin(bytes) => {
            write_len(out, bytes.len(), None, 0, [0xc4, 0xc5, 0xc6]);
            out.extend_from_slice(bytes);
        }
        Body::Array(items) => {
            write_container_len(out, items.len(), 0x90, [0xdc, 0xdd]);
            for item in items {
                write(out, item);
            }
        }
        Body::Map(entries) => {
            write_container_len(out, entries.len(), 0x80, [0xde, 0xdf]);
            for (key, value) in entries {
                write(out, key);
                write(out, value);
            }
        }
    }
}

fn write_uint(out: &mut Vec<u8>, v: u64) {
    if v < 0x80 {
        out.push(v as u8);
    } else if v <= u64::from(u8::MAX) {
        out.push(0xcc);
        out.push(v as u8);
    } else if v <= u64::from(u16::MAX) {
        out.push(0xcd);
        out.extend_from_slice(&(v as u16).to_be_bytes());
    } else if v <= u64::from(u32::MAX) {
        out.push(0xce);
        out.extend_from_slice(&(v as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// `fix` is the fixed-size marker (if the type has one) valid below `fix_limit`;
/// `markers` are the 8-, 16- and 32-bit length forms.
fn write_len(out: &mut Vec<u8>, len: usize, fix: Option<u8>, fix_limit: usize, markers: [u8; 3]) {
    match fix {
        Some(fix) if len < fix_limit => out.push(fix | len as u8),
        _ if len <= usize::from(u8::MAX) => {
            out.push(markers[0]);
            out.push(len as u8);
        }
        _ if len <= usize::from(u16::MAX) => {
            out.push(markers[1]);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(markers[2]);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

fn write_container_len(out: &mut Vec<u8>, len: usize, fix: u8, markers: [u8; 2]) {
    if len < 16 {
        out.push(fix | len as u8);
    } else if len <= usize::from(u16::MAX) {
        out.push(markers[0]);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(markers[1]);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// What one marker byte announces.
enum Head {
    /// A scalar: `payload` bytes follow the header of `header` bytes.
    Scalar { header: usize, payload: usize },
    /// A container of `items` values (a map counts keys and values).
    Container {
        header: usize,
        items: u64,
        kind: Kind,
    },
}

fn be(bytes: &[u8], at: usize, width: usize) -> Option<u64> {
    let slice = bytes.get(at..at.checked_add(width)?)?;
    Some(slice.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

fn head(bytes: &[u8], at: usize) -> Result<Head, MsgpackError> {
    let truncated = MsgpackError::Truncated { at };
    let marker = *bytes.get(at).ok_or(truncated.clone())?;
    let sized = |width: usize| -> Result<usize, MsgpackError> {
        let len = be(bytes, at + 1, width).ok_or(truncated.clone())?;
        usize::try_from(len).map_err(|_| truncated.clone())
    };
    let scalar = |header: usize, payload: usize| Ok(Head::Scalar { header, payload });
    match marker {
        0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => scalar(1, 0),
        0x80..=0x8f => Ok(Head::Container {
            header: 1,
            items: 2 * u64::from(marker & 0x0f),
            kind: Kind::Map,
        }),
        0x90..=0x9f => Ok(Head::Container {
            header: 1,
            items: u64::from(marker & 0x0f),
            kind: Kind::Array,
        }),
        0xa0..=0xbf => scalar(1, usize::from(marker & 0x1f)),
        0xc1 => Err(MsgpackError::InvalidMarker { at, marker }),
        0xc4 | 0xd9 => scalar(2, sized(1)?),
        0xc5 | 0xda => scalar(3, sized(2)?),
        0xc6 | 0xdb => scalar(5, sized(4)?),
        0xc7 => scalar(3, sized(1)?),
        0xc8 => scalar(4, sized(2)?),
        0xc9 => scalar(6, sized(4)?),
        0xca => scalar(1, 4),
        0xcb => scalar(1, 8),
        0xcc | 0xd0 => scalar(1, 1),
        0xcd | 0xd1 => scalar(1, 2),
        0xce | 0xd2 => scalar(1, 4),
        0xcf | 0xd3 => scalar(1, 8),
        0xd4 => scalar(2, 1),
        0xd5 => scalar(2, 2),
        0xd6 => scalar(2, 4),
        0xd7 => scalar(2, 8),
        0xd8 => scalar(2, 16),
        0xdc => Ok(Head::Container {
            header: 3,
            items: be(bytes, at + 1, 2).ok_or(truncated)?,
            kind: Kind::Array,
        }),
        0xdd => Ok(Head::Container {
            header: 5,
            items: be(bytes, at + 1, 4).ok_or(truncated)?,
            kind: Kind::Array,
        }),
        0xde => Ok(Head::Container {
            header: 3,
            items: 2 * be(bytes, at + 1, 2).ok_or(truncated)?,
            kind: Kind::Map,
        }),
        0xdf => Ok(Head::Container {
            header: 5,
            items: 2 * be(bytes, at + 1, 4).ok_or(truncated)?,
            kind: Kind::Map,
        }),
    }
}

/// Checks that `bytes` is exactly one msgpack value (iteratively) and
/// returns its outer type, its nesting depth and its length.
fn check(bytes: &[u8]) -> Result<(Kind, usize), MsgpackError> {
    if bytes.is_empty() {
        return Err(MsgpackError::Empty);
    }
    let mut pos = 0usize;
    let mut pending: Vec<u64> = Vec::new();
    let mut depth = 0usize;
    let mut outer = Kind::Other;
    loop {
        let start = pos;
        match head(bytes, pos)? {
            Head::Scalar { header, payload } => {
                pos = pos
                    .checked_add(header)
                    .and_then(|p| p.checked_add(payload))
                    .filter(|&end| end <= bytes.len())
                    .ok_or(MsgpackError::Truncated { at: start })?;
            }
            Head::Container {
                header,
                items,
                kind,
            } => {
                if start == 0 {
                    outer = kind;
                }
                pos += header;
                if pos > bytes.len() {
                    return Err(MsgpackError::Truncated { at: start });
                }
                if items > 0 {
                    pending.push(items);
                    depth = depth.max(pending.len());
                    continue;
                }
            }
        }
        // One value finished: count it against the enclosing containers.
        loop {
            match pending.last_mut() {
                None => {
                    return if pos == bytes.len() {
                        Ok((outer, depth))
                    } else {
                        Err(MsgpackError::TrailingBytes {
                            end: pos,
                            len: bytes.len(),
                        })
                    };
                }
                Some(left) => {
                    *left -= 1;
                    if *left > 0 {
                        break;
                    }
                    pending.pop();
                }
            }
        }
    }
}

/// Checks that `bytes` is exactly one msgpack value and builds it when it
/// is shallow enough.
pub fn decode_one(bytes: &[u8]) -> Result<Decoded, MsgpackError> {
    let (kind, depth) = check(bytes)?;
    let body = if depth <= BUILD_DEPTH_LIMIT {
        let mut pos = 0;
        build(bytes, &mut pos)
    } else {
        None
    };
    Ok(Decoded { kind, body })
}

/// Builds one value at `pos`; only called on checked, shallow input, so the
/// recursion is bounded by [`BUILD_DEPTH_LIMIT`].
fn build(bytes: &[u8], pos: &mut usize) -> Option<Body> {
    let at = *pos;
    let marker = *bytes.get(at)?;
    let int = |width: usize| be(bytes, at + 1, width);
    let value = match head(bytes, at).ok()? {
        Head::Container {
            header,
            items,
            kind,
        } => {
            *pos += header;
            return Some(match kind {
                Kind::Map => {
                    let mut entries = Vec::new();
                    for _ in 0..items / 2 {
                        let key = build(bytes, pos)?;
                        let value = build(bytes, pos)?;
                        entries.push((key, value));
                    }
                    Body::Map(entries)
                }
                _ => {
                    let mut list = Vec::new();
                    for _ in 0..items {
                        list.push(build(bytes, pos)?);
                    }
                    Body::Array(list)
                }
            });
        }
        Head::Scalar { header, payload } => {
            *pos += header + payload;
            let data = bytes.get(at + header..at + header + payload)?.to_vec();
            match marker {
                0x00..=0x7f => Body::UInt(u64::from(marker)),
                0xe0..=0xff => Body::Int(i64::from(marker as i8)),
                0xc0 => Body::Nil,
                0xc2 => Body::Bool(false),
                0xc3 => Body::Bool(true),
                0xa0..=0xbf | 0xd9 | 0xda | 0xdb => Body::Str(data),
                0xca => Body::Float(f64::from(f32::from_bits(int(4)? as u32))),
                0xcb => Body::Float(f64::from_bits(int(8)?)),
                0xcc => Body::UInt(int(1)?),
                0xcd => Body::UInt(int(2)?),
                0xce => Body::UInt(int(4)?),
                0xcf => Body::UInt(int(8)?),
                0xd0 => Body::Int(i64::from(int(1)? as u8 as i8)),
                0xd1 => Body::Int(i64::from(int(2)? as u16 as i16)),
                0xd2 => Body::Int(i64::from(int(4)? as u32 as i32)),
                0xd3 => Body::Int(int(8)? as i64),
                // bin and ext: the payload (an ext's type byte is dropped).
                _ => Body::Bin(data),
            }
        }
    };
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortest_forms() {
        let cases: &[(&str, Body, &[u8])] = &[
            ("nil", Body::Nil, &[0xc0]),
            ("fixint", Body::UInt(5), &[0x05]),
            ("zero as int", Body::Int(0), &[0x00]),
            ("uint8", Body::UInt(200), &[0xcc, 200]),
            (
                "positive int uses uint16",
                Body::Int(300),
                &[0xcd, 0x01, 0x2c],
            ),
            ("negative fixint", Body::Int(-1), &[0xff]),
            ("int8", Body::Int(-100), &[0xd0, 0x9c]),
            ("int16", Body::Int(-200), &[0xd1, 0xff, 0x38]),
            (
                "uint64",
                Body::UInt(u64::MAX),
                &[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            ),
            (
                "float64",
                Body::Float(1.5),
                &[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
            ),
            ("fixstr", Body::str("ab"), &[0xa2, b'a', b'b']),
            ("bin8", Body::Bin(vec![1]), &[0xc4, 1, 1]),
            (
                "fixmap",
                Body::map([("a", Body::Nil)]),
                &[0x81, 0xa1, b'a', 0xc0],
            ),
            (
                "fixarray",
                Body::Array(vec![Body::Bool(true)]),
                &[0x91, 0xc3],
            ),
        ];
        for (name, body, expected) in cases {
            assert_eq!(encode(body), expected.to_vec(), "{name}");
            // Non-negative integers come back unsigned, as msgpack-c reads them.
            let read_back = match body {
                Body::Int(v) if *v >= 0 => Body::UInt(v.unsigned_abs()),
                other => other.clone(),
            };
            assert_eq!(
                decode_one(expected).ok().and_then(|d| d.body),
                Some(read_back),
                "{name} round trip"
            );
        }
    }

    #[test]
    fn str8_and_map16() {
        let s = Body::Str(vec![b'x'; 40]);
        assert_eq!(encode(&s).get(..2), Some(&[0xd9, 40][..]));
        let map = Body::Map((0..16).map(|i| (Body::UInt(i), Body::Nil)).collect());
        let bytes = encode(&map);
        assert_eq!(bytes.get(..3), Some(&[0xde, 0x00, 0x10][..]));
        assert_eq!(decode_one(&bytes).map(|d| d.kind), Ok(Kind::Map));
    }

    #[test]
    fn invalid_inputs() {
        let cases: &[(&str, &[u8], MsgpackError)] = &[
            ("empty", &[], MsgpackError::Empty),
            (
                "c1",
                &[0xc1],
                MsgpackError::InvalidMarker {
                    at: 0,
                    marker: 0xc1,
                },
            ),
            (
                "map missing value",
                &[0x81, 0xa1, b'a'],
                MsgpackError::Truncated { at: 3 },
            ),
            (
                "string too short",
                &[0xa3, b'a'],
                MsgpackError::Truncated { at: 0 },
            ),
            (
                "two values",
                &[0x80, 0x80],
                MsgpackError::TrailingBytes { end: 1, len: 2 },
            ),
            (
                "map16 cut at its length",
                &[0xde, 0x00],
                MsgpackError::Truncated { at: 0 },
            ),
        ];
        for (name, bytes, expected) in cases {
            assert_eq!(decode_one(bytes), Err(expected.clone()), "{name}");
        }
    }

    #[test]
    fn deep_nesting_is_checked_without_building() {
        let depth = 10_000;
        let mut bytes = vec![0x91; depth];
        bytes.push(0xc0);
        let decoded = decode_one(&bytes);
        assert_eq!(decoded.as_ref().map(|d| d.kind), Ok(Kind::Array));
        assert_eq!(decoded.ok().and_then(|d| d.body), None);
    }
}
