//! The fuzz targets' invariants, run natively over a seeded generator for
//! a few seconds in `make test` (the fuzzers themselves run in `make
//! fuzz`). The checks are the fuzz targets' own (`fuzz/fuzz_targets/`):
//!
//! - every record gives exactly one valid JSON object (msgpack: one
//!   zero-free map), twice the same on one instance, with unique keys;
//! - every input member but the line survives byte for byte, under its
//!   key or as `rosetta.original.<key>`;
//! - each parser's fields are one JSON object; an accepted time writes
//!   out as RFC 3339 that reads back the same;
//! - a mutated configuration file either loads or names a line in it,
//!   and records still pass the checks above;
//! - output is at most linear in the input (work itself is
//!   `tests/linear_time.rs`'s, counted in fuel).
//!
//! Records are docker-shaped with adversarial lines: fragments of every
//! format, quotes, backslashes, literal `\u` sequences, control bytes,
//! non-ASCII and invalid UTF-8, and long runs of any of them.

#[path = "../fuzz/fuzz_targets/checks.rs"]
mod checks;
#[path = "../fuzz/fuzz_targets/invariants.rs"]
mod invariants;
#[path = "../fuzz/fuzz_targets/msgpack_check.rs"]
mod msgpack_check;

/// Records per property; each runs under one configuration of
/// `checks::CONFIGS`, picked by the generator.
const CASES: usize = 1000;

/// xorshift64*: small, seeded, reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, list: &'a [T]) -> &'a T {
        &list[self.below(list.len())]
    }
}

/// Pieces a line is built from: each format's opening, separators, and
/// the bytes that break naive parsers.
const PIECES: &[&[u8]] = &[
    b"{\"level\":\"info\",\"msg\":",
    b"{\":authority\":\"a\",",
    b"{\"authority\":\"h\",\"bytes_received\":1,",
    b"}",
    b"level=info msg=",
    b"a=b ",
    b"=",
    b"I0917 12:19:26.569980       1 main.go:10] ",
    b"2018/09/17 12:19:26 ",
    b"2018/09/17 12:19:26 [error] 8#8: *1 ",
    b"[Mon Sep 17 12:19:26.123456 2018] [core:error] [pid 1] ",
    b"[2026-11-27T08:10:00.000Z] \"GET / HTTP/1.1\" 200 - via_upstream - \"-\" 0 0 1 1 \"-\" \"ua\" \"id\" \"h\" \"10.0.0.1:80\" ",
    b"1.2.3.4 - - [17/Sep/2018:14:19:26 +0200] \"GET / HTTP/1.1\" 200 12 \"-\" \"curl\" ",
    b" 1 0.001 [up] [] 10.0.0.2:80 1 0.001 200 id",
    b"<34>1 2018-09-17T12:19:26.5Z host app 1 ID47 - ",
    b"<34>Sep 17 12:19:26 host app[1]: ",
    b"2024-01-02T03:04:05.123456789Z stdout F ",
    b"\"",
    b"\\",
    b"\\\"",
    b"\\u0041",
    b"\\ud83d\\ude00",
    b"\\ud800",
    b"\\n",
    b"\n",
    b"\r\n",
    b"\t",
    b"\x00",
    b"\x01\x1f\x7f",
    b" ",
    b"-",
    b"[",
    b"]",
    b"0",
    b"123456789012345678901234567890",
    b"1.5e3",
    "é€😀\u{2028}".as_bytes(),
    b"\xff\xfe",
    b"\xc3",
    b"\xed\xa0\x80",
];

/// A line of up to a few KiB: pieces, some repeated into long runs.
fn line(rng: &mut Rng) -> Vec<u8> {
    let mut line = Vec::new();
    for _ in 0..rng.below(12) {
        let piece = *rng.pick(PIECES);
        let times = if rng.below(8) == 0 {
            1 + rng.below(200)
        } else {
            1
        };
        for _ in 0..times {
            line.extend_from_slice(piece);
        }
    }
    line
}

#[test]
fn docker_records_pass_every_invariant() {
    let mut rng = Rng(0x5eed_0001);
    for _ in 0..CASES {
        let mut bytes = vec![
            rng.below(256) as u8,
            rng.below(256) as u8,
            rng.below(256) as u8,
        ];
        bytes.extend_from_slice(&line(&mut rng));
        checks::check_docker(&bytes);
    }
}

#[test]
fn msgpack_records_pass_every_invariant() {
    let mut rng = Rng(0x5eed_0002);
    for _ in 0..CASES / 3 {
        let mut bytes = vec![1 | rng.below(256) as u8, rng.below(256) as u8];
        bytes.extend([rng.below(256) as u8, rng.below(256) as u8]);
        bytes.extend_from_slice(&line(&mut rng));
        checks::check_msgpack(&bytes);
        // The same bytes behind a map marker: mostly invalid msgpack.
        bytes[0] &= 0xfe;
        checks::check_msgpack(&bytes);
    }
}

/// Records nested past serde_json's default limit of 128 levels, as JSON
/// and as msgpack: rosetta passes them on as they are, and the checks read
/// them at any depth (a msgpack run found the checks refusing one).
#[test]
fn deeply_nested_records_pass_every_invariant() {
    for depth in [127, 129, 1_000, 10_000] {
        let json = format!("{{\"a\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
        checks::check_raw(json.as_bytes());
        // {"a": [[...[]...]]}: a map of one, then arrays of one.
        let mut msgpack = vec![0x81, 0xa1, b'a'];
        msgpack.extend(std::iter::repeat_n(0x91, depth));
        msgpack.push(0x90);
        checks::check_raw(&msgpack);
    }
}

#[test]
fn mutated_records_pass_every_invariant() {
    let mut rng = Rng(0x5eed_0003);
    for _ in 0..CASES {
        let mut bytes = vec![1, rng.below(256) as u8, rng.below(256) as u8, 0];
        bytes.extend_from_slice(&line(&mut rng));
        let (_, _, mut record) = checks::docker(&bytes[1..]);
        for _ in 0..rng.below(3) {
            let at = rng.below(record.len());
            record[at] = *rng.pick(b"{}[]\",:\\ 0a\xff");
        }
        checks::check_raw(&record);
    }
}

#[test]
fn every_parser_writes_one_object() {
    let mut rng = Rng(0x5eed_0004);
    for _ in 0..CASES {
        let format = checks::format(rng.below(256) as u8);
        let content = checks::escaped(&line(&mut rng));
        checks::check_line(format, &content, &mut |_| {});
    }
}

#[test]
fn accepted_times_read_back() {
    const TIMES: &[&[u8]] = &[
        b"2018-09-17T14:13:43.123+02:00",
        b"2018-09-17 14:13:43,5+0200",
        b"2018/09/17 12:19:26.123456",
        b"2018-09-17 05:19:26.123456789 -0700 MST m=+0.01",
        b"17/Sep/2018:14:19:26 +0200",
        b"Mon, 17 Sep 2018 12:19:26 GMT",
        b"Mon Sep 17 14:19:26 +0200 2018",
        b"Sep  7 12:19:26",
        b"E0917 12:19:26.569980",
        b"1537186766.5",
        b"%Y-%m-%dT%H:%M:%S.%L%z\x002018-09-17T12:13:43.123+0200",
        b"%d/%b/%Y:%H:%M:%S %z\x0017/Sep/2018:14:19:26 +0200",
    ];
    let mut rng = Rng(0x5eed_0005);
    for _ in 0..CASES * 3 {
        let mut time = rng.pick(TIMES).to_vec();
        for _ in 0..rng.below(3) {
            let at = rng.below(time.len() + 1);
            match rng.below(3) {
                0 if at < time.len() => {
                    time.remove(at);
                }
                1 if at < time.len() => time[at] = *rng.pick(b"0123456789 -+:.,TZ/%\x00"),
                _ => time.insert(at, *rng.pick(b"0123456789 -+:.,TZ/%a")),
            }
        }
        checks::check_time(&time);
    }
}

#[test]
fn mutated_configuration_files_load_or_name_a_line() {
    const INSERTS: &[&str] = &[
        "keep_log = 1\n",
        "parsers = []\n",
        "parsers = [\"json\", \"nope\"]\n",
        "[[route]]\n",
        "into = \"\"\n",
        "labels = { app = \"a*\" }\n",
        "stream = \"stdin\"\n",
        "[[parser]]\nname = \"mine\"\nregex = \"^(?<a>\\\\w+) (?<b>\\\\d+)$\"\ntypes = \"b:integer\"\n",
        "[[parser]]\nname = \"bad\"\nregex = \"(\"\n",
        "merge_key = \"log\"\n",
        "time_key = \"stream\"\n",
        "log_key = \"message\"\n",
        "parsers_file = \"/nowhere/parsers.conf\"\n",
        "\"quoted key\" = true\n",
        "# comment\n",
    ];
    let samples = [
        include_str!("../fluent-bit-conf/rosetta.toml"),
        include_str!("../examples/rosetta.toml"),
    ];
    let mut rng = Rng(0x5eed_0006);
    for _ in 0..CASES / 6 {
        let mut lines: Vec<String> = rng.pick(&samples).lines().map(str::to_string).collect();
        for _ in 0..1 + rng.below(3) {
            let at = rng.below(lines.len() + 1);
            match rng.below(4) {
                0 if at < lines.len() => {
                    lines.remove(at);
                }
                1 if at < lines.len() => {
                    let mut bytes = lines[at].clone().into_bytes();
                    let i = rng.below(bytes.len() + 1);
                    bytes.insert(i, *rng.pick(b"\"[]={},#\\x1 \t"));
                    lines[at] = String::from_utf8_lossy(&bytes).into_owned();
                }
                2 if at < lines.len() => {
                    let copy = lines[at].clone();
                    lines.insert(at, copy);
                }
                _ => lines.insert(at, rng.pick(INSERTS).to_string()),
            }
        }
        checks::check_config(lines.join("\n").as_bytes());
    }
}
