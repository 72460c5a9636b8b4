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
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Verify built profiles: CMS signatures, certificate chain and dates, and that every
    /// file is the one manifest.json hashes. One line per file; non-zero exit on any failure.
    Verify {
        /// Output directories or individual files (default: dist/ of the current project).
        paths: Vec<PathBuf>,
        /// PEM bundle of trusted CA certificates; without it the chain is only reported.
        #[arg(long, value_name = "BUNDLE")]
        ca: Option<PathBuf>,
        /// Accept unsigned profiles instead of failing on them.
        #[arg(long)]
        allow_unsigned: bool,
    },
    /// Explain what a device in some groups gets, per key: value, the policy and line it came
    /// from, Apple's combine rule, and what it overrode. Or, with --policy, which groups a
    /// policy reaches.
    Explain {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        dir: Option<PathBuf>,
        #[command(flatten)]
        args: ExplainArgs,
    },
    /// Run the policy tests (`tests/**/*.test.kdl`, or the `tests` globs of bsic.kdl): each
    /// describes a device and the settings it must end up with.
    Test {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        dir: Option<PathBuf>,
    },
    /// List every knob with the Apple key it sets, its values, default, combine rule and
    /// availability per platform, from Apple's definitions.
    Keys {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run the language server on stdin/stdout for editors: diagnostics as you type, hover
    /// with Apple's key facts, completion and go to definition (see docs/editors.md).
    Lsp,
    /// Print the JSON Schema of policy files (or of bsic.kdl with --project), for editors.
    Schema {
        /// Print the schema of the project file bsic.kdl instead.
        #[arg(long)]
        project: bool,
    },
}

/// What to explain.
#[derive(Debug, Default, Clone, clap::Args)]
pub struct ExplainArgs {
    /// A group the device is in (repeat for several).
    #[arg(long, value_name = "GROUP", required_unless_present = "policy")]
    pub group: Vec<String>,
    /// Only this platform (repeatable); every covered platform by default.
    #[arg(long, value_name = "PLATFORM", value_parser = super::explain::parse_platform)]
    pub platform: Vec<crate::model::Platform>,
    /// The device's OS version, e.g. 26.3: shows staging and channel notes.
    #[arg(long, value_name = "VERSION", value_parser = super::explain::parse_os)]
    pub os: Option<crate::model::OsVersion>,
    /// Instead: list the groups this policy reaches.
    #[arg(long, value_name = "NAME", conflicts_with = "group")]
    pub policy: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Human)]
    pub format: ExplainFormat,
    #[arg(skip)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ExplainFormat {
    #[default]
    Human,
    Json,
}

/// Signing options of `build`; each overrides the `signing` block of bsic.kdl.
#[derive(Debug, Default, clap::Args)]
pub struct SignArgs {
    /// Sign profiles with this PEM certificate (needs --sign-key).
    #[arg(
        long,
        value_name = "PEM",
        requires = "sign_key",
        conflicts_with = "sign_p12"
    )]
    pub sign_cert: Option<PathBuf>,
    /// The signer's PEM private key (PKCS#8, PKCS#1 or SEC1, unencrypted).
    #[arg(long, value_name = "PEM", requires = "sign_cert")]
    pub sign_key: Option<PathBuf>,
    /// PEM bundle of intermediate certificates to include.
    #[arg(long, value_name = "PEM")]
    pub chain: Option<PathBuf>,
    /// Sign profiles with this PKCS#12 identity.
    #[arg(long, value_name = "P12")]
    pub sign_p12: Option<PathBuf>,
    /// Read the PKCS#12 password from this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with = "p12_password_file")]
    pub p12_password_env: Option<String>,
    /// Read the PKCS#12 password from the first line of this file.
    #[arg(long, value_name = "FILE")]
    pub p12_password_file: Option<PathBuf>,
    /// Sign even with a certificate that is expired or not yet valid.
    #[arg(long)]
    pub allow_invalid_certificate_dates: bool,
    /// Write unsigned profiles even when bsic.kdl configures signing.
    #[arg(long, conflicts_with_all = ["sign_cert", "sign_p12"])]
    pub no_sign: bool,
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
