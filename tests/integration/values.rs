//! Values that used to produce wrong output: characters XML cannot carry, URLs that are not
//! what devices open, empty version ranges and placeholder deadlines. Each class is refused
//! where it was written (exit 1, located), and what bsic writes or verifies stays readable by
//! Apple's parser. The corpus cases in `tests/fixtures/bad/` pin the locations; these tests
//! drive the whole command.

use std::fs;

use crate::util::{Bsic, Project, python};

/// The acceptance check's input: a control character in `organization` reaches every profile's
/// XML, which plistlib (like Apple's parser) refuses. The build must refuse it instead.
#[test]
fn a_control_character_in_the_organization_stops_the_build() {
    let project = Project::reference();
    let text = fs::read_to_string(project.join("bsic.kdl")).unwrap();
    let start = text.find("organization ").unwrap();
    let end = start + text[start..].find('\n').unwrap();
    let edited = format!(
        "{}organization \"Evil\\u{{1}}Corp\"{}",
        &text[..start],
        &text[end..]
    );
    project.write("bsic.kdl", edited);
    let run = project
        .bsic()
        .args(["build", "--format", "json", "--out", "dist"])
        .run();
    run.assert_code(1);
    let diagnostics = run.diagnostics().unwrap();
    let found = diagnostics
        .iter()
        .find(|d| d["code"] == "bsic::non-xml-character")
        .unwrap_or_else(|| panic!("{}", run.describe()));
    assert_eq!(found["location"]["file"], "bsic.kdl");
    assert!(
        found["message"].as_str().unwrap().contains("U+0001"),
        "{found}"
    );
    assert!(
        !project.join("dist").exists(),
        "a refused build wrote dist/"
    );
}

/// Tab, newline and carriage return are XML characters: a multi-line description still builds,
/// and every profile it reaches stays readable by plistlib.
#[test]
fn line_breaks_and_tabs_in_descriptions_still_build_readable_profiles() {
    let project = Project::reference().file(
        "policies/notes.kdl",
        "group \"notes\" description=\"first line\\nsecond\\tline\\r\"\npolicy \"notes\" {\n    description \"why:\\n\\tbecause\"\n    applies-to \"notes\"\n    background-security offer=#true\n}\n",
    );
    let out = project.join("dist");
    project.build_ok(&out);
    let profiles: Vec<_> = walk(&out)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "mobileconfig"))
        .collect();
    assert!(!profiles.is_empty());
    let args: Vec<&std::ffi::OsStr> = profiles.iter().map(|p| p.as_os_str()).collect();
    let run = python(
        "import plistlib,sys\nfor f in sys.argv[1:]: plistlib.load(open(f,'rb'))",
        &args,
    );
    run.assert_code(0);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// `bsic validate` reads XML plists as strictly as Apple: a control character, raw or as a
/// character reference, is a located error; plistlib agrees that the file is broken.
#[test]
fn validate_refuses_profiles_apple_cannot_parse() {
    let project = Project::empty();
    let good = fs::read(crate::util::repo(
        "tests/fixtures/validate/good/restrictions.mobileconfig",
    ))
    .unwrap();
    let good = String::from_utf8(good).unwrap();
    assert!(good.contains("<string>Example</string>"));
    for (name, replacement) in [
        ("entity.mobileconfig", "<string>Evil&#1;Corp</string>"),
        ("hex.plist", "<string>Evil&#x1b;Corp</string>"),
        ("raw.mobileconfig", "<string>Evil\u{1b}Corp</string>"),
        ("nonchar.mobileconfig", "<string>Evil\u{ffff}Corp</string>"),
    ] {
        project.write(name, good.replace("<string>Example</string>", replacement));
        let run = Bsic::new(project.path())
            .args(["validate", name, "--format", "json"])
            .run();
        run.assert_code(1);
        let diagnostics = run.diagnostics().unwrap();
        assert!(
            diagnostics
                .iter()
                .any(|d| d["code"] == "bsic::non-xml-character"),
            "{name}: {}",
            run.describe()
        );
        let plistlib = python(
            "import plistlib,sys\nplistlib.load(open(sys.argv[1],'rb'))",
            &[project.join(name).as_os_str()],
        );
        assert_ne!(plistlib.code, Some(0), "{name}: plistlib reads it");
    }
}

/// An unsigned profile with a control character fails `bsic verify` even where unsigned
/// profiles are allowed.
#[test]
fn verify_fails_a_profile_apple_cannot_parse() {
    let project = Project::empty();
    let good = fs::read_to_string(crate::util::repo(
        "tests/fixtures/validate/good/restrictions.mobileconfig",
    ))
    .unwrap();
    project.write(
        "bad.mobileconfig",
        good.replace("<string>Example</string>", "<string>Evil&#1;Corp</string>"),
    );
    let run = Bsic::new(project.path())
        .args(["verify", "--allow-unsigned", "bad.mobileconfig"])
        .run();
    run.assert_code(1);
    assert!(run.stdout.contains("U+0001"), "{}", run.describe());
}

/// DetailsURL is opened by devices as written: the policy side refuses a newline and markup,
/// plain http, and credentials; `bsic validate` does the same for raw declarations.
#[test]
fn details_urls_are_absolute_https_as_written() {
    for (details, reason) in [
        ("https://it.example.com/\\n<b>click</b>", "U+000A"),
        ("http://it.example.com/bsi", "`http`"),
        ("https://admin:secret@it.example.com/", "password"),
        ("https://it.example.com/<script>", "`<`"),
        ("/bsi", "relative"),
    ] {
        let project = Project::base().file(
            "policies/pin.kdl",
            format!(
                "policy \"pin\" {{\n    applies-to \"pilot\"\n    enforce version=\"26.3.1\" by=\"2027-04-01T09:00:00\" details=\"{details}\"\n}}\n"
            ),
        );
        let run = project.bsic().args(["check", "--format", "json"]).run();
        run.assert_code(1);
        let diagnostics = run.diagnostics().unwrap();
        let found = diagnostics
            .iter()
            .find(|d| d["code"] == "bsic::invalid-format")
            .unwrap_or_else(|| panic!("{details}: {}", run.describe()));
        assert_eq!(found["location"]["line"], 3, "{details}");
        assert!(
            found["help"].as_str().unwrap().contains(reason),
            "{details}: {found}"
        );
    }
}

/// Versions compare number by number: `min="26.2" max="26.10"` is a real range (no error),
/// `min="26.10" max="26.2"` an empty one (an error at `min`, naming `max`).
#[test]
fn os_ranges_compare_numerically_and_an_empty_one_is_an_error() {
    let group = |min: &str, max: &str| {
        Project::base().file(
            "policies/range.kdl",
            format!(
                "group \"kiosks\" {{\n    os min=\"{min}\" max=\"{max}\"\n}}\npolicy \"p\" {{\n    applies-to \"kiosks\"\n    background-security offer=#true\n}}\n"
            ),
        )
    };
    let fine = group("26.2", "26.10");
    let run = fine.bsic().args(["check", "--format", "json"]).run();
    assert!(
        !run.diagnostics()
            .unwrap()
            .iter()
            .any(|d| d["severity"] == "error"),
        "{}",
        run.describe()
    );
    for (min, max) in [("26.10", "26.2"), ("27.0", "26.9"), ("26.3.1", "26.2")] {
        let project = group(min, max);
        let run = project.bsic().args(["check", "--format", "json"]).run();
        run.assert_code(1);
        let diagnostics = run.diagnostics().unwrap();
        let found = diagnostics
            .iter()
            .find(|d| d["code"] == "bsic::empty-os-range")
            .unwrap_or_else(|| panic!("{min}..{max}: {}", run.describe()));
        assert_eq!(found["location"]["line"], 2);
        assert_eq!(found["related"][0]["location"]["line"], 2);
    }
    // Same MAJOR.MINOR: patch releases of the bounds are inside, so this is not empty.
    let same = group("26.2.5", "26.2.1");
    let run = same.bsic().args(["check", "--format", "json"]).run();
    assert!(
        !run.diagnostics()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "bsic::empty-os-range"),
        "{}",
        run.describe()
    );
}

/// A placeholder deadline is an error, not a past-deadline warning.
#[test]
fn a_year_zero_deadline_is_an_error() {
    for by in ["0000-01-01T00:00:00", "1969-12-31T23:59:59"] {
        let project = Project::base().file(
            "policies/pin.kdl",
            format!(
                "policy \"pin\" {{\n    applies-to \"pilot\"\n    enforce version=\"26.3.1\" by=\"{by}\"\n}}\n"
            ),
        );
        let run = project.bsic().args(["check", "--format", "json"]).run();
        run.assert_code(1);
        let diagnostics = run.diagnostics().unwrap();
        assert!(
            diagnostics
                .iter()
                .any(|d| d["code"] == "bsic::invalid-format" && d["severity"] == "error"),
            "{by}: {}",
            run.describe()
        );
    }
}
