//! Command-line arguments. clap lives only here; the library takes plain options.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// bsic compiles KDL policies for Apple software updates and Background Security Improvements
/// into DDM declarations and configuration profiles that any MDM imports.
///
/// Exit codes: 0 success, 1 policy errors, 2 usage or I/O errors, 3 internal errors.
#[derive(Debug, Parser)]
#[command(name = "bsic", version, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    /// When to colour human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the policies: parse, validate against the schema and Apple's rules, resolve
    /// conflicts. Writes nothing.
    Check {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        dir: Option<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Check, then write DDM declarations, profiles and manifest.json into the output
    /// directory, atomically: on any error the previous output stays as it was.
    Build {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        dir: Option<PathBuf>,
        /// The output directory (default: dist/ beside bsic.kdl).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Print the JSON Schema of policy files (or of bsic.kdl with --project), for editors.
    Schema {
        /// Print the schema of the project file bsic.kdl instead.
        #[arg(long)]
        project: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable reports with source excerpts (on stderr).
    Human,
    /// One JSON object per diagnostic, per line (on stdout).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
