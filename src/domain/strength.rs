//! Strength: Loop Habit Tracker's habit score, a number from 0 to 1 that
//! grows with each repetition and decays slowly with each miss.

use chrono::NaiveDate;

use super::goal::Goal;
use super::streak::{after, up_to};

/// The strength of a practice as of `today`, from 0 to 1, reproducing Loop
/// Habit Tracker's `ScoreList.recompute` for yes/no habits.
///
/// From the first logged day on, every day moves the score towards how much
/// of the goal was met: `s = s*m + c*(1-m)`, with `m = 0.5^(sqrt(f)/13)` and
/// `f` the goal's frequency per day. For a daily goal `c` is 1 on a logged
/// day and 0 otherwise; for N/week, as in Loop, `c` is the share of 2N
/// logged days in the 14 days ending that day, capped at 1. Bridged (skipped
/// or paused) days leave the score as it is, unless also logged. Today
/// counts only once logged, so an unlogged today never lowers the score.
///
/// `logged` and `bridged` are sorted ascending; days after `today` are
/// ignored. `None` for a goal-less practice or one never logged.
pub fn strength(
    goal: Goal,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    today: NaiveDate,
) -> Option<f64> {
    strength_after(goal, None, logged, bridged, today)
}

/// Where the day-by-day fold of [`strength`] stood at the end of a day:
/// what [`strength_after`] needs to go on from the next day (see
/// `domain::carry`). Made by [`strength_carry`] for one goal, and good
/// only for it.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScoreCarry {
    /// Whether the fold has begun: a practice has no strength before its
    /// first logged day.
    pub started: bool,
    pub score: f64,
    /// One bit per day of the window of recent days, newest lowest.
    pub recent: u16,
}

/// The fold of `goal`'s strength over every day up to and including
/// `through`, to go on from with [`strength_after`].
pub fn strength_carry(
    goal: Goal,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    through: NaiveDate,
) -> ScoreCarry {
    Rule::of(goal).map_or_else(ScoreCarry::default, |rule| {
        rule.fold(None, logged, bridged, through)
    })
}

/// [`strength`], going on from `carry`: the fold of every day up to and
/// including its day. Days in `logged` and `bridged` up to that day are
/// left alone; the answer is the one [`strength`] gives from every day,
/// to the last bit, as long as the carry's day is before the last day
/// folded (`today`, or yesterday while today is not logged).
pub fn strength_after(
    goal: Goal,
    carry: Option<(NaiveDate, &ScoreCarry)>,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    today: NaiveDate,
) -> Option<f64> {
    let rule = Rule::of(goal)?;
    let logged = up_to(logged, today);
    let end = if logged.last() == Some(&today) {
        today
    } else {
        today.pred_opt()?
    };
    let state = rule.fold(carry, logged, bridged, end);
    state.started.then_some(state.score)
}

/// What a goal makes of each day: Loop's multiplier, and the gain for
/// each count of logged days in the window.
struct Rule {
    multiplier: f64,
    window: u32,
    gain: [f64; 15],
}

impl Rule {
    fn of(goal: Goal) -> Option<Rule> {
        // Loop turns 7/7 into 1/1; 0/week cannot be parsed, read it as 1/week.
        let per_week = match goal {
            Goal::None => return None,
            Goal::Daily => 7,
            Goal::PerWeek(n) => n.clamp(1, 7),
        };
        let frequency = f64::from(per_week) / 7.0;
        // Loop doubles numerator and window for less-than-daily goals, to
        // smooth over weeks where the repetitions fall unevenly.
        let (target, window) = if per_week == 7 {
            (1.0, 1)
        } else {
            (f64::from(2 * per_week), 14)
        };
        let multiplier = 0.5_f64.powf(frequency.sqrt() / 13.0);
        // The step towards each possible count of logged days in the
        // window, worked out once rather than per day.
        let mut gain = [0.0; 15];
        for (count, g) in gain.iter_mut().enumerate() {
            *g = (count as f64 / target).min(1.0) * (1.0 - multiplier);
        }
        Some(Rule {
            multiplier,
            window,
            gain,
        })
    }

    /// Fold the days after the carry's day (or from the first logged day)
    /// up to and including `end`.
    fn fold(
        &self,
        carry: Option<(NaiveDate, &ScoreCarry)>,
        logged: &[NaiveDate],
        bridged: &[NaiveDate],
        end: NaiveDate,
    ) -> ScoreCarry {
        let (through, mut state) = match carry {
            Some((through, state)) => (Some(through), *state),
            None => (None, ScoreCarry::default()),
        };
        debug_assert!(
            through.is_none_or(|t| t <= end),
            "a carry from after the end"
        );
        let logged = after(up_to(logged, end), through);
        let bridged = up_to(bridged, end);
        let start = match (state.started, through) {
            (true, Some(t)) => t.succ_opt(),
            _ => logged.first().copied(),
        };
        let Some(start) = start else {
            return state;
        };
        state.started = true;
        let mut logged = logged.iter().peekable();
        let from = bridged.partition_point(|d| *d < start);
        let mut bridged = bridged[from..].iter().peekable();
        let mask = (1u16 << self.window) - 1;
        // Dates compare cheaply; converting each to a day number does not.
        for day in start.iter_days().take_while(|d| *d <= end) {
            let mut is_logged = false;
            while logged.next_if_eq(&&day).is_some() {
                is_logged = true;
            }
            let mut is_bridged = false;
            while let Some(b) = bridged.next_if(|b| **b <= day) {
                is_bridged |= *b == day;
            }
            // A bridged day still moves the window along.
            state.recent = ((state.recent << 1) | u16::from(is_logged)) & mask;
            if is_logged || !is_bridged {
                state.score =
                    state.score * self.multiplier + self.gain[state.recent.count_ones() as usize];
            }
        }
        state
    }
}

/// Strength at the end of each of the last `weeks` weeks, oldest first: the
/// current week as of `today`, earlier weeks as of their last day. `None`
/// where the practice had no goal or was not logged yet.
///
/// With a `carry` (see [`strength_after`]), every week's end must come
/// after its day.
pub fn weekly_strength(
    goal: Goal,
    carry: Option<(NaiveDate, &ScoreCarry)>,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    today: NaiveDate,
    week_start: super::goal::WeekStart,
    weeks: usize,
) -> Vec<Option<f64>> {
    let this_week = week_start.week_of(today);
    (0..weeks)
        .rev()
        .map(|back| {
            let end = if back == 0 {
                Some(today)
            } else {
                this_week.checked_sub_days(chrono::Days::new(7 * back as u64 - 6))
            };
            end.and_then(|end| strength_after(goal, carry, logged, bridged, end))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Days};
    use proptest::prelude::*;

    // The expected values below come from this independent, day-by-day
    // reading of the formula (python3), not from the code under test:
    //
    // import math, datetime as dt
    // D = dt.timedelta(days=1)
    // def strength(n, logged, bridged, today):  # n: None for daily, N for N/week
    //     L = {x for x in logged if x <= today}
    //     if not L: return None
    //     f, window, target = (1.0, 1, 1) if n is None else (n / 7, 14, 2 * n)
    //     m = 0.5 ** (math.sqrt(f) / 13)
    //     end = today if today in L else today - D
    //     s, d = 0.0, min(L)
    //     while d <= end:
    //         if d in L or d not in set(bridged):
    //             hits = sum(1 for k in range(window) if d - k * D in L)
    //             s = s * m + min(1.0, hits / target) * (1 - m)
    //         d += D
    //     return s
    // def days(a, b): return [a + k * D for k in range((b - a).days + 1)]
    // t = dt.date(2026, 3, 1)
    // print(strength(None, days(t, t + 19 * D), [], t + 19 * D))       # 0.655747637
    // skip = [t + k * D for k in (9, 10, 11)]
    // rest = [x for x in days(t, t + 22 * D) if x not in skip]
    // print(strength(None, rest, skip, t + 22 * D))                    # 0.655747637
    // print(strength(None, rest, [], t + 22 * D))                      # 0.624407904
    // mon = dt.date(2026, 3, 2)
    // mt = [mon + (7 * w + k) * D for w in range(10) for k in (0, 3)]
    // print(strength(3, mt, [], mt[-1]))                               # 0.589423061
    // print(strength(3, mt, [], mt[-1] + 3 * D))                       # 0.594631591
    // print(strength(None, days(t, t + 29 * D), [], t + 40 * D))       # 0.468220541
    // print(strength(None, days(t, t + 19 * D), [], t + 20 * D))       # 0.655747637

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn plus(day: NaiveDate, n: u64) -> NaiveDate {
        day + Days::new(n)
    }

    /// `from` and the `n - 1` days after it.
    fn run(from: NaiveDate, n: u64) -> Vec<NaiveDate> {
        (0..n).map(|k| plus(from, k)).collect()
    }

    #[test]
    fn matches_loop_habit_tracker() {
        let t = d("2026-03-01");
        let skip: Vec<NaiveDate> = [9, 10, 11].map(|k| plus(t, k)).to_vec();
        let rest: Vec<NaiveDate> = run(t, 23)
            .into_iter()
            .filter(|x| !skip.contains(x))
            .collect();
        let mon = d("2026-03-02");
        let mon_thu: Vec<NaiveDate> = (0..10)
            .flat_map(|w| [0, 3].map(|k| plus(mon, 7 * w + k)))
            .collect();
        let thu = *mon_thu.last().unwrap();

        let cases = [
            (
                "daily, 20 days in a row",
                Goal::Daily,
                run(t, 20),
                vec![],
                plus(t, 19),
                0.655748,
            ),
            (
                "daily, 20 days with 3 skipped",
                Goal::Daily,
                rest.clone(),
                skip.clone(),
                plus(t, 22),
                0.655748,
            ),
            (
                "daily, 20 days with 3 missed",
                Goal::Daily,
                rest,
                vec![],
                plus(t, 22),
                0.624408,
            ),
            (
                "3/week done Mon and Thu for 10 weeks",
                Goal::PerWeek(3),
                mon_thu.clone(),
                vec![],
                thu,
                0.589423,
            ),
            (
                "the same, seen on Sunday",
                Goal::PerWeek(3),
                mon_thu,
                vec![],
                plus(thu, 3),
                0.594632,
            ),
            (
                "daily 30 days, then 10 days off",
                Goal::Daily,
                run(t, 30),
                vec![],
                plus(t, 40),
                0.468221,
            ),
            (
                "today not logged yet",
                Goal::Daily,
                run(t, 20),
                vec![],
                plus(t, 20),
                0.655748,
            ),
        ];
        for (name, goal, logged, bridged, today, want) in cases {
            let got = strength(goal, &logged, &bridged, today).unwrap();
            assert!((got - want).abs() < 5e-7, "{name}: got {got}, want {want}");
        }
    }

    #[test]
    fn no_goal_or_no_log_has_no_strength() {
        let today = d("2026-03-10");
        assert_eq!(strength(Goal::None, &run(today, 1), &[], today), None);
        assert_eq!(strength(Goal::Daily, &[], &[], today), None);
        // Only future days: as good as never logged.
        assert_eq!(strength(Goal::Daily, &[plus(today, 1)], &[], today), None);
    }

    #[test]
    fn future_days_are_ignored() {
        let t = d("2026-03-01");
        let mut logged = run(t, 20);
        let today = plus(t, 19);
        let before = strength(Goal::Daily, &logged, &[], today);
        logged.extend(run(plus(t, 25), 5));
        assert_eq!(strength(Goal::Daily, &logged, &[], today), before);
    }

    #[test]
    fn ten_years_is_quick() {
        let t = d("2016-01-01");
        let logged: Vec<NaiveDate> = run(t, 3653)
            .into_iter()
            .filter(|x| x.ordinal() % 5 != 0)
            .collect();
        let bridged: Vec<NaiveDate> = run(t, 3653)
            .into_iter()
            .filter(|x| x.ordinal() % 31 == 0)
            .collect();
        let start = std::time::Instant::now();
        for n in 1..=7 {
            let s = strength(Goal::PerWeek(n), &logged, &bridged, plus(t, 3652)).unwrap();
            assert!((0.0..=1.0).contains(&s));
        }
        // Loose bound so a slow debug build on a busy machine still passes.
        assert!(start.elapsed() < std::time::Duration::from_millis(50));
    }

    fn day_set() -> impl Strategy<Value = Vec<NaiveDate>> {
        proptest::collection::btree_set(0u64..400, 0..300)
            .prop_map(|s| s.into_iter().map(|o| plus(d("2025-01-01"), o)).collect())
    }

    /// The python reference above, transcribed: lookups instead of cursors.
    fn plain(
        n: Option<u8>,
        logged: &[NaiveDate],
        bridged: &[NaiveDate],
        today: NaiveDate,
    ) -> Option<f64> {
        let is_logged = |x: NaiveDate| x <= today && logged.contains(&x);
        let first = logged.iter().copied().filter(|x| *x <= today).min()?;
        let (f, window, target) = match n {
            None => (1.0, 1, 1.0),
            Some(n) => (f64::from(n) / 7.0, 14, f64::from(2 * n)),
        };
        let m = 0.5_f64.powf(f64::sqrt(f) / 13.0);
        let end = if is_logged(today) {
            today
        } else {
            today.pred_opt().unwrap()
        };
        let mut s = 0.0;
        for day in first.iter_days().take_while(|x| *x <= end) {
            if is_logged(day) || !bridged.contains(&day) {
                let hits = (0..window)
                    .filter(|k| is_logged(day - Days::new(*k)))
                    .count();
                s = s * m + (hits as f64 / target).min(1.0) * (1.0 - m);
            }
        }
        Some(s)
    }

    proptest! {
        #[test]
        fn matches_the_plain_formula(
            logged in day_set(),
            bridged in day_set(),
            offset in 0u64..420,
            n in 0u8..7,
        ) {
            let (goal, per_week) = if n == 0 { (Goal::Daily, None) } else { (Goal::PerWeek(n), Some(n)) };
            let today = plus(d("2025-01-01"), offset);
            let got = strength(goal, &logged, &bridged, today);
            let want = plain(per_week, &logged, &bridged, today);
            match (got, want) {
                (Some(g), Some(w)) => prop_assert!((g - w).abs() < 1e-12, "{} vs {}", g, w),
                _ => prop_assert_eq!(got, want),
            }
        }

        #[test]
        fn stays_between_zero_and_one(
            logged in day_set(),
            bridged in day_set(),
            offset in 0u64..420,
            n in 0u8..=7,
        ) {
            let goal = if n == 0 { Goal::Daily } else { Goal::PerWeek(n) };
            let today = plus(d("2025-01-01"), offset);
            if let Some(s) = strength(goal, &logged, &bridged, today) {
                prop_assert!((0.0..=1.0).contains(&s), "{s}");
            }
        }
    }

    #[test]
    fn the_weekly_trend_ends_with_todays_strength_and_grows_with_practice() {
        use crate::domain::goal::WeekStart;
        let today: NaiveDate = "2026-11-27".parse().unwrap(); // a Friday
        // Logged every day of the last five weeks.
        let logged: Vec<NaiveDate> = (0..35)
            .map(|back| today - chrono::Days::new(34 - back))
            .collect();
        let trend = weekly_strength(
            Goal::Daily,
            None,
            &logged,
            &[],
            today,
            WeekStart::Monday,
            12,
        );
        assert_eq!(trend.len(), 12);
        assert_eq!(trend[11], strength(Goal::Daily, &logged, &[], today));
        // Before the first logged day there is no strength yet.
        assert!(trend[..6].iter().all(Option::is_none), "{trend:?}");
        let known: Vec<f64> = trend.iter().flatten().copied().collect();
        assert!(known.windows(2).all(|w| w[0] < w[1]), "{known:?}");
        assert!(
            weekly_strength(Goal::None, None, &logged, &[], today, WeekStart::Monday, 12)
                .iter()
                .all(Option::is_none)
        );
    }
}
