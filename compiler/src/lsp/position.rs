//! Byte offsets ↔ LSP positions.
//!
//! bsic's spans are byte offsets into UTF-8 text; LSP positions are a zero-based line and a
//! character count in UTF-16 code units. Both directions clamp out-of-range input instead of
//! failing, so a stale position from the editor never panics the server. A byte-order mark at
//! the start of a file is not a column: editors drop it from the buffer.

use lsp_types::{Position, Range};

const BOM: char = '\u{feff}';

/// The largest char boundary of `text` at or before `offset`.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The LSP position of a byte offset.
pub(crate) fn position_at(text: &str, offset: usize) -> Position {
    let offset = floor_boundary(text, offset);
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let mut units: usize = before[line_start..].encode_utf16().count();
    if line == 0 && text.starts_with(BOM) && offset > 0 {
        units = units.saturating_sub(1);
    }
    Position::new(
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(units).unwrap_or(u32::MAX),
    )
}

/// The LSP range of a byte range.
pub(crate) fn range_of(text: &str, offset: usize, len: usize) -> Range {
    Range::new(
        position_at(text, offset),
        position_at(text, offset.saturating_add(len)),
    )
}

/// The byte offset of an LSP position: the end of the line when the character is past it,
/// the end of the text when the line is.
pub(crate) fn offset_at(text: &str, position: Position) -> usize {
    let mut line_start = 0;
    for _ in 0..position.line {
        match text[line_start..].find('\n') {
            Some(i) => line_start += i + 1,
            None => return text.len(),
        }
    }
    let mut offset = line_start;
    if line_start == 0 && text.starts_with(BOM) {
        offset += BOM.len_utf8();
    }
    let mut units = 0usize;
    let wanted = position.character as usize;
    for c in text[offset..].chars() {
        if units >= wanted || c == '\n' {
            break;
        }
        units += c.len_utf16();
        offset += c.len_utf8();
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_offsets_map_to_line_and_column() {
        let text = "ab\ncde\n";
        assert_eq!(position_at(text, 0), Position::new(0, 0));
        assert_eq!(position_at(text, 4), Position::new(1, 1));
        assert_eq!(position_at(text, 7), Position::new(2, 0));
        assert_eq!(offset_at(text, Position::new(1, 1)), 4);
    }

    #[test]
    fn columns_count_utf16_code_units() {
        // `é` is 2 bytes and 1 unit; `😀` is 4 bytes and 2 units.
        let text = "x é😀 y\n";
        let y = text.find('y').unwrap();
        assert_eq!(position_at(text, y), Position::new(0, 6));
        assert_eq!(offset_at(text, Position::new(0, 6)), y);
        let emoji = text.find('😀').unwrap();
        assert_eq!(position_at(text, emoji), Position::new(0, 3));
    }

    #[test]
    fn offsets_inside_a_character_round_down() {
        let text = "😀a";
        assert_eq!(position_at(text, 2), Position::new(0, 0));
        assert_eq!(position_at(text, 4), Position::new(0, 2));
        // A position between the two halves of a surrogate pair lands after the character.
        assert_eq!(offset_at(text, Position::new(0, 1)), 4);
    }

    #[test]
    fn out_of_range_input_clamps() {
        let text = "ab\ncd";
        assert_eq!(position_at(text, 99), Position::new(1, 2));
        assert_eq!(offset_at(text, Position::new(0, 99)), 2);
        assert_eq!(offset_at(text, Position::new(9, 0)), text.len());
    }

    #[test]
    fn a_byte_order_mark_is_not_a_column() {
        let text = "\u{feff}ab\ncd";
        assert_eq!(position_at(text, 3), Position::new(0, 0));
        assert_eq!(position_at(text, 4), Position::new(0, 1));
        assert_eq!(offset_at(text, Position::new(0, 1)), 4);
        assert_eq!(position_at(text, 7), Position::new(1, 1));
    }

    #[test]
    fn ranges_span_lines() {
        let text = "a\nbé\n";
        assert_eq!(
            range_of(text, 2, 3),
            Range::new(Position::new(1, 0), Position::new(1, 2))
        );
    }
}
