//! `bsic status` report reading: the bytes as one reports file (a JSON document, or JSON
//! Lines), parsed, reduced and merged per device, in memory.
#![no_main]

use bsic::status::StatusWarnings;
use bsic::status::reports::{Fleet, read_from};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut fleet = Fleet::default();
    let mut warnings = StatusWarnings::default();
    // Reading from memory cannot fail; a bad report is a warning.
    read_from(data, "reports.jsonl", &mut fleet, &mut warnings).expect("no I/O error");
    for (warning, file, line) in warnings.iter() {
        let _ = (file, line, warning.code(), warning.to_string(), warning.help());
    }
});
