//! The bad-input corpus (`tests/fixtures/bad/`, format in its README): every case must fail
//! `check` and `build` with exit code 1, at exactly the expected locations, without crashing
//! and without writing anything.

use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

use serde_json::Value;

use crate::util::{self, Project, Run};

/// The corpus must not shrink below this.
const MIN_CASES: usize = 35;

/// Cases whose `.expect` is right but which bsic does not meet yet, with the reason. The
/// corpus test reports them without failing, and fails when one of them starts to pass.
const KNOWN_BAD: &[(&str, &str)] = &[];

/// Inputs built in code rather than committed: (case, generator).
const GENERATED: &[(&str, Generator)] = &[
    ("deep-nesting", deep_nesting),
    ("file-too-large", file_too_large),
    ("symlink-escape", symlink_escape),
];

type Generator = fn(&Project) -> Setup;

/// What a generator made.
enum Setup {
    /// The input is in place; the guard (if any) keeps files it needs alive.
    Ready(Option<tempfile::TempDir>),
    /// This platform cannot build the input.
    #[cfg_attr(unix, allow(dead_code))]
    Unsupported(&'static str),
}

fn corpus_dir() -> PathBuf {
    util::repo("tests/fixtures/bad")
}

#[test]
fn corpus() {
    let names = case_names();
    assert!(
        names.len() >= MIN_CASES,
        "the corpus has {} cases; keep at least {MIN_CASES}",
        names.len()
    );
    for (name, _) in KNOWN_BAD {
        assert!(
            names.iter().any(|n| n == name),
            "KNOWN_BAD names `{name}`, which is not a case"
        );
    }

    let mut failures = String::new();
    let mut known_failures = String::new();
    let mut failed = Vec::new();
    let mut still_bad = Vec::new();
    let mut now_pass = Vec::new();
    for name in &names {
        let known = KNOWN_BAD
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, why)| *why);
        match (run_case(name), known) {
            (Ok(()), None) => {}
            (Ok(()), Some(_)) => now_pass.push(name.clone()),
            (Err(failure), None) => {
                failed.push(name.clone());
                let _ = writeln!(failures, "\n=== FAILED: {name}\n{failure}");
            }
            (Err(failure), Some(why)) => {
                still_bad.push(name.clone());
                let _ = writeln!(known_failures, "\n=== KNOWN BAD: {name} ({why})\n{failure}");
            }
        }
    }
    // Shown with `--nocapture`, or above the panic message when something else fails.
    eprintln!(
        "bad corpus: {} cases, {} pass, {} known bad, {} failed, {} known bad now passing\n{known_failures}",
        names.len(),
        names.len() - failed.len() - still_bad.len() - now_pass.len(),
        still_bad.len(),
        failed.len(),
        now_pass.len()
    );
    assert!(
        failed.is_empty() && now_pass.is_empty(),
        "bad corpus: failed: {failed:?}; known bad but now passing (remove them from \
         KNOWN_BAD): {now_pass:?}\n{failures}"
    );
}

/// Every case (a `.expect` file), sorted; and no input lies around without one.
fn case_names() -> Vec<String> {
    let mut names = Vec::new();
    let mut inputs = Vec::new();
    for entry in fs::read_dir(corpus_dir()).unwrap() {
        let path = entry.unwrap().path();
        let file = path.file_name().unwrap().to_string_lossy().into_owned();
        if let Some(stem) = file.strip_suffix(".expect") {
            names.push(stem.to_string());
        } else if let Some(stem) = file.strip_suffix(".kdl") {
            inputs.push(stem.to_string());
        } else if path.is_dir() {
            inputs.push(file);
        }
    }
    for input in &inputs {
        assert!(
            names.contains(input),
            "tests/fixtures/bad/{input} has no {input}.expect"
        );
    }
    for (name, _) in GENERATED {
        assert!(
            names.iter().any(|n| n == name),
            "generated case `{name}` has no {name}.expect"
        );
    }
    names.sort();
    names
}

/// Runs one case; `Err` holds every problem found and what bsic actually reported.
fn run_case(name: &str) -> Result<(), String> {
    let dir = corpus_dir();
    let expect_text = fs::read_to_string(dir.join(format!("{name}.expect"))).unwrap();
    let expectation = match Expectation::parse(&expect_text) {
        Ok(e) => e,
        Err(e) => return Err(format!("  bad {name}.expect: {e}")),
    };

    let project = Project::base();
    let _guard = match install(&project, name) {
        Ok(guard) => guard,
        Err(skip) => {
            eprintln!("bad corpus: skipping `{name}`: {skip}");
            return Ok(());
        }
    };
    let before = util::read_tree(project.path());
    let check = project.bsic().args(["check", "--format", "json"]).run();
    let build = project
        .bsic()
        .arg("build")
        .arg("--out")
        .arg(project.join("dist"))
        .run();
    let after = util::read_tree(project.path());

    let mut problems = Vec::new();
    for run in [&check, &build] {
        if run.code != Some(1) {
            problems.push(format!(
                "`{}` exited with {:?}, not 1",
                run.command, run.code
            ));
        }
        if let Some(marker) = run.crash_text() {
            problems.push(format!("`{}` printed crash text `{marker}`", run.command));
        }
    }
    if project.join("dist").exists() {
        problems.push("`build` created dist/".into());
    }
    if before != after {
        let added: Vec<&String> = after.keys().filter(|k| !before.contains_key(*k)).collect();
        problems.push(format!("the project changed; new entries: {added:?}"));
    }
    match check.diagnostics() {
        Ok(actual) => expectation.verify(&actual, &build, &mut problems),
        Err(e) => problems.push(e),
    }

    if problems.is_empty() {
        return Ok(());
    }
    let mut out = String::new();
    for problem in &problems {
        let _ = writeln!(out, "  - {problem}");
    }
    let _ = writeln!(
        out,
        "  actual `check --format json` (exit {:?}):",
        check.code
    );
    for line in check.stdout.lines() {
        let _ = writeln!(out, "    {line}");
    }
    if !check.stderr.trim().is_empty() {
        let _ = writeln!(out, "  check stderr:\n{}", indent(&check.stderr));
    }
    let _ = writeln!(
        out,
        "  `build` stderr (exit {:?}):\n{}",
        build.code,
        indent(&build.stderr)
    );
    Err(out)
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Puts the case's input into the project: `<case>.kdl`, `<case>/`, or a generator.
fn install(project: &Project, name: &str) -> Result<Option<tempfile::TempDir>, &'static str> {
    let dir = corpus_dir();
    let file = dir.join(format!("{name}.kdl"));
    let overlay = dir.join(name);
    if file.is_file() {
        project.write(&format!("policies/{name}.kdl"), fs::read(&file).unwrap());
        return Ok(None);
    }
    if overlay.is_dir() {
        util::copy_dir(&overlay, project.path());
        return Ok(None);
    }
    let generator = GENERATED
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, g)| g)
        .unwrap_or_else(|| panic!("case `{name}` has no {name}.kdl, no {name}/ and no generator"));
    match generator(project) {
        Setup::Ready(guard) => Ok(guard),
        Setup::Unsupported(why) => Err(why),
    }
}

fn deep_nesting(project: &Project) -> Setup {
    let text = format!("policy \"deep\" {}", "{ x ".repeat(20_000));
    project.write("policies/deep-nesting.kdl", text);
    Setup::Ready(None)
}

fn file_too_large(project: &Project) -> Setup {
    // bsic refuses files over 4 MiB before parsing; this one is one byte over.
    const LIMIT: usize = 4 * 1024 * 1024;
    let mut text = String::with_capacity(LIMIT + 1);
    text.push_str("group \"huge\"\n");
    while text.len() < LIMIT - 80 {
        text.push_str("// padding padding padding padding padding padding padding padding\n");
    }
    while text.len() < LIMIT {
        text.push('/');
    }
    text.push('\n');
    assert_eq!(text.len(), LIMIT + 1);
    project.write("policies/file-too-large.kdl", text);
    Setup::Ready(None)
}

#[cfg(unix)]
fn symlink_escape(project: &Project) -> Setup {
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("escape.kdl");
    fs::write(
        &target,
        "policy \"outside\" {\n    applies-to \"pilot\"\n    background-security {\n        offer #true\n    }\n}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&target, project.join("policies/escape.kdl")).unwrap();
    Setup::Ready(Some(outside))
}

#[cfg(not(unix))]
fn symlink_escape(_: &Project) -> Setup {
    Setup::Unsupported("symlinks need unix here")
}

/// `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Loc {
    file: String,
    line: u64,
    column: u64,
}

impl Loc {
    fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.rsplitn(3, ':');
        let column = parts.next().and_then(|c| c.parse().ok());
        let line = parts.next().and_then(|l| l.parse().ok());
        let file = parts.next();
        match (file, line, column) {
            (Some(file), Some(line), Some(column)) if !file.is_empty() => Ok(Self {
                file: file.to_string(),
                line,
                column,
            }),
            _ => Err(format!("`{text}` is not FILE:LINE:COLUMN")),
        }
    }

    /// The location of a diagnostic or related item (its `location` object).
    fn of(value: &Value) -> Option<Self> {
        let location = value.get("location")?;
        Some(Self {
            file: location.get("file")?.as_str()?.to_string(),
            line: location.get("line")?.as_u64()?,
            column: location.get("column")?.as_u64()?,
        })
    }
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

/// One expected diagnostic.
#[derive(Debug)]
struct Expected {
    severity: String,
    code: String,
    at: Loc,
    /// (field, text): `help`, `message` or `label` must contain `text`.
    contains: Vec<(&'static str, String)>,
    related: Vec<Loc>,
}

impl Expected {
    fn line(&self) -> String {
        format!("{} {} {}", self.severity, self.code, self.at)
    }

    fn is_at(&self, actual: &Value) -> bool {
        actual["severity"] == self.severity.as_str()
            && actual["code"] == self.code.as_str()
            && Loc::of(actual).as_ref() == Some(&self.at)
    }

    /// Why `actual` (already at the right place) does not satisfy the details, if it does not.
    fn mismatch(&self, actual: &Value) -> Option<String> {
        for (field, text) in &self.contains {
            let value = actual[*field].as_str().unwrap_or_default();
            if !value.contains(text.as_str()) {
                return Some(format!("{field} {value:?} does not contain {text:?}"));
            }
        }
        let related: Vec<Loc> = actual["related"]
            .as_array()
            .map(|r| r.iter().filter_map(Loc::of).collect())
            .unwrap_or_default();
        for loc in &self.related {
            if !related.contains(loc) {
                let shown: Vec<String> = related.iter().map(Loc::to_string).collect();
                return Some(format!("no related location {loc} (has {shown:?})"));
            }
        }
        None
    }
}

/// A parsed `.expect` file.
#[derive(Debug, Default)]
struct Expectation {
    diagnostics: Vec<Expected>,
    human: Vec<Loc>,
    only: bool,
}

impl Expectation {
    fn parse(text: &str) -> Result<Self, String> {
        let mut expectation = Self::default();
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (directive, rest) = line.split_once(' ').unwrap_or((line, ""));
            let rest = rest.trim();
            let last = expectation.diagnostics.last_mut();
            let at = |what: &str| format!("line {}: {what}", number + 1);
            match (directive, last) {
                ("error" | "warning", _) => {
                    let mut words = rest.split_whitespace();
                    let (Some(code), Some(loc), None) = (words.next(), words.next(), words.next())
                    else {
                        return Err(at("want `<severity> <code> <file>:<line>:<column>`"));
                    };
                    expectation.diagnostics.push(Expected {
                        severity: directive.to_string(),
                        code: code.to_string(),
                        at: Loc::parse(loc).map_err(|e| at(&e))?,
                        contains: Vec::new(),
                        related: Vec::new(),
                    });
                }
                ("help-contains", Some(last)) => last.contains.push(("help", rest.into())),
                ("message-contains", Some(last)) => last.contains.push(("message", rest.into())),
                ("label-contains", Some(last)) => last.contains.push(("label", rest.into())),
                ("related", Some(last)) => last.related.push(Loc::parse(rest).map_err(|e| at(&e))?),
                ("human", _) => expectation
                    .human
                    .push(Loc::parse(rest).map_err(|e| at(&e))?),
                ("only", _) if rest.is_empty() => expectation.only = true,
                ("help-contains" | "message-contains" | "label-contains" | "related", None) => {
                    return Err(at(&format!("`{directive}` before any diagnostic")));
                }
                _ => return Err(at(&format!("unknown directive `{line}`"))),
            }
        }
        if expectation.diagnostics.is_empty() {
            return Err("no expected diagnostic".into());
        }
        Ok(expectation)
    }

    /// Compares with the actual JSON diagnostics and the human report of `build`.
    fn verify(&self, actual: &[Value], build: &Run, problems: &mut Vec<String>) {
        for expected in &self.diagnostics {
            let here: Vec<&Value> = actual.iter().filter(|a| expected.is_at(a)).collect();
            if here.is_empty() {
                problems.push(format!("missing: {}", expected.line()));
                continue;
            }
            if here.iter().all(|a| expected.mismatch(a).is_some()) {
                let why = expected.mismatch(here[0]).unwrap_or_default();
                problems.push(format!("{}: {why}", expected.line()));
            }
        }
        if self.only {
            for a in actual {
                let is_error = a["severity"] == "error";
                if is_error && !self.diagnostics.iter().any(|e| e.is_at(a)) {
                    let at = Loc::of(a).map_or_else(|| "?".into(), |l| l.to_string());
                    problems.push(format!(
                        "unexpected: error {} {at}: {}",
                        a["code"].as_str().unwrap_or("?"),
                        a["message"].as_str().unwrap_or("?")
                    ));
                }
            }
        }
        for loc in &self.human {
            if !build.stderr.contains(&format!("[{loc}]")) {
                problems.push(format!("the human report has no excerpt headed [{loc}]"));
            }
        }
    }
}

/// An empty policy file is not an error: it may hold only comments, or be a placeholder.
#[test]
fn empty_policy_file_is_fine() {
    let project = Project::base().file("policies/empty.kdl", "");
    let run = project.bsic().args(["check", "--format", "json"]).run();
    run.assert_code(0);
    // Groups no policy reaches are worth a warning, nothing else is.
    for line in run.stdout.lines() {
        assert!(line.contains("bsic::unreached-group"), "{}", run.describe());
    }
}

/// A project whose globs match nothing is valid but says so.
#[test]
fn project_without_policies_warns() {
    let project = Project::empty().file(
        "bsic.kdl",
        "organization \"Example Corp\"\nidentifier-prefix \"com.example.it\"\n",
    );
    let run = project.bsic().args(["check", "--format", "json"]).run();
    run.assert_code(0);
    let diagnostics = run.diagnostics().unwrap();
    assert_eq!(diagnostics.len(), 1, "{}", run.describe());
    assert_eq!(diagnostics[0]["severity"], "warning");
    assert_eq!(diagnostics[0]["code"], "bsic::no-policy-files");
}
