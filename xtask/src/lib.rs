//! Development tasks for the bsic workspace, run as `cargo xtask <task>`.
//!
//! The only task so far is `gen-apple`, which turns Apple's vendored
//! device-management YAML (plus bsic's own overlay) into JSON Schemas and an
//! availability table under `schemas/apple/`; see [`apple`].

pub mod apple;
