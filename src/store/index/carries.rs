//! Carries kept in the index (see `domain::carry`): where my practices'
//! streaks and strength, and our days together, stood at the end of a past
//! year, so that `stats` reads the days of the years it shows and not ten
//! years of them.
//!
//! A carry is made the first time it is asked for, from the days of the
//! years it covers, and kept; the transaction that changes a group of
//! `days` drops every carry that group's days may have fed (rule
//! "Index: carries" of docs/protocol.md). What a carry depends on besides
//! the days, the goal and the week start, is part of its key. Like the
//! rest of the index it is derived: an index without carries gives the
//! same answers, more slowly.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::days::{self, Wanted, kind_code};
use crate::domain::carry::{Carried, PracticeCarry};
use crate::domain::entry::Kind;
use crate::domain::goal::{Goal, WeekStart};
use crate::domain::us::together_through;

pub const SCHEMA: &str = "
-- `practice` is empty for our days together (no practice has that id),
-- and so is `rule`; otherwise `rule` is the goal and the week start.
CREATE TABLE carries (
  owner TEXT NOT NULL, practice TEXT NOT NULL, rule TEXT NOT NULL, year INTEGER NOT NULL,
  state BLOB NOT NULL,
  PRIMARY KEY (owner, practice, rule, year)
);
";

/// The key of our days together.
const TOGETHER: &str = "";

/// Drop the carries that `owner`'s group of `kind` and `practice` in
/// `year` may have fed: those from that year on of the practice (of any
/// practice, for a pause, which may bridge them all), and for a logged
/// entry also our days together.
pub fn forget(
    tx: &Transaction<'_>,
    owner: &str,
    kind: Kind,
    practice: &str,
    year: i32,
) -> rusqlite::Result<()> {
    let sql = match kind {
        Kind::Pause => "DELETE FROM carries WHERE owner = ?1 AND year >= ?3",
        Kind::Skip => "DELETE FROM carries WHERE owner = ?1 AND practice = ?2 AND year >= ?3",
        Kind::Log => {
            "DELETE FROM carries WHERE year >= ?3
               AND ((owner = ?1 AND practice = ?2) OR practice = '')"
        }
    };
    tx.prepare_cached(sql)?
        .execute(params![owner, practice, year])
        .map(drop)
}

/// Where `me`'s practices and our days together stood at the end of
/// `year`: kept ones read back, missing ones made from the days and kept.
/// `goal` gives each practice's goal (`Goal::None` for one unknown here).
/// A carry that cannot be kept (the index is read-only, say) is still
/// returned. `None` for a year out of the calendar's range.
pub fn carried(
    db: &Connection,
    me: &str,
    goal: &dyn Fn(&str) -> Goal,
    week_start: WeekStart,
    year: i32,
) -> rusqlite::Result<Option<Carried>> {
    let Some(through) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return Ok(None);
    };
    let mut practices = BTreeMap::new();
    let mut made = Vec::new();
    for practice in logged_by(db, me, year)? {
        let carry = practice_carry_in(
            db,
            me,
            &practice,
            goal(&practice),
            week_start,
            year,
            &mut made,
        )?;
        practices.insert(practice, carry);
    }
    let together = kept(db, me, TOGETHER, TOGETHER, year)?
        .and_then(|b| Some(u32::from_le_bytes(b.try_into().ok()?)));
    let together = match together {
        Some(run) => run,
        None => {
            let wanted = Wanted {
                until_year: Some(year),
                ..Default::default()
            };
            let index = days::day_index(db, wanted)?;
            let run = together_through(&index.person(me).active, &index.others_active(me), through);
            made.push((
                TOGETHER.to_string(),
                TOGETHER.to_string(),
                run.to_le_bytes().to_vec(),
            ));
            run
        }
    };
    if !made.is_empty() {
        // Kept if it can be; the answer does not depend on it.
        let _ = keep(db, me, year, &made);
    }
    let others = db
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM days WHERE owner != ?1 AND year <= ?2)")?
        .query_row(params![me, year], |r| r.get(0))?;
    Ok(Some(Carried {
        through,
        practices,
        together,
        others,
    }))
}

/// Where `me`'s `practice` (with `goal`) stood at the end of `year`, and
/// that day: what the streak line of `log` goes on from. Kept, or made
/// now and kept. `None` for a year out of the calendar's range.
pub fn practice_carry(
    db: &Connection,
    me: &str,
    practice: &str,
    goal: Goal,
    week_start: WeekStart,
    year: i32,
) -> rusqlite::Result<Option<(NaiveDate, PracticeCarry)>> {
    let Some(through) = NaiveDate::from_ymd_opt(year, 12, 31) else {
        return Ok(None);
    };
    let mut made = Vec::new();
    let carry = practice_carry_in(db, me, practice, goal, week_start, year, &mut made)?;
    if !made.is_empty() {
        let _ = keep(db, me, year, &made);
    }
    Ok(Some((through, carry)))
}

/// One practice's carry at the end of `year`: kept, or made from its days
/// and pushed to `made` to be kept.
fn practice_carry_in(
    db: &Connection,
    me: &str,
    practice: &str,
    goal: Goal,
    week_start: WeekStart,
    year: i32,
    made: &mut Vec<(String, String, Vec<u8>)>,
) -> rusqlite::Result<PracticeCarry> {
    let rule = format!("{goal} {week_start}");
    if let Some(carry) =
        kept(db, me, practice, &rule, year)?.and_then(|b| PracticeCarry::decode(&b))
    {
        return Ok(carry);
    }
    let through = NaiveDate::from_ymd_opt(year, 12, 31).expect("a year in range");
    let wanted = Wanted {
        owner: Some(me),
        practice: Some(practice),
        until_year: Some(year),
        ..Default::default()
    };
    let index = days::day_index(db, wanted)?;
    let mine = index.person(me);
    let carry = PracticeCarry::of(
        goal,
        mine.logged_days(practice),
        &mine.bridged(practice, through),
        week_start,
        through,
    );
    made.push((practice.to_string(), rule, carry.encode()));
    Ok(carry)
}

/// The practices `owner` logged in `year` or before.
fn logged_by(db: &Connection, owner: &str, year: i32) -> rusqlite::Result<Vec<String>> {
    let mut rows = db.prepare_cached(
        "SELECT DISTINCT practice FROM days WHERE owner = ?1 AND kind = ?2 AND year <= ?3",
    )?;
    rows.query_map(params![owner, kind_code(Kind::Log), year], |r| r.get(0))?
        .collect()
}

fn kept(
    db: &Connection,
    owner: &str,
    practice: &str,
    rule: &str,
    year: i32,
) -> rusqlite::Result<Option<Vec<u8>>> {
    db.prepare_cached(
        "SELECT state FROM carries WHERE owner = ?1 AND practice = ?2 AND rule = ?3 AND year = ?4",
    )?
    .query_row(params![owner, practice, rule, year], |r| r.get(0))
    .optional()
}

fn keep(
    db: &Connection,
    owner: &str,
    year: i32,
    made: &[(String, String, Vec<u8>)],
) -> rusqlite::Result<()> {
    let tx = db.unchecked_transaction()?;
    for (practice, rule, state) in made {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO carries (owner, practice, rule, year, state)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![owner, practice, rule, year, state])?;
    }
    tx.commit()
}

#[cfg(test)]
mod tests {
    use chrono::Days;
    use proptest::prelude::*;

    use super::super::Index;
    use crate::domain::fold::Line;
    use crate::domain::goal::{Goal, WeekStart};
    use crate::domain::practice::{Practice, PracticesDoc};
    use crate::domain::summary::{DayIndex, DayRange, PersonRef, Request, Stats, earliest, stats};

    const NOW: u64 = 1_795_780_800_000; // 2026-11-27T12:00:00Z
    const PRACTICES: [&str; 4] = ["appreciation", "stress-talk", "long-kiss", "date"];

    fn day(offset: u64) -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Days::new(offset)
    }

    /// The record of line `i`: an entry (`n` its id) of `kind` on the day
    /// `offset` days into 2024, or its removal.
    fn rec(i: usize, kind: u8, n: u8, practice: usize, offset: u64) -> String {
        let rev = format!(r#""rev":{{"ms":{},"c":0}}"#, NOW - 1_000_000 + i as u64);
        let id = format!("019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c{n:02x}");
        let shape = match kind {
            0 | 1 => format!(r#""practice":"{}""#, PRACTICES[practice]),
            2 => format!(r#""kind":"skip","practice":"{}""#, PRACTICES[practice]),
            3 => format!(
                r#""kind":"pause","practice":"{}","until":"{}""#,
                if practice == 0 {
                    "*"
                } else {
                    PRACTICES[practice]
                },
                day(offset + 3 + u64::from(n % 20))
            ),
            _ => return format!(r#"{{"t":"remove","id":"{id}",{rev}}}"#),
        };
        format!(
            r#"{{"t":"entry","id":"{id}",{shape},"day":"{}","at":"2026-11-27T21:14:03+01:00",{rev}}}"#,
            day(offset)
        )
    }

    fn goal_of(catalogue: &[Practice]) -> impl Fn(&str) -> Goal + '_ {
        |id| {
            catalogue
                .iter()
                .find(|p| p.id == id)
                .map_or(Goal::None, |p| p.goal)
        }
    }

    /// `stats` for "me" of the week of `today`, from every day or from
    /// the index's days of the later years and its carries.
    fn week(
        index: &Index,
        catalogue: &[Practice],
        (ws, trend): (WeekStart, usize),
        today: chrono::NaiveDate,
        carried: bool,
    ) -> Stats {
        let from = ws.week_of(today);
        period(index, catalogue, (ws, trend), today, (from, 7), carried)
    }

    /// `stats` for "me" of the `days` days from `from`, as of `today`.
    fn period(
        index: &Index,
        catalogue: &[Practice],
        (ws, trend): (WeekStart, usize),
        today: chrono::NaiveDate,
        (from, days): (chrono::NaiveDate, u64),
        carried: bool,
    ) -> Stats {
        let period = DayRange {
            from,
            to: from + Days::new(days - 1),
        };
        let previous = DayRange {
            from: from - Days::new(days),
            to: from - Days::new(1),
        };
        let person = PersonRef {
            id: "me".into(),
            name: "Me".into(),
        };
        let (days, carry): (DayIndex, _) = match carried {
            true => {
                let year = earliest(ws, today, period, previous, trend).year();
                let goal = goal_of(catalogue);
                let carry = index.carried("me", &goal, ws, year - 1).unwrap();
                (index.days_since(year).unwrap(), carry)
            }
            false => (index.day_index().unwrap(), None),
        };
        stats(
            &days,
            Request {
                me: &person,
                week_start: ws,
                catalogue,
                today,
                period,
                previous,
                trend_weeks: trend,
                carried: carry.as_ref(),
            },
        )
    }

    use chrono::Datelike;

    /// A 3/week goal's rate judges whole weeks: a period of one day in the
    /// first days of January reads the December days of its week too.
    #[test]
    fn a_weekly_rate_of_a_short_period_reads_its_whole_first_week() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::open(&dir.path().join("index.sqlite")).unwrap();
        let days = ["2025-12-29", "2025-12-30", "2025-12-31", "2026-01-02"];
        let recs: Vec<String> = days
            .iter()
            .enumerate()
            .map(|(n, d)| {
                format!(
                    r#"{{"t":"entry","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c{n:02x}","practice":"stress-talk","day":"{d}","at":"2026-11-27T21:14:03+01:00","rev":{{"ms":{},"c":0}}}}"#,
                    NOW - 1_000 + n as u64
                )
            })
            .collect();
        let lines: Vec<Line<'_>> = recs
            .iter()
            .enumerate()
            .map(|(i, r)| {
                Line::read(
                    "me",
                    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    i as u64 + 1,
                    "op",
                    r,
                )
            })
            .collect();
        index.apply(&lines, &[], NOW).unwrap();
        let catalogue = PracticesDoc::default().catalogue("me");
        let today: chrono::NaiveDate = "2026-06-01".parse().unwrap();
        let third = ("2026-01-03".parse().unwrap(), 1);
        let rules = (WeekStart::Monday, 0);
        let carried = period(&index, &catalogue, rules, today, third, true);
        let rate = carried.practices[0].rate.expect("a weekly goal");
        assert_eq!(
            (rate.met, rate.of),
            (1, 1),
            "the week of 29 December met 3/week"
        );
        assert_eq!(
            carried,
            period(&index, &catalogue, rules, today, third, false)
        );
    }

    /// Our days together run across new year; a carry keeps the part of
    /// the run before it, and a partner's removal of a day in it, synced
    /// later, drops the carry: the run is cut where the day went.
    #[test]
    fn a_partners_change_to_a_past_year_drops_our_carry() {
        let dir = tempfile::tempdir().unwrap();
        let mut index = Index::open(&dir.path().join("index.sqlite")).unwrap();
        // Both of us, every day from 20 December 2025 to 13 January 2026.
        let start = day(0).with_year(2025).unwrap().with_ordinal(354).unwrap();
        let mut recs = Vec::new();
        for k in 0..25u64 {
            for (who, n) in [("me", k), ("sam", 100 + k)] {
                let rev = format!(r#""rev":{{"ms":{},"c":0}}"#, NOW - 1_000_000 + n);
                recs.push((who, format!(
                    r#"{{"t":"entry","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b{n:04x}","practice":"appreciation","day":"{}","at":"2026-11-27T21:14:03+01:00",{rev}}}"#,
                    start + Days::new(k)
                )));
            }
        }
        let device = |who: &str| match who {
            "me" => "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            _ => "cccccccccccccccccccccccccccccccc",
        };
        let lines: Vec<Line<'_>> = recs
            .iter()
            .enumerate()
            .map(|(i, (who, rec))| Line::read(who, device(who), i as u64 + 1, "op", rec))
            .collect();
        index.apply(&lines, &[], NOW).unwrap();
        let catalogue = PracticesDoc::default().catalogue("me");
        // Wednesday 14 January 2026: this week and the last are in 2026.
        let today = start + Days::new(25);
        let ws = (WeekStart::Monday, 0);
        let carry = index
            .carried("me", &goal_of(&catalogue), ws.0, 2025)
            .unwrap()
            .unwrap();
        assert_eq!(carry.together, 12);
        let before = week(&index, &catalogue, ws, today, true);
        assert_eq!(before.us.together_streak, 25);
        // Sam removes the 25th (line 12 of theirs), and it reaches me.
        let gone = format!(
            r#"{{"t":"remove","id":"019ac0de-7f3a-7c41-9b2e-5d4f3a2b{:04x}","rev":{{"ms":{},"c":0}}}}"#,
            100 + 5,
            NOW - 1_000
        );
        index
            .apply(
                &[Line::read("sam", device("sam"), 99, "op2", &gone)],
                &[],
                NOW,
            )
            .unwrap();
        let after = week(&index, &catalogue, ws, today, true);
        assert_eq!(after.us.together_streak, 19, "26 December to 13 January");
        assert_eq!(after, week(&index, &catalogue, ws, today, false));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Rule "Index: carries" of docs/protocol.md: carries kept between
        /// batches of lines, some changing days of past years, never
        /// change an answer of `stats`.
        #[test]
        fn kept_carries_answer_as_every_day_does(
            spec in proptest::collection::vec(
                (any::<bool>(), 0u8..5, 0u8..40, 0usize..4, 0u64..1_060),
                1..120,
            ),
            cuts in proptest::collection::vec(0usize..120, 1..4),
            since in 0u64..1_060,
            days in 1u64..12,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let mut index = Index::open(&dir.path().join("index.sqlite")).unwrap();
            let recs: Vec<(bool, String)> = spec
                .iter()
                .enumerate()
                .map(|(i, &(sam, kind, n, practice, offset))| (sam, rec(i, kind, n, practice, offset)))
                .collect();
            let lines: Vec<Line<'_>> = recs
                .iter()
                .enumerate()
                .map(|(i, (sam, rec))| match sam {
                    true => Line::read("sam", "cccccccccccccccccccccccccccccccc", i as u64 + 1, "op", rec),
                    false => Line::read("me", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", i as u64 + 1, "op", rec),
                })
                .collect();
            let plain = PracticesDoc::default().catalogue("me");
            // The same practices with other goals: another rule.
            let mut other = plain.clone();
            for p in &mut other {
                p.goal = match p.goal {
                    Goal::Daily => Goal::PerWeek(2),
                    Goal::PerWeek(_) => Goal::Daily,
                    Goal::None => Goal::None,
                };
            }
            let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(lines.len())).collect();
            bounds.extend([0, lines.len()]);
            bounds.sort_unstable();
            for pair in bounds.windows(2) {
                index.apply(&lines[pair[0]..pair[1]], &[], NOW).unwrap();
                // Carries of the years so far, kept for the next batch.
                for catalogue in [&plain, &other] {
                    for ws in [WeekStart::Monday, WeekStart::Sunday] {
                        for year in [2024, 2025] {
                            index.carried("me", &goal_of(catalogue), ws, year).unwrap();
                        }
                    }
                }
            }
            let kept: i64 = index.db.query_row("SELECT count(*) FROM carries", [], |r| r.get(0)).unwrap();
            prop_assert!(kept > 0);
            for today in ["2025-01-02", "2025-06-01", "2026-01-01", "2026-01-05", "2026-11-27"] {
                let today: chrono::NaiveDate = today.parse().unwrap();
                for catalogue in [&plain, &other] {
                    for ws in [WeekStart::Monday, WeekStart::Sunday] {
                        for trend in [0, 12] {
                            prop_assert_eq!(
                                week(&index, catalogue, (ws, trend), today, true),
                                week(&index, catalogue, (ws, trend), today, false),
                                "{} {:?} {}", today, ws, trend
                            );
                            // Any other period (`--since`, `--until`).
                            let other = (day(since), days);
                            prop_assert_eq!(
                                period(&index, catalogue, (ws, trend), today, other, true),
                                period(&index, catalogue, (ws, trend), today, other, false),
                                "{} {:?} {} {:?}", today, ws, trend, other
                            );
                        }
                    }
                }
            }
        }
    }
}
