//! KDL → JSON projection, recording where every value came from.
//!
//! The projection is deliberately lenient: it maps what it can and lets the schema judge the
//! result, so unknown keys, wrong types and bad values are all reported by one validator.
//! It only rejects what the JSON form cannot express (a scalar given twice, arguments where
//! the schema wants properties).

use kdl::{KdlDocument, KdlEntry, KdlNode, KdlValue};
use serde_json::{Map, Value};

use crate::diag::Diagnostic;
use crate::source::{FileId, Span};
use crate::validate::diags::ValidateKind;

use super::shape_table::{Node, NodeId, Properties, ShapeTable};
use super::spans::{Origin, SpanMap, Via, push};

/// Strings longer than this (in bytes) are refused: no policy value needs 64 KiB, and the
/// limit keeps hostile input from ballooning every later copy of the value.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

/// The JSON form of one KDL document, with its span map and any shape problems.
#[derive(Debug)]
pub struct Projection {
    pub value: Value,
    pub spans: SpanMap,
    pub diagnostics: Vec<Diagnostic>,
}

/// Projects `document` (from `file`) following the shapes of an object schema.
pub fn project(document: &KdlDocument, file: FileId, shapes: &ShapeTable<'_>) -> Projection {
    let mut projector = Projector {
        file,
        shapes,
        spans: SpanMap::default(),
        diagnostics: Vec::new(),
    };
    let mut root = Map::new();
    let properties = match shapes.node(ShapeTable::ROOT) {
        Node::Object { properties, .. } => Some(&**properties),
        _ => None,
    };
    projector.children(document.nodes(), properties, "", &mut root);
    Projection {
        value: Value::Object(root),
        spans: projector.spans,
        diagnostics: projector.diagnostics,
    }
}

struct Projector<'s, 't> {
    file: FileId,
    shapes: &'s ShapeTable<'t>,
    spans: SpanMap,
    diagnostics: Vec<Diagnostic>,
}

impl<'s, 't> Projector<'s, 't> {
    fn span(&self, range: miette::SourceSpan) -> Span {
        Span::new(self.file, range)
    }

    /// Projects child nodes into `out`, an object whose schema has `properties`.
    fn children(
        &mut self,
        nodes: &[KdlNode],
        properties: Option<&'s Properties<'t>>,
        pointer: &str,
        out: &mut Map<String, Value>,
    ) {
        for node in nodes {
            let key = node.name().value().to_string();
            let key_span = self.span(node.name().span());
            let node_span = self.span(node.span());
            let child_pointer = push(pointer, &key);
            let Some(shape) = properties.and_then(|p| Node::property(p, &key)) else {
                // Unknown to the schema: project it anyway so the validator reports it.
                let value = self.generic(node, &child_pointer);
                self.spans.insert(
                    child_pointer,
                    Origin {
                        via: Via::Node,
                        key: key_span,
                        value: node_span,
                    },
                );
                out.insert(key, value);
                continue;
            };
            match self.shapes.node(shape) {
                Node::Array { items } => {
                    let array = out
                        .entry(key.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    let Value::Array(array) = array else { continue };
                    let mut items_out = std::mem::take(array);
                    self.spans
                        .insert(child_pointer.clone(), Origin::node(key_span, node_span));
                    self.array_node(node, &key, *items, &child_pointer, &mut items_out);
                    out.insert(key, Value::Array(items_out));
                }
                Node::Object {
                    properties,
                    argument,
                } => {
                    if out.contains_key(&key) {
                        self.duplicate(&key, key_span);
                        continue;
                    }
                    self.spans
                        .insert(child_pointer.clone(), Origin::node(key_span, node_span));
                    let argument = argument.as_deref();
                    let object = self.object_node(node, &key, properties, argument, &child_pointer);
                    out.insert(key, Value::Object(object));
                }
                Node::Scalar => {
                    if out.contains_key(&key) {
                        self.duplicate(&key, key_span);
                        continue;
                    }
                    if let Some(value) = self.scalar_node(node, &key, &child_pointer) {
                        out.insert(key, value);
                    }
                }
            }
        }
    }

    /// A node whose key holds an array: repeated object nodes, or a list of arguments.
    fn array_node(
        &mut self,
        node: &KdlNode,
        key: &str,
        items: NodeId,
        pointer: &str,
        out: &mut Vec<Value>,
    ) {
        let key_span = self.span(node.name().span());
        match self.shapes.node(items) {
            Node::Object {
                properties,
                argument,
            } => {
                let argument = argument.as_deref();
                let item_pointer = push(pointer, &out.len().to_string());
                self.spans.insert(
                    item_pointer.clone(),
                    Origin {
                        via: Via::Node,
                        key: key_span,
                        value: self.span(node.span()),
                    },
                );
                let object = self.object_node(node, key, properties, argument, &item_pointer);
                out.push(Value::Object(object));
            }
            _ => {
                if node.children().is_some() || node.entries().iter().any(|e| e.name().is_some()) {
                    self.wrong_shape(
                        key,
                        "a list of values, e.g. `applies-to \"pilot\" \"engineering\"`",
                        node,
                    );
                }
                for entry in node.entries().iter().filter(|e| e.name().is_none()) {
                    let item_pointer = push(pointer, &out.len().to_string());
                    let value = self.value(entry, &item_pointer);
                    self.spans.insert(
                        item_pointer,
                        Origin {
                            via: Via::Argument,
                            key: key_span,
                            value: self.span(entry.span()),
                        },
                    );
                    out.push(value);
                }
            }
        }
    }

    /// A node whose key holds an object: an optional argument, properties and children.
    fn object_node(
        &mut self,
        node: &KdlNode,
        key: &str,
        properties: &'s Properties<'t>,
        argument: Option<&'s str>,
        pointer: &str,
    ) -> Map<String, Value> {
        let mut object = Map::new();
        let mut arguments = node.entries().iter().filter(|e| e.name().is_none());
        match (argument, arguments.next()) {
            (Some(field), Some(entry)) => {
                let field_pointer = push(pointer, field);
                let value = self.value(entry, &field_pointer);
                let span = self.span(entry.span());
                self.spans.insert(
                    field_pointer,
                    Origin {
                        via: Via::Argument,
                        key: span,
                        value: span,
                    },
                );
                object.insert(field.to_string(), value);
                if arguments.next().is_some() {
                    self.wrong_shape(
                        key,
                        &format!("one {field}; put other values in properties"),
                        node,
                    );
                }
            }
            (None, Some(_)) => {
                self.wrong_shape(key, "properties or a block, not bare values", node);
            }
            (_, None) => {}
        }
        for entry in node.entries() {
            let Some(name) = entry.name() else { continue };
            let prop = name.value().to_string();
            let prop_pointer = push(pointer, &prop);
            if object.contains_key(&prop) {
                self.duplicate(&prop, self.span(name.span()));
                continue;
            }
            let value = self.value(entry, &prop_pointer);
            self.spans.insert(
                prop_pointer,
                Origin {
                    via: Via::Property,
                    key: self.span(name.span()),
                    value: self.span(entry.span()),
                },
            );
            object.insert(prop, value);
        }
        if let Some(children) = node.children() {
            self.children(children.nodes(), Some(properties), pointer, &mut object);
        }
        object
    }

    /// A node whose key holds one value: exactly one argument.
    fn scalar_node(&mut self, node: &KdlNode, key: &str, pointer: &str) -> Option<Value> {
        let key_span = self.span(node.name().span());
        let entries = node.entries();
        let single = match entries {
            [entry] if entry.name().is_none() && node.children().is_none() => Some(entry),
            _ => None,
        };
        let Some(entry) = single else {
            self.wrong_shape(key, "exactly one value", node);
            return None;
        };
        let value = self.value(entry, pointer);
        self.spans.insert(
            pointer.to_string(),
            Origin {
                via: Via::Argument,
                key: key_span,
                value: self.span(entry.span()),
            },
        );
        Some(value)
    }

    /// Projects a node the schema does not know, so the validator can name it.
    fn generic(&mut self, node: &KdlNode, pointer: &str) -> Value {
        match node.entries() {
            [entry] if entry.name().is_none() && node.children().is_none() => {
                self.value(entry, pointer)
            }
            _ => Value::Object(Map::new()),
        }
    }

    fn value(&mut self, entry: &KdlEntry, _pointer: &str) -> Value {
        match entry.value() {
            KdlValue::String(s) if s.len() > MAX_STRING_BYTES => {
                self.diagnostics.push(Diagnostic::error(
                    ValidateKind::StringTooLong {
                        length: s.len(),
                        limit: MAX_STRING_BYTES,
                    },
                    self.span(entry.span()),
                    "this string",
                ));
                Value::Null
            }
            KdlValue::String(s) => {
                // Every string may reach a profile's XML (organization, descriptions, URLs,
                // names), so one XML cannot carry is refused here, where it was written.
                if let Some((_, character)) = crate::model::first_non_xml_char(s) {
                    self.diagnostics.push(Diagnostic::error(
                        ValidateKind::NonXmlCharacter { character },
                        self.span(entry.span()),
                        "this string",
                    ));
                    return Value::Null;
                }
                Value::String(s.clone())
            }
            KdlValue::Integer(i) => match i64::try_from(*i) {
                Ok(i) => Value::from(i),
                Err(_) => {
                    self.diagnostics.push(Diagnostic::error(
                        ValidateKind::IntegerOverflow {
                            value: i.to_string(),
                        },
                        self.span(entry.span()),
                        "too large",
                    ));
                    Value::Null
                }
            },
            KdlValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            KdlValue::Bool(b) => Value::Bool(*b),
            KdlValue::Null => Value::Null,
        }
    }

    fn duplicate(&mut self, key: &str, at: Span) {
        self.diagnostics.push(Diagnostic::error(
            ValidateKind::DuplicateNode {
                node: key.to_string(),
            },
            at,
            "set again here",
        ));
    }

    fn wrong_shape(&mut self, key: &str, expected: &str, node: &KdlNode) {
        self.diagnostics.push(Diagnostic::error(
            ValidateKind::WrongShape {
                node: key.to_string(),
                expected: expected.to_string(),
            },
            self.span(node.span()),
            "here",
        ));
    }
}
