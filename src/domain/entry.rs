//! Entries: one practice done (or a day skipped, or a pause), by the person
//! who did it. The on-disk shape is part of the contract (DESIGN.md §3).

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::rev::Rev;

pub type EntryId = Uuid;

/// What an entry records. Plain practice entries leave the field out on
/// disk, so their JSON is exactly the entry of DESIGN.md §3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// The practice was done.
    #[default]
    Log,
    /// The day was skipped on purpose: it bridges the streak.
    Skip,
    /// A run of days (`day` to `until`) paused, for one practice or all (`*`).
    Pause,
}

impl Kind {
    pub fn is_log(&self) -> bool {
        *self == Kind::Log
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Log => "log",
            Kind::Skip => "skip",
            Kind::Pause => "pause",
        }
    }
}

/// The practice id a pause uses when it covers every practice.
pub const ALL_PRACTICES: &str = "*";

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub id: EntryId,
    #[serde(default, skip_serializing_if = "Kind::is_log")]
    pub kind: Kind,
    pub practice: String,
    pub day: NaiveDate,
    /// Last day of a pause (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    pub at: DateTime<FixedOffset>,
    pub author: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub took_minutes: Option<u32>,
    pub rev: Rev,
    #[serde(default)]
    pub deleted: bool,
    /// Fields written by a newer safe: kept as they are on rewrite.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Entries are read by hand rather than derived: serde's `flatten` (for the
/// unknown fields) buffers every entry into an intermediate tree first, which
/// made reading a month several times slower. This reads each field straight
/// into place and keeps whatever it does not know.
impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(EntryVisitor)
    }
}

struct EntryVisitor;

impl<'de> serde::de::Visitor<'de> for EntryVisitor {
    type Value = Entry;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an entry (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        use serde::de::Error;
        let (mut id, mut kind, mut practice, mut day, mut until, mut at) =
            (None, None, None, None, None, None);
        let (mut author, mut note, mut took_minutes, mut rev, mut deleted) =
            (None, None, None, None, None);
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "id" => id = Some(map.next_value()?),
                "kind" => kind = Some(map.next_value()?),
                "practice" => practice = Some(map.next_value()?),
                "day" => day = Some(map.next_value()?),
                "until" => until = map.next_value()?,
                "at" => at = Some(map.next_value()?),
                "author" => author = Some(map.next_value()?),
                "note" => note = map.next_value()?,
                "took_minutes" => took_minutes = map.next_value()?,
                "rev" => rev = Some(map.next_value()?),
                "deleted" => deleted = Some(map.next_value()?),
                other => {
                    extra.insert(other.to_string(), map.next_value()?);
                }
            }
        }
        Ok(Entry {
            id: id.ok_or_else(|| A::Error::missing_field("id"))?,
            kind: kind.unwrap_or_default(),
            practice: practice.ok_or_else(|| A::Error::missing_field("practice"))?,
            day: day.ok_or_else(|| A::Error::missing_field("day"))?,
            until,
            at: at.ok_or_else(|| A::Error::missing_field("at"))?,
            author: author.ok_or_else(|| A::Error::missing_field("author"))?,
            note,
            took_minutes,
            rev: rev.ok_or_else(|| A::Error::missing_field("rev"))?,
            deleted: deleted.unwrap_or(false),
            extra,
        })
    }
}

impl Entry {
    /// A new entry with a fresh UUIDv7 id, made by `author` at `at`.
    pub fn new(
        kind: Kind,
        practice: &str,
        day: NaiveDate,
        at: DateTime<FixedOffset>,
        author: &str,
        rev: Rev,
    ) -> Self {
        Entry {
            id: Uuid::now_v7(),
            kind,
            practice: practice.to_string(),
            day,
            until: None,
            at,
            author: author.to_string(),
            note: None,
            took_minutes: None,
            rev,
            deleted: false,
            extra: Map::new(),
        }
    }

    /// Days this entry covers: one for a log or skip, the range for a pause.
    pub fn days(&self) -> impl Iterator<Item = NaiveDate> + use<> {
        let last = self.until.unwrap_or(self.day).max(self.day);
        self.day.iter_days().take_while(move |d| *d <= last)
    }
}

/// The shortest length a handle has.
pub const HANDLE_MIN: usize = 4;

/// Where an id's random part starts in its 32 hex digits: after the
/// timestamp, the version, `rand_a` and the variant digit. Entries made in
/// the same minute share their leading digits; their random tails do not.
const TAIL_START: usize = 17;

/// The part of an id that handles are cut from: its last 15 hex digits,
/// which are random (or, for an adopted id, a hash).
pub fn id_tail(id: &EntryId) -> String {
    id.simple().to_string()[TAIL_START..].to_string()
}

/// For each id, its handle: the shortest start of its random tail (at
/// least [`HANDLE_MIN`] digits) that no other id in `ids` shares. With a
/// journal of 100,000 entries nearly every handle has 8 digits or fewer.
pub fn handles(ids: &[EntryId]) -> Vec<String> {
    let mut order: Vec<(String, usize)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id_tail(id), i))
        .collect();
    order.sort();
    let mut out = vec![String::new(); ids.len()];
    for (pos, (tail, index)) in order.iter().enumerate() {
        let common = |other: Option<&(String, usize)>| {
            other.map_or(0, |(o, _)| {
                tail.bytes()
                    .zip(o.bytes())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
        };
        let shared =
            common(pos.checked_sub(1).and_then(|p| order.get(p))).max(common(order.get(pos + 1)));
        let len = (shared + 1).clamp(HANDLE_MIN, tail.len());
        out[*index] = tail[..len].to_string();
    }
    out
}

/// The id an imported entry of someone else's gets when `adopter` takes it
/// as their own: the original's timestamp (so it sorts and abbreviates like
/// it), the rest a hash of the original id and the adopter. Never the
/// original, so the other person's entry cannot be overwritten; always the
/// same, so importing the same file twice adds nothing.
pub fn adopted_id(original: &EntryId, adopter: &str) -> EntryId {
    fn fnv(seed: u64, parts: &[&[u8]]) -> u64 {
        let mut hash = 0xcbf2_9ce4_8422_2325_u64 ^ seed;
        for byte in parts.iter().flat_map(|p| p.iter()) {
            hash ^= u64::from(*byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        hash
    }
    let parts: [&[u8]; 2] = [original.as_bytes(), adopter.as_bytes()];
    let mut bytes = *original.as_bytes();
    let tail = [fnv(1, &parts).to_be_bytes(), fnv(2, &parts).to_be_bytes()].concat();
    bytes[6..].copy_from_slice(&tail[..10]);
    bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    Uuid::from_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        serde_json::from_str(
            r#"{
  "id": "019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d",
  "practice": "repair",
  "day": "2026-11-27",
  "at": "2026-11-27T21:14:03+01:00",
  "author": "4c1f",
  "note": "only present when shared",
  "took_minutes": 135,
  "rev": {"ms": 1795810443000, "c": 0, "by": "4c1f"},
  "deleted": false
}"#,
        )
        .unwrap()
    }

    #[test]
    fn reads_the_design_example() {
        let e = sample();
        assert_eq!(e.practice, "repair");
        assert_eq!(e.took_minutes, Some(135));
        assert_eq!(e.kind, Kind::Log);
        assert!(e.extra.is_empty());
    }

    #[test]
    fn writes_plain_entries_without_kind_or_until() {
        let text = serde_json::to_string(&sample()).unwrap();
        assert!(!text.contains("kind"));
        assert!(!text.contains("until"));
    }

    #[test]
    fn keeps_unknown_fields() {
        let mut value: Value = serde_json::to_value(sample()).unwrap();
        value["mood"] = Value::from("calm");
        let e: Entry = serde_json::from_value(value).unwrap();
        let back = serde_json::to_value(&e).unwrap();
        assert_eq!(back["mood"], "calm");
    }

    proptest::proptest! {
        /// Any note (unicode, newlines, quotes, control characters) and any
        /// unknown field survive the trip to the file's text and back.
        #[test]
        fn entries_round_trip_through_json(
            note in proptest::option::of(".*"),
            took in proptest::option::of(0u32..600_000),
            extra in proptest::collection::btree_map("[a-z_]{1,8}", ".*", 0..3),
            deleted in proptest::bool::ANY,
        ) {
            let mut e = sample();
            e.note = note;
            e.took_minutes = took;
            e.deleted = deleted;
            for (key, value) in extra {
                let known = ["id", "kind", "practice", "day", "until", "at", "author", "note", "took_minutes", "rev", "deleted"];
                if !known.contains(&key.as_str()) {
                    e.extra.insert(key, Value::from(value));
                }
            }
            let text = serde_json::to_string_pretty(&e).unwrap();
            let back: Entry = serde_json::from_str(&text).unwrap();
            proptest::prop_assert_eq!(back, e);
        }
    }

    #[test]
    fn adopted_ids_are_new_stable_and_keep_the_time() {
        let e = sample();
        let a = adopted_id(&e.id, "me");
        assert_ne!(a, e.id);
        assert_eq!(a, adopted_id(&e.id, "me"));
        assert_ne!(a, adopted_id(&e.id, "someone else"));
        assert_eq!(a.get_version_num(), 7);
        assert_eq!(&a.as_bytes()[..6], &e.id.as_bytes()[..6]);
    }

    #[test]
    fn a_pause_covers_its_days() {
        let mut e = sample();
        e.kind = Kind::Pause;
        e.until = NaiveDate::from_ymd_opt(2026, 11, 29);
        assert_eq!(e.days().count(), 3);
    }
}
