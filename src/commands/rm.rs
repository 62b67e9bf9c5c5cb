//! `safe rm`: remove one of my entries.

use super::session::Staged;
use super::{Context, auto_sync};
use crate::domain::entry::{Entry, Kind};
use crate::domain::record::{NoteRecord, Record, RemoveRecord, Rev};
use crate::error::{Error, Result};
use crate::journal::view::Item;
use crate::store::config::Config;
use chrono::NaiveDate;

/// Remove one or several of your entries, skips or pauses.
///
/// Each entry becomes a tombstone: it disappears everywhere, its note is
/// forgotten, and a sync tells your partner's copy too. (A note you had
/// shared stays in the sync repository's history.) Several ids are one
/// operation: one `safe undo` brings them all back. Removing an entry from
/// an earlier day, or one already synced, asks first on a terminal; --yes
/// removes without asking (and is needed where there is no terminal).
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe rm 3f2a\n  safe rm 3f2a 91c0 d4e1\n  safe rm --yes 3f2a")]
pub struct RmArgs {
    /// The entries' ids, or any unique prefixes of at least 4 characters.
    #[arg(value_name = "ID", required = true, add = clap_complete::ArgValueCandidates::new(super::completions::entry_candidates))]
    pub ids: Vec<String>,
    /// Remove without asking, even entries from earlier days or already synced.
    #[arg(long, short)]
    pub yes: bool,
}

pub fn cmd_rm(ctx: &mut Context<'_>, args: RmArgs) -> Result<()> {
    let mut session = ctx.light_session()?;
    let mut found: Vec<Item> = Vec::new();
    for id in &args.ids {
        let item = session.find_mine(id)?;
        super::log::check_author(&item.entry, &session.config, &session.view.people)?;
        if !found.iter().any(|f| f.entry.id == item.entry.id) {
            found.push(item);
        }
    }
    let mut lines: Vec<(String, Option<&str>)> = Vec::new();
    for item in &found {
        let short = session.short_id(&item.entry.id)?;
        let line = format!(
            "{} {} ({short})",
            describe(&item.entry),
            super::describe_day(ctx.today, item.entry.day)
        );
        lines.push((line, reaches_back(item, ctx.today, &session.config)));
    }
    if !args.yes && !confirmed(&lines)? {
        writeln!(ctx.out, "Nothing removed.")?;
        return Ok(());
    }
    session.write(ctx, found.iter().flat_map(removal).collect())?;
    for (line, _) in &lines {
        writeln!(ctx.out, "Removed {line}.")?;
    }
    if lines.len() > 1 {
        writeln!(ctx.out, "One `safe undo` brings all {} back.", lines.len())?;
    }
    auto_sync(ctx, &mut session);
    Ok(())
}

/// Why removing `item` reaches further than a slip of today: it is from an
/// earlier day, or a sync has already carried it.
fn reaches_back(item: &Item, today: NaiveDate, config: &Config) -> Option<&'static str> {
    let synced = !item.private
        && config.last_sync.is_some_and(|at| {
            i64::try_from(item.record.rev.ms).unwrap_or(i64::MAX) <= at.timestamp_millis()
        });
    if synced {
        Some("already synced")
    } else if item.entry.day < today {
        Some("from an earlier day")
    } else {
        None
    }
}

/// Whether the removal may go ahead: at once when every entry is of today
/// and not yet synced; else the person at the terminal says yes. Without a
/// terminal nobody can, so it is refused with what to add.
fn confirmed(lines: &[(String, Option<&str>)]) -> Result<bool> {
    use std::io::IsTerminal;
    let asked: Vec<String> = lines
        .iter()
        .filter_map(|(line, why)| why.map(|why| format!("{line}, {why}")))
        .collect();
    if asked.is_empty() {
        return Ok(true);
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::input(format!(
            "not removing without a yes: {}",
            asked.join("; ")
        ))
        .with_hint("removing an entry from an earlier day or one already synced asks first; add --yes to remove it here"));
    }
    let question = match asked.as_slice() {
        [one] if lines.len() == 1 => format!("Remove {one}?"),
        _ => {
            for (line, why) in lines {
                eprintln!(
                    "  {line}{}",
                    why.map(|w| format!(", {w}")).unwrap_or_default()
                );
            }
            format!("Remove these {} entries?", lines.len())
        }
    };
    super::confirm(&question)
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
