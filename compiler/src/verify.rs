//! Verifying a published output tree: signatures, chains, dates and manifest hashes.
//!
//! In: output directories or single profiles. Out: one [`FileReport`] per file. This module
//! only reads; it never changes what it checks.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::emit::{ArtifactKind, server_token, sha256_hex};
use crate::sign::{self, Certificate, ChainStatus, TrustOptions};
use crate::source::{Input, display_path};

use crate::output::{MANIFEST_FILE, Manifest, ManifestArtifact};

/// The verdict on one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Ok,
    /// Acceptable, but worth a look (self-signed, expiring soon, unsigned when allowed).
    Warn,
    Fail,
}

/// What was found for one file.
#[derive(Debug, Clone)]
pub(crate) struct FileReport {
    pub path: String,
    pub verdict: Verdict,
    pub detail: String,
}

/// How to judge what is found.
pub(crate) struct VerifyOptions {
    /// Trusted CAs; when empty, chains are reported but not required.
    pub ca: Vec<Certificate>,
    /// Unix seconds for certificate validity.
    pub now: i64,
    pub allow_unsigned: bool,
}

/// Verifies every profile under `paths` and, for output directories, every file
/// `manifest.json` lists.
pub(crate) fn verify_paths(paths: &[PathBuf], options: &VerifyOptions) -> Vec<FileReport> {
    let mut reports = Vec::new();
    for path in paths {
        if path.is_dir() {
            verify_dir(path, options, &mut reports);
        } else {
            let shown = path.display().to_string();
            reports.push(match crate::source::read::read(path, Input::Apple) {
                Ok(bytes) => verify_profile(shown, &bytes, None, options),
                Err(e) => fail(shown, format!("cannot read: {e}")),
            });
        }
    }
    reports
}

fn fail(path: String, detail: String) -> FileReport {
    FileReport {
        path,
        verdict: Verdict::Fail,
        detail,
    }
}

fn verify_dir(dir: &Path, options: &VerifyOptions, reports: &mut Vec<FileReport>) {
    let manifest = read_manifest(dir, reports);
    let check = DirCheck {
        dir,
        has_manifest: manifest.is_some(),
        listed: manifest
            .iter()
            .flat_map(|m| m.artifacts.iter())
            .map(|a| (a.path.clone(), a))
            .collect(),
        // Files of MDM layouts: unsigned on purpose where the MDM wants them so; checked by
        // hash.
        target_files: manifest
            .iter()
            .flat_map(|m| m.targets.iter())
            .map(|t| (t.path.clone(), t.sha256.as_str()))
            .collect(),
    };
    for (relative, sha256) in &check.target_files {
        reports.push(check_listed_hash(&dir.join(relative), sha256));
    }
    let files = tree_files(dir);
    check.profiles(&files, options, reports);
    check.listed_artifacts(reports);
    check.unlisted(&files, reports);
}

/// The directory's `manifest.json`, if it has one; one that cannot be read or does not
/// parse is a failure.
fn read_manifest(dir: &Path, reports: &mut Vec<FileReport>) -> Option<Manifest> {
    let manifest_path = dir.join(MANIFEST_FILE);
    let reader = match crate::source::read::open(&manifest_path, Input::Manifest) {
        Ok(reader) => reader,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            reports.push(fail(
                manifest_path.display().to_string(),
                format!("cannot be read: {e}"),
            ));
            return None;
        }
    };
    match serde_json::from_reader(reader) {
        Ok(m) => Some(m),
        Err(e) => {
            reports.push(fail(
                manifest_path.display().to_string(),
                format!("not a bsic manifest: {e}"),
            ));
            None
        }
    }
}

/// Everything in the tree but directories, listed once: (relative `/`-separated path, path,
/// whether it is a regular file).
fn tree_files(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .flatten()
        .filter(|e| !e.file_type().is_dir())
        .map(|e| {
            (
                display_path(dir, e.path()),
                e.path().to_path_buf(),
                e.file_type().is_file(),
            )
        })
        .collect()
}

/// One output directory against its manifest (empty maps when it has none).
struct DirCheck<'a> {
    dir: &'a Path,
    has_manifest: bool,
    listed: BTreeMap<String, &'a ManifestArtifact>,
    target_files: BTreeMap<String, &'a str>,
}

impl DirCheck<'_> {
    /// Every profile in the tree (MDM layout files aside): its signature, and whether the
    /// manifest lists it.
    fn profiles(
        &self,
        files: &[(String, PathBuf, bool)],
        options: &VerifyOptions,
        reports: &mut Vec<FileReport>,
    ) {
        let profiles = files.iter().filter(|(relative, _, is_file)| {
            *is_file
                && relative.ends_with(".mobileconfig")
                && !self.target_files.contains_key(relative)
        });
        for (relative, path, _) in profiles {
            let shown = path.display().to_string();
            let report = match crate::source::read::read(path, Input::Apple) {
                Ok(bytes) => verify_profile(
                    shown.clone(),
                    &bytes,
                    self.listed.get(relative).copied(),
                    options,
                ),
                Err(e) => fail(shown.clone(), format!("cannot read: {e}")),
            };
            let unlisted = self.has_manifest && !self.listed.contains_key(relative);
            reports.push(if unlisted && report.verdict != Verdict::Fail {
                fail(shown, "not listed in manifest.json".into())
            } else {
                report
            });
        }
    }

    /// Every artifact the manifest lists: present, and (but for profiles, verified above)
    /// with the listed hash and, for a declaration, its server token.
    fn listed_artifacts(&self, reports: &mut Vec<FileReport>) {
        let dir = self.dir;
        for (relative, artifact) in &self.listed {
            if relative.ends_with(".mobileconfig") {
                if !dir.join(relative).is_file() {
                    reports.push(fail(
                        dir.join(relative).display().to_string(),
                        "listed in manifest.json but missing".into(),
                    ));
                }
                continue;
            }
            let report = check_listed_hash(&dir.join(relative), &artifact.sha256);
            reports.push(match (&report.verdict, &artifact.kind) {
                (Verdict::Ok, ArtifactKind::Declaration { .. }) => {
                    check_server_token(&dir.join(relative), artifact).unwrap_or(report)
                }
                _ => report,
            });
        }
    }

    /// Anything else in the tree was not written by the build the manifest describes: a
    /// device or an MDM upload script would take it all the same.
    fn unlisted(&self, files: &[(String, PathBuf, bool)], reports: &mut Vec<FileReport>) {
        if !self.has_manifest {
            return;
        }
        for (relative, path, _) in files {
            let known = relative == MANIFEST_FILE
                || self.listed.contains_key(relative)
                || self.target_files.contains_key(relative)
                || relative.ends_with(".mobileconfig");
            if !known {
                reports.push(fail(
                    path.display().to_string(),
                    "not listed in manifest.json".into(),
                ));
            }
        }
    }
}

/// A declaration whose bytes match the manifest: its `ServerToken` must still be the one bsic
/// derives from its type, identifier and payload. A hand edit that also updated the manifest's
/// hash keeps the old token, so devices would never see the change as new. `None` when the
/// token is right.
fn check_server_token(path: &Path, artifact: &ManifestArtifact) -> Option<FileReport> {
    let shown = path.display().to_string();
    let document: serde_json::Value = match crate::source::read::read(path, Input::Apple)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(d) => d,
        None => return Some(fail(shown, "listed as a declaration but not JSON".into())),
    };
    let text = |key: &str| document.get(key).and_then(serde_json::Value::as_str);
    let (Some(kind), Some(identifier), Some(token), Some(payload)) = (
        text("Type"),
        text("Identifier"),
        text("ServerToken"),
        document.get("Payload"),
    ) else {
        return Some(fail(
            shown,
            "not a declaration: `Type`, `Identifier`, `ServerToken` or `Payload` is missing".into(),
        ));
    };
    let expected = server_token(kind, identifier, payload);
    if token != expected || artifact.token != expected {
        return Some(fail(
            shown,
            format!(
                "`ServerToken` {token} is not the one its content gives ({expected}): the \
                 declaration was edited after the build; rebuild instead"
            ),
        ));
    }
    None
}

/// A file the manifest lists with its SHA-256 (hex): ok when its content still has it.
fn check_listed_hash(path: &Path, sha256: &str) -> FileReport {
    let shown = path.display().to_string();
    match crate::source::read::read(path, Input::Apple) {
        Ok(bytes) if sha256_hex(&bytes) == sha256 => FileReport {
            path: shown,
            verdict: Verdict::Ok,
            detail: "matches manifest.json".into(),
        },
        Ok(_) => fail(
            shown,
            "content differs from the sha256 in manifest.json".into(),
        ),
        Err(e) => fail(
            shown,
            format!("listed in manifest.json but unreadable: {e}"),
        ),
    }
}

/// Where an XML plist breaks a rule Apple's parser enforces and the `plist` crate does not
/// (a character XML 1.0 cannot carry, raw or as `&#…;`), as `is not … at line:col`.
fn strict_xml_problem(content: &[u8]) -> Option<String> {
    if crate::raw::plist::is_binary(content) {
        return None;
    }
    let text = std::str::from_utf8(content).ok()?;
    let error = crate::raw::plist::parse_xml(text, crate::source::FileId(0)).err()?;
    let (line, column) = crate::source::line_col(text, error.at.offset);
    Some(format!(
        "is not a property list Apple reads: {error} (at {line}:{column})"
    ))
}

fn verify_profile(
    path: String,
    bytes: &[u8],
    listed: Option<&ManifestArtifact>,
    options: &VerifyOptions,
) -> FileReport {
    if let Some(artifact) = listed
        && sha256_hex(bytes) != artifact.sha256
    {
        return fail(path, "file differs from the sha256 in manifest.json".into());
    }
    let looks_plist =
        bytes.starts_with(b"<?xml") || bytes.starts_with(b"bplist") || bytes.starts_with(b"<plist");
    if looks_plist {
        if let Some(problem) = strict_xml_problem(bytes) {
            return fail(path, format!("the profile {problem}"));
        }
        return FileReport {
            path,
            verdict: if options.allow_unsigned {
                Verdict::Warn
            } else {
                Verdict::Fail
            },
            detail: "unsigned profile".into(),
        };
    }
    let trust = TrustOptions {
        ca: options.ca.clone(),
        now: options.now,
    };
    let verified = match sign::verify(bytes, &trust) {
        Ok(v) => v,
        Err(e) => {
            // The code (`bsic::verify::…`) is what docs/diagnostics.md explains.
            let code = miette::Diagnostic::code(&e).map(|c| format!(" ({c})"));
            return fail(
                path,
                format!("signature does not verify: {e}{}", code.unwrap_or_default()),
            );
        }
    };
    if plist::Value::from_reader(std::io::Cursor::new(&verified.content)).is_err() {
        return fail(path, "the signed content is not a property list".into());
    }
    if let Some(problem) = strict_xml_problem(&verified.content) {
        return fail(path, format!("the signed content {problem}"));
    }
    if let Some(expected) = listed.and_then(|a| a.content_sha256.as_ref())
        && &sha256_hex(&verified.content) != expected
    {
        return fail(
            path,
            "the signed plist is not the one manifest.json hashes".into(),
        );
    }
    let (verdict, detail) = signature_verdict(&verified, options);
    FileReport {
        path,
        verdict,
        detail,
    }
}

/// What a verified signature is worth: trusted, self-signed or untrusted (a warning when no
/// CA was given to check against, else a failure), and a certificate about to expire.
fn signature_verdict(verified: &sign::Verified, options: &VerifyOptions) -> (Verdict, String) {
    let signer = verified
        .signer
        .subject_cn
        .clone()
        .unwrap_or_else(|| verified.signer.subject.clone());
    let (mut verdict, chain) = match &verified.chain_status {
        ChainStatus::Trusted => (Verdict::Ok, "trusted".to_string()),
        ChainStatus::SelfSigned if options.ca.is_empty() => {
            (Verdict::Warn, "self-signed".to_string())
        }
        ChainStatus::Untrusted { reason } if options.ca.is_empty() => (
            Verdict::Warn,
            format!("chain not checked ({reason}); pass --ca"),
        ),
        ChainStatus::SelfSigned => (
            Verdict::Fail,
            "self-signed, not issued by the given CA".to_string(),
        ),
        ChainStatus::Untrusted { reason } => (Verdict::Fail, format!("untrusted: {reason}")),
    };
    let mut detail = format!("signed by {signer}, {chain}");
    if verified.expires_soon {
        detail.push_str(", a certificate expires within 30 days");
        if verdict == Verdict::Ok {
            verdict = Verdict::Warn;
        }
    }
    (verdict, detail)
}
