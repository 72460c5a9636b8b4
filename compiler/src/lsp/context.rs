//! Where the cursor is in a KDL buffer, read leniently from the text.
//!
//! A half-typed file does not parse, so completion and hover cannot rely on the KDL parser.
//! This scanner walks the text up to the cursor, skipping strings and comments, and keeps the
//! names of the nodes whose blocks enclose the cursor plus the tokens of the current statement.
//! It never fails: any text gives some context.

/// One token of the statement being written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Token {
    /// The text, without quotes for strings.
    pub(crate) text: String,
    pub(crate) quoted: bool,
}

/// The cursor's surroundings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Context {
    /// The names of the enclosing nodes, outermost first (`["policy", "background-security"]`).
    pub(crate) parents: Vec<String>,
    /// The complete tokens of the current statement before the cursor.
    pub(crate) tokens: Vec<Token>,
    /// The token under construction at the cursor (string contents when `in_string`).
    pub(crate) partial: String,
    pub(crate) in_string: bool,
}

impl Context {
    /// The node name of the current statement, once it is complete.
    pub(crate) fn head(&self) -> Option<&str> {
        self.tokens.first().map(|t| t.text.as_str())
    }
}

/// The context at byte `offset` of `text`.
pub(crate) fn context_at(text: &str, offset: usize) -> Context {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let text = &text[..offset];
    let mut cx = Context::default();
    let mut chars = text.chars().peekable();
    let mut current: Option<String> = None;

    fn finish(cx: &mut Context, current: &mut Option<String>) {
        if let Some(word) = current.take() {
            cx.tokens.push(Token {
                text: word,
                quoted: false,
            });
        }
    }

    while let Some(c) = chars.next() {
        match c {
            '"' => {
                finish(&mut cx, &mut current);
                let mut content = String::new();
                let mut closed = false;
                while let Some(s) = chars.next() {
                    match s {
                        '\\' => {
                            if let Some(escaped) = chars.next() {
                                content.push(escaped);
                            }
                        }
                        '"' => {
                            closed = true;
                            break;
                        }
                        other => content.push(other),
                    }
                }
                if closed {
                    cx.tokens.push(Token {
                        text: content,
                        quoted: true,
                    });
                } else {
                    cx.partial = content;
                    cx.in_string = true;
                    return cx;
                }
            }
            '/' if chars.peek() == Some(&'/') => {
                finish(&mut cx, &mut current);
                for s in chars.by_ref() {
                    if s == '\n' {
                        cx.tokens.clear();
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                finish(&mut cx, &mut current);
                chars.next();
                let mut last = ' ';
                for s in chars.by_ref() {
                    if last == '*' && s == '/' {
                        break;
                    }
                    last = s;
                }
            }
            '/' if chars.peek() == Some(&'-') => {
                finish(&mut cx, &mut current);
                chars.next();
            }
            '{' => {
                finish(&mut cx, &mut current);
                let name = cx.head().unwrap_or_default().to_string();
                cx.parents.push(name);
                cx.tokens.clear();
            }
            '}' => {
                finish(&mut cx, &mut current);
                cx.parents.pop();
                cx.tokens.clear();
            }
            ';' | '\n' => {
                finish(&mut cx, &mut current);
                cx.tokens.clear();
            }
            c if c.is_whitespace() || c == '\u{feff}' => finish(&mut cx, &mut current),
            c => current.get_or_insert_with(String::new).push(c),
        }
    }
    cx.partial = current.unwrap_or_default();
    cx
}

/// The word (node name, property name or string contents) around byte `offset`, as its byte
/// range. Words are made of letters, digits, `-`, `_` and `.`.
pub(crate) fn word_at(text: &str, offset: usize) -> Option<(usize, usize)> {
    let is_word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    (start < end).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at_marker(text: &str) -> Context {
        let offset = text.find('|').unwrap();
        context_at(&text.replace('|', ""), offset)
    }

    #[test]
    fn block_parents_and_statement_tokens() {
        let cx = at_marker("policy \"p\" {\n  background-security {\n    auto|");
        assert_eq!(cx.parents, ["policy", "background-security"]);
        assert!(cx.tokens.is_empty());
        assert_eq!(cx.partial, "auto");

        let cx = at_marker("policy \"p\" {\n  background-security {\n    offer #true\n  }\n  |");
        assert_eq!(cx.parents, ["policy"]);

        let cx = at_marker("policy \"p\" { os-updates { download \"alw|");
        assert_eq!(cx.head(), Some("download"));
        assert!(cx.in_string);
        assert_eq!(cx.partial, "alw");
    }

    #[test]
    fn strings_and_comments_do_not_open_blocks() {
        let cx = at_marker("// policy {\ngroup \"a{\" /* { */ description=\"}\"\n|");
        assert!(cx.parents.is_empty());
        let cx = at_marker("policy \"x\" {\n  applies-to \"a\" |");
        assert_eq!(cx.head(), Some("applies-to"));
        assert_eq!(cx.tokens.len(), 2);
    }

    #[test]
    fn garbage_gives_some_context() {
        for text in ["}}}{", "\"", "/*", "é😀{", ""] {
            for i in 0..=text.len() {
                let _ = context_at(text, i);
                let _ = word_at(text, i);
            }
        }
    }

    #[test]
    fn words_extend_both_ways() {
        let text = "  allow-rollback #true";
        assert_eq!(word_at(text, 5), Some((2, 16)));
        assert_eq!(word_at(text, 16), Some((2, 16)));
        assert_eq!(word_at(text, 1), None);
    }
}
