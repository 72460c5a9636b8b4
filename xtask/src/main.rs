//! `cargo xtask <task>`: development tasks for the bsic workspace.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use xtask::apple;

const USAGE: &str = "usage: cargo xtask gen-apple [--check]

gen-apple   regenerate schemas/apple/ from apple/device-management/ and apple/overlay.yaml
  --check   do not write; exit 1 and list the files that would change";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["gen-apple"] => gen_apple(false),
        ["gen-apple", "--check"] => gen_apple(true),
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
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}
