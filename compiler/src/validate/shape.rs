//! Reading a node's KDL shape out of the JSON Schema.
//!
//! The schema says whether a key holds an object, an array or a scalar; the projection follows
//! it, so the language and the schema cannot drift apart.

use serde_json::{Map, Value};

/// The shape of a key's value, as the schema declares it.
#[derive(Debug, Clone, Copy)]
pub enum Shape<'s> {
    /// An object: properties and child nodes; `argument` names the field the first argument fills.
    Object {
        properties: &'s Map<String, Value>,
        argument: Option<&'s str>,
    },
    /// An array of the given item schema.
    Array { items: &'s Value },
    /// A string, number, boolean or enum.
    Scalar,
}

/// A schema document and its `$defs`.
#[derive(Debug, Clone, Copy)]
pub struct SchemaDoc<'s> {
    root: &'s Value,
}

impl<'s> SchemaDoc<'s> {
    pub fn new(root: &'s Value) -> Self {
        Self { root }
    }

    pub fn root(&self) -> &'s Value {
        self.root
    }

    /// Follows `$ref`s and unwraps single-branch `anyOf`/`allOf` wrappers.
    pub fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        for _ in 0..16 {
            if let Some(name) = schema.get("$ref").and_then(Value::as_str) {
                let Some(target) = name.strip_prefix("#/").map(|p| p.split('/')) else {
                    break;
                };
                let mut node = self.root;
                for part in target {
                    match node.get(part) {
                        Some(next) => node = next,
                        None => return schema,
                    }
                }
                schema = node;
                continue;
            }
            let single = ["anyOf", "allOf", "oneOf"].iter().find_map(|k| {
                let branches = schema.get(*k)?.as_array()?;
                let real: Vec<&Value> = branches
                    .iter()
                    .filter(|b| b.get("type") != Some(&Value::from("null")))
                    .collect();
                (real.len() == 1).then(|| real[0])
            });
            match single {
                Some(inner) => schema = inner,
                None => break,
            }
        }
        schema
    }

    /// The shape of `schema`.
    pub fn shape(&self, schema: &'s Value) -> Shape<'s> {
        let schema = self.resolve(schema);
        if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
            let argument = schema.get("x-kdl-argument").and_then(Value::as_str);
            return Shape::Object {
                properties,
                argument,
            };
        }
        if has_type(schema, "array")
            && let Some(items) = schema.get("items")
        {
            return Shape::Array { items };
        }
        Shape::Scalar
    }
}

fn has_type(schema: &Value, wanted: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == wanted,
        Some(Value::Array(types)) => types.iter().any(|t| t == wanted),
        _ => false,
    }
}

impl<'s> SchemaDoc<'s> {
    /// The schema that applies at a JSON pointer of the instance, if the schema defines one.
    pub fn at(&self, pointer: &str) -> Option<&'s Value> {
        let mut schema = self.root;
        for segment in pointer.split('/').skip(1) {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            schema = match self.shape(schema) {
                Shape::Object { properties, .. } => properties.get(&segment)?,
                Shape::Array { items } => items,
                Shape::Scalar => return None,
            };
        }
        Some(self.resolve(schema))
    }

    /// The property names an object schema at `pointer` accepts, in schema order.
    pub fn property_names(&self, pointer: &str) -> Vec<String> {
        match self.at(pointer).map(|s| self.shape(s)) {
            Some(Shape::Object {
                properties,
                argument,
            }) => properties
                .keys()
                .filter(|k| Some(k.as_str()) != argument)
                .cloned()
                .collect(),
            _ => Vec::new(),
        }
    }
}
