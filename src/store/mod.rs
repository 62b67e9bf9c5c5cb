//! The data directory: where each file lives, the lock that serialises
//! changes, and the journal's months. See DESIGN.md §3 for the layout.

pub mod append;
pub mod cache;
pub mod config;
pub mod file;
pub mod index;
pub mod segment;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use crate::domain::entry::{Entry, EntryId, id_head, id_matches};
use crate::domain::month::{MonthFile, YearMonth};
use crate::domain::person::PeopleDoc;
use crate::domain::practice::PracticesDoc;
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

    fn write_doc<T: serde::Serialize>(&mut self, path: &Path, doc: &T) -> Result<()> {
        self.write(path, &file::to_text(doc))
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

    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
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
    /// being written now. The day cache, which commands that only read save
    /// too, has a lock of its own (see `cache`).
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
        cache::remove_stale(self);
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

    pub fn read_people(&self) -> Result<PeopleDoc> {
        Ok(file::read(&self.people_path())?.unwrap_or_default())
    }

    pub fn write_people(&self, doc: &PeopleDoc, batch: &mut Batch<'_>) -> Result<()> {
        batch.write_doc(&self.people_path(), doc)
    }

    pub fn read_practices(&self) -> Result<PracticesDoc> {
        Ok(file::read(&self.practices_path())?.unwrap_or_default())
    }

    pub fn write_practices(&self, doc: &PracticesDoc, batch: &mut Batch<'_>) -> Result<()> {
        batch.write_doc(&self.practices_path(), doc)
    }

    pub fn read_month(&self, side: Side, month: YearMonth) -> Result<MonthFile> {
        Ok(file::read(&self.month_path(side, month))?.unwrap_or_default())
    }

    /// Write a month, sorted as the contract asks.
    pub fn write_month(
        &self,
        side: Side,
        month: YearMonth,
        doc: &mut MonthFile,
        batch: &mut Batch<'_>,
    ) -> Result<()> {
        doc.sort();
        batch.write_doc(&self.month_path(side, month), doc)?;
        // Hand the new contents to the day cache, so statistics right after
        // this change need not parse the month again.
        batch
            .files
            .then(cache::remember_written(self, side, month, doc));
        Ok(())
    }

    /// Add a new entry and/or a private note to a month file, leaving the
    /// records already there as they are (see `append`). Returns the ids
    /// already in the file that share the new entry's first 8 hex digits,
    /// for [`short_id`](Self::short_id), so it need not read the file again.
    pub fn append(
        &self,
        side: Side,
        month: YearMonth,
        entry: Option<&Entry>,
        note: Option<&crate::domain::month::PrivateNote>,
        batch: &mut Batch<'_>,
        cache: Option<&cache::Cache>,
    ) -> Result<Vec<EntryId>> {
        let path = self.month_path(side, month);
        let heads: std::collections::HashSet<[u8; 8]> =
            entry.map(|e| id_head(&e.id)).into_iter().collect();
        let mut opened = file::open_existing(&path)?;
        if let Some((_, before)) = &opened {
            check_size(&path, before.len() + ONE_RECORD)?;
        }
        // A file the day cache has read as it is now is known to parse: a
        // new latest entry is spliced in as the month streams through.
        if let (Some((month_file, before)), Some(entry), None) = (opened.as_mut(), entry, note)
            && cache.is_some_and(|c| c.vouches_for(side, month, before))
        {
            const PIECE: usize = 64 * 1024;
            let spliced = batch.files.write_with(&path, |out| {
                append::splice_streaming(month_file, out, entry, &heads, PIECE)
                    .map_err(|e| Error::io("add the entry to", &path, e))
            })?;
            if let Some(ids) = spliced {
                batch.files.then(cache::remember_appended(
                    self,
                    side,
                    month,
                    before,
                    Some(entry),
                ));
                return Ok(ids);
            }
            use std::io::Seek;
            month_file
                .rewind()
                .map_err(|e| Error::io("read", &path, e))?;
        }
        let (bytes, before) = match opened {
            Some((mut handle, before)) => (
                file::read_rest(&mut handle, before.len(), &path)?,
                Some(before),
            ),
            None => (Vec::new(), None),
        };
        if let Some(before) = &before
            && let Ok(raw) = serde_json::from_slice::<append::RawMonth>(&bytes)
            && raw.schema == file::SCHEMA
        {
            let entry_at = entry.map(|e| append::entry_position(&raw.entries, e).map(|at| (at, e)));
            let note_at = note.map(|n| append::note_position(&raw.notes, n).map(|at| (at, n)));
            // A record without a readable sort key (a hand edit) sends the
            // whole file through the careful path below instead.
            if entry_at.is_none_or(|p| p.is_some()) && note_at.is_none_or(|p| p.is_some()) {
                let text = append::render(&raw, entry_at.flatten(), note_at.flatten());
                batch.write(&path, &text)?;
                batch
                    .files
                    .then(cache::remember_appended(self, side, month, before, entry));
                return Ok(append::ids_with_heads(&bytes, &heads));
            }
        }
        // A new file, or one that needs a full parse: that also reports a
        // corrupt or newer file exactly as every other reader does.
        let mut doc = if before.is_some() {
            file::parse::<MonthFile>(&path, &bytes)?
        } else {
            MonthFile::default()
        };
        let near = doc
            .entries
            .iter()
            .map(|e| e.id)
            .filter(|id| heads.contains(&id_head(id)))
            .collect();
        if let Some(entry) = entry {
            doc.entries.push(entry.clone());
        }
        if let Some(note) = note {
            doc.notes.push(note.clone());
        }
        self.write_month(side, month, &mut doc, batch)?;
        Ok(near)
    }

    /// Entries of `months` (and the months either side of each) and of the
    /// months in which `ids` were made, whose ids share the first 8 hex
    /// digits with one of `ids`, found without parsing anything.
    ///
    /// Those digits are the top of a UUIDv7's millisecond timestamp, so they
    /// are shared only by ids made within the same 65.5 seconds, and a file
    /// holding such an id was written after that window opened: only such
    /// files are searched, as text. Entries made in the same minute land in
    /// or near the month they are about, or in the month they were made in,
    /// which is where the search goes; a rarer collision elsewhere (two
    /// entries backdated months apart in the same minute) is still caught
    /// when the prefix is used, as an ambiguous id that lists its matches.
    /// `already_read` names a file the caller has searched itself.
    pub fn ids_made_near(
        &self,
        ids: &[EntryId],
        months: &BTreeSet<YearMonth>,
        already_read: Option<(Side, YearMonth)>,
    ) -> Vec<EntryId> {
        let made_ms = |id: &EntryId| {
            let (secs, nanos) = id.get_timestamp()?.to_unix();
            Some(secs.saturating_mul(1000) + u64::from(nanos / 1_000_000))
        };
        let windows: Vec<(EntryId, std::time::SystemTime)> = ids
            .iter()
            .filter_map(|id| {
                let window = made_ms(id)? & !0xFFFF;
                Some((
                    *id,
                    std::time::UNIX_EPOCH + std::time::Duration::from_millis(window),
                ))
            })
            .collect();
        // The month an id was made in, wherever its maker lived: a day
        // either side of the moment in UTC covers every time zone.
        const DAY_MS: u64 = 86_400_000;
        let made_in = ids.iter().filter_map(made_ms).flat_map(|ms| {
            [ms.saturating_sub(DAY_MS), ms + DAY_MS]
                .into_iter()
                .filter_map(|ms| {
                    let at = chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)?;
                    Some(YearMonth::of(at.date_naive()))
                })
        });
        let nearby: BTreeSet<YearMonth> = months
            .iter()
            .flat_map(|m| [m.prev(), *m, m.next()])
            .chain(made_in)
            .collect();
        let mut near = Vec::new();
        let mut buffer = Vec::new();
        for side in [Side::Shared, Side::Private] {
            for month in &nearby {
                if already_read == Some((side, *month)) {
                    continue;
                }
                let Ok(handle) = fs::File::open(self.month_path(side, *month)) else {
                    continue;
                };
                let Ok(modified) = handle.metadata().and_then(|m| m.modified()) else {
                    continue;
                };
                // The 8-digit heads of the ids whose minute this file may hold.
                let heads: std::collections::HashSet<[u8; 8]> = windows
                    .iter()
                    .filter(|(_, w)| modified >= *w)
                    .map(|(id, _)| id_head(id))
                    .collect();
                if heads.is_empty() {
                    continue;
                }
                near.extend(append::ids_with_heads_in(handle, &heads, &mut buffer));
            }
        }
        near.sort();
        near.dedup();
        near
    }

    /// The shortest prefix (8 hex digits or more) that tells an entry of
    /// `day` apart from the others made around the same time, as git
    /// abbreviates hashes. `known` are such others the caller already found
    /// in the file `already_read` (see [`append`](Self::append)).
    pub fn short_id(
        &self,
        id: &EntryId,
        day: chrono::NaiveDate,
        known: Vec<EntryId>,
        already_read: Option<(Side, YearMonth)>,
    ) -> String {
        let months = BTreeSet::from([YearMonth::of(day)]);
        let mut ids = vec![*id];
        ids.extend(
            known
                .into_iter()
                .chain(self.ids_made_near(std::slice::from_ref(id), &months, already_read))
                .filter(|other| other != id),
        );
        crate::domain::entry::unique_prefixes(&ids).swap_remove(0)
    }

    /// The months that have a file on either side, oldest first.
    pub fn months(&self) -> Result<BTreeSet<YearMonth>> {
        let mut months = BTreeSet::new();
        for side in [Side::Shared, Side::Private] {
            months.extend(self.months_of(side)?);
        }
        Ok(months)
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

/// More than one entry or note can take in a file, with its longest note
/// escaped as JSON at its widest.
const ONE_RECORD: u64 = 32 * 1024;

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

/// Where an entry was found.
#[derive(Debug, Clone)]
pub struct Found {
    pub month: YearMonth,
    pub side: Side,
    pub entry: Entry,
}

/// Find the one live entry whose id starts with `prefix`, newest months
/// first. Ambiguous and unknown prefixes are input errors that say so.
pub fn find_entry(dir: &DataDir, prefix: &str) -> Result<Found> {
    let cleaned: String = prefix.chars().filter(|c| *c != '-').collect();
    if cleaned.len() < 4 || !cleaned.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::input(format!("`{prefix}` is not an entry id"))
            .with_hint("use at least 4 hex digits of the id that `safe history` shows"));
    }
    let mut found: Vec<Found> = Vec::new();
    for month in dir.months()?.into_iter().rev() {
        for side in [Side::Shared, Side::Private] {
            let doc = dir.read_month(side, month)?;
            for entry in doc.live().filter(|e| id_matches(&e.id, &cleaned)) {
                if !found.iter().any(|f| f.entry.id == entry.id) {
                    found.push(Found {
                        month,
                        side,
                        entry: entry.clone(),
                    });
                }
            }
        }
    }
    match found.len() {
        0 => Err(
            Error::input(format!("no entry has an id starting with `{prefix}`"))
                .with_hint("`safe history --all` lists entries with their ids"),
        ),
        1 => Ok(found.pop().expect("one")),
        n => {
            let ids: Vec<String> = found
                .iter()
                .take(5)
                .map(|f| f.entry.id.simple().to_string())
                .collect();
            Err(Error::input(format!("`{prefix}` matches {n} entries"))
                .with_hint(format!("type more of the id: {}", ids.join(", "))))
        }
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
