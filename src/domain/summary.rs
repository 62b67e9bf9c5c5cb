//! Summaries: the numbers behind `safe stats`, `safe today`, `safe calendar`
//! and the streak line of `safe log`, computed from a [`DayIndex`] of the
//! journal. Pure: the caller says what "today" is, and rendering is elsewhere.
//!
//! Couple-level figures are about *us* only (days we both practised, repair
//! moments); nothing here totals, ranks or compares one partner with the
//! other (DESIGN.md §1, principle 2).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate};
use serde::{Serialize, Serializer};

use super::carry::Carried;
use super::entry::ALL_PRACTICES;
use super::goal::{Goal, WeekStart};
use super::practice::Practice;
use super::streak::{Streak, StreakUnit, days_this_week, streak_after};
use super::strength::strength_after;
use super::us::{median, together_days, together_streak_after};

/// The practice whose entries are repair moments.
pub const REPAIR: &str = "repair";

/// The days something happened, ascending and distinct, with how many
/// entries fell on each. `days` alone is what streaks and strength read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub days: Vec<NaiveDate>,
    pub counts: Vec<u32>,
}

impl Tally {
    /// Add `count` entries on `day`. Days may come in any order; call
    /// [`Tally::finish`] before reading.
    pub fn add(&mut self, day: NaiveDate, count: u32) {
        if self.days.last() == Some(&day) {
            *self.counts.last_mut().expect("parallel") += count;
        } else {
            self.days.push(day);
            self.counts.push(count);
        }
    }

    /// Sort by day and merge repeated days. Cheap when already in order, as
    /// it is when months are added oldest first.
    pub fn finish(&mut self) {
        if self.days.windows(2).all(|w| w[0] < w[1]) {
            return;
        }
        let mut pairs: Vec<(NaiveDate, u32)> = self
            .days
            .iter()
            .copied()
            .zip(self.counts.iter().copied())
            .collect();
        pairs.sort_by_key(|p| p.0);
        let mut merged = Tally::default();
        for (day, count) in pairs {
            merged.add(day, count);
        }
        *self = merged;
    }

    /// Entries on days in `from..=to`.
    pub fn total_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        let start = self.days.partition_point(|d| *d < from);
        let end = self.days.partition_point(|d| *d <= to).max(start);
        self.counts[start..end].iter().sum()
    }

    /// Entries on `day`.
    pub fn on(&self, day: NaiveDate) -> u32 {
        self.days.binary_search(&day).map_or(0, |i| self.counts[i])
    }
}

/// A run of paused days, for one practice or for all ([`ALL_PRACTICES`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub practice: String,
    pub from: NaiveDate,
    pub until: NaiveDate,
}

/// A repair moment and, when given, the minutes from rupture to repair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repair {
    pub day: NaiveDate,
    /// When it was logged: both partners' repairs of one day pair up in
    /// this order.
    pub at: DateTime<FixedOffset>,
    pub took_minutes: Option<u32>,
}

/// One person's journal boiled down to days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonDays {
    /// Practice id -> the days it was logged.
    pub logged: BTreeMap<String, Tally>,
    /// Practice id -> the days skipped on purpose, ascending.
    pub skipped: BTreeMap<String, Vec<NaiveDate>>,
    pub paused: Vec<Pause>,
    /// Repair moments, ascending by day.
    pub repairs: Vec<Repair>,
    /// Days on which any practice was logged, ascending and distinct: the
    /// days "us" figures are made of. Filled in by [`PersonDays::finish`].
    pub active: Vec<NaiveDate>,
}

impl PersonDays {
    /// Sort everything after adding in any order, and work out `active`
    /// from the logged days.
    pub fn finish(&mut self) {
        self.logged.values_mut().for_each(Tally::finish);
        for days in self.skipped.values_mut() {
            if !days.is_sorted() {
                days.sort_unstable();
            }
            days.dedup();
        }
        self.paused.sort_by_key(|p| (p.from, p.until));
        self.repairs.sort_by_key(|r| (r.day, r.at, r.took_minutes));
        self.active = union_of(self.logged.values().map(|t| t.days.as_slice()));
    }

    /// Days that bridge `practice`'s streak: skipped, or paused (for it or
    /// for everything), up to `today`; ascending and distinct.
    pub fn bridged(&self, practice: &str, today: NaiveDate) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self
            .skipped
            .get(practice)
            .map_or_else(Vec::new, Clone::clone);
        for pause in self
            .paused
            .iter()
            .filter(|p| p.practice == practice || p.practice == ALL_PRACTICES)
        {
            days.extend(
                pause
                    .from
                    .iter_days()
                    .take_while(|d| *d <= pause.until && *d <= today),
            );
        }
        days.sort_unstable();
        days.dedup();
        days
    }

    /// The days `practice` was logged; empty if never.
    pub fn logged_days(&self, practice: &str) -> &[NaiveDate] {
        self.logged.get(practice).map_or(&[], |t| &t.days)
    }
}

/// The union of ascending lists of days, each day once, ascending. One
/// mark per day of the span they cover (a few thousand for ten years),
/// rather than merging the lists one into the next, which copies the
/// growing union once per list.
fn union_of<'a>(lists: impl Iterator<Item = &'a [NaiveDate]>) -> Vec<NaiveDate> {
    let lists: Vec<&[NaiveDate]> = lists.filter(|l| !l.is_empty()).collect();
    let first = lists.iter().map(|l| l[0]).min();
    let last = lists.iter().filter_map(|l| l.last().copied()).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let base = first.num_days_from_ce();
    let at = |day: &NaiveDate| (day.num_days_from_ce() - base) as usize;
    let mut seen = vec![false; at(&last) + 1];
    for day in lists.iter().flat_map(|l| l.iter()) {
        seen[at(day)] = true;
    }
    let mut out = Vec::with_capacity(seen.iter().filter(|s| **s).count());
    let mut day = first;
    for (i, marked) in seen.iter().enumerate() {
        if *marked {
            out.push(day);
        }
        if i + 1 < seen.len() {
            day = day.succ_opt().expect("a day within the span");
        }
    }
    out
}

/// The union of two ascending lists of days, each day once.
fn merge_distinct(a: &[NaiveDate], b: &[NaiveDate]) -> Vec<NaiveDate> {
    super::streak::Merge::new(a, b)
        .map(|(day, _)| day)
        .collect()
}

/// The journal as statistics need it: per person, what happened on which
/// days. Built by `journal::view` from the fold; the entries' ids, notes and
/// times are not needed here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayIndex {
    pub people: BTreeMap<String, PersonDays>,
}

impl DayIndex {
    /// The days of `person`; empty if they have none.
    pub fn person(&self, person: &str) -> &PersonDays {
        static NOBODY: std::sync::OnceLock<PersonDays> = std::sync::OnceLock::new();
        self.people
            .get(person)
            .unwrap_or_else(|| NOBODY.get_or_init(PersonDays::default))
    }

    /// The days anyone but `me` practised at all, ascending and distinct.
    /// In practice there is one partner; more (a shared directory, say) are
    /// taken together, never one against another.
    pub fn others_active(&self, me: &str) -> Vec<NaiveDate> {
        self.others(me)
            .fold(Vec::new(), |days, p| merge_distinct(&days, &p.active))
    }

    /// Everyone but `me`: after a sync, my partner.
    pub fn others<'a>(&'a self, me: &'a str) -> impl Iterator<Item = &'a PersonDays> + 'a {
        self.people
            .iter()
            .filter(move |(id, _)| id.as_str() != me)
            .map(|(_, days)| days)
    }

    /// The repair moments of us both (DESIGN.md §5). When both of us
    /// logged repairs on one day, we repaired the same ruptures: the first
    /// of each of us (in order of time) is one moment, the second of each
    /// another, and so on; a moment takes the shorter of the times given.
    /// Ascending by day.
    pub fn repair_moments(&self) -> Vec<Repair> {
        let mut by_day: BTreeMap<NaiveDate, Vec<&[Repair]>> = BTreeMap::new();
        for person in self.people.values() {
            for run in person.repairs.chunk_by(|a, b| a.day == b.day) {
                by_day.entry(run[0].day).or_default().push(run);
            }
        }
        let mut moments = Vec::new();
        for runs in by_day.values() {
            let most = runs.iter().map(|r| r.len()).max().unwrap_or(0);
            for k in 0..most {
                let same: Vec<&Repair> = runs.iter().filter_map(|r| r.get(k)).collect();
                moments.push(Repair {
                    day: same[0].day,
                    at: same.iter().map(|r| r.at).min().unwrap_or(same[0].at),
                    took_minutes: same.iter().filter_map(|r| r.took_minutes).min(),
                });
            }
        }
        moments
    }

    /// The first day of the journal: the earliest entry of anyone.
    pub fn first_day(&self) -> Option<NaiveDate> {
        self.people
            .values()
            .flat_map(|p| {
                // `active` holds the logged days even of an index built
                // without everyone's practices one by one.
                let logged = p
                    .logged
                    .values()
                    .filter_map(|t| t.days.first().copied())
                    .chain(p.active.first().copied());
                let skipped = p.skipped.values().filter_map(|d| d.first().copied());
                let paused = p.paused.iter().map(|x| x.from);
                logged.chain(skipped).chain(paused).collect::<Vec<_>>()
            })
            .min()
    }
}

/// A range of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayRange {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl DayRange {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }
}

/// Who the statistics are for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonRef {
    pub id: String,
    pub name: String,
}

/// Everything `safe stats` shows; serialises to the object of DESIGN.md §5
/// (field names are part of the interface).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub today: NaiveDate,
    pub period: DayRange,
    pub person: PersonRef,
    pub practices: Vec<PracticeStats>,
    pub us: Us,
}

/// One of my practices: counts over the period, streak and strength as of today.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PracticeStats {
    pub id: String,
    pub goal: Goal,
    /// Entries in the period.
    pub count: u32,
    pub current_streak: Option<u32>,
    pub best_streak: Option<u32>,
    pub streak_unit: Option<StreakUnit>,
    #[serde(serialize_with = "six_decimals")]
    pub strength: Option<f64>,
    /// Distinct days logged this week, for "2 of 3 this week".
    #[serde(skip)]
    pub days_this_week: u32,
    /// Strength at the end of each of the last weeks, oldest first, when
    /// asked for (`stats --trend`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trend: Option<Vec<Option<f64>>>,
    /// The first day the practice was logged: strength says little before
    /// two weeks of history.
    #[serde(skip)]
    pub first_day: Option<NaiveDate>,
    /// How often the goal was met in the period: days for a daily goal,
    /// weeks for N/week; `None` without a goal.
    #[serde(skip)]
    pub rate: Option<Rate>,
}

/// Days (or weeks) that met a goal, of the days (or weeks) that could
/// have: "9 of 22 days".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub met: u32,
    pub of: u32,
    pub unit: StreakUnit,
}

/// The days of `days` (ascending) in `from..=to`.
fn between(days: &[NaiveDate], from: NaiveDate, to: NaiveDate) -> &[NaiveDate] {
    let start = days.partition_point(|d| *d < from);
    let end = days.partition_point(|d| *d <= to).max(start);
    &days[start..end]
}

/// How often `goal` was met in `period`, counted from the practice's first
/// logged day and up to today. Skipped and paused days (a paused week) are
/// not counted against it, today only once it is logged, and this week only
/// once it meets the goal: neither is over yet. Weeks are judged whole,
/// also where the period cuts one.
pub fn rate(
    goal: Goal,
    first: NaiveDate,
    logged: &[NaiveDate],
    bridged: &[NaiveDate],
    week_start: WeekStart,
    period: DayRange,
    today: NaiveDate,
) -> Option<Rate> {
    let from = period.from.max(first);
    let logged_on = |d: NaiveDate| logged.binary_search(&d).is_ok();
    match goal {
        Goal::None => None,
        Goal::Daily => {
            let mut to = period.to.min(today);
            if to == today && !logged_on(today) {
                to = today.pred_opt().unwrap_or(today);
            }
            let (mut met, mut of) = (0, 0);
            let mut day = from;
            while day <= to {
                let done = logged_on(day);
                if done || bridged.binary_search(&day).is_err() {
                    of += 1;
                }
                met += u32::from(done);
                let Some(next) = day.succ_opt() else { break };
                day = next;
            }
            Some(Rate {
                met,
                of,
                unit: StreakUnit::Day,
            })
        }
        Goal::PerWeek(n) => {
            let n = u32::from(n.max(1));
            let this_week = week_start.week_of(today);
            let last = period.to.min(today);
            let (mut met, mut of) = (0, 0);
            let mut week = week_start.week_of(from);
            while week <= last {
                let end = (week + chrono::Days::new(6)).min(today);
                let days = between(logged, week, end).len() as u32;
                let rest = between(bridged, week, end)
                    .iter()
                    .filter(|d| !logged_on(**d))
                    .count() as u32;
                let done = days >= n;
                let open = week == this_week && !done;
                let paused = !done && days + rest >= n;
                if !open && !paused {
                    of += 1;
                    met += u32::from(done);
                }
                week = week + chrono::Days::new(7);
            }
            Some(Rate {
                met,
                of,
                unit: StreakUnit::Week,
            })
        }
    }
}

/// The two of us together.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Us {
    /// Days in the period on which we both logged something.
    pub together_days: u32,
    /// Such days in a row, as of today.
    pub together_streak: u32,
    pub repairs: Repairs,
    /// Whether there is a partner's data at all (after a first sync).
    #[serde(skip)]
    pub with_partner: bool,
    /// How recent my partner's data here is: their name and the day of
    /// the newest line of theirs this journal holds (filled in by the
    /// caller, who knows the logs).
    #[serde(skip)]
    pub partner_as_of: Option<(String, NaiveDate)>,
}

/// The moment (ms since the epoch) of the newest line of `person` that
/// `state` holds: their latest operation or `seen` mark. It tells how
/// recent their data here is.
pub fn heard_from(state: &super::fold::Journal, person: &str) -> Option<u64> {
    let ops = state
        .history
        .get(person)
        .into_iter()
        .flatten()
        .map(|op| op.rev.ms);
    let seen = state
        .seen
        .values()
        .filter(|s| s.owner == person)
        .map(|s| s.rev.ms);
    ops.chain(seen).max()
}

/// Repair moments of either of us.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Repairs {
    /// In the period.
    pub count: u32,
    /// Median minutes from rupture to repair, in the period.
    #[serde(serialize_with = "minutes")]
    pub median_took_minutes: Option<f64>,
    /// The same median over the previous period of equal length.
    #[serde(serialize_with = "minutes")]
    pub previous_median_took_minutes: Option<f64>,
}

/// What `stats` is asked for.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub me: &'a PersonRef,
    pub week_start: WeekStart,
    /// My practices, as `PracticesDoc::catalogue` gives them.
    pub catalogue: &'a [Practice],
    pub today: NaiveDate,
    pub period: DayRange,
    /// The period of equal length before `period`, for the repair trend.
    pub previous: DayRange,
    /// Weeks of strength to give per practice (`stats --trend`); 0 for none.
    pub trend_weeks: usize,
    /// Where my practices and our days together stood at the end of a
    /// day before every day the figures read ([`earliest`]); the index
    /// may then hold only the days after it. `None`: every day.
    pub carried: Option<&'a Carried>,
}

/// The first day the figures of `stats` read but for the carried ones
/// (see [`Request::carried`]): the period's, with the whole week it
/// starts in (a weekly goal's rate judges whole weeks), the previous
/// period's, this week's, yesterday, and the trend's weeks.
pub fn earliest(
    week_start: WeekStart,
    today: NaiveDate,
    period: DayRange,
    previous: DayRange,
    trend_weeks: usize,
) -> NaiveDate {
    let this_week = week_start.week_of(today);
    let trend = (trend_weeks > 0)
        .then(|| this_week.checked_sub_days(Days::new(7 * trend_weeks as u64)))
        .flatten();
    [
        Some(week_start.week_of(period.from)),
        Some(previous.from),
        Some(this_week),
        today.pred_opt(),
        trend,
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(today)
}

/// The statistics of `safe stats`.
///
/// Practices I never logged are left out, and so are retired ones with
/// nothing in the period. Counts and medians cover the period; streaks and
/// strength are as of `today`.
pub fn stats(index: &DayIndex, req: Request<'_>) -> Stats {
    let mine = index.person(&req.me.id);
    let today = req.today;
    let mut practices = Vec::new();
    let known: BTreeSet<&str> = req.catalogue.iter().map(|p| p.id.as_str()).collect();
    // Practices I logged that this binary does not know (a newer partner's,
    // say) are still mine to see, without a goal.
    let carried = req
        .carried
        .map(|c| c.practices.keys())
        .into_iter()
        .flatten();
    let unknown: BTreeSet<&str> = mine
        .logged
        .keys()
        .chain(carried)
        .map(String::as_str)
        .filter(|id| !known.contains(id))
        .collect();
    let unknown = unknown.into_iter().map(|id| (id, Goal::None, false));
    let all = req
        .catalogue
        .iter()
        .map(|p| (p.id.as_str(), p.goal, p.retired))
        .chain(unknown);
    static NEVER: Tally = Tally {
        days: Vec::new(),
        counts: Vec::new(),
    };
    for (id, goal, retired) in all {
        let carry = req.carried.and_then(|c| c.practice(id));
        let tally = mine.logged.get(id).unwrap_or(&NEVER);
        let Some(first) = carry
            .and_then(|(_, c)| c.first)
            .or_else(|| tally.days.first().copied())
        else {
            continue;
        };
        let count = tally.total_between(req.period.from, req.period.to);
        if retired && count == 0 {
            continue;
        }
        let bridged = if goal.has_streak() {
            mine.bridged(id, today)
        } else {
            Vec::new()
        };
        let (streak_carry, score_carry) = match carry {
            Some((through, c)) => (Some((through, &c.streak)), Some((through, &c.score))),
            None => (None, None),
        };
        let run: Option<Streak> = streak_after(
            goal,
            streak_carry,
            &tally.days,
            &bridged,
            req.week_start,
            today,
        );
        practices.push(PracticeStats {
            id: id.to_string(),
            goal,
            count,
            current_streak: run.map(|s| s.current),
            best_streak: run.map(|s| s.best),
            streak_unit: run.map(|s| s.unit),
            strength: strength_after(goal, score_carry, &tally.days, &bridged, today),
            days_this_week: days_this_week(&tally.days, req.week_start, today),
            trend: (req.trend_weeks > 0 && goal.has_streak()).then(|| {
                super::strength::weekly_strength(
                    goal,
                    score_carry,
                    &tally.days,
                    &bridged,
                    today,
                    req.week_start,
                    req.trend_weeks,
                )
            }),
            first_day: Some(first),
            rate: rate(
                goal,
                first,
                &tally.days,
                &bridged,
                req.week_start,
                req.period,
                today,
            ),
        });
    }
    Stats {
        today,
        period: req.period,
        person: req.me.clone(),
        practices,
        us: us(index, &req),
    }
}

fn us(index: &DayIndex, req: &Request<'_>) -> Us {
    let (me, today, period, previous) = (&req.me.id, req.today, req.period, req.previous);
    let mine = &index.person(me).active;
    let theirs = index.others_active(me);
    let with_partner = index.others(me).next().is_some() || req.carried.is_some_and(|c| c.others);
    let repairs = index.repair_moments();
    let took = |range: DayRange| -> Vec<u32> {
        repairs
            .iter()
            .filter(|r| range.contains(r.day))
            .filter_map(|r| r.took_minutes)
            .collect()
    };
    Us {
        together_days: together_days(mine, &theirs, period.from, period.to),
        together_streak: together_streak_after(
            mine,
            &theirs,
            today,
            req.carried.map(|c| (c.through, c.together)),
        ),
        repairs: Repairs {
            count: repairs.iter().filter(|r| period.contains(r.day)).count() as u32,
            median_took_minutes: median(&took(period)),
            previous_median_took_minutes: median(&took(previous)),
        },
        with_partner,
        partner_as_of: None,
    }
}

/// One practice's streak as of today and the days logged this week, for the
/// line `safe log` ends with, going on from `carry` if given (see
/// [`streak_after`]). `None` for a goal-less practice.
pub fn practice_streak(
    index: &DayIndex,
    me: &str,
    practice: &Practice,
    (week_start, today): (WeekStart, NaiveDate),
    carry: Option<(NaiveDate, &super::streak::StreakCarry)>,
) -> Option<(Streak, u32)> {
    let mine = index.person(me);
    let logged = mine.logged_days(&practice.id);
    let bridged = mine.bridged(&practice.id, today);
    let run = streak_after(practice.goal, carry, logged, &bridged, week_start, today)?;
    Some((run, days_this_week(logged, week_start, today)))
}

/// What `safe today` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodayView {
    /// Practices I logged today, in catalogue order, with how many times.
    pub done: Vec<(String, u32)>,
    /// Daily practices not yet logged, skipped or paused today.
    pub open: Vec<String>,
    /// Daily practices skipped or paused today, so they are not open.
    pub resting: Vec<String>,
    /// N/week practices and how far along this week is.
    pub weekly: Vec<WeekProgress>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeekProgress {
    pub practice: String,
    /// Distinct days logged this week.
    pub days: u32,
    pub goal: u8,
}

impl WeekProgress {
    pub fn met(&self) -> bool {
        self.days >= u32::from(self.goal)
    }
}

/// Today at a glance. Retired practices are not offered as open or weekly.
pub fn today(
    index: &DayIndex,
    me: &str,
    catalogue: &[Practice],
    week_start: WeekStart,
    today: NaiveDate,
) -> TodayView {
    let mine = index.person(me);
    let mut view = TodayView::default();
    let known: BTreeSet<&str> = catalogue.iter().map(|p| p.id.as_str()).collect();
    let order = catalogue.iter().map(|p| p.id.as_str()).chain(
        mine.logged
            .keys()
            .map(String::as_str)
            .filter(|id| !known.contains(id)),
    );
    for id in order {
        let n = mine.logged.get(id).map_or(0, |t| t.on(today));
        if n > 0 {
            view.done.push((id.to_string(), n));
        }
    }
    for p in catalogue.iter().filter(|p| !p.retired) {
        let logged = mine.logged.get(&p.id).map_or(0, |t| t.on(today)) > 0;
        match p.goal {
            Goal::Daily if logged => {}
            Goal::Daily if mine.bridged(&p.id, today).last() == Some(&today) => {
                view.resting.push(p.id.clone())
            }
            Goal::Daily => view.open.push(p.id.clone()),
            Goal::PerWeek(n) => view.weekly.push(WeekProgress {
                practice: p.id.clone(),
                days: days_this_week(mine.logged_days(&p.id), week_start, today),
                goal: n,
            }),
            Goal::None => {}
        }
    }
    view
}

/// Whose days a calendar counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Whose {
    /// My entries per day.
    Me,
    /// How many of us logged on each day (0, 1 or 2): no per-partner split.
    Us,
}

/// Counts per day in `range` for a calendar: entries of `practice` (or of any
/// practice). Days with nothing are left out.
pub fn day_counts(
    index: &DayIndex,
    me: &str,
    practice: Option<&str>,
    whose: Whose,
    range: DayRange,
) -> BTreeMap<NaiveDate, u32> {
    let tallies = |person: &'_ PersonDays| -> Vec<Tally> {
        person
            .logged
            .iter()
            .filter(|(id, _)| practice.is_none_or(|p| p == id.as_str()))
            .map(|(_, t)| t.clone())
            .collect()
    };
    let mut counts: BTreeMap<NaiveDate, u32> = BTreeMap::new();
    match whose {
        Whose::Me => {
            for tally in tallies(index.person(me)) {
                for (day, n) in tally
                    .days
                    .iter()
                    .zip(&tally.counts)
                    .filter(|(d, _)| range.contains(**d))
                {
                    *counts.entry(*day).or_default() += n;
                }
            }
        }
        Whose::Us => {
            for person in index.people.values() {
                let days: BTreeSet<NaiveDate> = tallies(person)
                    .iter()
                    .flat_map(|t| t.days.iter().copied())
                    .filter(|d| range.contains(*d))
                    .collect();
                for day in days {
                    *counts.entry(day).or_default() += 1;
                }
            }
        }
    }
    counts
}

/// Strength in JSON: six decimals are plenty, and keep the output stable.
fn six_decimals<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => serializer.serialize_f64((v * 1e6).round() / 1e6),
        None => serializer.serialize_none(),
    }
}

/// A median of minutes: a whole number when it is one (45, not 45.0), else
/// the half an even count can give (52.5).
fn minutes<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) if v.fract() == 0.0 && *v >= 0.0 && *v <= u32::MAX as f64 => {
            serializer.serialize_u64(*v as u64)
        }
        Some(v) => serializer.serialize_f64(*v),
        None => serializer.serialize_none(),
    }
}

/// Noon of `day` in UTC: a moment on that day, for tests.
#[cfg(test)]
pub fn noon(day: NaiveDate) -> DateTime<FixedOffset> {
    day.and_hms_opt(12, 0, 0)
        .expect("noon")
        .and_utc()
        .fixed_offset()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::practice::PracticesDoc;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn range(from: &str, to: &str) -> Vec<NaiveDate> {
        d(from).iter_days().take_while(|x| *x <= d(to)).collect()
    }

    #[test]
    fn the_union_of_lists_of_days_is_every_day_of_any_once() {
        let a = vec![d("2024-12-30"), d("2024-12-30"), d("2025-01-02")];
        let b = range("2024-12-31", "2025-01-01");
        let c = vec![d("2016-02-29"), d("2025-01-02"), d("2026-11-27")];
        let lists = [a.as_slice(), &[], b.as_slice(), c.as_slice()];
        let union = union_of(lists.iter().copied());
        let expected: Vec<NaiveDate> = lists
            .iter()
            .flat_map(|l| l.iter().copied())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(union, expected);
        assert_eq!(union_of([].into_iter()), Vec::<NaiveDate>::new());
        assert_eq!(union_of([c.as_slice()].into_iter()), c);
    }

    /// A small journal built entry by entry, in any order.
    #[derive(Default)]
    struct Builder(DayIndex);

    impl Builder {
        fn log(mut self, who: &str, practice: &str, days: &[NaiveDate]) -> Self {
            let person = self.0.people.entry(who.into()).or_default();
            for day in days {
                person
                    .logged
                    .entry(practice.into())
                    .or_default()
                    .add(*day, 1);
                if practice == REPAIR {
                    person.repairs.push(Repair {
                        day: *day,
                        at: noon(*day),
                        took_minutes: None,
                    });
                }
            }
            self
        }
        fn repair(mut self, who: &str, day: &str, took: u32) -> Self {
            let person = self.0.people.entry(who.into()).or_default();
            person
                .logged
                .entry(REPAIR.into())
                .or_default()
                .add(d(day), 1);
            person.repairs.push(Repair {
                day: d(day),
                at: noon(d(day)),
                took_minutes: Some(took),
            });
            self
        }
        fn skip(mut self, who: &str, practice: &str, day: &str) -> Self {
            self.0
                .people
                .entry(who.into())
                .or_default()
                .skipped
                .entry(practice.into())
                .or_default()
                .push(d(day));
            self
        }
        fn pause(mut self, who: &str, practice: &str, from: &str, until: &str) -> Self {
            self.0
                .people
                .entry(who.into())
                .or_default()
                .paused
                .push(Pause {
                    practice: practice.into(),
                    from: d(from),
                    until: d(until),
                });
            self
        }
        fn build(mut self) -> DayIndex {
            self.0.people.values_mut().for_each(PersonDays::finish);
            self.0
        }
    }

    fn me() -> PersonRef {
        PersonRef {
            id: "a".into(),
            name: "Alex".into(),
        }
    }

    /// Stats for "a" on Friday 2026-11-27, this week (Mon 23 to Sun 29).
    fn week_stats(index: &DayIndex) -> Stats {
        let catalogue = PracticesDoc::default().catalogue("a");
        let person = me();
        stats(
            index,
            Request {
                me: &person,
                week_start: WeekStart::Monday,
                catalogue: &catalogue,
                today: d("2026-11-27"),
                period: DayRange {
                    from: d("2026-11-23"),
                    to: d("2026-11-29"),
                },
                previous: DayRange {
                    from: d("2026-11-16"),
                    to: d("2026-11-22"),
                },
                trend_weeks: 0,
                carried: None,
            },
        )
    }

    fn practice<'a>(stats: &'a Stats, id: &str) -> &'a PracticeStats {
        stats
            .practices
            .iter()
            .find(|p| p.id == id)
            .unwrap_or_else(|| panic!("{id} missing"))
    }

    #[test]
    fn tallies_merge_days_in_any_order() {
        let mut t = Tally::default();
        for day in ["2026-11-03", "2026-11-01", "2026-11-03", "2026-11-02"] {
            t.add(d(day), 1);
        }
        t.finish();
        assert_eq!(
            t.days,
            vec![d("2026-11-01"), d("2026-11-02"), d("2026-11-03")]
        );
        assert_eq!(t.counts, vec![1, 1, 2]);
        assert_eq!(t.total_between(d("2026-11-02"), d("2026-11-30")), 3);
        assert_eq!(t.on(d("2026-11-03")), 2);
        assert_eq!(t.on(d("2026-11-04")), 0);
    }

    #[test]
    fn practice_figures() {
        struct Case {
            name: &'static str,
            index: DayIndex,
            practice: &'static str,
            count: u32,
            current: Option<u32>,
            best: Option<u32>,
        }
        let cases = [
            Case {
                name: "six days in a row, four this week",
                index: Builder::default()
                    .log("a", "appreciation", &range("2026-11-22", "2026-11-27"))
                    .build(),
                practice: "appreciation",
                count: 5,
                current: Some(6),
                best: Some(6),
            },
            Case {
                name: "a skip bridges",
                index: Builder::default()
                    .log("a", "appreciation", &range("2026-11-20", "2026-11-24"))
                    .skip("a", "appreciation", "2026-11-25")
                    .log("a", "appreciation", &range("2026-11-26", "2026-11-27"))
                    .build(),
                practice: "appreciation",
                count: 4,
                current: Some(7),
                best: Some(7),
            },
            Case {
                name: "a pause of everything bridges",
                index: Builder::default()
                    .log("a", "check-in", &range("2026-11-01", "2026-11-10"))
                    .pause("a", "*", "2026-11-11", "2026-11-24")
                    .log("a", "check-in", &range("2026-11-25", "2026-11-26"))
                    .build(),
                practice: "check-in",
                count: 2,
                current: Some(12),
                best: Some(12),
            },
            Case {
                name: "a pause of another practice does not",
                index: Builder::default()
                    .log("a", "check-in", &range("2026-11-01", "2026-11-10"))
                    .pause("a", "date", "2026-11-11", "2026-11-24")
                    .log("a", "check-in", &range("2026-11-25", "2026-11-26"))
                    .build(),
                practice: "check-in",
                count: 2,
                current: Some(2),
                best: Some(10),
            },
            Case {
                name: "goal-less practices count only",
                index: Builder::default()
                    .log("a", "long-kiss", &range("2026-11-26", "2026-11-27"))
                    .build(),
                practice: "long-kiss",
                count: 2,
                current: None,
                best: None,
            },
            Case {
                name: "my partner's days are not mine",
                index: Builder::default()
                    .log("a", "appreciation", &[d("2026-11-27")])
                    .log("b", "appreciation", &range("2026-11-01", "2026-11-27"))
                    .build(),
                practice: "appreciation",
                count: 1,
                current: Some(1),
                best: Some(1),
            },
        ];
        for case in cases {
            let stats = week_stats(&case.index);
            let p = practice(&stats, case.practice);
            assert_eq!(p.count, case.count, "{}: count", case.name);
            assert_eq!(p.current_streak, case.current, "{}: current", case.name);
            assert_eq!(p.best_streak, case.best, "{}: best", case.name);
            assert_eq!(
                p.strength.is_some(),
                case.current.is_some(),
                "{}: strength",
                case.name
            );
        }
    }

    #[test]
    fn weekly_goals_count_weeks() {
        // Three days a week for three weeks, and two so far this week.
        let mut days = Vec::new();
        for monday in ["2026-11-02", "2026-11-09", "2026-11-16"] {
            let m = d(monday);
            days.extend([m, m + chrono::Days::new(2), m + chrono::Days::new(4)]);
        }
        days.extend([d("2026-11-23"), d("2026-11-25")]);
        let stats = week_stats(&Builder::default().log("a", "stress-talk", &days).build());
        let p = practice(&stats, "stress-talk");
        assert_eq!(
            (p.current_streak, p.streak_unit),
            (Some(3), Some(StreakUnit::Week))
        );
        assert_eq!(p.days_this_week, 2);
        assert_eq!(p.count, 2);
    }

    #[test]
    fn rates_count_from_the_first_log_and_spare_rest_and_today() {
        let month = DayRange {
            from: d("2026-11-01"),
            to: d("2026-11-30"),
        };
        let today = d("2026-11-25"); // a Wednesday
        // Daily: first logged on the 4th; the 10th and 11th skipped; today
        // not logged yet, so the 4th to the 24th, less two: 19 days.
        let logged = vec![d("2026-11-04"), d("2026-11-05"), d("2026-11-20")];
        let bridged = vec![d("2026-11-10"), d("2026-11-11")];
        let daily = rate(
            Goal::Daily,
            logged[0],
            &logged,
            &bridged,
            WeekStart::Monday,
            month,
            today,
        );
        assert_eq!(
            daily,
            Some(Rate {
                met: 3,
                of: 19,
                unit: StreakUnit::Day
            })
        );
        // Logged today: today counts.
        let mut with_today = logged.clone();
        with_today.push(today);
        let daily = rate(
            Goal::Daily,
            with_today[0],
            &with_today,
            &bridged,
            WeekStart::Monday,
            month,
            today,
        );
        assert_eq!(daily.map(|r| (r.met, r.of)), Some((4, 20)));
        // 2/week: the weeks of Nov 2 (met), Nov 9 (short, paused two days:
        // bridged), Nov 16 (missed); this week is open and not met yet.
        let weekly = vec![d("2026-11-03"), d("2026-11-05"), d("2026-11-20")];
        let r = rate(
            Goal::PerWeek(2),
            weekly[0],
            &weekly,
            &bridged,
            WeekStart::Monday,
            month,
            today,
        );
        assert_eq!(
            r.map(|r| (r.met, r.of, r.unit)),
            Some((1, 2, StreakUnit::Week))
        );
        assert_eq!(
            rate(
                Goal::None,
                logged[0],
                &logged,
                &[],
                WeekStart::Monday,
                month,
                today
            ),
            None
        );
    }

    #[test]
    fn practices_never_logged_are_left_out() {
        let stats = week_stats(
            &Builder::default()
                .log("a", "appreciation", &[d("2026-11-27")])
                .build(),
        );
        assert_eq!(
            stats
                .practices
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            vec!["appreciation"]
        );
    }

    #[test]
    fn strength_matches_loop_for_twenty_days() {
        // The reference value of strength.rs: 20 daily days in a row.
        let index = Builder::default()
            .log("a", "appreciation", &range("2026-11-08", "2026-11-27"))
            .build();
        let s = practice(&week_stats(&index), "appreciation")
            .strength
            .unwrap();
        assert!((s - 0.655_747_637).abs() < 1e-9, "{s}");
    }

    #[test]
    fn together_needs_both_of_us() {
        let index = Builder::default()
            .log("a", "appreciation", &range("2026-11-20", "2026-11-27"))
            .log("b", "gentle-touch", &range("2026-11-24", "2026-11-27"))
            .log("b", "check-in", &[d("2026-11-21")])
            .build();
        let us = week_stats(&index).us;
        assert_eq!(
            (us.together_days, us.together_streak, us.with_partner),
            (4, 4, true)
        );

        let alone = Builder::default()
            .log("a", "appreciation", &range("2026-11-20", "2026-11-27"))
            .build();
        let us = week_stats(&alone).us;
        assert_eq!(
            (us.together_days, us.together_streak, us.with_partner),
            (0, 0, false)
        );
    }

    #[test]
    fn repairs_of_either_of_us_with_medians() {
        let index = Builder::default()
            .repair("a", "2026-11-24", 30)
            .repair("b", "2026-11-26", 60)
            .log("a", REPAIR, &[d("2026-11-27")]) // no --took
            .repair("a", "2026-11-17", 120)
            .repair("b", "2026-11-10", 500) // two weeks ago: in neither period
            .build();
        let repairs = week_stats(&index).us.repairs;
        assert_eq!(repairs.count, 3);
        assert_eq!(repairs.median_took_minutes, Some(45.0));
        assert_eq!(repairs.previous_median_took_minutes, Some(120.0));
    }

    #[test]
    fn both_of_us_repairing_one_rupture_is_one_moment() {
        let at = |day: &str, hour: u32| {
            d(day)
                .and_hms_opt(hour, 0, 0)
                .unwrap()
                .and_utc()
                .fixed_offset()
        };
        let repair = |day: &str, hour: u32, took: Option<u32>| Repair {
            day: d(day),
            at: at(day, hour),
            took_minutes: took,
        };
        let person = |repairs: Vec<Repair>| PersonDays {
            repairs,
            ..PersonDays::default()
        };
        let mut index = DayIndex::default();
        // Tuesday: each of us logged the evening's repair; mine said 30m,
        // yours 50m. Wednesday: two ruptures for me, one logged by you,
        // paired with my first. Thursday: only you.
        index.people.insert(
            "a".into(),
            person(vec![
                repair("2026-11-24", 21, Some(30)),
                repair("2026-11-25", 9, None),
                repair("2026-11-25", 20, Some(90)),
            ]),
        );
        index.people.insert(
            "b".into(),
            person(vec![
                repair("2026-11-24", 22, Some(50)),
                repair("2026-11-25", 10, Some(15)),
                repair("2026-11-26", 8, Some(5)),
            ]),
        );
        for p in index.people.values_mut() {
            p.finish();
        }
        let moments: Vec<(NaiveDate, Option<u32>)> = index
            .repair_moments()
            .iter()
            .map(|r| (r.day, r.took_minutes))
            .collect();
        assert_eq!(
            moments,
            [
                (d("2026-11-24"), Some(30)),
                (d("2026-11-25"), Some(15)),
                (d("2026-11-25"), Some(90)),
                (d("2026-11-26"), Some(5)),
            ]
        );
        let repairs = week_stats(&index).us.repairs;
        assert_eq!(repairs.count, 4);
        assert_eq!(repairs.median_took_minutes, Some(22.5));
    }

    #[test]
    fn json_has_the_contract_shape() {
        let index = Builder::default()
            .log("a", "appreciation", &range("2026-11-22", "2026-11-27"))
            .log("a", "long-kiss", &[d("2026-11-27")])
            .repair("b", "2026-11-26", 45)
            .build();
        let value = serde_json::to_value(week_stats(&index)).unwrap();
        let keys =
            |v: &serde_json::Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&value),
            ["period", "person", "practices", "today", "us"]
        );
        assert_eq!(
            value["period"],
            serde_json::json!({"from": "2026-11-23", "to": "2026-11-29"})
        );
        assert_eq!(
            value["person"],
            serde_json::json!({"id": "a", "name": "Alex"})
        );
        // Catalogue order: long-kiss comes before appreciation.
        let (kiss, appreciation) = (&value["practices"][0], &value["practices"][1]);
        assert_eq!(kiss["id"], "long-kiss");
        assert_eq!(
            keys(appreciation),
            [
                "best_streak",
                "count",
                "current_streak",
                "goal",
                "id",
                "streak_unit",
                "strength"
            ]
        );
        assert_eq!(appreciation["goal"], "daily");
        assert_eq!(appreciation["streak_unit"], "day");
        assert_eq!(appreciation["current_streak"], 6);
        assert_eq!(kiss["goal"], "none");
        for field in ["current_streak", "best_streak", "streak_unit", "strength"] {
            assert_eq!(kiss[field], serde_json::Value::Null, "{field}");
        }
        assert_eq!(
            keys(&value["us"]),
            ["repairs", "together_days", "together_streak"]
        );
        assert_eq!(value["us"]["repairs"]["median_took_minutes"], 45);
        assert!(value["us"]["repairs"]["median_took_minutes"].is_u64());
        assert_eq!(
            value["us"]["repairs"]["previous_median_took_minutes"],
            serde_json::Value::Null
        );
        let text = serde_json::to_string(&appreciation["strength"]).unwrap();
        assert!(text.len() <= "0.123456".len(), "{text}");
    }

    #[test]
    fn today_at_a_glance() {
        let catalogue = PracticesDoc::default().catalogue("a");
        let index = Builder::default()
            .log("a", "appreciation", &[d("2026-11-27"), d("2026-11-27")])
            .log("a", "long-kiss", &[d("2026-11-27")])
            .skip("a", "check-in", "2026-11-27")
            .log("a", "stress-talk", &[d("2026-11-23"), d("2026-11-26")])
            .log("b", "gentle-touch", &[d("2026-11-27")])
            .build();
        let view = today(&index, "a", &catalogue, WeekStart::Monday, d("2026-11-27"));
        assert_eq!(
            view.done,
            vec![
                ("long-kiss".to_string(), 1),
                ("appreciation".to_string(), 2)
            ]
        );
        assert_eq!(view.open, vec!["gentle-touch", "turn-toward"]);
        assert_eq!(view.resting, vec!["check-in"]);
        let stress = view
            .weekly
            .iter()
            .find(|w| w.practice == "stress-talk")
            .unwrap();
        assert_eq!((stress.days, stress.goal, stress.met()), (2, 3, false));
    }

    #[test]
    fn calendar_counts() {
        let index = Builder::default()
            .log(
                "a",
                "appreciation",
                &[d("2026-11-26"), d("2026-11-26"), d("2026-11-27")],
            )
            .log("a", "long-kiss", &[d("2026-11-27")])
            .log("b", "gentle-touch", &[d("2026-11-27"), d("2026-11-25")])
            .build();
        let all = DayRange {
            from: d("2026-11-01"),
            to: d("2026-11-27"),
        };
        let mine = day_counts(&index, "a", None, Whose::Me, all);
        assert_eq!(
            mine,
            BTreeMap::from([(d("2026-11-26"), 2), (d("2026-11-27"), 2)])
        );
        let one = day_counts(&index, "a", Some("appreciation"), Whose::Me, all);
        assert_eq!(
            one,
            BTreeMap::from([(d("2026-11-26"), 2), (d("2026-11-27"), 1)])
        );
        let us = day_counts(&index, "a", None, Whose::Us, all);
        assert_eq!(
            us,
            BTreeMap::from([
                (d("2026-11-25"), 1),
                (d("2026-11-26"), 1),
                (d("2026-11-27"), 2)
            ])
        );
    }

    #[test]
    fn the_first_day_of_the_journal() {
        let index = Builder::default()
            .log("a", "appreciation", &[d("2026-11-26")])
            .pause("b", "*", "2026-10-01", "2026-10-03")
            .build();
        assert_eq!(index.first_day(), Some(d("2026-10-01")));
        assert_eq!(DayIndex::default().first_day(), None);
    }

    /// The streak line of a weekly practice counts the weeks met, and this
    /// week is still open.
    #[test]
    fn a_weekly_streak_leaves_this_week_open() {
        let catalogue = PracticesDoc::default().catalogue("a");
        let weekly = catalogue.iter().find(|p| p.id == "date").unwrap().clone();
        let today = d("2026-11-27");
        let saturdays = |from: &str, to: &str| -> Vec<NaiveDate> {
            range(from, to)
                .into_iter()
                .filter(|d| chrono::Datelike::weekday(d) == chrono::Weekday::Sat)
                .collect()
        };
        // A week without a date in October ends the run.
        let mut days = saturdays("2026-08-20", "2026-10-09");
        days.extend(saturdays("2026-10-19", "2026-11-27"));
        let index = Builder::default().log("a", "date", &days).build();
        let (run, _) =
            practice_streak(&index, "a", &weekly, (WeekStart::Monday, today), None).unwrap();
        assert_eq!(
            run.current, 5,
            "the weeks of Oct 19 to Nov 16; this one is open"
        );
    }
}
