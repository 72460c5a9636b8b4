//! KMFDDM (the DDM server of NanoHUB): every declaration as its API takes it, one
//! declaration set per group, the set each group's enrollments get, and `upload.sh`, which
//! drives KMFDDM's HTTP API with curl:
//!
//! * `PUT /v1/declarations` with the declaration JSON as body,
//! * `PUT /v1/set-declarations/{set}?declaration={identifier}` for each member of a set,
//! * `GET /v1/set-declarations/{set}`, then `DELETE …?declaration={identifier}` for each
//!   member no longer built, so each set converges on its group's declarations,
//! * `PUT /v1/enrollment-sets/{enrollment-id}?set={set}` for each enrollment ID the admin
//!   lists in `$BSIC_ENROLLMENTS/<group>.txt` (relative to where the script is run from) and
//!   each set of `enrollment-sets.tsv` for that group: the sets of every group whose devices
//!   include the group's (itself, the groups that include it, transitively, and `all`), so a
//!   device gets what `bsic explain` says a device of its group gets; then `DELETE` of the
//!   enrollment's other sets of this project,
//! * with `BSIC_PRUNE=1`, `GET /v1/sets` and the same emptying for `<prefix>.<group>` sets of
//!   groups no longer built,
//!
//! * last, `GET /v1/declarations/{identifier}` for each declaration, to write the server
//!   token map (`server-tokens.json`, see `templates/kmfddm/token-map.sh`): KMFDDM ignores
//!   the `ServerToken` a declaration carries and assigns its own, which is what devices
//!   report, so `bsic status` needs the pair to judge them (`BSIC_TOKENS_ONLY=1` only
//!   refreshes the map),
//!
//! all with HTTP basic auth as user `kmfddm` and the API key. KMFDDM carries declarations
//! only: profiles stay in the generic `profiles/` for the MDM server (NanoMDM) to install.
//!
//! `upload.sh` is `compiler/templates/kmfddm/upload.sh` around one `group.sh` per group; it
//! includes `api.sh` (the one way it talks to KMFDDM: HTTP errors named, the server's message
//! shown) and `token-map.sh`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use minijinja::context;

use super::{
    Artifact, Bodies, Context, Fragment, GroupLayout, MdmTarget, Template, TemplateError,
    TargetFile, declaration_type, file_name, render_upload_script,
};

/// Group → every set its enrollments get, one `group<TAB>set` line each. The groups' fragments
/// of it are their own sets; [`enrollment_sets`] makes the table from them.
const MAPPING: &str = "kmfddm/enrollment-sets.tsv";
/// Each declaration's identifier and bsic's `ServerToken` for it, one per line: what
/// `upload.sh` pairs with the token KMFDDM assigns when it writes the server token map.
const TOKENS: &str = "kmfddm/tokens.tsv";

/// `upload.sh`, around every group's part of it.
const UPLOAD: Template = template!("kmfddm/upload.sh");
/// One group's part of `upload.sh`: its set, filled and assigned.
const GROUP: Template = template!("kmfddm/group.sh");
/// `api METHOD PATH …`, included by `upload.sh`.
const API: Template = template!("kmfddm/api.sh");
/// `write_token_map`, included by `upload.sh`.
const TOKEN_MAP: Template = template!("kmfddm/token-map.sh");

pub(super) struct Kmfddm;

impl MdmTarget for Kmfddm {
    fn name(&self) -> &'static str {
        "kmfddm"
    }

    fn about(&self) -> &'static str {
        "KMFDDM (NanoHUB): declarations, sets, enrollment mapping and an upload script"
    }

    fn next_step(&self, out: &str) -> String {
        format!("KMFDDM_URL=… KMFDDM_API_KEY=… sh {out}kmfddm/upload.sh")
    }

    fn templates(&self) -> &'static [Template] {
        &[UPLOAD, GROUP, API, TOKEN_MAP]
    }

    fn render_group(
        &self,
        group: &str,
        members: &[&Artifact],
        context: &Context<'_>,
    ) -> Result<GroupLayout, TemplateError> {
        let set = format!("{}.{group}", context.identifier_prefix);
        let mut files = Vec::new();
        let mut set_members = String::new();
        let mut tokens = String::new();
        for artifact in members {
            if declaration_type(artifact).is_none() {
                continue;
            }
            let _ = writeln!(set_members, "{}", artifact.identifier);
            let _ = writeln!(tokens, "{}\t{}", artifact.identifier, artifact.token);
            files.push(TargetFile {
                path: format!("kmfddm/declarations/{}", file_name(artifact)),
                bytes: artifact.bytes.clone(),
                upload: "KMFDDM: PUT /v1/declarations (upload.sh)".into(),
                artifact: Some(artifact.path.clone()),
            });
        }
        files.push(TargetFile {
            path: format!("kmfddm/sets/{group}.txt"),
            bytes: set_members.into_bytes(),
            upload: format!("KMFDDM: PUT /v1/set-declarations/{set} for each line (upload.sh)"),
            artifact: None,
        });
        let members = format!("sets/{group}.txt");
        let script = context.render(GROUP.name, context! { group, set => &set, members })?;
        Ok(GroupLayout {
            files,
            fragments: vec![
                Fragment {
                    path: MAPPING,
                    text: format!("{group}\t{set}\n"),
                },
                Fragment {
                    path: UPLOAD.name,
                    text: script,
                },
                Fragment {
                    path: TOKENS,
                    text: tokens,
                },
            ],
        })
    }

    /// The group → set table and `upload.sh`, around every group's fragments.
    fn finish(
        &self,
        bodies: &Bodies,
        context: &Context<'_>,
    ) -> Result<Vec<TargetFile>, TemplateError> {
        Ok(vec![
            TargetFile {
                path: MAPPING.into(),
                bytes: enrollment_sets(bodies.get(MAPPING), context).into_bytes(),
                upload: "KMFDDM: PUT /v1/enrollment-sets/{enrollment-id}?set={set} (upload.sh)"
                    .into(),
                artifact: None,
            },
            TargetFile {
                path: TOKENS.into(),
                bytes: format!("# identifier\tbsic ServerToken\n{}", bodies.get(TOKENS)).into_bytes(),
                upload: "read by upload.sh: paired with KMFDDM's ServerToken in server-tokens.json"
                    .into(),
                artifact: None,
            },
            render_upload_script(UPLOAD, &self.next_step(""), bodies, context)?,
        ])
    }
}

/// The enrollment table, from each group's own set (`own`: `group<TAB>set` lines): for every
/// group, the sets of the groups its devices are members of ([`Context::member_of`]) that have
/// one, in group order. A group with no set of its own is listed when a group that includes it
/// has one, so its enrollments get that; a group that gets no set is left out.
fn enrollment_sets(own: &str, context: &Context<'_>) -> String {
    let own: BTreeMap<&str, &str> = own
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .collect();
    let mut table = String::from(
        "# group\tdeclaration set (each set an enrollment listed for the group gets)\n",
    );
    let mut groups: Vec<&str> = context.member_of.keys().map(String::as_str).collect();
    groups.extend(
        own.keys()
            .copied()
            .filter(|g| !context.member_of.contains_key(*g)),
    );
    groups.sort_unstable();
    for group in groups {
        let containers = context.member_of.get(group);
        let sets = containers
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(containers.is_none().then_some(group))
            .filter_map(|container| own.get(container));
        for set in sets {
            let _ = writeln!(table, "{group}\t{set}");
        }
    }
    table
}
