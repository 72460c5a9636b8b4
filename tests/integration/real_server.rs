//! The whole loop against the real KMFDDM (`kmfddm.rs`): `bsic build --target kmfddm`, the
//! generated `upload.sh`, simulated devices that sync and report through the server
//! (`device.rs`), and `bsic status` on the server's `-dump-status` file.
//!
//! Each test skips (with a message) where there is no KMFDDM, and fails under `CI=true`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::device::{self, Device, Held};
use crate::kmfddm::Kmfddm;
use crate::util::{Project, Run};

const PREFIX: &str = "com.example.loop";

/// Several groups with overlapping members, macOS and iOS policies, a staged BSI enforcement,
/// a group filtered by OS version, and the status subscription bsic emits for every group.
const POLICIES: &str = r#"
group "pilot"
group "engineering"
group "phones"
group "modern" {
    platforms "macOS"
    os min="26.0"
}

policy "pilot-bsi" {
    applies-to "pilot"
    platforms "macOS"
    background-security {
        automatic-install "always-on"
        allow-rollback #false
    }
    os-updates {
        defer major=30
    }
    enforce version="26.3.1" build="25D771280a" by="2027-04-01T09:00:00"
}

policy "engineering-relaxed" {
    applies-to "engineering"
    platforms "macOS"
    background-security {
        automatic-install "allowed"
        allow-rollback #true
    }
    os-updates {
        defer major=60
    }
}

policy "phones" {
    applies-to "phones"
    platforms "iOS"
    background-security {
        offer #true
    }
    enforce version="26.3" by="2027-03-01T09:00:00"
}

policy "modern-macs" {
    applies-to "modern"
    platforms "macOS"
    os-updates {
        download "always-on"
    }
}
"#;

/// The project, built with the KMFDDM layout into `dist/`, with the enrollment lists.
fn project() -> Project {
    let project = Project::empty()
        .file(
            "bsic.kdl",
            format!(
                "organization \"Loop\"\nidentifier-prefix \"{PREFIX}\"\npolicies \"policies/**/*.kdl\"\nlints {{\n    staged-base \"allow\"\n}}\n"
            ),
        )
        .file("policies/fleet.kdl", POLICIES)
        .file("enrollments/pilot.txt", "LAPTOP\nLAPTOP-FAILED\n")
        .file("enrollments/engineering.txt", "# two groups: also in pilot\nMAC15\n")
        .file("enrollments/phones.txt", "IPHONE\n")
        .file("enrollments/modern.txt", "");
    build(&project);
    project
}

fn build(project: &Project) {
    project
        .bsic()
        .args(["build", "--target", "kmfddm", "--out", "dist"])
        .run()
        .assert_code(0);
}

/// `sh dist/kmfddm/upload.sh` from the project, with `env` on top of the server's.
fn upload(project: &Project, server: &Kmfddm, env: &[(&str, &str)]) -> Run {
    let mut command = Command::new("sh");
    command
        .arg("dist/kmfddm/upload.sh")
        .current_dir(project.path())
        .env_remove("BSIC_PRUNE")
        .env_remove("BSIC_SERVER_TOKENS")
        .env_remove("BSIC_TOKENS_ONLY")
        .envs(server.upload_env());
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    Run {
        command: format!("sh dist/kmfddm/upload.sh {env:?}"),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

fn upload_ok(project: &Project, server: &Kmfddm, env: &[(&str, &str)]) -> Run {
    let run = upload(project, server, env);
    run.assert_code(0);
    run
}

/// Everything the server holds for this project: declarations (with their tokens), sets and
/// their members, each enrollment's sets and the declaration items it is served.
fn server_state(server: &Kmfddm, enrollments: &[&str]) -> Value {
    let mut declarations = BTreeMap::new();
    for id in server.admin("/v1/declarations").as_array().unwrap() {
        let id = id.as_str().unwrap();
        let declaration = server.admin(&format!("/v1/declarations/{id}"));
        declarations.insert(id.to_string(), declaration["ServerToken"].clone());
    }
    let mut sets = BTreeMap::new();
    for set in server.admin("/v1/sets").as_array().unwrap() {
        let set = set.as_str().unwrap();
        let mut members = strings(&server.admin(&format!("/v1/set-declarations/{set}")));
        members.sort();
        sets.insert(set.to_string(), members);
    }
    let mut assigned = BTreeMap::new();
    for enrollment in enrollments {
        let mut theirs = strings(&server.admin(&format!("/v1/enrollment-sets/{enrollment}")));
        theirs.sort();
        // KMFDDM's DeclarationsToken hashes the ServerTokens of the enrollment's declaration
        // items in Go map order, so it can differ between two requests with nothing changed
        // (seen: three values in four calls). What it hashes is compared instead: each
        // item's identifier and ServerToken.
        let (_, items) = server.device("GET", enrollment, "/declaration-items", None);
        let items: Value = serde_json::from_str(&items).unwrap();
        let mut tokens: Vec<String> = items["Declarations"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|kind| kind.as_array().cloned().unwrap_or_default())
            .map(|item| format!("{} {}", item["Identifier"], item["ServerToken"]))
            .collect();
        tokens.sort();
        assigned.insert(
            enrollment.to_string(),
            json!({ "sets": theirs, "declaration-items": tokens }),
        );
    }
    json!({ "declarations": declarations, "sets": sets, "enrollments": assigned })
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// What the build says the server must hold: each declaration of the layout, and each
/// group's set with its members.
fn built(layout: &Path) -> (BTreeSet<String>, BTreeMap<String, Vec<String>>) {
    let declarations = fs::read_dir(layout.join("declarations"))
        .unwrap()
        .map(|entry| {
            let declaration: Value =
                serde_json::from_slice(&fs::read(entry.unwrap().path()).unwrap()).unwrap();
            declaration["Identifier"].as_str().unwrap().to_string()
        })
        .collect();
    let mut sets = BTreeMap::new();
    for line in fs::read_to_string(layout.join("enrollment-sets.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
    {
        let (group, set) = line.split_once('\t').unwrap();
        // The other lines of a group are the sets of the groups that include it.
        if set != format!("{PREFIX}.{group}") {
            continue;
        }
        let mut members: Vec<String> = fs::read_to_string(layout.join(format!("sets/{group}.txt")))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        members.sort();
        sets.insert(set.to_string(), members);
    }
    (declarations, sets)
}

const ENROLLED: &[&str] = &["LAPTOP", "LAPTOP-FAILED", "MAC15", "IPHONE", "LONER"];

#[test]
fn publish_puts_exactly_the_build_on_the_real_server_and_a_rerun_changes_nothing() {
    let Some(server) = Kmfddm::start("publish") else {
        return;
    };
    let project = project();
    // What another tool keeps on the same server: never touched.
    let foreign = json!({"Type": "com.apple.configuration.management.test",
                         "Identifier": "org.other.test", "Payload": {"Echo": "x"}});
    for code in [
        server.admin_send("PUT", "/v1/declarations?nonotify=1", Some(&foreign)),
        server.admin_send(
            "PUT",
            "/v1/set-declarations/org.other?declaration=org.other.test&nonotify=1",
            None,
        ),
    ] {
        assert!(matches!(code, 204 | 304), "{code}");
    }
    // What an earlier build left: a member bsic no longer builds in pilot's set, and MAC15
    // (now listed for engineering) holding pilot's set.
    let old = json!({"Type": "com.apple.configuration.management.test",
                     "Identifier": format!("{PREFIX}.pilot.old"), "Payload": {"Echo": "old"}});
    for code in [
        server.admin_send("PUT", "/v1/declarations?nonotify=1", Some(&old)),
        server.admin_send(
            "PUT",
            &format!(
                "/v1/set-declarations/{PREFIX}.pilot?declaration={PREFIX}.pilot.old&nonotify=1"
            ),
            None,
        ),
        server.admin_send(
            "PUT",
            &format!("/v1/enrollment-sets/MAC15?set={PREFIX}.pilot&nonotify=1"),
            None,
        ),
    ] {
        assert!(matches!(code, 204 | 304), "{code}");
    }
    let first = upload_ok(&project, &server, &[]);
    let layout = project.join("dist/kmfddm");
    let (declarations, sets) = built(&layout);
    let state = server_state(&server, ENROLLED);
    let mut expected_declarations = declarations.clone();
    expected_declarations.insert("org.other.test".into());
    // Taken out of the set, but never deleted: KMFDDM has no notion of whose it is.
    expected_declarations.insert(format!("{PREFIX}.pilot.old"));
    let on_server: BTreeSet<String> = state["declarations"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(on_server, expected_declarations, "{}", first.stderr);
    let mut expected_sets = sets.clone();
    expected_sets.insert("org.other".into(), vec!["org.other.test".into()]);
    assert_eq!(state["sets"], json!(expected_sets));
    let set = |group: &str| format!("{PREFIX}.{group}");
    for (enrollment, groups) in [
        ("LAPTOP", vec![set("pilot")]),
        ("LAPTOP-FAILED", vec![set("pilot")]),
        ("MAC15", vec![set("engineering")]),
        ("IPHONE", vec![set("phones")]),
        ("LONER", vec![]),
    ] {
        assert_eq!(
            state["enrollments"][enrollment]["sets"],
            json!(groups),
            "{enrollment}"
        );
    }
    // The token map pairs every declaration bsic built with the token the server assigned.
    let map: Value =
        serde_json::from_slice(&fs::read(layout.join("server-tokens.json")).unwrap()).unwrap();
    assert_eq!(map["format"], "bsic-server-tokens/1");
    let mapped: BTreeSet<String> = map["declarations"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(mapped, declarations);
    for (id, pair) in map["declarations"].as_object().unwrap() {
        assert_eq!(pair["server"], state["declarations"][id], "{id}");
        assert_ne!(
            pair["server"], pair["bsic"],
            "{id}: KMFDDM assigns its own tokens"
        );
    }

    // Again: nothing changes, not a token, not a set, not what an enrollment is served.
    let again = upload_ok(&project, &server, &[]);
    assert_eq!(server_state(&server, ENROLLED), state, "{}", again.stderr);

    // The group `phones` is removed: with BSIC_PRUNE=1 exactly its set is emptied, declarations stay,
    // and the other sets and the foreign set are as they were.
    let policies = POLICIES
        .replace("group \"phones\"\n", "")
        .split("policy \"phones\"")
        .next()
        .unwrap()
        .to_string()
        + &POLICIES[POLICIES.find("policy \"modern-macs\"").unwrap()..];
    project.write("policies/fleet.kdl", policies);
    fs::remove_file(project.join("enrollments/phones.txt")).unwrap();
    build(&project);
    upload_ok(&project, &server, &[("BSIC_PRUNE", "1")]);
    let pruned = server_state(&server, ENROLLED);
    // (KMFDDM lists only sets with members: the emptied one is gone from /v1/sets.)
    let mut expected = state["sets"].clone();
    expected.as_object_mut().unwrap().remove(&set("phones"));
    assert_eq!(pruned["sets"], expected);
    assert!(strings(&server.admin(&format!("/v1/set-declarations/{}", set("phones")))).is_empty());
    assert_eq!(
        pruned["declarations"].as_object().unwrap().len(),
        state["declarations"].as_object().unwrap().len(),
        "declarations are never deleted"
    );
    assert_eq!(
        pruned["declarations"]["org.other.test"],
        state["declarations"]["org.other.test"]
    );
}

/// The devices of the loop: a macOS 26 laptop in two groups on the BSI, one in pilot whose
/// install failed, a macOS 15 Mac (in engineering and `modern`, whose filter it fails), an
/// iPhone still below its target, and one device in no group.
fn devices() -> Vec<(Device, Vec<&'static str>)> {
    let mut laptop = Device::new("LAPTOP", "macOS", "26.3.1", "25D2128");
    laptop.supplemental = Some(("25D771280a".into(), "(a)".into()));
    let mut failed = Device::new("LAPTOP-FAILED", "macOS", "26.3", "25D125");
    failed.install_state = "failed";
    let mut iphone = Device::new("IPHONE", "iOS", "26.2", "23C55");
    iphone.install_state = "downloading";
    vec![
        (laptop, vec!["pilot", "engineering"]),
        (failed, vec!["pilot"]),
        (
            Device::new("MAC15", "macOS", "15.7.4", "24G517"),
            vec!["engineering", "modern"],
        ),
        (iphone, vec!["phones"]),
        (Device::new("LONER", "macOS", "26.2", "25C56"), vec![]),
    ]
}

/// The enrollment lists for `devices()`: a device in two groups is listed for one and given
/// the other's set by hand, since upload.sh takes one group per enrollment.
fn enroll(project: &Project, server: &Kmfddm) {
    project.write("enrollments/pilot.txt", "LAPTOP\nLAPTOP-FAILED\n");
    project.write("enrollments/engineering.txt", "MAC15\n");
    project.write("enrollments/modern.txt", "");
    project.write("enrollments/phones.txt", "IPHONE\n");
    upload_ok(project, server, &[]);
    for (enrollment, group) in [("LAPTOP", "engineering"), ("MAC15", "modern")] {
        assert_eq!(
            server.admin_send(
                "PUT",
                &format!("/v1/enrollment-sets/{enrollment}?set={PREFIX}.{group}&nonotify=1"),
                None
            ),
            204
        );
    }
}

/// `bsic explain` for a device: (settings by `Type/Key`, enforcement targets).
fn explain(
    project: &Project,
    device: &Device,
    groups: &[&str],
) -> (BTreeMap<String, Value>, BTreeSet<String>) {
    let mut bsic = project.bsic().args([
        "explain",
        "--platform",
        device.family,
        "--os",
        &device.version,
        "--format",
        "json",
    ]);
    // A device in no group is a member of `all` only.
    for group in if groups.is_empty() {
        &["all"][..]
    } else {
        groups
    } {
        bsic = bsic.args(["--group", group]);
    }
    let run = bsic.run();
    run.assert_code(0);
    let explanation: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut settings = BTreeMap::new();
    let mut enforcement = BTreeSet::new();
    for platform in explanation["platforms"].as_array().into_iter().flatten() {
        for key in platform["settings"].as_array().into_iter().flatten() {
            settings.insert(
                key["key"].as_str().unwrap().to_string(),
                key["value"].clone(),
            );
        }
        for target in platform["enforcement"].as_array().into_iter().flatten() {
            enforcement.insert(
                json!([target["version"], target["build"], target["deadline"]]).to_string(),
            );
            // A BSI staged through its base version: the base is a declaration of its own.
            let staged = target["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|step| step.as_str().is_some_and(|s| s.ends_with("(base)")));
            if staged {
                enforcement
                    .insert(json!([target["version"], null, target["deadline"]]).to_string());
            }
        }
    }
    (settings, enforcement)
}

/// What the device applies: settings by key (merged by Apple's rules) and enforcement targets.
fn applied(device: &Device, held: &Held) -> (BTreeMap<String, Value>, BTreeSet<String>) {
    let applied = device.applied(held);
    let settings = device::effective(
        &applied,
        &["com.apple.configuration.softwareupdate.settings"],
    )
    .into_iter()
    .map(|(key, value)| (key.split_once('/').unwrap().1.to_string(), value))
    .collect();
    let enforcement = applied
        .iter()
        .filter(|(t, _)| *t == "com.apple.configuration.softwareupdate.enforcement.specific")
        .map(|(_, p)| {
            let build = p.get("TargetBuildVersion").cloned().unwrap_or(Value::Null);
            json!([p["TargetOSVersion"], build, p["TargetLocalDateTime"]]).to_string()
        })
        .collect();
    (settings, enforcement)
}

#[test]
fn devices_apply_what_explain_says_and_status_judges_the_servers_tokens() {
    let Some(server) = Kmfddm::start("device loop") else {
        return;
    };
    let project = project();
    enroll(&project, &server);
    let fleet = devices();
    let mut held = BTreeMap::new();
    for (device, groups) in &fleet {
        let synced = device.sync(&server);
        assert!(!synced.declarations_token.is_empty());
        let (settings, enforcement) = applied(device, &synced);
        let (want_settings, want_enforcement) = explain(&project, device, groups);
        assert_eq!(
            settings, want_settings,
            "{}: settings, key by key",
            device.serial
        );
        assert_eq!(
            enforcement, want_enforcement,
            "{}: enforcement",
            device.serial
        );
        device.put_status(&server, &device.report(&synced));
        held.insert(device.serial.clone(), synced);
    }
    assert!(held["LONER"].declarations.is_empty());
    assert!(
        held["MAC15"]
            .active_activations
            .iter()
            .all(|a| !a.contains(".modern."))
    );

    project.write(
        "devices.csv",
        "serial,groups\nLAPTOP,pilot;engineering\nLAPTOP-FAILED,pilot\nMAC15,engineering;modern\nIPHONE,phones\nLONER,\n",
    );
    let status = |now: &str, extra: &[&str]| -> (Value, Run) {
        let run = project
            .bsic()
            .arg("status")
            .arg("--reports")
            .arg(server.status_dump())
            .args(["--devices", "devices.csv", "--now", now, "--format", "json"])
            .args(extra)
            .run();
        run.assert_code(0);
        (serde_json::from_str(&run.stdout).unwrap(), run)
    };
    let (judged, run) = status("2027-01-01T00:00:00", &[]);
    let state = |judged: &Value, serial: &str| {
        judged["devices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["serial"] == serial)
            .unwrap()["state"]
            .clone()
    };
    for (serial, expected) in [
        ("LAPTOP", "compliant"),
        ("LAPTOP-FAILED", "failed"),
        ("MAC15", "compliant"),
        ("IPHONE", "pending"),
        ("LONER", "compliant"),
    ] {
        assert_eq!(state(&judged, serial), expected, "{serial}\n{}", run.stdout);
    }
    let (later, _) = status("2027-03-02T00:00:00", &[]);
    assert_eq!(state(&later, "IPHONE"), "overdue");
    // Every device holds what the server serves now: nothing stale, inactive or missing,
    // although none of the tokens it reports is bsic's.
    let bad = |judged: &Value| -> Vec<String> {
        judged["declarations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["stale"] != 0 || d["missing"] != 0 || d["unverified"] != 0)
            .map(|d| d["identifier"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(bad(&judged), Vec::<String>::new(), "{}", run.stdout);
    assert!(!run.stderr.contains("note:"), "{}", run.stderr);

    // Without the map the tokens cannot be checked: counted apart, with one note, never stale.
    let map = project.join("dist/kmfddm/server-tokens.json");
    let kept = fs::read(&map).unwrap();
    fs::remove_file(&map).unwrap();
    let (unverified, run) = status("2027-01-01T00:00:00", &[]);
    assert!(
        unverified["declarations"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["stale"] == 0)
    );
    assert!(
        unverified["declarations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["unverified"] != 0)
    );
    assert_eq!(run.stderr.matches("note:").count(), 1, "{}", run.stderr);
    // The server's declaration items for a device stand in for the map (for its declarations).
    let (_, items) = server.device("GET", "IPHONE", "/declaration-items", None);
    project.write("items.json", items);
    let (with_items, _) = status("2027-01-01T00:00:00", &["--server-tokens", "items.json"]);
    let phones = |judged: &Value| -> Vec<Value> {
        judged["declarations"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["group"] == "phones")
            .cloned()
            .collect()
    };
    assert!(
        phones(&with_items)
            .iter()
            .all(|d| d["unverified"] == 0 && d["stale"] == 0)
    );
    // Refreshing the map reads the tokens back without changing the server.
    let before = server_state(&server, ENROLLED);
    upload_ok(&project, &server, &[("BSIC_TOKENS_ONLY", "1")]);
    assert_eq!(fs::read(&map).unwrap(), kept);
    assert_eq!(server_state(&server, ENROLLED), before);

    // A policy changes and is published; LAPTOP does not sync and still reports the old
    // declaration (its last report is in the dump), MAC15 syncs and reports the new one.
    project.write(
        "policies/fleet.kdl",
        POLICIES.replace("defer major=60", "defer major=45"),
    );
    build(&project);
    upload_ok(&project, &server, &[]);
    let mac15 = &fleet[2].0;
    mac15.put_status(&server, &mac15.report(&mac15.sync(&server)));
    let (after, run) = status("2027-01-01T00:00:00", &[]);
    let changed: Vec<&Value> = after["declarations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["stale"] != 0)
        .collect();
    assert_eq!(changed.len(), 1, "{}", run.stdout);
    assert_eq!(changed[0]["group"], "engineering");
    assert_eq!(changed[0]["stale"], 1, "only LAPTOP holds the older one");
    let laptop = after["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["serial"] == "LAPTOP")
        .unwrap();
    assert!(
        laptop["declarations"].to_string().contains("older version"),
        "{laptop}"
    );
}

#[test]
fn upload_errors_from_the_real_server_are_named_and_stop_the_script() {
    let Some(server) = Kmfddm::start("server errors") else {
        return;
    };
    let project = project();
    // A wrong API key: the 401 is named as such, nothing is stored.
    let wrong = upload(&project, &server, &[("KMFDDM_API_KEY", "wrong")]);
    assert_ne!(wrong.code, Some(0));
    assert!(
        wrong.stderr.contains("HTTP 401 Unauthorized"),
        "{}",
        wrong.stderr
    );
    assert!(wrong.stderr.contains(&server.url), "{}", wrong.stderr);
    assert!(strings(&server.admin("/v1/declarations")).is_empty());
    // A declaration KMFDDM rejects: its reason is shown, and no set is touched.
    let layout = project.join("dist/kmfddm/declarations");
    let first = fs::read_dir(&layout)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let good = fs::read(&first).unwrap();
    fs::write(
        &first,
        r#"{"Identifier": "com.example.loop.broken", "Type": "", "Payload": {}}"#,
    )
    .unwrap();
    let rejected = upload(&project, &server, &[]);
    assert_ne!(rejected.code, Some(0));
    assert!(
        rejected.stderr.contains("HTTP 400: invalid declaration"),
        "{}",
        rejected.stderr
    );
    assert!(strings(&server.admin("/v1/sets")).is_empty());
    fs::write(&first, good).unwrap();
    // The server gone: the URL and curl's error, and nothing after it (no prune, no map).
    let url = server.url.clone();
    drop(server);
    let mut command = Command::new("sh");
    let down = command
        .arg("dist/kmfddm/upload.sh")
        .current_dir(project.path())
        .env("KMFDDM_URL", &url)
        .env("KMFDDM_API_KEY", crate::kmfddm::API_KEY)
        .env("BSIC_PRUNE", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&down.stderr);
    assert_ne!(down.status.code(), Some(0));
    assert!(
        stderr.contains(&format!("{url}/v1/declarations")),
        "{stderr}"
    );
    assert!(stderr.contains("no answer from KMFDDM"), "{stderr}");
    assert!(stderr.contains("curl: (7)"), "{stderr}");
    let stdout = String::from_utf8_lossy(&down.stdout);
    assert!(
        !stdout.contains("prune") && !stdout.contains("remove"),
        "{stdout}"
    );
    assert!(!project.join("dist/kmfddm/server-tokens.json").exists());
}

/// Groups that include others, two levels deep, and a policy on `all`: a device of `lab` is a
/// member of `it`, `campus` and `all` too. Each policy sets keys of its own, so a device shows
/// by its settings which sets it was given.
const NESTED: &str = r#"
group "lab"
group "it" {
    includes "lab"
}
group "campus" {
    includes "it"
}
group "pilot"

policy "everyone" {
    applies-to "all"
    platforms "macOS"
    os-updates {
        defer minor=7
    }
}

policy "campus" {
    applies-to "campus"
    platforms "macOS"
    os-updates {
        download "always-on"
    }
}

policy "it" {
    applies-to "it"
    platforms "macOS"
    os-updates {
        defer major=30
    }
}

policy "lab" {
    applies-to "lab"
    platforms "macOS"
    background-security {
        automatic-install "always-on"
    }
}

policy "pilot" {
    applies-to "pilot"
    platforms "macOS"
    background-security {
        automatic-install "allowed"
    }
}
"#;

/// A device listed only for an included group gets the sets of every group that includes it
/// and of `all` (what `bsic explain` says it gets, so `bsic status` finds nothing missing), and
/// moving it to another list takes away exactly the sets it is no longer a member of.
#[test]
fn an_included_groups_devices_get_the_sets_of_the_groups_that_include_it() {
    let project = Project::empty()
        .file(
            "bsic.kdl",
            format!(
                "organization \"Loop\"\nidentifier-prefix \"{PREFIX}\"\npolicies \"policies/**/*.kdl\"\n"
            ),
        )
        .file("policies/fleet.kdl", NESTED)
        .file("enrollments/lab.txt", "LABMAC\n")
        .file("enrollments/it.txt", "ITMAC\n")
        .file("enrollments/pilot.txt", "PILOTMAC\n");
    build(&project);
    let tsv = fs::read_to_string(project.join("dist/kmfddm/enrollment-sets.tsv")).unwrap();
    let set = |group: &str| format!("{PREFIX}.{group}");
    let expected_lines: Vec<String> = [
        ("all", "all"),
        ("campus", "all"),
        ("campus", "campus"),
        ("it", "all"),
        ("it", "campus"),
        ("it", "it"),
        ("lab", "all"),
        ("lab", "campus"),
        ("lab", "it"),
        ("lab", "lab"),
        ("pilot", "all"),
        ("pilot", "pilot"),
    ]
    .iter()
    .map(|(group, of)| format!("{group}\t{}", set(of)))
    .collect();
    let lines: Vec<&str> = tsv.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(lines, expected_lines, "{tsv}");

    let Some(server) = Kmfddm::start("includes") else {
        return;
    };

    let first = upload_ok(&project, &server, &[]);
    let lab = Device::new("LABMAC", "macOS", "26.2", "25C56");
    let it = Device::new("ITMAC", "macOS", "26.2", "25C56");
    let pilot = Device::new("PILOTMAC", "macOS", "26.2", "25C56");
    let sets_of = |enrollment: &str| -> Vec<String> {
        let mut sets = strings(&server.admin(&format!("/v1/enrollment-sets/{enrollment}")));
        sets.sort();
        sets
    };
    let sets = |groups: &[&str]| -> Vec<String> { groups.iter().map(|g| set(g)).collect() };
    for (device, group, expected) in [
        (&lab, "lab", sets(&["all", "campus", "it", "lab"])),
        (&it, "it", sets(&["all", "campus", "it"])),
        (&pilot, "pilot", sets(&["all", "pilot"])),
    ] {
        assert_eq!(
            sets_of(&device.serial),
            expected,
            "{}\n{}",
            device.serial,
            first.stderr
        );
        let held = device.sync(&server);
        assert_eq!(
            applied(device, &held),
            explain(&project, device, &[group]),
            "{}: what it applies is what bsic explain says for `{group}`",
            device.serial
        );
        device.put_status(&server, &device.report(&held));
    }

    // bsic status finds every declaration the devices should hold, none missing.
    project.write(
        "devices.csv",
        "serial,groups\nLABMAC,lab\nITMAC,it\nPILOTMAC,pilot\n",
    );
    let status = || -> Value {
        let run = project
            .bsic()
            .arg("status")
            .arg("--reports")
            .arg(server.status_dump())
            .args(["--devices", "devices.csv", "--now", "2027-01-01T00:00:00"])
            .args(["--format", "json"])
            .run();
        run.assert_code(0);
        serde_json::from_str(&run.stdout).unwrap()
    };
    let judged = status();
    let declarations = judged["declarations"].as_array().unwrap();
    assert!(!declarations.is_empty());
    for declaration in declarations {
        assert_eq!(declaration["missing"], 0, "{declaration}");
        assert_eq!(declaration["stale"], 0, "{declaration}");
    }

    // LABMAC moves to pilot: it leaves exactly lab's, it's and campus's sets, keeps all's.
    project.write("enrollments/lab.txt", "");
    project.write("enrollments/pilot.txt", "PILOTMAC\nLABMAC\n");
    let moved = upload_ok(&project, &server, &[]);
    let mut moves: Vec<&str> = moved
        .stdout
        .lines()
        .filter(|l| l.starts_with("move "))
        .collect();
    moves.sort_unstable();
    let expected_moves: Vec<String> = ["campus", "it", "lab"]
        .iter()
        .map(|g| format!("move LABMAC out of {}", set(g)))
        .collect();
    assert_eq!(moves, expected_moves, "{}", moved.stdout);
    assert_eq!(sets_of("LABMAC"), sets(&["all", "pilot"]));
    assert_eq!(sets_of("ITMAC"), sets(&["all", "campus", "it"]));
    let held = lab.sync(&server);
    assert_eq!(
        applied(&lab, &held),
        explain(&project, &lab, &["pilot"]),
        "LABMAC, moved to pilot"
    );

    // Again: nothing moves, nothing changes.
    let enrolled = ["LABMAC", "ITMAC", "PILOTMAC"];
    let state = server_state(&server, &enrolled);
    let again = upload_ok(&project, &server, &[]);
    assert!(!again.stdout.contains("move "), "{}", again.stdout);
    assert_eq!(server_state(&server, &enrolled), state);
}
