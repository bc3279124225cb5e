//! fluent-bit parsers files in the classic format (`parsers.conf`), read as
//! they are, into [`ParserSpec`]s for [`crate::user_parser`].
//!
//! The format, as fluent-bit's `src/config_format/flb_cf_fluentbit.c` reads
//! it: a line `[NAME]` opens a section; inside one, each line is `Key Value`
//! (the key is the first word, the value the rest of the line with the
//! whitespace around it trimmed, spaces inside kept: a `Regex` value runs to
//! the end of its line and may hold `#`); a line whose first non-blank
//! character is `#` is a comment (there are no comments at the end of a
//! line); keys are compared without regard to case; a key given twice keeps
//! its first value, as fluent-bit's lookup does.
//!
//! What rosetta does with each part, and why:
//!
//! - `[PARSER]` sections become [`ParserSpec`]s (fluent-bit's rules: `Name`
//!   and `Format` are required, `Regex` too when the format is `regex`,
//!   `Time_Keep` and `Skip_Empty_Values` are booleans). A parser of format
//!   `json`, `ltsv` or `logfmt` is kept with its format, for the caller to map
//!   to a built-in reader.
//! - `[MULTILINE_PARSER]` sections, other sections, `@INCLUDE` and `@SET` are
//!   not applied, and each is reported in [`ParsersFile::notes`] (the module
//!   reads one file, and rejoining lines is fluent-bit's job before the
//!   filter).
//! - Keys fluent-bit knows but rosetta does not apply (`Decode_Field`,
//!   `Time_Strict`, ...) and keys no one knows are accepted and reported, so
//!   an existing file loads as it is; a value with `${...}` is reported too
//!   (fluent-bit would substitute an environment variable, and the module
//!   has no environment).
//!
//! A malformed line (a header without `]`, a key without a value or outside
//! any section) or a parser missing a required key is an error naming the
//! file and line. Reading is one pass over the text.

use crate::user_parser::{Format, ParserSpec};
use std::fmt;

/// What rosetta does with a `[PARSER]` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Use {
    /// Read into the [`ParserSpec`].
    Applied,
    /// A fluent-bit key rosetta does not apply.
    NotApplied,
}

/// Every `[PARSER]` key fluent-bit reads (`src/flb_parser.c`,
/// `flb_parser_load_parser_definitions` and the decoders), lowercase.
const KEYS: &[(&str, Use)] = &[
    ("name", Use::Applied),
    ("format", Use::Applied),
    ("regex", Use::Applied),
    ("time_key", Use::Applied),
    ("time_format", Use::Applied),
    ("time_keep", Use::Applied),
    ("time_offset", Use::Applied),
    ("types", Use::Applied),
    ("skip_empty_values", Use::Applied),
    ("time_strict", Use::NotApplied),
    ("time_system_timezone", Use::NotApplied),
    ("time_zone", Use::NotApplied),
    ("logfmt_no_bare_keys", Use::NotApplied),
    ("decode_field", Use::NotApplied),
    ("decode_field_as", Use::NotApplied),
];

/// A parsers file as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsersFile {
    /// The `[PARSER]` sections, in file order.
    pub parsers: Vec<ParserSpec>,
    /// What was read but not applied, in file order.
    pub notes: Vec<Note>,
}

/// Something in the file rosetta read and does not apply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    /// The file.
    pub file: String,
    /// The line (1-based).
    pub line: usize,
    /// What.
    pub what: NoteKind,
}

/// The kinds of [`Note`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoteKind {
    /// A `[MULTILINE_PARSER]` section (its `Name`, if it has one).
    MultilineParser(Option<String>),
    /// A section other than `[PARSER]` and `[MULTILINE_PARSER]`.
    Section(String),
    /// `@INCLUDE`, `@SET` or another `@` directive (its first word).
    Directive(String),
    /// A fluent-bit key rosetta does not apply.
    KeyNotApplied {
        /// The parser's name.
        parser: String,
        /// The key as written.
        key: String,
    },
    /// A key fluent-bit does not know either.
    KeyUnknown {
        /// The parser's name.
        parser: String,
        /// The key as written.
        key: String,
    },
    /// A key given again: the first value is used.
    KeyRepeated {
        /// The parser's name.
        parser: String,
        /// The key as written.
        key: String,
    },
    /// A value holding `${...}`, kept as written.
    Variable {
        /// The parser's name.
        parser: String,
        /// The key as written.
        key: String,
    },
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        match &self.what {
            NoteKind::MultilineParser(Some(name)) => write!(
                f,
                "[MULTILINE_PARSER] '{name}' skipped: multiline parsers run in fluent-bit's inputs"
            ),
            NoteKind::MultilineParser(None) => f.write_str(
                "[MULTILINE_PARSER] skipped: multiline parsers run in fluent-bit's inputs",
            ),
            NoteKind::Section(name) => write!(f, "section [{name}] skipped"),
            NoteKind::Directive(word) => {
                write!(f, "{word} not applied: the module reads this file only")
            }
            NoteKind::KeyNotApplied { parser, key } => {
                write!(f, "parser '{parser}': {key} is not applied by rosetta")
            }
            NoteKind::KeyUnknown { parser, key } => {
                write!(f, "parser '{parser}': unknown key {key} ignored")
            }
            NoteKind::KeyRepeated { parser, key } => {
                write!(
                    f,
                    "parser '{parser}': {key} given again; the first value is used"
                )
            }
            NoteKind::Variable { parser, key } => write!(
                f,
                "parser '{parser}': {key} holds ${{...}}, kept as written (the module has no environment)"
            ),
        }
    }
}

/// A parsers file that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsersConfError {
    /// The file.
    pub file: String,
    /// The line (1-based).
    pub line: usize,
    /// What is wrong.
    pub problem: ConfProblem,
}

/// What is wrong with a parsers file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfProblem {
    /// A `[` line without its `]`.
    BadHeader,
    /// A key with no value after it.
    NoValue(String),
    /// A key before the first section.
    OutsideSection(String),
    /// A `[PARSER]` without `Name`.
    NoName,
    /// A parser without `Format`.
    NoFormat(String),
    /// A parser whose `Format` is none of regex, json, ltsv, logfmt.
    UnknownFormat {
        /// The parser.
        parser: String,
        /// The format as written.
        format: String,
    },
    /// A parser of format regex without `Regex`.
    NoRegex(String),
    /// A boolean key whose value is not one.
    NotABoolean {
        /// The parser.
        parser: String,
        /// The key as written.
        key: String,
        /// The value.
        value: String,
    },
}

impl fmt::Display for ParsersConfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        match &self.problem {
            ConfProblem::BadHeader => f.write_str("section header without ]"),
            ConfProblem::NoValue(key) => write!(f, "key {key} has no value"),
            ConfProblem::OutsideSection(key) => write!(f, "key {key} is outside any section"),
            ConfProblem::NoName => f.write_str("[PARSER] without Name"),
            ConfProblem::NoFormat(parser) => write!(f, "parser '{parser}' has no Format"),
            ConfProblem::UnknownFormat { parser, format } => write!(
                f,
                "parser '{parser}': Format '{format}' is none of regex, json, ltsv, logfmt"
            ),
            ConfProblem::NoRegex(parser) => {
                write!(f, "parser '{parser}' has Format regex but no Regex")
            }
            ConfProblem::NotABoolean { parser, key, value } => write!(
                f,
                "parser '{parser}': {key} must be on/off, true/false or yes/no, not '{value}'"
            ),
        }
    }
}

impl std::error::Error for ParsersConfError {}

/// A boolean as fluent-bit's `flb_utils_bool` reads it.
fn boolean(value: &str) -> Option<bool> {
    let is = |words: [&str; 3]| words.iter().any(|w| w.eq_ignore_ascii_case(value));
    if is(["on", "true", "yes"]) {
        Some(true)
    } else if is(["off", "false", "no"]) {
        Some(false)
    } else {
        None
    }
}

/// One `Key Value` line of a section.
struct Line<'t> {
    key: &'t str,
    value: &'t str,
    line: usize,
}

/// The section being read.
enum Section<'t> {
    None,
    Parser { line: usize, keys: Vec<Line<'t>> },
    Multiline { line: usize, name: Option<&'t str> },
    Other,
}

/// Reads `text`, the content of the parsers file `file`.
pub fn read(file: &str, text: &str) -> Result<ParsersFile, ParsersConfError> {
    let fail = |line: usize, problem: ConfProblem| ParsersConfError {
        file: file.to_string(),
        line,
        problem,
    };
    let mut out = ParsersFile::default();
    let mut section = Section::None;
    for (n, raw) in text.lines().enumerate() {
        let line = n + 1;
        let content = raw.trim();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content.starts_with('@') {
            let word = content.split_whitespace().next().unwrap_or(content);
            out.notes.push(Note {
                file: file.to_string(),
                line,
                what: NoteKind::Directive(word.to_string()),
            });
            continue;
        }
        if let Some(header) = content.strip_prefix('[') {
            let Some(end) = header.find(']') else {
                return Err(fail(line, ConfProblem::BadHeader));
            };
            let name = header.get(..end).unwrap_or_default().trim();
            finish(
                file,
                std::mem::replace(&mut section, Section::None),
                &mut out,
            )?;
            section = if name.eq_ignore_ascii_case("parser") {
                Section::Parser {
                    line,
                    keys: Vec::new(),
                }
            } else if name.eq_ignore_ascii_case("multiline_parser") {
                Section::Multiline { line, name: None }
            } else {
                out.notes.push(Note {
                    file: file.to_string(),
                    line,
                    what: NoteKind::Section(name.to_string()),
                });
                Section::Other
            };
            continue;
        }
        let (key, value) = match content.split_once(|c: char| c.is_ascii_whitespace()) {
            Some((key, value)) => (key, value.trim()),
            None => (content, ""),
        };
        if value.is_empty() {
            return Err(fail(line, ConfProblem::NoValue(key.to_string())));
        }
        match &mut section {
            Section::None => return Err(fail(line, ConfProblem::OutsideSection(key.to_string()))),
            Section::Parser { keys, .. } => keys.push(Line { key, value, line }),
            Section::Multiline { name, .. } => {
                if key.eq_ignore_ascii_case("name") && name.is_none() {
                    *name = Some(value);
                }
            }
            Section::Other => {}
        }
    }
    finish(file, section, &mut out)?;
    Ok(out)
}

/// Closes a section: a parser becomes a spec, a multiline parser a note.
fn finish(file: &str, section: Section<'_>, out: &mut ParsersFile) -> Result<(), ParsersConfError> {
    match section {
        Section::Parser { line, keys } => {
            let spec = parser_spec(file, line, &keys, &mut out.notes)?;
            out.parsers.push(spec);
        }
        Section::Multiline { line, name } => out.notes.push(Note {
            file: file.to_string(),
            line,
            what: NoteKind::MultilineParser(name.map(str::to_string)),
        }),
        Section::None | Section::Other => {}
    }
    Ok(())
}

/// A `[PARSER]` section's keys as a spec, with notes for what is not used.
fn parser_spec(
    file: &str,
    line: usize,
    keys: &[Line<'_>],
    notes: &mut Vec<Note>,
) -> Result<ParserSpec, ParsersConfError> {
    let fail = |line: usize, problem: ConfProblem| ParsersConfError {
        file: file.to_string(),
        line,
        problem,
    };
    let first = |name: &str| keys.iter().find(|l| l.key.eq_ignore_ascii_case(name));
    let Some(name) = first("name").map(|l| l.value) else {
        return Err(fail(line, ConfProblem::NoName));
    };
    let Some(format_line) = first("format") else {
        return Err(fail(line, ConfProblem::NoFormat(name.to_string())));
    };
    let Some(format) = Format::from_name(format_line.value) else {
        return Err(fail(
            format_line.line,
            ConfProblem::UnknownFormat {
                parser: name.to_string(),
                format: format_line.value.to_string(),
            },
        ));
    };
    let regex = first("regex");
    if format == Format::Regex && regex.is_none() {
        return Err(fail(line, ConfProblem::NoRegex(name.to_string())));
    }
    let flag = |key: &str, default: bool| -> Result<bool, ParsersConfError> {
        match first(key) {
            None => Ok(default),
            Some(l) => boolean(l.value).ok_or_else(|| {
                fail(
                    l.line,
                    ConfProblem::NotABoolean {
                        parser: name.to_string(),
                        key: l.key.to_string(),
                        value: l.value.to_string(),
                    },
                )
            }),
        }
    };
    let text = |key: &str| first(key).map(|l| l.value.to_string());
    let mut spec = ParserSpec::new(name, format, file, line);
    spec.regex = regex.map(|l| l.value.to_string());
    spec.regex_line = regex.map_or(line, |l| l.line);
    spec.time_key = text("time_key");
    spec.time_format = text("time_format");
    spec.time_keep = flag("time_keep", false)?;
    spec.time_offset = text("time_offset");
    spec.types = text("types");
    spec.skip_empty_values = flag("skip_empty_values", true)?;

    for (n, l) in keys.iter().enumerate() {
        let note = |what: NoteKind| Note {
            file: file.to_string(),
            line: l.line,
            what,
        };
        let parser = name.to_string();
        let key = l.key.to_string();
        let known = KEYS.iter().find(|(k, _)| k.eq_ignore_ascii_case(l.key));
        let repeated = keys
            .iter()
            .take(n)
            .any(|m| m.key.eq_ignore_ascii_case(l.key));
        match known {
            None => notes.push(note(NoteKind::KeyUnknown { parser, key })),
            Some((_, Use::NotApplied)) => {
                notes.push(note(NoteKind::KeyNotApplied { parser, key }));
            }
            Some((_, Use::Applied)) if repeated => {
                notes.push(note(NoteKind::KeyRepeated { parser, key }));
            }
            Some((_, Use::Applied)) => {
                if l.value.contains("${") {
                    notes.push(note(NoteKind::Variable { parser, key }));
                }
            }
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user_parser::{Limits, UserParser};

    /// A spec as one line: name, format, then each key that is set.
    fn summary(spec: &ParserSpec) -> String {
        let mut s = format!(
            "{}@{}/{} {}",
            spec.name,
            spec.line,
            spec.regex_line,
            spec.format.as_str()
        );
        let mut add = |key: &str, value: &Option<String>| {
            if let Some(v) = value {
                s.push_str(&format!(" {key}=[{v}]"));
            }
        };
        add("regex", &spec.regex);
        add("time_key", &spec.time_key);
        add("time_format", &spec.time_format);
        add("time_offset", &spec.time_offset);
        add("types", &spec.types);
        if spec.time_keep {
            s.push_str(" keep");
        }
        if !spec.skip_empty_values {
            s.push_str(" empty");
        }
        s
    }

    fn read_ok(text: &str) -> (Vec<String>, Vec<String>) {
        match read("p.conf", text) {
            Ok(file) => (
                file.parsers.iter().map(summary).collect(),
                file.notes.iter().map(Note::to_string).collect(),
            ),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn named_cases() {
        let cases: &[(&str, &str, &[&str], &[&str])] = &[
            (
                "keys any case, values trimmed, spaces inside kept",
                "[PARSER]\n    name  web\n    FORMAT regex\n    Regex   ^(?<a>[^ ]*) (?<b>.*)$  \n    TIME_KEY a\n    Time_Format %d/%b/%Y:%H:%M:%S %z\n    time_keep On\n    Types b:integer\n    Time_Offset +0200\n    Skip_Empty_Values off\n",
                &[
                    "web@1/4 regex regex=[^(?<a>[^ ]*) (?<b>.*)$] time_key=[a] time_format=[%d/%b/%Y:%H:%M:%S %z] time_offset=[+0200] types=[b:integer] keep empty",
                ],
                &[],
            ),
            (
                "tabs, comments, blank lines, CRLF",
                "# parsers\r\n\r\n[PARSER]\r\n\tName\tx\r\n\t# a comment\r\n\tFormat\tregex\r\n\tRegex\t^#(?<n>\\d+)\r\n",
                &["x@3/7 regex regex=[^#(?<n>\\d+)]"],
                &[],
            ),
            (
                "other formats are kept for the caller",
                "[PARSER]\n    Name j\n    Format JSON\n    Time_Key ts\n[PARSER]\n    Name l\n    Format logfmt\n[PARSER]\n    Name t\n    Format ltsv\n",
                &["j@1/1 json time_key=[ts]", "l@5/5 logfmt", "t@8/8 ltsv"],
                &[],
            ),
            (
                "a key given twice keeps its first value",
                "[PARSER]\n    Name s\n    Format regex\n    Regex ^a\n    Time_Format %b %d\n    Time_Format %Y\n",
                &["s@1/4 regex regex=[^a] time_format=[%b %d]"],
                &["p.conf:6: parser 's': Time_Format given again; the first value is used"],
            ),
            (
                "keys not applied and unknown keys are listed",
                "[PARSER]\n    Name d\n    Format json\n    Decode_Field_As escaped log\n    Time_Strict off\n    Colour blue\n",
                &["d@1/1 json"],
                &[
                    "p.conf:4: parser 'd': Decode_Field_As is not applied by rosetta",
                    "p.conf:5: parser 'd': Time_Strict is not applied by rosetta",
                    "p.conf:6: parser 'd': unknown key Colour ignored",
                ],
            ),
            (
                "multiline parsers, other sections and directives",
                "@SET level=info\n@INCLUDE more.conf\n[SERVICE]\n    Flush 1\n[MULTILINE_PARSER]\n    name ml\n    type regex\n    rule \"start_state\" \"/^x/\" \"cont\"\n[MULTILINE_PARSER]\n    type regex\n[PARSER]\n    Name p\n    Format regex\n    Regex x\n",
                &["p@11/14 regex regex=[x]"],
                &[
                    "p.conf:1: @SET not applied: the module reads this file only",
                    "p.conf:2: @INCLUDE not applied: the module reads this file only",
                    "p.conf:3: section [SERVICE] skipped",
                    "p.conf:5: [MULTILINE_PARSER] 'ml' skipped: multiline parsers run in fluent-bit's inputs",
                    "p.conf:9: [MULTILINE_PARSER] skipped: multiline parsers run in fluent-bit's inputs",
                ],
            ),
            (
                "environment variables are reported",
                "[PARSER]\n    Name v\n    Format regex\n    Regex ^${PREFIX}(?<a>.*)\n",
                &["v@1/4 regex regex=[^${PREFIX}(?<a>.*)]"],
                &[
                    "p.conf:4: parser 'v': Regex holds ${...}, kept as written (the module has no environment)",
                ],
            ),
            ("empty file", "", &[], &[]),
        ];
        for (name, text, parsers, notes) in cases {
            let (got_parsers, got_notes) = read_ok(text);
            assert_eq!(got_parsers, *parsers, "{name}");
            assert_eq!(got_notes, *notes, "{name}");
        }
    }

    #[test]
    fn error_named_cases() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "header without ]",
                "[PARSER\n",
                "p.conf:1: section header without ]",
            ),
            (
                "key without value",
                "[PARSER]\n    Name\n",
                "p.conf:2: key Name has no value",
            ),
            (
                "key before any section",
                "Name x\n",
                "p.conf:1: key Name is outside any section",
            ),
            (
                "no name",
                "[PARSER]\n    Format json\n",
                "p.conf:1: [PARSER] without Name",
            ),
            (
                "no name at the end of a file",
                "[PARSER]\n    Name a\n    Format json\n[PARSER]\n    Format json\n",
                "p.conf:4: [PARSER] without Name",
            ),
            (
                "no format",
                "[PARSER]\n    Name a\n",
                "p.conf:1: parser 'a' has no Format",
            ),
            (
                "unknown format",
                "[PARSER]\n    Name a\n    Format yaml\n",
                "p.conf:3: parser 'a': Format 'yaml' is none of regex, json, ltsv, logfmt",
            ),
            (
                "regex without Regex",
                "[PARSER]\n    Name a\n    Format regex\n",
                "p.conf:1: parser 'a' has Format regex but no Regex",
            ),
            (
                "not a boolean",
                "[PARSER]\n    Name a\n    Format json\n    Time_Keep sometimes\n",
                "p.conf:4: parser 'a': Time_Keep must be on/off, true/false or yes/no, not 'sometimes'",
            ),
        ];
        for (name, text, want) in cases {
            match read("p.conf", text) {
                Ok(file) => panic!("{name}: read {:?}", file.parsers),
                Err(e) => assert_eq!(e.to_string(), *want, "{name}"),
            }
        }
    }

    #[test]
    fn booleans_as_fluent_bit_reads_them() {
        for (text, want) in [
            ("On", Some(true)),
            ("yes", Some(true)),
            ("TRUE", Some(true)),
            ("off", Some(false)),
            ("No", Some(false)),
            ("false", Some(false)),
            ("1", None),
            ("", None),
        ] {
            assert_eq!(boolean(text), want, "{text}");
        }
    }

    #[test]
    fn the_projects_own_parsers_file_loads() {
        let text = include_str!("../fluent-bit-conf/parsers.conf");
        let file = match read("parsers.conf", text) {
            Ok(file) => file,
            Err(e) => panic!("{e}"),
        };
        assert!(!file.parsers.is_empty());
        for spec in file.parsers.iter().filter(|s| s.format == Format::Regex) {
            let limits = Limits {
                stack_bytes: 1 << 16,
            };
            if let Err(e) = UserParser::compile(spec, limits) {
                panic!("{e}");
            }
        }
    }

    /// The worked example of `docs/user-parsers.md` does what the page
    /// says: the parsers-file form loads, needs exactly the stack stated,
    /// and gives the fields listed.
    #[test]
    fn worked_example_in_the_docs() {
        let page = include_str!("../docs/user-parsers.md");
        let Some(start) = page.find("[PARSER]\n    Name        ingress") else {
            panic!("docs/user-parsers.md lost its worked example");
        };
        let block = page.get(start..).unwrap_or_default();
        let block = block
            .get(..block.find("```").unwrap_or(block.len()))
            .unwrap_or_default();
        let file = match read("parsers.conf", block) {
            Ok(file) => file,
            Err(e) => panic!("{e}"),
        };
        let [spec] = file.parsers.as_slice() else {
            panic!("one parser expected");
        };
        let too_small = Limits { stack_bytes: 13311 };
        assert!(UserParser::compile(spec, too_small).is_err());
        let parser = match UserParser::compile(spec, Limits { stack_bytes: 13312 }) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        };
        let line_at = page.find("\n192.168.7.20 - alice").unwrap_or_default() + 1;
        let line = page.get(line_at..).unwrap_or_default();
        let line = line
            .get(..line.find('\n').unwrap_or(line.len()))
            .unwrap_or_default();
        let mut out = Vec::new();
        let parsed = parser.parse(line, &mut out);
        assert!(parsed.is_ok(), "{line}");
        let rows: Vec<String> = out
            .iter()
            .map(|(k, v)| match v {
                crate::user_parser::UserValue::Text(t) => format!("| `{k}` | `\"{t}\"` |"),
                crate::user_parser::UserValue::Int(i) => format!("| `{k}` | `{i}` |"),
                crate::user_parser::UserValue::Float(f) => format!("| `{k}` | `{f}` |"),
                other => format!("| `{k}` | {other:?} |"),
            })
            .collect();
        let table = format!("| field | value |\n|---|---|\n{}\n", rows.join("\n"));
        assert!(
            page.contains(&table),
            "the page's field table must read:\n{table}"
        );
    }

    /// The log lines of the project's examples and access-log corpus.
    fn example_lines() -> Vec<String> {
        let root = env!("CARGO_MANIFEST_DIR");
        let mut lines = Vec::new();
        for (dir, key) in [("examples/logs", "log"), ("tests/corpus", "line")] {
            let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
                continue;
            };
            for entry in entries.flatten() {
                let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
                for record in text.lines() {
                    let value = serde_json::from_str::<serde_json::Value>(record).ok();
                    if let Some(line) = value.as_ref().and_then(|v| v.get(key)?.as_str()) {
                        lines.push(line.to_string());
                    }
                }
            }
        }
        lines
    }

    /// Checks `parser` against Oniguruma (Ruby syntax) on `lines`: the same
    /// lines match, with the same non-empty named groups (the time group,
    /// which rosetta hands over apart, counted back in). How many matched.
    fn agree_with_oniguruma(spec: &ParserSpec, parser: &UserParser, lines: &[String]) -> usize {
        use crate::user_parser::{UserValue, unwrap_slashes};
        let written = spec.regex.as_deref().unwrap_or_default();
        let (body, _, _) = unwrap_slashes(written);
        let reference = match onig::Regex::with_options(
            body,
            onig::RegexOptions::REGEX_OPTION_NONE,
            onig::Syntax::ruby(),
        ) {
            Ok(r) => r,
            Err(e) => panic!("{}: {e}", spec.name),
        };
        let mut groups: Vec<(String, usize)> = Vec::new();
        reference.foreach_name(|name, numbers| {
            for n in numbers {
                groups.push((name.to_string(), *n as usize));
            }
            true
        });
        let mut matched = 0;
        for line in lines {
            let theirs = reference.captures(line).map(|caps| {
                let mut found: Vec<(String, String)> = Vec::new();
                for (name, n) in &groups {
                    let text = caps.at(*n).unwrap_or_default();
                    if !text.is_empty() && !found.iter().any(|(k, _)| k == name) {
                        found.push((name.clone(), text.to_string()));
                    }
                }
                found.sort();
                found
            });
            let mut out = Vec::new();
            let ours = parser.parse(line, &mut out).ok().map(|parsed| {
                let mut found: Vec<(String, String)> = out
                    .iter()
                    .map(|(k, v)| match v {
                        UserValue::Text(t) => (k.to_string(), t.to_string()),
                        other => (k.to_string(), format!("{other:?}")),
                    })
                    .collect();
                if let Some(time) = parsed.time {
                    let key = spec.time_key.as_deref().unwrap_or("time");
                    if !found.iter().any(|(k, _)| k == key) {
                        found.push((key.to_string(), time.raw.to_string()));
                    }
                }
                found.sort();
                found
            });
            assert_eq!(ours, theirs, "{} on {line:?}", spec.name);
            matched += usize::from(ours.is_some());
        }
        matched
    }

    /// fluent-bit's own `conf/parsers.conf`, when `ROSETTA_STOCK_PARSERS`
    /// names a copy: every regex parser compiles, or is refused with an
    /// error naming it; those that compile read the project's example lines
    /// as Oniguruma does. Prints what happened to each.
    #[test]
    fn stock_parsers_file() {
        let Some(path) = std::env::var_os("ROSETTA_STOCK_PARSERS") else {
            eprintln!(
                "note: ROSETTA_STOCK_PARSERS is not set; skipping the stock parsers.conf check"
            );
            return;
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) => panic!("{}: {e}", path.to_string_lossy()),
        };
        let file = match read("parsers.conf", &text) {
            Ok(file) => file,
            Err(e) => panic!("{e}"),
        };
        let sections = text
            .lines()
            .filter(|l| l.trim().eq_ignore_ascii_case("[PARSER]"))
            .count();
        assert_eq!(file.parsers.len(), sections);
        for note in &file.notes {
            eprintln!("note: {note}");
        }
        let roomy = Limits {
            stack_bytes: 1 << 16,
        };
        let lines = example_lines();
        for spec in &file.parsers {
            if spec.format != Format::Regex {
                eprintln!(
                    "{}: format {}, not compiled here",
                    spec.name,
                    spec.format.as_str()
                );
                continue;
            }
            let default = match UserParser::compile(spec, Limits::default()) {
                Ok(_) => "compiles".to_string(),
                Err(e) => {
                    assert_eq!(e.parser, spec.name);
                    e.problem.to_string()
                }
            };
            match UserParser::compile(spec, roomy) {
                Ok(p) => {
                    let matched = agree_with_oniguruma(spec, &p, &lines);
                    eprintln!(
                        "{}: compiles with wasm_stack_size 64k ({} fields; reads {} example lines as Oniguruma does, {matched} of them matching); with the default: {default}",
                        spec.name,
                        p.field_names().count(),
                        lines.len()
                    );
                }
                Err(e) => {
                    assert_eq!(e.parser, spec.name);
                    assert!(e.to_string().contains(&format!("parser '{}'", spec.name)));
                    eprintln!("{}: refused: {e}", spec.name);
                }
            }
        }
    }
}
