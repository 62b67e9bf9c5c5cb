//! `safe log`: record a practice I did.

use serde_json::Map;

use super::{Context, auto_sync, known_practice};
use crate::domain::entry::{Entry, Kind};
use crate::domain::month::{PrivateNote, YearMonth};
use crate::domain::practice::Practice;
use crate::error::{Error, Result};
use crate::store::cache::Cache;
use crate::store::config::Config;
use crate::store::{Batch, DataDir, Side};

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
    /// A few words, kept on this machine unless shared; `-` reads standard input.
    ///
    /// Notes hold up to 4000 characters.
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
    /// Log it again on a day it is already logged.
    ///
    /// A practice counts once a day; a repair is always a new moment and
    /// needs no --again.
    #[arg(long)]
    pub again: bool,
    /// A second log the same day is no error but nothing (`card --done`).
    #[arg(skip)]
    pub once_a_day: bool,
}

pub fn cmd_log(ctx: &mut Context<'_>, args: LogArgs) -> Result<()> {
    let day = ctx.parse_day(&args.date)?;
    let year_ago = ctx.today - chrono::Days::new(365);
    if day < year_ago
        && !super::confirm(&format!(
            "Log {} for {day}, more than a year ago?",
            args.practice
        ))?
    {
        writeln!(ctx.out, "Nothing logged.")?;
        return Ok(());
    }
    let note = super::read_note(args.note)?.filter(|n| !n.trim().is_empty());
    let took = match &args.took {
        Some(text) => Some(crate::domain::when::parse_took(text)?),
        None => None,
    };
    let (lock, mut config, practice) = ctx.open_checked(|config| {
        let practice = known_practice(&ctx.dir.read_practices()?, &config.id, &args.practice)?;
        loggable(&practice)?;
        if took.is_some() && practice.id != crate::domain::summary::REPAIR {
            return Err(
                Error::input("--took is for repair moments").with_hint(format!(
                    "log the repair with `safe log repair --took {}`",
                    args.took.as_deref().unwrap_or_default()
                )),
            );
        }
        Ok(practice)
    })?;
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
    // The day cache vouches for the month the entry goes to, and then
    // gives the streak: loaded once for both.
    let mut cache = Cache::load(&ctx.dir);
    if practice.id != crate::domain::summary::REPAIR
        && !args.again
        && logged_on(ctx, &mut cache, &config.id, &practice.id, day)?
    {
        let when = super::describe_day(ctx.today, day);
        if args.once_a_day {
            writeln!(
                ctx.out,
                "Already logged {} {when}: nothing to add.",
                practice.id
            )?;
            return Ok(());
        }
        return Err(
            Error::input(format!("you already logged {} {when}", practice.id))
                .with_hint("a practice counts once a day; `--again` logs it a second time anyway"),
        );
    }
    let mut batch = lock.batch();
    let id = add_entry(
        &ctx.dir,
        &mut batch,
        entry,
        note.clone(),
        args.private,
        share,
        Some(&cache),
    )?;
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;

    let when = super::describe_day(ctx.today, day);
    let mut line = format!("Logged {} {when}", practice.id);
    if let Some(minutes) = took {
        line.push_str(&format!(
            ", repaired in {}",
            super::describe_minutes(minutes)
        ));
    }
    line.push_str(&format!(" (id {id})."));
    if args.private {
        line.push_str(" It is private: it stays on this machine.");
    } else if note.is_some() && !share {
        line.push_str(" The note stays on this machine.");
    }
    writeln!(ctx.out, "{line}")?;
    if let Some(streak) = super::stats::streak_line(ctx, &config, &practice, &mut cache)? {
        writeln!(ctx.out, "{streak}")?;
    }
    // With or without a streak line, the cache learns the month as it is
    // now, so the next log can splice into it again.
    cache.keep_own_changes(&ctx.dir);
    if let Err(err) = cache.save(&ctx.dir) {
        super::warn_after_save(ctx, "the day cache was not updated", &err);
    }
    auto_sync(ctx, &lock, &mut config);
    Ok(())
}

/// My days from the month of `since` on, from the day cache (which reads
/// only the months that changed since it last looked).
pub fn my_days_since(
    ctx: &Context<'_>,
    cache: &mut Cache,
    me: &str,
    scope: crate::store::cache::Scope<'_>,
    since: chrono::NaiveDate,
) -> Result<crate::domain::summary::DayIndex> {
    cache.refresh(&ctx.dir)?;
    cache.index_from(&ctx.dir, me, scope, Some(YearMonth::of(since)))
}

/// Whether I logged `practice` on `day`.
pub fn logged_on(
    ctx: &Context<'_>,
    cache: &mut Cache,
    me: &str,
    practice: &str,
    day: chrono::NaiveDate,
) -> Result<bool> {
    let scope = crate::store::cache::Scope::Practice(practice);
    let index = my_days_since(ctx, cache, me, scope, day)?;
    Ok(index
        .person(me)
        .logged_days(practice)
        .binary_search(&day)
        .is_ok())
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

/// Where an entry and its note go: a private entry (note and all) in the
/// private file; otherwise the entry in the shared file, with its note there
/// only when shared, and in the private file's notes when not.
fn place(
    entry: &mut Entry,
    note: Option<String>,
    private: bool,
    share: bool,
) -> (Side, Option<String>) {
    let side = if private { Side::Private } else { Side::Shared };
    let (in_file, private_note) = if private || share {
        (note, None)
    } else {
        (None, note)
    };
    entry.note = in_file;
    (side, private_note)
}

/// Stage a new entry (and its private note) in `batch`. The month's other
/// entries are not rewritten (see `store::append`), so this costs the same
/// on ten years of data as on one day; a `cache` that has read the month
/// saves even checking its syntax. Returns the shortest prefix of its id no
/// other entry of the month shares (the files it reads for that are none
/// the batch changes).
pub fn add_entry(
    dir: &DataDir,
    batch: &mut Batch<'_>,
    mut entry: Entry,
    note: Option<String>,
    private: bool,
    share: bool,
    cache: Option<&Cache>,
) -> Result<String> {
    let (side, private_note) = place(&mut entry, note, private, share);
    let month = YearMonth::of(entry.day);
    // The note goes in place first: a crash between the two leaves a note
    // no entry shows, never an entry that lost its note.
    if let Some(text) = private_note {
        let note = PrivateNote {
            id: entry.id,
            note: text,
            rev: entry.rev.clone(),
            extra: Map::new(),
        };
        dir.append(Side::Private, month, None, Some(&note), batch, None)?;
    }
    let near = dir.append(side, month, Some(&entry), None, batch, cache)?;
    Ok(dir.short_id(&entry.id, entry.day, near, Some((side, month))))
}

/// Stage a changed entry over its earlier version, in the same file.
pub fn replace_entry(
    dir: &DataDir,
    batch: &mut Batch<'_>,
    mut entry: Entry,
    note: Option<String>,
    private: bool,
    share: bool,
) -> Result<String> {
    let (side, private_note) = place(&mut entry, note, private, share);
    let (day, id, rev) = (entry.day, entry.id, entry.rev.clone());
    let month = YearMonth::of(day);
    let mut doc = dir.read_month(side, month)?;
    match doc.entry_mut(&id) {
        Some(held) => *held = entry,
        None => doc.entries.push(entry),
    }
    dir.write_month(side, month, &mut doc, batch)?;
    // The ids of this month made in the same minute, so the short id need
    // not read the month again.
    let head = crate::domain::entry::id_head(&id);
    let near: Vec<_> = doc
        .entries
        .iter()
        .map(|e| e.id)
        .filter(|other| crate::domain::entry::id_head(other) == head)
        .collect();
    if side == Side::Shared {
        let mut private_doc = dir.read_month(Side::Private, month)?;
        if private_note.is_some() || private_doc.note(&id).is_some() {
            private_doc.set_note(id, private_note, rev);
            dir.write_month(Side::Private, month, &mut private_doc, batch)?;
        }
    }
    Ok(dir.short_id(&id, day, near, Some((side, month))))
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
