//! `safe rm`: remove one of my entries.

use super::session::Staged;
use super::{Context, auto_sync};
use crate::domain::entry::{Entry, Kind};
use crate::domain::record::{NoteRecord, Record, RemoveRecord, Rev};
use crate::error::Result;
use crate::journal::view::Item;

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
    let mut session = ctx.session()?;
    let found = session
        .view
        .find_mine(&args.id, &session.config.id)?
        .clone();
    super::log::check_author(&found.entry, &session.config, &session.view.people)?;
    let short = session.view.short_id(&found.entry.id);
    session.write(ctx, removal(&found))?;
    writeln!(
        ctx.out,
        "Removed {} {} ({short}).",
        describe(&found.entry),
        super::describe_day(ctx.today, found.entry.day),
    )?;
    auto_sync(ctx, &mut session);
    Ok(())
}

/// The records that remove one of my entries: a tombstone where the entry
/// lives (a private entry's never reaches the shared log), and the end of
/// its unshared note.
pub fn removal(item: &Item) -> Vec<Staged> {
    let id = item.entry.id;
    let tombstone = Record::Remove(RemoveRecord {
        id,
        rev: Rev::default(),
    });
    let mut staged = Vec::new();
    if item.entry.note.is_some() && !item.shared_note {
        staged.push(Staged::Private(Record::Note(NoteRecord {
            id,
            note: None,
            rev: Rev::default(),
        })));
    }
    staged.push(match item.private {
        true => Staged::Private(tombstone),
        false => Staged::Shared(tombstone, None),
    });
    staged
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
