//! The data directory: where each file lives, the lock that serialises
//! changes, and the files of the schema-2 journal: the device logs, in
//! segments (`segment`), the derived index (`index`), `config.json`
//! (`config`), and the JSON envelope and atomic writes they share (`file`).
//! See DESIGN.md §3 for the layout.
//!
//! Of schema 1, only names remain: [`Side`], which the migration
//! (`journal::migrate`, which reads a schema-1 directory on its own) also
//! uses, and the month and document paths, [`DataDir::months_of`] and
//! [`Batch::write`] with its size check, which serve only the schema-1 sync
//! in `sync/` and go with it.

pub mod config;
pub mod file;
pub mod index;
pub mod segment;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::domain::month::YearMonth;
use crate::error::{Error, Result};

use config::Config;

/// The root of one person's safe data.
#[derive(Debug, Clone)]
pub struct DataDir {
    root: PathBuf,
}

/// Held while a command reads, changes and writes data; released on drop.
/// Two safe processes at once therefore never lose each other's changes.
#[must_use]
pub struct Lock {
    _file: fs::File,
}

impl Lock {
    /// A new, empty change to the data directory (see [`Batch`]).
    pub fn batch(&self) -> Batch<'_> {
        Batch {
            _lock: self,
            files: file::Staged::default(),
        }
    }
}

/// The files of one change, written under the lock and put in place
/// together by [`commit`](Batch::commit): a change that cannot be written
/// whole (a full disk, a read-only directory) leaves nothing of itself.
#[must_use = "nothing is saved until the batch is committed"]
pub struct Batch<'l> {
    _lock: &'l Lock,
    files: file::Staged,
}

impl Batch<'_> {
    /// Stage `bytes` as the new content of `path`, a file of the data
    /// directory.
    /// No file grows past what sync accepts (see [`check_size`]).
    pub fn write(&mut self, path: &Path, bytes: &[u8]) -> Result<()> {
        check_size(path, bytes.len() as u64)?;
        self.files.write(path, bytes)
    }

    /// Put every file of the change in place.
    pub fn commit(self) -> Result<()> {
        self.files.commit()
    }
}

/// Which side of the journal a month file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// `shared/log/`: what sync carries to my partner.
    Shared,
    /// `private/log/`: never leaves this machine.
    Private,
}

impl DataDir {
    pub fn new(root: PathBuf) -> Self {
        DataDir { root }
    }

    /// The default place: the platform's data directory for "safe".
    pub fn default_root() -> Result<PathBuf> {
        directories::ProjectDirs::from("", "", "safe")
            .map(|dirs| dirs.data_dir().to_path_buf())
            .ok_or_else(|| {
                Error::runtime("could not find a home directory for safe's data")
                    .with_hint("set SAFE_DATA_DIR or pass --data-dir")
            })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn config_path(&self) -> PathBuf {
        self.root.join("config.json")
    }

    pub fn shared_dir(&self) -> PathBuf {
        self.root.join("shared")
    }

    pub fn people_path(&self) -> PathBuf {
        self.shared_dir().join("people.json")
    }

    pub fn practices_path(&self) -> PathBuf {
        self.shared_dir().join("practices.json")
    }

    pub fn log_dir(&self, side: Side) -> PathBuf {
        match side {
            Side::Shared => self.shared_dir().join("log"),
            Side::Private => self.root.join("private").join("log"),
        }
    }

    pub fn month_path(&self, side: Side, month: YearMonth) -> PathBuf {
        self.log_dir(side).join(month.file_name())
    }

    pub fn sync_git_dir(&self) -> PathBuf {
        self.root.join("sync.git")
    }

    /// Take the exclusive lock on the data directory, creating it if needed,
    /// and remove what a process killed while writing left behind.
    pub fn lock(&self) -> Result<Lock> {
        file::ensure_dir(&self.root)?;
        let path = self.root.join(".lock");
        let handle = file::open_lock_file(&path)?;
        handle.lock().map_err(|e| Error::io("lock", &path, e))?;
        let lock = Lock { _file: handle };
        self.remove_stale_files(&lock);
        Ok(lock)
    }

    /// Temporary files of writes that never finished: safe's own beside
    /// each file it replaces (the device key's too, which holds the
    /// secret), and libgit2's in `sync.git` (objects and packs
    /// being written, and lock files that would block every later sync).
    /// Everything here is written only under this lock, so none of them is
    /// being written now.
    fn remove_stale_files(&self, _lock: &Lock) {
        for dir in [
            self.root.clone(),
            self.shared_dir(),
            self.log_dir(Side::Shared),
            self.log_dir(Side::Private),
            self.root.join("keys"),
        ] {
            file::remove_stale(&dir, file::is_temporary);
        }
        let git = self.sync_git_dir();
        if !git.is_dir() {
            return;
        }
        for rel in [
            "",
            "objects",
            "objects/pack",
            "refs/heads",
            "refs/remotes/origin",
        ] {
            file::remove_stale(&git.join(rel), left_by_libgit2);
        }
    }

    pub fn read_config(&self) -> Result<Option<Config>> {
        file::read(&self.config_path())
    }

    /// config.json goes in place before the rest of its change: it holds the
    /// clock, which must never fall behind a revision already on disk, even
    /// after a crash between two renames (a clock ahead costs nothing).
    pub fn write_config(&self, config: &Config, batch: &mut Batch<'_>) -> Result<()> {
        batch
            .files
            .write_first(&self.config_path(), &file::to_text(config))
    }

    pub fn months_of(&self, side: Side) -> Result<BTreeSet<YearMonth>> {
        let dir = self.log_dir(side);
        let mut months = BTreeSet::new();
        let listing = match fs::read_dir(&dir) {
            Ok(listing) => listing,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(months),
            Err(e) => return Err(Error::io("list", &dir, e)),
        };
        for item in listing {
            let item = item.map_err(|e| Error::io("list", &dir, e))?;
            if let Some(month) = item
                .file_name()
                .to_str()
                .and_then(YearMonth::from_file_name)
            {
                months.insert(month);
            }
        }
        Ok(months)
    }
}

/// Refuse to write a journal file past [`MAX_FILE_BYTES`]: sync would refuse
/// to read it, so the journal could no longer be shared.
fn check_size(path: &Path, len: u64) -> Result<()> {
    use crate::domain::limits::MAX_FILE_BYTES;
    if len > MAX_FILE_BYTES {
        return Err(Error::input(format!(
            "{} would grow past {} MiB, the most safe keeps in one file",
            path.display(),
            MAX_FILE_BYTES >> 20
        ))
        .with_hint("nothing was saved; remove some entries or notes of that month first"));
    }
    Ok(())
}

/// What libgit2 leaves when it is killed while writing: a temporary file
/// named `…_git2_` and 16 hex digits (an object or a pack being written), or
/// a `….lock` beside a ref or the config it was updating.
fn left_by_libgit2(name: &std::ffi::OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    let temporary = name
        .rsplit_once("_git2_")
        .is_some_and(|(_, tail)| tail.len() == 16 && tail.bytes().all(|b| b.is_ascii_hexdigit()));
    let lock = name.len() > ".lock".len() && name.ends_with(".lock");
    temporary || lock || file::is_temporary(name.as_ref())
}
