//! Typed places inside model items: what a diagnostic points at, instead of hand-written
//! JSON-pointer strings.
//!
//! Later stages locate a value of a group, policy or test through its item's location plus
//! a [`Field`]; the span map turns that into the source span. The JSON pointer of every field
//! is spelled once, here, and `tests::every_field_is_in_the_model` checks each one against the
//! serialized model, so a misspelt field cannot point at the wrong place.

use super::knobs::Knob;

/// A place inside a model item (a group, a policy, a policy test or the project file),
/// relative to the item's own location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    /// The item itself: its node.
    Item,
    /// A group's or policy's name (the node's argument).
    Name,
    /// The `platforms` list.
    Platforms,
    /// Entry `i` of `platforms`.
    Platform(usize),
    /// Entry `i` of a group's `includes`.
    Includes(usize),
    /// Entry `i` of a policy's `applies-to`.
    AppliesTo(usize),
    /// A group's `os min=`.
    OsMin,
    /// A group's `os max=`.
    OsMax,
    /// Entry `i` of a group's `models`.
    Model(usize),
    /// The `defer` node of `os-updates`.
    Defer,
    /// `enforce` node `i`.
    Enforce(usize),
    /// A property of `enforce` node `i`.
    EnforceField(usize, EnforceField),
    /// A knob's value in a policy.
    Knob(&'static Knob),
    /// `catalog` in the project file.
    Catalog,
    /// A knob's value in a policy test's `expect` block.
    Expected(&'static Knob),
    /// `expect { enforce … }` in a policy test.
    ExpectedEnforce,
    /// `expect { no-enforce … }` in a policy test.
    ExpectedNoEnforce,
}

/// A property of an `enforce` node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnforceField {
    Version,
    Build,
    By,
    Details,
    Platform,
}

impl EnforceField {
    /// The property name in KDL.
    pub fn kdl(self) -> &'static str {
        match self {
            EnforceField::Version => "version",
            EnforceField::Build => "build",
            EnforceField::By => "by",
            EnforceField::Details => "details",
            EnforceField::Platform => "platform",
        }
    }
}

impl Field {
    /// The JSON pointer of the field below its item's pointer.
    pub fn pointer(self) -> String {
        match self {
            Field::Item => String::new(),
            Field::Name => "/name".into(),
            Field::Platforms => "/platforms".into(),
            Field::Platform(i) => format!("/platforms/{i}"),
            Field::Includes(i) => format!("/includes/{i}"),
            Field::AppliesTo(i) => format!("/applies-to/{i}"),
            Field::OsMin => "/os/min".into(),
            Field::OsMax => "/os/max".into(),
            Field::Model(i) => format!("/models/{i}"),
            Field::Defer => "/os-updates/defer".into(),
            Field::Enforce(i) => format!("/enforce/{i}"),
            Field::EnforceField(i, field) => format!("/enforce/{i}/{}", field.kdl()),
            Field::Knob(knob) => knob.pointer(),
            Field::Catalog => "/catalog".into(),
            Field::Expected(knob) => format!("/expect{}", knob.pointer()),
            Field::ExpectedEnforce => "/expect/enforce".into(),
            Field::ExpectedNoEnforce => "/expect/no-enforce".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::knobs::{KNOBS, SECTIONS, every_knob_policy};
    use super::super::{Group, Policy, PolicyTest, ProjectFile};
    use super::*;

    /// Deserializes `json` as `T` (the model refuses unknown fields) and serializes it back:
    /// the model's own spelling of every field `json` sets.
    fn through<T: serde::de::DeserializeOwned + serde::Serialize>(json: Value) -> Value {
        let value: T = serde_json::from_value(json).expect("the model takes the example");
        serde_json::to_value(value).expect("the model serializes")
    }

    fn policy() -> Value {
        let mut policy = serde_json::to_value(every_knob_policy()).expect("serializes");
        policy["platforms"] = json!(["macOS", "iOS"]);
        policy["enforce"] = json!([{
            "version": "26.3.1", "build": "25D771280a", "by": "2027-01-01T09:00:00",
            "details": "https://it.example.com", "platform": "macOS",
        }]);
        through::<Policy>(policy)
    }

    /// Every field, each with the item whose serialized form must hold it. The `match` makes
    /// a new variant fail to compile here until it is listed.
    fn every_field() -> Vec<(Field, Value)> {
        let _exhaustive = |field: Field| match field {
            Field::Item
            | Field::Name
            | Field::Platforms
            | Field::Platform(_)
            | Field::Includes(_)
            | Field::AppliesTo(_)
            | Field::OsMin
            | Field::OsMax
            | Field::Model(_)
            | Field::Defer
            | Field::Enforce(_)
            | Field::EnforceField(..)
            | Field::Knob(_)
            | Field::Catalog
            | Field::Expected(_)
            | Field::ExpectedEnforce
            | Field::ExpectedNoEnforce => (),
        };
        let group = through::<Group>(json!({
            "name": "g", "includes": ["h"], "platforms": ["macOS"],
            "os": {"min": "15.0", "max": "26.0"}, "models": ["Mac17,*"],
        }));
        let project = through::<ProjectFile>(json!({
            "organization": "O", "identifier-prefix": "com.example",
            "catalog": {"path": "c.json", "sha256": "00"},
        }));
        let mut expect = serde_json::to_value(every_knob_policy()).expect("serializes");
        let expect = expect.as_object_mut().expect("an object");
        expect.retain(|key, _| SECTIONS.contains(&key.as_str()));
        expect.insert("enforce".into(), json!({"version": "26.3.1"}));
        expect.insert("no-enforce".into(), json!(true));
        let test = through::<PolicyTest>(json!({
            "name": "t", "groups": ["g"], "platform": "macOS", "expect": expect,
        }));
        let mut fields = vec![
            (Field::Item, policy()),
            (Field::Name, policy()),
            (Field::Name, group.clone()),
            (Field::Platforms, policy()),
            (Field::Platform(1), policy()),
            (Field::Includes(0), group.clone()),
            (Field::AppliesTo(0), policy()),
            (Field::OsMin, group.clone()),
            (Field::OsMax, group.clone()),
            (Field::Model(0), group),
            (Field::Defer, policy()),
            (Field::Enforce(0), policy()),
            (Field::Catalog, project),
            (Field::ExpectedEnforce, test.clone()),
            (Field::ExpectedNoEnforce, test.clone()),
        ];
        for field in [
            EnforceField::Version,
            EnforceField::Build,
            EnforceField::By,
            EnforceField::Details,
            EnforceField::Platform,
        ] {
            fields.push((Field::EnforceField(0, field), policy()));
        }
        for knob in KNOBS {
            fields.push((Field::Knob(knob), policy()));
            fields.push((Field::Expected(knob), test.clone()));
        }
        fields
    }

    #[test]
    fn every_field_is_in_the_model() {
        for (field, item) in every_field() {
            assert!(
                item.pointer(&field.pointer()).is_some(),
                "{field:?}: nothing at {} in {item}",
                field.pointer()
            );
        }
    }
}
