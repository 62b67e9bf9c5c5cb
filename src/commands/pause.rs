//! `safe pause`: pause one practice or all of them for a run of days.

use super::{Context, auto_sync, known_practice};
use crate::domain::entry::{ALL_PRACTICES, Entry, Kind};
use crate::error::{Error, Result};

/// Pause practices for a while, keeping their streaks.
///
/// For travel, illness or a busy season: paused days bridge streaks and
/// leave strength unchanged. Without --practice, every practice is paused.
/// Days ahead (up to a year) are written YYYY-MM-DD.
/// Remove a pause like any entry, with `safe rm <ID>` or `safe undo`.
///
/// Examples:
///   safe pause --from 2026-12-20 --to 2027-01-02
///   safe pause --from "3 days ago" --to today --practice date
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct PauseArgs {
    /// First paused day.
    #[arg(long, value_name = "WHEN")]
    pub from: String,
    /// Last paused day (included).
    #[arg(long, value_name = "WHEN")]
    pub to: String,
    /// Pause only this practice.
    #[arg(long, short, value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: Option<String>,
}

pub fn cmd_pause(ctx: &mut Context<'_>, args: PauseArgs) -> Result<()> {
    let from = pause_day(ctx, &args.from)?;
    let to = pause_day(ctx, &args.to)?;
    if to < from {
        return Err(
            Error::input(format!("the pause ends ({to}) before it starts ({from})"))
                .with_hint("give the earlier day to --from"),
        );
    }
    let (lock, mut config) = ctx.open()?;
    let practice = match &args.practice {
        Some(p) => known_practice(&ctx.dir.read_practices()?, &config.id, p)?.id,
        None => ALL_PRACTICES.to_string(),
    };
    let rev = config.tick(ctx.wall_ms());
    let mut entry = Entry::new(
        Kind::Pause,
        &practice,
        from,
        ctx.at_for(from),
        &config.id,
        rev,
    );
    entry.until = Some(to);
    let mut batch = lock.batch();
    let id = super::log::add_entry(&ctx.dir, &mut batch, entry, None, false, false, None)?;
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;
    let what = if practice == ALL_PRACTICES {
        "every practice".to_string()
    } else {
        practice
    };
    let days = (to - from).num_days() + 1;
    writeln!(
        ctx.out,
        "Paused {what} from {from} to {to} ({days} {}). Streaks wait for you. ({id})",
        if days == 1 { "day" } else { "days" }
    )?;
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}

/// A pause may be planned ahead (a trip next month), so unlike a log it
/// takes days up to a year ahead, written in full as YYYY-MM-DD.
fn pause_day(ctx: &Context<'_>, text: &str) -> Result<chrono::NaiveDate> {
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
        && day > ctx.today
    {
        if day > crate::domain::limits::last_pause_day(ctx.today) {
            return Err(Error::input(format!("{day} is more than a year ahead"))
                .with_hint("pause at most a year ahead; you can always pause again"));
        }
        return Ok(day);
    }
    ctx.parse_day(text)
}
