//! The fold (schema 2): the journal is what the verified lines of every log
//! say, folded record by record. See docs/protocol.md "Fold"; each rule
//! there names the test below that checks it.
//!
//! The fold is a pure function of the *set* of lines: no rule depends on
//! the order they arrive in, so two devices holding the same lines hold the
//! same journal, whatever order they synced in.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry as Slot;

use serde::Serialize;

use super::entry::EntryId;
use super::record::{
    Clock, EntryRecord, GoalRecord, Hex32, PracticeRecord, Record, Rev, SeenRecord,
};

/// A person, as the caller knows them (from pairing): the owner of every
/// line in their devices' logs.
pub type PersonId = String;

/// How far a line's rev may be ahead of "now" and still be folded: one day.
/// A line further ahead waits until now catches up.
pub const AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// One line, already verified and attributed by the caller: `owner` is the
/// person whose device's log holds it, `device` that log's device id.
#[derive(Debug, Clone, PartialEq)]
pub struct Line<'a> {
    pub owner: &'a str,
    pub device: &'a str,
    pub seq: u64,
    pub op: &'a str,
    /// The record, or why its `rec` does not read (an unknown kind, an
    /// unknown field, a malformed value).
    pub rec: Result<Record, String>,
    /// The shared note of an entry, from the line's sidecar, once checked
    /// against the entry's `h` ([`Line::with_sidecar`]).
    pub note: Option<String>,
}

impl<'a> Line<'a> {
    /// A line whose `rec` is still JSON text.
    pub fn read(owner: &'a str, device: &'a str, seq: u64, op: &'a str, rec: &str) -> Self {
        Line {
            owner,
            device,
            seq,
            op,
            rec: Record::parse(rec),
            note: None,
        }
    }

    /// Take the shared note from the line's sidecar, if it is the note the
    /// entry's `h` names; a sidecar that is not is ignored (a stripped note).
    pub fn with_sidecar(mut self, sidecar: Option<&str>) -> Self {
        self.note = match (&self.rec, sidecar) {
            (Ok(Record::Entry(e)), Some(sidecar)) => {
                e.h.as_ref()
                    .and_then(|h| crate::keys::line::NoteSidecar::open(sidecar, &h.0))
            }
            _ => None,
        };
        self
    }
}

/// Everything the logs say, as of "now".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Journal {
    /// Live entries by (owner, id): the winning version of each.
    pub entries: BTreeMap<(PersonId, EntryId), EntryRecord>,
    /// Unshared notes of live entries, from the owner's `note` records.
    pub notes: BTreeMap<(PersonId, EntryId), String>,
    /// Shared notes of live entries: the sidecar of the winning version.
    pub shared_notes: BTreeMap<(PersonId, EntryId), String>,
    pub names: BTreeMap<PersonId, String>,
    /// Goals by (person, practice).
    pub goals: BTreeMap<(PersonId, String), GoalRecord>,
    /// Custom practices by (owner, practice id).
    pub practices: BTreeMap<(PersonId, String), PracticeRecord>,
    /// Each person's operations, oldest first, with their undo state.
    pub history: BTreeMap<PersonId, Vec<Op>>,
    /// The latest `seen` mark of each device.
    pub seen: BTreeMap<String, Seen>,
    /// Lines left out of the fold, and why, by (device, seq).
    pub rejected: Vec<Rejected>,
    /// Lines too far ahead of now to fold yet, by (device, seq).
    pub waiting: Vec<Waiting>,
}

/// One operation (one batch) of a person, as the undo history lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub op: String,
    /// The rev of the operation's first line.
    pub rev: Rev,
    pub state: OpState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpState {
    /// Never undone.
    Done,
    /// Its latest marker is an `undo`.
    Undone,
    /// Its latest marker is a `redo`.
    Redone,
}

/// A device's latest `seen` mark.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub owner: PersonId,
    pub rev: Rev,
    pub logs: BTreeMap<String, (u64, Hex32)>,
}

/// A line left out of the fold. `why` may quote untrusted text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rejected {
    pub owner: PersonId,
    pub device: String,
    pub seq: u64,
    pub op: String,
    pub why: String,
}

/// A line kept but not folded yet: its rev is more than [`AHEAD_MS`] ahead.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Waiting {
    pub owner: PersonId,
    pub device: String,
    pub seq: u64,
    pub rev: Rev,
}

/// Fold `lines` as of `now_ms`. Pass my clock's reading
/// ([`Clock::now_ms`]) as `now_ms`, so my own lines are never held back.
pub fn fold<'a>(lines: impl IntoIterator<Item = &'a Line<'a>>, now_ms: u64) -> Journal {
    let mut fold = Fold::default();
    for line in lines {
        fold.take(line, now_ms);
    }
    fold.finish()
}

/// My clock after my own lines: only lines whose owner is `me` move it, so
/// nothing a partner writes can push my revs into the future.
pub fn clock_after<'a>(me: &str, lines: impl IntoIterator<Item = &'a Line<'a>>) -> Clock {
    let mut clock = Clock::default();
    for line in lines.into_iter().filter(|l| l.owner == me) {
        if let Some(rev) = line.rec.as_ref().ok().and_then(Record::rev) {
            clock.observe(rev);
        }
    }
    clock
}

/// Where a version stands among the versions of one record: by rev, then
/// by the writing device's id, then by seq (a later line of one device
/// wins at an equal rev).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp<'a> {
    rev: Rev,
    device: &'a str,
    seq: u64,
}

/// The versions of one kind of record, by key: the winner so far of each.
type Register<'a, K, V> = BTreeMap<K, (Stamp<'a>, V)>;

/// Keep `value` for `key` if it beats the version held. Two versions with
/// one stamp cannot come from an honest log (a device's seq names one
/// line), but a shared and a private log of one device each count seqs:
/// comparing the records' JSON settles even that the same way everywhere.
fn offer<'a, K: Ord, V: Serialize>(
    register: &mut Register<'a, K, V>,
    key: K,
    stamp: Stamp<'a>,
    value: V,
) {
    match register.entry(key) {
        Slot::Vacant(slot) => {
            slot.insert((stamp, value));
        }
        Slot::Occupied(mut slot) => {
            let (held, old) = slot.get();
            let wins = match stamp.cmp(held) {
                Ordering::Greater => true,
                Ordering::Less => false,
                Ordering::Equal => json(&value) > json(old),
            };
            if wins {
                slot.insert((stamp, value));
            }
        }
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("a record serialises")
}

/// One version of an entry with its shared note. Versions that tie on
/// their stamp compare by this JSON: the record first, then the note
/// (a version that kept its note beats the same version stripped).
#[derive(Debug, Clone, Copy, Serialize)]
struct EntryVersion<'a> {
    rec: Option<&'a EntryRecord>,
    note: &'a str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
enum Mark {
    Undo,
    Redo,
}

/// What the lines of one operation of one person are.
struct OpLines<'a> {
    first: Stamp<'a>,
    changes: bool,
    marks: bool,
}

/// The fold in progress. Every key starts with the owner, so lines of two
/// people never compete for one record.
#[derive(Default)]
struct Fold<'a> {
    /// `rec: None` is a tombstone.
    entries: Register<'a, (&'a str, EntryId), EntryVersion<'a>>,
    notes: Register<'a, (&'a str, EntryId), Option<&'a str>>,
    names: Register<'a, &'a str, &'a str>,
    goals: Register<'a, (&'a str, &'a str), &'a GoalRecord>,
    practices: Register<'a, (&'a str, &'a str), &'a PracticeRecord>,
    marks: Register<'a, (&'a str, &'a str), Mark>,
    seen: Register<'a, &'a str, (&'a str, &'a SeenRecord)>,
    ops: BTreeMap<(&'a str, &'a str), OpLines<'a>>,
    rejected: Vec<Rejected>,
    waiting: Vec<Waiting>,
}

impl<'a> Fold<'a> {
    fn take(&mut self, line: &'a Line<'a>, now_ms: u64) {
        let record = match &line.rec {
            Ok(record) => record,
            Err(why) => return self.reject(line, why.clone()),
        };
        if let Err(why) = record.check() {
            return self.reject(line, why);
        }
        // Devices joining and leaving are not versioned: the caller decides
        // trust from the chain before the fold, never from a clock.
        let Some(rev) = record.rev() else { return };
        if rev.ms > now_ms.saturating_add(AHEAD_MS) {
            self.waiting.push(Waiting {
                owner: line.owner.to_string(),
                device: line.device.to_string(),
                seq: line.seq,
                rev,
            });
            return;
        }
        let stamp = Stamp {
            rev,
            device: line.device,
            seq: line.seq,
        };
        let owner = line.owner;
        match record {
            Record::Entry(r) => {
                let version = EntryVersion {
                    rec: Some(r),
                    note: line.note.as_deref().unwrap_or_default(),
                };
                offer(&mut self.entries, (owner, r.id), stamp, version)
            }
            Record::Remove(r) => {
                let version = EntryVersion {
                    rec: None,
                    note: "",
                };
                offer(&mut self.entries, (owner, r.id), stamp, version)
            }
            Record::Note(r) => offer(&mut self.notes, (owner, r.id), stamp, r.note.as_deref()),
            Record::Name(r) => offer(&mut self.names, owner, stamp, r.name.as_str()),
            Record::Goal(r) => offer(&mut self.goals, (owner, r.practice.as_str()), stamp, r),
            Record::Practice(r) => offer(&mut self.practices, (owner, r.id.as_str()), stamp, r),
            Record::Undo(r) => offer(&mut self.marks, (owner, r.op.as_str()), stamp, Mark::Undo),
            Record::Redo(r) => offer(&mut self.marks, (owner, r.op.as_str()), stamp, Mark::Redo),
            Record::Seen(r) => offer(&mut self.seen, line.device, stamp, (owner, r)),
            Record::Device(_) | Record::Leave(_) => {}
        }
        self.count_op(line, record, stamp);
    }

    fn reject(&mut self, line: &Line<'_>, why: String) {
        self.rejected.push(Rejected {
            owner: line.owner.to_string(),
            device: line.device.to_string(),
            seq: line.seq,
            op: line.op.to_string(),
            why,
        });
    }

    /// Note what kind of lines an operation holds, and where it starts.
    fn count_op(&mut self, line: &'a Line<'a>, record: &Record, stamp: Stamp<'a>) {
        let op = self.ops.entry((line.owner, line.op)).or_insert(OpLines {
            first: stamp,
            changes: false,
            marks: false,
        });
        op.first = op.first.min(stamp);
        op.changes |= record.is_change();
        op.marks |= matches!(record, Record::Undo(_) | Record::Redo(_));
    }

    fn finish(self) -> Journal {
        let mut shared_notes = BTreeMap::new();
        let entries: BTreeMap<(PersonId, EntryId), EntryRecord> = self
            .entries
            .into_iter()
            .filter_map(|((owner, id), (_, version))| {
                let key = (owner.to_string(), id);
                let rec = version.rec?;
                if !version.note.is_empty() {
                    shared_notes.insert(key.clone(), version.note.to_string());
                }
                Some((key, rec.clone()))
            })
            .collect();
        let notes = self
            .notes
            .into_iter()
            .filter_map(|((owner, id), (_, note))| Some(((owner.to_string(), id), note?)))
            .filter(|(key, _)| entries.contains_key(key))
            .map(|(key, note)| (key, note.to_string()))
            .collect();
        let names = self
            .names
            .into_iter()
            .map(|(owner, (_, name))| (owner.to_string(), name.to_string()))
            .collect();
        let goals = self
            .goals
            .into_iter()
            .map(|((owner, p), (_, g))| ((owner.to_string(), p.to_string()), g.clone()))
            .collect();
        let practices = self
            .practices
            .into_iter()
            .map(|((owner, p), (_, r))| ((owner.to_string(), p.to_string()), r.clone()))
            .collect();
        let seen = self
            .seen
            .into_iter()
            .map(|(device, (stamp, (owner, r)))| {
                let seen = Seen {
                    owner: owner.to_string(),
                    rev: stamp.rev,
                    logs: r.logs.clone(),
                };
                (device.to_string(), seen)
            })
            .collect();
        let history = history(self.ops, &self.marks);
        let (mut rejected, mut waiting) = (self.rejected, self.waiting);
        rejected.sort();
        rejected.dedup();
        waiting.sort();
        waiting.dedup();
        Journal {
            entries,
            shared_notes,
            notes,
            names,
            goals,
            practices,
            history,
            seen,
            rejected,
            waiting,
        }
    }
}

/// Each person's operations that changed their journal, oldest first. A
/// batch that carries an undo or redo marker is not an operation of its
/// own: it is the undoing or redoing of the one it names.
fn history<'a>(
    ops: BTreeMap<(&'a str, &'a str), OpLines<'a>>,
    marks: &Register<'a, (&'a str, &'a str), Mark>,
) -> BTreeMap<PersonId, Vec<Op>> {
    let mut by_person: BTreeMap<PersonId, Vec<(Stamp<'a>, Op)>> = BTreeMap::new();
    for ((owner, op), lines) in ops {
        if !lines.changes || lines.marks {
            continue;
        }
        let state = match marks.get(&(owner, op)) {
            None => OpState::Done,
            Some((_, Mark::Undo)) => OpState::Undone,
            Some((_, Mark::Redo)) => OpState::Redone,
        };
        let item = Op {
            op: op.to_string(),
            rev: lines.first.rev,
            state,
        };
        by_person
            .entry(owner.to_string())
            .or_default()
            .push((lines.first, item));
    }
    by_person
        .into_iter()
        .map(|(owner, mut ops)| {
            ops.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.op.cmp(&b.1.op)));
            (owner, ops.into_iter().map(|(_, op)| op).collect())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Days, NaiveDate};
    use proptest::collection::vec;
    use proptest::prelude::*;

    use super::*;
    use crate::domain::entry::Kind;
    use crate::domain::goal::Goal;
    use crate::domain::record::{NameRecord, NoteRecord, OpMark, RemoveRecord};

    const ME: &str = "me";
    const SAM: &str = "sam";
    const LAPTOP: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const PHONE: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const SAMS: &str = "cccccccccccccccccccccccccccccccc";
    const SAMS_TOO: &str = "dddddddddddddddddddddddddddddddd";
    /// 2026-11-27T12:00:00Z.
    const NOON: u64 = 1_795_780_800_000;
    const DAY_MS: u64 = 24 * 60 * 60 * 1000;

    fn id(n: u8) -> EntryId {
        EntryId::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | u128::from(n))
    }

    fn rev(ms: u64) -> Rev {
        Rev { ms, c: 0 }
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn entry_at(n: u8, practice: &str, on: NaiveDate, rev: Rev) -> Record {
        Record::Entry(EntryRecord {
            id: id(n),
            kind: Kind::Log,
            practice: practice.to_string(),
            day: on,
            until: None,
            at: DateTime::parse_from_rfc3339("2026-11-27T21:14:03+01:00").unwrap(),
            took: None,
            h: None,
            card: None,
            private: false,
            rev,
        })
    }

    fn entry(n: u8, practice: &str, ms: u64) -> Record {
        entry_at(n, practice, day("2026-11-27"), rev(ms))
    }

    fn remove(n: u8, ms: u64) -> Record {
        Record::Remove(RemoveRecord {
            id: id(n),
            rev: rev(ms),
        })
    }

    fn name(text: &str, ms: u64) -> Record {
        Record::Name(NameRecord {
            name: text.to_string(),
            rev: rev(ms),
        })
    }

    fn goal(practice: &str, goal: Goal, ms: u64) -> Record {
        Record::Goal(GoalRecord {
            practice: practice.to_string(),
            goal,
            retired: false,
            rev: rev(ms),
        })
    }

    fn note(n: u8, text: Option<&str>, ms: u64) -> Record {
        Record::Note(NoteRecord {
            id: id(n),
            note: text.map(str::to_string),
            rev: rev(ms),
        })
    }

    fn mark(undo: bool, op: &str, ms: u64) -> Record {
        let mark = OpMark {
            op: op.to_string(),
            rev: rev(ms),
        };
        if undo {
            Record::Undo(mark)
        } else {
            Record::Redo(mark)
        }
    }

    fn line<'a>(owner: &'a str, device: &'a str, seq: u64, op: &'a str, rec: Record) -> Line<'a> {
        Line {
            owner,
            device,
            seq,
            op,
            rec: Ok(rec),
            note: None,
        }
    }

    fn practice_of(j: &Journal, owner: &str, n: u8) -> Option<String> {
        j.entries
            .get(&(owner.to_string(), id(n)))
            .map(|e| e.practice.clone())
    }

    #[test]
    fn a_partner_cannot_touch_my_records() {
        let lines = [
            line(ME, LAPTOP, 1, "m1", entry(1, "appreciation", NOON)),
            line(ME, LAPTOP, 2, "m1", name("Alex", NOON)),
            line(ME, LAPTOP, 3, "m1", goal("date", Goal::PerWeek(2), NOON)),
            line(ME, LAPTOP, 4, "m1", note(1, Some("mine"), NOON)),
            // Sam, later, with my entry's id, my op id and my practices.
            line(SAM, SAMS, 1, "m1", remove(1, NOON + 10)),
            line(SAM, SAMS, 2, "s2", entry(1, "repair", NOON + 20)),
            line(SAM, SAMS, 3, "s2", name("Sam", NOON + 20)),
            line(SAM, SAMS, 4, "s2", goal("date", Goal::None, NOON + 20)),
            line(SAM, SAMS, 5, "s2", note(1, Some("theirs"), NOON + 20)),
            line(SAM, SAMS, 6, "s3", mark(true, "m1", NOON + 30)),
        ];
        let j = fold(&lines, NOON);
        let me = |s: &str| (ME.to_string(), s.to_string());
        assert_eq!(practice_of(&j, ME, 1).as_deref(), Some("appreciation"));
        assert_eq!(j.names[ME], "Alex");
        assert_eq!(j.goals[&me("date")].goal, Goal::PerWeek(2));
        assert_eq!(j.notes[&(ME.to_string(), id(1))], "mine");
        assert_eq!(j.history[ME][0].state, OpState::Done);
        // What Sam wrote is Sam's own, under Sam's keys.
        assert_eq!(practice_of(&j, SAM, 1).as_deref(), Some("repair"));
        assert_eq!(j.names[SAM], "Sam");
        assert_eq!(
            j.goals[&(SAM.to_string(), "date".to_string())].goal,
            Goal::None
        );
        assert_eq!(j.notes[&(SAM.to_string(), id(1))], "theirs");
    }

    #[test]
    fn the_highest_rev_wins_then_the_device_then_the_seq() {
        let lines = [
            line(ME, LAPTOP, 1, "a", entry(1, "listen", NOON)),
            line(ME, PHONE, 1, "b", entry(1, "mirror", NOON + 5)),
            line(ME, LAPTOP, 2, "c", entry(1, "apology", NOON + 5)),
            line(ME, LAPTOP, 3, "d", entry(2, "listen", NOON)),
            line(ME, LAPTOP, 4, "d", entry(2, "mirror", NOON)),
            line(ME, PHONE, 2, "e", entry(3, "listen", NOON + 9)),
            line(ME, LAPTOP, 5, "f", entry(3, "mirror", NOON + 1)),
        ];
        // Every order of the same lines folds the same way.
        let mut order: Vec<&Line> = lines.iter().collect();
        for turn in 0..lines.len() {
            order.rotate_left(1);
            if turn % 2 == 1 {
                order.reverse();
            }
            let j = fold(order.iter().copied(), NOON);
            // Equal revs: the phone's id is the greater.
            assert_eq!(practice_of(&j, ME, 1).as_deref(), Some("mirror"));
            // Equal revs on one device: the later line.
            assert_eq!(practice_of(&j, ME, 2).as_deref(), Some("mirror"));
            // The higher rev, whatever its seq or device.
            assert_eq!(practice_of(&j, ME, 3).as_deref(), Some("listen"));
        }
    }

    #[test]
    fn a_tombstone_wins_over_lower_revs_and_a_later_version_brings_the_entry_back() {
        let logged = line(ME, LAPTOP, 1, "log", entry(1, "listen", NOON));
        let removed = line(ME, LAPTOP, 2, "rm", remove(1, NOON + 10));
        let stale = line(ME, PHONE, 1, "edit", entry(1, "mirror", NOON + 5));
        let undone = line(ME, LAPTOP, 3, "undo", entry(1, "listen", NOON + 20));
        let j = fold([&logged, &stale, &removed], NOON);
        assert_eq!(
            practice_of(&j, ME, 1),
            None,
            "a stale edit cannot revive it"
        );
        let j = fold([&undone, &removed, &stale, &logged], NOON);
        assert_eq!(practice_of(&j, ME, 1).as_deref(), Some("listen"));
    }

    #[test]
    fn a_record_that_breaks_a_limit_is_left_out_and_reported() {
        let future = entry_at(2, "listen", day("2026-11-29"), rev(NOON));
        let lines = [
            Line::read(SAM, SAMS, 1, "s", r#"{"t":"mood","rev":{"ms":1,"c":0}}"#),
            line(SAM, SAMS, 2, "s", future),
            line(
                SAM,
                SAMS,
                3,
                "s",
                Record::Practice(PracticeRecord {
                    id: "repair".into(),
                    about: "ours now".into(),
                    goal: Goal::Daily,
                    rev: rev(NOON),
                }),
            ),
            line(SAM, SAMS, 4, "s", name("Sam", NOON)),
            line(SAM, SAMS, 5, "s", entry(1, "listen", NOON)),
        ];
        let j = fold(&lines, NOON);
        let seqs: Vec<u64> = j.rejected.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [1, 2, 3]);
        assert!(
            j.rejected
                .iter()
                .all(|r| r.owner == SAM && r.device == SAMS)
        );
        assert!(j.rejected[1].why.contains("future"), "{:?}", j.rejected[1]);
        assert!(
            j.rejected[2].why.contains("built-in"),
            "{:?}",
            j.rejected[2]
        );
        // The rest of the log is folded as if they were not there.
        assert_eq!(j.names[SAM], "Sam");
        assert_eq!(practice_of(&j, SAM, 1).as_deref(), Some("listen"));
        assert_eq!(practice_of(&j, SAM, 2), None);
        assert!(j.practices.is_empty());
    }

    #[test]
    fn a_day_is_checked_against_its_own_rev_never_the_readers_clock() {
        // At noon UTC on the 27th it is already the 28th in UTC+14.
        let ahead = line(
            SAM,
            SAMS,
            1,
            "s",
            entry_at(1, "listen", day("2026-11-28"), rev(NOON)),
        );
        let beyond = line(
            SAM,
            SAMS,
            2,
            "s",
            entry_at(2, "listen", day("2026-11-29"), rev(NOON)),
        );
        for now in [NOON - DAY_MS + 1, NOON, NOON + 400 * DAY_MS] {
            let j = fold([&ahead, &beyond], now);
            assert_eq!(practice_of(&j, SAM, 1).as_deref(), Some("listen"), "{now}");
            assert_eq!(practice_of(&j, SAM, 2), None, "{now}");
            assert_eq!(j.rejected.len(), 1, "{now}");
        }
    }

    #[test]
    fn a_line_far_ahead_waits_until_now_catches_up() {
        let later = NOON + 3 * DAY_MS;
        let on = day("2026-11-30");
        let lines = [
            line(SAM, SAMS, 1, "s", entry_at(1, "listen", on, rev(later))),
            line(SAM, SAMS, 2, "s", name("Sam", later)),
        ];
        let j = fold(&lines, NOON);
        assert!(j.entries.is_empty() && j.names.is_empty() && j.rejected.is_empty());
        let waiting: Vec<(u64, Rev)> = j.waiting.iter().map(|w| (w.seq, w.rev)).collect();
        assert_eq!(waiting, [(1, rev(later)), (2, rev(later))]);
        // A day ahead is not too far; a moment more is.
        assert_eq!(fold(&lines, later - AHEAD_MS - 1).waiting.len(), 2);
        let j = fold(&lines, later - AHEAD_MS);
        assert!(j.waiting.is_empty());
        assert_eq!(practice_of(&j, SAM, 1).as_deref(), Some("listen"));
        assert_eq!(j.names[SAM], "Sam");
    }

    #[test]
    fn only_my_own_devices_move_my_clock() {
        let lines = [
            line(ME, LAPTOP, 1, "a", entry(1, "listen", NOON)),
            line(ME, PHONE, 1, "b", name("Alex", NOON + 7)),
            line(SAM, SAMS, 1, "s", name("Sam", u64::MAX / 2)),
            line(SAM, SAMS, 2, "s", entry(2, "listen", NOON + DAY_MS)),
            Line::read(ME, PHONE, 2, "c", "not json"),
        ];
        let mut clock = clock_after(ME, &lines);
        assert_eq!(clock, Clock { ms: NOON + 7, c: 0 });
        assert_eq!(clock.tick(NOON), Rev { ms: NOON + 7, c: 1 });
        assert_eq!(clock.now_ms(NOON), NOON + 7);
        assert_eq!(clock_after(SAM, &lines).ms, u64::MAX / 2);
    }

    #[test]
    fn the_undo_history_lists_operations_in_order_with_their_state() {
        let lines = [
            line(ME, LAPTOP, 1, "log", entry(1, "listen", NOON)),
            line(
                ME,
                LAPTOP,
                2,
                "log",
                Record::Note(NoteRecord {
                    id: id(1),
                    note: Some("kind".into()),
                    rev: Rev { ms: NOON, c: 1 },
                }),
            ),
            line(ME, PHONE, 1, "rm", remove(1, NOON + 10)),
            // The undo brings the entry back with a new version.
            line(ME, LAPTOP, 3, "u1", mark(true, "rm", NOON + 20)),
            line(ME, LAPTOP, 4, "u1", entry(1, "listen", NOON + 20)),
            line(ME, LAPTOP, 5, "name", name("Alex", NOON + 30)),
            line(ME, PHONE, 2, "u2", mark(true, "name", NOON + 40)),
            line(ME, PHONE, 3, "u2", name("Alex B", NOON + 40)),
            line(ME, LAPTOP, 6, "r1", mark(false, "name", NOON + 50)),
            line(ME, LAPTOP, 7, "r1", name("Alex", NOON + 50)),
            line(ME, LAPTOP, 8, "seen", Record::Seen(seen(NOON + 60))),
            // Sam's marker cannot undo my operation.
            line(SAM, SAMS, 1, "s", mark(true, "log", NOON + 70)),
        ];
        let j = fold(&lines, NOON);
        assert_eq!(fold(lines.iter().rev(), NOON), j);
        let history: Vec<(&str, u64, OpState)> = j.history[ME]
            .iter()
            .map(|o| (o.op.as_str(), o.rev.ms - NOON, o.state))
            .collect();
        assert_eq!(
            history,
            [
                ("log", 0, OpState::Done),
                ("rm", 10, OpState::Undone),
                ("name", 30, OpState::Redone),
            ]
        );
        assert_eq!(practice_of(&j, ME, 1).as_deref(), Some("listen"));
        assert_eq!(j.names[ME], "Alex");
        assert!(
            !j.history.contains_key(SAM),
            "a lone marker is no operation"
        );
    }

    fn seen(ms: u64) -> SeenRecord {
        SeenRecord {
            logs: BTreeMap::from([(SAMS.to_string(), (ms - NOON, Hex32([7; 32])))]),
            rev: rev(ms),
        }
    }

    #[test]
    fn unshared_notes_belong_to_live_entries_of_their_owner() {
        let lines = [
            line(ME, LAPTOP, 1, "a", entry(1, "listen", NOON)),
            line(ME, LAPTOP, 2, "a", note(1, Some("first"), NOON)),
            line(ME, PHONE, 1, "b", note(1, Some("second"), NOON + 1)),
            line(ME, LAPTOP, 3, "c", entry(2, "listen", NOON)),
            line(ME, LAPTOP, 4, "c", note(2, Some("gone"), NOON)),
            line(ME, LAPTOP, 5, "d", note(2, None, NOON + 1)),
            line(ME, LAPTOP, 6, "e", entry(3, "listen", NOON)),
            line(ME, LAPTOP, 7, "e", note(3, Some("removed"), NOON)),
            line(ME, LAPTOP, 8, "f", remove(3, NOON + 1)),
            line(ME, LAPTOP, 9, "g", note(4, Some("no entry"), NOON)),
        ];
        let j = fold(&lines, NOON);
        let notes: Vec<(u8, &str)> = j
            .notes
            .iter()
            .map(|((_, i), n)| (i.as_bytes()[15], n.as_str()))
            .collect();
        assert_eq!(notes, [(1, "second")]);
    }

    #[test]
    fn each_devices_latest_seen_mark_is_kept() {
        let lines = [
            line(ME, LAPTOP, 1, "a", Record::Seen(seen(NOON + 5))),
            line(ME, LAPTOP, 2, "b", Record::Seen(seen(NOON + 9))),
            line(SAM, SAMS, 1, "c", Record::Seen(seen(NOON + 1))),
        ];
        let j = fold(lines.iter().rev(), NOON);
        assert_eq!(j.seen[LAPTOP].rev, rev(NOON + 9));
        assert_eq!(j.seen[LAPTOP].logs[SAMS].0, 9);
        assert_eq!(j.seen[SAMS].owner, SAM);
        assert!(j.history.is_empty(), "a seen mark is no operation");
    }

    #[test]
    fn a_device_line_is_read_but_left_to_the_caller() {
        let lines = [Line::read(
            ME,
            LAPTOP,
            1,
            "pair",
            &format!(
                r#"{{"t":"device","device":"{}","key":"{}","role":"mine","journal":"j-1"}}"#,
                crate::domain::record::device_id_of(&Hex32([0xab; 32])),
                "ab".repeat(32)
            ),
        )];
        assert_eq!(fold(&lines, NOON), Journal::default());
    }

    /// Random devices for the properties: each writes batches of records
    /// with its own clock, as `safe` would, plus lines a limit refuses and
    /// lines from a clock running days ahead.
    mod model {
        use super::*;
        use crate::domain::record::PracticeRecord;

        /// "Now" for the properties: an hour after the devices start.
        pub const NOW: u64 = NOON + 3_600_000;

        #[derive(Debug, Clone)]
        pub enum Act {
            Log {
                n: u8,
                day: u8,
                practice: u8,
            },
            Remove {
                n: u8,
            },
            Undo {
                back: u8,
            },
            Redo {
                back: u8,
            },
            Name {
                name: u8,
            },
            Goal {
                practice: u8,
                goal: u8,
                retired: bool,
            },
            Note {
                n: u8,
                text: Option<u8>,
            },
            Practice {
                p: u8,
            },
            /// A day after its rev's date: refused.
            Future {
                n: u8,
            },
            /// A rev three days ahead of now: waits.
            Ahead {
                n: u8,
            },
            /// A `rec` that does not read.
            Garbled,
        }

        pub fn act() -> impl Strategy<Value = Act> {
            prop_oneof![
                4 => (0..6u8, 0..27u8, 0..3u8)
                    .prop_map(|(n, day, practice)| Act::Log { n, day, practice }),
                2 => (0..6u8).prop_map(|n| Act::Remove { n }),
                2 => any::<u8>().prop_map(|back| Act::Undo { back }),
                1 => any::<u8>().prop_map(|back| Act::Redo { back }),
                1 => (0..3u8).prop_map(|name| Act::Name { name }),
                1 => (0..3u8, 0..3u8, any::<bool>())
                    .prop_map(|(practice, goal, retired)| Act::Goal { practice, goal, retired }),
                1 => (0..6u8, proptest::option::of(0..3u8))
                    .prop_map(|(n, text)| Act::Note { n, text }),
                1 => (0..2u8).prop_map(|p| Act::Practice { p }),
                1 => (0..6u8).prop_map(|n| Act::Future { n }),
                1 => (0..6u8).prop_map(|n| Act::Ahead { n }),
                1 => Just(Act::Garbled),
            ]
        }

        /// A device's batches: how far its wall clock moves (ms) before
        /// each, and what the batch does.
        pub fn batches() -> impl Strategy<Value = Vec<(u64, Vec<Act>)>> {
            vec((0..3u64, vec(act(), 1..4)), 0..8)
        }

        /// One line, owned, for lines to borrow.
        #[derive(Debug, Clone)]
        pub struct Owned {
            pub owner: &'static str,
            pub device: &'static str,
            pub seq: u64,
            pub op: String,
            pub rec: Result<Record, String>,
        }

        impl Owned {
            pub fn line(&self) -> Line<'_> {
                Line {
                    owner: self.owner,
                    device: self.device,
                    seq: self.seq,
                    op: &self.op,
                    rec: self.rec.clone(),
                    note: None,
                }
            }
        }

        const PRACTICES: [&str; 3] = ["appreciation", "repair", "date"];
        const GOALS: [Goal; 3] = [Goal::Daily, Goal::PerWeek(2), Goal::None];
        const NAMES: [&str; 3] = ["Alex", "Sam", "Kim"];
        const CUSTOM: [&str; 2] = ["read-aloud", "walk"];

        /// The lines one device writes. Ops are named `<prefix><n>`.
        pub fn device_lines(
            owner: &'static str,
            device: &'static str,
            prefix: &str,
            batches: &[(u64, Vec<Act>)],
        ) -> Vec<Owned> {
            let mut clock = Clock::default();
            let mut wall = NOON;
            let mut out: Vec<Owned> = Vec::new();
            // Each op of this device with the entry records it wrote.
            let mut done: Vec<(String, Vec<Record>)> = Vec::new();
            for (number, (step, acts)) in batches.iter().enumerate() {
                wall += step;
                let op = format!("{prefix}{number}");
                let mut recs: Vec<Result<Record, String>> = Vec::new();
                for act in acts {
                    recs.extend(records(act, &mut clock, wall, &done));
                }
                let changes = recs
                    .iter()
                    .filter_map(|r| r.as_ref().ok())
                    .filter(|r| matches!(r, Record::Entry(_) | Record::Remove(_)))
                    .cloned()
                    .collect();
                done.push((op.clone(), changes));
                for rec in recs {
                    let seq = out.len() as u64 + 1;
                    let op = op.clone();
                    out.push(Owned {
                        owner,
                        device,
                        seq,
                        op,
                        rec,
                    });
                }
            }
            out
        }

        /// The records of one act, at the device's clock.
        fn records(
            act: &Act,
            clock: &mut Clock,
            wall: u64,
            done: &[(String, Vec<Record>)],
        ) -> Vec<Result<Record, String>> {
            let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
            let one = |r: Record| vec![Ok(r)];
            match *act {
                Act::Log { n, day, practice } => {
                    let on = first + Days::new(day.into());
                    one(entry_at(
                        n,
                        PRACTICES[practice as usize],
                        on,
                        clock.tick(wall),
                    ))
                }
                Act::Remove { n } => one(Record::Remove(RemoveRecord {
                    id: id(n),
                    rev: clock.tick(wall),
                })),
                Act::Undo { back } | Act::Redo { back } if !done.is_empty() => {
                    let (op, changes) = &done[back as usize % done.len()];
                    let undo = matches!(act, Act::Undo { .. });
                    let rev = clock.tick(wall);
                    let marker = OpMark {
                        op: op.clone(),
                        rev,
                    };
                    let mut out = vec![Ok(if undo {
                        Record::Undo(marker)
                    } else {
                        Record::Redo(marker)
                    })];
                    // New versions that reverse (or re-apply) what it did.
                    for change in changes {
                        let rev = clock.tick(wall);
                        let again = match (change, undo) {
                            (Record::Entry(e), true) => {
                                Record::Remove(RemoveRecord { id: e.id, rev })
                            }
                            (Record::Remove(r), true) => {
                                entry_at(id_byte(r.id), "listen", first, rev)
                            }
                            (Record::Entry(e), false) => {
                                Record::Entry(EntryRecord { rev, ..e.clone() })
                            }
                            (Record::Remove(r), false) => {
                                Record::Remove(RemoveRecord { id: r.id, rev })
                            }
                            _ => continue,
                        };
                        out.push(Ok(again));
                    }
                    out
                }
                Act::Undo { .. } | Act::Redo { .. } => Vec::new(),
                Act::Name { name: n } => one(Record::Name(NameRecord {
                    name: NAMES[n as usize].to_string(),
                    rev: clock.tick(wall),
                })),
                Act::Goal {
                    practice,
                    goal,
                    retired,
                } => one(Record::Goal(GoalRecord {
                    practice: PRACTICES[practice as usize].to_string(),
                    goal: GOALS[goal as usize],
                    retired,
                    rev: clock.tick(wall),
                })),
                Act::Note { n, text } => one(Record::Note(NoteRecord {
                    id: id(n),
                    note: text.map(|t| format!("note {t}")),
                    rev: clock.tick(wall),
                })),
                Act::Practice { p } => one(Record::Practice(PracticeRecord {
                    id: CUSTOM[p as usize].to_string(),
                    about: format!("about {p}"),
                    goal: GOALS[p as usize],
                    rev: clock.tick(wall),
                })),
                Act::Future { n } => {
                    one(entry_at(n, "listen", day("2026-12-25"), clock.tick(wall)))
                }
                Act::Ahead { n } => {
                    let ahead = Rev {
                        ms: NOW + 3 * DAY_MS,
                        c: n.into(),
                    };
                    one(entry_at(n, "listen", day("2026-11-30"), ahead))
                }
                Act::Garbled => vec![Record::parse(r#"{"t":"entry","id":"x"}"#)],
            }
        }

        fn id_byte(id: EntryId) -> u8 {
            id.as_bytes()[15]
        }

        /// Any record a hostile partner could write, at any rev, naming my
        /// entries and my operations.
        pub fn partner_record() -> impl Strategy<Value = Record> {
            let rev = prop_oneof![
                (NOON - 1000..NOW + 1000, 0..3u32).prop_map(|(ms, c)| Rev { ms, c }),
                any::<u64>().prop_map(|ms| Rev { ms, c: 0 }),
            ];
            (0..8u8, 0..6u8, 0..3u8, any::<bool>(), rev).prop_map(|(kind, n, x, flag, rev)| {
                let x = x as usize;
                match kind {
                    0 => entry_at(n, PRACTICES[x], day("2026-11-20"), rev),
                    1 => Record::Remove(RemoveRecord { id: id(n), rev }),
                    2 => Record::Note(NoteRecord {
                        id: id(n),
                        note: flag.then(|| "theirs".into()),
                        rev,
                    }),
                    3 => Record::Name(NameRecord {
                        name: NAMES[x].into(),
                        rev,
                    }),
                    4 => Record::Goal(GoalRecord {
                        practice: PRACTICES[x].into(),
                        goal: GOALS[x],
                        retired: flag,
                        rev,
                    }),
                    5 => Record::Practice(PracticeRecord {
                        id: CUSTOM[x % 2].into(),
                        about: String::new(),
                        goal: GOALS[x],
                        rev,
                    }),
                    6 => Record::Undo(OpMark {
                        op: format!("l{n}"),
                        rev,
                    }),
                    _ => Record::Redo(OpMark {
                        op: format!("p{n}"),
                        rev,
                    }),
                }
            })
        }

        /// A reference for the fold of entries, written the plain way: for
        /// each id, the version of `owner`'s lines with the greatest (rev,
        /// device, seq), among those the fold takes now.
        pub fn live_entries(
            owner: &str,
            lines: &[Owned],
        ) -> BTreeMap<(PersonId, EntryId), EntryRecord> {
            type Newest<'a> = ((Rev, &'a str, u64), Option<&'a EntryRecord>);
            let mut newest: BTreeMap<EntryId, Newest> = BTreeMap::new();
            for line in lines.iter().filter(|l| l.owner == owner) {
                let Ok(rec) = &line.rec else { continue };
                let (id, version) = match rec {
                    Record::Entry(e) => (e.id, Some(e)),
                    Record::Remove(r) => (r.id, None),
                    _ => continue,
                };
                let rev = rec.rev().expect("entries are versioned");
                if rec.check().is_err() || rev.ms > NOW + AHEAD_MS {
                    continue;
                }
                let stamp = (rev, line.device, line.seq);
                let held = newest.entry(id).or_insert((stamp, version));
                if stamp > held.0 {
                    *held = (stamp, version);
                }
            }
            newest
                .into_iter()
                .filter_map(|(id, (_, e))| Some(((owner.to_string(), id), e?.clone())))
                .collect()
        }

        /// Merge per-device streams into one, each device's order kept:
        /// `picks` chooses the next device, then the rest go in turn.
        pub fn interleave<'a>(streams: &[Vec<Line<'a>>], picks: &[u8]) -> Vec<Line<'a>> {
            let mut at = vec![0; streams.len()];
            let mut picks = picks.iter();
            let mut out = Vec::new();
            loop {
                let open: Vec<usize> = (0..streams.len())
                    .filter(|&s| at[s] < streams[s].len())
                    .collect();
                if open.is_empty() {
                    return out;
                }
                let pick = picks.next().map_or(0, |p| *p as usize % open.len());
                let stream = open[pick];
                out.push(streams[stream][at[stream]].clone());
                at[stream] += 1;
            }
        }
    }

    /// Everything the journal holds for one person.
    fn of(j: &Journal, person: &str) -> Journal {
        let mine = |owner: &PersonId| owner == person;
        Journal {
            entries: j
                .entries
                .iter()
                .filter(|(k, _)| mine(&k.0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            notes: j
                .notes
                .iter()
                .filter(|(k, _)| mine(&k.0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            shared_notes: j
                .shared_notes
                .iter()
                .filter(|(k, _)| mine(&k.0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            names: j
                .names
                .iter()
                .filter(|(k, _)| mine(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            goals: j
                .goals
                .iter()
                .filter(|(k, _)| mine(&k.0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            practices: j
                .practices
                .iter()
                .filter(|(k, _)| mine(&k.0))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            history: j
                .history
                .iter()
                .filter(|(k, _)| mine(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            seen: j
                .seen
                .iter()
                .filter(|(_, v)| mine(&v.owner))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            rejected: j
                .rejected
                .iter()
                .filter(|r| mine(&r.owner))
                .cloned()
                .collect(),
            waiting: j
                .waiting
                .iter()
                .filter(|w| mine(&w.owner))
                .cloned()
                .collect(),
        }
    }

    proptest! {
        /// Two people with two devices each: however the devices' lines
        /// interleave (each device's own order kept), and even when lines
        /// arrive twice, the journal is the same.
        #[test]
        fn any_interleaving_folds_to_the_same_journal(
            laptop in model::batches(),
            phone in model::batches(),
            sams in model::batches(),
            sams_too in model::batches(),
            first in vec(any::<u8>(), 0..80),
            second in vec(any::<u8>(), 0..80),
        ) {
            let owned = [
                model::device_lines(ME, LAPTOP, "l", &laptop),
                model::device_lines(ME, PHONE, "p", &phone),
                model::device_lines(SAM, SAMS, "s", &sams),
                model::device_lines(SAM, SAMS_TOO, "t", &sams_too),
            ];
            let streams: Vec<Vec<Line>> = owned
                .iter()
                .map(|device| device.iter().map(model::Owned::line).collect())
                .collect();
            let a = model::interleave(&streams, &first);
            let b = model::interleave(&streams, &second);
            let journal = fold(&a, model::NOW);
            prop_assert_eq!(&fold(&b, model::NOW), &journal);
            prop_assert_eq!(&fold(a.iter().chain(&b), model::NOW), &journal);
            // Not even a device's own order matters: the fold is of a set.
            prop_assert_eq!(&fold(a.iter().rev(), model::NOW), &journal);
        }

        /// Whatever my partner's devices write (my entry ids, my operation
        /// ids, any rev), my entries, notes, name, goals, practices and
        /// history are exactly what my own lines say.
        #[test]
        fn partner_lines_never_change_my_records(
            laptop in model::batches(),
            phone in model::batches(),
            theirs in vec((any::<bool>(), 1..40u64, model::partner_record()), 0..40),
        ) {
            let mine: Vec<model::Owned> = model::device_lines(ME, LAPTOP, "l", &laptop)
                .into_iter()
                .chain(model::device_lines(ME, PHONE, "p", &phone))
                .collect();
            let partner: Vec<model::Owned> = theirs
                .into_iter()
                .map(|(other, seq, rec)| model::Owned {
                    owner: SAM,
                    device: if other { SAMS_TOO } else { SAMS },
                    seq,
                    op: format!("l{}", seq % 8),
                    rec: Ok(rec),
                })
                .collect();
            let alone: Vec<Line> = mine.iter().map(model::Owned::line).collect();
            let together: Vec<Line> = partner
                .iter()
                .map(model::Owned::line)
                .chain(alone.iter().cloned())
                .collect();
            let expected = fold(&alone, model::NOW);
            let journal = fold(&together, model::NOW);
            prop_assert_eq!(of(&journal, ME), of(&expected, ME));
            // And that is each entry's newest version among my lines.
            prop_assert_eq!(of(&journal, ME).entries, model::live_entries(ME, &mine));
            prop_assert_eq!(clock_after(ME, &together), clock_after(ME, &alone));
        }
    }
}
