//! Every KDL example in the docs behaves as the docs say (`docs/check-examples.sh`).

use std::process::Command;

#[test]
fn documented_examples_check_as_documented() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let output = Command::new("bash")
        .arg("docs/check-examples.sh")
        .current_dir(root)
        .env("BSIC", env!("CARGO_BIN_EXE_bsic"))
        .output()
        .expect("run docs/check-examples.sh");
    assert!(
        output.status.success(),
        "docs examples failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// Shell examples: every `bsic …` command in the docs runs as documented.

use std::path::{Path, PathBuf};

use crate::util::{self, Run};

/// The documents whose shell examples run.
fn documents() -> Vec<String> {
    let root = util::repo_root();
    let mut docs = vec!["README.md".to_string(), "examples/README.md".to_string()];
    for dir in ["docs", "examples"] {
        let mut found: Vec<String> = std::fs::read_dir(root.join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter_map(|p| {
                let md = if p.is_dir() { p.join("README.md") } else { p };
                let is_md = md.extension().is_some_and(|e| e == "md") && md.is_file();
                is_md.then(|| {
                    md.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned()
                })
            })
            .filter(|d| d != "examples/README.md")
            .collect();
        found.sort();
        docs.extend(found);
    }
    docs
}

/// One `bsic` command of a fenced block.
#[derive(Debug)]
struct DocCommand {
    /// `file:line` of the command in the docs.
    at: String,
    /// The command line as written, without prompt and comment.
    text: String,
    exit: i32,
    /// Lines a `console` block shows after the command: each must appear in its output.
    output: Vec<String>,
}

/// A fenced `sh`/`console`/`shell`/`bash` block holding at least one `bsic` command; the
/// commands of a block run one after the other in one fresh copy of the project.
#[derive(Debug)]
struct DocBlock {
    doc: String,
    commands: Vec<DocCommand>,
}

/// The command a line runs, if it runs `bsic`: `bsic …`, `target/debug/bsic …`, with an
/// optional `$ ` prompt, `VAR=value ` prefix or `cd DIR && ` prefix.
fn bsic_command(line: &str) -> Option<&str> {
    let mut rest = line.trim();
    if let Some(after) = rest.strip_prefix("cd ").and_then(|r| r.split_once(" && ")) {
        rest = after.1;
    }
    while let Some((word, after)) = rest.split_once(' ') {
        if word.contains('=') && !word.starts_with('-') {
            rest = after;
        } else {
            break;
        }
    }
    (rest.starts_with("bsic ") || rest == "bsic" || rest.starts_with("target/debug/bsic "))
        .then_some(line.trim())
}

/// Splits off a trailing `# comment`; `# exit N` in it sets the expected exit code.
fn comment(line: &str) -> (&str, Option<i32>) {
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '#') if i > 0 && line[..i].ends_with(char::is_whitespace) => {
                let exit = line[i + 1..]
                    .trim()
                    .strip_prefix("exit ")
                    .and_then(|r| r.split_whitespace().next())
                    .and_then(|n| n.parse().ok());
                return (line[..i].trim_end(), exit);
            }
            _ => {}
        }
    }
    (line.trim_end(), None)
}

fn doc_blocks(doc: &str, text: &str) -> Vec<DocBlock> {
    let mut blocks = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        let Some(info) = line.trim_start().strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or("");
        let block_exit = words.find_map(|w| w.strip_prefix("exit=")).map(|v| {
            v.parse::<i32>()
                .unwrap_or_else(|_| panic!("{doc}:{}: bad exit=", n + 1))
        });
        let mut body = Vec::new();
        for (m, line) in lines.by_ref() {
            if line.trim_start().starts_with("```") {
                break;
            }
            body.push((m, line));
        }
        if !["sh", "console", "shell", "bash"].contains(&lang) {
            continue;
        }
        let console = lang == "console";
        let mut commands: Vec<DocCommand> = Vec::new();
        let mut in_output = false;
        let mut pending = String::new();
        for (m, line) in body {
            let trimmed = line.trim();
            let prompt = trimmed.strip_prefix("$ ");
            if console && prompt.is_none() {
                if in_output && !trimmed.is_empty() {
                    commands
                        .last_mut()
                        .unwrap()
                        .output
                        .push(trimmed.to_string());
                }
                continue;
            }
            in_output = false;
            let mut source = prompt.unwrap_or(trimmed).to_string();
            if let Some(start) = pending.strip_suffix('\\') {
                source = format!("{start} {source}");
            }
            if source.ends_with('\\') {
                pending = source;
                continue;
            }
            pending.clear();
            let (command, exit) = comment(&source);
            if let Some(command) = bsic_command(command) {
                commands.push(DocCommand {
                    at: format!("{doc}:{}", m + 1),
                    text: command.to_string(),
                    exit: exit.or(block_exit).unwrap_or(0),
                    output: Vec::new(),
                });
                in_output = console;
            }
        }
        if !commands.is_empty() {
            blocks.push(DocBlock {
                doc: doc.to_string(),
                commands,
            });
        }
    }
    blocks
}

/// Where a document's commands run, from its first-line note
/// `<!-- doc-commands: project=WHAT (a sentence for the reader) -->`.
fn project_of(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    let rest = first.strip_prefix("<!-- doc-commands: project=")?;
    Some(rest.split_whitespace().next()?.to_string())
}

/// A fresh sandbox for one block: `project/` (the working directory), an empty `tmp/` and a
/// home directory `home/me/` that stand in for `/tmp` and `~` of the docs.
struct Sandbox {
    _dir: tempfile::TempDir,
    root: PathBuf,
    project: PathBuf,
}

impl Sandbox {
    fn new(doc: &str, project: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("bsic-docs-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        let target = root.join("project");
        match project {
            "reference" => {
                std::fs::create_dir_all(&target).unwrap();
                std::fs::copy(util::repo("bsic.kdl"), target.join("bsic.kdl")).unwrap();
                util::copy_dir(&util::repo("policies"), &target.join("policies"));
            }
            "examples" => util::copy_dir(&util::repo("examples"), &target.join("examples")),
            path => util::copy_dir(&util::repo(path), &target),
        }
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        std::fs::create_dir_all(root.join("home/me")).unwrap();
        let sandbox = Self {
            _dir: dir,
            root,
            project: target,
        };
        sandbox.inputs(doc);
        sandbox
    }

    /// Inputs a document's commands need that its project does not hold.
    fn inputs(&self, doc: &str) {
        match doc {
            // `bsic build --out ~/site` / `plan --against ~/site`: a web site, not a bsic output.
            "docs/diagnostics.md" => {
                let site = self.root.join("home/me/site");
                std::fs::create_dir_all(&site).unwrap();
                std::fs::write(site.join("manifest.json"), r#"{"name":"my-site-app"}"#).unwrap();
                std::fs::write(site.join("index.html"), "<h1>hello</h1>\n").unwrap();
            }
            // Status reports and the inventory, generated for the status fixture fleet.
            "docs/status.md" => {
                let fleet = crate::status::generate_fleet();
                util::copy_dir(&fleet.join("reports"), &self.project.join("exports"));
                util::copy_dir(&fleet.join("dist"), &self.project.join("dist"));
                std::fs::copy(fleet.join("devices.csv"), self.project.join("devices.csv")).unwrap();
            }
            _ => {}
        }
    }

    /// A path of the docs, moved into the sandbox when it points outside the project.
    fn path(&self, word: &str) -> String {
        let root = self.root.display();
        if let Some(rest) = word.strip_prefix("~/") {
            format!("{root}/home/me/{rest}")
        } else if word == "/tmp" || word.starts_with("/tmp/") || word.starts_with("/home/me") {
            format!("{root}{word}")
        } else {
            word.to_string()
        }
    }
}

/// Splits a command line into words: quotes group, `<`/`>` redirect.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in line.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), _) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    out.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            _ => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        out.push(word);
    }
    out
}

/// Runs one documented command in the sandbox.
fn run_documented(sandbox: &Sandbox, command: &str) -> Run {
    let mut words = words(command);
    let mut cwd = sandbox.project.clone();
    if words.first().map(String::as_str) == Some("cd") {
        cwd = PathBuf::from(sandbox.path(&words[1]));
        words.drain(..3); // cd DIR &&
    }
    let mut env = Vec::new();
    while let Some((key, value)) = words.first().and_then(|w| w.split_once('=')) {
        env.push((key.to_string(), value.to_string()));
        words.remove(0);
    }
    let mut stdout_to = None;
    let mut stdin_from = None;
    let mut args = Vec::new();
    let mut iter = words.into_iter().skip(1);
    while let Some(word) = iter.next() {
        match word.as_str() {
            ">" => stdout_to = iter.next(),
            "<" => stdin_from = iter.next(),
            _ => args.push(sandbox.path(&word)),
        }
    }
    let mut process = std::process::Command::new(util::BSIC);
    process
        .args(&args)
        .current_dir(&cwd)
        .env("NO_COLOR", "1")
        .env("COLUMNS", "100")
        .env("HOME", sandbox.root.join("home/me"))
        // The docs' deadlines lie in 2026: judge them as of 2026-01-01, as check-examples.sh does.
        .env("SOURCE_DATE_EPOCH", "1767225600")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("RUST_BACKTRACE")
        .stdin(match stdin_from {
            Some(path) => std::fs::File::open(sandbox.path(&path)).unwrap().into(),
            None => std::process::Stdio::null(),
        });
    for (key, value) in env {
        process.env(key, value);
    }
    let output = process.output().expect("run bsic");
    if let Some(file) = stdout_to {
        std::fs::write(cwd.join(file), &output.stdout).unwrap();
    }
    Run {
        command: format!("bsic {}", args.join(" ")),
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Text without whitespace and the report's frame characters, so that a documented line is
/// found however the report wraps it.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && !"│╭╰─·┬×⚠☞".contains(*c))
        .collect()
}

/// Every `bsic …` command shown in a fenced `sh`, `console`, `shell` or `bash` block of
/// README.md, docs/*.md, examples/README.md and examples/*/README.md runs with the real binary
/// and exits as documented.
///
/// Conventions (each document says where its commands run in a first-line note,
/// `<!-- doc-commands: project=WHAT (…) -->`):
///
/// * `project=reference`: a copy of the repository's own project (`bsic.kdl`, `policies/`);
///   `project=examples`: a directory holding a copy of `examples/`, as at the repository root
///   (for "from the repository root" instructions); any other value: a copy of that directory
///   of the repository (`examples/fleet-gitops`, `tests/fixtures/status/fleet`).
/// * Each block runs in a fresh copy, its commands in order. `/tmp` and `~` (`/home/me` in
///   shown output) are directories of the sandbox, so nothing is written outside it.
/// * Inputs a project does not hold are made by [`Sandbox::inputs`] from the test fixtures
///   (the status fleet's generated reports, a foreign `~/site`).
/// * The exit code must be 0, unless the block's info string says `exit=N` (```` ```console
///   exit=2 ````) or the line ends with a `# exit N` comment.
/// * In a `console` block, the lines after a `$ bsic …` line are its output: each must appear
///   in what the command printed (stdout and stderr, compared without whitespace and frame
///   characters), with the sandbox paths above.
/// * `SOURCE_DATE_EPOCH` is 2026-01-01, as for the KDL examples.
#[test]
fn documented_commands_run_as_documented() {
    let mut failures = Vec::new();
    let mut count = 0;
    for doc in documents() {
        let text = std::fs::read_to_string(util::repo(&doc)).unwrap();
        let blocks = doc_blocks(&doc, &text);
        if blocks.is_empty() {
            continue;
        }
        let Some(project) = project_of(&text) else {
            failures.push(format!(
                "{doc}: has bsic commands but no first-line `<!-- doc-commands: project=… -->`"
            ));
            continue;
        };
        for block in &blocks {
            let sandbox = Sandbox::new(&block.doc, &project);
            for command in &block.commands {
                count += 1;
                let run = run_documented(&sandbox, &command.text);
                let output = squeeze(&format!("{}{}", run.stdout, run.stderr));
                let mut problems = Vec::new();
                if let Some(marker) = run.crash_text() {
                    problems.push(format!("crashed ({marker})"));
                }
                if run.code != Some(command.exit) {
                    problems.push(format!(
                        "exit code {:?}, documented {}",
                        run.code, command.exit
                    ));
                }
                let root = sandbox.root.display().to_string();
                for line in &command.output {
                    let expected = squeeze(&line.replace("/home/me", &format!("{root}/home/me")));
                    if !output.contains(&expected) {
                        problems.push(format!("output lacks `{line}`"));
                    }
                }
                if !problems.is_empty() {
                    failures.push(format!(
                        "{} `{}`: {}\n{}",
                        command.at,
                        command.text,
                        problems.join("; "),
                        run.describe()
                    ));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} documented commands fail:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        count >= 25,
        "only {count} documented commands found: is the parser broken?"
    );
}

// ---------------------------------------------------------------------------------------------
// Every diagnostic code has an input that produces it.

/// Codes that no KDL example, corpus file or documented command produces, with the test that
/// does: (code, test file, test function, text the test's body must contain — the code, or for
/// library unit tests the error variant that carries it).
#[rustfmt::skip]
const PRODUCED_BY: &[(&str, &str, &str, &str)] = &[
    ("bsic::bad-profile-signature", "tests/integration/validate.rs", "signed_profiles_are_verified_then_validated", "bad-profile-signature"),
    ("bsic::not-recognized", "tests/integration/validate.rs", "cross_file_rules", "not-recognized"),
    ("bsic::duplicate-identifier", "tests/integration/validate.rs", "cross_file_rules", "duplicate-identifier"),
    ("bsic::missing-configuration", "tests/integration/validate.rs", "cross_file_rules", "missing-configuration"),
    ("bsic::managed-twice", "tests/integration/validate.rs", "cross_file_rules", "managed-twice"),
    ("bsic::contradicting-settings", "tests/integration/validate.rs", "cross_file_rules", "contradicting-settings"),
    ("bsic::string-too-long", "tests/integration/regressions.rs", "a_string_longer_than_64_kib_is_refused_where_it_is", "string-too-long"),
    ("bsic::too-many-files", "tests/integration/regressions.rs", "more_than_10_000_policy_files_are_refused_before_reading", "too-many-files"),
    ("bsic::symlink-loop", "tests/integration/unbreakable.rs", "a_symlink_loop_has_its_own_message_and_a_file_linked_inside_is_read_once", "symlink-loop"),
    ("bsic::write-failed", "tests/integration/faults.rs", "output_under_a_file_fails_cleanly", "write-failed"),
    ("bsic::empty-build", "tests/integration/unbreakable.rs", "an_empty_build_does_not_replace_a_full_output_without_allow_empty", "empty-build"),
    ("bsic::ineffective-override", "tests/integration/fleets.rs", "lints_fire_on_their_fleets", "ineffective-override"),
    ("bsic::staged-base", "tests/integration/fleets.rs", "lints_fire_on_their_fleets", "staged-base"),
    ("bsic::bsi-off-with-bsi-target", "tests/integration/fleets.rs", "lints_fire_on_their_fleets", "bsi-off-with-bsi-target"),
    ("bsic::fleet-ignores", "tests/integration/codes.rs", "fleet_ignores_knobs_the_oldest_macs_lack", "fleet-ignores"),
    ("bsic::status-malformed-report", "tests/integration/status.rs", "bad_input_is_located_and_the_rest_is_judged", "status-malformed-report"),
    ("bsic::status-wrong-type", "tests/integration/status.rs", "bad_input_is_located_and_the_rest_is_judged", "status-wrong-type"),
    ("bsic::status-unknown-declaration", "tests/integration/status.rs", "bad_input_is_located_and_the_rest_is_judged", "status-unknown-declaration"),
    ("bsic::status-duplicate-device", "tests/integration/status.rs", "bad_input_is_located_and_the_rest_is_judged", "status-duplicate-device"),
    ("bsic::status-unknown-group", "tests/integration/status.rs", "bad_input_is_located_and_the_rest_is_judged", "status-unknown-group"),
    ("bsic::status-bad-now", "tests/integration/status.rs", "unreadable_input_exits_2", "status-bad-now"),
    ("bsic::status-unidentified-report", "compiler/src/status/reports.rs", "bad_lines_warn_with_their_line_and_the_rest_is_read", "status-unidentified-report"),
    ("bsic::status-bad-inventory-row", "compiler/src/status/inventory.rs", "bom_semicolons_unknown_groups_and_duplicates", "status-bad-inventory-row"),
    ("bsic::status-unknown-platform", "tests/integration/codes.rs", "status_unknown_platform_bad_manifest_and_unwritable", "status-unknown-platform"),
    ("bsic::status-bad-manifest", "tests/integration/codes.rs", "status_unknown_platform_bad_manifest_and_unwritable", "status-bad-manifest"),
    ("bsic::status-unwritable", "tests/integration/codes.rs", "status_unknown_platform_bad_manifest_and_unwritable", "status-unwritable"),
    ("bsic::status-bad-server-tokens", "tests/integration/codes.rs", "status_unknown_platform_bad_manifest_and_unwritable", "status-bad-server-tokens"),
    ("bsic::catalog::invalid", "compiler/src/catalog/mod.rs", "entries_that_are_not_releases_are_located_errors", "from_feed"),
    ("bsic::unknown-model", "tests/integration/catalog.rs", "models_and_bsis_follow_the_catalog", "unknown-model"),
    ("bsic::bsi-models", "tests/integration/catalog.rs", "models_and_bsis_follow_the_catalog", "bsi-models"),
    ("bsic::models-cannot-run", "tests/integration/catalog.rs", "models_and_bsis_follow_the_catalog", "models-cannot-run"),
    ("bsic::expired-bsi", "tests/integration/catalog.rs", "models_and_bsis_follow_the_catalog", "expired-bsi"),
    ("bsic::bsi-superseded", "tests/integration/catalog.rs", "models_and_bsis_follow_the_catalog", "bsi-superseded"),
    ("bsic::lsp-protocol", "tests/integration/lsp.rs", "a_stdout_that_cannot_be_written_ends_the_server_with_exit_2", "lsp-protocol"),
    ("bsic::too-many-values", "compiler/src/source/parse.rs", "millions_of_bare_arguments_are_refused_before_parsing", "too-many-values"),
    ("bsic::feed-entry", "tests/integration/catalog.rs", "entries_that_are_not_releases_stop_the_import_where_they_are", "feed-entry"),
    ("bsic::sign::readable-secret", "tests/integration/integrity.rs", "a_private_key_or_password_file_others_can_read_is_a_warning", "readable-secret"),
    ("bsic::sign::unchained-certificate", "tests/integration/integrity.rs", "chain_certificates_that_do_not_chain_to_the_signer_are_a_warning", "unchained-certificate"),
    ("bsic::sign::invalid-dates-allowed", "tests/integration/integrity.rs", "signing_with_invalid_dates_allowed_is_a_warning", "invalid-dates-allowed"),
    ("bsic::status-export-column", "tests/integration/status_exports.rs", "bad_exports_are_located_warnings_and_the_rest_is_judged", "status-export-column"),
    ("bsic::status-export-row", "tests/integration/status_exports.rs", "bad_exports_are_located_warnings_and_the_rest_is_judged", "status-export-row"),
    ("bsic::status-unreadable-export", "tests/integration/status_exports.rs", "an_unreadable_export_exits_2", "status-unreadable-export"),
    ("bsic::status-bad-version", "tests/integration/status.rs", "malformed_reported_versions_are_unknown_with_a_located_warning", "status-bad-version"),
    ("bsic::status-bad-snapshot", "tests/integration/status.rs", "history_keeps_snapshots_and_shows_the_change", "status-bad-snapshot"),
    ("bsic::catalog::unknown-format", "tests/integration/codes.rs", "catalog_import_refuses_malformed_and_unknown_feeds", "catalog::unknown-format"),
    ("bsic::plan::read-failed", "tests/integration/codes.rs", "plan_read_failed_when_the_old_output_lost_a_file", "plan::read-failed"),
    ("bsic::plan::old-project-errors", "tests/integration/codes.rs", "plan_old_project_errors_when_the_revision_does_not_check", "plan::old-project-errors"),
    ("bsic::sign::pkcs12", "tests/integration/codes.rs", "an_unreadable_pkcs12_stops_the_build", "sign::pkcs12"),
    ("bsic::sign::malformed", "compiler/src/sign/keys.rs", "unreadable_and_malformed_files_name_the_path", "SignError::Malformed"),
    ("bsic::sign::no-certificate", "compiler/src/sign/keys.rs", "unreadable_and_malformed_files_name_the_path", "SignError::NoCertificate"),
    ("bsic::sign::no-private-key", "compiler/src/sign/keys.rs", "unreadable_and_malformed_files_name_the_path", "SignError::NoPrivateKey"),
    ("bsic::sign::encrypted-key", "compiler/src/sign/keys.rs", "encrypted_keys_are_refused", "SignError::EncryptedKey"),
    ("bsic::sign::wrong-password", "compiler/src/sign/keys.rs", "pkcs12_wrong_password", "SignError::WrongPassword"),
    ("bsic::sign::unsupported-key", "compiler/src/sign/keys.rs", "unsupported_key_types_are_named", "SignError::UnsupportedKey"),
    ("bsic::sign::key-mismatch", "compiler/src/sign/keys.rs", "key_mismatch", "SignError::KeyMismatch"),
    ("bsic::sign::certificate-dates", "compiler/src/sign/keys.rs", "expired_and_not_yet_valid", "SignError::CertificateDates"),
    ("bsic::sign::signing-time", "compiler/src/sign/cms.rs", "signing_time_encoding_switches_at_2050", "SignError::SigningTime"),
    ("bsic::verify::malformed", "compiler/src/sign/verify.rs", "rejects_garbage", "VerifyError::Malformed"),
    ("bsic::verify::digest-mismatch", "compiler/src/sign/verify.rs", "tampered_content_fails", "VerifyError::DigestMismatch"),
    ("bsic::verify::bad-signature", "compiler/src/sign/verify.rs", "tampered_signed_attributes_fail", "VerifyError::BadSignature"),
    ("bsic::verify::certificate-dates", "compiler/src/sign/verify.rs", "expired_signer_fails_and_expiry_warning", "VerifyError::CertificateDates"),
    ("bsic::verify::content", "tests/integration/codes.rs", "verify_names_what_is_wrong_with_a_foreign_signature", "verify::content"),
    ("bsic::verify::unsupported-algorithm", "tests/integration/codes.rs", "verify_names_what_is_wrong_with_a_foreign_signature", "verify::unsupported-algorithm"),
    ("bsic::verify::signer-count", "tests/integration/codes.rs", "verify_names_what_is_wrong_with_a_foreign_signature", "verify::signer-count"),
    ("bsic::verify::signer-certificate-missing", "tests/integration/codes.rs", "verify_names_what_is_wrong_with_a_foreign_signature", "verify::signer-certificate-missing"),
];

/// Codes no input can produce, with the reason. Only bsic's own bugs belong here, and two
/// codes for which no input is known.
#[rustfmt::skip]
const NO_INPUT: &[(&str, &str)] = &[
    ("bsic::internal", "bsic's own policy or project schema does not compile: a build-time bug"),
    ("bsic::internal::invalid-artifact", "an artifact bsic generated fails Apple's schema: a bsic bug"),
    ("bsic::internal::unreadable-artifact", "an artifact bsic generated does not parse back: a bsic bug"),
    ("bsic::internal::schema", "an embedded Apple schema does not compile: a build-time bug"),
    ("bsic::internal::path-escape", "group names are validated, so no input makes a path leave the output"),
    ("bsic::internal::path-collision", "group names are unique case-insensitively, so no input collides"),
    ("bsic::sign::cms", "the CMS builder failed on a loaded key: a bug in bsic or its CMS library"),
    ("bsic::schema", "the fallback for schema errors without a specific code; no known input reaches it"),
    ("bsic::verify::attribute", "needs signed attributes without a signing time, which openssl's CMS signer never writes; a hand-built DER input is still to be made"),
    ("bsic::old-output-left", "needs an old output the build's own user cannot delete even after chmod; not constructible as root in CI"),
];

/// The codes of `docs/diagnostics.md`'s "Every code" list.
fn documented_codes() -> Vec<String> {
    let docs = std::fs::read_to_string(util::repo("docs/diagnostics.md")).unwrap();
    let block = docs
        .split("```codes\n")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect()
}

/// Codes with an input in a corpus: `expect=` KDL blocks (run by check-examples.sh), the bad
/// corpus's `.expect` files, the validate corpus's `EXPECTED`, and the output lines of
/// documented `console` commands (run by `documented_commands_run_as_documented`).
fn codes_with_examples() -> std::collections::BTreeMap<String, String> {
    let mut found = std::collections::BTreeMap::new();
    for doc in ["docs/language.md", "docs/diagnostics.md"] {
        let text = std::fs::read_to_string(util::repo(doc)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let expect = line
                .trim_start()
                .strip_prefix("```kdl")
                .and_then(|i| i.split_whitespace().find_map(|w| w.strip_prefix("expect=")));
            for code in expect.into_iter().flat_map(|e| e.split(',')) {
                found
                    .entry(code.to_string())
                    .or_insert(format!("{doc}:{}", n + 1));
            }
        }
    }
    for doc in documents() {
        let text = std::fs::read_to_string(util::repo(&doc)).unwrap();
        for block in doc_blocks(&doc, &text) {
            for command in block.commands {
                for line in command.output.iter().filter(|l| l.starts_with("bsic::")) {
                    found.entry(line.clone()).or_insert(command.at.clone());
                }
            }
        }
    }
    let bad = util::repo("tests/fixtures/bad");
    for entry in std::fs::read_dir(&bad).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "expect") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            let mut words = line.split_whitespace();
            if let (Some("error" | "warning"), Some(code)) = (words.next(), words.next()) {
                let name = path.file_name().unwrap().to_string_lossy();
                found
                    .entry(code.to_string())
                    .or_insert(format!("tests/fixtures/bad/{name}"));
            }
        }
    }
    let expected =
        std::fs::read_to_string(util::repo("tests/fixtures/validate/bad/EXPECTED")).unwrap();
    for line in expected.lines().filter(|l| !l.starts_with('#')) {
        let mut words = line.split_whitespace();
        if let (Some(file), Some(code)) = (words.next(), words.next()) {
            found
                .entry(code.to_string())
                .or_insert(format!("tests/fixtures/validate/bad/{file}"));
        }
    }
    found
}

/// The body of test function `name` in `file` (up to the next `#[test]`), if it exists.
fn test_body(file: &Path, name: &str) -> Option<String> {
    let text = std::fs::read_to_string(file).ok()?;
    let start = text.find(&format!("fn {name}("))?;
    let end = text[start..]
        .find("#[test]")
        .map_or(text.len(), |i| start + i);
    Some(text[start..end].to_string())
}

/// Every code (of `bsic::diag::all_codes` and of docs/diagnostics.md) has an input that
/// produces exactly it: a KDL example, a
/// corpus file, a documented command, or a named test (checked to exist and to name the code);
/// only the codes of [`NO_INPUT`] have none, each with its reason.
#[test]
fn every_code_has_an_example() {
    let examples = codes_with_examples();
    let mut missing = Vec::new();
    let mut broken = Vec::new();
    let mut codes: std::collections::BTreeSet<String> = bsic::diag::all_codes()
        .map(|c| format!("bsic::{c}"))
        .collect();
    codes.extend(documented_codes());
    for code in codes {
        if examples.contains_key(&code) || NO_INPUT.iter().any(|(c, _)| *c == code) {
            continue;
        }
        match PRODUCED_BY.iter().find(|(c, ..)| *c == code) {
            None => missing.push(code),
            Some((_, file, test, witness)) => match test_body(&util::repo(file), test) {
                None => broken.push(format!("{code}: no test `{test}` in {file}")),
                Some(body) if !body.contains(witness) => broken.push(format!(
                    "{code}: `{test}` in {file} never mentions `{witness}`"
                )),
                Some(_) => {}
            },
        }
    }
    let documented = documented_codes();
    let stale: Vec<_> = PRODUCED_BY
        .iter()
        .map(|(c, ..)| *c)
        .chain(NO_INPUT.iter().map(|(c, _)| *c))
        .filter(|c| !documented.iter().any(|d| d == c))
        .collect();
    assert!(
        missing.is_empty() && broken.is_empty() && stale.is_empty(),
        "codes without an example input (add a ```kdl expect=CODE block to docs/diagnostics.md, \
         a case to tests/fixtures/bad/, or a test named in PRODUCED_BY): {missing:?}\n\
         broken PRODUCED_BY entries: {broken:#?}\nlisted but not documented codes: {stale:?}"
    );
}
