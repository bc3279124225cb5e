//! The subset of TOML 1.0 that `rosetta.toml` uses, read into a tree that
//! remembers the line of every value.
//!
//! Supported: comments, bare and quoted keys, dotted keys, `[table]`,
//! `[[array.of.tables]]`, basic and literal strings (single-line), integers
//! (with `_` separators), floats, booleans, arrays (spanning lines) and
//! inline tables. Not supported, each an error naming the line: multi-line
//! strings, dates and times, hex/octal/binary integers, `inf`/`nan`.
//!
//! Invariants: the reader is a single pass over the text; values nest at
//! most [`MAX_DEPTH`] deep (deeper is an error, never a deep recursion), and
//! a key defined twice in one table is an error, as TOML requires.

use std::fmt;

/// How deep arrays and inline tables may nest.
pub const MAX_DEPTH: usize = 8;

/// A value and the line it started on (1-based).
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The value.
    pub value: Item,
    /// The line it started on.
    pub line: usize,
}

/// A TOML value.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A boolean.
    Bool(bool),
    /// An array.
    Array(Vec<Entry>),
    /// A table (also each element of an array of tables).
    Table(Table),
}

impl Item {
    /// The TOML name of this value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Item::Str(_) => "string",
            Item::Int(_) => "integer",
            Item::Float(_) => "float",
            Item::Bool(_) => "boolean",
            Item::Array(_) => "array",
            Item::Table(_) => "table",
        }
    }
}

/// A table: its keys in the order written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table {
    /// Key and entry pairs, in order.
    pub entries: Vec<(String, Entry)>,
}

impl Table {
    /// The entry under `key`.
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().find(|(k, _)| k == key).map(|(_, e)| e)
    }

    fn get_mut(&mut self, key: &str) -> Option<&mut Entry> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k == key)
            .map(|(_, e)| e)
    }
}

/// A syntax error: the line and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// 1-based line number.
    pub line: usize,
    /// What was wrong.
    pub problem: Problem,
}

/// What is wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// Something else was expected here.
    Expected(&'static str),
    /// A key was defined twice.
    Duplicate(String),
    /// A construct this reader does not support.
    Unsupported(&'static str),
    /// Nesting deeper than [`MAX_DEPTH`].
    TooDeep,
    /// A dotted key or table header goes through a value that is not a table.
    NotATable(String),
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            Problem::Expected(what) => write!(f, "expected {what}"),
            Problem::Duplicate(k) => write!(f, "key '{k}' is defined twice"),
            Problem::Unsupported(what) => write!(f, "{what} are not supported"),
            Problem::TooDeep => write!(f, "values nest deeper than {MAX_DEPTH}"),
            Problem::NotATable(k) => write!(f, "'{k}' is not a table"),
        }
    }
}

struct Reader<'t> {
    text: &'t [u8],
    pos: usize,
    line: usize,
}

/// Reads a whole document.
pub fn parse(text: &str) -> Result<Table, SyntaxError> {
    let mut r = Reader {
        text: text.as_bytes(),
        pos: 0,
        line: 1,
    };
    let mut root = Table::default();
    // The path of the table that `key = value` lines go into.
    let mut current: Vec<String> = Vec::new();
    loop {
        r.skip_blank_lines();
        let Some(c) = r.peek() else { break };
        let line = r.line;
        if c == b'[' {
            r.pos += 1;
            let array = r.peek() == Some(b'[');
            if array {
                r.pos += 1;
            }
            r.skip_spaces();
            let path = r.key_path()?;
            r.skip_spaces();
            r.expect(b']', "']' closing the table header")?;
            if array {
                r.expect(b']', "']]' closing the array-of-tables header")?;
            }
            r.end_of_line()?;
            open_table(&mut root, &path, array, line)?;
            current = path;
        } else {
            let path = r.key_path()?;
            r.skip_spaces();
            r.expect(b'=', "'=' after the key")?;
            r.skip_spaces();
            let value = r.value(0)?;
            r.end_of_line()?;
            let table = table_at(&mut root, &current, line)?;
            insert(table, &path, Entry { value, line }, line)?;
        }
    }
    Ok(root)
}

/// Finds or creates the table a header names; for `[[x]]`, appends one.
fn open_table(
    root: &mut Table,
    path: &[String],
    array: bool,
    line: usize,
) -> Result<(), SyntaxError> {
    let Some((last, parents)) = path.split_last() else {
        return Err(SyntaxError {
            line,
            problem: Problem::Expected("a table name"),
        });
    };
    let parent = table_at(root, parents, line)?;
    match parent.get_mut(last) {
        None => {
            let value = if array {
                Item::Array(vec![Entry {
                    value: Item::Table(Table::default()),
                    line,
                }])
            } else {
                Item::Table(Table::default())
            };
            parent.entries.push((last.clone(), Entry { value, line }));
            Ok(())
        }
        Some(Entry {
            value: Item::Array(items),
            ..
        }) if array => {
            items.push(Entry {
                value: Item::Table(Table::default()),
                line,
            });
            Ok(())
        }
        Some(_) if array => Err(SyntaxError {
            line,
            problem: Problem::NotATable(last.clone()),
        }),
        Some(_) => Err(SyntaxError {
            line,
            problem: Problem::Duplicate(last.clone()),
        }),
    }
}

/// The table at `path`, walking into the last element of arrays of tables.
fn table_at<'r>(
    root: &'r mut Table,
    path: &[String],
    line: usize,
) -> Result<&'r mut Table, SyntaxError> {
    let mut table = root;
    for key in path {
        if table.get(key).is_none() {
            table.entries.push((
                key.clone(),
                Entry {
                    value: Item::Table(Table::default()),
                    line,
                },
            ));
        }
        let entry = table.get_mut(key);
        table = match entry.map(|e| &mut e.value) {
            Some(Item::Table(t)) => t,
            Some(Item::Array(items)) => match items.last_mut().map(|e| &mut e.value) {
                Some(Item::Table(t)) => t,
                _ => {
                    return Err(SyntaxError {
                        line,
                        problem: Problem::NotATable(key.clone()),
                    });
                }
            },
            _ => {
                return Err(SyntaxError {
                    line,
                    problem: Problem::NotATable(key.clone()),
                });
            }
        };
    }
    Ok(table)
}

fn insert(
    table: &mut Table,
    path: &[String],
    entry: Entry,
    line: usize,
) -> Result<(), SyntaxError> {
    let Some((last, parents)) = path.split_last() else {
        return Err(SyntaxError {
            line,
            problem: Problem::Expected("a key"),
        });
    };
    let table = table_at(table, parents, line)?;
    if table.get(last).is_some() {
        return Err(SyntaxError {
            line,
            problem: Problem::Duplicate(last.clone()),
        });
    }
    table.entries.push((last.clone(), entry));
    Ok(())
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    fn fail<T>(&self, problem: Problem) -> Result<T, SyntaxError> {
        Err(SyntaxError {
            line: self.line,
            problem,
        })
    }

    fn expect(&mut self, b: u8, what: &'static str) -> Result<(), SyntaxError> {
        if self.peek() == Some(b) {
            self.pos += 1;
            Ok(())
        } else {
            self.fail(Problem::Expected(what))
        }
    }

    fn skip_spaces(&mut self) {
        while let Some(b' ' | b'\t') = self.peek() {
            self.pos += 1;
        }
    }

    fn skip_comment(&mut self) {
        if self.peek() == Some(b'#') {
            while let Some(c) = self.peek() {
                if c == b'\n' {
                    break;
                }
                self.pos += 1;
            }
        }
    }

    /// Skips spaces, comments and newlines.
    fn skip_blank_lines(&mut self) {
        loop {
            self.skip_spaces();
            self.skip_comment();
            match self.peek() {
                Some(b'\n') => {
                    self.pos += 1;
                    self.line += 1;
                }
                Some(b'\r') => self.pos += 1,
                _ => return,
            }
        }
    }

    fn end_of_line(&mut self) -> Result<(), SyntaxError> {
        self.skip_spaces();
        self.skip_comment();
        match self.peek() {
            None | Some(b'\n') => Ok(()),
            Some(b'\r') if self.text.get(self.pos + 1) == Some(&b'\n') => Ok(()),
            _ => self.fail(Problem::Expected("the end of the line")),
        }
    }

    /// `a.b."c d"`
    fn key_path(&mut self) -> Result<Vec<String>, SyntaxError> {
        let mut path = vec![self.key()?];
        loop {
            self.skip_spaces();
            if self.peek() != Some(b'.') {
                return Ok(path);
            }
            self.pos += 1;
            self.skip_spaces();
            path.push(self.key()?);
        }
    }

    fn key(&mut self) -> Result<String, SyntaxError> {
        match self.peek() {
            Some(b'"') => self.basic_string(),
            Some(b'\'') => self.literal_string(),
            _ => {
                let start = self.pos;
                while let Some(b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-') = self.peek()
                {
                    self.pos += 1;
                }
                if self.pos == start {
                    return self.fail(Problem::Expected("a key"));
                }
                Ok(
                    String::from_utf8_lossy(self.text.get(start..self.pos).unwrap_or_default())
                        .into_owned(),
                )
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Item, SyntaxError> {
        if depth > MAX_DEPTH {
            return self.fail(Problem::TooDeep);
        }
        match self.peek() {
            Some(b'"') => {
                if self.text.get(self.pos..self.pos + 3) == Some(b"\"\"\"") {
                    return self.fail(Problem::Unsupported("multi-line strings"));
                }
                self.basic_string().map(Item::Str)
            }
            Some(b'\'') => {
                if self.text.get(self.pos..self.pos + 3) == Some(b"'''") {
                    return self.fail(Problem::Unsupported("multi-line strings"));
                }
                self.literal_string().map(Item::Str)
            }
            Some(b'[') => self.array(depth),
            Some(b'{') => self.inline_table(depth),
            Some(b't') if self.text.get(self.pos..self.pos + 4) == Some(b"true") => {
                self.pos += 4;
                Ok(Item::Bool(true))
            }
            Some(b'f') if self.text.get(self.pos..self.pos + 5) == Some(b"false") => {
                self.pos += 5;
                Ok(Item::Bool(false))
            }
            Some(b'+' | b'-' | b'0'..=b'9' | b'i' | b'n') => self.number(),
            _ => self.fail(Problem::Expected("a value")),
        }
    }

    fn number(&mut self) -> Result<Item, SyntaxError> {
        let start = self.pos;
        while let Some(
            b'0'..=b'9'
            | b'+'
            | b'-'
            | b'_'
            | b'.'
            | b'e'
            | b'E'
            | b'x'
            | b'o'
            | b'b'
            | b'a'..=b'd'
            | b'f'
            | b'i'
            | b'n'
            | b':'
            | b'T'
            | b'Z',
        ) = self.peek()
        {
            self.pos += 1;
        }
        let token = String::from_utf8_lossy(self.text.get(start..self.pos).unwrap_or_default())
            .replace('_', "");
        let digits = token.trim_start_matches(['+', '-']);
        if digits.starts_with("0x") || digits.starts_with("0o") || digits.starts_with("0b") {
            return self.fail(Problem::Unsupported("hex, octal and binary integers"));
        }
        if digits.contains(':')
            || digits.matches('-').count() >= 1 && digits.len() >= 10 && !digits.contains('e')
        {
            return self.fail(Problem::Unsupported("dates and times"));
        }
        if digits == "inf" || digits == "nan" {
            return self.fail(Problem::Unsupported("inf and nan"));
        }
        if let Ok(i) = token.parse::<i64>() {
            return Ok(Item::Int(i));
        }
        match token.parse::<f64>() {
            Ok(f) if f.is_finite() && token.bytes().any(|b| b.is_ascii_digit()) => {
                Ok(Item::Float(f))
            }
            _ => self.fail(Problem::Expected("a number")),
        }
    }

    fn array(&mut self, depth: usize) -> Result<Item, SyntaxError> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_blank_lines();
            if self.peek() == Some(b']') {
                self.pos += 1;
                return Ok(Item::Array(items));
            }
            let line = self.line;
            let value = self.value(depth + 1)?;
            items.push(Entry { value, line });
            self.skip_blank_lines();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {}
                _ => return self.fail(Problem::Expected("',' or ']' in an array")),
            }
        }
    }

    fn inline_table(&mut self, depth: usize) -> Result<Item, SyntaxError> {
        self.pos += 1;
        let mut table = Table::default();
        self.skip_spaces();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Item::Table(table));
        }
        loop {
            self.skip_spaces();
            let line = self.line;
            let path = self.key_path()?;
            self.skip_spaces();
            self.expect(b'=', "'=' after the key")?;
            self.skip_spaces();
            let value = self.value(depth + 1)?;
            insert(&mut table, &path, Entry { value, line }, line)?;
            self.skip_spaces();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Item::Table(table));
                }
                _ => return self.fail(Problem::Expected("',' or '}' in an inline table")),
            }
        }
    }

    fn literal_string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let start = self.pos;
        loop {
            match self.peek() {
                Some(b'\'') => {
                    let s = self.text.get(start..self.pos).unwrap_or_default();
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(s).into_owned());
                }
                None | Some(b'\n') => return self.fail(Problem::Expected("' closing the string")),
                Some(_) => self.pos += 1,
            }
        }
    }

    fn basic_string(&mut self) -> Result<String, SyntaxError> {
        self.pos += 1;
        let mut s = Vec::new();
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(String::from_utf8_lossy(&s).into_owned());
                }
                Some(b'\\') => {
                    let esc = self.text.get(self.pos + 1).copied();
                    self.pos += 2;
                    match esc {
                        Some(b'"') => s.push(b'"'),
                        Some(b'\\') => s.push(b'\\'),
                        Some(b'n') => s.push(b'\n'),
                        Some(b't') => s.push(b'\t'),
                        Some(b'r') => s.push(b'\r'),
                        Some(b'b') => s.push(8),
                        Some(b'f') => s.push(12),
                        Some(b'u') | Some(b'U') => {
                            let n = if esc == Some(b'u') { 4 } else { 8 };
                            let hex = self.text.get(self.pos..self.pos + n).unwrap_or_default();
                            let code = std::str::from_utf8(hex)
                                .ok()
                                .and_then(|h| u32::from_str_radix(h, 16).ok());
                            match code.and_then(char::from_u32) {
                                Some(c) if hex.len() == n => {
                                    let mut b = [0u8; 4];
                                    s.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                                    self.pos += n;
                                }
                                _ => return self.fail(Problem::Expected("a valid \\u escape")),
                            }
                        }
                        _ => return self.fail(Problem::Expected("a valid escape after '\\'")),
                    }
                }
                None | Some(b'\n') => {
                    return self.fail(Problem::Expected("'\"' closing the string"));
                }
                Some(c) => {
                    s.push(c);
                    self.pos += 1;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'t>(t: &'t Table, path: &[&str]) -> Option<&'t Item> {
        let (last, parents) = path.split_last()?;
        let mut t = t;
        for p in parents {
            t = match &t.get(p)?.value {
                Item::Table(t) => t,
                _ => return None,
            };
        }
        t.get(last).map(|e| &e.value)
    }

    #[test]
    fn reads_the_subset() {
        let doc = r#"
# comment
parser = "envoy"   # trailing
keep_log = true
n = 1_000
f = 0.5
'lit' = 'C:\path'
a.b = "dotted"
list = [ "x",
  'y', ]
inline = { k = 1, s = "t" }

[[route]]
match = { container = "istio-proxy" }
parsers = ["envoy"]

[[route]]
parsers = ["auto"]

[limits.global]
records_per_second = 100
"#;
        let t = parse(doc).unwrap();
        assert_eq!(get(&t, &["parser"]), Some(&Item::Str("envoy".into())));
        assert_eq!(get(&t, &["keep_log"]), Some(&Item::Bool(true)));
        assert_eq!(get(&t, &["n"]), Some(&Item::Int(1000)));
        assert_eq!(get(&t, &["f"]), Some(&Item::Float(0.5)));
        assert_eq!(get(&t, &["lit"]), Some(&Item::Str(r"C:\path".into())));
        assert_eq!(get(&t, &["a", "b"]), Some(&Item::Str("dotted".into())));
        assert_eq!(
            get(&t, &["limits", "global", "records_per_second"]),
            Some(&Item::Int(100))
        );
        match get(&t, &["route"]) {
            Some(Item::Array(routes)) => {
                assert_eq!(routes.len(), 2);
                assert_eq!(routes[0].line, 13);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(t.get("list").map(|e| e.line), Some(9));
    }

    #[test]
    fn errors_name_the_line() {
        let cases: &[(&str, &str, usize, Problem)] = &[
            ("no value", "a =\n", 1, Problem::Expected("a value")),
            (
                "duplicate",
                "a = 1\na = 2\n",
                2,
                Problem::Duplicate("a".into()),
            ),
            (
                "unclosed",
                "\n\na = \"x\n",
                3,
                Problem::Expected("'\"' closing the string"),
            ),
            (
                "junk after",
                "a = 1 2\n",
                1,
                Problem::Expected("the end of the line"),
            ),
            (
                "multi-line",
                "a = \"\"\"x\"\"\"\n",
                1,
                Problem::Unsupported("multi-line strings"),
            ),
            (
                "date",
                "a = 1979-05-27\n",
                1,
                Problem::Unsupported("dates and times"),
            ),
            (
                "hex",
                "a = 0xff\n",
                1,
                Problem::Unsupported("hex, octal and binary integers"),
            ),
            (
                "too deep",
                "a = [[[[[[[[[[1]]]]]]]]]]\n",
                1,
                Problem::TooDeep,
            ),
            (
                "bad header",
                "[a\n",
                1,
                Problem::Expected("']' closing the table header"),
            ),
            (
                "scalar then table",
                "a = 1\n[a]\n",
                2,
                Problem::Duplicate("a".into()),
            ),
            ("no key", "= 1\n", 1, Problem::Expected("a key")),
        ];
        for (name, doc, line, problem) in cases {
            let e = parse(doc).unwrap_err();
            assert_eq!((e.line, &e.problem), (*line, problem), "{name}");
        }
    }

    #[test]
    fn hostile_nesting_is_refused_not_recursed() {
        let doc = format!("a = {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(parse(&doc).unwrap_err().problem, Problem::TooDeep);
    }
}
