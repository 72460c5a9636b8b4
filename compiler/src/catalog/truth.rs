//! The checks of a group's `models` and its enforcement targets against the pinned catalog:
//! unknown models, BSIs not built for a group's models, versions some models cannot run. The
//! facts they read (releases, supported devices, board IDs) are `apple::catalog`'s.

use std::collections::{BTreeMap, BTreeSet};

use crate::apple::catalog::{Catalog, Release};
use crate::catalog::diags::CatalogKind;
use crate::diag::{Diagnostic, Diagnostics, suggest};
use crate::model::path::{EnforceField, Field};
use crate::model::{BuildVersion, ModelPattern, OsVersion, Platform};
use crate::resolve::Resolution;
use crate::source::Span;
use crate::validate::Model;

/// A group's `models` patterns that match no model the catalog knows: an error with a
/// did-you-mean over the catalog's models. Only when the catalog lists supported devices.
pub(super) fn unknown_models(catalog: &Catalog, model: &Model, diagnostics: &mut Diagnostics) {
    if !catalog.has_devices() {
        return;
    }
    for placed in &model.groups {
        let Some(patterns) = &placed.value.models else {
            continue;
        };
        let platforms = placed
            .value
            .platforms
            .clone()
            .unwrap_or_else(|| Platform::ALL.to_vec());
        let known = catalog.known_models(&platforms);
        if known.is_empty() {
            continue;
        }
        for (i, pattern) in patterns.iter().enumerate() {
            if known.iter().any(|m| pattern.matches(m)) {
                continue;
            }
            let hint = suggest(pattern.as_str(), known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default();
            diagnostics.push(Diagnostic::error(
                CatalogKind::UnknownModel {
                    message: format!(
                        "no release in the catalog supports a model `{pattern}`{hint}"
                    ),
                },
                model.value_span(&placed.at, Field::Model(i)),
                "unknown model",
            ));
        }
    }
}

/// Every enforcement target of a group limited to `models`, checked against the catalog: a
/// BSI the catalog does not list for some of the group's models is an error naming them and
/// the BSI build the catalog lists for them; an OS version some of them cannot run is a
/// warning.
pub(super) fn model_targets(
    catalog: &Catalog,
    model: &Model,
    resolution: &Resolution,
    diagnostics: &mut Diagnostics,
) {
    if !catalog.has_devices() {
        return;
    }
    let mut reported = BTreeSet::new();
    for plan in &resolution.plans {
        let Some(patterns) = &plan.models else {
            continue;
        };
        for (platform, effective) in &plan.platforms {
            let Some(target) = &effective.enforce else {
                continue;
            };
            let placed = &model.policies[target.policy];
            let index = target.enforce_index(model);
            let key = (plan.group.clone(), target.policy, index);
            if reported.contains(&key) {
                continue;
            }
            let platforms = [*platform];
            let group_models = concrete_models(catalog, &platforms, patterns);
            if group_models.is_empty() {
                continue;
            }
            let span = |field| model.value_span(&placed.at, Field::EnforceField(index, field));
            let group = GroupModels {
                catalog,
                group: &plan.group,
                platform: *platform,
                models: &group_models,
            };
            let found = match &target.value.build {
                Some(build) if group.release_for_models(build).is_some() => {
                    group.bsi_not_for_all(build, span(EnforceField::Build))
                }
                _ => group.cannot_run(&target.value.version, span(EnforceField::Version)),
            };
            if let Some(diagnostic) = found {
                diagnostics.push(diagnostic);
                reported.insert(key);
            }
        }
    }
}

/// The concrete models of a group with `models`, on one platform, and the catalog.
struct GroupModels<'a> {
    catalog: &'a Catalog,
    group: &'a str,
    platform: Platform,
    models: &'a BTreeSet<&'a str>,
}

impl GroupModels<'_> {
    /// The BSI release `build` is, when the catalog lists the devices it is for.
    fn release_for_models(&self, build: &BuildVersion) -> Option<&Release> {
        self.catalog
            .release_of(&[self.platform], build.as_str())
            .filter(|release| release.extra.is_some() && !release.devices.is_empty())
    }

    /// An error when BSI build `build` is not for every model of the group, naming the right
    /// build for the others.
    fn bsi_not_for_all(&self, build: &BuildVersion, at: Span) -> Option<Diagnostic> {
        let release = self.release_for_models(build)?;
        let supported = self.catalog.models_of(release);
        let missing: Vec<&str> = self
            .models
            .iter()
            .copied()
            .filter(|m| !supported.contains(m))
            .collect();
        if missing.is_empty() {
            return None;
        }
        let platforms = [self.platform];
        Some(Diagnostic::error(
            CatalogKind::BsiModels {
                message: format!(
                    "BSI build {build} ({} {}) is not for {} of group `{}`{}",
                    release.version,
                    release.extra.as_deref().unwrap_or_default(),
                    list(&missing),
                    self.group,
                    right_build(self.catalog, &platforms, release, &missing)
                ),
            },
            at,
            "not for all of the group's models",
        ))
    }

    /// A warning when some models of the group cannot run `version`: the catalog lists that
    /// version for other models only.
    fn cannot_run(&self, version: &OsVersion, at: Span) -> Option<Diagnostic> {
        let runs: BTreeSet<&str> = self
            .catalog
            .on(self.platform)
            .filter(|r| r.version == version.as_str() && r.extra.is_none())
            .flat_map(|r| r.devices.iter().map(|d| self.catalog.model_of(d)))
            .collect();
        let cannot: Vec<&str> = self
            .models
            .iter()
            .copied()
            .filter(|m| !runs.contains(m))
            .collect();
        if runs.is_empty() || cannot.is_empty() {
            return None;
        }
        Some(Diagnostic::warning(
            CatalogKind::ModelsCannotRun {
                message: format!(
                    "{} of group `{}` cannot run {} {version}: the catalog lists it for other models",
                    list(&cannot),
                    self.group,
                    self.platform.name(),
                ),
            },
            at,
            "not for all of the group's models",
        ))
    }
}

/// A BSI build whose base is no longer the latest release of its major version for the
/// models it supports: a warning naming the newer release. A BSI installs only on the latest
/// minor version of its base, so devices already past it never get it.
pub(super) fn superseded(
    catalog: &Catalog,
    platforms: &[Platform],
    build: &BuildVersion,
    at: crate::source::Span,
    diagnostics: &mut Diagnostics,
) {
    let Some(bsi) = catalog
        .release_of(platforms, build.as_str())
        .filter(|r| r.extra.is_some())
    else {
        return;
    };
    let major = |v: &str| v.split('.').next().unwrap_or_default().to_string();
    let models = catalog.models_of(bsi);
    let newer = platforms
        .iter()
        .flat_map(|p| catalog.on(*p))
        .filter(|r| r.extra.is_none() && major(&r.version) == major(&bsi.version))
        .filter(|r| crate::model::compare_versions(&r.version, &bsi.version).is_gt())
        .filter(|r| {
            models.is_empty()
                || r.devices.is_empty()
                || r.devices
                    .iter()
                    .any(|d| models.contains(catalog.model_of(d)))
        })
        .max_by(|a, b| crate::model::compare_versions(&a.version, &b.version));
    if let Some(newer) = newer {
        diagnostics.push(Diagnostic::warning(
            CatalogKind::BsiSuperseded {
                message: format!(
                    "BSI build {build} is for {} {} only, and the catalog lists the newer {}: \
                     devices on it never get this BSI",
                    bsi.platform, bsi.version, newer.version
                ),
            },
            at,
            "superseded base",
        ));
    }
}

/// The model identifiers the catalog knows on `platforms` that `patterns` admit (a pattern
/// the catalog knows nothing of is reported by [`unknown_models`]).
fn concrete_models<'a>(
    catalog: &'a Catalog,
    platforms: &[Platform],
    patterns: &[ModelPattern],
) -> BTreeSet<&'a str> {
    catalog
        .known_models(platforms)
        .into_iter()
        .filter(|m| patterns.iter().any(|p| p.matches(m)))
        .collect()
}

/// `iPhone18,1` / `iPhone18,1 and iPhone18,2` / `a, b and c`, in backticks; past six, the
/// first five and how many more.
fn list(models: &[&str]) -> String {
    let quoted: Vec<String> = models.iter().map(|m| format!("`{m}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        many if many.len() > 6 => {
            format!(
                "{} and {} more models",
                many[..5].join(", "),
                many.len() - 5
            )
        }
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The did-you-mean of a BSI that is not for some models: for each of them the BSI build the
/// catalog lists (the same version's first, then the newest), or that it lists none.
fn right_build(
    catalog: &Catalog,
    platforms: &[Platform],
    wrong: &Release,
    missing: &[&str],
) -> String {
    let mut builds: BTreeMap<&str, (&Release, Vec<&str>)> = BTreeMap::new();
    let mut none = Vec::new();
    for model in missing {
        let best = platforms
            .iter()
            .flat_map(|p| catalog.on(*p))
            .filter(|r| r.extra.is_some() && r.build != wrong.build)
            .filter(|r| r.devices.iter().any(|d| catalog.model_of(d) == *model))
            .min_by(|a, b| {
                (a.version != wrong.version)
                    .cmp(&(b.version != wrong.version))
                    .then_with(|| crate::model::compare_versions(&b.version, &a.version))
                    .then_with(|| a.build.cmp(&b.build))
            });
        match best {
            Some(release) => builds
                .entry(release.build.as_str())
                .or_insert_with(|| (release, Vec::new()))
                .1
                .push(model),
            None => none.push(*model),
        }
    }
    let all = builds.len() == 1 && none.is_empty();
    let mut parts: Vec<String> = builds
        .values()
        .map(|(release, models)| {
            format!(
                "for {} the catalog lists BSI build {} ({} {}): did you mean `version=\"{}\" build=\"{}\"`?",
                if all { "them".to_string() } else { list(models) },
                release.build,
                release.version,
                release.extra.as_deref().unwrap_or_default(),
                release.version,
                release.build
            )
        })
        .collect();
    if !none.is_empty() {
        parts.push(format!(
            "the catalog lists no BSI for {}: enforce an OS version they run instead",
            list(&none)
        ));
    }
    format!("; {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_ids_map_from_data_only() {
        let catalog = Catalog::default();
        assert_eq!(catalog.model_of("J413AP"), "Mac14,2");
        assert_eq!(catalog.model_of("J999XAP"), "J999XAP", "no guessing");
        assert_eq!(catalog.model_of("iPhone18,1"), "iPhone18,1");
        let mut own = Catalog::default();
        own.boards.insert("J413AP".into(), "Mac99,1".into());
        assert_eq!(
            own.model_of("J413AP"),
            "Mac99,1",
            "the snapshot's own table first"
        );
    }
}
