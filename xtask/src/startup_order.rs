//! The functions a short bsic run executes, listed for the linker to lay out together
//! (`compiler/build/startup-order.txt`, passed to lld by `compiler/build.rs` as
//! `--symbol-ordering-file`).
//!
//! A one-file `bsic check` runs about 950 of the executable's functions, spread over 15 MB of
//! code: the kernel maps that code in 64 KiB windows, one page fault each, and the run touched
//! a hundred windows. Listed first, the same functions fill a few: 308 → 243 page faults and
//! 2.20 → 1.91 ms per one-file `check` (see `docs/architecture.md`, "How bsic is linked").
//!
//! `cargo xtask startup-order` records what ran with `valgrind --tool=callgrind`, which sees
//! every function, however short, over a few everyday runs (see [`scenarios`]), and ranks the
//! functions by how many of the runs executed them. Symbol names carry hashes that change with
//! the Rust toolchain and the locked dependencies; a stale list only loses its effect (lld
//! skips names it does not know), and `--check` says how much of the list still matches.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where the list lives, relative to the workspace root.
pub const ORDER_FILE: &str = "compiler/build/startup-order.txt";

/// Below this share of listed functions found in the executable, `--check` fails: the list
/// no longer describes the build and should be recorded again.
pub const FRESH_ENOUGH: f64 = 0.9;

/// One recorded run: a name for messages, the arguments to bsic and the directory it runs in.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: &'static str,
    pub args: Vec<String>,
    pub dir: PathBuf,
}

/// The everyday short runs, set up under `work` from the repository at `root`: a copy of the
/// repository's own project (`bsic.kdl` and `policies/`), checked, checked with a mistake
/// (the diagnostics renderer, in colour as in a terminal), formatted, built; the raw
/// declarations and profile of `tests/fixtures/validate/good/` validated one by one and the
/// build output validated as a directory; and `bsic --version`.
pub fn scenarios(root: &Path, work: &Path) -> io::Result<Vec<Scenario>> {
    let project = work.join("project");
    let broken = work.join("broken");
    for dir in [&project, &broken] {
        copy_project(root, dir)?;
    }
    let policy = first_policy(&broken.join("policies"))?;
    let mut text = std::fs::read_to_string(&policy)?;
    text.push_str("\nno-such-node 1\n");
    std::fs::write(&policy, text)?;

    let out = work.join("out");
    let run = |name, args: &[&str], dir: &Path| Scenario {
        name,
        args: args.iter().map(|a| (*a).to_string()).collect(),
        dir: dir.to_path_buf(),
    };
    let mut scenarios = vec![
        run("version", &["--version"], &project),
        run("check", &["check"], &project),
        run(
            "check with an error",
            &["check", "--color", "always"],
            &broken,
        ),
        run("fmt --check", &["fmt", "--check"], &project),
        run(
            "build",
            &["build", "--out", &out.to_string_lossy()],
            &project,
        ),
    ];
    let mut fixtures: Vec<PathBuf> = std::fs::read_dir(root.join("tests/fixtures/validate/good"))?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    fixtures.sort();
    for fixture in fixtures {
        scenarios.push(Scenario {
            name: "validate a file",
            args: vec!["validate".into(), fixture.to_string_lossy().into_owned()],
            dir: project.clone(),
        });
    }
    // Runs after `build`, which writes what it validates.
    scenarios.push(run(
        "validate the build",
        &["validate", &out.to_string_lossy()],
        &project,
    ));
    Ok(scenarios)
}

fn copy_project(root: &Path, to: &Path) -> io::Result<()> {
    std::fs::create_dir_all(to.join("policies"))?;
    std::fs::copy(root.join("bsic.kdl"), to.join("bsic.kdl"))?;
    for entry in std::fs::read_dir(root.join("policies"))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join("policies").join(entry.file_name()))?;
        }
    }
    Ok(())
}

fn first_policy(dir: &Path) -> io::Result<PathBuf> {
    let mut policies: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<io::Result<_>>()?;
    policies.retain(|p| p.extension().is_some_and(|e| e == "kdl"));
    policies.sort();
    policies
        .into_iter()
        .next()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no policy to break"))
}

/// Runs `bsic` with the scenario's arguments under callgrind, writing its profile to `out`.
/// bsic's own exit code does not matter (the broken project fails on purpose); valgrind's
/// failing to run does.
pub fn record(bsic: &Path, scenario: &Scenario, out: &Path) -> io::Result<()> {
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--compress-strings=no")
        .arg("--compress-pos=no")
        .arg("--demangle=no")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg("--quiet")
        .arg(bsic)
        .args(&scenario.args)
        .current_dir(&scenario.dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()?;
    if out.is_file() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "valgrind wrote no profile for `{}` ({status})",
            scenario.name
        )))
    }
}

/// Records every scenario (under `target/startup-order`) and writes the ranked list to
/// [`ORDER_FILE`]: how many functions it lists, from how many runs.
pub fn record_all(
    root: &Path,
    bsic: &Path,
    defined: &HashSet<String>,
) -> io::Result<(usize, usize)> {
    let work = root.join("target/startup-order");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let mut runs = Vec::new();
    for (index, scenario) in scenarios(root, &work)?.iter().enumerate() {
        let profile = work.join(format!("callgrind.{index}.out"));
        record(bsic, scenario, &profile).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("{error} (is valgrind installed? Debian: apt install valgrind)"),
            )
        })?;
        runs.push(executed_functions(
            &std::fs::read_to_string(&profile)?,
            bsic,
        ));
    }
    let ranked = rank(&runs, defined);
    let mut text = ranked.join("\n");
    text.push('\n');
    std::fs::write(root.join(ORDER_FILE), text)?;
    Ok((ranked.len(), runs.len()))
}

/// The functions of `object` that a callgrind profile (written with `--compress-strings=no`)
/// saw run: every `fn=` cost line while the current `ob=` is `object`.
pub fn executed_functions(profile: &str, object: &Path) -> BTreeSet<String> {
    let object = object.to_string_lossy();
    let mut current_object = String::new();
    let mut functions = BTreeSet::new();
    for line in profile.lines() {
        if let Some(name) = line.strip_prefix("ob=") {
            current_object = name.trim().to_string();
        } else if let Some(name) = line.strip_prefix("fn=")
            && current_object == object
        {
            functions.insert(name.trim().to_string());
        }
    }
    functions
}

/// The order to lay the functions out in: those more runs executed first (the start-up every
/// command shares, then what fewer commands use), by name among equals, so the same runs give
/// the same file. Only names in `defined` (the executable's own functions) are kept.
pub fn rank(runs: &[BTreeSet<String>], defined: &HashSet<String>) -> Vec<String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for function in runs.iter().flatten() {
        if defined.contains(function) {
            *counts.entry(function).or_default() += 1;
        }
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked.into_iter().map(|(f, _)| f.to_string()).collect()
}

/// The function symbols an executable defines, from `nm --defined-only` output (`ADDRESS TYPE
/// NAME`, text symbols are `t`, `T`, `w` or `W`).
pub fn text_symbols(nm_output: &str) -> HashSet<String> {
    nm_output
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_address, kind, name) = (fields.next()?, fields.next()?, fields.next()?);
            matches!(kind, "t" | "T" | "w" | "W").then(|| name.to_string())
        })
        .collect()
}

/// Runs `nm --defined-only` on the executable.
pub fn defined_functions(executable: &Path) -> io::Result<HashSet<String>> {
    let output = Command::new("nm")
        .arg("--defined-only")
        .arg(executable)
        .output()?;
    if !output.status.success() {
        return Err(io::Error::other(format!(
            "nm {} failed: {}",
            executable.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(text_symbols(&String::from_utf8_lossy(&output.stdout)))
}

/// How many of the listed functions the executable defines, and how many are listed.
pub fn coverage(listed: &str, defined: &HashSet<String>) -> (usize, usize) {
    let names: Vec<&str> = listed.lines().filter(|l| !l.trim().is_empty()).collect();
    let found = names.iter().filter(|n| defined.contains(n.trim())).count();
    (found, names.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = "\
version: 1
creator: callgrind-3.19.0
events: Ir
ob=/lib/x86_64-linux-gnu/libc.so.6
fl=???
fn=memcpy
1 10
ob=/tmp/bsic
fl=???
fn=_ZN4bsic4main17h0123456789abcdefE
2 30
cob=/lib/x86_64-linux-gnu/libc.so.6
cfn=memcpy
calls=1 0
2 10
fn=_RNvCs1234_4bsic3run
3 5
";

    #[test]
    fn only_the_executables_own_functions_are_taken() {
        let functions = executed_functions(PROFILE, Path::new("/tmp/bsic"));
        assert_eq!(
            functions.into_iter().collect::<Vec<_>>(),
            ["_RNvCs1234_4bsic3run", "_ZN4bsic4main17h0123456789abcdefE"]
        );
    }

    #[test]
    fn functions_more_runs_need_come_first() {
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        let runs = vec![set(&["b", "a", "gone"]), set(&["b", "c"]), set(&["c", "b"])];
        let defined: HashSet<String> = ["a", "b", "c"].iter().map(|n| n.to_string()).collect();
        assert_eq!(rank(&runs, &defined), ["b", "c", "a"]);
    }

    #[test]
    fn nm_text_symbols_are_the_functions() {
        let nm = "0000000000401000 T main\n0000000000402000 r .L.str\n\
                  0000000000403000 t local_fn\n0000000000404000 D data\n\
                  0000000000405000 W weak_fn\n";
        let mut functions: Vec<String> = text_symbols(nm).into_iter().collect();
        functions.sort();
        assert_eq!(functions, ["local_fn", "main", "weak_fn"]);
    }

    #[test]
    fn coverage_counts_listed_names_the_executable_has() {
        let defined: HashSet<String> = ["a", "b"].iter().map(|n| n.to_string()).collect();
        assert_eq!(coverage("a\nb\nc\n\n", &defined), (2, 3));
    }
}
