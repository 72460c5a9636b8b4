//! Policy tests: `bsic test` proves in CI what devices end up with.
//!
//! In: a checked project and its `*.test.kdl` files. Each test names a device (groups,
//! platform, OS) and the settings it must get; the answer comes from the same resolver
//! `bsic explain` uses. Out: one outcome per test, and a located diagnostic per failed
//! expectation (the expectation, plus the policy that set the actual value).

pub(crate) mod diags;

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::path::Field;
use crate::model::{Name, Policy, PolicyTest, PolicyTestFile};
use crate::pipeline::Checked;
use crate::policytest::diags::TestKind;
use crate::resolve::{self, DeviceQuery, KeyExplanation, PlatformExplanation};
use crate::source::{self, SourceError, Span};
use crate::validate::{self, Location};

/// Where policy tests live when bsic.kdl does not say.
const DEFAULT_TEST_GLOB: &str = "tests/**/*.test.kdl";
use crate::apple::types::SETTINGS as SETTINGS_TYPE;

/// The result of one test.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    pub name: String,
    pub file: String,
    pub line: usize,
    pub passed: bool,
}

/// Loads and runs every policy test of a checked project (which must have no errors).
pub(crate) fn run(
    checked: &mut Checked,
    diagnostics: &mut Diagnostics,
) -> Result<Vec<Outcome>, SourceError> {
    let Some(model) = checked.model.clone() else {
        return Ok(Vec::new());
    };
    let mut globs: Vec<(String, Span)> = model
        .project
        .tests
        .iter()
        .map(|g| (g.clone(), Span::start_of(model.project_file)))
        .collect();
    if globs.is_empty() {
        globs.push((
            DEFAULT_TEST_GLOB.to_string(),
            Span::start_of(model.project_file),
        ));
    }
    let root = checked.project.root.clone();
    let files = source::load_matching(&root, &globs, &mut checked.project.sources, diagnostics)?;
    let mut outcomes = Vec::new();
    for parsed in &files {
        let Some((file, spans)) =
            validate::validate_document::<PolicyTestFile>(parsed, diagnostics)
        else {
            continue;
        };
        for (index, test) in file.test.iter().enumerate() {
            let at = Location {
                file: parsed.file,
                pointer: format!("/test/{index}"),
            };
            let span_of = |field: Field| spans.locate(&at, field).value;
            let failures = run_one(checked, &model, test, &span_of);
            let (line, _) = checked.project.sources.line_col(span_of(Field::Item));
            outcomes.push(Outcome {
                name: test.name.clone(),
                file: checked.project.sources.name(parsed.file).to_string(),
                line,
                passed: failures.is_empty(),
            });
            diagnostics.extend(failures);
        }
    }
    Ok(outcomes)
}

fn run_one(
    checked: &Checked,
    model: &validate::Model,
    test: &PolicyTest,
    span_of: &dyn Fn(Field) -> Span,
) -> Vec<Diagnostic> {
    let query = DeviceQuery {
        groups: test.groups.iter().map(ToString::to_string).collect(),
        platforms: vec![test.platform],
        os: test.os.clone(),
        model: test.model.clone(),
    };
    let explanation =
        resolve::explain(model, &checked.resolution, &checked.project.sources, &query);
    let Some(platform) = explanation.platforms.first() else {
        return Vec::new();
    };
    let mut failures = knob_failures(test, platform, span_of);
    failures.extend(enforcement_failures(test, platform, span_of));
    failures
}

/// A failed expectation of `test`: `what` was `actual` where `expected` (written at `at`).
fn fail(
    test: &PolicyTest,
    what: String,
    expected: String,
    actual: String,
    at: Span,
    related: Option<(Span, String)>,
) -> Diagnostic {
    let mut d = Diagnostic::error(
        TestKind::TestFailed {
            test: test.name.clone(),
            what,
            expected,
            actual,
        },
        at,
        "expected here",
    );
    if let Some((span, label)) = related {
        d = d.with_related(span, label);
    }
    d
}

/// The expected knob values the device does not get.
fn knob_failures(
    test: &PolicyTest,
    platform: &PlatformExplanation,
    span_of: &dyn Fn(Field) -> Span,
) -> Vec<Diagnostic> {
    let mut failures = Vec::new();
    // The expectation, read as a policy, gives the Apple keys and values to compare.
    let expected_policy = Policy {
        name: "expectation"
            .parse::<Name>()
            .unwrap_or_else(|_| test.groups[0].clone()),
        description: None,
        applies_to: test.groups.clone(),
        platforms: None,
        priority: None,
        channels: None,
        background_security: test.expect.background_security.clone(),
        os_updates: test.expect.os_updates.clone(),
        beta: test.expect.beta.clone(),
        enforce: Vec::new(),
    };
    for (knob, expected) in resolve::settings_of(&expected_policy) {
        let actual: Option<&KeyExplanation> =
            platform.settings.iter().find(|k| k.key == knob.apple_key);
        let (actual_value, origin) = match actual {
            Some(k) => (
                k.value.clone(),
                k.from.first().and_then(|s| {
                    s.span.map(|span| {
                        (
                            span,
                            format!("set by `{}` for group `{}`", s.policy, s.group),
                        )
                    })
                }),
            ),
            None => {
                let default = crate::apple::declaration_key(SETTINGS_TYPE, knob.apple_key)
                    .and_then(|k| k.default.clone());
                (default.unwrap_or(Value::Null), None)
            }
        };
        if actual_value != expected {
            let shown = match (actual, &actual_value) {
                (None, Value::Null) => "not managed".to_string(),
                (None, v) => format!("not managed (Apple's default {})", show(v)),
                (Some(_), v) => show(v),
            };
            failures.push(fail(
                test,
                format!("`{}` ({})", knob.kdl, knob.apple_key),
                show(&expected),
                shown,
                span_of(Field::Expected(knob)),
                origin,
            ));
        }
    }

    failures
}

/// The expected enforcement target (or its absence) the device does not get.
fn enforcement_failures(
    test: &PolicyTest,
    platform: &PlatformExplanation,
    span_of: &dyn Fn(Field) -> Span,
) -> Vec<Diagnostic> {
    let mut failures = Vec::new();
    if let Some(target) = &test.expect.enforce {
        let found = platform.enforcement.iter().any(|e| {
            e.version == target.version.as_str()
                && target
                    .build
                    .as_ref()
                    .is_none_or(|b| e.build.as_deref() == Some(b.as_str()))
                && target
                    .by
                    .as_ref()
                    .is_none_or(|by| e.deadline == by.as_str())
        });
        if !found {
            let actual = if platform.enforcement.is_empty() {
                "no target".to_string()
            } else {
                platform
                    .enforcement
                    .iter()
                    .map(|e| {
                        format!(
                            "{}{}",
                            e.version,
                            e.build
                                .as_ref()
                                .map(|b| format!(" ({b})"))
                                .unwrap_or_default()
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let expected = format!(
                "{}{}",
                target.version,
                target
                    .build
                    .as_ref()
                    .map(|b| format!(" ({b})"))
                    .unwrap_or_default()
            );
            failures.push(fail(
                test,
                "the enforcement target".into(),
                expected,
                actual,
                span_of(Field::ExpectedEnforce),
                None,
            ));
        }
    }
    if test.expect.no_enforce == Some(true) && !platform.enforcement.is_empty() {
        let e = &platform.enforcement[0];
        let origin = e
            .source
            .span
            .map(|s| (s, format!("enforced by `{}`", e.source.policy)));
        failures.push(fail(
            test,
            "the enforcement target".into(),
            "none".into(),
            e.version.clone(),
            span_of(Field::ExpectedNoEnforce),
            origin,
        ));
    }
    failures
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Bool(b) => format!("#{b}"),
        other => other.to_string(),
    }
}
