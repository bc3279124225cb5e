//! An independent msgpack reader for the msgpack-mode checks: the output
//! must be exactly one map, hold no 0x00 byte (fluent-bit cuts the result
//! there), and, unless it is the error wrapper, read back as one JSON
//! object that passes `invariants`.

#![allow(dead_code)]

use crate::invariants;

/// The end of the one msgpack value at `at`, iteratively.
fn value_end(b: &[u8], at: usize) -> Result<usize, String> {
    let mut pos = at;
    let mut left: u64 = 1;
    let be = |pos: usize, n: usize| -> Result<u64, String> {
        let s = b.get(pos..pos + n).ok_or("truncated length")?;
        Ok(s.iter().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
    };
    while left > 0 {
        left -= 1;
        let &m = b.get(pos).ok_or_else(|| format!("truncated at {pos}"))?;
        pos += 1;
        let (skip, items) = match m {
            0x00..=0x7f | 0xe0..=0xff | 0xc0 | 0xc2 | 0xc3 => (0, 0),
            0x80..=0x8f => (0, 2 * u64::from(m & 0x0f)),
            0x90..=0x9f => (0, u64::from(m & 0x0f)),
            0xa0..=0xbf => (u64::from(m & 0x1f), 0),
            0xc4 | 0xd9 => (be(pos, 1)? + 1, 0),
            0xc5 | 0xda => (be(pos, 2)? + 2, 0),
            0xc6 | 0xdb => (be(pos, 4)? + 4, 0),
            0xc7 => (be(pos, 1)? + 2, 0),
            0xc8 => (be(pos, 2)? + 3, 0),
            0xc9 => (be(pos, 4)? + 5, 0),
            0xca | 0xce | 0xd2 => (4, 0),
            0xcb | 0xcf | 0xd3 => (8, 0),
            0xcc | 0xd0 => (1, 0),
            0xcd | 0xd1 => (2, 0),
            0xd4 => (2, 0),
            0xd5 => (3, 0),
            0xd6 => (5, 0),
            0xd7 => (9, 0),
            0xd8 => (17, 0),
            0xdc => (2, be(pos, 2)?),
            0xdd => (4, be(pos, 4)?),
            0xde => (2, 2 * be(pos, 2)?),
            0xdf => (4, 2 * be(pos, 4)?),
            0xc1 => return Err(format!("0xc1 at {}", pos - 1)),
        };
        pos = pos
            .checked_add(usize::try_from(skip).map_err(|e| e.to_string())?)
            .ok_or("overflow")?;
        if pos > b.len() {
            return Err(format!("truncated value ending at {pos}"));
        }
        left = left.checked_add(items).ok_or("overflow")?;
        if left > b.len() as u64 {
            return Err("more items than bytes".into());
        }
    }
    Ok(pos)
}

/// Asserts that `output` is one msgpack map and nothing else, holds no
/// 0x00 byte, and, unless it is rosetta's error wrapper, reads back as
/// a JSON object that passes `invariants::check_record` against `input`
/// read as JSON the same way.
pub fn assert_one_map(input: &[u8], output: &[u8]) {
    let show = || format!("\n input: {input:02x?}\noutput: {output:02x?}");
    assert!(
        rosetta::msgpack::looks_like_map(output),
        "output is not a map{}",
        show()
    );
    match value_end(output, 0) {
        Ok(end) => assert!(end == output.len(), "bytes after the map{}", show()),
        Err(e) => panic!("output is not msgpack: {e}{}", show()),
    }
    assert!(!output.contains(&0), "output holds a 0x00 byte{}", show());
    let mut json_in = Vec::new();
    let decoded = rosetta::msgpack::to_json(input, &mut json_in).is_ok();
    if decoded {
        // The transcoding rosetta runs the record through is itself a JSON
        // object.
        if let Err(e) = invariants::is_object(&json_in) {
            panic!(
                "msgpack::to_json wrote no object ({e}): {}{}",
                String::from_utf8_lossy(&json_in),
                show()
            );
        }
    }
    let mut json_out = Vec::new();
    if let Err(e) = rosetta::msgpack::to_json(output, &mut json_out) {
        panic!("output does not read back: {e}{}", show());
    }
    let wrapped = json_out.starts_with(b"{\"rosetta.error\":\"msgpack-nul")
        || json_out.starts_with(b"{\"rosetta.error\":\"invalid-msgpack");
    assert!(
        decoded || wrapped,
        "undecodable input without the wrapper{}",
        show()
    );
    if decoded && !wrapped {
        invariants::check_record(&json_in, &json_out, &[b"log", b"message"]);
    }
}
