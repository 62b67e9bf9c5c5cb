//! Schema-2 records: the `rec` of a log line, tagged by `"t"`, and the
//! hybrid logical clock (`rev`) that orders versions of a record. See
//! docs/protocol.md "Records" and "Clock".
//!
//! A record never names its owner: the owner is the person whose device's
//! log holds the line (DESIGN.md §3, "Ownership is structural"). Every
//! record refuses unknown fields, so an `author` or `by` can never ride
//! along and be mistaken for one.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::entry::{ALL_PRACTICES, EntryId, Kind};
use super::goal::Goal;
use super::limits::{MAX_ABOUT_CHARS, check_day, check_name, check_note, check_pause, check_took};
use super::practice::{BUILTIN, valid_id};

/// The revision of one version of a record: a hybrid logical clock reading.
/// Two revs compare by `ms`, then `c`; between versions written by two
/// devices with the same rev, the fold breaks the tie by device id (see
/// `domain::fold`), so no device id needs to be written into the record.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct Rev {
    /// `max(wall clock, highest ms of my own devices' lines)`, in
    /// milliseconds since the epoch.
    pub ms: u64,
    /// Orders revs within one millisecond.
    pub c: u32,
}

/// UTC+14 (Kiribati), the time zone furthest ahead: no one anywhere is in
/// a later day than a rev's date there.
const FURTHEST_AHEAD: TimeDelta = TimeDelta::hours(14);

impl Rev {
    /// The last day a record of this rev may be for: the rev's date in
    /// UTC+14. A record's validity is decided by its own rev, never by the
    /// clock of whoever reads it. `None` for a rev past any calendar.
    pub fn latest_day(self) -> Option<NaiveDate> {
        let ms = i64::try_from(self.ms).ok()?;
        let at = DateTime::from_timestamp_millis(ms)?.checked_add_signed(FURTHEST_AHEAD)?;
        Some(at.date_naive())
    }
}

/// My clock: it hands out revs that never go backwards, even when the
/// wall clock does. It is rebuilt from my own devices' lines
/// (`domain::fold::clock_after`), never from a partner's, so a partner
/// cannot push it into the future.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    pub ms: u64,
    pub c: u32,
}

impl Clock {
    /// A new rev for a change made when the wall clock reads `wall_ms`.
    pub fn tick(&mut self, wall_ms: u64) -> Rev {
        if wall_ms > self.ms {
            self.ms = wall_ms;
            self.c = 0;
        } else {
            self.c = self.c.saturating_add(1);
        }
        Rev {
            ms: self.ms,
            c: self.c,
        }
    }

    /// Move the clock past `rev`. Call it only with revs of my own lines.
    pub fn observe(&mut self, rev: Rev) {
        if (rev.ms, rev.c) > (self.ms, self.c) {
            self.ms = rev.ms;
            self.c = rev.c;
        }
    }

    /// "Now" for the fold: the wall clock, or my clock if it is ahead, so
    /// that my own lines are never held back as too far ahead.
    pub fn now_ms(&self, wall_ms: u64) -> u64 {
        wall_ms.max(self.ms)
    }
}

/// 32 bytes written as exactly 64 lowercase hex digits (one spelling, so
/// equal values have equal text): a note hash, a public key, a line hash.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hex32(pub [u8; 32]);

impl Hex32 {
    /// `text` as 32 bytes, if it is exactly 64 lowercase hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        fn digit(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            }
        }
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let mut out = [0; 32];
        for (byte, pair) in out.iter_mut().zip(text.chunks_exact(2)) {
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Hex32(out))
    }
}

impl fmt::Display for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Hex32 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Hex32 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hex32 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Hex32::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lowercase hex digits"))
    }
}

/// One version of one record: the `rec` of a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "lowercase")]
pub enum Record {
    /// One full version of an entry (a log, a skip or a pause).
    Entry(EntryRecord),
    /// A tombstone: the entry is removed (until a later version).
    Remove(RemoveRecord),
    /// An unshared note of my own entry; only in my private log.
    Note(NoteRecord),
    /// My display name.
    Name(NameRecord),
    /// My goal for one practice.
    Goal(GoalRecord),
    /// A custom practice I define.
    Practice(PracticeRecord),
    /// This batch reverses the operation it names.
    Undo(OpMark),
    /// This batch re-applies the operation it names.
    Redo(OpMark),
    /// The seq and hash of every log this device holds.
    Seen(SeenRecord),
    /// A device joins the journal.
    Device(DeviceRecord),
    /// A device is removed from the journal.
    Leave(LeaveRecord),
}

/// One full version of an entry. A shared note appears only as its hash
/// `h`; the note travels in the line's sidecar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRecord {
    pub id: EntryId,
    /// Left out for a log, as in schema 1.
    #[serde(default, skip_serializing_if = "Kind::is_log")]
    pub kind: Kind,
    pub practice: String,
    pub day: NaiveDate,
    /// Last day of a pause (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    pub at: DateTime<FixedOffset>,
    /// Minutes from a rupture to its repair.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took: Option<u32>,
    /// `SHA-256(salt ‖ note)` of the shared note, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub h: Option<Hex32>,
    /// The conversation card explored (`safe card --done`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// Written only in its owner's private log, which never leaves the
    /// device; a reader takes it from no one else's log.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub private: bool,
    pub rev: Rev,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RemoveRecord {
    pub id: EntryId,
    pub rev: Rev,
}

/// An unshared note; `note: null` clears it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteRecord {
    pub id: EntryId,
    pub note: Option<String>,
    pub rev: Rev,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NameRecord {
    pub name: String,
    pub rev: Rev,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalRecord {
    pub practice: String,
    pub goal: Goal,
    #[serde(default)]
    pub retired: bool,
    pub rev: Rev,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PracticeRecord {
    pub id: String,
    #[serde(default)]
    pub about: String,
    /// The goal anyone starts with until they set their own.
    pub goal: Goal,
    pub rev: Rev,
}

/// An `undo` or `redo` marker. It is versioned like a record: the marker
/// with the highest rev for an operation says whether it stands undone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpMark {
    pub op: String,
    pub rev: Rev,
}

/// For every log this device holds: device id -> `[seq, hash]` of the last
/// line it holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeenRecord {
    pub logs: BTreeMap<String, (u64, Hex32)>,
    pub rev: Rev,
}

/// Whose device a joining device is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Another device of the person who accepted it.
    Mine,
    /// A device of that person's partner.
    Partner,
}

/// A device joins. Not versioned: trust follows the chain, never a clock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceRecord {
    pub device: String,
    pub key: Hex32,
    pub role: Role,
    pub journal: String,
}

/// A device is removed: its lines after `last_seq` (whose payload hashes to
/// `last_hash`) are never accepted. Not versioned, like [`DeviceRecord`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeaveRecord {
    pub device: String,
    pub last_seq: u64,
    pub last_hash: Hex32,
}

/// The most logs a `seen` record may list: far more devices than a couple
/// has, few enough that one line stays small.
pub const MAX_SEEN_LOGS: usize = 64;

/// The longest operation id an undo or redo marker may name.
pub const MAX_OP_CHARS: usize = 64;

/// The longest journal id.
pub const MAX_JOURNAL_CHARS: usize = 64;

/// The device id of a public key: `hex(SHA-256(key))[..32]`
/// (docs/protocol.md "Devices"; `keys::DeviceId::of` makes the same).
pub fn device_id_of(key: &Hex32) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(key.0);
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// A `device` line cannot pair one device's id with another's key.
fn check_device_key(device: &str, key: &Hex32) -> Result<(), String> {
    if device_id_of(key) != device {
        return Err(format!(
            "device {device} does not belong to the key given with it"
        ));
    }
    Ok(())
}

impl Record {
    /// Read the `rec` of a line. The error says why it does not read (it may
    /// quote the text, which is untrusted).
    pub fn parse(rec: &str) -> Result<Record, String> {
        serde_json::from_str(rec).map_err(|e| e.to_string())
    }

    /// The record as the `rec` of a line.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a record serialises")
    }

    /// The rev of a versioned record; `None` for `device` and `leave`.
    pub fn rev(&self) -> Option<Rev> {
        match self {
            Record::Entry(r) => Some(r.rev),
            Record::Remove(r) => Some(r.rev),
            Record::Note(r) => Some(r.rev),
            Record::Name(r) => Some(r.rev),
            Record::Goal(r) => Some(r.rev),
            Record::Practice(r) => Some(r.rev),
            Record::Undo(r) | Record::Redo(r) => Some(r.rev),
            Record::Seen(r) => Some(r.rev),
            Record::Device(_) | Record::Leave(_) => None,
        }
    }

    /// Is this a change a person made to their journal (and so part of an
    /// operation they can undo)?
    pub fn is_change(&self) -> bool {
        matches!(
            self,
            Record::Entry(_)
                | Record::Remove(_)
                | Record::Note(_)
                | Record::Name(_)
                | Record::Goal(_)
                | Record::Practice(_)
        )
    }

    /// The domain limits (docs/protocol.md "Limits"), decided by the record
    /// alone: a day is checked against the record's own rev, never against
    /// the reader's clock, so every reader agrees. The error may quote
    /// untrusted text.
    pub fn check(&self) -> Result<(), String> {
        match self {
            Record::Entry(r) => r.check(),
            Record::Remove(_) => Ok(()),
            Record::Note(r) => r.note.as_deref().map_or(Ok(()), check_note),
            Record::Name(r) => match check_name(&r.name)? {
                name if name == r.name => Ok(()),
                _ => Err("a name is written without spaces around it".to_string()),
            },
            Record::Goal(r) => check_practice_id(&r.practice),
            Record::Practice(r) => r.check(),
            Record::Undo(r) | Record::Redo(r) => check_op(&r.op),
            Record::Seen(r) => r.check(),
            Record::Device(r) => check_device(&r.device)
                .and_then(|()| check_journal(&r.journal))
                .and_then(|()| check_device_key(&r.device, &r.key)),
            Record::Leave(r) => check_device(&r.device),
        }
    }
}

impl EntryRecord {
    fn check(&self) -> Result<(), String> {
        let latest = self
            .rev
            .latest_day()
            .ok_or_else(|| format!("the rev {} is past any date", self.rev.ms))?;
        let all = self.kind == Kind::Pause && self.practice == ALL_PRACTICES;
        if !all {
            check_practice_id(&self.practice)?;
        }
        if let Some(minutes) = self.took {
            check_took(minutes)?;
        }
        if let Some(card) = &self.card {
            if self.kind != Kind::Log || self.practice != "card" {
                return Err("only a log of the practice `card` names a card".to_string());
            }
            if !valid_id(card) {
                return Err(format!("`{card}` is not a card id"));
            }
        }
        match self.kind {
            Kind::Pause => {
                let until = self
                    .until
                    .ok_or_else(|| "a pause without its last day".to_string())?;
                check_pause(self.day, until, latest)
            }
            Kind::Log | Kind::Skip => {
                if self.until.is_some() {
                    return Err("only a pause has a last day".to_string());
                }
                check_day(self.day, latest)
            }
        }
    }
}

impl PracticeRecord {
    fn check(&self) -> Result<(), String> {
        check_practice_id(&self.id)?;
        if BUILTIN.iter().any(|b| b.0 == self.id) {
            return Err(format!(
                "`{}` is a built-in practice; a custom one needs its own id",
                self.id
            ));
        }
        let chars = self.about.chars().count();
        if chars > MAX_ABOUT_CHARS {
            return Err(format!(
                "the description is {chars} characters long; at most {MAX_ABOUT_CHARS}"
            ));
        }
        Ok(())
    }
}

impl SeenRecord {
    fn check(&self) -> Result<(), String> {
        if self.logs.len() > MAX_SEEN_LOGS {
            return Err(format!(
                "a seen mark lists {} logs; at most {MAX_SEEN_LOGS}",
                self.logs.len()
            ));
        }
        self.logs.keys().try_for_each(|d| check_device(d))
    }
}

fn check_practice_id(id: &str) -> Result<(), String> {
    if valid_id(id) {
        Ok(())
    } else {
        Err(format!(
            "`{id}` is not a practice id (lowercase letters, digits and dashes)"
        ))
    }
}

/// A device id: exactly 32 lowercase hex digits (as `keys::DeviceId`).
fn check_device(id: &str) -> Result<(), String> {
    let ok = id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if ok {
        Ok(())
    } else {
        Err(format!("`{id}` is not a device id"))
    }
}

/// An operation id: 1 to [`MAX_OP_CHARS`] visible ASCII characters.
pub fn check_op(op: &str) -> Result<(), String> {
    let ok = (1..=MAX_OP_CHARS).contains(&op.len()) && op.bytes().all(|b| b.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(format!("`{op}` is not an operation id"))
    }
}

/// A journal id: 1 to [`MAX_JOURNAL_CHARS`] ASCII letters, digits and
/// dashes (it is hashed between NUL separators in a log's genesis).
fn check_journal(id: &str) -> Result<(), String> {
    let ok = (1..=MAX_JOURNAL_CHARS).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!("`{id}` is not a journal id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-27T12:00:00Z.
    const NOON: u64 = 1_795_780_800_000;

    fn rev(ms: u64) -> Rev {
        Rev { ms, c: 0 }
    }

    fn entry(practice: &str, day: &str) -> EntryRecord {
        EntryRecord {
            id: "019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d".parse().unwrap(),
            kind: Kind::Log,
            practice: practice.to_string(),
            day: day.parse().unwrap(),
            until: None,
            at: DateTime::parse_from_rfc3339("2026-11-27T21:14:03+01:00").unwrap(),
            took: None,
            h: None,
            card: None,
            private: false,
            rev: rev(NOON),
        }
    }

    fn hex(byte: u8) -> Hex32 {
        Hex32([byte; 32])
    }

    fn one_of_each() -> Vec<Record> {
        let id = entry("repair", "2026-11-27").id;
        let mut repair = entry("repair", "2026-11-27");
        repair.took = Some(135);
        repair.h = Some(hex(0xab));
        vec![
            Record::Entry(repair),
            Record::Remove(RemoveRecord { id, rev: rev(2) }),
            Record::Note(NoteRecord {
                id,
                note: Some("only mine".into()),
                rev: rev(3),
            }),
            Record::Note(NoteRecord {
                id,
                note: None,
                rev: rev(4),
            }),
            Record::Name(NameRecord {
                name: "Alex".into(),
                rev: rev(5),
            }),
            Record::Goal(GoalRecord {
                practice: "appreciation".into(),
                goal: Goal::PerWeek(3),
                retired: false,
                rev: rev(6),
            }),
            Record::Practice(PracticeRecord {
                id: "read-aloud".into(),
                about: "read to each other".into(),
                goal: Goal::None,
                rev: rev(7),
            }),
            Record::Undo(OpMark {
                op: "op-1".into(),
                rev: rev(8),
            }),
            Record::Redo(OpMark {
                op: "op-1".into(),
                rev: rev(9),
            }),
            Record::Seen(SeenRecord {
                logs: BTreeMap::from([("0123456789abcdef0123456789abcdef".into(), (12, hex(1)))]),
                rev: rev(10),
            }),
            Record::Device(DeviceRecord {
                device: device_id_of(&hex(2)),
                key: hex(2),
                role: Role::Partner,
                journal: "0190c0de-7f3a-7c41-9b2e-5d4f3a2b1c0d".into(),
            }),
            Record::Leave(LeaveRecord {
                device: "0123456789abcdef0123456789abcdef".into(),
                last_seq: 40,
                last_hash: hex(3),
            }),
        ]
    }

    #[test]
    fn a_device_line_binds_the_id_to_its_key() {
        let record = |device: String| {
            Record::Device(DeviceRecord {
                device,
                key: hex(2),
                role: Role::Mine,
                journal: "j-1".into(),
            })
        };
        assert!(record(device_id_of(&hex(2))).check().is_ok());
        let err = record(device_id_of(&hex(3))).check().unwrap_err();
        assert!(err.contains("does not belong"), "{err}");
    }

    #[test]
    fn records_round_trip_through_their_json() {
        for record in one_of_each() {
            let text = record.to_json();
            assert_eq!(Record::parse(&text), Ok(record.clone()), "{text}");
            assert!(record.check().is_ok(), "{text}");
        }
    }

    #[test]
    fn an_entry_reads_as_the_protocol_writes_it() {
        let text = r#"{"t":"entry","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d","practice":"repair","day":"2026-11-27","at":"2026-11-27T21:14:03+01:00","took":135,"h":"abababababababababababababababababababababababababababababababab","rev":{"ms":1795780800000,"c":0}}"#;
        assert_eq!(Record::parse(text).unwrap().to_json(), text);
        let note = r#"{"t":"note","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d","note":null,"rev":{"ms":4,"c":0}}"#;
        assert_eq!(Record::parse(note).unwrap().to_json(), note);
    }

    #[test]
    fn a_record_never_names_its_owner() {
        for text in [
            r#"{"t":"name","name":"Alex","rev":{"ms":1,"c":0},"author":"sam"}"#,
            r#"{"t":"name","name":"Alex","rev":{"ms":1,"c":0},"by":"sam"}"#,
            r#"{"t":"remove","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d","rev":{"ms":1,"c":0,"by":"sam"}}"#,
            r#"{"t":"goal","practice":"date","goal":"daily","rev":{"ms":1,"c":0},"person":"sam"}"#,
        ] {
            let why = Record::parse(text).unwrap_err();
            assert!(why.contains("unknown field"), "{text}: {why}");
        }
    }

    #[test]
    fn an_unknown_kind_does_not_read() {
        for text in [
            r#"{"t":"mood","rev":{"ms":1,"c":0}}"#,
            r#"{"rev":{"ms":1,"c":0}}"#,
            r#"{"t":"entry","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d","kind":"blame","practice":"repair","day":"2026-11-27","at":"2026-11-27T21:14:03+01:00","rev":{"ms":1,"c":0}}"#,
        ] {
            assert!(Record::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn hashes_and_keys_have_one_spelling() {
        let lower = "ab".repeat(32);
        assert_eq!(Hex32::parse(&lower), Some(hex(0xab)));
        assert_eq!(hex(0xab).to_string(), lower);
        for bad in [
            "AB".repeat(32),
            "ab".repeat(31),
            "ab".repeat(33),
            "zz".repeat(32),
        ] {
            assert_eq!(Hex32::parse(&bad), None, "{bad}");
        }
    }

    #[test]
    fn a_revs_last_day_is_its_date_in_utc_plus_14() {
        // 2026-11-27T09:59:59.999Z is still the 27th in UTC+14; a moment later is the 28th.
        let ten = NOON - 2 * 3_600_000;
        assert_eq!(rev(ten - 1).latest_day(), "2026-11-27".parse().ok());
        assert_eq!(rev(ten).latest_day(), "2026-11-28".parse().ok());
        assert_eq!(rev(u64::MAX).latest_day(), None);
    }

    #[test]
    fn limits_are_decided_by_the_record_alone() {
        let with = |change: &dyn Fn(&mut EntryRecord)| {
            let mut e = entry("appreciation", "2026-11-27");
            change(&mut e);
            Record::Entry(e)
        };
        let practice = |id: &str, about: &str| {
            Record::Practice(PracticeRecord {
                id: id.into(),
                about: about.into(),
                goal: Goal::Daily,
                rev: rev(1),
            })
        };
        let table: Vec<(Record, bool)> = vec![
            (with(&|_| {}), true),
            // The rev is noon UTC on the 27th: the 28th has begun in UTC+14.
            (with(&|e| e.day = "2026-11-28".parse().unwrap()), true),
            (with(&|e| e.day = "2026-11-29".parse().unwrap()), false),
            (with(&|e| e.day = "1899-12-31".parse().unwrap()), false),
            (with(&|e| e.rev = rev(u64::MAX)), false),
            (with(&|e| e.practice = "hug;touch pwned;#".into()), false),
            (with(&|e| e.practice = "*".into()), false),
            (with(&|e| e.took = Some(0)), false),
            (with(&|e| e.took = Some(43_200)), true),
            (with(&|e| e.took = Some(43_201)), false),
            (with(&|e| e.until = "2026-11-27".parse().ok()), false),
            (
                with(&|e| {
                    e.kind = Kind::Pause;
                    e.practice = "*".into();
                    // 366 days after the rev's own last day, the 28th.
                    e.until = "2027-11-29".parse().ok();
                }),
                true,
            ),
            (
                with(&|e| {
                    e.kind = Kind::Pause;
                    e.until = "2027-11-30".parse().ok();
                }),
                false,
            ),
            (with(&|e| e.kind = Kind::Pause), false),
            (with(&|e| e.card = Some("connect-07".into())), false),
            (
                with(&|e| {
                    e.practice = "card".into();
                    e.card = Some("connect-07".into());
                }),
                true,
            ),
            (
                with(&|e| {
                    e.practice = "card".into();
                    e.card = Some("$(reboot)".into());
                }),
                false,
            ),
            (
                Record::Note(NoteRecord {
                    id: EntryId::nil(),
                    note: Some("é".repeat(4000)),
                    rev: rev(1),
                }),
                true,
            ),
            (
                Record::Note(NoteRecord {
                    id: EntryId::nil(),
                    note: Some("x".repeat(4001)),
                    rev: rev(1),
                }),
                false,
            ),
            (
                Record::Name(NameRecord {
                    name: " Alex".into(),
                    rev: rev(1),
                }),
                false,
            ),
            (
                Record::Name(NameRecord {
                    name: "a\u{202e}b".into(),
                    rev: rev(1),
                }),
                false,
            ),
            (
                Record::Goal(GoalRecord {
                    practice: "../x".into(),
                    goal: Goal::Daily,
                    retired: true,
                    rev: rev(1),
                }),
                false,
            ),
            (practice("read-aloud", ""), true),
            (practice("repair", "mine now"), false),
            (practice("read-aloud", &"x".repeat(201)), false),
            (
                Record::Undo(OpMark {
                    op: "op 1\n".into(),
                    rev: rev(1),
                }),
                false,
            ),
            (
                Record::Seen(SeenRecord {
                    logs: BTreeMap::from([("../../etc".into(), (1, hex(0)))]),
                    rev: rev(1),
                }),
                false,
            ),
            (
                Record::Leave(LeaveRecord {
                    device: "0123456789ABCDEF0123456789ABCDEF".into(),
                    last_seq: 1,
                    last_hash: hex(0),
                }),
                false,
            ),
        ];
        for (record, ok) in &table {
            assert_eq!(
                record.check().is_ok(),
                *ok,
                "{record:?}: {:?}",
                record.check()
            );
        }
    }

    #[test]
    fn ticks_never_go_backwards() {
        let mut clock = Clock::default();
        let a = clock.tick(1000);
        let b = clock.tick(1000);
        let c = clock.tick(900); // the wall clock went back
        let d = clock.tick(2000);
        assert!(a < b && b < c && c < d);
        assert_eq!(c, Rev { ms: 1000, c: 2 });
        assert_eq!(d, Rev { ms: 2000, c: 0 });
        clock.observe(Rev { ms: 5000, c: 7 });
        assert_eq!(clock.tick(3000), Rev { ms: 5000, c: 8 });
        assert_eq!(clock.now_ms(3000), 5000);
        assert_eq!(clock.now_ms(6000), 6000);
    }
}
