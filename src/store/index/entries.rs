//! The live entries of a period, read from the index in the order tables
//! list them, one at a time: what `history` needs to show ten years of
//! entries in little memory (DESIGN.md §6), instead of the whole journal.
//!
//! An index on each entry's day (`entries_by_day`) gives a period in day
//! order; the few entries of one day are then put in the order of
//! `journal::view` (moment, then id, then owner). Days are ISO strings,
//! which sort as dates do: every live entry's day lies between 1900 and a
//! year past the clock (the fold rejects any other), four-digit years.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use rusqlite::{OptionalExtension, params};

use super::Index;
use crate::domain::entry::{EntryId, HANDLE_MIN};
use crate::domain::record::EntryRecord;
use crate::error::Result;

pub const SCHEMA: &str = "
-- Entries by day, so that a period is read in order (index/entries.rs).
CREATE INDEX entries_by_day ON versions (json_extract(value, '$.day')) WHERE reg = 'entry';
";

/// How many shown entries look their handles up one by one; past that,
/// one pass over every tail costs less.
const LOOKUPS_AT_MOST: usize = 2048;

/// One live entry as the index holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub owner: String,
    pub record: EntryRecord,
    /// The shared note its winning version carries.
    pub shared: Option<String>,
    /// My unshared note of it (from my private log), for my own entries.
    pub unshared: Option<String>,
}

/// A read of the index that sees one state of it from its first query to
/// its last, even while another process writes (SQLite keeps the
/// snapshot), so that two passes over a period see the same entries.
pub struct Snapshot<'a> {
    index: &'a Index,
    _read: rusqlite::Transaction<'a>,
}

impl Index {
    /// Start a [`Snapshot`].
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        let read = self.db.unchecked_transaction().map_err(|e| self.fail(e))?;
        Ok(Snapshot {
            index: self,
            _read: read,
        })
    }
}

impl Snapshot<'_> {
    /// Each live entry with a day from `from` to `to` (`None`: no end),
    /// by day, moment, id and owner, as `journal::view` orders them. With
    /// `notes_of: Some(me)` each comes with its shared note and, for my
    /// entries, my unshared note; with `None`, without notes.
    pub fn entries(
        &self,
        from: NaiveDate,
        to: Option<NaiveDate>,
        notes_of: Option<&str>,
        mut each: impl FnMut(Listed) -> Result<()>,
    ) -> Result<()> {
        // A period that starts past every day holds nothing.
        let Some(low) = key(from) else {
            return Ok(());
        };
        let high = to
            .and_then(|t| t.succ_opt())
            .and_then(key)
            .unwrap_or_else(|| AFTER_EVERY_DAY.to_string());
        let sql = match notes_of {
            Some(_) => {
                "SELECT e.owner, e.value, e.note, n.value FROM versions AS e INDEXED BY entries_by_day
                 LEFT JOIN versions AS n
                   ON n.reg = 'note' AND n.owner = e.owner AND n.key = e.key AND e.owner = ?3
                 WHERE e.reg = 'entry'
                   AND json_extract(e.value, '$.day') >= ?1 AND json_extract(e.value, '$.day') < ?2
                 ORDER BY json_extract(e.value, '$.day')"
            }
            None => {
                "SELECT e.owner, e.value, NULL, NULL FROM versions AS e INDEXED BY entries_by_day
                 WHERE e.reg = 'entry'
                   AND json_extract(e.value, '$.day') >= ?1 AND json_extract(e.value, '$.day') < ?2
                 ORDER BY json_extract(e.value, '$.day')"
            }
        };
        let fail = |e| self.index.fail(e);
        let mut statement = self.index.db.prepare_cached(sql).map_err(fail)?;
        let mut rows = match notes_of {
            Some(me) => statement.query(params![low, high, me]),
            None => statement.query(params![low, high]),
        }
        .map_err(fail)?;
        // One day's entries, put in order when the next day starts.
        let mut day: Vec<(DateTime<FixedOffset>, EntryId, Listed)> = Vec::new();
        let mut flush = |day: &mut Vec<(DateTime<FixedOffset>, EntryId, Listed)>| -> Result<()> {
            day.sort_by(|a, b| (a.0, a.1, &a.2.owner).cmp(&(b.0, b.1, &b.2.owner)));
            day.drain(..).try_for_each(|(_, _, listed)| each(listed))
        };
        while let Some(row) = rows.next().map_err(fail)? {
            let value: String = row.get(1).map_err(fail)?;
            let Ok(Some(record)) = serde_json::from_str::<Option<EntryRecord>>(&value) else {
                continue;
            };
            if day
                .first()
                .is_some_and(|(_, _, d)| d.record.day != record.day)
            {
                flush(&mut day)?;
            }
            let unshared: Option<String> = row.get(3).map_err(fail)?;
            let listed = Listed {
                owner: row.get(0).map_err(fail)?,
                shared: row
                    .get::<_, Option<String>>(2)
                    .map_err(fail)?
                    .filter(|n| !n.is_empty()),
                unshared: unshared
                    .and_then(|v| serde_json::from_str::<Option<String>>(&v).ok().flatten()),
                record,
            };
            day.push((listed.record.at, listed.record.id, listed));
        }
        flush(&mut day)
    }

    /// The length of each shown entry's handle: the handles
    /// `domain::entry::handles` gives `shown` with every other live
    /// entry's id beside them, so that each is unique in the journal.
    pub fn handle_lengths(&self, shown: &[EntryId]) -> Result<Vec<usize>> {
        let mut counts: Vec<u64> = shown.iter().map(tail_number).collect();
        counts.sort_unstable();
        let twice = |tail: u64| {
            let at = counts.partition_point(|t| *t < tail);
            counts.get(at + 1) == Some(&tail)
        };
        let near = match shown.len() <= LOOKUPS_AT_MOST {
            true => self.near_by_lookup(shown)?,
            false => self.near_by_scan(shown)?,
        };
        Ok(shown
            .iter()
            .zip(near)
            .map(|(id, near)| {
                // An id shown twice (two people's entries with one id), or
                // another id with the same tail, needs the whole tail.
                let shared = match twice(tail_number(id)) || near.same_tail {
                    true => TAIL_DIGITS,
                    false => near.shared,
                };
                (shared + 1).clamp(HANDLE_MIN, TAIL_DIGITS)
            })
            .collect())
    }

    /// [`Near`] of each id, asked of the `tails` table one id at a time.
    fn near_by_lookup(&self, shown: &[EntryId]) -> Result<Vec<Near>> {
        let fail = |e| self.index.fail(e);
        let db = &self.index.db;
        shown
            .iter()
            .map(|id| {
                let tail = crate::domain::entry::id_tail(id);
                let shared = super::days::shared_start(db, &tail).map_err(fail)?;
                let same_tail = db
                    .prepare_cached("SELECT 1 FROM tails WHERE tail = ?1 AND id != ?2 LIMIT 1")
                    .and_then(|mut s| {
                        s.query_row(params![tail, id.to_string()], |_| Ok(()))
                            .optional()
                    })
                    .map_err(fail)?
                    .is_some();
                Ok(Near { shared, same_tail })
            })
            .collect()
    }

    /// [`Near`] of each id, from one pass over every live entry's id.
    fn near_by_scan(&self, shown: &[EntryId]) -> Result<Vec<Near>> {
        let fail = |e| self.index.fail(e);
        let mut all: Vec<(u64, u128)> = self
            .index
            .db
            .prepare("SELECT id FROM tails")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, String>(0))?
                    .filter_map(|id| match id {
                        Ok(id) => id.parse::<EntryId>().ok().map(Ok),
                        Err(e) => Some(Err(e)),
                    })
                    .map(|id| id.map(|id| (tail_number(&id), id.as_u128())))
                    .collect()
            })
            .map_err(fail)?;
        all.sort_unstable();
        Ok(shown
            .iter()
            .map(|id| {
                let tail = tail_number(id);
                let start = all.partition_point(|(t, _)| *t < tail);
                let end = all.partition_point(|(t, _)| *t <= tail);
                let same_tail = all[start..end].iter().any(|(_, o)| *o != id.as_u128());
                let before = start.checked_sub(1).map(|at| all[at].0);
                let after = all.get(end).map(|(t, _)| *t);
                let shared = [before, after]
                    .into_iter()
                    .flatten()
                    .map(|other| common_digits(tail, other))
                    .max()
                    .unwrap_or(0);
                Near { shared, same_tail }
            })
            .collect())
    }
}

/// What a shown id's handle depends on besides the other shown ids.
struct Near {
    /// Hex digits its tail shares with the nearest other tails, below and
    /// above it, of live entries.
    shared: usize,
    /// Another live entry's different id has the very same tail.
    same_tail: bool,
}

/// The hex digits of an id's random tail (see `domain::entry::id_tail`).
const TAIL_DIGITS: usize = 15;

/// An id's tail as a number: its last [`TAIL_DIGITS`] hex digits.
fn tail_number(id: &EntryId) -> u64 {
    (id.as_u128() & ((1u128 << (4 * TAIL_DIGITS)) - 1)) as u64
}

/// How many leading hex digits two tails share.
fn common_digits(a: u64, b: u64) -> usize {
    let unused = 64 - 4 * TAIL_DIGITS as u32;
    match a ^ b {
        0 => TAIL_DIGITS,
        x => ((x.leading_zeros() - unused) / 4) as usize,
    }
}

/// After every day a live entry can have, as a key.
const AFTER_EVERY_DAY: &str = "9999-99-99";

/// The key `day` is compared by: its ISO form; the empty string for days
/// before every key, `None` for days after them.
fn key(day: NaiveDate) -> Option<String> {
    match day.year() {
        ..1000 => Some(String::new()),
        10000.. => None,
        _ => Some(day.format("%Y-%m-%d").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_digits_count_hex_digits_from_the_left() {
        assert_eq!(
            common_digits(0x1234_5678_9abc_def, 0x1234_5678_9abc_def),
            15
        );
        assert_eq!(
            common_digits(0x1234_5678_9abc_def, 0x1234_5678_9abc_dee),
            14
        );
        assert_eq!(common_digits(0x1234_5678_9abc_def, 0x0234_5678_9abc_def), 0);
        assert_eq!(common_digits(0x1234_5678_9abc_def, 0x1334_5678_9abc_def), 1);
    }

    #[test]
    fn keys_are_iso_days_or_the_ends_of_the_keys() {
        let day = |s: &str| s.parse::<NaiveDate>().unwrap();
        assert_eq!(key(day("2026-12-01")).as_deref(), Some("2026-12-01"));
        assert_eq!(key(day("0999-01-01")).as_deref(), Some(""));
        assert_eq!(key(NaiveDate::MIN).as_deref(), Some(""));
        assert_eq!(key(NaiveDate::MAX), None);
        assert!(key(day("9999-12-31")).unwrap().as_str() < AFTER_EVERY_DAY);
    }
}
