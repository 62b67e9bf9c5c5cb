//! `safe edit`: change the note, day or repair time of one of my entries.

use super::session::{NotePlace, stage_entry};
use super::{Context, auto_sync};
use crate::error::{Error, Result};

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
    let mut session = ctx.session()?;
    let found = session
        .view
        .find_mine(&args.id, &session.config.id)?
        .clone();
    super::log::check_author(&found.entry, &session.config, &session.view.people)?;
    let old = found.entry;
    if took.is_some() && old.practice != crate::domain::summary::REPAIR {
        return Err(Error::input("--took is for repair moments"));
    }
    if day.is_some() && old.kind == crate::domain::entry::Kind::Pause {
        return Err(Error::input("a pause cannot be moved")
            .with_hint("remove it with `safe rm` and pause again"));
    }
    let had_kept_note = old.note.is_some() && !found.shared_note;
    let note = match new_note {
        Some(text) if text.trim().is_empty() => None,
        Some(text) => Some(text),
        None => old.note.clone(),
    };
    // A note keeps the place it had; a first note follows the setting.
    let place = if found.shared_note || (old.note.is_none() && session.config.share_notes) {
        NotePlace::Shared
    } else {
        NotePlace::Kept
    };
    let mut record = found.record.clone();
    if let Some(minutes) = took {
        record.took = Some(minutes);
    }
    let mut message = "Updated";
    if let Some(day) = day {
        if day != old.day {
            message = "Moved";
        }
        record.day = day;
        record.at = ctx.at_for(day);
    }
    let id = record.id;
    let entry_day = record.day;
    let staged = stage_entry(record, note.as_deref(), place, had_kept_note)?;
    session.write(ctx, staged)?;
    let id_text = session.view.short_id(&id);
    if message == "Moved" {
        writeln!(
            ctx.out,
            "{message} {} to {entry_day} (id {id_text}).",
            old.practice
        )?;
    } else {
        writeln!(
            ctx.out,
            "{message} {} {} ({id_text}).",
            old.practice,
            super::describe_day(ctx.today, entry_day)
        )?;
    }
    auto_sync(ctx, &mut session);
    Ok(())
}
