//! Apple's availability facts per payload and key: deprecated, n/a on the chosen platform,
//! newer than `--min-os`, removed, supervised only.

use crate::apple::{Key, OsSupport, Payload};
use crate::diag::{Diagnostic, Diagnostics};
use crate::model::compare_versions;
use crate::raw::diags::RawKind;
use crate::source::Span;
use crate::validate::diags::ValidateKind;

use super::scope::{doc_scope, unavailable_on_all};
use super::{Doc, ValidateOptions, key_span, keys, payloads};

/// Deprecated keys always; with `--platform`, keys the platform or `--min-os` ignores and
/// supervised-only keys.
pub(in crate::raw) fn availability(doc: &Doc, options: &ValidateOptions, out: &mut Diagnostics) {
    let column = options.platform.map(|p| p.apple_column());
    let scope = doc_scope(doc);
    for (payload, type_name, root, value) in payloads(doc) {
        if let Some(column) = column
            && let Some(support) = payload.platforms.get(column)
            && !support.available()
        {
            out.push(Diagnostic::warning(
                ValidateKind::UnavailableOnPlatform {
                    knob: type_name.to_string(),
                    platform: column.to_string(),
                    fact: format!("Apple: `{type_name}` is n/a on {column}"),
                },
                key_span(&doc.projection, &root, Span::start_of(doc.file)),
                "this payload",
            ));
            continue;
        }
        lifecycle(doc, payload, type_name, &root, options, out);
        let mut found = Vec::new();
        keys(value, "", &root, &mut found);
        let mut keys = KeyChecks {
            doc,
            payload,
            options,
            column,
            min_os: options.min_os.as_ref().map(ToString::to_string),
            reported: Vec::new(),
        };
        for (dotted, pointer) in found {
            if keys.inside(&dotted, Finding::Unavailable) {
                continue;
            }
            let Some(key) = payload.key(&dotted) else {
                continue;
            };
            // Dead on every platform the document targets: an error of its own (`scope`).
            if scope
                .as_ref()
                .is_some_and(|s| unavailable_on_all(&key.platforms, s))
            {
                keys.reported.push((dotted, Finding::Unavailable));
                continue;
            }
            keys.check(&dotted, &pointer, key, out);
        }
    }
}

/// The per-key checks of one payload, remembering what was reported.
struct KeyChecks<'a> {
    doc: &'a Doc,
    payload: &'a Payload,
    options: &'a ValidateOptions,
    column: Option<&'static str>,
    min_os: Option<String>,
    /// A key inherits its dictionary's availability, so a finding already reported for the
    /// dictionary is not repeated for each key in it; a different finding still is (a
    /// deferral period n/a on iOS inside a supervised-only `Deferrals`).
    reported: Vec<(String, Finding)>,
}

impl KeyChecks<'_> {
    /// Whether `finding` (or unavailability) was already told for a dictionary holding `dotted`.
    fn inside(&self, dotted: &str, finding: Finding) -> bool {
        self.reported.iter().any(|(r, f)| {
            (*f == finding || *f == Finding::Unavailable)
                && dotted.starts_with(r.as_str())
                && dotted[r.len()..].starts_with('.')
        })
    }

    /// Reports `finding` for `dotted` unless a dictionary holding it was told the same.
    fn report(
        &mut self,
        dotted: &str,
        finding: Finding,
        diagnostic: Diagnostic,
        out: &mut Diagnostics,
    ) {
        if self.inside(dotted, finding) {
            return;
        }
        self.reported.push((dotted.to_string(), finding));
        out.push(diagnostic);
    }

    fn check(&mut self, dotted: &str, pointer: &str, key: &Key, out: &mut Diagnostics) {
        let at = key_span(&self.doc.projection, pointer, Span::start_of(self.doc.file));
        self.deprecated(dotted, key, at, out);
        let Some(column) = self.column else {
            return;
        };
        let Some(support) = key.platforms.get(column) else {
            return;
        };
        if !support.available() {
            out.push(Diagnostic::warning(
                ValidateKind::UnavailableOnPlatform {
                    knob: dotted.to_string(),
                    platform: column.into(),
                    fact: format!("Apple: `{dotted}` is n/a on {column}; devices ignore it"),
                },
                at,
                "ignored",
            ));
            self.reported
                .push((dotted.to_string(), Finding::Unavailable));
            return;
        }
        self.too_new(dotted, column, support, at, out);
        self.removed(dotted, column, key, support, at, out);
        let supervised = support.supervised == Some(true)
            || support
                .allowed_enrollments
                .as_ref()
                .is_some_and(|e| e.len() == 1 && e[0] == "supervised");
        if supervised {
            let diagnostic = Diagnostic::warning(
                RawKind::SupervisedOnly {
                    key: dotted.to_string(),
                    platform: column.into(),
                },
                at,
                "supervised only",
            );
            self.report(dotted, Finding::Supervised, diagnostic, out);
        }
    }

    /// Deprecation: on the chosen platform, or on any platform when none is chosen. What the
    /// key only inherits from its payload was told once, for the payload.
    fn deprecated(&mut self, dotted: &str, key: &Key, at: Span, out: &mut Diagnostics) {
        let deprecated: Vec<String> = key
            .platforms
            .iter()
            .filter(|(p, _)| self.column.is_none_or(|c| c == p.as_str()))
            .filter(|(p, s)| {
                self.payload
                    .platforms
                    .get(p.as_str())
                    .and_then(|o| o.deprecated.as_ref())
                    != s.deprecated.as_ref()
            })
            .filter_map(|(p, s)| Some((p, s.deprecated.as_ref()?)))
            .filter(|(_, since)| {
                self.min_os
                    .as_ref()
                    .is_none_or(|min| compare_versions(min, since).is_ge())
            })
            .map(|(p, since)| format!("{p} {since}"))
            .collect();
        if deprecated.is_empty() {
            return;
        }
        let title = key
            .title
            .as_deref()
            .map_or(String::new(), |t| format!(" ({t})"));
        let diagnostic = Diagnostic::warning(
            ValidateKind::Deprecated {
                message: format!("`{dotted}` is deprecated"),
                fact: format!(
                    "Apple: `{dotted}`{title} is deprecated since {}{}",
                    deprecated.join(", "),
                    instead(key.replaced_by.as_deref())
                ),
            },
            at,
            "deprecated",
        );
        self.report(dotted, Finding::Deprecated, diagnostic, out);
    }

    /// A key Apple introduced after `--min-os`: older devices ignore it.
    fn too_new(
        &mut self,
        dotted: &str,
        column: &str,
        support: &OsSupport,
        at: Span,
        out: &mut Diagnostics,
    ) {
        let (Some(min), Some(introduced)) = (&self.min_os, support.introduced.as_deref()) else {
            return;
        };
        if !compare_versions(introduced, min).is_gt() {
            return;
        }
        let min_os = self
            .options
            .min_os
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        let diagnostic = Diagnostic::warning(
            ValidateKind::UnavailableOnPlatform {
                knob: dotted.to_string(),
                platform: format!("{column} {min_os}"),
                fact: format!(
                    "Apple: `{dotted}` arrived in {column} {introduced}; older devices ignore it"
                ),
            },
            at,
            "too new for the fleet",
        );
        self.report(dotted, Finding::TooNew, diagnostic, out);
    }

    /// A key Apple removed at or below `--min-os`, unless the whole payload went with it
    /// (told once, by [`lifecycle`]).
    fn removed(
        &mut self,
        dotted: &str,
        column: &str,
        key: &Key,
        support: &OsSupport,
        at: Span,
        out: &mut Diagnostics,
    ) {
        let (Some(min), Some(removed)) = (&self.min_os, support.removed.as_deref()) else {
            return;
        };
        let inherited = self
            .payload
            .platforms
            .get(column)
            .and_then(|p| p.removed.as_deref())
            == Some(removed);
        if inherited || !compare_versions(removed, min).is_le() {
            return;
        }
        let diagnostic = Diagnostic::warning(
            ValidateKind::UnavailableOnPlatform {
                knob: dotted.to_string(),
                platform: column.into(),
                fact: format!(
                    "Apple: `{dotted}` was removed in {column} {removed}{}",
                    instead(key.replaced_by.as_deref())
                ),
            },
            at,
            "removed",
        );
        self.report(dotted, Finding::Removed, diagnostic, out);
    }
}

/// `; use X instead` for a replacement Apple names, else nothing.
fn instead(replacement: Option<&str>) -> String {
    replacement.map_or(String::new(), |r| format!("; use {r} instead"))
}

/// A payload type Apple deprecated or removed, told once for the payload with what Apple
/// says to use instead: removed on the chosen platform at or below `--min-os`, else
/// deprecated there (or, with no platform chosen, on any platform).
fn lifecycle(
    doc: &Doc,
    payload: &Payload,
    type_name: &str,
    root: &str,
    options: &ValidateOptions,
    out: &mut Diagnostics,
) {
    let at = key_span(&doc.projection, root, Span::start_of(doc.file));
    let column = options.platform.map(|p| p.apple_column());
    let min_os = options.min_os.as_ref().map(ToString::to_string);
    let instead = instead(payload.replaced_by);
    if let (Some(column), Some(min)) = (column, &min_os)
        && let Some(removed) = payload
            .platforms
            .get(column)
            .and_then(|s| s.removed.as_deref())
        && compare_versions(removed, min).is_le()
    {
        out.push(Diagnostic::warning(
            ValidateKind::UnavailableOnPlatform {
                knob: type_name.to_string(),
                platform: format!("{column} {removed} and later"),
                fact: format!(
                    "Apple: `{type_name}` was removed in {column} {removed}; devices ignore \
                     it{instead}"
                ),
            },
            at,
            "removed",
        ));
        return;
    }
    let deprecated: Vec<String> = payload
        .platforms
        .iter()
        .filter(|(p, _)| column.is_none_or(|c| c == p.as_str()))
        .filter_map(|(p, s)| Some((p, s.deprecated.as_ref()?, s.removed.as_deref())))
        .filter(|(_, since, _)| {
            min_os
                .as_ref()
                .is_none_or(|min| compare_versions(min, since).is_ge())
        })
        .map(|(p, since, removed)| match removed {
            Some(removed) => format!("{p} {since} (removed in {p} {removed})"),
            None => format!("{p} {since}"),
        })
        .collect();
    if !deprecated.is_empty() {
        out.push(Diagnostic::warning(
            ValidateKind::Deprecated {
                message: format!("`{type_name}` is deprecated"),
                fact: format!(
                    "Apple: `{type_name}` is deprecated since {}{instead}",
                    deprecated.join(", ")
                ),
            },
            at,
            "deprecated",
        ));
    }
}

/// What was reported for a key, so keys inside it are not told the same again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Finding {
    Unavailable,
    Deprecated,
    TooNew,
    Removed,
    Supervised,
}
