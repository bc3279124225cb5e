//! Severity: one normalised `level` from the many ways logs say it.
//!
//! The nine levels are syslog's eight (RFC 5424, section 6.2.1) plus
//! `trace` below `debug`, named as Kibana users filter on them. Each entry
//! point reads one kind of sign and returns `None` when it sees none; the
//! caller keeps the original value next to the normalised one.
//!
//! - [`from_value`]: the value of a `level`, `lvl`, `severity`, `loglevel`
//!   field (JSON or logfmt), words in any case or numbers;
//! - [`from_klog_letter`]: klog's and glog's `I`/`W`/`E`/`F`;
//! - [`from_syslog_pri`]: a syslog `<PRI>`;
//! - [`from_status`]: an access log's HTTP status;
//! - [`sniff_message`]: a sign at the start of free text (leading word,
//!   bracketed word, Python and Java layouts).
//!
//! # Words
//!
//! Compared without regard to case, after trimming spaces. Sources: syslog
//! keywords (RFC 5424; `panic`, `error`, `warn` are its deprecated
//! synonyms), Go's logrus (whose text output truncates to four letters:
//! `TRAC`, `DEBU`, `INFO`, `WARN`, `ERRO`, `FATA`, `PANI`), zap (`dpanic`),
//! .NET's console formatter (`trce`, `dbug`, `info`, `warn`, `fail`,
//! `crit`), `java.util.logging` (`finest`…`severe`), Serilog (`verbose`),
//! log4j, Python's `logging`.
//!
//! | level | words |
//! |---|---|
//! | `trace` | `trace`, `trac`, `trce`, `trc`, `finest`, `finer`, `verbose`, `t`, `v` |
//! | `debug` | `debug`, `debu`, `dbug`, `dbg`, `fine`, `config`, `d` |
//! | `info` | `info`, `inf`, `information`, `informational`, `i` |
//! | `notice` | `notice`, `n` |
//! | `warning` | `warning`, `warn`, `wrn`, `w` |
//! | `error` | `error`, `erro`, `eror`, `err`, `fail`, `severe`, `e` |
//! | `critical` | `critical`, `crit`, `fatal`, `fata`, `panic`, `pani`, `dpanic`, `c`, `f` |
//! | `alert` | `alert` |
//! | `emergency` | `emergency`, `emerg` |
//!
//! `panic` is read as Go's (a crashing process: `critical`, as logrus's
//! syslog hook maps it), not as syslog's old synonym for `emerg`. Single
//! letters are accepted only as a field's whole value (where the field name
//! already says it is a level) and by [`from_klog_letter`], never in free
//! text.
//!
//! # Numbers
//!
//! A value of digits only (at most three) is read on one of two scales and
//! nothing else:
//!
//! | value | level | scale |
//! |---|---|---|
//! | 0 … 7 | emergency, alert, critical, error, warning, notice, info, debug | syslog severity (RFC 5424) |
//! | 10, 20, 30, 40, 50, 60 | trace, debug, info, warning, error, critical | bunyan and pino (Node.js) |
//!
//! Python's numeric levels (10 debug … 50 critical) clash with bunyan's and
//! arrive in a field of their own (`levelno`), so they are not guessed here;
//! other numbers (OpenTelemetry's 1-24, log4j's 100-600) return `None`.
//!
//! # Signs in free text ([`sniff_message`])
//!
//! Only the first [`SNIFF_WINDOW`] bytes are looked at (the sign must start
//! there), left to right, token by token (tokens are separated by spaces or
//! `\t`; a `[…]` group is one token); nothing is read twice. The first rule
//! that matches wins; a token that fits no rule ends the search with `None`,
//! so plain text without a sign stays unlevelled, and a level word in the
//! middle of a sentence ("the error handling improved") is never a sign.
//! A *level word* is one of the words above of at least three letters,
//! except `fine`, `finer`, `finest`, `config`, `information` and `verbose`
//! (ordinary words in prose).
//!
//! | rule | where | example |
//! |---|---|---|
//! | klog | at the start: `I`, `W`, `E` or `F`, four digits, a space, a digit | `E0917 12:19:26.569980 1 watch.go:109] …` |
//! | leading word | the first token: a level word in upper case, or in any case followed by `:` | `ERROR: …`, `WARN …`, `fatal: …`, `ERROR:root:…` |
//! | bracketed word | a token `[level word]` (spaces inside allowed, any case; `[module:level]` too) after header tokens only | `[error] …`, `[Sun Dec 04 04:47:44 2005] [error] …`, `2018/09/17 12:19:26 [error] 8#8: …`, `[core:warn]` |
//! | after a header | header tokens, then a level word in upper case (followed by a space, `[`, `:`, `,` or the end) | `2018-09-17 12:13:43.123 ERROR [main] c.e.Class - …`, `12:13:43.123 [main] ERROR c.e.Class - …`, `081109 203615 148 INFO dfs.DataNode…` |
//! | after a time | header tokens including a time (`hh:mm`) or ending with a `-` separator, then a level word in lower case | `2018-09-17T12:13:43.123Z\terror\tmain.go:12\t…` (zap's console layout, tabs escaped) |
//! | Python, dashes | header tokens, `-`, one logger-name token, `-`, a level word in upper or lower case followed by ` -` | `2018-09-17 12:13:43,123 - name - ERROR - …` |
//!
//! *Header tokens* are: tokens that start with a digit, or with `+`/`-` and a
//! digit (dates, times, zones, pids: `2018-09-17`, `12:13:43,123`,
//! `+0000`, `8#8:`); bracketed groups that are not a level (`[main]`,
//! `[2018-09-17 12:13:43,123]`); the separators `-`, `--`, `---`, `|`, `:`;
//! an upper-case zone name of three or four letters right after a time
//! (`UTC`, `CEST`); and Ruby's leading `E,`-style letter and comma. A level
//! word followed by `:` counts in any case wherever a level word may stand.
//!
//! The returned span is the level word itself (without brackets or colon).
//!
//! The input is the message as it sits in the record's JSON string: escapes
//! are ordinary bytes (`\"` is two bytes that are part of no word), except
//! that `\t` separates tokens like a space does.

#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic
    )
)]

use crate::scan::find_in;
use std::ops::Range;

/// A normalised severity, from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Finer than debug.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Normal but significant.
    Notice,
    /// Something may be wrong.
    Warning,
    /// Something failed.
    Error,
    /// A component or process is failing.
    Critical,
    /// Action must be taken at once.
    Alert,
    /// The system is unusable.
    Emergency,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 9] = [
        Level::Trace,
        Level::Debug,
        Level::Info,
        Level::Notice,
        Level::Warning,
        Level::Error,
        Level::Critical,
        Level::Alert,
        Level::Emergency,
    ];

    /// The level's name as written in the `level` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Notice => "notice",
            Level::Warning => "warning",
            Level::Error => "error",
            Level::Critical => "critical",
            Level::Alert => "alert",
            Level::Emergency => "emergency",
        }
    }

    /// Whether `text` is exactly the level's name ([`Level::as_str`]):
    /// each name compared as the constant it is, which compiles to a few
    /// word comparisons where comparing with `as_str` calls `memcmp`.
    pub fn is_named(self, text: &[u8]) -> bool {
        match self {
            Level::Trace => text == b"trace",
            Level::Debug => text == b"debug",
            Level::Info => text == b"info",
            Level::Notice => text == b"notice",
            Level::Warning => text == b"warning",
            Level::Error => text == b"error",
            Level::Critical => text == b"critical",
            Level::Alert => text == b"alert",
            Level::Emergency => text == b"emergency",
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How many bytes at the start of a message [`sniff_message`] looks at.
pub const SNIFF_WINDOW: usize = 64;

/// The longest level word (`informational`).
const LONGEST_WORD: usize = 13;

/// A word as a match key: its length and its first eight bytes folded to
/// lower case (`| 0x20`, which maps only `A-Z` onto letters; every level
/// word is letters only, so no other byte can make a false match), packed
/// little-endian.
type Key = (usize, u64);

const fn key(word: &[u8]) -> Key {
    let mut packed = 0u64;
    let mut rest = word;
    let mut shift = 0;
    while let [b, tail @ ..] = rest {
        if shift == 64 {
            break;
        }
        packed |= ((*b | 0x20) as u64) << shift;
        shift += 8;
        rest = tail;
    }
    (word.len(), packed)
}

/// [`key`] for a word met at run time: the same key, its eight bytes read
/// in two loads at most (`key` is the table's, at compile time).
#[inline(always)]
fn runtime_key(word: &[u8]) -> Key {
    let n = word.len();
    let lower = if n >= 8 {
        u64::MAX
    } else {
        (1u64 << (8 * n)) - 1
    };
    (
        n,
        crate::scan::head_word(word) | (0x2020_2020_2020_2020 & lower),
    )
}

// The words of the module doc's table, as keys.
const TRACE: Key = key(b"trace");
const TRAC: Key = key(b"trac");
const TRCE: Key = key(b"trce");
const TRC: Key = key(b"trc");
const FINEST: Key = key(b"finest");
const FINER: Key = key(b"finer");
const VERBOSE: Key = key(b"verbose");
const T: Key = key(b"t");
const V: Key = key(b"v");
const DEBUG: Key = key(b"debug");
const DEBU: Key = key(b"debu");
const DBUG: Key = key(b"dbug");
const DBG: Key = key(b"dbg");
const FINE: Key = key(b"fine");
const CONFIG: Key = key(b"config");
const D: Key = key(b"d");
const INFO: Key = key(b"info");
const INF: Key = key(b"inf");
const INFORMATIONAL: Key = key(b"informational");
const INFORMATION: Key = key(b"information");
const I: Key = key(b"i");
const NOTICE: Key = key(b"notice");
const N: Key = key(b"n");
const WARNING: Key = key(b"warning");
const WARN: Key = key(b"warn");
const WRN: Key = key(b"wrn");
const W: Key = key(b"w");
const ERROR: Key = key(b"error");
const ERRO: Key = key(b"erro");
const EROR: Key = key(b"eror");
const ERR: Key = key(b"err");
const FAIL: Key = key(b"fail");
const SEVERE: Key = key(b"severe");
const E: Key = key(b"e");
const CRITICAL: Key = key(b"critical");
const CRIT: Key = key(b"crit");
const FATAL: Key = key(b"fatal");
const FATA: Key = key(b"fata");
const PANIC: Key = key(b"panic");
const PANI: Key = key(b"pani");
const DPANIC: Key = key(b"dpanic");
const C: Key = key(b"c");
const F: Key = key(b"f");
const ALERT: Key = key(b"alert");
const EMERGENCY: Key = key(b"emergency");
const EMERG: Key = key(b"emerg");

/// The level a word names (see the module doc's table), any case, and
/// whether the word may stand as a sign in free text: one integer match;
/// the two words longer than eight letters also compare their rest.
fn word_level(word: &[u8]) -> Option<(Level, bool)> {
    if word.is_empty() || word.len() > LONGEST_WORD {
        return None;
    }
    let found = match runtime_key(word) {
        TRACE | TRAC | TRCE | TRC => (Level::Trace, true),
        FINEST | FINER | VERBOSE | T | V => (Level::Trace, false),
        DEBUG | DEBU | DBUG | DBG => (Level::Debug, true),
        FINE | CONFIG | D => (Level::Debug, false),
        INFO | INF | INFORMATIONAL => (Level::Info, true),
        INFORMATION | I => (Level::Info, false),
        NOTICE => (Level::Notice, true),
        N => (Level::Notice, false),
        WARNING | WARN | WRN => (Level::Warning, true),
        W => (Level::Warning, false),
        ERROR | ERRO | EROR | ERR | FAIL | SEVERE => (Level::Error, true),
        E => (Level::Error, false),
        CRITICAL | CRIT | FATAL | FATA | PANIC | PANI | DPANIC => (Level::Critical, true),
        C | F => (Level::Critical, false),
        ALERT => (Level::Alert, true),
        EMERGENCY | EMERG => (Level::Emergency, true),
        _ => return None,
    };
    let whole = match word.len() {
        9 => b"emergency".as_slice(),
        11 => b"information",
        13 => b"informational",
        _ => return Some(found),
    };
    word.eq_ignore_ascii_case(whole).then_some(found)
}

/// The level of a field's value (`level`, `lvl`, `severity`, `loglevel`, …):
/// a word in any case or a number on the syslog or bunyan/pino scale (see
/// the module doc). Surrounding spaces are ignored.
///
/// The commonest values, a few words in lower or upper case with nothing
/// around them, are compared as the constants they are (a switch on the
/// length and a word comparison); any other is read by [`read_value`].
pub fn from_value(value: &[u8]) -> Option<Level> {
    Some(match value {
        b"info" | b"INFO" => Level::Info,
        b"warn" | b"WARN" | b"warning" | b"WARNING" => Level::Warning,
        b"error" | b"ERROR" => Level::Error,
        b"debug" | b"DEBUG" => Level::Debug,
        b"trace" | b"TRACE" => Level::Trace,
        b"fatal" | b"FATAL" | b"critical" | b"CRITICAL" => Level::Critical,
        _ => return read_value(value),
    })
}

/// [`from_value`] for any value: trimmed, then read as a number or a
/// word.
fn read_value(value: &[u8]) -> Option<Level> {
    let value = value.trim_ascii();
    if !value.is_empty() && value.len() <= 3 && value.iter().all(u8::is_ascii_digit) {
        let n = value
            .iter()
            .fold(0u32, |n, &b| n * 10 + u32::from(b - b'0'));
        return from_number(n);
    }
    word_level(value).map(|(level, _)| level)
}

/// A number on the syslog (0-7) or bunyan/pino (10-60) scale.
fn from_number(n: u32) -> Option<Level> {
    Some(match n {
        0 => Level::Emergency,
        1 => Level::Alert,
        2 => Level::Critical,
        3 => Level::Error,
        4 => Level::Warning,
        5 => Level::Notice,
        6 => Level::Info,
        7 => Level::Debug,
        10 => Level::Trace,
        20 => Level::Debug,
        30 => Level::Info,
        40 => Level::Warning,
        50 => Level::Error,
        60 => Level::Critical,
        _ => return None,
    })
}

/// The level of klog's (and glog's) header letter: `I`, `W`, `E`, `F`
/// (upper case only, as klog writes it).
pub fn from_klog_letter(letter: u8) -> Option<Level> {
    match letter {
        b'I' => Some(Level::Info),
        b'W' => Some(Level::Warning),
        b'E' => Some(Level::Error),
        b'F' => Some(Level::Critical),
        _ => None,
    }
}

/// The level of a syslog PRI value (RFC 5424 section 6.2.1: facility × 8 +
/// severity); `None` above 191, the largest valid PRI.
pub fn from_syslog_pri(pri: u8) -> Option<Level> {
    if pri > 191 {
        return None;
    }
    from_number(u32::from(pri & 7))
}

/// The level of an access log line from its HTTP status: 500-599 `error`,
/// 400-499 `warning`, 100-399 `info`; `None` for anything else (Envoy's 0
/// "no response was sent", or a value that is not a status).
pub fn from_status(code: i64) -> Option<Level> {
    match code {
        100..=399 => Some(Level::Info),
        400..=499 => Some(Level::Warning),
        500..=599 => Some(Level::Error),
        _ => None,
    }
}

/// One token of a message's head.
struct Token {
    start: usize,
    end: usize,
    /// `[…]`: `start..end` is the content between the brackets.
    bracketed: bool,
}

/// Reads tokens from the head of a message, never past the window (plus
/// the length of a word that starts inside it).
struct Tokens<'t> {
    /// The message cut to the window, a word starting at its last byte and
    /// the byte after that word (only [`Tokens::skip_space`] is ever given
    /// more).
    text: &'t [u8],
    at: usize,
}

impl<'t> Tokens<'t> {
    /// The tokens of `text` from `at`: the text is cut once here rather
    /// than at each token.
    fn new(text: &'t [u8], at: usize) -> Self {
        let head = text.get(..SNIFF_WINDOW + LONGEST_WORD + 2).unwrap_or(text);
        Tokens { text: head, at }
    }

    /// Skips spaces, tabs and `\t` escapes.
    fn skip_space(&mut self) {
        loop {
            match (self.text.get(self.at), self.text.get(self.at + 1)) {
                (Some(b' ' | b'\t'), _) => self.at += 1,
                (Some(b'\\'), Some(b't')) => self.at += 2,
                _ => return,
            }
        }
    }

    fn next(&mut self) -> Option<Token> {
        self.skip_space();
        let start = self.at;
        if start >= SNIFF_WINDOW {
            return None;
        }
        let head = self.text;
        if head.get(start) == Some(&b'[') {
            let close = find_in(head, start + 1, head.len(), b']')?;
            self.at = close + 1;
            return Some(Token {
                start: start + 1,
                end: close,
                bracketed: true,
            });
        }
        let mut end = start;
        loop {
            end = token_stop(head, end);
            // A backslash ends the token only as `\t`.
            if head.get(end) == Some(&b'\\') && head.get(end + 1) != Some(&b't') {
                end += 1;
            } else {
                break;
            }
        }
        if end == start {
            return None;
        }
        self.at = end;
        Some(Token {
            start,
            end,
            bracketed: false,
        })
    }
}

/// The first byte at or after `from` that may end a token: a space, a tab
/// (or any byte below `!`), `[`, or `\`; `text.len()` if none. Eight bytes
/// per step: the classic zero-byte tests, whose lowest flag is exact.
fn token_stop(text: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u8| x.wrapping_sub(ONES * u64::from(n)) & !x;
    let mut at = from;
    while let Some(chunk) = text.get(at..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*chunk);
        let flags = (below(x, b'!')
            | below(x ^ (ONES * u64::from(b'[')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1))
            & HIGH;
        if flags != 0 {
            return at + (flags.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    let rest = text.get(at..).unwrap_or_default();
    at + rest
        .iter()
        .position(|&b| b <= b' ' || b == b'[' || b == b'\\')
        .unwrap_or(rest.len())
}

/// Letter case of a word.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Case {
    Upper,
    Lower,
    Mixed,
}

fn case_of(word: &[u8]) -> Case {
    if word.iter().all(|b| !b.is_ascii_lowercase()) {
        Case::Upper
    } else if word.iter().all(|b| !b.is_ascii_uppercase()) {
        Case::Lower
    } else {
        Case::Mixed
    }
}

/// A token read as a level word: the level, the word's span, its case and
/// whether a `:` follows it directly.
struct Candidate {
    level: Level,
    span: Range<usize>,
    case: Case,
    colon: bool,
}

/// The level word a token starts with, if the token is that word alone or
/// that word and `:` (then anything, as in `ERROR:root:msg`), or that word
/// and `,`.
fn candidate(text: &[u8], token: &Token) -> Option<Candidate> {
    let bytes = text.get(token.start..token.end)?;
    let letters = letter_run(text, token.start).min(bytes.len());
    level_word(text, token.start, letters, bytes.get(letters).copied())
}

/// How many ASCII letters `text` has from `start` on, counted up to 16
/// (more than the longest level word) in two word-sized steps rather than
/// a byte at a time.
#[inline(always)]
fn letter_run(text: &[u8], start: usize) -> usize {
    let first = non_letters(crate::scan::head_word(
        text.get(start..).unwrap_or_default(),
    ));
    if first != 0 {
        return (first.trailing_zeros() / 8) as usize;
    }
    let second = non_letters(crate::scan::head_word(
        text.get(start + 8..).unwrap_or_default(),
    ));
    8 + (second.trailing_zeros() / 8) as usize
}

/// The high bit of each byte of `word` that is not an ASCII letter. Folding
/// with `| 0x20` maps only `A-Z` onto `a-z`; the range test adds to the low
/// seven bits of each byte, which cannot carry into the next byte.
#[inline(always)]
fn non_letters(word: u64) -> u64 {
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ONES: u64 = 0x0101_0101_0101_0101;
    let low = (word | (ONES * 0x20)) & !HIGH;
    let from_a = low + ONES * (0x80 - u64::from(b'a'));
    let past_z = low + ONES * (0x80 - u64::from(b'z') - 1);
    !(from_a & !past_z & !word) & HIGH
}

/// For each word length up to [`LONGEST_WORD`], the first letters (bit 0
/// for `a`) of the level words of that length that may stand as a sign in
/// free text: most words that are no level word fail this test and are
/// never looked up. Built at compile time from the keys that
/// [`word_level`] marks as signs (a key holds the word's length and its
/// letters in lower case, the first in the low byte), where an index out
/// of bounds is a build error, not a panic.
#[allow(clippy::indexing_slicing)]
const FIRST_LETTERS: [u32; LONGEST_WORD + 1] = {
    const SIGNS: [Key; 31] = [
        TRACE,
        TRAC,
        TRCE,
        TRC,
        DEBUG,
        DEBU,
        DBUG,
        DBG,
        INFO,
        INF,
        INFORMATIONAL,
        NOTICE,
        WARNING,
        WARN,
        WRN,
        ERROR,
        ERRO,
        EROR,
        ERR,
        FAIL,
        SEVERE,
        CRITICAL,
        CRIT,
        FATAL,
        FATA,
        PANIC,
        PANI,
        DPANIC,
        ALERT,
        EMERGENCY,
        EMERG,
    ];
    let mut table = [0u32; LONGEST_WORD + 1];
    let mut i = 0;
    while i < SIGNS.len() {
        let (len, packed) = SIGNS[i];
        table[len] |= 1 << ((packed & 0xff) as u8 - b'a');
        i += 1;
    }
    table
};

/// Whether a word of `len` letters starting with the letter `first` may be
/// a level word that is a sign (see [`FIRST_LETTERS`]).
#[inline(always)]
fn may_be_sign(len: usize, first: u8) -> bool {
    let letters = FIRST_LETTERS.get(len).copied().unwrap_or(0);
    letters >> ((first | 0x20).wrapping_sub(b'a') & 31) & 1 != 0
}

/// The level word of `letters` letters at `start`, followed by `after`
/// (`None` when the token ends there), as a [`Candidate`]: the word must
/// be a sign and be followed by nothing, `:` or `,`.
#[inline(always)]
fn level_word(text: &[u8], start: usize, letters: usize, after: Option<u8>) -> Option<Candidate> {
    if letters < 3 || !matches!(after, None | Some(b':' | b',')) {
        return None;
    }
    let word = text.get(start..start + letters)?;
    if !may_be_sign(letters, *word.first()?) {
        return None;
    }
    let (level, sniffable) = word_level(word)?;
    if !sniffable {
        return None;
    }
    Some(Candidate {
        level,
        span: start..start + letters,
        case: case_of(word),
        colon: after == Some(b':'),
    })
}

/// The level of a bracketed group's content: a level word with spaces
/// around it allowed, or `module:level` (Apache 2.4).
fn bracketed_level(text: &[u8], token: &Token) -> Option<(Level, Range<usize>)> {
    let content = text.get(token.start..token.end)?;
    let lead = content.iter().take_while(|&&b| b == b' ').count();
    let trimmed = content.trim_ascii();
    let (word, offset) = match trimmed.iter().rposition(|&b| b == b':') {
        Some(colon) => (trimmed.get(colon + 1..)?, lead + colon + 1),
        None => (trimmed, lead),
    };
    if word.len() < 3 || !word.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let (level, sniffable) = word_level(word)?;
    sniffable.then(|| {
        let start = token.start + offset;
        (level, start..start + word.len())
    })
}

/// Whether a (not bracketed) token is a header token, and whether it holds
/// a time (`hh:mm`).
fn header(bytes: &[u8]) -> Option<bool> {
    let digit_led = matches!(bytes, [b'0'..=b'9', ..] | [b'+' | b'-', b'0'..=b'9', ..]);
    if digit_led {
        let mut time = false;
        let mut previous = 0u8;
        let mut rest = bytes;
        while let [b, tail @ ..] = rest {
            if *b == b':'
                && previous.is_ascii_digit()
                && tail.first().is_some_and(u8::is_ascii_digit)
            {
                time = true;
                break;
            }
            previous = *b;
            rest = tail;
        }
        return Some(time);
    }
    matches!(bytes, b"-" | b"--" | b"---" | b"|" | b":").then_some(false)
}

/// The level a message's head states, and the span of the word that says
/// it (see the module doc's table of rules).
pub fn sniff_message(text: &[u8]) -> Option<(Level, Range<usize>)> {
    // Most messages start with no space to skip.
    let begin = match text.first() {
        Some(b' ' | b'\t' | b'\\') => {
            let mut tokens = Tokens { text, at: 0 };
            tokens.skip_space();
            tokens.at
        }
        _ => 0,
    };
    if let Some(&lead) = text.get(begin)
        && lead.is_ascii_alphabetic()
    {
        // A first token that starts with three letters or more is no klog
        // head (whose letter is followed by digits) and no Ruby `E,`: it is
        // a leading word (upper case, or any case with `:`) or the search
        // ends. Decided from the letters and the byte after them, without
        // reading the token to its end.
        let letters = letter_run(text, begin);
        if letters >= 3 && begin < SNIFF_WINDOW {
            // Most words are turned away here, before their follower is read.
            if !may_be_sign(letters, lead) {
                return None;
            }
            return leading_word(text, begin, letters);
        }
        // klog: `E0917 12:19:26.569980 …`
        if let [letter, d1, d2, d3, d4, b' ', d5, ..] = text.get(begin..)?
            && [d1, d2, d3, d4, d5].iter().all(|d| d.is_ascii_digit())
            && let Some(level) = from_klog_letter(*letter)
        {
            return Some((level, begin..begin + 1));
        }
    }
    sniff_tokens(text, begin)
}

/// The sign a first token of `letters` letters (three or more) at `begin`
/// gives: a level word in upper case, or in any case followed by `:`. Out
/// of line, as few words get this far.
#[inline(never)]
fn leading_word(text: &[u8], begin: usize, letters: usize) -> Option<(Level, Range<usize>)> {
    // The byte after the letters, unless it ends the token.
    let after = match text.get(begin + letters) {
        Some(b) if *b <= b' ' || *b == b'[' => None,
        Some(b'\\') if text.get(begin + letters + 1) == Some(&b't') => None,
        other => other.copied(),
    };
    let candidate = level_word(text, begin, letters, after)?;
    (candidate.colon || candidate.case == Case::Upper).then_some((candidate.level, candidate.span))
}

/// [`sniff_message`] token by token from `begin` (past the leading
/// spaces): kept out of line, so that a message decided by its first word
/// sets up no token state.
#[inline(never)]
fn sniff_tokens(text: &[u8], begin: usize) -> Option<(Level, Range<usize>)> {
    let mut tokens = Tokens::new(text, begin);
    let mut first = true;
    let mut has_time = false;
    // The previous token was a `-` separator after a header.
    let mut after_dash = false;
    // The tokens so far were header tokens (and at least one).
    let mut seen_header = false;
    // A zone name may follow a time once.
    let mut zone_allowed = false;
    while let Some(token) = tokens.next() {
        if token.bracketed {
            if let Some(found) = bracketed_level(text, &token) {
                return Some(found);
            }
            seen_header = true;
            first = false;
            after_dash = false;
            continue;
        }
        let bytes = text.get(token.start..token.end)?;
        if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
            // Not a word: a header token, or the end of the search.
            let time = header(bytes)?;
            after_dash = seen_header && bytes == b"-";
            has_time |= time;
            zone_allowed = time;
            seen_header = true;
            first = false;
            continue;
        }
        if let Some(candidate) = candidate(text, &token) {
            let accept = candidate.colon
                || candidate.case == Case::Upper
                || (candidate.case == Case::Lower && (has_time || after_dash) && !first);
            if accept {
                return Some((candidate.level, candidate.span));
            }
            return None;
        }
        // Ruby's Logger: `E, [2018-09-17T12:13:43.123 #1] ERROR -- : …`.
        if first && matches!(bytes, [b'A'..=b'Z', b',']) {
            first = false;
            seen_header = true;
            continue;
        }
        // A zone name after a time: `… 12:13:43.123 UTC [1] LOG: …`.
        if zone_allowed
            && (3..=4).contains(&bytes.len())
            && bytes.iter().all(u8::is_ascii_uppercase)
        {
            zone_allowed = false;
            continue;
        }
        // Python's `asctime - name - LEVEL - message`: one name token
        // between dashes.
        if after_dash {
            let dash = tokens.next();
            if dash.is_some_and(|d| !d.bracketed && text.get(d.start..d.end) == Some(b"-")) {
                let level = tokens.next();
                if let Some(level) = level
                    && !level.bracketed
                    && let Some(candidate) = candidate(text, &level)
                    && candidate.case != Case::Mixed
                {
                    let mut rest = Tokens::new(text, tokens.at);
                    let dash_after = rest.next();
                    if candidate.colon
                        || dash_after.is_some_and(|d| text.get(d.start..d.end) == Some(b"-"))
                    {
                        return Some((candidate.level, candidate.span));
                    }
                }
            }
            return None;
        }
        return None;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`candidate`] as it was before its word test was made word-at-a-time:
    /// the reference the faster code is held to.
    ///
    /// The level word a token starts with, if the token is that word alone or
    /// that word and `:` (then anything, as in `ERROR:root:msg`), or that word
    /// and `,`.
    fn reference_candidate(text: &[u8], token: &Token) -> Option<Candidate> {
        let bytes = text.get(token.start..token.end)?;
        let letters = bytes
            .iter()
            .position(|b| !b.is_ascii_alphabetic())
            .unwrap_or(bytes.len());
        if letters < 3 {
            return None;
        }
        let after = bytes.get(letters).copied();
        if !matches!(after, None | Some(b':' | b',')) {
            return None;
        }
        let word = bytes.get(..letters)?;
        let (level, sniffable) = word_level(word)?;
        if !sniffable {
            return None;
        }
        Some(Candidate {
            level,
            span: token.start..token.start + letters,
            case: case_of(word),
            colon: after == Some(b':'),
        })
    }

    /// [`sniff_message`] as it was before the leading word was read at once:
    /// the reference the faster code is held to.
    ///
    /// The level a message's head states, and the span of the word that says
    /// it (see the module doc's table of rules).
    fn reference_sniff(text: &[u8]) -> Option<(Level, Range<usize>)> {
        let mut tokens = Tokens { text, at: 0 };
        tokens.skip_space();
        let begin = tokens.at;
        // klog: `E0917 12:19:26.569980 …`
        if let [letter, d1, d2, d3, d4, b' ', d5, ..] = text.get(begin..)?
            && [d1, d2, d3, d4, d5].iter().all(|d| d.is_ascii_digit())
            && let Some(level) = from_klog_letter(*letter)
        {
            return Some((level, begin..begin + 1));
        }
        let mut tokens = Tokens::new(text, begin);
        let mut first = true;
        let mut has_time = false;
        // The previous token was a `-` separator after a header.
        let mut after_dash = false;
        // The tokens so far were header tokens (and at least one).
        let mut seen_header = false;
        // A zone name may follow a time once.
        let mut zone_allowed = false;
        while let Some(token) = tokens.next() {
            if token.bracketed {
                if let Some(found) = bracketed_level(text, &token) {
                    return Some(found);
                }
                seen_header = true;
                first = false;
                after_dash = false;
                continue;
            }
            let bytes = text.get(token.start..token.end)?;
            if !bytes.first().is_some_and(u8::is_ascii_alphabetic) {
                // Not a word: a header token, or the end of the search.
                let time = header(bytes)?;
                after_dash = seen_header && bytes == b"-";
                has_time |= time;
                zone_allowed = time;
                seen_header = true;
                first = false;
                continue;
            }
            if let Some(candidate) = reference_candidate(text, &token) {
                let accept = candidate.colon
                    || candidate.case == Case::Upper
                    || (candidate.case == Case::Lower && (has_time || after_dash) && !first);
                if accept {
                    return Some((candidate.level, candidate.span));
                }
                return None;
            }
            // Ruby's Logger: `E, [2018-09-17T12:13:43.123 #1] ERROR -- : …`.
            if first && matches!(bytes, [b'A'..=b'Z', b',']) {
                first = false;
                seen_header = true;
                continue;
            }
            // A zone name after a time: `… 12:13:43.123 UTC [1] LOG: …`.
            if zone_allowed
                && (3..=4).contains(&bytes.len())
                && bytes.iter().all(u8::is_ascii_uppercase)
            {
                zone_allowed = false;
                continue;
            }
            // Python's `asctime - name - LEVEL - message`: one name token
            // between dashes.
            if after_dash {
                let dash = tokens.next();
                if dash.is_some_and(|d| !d.bracketed && text.get(d.start..d.end) == Some(b"-")) {
                    let level = tokens.next();
                    if let Some(level) = level
                        && !level.bracketed
                        && let Some(candidate) = reference_candidate(text, &level)
                        && candidate.case != Case::Mixed
                    {
                        let mut rest = Tokens::new(text, tokens.at);
                        let dash_after = rest.next();
                        if candidate.colon
                            || dash_after.is_some_and(|d| text.get(d.start..d.end) == Some(b"-"))
                        {
                            return Some((candidate.level, candidate.span));
                        }
                    }
                }
                return None;
            }
            return None;
        }
        None
    }

    /// `is_named` holds exactly each level's own name.
    #[test]
    fn is_named_agrees_with_as_str() {
        for level in Level::ALL {
            for other in Level::ALL {
                let name = other.as_str().as_bytes();
                assert_eq!(level.is_named(name), level == other, "{level} {other}");
                assert!(!level.is_named(&name[1..]), "{level} {other}");
            }
            assert!(!level.is_named(level.as_str().to_uppercase().as_bytes()));
            assert!(!level.is_named(b""));
        }
    }

    #[test]
    fn as_str_round_trips_through_from_value() {
        for level in Level::ALL {
            assert_eq!(from_value(level.as_str().as_bytes()), Some(level));
            assert_eq!(level.to_string(), level.as_str());
        }
    }

    /// Named cases for field values: input and the exact level.
    #[test]
    fn values() {
        let cases: &[(&str, &str, Option<Level>)] = &[
            ("lower", "error", Some(Level::Error)),
            ("upper", "ERROR", Some(Level::Error)),
            ("capitalised", "Warning", Some(Level::Warning)),
            ("padded", "  info ", Some(Level::Info)),
            ("logrus text", "ERRO", Some(Level::Error)),
            ("logrus debug", "DEBU", Some(Level::Debug)),
            ("logrus fatal", "FATA", Some(Level::Critical)),
            ("logrus panic", "PANI", Some(Level::Critical)),
            ("zap dpanic", "dpanic", Some(Level::Critical)),
            (".NET trace", "trce", Some(Level::Trace)),
            (".NET debug", "dbug", Some(Level::Debug)),
            (".NET fail", "fail", Some(Level::Error)),
            (".NET crit", "crit", Some(Level::Critical)),
            ("jul severe", "SEVERE", Some(Level::Error)),
            ("jul fine", "FINE", Some(Level::Debug)),
            ("jul finest", "FINEST", Some(Level::Trace)),
            ("jul config", "CONFIG", Some(Level::Debug)),
            ("serilog verbose", "Verbose", Some(Level::Trace)),
            ("serilog information", "Information", Some(Level::Info)),
            ("syslog keyword", "emerg", Some(Level::Emergency)),
            ("syslog notice", "notice", Some(Level::Notice)),
            ("syslog alert", "alert", Some(Level::Alert)),
            ("abbreviation wrn", "wrn", Some(Level::Warning)),
            ("abbreviation eror", "eror", Some(Level::Error)),
            ("abbreviation dbg", "dbg", Some(Level::Debug)),
            ("letter", "W", Some(Level::Warning)),
            ("letter lower", "e", Some(Level::Error)),
            ("syslog 0", "0", Some(Level::Emergency)),
            ("syslog 3", "3", Some(Level::Error)),
            ("syslog 7", "7", Some(Level::Debug)),
            ("bunyan 30", "30", Some(Level::Info)),
            ("pino 50", "50", Some(Level::Error)),
            ("pino 60", "60", Some(Level::Critical)),
            ("bunyan 10", "10", Some(Level::Trace)),
            ("number off both scales", "8", None),
            ("python-only number", "35", None),
            ("otel number", "17", None),
            ("too many digits", "0030", None),
            ("negative", "-1", None),
            ("empty", "", None),
            ("spaces only", "   ", None),
            ("unknown word", "loud", None),
            ("word with suffix", "errors", None),
            ("letter A is not a level", "A", None),
            ("too long", "informationalx", None),
        ];
        for (name, input, want) in cases {
            assert_eq!(from_value(input.as_bytes()), *want, "{name}");
        }
    }

    #[test]
    fn klog_letters() {
        assert_eq!(from_klog_letter(b'I'), Some(Level::Info));
        assert_eq!(from_klog_letter(b'W'), Some(Level::Warning));
        assert_eq!(from_klog_letter(b'E'), Some(Level::Error));
        assert_eq!(from_klog_letter(b'F'), Some(Level::Critical));
        assert_eq!(from_klog_letter(b'i'), None);
        assert_eq!(from_klog_letter(b'D'), None);
    }

    #[test]
    fn syslog_pri() {
        assert_eq!(from_syslog_pri(0), Some(Level::Emergency));
        assert_eq!(from_syslog_pri(13), Some(Level::Notice)); // user.notice
        assert_eq!(from_syslog_pri(34), Some(Level::Critical)); // auth.crit
        assert_eq!(from_syslog_pri(191), Some(Level::Debug));
        assert_eq!(from_syslog_pri(192), None);
        assert_eq!(from_syslog_pri(255), None);
    }

    #[test]
    fn statuses() {
        let cases: &[(i64, Option<Level>)] = &[
            (200, Some(Level::Info)),
            (101, Some(Level::Info)),
            (304, Some(Level::Info)),
            (399, Some(Level::Info)),
            (400, Some(Level::Warning)),
            (404, Some(Level::Warning)),
            (499, Some(Level::Warning)),
            (500, Some(Level::Error)),
            (503, Some(Level::Error)),
            (599, Some(Level::Error)),
            (0, None),
            (99, None),
            (600, None),
            (-1, None),
        ];
        for (code, want) in cases {
            assert_eq!(from_status(*code), *want, "{code}");
        }
    }

    /// Named cases for free text: the message (as JSON string content), the
    /// level and the exact text of the sign, or `None`.
    #[test]
    fn sniffing() {
        // Name, message, and the level with the exact text of its sign.
        type Case = (&'static str, &'static str, Option<(Level, &'static str)>);
        let cases: &[Case] = &[
            // Leading words.
            (
                "leading ERROR:",
                "ERROR: infiniband collector failed",
                Some((Level::Error, "ERROR")),
            ),
            (
                "leading WARN",
                "WARN disk almost full",
                Some((Level::Warning, "WARN")),
            ),
            (
                "leading FATAL",
                "FATAL cannot bind :8080",
                Some((Level::Critical, "FATAL")),
            ),
            (
                "lower with colon",
                "error: could not open file",
                Some((Level::Error, "error")),
            ),
            (
                "git fatal",
                "fatal: not a git repository",
                Some((Level::Critical, "fatal")),
            ),
            (
                "capitalised with colon",
                "Warning: deprecated flag",
                Some((Level::Warning, "Warning")),
            ),
            (
                "python basicConfig",
                "ERROR:root:something broke",
                Some((Level::Error, "ERROR")),
            ),
            (
                "uvicorn",
                "INFO:     127.0.0.1:8000 - \\\"GET / HTTP/1.1\\\" 200 OK",
                Some((Level::Info, "INFO")),
            ),
            (
                ".NET console",
                "fail: Microsoft.AspNetCore[1]",
                Some((Level::Error, "fail")),
            ),
            (
                "leading spaces",
                "   ERROR oops",
                Some((Level::Error, "ERROR")),
            ),
            (
                "heapster",
                "ERROR: logging before flag.Parse: E0917 12:19:26.569980 1 streamwatcher.go:109] Unable to decode",
                Some((Level::Error, "ERROR")),
            ),
            // klog.
            (
                "klog error",
                "E0917 12:19:26.569980       1 streamwatcher.go:109] Unable to decode",
                Some((Level::Error, "E")),
            ),
            (
                "klog info",
                "I1120 08:00:00.000000 7 main.go:1] started",
                Some((Level::Info, "I")),
            ),
            // Brackets.
            (
                "bracketed",
                "[error] something",
                Some((Level::Error, "error")),
            ),
            (
                "bracketed padded",
                "[ WARN ] something",
                Some((Level::Warning, "WARN")),
            ),
            (
                "apache 2.2",
                "[Sun Dec 04 04:47:44 2005] [error] mod_jk child workerEnv in error state 6",
                Some((Level::Error, "error")),
            ),
            (
                "apache 2.4",
                "[Wed Oct 11 14:32:52.123 2000] [core:error] [pid 35708:tid 4328636416] File does not exist",
                Some((Level::Error, "error")),
            ),
            (
                "nginx",
                "2018/09/17 12:19:26 [error] 8#8: *758040 upstream prematurely closed connection",
                Some((Level::Error, "error")),
            ),
            (
                "gunicorn",
                "[2018-09-17 12:13:43 +0000] [1] [INFO] Starting gunicorn 19.9.0",
                Some((Level::Info, "INFO")),
            ),
            (
                "elasticsearch",
                "[2018-09-17T12:13:43,123][INFO ][o.e.n.Node ] [node-1] started",
                Some((Level::Info, "INFO")),
            ),
            (
                "mysql",
                "2018-09-17T12:13:43.123456Z 0 [Warning] [MY-010068] [Server] CA certificate",
                Some((Level::Warning, "Warning")),
            ),
            // After a header.
            (
                "java level first",
                "2018-09-17 12:13:43.123 ERROR [main] c.e.Class - boom",
                Some((Level::Error, "ERROR")),
            ),
            (
                "java thread first",
                "2018-09-17 12:13:43.123 [main] ERROR c.e.Class - boom",
                Some((Level::Error, "ERROR")),
            ),
            (
                "logback default",
                "12:13:43.123 [main] WARN c.e.Class - slow",
                Some((Level::Warning, "WARN")),
            ),
            (
                "spring boot",
                "2018-09-17 12:13:43.123  INFO 12345 --- [main] c.e.App : Started",
                Some((Level::Info, "INFO")),
            ),
            (
                "hdfs",
                "081109 203615 148 INFO dfs.DataNode$PacketResponder: PacketResponder 1",
                Some((Level::Info, "INFO")),
            ),
            (
                "zookeeper",
                "2015-07-29 17:41:44,747 - INFO  [QuorumPeer[myid=1]/0:0:0:0:0:0:0:2181:FastLeaderElection@774] - Notification",
                Some((Level::Info, "INFO")),
            ),
            (
                "spark",
                "17/06/09 20:10:40 INFO executor.CoarseGrainedExecutorBackend: Registered",
                Some((Level::Info, "INFO")),
            ),
            (
                "oslo",
                "2017-05-16 00:00:00.008 25746 INFO nova.osapi_compute.wsgi.server [req-1] x",
                Some((Level::Info, "INFO")),
            ),
            (
                "flask",
                "[2018-09-17 12:13:43,123] ERROR in app: Exception on /",
                Some((Level::Error, "ERROR")),
            ),
            (
                "go log with level",
                "2018/09/17 12:19:26 ERROR: something",
                Some((Level::Error, "ERROR")),
            ),
            (
                "postgres",
                "2018-09-17 12:13:43.123 UTC [1] ERROR:  relation \\\"x\\\" does not exist",
                Some((Level::Error, "ERROR")),
            ),
            (
                "ruby logger",
                "E, [2018-09-17T12:13:43.123 #1234] ERROR -- : boom",
                Some((Level::Error, "ERROR")),
            ),
            (
                "zap console",
                "2018-09-17T12:13:43.123Z\\terror\\tmain.go:12\\tfailed",
                Some((Level::Error, "error")),
            ),
            (
                "python dashes",
                "2018-09-17 12:13:43,123 - name - ERROR - msg",
                Some((Level::Error, "ERROR")),
            ),
            (
                "python dashes lower",
                "2018-09-17 12:13:43,123 - my.module - warning - msg",
                Some((Level::Warning, "warning")),
            ),
            (
                "python dashes no name",
                "2018-09-17 12:13:43,123 - ERROR - msg",
                Some((Level::Error, "ERROR")),
            ),
            // Negatives: no sign.
            (
                "plain text",
                "error handling improved in this release",
                None,
            ),
            (
                "capitalised word at start",
                "Error handling improved in this release",
                None,
            ),
            ("word mid-sentence", "We improved error handling", None),
            (
                "warning mid-sentence",
                "disk usage warning threshold reached",
                None,
            ),
            (
                "number then lower word",
                "5 error messages were dropped",
                None,
            ),
            ("plural", "ERRORS: 3", None),
            (
                "go log without level",
                "2018/09/17 12:19:26 http: TLS handshake error from 10.0.0.1:5000: EOF",
                None,
            ),
            (
                "logfmt",
                "time=\\\"2018-09-17T12:13:43Z\\\" level=error msg=x",
                None,
            ),
            (
                "level beyond window",
                "2018-09-17 12:13:43.123 [a-very-long-thread-name-that-goes-on-and-on] ERROR x",
                None,
            ),
            (
                "mixed case after header",
                "2018-09-17 12:13:43 Error handling improved",
                None,
            ),
            (
                "lower after date without time",
                "2018-09-17 error handling improved",
                None,
            ),
            (
                "name token without level",
                "2018-09-17 12:13:43,123 - name - something - msg",
                None,
            ),
            ("single letter in text", "E something", None),
            ("jul fine is prose", "Fine: all good", None),
            ("empty", "", None),
            ("only spaces", "    ", None),
            ("unclosed bracket", "[error something", None),
            ("klog needs digits", "Error1234 something", None),
        ];
        for (name, input, want) in cases {
            let got = sniff_message(input.as_bytes());
            let got = got.map(|(level, span)| {
                (level, std::str::from_utf8(&input.as_bytes()[span]).unwrap())
            });
            assert_eq!(got, *want, "{name}");
        }
    }

    /// Looks at no byte past the window plus one word.
    #[test]
    fn bounded_look_ahead() {
        let mut long = "1 ".repeat(40);
        long.push_str("ERROR x");
        assert_eq!(sniff_message(long.as_bytes()), None);
        // Any prefix of a long line gives the same answer as the line.
        let line = b"2018-09-17 12:13:43.123 [main] ERROR c.e.Class - boom and much more text";
        let whole = sniff_message(line);
        for cut in 45..line.len() {
            assert_eq!(sniff_message(&line[..cut]), whole, "cut at {cut}");
        }
    }

    /// The word-at-a-time token end agrees with a naive byte loop.
    #[test]
    fn token_stop_matches_naive_loop() {
        let alphabet = b"aZ0 [\\]\tx:\x80";
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1d);
        for _ in 0..3_000 {
            let state = next();
            let len = (state % 30) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| {
                    alphabet[(state.rotate_left(3 * i as u32) % alphabet.len() as u64) as usize]
                })
                .collect();
            for from in 0..=len {
                let naive = (from..len)
                    .find(|&i| text[i] <= b' ' || text[i] == b'[' || text[i] == b'\\')
                    .unwrap_or(len);
                assert_eq!(token_stop(&text, from), naive, "{text:?} from {from}");
            }
        }
    }

    /// The common values read at once read as the general reading does:
    /// every word of the module doc's table in lower, upper and
    /// capitalised case, bare and padded, and random words.
    #[test]
    fn common_values_agree_with_the_general_reading() {
        let words = [
            "trace",
            "trac",
            "trce",
            "trc",
            "finest",
            "finer",
            "verbose",
            "t",
            "v",
            "debug",
            "debu",
            "dbug",
            "dbg",
            "fine",
            "config",
            "d",
            "info",
            "inf",
            "informational",
            "information",
            "i",
            "notice",
            "n",
            "warning",
            "warn",
            "wrn",
            "w",
            "error",
            "erro",
            "eror",
            "err",
            "fail",
            "severe",
            "e",
            "critical",
            "crit",
            "fatal",
            "fata",
            "panic",
            "pani",
            "dpanic",
            "c",
            "f",
            "alert",
            "emergency",
            "emerg",
        ];
        for word in words {
            let mut capitalised = word.to_string();
            capitalised[..1].make_ascii_uppercase();
            for w in [word.to_string(), word.to_ascii_uppercase(), capitalised] {
                for v in [w.clone(), format!(" {w}"), format!("{w} "), format!("{w}x")] {
                    assert_eq!(from_value(v.as_bytes()), read_value(v.as_bytes()), "{v:?}");
                }
            }
        }
        let alphabet = b"acdefgilnortuwACEFINORTUW0 ";
        let mut next = crate::test_rng::xorshift(0x5eed_0005);
        for _ in 0..100_000 {
            let word = random_word(&mut next, alphabet, 10);
            assert_eq!(from_value(&word), read_value(&word), "{word:?}");
        }
    }

    /// The run-time key of a word is the table's `key` of it: every length
    /// up to 14, letters of both cases and other bytes.
    #[test]
    fn runtime_key_is_key() {
        let alphabet = b"eErRoOiInNfFwWaA0-_ \xc3";
        let mut next = crate::test_rng::xorshift(0x2545_f491_4f6c_dd1e);
        for _ in 0..20_000 {
            let word = random_word(&mut next, alphabet, 15);
            assert_eq!(runtime_key(&word), key(&word), "{word:?}");
        }
    }

    /// A word of fewer than `lengths` bytes of `alphabet`, drawn from `next`.
    fn random_word(next: &mut impl FnMut() -> u64, alphabet: &[u8], lengths: u64) -> Vec<u8> {
        let len = (next() % lengths) as usize;
        (0..len)
            .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
            .collect()
    }

    /// Every word of the module doc's table.
    const TABLE_WORDS: [&str; 46] = [
        "trace",
        "trac",
        "trce",
        "trc",
        "finest",
        "finer",
        "verbose",
        "t",
        "v",
        "debug",
        "debu",
        "dbug",
        "dbg",
        "fine",
        "config",
        "d",
        "info",
        "inf",
        "informational",
        "information",
        "i",
        "notice",
        "n",
        "warning",
        "warn",
        "wrn",
        "w",
        "error",
        "erro",
        "eror",
        "err",
        "fail",
        "severe",
        "e",
        "critical",
        "crit",
        "fatal",
        "fata",
        "panic",
        "pani",
        "dpanic",
        "c",
        "f",
        "alert",
        "emergency",
        "emerg",
    ];

    /// The first-letter test lets through every word that may be a sign
    /// (so it never hides one), in any case.
    #[test]
    fn first_letters_admit_every_sign() {
        for word in TABLE_WORDS {
            for w in [word.to_string(), word.to_ascii_uppercase()] {
                let w = w.as_bytes();
                if w.len() >= 3 && word_level(w).is_some_and(|(_, sign)| sign) {
                    assert!(may_be_sign(w.len(), w[0]), "{word}");
                }
            }
        }
        // And shuts out some words that are not.
        assert!(!may_be_sign(4, b'h'));
        assert!(!may_be_sign(8, b'S'));
        assert!(!may_be_sign(14, b'e'));
    }

    /// The word-at-a-time letter count agrees with a byte loop: every
    /// length up to 20, letters and the bytes next to them in ASCII, and
    /// non-ASCII bytes.
    #[test]
    fn letter_run_matches_naive_loop() {
        let alphabet = b"aAzZ@[`{0:, \\t\x80\xc1\xe1\xfa\xff";
        let mut next = crate::test_rng::xorshift(0x5eed_0006);
        for _ in 0..50_000 {
            let text = random_word(&mut next, alphabet, 21);
            for start in 0..=text.len() {
                let naive = text[start..]
                    .iter()
                    .take(16)
                    .take_while(|b| b.is_ascii_alphabetic())
                    .count();
                assert_eq!(letter_run(&text, start), naive, "{text:?} at {start}");
            }
        }
    }

    /// A message head built of level words (every word of the table, in
    /// lower, upper and capitalised case, cut short or lengthened), other
    /// words, header tokens and separators, with random followers.
    fn random_head(next: &mut impl FnMut() -> u64) -> Vec<u8> {
        const OTHERS: [&str; 24] = [
            "http",
            "Starting",
            "the",
            "E",
            "W,",
            "I0917",
            "E0917",
            "F1234",
            "12:13:43.123",
            "2018-09-17",
            "+0000",
            "-",
            "--",
            "|",
            ":",
            "UTC",
            "[main]",
            "[error]",
            "[ WARN ]",
            "[core:crit]",
            "8#8:",
            "\\\"x\\\"",
            "caf\u{e9}",
            "\u{c9}RROR",
        ];
        const FOLLOWERS: [&str; 14] = [
            "", " ", "  ", ":", ",", ";", "-", "\\t", "\\\"", "[", "]", "x", "1", "\u{e9}",
        ];
        let pick = |next: &mut dyn FnMut() -> u64, n: usize| (next() % n as u64) as usize;
        let mut text = String::new();
        for _ in 0..pick(next, 4) {
            text.push_str([" ", "\\t", "  "][pick(next, 3)]);
        }
        for _ in 0..1 + pick(next, 5) {
            let word = if next().is_multiple_of(2) {
                let word = TABLE_WORDS[pick(next, TABLE_WORDS.len())];
                let mut word = match pick(next, 4) {
                    0 => word.to_ascii_uppercase(),
                    1 => {
                        let mut w = word.to_string();
                        w[..1].make_ascii_uppercase();
                        w
                    }
                    _ => word.to_string(),
                };
                match pick(next, 6) {
                    0 => word.push('s'),
                    1 => {
                        word.pop();
                    }
                    _ => {}
                }
                word
            } else {
                OTHERS[pick(next, OTHERS.len())].to_string()
            };
            text.push_str(&word);
            text.push_str(FOLLOWERS[pick(next, FOLLOWERS.len())]);
            text.push_str([" ", " ", "\\t", " - ", ""][pick(next, 5)]);
        }
        text.into_bytes()
    }

    /// The leading word read at once, and the word-at-a-time candidate
    /// test, give what the token-by-token reading gives: the same level
    /// and span for random heads, every prefix of them, and heads pushed
    /// toward the window's end by spaces.
    #[test]
    fn sniff_agrees_with_reference() {
        let mut next = crate::test_rng::xorshift(0x5eed_0007);
        for round in 0..40_000u32 {
            let mut text = random_head(&mut next);
            if round.is_multiple_of(8) {
                let pad = 40 + (next() % 40) as usize;
                text.splice(0..0, std::iter::repeat_n(b' ', pad));
            }
            for cut in 0..=text.len() {
                let head = &text[..cut];
                assert_eq!(
                    sniff_message(head),
                    reference_sniff(head),
                    "{:?}",
                    String::from_utf8_lossy(head)
                );
            }
        }
        // Random bytes, too.
        let alphabet = b"eErRoOiInNfFwWaAtT0 :,[]-\\\t\x80\xc3";
        for _ in 0..100_000 {
            let text = random_word(&mut next, alphabet, 24);
            assert_eq!(sniff_message(&text), reference_sniff(&text), "{text:?}");
        }
    }

    /// Never panics, and a found span is inside the input and the window.
    #[test]
    fn random_input_is_safe() {
        let alphabet = b"EWIF0123456789 :-[]\\terrorWARNinfo,|+";
        let mut next = crate::test_rng::xorshift(0x9e37_79b9_7f4a_7c15);
        for _ in 0..20_000 {
            let state = next();
            let len = (state % 90) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| {
                    let r = state.rotate_left(i as u32 * 5);
                    alphabet[(r % alphabet.len() as u64) as usize]
                })
                .collect();
            if let Some((level, span)) = sniff_message(&text) {
                assert!(span.end <= text.len() && span.start < SNIFF_WINDOW + 2);
                let word = &text[span];
                assert!(
                    word_level(word).is_some_and(|(l, _)| l == level)
                        || from_klog_letter(word[0]) == Some(level),
                    "{:?}",
                    String::from_utf8_lossy(&text)
                );
            }
        }
    }
}
