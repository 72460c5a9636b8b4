//! FileWave. FileWave documents two APIs — the Command Line API (`/inv/api/v1/`) and the
//! FileWave Anywhere API (`/api/`) — and both are about inventory queries, custom fields and
//! devices; neither documents creating a profile Fileset. So the layout holds what FileWave
//! Central and FileWave Anywhere import by hand: each profile, unsigned (FileWave signs what
//! it sends), to import as a profile Fileset (Payload in Anywhere) and associate with the
//! FileWave group named like the bsic group; and each software-update declaration, whose
//! values go into FileWave's DDM configuration editor (FileWave 15.5 and later).
//!
//! The Restrictions profile carries `allowRapidSecurityResponseInstallation` and
//! `allowRapidSecurityResponseRemoval`, the keys FileWave's own Restrictions payload sets for
//! installing and removing Background Security Improvements. Reading status back from
//! FileWave's inventory is `bsic status --export` (see `status::vendor::filewave`).

use super::{Artifact, Context, GroupLayout, MdmTarget, TemplateError, console_layout};

pub(super) struct FileWave;

impl MdmTarget for FileWave {
    fn name(&self) -> &'static str {
        "filewave"
    }

    fn about(&self) -> &'static str {
        "FileWave: unsigned profiles to import as profile Filesets, declarations for its DDM editor"
    }

    fn next_step(&self, out: &str) -> String {
        format!(
            "in FileWave Central, Filesets > New Fileset > Profile > Import each {out}filewave/profiles/GROUP/*.mobileconfig and associate it with GROUP"
        )
    }

    fn render_group(
        &self,
        group: &str,
        members: &[&Artifact],
        _context: &Context<'_>,
    ) -> Result<GroupLayout, TemplateError> {
        Ok(console_layout(
            "filewave",
            group,
            members,
            &format!(
                "FileWave Central: Filesets > New Fileset > Profile > Import (FileWave Anywhere: Payloads > Add > Profile > Import); associate with group `{group}` and update the model"
            ),
            &format!(
                "FileWave: New Fileset > DDM Configuration > Software Update: enter these values; associate with group `{group}`"
            ),
        ))
    }
}
