//! The knobs of a policy as Apple keys: one table maps the language onto
//! `com.apple.configuration.softwareupdate.settings`.
//!
//! It is part of the model, not of a stage: validate checks each knob's availability,
//! resolve combines knobs, emit writes them, import reads them back, and the language server
//! explains them, all from this table.

use serde_json::{Value, json};

use super::{BetaProgram, Policy};

/// One knob: where it is written in KDL and the Apple key it sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Knob {
    /// The KDL path, e.g. `background-security.allow-rollback`.
    pub kdl: &'static str,
    /// The JSON pointer under a policy, e.g. `/background-security/allow-rollback`.
    pub pointer: &'static str,
    /// The dotted key in the software-update settings payload.
    pub apple_key: &'static str,
}

/// Every settings knob, in the order Apple lists the keys.
pub const KNOBS: &[Knob] = &[
    Knob {
        kdl: "os-updates.notifications",
        pointer: "/os-updates/notifications",
        apple_key: "Notifications",
    },
    Knob {
        kdl: "os-updates.defer.combined",
        pointer: "/os-updates/defer/combined",
        apple_key: "Deferrals.CombinedPeriodInDays",
    },
    Knob {
        kdl: "os-updates.defer.major",
        pointer: "/os-updates/defer/major",
        apple_key: "Deferrals.MajorPeriodInDays",
    },
    Knob {
        kdl: "os-updates.defer.minor",
        pointer: "/os-updates/defer/minor",
        apple_key: "Deferrals.MinorPeriodInDays",
    },
    Knob {
        kdl: "os-updates.defer.system",
        pointer: "/os-updates/defer/system",
        apple_key: "Deferrals.SystemPeriodInDays",
    },
    Knob {
        kdl: "os-updates.recommended-cadence",
        pointer: "/os-updates/recommended-cadence",
        apple_key: "RecommendedCadence",
    },
    Knob {
        kdl: "os-updates.download",
        pointer: "/os-updates/download",
        apple_key: "AutomaticActions.Download",
    },
    Knob {
        kdl: "os-updates.install",
        pointer: "/os-updates/install",
        apple_key: "AutomaticActions.InstallOSUpdates",
    },
    Knob {
        kdl: "background-security.automatic-install",
        pointer: "/background-security/automatic-install",
        apple_key: "AutomaticActions.InstallSecurityUpdate",
    },
    Knob {
        kdl: "background-security.offer",
        pointer: "/background-security/offer",
        apple_key: "RapidSecurityResponse.Enable",
    },
    Knob {
        kdl: "background-security.allow-rollback",
        pointer: "/background-security/allow-rollback",
        apple_key: "RapidSecurityResponse.EnableRollback",
    },
    Knob {
        kdl: "os-updates.allow-standard-user-updates",
        pointer: "/os-updates/allow-standard-user-updates",
        apple_key: "AllowStandardUserOSUpdates",
    },
    Knob {
        kdl: "beta.enrollment",
        pointer: "/beta/enrollment",
        apple_key: "Beta.ProgramEnrollment",
    },
    Knob {
        kdl: "beta.offer-program",
        pointer: "/beta/offer-program",
        apple_key: "Beta.OfferPrograms",
    },
    Knob {
        kdl: "beta.require-program",
        pointer: "/beta/require-program",
        apple_key: "Beta.RequireProgram",
    },
];

/// The knob for an Apple key.
pub fn knob_for(apple_key: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.apple_key == apple_key)
}

/// The settings a policy sets, as (knob, Apple value) pairs in [`KNOBS`] order.
pub fn settings_of(policy: &Policy) -> Vec<(&'static Knob, Value)> {
    let bsi = policy.background_security.as_ref();
    let os = policy.os_updates.as_ref();
    let defer = os.and_then(|o| o.defer.as_ref());
    let beta = policy.beta.as_ref();
    let program = |p: &BetaProgram| json!({ "Description": p.description, "Token": p.token });
    let values: Vec<Option<Value>> = vec![
        os.and_then(|o| o.notifications).map(Value::from),
        defer.and_then(|d| d.combined).map(Value::from),
        defer.and_then(|d| d.major).map(Value::from),
        defer.and_then(|d| d.minor).map(Value::from),
        defer.and_then(|d| d.system).map(Value::from),
        os.and_then(|o| o.recommended_cadence)
            .map(|c| c.apple().into()),
        os.and_then(|o| o.download).map(|m| m.apple().into()),
        os.and_then(|o| o.install).map(|m| m.apple().into()),
        bsi.and_then(|b| b.automatic_install)
            .map(|m| m.apple().into()),
        bsi.and_then(|b| b.offer).map(Value::from),
        bsi.and_then(|b| b.allow_rollback).map(Value::from),
        os.and_then(|o| o.allow_standard_user_updates)
            .map(Value::from),
        beta.and_then(|b| b.enrollment).map(|m| m.apple().into()),
        beta.filter(|b| !b.offer_program.is_empty())
            .map(|b| Value::Array(b.offer_program.iter().map(program).collect())),
        beta.and_then(|b| b.require_program.as_ref()).map(program),
    ];
    KNOBS
        .iter()
        .zip(values)
        .filter_map(|(knob, value)| value.map(|v| (knob, v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_knob_has_a_unique_key_and_pointer() {
        let mut keys: Vec<_> = KNOBS.iter().map(|k| k.apple_key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), KNOBS.len());
        for knob in KNOBS {
            assert_eq!(
                knob.pointer.trim_start_matches('/').replace('/', "."),
                knob.kdl
            );
        }
    }
}
