//! Running the JSON Schema over a projection and turning its errors into bsic diagnostics.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::diag::{Diagnostic, suggest};
use crate::model::{
    BuildVersion, DetailsUrl, IdentifierPrefix, LocalDateTime, ModelPattern, Name, OsVersion,
    PolicyFile, ProjectFile,
};
use crate::source::{FileId, Span};
use crate::validate::diags::{Format, ValidateKind};

use super::compiled::{self, IterErrors};
use super::projection::Projection;
use super::shape::SchemaDoc;
use super::shape_table::ShapeTable;
use super::spans::Via;

/// A compiled schema plus the document it came from (for names and ranges in messages).
pub struct SchemaValidator {
    validator: Engine,
    schema: SchemaDocument,
    /// The shapes the projection follows: written when bsic was built for bsic's schemas,
    /// read from the document on first use for others.
    shapes: OnceLock<ShapeTable<'static>>,
    dialect: Dialect,
}

/// The schema as a JSON document. A compiled-in Apple schema is kept as its embedded text and
/// parsed only when something reads it: a declaration that passes never does, and parsing
/// the settings schema was a twentieth of a one-file `bsic validate`.
struct SchemaDocument {
    parsed: OnceLock<Value>,
    /// The text to parse when `parsed` is empty.
    text: &'static str,
}

impl SchemaDocument {
    fn parsed(value: Value) -> Self {
        Self {
            parsed: OnceLock::from(value),
            text: "",
        }
    }

    fn embedded(text: &'static str) -> Self {
        Self {
            parsed: OnceLock::new(),
            text,
        }
    }

    /// The document; the embedded texts are bsic's and Apple's published schemas, which the
    /// tests parse.
    fn get(&self) -> &Value {
        self.parsed
            .get_or_init(|| serde_json::from_str(self.text).unwrap_or_default())
    }
}

/// Where a schema was compiled.
enum Engine {
    /// Into Rust, when bsic was built ([`compiled`]).
    Generated(IterErrors),
    /// At run time: Apple's schemas and the generated schema of a policy test file.
    Runtime(jsonschema::Validator),
}

impl Engine {
    fn iter_errors<'a>(&'a self, value: &'a Value) -> jsonschema::ErrorIterator<'a> {
        match self {
            Engine::Generated(iter_errors) => iter_errors(value),
            Engine::Runtime(validator) => validator.iter_errors(value),
        }
    }
}

/// The text the validated value was written in, so messages name values the way the user
/// wrote them (`#true` in KDL, `true` in JSON, `<true/>` in a plist).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Dialect {
    #[default]
    Kdl,
    Json,
    Plist,
}

/// Errors building a validator: only possible if our own schema is broken.
#[derive(Debug, Clone, thiserror::Error, miette::Diagnostic)]
#[error("internal error: the built-in schema does not compile: {0}")]
#[diagnostic(code("bsic::internal"), help("please report this"))]
pub struct SchemaBuildError(String);

impl SchemaValidator {
    /// Compiles `schema` with bsic's value formats registered.
    ///
    /// The schema is compiled without its `$id`: every `$ref` in bsic's and Apple's schemas is
    /// local, and checking an `$id` against the meta-schema's pattern compiles a Unicode regex
    /// that costs a one-file `check` a sixth of its page faults.
    pub fn new(mut schema: Value) -> Result<Self, SchemaBuildError> {
        let id = schema
            .as_object_mut()
            .and_then(|object| object.remove("$id"));
        let validator = Self::compile(&schema);
        if let (Some(id), Some(object)) = (id, schema.as_object_mut()) {
            object.insert("$id".into(), id);
        }
        Ok(Self {
            validator: Engine::Runtime(validator?),
            schema: SchemaDocument::parsed(schema),
            shapes: OnceLock::new(),
            dialect: Dialect::Kdl,
        })
    }

    /// The policy schema ([`crate::model::policy_schema`]), compiled when bsic was built.
    pub fn policy() -> Self {
        Self::generated(
            SchemaDocument::embedded(crate::model::POLICY_SCHEMA_JSON),
            compiled::policy(),
        )
        .with_shapes(compiled::policy_shapes())
    }

    /// The project schema ([`crate::model::project_schema`]), compiled when bsic was built.
    pub fn project() -> Self {
        Self::generated(
            SchemaDocument::embedded(crate::model::PROJECT_SCHEMA_JSON),
            compiled::project(),
        )
        .with_shapes(compiled::project_shapes())
    }

    /// The validator of a document type: compiled in for the two published schemas, compiled
    /// now from the types for any other (a policy test file).
    pub fn of_document<T: schemars::JsonSchema>() -> Result<Self, SchemaBuildError> {
        let name = T::schema_name();
        if name == <PolicyFile as schemars::JsonSchema>::schema_name() {
            Ok(Self::policy())
        } else if name == <ProjectFile as schemars::JsonSchema>::schema_name() {
            Ok(Self::project())
        } else {
            Self::new(crate::model::schema_of::<T>())
        }
    }

    /// Apple's schema `name` (a file of `data/apple/` without `.schema.json`) with its
    /// embedded `text`: compiled in for the payload types bsic writes (the text is then parsed
    /// only if a message needs it), compiled now for the others.
    pub fn apple(name: &str, text: &'static str) -> Result<Self, SchemaBuildError> {
        match compiled::apple(name) {
            Some(iter_errors) => Ok(Self::generated(SchemaDocument::embedded(text), iter_errors)),
            None => {
                Self::new(serde_json::from_str(text).map_err(|e| SchemaBuildError(e.to_string()))?)
            }
        }
    }

    fn generated(schema: SchemaDocument, iter_errors: IterErrors) -> Self {
        Self {
            validator: Engine::Generated(iter_errors),
            schema,
            shapes: OnceLock::new(),
            dialect: Dialect::Kdl,
        }
    }

    fn with_shapes(self, shapes: &ShapeTable<'static>) -> Self {
        Self {
            shapes: OnceLock::from(shapes.clone()),
            ..self
        }
    }

    fn compile(schema: &Value) -> Result<jsonschema::Validator, SchemaBuildError> {
        jsonschema::options()
            .should_validate_formats(true)
            .with_format(OsVersion::FORMAT, OsVersion::conforms)
            .with_format(BuildVersion::FORMAT, BuildVersion::conforms)
            .with_format(LocalDateTime::FORMAT, LocalDateTime::conforms)
            .with_format(DetailsUrl::FORMAT, DetailsUrl::conforms)
            .with_format(Name::FORMAT, Name::conforms)
            .with_format(ModelPattern::FORMAT, ModelPattern::conforms)
            .with_format(IdentifierPrefix::FORMAT, IdentifierPrefix::conforms)
            .build(schema)
            .map_err(|e| SchemaBuildError(e.to_string()))
    }

    /// The schema this validator was compiled from.
    pub fn schema(&self) -> &Value {
        self.schema.get()
    }

    /// The shapes of the schema's nodes, which the projection of KDL follows.
    pub fn shapes(&self) -> &ShapeTable<'static> {
        self.shapes
            .get_or_init(|| ShapeTable::of(self.schema()).into_owned())
    }

    /// The same validator, describing values as written in `dialect`.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    /// Validates a projection; every error becomes a located diagnostic.
    pub fn check(&self, projection: &Projection, file: FileId) -> Vec<Diagnostic> {
        let errors: Vec<_> = self.validator.iter_errors(&projection.value).collect();
        if errors.is_empty() && !has_fraction(&projection.value) {
            return Vec::new();
        }
        let doc = SchemaDoc::new(self.schema());
        // A value of the wrong type also fails the `enum` beside the `type`; the type error says
        // what is wrong, the enum error would read "`1` is not one of `1`".
        let mistyped: Vec<String> = errors
            .iter()
            .filter(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }))
            .map(|e| e.instance_path().as_str().to_string())
            .collect();
        errors
            .into_iter()
            .filter(|error| {
                !matches!(
                    error.kind(),
                    ValidationErrorKind::Enum { .. } | ValidationErrorKind::Constant { .. }
                ) || !mistyped.contains(&error.instance_path().as_str().to_string())
            })
            .flat_map(|error| {
                let pointer = error.instance_path().as_str().to_string();
                let instance = error.instance().clone().into_owned();
                let failure =
                    Failure::new(self.dialect, &pointer, &instance, projection, &doc, file);
                let mut found = vec![failure.diagnostic(error.kind())];
                if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
                    found.extend(
                        unexpected
                            .iter()
                            .skip(1)
                            .map(|name| failure.unknown_key(name)),
                    );
                }
                found
            })
            .chain(fractional_integers(
                self.dialect,
                &projection.value,
                "",
                projection,
                &doc,
            ))
            // A value the projection already rejected (e.g. an overflowing integer) is not
            // reported again by the schema.
            .filter(|d| !projection.diagnostics.iter().any(|p| p.at == d.at))
            .collect()
    }
}

/// Whether `value` holds a fractional-looking number anywhere (what [`fractional_integers`]
/// may report), so a document without one and without schema errors needs no schema lookups.
fn has_fraction(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Object(map) => map.values().any(has_fraction),
        Value::Array(items) => items.iter().any(has_fraction),
        _ => false,
    }
}

/// JSON Schema counts `30.0` as an integer; KDL users who wrote `30.0` for a whole-number
/// setting get a type error instead of a surprise further down.
fn fractional_integers(
    dialect: Dialect,
    value: &Value,
    pointer: &str,
    projection: &Projection,
    doc: &SchemaDoc<'_>,
) -> Vec<Diagnostic> {
    match value {
        Value::Number(n) if n.is_f64() => {
            let wants_integer =
                doc.at(pointer).and_then(|s| s.get("type")) == Some(&Value::from("integer"));
            match projection.spans.value(pointer) {
                Some(at) if wants_integer => vec![Diagnostic::error(
                    ValidateKind::WrongType {
                        expected: describe_type(dialect, "integer"),
                        found: describe_value(dialect, value),
                        example: None,
                    },
                    at,
                    format!("`{}` wants a whole number", last_segment(pointer)),
                )],
                _ => Vec::new(),
            }
        }
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| {
                fractional_integers(dialect, v, &super::spans::push(pointer, k), projection, doc)
            })
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(i, v)| {
                fractional_integers(dialect, v, &format!("{pointer}/{i}"), projection, doc)
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// One schema error at one place, with what every kind of message needs to word and locate it.
struct Failure<'a> {
    dialect: Dialect,
    pointer: &'a str,
    instance: &'a Value,
    projection: &'a Projection,
    doc: &'a SchemaDoc<'a>,
    file: FileId,
    /// Where the failing value is written (the file's start if the projection lost it).
    value_at: Span,
    /// The key the value is written under, for labels such as "`days` wants a number".
    key_name: String,
}

impl<'a> Failure<'a> {
    fn new(
        dialect: Dialect,
        pointer: &'a str,
        instance: &'a Value,
        projection: &'a Projection,
        doc: &'a SchemaDoc<'a>,
        file: FileId,
    ) -> Self {
        Self {
            dialect,
            pointer,
            instance,
            projection,
            doc,
            file,
            value_at: projection
                .spans
                .value(pointer)
                .unwrap_or(Span::start_of(file)),
            key_name: last_segment(pointer),
        }
    }

    /// The diagnostic for one kind of schema error: a dispatch, each kind worded by its helper.
    fn diagnostic(&self, kind: &ValidationErrorKind) -> Diagnostic {
        match kind {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                // Report the first here; `check` adds one diagnostic per further name.
                let name = unexpected.first().cloned().unwrap_or_default();
                self.unknown_key(&name)
            }
            ValidationErrorKind::Enum { options } if !same_type_as_any(self.instance, options) => {
                self.mistyped_enum(options)
            }
            // Compiled-in schemas leave out the `type` error a `const` implies: the value's
            // type is what is wrong, worded so whichever engine validated.
            ValidationErrorKind::Constant { expected_value }
                if json_type(expected_value) != json_type(self.instance) =>
            {
                self.mistyped_enum(&Value::Array(vec![Value::clone(expected_value)]))
            }
            ValidationErrorKind::Enum { .. } | ValidationErrorKind::OneOfNotValid { .. }
                if !enum_values(self.doc, self.pointer).is_empty() =>
            {
                self.invalid_enum()
            }
            ValidationErrorKind::Type { kind } => self.wrong_type(kind),
            ValidationErrorKind::Minimum { limit } | ValidationErrorKind::Maximum { limit } => {
                self.out_of_range(limit)
            }
            ValidationErrorKind::Required { property } => {
                self.missing_required(property.as_str().unwrap_or_default())
            }
            ValidationErrorKind::Format { format } => self.invalid_format(format),
            // An empty string where text is needed: as good as missing.
            ValidationErrorKind::MinLength { limit: 1 } => Diagnostic::error(
                ValidateKind::MissingRequired {
                    what: format!("a non-empty value for `{}`", self.key_name),
                },
                self.value_at,
                "empty",
            ),
            ValidationErrorKind::MinItems { .. } => Diagnostic::error(
                ValidateKind::MissingRequired {
                    what: format!("a value for `{}`", self.key_name),
                },
                self.projection
                    .spans
                    .key(self.pointer)
                    .unwrap_or(self.value_at),
                "needs at least one value",
            ),
            other => Diagnostic::error(
                ValidateKind::Schema {
                    message: format!("{}", SchemaMessage(other)),
                },
                self.value_at,
                "here",
            ),
        }
    }

    /// An unknown node or property `name` inside the object at the pointer, with did-you-mean.
    fn unknown_key(&self, name: &str) -> Diagnostic {
        let expected = self.doc.property_names(self.pointer);
        let origin = self
            .projection
            .spans
            .find(&super::spans::push(self.pointer, name));
        let at = origin.map_or(self.value_at, |o| o.key);
        let suggestion = suggest(name, expected.iter().map(String::as_str));
        let name = name.to_string();
        if origin.is_some_and(|o| o.via == Via::Property) {
            Diagnostic::error(
                ValidateKind::UnknownProperty {
                    name,
                    expected,
                    suggestion,
                },
                at,
                if self.dialect == Dialect::Kdl {
                    "not a property of this node"
                } else {
                    "not a key of this dictionary"
                },
            )
        } else {
            Diagnostic::error(
                ValidateKind::UnknownNode {
                    name,
                    expected,
                    suggestion,
                },
                at,
                "not known here",
            )
        }
    }

    /// An `enum` without a `type` beside it, failed by a value of another type: still a
    /// mismatch of types, worded as one.
    fn mistyped_enum(&self, options: &Value) -> Diagnostic {
        let mut expected: Vec<String> = options
            .as_array()
            .into_iter()
            .flatten()
            .map(|v| describe_type(self.dialect, json_type(v)))
            .collect();
        expected.dedup();
        Diagnostic::error(
            ValidateKind::WrongType {
                expected: expected.join(" or "),
                found: describe_value(self.dialect, self.instance),
                example: self.example(),
            },
            self.value_at,
            format!("`{}` wants {}", self.key_name, expected.join(" or ")),
        )
    }

    /// A valid value for the pointer, when the schema gives one: its first allowed value,
    /// or an example of its format.
    fn example(&self) -> Option<String> {
        enum_values(self.doc, self.pointer)
            .into_iter()
            .next()
            .or_else(|| {
                let format = self.doc.at(self.pointer)?.get("format")?.as_str()?;
                Some(Format::named(format).example().to_string())
            })
    }

    /// A value outside its enumeration, with the allowed values and a did-you-mean.
    fn invalid_enum(&self) -> Diagnostic {
        let allowed = enum_values(self.doc, self.pointer);
        let value = self
            .instance
            .as_str()
            .map_or_else(|| self.instance.to_string(), String::from);
        let suggestion = suggest(&value, allowed.iter().map(String::as_str));
        Diagnostic::error(
            ValidateKind::InvalidEnum {
                value,
                allowed,
                suggestion,
            },
            self.value_at,
            "not allowed here",
        )
    }

    fn wrong_type(&self, kind: &TypeKind) -> Diagnostic {
        let expected = match kind {
            TypeKind::Single(t) => describe_type(self.dialect, &t.to_string()),
            TypeKind::Multiple(ts) => {
                let names: Vec<String> = ts
                    .iter()
                    .map(|t| describe_type(self.dialect, &t.to_string()))
                    .collect();
                names.join(" or ")
            }
        };
        let label = format!("`{}` wants {expected}", self.key_name);
        Diagnostic::error(
            ValidateKind::WrongType {
                expected,
                found: describe_value(self.dialect, self.instance),
                example: self.example(),
            },
            self.value_at,
            label,
        )
    }

    /// A number past a bound; the message gives the whole range the schema allows.
    fn out_of_range(&self, limit: &Value) -> Diagnostic {
        let range = self.doc.at(self.pointer);
        let bound = |k: &str| {
            range
                .and_then(|s| s.get(k))
                .map_or_else(|| limit.to_string(), Value::to_string)
        };
        Diagnostic::error(
            ValidateKind::OutOfRange {
                value: self.instance.to_string(),
                min: bound("minimum"),
                max: bound("maximum"),
            },
            self.value_at,
            "out of range",
        )
    }

    /// A required key that is absent, named as the node's argument when KDL writes it as one.
    fn missing_required(&self, name: &str) -> Diagnostic {
        let argument = self
            .doc
            .at(self.pointer)
            .and_then(|s| s.get("x-kdl-argument"))
            .and_then(Value::as_str);
        let what = if argument == Some(name) {
            format!("the {name} (first argument)")
        } else {
            format!("`{name}`")
        };
        let label = if self.pointer.is_empty() {
            "in this file".to_string()
        } else {
            format!("`{}` needs {what}", self.key_name)
        };
        let at = self
            .projection
            .spans
            .key(self.pointer)
            .unwrap_or(Span::start_of(self.file));
        Diagnostic::error(ValidateKind::MissingRequired { what }, at, label)
    }

    /// Text that fails one of bsic's formats; the format's own parser says why.
    fn invalid_format(&self, format: &str) -> Diagnostic {
        let text = self.instance.as_str().unwrap_or_default().to_string();
        let format = Format::named(format);
        let reason = match format {
            Format::OsVersion => text.parse::<OsVersion>().err(),
            Format::BuildVersion => text.parse::<BuildVersion>().err(),
            Format::LocalDateTime => text.parse::<LocalDateTime>().err(),
            Format::Url => text.parse::<DetailsUrl>().err(),
            Format::Identifier => text.parse::<IdentifierPrefix>().err(),
            Format::Model => text.parse::<ModelPattern>().err(),
            Format::DateTime | Format::Uuid => None,
            Format::Name => text.parse::<Name>().err(),
        };
        Diagnostic::error(
            ValidateKind::InvalidFormat {
                value: text,
                format,
                reason: reason.map(|r| r.0),
            },
            self.value_at,
            "invalid",
        )
    }
}

struct SchemaMessage<'a>(&'a ValidationErrorKind);

impl std::fmt::Display for SchemaMessage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            ValidationErrorKind::MaxLength { limit } => write!(f, "longer than {limit} characters"),
            ValidationErrorKind::MinLength { limit } => {
                write!(f, "shorter than {limit} characters")
            }
            ValidationErrorKind::MaxItems { limit } => write!(f, "more than {limit} values"),
            ValidationErrorKind::UniqueItems => write!(f, "values are repeated"),
            other => write!(f, "invalid value ({other:?})"),
        }
    }
}

/// The allowed values of an enum schema: `enum`, or `oneOf` of `const`s (documented variants).
fn enum_values(doc: &SchemaDoc<'_>, pointer: &str) -> Vec<String> {
    let Some(schema) = doc.at(pointer) else {
        return Vec::new();
    };
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), String::from);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(text).collect();
    }
    schema
        .get("oneOf")
        .and_then(Value::as_array)
        .map(|branches| {
            branches
                .iter()
                .filter_map(|b| b.get("const"))
                .map(text)
                .collect()
        })
        .unwrap_or_default()
}

fn last_segment(pointer: &str) -> String {
    let segment = pointer.rsplit('/').next().unwrap_or_default();
    if segment.chars().all(|c| c.is_ascii_digit()) {
        // An array item: name the array instead.
        let parent = &pointer[..pointer.len() - segment.len()].trim_end_matches('/');
        return parent.rsplit('/').next().unwrap_or_default().to_string();
    }
    segment.replace("~1", "/").replace("~0", "~")
}

/// The JSON Schema type name of a value (`integer` for whole numbers).
fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Whether `instance` has the type of at least one of the enum's `options`.
fn same_type_as_any(instance: &Value, options: &Value) -> bool {
    let kind = json_type(instance);
    options.as_array().is_none_or(|options| {
        options.iter().any(|o| {
            let other = json_type(o);
            other == kind || matches!((kind, other), ("integer" | "number", "integer" | "number"))
        })
    })
}

fn describe_type(dialect: Dialect, json_type: &str) -> String {
    match (dialect, json_type) {
        (_, "string") => "a string".into(),
        (Dialect::Kdl, "integer") => "a whole number".into(),
        (_, "integer") => "an integer".into(),
        (_, "number") => "a number".into(),
        (Dialect::Kdl, "boolean") => "a boolean (`#true` or `#false`)".into(),
        (Dialect::Json, "boolean") => "a boolean (`true` or `false`)".into(),
        (Dialect::Plist, "boolean") => "a boolean (`<true/>` or `<false/>`)".into(),
        (Dialect::Kdl, "array") => "a list of values".into(),
        (_, "array") => "an array".into(),
        (Dialect::Kdl, "object") => "a block or properties".into(),
        (_, "object") => "a dictionary".into(),
        (Dialect::Kdl, "null") => "`#null`".into(),
        (_, "null") => "`null`".into(),
        (_, other) => other.into(),
    }
}

/// A found value as its type and, for scalars, the value: "a string (`"1"`)", so a type error
/// never reads as if the value itself were wrong.
pub fn describe_value(dialect: Dialect, value: &Value) -> String {
    match (dialect, value) {
        (Dialect::Kdl, Value::Null) => "`#null`".into(),
        (_, Value::Null) => "`null`".into(),
        (Dialect::Kdl, Value::Bool(b)) => format!("a boolean (`#{b}`)"),
        (Dialect::Json, Value::Bool(b)) => format!("a boolean (`{b}`)"),
        (Dialect::Plist, Value::Bool(b)) => format!("a boolean (`<{b}/>`)"),
        (Dialect::Kdl, Value::Number(n)) if json_type(value) == "integer" => {
            format!("a whole number (`{n}`)")
        }
        (_, Value::Number(n)) if json_type(value) == "integer" => format!("an integer (`{n}`)"),
        (_, Value::Number(n)) => format!("a number (`{n}`)"),
        (_, Value::String(s)) => format!("a string (`{}`)", Value::from(s.as_str())),
        (Dialect::Kdl, Value::Array(_)) => "a list".into(),
        (_, Value::Array(_)) => "an array".into(),
        (Dialect::Kdl, Value::Object(_)) => "a block".into(),
        (_, Value::Object(_)) => "a dictionary".into(),
    }
}

#[cfg(test)]
impl crate::diag::Examples for SchemaBuildError {
    fn examples() -> Vec<Self> {
        let all = vec![Self("x".into())];
        all
    }
}

#[cfg(test)]
mod tests {
    use jsonschema::error::ValidationErrorKind;
    use serde_json::{Map, Value, json};

    use super::{Engine, Format, SchemaValidator};

    /// A value of every shape the schema describes: all properties set, the first choice of
    /// every `oneOf`, a valid string for every format.
    fn instance(schema: &Value, root: &Value) -> Value {
        if let Some(target) = schema.get("$ref").and_then(Value::as_str) {
            let pointer = target.trim_start_matches('#');
            return instance(root.pointer(pointer).unwrap_or(&Value::Null), root);
        }
        if let Some(first) = schema.get("const") {
            return first.clone();
        }
        if let Some(first) = schema.get("enum").and_then(|e| e.get(0)) {
            return first.clone();
        }
        for choice in ["oneOf", "anyOf", "allOf"] {
            if let Some(first) = schema.get(choice).and_then(|c| c.get(0)) {
                return instance(first, root);
            }
        }
        let kind = match schema.get("type") {
            Some(Value::Array(kinds)) => kinds.first().and_then(Value::as_str),
            Some(kind) => kind.as_str(),
            None => None,
        };
        match kind {
            Some("object") => {
                let properties = schema.get("properties").and_then(Value::as_object);
                Value::Object(
                    properties
                        .into_iter()
                        .flatten()
                        .map(|(key, sub)| (key.clone(), instance(sub, root)))
                        .collect(),
                )
            }
            Some("array") => {
                let items = schema.get("items").unwrap_or(&Value::Null);
                json!([instance(items, root)])
            }
            Some("string") => json!(
                schema
                    .get("format")
                    .and_then(Value::as_str)
                    .map_or("pilot", |name| Format::named(name).example())
            ),
            Some("integer") | Some("number") => json!(1),
            Some("boolean") => json!(true),
            _ => Value::Null,
        }
    }

    /// `value` and, for every value inside it, copies with that value replaced by one of
    /// each JSON type (and, for objects, an unknown key added and each key removed).
    fn mutations(value: &Value) -> Vec<Value> {
        let mut all = vec![value.clone()];
        let replacements = [
            json!(null),
            json!(false),
            json!(7),
            json!(-3),
            json!(2.5),
            json!("25X"),
            json!(""),
            json!([]),
            json!({}),
        ];
        for replacement in &replacements {
            all.push(replacement.clone());
        }
        match value {
            Value::Object(object) => {
                let mut extra = object.clone();
                extra.insert("no-such-key".into(), json!(1));
                all.push(Value::Object(extra));
                for (key, inner) in object {
                    let mut without = object.clone();
                    without.remove(key);
                    all.push(Value::Object(without));
                    for changed in mutations(inner).into_iter().skip(1) {
                        let mut copy: Map<String, Value> = object.clone();
                        copy.insert(key.clone(), changed);
                        all.push(Value::Object(copy));
                    }
                }
            }
            Value::Array(items) => {
                all.push(Value::Array(Vec::new()));
                for (index, inner) in items.iter().enumerate() {
                    for changed in mutations(inner).into_iter().skip(1) {
                        let mut copy = items.clone();
                        copy[index] = changed.clone();
                        all.push(Value::Array(copy.clone()));
                        copy.push(changed);
                        all.push(Value::Array(copy));
                    }
                }
            }
            _ => {}
        }
        all
    }

    /// The errors of `engine` on `value`, written out, less the two known differences
    /// between jsonschema's generated and run-time validators, neither of which changes a
    /// diagnostic: generated code leaves out a `type` error that an `enum` or `const` beside
    /// it implies (bsic drops the enum or const error beside a type error, and words one
    /// without it as the wrong type, [`Failure::mistyped_enum`]), and the `type` errors inside
    /// a failed `oneOf` (bsic reads the choices from the schema).
    fn errors(engine: &Engine, value: &Value) -> Vec<String> {
        let all: Vec<_> = engine.iter_errors(value).collect();
        let implied = |error: &jsonschema::ValidationError<'_>| {
            let path = error.schema_path().as_str();
            matches!(error.kind(), ValidationErrorKind::Type { .. })
                && all.iter().any(|other| {
                    let sibling = other.schema_path().as_str();
                    let sibling = match other.kind() {
                        ValidationErrorKind::Enum { .. } => sibling.strip_suffix("/enum"),
                        ValidationErrorKind::Constant { .. } => sibling.strip_suffix("/const"),
                        _ => None,
                    };
                    other.instance_path() == error.instance_path()
                        && sibling.is_some()
                        && path.strip_suffix("/type") == sibling
                })
        };
        all.iter()
            .filter(|error| !implied(error))
            .map(|error| {
                let kind = match error.kind() {
                    ValidationErrorKind::OneOfNotValid { .. } => "OneOfNotValid".to_string(),
                    kind => format!("{kind:?}"),
                };
                format!("{} {} {kind}", error.instance_path(), error.schema_path())
            })
            .collect()
    }

    /// The two published document types validate with the compiled-in schemas, which are
    /// the embedded files.
    #[test]
    fn published_documents_use_the_compiled_in_schemas() {
        use crate::model::{PolicyFile, PolicyTestFile, ProjectFile};
        let policy = SchemaValidator::of_document::<PolicyFile>().unwrap();
        let project = SchemaValidator::of_document::<ProjectFile>().unwrap();
        let test = SchemaValidator::of_document::<PolicyTestFile>().unwrap();
        assert!(matches!(policy.validator, Engine::Generated(_)));
        assert!(matches!(project.validator, Engine::Generated(_)));
        assert!(matches!(test.validator, Engine::Runtime(_)));
        assert!(policy.schema() == &crate::model::policy_schema());
        assert!(project.schema() == &crate::model::project_schema());
    }

    /// The schemas compiled into bsic report exactly what the run-time compiler reports,
    /// error for error, on a complete document and every mutation of it.
    #[test]
    fn compiled_schemas_report_what_the_runtime_compiler_reports() {
        let apple = super::compiled::APPLE.map(|(name, _)| {
            let path = format!(
                "{}/data/apple/{name}.schema.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let text = std::fs::read_to_string(&path).unwrap().leak();
            SchemaValidator::apple(name, text).unwrap()
        });
        let all = [SchemaValidator::policy(), SchemaValidator::project()]
            .into_iter()
            .chain(apple);
        for generated in all {
            assert!(matches!(generated.validator, Engine::Generated(_)));
            let schema = generated.schema().clone();
            let Ok(runtime) = SchemaValidator::new(schema.clone()) else {
                panic!("the embedded schema compiles at run time");
            };
            // Valid or nearly (a generated string may miss a pattern): its mutations reach
            // every keyword.
            let cases = mutations(&instance(&schema, &schema));
            assert!(cases.len() > 20, "only {} cases", cases.len());
            let mut failing = 0;
            for case in &cases {
                let expected = errors(&runtime.validator, case);
                failing += usize::from(!expected.is_empty());
                assert_eq!(errors(&generated.validator, case), expected, "for {case}");
            }
            assert!(failing * 2 > cases.len(), "most mutations are invalid");
        }
    }
}
