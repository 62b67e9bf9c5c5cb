//! Migration from schema 1: a data directory of monthly JSON files becomes
//! a schema-2 journal (DESIGN.md §3 "Migration"; docs/protocol.md
//! "Migration from schema 1", each rule naming its test below).
//!
//! Only *my* records are signed into the new logs: everything of mine that
//! is live, in one batch in the shared log and one in the private log, both
//! under the operation id `schema1-<my schema-1 id>`. My partner's records
//! cannot be signed by me (a record's owner is whoever's device writes it),
//! so they are kept in a read-only snapshot, shown as before, until their
//! own `schema1-<their id>` batch arrives and replaces it.
//!
//! The old files are kept byte for byte under `backup-schema1/`. A marker
//! file stands from before the first change to after the last; a run that
//! finds it throws away the half-made schema-2 state and starts again from
//! the backup (or from the old files, if the backup was not finished).

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod snapshot;

pub use snapshot::{SNAPSHOT, SNAPSHOT_FORMAT, Snapshot, SnapshotPerson, replaced_people};

use super::{Identity, Journal};
use crate::domain::entry::{Entry, EntryId};
use crate::domain::limits::check_name;
use crate::domain::month::{MonthFile, PrivateNote, YearMonth};
use crate::domain::person::PeopleDoc;
use crate::domain::practice::{GoalSetting, PracticesDoc};
use crate::domain::record::{
    EntryRecord, GoalRecord, Hex32, NameRecord, NoteRecord, PracticeRecord, Record, Rev, check_op,
};
use crate::error::{Error, Result};
use crate::keys::line::{LogKind, NoteSidecar};
use crate::keys::{DeviceId, DeviceKey};
use crate::store::config::Config;
use crate::store::{Lock, file};

/// Stands in the data directory while a migration is under way.
pub const MARKER: &str = "migrating";
/// Where the schema-1 files are kept, under their old relative paths.
pub const BACKUP: &str = "backup-schema1";
/// The backup while it is written; renamed to [`BACKUP`] once whole.
const BACKUP_STAGING: &str = "backup-schema1.tmp";
/// Operation ids of migration batches start with this, then the schema-1
/// id of the person whose records they replace.
pub const OP_PREFIX: &str = "schema1-";

/// What a migration moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Migrated {
    /// My live entries, shared and private.
    pub entries: usize,
    /// My notes: shared ones (as sidecars) and unshared ones.
    pub notes: usize,
    pub goals: usize,
    /// My custom practices.
    pub practices: usize,
    /// Entries of everyone else, kept in the snapshot.
    pub partner_entries: usize,
}

/// Does the data directory at `root` need [`migrate`]? Yes when a
/// migration was left half done, or when it has a `config.json` but no
/// `journal.json` and that config is not of a newer schema (one that does
/// not read counts: `migrate` then names it).
pub fn is_schema1(root: &Path) -> bool {
    if root.join(MARKER).exists() {
        return true;
    }
    if Identity::path(root).exists() {
        return false;
    }
    let Ok(bytes) = fs::read(root.join("config.json")) else {
        return false;
    };
    #[derive(Deserialize)]
    struct Probe {
        schema: u64,
    }
    serde_json::from_slice::<Probe>(&bytes).map_or(true, |p| p.schema <= file::SCHEMA)
}

/// Migrate the schema-1 data directory at `root` to a schema-2 journal
/// (see the module doc and docs/protocol.md "Migration from schema 1").
pub fn migrate(root: &Path, wall_ms: u64, lock: &Lock) -> Result<Migrated> {
    run(root, wall_ms, lock, None)
}

/// The points after which a test may stop a migration, as a crash would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Marked,
    HalfBackedUp,
    BackedUp,
    HalfRemoved,
    Removed,
    Created,
    SharedWritten,
    PrivateWritten,
    SnapshotWritten,
}

fn run(root: &Path, wall_ms: u64, lock: &Lock, stop: Option<Step>) -> Result<Migrated> {
    let crash = |step: Step| match stop == Some(step) {
        true => Err(Error::runtime(format!("stopped after {step:?} (a test)"))),
        false => Ok(()),
    };
    let resuming = root.join(MARKER).exists();
    if resuming {
        clear_partial(root)?;
    } else {
        refuse_unless_schema1(root)?;
    }
    let backed_up = root.join(BACKUP).is_dir();
    let source = if backed_up {
        root.join(BACKUP)
    } else {
        root.to_path_buf()
    };
    // Everything is read and checked before the first change.
    let old = Old::read(&source)?;
    let plan = Plan::make(&old, wall_ms)?;

    if !resuming {
        file::write_atomic(&root.join(MARKER), marker_text(&plan.me).as_bytes())?;
    }
    crash(Step::Marked)?;
    if !backed_up {
        back_up(root, &old.files, || crash(Step::HalfBackedUp))?;
    }
    crash(Step::BackedUp)?;
    remove_old(root, &old.files, || crash(Step::HalfRemoved))?;
    crash(Step::Removed)?;

    let mut journal = Journal::create(root, &plan.name, wall_ms, lock)?;
    crash(Step::Created)?;
    let op = format!("{OP_PREFIX}{}", plan.me);
    journal.write(&op, &plan.shared, LogKind::Shared, wall_ms, lock)?;
    crash(Step::SharedWritten)?;
    if !plan.private.is_empty() {
        journal.write(&op, &plan.private, LogKind::Private, wall_ms, lock)?;
    }
    crash(Step::PrivateWritten)?;
    if !plan.snapshot.people.is_empty() {
        plan.snapshot.save(root, lock)?;
    }
    crash(Step::SnapshotWritten)?;

    remove_file(&root.join(MARKER))?;
    sync_dir(root);
    Ok(plan.counts)
}

fn marker_text(me: &str) -> String {
    format!(
        "safe is migrating this data directory from schema 1 (person {me}).\n\
         The old files are in {BACKUP}/ once it exists, else still in place.\n\
         Run safe again to finish; do not delete this file by hand.\n"
    )
}

/// Without a marker, only a schema-1 directory that was never touched is
/// migrated: no journal yet, and no backup that a run could overwrite.
fn refuse_unless_schema1(root: &Path) -> Result<()> {
    if Identity::path(root).exists() {
        return Err(Error::input(format!(
            "{} already holds a schema-2 journal: there is nothing to migrate",
            root.display()
        )));
    }
    if !root.join("config.json").exists() {
        return Err(Error::input(format!(
            "{} holds no schema-1 journal (no config.json)",
            root.display()
        )));
    }
    for name in [BACKUP, BACKUP_STAGING] {
        let path = root.join(name);
        if path.exists() {
            return Err(Error::runtime(format!(
                "{} already exists, so safe will not migrate over it",
                path.display()
            ))
            .with_hint("move it out of the data directory, then run safe again"));
        }
    }
    Ok(())
}

/// Remove what a migration that stopped half way made: the schema-2 files
/// (never synced: the marker stands until the end) and an unfinished
/// backup. The old files, in place or in the finished backup, stay.
fn clear_partial(root: &Path) -> Result<()> {
    let path = Identity::path(root);
    if path.exists() {
        remove_file(&path)?;
    }
    for dir in [
        DeviceKey::path(root)
            .parent()
            .expect("the key lives in a folder")
            .to_path_buf(),
        root.join("index"),
        Snapshot::path(root)
            .parent()
            .expect("the snapshot lives in a folder")
            .to_path_buf(),
        root.join(BACKUP_STAGING),
    ] {
        remove_dir(&dir)?;
    }
    for logs in [
        root.join("shared").join("log"),
        root.join("private").join("log"),
    ] {
        let Ok(listing) = fs::read_dir(&logs) else {
            continue;
        };
        for item in listing {
            let item = item.map_err(|e| Error::io("list", &logs, e))?;
            let is_dir = item.file_type().is_ok_and(|t| t.is_dir());
            let device = item.file_name().to_str().and_then(DeviceId::parse);
            if is_dir && device.is_some() {
                remove_dir(&item.path())?;
            }
        }
        sync_dir(&logs);
    }
    sync_dir(root);
    Ok(())
}

/// One schema-1 file: where it is, relative to the data directory, and its
/// bytes as read.
struct OldFile {
    rel: PathBuf,
    bytes: Vec<u8>,
}

/// Which side of a schema-1 journal a month file belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// `shared/log/`: what the schema-1 sync carried to my partner.
    Shared,
    /// `private/log/`: never left the machine.
    Private,
}

/// A schema-1 data directory, read whole and parsed.
struct Old {
    files: Vec<OldFile>,
    config: Config,
    people: PeopleDoc,
    practices: PracticesDoc,
    months: Vec<(Side, MonthFile)>,
}

impl Old {
    /// Read the schema-1 files under `base` (the data directory or its
    /// backup). A newer schema is refused with "upgrade safe", and a file
    /// that does not parse is named; so is anything in a log folder that is
    /// not a month file.
    fn read(base: &Path) -> Result<Old> {
        let mut files = Vec::new();
        let config: Config = load(base, "config.json".into(), &mut files)?
            .ok_or_else(|| Error::runtime(format!("{} holds no config.json", base.display())))?;
        let shared = Path::new("shared");
        let people = load(base, shared.join("people.json"), &mut files)?;
        let practices = load(base, shared.join("practices.json"), &mut files)?;
        let mut months = Vec::new();
        for (side, dir) in [(Side::Shared, "shared"), (Side::Private, "private")] {
            let rel_dir = Path::new(dir).join("log");
            for name in month_names(&base.join(&rel_dir))? {
                if let Some(month) = load(base, rel_dir.join(name), &mut files)? {
                    months.push((side, month));
                }
            }
        }
        Ok(Old {
            files,
            config,
            people: people.unwrap_or_default(),
            practices: practices.unwrap_or_default(),
            months,
        })
    }
}

/// Read and parse the schema-1 file `rel` under `base`, and keep its bytes
/// in `files` for the backup; `None` if there is no such file.
fn load<T: serde::de::DeserializeOwned + file::Versioned>(
    base: &Path,
    rel: PathBuf,
    files: &mut Vec<OldFile>,
) -> Result<Option<T>> {
    let path = base.join(&rel);
    let bytes = match fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", &path, e)),
    };
    let doc = file::parse(&path, &bytes)?;
    files.push(OldFile { rel, bytes });
    Ok(Some(doc))
}

/// The month files in a schema-1 log folder, in order; anything else there
/// is refused by name (schema 2 keeps its logs in that same folder).
fn month_names(dir: &Path) -> Result<Vec<String>> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut names = Vec::new();
    for item in listing {
        let item = item.map_err(|e| Error::io("list", dir, e))?;
        let name = item.file_name().to_string_lossy().into_owned();
        let is_file = item.file_type().is_ok_and(|t| t.is_file());
        if !is_file || YearMonth::from_file_name(&name).is_none() {
            return Err(Error::runtime(format!(
                "{} is not a file of a schema-1 journal, so nothing was migrated",
                item.path().display()
            ))
            .with_hint("move it out of the data directory, then run safe again"));
        }
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// What a migration writes, worked out (and checked) before it writes.
struct Plan {
    /// My schema-1 id.
    me: String,
    name: String,
    shared: Vec<(Record, Option<String>)>,
    private: Vec<(Record, Option<String>)>,
    snapshot: Snapshot,
    counts: Migrated,
}

impl Plan {
    fn make(old: &Old, wall_ms: u64) -> Result<Plan> {
        let me = old.config.id.clone();
        let op = format!("{OP_PREFIX}{me}");
        check_op(&op).map_err(|why| {
            Error::runtime(format!(
                "config.json names the person `{me}`, which cannot name a migration: {why}"
            ))
        })?;
        let name = check_name(&old.config.name)
            .map_err(|why| Error::runtime(format!("config.json holds a name safe refuses: {why}")))?
            .to_string();
        let mut plan = Plan {
            me: me.clone(),
            name: name.clone(),
            shared: Vec::new(),
            private: Vec::new(),
            snapshot: Snapshot {
                format: SNAPSHOT_FORMAT,
                taken_by: me.clone(),
                people: BTreeMap::new(),
            },
            counts: Migrated::default(),
        };
        plan.add_practices(&old.practices);
        plan.add_goals(&old.practices);
        plan.shared.push((
            Record::Name(NameRecord {
                name,
                rev: Rev::default(),
            }),
            None,
        ));
        plan.add_entries(old)?;
        for person in old.people.people.iter().filter(|p| p.id != me) {
            plan.partner(&person.id).name = Some(person.name.clone());
        }
        plan.check(wall_ms)?;
        Ok(plan)
    }

    fn partner(&mut self, id: &str) -> &mut SnapshotPerson {
        self.snapshot.people.entry(id.to_string()).or_default()
    }

    fn add_practices(&mut self, doc: &PracticesDoc) {
        for practice in winners(&doc.practices, |p| p.id.clone(), |p| &p.rev) {
            if practice.added_by == self.me {
                self.counts.practices += 1;
                let record = Record::Practice(PracticeRecord {
                    id: practice.id.clone(),
                    about: practice.about.clone(),
                    goal: practice.goal,
                    rev: Rev::default(),
                });
                self.shared.push((record, None));
            } else {
                self.partner(&practice.added_by)
                    .practices
                    .push(practice.clone());
            }
        }
    }

    fn add_goals(&mut self, doc: &PracticesDoc) {
        let key = |g: &GoalSetting| (g.person.clone(), g.practice.clone());
        for goal in winners(&doc.goals, key, |g| &g.rev) {
            if goal.person == self.me {
                self.counts.goals += 1;
                let record = Record::Goal(GoalRecord {
                    practice: goal.practice.clone(),
                    goal: goal.goal,
                    retired: goal.retired,
                    rev: Rev::default(),
                });
                self.shared.push((record, None));
            } else {
                self.partner(&goal.person).goals.push(goal.clone());
            }
        }
    }

    /// Entries, by schema-1 merge rules: of the copies of one id, a
    /// tombstone wins, then the higher rev. A removed entry of mine is not
    /// written at all (see docs/protocol.md); a live one goes to the log of
    /// its side, its shared note as a sidecar and its unshared note as a
    /// `note` in the private log.
    fn add_entries(&mut self, old: &Old) -> Result<()> {
        let mut latest: BTreeMap<EntryId, (Side, &Entry)> = BTreeMap::new();
        for (side, month) in &old.months {
            for entry in &month.entries {
                let wins = latest.get(&entry.id).is_none_or(|(_, held)| {
                    (entry.deleted, &entry.rev) > (held.deleted, &held.rev)
                });
                if wins {
                    latest.insert(entry.id, (*side, entry));
                }
            }
        }
        let mut unshared: BTreeMap<EntryId, &PrivateNote> = BTreeMap::new();
        for (_, month) in old.months.iter().filter(|(s, _)| *s == Side::Private) {
            for note in &month.notes {
                if unshared
                    .get(&note.id)
                    .is_none_or(|held| note.rev > held.rev)
                {
                    unshared.insert(note.id, note);
                }
            }
        }
        for (side, entry) in latest.into_values().filter(|(_, e)| !e.deleted) {
            if entry.author != self.me {
                self.counts.partner_entries += 1;
                self.partner(&entry.author).entries.push(entry.clone());
                continue;
            }
            self.counts.entries += 1;
            let mut record = EntryRecord {
                id: entry.id,
                kind: entry.kind,
                practice: entry.practice.clone(),
                day: entry.day,
                until: entry.until,
                at: entry.at,
                // safe 0.1 allowed repair times the limits no longer do
                // (0 minutes, up to a year): such a time is left out, the
                // repair kept.
                took: entry
                    .took_minutes
                    .filter(|m| crate::domain::limits::check_took(*m).is_ok()),
                h: None,
                // Schema 1 has no card field; one written by a newer safe 0.x
                // would have been kept among the unknown fields.
                card: entry
                    .extra
                    .get("card")
                    .and_then(|c| c.as_str())
                    .map(str::to_string),
                private: side == Side::Private,
                rev: Rev::default(),
            };
            let mut notes = Vec::new();
            let mut sidecar = None;
            match (side, &entry.note) {
                (Side::Shared, Some(note)) => {
                    let (h, text) = NoteSidecar::seal(note).map_err(|e| {
                        Error::runtime(format!("could not get random bytes for a salt: {e}"))
                    })?;
                    record.h = Some(Hex32(h));
                    sidecar = Some(text);
                }
                (Side::Private, Some(note)) => notes.push(note.clone()),
                (_, None) => {}
            }
            if let Some(note) = unshared.get(&entry.id).filter(|_| notes.is_empty()) {
                notes.push(note.note.clone());
            }
            self.counts.notes += usize::from(sidecar.is_some()) + notes.len();
            let batch = match side {
                Side::Shared => &mut self.shared,
                Side::Private => &mut self.private,
            };
            batch.push((Record::Entry(record), sidecar));
            for note in notes {
                let note = Record::Note(NoteRecord {
                    id: entry.id,
                    note: Some(note),
                    rev: Rev::default(),
                });
                self.private.push((note, None));
            }
        }
        Ok(())
    }

    /// Every record against the limits, with the rev it will at least get,
    /// so that a refusal comes before anything is changed.
    fn check(&self, wall_ms: u64) -> Result<()> {
        let rev = Rev { ms: wall_ms, c: 0 };
        for (record, sidecar) in self.shared.iter().chain(&self.private) {
            let mut record = record.clone();
            let note = sidecar
                .as_deref()
                .and_then(|s| serde_json::from_str::<crate::keys::line::NoteSidecar>(s).ok());
            match &mut record {
                Record::Entry(r) => r.rev = rev,
                Record::Note(r) => r.rev = rev,
                Record::Name(r) => r.rev = rev,
                Record::Goal(r) => r.rev = rev,
                Record::Practice(r) => r.rev = rev,
                _ => {}
            }
            let checked = record.check().and_then(|()| match &note {
                Some(n) => crate::domain::limits::check_note(&n.note),
                None => Ok(()),
            });
            if let Err(why) = checked {
                return Err(Error::runtime(format!(
                    "{} cannot be carried into schema 2, so nothing was migrated: {why}",
                    what_of(&record)
                ))
                .with_hint(
                    "nothing was changed: correct that record with safe 0.1 (`safe edit`, \
                     `safe rm`) or by hand, then run safe again",
                ));
            }
        }
        Ok(())
    }
}

/// How an error names a record of mine.
fn what_of(record: &Record) -> String {
    match record {
        Record::Entry(r) => format!("my entry {} ({} on {})", r.id, r.practice, r.day),
        Record::Note(r) => format!("my note on entry {}", r.id),
        Record::Goal(r) => format!("my goal for {}", r.practice),
        Record::Practice(r) => format!("my practice {}", r.id),
        Record::Name(_) => "my name".to_string(),
        _ => "a record".to_string(),
    }
}

/// Of the copies of each key, the one with the highest rev (the first on a
/// tie), in key order.
fn winners<T, K: Ord>(
    items: &[T],
    key: impl Fn(&T) -> K,
    rev: impl Fn(&T) -> &crate::domain::rev::Rev,
) -> Vec<&T> {
    let mut by_key: BTreeMap<K, &T> = BTreeMap::new();
    for item in items {
        let k = key(item);
        if by_key.get(&k).is_none_or(|held| rev(item) > rev(held)) {
            by_key.insert(k, item);
        }
    }
    by_key.into_values().collect()
}

/// Copy the old files into the backup: written in a staging folder,
/// flushed, read back and compared, then renamed into place whole, so a
/// `backup-schema1/` that exists is always complete.
fn back_up(root: &Path, files: &[OldFile], half: impl Fn() -> Result<()>) -> Result<()> {
    let staging = root.join(BACKUP_STAGING);
    for (i, old) in files.iter().enumerate() {
        file::write_atomic(&staging.join(&old.rel), &old.bytes)?;
        if i == 0 {
            half()?;
        }
    }
    for old in files {
        let path = staging.join(&old.rel);
        let copy = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
        if copy != old.bytes {
            return Err(Error::runtime(format!(
                "{} does not read back as it was written, so nothing was migrated",
                path.display()
            )));
        }
    }
    file::ensure_dir(&staging)?;
    for dir in ["shared/log", "private/log", "shared", "private", ""] {
        sync_dir(&staging.join(dir));
    }
    let backup = root.join(BACKUP);
    fs::rename(&staging, &backup).map_err(|e| Error::io("rename", &staging, e))?;
    sync_dir(root);
    Ok(())
}

/// Remove the old files from their places, now that the backup holds them;
/// `config.json` stays (it still holds the settings), and so does nothing
/// of schema 2. The schema-1 day cache is derived and goes too.
fn remove_old(root: &Path, files: &[OldFile], half: impl Fn() -> Result<()>) -> Result<()> {
    let mut removed = 0;
    for old in files.iter().filter(|f| f.rel != Path::new("config.json")) {
        let path = root.join(&old.rel);
        if path.exists() {
            remove_file(&path)?;
            removed += 1;
            if removed == 1 {
                half()?;
            }
        }
    }
    remove_dir(&root.join("cache"))?;
    for dir in ["shared/log", "private/log", "shared", ""] {
        sync_dir(&root.join(dir));
    }
    Ok(())
}

fn remove_file(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

fn remove_dir(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Flush a folder, so the names created, renamed or removed in it last.
/// Best effort, as everywhere in the store: a folder that cannot be opened
/// has nothing to flush.
/// Flush the folder `dir`, best effort.
fn sync_dir(dir: &Path) {
    let _ = crate::store::file::sync_dir(dir);
}

#[cfg(test)]
mod tests;
