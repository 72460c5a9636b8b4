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

/// The colour of each state in charts.
fn colour(state: State) -> &'static str {
    match state {
        State::Compliant => "#2e7d32",
        State::Pending => "#1565c0",
        State::Failed => "#c62828",
        State::Overdue => "#ef6c00",
        State::Unknown => "#757575",
    }
}

/// Devices worst first (failed, overdue, pending, unknown, compliant), then by serial.
fn worst_first(status: &Status) -> Vec<&super::DeviceVerdict> {
    let mut devices: Vec<_> = status.devices.iter().collect();
    devices.sort_by(|a, b| a.state.cmp(&b.state).then_with(|| a.serial.cmp(&b.serial)));
    devices
}

/// The human summary: per group and per policy, then the worst devices and declarations.
pub fn human(status: &Status, limit: usize) -> String {
    let mut out = String::new();
    let total = status.devices.len();
    let compliant = status.compliant();
    let _ = writeln!(
        out,
        "status at {}: {total} devices, {compliant} compliant",
        status.now
    );
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
            g.total,
            g.compliant,
            g.pending,
            g.failed,
            g.overdue,
            g.unknown,
            g.percent
        );
    }
    let mut policies: std::collections::BTreeMap<String, [usize; 5]> = Default::default();
    for d in &status.devices {
        if let Some(t) = &d.target {
            let counts = policies.entry(t.policy.clone()).or_default();
            counts[State::ALL.iter().position(|s| *s == d.state).unwrap_or(4)] += 1;
        }
    }
    if !policies.is_empty() {
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
    let bad: Vec<_> = worst_first(status)
        .into_iter()
        .filter(|d| d.state != State::Compliant || !d.declarations.is_empty())
        .collect();
    if !bad.is_empty() {
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
    if !status.declarations.is_empty() {
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
    out
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

/// HTML-escaped text, with control characters shown as escapes like in the human form.
fn escape(text: &str) -> String {
    let text = neutralise(text);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin:0 0 .3em}\
.groups{display:flex;flex-wrap:wrap;gap:1.5em}\
.group{border:1px solid #ddd;border-radius:6px;padding:1em}\
table{border-collapse:collapse;margin-top:1em}\
th,td{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;vertical-align:top}\
.state{font-weight:600}\
.compliant{color:#2e7d32}.pending{color:#1565c0}.failed{color:#c62828}\
.overdue{color:#ef6c00}.unknown{color:#757575}";

/// A bar chart of one group's devices by state.
fn chart(group: &super::GroupSummary) -> String {
    const BAR: usize = 44;
    const GAP: usize = 14;
    const HEIGHT: usize = 120;
    let width = State::ALL.len() * (BAR + GAP) + GAP;
    let max = State::ALL
        .iter()
        .map(|s| group.count(*s))
        .max()
        .unwrap_or(0)
        .max(1);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg width=\"{width}\" height=\"{}\" role=\"img\" \
         aria-label=\"devices in {} by state\">",
        HEIGHT + 40,
        escape(&group.group)
    );
    for (i, state) in State::ALL.iter().enumerate() {
        let n = group.count(*state);
        let h = n * HEIGHT / max;
        let x = GAP + i * (BAR + GAP);
        let y = 15 + HEIGHT - h;
        let _ = write!(
            svg,
            "<rect x=\"{x}\" y=\"{y}\" width=\"{BAR}\" height=\"{h}\" fill=\"{}\"><title>{} {}</title></rect>\
             <text x=\"{}\" y=\"{}\" font-size=\"11\" text-anchor=\"middle\">{n}</text>\
             <text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            colour(*state),
            n,
            state.name(),
            x + BAR / 2,
            y.saturating_sub(3).max(10),
            x + BAR / 2,
            HEIGHT + 32,
            state.name()
        );
    }
    svg.push_str("</svg>");
    svg
}

/// One self-contained page: a chart per group and a table of the devices that are not
/// compliant. No scripts, no external resources.
pub fn html(status: &Status) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        out,
        "<title>bsic status at {}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        escape(&status.now)
    );
    let compliant = status.compliant();
    let _ = writeln!(
        out,
        "<h1>Fleet status at {}</h1>\n<p>{} devices, {compliant} compliant.</p>",
        escape(&status.now),
        status.devices.len()
    );
    out.push_str("<div class=\"groups\">\n");
    for g in &status.groups {
        let _ = writeln!(
            out,
            "<section class=\"group\"><h2>{}</h2><p>{} of {} compliant ({:.1}%)</p>{}</section>",
            escape(&g.group),
            g.compliant,
            g.total,
            g.percent,
            chart(g)
        );
    }
    out.push_str("</div>\n<h2 style=\"margin-top:1.5em\">Devices that are not compliant</h2>\n");
    let bad: Vec<_> = worst_first(status)
        .into_iter()
        .filter(|d| d.state != State::Compliant)
        .collect();
    if bad.is_empty() {
        out.push_str("<p>Every device is compliant.</p>\n");
    } else {
        out.push_str(
            "<table>\n<thead><tr><th>Device</th><th>Groups</th><th>State</th><th>Reasons</th></tr></thead>\n<tbody>\n",
        );
        for d in bad {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"state {}\">{}</td><td>{}</td></tr>",
                escape(&d.serial),
                escape(&d.groups.join(", ")),
                d.state.name(),
                d.state.name(),
                escape(
                    &d.reasons
                        .iter()
                        .chain(&d.declarations)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            );
        }
        out.push_str("</tbody>\n</table>\n");
    }
    out.push_str("</body>\n</html>\n");
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
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
    }
}
