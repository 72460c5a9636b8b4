//! Which `ServerToken` a device holding the current declaration reports.
//!
//! bsic writes a `ServerToken` into every declaration, and an MDM that serves declarations as
//! bsic wrote them (a generic DDM server) hands devices that token: a device reporting any
//! other holds an older declaration. KMFDDM, Fleet and Workspace ONE discard it and assign
//! their own, so what a device reports never equals the manifest's token. For those, a
//! *server token map* pairs each declaration's bsic token with the token the server assigned;
//! `kmfddm/upload.sh` writes one after each upload (`server-tokens.json` beside it), and
//! `--server-tokens` also takes what any DDM server serves a device at
//! `GET /declaration-items` (`{"Declarations": {…}, "DeclarationsToken": …}`), read as an
//! identifier → server token map for the declarations the server holds now.
//!
//! The rule ([`Tokens::judge`]): a reported token is current when it equals the manifest's,
//! or the server token a map records for the manifest's current bsic token (or, from
//! declaration items, the server's current token). A token a map pairs with another bsic
//! token is older. Anything else is older too — unless the build has a layout for a server
//! that assigns its own tokens and no map speaks for the declaration, when it is
//! *unverified*: never counted current, never called stale.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::StatusError;

/// The `format` of a server token map.
pub const MAP_FORMAT: &str = "bsic-server-tokens/1";

/// The file a layout's upload script writes its map to, beside itself; `bsic status` reads
/// `<dist>/*/server-tokens.json`.
pub const MAP_FILE: &str = "server-tokens.json";

/// The MDM layouts (`bsic build --target`) whose servers assign their own `ServerToken`s.
pub const ASSIGNING_TARGETS: &[&str] = &["fleet", "kmfddm", "workspace-one"];

/// What a device's token says about the declaration it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenVerdict {
    Current,
    Older,
    /// The server assigns tokens and no map tells which one is current.
    Unverified,
}

/// Known server tokens, by declaration identifier.
#[derive(Debug, Default)]
pub struct Tokens {
    /// (bsic token, server token); the bsic token is absent for declaration items.
    by_id: HashMap<String, Vec<(Option<String>, String)>>,
    /// Whether the build has a layout for a server that assigns its own tokens.
    pub server_assigns: bool,
}

/// A server token map as `upload.sh` writes it.
#[derive(Deserialize)]
struct Map {
    format: String,
    #[serde(default)]
    declarations: HashMap<String, Pair>,
}

#[derive(Deserialize)]
struct Pair {
    bsic: String,
    server: String,
}

/// Apple's `DeclarationItemsResponse`: the declarations a server serves a device.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Items {
    declarations: HashMap<String, Vec<Item>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Item {
    identifier: String,
    server_token: String,
}

impl Tokens {
    /// No tokens known yet; `server_assigns` says whether the build has a layout for a
    /// server that assigns its own.
    pub fn new(server_assigns: bool) -> Self {
        Self {
            by_id: HashMap::new(),
            server_assigns,
        }
    }

    /// Whether any map was read.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Reads one map file: bsic's server token map or a declaration-items response.
    pub fn read(&mut self, path: &Path) -> Result<(), StatusError> {
        let bytes =
            crate::source::read::read(path, crate::source::Input::Apple).map_err(|source| {
                StatusError::Read {
                    path: path.display().to_string(),
                    source,
                }
            })?;
        let bad = |message: String| StatusError::ServerTokens {
            path: path.display().to_string(),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        if value.get("format").is_some() {
            let map: Map = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            if map.format != MAP_FORMAT {
                return Err(bad(format!(
                    "its format is `{}`, not `{MAP_FORMAT}`",
                    map.format
                )));
            }
            for (id, pair) in map.declarations {
                self.by_id
                    .entry(id)
                    .or_default()
                    .push((Some(pair.bsic), pair.server));
            }
        } else if value.get("Declarations").is_some() {
            let items: Items = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
            for item in items.declarations.into_values().flatten() {
                self.by_id
                    .entry(item.identifier)
                    .or_default()
                    .push((None, item.server_token));
            }
        } else {
            return Err(bad(format!(
                "it is neither a server token map (`\"format\": \"{MAP_FORMAT}\"`) nor a declaration-items response (`\"Declarations\"`)"
            )));
        }
        Ok(())
    }

    /// Judges the token a device reports for `identifier`, whose token in the manifest is
    /// `built`.
    pub fn judge(&self, identifier: &str, built: &str, reported: &str) -> TokenVerdict {
        if reported == built {
            return TokenVerdict::Current;
        }
        let known = self.by_id.get(identifier).map_or(&[][..], Vec::as_slice);
        let mut speaks = false;
        for (bsic, server) in known {
            if bsic.as_deref().is_none_or(|b| b == built) {
                if server == reported {
                    return TokenVerdict::Current;
                }
                speaks = true;
            }
        }
        if speaks || known.iter().any(|(_, server)| server == reported) || !self.server_assigns {
            TokenVerdict::Older
        } else {
            TokenVerdict::Unverified
        }
    }
}

/// The maps upload scripts wrote into the layouts of `dist`: `<dist>/*/server-tokens.json`,
/// sorted.
pub fn maps_in(dist: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dist) else {
        return Vec::new();
    };
    let mut maps: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path().join(MAP_FILE))
        .filter(|path| path.is_file())
        .collect();
    maps.sort();
    maps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(map: &str, server_assigns: bool) -> Tokens {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(MAP_FILE);
        std::fs::write(&path, map).unwrap();
        let mut tokens = Tokens::new(server_assigns);
        tokens.read(&path).unwrap();
        tokens
    }

    #[test]
    fn a_map_pairs_bsic_tokens_with_the_servers() {
        let t = tokens(
            r#"{"format":"bsic-server-tokens/1","server":"kmfddm","declarations":{"a":{"bsic":"b2","server":"s2"}}}"#,
            true,
        );
        assert_eq!(t.judge("a", "b2", "s2"), TokenVerdict::Current);
        assert_eq!(t.judge("a", "b2", "b2"), TokenVerdict::Current);
        assert_eq!(t.judge("a", "b2", "s1"), TokenVerdict::Older);
        // The map is of another build: a token it does not know cannot be judged.
        assert_eq!(t.judge("a", "b3", "s9"), TokenVerdict::Unverified);
        // ... but the token it pairs with an older bsic token is older.
        assert_eq!(t.judge("a", "b3", "s2"), TokenVerdict::Older);
        assert_eq!(t.judge("x", "b", "s"), TokenVerdict::Unverified);
    }

    #[test]
    fn declaration_items_are_the_servers_current_tokens() {
        let t = tokens(
            r#"{"Declarations":{"Activations":[],"Configurations":[{"Identifier":"a","ServerToken":"s2"}],"Assets":[],"Management":[]},"DeclarationsToken":"d"}"#,
            true,
        );
        assert_eq!(t.judge("a", "b2", "s2"), TokenVerdict::Current);
        assert_eq!(t.judge("a", "b2", "s1"), TokenVerdict::Older);
    }

    #[test]
    fn without_a_map_a_generic_mdm_keeps_bsics_tokens() {
        let t = Tokens::default();
        assert_eq!(t.judge("a", "b", "b"), TokenVerdict::Current);
        assert_eq!(t.judge("a", "b", "old"), TokenVerdict::Older);
        let assigning = Tokens::new(true);
        assert_eq!(assigning.judge("a", "b", "s"), TokenVerdict::Unverified);
    }

    #[test]
    fn other_json_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.json");
        for text in [r#"{"a":1}"#, r#"{"format":"other/2"}"#, "not json"] {
            std::fs::write(&path, text).unwrap();
            let err = Tokens::default().read(&path).unwrap_err();
            assert!(matches!(err, StatusError::ServerTokens { .. }), "{text}");
        }
    }
}
