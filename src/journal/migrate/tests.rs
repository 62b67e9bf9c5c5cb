//! Migration on copies of the schema-1 fixture (tests/fixtures/schema1,
//! made by safe 0.1): Alex's data directory, which also holds what Alex's
//! copy knew of Sam. The committed fixture is never changed.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use tempfile::TempDir;

use super::*;
use crate::domain::entry::Kind;
use crate::domain::fold;
use crate::domain::goal::Goal;
use crate::domain::record::Hex32;
use crate::store::DataDir;

/// 2026-11-27T12:00:00Z, a week after the fixture was made.
const T0: u64 = 1_795_780_800_000;
const ALEX: &str = "01a22953-92a4-73e2-a177-6d3a3dfae62a";
const SAM: &str = "01a22953-92b9-776e-948f-0521efc693e3";
/// What migrating Alex's fixture moves: 5 shared and 2 private entries,
/// 2 shared and 2 unshared notes, one goal and one practice; Sam's 4.
const FIXTURE: Migrated = Migrated {
    entries: 7,
    notes: 4,
    goals: 1,
    practices: 1,
    partner_entries: 4,
};
/// Alex's entry that Alex removed in schema 1.
const REMOVED: &str = "01a22953-9448-7222-b6b1-091d81debff5";

fn fixture() -> PathBuf {
    fixture_of("alex")
}

fn fixture_of(who: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/schema1")
        .join(who)
}

/// A copy of Alex's fixture directory, with its lock.
struct Dir {
    dir: TempDir,
    lock: Lock,
}

impl Dir {
    fn alex() -> Self {
        Dir::of("alex")
    }

    fn of(who: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixture_of(who), dir.path());
        let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
        Dir { dir, lock }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn migrate(&self) -> Result<Migrated> {
        migrate(self.root(), T0, &self.lock)
    }

    /// Stop a migration after `step`, as a crash there would.
    fn crash_after(&self, step: Step) {
        let err = run(self.root(), T0, &self.lock, Some(step)).unwrap_err();
        assert!(err.message().contains("a test"), "{step:?}: {err:?}");
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root().join(rel)
    }
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for item in fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            fs::copy(item.path(), &target).unwrap();
        }
    }
}

/// Every file under `root` (but the lock), by relative path, with its bytes.
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for item in fs::read_dir(dir).unwrap() {
            let item = item.unwrap();
            if item.file_type().unwrap().is_dir() {
                walk(root, &item.path(), out);
            } else if item.file_name() != ".lock" {
                let rel = item.path().strip_prefix(root).unwrap().to_path_buf();
                let rel = rel.to_string_lossy().into_owned();
                out.insert(rel, fs::read(item.path()).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

/// The shared notes in this device's shared log, each opened from its
/// sidecar with the `h` its entry names.
fn shared_notes(root: &Path) -> BTreeMap<EntryId, String> {
    let identity = Identity::read(root).unwrap().unwrap();
    let log = crate::store::segment::read_log(
        &root.join("shared/log"),
        &identity.device,
        &identity.root_key,
        &identity.journal,
        LogKind::Shared,
    )
    .unwrap();
    assert!(log.quarantine.is_none());
    let mut notes = BTreeMap::new();
    for line in &log.lines {
        if let Ok(Record::Entry(entry)) = Record::parse(line.rec())
            && let Some(Hex32(h)) = entry.h
        {
            let sidecar = line.sidecar.as_deref().expect("a note hash has a sidecar");
            let note = NoteSidecar::open(sidecar, &h).expect("the sidecar matches its hash");
            notes.insert(entry.id, note);
        }
    }
    notes
}

/// An entry as a user sees it, whatever rev or salt the migration gave it.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    kind: Kind,
    practice: String,
    day: NaiveDate,
    until: Option<NaiveDate>,
    at: DateTime<FixedOffset>,
    took: Option<u32>,
    note: Option<String>,
}

/// A schema-1 data directory read as safe 0.1 read it, month by month,
/// apart from the migration's own reader.
struct Schema1Dir(PathBuf);

impl Schema1Dir {
    fn log_dir(&self, side: Side) -> PathBuf {
        match side {
            Side::Shared => self.0.join("shared/log"),
            Side::Private => self.0.join("private/log"),
        }
    }

    /// The months that have a file on either side, oldest first.
    fn months(&self) -> std::collections::BTreeSet<YearMonth> {
        let mut months = std::collections::BTreeSet::new();
        for side in [Side::Shared, Side::Private] {
            let Ok(listing) = fs::read_dir(self.log_dir(side)) else {
                continue;
            };
            for item in listing {
                let name = item.unwrap().file_name();
                months.extend(name.to_str().and_then(YearMonth::from_file_name));
            }
        }
        months
    }

    /// One side's file of `month`; an empty month where there is none.
    fn read_month(&self, side: Side, month: YearMonth) -> Result<MonthFile> {
        let path = self.log_dir(side).join(month.file_name());
        Ok(file::read(&path)?.unwrap_or_default())
    }
}

/// Alex's live entries as safe 0.1 read them, with their notes
/// (shared, private, or the note of a private entry).
fn schema1_entries_of_alex() -> BTreeMap<EntryId, Seen> {
    let dir = Schema1Dir(fixture());
    let mut out = BTreeMap::new();
    for month in dir.months() {
        let private = dir.read_month(Side::Private, month).unwrap();
        for side in [Side::Shared, Side::Private] {
            let doc = dir.read_month(side, month).unwrap();
            for e in doc.live().filter(|e| e.author == ALEX) {
                let note = e
                    .note
                    .clone()
                    .or_else(|| private.note(&e.id).map(|n| n.note.clone()));
                out.insert(
                    e.id,
                    Seen {
                        kind: e.kind,
                        practice: e.practice.clone(),
                        day: e.day,
                        until: e.until,
                        at: e.at,
                        took: e.took_minutes,
                        note,
                    },
                );
            }
        }
    }
    out
}

/// Everything a migrated directory holds, as a user would see it (revs,
/// salts and device ids aside), and the schema-1 files it keeps.
#[derive(Debug, PartialEq)]
struct Outcome {
    entries: BTreeMap<EntryId, Seen>,
    names: Vec<String>,
    goals: Vec<(String, Goal, bool)>,
    practices: Vec<(String, String, Goal)>,
    ops: Vec<String>,
    snapshot: Option<Snapshot>,
    kept: BTreeMap<String, Vec<u8>>,
    devices: usize,
}

fn outcome(dir: &Dir) -> Outcome {
    let root = dir.root();
    assert!(!root.join(MARKER).exists());
    let journal = Journal::open(root, T0, &dir.lock).unwrap();
    let state = journal.state().unwrap();
    let me = journal.me().unwrap().to_string();
    let shared = shared_notes(root);
    let entries = state
        .entries
        .iter()
        .map(|((owner, id), e)| {
            assert_eq!(*owner, me);
            let note = shared.get(id).or(state.notes.get(&(me.clone(), *id)));
            let seen = Seen {
                kind: e.kind,
                practice: e.practice.clone(),
                day: e.day,
                until: e.until,
                at: e.at,
                took: e.took,
                note: note.cloned(),
            };
            (*id, seen)
        })
        .collect();
    let kept = files(root)
        .into_iter()
        .filter(|(rel, _)| rel.starts_with(BACKUP) || rel == "config.json")
        .collect();
    let devices = crate::store::segment::list_devices(&root.join("shared/log")).unwrap();
    Outcome {
        entries,
        names: state.names.values().cloned().collect(),
        goals: state
            .goals
            .values()
            .map(|g| (g.practice.clone(), g.goal, g.retired))
            .collect(),
        practices: state
            .practices
            .values()
            .map(|p| (p.id.clone(), p.about.clone(), p.goal))
            .collect(),
        ops: state.history[&me]
            .iter()
            .map(|op| op.op.clone())
            .filter(|op| op.starts_with(OP_PREFIX))
            .collect(),
        snapshot: Snapshot::load(root).unwrap(),
        kept,
        devices: devices.len(),
    }
}

#[test]
fn every_live_record_of_mine_is_signed_into_the_journal() {
    let dir = Dir::alex();
    assert!(is_schema1(dir.root()));
    assert_eq!(dir.migrate().unwrap(), FIXTURE);
    assert!(!is_schema1(dir.root()));
    let got = outcome(&dir);
    let want = schema1_entries_of_alex();
    assert_eq!(want.len(), 7);
    assert_eq!(got.entries, want);
    assert_eq!(got.names, ["Alex R"]);
    assert_eq!(
        got.goals,
        [("appreciation".to_string(), Goal::PerWeek(5), false)]
    );
    assert_eq!(
        got.practices,
        [(
            "read-aloud".to_string(),
            "read to each other".to_string(),
            Goal::PerWeek(2)
        )]
    );
    // The shared and the private batch are one operation, which names the
    // schema-1 person it replaces.
    assert_eq!(got.ops, [format!("{OP_PREFIX}{ALEX}")]);
    assert_eq!(got.devices, 1);
}

#[test]
fn shared_notes_travel_as_sidecars_and_private_ones_never_reach_the_shared_log() {
    let dir = Dir::alex();
    dir.migrate().unwrap();
    let notes: Vec<String> = shared_notes(dir.root()).into_values().collect();
    assert_eq!(notes, ["thanks for the soup", "we walked"]);
    for (rel, bytes) in files(&dir.path("shared")) {
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["our secret", "kept private note", "\"date\""] {
            assert!(!text.contains(secret), "{secret} is in shared/{rel}");
        }
    }
}

#[test]
fn a_removed_entry_is_not_carried_at_all() {
    let dir = Dir::alex();
    dir.migrate().unwrap();
    let removed: EntryId = REMOVED.parse().unwrap();
    let state = Journal::open(dir.root(), T0, &dir.lock)
        .unwrap()
        .state()
        .unwrap();
    assert!(!state.entries.keys().any(|(_, id)| *id == removed));
    for bytes in files(&dir.path("shared/log")).values() {
        assert!(!String::from_utf8_lossy(bytes).contains(REMOVED));
    }
}

#[test]
fn the_partners_records_are_kept_in_a_private_snapshot() {
    let dir = Dir::alex();
    dir.migrate().unwrap();
    let snapshot = Snapshot::load(dir.root()).unwrap().unwrap();
    assert_eq!(snapshot.taken_by, ALEX);
    assert_eq!(snapshot.people.keys().collect::<Vec<_>>(), [SAM]);
    let sam = &snapshot.people[SAM];
    assert_eq!(sam.name.as_deref(), Some("Sam"));
    // Every live entry of Sam's in Alex's schema-1 copy, as it was.
    let old = Schema1Dir(fixture());
    let mut want = Vec::new();
    for month in old.months() {
        let doc = old.read_month(Side::Shared, month).unwrap();
        want.extend(doc.live().filter(|e| e.author == SAM).cloned());
    }
    let mut got = sam.entries.clone();
    got.sort_by_key(|e| e.id);
    want.sort_by_key(|e| e.id);
    assert_eq!(want.len(), 4);
    assert_eq!(got, want);
    assert!(got.iter().any(|e| e.note.as_deref() == Some("sam shared")));
    let goals: Vec<_> = sam.goals.iter().map(|g| (&*g.practice, g.goal)).collect();
    assert_eq!(goals, [("check-in", Goal::None)]);
    assert!(sam.practices.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(Snapshot::path(dir.root()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // None of Sam's records is signed as Alex's.
    let state = Journal::open(dir.root(), T0, &dir.lock)
        .unwrap()
        .state()
        .unwrap();
    for e in &sam.entries {
        assert!(!state.entries.keys().any(|(_, id)| *id == e.id));
    }
}

#[test]
fn the_old_files_are_kept_byte_for_byte_under_the_backup() {
    let before = files(&fixture());
    let dir = Dir::alex();
    dir.migrate().unwrap();
    let after = files(dir.root());
    for (rel, bytes) in &before {
        assert_eq!(after.get(&format!("{BACKUP}/{rel}")), Some(bytes), "{rel}");
        let stays = rel == "config.json";
        assert_eq!(after.get(rel) == Some(bytes), stays, "{rel}");
    }
    let backed_up = after.keys().filter(|rel| rel.starts_with(BACKUP)).count();
    assert_eq!(backed_up, before.len());
    assert!(!dir.path(MARKER).exists());
}

#[test]
fn a_second_run_is_refused_and_changes_nothing() {
    let dir = Dir::alex();
    dir.migrate().unwrap();
    let before = files(dir.root());
    let err = dir.migrate().unwrap_err();
    assert!(err.message().contains("nothing to migrate"), "{err:?}");
    assert_eq!(files(dir.root()), before);
}

#[test]
fn a_crash_at_any_step_reruns_to_the_same_result() {
    let clean = Dir::alex();
    clean.migrate().unwrap();
    let want = outcome(&clean);
    let old = files(&fixture());
    for step in [
        Step::Marked,
        Step::HalfBackedUp,
        Step::BackedUp,
        Step::HalfRemoved,
        Step::Removed,
        Step::Created,
        Step::SharedWritten,
        Step::PrivateWritten,
        Step::SnapshotWritten,
    ] {
        let dir = Dir::alex();
        dir.crash_after(step);
        assert!(dir.path(MARKER).exists(), "{step:?}");
        assert!(is_schema1(dir.root()), "{step:?}");
        // Not a byte of the old data is lost: each old file is in its
        // place or in the finished backup.
        let now = files(dir.root());
        for (rel, bytes) in &old {
            let in_place = now.get(rel) == Some(bytes);
            let backed_up = now.get(&format!("{BACKUP}/{rel}")) == Some(bytes);
            assert!(in_place || backed_up, "{step:?}: {rel} is lost");
        }
        assert_eq!(dir.migrate().unwrap(), FIXTURE, "{step:?}");
        assert_eq!(outcome(&dir), want, "{step:?}");
    }
}

#[test]
fn a_hand_made_half_state_is_thrown_away_and_made_again() {
    // A crash after the backup, with stray schema-2 pieces a later step
    // (or an older run) would have made: they all go.
    let dir = Dir::alex();
    dir.crash_after(Step::Removed);
    let stray_device = "0123456789abcdef0123456789abcdef";
    fs::create_dir_all(dir.path(&format!("private/log/{stray_device}/00/00"))).unwrap();
    fs::write(
        dir.path(&format!("private/log/{stray_device}/00/00/x")),
        "x",
    )
    .unwrap();
    fs::create_dir_all(dir.path("schema1")).unwrap();
    fs::write(dir.path(SNAPSHOT), "{ half").unwrap();
    fs::create_dir_all(dir.path(BACKUP_STAGING)).unwrap();
    dir.migrate().unwrap();
    assert!(!dir.path(&format!("private/log/{stray_device}")).exists());
    assert!(!dir.path(BACKUP_STAGING).exists());
    let clean = Dir::alex();
    clean.migrate().unwrap();
    assert_eq!(outcome(&dir), outcome(&clean));
}

/// Change one file of a fresh copy, try to migrate, and check that the
/// refusal says `why` and that nothing in the directory changed.
fn refused(rel: &str, change: impl Fn(String) -> String, why: &str) -> Error {
    let dir = Dir::alex();
    let path = dir.path(rel);
    let text = fs::read_to_string(&path).unwrap_or_default();
    fs::write(&path, change(text)).unwrap();
    let before = files(dir.root());
    let err = dir.migrate().unwrap_err();
    let said = format!("{} {}", err.message(), err.hint().unwrap_or_default());
    assert!(said.contains(why), "{rel}: {said}");
    assert_eq!(files(dir.root()), before, "{rel}");
    err
}

#[test]
fn a_newer_schema_is_refused_and_nothing_changes() {
    let newer = |t: String| t.replacen("\"schema\": 1", "\"schema\": 2", 1);
    for rel in [
        "shared/people.json",
        "shared/practices.json",
        "shared/log/2026-10.json",
        "private/log/2026-11.json",
        "config.json",
    ] {
        refused(rel, newer, "upgrade safe");
    }
    let dir = Dir::alex();
    fs::write(dir.path("config.json"), r#"{"schema": 3}"#).unwrap();
    assert!(!is_schema1(dir.root()));
}

#[test]
fn a_file_that_does_not_parse_is_named_and_nothing_changes() {
    let cut = |t: String| t[..t.len() / 2].to_string();
    for rel in [
        "config.json",
        "shared/people.json",
        "shared/practices.json",
        "shared/log/2026-11.json",
        "private/log/2026-11.json",
    ] {
        let err = refused(rel, cut, rel);
        assert!(err.message().contains(rel), "{err:?}");
    }
    // Anything else in a log folder would stand in schema 2's way.
    refused("shared/log/notes.txt", |_| "mine".into(), "notes.txt");
}

#[test]
fn a_record_of_mine_that_breaks_a_limit_is_refused_and_nothing_changes() {
    // A note longer than any safe ever allowed: hand-edited data.
    let long = "x".repeat(crate::domain::limits::MAX_NOTE_CHARS + 1);
    refused(
        "shared/log/2026-11.json",
        |t| t.replacen("\"thanks for the soup\"", &format!("\"{long}\""), 1),
        "my entry",
    );
}

#[test]
fn a_repair_time_safe_0_1_allowed_migrates_without_the_time() {
    // safe 0.1 wrote repair times of 0; schema 2 takes 1 minute to 30 days.
    let dir = Dir::alex();
    let path = dir.path("shared/log/2026-11.json");
    let text = fs::read_to_string(&path).unwrap();
    fs::write(
        &path,
        text.replacen("\"took_minutes\": 45", "\"took_minutes\": 0", 1),
    )
    .unwrap();
    dir.migrate().unwrap();
    let got = outcome(&dir);
    let repair = got
        .entries
        .iter()
        .find(|e| format!("{e:?}").contains("repair"))
        .expect("the repair migrated");
    assert!(!format!("{repair:?}").contains("Some(0)"), "{repair:?}");
}

#[test]
fn dropping_a_person_removes_their_part_and_the_file_with_the_last() {
    let dir = Dir::alex();
    dir.migrate().unwrap();
    assert!(!Snapshot::drop_person(dir.root(), ALEX, &dir.lock).unwrap());
    assert!(Snapshot::drop_person(dir.root(), SAM, &dir.lock).unwrap());
    assert!(!Snapshot::path(dir.root()).exists());
    assert_eq!(Snapshot::load(dir.root()).unwrap(), None);
    assert!(!Snapshot::drop_person(dir.root(), SAM, &dir.lock).unwrap());
}

#[test]
fn a_newer_snapshot_is_refused() {
    let dir = Dir::alex();
    dir.migrate().unwrap();
    let path = Snapshot::path(dir.root());
    let text = fs::read_to_string(&path).unwrap();
    fs::write(&path, text.replacen("\"format\": 1", "\"format\": 2", 1)).unwrap();
    let err = Snapshot::load(dir.root()).unwrap_err();
    assert!(err.hint().unwrap().contains("upgrade safe"), "{err:?}");
}

#[test]
fn people_are_replaced_when_their_own_migration_batch_is_in_another_persons_history() {
    use crate::domain::fold::Line;
    let name = |n: &str| format!(r#"{{"t":"name","name":"{n}","rev":{{"ms":{T0},"c":0}}}}"#);
    let (me, partner) = ("me-person", "partner-person");
    let (alex_op, sam_op) = (format!("{OP_PREFIX}{ALEX}"), format!("{OP_PREFIX}{SAM}"));
    let lines = [
        Line::read(me, "d1", 1, &alex_op, &name("Alex")),
        Line::read(partner, "d2", 1, "0199-some-op", &name("Sam")),
        Line::read(partner, "d2", 2, &sam_op, &name("Sam")),
    ];
    let state = fold::fold(&lines, T0);
    assert_eq!(replaced_people(&state, &me.to_string()), [SAM]);
    assert!(replaced_people(&state, &partner.to_string()) == [ALEX]);
}

#[test]
fn the_migration_operation_id_is_a_valid_op_id() {
    assert!(check_op(&format!("{OP_PREFIX}{ALEX}")).is_ok());
    let dir = Dir::alex();
    let config = fs::read_to_string(dir.path("config.json")).unwrap();
    let long = "x".repeat(64);
    fs::write(dir.path("config.json"), config.replacen(ALEX, &long, 1)).unwrap();
    let err = dir.migrate().unwrap_err();
    assert!(err.message().contains("cannot name a migration"), "{err:?}");
    assert!(!dir.path(MARKER).exists());
}

#[test]
fn the_other_partner_migrates_the_same_way_and_sees_only_what_was_shared() {
    let dir = Dir::of("sam");
    let migrated = dir.migrate().unwrap();
    // Sam's 4 entries, a shared and an unshared note, one goal; Alex's 6
    // shared entries (Alex's private entry never left Alex's machine).
    let want = Migrated {
        entries: 4,
        notes: 2,
        goals: 1,
        practices: 0,
        partner_entries: 6,
    };
    assert_eq!(migrated, want);
    let got = outcome(&dir);
    assert_eq!(got.names, ["Sam"]);
    assert_eq!(got.ops, [format!("{OP_PREFIX}{SAM}")]);
    let snapshot = got.snapshot.unwrap();
    let alex = &snapshot.people[ALEX];
    assert_eq!(alex.name.as_deref(), Some("Alex R"));
    assert_eq!(alex.practices.len(), 1);
    let notes: Vec<_> = alex
        .entries
        .iter()
        .filter_map(|e| e.note.as_deref())
        .collect();
    assert!(notes.contains(&"we walked") && !notes.contains(&"our secret"));
    let private = dir.root().join("private/log");
    let unshared = files(&private);
    assert!(
        unshared
            .values()
            .any(|b| String::from_utf8_lossy(b).contains("sam unshared marker"))
    );
}
