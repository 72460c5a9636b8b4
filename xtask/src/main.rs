//! `cargo xtask <task>`: development tasks for the bsic workspace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::{apple, crate_data, fleet, startup_order};

const USAGE: &str = "usage: cargo xtask gen-apple [--check]
       cargo xtask sync-crate [--check]
       cargo xtask gen-fleet N [--groups G] [--out DIR] [--seed S]
       cargo xtask startup-order [--check] [--binary PATH]

gen-apple   regenerate schemas/apple/ from apple/device-management/ and apple/overlay.yaml
            (then sync-crate)
  --check   do not write; exit 1 and list the files that would change
sync-crate  copy what the bsic crate embeds (schemas/apple/, docs/diagnostics.md, LICENSE)
            into compiler/, so the packaged crate builds on its own
  --check   do not write; exit 1 and list the copies that differ
gen-fleet   write a synthetic bsic repository with N policies across N/2 groups
  --groups  spread them over G groups instead
  --out     where to write it (default: target/fleet-N)
  --seed    another deterministic fleet (default: the fixed seed)
startup-order  record (valgrind) which functions short bsic runs execute and write them to
            compiler/build/startup-order.txt, the order lld lays out bsic's code in
  --check   do not record; exit 1 when under 90 % of the listed functions are in the binary
  --binary  the bsic executable to look at (default: build target/release/bsic)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["gen-apple"] => gen_apple(false),
        ["gen-apple", "--check"] => gen_apple(true),
        ["sync-crate"] => sync_crate(false),
        ["sync-crate", "--check"] => sync_crate(true),
        ["gen-fleet", rest @ ..] => gen_fleet(rest),
        ["startup-order", rest @ ..] => startup_order(rest),
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn gen_apple(check_only: bool) -> ExitCode {
    let root = workspace_root();
    let generated = match apple::generate(&root) {
        Ok(generated) => generated,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    for note in &generated.notes {
        eprintln!("note: {note}");
    }
    let result = if check_only {
        apple::check(&root, &generated)
    } else {
        apple::write(&root, &generated)
    };
    match result {
        Ok(changed) if changed.is_empty() => {
            println!(
                "{}: {} files up to date",
                apple::OUTPUT_DIR,
                generated.files.len()
            );
            ExitCode::SUCCESS
        }
        Ok(changed) if check_only => {
            eprintln!(
                "{} is out of date (run `cargo xtask gen-apple`):",
                apple::OUTPUT_DIR
            );
            for file in changed {
                eprintln!("  {file}");
            }
            ExitCode::from(1)
        }
        Ok(changed) => {
            for file in &changed {
                println!("updated {file}");
            }
            println!("{}: {} files changed", apple::OUTPUT_DIR, changed.len());
            sync_crate(false)
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn sync_crate(check_only: bool) -> ExitCode {
    let root = workspace_root();
    let result = if check_only {
        crate_data::stale(&root)
    } else {
        crate_data::sync(&root)
    };
    match result {
        Ok(changed) if changed.is_empty() => {
            println!("compiler/: the crate's copies are up to date");
            ExitCode::SUCCESS
        }
        Ok(changed) if check_only => {
            eprintln!("the bsic crate's copies are out of date (run `cargo xtask sync-crate`):");
            for file in changed {
                eprintln!("  {file}");
            }
            ExitCode::from(1)
        }
        Ok(changed) => {
            for file in &changed {
                println!("updated {file}");
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

fn gen_fleet(args: &[&str]) -> ExitCode {
    let mut count = None;
    let mut out = None;
    let mut seed = fleet::DEFAULT_SEED;
    let mut groups = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--out" => out = rest.next().map(PathBuf::from),
            "--groups" => match rest.next().and_then(|s| s.parse().ok()) {
                Some(g) if g > 0 => groups = Some(g),
                _ => return usage_error("--groups takes a positive whole number"),
            },
            "--seed" => match rest.next().and_then(|s| s.parse().ok()) {
                Some(s) => seed = s,
                None => return usage_error("--seed takes a whole number"),
            },
            n => match n.parse::<usize>() {
                Ok(n) if n > 0 && count.is_none() => count = Some(n),
                _ => return usage_error(&format!("unexpected argument `{n}`")),
            },
        }
    }
    let Some(count) = count else {
        return usage_error("gen-fleet needs the number of policies");
    };
    let out = out.unwrap_or_else(|| workspace_root().join(format!("target/fleet-{count}")));
    let groups = groups.unwrap_or_else(|| fleet::default_groups(count));
    let files = fleet::generate_shaped(count, groups, seed);
    match fleet::write(&out, &files) {
        Ok(()) => {
            println!(
                "wrote {} files ({count} policies, {groups} groups) to {}",
                files.len(),
                out.display()
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", out.display());
            ExitCode::from(2)
        }
    }
}

fn startup_order(args: &[&str]) -> ExitCode {
    let mut check_only = false;
    let mut binary = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match *arg {
            "--check" => check_only = true,
            "--binary" => match rest.next() {
                Some(path) => binary = Some(PathBuf::from(path)),
                None => return usage_error("--binary takes the path of a bsic executable"),
            },
            other => return usage_error(&format!("unexpected argument `{other}`")),
        }
    }
    let root = workspace_root();
    let binary = match binary {
        Some(path) => path,
        None => match build_release(&root) {
            Ok(path) => path,
            Err(error) => {
                eprintln!("error: {error}");
                return ExitCode::from(2);
            }
        },
    };
    let binary = std::fs::canonicalize(&binary).unwrap_or(binary);
    let defined = match startup_order::defined_functions(&binary) {
        Ok(defined) => defined,
        Err(error) => {
            eprintln!(
                "error: cannot list the functions of {}: {error}",
                binary.display()
            );
            return ExitCode::from(2);
        }
    };
    let file = root.join(startup_order::ORDER_FILE);
    if check_only {
        let listed = std::fs::read_to_string(&file).unwrap_or_default();
        let (found, total) = startup_order::coverage(&listed, &defined);
        let share = if total == 0 {
            0.0
        } else {
            found as f64 / total as f64
        };
        println!(
            "{}: {found} of {total} listed functions are in {} ({:.0} %)",
            startup_order::ORDER_FILE,
            binary.display(),
            share * 100.0
        );
        if share < startup_order::FRESH_ENOUGH {
            eprintln!(
                "the list no longer matches this build (another Rust toolchain or other \
                 locked dependencies): run `cargo xtask startup-order`"
            );
            return ExitCode::from(1);
        }
        return ExitCode::SUCCESS;
    }
    match startup_order::record_all(&root, &binary, &defined) {
        Ok((functions, runs)) => {
            println!(
                "wrote {functions} functions from {runs} runs to {}",
                startup_order::ORDER_FILE
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Builds `target/release/bsic` (or under `CARGO_TARGET_DIR`) and returns its path.
fn build_release(root: &Path) -> std::io::Result<PathBuf> {
    let status = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
        .args([
            "build",
            "--release",
            "--quiet",
            "-p",
            "bsic",
            "--bin",
            "bsic",
        ])
        .current_dir(root)
        .status()?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "cargo build failed ({status})"
        )));
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    Ok(target.join("release/bsic"))
}

fn usage_error(message: &str) -> ExitCode {
    eprintln!("error: {message}\n{USAGE}");
    ExitCode::from(2)
}
