//! `bsic validate` of a configuration profile: the bytes as `profile.mobileconfig` (XML or
//! binary plist, or a signed profile), parsed with spans and checked against Apple's
//! schemas, in memory.
#![no_main]

use std::cell::RefCell;
use std::path::Path;

use bsic::raw::{Checker, ValidateOptions};
use libfuzzer_sys::fuzz_target;

thread_local! {
    /// Compiled schemas are kept across inputs, as in a run over many files.
    static CHECKER: RefCell<Checker> = RefCell::new(Checker::default());
}

fuzz_target!(|data: &[u8]| {
    CHECKER.with_borrow_mut(|checker| {
        let path = Path::new("profile.mobileconfig");
        if let Ok(report) = checker.check(path, data.to_vec(), &ValidateOptions::default()) {
            for diagnostic in report.diagnostics.sorted() {
                let _ = report.sources.locate(diagnostic.at);
                let _ = report.sources.snippet(diagnostic.at);
            }
        }
    });
});
