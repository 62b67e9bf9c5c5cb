//! The journal service on real data directories: one made by
//! `Journal::create`, and other devices whose logs are written beside it
//! and copied in, as sync will bring them.

use std::path::Path;

use chrono::DateTime;
use tempfile::TempDir;

use super::*;
use crate::domain::entry::{EntryId, Kind};
use crate::domain::goal::Goal;
use crate::domain::record::{
    EntryRecord, GoalRecord, LeaveRecord, NoteRecord, OpMark, RemoveRecord,
};
use crate::keys::line::payload_hash;
use crate::store::DataDir;

/// 2026-11-27T12:00:00Z.
const T0: u64 = 1_795_780_800_000;
const MINUTE: u64 = 60_000;

/// A data directory and its lock.
struct Dir {
    dir: TempDir,
    lock: Lock,
}

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
        Dir { dir, lock }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn create(&self, name: &str) -> Journal {
        Journal::create(self.root(), name, T0, &self.lock).unwrap()
    }

    fn open(&self, wall_ms: u64) -> Journal {
        Journal::open(self.root(), wall_ms, &self.lock).unwrap()
    }
}

/// Another device of the journal, with a data directory of its own: it
/// writes its shared log there, and the test copies the log into the
/// journal's data directory, as sync would.
struct Other {
    dir: Dir,
    key: DeviceKey,
    journal: String,
}

impl Other {
    fn new(journal: &Journal) -> Self {
        Other {
            dir: Dir::new(),
            key: DeviceKey::generate().unwrap(),
            journal: journal.identity().journal.clone(),
        }
    }

    fn id(&self) -> DeviceId {
        self.key.id()
    }

    /// The `device` line that pairs this device.
    fn pairing(&self, role: Role) -> Record {
        Record::Device(DeviceRecord {
            device: self.id().to_string(),
            key: Hex32(self.key.public().to_bytes()),
            role,
            journal: self.journal.clone(),
        })
    }

    /// Append one batch to its shared log; records keep the revs they have.
    fn append(&self, op: &str, records: &[Record]) {
        let texts: Vec<String> = records.iter().map(Record::to_json).collect();
        let batch: Vec<line::Record> = texts
            .iter()
            .map(|rec| line::Record { rec, sidecar: None })
            .collect();
        segment::append_batch(
            &log_root(self.dir.root(), LogKind::Shared),
            &self.key,
            &self.journal,
            LogKind::Shared,
            op,
            &batch,
            &self.dir.lock,
        )
        .unwrap();
    }

    /// The removal of this device after its line `last_seq`, as a device
    /// that has read its log would write it.
    fn leave_after(&self, last_seq: u64) -> Record {
        let log = segment::read_log(
            &log_root(self.dir.root(), LogKind::Shared),
            &self.id(),
            &self.key.public(),
            &self.journal,
            LogKind::Shared,
        )
        .unwrap();
        let line = &log.lines[last_seq as usize - 1];
        Record::Leave(LeaveRecord {
            device: self.id().to_string(),
            last_seq,
            last_hash: Hex32(payload_hash(&line.payload)),
        })
    }

    /// Its shared log, copied over whatever copy `into` held.
    fn copy_into(&self, into: &Dir) {
        let from = log_root(self.dir.root(), LogKind::Shared).join(self.id().as_str());
        let to = log_root(into.root(), LogKind::Shared).join(self.id().as_str());
        if to.exists() {
            std::fs::remove_dir_all(&to).unwrap();
        }
        copy_tree(&from, &to);
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

fn id(n: u64) -> EntryId {
    uuid::Builder::from_unix_timestamp_millis(T0 - n, &[n as u8; 10]).into_uuid()
}

fn rev(ms: u64) -> Rev {
    Rev { ms, c: 0 }
}

/// Entry `n` of `practice` on 2026-11-27, at `ms` (a rev that `write`
/// replaces with its own).
fn entry_at(n: u64, practice: &str, ms: u64) -> Record {
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
        rev: rev(ms),
    })
}

fn entry(n: u64, practice: &str) -> Record {
    entry_at(n, practice, 0)
}

fn name_at(name: &str, ms: u64) -> Record {
    Record::Name(NameRecord {
        name: name.to_string(),
        rev: rev(ms),
    })
}

fn goal(practice: &str, goal: Goal) -> Record {
    Record::Goal(GoalRecord {
        practice: practice.to_string(),
        goal,
        retired: false,
        rev: Rev::default(),
    })
}

/// Write one batch of records without sidecars.
fn write(j: &mut Journal, dir: &Dir, op: &str, records: Vec<Record>, wall_ms: u64) -> Written {
    let records: Vec<(Record, Option<String>)> = records.into_iter().map(|r| (r, None)).collect();
    let written = j
        .write(op, &records, LogKind::Shared, wall_ms, &dir.lock)
        .unwrap();
    assert!(written.index_warning.is_none(), "{written:?}");
    written
}

/// The practice of each live entry of `person`, by entry number.
fn practices_of(state: &fold::Journal, person: &str) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = state
        .entries
        .iter()
        .filter(|((owner, _), _)| owner == person)
        .map(|((_, entry), e)| {
            let n = (0..100).find(|&n| id(n) == *entry).unwrap();
            (n, e.practice.clone())
        })
        .collect();
    out.sort();
    out
}

fn owned(pairs: &[(u64, &str)]) -> Vec<(u64, String)> {
    pairs.iter().map(|(n, p)| (*n, p.to_string())).collect()
}

/// The index agrees with the fold of every line, read afresh.
fn assert_agrees(j: &Journal, wall_ms: u64) -> fold::Journal {
    let state = j.state().unwrap();
    assert_eq!(state, j.fold_everything(wall_ms).unwrap());
    state
}

#[test]
fn a_new_journal_reads_back_after_reopening() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    assert_eq!(me, j.identity().device.as_str());
    assert_eq!(j.identity().root, j.identity().device);
    write(
        &mut j,
        &dir,
        "op-1",
        vec![entry(1, "appreciation"), entry(2, "listen")],
        T0 + MINUTE,
    );
    write(
        &mut j,
        &dir,
        "op-2",
        vec![goal("appreciation", Goal::PerWeek(3))],
        T0 + 2 * MINUTE,
    );
    write(
        &mut j,
        &dir,
        "op-3",
        vec![name_at("Alex B", 0)],
        T0 + 3 * MINUTE,
    );
    let note = Record::Note(NoteRecord {
        id: id(2),
        note: Some("only mine".into()),
        rev: Rev::default(),
    });
    j.write(
        "op-4",
        &[(note, None)],
        LogKind::Private,
        T0 + 4 * MINUTE,
        &dir.lock,
    )
    .unwrap();
    drop(j);

    let j = dir.open(T0 + 5 * MINUTE);
    let state = assert_agrees(&j, T0 + 5 * MINUTE);
    assert_eq!(
        practices_of(&state, &me),
        owned(&[(1, "appreciation"), (2, "listen")])
    );
    assert_eq!(state.names[&me], "Alex B");
    assert_eq!(
        state.goals[&(me.clone(), "appreciation".to_string())].goal,
        Goal::PerWeek(3)
    );
    assert_eq!(state.notes[&(me.clone(), id(2))], "only mine");
    let ops: Vec<&str> = state.history[&me][1..]
        .iter()
        .map(|o| o.op.as_str())
        .collect();
    assert_eq!(ops, ["op-1", "op-2", "op-3", "op-4"]);
    assert!(j.report().is_empty(), "{:?}", j.report());
    assert_eq!(j.roster().members.len(), 1);
}

#[test]
fn revs_come_from_my_clock_and_never_go_backwards() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let first = write(&mut j, &dir, "op-1", vec![entry(1, "listen")], T0 + MINUTE);
    // The wall clock went back an hour: revs still move forward.
    let second = write(
        &mut j,
        &dir,
        "op-2",
        vec![entry(2, "listen"), entry(3, "listen")],
        T0 - 60 * MINUTE,
    );
    let revs: Vec<Rev> = [first.records, second.records]
        .concat()
        .iter()
        .filter_map(Record::rev)
        .collect();
    assert_eq!(
        revs,
        [
            Rev {
                ms: T0 + MINUTE,
                c: 0
            },
            Rev {
                ms: T0 + MINUTE,
                c: 1
            },
            Rev {
                ms: T0 + MINUTE,
                c: 2
            }
        ]
    );
    // Reopened, the clock is rebuilt from the log.
    drop(j);
    let mut j = dir.open(T0);
    let third = write(&mut j, &dir, "op-3", vec![entry(4, "listen")], T0);
    assert_eq!(
        third.records[0].rev(),
        Some(Rev {
            ms: T0 + MINUTE,
            c: 3
        })
    );
}

#[test]
fn deleting_the_index_loses_nothing() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    for n in 1..6 {
        let batch = vec![entry(n, "listen"), entry(n + 10, "repair")];
        write(&mut j, &dir, &format!("op-{n}"), batch, T0 + n * MINUTE);
    }
    let remove = Record::Remove(RemoveRecord {
        id: id(3),
        rev: Rev::default(),
    });
    write(&mut j, &dir, "op-rm", vec![remove], T0 + 7 * MINUTE);
    let before = j.state().unwrap();
    assert_eq!(before.entries.len(), 9);
    drop(j);

    std::fs::remove_dir_all(dir.root().join("index")).unwrap();
    let j = dir.open(T0 + 8 * MINUTE);
    assert_eq!(j.state().unwrap(), before);
    drop(j);
    // Only the notes of the index gone: the index is made again.
    std::fs::remove_file(dir.root().join(indexed::FILE)).unwrap();
    let j = dir.open(T0 + 8 * MINUTE);
    assert_eq!(assert_agrees(&j, T0 + 8 * MINUTE), before);
}

#[test]
fn a_device_paired_as_mine_writes_as_the_same_person() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    let phone = Other::new(&j);
    write(
        &mut j,
        &dir,
        "pair",
        vec![phone.pairing(Role::Mine)],
        T0 + MINUTE,
    );
    phone.append(
        "phone-1",
        &[
            entry_at(1, "gentle-touch", T0 + 2 * MINUTE),
            name_at("Alex P", T0 + 2 * MINUTE),
        ],
    );
    phone.copy_into(&dir);

    j.refresh(T0 + 3 * MINUTE, &dir.lock).unwrap();
    let state = assert_agrees(&j, T0 + 3 * MINUTE);
    assert_eq!(j.roster().person(&phone.id()), Some(me.as_str()));
    assert_eq!(practices_of(&state, &me), owned(&[(1, "gentle-touch")]));
    assert_eq!(state.names[&me], "Alex P");
    assert!(j.report().is_empty(), "{:?}", j.report());

    // The phone's lines move my clock: my next rev comes after them.
    let written = write(&mut j, &dir, "op-2", vec![entry(2, "listen")], T0);
    assert_eq!(
        written.records[0].rev(),
        Some(Rev {
            ms: T0 + 2 * MINUTE,
            c: 1
        })
    );
}

#[test]
fn a_device_that_appears_without_a_pairing_line_is_not_read_and_is_reported() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let stranger = Other::new(&j);
    stranger.append(
        "s-1",
        &[entry_at(1, "listen", T0 + MINUTE), name_at("Mallory", T0)],
    );
    stranger.copy_into(&dir);

    let report = j.refresh(T0 + 2 * MINUTE, &dir.lock).unwrap().clone();
    assert_eq!(report.strangers.len(), 1, "{report:?}");
    let found = &report.strangers[0];
    assert_eq!(found.device, stranger.id());
    assert_eq!(found.kind, LogKind::Shared);
    assert!(
        found.to_string().contains("appeared outside pairing"),
        "{found}"
    );
    assert!(
        found.to_string().contains(stranger.id().as_str()),
        "{found}"
    );
    let state = assert_agrees(&j, T0 + 2 * MINUTE);
    assert!(state.entries.is_empty());
    assert_eq!(state.names.len(), 1);
}

#[test]
fn a_partner_line_written_by_the_partner_does_not_make_a_second_partner() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    let sam = Other::new(&j);
    let eve = Other::new(&j);
    write(
        &mut j,
        &dir,
        "pair",
        vec![sam.pairing(Role::Partner)],
        T0 + MINUTE,
    );
    sam.append(
        "sam-1",
        &[
            name_at("Sam", T0 + MINUTE),
            entry_at(1, "listen", T0 + MINUTE),
            eve.pairing(Role::Partner),
        ],
    );
    eve.append("eve-1", &[name_at("Eve", T0), entry_at(2, "repair", T0)]);
    sam.copy_into(&dir);
    eve.copy_into(&dir);

    let report = j.refresh(T0 + 2 * MINUTE, &dir.lock).unwrap().clone();
    let sams = sam.id().to_string();
    assert_eq!(j.roster().partner(), Some(sams.as_str()));
    assert_eq!(j.roster().person(&eve.id()), None);
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].by, sam.id());
    assert!(matches!(
        report.refused[0].why,
        roster::Refused::PartnerNotByRoot { .. }
    ));
    assert_eq!(report.strangers.len(), 1);
    assert_eq!(report.strangers[0].device, eve.id());

    let state = assert_agrees(&j, T0 + 2 * MINUTE);
    assert_eq!(practices_of(&state, &sams), owned(&[(1, "listen")]));
    assert_eq!(state.names[&sams], "Sam");
    assert!(practices_of(&state, &me).is_empty());
    assert_eq!(state.names.len(), 2, "{:?}", state.names);
}

#[test]
fn a_leave_ignores_the_removed_devices_later_lines() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    let phone = Other::new(&j);
    write(
        &mut j,
        &dir,
        "pair",
        vec![phone.pairing(Role::Mine)],
        T0 + MINUTE,
    );
    phone.append("p-1", &[entry_at(1, "listen", T0 + MINUTE)]);
    phone.append("p-2", &[entry_at(2, "repair", T0 + MINUTE)]);
    phone.copy_into(&dir);
    j.refresh(T0 + 2 * MINUTE, &dir.lock).unwrap();
    let state = assert_agrees(&j, T0 + 2 * MINUTE);
    assert_eq!(
        practices_of(&state, &me),
        owned(&[(1, "listen"), (2, "repair")])
    );

    // Removed after its first line: the second, already in the index, goes.
    write(
        &mut j,
        &dir,
        "remove",
        vec![phone.leave_after(1)],
        T0 + 3 * MINUTE,
    );
    let state = assert_agrees(&j, T0 + 3 * MINUTE);
    assert_eq!(practices_of(&state, &me), owned(&[(1, "listen")]));
    assert_eq!(j.roster().members[&phone.id()].until, Some(1));

    // Whatever it writes later, and even a new pairing line, it stays out.
    phone.append("p-3", &[entry_at(3, "date", T0 + 4 * MINUTE)]);
    phone.copy_into(&dir);
    write(
        &mut j,
        &dir,
        "again",
        vec![phone.pairing(Role::Mine)],
        T0 + 4 * MINUTE,
    );
    let state = assert_agrees(&j, T0 + 5 * MINUTE);
    assert_eq!(practices_of(&state, &me), owned(&[(1, "listen")]));
    assert!(j.report().strangers.is_empty());
}

#[test]
fn a_flipped_byte_quarantines_the_log_from_there_and_names_it() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    let phone = Other::new(&j);
    write(
        &mut j,
        &dir,
        "pair",
        vec![phone.pairing(Role::Mine)],
        T0 + MINUTE,
    );
    for n in 1..=3 {
        phone.append(&format!("p-{n}"), &[entry_at(n, "listen", T0 + MINUTE)]);
    }
    phone.copy_into(&dir);
    // One byte of the second line's record changes.
    let segment = segment::segments(&log_root(dir.root(), LogKind::Shared), &phone.id())
        .unwrap()
        .remove(0);
    let text = std::fs::read_to_string(&segment.path).unwrap();
    let second = text.find('\n').unwrap() + 1;
    let at = second + text[second..].find("listen").unwrap();
    let mut bytes = text.into_bytes();
    bytes[at] ^= 0x20;
    std::fs::write(&segment.path, bytes).unwrap();

    let report = j.refresh(T0 + 2 * MINUTE, &dir.lock).unwrap().clone();
    assert_eq!(report.quarantined.len(), 1, "{report:?}");
    let q = &report.quarantined[0];
    assert_eq!((&q.device, q.person.as_str()), (&phone.id(), me.as_str()));
    assert_eq!((&q.path, q.line), (&segment.path, Some(2)));
    let text = q.to_string();
    assert!(
        text.contains(phone.id().as_str()) && text.contains(&me),
        "{text}"
    );
    assert!(text.contains(&segment.path.display().to_string()), "{text}");
    let state = assert_agrees(&j, T0 + 2 * MINUTE);
    assert_eq!(practices_of(&state, &me), owned(&[(1, "listen")]));
    // Still reported when the log is not read again.
    drop(j);
    let j = dir.open(T0 + 3 * MINUTE);
    assert_eq!(j.report().quarantined, report.quarantined);
}

#[test]
fn a_damaged_own_log_takes_no_more_lines() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    write(&mut j, &dir, "op-1", vec![entry(1, "listen")], T0 + MINUTE);
    write(&mut j, &dir, "op-2", vec![entry(2, "listen")], T0 + MINUTE);
    drop(j);
    let me = Identity::read(dir.root()).unwrap().unwrap().device;
    let path = segment::segments(&log_root(dir.root(), LogKind::Shared), &me)
        .unwrap()
        .remove(0)
        .path;
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("listen", "listeN", 1)).unwrap();
    std::fs::remove_dir_all(dir.root().join("index")).unwrap();

    let mut j = dir.open(T0 + 2 * MINUTE);
    assert_eq!(j.report().quarantined.len(), 1);
    let err = j
        .write(
            "op-3",
            &[(entry(3, "listen"), None)],
            LogKind::Shared,
            T0,
            &dir.lock,
        )
        .unwrap_err();
    assert!(err.message().contains("does not verify"), "{err:?}");
}

#[test]
fn a_replaced_segment_makes_the_index_again() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    let phone = Other::new(&j);
    write(
        &mut j,
        &dir,
        "pair",
        vec![phone.pairing(Role::Mine)],
        T0 + MINUTE,
    );
    phone.append(
        "p-1a",
        &[entry_at(1, "listen", T0), entry_at(2, "listen", T0)],
    );
    phone.copy_into(&dir);
    j.refresh(T0 + 2 * MINUTE, &dir.lock).unwrap();
    assert_eq!(practices_of(&j.state().unwrap(), &me).len(), 2);

    // The phone's log is replaced by another history under the same key
    // (as a restored data directory would fork it): first a shorter one,
    // then one as long, whose last line differs only in its bytes.
    for (round, op, n, practice) in [(3, "p-1b", 3, "date"), (4, "p-1c", 5, "card")] {
        std::fs::remove_dir_all(log_root(phone.dir.root(), LogKind::Shared)).unwrap();
        phone.append(op, &[entry_at(n, practice, T0)]);
        phone.copy_into(&dir);
        j.refresh(T0 + round * MINUTE, &dir.lock).unwrap();
        let state = assert_agrees(&j, T0 + round * MINUTE);
        assert_eq!(practices_of(&state, &me), owned(&[(n, practice)]), "{op}");
        assert_eq!(state.entries.len(), 1, "{op}");
    }

    // A log that only grew is read from where the index stopped.
    phone.append("p-2c", &[entry_at(6, "card", T0)]);
    phone.copy_into(&dir);
    j.refresh(T0 + 6 * MINUTE, &dir.lock).unwrap();
    let state = assert_agrees(&j, T0 + 6 * MINUTE);
    assert_eq!(
        practices_of(&state, &me),
        owned(&[(5, "card"), (6, "card")])
    );
}

#[test]
fn the_index_and_the_fold_of_everything_agree_after_several_rounds() {
    let dir = Dir::new();
    let mut j = dir.create("Alex");
    let me = j.me().unwrap().to_string();
    let phone = Other::new(&j);
    let sam = Other::new(&j);
    let sams_tablet = Other::new(&j);
    write(
        &mut j,
        &dir,
        "pair",
        vec![phone.pairing(Role::Mine), sam.pairing(Role::Partner)],
        T0,
    );
    sam.append(
        "sam-pair",
        &[sams_tablet.pairing(Role::Mine), name_at("Sam", T0)],
    );
    let mut n = 0;
    for round in 1..=8u64 {
        let wall = T0 + round * MINUTE;
        // Each device writes something; logs arrive in different rounds.
        n += 1;
        write(
            &mut j,
            &dir,
            &format!("me-{round}"),
            vec![entry(n, "listen")],
            wall,
        );
        n += 1;
        phone.append(&format!("phone-{round}"), &[entry_at(n, "repair", wall)]);
        n += 1;
        sam.append(&format!("sam-{round}"), &[entry_at(n, "date", wall)]);
        n += 1;
        sams_tablet.append(&format!("tab-{round}"), &[entry_at(n, "card", wall)]);
        match round % 3 {
            0 => phone.copy_into(&dir),
            1 => sam.copy_into(&dir),
            _ => sams_tablet.copy_into(&dir),
        }
        if round == 4 {
            let rm = Record::Remove(RemoveRecord {
                id: id(1),
                rev: Rev::default(),
            });
            write(&mut j, &dir, "rm-1", vec![rm], wall);
            let undo = Record::Undo(OpMark {
                op: "me-2".into(),
                rev: Rev::default(),
            });
            write(&mut j, &dir, "undo-2", vec![undo], wall);
        }
        if round == 5 {
            // A line a day and more ahead waits; one that breaks a limit is
            // rejected.
            sam.append(
                "sam-late",
                &[entry_at(90, "listen", wall + 2 * 24 * 60 * MINUTE)],
            );
            sam.append("sam-bad", &[entry_at(91, "Not A Practice", wall)]);
        }
        if round == 6 {
            write(&mut j, &dir, "rm-phone", vec![phone.leave_after(3)], wall);
        }
        if round % 2 == 0 {
            drop(j);
            j = dir.open(wall);
        } else {
            j.refresh(wall, &dir.lock).unwrap();
        }
        assert_agrees(&j, wall);
    }
    phone.copy_into(&dir);
    sam.copy_into(&dir);
    sams_tablet.copy_into(&dir);
    let late = T0 + 3 * 24 * 60 * MINUTE;
    j.refresh(late, &dir.lock).unwrap();
    let state = assert_agrees(&j, late);
    let sams = sam.id().to_string();
    // The phone counts up to its removal (its third line), Sam's devices
    // wholly; the line that waited is folded now, the bad one never.
    let phones: Vec<u64> = practices_of(&state, &me)
        .into_iter()
        .filter(|(_, p)| p == "repair")
        .map(|(n, _)| n)
        .collect();
    assert_eq!(phones, [2, 6, 10]);
    assert_eq!(practices_of(&state, &sams).len(), 8 * 2 + 1);
    assert!(state.rejected.iter().any(|r| r.op == "sam-bad"));
    assert!(state.waiting.is_empty());
    assert!(j.report().is_empty(), "{:?}", j.report());
}
