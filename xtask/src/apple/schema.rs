//! JSON Schema (draft 2020-12) generation from key definitions.
//!
//! Mapping (schema.md's vocabulary on the left):
//! `<string>` string, `<integer>` integer, `<real>` number, `<boolean>` boolean,
//! `<date>` string with `format: date-time`, `<data>` string with
//! `contentEncoding: base64` (its JSON projection), `<any>` unconstrained,
//! `<dictionary>` object whose `properties` are the subkeys, closed with
//! `additionalProperties: false` unless a subkey is the wildcard `ANY` (whose
//! schema then applies to every other property) or there are no subkeys,
//! `<array>` array whose `items` is the single subkey; the item's `repetition`
//! becomes `minItems`/`maxItems`. Per key: `rangelist` -> `enum`, `range` ->
//! `minimum`/`maximum`, `format` -> `pattern`, `presence: required` ->
//! `required`, `default`, `title`. A key that repeats an enclosing structure
//! ([`Subkeys::Recursive`]) refers to it with `$ref` and a JSON Pointer.

use serde_json::{Map, Value, json};

use super::Error;
use super::corpus::Source;
use super::model::{Key, KeyType, Presence, Subkeys, WILDCARD_KEY};

/// The dialect every generated schema declares.
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// Base of the generated schemas' `$id`s.
pub const ID_BASE: &str = "https://bsic.dev/schemas/apple/";

/// File name of the schema for a declaration type.
pub fn declaration_file_name(declaration_type: &str) -> String {
    format!("declaration.{declaration_type}.schema.json")
}

/// File name of the schema for a profile payload YAML with file stem `stem`.
pub fn profile_file_name(stem: &str) -> String {
    format!("profile.{stem}.schema.json")
}

/// Schema of a whole declaration: the envelope keys of `base`, with `Type`
/// fixed to the declaration's type and `Payload` described by `source`.
pub fn declaration_schema(source: &Source, base: &Source) -> Result<Value, Error> {
    let Some(declaration_type) = source.doc.payload.declarationtype.as_deref() else {
        return Err(Error::file(
            source.display_path(),
            "no `payload.declarationtype`",
        ));
    };
    let envelope = Builder { source: base };
    let mut schema = envelope.object(&base.doc.payloadkeys, "", "", &mut Vec::new())?;
    let payload = Builder { source }.object(
        &source.doc.payloadkeys,
        "",
        "/properties/Payload",
        &mut Vec::new(),
    )?;
    for (name, replacement) in [
        ("Type", json!({"type": "string", "const": declaration_type})),
        ("Payload", Value::Object(payload)),
    ] {
        match properties_mut(&mut schema).and_then(|p| p.get_mut(name)) {
            Some(slot) => *slot = replacement,
            None => {
                return Err(Error::file(
                    base.display_path(),
                    format!("the declaration envelope has no `{name}` key"),
                ));
            }
        }
    }
    Ok(document(
        schema,
        &declaration_file_name(declaration_type),
        source.doc.title.as_deref(),
    ))
}

/// Schema of one profile payload dictionary; `common` adds the keys every
/// payload has (an own key of the same name takes precedence), and a concrete
/// `payloadtype` fixes `PayloadType`. `TopLevel` is passed without `common`.
pub fn profile_schema(source: &Source, common: Option<&Source>) -> Result<Value, Error> {
    let mut keys: Vec<Key> = Vec::new();
    if let Some(common) = common {
        keys.extend(
            common
                .doc
                .payloadkeys
                .iter()
                .filter(|c| source.doc.payloadkeys.iter().all(|own| own.name != c.name))
                .cloned(),
        );
    }
    keys.extend(source.doc.payloadkeys.iter().cloned());
    let mut schema = Builder { source }.object(&keys, "", "", &mut Vec::new())?;
    if common.is_some()
        && let Some(payload_type) = source.doc.payload.payloadtype.as_deref()
        && is_concrete(payload_type)
    {
        let Some(properties) = properties_mut(&mut schema) else {
            return Err(Error::file(
                source.display_path(),
                "`properties` is not an object",
            ));
        };
        properties.insert(
            "PayloadType".to_owned(),
            json!({"type": "string", "const": payload_type}),
        );
    }
    Ok(document(
        schema,
        &profile_file_name(source.stem()),
        source.doc.title.as_deref(),
    ))
}

/// Whether a `payloadtype` names one real payload type (not a placeholder).
fn is_concrete(payload_type: &str) -> bool {
    !payload_type.is_empty()
        && payload_type != "any"
        && !payload_type.contains(|c: char| c == '*' || c.is_whitespace())
}

/// The `properties` of an object schema, created if absent.
fn properties_mut(schema: &mut Map<String, Value>) -> Option<&mut Map<String, Value>> {
    schema
        .entry("properties")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
}

/// Adds the document-level keywords to a root schema.
fn document(mut schema: Map<String, Value>, file_name: &str, title: Option<&str>) -> Value {
    schema.insert("$schema".to_owned(), DIALECT.into());
    schema.insert("$id".to_owned(), format!("{ID_BASE}{file_name}").into());
    if let Some(title) = title {
        schema.insert("title".to_owned(), title.into());
    }
    Value::Object(schema)
}

/// An enclosing key whose structure a [`Subkeys::Recursive`] key may repeat.
struct OpenStructure {
    subkeytype: String,
    pointer: String,
    ty: KeyType,
}

/// Builds schemas for the keys of one source file (named in errors).
struct Builder<'s> {
    source: &'s Source,
}

impl Builder<'_> {
    fn error(&self, key: &str, message: impl Into<String>) -> Error {
        Error::key(self.source.display_path(), key, message)
    }

    /// Object schema for a dictionary with `keys`; `parent` is the dotted path
    /// of the dictionary and `pointer` the JSON Pointer of the schema built.
    fn object(
        &self,
        keys: &[Key],
        parent: &str,
        pointer: &str,
        open: &mut Vec<OpenStructure>,
    ) -> Result<Map<String, Value>, Error> {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut wildcard = None;
        for key in keys {
            let path = join_path(parent, &key.name);
            if key.name == WILDCARD_KEY {
                if wildcard.is_some() {
                    return Err(self.error(&path, "more than one wildcard key"));
                }
                let child = format!("{pointer}/additionalProperties");
                wildcard = Some(Value::Object(self.key(key, &path, &child, open)?));
                continue;
            }
            if properties.contains_key(&key.name) {
                return Err(self.error(&path, "defined twice in the same dictionary"));
            }
            let child = format!("{pointer}/properties/{}", escape_pointer_token(&key.name));
            let schema = self.key(key, &path, &child, open)?;
            properties.insert(key.name.clone(), Value::Object(schema));
            if key.presence == Some(Presence::Required) {
                required.push(Value::String(key.name.clone()));
            }
        }
        let mut schema = Map::new();
        schema.insert("type".to_owned(), "object".into());
        if !properties.is_empty() {
            schema.insert("properties".to_owned(), Value::Object(properties));
        }
        if !required.is_empty() {
            schema.insert("required".to_owned(), Value::Array(required));
        }
        schema.insert(
            "additionalProperties".to_owned(),
            wildcard.unwrap_or(Value::Bool(false)),
        );
        Ok(schema)
    }

    /// Schema for one key at dotted `path`, placed at JSON Pointer `pointer`.
    fn key(
        &self,
        key: &Key,
        path: &str,
        pointer: &str,
        open: &mut Vec<OpenStructure>,
    ) -> Result<Map<String, Value>, Error> {
        let mut schema = Map::new();
        if let Some(title) = &key.title {
            schema.insert("title".to_owned(), title.clone().into());
        }
        match key.ty {
            KeyType::String => {
                schema.insert("type".to_owned(), "string".into());
            }
            KeyType::Integer => {
                schema.insert("type".to_owned(), "integer".into());
            }
            KeyType::Real => {
                schema.insert("type".to_owned(), "number".into());
            }
            KeyType::Boolean => {
                schema.insert("type".to_owned(), "boolean".into());
            }
            KeyType::Date => {
                schema.insert("type".to_owned(), "string".into());
                schema.insert("format".to_owned(), "date-time".into());
            }
            KeyType::Data => {
                schema.insert("type".to_owned(), "string".into());
                schema.insert("contentEncoding".to_owned(), "base64".into());
            }
            KeyType::Any => {}
            KeyType::Dictionary => self.dictionary(key, path, pointer, open, &mut schema)?,
            KeyType::Array => self.array(key, path, pointer, open, &mut schema)?,
        }
        let container = matches!(key.ty, KeyType::Dictionary | KeyType::Array);
        if !container && !matches!(key.subkeys, Subkeys::None) {
            return Err(self.error(path, "subkeys on a scalar type are not supported"));
        }
        if let Some(values) = &key.rangelist {
            if container {
                return Err(self.error(path, "`rangelist` on a container type"));
            }
            schema.insert("enum".to_owned(), Value::Array(values.clone()));
        }
        if let Some(range) = &key.range {
            if !matches!(key.ty, KeyType::Integer | KeyType::Real) {
                return Err(self.error(path, "`range` on a non-numeric type"));
            }
            if let Some(min) = &range.min {
                schema.insert("minimum".to_owned(), Value::Number(min.clone()));
            }
            if let Some(max) = &range.max {
                schema.insert("maximum".to_owned(), Value::Number(max.clone()));
            }
        }
        if let Some(pattern) = &key.format {
            if key.ty != KeyType::String {
                return Err(self.error(path, "`format` on a non-string type"));
            }
            schema.insert("pattern".to_owned(), pattern.clone().into());
        }
        if let Some(default) = &key.default {
            schema.insert("default".to_owned(), default.clone());
        }
        Ok(schema)
    }

    fn dictionary(
        &self,
        key: &Key,
        path: &str,
        pointer: &str,
        open: &mut Vec<OpenStructure>,
        schema: &mut Map<String, Value>,
    ) -> Result<(), Error> {
        match &key.subkeys {
            Subkeys::None => {
                schema.insert("type".to_owned(), "object".into());
            }
            Subkeys::Keys(subkeys) if subkeys.is_empty() => {
                schema.insert("type".to_owned(), "object".into());
            }
            Subkeys::Keys(subkeys) => {
                let pushed = push_open(open, key, pointer);
                let object = self.object(subkeys, path, pointer, open);
                if pushed {
                    open.pop();
                }
                schema.extend(object?);
            }
            Subkeys::Recursive(subkeytype) => {
                let target = self.recursion_target(key, path, subkeytype, open)?;
                schema.insert("$ref".to_owned(), pointer_ref(&target).into());
            }
        }
        Ok(())
    }

    fn array(
        &self,
        key: &Key,
        path: &str,
        pointer: &str,
        open: &mut Vec<OpenStructure>,
        schema: &mut Map<String, Value>,
    ) -> Result<(), Error> {
        schema.insert("type".to_owned(), "array".into());
        match &key.subkeys {
            Subkeys::None => {}
            Subkeys::Keys(subkeys) => match subkeys.as_slice() {
                [] => {}
                [item] => {
                    let pushed = push_open(open, key, pointer);
                    let item_path = join_path(path, &item.name);
                    let items = self.key(item, &item_path, &format!("{pointer}/items"), open);
                    if pushed {
                        open.pop();
                    }
                    // Apple names array items (`Program` in `OfferPrograms`); keep the name as
                    // the item's title so the schema mentions every key Apple defines.
                    let mut items = items?;
                    items
                        .entry("title")
                        .or_insert_with(|| item.name.clone().into());
                    schema.insert("items".to_owned(), Value::Object(items));
                    if let Some(repetition) = &item.repetition {
                        if let Some(min) = &repetition.min {
                            schema.insert("minItems".to_owned(), Value::Number(min.clone()));
                        }
                        if let Some(max) = &repetition.max {
                            schema.insert("maxItems".to_owned(), Value::Number(max.clone()));
                        }
                    }
                }
                more => {
                    return Err(self.error(
                        path,
                        format!("an array needs exactly one subkey, found {}", more.len()),
                    ));
                }
            },
            Subkeys::Recursive(subkeytype) => {
                let target = self.recursion_target(key, path, subkeytype, open)?;
                schema.insert(
                    "items".to_owned(),
                    json!({"$ref": pointer_ref(&format!("{target}/items"))}),
                );
            }
        }
        Ok(())
    }

    /// Pointer of the nearest enclosing schema with the same `subkeytype`.
    fn recursion_target(
        &self,
        key: &Key,
        path: &str,
        subkeytype: &str,
        open: &[OpenStructure],
    ) -> Result<String, Error> {
        let Some(target) = open.iter().rev().find(|o| o.subkeytype == subkeytype) else {
            return Err(self.error(path, format!("no enclosing `{subkeytype}` structure")));
        };
        if target.ty != key.ty {
            return Err(self.error(
                path,
                format!(
                    "repeats `{subkeytype}` from a {} key as a {}; only same-type recursion is supported",
                    target.ty.name(),
                    key.ty.name()
                ),
            ));
        }
        Ok(target.pointer.clone())
    }
}

/// Records `key` as an open structure if it names one; returns whether it did.
fn push_open(open: &mut Vec<OpenStructure>, key: &Key, pointer: &str) -> bool {
    match &key.subkeytype {
        Some(subkeytype) => {
            open.push(OpenStructure {
                subkeytype: subkeytype.clone(),
                pointer: pointer.to_owned(),
                ty: key.ty,
            });
            true
        }
        None => false,
    }
}

/// `parent.name`, or `name` at the root.
pub fn join_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}.{name}")
    }
}

/// Escapes one JSON Pointer reference token (RFC 6901).
fn escape_pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// A same-document `$ref` to a JSON Pointer, percent-encoded as a URI fragment.
fn pointer_ref(pointer: &str) -> String {
    let mut fragment = String::from("#");
    for byte in pointer.bytes() {
        let c = char::from(byte);
        if c.is_ascii_alphanumeric() || "-._~/!$&'()*+,;=:@".contains(c) {
            fragment.push(c);
        } else {
            fragment.push_str(&format!("%{byte:02X}"));
        }
    }
    fragment
}
