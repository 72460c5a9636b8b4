//! `bsic explain`: what a device in some groups gets, or which groups a policy reaches.

use std::io::Write;
use std::process::ExitCode;

use serde_json::Value;

use crate::model::path::Field;
use crate::model::{OsVersion, Platform};
use crate::pipeline::Checked;
use crate::resolve::{self, DeviceQuery, Explanation};

use super::args::ExplainArgs;

/// Runs `explain` on a checked project (policy errors were already reported).
pub(super) fn run(checked: &Checked, args: &ExplainArgs) -> ExitCode {
    let Some(model) = &checked.model else {
        return ExitCode::from(1);
    };
    let sources = &checked.project.sources;
    let mut out = std::io::stdout().lock();
    if let Some(name) = &args.policy {
        let Some(reach) = resolve::explain_policy(model, &checked.resolution, sources, name) else {
            say!("error: no policy is named `{name}`");
            return ExitCode::from(2);
        };
        if args.json {
            let _ = writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&reach).unwrap_or_default()
            );
        } else {
            let _ = writeln!(
                out,
                "policy `{}` ({}:{})",
                reach.policy, reach.file, reach.line
            );
            let _ = writeln!(out, "  applies to: {}", reach.applies_to.join(", "));
            let platforms: Vec<&str> = reach.platforms.iter().map(|p| p.name()).collect();
            let _ = writeln!(out, "  platforms:  {}", platforms.join(", "));
            let _ = writeln!(out, "  sets:       {}", reach.keys.join(", "));
            let _ = writeln!(out, "  reaches:");
            for (group, how) in &reach.reaches {
                let _ = writeln!(out, "    {group:<24} {how}");
            }
        }
        return ExitCode::SUCCESS;
    }
    let known: Vec<&str> = checked.resolution.graph.groups().collect();
    for group in &args.group {
        if !known.contains(&group.as_str()) {
            let hint = crate::diag::suggest(group, known.iter().copied())
                .map(|s| format!(" (did you mean `{s}`?)"))
                .unwrap_or_default();
            say!("error: no group is named `{group}`{hint}");
            return ExitCode::from(2);
        }
    }
    let query = DeviceQuery {
        groups: args.group.clone(),
        platforms: args.platform.clone(),
        os: args.os.clone(),
        model: args.model.clone(),
    };
    let explanation = resolve::explain(model, &checked.resolution, sources, &query);
    if args.json {
        let _ = writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&explanation).unwrap_or_default()
        );
    } else {
        human(&mut out, &explanation);
    }
    ExitCode::SUCCESS
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn human(out: &mut impl Write, e: &Explanation) {
    let os =
        e.os.as_ref()
            .map(|o| format!(" on OS {o}"))
            .unwrap_or_default();
    let model = e
        .model
        .as_ref()
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    let _ = writeln!(out, "a device in {}{model}{os}", e.groups.join(" + "));
    let _ = writeln!(out, "  member of:      {}", e.member_of.join(", "));
    let _ = writeln!(out, "  declarations from: {}", e.receives_from.join(", "));
    for platform in &e.platforms {
        let _ = writeln!(out, "\n{}", platform.platform.name());
        if platform.settings.is_empty() && platform.enforcement.is_empty() {
            let _ = writeln!(out, "  (nothing managed: Apple's defaults apply)");
        }
        for key in &platform.settings {
            let rule = key
                .combine
                .map(|r| format!("  [combined: {r}]"))
                .unwrap_or_default();
            let _ = writeln!(out, "  {:<40} {}{rule}", key.key, show(&key.value));
            for s in &key.from {
                let _ = writeln!(
                    out,
                    "      from {} ({}:{}:{}) via {}",
                    s.policy, s.file, s.line, s.column, s.via
                );
            }
            for o in &key.overridden {
                let s = &o.source;
                let _ = writeln!(
                    out,
                    "      overrides {} from {} ({}:{}:{}) by {}",
                    show(&s.value),
                    s.policy,
                    s.file,
                    s.line,
                    s.column,
                    o.by
                );
            }
            for w in &key.warnings {
                let _ = writeln!(out, "      warning: {w}");
            }
        }
        for target in &platform.enforcement {
            let build = target
                .build
                .as_ref()
                .map(|b| format!(" build {b}"))
                .unwrap_or_default();
            let s = &target.source;
            let _ = writeln!(
                out,
                "  enforce {}{build} by {}  from {} ({}:{}:{})",
                target.version, target.deadline, s.policy, s.file, s.line, s.column
            );
            if target.steps.len() > 1 {
                let _ = writeln!(out, "      staged: {}", target.steps.join(" → "));
            }
            if let Some(note) = &target.note {
                let _ = writeln!(out, "      {note}");
            }
        }
        for note in &platform.notes {
            let _ = writeln!(out, "  note: {note}");
        }
    }
}

/// Parses `--platform` values.
pub(super) fn parse_platform(value: &str) -> Result<Platform, String> {
    Platform::ALL
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(value))
        .ok_or_else(|| format!("`{value}` is not one of macOS, iOS, iPadOS, tvOS, visionOS"))
}

/// Parses `--os` values.
pub(super) fn parse_os(value: &str) -> Result<OsVersion, String> {
    value
        .parse::<OsVersion>()
        .map_err(|e| format!("`{value}` is not an OS version: {e}"))
}

/// A device's hardware model identifier (`iPhone17,1`; no `*`: one device is one model).
pub(super) fn parse_model(value: &str) -> Result<String, String> {
    match value.parse::<crate::model::ModelPattern>() {
        Ok(model) if model.prefix().is_none() => Ok(value.to_string()),
        Ok(_) => Err(format!(
            "`{value}` is a family prefix; a device has one model identifier, e.g. iPhone17,1"
        )),
        Err(e) => Err(format!("`{value}` is not a model identifier: {e}")),
    }
}

/// Prints, per group and key, what a higher priority overrode (for `check --explain-overrides`).
pub(super) fn overrides(checked: &Checked) {
    let Some(model) = &checked.model else { return };
    let sources = &checked.project.sources;
    let mut out = std::io::stdout().lock();
    // The same override on several platforms is one line naming them.
    let mut lines: std::collections::BTreeMap<(String, String), Vec<&str>> =
        std::collections::BTreeMap::new();
    for plan in &checked.resolution.plans {
        for (platform, effective) in &plan.platforms {
            for (key, resolved) in &effective.settings {
                for &lost in &resolved.overridden {
                    let winner = &model.policies[resolved.policy];
                    let loser = &model.policies[lost];
                    let field = resolve::knob_for(key).map_or(Field::Item, Field::Knob);
                    let at = sources.locate(model.key_span(&loser.at, field));
                    let text = format!(
                        "`{}` {} from `{}` (priority {}) overrides {} from `{}` (priority {}, {at})",
                        resolve::knob_for(key).map_or(*key, |k| k.kdl),
                        show(&resolved.value),
                        winner.value.name,
                        winner.value.priority.unwrap_or(0),
                        show(&resolve::lost_value(model, lost, key)),
                        loser.value.name,
                        loser.value.priority.unwrap_or(0),
                    );
                    lines
                        .entry((plan.group.clone(), text))
                        .or_default()
                        .push(platform.name());
                }
            }
        }
    }
    if lines.is_empty() {
        let _ = writeln!(
            out,
            "no overrides: no key is set by two policies at different priorities"
        );
    }
    for ((group, text), platforms) in lines {
        let _ = writeln!(out, "group `{group}` ({}): {text}", platforms.join(", "));
    }
}
