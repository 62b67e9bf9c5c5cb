//! Reading and writing one JSON file of the data directory: the schema
//! envelope, precise errors for files that do not parse, and atomic writes.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The data format this binary reads and writes.
pub const SCHEMA: u64 = 1;

/// Something stored in an envelope `{"schema": N, ...}`.
pub trait Versioned {
    fn schema(&self) -> u64;
}

macro_rules! versioned {
    ($($t:ty),*) => {$(
        impl Versioned for $t {
            fn schema(&self) -> u64 {
                self.schema
            }
        }
    )*};
}
versioned!(
    crate::domain::month::MonthFile,
    crate::domain::person::PeopleDoc,
    crate::domain::practice::PracticesDoc,
    super::config::Config
);

#[derive(serde::Deserialize)]
struct SchemaProbe {
    schema: u64,
}

/// Parse bytes that came from `path` (a file, or a blob of a remote). A newer
/// schema is refused before anything else, so a partner's newer data is never
/// misread; anything that does not parse names its line and column.
pub fn parse<T: DeserializeOwned + Versioned>(path: &Path, bytes: &[u8]) -> Result<T> {
    match serde_json::from_slice::<T>(bytes) {
        Ok(doc) if doc.schema() > SCHEMA => Err(Error::newer_schema(path, doc.schema(), SCHEMA)),
        Ok(doc) if doc.schema() == 0 => Err(Error::runtime(format!(
            "{} has schema 0, which safe never writes",
            path.display()
        ))
        .with_hint("safe left the file untouched; fix it by hand or restore it from a backup")),
        Ok(doc) => Ok(doc),
        Err(err) => match serde_json::from_slice::<SchemaProbe>(bytes) {
            Ok(probe) if probe.schema > SCHEMA => {
                Err(Error::newer_schema(path, probe.schema, SCHEMA))
            }
            _ => Err(Error::corrupt(path, &err)),
        },
    }
}

/// Read and parse a file; `None` when it does not exist yet.
pub fn read<T: DeserializeOwned + Versioned>(path: &Path) -> Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => parse(path, &bytes).map(Some),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::io("read", path, err)),
    }
}

/// The text safe writes for a document: pretty JSON and a final newline.
pub fn to_text<T: Serialize>(doc: &T) -> Vec<u8> {
    let mut text = Vec::with_capacity(128);
    serde_json::to_writer_pretty(&mut text, doc).expect("safe's documents always serialise");
    text.push(b'\n');
    text
}

/// Replace `path` with `bytes` so that a crash leaves the old file or the new
/// one, never a torn one (see [`Staged`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut staged = Staged::default();
    staged.write(path, bytes)?;
    staged.commit()
}

/// The files of one change, each written to a temporary file beside its
/// target and put in place only by [`commit`](Staged::commit): flush them
/// all, then rename each over its target, then flush the directories. A
/// failure while writing or flushing any of them (a full disk, a read-only
/// directory) leaves every target as it was, and the temporary files go
/// when this is dropped. Renames within a directory do not fail for want of
/// space or permission once the temporary file exists, so a change is
/// whole or absent. (A crash between two renames can still leave part of a
/// change; each file is whole.)
#[derive(Default)]
#[must_use = "nothing is in place until it is committed"]
pub struct Staged {
    files: Vec<(tempfile::NamedTempFile, PathBuf)>,
}

impl Staged {
    /// Stage `bytes` as the new content of `path`.
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        // A second version of a file would be read from the first one's
        // target, which the change has not touched yet.
        debug_assert!(
            self.files.iter().all(|(_, p)| p != path),
            "{} staged twice",
            path.display()
        );
        let mut tmp = temporary_beside(path)?;
        tmp.write_all(bytes)
            .map_err(|e| Error::io("write", path, e))?;
        self.files.push((tmp, path.to_path_buf()));
        Ok(())
    }

    /// Stage `bytes` as the new content of `path`, to be put in place
    /// before every file staged so far.
    pub fn write_first(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        self.write(path, bytes)?;
        let last = self.files.pop().expect("just staged");
        self.files.insert(0, last);
        Ok(())
    }

    /// Put every staged file in place, in the order they were staged.
    /// Flushing is what costs: many files (an import, a sync) are flushed
    /// from several threads, so the file system can commit them together; a
    /// few are flushed in turn, which is quicker than starting threads.
    pub fn commit(self) -> Result<()> {
        let Staged { files } = self;
        let flush = |tmp: &tempfile::NamedTempFile, path: &Path| {
            tmp.as_file()
                .sync_all()
                .map_err(|e| Error::io("write", path, e))
        };
        if files.len() <= 4 {
            files.iter().try_for_each(|(tmp, path)| flush(tmp, path))?;
        } else {
            let threads = 16.min(files.len().max(1));
            let chunk = files.len().div_ceil(threads).max(1);
            std::thread::scope(|scope| {
                let handles: Vec<_> = files
                    .chunks(chunk)
                    .map(|group| {
                        scope.spawn(move || {
                            group.iter().try_for_each(|(tmp, path)| flush(tmp, path))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .try_for_each(|h| h.join().expect("flush thread"))
            })?;
        }
        let mut dirs = std::collections::BTreeSet::new();
        for (tmp, path) in files {
            tmp.persist(&path)
                .map_err(|e| Error::io("replace", &path, e.error))?;
            dirs.insert(
                path.parent()
                    .expect("data files live in a directory")
                    .to_path_buf(),
            );
        }
        // A rename is durable only once its directory is flushed too.
        for dir in dirs {
            if let Ok(handle) = fs::File::open(&dir) {
                let _ = handle.sync_all();
            }
        }
        Ok(())
    }
}

/// Flush the folder `dir`: a name made, renamed or removed in it is
/// durable only then.
pub fn sync_dir(dir: &Path) -> Result<()> {
    fs::File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(|e| Error::io("flush", dir, e))
}

/// How safe names its temporary files: `.tmp-` and six random letters or
/// digits, in the directory of the file they will replace.
const TEMP_PREFIX: &str = ".tmp-";
const TEMP_RANDOM: usize = 6;

/// Whether `name` is one of safe's temporary files (see `temporary_beside`).
pub fn is_temporary(name: &std::ffi::OsStr) -> bool {
    name.to_str()
        .and_then(|n| n.strip_prefix(TEMP_PREFIX))
        .is_some_and(|rest| {
            rest.len() == TEMP_RANDOM && rest.bytes().all(|b| b.is_ascii_alphanumeric())
        })
}

/// Remove from `dir` the files whose names `stale` picks. Only under a lock
/// that every writer of those files holds, so none is being written: they
/// are what a killed process left. Best effort: a directory that cannot be
/// listed or changed is left as it is.
pub fn remove_stale(dir: &Path, stale: impl Fn(&std::ffi::OsStr) -> bool) {
    let Ok(listing) = fs::read_dir(dir) else {
        return;
    };
    for item in listing.flatten() {
        if stale(&item.file_name()) && item.file_type().is_ok_and(|t| t.is_file()) {
            let _ = fs::remove_file(item.path());
        }
    }
}

/// A new, empty, private temporary file beside `path`. Errors name `path`,
/// the file the user knows.
fn temporary_beside(path: &Path) -> Result<tempfile::NamedTempFile> {
    let dir = path.parent().expect("data files live in a directory");
    ensure_dir(dir)?;
    let tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .rand_bytes(TEMP_RANDOM)
        .tempfile_in(dir)
        .map_err(|e| Error::io("write", path, without_path(e)))?;
    set_private(tmp.path(), 0o600)?;
    Ok(tmp)
}

/// tempfile adds " at path …" (the temporary file's name) to its errors;
/// the user knows the file it stands for, which the message names instead.
fn without_path(err: std::io::Error) -> std::io::Error {
    let text = err.to_string();
    match text.rfind(" at path ") {
        Some(at) => std::io::Error::new(err.kind(), &text[..at]),
        None => err,
    }
}

/// Open (creating it) a file that is only ever locked, never written.
pub fn open_lock_file(path: &Path) -> Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open the lock file", path, e))
}

/// Create a directory (and its parents) readable only by its owner.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::io("create the directory", dir, e))
}

fn set_private(path: &Path, mode: u32) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))
            .map_err(|e| Error::io("set permissions on", path, e))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
