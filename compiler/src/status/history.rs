//! `bsic status --history DIR`: each run saves its result as a dated snapshot in DIR and
//! reads the earlier ones, so the report can show compliance over time and what changed
//! since the previous run.
//!
//! A snapshot is `status-<now>.json` (the `--now` time with its colons left out, e.g.
//! `status-2027-01-01T000000.json`): the summary and the serials of the devices in each
//! state, written atomically. The same `--now` gives the same name and the same bytes, so a
//! rerun replaces its own snapshot. Only snapshots strictly earlier than `now` are read;
//! one that cannot be read is a located warning and the others are still used.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::diags::{StatusKind, StatusWarnings};
use super::summary::{EXAMPLES, Summary};
use super::{State, Status, StatusError};

/// The `format` of a snapshot file.
pub const FORMAT: &str = "bsic-status-snapshot/1";

/// Compliance at one time: the fleet's figure and each target's, by [`super::summary::TargetSummary::key`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub now: String,
    pub percent: f64,
    pub targets: BTreeMap<String, f64>,
}

/// Devices whose state changed since the previous snapshot.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Changes {
    /// The `now` of the previous snapshot.
    pub since: String,
    /// Devices failed now that were not failed then (or not there).
    pub newly_failed: usize,
    /// Devices compliant now that were not compliant then (or not there).
    pub newly_compliant: usize,
    /// The first [`EXAMPLES`] of each, by serial.
    pub failed_devices: Vec<String>,
    pub compliant_devices: Vec<String>,
}

/// What `--history` adds to a status.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct History {
    /// The snapshot this run wrote.
    pub snapshot: String,
    /// The earlier snapshots and this run, oldest first.
    pub points: Vec<Point>,
    /// Since the latest earlier snapshot, if there is one.
    pub changes: Option<Changes>,
}

/// A snapshot as written.
#[derive(Serialize)]
struct SnapshotOut<'a> {
    format: &'static str,
    now: &'a str,
    summary: &'a Summary,
    devices: BTreeMap<State, Vec<&'a str>>,
}

/// A snapshot's head, read without its device lists.
#[derive(Deserialize)]
struct SnapshotHead {
    format: String,
    now: String,
    summary: Summary,
}

/// A snapshot's device lists.
#[derive(Deserialize)]
struct SnapshotDevices {
    devices: BTreeMap<State, Vec<String>>,
}

/// The file name of the snapshot taken at `now`.
pub fn file_name(now: &str) -> String {
    format!("status-{}.json", now.replace(':', ""))
}

/// The point a summary makes on the chart.
fn point(now: &str, summary: &Summary) -> Point {
    Point {
        now: now.to_string(),
        percent: summary.fleet.percent,
        targets: summary
            .targets
            .iter()
            .map(|t| (t.key(), t.counts.percent))
            .collect(),
    }
}

/// Reads the snapshots in `dir` earlier than the status, writes the status's own, and returns
/// the history to show. An unreadable or malformed snapshot is a warning.
pub fn record(
    dir: &Path,
    status: &Status,
    warnings: &mut StatusWarnings,
) -> Result<History, StatusError> {
    let earlier = read_earlier(dir, &status.now, warnings);
    let previous = earlier.last().map(|(path, head)| {
        let states = read_states(path, warnings);
        (head.now.clone(), states)
    });
    let mut points: Vec<Point> = earlier
        .iter()
        .map(|(_, head)| point(&head.now, &head.summary))
        .collect();
    points.push(point(&status.now, &status.summary));
    let changes = previous.and_then(|(since, states)| Some(changes(since, &states?, status)));
    let name = file_name(&status.now);
    let path = dir.join(&name);
    crate::output::write_file(&path, &snapshot(status), crate::output::Existing::Replace).map_err(
        |source| StatusError::Write {
            path: path.display().to_string(),
            source,
        },
    )?;
    Ok(History {
        snapshot: name,
        points,
        changes,
    })
}

/// The snapshot of `status`, as bytes.
fn snapshot(status: &Status) -> Vec<u8> {
    let mut devices: BTreeMap<State, Vec<&str>> = BTreeMap::new();
    for d in &status.devices {
        devices.entry(d.state).or_default().push(&d.serial);
    }
    let out = SnapshotOut {
        format: FORMAT,
        now: &status.now,
        summary: &status.summary,
        devices,
    };
    let mut bytes = serde_json::to_vec(&out).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// The snapshots in `dir` taken before `now`, oldest first. A missing directory has none.
fn read_earlier(
    dir: &Path,
    now: &str,
    warnings: &mut StatusWarnings,
) -> Vec<(PathBuf, SnapshotHead)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("status-") && n.ends_with(".json"))
        })
        .collect();
    paths.sort();
    let mut out: Vec<(PathBuf, SnapshotHead)> = Vec::new();
    for path in paths {
        let Some(head) = read_json::<SnapshotHead>(&path, warnings) else {
            continue;
        };
        if head.format != FORMAT {
            let message = format!("`format` is `{}`, not `{FORMAT}`", head.format);
            bad(warnings, &path, 1, message);
            continue;
        }
        if head.now.as_str() < now {
            out.push((path, head));
        }
    }
    out.sort_by(|a, b| a.1.now.cmp(&b.1.now));
    out
}

/// Every device's state in the snapshot at `path`, `None` if it cannot be read.
fn read_states(path: &Path, warnings: &mut StatusWarnings) -> Option<HashMap<String, State>> {
    let devices = read_json::<SnapshotDevices>(path, warnings)?;
    Some(
        devices
            .devices
            .into_iter()
            .flat_map(|(state, serials)| serials.into_iter().map(move |s| (s, state)))
            .collect(),
    )
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    warnings: &mut StatusWarnings,
) -> Option<T> {
    let text = match crate::source::read::read(path, crate::source::Input::Fleet) {
        Ok(bytes) => bytes,
        Err(e) => {
            bad(warnings, path, 1, e.to_string());
            return None;
        }
    };
    match serde_json::from_slice(&text) {
        Ok(value) => Some(value),
        Err(e) => {
            bad(warnings, path, e.line().max(1), e.to_string());
            None
        }
    }
}

fn bad(warnings: &mut StatusWarnings, path: &Path, line: usize, message: String) {
    let file = path.display().to_string();
    warnings.warn(&file, line, StatusKind::BadSnapshot { message });
}

/// Which devices newly failed or became compliant since the snapshot at `since`.
fn changes(since: String, before: &HashMap<String, State>, status: &Status) -> Changes {
    let mut out = Changes {
        since,
        ..Changes::default()
    };
    for d in &status.devices {
        let was = before.get(&d.serial).copied();
        let (count, list) = match d.state {
            State::Failed if was != Some(State::Failed) => {
                (&mut out.newly_failed, &mut out.failed_devices)
            }
            State::Compliant if was != Some(State::Compliant) => {
                (&mut out.newly_compliant, &mut out.compliant_devices)
            }
            _ => continue,
        };
        *count += 1;
        if list.len() < EXAMPLES {
            list.push(d.serial.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_names_follow_now_without_colons() {
        assert_eq!(
            file_name("2027-01-01T09:30:00"),
            "status-2027-01-01T093000.json"
        );
    }
}
