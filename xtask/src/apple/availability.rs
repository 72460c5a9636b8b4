//! The availability table (`schemas/apple/availability.json`): for every
//! declaration and profile payload, its platforms and, per key, the key's type
//! facts and its effective availability; and every status item with its platforms.
//!
//! A key's effective availability starts from the payload's `supportedOS`;
//! each enclosing key's `supportedOS` and then the key's own override it field
//! by field (schema.md, "supportedOS Object"). The overlay has already been
//! applied to the parsed YAML, so it takes part in this inheritance. A platform
//! whose effective `introduced` is `n/a` is shown as just `{"introduced": "n/a"}`.

use serde_json::{Map, Value, json};

use super::Error;
use super::corpus::{Corpus, Source};
use super::model::{Key, Subkeys, SupportedOs, merge_supported_os};
use super::schema::join_path;

/// Builds the whole table; `source` describes the inputs.
pub fn table(corpus: &Corpus, source: &str) -> Result<Value, Error> {
    let mut declarations = Map::new();
    for declaration in &corpus.declarations {
        let Some(ty) = &declaration.doc.payload.declarationtype else {
            continue;
        };
        let mut entry = payload_entry(declaration, corpus)?;
        if let Some(apply) = &declaration.doc.payload.apply {
            entry.insert("apply".to_owned(), apply.clone().into());
        }
        if declarations
            .insert(ty.clone(), Value::Object(entry))
            .is_some()
        {
            return Err(Error::file(
                declaration.display_path(),
                format!("declaration type {ty} is defined by more than one file"),
            ));
        }
    }
    let mut profiles = Map::new();
    for profile in &corpus.profiles {
        let mut entry = payload_entry(profile, corpus)?;
        if let Some(payload_type) = &profile.doc.payload.payloadtype {
            entry.insert("payloadtype".to_owned(), payload_type.clone().into());
        }
        profiles.insert(profile.stem().to_owned(), Value::Object(entry));
    }
    // Status items: the names a status subscription may ask for, with their platforms.
    let mut status_items = Map::new();
    for item in &corpus.status_items {
        let Some(name) = &item.doc.payload.statusitemtype else {
            continue;
        };
        let mut entry = Map::new();
        entry.insert("file".to_owned(), item.file.clone().into());
        if let Some(title) = &item.doc.title {
            entry.insert("title".to_owned(), title.clone().into());
        }
        entry.insert(
            "platforms".to_owned(),
            platforms(item, &item.doc.payload.supported_os)?,
        );
        status_items.insert(name.clone(), Value::Object(entry));
    }
    Ok(json!({
        "source": source,
        "declarations": declarations,
        "profiles": profiles,
        "status-items": status_items,
    }))
}

fn payload_entry(source: &Source, corpus: &Corpus) -> Result<Map<String, Value>, Error> {
    let supported = &source.doc.payload.supported_os;
    let mut keys = Map::new();
    Walker { source }.walk(
        &source.doc.payloadkeys,
        "",
        supported,
        &mut Vec::new(),
        &mut keys,
    )?;
    let mut entry = Map::new();
    entry.insert("file".to_owned(), source.file.clone().into());
    if let Some(title) = &source.doc.title {
        entry.insert("title".to_owned(), title.clone().into());
    }
    entry.insert("platforms".to_owned(), platforms(source, supported)?);
    for (path, replacement) in corpus.replacements.get(&source.file).into_iter().flatten() {
        let target = if path.is_empty() {
            Some(&mut entry)
        } else {
            keys.get_mut(path).and_then(Value::as_object_mut)
        };
        let Some(target) = target else {
            return Err(Error::key(
                source.display_path(),
                path,
                "no such key for `replaced-by`",
            ));
        };
        target.insert("replaced-by".to_owned(), replacement.clone().into());
    }
    entry.insert("keys".to_owned(), Value::Object(keys));
    Ok(entry)
}

/// The `platforms` object for an effective `supportedOS`.
fn platforms(source: &Source, supported: &SupportedOs) -> Result<Value, Error> {
    let mut out = Map::new();
    for (os, availability) in supported {
        let value = if availability.is_unavailable() {
            json!({"introduced": "n/a"})
        } else {
            serde_json::to_value(availability)
                .map_err(|e| Error::file(source.display_path(), e.to_string()))?
        };
        let name = serde_json::to_value(os)
            .map_err(|e| Error::file(source.display_path(), e.to_string()))?;
        let Value::String(name) = name else {
            return Err(Error::file(
                source.display_path(),
                "platform name is not a string",
            ));
        };
        out.insert(name, value);
    }
    Ok(Value::Object(out))
}

struct Walker<'s> {
    source: &'s Source,
}

impl Walker<'_> {
    /// Adds `keys` (below dotted `parent`) to `out`; `open` holds the
    /// `subkeytype`s of the enclosing keys with their paths.
    fn walk(
        &self,
        keys: &[Key],
        parent: &str,
        inherited: &SupportedOs,
        open: &mut Vec<(String, String)>,
        out: &mut Map<String, Value>,
    ) -> Result<(), Error> {
        for key in keys {
            let path = join_path(parent, &key.name);
            let mut effective = inherited.clone();
            merge_supported_os(&mut effective, &key.supported_os);

            let mut entry = Map::new();
            entry.insert("type".to_owned(), key.ty.name().into());
            if let Some(title) = &key.title {
                entry.insert("title".to_owned(), title.clone().into());
            }
            if let Some(presence) = key.presence {
                entry.insert("presence".to_owned(), presence.name().into());
            }
            if let Some(default) = &key.default {
                entry.insert("default".to_owned(), default.clone());
            }
            if let Some(values) = &key.rangelist {
                entry.insert("rangelist".to_owned(), Value::Array(values.clone()));
            }
            if let Some(range) = &key.range {
                let mut bounds = Map::new();
                if let Some(min) = &range.min {
                    bounds.insert("min".to_owned(), Value::Number(min.clone()));
                }
                if let Some(max) = &range.max {
                    bounds.insert("max".to_owned(), Value::Number(max.clone()));
                }
                entry.insert("range".to_owned(), Value::Object(bounds));
            }
            if let Some(combinetype) = &key.combinetype {
                entry.insert("combinetype".to_owned(), combinetype.clone().into());
            }
            if let Subkeys::Recursive(subkeytype) = &key.subkeys {
                let Some((_, target)) = open.iter().rev().find(|(t, _)| t == subkeytype) else {
                    return Err(Error::key(
                        self.source.display_path(),
                        &path,
                        format!("no enclosing `{subkeytype}` structure"),
                    ));
                };
                entry.insert("same-as".to_owned(), target.clone().into());
            }
            entry.insert("platforms".to_owned(), platforms(self.source, &effective)?);
            if out.insert(path.clone(), Value::Object(entry)).is_some() {
                return Err(Error::key(
                    self.source.display_path(),
                    &path,
                    "two keys have this dotted path",
                ));
            }

            if let Subkeys::Keys(subkeys) = &key.subkeys {
                let pushed = match &key.subkeytype {
                    Some(subkeytype) => {
                        open.push((subkeytype.clone(), path.clone()));
                        true
                    }
                    None => false,
                };
                let walked = self.walk(subkeys, &path, &effective, open, out);
                if pushed {
                    open.pop();
                }
                walked?;
            }
        }
        Ok(())
    }
}
