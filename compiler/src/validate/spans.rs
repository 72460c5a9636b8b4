//! The map from JSON pointers in the projection back to KDL source spans.

use std::collections::HashMap;
use std::sync::Arc;

use crate::model::path::Field;
use crate::source::{FileId, Span};

use super::Location;

/// Where one value of the projection came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Whether the value came from a node, a property or an argument.
    pub via: Via,
    /// The node or property name that introduced the value.
    pub key: Span,
    /// The value itself (an argument, a property value, or the whole node for objects).
    pub value: Span,
}

impl Origin {
    /// A value introduced by a node named at `key` and spanning `value`.
    pub fn node(key: Span, value: Span) -> Self {
        Self {
            via: Via::Node,
            key,
            value,
        }
    }
}

/// The KDL construct a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    Node,
    Property,
    Argument,
}

/// JSON pointer (`/policy/0/enforce/0/by`) → origin. Pointers use RFC 6901 escaping.
///
/// The model keeps one entry per value of every policy for the whole run (hundreds of
/// thousands in a 10,000-policy project), so entries are stored packed, and shared: the
/// language server's cache and the model built from it hold one map per file, not two.
/// Pointers are only ever looked up whole, so the map is a hash map (foldhash, fixed seed):
/// inserting into an ordered map compared long common prefixes, 4.5 % of a 1,000-policy
/// `check`.
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    origins: Arc<HashMap<Box<str>, PackedOrigin, foldhash::fast::FixedState>>,
}

/// An [`Origin`] in 24 bytes instead of 56: offsets as `u32` (policy files are far below
/// 4 GiB; see `source::Input::limit`).
#[derive(Debug, Clone, Copy)]
struct PackedOrigin {
    file: FileId,
    key: (u32, u32),
    value: (u32, u32),
    via: Via,
}

impl PackedOrigin {
    fn pack(origin: Origin) -> Self {
        let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            file: origin.value.file,
            key: (narrow(origin.key.offset), narrow(origin.key.len)),
            value: (narrow(origin.value.offset), narrow(origin.value.len)),
            via: origin.via,
        }
    }

    fn unpack(self) -> Origin {
        let span = |(offset, len): (u32, u32)| Span {
            file: self.file,
            offset: offset as usize,
            len: len as usize,
        };
        Origin {
            via: self.via,
            key: span(self.key),
            value: span(self.value),
        }
    }
}

impl SpanMap {
    /// Records where `pointer` came from. The key and the value of one origin are always in
    /// the same file.
    pub fn insert(&mut self, pointer: String, origin: Origin) {
        debug_assert_eq!(origin.key.file, origin.value.file);
        // Copied only if shared, which a map being built never is.
        Arc::make_mut(&mut self.origins)
            .insert(pointer.into_boxed_str(), PackedOrigin::pack(origin));
    }

    /// The origin of `pointer`, or of its nearest ancestor that has one.
    pub fn find(&self, pointer: &str) -> Option<Origin> {
        let mut current = pointer;
        loop {
            if let Some(origin) = self.origins.get(current) {
                return Some(origin.unpack());
            }
            let cut = current.rfind('/')?;
            current = &current[..cut];
        }
    }

    /// Where `field` of the item at `at` was written: the field's own origin or, when the
    /// item does not set the field, that of the nearest enclosing value it does set (the
    /// item's node at worst). Never an origin outside the item: an item the map does not know
    /// is an internal error.
    pub fn locate(&self, at: &Location, field: Field) -> Origin {
        let pointer = format!("{}{}", at.pointer, field.pointer());
        let mut current = pointer.as_str();
        loop {
            if let Some(origin) = self.origins.get(current) {
                return origin.unpack();
            }
            match current.rfind('/') {
                Some(cut) if cut >= at.pointer.len() => current = &current[..cut],
                _ => return not_found(at, field),
            }
        }
    }

    /// The span of the value at `pointer` (or its nearest ancestor's).
    pub fn value(&self, pointer: &str) -> Option<Span> {
        self.find(pointer).map(|o| o.value)
    }

    /// The span of the key that introduced `pointer` (or its nearest ancestor's).
    pub fn key(&self, pointer: &str) -> Option<Span> {
        self.find(pointer).map(|o| o.key)
    }

    /// The origins under `prefix`, re-rooted so that `prefix` becomes the empty pointer: the
    /// span map of one embedded document (e.g. one payload of a profile).
    pub fn subtree(&self, prefix: &str) -> SpanMap {
        let origins = self
            .origins
            .iter()
            .filter_map(|(pointer, origin)| {
                let rest = pointer.strip_prefix(prefix)?;
                (rest.is_empty() || rest.starts_with('/')).then(|| (Box::from(rest), *origin))
            })
            .collect();
        SpanMap {
            origins: Arc::new(origins),
        }
    }
}

/// An item the span map does not know is an internal error (the model and its span map
/// disagree): debug builds, and so every test that reaches a diagnostic, panic; release
/// builds point at the start of the file rather than stop the run.
pub(super) fn not_found(at: &Location, field: Field) -> Origin {
    if cfg!(debug_assertions) {
        panic!("internal error: no source span for {field:?} of {at:?}");
    }
    let start = Span::start_of(at.file);
    Origin::node(start, start)
}

/// Appends one segment to a JSON pointer, escaping `~` and `/`.
pub fn push(pointer: &str, segment: &str) -> String {
    // One allocation: the projection calls this for every value of every file.
    let mut out = String::with_capacity(pointer.len() + 1 + segment.len());
    out.push_str(pointer);
    out.push('/');
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nearest_ancestor() {
        let span = Span {
            file: FileId(0),
            offset: 3,
            len: 4,
        };
        let mut map = SpanMap::default();
        map.insert(
            "/policy/0".into(),
            Origin {
                via: Via::Node,
                key: span,
                value: span,
            },
        );
        assert_eq!(map.value("/policy/0/enforce/1/by"), Some(span));
        assert_eq!(map.value("/group/0"), None);
        assert_eq!(push("/a", "b/c~"), "/a/b~1c~0");
    }

    fn span(offset: usize) -> Span {
        Span {
            file: FileId(0),
            offset,
            len: 1,
        }
    }

    fn policy_at(index: usize) -> Location {
        Location {
            file: FileId(0),
            pointer: format!("/policy/{index}"),
        }
    }

    #[test]
    fn locates_a_field_or_else_its_item() {
        let mut map = SpanMap::default();
        map.insert("/policy/1".into(), Origin::node(span(10), span(10)));
        map.insert("/policy/1/name".into(), Origin::node(span(11), span(12)));
        assert_eq!(map.locate(&policy_at(1), Field::Name).value, span(12));
        assert_eq!(map.locate(&policy_at(1), Field::Name).key, span(11));
        // A field the policy does not set: the policy's node.
        assert_eq!(map.locate(&policy_at(1), Field::Platforms).value, span(10));
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "internal error: no source span")]
    fn an_unknown_item_is_an_internal_error() {
        let mut map = SpanMap::default();
        map.insert("/policy/1".into(), Origin::node(span(10), span(10)));
        // `/policy/10` must not resolve to `/policy/1`, nor to anything above the item.
        map.locate(&policy_at(10), Field::Name);
    }
}
