//! `safe edit`: change the note, day or repair time of one of my entries.

use super::session::{NotePlace, stage_entry};
use super::{Context, auto_sync};
use crate::error::{Error, Result};

/// Change the note, day or repair time of one of your entries, or share its note.
///
/// A note keeps its sharing unless you say otherwise: a shared note stays
/// shared, a kept one stays on this machine. --share-note shares it with
/// your partner; --unshare-note brings it back to this machine only (what
/// your partner already synced, they keep). `--note ""` removes the note.
/// The reply says where the note went.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe edit 019ac0de --note \"after the walk\"\n  safe edit 019ac0de --date yesterday --took 40m\n  safe edit 019ac0de --share-note\n  safe edit 019ac0de --unshare-note"
)]
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
    /// Share the note with your partner from now on.
    #[arg(long, conflicts_with = "unshare_note")]
    pub share_note: bool,
    /// Keep the note on this machine from now on (your partner keeps what
    /// they already synced).
    #[arg(long)]
    pub unshare_note: bool,
}

pub fn cmd_edit(ctx: &mut Context<'_>, args: EditArgs) -> Result<()> {
    if args.note.is_none()
        && args.date.is_none()
        && args.took.is_none()
        && !args.share_note
        && !args.unshare_note
    {
        return Err(Error::input("nothing to change")
            .with_hint("give --note, --date, --took, --share-note or --unshare-note"));
    }
    let day = args.date.as_deref().map(|d| ctx.parse_day(d)).transpose()?;
    let other_change = args.note.is_some() || args.date.is_some() || args.took.is_some();
    let new_note = super::read_note(args.note)?;
    let took = args
        .took
        .as_deref()
        .map(crate::domain::when::parse_took)
        .transpose()?;
    let mut session = ctx.light_session()?;
    let found = session.find_mine(&args.id)?;
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
    if (args.share_note || args.unshare_note) && note.is_none() {
        let flag = if args.share_note {
            "--share-note"
        } else {
            "--unshare-note"
        };
        return Err(Error::input(format!(
            "this {} has no note to share or keep",
            old.practice
        ))
        .with_hint(format!("give one with `--note TEXT {flag}`")));
    }
    if args.share_note && found.private {
        return Err(Error::input(
            "this entry is private: it and its note never leave this machine",
        )
        .with_hint("log it again without --private to share it"));
    }
    // A note keeps the place it had unless told; a first note follows the
    // setting.
    let place = if args.share_note {
        NotePlace::Shared
    } else if args.unshare_note {
        NotePlace::Kept
    } else if found.shared_note || (old.note.is_none() && session.config.share_notes) {
        NotePlace::Shared
    } else {
        NotePlace::Kept
    };
    let partner = super::log::partner_name(&session);
    let moved_place = (place == NotePlace::Shared) != found.shared_note;
    if !moved_place && !other_change {
        let sentence = match found.private {
            true => "It is private: it stays on this machine.".to_string(),
            false => super::log::note_sentence(place, partner.as_deref()),
        };
        writeln!(ctx.out, "Nothing to change. {sentence}")?;
        return Ok(());
    }
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
    let id_text = session.short_id(&id)?;
    let mut line = if message == "Moved" {
        format!("{message} {} to {entry_day} (id {id_text}).", old.practice)
    } else {
        format!(
            "{message} {} {} ({id_text}).",
            old.practice,
            super::describe_day(ctx.today, entry_day)
        )
    };
    if found.private {
        line.push_str(" It is private: it stays on this machine.");
    } else if note.is_some() {
        line.push(' ');
        line.push_str(&super::log::note_sentence(place, partner.as_deref()));
    }
    if found.shared_note && place == NotePlace::Kept {
        line.push(' ');
        line.push_str(&match &partner {
            Some(name) => {
                format!("{name} may already have it: a copy {name} synced keeps what it read.")
            }
            None => "No partner has synced it: you are not paired.".to_string(),
        });
    }
    writeln!(ctx.out, "{line}")?;
    auto_sync(ctx, &mut session);
    Ok(())
}
