//! The diagnostics of the validate stage: shape errors (a node, property, type or value the
//! schema does not allow) and semantic checks of the typed model (duplicates, unknown groups,
//! Apple's availability and deprecation facts).
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares (locations, severity,
//! the sink, rendering limits) and lists every stage's codes in `diag::all_codes`.

use crate::diag::{did_you_mean, quote_list};
use crate::model::{
    BuildVersion, DetailsUrl, IdentifierPrefix, LocalDateTime, ModelPattern, OsVersion,
};

/// What kind of value a format check expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OsVersion,
    BuildVersion,
    LocalDateTime,
    Url,
    Identifier,
    Name,
    DateTime,
    Uuid,
    Model,
}

impl Format {
    /// The format a schema names (`"os-version"`, …); a name bsic does not know is checked
    /// as a [`Format::Name`].
    pub(crate) fn named(name: &str) -> Self {
        match name {
            OsVersion::FORMAT => Format::OsVersion,
            BuildVersion::FORMAT => Format::BuildVersion,
            LocalDateTime::FORMAT => Format::LocalDateTime,
            DetailsUrl::FORMAT => Format::Url,
            IdentifierPrefix::FORMAT => Format::Identifier,
            ModelPattern::FORMAT => Format::Model,
            "date-time" => Format::DateTime,
            "uuid" => Format::Uuid,
            _ => Format::Name,
        }
    }

    /// A valid value, for help texts.
    pub(crate) fn example(self) -> &'static str {
        match self {
            Format::OsVersion => "26.3.1",
            Format::BuildVersion => "25D125",
            Format::LocalDateTime => "2026-04-01T09:00:00",
            Format::Url => "https://it.example.com/updates",
            Format::Identifier => "com.example.it",
            Format::Name => "pilot",
            Format::DateTime => "2027-01-01T00:00:00Z",
            Format::Uuid => "6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D",
            Format::Model => "Mac17,*",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Format::OsVersion => "an OS version",
            Format::BuildVersion => "a build version",
            Format::LocalDateTime => "a local date-time",
            Format::Url => "an absolute https URL",
            Format::Identifier => "a reverse-DNS identifier",
            Format::Name => "a name",
            Format::DateTime => "an RFC 3339 date-time",
            Format::Uuid => "a UUID",
            Format::Model => "a hardware model identifier",
        }
    }

    pub(crate) fn help(self) -> &'static str {
        match self {
            Format::OsVersion => {
                "an OS version is MAJOR.MINOR or MAJOR.MINOR.PATCH, e.g. \"26.3.1\""
            }
            Format::BuildVersion => {
                "a build is one or two digits, an upper-case letter, digits and an optional lower-case \
                 supplemental letter, e.g. \"25D125\" or the BSI build \"25D771280a\""
            }
            Format::LocalDateTime => {
                "Apple wants local time as yyyy-mm-ddThh:mm:ss without offset, e.g. \
                 \"2026-04-01T09:00:00\"; the device applies its own time zone"
            }
            Format::Url => "give a full https URL, e.g. \"https://it.example.com/updates\"",
            Format::Identifier => {
                "use reverse-DNS labels of letters, digits and hyphens separated by dots, \
                 e.g. \"com.example.it\""
            }
            Format::Name => {
                "names are 1-64 characters of letters, digits, `-`, `_` and `.`, starting with a \
                 letter or digit, so they can name files and identifiers"
            }
            Format::DateTime => "write a UTC date-time, e.g. \"2027-01-01T00:00:00Z\"",
            Format::Uuid => {
                "Apple wants a UUID of 32 hex digits in the 8-4-4-4-12 form, e.g. \
                 \"6F1D2C4A-0B5E-4C1D-9A8B-2E3F4A5B6C7D\""
            }
            Format::Model => {
                "devices report model identifiers such as \"iPhone17,1\" or \"Mac16,10\" \
                 (`device.model.identifier`); end a family prefix with `*`, e.g. \"Mac17,*\"; \
                 Mac board IDs such as \"J413AP\" are the lookup service's names, not the device's"
            }
        }
    }
}

/// What this stage reports. [`ValidateKind::code`] and [`ValidateKind::help`] complete
/// the message; the derived `ValidateCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(ValidateCode), derive(strum::EnumIter))]
pub enum ValidateKind {
    #[error("unknown node `{name}`")]
    UnknownNode {
        name: String,
        expected: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("unknown property `{name}`")]
    UnknownProperty {
        name: String,
        expected: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("`{node}` is set more than once")]
    DuplicateNode { node: String },
    #[error("`{node}` takes {expected}")]
    WrongShape { node: String, expected: String },
    #[error("{found}, expected {expected}")]
    WrongType {
        expected: String,
        found: String,
        /// A valid value to show in the help, when the schema gives one.
        example: Option<String>,
    },
    #[error("`{value}` is not one of {}", quote_list(allowed))]
    InvalidEnum {
        value: String,
        allowed: Vec<String>,
        suggestion: Option<String>,
    },
    #[error("{value} is out of range {min}..={max}")]
    OutOfRange {
        value: String,
        min: String,
        max: String,
    },
    #[error("missing {what}")]
    MissingRequired { what: String },
    #[error("`{value}` is not {}", format.describe())]
    InvalidFormat {
        value: String,
        format: Format,
        reason: Option<String>,
    },
    #[error("{message}")]
    Schema { message: String },
    #[error("integer {value} does not fit in 64 bits")]
    IntegerOverflow { value: String },
    #[error("string is {length} bytes long, longer than the limit of {limit}")]
    StringTooLong { length: usize, limit: usize },
    #[error("the text holds U+{:04X}, a character XML cannot carry", u32::from(*character))]
    NonXmlCharacter { character: char },
    #[error("policy `{name}` is defined more than once")]
    DuplicatePolicy { name: String },
    #[error("group `{name}` is defined more than once")]
    DuplicateGroup { name: String },
    #[error("unknown group `{name}`")]
    UnknownGroup {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{knob}` has no effect on {platform}")]
    UnavailableOnPlatform {
        knob: String,
        platform: String,
        fact: String,
    },
    #[error("{message}")]
    Deprecated { message: String, fact: String },
    #[error("{message}")]
    FleetIgnores { message: String, fact: String },
    #[error("`{build}` looks like a beta build, not a release or BSI build")]
    BetaBuild { build: String },
    #[error("policy `{name}` sets nothing")]
    EmptyPolicy { name: String },
    #[error("platform `{platform}` is listed more than once")]
    DuplicatePlatform { platform: String },
    #[error("{message}")]
    EnforceOverlap { message: String },
    #[error("`os` range {min} to {max} is empty: {min} is above {max}")]
    EmptyOsRange { min: String, max: String },
}

impl ValidateCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            ValidateCode::UnknownNode => "unknown-node",
            ValidateCode::UnknownProperty => "unknown-property",
            ValidateCode::DuplicateNode => "duplicate-node",
            ValidateCode::WrongShape => "wrong-shape",
            ValidateCode::WrongType => "wrong-type",
            ValidateCode::InvalidEnum => "invalid-value",
            ValidateCode::OutOfRange => "out-of-range",
            ValidateCode::MissingRequired => "missing",
            ValidateCode::InvalidFormat => "invalid-format",
            ValidateCode::Schema => "schema",
            ValidateCode::IntegerOverflow => "integer-overflow",
            ValidateCode::StringTooLong => "string-too-long",
            ValidateCode::NonXmlCharacter => "non-xml-character",
            ValidateCode::DuplicatePolicy => "duplicate-policy",
            ValidateCode::DuplicateGroup => "duplicate-group",
            ValidateCode::UnknownGroup => "unknown-group",
            ValidateCode::UnavailableOnPlatform => "unavailable-on-platform",
            ValidateCode::Deprecated => "deprecated",
            ValidateCode::FleetIgnores => "fleet-ignores",
            ValidateCode::BetaBuild => "beta-build",
            ValidateCode::EmptyPolicy => "empty-policy",
            ValidateCode::DuplicatePlatform => "duplicate-platform",
            ValidateCode::EnforceOverlap => "enforce-overlap",
            ValidateCode::EmptyOsRange => "empty-os-range",
        }
    }
}

impl ValidateKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        ValidateCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            ValidateKind::UnknownNode { expected, suggestion, .. }
            | ValidateKind::UnknownProperty { expected, suggestion, .. } => did_you_mean(suggestion)
                .or_else(|| {
                    (!expected.is_empty()).then(|| format!("expected one of {}", quote_list(expected)))
                }),
            ValidateKind::DuplicateNode { .. } => Some("keep one and remove the others".into()),
            ValidateKind::WrongShape { .. } => Some("see docs/language.md for this node's form".into()),
            ValidateKind::WrongType { expected, .. } if expected.contains("`<") => Some(format!(
                "a device reads a plist value by its element, and Apple's type here is {expected}"
            )),
            ValidateKind::WrongType { expected, example, .. } => Some(if expected.contains("string") {
                match example {
                    Some(example) => format!("quote the value, e.g. \"{example}\""),
                    None => "quote the value".into(),
                }
            } else if expected.contains("#true") {
                "KDL v2 booleans are `#true` and `#false`".into()
            } else {
                format!("write {expected}")
            }),
            ValidateKind::InvalidEnum { suggestion, allowed, .. } => did_you_mean(suggestion)
                .or_else(|| Some(format!("use one of {}", quote_list(allowed)))),
            ValidateKind::OutOfRange { min, max, .. } => {
                Some(format!("the allowed range is {min} to {max}"))
            }
            ValidateKind::MissingRequired { .. } => Some("see docs/language.md for what it needs".into()),
            ValidateKind::InvalidFormat { format, reason, .. } => Some(match reason {
                Some(reason) => format!("{reason}; {}", format.help()),
                None => format.help().to_string(),
            }),
            ValidateKind::Schema { .. } => None,
            ValidateKind::IntegerOverflow { .. } => Some("use a smaller number".into()),
            ValidateKind::StringTooLong { .. } => {
                Some("no policy value needs this much text; shorten it".into())
            }
            ValidateKind::NonXmlCharacter { .. } => Some(
                "profiles are XML 1.0 property lists, which cannot hold control characters other \
                 than tab, line feed and carriage return, nor U+FFFE or U+FFFF, raw or as `&#…;`; \
                 Apple's parser rejects the whole profile, so remove the character"
                    .into(),
            ),
            ValidateKind::DuplicatePolicy { .. } => {
                Some("policy names appear in diagnostics, explanations and the manifest, so each must be unique in the project (ignoring case)".into())
            }
            ValidateKind::DuplicateGroup { .. } => {
                Some("define each group once; several policies can apply to it".into())
            }
            ValidateKind::UnknownGroup { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some("define it with `group \"NAME\"` in any policy file, or use `all`".into())
            }),
            ValidateKind::UnavailableOnPlatform { fact, .. } => Some(fact.clone()),
            ValidateKind::Deprecated { fact, .. } => Some(fact.clone()),
            ValidateKind::FleetIgnores { fact, .. } => Some(fact.clone()),
            ValidateKind::BetaBuild { .. } => Some(
                "beta builds end in a letter too (e.g. 25A5316i); BSI builds carry a long build \
                 number before the letter (e.g. 25D771280a)"
                    .into(),
            ),
            ValidateKind::EmptyPolicy { .. } => Some(
                "add `background-security`, `os-updates`, `beta` or `enforce`, or remove the policy"
                    .into(),
            ),
            ValidateKind::DuplicatePlatform { .. } => Some("list each platform once".into()),
            ValidateKind::EnforceOverlap { .. } => Some(
                "give each `enforce` a distinct `platform=`, or keep a single `enforce`".into(),
            ),
            ValidateKind::EmptyOsRange { .. } => Some(
                "versions compare number by number (26.10 is above 26.2), so no device is in \
                 this group; swap `min` and `max`, or fix the one that is wrong"
                    .into(),
            ),
        }
    }
}
