//! What each diagnostic code means in general, for the rules of machine formats (SARIF).
//!
//! A result says what is wrong at one place; a rule says what its code is about, whatever the
//! instance. The words come from `docs/diagnostics.md`, which describes every code once (a
//! test keeps it complete), so the rule texts and the docs cannot drift apart: a
//! `### bsic::CODE` section gives its first paragraph and its `Fix:` line, a table row
//! `| bsic::CODE | trigger | fix |` its trigger and fix.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The diagnostics reference, embedded at build time (the crate's copy,
/// `compiler/data/diagnostics.md`).
const REFERENCE: &str = include_str!("../../../data/diagnostics.md");

/// What the reference says of one code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RuleText {
    /// What the code is about: the section's first paragraph or the row's trigger.
    pub(crate) description: String,
    /// How to fix it, when the reference says.
    pub(crate) fix: Option<String>,
}

impl RuleText {
    /// The first sentence of the description.
    pub(crate) fn short(&self) -> &str {
        match self.description.find(". ") {
            Some(end) => &self.description[..=end],
            None => &self.description,
        }
    }
}

/// The reference's text for `code` (`bsic::…`), if it documents it.
pub(crate) fn rule_text(code: &str) -> Option<&'static RuleText> {
    static RULES: OnceLock<BTreeMap<String, RuleText>> = OnceLock::new();
    RULES.get_or_init(|| parse(REFERENCE)).get(code)
}

fn parse(reference: &str) -> BTreeMap<String, RuleText> {
    let mut rules = BTreeMap::new();
    let lines: Vec<&str> = reference.lines().collect();
    for (index, line) in lines.iter().enumerate() {
        if let Some(rest) = line.strip_prefix("### ") {
            if let Some(text) = section(&lines[index + 1..]) {
                for code in codes_in(rest) {
                    rules.insert(code.to_string(), text.clone());
                }
            }
        } else if let Some((code, text)) = table_row(line) {
            rules.entry(code).or_insert(text);
        } else if let Some((code, text)) = definition(&lines[index..]) {
            rules.entry(code).or_insert(text);
        }
    }
    rules
}

/// The `bsic::…` codes written in backticks in `text`.
fn codes_in(text: &str) -> Vec<&str> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|code| code.starts_with("bsic::"))
        .collect()
}

/// A paragraph line `\`bsic::code\`: what it is`, continued up to a blank line or the next
/// such line.
fn definition(lines: &[&str]) -> Option<(String, RuleText)> {
    let (head, rest) = lines.first()?.split_once("`: ")?;
    let code = head.strip_prefix("`bsic::")?;
    let mut description = rest.to_string();
    for line in &lines[1..] {
        if line.trim().is_empty() || line.starts_with('`') {
            break;
        }
        description.push(' ');
        description.push_str(line.trim());
    }
    Some((
        format!("bsic::{code}"),
        RuleText {
            description,
            fix: None,
        },
    ))
}

/// The first paragraph and the `Fix:` line of a section, up to the next heading.
fn section(lines: &[&str]) -> Option<RuleText> {
    let body: Vec<&str> = lines
        .iter()
        .copied()
        .take_while(|line| !line.starts_with('#'))
        .collect();
    let paragraph: Vec<&str> = body
        .iter()
        .copied()
        .skip_while(|line| line.trim().is_empty())
        .take_while(|line| !line.trim().is_empty() && !line.starts_with("```"))
        .collect();
    if paragraph.is_empty() {
        return None;
    }
    let mut description = paragraph.join(" ");
    // A leading severity label (`**Error.**`, `**Fatal** (exit 2).`) is not the meaning.
    if let Some(rest) = description.strip_prefix("**")
        && let Some((_, after)) = rest.split_once("**")
    {
        let after = after.trim_start();
        let after = match after.strip_prefix('(') {
            Some(paren) => paren.split_once(')').map_or(after, |(_, tail)| tail),
            None => after,
        };
        description = after.trim_start_matches('.').trim_start().to_string();
    }
    let fix = body
        .iter()
        .position(|line| line.starts_with("Fix: "))
        .map(|start| {
            body[start..]
                .iter()
                .take_while(|line| !line.trim().is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ")
                .trim_start_matches("Fix: ")
                .to_string()
        });
    Some(RuleText { description, fix })
}

/// `| \`bsic::code\` | trigger | fix |` → the code and its texts.
fn table_row(line: &str) -> Option<(String, RuleText)> {
    let rest = line.strip_prefix("| `bsic::")?;
    let cells: Vec<&str> = split_cells(rest);
    let code = format!("bsic::{}", cells.first()?.trim().strip_suffix('`')?);
    let text = |i: usize| cells.get(i).map(|c| c.trim().replace("\\|", "|"));
    // Rows are `code | trigger | fix` or `code | severity | trigger | fix`.
    let (description, fix) = match cells.len() {
        n if n >= 4 && matches!(cells[1].trim(), "error" | "warning") => (text(2)?, text(3)),
        _ => (text(1)?, text(2)),
    };
    Some((
        code,
        RuleText {
            description,
            fix: fix.filter(|f| !f.is_empty()),
        },
    ))
}

/// The cells of a Markdown table row (without its leading `|`), keeping `\|` inside a cell.
fn split_cells(row: &str) -> Vec<&str> {
    let mut cells = Vec::new();
    let mut start = 0;
    let bytes = row.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'|' && (i == 0 || bytes[i - 1] != b'\\') {
            cells.push(&row[start..i]);
            start = i + 1;
        }
    }
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_and_table_rows_give_rule_texts() {
        let unknown = rule_text("bsic::unknown-node").expect("documented");
        assert!(!unknown.description.starts_with("**"), "{unknown:?}");
        assert!(!unknown.description.is_empty());
        let wrong_password = rule_text("bsic::sign::wrong-password").expect("a table row");
        assert!(wrong_password.description.contains("PKCS#12"));
        assert!(wrong_password.fix.is_some());
        assert_eq!(
            RuleText {
                description: "One. Two.".into(),
                fix: None
            }
            .short(),
            "One."
        );
    }

    /// Every code a located diagnostic can carry, and every code the reference lists, gets a
    /// rule text.
    #[test]
    fn every_listed_code_has_a_rule_text() {
        let list = REFERENCE
            .split("```codes")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the reference lists every code");
        let listed = list
            .lines()
            .map(str::trim)
            .filter(|code| code.starts_with("bsic::") && !code.contains('*'))
            .map(String::from);
        let missing: Vec<String> = crate::diag::all_codes()
            .map(|code| format!("bsic::{code}"))
            .chain(listed)
            .filter(|code| rule_text(code).is_none())
            .collect();
        assert!(missing.is_empty(), "no rule text for {missing:?}");
    }
}
