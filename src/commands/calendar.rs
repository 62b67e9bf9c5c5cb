//! `safe calendar`: a heatmap of the last weeks in the terminal.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use super::Context;
use crate::domain::entry::ALL_PRACTICES;
use crate::domain::summary::PersonDays;
use crate::domain::summary::{self, DayRange, Whose};
use crate::error::Result;
use crate::render;
use crate::render::heatmap::{Heatmap, Rest};
use crate::render::sanitize::sanitize_line;

/// A heatmap of the last weeks: one row per weekday, one column per week.
///
/// Shading shows how many entries you logged each day (of one practice, or of all of them). With --who us it shows how many of you practised that day: one or both. Without colour (NO_COLOR, or piped) it uses plain characters: · none, ░ one, ▒ two, ▓ three or more.
///
/// A day you skipped (-) or paused (‖) is rest, not a miss, and today is in brackets. A new journal's calendar starts at its first week, and the calendar never grows wider than the terminal.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe calendar\n  safe calendar appreciation --weeks 52\n  safe calendar --who us"
)]
pub struct CalendarArgs {
    /// Only this practice (default: every practice).
    #[arg(value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: Option<String>,
    /// How many weeks to show, ending with this one (1 to 260; default: 26, or since the journal began, and never more than fit the terminal).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=260))]
    pub weeks: Option<u32>,
    /// Whose days: mine, or ours (how many of us practised each day).
    #[arg(long, value_enum, default_value_t = Who::Me)]
    pub who: Who,
}

/// Weeks shown by default, once the journal is that old: half a year.
const DEFAULT_WEEKS: u32 = 26;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Who {
    Me,
    Us,
}

pub fn cmd_calendar(ctx: &mut Context<'_>, args: CalendarArgs) -> Result<()> {
    let (view, config) = ctx.light_view()?;
    let practice = match &args.practice {
        Some(p) => Some(super::known_practice(&view.practices, &config.id, p)?.id),
        None => None,
    };
    let index = view.day_index();
    let this_week = config.week_start.week_of(ctx.today);
    let weeks = args.weeks.unwrap_or_else(|| {
        // A new journal starts at its first week, not half a year of blanks.
        let first = index.first_day().unwrap_or(ctx.today).min(ctx.today);
        let since = (this_week - config.week_start.week_of(first)).num_weeks() + 1;
        u32::try_from(since).unwrap_or(u32::MAX).min(DEFAULT_WEEKS)
    });
    // As many as fit the terminal.
    let fit = render::width().map_or(u32::MAX, |width| {
        (1..=weeks)
            .rev()
            .find(|w| Heatmap::width(*w) <= usize::from(width))
            .unwrap_or(1)
    });
    let weeks = weeks.min(fit);
    let from = this_week
        .checked_sub_days(Days::new(7 * u64::from(weeks - 1)))
        .unwrap_or(NaiveDate::MIN);
    let whose = match args.who {
        Who::Me => Whose::Me,
        Who::Us => Whose::Us,
    };
    let counts: BTreeMap<NaiveDate, u32> = summary::day_counts(
        &index,
        &config.id,
        practice.as_deref(),
        whose,
        DayRange {
            from,
            to: ctx.today,
        },
    );

    let what = practice.as_deref().map_or_else(
        || "every practice".to_string(),
        |p| sanitize_line(p).into_owned(),
    );
    let span = if weeks == 1 {
        "this week".to_string()
    } else {
        format!("the last {weeks} weeks")
    };
    let title = match args.who {
        Who::Me => format!("{what}, {span}: entries per day"),
        Who::Us => format!("{what}, {span}: how many of you practised each day"),
    };
    writeln!(ctx.out, "{title}")?;
    writeln!(ctx.out)?;
    let rest = rest_days(
        index.person(&config.id),
        practice.as_deref(),
        DayRange {
            from,
            to: ctx.today,
        },
    );
    let map = Heatmap {
        counts: &counts,
        rest: &rest,
        today: ctx.today,
        weeks,
        week_start: config.week_start,
        color: ctx.color,
    };
    write!(ctx.out, "{}", map.render())?;
    if args.who == Who::Us && index.others(&config.id).next().is_none() {
        writeln!(ctx.out)?;
        writeln!(
            ctx.out,
            "Only your days so far: sync with your partner to see theirs (`safe sync --remote URL`)."
        )?;
    }
    Ok(())
}

/// My days of rest in `range`: skipped (this practice, or any when none is
/// named) or paused (this practice or everything; any pause when none is
/// named). A pause wins over a skip on the same day.
fn rest_days(
    mine: &PersonDays,
    practice: Option<&str>,
    range: DayRange,
) -> BTreeMap<NaiveDate, Rest> {
    let mut rest = BTreeMap::new();
    let concerns = |id: &str| practice.is_none_or(|p| p == id);
    for (id, days) in &mine.skipped {
        if concerns(id) {
            for day in days.iter().filter(|d| range.contains(**d)) {
                rest.insert(*day, Rest::Skipped);
            }
        }
    }
    for pause in &mine.paused {
        if pause.practice == ALL_PRACTICES || concerns(&pause.practice) {
            let days = pause.from.max(range.from).iter_days();
            for day in days.take_while(|d| *d <= pause.until.min(range.to)) {
                rest.insert(day, Rest::Paused);
            }
        }
    }
    rest
}
