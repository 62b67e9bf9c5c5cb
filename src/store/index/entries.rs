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

/// Made with the tables, or after a bulk build has filled them.
pub const INDEXES: &str = "
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
    /// A [`Snapshot`] of the index as it is now.
    pub fn snapshot(&self) -> Result<Snapshot<'_>> {
        let read = self.db.unchecked_transaction().map_err(|e| self.fail(e))?;
        // SQLite takes the snapshot at the first read, not at BEGIN.
        self.db
            .query_row("SELECT count(*) FROM meta", [], |_| Ok(()))
            .map_err(|e| self.fail(e))?;
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
#[derive(Debug, PartialEq, Eq)]
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
    use proptest::prelude::*;

    use super::*;
    use crate::domain::fold::{Line, fold};
    use crate::journal::view::{View, item_of};

    const NOON: u64 = 1_795_780_800_000; // 2026-11-27T12:00:00Z
    const OWNERS: [(&str, &str); 2] = [
        ("me", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ("sam", "cccccccccccccccccccccccccccccccc"),
    ];

    /// Ids whose tails share starts of every length, so that handles of
    /// many lengths come up; both people may use one id.
    fn id(n: u8) -> EntryId {
        let tail = 0x9b2e5d4f3a2b1c0_u128 ^ (u128::from(n % 8 + 1) << (4 * (2 * n % 15)));
        EntryId::from_u128((0x019ac0de7f3a7c419_u128 << 60) | tail)
    }

    /// One line: an entry (on one of four days, at one of a few moments,
    /// some with a shared note, some private), a removal, or an unshared
    /// note.
    fn line(
        owner: usize,
        seq: u64,
        (k, n, day, at, ms): (u8, u8, u8, u8, u64),
    ) -> (usize, u64, String, Option<String>) {
        let rev = format!(r#""rev":{{"ms":{},"c":0}}"#, NOON + ms);
        let id = id(n);
        let text = match k {
            0..=3 => {
                // Equal moments in two offsets tie, then the id decides.
                let at = match at % 3 {
                    0 => format!("2026-11-2{day}T10:00:00+01:00"),
                    1 => format!("2026-11-2{day}T09:00:00+00:00"),
                    _ => format!("2026-11-2{day}T21:30:00-05:00"),
                };
                let private = if k == 3 { r#","private":true"# } else { "" };
                format!(
                    r#"{{"t":"entry","id":"{id}","practice":"listen","day":"2026-11-2{day}","at":"{at}"{private},{rev}}}"#
                )
            }
            4 => format!(r#"{{"t":"remove","id":"{id}",{rev}}}"#),
            _ => format!(r#"{{"t":"note","id":"{id}","note":"kept {n}",{rev}}}"#),
        };
        let shared = (k == 1).then(|| format!("shared {n}"));
        (owner, seq, text, shared)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The entries of a period, in order and with their notes, and the
        /// handles of any of them, are those the view of the fold gives.
        #[test]
        fn a_period_read_from_the_index_is_the_views(
            spec in proptest::collection::vec(
                (0usize..2, (0u8..6, 0u8..12, 0u8..4, 0u8..3, 0u64..50)),
                0..50,
            ),
            from in 0u8..4,
            days in 0u8..4,
            mine_only in proptest::bool::ANY,
        ) {
            let mut seqs = [0u64; 2];
            let owned: Vec<_> = spec
                .into_iter()
                .map(|(o, l)| {
                    seqs[o] += 1;
                    line(o, seqs[o], l)
                })
                .collect();
            let lines: Vec<Line<'_>> = owned
                .iter()
                .map(|(o, seq, text, shared)| {
                    let (owner, device) = OWNERS[*o];
                    let mut line = Line::read(owner, device, *seq, "op", text);
                    line.note = shared.clone();
                    line
                })
                .collect();
            let dir = tempfile::tempdir().unwrap();
            let mut index = Index::open(&dir.path().join("index.sqlite")).unwrap();
            index.apply(&lines, &[], NOON).unwrap();
            let view = View::new(fold(&lines, NOON), "me");

            let day = |d: u8| NaiveDate::from_ymd_opt(2026, 11, 20 + u32::from(d)).unwrap();
            let (from, to) = (day(from), day(from + days));
            let want: Vec<_> = view
                .items
                .iter()
                .filter(|i| i.entry.day >= from && i.entry.day <= to)
                .map(|i| (i.entry.clone(), i.private, i.shared_note, i.record.clone()))
                .collect();
            let snapshot = index.snapshot().unwrap();
            let mut got = Vec::new();
            snapshot
                .entries(from, Some(to), Some("me"), |l| {
                    let i = item_of(&l.record, &l.owner, "me", l.shared.as_ref(), l.unshared.as_ref());
                    got.push((i.entry, i.private, i.shared_note, i.record));
                    Ok(())
                })
                .unwrap();
            prop_assert_eq!(&got, &want);
            // Without notes: the same entries, in the same order.
            let mut bare = Vec::new();
            snapshot
                .entries(from, Some(to), None, |l| {
                    bare.push((l.owner, l.record));
                    Ok(())
                })
                .unwrap();
            let keys: Vec<_> = want.iter().map(|w| (w.0.author.clone(), w.3.clone())).collect();
            prop_assert_eq!(bare, keys);

            // Handles of what a table shows: all of the period, or mine.
            let shown: Vec<EntryId> = want
                .iter()
                .filter(|w| !mine_only || w.0.author == "me")
                .map(|w| w.0.id)
                .collect();
            let handles: Vec<usize> = view.handles_of(&shown).iter().map(String::len).collect();
            prop_assert_eq!(&snapshot.handle_lengths(&shown).unwrap(), &handles);
            // Looked up one by one or in one pass, the same.
            let lookup = snapshot.near_by_lookup(&shown).unwrap();
            let scan = snapshot.near_by_scan(&shown).unwrap();
            prop_assert_eq!(lookup, scan);
        }
    }

    #[test]
    fn a_period_with_no_end_reaches_the_last_day() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::open(&dir.path().join("index.sqlite")).unwrap();
        let owned = [line(0, 1, (0, 1, 3, 0, 0)), line(0, 2, (0, 2, 0, 0, 1))];
        let lines: Vec<Line<'_>> = owned
            .iter()
            .map(|(_, seq, text, _)| Line::read("me", OWNERS[0].1, *seq, "op", text))
            .collect();
        index.apply(&lines, &[], NOON).unwrap();
        let snapshot = index.snapshot().unwrap();
        let mut days = Vec::new();
        snapshot
            .entries(NaiveDate::MIN, None, None, |l| {
                days.push(l.record.day.to_string());
                Ok(())
            })
            .unwrap();
        assert_eq!(days, ["2026-11-20", "2026-11-23"]);
    }

    #[test]
    fn common_digits_count_hex_digits_from_the_left() {
        assert_eq!(common_digits(0x123456789abcdef, 0x123456789abcdef), 15);
        assert_eq!(common_digits(0x123456789abcdef, 0x123456789abcdee), 14);
        assert_eq!(common_digits(0x123456789abcdef, 0x023456789abcdef), 0);
        assert_eq!(common_digits(0x123456789abcdef, 0x133456789abcdef), 1);
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
