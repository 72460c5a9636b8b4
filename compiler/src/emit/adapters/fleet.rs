//! Fleet GitOps (`fleetctl gitops`): per group, the `controls` section of a team file whose
//! `macos_settings`/`ios_settings`/`ipados_settings` list `custom_settings` paths, and whose
//! `macos_updates`/`ios_updates`/`ipados_updates` carry the enforced version and deadline.
//!
//! Fleet sends its own activations, status subscriptions and OS-update enforcement, and it
//! refuses a custom OS-update declaration next to its own update settings; so only the
//! settings declarations and the (unsigned) profiles become custom settings, and an
//! `enforce` becomes `minimum_version` + `deadline`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{
    Artifact, Context, GroupLayout, MdmTarget, TargetFile, TemplateError, declaration_json,
    declaration_type, file_name, is_profile, without_server_token, yaml_string,
};
use crate::emit::ddm::{ENFORCEMENT_TYPE, SETTINGS_TYPE};
use crate::model::Platform;

/// Fleet's key for each Apple platform it manages (Fleet has no tvOS or visionOS controls).
fn settings_key(platform: Platform) -> Option<&'static str> {
    match platform {
        Platform::MacOs => Some("macos"),
        Platform::Ios => Some("ios"),
        Platform::IpadOs => Some("ipados"),
        Platform::TvOs | Platform::VisionOs => None,
    }
}

/// The enforced target per Fleet platform key: (version, deadline date, supplemental build).
fn enforcement(
    artifacts: &[&Artifact],
) -> BTreeMap<&'static str, (String, String, Option<String>)> {
    let mut targets = BTreeMap::new();
    for artifact in artifacts {
        if declaration_type(artifact) != Some(ENFORCEMENT_TYPE) {
            continue;
        }
        let Some(document) = declaration_json(artifact) else {
            continue;
        };
        let payload = &document["Payload"];
        let version = payload["TargetOSVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let date = payload["TargetLocalDateTime"]
            .as_str()
            .unwrap_or_default()
            .split('T')
            .next()
            .unwrap_or_default()
            .to_string();
        let build = payload["TargetBuildVersion"].as_str().map(str::to_string);
        let supplemental = build.filter(|b| b.ends_with(|c: char| c.is_ascii_lowercase()));
        for platform in &artifact.platforms {
            if let Some(key) = settings_key(*platform) {
                // A staged BSI has a base and a supplemental declaration: Fleet takes the
                // version, and the supplemental build is noted.
                let entry = targets
                    .entry(key)
                    .or_insert_with(|| (version.clone(), date.clone(), None));
                if supplemental.is_some() {
                    entry.2.clone_from(&supplemental);
                }
            }
        }
    }
    targets
}

pub(super) struct Fleet;

impl MdmTarget for Fleet {
    fn name(&self) -> &'static str {
        "fleet"
    }

    fn about(&self) -> &'static str {
        "Fleet GitOps: team YAML with custom_settings and OS-update settings"
    }

    fn next_step(&self, out: &str) -> String {
        format!(
            "merge {out}fleet/teams/<group>.yml and {out}fleet/lib/ into your Fleet GitOps repository, then `fleetctl gitops --dry-run`"
        )
    }

    fn render_group(
        &self,
        group: &str,
        members: &[&Artifact],
        context: &Context<'_>,
    ) -> Result<GroupLayout, TemplateError> {
        let mut files = Vec::new();
        let mut settings: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
        let mut skipped: Vec<String> = Vec::new();
        for artifact in members {
            let carried =
                is_profile(artifact) || declaration_type(artifact) == Some(SETTINGS_TYPE);
            if !carried {
                continue;
            }
            let lib = format!("fleet/lib/{group}/{}", file_name(artifact));
            let bytes = if is_profile(artifact) {
                artifact.bytes.clone()
            } else {
                without_server_token(artifact)
            };
            let mut used = false;
            for platform in &artifact.platforms {
                match settings_key(*platform) {
                    Some(key) => {
                        settings
                            .entry(key)
                            .or_default()
                            .push(format!("../lib/{group}/{}", file_name(artifact)));
                        used = true;
                    }
                    None => skipped.push(format!("{} ({})", file_name(artifact), platform.name())),
                }
            }
            if used {
                files.push(TargetFile {
                    path: lib,
                    bytes,
                    upload: format!(
                        "Fleet: custom setting of team `{group}`, listed in fleet/teams/{group}.yml; applied by `fleetctl gitops`"
                    ),
                    artifact: Some(artifact.path.clone()),
                });
            }
        }
        let yaml = team_yaml(group, context, &settings, &enforcement(members), &skipped);
        files.push(TargetFile {
            path: format!("fleet/teams/{group}.yml"),
            bytes: yaml.into_bytes(),
            upload: format!(
                "Fleet: merge into teams/{group}.yml of the GitOps repository; `fleetctl gitops` applies it"
            ),
            artifact: None,
        });
        Ok(GroupLayout {
            files,
            fragments: Vec::new(),
        })
    }
}

/// The team file of `group`: the custom settings per Fleet platform key, the enforced
/// versions (`updates`), and a note for each artifact of a platform Fleet does not manage.
fn team_yaml(
    group: &str,
    context: &Context<'_>,
    settings: &BTreeMap<&'static str, Vec<String>>,
    updates: &BTreeMap<&'static str, (String, String, Option<String>)>,
    skipped: &[String],
) -> String {
    let mut yaml = String::new();
    let _ = writeln!(
        yaml,
        "# Generated by bsic for {}: the `controls` of the Fleet team for group `{group}`.\n\
         # Merge into teams/{group}.yml of your Fleet GitOps repository (keep the paths\n\
         # relative to it), then run `fleetctl gitops -f teams/{group}.yml --dry-run`.",
        context.organization
    );
    let _ = writeln!(yaml, "name: {}", yaml_string(group));
    let _ = writeln!(yaml, "controls:");
    for key in ["macos", "ios", "ipados"] {
        let Some(paths) = settings.get(key) else {
            continue;
        };
        let _ = writeln!(yaml, "  {key}_settings:\n    custom_settings:");
        for path in paths {
            let _ = writeln!(yaml, "      - path: {}", yaml_string(path));
        }
    }
    for (key, (version, deadline, supplemental)) in updates {
        if let Some(build) = supplemental {
            let _ = writeln!(
                yaml,
                "  # Fleet enforces OS versions, not supplemental builds: {version} is required here;\n  \
                 # the BSI build {build} installs as the settings above allow."
            );
        }
        let _ = writeln!(
            yaml,
            "  {key}_updates:\n    minimum_version: {}\n    deadline: {}",
            yaml_string(version),
            yaml_string(deadline)
        );
    }
    for note in skipped {
        let _ = writeln!(yaml, "# not sent: Fleet has no controls for {note}");
    }
    yaml
}
