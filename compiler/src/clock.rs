//! The one place bsic reads the clock.
//!
//! Signing time and certificate validity use [`now`]: `SOURCE_DATE_EPOCH` when it is set (so
//! builds are reproducible), the system clock otherwise.

use std::time::{SystemTime, UNIX_EPOCH};

/// `SOURCE_DATE_EPOCH` is set but is not a number of seconds.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("SOURCE_DATE_EPOCH is `{0}`, not a number of seconds since 1970")]
#[diagnostic(
    code("bsic::bad-source-date-epoch"),
    help("set it to e.g. `$(git log -1 --format=%ct)`, or unset it")
)]
pub struct ClockError(String);

/// The current time in Unix seconds, or `SOURCE_DATE_EPOCH` when set.
pub(crate) fn now() -> Result<i64, ClockError> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) if !value.trim().is_empty() => {
            value.trim().parse().map_err(|_| ClockError(value))
        }
        _ => Ok(system_now()),
    }
}

/// The system clock, ignoring `SOURCE_DATE_EPOCH` (for certificate expiry warnings).
#[allow(clippy::disallowed_methods)]
pub(crate) fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
impl crate::diag::Examples for ClockError {
    fn examples() -> Vec<Self> {
        let all = vec![Self("x".into())];
        all
    }
}
