//! JSON Schemas compiled into bsic when it is built (jsonschema's `#[validator]`): bsic's own
//! two, which every run needs, and Apple's for the payload types bsic writes, which a
//! `bsic validate` of bsic's output needs. Compiling a schema at run time costs more than the
//! rest of a one-file run: the policy and project schemas were a quarter of a one-file
//! `check`, Apple's software-update schema a sixth of a one-file `validate`.
//!
//! Each is compiled from the crate's copy of the published file, with the formats
//! [`super::schema::SchemaValidator::new`] registers. A unit test in `schema.rs` checks that
//! each reports what the run-time compiler reports, error for error.

use serde_json::Value;

use super::shape_table::ShapeTable;

/// A compiled schema's check: every error in a value.
pub(crate) type IterErrors = for<'a> fn(&'a Value) -> jsonschema::ErrorIterator<'a>;

/// Declares a unit struct per schema file, compiled with bsic's formats.
macro_rules! compiled {
    ($($name:ident = $path:literal;)*) => {
        $(
            #[jsonschema::validator(
                path = $path,
                validate_formats = true,
                formats = {
                    "os-version" => crate::model::OsVersion::conforms,
                    "build-version" => crate::model::BuildVersion::conforms,
                    "local-date-time" => crate::model::LocalDateTime::conforms,
                    "https-url" => crate::model::DetailsUrl::conforms,
                    "name" => crate::model::Name::conforms,
                    "model-identifier" => crate::model::ModelPattern::conforms,
                    "reverse-dns" => crate::model::IdentifierPrefix::conforms,
                },
                methods = { is_valid = false, validate = false, iter_errors = true }
            )]
            struct $name;
        )*
    };
}

compiled! {
    Policy = "data/bsic-policy.schema.json";
    Project = "data/bsic-project.schema.json";
    SoftwareUpdateSettings = "data/apple/declaration.com.apple.configuration.softwareupdate.settings.schema.json";
    SoftwareUpdateEnforcement = "data/apple/declaration.com.apple.configuration.softwareupdate.enforcement.specific.schema.json";
    ProfileTopLevel = "data/apple/profile.TopLevel.schema.json";
    SoftwareUpdateProfile = "data/apple/profile.com.apple.SoftwareUpdate.schema.json";
    Restrictions = "data/apple/profile.com.apple.applicationaccess.schema.json";
}

/// The shape tables of bsic's two schemas, written by `build.rs` with
/// [`ShapeTable::of`](super::shape_table::ShapeTable::of).
mod shapes {
    use std::borrow::Cow;

    use crate::validate::shape_table::{Node, NodeId, ShapeTable};

    include!(concat!(env!("OUT_DIR"), "/schema_shapes.rs"));
}

/// The shape table of `schemas/bsic-policy.schema.json`.
pub(crate) fn policy_shapes() -> &'static ShapeTable<'static> {
    &shapes::POLICY
}

/// The shape table of `schemas/bsic-project.schema.json`.
pub(crate) fn project_shapes() -> &'static ShapeTable<'static> {
    &shapes::PROJECT
}

/// `schemas/bsic-policy.schema.json`.
pub(crate) fn policy() -> IterErrors {
    Policy::iter_errors
}

/// `schemas/bsic-project.schema.json`.
pub(crate) fn project() -> IterErrors {
    Project::iter_errors
}

/// Apple's schemas compiled in, by the name `data/apple/` gives each file (without
/// `.schema.json`).
pub(crate) const APPLE: [(&str, IterErrors); 5] = [
    (
        "declaration.com.apple.configuration.softwareupdate.settings",
        SoftwareUpdateSettings::iter_errors,
    ),
    (
        "declaration.com.apple.configuration.softwareupdate.enforcement.specific",
        SoftwareUpdateEnforcement::iter_errors,
    ),
    ("profile.TopLevel", ProfileTopLevel::iter_errors),
    (
        "profile.com.apple.SoftwareUpdate",
        SoftwareUpdateProfile::iter_errors,
    ),
    (
        "profile.com.apple.applicationaccess",
        Restrictions::iter_errors,
    ),
];

/// Apple's schema `name`, when it is compiled in.
pub(crate) fn apple(name: &str) -> Option<IterErrors> {
    APPLE
        .iter()
        .find(|(compiled, _)| *compiled == name)
        .map(|(_, iter_errors)| *iter_errors)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables `build.rs` wrote are those of the embedded schemas: a schema that was
    /// missing or not JSON at build time would leave a one-node table.
    #[test]
    fn shape_tables_are_those_of_the_embedded_schemas() {
        let policy = crate::model::policy_schema();
        let project = crate::model::project_schema();
        assert_eq!(policy_shapes(), &ShapeTable::of(&policy).into_owned());
        assert_eq!(project_shapes(), &ShapeTable::of(&project).into_owned());
        assert!(policy_shapes().nodes().len() > 10);
        assert!(project_shapes().nodes().len() > 5);
    }
}
