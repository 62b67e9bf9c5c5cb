//! `safe import`: read interchange lines into my journal. Every line is
//! checked before anything is written, so a bad file adds nothing; a good
//! one is written as one operation, in parts of 10,000 records.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Deserialize;
use uuid::Uuid;

use super::Context;
use super::export::{BACKUP_PREFIX, BackupLine};
use super::session::{NotePlace, Session, Staged, new_entry, stage_entry};
use crate::domain::entry::{ALL_PRACTICES, Kind, adopted_id};
use crate::domain::goal::Goal;
use crate::domain::limits;
use crate::domain::practice::{BUILTIN, valid_id};
use crate::domain::record::{GoalRecord, NameRecord, PracticeRecord, Record, Rev};
use crate::error::{Error, Result};
use crate::journal::view::View;
use crate::render::sanitize::sanitize_line;
use crate::store::config::Config;
use crate::store::config::valid_name;

/// Import entries from JSON lines (`safe export`), or restore a backup.
///
/// Only `practice` and `day` are required on each line. Every line is checked
/// first; if any is bad, nothing is written and the error names the line.
/// Entries already in the journal are skipped (by id, or for a line without
/// one, by what it says), so importing the same file twice adds nothing.
/// A backup (`safe export --format backup`) also brings back your custom
/// practices, goals and name. Imported entries are yours, but your
/// partner's lines are left out: an entry is always its author's, and
/// theirs come back with `safe sync`. One `safe undo` takes a whole import
/// back.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe import journal.jsonl\n  safe import safe-backup.jsonl\n  cat old.jsonl | safe import -"
)]
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

/// What a backup brings besides entries: my name, custom practices and goals.
#[derive(Default)]
struct Restore {
    name: Option<String>,
    practices: Vec<(String, Goal, String)>,
    goals: Vec<(String, Goal, bool)>,
}

/// A checked file: the entries to import, what a backup restores, and how
/// many removed entries and partner's lines were left out.
struct Plan {
    entries: Vec<Checked>,
    restore: Restore,
    tombstones: usize,
    foreign: usize,
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
    let (mut session, plan) =
        ctx.session_checked(|view, config| check_lines(view, today, &text, config))?;
    drop(text);
    let me = session.me().to_string();
    let mut present: HashSet<Uuid> = session.view.mine().map(|i| i.entry.id).collect();
    let share_default = session.config.share_notes;
    let (mut added, mut skipped) = (0usize, 0usize);
    let (mut staged, restored) = restore(&session, &plan.restore);
    // Records written so far, in earlier parts.
    let mut written = 0usize;
    // What follows needs no entry of the view: let it go before writing.
    session.lighten(ctx)?;
    // The how-many-th line of the same content a line without an id is, so
    // two such lines stay two entries, and a second import adds neither.
    let mut repeats: HashMap<[u8; 32], u32> = HashMap::new();
    for mut c in plan.entries {
        if c.adopt {
            c.id = c.id.map(|original| adopted_id(&original, &me));
        }
        let at = c.at.unwrap_or_else(|| ctx.at_for(c.day));
        let id = match c.id {
            Some(id) => id,
            None => {
                let content = content_hash(&me, &c);
                let nth = repeats.entry(content).or_insert(0);
                *nth += 1;
                id_of_content(&at, &content, *nth)
            }
        };
        if !present.insert(id) {
            skipped += 1;
            continue;
        }
        let mut record = new_entry(c.kind, &c.practice, c.day, at);
        record.id = id;
        record.until = c.until;
        record.took = c.took_minutes;
        record.private = c.private;
        let place = match c.share.unwrap_or(share_default) {
            true => NotePlace::Shared,
            false => NotePlace::Kept,
        };
        staged.extend(stage_entry(record, c.note.as_deref(), place, false)?);
        added += 1;
        if staged.len() >= PART {
            let part = std::mem::take(&mut staged);
            let records = part.len();
            write_part(ctx, &mut session, part, written)?;
            written += records;
        }
    }
    if !staged.is_empty() {
        write_part(ctx, &mut session, staged, written)?;
    }
    let mut line = format!(
        "Imported {added} {}",
        if added == 1 { "entry" } else { "entries" }
    );
    if skipped > 0 {
        line.push_str(&format!("; {skipped} already in the journal"));
    }
    if !restored.is_empty() {
        line.push_str(&format!("; restored {}", restored.join(", ")));
    }
    let (foreign, tombstones) = (plan.foreign, plan.tombstones);
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

/// How many records an import writes at a time: its batches (each of
/// them part of the one operation `safe undo` takes back whole), so that
/// a million lines never sit in memory as records, signed lines and index
/// rows all at once.
const PART: usize = 10_000;

/// Write one part of the import, after `before` records in earlier parts.
/// A part that fails after others were saved says so: those stay, as one
/// operation.
fn write_part(
    ctx: &mut Context<'_>,
    session: &mut Session,
    part: Vec<Staged>,
    before: usize,
) -> Result<()> {
    session.write(ctx, part).map_err(|err| match before {
        0 => err,
        _ => err.with_hint(format!(
            "the first {before} records of the import were saved, as one operation: \
             `safe undo` takes them back, and importing the same file again adds the rest"
        )),
    })?;
    // Which entries the index took is news only to a sync.
    session.journal.take_changed()?;
    Ok(())
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// The id of an imported entry whose line has none: a version 7 id of the
/// entry's own time (the journal then reads as if kept all along, and
/// short ids stay short instead of all starting alike), whose other bits
/// come from what the line says and which of its repeats it is. The same
/// line imported again gets the same id, so it is found already there.
fn id_of_content(at: &DateTime<FixedOffset>, content: &[u8; 32], nth: u32) -> Uuid {
    use sha2::{Digest, Sha256};
    let ms = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let bits: [u8; 32] = Sha256::new()
        .chain_update(content)
        .chain_update(nth.to_be_bytes())
        .finalize()
        .into();
    let mut random = [0u8; 10];
    random.copy_from_slice(&bits[..10]);
    uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid()
}

/// What a line without an id says, as a hash: whose it is and every field
/// an entry keeps.
fn content_hash(me: &str, c: &Checked) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let fields = serde_json::json!([
        me,
        c.kind,
        c.practice,
        c.day,
        c.until,
        c.at,
        c.note,
        c.took_minutes,
        c.private
    ]);
    Sha256::digest(fields.to_string().as_bytes()).into()
}

/// The records that restore what a backup holds besides entries (my name,
/// custom practices and goals), where the journal differs; and what they
/// restored, in words.
fn restore(session: &Session, restore: &Restore) -> (Vec<Staged>, Vec<String>) {
    let me = session.me();
    let state = &session.view.state;
    let mut staged = Vec::new();
    let mut said = Vec::new();
    if let Some(name) = &restore.name
        && state.names.get(me) != Some(name)
    {
        staged.push(Staged::Shared(
            Record::Name(NameRecord {
                name: name.clone(),
                rev: Rev::default(),
            }),
            None,
        ));
        said.push(format!("your name ({})", sanitize_line(name)));
    }
    let mut practices = 0;
    for (id, goal, about) in &restore.practices {
        if state.practices.contains_key(&(me.to_string(), id.clone())) {
            continue;
        }
        staged.push(Staged::Shared(
            Record::Practice(PracticeRecord {
                id: id.clone(),
                about: about.clone(),
                goal: *goal,
                rev: Rev::default(),
            }),
            None,
        ));
        practices += 1;
    }
    let mut goals = 0;
    for (practice, goal, retired) in &restore.goals {
        let held = state.goals.get(&(me.to_string(), practice.clone()));
        if held.is_some_and(|g| g.goal == *goal && g.retired == *retired) {
            continue;
        }
        staged.push(Staged::Shared(
            Record::Goal(GoalRecord {
                practice: practice.clone(),
                goal: *goal,
                retired: *retired,
                rev: Rev::default(),
            }),
            None,
        ));
        goals += 1;
    }
    if practices > 0 {
        said.push(plural(practices, "custom practice", "custom practices"));
    }
    if goals > 0 {
        said.push(plural(goals, "goal", "goals"));
    }
    (staged, said)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Check every line; the first bad one is an input error naming it.
/// Returns the lines to import, and how many removed entries and partner's
/// lines were left out.
fn check_lines(view: &View, today: NaiveDate, text: &str, me: &Config) -> Result<Plan> {
    let me = me.id.as_str();
    let partners: HashSet<&str> = view
        .people
        .people
        .iter()
        .map(|p| p.id.as_str())
        .filter(|id| *id != me)
        .collect();
    let mut known: HashSet<String> = view
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
    let mut restore = Restore::default();
    let mut backup = false;
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
        if number == 1 && (raw.starts_with("id,day,") || raw.starts_with("id,kind,")) {
            return Err(
                Error::input("this looks like CSV; safe import reads JSON lines")
                    .with_hint("export with `safe export --format jsonl` (the default) to import"),
            );
        }
        if raw.starts_with(BACKUP_PREFIX) {
            let line: BackupLine = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
            backup = check_backup_line(line, backup, &mut restore, &mut known).map_err(&bad)?;
            continue;
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

    Ok(Plan {
        entries: checked,
        restore,
        tombstones,
        foreign,
    })
}

/// Check one line of a backup that is not an entry, and take what it
/// restores; `started` says whether the `journal` line came already.
fn check_backup_line(
    line: BackupLine,
    started: bool,
    restore: &mut Restore,
    known: &mut HashSet<String>,
) -> std::result::Result<bool, String> {
    match line {
        BackupLine::Journal { version, name, .. } => {
            if started {
                return Err("a backup has one `journal` line, first".to_string());
            }
            if version != 1 {
                return Err(format!(
                    "this backup is of version {version}; upgrade safe to restore it"
                ));
            }
            if !name.is_empty() {
                valid_name(&name).map_err(|e| e.message().to_string())?;
                restore.name = Some(name);
            }
        }
        _ if !started => {
            return Err("a backup begins with its `journal` line".to_string());
        }
        BackupLine::Practice { id, goal, about } => {
            if !valid_id(&id) || BUILTIN.iter().any(|b| b.0 == id) {
                return Err(format!(
                    "`{id}` is not a usable name for a practice of your own"
                ));
            }
            let max = limits::MAX_ABOUT_CHARS;
            if about.chars().count() > max
                || about
                    .chars()
                    .any(|c| c.is_control() || limits::is_unsafe_beyond_c0(c))
            {
                return Err(format!(
                    "the description of `{id}` is not one line of at most {max} characters"
                ));
            }
            known.insert(id.clone());
            restore.practices.push((id, goal, about));
        }
        BackupLine::Goal {
            practice,
            goal,
            retired,
        } => {
            if !known.contains(&practice) {
                return Err(format!("there is no practice called `{practice}`"));
            }
            restore.goals.push((practice, goal, retired));
        }
    }
    Ok(true)
}
