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
}

impl CatalogCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            CatalogCode::Catalog => "catalog",
            CatalogCode::FeedEntry => "feed-entry",
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
        }
    }
}
