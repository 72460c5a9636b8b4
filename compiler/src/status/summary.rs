//! The headline of a status: per enforced target, the share of its devices that reached it,
//! the rest by state and the time left to its deadline; one figure for the whole fleet; the
//! reasons devices are not there, grouped and counted; the fleet by platform and by OS.
//!
//! In: the judged devices of a [`Status`] and the checked project (for the groups a policy
//! applies to). Out: a [`Summary`], the `summary` object of `--format json`, the first lines
//! of the human form and the top of the HTML page. One pass over the devices; pure.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::model::LocalDateTime;
use crate::pipeline::Checked;

use super::{Cause, DeviceVerdict, State, Status, Target};

/// How many devices the report lists per reason; the rest are counted (the CSV has them all).
pub const EXAMPLES: usize = 25;

/// How many OS versions the distribution names; the rest are counted as one bar.
const OS_BARS: usize = 12;

/// Devices by state, and the compliant share.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counts {
    pub total: usize,
    pub compliant: usize,
    pub pending: usize,
    pub failed: usize,
    pub overdue: usize,
    pub unknown: usize,
    /// Compliant devices in percent of all, to one decimal.
    pub percent: f64,
}

impl Counts {
    pub fn count(&self, state: State) -> usize {
        match state {
            State::Compliant => self.compliant,
            State::Pending => self.pending,
            State::Failed => self.failed,
            State::Overdue => self.overdue,
            State::Unknown => self.unknown,
        }
    }

    /// Counts one device in `state`; [`Counts::finish`] then sets the share.
    pub(super) fn add(&mut self, state: State) {
        self.total += 1;
        match state {
            State::Compliant => self.compliant += 1,
            State::Pending => self.pending += 1,
            State::Failed => self.failed += 1,
            State::Overdue => self.overdue += 1,
            State::Unknown => self.unknown += 1,
        }
    }

    /// Sets the compliant share once every device is counted.
    pub(super) fn finish(&mut self) {
        self.percent = super::percent(self.compliant, self.total);
    }
}

/// One enforced target and how far its devices got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    /// How people name it: `26.3.1 (a)` for a BSI.
    pub label: String,
    pub version: String,
    pub build: Option<String>,
    pub deadline: String,
    pub policy: String,
    /// The groups the policy applies to.
    pub groups: Vec<String>,
    #[serde(flatten)]
    pub counts: Counts,
    /// Seconds from `now` to the deadline (negative once it passed).
    pub seconds_left: i64,
    /// The same in words: `89 days 9 hours left`, `passed 3 days ago`.
    pub time_left: String,
}

impl TargetSummary {
    /// What names the target across snapshots.
    pub fn key(&self) -> String {
        format!("{} by {} ({})", self.label, self.deadline, self.policy)
    }
}

/// Devices in one state for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonGroup {
    pub state: State,
    pub reason: String,
    pub devices: usize,
    /// The first [`EXAMPLES`] devices (by serial), as indexes into [`Status::devices`].
    #[serde(skip)]
    pub examples: Vec<usize>,
}

/// Devices on one platform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlatformSummary {
    pub platform: String,
    #[serde(flatten)]
    pub counts: Counts,
}

/// Devices on one OS version and build.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OsCount {
    /// `macOS 26.3.1 (a) 25D771280a`, `no report`, or `23 other versions`.
    pub os: String,
    pub devices: usize,
}

/// The answer at a glance.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Every device, by state: the fleet's figure.
    #[serde(flatten)]
    pub fleet: Counts,
    /// Devices some policy enforces a version on.
    pub targeted: usize,
    pub targets: Vec<TargetSummary>,
    /// Why devices are not compliant, worst state first, then the most devices.
    pub reasons: Vec<ReasonGroup>,
    pub platforms: Vec<PlatformSummary>,
    /// The fleet by OS version and build, most devices first.
    pub os: Vec<OsCount>,
}

/// A target's identity: devices share it when all of these agree.
type TargetKey<'a> = (&'a str, Option<&'a str>, &'a str, &'a str);

fn target_key(t: &Target) -> TargetKey<'_> {
    (&t.version, t.build.as_deref(), &t.deadline, &t.policy)
}

/// Sums up a judged fleet.
pub fn summarise(status: &Status, checked: &Checked) -> Summary {
    let mut fleet = Counts::default();
    let mut targeted = 0;
    let mut targets: BTreeMap<TargetKey<'_>, (&Target, Counts)> = BTreeMap::new();
    let mut reasons: HashMap<(State, &Cause, Option<TargetKey<'_>>), (String, ReasonGroup)> =
        HashMap::new();
    let mut platforms: BTreeMap<&str, Counts> = BTreeMap::new();
    let mut os: HashMap<OsKey<'_>, usize> = HashMap::new();
    for (index, device) in status.devices.iter().enumerate() {
        fleet.add(device.state);
        let target = device.target.as_deref();
        if let Some(t) = target {
            targeted += 1;
            targets
                .entry(target_key(t))
                .or_insert_with(|| (t, Counts::default()))
                .1
                .add(device.state);
        }
        platforms
            .entry(device.platform.map_or("unknown platform", |p| p.name()))
            .or_default()
            .add(device.state);
        *os.entry(os_key(device)).or_default() += 1;
        if device.state != State::Compliant {
            let key = (device.state, &device.cause, target.map(target_key));
            let (_, group) = reasons.entry(key).or_insert_with(|| {
                let reason = device.cause.text(target);
                (
                    reason.clone(),
                    ReasonGroup {
                        state: device.state,
                        reason,
                        devices: 0,
                        examples: Vec::new(),
                    },
                )
            });
            group.devices += 1;
            if group.examples.len() < EXAMPLES {
                group.examples.push(index);
            }
        }
    }
    fleet.finish();
    let mut targets: Vec<TargetSummary> = targets
        .into_values()
        .map(|(t, counts)| target_summary(t, counts, &status.now, checked))
        .collect();
    // The target of the most devices first: the one the headline is mostly about.
    targets.sort_by_key(|t| std::cmp::Reverse(t.counts.total));
    Summary {
        fleet,
        targeted,
        targets,
        reasons: merge_reasons(reasons.into_values().map(|(_, g)| g)),
        platforms: platforms
            .into_iter()
            .map(|(platform, mut counts)| {
                counts.finish();
                PlatformSummary {
                    platform: platform.to_string(),
                    counts,
                }
            })
            .collect(),
        os: os_counts(os),
    }
}

/// Reason groups of the same words (two targets of one version, say) become one; worst
/// state first, then the most devices, then by the words.
fn merge_reasons(groups: impl Iterator<Item = ReasonGroup>) -> Vec<ReasonGroup> {
    let mut merged: BTreeMap<(State, String), ReasonGroup> = BTreeMap::new();
    for group in groups {
        match merged.entry((group.state, group.reason.clone())) {
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(group);
            }
            std::collections::btree_map::Entry::Occupied(mut slot) => {
                let into = slot.get_mut();
                into.devices += group.devices;
                into.examples.extend(group.examples);
                into.examples.sort_unstable();
                into.examples.truncate(EXAMPLES);
            }
        }
    }
    let mut out: Vec<_> = merged.into_values().collect();
    out.sort_by(|a, b| {
        a.state
            .cmp(&b.state)
            .then(b.devices.cmp(&a.devices))
            .then_with(|| a.reason.cmp(&b.reason))
    });
    out
}

/// A device's OS as the distribution counts it: platform, version, extra version, build.
type OsKey<'a> = Option<(&'a str, &'a str, &'a str, &'a str)>;

fn os_key(device: &DeviceVerdict) -> OsKey<'_> {
    let os = device.os.as_ref()?;
    let version = os.version.as_deref()?;
    Some((
        device.platform.map_or("", |p| p.name()),
        version,
        os.extra_version.as_deref().unwrap_or(""),
        os.supplemental_build
            .as_deref()
            .or(os.build.as_deref())
            .unwrap_or(""),
    ))
}

fn os_counts(counts: HashMap<OsKey<'_>, usize>) -> Vec<OsCount> {
    let mut named: Vec<(String, usize)> = counts
        .into_iter()
        .map(|(key, devices)| {
            let os = match key {
                None => "no report".to_string(),
                Some((platform, version, extra, build)) => [platform, version, extra, build]
                    .into_iter()
                    .filter(|part| !part.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            };
            (os, devices)
        })
        .collect();
    named.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let rest: Vec<_> = named.split_off(named.len().min(OS_BARS));
    let mut out: Vec<OsCount> = named
        .into_iter()
        .map(|(os, devices)| OsCount { os, devices })
        .collect();
    if !rest.is_empty() {
        out.push(OsCount {
            os: format!("{} other versions", rest.len()),
            devices: rest.iter().map(|(_, n)| n).sum(),
        });
    }
    out
}

fn target_summary(t: &Target, mut counts: Counts, now: &str, checked: &Checked) -> TargetSummary {
    counts.finish();
    let groups = checked
        .model
        .as_ref()
        .and_then(|m| {
            m.policies
                .iter()
                .find(|p| p.value.name.as_str() == t.policy)
        })
        .map(|p| {
            p.value
                .applies_to
                .iter()
                .map(|g| g.as_str().to_string())
                .collect()
        })
        .unwrap_or_default();
    let seconds_left = seconds_between(now, &t.deadline);
    TargetSummary {
        label: t.label(),
        version: t.version.clone(),
        build: t.build.clone(),
        deadline: t.deadline.clone(),
        policy: t.policy.clone(),
        groups,
        counts,
        seconds_left,
        time_left: time_left(seconds_left),
    }
}

/// Seconds from `from` to `to`, both local date-times (0 when either is not one).
fn seconds_between(from: &str, to: &str) -> i64 {
    match (from.parse::<LocalDateTime>(), to.parse::<LocalDateTime>()) {
        (Ok(a), Ok(b)) => b.unix_seconds() - a.unix_seconds(),
        _ => 0,
    }
}

/// `89 days 9 hours left`, `5 hours 30 minutes left`, `due now`, `passed 3 days ago`.
pub fn time_left(seconds: i64) -> String {
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("1 {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    let span = |s: i64| {
        let (days, hours, minutes) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
        match (days, hours) {
            (0, 0) => plural(minutes.max(1), "minute"),
            (0, h) => format!("{} {}", plural(h, "hour"), plural(minutes, "minute")),
            (d, 0) => plural(d, "day"),
            (d, h) => format!("{} {}", plural(d, "day"), plural(h, "hour")),
        }
    };
    match seconds {
        0 => "due now".to_string(),
        s if s > 0 => format!("{} left", span(s)),
        s => format!("passed {} ago", span(-s)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_in_words() {
        assert_eq!(time_left(89 * 86_400 + 9 * 3600), "89 days 9 hours left");
        assert_eq!(time_left(86_400), "1 day left");
        assert_eq!(time_left(5 * 3600 + 30 * 60), "5 hours 30 minutes left");
        assert_eq!(time_left(20), "1 minute left");
        assert_eq!(time_left(0), "due now");
        assert_eq!(time_left(-3 * 86_400), "passed 3 days ago");
        assert_eq!(
            seconds_between("2027-01-01T00:00:00", "2027-04-01T09:00:00"),
            90 * 86_400 + 9 * 3600
        );
    }

    #[test]
    fn the_os_distribution_names_the_largest_and_counts_the_rest() {
        let mut counts = HashMap::new();
        counts.insert(None, 3);
        for (i, v) in [
            "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n",
        ]
        .iter()
        .enumerate()
        {
            counts.insert(Some(("macOS", *v, "", "")), i + 1);
        }
        let out = os_counts(counts);
        assert_eq!(out.len(), OS_BARS + 1);
        assert_eq!(out[0].os, "macOS n");
        assert_eq!(out[0].devices, 14);
        let last = out.last().unwrap();
        assert_eq!(last.os, "3 other versions");
        assert_eq!(last.devices, 3 + 1 + 2);
    }
}
