//! Convergence, on real parts: two partners, each with two devices (four
//! data directories), one bare remote made by `git init --bare`. Each
//! device changes only its own person's records, through `Journal::write`
//! with the records the commands make, and syncs when it likes; once every
//! device has synced twice, all four read the same journal, each person's
//! records come only from their own devices, and no write is lost
//! (docs/protocol.md "Sync of device logs", "Fold", "Roster").
//!
//! Wall clocks are the test's own, one step apart, so the write made last
//! is the one with the highest rev: a model that replays the steps in order
//! says what every device must read.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime};
use proptest::prelude::*;
use tempfile::TempDir;

use super::*;
use crate::commands::session::{NotePlace, Staged, new_entry, stage_entry};
use crate::domain::entry::{EntryId, Kind};
use crate::domain::fold::{self, OpState};
use crate::domain::goal::Goal;
use crate::domain::record::{
    DeviceRecord, EntryRecord, GoalRecord, Hex32, NameRecord, NoteRecord, PracticeRecord,
    RemoveRecord, Rev, Role,
};
use crate::journal::Identity;
use crate::keys::DeviceKey;
use crate::store::DataDir;

/// 2026-11-27T12:00:00Z.
const T0: u64 = 1_795_780_800_000;
/// The wall clock moves this far between two steps.
const STEP_MS: u64 = 1_000;
/// Alex's two devices, then Sam's.
const DEVICES: usize = 4;
const PRACTICES: [&str; 4] = ["appreciation", "listen", "repair", "gentle-touch"];
const CUSTOM: [&str; 2] = ["walk-together", "tea"];
const NAMES: [[&str; 3]; 2] = [["Alex", "Al", "Lex"], ["Sam", "Sammy", "S"]];

/// Whose device `i` is: 0 for Alex, 1 for Sam.
fn person_of(device: usize) -> usize {
    device / 2
}

/// One data directory, its lock and its open journal.
struct Device {
    dir: TempDir,
    lock: Lock,
    journal: Journal,
}

impl Device {
    fn new_dir() -> (TempDir, Lock) {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
        (dir, lock)
    }

    /// The root device of a new journal.
    fn create(name: &str, wall_ms: u64) -> Device {
        let (dir, lock) = Self::new_dir();
        let journal = Journal::create(dir.path(), name, wall_ms, &lock).unwrap();
        Device { dir, lock, journal }
    }

    /// A device that `by` pairs with `role`, by a `device` line in `by`'s
    /// log: it is in the journal once that line reaches it. It puts its
    /// sealing key on `remote`, as `safe join` does.
    fn paired(by: &mut Device, role: Role, remote: &Path, wall_ms: u64) -> Device {
        let (dir, lock) = Self::new_dir();
        let key = DeviceKey::load_or_create(dir.path(), &lock).unwrap();
        super::publish_key(dir.path(), &remote.display().to_string(), &lock).unwrap();
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
        by.write(vec![Staged::Shared(pairing, None)], wall_ms);
        let journal = Journal::open(dir.path(), wall_ms, &lock).unwrap();
        Device { dir, lock, journal }
    }

    fn id(&self) -> DeviceId {
        self.journal.identity().device.clone()
    }

    /// Write `staged` as one operation, as `Session::write` does: the
    /// private records first, then the shared ones. Returns the shared
    /// records as written (with their revs), each with its sidecar.
    fn write(&mut self, staged: Vec<Staged>, wall_ms: u64) -> Vec<(Record, Option<String>)> {
        let op = Journal::new_op(wall_ms).unwrap();
        let mut private = Vec::new();
        let mut shared = Vec::new();
        for s in staged {
            match s {
                Staged::Private(r) => private.push((r, None)),
                Staged::Shared(r, sidecar) => shared.push((r, sidecar)),
            }
        }
        let mut out = Vec::new();
        for (records, kind) in [(private, LogKind::Private), (shared, LogKind::Shared)] {
            if records.is_empty() {
                continue;
            }
            let written = self
                .journal
                .write(&op, &records, kind, wall_ms, &self.lock)
                .unwrap();
            assert!(written.index_warning.is_none(), "{written:?}");
            if kind == LogKind::Shared {
                let sidecars = records.into_iter().map(|(_, s)| s);
                out.extend(written.records.into_iter().zip(sidecars));
            }
        }
        out
    }

    fn sync(&mut self, remote: &Path, wall_ms: u64) -> LogSyncReport {
        let url = remote.display().to_string();
        let report = sync_logs(
            self.dir.path(),
            &url,
            &mut self.journal,
            wall_ms,
            &self.lock,
        )
        .unwrap();
        assert!(report.problems.is_empty(), "{report:?}");
        report
    }
}

/// What every device of the couple must read alike: the fold without what
/// is one device's own (unshared notes, `seen` marks), and with each
/// operation of the undo history by its id and state (an operation's rev
/// is that of its first line, which may be a private one).
#[derive(Debug, PartialEq, Eq)]
struct Common {
    entries: BTreeMap<(String, EntryId), EntryRecord>,
    shared_notes: BTreeMap<(String, EntryId), String>,
    names: BTreeMap<String, String>,
    goals: BTreeMap<(String, String), GoalRecord>,
    practices: BTreeMap<(String, String), PracticeRecord>,
    history: BTreeMap<String, Vec<(String, OpState)>>,
    rejected: Vec<fold::Rejected>,
    waiting: Vec<fold::Waiting>,
}

impl Common {
    fn of(state: fold::Journal) -> Common {
        Common {
            entries: state.entries,
            shared_notes: state.shared_notes,
            names: state.names,
            goals: state.goals,
            practices: state.practices,
            history: state
                .history
                .into_iter()
                .map(|(person, ops)| (person, ops.into_iter().map(|o| (o.op, o.state)).collect()))
                .collect(),
            rejected: state.rejected,
            waiting: state.waiting,
        }
    }
}

/// One version of an entry as written, with its shared note.
type Version = (EntryRecord, Option<String>);

/// What each person wrote last, record by record, replayed in step order.
#[derive(Default)]
struct Model {
    /// By entry id: the last version and its shared note, or `None` once
    /// the last change was a removal.
    entries: [BTreeMap<EntryId, Option<Version>>; 2],
    /// The device each entry was first logged on.
    origin: BTreeMap<EntryId, usize>,
    names: [String; 2],
    goals: [BTreeMap<String, GoalRecord>; 2],
    practices: [BTreeMap<String, PracticeRecord>; 2],
}

impl Model {
    fn took(&mut self, person: usize, written: &[(Record, Option<String>)]) {
        for (record, sidecar) in written {
            match record {
                Record::Entry(e) => {
                    let note = sidecar.as_deref().map(|s| {
                        let h = e.h.expect("a sidecar goes with its hash");
                        crate::keys::line::NoteSidecar::open(s, &h.0).unwrap()
                    });
                    self.entries[person].insert(e.id, Some((e.clone(), note)));
                }
                Record::Remove(r) => {
                    self.entries[person].insert(r.id, None);
                }
                Record::Name(n) => self.names[person] = n.name.clone(),
                Record::Goal(g) => {
                    self.goals[person].insert(g.practice.clone(), g.clone());
                }
                Record::Practice(p) => {
                    self.practices[person].insert(p.id.clone(), p.clone());
                }
                Record::Device(_) => {}
                other => panic!("the test writes no {other:?}"),
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Note {
    None,
    Shared,
    Kept,
}

/// One thing one device does.
#[derive(Debug, Clone)]
enum Step {
    /// Log a new entry.
    Log {
        device: usize,
        practice: usize,
        days_ago: u64,
        note: Note,
    },
    /// Edit one of my person's entries this device sees; `other` prefers
    /// one logged on my other device.
    Edit {
        device: usize,
        pick: usize,
        other: bool,
        practice: usize,
        note: Note,
    },
    /// Remove one of my person's entries this device sees.
    Remove {
        device: usize,
        pick: usize,
        other: bool,
    },
    Goal {
        device: usize,
        practice: usize,
        goal: u8,
        retired: bool,
    },
    Rename {
        device: usize,
        name: usize,
    },
    /// Add (or change) a custom practice.
    Practice {
        device: usize,
        which: usize,
        goal: u8,
    },
    Sync {
        device: usize,
    },
}

fn goal(n: u8) -> Goal {
    match n % 3 {
        0 => Goal::Daily,
        1 => Goal::PerWeek(3),
        _ => Goal::None,
    }
}

fn note_strategy() -> impl Strategy<Value = Note> {
    prop_oneof![Just(Note::None), Just(Note::Shared), Just(Note::Kept)]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let d = 0..DEVICES;
    prop_oneof![
        3 => (d.clone(), 0..PRACTICES.len(), 0u64..5, note_strategy()).prop_map(
            |(device, practice, days_ago, note)| Step::Log { device, practice, days_ago, note }
        ),
        3 => (d.clone(), any::<usize>(), any::<bool>(), 0..PRACTICES.len(), note_strategy())
            .prop_map(|(device, pick, other, practice, note)| Step::Edit {
                device, pick, other, practice, note
            }),
        2 => (d.clone(), any::<usize>(), any::<bool>())
            .prop_map(|(device, pick, other)| Step::Remove { device, pick, other }),
        1 => (d.clone(), 0..PRACTICES.len(), any::<u8>(), any::<bool>())
            .prop_map(|(device, practice, goal, retired)| Step::Goal {
                device, practice, goal, retired
            }),
        1 => (d.clone(), 0..3usize).prop_map(|(device, name)| Step::Rename { device, name }),
        1 => (d.clone(), 0..CUSTOM.len(), any::<u8>())
            .prop_map(|(device, which, goal)| Step::Practice { device, which, goal }),
        5 => d.prop_map(|device| Step::Sync { device }),
    ]
}

/// The four devices, paired and synced, the remote, the test's wall clock
/// and the model of what was written.
struct Couple {
    remote: TempDir,
    devices: Vec<Device>,
    wall_ms: u64,
    model: Model,
    /// Edits and removals of an entry logged on the person's other device.
    crossed: usize,
}

impl Couple {
    /// Alex's first device is the root; it pairs Alex's second device
    /// (`mine`) and Sam's first (`partner`); Sam's first device, once in
    /// the journal, names Sam and pairs Sam's second (`mine`). Every device
    /// then syncs until all four read the same journal.
    fn new() -> Couple {
        let remote = tempfile::tempdir().unwrap();
        let out = Command::new("git")
            .current_dir(remote.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["init", "--bare", "-q", "remote.git"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let mut couple = Couple {
            remote,
            devices: Vec::new(),
            wall_ms: T0,
            model: Model::default(),
            crossed: 0,
        };
        let mut alex1 = Device::create("Alex", couple.tick());
        let remote = couple.remote();
        let alex2 = Device::paired(&mut alex1, Role::Mine, &remote, couple.tick());
        let mut sam1 = Device::paired(&mut alex1, Role::Partner, &remote, couple.tick());
        alex1.sync(&couple.remote(), couple.tick());
        sam1.sync(&couple.remote(), couple.tick());
        let name = Record::Name(NameRecord {
            name: "Sam".to_string(),
            rev: Rev::default(),
        });
        sam1.write(vec![Staged::Shared(name, None)], couple.tick());
        let sam2 = Device::paired(&mut sam1, Role::Mine, &remote, couple.tick());
        couple.devices = vec![alex1, alex2, sam1, sam2];
        couple.model.names = ["Alex".to_string(), "Sam".to_string()];
        for _ in 0..2 {
            for i in [2, 0, 1, 3] {
                couple.sync(i);
            }
        }
        couple
    }

    fn remote(&self) -> std::path::PathBuf {
        self.remote.path().join("remote.git")
    }

    /// The next step's wall clock.
    fn tick(&mut self) -> u64 {
        self.wall_ms += STEP_MS;
        self.wall_ms
    }

    fn sync(&mut self, device: usize) {
        let wall_ms = self.tick();
        let remote = self.remote();
        self.devices[device].sync(&remote, wall_ms);
    }

    /// The person id of Alex (0) or Sam (1).
    fn person_id(&self, person: usize) -> String {
        self.devices[2 * person].id().to_string()
    }

    /// Device `device` writes `staged` as one operation, and the model
    /// takes what it wrote.
    fn write(&mut self, device: usize, staged: Vec<Staged>) {
        let wall_ms = self.tick();
        let written = self.devices[device].write(staged, wall_ms);
        self.model.took(person_of(device), &written);
    }

    /// One of my person's entries as `device` reads it, with whether it
    /// has an unshared note there: the `pick`th, among those logged on my
    /// other device when `other` and there are any.
    fn pick(&mut self, device: usize, pick: usize, other: bool) -> Option<(EntryRecord, bool)> {
        let me = self.person_id(person_of(device));
        let state = self.devices[device].journal.state().unwrap();
        let mine: Vec<&EntryRecord> = state
            .entries
            .iter()
            .filter(|((owner, _), _)| *owner == me)
            .map(|(_, e)| e)
            .collect();
        let crossed: Vec<&EntryRecord> = mine
            .iter()
            .copied()
            .filter(|e| self.model.origin.get(&e.id) != Some(&device))
            .collect();
        let from = if other && !crossed.is_empty() {
            crossed
        } else {
            mine
        };
        let entry = (*from.get(pick % from.len().max(1))?).clone();
        if self.model.origin.get(&entry.id) != Some(&device) {
            self.crossed += 1;
        }
        let kept = state.notes.contains_key(&(me, entry.id));
        Some((entry, kept))
    }

    fn run(&mut self, step: &Step) {
        match *step {
            Step::Log {
                device,
                practice,
                days_ago,
                note,
            } => {
                // The wall clock `write` takes next: it names the entry.
                let wall_ms = self.wall_ms + STEP_MS;
                let day =
                    NaiveDate::from_ymd_opt(2026, 11, 27).unwrap() - chrono::Days::new(days_ago);
                let mut entry = new_entry(Kind::Log, PRACTICES[practice], day, evening(day));
                entry.id = uuid::Builder::from_unix_timestamp_millis(wall_ms, &[device as u8; 10])
                    .into_uuid();
                self.model.origin.insert(entry.id, device);
                let staged = staged(entry, note, false, wall_ms);
                self.write(device, staged);
            }
            Step::Edit {
                device,
                pick,
                other,
                practice,
                note,
            } => {
                let Some((mut entry, kept)) = self.pick(device, pick, other) else {
                    return;
                };
                entry.practice = PRACTICES[practice].to_string();
                entry.took = Some(u32::try_from(pick % 90).unwrap() + 1);
                let staged = staged(entry, note, kept, self.wall_ms + STEP_MS);
                self.write(device, staged);
            }
            Step::Remove {
                device,
                pick,
                other,
            } => {
                let Some((entry, kept)) = self.pick(device, pick, other) else {
                    return;
                };
                // As `safe rm` does: the end of an unshared note, and a
                // tombstone in the shared log.
                let mut staged = Vec::new();
                if kept {
                    staged.push(Staged::Private(Record::Note(NoteRecord {
                        id: entry.id,
                        note: None,
                        rev: Rev::default(),
                    })));
                }
                let tombstone = Record::Remove(RemoveRecord {
                    id: entry.id,
                    rev: Rev::default(),
                });
                staged.push(Staged::Shared(tombstone, None));
                self.write(device, staged);
            }
            Step::Goal {
                device,
                practice,
                goal: g,
                retired,
            } => {
                let record = Record::Goal(GoalRecord {
                    practice: PRACTICES[practice].to_string(),
                    goal: goal(g),
                    retired,
                    rev: Rev::default(),
                });
                self.write(device, vec![Staged::Shared(record, None)]);
            }
            Step::Rename { device, name } => {
                let record = Record::Name(NameRecord {
                    name: NAMES[person_of(device)][name].to_string(),
                    rev: Rev::default(),
                });
                self.write(device, vec![Staged::Shared(record, None)]);
            }
            Step::Practice {
                device,
                which,
                goal: g,
            } => {
                let record = Record::Practice(PracticeRecord {
                    id: CUSTOM[which].to_string(),
                    about: format!("made by device {device}"),
                    goal: goal(g),
                    rev: Rev::default(),
                });
                self.write(device, vec![Staged::Shared(record, None)]);
            }
            Step::Sync { device } => self.sync(device),
        }
    }

    /// What every device must read of the model: each person's live
    /// entries, shared notes, name, goals and custom practices.
    fn expected(&self) -> Common {
        let mut want = Common::of(fold::Journal::default());
        for person in 0..2 {
            let id = self.person_id(person);
            for (entry, last) in &self.model.entries[person] {
                let Some((record, note)) = last else { continue };
                want.entries.insert((id.clone(), *entry), record.clone());
                if let Some(note) = note {
                    want.shared_notes.insert((id.clone(), *entry), note.clone());
                }
            }
            want.names
                .insert(id.clone(), self.model.names[person].clone());
            for (practice, goal) in &self.model.goals[person] {
                want.goals
                    .insert((id.clone(), practice.clone()), goal.clone());
            }
            for (practice, record) in &self.model.practices[person] {
                want.practices
                    .insert((id.clone(), practice.clone()), record.clone());
            }
        }
        want
    }

    /// Every device reads the same journal, the one the model says, as its
    /// index and a fold of every log afresh both give it; every device
    /// knows whose each device is; and each person's lines are only in
    /// their own devices' logs.
    fn check(&self) {
        let common: Vec<Common> = self
            .devices
            .iter()
            .map(|d| Common::of(d.journal.state().unwrap()))
            .collect();
        for (i, c) in common.iter().enumerate() {
            assert_eq!(c, &common[0], "device {i} differs from device 0");
        }
        let mut got = Common::of(self.devices[0].journal.state().unwrap());
        // The history is checked alike on every device above; the model
        // does not replay it.
        got.history.clear();
        assert_eq!(got, self.expected(), "nothing written is lost");

        let people = [self.person_id(0), self.person_id(1)];
        let ids: Vec<DeviceId> = self.devices.iter().map(Device::id).collect();
        for (i, device) in self.devices.iter().enumerate() {
            let journal = &device.journal;
            assert!(
                journal.report().is_empty(),
                "device {i}: {:?}",
                journal.report()
            );
            assert_eq!(
                journal.state().unwrap(),
                journal.fold_everything(self.wall_ms).unwrap(),
                "device {i}: the index is the fold of every log"
            );
            for (j, id) in ids.iter().enumerate() {
                assert_eq!(
                    journal.roster().person(id),
                    Some(people[person_of(j)].as_str()),
                    "device {i} on device {j}"
                );
            }
            for (person, id) in people.iter().enumerate() {
                let theirs = [&ids[2 * person], &ids[2 * person + 1]];
                for line in journal.lines_of(id).unwrap() {
                    assert!(
                        theirs.iter().any(|d| d.as_str() == line.device),
                        "device {i}: a line of person {person} in the log of {}",
                        line.device
                    );
                }
            }
        }
    }
}

/// 21:14 at +01:00 on `day`.
fn evening(day: NaiveDate) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(3600).unwrap();
    day.and_time(NaiveTime::from_hms_opt(21, 14, 3).unwrap())
        .and_local_timezone(offset)
        .unwrap()
}

/// The records of one version of an entry, with the note `note` says, as
/// `safe log` and `safe edit` stage them.
fn staged(entry: EntryRecord, note: Note, had_kept_note: bool, wall_ms: u64) -> Vec<Staged> {
    let text = format!("note at {wall_ms}");
    let (note, place) = match note {
        Note::None => (None, NotePlace::Shared),
        Note::Shared => (Some(text.as_str()), NotePlace::Shared),
        Note::Kept => (Some(text.as_str()), NotePlace::Kept),
    };
    stage_entry(entry, note, place, had_kept_note).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10))]

    /// Two partners, each with two devices, logging offline and syncing in
    /// random orders converge to the same journal, and lose nothing.
    #[test]
    fn two_partners_with_two_devices_each_syncing_in_any_order_converge_and_lose_nothing(
        steps in proptest::collection::vec(step_strategy(), 16..48),
        order in Just((0..DEVICES).collect::<Vec<_>>()).prop_shuffle(),
        again in Just((0..DEVICES).collect::<Vec<_>>()).prop_shuffle(),
    ) {
        let mut couple = Couple::new();
        couple.check();
        for step in &steps {
            couple.run(step);
        }
        for &device in order.iter().chain(&again) {
            couple.sync(device);
        }
        couple.check();
    }
}

/// The entry `device` reads as `person`'s (0 Alex, 1 Sam) with `id`.
fn read(couple: &Couple, device: usize, person: usize, id: EntryId) -> Option<EntryRecord> {
    let state = couple.devices[device].journal.state().unwrap();
    state.entries.get(&(couple.person_id(person), id)).cloned()
}

#[test]
fn an_offline_edit_and_removal_on_my_two_devices_resolve_by_rev_whichever_reaches_the_remote_last()
{
    // Alex logs on device 1 and syncs; device 2 has it. Then, both
    // offline, device 1 removes it and device 2 edits it (in one order of
    // time or the other); then they sync in one order or the other, and
    // everyone syncs twice. The later change wins everywhere, whichever
    // device's log reached the remote last.
    for edit_last in [true, false] {
        for remover_syncs_first in [true, false] {
            let mut couple = Couple::new();
            let log = Step::Log {
                device: 0,
                practice: 0,
                days_ago: 1,
                note: Note::Shared,
            };
            couple.run(&log);
            couple.run(&Step::Sync { device: 0 });
            couple.run(&Step::Sync { device: 1 });
            let id = *couple.model.entries[0].keys().next().unwrap();
            assert!(read(&couple, 1, 0, id).is_some(), "device 2 has the entry");

            let remove = Step::Remove {
                device: 0,
                pick: 0,
                other: false,
            };
            let edit = Step::Edit {
                device: 1,
                pick: 0,
                other: true,
                practice: 2,
                note: Note::Shared,
            };
            let changes = match edit_last {
                true => [remove, edit],
                false => [edit, remove],
            };
            for change in &changes {
                couple.run(change);
            }
            assert_eq!(couple.crossed, 1, "device 2 edits what device 1 logged");
            assert!(read(&couple, 0, 0, id).is_none(), "device 1 removed it");
            let edited = read(&couple, 1, 0, id).expect("device 2 edited it");
            assert_eq!(edited.practice, "repair");

            let syncs = match remover_syncs_first {
                true => [0, 1],
                false => [1, 0],
            };
            for device in syncs.into_iter().chain([2, 3, 0, 1, 2, 3, 0, 1]) {
                couple.run(&Step::Sync { device });
            }
            couple.check();
            for device in 0..DEVICES {
                let got = read(&couple, device, 0, id);
                match edit_last {
                    true => assert_eq!(got.as_ref(), Some(&edited), "device {device}"),
                    false => assert_eq!(got, None, "device {device}"),
                }
            }
            let notes = couple.devices[3].journal.state().unwrap().shared_notes;
            assert_eq!(
                notes.contains_key(&(couple.person_id(0), id)),
                edit_last,
                "Sam reads the edited note only while the entry lives"
            );
        }
    }
}
