//! Sync of schema-2 device logs (DESIGN.md §4 "Steps" and "Untrusted
//! input"; docs/protocol.md "Sync of device logs"). Plaintext for now:
//! sealing with age comes later and changes only what a blob holds.
//!
//! The remote's `main` holds exactly `shared/log/<device>/…/<seq>.jsonl`,
//! at the paths the data directory has them. Every file has one writer, so
//! two trees join by taking, per device, the copy with the longer verified
//! chain; a copy that is shorter, forks, or does not verify never replaces
//! what is here, and the copy here goes back to the remote instead. Git only
//! carries the files: nothing is merged as text, and commits say nothing
//! (fixed author, time and message).
//!
//! Remote copies are staged under `sync.git/incoming/` and verified there
//! with the segment store's own reader before a byte of them reaches
//! `shared/log`; a file wins only whole, and lands by rename.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ed25519_dalek::VerifyingKey;
use git2::{ObjectType, Oid, Signature, Time};

use super::repo::{MAIN, ORIGIN_MAIN, SyncRepo};
use super::stat::StatCache;
use super::transport::{Pushed, Transport, display_url};
use crate::domain::fold::PersonId;
use crate::domain::limits::MAX_FILE_BYTES;
use crate::domain::month::YearMonth;
use crate::domain::record::Record;
use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::keys::DeviceId;
use crate::keys::line::{self, LogKind};
use crate::seal::layout;
use crate::seal::remote::{RemoteFile, SealedTree, Sealer};
use crate::store::{Lock, file, segment, strip};

/// How often a push is tried when someone else pushed in between.
const MAX_TRIES: usize = 5;
/// The stat record of `shared/log`, beside schema 1's in `sync.git`.
const STAT_FILE: &str = "safe-log-stat.json";
/// Where remote copies wait in `sync.git` while they are verified.
const INCOMING: &str = "incoming";
/// Remote paths outside the layout named one by one; the rest are counted.
const MAX_NAMED: usize = 10;

/// One log's files, by their path below the device's folder
/// (`00/00/0000000001.jsonl`): in log order, as the names sort.
type LogFiles = BTreeMap<String, Oid>;
/// Every log's files, by device.
type Logs = BTreeMap<DeviceId, LogFiles>;

/// What one sync of the logs did, for `safe sync` to print.
#[derive(Debug)]
pub struct LogSyncReport {
    /// The remote, with any password hidden.
    pub remote: String,
    /// Lines that came from the remote and are now used here, by the
    /// person whose log they are in (devices no pairing trusts are not
    /// counted: the journal's report names them).
    pub received: BTreeMap<PersonId, u64>,
    /// Lines the remote lacked and now holds.
    pub sent: u64,
    /// Something was written to `shared/log` or pushed.
    pub changed: bool,
    /// What was refused or ignored, each naming the file or device and
    /// whose log it is. The sync did everything else; the caller exits 1
    /// if there is any.
    pub problems: Vec<Error>,
}

impl LogSyncReport {
    /// All lines received, whoever wrote them.
    pub fn received_total(&self) -> u64 {
        self.received.values().sum()
    }
}

/// Sync this data directory's shared logs with the remote at `url`, under
/// the caller's lock: fetch `main`, take every verified longer copy of a
/// log, bring the journal up to date, then push the union without force
/// (fetching and trying again when someone pushed meanwhile).
///
/// An error means nothing was pushed; what was already taken stays (it
/// is verified and used). A schema-1 remote is refused before anything
/// changes.
pub fn sync_logs(
    root: &Path,
    url: &str,
    journal: &mut Journal,
    wall_ms: u64,
    lock: &Lock,
) -> Result<LogSyncReport> {
    sync_logs_with(root, url, journal, wall_ms, lock, &mut |_| {})
}

/// [`sync_logs`], calling `before_push` with the try's number (from 0)
/// just before each push: tests use it to push from elsewhere meanwhile.
fn sync_logs_with(
    root: &Path,
    url: &str,
    journal: &mut Journal,
    wall_ms: u64,
    lock: &Lock,
    before_push: &mut dyn FnMut(usize),
) -> Result<LogSyncReport> {
    let shown = display_url(url);
    let git_dir = root.join("sync.git");
    // What needs no git first, while libgit2 may still be starting
    // (`super::start`): the stat record, and the files of `shared/log`.
    let mut stat = StatCache::load_named(&git_dir, STAT_FILE);
    let mut listed = Some(list_local(root)?);
    super::start::start_git();
    let repo = SyncRepo::open_or_init(&git_dir)?;
    let incoming = Incoming::new(&git_dir);
    let transport = Transport::new(&repo.git, url).for_logs();
    let mut sealer = Sealer::load(root, &git_dir, url, journal.identity(), lock)?;
    let mut report = LogSyncReport {
        remote: shown.clone(),
        received: BTreeMap::new(),
        sent: 0,
        changed: false,
        problems: Vec::new(),
    };
    let tracked_before = repo.commit_of(ORIGIN_MAIN)?;
    let mut fetched = None;
    for attempt in 0..MAX_TRIES {
        let theirs = match fetched.take() {
            Some(theirs) => theirs,
            None => transport.fetch()?,
        };
        // The logs here, each file by its blob id: by the stat record, or
        // hashed when it changed since. A round after a refused push looks
        // again, as the first round may have taken logs.
        let mut problems = Vec::new();
        let listed = match listed.take() {
            Some(listed) => listed,
            None => list_local(root)?,
        };
        let local_logs = identify_local(listed, &mut stat, &mut problems)?;
        let local = |device: &DeviceId, rest: &str| {
            local_logs
                .get(device)
                .and_then(|files| files.get(rest))
                .copied()
        };
        let remote = read_fetched(
            &repo,
            theirs,
            &shown,
            tracked_before,
            &mut sealer,
            journal,
            &local,
        )?;
        sealer.save()?;
        let Taken {
            compared,
            union,
            problems,
            adopted,
        } = take(
            root, &repo, &shown, journal, &incoming, &mut stat, &remote, local_logs, problems, lock,
        )?;
        // Taking may rewrite a log's files even when it adopts no line.
        journal.logs_changed();
        let forked_mine = compared.iter().any(|c| c.forks_mine);
        let mut union = union;
        if !adopted.is_empty() {
            report.changed = true;
            journal.refresh(wall_ms, lock)?;
            // The refresh stripped the notes the new lines supersede.
            union = as_on_disk(root, &mut stat, union)?;
            for (device, lines) in adopted {
                if let Some(person) = journal.roster().person(&device) {
                    *report.received.entry(person.to_string()).or_default() += lines;
                }
            }
        }
        if forked_mine {
            // Sending would put one of two forks of this device's log over
            // the other: nothing is sent until it is paired again.
            report.problems = problems;
            return Ok(report);
        }
        let outgoing = outgoing(&repo, root, theirs, &remote, &union, &mut sealer, journal);
        sealer.save()?;
        let Some(commit) = outgoing? else {
            if let Some(theirs) = theirs {
                repo.set_ref(MAIN, theirs)?;
                sealer.main_is_the_remotes();
                sealer.save()?;
            }
            report.problems = problems;
            return Ok(report);
        };
        before_push(attempt);
        match transport.push(commit, theirs)? {
            Pushed::Done => {
                repo.set_ref(ORIGIN_MAIN, commit)?;
                repo.set_ref(MAIN, commit)?;
                sealer.main_is_the_remotes();
                sealer.save()?;
                report.changed = true;
                report.sent = sent(&compared, &union);
                report.problems = problems;
                return Ok(report);
            }
            Pushed::Rejected(status) => {
                // A race moves the remote; a remote that did not move
                // refused for another reason, and trying again won't help.
                let now = transport.fetch()?;
                if now == theirs {
                    return Err(
                        Error::runtime(format!("{shown} refused the update: {status}")).with_hint(
                            "check that you may push to this repository; what you wrote is \
                             saved, and the next `safe sync` sends it",
                        ),
                    );
                }
                fetched = Some(now);
            }
        }
    }
    Err(Error::runtime(format!(
        "the remote kept changing while safe was sending ({MAX_TRIES} tries); try again"
    ))
    .with_hint(
        "another device is probably syncing right now; what you wrote is saved, and the next \
         `safe sync` sends it",
    ))
}

/// Put this device's signed key statement (`keys/<device>`) on the
/// remote's `main`, and change nothing else there: what a device that
/// joins does before the code exchange, so that the inviter's next sync
/// seals the journal's epochs to it too. Done only onto a sealed tree or
/// an empty remote; anything else is left for the first sync to judge.
pub fn publish_key(root: &Path, url: &str, lock: &Lock) -> Result<()> {
    let repo = SyncRepo::open_or_init(&root.join("sync.git"))?;
    let transport = Transport::new(&repo.git, url).for_logs();
    let device = crate::keys::DeviceKey::load_or_create(root, lock)?;
    let seal = crate::seal::key::SealKey::load_or_create(root, lock)?;
    let statement = crate::seal::key::Statement::make(&device, &seal).to_bytes();
    let path = layout::statement_path(&device.id());
    let blob = repo.write_blob(&statement)?;
    for _ in 0..MAX_TRIES {
        let theirs = transport.fetch()?;
        let mut files = Vec::new();
        if let Some(theirs) = theirs {
            let tree = repo
                .git
                .find_commit(theirs)
                .and_then(|c| c.tree())
                .map_err(|e| git_failed(&repo, e))?;
            for entry in tree.iter() {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                if !layout::TOP.contains(&name.as_str()) {
                    return Ok(());
                }
                walk(&repo, &entry, &name, 0, &mut files);
            }
        }
        if files.iter().any(|f| f.mode != 0o100644) {
            return Ok(());
        }
        if files.iter().any(|f| f.path == path && f.oid == blob) {
            return Ok(());
        }
        let mut paths: Vec<(String, Oid)> = files
            .into_iter()
            .filter(|f| f.path != path)
            .map(|f| (f.path, f.oid))
            .collect();
        paths.push((path.clone(), blob));
        let tree = crate::seal::remote::write_files(&repo.git, &paths)?;
        let parents: Vec<Oid> = theirs.into_iter().collect();
        let commit = repo.commit(tree, &parents, &anonymous(), "safe\n")?;
        if transport.push(commit, theirs)? == Pushed::Done {
            repo.set_ref(ORIGIN_MAIN, commit)?;
            return Ok(());
        }
    }
    Ok(())
}

/// The epoch this device seals to at the remote as last fetched, and the
/// devices it is sealed to; `None` before a sealed sync.
pub fn sealed_to(
    root: &Path,
    url: &str,
    journal: &Journal,
    lock: &Lock,
) -> Result<Option<(u64, BTreeSet<DeviceId>)>> {
    let git_dir = root.join("sync.git");
    let Some(repo) = SyncRepo::open_existing(&git_dir)? else {
        return Ok(None);
    };
    let Some(commit) = repo.commit_of(ORIGIN_MAIN)? else {
        return Ok(None);
    };
    let tree = repo
        .git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| git_failed(&repo, e))?;
    let mut files = Vec::new();
    for entry in tree.iter() {
        if entry.name() == Some("epochs") {
            walk(&repo, &entry, "epochs", 0, &mut files);
        }
    }
    let sealer = Sealer::load(root, &git_dir, url, journal.identity(), lock)?;
    let sealed = sealer.open_epochs(&repo.git, &files);
    Ok(sealer.status(&sealed, journal.roster()))
}

/// The logs of the fetched remote `main` (none yet: no logs). A tree of
/// safe 0.1 is refused, and the tracking ref set back to what it was, so
/// that nothing here changes.
fn read_fetched(
    repo: &SyncRepo,
    theirs: Option<Oid>,
    shown: &str,
    tracked_before: Option<Oid>,
    sealer: &mut Sealer,
    journal: &Journal,
    local: &dyn Fn(&DeviceId, &str) -> Option<Oid>,
) -> Result<RemoteTree> {
    let Some(commit) = theirs else {
        return Ok(RemoteTree::default());
    };
    read_remote(repo, commit, shown, sealer, journal, local).inspect_err(|_| match tracked_before {
        Some(before) => {
            let _ = repo.set_ref(ORIGIN_MAIN, before);
        }
        None => drop_ref(repo, ORIGIN_MAIN),
    })
}

/// What one round took from the remote, and what it would send.
struct Taken {
    compared: Vec<Compared>,
    union: Logs,
    problems: Vec<Error>,
    /// The logs taken, with the lines each brought.
    adopted: Vec<(DeviceId, u64)>,
}

/// Compare the remote's logs with the logs here, take the verified longer
/// copies into `shared/log`, and work out the union to send.
#[allow(clippy::too_many_arguments)]
fn take(
    root: &Path,
    repo: &SyncRepo,
    shown: &str,
    journal: &Journal,
    incoming: &Incoming,
    stat: &mut StatCache,
    remote: &RemoteTree,
    mut local: Logs,
    local_problems: Vec<Error>,
    lock: &Lock,
) -> Result<Taken> {
    let mut round = Round {
        root,
        repo,
        shown,
        journal,
        incoming,
        keys: BTreeMap::new(),
        scanned: BTreeSet::new(),
        problems: remote.ignored_problems(shown),
    };
    round.problems.extend(local_problems);
    let compared = round.compare(&remote.logs, &remote.plain, &local)?;
    let adopted = round.adopt_all(&compared, &remote.logs, &mut local, stat, lock)?;
    let union = round.union(&compared, &remote.logs, &local);
    stat.save();
    incoming.clear();
    Ok(Taken {
        compared,
        union,
        problems: round.problems,
        adopted,
    })
}

// ---------------------------------------------------------------------------
// The remote's tree

/// The logs a remote commit holds, opened, and what else it holds.
#[derive(Default)]
struct RemoteTree {
    logs: Logs,
    /// Each path outside the layout, with why, as shown to a person (only
    /// at a remote where no sealed tree was ever seen).
    ignored: Vec<String>,
    /// Segments refused (each named, with whose log it is), whose logs
    /// were taken not at all.
    refused: Vec<(String, Option<String>)>,
    /// The sealed files: statements, epochs, segments.
    sealed: SealedTree,
    /// The bytes of the segments opened, by plaintext blob id (in memory
    /// only: see `Opened::plain`).
    plain: BTreeMap<Oid, Vec<u8>>,
}

impl RemoteTree {
    fn ignore(&mut self, path: &str, why: &str) {
        self.ignored.push(format!("`{path}` {why}"));
    }

    fn ignored_problems(&self, shown: &str) -> Vec<Error> {
        let mut problems: Vec<Error> = self
            .refused
            .iter()
            .map(|(message, hint)| {
                let error = Error::runtime(message.clone());
                match hint {
                    Some(hint) => error.with_hint(hint.clone()),
                    None => error,
                }
            })
            .collect();
        if self.ignored.is_empty() {
            return problems;
        }
        let mut named = self.ignored[..self.ignored.len().min(MAX_NAMED)].join("; ");
        if self.ignored.len() > MAX_NAMED {
            named.push_str(&format!("; and {} more", self.ignored.len() - MAX_NAMED));
        }
        problems.push(
            Error::runtime(format!(
                "{shown} holds what is not part of a safe journal, so safe ignored it: {named}"
            ))
            .with_hint(
                "a safe remote holds only keys/, epochs/ and log/, all sealed but the signed \
                 keys; someone with push access (or a safe without sealing) added the rest, and \
                 safe's next push leaves it out",
            ),
        );
        problems
    }
}

/// Read a remote commit's tree. A tree of safe 0.1 is refused whole. The
/// sealed layout (`keys/`, `epochs/`, `log/`) is opened by the sealer;
/// anything else beside it, or at a remote where a sealed tree was seen
/// before, is refused whole (no downgrade); at a remote never sealed, it
/// is ignored and named.
fn read_remote(
    repo: &SyncRepo,
    commit: Oid,
    shown: &str,
    sealer: &mut Sealer,
    journal: &Journal,
    local: &dyn Fn(&DeviceId, &str) -> Option<Oid>,
) -> Result<RemoteTree> {
    let tree = repo
        .git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| git_failed(repo, e))?;
    let sealed_layout = tree
        .iter()
        .any(|e| e.name().is_some_and(|n| layout::TOP.contains(&n)));
    let refuse_clear = sealed_layout || sealer.seen_sealed();
    let mut remote = RemoteTree::default();
    let mut files = Vec::new();
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        if let Some(path) = schema1_path(repo, &name, &entry) {
            return Err(schema1_remote(shown, &path));
        }
        let is_tree = entry.kind() == Some(ObjectType::Tree);
        if is_tree && layout::TOP.contains(&name.as_str()) {
            walk(repo, &entry, &name, 0, &mut files);
        } else if refuse_clear {
            let path = if is_tree { format!("{name}/") } else { name };
            let why = "is not part of a sealed journal";
            return Err(crate::seal::remote::downgrade(shown, &path, why));
        } else if is_tree {
            remote.ignore(&format!("{name}/"), "is not part of the layout");
        } else {
            remote.ignore(&name, "is not part of the layout");
        }
    }
    if !sealed_layout {
        return Ok(remote);
    }
    let whose = |device: &DeviceId| whose_log(journal, device);
    let opened = sealer.open_tree(&repo.git, &files, shown, &whose, local)?;
    remote.logs = opened.logs;
    remote.plain = opened.plain;
    remote.sealed = opened.sealed;
    remote.refused = opened
        .refused
        .iter()
        .map(|e| (e.message().to_string(), e.hint().map(str::to_string)))
        .collect();
    Ok(remote)
}

/// Every file below a folder of the sealed layout, with its path; a tree
/// deeper than the layout, or not fetched, is listed as itself (and is
/// then refused as not part of it).
fn walk(
    repo: &SyncRepo,
    entry: &git2::TreeEntry<'_>,
    path: &str,
    depth: usize,
    files: &mut Vec<RemoteFile>,
) {
    /// `log/<device>/<h>/<l>.age`: files are three folders down.
    const SEALED_DEPTH: usize = 3;
    let tree = (entry.kind() == Some(ObjectType::Tree) && depth < SEALED_DEPTH)
        .then(|| repo.git.find_tree(entry.id()).ok())
        .flatten();
    let Some(tree) = tree else {
        files.push(RemoteFile {
            path: path.to_string(),
            oid: entry.id(),
            mode: entry.filemode(),
        });
        return;
    };
    for sub in tree.iter() {
        let name = String::from_utf8_lossy(sub.name_bytes());
        walk(repo, &sub, &format!("{path}/{name}"), depth + 1, files);
    }
}

/// The path of a file of safe 0.1 at the top of a tree or under `shared/`,
/// if there is one.
fn schema1_path(repo: &SyncRepo, name: &str, entry: &git2::TreeEntry<'_>) -> Option<String> {
    if is_schema1(repo, "", name, entry) {
        return Some(name.to_string());
    }
    if name != "shared" {
        return None;
    }
    let shared = repo.git.find_tree(entry.id()).ok()?;
    for inner in shared.iter() {
        let inner_name = String::from_utf8_lossy(inner.name_bytes()).into_owned();
        if is_schema1(repo, "shared/", &inner_name, &inner) {
            return Some(format!("shared/{inner_name}"));
        }
        if inner_name == "log"
            && let Ok(log) = repo.git.find_tree(inner.id())
        {
            for month in log.iter() {
                let month_name = String::from_utf8_lossy(month.name_bytes()).into_owned();
                if is_schema1(repo, "shared/log/", &month_name, &month) {
                    return Some(format!("shared/log/{month_name}"));
                }
            }
        }
    }
    None
}

/// Whose log a device's is, for messages.
fn whose_log(journal: &Journal, device: &DeviceId) -> String {
    let roster = journal.roster();
    if *device == journal.identity().device {
        return format!("this device's own log ({device})");
    }
    match roster.person(device) {
        Some(person) if Some(person) == journal.me() => {
            format!("the log of another of your devices ({device})")
        }
        // One couple: anyone else in the journal is my partner.
        Some(_) if journal.me().is_some() => format!("your partner's log (device {device})"),
        Some(person) => format!("the log of device {device} (person {person})"),
        None => format!("the log of device {device}, which no pairing in this journal trusts"),
    }
}

/// What safe 0.1 wrote: `people.json`, `practices.json` and
/// `log/YYYY-MM.json` (also looked for under `shared/`).
fn is_schema1(repo: &SyncRepo, dir: &str, name: &str, entry: &git2::TreeEntry<'_>) -> bool {
    let top = dir.is_empty() || dir == "shared/";
    if top && matches!(name, "people.json" | "practices.json") {
        return true;
    }
    if matches!(dir, "log/" | "shared/log/") && YearMonth::from_file_name(name).is_some() {
        return true;
    }
    // A top-level `log/` is outside schema 2's layout: look in it for months.
    dir.is_empty()
        && name == "log"
        && repo.git.find_tree(entry.id()).is_ok_and(|tree| {
            tree.iter()
                .any(|e| e.name().and_then(YearMonth::from_file_name).is_some())
        })
}

fn schema1_remote(shown: &str, path: &str) -> Error {
    Error::runtime(format!(
        "{shown} holds a journal of safe 0.1 (schema 1; it has `{path}`), and this safe syncs \
         only schema 2, which starts on a fresh, empty remote: nothing here was changed"
    ))
    .with_hint(
        "create a new empty repository and run `safe sync --remote NEW-URL`; the old host keeps \
         the plaintext history it already has (delete that repository if you want it gone)",
    )
}

// ---------------------------------------------------------------------------
// The logs here

/// Every segment file under `shared/log`, with its blob id: from the stat
/// record when the file has not changed since it was last hashed, else
/// hashed now. A file over the size limit is left out (the journal reports
/// it, and no reader would take it).
fn scan_local(root: &Path, stat: &mut StatCache, problems: &mut Vec<Error>) -> Result<Logs> {
    identify_local(list_local(root)?, stat, problems)
}

/// The segment files of each log here, as listed: each file's path below
/// its device's folder, its path, and what the file system says of it.
type Listed = Vec<(DeviceId, Vec<(String, PathBuf, fs::Metadata)>)>;

/// Every segment file under `shared/log` with its metadata, without
/// reading any: no git is needed for this.
fn list_local(root: &Path) -> Result<Listed> {
    let log_root = shared_log(root);
    let mut listed = Vec::new();
    for device in segment::list_devices(&log_root)? {
        let mut files = Vec::new();
        for seg in segment::segments(&log_root, &device)? {
            let rest = rest_of(&log_root, &device, &seg.path);
            let meta = fs::metadata(&seg.path).map_err(|e| Error::io("read", &seg.path, e))?;
            files.push((rest, seg.path, meta));
        }
        listed.push((device, files));
    }
    Ok(listed)
}

/// The blob id of every file listed, by device: see [`scan_local`].
fn identify_local(listed: Listed, stat: &mut StatCache, problems: &mut Vec<Error>) -> Result<Logs> {
    let now = SystemTime::now();
    let mut logs = Logs::new();
    for (device, listed) in listed {
        let mut files = LogFiles::new();
        for (rest, path, meta) in listed {
            if meta.len() > MAX_FILE_BYTES {
                problems.push(Error::runtime(format!(
                    "{} is {} bytes, over the {} MiB safe reads, so safe did not send it",
                    path.display(),
                    meta.len(),
                    MAX_FILE_BYTES >> 20
                )));
                continue;
            }
            let rel = format!("shared/log/{device}/{rest}");
            let oid = match stat.lookup(&rel, &meta) {
                Some(oid) => oid,
                None => blob_id(&read_file(&path)?)?,
            };
            stat.record(&rel, &meta, oid, now);
            files.insert(rest, oid);
        }
        logs.insert(device, files);
    }
    Ok(logs)
}

fn shared_log(root: &Path) -> PathBuf {
    root.join("shared").join("log")
}

/// A segment's path below its device's folder, with `/` between names.
fn rest_of(log_root: &Path, device: &DeviceId, path: &Path) -> String {
    let rest = path
        .strip_prefix(log_root.join(device.as_str()))
        .unwrap_or(path);
    let names: Vec<String> = rest
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    names.join("/")
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::io("read", path, e))
}

fn blob_id(bytes: &[u8]) -> Result<Oid> {
    Oid::hash_object(ObjectType::Blob, bytes).map_err(|e| Error::runtime(e.message().to_string()))
}

// ---------------------------------------------------------------------------
// Staging

/// `sync.git/incoming/log`: a log root where remote copies wait. Emptied
/// before and after each round, so a killed sync leaves nothing that counts.
struct Incoming {
    dir: PathBuf,
}

impl Incoming {
    fn new(git_dir: &Path) -> Incoming {
        let incoming = Incoming {
            dir: git_dir.join(INCOMING),
        };
        incoming.clear();
        incoming
    }

    fn log_root(&self) -> PathBuf {
        self.dir.join("log")
    }

    fn clear(&self) {
        // Missing is cleared; anything left is for the next sync to clear,
        // and nothing reads it meanwhile.
        let _ = fs::remove_dir_all(&self.dir);
    }

    /// Put the remote copy of `device`'s log here: files it shares with the
    /// copy in `shared/log` are linked, the others written from the bytes
    /// opened (`plain`), or from their blobs in `sync.git`.
    #[allow(clippy::too_many_arguments)]
    fn stage(
        &self,
        repo: &SyncRepo,
        root: &Path,
        device: &DeviceId,
        remote: &LogFiles,
        plain: &BTreeMap<Oid, Vec<u8>>,
        local: Option<&LogFiles>,
        shown: &str,
    ) -> Result<()> {
        for (rest, oid) in remote {
            let target = self.log_root().join(device.as_str()).join(rest);
            let dir = target.parent().expect("a segment lives in a folder");
            file::ensure_dir(dir)?;
            if local.and_then(|l| l.get(rest)) == Some(oid) {
                let here = shared_log(root).join(device.as_str()).join(rest);
                if fs::hard_link(&here, &target).is_ok() {
                    continue;
                }
            }
            if let Some(bytes) = plain.get(oid) {
                write_private(&target, bytes)?;
                continue;
            }
            let from = PathBuf::from(format!("{shown}:shared/log/{device}/{rest}"));
            let bytes = repo.blob(*oid, &from)?;
            write_private(&target, &bytes)?;
        }
        Ok(())
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut handle = options
        .open(path)
        .map_err(|e| Error::io("write", path, e))?;
    handle
        .write_all(bytes)
        .map_err(|e| Error::io("write", path, e))
}

// ---------------------------------------------------------------------------
// Deciding, per log

/// How the remote copy of one log compares with the copy here.
#[derive(Debug)]
struct Compared {
    device: DeviceId,
    /// Verified lines here and there, and how many they share from seq 1.
    here: u64,
    there: u64,
    common: u64,
    verdict: Verdict,
    /// The log here goes into the pushed tree.
    send: bool,
    /// The remote holds a fork of this device's own log.
    forks_mine: bool,
    /// For a copy to adopt: the sidecars of the lines here, by seq. The
    /// lines both hold keep these, whatever the remote's copy carries
    /// (docs/protocol.md "Stripping superseded notes").
    sidecars: BTreeMap<u64, String>,
}

#[derive(Debug, PartialEq, Eq)]
enum Verdict {
    /// The remote copy verifies, is longer, and extends the copy here.
    Adopt,
    /// The copy here stays: the remote lacks the log, or holds a verified
    /// copy no longer than it.
    Keep,
    /// Both copies verify but differ at a seq both hold.
    Fork { at: u64 },
    /// The remote copy does not verify.
    Damaged,
    /// No key for the device: neither copy can be checked.
    NoKey,
}

/// One round of a sync: one fetched remote against the logs here.
struct Round<'a> {
    root: &'a Path,
    repo: &'a SyncRepo,
    shown: &'a str,
    journal: &'a Journal,
    incoming: &'a Incoming,
    /// Keys found in `device` records while looking for one.
    keys: BTreeMap<DeviceId, VerifyingKey>,
    /// Logs (`here/<device>` or `there/<device>`) already looked through.
    scanned: BTreeSet<String>,
    problems: Vec<Error>,
}

impl Round<'_> {
    /// Compare every log whose files differ between here and the remote.
    fn compare(
        &mut self,
        remote: &Logs,
        plain: &BTreeMap<Oid, Vec<u8>>,
        local: &Logs,
    ) -> Result<Vec<Compared>> {
        let devices: BTreeSet<&DeviceId> = remote.keys().chain(local.keys()).collect();
        let changed: Vec<DeviceId> = devices
            .into_iter()
            .filter(|d| remote.get(*d) != local.get(*d))
            .cloned()
            .collect();
        // Every differing remote copy is staged first: a key may be named
        // in any of them.
        for device in &changed {
            if let Some(files) = remote.get(device) {
                let here = local.get(device);
                self.incoming
                    .stage(self.repo, self.root, device, files, plain, here, self.shown)?;
            }
        }
        let mut out = Vec::new();
        for device in &changed {
            let compared = self.compare_one(device, remote.get(device), local, &changed)?;
            out.push(compared);
        }
        Ok(out)
    }

    fn compare_one(
        &mut self,
        device: &DeviceId,
        remote: Option<&LogFiles>,
        local: &Logs,
        changed: &[DeviceId],
    ) -> Result<Compared> {
        let member = self.journal.roster().members.contains_key(device);
        let mut compared = Compared {
            device: device.clone(),
            here: 0,
            there: 0,
            common: 0,
            verdict: Verdict::NoKey,
            send: member,
            forks_mine: false,
            sidecars: BTreeMap::new(),
        };
        let Some(key) = self.key_for(device, changed, local)? else {
            if remote.is_some() {
                self.problems.push(
                    Error::runtime(format!(
                        "{} holds shared/log/{device}, a log whose key no device record names: \
                         safe cannot check it, so it took none of it",
                        self.shown
                    ))
                    .with_hint(
                        "no device of this journal wrote it; safe's next push leaves it out",
                    ),
                );
            }
            return Ok(compared);
        };
        let journal = &self.journal.identity().journal;
        let here = segment::read_log(
            &shared_log(self.root),
            device,
            &key,
            journal,
            LogKind::Shared,
        )?;
        compared.here = here.lines.len() as u64;
        compared.send = member || !here.lines.is_empty();
        if remote.is_none() {
            compared.verdict = Verdict::Keep;
            return Ok(compared);
        }
        let staged = self.incoming.log_root();
        // The files both copies start with (same place, same blob), but
        // the last of either, are read once: here.
        let same = match (remote, local.get(device)) {
            (Some(there_files), Some(here_files)) => there_files
                .iter()
                .zip(here_files)
                .take(there_files.len().min(here_files.len()).saturating_sub(1))
                .take_while(|(a, b)| a == b)
                .count(),
            _ => 0,
        };
        let there =
            segment::read_log_after(&staged, device, &key, journal, LogKind::Shared, &here, same)?;
        compared.there = there.lines.len() as u64;
        compared.common = here
            .lines
            .iter()
            .zip(&there.lines)
            .take_while(|(a, b)| a.payload == b.payload)
            .count() as u64;
        let shorter = compared.here.min(compared.there);
        compared.verdict = if let Some(damage) = there.quarantine {
            self.problems.push(self.damaged(device, &staged, damage));
            Verdict::Damaged
        } else if compared.common < shorter {
            let at = compared.common + 1;
            compared.forks_mine = *device == self.journal.identity().device;
            self.problems.push(self.forked(device, at));
            Verdict::Fork { at }
        } else if compared.there > compared.here {
            Verdict::Adopt
        } else {
            Verdict::Keep
        };
        if compared.verdict == Verdict::Adopt {
            compared.send = true;
            compared.sidecars = here
                .lines
                .into_iter()
                .filter_map(|l| Some((l.seq, l.sidecar?)))
                .collect();
        }
        Ok(compared)
    }

    /// The key of `device`: the roster's, the root's, or one a `device`
    /// record names in a remote copy being compared or in the log here.
    /// A device id is the hash of its key, so any record that names a key
    /// with that id names the right one, whoever wrote it.
    fn key_for(
        &mut self,
        device: &DeviceId,
        changed: &[DeviceId],
        local: &Logs,
    ) -> Result<Option<VerifyingKey>> {
        if let Some(member) = self.journal.roster().members.get(device) {
            return Ok(Some(member.key));
        }
        let identity = self.journal.identity();
        if *device == identity.root {
            return Ok(Some(identity.root_key));
        }
        let staged = self.incoming.log_root();
        let here = shared_log(self.root);
        let mut places: Vec<(String, PathBuf)> = changed
            .iter()
            .map(|d| (format!("there/{d}"), staged.join(d.as_str())))
            .collect();
        if local.contains_key(device) {
            places.push((format!("here/{device}"), here.join(device.as_str())));
        }
        for (name, folder) in places {
            if self.keys.contains_key(device) {
                break;
            }
            if self.scanned.insert(name) {
                scan_device_records(&folder, &mut self.keys)?;
            }
        }
        Ok(self.keys.get(device).copied())
    }

    /// Take every adopted remote copy into `shared/log`; the lines each
    /// brought, by device.
    fn adopt_all(
        &mut self,
        compared: &[Compared],
        remote: &Logs,
        local: &mut Logs,
        stat: &mut StatCache,
        lock: &Lock,
    ) -> Result<Vec<(DeviceId, u64)>> {
        let mut adopted = Vec::new();
        for c in compared.iter().filter(|c| c.verdict == Verdict::Adopt) {
            let there = &remote[&c.device];
            let here = local.get(&c.device).cloned().unwrap_or_default();
            let taken = self.adopt(c, there, &here, stat, lock)?;
            local.insert(c.device.clone(), taken);
            adopted.push((c.device.clone(), c.there - c.here));
        }
        Ok(adopted)
    }

    /// Make the log here the staged copy: each file that differs is
    /// flushed and renamed into place in log order (so every moment leaves
    /// a verified prefix), then files the copy lacks go. The lines the
    /// copy here already held keep its sidecars: a note stripped here is
    /// never brought back, and one kept here is never lost to a copy that
    /// lacks it. The files as taken, with their blob ids.
    fn adopt(
        &self,
        c: &Compared,
        there: &LogFiles,
        here: &LogFiles,
        stat: &mut StatCache,
        lock: &Lock,
    ) -> Result<LogFiles> {
        let device = &c.device;
        let log_root = shared_log(self.root);
        let staged_root = self.incoming.log_root();
        let mut dirs = BTreeSet::new();
        let now = SystemTime::now();
        let mut taken = LogFiles::new();
        for (rest, oid) in there {
            if here.get(rest) == Some(oid) {
                taken.insert(rest.clone(), *oid);
                continue;
            }
            let staged = staged_root.join(device.as_str()).join(rest);
            let first_seq = segment::parse_segment_path(&staged_root, &staged)?.first_seq;
            let mine = |seq: u64, theirs: Option<&str>| match seq <= c.here {
                true => c.sidecars.get(&seq).cloned(),
                false => theirs.map(str::to_string),
            };
            let oid = match strip::rewrite_sidecars(&staged_root, &staged, first_seq, mine, lock)? {
                Some(_) => blob_id(&read_file(&staged)?)?,
                None => *oid,
            };
            taken.insert(rest.clone(), oid);
            if here.get(rest) == Some(&oid) {
                continue;
            }
            let target = log_root.join(device.as_str()).join(rest);
            file::ensure_dir(target.parent().expect("a segment lives in a folder"))?;
            put_in_place(&staged, &target)?;
            let rel = format!("shared/log/{device}/{rest}");
            if let Ok(meta) = fs::metadata(&target) {
                stat.record(&rel, &meta, oid, now);
            }
            dirs.extend(target.ancestors().skip(1).take(4).map(Path::to_path_buf));
        }
        for rest in here.keys().filter(|r| !there.contains_key(*r)) {
            let gone = log_root.join(device.as_str()).join(rest);
            fs::remove_file(&gone).map_err(|e| Error::io("remove", &gone, e))?;
            dirs.extend(gone.parent().map(Path::to_path_buf));
        }
        // A rename is durable once its folder is flushed, and a new folder
        // once its parent is.
        for dir in dirs {
            if let Ok(handle) = fs::File::open(&dir) {
                let _ = handle.sync_all();
            }
        }
        Ok(taken)
    }

    /// The logs to send: every log here that the roster uses or that
    /// verifies, with the files it has now.
    fn union(&self, compared: &[Compared], remote: &Logs, local: &Logs) -> Logs {
        let decided: BTreeMap<&DeviceId, &Compared> =
            compared.iter().map(|c| (&c.device, c)).collect();
        local
            .iter()
            .filter(|(device, files)| match decided.get(device) {
                Some(c) => c.send,
                // Not compared: the remote holds the very same files.
                None => remote.get(*device) == Some(*files),
            })
            .map(|(d, f)| (d.clone(), f.clone()))
            .collect()
    }

    /// Whose log a device's is, for messages.
    fn whose(&self, device: &DeviceId) -> String {
        whose_log(self.journal, device)
    }

    fn damaged(&self, device: &DeviceId, staged: &Path, damage: segment::Quarantine) -> Error {
        let rest = damage.path.strip_prefix(staged).unwrap_or(&damage.path);
        let shown = segment::Quarantine {
            path: PathBuf::from(format!("{}:shared/log", self.shown)).join(rest),
            ..damage
        };
        Error::runtime(format!(
            "the copy of {} in {} does not verify ({shown}), so safe took none of it and kept \
             the copy here",
            self.whose(device),
            self.shown,
        ))
        .with_hint(
            "someone with push access changed it, or it was damaged on the way; safe's next push \
             puts the copy here back",
        )
    }

    fn forked(&self, device: &DeviceId, at: u64) -> Error {
        if *device == self.journal.identity().device {
            return Error::runtime(format!(
                "{} holds a copy of {} that forks from it at seq {at}: another data directory with \
                 this device's key wrote other lines, so safe sent nothing",
                self.shown,
                self.whose(device)
            ))
            .with_hint(
                "pair this computer again as a new device (`safe invite --device` on a paired \
                 device, `safe join` here in a new data directory); the lines here are kept",
            );
        }
        Error::runtime(format!(
            "{} holds a copy of {} that forks from the copy here at seq {at}, so safe kept the \
             copy here",
            self.shown,
            self.whose(device)
        ))
        .with_hint(
            "the same device key wrote two different lines: its data directory was copied or \
             restored, and that device should be paired again as a new one",
        )
    }
}

/// Look through the segment files of one log folder for `device` records
/// whose key has the id they name; unverified, since the id binds the key.
fn scan_device_records(folder: &Path, keys: &mut BTreeMap<DeviceId, VerifyingKey>) -> Result<()> {
    let Some((root, device)) = folder.parent().zip(
        folder
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(DeviceId::parse),
    ) else {
        return Ok(());
    };
    for seg in segment::segments(root, &device)? {
        let len = fs::metadata(&seg.path).map(|m| m.len()).unwrap_or(u64::MAX);
        if len > MAX_FILE_BYTES {
            continue;
        }
        let bytes = read_file(&seg.path)?;
        let text = String::from_utf8_lossy(&bytes);
        for raw in text.lines().filter(|l| l.contains("\"key\"")) {
            let rec = line::split(raw).ok().and_then(|raw| {
                line::header(raw.payload)
                    .ok()
                    .map(|h| h.rec.get().to_string())
            });
            if let Some(Ok(Record::Device(r))) = rec.as_deref().map(Record::parse)
                && let Ok(key) = VerifyingKey::from_bytes(&r.key.0)
                && DeviceId::of(&key).as_str() == r.device
            {
                keys.insert(DeviceId::of(&key), key);
            }
        }
    }
    Ok(())
}

/// The union with each log's files as they are here now: taking logs
/// refreshes the journal, which strips the notes the new lines supersede
/// from the logs here (docs/protocol.md "Stripping superseded notes"), so a
/// file may have changed since the union was worked out.
fn as_on_disk(root: &Path, stat: &mut StatCache, union: Logs) -> Result<Logs> {
    // Files over the size limit were reported when the union was made.
    let mut reported = Vec::new();
    let now = scan_local(root, stat, &mut reported)?;
    stat.save();
    Ok(union
        .into_iter()
        .map(|(device, files)| match now.get(&device) {
            Some(files) => (device, files.clone()),
            None => (device, files),
        })
        .collect())
}

/// Flush a staged file and rename it over `target`; copied instead when
/// the two are on different file systems.
fn put_in_place(staged: &Path, target: &Path) -> Result<()> {
    fs::File::open(staged)
        .and_then(|f| f.sync_all())
        .map_err(|e| Error::io("write", target, e))?;
    if fs::rename(staged, target).is_ok() {
        return Ok(());
    }
    file::write_atomic(target, &read_file(staged)?)
}

// ---------------------------------------------------------------------------
// Sending

/// The commit to send: the union, sealed, on top of local `main` and the
/// fetched remote `main`; `None` when the remote's tree already is it.
fn outgoing(
    repo: &SyncRepo,
    root: &Path,
    theirs: Option<Oid>,
    remote: &RemoteTree,
    union: &Logs,
    sealer: &mut Sealer,
    journal: &Journal,
) -> Result<Option<Oid>> {
    let unchanged = remote.logs == *union
        && remote.ignored.is_empty()
        && remote.refused.is_empty()
        && sealer.changes_nothing(&remote.sealed, journal.roster());
    if unchanged && (theirs.is_some() || union.is_empty()) {
        return Ok(None);
    }
    let tree = write_tree(repo, root, union, remote, sealer, journal)?;
    if let Some(theirs) = theirs
        && repo.tree_of(theirs)? == tree
    {
        return Ok(None);
    }
    // Only this remote's own history is a parent: a `main` left by schema
    // 1, by a safe without sealing, or by another remote never goes.
    let ours = match repo.commit_of(MAIN)? {
        Some(ours) if sealer.main_may_be_parent() && holds_sealed_only(repo, ours)? => Some(ours),
        _ => None,
    };
    let parents: Vec<Oid> = match (ours, theirs) {
        (None, None) => Vec::new(),
        (Some(one), None) | (None, Some(one)) => vec![one],
        (Some(o), Some(t)) if o == t || repo.descends_from(t, o)? => vec![t],
        (Some(o), Some(t)) if repo.descends_from(o, t)? => vec![o],
        (Some(o), Some(t)) => vec![o, t],
    };
    if let [only] = parents[..]
        && repo.tree_of(only)? == tree
        && Some(only) != theirs
    {
        return Ok(Some(only));
    }
    repo.commit(tree, &parents, &anonymous(), "safe\n")
        .map(Some)
}

/// Whether a commit's tree holds nothing but the sealed layout.
fn holds_sealed_only(repo: &SyncRepo, commit: Oid) -> Result<bool> {
    let tree = repo
        .git
        .find_commit(commit)
        .and_then(|c| c.tree())
        .map_err(|e| git_failed(repo, e))?;
    Ok(tree
        .iter()
        .all(|e| e.name().is_some_and(|n| layout::TOP.contains(&n))))
}

/// The sealed tree of `logs` (`crate::seal::layout`): each segment sealed
/// to the current epoch, or the blob it was sealed to before when its
/// plaintext did not change, with the epochs and the key statements.
fn write_tree(
    repo: &SyncRepo,
    root: &Path,
    logs: &Logs,
    remote: &RemoteTree,
    sealer: &mut Sealer,
    journal: &Journal,
) -> Result<Oid> {
    let (tree, _) = sealer.write_tree(&repo.git, root, logs, &remote.sealed, journal.roster())?;
    Ok(tree)
}

/// Every commit's author and committer: no name, no address, no time.
fn anonymous() -> Signature<'static> {
    Signature::new("safe", "safe@safe.invalid", &Time::new(0, 0))
        .expect("a fixed signature is valid")
}

/// Lines the remote lacked of each log sent.
fn sent(compared: &[Compared], union: &Logs) -> u64 {
    compared
        .iter()
        .filter(|c| union.contains_key(&c.device) && c.verdict != Verdict::Adopt)
        .map(|c| c.here.saturating_sub(c.common))
        .sum()
}

fn drop_ref(repo: &SyncRepo, name: &str) {
    if let Ok(mut reference) = repo.git.find_reference(name) {
        let _ = reference.delete();
    }
}

fn git_failed(repo: &SyncRepo, err: git2::Error) -> Error {
    Error::runtime(format!(
        "could not read or write {}: {}",
        repo.git.path().display(),
        err.message()
    ))
    .with_hint(
        "sync.git only carries the logs between devices: moving it away and running `safe sync` \
         again rebuilds it from shared/",
    )
}

mod waiting;
pub use waiting::{Lines, Waiting, waiting};

#[cfg(test)]
mod converge;
#[cfg(test)]
mod tests;
