//! Development tasks for the bsic workspace, run as `cargo xtask <task>`.
//!
//! `gen-apple` turns Apple's vendored device-management YAML (plus bsic's own overlay) into
//! JSON Schemas and an availability table under `schemas/apple/`; see [`apple`].
//! `gen-fleet` writes a synthetic fleet repository for benchmarks; see [`fleet`].

pub mod apple;
pub mod fleet;
