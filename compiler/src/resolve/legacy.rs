//! What a group's configuration profile carries: the resolved settings that go out by
//! profile, as their knobs' legacy keys, on the platforms that still have devices too old
//! for the DDM declaration. Emission writes them; a lint warns when the group's `os` or
//! `models` filter cannot follow them into the profile.

use crate::apple::types::SETTINGS;
use crate::model::knobs::LegacyValue;
use crate::model::{Channel, Platform};
use crate::validate::Model;

use super::{Effective, GroupPlan, PolicyIndex, knob_for};

/// One resolved setting as the keys of a profile payload.
pub struct LegacySetting {
    /// The profile payload type, e.g. `com.apple.applicationaccess`.
    pub payload: &'static str,
    /// The keys and values it writes there (none when it leaves the user's choice).
    pub keys: Vec<(&'static str, LegacyValue)>,
    pub policy: PolicyIndex,
}

/// The settings of `effective` that go out by profile on `platform`, in key order.
pub fn legacy_settings(effective: &Effective, platform: Platform) -> Vec<LegacySetting> {
    effective
        .settings
        .iter()
        .filter(|(_, resolved)| resolved.channels.contains(&Channel::Profile))
        .filter_map(|(key, resolved)| {
            let legacy = knob_for(key)?.legacy?;
            let keys = legacy.profile_keys(&resolved.value, platform)?;
            Some(LegacySetting {
                payload: legacy.payload,
                keys,
                policy: resolved.policy,
            })
        })
        .collect()
}

/// Whether `platform` still has devices too old for the DDM settings declaration: always,
/// unless `bsic.kdl`'s `fleet` says its oldest OS has the declaration.
pub fn has_legacy_devices(model: &Model, platform: Platform) -> bool {
    let Some(minimum) = model
        .project
        .fleet
        .as_ref()
        .and_then(|f| f.minimum(platform))
    else {
        return true;
    };
    crate::apple::introduced(SETTINGS, None, platform.apple_column())
        .is_none_or(|introduced| *minimum < introduced)
}

/// The platforms of `plan` that get a configuration profile: those with legacy devices
/// whose settings write some profile key.
pub fn profile_platforms(model: &Model, plan: &GroupPlan) -> Vec<Platform> {
    plan.platforms
        .iter()
        .filter(|(platform, _)| has_legacy_devices(model, **platform))
        .filter(|(platform, effective)| {
            legacy_settings(effective, **platform)
                .iter()
                .any(|setting| !setting.keys.is_empty())
        })
        .map(|(platform, _)| *platform)
        .collect()
}
