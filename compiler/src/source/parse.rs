//! KDL parsing with limits, turning the parser's errors into located diagnostics.

use crate::diag::Diagnostic;
use crate::source::diags::SourceKind;

use super::{FileId, Span};

/// Blocks nested deeper than this are refused before parsing, so hostile input cannot
/// exhaust the parser's stack.
pub const MAX_DEPTH: usize = 32;

/// Values (node names, arguments, properties, strings) in one file beyond which it is refused
/// before parsing. The KDL parser keeps about 2 KB per value, so the 4 MiB file limit (`Input::Kdl`) alone
/// let 2 million one-character arguments take over 3 GB. Real policy files hold a few values
/// per line: 100,000 is about 1.5 MB of policies, and about 180 MB while parsing.
pub const MAX_VALUES: usize = 100_000;

/// Parses one file. Returns the document, or the diagnostics that explain why not.
pub fn parse_kdl(file: FileId, text: &str) -> Result<kdl::KdlDocument, Vec<Diagnostic>> {
    match prescan(text) {
        Some(Refusal::TooDeep { depth, offset }) => {
            return Err(vec![Diagnostic::error(
                SourceKind::TooDeep {
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
        Some(Refusal::TooManyValues { offset }) => {
            return Err(vec![Diagnostic::error(
                SourceKind::TooManyValues { limit: MAX_VALUES },
                Span {
                    file,
                    offset,
                    len: 1,
                },
                "this value is past the limit",
            )]);
        }
        None => {}
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
                    SourceKind::Syntax {
                        message: lower_first(&message),
                        help,
                    },
                    Span::new(file, d.span),
                    label,
                )
            })
            .collect();
        replace_escape_errors(file, text, &mut diagnostics);
        if diagnostics.is_empty() {
            diagnostics.push(Diagnostic::error(
                SourceKind::Syntax {
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

/// The parser reports a string with an unknown escape (`"pilot \q ring"`) as "expected quoted
/// string" at its opening quote, then trips over the rest of it. Say what is wrong instead,
/// at the escape itself, once.
fn replace_escape_errors(file: FileId, text: &str, diagnostics: &mut Vec<Diagnostic>) {
    let mut replaced: Vec<(std::ops::Range<usize>, Diagnostic)> = Vec::new();
    for diagnostic in diagnostics.iter() {
        let start = diagnostic.at.offset;
        if replaced.iter().any(|(string, _)| string.contains(&start)) {
            continue;
        }
        if let Some((string, escape, len)) = bad_escape(text, start) {
            let found = text.get(escape..escape + len).unwrap_or("\\");
            replaced.push((
                string,
                Diagnostic::error(
                    SourceKind::Syntax {
                        message: format!("invalid escape `{found}` in a string"),
                        help: Some(
                            "KDL strings know `\\n` `\\r` `\\t` `\\\\` `\\\"` `\\b` `\\f` `\\s` `\\u{...}` and `\\` before whitespace; write `\\\\` for a backslash, or use a raw string `#\"...\"#`"
                                .into(),
                        ),
                    },
                    Span {
                        file,
                        offset: escape,
                        len,
                    },
                    "not a KDL escape",
                ),
            ));
        }
    }
    if replaced.is_empty() {
        return;
    }
    diagnostics.retain(|d| {
        !replaced
            .iter()
            .any(|(string, _)| string.contains(&d.at.offset))
    });
    diagnostics.extend(replaced.into_iter().map(|(_, d)| d));
    diagnostics.sort_by_key(|d| d.at.offset);
}

/// If a quoted string opens at `start` and holds an escape KDL does not know: the string's
/// byte range, and the escape's offset and length.
fn bad_escape(text: &str, start: usize) -> Option<(std::ops::Range<usize>, usize, usize)> {
    let rest = text.get(start..)?;
    if !rest.starts_with('"') || rest.starts_with("\"\"\"") {
        return None;
    }
    let mut chars = rest.char_indices().skip(1);
    let mut first_bad = None;
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return first_bad.map(|(at, len)| (start..start + i + 1, at, len)),
            '\n' => return None,
            '\\' => {
                let (_, next) = chars.next()?;
                let known = matches!(next, 'n' | 'r' | 't' | '\\' | '"' | 'b' | 'f' | 's' | 'u')
                    || next.is_whitespace();
                if !known && first_bad.is_none() {
                    first_bad = Some((start + i, 1 + next.len_utf8()));
                }
            }
            _ => {}
        }
    }
    None
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
/// Why a file is refused before parsing.
enum Refusal {
    TooDeep { depth: usize, offset: usize },
    TooManyValues { offset: usize },
}

/// One pass over the text that refuses what would exhaust the parser: blocks nested deeper
/// than [`MAX_DEPTH`], or more than [`MAX_VALUES`] values. A value is counted at each
/// whitespace-separated word or string outside comments, an over-estimate that is never
/// below the parser's count.
fn prescan(text: &str) -> Option<Refusal> {
    prescan_with(text, MAX_VALUES)
}

fn prescan_with(text: &str, max_values: usize) -> Option<Refusal> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut values = 0usize;
    let mut in_word = false;
    let mut i = 0usize;
    while i < bytes.len() {
        let byte = bytes[i];
        let separator = byte.is_ascii_whitespace() || matches!(byte, b'{' | b'}' | b';');
        let comment = byte == b'/' && matches!(bytes.get(i + 1), Some(b'/' | b'*'));
        let starts_word = !(in_word || separator || comment);
        if starts_word {
            values += 1;
            if values > max_values {
                return Some(Refusal::TooManyValues { offset: i });
            }
        }
        in_word = true;
        match byte {
            b'{' => {
                in_word = false;
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(Refusal::TooDeep { depth, offset: i });
                }
            }
            b'}' => {
                in_word = false;
                depth = depth.saturating_sub(1);
            }
            b';' => in_word = false,
            b if b.is_ascii_whitespace() => in_word = false,
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
                in_word = false;
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
                in_word = false;
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
        assert!(prescan(&text).is_none());
    }

    #[test]
    fn values_are_counted_outside_strings_and_comments() {
        // A node, two arguments, a property, a keyword and a raw string; words in strings and
        // comments are not values.
        let text = "node \"a b c\" 1 k=\"v w\" #true #\"r s\"# // c d\n/* e f */{ }\nx;y";
        assert!(prescan_with(text, 8).is_none());
        assert!(matches!(
            prescan_with(text, 7),
            Some(Refusal::TooManyValues { offset }) if &text[offset..] == "y"
        ));
    }

    #[test]
    fn millions_of_bare_arguments_are_refused_before_parsing() {
        let text = format!(
            "policy \"p\" {{\n  applies-to{}\n}}\n",
            " 1".repeat(2_000_000)
        );
        let errors = parse_kdl(FileId(0), &text).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].kind.code(), "too-many-values");
        // The value past the limit: after `policy`, `"p"`, `applies-to` and MAX_VALUES - 3
        // arguments.
        assert_eq!(errors[0].at.offset, 26 + 2 * (MAX_VALUES - 3));
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

    #[test]
    fn an_unknown_escape_is_one_error_at_the_escape() {
        let text = "policy \"p\" {\n    description \"pilot \\q ring\"\n}\n";
        let errors = parse_kdl(FileId(0), text).unwrap_err();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(&text[errors[0].at.offset..][..2], "\\q");
        assert!(errors[0].to_string().contains("invalid escape"));
        // Known escapes, whitespace escapes and raw strings are left to the parser.
        assert_eq!(bad_escape("\"a \\n \\u{41} \\\n b\"", 0), None);
        assert_eq!(bad_escape("#\"\\q\"#", 0), None);
    }
}
