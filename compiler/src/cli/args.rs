//! Command-line arguments. clap lives only here; the library takes plain options.

use std::path::PathBuf;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand, ValueEnum};

use crate::emit::adapters::Target;

/// bsic compiles KDL policies for Apple software updates and Background Security Improvements
/// into DDM declarations and configuration profiles that any MDM imports.
///
/// Exit codes: 0 success, 1 policy errors (or a failed verification or policy test), 2 usage or
/// I/O errors, 3 internal errors; `bsic plan`: 0 no change, 2 changes, 1 error.
#[derive(Debug, Parser)]
#[command(
    name = "bsic",
    version = super::version::LONG,
    propagate_version = true,
    max_term_width = 100,
    subcommand_required = true,
    arg_required_else_help = true
)]
pub struct Options {
    /// When to colour human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only what was asked for: no summaries or progress on stderr.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Say more on stderr: every file written or formatted.
    #[arg(long, short, global = true)]
    pub verbose: bool,

    /// Report at most N diagnostics per file and ten times N per run, in every format, then
    /// how many were left out; 0 reports all. The summary line always counts all.
    #[arg(long, global = true, value_name = "N", default_value_t = crate::diag::Limit::DEFAULT_PER_FILE)]
    pub max_diagnostics: usize,
}

/// The command line: the options every command takes, and the command.
#[derive(Debug)]
pub struct Cli {
    pub options: Options,
    pub command: Command,
}

impl Cli {
    /// The whole command tree: help, man pages and completions.
    pub fn command() -> clap::Command {
        Command::augment_subcommands(<Options as clap::CommandFactory>::command())
    }

    /// Parses the process arguments.
    ///
    /// Before parsing, clap copies the options every command takes (`global`) into each
    /// subcommand of the tree: 4 × 18 argument clones, 9–18 page faults and 1–3 % of a
    /// one-file `bsic check`. So when the arguments name a command, the tree holds that
    /// command alone; anything else (help, `--version`, a typo, no command) gets the whole
    /// tree, and clap's help, errors and suggestions read as they always did.
    pub fn try_parse() -> Result<Self, clap::Error> {
        Self::try_parse_from(std::env::args_os().collect())
    }

    fn try_parse_from(args: Vec<std::ffi::OsString>) -> Result<Self, clap::Error> {
        use clap::FromArgMatches;
        let top = <Options as clap::CommandFactory>::command();
        let tree = match named_command(&top, &args) {
            Some(command) => top.subcommand(command),
            None => Command::augment_subcommands(top),
        };
        let matches = tree.try_get_matches_from(args)?;
        Ok(Self {
            options: Options::from_arg_matches(&matches)?,
            command: Command::from_arg_matches(&matches)?,
        })
    }
}

/// The subcommand the arguments name after the top-level options, built alone; `None` when
/// the first word after them is no command or an option is not one of the top level's.
fn named_command(top: &clap::Command, args: &[std::ffi::OsString]) -> Option<clap::Command> {
    let name = first_word(top, args)?;
    if !Command::has_subcommand(name) {
        return None;
    }
    Command::augment_subcommands(clap::Command::new("bsic"))
        .find_subcommand(name)
        .cloned()
}

/// The first argument that is neither a top-level option nor the value of one.
fn first_word<'a>(top: &clap::Command, args: &'a [std::ffi::OsString]) -> Option<&'a str> {
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut words = args.iter().skip(1);
    while let Some(word) = words.next() {
        let word = word.to_str()?;
        if let Some(long) = word.strip_prefix("--") {
            let (name, value) = long
                .split_once('=')
                .map_or((long, None), |(n, v)| (n, Some(v)));
            let arg = top.get_arguments().find(|a| a.get_long() == Some(name))?;
            if value.is_none() && takes_value(arg) {
                words.next();
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (at, short) in shorts.char_indices() {
                let arg = top.get_arguments().find(|a| a.get_short() == Some(short))?;
                if takes_value(arg) {
                    if at + short.len_utf8() == shorts.len() {
                        words.next();
                    }
                    break;
                }
            }
        } else {
            return Some(word);
        }
    }
    None
}

// The commands. Each one's arguments are built only when it is the one run (`defer`):
// building all of them was a tenth of a one-file `bsic check`. Help, man pages and completions
// build the whole tree as before. This comment, and those of the argument structs flattened
// into a subcommand, are plain `//` comments, not doc comments: clap would take them as the
// description of the command they are added to (a deferred flatten runs after the
// subcommand's own text is set; `bsic` itself gets its description from [`Options`]).
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Check the policies: parse, validate against the schema and Apple's rules, resolve
    /// conflicts. Writes nothing.
    Check {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        dir: Option<PathBuf>,
        /// How to print diagnostics.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Also list every value a higher-priority policy overrode, per group.
        #[arg(long)]
        explain_overrides: bool,
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
        /// Also write the layout an MDM imports, under OUT/TARGET/ (repeatable). The
        /// generic layout (ddm/, profiles/, manifest.json) is always written.
        #[arg(long = "target", short, value_name = "TARGET", value_parser = TargetArg::parser())]
        targets: Vec<TargetArg>,
        /// Let a build that produces no artifact replace an output that has some. Without
        /// it such a build is refused: an empty `policies` glob must not wipe a fleet.
        #[arg(long)]
        allow_empty: bool,
        #[command(flatten)]
        sign: SignArgs,
    },
    /// Show what building now would change compared with a previous build or Git revision:
    /// artifacts added, removed, updated or replaced, per group, with the settings that
    /// change. Exit 0 no change, 2 changes, 1 error.
    Plan {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        dir: Option<PathBuf>,
        /// A previous output directory (with manifest.json), or a Git revision of the
        /// project (e.g. `origin/main`, `HEAD~1`). Default: the project's dist/.
        #[arg(long, value_name = "DIST|GIT-REF")]
        against: Option<String>,
        /// How to print the plan (on stdout).
        #[arg(long, value_enum, default_value_t = PlanFormat::Human)]
        format: PlanFormat,
    },
    /// Format policy files and bsic.kdl canonically, keeping comments.
    Fmt {
        /// Files or directories (searched for *.kdl); default: the project's bsic.kdl and
        /// policy files.
        files: Vec<PathBuf>,
        /// Change nothing; list the files that need formatting and exit 1 if there are any.
        #[arg(long)]
        check: bool,
    },
    /// Create a new policy repository: bsic.kdl, a starter policy, a pre-commit config, a
    /// GitHub Actions workflow and a .gitignore. Never overwrites a file.
    Init {
        /// Where to create it (default: the current directory).
        dir: Option<PathBuf>,
        /// The organisation named in bsic.kdl and in profiles.
        #[arg(long, default_value = "Example Corp")]
        organization: String,
        /// The reverse-DNS prefix of every identifier.
        #[arg(long, default_value = "com.example.it")]
        identifier_prefix: String,
    },
    /// Print a shell completion script (e.g. `bsic completions zsh > _bsic`).
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the bsic(1) man page (roff) on stdout, or with a command name that command's
    /// page, e.g. `bsic man check` for bsic-check(1).
    Man {
        /// The command whose page to print (nested ones as words: `bsic man keys new`).
        #[arg(value_name = "COMMAND")]
        command: Vec<String>,
    },
    /// Print bsic's version, the Git commit it was built from and that commit's date.
    Version {
        /// Print a JSON object (version, commit, date, target) for scripts.
        #[arg(long)]
        json: bool,
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
    /// Manage the offline build catalog that enforcement targets are checked against.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Judge the fleet from devices' DDM status reports: per device compliant, pending,
    /// failed, overdue or unknown against what the policies enforce for its groups, and
    /// whether each declaration bsic emitted is active and valid on it.
    ///
    /// Exit codes: 0 ok, 1 a group below --fail-under, 2 unreadable input.
    Status {
        /// The project directory (holding bsic.kdl); defaults to the nearest one upwards.
        #[arg(long)]
        dir: Option<PathBuf>,
        #[command(flatten)]
        args: StatusArgs,
    },
    /// List every knob with the Apple key it sets, its values, default, combine rule and
    /// availability per platform, from Apple's definitions.
    Keys {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only keys available on this platform, with that platform's availability.
        #[arg(long, value_name = "PLATFORM", value_parser = super::explain::parse_platform)]
        platform: Option<crate::model::Platform>,
    },
    /// Check raw DDM declarations (*.json) and configuration profiles (*.mobileconfig, *.plist)
    /// strictly against Apple's definitions, with located diagnostics. Writes nothing.
    Validate {
        /// Files, directories or globs (default: the current directory).
        paths: Vec<PathBuf>,
        #[command(flatten)]
        args: ValidateArgs,
    },
    /// Turn software-update declarations and Restrictions / SoftwareUpdate profiles into a
    /// bsic policy file. Keys bsic has no syntax for are reported, never dropped silently.
    Import {
        /// Declarations (*.json) and profiles (*.mobileconfig, *.plist) to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// The policy file to write.
        #[arg(long, short, default_value = "policies/imported.kdl")]
        out: PathBuf,
        /// The group the imported policies apply to (defined in the file unless the project
        /// already defines it).
        #[arg(long, default_value = "imported")]
        group: String,
        /// Overwrite the output file if it exists.
        #[arg(long)]
        force: bool,
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

// Options of `validate`.
#[derive(Debug, Clone, clap::Args)]
pub struct ValidateArgs {
    /// Report keys this platform ignores, supervised-only keys and deprecations on it.
    #[arg(long, value_name = "PLATFORM", value_parser = super::explain::parse_platform)]
    pub platform: Option<crate::model::Platform>,
    /// The oldest OS version in the fleet: keys Apple introduced later are reported.
    #[arg(long, value_name = "VERSION", value_parser = super::explain::parse_os)]
    pub min_os: Option<crate::model::OsVersion>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum CatalogCommand {
    /// Normalise downloaded feeds (Apple's public versions JSON, with BSI builds listed
    /// separately, or SOFA feeds) into a snapshot to commit and pin in bsic.kdl.
    Import {
        /// The feed files, as downloaded.
        #[arg(required = true)]
        feeds: Vec<PathBuf>,
        /// Where to write the snapshot (default: catalog/apple-releases.json in the project).
        #[arg(long, short)]
        out: Option<PathBuf>,
        /// The platform of a SOFA feed, when the feed itself does not tell.
        #[arg(long, value_parser = super::explain::parse_platform)]
        platform: Option<crate::model::Platform>,
    },
}

// What to explain.
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
    /// The device's hardware model identifier, e.g. iPhone17,1: groups limited to other
    /// `models` send it nothing.
    #[arg(long, value_name = "MODEL", value_parser = super::explain::parse_model)]
    pub model: Option<String>,
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

// Options of `status`.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusArgs {
    /// Status reports: `.json` files, JSON Lines, or directories of them, merged in order.
    #[arg(long, value_name = "PATH", num_args = 1.., required_unless_present = "exports")]
    pub reports: Vec<PathBuf>,
    /// MDM inventory exports: FileWave query results (JSON or CSV), Intune's Graph
    /// managedDevices JSON, Addigy device facts (CSV or JSON); repeatable.
    #[arg(long = "export", value_name = "FILE", num_args = 1..)]
    pub exports: Vec<PathBuf>,
    /// Inventory CSV: `serial,groups[,platform]`, groups separated by `;`.
    #[arg(long, value_name = "CSV")]
    pub devices: Option<PathBuf>,
    /// Judge deadlines at this local date-time (default: SOURCE_DATE_EPOCH or now, UTC).
    #[arg(long, value_name = "yyyy-mm-ddThh:mm:ss")]
    pub now: Option<String>,
    /// The build output whose manifest.json the devices received (default: dist/ if present).
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// A server token map (an upload script's server-tokens.json) or a server's
    /// declaration-items response, for MDMs that assign their own ServerTokens (repeatable;
    /// <dist>/*/server-tokens.json are read too).
    #[arg(long, value_name = "FILE")]
    pub server_tokens: Vec<PathBuf>,
    /// Output format (on stdout).
    #[arg(long, value_enum, default_value_t = StatusFormat::Human)]
    pub format: StatusFormat,
    /// Also write a self-contained HTML report to this file.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Also write the CSV of every device to this file (the HTML report points to it).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Keep a dated snapshot of each run in this directory and show compliance over time and
    /// the change since the previous snapshot.
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// Exit 1 when any group's compliance is below this percentage (0 to 100).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub fail_under: Option<f64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum StatusFormat {
    /// A summary per group and policy, worst devices first.
    #[default]
    Human,
    /// Devices, groups and declarations as one JSON document.
    Json,
    /// One row per device.
    Csv,
}

// Signing options of `build`; each overrides the `signing` block of bsic.kdl.
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
    /// A SARIF 2.1.0 log (on stdout), for code-scanning uploads.
    Sarif,
    /// GitHub Actions workflow commands (on stdout): annotations on the pull request.
    Github,
}

/// How `bsic plan` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PlanFormat {
    /// Markdown, readable in a terminal and as a pull-request comment.
    Human,
    /// One JSON document.
    Json,
}

/// How `bsic validate` prints diagnostics.
/// A `bsic build --target` value: `generic`, or the name of an MDM target of the registry
/// (`emit::adapters::Target`), whose layout is written beside the generic one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetArg(Option<Target>);

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl TargetArg {
    /// The library's adapter for this target; `None` for the generic layout, always written.
    pub fn adapter(self) -> Option<Target> {
        self.0
    }

    /// The `--target` values, each with its help: `generic`, then every registered target.
    fn parser() -> impl TypedValueParser<Value = TargetArg> {
        let generic = PossibleValue::new("generic")
            .help("Only the generic layout: ddm/, profiles/ and manifest.json");
        let targets = Target::ALL
            .iter()
            .map(|target| PossibleValue::new(target.name()).help(target.about()));
        PossibleValuesParser::new(std::iter::once(generic).chain(targets))
            .map(|name| TargetArg(Target::named(&name)))
    }
}

/// `--fail-under`: a finite percentage from 0 to 100. NaN compares false with everything, so
/// `--fail-under NaN` could never fail a run; infinities and values outside 0..=100 are
/// mistakes of the same kind (always or never failing).
fn parse_percent(text: &str) -> Result<f64, String> {
    let value: f64 = text.trim().parse().map_err(|_| {
        format!("`{text}` is not a number; give a percentage from 0 to 100, e.g. 95")
    })?;
    if !value.is_finite() || !(0.0..=100.0).contains(&value) {
        return Err(format!(
            "`{text}` is not a percentage from 0 to 100; e.g. 95 fails the run when a group is below 95% compliant"
        ));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A flattened argument struct must not describe itself: with deferred subcommands its
    /// description would replace the subcommand's (`bsic build --help` read "Signing
    /// options of `build`").
    #[test]
    fn flattened_arguments_leave_the_subcommand_description_alone() {
        use clap::Args;
        let bare = || clap::Command::new("x");
        for command in [
            ValidateArgs::augment_args(bare()),
            ExplainArgs::augment_args(bare()),
            StatusArgs::augment_args(bare()),
            SignArgs::augment_args(bare()),
        ] {
            assert!(command.get_about().is_none() && command.get_long_about().is_none());
        }
        let mut cli = Cli::command();
        cli.build();
        let build = cli.find_subcommand("build").unwrap();
        assert!(
            build
                .get_about()
                .unwrap()
                .to_string()
                .starts_with("Check, then write")
        );
        assert!(build.get_arguments().any(|a| a.get_id() == "sign_cert"));
    }

    fn words(line: &str) -> Vec<std::ffi::OsString> {
        line.split_whitespace().map(Into::into).collect()
    }

    #[test]
    fn the_named_command_is_found_past_the_top_level_options() {
        let top = <Options as clap::CommandFactory>::command();
        for (line, named) in [
            ("bsic check", Some("check")),
            ("bsic --color never check", Some("check")),
            ("bsic --color=never -q check x", Some("check")),
            ("bsic -qv build", Some("build")),
            (
                "bsic --max-diagnostics 3 --verbose validate",
                Some("validate"),
            ),
            ("bsic catalog update", Some("catalog")),
            // Help, version, typos and the rest go to clap with the whole tree.
            ("bsic", None),
            ("bsic --help", None),
            ("bsic -V", None),
            ("bsic help check", None),
            ("bsic checkk", None),
            ("bsic --bogus check", None),
            ("bsic -- check", None),
            ("bsic --color", None),
        ] {
            let found = named_command(&top, &words(line));
            assert_eq!(found.as_ref().map(clap::Command::get_name), named, "{line}");
        }
    }

    /// Parsing with the named command alone gives what parsing with the whole tree gives:
    /// the same values, or the same error, word for word.
    #[test]
    fn parsing_with_one_command_is_parsing_with_all() {
        use clap::FromArgMatches;
        let whole = |args: Vec<std::ffi::OsString>| {
            Cli::command()
                .try_get_matches_from(args)
                .map(|matches| Cli {
                    options: Options::from_arg_matches(&matches).unwrap(),
                    command: Command::from_arg_matches(&matches).unwrap(),
                })
        };
        for line in [
            "bsic check",
            "bsic check --quiet dir",
            "bsic --quiet check dir",
            "bsic -q check -v",
            "bsic --color never check --max-diagnostics 0 --format sarif",
            "bsic --max-diagnostics=5 build --out dist -t jamf --allow-empty",
            "bsic build --sign-cert c.pem",
            "bsic check --bogus",
            "bsic check a b",
            "bsic check --format yaml",
            "bsic check --colr never",
            "bsic check --help",
            "bsic check --version",
            "bsic catalog --quiet",
            "bsic validate --platform macOS --min-os 26.1 a.json",
            "bsic status --fail-under 101",
            "bsic man keys new",
            "bsic lsp",
        ] {
            let one = Cli::try_parse_from(words(line));
            let all = whole(words(line));
            match (one, all) {
                (Ok(one), Ok(all)) => assert_eq!(format!("{one:?}"), format!("{all:?}"), "{line}"),
                (Err(one), Err(all)) => {
                    assert_eq!(one.kind(), all.kind(), "{line}");
                    assert_eq!(one.to_string(), all.to_string(), "{line}");
                }
                (one, all) => panic!("{line}: {one:?} against {all:?}"),
            }
        }
    }

    #[test]
    fn fail_under_is_a_finite_percentage() {
        for ok in ["0", "95", "99.5", "100"] {
            assert!(parse_percent(ok).is_ok(), "{ok}");
        }
        for bad in [
            "NaN", "nan", "inf", "-inf", "infinity", "-1", "100.1", "1e9", "", "95%",
        ] {
            assert!(parse_percent(bad).is_err(), "{bad}");
        }
    }
}
