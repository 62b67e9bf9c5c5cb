//! Sharing the journal through git (DESIGN.md §4). Git only carries the data:
//! `shared/` is committed into the bare repository `sync.git`, fetched and
//! pushed like any branch, and two histories are joined here with the domain's
//! merge, never with git's text merge.
//!
//! - `journal`: the files of `shared/`, parsed and checked as untrusted input;
//! - `repo`: `sync.git`, trees and commits without a working tree or index;
//! - `transport`: fetch, push, credentials, and errors a person can act on;
//! - `local`: the transport for a remote on this machine;
//! - `stat`: which files of `shared/` changed since the last sync, without
//!   reading them all;
//! - `rendezvous`: a pairing's messages, carried as refs of the remote;
//! - `logs`: the schema-2 sync of device logs (`shared/log`), which takes
//!   only verified longer copies and never merges text; not yet what
//!   `safe sync` runs.
//!
//! One invariant keeps a partner's entries from being lost: local `main` only
//! grows, and once a sync ends `shared/` holds everything it does. Local
//! changes are committed (joined with what `main` held) before any network
//! step, and `main` moves to a merged or fetched commit only after its files
//! are written to `shared/`. So "their commit is an ancestor of ours" really
//! means "we already hold everything they have".

mod journal;
mod local;
pub mod logs;
pub mod rendezvous;
mod repo;
mod stat;
mod transport;

#[cfg(test)]
mod converge;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::rc::Rc;
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, NaiveDate};
use git2::{ObjectType, Oid, Signature, Time};

use crate::domain::rev::Clock;
use crate::error::{Error, Result};
use crate::store::config::Config;
use crate::store::{Batch, DataDir, Lock, Side};

use journal::{Doc, JournalPath, MAX_FILE_BYTES, Origin};
use repo::{Files, MAIN, ORIGIN_MAIN, SyncRepo};
use stat::StatCache;
use transport::{Pushed, Transport};

pub use transport::display_url;

/// How often a push is retried when the partner pushed in between.
const MAX_TRIES: usize = 5;

/// What a sync did, for the one line `safe sync` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The remote, with any password hidden.
    pub remote: String,
    /// Entries that came from the remote: new here, or a newer version.
    pub received: usize,
    /// My entries the remote did not have, or had an older version of.
    pub sent: usize,
    /// The names of the other people in the journal, as they wrote them
    /// (untrusted: sanitise before printing).
    pub partners: Vec<String>,
    /// Something was pushed or written to `shared/`.
    pub changed: bool,
}

/// Where sharing stands, for `safe sync --status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncStatus {
    /// Entries here that the remote lacks or holds an older version of.
    pub unshared: usize,
    /// Entries the remote holds that are new or newer than here.
    pub incoming: usize,
    /// Whether the remote was ever fetched; if not, `incoming` means nothing.
    pub known: bool,
}

/// Sync `shared/` with the configured remote: commit, fetch, merge, push,
/// write the merged files, and advance the clock. Any failure leaves
/// `shared/`, `private/` and `config.json` as they were.
pub fn sync(
    dir: &DataDir,
    lock: &Lock,
    config: &mut Config,
    now: DateTime<FixedOffset>,
) -> Result<SyncReport> {
    let url = config
        .remote
        .clone()
        .ok_or_else(|| Error::input("no sync remote is set"))?;
    // libgit2 re-hashes every object it reads; with month files of a few
    // hundred KB that is a good part of a sync's time. Objects are hashed as
    // they are written (and local copies compare that hash with the name
    // they were asked for), and every file is parsed before use, so reading
    // need not hash again.
    git2::opts::strict_hash_verification(false);
    let shown = display_url(&url);
    let repo = SyncRepo::open_or_init(&dir.sync_git_dir())?;
    let mut stat = StatCache::load(&dir.sync_git_dir());
    let disk = read_shared(dir, &mut stat)?;
    stat.save();
    let signature = signature(config, now)?;
    let mut work = Work::new(dir, &repo, config.clock, now.date_naive());

    let ours = work.commit_local(&disk, &signature, &config.name)?;
    let ours_files = match ours {
        Some(commit) => repo.files_of(commit, &shown)?,
        None => Files::new(),
    };

    let transport = Transport::new(&repo.git, &url);
    let mut fetched = None;
    for _ in 0..MAX_TRIES {
        let theirs = match fetched.take() {
            Some(theirs) => theirs,
            None => transport.fetch()?,
        };
        let theirs_files = match theirs {
            Some(commit) => repo.files_of(commit, &shown)?,
            None => Files::new(),
        };
        let plan = work.plan((ours, &ours_files), (theirs, &theirs_files), &signature)?;
        if plan.push {
            let commit = plan.commit.expect("a push always has a commit");
            if let Pushed::Rejected(status) = transport.push(commit, theirs)? {
                // A race with the partner moves the remote; a remote that did
                // not move refused for another reason, and retrying won't help.
                let now = transport.fetch()?;
                if now == theirs {
                    return Err(Error::runtime(format!("{shown} refused the update: {status}")).with_hint(
                        "check that you may push to this repository; your changes are saved, and the next `safe sync` sends them",
                    ));
                }
                fetched = Some(now);
                continue;
            }
            repo.set_ref(ORIGIN_MAIN, commit)?;
        }
        // The files the sync ends on and the clock that has seen them are
        // saved together, or not at all.
        let mut batch = lock.batch();
        let (report, wrote) =
            work.finish(&disk, &plan, &theirs_files, config, shown, &mut batch)?;
        let mut synced = config.clone();
        synced.clock = work.clock;
        synced.last_sync = Some(now);
        dir.write_config(&synced, &mut batch)?;
        batch.commit()?;
        *config = synced;
        let written = SystemTime::now();
        for (path, oid) in wrote {
            if let Ok(meta) = std::fs::metadata(path.local(dir)) {
                stat.record(&path.rel(), &meta, oid, written);
            }
        }
        stat.save();
        // Only now: `main` must never hold more than `shared/` does.
        if let Some(commit) = plan.commit {
            repo.set_ref(MAIN, commit)?;
        }
        return Ok(report);
    }
    Err(Error::runtime(format!("the remote kept changing while safe was sending ({MAX_TRIES} tries); try again"))
        .with_hint("your partner is probably syncing right now; your changes are saved, and the next `safe sync` sends them"))
}

/// Compare `shared/` with the remote as last fetched (after fetching it
/// first when `fetch` holds the lock). Without `fetch`, no network is used.
pub fn status(
    dir: &DataDir,
    config: &Config,
    fetch: Option<&Lock>,
    today: NaiveDate,
) -> Result<SyncStatus> {
    let repo = match fetch {
        Some(_) => Some(SyncRepo::open_or_init(&dir.sync_git_dir())?),
        None => SyncRepo::open_existing(&dir.sync_git_dir())?,
    };
    let mut stat = StatCache::load(&dir.sync_git_dir());
    let disk = read_shared(dir, &mut stat)?;
    // Only a shortcut, saved under the lock: every file written in
    // sync.git is, so that what a killed process left can be told apart.
    if fetch.is_some() {
        stat.save();
    }
    let mut work = Work::new(dir, repo.as_ref(), config.clock, today);
    let theirs = match (&repo, &config.remote) {
        (Some(repo), Some(url)) => {
            if fetch.is_some() {
                Transport::new(&repo.git, url).fetch()?;
            }
            match repo.commit_of(ORIGIN_MAIN)? {
                Some(commit) => Some(repo.files_of(commit, &display_url(url))?),
                None if fetch.is_some() => Some(Files::new()),
                None => None,
            }
        }
        _ => None,
    };
    let known = theirs.is_some();
    let theirs = theirs.unwrap_or_default();
    let (mut unshared, mut incoming) = (0, 0);
    let paths: BTreeSet<JournalPath> = disk.keys().chain(theirs.keys()).copied().collect();
    for path in paths {
        let here = disk.get(&path);
        let there = theirs.get(&path);
        if here.map(|f| f.oid) == there.copied() {
            continue;
        }
        let here = here.map(|f| work.disk_doc(path, f)).transpose()?;
        let there = there
            .map(|oid| work.doc(path, *oid, Origin::Remote))
            .transpose()?;
        let merged = match (&here, &there) {
            (Some(a), Some(b)) => Rc::new(a.merge(b)),
            (Some(a), None) => a.clone(),
            (None, Some(b)) => b.clone(),
            (None, None) => continue,
        };
        unshared += Doc::entries_changed(there.as_deref(), &merged);
        incoming += Doc::entries_changed(here.as_deref(), &merged);
    }
    Ok(SyncStatus {
        unshared,
        incoming: if known { incoming } else { 0 },
        known,
    })
}

/// The remote as it is saved: URLs and `host:path` as given, a local path
/// made absolute so that `safe sync` works from any directory.
pub fn normalize_remote(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::input("the remote is empty").with_hint(
            "give a git URL, e.g. `safe sync --remote git@example.org:us/journal.git`",
        ));
    }
    if !transport::is_local_path(text) {
        return Ok(text.to_string());
    }
    std::path::absolute(text)
        .map(|path| path.display().to_string())
        .map_err(|e| Error::input(format!("`{text}` is not a usable path: {e}")))
}

/// A file of `shared/` as it is on disk now: its blob id, and its bytes
/// unless the stat record vouched for the id without reading them.
struct DiskFile {
    oid: Oid,
    bytes: Option<Vec<u8>>,
}

type Disk = BTreeMap<JournalPath, DiskFile>;

/// Every journal file in `shared/`, with the blob id its bytes have.
/// Files that are not part of the layout (an editor's backup, a temporary
/// file left by a crash) are not journal files and are never committed.
fn read_shared(dir: &DataDir, stat: &mut StatCache) -> Result<Disk> {
    let mut paths = vec![JournalPath::People, JournalPath::Practices];
    paths.extend(
        dir.months_of(Side::Shared)?
            .into_iter()
            .map(JournalPath::Month),
    );
    let now = SystemTime::now();
    let mut files = Disk::new();
    for path in paths {
        let local = path.local(dir);
        let meta = match std::fs::metadata(&local) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io("read", &local, e)),
        };
        if meta.len() > MAX_FILE_BYTES {
            return Err(journal::too_big(&local, meta.len()));
        }
        let file = match stat.lookup(&path.rel(), &meta) {
            Some(oid) => DiskFile { oid, bytes: None },
            None => {
                let bytes = std::fs::read(&local).map_err(|e| Error::io("read", &local, e))?;
                DiskFile {
                    oid: blob_id(&bytes)?,
                    bytes: Some(bytes),
                }
            }
        };
        stat.record(&path.rel(), &meta, file.oid, now);
        files.insert(path, file);
    }
    Ok(files)
}

/// The bytes of a file of `shared/`, read now if they were not yet.
fn disk_bytes<'f>(dir: &DataDir, path: JournalPath, file: &'f DiskFile) -> Result<Cow<'f, [u8]>> {
    if let Some(bytes) = &file.bytes {
        return Ok(Cow::Borrowed(bytes));
    }
    let local = path.local(dir);
    let bytes = std::fs::read(&local).map_err(|e| Error::io("read", &local, e))?;
    if blob_id(&bytes)? != file.oid {
        StatCache::discard(&dir.sync_git_dir());
        return Err(Error::runtime(format!(
            "{} changed while safe was syncing",
            local.display()
        ))
        .with_hint("run `safe sync` again"));
    }
    Ok(Cow::Owned(bytes))
}

fn blob_id(bytes: &[u8]) -> Result<Oid> {
    Oid::hash_object(ObjectType::Blob, bytes).map_err(|e| Error::runtime(e.message().to_string()))
}

/// The commit and its files a sync ends on, and whether it must be pushed.
struct Plan {
    commit: Option<Oid>,
    files: Files,
    push: bool,
}

/// The documents one sync has parsed, by path and blob, so that no file is
/// read twice, and the clock moved past every remote revision seen.
struct Work<'a> {
    dir: &'a DataDir,
    repo: Option<&'a SyncRepo>,
    docs: HashMap<(JournalPath, Oid), Rc<Doc>>,
    clock: Clock,
    /// The receiver's today, for the limits remote data must keep.
    today: NaiveDate,
}

impl<'a> Work<'a> {
    fn new(
        dir: &'a DataDir,
        repo: impl Into<Option<&'a SyncRepo>>,
        clock: Clock,
        today: NaiveDate,
    ) -> Self {
        Work {
            dir,
            repo: repo.into(),
            docs: HashMap::new(),
            clock,
            today,
        }
    }

    fn repo(&self) -> &'a SyncRepo {
        self.repo
            .expect("only status works without sync.git, and it reads no blobs then")
    }

    /// A blob of `sync.git`, parsed and checked. Remote blobs are checked
    /// like local files, and their revisions move the clock.
    fn doc(&mut self, path: JournalPath, oid: Oid, origin: Origin) -> Result<Rc<Doc>> {
        if let Some(doc) = self.docs.get(&(path, oid)) {
            return Ok(doc.clone());
        }
        let shown = origin.show(self.dir, path);
        let bytes = self.repo().blob(oid, &shown)?;
        self.parsed(path, oid, &bytes, origin)
    }

    fn disk_doc(&mut self, path: JournalPath, file: &DiskFile) -> Result<Rc<Doc>> {
        match self.docs.get(&(path, file.oid)) {
            Some(doc) => Ok(doc.clone()),
            None => {
                let bytes = disk_bytes(self.dir, path, file)?;
                self.parsed(path, file.oid, &bytes, Origin::Disk)
            }
        }
    }

    fn parsed(
        &mut self,
        path: JournalPath,
        oid: Oid,
        bytes: &[u8],
        origin: Origin,
    ) -> Result<Rc<Doc>> {
        let doc = Rc::new(Doc::parse(
            path,
            &origin.show(self.dir, path),
            bytes,
            origin,
            self.today,
        )?);
        if origin == Origin::Remote {
            doc.observe(&mut self.clock);
        }
        self.docs.insert((path, oid), doc.clone());
        Ok(doc)
    }

    /// Store a document made here (a merge) and return its blob.
    fn store(&mut self, path: JournalPath, doc: Doc) -> Result<Oid> {
        let oid = self.repo().write_blob(&doc.to_text())?;
        self.docs.insert((path, oid), Rc::new(doc));
        Ok(oid)
    }

    /// Commit `shared/` on `main`, reusing every unchanged blob. A file that
    /// changed is joined with its committed version, so `main` only ever
    /// grows, even if a file was edited or removed by hand. No commit when
    /// nothing changed.
    fn commit_local(
        &mut self,
        disk: &Disk,
        signature: &Signature<'_>,
        name: &str,
    ) -> Result<Option<Oid>> {
        let repo = self.repo();
        let parent = repo.commit_of(MAIN)?;
        let committed = match parent {
            Some(commit) => repo.files_of(commit, &repo.git.path().display().to_string())?,
            None => Files::new(),
        };
        let mut files = committed.clone();
        for (path, file) in disk {
            let before = committed.get(path).copied();
            if before == Some(file.oid) {
                continue;
            }
            let now = self.disk_doc(*path, file)?;
            let oid = match before {
                None => repo.write_blob(&disk_bytes(self.dir, *path, file)?)?,
                Some(before) => {
                    let joined = self.doc(*path, before, Origin::Local)?.merge(&now);
                    self.store(*path, joined)?
                }
            };
            files.insert(*path, oid);
        }
        let tree = repo.write_tree(&files)?;
        match parent {
            Some(parent) if repo.tree_of(parent)? == tree => Ok(Some(parent)),
            None if files.is_empty() => Ok(None),
            _ => {
                let parents: Vec<Oid> = parent.into_iter().collect();
                let commit = repo.commit(
                    tree,
                    &parents,
                    signature,
                    &format!("Changes by {}", signature_name(name)),
                )?;
                repo.set_ref(MAIN, commit)?;
                Ok(Some(commit))
            }
        }
    }

    /// Decide where this sync ends, given our `main` and the remote's.
    fn plan(
        &mut self,
        ours: (Option<Oid>, &Files),
        theirs: (Option<Oid>, &Files),
        signature: &Signature<'_>,
    ) -> Result<Plan> {
        let repo = self.repo();
        let ((ours, ours_files), (theirs, theirs_files)) = (ours, theirs);
        let keep = |push| Plan {
            commit: ours,
            files: ours_files.clone(),
            push,
        };
        let fast_forward = |work: &mut Self| -> Result<Plan> {
            work.check(ours_files, theirs_files)?;
            Ok(Plan {
                commit: theirs,
                files: theirs_files.clone(),
                push: false,
            })
        };
        let (o, t) = match (ours, theirs) {
            (None, None) => return Ok(keep(false)),
            (Some(_), None) => return Ok(keep(true)),
            (None, Some(_)) => return fast_forward(self),
            (Some(o), Some(t)) => (o, t),
        };
        if o == t {
            return Ok(keep(false));
        }
        if repo.descends_from(o, t)? {
            return Ok(keep(true));
        }
        if repo.descends_from(t, o)? {
            return fast_forward(self);
        }
        // Diverged, or unrelated (a partner who started alone): join.
        let merged = self.merge(ours_files, theirs_files)?;
        let tree = repo.write_tree(&merged)?;
        if tree == repo.tree_of(t)? {
            return Ok(Plan {
                commit: Some(t),
                files: merged,
                push: false,
            });
        }
        let commit = repo.commit(tree, &[o, t], signature, "Merge the shared journal")?;
        Ok(Plan {
            commit: Some(commit),
            files: merged,
            push: true,
        })
    }

    /// Parse every remote file we do not already hold, so that bad remote
    /// data stops the sync before anything is written or pushed.
    fn check(&mut self, ours: &Files, theirs: &Files) -> Result<()> {
        for (path, oid) in theirs {
            if ours.get(path) != Some(oid) {
                self.doc(*path, *oid, Origin::Remote)?;
            }
        }
        Ok(())
    }

    /// The files of the join of two commits: each file present on either
    /// side, merged where both hold different versions.
    fn merge(&mut self, ours: &Files, theirs: &Files) -> Result<Files> {
        self.check(ours, theirs)?;
        let mut merged = Files::new();
        let paths: BTreeSet<JournalPath> = ours.keys().chain(theirs.keys()).copied().collect();
        for path in paths {
            let oid = match (ours.get(&path), theirs.get(&path)) {
                (Some(o), Some(t)) if o != t => {
                    let doc = self.doc(path, *o, Origin::Local)?.merge(&*self.doc(
                        path,
                        *t,
                        Origin::Remote,
                    )?);
                    self.store(path, doc)?
                }
                (Some(oid), _) | (None, Some(oid)) => *oid,
                (None, None) => unreachable!("the path came from one of the sides"),
            };
            merged.insert(path, oid);
        }
        Ok(merged)
    }

    /// Stage the files the sync ended on for `shared/` (only those that
    /// differ), and count what was received and sent. Returns the files
    /// staged, with their blobs; `main` moves once they are in place.
    fn finish(
        &mut self,
        disk: &Disk,
        plan: &Plan,
        theirs: &Files,
        config: &Config,
        shown: String,
        batch: &mut Batch<'_>,
    ) -> Result<(SyncReport, Vec<(JournalPath, Oid)>)> {
        let repo = self.repo();
        let (mut received, mut sent) = (0, 0);
        let mut wrote = Vec::new();
        for (path, oid) in &plan.files {
            let before = disk.get(path);
            if before.map(|f| f.oid) != Some(*oid) {
                let old = before.map(|f| self.disk_doc(*path, f)).transpose()?;
                received +=
                    Doc::entries_changed(old.as_deref(), &*self.doc(*path, *oid, Origin::Local)?);
                let bytes = repo.blob(*oid, &Origin::Local.show(self.dir, *path))?;
                batch.write(&path.local(self.dir), &bytes)?;
                wrote.push((*path, *oid));
            }
            if theirs.get(path) != Some(oid) {
                let old = theirs
                    .get(path)
                    .map(|t| self.doc(*path, *t, Origin::Remote))
                    .transpose()?;
                sent +=
                    Doc::entries_changed(old.as_deref(), &*self.doc(*path, *oid, Origin::Local)?);
            }
        }
        let partners = match plan.files.get(&JournalPath::People) {
            Some(oid) => match &*self.doc(JournalPath::People, *oid, Origin::Local)? {
                Doc::People(people) => people
                    .people
                    .iter()
                    .filter(|p| p.id != config.id)
                    .map(|p| p.name.clone())
                    .collect(),
                _ => Vec::new(),
            },
            None => Vec::new(),
        };
        let changed = plan.push || !wrote.is_empty();
        Ok((
            SyncReport {
                remote: shown,
                received,
                sent,
                partners,
                changed,
            },
            wrote,
        ))
    }
}

/// Who commits: the person's name and a placeholder address, at `now`. Git's
/// own identity settings are not read: the commits are transport, not
/// authorship, and need no set-up.
fn signature(config: &Config, now: DateTime<FixedOffset>) -> Result<Signature<'static>> {
    let id = if config.id.is_empty() {
        "someone"
    } else {
        config.id.as_str()
    };
    let time = Time::new(now.timestamp(), now.offset().local_minus_utc() / 60);
    Signature::new(
        &signature_name(&config.name),
        &format!("{id}@safe.invalid"),
        &time,
    )
    .map_err(|e| {
        Error::runtime(format!(
            "could not make a commit signature: {}",
            e.message()
        ))
    })
}

/// A name git accepts: no angle brackets or control characters.
fn signature_name(name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !matches!(c, '<' | '>') && !c.is_control())
        .collect();
    match clean.trim() {
        "" => "safe".to_string(),
        trimmed => trimmed.to_string(),
    }
}
