//! `safe pause`: pause one practice or all of them for a run of days.

use chrono::Datelike;

use super::session::{NotePlace, new_entry, stage_entry};
use super::{Context, auto_sync, known_practice};
use crate::domain::entry::{ALL_PRACTICES, Kind};
use crate::error::{Error, Result};
use crate::journal::view::View;

/// Pause practices for a while, keeping their streaks.
///
/// For travel, illness or a busy season: paused days bridge streaks and
/// leave strength unchanged. Without --practice, every practice is paused.
/// A pause plans ahead, up to a year: a weekday or MM-DD means the next
/// one, and `next friday`, `tomorrow`, `in 3 days` work too.
/// Remove a pause like any entry, with `safe rm <ID>` or `safe undo`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe pause --from wednesday --to saturday\n  safe pause --from 12-20 --to 01-02\n  safe pause --from \"next friday\" --days 4\n  safe pause --from \"3 days ago\" --to today --practice date"
)]
pub struct PauseArgs {
    /// First paused day.
    #[arg(long, value_name = "WHEN")]
    pub from: String,
    /// Last paused day (included).
    #[arg(long, value_name = "WHEN", required_unless_present = "days")]
    pub to: Option<String>,
    /// How many days, from --from on (instead of --to).
    #[arg(long, value_name = "N", conflicts_with = "to", value_parser = clap::value_parser!(u16).range(1..=366))]
    pub days: Option<u16>,
    /// Pause only this practice.
    #[arg(long, short, value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: Option<String>,
}

pub fn cmd_pause(ctx: &mut Context<'_>, args: PauseArgs) -> Result<()> {
    use crate::domain::when::parse_plan_day;
    let from = parse_plan_day(&args.from, ctx.today, ctx.today)?;
    let to = match (&args.to, args.days) {
        (Some(text), _) => parse_plan_day(text, ctx.today, from)?,
        (None, Some(days)) => from + chrono::Days::new(u64::from(days) - 1),
        (None, None) => unreachable!("clap requires --to or --days"),
    };
    if to < from {
        return Err(
            Error::input(format!("the pause ends ({to}) before it starts ({from})"))
                .with_hint("give the earlier day to --from"),
        );
    }
    if let Err(why) = crate::domain::limits::check_pause(from, to, ctx.today) {
        return Err(
            Error::input(why).with_hint("pause at most a year ahead; you can always pause again")
        );
    }
    let (mut session, practice) = ctx.session_checked(|view, config| {
        Ok(match &args.practice {
            Some(p) => known_practice(&view.practices, &config.id, p)?.id,
            None => ALL_PRACTICES.to_string(),
        })
    })?;
    let mut entry = new_entry(Kind::Pause, &practice, from, ctx.at_for(from));
    entry.until = Some(to);
    let id = entry.id;
    session.write(ctx, stage_entry(entry, None, NotePlace::Kept, false)?)?;
    let id = session.view.short_id(&id);
    let what = if practice == ALL_PRACTICES {
        "every practice".to_string()
    } else {
        practice.clone()
    };
    let days = (to - from).num_days() + 1;
    let named = |d: chrono::NaiveDate| {
        if d.year() == ctx.today.year() {
            d.format("%a %-d %b").to_string()
        } else {
            d.format("%a %-d %b %Y").to_string()
        }
    };
    writeln!(
        ctx.out,
        "Paused {what} from {} to {} ({days} {}). Streaks wait for you. ({id})",
        named(from),
        named(to),
        if days == 1 { "day" } else { "days" }
    )?;
    if to < ctx.today {
        writeln!(
            ctx.out,
            "Note: this pause lies entirely in the past; `safe rm {id}` takes it back if that was a slip."
        )?;
    }
    let logged = logged_days_within(&session.view, &practice, from, to.min(ctx.today));
    if logged > 0 {
        writeln!(
            ctx.out,
            "Note: you logged on {logged} of these days; a logged day counts as done, not as paused."
        )?;
    }
    auto_sync(ctx, &mut session);
    Ok(())
}

/// How many days from `from` to `to` I logged `practice` (any practice for
/// a pause of everything), from the view.
fn logged_days_within(
    view: &View,
    practice: &str,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
) -> usize {
    let mut days: Vec<chrono::NaiveDate> = view
        .mine()
        .filter(|i| i.entry.kind == Kind::Log)
        .filter(|i| practice == ALL_PRACTICES || i.entry.practice == practice)
        .map(|i| i.entry.day)
        .filter(|d| *d >= from && *d <= to)
        .collect();
    days.dedup();
    days.len()
}
