//! The diagnostics of the build catalog: a target Apple never released, or a feed entry that is
//! not a release.
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares (locations, severity,
//! the sink, rendering limits) and lists every stage's codes in `diag::all_codes`.

/// What this stage reports. [`CatalogKind::code`] and [`CatalogKind::help`] complete
/// the message; the derived `CatalogCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(CatalogCode), derive(strum::EnumIter))]
pub enum CatalogKind {
    #[error("{message}")]
    Catalog { message: String },
    #[error("{message}")]
    FeedEntry { message: String },
    #[error("{message}")]
    UnknownModel { message: String },
    #[error("{message}")]
    BsiModels { message: String },
    #[error("{message}")]
    ModelsCannotRun { message: String },
    #[error("{message}")]
    ExpiredBsi { message: String },
    #[error("{message}")]
    BsiSuperseded { message: String },
}

impl CatalogCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogCode::Catalog => "catalog",
            CatalogCode::FeedEntry => "feed-entry",
            CatalogCode::UnknownModel => "unknown-model",
            CatalogCode::BsiModels => "bsi-models",
            CatalogCode::ModelsCannotRun => "models-cannot-run",
            CatalogCode::ExpiredBsi => "expired-bsi",
            CatalogCode::BsiSuperseded => "bsi-superseded",
        }
    }
}

impl CatalogKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        CatalogCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            CatalogKind::Catalog { .. } => Some(
                "the build catalog (`catalog` in bsic.kdl) lists Apple's real releases; refresh it with `bsic catalog import FEED.json`".into(),
            ),
            CatalogKind::FeedEntry { .. } => Some(
                "`bsic catalog import` reads Apple's public versions JSON or a SOFA feed as \
                 downloaded; an entry that is not a release (a known platform, an OS version, a \
                 build) is refused and nothing is written, so download the feed again"
                    .into(),
            ),
            CatalogKind::UnknownModel { .. } => Some(
                "`models` takes the model identifiers devices report (`device.model.identifier`), \
                 e.g. \"iPhone17,1\", or a family prefix ending in `*`; with a catalog pinned \
                 each must be a model some release supports (Macs are listed by board ID and \
                 mapped to model identifiers from data)"
                    .into(),
            ),
            CatalogKind::BsiModels { .. } => Some(
                "a Background Security Improvement is built for some hardware models only \
                 (Apple's `SupportedDevices`); devices of other models never install it and the \
                 deadline passes unmet: enforce the BSI the catalog lists for them, or split the \
                 group by `models`"
                    .into(),
            ),
            CatalogKind::ModelsCannotRun { .. } => Some(
                "Apple's lookup service lists which models each release supports; a device that \
                 cannot run the target version ignores the enforcement"
                    .into(),
            ),
            CatalogKind::BsiSuperseded { .. } => Some(
                "a BSI installs only on the latest minor version of its base: devices that \
                 already run a newer release of the same major version never get it, and \
                 the newer release carries its fixes; enforce that release (or its own BSI)"
                    .into(),
            ),
            CatalogKind::ExpiredBsi { .. } => Some(
                "Apple stops offering a release after its `ExpirationDate`; enforce a newer BSI \
                 or OS version from the catalog (refresh it with `bsic catalog import`)"
                    .into(),
            ),
        }
    }
}
