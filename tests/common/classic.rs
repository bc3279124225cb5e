//! fluent-bit's classic configuration syntax, read as the deployment tests
//! need it: `[NAME]` opens a section, `Key Value` (split at the first run of
//! white space) adds to it, `#` starts a comment line. Keys are kept in
//! lower case (fluent-bit reads them in any case), values as written, both
//! in file order.
//!
//! A small line-oriented reader made for the project's own files, not a
//! general parser: no `@INCLUDE`, `@SET` or `${VAR}`, and a line it cannot
//! read fails the test.

/// One section of a configuration: `[FILTER]` or an item of `filters:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `service`, `input`, `filter`, `output` or `parser`.
    pub kind: String,
    /// Keys in lower case, in file order.
    pub props: Vec<(String, String)>,
}

impl Section {
    /// The value of `key` (lower case), if the section sets it.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The value of `key`, or the test fails naming the section.
    pub fn need(&self, key: &str) -> &str {
        match self.get(key) {
            Some(v) => v,
            None => panic!("{} section without `{key}`: {:?}", self.kind, self.props),
        }
    }
}

/// The sections of a classic configuration, in file order.
pub fn read_classic(text: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            sections.push(Section {
                kind: name.to_ascii_lowercase(),
                props: Vec::new(),
            });
            continue;
        }
        let (key, value) = match line.split_once(char::is_whitespace) {
            Some((k, v)) => (k, v.trim()),
            None => panic!("classic line {}: a key without a value: {line}", n + 1),
        };
        match sections.last_mut() {
            Some(section) => section
                .props
                .push((key.to_ascii_lowercase(), value.to_string())),
            None => panic!("classic line {}: a key outside any section", n + 1),
        }
    }
    sections
}

/// The sections of `kind`, in order.
pub fn of_kind<'a>(sections: &'a [Section], kind: &str) -> Vec<&'a Section> {
    sections.iter().filter(|s| s.kind == kind).collect()
}
