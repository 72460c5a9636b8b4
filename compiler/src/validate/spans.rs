//! The map from JSON pointers in the projection back to KDL source spans.

use std::collections::BTreeMap;

use crate::source::Span;

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
#[derive(Debug, Clone, Default)]
pub struct SpanMap {
    origins: BTreeMap<String, Origin>,
}

impl SpanMap {
    pub fn insert(&mut self, pointer: String, origin: Origin) {
        self.origins.insert(pointer, origin);
    }

    /// The origin of `pointer`, or of its nearest ancestor that has one.
    pub fn find(&self, pointer: &str) -> Option<Origin> {
        let mut current = pointer;
        loop {
            if let Some(origin) = self.origins.get(current) {
                return Some(*origin);
            }
            let cut = current.rfind('/')?;
            current = &current[..cut];
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
                (rest.is_empty() || rest.starts_with('/')).then(|| (rest.to_string(), *origin))
            })
            .collect();
        SpanMap { origins }
    }
}

/// Appends one segment to a JSON pointer, escaping `~` and `/`.
pub fn push(pointer: &str, segment: &str) -> String {
    format!(
        "{pointer}/{}",
        segment.replace('~', "~0").replace('/', "~1")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

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
}
