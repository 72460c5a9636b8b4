//! The lints: every configurable warning, declared once.
//!
//! [`lints!`] below is the one list. Each entry gives the variant, the name used in the
//! diagnostic code (`bsic::NAME`) and in bsic.kdl's `lints { NAME "deny" }` block, a summary
//! (the project schema's description, so editors show it) and the help line of the
//! diagnostic. Everything else reads the list: the project file's `lints` block is a map over
//! [`Lint`], its JSON schema lists [`Lint::ALL`], and the diagnostic of a lint takes its code,
//! help and default level from here. Adding a lint is one entry plus the code that fires it
//! and its docs (`docs/architecture.md`, "Adding a lint"); a unit test checks the docs and the
//! schema list every entry.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How seriously to take each lint: `allow` (silent), `warn` (the default) or `deny` (error).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum LintLevel {
    Allow,
    Warn,
    Deny,
}

/// Declares [`Lint`] and its table: variant, name, summary and help, once each.
macro_rules! lints {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $name:literal, $summary:literal, $help:literal;
    )+) => {
        /// A configurable lint: valid input that is likely wrong. Each is a warning unless
        /// bsic.kdl's `lints` block sets another [`LintLevel`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Lint {
            $( $(#[doc = $doc])* $variant, )+
        }

        impl Lint {
            /// Every lint, in declaration order.
            pub const ALL: &'static [Lint] = &[$(Lint::$variant),+];

            /// Every lint's name, in the order of [`Lint::ALL`].
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name in diagnostic codes (`bsic::NAME`) and in bsic.kdl's `lints` block.
            pub fn name(self) -> &'static str {
                match self { $(Lint::$variant => $name,)+ }
            }

            /// What the lint is about, in one line: the project schema's description.
            pub fn summary(self) -> &'static str {
                match self { $(Lint::$variant => $summary,)+ }
            }

            /// The help line of its diagnostic: why it matters and how to silence it.
            pub fn help(self) -> &'static str {
                match self { $(Lint::$variant => $help,)+ }
            }
        }
    };
}

lints! {
    /// A deadline already in the past.
    PastDeadline = "past-deadline",
        "An enforcement deadline already in the past.",
        "devices past the deadline install at once; move `by` into the future (the check uses SOURCE_DATE_EPOCH or today)";
    /// Rollback allowed while the same policy forces automatic BSI install.
    RollbackWithForcedInstall = "rollback-with-forced-install",
        "Rollback allowed while the same policy forces automatic BSI install.",
        "a forced BSI that users may remove again comes back at the next install; set `allow-rollback #false` or `automatic-install \"allowed\"`";
    /// BSIs switched off for a group that also enforces a supplemental build.
    BsiOffWithBsiTarget = "bsi-off-with-bsi-target",
        "BSIs not offered to a group that also enforces a BSI build.",
        "with `offer #false` users are not offered BSIs, but the enforced supplemental build still installs at its deadline; make sure that is intended";
    /// A supplemental target whose base version bsic stages on its own.
    StagedBase = "staged-base",
        "A BSI target whose base version bsic stages on its own.",
        "Apple installs a supplemental (BSI) build only on top of its base version, so bsic also enforces the base version by the same deadline";
    /// A priority override that Apple's combine rule defeats on the device.
    IneffectiveOverride = "ineffective-override",
        "A priority override that Apple's combine rule defeats on devices in both groups.",
        "a device in both groups receives both declarations and Apple merges them key by key, so the higher priority cannot win here; make the groups disjoint or align the values";
    /// A key whose effective value depends on the order the MDM sends declarations in.
    OrderDependent = "order-dependent",
        "A key whose value on the device depends on the order declarations arrive in.",
        "Apple merges this key with enum-last/first, which depends on an order the MDM does not promise; give both groups the same value";
    /// Deferrals in a policy that leaves BSIs alone, as if they delayed BSIs too.
    BsiIgnoresDeferral = "bsi-ignores-deferral",
        "Deferrals set where BSIs are not managed: BSIs ignore deferrals.",
        "Apple: Background Security Improvements are not considered by the major, minor or system deferral; stage BSIs with groups and `automatic-install` instead";
    /// A policy whose platforms no group it applies to admits.
    NoDevice = "no-device",
        "A policy whose platforms none of its groups admit.",
        "the policy's `platforms` and its groups' `platforms` filters have nothing in common, so no device gets it";
    /// A group that no policy reaches, directly or through a group that includes it.
    UnreachedGroup = "unreached-group",
        "A group no policy reaches.",
        "apply a policy to it (or to a group that includes it), or remove it";
    /// A group limited by `os` or `models` that is sent a configuration profile, which
    /// cannot tell its devices apart.
    UnfilteredProfile = "unfiltered-profile",
        "A group limited by `os` or `models` that gets a configuration profile: profiles have no predicate.",
        "a profile installs on every device the MDM scopes it to, whatever its OS version or model; scope the profile to the matching devices in the MDM, or send these policies by DDM only with `channels \"ddm\"`";
}

impl Lint {
    /// The level a lint has when bsic.kdl does not set one.
    pub fn default_level(self) -> LintLevel {
        LintLevel::Warn
    }

    /// The lint named `name` in bsic.kdl, if there is one.
    pub fn from_name(name: &str) -> Option<Lint> {
        Lint::ALL.iter().copied().find(|lint| lint.name() == name)
    }
}

impl fmt::Display for Lint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Lint {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Lint {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = Cow::<str>::deserialize(deserializer)?;
        Lint::from_name(&name).ok_or_else(|| serde::de::Error::unknown_variant(&name, Lint::NAMES))
    }
}

/// `lints { … }`: one optional level per lint, keyed by the lint's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Lints(pub BTreeMap<Lint, LintLevel>);

impl Lints {
    /// The level configured for `lint`, or its default.
    pub fn level(&self, lint: Lint) -> LintLevel {
        self.0.get(&lint).copied().unwrap_or(lint.default_level())
    }
}

/// The schema lists every lint as an optional property, so editors complete the names and an
/// unknown name is located like any other unknown property (with a did-you-mean).
impl JsonSchema for Lints {
    fn schema_name() -> Cow<'static, str> {
        "Lints".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let level = generator.subschema_for::<LintLevel>();
        let mut properties = serde_json::Map::new();
        for lint in Lint::ALL {
            let mut property = level.clone();
            property.insert("description".into(), lint.summary().into());
            properties.insert(lint.name().into(), property.into());
        }
        schemars::json_schema!({
            "description": "`lints { … }`: one optional level per lint.",
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Adding a lint is one entry in [`lints!`]; this test says what else it needs.
    #[cfg(bsic_repo)]
    #[test]
    fn every_lint_has_a_unique_name_help_docs_and_schema_entry() {
        let language = crate::repo::read("docs/language.md");
        let diagnostics = crate::repo::read("docs/diagnostics.md");
        let schema: serde_json::Value =
            serde_json::from_str(&crate::repo::read("schemas/bsic-project.schema.json")).unwrap();
        let in_schema = &schema["$defs"]["Lints"]["properties"];
        let mut names = std::collections::BTreeSet::new();
        for &lint in Lint::ALL {
            let name = lint.name();
            assert!(names.insert(name), "two lints are named `{name}`");
            assert_eq!(Lint::from_name(name), Some(lint));
            assert!(
                !lint.help().is_empty() && !lint.summary().is_empty(),
                "{name}"
            );
            assert!(
                language.contains(&format!("\n| `{name}` | ")),
                "docs/language.md's lint table (§ Lints) has no row for `{name}`"
            );
            assert!(
                diagnostics.contains(&format!("### `bsic::{name}`")),
                "docs/diagnostics.md has no `### `bsic::{name}`` section"
            );
            assert!(
                in_schema.get(name).is_some(),
                "schemas/bsic-project.schema.json lacks `{name}`: regenerate it with `bsic schema --project`"
            );
        }
        assert_eq!(
            in_schema.as_object().map(|o| o.len()),
            Some(Lint::ALL.len())
        );
    }

    #[test]
    fn the_lints_block_is_a_map_over_lint_names() {
        let lints: Lints = serde_json::from_value(
            serde_json::json!({"staged-base": "allow", "no-device": "deny"}),
        )
        .unwrap();
        assert_eq!(lints.level(Lint::StagedBase), LintLevel::Allow);
        assert_eq!(lints.level(Lint::NoDevice), LintLevel::Deny);
        assert_eq!(lints.level(Lint::PastDeadline), LintLevel::Warn);
        let unknown = serde_json::from_value::<Lints>(serde_json::json!({"staged-bse": "allow"}));
        assert!(unknown.unwrap_err().to_string().contains("staged-base"));
    }
}
