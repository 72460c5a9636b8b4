//! The knobs of a policy as Apple keys: one table maps the language onto
//! `com.apple.configuration.softwareupdate.settings` and onto the legacy profile keys.
//!
//! It is part of the model, not of a stage: validate checks each knob's availability,
//! resolve reads and combines knobs, emit writes them as declarations and profiles, import
//! reads both back, `bsic keys` lists them and the language server explains them, all from
//! this table. Adding an Apple settings key is one [`Knob`] entry (plus its model field and
//! docs line); `raw::import`'s `every_knob_round_trips` test proves the forward and reverse
//! mappings agree for every knob.

use serde_json::{Value, json};

use super::{BetaProgram, Defer, Platform, Policy};
use crate::apple::types::{RESTRICTIONS, SOFTWARE_UPDATE};

/// One knob: where it is written in KDL, the Apple key it sets, how to read it from a
/// policy, and its legacy profile equivalent.
#[derive(Debug, Clone, Copy)]
pub struct Knob {
    /// The KDL path, e.g. `background-security.allow-rollback`.
    pub kdl: &'static str,
    /// The dotted key in the software-update settings payload.
    pub apple_key: &'static str,
    /// The knob's value in a policy, as the settings payload writes it; `None` when unset.
    pub read: fn(&Policy) -> Option<Value>,
    /// The key that carries the same setting in a configuration profile, if any.
    pub legacy: Option<Legacy>,
}

impl PartialEq for Knob {
    /// Knobs are equal when they set the same Apple key (keys are unique in [`KNOBS`]).
    fn eq(&self, other: &Self) -> bool {
        self.apple_key == other.apple_key
    }
}

impl Eq for Knob {}

impl Knob {
    /// The JSON pointer of the knob's value under a policy, e.g.
    /// `/background-security/allow-rollback`: the KDL path, since the projection of KDL to
    /// JSON keeps node and property names.
    pub fn pointer(&self) -> String {
        self.kdl.split('.').fold(String::new(), |mut out, part| {
            out.push('/');
            out.push_str(part);
            out
        })
    }

    /// The knob's value in `policy`, as the settings payload writes it.
    pub fn value(&self, policy: &Policy) -> Option<Value> {
        (self.read)(policy)
    }
}

/// A knob's equivalent in a configuration profile (for devices and MDMs without DDM).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legacy {
    /// The profile payload type, e.g. `com.apple.applicationaccess`.
    pub payload: &'static str,
    /// The key in that payload.
    pub key: &'static str,
    /// A key set to `true` alongside a value that turns something on (a delay, automatic
    /// download); import takes it as implied.
    pub enabler: Option<&'static str>,
    /// The only platform that gets the key, when not every platform the profile covers does.
    pub only_on: Option<Platform>,
    /// How the settings value becomes the profile value and back.
    pub conversion: Conversion,
}

/// How a settings value maps onto its legacy profile value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// A boolean, unchanged.
    Flag,
    /// A number of days, unchanged.
    Days,
    /// `AlwaysOn` ↔ `true`, `AlwaysOff` ↔ `false`; `Allowed` writes no key (the user's choice).
    Mode,
    /// Only `AlwaysOff` has an equivalent: `false`.
    OnlyOff,
}

/// A value a legacy profile key takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegacyValue {
    Flag(bool),
    Days(u64),
}

impl LegacyValue {
    /// Whether the value turns something on, so that the key's enabler goes with it.
    pub fn enables(self) -> bool {
        self != LegacyValue::Flag(false)
    }
}

impl From<LegacyValue> for Value {
    fn from(value: LegacyValue) -> Self {
        match value {
            LegacyValue::Flag(b) => Value::Bool(b),
            LegacyValue::Days(d) => Value::from(d),
        }
    }
}

impl Legacy {
    /// The profile value for the settings value `value`: `None` when this key does not take
    /// it, `Some(None)` when it does but leaves the user's choice (no key written).
    pub fn to_profile(&self, value: &Value) -> Option<Option<LegacyValue>> {
        match self.conversion {
            Conversion::Flag => value.as_bool().map(|b| Some(LegacyValue::Flag(b))),
            Conversion::Days => value.as_u64().map(|d| Some(LegacyValue::Days(d))),
            Conversion::Mode => value.as_str().map(|mode| match mode {
                "AlwaysOn" => Some(LegacyValue::Flag(true)),
                "AlwaysOff" => Some(LegacyValue::Flag(false)),
                _ => None,
            }),
            Conversion::OnlyOff => {
                (value.as_str() == Some("AlwaysOff")).then_some(Some(LegacyValue::Flag(false)))
            }
        }
    }

    /// The settings value for the profile value `value`, or `None` when it has none.
    pub fn from_profile(&self, value: &Value) -> Option<Value> {
        let mode = |on: bool| Value::from(if on { "AlwaysOn" } else { "AlwaysOff" });
        match self.conversion {
            Conversion::Flag => value.as_bool().map(Value::Bool),
            Conversion::Days => value.as_u64().map(Value::from),
            Conversion::Mode => value.as_bool().map(mode),
            Conversion::OnlyOff => (value.as_bool() == Some(false)).then(|| mode(false)),
        }
    }

    /// The profile keys the settings value `value` writes on `platform`, enabler first:
    /// `None` when this key does not take the value there, no keys when it leaves the
    /// user's choice.
    pub fn profile_keys(
        &self,
        value: &Value,
        platform: Platform,
    ) -> Option<Vec<(&'static str, LegacyValue)>> {
        if !self.applies_to(platform) {
            return None;
        }
        let mut keys = Vec::new();
        if let Some(converted) = self.to_profile(value)? {
            if let Some(enabler) = self.enabler.filter(|_| converted.enables()) {
                keys.push((enabler, LegacyValue::Flag(true)));
            }
            keys.push((self.key, converted));
        }
        Some(keys)
    }

    /// Whether the profile for `platform` gets this key.
    pub fn applies_to(&self, platform: Platform) -> bool {
        self.only_on.is_none_or(|only| only == platform)
    }
}

/// The top-level blocks that hold knobs, in the order `bsic fmt`, `bsic import` and
/// `bsic keys` list them.
pub const SECTIONS: [&str; 3] = ["background-security", "os-updates", "beta"];

/// The profile payloads knobs map onto, in the order `bsic keys` lists them.
pub const LEGACY_PAYLOADS: [&str; 2] = [RESTRICTIONS, SOFTWARE_UPDATE];

/// The `enforce` properties and the enforcement declaration keys they set, in KDL order.
pub const ENFORCE_KEYS: [(&str, &str); 4] = [
    ("version", "TargetOSVersion"),
    ("build", "TargetBuildVersion"),
    ("by", "TargetLocalDateTime"),
    ("details", "DetailsURL"),
];

const fn restriction(
    key: &'static str,
    enabler: Option<&'static str>,
    only_on: Option<Platform>,
    conversion: Conversion,
) -> Option<Legacy> {
    Some(Legacy {
        payload: RESTRICTIONS,
        key,
        enabler,
        only_on,
        conversion,
    })
}

const fn software_update(
    key: &'static str,
    enabler: Option<&'static str>,
    conversion: Conversion,
) -> Option<Legacy> {
    Some(Legacy {
        payload: SOFTWARE_UPDATE,
        key,
        enabler,
        only_on: Some(Platform::MacOs),
        conversion,
    })
}

const MACOS: Option<Platform> = Some(Platform::MacOs);

fn defer(p: &Policy) -> Option<&Defer> {
    p.os_updates.as_ref()?.defer.as_ref()
}

fn program(p: &BetaProgram) -> Value {
    json!({ "Description": p.description, "Token": p.token })
}

/// Every settings knob, in the order Apple lists the keys.
pub const KNOBS: &[Knob] = &[
    Knob {
        kdl: "os-updates.notifications",
        apple_key: "Notifications",
        read: |p| p.os_updates.as_ref()?.notifications.map(Value::from),
        legacy: None,
    },
    Knob {
        kdl: "os-updates.defer.combined",
        apple_key: "Deferrals.CombinedPeriodInDays",
        read: |p| defer(p)?.combined.map(Value::from),
        legacy: restriction(
            "enforcedSoftwareUpdateDelay",
            Some("forceDelayedSoftwareUpdates"),
            None,
            Conversion::Days,
        ),
    },
    Knob {
        kdl: "os-updates.defer.major",
        apple_key: "Deferrals.MajorPeriodInDays",
        read: |p| defer(p)?.major.map(Value::from),
        legacy: restriction(
            "enforcedSoftwareUpdateMajorOSDeferredInstallDelay",
            Some("forceDelayedMajorSoftwareUpdates"),
            MACOS,
            Conversion::Days,
        ),
    },
    Knob {
        kdl: "os-updates.defer.minor",
        apple_key: "Deferrals.MinorPeriodInDays",
        read: |p| defer(p)?.minor.map(Value::from),
        legacy: restriction(
            "enforcedSoftwareUpdateMinorOSDeferredInstallDelay",
            Some("forceDelayedSoftwareUpdates"),
            MACOS,
            Conversion::Days,
        ),
    },
    Knob {
        kdl: "os-updates.defer.system",
        apple_key: "Deferrals.SystemPeriodInDays",
        read: |p| defer(p)?.system.map(Value::from),
        legacy: restriction(
            "enforcedSoftwareUpdateNonOSDeferredInstallDelay",
            Some("forceDelayedAppSoftwareUpdates"),
            MACOS,
            Conversion::Days,
        ),
    },
    Knob {
        kdl: "os-updates.recommended-cadence",
        apple_key: "RecommendedCadence",
        read: |p| {
            p.os_updates
                .as_ref()?
                .recommended_cadence
                .map(|c| c.apple().into())
        },
        legacy: None,
    },
    Knob {
        kdl: "os-updates.download",
        apple_key: "AutomaticActions.Download",
        read: |p| p.os_updates.as_ref()?.download.map(|m| m.apple().into()),
        legacy: software_update(
            "AutomaticDownload",
            Some("AutomaticCheckEnabled"),
            Conversion::Mode,
        ),
    },
    Knob {
        kdl: "os-updates.install",
        apple_key: "AutomaticActions.InstallOSUpdates",
        read: |p| p.os_updates.as_ref()?.install.map(|m| m.apple().into()),
        legacy: software_update("AutomaticallyInstallMacOSUpdates", None, Conversion::Mode),
    },
    Knob {
        kdl: "background-security.automatic-install",
        apple_key: "AutomaticActions.InstallSecurityUpdate",
        read: |p| {
            p.background_security
                .as_ref()?
                .automatic_install
                .map(|m| m.apple().into())
        },
        legacy: software_update("CriticalUpdateInstall", None, Conversion::Mode),
    },
    Knob {
        kdl: "background-security.offer",
        apple_key: "RapidSecurityResponse.Enable",
        read: |p| p.background_security.as_ref()?.offer.map(Value::from),
        legacy: restriction(
            "allowRapidSecurityResponseInstallation",
            None,
            None,
            Conversion::Flag,
        ),
    },
    Knob {
        kdl: "background-security.allow-rollback",
        apple_key: "RapidSecurityResponse.EnableRollback",
        read: |p| {
            p.background_security
                .as_ref()?
                .allow_rollback
                .map(Value::from)
        },
        legacy: restriction(
            "allowRapidSecurityResponseRemoval",
            None,
            None,
            Conversion::Flag,
        ),
    },
    Knob {
        kdl: "os-updates.allow-standard-user-updates",
        apple_key: "AllowStandardUserOSUpdates",
        read: |p| {
            p.os_updates
                .as_ref()?
                .allow_standard_user_updates
                .map(Value::from)
        },
        legacy: None,
    },
    Knob {
        kdl: "beta.enrollment",
        apple_key: "Beta.ProgramEnrollment",
        read: |p| p.beta.as_ref()?.enrollment.map(|m| m.apple().into()),
        legacy: software_update("AllowPreReleaseInstallation", None, Conversion::OnlyOff),
    },
    Knob {
        kdl: "beta.offer-program",
        apple_key: "Beta.OfferPrograms",
        read: |p| {
            let programs = &p.beta.as_ref()?.offer_program;
            (!programs.is_empty()).then(|| programs.iter().map(program).collect())
        },
        legacy: None,
    },
    Knob {
        kdl: "beta.require-program",
        apple_key: "Beta.RequireProgram",
        read: |p| p.beta.as_ref()?.require_program.as_ref().map(program),
        legacy: None,
    },
];

/// The knob at KDL path `kdl`. Meant for constants (`const OFFER: &Knob = knob("…")`), where
/// it runs at compile time, so that a misspelt path does not compile.
pub const fn knob(kdl: &str) -> &'static Knob {
    let mut i = 0;
    while i < KNOBS.len() {
        let candidate = KNOBS[i].kdl.as_bytes();
        let wanted = kdl.as_bytes();
        if candidate.len() == wanted.len() {
            let mut j = 0;
            while j < wanted.len() && candidate[j] == wanted[j] {
                j += 1;
            }
            if j == wanted.len() {
                return &KNOBS[i];
            }
        }
        i += 1;
    }
    panic!("no knob has this KDL path");
}

/// `background-security.offer`: whether BSIs are offered at all.
pub const OFFER: &Knob = knob("background-security.offer");
/// `background-security.allow-rollback`: whether users may remove a BSI.
pub const ALLOW_ROLLBACK: &Knob = knob("background-security.allow-rollback");
/// `background-security.automatic-install`: whether BSIs install by themselves.
pub const AUTOMATIC_INSTALL: &Knob = knob("background-security.automatic-install");

/// The knob for an Apple key.
pub fn knob_for(apple_key: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| k.apple_key == apple_key)
}

/// The knob whose legacy key is `key` in profile payload `payload`.
pub fn knob_for_legacy(payload: &str, key: &str) -> Option<&'static Knob> {
    KNOBS.iter().find(|k| {
        k.legacy
            .is_some_and(|l| l.payload == payload && l.key == key)
    })
}

/// Whether `key` of profile payload `payload` is an enabler some knob sets alongside its value.
pub fn is_legacy_enabler(payload: &str, key: &str) -> bool {
    KNOBS.iter().any(|k| {
        k.legacy
            .is_some_and(|l| l.payload == payload && l.enabler == Some(key))
    })
}

/// The settings a policy sets, as (knob, Apple value) pairs in [`KNOBS`] order.
pub fn settings_of(policy: &Policy) -> Vec<(&'static Knob, Value)> {
    KNOBS
        .iter()
        .filter_map(|knob| knob.value(policy).map(|v| (knob, v)))
        .collect()
}

/// A policy that sets every knob, for the tests that prove each mapping both ways. Modes
/// are `always-on`/`always-off` and the enrollment is `always-off`, so that every knob with
/// a legacy key writes it.
#[cfg(test)]
pub(crate) fn every_knob_policy() -> Policy {
    use super::{AutomaticMode, BackgroundSecurity, Beta, Cadence, OsUpdates};
    let program = |n: &str| BetaProgram {
        description: format!("Program {n}"),
        token: format!("token-{n}"),
    };
    let json = json!({ "name": "every-knob", "applies-to": ["all"] });
    let mut policy: Policy = serde_json::from_value(json).expect("a minimal policy");
    policy.background_security = Some(BackgroundSecurity {
        automatic_install: Some(AutomaticMode::AlwaysOn),
        offer: Some(true),
        allow_rollback: Some(false),
    });
    policy.os_updates = Some(OsUpdates {
        download: Some(AutomaticMode::AlwaysOn),
        install: Some(AutomaticMode::AlwaysOff),
        defer: Some(Defer {
            combined: Some(10),
            major: Some(30),
            minor: Some(7),
            system: Some(3),
        }),
        notifications: Some(false),
        allow_standard_user_updates: Some(true),
        recommended_cadence: Some(Cadence::Oldest),
    });
    policy.beta = Some(Beta {
        enrollment: Some(AutomaticMode::AlwaysOff),
        offer_program: vec![program("1"), program("2")],
        require_program: Some(program("3")),
    });
    policy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_knob_has_a_unique_key() {
        let mut keys: Vec<_> = KNOBS.iter().map(|k| k.apple_key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), KNOBS.len());
        let mut legacy: Vec<_> = KNOBS
            .iter()
            .filter_map(|k| k.legacy.map(|l| (l.payload, l.key)))
            .collect();
        let with_legacy = legacy.len();
        legacy.sort_unstable();
        legacy.dedup();
        assert_eq!(legacy.len(), with_legacy);
    }

    /// Each knob's accessor reads its own field: the policy that sets every knob, serialized,
    /// holds at the knob's pointer what the accessor returns (up to the Apple spelling).
    #[test]
    fn every_accessor_reads_the_field_at_its_kdl_path() {
        let policy = every_knob_policy();
        let json = serde_json::to_value(&policy).expect("policies serialize");
        for knob in KNOBS {
            let value = knob.value(&policy);
            assert!(value.is_some(), "{} is not set", knob.kdl);
            let written = json.pointer(&knob.pointer());
            assert!(
                written.is_some(),
                "{} is not at {}",
                knob.kdl,
                knob.pointer()
            );
            let mut bare = policy.clone();
            bare.background_security = None;
            bare.os_updates = None;
            bare.beta = None;
            assert!(knob.value(&bare).is_none(), "{} reads a default", knob.kdl);
        }
        // Clearing one field clears exactly one knob.
        let mut cleared = policy.clone();
        if let Some(defer) = cleared.os_updates.as_mut().and_then(|o| o.defer.as_mut()) {
            defer.minor = None;
        }
        let missing: Vec<_> = KNOBS
            .iter()
            .filter(|k| k.value(&cleared).is_none())
            .map(|k| k.kdl)
            .collect();
        assert_eq!(missing, ["os-updates.defer.minor"]);
    }

    /// The profile table in `docs/language.md` says what this table does: each legacy key's
    /// row names its knob, payload, enabler and platforms, and the knobs without one are
    /// listed as having no profile key.
    #[cfg(bsic_repo)]
    #[test]
    fn the_docs_profile_table_follows_the_knobs() {
        let docs = crate::repo::read("docs/language.md");
        let rows: Vec<Vec<&str>> = docs
            .split("| Setting | Payload | Keys | Platforms |")
            .nth(1)
            .expect("the profile table")
            .lines()
            .skip(2)
            .take_while(|line| line.starts_with('|'))
            .map(|line| line.trim_matches('|').split(" | ").map(str::trim).collect())
            .collect();
        for knob in KNOBS {
            let name = knob.kdl.rsplit('.').next().unwrap_or(knob.kdl);
            let Some(legacy) = knob.legacy else {
                let none = rows
                    .iter()
                    .find(|r| r[1] == "—")
                    .expect("the no-profile-key row");
                assert!(
                    none[0].contains(&format!("`{name}`")),
                    "{} has a profile key?",
                    knob.kdl
                );
                continue;
            };
            let row = rows
                .iter()
                .find(|r| r[2].contains(&format!("`{}`", legacy.key)))
                .unwrap_or_else(|| panic!("no row for {}", legacy.key));
            assert!(row[0].contains(name), "{}: {row:?}", knob.kdl);
            assert_eq!(row[1], format!("`{}`", legacy.payload), "{}", knob.kdl);
            if let Some(enabler) = legacy.enabler {
                assert!(
                    row[2].contains(&format!("`{enabler}`")),
                    "{}: {row:?}",
                    knob.kdl
                );
            }
            let platforms = legacy.only_on.map_or("all", |p| p.name());
            assert!(row[3].starts_with(platforms), "{}: {row:?}", knob.kdl);
        }
    }

    /// Every legacy conversion reverses: the profile value of a knob's value maps back to it.
    #[test]
    fn legacy_conversions_reverse() {
        let policy = every_knob_policy();
        for knob in KNOBS {
            let (Some(legacy), Some(value)) = (knob.legacy, knob.value(&policy)) else {
                continue;
            };
            let profile = legacy.to_profile(&value).flatten();
            let profile = profile.unwrap_or_else(|| panic!("{} writes no profile key", knob.kdl));
            let profile = Value::from(profile);
            assert_eq!(legacy.from_profile(&profile), Some(value), "{}", knob.kdl);
            assert_eq!(knob_for_legacy(legacy.payload, legacy.key), Some(knob));
        }
        let mode = software_update("X", None, Conversion::Mode).expect("a legacy key");
        assert_eq!(mode.to_profile(&"Allowed".into()), Some(None));
        assert_eq!(mode.to_profile(&true.into()), None);
    }
}
