//! Streaks: how many days (or weeks) in a row a practice met its goal.
//!
//! Skipped and paused days ("bridged") keep a run alive without adding to it.
//! Every function walks the sorted slices once; nothing is allocated.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::goal::{Goal, WeekStart};

/// What a streak counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreakUnit {
    Day,
    Week,
}

/// The current run and the longest run ever, in `unit`s. `best >= current`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streak {
    pub current: u32,
    pub best: u32,
    pub unit: StreakUnit,
}

/// The streak of a practice, or `None` for a goal-less one.
///
/// `logged` and `bridged` are sorted ascending and deduplicated (duplicates are
/// tolerated). Days after `today` are ignored. A day both logged and bridged
/// counts as logged.
///
/// - Daily: consecutive days ending today, or yesterday while today is not
///   logged yet. A logged day adds one; a bridged day adds nothing but keeps
///   the run going; any other day ends it.
/// - N/week: consecutive weeks with at least N distinct logged days, ending
///   this week if it already meets the goal, else last week. A week short of
///   N bridges when its logged plus bridged days reach N (a paused week).
/// - Best: the longest run ever under the same rules, so it is never below
///   the current one.
pub fn streak(
    goal: Goal,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    week_start: WeekStart,
    today: NaiveDate,
) -> Option<Streak> {
    streak_after(goal, None, logged, bridged, week_start, today)
}

/// Where the fold behind a streak stood at the end of a day: what
/// [`streak_after`] needs to go on from the next day without reading the
/// days before (see `domain::carry`). Made by [`streak_carry`] for one
/// goal and week start, and good only for those.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreakCarry {
    /// The last unit (day or week number) pushed, the run ending there,
    /// and the longest run so far.
    pub last: Option<i32>,
    pub run: u32,
    pub best: u32,
    /// For N/week: the week still being tallied, with its logged days and
    /// its days bridged only.
    pub week: Option<(i32, u32, u32)>,
}

/// The fold of `goal`'s streak over every day up to and including
/// `through`, to go on from with [`streak_after`].
pub fn streak_carry(
    goal: Goal,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    week_start: WeekStart,
    through: NaiveDate,
) -> StreakCarry {
    let logged = up_to(logged, through);
    let bridged = up_to(bridged, through);
    let mut carry = StreakCarry::default();
    match goal {
        Goal::None => {}
        Goal::Daily => daily(&mut carry, logged, bridged),
        // No week here is the week in progress: `through` is before it.
        Goal::PerWeek(n) => weekly(&mut carry, n.max(1), logged, bridged, week_start, None),
    }
    carry
}

/// [`streak`], going on from `carry`: the fold of every day up to and
/// including its day, which is before `today`. The days in `logged` and
/// `bridged` up to that day are left alone, so the lists may hold them or
/// not; the answer is the one [`streak`] gives from every day.
pub fn streak_after(
    goal: Goal,
    carry: Option<(NaiveDate, &StreakCarry)>,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    week_start: WeekStart,
    today: NaiveDate,
) -> Option<Streak> {
    let (through, mut state) = match carry {
        Some((through, state)) => (Some(through), *state),
        None => (None, StreakCarry::default()),
    };
    debug_assert!(through.is_none_or(|t| t < today), "a carry from today on");
    let logged = after(up_to(logged, today), through);
    let bridged = after(up_to(bridged, today), through);
    match goal {
        Goal::None => None,
        Goal::Daily => {
            daily(&mut state, logged, bridged);
            Some(state.finish(day_number(today), StreakUnit::Day))
        }
        // A goal of 0/week cannot be parsed; treat it as 1 rather than
        // letting every empty week count.
        Goal::PerWeek(n) => {
            let n = n.max(1);
            let this_week = week_number(week_start, day_number(today));
            weekly(&mut state, n, logged, bridged, week_start, Some(this_week));
            if let Some(done) = state.week.take() {
                close_week(&mut state, n, done, Some(this_week));
            }
            Some(state.finish(this_week, StreakUnit::Week))
        }
    }
}

/// Distinct logged days in the week containing `today`, up to `today`.
pub fn days_this_week(logged: &[NaiveDate], week_start: WeekStart, today: NaiveDate) -> u32 {
    let logged = up_to(logged, today);
    let monday = week_start.week_of(today);
    let from = logged.partition_point(|d| *d < monday);
    distinct(&logged[from..])
}

fn daily(state: &mut StreakCarry, logged: &[NaiveDate], bridged: &[NaiveDate]) {
    for (day, is_logged) in Merge::new(logged, bridged) {
        state.push(day_number(day), is_logged);
    }
}

/// Tally one week at a time; a week is closed when the first day of a
/// later week arrives. The last week stays open in `state.week`.
fn weekly(
    state: &mut StreakCarry,
    n: u8,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    week_start: WeekStart,
    this_week: Option<i32>,
) {
    for (day, is_logged) in Merge::new(logged, bridged) {
        let w = week_number(week_start, day_number(day));
        match &mut state.week {
            Some((current, l, b)) if *current == w => {
                if is_logged {
                    *l += 1;
                } else {
                    *b += 1;
                }
            }
            _ => {
                if let Some(done) = state.week.take() {
                    close_week(state, n, done, this_week);
                }
                state.week = Some((w, u32::from(is_logged), u32::from(!is_logged)));
            }
        }
    }
}

fn close_week(state: &mut StreakCarry, n: u8, (w, l, b): (i32, u32, u32), this_week: Option<i32>) {
    let met = l >= u32::from(n);
    // The week in progress never breaks the run: it may still get there.
    if met || l + b >= u32::from(n) || Some(w) == this_week {
        state.push(w, met);
    }
}

/// Runs of consecutive units (days or weeks, numbered so that neighbours
/// differ by one), fed in ascending order. A missing unit ends a run.
impl StreakCarry {
    fn push(&mut self, unit: i32, counts: bool) {
        if self.last != Some(unit - 1) {
            self.run = 0;
        }
        self.run += u32::from(counts);
        self.best = self.best.max(self.run);
        self.last = Some(unit);
    }

    /// The last run is current if it reaches the present unit or the one
    /// before: the present one is still in progress.
    fn finish(self, now: i32, unit: StreakUnit) -> Streak {
        let current = match self.last {
            Some(last) if last >= now - 1 => self.run,
            _ => 0,
        };
        Streak {
            current,
            best: self.best,
            unit,
        }
    }
}

/// Walks two sorted slices together, yielding each distinct day once with
/// whether it is logged (if not, it is bridged).
pub(crate) struct Merge<'a> {
    logged: &'a [NaiveDate],
    bridged: &'a [NaiveDate],
}

impl<'a> Merge<'a> {
    pub(crate) fn new(logged: &'a [NaiveDate], bridged: &'a [NaiveDate]) -> Self {
        debug_assert!(logged.is_sorted() && bridged.is_sorted());
        Merge { logged, bridged }
    }
}

impl Iterator for Merge<'_> {
    type Item = (NaiveDate, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let day = match (self.logged.first(), self.bridged.first()) {
            (Some(l), Some(b)) => *l.min(b),
            (Some(l), None) => *l,
            (None, Some(b)) => *b,
            (None, None) => return None,
        };
        let is_logged = skip(&mut self.logged, day);
        skip(&mut self.bridged, day);
        Some((day, is_logged))
    }
}

/// Drops the leading copies of `day`; true if there were any.
fn skip(days: &mut &[NaiveDate], day: NaiveDate) -> bool {
    let n = days.iter().take_while(|d| **d == day).count();
    *days = &days[n..];
    n > 0
}

/// The days of a sorted slice after `through` (all of them for `None`).
pub(crate) fn after(days: &[NaiveDate], through: Option<NaiveDate>) -> &[NaiveDate] {
    match through {
        Some(t) => &days[days.partition_point(|d| *d <= t)..],
        None => days,
    }
}

/// The prefix of a sorted slice that is not after `today`.
pub(crate) fn up_to(days: &[NaiveDate], today: NaiveDate) -> &[NaiveDate] {
    &days[..days.partition_point(|d| *d <= today)]
}

fn distinct(days: &[NaiveDate]) -> u32 {
    let extra = days.windows(2).filter(|w| w[0] == w[1]).count();
    (days.len() - extra) as u32
}

fn day_number(day: NaiveDate) -> i32 {
    day.num_days_from_ce()
}

/// Numbers weeks consecutively from a day number, without a calendar per
/// day: day 1 (0001-01-01) was a Monday, day 0 a Sunday.
fn week_number(week_start: WeekStart, day: i32) -> i32 {
    match week_start {
        WeekStart::Monday => (day - 1).div_euclid(7),
        WeekStart::Sunday => day.div_euclid(7),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn days(list: &[&str]) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = list.iter().map(|s| d(s)).collect();
        v.sort();
        v
    }

    /// Every day from `from` to `to`, inclusive.
    fn range(from: &str, to: &str) -> Vec<NaiveDate> {
        d(from).iter_days().take_while(|x| *x <= d(to)).collect()
    }

    fn cat(parts: &[Vec<NaiveDate>]) -> Vec<NaiveDate> {
        let mut v: Vec<NaiveDate> = parts.concat();
        v.sort();
        v.dedup();
        v
    }

    #[test]
    fn daily_streaks() {
        struct Case {
            name: &'static str,
            logged: Vec<NaiveDate>,
            bridged: Vec<NaiveDate>,
            today: &'static str,
            current: u32,
            best: u32,
        }
        let cases = [
            Case {
                name: "nothing logged",
                logged: vec![],
                bridged: vec![],
                today: "2026-03-10",
                current: 0,
                best: 0,
            },
            Case {
                name: "logged through today",
                logged: range("2026-03-01", "2026-03-10"),
                bridged: vec![],
                today: "2026-03-10",
                current: 10,
                best: 10,
            },
            Case {
                name: "today not logged yet does not break",
                logged: range("2026-03-01", "2026-03-09"),
                bridged: vec![],
                today: "2026-03-10",
                current: 9,
                best: 9,
            },
            Case {
                name: "yesterday missed breaks",
                logged: range("2026-03-01", "2026-03-08"),
                bridged: vec![],
                today: "2026-03-10",
                current: 0,
                best: 8,
            },
            Case {
                name: "skips bridge without adding",
                logged: days(&["2026-03-05", "2026-03-07", "2026-03-09", "2026-03-10"]),
                bridged: days(&["2026-03-06", "2026-03-08"]),
                today: "2026-03-10",
                current: 4,
                best: 4,
            },
            Case {
                name: "a skipped today bridges",
                logged: range("2026-03-07", "2026-03-09"),
                bridged: days(&["2026-03-10"]),
                today: "2026-03-10",
                current: 3,
                best: 3,
            },
            Case {
                name: "logged and skipped the same day counts",
                logged: range("2026-03-08", "2026-03-10"),
                bridged: days(&["2026-03-09"]),
                today: "2026-03-10",
                current: 3,
                best: 3,
            },
            Case {
                name: "a paused fortnight",
                logged: cat(&[
                    range("2026-02-20", "2026-02-28"),
                    range("2026-03-15", "2026-03-20"),
                ]),
                bridged: range("2026-03-01", "2026-03-14"),
                today: "2026-03-20",
                current: 15,
                best: 15,
            },
            Case {
                name: "pause running into today",
                logged: range("2026-03-01", "2026-03-05"),
                bridged: range("2026-03-06", "2026-03-31"),
                today: "2026-03-10",
                current: 5,
                best: 5,
            },
            Case {
                name: "month boundary",
                logged: range("2026-04-25", "2026-05-03"),
                bridged: vec![],
                today: "2026-05-03",
                current: 9,
                best: 9,
            },
            Case {
                name: "year boundary",
                logged: range("2025-12-30", "2026-01-02"),
                bridged: vec![],
                today: "2026-01-03",
                current: 4,
                best: 4,
            },
            Case {
                name: "leap day",
                logged: range("2024-02-27", "2024-03-02"),
                bridged: vec![],
                today: "2024-03-02",
                current: 5,
                best: 5,
            },
            Case {
                name: "best across gaps",
                logged: cat(&[
                    range("2026-01-01", "2026-01-03"),
                    range("2026-01-10", "2026-01-21"),
                    range("2026-02-01", "2026-02-05"),
                ]),
                bridged: vec![],
                today: "2026-02-05",
                current: 5,
                best: 12,
            },
            Case {
                name: "future days ignored",
                logged: cat(&[range("2026-03-08", "2026-03-10"), days(&["2026-03-12"])]),
                bridged: vec![],
                today: "2026-03-10",
                current: 3,
                best: 3,
            },
        ];
        for c in cases {
            let got = streak(
                Goal::Daily,
                &c.logged,
                &c.bridged,
                WeekStart::Monday,
                d(c.today),
            );
            let want = Streak {
                current: c.current,
                best: c.best,
                unit: StreakUnit::Day,
            };
            assert_eq!(got, Some(want), "{}", c.name);
        }
    }

    #[test]
    fn weekly_streaks() {
        struct Case {
            name: &'static str,
            goal: u8,
            logged: Vec<NaiveDate>,
            bridged: Vec<NaiveDate>,
            week_start: WeekStart,
            today: &'static str,
            current: u32,
            best: u32,
        }
        use WeekStart::{Monday, Sunday};
        // 2026-03-02 is a Monday.
        let cases = [
            Case {
                name: "three weeks met, this week not yet",
                goal: 2,
                logged: days(&[
                    "2026-03-02",
                    "2026-03-05",
                    "2026-03-09",
                    "2026-03-12",
                    "2026-03-16",
                    "2026-03-17",
                    "2026-03-23",
                ]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-03-24",
                current: 3,
                best: 3,
            },
            Case {
                name: "this week already met counts",
                goal: 2,
                logged: days(&[
                    "2026-03-02",
                    "2026-03-05",
                    "2026-03-09",
                    "2026-03-12",
                    "2026-03-16",
                    "2026-03-17",
                    "2026-03-23",
                    "2026-03-24",
                ]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-03-24",
                current: 4,
                best: 4,
            },
            Case {
                name: "last week short breaks",
                goal: 2,
                logged: days(&[
                    "2026-02-23",
                    "2026-02-24",
                    "2026-03-02",
                    "2026-03-05",
                    "2026-03-09",
                    "2026-03-16",
                ]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-03-17",
                current: 0,
                best: 2,
            },
            Case {
                name: "a week with nothing breaks",
                goal: 1,
                logged: days(&["2026-03-02", "2026-03-16", "2026-03-23"]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-03-23",
                current: 2,
                best: 2,
            },
            Case {
                name: "a paused week bridges",
                goal: 3,
                logged: cat(&[
                    days(&["2026-03-02", "2026-03-03", "2026-03-04"]),
                    days(&["2026-03-16", "2026-03-17", "2026-03-18"]),
                ]),
                bridged: range("2026-03-09", "2026-03-15"),
                week_start: Monday,
                today: "2026-03-20",
                current: 2,
                best: 2,
            },
            Case {
                name: "one log plus two skips bridges a 3/week",
                goal: 3,
                logged: cat(&[
                    days(&["2026-03-02", "2026-03-03", "2026-03-04"]),
                    days(&["2026-03-10"]),
                    days(&["2026-03-16", "2026-03-17", "2026-03-18"]),
                ]),
                bridged: days(&["2026-03-11", "2026-03-12"]),
                week_start: Monday,
                today: "2026-03-18",
                current: 2,
                best: 2,
            },
            Case {
                name: "one log plus one skip does not bridge a 3/week",
                goal: 3,
                logged: cat(&[
                    days(&["2026-03-02", "2026-03-03", "2026-03-04"]),
                    days(&["2026-03-10"]),
                    days(&["2026-03-16", "2026-03-17", "2026-03-18"]),
                ]),
                bridged: days(&["2026-03-11"]),
                week_start: Monday,
                today: "2026-03-18",
                current: 1,
                best: 1,
            },
            // Two weekends: Monday weeks hold each weekend whole; Sunday weeks
            // split them, leaving a short first week and an unfinished one.
            Case {
                name: "weekends with Monday weeks",
                goal: 2,
                logged: days(&["2026-03-07", "2026-03-08", "2026-03-14", "2026-03-15"]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-03-15",
                current: 2,
                best: 2,
            },
            Case {
                name: "weekends with Sunday weeks",
                goal: 2,
                logged: days(&["2026-03-07", "2026-03-08", "2026-03-14", "2026-03-15"]),
                bridged: vec![],
                week_start: Sunday,
                today: "2026-03-15",
                current: 1,
                best: 1,
            },
            Case {
                name: "year boundary week",
                goal: 2,
                logged: days(&[
                    "2025-12-22",
                    "2025-12-23",
                    "2025-12-31",
                    "2026-01-01",
                    "2026-01-05",
                    "2026-01-06",
                ]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-01-06",
                current: 3,
                best: 3,
            },
            Case {
                name: "best across gaps",
                goal: 1,
                logged: cat(&[
                    days(&["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]),
                    days(&["2026-02-16", "2026-02-23"]),
                ]),
                bridged: vec![],
                week_start: Monday,
                today: "2026-02-24",
                current: 2,
                best: 4,
            },
        ];
        for c in cases {
            let got = streak(
                Goal::PerWeek(c.goal),
                &c.logged,
                &c.bridged,
                c.week_start,
                d(c.today),
            );
            let want = Streak {
                current: c.current,
                best: c.best,
                unit: StreakUnit::Week,
            };
            assert_eq!(got, Some(want), "{}", c.name);
        }
    }

    #[test]
    fn week_numbers_agree_with_week_of() {
        for ws in [WeekStart::Monday, WeekStart::Sunday] {
            for day in d("2023-12-01").iter_days().take(800) {
                let first = ws.week_of(day);
                assert_eq!(
                    week_number(ws, day_number(day)),
                    week_number(ws, day_number(first))
                );
                let before = first.pred_opt().unwrap();
                assert_eq!(
                    week_number(ws, day_number(day)),
                    week_number(ws, day_number(before)) + 1
                );
            }
        }
    }

    #[test]
    fn no_goal_no_streak() {
        let logged = range("2026-03-01", "2026-03-10");
        assert_eq!(
            streak(Goal::None, &logged, &[], WeekStart::Monday, d("2026-03-10")),
            None
        );
    }

    #[test]
    fn counts_days_this_week() {
        let logged = days(&[
            "2026-03-01",
            "2026-03-02",
            "2026-03-04",
            "2026-03-05",
            "2026-03-07",
        ]);
        // Thursday 2026-03-05; the 7th is after today.
        assert_eq!(
            days_this_week(&logged, WeekStart::Monday, d("2026-03-05")),
            3
        );
        assert_eq!(
            days_this_week(&logged, WeekStart::Sunday, d("2026-03-05")),
            4
        );
        assert_eq!(
            days_this_week(&logged, WeekStart::Monday, d("2026-03-01")),
            1
        );
        assert_eq!(days_this_week(&[], WeekStart::Monday, d("2026-03-05")), 0);
    }

    fn day_set(start: NaiveDate) -> impl Strategy<Value = Vec<NaiveDate>> {
        proptest::collection::btree_set(0u64..120, 0..80).prop_map(move |s| {
            s.into_iter()
                .map(|o| start + chrono::Days::new(o))
                .collect()
        })
    }

    /// The definitions read literally: walk back from every possible end,
    /// day by day or week by week, with lookups.
    fn plain(
        n: Option<u8>,
        logged: &[NaiveDate],
        bridged: &[NaiveDate],
        ws: WeekStart,
        today: NaiveDate,
    ) -> (u32, u32) {
        let is_logged = |x: NaiveDate| x <= today && logged.contains(&x);
        let is_bridged = |x: NaiveDate| x <= today && bridged.contains(&x);
        let start = d("2025-12-01");
        match n {
            None => {
                let walk = |mut day: NaiveDate| {
                    let mut run = 0;
                    while day >= start && (is_logged(day) || is_bridged(day)) {
                        run += u32::from(is_logged(day));
                        day = day.pred_opt().unwrap();
                    }
                    run
                };
                let current = walk(if is_logged(today) {
                    today
                } else {
                    today.pred_opt().unwrap()
                });
                let best = start
                    .iter_days()
                    .take_while(|x| *x <= today)
                    .map(walk)
                    .max()
                    .unwrap();
                (current, best)
            }
            Some(n) => {
                let this_week = ws.week_of(today);
                let count = |week: NaiveDate, f: &dyn Fn(NaiveDate) -> bool| {
                    week.iter_days().take(7).filter(|x| f(*x)).count() as u32
                };
                let walk = |mut week: NaiveDate| {
                    let mut run = 0;
                    while week >= start {
                        let l = count(week, &is_logged);
                        let b = count(week, &|x| is_bridged(x) && !is_logged(x));
                        if l >= u32::from(n) {
                            run += 1;
                        } else if l + b < u32::from(n) && week != this_week {
                            break;
                        }
                        week = week - chrono::Days::new(7);
                    }
                    run
                };
                let weeks = || {
                    ws.week_of(start)
                        .iter_weeks()
                        .take_while(|w| *w <= this_week)
                };
                (walk(this_week), weeks().map(walk).max().unwrap())
            }
        }
    }

    proptest! {
        #[test]
        fn matches_the_plain_definition(
            logged in day_set(d("2026-01-01")),
            bridged in day_set(d("2026-01-01")),
            offset in 0u64..130,
            n in 0u8..=7,
            sunday in any::<bool>(),
        ) {
            let today = d("2026-01-01") + chrono::Days::new(offset);
            let ws = if sunday { WeekStart::Sunday } else { WeekStart::Monday };
            let (goal, per_week) = if n == 0 { (Goal::Daily, None) } else { (Goal::PerWeek(n), Some(n)) };
            let s = streak(goal, &logged, &bridged, ws, today).unwrap();
            prop_assert_eq!((s.current, s.best), plain(per_week, &logged, &bridged, ws, today));
        }

        #[test]
        fn best_is_at_least_current(
            logged in day_set(d("2026-01-01")),
            bridged in day_set(d("2026-01-01")),
            offset in 0u64..130,
            n in 0u8..=7,
            sunday in any::<bool>(),
        ) {
            let today = d("2026-01-01") + chrono::Days::new(offset);
            let ws = if sunday { WeekStart::Sunday } else { WeekStart::Monday };
            let goal = if n == 0 { Goal::Daily } else { Goal::PerWeek(n) };
            let s = streak(goal, &logged, &bridged, ws, today).unwrap();
            prop_assert!(s.best >= s.current);
        }
    }
}
