//! BSI-aware lints over the resolved groups. Each is a warning by default and can be set to
//! `allow` or `deny` in bsic.kdl's `lints` block.

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::Lint;
use crate::model::knobs::{ALLOW_ROLLBACK, AUTOMATIC_INSTALL, OFFER};
use crate::model::path::{EnforceField, Field};
use crate::model::{AutomaticMode, Enforce, Platform, Policy};
use crate::validate::{Model, Placed};

use super::combine::{CombineRule, combine};
use super::{Effective, GroupPlan, Resolution, knob_for};

use crate::apple::types::SETTINGS as SETTINGS_TYPE;
/// Local deadlines are compared with UTC `now` after this margin (the widest UTC offset), so a
/// deadline is only called past when it is past in every time zone.
const TIME_ZONE_MARGIN: i64 = 14 * 3600;

/// Runs every lint. `now` is Unix seconds (`SOURCE_DATE_EPOCH` or the clock).
///
/// Policy lints look at one valid policy at a time and always run, so a report with errors
/// carries the warnings too. Group lints read what each group resolves to; `complete` says no
/// policy was left out by an error, without which they would judge a fleet that is not the
/// one that will be built.
pub fn lint(
    model: &Model,
    resolution: &Resolution,
    now: i64,
    complete: bool,
    diagnostics: &mut Diagnostics,
) {
    policy_lints(model, now, diagnostics);
    if complete {
        group_lints(model, resolution, diagnostics);
    }
}

fn warning(lint: Lint, message: String, at: crate::source::Span, label: &str) -> Diagnostic {
    Diagnostic::lint(lint, message, at, label)
}

/// The lints of each policy on its own: on any core, merged back in policy order.
fn policy_lints(model: &Model, now: i64, diagnostics: &mut Diagnostics) {
    diagnostics.check_each(&model.policies, 32, |placed, found| {
        no_device(model, placed, found);
        for (index, enforce) in placed.value.enforce.iter().enumerate() {
            past_deadline(model, placed, index, enforce, now, found);
            staged_base(model, placed, index, enforce, found);
        }
        rollback_with_forced_install(model, placed, found);
    });
}

/// A policy none of whose groups admits any of its platforms.
fn no_device(model: &Model, placed: &Placed<Policy>, diagnostics: &mut Diagnostics) {
    let policy = &placed.value;
    let mine = policy
        .platforms
        .clone()
        .unwrap_or_else(|| Platform::ALL.to_vec());
    let admits_some = policy.applies_to.iter().any(|group| {
        let filter = model
            .groups
            .iter()
            .find(|g| g.value.name == *group)
            .and_then(|g| g.value.platforms.clone());
        filter.is_none_or(|allowed| allowed.iter().any(|p| mine.contains(p)))
    });
    if !admits_some {
        diagnostics.push(warning(
            Lint::NoDevice,
            format!(
                "policy `{}` reaches no device: its groups admit none of its platforms",
                policy.name
            ),
            model.value_span(&placed.at, Field::Platforms),
            "no group admits these platforms",
        ));
    }
}

/// An `enforce` whose deadline has passed.
fn past_deadline(
    model: &Model,
    placed: &Placed<Policy>,
    index: usize,
    enforce: &Enforce,
    now: i64,
    diagnostics: &mut Diagnostics,
) {
    if enforce.by.unix_seconds() + TIME_ZONE_MARGIN < now {
        diagnostics.push(warning(
            Lint::PastDeadline,
            format!(
                "the deadline {} of policy `{}` has passed",
                enforce.by, placed.value.name
            ),
            model.value_span(&placed.at, Field::EnforceField(index, EnforceField::By)),
            "in the past",
        ));
    }
}

/// An `enforce` of a BSI build, which bsic stages: its base version first.
fn staged_base(
    model: &Model,
    placed: &Placed<Policy>,
    index: usize,
    enforce: &Enforce,
    diagnostics: &mut Diagnostics,
) {
    let platforms: Vec<Platform> = match enforce.platform {
        Some(platform) => vec![platform],
        None => placed
            .value
            .platforms
            .clone()
            .unwrap_or_else(|| Platform::ALL.to_vec()),
    };
    let Some(build) = &enforce.build else {
        return;
    };
    let verdict = crate::apple::catalog::verdict(model.catalog.as_deref(), &platforms, build);
    if !verdict.bsi {
        return;
    }
    let why = if verdict.inferred {
        "looks like a BSI build (inferred from its letter suffix: no pinned catalog lists it)"
    } else {
        "is a BSI build (the pinned catalog lists it as one)"
    };
    diagnostics.push(warning(
        Lint::StagedBase,
        format!(
            "`{build}` {why}: bsic also enforces its base version {} by {}",
            enforce.version, enforce.by
        ),
        model.value_span(&placed.at, Field::EnforceField(index, EnforceField::Build)),
        "staged: base first, then this build",
    ));
}

/// BSIs forced on while users may remove them.
fn rollback_with_forced_install(
    model: &Model,
    placed: &Placed<Policy>,
    diagnostics: &mut Diagnostics,
) {
    if let Some(bsi) = &placed.value.background_security
        && bsi.automatic_install == Some(AutomaticMode::AlwaysOn)
        && bsi.allow_rollback == Some(true)
    {
        diagnostics.push(
            warning(
                Lint::RollbackWithForcedInstall,
                format!(
                    "policy `{}` forces BSIs on and lets users remove them",
                    placed.value.name
                ),
                model.value_span(&placed.at, Field::Knob(ALLOW_ROLLBACK)),
                "rollback allowed",
            )
            .with_related(
                model.value_span(&placed.at, Field::Knob(AUTOMATIC_INSTALL)),
                "automatic install forced",
            ),
        );
    }
}

/// The lints of each group on each platform it has policies for.
///
/// Each group runs on any core; what it finds is merged back in group order, keeping the
/// first report of each pair (a pair of policies can meet in several groups), as one core
/// going through the groups in order would.
fn group_lints(model: &Model, resolution: &Resolution, diagnostics: &mut Diagnostics) {
    let plans: Vec<&GroupPlan> = resolution.plans.iter().collect();
    let found = crate::parallel::map(plans, 8, |_, plan| {
        let mut found = Found::default();
        unfiltered_profile(model, plan, &mut found);
        for (platform, effective) in &plan.platforms {
            let group = GroupAt {
                plan,
                platform: *platform,
                effective,
            };
            bsi_off_with_bsi_target(model, &group, &mut found);
            container_conflicts(model, resolution, &group, &mut found);
        }
        found.reports
    });
    let mut reported = std::collections::BTreeSet::new();
    for (id, diagnostic) in found.into_iter().flatten() {
        if reported.insert(id) {
            diagnostics.push(diagnostic);
        }
    }
}

/// Which lint, and the pair of policies it is about (with the group or key it concerns): a
/// pair is reported once.
type ReportId = (&'static str, String, usize, usize);

/// One group's lint reports, each with its [`ReportId`], in the order found; an id already
/// found in this group is not worded again.
#[derive(Default)]
struct Found {
    seen: std::collections::BTreeSet<ReportId>,
    reports: Vec<(ReportId, Diagnostic)>,
}

impl Found {
    /// Whether `id` is new in this group; if it is, `report` is called for its diagnostic.
    fn offer(&mut self, id: ReportId, report: impl FnOnce() -> Diagnostic) {
        if self.seen.insert(id.clone()) {
            self.reports.push((id, report()));
        }
    }
}

/// One group's effective settings on one platform.
struct GroupAt<'a> {
    plan: &'a GroupPlan,
    platform: Platform,
    effective: &'a Effective,
}

/// A group limited to some OS versions or models, sent a configuration profile: the DDM
/// declarations carry the filter in their activation's predicate, a profile cannot.
fn unfiltered_profile(model: &Model, plan: &GroupPlan, found: &mut Found) {
    let (filter, field) = match (&plan.models, &plan.os) {
        (Some(_), _) => ("models", Field::Model(0)),
        (None, Some(os)) if os.min.is_some() => ("os", Field::OsMin),
        (None, Some(_)) => ("os", Field::OsMax),
        (None, None) => return,
    };
    let platforms = super::profile_platforms(model, plan);
    let Some(group) = model
        .groups
        .iter()
        .find(|g| g.value.name.as_str() == plan.group)
    else {
        return;
    };
    if platforms.is_empty() {
        return;
    }
    let names: Vec<&str> = platforms.iter().map(|p| p.name()).collect();
    let id = ("unfiltered-profile", plan.group.clone(), 0, 0);
    found.offer(id, || {
        warning(
            Lint::UnfilteredProfile,
            format!(
                "group `{}` admits only some devices by `{filter}`, but its configuration profile for {} cannot tell them apart",
                plan.group,
                names.join(", ")
            ),
            model.value_span(&group.at, field),
            "profiles ignore this filter",
        )
    });
}

/// BSIs not offered, yet a BSI build enforced.
fn bsi_off_with_bsi_target(model: &Model, group: &GroupAt<'_>, found: &mut Found) {
    let (plan, platform, effective) = (group.plan, &group.platform, group.effective);
    let offer_off = effective
        .settings
        .get(OFFER.apple_key)
        .filter(|r| r.value == Value::Bool(false));
    let bsi_target = effective.enforce.as_ref().filter(|e| {
        crate::apple::catalog::is_staged(model.catalog.as_deref(), &[*platform], &e.value)
    });
    let (Some(offer), Some(target)) = (offer_off, bsi_target) else {
        return;
    };
    let id = ("bsi-off", plan.group.clone(), offer.policy, target.policy);
    found.offer(id, || {
        let at = model.value_span(&model.policies[offer.policy].at, Field::Knob(OFFER));
        let target_policy = &model.policies[target.policy];
        let index = target.enforce_index(model);
        warning(
            Lint::BsiOffWithBsiTarget,
            format!(
                "group `{}` is not offered BSIs but must install BSI build {} on {}",
                plan.group,
                target.value.build.as_ref().map_or("", |b| b.as_str()),
                platform.name()
            ),
            at,
            "BSIs not offered",
        )
        .with_related(
            model.value_span(
                &target_policy.at,
                Field::EnforceField(index, EnforceField::Build),
            ),
            "BSI build enforced",
        )
    });
}

/// Devices of this group also receive the declarations of every group containing it: a
/// setting that differs there is order-dependent or overridden on the device.
fn container_conflicts(
    model: &Model,
    resolution: &Resolution,
    group: &GroupAt<'_>,
    found: &mut Found,
) {
    let (plan, platform, effective) = (group.plan, &group.platform, group.effective);
    for container in resolution.graph.containers(&plan.group).keys() {
        if *container == plan.group {
            continue;
        }
        let Some(outer) = resolution
            .plan(container)
            .and_then(|p| p.platforms.get(platform))
        else {
            continue;
        };
        for (key, mine) in &effective.settings {
            let Some(theirs) = outer.settings.get(key) else {
                continue;
            };
            if theirs.value == mine.value {
                continue;
            }
            let (rule, rangelist) = CombineRule::of(SETTINGS_TYPE, key);
            let combined = combine(
                rule,
                &rangelist,
                &[mine.value.clone(), theirs.value.clone()],
            );
            let knob = knob_for(key);
            let field = knob.map_or(Field::Item, Field::Knob);
            let kdl = knob.map_or(*key, |k| k.kdl);
            let id = (
                key.to_string(),
                plan.group.clone(),
                mine.policy,
                theirs.policy,
            );
            if combined.order_dependent {
                found.offer(("order", id.0.clone(), id.2, id.3), || {
                        warning(
                            Lint::OrderDependent,
                            format!(
                                "devices in `{}` get `{kdl}` from both `{}` and `{container}`, and Apple keeps whichever arrives first",
                                plan.group, plan.group
                            ),
                            model.value_span(&model.policies[mine.policy].at, field),
                            "one value",
                        )
                        .with_related(model.value_span(&model.policies[theirs.policy].at, field), "the other value")
                });
            } else if combined.value != mine.value {
                found.offer(("ineffective", id.0.clone(), id.2, id.3), || {
                    warning(
                        Lint::IneffectiveOverride,
                        format!(
                            "`{kdl}` {} for group `{}` loses on its devices: they also get {} from `{container}` and Apple's `{}` keeps {}",
                            show(&mine.value),
                            plan.group,
                            show(&theirs.value),
                            rule.map_or("none", CombineRule::name),
                            show(&combined.value)
                        ),
                        model.value_span(&model.policies[mine.policy].at, field),
                        "overridden on the device",
                    )
                    .with_related(model.value_span(&model.policies[theirs.policy].at, field), "wins on the device")
                });
            }
        }
    }
}

fn show(value: &Value) -> String {
    match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Bool(b) => format!("#{b}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use crate::model::LocalDateTime;

    #[test]
    fn local_times_convert_to_unix_seconds() {
        let at: LocalDateTime = "2026-01-01T00:00:00".parse().unwrap();
        assert_eq!(at.unix_seconds(), 1_767_225_600);
        let leap: LocalDateTime = "2028-02-29T12:30:15".parse().unwrap();
        assert_eq!(leap.unix_seconds(), 1_835_440_215);
    }
}
