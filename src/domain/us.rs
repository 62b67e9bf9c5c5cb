//! Us: statistics about the two of you together rather than each alone.

use chrono::NaiveDate;
use serde::Serialize;

/// Days in `from..=to` on which both people logged something.
///
/// `a` and `b` are each person's logged days, sorted ascending (duplicates
/// are tolerated).
pub fn together_days(a: &[NaiveDate], b: &[NaiveDate], from: NaiveDate, to: NaiveDate) -> u32 {
    let a = within(a, from, to);
    let b = within(b, from, to);
    let mut count = 0;
    let mut last = None;
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                if last != Some(a[i]) {
                    count += 1;
                    last = Some(a[i]);
                }
                i += 1;
                j += 1;
            }
        }
    }
    count
}

/// Consecutive days on which both logged something, ending today, or
/// yesterday while today is not yet a together day. Nothing bridges: a
/// together day needs both of you.
pub fn together_streak(a: &[NaiveDate], b: &[NaiveDate], today: NaiveDate) -> u32 {
    together_streak_after(a, b, today, None)
}

/// Together days in a row ending exactly on `day`: what
/// [`together_streak_after`] carries over from the days up to `day`.
pub fn together_through(a: &[NaiveDate], b: &[NaiveDate], day: NaiveDate) -> u32 {
    let both = |d: &NaiveDate| a.binary_search(d).is_ok() && b.binary_search(d).is_ok();
    let mut run = 0;
    let mut next = Some(day);
    while let Some(d) = next.filter(both) {
        run += 1;
        next = d.pred_opt();
    }
    run
}

/// [`together_streak`], going on from `carry`: a day before today and
/// [`together_through`] of it. Days up to that day are left alone; the
/// answer is the one [`together_streak`] gives from every day.
pub fn together_streak_after(
    a: &[NaiveDate],
    b: &[NaiveDate],
    today: NaiveDate,
    carry: Option<(NaiveDate, u32)>,
) -> u32 {
    let through = carry.map(|(day, _)| day);
    debug_assert!(through.is_none_or(|t| t < today), "a carry from today on");
    let mut a = crate::domain::streak::after(&a[..a.partition_point(|d| *d <= today)], through);
    let mut b = crate::domain::streak::after(&b[..b.partition_point(|d| *d <= today)], through);
    // Walk both lists back from the newest day; `expected` is the day the
    // run needs next, allowing one day's grace for today.
    let Some(yesterday) = today.pred_opt() else {
        return u32::from(a.last() == Some(&today) && b.last() == Some(&today));
    };
    let mut expected = today;
    let mut streak = 0;
    while let (Some(&x), Some(&y)) = (a.last(), b.last()) {
        if x != y {
            // The next shared day is no later than the older of the two.
            let floor = if streak == 0 { yesterday } else { expected };
            if x.min(y) < floor {
                break;
            }
            // The newer of the two has no partner; drop it.
            if x > y {
                a = &a[..a.len() - 1];
            } else {
                b = &b[..b.len() - 1];
            }
            continue;
        }
        a = &a[..a.len() - 1];
        b = &b[..b.len() - 1];
        if x > expected {
            continue; // a duplicate of a day already counted
        }
        if x != expected && !(streak == 0 && x == yesterday) {
            break;
        }
        streak += 1;
        match x.pred_opt() {
            Some(before) => expected = before,
            None => break,
        }
    }
    // The walk stopped at the carry's day only if every day after it that
    // the run needs was there: then the run goes on before it. (Every
    // day left after it is later, so nothing else stops a walk there.)
    match carry {
        Some((day, run)) if streak > 0 && expected == day => streak + run,
        Some((day, run)) if streak == 0 && Some(day) == today.pred_opt() => run,
        _ => streak,
    }
}

/// The middle value, or for an even count the mean of the two middle values.
/// `None` when there are no values.
pub fn median(values: &[u32]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        f64::from(sorted[mid])
    } else {
        (f64::from(sorted[mid - 1]) + f64::from(sorted[mid])) / 2.0
    })
}

/// How a median of durations (say, days until a repair) moved from one period
/// to the next. Smaller is faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Faster,
    Slower,
    Same,
    /// One of the periods has no values to compare.
    Unknown,
}

impl Trend {
    /// Compares this period's median with the previous one's.
    pub fn between(previous: Option<f64>, current: Option<f64>) -> Trend {
        match (previous, current) {
            (Some(p), Some(c)) if c < p => Trend::Faster,
            (Some(p), Some(c)) if c > p => Trend::Slower,
            (Some(_), Some(_)) => Trend::Same,
            _ => Trend::Unknown,
        }
    }
}

fn within(days: &[NaiveDate], from: NaiveDate, to: NaiveDate) -> &[NaiveDate] {
    let start = days.partition_point(|d| *d < from);
    let end = days.partition_point(|d| *d <= to).max(start);
    &days[start..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Days;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn days(list: &[&str]) -> Vec<NaiveDate> {
        list.iter().map(|s| d(s)).collect()
    }

    #[test]
    fn counts_together_days() {
        let a = days(&[
            "2026-02-27",
            "2026-02-28",
            "2026-03-01",
            "2026-03-03",
            "2026-03-05",
        ]);
        let b = days(&[
            "2026-02-28",
            "2026-03-01",
            "2026-03-02",
            "2026-03-03",
            "2026-03-05",
            "2026-03-05",
        ]);
        for (from, to, want) in [
            ("2026-02-01", "2026-03-31", 4),
            ("2026-03-01", "2026-03-03", 2),
            ("2026-03-02", "2026-03-02", 0),
            ("2026-03-05", "2026-03-05", 1),
            ("2026-03-10", "2026-03-01", 0),
        ] {
            assert_eq!(together_days(&a, &b, d(from), d(to)), want, "{from}..={to}");
        }
        assert_eq!(together_days(&a, &[], d("2026-01-01"), d("2026-12-31")), 0);
    }

    #[test]
    fn together_streaks() {
        let cases = [
            ("nothing", vec![], vec![], "2026-03-10", 0),
            (
                "both, through today",
                days(&["2026-03-08", "2026-03-09", "2026-03-10"]),
                days(&["2026-03-08", "2026-03-09", "2026-03-10"]),
                "2026-03-10",
                3,
            ),
            (
                "today only one of you so far",
                days(&["2026-03-08", "2026-03-09", "2026-03-10"]),
                days(&["2026-03-08", "2026-03-09"]),
                "2026-03-10",
                2,
            ),
            (
                "a day apart breaks",
                days(&["2026-03-07", "2026-03-08", "2026-03-09", "2026-03-10"]),
                days(&["2026-03-07", "2026-03-09", "2026-03-10"]),
                "2026-03-10",
                2,
            ),
            (
                "yesterday missed ends it",
                days(&["2026-03-07", "2026-03-08"]),
                days(&["2026-03-07", "2026-03-08"]),
                "2026-03-10",
                0,
            ),
            (
                "alternate days are never together",
                days(&["2026-03-07", "2026-03-09"]),
                days(&["2026-03-08", "2026-03-10"]),
                "2026-03-10",
                0,
            ),
            (
                "across a year boundary",
                days(&["2025-12-31", "2026-01-01"]),
                days(&["2025-12-31", "2026-01-01"]),
                "2026-01-02",
                2,
            ),
            (
                "across the leap day",
                days(&["2024-02-28", "2024-02-29", "2024-03-01"]),
                days(&["2024-02-28", "2024-02-29", "2024-03-01"]),
                "2024-03-01",
                3,
            ),
            (
                "future days ignored",
                days(&["2026-03-09", "2026-03-10", "2026-03-11"]),
                days(&["2026-03-09", "2026-03-10", "2026-03-11"]),
                "2026-03-10",
                2,
            ),
        ];
        for (name, a, b, today, want) in cases {
            assert_eq!(together_streak(&a, &b, d(today)), want, "{name}");
            assert_eq!(together_streak(&b, &a, d(today)), want, "{name}, swapped");
        }
    }

    #[test]
    fn medians() {
        for (values, want) in [
            (vec![], None),
            (vec![4], Some(4.0)),
            (vec![3, 1, 2], Some(2.0)),
            (vec![4, 1, 3, 2], Some(2.5)),
            (vec![5, 5, 1, 9], Some(5.0)),
        ] {
            assert_eq!(median(&values), want, "{values:?}");
        }
    }

    #[test]
    fn trends() {
        assert_eq!(Trend::between(Some(3.0), Some(2.0)), Trend::Faster);
        assert_eq!(Trend::between(Some(2.0), Some(3.5)), Trend::Slower);
        assert_eq!(Trend::between(Some(2.5), Some(2.5)), Trend::Same);
        assert_eq!(Trend::between(None, Some(2.0)), Trend::Unknown);
        assert_eq!(Trend::between(Some(2.0), None), Trend::Unknown);
    }

    fn day_set() -> impl Strategy<Value = Vec<NaiveDate>> {
        proptest::collection::btree_set(0u64..60, 0..50).prop_map(|s| {
            s.into_iter()
                .map(|o| d("2026-01-01") + Days::new(o))
                .collect()
        })
    }

    proptest! {
        // Against a plain day-by-day walk back with lookups.
        #[test]
        fn streak_matches_a_plain_walk(a in day_set(), b in day_set(), offset in 0u64..70) {
            let today = d("2026-01-01") + Days::new(offset);
            let both = |x: NaiveDate| a.contains(&x) && b.contains(&x);
            let mut day = if both(today) { today } else { today.pred_opt().unwrap() };
            let mut want = 0;
            while both(day) {
                want += 1;
                day = day.pred_opt().unwrap();
            }
            prop_assert_eq!(together_streak(&a, &b, today), want);
            let from = d("2026-01-01");
            let plain = from.iter_days().take_while(|x| *x <= today).filter(|x| both(*x)).count();
            prop_assert_eq!(together_days(&a, &b, from, today) as usize, plain);
        }
    }
}
