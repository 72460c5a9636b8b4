//! The diagnostics of the resolve stage: group graphs that cannot be resolved and policies that
//! disagree.
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares (locations, severity,
//! the sink, rendering limits) and lists every stage's codes in `diag::all_codes`.

/// What this stage reports. [`ResolveKind::code`] and [`ResolveKind::help`] complete
/// the message; the derived `ResolveCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(ResolveCode), derive(strum::EnumIter))]
pub enum ResolveKind {
    #[error("groups include each other in a cycle: {cycle}")]
    GroupCycle { cycle: String },
    #[error("policies `{first}` and `{second}` set `{key}` differently for group `{group}`")]
    Conflict {
        key: String,
        group: String,
        first: String,
        second: String,
        path: String,
    },
}

impl ResolveCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResolveCode::GroupCycle => "group-cycle",
            ResolveCode::Conflict => "conflict",
        }
    }
}

impl ResolveKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        ResolveCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            ResolveKind::GroupCycle { .. } => Some(
                "`includes` says which groups are subsets of another; remove one edge of the cycle"
                    .into(),
            ),
            ResolveKind::Conflict { path, .. } => Some(format!(
                "{path}; give one policy a higher `priority`, or make them agree"
            )),
        }
    }
}
