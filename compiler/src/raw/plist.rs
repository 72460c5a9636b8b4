//! Configuration profiles (XML or binary plists) → JSON value plus a pointer → span map.
//!
//! In: the bytes of one file. Out: a [`Projection`] or a located syntax error. XML is read as
//! `quick-xml` events with byte positions, so every key and value keeps its place in the text;
//! a binary plist is read by the `plist` crate and has no positions (its diagnostics point at
//! the file). This module never interprets payload types: that is `raw::mod`'s job.

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Number, Value};

use crate::diag::{Diagnostic, Kind};
use crate::raw::diags::RawKind;
use crate::source::diags::SourceKind;
use crate::source::{FileId, Span};
use crate::validate::diags::ValidateKind;
use crate::validate::{Origin, Projection, SpanMap, Via, push_pointer};

/// Deepest nesting of dicts and arrays accepted.
pub const MAX_DEPTH: usize = 64;

/// True when `bytes` start like a binary plist.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(b"bplist")
}

/// Reads a binary plist; spans all point at the file.
pub fn parse_binary(bytes: &[u8], file: FileId) -> Result<Projection, Box<Diagnostic>> {
    let value = plist::Value::from_reader(std::io::Cursor::new(bytes)).map_err(|error| {
        Box::new(Diagnostic::error(
            SourceKind::Syntax {
                message: format!("invalid binary plist: {error}"),
                help: None,
            },
            Span::start_of(file),
            "in this file",
        ))
    })?;
    Ok(Projection {
        value: crate::apple::plist::to_json(&value),
        spans: SpanMap::default(),
        diagnostics: Vec::new(),
    })
}

/// Parses an XML plist. `text` may start with a byte-order mark and use CRLF line ends.
pub fn parse_xml(text: &str, file: FileId) -> Result<Projection, Box<Diagnostic>> {
    let shift = text.len() - text.trim_start_matches('\u{feff}').len();
    let body = &text[shift..];
    // XML 1.0 has no place for these characters, in text, names or markup alike, and
    // Apple's parser refuses the profile; quick-xml would read them without a word.
    if let Some((at, character)) = crate::model::first_non_xml_char(body) {
        return Err(Box::new(Diagnostic::error(
            ValidateKind::NonXmlCharacter { character },
            Span {
                file,
                offset: shift + at,
                len: character.len_utf8(),
            },
            "this character",
        )));
    }
    let mut parser = Parser {
        reader: Reader::from_str(body),
        file,
        shift,
        spans: SpanMap::default(),
        diagnostics: Vec::new(),
    };
    let value = parser.document()?;
    Ok(Projection {
        value,
        spans: parser.spans,
        diagnostics: parser.diagnostics,
    })
}

/// One element-level event with its byte range in the body.
enum Item {
    Open(String),
    Empty(String),
    Close(String),
    /// Text content followed by the closing tag `name`.
    Text(String, String),
    Eof,
}

struct Parser<'t> {
    reader: Reader<&'t [u8]>,
    file: FileId,
    shift: usize,
    spans: SpanMap,
    diagnostics: Vec<Diagnostic>,
}

impl Parser<'_> {
    fn position(&self) -> usize {
        usize::try_from(self.reader.buffer_position()).unwrap_or(usize::MAX)
    }

    fn span(&self, start: usize, end: usize) -> Span {
        Span {
            file: self.file,
            offset: self.shift + start,
            len: end.saturating_sub(start),
        }
    }

    fn error(&self, message: impl Into<String>, start: usize, end: usize) -> Box<Diagnostic> {
        Box::new(Diagnostic::error(
            SourceKind::Syntax {
                message: message.into(),
                help: Some(
                    "a profile is an XML property list: <plist><dict>…</dict></plist>".into(),
                ),
            },
            self.span(start, end.max(start + 1)),
            "here",
        ))
    }

    /// The next element event, skipping comments, declarations and whitespace-only text.
    fn next(&mut self) -> Result<(Item, usize), Box<Diagnostic>> {
        let mut text = String::new();
        let mut text_start = None;
        loop {
            let start = self.position();
            let event = match self.reader.read_event() {
                Ok(event) => event,
                Err(error) => {
                    let at = usize::try_from(self.reader.error_position()).unwrap_or(start);
                    return Err(self.error(format!("invalid XML: {error}"), at, at + 1));
                }
            };
            let item = match event {
                Event::Start(tag) => Item::Open(tag.name().as_ref().to_string()),
                Event::Empty(tag) => Item::Empty(tag.name().as_ref().to_string()),
                Event::End(tag) => Item::Close(tag.name().as_ref().to_string()),
                Event::Text(t) => {
                    text_start.get_or_insert(start);
                    text.push_str(&t.xml10_content());
                    continue;
                }
                Event::CData(t) => {
                    text_start.get_or_insert(start);
                    text.push_str(&t.xml10_content());
                    continue;
                }
                Event::GeneralRef(r) => {
                    text_start.get_or_insert(start);
                    let name = r.xml10_content();
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        Ok(None) => {
                            quick_xml::escape::resolve_predefined_entity(&name).map(String::from)
                        }
                        Err(_) => None,
                    };
                    if let Some(character) = resolved
                        .as_deref()
                        .and_then(|s| s.chars().find(|c| !crate::model::is_xml_char(*c)))
                    {
                        let end = self.position();
                        return Err(Box::new(Diagnostic::error(
                            ValidateKind::NonXmlCharacter { character },
                            self.span(start, end),
                            "this character reference",
                        )));
                    }
                    match resolved {
                        Some(s) => text.push_str(&s),
                        None => {
                            let end = self.position();
                            return Err(self.error(
                                format!("unknown XML entity `&{name};`"),
                                start,
                                end,
                            ));
                        }
                    }
                    continue;
                }
                Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => continue,
                Event::Eof => Item::Eof,
            };
            if let Some(text_at) = text_start
                && !text.trim().is_empty()
            {
                // In a valid plist, text only ever comes right before a closing tag.
                return match item {
                    Item::Close(name) => Ok((Item::Text(text, name), text_at)),
                    _ => {
                        let end = self.position();
                        Err(self.error("unexpected text between elements", text_at, end))
                    }
                };
            }
            return Ok((item, start));
        }
    }

    fn document(&mut self) -> Result<Value, Box<Diagnostic>> {
        match self.next()? {
            (Item::Open(name), _) if name == "plist" => {}
            (_, at) => {
                let end = self.position();
                return Err(self.error("expected a <plist> element", at, end));
            }
        }
        let (item, at) = self.next()?;
        let value = self.value(item, at, "", 0)?;
        match self.next()? {
            (Item::Close(name), _) if name == "plist" => {}
            (_, at) => {
                let end = self.position();
                return Err(self.error("expected </plist> after the top-level value", at, end));
            }
        }
        match self.next()? {
            (Item::Eof, _) => Ok(value),
            (_, at) => {
                let end = self.position();
                Err(self.error("unexpected content after </plist>", at, end))
            }
        }
    }

    /// Text content up to the closing `</name>`.
    fn text_until(&mut self, name: &str, open_end: usize) -> Result<String, Box<Diagnostic>> {
        match self.next()? {
            (Item::Close(closing), _) if closing == name => Ok(String::new()),
            (Item::Text(text, closing), at) => {
                if closing == name {
                    Ok(text)
                } else {
                    let end = self.position();
                    Err(self.error(format!("expected </{name}>"), at, end))
                }
            }
            (_, at) => {
                let end = self.position();
                Err(self.error(
                    format!("expected text and </{name}>"),
                    at.min(open_end),
                    end,
                ))
            }
        }
    }

    fn value(
        &mut self,
        item: Item,
        start: usize,
        pointer: &str,
        depth: usize,
    ) -> Result<Value, Box<Diagnostic>> {
        let (name, empty) = match item {
            Item::Open(name) => (name, false),
            Item::Empty(name) => (name, true),
            _ => {
                let end = self.position();
                return Err(self.error("expected a value element", start, end));
            }
        };
        if depth > MAX_DEPTH {
            let end = self.position();
            return Err(Box::new(Diagnostic::error(
                SourceKind::TooDeep {
                    depth,
                    limit: MAX_DEPTH,
                },
                self.span(start, end),
                "too deep",
            )));
        }
        let open_end = self.position();
        let value = match name.as_str() {
            "dict" if empty => Value::Object(Map::new()),
            "array" if empty => Value::Array(Vec::new()),
            "dict" => self.dict(pointer, depth)?,
            "array" => self.array(pointer, depth)?,
            "true" | "false" => {
                if !empty {
                    self.text_until(&name, open_end)?;
                }
                Value::Bool(name == "true")
            }
            "string" | "date" | "data" | "integer" | "real" => {
                let text = if empty {
                    String::new()
                } else {
                    self.text_until(&name, open_end)?
                };
                let end = self.position();
                self.scalar(&name, &text, start, end)
            }
            other => {
                let end = self.position();
                return Err(self.error(
                    format!("`<{other}>` is not a plist value element"),
                    start,
                    end,
                ));
            }
        };
        let end = self.position();
        self.spans.insert(
            pointer.to_string(),
            match self.spans.find(pointer) {
                Some(origin) if !pointer.is_empty() => Origin {
                    value: self.span(start, end),
                    ..origin
                },
                _ => Origin {
                    via: Via::Node,
                    key: self.span(start, end),
                    value: self.span(start, end),
                },
            },
        );
        Ok(value)
    }

    fn scalar(&mut self, kind: &str, text: &str, start: usize, end: usize) -> Value {
        match kind {
            "string" | "date" => Value::String(text.to_string()),
            "data" => Value::String(text.chars().filter(|c| !c.is_whitespace()).collect()),
            "integer" => {
                let trimmed = text.trim();
                if let Ok(i) = trimmed.parse::<i64>() {
                    Value::from(i)
                } else if let Ok(u) = trimmed.parse::<u64>() {
                    Value::from(u)
                } else {
                    let kind: Kind = if trimmed
                        .trim_start_matches('-')
                        .chars()
                        .all(|c| c.is_ascii_digit())
                        && !trimmed.is_empty()
                    {
                        ValidateKind::IntegerOverflow {
                            value: trimmed.to_string(),
                        }
                        .into()
                    } else {
                        SourceKind::Syntax {
                            message: format!("`{trimmed}` is not an integer"),
                            help: Some("write a whole number, e.g. <integer>1</integer>".into()),
                        }
                        .into()
                    };
                    self.diagnostics
                        .push(Diagnostic::error(kind, self.span(start, end), "here"));
                    Value::Null
                }
            }
            _ => match text.trim().parse::<f64>().ok().and_then(Number::from_f64) {
                Some(n) => Value::Number(n),
                None => {
                    self.diagnostics.push(Diagnostic::error(
                        SourceKind::Syntax {
                            message: format!("`{}` is not a real number", text.trim()),
                            help: None,
                        },
                        self.span(start, end),
                        "here",
                    ));
                    Value::Null
                }
            },
        }
    }

    fn dict(&mut self, pointer: &str, depth: usize) -> Result<Value, Box<Diagnostic>> {
        let mut map = Map::new();
        let mut seen: Vec<(String, Span)> = Vec::new();
        loop {
            let (item, at) = self.next()?;
            match item {
                Item::Close(name) if name == "dict" => return Ok(Value::Object(map)),
                Item::Open(name) if name == "key" => {
                    let key_start = self.position();
                    let key = self.text_until("key", key_start)?;
                    let key_end = self.position().saturating_sub("</key>".len());
                    let key_span = self.span(key_start, key_end);
                    let (item, value_at) = self.next()?;
                    let child = push_pointer(pointer, &key);
                    if let Some((_, earlier)) = seen.iter().find(|(k, _)| *k == key) {
                        self.diagnostics.push(
                            Diagnostic::error(
                                RawKind::DuplicateKey { key: key.clone() },
                                key_span,
                                "set again here",
                            )
                            .with_related(*earlier, "first set here"),
                        );
                        let mut scratch = SpanMap::default();
                        std::mem::swap(&mut scratch, &mut self.spans);
                        let _ = self.value(item, value_at, &child, depth + 1);
                        std::mem::swap(&mut scratch, &mut self.spans);
                        continue;
                    }
                    seen.push((key.clone(), key_span));
                    self.spans.insert(
                        child.clone(),
                        Origin {
                            via: Via::Property,
                            key: key_span,
                            value: key_span,
                        },
                    );
                    let value = self.value(item, value_at, &child, depth + 1)?;
                    map.insert(key, value);
                }
                _ => {
                    let end = self.position();
                    return Err(self.error("expected <key> or </dict>", at, end));
                }
            }
        }
    }

    fn array(&mut self, pointer: &str, depth: usize) -> Result<Value, Box<Diagnostic>> {
        let mut items = Vec::new();
        loop {
            let (item, at) = self.next()?;
            if matches!(&item, Item::Close(name) if name == "array") {
                return Ok(Value::Array(items));
            }
            let child = format!("{pointer}/{}", items.len());
            let value = self.value(item, at, &child, depth + 1)?;
            items.push(value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\r\n<plist version=\"1.0\">\r\n<dict>\r\n\t<key>A &amp; B</key>\r\n\t<string>x</string>\r\n\t<key>List</key>\r\n\t<array><dict><key>N</key><integer>3</integer></dict><true/></array>\r\n</dict>\r\n</plist>\r\n";

    #[test]
    fn reads_values_and_locates_keys() {
        let p = parse_xml(PROFILE, FileId(0)).unwrap();
        assert_eq!(
            p.value,
            serde_json::json!({"A & B": "x", "List": [{"N": 3}, true]})
        );
        let key = p.spans.key("/List/0/N").unwrap();
        assert_eq!(&PROFILE[key.offset..key.offset + key.len], "N");
        let value = p.spans.value("/List/0/N").unwrap();
        assert_eq!(
            &PROFILE[value.offset..value.offset + value.len],
            "<integer>3</integer>"
        );
    }

    #[test]
    fn rejects_broken_xml() {
        for bad in [
            "<plist><dict><key>A</key></dict></plist>",
            "<plist><dict><key>A</key><string>x</dict></plist>",
            "<plist><dict>",
            "",
            "<plist><foo/></plist>",
        ] {
            assert!(parse_xml(bad, FileId(0)).is_err(), "{bad}");
        }
        let dup = parse_xml(
            "<plist><dict><key>A</key><true/><key>A</key><false/></dict></plist>",
            FileId(0),
        )
        .unwrap();
        assert_eq!(dup.diagnostics[0].code(), "bsic::duplicate-key");
    }

    #[test]
    fn refuses_characters_xml_cannot_carry_raw_or_escaped() {
        for (bad, at) in [
            ("<plist><string>Evil\u{1}Corp</string></plist>", 19),
            ("<plist><string>Evil&#1;Corp</string></plist>", 19),
            ("<plist><string>Evil&#x1B;Corp</string></plist>", 19),
            ("<plist><string>\u{fffe}</string></plist>", 15),
            ("<plist><string>&#xFFFF;</string></plist>", 15),
            ("<plist><dict><key>A\u{0}</key><true/></dict></plist>", 19),
        ] {
            let error = parse_xml(bad, FileId(0)).expect_err(bad);
            assert_eq!(error.code(), "bsic::non-xml-character", "{bad}");
            assert_eq!(error.at.offset, at, "{bad}");
        }
        let fine = parse_xml("<plist><string>a&#9;b&#10;c</string></plist>", FileId(0)).unwrap();
        assert_eq!(fine.value, serde_json::json!("a\tb\nc"));
    }
}
