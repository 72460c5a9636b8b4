//! Every shape a schema gives a node, as a table the projection walks.
//!
//! Reading shapes from the schema's JSON meant parsing that JSON in every run: a tenth of a
//! one-file `check`. The two schemas bsic embeds get their tables when bsic is built
//! (`build.rs` includes this file and writes them out as Rust, see `compiled.rs`); any other
//! schema (a policy test file's) gets its table at run time. Either way the table is made by
//! [`ShapeTable::of`] from what [`SchemaDoc::shape`] says, so it cannot disagree with the schema.
//!
//! Needs nothing of bsic but [`super::shape`], so the build script can include it.

use std::borrow::Cow;
use std::collections::HashMap;

use serde_json::Value;

use super::shape::{SchemaDoc, Shape};

/// A node's place in its [`ShapeTable`].
pub(crate) type NodeId = usize;

/// The properties of an object node: each name with its node, sorted by name.
pub(crate) type Properties<'a> = [(Cow<'a, str>, NodeId)];

/// The shape of one schema node (after `$ref`s and single-branch wrappers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node<'a> {
    /// An object: properties and child nodes; `argument` names the field the first argument
    /// fills.
    Object {
        properties: Cow<'a, Properties<'a>>,
        argument: Option<Cow<'a, str>>,
    },
    /// An array of the node `items`.
    Array { items: NodeId },
    /// A string, number, boolean or enum.
    Scalar,
}

impl<'a> Node<'a> {
    /// The node of property `name` of `properties`.
    pub fn property(properties: &Properties<'a>, name: &str) -> Option<NodeId> {
        properties
            .binary_search_by(|(key, _)| key.as_ref().cmp(name))
            .ok()
            .map(|index| properties[index].1)
    }
}

/// The shapes of a schema, its root first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeTable<'a> {
    nodes: Cow<'a, [Node<'a>]>,
}

impl<'a> ShapeTable<'a> {
    /// The node of the schema's root.
    pub const ROOT: NodeId = 0;

    /// A table written out when bsic was built.
    pub const fn from_static(nodes: &'a [Node<'a>]) -> Self {
        Self {
            nodes: Cow::Borrowed(nodes),
        }
    }

    /// The table of `schema`, a whole schema document: every node reachable from its root,
    /// each shared node (a `$defs` entry) once.
    pub fn of(schema: &'a Value) -> Self {
        let mut builder = Builder {
            doc: SchemaDoc::new(schema),
            nodes: Vec::new(),
            seen: HashMap::new(),
        };
        builder.add(schema);
        Self {
            nodes: Cow::Owned(builder.nodes),
        }
    }

    /// Every node, [`Self::ROOT`] first.
    pub fn nodes(&self) -> &[Node<'a>] {
        &self.nodes
    }

    /// The node `id`; a scalar for an id the table does not have.
    pub fn node(&self, id: NodeId) -> &Node<'a> {
        self.nodes.get(id).unwrap_or(&Node::Scalar)
    }

    /// The same table, owning its names.
    pub fn into_owned(self) -> ShapeTable<'static> {
        let nodes = self
            .nodes
            .iter()
            .map(|node| match node {
                Node::Object {
                    properties,
                    argument,
                } => Node::Object {
                    properties: properties
                        .iter()
                        .map(|(name, id)| (Cow::Owned(name.to_string()), *id))
                        .collect(),
                    argument: argument.as_ref().map(|a| Cow::Owned(a.to_string())),
                },
                Node::Array { items } => Node::Array { items: *items },
                Node::Scalar => Node::Scalar,
            })
            .collect();
        ShapeTable {
            nodes: Cow::Owned(nodes),
        }
    }
}

struct Builder<'a> {
    doc: SchemaDoc<'a>,
    nodes: Vec<Node<'a>>,
    /// The node made of each resolved schema, by address: a `$ref`'d definition is one node
    /// however often it is used, and a recursive one ends.
    seen: HashMap<*const Value, NodeId>,
}

impl<'a> Builder<'a> {
    fn add(&mut self, schema: &'a Value) -> NodeId {
        let schema = self.doc.resolve(schema);
        if let Some(&id) = self.seen.get(&(schema as *const Value)) {
            return id;
        }
        let id = self.nodes.len();
        self.nodes.push(Node::Scalar);
        self.seen.insert(schema as *const Value, id);
        let node = match self.doc.shape(schema) {
            Shape::Object {
                properties,
                argument,
            } => {
                let mut named: Vec<(Cow<'a, str>, NodeId)> = properties
                    .iter()
                    .map(|(name, value)| (Cow::Borrowed(name.as_str()), self.add(value)))
                    .collect();
                named.sort_by(|a, b| a.0.cmp(&b.0));
                Node::Object {
                    properties: Cow::Owned(named),
                    argument: argument.map(Cow::Borrowed),
                }
            }
            Shape::Array { items } => Node::Array {
                items: self.add(items),
            },
            Shape::Scalar => Node::Scalar,
        };
        self.nodes[id] = node;
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shared_and_recursive_definitions_are_one_node() {
        let schema = json!({
            "type": "object",
            "properties": {
                "b": { "$ref": "#/$defs/item" },
                "a": { "type": "array", "items": { "$ref": "#/$defs/item" } },
            },
            "$defs": {
                "item": {
                    "type": "object",
                    "x-kdl-argument": "name",
                    "properties": {
                        "name": { "type": "string" },
                        "child": { "anyOf": [{ "$ref": "#/$defs/item" }, { "type": "null" }] },
                    },
                },
            },
        });
        let table = ShapeTable::of(&schema);
        let Node::Object { properties, .. } = table.node(ShapeTable::ROOT) else {
            panic!("the root is an object");
        };
        let names: Vec<&str> = properties.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["a", "b"], "sorted by name");
        let b = Node::property(properties, "b");
        let Some(Node::Array { items }) = Node::property(properties, "a").map(|a| table.node(a))
        else {
            panic!("a is an array");
        };
        assert_eq!(Some(*items), b, "one node for the shared definition");
        let Node::Object {
            properties: item,
            argument,
        } = table.node(*items)
        else {
            panic!("the item is an object");
        };
        assert_eq!(argument.as_deref(), Some("name"));
        assert_eq!(Node::property(item, "child"), b, "the recursion ends");
        assert_eq!(
            table.node(Node::property(item, "name").unwrap_or(99)),
            &Node::Scalar
        );
        assert_eq!(Node::property(item, "missing"), None);
        assert_eq!(
            format!("{:?}", table.clone().into_owned()),
            format!("{table:?}")
        );
    }
}
