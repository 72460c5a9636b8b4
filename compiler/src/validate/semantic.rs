//! Checks across values and files that a JSON Schema cannot express.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::model::knobs::{KNOBS, settings_of};
use crate::model::path::{EnforceField, Field};
use crate::model::{Channel, Fleet, Group, Lint, OsRange, Platform, Policy};
use crate::validate::diags::ValidateKind;

use serde_json::Value;

use crate::source::FileId;

use super::{Location, Model, Placed};

/// The built-in group every device belongs to.
pub(super) const ALL_GROUP: &str = "all";

/// The project-wide rules (unique names, group references, group filters) on one core while
/// each policy's own rules take the others: run one after the other, the project-wide ones
/// kept a 1,000-policy check on one core for a millisecond. Small projects stay on this
/// thread; the findings are appended in one fixed order either way.
pub(super) fn check(model: &Model, items: &RawItems, diagnostics: &mut Diagnostics) {
    let (project_wide, per_policy) = crate::parallel::join(
        model.policies.len(),
        || {
            let mut found = Diagnostics::default();
            unique_names(model, items, &mut found);
            group_references(model, items, &mut found);
            for group in &model.groups {
                group_checks(model, group, &mut found);
            }
            found
        },
        || {
            let mut found = Diagnostics::default();
            found.check_each(&model.policies, 32, |policy, found| {
                policy_checks(model, policy, found);
            });
            found
        },
    );
    diagnostics.append(project_wide);
    diagnostics.append(per_policy);
}

/// A group's `os` filter must admit some version: `min` above `max` (compared number by
/// number, as the device's predicate does) is a group no device can be in.
fn group_checks(model: &Model, placed: &Placed<Group>, diagnostics: &mut Diagnostics) {
    let Some(OsRange {
        min: Some(min),
        max: Some(max),
    }) = &placed.value.os
    else {
        return;
    };
    if min.cmp_minor(max).is_gt() {
        diagnostics.push(
            Diagnostic::error(
                ValidateKind::EmptyOsRange {
                    min: min.to_string(),
                    max: max.to_string(),
                },
                model.value_span(&placed.at, Field::OsMin),
                "the lowest version",
            )
            .with_related(
                model.value_span(&placed.at, Field::OsMax),
                "is above the highest",
            ),
        );
    }
}

/// Names and references read from the raw projection, so that a policy with an unrelated
/// error still has its name and groups checked. Read from each file where it is projected,
/// so its JSON tree can be dropped there.
#[derive(Debug, Clone, Default)]
pub(super) struct RawItems {
    /// (kind, name, location of the item)
    names: Vec<(&'static str, String, Location)>,
    /// (group name referenced, the item that references it, where in the item)
    references: Vec<(String, Location, Field)>,
}

/// The field of entry `i` of a list of group names.
type ListEntry = fn(usize) -> Field;

impl RawItems {
    /// The names and group references written in one file's projection.
    pub(super) fn of(file: FileId, value: &Value) -> Self {
        let mut names = Vec::new();
        let mut references = Vec::new();
        let lists: [(&str, &str, ListEntry); 2] = [
            ("group", "includes", Field::Includes),
            ("policy", "applies-to", Field::AppliesTo),
        ];
        for (kind, list, field) in lists {
            for (index, item) in array(value, kind).iter().enumerate() {
                let at = Location {
                    file,
                    pointer: format!("/{kind}/{index}"),
                };
                if let Some(name) = item.get("name").and_then(Value::as_str) {
                    names.push((kind, name.to_string(), at.clone()));
                }
                for (i, group) in array(item, list).iter().enumerate() {
                    if let Some(group) = group.as_str() {
                        references.push((group.to_string(), at.clone(), field(i)));
                    }
                }
            }
        }
        Self { names, references }
    }

    /// Empty, with room for all of `files`' items.
    pub(super) fn with_capacity_of<'a>(files: impl Iterator<Item = &'a RawItems> + Clone) -> Self {
        Self {
            names: Vec::with_capacity(files.clone().map(|f| f.names.len()).sum()),
            references: Vec::with_capacity(files.map(|f| f.references.len()).sum()),
        }
    }

    /// Adds another file's, after this one's.
    pub(super) fn append(&mut self, other: &mut RawItems) {
        self.names.append(&mut other.names);
        self.references.append(&mut other.references);
    }
}

/// The array at `key` of `value`, or none.
fn array<'a>(value: &'a Value, key: &str) -> &'a [Value] {
    value
        .get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// Group and policy names are unique (case-insensitively: they become paths); `all` is reserved.
fn unique_names(model: &Model, items: &RawItems, diagnostics: &mut Diagnostics) {
    // Where each name was first defined; spans are looked up only for a problem.
    let mut seen: BTreeMap<(&str, String), &Location> = BTreeMap::new();
    for (kind, name, at) in &items.names {
        let span = || model.value_span(at, Field::Name);
        let duplicate = |name: &str| {
            if *kind == "group" {
                ValidateKind::DuplicateGroup { name: name.into() }
            } else {
                ValidateKind::DuplicatePolicy { name: name.into() }
            }
        };
        if *kind == "group" && name == ALL_GROUP {
            diagnostics.push(Diagnostic::error(
                duplicate(name),
                span(),
                "`all` is built in: every device belongs to it",
            ));
            continue;
        }
        if let Some(first) = seen.insert((kind, name.to_ascii_lowercase()), at) {
            diagnostics.push(
                Diagnostic::error(duplicate(name), span(), "defined again here")
                    .with_related(model.value_span(first, Field::Name), "first defined here"),
            );
        }
    }
}

/// Every group named in `applies-to` or `includes` exists.
fn group_references(model: &Model, items: &RawItems, diagnostics: &mut Diagnostics) {
    let known: BTreeSet<&str> = items
        .names
        .iter()
        .filter(|(kind, ..)| *kind == "group")
        .map(|(_, name, _)| name.as_str())
        .chain(std::iter::once(ALL_GROUP))
        .collect();
    for (name, at, field) in &items.references {
        if !known.contains(name.as_str()) {
            let suggestion = suggest(name, known.iter().copied());
            diagnostics.push(Diagnostic::error(
                ValidateKind::UnknownGroup {
                    name: name.clone(),
                    suggestion,
                },
                model.value_span(at, *field),
                "no group has this name",
            ));
        }
    }
}

fn policy_checks(model: &Model, placed: &Placed<Policy>, diagnostics: &mut Diagnostics) {
    let policy = &placed.value;
    let at = &placed.at;

    let mut platforms = BTreeSet::new();
    for (i, platform) in policy.platforms.iter().flatten().enumerate() {
        if !platforms.insert(*platform) {
            diagnostics.push(Diagnostic::warning(
                ValidateKind::DuplicatePlatform {
                    platform: platform.name().into(),
                },
                model.value_span(at, Field::Platform(i)),
                "listed again",
            ));
        }
    }

    let sets_anything = policy.background_security.is_some()
        || policy.os_updates.is_some()
        || policy.beta.is_some()
        || !policy.enforce.is_empty();
    if !sets_anything {
        diagnostics.push(Diagnostic::warning(
            ValidateKind::EmptyPolicy {
                name: policy.name.to_string(),
            },
            model.value_span(at, Field::Name),
            "this policy has no settings",
        ));
    }

    enforce_checks(model, placed, diagnostics);
    availability_checks(model, placed, diagnostics);
    fleet_checks(model, placed, diagnostics);

    // Deferral without BSI settings: the admin may believe BSIs wait too.
    let defers_updates = policy
        .os_updates
        .as_ref()
        .and_then(|o| o.defer.as_ref())
        .is_some_and(|d| d.minor.is_some() || d.combined.is_some() || d.major.is_some());
    // …or forces BSIs on beside deferred minor updates, the ones a BSI stands next to: the
    // BSIs install while those updates wait. (Deferring only major upgrades says nothing
    // about BSIs.)
    let defers_minor = policy
        .os_updates
        .as_ref()
        .and_then(|o| o.defer.as_ref())
        .is_some_and(|d| d.minor.is_some() || d.combined.is_some());
    let forces_bsis = defers_minor
        && policy
            .background_security
            .as_ref()
            .is_some_and(|b| b.automatic_install == Some(crate::model::AutomaticMode::AlwaysOn));
    if defers_updates && (policy.background_security.is_none() || forces_bsis) {
        let message = if forces_bsis {
            "deferrals do not delay Background Security Improvements: this policy installs them \
             automatically as soon as Apple releases them"
        } else {
            "deferrals do not delay Background Security Improvements"
        };
        diagnostics.push(Diagnostic::lint(
            Lint::BsiIgnoresDeferral,
            message,
            model.key_span(at, Field::Defer),
            "BSIs still arrive as soon as Apple releases them",
        ));
    }

    // Profile-only delivery of BSI settings relies on Restrictions keys Apple deprecates in OS 26.
    let profile_only = policy
        .channels
        .as_ref()
        .is_some_and(|c| !c.contains(&Channel::Ddm));
    if profile_only {
        deprecated_restrictions(model, placed, diagnostics);
    }
}

/// The BSI knobs a profile delivers only through Restrictions keys, which Apple deprecates in
/// OS 26: each one a policy sets is a warning.
fn deprecated_restrictions(model: &Model, placed: &Placed<Policy>, diagnostics: &mut Diagnostics) {
    for knob in KNOBS {
        let Some(name) = knob.kdl.strip_prefix("background-security.") else {
            continue;
        };
        let Some(legacy) = knob.legacy.filter(|l| l.payload == RESTRICTIONS_TYPE) else {
            continue;
        };
        if knob.value(&placed.value).is_none() {
            continue;
        }
        let key = legacy.key;
        diagnostics.push(Diagnostic::warning(
            ValidateKind::Deprecated {
                message: format!("`{name}` is delivered only as the Restrictions key `{key}`"),
                fact: format!(
                    "Apple deprecates `{key}` in iOS 26 and macOS 26 (honoured on iOS 16-18 \
                     and macOS 13-15); add \"ddm\" to `channels` so OS 26 devices get \
                     `RapidSecurityResponse` from the software-update declaration"
                ),
            },
            model.key_span(&placed.at, Field::Knob(knob)),
            "profile channel only",
        ));
    }
}

/// `enforce` nodes: one per platform, platforms the policy covers, and build sanity.
fn enforce_checks(model: &Model, placed: &Placed<Policy>, diagnostics: &mut Diagnostics) {
    let policy = &placed.value;
    let at = &placed.at;
    let mut seen: BTreeMap<Option<Platform>, usize> = BTreeMap::new();
    for (i, enforce) in policy.enforce.iter().enumerate() {
        if let Some(first) = seen.insert(enforce.platform, i) {
            let message = match enforce.platform {
                Some(p) => format!(
                    "policy `{}` enforces two targets for {}",
                    policy.name,
                    p.name()
                ),
                None => format!(
                    "policy `{}` enforces two targets for every platform",
                    policy.name
                ),
            };
            diagnostics.push(
                Diagnostic::error(
                    ValidateKind::EnforceOverlap { message },
                    model.key_span(at, Field::Enforce(i)),
                    "second target",
                )
                .with_related(model.key_span(at, Field::Enforce(first)), "first target"),
            );
        }
        if let (Some(platform), Some(platforms)) = (enforce.platform, &policy.platforms)
            && !platforms.contains(&platform)
        {
            diagnostics.push(Diagnostic::error(
                ValidateKind::EnforceOverlap {
                    message: format!(
                        "`{}` is not among this policy's `platforms`",
                        platform.name()
                    ),
                },
                model.value_span(at, Field::EnforceField(i, EnforceField::Platform)),
                "not targeted by this policy",
            ));
        }
        if let Some(build) = &enforce.build
            && build.looks_like_beta()
        {
            diagnostics.push(Diagnostic::warning(
                ValidateKind::BetaBuild {
                    build: build.to_string(),
                },
                model.value_span(at, Field::EnforceField(i, EnforceField::Build)),
                "beta build",
            ));
        }
    }
    if seen.len() > 1 && seen.contains_key(&None) {
        let first = seen.get(&None).copied().unwrap_or(0);
        diagnostics.push(Diagnostic::error(
            ValidateKind::EnforceOverlap {
                message: format!(
                    "policy `{}` mixes `enforce` with and without `platform=`",
                    policy.name
                ),
            },
            model.key_span(at, Field::Enforce(first)),
            "this one has no platform",
        ));
    }
}

/// Knobs set for platforms where Apple says the key does not exist: a warning when some of the
/// policy's platforms honour it, an error when none does.
fn availability_checks(model: &Model, placed: &Placed<Policy>, diagnostics: &mut Diagnostics) {
    let Some(platforms) = &placed.value.platforms else {
        return;
    };
    for (knob, _) in settings_of(&placed.value) {
        let Some(key) = crate::apple::declaration_key(SETTINGS_TYPE, knob.apple_key) else {
            continue;
        };
        let unavailable: Vec<Platform> = platforms
            .iter()
            .copied()
            .filter(|p| {
                !key.platforms
                    .get(p.apple_column())
                    .is_some_and(|s| s.available())
            })
            .collect();
        if unavailable.is_empty() {
            continue;
        }
        let names: Vec<&str> = unavailable.iter().map(|p| p.name()).collect();
        let supported: Vec<String> = key
            .platforms
            .iter()
            .filter(|(_, s)| s.available())
            .map(|(os, s)| format!("{os} {}", s.summary()))
            .collect();
        let fact = format!(
            "Apple defines `{}` for {} only; devices ignore keys they do not know",
            knob.apple_key,
            if supported.is_empty() {
                "no platform".to_string()
            } else {
                supported.join(", ")
            }
        );
        let kind = ValidateKind::UnavailableOnPlatform {
            knob: knob.kdl.rsplit('.').next().unwrap_or(knob.kdl).to_string(),
            platform: names.join(", "),
            fact,
        };
        let at = model.key_span(&placed.at, Field::Knob(knob));
        let label = format!("ignored on {}", names.join(", "));
        diagnostics.push(if unavailable.len() == platforms.len() {
            Diagnostic::error(kind, at, label)
        } else {
            Diagnostic::warning(kind, at, label)
        });
    }
}

/// The declaration type the settings knobs belong to.
use crate::apple::types::SETTINGS as SETTINGS_TYPE;

/// The declaration type of enforcement targets.
use crate::apple::types::ENFORCEMENT as ENFORCEMENT_TYPE;

/// The profile payload of the deprecated `allowRapidSecurityResponse*` keys.
use crate::apple::types::RESTRICTIONS as RESTRICTIONS_TYPE;

/// With `fleet` in bsic.kdl: knobs that the fleet's oldest devices ignore because Apple
/// introduced the key (or the whole declaration) later.
fn fleet_checks(model: &Model, placed: &Placed<Policy>, diagnostics: &mut Diagnostics) {
    let Some(fleet) = &model.project.fleet else {
        return;
    };
    let policy = &placed.value;
    let covered = policy
        .platforms
        .clone()
        .unwrap_or_else(|| Platform::ALL.to_vec());
    let profile = policy
        .channels
        .as_ref()
        .is_none_or(|c| c.contains(&Channel::Profile));
    let older = |declaration: &str, key: Option<&str>| -> Vec<String> {
        covered
            .iter()
            .filter_map(|platform| {
                let minimum = fleet.minimum(*platform)?;
                // A key Apple marks n/a on the platform is another lint's business.
                let introduced =
                    crate::apple::introduced(declaration, key, platform.apple_column())?;
                (*minimum < introduced)
                    .then(|| format!("{} {minimum} (needs {introduced})", platform.name()))
            })
            .collect()
    };
    for (knob, _) in settings_of(policy) {
        let behind = older(SETTINGS_TYPE, Some(knob.apple_key));
        if behind.is_empty() {
            continue;
        }
        let route = if profile {
            "bsic also writes the configuration profile, which those devices take instead where a legacy key exists"
        } else {
            "this policy is DDM-only, so those devices get nothing: add \"profile\" to `channels`"
        };
        diagnostics.push(Diagnostic::warning(
            ValidateKind::FleetIgnores {
                message: format!(
                    "part of the fleet ignores `{}`: {}",
                    knob.kdl,
                    behind.join(", ")
                ),
                fact: format!(
                    "Apple introduced `{}` later than the fleet's oldest devices; {route}",
                    knob.apple_key
                ),
            },
            model.key_span(&placed.at, Field::Knob(knob)),
            "too new for part of the fleet",
        ));
    }
    supervision_checks(model, placed, fleet, &covered, diagnostics);
    for (i, _) in policy.enforce.iter().enumerate() {
        let behind = older(ENFORCEMENT_TYPE, None);
        if !behind.is_empty() {
            diagnostics.push(Diagnostic::warning(
                ValidateKind::FleetIgnores {
                    message: format!("part of the fleet cannot be enforced by declaration: {}", behind.join(", ")),
                    fact: "Apple introduced software-update enforcement declarations in macOS 14 and iOS 17; \
                           schedule updates for older devices with the MDM's ScheduleOSUpdate command"
                        .into(),
                },
                model.key_span(&placed.at, Field::Enforce(i)),
                "too new for part of the fleet",
            ));
        }
    }
}

/// With `fleet` in bsic.kdl: knobs that unsupervised or user-enrolled devices of the fleet
/// cannot receive at all.
fn supervision_checks(
    model: &Model,
    placed: &Placed<Policy>,
    fleet: &Fleet,
    covered: &[Platform],
    diagnostics: &mut Diagnostics,
) {
    for (knob, _) in settings_of(&placed.value) {
        let mut missed = Vec::new();
        for platform in covered {
            let Some(support) =
                crate::apple::support(SETTINGS_TYPE, Some(knob.apple_key), platform.apple_column())
            else {
                continue;
            };
            if !support.available() {
                continue;
            }
            if fleet.unsupervised == Some(true) && support.supervised_only() {
                missed.push(format!("unsupervised {} devices", platform.name()));
            }
            if fleet.user_enrollment == Some(true) && support.forbids_user_enrollment() {
                missed.push(format!("user-enrolled {} devices", platform.name()));
            }
        }
        if !missed.is_empty() {
            diagnostics.push(Diagnostic::warning(
                ValidateKind::FleetIgnores {
                    message: format!("`{}` does not reach {}", knob.kdl, missed.join(", ")),
                    fact: format!(
                        "Apple allows `{}` only on supervised devices or device enrollments there (see `bsic keys`)",
                        knob.apple_key
                    ),
                },
                model.key_span(&placed.at, Field::Knob(knob)),
                "not for the whole fleet",
            ));
        }
    }
}
