//! Fixture fleets with overlapping groups: `bsic explain --format json` and the lints of
//! `bsic check` are pinned per fleet (issue 4).

use std::path::Path;
use std::process::Command;

/// (fleet, explain arguments) pairs, each pinned as a JSON snapshot.
const CASES: &[(&str, &[&str])] = &[
    (
        "overlapping",
        &["--group", "pilot", "--group", "engineering"],
    ),
    ("includes", &["--group", "kiosks"]),
    ("includes", &["--group", "engineering"]),
    ("all-baseline", &["--group", "pilot"]),
    ("priority", &["--group", "staff", "--platform", "iOS"]),
    (
        "beta-first",
        &["--group", "testers", "--group", "developers"],
    ),
    ("staged-bsi", &["--group", "kiosks", "--os", "26.2"]),
    ("filters", &["--group", "bsi-macs", "--os", "26.2"]),
    ("filters", &["--group", "bsi-macs", "--os", "25.4"]),
];

fn bsic(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bsic"))
        .args(args)
        .current_dir(dir)
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .output()
        .unwrap()
}

fn fleet(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/fleets")
        .join(name)
}

#[test]
fn explain_json_is_pinned_per_fleet() {
    for (name, args) in CASES {
        let mut full = vec!["explain", "--format", "json"];
        full.extend_from_slice(args);
        let out = bsic(&fleet(name), &full);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let snapshot = format!("explain-{name}-{}", args.join("-").replace("--", ""));
        insta::assert_json_snapshot!(snapshot, json);
    }
}

#[test]
fn lints_fire_on_their_fleets() {
    let expect: &[(&str, &[&str])] = &[
        ("overlapping", &[]),
        ("includes", &[]),
        (
            "all-baseline",
            &[
                "bsic::ineffective-override",
                "bsic::rollback-with-forced-install",
            ],
        ),
        ("priority", &[]),
        ("beta-first", &[]),
        (
            "staged-bsi",
            &["bsic::bsi-off-with-bsi-target", "bsic::staged-base"],
        ),
    ];
    for (name, codes) in expect {
        let out = bsic(&fleet(name), &["check", "--format", "json"]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        let mut found: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|d| d["code"].as_str().map(String::from))
            .collect();
        found.sort();
        found.dedup();
        assert_eq!(found, codes.to_vec(), "{name}");
    }
}

#[test]
fn a_past_deadline_and_a_group_cycle_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("policies")).unwrap();
    std::fs::write(
        dir.join("bsic.kdl"),
        "organization \"T\"\nidentifier-prefix \"com.example.t\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("policies/p.kdl"),
        "group \"a\" { includes \"b\" }\ngroup \"b\" { includes \"a\" }\n\
         policy \"late\" {\n    applies-to \"a\"\n    enforce version=\"26.3.1\" by=\"2025-01-01T09:00:00\"\n}\n",
    )
    .unwrap();
    let out = bsic(dir, &["check", "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("bsic::group-cycle") && text.contains("a → b → a")
            || text.contains("b → a → b"),
        "{text}"
    );
    // Lints wait until errors are fixed; with the cycle broken the deadline is reported.
    std::fs::write(
        dir.join("policies/p.kdl"),
        "group \"a\" { includes \"b\" }\ngroup \"b\"\n\
         policy \"late\" {\n    applies-to \"a\"\n    enforce version=\"26.3.1\" by=\"2025-01-01T09:00:00\"\n}\n",
    )
    .unwrap();
    let out = bsic(dir, &["check", "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("bsic::past-deadline") && text.contains("\"line\":5"),
        "{text}"
    );
    // …and a lint set to deny in bsic.kdl fails the check.
    std::fs::write(
        dir.join("bsic.kdl"),
        "organization \"T\"\nidentifier-prefix \"com.example.t\"\nlints { past-deadline \"deny\" }\n",
    )
    .unwrap();
    assert_eq!(bsic(dir, &["check"]).status.code(), Some(1));
}

#[test]
fn group_filters_become_activation_predicates() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let run = bsic(
        &fleet("filters"),
        &["build", "--out", out.to_str().unwrap()],
    );
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let activation = std::fs::read_to_string(
        out.join("ddm/bsi-macs/com.example.fleet.bsi-macs.activation.json"),
    )
    .unwrap();
    let json: serde_json::Value = serde_json::from_str(&activation).unwrap();
    let predicate = json["Payload"]["Predicate"].as_str().unwrap();
    assert!(predicate.starts_with("(@status(device.operating-system.family) == 'macOS') AND (@status(device.operating-system.version) MATCHES '^("), "{predicate}");
}

#[test]
fn a_stated_fleet_routes_profiles_to_legacy_platforms_only() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dist");
    let run = bsic(&fleet("legacy"), &["build", "--out", out.to_str().unwrap()]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let profiles: Vec<String> = std::fs::read_dir(out.join("profiles/staff"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    // macOS 13.5 predates the DDM settings (15.0): those Macs need the profile. iOS 18 does not.
    assert_eq!(
        profiles,
        vec!["com.example.fleet.staff.profile.mobileconfig".to_string()]
    );
    let text = std::fs::read_to_string(
        out.join("profiles/staff/com.example.fleet.staff.profile.mobileconfig"),
    )
    .unwrap();
    assert!(
        text.contains("allowRapidSecurityResponseRemoval") && text.contains("(macOS)"),
        "{text}"
    );
}

#[test]
fn check_explain_overrides_lists_what_priority_overrode() {
    let out = bsic(&fleet("priority"), &["check", "--explain-overrides"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("group `staff` (macOS, iOS, iPadOS, tvOS, visionOS): `os-updates.recommended-cadence` Newest from `staff-newest` (priority 5) overrides All from `staff-default` (priority 0, policies/fleet.kdl:8:9)"),
        "{text}"
    );
}
