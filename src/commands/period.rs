//! The PERIOD options shared by `history` and `stats`: this week by default,
//! or a month, a year, everything, or an explicit range.

use chrono::{Datelike, Days, NaiveDate};

use super::Context;
use crate::domain::goal::WeekStart;
use crate::domain::summary::DayRange;
use crate::error::{Error, Result};

// One period at a time: each choice conflicts with the ones after it
// (conflicts go both ways), while --until belongs with --since.
#[derive(Debug, Clone, Default, clap::Args)]
#[group(skip)]
pub struct PeriodArgs {
    /// This calendar week (the default).
    #[arg(long, conflicts_with_all = ["month", "year", "all", "since"])]
    pub week: bool,
    /// This calendar month.
    #[arg(long, conflicts_with_all = ["year", "all", "since"])]
    pub month: bool,
    /// This calendar year.
    #[arg(long, conflicts_with_all = ["all", "since"])]
    pub year: bool,
    /// Everything ever logged.
    #[arg(long, conflicts_with = "since")]
    pub all: bool,
    /// From this day on (today, yesterday, 3 days ago, friday, 2026-11-01, 11-01).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Up to this day, with --since (default: today).
    #[arg(long, value_name = "WHEN", requires = "since")]
    pub until: Option<String>,
}

/// A range of days, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `--all`: `from` is only a floor, the start of the journal.
    pub all: bool,
}

impl Period {
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// The same days, as the statistics take them.
    pub fn days(&self) -> DayRange {
        DayRange {
            from: self.from,
            to: self.to,
        }
    }

    /// Number of days in the period.
    pub fn len_days(&self) -> u64 {
        (self.to - self.from).num_days().max(0) as u64 + 1
    }

    /// The period of equal length just before this one.
    pub fn previous(&self) -> Period {
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to
            .checked_sub_days(Days::new(self.len_days() - 1))
            .unwrap_or(to);
        Period {
            from,
            to,
            all: false,
        }
    }
}

impl PeriodArgs {
    /// Resolve the options to days. Calendar periods run to their natural end
    /// (a week ends on its last day even if that is after today), as the
    /// design's stats example shows.
    pub fn resolve(&self, ctx: &Context<'_>, week_start: WeekStart) -> Result<Period> {
        let today = ctx.today;
        let period = if self.all {
            Period {
                from: NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"),
                to: today,
                all: true,
            }
        } else if let Some(since) = &self.since {
            let from = ctx.parse_day(since)?;
            let to = match &self.until {
                Some(until) => ctx.parse_day(until)?,
                None => today,
            };
            if to < from {
                return Err(
                    Error::input(format!("--until {to} is before --since {from}"))
                        .with_hint("give the earlier day to --since"),
                );
            }
            Period {
                from,
                to,
                all: false,
            }
        } else if self.month {
            let from = today.with_day(1).expect("day 1");
            let to = crate::domain::month::YearMonth::of(today).last_day();
            Period {
                from,
                to,
                all: false,
            }
        } else if self.year {
            let from = NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("jan 1");
            let to = NaiveDate::from_ymd_opt(today.year(), 12, 31).expect("dec 31");
            Period {
                from,
                to,
                all: false,
            }
        } else {
            let from = week_start.week_of(today);
            Period {
                from,
                to: from + Days::new(6),
                all: false,
            }
        };
        Ok(period)
    }
}
