//! Rendering a [`Status`]: a human summary, JSON, CSV (one row per device) and one
//! self-contained HTML page (inline CSS and SVG; no scripts, no network).
//!
//! In: a finished [`Status`]. Out: text. Deterministic: the same status renders to the same
//! bytes; nothing here reads the clock or the filesystem.

use std::fmt::Write as _;

use super::{State, Status};

/// Device-reported text (serials, reasons, versions) made safe for a terminal, on one line:
/// control characters and bidirectional overrides are shown as `\u{1b}` escapes instead of
/// being sent to the terminal ([`crate::diag::printable_line`]).
pub fn neutralise(text: &str) -> std::borrow::Cow<'_, str> {
    crate::diag::printable_line(text)
}

/// A CSV cell a spreadsheet will not run: per OWASP's CSV-injection guidance, a cell starting
/// with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, which spreadsheets show
/// as text. No column of the status CSV is numeric (versions, builds and dates are text), so
/// nothing legitimate loses its meaning; a negative number would read `'-1`.
pub fn csv_cell(text: String) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text
    }
}

/// Devices worst first (failed, overdue, pending, unknown, compliant), then by serial.
fn worst_first(status: &Status) -> Vec<&super::DeviceVerdict> {
    let mut devices: Vec<_> = status.devices.iter().collect();
    devices.sort_by(|a, b| a.state.cmp(&b.state).then_with(|| a.serial.cmp(&b.serial)));
    devices
}

/// `1,204`: a count with thousands separators, as the report and the headline print counts.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `300 pending, 12 failed`: the non-zero counts of the states other than compliant.
pub fn not_there(counts: &super::summary::Counts) -> String {
    let parts: Vec<String> = State::ALL
        .iter()
        .filter(|s| **s != State::Compliant)
        .filter(|s| counts.count(**s) > 0)
        .map(|s| format!("{} {}", thousands(counts.count(*s)), s.name()))
        .collect();
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// The headline: the fleet's figure, each enforced target's, and the reasons counted.
fn headline(status: &Status, out: &mut String) {
    let s = &status.summary;
    let _ = writeln!(
        out,
        "status at {}: {:.1}% of {} devices compliant ({} compliant; not yet: {})",
        status.now,
        s.fleet.percent,
        thousands(s.fleet.total),
        thousands(s.fleet.compliant),
        not_there(&s.fleet)
    );
    for t in &s.targets {
        let build = match &t.build {
            Some(b) if !t.label.contains(b.as_str()) => format!(", build {b}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}{build} by {} ({}): {:.1}% of {} reached it (not yet: {}); policy `{}`, groups {}",
            t.label,
            t.deadline,
            t.time_left,
            t.counts.percent,
            thousands(t.counts.total),
            not_there(&t.counts),
            neutralise(&t.policy),
            neutralise(&t.groups.join(", "))
        );
    }
    if !s.reasons.is_empty() {
        let _ = writeln!(out, "\nwhy devices are not there:");
        for r in &s.reasons {
            let _ = writeln!(
                out,
                "  {:<8} {} ×{}",
                r.state.name(),
                neutralise(&r.reason),
                thousands(r.devices)
            );
        }
    }
    if let Some(changes) = status.history.as_ref().and_then(|h| h.changes.as_ref()) {
        let _ = writeln!(
            out,
            "\nsince {}: {} newly failed, {} newly compliant",
            changes.since,
            thousands(changes.newly_failed),
            thousands(changes.newly_compliant)
        );
    }
}

/// The human summary: the headline, then per group and per policy, then the worst devices
/// and declarations.
pub fn human(status: &Status, limit: usize) -> String {
    let mut out = String::new();
    headline(status, &mut out);
    group_table(status, &mut out);
    policy_lines(status, &mut out);
    worst_devices(status, limit, &mut out);
    declaration_lines(status, &mut out);
    out
}

/// One aligned row of counts per group.
fn group_table(status: &Status, out: &mut String) {
    let width = status
        .groups
        .iter()
        .map(|g| g.group.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let _ = writeln!(
        out,
        "\n{:<width$}  {:>5}  {:>9}  {:>7}  {:>6}  {:>7}  {:>7}  {:>7}",
        "group", "total", "compliant", "pending", "failed", "overdue", "unknown", "percent"
    );
    for g in &status.groups {
        let _ = writeln!(
            out,
            "{:<width$}  {:>5}  {:>9}  {:>7}  {:>6}  {:>7}  {:>7}  {:>6.1}%",
            neutralise(&g.group),
            g.counts.total,
            g.counts.compliant,
            g.counts.pending,
            g.counts.failed,
            g.counts.overdue,
            g.counts.unknown,
            g.counts.percent
        );
    }
}

/// Per policy, how many of its targeted devices are in each state.
fn policy_lines(status: &Status, out: &mut String) {
    let mut policies: std::collections::BTreeMap<&str, [usize; 5]> = Default::default();
    for d in &status.devices {
        if let Some(t) = &d.target {
            let counts = policies.entry(&t.policy).or_default();
            counts[State::ALL.iter().position(|s| *s == d.state).unwrap_or(4)] += 1;
        }
    }
    if policies.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nby policy:");
    for (policy, counts) in &policies {
        let all: usize = counts.iter().sum();
        let parts: Vec<String> = State::ALL
            .iter()
            .zip(counts)
            .filter(|(_, n)| **n > 0)
            .map(|(s, n)| format!("{n} {}", s.name()))
            .collect();
        let _ = writeln!(
            out,
            "  {}: {} of {all} compliant ({})",
            neutralise(policy),
            counts[0],
            parts.join(", ")
        );
    }
}

/// The first `limit` devices that are not compliant (or whose declarations have problems),
/// worst first.
fn worst_devices(status: &Status, limit: usize, out: &mut String) {
    let bad: Vec<_> = worst_first(status)
        .into_iter()
        .filter(|d| d.state != State::Compliant || !d.declarations.is_empty())
        .collect();
    if bad.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nworst devices first:");
    for d in bad.iter().take(limit) {
        let groups = if d.groups.is_empty() {
            super::UNASSIGNED.to_string()
        } else {
            d.groups.join(";")
        };
        let _ = writeln!(
            out,
            "  {:<14} {:<9} {:<16} {}",
            neutralise(&d.serial),
            d.state.name(),
            neutralise(&groups),
            neutralise(&d.reasons.join("; "))
        );
        for problem in &d.declarations {
            let _ = writeln!(
                out,
                "  {:<14} {:<9} {:<16} {}",
                "",
                "",
                "",
                neutralise(problem)
            );
        }
    }
    if bad.len() > limit {
        let _ = writeln!(
            out,
            "  … and {} more (--format json or csv lists every device)",
            bad.len() - limit
        );
    }
}

/// Per declaration, how the devices that report it hold it.
fn declaration_lines(status: &Status, out: &mut String) {
    if status.declarations.is_empty() {
        return;
    }
    let _ = writeln!(out, "\ndeclarations:");
    for d in &status.declarations {
        let _ = writeln!(
            out,
            "  {} ({}): {} {}, {} active, {} inactive, {} valid, {} invalid, {} missing, {} stale",
            neutralise(&d.identifier),
            neutralise(&d.group),
            d.devices,
            if d.devices == 1 { "device" } else { "devices" },
            d.active,
            d.inactive,
            d.valid,
            d.invalid,
            d.missing,
            d.stale
        );
        if d.unverified > 0 {
            // Shown only when there are some: most MDMs keep bsic's tokens.
            let _ = writeln!(
                out,
                "      {} with a server token that could not be checked (no server token map)",
                d.unverified
            );
        }
        for r in &d.reasons {
            let _ = writeln!(out, "      {}", neutralise(r));
        }
    }
}

/// Pretty JSON with a trailing newline, streamed to `out`.
pub fn json(status: &Status, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, status)?;
    out.write_all(b"\n")
}

/// One row per device, for spreadsheets, streamed to `out`.
pub fn csv(status: &Status, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record([
        "serial",
        "groups",
        "platform",
        "state",
        "version",
        "build",
        "supplemental_build",
        "target_version",
        "target_build",
        "deadline",
        "reasons",
        "declarations",
    ])?;
    for d in &status.devices {
        let os = d.os.as_ref();
        let field = |f: Option<&Option<std::rc::Rc<str>>>| {
            f.and_then(|v| v.as_deref()).unwrap_or_default().to_string()
        };
        writer.write_record(
            [
                d.serial.clone(),
                d.groups.join(";"),
                d.platform.map(|p| p.name().to_string()).unwrap_or_default(),
                d.state.name().to_string(),
                field(os.map(|o| &o.version)),
                field(os.map(|o| &o.build)),
                field(os.map(|o| &o.supplemental_build)),
                d.target
                    .as_ref()
                    .map(|t| t.version.clone())
                    .unwrap_or_default(),
                d.target
                    .as_ref()
                    .and_then(|t| t.build.clone())
                    .unwrap_or_default(),
                d.target
                    .as_ref()
                    .map(|t| t.deadline.clone())
                    .unwrap_or_default(),
                d.reasons.join("; "),
                d.declarations.join("; "),
            ]
            .map(csv_cell),
        )?;
    }
    writer.flush()
}

/// HTML-escaped text, with control characters shown as escapes like in the human form and
/// backticks as `&#96;` (text meant to show code goes through [`super::html`]'s `code`).
pub fn escape(text: &str) -> String {
    let text = neutralise(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '`' => out.push_str("&#96;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_control_characters_are_shown_not_sent() {
        assert_eq!(neutralise("C02ABC"), "C02ABC");
        assert_eq!(neutralise("Mac\u{e9}"), "Mac\u{e9}");
        assert_eq!(
            neutralise("\u{1b}]0;pwned\u{7}x\u{9b}2J\u{202e}"),
            "\\u{1b}]0;pwned\\u{7}x\\u{9b}2J\\u{202e}"
        );
        assert_eq!(neutralise("a\nb\tc\u{7f}"), "a\\u{a}b\\u{9}c\\u{7f}");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        for live in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+1",
            "-1+2",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            let cell = csv_cell(live.to_string());
            assert_eq!(cell, format!("'{live}"));
        }
        assert_eq!(csv_cell("C02ABC".into()), "C02ABC");
        assert_eq!(csv_cell(String::new()), "");
        assert_eq!(csv_cell("26.3.1".into()), "26.3.1");
    }

    #[test]
    fn html_escapes_text() {
        assert_eq!(
            escape("<a href=\"x\">&`"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#96;"
        );
    }

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1204), "1,204");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }
}
