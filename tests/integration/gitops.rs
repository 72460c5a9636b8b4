//! The GitOps loop end to end (issue 6): machine formats of diagnostics (SARIF validated
//! against the vendored OASIS schema, GitHub workflow commands), `fmt`, `plan`, the MDM
//! layouts of `build --target`, `init`, completions and the man page, and the example
//! repository in `examples/gitops/`.

use std::fs;
use std::process::Command;

use serde_json::Value;

use crate::util::{Project, copy_dir, read_files, repo, repo_root};

const TYPO: &str = "policy \"typo\" {\n    applies-to \"pilot\"\n    background-security { allow-rolback #false }\n}\n";

fn sarif_validator() -> jsonschema::Validator {
    let schema: Value =
        serde_json::from_slice(&fs::read(repo("tests/fixtures/sarif-2.1.0.schema.json")).unwrap())
            .unwrap();
    jsonschema::draft4::new(&schema).expect("the vendored SARIF schema compiles")
}

/// `bsic validate` speaks the same machine formats as `check`, so raw-file repositories get
/// code-scanning results and pull-request annotations too.
#[test]
fn validate_prints_sarif_and_github_annotations() {
    let fixtures = repo("tests/fixtures/validate");
    let run = crate::util::Bsic::new(&fixtures)
        .args(["validate", "bad/bad-uuid.mobileconfig", "--format", "sarif"])
        .run();
    run.assert_code(1);
    let log: Value = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    let errors: Vec<String> = sarif_validator()
        .iter_errors(&log)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
    let location = &log["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert_eq!(
        location["artifactLocation"]["uri"],
        "tests/fixtures/validate/bad/bad-uuid.mobileconfig"
    );
    assert_eq!(location["region"]["startLine"], 14);

    let github = crate::util::Bsic::new(&fixtures)
        .args([
            "validate",
            "bad/bad-uuid.mobileconfig",
            "--format",
            "github",
        ])
        .run();
    github.assert_code(1);
    assert!(
        github
            .stdout
            .starts_with("::error file=tests/fixtures/validate/bad/bad-uuid.mobileconfig,line=14,"),
        "{}",
        github.describe()
    );
}

#[test]
fn sarif_is_valid_sarif_2_1_0_with_regions_and_rules() {
    let validator = sarif_validator();
    let project = Project::reference().file("policies/typo.kdl", TYPO);
    let run = project.bsic().args(["check", "--format", "sarif"]).run();
    run.assert_code(1);
    let log: Value = serde_json::from_str(&run.stdout).expect("stdout is one JSON document");
    let errors: Vec<String> = validator.iter_errors(&log).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "SARIF schema errors: {errors:#?}");
    assert_eq!(log["version"], "2.1.0");
    let result = &log["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "bsic::unknown-node");
    assert_eq!(
        log["runs"][0]["tool"]["driver"]["rules"][0]["id"],
        "bsic::unknown-node"
    );
    let region = &result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(
        (region["startLine"].as_u64(), region["startColumn"].as_u64()),
        (Some(3), Some(27))
    );
    assert_eq!(
        (region["endLine"].as_u64(), region["endColumn"].as_u64()),
        (Some(3), Some(40))
    );
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "policies/typo.kdl"
    );

    // A clean project is a valid log with no results; a conflict has related locations.
    let clean = Project::reference()
        .bsic()
        .args(["check", "--format", "sarif"])
        .run();
    clean.assert_code(0);
    let log: Value = serde_json::from_str(&clean.stdout).unwrap();
    assert!(validator.is_valid(&log));
    assert_eq!(log["runs"][0]["results"], serde_json::json!([]));

    let conflict = Project::base()
        .file(
            "policies/c.kdl",
            fs::read(repo("tests/fixtures/bad/conflict-allow-rollback.kdl")).unwrap(),
        )
        .bsic()
        .args(["check", "--format", "sarif"])
        .run();
    let log: Value = serde_json::from_str(&conflict.stdout).unwrap();
    assert!(validator.is_valid(&log), "{}", conflict.stdout);
    let related = &log["runs"][0]["results"][0]["relatedLocations"];
    assert!(
        related.as_array().is_some_and(|r| !r.is_empty()),
        "{}",
        conflict.stdout
    );
}

#[test]
fn github_format_prints_workflow_commands() {
    let project = Project::reference().file("policies/typo.kdl", TYPO);
    let run = project.bsic().args(["check", "--format", "github"]).run();
    run.assert_code(1);
    assert_eq!(
        run.stdout,
        "::error file=policies/typo.kdl,line=3,col=27,endLine=3,endColumn=40,\
         title=bsic%3A%3Aunknown-node::unknown node `allow-rolback` (not known here)%0A\
         help: did you mean `allow-rollback`?\n"
    );
    let build = project.bsic().args(["build", "--format", "github"]).run();
    build.assert_code(1);
    assert!(build.stdout.starts_with("::error file=policies/typo.kdl"));
}

/// Every `.kdl` file of the repository's projects, examples and bad-input corpus.
fn all_kdl_files() -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for dir in ["policies", "examples", "tests/fixtures"] {
        for entry in walkdir::WalkDir::new(repo(dir)).sort_by_file_name() {
            let entry = entry.unwrap();
            if entry.path().extension().is_some_and(|e| e == "kdl") {
                files.push(entry.path().to_path_buf());
            }
        }
    }
    files.push(repo("bsic.kdl"));
    files
}

#[test]
fn fmt_is_idempotent_over_every_fixture() {
    let mut checked = 0;
    for path in all_kdl_files() {
        let text = fs::read_to_string(&path).unwrap_or_default();
        // Invalid KDL is refused, never rewritten.
        let Ok(once) = bsic::formatter::format(&text) else {
            continue;
        };
        let twice = bsic::formatter::format(&once).unwrap();
        assert_eq!(once, twice, "fmt is not idempotent on {}", path.display());
        checked += 1;
    }
    assert!(checked > 50, "only {checked} files formatted");
}

#[test]
fn the_repository_is_fmt_clean() {
    // The project's own bsic.kdl and policies/, then every example.
    for args in [&["fmt", "--check"][..], &["fmt", "--check", "examples"][..]] {
        let run = crate::util::Bsic::new(&repo_root()).args(args).run();
        run.assert_code(0);
        assert_eq!(run.stdout, "", "{}", run.describe());
    }
}

#[test]
fn fmt_keeps_comments_and_check_lists_files() {
    let messy = "// Rings.\n\n\n\npolicy   \"a\" { // the first\n  applies-to \"pilot\"  // who\n  /* block */ background-security { offer #true ; allow-rollback #false }\n  /-os-updates { notifications #true }\n}\n// the end\n";
    let project = Project::base().file("policies/messy.kdl", messy);
    let check = project.bsic().args(["fmt", "--check"]).run();
    check.assert_code(1);
    assert_eq!(check.stdout, "policies/messy.kdl\n", "{}", check.describe());
    assert_eq!(
        fs::read_to_string(project.join("policies/messy.kdl")).unwrap(),
        messy
    );

    project.bsic().arg("fmt").run().assert_code(0);
    let formatted = fs::read_to_string(project.join("policies/messy.kdl")).unwrap();
    insta::assert_snapshot!("fmt-comments", formatted);
    for comment in [
        "// Rings.",
        "// the first",
        "// who",
        "/* block */",
        "/-os-updates",
        "// the end",
    ] {
        assert!(formatted.contains(comment), "lost {comment}:\n{formatted}");
    }
    project.bsic().args(["fmt", "--check"]).run().assert_code(0);
    project.bsic().arg("check").run().assert_code(0);
}

fn plan_json(project: &Project, against: &std::path::Path) -> (Option<i32>, Value) {
    let run = project
        .bsic()
        .args(["plan", "--format", "json", "--against"])
        .arg(against)
        .run();
    let value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    (run.code, value)
}

fn changes<'a>(plan: &'a Value, class: &str) -> Vec<&'a Value> {
    plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["class"] == class)
        .collect()
}

#[test]
fn plan_classifies_changes_and_sets_the_exit_code() {
    let project = Project::reference();
    let dist = project.join("before");
    project.build_ok(&dist);

    // No change.
    let (code, plan) = plan_json(&project, &dist);
    assert_eq!(code, Some(0), "{plan}");
    assert_eq!(plan["summary"]["unchanged"], 22);

    // A changed key: updated in place with the setting-level diff.
    let rings = fs::read_to_string(project.join("policies/rings.kdl")).unwrap();
    project.write(
        "policies/rings.kdl",
        rings.replacen(
            "automatic-install \"always-on\"",
            "automatic-install \"allowed\"",
            1,
        ),
    );
    let (code, plan) = plan_json(&project, &dist);
    assert_eq!(code, Some(2));
    let updates = changes(&plan, "update");
    let settings = updates
        .iter()
        .find(|c| c["identifier"] == "com.example.it.pilot.settings.macos")
        .expect("pilot's macOS settings change");
    assert_eq!(
        settings["settings"],
        serde_json::json!([{"key": "AutomaticActions.InstallSecurityUpdate", "old": "AlwaysOn", "new": "Allowed"}])
    );
    let human = project.bsic().args(["plan", "--against"]).arg(&dist).run();
    human.assert_code(2);
    assert!(
        human
            .stdout
            .contains("pilot: `AutomaticActions.InstallSecurityUpdate` `AlwaysOn` → `Allowed`"),
        "{}",
        human.stdout
    );
    project.write("policies/rings.kdl", &rings);

    // A removed group, and a new policy for a new group.
    let kiosks = fs::read_to_string(project.join("policies/kiosks.kdl")).unwrap();
    project.write("policies/kiosks.kdl", "");
    project.write(
        "policies/new.kdl",
        "group \"lab\"\npolicy \"lab\" {\n    applies-to \"lab\"\n    os-updates { notifications #false }\n}\n",
    );
    let (code, plan) = plan_json(&project, &dist);
    assert_eq!(code, Some(2));
    let removed = changes(&plan, "remove");
    assert!(
        !removed.is_empty() && removed.iter().all(|c| c["group"] == "kiosks"),
        "{plan}"
    );
    let added = changes(&plan, "add");
    assert!(
        !added.is_empty() && added.iter().all(|c| c["group"] == "lab"),
        "{plan}"
    );
    assert_eq!(plan["summary"]["remove"], removed.len());
    project.write("policies/kiosks.kdl", &kiosks);
    fs::remove_file(project.join("policies/new.kdl")).unwrap();

    let (code, _) = plan_json(&project, &dist);
    assert_eq!(code, Some(0));

    // Broadened scope: kiosks' policy now also for iOS. Declarations keep their identifiers
    // and reach more platforms; the profile splits per platform, so the old one is replaced
    // by the macOS one and the iOS one is added.
    project.write(
        "policies/kiosks.kdl",
        kiosks.replacen("platforms \"macOS\"", "platforms \"macOS\" \"iOS\"", 1),
    );
    let (code, plan) = plan_json(&project, &dist);
    assert_eq!(code, Some(2));
    let broadened = changes(&plan, "scope-broadened");
    assert!(
        broadened
            .iter()
            .any(|c| c["identifier"] == "com.example.it.kiosks.settings"
                && c["platforms_added"] == serde_json::json!(["iOS"])),
        "{plan}"
    );
    let replaced = changes(&plan, "replace");
    assert_eq!(replaced.len(), 1, "{plan}");
    assert_eq!(
        replaced[0]["previous_identifier"],
        "com.example.it.kiosks.profile"
    );
    assert_eq!(
        replaced[0]["identifier"],
        "com.example.it.kiosks.profile.macos"
    );
    project.write("policies/kiosks.kdl", &kiosks);

    // Errors exit 1.
    let (code, _) = plan_json(&project, &project.join("nothing-here"));
    assert_eq!(code, Some(1));
}

fn git(project: &Project, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(project.path())
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        status.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

#[test]
fn plan_against_a_git_revision() {
    let project = Project::reference();
    git(&project, &["init", "-q"]);
    git(&project, &["add", "."]);
    git(&project, &["commit", "-qm", "policies"]);
    let run = project.bsic().args(["plan", "--against", "HEAD"]).run();
    run.assert_code(0);
    let staff = fs::read_to_string(project.join("policies/rings.kdl")).unwrap();
    project.write(
        "policies/rings.kdl",
        staff.replace("defer major=60", "defer major=45"),
    );
    let run = project
        .bsic()
        .args(["plan", "--against", "HEAD", "--format", "json"])
        .run();
    run.assert_code(2);
    assert!(
        run.stdout.contains("Deferrals.MajorPeriodInDays"),
        "{}",
        run.describe()
    );
    let run = project
        .bsic()
        .args(["plan", "--against", "no-such-ref"])
        .run();
    run.assert_code(1);
    assert!(run.stderr.contains("bsic::plan::git"), "{}", run.describe());
}

/// A project in a subdirectory of its repository, with a space in a file name: the revision
/// is read through one `git cat-file --batch`, and only the project's own `.kdl` files count.
#[test]
fn plan_against_a_git_revision_of_a_project_in_a_subdirectory() {
    let repository = Project::empty();
    let project = repository.join("it/fleet");
    fs::create_dir_all(&project).unwrap();
    fs::copy(repo("bsic.kdl"), project.join("bsic.kdl")).unwrap();
    copy_dir(&repo("policies"), &project.join("policies"));
    fs::rename(
        project.join("policies/rings.kdl"),
        project.join("policies/staff rings.kdl"),
    )
    .unwrap();
    // Outside the project: never part of its old build.
    repository.write("elsewhere/broken.kdl", "policy {");
    git(&repository, &["init", "-q"]);
    git(&repository, &["add", "."]);
    git(&repository, &["commit", "-qm", "policies"]);
    let plan = |dir: &std::path::Path| {
        crate::util::Bsic::new(dir)
            .args(["plan", "--against", "HEAD", "--format", "json"])
            .run()
    };
    plan(&project).assert_code(0);
    let rings = fs::read_to_string(project.join("policies/staff rings.kdl")).unwrap();
    fs::write(
        project.join("policies/staff rings.kdl"),
        rings.replace("defer major=60", "defer major=45"),
    )
    .unwrap();
    let run = plan(&project.join("policies"));
    run.assert_code(2);
    let json: Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(!changes(&json, "update").is_empty(), "{}", run.describe());
    assert!(
        run.stdout.contains("Deferrals.MajorPeriodInDays"),
        "{}",
        run.describe()
    );
}

/// The files of one target's layout as one text: path, then content (hex for binary).
fn layout_text(dir: &std::path::Path, target: &str) -> String {
    let mut text = String::new();
    for (path, bytes) in read_files(&dir.join(target)) {
        text.push_str(&format!("=== {target}/{path}\n"));
        text.push_str(&String::from_utf8_lossy(&bytes));
        if !text.ends_with('\n') {
            text.push('\n');
        }
    }
    text
}

/// `bsic build` of `project` with every MDM layout (and `generic`, which adds none) into its
/// `dist/`.
fn build_all_layouts(project: &Project) -> std::path::PathBuf {
    let out = project.join("dist");
    let mut args = vec!["build"];
    for target in [
        "generic",
        "fleet",
        "kmfddm",
        "jamf",
        "workspace-one",
        "intune",
        "filewave",
        "addigy",
    ] {
        args.extend(["-t", target]);
    }
    project
        .bsic()
        .args(args)
        .arg("--out")
        .arg(&out)
        .run()
        .assert_code(0);
    out
}

/// The reference project built with every MDM layout into its `dist/`.
fn build_every_target() -> (Project, std::path::PathBuf) {
    let project = Project::reference();
    let out = build_all_layouts(&project);
    (project, out)
}

#[test]
fn every_mdm_target_builds_its_layout() {
    let (project, out) = build_every_target();
    for target in [
        "fleet",
        "kmfddm",
        "jamf",
        "workspace-one",
        "intune",
        "filewave",
        "addigy",
    ] {
        insta::assert_snapshot!(format!("target-{target}"), layout_text(&out, target));
    }
    // The generic layout is the same as without targets.
    let plain = project.join("plain");
    project.build_ok(&plain);
    for (path, bytes) in read_files(&plain) {
        if path != "manifest.json" {
            assert_eq!(fs::read(out.join(&path)).unwrap(), bytes, "{path}");
        }
    }
    // The manifest lists every target file with where it goes, and verify accepts the tree.
    let manifest: Value =
        serde_json::from_slice(&fs::read(out.join("manifest.json")).unwrap()).unwrap();
    let listed = manifest["targets"].as_array().unwrap();
    let on_disk = read_files(&out)
        .keys()
        .filter(|p| !p.starts_with("ddm/") && !p.starts_with("profiles/") && *p != "manifest.json")
        .count();
    assert_eq!(listed.len(), on_disk);
    assert!(
        listed
            .iter()
            .all(|t| t["upload"].as_str().is_some_and(|u| !u.is_empty()))
    );
    project
        .bsic()
        .args(["verify", "--allow-unsigned"])
        .arg(&out)
        .run()
        .assert_code(0);
}

#[test]
fn mdm_layouts_follow_their_documented_formats() {
    let (_project, out) = build_every_target();
    // Fleet: YAML with controls.<platform>_settings.custom_settings[].path that exist, and
    // <platform>_updates with a version and a yyyy-mm-dd deadline.
    let script = r#"
import sys, os, re, yaml
root = sys.argv[1]
for name in sorted(os.listdir(os.path.join(root, "teams"))):
    path = os.path.join(root, "teams", name)
    team = yaml.safe_load(open(path))
    assert isinstance(team["name"], str)
    controls = team["controls"]
    for key, value in controls.items():
        if key.endswith("_settings"):
            assert key in ("macos_settings", "ios_settings", "ipados_settings"), key
            for item in value["custom_settings"]:
                target = os.path.normpath(os.path.join(os.path.dirname(path), item["path"]))
                assert os.path.isfile(target), target
                assert target.endswith((".json", ".mobileconfig")), target
        elif key.endswith("_updates"):
            assert key in ("macos_updates", "ios_updates", "ipados_updates"), key
            assert re.fullmatch(r"\d+\.\d+(\.\d+)?", value["minimum_version"])
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value["deadline"])
        else:
            raise AssertionError(key)
print("ok")
"#;
    let run = crate::util::python(script, &[out.join("fleet").as_os_str()]);
    assert_eq!(run.stdout.trim(), "ok", "{}", run.describe());

    let uem_schema: Value = serde_json::from_slice(
        &fs::read(repo(
            "tests/fixtures/workspace-one/device-profile-v2.schema.json",
        ))
        .unwrap(),
    )
    .unwrap();
    let uem_validator = jsonschema::draft202012::new(&uem_schema).unwrap();
    // Fleet and Jamf get unsigned plists; Fleet's declarations carry no ServerToken.
    for (path, bytes) in read_files(&out) {
        if [
            "fleet/",
            "jamf/",
            "workspace-one/",
            "intune/",
            "filewave/",
            "addigy/",
        ]
        .iter()
        .any(|target| path.starts_with(target))
        {
            if path.ends_with(".mobileconfig") {
                assert!(
                    bytes.starts_with(b"<?xml"),
                    "{path} is not an unsigned plist"
                );
            }
            if path.ends_with(".json")
                && !path.starts_with("workspace-one/api/")
                && !path.starts_with("intune/graph/")
            {
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                assert!(v.get("ServerToken").is_none(), "{path}");
                assert!(v["Type"].is_string() && v["Payload"].is_object(), "{path}");
            }
        }
        // Workspace ONE UEM API bodies: the profiles-v2 request (tests/fixtures/workspace-one/).
        if path.starts_with("workspace-one/api/") {
            let body: Value = serde_json::from_slice(&bytes).unwrap();
            let problems: Vec<String> = uem_validator
                .iter_errors(&body)
                .map(|e| e.to_string())
                .collect();
            assert!(problems.is_empty(), "{path}: {problems:?}");
        }
        // Jamf Classic API bodies: XML whose <payloads> holds the escaped plist.
        if path.starts_with("jamf/classic/") {
            let text = String::from_utf8(bytes).unwrap();
            assert!(text.contains("<payloads>&lt;?xml"), "{path}");
            assert!(
                text.contains("<os_x_configuration_profile>")
                    || text.contains("<configuration_profile>"),
                "{path}"
            );
        }
        // KMFDDM: the declarations exactly as the generic ones.
        if let Some(name) = path.strip_prefix("kmfddm/declarations/") {
            let group = name.split('.').nth(3).unwrap();
            assert_eq!(
                fs::read(out.join(format!("ddm/{group}/{name}"))).unwrap(),
                fs::read(out.join(&path)).unwrap()
            );
        }
    }
    // Workspace ONE: each profile payload as the `<dict>…</dict>` Custom XML snippet UEM takes
    // (the form of Omnissa's samples), a complete payload once wrapped in a plist: Python's
    // plistlib reads it, with the Payload keys UEM's samples carry.
    let script = r#"
import os, plistlib, sys
root = sys.argv[1]
count = 0
for folder, _, names in os.walk(root):
    for name in names:
        text = open(os.path.join(folder, name), encoding="utf-8").read()
        assert text.startswith("<dict>") and text.endswith("</dict>\n"), name
        payload = plistlib.loads(('<plist version="1.0">' + text + "</plist>").encode())
        for key in ("PayloadType", "PayloadUUID", "PayloadIdentifier", "PayloadVersion"):
            assert key in payload, (name, key)
        count += 1
print(count)
"#;
    let run = crate::util::python(script, &[out.join("workspace-one/custom-xml").as_os_str()]);
    let snippets: usize = run.stdout.trim().parse().unwrap_or(0);
    assert!(snippets > 0, "{}", run.describe());

    // The upload scripts are valid POSIX shell.
    for script in [
        "kmfddm/upload.sh",
        "jamf/upload.sh",
        "workspace-one/upload.sh",
        "intune/upload.sh",
    ] {
        let status = Command::new("sh")
            .arg("-n")
            .arg(out.join(script))
            .status()
            .unwrap();
        assert!(status.success(), "{script} does not parse");
    }

    // Intune: each Graph body is the custom configuration Microsoft's Graph reference
    // documents ("Create macOSCustomConfiguration", learn.microsoft.com/graph/api/
    // intune-deviceconfig-macoscustomconfiguration-create, and its iosCustomConfiguration
    // twin), whose base64 `payload` is the unsigned profile beside it, which plistlib reads.
    let script = r##"
import base64, json, os, plistlib, sys
root = sys.argv[1]
types = {"macos": "#microsoft.graph.macOSCustomConfiguration",
         "ios": "#microsoft.graph.iosCustomConfiguration"}
count = 0
for folder, _, names in os.walk(os.path.join(root, "graph")):
    for name in names:
        body = json.load(open(os.path.join(folder, name)))
        assert set(body) == {"@odata.type", "displayName", "description", "payloadName",
                             "payloadFileName", "payload"}, body.keys()
        assert body["@odata.type"] == types[name.rsplit(".", 2)[1]], name
        profile = base64.b64decode(body["payload"], validate=True)
        group = os.path.basename(folder)
        beside = os.path.join(root, "profiles", group, body["payloadFileName"])
        assert profile == open(beside, "rb").read(), name
        assert plistlib.loads(profile)["PayloadDisplayName"] == body["displayName"]
        assert body["description"].startswith("Generated by bsic for ")
        count += 1
print(count)
"##;
    let run = crate::util::python(script, &[out.join("intune").as_os_str()]);
    let bodies: usize = run.stdout.trim().parse().unwrap_or(0);
    assert!(bodies >= 4, "{}", run.describe());
}

#[test]
fn init_scaffolds_a_project_that_builds_and_never_overwrites() {
    let dir = Project::empty();
    let run = dir
        .bsic()
        .args(["init", "repo", "--organization", "Acme \"Labs\""])
        .run();
    run.assert_code(0);
    for file in [
        "bsic.kdl",
        "policies/groups.kdl",
        ".pre-commit-config.yaml",
        ".github/workflows/bsic.yml",
        ".gitignore",
    ] {
        assert!(dir.join("repo").join(file).is_file(), "{file}");
    }
    let repo_dir = dir.join("repo");
    crate::util::Bsic::new(&repo_dir)
        .arg("check")
        .run()
        .assert_code(0);
    crate::util::Bsic::new(&repo_dir)
        .args(["fmt", "--check"])
        .run()
        .assert_code(0);
    crate::util::Bsic::new(&repo_dir)
        .arg("build")
        .run()
        .assert_code(0);
    let before = fs::read(repo_dir.join("policies/updates.kdl")).unwrap();
    let again = dir.bsic().args(["init", "repo"]).run();
    again.assert_code(2);
    assert!(
        again.stderr.contains("refusing to overwrite"),
        "{}",
        again.describe()
    );
    assert_eq!(
        fs::read(repo_dir.join("policies/updates.kdl")).unwrap(),
        before
    );
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let run = Project::empty().bsic().args(["completions", shell]).run();
        run.assert_code(0);
        assert!(run.stdout.contains("plan"), "{shell}");
    }
    let man = Project::empty().bsic().arg("man").run();
    man.assert_code(0);
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH bsic"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
}

#[test]
fn quiet_silences_summaries() {
    let project = Project::reference();
    let run = project.bsic().args(["--quiet", "check"]).run();
    run.assert_code(0);
    assert_eq!(run.stderr, "");
}

#[test]
fn the_gitops_example_checks_and_builds() {
    let project = Project::empty();
    copy_dir(&repo("examples/gitops"), project.path());
    project.bsic().arg("check").run().assert_code(0);
    project.bsic().args(["fmt", "--check"]).run().assert_code(0);
    let out = build_all_layouts(&project);
    assert!(out.join("fleet/teams/kiosks.yml").is_file());
    // The scripts its pipelines publish with are in the build.
    for script in [
        "kmfddm/upload.sh",
        "jamf/upload.sh",
        "workspace-one/upload.sh",
    ] {
        assert!(out.join(script).is_file(), "{script}");
    }
    // Its CI files are valid YAML with the jobs the README promises.
    let script = r#"
import sys, yaml
gh = yaml.safe_load(open(sys.argv[1]))
assert set(gh["jobs"]) == {"check", "build", "publish"}, gh["jobs"].keys()
publish = " ".join(step.get("run", "") for step in gh["jobs"]["publish"]["steps"])
gl = yaml.safe_load(open(sys.argv[2]))
assert {"check", "plan", "build", "publish"} <= set(gl), gl.keys()
publish += " ".join(gl["publish"]["script"])
for script in ("kmfddm/upload.sh", "jamf/upload.sh", "workspace-one/upload.sh"):
    assert publish.count(script) == 2, script
hooks = yaml.safe_load(open(sys.argv[3]))
assert hooks[0]["id"] == "bsic-check" and hooks[0]["pass_filenames"] is False
print("ok")
"#;
    let run = crate::util::python(
        script,
        &[
            project.join(".github/workflows/bsic.yml").as_os_str(),
            project.join(".gitlab-ci.yml").as_os_str(),
            repo(".pre-commit-hooks.yaml").as_os_str(),
        ],
    );
    assert_eq!(run.stdout.trim(), "ok", "{}", run.describe());
}

/// After a build with MDM layouts, each target's next step is printed once, with the real
/// output path, in target order; `--quiet` prints nothing.
#[test]
fn build_names_the_next_step_of_each_target() {
    let project = Project::reference();
    let run = project
        .bsic()
        .args([
            "build", "-t", "jamf", "-t", "kmfddm", "-t", "jamf", "--out", "out",
        ])
        .run();
    run.assert_code(0);
    let next: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("next for "))
        .collect();
    assert_eq!(next.len(), 2, "{}", run.stderr);
    assert!(
        next[0].starts_with("next for kmfddm: ") && next[0].ends_with("sh out/kmfddm/upload.sh")
    );
    assert!(next[1].starts_with("next for jamf: ") && next[1].ends_with("sh out/jamf/upload.sh"));
    let quiet = project
        .bsic()
        .args(["build", "-q", "-t", "jamf", "--out", "out"])
        .run();
    quiet.assert_code(0);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}

/// Every upload script is POSIX shell that shellcheck accepts at warning level. shellcheck is
/// a real linter, not ours: locally the test says so and passes when it is missing; under
/// `CI=true` (which `.ci/run` installs it for) its absence fails.
#[test]
fn upload_scripts_pass_shellcheck() {
    let available = std::process::Command::new("shellcheck")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !available {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "shellcheck is required under CI=true"
        );
        eprintln!("skipped: shellcheck is not installed");
        return;
    }
    let (_project, out) = build_every_target();
    let scripts: Vec<_> = read_files(&out)
        .into_keys()
        .filter(|p| p.ends_with(".sh"))
        .collect();
    assert!(scripts.len() >= 3, "{scripts:?}");
    for script in scripts {
        let run = std::process::Command::new("shellcheck")
            .args(["-S", "warning", "-s", "sh"])
            .arg(out.join(&script))
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "shellcheck {script}:\n{}",
            String::from_utf8_lossy(&run.stdout)
        );
    }
}
