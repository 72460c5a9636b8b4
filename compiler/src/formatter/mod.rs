//! Formatter stage: the canonical text of a KDL policy or project file, comments kept.
//!
//! In: the text of one file. Out: the same document printed canonically — four-space
//! indentation, one node per line, children blocks on their own lines, strings quoted, at most
//! one blank line between nodes — with every comment (line, block and slashdash) kept in
//! place. The result is checked to mean exactly what the input meant before it is returned,
//! and formatting it again changes nothing. This stage never touches the filesystem; the CLI
//! reads and writes the files.

use std::fmt::Write as _;

use kdl::{KdlDocument, KdlEntry, KdlIdentifier, KdlNode, KdlValue};

const INDENT: &str = "    ";

/// Why a file could not be formatted.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// The text is not valid KDL v2; `bsic check` reports where.
    #[error("not valid KDL: {0}")]
    Syntax(String),
    /// The canonical form would change the document's meaning: a bug in bsic.
    #[error("formatting would change the document's meaning")]
    Changed,
}

/// The canonical form of `text`.
pub fn format(text: &str) -> Result<String, FormatError> {
    // A byte-order mark stays where it is, outside the document.
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        return format(rest).map(|formatted| format!("\u{feff}{formatted}"));
    }
    let document = KdlDocument::parse_v2(text).map_err(|e| FormatError::Syntax(e.to_string()))?;
    let mut out = String::new();
    print_document(&document, 0, &mut out, false);
    let out = finish(out);
    // Text that is already canonical cannot have changed meaning (most files, most runs).
    if out == text {
        return Ok(out);
    }
    let formatted = KdlDocument::parse_v2(&out).ok();
    if formatted.map(meaning) != Some(meaning(document)) {
        return Err(FormatError::Changed);
    }
    Ok(out)
}

/// The document with every comment and all formatting removed, for comparing meaning.
fn meaning(mut document: KdlDocument) -> String {
    document.autoformat_no_comments();
    document.to_string()
}

/// Trailing whitespace off every line, exactly one final newline (none for an empty file).
fn finish(out: String) -> String {
    let mut lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    if lines.is_empty() {
        return String::new();
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn indent(level: usize) -> String {
    INDENT.repeat(level)
}

/// Prints the comments and blank lines of a stretch of whitespace and comments, re-indented
/// to `level` (keeping the relative indentation inside multi-line comments). `line_open` says
/// the text starts mid-line (after `{` or `;`), so its first segment ends that line rather than
/// standing for a line of its own. The last segment is the next item's indentation.
fn print_trivia(text: &str, level: usize, out: &mut String, line_open: bool) {
    let segments: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let last = segments.len() - 1;
    let common = segments
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    for (i, segment) in segments.iter().enumerate() {
        if segment.trim().is_empty() {
            let continuation = i == 0 && line_open;
            if i != last && !continuation {
                blank(out);
            }
            continue;
        }
        let cut = common.min(segment.len() - segment.trim_start().len());
        let _ = writeln!(out, "{}{}", indent(level), segment[cut..].trim_end());
    }
}

/// One blank line, unless at the start of a block or after another blank line.
fn blank(out: &mut String) {
    if !out.is_empty() && !out.ends_with("{\n") && !out.ends_with("\n\n") {
        out.push('\n');
    }
}

/// Prints a document's nodes; returns whether the last line is left open (ended by `;`).
fn print_document(document: &KdlDocument, level: usize, out: &mut String, line_open: bool) {
    let format = document.format();
    let leading = format.map(|f| f.leading.as_str()).unwrap_or("");
    let trailing = format.map(|f| f.trailing.as_str()).unwrap_or("");
    print_trivia(leading, level, out, line_open);
    let mut open = if leading.is_empty() {
        line_open
    } else {
        line_open && !leading.contains('\n')
    };
    for node in document.nodes() {
        open = print_node(node, level, out, open);
    }
    print_trivia(trailing, level, out, open);
}

fn identifier(name: &KdlIdentifier) -> String {
    KdlIdentifier::from(name.value()).to_string()
}

fn value(value: &KdlValue) -> String {
    match value {
        KdlValue::String(s) => {
            let mut quoted = String::from("\"");
            for c in s.chars() {
                match c {
                    '\\' => quoted.push_str("\\\\"),
                    '"' => quoted.push_str("\\\""),
                    '\n' => quoted.push_str("\\n"),
                    '\r' => quoted.push_str("\\r"),
                    '\t' => quoted.push_str("\\t"),
                    '\u{08}' => quoted.push_str("\\b"),
                    '\u{0C}' => quoted.push_str("\\f"),
                    c if c.is_control() => {
                        let _ = write!(quoted, "\\u{{{:x}}}", u32::from(c));
                    }
                    c => quoted.push(c),
                }
            }
            quoted.push('"');
            quoted
        }
        other => other.to_string(),
    }
}

/// Comments inside whitespace, joined onto one line (`/* … */`, `/- …`), or empty.
fn inline_comments(text: &str) -> String {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        String::new()
    } else {
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn entry(entry: &KdlEntry) -> String {
    let mut text = String::new();
    if let Some(format) = entry.format() {
        let comments = inline_comments(&format.leading);
        if !comments.is_empty() {
            text.push_str(&comments);
            text.push(' ');
        }
    }
    if let Some(name) = entry.name() {
        text.push_str(&identifier(name));
        text.push('=');
    }
    if let Some(ty) = entry.ty() {
        let _ = write!(text, "({})", identifier(ty));
    }
    text.push_str(&value(entry.value()));
    if let Some(format) = entry.format() {
        let comments = inline_comments(&format.trailing);
        if !comments.is_empty() {
            text.push(' ');
            text.push_str(&comments);
        }
    }
    text
}

/// Prints one node; returns whether its source line was left open (ended by `;`).
fn print_node(node: &KdlNode, level: usize, out: &mut String, line_open: bool) -> bool {
    let format = node.format();
    if let Some(format) = format {
        print_trivia(&format.leading, level, out, line_open);
    }
    let mut line = indent(level);
    if let Some(ty) = node.ty() {
        let _ = write!(line, "({})", identifier(ty));
    }
    line.push_str(&identifier(node.name()));
    for e in node.entries() {
        line.push(' ');
        line.push_str(&entry(e));
    }
    // Comments after the entries: before the children, before the terminator, in the
    // terminator itself (a `// …` ends a node) and after it.
    let before_children = format
        .map(|f| inline_comments(&f.before_children))
        .unwrap_or_default();
    let mut after = Vec::new();
    if let Some(format) = format {
        for part in [
            &format.before_terminator,
            &format.terminator,
            &format.trailing,
        ] {
            let part = part.trim();
            let part = part.strip_prefix(';').unwrap_or(part).trim();
            if !part.is_empty() {
                after.push(part.to_string());
            }
        }
    }
    match node.children() {
        Some(children) => {
            if !before_children.is_empty() {
                line.push(' ');
                line.push_str(&before_children);
            }
            let empty = children.nodes().is_empty()
                && children
                    .format()
                    .is_none_or(|f| f.leading.trim().is_empty() && f.trailing.trim().is_empty());
            if empty {
                line.push_str(" {}");
                push_line(out, line, &after);
            } else {
                line.push_str(" {");
                out.push_str(&line);
                out.push('\n');
                print_document(children, level + 1, out, true);
                while out.ends_with("\n\n") {
                    out.pop();
                }
                push_line(out, format!("{}}}", indent(level)), &after);
            }
        }
        None => {
            if !before_children.is_empty() {
                line.push(' ');
                line.push_str(&before_children);
            }
            push_line(out, line, &after);
        }
    }
    let ending = format
        .map(|f| format!("{}{}", f.terminator, f.trailing))
        .unwrap_or_default();
    !ending.contains('\n') && !ending.is_empty()
}

/// Ends a node's last line, with its trailing comments: a `//` comment stays on the line,
/// anything multi-line goes on the lines after it.
fn push_line(out: &mut String, mut line: String, after: &[String]) {
    let mut rest = Vec::new();
    for comment in after {
        if comment.contains('\n') {
            rest.push(comment.clone());
        } else {
            line.push(' ');
            line.push_str(comment);
        }
    }
    out.push_str(&line);
    out.push('\n');
    let level_indent: String = line.chars().take_while(|c| *c == ' ').collect();
    for comment in rest {
        for l in comment.lines() {
            let _ = writeln!(out, "{level_indent}{}", l.trim());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let once = format(input).unwrap();
        assert_eq!(once, expected, "formatting\n{input}");
        assert_eq!(format(&once).unwrap(), once, "not idempotent");
    }

    #[test]
    fn canonical_layout() {
        check(
            "policy   \"a\"{applies-to pilot;platforms \"macOS\"\n  background-security { offer #true }}\n",
            "policy \"a\" {\n    applies-to \"pilot\"\n    platforms \"macOS\"\n    background-security {\n        offer #true\n    }\n}\n",
        );
    }

    #[test]
    fn keeps_comments_and_one_blank_line() {
        let input = "// header\n\n\n\ngroup \"pilot\" // the pilots\n\n// rings\npolicy \"a\" {\n        /* block */ applies-to \"pilot\"\n    // inside\n    background-security {\n        allow-rollback #false   // EnableRollback\n    }\n}\n// tail\n";
        let expected = "// header\n\ngroup \"pilot\" // the pilots\n\n// rings\npolicy \"a\" {\n    /* block */\n    applies-to \"pilot\"\n    // inside\n    background-security {\n        allow-rollback #false // EnableRollback\n    }\n}\n// tail\n";
        check(input, expected);
    }

    #[test]
    fn keeps_slashdash() {
        let once =
            format("policy \"a\" {\n    /-applies-to \"x\"\n    applies-to \"pilot\" /-\"y\"\n}\n")
                .unwrap();
        assert!(once.contains("/-applies-to \"x\""), "{once}");
        assert!(once.contains("/-"), "{once}");
        assert_eq!(format(&once).unwrap(), once);
    }

    #[test]
    fn properties_and_numbers() {
        check(
            "os-updates { defer major=30   minor=0x07 }\nenforce version=\"26.3.1\" by=#\"2026-04-01T09:00:00\"#\n",
            "os-updates {\n    defer major=30 minor=7\n}\nenforce version=\"26.3.1\" by=\"2026-04-01T09:00:00\"\n",
        );
    }

    #[test]
    fn rejects_invalid_kdl() {
        assert!(matches!(format("policy {"), Err(FormatError::Syntax(_))));
    }
}
