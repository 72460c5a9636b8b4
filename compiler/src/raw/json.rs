//! DDM declaration JSON → JSON value plus a pointer → span map.
//!
//! In: the text of one file. Out: a [`Projection`] (value, spans) or located diagnostics.
//! Parsing is done by `jsonc-parser` in strict mode (no comments, no trailing commas, no
//! JSON5); this module only walks its spanned tree. Duplicate keys and integers beyond 64 bits
//! are errors: a device keeps one of the duplicates, and no Apple key takes such a number.

use jsonc_parser::ast::{self, ObjectPropName};
use jsonc_parser::common::Range;
use jsonc_parser::{CollectOptions, ParseOptions};
use serde_json::{Map, Number, Value};

use crate::diag::Diagnostic;
use crate::raw::diags::RawKind;
use crate::source::diags::SourceKind;
use crate::source::{FileId, Span};
use crate::validate::diags::ValidateKind;
use crate::validate::{Origin, Projection, SpanMap, Via, push_pointer};

/// Parses `text` strictly; a syntax error is the one diagnostic of the result.
pub fn parse(text: &str, file: FileId) -> Result<Projection, Box<Diagnostic>> {
    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let text_start = text.len() - text.trim_start_matches('\u{feff}').len();
    let body = &text[text_start..];
    let parsed = jsonc_parser::parse_to_ast(body, &CollectOptions::default(), &options).map_err(
        |error| {
            let range = error.range();
            Box::new(Diagnostic::error(
                SourceKind::Syntax {
                    message: format!("invalid JSON: {}", error.kind()),
                    help: Some(
                        "DDM declarations are strict JSON: no comments, trailing commas or \
                         single quotes"
                            .into(),
                    ),
                },
                span(file, text_start, range),
                "here",
            ))
        },
    )?;
    let Some(root) = parsed.value else {
        return Err(Box::new(Diagnostic::error(
            SourceKind::Syntax {
                message: "the file holds no JSON value".into(),
                help: None,
            },
            Span::start_of(file),
            "empty",
        )));
    };
    let mut walker = Walker {
        file,
        shift: text_start,
        spans: SpanMap::default(),
        diagnostics: Vec::new(),
    };
    let whole = span(file, text_start, root_range(&root));
    walker.spans.insert(
        String::new(),
        Origin {
            via: Via::Node,
            key: whole,
            value: whole,
        },
    );
    let value = walker.value(&root, "");
    Ok(Projection {
        value,
        spans: walker.spans,
        diagnostics: walker.diagnostics,
    })
}

fn span(file: FileId, shift: usize, range: Range) -> Span {
    Span {
        file,
        offset: shift + range.start,
        len: range.end.saturating_sub(range.start),
    }
}

fn root_range(value: &ast::Value<'_>) -> Range {
    match value {
        ast::Value::StringLit(v) => v.range,
        ast::Value::NumberLit(v) => v.range,
        ast::Value::BooleanLit(v) => v.range,
        ast::Value::Object(v) => v.range,
        ast::Value::Array(v) => v.range,
        ast::Value::NullKeyword(v) => v.range,
    }
}

struct Walker {
    file: FileId,
    shift: usize,
    spans: SpanMap,
    diagnostics: Vec<Diagnostic>,
}

impl Walker {
    fn span(&self, range: Range) -> Span {
        span(self.file, self.shift, range)
    }

    fn value(&mut self, value: &ast::Value<'_>, pointer: &str) -> Value {
        match value {
            ast::Value::StringLit(s) => Value::String(s.value.to_string()),
            ast::Value::BooleanLit(b) => Value::Bool(b.value),
            ast::Value::NullKeyword(_) => Value::Null,
            ast::Value::NumberLit(n) => self.number(n.value, n.range),
            ast::Value::Array(array) => {
                let mut items = Vec::with_capacity(array.elements.len());
                for (index, element) in array.elements.iter().enumerate() {
                    let child = format!("{pointer}/{index}");
                    let at = self.span(root_range(element));
                    self.spans.insert(
                        child.clone(),
                        Origin {
                            via: Via::Argument,
                            key: at,
                            value: at,
                        },
                    );
                    items.push(self.value(element, &child));
                }
                Value::Array(items)
            }
            ast::Value::Object(object) => {
                let mut map = Map::new();
                let mut first_seen: Vec<(&str, Span)> = Vec::new();
                for property in &object.properties {
                    let (name, name_range) = match &property.name {
                        ObjectPropName::String(s) => (s.value.as_ref(), s.range),
                        ObjectPropName::Word(w) => (w.value, w.range),
                    };
                    let key = self.span(name_range);
                    let child = push_pointer(pointer, name);
                    if let Some((_, earlier)) = first_seen.iter().find(|(n, _)| *n == name) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                RawKind::DuplicateKey { key: name.into() },
                                key,
                                "set again here",
                            )
                            .with_related(*earlier, "first set here"),
                        );
                        continue;
                    }
                    first_seen.push((name, key));
                    self.spans.insert(
                        child.clone(),
                        Origin {
                            via: Via::Property,
                            key,
                            value: self.span(root_range(&property.value)),
                        },
                    );
                    let inner = self.value(&property.value, &child);
                    map.insert(name.to_string(), inner);
                }
                Value::Object(map)
            }
        }
    }

    fn number(&mut self, text: &str, range: Range) -> Value {
        let integral = !text.contains(['.', 'e', 'E']);
        if integral {
            if let Ok(i) = text.parse::<i64>() {
                return Value::from(i);
            }
            if let Ok(u) = text.parse::<u64>() {
                return Value::from(u);
            }
            self.diagnostics.push(Diagnostic::error(
                ValidateKind::IntegerOverflow {
                    value: text.to_string(),
                },
                self.span(range),
                "too large",
            ));
            return Value::Null;
        }
        match text.parse::<f64>().ok().and_then(Number::from_f64) {
            Some(n) if n.as_f64().is_some_and(f64::is_finite) => Value::Number(n),
            _ => {
                self.diagnostics.push(Diagnostic::error(
                    ValidateKind::IntegerOverflow {
                        value: text.to_string(),
                    },
                    self.span(range),
                    "not a finite 64-bit number",
                ));
                Value::Null
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_keys_and_values_to_spans() {
        let text = "{\n  \"Payload\": {\"A\": 1, \"B\": [true]}\n}";
        let projection = parse(text, FileId(0)).unwrap();
        let a = projection.spans.find("/Payload/A").unwrap();
        assert_eq!(&text[a.key.offset..a.key.offset + a.key.len], "\"A\"");
        assert_eq!(&text[a.value.offset..a.value.offset + a.value.len], "1");
        let b = projection.spans.value("/Payload/B/0").unwrap();
        assert_eq!(&text[b.offset..b.offset + b.len], "true");
    }

    #[test]
    fn rejects_what_strict_json_forbids() {
        for bad in ["{\"a\": 1,}", "// c\n{}", "{'a': 1}", "{\"a\": ", ""] {
            assert!(parse(bad, FileId(0)).is_err(), "{bad}");
        }
        let dup = parse("{\"a\": 1, \"a\": 2}", FileId(0)).unwrap();
        assert_eq!(dup.diagnostics[0].code(), "bsic::duplicate-key");
        let big = parse("{\"a\": 123456789012345678901234567890}", FileId(0)).unwrap();
        assert_eq!(big.diagnostics[0].code(), "bsic::integer-overflow");
    }
}
