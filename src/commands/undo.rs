//! `safe undo`: remove the entry I made most recently.

use super::{Context, auto_sync};
use crate::domain::entry::Entry;
use crate::error::{Error, Result};
use crate::store::Side;

/// Remove the entry you made most recently (a log, skip or pause).
///
/// The entry becomes a tombstone: it disappears everywhere, its note is
/// forgotten, and a sync tells your partner's copy too.
///
/// Example:
///   safe log apology --date yesterday   # oops, that was today
///   safe undo
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct UndoArgs {}

pub fn cmd_undo(ctx: &mut Context<'_>, _args: UndoArgs) -> Result<()> {
    let (lock, mut config) = ctx.open()?;
    // UUIDv7 ids grow with creation time, so the greatest id of mine is the
    // entry made last, even when it was logged for an earlier day.
    let mut latest: Option<(Entry, Side)> = None;
    for month in ctx.dir.months()?.into_iter().rev() {
        for side in [Side::Shared, Side::Private] {
            for entry in ctx
                .dir
                .read_month(side, month)?
                .live()
                .filter(|e| e.author == config.id)
            {
                if latest.as_ref().is_none_or(|(l, _)| entry.id > l.id) {
                    latest = Some((entry.clone(), side));
                }
            }
        }
    }
    let Some((entry, side)) = latest else {
        return Err(Error::input("there is nothing of yours to undo")
            .with_hint("`safe log <PRACTICE>` records a practice"));
    };
    let rev = config.tick(ctx.wall_ms());
    let mut batch = lock.batch();
    super::rm::remove(&ctx.dir, &mut batch, &entry, side, rev)?;
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;
    writeln!(
        ctx.out,
        "Removed {} {} ({}).",
        super::rm::describe(&entry),
        super::describe_day(ctx.today, entry.day),
        ctx.dir.short_id(&entry.id, entry.day, Vec::new(), None)
    )?;
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}
