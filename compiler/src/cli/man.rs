//! `bsic man [COMMAND…]`: the manual pages (roff) clap_mangen renders from the argument
//! definitions, so they never drift from `--help`. bsic(1) also gets the EXIT STATUS,
//! ENVIRONMENT and EXAMPLES sections clap knows nothing of; each command's page, e.g.
//! bsic-check(1), points back to it.

use std::io::Write;
use std::process::ExitCode;

use super::{Cli, USAGE_ERROR};

/// Sections of bsic(1) after the generated ones (before VERSION). Kept in step with the exit
/// code constants of `cli/mod.rs` and `cli/plan.rs` and with the variables bsic reads
/// (`clock.rs`, `cli/report.rs`, `cli/signing.rs`); the upload scripts' variables are in
/// docs/targets.md, not here.
const MAIN_SECTIONS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
Success: no error (warnings do not count).
.TP
\fB1\fR
Policy errors, a failed verification or policy test, files needing formatting
(\fBfmt \-\-check\fR), or a fleet below \fB\-\-fail\-under\fR.
.TP
\fB2\fR
Usage or I/O errors: an unknown option or command, an unreadable or missing input, no
bsic.kdl.
.TP
\fB3\fR
An internal error (a bug in bsic; please report it).
.PP
\fBbsic plan\fR differs, like \fBterraform plan \-detailed\-exitcode\fR: 0 no change,
2 changes, 1 error.
.SH ENVIRONMENT
.TP
\fBSOURCE_DATE_EPOCH\fR
Seconds since 1970 used as the signing time and certificate validity start instead of the
clock, so builds are reproducible.
.TP
\fBNO_COLOR\fR
Set to anything but the empty string: no colour on stderr with \fB\-\-color auto\fR.
.TP
\fBTERM\fR
\fBdumb\fR turns colour off with \fB\-\-color auto\fR.
.TP
\fIthe variable named by\fR \fB\-\-p12\-password\-env\fR
The password of the signing identity's PKCS#12 file.
.SH EXAMPLES
.TP
\fBbsic init fleet && cd fleet\fR
Create a policy repository.
.TP
\fBbsic check \-\-format github\fR
Check the policies in CI, with annotations on the changed lines.
.TP
\fBbsic build \-\-target jamf \-\-out dist\fR
Write the declarations and profiles, and the layout Jamf Pro imports.
.TP
\fBbsic plan \-\-against origin/main \-\-format json\fR
What merging a branch would change.
.TP
\fBbsic man check | man \-l \-\fR
Read the page of one command.
"#;

/// What every command's page ends with.
const SEE_ALSO: &str = ".SH \"SEE ALSO\"\nbsic(1)\n";

/// Prints bsic(1), or the page of the command `path` names (`["keys", "new"]` is
/// bsic-keys-new(1)). An unknown name is a usage error naming the closest one.
pub(super) fn print(path: &[String]) -> ExitCode {
    let mut command = Cli::command().disable_help_subcommand(true);
    command.build();
    // Built, each command has its page name (`bsic-check`) as display name.
    for word in path {
        let Some(sub) = command.find_subcommand(word).cloned() else {
            return unknown(&command, word);
        };
        command = sub;
    }
    let extra = if path.is_empty() {
        MAIN_SECTIONS
    } else {
        SEE_ALSO
    };
    let mut page = Vec::new();
    let _ = clap_mangen::Man::new(command)
        .source(format!("bsic {}", super::version::LONG))
        .render(&mut page);
    let page = insert_before_version(&String::from_utf8_lossy(&page), extra);
    let _ = std::io::stdout().lock().write_all(page.as_bytes());
    ExitCode::SUCCESS
}

/// Puts `sections` before the VERSION section (where man pages have them), or at the end.
fn insert_before_version(page: &str, sections: &str) -> String {
    let at = page.find("\n.SH VERSION").map_or(page.len(), |at| at + 1);
    format!("{}{sections}{}", &page[..at], &page[at..])
}

/// `bsic man NOSUCH`: a usage error (exit 2) with the closest command name and the list.
fn unknown(parent: &clap::Command, word: &str) -> ExitCode {
    let parent_name = parent.get_bin_name().unwrap_or_else(|| parent.get_name());
    let names: Vec<&str> = parent
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(clap::Command::get_name)
        .collect();
    let closest = names
        .iter()
        .map(|name| (strsim::jaro(word, name), *name))
        .filter(|(likeness, _)| *likeness > 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(String::new(), |(_, name)| {
            format!("\n\n  tip: a similar command exists: '{name}'")
        });
    let message = if names.is_empty() {
        format!("`{parent_name}` has no commands, so no page for '{word}'")
    } else {
        format!(
            "no man page for '{word}': `{parent_name}` has no such command{closest}\n\n  \
             commands: {}",
            names.join(", ")
        )
    };
    let error = Cli::command()
        .find_subcommand_mut("man")
        .map_or_else(Cli::command, |man| man.clone().bin_name("bsic man"))
        .error(clap::error::ErrorKind::InvalidSubcommand, message);
    let _ = error.print();
    ExitCode::from(USAGE_ERROR)
}
