//! The days of every live entry, kept beside the winning versions so that
//! `today`, `stats`, `calendar` and the streak line of `log` read a few
//! small blobs instead of every entry (DESIGN.md §6).
//!
//! One row per owner, kind and practice; its blob is the sorted list of
//! that group's entries as pairs of little-endian `i32`: the day (days
//! from the common era) and one more number: the minutes a repair took
//! (-1 for none), or a pause's last day. Entries that read alike are
//! interchangeable here, so a replaced version takes away one equal pair.
//! The index keeps the table in step with `versions` in the transaction
//! that changes a winner; like the rest of the index it is derived.

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::domain::entry::Kind;
use crate::domain::record::EntryRecord;
use crate::domain::summary::{DayIndex, Pause, REPAIR, Repair};

pub const SCHEMA: &str = "
CREATE TABLE days (
  owner TEXT NOT NULL, kind INTEGER NOT NULL, practice TEXT NOT NULL, blob BLOB NOT NULL,
  PRIMARY KEY (owner, kind, practice)
);
-- The random tail of each live entry's id (see domain::entry::handles).
CREATE TABLE tails (
  tail TEXT NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (tail, owner)
);
";

type Pair = (i32, i32);
type Group = (String, u8, String);

/// What one transaction changes in `days`: pairs to add and to take away,
/// by group, written once at the end.
#[derive(Default)]
pub struct Delta {
    groups: BTreeMap<Group, (Vec<Pair>, Vec<Pair>)>,
}

impl Delta {
    /// The entry of `owner` whose winning version went from `old` to
    /// `new` (`None`: not live).
    pub fn replace(
        &mut self,
        tx: &Transaction<'_>,
        owner: &str,
        old: Option<&EntryRecord>,
        new: Option<&EntryRecord>,
    ) -> rusqlite::Result<()> {
        if let Some(old) = old {
            let (group, pair) = row(owner, old);
            self.groups.entry(group).or_default().1.push(pair);
        }
        if let Some(new) = new {
            let (group, pair) = row(owner, new);
            self.groups.entry(group).or_default().0.push(pair);
        }
        match (old, new) {
            (Some(old), None) => {
                tx.execute(
                    "DELETE FROM tails WHERE tail = ?1 AND owner = ?2",
                    params![tail(old), owner],
                )?;
            }
            (None, Some(new)) => {
                tx.execute(
                    "INSERT OR REPLACE INTO tails (tail, owner, id) VALUES (?1, ?2, ?3)",
                    params![tail(new), owner, new.id.to_string()],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Write every changed group.
    pub fn flush(self, tx: &Transaction<'_>) -> rusqlite::Result<()> {
        for ((owner, kind, practice), (add, take)) in self.groups {
            let blob: Option<Vec<u8>> = tx
                .query_row(
                    "SELECT blob FROM days WHERE owner = ?1 AND kind = ?2 AND practice = ?3",
                    params![owner, kind, practice],
                    |r| r.get(0),
                )
                .optional()?;
            // Added first: a version may come and go in one transaction.
            let mut pairs = blob.map_or_else(Vec::new, |b| decode(&b));
            pairs.extend(add);
            for gone in take {
                if let Some(at) = pairs.iter().position(|p| *p == gone) {
                    pairs.swap_remove(at);
                }
            }
            pairs.sort_unstable();
            if pairs.is_empty() {
                tx.execute(
                    "DELETE FROM days WHERE owner = ?1 AND kind = ?2 AND practice = ?3",
                    params![owner, kind, practice],
                )?;
            } else {
                tx.execute(
                    "INSERT OR REPLACE INTO days (owner, kind, practice, blob) VALUES (?1, ?2, ?3, ?4)",
                    params![owner, kind, practice, encode(&pairs)],
                )?;
            }
        }
        Ok(())
    }
}

/// The days of everyone's live entries, as `journal::view` makes them from
/// every entry.
pub fn day_index(db: &rusqlite::Connection) -> rusqlite::Result<DayIndex> {
    let mut index = DayIndex::default();
    let mut rows = db.prepare("SELECT owner, kind, practice, blob FROM days")?;
    let mut query = rows.query([])?;
    while let Some(r) = query.next()? {
        let owner: String = r.get(0)?;
        let kind: u8 = r.get(1)?;
        let practice: String = r.get(2)?;
        let blob: Vec<u8> = r.get(3)?;
        let person = index.people.entry(owner).or_default();
        let pairs = decode(&blob);
        let dates = pairs.iter().filter_map(|(d, x)| Some((date(*d)?, *x)));
        match kind_of(kind) {
            Kind::Log => {
                let repair = practice == REPAIR;
                let tally = person.logged.entry(practice).or_default();
                for (day, extra) in dates {
                    tally.add(day, 1);
                    if repair {
                        person.repairs.push(Repair {
                            day,
                            took_minutes: u32::try_from(extra).ok(),
                        });
                    }
                }
            }
            Kind::Skip => person
                .skipped
                .entry(practice)
                .or_default()
                .extend(dates.map(|(d, _)| d)),
            Kind::Pause => {
                for (from, until) in dates {
                    person.paused.push(Pause {
                        practice: practice.clone(),
                        from,
                        until: date(until).unwrap_or(from).max(from),
                    });
                }
            }
        }
    }
    for person in index.people.values_mut() {
        person.finish();
    }
    Ok(index)
}

/// The handle length `id`'s tail needs: one more than the longest start it
/// shares with another live entry's tail (see `domain::entry::handles`).
pub fn shared_start(db: &rusqlite::Connection, tail: &str) -> rusqlite::Result<usize> {
    let near = |sql: &str| -> rusqlite::Result<usize> {
        let other: Option<String> = db.query_row(sql, [tail], |r| r.get(0)).optional()?;
        Ok(other.map_or(0, |o| {
            o.bytes()
                .zip(tail.bytes())
                .take_while(|(a, b)| a == b)
                .count()
        }))
    };
    Ok(
        near("SELECT tail FROM tails WHERE tail < ?1 ORDER BY tail DESC LIMIT 1")?.max(near(
            "SELECT tail FROM tails WHERE tail > ?1 ORDER BY tail LIMIT 1",
        )?),
    )
}

fn row(owner: &str, e: &EntryRecord) -> (Group, Pair) {
    let day = e.day.num_days_from_ce();
    let extra = match e.kind {
        Kind::Log => e.took.and_then(|t| i32::try_from(t).ok()).unwrap_or(-1),
        Kind::Skip => -1,
        Kind::Pause => e.until.unwrap_or(e.day).max(e.day).num_days_from_ce(),
    };
    let group = (owner.to_string(), kind_code(e.kind), e.practice.clone());
    (group, (day, extra))
}

fn tail(e: &EntryRecord) -> String {
    crate::domain::entry::id_tail(&e.id)
}

fn kind_code(kind: Kind) -> u8 {
    match kind {
        Kind::Log => 0,
        Kind::Skip => 1,
        Kind::Pause => 2,
    }
}

fn kind_of(code: u8) -> Kind {
    match code {
        1 => Kind::Skip,
        2 => Kind::Pause,
        _ => Kind::Log,
    }
}

fn date(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days)
}

fn encode(pairs: &[Pair]) -> Vec<u8> {
    let mut out = Vec::with_capacity(pairs.len() * 8);
    for (a, b) in pairs {
        out.extend_from_slice(&a.to_le_bytes());
        out.extend_from_slice(&b.to_le_bytes());
    }
    out
}

fn decode(blob: &[u8]) -> Vec<Pair> {
    blob.chunks_exact(8)
        .map(|c| {
            let a = i32::from_le_bytes(c[..4].try_into().expect("four bytes"));
            let b = i32::from_le_bytes(c[4..].try_into().expect("four bytes"));
            (a, b)
        })
        .collect()
}
