//! `safe skip`: mark a day as skipped on purpose, so it bridges a streak.

use super::session::{NotePlace, new_entry, stage_entry};
use super::{Context, auto_sync, known_practice};
use crate::domain::entry::Kind;
use crate::error::{Error, Result};

/// Skip a practice for a day, keeping its streak.
///
/// For illness, travel or a hard day: the day bridges your streak without
/// adding to it and leaves your strength unchanged. Remove a skip like any entry, with `safe rm <ID>` or `safe undo`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe skip date\n  safe skip check-in --date yesterday")]
pub struct SkipArgs {
    /// The practice to skip.
    #[arg(value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: String,
    /// Which day: today, yesterday, 3 days ago, friday, 2026-11-20, 11-20.
    #[arg(long, short, value_name = "WHEN", default_value = "today")]
    pub date: String,
}

pub fn cmd_skip(ctx: &mut Context<'_>, args: SkipArgs) -> Result<()> {
    let day = ctx.parse_day(&args.date)?;
    let (mut session, practice) = ctx.session_checked(|view, config| {
        known_practice(&view.practices, &config.id, &args.practice)
    })?;
    if !practice.goal.has_streak() {
        return Err(Error::input(format!(
            "{} has no goal, so there is no streak to keep",
            practice.id
        ))
        .with_hint(format!(
            "set one with `safe practice goal {} daily`",
            practice.id
        )));
    }
    if super::log::logged_on(
        &session.my_practice_days_in(&practice.id, day)?,
        &session.config.id,
        &practice.id,
        day,
    ) {
        return Err(Error::input(format!(
            "you logged {} {}: a skip is for a day you did not",
            practice.id,
            super::describe_day(ctx.today, day)
        ))
        .with_hint("remove the entry first (`safe history` shows its id, `safe rm <ID>`) if it was a mistake"));
    }
    let already = session.view.mine().any(|i| {
        i.entry.kind == Kind::Skip && i.entry.practice == practice.id && i.entry.day == day
    });
    if already {
        writeln!(
            ctx.out,
            "{} is already skipped {}.",
            practice.id,
            super::describe_day(ctx.today, day)
        )?;
        return Ok(());
    }
    let entry = new_entry(Kind::Skip, &practice.id, day, ctx.at_for(day));
    let id = entry.id;
    session.write(ctx, stage_entry(entry, None, NotePlace::Kept, false)?)?;
    let id = session.view.short_id(&id);
    writeln!(
        ctx.out,
        "Skipped {} {}: your streak is kept. ({id})",
        practice.id,
        super::describe_day(ctx.today, day)
    )?;
    auto_sync(ctx, &mut session);
    Ok(())
}
