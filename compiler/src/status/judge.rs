//! The verdict on one device: what it should run (from the resolver, as `explain` computes it)
//! against what it reports.
//!
//! In: the device's merged state, its target and the time to judge at. Out: a [`State`] with
//! reasons in plain words. The order of the checks is the state machine:
//!
//! 1. no report, or no OS version in it, or one that is not a version → `unknown`;
//! 2. the target version reached (a newer base counts), plus the supplemental build when a BSI
//!    build is enforced → `compliant`;
//! 3. the install failed (`install-state` `failed`, or a `failure-reason`) → `failed`;
//! 4. past the deadline (strictly after it, in the device's local time) → `overdue`;
//! 5. otherwise the update is still due → `pending`.
//!
//! Pure: never reads the clock, the filesystem or the project.

use std::cmp::Ordering;
use std::rc::Rc;

use serde::Serialize;

use crate::model::OsVersion;
use crate::resolve::EnforcementExplanation;

use super::reports::DeviceState;

/// A device's compliance state, worst first.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Failed,
    Overdue,
    Pending,
    Unknown,
    Compliant,
}

impl State {
    pub const ALL: [State; 5] = [
        State::Compliant,
        State::Pending,
        State::Failed,
        State::Overdue,
        State::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            State::Compliant => "compliant",
            State::Pending => "pending",
            State::Failed => "failed",
            State::Overdue => "overdue",
            State::Unknown => "unknown",
        }
    }
}

/// What a device must run, picked from its enforcement targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    pub version: String,
    pub build: Option<String>,
    pub deadline: String,
    pub policy: String,
    pub file: String,
    pub line: usize,
    /// Whether `build` is a BSI: the pinned catalog decides, else its letter.
    #[serde(skip)]
    pub bsi: bool,
    /// The device's other targets (version, build, whether it is a BSI, deadline): one it has
    /// not met yet can make it overdue before the highest target's deadline.
    #[serde(skip)]
    pub also: Vec<(String, Option<String>, bool, String)>,
}

/// Why a device is where it is, in terms that group alike devices: the reason groups of the
/// report ("install failed: the download failed ×312"). The target's side (its version and
/// build) is read from the device's [`Target`] when the cause is worded, so a cause costs no
/// allocation per device.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cause {
    /// Compliant (or no target): nothing to explain.
    #[default]
    Reached,
    /// No status report at all.
    NoReport,
    /// The report lacks `device.operating-system.version`.
    NoVersion,
    /// The reported version is not an OS version.
    NotAVersion,
    /// Neither the report nor the inventory gives the platform.
    NoPlatform,
    /// The install failed, with the device's reason when it gave one.
    InstallFailed(Option<Rc<str>>),
    /// On the target's base version without its supplemental (BSI) build.
    WithoutBsi,
    /// On the target's base version with an older supplemental build.
    OlderBsi,
    /// On the target's version, an older build.
    OlderBuild,
    /// Below the target version: on this version.
    Below(Rc<str>),
}

impl Cause {
    /// The cause in words, e.g. `on base 26.3.1 without the BSI 26.3.1 (a)`.
    pub fn text(&self, target: Option<&Target>) -> String {
        let version = target.map_or("?", |t| t.version.as_str());
        let build = target.and_then(|t| t.build.as_deref()).unwrap_or("?");
        match self {
            Cause::Reached => "reached the target".to_string(),
            Cause::NoReport => "no status report".to_string(),
            Cause::NoVersion => "the report lacks the OS version".to_string(),
            Cause::NotAVersion => "the reported OS version is not a version".to_string(),
            Cause::NoPlatform => "no platform in the report or the inventory".to_string(),
            Cause::InstallFailed(Some(reason)) => format!("install failed: {reason}"),
            Cause::InstallFailed(None) => "install failed".to_string(),
            Cause::WithoutBsi => format!(
                "on base {version} without the BSI {}",
                target.map_or_else(|| build.to_string(), Target::label)
            ),
            Cause::OlderBsi => format!("on {version} with a BSI older than {build}"),
            Cause::OlderBuild => format!("on {version}, a build older than {build}"),
            Cause::Below(running) => format!("on {running}, below {version}"),
        }
    }
}

/// The highest target among those a device receives (a device that reaches it reaches the
/// others), with the earliest deadline among targets of that version.
pub fn pick_target(targets: &[EnforcementExplanation]) -> Option<Target> {
    let best = targets.iter().max_by(|a, b| {
        compare_versions(&a.version, &b.version)
            .then_with(|| compare_builds(a.build.as_deref(), b.build.as_deref()))
    })?;
    let deadline = targets
        .iter()
        .filter(|t| t.version == best.version && t.build == best.build)
        .map(|t| t.deadline.as_str())
        .min()
        .unwrap_or(&best.deadline);
    Some(Target {
        version: best.version.clone(),
        build: best.build.clone(),
        deadline: deadline.to_string(),
        policy: best.source.policy.clone(),
        file: best.source.file.clone(),
        line: best.source.line,
        bsi: best.bsi,
        also: targets
            .iter()
            .filter(|t| t.version != best.version || t.build != best.build)
            .map(|t| {
                (
                    t.version.clone(),
                    t.build.clone(),
                    t.bsi,
                    t.deadline.clone(),
                )
            })
            .collect(),
    })
}

impl Target {
    /// How people name the target: `26.3.1 (a)` for a BSI build (its letter), else the
    /// version, with a plain build in parentheses.
    pub fn label(&self) -> String {
        match &self.build {
            Some(build) if self.bsi => match build.chars().last() {
                Some(letter) => format!("{} ({letter})", self.version),
                None => self.version.clone(),
            },
            Some(build) => format!("{} ({build})", self.version),
            None => self.version.clone(),
        }
    }
}

/// Whether the device runs `version` (and `build`, when given; its supplemental build when
/// `bsi`) or something newer.
fn meets(state: &DeviceState, version: &str, build: Option<&str>, bsi: bool) -> bool {
    let Some(running) = state.version.as_deref() else {
        return false;
    };
    match (compare_versions(running, version), build) {
        (Ordering::Greater, _) | (Ordering::Equal, None) => true,
        (Ordering::Less, _) => false,
        (Ordering::Equal, Some(build)) if bsi => state
            .supplemental_build
            .as_deref()
            .is_some_and(|s| compare_builds(Some(s), Some(build)) != Ordering::Less),
        (Ordering::Equal, Some(build)) => state
            .build
            .as_deref()
            .is_some_and(|b| compare_builds(Some(b), Some(build)) != Ordering::Less),
    }
}

/// Compares two OS versions numerically; unparsable ones sort first.
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    // By components only: a device on `26.3.0` has reached a `26.3` target and vice versa.
    match (a.parse::<OsVersion>(), b.parse::<OsVersion>()) {
        (Ok(a), Ok(b)) => a.cmp_numeric(&b),
        (a, b) => a.is_ok().cmp(&b.is_ok()),
    }
}

/// A build as (train, letter, number, suffix) for ordering, e.g. `25D771280a`.
fn build_key(build: &str) -> Option<(u32, char, u64, Option<char>)> {
    let train_len = build.chars().take_while(char::is_ascii_digit).count();
    let train = build.get(..train_len)?.parse().ok()?;
    let letter = build[train_len..].chars().next()?;
    let rest = &build[train_len + letter.len_utf8()..];
    let digits = rest.chars().take_while(char::is_ascii_digit).count();
    let number = rest.get(..digits)?.parse().ok()?;
    let suffix = rest[digits..].chars().next();
    Some((train, letter, number, suffix))
}

fn compare_builds(a: Option<&str>, b: Option<&str>) -> Ordering {
    a.map(build_key).cmp(&b.map(build_key))
}

/// How the device's OS is described in reasons: `26.3.1 (25D2128)`, plus the supplemental
/// build and extra-version when it runs one.
pub fn describe_os(state: &DeviceState) -> String {
    let mut text = state.version.as_deref().unwrap_or("?").to_string();
    if let Some(extra) = &state.extra_version {
        text.push(' ');
        text.push_str(extra);
    }
    match (&state.supplemental_build, &state.build) {
        (Some(s), _) => text.push_str(&format!(" ({s})")),
        (None, Some(b)) => text.push_str(&format!(" ({b})")),
        (None, None) => {}
    }
    text
}

/// Judges one device against its target at `now` (a local date-time, compared as text:
/// `yyyy-mm-ddThh:mm:ss` sorts chronologically).
pub fn judge(
    state: Option<&DeviceState>,
    target: Option<&Target>,
    now: &str,
) -> (State, Vec<String>, Cause) {
    let (state, version) = match readable(state) {
        Ok(readable) => readable,
        Err((reason, cause)) => return (State::Unknown, vec![reason], cause),
    };
    let Some(target) = target else {
        let reason = format!(
            "on {}; no policy enforces a version on this device",
            describe_os(state)
        );
        return (State::Compliant, vec![reason], Cause::Reached);
    };
    match reached(state, version, target) {
        Ok(reason) => (State::Compliant, vec![reason], Cause::Reached),
        Err((reason, cause)) => not_reached(state, target, now, reason, cause),
    }
}

/// The report and the OS version it says the device runs; else why it cannot be judged.
fn readable(state: Option<&DeviceState>) -> Result<(&DeviceState, &Rc<str>), (String, Cause)> {
    let Some(state) = state else {
        return Err(("no status report".to_string(), Cause::NoReport));
    };
    let Some(version) = &state.version else {
        let why = state
            .errors
            .get("device.operating-system.version")
            .filter(|e| !e.is_empty())
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        let reason = format!("the report lacks `device.operating-system.version`{why}");
        return Err((reason, Cause::NoVersion));
    };
    // Compared with a target, text that is no version would sort below every version and
    // look `pending` for ever; it says nothing about the device.
    if version.parse::<OsVersion>().is_err() {
        let reason = format!(
            "the report's `device.operating-system.version` `{version}` is not an OS version"
        );
        return Err((reason, Cause::NotAVersion));
    }
    Ok((state, version))
}

/// Whether the device runs the target (version, build, BSI): what it runs, or what it lacks.
fn reached(
    state: &DeviceState,
    version: &Rc<str>,
    target: &Target,
) -> Result<String, (String, Cause)> {
    let os = describe_os(state);
    match compare_versions(version, &target.version) {
        Ordering::Greater => Ok(format!("on {os}, newer than the target {}", target.version)),
        Ordering::Less => {
            let target_text = match &target.build {
                Some(b) => format!("{} ({b})", target.version),
                None => target.version.clone(),
            };
            let cause = Cause::Below(Rc::clone(version));
            Err((format!("on {os}, below the target {target_text}"), cause))
        }
        Ordering::Equal => match &target.build {
            None => Ok(format!("on {os}")),
            Some(build) if target.bsi => match &state.supplemental_build {
                Some(s) if compare_builds(Some(s), Some(build)) != Ordering::Less => {
                    Ok(format!("on {os}"))
                }
                Some(s) => Err((
                    format!("on {os} with the supplemental build {s}, older than {build}"),
                    Cause::OlderBsi,
                )),
                None => Err((
                    format!("on {os} without the supplemental build {build}"),
                    Cause::WithoutBsi,
                )),
            },
            Some(build) => {
                let ok = state
                    .build
                    .as_deref()
                    .is_some_and(|b| compare_builds(Some(b), Some(build)) != Ordering::Less);
                if ok {
                    Ok(format!("on {os}"))
                } else {
                    Err((format!("on {os}, not yet build {build}"), Cause::OlderBuild))
                }
            }
        },
    }
}

/// A device below its target: failed, overdue or pending, with what its report says of the
/// install and the earliest deadline it has not met.
fn not_reached(
    state: &DeviceState,
    target: &Target,
    now: &str,
    below: String,
    cause: Cause,
) -> (State, Vec<String>, Cause) {
    let mut reasons = vec![below];
    let failure = state.failure_reason.is_some() || state.failure_count.is_some_and(|c| c > 0);
    let install = state.install_state.as_deref().unwrap_or("none");
    // The earliest deadline among the targets the device has not met.
    let deadline = target
        .also
        .iter()
        .filter(|(v, b, bsi, _)| !meets(state, v, b.as_deref(), *bsi))
        .map(|(_, _, _, d)| d.as_str())
        .chain([target.deadline.as_str()])
        .min()
        .unwrap_or(&target.deadline)
        .to_string();
    let past = now > deadline.as_str();
    if install == "failed" || failure {
        let mut text = "the install failed".to_string();
        if let Some(reason) = &state.failure_reason {
            text.push_str(&format!(": {reason}"));
        }
        if let Some(count) = state.failure_count.filter(|c| *c > 0) {
            text.push_str(&format!(" ({count} failed attempts)"));
        }
        reasons.push(text);
        if past {
            reasons.push(format!("past the deadline {deadline}"));
        }
        let why = state.failure_reason.clone();
        return (State::Failed, reasons, Cause::InstallFailed(why));
    }
    if install != "none" {
        reasons.push(format!("install state `{install}`"));
    }
    if let Some(pending) = &state.pending_version {
        let build = state
            .pending_build
            .as_ref()
            .map(|b| format!(" ({b})"))
            .unwrap_or_default();
        reasons.push(format!("pending {pending}{build}"));
    }
    if past {
        reasons.push(format!("past the deadline {deadline}"));
        (State::Overdue, reasons, cause)
    } else {
        reasons.push(format!("due by {deadline}"));
        (State::Pending, reasons, cause)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target() -> Target {
        Target {
            version: "26.3.1".into(),
            build: Some("25D771280a".into()),
            deadline: "2027-04-01T09:00:00".into(),
            policy: "p".into(),
            file: "f".into(),
            line: 1,
            bsi: true,
            also: vec![("26.3.1".into(), None, false, "2027-02-01T09:00:00".into())],
        }
    }

    fn device(version: &str, supplemental: Option<&str>) -> DeviceState {
        DeviceState {
            version: Some(version.into()),
            build: Some("25D2128".into()),
            supplemental_build: supplemental.map(Into::into),
            ..DeviceState::default()
        }
    }

    /// A lettered build the pinned catalog lists as an ordinary release is not a BSI: the
    /// device must run that build itself, not carry it as a supplemental build.
    #[test]
    fn the_catalog_not_the_letter_decides_what_a_device_must_carry() {
        let t = Target {
            build: Some("25D2128".into()),
            bsi: false,
            ..target()
        };
        let now = "2027-01-01T00:00:00";
        assert_eq!(
            judge(Some(&device("26.3.1", None)), Some(&t), now).0,
            State::Compliant
        );
        assert_eq!(t.label(), "26.3.1 (25D2128)");
        let lettered = Target {
            build: Some("25D2128a".into()),
            bsi: false,
            ..target()
        };
        let (state, _, cause) = judge(
            Some(&device("26.3.1", Some("25D2128a"))),
            Some(&lettered),
            now,
        );
        assert_eq!((state, cause), (State::Pending, Cause::OlderBuild));
    }

    #[test]
    fn the_state_machine() {
        let t = target();
        let now = "2027-01-01T00:00:00";
        let on_bsi = device("26.3.1", Some("25D771280a"));
        assert_eq!(judge(Some(&on_bsi), Some(&t), now).0, State::Compliant);
        let newer = device("26.4", None);
        assert_eq!(judge(Some(&newer), Some(&t), now).0, State::Compliant);
        let base = device("26.3.1", None);
        let (state, reasons, cause) = judge(Some(&base), Some(&t), now);
        assert_eq!(state, State::Pending);
        assert_eq!(cause, Cause::WithoutBsi);
        assert_eq!(
            cause.text(Some(&t)),
            "on base 26.3.1 without the BSI 26.3.1 (a)"
        );
        assert_eq!(
            reasons[0],
            "on 26.3.1 (25D2128) without the supplemental build 25D771280a"
        );
        // Deadline boundaries: at the deadline still pending, one second later overdue.
        assert_eq!(
            judge(Some(&base), Some(&t), "2027-04-01T09:00:00").0,
            State::Pending
        );
        assert_eq!(
            judge(Some(&base), Some(&t), "2027-04-01T09:00:01").0,
            State::Overdue
        );
        let mut failed = device("26.3", None);
        failed.install_state = Some("failed".into());
        assert_eq!(judge(Some(&failed), Some(&t), now).0, State::Failed);
        failed.failure_reason = Some("the download failed".into());
        let cause = judge(Some(&failed), Some(&t), now).2;
        assert_eq!(cause.text(Some(&t)), "install failed: the download failed");
        assert_eq!(
            judge(Some(&device("26.2", None)), Some(&t), now)
                .2
                .text(Some(&t)),
            "on 26.2, below 26.3.1"
        );
        assert_eq!(judge(None, Some(&t), now).2, Cause::NoReport);
        assert_eq!(judge(None, Some(&t), now).0, State::Unknown);
        assert_eq!(
            judge(Some(&DeviceState::default()), Some(&t), now).0,
            State::Unknown
        );
        // Below the base too: the base target's earlier deadline makes it overdue in March.
        let below = device("26.3", None);
        assert_eq!(
            judge(Some(&below), Some(&t), "2027-03-01T00:00:00").0,
            State::Overdue
        );
        assert_eq!(
            judge(Some(&base), Some(&t), "2027-03-01T00:00:00").0,
            State::Pending
        );
        let older_bsi = device("26.3.1", Some("25D771270a"));
        assert_eq!(judge(Some(&older_bsi), Some(&t), now).0, State::Pending);
    }

    #[test]
    fn a_version_that_is_not_one_is_unknown_not_pending() {
        let t = target();
        let now = "2027-01-01T00:00:00";
        for bad in [
            "abc",
            "",
            "26.3.1.9.9",
            "99999999999999999999.1",
            "26",
            "26.3 ",
        ] {
            let (state, reasons, _) = judge(Some(&device(bad, None)), Some(&t), now);
            assert_eq!(state, State::Unknown, "{bad:?}");
            assert!(
                reasons[0].contains("not an OS version"),
                "{bad:?}: {reasons:?}"
            );
            assert_eq!(judge(Some(&device(bad, None)), None, now).0, State::Unknown);
        }
    }

    #[test]
    fn targets_are_labelled_as_people_name_them() {
        let mut t = target();
        assert_eq!(t.label(), "26.3.1 (a)");
        t.build = Some("25D2128".into());
        t.bsi = false;
        assert_eq!(t.label(), "26.3.1 (25D2128)");
        t.build = None;
        assert_eq!(t.label(), "26.3.1");
    }

    #[test]
    fn builds_order_by_train_number_and_suffix() {
        assert_eq!(
            compare_builds(Some("25D771290a"), Some("25D771280a")),
            Ordering::Greater
        );
        assert_eq!(
            compare_builds(Some("25D771280b"), Some("25D771280a")),
            Ordering::Greater
        );
        assert_eq!(compare_versions("26.10", "26.9"), Ordering::Greater);
    }
}
