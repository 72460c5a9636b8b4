//! The human diagnostic renderer on arbitrary text and spans: a file of any bytes (lossily
//! UTF-8, as bsic loads it) with diagnostics at offsets and lengths taken from the input,
//! some beyond the text, some labelled with its own text. The report must render without
//! a panic, carry no raw control character but newline and tab, and stay within a fixed number of
//! bytes per diagnostic, whatever the line lengths.
#![no_main]

use bsic::diag::{Diagnostic, Diagnostics, Limit};
use bsic::validate::diags::ValidateKind;
use bsic::source::{Sources, Span};
use libfuzzer_sys::fuzz_target;

/// Bytes one rendered diagnostic may take: a few windowed lines, message, help, labels.
const PER_DIAGNOSTIC: usize = 40_000;

fuzz_target!(|data: &[u8]| {
    // The first 32 bytes pick up to 8 spans (offset and length as u16 pairs, scaled up);
    // the rest is the file.
    let (head, body) = data.split_at(data.len().min(32));
    let text = String::from_utf8_lossy(body).into_owned();
    let mut sources = Sources::default();
    let file = sources.add("policies/f\u{1b}.kdl".into(), "f.kdl".into(), text.clone());
    let other = sources.add("other.kdl".into(), "other.kdl".into(), text.clone());
    let mut diagnostics = Diagnostics::default();
    let spans: Vec<Span> = head
        .chunks_exact(4)
        .map(|c| Span {
            file,
            offset: usize::from(u16::from_le_bytes([c[0], c[1]])) * 7,
            len: usize::from(u16::from_le_bytes([c[2], c[3]])) % 300,
        })
        .collect();
    let name: String = text.chars().take(200).collect();
    for (i, &at) in spans.iter().enumerate() {
        let kind = ValidateKind::UnknownNode {
            name: name.clone(),
            expected: vec!["offer".into()],
            suggestion: None,
        };
        let mut diagnostic = if i % 2 == 0 {
            Diagnostic::error(kind, at, name.clone())
        } else {
            Diagnostic::warning(kind, at, "here")
        };
        for &related in spans.iter().skip(i + 1).take(3) {
            diagnostic = diagnostic.with_related(related, "and here");
        }
        diagnostic = diagnostic.with_related(Span { file: other, ..at }, "there");
        diagnostics.push(diagnostic);
    }
    let mut out = Vec::new();
    bsic::cli::write_human(&mut out, &diagnostics, &sources, Limit::per_file(5), false)
        .expect("writing to a Vec cannot fail");
    let out = String::from_utf8(out).expect("the report is UTF-8");
    if let Some(c) = out.chars().find(|&c| c.is_control() && c != '\n' && c != '\t') {
        panic!("raw control character {c:?} in the report");
    }
    let shown = spans.len().min(5);
    assert!(
        out.len() <= 1_000 + shown * PER_DIAGNOSTIC,
        "{} bytes for {shown} diagnostics",
        out.len()
    );
});
