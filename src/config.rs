//! `rosetta.toml`: every key declared once, as data, and the loader that
//! holds a file to those declarations.
//!
//! [`KEYS`] is the single source of truth: the loader accepts exactly these
//! keys with exactly these types, and `docs/configuration.md` carries a table
//! generated from it (a test fails when the two differ). An unknown key, a
//! wrong type or an out-of-range value is a [`ConfigError`] naming the file,
//! the line and the problem; there is no silent fallback to a default.

use crate::toml::{self, Item, Table};
use std::fmt;

/// The file name the module looks for in each of fluent-bit's
/// `accessible_paths`.
pub const FILE_NAME: &str = "rosetta.toml";

/// One declared key: its name, TOML type, default and meaning.
#[derive(Clone, Copy, Debug)]
pub struct KeyDoc {
    /// The key as written in `rosetta.toml`.
    pub key: &'static str,
    /// Its TOML type, with the allowed values where they are a list.
    pub kind: Kind,
    /// The default, as TOML text.
    pub default: &'static str,
    /// What it does, in the operator's words.
    pub doc: &'static str,
}

/// The type of a declared key.
#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A string from a fixed list.
    Choice(&'static [&'static str]),
    /// Any non-empty string.
    Str,
    /// A boolean.
    Bool,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Choice(list) => {
                let quoted: Vec<String> = list.iter().map(|c| format!("\"{c}\"")).collect();
                write!(f, "string: {}", quoted.join(", "))
            }
            Kind::Str => f.write_str("string"),
            Kind::Bool => f.write_str("boolean"),
        }
    }
}

/// The parsers `rosetta_filter` can be told to apply with `parser`.
pub const PARSERS: &[&str] = &["none", "envoy", "nginx-ingress"];

/// Every key `rosetta.toml` accepts.
pub const KEYS: &[KeyDoc] = &[
    KeyDoc {
        key: "parser",
        kind: Kind::Choice(PARSERS),
        default: "\"none\"",
        doc: "What `rosetta_filter` does with each record's line: `none` passes records through unchanged, `envoy` reads Envoy and Istio access logs (text or JSON), `nginx-ingress` reads ingress-nginx access logs.",
    },
    KeyDoc {
        key: "log_key",
        kind: Kind::Str,
        default: "\"log\"",
        doc: "The record key holding the log line. A record without it is read from `message` (what fluent-bit's `cri` parser writes) when that key exists.",
    },
    KeyDoc {
        key: "keep_log",
        kind: Kind::Bool,
        default: "false",
        doc: "Keep the raw line in the record after a successful parse. A line that does not parse, or parses as suspect, always keeps it.",
    },
];

/// What `rosetta_filter` applies to a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parser {
    /// Pass the record through unchanged.
    None,
    /// The Envoy family: Envoy text, Istio text, Envoy/Istio JSON.
    Envoy,
    /// ingress-nginx access logs.
    NginxIngress,
}

/// The loaded configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// What `rosetta_filter` applies.
    pub parser: Parser,
    /// The key holding the line.
    pub log_key: String,
    /// Keep the raw line after a successful parse.
    pub keep_log: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            parser: Parser::None,
            log_key: "log".to_string(),
            keep_log: false,
        }
    }
}

/// A configuration file that cannot be used: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file, as the module opened it.
    pub file: String,
    /// 1-based line, or 0 when the problem is the whole file.
    pub line: usize,
    /// What is wrong.
    pub problem: ConfigProblem,
}

/// What is wrong with a configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigProblem {
    /// The TOML itself is malformed.
    Syntax(toml::Problem),
    /// A key no declaration names.
    UnknownKey(String),
    /// A value of the wrong TOML type.
    WrongType {
        /// The key.
        key: String,
        /// The declared type.
        want: String,
        /// What the file has.
        got: &'static str,
    },
    /// A value outside the declared choices or range.
    OutOfRange {
        /// The key.
        key: String,
        /// The declared type and values.
        want: String,
    },
    /// The file could not be read.
    Unreadable(String),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        match &self.problem {
            ConfigProblem::Syntax(p) => {
                write!(
                    f,
                    "{}",
                    toml::SyntaxError {
                        line: self.line,
                        problem: p.clone()
                    }
                )
            }
            ConfigProblem::UnknownKey(k) => write!(f, "unknown key '{k}'"),
            ConfigProblem::WrongType { key, want, got } => {
                write!(f, "'{key}' must be a {want}, not a {got}")
            }
            ConfigProblem::OutOfRange { key, want } => write!(f, "'{key}' must be a {want}"),
            ConfigProblem::Unreadable(why) => write!(f, "cannot be read: {why}"),
        }
    }
}

impl Config {
    /// Reads `text`, the content of `file`.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let fail = |line: usize, problem: ConfigProblem| ConfigError {
            file: file.to_string(),
            line,
            problem,
        };
        let table: Table =
            toml::parse(text).map_err(|e| fail(e.line, ConfigProblem::Syntax(e.problem)))?;
        let mut config = Config::default();
        for (key, entry) in &table.entries {
            let Some(decl) = KEYS.iter().find(|d| d.key == key) else {
                return Err(fail(entry.line, ConfigProblem::UnknownKey(key.clone())));
            };
            let wrong = || {
                fail(
                    entry.line,
                    ConfigProblem::WrongType {
                        key: key.clone(),
                        want: decl.kind.to_string(),
                        got: entry.value.type_name(),
                    },
                )
            };
            match (decl.kind, &entry.value) {
                (Kind::Choice(list), Item::Str(s)) if list.contains(&s.as_str()) => {
                    if decl.key == "parser" {
                        config.parser = match s.as_str() {
                            "envoy" => Parser::Envoy,
                            "nginx-ingress" => Parser::NginxIngress,
                            _ => Parser::None,
                        };
                    }
                }
                (Kind::Choice(_), Item::Str(_)) => {
                    return Err(fail(
                        entry.line,
                        ConfigProblem::OutOfRange {
                            key: key.clone(),
                            want: decl.kind.to_string(),
                        },
                    ));
                }
                (Kind::Str, Item::Str(s)) if !s.is_empty() => {
                    if decl.key == "log_key" {
                        config.log_key = s.clone();
                    }
                }
                (Kind::Str, Item::Str(_)) => {
                    return Err(fail(
                        entry.line,
                        ConfigProblem::OutOfRange {
                            key: key.clone(),
                            want: "non-empty string".into(),
                        },
                    ));
                }
                (Kind::Bool, Item::Bool(b)) => {
                    if decl.key == "keep_log" {
                        config.keep_log = *b;
                    }
                }
                _ => return Err(wrong()),
            }
        }
        Ok(config)
    }
}

/// The reference table of every key, as it appears in
/// `docs/configuration.md`.
pub fn reference_table() -> String {
    let mut s = String::from("| key | type | default | meaning |\n|---|---|---|---|\n");
    for k in KEYS {
        s.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            k.key, k.kind, k.default, k.doc
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_declarations() {
        let from_text = Config::parse(
            "rosetta.toml",
            &KEYS
                .iter()
                .map(|k| format!("{} = {}\n", k.key, k.default))
                .collect::<String>(),
        );
        assert_eq!(from_text, Ok(Config::default()));
        assert_eq!(Config::parse("rosetta.toml", ""), Ok(Config::default()));
    }

    #[test]
    fn named_cases() {
        let ok: &[(&str, &str, Config)] = &[
            (
                "envoy",
                "parser = \"envoy\"\nkeep_log = true\n",
                Config {
                    parser: Parser::Envoy,
                    keep_log: true,
                    ..Config::default()
                },
            ),
            (
                "nginx and key",
                "parser = 'nginx-ingress'\nlog_key = \"message\"\n",
                Config {
                    parser: Parser::NginxIngress,
                    log_key: "message".into(),
                    ..Config::default()
                },
            ),
        ];
        for (name, text, want) in ok {
            assert_eq!(
                Config::parse("rosetta.toml", text).as_ref(),
                Ok(want),
                "{name}"
            );
        }
        let bad: &[(&str, &str, &str)] = &[
            (
                "unknown key",
                "\n\nparsr = \"envoy\"\n",
                "rosetta.toml:3: unknown key 'parsr'",
            ),
            (
                "bad choice",
                "parser = \"onigmo\"\n",
                "rosetta.toml:1: 'parser' must be a string: \"none\", \"envoy\", \"nginx-ingress\"",
            ),
            (
                "wrong type",
                "keep_log = \"yes\"\n",
                "rosetta.toml:1: 'keep_log' must be a boolean, not a string",
            ),
            (
                "empty key",
                "log_key = \"\"\n",
                "rosetta.toml:1: 'log_key' must be a non-empty string",
            ),
            (
                "syntax",
                "parser = envoy\n",
                "rosetta.toml:1: expected a value",
            ),
            (
                "duplicate",
                "keep_log = true\nkeep_log = false\n",
                "rosetta.toml:2: key 'keep_log' is defined twice",
            ),
        ];
        for (name, text, want) in bad {
            let e = Config::parse("rosetta.toml", text).unwrap_err();
            assert_eq!(e.to_string(), *want, "{name}");
        }
    }

    #[test]
    fn reference_documentation_is_current() {
        let doc = include_str!("../docs/configuration.md");
        let table = reference_table();
        assert!(
            doc.contains(&table),
            "docs/configuration.md is out of date; its key table must read:\n{table}"
        );
    }
}
