//! Carries: where the folds behind my practices' streaks and strength, and
//! behind our days together, stood at the end of a past year.
//!
//! A streak or a strength is a fold over every day since a practice was
//! first logged, so ten years of a journal are ten years of days to walk
//! for `stats --week`. A carry is that fold stopped at the end of a year:
//! going on from it over the years a command shows gives the answer of the
//! fold of every day, to the last bit (DESIGN.md §6). The index keeps
//! carries, made when first asked for and dropped when a day they cover
//! changes (`store::index::carries`).

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate};

use super::goal::{Goal, WeekStart};
use super::streak::{StreakCarry, streak_carry};
use super::strength::{ScoreCarry, strength_carry};

/// One practice of mine at the end of a day.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PracticeCarry {
    /// The first day it was logged, if by then.
    pub first: Option<NaiveDate>,
    pub streak: StreakCarry,
    pub score: ScoreCarry,
}

impl PracticeCarry {
    /// The folds of `goal` (with weeks starting on `week_start`) over the
    /// logged and bridged days up to and including `through`.
    pub fn of(
        goal: Goal,
        logged: &[NaiveDate],
        bridged: &[NaiveDate],
        week_start: WeekStart,
        through: NaiveDate,
    ) -> PracticeCarry {
        PracticeCarry {
            first: logged.first().copied().filter(|d| *d <= through),
            streak: streak_carry(goal, logged, bridged, week_start, through),
            score: strength_carry(goal, logged, bridged, through),
        }
    }

    /// Ten little-endian `i64`s: first day, last unit, run, best, open
    /// week and its two counts, whether the score began, the score's bits,
    /// and the recent days. A day or unit that is not there is `i64::MIN`.
    pub fn encode(&self) -> Vec<u8> {
        let day = |d: Option<NaiveDate>| d.map_or(i64::MIN, |d| i64::from(d.num_days_from_ce()));
        let unit = |u: Option<i32>| u.map_or(i64::MIN, i64::from);
        let (week, logged, bridged) = self
            .streak
            .week
            .map_or((None, 0, 0), |(w, l, b)| (Some(w), l, b));
        let numbers = [
            day(self.first),
            unit(self.streak.last),
            i64::from(self.streak.run),
            i64::from(self.streak.best),
            unit(week),
            i64::from(logged),
            i64::from(bridged),
            i64::from(self.score.started),
            i64::from_le_bytes(self.score.score.to_bits().to_le_bytes()),
            i64::from(self.score.recent),
        ];
        numbers.iter().flat_map(|n| n.to_le_bytes()).collect()
    }

    /// What [`encode`](Self::encode) made, or `None` for anything else
    /// (the caller makes the carry again).
    pub fn decode(bytes: &[u8]) -> Option<PracticeCarry> {
        if bytes.len() != 80 {
            return None;
        }
        let n: Vec<i64> = bytes
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect();
        let day = |x: i64| -> Option<Option<NaiveDate>> {
            match x {
                i64::MIN => Some(None),
                x => NaiveDate::from_num_days_from_ce_opt(i32::try_from(x).ok()?).map(Some),
            }
        };
        let unit = |x: i64| -> Option<Option<i32>> {
            match x {
                i64::MIN => Some(None),
                x => i32::try_from(x).ok().map(Some),
            }
        };
        let count = |x: i64| u32::try_from(x).ok();
        let week = match unit(n[4])? {
            Some(w) => Some((w, count(n[5])?, count(n[6])?)),
            None => None,
        };
        Some(PracticeCarry {
            first: day(n[0])?,
            streak: StreakCarry {
                last: unit(n[1])?,
                run: count(n[2])?,
                best: count(n[3])?,
                week,
            },
            score: ScoreCarry {
                started: match n[7] {
                    0 => false,
                    1 => true,
                    _ => return None,
                },
                score: f64::from_bits(u64::from_le_bytes(n[8].to_le_bytes())),
                recent: u16::try_from(n[9]).ok()?,
            },
        })
    }
}

/// Everything `stats` goes on from: my practices and our days together
/// as they stood at the end of `through`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Carried {
    pub through: NaiveDate,
    /// Every practice I logged by then, by id.
    pub practices: BTreeMap<String, PracticeCarry>,
    /// Days in a row we were both active, ending on `through`.
    pub together: u32,
    /// Whether anyone but me has days by then: a partner is there even
    /// if they have none since.
    pub others: bool,
}

impl Carried {
    pub fn practice(&self, id: &str) -> Option<(NaiveDate, &PracticeCarry)> {
        self.practices.get(id).map(|p| (self.through, p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::streak::{streak, streak_after};
    use crate::domain::strength::{strength, strength_after, weekly_strength};
    use crate::domain::us::{together_streak, together_streak_after, together_through};
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    /// Days over three years, around two new years: scattered, or nearly
    /// every day (long runs that cross the carry's day).
    fn day_set() -> impl Strategy<Value = Vec<NaiveDate>> {
        let scattered = proptest::collection::btree_set(0u64..1_100, 0..500);
        let nearly_all = proptest::collection::btree_set(0u64..1_100, 0..6)
            .prop_map(|gaps| (0u64..1_100).filter(|o| !gaps.contains(o)).collect());
        prop_oneof![scattered, nearly_all].prop_map(|s| {
            s.into_iter()
                .map(|o| d("2024-01-01") + chrono::Days::new(o))
                .collect()
        })
    }

    fn goal(n: u8) -> Goal {
        match n {
            0 => Goal::Daily,
            8 => Goal::None,
            n => Goal::PerWeek(n),
        }
    }

    #[test]
    fn a_carry_reads_back_as_it_was_written() {
        let logged: Vec<NaiveDate> = (0..40)
            .map(|k| d("2025-12-01") + chrono::Days::new(k * 3 / 2))
            .collect();
        let bridged = vec![d("2025-12-31")];
        for g in [Goal::Daily, Goal::PerWeek(3), Goal::None] {
            for ws in [WeekStart::Monday, WeekStart::Sunday] {
                let carry = PracticeCarry::of(g, &logged, &bridged, ws, d("2025-12-31"));
                assert_eq!(PracticeCarry::decode(&carry.encode()), Some(carry));
            }
        }
        assert_eq!(PracticeCarry::decode(b"not a carry"), None);
        let mut bent = PracticeCarry::default().encode();
        bent[56] = 7; // "began" is neither 0 nor 1
        assert_eq!(PracticeCarry::decode(&bent), None);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Rule "Carries" of docs/protocol.md: going on from a carry gives
        /// the streak, strength, trend and together streak of every day,
        /// to the last bit.
        #[test]
        fn going_on_from_a_carry_is_folding_every_day(
            logged in day_set(),
            bridged in day_set(),
            theirs in day_set(),
            today in 370u64..1_100,
            cut in 0u64..1_100,
            n in 0u8..=8,
            sunday in any::<bool>(),
        ) {
            let today = d("2024-01-01") + chrono::Days::new(today);
            // A carry from any day at least a fortnight and a day before
            // today (the trend's first week ends eleven weeks back).
            let Some(latest) = today.checked_sub_days(chrono::Days::new(80)) else { return Ok(()) };
            let through = (d("2024-01-01") + chrono::Days::new(cut)).min(latest);
            let ws = if sunday { WeekStart::Sunday } else { WeekStart::Monday };
            let g = goal(n);
            let carry = PracticeCarry::of(g, &logged, &bridged, ws, through);
            let carry = PracticeCarry::decode(&carry.encode()).unwrap();
            // The later days alone, as the index gives them, or all.
            let later = |days: &[NaiveDate]| -> Vec<NaiveDate> {
                days.iter().copied().filter(|x| *x > through).collect()
            };
            for (l, b) in [(later(&logged), later(&bridged)), (logged.clone(), bridged.clone())] {
                prop_assert_eq!(
                    streak_after(g, Some((through, &carry.streak)), &l, &b, ws, today),
                    streak(g, &logged, &bridged, ws, today)
                );
                let whole = strength(g, &logged, &bridged, today);
                let resumed = strength_after(g, Some((through, &carry.score)), &l, &b, today);
                prop_assert_eq!(resumed.map(f64::to_bits), whole.map(f64::to_bits));
                prop_assert_eq!(
                    weekly_strength(g, Some((through, &carry.score)), &l, &b, today, ws, 12),
                    weekly_strength(g, None, &logged, &bridged, today, ws, 12)
                );
                let run = together_through(&logged, &theirs, through);
                prop_assert_eq!(
                    together_streak_after(&l, &later(&theirs), today, Some((through, run))),
                    together_streak(&logged, &theirs, today)
                );
            }
            let first = logged.first().copied().filter(|x| *x <= through);
            prop_assert_eq!(carry.first, first);
        }
    }

    #[test]
    fn a_together_carry_from_yesterday_is_the_whole_run() {
        let days: Vec<NaiveDate> = (0..10)
            .map(|k| d("2025-12-22") + chrono::Days::new(k))
            .collect();
        let through = d("2025-12-31");
        let run = together_through(&days, &days, through);
        assert_eq!(run, 10);
        let today = d("2026-01-01");
        assert_eq!(
            together_streak_after(&[], &[], today, Some((through, run))),
            10
        );
        assert_eq!(together_streak(&days, &days, today), 10);
    }
}
