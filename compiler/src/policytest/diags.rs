//! The diagnostics of the policy tests (`bsic test`): a device that does not end up with what a
//! test expects.
//!
//! Each kind's message is its `Display`; its code and help are declared here, beside the
//! stage that reports it. `crate::diag` holds what every stage shares (locations, severity,
//! the sink, rendering limits) and lists every stage's codes in `diag::all_codes`.

/// What this stage reports. [`TestKind::code`] and [`TestKind::help`] complete
/// the message; the derived `TestCode` lists the codes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, strum::EnumDiscriminants)]
#[strum_discriminants(name(TestCode), derive(strum::EnumIter))]
pub enum TestKind {
    #[error("test `{test}`: {what} is {actual}, expected {expected}")]
    TestFailed {
        test: String,
        what: String,
        expected: String,
        actual: String,
    },
}

impl TestCode {
    /// The stable, kebab-case code without `bsic::`; documented in `docs/diagnostics.md`.
    pub fn as_str(self) -> &'static str {
        match self {
            TestCode::TestFailed => "test-failed",
        }
    }
}

impl TestKind {
    /// The stable, kebab-case code without `bsic::`.
    pub fn code(&self) -> &'static str {
        TestCode::from(self).as_str()
    }

    /// How to fix it, or the Apple fact that explains it.
    pub fn help(&self) -> Option<String> {
        match self {
            TestKind::TestFailed { .. } => Some(
                "run `bsic explain --group …` for the device to see where each value comes from"
                    .into(),
            ),
        }
    }
}
