//! Development tasks for the bsic workspace, run as `cargo xtask <task>`.
//!
//! `gen-apple` turns Apple's vendored device-management YAML (plus bsic's own overlay) into
//! JSON Schemas and an availability table under `schemas/apple/`; see [`apple`].
//! `sync-crate` copies what the bsic crate embeds into it, so it packages whole; see
//! [`crate_data`].
//! `gen-fleet` writes a synthetic fleet repository for benchmarks; see [`fleet`].

pub mod apple;
pub mod crate_data;
pub mod fleet;
