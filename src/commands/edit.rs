//! `safe edit`: change the note, day or repair time of one of my entries.

use super::{Context, auto_sync};
use crate::domain::month::YearMonth;
use crate::error::{Error, Result};
use crate::store::{Side, find_entry};

/// Change the note, day or repair time of one of your entries.
///
/// A note keeps its sharing: a shared note stays shared, a private one
/// private. `--note ""` removes the note.
///
/// Examples:
///   safe edit 019ac0de --note "after the walk"
///   safe edit 019ac0de --date yesterday --took 40m
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct EditArgs {
    /// The entry's id, or any unique prefix of at least 4 characters.
    #[arg(value_name = "ID", add = clap_complete::ArgValueCandidates::new(super::completions::entry_candidates))]
    pub id: String,
    /// The new note ("" removes it; `-` reads standard input).
    ///
    /// Notes hold up to 4000 characters.
    #[arg(long, short)]
    pub note: Option<String>,
    /// The new day: today, yesterday, 3 days ago, friday, 2026-11-20, 11-20.
    #[arg(long, short, value_name = "WHEN")]
    pub date: Option<String>,
    /// For a repair: the new time from rupture to repair, e.g. 45m, 2h30m.
    #[arg(long, value_name = "DURATION")]
    pub took: Option<String>,
}

pub fn cmd_edit(ctx: &mut Context<'_>, args: EditArgs) -> Result<()> {
    if args.note.is_none() && args.date.is_none() && args.took.is_none() {
        return Err(Error::input("nothing to change").with_hint("give --note, --date or --took"));
    }
    let day = args.date.as_deref().map(|d| ctx.parse_day(d)).transpose()?;
    let new_note = super::read_note(args.note)?;
    let took = args
        .took
        .as_deref()
        .map(crate::domain::when::parse_took)
        .transpose()?;
    let (lock, mut config) = ctx.open()?;
    let found = find_entry(&ctx.dir, &args.id)?;
    super::log::check_author(&found.entry, &config, &ctx.dir.read_people()?)?;
    let old = found.entry;
    if took.is_some() && old.practice != crate::domain::summary::REPAIR {
        return Err(Error::input("--took is for repair moments"));
    }
    if day.is_some() && old.kind == crate::domain::entry::Kind::Pause {
        return Err(Error::input("a pause cannot be moved")
            .with_hint("remove it with `safe rm` and pause again"));
    }

    let private = found.side == Side::Private;
    let private_note = if private {
        None
    } else {
        ctx.dir
            .read_month(Side::Private, found.month)?
            .note(&old.id)
            .map(|n| n.note.clone())
    };
    let shared_now = !private && old.note.is_some();
    let current_note = old.note.clone().or(private_note.clone());
    let note = match new_note {
        Some(text) if text.trim().is_empty() => None,
        Some(text) => Some(text),
        None => current_note,
    };
    let share = shared_now || (private_note.is_none() && old.note.is_none() && config.share_notes);

    let mut entry = old.clone();
    if let Some(minutes) = took {
        entry.took_minutes = Some(minutes);
    }
    let mut message = "Updated".to_string();
    let mut moved = false;
    if let Some(day) = day {
        if YearMonth::of(day) != YearMonth::of(old.day) {
            // Months are separate files that merge on their own; an entry
            // that moves leaves a tombstone behind and starts again under a
            // new id, so no replica can end up with it in two months.
            entry.id = uuid::Uuid::now_v7();
            message = "Moved".to_string();
            moved = true;
        }
        entry.day = day;
        entry.at = ctx.at_for(day);
    }
    entry.rev = config.tick(ctx.wall_ms());
    let id = entry.id;
    let entry_day = entry.day;
    // The new copy is written before the old one is removed: a crash in
    // between leaves a duplicate to remove, never a lost entry.
    let mut batch = lock.batch();
    let id_text = if moved {
        super::log::add_entry(&ctx.dir, &mut batch, entry, note, private, share, None)?
    } else {
        super::log::replace_entry(&ctx.dir, &mut batch, entry, note, private, share)?
    };
    if moved {
        let rev = config.tick(ctx.wall_ms());
        super::rm::remove(&ctx.dir, &mut batch, &old, found.side, rev)?;
    }
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;
    if id == old.id {
        writeln!(
            ctx.out,
            "{message} {} {} ({id_text}).",
            old.practice,
            super::describe_day(ctx.today, entry_day)
        )?;
    } else {
        writeln!(
            ctx.out,
            "{message} {} to {} (new id {id_text}).",
            old.practice, entry_day
        )?;
    }
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}
