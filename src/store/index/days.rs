//! The days of every live entry, kept beside the winning versions so that
//! `today`, `stats`, `calendar` and the streak line of `log` read a few
//! small blobs instead of every entry (DESIGN.md §6).
//!
//! One row per owner, kind, practice and year (of the entry's day), so
//! that logging rewrites one small blob, not ten years of a practice; its
//! blob is the sorted list of that group's entries as little-endian numbers: the day (`i32`, days
//! from the common era) and one more `i32`: the minutes a repair took (-1
//! for none), or a pause's last day; repairs also keep when they were
//! logged (`i64` milliseconds and the `i32` offset in seconds), by which
//! both partners' repairs of one day pair up. Entries that read alike are
//! interchangeable here, so a replaced version takes away one equal pair.
//! The index keeps the table in step with `versions` in the transaction
//! that changes a winner; like the rest of the index it is derived.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};
use rusqlite::{OptionalExtension, Transaction, params};

use crate::domain::entry::{ALL_PRACTICES, Kind};
use crate::domain::record::EntryRecord;
use crate::domain::summary::{DayIndex, Pause, REPAIR, Repair};

pub const SCHEMA: &str = "
CREATE TABLE days (
  owner TEXT NOT NULL, kind INTEGER NOT NULL, practice TEXT NOT NULL, year INTEGER NOT NULL,
  blob BLOB NOT NULL,
  PRIMARY KEY (owner, kind, practice, year)
);
-- The random tail of each live entry's id (see domain::entry::handles).
CREATE TABLE tails (
  tail TEXT NOT NULL, owner TEXT NOT NULL, id TEXT NOT NULL,
  PRIMARY KEY (tail, owner)
);
";

/// Day, extra number, and for a repair the moment it was logged.
type Pair = (i32, i32, i64, i32);
type Group = (String, u8, String, i32);

/// What one transaction changes in `days`: pairs to add and to take away,
/// by group, written once at the end.
#[derive(Default)]
pub struct Delta {
    groups: BTreeMap<Group, (Vec<Pair>, Vec<Pair>)>,
    /// Each entry whose winner changed, and whether it is live now.
    touched: BTreeMap<(String, String), bool>,
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
                cached(
                    tx,
                    "DELETE FROM tails WHERE tail = ?1 AND owner = ?2",
                    params![tail(old), owner],
                )?;
            }
            (None, Some(new)) => {
                cached(
                    tx,
                    "INSERT OR REPLACE INTO tails (tail, owner, id) VALUES (?1, ?2, ?3)",
                    params![tail(new), owner, new.id.to_string()],
                )?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Note that `owner`'s entry `id` has a new winner.
    pub fn touch(&mut self, owner: &str, id: &str, live: bool) {
        self.touched
            .insert((owner.to_string(), id.to_string()), live);
    }

    /// Write every changed group; give back the entries touched.
    pub fn flush(self, tx: &Transaction<'_>) -> rusqlite::Result<BTreeMap<(String, String), bool>> {
        for ((owner, kind, practice, year), (add, take)) in self.groups {
            let blob: Option<Vec<u8>> = tx
                .prepare_cached(
                    "SELECT blob FROM days
                     WHERE owner = ?1 AND kind = ?2 AND practice = ?3 AND year = ?4",
                )?
                .query_row(params![owner, kind, practice, year], |r| r.get(0))
                .optional()?;
            super::carries::forget(tx, &owner, kind_of(kind), &practice, year)?;
            // Added first: a version may come and go in one transaction.
            let wide = is_wide(kind, &practice);
            let mut pairs = blob.map_or_else(Vec::new, |b| decode(&b, wide));
            pairs.extend(add);
            for gone in take {
                if let Some(at) = pairs.iter().position(|p| *p == gone) {
                    pairs.swap_remove(at);
                }
            }
            pairs.sort_unstable();
            if pairs.is_empty() {
                cached(
                    tx,
                    "DELETE FROM days WHERE owner = ?1 AND kind = ?2 AND practice = ?3 AND year = ?4",
                    params![owner, kind, practice, year],
                )?;
            } else {
                cached(
                    tx,
                    "INSERT OR REPLACE INTO days (owner, kind, practice, year, blob)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![owner, kind, practice, year, encode(&pairs, wide)],
                )?;
            }
        }
        Ok(self.touched)
    }
}

/// Which days [`day_index`] reads; `Wanted::default()` is everyone's.
#[derive(Debug, Clone, Copy, Default)]
pub struct Wanted<'a> {
    /// One person's alone.
    pub owner: Option<&'a str>,
    /// What one practice's streak needs: its own entries, and pauses of
    /// everything.
    pub practice: Option<&'a str>,
    /// Entries from this year on, and every pause (a pause may begin
    /// years before the days it still covers).
    pub since_year: Option<i32>,
    /// Entries and pauses of this year and before.
    pub until_year: Option<i32>,
}

/// The days of the live entries `wanted`, as `journal::view` makes them
/// from every entry.
pub fn day_index(db: &rusqlite::Connection, wanted: Wanted<'_>) -> rusqlite::Result<DayIndex> {
    let mut index = DayIndex::default();
    // In key order, so that a group's years come one after another and
    // its days stay sorted.
    let mut rows = db.prepare_cached(
        "SELECT owner, kind, practice, blob FROM days
         WHERE (?1 IS NULL OR owner = ?1) AND (?2 IS NULL OR practice = ?2 OR practice = ?3)
           AND (?4 IS NULL OR year >= ?4 OR kind = ?5) AND (?6 IS NULL OR year <= ?6)
         ORDER BY owner, kind, practice, year",
    )?;
    let mut query = rows.query(params![
        wanted.owner,
        wanted.practice,
        ALL_PRACTICES,
        wanted.since_year,
        kind_code(Kind::Pause),
        wanted.until_year,
    ])?;
    while let Some(r) = query.next()? {
        let owner: String = r.get(0)?;
        let kind: u8 = r.get(1)?;
        let practice: String = r.get(2)?;
        let blob: Vec<u8> = r.get(3)?;
        let person = index.people.entry(owner).or_default();
        let wide = is_wide(kind, &practice);
        let pairs = decode(&blob, wide);
        let mut days = Dates::default();
        // Only repairs keep the moment they were logged.
        let dates = pairs.iter().filter_map(|(d, x, ms, off)| {
            let at = if wide { moment(*ms, *off) } else { None };
            Some((days.date(*d)?, *x, at))
        });
        match kind_of(kind) {
            Kind::Log => {
                let repair = practice == REPAIR;
                let tally = person.logged.entry(practice).or_default();
                for (day, extra, at) in dates {
                    tally.add(day, 1);
                    if repair && let Some(at) = at {
                        person.repairs.push(Repair {
                            day,
                            at,
                            took_minutes: u32::try_from(extra).ok(),
                        });
                    }
                }
            }
            Kind::Skip => person
                .skipped
                .entry(practice)
                .or_default()
                .extend(dates.map(|(d, _, _)| d)),
            Kind::Pause => {
                for (from, until, _) in dates {
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
    let kind = kind_code(e.kind);
    let (ms, off) = match is_wide(kind, &e.practice) {
        true => (e.at.timestamp_millis(), e.at.offset().local_minus_utc()),
        false => (0, 0),
    };
    let group = (owner.to_string(), kind, e.practice.clone(), e.day.year());
    (group, (day, extra, ms, off))
}

/// Whether a group keeps the moment of each entry: repairs do.
fn is_wide(kind: u8, practice: &str) -> bool {
    kind == kind_code(Kind::Log) && practice == REPAIR
}

fn moment(ms: i64, offset: i32) -> Option<DateTime<FixedOffset>> {
    let offset = FixedOffset::east_opt(offset)?;
    Some(DateTime::from_timestamp_millis(ms)?.with_timezone(&offset))
}

fn tail(e: &EntryRecord) -> String {
    crate::domain::entry::id_tail(&e.id)
}

pub(super) fn kind_code(kind: Kind) -> u8 {
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

/// Turns the sorted day numbers of one blob into dates. Ten years of
/// entries are a hundred thousand numbers but a few thousand days, so each
/// date is made from the one before (within a year, a cheap step) rather
/// than from the common era.
#[derive(Default)]
struct Dates {
    last: Option<(i32, NaiveDate)>,
}

impl Dates {
    fn date(&mut self, days: i32) -> Option<NaiveDate> {
        let day = match self.last {
            Some((n, d)) if n == days => return Some(d),
            Some((n, d)) if n < days => d
                .checked_add_days(chrono::Days::new(u64::from(days.abs_diff(n))))
                .or_else(|| date(days))?,
            _ => date(days)?,
        };
        self.last = Some((days, day));
        Some(day)
    }
}

fn encode(pairs: &[Pair], wide: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(pairs.len() * if wide { 20 } else { 8 });
    for (day, extra, ms, off) in pairs {
        out.extend_from_slice(&day.to_le_bytes());
        out.extend_from_slice(&extra.to_le_bytes());
        if wide {
            out.extend_from_slice(&ms.to_le_bytes());
            out.extend_from_slice(&off.to_le_bytes());
        }
    }
    out
}

fn decode(blob: &[u8], wide: bool) -> Vec<Pair> {
    let i32_at = |c: &[u8], i: usize| i32::from_le_bytes(c[i..i + 4].try_into().expect("4 bytes"));
    match wide {
        true => blob
            .chunks_exact(20)
            .map(|c| {
                let ms = i64::from_le_bytes(c[8..16].try_into().expect("8 bytes"));
                (i32_at(c, 0), i32_at(c, 4), ms, i32_at(c, 16))
            })
            .collect(),
        false => blob
            .chunks_exact(8)
            .map(|c| (i32_at(c, 0), i32_at(c, 4), 0, 0))
            .collect(),
    }
}

/// Run `sql` through the connection's cache of prepared statements: the
/// index runs the same few statements for every line it takes.
fn cached(
    tx: &Transaction<'_>,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_made_step_by_step_are_the_dates_of_their_numbers() {
        let start = date(738_000).unwrap().num_days_from_ce();
        // Repeats, steps within a year, across new year and leap days, and
        // long jumps, in ascending order as a blob holds them.
        let mut numbers = vec![start, start, start + 1, start + 400, start + 400];
        numbers.extend((start + 401..start + 1_200).step_by(7));
        numbers.push(start + 5_000);
        let mut dates = Dates::default();
        for n in numbers {
            assert_eq!(dates.date(n), date(n), "day number {n}");
        }
    }
}
