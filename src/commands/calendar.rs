//! `safe calendar`: a heatmap of the last weeks in the terminal.

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};

use super::Context;
use crate::domain::summary::{self, DayRange, Whose};
use crate::error::Result;
use crate::render::heatmap::Heatmap;
use crate::render::sanitize::sanitize_line;

/// A heatmap of the last weeks: one row per weekday, one column per week.
///
/// Shading shows how many entries you logged each day (of one practice, or
/// of all of them). With --who us it shows how many of you practised that
/// day: one or both. Without colour (NO_COLOR, or piped) it uses plain
/// characters: · none, ░ one, ▒ two, ▓ three or more.
///
/// Examples:
///   safe calendar
///   safe calendar appreciation --weeks 52
///   safe calendar --who us
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CalendarArgs {
    /// Only this practice (default: every practice).
    #[arg(value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: Option<String>,
    /// How many weeks to show, ending with this one (1 to 260).
    #[arg(long, value_name = "N", default_value_t = 26, value_parser = clap::value_parser!(u32).range(1..=260))]
    pub weeks: u32,
    /// Whose days: mine, or ours (how many of us practised each day).
    #[arg(long, value_enum, default_value_t = Who::Me)]
    pub who: Who,
}

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
    let first_week = config.week_start.week_of(ctx.today);
    let from = first_week
        .checked_sub_days(Days::new(7 * u64::from(args.weeks - 1)))
        .unwrap_or(NaiveDate::MIN);
    let index = view.day_index();
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
    let weeks = if args.weeks == 1 {
        "this week".to_string()
    } else {
        format!("the last {} weeks", args.weeks)
    };
    let title = match args.who {
        Who::Me => format!("{what}, {weeks}: entries per day"),
        Who::Us => format!("{what}, {weeks}: how many of you practised each day"),
    };
    writeln!(ctx.out, "{title}")?;
    writeln!(ctx.out)?;
    let map = Heatmap {
        counts: &counts,
        today: ctx.today,
        weeks: args.weeks,
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
