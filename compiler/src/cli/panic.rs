//! The panic policy: a panic is a bsic bug. Instead of Rust's default report (a thread name,
//! a source path and a hint about backtraces), the user sees one line,
//! `internal error, please report: …`, and the process exits with code 3. A backtrace follows
//! only when `RUST_BACKTRACE` asks for one.
//!
//! The hook is process-global by nature; it is installed once, by [`super::run`], and never
//! by the library.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::io::Write;
use std::panic::{self, PanicHookInfo};

/// Set to any value to make `bsic` panic on purpose, so tests can check the policy end to end.
pub(super) const TEST_PANIC_ENV: &str = "BSIC_TEST_PANIC";

/// Replaces the default panic report with bsic's one-liner.
pub(super) fn install_hook() {
    panic::set_hook(Box::new(|info| {
        if is_broken_pipe(&payload_text(info.payload())) {
            return;
        }
        let mut report = one_line(info);
        let backtrace = Backtrace::capture();
        if backtrace.status() == BacktraceStatus::Captured {
            report.push_str(&format!("\n{backtrace}"));
        }
        // Not `eprintln!`: a second panic here, on a closed stderr, would abort the process.
        let _ = writeln!(std::io::stderr().lock(), "{report}");
    }));
}

/// True for the panic `println!`/`eprintln!` raise when the reader closed the pipe
/// (`failed printing to stdout: Broken pipe (os error 32)`): not a bsic bug.
pub(super) fn is_broken_pipe(message: &str) -> bool {
    message.to_ascii_lowercase().contains("broken pipe")
}

/// `internal error, please report: MESSAGE (at FILE:LINE)`.
fn one_line(info: &PanicHookInfo<'_>) -> String {
    let message = payload_text(info.payload());
    let message = message.lines().next().unwrap_or("");
    match info.location() {
        Some(at) => format!(
            "internal error, please report: {message} (at {}:{})",
            at.file(),
            at.line()
        ),
        None => format!("internal error, please report: {message}"),
    }
}

/// The text of a panic payload: `panic!` gives a `&str` or a `String`.
pub(super) fn payload_text(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "a panic without a message".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_text_reads_both_string_kinds() {
        let static_str: Box<dyn Any + Send> = Box::new("static");
        let owned: Box<dyn Any + Send> = Box::new(String::from("owned"));
        let other: Box<dyn Any + Send> = Box::new(7_u8);
        assert_eq!(payload_text(static_str.as_ref()), "static");
        assert_eq!(payload_text(owned.as_ref()), "owned");
        assert_eq!(payload_text(other.as_ref()), "a panic without a message");
    }

    #[test]
    fn knows_a_closed_pipe_from_a_bug() {
        assert!(is_broken_pipe(
            "failed printing to stderr: Broken pipe (os error 32)"
        ));
        assert!(!is_broken_pipe("index out of bounds"));
    }
}
