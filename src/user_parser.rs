//! User-defined parsers: one fluent-bit `[PARSER]` of `Format regex`,
//! compiled once when the configuration is loaded and applied to log lines.
//!
//! fluent-bit compiles such a parser with Onigmo (Ruby syntax), a
//! backtracking engine: a pattern like `(?<path>[^\"]*?)(?: +\S*)?` costs
//! time cubic in the length of a hostile line. Here the pattern is compiled
//! with the `regex` crate, whose engines (the Pike VM in this build) run in
//! time linear in the line's length whatever the pattern. Onigmo's syntax is
//! first rewritten into the crate's by [`translate`], a single pass over the
//! pattern that understands escapes, groups and (nested) character classes,
//! so that `[(?=]` is a class and not a look-ahead:
//!
//! - constructs whose meaning needs backtracking (back-references,
//!   look-around, atomic groups, possessive quantifiers, conditionals, the
//!   absent operator, subexpression calls, `\K`, `\R`, `\X`, `\G`, `\y`, `\Y`,
//!   `\O`) are refused with a [`Construct`] naming them and where they sit;
//! - constructs that differ only in spelling are rewritten: `(?'n'..)` and
//!   `(?<n>..)` become plain groups mapped to their names, unnamed groups stop
//!   capturing (fluent-bit only reports named ones), `\h` is a hex digit,
//!   `\d \w \s` are ASCII as in Ruby, `\Z` at the end of the pattern becomes
//!   `\n?\z`, `{,n}` becomes `{0,n}`, an interval that is not one is a literal
//!   `{`, `\e \cX \C-X \0oo` become the characters they name, an escaped
//!   punctuation character is that character (`\<` is `<`, not a word
//!   boundary), Onigmo's `m` option (dot matches newline) becomes `s`, the
//!   `x` option is applied here (whitespace and comments dropped), and `i`
//!   folds ASCII letters here (this build carries no Unicode case tables);
//! - `^` and `$` match at every line start and end, as they do in Ruby, and
//!   a match of a `^`-anchored pattern that starts at the end of a line
//!   ending in a newline is no match, as in Onigmo (see [`UserParser::parse`]).
//!
//! fluent-bit's `/pattern/options` form is unwrapped exactly as its
//! `str_to_regex` does (`src/flb_regex.c`).
//!
//! # Limits, and why
//!
//! fluent-bit runs the module in WAMR's interpreter with a frame stack of
//! `wasm_stack_size` bytes (8 KiB by default); a call chain that needs more
//! traps, and the configuration is loaded inside the filter call. Compiling a
//! pattern takes a fixed base of about 6 KiB of frames and recurses once per
//! level of group nesting, about 4 KiB more each (measured; classes cost
//! nothing), so no pattern with a group compiles within the default. Before
//! compiling, [`UserParser::compile`] estimates the stack from the pattern's
//! group nesting ([`compile_stack_bytes`]) and refuses, naming
//! `wasm_stack_size` and the value to raise it to, when
//! [`Limits::stack_bytes`] is smaller: a stack overflow would trap and the
//! next record would try again. Whatever the stack, nesting is capped at
//! [`MAX_NESTING`] and the crate's own nest limit is set just above what that
//! cap allows. The compiled program is capped at [`SIZE_LIMIT`] bytes: the
//! Pike VM's work per byte of input grows with the program's size, so the
//! cap also bounds the work per record.
//!
//! # Applying
//!
//! [`UserParser::parse`] takes the log line as text (already unescaped from
//! the record's JSON string) and appends one field per named group that
//! matched, as fluent-bit does: an empty or unmatched group is skipped unless
//! `Skip_Empty_Values` is off; `Types` converts values (`integer`, `float`,
//! `bool`, `hex`, `string`), and a value that does not convert is kept as
//! text and reported ([`Parsed::unconverted`]) where fluent-bit would store
//! a 0. The group named by `Time_Key` (default `time`, only when
//! `Time_Format` is set) is reported in [`Parsed::time`] and left out of the
//! fields unless `Time_Keep` is on. Times in the RFC 3339 family and in the
//! access-log layout `%d/%b/%Y:%H:%M:%S %z` are converted; any other layout
//! is handed over as raw text for a strptime implementation to convert
//! ([`TimeValue::Pending`]). A time that does not fit a layout rosetta reads
//! is kept in the fields whatever `Time_Keep` says (fluent-bit drops it).

use crate::time::{self, Timestamp};
use regex::{CaptureLocations, Regex, RegexBuilder};
use std::cell::Cell;
use std::fmt;

/// fluent-bit's default `wasm_stack_size` (WAMR's frame stack), in bytes.
pub const DEFAULT_STACK_BYTES: usize = 8192;

/// Frame stack the module's own calls take above the compilation (the
/// export, the configuration loader), in bytes, with room to spare.
pub const CALLER_STACK: usize = 2048;

/// Frame stack that compiling a pattern without groups takes in WAMR's
/// interpreter, in bytes: measured at most 6,060, rounded up (see
/// `docs/user-parsers.md`).
pub const COMPILE_STACK_BASE: usize = 7168;

/// Frame stack each level of group nesting adds while compiling, in bytes:
/// measured at most 3,940, rounded up. Classes add none (the compiler
/// handles them without recursion).
pub const COMPILE_STACK_PER_LEVEL: usize = 4096;

/// The deepest nesting of groups and classes a pattern may have, whatever
/// the stack. fluent-bit's stock parsers nest at most 4 deep.
pub const MAX_NESTING: usize = 32;

/// The regex crate's nest limit, set just above what [`MAX_NESTING`]
/// allows: its syntax tree has up to four levels for each of our groups
/// (repetition, group, alternation, concatenation), three for each class,
/// one per stacked quantifier, two at the top.
const NEST_LIMIT: u32 = (5 * MAX_NESTING + 2) as u32;

/// The largest compiled program, in bytes of heap: fourteen times the
/// largest of fluent-bit's stock parsers (under 18 KiB).
pub const SIZE_LIMIT: usize = 256 << 10;

/// The largest lazy DFA cache, should a build enable that engine.
pub const DFA_SIZE_LIMIT: usize = 256 << 10;

/// Where the module may use the stack: the `[FILTER]` option
/// `wasm_stack_size` fluent-bit runs it with. The module cannot read that
/// option; the configuration repeats it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// WAMR's frame stack, in bytes.
    pub stack_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            stack_bytes: DEFAULT_STACK_BYTES,
        }
    }
}

/// The frame stack, in bytes, that loading a parser whose groups nest
/// `group_depth` deep takes (see [`Translation::group_depth`]), by the
/// measured model: the callers, the base, and a step per level.
pub fn compile_stack_bytes(group_depth: usize) -> usize {
    CALLER_STACK
        .saturating_add(COMPILE_STACK_BASE)
        .saturating_add(COMPILE_STACK_PER_LEVEL.saturating_mul(group_depth))
}

// ---------------------------------------------------------------------------
// The specification: a parser as written, before compilation.
// ---------------------------------------------------------------------------

/// A parser's `Format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `regex`: compiled here.
    Regex,
    /// `json`.
    Json,
    /// `ltsv`.
    Ltsv,
    /// `logfmt`.
    Logfmt,
}

impl Format {
    /// The format named `name`, any case (as fluent-bit compares it).
    pub fn from_name(name: &str) -> Option<Format> {
        [
            ("regex", Format::Regex),
            ("json", Format::Json),
            ("ltsv", Format::Ltsv),
            ("logfmt", Format::Logfmt),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, f)| f)
    }

    /// The name as fluent-bit spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Regex => "regex",
            Format::Json => "json",
            Format::Ltsv => "ltsv",
            Format::Logfmt => "logfmt",
        }
    }
}

/// One parser as written in a parsers file or in `rosetta.toml`, with the
/// place it was written, for error messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParserSpec {
    /// `Name`.
    pub name: String,
    /// `Format`.
    pub format: Format,
    /// `Regex`, as written (`/.../opts` included).
    pub regex: Option<String>,
    /// `Time_Key`.
    pub time_key: Option<String>,
    /// `Time_Format`, a strptime format (with fluent-bit's `%L`).
    pub time_format: Option<String>,
    /// `Time_Keep` (default off).
    pub time_keep: bool,
    /// `Time_Offset` (`+0200`), kept for the time conversion.
    pub time_offset: Option<String>,
    /// `Types`, as written: `key:type` entries separated by spaces.
    pub types: Option<String>,
    /// `Skip_Empty_Values` (default on).
    pub skip_empty_values: bool,
    /// The file it was read from.
    pub file: String,
    /// The line the parser starts on (1-based).
    pub line: usize,
    /// The line of its `Regex` (the start line when unknown).
    pub regex_line: usize,
}

impl ParserSpec {
    /// A spec with fluent-bit's defaults, for `name` at `file:line`.
    pub fn new(name: &str, format: Format, file: &str, line: usize) -> ParserSpec {
        ParserSpec {
            name: name.to_string(),
            format,
            regex: None,
            time_key: None,
            time_format: None,
            time_keep: false,
            time_offset: None,
            types: None,
            skip_empty_values: true,
            file: file.to_string(),
            line,
            regex_line: line,
        }
    }
}

// ---------------------------------------------------------------------------
// Errors.
// ---------------------------------------------------------------------------

/// An Onigmo construct this module does not run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Construct {
    /// `\1`, `\k<name>`, `(?P=name)`.
    BackReference,
    /// `(?=...)`, `(?!...)`.
    LookAhead,
    /// `(?<=...)`, `(?<!...)`.
    LookBehind,
    /// `(?>...)`.
    AtomicGroup,
    /// `*+`, `++`, `?+`.
    PossessiveQuantifier,
    /// `{n,m}+`: in Ruby syntax a repetition of a repetition.
    RepeatedInterval,
    /// `{n}?`: in Ruby syntax `(?:x{n})?`, not a lazy `{n}`.
    OptionalInterval,
    /// `(?(cond)yes|no)`.
    Conditional,
    /// `(?~...)`.
    AbsentOperator,
    /// `\g<name>`, `(?P>name)`.
    SubexpressionCall,
    /// `\K`.
    Keep,
    /// An escape only Onigmo has: `\R`, `\X`, `\G`, `\y`, `\Y`, `\O`, `\M-x`.
    OnigmoEscape(char),
    /// `\p{...}`, `\P{...}`: this build has no Unicode property tables.
    UnicodeProperty,
    /// `\x80`-`\xFF`: a raw byte in Onigmo, not a character.
    ByteEscape,
    /// `\Z` anywhere but at the end of a branch outside capture groups.
    EndBeforeNewline,
    /// An escape of a letter or digit Onigmo does not define either.
    UnknownEscape(char),
    /// `(?` followed by something that is no group Onigmo knows.
    UnknownGroup,
    /// A group name that is empty or not made of word characters.
    InvalidGroupName(String),
    /// `[:name:]` with a name that is no POSIX class.
    UnknownPosixClass(String),
    /// A `)` that closes no group.
    UnmatchedParenthesis,
    /// A group still open at the end of the pattern.
    UnclosedGroup,
    /// A class still open at the end of the pattern.
    UnclosedClass,
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Construct::BackReference => f.write_str("a back-reference (\\1, \\k<name>)"),
            Construct::LookAhead => f.write_str("a look-ahead ((?=...), (?!...))"),
            Construct::LookBehind => f.write_str("a look-behind ((?<=...), (?<!...))"),
            Construct::AtomicGroup => f.write_str("an atomic group ((?>...))"),
            Construct::PossessiveQuantifier => {
                f.write_str("a possessive quantifier (*+, ++, ?+)")
            }
            Construct::RepeatedInterval => f.write_str(
                "an interval followed by + ({n,m}+ repeats the interval in Ruby syntax; write (?:x{n,m})+)",
            ),
            Construct::OptionalInterval => f.write_str(
                "an interval followed by ? ({n}? means (?:x{n})? in Ruby syntax; write that)",
            ),
            Construct::Conditional => f.write_str("a conditional ((?(cond)yes|no))"),
            Construct::AbsentOperator => f.write_str("the absent operator ((?~...))"),
            Construct::SubexpressionCall => f.write_str("a subexpression call (\\g<name>)"),
            Construct::Keep => f.write_str("\\K (keep)"),
            Construct::OnigmoEscape(c) => write!(f, "the Onigmo-only escape \\{c}"),
            Construct::UnicodeProperty => {
                f.write_str("a Unicode property (\\p{...}): this build has no property tables")
            }
            Construct::ByteEscape => f.write_str(
                "a byte escape above \\x7F (a raw byte in Onigmo; write the character or \\x{...})",
            ),
            Construct::EndBeforeNewline => f.write_str(
                "\\Z other than at the end of the pattern, outside capture groups (write \\n?\\z)",
            ),
            Construct::UnknownEscape(c) => write!(f, "the unknown escape \\{c}"),
            Construct::UnknownGroup => f.write_str("an unknown group syntax ((?...)"),
            Construct::InvalidGroupName(n) => write!(f, "the invalid group name '{n}'"),
            Construct::UnknownPosixClass(n) => write!(f, "the unknown POSIX class [:{n}:]"),
            Construct::UnmatchedParenthesis => f.write_str("a ) that closes no group"),
            Construct::UnclosedGroup => f.write_str("a ( that is never closed"),
            Construct::UnclosedClass => f.write_str("a [ that is never closed"),
        }
    }
}

/// Why a parser could not be compiled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The spec is not of `Format regex`.
    NotRegex(Format),
    /// `Format regex` without a `Regex`.
    MissingRegex,
    /// A construct the linear-time engine cannot run; `at` is its byte
    /// offset in the `Regex` value as written.
    Refused {
        /// What it is.
        construct: Construct,
        /// Where it starts.
        at: usize,
    },
    /// Compiling would overflow WAMR's frame stack.
    StackTooSmall {
        /// The pattern's group nesting.
        depth: usize,
        /// The stack it needs, in bytes.
        need: usize,
        /// The stack configured, in bytes.
        have: usize,
    },
    /// The pattern nests deeper than [`MAX_NESTING`].
    TooDeep {
        /// The pattern's nesting.
        depth: usize,
    },
    /// The compiled program would exceed [`SIZE_LIMIT`].
    TooBig,
    /// The regex crate refused the (translated) pattern: its message.
    Syntax(String),
    /// A `Types` entry that is not `key:type` with a known type and a key
    /// that names a capture group, or that repeats a key.
    BadType(String),
    /// `Time_Key` names no capture group.
    NoTimeGroup(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::NotRegex(format) => {
                write!(f, "is of format {}, not regex", format.as_str())
            }
            Problem::MissingRegex => f.write_str("has format regex but no Regex"),
            Problem::Refused { construct, at } => write!(
                f,
                "{construct} at byte {at} of its Regex cannot run in linear time; rewrite the pattern without it"
            ),
            Problem::StackTooSmall { depth, need, have } => write!(
                f,
                "needs about {need} bytes of stack to compile its Regex (groups nested {depth} deep), more than the {have} of wasm_stack_size: raise the [FILTER] option wasm_stack_size to at least {need}"
            ),
            Problem::TooDeep { depth } => write!(
                f,
                "its Regex nests {depth} levels deep, more than the {MAX_NESTING} allowed"
            ),
            Problem::TooBig => write!(
                f,
                "its Regex compiles to more than {SIZE_LIMIT} bytes; use fewer or smaller repetitions"
            ),
            Problem::Syntax(message) => write!(f, "its Regex is invalid: {message}"),
            Problem::BadType(entry) => write!(
                f,
                "Types entry '{entry}' must be key:type with a capture group's name and one of integer, float, bool, hex, string, each key once"
            ),
            Problem::NoTimeGroup(key) => {
                write!(f, "Time_Key '{key}' names no capture group of its Regex")
            }
        }
    }
}

/// A parser that could not be compiled: which, where, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserParserError {
    /// The parser's name.
    pub parser: String,
    /// The file it was written in.
    pub file: String,
    /// The line of the problem (its `Regex` for pattern problems).
    pub line: usize,
    /// What is wrong.
    pub problem: Problem,
}

impl fmt::Display for UserParserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: parser '{}' {}",
            self.file, self.line, self.parser, self.problem
        )
    }
}

impl std::error::Error for UserParserError {}

// ---------------------------------------------------------------------------
// Translation: Onigmo (Ruby syntax) to the regex crate's syntax.
// ---------------------------------------------------------------------------

/// A pattern rewritten for the regex crate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Translation {
    /// The pattern in the regex crate's syntax (compile it with
    /// `multi_line(true)`); its only capture groups are the named ones.
    pub pattern: String,
    /// The name of each capture group, in order (group 1 first).
    pub names: Vec<String>,
    /// The deepest nesting of groups and classes.
    pub depth: usize,
    /// The deepest nesting of groups, counting each quantifier applied to
    /// a quantifier (`a**`) as one more level: what the compiler's
    /// recursion follows.
    pub group_depth: usize,
    /// Every top-level alternative starts with `^`.
    pub anchored: bool,
}

/// A construct [`translate`] refuses and its byte offset in its input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// What it is.
    pub construct: Construct,
    /// Where it starts.
    pub at: usize,
}

/// Onigmo options in force.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Flags {
    /// `i`: ASCII letters match either case (folded here).
    fold: bool,
    /// `m` in Onigmo: `.` matches a newline (`s` in the regex crate).
    dotall: bool,
    /// `x`: whitespace and `#` comments outside classes are dropped.
    extended: bool,
    /// `u`: `\d \w \s` are Unicode (Ruby's default is ASCII).
    unicode_classes: bool,
    /// `a`: `\b` uses ASCII word characters (the default is Unicode).
    ascii_bounds: bool,
}

/// An open group.
struct Group {
    /// Where it starts.
    at: usize,
    /// The options to restore when it closes.
    saved: Flags,
    /// Whether it is a named (capturing) group.
    named: bool,
    /// Groups opened by `(?opts)` inside it, closed with it.
    implicit: usize,
}

/// An open class: where it starts, and the other-case ranges to add
/// before its next `&&` or `]` when folding.
struct Class {
    at: usize,
    folds: Vec<(char, char)>,
}

/// What a class escape stands for.
enum ClassItem {
    /// One character.
    Char(char),
    /// A set, already written out.
    Set,
}

/// Whether `c` must be escaped to be literal in the regex crate's syntax.
fn is_meta(c: char) -> bool {
    matches!(
        c,
        '\\' | '.'
            | '+'
            | '*'
            | '?'
            | '('
            | ')'
            | '|'
            | '['
            | ']'
            | '{'
            | '}'
            | '^'
            | '$'
            | '#'
            | '&'
            | '-'
            | '~'
    )
}

/// The POSIX bracket names both Onigmo and the regex crate know.
const POSIX_CLASSES: &[&str] = &[
    "alnum", "alpha", "ascii", "blank", "cntrl", "digit", "graph", "lower", "print", "punct",
    "space", "upper", "word", "xdigit",
];

/// The ASCII sets of `\d \w \s \h` as class contents.
fn perl_ascii(letter: char) -> &'static str {
    match letter.to_ascii_lowercase() {
        'd' => "0-9",
        'w' => "0-9A-Za-z_",
        's' => "\\t\\n\\x0B\\x0C\\r ",
        _ => "0-9A-Fa-f",
    }
}

/// `c`'s other-case ranges within `lo..=hi`: the uppercase of its
/// lowercase letters and the lowercase of its uppercase ones.
fn other_case(lo: char, hi: char) -> [Option<(char, char)>; 2] {
    let swap = |a: u8, z: u8, shift: i16| -> Option<(char, char)> {
        let (l, h) = (
            u32::from(lo).max(u32::from(a)),
            u32::from(hi).min(u32::from(z)),
        );
        if l > h {
            return None;
        }
        let moved = |c: u32| char::from_u32((c as i64 + i64::from(shift)) as u32);
        Some((moved(l)?, moved(h)?))
    };
    [swap(b'a', b'z', -32), swap(b'A', b'Z', 32)]
}

struct Translator<'a> {
    src: &'a str,
    i: usize,
    out: String,
    names: Vec<String>,
    groups: Vec<Group>,
    /// Groups opened by `(?opts)` at the top level.
    top_implicit: usize,
    classes: Vec<Class>,
    flags: Flags,
    /// Groups (implicit ones included) and classes open at the cursor.
    open: usize,
    /// The most ever open at once.
    depth: usize,
    /// Groups (implicit ones included) open at the cursor.
    open_groups: usize,
    /// The deepest group nesting, stacked quantifiers included.
    group_depth: usize,
    /// Quantifiers in a row just before the cursor, less one (`None`
    /// after anything but a quantifier).
    chain: Option<usize>,
    /// Every top-level alternative so far starts with `^`.
    anchored: bool,
    /// The cursor is at the start of a top-level alternative.
    branch_start: bool,
}

/// The Onigmo options a pattern starts with: those of fluent-bit's
/// `/pattern/xmi` suffix.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// `x`: blanks and `#` comments are dropped.
    pub extended: bool,
    /// `m`: `.` matches a newline.
    pub dotall: bool,
    /// `i`: letters match either case.
    pub fold: bool,
}

/// Rewrites an Onigmo pattern (Ruby syntax, no `/.../` wrapper) for the
/// regex crate, or names the first construct it cannot carry over.
/// One pass over the pattern; the output is linear in its length.
pub fn translate(pattern: &str, options: Options) -> Result<Translation, Refusal> {
    let Options {
        extended,
        dotall,
        fold,
    } = options;
    let mut t = Translator {
        src: pattern,
        i: 0,
        out: String::with_capacity(pattern.len() + pattern.len() / 2 + 8),
        names: Vec::new(),
        groups: Vec::new(),
        top_implicit: 0,
        classes: Vec::new(),
        flags: Flags {
            fold,
            dotall,
            extended,
            ..Flags::default()
        },
        open: 0,
        depth: 0,
        open_groups: 0,
        group_depth: 0,
        chain: None,
        anchored: true,
        branch_start: true,
    };
    if dotall {
        t.out.push_str("(?s:");
        t.top_implicit += 1;
        t.deeper_group();
    }
    t.run()?;
    if let Some(group) = t.groups.first() {
        return Err(Refusal {
            construct: Construct::UnclosedGroup,
            at: group.at,
        });
    }
    if let Some(class) = t.classes.first() {
        return Err(Refusal {
            construct: Construct::UnclosedClass,
            at: class.at,
        });
    }
    for _ in 0..t.top_implicit {
        t.out.push(')');
    }
    Ok(Translation {
        pattern: t.out,
        names: t.names,
        depth: t.depth,
        group_depth: t.group_depth,
        anchored: t.anchored && !t.branch_start,
    })
}

impl<'a> Translator<'a> {
    fn byte(&self, at: usize) -> Option<u8> {
        self.src.as_bytes().get(at).copied()
    }

    fn rest(&self, at: usize) -> &'a str {
        self.src.get(at..).unwrap_or_default()
    }

    fn char_at(&self, at: usize) -> Option<char> {
        self.rest(at).chars().next()
    }

    fn refuse<T>(&self, construct: Construct, at: usize) -> Result<T, Refusal> {
        Err(Refusal { construct, at })
    }

    /// One more class is open.
    fn deeper(&mut self) {
        self.open += 1;
        self.depth = self.depth.max(self.open);
    }

    /// One more group is open.
    fn deeper_group(&mut self) {
        self.deeper();
        self.open_groups += 1;
        self.group_depth = self.group_depth.max(self.open_groups);
    }

    /// A quantifier follows: one more level when it applies to another.
    fn quantified(&mut self) {
        let chain = self.chain.map_or(0, |k| k + 1);
        self.chain = Some(chain);
        self.group_depth = self.group_depth.max(self.open_groups + chain);
    }

    fn run(&mut self) -> Result<(), Refusal> {
        while let Some(b) = self.byte(self.i) {
            if !self.classes.is_empty() {
                self.class_step(b)?;
                continue;
            }
            if self.flags.extended {
                if b.is_ascii_whitespace() || b == 0x0B {
                    self.i += 1;
                    continue;
                }
                if b == b'#' {
                    self.i = self
                        .rest(self.i)
                        .find('\n')
                        .map_or(self.src.len(), |n| self.i + n + 1);
                    continue;
                }
            }
            let quantifier =
                matches!(b, b'*' | b'+' | b'?') || (b == b'{' && self.parse_interval().is_some());
            if !quantifier {
                self.chain = None;
            }
            if self.branch_start && !self.options_only() {
                self.branch_start = false;
                self.anchored &= b == b'^';
            }
            if b == b'|' && self.groups.is_empty() {
                self.branch_start = true;
            }
            match b {
                b'\\' => self.escape()?,
                b'(' => self.open_group()?,
                b')' => self.close_group()?,
                b'[' => self.open_class()?,
                b'*' | b'+' | b'?' => self.quantifier(b)?,
                b'{' => self.interval()?,
                b'.' | b'^' | b'$' | b'|' => {
                    self.out.push(char::from(b));
                    self.i += 1;
                }
                _ => {
                    let c = self.char_at(self.i).unwrap_or('\u{FFFD}');
                    self.i += c.len_utf8().max(1);
                    self.literal(c);
                }
            }
        }
        Ok(())
    }

    /// Whether the cursor is on a group that only sets options or is a
    /// comment: `(?imx-imx)`, `(?#...)`.
    fn options_only(&self) -> bool {
        let rest = self.rest(self.i);
        if rest.starts_with("(?#") {
            return true;
        }
        rest.strip_prefix("(?").is_some_and(|r| {
            let flags = r.bytes().take_while(|b| b"imxadu-".contains(b)).count();
            r.as_bytes().get(flags) == Some(&b')')
        })
    }

    /// Writes `c` as a literal outside classes, folded when `i` is on.
    fn literal(&mut self, c: char) {
        if self.flags.fold && c.is_ascii_alphabetic() {
            self.out.push('[');
            self.out.push(c.to_ascii_lowercase());
            self.out.push(c.to_ascii_uppercase());
            self.out.push(']');
        } else {
            self.push_char(c);
        }
    }

    /// Writes `c` so that the regex crate reads it as that character.
    fn push_char(&mut self, c: char) {
        if c.is_control() {
            self.out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
        } else {
            if is_meta(c) {
                self.out.push('\\');
            }
            self.out.push(c);
        }
    }

    fn quantifier(&mut self, b: u8) -> Result<(), Refusal> {
        let at = self.i;
        self.quantified();
        self.out.push(char::from(b));
        self.i += 1;
        match self.byte(self.i) {
            Some(b'?') => {
                self.out.push('?');
                self.i += 1;
            }
            Some(b'+') => return self.refuse(Construct::PossessiveQuantifier, at),
            _ => {}
        }
        Ok(())
    }

    /// `{n}`, `{n,}`, `{n,m}` or `{,m}` at the cursor: `(min, max or None
    /// for unbounded, fixed, end)`, or `None` when the brace is a literal.
    fn parse_interval(&self) -> Option<(&'a str, &'a str, bool, usize)> {
        let rest = self.rest(self.i + 1);
        // Only digits and a comma may come before the `}` (a bounded look).
        let close = rest
            .bytes()
            .position(|b| !(b.is_ascii_digit() || b == b','))?;
        if rest.as_bytes().get(close) != Some(&b'}') {
            return None;
        }
        let body = rest.get(..close)?;
        let (min, max, fixed) = match body.split_once(',') {
            Some((a, b)) => (a, b, false),
            None => (body, body, true),
        };
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if !digits(min) || !digits(max) || (min.is_empty() && max.is_empty()) {
            return None;
        }
        Some((min, max, fixed, self.i + 1 + close + 1))
    }

    fn interval(&mut self) -> Result<(), Refusal> {
        let at = self.i;
        let Some((min, max, fixed, end)) = self.parse_interval() else {
            self.out.push_str("\\{");
            self.i += 1;
            return Ok(());
        };
        self.quantified();
        let min = if min.is_empty() { "0" } else { min };
        let text = if fixed {
            format!("{{{min}}}")
        } else {
            format!("{{{min},{max}}}")
        };
        self.out.push_str(&text);
        self.i = end;
        match self.byte(self.i) {
            Some(b'?') if fixed => self.refuse(Construct::OptionalInterval, at),
            Some(b'?') => {
                self.out.push('?');
                self.i += 1;
                Ok(())
            }
            Some(b'+') => self.refuse(Construct::RepeatedInterval, at),
            _ => Ok(()),
        }
    }

    fn open_group(&mut self) -> Result<(), Refusal> {
        let at = self.i;
        let rest = self.rest(at);
        if rest.starts_with("(?#") {
            // A comment: up to the next `)`.
            self.i = rest.find(')').map_or(self.src.len(), |n| at + n + 1);
            return Ok(());
        }
        let Some(head) = rest.strip_prefix("(?") else {
            // Unnamed groups capture nothing fluent-bit reports.
            self.push_group("(?:", false, 1);
            return Ok(());
        };
        let mut chars = head.chars();
        match (chars.next(), chars.next()) {
            (Some(':'), _) => {
                self.push_group("(?:", false, 3);
                Ok(())
            }
            (Some('=' | '!'), _) => self.refuse(Construct::LookAhead, at),
            (Some('<'), Some('=' | '!')) => self.refuse(Construct::LookBehind, at),
            (Some('>'), _) => self.refuse(Construct::AtomicGroup, at),
            (Some('~'), _) => self.refuse(Construct::AbsentOperator, at),
            (Some('('), _) => self.refuse(Construct::Conditional, at),
            (Some('<'), _) => self.named_group(at, 3, '>'),
            (Some('\''), _) => self.named_group(at, 3, '\''),
            (Some('P'), Some('<')) => self.named_group(at, 4, '>'),
            (Some('P'), Some('=')) => self.refuse(Construct::BackReference, at),
            (Some('P'), Some('>')) => self.refuse(Construct::SubexpressionCall, at),
            (Some(c), _) if "imxadu-".contains(c) => self.options(at),
            _ => self.refuse(Construct::UnknownGroup, at),
        }
    }

    fn push_group(&mut self, text: &str, named: bool, advance: usize) {
        self.out.push_str(text);
        self.i += advance;
        self.groups.push(Group {
            at: self.i - advance,
            saved: self.flags,
            named,
            implicit: 0,
        });
        self.deeper_group();
    }

    fn named_group(&mut self, at: usize, skip: usize, end: char) -> Result<(), Refusal> {
        let rest = self.rest(at + skip);
        let Some(len) = rest.find(end) else {
            return self.refuse(Construct::UnknownGroup, at);
        };
        let name = rest.get(..len).unwrap_or_default();
        let valid = !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c == '_' || c.is_alphanumeric());
        if !valid {
            return self.refuse(Construct::InvalidGroupName(name.to_string()), at);
        }
        self.names.push(name.to_string());
        self.push_group("(", true, skip + len + 1);
        Ok(())
    }

    /// `(?imxadu-imx)` or `(?imxadu-imx:...)`.
    fn options(&mut self, at: usize) -> Result<(), Refusal> {
        let mut flags = self.flags;
        let mut off = false;
        let mut end = at + 2;
        let colon = loop {
            let Some(b) = self.byte(end) else {
                return self.refuse(Construct::UnknownGroup, at);
            };
            end += 1;
            match (b, off) {
                (b')', _) => break false,
                (b':', _) => break true,
                (b'-', false) => off = true,
                (b'i', _) => flags.fold = !off,
                (b'm', _) => flags.dotall = !off,
                (b'x', _) => flags.extended = !off,
                (b'a', false) => {
                    flags.unicode_classes = false;
                    flags.ascii_bounds = true;
                }
                (b'd', false) => {
                    flags.unicode_classes = false;
                    flags.ascii_bounds = false;
                }
                (b'u', false) => {
                    flags.unicode_classes = true;
                    flags.ascii_bounds = false;
                }
                _ => return self.refuse(Construct::UnknownGroup, at),
            }
        };
        let head = match (self.flags.dotall, flags.dotall) {
            (false, true) => "(?s:",
            (true, false) => "(?-s:",
            _ => "(?:",
        };
        if colon {
            self.push_group(head, false, end - at);
            self.flags = flags;
        } else {
            // Ruby applies `(?opts)` to the rest of the enclosing group,
            // alternatives included: `a(?m)b|c` is `a(?m:b|c)`.
            self.out.push_str(head);
            self.i = end;
            match self.groups.last_mut() {
                Some(group) => group.implicit += 1,
                None => self.top_implicit += 1,
            }
            self.flags = flags;
            self.deeper_group();
        }
        Ok(())
    }

    fn close_group(&mut self) -> Result<(), Refusal> {
        let Some(group) = self.groups.pop() else {
            return self.refuse(Construct::UnmatchedParenthesis, self.i);
        };
        for _ in 0..group.implicit {
            self.out.push(')');
        }
        self.out.push(')');
        self.open = self.open.saturating_sub(group.implicit + 1);
        self.open_groups = self.open_groups.saturating_sub(group.implicit + 1);
        self.flags = group.saved;
        self.i += 1;
        Ok(())
    }

    /// Whether the cursor is at the end of a branch: end of pattern, `)`,
    /// `|` or `$` next.
    fn at_branch_end(&self) -> bool {
        matches!(self.byte(self.i), None | Some(b')' | b'|' | b'$'))
    }

    /// An escape outside classes.
    fn escape(&mut self) -> Result<(), Refusal> {
        let at = self.i;
        let Some(c) = self.char_at(at + 1) else {
            // A trailing backslash: let the regex crate say so.
            self.out.push('\\');
            self.i += 1;
            return Ok(());
        };
        self.i = at + 1 + c.len_utf8();
        match c {
            'A' => self.out.push_str("\\A"),
            'z' => self.out.push_str("\\z"),
            'b' | 'B' => {
                if self.flags.ascii_bounds {
                    self.out
                        .push_str(if c == 'b' { "(?-u:\\b)" } else { "(?-u:\\B)" });
                } else {
                    self.out.push('\\');
                    self.out.push(c);
                }
            }
            'Z' => {
                if self.groups.iter().any(|g| g.named) || !self.at_branch_end() {
                    return self.refuse(Construct::EndBeforeNewline, at);
                }
                self.out.push_str("(?:\\n?\\z)");
            }
            '1'..='9' => return self.refuse(Construct::BackReference, at),
            'k' if matches!(self.byte(self.i), Some(b'<' | b'\'')) => {
                return self.refuse(Construct::BackReference, at);
            }
            'g' if matches!(self.byte(self.i), Some(b'<' | b'\'')) => {
                return self.refuse(Construct::SubexpressionCall, at);
            }
            'K' => return self.refuse(Construct::Keep, at),
            'R' | 'X' | 'G' | 'y' | 'Y' | 'O' | 'M' => {
                return self.refuse(Construct::OnigmoEscape(c), at);
            }
            'p' | 'P' => return self.refuse(Construct::UnicodeProperty, at),
            'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'h' | 'H' => self.perl_class(c, false),
            _ => {
                let ch = self.char_escape(c, at, false)?;
                self.literal(ch);
            }
        }
        Ok(())
    }

    /// `\d \w \s \h` and their negations, as a class of their own or (in a
    /// class) as class contents.
    fn perl_class(&mut self, c: char, in_class: bool) {
        let negated = c.is_ascii_uppercase();
        if self.flags.unicode_classes && !matches!(c, 'h' | 'H') {
            self.out.push('\\');
            self.out.push(c);
            return;
        }
        let body = perl_ascii(c);
        match (in_class, negated) {
            (true, false) => self.out.push_str(body),
            (_, true) => {
                self.out.push_str("[^");
                self.out.push_str(body);
                self.out.push(']');
            }
            (false, false) => {
                self.out.push('[');
                self.out.push_str(body);
                self.out.push(']');
            }
        }
    }

    /// The character an escape `\c...` stands for (the cursor is after
    /// `c`; it is moved past any further characters the escape takes).
    fn char_escape(&mut self, c: char, at: usize, in_class: bool) -> Result<char, Refusal> {
        Ok(match c {
            't' => '\t',
            'n' => '\n',
            'r' => '\r',
            'f' => '\x0C',
            'v' => '\x0B',
            'a' => '\x07',
            'e' => '\x1B',
            'b' if in_class => '\x08',
            '0'..='7' if c == '0' || in_class => {
                // Octal: up to three digits in all.
                let mut value = c.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match self.byte(self.i) {
                        Some(d @ b'0'..=b'7') => {
                            value = value * 8 + u32::from(d - b'0');
                            self.i += 1;
                        }
                        _ => break,
                    }
                }
                if value > 0x7F {
                    return self.refuse(Construct::ByteEscape, at);
                }
                char::from_u32(value).unwrap_or('\0')
            }
            'x' => self.hex_escape(at)?,
            'u' => {
                let digits = self.rest(self.i).get(..4).unwrap_or_default();
                if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return self.refuse(Construct::UnknownEscape('u'), at);
                }
                self.i += 4;
                let value = u32::from_str_radix(digits, 16).unwrap_or(0xFFFD);
                char::from_u32(value).unwrap_or('\u{FFFD}')
            }
            'c' => self.control(at)?,
            'C' => {
                if self.byte(self.i) != Some(b'-') {
                    return self.refuse(Construct::UnknownEscape('C'), at);
                }
                self.i += 1;
                self.control(at)?
            }
            c if c.is_ascii_alphanumeric() => {
                return self.refuse(Construct::UnknownEscape(c), at);
            }
            c => c,
        })
    }

    /// `\xH`, `\xHH` or `\x{H...}` (the cursor is after `x`).
    fn hex_escape(&mut self, at: usize) -> Result<char, Refusal> {
        let rest = self.rest(self.i);
        let (digits, taken) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.find('}') {
                Some(n) => (braced.get(..n).unwrap_or_default(), n + 2),
                None => ("", 0),
            }
        } else {
            let n = rest
                .bytes()
                .take(2)
                .take_while(u8::is_ascii_hexdigit)
                .count();
            if n > 0 {
                let value = u32::from_str_radix(rest.get(..n).unwrap_or("0"), 16).unwrap_or(0);
                if value > 0x7F {
                    return self.refuse(Construct::ByteEscape, at);
                }
            }
            (rest.get(..n).unwrap_or_default(), n)
        };
        let value = (!digits.is_empty() && digits.len() <= 8)
            .then(|| u32::from_str_radix(digits, 16).ok())
            .flatten()
            .and_then(char::from_u32);
        match value {
            Some(ch) => {
                self.i += taken;
                Ok(ch)
            }
            None => self.refuse(Construct::UnknownEscape('x'), at),
        }
    }

    /// `\cX` / `\C-X` (the cursor is on `X`): the control character.
    fn control(&mut self, at: usize) -> Result<char, Refusal> {
        match self.byte(self.i) {
            Some(b'?') => {
                self.i += 1;
                Ok('\x7F')
            }
            Some(b) if b.is_ascii_graphic() || b == b' ' => {
                self.i += 1;
                Ok(char::from(b & 0x1F))
            }
            _ => self.refuse(Construct::UnknownEscape('c'), at),
        }
    }

    // -- Classes ------------------------------------------------------------

    fn open_class(&mut self) -> Result<(), Refusal> {
        self.out.push('[');
        self.classes.push(Class {
            at: self.i,
            folds: Vec::new(),
        });
        self.i += 1;
        self.deeper();
        if self.byte(self.i) == Some(b'^') {
            self.out.push('^');
            self.i += 1;
        }
        if self.byte(self.i) == Some(b']') {
            self.out.push_str("\\]");
            self.i += 1;
        }
        Ok(())
    }

    /// Writes `c` so that the regex crate reads it as that character
    /// inside a class.
    fn push_class_char(&mut self, c: char) {
        if c.is_control() {
            self.out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
        } else {
            if matches!(c, '\\' | '[' | ']' | '^' | '-' | '&' | '~') {
                self.out.push('\\');
            }
            self.out.push(c);
        }
    }

    /// Writes the pending other-case ranges of the innermost class.
    fn flush_folds(&mut self) {
        let folds = self
            .classes
            .last_mut()
            .map(|c| std::mem::take(&mut c.folds))
            .unwrap_or_default();
        for (lo, hi) in folds {
            self.push_class_char(lo);
            if hi != lo {
                self.out.push('-');
                self.push_class_char(hi);
            }
        }
    }

    fn note_fold(&mut self, lo: char, hi: char) {
        if !self.flags.fold {
            return;
        }
        let extra = other_case(lo, hi);
        if let Some(class) = self.classes.last_mut() {
            class.folds.extend(extra.into_iter().flatten());
        }
    }

    fn class_step(&mut self, b: u8) -> Result<(), Refusal> {
        match b {
            b']' => {
                self.flush_folds();
                self.out.push(']');
                self.classes.pop();
                self.open = self.open.saturating_sub(1);
                self.i += 1;
            }
            b'[' => {
                if self.rest(self.i).starts_with("[:")
                    && let Some(done) = self.posix_class()?
                {
                    self.i = done;
                    return Ok(());
                }
                self.open_class()?;
            }
            b'&' if self.byte(self.i + 1) == Some(b'&') => {
                self.flush_folds();
                self.out.push_str("&&");
                self.i += 2;
            }
            _ => {
                let at = self.i;
                let Some((item, next)) = self.class_item(at)? else {
                    return Ok(());
                };
                self.i = next;
                let ClassItem::Char(lo) = item else {
                    return Ok(());
                };
                // A range when `-` and a single character follow.
                if self.byte(self.i) == Some(b'-') && self.byte(self.i + 1) != Some(b']') {
                    let save_out = self.out.len();
                    if let Some((ClassItem::Char(hi), after)) = self.class_item(self.i + 1)? {
                        self.out.truncate(save_out);
                        self.push_class_char(lo);
                        self.out.push('-');
                        self.push_class_char(hi);
                        self.note_fold(lo, hi);
                        self.i = after;
                        return Ok(());
                    }
                    self.out.truncate(save_out);
                }
                self.push_class_char(lo);
                self.note_fold(lo, lo);
            }
        }
        Ok(())
    }

    /// The class item at `at`: a character (not written yet), or a set
    /// (written), with the position after it. `None` for the characters
    /// that are no item (`[`, `]`, `&&`): the caller handles them.
    fn class_item(&mut self, at: usize) -> Result<Option<(ClassItem, usize)>, Refusal> {
        let Some(c) = self.char_at(at) else {
            return Ok(None);
        };
        if c == '[' || c == ']' || (c == '&' && self.byte(at + 1) == Some(b'&')) {
            return Ok(None);
        }
        if c != '\\' {
            return Ok(Some((ClassItem::Char(c), at + c.len_utf8())));
        }
        let Some(e) = self.char_at(at + 1) else {
            self.out.push('\\');
            return Ok(Some((ClassItem::Set, at + 1)));
        };
        let saved = self.i;
        self.i = at + 1 + e.len_utf8();
        let item = match e {
            'd' | 'D' | 'w' | 'W' | 's' | 'S' | 'h' | 'H' => {
                self.perl_class(e, true);
                ClassItem::Set
            }
            'p' | 'P' => return self.refuse(Construct::UnicodeProperty, at),
            'k' | 'g' | 'K' | 'R' | 'X' | 'G' | 'y' | 'Y' | 'O' | 'M' | 'A' | 'z' | 'Z' | 'B' => {
                return self.refuse(Construct::UnknownEscape(e), at);
            }
            _ => ClassItem::Char(self.char_escape(e, at, true)?),
        };
        let next = self.i;
        self.i = saved;
        Ok(Some((item, next)))
    }

    /// `[:name:]` or `[:^name:]` at the cursor: written out, with the
    /// position after it; `None` when it is no POSIX bracket (a nested
    /// class that starts with `:`).
    fn posix_class(&mut self) -> Result<Option<usize>, Refusal> {
        let at = self.i;
        let body = self.rest(at + 2);
        // Only `^` and letters may come before the `:]` (a bounded look).
        let end = body
            .bytes()
            .position(|b| !(b.is_ascii_alphabetic() || b == b'^'))
            .unwrap_or(body.len());
        if !body.get(end..).is_some_and(|r| r.starts_with(":]")) {
            return Ok(None);
        }
        let inner = body.get(..end).unwrap_or_default();
        let (negated, name) = match inner.strip_prefix('^') {
            Some(n) => (true, n),
            None => (false, inner),
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphabetic()) {
            return Ok(None);
        }
        if !POSIX_CLASSES.contains(&name) {
            return self.refuse(Construct::UnknownPosixClass(name.to_string()), at);
        }
        let name = if self.flags.fold && matches!(name, "lower" | "upper") {
            "alpha"
        } else {
            name
        };
        self.out.push_str(if negated { "[:^" } else { "[:" });
        self.out.push_str(name);
        self.out.push_str(":]");
        Ok(Some(at + 2 + end + 2))
    }
}

/// fluent-bit's `/pattern/options` form, read as its `str_to_regex` does:
/// the body, the byte offset of the body in `written`, and the options.
pub fn unwrap_slashes(written: &str) -> (&str, usize, Options) {
    let plain = (written, 0, Options::default());
    if !written.starts_with('/') {
        return plain;
    }
    let mut options = Options::default();
    let mut options_at = None;
    if let Some(last) = written.rfind('/').filter(|&l| l > 0) {
        let tail = written.get(last + 1..).unwrap_or_default();
        let mut any = false;
        let mut known = true;
        for c in tail.chars() {
            match c {
                'x' => options.extended = true,
                'm' => options.dotall = true,
                'i' => options.fold = true,
                'o' => continue,
                _ => known = false,
            }
            any |= c != 'o';
        }
        if known && any {
            options_at = Some(last);
        } else {
            options = Options::default();
        }
    }
    if let Some(last) = options_at {
        return (written.get(1..last).unwrap_or_default(), 1, options);
    }
    if written.len() > 1 && written.ends_with('/') {
        return (
            written.get(1..written.len() - 1).unwrap_or_default(),
            1,
            options,
        );
    }
    plain
}

// ---------------------------------------------------------------------------
// Compiled parsers.
// ---------------------------------------------------------------------------

/// A `Types` conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// `string` (also every field `Types` does not name).
    String,
    /// `integer`: a decimal `i64`.
    Integer,
    /// `float`: a finite `f64`.
    Float,
    /// `bool`: `true` or `false`, any case.
    Bool,
    /// `hex`: a hexadecimal `u64`, `0x` optional.
    Hex,
}

impl FieldType {
    fn from_name(name: &str) -> Option<FieldType> {
        [
            ("string", FieldType::String),
            ("integer", FieldType::Integer),
            ("float", FieldType::Float),
            ("bool", FieldType::Bool),
            ("hex", FieldType::Hex),
        ]
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, t)| t)
    }

    /// The name `Types` uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Integer => "integer",
            FieldType::Float => "float",
            FieldType::Bool => "bool",
            FieldType::Hex => "hex",
        }
    }
}

/// How a time group is converted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TimeLayout {
    /// `%Y-%m-%dT%H:%M:%S`, optional `.%L`, then `%z` or `Z` when `zoned`
    /// (a zone-less value is then UTC, as fluent-bit reads it without
    /// `Time_Offset`).
    Rfc3339 { zoned: bool },
    /// `%d/%b/%Y:%H:%M:%S %z`.
    Clf,
    /// Anything else: left to a strptime implementation.
    Pending,
}

impl TimeLayout {
    fn of(format: &str, offset: Option<&str>) -> TimeLayout {
        if format == "%d/%b/%Y:%H:%M:%S %z" {
            return TimeLayout::Clf;
        }
        let Some(rest) = format.strip_prefix("%Y-%m-%dT%H:%M:%S") else {
            return TimeLayout::Pending;
        };
        let rest = rest
            .strip_prefix(".%L")
            .or_else(|| rest.strip_prefix(".%f"))
            .unwrap_or(rest);
        match rest {
            "%z" | "Z" => TimeLayout::Rfc3339 { zoned: true },
            "" if offset.is_none() => TimeLayout::Rfc3339 { zoned: false },
            _ => TimeLayout::Pending,
        }
    }

    fn convert(self, raw: &str) -> TimeValue {
        let parsed = match self {
            TimeLayout::Pending => return TimeValue::Pending,
            TimeLayout::Clf => time::parse_clf(raw.as_bytes()),
            TimeLayout::Rfc3339 { zoned } => rfc3339_family(raw.as_bytes(), zoned),
        };
        parsed.map_or(TimeValue::Invalid, TimeValue::Parsed)
    }
}

/// A time in the RFC 3339 family as strptime's `%z` reads it: RFC 3339
/// itself, a zone written `+HHMM` or `+HH`, or (when the format has no
/// zone) none at all, meaning UTC. No allocation: a rewritten value sits in
/// a small stack buffer.
fn rfc3339_family(raw: &[u8], zoned: bool) -> Option<Timestamp> {
    if let Some(ts) = time::parse_rfc3339(raw) {
        return Some(ts);
    }
    let zone_less = raw
        .iter()
        .skip(19)
        .all(|b| b.is_ascii_digit() || *b == b'.');
    let (head, tail, tail_len): (&[u8], [u8; 6], usize) = if !zoned && zone_less {
        (raw, *b"Z\0\0\0\0\0", 1)
    } else if let Some((head, [s @ (b'+' | b'-'), h0, h1, m0, m1])) = raw.split_last_chunk::<5>() {
        (head, [*s, *h0, *h1, b':', *m0, *m1], 6)
    } else if let Some((head, [s @ (b'+' | b'-'), h0, h1])) = raw.split_last_chunk::<3>() {
        (head, [*s, *h0, *h1, b':', b'0', b'0'], 6)
    } else {
        return None;
    };
    let mut buf = [0u8; 48];
    let n = head.len();
    buf.get_mut(..n)?.copy_from_slice(head);
    buf.get_mut(n..n + tail_len)?
        .copy_from_slice(tail.get(..tail_len)?);
    time::parse_rfc3339(buf.get(..n + tail_len)?)
}

/// One capture group's output.
#[derive(Clone, Debug)]
struct Field {
    /// The field name (the group's name).
    name: String,
    kind: FieldType,
    /// The group `Time_Key` names (when `Time_Format` is set).
    is_time: bool,
    /// An earlier group has the same name (Onigmo allows it).
    repeated: bool,
}

/// A parser ready to apply: one compiled pattern and what to do with its
/// groups.
pub struct UserParser {
    name: String,
    regex: Regex,
    fields: Vec<Field>,
    time_layout: Option<TimeLayout>,
    time_keep: bool,
    skip_empty: bool,
    /// Every alternative starts with `^` (see [`UserParser::parse`]).
    anchored: bool,
    /// The capture positions, reused from one line to the next (taken
    /// while a line is parsed, so a call cut short leaves it empty, never
    /// inconsistent).
    locations: Cell<Option<CaptureLocations>>,
}

/// One field's value, borrowing from the line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UserValue<'l> {
    /// Text as the line has it (unescaped: escape it to write JSON).
    Text(&'l str),
    /// `integer`.
    Int(i64),
    /// `hex`.
    Unsigned(u64),
    /// `float` (always finite).
    Float(f64),
    /// `bool`.
    Bool(bool),
}

/// A time group's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeValue {
    /// Converted.
    Parsed(Timestamp),
    /// `Time_Format` is a layout rosetta reads, and the value does not fit
    /// it.
    Invalid,
    /// `Time_Format` is a layout rosetta does not read yet: the raw text
    /// is all there is.
    Pending,
}

/// The time group of a parsed line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UserTime<'l> {
    /// The group's text.
    pub raw: &'l str,
    /// Its conversion.
    pub value: TimeValue,
}

/// A value `Types` asked to convert that does not convert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unconverted<'p> {
    /// The field.
    pub field: &'p str,
    /// The type it should have had.
    pub want: FieldType,
}

impl fmt::Display for Unconverted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "field '{}' is not a valid {}; kept as text",
            self.field,
            self.want.as_str()
        )
    }
}

/// What a successful parse reports besides its fields.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Parsed<'p, 'l> {
    /// The `Time_Key` group, when `Time_Format` is set and it matched.
    pub time: Option<UserTime<'l>>,
    /// The first value that did not convert to its `Types` type.
    pub unconverted: Option<Unconverted<'p>>,
}

/// The line does not match the parser's pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoMatch<'p> {
    /// The parser's name.
    pub parser: &'p str,
}

impl fmt::Display for NoMatch<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not {}: its regex does not match", self.parser)
    }
}

impl fmt::Debug for UserParser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserParser")
            .field("name", &self.name)
            .field("pattern", &self.regex.as_str())
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

impl UserParser {
    /// Compiles `spec` (of `Format regex`) within `limits`.
    pub fn compile(spec: &ParserSpec, limits: Limits) -> Result<UserParser, UserParserError> {
        let fail = |line: usize, problem: Problem| UserParserError {
            parser: spec.name.clone(),
            file: spec.file.clone(),
            line,
            problem,
        };
        if spec.format != Format::Regex {
            return Err(fail(spec.line, Problem::NotRegex(spec.format)));
        }
        let Some(written) = spec.regex.as_deref() else {
            return Err(fail(spec.line, Problem::MissingRegex));
        };
        let at_regex = |problem| fail(spec.regex_line, problem);
        let (body, offset, options) = unwrap_slashes(written);
        let translation = translate(body, options).map_err(|r| {
            at_regex(Problem::Refused {
                construct: r.construct,
                at: r.at + offset,
            })
        })?;
        let types = parse_types(spec.types.as_deref().unwrap_or(""), &translation.names)
            .map_err(|entry| fail(spec.line, Problem::BadType(entry)))?;
        let time_key = spec
            .time_format
            .as_ref()
            .map(|_| spec.time_key.clone().unwrap_or_else(|| "time".to_string()));
        if let Some(key) = &time_key
            && !translation.names.contains(key)
        {
            return Err(fail(spec.line, Problem::NoTimeGroup(key.clone())));
        }
        let depth = translation.depth.max(translation.group_depth);
        if depth > MAX_NESTING {
            return Err(at_regex(Problem::TooDeep { depth }));
        }
        let need = compile_stack_bytes(translation.group_depth);
        if need > limits.stack_bytes {
            return Err(at_regex(Problem::StackTooSmall {
                depth: translation.group_depth,
                need,
                have: limits.stack_bytes,
            }));
        }
        let regex = RegexBuilder::new(&translation.pattern)
            .multi_line(true)
            .nest_limit(NEST_LIMIT)
            .size_limit(SIZE_LIMIT)
            .dfa_size_limit(DFA_SIZE_LIMIT)
            .build()
            .map_err(|e| at_regex(regex_problem(&e)))?;
        if regex.captures_len() != translation.names.len() + 1 {
            return Err(at_regex(Problem::Syntax(
                "capture groups do not line up with their names".into(),
            )));
        }
        let fields = translation
            .names
            .iter()
            .enumerate()
            .map(|(n, name)| Field {
                name: name.clone(),
                kind: types
                    .iter()
                    .find(|(k, _)| k == name)
                    .map_or(FieldType::String, |(_, t)| *t),
                is_time: time_key.as_ref() == Some(name),
                repeated: translation.names.iter().take(n).any(|m| m == name),
            })
            .collect();
        Ok(UserParser {
            name: spec.name.clone(),
            locations: Cell::new(Some(regex.capture_locations())),
            regex,
            fields,
            time_layout: spec
                .time_format
                .as_deref()
                .map(|f| TimeLayout::of(f, spec.time_offset.as_deref())),
            time_keep: spec.time_keep,
            skip_empty: spec.skip_empty_values,
            anchored: translation.anchored,
        })
    }

    /// The parser's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The pattern as given to the regex crate.
    pub fn pattern(&self) -> &str {
        self.regex.as_str()
    }

    /// The field names, one per named group, in pattern order (a name
    /// Onigmo allowed twice appears twice).
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|f| f.name.as_str())
    }

    /// Matches `line` (the unescaped log text) and appends its fields to
    /// `out`, in pattern order; nothing is appended when it does not match.
    /// Work is linear in the line's length; no allocation once `out` and
    /// the regex's cache have grown.
    ///
    /// Onigmo's `^` never holds at the end of a non-empty line, even after
    /// a final newline: for a pattern that starts with `^` in every
    /// alternative, a match starting there is no match.
    pub fn parse<'p, 'l>(
        &'p self,
        line: &'l str,
        out: &mut Vec<(&'p str, UserValue<'l>)>,
    ) -> Result<Parsed<'p, 'l>, NoMatch<'p>> {
        let mut locations = self
            .locations
            .take()
            .unwrap_or_else(|| self.regex.capture_locations());
        let found = self.search(line, &mut locations);
        let result = if found {
            Ok(self.emit(line, &locations, out))
        } else {
            Err(NoMatch { parser: &self.name })
        };
        self.locations.set(Some(locations));
        result
    }

    /// Finds the leftmost match as Onigmo would and fills `locations`.
    ///
    /// Onigmo's `^` never holds at the end of a non-empty line, even after
    /// a final newline; the regex crate's does. A pattern that starts with
    /// `^` in every alternative can only have used it there when its match
    /// starts at the end, and that is no match for Onigmo. (A `^` elsewhere
    /// in a pattern keeps the regex crate's reading.)
    fn search(&self, line: &str, locations: &mut CaptureLocations) -> bool {
        self.regex
            .captures_read(locations, line)
            .is_some_and(|m| !(self.anchored && m.start() == line.len() && line.ends_with('\n')))
    }

    fn emit<'p, 'l>(
        &'p self,
        line: &'l str,
        locations: &CaptureLocations,
        out: &mut Vec<(&'p str, UserValue<'l>)>,
    ) -> Parsed<'p, 'l> {
        let start = out.len();
        let mut parsed = Parsed::default();
        for (n, field) in self.fields.iter().enumerate() {
            let text = locations
                .get(n + 1)
                .and_then(|(a, b)| line.get(a..b))
                .unwrap_or("");
            if text.is_empty() && self.skip_empty {
                continue;
            }
            let name = field.name.as_str();
            if field.repeated
                && (out
                    .get(start..)
                    .unwrap_or_default()
                    .iter()
                    .any(|(k, _)| *k == name)
                    || (field.is_time && parsed.time.is_some()))
            {
                continue;
            }
            if field.is_time {
                let value = self
                    .time_layout
                    .map_or(TimeValue::Pending, |layout| layout.convert(text));
                parsed.time = Some(UserTime { raw: text, value });
                if self.time_keep || value == TimeValue::Invalid {
                    out.push((name, UserValue::Text(text)));
                }
                continue;
            }
            let value = convert(text, field.kind);
            if value.is_none() && parsed.unconverted.is_none() {
                parsed.unconverted = Some(Unconverted {
                    field: name,
                    want: field.kind,
                });
            }
            out.push((name, value.unwrap_or(UserValue::Text(text))));
        }
        parsed
    }
}

/// `text` as `kind`, or `None` when it does not convert.
fn convert(text: &str, kind: FieldType) -> Option<UserValue<'_>> {
    match kind {
        FieldType::String => Some(UserValue::Text(text)),
        FieldType::Integer => text.parse().ok().map(UserValue::Int),
        FieldType::Float => text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(UserValue::Float),
        FieldType::Bool => {
            if text.eq_ignore_ascii_case("true") {
                Some(UserValue::Bool(true))
            } else if text.eq_ignore_ascii_case("false") {
                Some(UserValue::Bool(false))
            } else {
                None
            }
        }
        FieldType::Hex => {
            let digits = text
                .strip_prefix("0x")
                .or_else(|| text.strip_prefix("0X"))
                .unwrap_or(text);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            u64::from_str_radix(digits, 16)
                .ok()
                .map(UserValue::Unsigned)
        }
    }
}

/// `Types` read against the group names: `key:type` entries separated by
/// whitespace, or the first bad entry.
fn parse_types(raw: &str, names: &[String]) -> Result<Vec<(String, FieldType)>, String> {
    let mut types: Vec<(String, FieldType)> = Vec::new();
    for entry in raw.split_whitespace() {
        let parsed = entry.split_once(':').and_then(|(key, kind)| {
            let known = names.iter().any(|n| n == key);
            let fresh = !types.iter().any(|(k, _)| k == key);
            FieldType::from_name(kind)
                .filter(|_| known && fresh)
                .map(|t| (key.to_string(), t))
        });
        types.push(parsed.ok_or_else(|| entry.to_string())?);
    }
    Ok(types)
}

/// The regex crate's error as a [`Problem`]: the size limit, or the last
/// line of its syntax message (the line that says what is wrong).
fn regex_problem(e: &regex::Error) -> Problem {
    match e {
        regex::Error::CompiledTooBig(_) => Problem::TooBig,
        other => {
            let text = other.to_string();
            let what = text
                .lines()
                .rev()
                .find_map(|l| l.trim().strip_prefix("error: "))
                .unwrap_or(text.trim());
            Problem::Syntax(what.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Limits roomy enough for any test pattern.
    const ROOMY: Limits = Limits {
        stack_bytes: 1 << 20,
    };

    /// A regex parser named `t`, written at `parsers.conf:10`, its Regex
    /// on line 12.
    fn spec(regex: &str) -> ParserSpec {
        let mut spec = ParserSpec::new("t", Format::Regex, "parsers.conf", 10);
        spec.regex = Some(regex.to_string());
        spec.regex_line = 12;
        spec
    }

    fn compiled(spec: &ParserSpec) -> UserParser {
        match UserParser::compile(spec, ROOMY) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    /// A parse as text: one `name:value` per field (text in quotes, floats
    /// after `~`, hex values after `u`), then the time (`time <raw> <value>`)
    /// and the first unconverted value; a mismatch as its message.
    fn render(parser: &UserParser, line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let parsed = match parser.parse(line, &mut out) {
            Ok(parsed) => parsed,
            Err(e) => {
                assert!(out.is_empty());
                return vec![e.to_string()];
            }
        };
        let mut text: Vec<String> = out
            .iter()
            .map(|(k, v)| match v {
                UserValue::Text(t) => format!("{k}:{t:?}"),
                UserValue::Int(i) => format!("{k}:{i}"),
                UserValue::Unsigned(u) => format!("{k}:u{u}"),
                UserValue::Float(f) => format!("{k}:~{f}"),
                UserValue::Bool(b) => format!("{k}:{b}"),
            })
            .collect();
        if let Some(t) = parsed.time {
            let value = match t.value {
                TimeValue::Parsed(ts) => {
                    let mut s = Vec::new();
                    ts.write_rfc3339(&mut s);
                    String::from_utf8_lossy(&s).into_owned()
                }
                TimeValue::Invalid => "invalid".into(),
                TimeValue::Pending => "pending".into(),
            };
            text.push(format!("time {:?} {value}", t.raw));
        }
        if let Some(u) = parsed.unconverted {
            text.push(u.to_string());
        }
        text
    }

    #[test]
    fn translation_named_cases() {
        // (name, Onigmo pattern, the regex crate's pattern, names)
        let cases: &[(&str, &str, &str, &[&str])] = &[
            (
                "named groups capture, plain ones do not",
                r"(?<host>[^ ]*) (x)",
                r"([^ ]*) (?:x)",
                &["host"],
            ),
            (
                "quoted and P names",
                r"(?'n'a)(?P<m>b)",
                r"(a)(b)",
                &["n", "m"],
            ),
            (
                "perl classes are ASCII",
                r"\d\w\s\h",
                r"[0-9][0-9A-Za-z_][\t\n\x0B\x0C\r ][0-9A-Fa-f]",
                &[],
            ),
            (
                "negated perl classes",
                r"\D\W\S\H",
                r"[^0-9][^0-9A-Za-z_][^\t\n\x0B\x0C\r ][^0-9A-Fa-f]",
                &[],
            ),
            (
                "perl classes in a class",
                r"[\d\h_][\D]",
                r"[0-90-9A-Fa-f_][[^0-9]]",
                &[],
            ),
            (
                "u option keeps Unicode classes",
                r"(?u)\w\s",
                r"(?:\w\s)",
                &[],
            ),
            ("a option makes \\b ASCII", r"(?a)\b", r"(?:(?-u:\b))", &[]),
            (
                "escaped punctuation is literal",
                r#"\<\/\"\:\-\#"#,
                r#"</":\-\#"#,
                &[],
            ),
            ("lone ] and } are literal", r"a]b}c", r"a\]b\}c", &[]),
            (
                "intervals",
                r"x{,3}y{2}z{2,}w{2,5}?",
                r"x{0,3}y{2}z{2,}w{2,5}?",
                &[],
            ),
            (
                "a brace that is no interval",
                r"v{foo}{",
                r"v\{foo\}\{",
                &[],
            ),
            (
                "character escapes",
                r"\e\cA\C-b\0\012\x41\x7",
                r"\x{1B}\x{1}\x{2}\x{0}\x{A}A\x{7}",
                &[],
            ),
            (
                "code point escapes",
                r"\x{263A}\u00e9",
                "\u{263A}\u{e9}",
                &[],
            ),
            ("anchors", r"^\A\b\B\z$", r"^\A\b\B\z$", &[]),
            ("\\Z at the end", r"abc\Z", r"abc(?:\n?\z)", &[]),
            ("\\Z before an alternative", r"a\Z|b", r"a(?:\n?\z)|b", &[]),
            (
                "m is dot-all, to the end of the group",
                r"(?m)a.b|c",
                r"(?s:a.b|c)",
                &[],
            ),
            ("m on a group", r"x(?m:a.)y", r"x(?s:a.)y", &[]),
            ("m off inside m", r"(?m:a(?-m).)", r"(?s:a(?-s:.))", &[]),
            (
                "x drops blanks and comments",
                "(?x) a b # note (?=\n c",
                r"(?:abc)",
                &[],
            ),
            ("x keeps blanks in classes", "(?x)[a b]", r"(?:[a b])", &[]),
            ("i folds letters", r"(?i)ab", r"(?:[aA][bB])", &[]),
            (
                "i folds ranges and negations",
                r"(?i)[a-c][^x]",
                r"(?:[a-cA-C][^xX])",
                &[],
            ),
            (
                "i folds the letters of a wide range",
                r"(?i)[!-~]",
                r"(?:[!-\~A-Za-z])",
                &[],
            ),
            ("i folds escaped letters", r"(?i)\x41", r"(?:[aA])", &[]),
            (
                "i makes lower and upper alpha",
                r"(?i)[[:lower:]]",
                r"(?:[[:alpha:]])",
                &[],
            ),
            ("i off", r"(?i:a(?-i)b)", r"(?:[aA](?:b))", &[]),
            (
                "POSIX classes",
                r"[[:alpha:]][[:^digit:]]",
                r"[[:alpha:]][[:^digit:]]",
                &[],
            ),
            (
                "class set operations",
                r"[a-z&&[^aeiou]]",
                r"[a-z&&[^aeiou]]",
                &[],
            ),
            (
                "tilde and dash are literal",
                r"[a~~b][-a][a-]",
                r"[a\~\~b][\-a][a\-]",
                &[],
            ),
            ("a dash after a set is literal", r"[\d-z]", r"[0-9\-z]", &[]),
            ("leading ] is literal", r"[]a][^]a]", r"[\]a][^\]a]", &[]),
            ("backspace in a class", r"[\b]", r"[\x{8}]", &[]),
            ("octal in a class", r"[\1\101]", r"[\x{1}A]", &[]),
            ("octal takes three digits", r"\0377", r"\x{1F}7", &[]),
            ("comment group", r"a(?#note)b", r"ab", &[]),
            (
                "look-ahead text in a class is a class",
                r"[(?=]",
                r"[(?=]",
                &[],
            ),
            ("escaped look-ahead", r"\(?=x\)", r"\(?=x\)", &[]),
            ("stacked quantifiers", r"a**b", r"a**b", &[]),
            ("non-ASCII literals", "é[ü-ÿ]", "é[ü-ÿ]", &[]),
        ];
        for (name, onigmo, want, names) in cases {
            match translate(onigmo, Options::default()) {
                Ok(t) => {
                    assert_eq!(t.pattern, *want, "{name}");
                    assert_eq!(t.names, *names, "{name}");
                    assert!(Regex::new(&t.pattern).is_ok(), "{name}: {}", t.pattern);
                }
                Err(r) => panic!("{name}: refused {} at {}", r.construct, r.at),
            }
        }
    }

    #[test]
    fn refusal_named_cases() {
        // (name, Onigmo pattern, construct, byte offset)
        let cases: &[(&str, &str, Construct, usize)] = &[
            (
                "numbered back-reference",
                r"(?<a>x)\1",
                Construct::BackReference,
                7,
            ),
            (
                "named back-reference",
                r"(?<a>x)\k<a>",
                Construct::BackReference,
                7,
            ),
            (
                "quoted back-reference",
                r"(?<a>x)\k'a'",
                Construct::BackReference,
                7,
            ),
            (
                "Python back-reference",
                r"(?P<a>x)(?P=a)",
                Construct::BackReference,
                8,
            ),
            ("look-ahead", r"a(?=b)", Construct::LookAhead, 1),
            ("negative look-ahead", r"a(?!b)", Construct::LookAhead, 1),
            ("look-behind", r"(?<=a)b", Construct::LookBehind, 0),
            ("negative look-behind", r"(?<!a)b", Construct::LookBehind, 0),
            ("atomic group", r"x(?>a+)b", Construct::AtomicGroup, 1),
            (
                "possessive star",
                r"a*+",
                Construct::PossessiveQuantifier,
                1,
            ),
            (
                "possessive plus",
                r"ba++",
                Construct::PossessiveQuantifier,
                2,
            ),
            (
                "possessive question",
                r"a?+",
                Construct::PossessiveQuantifier,
                1,
            ),
            (
                "interval then plus",
                r"a{1,2}+",
                Construct::RepeatedInterval,
                1,
            ),
            (
                "fixed interval then question",
                r"a{3}?",
                Construct::OptionalInterval,
                1,
            ),
            (
                "conditional",
                r"(?<a>x)?(?(<a>)y|z)",
                Construct::Conditional,
                8,
            ),
            ("absent operator", r"(?~abc)", Construct::AbsentOperator, 0),
            (
                "subexpression call",
                r"(?<a>x)\g<a>",
                Construct::SubexpressionCall,
                7,
            ),
            (
                "Python subexpression call",
                r"(?P<a>x)(?P>a)",
                Construct::SubexpressionCall,
                8,
            ),
            ("keep", r"foo\Kbar", Construct::Keep, 3),
            ("linebreak", r"a\Rb", Construct::OnigmoEscape('R'), 1),
            ("grapheme cluster", r"\X", Construct::OnigmoEscape('X'), 0),
            ("search start", r"\Ga", Construct::OnigmoEscape('G'), 0),
            (
                "text segment boundary",
                r"a\y",
                Construct::OnigmoEscape('y'),
                1,
            ),
            (
                "not a text segment boundary",
                r"a\Y",
                Construct::OnigmoEscape('Y'),
                1,
            ),
            ("true anychar", r"\O", Construct::OnigmoEscape('O'), 0),
            ("meta escape", r"\M-a", Construct::OnigmoEscape('M'), 0),
            (
                "Unicode property",
                r"\p{Alpha}",
                Construct::UnicodeProperty,
                0,
            ),
            (
                "negated Unicode property",
                r"[\P{L}]",
                Construct::UnicodeProperty,
                1,
            ),
            ("byte escape", r"\xff", Construct::ByteEscape, 0),
            ("octal byte in a class", r"[\377]", Construct::ByteEscape, 1),
            (
                "\\Z in a capture group",
                r"(?<a>x\Z)",
                Construct::EndBeforeNewline,
                6,
            ),
            (
                "\\Z before more pattern",
                r"a\Zb",
                Construct::EndBeforeNewline,
                1,
            ),
            ("unknown escape", r"a\q", Construct::UnknownEscape('q'), 1),
            (
                "unknown escape in a class",
                r"[\R]",
                Construct::UnknownEscape('R'),
                1,
            ),
            ("unknown group", r"(?Q)", Construct::UnknownGroup, 0),
            (
                "unknown option after minus",
                r"(?-u)",
                Construct::UnknownGroup,
                0,
            ),
            (
                "name starting with a digit",
                r"(?<1a>x)",
                Construct::InvalidGroupName("1a".into()),
                0,
            ),
            (
                "empty name",
                r"(?<>x)",
                Construct::InvalidGroupName(String::new()),
                0,
            ),
            (
                "name with a dash",
                r"(?<a-b>x)",
                Construct::InvalidGroupName("a-b".into()),
                0,
            ),
            (
                "unknown POSIX class",
                r"[[:foo:]]",
                Construct::UnknownPosixClass("foo".into()),
                1,
            ),
            ("stray close", r"a)", Construct::UnmatchedParenthesis, 1),
            ("unclosed group", r"x(a(b)", Construct::UnclosedGroup, 1),
            ("unclosed class", r"x[ab", Construct::UnclosedClass, 1),
            (
                "look-ahead after a class",
                r"[(?=](?=x)",
                Construct::LookAhead,
                5,
            ),
        ];
        for (name, onigmo, construct, at) in cases {
            assert_eq!(
                translate(onigmo, Options::default()),
                Err(Refusal {
                    construct: construct.clone(),
                    at: *at
                }),
                "{name}"
            );
        }
    }

    #[test]
    fn slashes_are_unwrapped_as_fluent_bit_does() {
        let none = Options::default();
        let m = Options {
            dotall: true,
            ..none
        };
        let xi = Options {
            extended: true,
            fold: true,
            ..none
        };
        let cases: &[(&str, &str, usize, Options)] = &[
            ("^a$", "^a$", 0, none),
            ("/^a$/", "^a$", 1, none),
            ("/a/m", "a", 1, m),
            ("/a/xi", "a", 1, xi),
            ("/a/o", "/a/o", 0, none),
            ("/a/q", "/a/q", 0, none),
            ("/a/b/", "a/b", 1, none),
            ("/", "/", 0, none),
            ("//", "", 1, none),
            ("a/", "a/", 0, none),
        ];
        for (written, body, offset, options) in cases {
            assert_eq!(
                unwrap_slashes(written),
                (*body, *offset, *options),
                "{written}"
            );
        }
    }

    #[test]
    fn depths() {
        let cases: &[(&str, usize, usize)] = &[
            ("a", 0, 0),
            ("[[[a]]]", 3, 0),
            ("(?<a>[^ ]*)", 2, 1),
            ("(?:(?<a>x)|y)+", 2, 2),
            ("a**", 0, 1),
            ("^a|^b", 0, 0),
            ("(?<a>b+*?)", 1, 2),
            ("(?m)a", 1, 1),
        ];
        for (pattern, depth, group_depth) in cases {
            let t = translate(pattern, Options::default()).map_err(|r| r.construct);
            assert_eq!(
                t.map(|t| (t.depth, t.group_depth)),
                Ok((*depth, *group_depth)),
                "{pattern}"
            );
        }
    }

    #[test]
    fn compile_errors_named_cases() {
        let with = |f: &dyn Fn(&mut ParserSpec)| {
            let mut s = spec("^(?<a>[^ ]+) (?<b>.*)$");
            f(&mut s);
            s
        };
        let cases: Vec<(&str, ParserSpec, Limits, &str)> = vec![
            (
                "not regex",
                with(&|s| s.format = Format::Json),
                ROOMY,
                "parsers.conf:10: parser 't' is of format json, not regex",
            ),
            (
                "no regex",
                with(&|s| s.regex = None),
                ROOMY,
                "parsers.conf:10: parser 't' has format regex but no Regex",
            ),
            (
                "refused construct",
                spec(r"^(?<a>\S+)(?=x)"),
                ROOMY,
                "parsers.conf:12: parser 't' a look-ahead ((?=...), (?!...)) at byte 10 of its Regex cannot run in linear time; rewrite the pattern without it",
            ),
            (
                "offset counts the slash",
                spec(r"/a\1/"),
                ROOMY,
                "parsers.conf:12: parser 't' a back-reference (\\1, \\k<name>) at byte 2 of its Regex cannot run in linear time; rewrite the pattern without it",
            ),
            (
                "default stack",
                spec("^(?<a>[^ ]+)$"),
                Limits::default(),
                "parsers.conf:12: parser 't' needs about 13312 bytes of stack to compile its Regex (groups nested 1 deep), more than the 8192 of wasm_stack_size: raise the [FILTER] option wasm_stack_size to at least 13312",
            ),
            (
                "too deep",
                spec(&format!("{}x{}", "(?:".repeat(33), ")".repeat(33))),
                ROOMY,
                "parsers.conf:12: parser 't' its Regex nests 33 levels deep, more than the 32 allowed",
            ),
            (
                "too big",
                spec("(?:[^ ]{100}){100}"),
                ROOMY,
                "parsers.conf:12: parser 't' its Regex compiles to more than 262144 bytes; use fewer or smaller repetitions",
            ),
            (
                "regex crate syntax",
                spec("a{3,2}"),
                ROOMY,
                "parsers.conf:12: parser 't' its Regex is invalid: invalid repetition count range, the start must be <= the end",
            ),
            (
                "unknown type",
                with(&|s| s.types = Some("a:integer b:number".into())),
                ROOMY,
                "parsers.conf:10: parser 't' Types entry 'b:number' must be key:type with a capture group's name and one of integer, float, bool, hex, string, each key once",
            ),
            (
                "type of no group",
                with(&|s| s.types = Some("c:integer".into())),
                ROOMY,
                "parsers.conf:10: parser 't' Types entry 'c:integer' must be key:type with a capture group's name and one of integer, float, bool, hex, string, each key once",
            ),
            (
                "type without colon",
                with(&|s| s.types = Some("a".into())),
                ROOMY,
                "parsers.conf:10: parser 't' Types entry 'a' must be key:type with a capture group's name and one of integer, float, bool, hex, string, each key once",
            ),
            (
                "type twice",
                with(&|s| s.types = Some("a:integer a:float".into())),
                ROOMY,
                "parsers.conf:10: parser 't' Types entry 'a:float' must be key:type with a capture group's name and one of integer, float, bool, hex, string, each key once",
            ),
            (
                "time key of no group",
                with(&|s| s.time_format = Some("%s".into())),
                ROOMY,
                "parsers.conf:10: parser 't' Time_Key 'time' names no capture group of its Regex",
            ),
        ];
        for (name, spec, limits, want) in cases {
            match UserParser::compile(&spec, limits) {
                Ok(p) => panic!("{name}: compiled to {}", p.pattern()),
                Err(e) => {
                    assert_eq!(e.to_string(), want, "{name}");
                    assert_eq!(e.parser, "t", "{name}");
                }
            }
        }
    }

    #[test]
    fn stack_model() {
        assert_eq!(compile_stack_bytes(0), 9216);
        assert_eq!(compile_stack_bytes(3), 21504);
        // Under fluent-bit's default stack only patterns without groups
        // load: the message names the setting and the value.
        let ok = UserParser::compile(&spec("^[^ ]+$"), Limits { stack_bytes: 9216 });
        assert!(ok.is_ok());
        let limits = Limits { stack_bytes: 65536 };
        let deep = format!("{}x{}", "(?<g>".repeat(14), ")".repeat(14));
        assert!(matches!(
            UserParser::compile(&spec(&deep), limits),
            Err(UserParserError {
                problem: Problem::StackTooSmall {
                    depth: 14,
                    need: 66560,
                    have: 65536
                },
                ..
            })
        ));
        let fits = format!("{}x{}", "(?<g>".repeat(13), ")".repeat(13));
        assert!(UserParser::compile(&spec(&fits), limits).is_ok());
    }

    #[test]
    fn parse_named_cases() {
        let ingress = {
            let mut s = spec(concat!(
                r#"^(?<remote_addr>\S+) - (?<remote_user>\S+) \[(?<time_local>[^\]]+)\] "#,
                r#""(?<method>[A-Z]+) (?<uri>\S+) (?<protocol>[^"]+)" (?<status>\d{3}) (?<body_bytes>\d+) "#,
                r#""(?<referrer>[^"]*)" "(?<user_agent>[^"]*)" (?<request_length>\d+) (?<request_time>[\d.]+) "#,
                r#"\[(?<upstream_name>[^\]]*)\] \[(?<alternative_upstream>[^\]]*)\] (?<upstream_addr>\S+) "#,
                r#"(?<upstream_length>\S+) (?<upstream_time>\S+) (?<upstream_status>\S+) (?<request_id>\S+)$"#,
            ));
            s.time_key = Some("time_local".into());
            s.time_format = Some("%d/%b/%Y:%H:%M:%S %z".into());
            s.types = Some(
                "status:integer body_bytes:integer request_length:integer request_time:float"
                    .into(),
            );
            s
        };
        let typed = |types: &str| {
            let mut s = spec(r"^(?<n>\S*) (?<v>\S*)$");
            s.types = Some(types.into());
            s
        };
        let timed = |format: &str, keep: bool| {
            let mut s = spec(r"^(?<t>[^|]*)\|(?<msg>.*)$");
            s.time_key = Some("t".into());
            s.time_format = Some(format.into());
            s.time_keep = keep;
            s
        };
        let iso = "%Y-%m-%dT%H:%M:%S.%L%z";
        let keep_empty = {
            let mut s = spec(r"^(?<a>x*)-(?:(?<b>y))?$");
            s.skip_empty_values = false;
            s
        };
        let cases: Vec<(&str, ParserSpec, &str, Vec<&str>)> = vec![
            (
                "ingress-nginx line",
                ingress,
                r#"192.168.7.20 - alice [02/Mar/2024:10:15:42 +0100] "POST /api/orders?id=7 HTTP/2.0" 201 512 "https://shop.example/cart" "Mozilla/5.0 (X11; Linux x86_64)" 734 0.012 [shop-orders-8080] [] 10.1.4.22:8080 498 0.011 201 4f6c2a9e0b1d4c3a"#,
                vec![
                    r#"remote_addr:"192.168.7.20""#,
                    r#"remote_user:"alice""#,
                    r#"method:"POST""#,
                    r#"uri:"/api/orders?id=7""#,
                    r#"protocol:"HTTP/2.0""#,
                    "status:201",
                    "body_bytes:512",
                    r#"referrer:"https://shop.example/cart""#,
                    r#"user_agent:"Mozilla/5.0 (X11; Linux x86_64)""#,
                    "request_length:734",
                    "request_time:~0.012",
                    r#"upstream_name:"shop-orders-8080""#,
                    r#"upstream_addr:"10.1.4.22:8080""#,
                    r#"upstream_length:"498""#,
                    r#"upstream_time:"0.011""#,
                    r#"upstream_status:"201""#,
                    r#"request_id:"4f6c2a9e0b1d4c3a""#,
                    r#"time "02/Mar/2024:10:15:42 +0100" 2024-03-02T09:15:42Z"#,
                ],
            ),
            (
                "no match",
                spec(r"^(?<a>\d+)$"),
                "12a",
                vec!["not t: its regex does not match"],
            ),
            (
                "search, not anchored",
                spec(r"(?<a>\d+)"),
                "ab 42 7",
                vec![r#"a:"42""#],
            ),
            (
                "^ and $ match at line ends as in Ruby",
                spec(r"^(?<a>\w+)$"),
                "abc\n",
                vec![r#"a:"abc""#],
            ),
            (
                "\\Z before the final newline",
                spec(r"(?<a>[a-z]+)\Z"),
                "x abc\n",
                vec![r#"a:"abc""#],
            ),
            (
                "^ never holds at the end after a final newline",
                spec(r"^(?<a>[^ ]*)$"),
                "a b\n",
                vec!["not t: its regex does not match"],
            ),
            (
                "^ at the start of an empty line",
                spec(r"^(?<a>[^ ]*)$"),
                "",
                vec![],
            ),
            (
                "dot stops at a newline",
                spec(r"^(?<a>.*)"),
                "ab\ncd",
                vec![r#"a:"ab""#],
            ),
            (
                "m option: dot takes the newline",
                spec(r"/^(?<a>.*)/m"),
                "ab\ncd",
                vec![r#"a:"ab\ncd""#],
            ),
            (
                "i option folds",
                spec(r"(?i)^(?<m>get|post) "),
                "Post /",
                vec![r#"m:"Post""#],
            ),
            (
                "empty and unmatched groups are skipped",
                spec(r"^(?<a>x*)-(?:(?<b>y))?$"),
                "-",
                vec![],
            ),
            (
                "empty and unmatched groups kept when asked",
                keep_empty,
                "-",
                vec![r#"a:"""#, r#"b:"""#],
            ),
            (
                "a name used twice: the group that matched",
                spec(r"^(?:(?<v>\d+)|(?<v>[a-z]+))$"),
                "abc",
                vec![r#"v:"abc""#],
            ),
            (
                "a name used twice: the first that matched",
                spec(r"^(?<v>\d*)(?<v>[a-z]*)$"),
                "12ab",
                vec![r#"v:"12""#],
            ),
            (
                "types convert",
                typed("n:integer v:float"),
                "-17 2.5e3",
                vec!["n:-17", "v:~2500"],
            ),
            (
                "bool and hex",
                typed("n:bool v:hex"),
                "TRUE 0xFF",
                vec!["n:true", "v:u255"],
            ),
            (
                "hex without prefix",
                typed("n:hex v:string"),
                "ffffffffffffffff x",
                vec!["n:u18446744073709551615", r#"v:"x""#],
            ),
            (
                "integer that does not convert stays text",
                typed("n:integer v:integer"),
                "12abc 99999999999999999999",
                vec![
                    r#"n:"12abc""#,
                    r#"v:"99999999999999999999""#,
                    "field 'n' is not a valid integer; kept as text",
                ],
            ),
            (
                "float: infinity is no JSON number",
                typed("n:float"),
                "inf 1",
                vec![
                    r#"n:"inf""#,
                    r#"v:"1""#,
                    "field 'n' is not a valid float; kept as text",
                ],
            ),
            (
                "bool that does not convert",
                typed("v:bool"),
                "x yes",
                vec![
                    r#"n:"x""#,
                    r#"v:"yes""#,
                    "field 'v' is not a valid bool; kept as text",
                ],
            ),
            (
                "hex that does not convert",
                typed("n:hex"),
                "0x 1",
                vec![
                    r#"n:"0x""#,
                    r#"v:"1""#,
                    "field 'n' is not a valid hex; kept as text",
                ],
            ),
            (
                "time taken out",
                timed(iso, false),
                "2024-03-02T10:15:42.250+01:00|hello",
                vec![
                    r#"msg:"hello""#,
                    r#"time "2024-03-02T10:15:42.250+01:00" 2024-03-02T09:15:42.250Z"#,
                ],
            ),
            (
                "time kept",
                timed(iso, true),
                "2024-03-02T10:15:42.250Z|hello",
                vec![
                    r#"t:"2024-03-02T10:15:42.250Z""#,
                    r#"msg:"hello""#,
                    r#"time "2024-03-02T10:15:42.250Z" 2024-03-02T10:15:42.250Z"#,
                ],
            ),
            (
                "zone written +HHMM",
                timed(iso, false),
                "2024-03-02T10:15:42.250-0230|x",
                vec![
                    r#"msg:"x""#,
                    r#"time "2024-03-02T10:15:42.250-0230" 2024-03-02T12:45:42.250Z"#,
                ],
            ),
            (
                "zone written +HH",
                timed("%Y-%m-%dT%H:%M:%S%z", false),
                "2024-03-02T10:15:42+05|x",
                vec![
                    r#"msg:"x""#,
                    r#"time "2024-03-02T10:15:42+05" 2024-03-02T05:15:42Z"#,
                ],
            ),
            (
                "format without zone: UTC",
                timed("%Y-%m-%dT%H:%M:%S.%L", false),
                "2024-03-02T10:15:42.123456|x",
                vec![
                    r#"msg:"x""#,
                    r#"time "2024-03-02T10:15:42.123456" 2024-03-02T10:15:42.123456Z"#,
                ],
            ),
            (
                "format without zone, value with one",
                timed("%Y-%m-%dT%H:%M:%S.%L", false),
                "2024-03-02T10:15:42.5Z|x",
                vec![
                    r#"msg:"x""#,
                    r#"time "2024-03-02T10:15:42.5Z" 2024-03-02T10:15:42.5Z"#,
                ],
            ),
            (
                "zone required and missing: invalid, kept",
                timed(iso, false),
                "2024-03-02T10:15:42.250|x",
                vec![
                    r#"t:"2024-03-02T10:15:42.250""#,
                    r#"msg:"x""#,
                    r#"time "2024-03-02T10:15:42.250" invalid"#,
                ],
            ),
            (
                "access-log layout, invalid day: kept",
                timed("%d/%b/%Y:%H:%M:%S %z", false),
                "31/Apr/2024:10:15:42 +0000|x",
                vec![
                    r#"t:"31/Apr/2024:10:15:42 +0000""#,
                    r#"msg:"x""#,
                    r#"time "31/Apr/2024:10:15:42 +0000" invalid"#,
                ],
            ),
            (
                "other layouts are pending",
                timed("%b %d %H:%M:%S", false),
                "Mar  2 10:15:42|x",
                vec![r#"msg:"x""#, r#"time "Mar  2 10:15:42" pending"#],
            ),
            (
                "time key without time format is a plain field",
                {
                    let mut s = spec(r"^(?<time>\S+)");
                    s.time_key = Some("time".into());
                    s
                },
                "12:00 x",
                vec![r#"time:"12:00""#],
            ),
            (
                "empty time group is skipped",
                timed(iso, false),
                "|x",
                vec![r#"msg:"x""#],
            ),
            (
                "offset makes a zone-less layout pending",
                {
                    let mut s = timed("%Y-%m-%dT%H:%M:%S", false);
                    s.time_offset = Some("+0200".into());
                    s
                },
                "2024-03-02T10:15:42|x",
                vec![r#"msg:"x""#, r#"time "2024-03-02T10:15:42" pending"#],
            ),
        ];
        for (name, spec, line, want) in cases {
            let parser = compiled(&spec);
            assert_eq!(render(&parser, line), want, "{name}");
            // A second line through the same parser reuses its state.
            assert_eq!(render(&parser, line), want, "{name} (again)");
        }
    }

    #[test]
    fn fields_append_and_keep_the_allocation() {
        let parser = compiled(&spec(r"^(?<a>\S+) (?<b>\S+)$"));
        let mut out = Vec::with_capacity(8);
        out.push(("before", UserValue::Int(1)));
        let at = out.as_ptr();
        assert!(parser.parse("x y", &mut out).is_ok());
        assert!(parser.parse("no", &mut out).is_err());
        assert_eq!(
            out,
            vec![
                ("before", UserValue::Int(1)),
                ("a", UserValue::Text("x")),
                ("b", UserValue::Text("y"))
            ]
        );
        assert_eq!(out.as_ptr(), at);
        assert_eq!(parser.field_names().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(parser.name(), "t");
    }

    #[test]
    fn hostile_line_runs_in_linear_time() {
        // The shape that makes a backtracking engine cubic: a lazy group
        // followed by an optional one over a long run of spaces.
        let parser = compiled(&spec(
            r#"^(?<method>\S+)(?: +(?<path>[^"]*?)(?: +\S*)?)? (?<protocol>\S+)"$"#,
        ));
        for len in [1 << 10, 1 << 16] {
            let line = format!("GET {}x", " ".repeat(len));
            let mut out = Vec::new();
            let started = std::time::Instant::now();
            let result = parser.parse(&line, &mut out);
            assert!(result.is_err(), "{len}");
            eprintln!("{len} spaces: {:?}", started.elapsed());
        }
        let line = format!("GET /a{}b HTTP/1.1\"", " ".repeat(1 << 16));
        let mut out = Vec::new();
        assert!(parser.parse(&line, &mut out).is_ok());
        assert_eq!(out.first(), Some(&("method", UserValue::Text("GET"))));
    }

    // -- The translation against an Onigmo-family engine --------------------

    /// Each named group's span, in field order, or `None` for no match.
    type Spans = Option<Vec<(String, Option<(usize, usize)>)>>;

    /// A small xorshift generator.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
            items.get(self.below(items.len())).copied().unwrap_or("")
        }
    }

    /// A random pattern of constructs the translation carries over, from
    /// a grammar whose repeated parts never match the empty string (where
    /// backtracking engines and the Pike VM legitimately differ on captures)
    /// and with `^` only at the start (see [`UserParser::parse`]).
    fn pattern(rng: &mut Rng, depth: usize, names: &mut usize, top: bool) -> String {
        let atoms = [
            "a",
            "b",
            "-",
            " ",
            r"\d",
            r"\w",
            r"\s",
            r"\h",
            r"\D",
            r"\S",
            r"\H",
            ".",
            "[ab]",
            "[^a ]",
            r"[\d-]",
            "[a-c&&[^b]]",
            "[[:alpha:]]",
            "[[:^space:]]",
            r"\x61",
            r"\-",
            r"\<",
            "]",
            "}",
            "x{",
            r"[\]]",
            "(?i:ab)",
            r"(?i)[b-c]",
            "(?m:.)",
            "[[:punct:]]",
            "(?x: a - )",
        ];
        // Assertions, never quantified (Onigmo refuses that).
        let anchors = [r"\b", r"\B", r"\z", "$"];
        let quantifiers = [
            "", "", "", "*", "+", "?", "*?", "+?", "??", "{2}", "{1,3}", "{,2}", "{2,}?",
        ];
        let mut out = String::new();
        for _ in 0..1 + rng.below(3) {
            let piece = if depth > 0 && rng.below(2) == 0 {
                let inner = pattern(rng, depth - 1, names, false);
                let alt = if rng.below(3) == 0 {
                    format!("|-{}", pattern(rng, depth - 1, names, false))
                } else {
                    String::new()
                };
                *names += 1;
                match rng.below(4) {
                    0 => format!("(?:b{inner}{alt})"),
                    1 => format!("(b{inner}{alt})"),
                    _ => format!("(?<g{names}>a{inner}{alt})"),
                }
            } else if rng.below(8) == 0 {
                out.push_str(rng.pick(&anchors));
                continue;
            } else {
                rng.pick(&atoms).to_string()
            };
            out.push_str(&piece);
            out.push_str(rng.pick(&quantifiers));
        }
        if top && rng.below(3) == 0 {
            out.insert(0, '^');
        }
        if rng.below(8) == 0 {
            out.push('$');
        }
        out
    }

    #[test]
    fn agrees_with_oniguruma() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let alphabet = [
            "a", "a", "a", "b", "b", " ", "-", "1", "c", "\n", "F", "]", "}", "x{", "<", "A", "B",
            "!",
        ];
        let (mut compared, mut captured) = (0, 0);
        for round in 0..1000 {
            let mut names = 0;
            let onigmo = pattern(&mut rng, 3, &mut names, true);
            let Ok(reference) = onig::Regex::with_options(
                &onigmo,
                onig::RegexOptions::REGEX_OPTION_NONE,
                onig::Syntax::ruby(),
            ) else {
                continue;
            };
            let mut groups: Vec<(String, u32)> = Vec::new();
            reference.foreach_name(|name, numbers| {
                if let Some(n) = numbers.first() {
                    groups.push((name.to_string(), *n));
                }
                true
            });
            let parser = UserParser::compile(&spec(&onigmo), ROOMY)
                .unwrap_or_else(|e| panic!("round {round}: {onigmo}: {e}"));
            for _ in 0..40 {
                let line: String = (0..rng.below(16)).map(|_| rng.pick(&alphabet)).collect();
                let want: Spans = reference.captures(&line).map(|caps| {
                    parser
                        .field_names()
                        .map(|name| {
                            let number = groups.iter().find(|(n, _)| n == name).map(|g| g.1);
                            (name.to_string(), number.and_then(|n| caps.pos(n as usize)))
                        })
                        .collect()
                });
                let mut locations = parser.regex.capture_locations();
                let got = parser.search(&line, &mut locations).then(|| {
                    parser
                        .field_names()
                        .enumerate()
                        .map(|(n, name)| (name.to_string(), locations.get(n + 1)))
                        .collect::<Vec<_>>()
                });
                assert_eq!(
                    got,
                    want,
                    "pattern {onigmo:?} (as {:?}) on {line:?}",
                    parser.pattern()
                );
                compared += 1;
                if want.iter().flatten().any(|(_, at)| at.is_some()) {
                    captured += 1;
                }
            }
        }
        assert!(compared > 30_000 && captured > 500, "{compared} {captured}");
    }
}
