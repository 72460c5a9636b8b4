//! Resolve stage: who gets what.
//!
//! In: a validated [`Model`]. Out: one [`GroupPlan`] per targeted group, holding for each
//! platform the effective settings and enforcement target with the policy each value came
//! from. Two policies that give one group and platform different values at the same priority
//! are a conflict; a higher `priority` wins and the loser is kept as overridden. This stage
//! never formats output.

mod combine;
pub mod diags;
mod explain;
mod groups;
mod legacy;
mod lints;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::path::Field;
use crate::model::{Channel, Enforce, Group, Lint, Platform, Policy};
use crate::resolve::diags::ResolveKind;
use crate::validate::{Model, Placed};

pub use crate::model::knobs::{KNOBS, Knob, knob_for, settings_of};
pub use combine::{CombineRule, Combined, combine};
pub use explain::{
    DeviceQuery, EnforcementExplanation, Explanation, KeyExplanation, PlatformExplanation,
    PolicyReach, Source, explain, explain_policy,
};
pub use groups::{ALL, GroupGraph, describe_chain};
pub use legacy::{LegacySetting, has_legacy_devices, legacy_settings, profile_platforms};
pub use lints::lint;

/// Index of a policy in [`Model::policies`].
pub type PolicyIndex = usize;

/// The value one key ends up with, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved<T> {
    pub value: T,
    pub policy: PolicyIndex,
    pub channels: Channels,
    /// The policies whose values lost to a higher priority, in model order. Their values
    /// are read back from the model ([`lost_value`]) when shown: copied here, they were a
    /// seventh of a large project's check.
    pub overridden: Vec<PolicyIndex>,
}

/// The value `policy` gives the Apple settings key `key`, for showing what lost.
pub fn lost_value(model: &Model, policy: PolicyIndex, key: &str) -> Value {
    knob_for(key)
        .and_then(|knob| knob.value(&model.policies[policy].value))
        .unwrap_or(Value::Null)
}

impl Resolved<Enforce> {
    /// Which of its policy's `enforce` nodes this target came from (for spans into it).
    pub fn enforce_index(&self, model: &Model) -> usize {
        model.policies[self.policy]
            .value
            .enforce
            .iter()
            .position(|e| *e == self.value)
            .unwrap_or(0)
    }
}

/// What a device of one platform in one group gets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Effective {
    /// Apple settings key → resolved value.
    pub settings: BTreeMap<&'static str, Resolved<Value>>,
    pub enforce: Option<Resolved<Enforce>>,
}

/// Everything resolved for one group.
#[derive(Debug, Clone)]
pub struct GroupPlan {
    pub group: String,
    /// The policies that reach the group, in model order.
    pub policies: Vec<PolicyIndex>,
    /// Policy → the chain of groups through which it reaches this group
    /// (`[all, pilot]`, `[all-macs, engineering]`, or just `[pilot]`).
    pub via: BTreeMap<PolicyIndex, Vec<String>>,
    /// The group's own OS version filter, checked on the device by its activations.
    pub os: Option<crate::model::OsRange>,
    /// The group's own hardware model filter, checked on the device by its activations.
    pub models: Option<Vec<crate::model::ModelPattern>>,
    /// Platform → effective settings, for each platform some policy covers.
    pub platforms: BTreeMap<Platform, Effective>,
}

/// Everything resolve produced: the group graph and one plan per group that has policies.
#[derive(Debug, Default)]
pub struct Resolution {
    pub graph: GroupGraph,
    pub plans: Vec<GroupPlan>,
}

impl Resolution {
    /// The plan of a group, if it has policies of its own. Plans are sorted by group name.
    pub fn plan(&self, group: &str) -> Option<&GroupPlan> {
        self.plans
            .binary_search_by(|p| p.group.as_str().cmp(group))
            .ok()
            .map(|i| &self.plans[i])
    }
}

/// Resolves every group that policies apply to. Conflicts go to `diagnostics`.
///
/// A group's plan takes every policy that reaches it: policies on the group itself, on groups
/// that include it (transitively) and on `all`. Artifacts are emitted for groups that have
/// policies of their own; the others get their settings through the groups that contain them.
pub fn resolve(model: &Model, diagnostics: &mut Diagnostics) -> Resolution {
    // The group graph and the policies on each group, side by side on a large project.
    let ((graph, found), direct) = crate::parallel::join(
        model.policies.len(),
        || {
            let mut found = Diagnostics::default();
            (GroupGraph::build(model, &mut found), found)
        },
        || direct_policies(model),
    );
    diagnostics.append(found);

    // With errors the model is partial, and "nobody reaches this group" may be false.
    let complete = !diagnostics.has_errors();
    for group in model.groups.iter().filter(|_| complete) {
        let name = group.value.name.as_str();
        let reached = graph
            .containers(name)
            .keys()
            .any(|g| direct.contains_key(g));
        if !reached {
            diagnostics.push(Diagnostic::lint(
                Lint::UnreachedGroup,
                format!("group `{name}` is reached by no policy"),
                model.value_span(&group.at, Field::Name),
                "no policy applies to this group or to a group that includes it",
            ));
        }
    }

    let definitions: HashMap<&str, &Group> = model
        .groups
        .iter()
        .map(|g| (g.value.name.as_str(), &g.value))
        .collect();
    // Each group on any core, with its own diagnostics merged back in group-name order (the
    // keys of `direct`, which `Resolution::plan` relies on): the output is a serial run's.
    let groups: Vec<&String> = direct.keys().collect();
    let resolved = crate::parallel::map(groups, 8, |_, group| {
        let containers = graph.containers(group);
        let mut via: BTreeMap<PolicyIndex, Vec<String>> = BTreeMap::new();
        for (container, chain) in &containers {
            for &index in direct.get(container).map(Vec::as_slice).unwrap_or_default() {
                via.entry(index).or_insert_with(|| chain.clone());
            }
        }
        let definition = definitions.get(group.as_str()).copied();
        let mut found = Diagnostics::default();
        let plan = resolve_group(model, definition, group.clone(), via, &mut found);
        (plan, found)
    });
    let mut plans = Vec::with_capacity(resolved.len());
    for (plan, found) in resolved {
        diagnostics.append(found);
        plans.push(plan);
    }
    Resolution { graph, plans }
}

/// The policies written for each group (`applies-to`), by group name, each once.
fn direct_policies(model: &Model) -> BTreeMap<String, Vec<PolicyIndex>> {
    let mut direct: BTreeMap<String, Vec<PolicyIndex>> = BTreeMap::new();
    for (index, policy) in model.policies.iter().enumerate() {
        for group in &policy.value.applies_to {
            let list = direct.entry(group.to_string()).or_default();
            if !list.contains(&index) {
                list.push(index);
            }
        }
    }
    direct
}

fn coverage(policy: &Policy) -> Vec<Platform> {
    policy
        .platforms
        .clone()
        .unwrap_or_else(|| Platform::ALL.to_vec())
}

/// The channels a resolved value goes out on. A set of two, kept as two flags: a large
/// project resolves hundreds of thousands of values, each carrying one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Channels {
    ddm: bool,
    profile: bool,
}

impl Channels {
    pub fn contains(&self, channel: &Channel) -> bool {
        match channel {
            Channel::Ddm => self.ddm,
            Channel::Profile => self.profile,
        }
    }
}

/// The policy's channels; both when it names none.
fn channels(policy: &Policy) -> Channels {
    match &policy.channels {
        None => Channels {
            ddm: true,
            profile: true,
        },
        Some(named) => Channels {
            ddm: named.contains(&Channel::Ddm),
            profile: named.contains(&Channel::Profile),
        },
    }
}

fn priority(policy: &Policy) -> i64 {
    policy.priority.unwrap_or(0)
}

/// A candidate value for one key: (policy, value, the field that sets it).
struct Candidate<T> {
    policy: PolicyIndex,
    value: T,
    field: Field,
}

fn resolve_group(
    model: &Model,
    group_def: Option<&Group>,
    group: String,
    via: BTreeMap<PolicyIndex, Vec<String>>,
    diagnostics: &mut Diagnostics,
) -> GroupPlan {
    let policies: Vec<PolicyIndex> = via.keys().copied().collect();
    let allowed: Vec<Platform> = group_def
        .and_then(|g| g.platforms.clone())
        .unwrap_or_else(|| Platform::ALL.to_vec());
    let os = group_def.and_then(|g| g.os.clone());
    let models = group_def.and_then(|g| g.models.clone());
    let covered: BTreeSet<Platform> = policies
        .iter()
        .flat_map(|&i| coverage(&model.policies[i].value))
        .filter(|p| allowed.contains(p))
        .collect();
    let mut platforms = BTreeMap::new();
    let mut reported = BTreeSet::new();
    for platform in covered {
        let applicable: Vec<PolicyIndex> = policies
            .iter()
            .copied()
            .filter(|&i| coverage(&model.policies[i].value).contains(&platform))
            .collect();

        let mut settings = BTreeMap::new();
        for (key, candidates) in setting_candidates(model, &applicable) {
            let ctx = Context {
                model,
                via: &via,
                group: &group,
                key,
                reported: &mut reported,
            };
            if let Some(resolved) = pick(ctx, candidates, diagnostics) {
                settings.insert(key, resolved);
            }
        }
        let ctx = Context {
            model,
            via: &via,
            group: &group,
            key: "enforce",
            reported: &mut reported,
        };
        let enforce = pick(
            ctx,
            enforce_candidates(model, &applicable, platform),
            diagnostics,
        );
        platforms.insert(platform, Effective { settings, enforce });
    }
    GroupPlan {
        group,
        policies,
        via,
        os,
        models,
        platforms,
    }
}

/// Every value the `applicable` policies give each Apple key, in policy order.
fn setting_candidates(
    model: &Model,
    applicable: &[PolicyIndex],
) -> BTreeMap<&'static str, Vec<Candidate<Value>>> {
    let mut by_key: BTreeMap<&'static str, Vec<Candidate<Value>>> = BTreeMap::new();
    for &index in applicable {
        for (knob, value) in settings_of(&model.policies[index].value) {
            by_key.entry(knob.apple_key).or_default().push(Candidate {
                policy: index,
                value,
                field: Field::Knob(knob),
            });
        }
    }
    by_key
}

/// Each applicable policy's `enforce` for `platform`: the one naming the platform, else the
/// one naming none.
fn enforce_candidates(
    model: &Model,
    applicable: &[PolicyIndex],
    platform: Platform,
) -> Vec<Candidate<Enforce>> {
    applicable
        .iter()
        .flat_map(|&index| {
            let policy = &model.policies[index].value;
            let specific = policy
                .enforce
                .iter()
                .position(|e| e.platform == Some(platform));
            let general = policy.enforce.iter().position(|e| e.platform.is_none());
            specific.or(general).map(|i| Candidate {
                policy: index,
                value: policy.enforce[i].clone(),
                field: Field::Enforce(i),
            })
        })
        .collect()
}

struct Context<'a> {
    model: &'a Model,
    via: &'a BTreeMap<PolicyIndex, Vec<String>>,
    group: &'a str,
    key: &'static str,
    /// The conflicts this group has reported, by key and pair of policies: a conflict is
    /// reported once however many platforms it shows on.
    reported: &'a mut BTreeSet<(&'static str, PolicyIndex, PolicyIndex)>,
}

/// Picks the winning candidate: the highest priority; equal priorities must agree.
fn pick<T: PartialEq + Clone>(
    mut ctx: Context<'_>,
    candidates: Vec<Candidate<T>>,
    diagnostics: &mut Diagnostics,
) -> Option<Resolved<T>> {
    let policies = &ctx.model.policies;
    let top = candidates
        .iter()
        .map(|c| priority(&policies[c.policy].value))
        .max()?;
    let (winners, losers): (Vec<&Candidate<T>>, Vec<&Candidate<T>>) = candidates
        .iter()
        .partition(|c| priority(&policies[c.policy].value) == top);
    let first = winners.first()?;
    for other in winners.iter().skip(1) {
        if other.value != first.value {
            report_conflict(&mut ctx, first, other, diagnostics);
        }
    }
    Some(Resolved {
        value: first.value.clone(),
        policy: first.policy,
        channels: channels(&policies[first.policy].value),
        overridden: losers.iter().map(|c| c.policy).collect(),
    })
}

fn report_conflict<T>(
    ctx: &mut Context<'_>,
    first: &Candidate<T>,
    second: &Candidate<T>,
    diagnostics: &mut Diagnostics,
) {
    if !ctx.reported.insert((ctx.key, first.policy, second.policy)) {
        return;
    }
    let a: &Placed<Policy> = &ctx.model.policies[first.policy];
    let b: &Placed<Policy> = &ctx.model.policies[second.policy];
    let knob = knob_for(ctx.key).map_or("enforce", |k| k.kdl);
    let reach = |policy: PolicyIndex, name: &str| match ctx.via.get(&policy).map(Vec::as_slice) {
        Some([only]) => format!("`{name}` applies to `{only}`"),
        Some(chain) => format!(
            "`{name}` applies to `{}` and {}",
            chain[0],
            describe_chain(chain)
        ),
        None => format!("`{name}` applies to `{}`", ctx.group),
    };
    let group_path = format!(
        "both reach group `{}` at priority {}: {}; {}",
        ctx.group,
        priority(&a.value),
        reach(first.policy, a.value.name.as_str()),
        reach(second.policy, b.value.name.as_str()),
    );
    diagnostics.push(
        Diagnostic::error(
            ResolveKind::Conflict {
                key: knob.to_string(),
                group: ctx.group.to_string(),
                first: a.value.name.to_string(),
                second: b.value.name.to_string(),
                path: group_path,
            },
            ctx.model.value_span(&b.at, second.field),
            format!("`{}` sets it here", b.value.name),
        )
        .with_related(
            ctx.model.value_span(&a.at, first.field),
            format!("`{}` sets it here", a.value.name),
        ),
    );
}
