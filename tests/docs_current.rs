//! The documentation pages that are copies of declarations in the code must
//! say what the code says: a page that falls behind fails here.

/// The `//!` lines at the top of a source file, without the marker.
fn module_doc(source: &str) -> Vec<String> {
    source
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| l.trim_start_matches("//!").trim().to_string())
        .collect()
}

#[test]
fn formats_page_carries_every_line_of_the_parsers_docs() {
    let page = include_str!("../docs/formats.md");
    let page_lines: Vec<&str> = page.lines().map(str::trim).collect();
    for (file, source) in [
        (
            "src/formats/envoy.rs",
            include_str!("../src/formats/envoy.rs"),
        ),
        (
            "src/formats/nginx_ingress.rs",
            include_str!("../src/formats/nginx_ingress.rs"),
        ),
        (
            "src/formats/auto.rs",
            include_str!("../src/formats/auto.rs"),
        ),
        (
            "src/formats/json.rs",
            include_str!("../src/formats/json.rs"),
        ),
        (
            "src/formats/logfmt.rs",
            include_str!("../src/formats/logfmt.rs"),
        ),
        (
            "src/formats/klog.rs",
            include_str!("../src/formats/klog.rs"),
        ),
        (
            "src/formats/golog.rs",
            include_str!("../src/formats/golog.rs"),
        ),
        (
            "src/formats/nginx_error.rs",
            include_str!("../src/formats/nginx_error.rs"),
        ),
        ("src/formats/clf.rs", include_str!("../src/formats/clf.rs")),
        (
            "src/formats/apache_error.rs",
            include_str!("../src/formats/apache_error.rs"),
        ),
        (
            "src/formats/syslog.rs",
            include_str!("../src/formats/syslog.rs"),
        ),
    ] {
        for line in module_doc(source) {
            let text = line.trim_start_matches('#').trim();
            assert!(
                page_lines
                    .iter()
                    .any(|p| p.trim_start_matches('#').trim() == text),
                "docs/formats.md lacks this line of {file}'s documentation:\n{line}"
            );
        }
    }
}
