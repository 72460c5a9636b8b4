//! DDM declarations: software-update settings, enforcement (staged for BSI builds), status
//! subscriptions and the activations that tie them to devices.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::model::{Channel, Enforce, Platform};
use crate::resolve::{Effective, GroupPlan, PolicyIndex};
use crate::validate::Model;

use super::ids::{platform_label, server_token};
use super::predicate::{MODEL_STATUS_ITEM, family_predicate, model_predicate, os_predicate};
use super::{Artifact, ArtifactKind, partition};

pub(super) use crate::apple::types::ACTIVATION as ACTIVATION_TYPE;
pub(super) use crate::apple::types::ENFORCEMENT as ENFORCEMENT_TYPE;
pub(super) use crate::apple::types::SETTINGS as SETTINGS_TYPE;
pub(super) use crate::apple::types::STATUS_SUBSCRIPTIONS as STATUS_TYPE;

/// Status items that show whether a BSI and an enforced update landed.
const STATUS_ITEMS: &[&str] = &[
    "device.operating-system.build-version",
    "device.operating-system.family",
    "device.operating-system.supplemental.build-version",
    "device.operating-system.supplemental.extra-version",
    "device.operating-system.version",
    "management.declarations",
    "softwareupdate.failure-reason",
    "softwareupdate.install-reason",
    "softwareupdate.install-state",
    "softwareupdate.pending-version",
];

/// The settings payload one platform gets over DDM: nested Apple keys.
fn settings_payload(effective: &Effective) -> (Map<String, Value>, Vec<PolicyIndex>) {
    let mut payload = Map::new();
    let mut sources = Vec::new();
    for (key, resolved) in &effective.settings {
        if !resolved.channels.contains(&Channel::Ddm) {
            continue;
        }
        insert_dotted(&mut payload, key, resolved.value.clone());
        sources.push(resolved.policy);
    }
    sources.sort_unstable();
    sources.dedup();
    (payload, sources)
}

fn insert_dotted(map: &mut Map<String, Value>, key: &str, value: Value) {
    match key.split_once('.') {
        Some((head, rest)) => {
            let inner = map.entry(head).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(inner) = inner {
                insert_dotted(inner, rest, value);
            }
        }
        None => {
            map.insert(key.to_string(), value);
        }
    }
}

/// A declaration in progress: everything but the bytes.
struct Declaration {
    kind: String,
    identifier: String,
    payload: Value,
    platforms: Vec<Platform>,
    sources: Vec<PolicyIndex>,
}

impl Declaration {
    fn into_artifact(self, group: &str) -> Artifact {
        let token = server_token(&self.kind, &self.identifier, &self.payload);
        let document = json!({
            "Type": self.kind,
            "Identifier": self.identifier,
            "ServerToken": token,
            "Payload": self.payload,
        });
        let mut bytes = serde_json::to_vec_pretty(&document).unwrap_or_default();
        bytes.push(b'\n');
        Artifact {
            path: format!("ddm/{group}/{}.json", self.identifier),
            bytes,
            kind: ArtifactKind::Declaration {
                declaration_type: self.kind,
            },
            identifier: self.identifier,
            token,
            group: group.to_string(),
            platforms: self.platforms,
            sources: self.sources,
            content_sha256: None,
        }
    }
}

/// Platform → identifiers of the configurations a device of that platform needs activated.
type Needs = BTreeMap<Platform, BTreeSet<String>>;

/// Every declaration of one group: its configurations (settings, enforcement), then the
/// status subscription and the activations that tie them to devices.
pub(super) fn emit_group(model: &Model, plan: &GroupPlan) -> Vec<Artifact> {
    let prefix = model.project.identifier_prefix.as_str();
    let base = format!("{prefix}.{}", plan.group);
    let mut needs: Needs = plan
        .platforms
        .keys()
        .map(|p| (*p, BTreeSet::new()))
        .collect();
    let mut declarations = settings_declarations(&base, plan, &mut needs);
    declarations.extend(enforcement_declarations(model, &base, plan, &mut needs));
    if declarations.is_empty() {
        return Vec::new();
    }
    declarations.push(status_subscription(&base, plan, &mut needs));
    declarations.extend(activations(&base, plan, needs));
    declarations
        .into_iter()
        .map(|d| d.into_artifact(&plan.group))
        .collect()
}

/// Software-update settings, one declaration per distinct payload.
fn settings_declarations(base: &str, plan: &GroupPlan, needs: &mut Needs) -> Vec<Declaration> {
    let settings: BTreeMap<Platform, (Map<String, Value>, Vec<PolicyIndex>)> = plan
        .platforms
        .iter()
        .map(|(p, e)| (*p, settings_payload(e)))
        .collect();
    let variants: Vec<_> = partition(&settings)
        .into_iter()
        .filter(|(_, (payload, _))| !payload.is_empty())
        .collect();
    let several = variants.len() > 1;
    let mut declarations = Vec::new();
    for (platforms, (payload, sources)) in variants {
        let identifier = labelled(base, "settings", several.then_some(&platforms));
        require(needs, &platforms, &identifier);
        declarations.push(Declaration {
            kind: SETTINGS_TYPE.into(),
            identifier,
            payload: Value::Object(payload),
            platforms,
            sources,
        });
    }
    declarations
}

/// Enforcement, staged base → supplemental when the target is a BSI build (as the pinned
/// catalog says, or inferred from the build without one).
fn enforcement_declarations(
    model: &Model,
    base: &str,
    plan: &GroupPlan,
    needs: &mut Needs,
) -> Vec<Declaration> {
    let enforcement: BTreeMap<Platform, Option<(Enforce, PolicyIndex)>> = plan
        .platforms
        .iter()
        .map(|(p, e)| {
            let target = e
                .enforce
                .as_ref()
                .filter(|r| r.channels.contains(&Channel::Ddm))
                .map(|r| (r.value.clone(), r.policy));
            (*p, target)
        })
        .collect();
    let variants: Vec<_> = partition(&enforcement)
        .into_iter()
        .filter(|(_, t)| t.is_some())
        .collect();
    let several = variants.len() > 1;
    let mut declarations = Vec::new();
    for (platforms, target) in variants {
        let Some((enforce, policy)) = target else {
            continue;
        };
        let stem = labelled(base, "enforce", several.then_some(&platforms));
        let staged =
            crate::apple::catalog::is_staged(model.catalog.as_deref(), &platforms, &enforce);
        for (identifier, payload) in enforcement_payloads(&stem, &enforce, staged) {
            require(needs, &platforms, &identifier);
            declarations.push(Declaration {
                kind: ENFORCEMENT_TYPE.into(),
                identifier,
                payload,
                platforms: platforms.clone(),
                sources: vec![policy],
            });
        }
    }
    declarations
}

/// One status subscription per group, so admins can see what landed; activated on every
/// platform that has a configuration.
fn status_subscription(base: &str, plan: &GroupPlan, needs: &mut Needs) -> Declaration {
    let status_id = format!("{base}.status");
    // A group limited to models also reports the model, so status can tell who it reached.
    let model_item = plan.models.is_some().then_some(MODEL_STATUS_ITEM);
    let mut names: Vec<&str> = STATUS_ITEMS.iter().copied().chain(model_item).collect();
    names.sort_unstable();
    let status_items: Vec<Value> = names.iter().map(|name| json!({ "Name": name })).collect();
    let covered: Vec<Platform> = needs
        .iter()
        .filter(|(_, n)| !n.is_empty())
        .map(|(p, _)| *p)
        .collect();
    require(needs, &covered, &status_id);
    Declaration {
        kind: STATUS_TYPE.into(),
        identifier: status_id,
        payload: json!({ "StatusItems": status_items }),
        platforms: covered,
        sources: plan.policies.clone(),
    }
}

/// Activations: one per set of platforms that need the same configurations.
fn activations(base: &str, plan: &GroupPlan, needs: Needs) -> Vec<Declaration> {
    let needs: Needs = needs.into_iter().filter(|(_, n)| !n.is_empty()).collect();
    let variants = partition(&needs);
    let several = variants.len() > 1;
    let mut declarations = Vec::new();
    for (platforms, configurations) in variants {
        let identifier = labelled(base, "activation", several.then_some(&platforms));
        let mut payload = Map::new();
        payload.insert(
            "StandardConfigurations".into(),
            Value::Array(configurations.into_iter().map(Value::String).collect()),
        );
        if let Some(predicate) = activation_predicate(&platforms, plan) {
            payload.insert("Predicate".into(), Value::String(predicate));
        }
        declarations.push(Declaration {
            kind: ACTIVATION_TYPE.into(),
            identifier,
            payload: Value::Object(payload),
            platforms,
            sources: plan.policies.clone(),
        });
    }
    declarations
}

/// The activation's predicate: the platforms' OS family, the group's OS range and its
/// hardware models, each parenthesised when there are several.
fn activation_predicate(platforms: &[Platform], plan: &GroupPlan) -> Option<String> {
    let conditions: Vec<String> = family_predicate(platforms)
        .into_iter()
        .chain(plan.os.as_ref().and_then(os_predicate))
        .chain(plan.models.as_deref().and_then(model_predicate))
        .collect();
    match conditions.as_slice() {
        [] => None,
        [one] => Some(one.clone()),
        many => Some(
            many.iter()
                .map(|c| format!("({c})"))
                .collect::<Vec<_>>()
                .join(" AND "),
        ),
    }
}

/// Records that devices of `platforms` need the configuration `identifier` activated.
fn require(needs: &mut Needs, platforms: &[Platform], identifier: &str) {
    for platform in platforms {
        needs
            .entry(*platform)
            .or_default()
            .insert(identifier.to_string());
    }
}

/// `<base>.<kind>` or `<base>.<kind>.<platforms>` when a group needs several variants.
fn labelled(base: &str, kind: &str, platforms: Option<&Vec<Platform>>) -> String {
    match platforms {
        Some(platforms) => format!("{base}.{kind}.{}", platform_label(platforms)),
        None => format!("{base}.{kind}"),
    }
}

/// The enforcement declarations for one target. Apple installs a supplemental (BSI) build
/// only on top of its base version, so a BSI target (`staged`) becomes two declarations: the
/// base version first, then the supplemental build.
fn enforcement_payloads(stem: &str, enforce: &Enforce, staged: bool) -> Vec<(String, Value)> {
    let payload = |build: Option<&str>| {
        let mut map = Map::new();
        map.insert("TargetOSVersion".into(), enforce.version.as_str().into());
        if let Some(build) = build {
            map.insert("TargetBuildVersion".into(), build.into());
        }
        map.insert("TargetLocalDateTime".into(), enforce.by.as_str().into());
        if let Some(url) = &enforce.details {
            map.insert("DetailsURL".into(), url.as_str().into());
        }
        Value::Object(map)
    };
    match &enforce.build {
        Some(build) if staged => vec![
            (format!("{stem}.base"), payload(None)),
            (format!("{stem}.bsi"), payload(Some(build.as_str()))),
        ],
        Some(build) => vec![(stem.to_string(), payload(Some(build.as_str())))],
        None => vec![(stem.to_string(), payload(None))],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsi_targets_are_staged() {
        let enforce: Enforce = serde_json::from_value(json!({
            "version": "26.3.1", "build": "25D771280a", "by": "2026-04-01T09:00:00"
        }))
        .unwrap();
        let staged = enforcement_payloads("p.g.enforce", &enforce, true);
        assert_eq!(staged.len(), 2);
        assert_eq!(staged[0].0, "p.g.enforce.base");
        assert!(staged[0].1.get("TargetBuildVersion").is_none());
        assert_eq!(staged[1].1["TargetBuildVersion"], "25D771280a");
    }
}
