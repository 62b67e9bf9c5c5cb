//! `safe skip`: mark a day as skipped on purpose, so it bridges a streak.

use super::{Context, auto_sync, known_practice};
use crate::domain::entry::{Entry, Kind};
use crate::error::{Error, Result};

/// Skip a practice for a day, keeping its streak.
///
/// For illness, travel or a hard day: the day bridges your streak without
/// adding to it and leaves your strength unchanged. Remove a skip like any entry, with `safe rm <ID>` or `safe undo`.
///
/// Examples:
///   safe skip date
///   safe skip check-in --date yesterday
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
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
    let (lock, mut config) = ctx.open()?;
    let practice = known_practice(&ctx.dir.read_practices()?, &config.id, &args.practice)?;
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
    let mut cache = crate::store::cache::Cache::load(&ctx.dir);
    if super::log::logged_on(ctx, &mut cache, &config.id, &practice.id, day)? {
        return Err(Error::input(format!(
            "you logged {} {}: a skip is for a day you did not",
            practice.id,
            super::describe_day(ctx.today, day)
        ))
        .with_hint("remove the entry first (`safe history` shows its id, `safe rm <ID>`) if it was a mistake"));
    }
    let month = crate::domain::month::YearMonth::of(day);
    let already = ctx
        .dir
        .read_month(crate::store::Side::Shared, month)?
        .live()
        .any(|e| {
            e.kind == Kind::Skip
                && e.author == config.id
                && e.practice == practice.id
                && e.day == day
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
    let rev = config.tick(ctx.wall_ms());
    let entry = Entry::new(
        Kind::Skip,
        &practice.id,
        day,
        ctx.at_for(day),
        &config.id,
        rev,
    );
    let mut batch = lock.batch();
    let id = super::log::add_entry(&ctx.dir, &mut batch, entry, None, false, false, None)?;
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;
    writeln!(
        ctx.out,
        "Skipped {} {}: your streak is kept. ({id})",
        practice.id,
        super::describe_day(ctx.today, day)
    )?;
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}
