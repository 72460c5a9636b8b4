//! The last gate before anything is written: every artifact must validate against the JSON
//! Schema generated from Apple's definition of its type (`schemas/apple/`).

use std::collections::BTreeMap;

use serde_json::Value;

use super::profile::plist_to_json;
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

/// Embeds `schemas/apple/<name>.schema.json` as (name, text).
macro_rules! apple_schema {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../schemas/apple/", $name, ".schema.json")),
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
                let value = plist_to_json(&plist);
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
