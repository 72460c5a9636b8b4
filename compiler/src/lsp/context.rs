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
    let mut scan = Scan::default();
    let mut chars = text[..offset].chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                scan.finish_word();
                let (content, closed) = read_string(&mut chars);
                if !closed {
                    scan.cx.partial = content;
                    scan.cx.in_string = true;
                    return scan.cx;
                }
                scan.cx.tokens.push(Token {
                    text: content,
                    quoted: true,
                });
            }
            '/' if chars.peek() == Some(&'/') => {
                scan.finish_word();
                // A comment to the end of the line ends the statement with the line.
                if chars.by_ref().any(|s| s == '\n') {
                    scan.cx.tokens.clear();
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                scan.finish_word();
                chars.next();
                skip_block_comment(&mut chars);
            }
            '/' if chars.peek() == Some(&'-') => {
                scan.finish_word();
                chars.next();
            }
            '{' => {
                scan.finish_word();
                let name = scan.cx.head().unwrap_or_default().to_string();
                scan.cx.parents.push(name);
                scan.cx.tokens.clear();
            }
            '}' => {
                scan.finish_word();
                scan.cx.parents.pop();
                scan.cx.tokens.clear();
            }
            ';' | '\n' => {
                scan.finish_word();
                scan.cx.tokens.clear();
            }
            c if c.is_whitespace() || c == '\u{feff}' => scan.finish_word(),
            c => scan.word.get_or_insert_with(String::new).push(c),
        }
    }
    scan.cx.partial = scan.word.unwrap_or_default();
    scan.cx
}

/// The context so far, and the bare word being read.
#[derive(Default)]
struct Scan {
    cx: Context,
    word: Option<String>,
}

impl Scan {
    /// Ends the bare word being read, if any, as a token of the statement.
    fn finish_word(&mut self) {
        if let Some(word) = self.word.take() {
            self.cx.tokens.push(Token {
                text: word,
                quoted: false,
            });
        }
    }
}

/// The rest of a string after its opening quote, unescaped, and whether its closing quote
/// came before the text ended.
fn read_string(chars: &mut impl Iterator<Item = char>) -> (String, bool) {
    let mut content = String::new();
    while let Some(s) = chars.next() {
        match s {
            '\\' => {
                if let Some(escaped) = chars.next() {
                    content.push(escaped);
                }
            }
            '"' => return (content, true),
            other => content.push(other),
        }
    }
    (content, false)
}

/// Skips a block comment after its opening `/*`, through its `*/` or to the end of the text.
fn skip_block_comment(chars: &mut impl Iterator<Item = char>) {
    let mut last = ' ';
    for s in chars {
        if last == '*' && s == '/' {
            break;
        }
        last = s;
    }
}

/// A statement of the whole buffer, read as leniently as [`context_at`] reads the text before
/// the cursor: its tokens, the statements of its block, and its byte range. Completion uses it
/// for what is written around the cursor, also after it (the `platforms` of a policy, the
/// `version` of an `enforce`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Statement {
    pub(crate) tokens: Vec<Token>,
    pub(crate) children: Vec<Statement>,
    pub(crate) start: usize,
    /// Where its terminator is (end of line, `;`), or just after its block's `}`.
    pub(crate) end: usize,
}

impl Statement {
    /// The node name.
    pub(crate) fn name(&self) -> Option<&str> {
        self.tokens.first().map(|t| t.text.as_str())
    }

    /// The value of property `key` (`key="v"` or `key=v`).
    pub(crate) fn property(&self, key: &str) -> Option<&str> {
        let mut tokens = self.tokens.iter().skip(1);
        while let Some(token) = tokens.next() {
            if token.quoted {
                continue;
            }
            if let Some((k, v)) = token.text.split_once('=')
                && k == key
            {
                if !v.is_empty() {
                    return Some(v);
                }
                return tokens.next().filter(|t| t.quoted).map(|t| t.text.as_str());
            }
        }
        None
    }

    /// The arguments: the values after the name that are not properties.
    pub(crate) fn arguments(&self) -> Vec<&str> {
        let mut out = Vec::new();
        let mut tokens = self.tokens.iter().skip(1);
        while let Some(token) = tokens.next() {
            match token.text.split_once('=') {
                Some((_, "")) if !token.quoted => {
                    tokens.next();
                }
                Some(_) if !token.quoted => {}
                _ => out.push(token.text.as_str()),
            }
        }
        out
    }

    /// The value of `key` whether written as a property or as a child node (`key "v"`).
    pub(crate) fn value(&self, key: &str) -> Option<&str> {
        self.property(key).or_else(|| {
            self.children
                .iter()
                .find(|c| c.name() == Some(key))
                .and_then(|c| c.arguments().first().copied())
        })
    }
}

/// Builds the statement tree of a buffer.
#[derive(Default)]
struct Outliner {
    /// The open blocks, the document itself first.
    open: Vec<Statement>,
    current: Option<Statement>,
    word: Option<(usize, String)>,
}

impl Outliner {
    fn token(&mut self, start: usize, text: String, quoted: bool) {
        self.current
            .get_or_insert_with(|| Statement {
                start,
                ..Statement::default()
            })
            .tokens
            .push(Token { text, quoted });
    }

    fn finish_word(&mut self) {
        if let Some((start, word)) = self.word.take() {
            self.token(start, word, false);
        }
    }

    fn end_statement(&mut self, end: usize) {
        self.finish_word();
        if let Some(mut statement) = self.current.take() {
            statement.end = end;
            if let Some(block) = self.open.last_mut() {
                block.children.push(statement);
            }
        }
    }

    fn open_block(&mut self, at: usize) {
        self.finish_word();
        let statement = self.current.take().unwrap_or(Statement {
            start: at,
            ..Statement::default()
        });
        self.open.push(statement);
    }

    fn close_block(&mut self, end: usize) {
        self.end_statement(end);
        if self.open.len() > 1
            && let Some(mut block) = self.open.pop()
        {
            block.end = end;
            if let Some(parent) = self.open.last_mut() {
                parent.children.push(block);
            }
        }
    }
}

/// The statements of `text`. Never fails: unclosed blocks end with the text, and a string
/// left open ends with its line (it is the one being typed).
pub(crate) fn outline(text: &str) -> Vec<Statement> {
    let mut o = Outliner {
        open: vec![Statement::default()],
        ..Outliner::default()
    };
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => {
                o.finish_word();
                if text[i..].starts_with("\"\"\"") {
                    let body = i + 3;
                    let close = text[body..].find("\"\"\"").map_or(text.len(), |e| body + e);
                    let after = (close + 3).min(text.len());
                    while chars.next_if(|&(j, _)| j < after).is_some() {}
                    o.token(i, text[body..close].to_string(), true);
                    continue;
                }
                let mut content = String::new();
                while let Some((_, s)) = chars.next_if(|&(_, s)| s != '\n') {
                    match s {
                        '\\' => {
                            if let Some((_, escaped)) = chars.next_if(|&(_, s)| s != '\n') {
                                content.push(escaped);
                            }
                        }
                        '"' => break,
                        other => content.push(other),
                    }
                }
                o.token(i, content, true);
            }
            '/' if matches!(chars.peek(), Some((_, '/'))) => {
                o.finish_word();
                while chars.next_if(|&(_, s)| s != '\n').is_some() {}
            }
            '/' if matches!(chars.peek(), Some((_, '*'))) => {
                o.finish_word();
                chars.next();
                let mut last = ' ';
                for (_, s) in chars.by_ref() {
                    if last == '*' && s == '/' {
                        break;
                    }
                    last = s;
                }
            }
            '/' if matches!(chars.peek(), Some((_, '-'))) => {
                o.finish_word();
                chars.next();
            }
            '{' => o.open_block(i),
            '}' => o.close_block(i + 1),
            ';' | '\n' => o.end_statement(i),
            c if c.is_whitespace() || c == '\u{feff}' => o.finish_word(),
            c => o.word.get_or_insert_with(|| (i, String::new())).1.push(c),
        }
    }
    o.end_statement(text.len());
    while o.open.len() > 1 {
        o.close_block(text.len());
    }
    o.open
        .pop()
        .map(|document| document.children)
        .unwrap_or_default()
}

/// The statements around byte `offset`, outermost first: for `policy "p" { enforce { version
/// "|" } }`, the policy, its `enforce` and the `version`.
pub(crate) fn enclosing(statements: &[Statement], offset: usize) -> Vec<&Statement> {
    let mut chain = Vec::new();
    let mut level = statements;
    while let Some(statement) = level.iter().find(|s| s.start <= offset && offset <= s.end) {
        chain.push(statement);
        level = &statement.children;
    }
    chain
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
    fn the_outline_reads_past_the_cursor() {
        let text = "policy \"p\" {\n    enforce version=\"26.3\" build=\"25|\n    \
                    platforms \"macOS\" \"iOS\" // {\n    /* } */ enforce platform=\"iOS\" {\n        \
                    version \"1.2\"; build \"\"\"x\"\"\"\n    }\n";
        let offset = text.find('|').unwrap();
        let text = text.replace('|', "");
        let statements = outline(&text);
        assert_eq!(statements.len(), 1);
        let policy = &statements[0];
        assert_eq!(policy.name(), Some("policy"));
        assert_eq!(policy.arguments(), ["p"]);
        let [first, platforms, second] = &policy.children[..] else {
            panic!("{:?}", policy.children);
        };
        assert_eq!(first.property("version"), Some("26.3"));
        assert_eq!(first.property("build"), Some("25"));
        assert_eq!(platforms.arguments(), ["macOS", "iOS"]);
        assert_eq!(second.value("platform"), Some("iOS"));
        assert_eq!(second.value("version"), Some("1.2"));
        assert_eq!(second.value("build"), Some("x"));
        let chain = enclosing(&statements, offset);
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[1], first);
        for text in ["}}}{", "\"", "\"\"\"", "/*", "é😀{\"\\", ""] {
            let _ = outline(text);
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
