//! Workspace ONE UEM: each configuration declaration as a custom declaration (`Type`,
//! `Identifier` and `Payload`; UEM sets the `ServerToken` and makes the activation when the
//! profile is assigned), and each profile unsigned, for a Custom Settings payload. One
//! folder per group, matching the smart group the admin assigns them to. Activations and
//! status subscriptions are left out: UEM creates its own.

use super::{
    Artifact, Context, TargetFile, declaration_type, file_name, is_profile, without_server_token,
};
use crate::emit::ddm::{ACTIVATION_TYPE, STATUS_TYPE};

pub(super) fn render(artifacts: &[Artifact], _context: &Context<'_>) -> Vec<TargetFile> {
    let mut files = Vec::new();
    for artifact in artifacts {
        let group = &artifact.group;
        if is_profile(artifact) {
            files.push(TargetFile {
                path: format!("workspace-one/profiles/{group}/{}", file_name(artifact)),
                bytes: artifact.bytes.clone(),
                upload: format!(
                    "Workspace ONE UEM: Resources > Profiles > Add > Custom Settings payload, assigned to smart group `{group}`"
                ),
                artifact: Some(artifact.path.clone()),
            });
            continue;
        }
        let kind = declaration_type(artifact).unwrap_or_default();
        if kind == ACTIVATION_TYPE || kind == STATUS_TYPE {
            continue;
        }
        files.push(TargetFile {
            path: format!("workspace-one/declarations/{group}/{}", file_name(artifact)),
            bytes: without_server_token(artifact),
            upload: format!(
                "Workspace ONE UEM: custom declaration (Declarative Device Management) in a profile assigned to smart group `{group}`"
            ),
            artifact: Some(artifact.path.clone()),
        });
    }
    files
}
