//! `safe log`: record a practice I did.

use super::{Context, auto_sync, known_practice};
use crate::domain::entry::{Entry, EntryId, Kind, unique_prefixes};
use crate::domain::month::{MonthFile, YearMonth};
use crate::domain::practice::Practice;
use crate::error::{Error, Result};
use crate::store::config::Config;
use crate::store::{DataDir, Lock, Side};

/// Record a practice you did.
///
/// Logs today unless --date says otherwise. Notes stay on this machine unless
/// you share them (--share-note, or `safe config set share_notes true`); a
/// --private entry never leaves this machine at all.
///
/// Examples:
///   safe log appreciation --note "thanks for the soup"
///   safe log repair --took 2h30m --note "talked it through after dinner"
///   safe log date --date "last friday" --private
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct LogArgs {
    /// The practice, e.g. appreciation, repair, gentle-touch (see `safe practice list`).
    #[arg(value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: String,
    /// A few words about it. Kept on this machine unless shared.
    #[arg(long, short)]
    pub note: Option<String>,
    /// When it happened: today, yesterday, 3 days ago, friday, 2026-11-20, 11-20.
    #[arg(long, short, value_name = "WHEN", default_value = "today")]
    pub date: String,
    /// For a repair: time from the rupture to the repair, e.g. 45m, 2h30m, 1d.
    #[arg(long, value_name = "DURATION")]
    pub took: Option<String>,
    /// Keep the whole entry on this machine: it is never synced.
    #[arg(long, conflicts_with = "share_note")]
    pub private: bool,
    /// Share this entry's note with your partner.
    #[arg(long)]
    pub share_note: bool,
}

pub fn cmd_log(ctx: &mut Context<'_>, args: LogArgs) -> Result<()> {
    let day = ctx.parse_day(&args.date)?;
    let took = match &args.took {
        Some(text) => Some(parse_took(text)?),
        None => None,
    };
    // Check the practice before taking the lock, so a typo on a new machine
    // leaves nothing behind; it is read again under the lock.
    let me = ctx.read_config()?.id;
    known_practice(&ctx.dir.read_practices()?, &me, &args.practice)?;
    let (lock, mut config) = ctx.open()?;
    let practices = ctx.dir.read_practices()?;
    let practice = known_practice(&practices, &config.id, &args.practice)?;
    loggable(&practice)?;
    if took.is_some() && practice.id != "repair" {
        return Err(
            Error::input("--took is for repair moments").with_hint(format!(
                "log the repair with `safe log repair --took {}`",
                args.took.unwrap_or_default()
            )),
        );
    }
    let note = args.note.filter(|n| !n.trim().is_empty());
    let share = args.share_note || config.share_notes;
    let rev = config.tick(ctx.wall_ms());
    let mut entry = Entry::new(
        Kind::Log,
        &practice.id,
        day,
        ctx.at_for(day),
        &config.id,
        rev,
    );
    entry.took_minutes = took;
    let id = write_entry(&ctx.dir, &lock, entry, note.clone(), args.private, share)?;
    ctx.dir.write_config(&config, &lock)?;

    let when = super::describe_day(ctx.today, day);
    let mut line = format!("Logged {} {when}", practice.id);
    if let Some(minutes) = took {
        line.push_str(&format!(
            ", repaired in {}",
            super::describe_minutes(minutes)
        ));
    }
    line.push('.');
    if args.private {
        line.push_str(" (private)");
    } else if note.is_some() && !share {
        line.push_str(" The note stays on this machine.");
    }
    writeln!(ctx.out, "{line}")?;
    if let Some(streak) = super::stats::streak_line(ctx, &config, &practice)? {
        writeln!(ctx.out, "{streak}")?;
    }
    writeln!(ctx.out, "id {id}")?;
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}

/// A retired practice is not offered for logging; say how to bring it back.
pub fn loggable(practice: &Practice) -> Result<&Practice> {
    if practice.retired {
        return Err(
            Error::input(format!("you retired `{}`", practice.id)).with_hint(format!(
                "bring it back with `safe practice goal {} {}`",
                practice.id, practice.goal
            )),
        );
    }
    Ok(practice)
}

pub fn parse_took(text: &str) -> Result<u32> {
    crate::domain::when::parse_took(text).map_err(|e| {
        let hint = e.hint();
        let err = Error::input(e.to_string());
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    })
}

/// Store a new or changed entry in its month: a private entry (note and all)
/// in the private file; otherwise the entry in the shared file, with its note
/// there only when shared and in the private file when not. Returns the
/// shortest prefix of its id that no other entry of the month shares.
pub fn write_entry(
    dir: &DataDir,
    lock: &Lock,
    mut entry: Entry,
    note: Option<String>,
    private: bool,
    share: bool,
) -> Result<String> {
    let month = YearMonth::of(entry.day);
    let id = entry.id;
    let mut private_doc = dir.read_month(Side::Private, month)?;
    if private {
        entry.note = note;
        match private_doc.entry_mut(&entry.id) {
            Some(held) => *held = entry,
            None => private_doc.entries.push(entry),
        }
        dir.write_month(Side::Private, month, &mut private_doc, lock)?;
        let shared_doc = dir.read_month(Side::Shared, month)?;
        return Ok(prefix_among(id, &shared_doc, &private_doc));
    }
    let mut shared_doc = dir.read_month(Side::Shared, month)?;
    let had_private_note = private_doc.note(&entry.id).is_some();
    let (shared_note, private_note) = if share { (note, None) } else { (None, note) };
    entry.note = shared_note;
    let rev = entry.rev.clone();
    match shared_doc.entry_mut(&id) {
        Some(held) => *held = entry,
        None => shared_doc.entries.push(entry),
    }
    dir.write_month(Side::Shared, month, &mut shared_doc, lock)?;
    if private_note.is_some() || had_private_note {
        private_doc.set_note(id, private_note, rev);
        dir.write_month(Side::Private, month, &mut private_doc, lock)?;
    }
    Ok(prefix_among(id, &shared_doc, &private_doc))
}

/// The id prefix to show for `id`: unique among the entries of its month,
/// which are the ones made around the same time.
fn prefix_among(id: EntryId, shared: &MonthFile, private: &MonthFile) -> String {
    let mut ids: Vec<EntryId> = vec![id];
    ids.extend(
        shared
            .entries
            .iter()
            .chain(&private.entries)
            .map(|e| e.id)
            .filter(|other| *other != id),
    );
    unique_prefixes(&ids).swap_remove(0)
}

/// Only an entry's author may change it.
pub fn check_author(
    entry: &Entry,
    config: &Config,
    people: &crate::domain::person::PeopleDoc,
) -> Result<()> {
    if entry.author == config.id {
        return Ok(());
    }
    Err(Error::input(format!(
        "this entry is {}'s: only its author can change or remove it",
        super::name_of(people, &entry.author)
    ))
    .with_hint("you can log your own practice with `safe log`"))
}
