//! The bsic crate's copies of what it embeds (`compiler/data/`, `compiler/LICENSE`) are the
//! repository's files byte for byte, so the packaged crate builds what the repository does.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use xtask::crate_data;

#[test]
fn the_crates_copies_are_the_repositorys_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let stale = crate_data::stale(root).unwrap();
    assert!(
        stale.is_empty(),
        "the bsic crate's copies differ from the repository's files (edit the repository's \
         and run `cargo xtask sync-crate`, then commit):\n  {}",
        stale.join("\n  ")
    );
}

/// Every file the crate's build reads from `data/` is one the sync keeps: a copy added by
/// hand would go stale unnoticed.
#[test]
fn the_copies_cover_what_the_build_embeds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let copies = crate_data::copies(root).unwrap();
    for name in ["apple/availability.json", "diagnostics.md"] {
        assert!(
            copies.contains_key(&format!("{}/{name}", crate_data::DATA_DIR)),
            "{name}"
        );
    }
    assert!(
        copies
            .keys()
            .filter(|c| c.ends_with(".schema.json"))
            .count()
            > 100
    );
}
