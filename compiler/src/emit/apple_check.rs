//! The last gate before anything is written: every artifact must validate against the JSON
//! Schema generated from Apple's definition of its type (`schemas/apple/`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Artifact, ArtifactKind};

/// An artifact that does not match Apple's definition: a bsic bug, never a user error.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum EmitError {
    #[error(
        "internal error: `{path}` does not match Apple's schema for `{schema}` at `{pointer}`: {message}"
    )]
    #[diagnostic(
        code("bsic::internal::invalid-artifact"),
        help("nothing was written; please report this with the policy that caused it")
    )]
    Invalid {
        path: String,
        schema: String,
        pointer: String,
        message: String,
    },
    #[error("internal error: `{path}` is not readable as {what}: {message}")]
    #[diagnostic(
        code("bsic::internal::unreadable-artifact"),
        help("nothing was written; please report this")
    )]
    Unreadable {
        path: String,
        what: &'static str,
        message: String,
    },
    #[error("internal error: Apple schema `{name}` does not compile: {message}")]
    #[diagnostic(
        code("bsic::internal::schema"),
        help("regenerate with `cargo xtask gen-apple`")
    )]
    Schema { name: String, message: String },
}

/// Embeds `schemas/apple/<name>.schema.json` (the crate's copy, `compiler/data/apple/`) as
/// (name, text).
macro_rules! apple_schema {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../data/apple/", $name, ".schema.json")),
        )
    };
}

/// The generated Apple schemas of every type bsic emits, embedded at build time.
const SCHEMAS: &[(&str, &str)] = &[
    apple_schema!("declaration.com.apple.configuration.softwareupdate.settings"),
    apple_schema!("declaration.com.apple.configuration.softwareupdate.enforcement.specific"),
    apple_schema!("declaration.com.apple.activation.simple"),
    apple_schema!("declaration.com.apple.configuration.management.status-subscriptions"),
    apple_schema!("profile.TopLevel"),
    apple_schema!("profile.com.apple.applicationaccess"),
    apple_schema!("profile.com.apple.SoftwareUpdate"),
];

/// Compiled Apple schemas, keyed by declaration type or profile payload type.
pub struct AppleCheck {
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl AppleCheck {
    /// Compiles the embedded schemas.
    pub fn new() -> Result<Self, EmitError> {
        let mut validators = BTreeMap::new();
        for (name, text) in SCHEMAS {
            let schema: Value = serde_json::from_str(text).map_err(|e| EmitError::Schema {
                name: (*name).into(),
                message: e.to_string(),
            })?;
            let validator = jsonschema::validator_for(&schema).map_err(|e| EmitError::Schema {
                name: (*name).into(),
                message: e.to_string(),
            })?;
            validators.insert((*name).to_string(), validator);
        }
        Ok(Self { validators })
    }

    /// Checks one artifact; declarations against their type, profiles payload by payload.
    pub fn check(&self, artifact: &Artifact) -> Result<(), EmitError> {
        match &artifact.kind {
            ArtifactKind::Declaration { declaration_type } => {
                let value: Value =
                    serde_json::from_slice(&artifact.bytes).map_err(|e| EmitError::Unreadable {
                        path: artifact.path.clone(),
                        what: "JSON",
                        message: e.to_string(),
                    })?;
                self.validate(artifact, &format!("declaration.{declaration_type}"), &value)
            }
            ArtifactKind::Profile { .. } => {
                let plist =
                    plist::Value::from_reader_xml(artifact.bytes.as_slice()).map_err(|e| {
                        EmitError::Unreadable {
                            path: artifact.path.clone(),
                            what: "a plist",
                            message: e.to_string(),
                        }
                    })?;
                let value = crate::apple::plist::to_json(&plist);
                let mut top = value.clone();
                if let Some(content) = top.get_mut("PayloadContent") {
                    *content = Value::Array(Vec::new());
                }
                self.validate(artifact, "profile.TopLevel", &top)?;
                let payloads = value
                    .get("PayloadContent")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for payload in payloads {
                    let payload_type = payload
                        .get("PayloadType")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    self.validate(artifact, &format!("profile.{payload_type}"), &payload)?;
                }
                Ok(())
            }
        }
    }

    fn validate(&self, artifact: &Artifact, schema: &str, value: &Value) -> Result<(), EmitError> {
        let Some(validator) = self.validators.get(schema) else {
            return Ok(());
        };
        match validator.iter_errors(value).next() {
            None => Ok(()),
            Some(error) => Err(EmitError::Invalid {
                path: artifact.path.clone(),
                schema: schema.to_string(),
                pointer: error.instance_path().as_str().to_string(),
                message: error.to_string(),
            }),
        }
    }
}

#[cfg(test)]
impl crate::diag::Examples for EmitError {
    fn examples() -> Vec<Self> {
        let all = vec![
            Self::Invalid {
                path: "x".into(),
                schema: "x".into(),
                pointer: "x".into(),
                message: "x".into(),
            },
            Self::Unreadable {
                path: "x".into(),
                what: "x",
                message: "x".into(),
            },
            Self::Schema {
                name: "x".into(),
                message: "x".into(),
            },
        ];
        // A new variant does not compile until it has an example above.
        for example in &all {
            match example {
                Self::Invalid { .. } | Self::Unreadable { .. } | Self::Schema { .. } => {}
            }
        }
        all
    }
}

/// Tests of the Apple schemas against the repository's reference policies.
#[cfg(test)]
#[cfg(bsic_repo)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The reference policies' artifacts, emitted without writing anything.
    fn reference_artifacts() -> Vec<Artifact> {
        let checked = crate::pipeline::check(&crate::repo::root()).unwrap();
        assert!(!checked.has_errors());
        let model = checked.model.as_ref().unwrap();
        crate::emit::emit(
            model,
            &checked.resolution.plans,
            &AppleCheck::new().unwrap(),
        )
        .unwrap()
    }

    /// Every mutant of a JSON value: for each key at every depth, a wrong type, an unknown
    /// sibling, an out-of-range number, and the key removed (only required keys must fail).
    fn mutants(
        value: &Value,
        path: &mut Vec<String>,
        out: &mut Vec<(String, Value, bool)>,
        root: &Value,
    ) {
        let Value::Object(map) = value else { return };
        let mut with_unknown = root.clone();
        if let Some(Value::Object(target)) = pointer_mut(&mut with_unknown, path) {
            target.insert("BsicBogusKey".into(), json!(1));
        }
        out.push((
            format!("{}/BsicBogusKey (unknown)", path.join("/")),
            with_unknown,
            true,
        ));
        for (key, child) in map {
            path.push(key.clone());
            let wrong = match child {
                Value::String(_) => json!(42),
                Value::Bool(_) | Value::Number(_) => json!("not-this-type"),
                Value::Array(_) => json!({"not": "an array"}),
                _ => json!(["not", "an", "object"]),
            };
            let mut mutant = root.clone();
            set(&mut mutant, path, wrong);
            out.push((format!("{} (wrong type)", path.join("/")), mutant, true));
            if child.is_number() {
                let mut mutant = root.clone();
                set(&mut mutant, path, json!(100_000));
                out.push((format!("{} (out of range)", path.join("/")), mutant, true));
            }
            let mut removed = root.clone();
            if let Some(Value::Object(parent)) = pointer_mut(&mut removed, &path[..path.len() - 1])
            {
                parent.remove(key);
            }
            out.push((format!("{} (removed)", path.join("/")), removed, false));
            mutants(child, path, out, root);
            path.pop();
        }
    }

    fn pointer_mut<'a>(value: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
        path.iter().try_fold(value, |v, k| v.get_mut(k))
    }

    fn set(value: &mut Value, path: &[String], new: Value) {
        if let Some(slot) = pointer_mut(value, path) {
            *slot = new;
        }
    }

    #[test]
    fn apple_schemas_reject_every_mutant_of_the_reference_declarations() {
        let check = AppleCheck::new().unwrap();
        let required = [
            "Type",
            "Identifier",
            "ServerToken",
            "Payload",
            "TargetOSVersion",
            "TargetLocalDateTime",
            "StandardConfigurations",
            "StatusItems",
            "Name",
        ];
        let mut rejected = 0;
        for artifact in reference_artifacts() {
            let ArtifactKind::Declaration { .. } = &artifact.kind else {
                continue;
            };
            let original: Value = serde_json::from_slice(&artifact.bytes).unwrap();
            assert!(
                check.check(&artifact).is_ok(),
                "{} must be valid",
                artifact.path
            );
            let mut all = Vec::new();
            mutants(&original, &mut Vec::new(), &mut all, &original);
            for (what, mutant, must_fail) in all {
                // Removing a key matters only when Apple requires it; a ServerToken or
                // Identifier change is still a valid declaration.
                let last = what
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .rsplit('/')
                    .next()
                    .unwrap_or("");
                let must_fail = must_fail || required.contains(&last);
                let (kind, expected) = (&what, must_fail);
                let mut broken = artifact.clone();
                broken.bytes = serde_json::to_vec(&mutant).unwrap();
                let result = check.check(&broken);
                if expected {
                    assert!(
                        result.is_err(),
                        "{}: mutant `{kind}` was accepted",
                        artifact.path
                    );
                    rejected += 1;
                }
            }
        }
        assert!(rejected > 50, "only {rejected} mutants checked");
    }

    #[test]
    fn an_invalid_artifact_is_an_internal_error_naming_it() {
        let check = AppleCheck::new().unwrap();
        let artifact = reference_artifacts()
            .into_iter()
            .find(|a| a.path.ends_with(".settings.json") || a.path.contains(".settings."))
            .unwrap();
        let mut value: Value = serde_json::from_slice(&artifact.bytes).unwrap();
        value["Payload"]["AutomaticActions"] = json!({ "InstallSecurityUpdate": "Sometimes" });
        let mut broken = artifact.clone();
        broken.bytes = serde_json::to_vec(&value).unwrap();
        let error = check.check(&broken).unwrap_err().to_string();
        assert!(
            error.contains(&artifact.path) && error.contains("InstallSecurityUpdate"),
            "{error}"
        );
    }
}
