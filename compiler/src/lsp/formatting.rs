//! `textDocument/formatting`: the buffer in `bsic fmt`'s canonical form.
//!
//! In: a buffer's text. Out: one edit replacing the whole document with what
//! [`formatter::format`] prints, no edit when the text is already canonical, and nothing at all
//! (`None`, sent as `null`) when the text cannot be formatted — a buffer that is not valid KDL
//! is left alone, its diagnostics already say why. The editor's formatting options are not
//! consulted: the canonical form is the one `bsic fmt` writes.

use lsp_types::TextEdit;

use crate::formatter;

use super::position::range_of;

const BOM: char = '\u{feff}';

/// The edits that turn `text` into its canonical form, or `None` when it does not format.
pub(crate) fn edits(text: &str) -> Option<Vec<TextEdit>> {
    let formatted = formatter::format(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    // The range starts after a byte-order mark (editors drop it from the buffer, and
    // positions do not count it), so the new text leaves it out too.
    let new_text = match (text.starts_with(BOM), formatted.strip_prefix(BOM)) {
        (true, Some(rest)) => rest.to_string(),
        _ => formatted,
    };
    Some(vec![TextEdit::new(range_of(text, 0, text.len()), new_text)])
}

#[cfg(test)]
mod tests {
    use lsp_types::{Position, Range};

    use super::*;

    #[test]
    fn a_buffer_that_does_not_parse_gets_no_edits() {
        for text in [
            "policy \"x\" {",
            "policy \"x\" { \u{0}}}}{{\"é😀 /* ",
            "}}}",
            "policy \"unterminated",
        ] {
            assert_eq!(edits(text), None, "{text:?}");
        }
    }

    #[test]
    fn a_canonical_buffer_gets_an_empty_list() {
        let text = "policy \"x\" {\n    applies-to \"pilot\"\n}\n";
        assert_eq!(formatter::format(text).unwrap(), text);
        assert_eq!(edits(text), Some(Vec::new()));
        assert_eq!(edits(""), Some(Vec::new()));
    }

    #[test]
    fn one_edit_replaces_the_whole_buffer_counting_utf16_units() {
        // The last line ends in `😀` (2 UTF-16 units, 4 bytes) and has no newline.
        let text = "policy \"x\" {\n  applies-to \"pilot\" }   // é😀";
        let edits = edits(text).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(
            edits[0].range,
            Range::new(Position::new(0, 0), Position::new(1, 31))
        );
        assert_eq!(edits[0].new_text, formatter::format(text).unwrap());
        assert_eq!(super::edits(&edits[0].new_text), Some(Vec::new()));
    }

    #[test]
    fn a_byte_order_mark_stays_out_of_the_edit() {
        let text = "\u{feff}policy \"x\" {\n  applies-to \"pilot\"\n}\n";
        let edits = edits(text).unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].range.start, Position::new(0, 0));
        assert_eq!(edits[0].range.end, Position::new(3, 0));
        assert!(!edits[0].new_text.starts_with(BOM));
        assert_eq!(
            edits[0].new_text,
            "policy \"x\" {\n    applies-to \"pilot\"\n}\n"
        );
    }
}
