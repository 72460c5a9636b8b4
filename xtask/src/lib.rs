//! Development tasks for the bsic workspace, run as `cargo xtask <task>`.
//!
//! `gen-apple` turns Apple's vendored device-management YAML (plus bsic's own overlay) into
//! JSON Schemas and an availability table under `schemas/apple/`; see [`apple`].
//! `sync-crate` copies what the bsic crate embeds into it, so it packages whole; see
//! [`crate_data`].
//! `gen-fleet` writes a synthetic fleet repository for benchmarks; see [`fleet`].
//! `startup-order` lists the functions short runs execute, for the linker to lay out
//! together; see [`startup_order`].

pub mod apple;
pub mod crate_data;
pub mod fleet;
pub mod startup_order;
