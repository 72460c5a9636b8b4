//! Reading input files: the one place that says how much of a file bsic will read.
//!
//! Every file bsic reads whole comes through [`read`]; a build's manifest, parsed as it is
//! read, through [`open`]; device status reports, read one report at a time, are held to
//! their kind's limit with `Read::take`.
//!
//! In: a path and the kind of input it is. Out: the bytes, or an `io::Error`. Every limit is
//! stated here, together, in [`Input::limit`]. A file over its kind's limit is refused by its
//! size before anything is read, and again while reading (a file that grows meanwhile, or a
//! device such as `/dev/zero`, stops at the limit), with `io::ErrorKind::FileTooLarge` and a
//! [`TooLarge`] inside that names both sizes. Callers keep their own error types: they already
//! wrap an `io::Error` with the path.

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

const MIB: u64 = 1024 * 1024;

/// What a file is read as, for its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A KDL file: policies, `bsic.kdl`, a policy test.
    Kdl,
    /// One of Apple's files or one bsic wrote: a declaration, a profile (signed or not), an
    /// upload-state file.
    Apple,
    /// The `manifest.json` of a build: about 1 KB per file written, so 48 MB for a
    /// 10,000-policy build's 51,000 files.
    Manifest,
    /// A release feed or a pinned catalog snapshot (Apple's whole lookup service is ~8 MB).
    Catalog,
    /// What the fleet reports back: device reports, an inventory, a vendor's export (a
    /// million devices' worth is a few hundred MB).
    Fleet,
    /// A signing key, certificate, CA bundle or password file.
    Credential,
}

impl Input {
    /// The most bytes bsic reads of one file of this kind.
    pub const fn limit(self) -> u64 {
        match self {
            // About 2 KB of parser memory per KDL value (see `MAX_VALUES`): 4 MiB of policies is
            // already far more than any fleet writes in one file.
            Input::Kdl => 4 * MIB,
            Input::Apple => 16 * MIB,
            Input::Manifest => 1024 * MIB,
            Input::Catalog => 256 * MIB,
            Input::Fleet => 4096 * MIB,
            Input::Credential => MIB,
        }
    }
}

/// Why a file was refused: its size (as far as it was read) and the limit of its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the file is {size} bytes or more, over the {limit}-byte limit for this kind of input")]
pub struct TooLarge {
    pub size: u64,
    pub limit: u64,
}

impl TooLarge {
    /// The sizes inside an error from [`read`], if it was refused for its size.
    pub fn of(error: &io::Error) -> Option<TooLarge> {
        error.get_ref()?.downcast_ref::<TooLarge>().copied()
    }
}

/// Reads a whole file of kind `input`, refusing it past [`Input::limit`].
pub fn read(path: &Path, input: Input) -> io::Result<Vec<u8>> {
    let limit = input.limit();
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(size, limit));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    let read = bytes.len() as u64;
    if read > limit {
        return Err(too_large(read, limit));
    }
    Ok(bytes)
}

/// Opens a file of kind `input` to read as a stream: refused by its size like [`read`], and
/// cut at the limit if it grows meanwhile (then whatever parses it finds it incomplete).
pub fn open(path: &Path, input: Input) -> io::Result<io::BufReader<io::Take<File>>> {
    let limit = input.limit();
    let file = File::open(path)?;
    let size = file.metadata()?.len();
    if size > limit {
        return Err(too_large(size, limit));
    }
    Ok(io::BufReader::with_capacity(1 << 20, file.take(limit)))
}

/// [`read`], as UTF-8 text (`InvalidData` otherwise).
pub fn read_to_string(path: &Path, input: Input) -> io::Result<String> {
    String::from_utf8(read(path, input)?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

fn too_large(size: u64, limit: u64) -> io::Error {
    io::Error::new(io::ErrorKind::FileTooLarge, TooLarge { size, limit })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_within_its_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.kdl");
        std::fs::write(&path, b"group \"a\"\n").unwrap();
        assert_eq!(read(&path, Input::Kdl).unwrap(), b"group \"a\"\n");
    }

    #[test]
    fn a_file_over_its_limit_is_refused_with_both_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key.pem");
        let size = Input::Credential.limit() + 1;
        std::fs::write(&path, vec![b'x'; usize::try_from(size).unwrap()]).unwrap();
        let error = read(&path, Input::Credential).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::FileTooLarge);
        let limit = Input::Credential.limit();
        assert_eq!(TooLarge::of(&error), Some(TooLarge { size, limit }));
    }

    #[cfg(unix)]
    #[test]
    fn an_endless_file_stops_at_the_limit() {
        // /dev/zero reports size 0 and never ends.
        let error = read(Path::new("/dev/zero"), Input::Credential).unwrap_err();
        let too_large = TooLarge::of(&error).unwrap();
        assert_eq!(too_large.size, Input::Credential.limit() + 1);
    }

    #[test]
    fn other_errors_carry_no_sizes() {
        let error = read(Path::new("/nonexistent/bsic"), Input::Kdl).unwrap_err();
        assert_eq!(TooLarge::of(&error), None);
    }
}
