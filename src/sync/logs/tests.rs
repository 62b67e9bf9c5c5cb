//! The log sync on real parts: data directories made by `Journal::create`,
//! a partner paired by a `device` line from the root, bare remotes made by
//! `git init --bare`, and a hostile partner who edits the remote with the
//! `git` command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::DateTime;
use tempfile::TempDir;

use super::*;
use crate::domain::entry::{EntryId, Kind};
use crate::domain::record::{DeviceRecord, EntryRecord, Hex32, NameRecord, NoteRecord, Rev, Role};
use crate::journal::Identity;
use crate::keys::DeviceKey;
use crate::store::DataDir;

/// 2026-11-27T12:00:00Z.
const T0: u64 = 1_795_780_800_000;
const MINUTE: u64 = 60_000;

/// One device: a data directory, its lock and its open journal.
struct Device {
    dir: TempDir,
    lock: Lock,
    journal: Journal,
}

impl Device {
    fn lock(dir: &TempDir) -> Lock {
        DataDir::new(dir.path().to_path_buf()).lock().unwrap()
    }

    /// The root device of a new journal.
    fn create(name: &str) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let lock = Self::lock(&dir);
        let journal = Journal::create(dir.path(), name, T0, &lock).unwrap();
        Device { dir, lock, journal }
    }

    /// A device that `by` pairs with `role`: its own key and `journal.json`,
    /// and the `device` line in `by`'s log. It is in the journal once it
    /// receives that line.
    fn paired(by: &mut Device, role: Role, remote: &Remote) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let lock = Self::lock(&dir);
        let key = DeviceKey::load_or_create(dir.path(), &lock).unwrap();
        // As `safe join` does: the sealing key goes to the remote first.
        publish_key(dir.path(), &remote.url(), &lock).unwrap();
        let of = by.journal.identity().clone();
        Identity {
            device: key.id(),
            ..of.clone()
        }
        .write(dir.path(), &lock)
        .unwrap();
        let pairing = Record::Device(DeviceRecord {
            device: key.id().to_string(),
            key: Hex32(key.public().to_bytes()),
            role,
            journal: of.journal,
        });
        by.write("pair", vec![pairing], T0 + MINUTE);
        let journal = Journal::open(dir.path(), T0, &lock).unwrap();
        Device { dir, lock, journal }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn id(&self) -> DeviceId {
        self.journal.identity().device.clone()
    }

    fn person(&self) -> String {
        self.journal.me().unwrap().to_string()
    }

    fn write(&mut self, op: &str, records: Vec<Record>, wall_ms: u64) {
        self.write_to(op, records, LogKind::Shared, wall_ms);
    }

    fn write_to(&mut self, op: &str, records: Vec<Record>, kind: LogKind, wall_ms: u64) {
        let records: Vec<(Record, Option<String>)> =
            records.into_iter().map(|r| (r, None)).collect();
        let written = self
            .journal
            .write(op, &records, kind, wall_ms, &self.lock)
            .unwrap();
        assert!(written.index_warning.is_none(), "{written:?}");
    }

    fn sync(&mut self, remote: &Remote) -> LogSyncReport {
        self.try_sync(remote).unwrap()
    }

    fn try_sync(&mut self, remote: &Remote) -> Result<LogSyncReport> {
        remote.keys.borrow_mut().push(self.dir.path().to_path_buf());
        sync_logs(
            self.dir.path(),
            &remote.url(),
            &mut self.journal,
            T0 + 10 * MINUTE,
            &self.lock,
        )
    }

    /// The entry numbers of `person`'s live entries, as this device sees them.
    fn entries_of(&self, person: &str) -> Vec<u64> {
        let state = self.journal.state().unwrap();
        let mut out: Vec<u64> = state
            .entries
            .keys()
            .filter(|(owner, _)| owner == person)
            .map(|(_, entry)| (0..1000).find(|&n| id(n) == *entry).unwrap())
            .collect();
        out.sort();
        out
    }

    /// Every file of `shared/log`, by its path there.
    fn shared_files(&self) -> BTreeMap<PathBuf, Vec<u8>> {
        files_under(&self.root().join("shared").join("log"))
    }

    /// The folder of this device's shared log.
    fn log_folder(&self) -> String {
        format!("shared/log/{}", self.id())
    }
}

fn files_under(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        let Ok(listing) = std::fs::read_dir(&next) else {
            continue;
        };
        for item in listing {
            let path = item.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

/// Copy a folder, leaving out the names in `skip`.
fn copy_tree(from: &Path, to: &Path, skip: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        if skip.iter().any(|s| item.file_name() == *s) {
            continue;
        }
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target, skip);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

/// `git` with no configuration of this machine's.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .args([
            "-c",
            "user.name=Mallory",
            "-c",
            "user.email=m@example.org",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A bare repository both partners sync through.
struct Remote {
    dir: TempDir,
    /// The data directories that synced through it: a hostile partner
    /// holds the keys of one (their own), and opens the sealed remote.
    keys: std::cell::RefCell<Vec<PathBuf>>,
}

impl Remote {
    fn new() -> Remote {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "--bare", "-q", "remote.git"]);
        Remote {
            dir,
            keys: Default::default(),
        }
    }

    /// Open the sealed checkout at `clone` into `shared/log` with the keys
    /// of the first device that opens any of it.
    fn open(&self, clone: &Path) -> Option<crate::seal::tools::Checkout> {
        for root in self.keys.borrow().iter() {
            if let Ok(checkout) = crate::seal::tools::open_checkout(clone, root)
                && clone.join("shared").exists()
            {
                return Some(checkout);
            }
        }
        None
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    fn url(&self) -> String {
        self.path().display().to_string()
    }

    /// Someone with push access clones the remote, changes its files with
    /// `edit` (given the clone's folder), commits and pushes, without force.
    fn tamper(&self, edit: impl FnOnce(&Path)) {
        let work = tempfile::tempdir().unwrap();
        git(
            work.path(),
            &["clone", "-q", "-b", "main", &self.url(), "clone"],
        );
        let clone = work.path().join("clone");
        let opened = self.open(&clone);
        edit(&clone);
        if let Some(opened) = opened {
            opened.seal_again().unwrap();
        }
        git(&clone, &["add", "-A"]);
        git(&clone, &["commit", "-q", "-m", "hostile"]);
        git(&clone, &["push", "-q", "origin", "main"]);
    }

    /// Fill a new, empty remote with what `make` writes into a folder.
    fn seed(&self, make: impl FnOnce(&Path)) {
        let work = tempfile::tempdir().unwrap();
        git(work.path(), &["init", "-q"]);
        make(work.path());
        git(work.path(), &["add", "-A"]);
        git(work.path(), &["commit", "-q", "-m", "seed"]);
        git(
            work.path(),
            &["push", "-q", &self.url(), "HEAD:refs/heads/main"],
        );
    }

    /// A file of the remote's `main`, if it holds it; a segment's path in
    /// `shared/log` names it opened.
    fn show(&self, path: &str) -> Option<Vec<u8>> {
        if path.starts_with("shared/") {
            let work = tempfile::tempdir().unwrap();
            git(
                work.path(),
                &["clone", "-q", "-b", "main", &self.url(), "clone"],
            );
            let clone = work.path().join("clone");
            self.open(&clone)?;
            return std::fs::read(clone.join(path)).ok();
        }
        let out = Command::new("git")
            .current_dir(self.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .args(["cat-file", "blob", &format!("main:{path}")])
            .output()
            .unwrap();
        out.status.success().then_some(out.stdout)
    }

    /// The paths of every file of the remote's `main`.
    fn paths(&self) -> Vec<String> {
        git(&self.path(), &["ls-tree", "-r", "--name-only", "main"])
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// The one segment file of a short log, below the log's folder.
const FIRST: &str = "00/00/0000000001.jsonl";

fn id(n: u64) -> EntryId {
    uuid::Builder::from_unix_timestamp_millis(T0 - n, &[n as u8; 10]).into_uuid()
}

/// Entry `n` of `practice` on 2026-11-27.
fn entry(n: u64, practice: &str) -> Record {
    Record::Entry(EntryRecord {
        id: id(n),
        kind: Kind::Log,
        practice: practice.to_string(),
        day: "2026-11-27".parse().unwrap(),
        until: None,
        at: DateTime::parse_from_rfc3339("2026-11-27T21:14:03+01:00").unwrap(),
        took: None,
        h: None,
        card: None,
        private: false,
        rev: Rev::default(),
    })
}

fn name(name: &str) -> Record {
    Record::Name(NameRecord {
        name: name.to_string(),
        rev: Rev::default(),
    })
}

/// Alex (the root) and Sam (paired as partner), each with entries of
/// their own, both synced once through `remote`.
fn couple(remote: &Remote) -> (Device, Device) {
    let mut alex = Device::create("Alex");
    let mut sam = Device::paired(&mut alex, Role::Partner, remote);
    alex.write("alex-1", vec![entry(1, "appreciation")], T0 + 2 * MINUTE);
    alex.sync(remote);
    sam.sync(remote);
    sam.write(
        "sam-1",
        vec![name("Sam"), entry(2, "listen")],
        T0 + 3 * MINUTE,
    );
    sam.sync(remote);
    alex.sync(remote);
    (alex, sam)
}

fn mentions(report: &LogSyncReport, words: &[&str]) -> bool {
    report.problems.iter().any(|p| {
        let text = format!("{} {}", p.message(), p.hint().unwrap_or_default());
        words.iter().all(|w| text.contains(w))
    })
}

#[test]
fn two_partners_see_each_others_entries_whichever_syncs_first() {
    for alex_first in [true, false] {
        let remote = Remote::new();
        let mut alex = Device::create("Alex");
        let mut sam = Device::paired(&mut alex, Role::Partner, &remote);
        alex.write("alex-1", vec![entry(1, "appreciation")], T0 + 2 * MINUTE);
        // Alex's log: the journal's first batch (device, name), the pairing
        // line, and the entry.
        let first = alex.sync(&remote);
        assert_eq!((first.sent, first.received_total()), (4, 0));
        assert!(first.changed && first.problems.is_empty(), "{first:?}");

        let joined = sam.sync(&remote);
        assert_eq!(joined.received, BTreeMap::from([(alex.person(), 4)]));
        assert_eq!(joined.sent, 0);
        assert_eq!(sam.journal.me(), Some(sam.id().as_str()));

        sam.write(
            "sam-1",
            vec![name("Sam"), entry(2, "listen")],
            T0 + 3 * MINUTE,
        );
        alex.write("alex-2", vec![entry(3, "repair")], T0 + 3 * MINUTE);
        let (alex_id, sam_id) = (alex.person(), sam.person());
        let turns = match alex_first {
            true => [true, false, true],
            false => [false, true, false],
        };
        let (mut sent, mut received) = (0, 0);
        for alex_turn in turns {
            let report = match alex_turn {
                true => alex.sync(&remote),
                false => sam.sync(&remote),
            };
            assert!(report.problems.is_empty(), "{report:?}");
            let own = if alex_turn { &alex_id } else { &sam_id };
            assert_eq!(report.received.get(own), None, "{report:?}");
            sent += report.sent;
            received += report.received_total();
        }
        for device in [&alex, &sam] {
            assert_eq!(device.entries_of(&alex_id), [1, 3]);
            assert_eq!(device.entries_of(&sam_id), [2]);
            assert!(
                device.journal.report().is_empty(),
                "{:?}",
                device.journal.report()
            );
        }
        assert_eq!(alex.journal.state().unwrap().names[&sam_id], "Sam");
        // Every new line is sent once and received once.
        assert_eq!((sent, received), (3, 3));
        // Nothing new: nothing sent, nothing received, nothing changed.
        let again = alex.sync(&remote);
        assert_eq!(
            (again.sent, again.received_total(), again.changed),
            (0, 0, false)
        );
    }
}

#[test]
fn my_private_notes_and_keys_never_reach_any_object_of_the_remote() {
    const MARKER: &str = "only-mine-5d1c9e";
    let remote = Remote::new();
    let (mut alex, mut sam) = couple(&remote);
    let note = Record::Note(NoteRecord {
        id: id(1),
        note: Some(MARKER.to_string()),
        rev: Rev::default(),
    });
    alex.write_to("private-1", vec![note], LogKind::Private, T0 + 4 * MINUTE);
    alex.write("alex-2", vec![entry(3, "listen")], T0 + 4 * MINUTE);
    alex.sync(&remote);
    sam.sync(&remote);
    let state = alex.journal.state().unwrap();
    assert_eq!(state.notes[&(alex.person(), id(1))], MARKER);
    assert_eq!(sam.entries_of(&alex.person()), [1, 3]);

    let secrets = [
        std::fs::read_to_string(DeviceKey::path(alex.root())).unwrap(),
        std::fs::read_to_string(crate::seal::key::SealKey::path(alex.root())).unwrap(),
    ];
    let repos = [
        remote.path(),
        alex.root().join("sync.git"),
        sam.root().join("sync.git"),
    ];
    for repo in repos {
        let objects = git(&repo, &["cat-file", "--batch-all-objects", "--batch"]);
        assert!(
            objects.contains("age-encryption.org"),
            "the walk sees the logs"
        );
        assert!(!objects.contains(MARKER), "{}", repo.display());
        for secret in &secrets {
            assert!(!objects.contains(secret.trim()), "{}", repo.display());
        }
    }
    // The remote holds the sealed logs: not a word of them in the clear.
    let objects = git(
        &remote.path(),
        &["cat-file", "--batch-all-objects", "--batch"],
    );
    assert!(!objects.contains("appreciation"));
    // It holds the sealed layout and nothing else, and its commits say
    // nothing about who made them or when.
    let paths = remote.paths();
    assert!(
        paths
            .iter()
            .all(|p| crate::seal::layout::parse(p).is_some()),
        "{paths:?}"
    );
    for device in [alex.id(), sam.id()] {
        assert!(
            paths
                .iter()
                .any(|p| p.starts_with(&format!("log/{device}/")))
        );
        assert!(paths.contains(&format!("keys/{device}")));
    }
    assert!(paths.contains(&"epochs/1.age".to_string()));
    let commits = git(
        &remote.path(),
        &["log", "--format=%an|%ae|%at|%cn|%ce|%ct|%B", "main"],
    );
    for commit in commits.split_terminator("\n\n") {
        assert_eq!(
            commit.trim(),
            "safe|safe@safe.invalid|0|safe|safe@safe.invalid|0|safe"
        );
    }
}

#[test]
fn a_changed_line_in_my_log_is_refused_and_named() {
    let remote = Remote::new();
    let (mut alex, mut sam) = couple(&remote);
    let path = format!("{}/{FIRST}", alex.log_folder());
    let honest = remote.show(&path).unwrap();
    let change = |clone: &Path| {
        let file = clone.join(&path);
        let text = std::fs::read_to_string(&file).unwrap();
        let changed = text.replace("appreciation", "gentle-touch");
        assert_ne!(text, changed);
        std::fs::write(&file, changed).unwrap();
    };

    // Sam, who holds a copy of Alex's log, keeps it.
    remote.tamper(change);
    let sams_files = sam.shared_files();
    let report = sam.sync(&remote);
    assert!(
        mentions(
            &report,
            &[
                "your partner's log",
                alex.id().as_str(),
                "does not verify",
                FIRST
            ]
        ),
        "{report:?}"
    );
    assert_eq!(sam.shared_files(), sams_files);
    assert_eq!(sam.entries_of(&alex.person()), [1]);
    assert_eq!(
        remote.show(&path).unwrap(),
        honest,
        "Sam sent the honest copy back"
    );

    // Alex keeps his own.
    remote.tamper(change);
    let (files, state) = (alex.shared_files(), alex.journal.state().unwrap());
    let report = alex.sync(&remote);
    assert!(
        mentions(
            &report,
            &[
                "this device's own log",
                alex.id().as_str(),
                "does not verify"
            ]
        ),
        "{report:?}"
    );
    assert_eq!(report.received_total(), 0);
    assert_eq!(alex.shared_files(), files);
    assert_eq!(alex.journal.state().unwrap(), state);
    assert_eq!(remote.show(&path).unwrap(), honest);
}

#[test]
fn a_forged_line_in_my_log_is_refused_and_named() {
    let remote = Remote::new();
    let (mut alex, mut sam) = couple(&remote);
    let path = format!("{}/{FIRST}", alex.log_folder());
    let mallory = DeviceKey::generate().unwrap();
    let alex_id = alex.id();
    remote.tamper(|clone| {
        let file = clone.join(&path);
        let mut text = std::fs::read_to_string(&file).unwrap();
        let last = text.lines().last().unwrap().split('\t').next().unwrap().to_string();
        let seq = line::header(&last).unwrap().seq + 1;
        let prev = crate::keys::hex(&line::payload_hash(&last));
        let rec = entry(9, "repair").to_json();
        let forged = format!(
            r#"{{"v":2,"device":"{alex_id}","seq":{seq},"prev":"{prev}","op":"forged","rec":{rec}}}"#
        );
        let sig = crate::keys::hex(&mallory.sign_line(forged.as_bytes()).to_bytes());
        text.push_str(&format!("{forged}\t{sig}\n"));
        std::fs::write(&file, text).unwrap();
    });
    let (files, state) = (alex.shared_files(), alex.journal.state().unwrap());
    let report = alex.sync(&remote);
    assert!(
        mentions(
            &report,
            &["this device's own log", alex_id.as_str(), "signature"]
        ),
        "{report:?}"
    );
    assert_eq!(alex.shared_files(), files);
    assert_eq!(alex.journal.state().unwrap(), state);
    // Nobody ever sees the forged entry.
    sam.sync(&remote);
    assert_eq!(sam.entries_of(&alex.person()), [1]);
    assert!(
        sam.journal.report().is_empty(),
        "{:?}",
        sam.journal.report()
    );
}

#[test]
fn a_truncated_or_deleted_copy_of_my_log_is_sent_back_whole() {
    let remote = Remote::new();
    let (mut alex, mut sam) = couple(&remote);
    alex.write("alex-2", vec![entry(3, "repair")], T0 + 4 * MINUTE);
    alex.sync(&remote);
    sam.sync(&remote);
    let path = format!("{}/{FIRST}", alex.log_folder());
    let whole = remote.show(&path).unwrap();
    let files = alex.shared_files();

    // Cut back to the journal's first batch: a valid, shorter copy.
    remote.tamper(|clone| {
        let text = std::fs::read_to_string(clone.join(&path)).unwrap();
        let first: String = text.split_inclusive('\n').take(2).collect();
        std::fs::write(clone.join(&path), first).unwrap();
    });
    let report = alex.sync(&remote);
    assert_eq!(report.received_total(), 0);
    assert_eq!(report.sent, 3, "the pairing line and both entries");
    assert_eq!(alex.shared_files(), files);
    assert_eq!(remote.show(&path).unwrap(), whole);

    remote.tamper(|clone| std::fs::remove_dir_all(clone.join(alex.log_folder())).unwrap());
    sam.sync(&remote);
    assert_eq!(sam.entries_of(&alex.person()), [1, 3], "Sam lost nothing");
    assert_eq!(remote.show(&path).unwrap(), whole, "Sam sent back his copy");
    remote.tamper(|clone| std::fs::remove_dir_all(clone.join(alex.log_folder())).unwrap());
    alex.sync(&remote);
    assert_eq!(alex.shared_files(), files);
    assert_eq!(remote.show(&path).unwrap(), whole);
}

#[test]
fn a_log_of_a_device_nobody_paired_is_not_trusted() {
    let remote = Remote::new();
    let (mut alex, _sam) = couple(&remote);
    // Eve's log is well made (this journal's id, her own key, a device line
    // naming herself), but no device of the journal paired her.
    let eve = tempfile::tempdir().unwrap();
    let lock = Device::lock(&eve);
    let key = DeviceKey::generate().unwrap();
    let journal_id = alex.journal.identity().journal.clone();
    let records = [
        Record::Device(DeviceRecord {
            device: key.id().to_string(),
            key: Hex32(key.public().to_bytes()),
            role: Role::Partner,
            journal: journal_id.clone(),
        }),
        entry(7, "listen"),
    ];
    let texts: Vec<String> = records.iter().map(Record::to_json).collect();
    let batch: Vec<line::Record> = texts
        .iter()
        .map(|rec| line::Record { rec, sidecar: None })
        .collect();
    let eve_logs = eve.path().join("shared").join("log");
    segment::append_batch(
        &eve_logs,
        &key,
        &journal_id,
        LogKind::Shared,
        "eve-1",
        &batch,
        &lock,
    )
    .unwrap();
    let folder = format!("shared/log/{}", key.id());
    remote.tamper(|clone| copy_tree(&eve_logs.join(key.id().as_str()), &clone.join(&folder), &[]));

    let state = alex.journal.state().unwrap();
    alex.sync(&remote);
    let strangers = &alex.journal.report().strangers;
    assert!(
        strangers.iter().any(|s| s.device == key.id()),
        "{strangers:?}"
    );
    assert_eq!(alex.journal.roster().person(&key.id()), None);
    assert_eq!(
        alex.journal.state().unwrap(),
        state,
        "none of Eve's lines is used"
    );
}

#[test]
fn paths_outside_the_layout_are_ignored_reported_and_not_sent_back() {
    // A remote that never held a sealed tree: what is there is not taken,
    // is named, and the first push leaves it out.
    let remote = Remote::new();
    remote.seed(|dir| {
        std::fs::write(dir.join("README.md"), "hello").unwrap();
        std::fs::write(dir.join("bell\u{7}name"), "x").unwrap();
    });
    let mut alex = Device::create("Alex");
    let files = alex.shared_files();
    let report = alex.sync(&remote);
    for name in ["README.md", "bell\u{fffd}name"] {
        assert!(mentions(&report, &[name, "ignored"]), "{name}: {report:?}");
    }
    assert!(
        report
            .problems
            .iter()
            .all(|p| !p.message().contains('\u{7}'))
    );
    assert_eq!(alex.shared_files(), files);
    assert!(!alex.root().join("README.md").exists());
    let paths = remote.paths();
    assert!(
        paths
            .iter()
            .all(|p| crate::seal::layout::parse(p).is_some()),
        "{paths:?}"
    );
}

#[test]
fn anything_in_the_clear_at_a_sealed_remote_is_refused_and_nothing_here_changes() {
    let remote = Remote::new();
    let (mut alex, _sam) = couple(&remote);
    let device = alex.id();
    let folder = alex.log_folder();
    type Edit<'a> = Box<dyn Fn(&Path) + 'a>;
    let cases: Vec<(String, Edit)> = vec![
        (
            "README.md".into(),
            Box::new(|c: &Path| std::fs::write(c.join("README.md"), "hi").unwrap()),
        ),
        (
            format!("log/{device}/0/notes.txt"),
            Box::new(move |c: &Path| {
                std::fs::write(c.join(format!("log/{device}/0/notes.txt")), "x").unwrap()
            }),
        ),
        (
            // A segment in the clear, where the layout puts a sealed one.
            format!("log/{}/0/1.age", alex.id()),
            Box::new({
                let folder = folder.clone();
                move |c: &Path| {
                    let plain = std::fs::read(c.join(format!("{folder}/{FIRST}"))).unwrap();
                    let at = c.join(folder.replace("shared/log", "log")).join("0/1.age");
                    std::fs::write(at, plain).unwrap();
                }
            }),
        ),
        (
            // A log in the clear beside the sealed ones (the top folder is named).
            "plain/".to_string(),
            Box::new({
                let folder = folder.clone();
                move |c: &Path| {
                    let plain = std::fs::read(c.join(format!("{folder}/{FIRST}"))).unwrap();
                    std::fs::create_dir_all(c.join("plain").join(&folder).join("00/00")).unwrap();
                    std::fs::write(c.join("plain").join(&folder).join(FIRST), plain).unwrap();
                }
            }),
        ),
    ];
    for (name, edit) in cases {
        let before = git(&remote.path(), &["rev-parse", "main"]);
        remote.tamper(|clone| edit(clone));
        let files = alex.shared_files();
        let err = alex.try_sync(&remote).unwrap_err();
        assert!(err.message().contains(&name), "{name}: {}", err.message());
        assert!(err.message().contains("sealed"), "{}", err.message());
        assert!(err.hint().unwrap().contains("--remote NEW_URL"));
        assert_eq!(alex.shared_files(), files);
        // Put the remote back for the next case.
        git(
            &remote.path(),
            &["update-ref", "refs/heads/main", before.trim()],
        );
    }
}

#[test]
fn a_schema_1_remote_is_refused_and_nothing_here_changes() {
    for top in ["", "shared/"] {
        let remote = Remote::new();
        remote.seed(|dir| {
            std::fs::create_dir_all(dir.join(format!("{top}log"))).unwrap();
            std::fs::write(dir.join(format!("{top}people.json")), "{}").unwrap();
            std::fs::write(dir.join(format!("{top}log/2026-11.json")), "[]").unwrap();
        });
        let mut alex = Device::create("Alex");
        alex.write("alex-1", vec![entry(1, "listen")], T0 + MINUTE);
        let (files, state) = (alex.shared_files(), alex.journal.state().unwrap());
        let before = remote.paths();

        let err = alex.try_sync(&remote).unwrap_err();
        assert!(
            err.message().contains("safe 0.1 (schema 1"),
            "{}",
            err.message()
        );
        assert!(
            err.message().contains("fresh, empty remote"),
            "{}",
            err.message()
        );
        let hint = err.hint().unwrap();
        assert!(hint.contains("safe sync --remote NEW-URL"), "{hint}");
        assert!(hint.contains("old host keeps"), "{hint}");
        assert_eq!(alex.shared_files(), files);
        assert_eq!(alex.journal.state().unwrap(), state);
        assert_eq!(remote.paths(), before);
        let refs = git(&alex.root().join("sync.git"), &["for-each-ref"]);
        assert_eq!(refs, "", "sync.git's refs are as they were");
    }
}

#[test]
fn a_copy_of_my_own_log_that_forks_it_is_refused_with_the_pair_again_hint() {
    let remote = Remote::new();
    let (mut alex, _sam) = couple(&remote);
    // The data directory was copied (a second computer, a restored backup)
    // and both copies wrote.
    let copied = tempfile::tempdir().unwrap();
    copy_tree(alex.root(), copied.path(), &[".lock", "index"]);
    let lock = Device::lock(&copied);
    let journal = Journal::open(copied.path(), T0, &lock).unwrap();
    let mut copy = Device {
        dir: copied,
        lock,
        journal,
    };
    copy.write("copy-1", vec![entry(5, "listen")], T0 + 5 * MINUTE);
    copy.sync(&remote);
    let path = format!("{}/{FIRST}", alex.log_folder());
    let copys = remote.show(&path).unwrap();

    alex.write("alex-2", vec![entry(6, "repair")], T0 + 5 * MINUTE);
    let report = alex.sync(&remote);
    assert!(
        mentions(
            &report,
            &["this device's own log", "forks", "pair this computer again"]
        ),
        "{report:?}"
    );
    assert_eq!(report.sent, 0);
    assert_eq!(remote.show(&path).unwrap(), copys, "nothing was sent");
    assert_eq!(alex.entries_of(&alex.person()), [1, 6]);
}

#[test]
fn a_push_that_loses_a_race_fetches_and_tries_again() {
    let remote = Remote::new();
    let (mut alex, mut sam) = couple(&remote);
    alex.write("alex-2", vec![entry(3, "repair")], T0 + 4 * MINUTE);
    sam.write("sam-2", vec![entry(4, "date")], T0 + 4 * MINUTE);
    let mut tries = Vec::new();
    let report = sync_logs_with(
        alex.dir.path(),
        &remote.url(),
        &mut alex.journal,
        T0 + 10 * MINUTE,
        &alex.lock,
        &mut |attempt| {
            tries.push(attempt);
            if attempt == 0 {
                // Sam pushes between Alex's fetch and Alex's push.
                let sams = sam.sync(&remote);
                assert_eq!(sams.sent, 1);
            }
        },
    )
    .unwrap();
    assert_eq!(tries, [0, 1]);
    assert_eq!(report.sent, 1);
    assert_eq!(report.received, BTreeMap::from([(sam.person(), 1)]));
    sam.sync(&remote);
    for device in [&alex, &sam] {
        assert_eq!(device.entries_of(&alex.person()), [1, 3]);
        assert_eq!(device.entries_of(&sam.person()), [2, 4]);
    }
    assert_eq!(alex.shared_files(), sam.shared_files());
}

#[test]
fn an_older_copy_of_my_partners_log_never_shrinks_mine() {
    let remote = Remote::new();
    let (mut alex, mut sam) = couple(&remote);
    let old = git(&remote.path(), &["rev-parse", "main"]);
    sam.write("sam-2", vec![entry(4, "date")], T0 + 4 * MINUTE);
    sam.sync(&remote);
    alex.sync(&remote);
    assert_eq!(alex.entries_of(&sam.person()), [2, 4]);
    let path = format!("{}/{FIRST}", sam.log_folder());
    let whole = remote.show(&path).unwrap();
    let files = alex.shared_files();

    let folder = sam.log_folder();
    remote.tamper(|clone| {
        // The opened copy goes, and the sealed copy of the old commit comes.
        std::fs::remove_dir_all(clone.join(&folder)).unwrap();
        let sealed = folder.replace("shared/log", "log");
        git(clone, &["checkout", old.trim(), "--", &sealed]);
    });
    assert_ne!(remote.show(&path).unwrap(), whole);
    let report = alex.sync(&remote);
    assert_eq!(report.received_total(), 0);
    assert!(report.problems.is_empty(), "{report:?}");
    assert_eq!(alex.shared_files(), files);
    assert_eq!(alex.entries_of(&sam.person()), [2, 4]);
    assert_eq!(
        remote.show(&path).unwrap(),
        whole,
        "Alex sent the longer copy back"
    );
}
