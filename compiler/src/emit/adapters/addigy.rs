//! Addigy. Addigy's public API v2 documents devices, policies and facts, and no endpoint that
//! takes a custom profile or a custom declaration (API v1's `/api/profiles` builds profiles
//! from a few payload types of its own). So the layout holds what Addigy's console imports by
//! hand: each profile, unsigned, to upload as a Custom Profile in the policy named like the
//! bsic group; and each software-update declaration, whose values go into that policy's
//! System Updates settings (DDM Enforcement Specific, and Global Settings for the Update
//! Settings declaration: automatic actions, deferrals, notifications, Background Security
//! Improvements). Addigy makes the declarations itself from those settings.
//!
//! Reading status back from Addigy's device facts is `bsic status --export` (see
//! `status::vendor::addigy`).

use super::{Artifact, Context, GroupLayout, MdmTarget, TemplateError, console_layout};

pub(super) struct Addigy;

impl MdmTarget for Addigy {
    fn name(&self) -> &'static str {
        "addigy"
    }

    fn about(&self) -> &'static str {
        "Addigy: unsigned profiles to upload as Custom Profiles, declarations for its System Updates settings"
    }

    fn next_step(&self, out: &str) -> String {
        format!(
            "in Addigy, Policies > GROUP > Device Settings > Custom Profile: upload each {out}addigy/profiles/GROUP/*.mobileconfig"
        )
    }

    fn render_group(
        &self,
        group: &str,
        members: &[&Artifact],
        _context: &Context<'_>,
    ) -> Result<GroupLayout, TemplateError> {
        Ok(console_layout(
            "addigy",
            group,
            members,
            &format!(
                "Addigy: Policies > `{group}` > Device Settings (MDM Configurations) > New > Custom Profile: upload this file"
            ),
            &format!(
                "Addigy: Policies > `{group}` > System Updates (DDM): enter these values (Enforcement Specific for an enforcement, Global Settings for the update settings)"
            ),
        ))
    }
}
