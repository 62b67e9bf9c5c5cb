//! `safe rm`: remove one of my entries.

use super::{Context, auto_sync};
use crate::domain::entry::{Entry, Kind};
use crate::domain::month::YearMonth;
use crate::domain::rev::Rev;
use crate::error::Result;
use crate::store::{Batch, DataDir, Side, find_entry};

/// Remove one of your entries, skips or pauses.
///
/// The entry becomes a tombstone: it disappears everywhere, its note is
/// forgotten, and a sync tells your partner's copy too. (A note you had
/// shared stays in the sync repository's history.)
///
/// Example:
///   safe rm 019ac0de
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct RmArgs {
    /// The entry's id, or any unique prefix of at least 4 characters.
    #[arg(value_name = "ID", add = clap_complete::ArgValueCandidates::new(super::completions::entry_candidates))]
    pub id: String,
}

pub fn cmd_rm(ctx: &mut Context<'_>, args: RmArgs) -> Result<()> {
    let (lock, mut config) = ctx.open()?;
    let found = find_entry(&ctx.dir, &args.id)?;
    super::log::check_author(&found.entry, &config, &ctx.dir.read_people()?)?;
    let rev = config.tick(ctx.wall_ms());
    let mut batch = lock.batch();
    remove(&ctx.dir, &mut batch, &found.entry, found.side, rev)?;
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;
    writeln!(
        ctx.out,
        "Removed {} {} ({}).",
        describe(&found.entry),
        super::describe_day(ctx.today, found.entry.day),
        ctx.dir
            .short_id(&found.entry.id, found.entry.day, Vec::new(), None)
    )?;
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}

/// Stage the tombstone of an entry where it lives, and forget its private
/// note.
pub fn remove(
    dir: &DataDir,
    batch: &mut Batch<'_>,
    entry: &Entry,
    side: Side,
    rev: Rev,
) -> Result<()> {
    let month = YearMonth::of(entry.day);
    let mut doc = dir.read_month(side, month)?;
    if let Some(held) = doc.entry_mut(&entry.id) {
        held.tombstone(rev.clone());
    }
    dir.write_month(side, month, &mut doc, batch)?;
    if side == Side::Shared {
        let mut private = dir.read_month(Side::Private, month)?;
        if private.note(&entry.id).is_some() {
            private.set_note(entry.id, None, rev);
            dir.write_month(Side::Private, month, &mut private, batch)?;
        }
    }
    Ok(())
}

/// "appreciation", "the skip of date", "the pause of all practices".
pub fn describe(entry: &Entry) -> String {
    match entry.kind {
        Kind::Log => entry.practice.clone(),
        Kind::Skip => format!("the skip of {}", entry.practice),
        Kind::Pause if entry.practice == crate::domain::entry::ALL_PRACTICES => {
            "the pause of all practices".to_string()
        }
        Kind::Pause => format!("the pause of {}", entry.practice),
    }
}
