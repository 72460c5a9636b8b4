//! The diagnostics of the raw declaration and profile checks (`bsic validate`, `bsic import`):
//! what can be wrong with a DDM declaration or a configuration profile that bsic did not write.
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares (locations, severity,
//! the sink, rendering limits) and lists every stage's codes in `diag::all_codes`.

use crate::diag::did_you_mean;

/// What this stage reports. [`RawKind::code`] and [`RawKind::help`] complete
/// the message; the derived `RawCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(RawCode), derive(strum::EnumIter))]
pub enum RawKind {
    #[error("`{key}` appears more than once in this dictionary")]
    DuplicateKey { key: String },
    #[error("unknown {what} `{name}`")]
    UnknownType {
        what: &'static str,
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{file}` is neither a DDM declaration nor a configuration profile")]
    NotRecognized { file: String },
    #[error("identifier `{identifier}` is used by more than one declaration")]
    DuplicateIdentifier { identifier: String },
    #[error("`{key}` is empty")]
    EmptyIdentifier { key: String },
    #[error("unknown status item `{name}`")]
    UnknownStatusItem {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{key}` `{value}` is used by more than one {what}")]
    DuplicatePayloadId {
        key: String,
        value: String,
        what: &'static str,
    },
    #[error("activation names `{identifier}`, which no validated declaration defines")]
    MissingConfiguration { identifier: String },
    #[error("`{key}` is managed by more than one profile")]
    ManagedTwice { key: String },
    #[error("software-update declarations disagree on `{key}`: {first} here, {second} elsewhere")]
    Contradiction {
        key: String,
        first: String,
        second: String,
    },
    #[error("`{key}` needs a supervised device on {platform}")]
    SupervisedOnly { key: String, platform: String },
    #[error("the profile's signature does not verify: {message}")]
    BadSignature { message: String },
    #[error("`{key}` has no bsic policy syntax and was not imported")]
    NotImported { key: String },
}

impl RawCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            RawCode::DuplicateKey => "duplicate-key",
            RawCode::UnknownType => "unknown-type",
            RawCode::NotRecognized => "not-recognized",
            RawCode::DuplicateIdentifier => "duplicate-identifier",
            RawCode::EmptyIdentifier => "empty-identifier",
            RawCode::UnknownStatusItem => "unknown-status-item",
            RawCode::DuplicatePayloadId => "duplicate-payload-id",
            RawCode::MissingConfiguration => "missing-configuration",
            RawCode::ManagedTwice => "managed-twice",
            RawCode::Contradiction => "contradicting-settings",
            RawCode::SupervisedOnly => "supervised-only",
            RawCode::BadSignature => "bad-profile-signature",
            RawCode::NotImported => "not-imported",
        }
    }
}

impl RawKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        RawCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            RawKind::DuplicateKey { .. } => Some(
                "devices keep only one of the values, and which one is not defined; keep one".into(),
            ),
            RawKind::UnknownType { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some("run `bsic keys` or see Apple's device-management reference for the types".into())
            }),
            RawKind::NotRecognized { .. } => Some(
                "a declaration is a JSON object with `Type`, `Identifier`, `ServerToken` and \
                 `Payload`; a profile is a plist dictionary with `PayloadType` \"Configuration\""
                    .into(),
            ),
            RawKind::UnknownStatusItem { suggestion, .. } => did_you_mean(suggestion).or_else(|| {
                Some(
                    "a subscription names one of Apple's status items, e.g. \
                     `softwareupdate.install-state`; the device reports an error for any other"
                        .into(),
                )
            }),
            RawKind::EmptyIdentifier { key } => Some(format!(
                "devices tell declarations, profiles and payloads apart by `{key}`; give it a \
                 unique value, e.g. \"com.example.it.passcode\" (a UUID for `PayloadUUID`)"
            )),
            RawKind::DuplicatePayloadId { key, .. } if key == "PayloadIdentifier" => Some(
                "installing a profile replaces the installed profile with the same \
                 `PayloadIdentifier`, so one of the two is lost; give each profile its own"
                    .into(),
            ),
            RawKind::DuplicatePayloadId { key, .. } => Some(format!(
                "devices tell payloads and profiles apart by `{key}`; give each its own \
                 (`uuidgen` makes one)"
            )),
            RawKind::DuplicateIdentifier { .. } => Some(
                "a device keeps one declaration per identifier; give each declaration its own".into(),
            ),
            RawKind::MissingConfiguration { .. } => Some(
                "the activation stays invalid on the device until every configuration it names \
                 exists; validate the whole repository or fix the identifier"
                    .into(),
            ),
            RawKind::ManagedTwice { .. } => Some(
                "Apple: avoid managing one restriction in several profiles; the most restrictive \
                 value wins, which is easy to lose track of"
                    .into(),
            ),
            RawKind::Contradiction { .. } => Some(
                "a device that gets both combines them by Apple's rule for the key; make them agree \
                 or make sure no device gets both"
                    .into(),
            ),
            RawKind::SupervisedOnly { .. } => {
                Some("unsupervised devices ignore this key".into())
            }
            RawKind::BadSignature { .. } => Some(
                "the profile was changed after signing, or the signature is damaged; sign it again \
                 (`bsic verify` shows the details)"
                    .into(),
            ),
            RawKind::NotImported { .. } => Some(
                "keep delivering it with the original file, or open an issue for bsic syntax".into(),
            ),
        }
    }
}
