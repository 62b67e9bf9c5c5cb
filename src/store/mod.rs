//! The data directory: where each file lives, the lock that serialises
//! changes, and the files of the schema-2 journal: the device logs, in
//! segments (`segment`), the derived index (`index`), `config.json`
//! (`config`), and the JSON envelope and atomic writes they share (`file`).
//! See DESIGN.md §3 for the layout.
//!
//! Nothing here reads or writes schema 1 any more: the migration
//! (`journal::migrate`) reads a schema-1 directory on its own, with
//! [`file`]'s schema checks.

pub mod boot;
pub mod config;
pub mod file;
pub mod index;
pub mod rituals;
pub mod segment;
pub mod strip;

use std::fs;
use std::path::{Path, PathBuf};

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
    /// Put every file of the change in place.
    pub fn commit(self) -> Result<()> {
        self.files.commit()
    }
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
    /// being written now. The folders of schema 1 are cleared too: the
    /// migration refuses a log folder holding anything but month files,
    /// and a schema-1 write that was killed left its temporary file there.
    fn remove_stale_files(&self, _lock: &Lock) {
        let shared = self.root.join("shared");
        for dir in [
            self.root.clone(),
            shared.join("log"),
            self.root.join("private").join("log"),
            shared,
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
