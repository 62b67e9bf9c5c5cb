//! `safe import`: read interchange lines into my journal, all or nothing.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::Context;
use super::session::{NotePlace, new_entry, stage_entry};
use crate::domain::entry::{ALL_PRACTICES, Kind, adopted_id};
use crate::domain::limits;
use crate::error::{Error, Result};
use crate::journal::view::View;
use crate::store::config::Config;

/// Import entries from JSON lines (the format of `safe export`).
///
/// Only `practice` and `day` are required on each line. Every line is checked
/// first; if any is bad, nothing is written and the error names the line.
/// Lines whose `id` is already in the journal are skipped, so importing the
/// same file twice is harmless. Imported entries are yours, but your
/// partner's lines (a backup holds theirs too) are left out: an entry is
/// always its author's, and theirs come back with `safe sync`.
///
/// Examples:
///   safe import journal.jsonl
///   cat old.jsonl | safe import -
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// A file of JSON lines, or - for standard input.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Deserialize)]
struct Line {
    id: Option<Uuid>,
    #[serde(default)]
    kind: Kind,
    practice: String,
    day: String,
    until: Option<String>,
    at: Option<DateTime<FixedOffset>>,
    note: Option<String>,
    took_minutes: Option<u32>,
    #[serde(default)]
    private: bool,
    note_shared: Option<bool>,
    #[serde(default)]
    deleted: bool,
    author: Option<String>,
}

struct Checked {
    id: Option<Uuid>,
    /// Someone else's line taken as mine: it gets an id of its own.
    adopt: bool,
    kind: Kind,
    practice: String,
    day: NaiveDate,
    until: Option<NaiveDate>,
    at: Option<DateTime<FixedOffset>>,
    note: Option<String>,
    took_minutes: Option<u32>,
    private: bool,
    share: Option<bool>,
}

pub fn cmd_import(ctx: &mut Context<'_>, args: ImportArgs) -> Result<()> {
    let mut text = String::new();
    if args.file.as_os_str() == "-" {
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| Error::io("read", std::path::Path::new("standard input"), e))?;
    } else {
        text = std::fs::read_to_string(&args.file).map_err(|e| {
            let kind = e.kind();
            let err = Error::io("read", &args.file, e);
            if kind == std::io::ErrorKind::NotFound {
                Error::input(err.message().to_string())
            } else {
                err
            }
        })?;
    }

    // Every line is checked under the lock before anything is written or a
    // journal made, so a bad file leaves no trace, even on a new machine.
    let today = ctx.today;
    let (mut session, (checked, tombstones, foreign)) =
        ctx.session_checked(|view, config| check_lines(view, today, &text, config))?;
    let me = session.me().to_string();
    let mut present: HashSet<Uuid> = session.view.mine().map(|i| i.entry.id).collect();
    let share_default = session.config.share_notes;
    let (mut added, mut skipped) = (0usize, 0usize);
    let mut staged = Vec::new();
    for mut c in checked {
        if c.adopt {
            c.id = c.id.map(|original| adopted_id(&original, &me));
        }
        if let Some(id) = c.id
            && !present.insert(id)
        {
            skipped += 1;
            continue;
        }
        let at = c.at.unwrap_or_else(|| ctx.at_for(c.day));
        let mut record = new_entry(c.kind, &c.practice, c.day, at);
        record.id = c.id.unwrap_or_else(|| id_made_at(&at));
        record.until = c.until;
        record.took = c.took_minutes;
        record.private = c.private;
        let place = match c.share.unwrap_or(share_default) {
            true => NotePlace::Shared,
            false => NotePlace::Kept,
        };
        staged.extend(stage_entry(record, c.note.as_deref(), place, false)?);
        added += 1;
    }
    if !staged.is_empty() {
        session.write(ctx, staged)?;
    }
    let mut line = format!(
        "Imported {added} {}",
        if added == 1 { "entry" } else { "entries" }
    );
    if skipped > 0 {
        line.push_str(&format!("; {skipped} already in the journal"));
    }
    if foreign > 0 {
        line.push_str(&format!(
            "; {foreign} of your partner's left out (entries stay their author's; sync brings them)"
        ));
    }
    if tombstones > 0 {
        line.push_str(&format!("; {tombstones} removed entries left out"));
    }
    writeln!(ctx.out, "{line}.")?;
    super::auto_sync(ctx, &mut session);
    Ok(())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// A new id for an imported entry, made as of the entry's own time rather
/// than the moment of the import: the journal then reads as if kept all
/// along, `safe undo` keeps meaning "the entry I made last", and short ids
/// stay short instead of all starting alike.
fn id_made_at(at: &DateTime<FixedOffset>) -> Uuid {
    let secs = u64::try_from(at.timestamp()).unwrap_or(0);
    Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        secs,
        at.timestamp_subsec_nanos(),
    ))
}

/// Check every line; the first bad one is an input error naming it.
/// Returns the lines to import, and how many removed entries and partner's
/// lines were left out.
fn check_lines(
    view: &View,
    today: NaiveDate,
    text: &str,
    me: &Config,
) -> Result<(Vec<Checked>, usize, usize)> {
    let me = me.id.as_str();
    let partners: HashSet<&str> = view
        .people
        .people
        .iter()
        .map(|p| p.id.as_str())
        .filter(|id| *id != me)
        .collect();
    let known: HashSet<String> = view
        .practices
        .catalogue(me)
        .into_iter()
        .map(|p| p.id)
        .collect();

    // Ids are unique across the whole journal: where each of mine already is.
    let elsewhere: HashMap<Uuid, NaiveDate> =
        view.mine().map(|i| (i.entry.id, i.entry.day)).collect();
    let mut lines_of: HashMap<Uuid, usize> = HashMap::new();
    let mut checked: Vec<Checked> = Vec::new();
    let mut tombstones = 0usize;
    let mut foreign = 0usize;
    for (index, raw) in text.lines().enumerate() {
        let number = index + 1;
        let raw = raw.trim();
        if raw.is_empty() {
            continue;
        }
        let bad = |why: String| {
            Error::input(format!("line {number}: {why}"))
                .with_hint("nothing was imported; fix the line and run the import again")
        };
        if number == 1 && raw.starts_with("id,day,") {
            return Err(
                Error::input("this looks like CSV; safe import reads JSON lines")
                    .with_hint("export with `safe export --format jsonl` (the default) to import"),
            );
        }
        let line: Line = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if line.deleted {
            tombstones += 1;
            continue;
        }
        // An entry belongs to whoever did the practice. A line of my
        // partner's (a backup holds theirs too) is left out: theirs come
        // back through sync. A line of anyone else's (an older identity of
        // mine, another tool) becomes mine under an id of its own, so it can
        // never overwrite the entry it came from.
        let adopt = match line.author.as_ref().filter(|a| **a != me) {
            Some(author) if partners.contains(author.as_str()) => {
                foreign += 1;
                continue;
            }
            Some(_) => true,
            None => false,
        };
        if line.took_minutes.is_some() && line.practice != crate::domain::summary::REPAIR {
            return Err(bad("took_minutes is for repair moments".to_string()));
        }
        if let Some(minutes) = line.took_minutes {
            limits::check_took(minutes).map_err(&bad)?;
        }
        if let Some(note) = &line.note {
            limits::check_note(note).map_err(&bad)?;
        }
        let day = parse_date(&line.day)
            .ok_or_else(|| bad(format!("`{}` is not a day (YYYY-MM-DD)", line.day)))?;
        if line.kind != Kind::Pause {
            limits::check_day(day, today).map_err(&bad)?;
        }
        let all_ok = line.kind == Kind::Pause && line.practice == ALL_PRACTICES;
        if !all_ok && !known.contains(&line.practice) {
            return Err(bad(format!(
                "there is no practice called `{}`",
                line.practice
            )));
        }
        let until = match (&line.kind, &line.until) {
            (Kind::Pause, Some(u)) => {
                let u =
                    parse_date(u).ok_or_else(|| bad(format!("`{u}` is not a day (YYYY-MM-DD)")))?;
                limits::check_pause(day, u, today).map_err(&bad)?;
                Some(u)
            }
            (Kind::Pause, None) => return Err(bad("a pause needs `until`".to_string())),
            _ => None,
        };
        if let Some(id) = line.id {
            if let Some(first) = lines_of.insert(id, number) {
                return Err(bad(format!("the id {id} is on line {first} already")));
            }
            // The id it will have here (on a new machine the journal is
            // still empty, so the provisional identity does no harm).
            let id = if adopt { adopted_id(&id, me) } else { id };
            if let Some(other) = elsewhere.get(&id).filter(|d| **d != day) {
                return Err(bad(format!(
                    "the id {id} is already in the journal, for {other}"
                )));
            }
        }
        checked.push(Checked {
            id: line.id,
            adopt,
            kind: line.kind,
            practice: line.practice,
            day,
            until,
            at: line.at,
            note: line.note.filter(|n| !n.is_empty()),
            took_minutes: line.took_minutes,
            private: line.private,
            share: line.note_shared,
        });
    }

    Ok((checked, tombstones, foreign))
}
