//! Embeds every generated Apple schema (`schemas/apple/*.schema.json`, read from the crate's
//! copy in `data/apple/` so a packaged crate builds on its own) so `bsic validate` knows every
//! declaration and profile payload type. Writes `$OUT_DIR/apple_schemas.rs`: a sorted
//! `&[(name, text)]` of `include_str!`s. Never fails the build on a missing directory (the
//! list is then empty).
//!
//! Links the `bsic` executable at a fixed address on Linux (see [`link_fixed`]), with GCC's
//! unwinder inside it (see [`link_unwinder`]) and the code short runs execute laid out
//! together (see [`link_startup_order`]).
//!
//! Indexes Apple's availability table by payload type (`$OUT_DIR/apple_availability.rs`, see
//! `build/availability.rs`), so a run parses only the types it looks up.
//!
//! Also stamps the build for `bsic --version`: `BSIC_COMMIT` and `BSIC_COMMIT_DATE` (from Git
//! when built from a checkout, see [`stamp`]) and `BSIC_TARGET` (the target triple); and sets
//! the `bsic_repo` cfg when the crate is built inside its repository (see [`repository`]).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "build/availability.rs"]
mod availability;

// The projection's shape tables, made by the same code at build time as at run time.
#[path = "src/validate/shape.rs"]
#[allow(dead_code, unreachable_pub)]
mod shape;
#[path = "src/validate/shape_table.rs"]
#[allow(dead_code, unreachable_pub)]
mod shape_table;

fn main() {
    stamp();
    link_fixed();
    link_unwinder();
    link_startup_order();
    repository();
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    let dir = manifest.join("data/apple");
    availability::write_index(
        &dir.join("availability.json"),
        &out_dir.join("apple_availability.rs"),
    );
    write_shape_tables(&manifest, &out_dir.join("schema_shapes.rs"));
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| n.ends_with(".schema.json"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut out = String::from("&[\n");
    for name in &names {
        let stem = name.trim_end_matches(".schema.json");
        let path = dir.join(name);
        let _ = writeln!(
            out,
            "    ({stem:?}, include_str!({:?})),",
            path.display().to_string()
        );
    }
    out.push_str("]\n");
    let target =
        PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default()).join("apple_schemas.rs");
    if let Err(error) = std::fs::write(&target, out) {
        println!("cargo:warning=cannot write {}: {error}", target.display());
    }
}

/// Writes the shape tables of bsic's two schemas (`src/validate/shape_table.rs`) as Rust
/// statics, `POLICY` and `PROJECT`, so a run projects KDL without parsing the schemas' JSON.
/// A schema that is missing or not JSON gives a one-node table, which a unit test of
/// `compiled.rs` catches.
fn write_shape_tables(manifest: &Path, target: &Path) {
    use shape_table::{Node, ShapeTable};
    let mut out = String::new();
    for (name, file) in [
        ("POLICY", "data/bsic-policy.schema.json"),
        ("PROJECT", "data/bsic-project.schema.json"),
    ] {
        let path = manifest.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let schema: serde_json::Value = std::fs::read_to_string(&path)
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or_default();
        let table = ShapeTable::of(&schema);
        let nodes = table.nodes();
        let mut list = String::new();
        for (id, node) in nodes.iter().enumerate() {
            match node {
                Node::Object {
                    properties,
                    argument,
                } => {
                    let _ = write!(
                        out,
                        "static {name}_{id}: [(Cow<'static, str>, NodeId); {}] = [",
                        properties.len()
                    );
                    for (property, node) in properties.iter() {
                        let _ = write!(out, "(Cow::Borrowed({property:?}), {node}), ");
                    }
                    out.push_str("];\n");
                    let argument = argument.as_ref().map_or("None".to_string(), |a| {
                        format!("Some(Cow::Borrowed({a:?}))")
                    });
                    let _ = write!(
                        list,
                        "Node::Object {{ properties: Cow::Borrowed(&{name}_{id}), argument: {argument} }}, "
                    );
                }
                Node::Array { items } => {
                    let _ = write!(list, "Node::Array {{ items: {items} }}, ");
                }
                Node::Scalar => list.push_str("Node::Scalar, "),
            }
        }
        let _ = writeln!(
            out,
            "static {name}_NODES: [Node<'static>; {}] = [{list}];",
            nodes.len()
        );
        let _ = writeln!(
            out,
            "pub(crate) static {name}: ShapeTable<'static> = ShapeTable::from_static(&{name}_NODES);"
        );
    }
    if let Err(error) = std::fs::write(target, out) {
        println!("cargo:warning=cannot write {}: {error}", target.display());
    }
}

/// Sets the `bsic_repo` cfg when the repository is around the crate (its workspace manifest
/// and `docs/`), not in a packaged crate. Unit tests that check the crate against the
/// repository's docs, schemas and reference project are compiled only then.
fn repository() {
    println!("cargo::rustc-check-cfg=cfg(bsic_repo)");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let root = manifest.join("..");
    if !manifest.join(".cargo_vcs_info.json").exists()
        && root.join("Cargo.toml").is_file()
        && root.join("docs").is_dir()
    {
        println!("cargo::rustc-cfg=bsic_repo");
    }
}

/// Sets `BSIC_COMMIT`, `BSIC_COMMIT_DATE` and `BSIC_TARGET` for the crate.
///
/// The commit is `BSIC_BUILD_COMMIT` when set (release builds from a tarball), else Git's short
/// HEAD when this crate is built from a checkout, else "unknown" (a packaged crate: its
/// `.cargo_vcs_info.json` marks it, and the Git repository around it, if any, is not its own).
/// The date is the commit date, else `SOURCE_DATE_EPOCH`, else "unknown" — never the clock, so
/// two builds of one commit are byte-identical. Git missing or failing is no error.
fn stamp() {
    for var in ["BSIC_BUILD_COMMIT", "SOURCE_DATE_EPOCH"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let from_git = !manifest.join(".cargo_vcs_info.json").exists()
        && git(&manifest, &["ls-files", "--error-unmatch", "build.rs"]).is_some();
    if from_git {
        watch_head(&manifest);
    }
    let git_commit = || {
        from_git
            .then(|| git(&manifest, &["rev-parse", "--short=9", "HEAD"]))
            .flatten()
    };
    let commit = std::env::var("BSIC_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(git_commit)
        .unwrap_or_else(|| "unknown".to_string());
    let date = from_git
        .then(|| git(&manifest, &["log", "-1", "--format=%cs"]))
        .flatten()
        .or_else(source_date)
        .unwrap_or_else(|| "unknown".to_string());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_string());
    println!("cargo:rustc-env=BSIC_COMMIT={}", commit.trim());
    println!("cargo:rustc-env=BSIC_COMMIT_DATE={date}");
    println!("cargo:rustc-env=BSIC_TARGET={target}");
}

/// Links the executables as position-dependent (`-no-pie`) on Linux with glibc. A
/// position-independent `bsic` carries ~33,000 relocations (vtables, string tables) that the
/// loader applies on every start, writing to ~130 pages: 100 of the ~350 page faults and a
/// quarter of the CPU time of a one-file `bsic check`. The price is that the executable's own
/// image is not randomised (libraries, stack and heap still are); `BSIC_PIE=1` at build time
/// keeps the position-independent default, with its relative relocations packed (RELR,
/// glibc 2.36+): measured 3.4-3.6 ms per one-file check against 3.1 ms position-dependent
/// (`perf stat -r 150`, /bin/true 0.9 ms).
fn link_fixed() {
    println!("cargo:rerun-if-env-changed=BSIC_PIE");
    let linux_gnu = linux_gnu();
    let pie_wanted = switched_on("BSIC_PIE");
    if linux_gnu && !pie_wanted {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    } else if linux_gnu {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Links GCC's unwinder into the program (`libgcc_eh.a`, as `-static-libgcc` does for C++)
/// on Linux with glibc, instead of loading `libgcc_s.so.1` at every start for it. Rust's
/// standard library asks for `libgcc_s` only for `_Unwind_*` (panics, backtraces); with the
/// same functions already linked from the archive, `--as-needed` drops the shared library.
/// Loading it cost 0.10-0.14 ms of every run (a one-file `bsic check`, copies of both
/// executables, 600 interleaved runs: 2.415 against 2.271 ms; /bin/true 0.79 ms). Where the C
/// compiler has no `libgcc_eh.a` (a clang-only system), the shared library stays.
/// `BSIC_SHARED_UNWINDER=1` at build time keeps it too.
fn link_unwinder() {
    println!("cargo:rerun-if-env-changed=BSIC_SHARED_UNWINDER");
    println!("cargo:rerun-if-env-changed=RUSTC_LINKER");
    if !linux_gnu() || switched_on("BSIC_SHARED_UNWINDER") {
        return;
    }
    // The linker driver rustc calls (`cc` unless configured) knows where its libgcc lives.
    let driver = std::env::var("RUSTC_LINKER").unwrap_or_else(|_| "cc".to_string());
    let Some(archive) = Command::new(driver)
        .arg("-print-file-name=libgcc_eh.a")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|printed| PathBuf::from(printed.trim()))
        .filter(|path| path.is_absolute() && path.is_file())
    else {
        return;
    };
    if let Some(dir) = archive.parent() {
        println!("cargo:rustc-link-search=native={}", dir.display());
        // `-bundle`: named at the final link, ahead of the standard library's `-lgcc_s`.
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
    }
}

/// Lays out the functions short runs execute (`build/startup-order.txt`, written by `cargo
/// xtask startup-order`) together at the start of the code, where lld links the executables:
/// the `x86_64-unknown-linux-gnu` default since Rust 1.90. Scattered over 15 MB, they cost a
/// one-file `bsic check` 106 page faults for code; listed first, 25 (303 → 249 in all, 2.04
/// → 1.86 ms). Names the build does not have (another toolchain, other locked dependencies)
/// are skipped without a warning: a stale list only loses its effect, and `cargo xtask
/// startup-order --check` says how much of it matches. Not passed where the linker may be
/// another one (a configured linker, `-Clinker-features=-lld`, `-fuse-ld=`), nor with
/// `BSIC_STARTUP_ORDER=0` at build time.
fn link_startup_order() {
    println!("cargo:rerun-if-env-changed=BSIC_STARTUP_ORDER");
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let file = manifest.join("build/startup-order.txt");
    println!("cargo:rerun-if-changed={}", file.display());
    let rustflags = env_var("CARGO_ENCODED_RUSTFLAGS");
    let other_linker = std::env::var_os("RUSTC_LINKER").is_some()
        || [
            "linker-features=-lld",
            "link-self-contained=-linker",
            "-fuse-ld=",
        ]
        .iter()
        .any(|flag| rustflags.contains(flag));
    let wanted = env_var("BSIC_STARTUP_ORDER").trim() != "0";
    if env_var("TARGET") != "x86_64-unknown-linux-gnu" || other_linker || !wanted || !file.is_file()
    {
        return;
    }
    let Some(path) = file.to_str() else {
        return;
    };
    // `-Xlinker` hands the path over whole (`-Wl,` would split it at commas).
    for arg in ["--symbol-ordering-file", path, "--no-warn-symbol-ordering"] {
        println!("cargo:rustc-link-arg-bins=-Xlinker");
        println!("cargo:rustc-link-arg-bins={arg}");
    }
}

/// Whether the target is Linux with glibc, where the link choices above apply.
fn linux_gnu() -> bool {
    env_var("CARGO_CFG_TARGET_OS") == "linux" && env_var("CARGO_CFG_TARGET_ENV") == "gnu"
}

/// Whether a build-time switch (`BSIC_PIE`, `BSIC_SHARED_UNWINDER`) is set to anything but
/// nothing or `0`.
fn switched_on(name: &str) -> bool {
    !matches!(env_var(name).trim(), "" | "0")
}

/// An environment variable, empty when unset or not Unicode.
fn env_var(name: &str) -> String {
    std::env::var(name).unwrap_or_default()
}

/// Reruns this script when HEAD moves: HEAD itself (in a worktree's own Git directory), the
/// branch it names and `packed-refs` (both in the common directory). Only existing files are
/// watched: a missing one would make Cargo rerun the script on every build.
fn watch_head(manifest: &Path) {
    let dir = |arg: &str| git(manifest, &["rev-parse", "--path-format=absolute", arg]);
    let (Some(git_dir), Some(common)) = (dir("--git-dir"), dir("--git-common-dir")) else {
        return;
    };
    let (git_dir, common) = (PathBuf::from(git_dir), PathBuf::from(common));
    let mut watched = vec![git_dir.join("HEAD"), common.join("packed-refs")];
    if let Some(branch) = git(manifest, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(common.join(branch));
    }
    for path in watched.iter().filter(|p| p.is_file()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Runs `git ARGS` in `dir`; its trimmed stdout when it succeeds with some.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (output.status.success() && !text.is_empty()).then(|| text.to_string())
}

/// `SOURCE_DATE_EPOCH` as a UTC date (YYYY-MM-DD), when it is a number of seconds.
fn source_date() -> Option<String> {
    let seconds: i64 = std::env::var("SOURCE_DATE_EPOCH")
        .ok()?
        .trim()
        .parse()
        .ok()?;
    // Days to a civil date (Howard Hinnant's algorithm): no date crate in a build script.
    let z = seconds.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    Some(format!("{year:04}-{month:02}-{day:02}"))
}
