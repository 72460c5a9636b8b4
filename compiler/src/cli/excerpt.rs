//! The part of a source file one diagnostic shows, made safe and small for miette.
//!
//! In: a file and the spans a diagnostic labels in it. Out: an [`Excerpt`], a `SourceCode`
//! holding only the labelled lines and one line of context around each, every line cut to a
//! window around its label when it is wide and with control characters escaped, plus the
//! labels moved into it. miette scans its source from the start for every label and pads
//! underlines with `{:width$}`, which panics beyond 65,535 columns; handing it the excerpt
//! instead of the file keeps rendering time proportional to the excerpt and every column
//! small. The `file:line:col` header still names the real line and character column.

use miette::{MietteError, MietteSpanContents, SourceCode, SourceSpan, SpanContents};

use crate::diag::printable;
use crate::source::SourceFile;

/// Lines of context above and below a label, as miette's default shows.
const CONTEXT_LINES: usize = 1;
/// A label over more lines than this is shown on its first line only.
const MAX_SPAN_LINES: usize = 8;
/// Lines longer than this many bytes are cut to a window around their label.
const WIDE: usize = 160;
/// Bytes of a wide line kept before and after the point a label starts.
const BEFORE: usize = 60;
const AFTER: usize = 100;
/// Marks where a wide line was cut.
const CUT: &str = "…";

/// One line of the excerpt: which bytes of the real line it shows, and where it landed.
#[derive(Debug)]
struct Shown {
    /// Start of the real line, and of its text without the line break.
    line_start: usize,
    content_end: usize,
    /// The real bytes shown: all of `line_start..content_end` unless the line is wide.
    window: (usize, usize),
    /// Where the shown text starts in the excerpt (after a leading [`CUT`]), and ends.
    text_start: usize,
    text_end: usize,
}

/// A run of adjacent real lines, shown together.
#[derive(Debug)]
struct Group {
    /// 0-based real number of the first line.
    first_line: usize,
    lines: Vec<Shown>,
    /// The excerpt bytes the group occupies, line breaks included.
    start: usize,
    end: usize,
}

/// Where a label starts in the real file, for the `file:line:col` header.
#[derive(Debug)]
struct Anchor {
    offset: usize,
    line: usize,
    column: usize,
}

/// The labelled lines of one file, standing in for the whole file when miette renders.
#[derive(Debug)]
pub(super) struct Excerpt {
    name: String,
    text: String,
    groups: Vec<Group>,
    anchors: Vec<Anchor>,
}

impl Excerpt {
    /// The excerpt of `file` around `spans` (real byte ranges), and each span moved into it.
    pub(super) fn new(
        name: &str,
        file: &SourceFile,
        spans: &[(usize, usize)],
    ) -> (Self, Vec<SourceSpan>) {
        let text = file.text.as_str();
        let spans = clamp_spans(file, spans);
        let (out, groups) = render_lines(file, &spans, shown_lines(file, &spans));
        let mut excerpt = Excerpt {
            name: printable(name).into_owned(),
            text: out,
            groups,
            anchors: Vec::new(),
        };
        let moved: Vec<SourceSpan> = spans
            .iter()
            .map(|&(start, end)| {
                let from = excerpt.position(text, start);
                let to = excerpt.position(text, end).max(from);
                let (line, column) = file.line_col(start);
                excerpt.anchors.push(Anchor {
                    offset: from,
                    line: line - 1,
                    column: column - 1,
                });
                (from, to - from).into()
            })
            .collect();
        (excerpt, moved)
    }

    /// Where real byte `offset` lands in the excerpt: inside the window of its line, or at
    /// the window's nearer edge when the line was cut before it.
    fn position(&self, text: &str, offset: usize) -> usize {
        let shown = self
            .groups
            .iter()
            .flat_map(|g| g.lines.iter())
            .take_while(|l| l.line_start <= offset)
            .last();
        let Some(shown) = shown else { return 0 };
        if offset <= shown.window.0 {
            shown.text_start
        } else if offset >= shown.window.1 || offset > shown.content_end {
            shown.text_end
        } else {
            let inside = text.get(shown.window.0..offset).unwrap_or("");
            shown.text_start + printable(inside).len()
        }
    }

    fn group_at(&self, offset: usize) -> Option<&Group> {
        self.groups
            .iter()
            .find(|g| g.start <= offset && offset < g.end.max(g.start + 1))
    }
}

/// Each span clamped to the text, to character boundaries and to its first
/// `MAX_SPAN_LINES` lines.
fn clamp_spans(file: &SourceFile, spans: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let text = file.text.as_str();
    let starts = file.line_starts();
    let line_end = |line: usize| starts.get(line + 1).copied().unwrap_or(text.len());
    spans
        .iter()
        .map(|&(offset, len)| {
            let start = floor_char(text, offset.min(text.len()));
            let end = floor_char(text, offset.saturating_add(len).min(text.len())).max(start);
            let first = file.line_of(start);
            let last = file.line_of(end.saturating_sub(1).max(start));
            if last - first >= MAX_SPAN_LINES {
                (
                    start,
                    content_end(text, starts[first], line_end(first)).max(start),
                )
            } else {
                (start, end)
            }
        })
        .collect()
}

/// The line ranges to show (each span's lines with context), merged where they touch; the
/// empty "line" after a final line break is context for nothing.
fn shown_lines(file: &SourceFile, spans: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let text = file.text.as_str();
    let starts = file.line_starts();
    let last_line = if text.ends_with('\n') {
        starts.len().saturating_sub(2)
    } else {
        starts.len() - 1
    };
    let mut ranges: Vec<(usize, usize)> = spans
        .iter()
        .map(|&(start, end)| {
            let first = file.line_of(start);
            let last = file.line_of(end.saturating_sub(1).max(start));
            (
                first.saturating_sub(CONTEXT_LINES),
                (last + CONTEXT_LINES).min(last_line).max(last),
            )
        })
        .collect();
    ranges.sort_unstable();
    let mut merged: Vec<(usize, usize)> = Vec::new();
    for (first, last) in ranges {
        match merged.last_mut() {
            Some(prev) if first <= prev.1 + 1 => prev.1 = prev.1.max(last),
            _ => merged.push((first, last)),
        }
    }
    merged
}

/// The excerpt's text and its groups: the lines of each range, long lines cut to a window
/// around the spans on them.
fn render_lines(
    file: &SourceFile,
    spans: &[(usize, usize)],
    ranges: Vec<(usize, usize)>,
) -> (String, Vec<Group>) {
    let text = file.text.as_str();
    let starts = file.line_starts();
    let line_end = |line: usize| starts.get(line + 1).copied().unwrap_or(text.len());
    let mut out = String::new();
    let mut groups = Vec::new();
    for (first, last) in ranges {
        let start = out.len();
        let mut lines = Vec::new();
        for (line, &line_start) in starts.iter().enumerate().take(last + 1).skip(first) {
            let end = content_end(text, line_start, line_end(line));
            let window = if end - line_start <= WIDE {
                (line_start, end)
            } else {
                let (from, to) = focus(spans, line_start, end);
                (
                    floor_char(text, from.saturating_sub(BEFORE).max(line_start)),
                    floor_char(text, (to + AFTER).min(end)),
                )
            };
            if window.0 > line_start {
                out.push_str(CUT);
            }
            let text_start = out.len();
            out.push_str(&printable(&text[window.0..window.1]));
            let text_end = out.len();
            if window.1 < end {
                out.push_str(CUT);
            }
            out.push('\n');
            lines.push(Shown {
                line_start,
                content_end: end,
                window,
                text_start,
                text_end,
            });
        }
        groups.push(Group {
            first_line: first,
            lines,
            start,
            end: out.len(),
        });
    }
    (out, groups)
}

/// The real text of a line without its line break (`\n` or `\r\n`).
fn content_end(text: &str, start: usize, end: usize) -> usize {
    let line = &text.as_bytes()[start..end];
    let mut len = line.len();
    if line.ends_with(b"\n") {
        len -= 1;
        if line[..len].ends_with(b"\r") {
            len -= 1;
        }
    }
    start + len
}

/// The part of a wide line its window is built around: the first label that starts on it
/// and every later one that starts close enough to share the window, else the end of a label
/// that ends on it, else the line's start.
fn focus(spans: &[(usize, usize)], start: usize, end: usize) -> (usize, usize) {
    let on_line = |&offset: &usize| (start..=end).contains(&offset);
    let Some(first) = spans.iter().map(|s| s.0).find(on_line) else {
        let at = spans.iter().map(|s| s.1).find(on_line).unwrap_or(start);
        return (at, at);
    };
    let near = |offset: usize| offset.abs_diff(first) <= WIDE;
    let starts = spans.iter().map(|s| s.0).filter(|s| on_line(s) && near(*s));
    let from = starts.clone().min().unwrap_or(first);
    let to = starts.max().unwrap_or(first);
    (from, to)
}

/// `offset` moved back to the nearest character boundary.
fn floor_char(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

impl SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let group = self
            .group_at(span.offset())
            .ok_or(MietteError::OutOfBounds)?;
        if span.offset() + span.len() > group.end {
            return Err(MietteError::OutOfBounds);
        }
        // Without context miette asks where a label starts, for the header: the real place.
        if context_lines_before == 0 && context_lines_after == 0 {
            let (line, column) = self
                .anchors
                .iter()
                .find(|a| a.offset == span.offset())
                .map_or((group.first_line, 0), |a| (a.line, a.column));
            return Ok(Box::new(MietteSpanContents::new_named(
                self.name.clone(),
                &self.text.as_bytes()[span.offset()..span.offset() + span.len()],
                *span,
                line,
                column,
                1,
            )));
        }
        // With context: the whole group, which already holds the context lines.
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.clone(),
            &self.text.as_bytes()[group.start..group.end],
            (group.start, group.end - group.start).into(),
            group.first_line,
            0,
            group.lines.len(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::Sources;

    fn file(text: &str) -> Sources {
        let mut sources = Sources::default();
        sources.add("f.kdl".into(), "f.kdl".into(), text.into());
        sources
    }

    fn excerpt(text: &str, spans: &[(usize, usize)]) -> (Excerpt, Vec<SourceSpan>) {
        let sources = file(text);
        let Some((_, f)) = sources.iter().next() else {
            panic!("one file")
        };
        Excerpt::new("f.kdl", f, spans)
    }

    #[test]
    fn keeps_only_the_labelled_lines_and_their_context() {
        let text = "a\nb\nc\nd\ne\nf\n";
        let (ex, spans) = excerpt(text, &[(4, 1)]);
        assert_eq!(ex.text, "b\nc\nd\n");
        assert_eq!(&ex.text[spans[0].offset()..][..1], "c");
        assert_eq!((ex.groups[0].first_line, ex.anchors[0].line), (1, 2));
    }

    #[test]
    fn cuts_a_wide_line_around_the_label() {
        let text = format!("x\n{}bad 1\n", " ".repeat(70_000));
        let offset = text.find("bad").unwrap_or(0);
        let (ex, spans) = excerpt(&text, &[(offset, 3)]);
        assert!(ex.text.len() < 400, "{}", ex.text.len());
        assert_eq!(&ex.text[spans[0].offset()..][..3], "bad");
        assert!(ex.text.contains("…"));
        assert_eq!((ex.anchors[0].line, ex.anchors[0].column), (1, 70_000));
    }

    #[test]
    fn escapes_controls_and_moves_labels_past_them() {
        let text = "a \u{1b}[31m b\u{7} bad\n";
        let offset = text.find("bad").unwrap_or(0);
        let (ex, spans) = excerpt(text, &[(offset, 3)]);
        assert!(!ex.text.contains('\u{1b}') && !ex.text.contains('\u{7}'));
        assert_eq!(&ex.text[spans[0].offset()..][..3], "bad");
    }

    #[test]
    fn a_long_span_shows_its_first_line() {
        let text = "a\n".repeat(100);
        let (ex, spans) = excerpt(&text, &[(2, 150)]);
        assert_eq!(ex.text.lines().count(), 3);
        assert_eq!(spans[0].len(), 1);
    }

    #[test]
    fn odd_spans_stay_inside() {
        let text = "é\r\nb";
        for (offset, len) in [(1, 0), (0, 99), (99, 3), (4, 0), (2, 1)] {
            let (ex, spans) = excerpt(text, &[(offset, len)]);
            let end = spans[0].offset() + spans[0].len();
            assert!(end <= ex.text.len(), "{offset},{len}");
            assert!(ex.read_span(&spans[0], 1, 1).is_ok(), "{offset},{len}");
        }
    }
}
