//! The weekly review (`safe review`), the ritual for the state-of-us talk
//! (DESIGN.md §5 "Review"): the week (or month) together. Computed here,
//! printed by `render`; every figure is about *us*, never one partner
//! against the other: days we both practised, repair moments and how fast
//! they were, what we shared with each other, a small trend, and one card.

use chrono::{Datelike, Days, NaiveDate};
use serde::Serialize;

use super::card::{self, Card};
use super::goal::WeekStart;
use super::summary::{DayIndex, DayRange, Repair};
use super::us::{median, together_days};

/// Weeks of trend the review draws.
pub const TREND_WEEKS: usize = 12;

/// Something one of us shared with the other in the period: an
/// appreciation, or an entry whose note was shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shared {
    pub day: NaiveDate,
    /// The display name of whoever did it (`me` for me).
    pub who: String,
    pub practice: String,
    /// The note, when it was shared (and only then).
    pub note: Option<String>,
}

/// What the review is asked for.
pub struct ReviewRequest<'a> {
    pub me: &'a str,
    pub week_start: WeekStart,
    pub today: NaiveDate,
    pub period: DayRange,
    /// The period of equal length before.
    pub previous: DayRange,
    /// Everything shared between us in the period, oldest first, as the
    /// caller found it (never a private entry or an unshared note).
    pub shared: Vec<Shared>,
}

/// A figure of this period beside the same figure of the period before.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Compared<T> {
    pub now: T,
    pub before: T,
}

/// One week of the trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Week {
    /// The week's first day.
    pub week: NaiveDate,
    pub together_days: u32,
    pub repairs: u32,
    /// Median minutes from rupture to repair that week.
    pub median_repair_minutes: Option<f64>,
}

/// The conversation card for the talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CardView {
    pub id: &'static str,
    pub deck: &'static str,
    pub prompt: &'static str,
}

/// The review: the documented `safe review --json` object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Review {
    pub period: DayRange,
    pub previous: DayRange,
    /// Whether a partner's data is here at all (after a first sync).
    pub with_partner: bool,
    /// Days on which we both logged something.
    pub together_days: Compared<u32>,
    /// Repair moments of either of us.
    pub repairs: Compared<u32>,
    pub median_repair_minutes: Compared<Option<f64>>,
    pub shared: Vec<Shared>,
    /// The last [`TREND_WEEKS`] weeks, oldest first.
    pub trend: Vec<Week>,
    pub card: CardView,
}

/// Compute the review from the day index (both of us) and what the caller
/// found shared in the period.
pub fn review(index: &DayIndex, req: ReviewRequest<'_>) -> Review {
    let mine = &index.person(req.me).active;
    let theirs = index.others_active(req.me);
    let repairs = index.repair_moments();
    let in_range = |range: DayRange| -> (u32, Option<f64>) {
        let within: Vec<&Repair> = repairs.iter().filter(|r| range.contains(r.day)).collect();
        let took: Vec<u32> = within.iter().filter_map(|r| r.took_minutes).collect();
        (within.len() as u32, median(&took))
    };
    let together = |range: DayRange| together_days(mine, &theirs, range.from, range.to);
    let (now_count, now_median) = in_range(req.period);
    let (before_count, before_median) = in_range(req.previous);
    let trend = weeks(req.week_start, req.today)
        .map(|range| {
            let (count, median) = in_range(range);
            Week {
                week: range.from,
                together_days: together(range),
                repairs: count,
                median_repair_minutes: median,
            }
        })
        .collect();
    Review {
        period: req.period,
        previous: req.previous,
        with_partner: index.others(req.me).next().is_some(),
        together_days: Compared {
            now: together(req.period),
            before: together(req.previous),
        },
        repairs: Compared {
            now: now_count,
            before: before_count,
        },
        median_repair_minutes: Compared {
            now: now_median,
            before: before_median,
        },
        shared: req.shared,
        trend,
        card: card_for(req.period.from),
    }
}

/// The last [`TREND_WEEKS`] weeks, oldest first, the current one to today.
fn weeks(week_start: WeekStart, today: NaiveDate) -> impl Iterator<Item = DayRange> {
    let this_week = week_start.week_of(today);
    (0..TREND_WEEKS as u64).rev().filter_map(move |back| {
        let from = this_week.checked_sub_days(Days::new(7 * back))?;
        let to = if back == 0 {
            today
        } else {
            from.checked_add_days(Days::new(6))?
        };
        Some(DayRange { from, to })
    })
}

/// The card for a period: chosen from the period's first day alone, so both
/// partners, each on their own machine, get the same card for the talk.
pub fn card_for(first_day: NaiveDate) -> CardView {
    let seed = u64::try_from(first_day.num_days_from_ce()).unwrap_or(0);
    let Card { id, deck, prompt } = *card::draw(None, &[], seed).card;
    CardView {
        id,
        deck: deck.name(),
        prompt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::summary::PersonDays;

    fn d(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn person(active: &[&str], repairs: &[(&str, Option<u32>)]) -> PersonDays {
        PersonDays {
            active: active.iter().map(|a| d(a)).collect(),
            repairs: repairs
                .iter()
                .map(|(day, took)| Repair {
                    day: d(day),
                    at: crate::domain::summary::noon(d(day)),
                    took_minutes: *took,
                })
                .collect(),
            ..PersonDays::default()
        }
    }

    fn week_review(index: &DayIndex) -> Review {
        review(
            index,
            ReviewRequest {
                me: "a",
                week_start: WeekStart::Monday,
                today: d("2026-11-27"),
                period: DayRange {
                    from: d("2026-11-23"),
                    to: d("2026-11-29"),
                },
                previous: DayRange {
                    from: d("2026-11-16"),
                    to: d("2026-11-22"),
                },
                shared: Vec::new(),
            },
        )
    }

    #[test]
    fn the_week_together_against_the_week_before() {
        let mut index = DayIndex::default();
        index.people.insert(
            "a".into(),
            person(
                &[
                    "2026-11-17",
                    "2026-11-18",
                    "2026-11-23",
                    "2026-11-24",
                    "2026-11-26",
                ],
                &[("2026-11-24", Some(30)), ("2026-11-18", Some(120))],
            ),
        );
        index.people.insert(
            "b".into(),
            person(
                &["2026-11-18", "2026-11-23", "2026-11-24", "2026-11-25"],
                &[("2026-11-25", Some(60))],
            ),
        );
        let r = week_review(&index);
        assert!(r.with_partner);
        assert_eq!(r.together_days, Compared { now: 2, before: 1 });
        assert_eq!(r.repairs, Compared { now: 2, before: 1 });
        assert_eq!(r.median_repair_minutes.now, Some(45.0));
        assert_eq!(r.median_repair_minutes.before, Some(120.0));
        assert_eq!(r.trend.len(), TREND_WEEKS);
        let last = r.trend.last().unwrap();
        assert_eq!(
            (last.week, last.together_days, last.repairs),
            (d("2026-11-23"), 2, 2)
        );
        assert_eq!(r.trend[TREND_WEEKS - 2].week, d("2026-11-16"));
    }

    #[test]
    fn nothing_in_the_review_is_one_of_us_against_the_other() {
        let mut index = DayIndex::default();
        index
            .people
            .insert("a".into(), person(&["2026-11-23"], &[("2026-11-23", None)]));
        index
            .people
            .insert("b".into(), person(&["2026-11-23", "2026-11-24"], &[]));
        let json = serde_json::to_value(week_review(&index)).unwrap();
        let text = json.to_string();
        // No field names a person, and no figure is split by person.
        for word in ["\"a\"", "\"b\"", "mine", "theirs", "partner_"] {
            assert!(!text.contains(word), "{word} in {text}");
        }
    }

    #[test]
    fn both_partners_get_the_same_card_for_the_same_week() {
        let one = card_for(d("2026-11-23"));
        assert_eq!(one, card_for(d("2026-11-23")));
        let cards: std::collections::BTreeSet<&str> = (0..8)
            .map(|w| card_for(d("2026-11-23") + Days::new(7 * w)).id)
            .collect();
        assert!(cards.len() > 1, "the card changes from week to week");
    }
}
