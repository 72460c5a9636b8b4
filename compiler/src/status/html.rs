//! The HTML report: one self-contained page rendered from the template `report.html` with
//! minijinja, auto-escaping on.
//!
//! In: a finished [`Status`] (summary, history, devices) and where the CSV of every device
//! is, if written. Out: the page. The headline comes first (each enforced target's share and
//! deadline, the fleet's figure), then the trend, the reasons (each expandable to its worst
//! devices), groups, platforms, the OS distribution and the declarations. Charts are inline
//! SVG ([`super::charts`]); no scripts, no external references; light and dark mode, print
//! and narrow screens are the stylesheet's job. Every value is escaped when printed (control
//! characters shown as escapes, backticks as `&#96;`); counts get thousands separators.
//! Deterministic: nothing here reads the clock or the filesystem.

use minijinja::value::{Serde, Value};
use minijinja::{AutoEscape, Environment, Error, Output, State as TemplateState, context};
use serde::Serialize;

use super::charts::{self, Series};
use super::history::History;
use super::render::{escape, thousands};
use super::summary::{Counts, EXAMPLES, ReasonGroup, TargetSummary};
use super::{DeviceVerdict, State, Status, StatusError};

/// The page template, bundled.
const TEMPLATE: &str = include_str!("report.html");

/// What the page links to for the full device list.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The CSV of every device written beside the page (`--csv`), as the page should name it.
    pub csv: Option<String>,
}

/// A bar of devices by state, with its counts.
#[derive(Serialize)]
struct Row {
    name: String,
    #[serde(flatten)]
    counts: Counts,
    percent: String,
    bar: Value,
}

fn row(name: &str, counts: &Counts) -> Row {
    Row {
        name: name.to_string(),
        counts: counts.clone(),
        percent: format!("{:.1}", counts.percent),
        bar: Value::from_safe_string(charts::state_bar(counts, name)),
    }
}

/// One device of a reason group.
#[derive(Serialize)]
struct DeviceRow<'a> {
    serial: &'a str,
    groups: String,
    platform: &'a str,
    os: String,
    reasons: Vec<&'a str>,
}

/// The page of `status`.
pub fn html(status: &Status, options: &Options) -> Result<String, StatusError> {
    render(status, options).map_err(|e| StatusError::Template {
        message: format!("{e:#}"),
    })
}

/// Any serializable value as a template value.
fn ser<T: Serialize>(value: T) -> Value {
    Value::from(Serde(value))
}

fn environment() -> Result<Environment<'static>, Error> {
    let mut env = Environment::new();
    // Auto-escaping by the template's extension (`.html`: HTML), with the page's own
    // escaping of plain text and thousands separators for integers.
    env.set_formatter(format_value);
    env.add_filter("code", code);
    env.add_template("report.html", TEMPLATE)?;
    Ok(env)
}

/// Prints a value: safe markup as is, integers with thousands separators, anything else as
/// escaped text when the template escapes HTML.
fn format_value(out: &mut Output, state: &mut TemplateState, value: &Value) -> Result<(), Error> {
    let html = matches!(state.auto_escape(), AutoEscape::Html);
    let text = if value.is_safe() || !html {
        value.to_string()
    } else if let Some(n) = value.as_usize().filter(|_| value.is_integer()) {
        thousands(n)
    } else if value.is_none() || value.is_undefined() {
        String::new()
    } else {
        escape(&value.to_string())
    };
    out.write_str(&text)
        .map_err(|_| Error::new(minijinja::ErrorKind::WriteFailure, "cannot write"))
}

/// Text whose backtick-quoted names (`` `kiosks` ``) become `<code>`, the rest escaped.
fn code(text: &str) -> Value {
    let mut out = String::with_capacity(text.len() + 16);
    let pieces: Vec<&str> = text.split('`').collect();
    // An odd number of pieces means the backticks pair up; a lone one is shown escaped.
    let paired = pieces.len() % 2 == 1;
    for (i, piece) in pieces.iter().enumerate() {
        let inside = i % 2 == 1;
        if inside && paired {
            out.push_str("<code>");
            out.push_str(&escape(piece));
            out.push_str("</code>");
        } else {
            if i > 0 && !paired {
                out.push_str("&#96;");
            }
            out.push_str(&escape(piece));
        }
    }
    Value::from_safe_string(out)
}

/// `Pending` for `pending`: a column heading.
fn title(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

fn render(status: &Status, options: &Options) -> Result<String, Error> {
    let summary = &status.summary;
    let row_of = |(name, counts): (&str, &Counts)| ser(row(name, counts));
    let groups: Vec<Value> = status
        .groups
        .iter()
        .map(|g| row_of((&g.group, &g.counts)))
        .collect();
    let platforms: Vec<Value> = summary
        .platforms
        .iter()
        .map(|p| row_of((&p.platform, &p.counts)))
        .collect();
    let os_items: Vec<(String, usize)> = summary
        .os
        .iter()
        .map(|o| (o.os.clone(), o.devices))
        .collect();
    let env = environment()?;
    let template = env.get_template("report.html")?;
    template.render(context! {
        now => status.now.replace('T', " "),
        fleet => ser(row("whole fleet", &summary.fleet)),
        targeted => summary.targeted,
        targets => summary.targets.iter().map(target_row).collect::<Vec<_>>(),
        history => status.history.as_ref().map(|h| history_section(h, &summary.targets)),
        reasons => summary.reasons.iter().map(|r| reason_section(r, status)).collect::<Vec<_>>(),
        examples => EXAMPLES,
        csv => ser(&options.csv),
        groups => groups,
        platforms => platforms,
        os_chart => Value::from_safe_string(charts::bars(&os_items)),
        declarations => ser(&status.declarations),
        warnings => status.warnings.len(),
        notes => ser(&status.notes),
        states => State::ALL.iter().map(|s| s.name()).collect::<Vec<_>>(),
        titles => State::ALL.iter().map(|s| title(s.name())).collect::<Vec<_>>(),
    })
}

/// One enforced target: what, by when, and its bar of devices.
fn target_row(t: &TargetSummary) -> Value {
    context! {
        label => ser(&t.label),
        version => ser(&t.version),
        build => ser(&t.build),
        deadline => t.deadline.replace('T', " "),
        policy => ser(&t.policy),
        groups => ser(&t.groups),
        time_left => ser(&t.time_left),
        past => t.seconds_left < 0,
        row => ser(row(&t.label, &t.counts)),
    }
}

/// One reason devices are not compliant, with its example devices.
fn reason_section(r: &ReasonGroup, status: &Status) -> Value {
    let devices: Vec<DeviceRow<'_>> = r
        .examples
        .iter()
        .filter_map(|i| status.devices.get(*i))
        .map(device_row)
        .collect();
    context! {
        state => r.state.name(),
        reason => ser(&r.reason),
        count => r.devices,
        rest => r.devices - devices.len(),
        devices => ser(&devices),
    }
}

fn device_row(d: &DeviceVerdict) -> DeviceRow<'_> {
    let os = d.os.as_ref().and_then(|o| {
        let version = o.version.as_deref()?;
        let build = o.supplemental_build.as_deref().or(o.build.as_deref());
        Some(match build {
            Some(b) => format!("{version} ({b})"),
            None => version.to_string(),
        })
    });
    DeviceRow {
        serial: &d.serial,
        groups: d.groups.join(", "),
        platform: d.platform.map_or("", |p| p.name()),
        os: os.unwrap_or_default(),
        reasons: d
            .reasons
            .iter()
            .map(|r| &**r)
            .chain(d.declarations.iter().map(String::as_str))
            .collect(),
    }
}

/// The trend since earlier snapshots: one line for the fleet and one per target.
fn history_section(h: &History, targets: &[TargetSummary]) -> Value {
    let labels: Vec<String> = h.points.iter().map(|p| p.now.clone()).collect();
    let names: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.key(), format!("{} · {}", t.label, t.policy)))
        .collect();
    let fleet = Series {
        name: "whole fleet",
        values: h.points.iter().map(|p| Some(p.percent)).collect(),
    };
    let series: Vec<Series<'_>> = std::iter::once(fleet)
        .chain(names.iter().map(|(key, name)| {
            Series {
                name,
                values: h
                    .points
                    .iter()
                    .map(|p| p.targets.get(key).copied())
                    .collect(),
            }
        }))
        .collect();
    let legend: Vec<Value> = series
        .iter()
        .enumerate()
        .map(|(n, s)| {
            context! {
                class => format!("line-{}", n % 6),
                name => s.name,
                last => s.values.last().copied().flatten().map(|v| format!("{v:.1}")),
            }
        })
        .collect();
    let changes = h.changes.as_ref();
    context! {
        snapshots => h.points.len(),
        first => h.points.first().map(|p| p.now.replace('T', " ")),
        chart => Value::from_safe_string(charts::trend(&labels, &series)),
        legend => legend,
        changes => changes.map(ser),
        since => changes.map(|c| c.since.replace('T', " ")),
        failed_more => changes.map_or(0, |c| c.newly_failed - c.failed_devices.len()),
        compliant_more => changes.map_or(0, |c| c.newly_compliant - c.compliant_devices.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backticks_become_code_and_a_lone_one_is_escaped() {
        assert_eq!(
            code("install state `downloading` <now>").to_string(),
            "install state <code>downloading</code> &lt;now&gt;"
        );
        assert_eq!(code("a ` b").to_string(), "a &#96; b");
        assert_eq!(
            code("`a` and `b`").to_string(),
            "<code>a</code> and <code>b</code>"
        );
    }

    #[test]
    fn the_template_escapes_and_separates_thousands() {
        let env = environment().unwrap();
        let out = env
            .render_str(
                "{{ n }} {{ t }} {{ s }}",
                context! { n => 1204, t => "<b>`x`", s => Value::from_safe_string("<i>".into()) },
            )
            .unwrap();
        // render_str has no .html name: escaping comes from the template named report.html.
        assert_eq!(out, "1204 <b>`x` <i>");
        let tmpl = env
            .template_from_named_str("x.html", "{{ n }} {{ t }} {{ s }}")
            .unwrap();
        let out = tmpl
            .render(
                context! { n => 1204, t => "<b>`x`", s => Value::from_safe_string("<i>".into()) },
            )
            .unwrap();
        assert_eq!(out, "1,204 &lt;b&gt;&#96;x&#96; <i>");
    }
}
