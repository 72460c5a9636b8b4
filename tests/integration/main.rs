//! End-to-end tests that drive the real `bsic` binary, one module per concern (the layout of
//! just's and ripgrep's integration tests): every test builds a throw-away project in a temp
//! directory, runs `bsic` on it and looks at exit code, stdout, stderr and written files.
//!
//! Snapshots live in `tests/integration/snapshots/`; refresh them with
//! `INSTA_UPDATE=always cargo test --test integration` (or `cargo insta test --review`) and review
//! the diff before committing.

// Helpers outside `#[test]` functions may unwrap too: a failure is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod atomic;
mod bad;
mod catalog;
mod cli;
mod codes;
mod defects;
mod device;
mod docs;
mod faults;
mod fleets;
mod gitops;
mod integrity;
mod kmfddm;
mod lsp;
mod mdm_upload;
mod real_server;
mod reference;
mod regressions;
mod reporting;
mod schema;
mod ship;
mod signing;
mod status;
mod status_exports;
mod unbreakable;
mod util;
mod validate;
mod values;
