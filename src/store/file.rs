//! Reading and writing one JSON file of the data directory: the schema
//! envelope, precise errors for files that do not parse, and atomic writes.

use std::fs;
use std::io::Write;
use std::path::Path;

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

/// `path` open for reading, with its metadata; `None` if there is no such
/// file. For readers that need the file's identity as well as its bytes.
pub fn open_existing(path: &Path) -> Result<Option<(fs::File, fs::Metadata)>> {
    let handle = match fs::File::open(path) {
        Ok(handle) => handle,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    let meta = handle.metadata().map_err(|e| Error::io("read", path, e))?;
    Ok(Some((handle, meta)))
}

/// What is left of a file opened by [`open_existing`], `len` long (from its
/// metadata), read in one go.
pub fn read_rest(handle: &mut fs::File, len: u64, path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    handle
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    Ok(bytes)
}

/// The text safe writes for a document: pretty JSON and a final newline.
pub fn to_text<T: Serialize>(doc: &T) -> Vec<u8> {
    to_text_sized(doc, 128)
}

/// [`to_text`] into a buffer of `capacity` bytes to start with.
pub fn to_text_sized<T: Serialize>(doc: &T, capacity: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(capacity);
    serde_json::to_writer_pretty(&mut text, doc).expect("safe's documents always serialise");
    text.push(b'\n');
    text
}

/// Replace `path` with `bytes` so that a crash leaves the old file or the new
/// one, never a torn one: write a temporary file in the same directory, flush
/// it to disk, rename it over the old file, then flush the directory entry.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    replace_with(path, |file| {
        file.write_all(bytes)
            .map_err(|e| Error::io("write", path, e))?;
        Ok(Some(()))
    })?;
    Ok(())
}

/// Replace `path`, as [`write_atomic`] does, with what `write` writes to a
/// new file; unless `write` gives `None`, which leaves `path` as it was.
pub fn replace_with<T>(
    path: &Path,
    write: impl FnOnce(&mut fs::File) -> Result<Option<T>>,
) -> Result<Option<T>> {
    let mut tmp = stage(path, &[])?;
    let Some(done) = write(tmp.as_file_mut())? else {
        return Ok(None); // the temporary file goes with `tmp`
    };
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("flush", tmp.path(), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    sync_dir(path.parent().expect("data files live in a directory"));
    Ok(Some(done))
}

/// Write `bytes` to a private temporary file beside `path`, not yet flushed.
pub(super) fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
    let dir = path.parent().expect("data files live in a directory");
    ensure_dir(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .map_err(|e| Error::io("write", tmp.path(), e))?;
    set_private(tmp.path(), 0o600)?;
    Ok(tmp)
}

/// A rename is durable only once its directory is flushed too.
fn sync_dir(dir: &Path) {
    if let Ok(handle) = fs::File::open(dir) {
        let _ = handle.sync_all();
    }
}

/// Replace many files at once, each atomically, as an import does. Flushing
/// is what costs: the files are flushed from several threads so the file
/// system can commit them together, and only then renamed into place.
pub fn write_many_atomic(files: &[(std::path::PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        staged.push((stage(path, bytes)?, path));
    }
    let threads = 16.min(staged.len().max(1));
    let chunk = staged.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = staged
            .chunks(chunk)
            .map(|group| {
                scope.spawn(move || {
                    for (tmp, _) in group {
                        tmp.as_file()
                            .sync_all()
                            .map_err(|e| Error::io("flush", tmp.path(), e))?;
                    }
                    Ok::<(), Error>(())
                })
            })
            .collect();
        handles
            .into_iter()
            .try_for_each(|h| h.join().expect("flush thread"))
    })?;
    let mut dirs = std::collections::BTreeSet::new();
    for (tmp, path) in staged {
        tmp.persist(path)
            .map_err(|e| Error::io("replace", path, e.error))?;
        dirs.insert(path.parent().expect("a directory").to_path_buf());
    }
    dirs.iter().for_each(|dir| sync_dir(dir));
    Ok(())
}

/// Write a document atomically.
pub fn write<T: Serialize>(path: &Path, doc: &T) -> Result<()> {
    write_atomic(path, &to_text(doc))
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
