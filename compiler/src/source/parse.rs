//! KDL parsing with limits, turning the parser's errors into located diagnostics.

use crate::diag::{Diagnostic, Kind};

use super::{FileId, Span};

/// Policy files larger than this are refused before parsing.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// Blocks nested deeper than this are refused before parsing, so hostile input cannot
/// exhaust the parser's stack.
pub const MAX_DEPTH: usize = 32;

/// Parses one file. Returns the document, or the diagnostics that explain why not.
pub fn parse_kdl(file: FileId, text: &str) -> Result<kdl::KdlDocument, Vec<Diagnostic>> {
    if let Some((depth, offset)) = too_deep(text) {
        return Err(vec![Diagnostic::error(
            Kind::TooDeep {
                depth,
                limit: MAX_DEPTH,
            },
            Span {
                file,
                offset,
                len: 1,
            },
            "this block is too deep",
        )]);
    }
    kdl::KdlDocument::parse_v2(text).map_err(|error| {
        let mut diagnostics: Vec<Diagnostic> = error
            .diagnostics
            .iter()
            .map(|d| {
                let message = d
                    .message
                    .clone()
                    .unwrap_or_else(|| "invalid KDL".to_string());
                let label = d.label.clone().unwrap_or_else(|| "here".to_string());
                // KDL v1 habits: v2 writes keywords with a `#`.
                let found = text
                    .get(d.span.offset()..d.span.offset() + d.span.len())
                    .unwrap_or("");
                let help = match found {
                    "true" | "false" | "null" => Some(format!(
                        "KDL v2 writes booleans and null with a `#`: `#{found}`"
                    )),
                    _ => d.help.clone(),
                };
                Diagnostic::error(
                    Kind::Syntax {
                        message: lower_first(&message),
                        help,
                    },
                    Span::new(file, d.span),
                    label,
                )
            })
            .collect();
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::error(
                Kind::Syntax {
                    message: "invalid KDL".into(),
                    help: None,
                },
                Span::start_of(file),
                "here",
            ));
        }
        diagnostics
    })
}

fn lower_first(message: &str) -> String {
    let trimmed = message.trim_end_matches('.');
    let mut chars = trimmed.chars();
    match chars.next() {
        Some(first) if !trimmed.starts_with("KDL") => first.to_lowercase().chain(chars).collect(),
        _ => trimmed.to_string(),
    }
}

/// Finds the first `{` nested deeper than [`MAX_DEPTH`], skipping strings and comments.
/// Returns the depth reached and the byte offset, or `None` when the file is within the limit.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0usize;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some((depth, i));
                }
            }
            b'}' => depth = depth.saturating_sub(1),
            b'"' => i = skip_string(bytes, i, 0),
            b'#' => {
                let hashes = bytes[i..].iter().take_while(|&&b| b == b'#').count();
                if bytes.get(i + hashes) == Some(&b'"') {
                    i = skip_string(bytes, i + hashes, hashes);
                } else {
                    i += hashes - 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let mut nesting = 1usize;
                i += 2;
                while i < bytes.len() && nesting > 0 {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        nesting += 1;
                        i += 1;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        nesting -= 1;
                        i += 1;
                    }
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Returns the index of the closing quote of a string starting at `start` (a `"`), raw when
/// `hashes > 0`, or the end of input.
fn skip_string(bytes: &[u8], start: usize, hashes: usize) -> usize {
    let multi = bytes.get(start..start + 3) == Some(b"\"\"\"");
    let quotes = if multi { 3 } else { 1 };
    let mut i = start + quotes;
    while i < bytes.len() {
        if hashes == 0 && bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == b'"'
            && bytes
                .get(i..i + quotes)
                .is_some_and(|q| q.iter().all(|&b| b == b'"'))
            && bytes
                .get(i + quotes..i + quotes + hashes)
                .is_some_and(|h| h.iter().all(|&b| b == b'#'))
        {
            return i + quotes + hashes - 1;
        }
        i += 1;
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_ignores_braces_in_strings_and_comments() {
        let braces = "{".repeat(100);
        let text = format!("a \"{braces}\"\nb #\"{braces}\"#\n// {braces}\n/* {braces} */\n");
        assert_eq!(too_deep(&text), None);
    }

    #[test]
    fn deep_nesting_is_refused_with_its_location() {
        let text = format!("policy \"deep\" {}", "{ x ".repeat(20_000));
        let errors = parse_kdl(FileId(0), &text).unwrap_err();
        assert_eq!(errors[0].kind.code(), "too-deep");
        assert_eq!(errors[0].at.offset, 14 + 4 * MAX_DEPTH);
    }

    #[test]
    fn syntax_errors_are_located() {
        let errors = parse_kdl(FileId(0), "group \"a\nb").unwrap_err();
        assert_eq!(errors[0].kind.code(), "syntax");
    }
}
