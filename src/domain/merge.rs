//! The merge of two replicas of the shared journal. It is a join: each record
//! is kept once per key and the greater version wins, so merging is
//! commutative, associative and idempotent, and replicas that have seen the
//! same changes hold the same data whatever order they synced in.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::entry::Entry;
use super::month::MonthFile;
use super::person::{PeopleDoc, Person};
use super::practice::{CustomPractice, GoalSetting, PracticesDoc};
use super::rev::Rev;

/// A record that merges by key, the greater version winning.
pub trait Record: Clone + Serialize {
    type Key: Ord;
    fn key(&self) -> Self::Key;
    /// What decides the winner. For entries a tombstone beats any edit, so a
    /// deleted entry never comes back; then the higher `rev` wins.
    fn version(&self) -> (bool, &Rev);
}

impl Record for Entry {
    type Key = uuid::Uuid;
    fn key(&self) -> Self::Key {
        self.id
    }
    fn version(&self) -> (bool, &Rev) {
        (self.deleted, &self.rev)
    }
}

impl Record for Person {
    type Key = String;
    fn key(&self) -> Self::Key {
        self.id.clone()
    }
    fn version(&self) -> (bool, &Rev) {
        (false, &self.rev)
    }
}

impl Record for CustomPractice {
    type Key = String;
    fn key(&self) -> Self::Key {
        self.id.clone()
    }
    fn version(&self) -> (bool, &Rev) {
        (false, &self.rev)
    }
}

impl Record for GoalSetting {
    type Key = (String, String);
    fn key(&self) -> Self::Key {
        (self.person.clone(), self.practice.clone())
    }
    fn version(&self) -> (bool, &Rev) {
        (false, &self.rev)
    }
}

/// Does `a` win over `b`? Equal versions with different contents cannot come
/// from safe itself, but a hand-edited file could hold them: comparing the
/// serialised text keeps even that case the same on every machine.
fn wins<T: Record>(a: &T, b: &T) -> bool {
    match a.version().cmp(&b.version()) {
        std::cmp::Ordering::Greater => true,
        std::cmp::Ordering::Less => false,
        std::cmp::Ordering::Equal => {
            let text = |r: &T| serde_json::to_string(r).unwrap_or_default();
            text(a) > text(b)
        }
    }
}

/// Union by key; where both hold a record, the winner stays.
pub fn merge_records<T: Record>(a: &[T], b: &[T]) -> Vec<T> {
    let mut by_key: BTreeMap<T::Key, &T> = BTreeMap::new();
    for record in a.iter().chain(b) {
        let key = record.key();
        match by_key.get(&key) {
            Some(held) if !wins(record, held) => {}
            _ => {
                by_key.insert(key, record);
            }
        }
    }
    by_key.into_values().cloned().collect()
}

/// Unknown top-level fields: union, the greater value winning on a clash.
fn merge_extra(a: &Map<String, Value>, b: &Map<String, Value>) -> Map<String, Value> {
    let mut out = a.clone();
    for (key, value) in b {
        match out.get(key) {
            Some(held) if serde_json::to_string(held).ok() >= serde_json::to_string(value).ok() => {
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    out
}

impl MonthFile {
    pub fn merge(&self, other: &MonthFile) -> MonthFile {
        let mut merged = MonthFile {
            schema: self.schema.max(other.schema),
            entries: merge_records(&self.entries, &other.entries),
            notes: Vec::new(),
            extra: merge_extra(&self.extra, &other.extra),
        };
        merged.sort();
        merged
    }
}

impl PeopleDoc {
    pub fn merge(&self, other: &PeopleDoc) -> PeopleDoc {
        PeopleDoc {
            schema: self.schema.max(other.schema),
            people: merge_records(&self.people, &other.people),
            extra: merge_extra(&self.extra, &other.extra),
        }
    }
}

impl PracticesDoc {
    pub fn merge(&self, other: &PracticesDoc) -> PracticesDoc {
        PracticesDoc {
            schema: self.schema.max(other.schema),
            practices: merge_records(&self.practices, &other.practices),
            goals: merge_records(&self.goals, &other.goals),
            extra: merge_extra(&self.extra, &other.extra),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, NaiveDate};

    fn entry(id: u128, ms: u64, deleted: bool, note: &str) -> Entry {
        Entry {
            id: uuid::Uuid::from_u128(id),
            kind: Default::default(),
            practice: "repair".into(),
            day: NaiveDate::from_ymd_opt(2026, 11, 27).unwrap(),
            until: None,
            at: DateTime::parse_from_rfc3339("2026-11-27T10:00:00+01:00").unwrap(),
            author: "a".into(),
            note: Some(note.into()),
            took_minutes: None,
            rev: Rev {
                ms,
                c: 0,
                by: "a".into(),
            },
            deleted,
            extra: Map::new(),
        }
    }

    fn month(entries: Vec<Entry>) -> MonthFile {
        MonthFile {
            entries,
            ..Default::default()
        }
    }

    #[test]
    fn union_keeps_both_sides() {
        let a = month(vec![entry(1, 1, false, "x")]);
        let b = month(vec![entry(2, 1, false, "y")]);
        assert_eq!(a.merge(&b).entries.len(), 2);
    }

    #[test]
    fn higher_rev_wins_either_way() {
        let a = month(vec![entry(1, 1, false, "old")]);
        let b = month(vec![entry(1, 2, false, "new")]);
        assert_eq!(a.merge(&b).entries[0].note.as_deref(), Some("new"));
        assert_eq!(b.merge(&a).entries[0].note.as_deref(), Some("new"));
    }

    #[test]
    fn a_tombstone_beats_a_later_edit() {
        let deleted = month(vec![entry(1, 1, true, "")]);
        let edited = month(vec![entry(1, 5, false, "edited")]);
        assert!(deleted.merge(&edited).entries[0].deleted);
        assert!(edited.merge(&deleted).entries[0].deleted);
    }

    #[test]
    fn merging_twice_changes_nothing() {
        let a = month(vec![entry(1, 1, false, "x"), entry(2, 3, true, "")]);
        let b = month(vec![entry(1, 2, false, "y")]);
        let once = a.merge(&b);
        assert_eq!(once.merge(&b), once);
        assert_eq!(once.merge(&once), once);
    }
}
