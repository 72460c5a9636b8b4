//! Differential check of bsic's vendored kdl against kdl from crates.io: the same text must
//! give the same document (or the same errors, message, label, help and span alike), and the
//! same text when formatted. Inputs: every `.kdl` file under the directories given, and for
//! each, mutants with characters removed, replaced or inserted (the characters KDL's grammar
//! cares about), seeded so a run is repeatable.
//!
//! Usage: `cargo run --release -- DIR...`; exits 1 on the first differences.

use std::path::{Path, PathBuf};

/// Characters the mutants are made of: separators, quotes, escapes, KDL's newlines and spaces,
/// its disallowed code points, and ordinary ones.
const SPECIALS: [char; 27] = [
    '=', ' ', '\n', '\r', '"', '#', '\\', '/', '{', '}', ';', '(', ')', '\u{a0}', '\u{2028}',
    '\u{85}', '\u{b}', '\u{c}', '\u{feff}', '\u{200e}', '*', 'x', '-', '.', '1', '\t', '\u{0}',
];
const MUTANTS_PER_FILE: usize = 40;

fn main() {
    let dirs: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if dirs.is_empty() {
        eprintln!("usage: kdl-check DIR...");
        std::process::exit(2);
    }
    let mut files = Vec::new();
    for dir in &dirs {
        walk(dir, &mut files);
    }
    files.sort();
    let mut random = XorShift(0x9e37_79b9_7f4a_7c15);
    let (mut compared, mut differing) = (0usize, 0usize);
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let mut inputs = vec![text.clone()];
        inputs.extend((0..MUTANTS_PER_FILE).map(|_| mutant(&text, &mut random)));
        for input in inputs {
            compared += 1;
            if let Some(difference) = difference(&input) {
                differing += 1;
                if differing <= 5 {
                    eprintln!("{}: {difference}\ninput: {input:?}\n", file.display());
                }
            }
        }
    }
    println!(
        "kdl-check: {compared} inputs from {} files, {differing} parsed or formatted differently",
        files.len()
    );
    if files.is_empty() || differing > 0 {
        std::process::exit(1);
    }
}

/// How the two copies disagree on `text`, if they do.
fn difference(text: &str) -> Option<String> {
    let upstream = text.parse::<kdl_upstream::KdlDocument>();
    let vendored = text.parse::<kdl_vendored::KdlDocument>();
    let (a, b) = (format!("{upstream:?}"), format!("{vendored:?}"));
    if a != b {
        return Some(format!("parsed differently\nupstream: {a}\nvendored: {b}"));
    }
    if let (Ok(mut upstream), Ok(mut vendored)) = (upstream, vendored) {
        if upstream.to_string() != vendored.to_string() {
            return Some("printed differently".into());
        }
        upstream.autoformat();
        vendored.autoformat();
        let (a, b) = (upstream.to_string(), vendored.to_string());
        if a != b {
            return Some(format!("formatted differently\nupstream: {a}\nvendored: {b}"));
        }
    }
    None
}

/// `text` with one to three characters removed, replaced or inserted.
fn mutant(text: &str, random: &mut XorShift) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for _ in 0..1 + random.below(3) {
        let at = random.below(chars.len() + 1);
        let special = SPECIALS[random.below(SPECIALS.len())];
        match random.below(3) {
            0 if at < chars.len() => {
                chars.remove(at);
            }
            1 if at < chars.len() => chars[at] = special,
            _ => chars.insert(at, special),
        }
    }
    chars.into_iter().collect()
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if !path.ends_with("target") && !path.ends_with(".git") {
                walk(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "kdl") {
            out.push(path);
        }
    }
}

/// A small repeatable pseudo-random sequence (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }
}
