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
    fn paired(by: &mut Device, role: Role) -> Device {
        let dir = tempfile::tempdir().unwrap();
        let lock = Self::lock(&dir);
        let key = DeviceKey::load_or_create(dir.path(), &lock).unwrap();
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
}

impl Remote {
    fn new() -> Remote {
        let dir = tempfile::tempdir().unwrap();
        git(dir.path(), &["init", "--bare", "-q", "remote.git"]);
        Remote { dir }
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
        edit(&clone);
        git(&clone, &["add", "-A"]);
        git(&clone, &["commit", "-q", "-m", "hostile"]);
        git(&clone, &["push", "-q", "origin", "main"]);
    }

    /// A file of the remote's `main`, if it holds it.
    fn show(&self, path: &str) -> Option<Vec<u8>> {
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
    let mut sam = Device::paired(&mut alex, Role::Partner);
    alex.write("alex-1", vec![entry(1, "appreciation")], T0 + 2 * MINUTE);
    alex.sync(remote);
    sam.sync(remote);
    sam.write("sam-1", vec![name("Sam"), entry(2, "listen")], T0 + 3 * MINUTE);
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
        let mut sam = Device::paired(&mut alex, Role::Partner);
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

        sam.write("sam-1", vec![name("Sam"), entry(2, "listen")], T0 + 3 * MINUTE);
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
            assert!(device.journal.report().is_empty(), "{:?}", device.journal.report());
        }
        assert_eq!(alex.journal.state().unwrap().names[&sam_id], "Sam");
        // Every new line is sent once and received once.
        assert_eq!((sent, received), (3, 3));
        // Nothing new: nothing sent, nothing received, nothing changed.
        let again = alex.sync(&remote);
        assert_eq!((again.sent, again.received_total(), again.changed), (0, 0, false));
    }
}
