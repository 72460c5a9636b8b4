//! `bsic status` (issue 11): a generator of realistic DDM status reports for a fixture fleet in
//! every state, each report validated against Apple's `statusreport.yaml` and status item
//! definitions; the verdicts pinned as JSON snapshots, with deadline boundaries, a device that
//! skipped to a newer base, a device in two groups, incremental reports and declarations
//! reported invalid; the HTML page checked structurally; bad input located, never a panic.

use serde_json::{Value, json};

use crate::util::{Project, Run, repo};

// ---------------------------------------------------------------------------------------------
// Apple's status report shape, from the YAML definitions.

/// One key definition of Apple's YAML (`key`, `type`, `presence`, `subkeys`).
fn definition(path: &str) -> Vec<serde_norway::Value> {
    let text = std::fs::read_to_string(repo(path)).unwrap();
    let doc: serde_norway::Value = serde_norway::from_str(&text).unwrap();
    doc["payloadkeys"].as_sequence().unwrap().clone()
}

fn type_matches(value: &Value, apple_type: &str) -> bool {
    match apple_type {
        "<string>" => value.is_string(),
        "<integer>" => value.is_i64() || value.is_u64(),
        "<real>" => value.is_number(),
        "<boolean>" => value.is_boolean(),
        "<dictionary>" => value.is_object(),
        "<array>" => value.is_array(),
        "<any>" => true,
        _ => false,
    }
}

/// Checks `value` against one key definition, recursively; problems go to `errors`.
fn check_value(value: &Value, def: &serde_norway::Value, at: &str, errors: &mut Vec<String>) {
    let apple_type = def["type"].as_str().unwrap_or("<any>");
    if !type_matches(value, apple_type) {
        errors.push(format!("{at}: {value} is not {apple_type}"));
        return;
    }
    let subkeys = def["subkeys"].as_sequence();
    match (value, subkeys) {
        (Value::Object(map), Some(subkeys)) => {
            let any = subkeys.iter().find(|s| s["key"].as_str() == Some("ANY"));
            for (k, v) in map {
                // Incremental reports mark array items that went away with `_removed`.
                if k == "_removed" {
                    continue;
                }
                match subkeys
                    .iter()
                    .find(|s| s["key"].as_str() == Some(k.as_str()))
                {
                    Some(sub) => check_value(v, sub, &format!("{at}.{k}"), errors),
                    None if any.is_some() => {}
                    None => errors.push(format!("{at}: `{k}` is not a key Apple defines")),
                }
            }
            for sub in subkeys {
                let key = sub["key"].as_str().unwrap_or_default();
                let required = sub["presence"].as_str() == Some("required");
                if required && !map.contains_key(key) && !map.contains_key("_removed") {
                    errors.push(format!("{at}: required `{key}` is missing"));
                }
            }
        }
        (Value::Array(items), Some(subkeys)) => {
            if let Some(element) = subkeys.first() {
                for (i, item) in items.iter().enumerate() {
                    check_value(item, element, &format!("{at}[{i}]"), errors);
                }
            }
        }
        _ => {}
    }
}

/// Walks nested `StatusItems` down to the status items Apple defines (`device.identifier.
/// serial-number` is `{"device": {"identifier": {"serial-number": …}}}`).
fn check_items(items: &Value, prefix: &str, errors: &mut Vec<String>) {
    let Value::Object(map) = items else {
        errors.push(format!(
            "`{prefix}` is neither a status item nor a dictionary"
        ));
        return;
    };
    for (key, value) in map {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        let file = format!("apple/device-management/declarative/status/{name}.yaml");
        if repo(&file).is_file() {
            let def = definition(&file);
            check_value(value, &def[0], &name, errors);
        } else {
            check_items(value, &name, errors);
        }
    }
}

/// Problems of one report against Apple's `StatusReport` definition.
fn apple_problems(report: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let keys = definition("apple/device-management/declarative/protocol/statusreport.yaml");
    let protocol = serde_norway::Value::Mapping(
        [
            ("type".into(), "<dictionary>".into()),
            ("subkeys".into(), serde_norway::Value::Sequence(keys)),
        ]
        .into_iter()
        .collect(),
    );
    // The top level: StatusItems, Errors, FullReport with their types and presence.
    let mut shallow = report.clone();
    if let Some(items) = shallow.get_mut("StatusItems") {
        *items = json!({});
    }
    check_value(&shallow, &protocol, "StatusReport", &mut errors);
    if let Some(items) = report.get("StatusItems") {
        check_items(items, "", &mut errors);
    }
    errors
}

// ---------------------------------------------------------------------------------------------
// The generator.

/// What a generated device runs and says.
#[derive(Clone, Default)]
struct Device {
    serial: &'static str,
    version: &'static str,
    build: &'static str,
    /// The BSI build and its extra-version, e.g. ("25D771280a", "(a)").
    bsi: Option<(&'static str, &'static str)>,
    install_state: Option<&'static str>,
    pending: Option<(&'static str, &'static str)>,
    failure: Option<&'static str>,
    /// Declarations reported invalid, by identifier suffix.
    invalid: &'static [&'static str],
    /// The groups whose declarations it holds.
    holds: &'static [&'static str],
    /// Leave out `device.operating-system.version`, reporting it under `Errors` instead.
    no_version: bool,
}

/// A full status report for `device`, as a device sends it, with the declarations of the
/// groups it holds taken from the build's manifest.
fn full_report(device: &Device, manifest: &Value) -> Value {
    let mut os = json!({ "family": "macOS", "build-version": device.build });
    if !device.no_version {
        os["version"] = json!(device.version);
    }
    if let Some((build, extra)) = device.bsi {
        os["supplemental"] = json!({ "build-version": build, "extra-version": extra });
    }
    let mut update = json!({ "install-state": device.install_state.unwrap_or("none") });
    if let Some((version, build)) = device.pending {
        update["pending-version"] = json!({ "os-version": version, "build-version": build });
    }
    if let Some(reason) = device.failure {
        update["failure-reason"] =
            json!({ "count": 2, "reason": reason, "timestamp": "2026-12-30T08:00:00Z" });
    }
    let mut activations = Vec::new();
    let mut configurations = Vec::new();
    for artifact in manifest["artifacts"].as_array().unwrap() {
        let group = artifact["groups"][0].as_str().unwrap();
        if artifact["kind"] != "declaration" || !device.holds.contains(&group) {
            continue;
        }
        let identifier = artifact["identifier"].as_str().unwrap();
        let invalid = device.invalid.iter().any(|s| identifier.ends_with(s));
        let mut entry = json!({
            "identifier": identifier,
            "server-token": artifact["token"],
            "active": !invalid,
            "valid": if invalid { "invalid" } else { "valid" },
        });
        if invalid {
            entry["reasons"] = json!([{
                "code": "Error.ConfigurationCannotBeApplied",
                "description": "the target build is not offered for this device"
            }]);
        }
        if artifact["type"] == "com.apple.activation.simple" {
            activations.push(entry);
        } else {
            configurations.push(entry);
        }
    }
    let mut errors = Vec::new();
    if device.no_version {
        errors.push(json!({
            "StatusItem": "device.operating-system.version",
            "Reasons": [{ "Code": "Error.StatusItemUnavailable", "Description": "not available yet" }]
        }));
    }
    json!({
        "StatusItems": {
            "device": {
                "identifier": { "serial-number": device.serial, "udid": format!("UDID-{}", device.serial) },
                "operating-system": os
            },
            "softwareupdate": update,
            "management": { "declarations": {
                "activations": activations,
                "configurations": configurations,
                "assets": [],
                "management": []
            } }
        },
        "Errors": errors,
        "FullReport": true
    })
}

/// The fleet: one device per state, plus the edge cases the issue names.
fn fleet() -> Vec<Device> {
    let base = Device {
        version: "26.3.1",
        build: "25D2128",
        holds: &["kiosks"],
        ..Device::default()
    };
    let bsi = Some(("25D771280a", "(a)"));
    vec![
        Device {
            serial: "K-COMPLIANT",
            bsi,
            ..base.clone()
        },
        // Skipped the BSI for a newer base version: compliant.
        Device {
            serial: "K-NEWER",
            version: "26.4",
            build: "25E5207",
            ..base.clone()
        },
        Device {
            serial: "K-BASE",
            ..base.clone()
        },
        Device {
            serial: "K-DOWNLOADING",
            version: "26.3",
            build: "25D60",
            install_state: Some("downloading"),
            pending: Some(("26.3.1", "25D2128")),
            ..base.clone()
        },
        Device {
            serial: "K-FAILED",
            version: "26.3",
            build: "25D60",
            install_state: Some("failed"),
            failure: Some("the download failed"),
            ..base.clone()
        },
        Device {
            serial: "K-NOVERSION",
            no_version: true,
            ..base.clone()
        },
        // On the BSI, but rejects the enforcement declaration.
        Device {
            serial: "K-INVALID",
            bsi,
            invalid: &[".enforce.bsi"],
            ..base.clone()
        },
        Device {
            serial: "L-OLD",
            version: "26.2",
            build: "25C56",
            holds: &["lab"],
            ..base.clone()
        },
        Device {
            serial: "L-DONE",
            holds: &["lab"],
            ..base.clone()
        },
        // In both groups: must reach the BSI (kiosks) and 26.3.1 (lab).
        Device {
            serial: "BOTH",
            holds: &["kiosks", "lab"],
            ..base.clone()
        },
        // Reports, but is not in the inventory, and no group filter admits 26.3.1.
        Device {
            serial: "STRAY",
            bsi,
            holds: &[],
            ..base.clone()
        },
        // Not in the inventory either, but on 26.4.1: joins `macos-26-4` by its filter and
        // meets that group's target.
        Device {
            serial: "STRAY-26-4",
            version: "26.4.1",
            build: "25E253",
            holds: &["macos-26-4"],
            ..base.clone()
        },
    ]
}

const INVENTORY: &str = "serial,groups,platform\n\
K-COMPLIANT,kiosks,macOS\nK-NEWER,kiosks\nK-BASE,kiosks\nK-DOWNLOADING,kiosks\n\
K-FAILED,kiosks\nK-NOVERSION,kiosks\nK-INVALID,kiosks\nK-INCREMENTAL,kiosks\n\
K-SILENT,kiosks\nL-OLD,lab\nL-DONE,lab\nBOTH,kiosks;lab\n";

/// Builds the fixture fleet, then writes the generated reports: one `.json` per device, plus
/// `incremental.jsonl` holding a full report and two incremental ones for K-INCREMENTAL.
pub(crate) fn generate_fleet() -> Project {
    let project = Project::empty();
    crate::util::copy_dir(&repo("tests/fixtures/status/fleet"), project.path());
    project.build_ok(&project.join("dist"));
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("dist/manifest.json")).unwrap())
            .unwrap();
    let mut all = Vec::new();
    for device in fleet() {
        let report = full_report(&device, &manifest);
        project.write(
            &format!("reports/{}.json", device.serial),
            serde_json::to_string_pretty(&report).unwrap(),
        );
        all.push(report);
    }
    // Installing the BSI, then done: the incremental reports carry only what changed.
    let incremental = Device {
        serial: "K-INCREMENTAL",
        version: "26.3.1",
        build: "25D2128",
        install_state: Some("installing"),
        holds: &["kiosks"],
        ..Device::default()
    };
    let lines = [
        full_report(&incremental, &manifest),
        json!({
            "StatusItems": { "softwareupdate": { "install-state": "none" },
                             "device": { "identifier": { "serial-number": "K-INCREMENTAL" } } },
            "Errors": []
        }),
        json!({
            "StatusItems": { "device": {
                "identifier": { "serial-number": "K-INCREMENTAL" },
                "operating-system": { "supplemental": { "build-version": "25D771280a", "extra-version": "(a)" } }
            } },
            "Errors": [],
            "FullReport": false
        }),
    ];
    let mut text = String::new();
    for line in &lines {
        text.push_str(&serde_json::to_string(line).unwrap());
        text.push('\n');
        all.push(line.clone());
    }
    project.write("reports/incremental.jsonl", text);
    project.write("devices.csv", INVENTORY);
    for report in &all {
        let problems = apple_problems(report);
        assert!(
            problems.is_empty(),
            "generated report breaks Apple's shape: {problems:?}\n{report:#}"
        );
    }
    project
}

fn status(project: &Project, extra: &[&str]) -> Run {
    let run = project
        .bsic()
        .args(["status", "--reports", "reports", "--devices", "devices.csv"])
        .args(extra)
        .run();
    assert!(run.crash_text().is_none(), "crashed\n{}", run.describe());
    run
}

fn states(run: &Run) -> Vec<(String, String)> {
    let doc: Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}\n{}", run.describe()));
    doc["devices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["serial"].as_str().unwrap().to_string(),
                d["state"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn state_of(run: &Run, serial: &str) -> String {
    states(run)
        .into_iter()
        .find(|(s, _)| s == serial)
        .map(|(_, state)| state)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[test]
fn the_validator_rejects_reports_apple_would_not_send() {
    assert!(
        !apple_problems(&json!({ "Errors": [] })).is_empty(),
        "StatusItems is required"
    );
    assert!(
        !apple_problems(&json!({ "StatusItems": {}, "Errors": [], "FullReport": "yes" }))
            .is_empty()
    );
    let wrong = json!({ "StatusItems": { "device": { "operating-system": { "version": 26 } } }, "Errors": [] });
    assert!(!apple_problems(&wrong).is_empty(), "version is a string");
    let unknown = json!({ "StatusItems": { "softwareupdate": { "failure-reason": { "why": "x" } } }, "Errors": [] });
    assert!(
        !apple_problems(&unknown).is_empty(),
        "failure-reason has no `why`"
    );
}

#[test]
fn every_state_of_the_fleet_is_pinned() {
    let project = generate_fleet();
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "json"],
    );
    run.assert_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    insta::assert_json_snapshot!("status_fleet", doc);
    let expect = [
        ("K-COMPLIANT", "compliant"),
        ("K-NEWER", "compliant"),
        ("K-BASE", "pending"),
        ("K-DOWNLOADING", "pending"),
        ("K-FAILED", "failed"),
        ("K-NOVERSION", "unknown"),
        ("K-SILENT", "unknown"),
        ("K-INCREMENTAL", "compliant"),
        ("K-INVALID", "compliant"),
        ("L-OLD", "pending"),
        ("L-DONE", "compliant"),
        ("BOTH", "pending"),
        ("STRAY", "compliant"),
        ("STRAY-26-4", "compliant"),
    ];
    for (serial, state) in expect {
        assert_eq!(state_of(&run, serial), state, "{serial}\n{}", run.stdout);
    }
    // A device outside the inventory joins the filter group its reported OS admits and is
    // judged against that group's target; one no filter admits stays unassigned.
    let device = |serial: &str| {
        doc["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["serial"] == serial)
            .unwrap()
            .clone()
    };
    let joined = device("STRAY-26-4");
    assert_eq!(joined["groups"], json!(["macos-26-4"]));
    assert_eq!(joined["target"]["version"], "26.4.1", "{joined:#}");
    let says = |device: &Value, what: &str| {
        device["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().contains(what))
    };
    assert!(says(&joined, "placed in `macos-26-4`"), "{joined:#}");
    let stray = device("STRAY");
    assert_eq!(stray["groups"], json!([]));
    assert!(says(&stray, "no group filter matches"), "{stray:#}");
    // The declaration K-INVALID rejected is counted, with the device's reason.
    let bsi = doc["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["identifier"].as_str().unwrap().ends_with(".enforce.bsi"))
        .unwrap();
    assert_eq!(bsi["invalid"], 1);
    assert!(
        bsi["reasons"][0]
            .as_str()
            .unwrap()
            .contains("ConfigurationCannotBeApplied")
    );
}

#[test]
fn deadline_boundaries() {
    let project = generate_fleet();
    let at = |now: &str| status(&project, &["--now", now, "--format", "json"]);
    // The lab's deadline is 2027-02-01T09:00:00: at it still pending, a second later overdue.
    assert_eq!(state_of(&at("2027-02-01T09:00:00"), "L-OLD"), "pending");
    let late = at("2027-02-01T09:00:01");
    assert_eq!(state_of(&late, "L-OLD"), "overdue");
    // BOTH is on 26.3.1, so the lab's deadline does not make it overdue; the kiosks' does.
    assert_eq!(state_of(&late, "BOTH"), "pending");
    let after = at("2027-04-01T09:00:01");
    assert_eq!(state_of(&after, "BOTH"), "overdue");
    assert_eq!(state_of(&after, "K-BASE"), "overdue");
    // A failed install stays failed past the deadline, and says so.
    assert_eq!(state_of(&after, "K-FAILED"), "failed");
    insta::assert_json_snapshot!(
        "status_after_deadline_groups",
        serde_json::from_str::<Value>(&after.stdout).unwrap()["groups"]
    );
}

#[test]
fn human_csv_and_fail_under() {
    let project = generate_fleet();
    let human = status(&project, &["--now", "2027-01-01T00:00:00"]);
    human.assert_code(0);
    insta::assert_snapshot!("status_human", human.stdout);
    let csv = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "csv"],
    );
    assert!(csv.stdout.starts_with("serial,groups,platform,state,"));
    assert_eq!(csv.stdout.lines().count(), 1 + 14);
    assert!(csv.stdout.contains("BOTH,kiosks;lab,macOS,pending,"));
    // kiosks: 4 of 10 compliant (40.0%), lab: 1 of 3 (33.3%).
    status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--fail-under", "40"],
    )
    .assert_code(1);
    status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--fail-under", "30"],
    )
    .assert_code(0);
}

/// The text of `html` outside `<style>`, without tags: what a reader sees.
fn visible_text(html: &str) -> String {
    let mut text = String::new();
    let mut rest = html;
    while let Some(start) = rest.find("<style") {
        text.push_str(&rest[..start]);
        rest = rest[start..]
            .find("</style>")
            .map_or("", |end| &rest[start + end + "</style>".len()..]);
    }
    text.push_str(rest);
    let mut out = String::new();
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[test]
fn html_report_is_one_self_contained_page() {
    let project = generate_fleet();
    status(
        &project,
        &[
            "--now",
            "2027-01-01T00:00:00",
            "--html",
            "report.html",
            "--csv",
            "all.csv",
        ],
    )
    .assert_code(0);
    let html = std::fs::read_to_string(project.join("report.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(project.join("report.html"))
            .unwrap()
            .permissions()
            .mode();
        assert_ne!(mode & 0o044, 0, "the page is readable by others: {mode:o}");
    }
    let doc: Value = serde_json::from_str(
        &status(
            &project,
            &["--now", "2027-01-01T00:00:00", "--format", "json"],
        )
        .stdout,
    )
    .unwrap();
    // The headline comes first: each enforced target, named, with its share and deadline.
    let head = visible_text(html.split("<table").next().unwrap());
    for expected in [
        "50.0%",
        "of 14 devices",
        "26.3.1 (a)",
        "25D771280a",
        "44.4%",
        "2027-04-01 09:00:00",
        "90 days 9 hours left",
        "kiosks-bsi",
        "26.4.1",
    ] {
        assert!(
            head.contains(expected),
            "no `{expected}` in the headline:\n{head}"
        );
    }
    // A reason group per reason, each expandable to its devices, counted.
    let reasons = doc["summary"]["reasons"].as_array().unwrap();
    assert_eq!(html.matches("<details>").count(), reasons.len());
    assert!(html.contains("install failed: the download failed <span class=\"n\">×1</span>"));
    assert_eq!(html.matches("<svg").count(), html.matches("</svg>").count());
    for banned in ["<script", "http:", "https:", "<link", "@import", "url("] {
        assert!(!html.contains(banned), "the page references `{banned}`");
    }
    assert!(
        !visible_text(&html).contains('`'),
        "Markdown backticks show"
    );
    assert!(
        html.contains("<code>downloading</code>"),
        "a quoted name is code"
    );
    for serial in ["K-FAILED", "K-BASE", "L-OLD", "K-NOVERSION"] {
        assert!(
            html.contains(&format!("data-label=\"Device\">{serial}</td>")),
            "{serial} is listed under its reason"
        );
    }
    assert!(
        !html.contains(">K-COMPLIANT</td>"),
        "compliant devices are not listed"
    );
    for section in [
        "Groups",
        "Platforms",
        "OS versions in the fleet",
        "Declarations",
    ] {
        assert!(
            html.contains(&format!("{section}</h2>")),
            "no {section} section"
        );
    }
    assert!(html.contains("<code>com.example.status.kiosks.enforce.bsi</code>"));
    let csv = std::fs::read_to_string(project.join("all.csv")).unwrap();
    assert_eq!(
        csv.lines().count(),
        1 + doc["devices"].as_array().unwrap().len()
    );
}

/// A big fleet: a handful of devices per reason, the rest counted, pointing to the CSV.
#[test]
fn a_big_fleet_lists_the_worst_devices_per_reason_and_counts_the_rest() {
    let project = generate_fleet();
    let mut text = String::new();
    let mut inventory = String::from("serial,groups,platform\n");
    for n in 0..3000 {
        let serial = format!("BIG{n:05}");
        text.push_str(&one_report(&serial, "26.2"));
        inventory.push_str(&format!("{serial},kiosks,macOS\n"));
    }
    project.write("reports/big.jsonl", text);
    project.write(
        "devices.csv",
        format!(
            "{INVENTORY}{}",
            &inventory["serial,groups,platform\n".len()..]
        ),
    );
    status(
        &project,
        &[
            "--now",
            "2027-01-01T00:00:00",
            "--html",
            "report.html",
            "--csv",
            "all.csv",
        ],
    )
    .assert_code(0);
    let html = std::fs::read_to_string(project.join("report.html")).unwrap();
    assert!(
        html.contains("on 26.2, below 26.3.1 <span class=\"n\">×3,001</span>"),
        "thousands separators"
    );
    assert_eq!(html.matches("data-label=\"Device\">BIG").count(), 25);
    assert!(html.contains("2,976 more are in <a href=\"all.csv\">all.csv</a>"));
}

/// `--history DIR`: a snapshot per run, named by `--now`; the second run shows the trend and
/// the devices that changed; a broken snapshot is a located warning and the rest is used.
#[test]
fn history_keeps_snapshots_and_shows_the_change() {
    let project = generate_fleet();
    let first = status(
        &project,
        &[
            "--now",
            "2027-01-01T00:00:00",
            "--history",
            "hist",
            "--format",
            "json",
        ],
    );
    first.assert_code(0);
    let doc: Value = serde_json::from_str(&first.stdout).unwrap();
    assert_eq!(doc["history"]["points"].as_array().unwrap().len(), 1);
    assert!(doc["history"]["changes"].is_null());
    let name = "hist/status-2027-01-01T000000.json";
    let snapshot = std::fs::read(project.join(name)).unwrap();
    // K-BASE installs the BSI and K-DOWNLOADING fails, in incremental reports.
    project.write(
        "reports/zz-week-2.jsonl",
        "{\"StatusItems\": {\"device\": {\"identifier\": {\"serial-number\": \"K-BASE\"}, \"operating-system\": {\"supplemental\": {\"build-version\": \"25D771280a\", \"extra-version\": \"(a)\"}}}}, \"Errors\": []}\n\
         {\"StatusItems\": {\"device\": {\"identifier\": {\"serial-number\": \"K-DOWNLOADING\"}}, \"softwareupdate\": {\"install-state\": \"failed\"}}, \"Errors\": []}\n",
    );
    project.write(
        "hist/status-2026-12-01T000000.json",
        "{\"format\": \"bsic-status-snapshot/1\",\n \"now\": ",
    );
    project.write("hist/notes.txt", "not a snapshot");
    let second = status(
        &project,
        &[
            "--now",
            "2027-01-08T00:00:00",
            "--history",
            "hist",
            "--format",
            "json",
            "--html",
            "b.html",
        ],
    );
    second.assert_code(0);
    assert!(
        second.stderr.contains("status-bad-snapshot")
            && second.stderr.contains("status-2026-12-01T000000.json:2"),
        "{}",
        second.stderr
    );
    let doc: Value = serde_json::from_str(&second.stdout).unwrap();
    let history = &doc["history"];
    assert_eq!(history["snapshot"], "status-2027-01-08T000000.json");
    assert_eq!(history["points"].as_array().unwrap().len(), 2);
    assert_eq!(history["changes"]["since"], "2027-01-01T00:00:00");
    assert_eq!(history["changes"]["compliant_devices"], json!(["K-BASE"]));
    assert_eq!(
        history["changes"]["failed_devices"],
        json!(["K-DOWNLOADING"])
    );
    assert_eq!(
        std::fs::read(project.join(name)).unwrap(),
        snapshot,
        "earlier snapshots stay"
    );
    let html = std::fs::read_to_string(project.join("b.html")).unwrap();
    assert!(html.contains("<polyline"), "a trend line");
    assert!(html.contains("1 newly failed since 2027-01-01 00:00:00"));
    insta::assert_json_snapshot!("status_history", history);
    insta::assert_json_snapshot!("status_summary", doc["summary"]);
    // The same run again: the same snapshot, byte for byte.
    let again_name = "hist/status-2027-01-08T000000.json";
    let bytes = std::fs::read(project.join(again_name)).unwrap();
    status(
        &project,
        &[
            "--now",
            "2027-01-08T00:00:00",
            "--history",
            "hist",
            "--format",
            "json",
        ],
    )
    .assert_code(0);
    assert_eq!(std::fs::read(project.join(again_name)).unwrap(), bytes);
}

#[test]
fn bad_input_is_located_and_the_rest_is_judged() {
    let project = generate_fleet();
    project.write(
        "reports/zz-bad.jsonl",
        "{\"StatusItems\": {\"device\": {\"identifier\": {\"serial-number\": \"X-1\"}, \"operating-system\": {\"family\": \"macOS\", \"version\": 26}}}, \"Errors\": []}\n\
         not json at all\n\
         {\"StatusItems\": {\"device.identifier.serial-number\": \"X-2\", \"management.declarations\": {\"configurations\": [{\"identifier\": \"com.example.status.gone\", \"active\": true, \"valid\": \"valid\", \"server-token\": \"t\"}]}}, \"Errors\": []}\n\
         {\"StatusItems\": {\"device\": {",
    );
    project.write(
        "devices.csv",
        format!("\u{feff}{}K-BASE,lab\nX-3,kiosk\n", INVENTORY),
    );
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "json"],
    );
    run.assert_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let warnings: Vec<(String, String, u64)> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["code"].as_str().unwrap().to_string(),
                w["file"].as_str().unwrap().to_string(),
                w["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected = [
        ("bsic::status-duplicate-device", "devices.csv", 14),
        ("bsic::status-unknown-group", "devices.csv", 15),
        ("bsic::status-wrong-type", "reports/zz-bad.jsonl", 1),
        ("bsic::status-malformed-report", "reports/zz-bad.jsonl", 2),
        ("bsic::status-malformed-report", "reports/zz-bad.jsonl", 4),
        (
            "bsic::status-unknown-declaration",
            "reports/zz-bad.jsonl",
            3,
        ),
    ];
    for (code, file, line) in expected {
        assert!(
            warnings.contains(&(code.to_string(), file.to_string(), line)),
            "missing {code} at {file}:{line} in {warnings:?}"
        );
    }
    assert!(run.stderr.contains("zz-bad.jsonl:2"), "{}", run.stderr);
    // The rest is still judged.
    assert_eq!(state_of(&run, "K-COMPLIANT"), "compliant");
    assert_eq!(state_of(&run, "X-1"), "unknown");
}

/// A flood of bad rows is reported like any other flood of diagnostics: at most 20 per file
/// on stderr, then one line counting the rest; the JSON answer still lists every warning.
#[test]
fn a_flood_of_status_warnings_is_capped_on_stderr() {
    let project = generate_fleet();
    let bad_rows: String = (0..50).map(|i| format!("Z-{i},no-such-group\n")).collect();
    project.write("devices.csv", format!("{INVENTORY}{bad_rows}"));
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "json"],
    );
    run.assert_code(0);
    let shown = run.stderr.matches("bsic::status-unknown-group").count();
    assert_eq!(shown, 20, "{}", run.stderr);
    assert!(
        run.stderr.contains("… and 30 more warnings in devices.csv"),
        "{}",
        run.stderr
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let listed = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "bsic::status-unknown-group")
        .count();
    assert_eq!(listed, 50);
}

#[test]
fn unreadable_input_exits_2() {
    let project = generate_fleet();
    let run = project
        .bsic()
        .args(["status", "--reports", "missing-dir"])
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("status-unreadable"), "{}", run.stderr);
    let run = status(&project, &["--now", "tomorrow"]);
    run.assert_code(2);
    assert!(run.stderr.contains("status-bad-now"), "{}", run.stderr);
}

#[test]
fn every_generated_status_item_is_one_bsic_subscribes_to() {
    // The status subscription bsic emits asks for the items the generator fills in.
    let project = generate_fleet();
    let subscription = std::fs::read_to_string(
        project.join("dist/ddm/kiosks/com.example.status.kiosks.status.json"),
    )
    .unwrap();
    for item in [
        "device.operating-system.supplemental.build-version",
        "softwareupdate.install-state",
        "management.declarations",
    ] {
        assert!(
            subscription.contains(item),
            "{item} is not subscribed:\n{subscription}"
        );
    }
}

/// The Chromium binary (Debian's `chromium`, installed by `.ci/run`), if any.
fn chromium() -> Option<std::path::PathBuf> {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| crate::util::which(name))
}

/// Renders `page` headless at `width`×`height` into `png`, returning Chromium's stderr
/// (console messages included).
fn screenshot_at(
    browser: &std::path::Path,
    page: &std::path::Path,
    png: &std::path::Path,
    (width, height): (u32, u32),
) -> String {
    let output = std::process::Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(
        png.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn screenshot(browser: &std::path::Path, page: &std::path::Path, png: &std::path::Path) -> String {
    screenshot_at(browser, page, png, (1000, 700))
}

/// The DOM Chromium builds from `page` at `width` pixels, after layout.
fn dump_dom(browser: &std::path::Path, page: &std::path::Path, width: u32) -> String {
    let output = std::process::Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("--window-size={width},900"))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Opens the HTML report in headless Chromium: no console errors, and the charts are drawn
/// (the screenshot differs from one of the same page with its charts removed); screenshots
/// at a laptop's 1280×900 and a phone's 390×844 (copied to `$BSIC_SCREENSHOTS` when set, to
/// look at); the headline numbers in the DOM; the page no wider than the phone.
#[test]
fn html_report_renders_in_chromium() {
    let Some(browser) = chromium() else {
        eprintln!("skipped: no chromium on PATH (.ci/run installs Debian's package)");
        return;
    };
    let project = generate_fleet();
    status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--history", "hist"],
    )
    .assert_code(0);
    project.write(
        "reports/zz-week-2.jsonl",
        "{\"StatusItems\": {\"device\": {\"identifier\": {\"serial-number\": \"K-BASE\"}, \"operating-system\": {\"supplemental\": {\"build-version\": \"25D771280a\", \"extra-version\": \"(a)\"}}}}, \"Errors\": []}\n",
    );
    status(
        &project,
        &[
            "--now",
            "2027-01-08T00:00:00",
            "--history",
            "hist",
            "--html",
            "report.html",
        ],
    )
    .assert_code(0);
    let html = std::fs::read_to_string(project.join("report.html")).unwrap();
    let log = screenshot(
        &browser,
        &project.join("report.html"),
        &project.join("with.png"),
    );
    for line in log.lines() {
        let console = line.contains("CONSOLE") || line.contains("Uncaught");
        assert!(
            !console || !line.to_lowercase().contains("error"),
            "console error: {line}"
        );
    }
    // The same page without its charts.
    let mut bare = String::new();
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<svg") {
        bare.push_str(&rest[..start]);
        let end = rest[start..].find("</svg>").unwrap() + start + "</svg>".len();
        rest = &rest[end..];
    }
    bare.push_str(rest);
    project.write("bare.html", bare);
    screenshot(
        &browser,
        &project.join("bare.html"),
        &project.join("without.png"),
    );
    let with = std::fs::read(project.join("with.png")).unwrap();
    let without = std::fs::read(project.join("without.png")).unwrap();
    assert!(with.len() > 1000, "the screenshot is empty");
    assert_ne!(with, without, "the charts draw nothing");
    for (name, size) in [("laptop", (1280, 900)), ("phone", (390, 844))] {
        let png = project.join(format!("report-{name}.png"));
        screenshot_at(&browser, &project.join("report.html"), &png, size);
        assert!(
            std::fs::metadata(&png).unwrap().len() > 5000,
            "{name}: blank"
        );
        if let Some(dir) = std::env::var_os("BSIC_SCREENSHOTS") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::copy(
                &png,
                std::path::Path::new(&dir).join(format!("report-{name}.png")),
            )
            .unwrap();
        }
    }
    // The headline as the browser has it.
    let dom = dump_dom(&browser, &project.join("report.html"), 1280);
    let head = visible_text(dom.split("<table").next().unwrap());
    for expected in [
        "57.1%",
        "8 of 14 devices",
        "26.3.1 (a)",
        "55.6%",
        "of 9 targeted devices reached it",
        "83 days 9 hours left",
        "1 newly compliant since 2027-01-01 00:00:00",
    ] {
        assert!(
            head.contains(expected),
            "the DOM lacks `{expected}`:\n{head}"
        );
    }
    // On a phone the page is no wider than the screen: wide tables scroll in their own box.
    // (Headless Chromium lays out no narrower than 500 px, so the page is framed at 390.)
    project.write(
        "probe.html",
        "<!DOCTYPE html><html><body><iframe id=\"f\" src=\"report.html\" width=\"390\" height=\"844\"></iframe>\
         <script>document.getElementById('f').onload = function () {\
           var d = this.contentDocument.documentElement;\
           document.body.dataset.width = d.scrollWidth + 'x' + d.clientWidth; };</script></body></html>",
    );
    let output = std::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--dump-dom",
        ])
        .arg(format!("file://{}", project.join("probe.html").display()))
        .output()
        .expect("run chromium");
    let dom = String::from_utf8_lossy(&output.stdout);
    let (scroll, client): (u32, u32) = dom
        .split("data-width=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|w| w.split_once('x'))
        .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
        .unwrap_or_else(|| panic!("no width in the DOM: {dom}"));
    assert!(client <= 390 && client > 300, "framed at {client} px");
    assert!(
        scroll <= client,
        "the page is {scroll} px wide on a {client} px screen"
    );
}

/// A device in two groups below both targets is overdue at the earlier deadline (the lab's),
/// not only at the kiosks' one; `--dist` names the manifest explicitly.
#[test]
fn a_device_in_two_groups_is_overdue_at_the_earlier_deadline() {
    let project = generate_fleet();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(project.join("dist/manifest.json")).unwrap())
            .unwrap();
    let device = Device {
        serial: "BOTH-OLD",
        version: "26.2",
        build: "25C56",
        holds: &["kiosks", "lab"],
        ..Device::default()
    };
    let report = full_report(&device, &manifest);
    assert!(apple_problems(&report).is_empty());
    project.write(
        "reports/BOTH-OLD.json",
        serde_json::to_string(&report).unwrap(),
    );
    project.write("devices.csv", format!("{INVENTORY}BOTH-OLD,kiosks;lab\n"));
    let at = |now: &str| {
        status(
            &project,
            &["--now", now, "--format", "json", "--dist", "dist"],
        )
    };
    assert_eq!(state_of(&at("2027-01-31T00:00:00"), "BOTH-OLD"), "pending");
    let run = at("2027-02-01T09:00:01");
    assert_eq!(state_of(&run, "BOTH-OLD"), "overdue");
    assert!(
        run.stdout.contains("past the deadline 2027-02-01T09:00:00"),
        "{}",
        run.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Untrusted text from devices and inventories (issue: "unbreakable").

/// A report of one macOS device with `serial` and OS `version`, as one JSON line.
fn one_report(serial: &str, version: &str) -> String {
    let report = json!({
        "StatusItems": { "device": {
            "identifier": { "serial-number": serial },
            "operating-system": { "family": "macOS", "version": version }
        } },
        "Errors": [],
        "FullReport": true
    });
    format!("{}\n", serde_json::to_string(&report).unwrap())
}

/// Serials and reasons devices send reach the terminal shown, not executed: ESC, BEL and C1
/// controls are escaped in the human summary and the warnings, and the HTML stays escaped.
#[test]
fn device_text_cannot_drive_the_terminal() {
    let project = generate_fleet();
    let evil = "EVIL\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m<b>";
    // Not a version: the device is `unknown`, so the HTML table lists it too.
    project.write("reports/zz-evil.jsonl", one_report(evil, "26.x"));
    project.write(
        "reports/zz-family.jsonl",
        one_report("FAM", "26.3.1").replace("\"macOS\"", "\"mac\\u001bOS\""),
    );
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--html", "report.html"],
    );
    run.assert_code(0);
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        for control in ['\u{1b}', '\u{7}', '\u{9b}'] {
            assert!(
                !text.contains(control),
                "{stream} carries U+{:04X}\n{}",
                u32::from(control),
                run.describe()
            );
        }
    }
    assert!(run.stderr.contains("mac\\u{1b}OS"), "{}", run.stderr);
    let html = std::fs::read_to_string(project.join("report.html")).unwrap();
    assert!(!html.contains('\u{1b}') && !html.contains("<b>"));
    assert!(
        html.contains("EVIL\\u{1b}]0;owned\\u{7}"),
        "the serial is shown escaped"
    );
    // Machine output keeps the device's text exactly (JSON escapes it).
    let json = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "json"],
    );
    assert!(json.stdout.contains("EVIL\\u001b]0;owned\\u0007"));
}

/// The acceptance check: a serial such as `=HYPERLINK(…)` must not be a live formula in the
/// CSV; every cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'` (OWASP).
#[test]
fn csv_cells_never_start_a_spreadsheet_formula() {
    let project = generate_fleet();
    for (name, serial) in [
        ("a", "=HYPERLINK(\"http://x\",\"y\")"),
        ("b", "+1+cmd|' /C calc'!A0"),
        ("c", "-2+3"),
        ("d", "@SUM(1+1)*cmd|' /C calc'!A0"),
        ("e", "\tTAB"),
        ("f", "\rCR"),
    ] {
        project.write(
            &format!("reports/zz-{name}.jsonl"),
            one_report(serial, "=1+1"),
        );
    }
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "csv"],
    );
    run.assert_code(0);
    let mut reader = csv::ReaderBuilder::new().from_reader(run.stdout.as_bytes());
    let mut quoted = 0;
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(
                !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "live cell {cell:?}\n{}",
                run.stdout
            );
            if cell.starts_with("'=") || cell.starts_with("'+") || cell.starts_with("'-") {
                quoted += 1;
            }
        }
    }
    // Six serials plus their `=1+1` versions.
    assert!(quoted >= 9, "{}", run.stdout);
    assert!(run.stdout.contains("'=HYPERLINK("), "{}", run.stdout);
}

/// A version that is not one (`abc`, empty, five parts, huge numbers) is `unknown`, with a
/// warning naming the report's file and line, not `pending` for ever.
#[test]
fn malformed_reported_versions_are_unknown_with_a_located_warning() {
    let project = generate_fleet();
    let bad = ["abc", "", "26.3.1.9.9", "99999999999999999999.1"];
    let text: String = bad
        .iter()
        .enumerate()
        .map(|(i, v)| one_report(&format!("V-{i}"), v))
        .collect();
    project.write("reports/zz-versions.jsonl", text);
    project.write(
        "devices.csv",
        format!("{INVENTORY}V-0,kiosks\nV-1,kiosks\nV-2,kiosks\nV-3,kiosks\n"),
    );
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "json"],
    );
    run.assert_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    for (i, _) in bad.iter().enumerate() {
        assert_eq!(state_of(&run, &format!("V-{i}")), "unknown", "V-{i}");
        let located = doc["warnings"].as_array().unwrap().iter().any(|w| {
            w["code"] == "bsic::status-bad-version"
                && w["file"] == "reports/zz-versions.jsonl"
                && w["line"] == i as u64 + 1
        });
        assert!(located, "no located warning for V-{i}: {}", doc["warnings"]);
    }
}

/// `--fail-under NaN` compared false with every percentage and could never fail; it, the
/// infinities and values outside 0..=100 are usage errors naming the value.
#[test]
fn fail_under_must_be_a_percentage() {
    let project = generate_fleet();
    for bad in ["NaN", "inf", "-inf", "-5", "100.5", "ninety"] {
        let arg = format!("--fail-under={bad}");
        let run = status(&project, &["--now", "2027-01-01T00:00:00", &arg]);
        run.assert_code(2);
        assert!(
            run.stderr.contains("--fail-under") && run.stderr.contains(bad),
            "{bad}: {}",
            run.stderr
        );
    }
    status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--fail-under", "100"],
    )
    .assert_code(1);
}

/// An inventory with a NUL in a serial and a quote left open: one located warning per bad row,
/// and the rows after the open quote are still read.
#[test]
fn inventory_rows_with_nul_or_broken_quoting_warn_and_the_rest_is_read() {
    let project = generate_fleet();
    let lines = INVENTORY.lines().count();
    project.write(
        "devices.csv",
        format!("{INVENTORY}N\0UL,kiosks\n\"OPEN,kiosks\nV-AFTER,lab\n"),
    );
    project.write("reports/zz-after.jsonl", one_report("V-AFTER", "26.3.1"));
    let run = status(
        &project,
        &["--now", "2027-01-01T00:00:00", "--format", "json"],
    );
    run.assert_code(0);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    let rows: Vec<u64> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "bsic::status-bad-inventory-row" && w["file"] == "devices.csv")
        .map(|w| w["line"].as_u64().unwrap())
        .collect();
    assert_eq!(
        rows,
        vec![lines as u64 + 1, lines as u64 + 2],
        "{}",
        doc["warnings"]
    );
    let after = doc["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["serial"] == "V-AFTER")
        .unwrap();
    assert_eq!(after["groups"], json!(["lab"]));
}
