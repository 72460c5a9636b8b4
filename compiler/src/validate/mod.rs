//! Validate stage: KDL documents → JSON projection → JSON Schema → typed model, then the
//! semantic checks the schema cannot express.
//!
//! In: a loaded [`Project`]. Out: a [`Model`] of every group and policy that is valid, with the
//! span map to point back at the source; every problem goes to the diagnostics sink. This stage
//! never reads files and never decides who gets what (that is `resolve`).

mod compiled;
pub mod diags;
mod projection;
mod schema;
mod semantic;
mod shape;
mod shape_table;
mod spans;

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diag::{Diagnostic, Diagnostics};
use crate::model::path::Field;
use crate::model::{Group, Policy, ProjectFile};
use crate::source::{FileId, ParsedFile, Project, Span};
use crate::validate::diags::ValidateKind;

pub use projection::{MAX_STRING_BYTES, Projection, project};
pub use schema::{Dialect, SchemaBuildError, SchemaValidator, describe_value};
pub use shape::{SchemaDoc, Shape};
pub use spans::{Origin, SpanMap, Via, push as push_pointer};

/// Where a model item was written: its file and JSON pointer in that file's projection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: FileId,
    pub pointer: String,
}

/// A model value with its location.
#[derive(Debug, Clone)]
pub struct Placed<T> {
    pub value: T,
    pub at: Location,
}

/// Every valid item of the project, plus the spans to locate them.
#[derive(Debug, Clone)]
pub struct Model {
    pub project: ProjectFile,
    pub project_file: FileId,
    pub groups: Vec<Placed<Group>>,
    pub policies: Vec<Placed<Policy>>,
    /// Every `policy` node read, valid or not: `policies` holds only the valid ones.
    pub policies_read: usize,
    /// The release catalog `bsic.kdl` pins, once loaded and verified (the pipeline loads it
    /// after this stage): what decides which builds are BSIs and which models get them.
    pub catalog: Option<std::sync::Arc<crate::apple::catalog::Catalog>>,
    spans: BTreeMap<FileId, SpanMap>,
}

impl Location {
    /// The root of `file`, where the project file's settings live.
    pub fn root(file: FileId) -> Self {
        Self {
            file,
            pointer: String::new(),
        }
    }
}

impl Model {
    /// The span of the value of `field` of the item at `at` (or of the nearest enclosing
    /// value the item sets, when it does not set `field`).
    pub fn value_span(&self, at: &Location, field: Field) -> Span {
        self.origin(at, field).value
    }

    /// The span of the key (node or property name) of `field` of the item at `at`.
    pub fn key_span(&self, at: &Location, field: Field) -> Span {
        self.origin(at, field).key
    }

    /// Drops the spans, for a build once it has located its policies: nothing it emits
    /// points into the sources, and a large project's spans are 20 MB. Spans asked for
    /// afterwards are the not-found ones.
    pub fn forget_spans(&mut self) {
        self.spans = BTreeMap::new();
    }

    fn origin(&self, at: &Location, field: Field) -> Origin {
        match self.spans.get(&at.file) {
            Some(spans) => spans.locate(at, field),
            None => spans::not_found(at, field),
        }
    }
}

/// The compiled schemas of both file kinds.
pub struct Validators {
    policy: SchemaValidator,
    project: SchemaValidator,
}

impl Validators {
    /// The validators of this process, compiled on first use and never dropped: freeing the
    /// compiled schemas at exit cost a one-file `check` a tenth of its instructions, and a
    /// second check in the same process (`plan`, the tests) compiles nothing.
    pub fn shared() -> &'static Self {
        static SHARED: OnceLock<Validators> = OnceLock::new();
        SHARED.get_or_init(Self::new)
    }

    /// Both schemas, compiled into the binary: nothing is compiled here, and nothing can fail.
    pub fn new() -> Self {
        Self {
            policy: SchemaValidator::policy(),
            project: SchemaValidator::project(),
        }
    }

    /// The policy schema the validators check against.
    pub fn policy_schema(&self) -> &Value {
        self.policy.schema()
    }

    /// The project schema the validators check against.
    pub fn project_schema(&self) -> &Value {
        self.project.schema()
    }
}

impl Default for Validators {
    fn default() -> Self {
        Self::new()
    }
}

impl Validators {
    /// Projects one policy file and validates it against the policy schema. Needs nothing
    /// but the file, so the loader runs it on every core as files are parsed, and the KDL
    /// document can be dropped right after.
    pub fn project_policy_file(&self, parsed: &ParsedFile) -> ProjectedFile {
        let mut checked = check_file(parsed, &self.policy);
        let mut found = Diagnostics::default();
        checked.groups = collect_items(&checked, "group", &mut found);
        checked.policies = collect_items(&checked, "policy", &mut found);
        checked.diagnostics.extend(found);
        checked.policies_read = checked
            .value
            .get("policy")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        // What the project-wide checks read of the JSON tree is taken now, and the tree
        // dropped here, on the core that built it (it was the bulk of every file kept).
        checked.raw_items = semantic::RawItems::of(checked.file, &checked.value);
        checked.value = Value::Null;
        checked
    }
}

/// Validates a loaded project whose policy files were projected with
/// [`Validators::project_policy_file`]. Returns the project (keeping only each policy file's
/// id) and the model of everything that is valid; the run has failed if `diagnostics` holds
/// an error afterwards.
pub fn validate(
    project: Project<ProjectedFile>,
    validators: &Validators,
    diagnostics: &mut Diagnostics,
) -> (Project<FileId>, Option<Model>) {
    let mut spans = BTreeMap::new();
    // Sized up front: grown by doubling, gathering 1,000 files' policies copied them all
    // again on the one thread that runs here.
    let files = &project.policy_files;
    let mut groups = Vec::with_capacity(files.iter().map(|f| f.groups.len()).sum());
    let mut policies = Vec::with_capacity(files.iter().map(|f| f.policies.len()).sum());
    let mut raw_items = semantic::RawItems::with_capacity_of(files.iter().map(|f| &f.raw_items));
    let mut policies_read = 0;

    // Without a parsed `bsic.kdl` its syntax errors are the whole story.
    let Some(file) = project.project_file.as_ref() else {
        return (project.map_files(|checked| checked.file), None);
    };
    let mut checked = check_file(file, &validators.project);
    diagnostics.extend(std::mem::take(&mut checked.diagnostics));
    let project_config: Option<ProjectFile> = checked
        .clean
        .then(|| from_json(&checked.value, file.file, diagnostics))
        .flatten();
    spans.insert(file.file, checked.spans);

    let project = project.map_files(|mut checked| {
        let file = checked.file;
        diagnostics.extend(std::mem::take(&mut checked.diagnostics));
        groups.append(&mut checked.groups);
        policies.append(&mut checked.policies);
        policies_read += checked.policies_read;
        spans.insert(file, checked.spans);
        raw_items.append(&mut checked.raw_items);
        file
    });

    let Some(project_config) = project_config else {
        return (project, None);
    };
    let model = Model {
        project: project_config,
        project_file: project.project_file_id,
        groups,
        policies,
        policies_read,
        catalog: None,
        spans,
    };
    semantic::check(&model, &raw_items, diagnostics);
    (project, Some(model))
}

/// Validates one parsed document against the schema of `T` and deserializes it. Problems go to
/// `diagnostics`; the span map locates values of the result by JSON pointer.
pub fn validate_document<T: DeserializeOwned + schemars::JsonSchema>(
    parsed: &ParsedFile,
    diagnostics: &mut Diagnostics,
) -> Option<(T, SpanMap)> {
    let validator = match SchemaValidator::of_document::<T>() {
        Ok(v) => v,
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                ValidateKind::Schema {
                    message: error.to_string(),
                },
                Span::start_of(parsed.file),
                "in this file",
            ));
            return None;
        }
    };
    let mut checked = check_file(parsed, &validator);
    diagnostics.extend(std::mem::take(&mut checked.diagnostics));
    if !checked.clean {
        return None;
    }
    let value = from_json(&checked.value, parsed.file, diagnostics)?;
    Some((value, checked.spans))
}

/// One file after projection and schema validation: what the checker keeps of a policy file
/// once its KDL document is dropped.
#[derive(Debug, Clone)]
pub struct ProjectedFile {
    file: FileId,
    /// The projection; `Null` once a policy file's items and [`semantic::RawItems`] are read
    /// from it.
    value: Value,
    /// The names and group references the project-wide checks need.
    raw_items: semantic::RawItems,
    spans: SpanMap,
    /// Pointers of values with a schema error; items under them are skipped.
    error_pointers: Vec<String>,
    clean: bool,
    /// The projection's and the schema's complaints, in source order, then those of
    /// deserializing the items.
    diagnostics: Vec<Diagnostic>,
    /// The file's valid groups and policies, deserialized where the file was projected (on
    /// any core) for [`validate`] to gather.
    groups: Vec<Placed<Group>>,
    policies: Vec<Placed<Policy>>,
    /// How many policies the file writes, valid or not.
    policies_read: usize,
}

fn check_file(parsed: &ParsedFile, validator: &SchemaValidator) -> ProjectedFile {
    let projection = project(&parsed.document, parsed.file, validator.shapes());
    let mut errors: Vec<Diagnostic> = projection.diagnostics.clone();
    let schema_errors = validator.check(&projection, parsed.file);
    let mut error_pointers = Vec::new();
    for error in &schema_errors {
        error_pointers.push(pointer_of(error, &projection));
    }
    for error in &projection.diagnostics {
        error_pointers.push(pointer_of(error, &projection));
    }
    errors.extend(schema_errors);
    ProjectedFile {
        file: parsed.file,
        clean: errors.is_empty(),
        value: projection.value,
        raw_items: semantic::RawItems::default(),
        spans: projection.spans,
        error_pointers,
        diagnostics: errors,
        groups: Vec::new(),
        policies: Vec::new(),
        policies_read: 0,
    }
}

/// The top-level item pointer (`/policy/3`) that contains a diagnostic, found through its span.
fn pointer_of(diagnostic: &Diagnostic, projection: &Projection) -> String {
    let Value::Object(root) = &projection.value else {
        return String::new();
    };
    for (key, value) in root {
        let Value::Array(items) = value else { continue };
        for index in 0..items.len() {
            let pointer = format!("/{key}/{index}");
            if let Some(span) = projection.spans.value(&pointer) {
                let inside = diagnostic.at.offset >= span.offset
                    && diagnostic.at.offset <= span.offset + span.len;
                if inside {
                    return pointer;
                }
            }
        }
    }
    String::new()
}

fn collect_items<T: DeserializeOwned>(
    checked: &ProjectedFile,
    key: &str,
    diagnostics: &mut Diagnostics,
) -> Vec<Placed<T>> {
    let file = checked.file;
    let mut out = Vec::new();
    let Some(Value::Array(items)) = checked.value.get(key) else {
        return out;
    };
    for (index, item) in items.iter().enumerate() {
        let pointer = format!("/{key}/{index}");
        let broken = checked
            .error_pointers
            .iter()
            .any(|p| p.is_empty() || *p == pointer);
        if broken {
            continue;
        }
        if let Some(value) = from_json(item, file, diagnostics) {
            out.push(Placed {
                value,
                at: Location { file, pointer },
            });
        }
    }
    out
}

/// Deserializes a schema-valid JSON value. A failure here means schema and model disagree.
fn from_json<T: DeserializeOwned>(
    value: &Value,
    file: FileId,
    diagnostics: &mut Diagnostics,
) -> Option<T> {
    // Deserialized from the borrowed value: no copy of the tree.
    match T::deserialize(value) {
        Ok(v) => Some(v),
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                ValidateKind::Schema {
                    message: format!("internal error: schema and model disagree: {error}"),
                },
                Span::start_of(file),
                "in this file",
            ));
            None
        }
    }
}
