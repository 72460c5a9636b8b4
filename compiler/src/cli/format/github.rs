//! GitHub Actions workflow commands: one `::error`/`::warning` line per diagnostic, which
//! GitHub shows as an annotation on the pull request's diff.

use std::fmt::Write as _;
use std::io::{self, Write as _};

use crate::diag::{Diagnostic, Severity};
use crate::source::Sources;

use super::{Region, repo_path};

/// Escapes a command's message (data) part.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command property's value: data escapes plus `:` and `,`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

/// Writes one workflow command per diagnostic to `out`, each ending in a newline.
pub(crate) fn write_github_commands(
    out: &mut dyn io::Write,
    diagnostics: &[&Diagnostic],
    sources: &Sources,
    repo_prefix: &str,
) -> io::Result<()> {
    let mut out = io::BufWriter::new(out);
    for diagnostic in diagnostics {
        let command = match diagnostic.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let region = Region::of(sources, diagnostic.at);
        let mut message = format!("{} ({})", diagnostic, diagnostic.label);
        if let Some(help) = diagnostic.help() {
            let _ = write!(message, "\nhelp: {help}");
        }
        for related in &diagnostic.related {
            let _ = write!(
                message,
                "\nsee {}: {}",
                sources.locate(related.at),
                related.label
            );
        }
        writeln!(
            out,
            "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            escape_property(&repo_path(sources, diagnostic.at, repo_prefix)),
            region.start_line,
            region.start_column,
            region.end_line,
            region.end_column,
            escape_property(&diagnostic.code()),
            escape_data(&message),
        )?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Span;
    use crate::validate::diags::ValidateKind;

    #[test]
    fn escapes_and_locates() {
        let mut sources = Sources::default();
        let file = sources.add(
            "policies/a.kdl".into(),
            "a.kdl".into(),
            "policy \"x\" {\n    frob 1\n}\n".into(),
        );
        let diagnostic = Diagnostic::error(
            ValidateKind::UnknownNode {
                name: "frob".into(),
                expected: vec![],
                suggestion: Some("from".into()),
            },
            Span {
                file,
                offset: 17,
                len: 4,
            },
            "not known, here",
        );
        let mut out = Vec::new();
        write_github_commands(&mut out, &[&diagnostic], &sources, "").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "::error file=policies/a.kdl,line=2,col=5,endLine=2,endColumn=9,\
             title=bsic%3A%3Aunknown-node::unknown node `frob` (not known, here)%0A\
             help: did you mean `from`?\n"
        );
    }
}
