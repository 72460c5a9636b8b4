//! Explaining what a device gets: for a device in some groups on one platform, every key's
//! effective value after priorities (within a group) and Apple's combine rules (across the
//! declarations the device receives), with the policy and source line behind each value.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

use crate::model::{Channel, OsVersion, Platform};
use crate::source::Sources;
use crate::validate::Model;

use super::combine::{CombineRule, combine};
use super::groups::describe_chain;
use super::{ALL, PolicyIndex, Resolution, knob_for};
use crate::model::path::Field;

use crate::apple::types::SETTINGS as SETTINGS_TYPE;

/// A device to explain.
#[derive(Debug, Clone)]
pub struct DeviceQuery {
    pub groups: Vec<String>,
    /// Platforms to explain; every platform the groups' policies cover when empty.
    pub platforms: Vec<Platform>,
    pub os: Option<OsVersion>,
    /// The device's hardware model identifier (`iPhone17,1`): groups limited to other
    /// `models` send it nothing. Unknown (every group admits it) when absent.
    pub model: Option<String>,
}

/// Where a value came from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Source {
    pub policy: String,
    pub group: String,
    /// How the policy reaches the group, e.g. "`all-macs` includes `engineering`".
    pub via: String,
    pub priority: i64,
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub value: Value,
    /// The span of the value in the policy, for diagnostics.
    #[serde(skip)]
    pub span: Option<crate::source::Span>,
}

/// One key's effective value on the device.
#[derive(Debug, Clone, Serialize)]
pub struct KeyExplanation {
    /// The bsic knob, e.g. `background-security.allow-rollback`.
    pub knob: String,
    /// The Apple key, e.g. `RapidSecurityResponse.EnableRollback`.
    pub key: String,
    pub value: Value,
    /// Apple's combine rule for the key, when several declarations set it.
    pub combine: Option<&'static str>,
    /// The values that make the result.
    pub from: Vec<Source>,
    /// Values that lost: to a higher priority in the same group, or to Apple's combine rule.
    pub overridden: Vec<Overridden>,
    /// Problems worth a look (order-dependent result, an override the device defeats).
    pub warnings: Vec<String>,
}

/// A value that did not make it, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Overridden {
    pub by: String,
    #[serde(flatten)]
    pub source: Source,
}

/// An enforcement target the device receives.
#[derive(Debug, Clone, Serialize)]
pub struct EnforcementExplanation {
    pub version: String,
    pub build: Option<String>,
    pub deadline: String,
    /// The declarations it becomes (base first for BSI builds).
    pub steps: Vec<String>,
    pub source: Source,
    pub note: Option<String>,
    /// Whether the build is a BSI: by the pinned catalog when it lists the build, else by its
    /// letter (what `steps` stages).
    #[serde(skip)]
    pub bsi: bool,
}

/// What one platform's device gets.
#[derive(Debug, Clone, Serialize)]
pub struct PlatformExplanation {
    pub platform: Platform,
    pub settings: Vec<KeyExplanation>,
    pub enforcement: Vec<EnforcementExplanation>,
    pub notes: Vec<String>,
}

/// The full answer for one device.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The groups asked for.
    pub groups: Vec<String>,
    /// Every group the device is in, including those containing the asked ones and `all`.
    pub member_of: Vec<String>,
    /// The groups whose declarations the device receives.
    pub receives_from: Vec<String>,
    pub os: Option<String>,
    /// The device's hardware model, when asked for one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    pub platforms: Vec<PlatformExplanation>,
}

fn source(
    model: &Model,
    sources: &Sources,
    resolution: &Resolution,
    group: &str,
    policy: PolicyIndex,
    field: Field,
    value: Value,
) -> Source {
    let placed = &model.policies[policy];
    let span = model.key_span(&placed.at, field);
    let (line, column) = sources.line_col(span);
    let via = resolution
        .plan(group)
        .and_then(|plan| plan.via.get(&policy))
        .map(|chain| describe_chain(chain))
        .unwrap_or_default();
    Source {
        policy: placed.value.name.to_string(),
        group: group.to_string(),
        via,
        priority: placed.value.priority.unwrap_or(0),
        file: sources.name(span.file).to_string(),
        line,
        column,
        value,
        span: Some(span),
    }
}

/// Explains what a device in `query.groups` gets on each platform.
pub fn explain(
    model: &Model,
    resolution: &Resolution,
    sources: &Sources,
    query: &DeviceQuery,
) -> Explanation {
    let mut member_of = BTreeSet::new();
    for group in &query.groups {
        member_of.extend(resolution.graph.containers(group).into_keys());
    }
    member_of.insert(ALL.to_string());
    // A group whose OS or model filter excludes the device sends it nothing.
    let receiving: Vec<&super::GroupPlan> = member_of
        .iter()
        .filter_map(|g| resolution.plan(g))
        .filter(|plan| match (&plan.os, &query.os) {
            (Some(range), Some(os)) => range.contains(os),
            _ => true,
        })
        .filter(|plan| match (&plan.models, &query.model) {
            (Some(models), Some(model)) => models.iter().any(|m| m.matches(model)),
            _ => true,
        })
        .collect();
    let platforms: Vec<Platform> = if query.platforms.is_empty() {
        let covered: BTreeSet<Platform> = receiving
            .iter()
            .flat_map(|p| p.platforms.keys().copied())
            .collect();
        covered.into_iter().collect()
    } else {
        query.platforms.clone()
    };

    let platforms = platforms
        .into_iter()
        .map(|platform| {
            explain_platform(
                model,
                resolution,
                sources,
                &receiving,
                platform,
                query.os.as_ref(),
            )
        })
        .collect();
    Explanation {
        groups: query.groups.clone(),
        member_of: member_of.into_iter().collect(),
        receives_from: receiving.iter().map(|p| p.group.clone()).collect(),
        os: query.os.as_ref().map(ToString::to_string),
        model: query.model.clone(),
        platforms,
    }
}

/// What a device on `platform` gets from the groups it receives from: a thin sequence of
/// the jobs below, each its own function.
fn explain_platform(
    model: &Model,
    resolution: &Resolution,
    sources: &Sources,
    receiving: &[&super::GroupPlan],
    platform: Platform,
    os: Option<&OsVersion>,
) -> PlatformExplanation {
    let cx = PlatformContext {
        model,
        resolution,
        sources,
        receiving,
        platform,
    };
    let mut notes: Vec<String> = os
        .and_then(|os| predates_declaration(platform, os))
        .into_iter()
        .collect();
    let settings = cx
        .received_keys()
        .into_iter()
        .filter_map(|key| cx.explain_key(key))
        .collect();
    let enforcement: Vec<EnforcementExplanation> = receiving
        .iter()
        .filter_map(|plan| cx.explain_enforcement(plan, os))
        .collect();
    notes.extend(several_targets_note(&enforcement));
    PlatformExplanation {
        platform,
        settings,
        enforcement,
        notes,
    }
}

/// What every per-platform job needs: the model, where values came from, and the groups the
/// device receives declarations from.
struct PlatformContext<'a> {
    model: &'a Model,
    resolution: &'a Resolution,
    sources: &'a Sources,
    receiving: &'a [&'a super::GroupPlan],
    platform: Platform,
}

/// A note when the device's OS is older than the software-update declaration on `platform`:
/// it then takes the settings from the configuration profile.
fn predates_declaration(platform: Platform, os: &OsVersion) -> Option<String> {
    let introduced = crate::apple::declaration(SETTINGS_TYPE)
        .and_then(|p| p.platforms.get(platform.apple_column()))
        .and_then(|s| s.introduced.clone())?;
    let introduced = introduced.parse::<OsVersion>().ok()?;
    (*os < introduced).then(|| {
        format!(
            "{} {os} predates the software-update declaration ({} {introduced}); the device \
                     takes these settings from the configuration profile instead",
            platform.name(),
            platform.name()
        )
    })
}

/// A note when the device works towards several different enforcement targets.
fn several_targets_note(enforcement: &[EnforcementExplanation]) -> Option<String> {
    let distinct: BTreeSet<(&String, &Option<String>)> =
        enforcement.iter().map(|e| (&e.version, &e.build)).collect();
    (distinct.len() > 1).then(|| {
        "the device receives several enforcement targets from different groups; it works towards each of them".into()
    })
}

/// The sources that set one key on the device, and the values that lost to a higher
/// priority within their group.
struct KeyInputs {
    inputs: Vec<Source>,
    overridden: Vec<Overridden>,
}

impl PlatformContext<'_> {
    fn source(&self, group: &str, policy: PolicyIndex, field: Field, value: Value) -> Source {
        source(
            self.model,
            self.sources,
            self.resolution,
            group,
            policy,
            field,
            value,
        )
    }

    /// Every Apple key some received group sets, in knob-table order.
    fn received_keys(&self) -> Vec<&'static str> {
        let mut keys: Vec<&'static str> = Vec::new();
        for plan in self.receiving {
            if let Some(effective) = plan.platforms.get(&self.platform) {
                for key in effective.settings.keys() {
                    if !keys.contains(key) {
                        keys.push(key);
                    }
                }
            }
        }
        keys.sort_by_key(|k| super::KNOBS.iter().position(|knob| knob.apple_key == *k));
        keys
    }

    /// The DDM values each received group sends for `key` (its source spans at `field`).
    fn key_inputs(&self, key: &str, field: Field) -> KeyInputs {
        let mut inputs = Vec::new();
        let mut overridden = Vec::new();
        for plan in self.receiving {
            let Some(resolved) = plan
                .platforms
                .get(&self.platform)
                .and_then(|e| e.settings.get(key))
            else {
                continue;
            };
            if !resolved.channels.contains(&Channel::Ddm) {
                continue;
            }
            inputs.push(self.source(&plan.group, resolved.policy, field, resolved.value.clone()));
            for &lost in &resolved.overridden {
                let value = super::lost_value(self.model, lost, key);
                overridden.push(Overridden {
                    by: format!("priority in group `{}`", plan.group),
                    source: self.source(&plan.group, lost, field, value),
                });
            }
        }
        KeyInputs { inputs, overridden }
    }

    /// One key's value on the device after Apple's combine rule, with what lost and why;
    /// `None` when no received declaration sets it.
    fn explain_key(&self, key: &'static str) -> Option<KeyExplanation> {
        let knob = knob_for(key);
        let KeyInputs {
            inputs,
            mut overridden,
        } = self.key_inputs(key, knob.map_or(Field::Item, Field::Knob));
        if inputs.is_empty() {
            return None;
        }
        let (rule, rangelist) = CombineRule::of(SETTINGS_TYPE, key);
        let values: Vec<Value> = inputs.iter().map(|s| s.value.clone()).collect();
        let combined = combine(rule, &rangelist, &values);
        let mut warnings = Vec::new();
        if combined.order_dependent {
            warnings.push(format!(
                "the device receives different values and Apple's rule `{}` picks the first one it processes: the result depends on an order the MDM does not promise",
                rule.map_or("none", CombineRule::name)
            ));
        }
        let rule_name = rule.map(CombineRule::name);
        let top = inputs
            .iter()
            .enumerate()
            .filter(|(i, _)| combined.winners.contains(i))
            .map(|(_, s)| s.priority)
            .max()
            .unwrap_or(i64::MIN);
        let mut from = Vec::new();
        for (index, input) in inputs.into_iter().enumerate() {
            if combined.winners.contains(&index) {
                from.push(input);
                continue;
            }
            let rule_text = rule_name.unwrap_or("none");
            if input.priority > top {
                warnings.push(format!(
                    "`{}` has the higher priority ({}) but loses on this device: Apple's `{rule_text}` rule merges the groups' declarations",
                    input.policy, input.priority
                ));
            }
            overridden.push(Overridden {
                by: format!("Apple's combine rule `{rule_text}`"),
                source: input,
            });
        }
        // Values equal to the result did not really lose; show each losing source once.
        let mut seen = Vec::new();
        overridden.retain(|o| {
            let id = (o.source.policy.clone(), o.source.value.clone());
            let keep = o.source.value != combined.value && !seen.contains(&id);
            seen.push(id);
            keep
        });
        Some(KeyExplanation {
            knob: knob.map_or_else(|| key.to_string(), |k| k.kdl.to_string()),
            key: key.to_string(),
            value: combined.value,
            combine: if values.len() > 1 { rule_name } else { None },
            from,
            overridden,
            warnings,
        })
    }

    /// The enforcement target `plan` sends the device, if any, with its steps and what it
    /// means for the device's OS.
    fn explain_enforcement(
        &self,
        plan: &super::GroupPlan,
        os: Option<&OsVersion>,
    ) -> Option<EnforcementExplanation> {
        let resolved = plan
            .platforms
            .get(&self.platform)
            .and_then(|e| e.enforce.as_ref())?;
        let target = &resolved.value;
        let field = self.model.policies[resolved.policy]
            .value
            .enforce
            .iter()
            .position(|e| e == target)
            .map_or(Field::Enforce(0), Field::Enforce);
        let staged = crate::apple::catalog::is_staged(
            self.model.catalog.as_deref(),
            &[self.platform],
            target,
        );
        let steps = if staged {
            vec![
                format!("{} (base)", target.version),
                format!(
                    "{} build {}",
                    target.version,
                    target.build.as_ref().map_or("", |b| b.as_str())
                ),
            ]
        } else {
            vec![target.version.to_string()]
        };
        Some(EnforcementExplanation {
            version: target.version.to_string(),
            build: target.build.as_ref().map(ToString::to_string),
            deadline: target.by.to_string(),
            steps,
            source: self.source(
                &plan.group,
                resolved.policy,
                field,
                serde_json::to_value(target).unwrap_or(Value::Null),
            ),
            note: os.map(|os| enforcement_note(os, &target.version, staged)),
            bsi: staged,
        })
    }
}

/// What an enforcement target to `version` (`staged`: a BSI build on top of it) means for a
/// device on `os`.
fn enforcement_note(os: &OsVersion, version: &OsVersion, staged: bool) -> String {
    let order = os.cmp_numeric(version);
    if order.is_gt() {
        format!("{os} is newer than the target; nothing to install")
    } else if order.is_eq() && !staged {
        format!("{os} already meets the target")
    } else if staged && order.is_lt() {
        format!("{os} first installs {version} and then the BSI build")
    } else if staged {
        format!("{os} installs the BSI build on top of its base version")
    } else {
        format!("{os} updates to {version} by the deadline")
    }
}

/// Which groups a policy reaches, for `bsic explain --policy`.
#[derive(Debug, Clone, Serialize)]
pub struct PolicyReach {
    pub policy: String,
    pub file: String,
    pub line: usize,
    pub applies_to: Vec<String>,
    /// Every group whose devices get the policy, with how.
    pub reaches: Vec<(String, String)>,
    pub platforms: Vec<Platform>,
    pub keys: Vec<String>,
}

/// Lists the groups a policy reaches, or `None` for an unknown policy.
pub fn explain_policy(
    model: &Model,
    resolution: &Resolution,
    sources: &Sources,
    name: &str,
) -> Option<PolicyReach> {
    let index = model
        .policies
        .iter()
        .position(|p| p.value.name.as_str() == name)?;
    let placed = &model.policies[index];
    let span = model.key_span(&placed.at, Field::Item);
    let (line, _) = sources.line_col(span);
    let mut reaches = Vec::new();
    for plan in &resolution.plans {
        if let Some(chain) = plan.via.get(&index) {
            reaches.push((plan.group.clone(), describe_chain(chain)));
        }
    }
    for group in resolution.graph.groups() {
        let chain = resolution.graph.containers(group);
        let reached = placed
            .value
            .applies_to
            .iter()
            .find_map(|g| chain.get(g.as_str()));
        if let Some(chain) = reached
            && !reaches.iter().any(|(g, _)| g == group)
        {
            reaches.push((group.to_string(), describe_chain(chain)));
        }
    }
    reaches.sort();
    Some(PolicyReach {
        policy: name.to_string(),
        file: sources.name(span.file).to_string(),
        line,
        applies_to: placed
            .value
            .applies_to
            .iter()
            .map(ToString::to_string)
            .collect(),
        reaches,
        platforms: placed
            .value
            .platforms
            .clone()
            .unwrap_or_else(|| Platform::ALL.to_vec()),
        keys: super::settings_of(&placed.value)
            .into_iter()
            .map(|(k, _)| k.apple_key.to_string())
            .collect(),
    })
}
