//! `safe undo` and `safe redo`: reverse my last operation, or apply again
//! the one I reversed last, whatever it was (a log, an edit, a removal, a
//! skip, a pause, a goal, a name). Both are new lines in my log, so they
//! sync like any other change (DESIGN.md §2).

use std::collections::BTreeMap;

use super::session::Staged;
use super::{Context, auto_sync};
use crate::domain::entry::Kind;
use crate::domain::record::{
    EntryRecord, GoalRecord, Hex32, NoteRecord, OpMark, Record, RemoveRecord, Rev,
};
use crate::error::{Error, Result};
use crate::journal::OwnLine;
use crate::keys::line::NoteSidecar;

/// Reverse your last operation: a log, edit, rm, skip, pause, goal or name.
///
/// Like `jj undo`: the operation's changes are taken back as a new change,
/// which syncs like any other (undoing something already synced is fine).
/// Run it again to reverse the operation before; `safe redo` applies the
/// last one you undid again.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe log apology --date yesterday   # oops, that was today\n  safe undo\n  safe redo                           # no, it was right after all"
)]
pub struct UndoArgs {}

/// Apply again the operation you undid last.
///
/// Only right after `safe undo`: once you change something else, what you
/// undid stays undone.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe undo\n  safe redo    # it was right after all")]
pub struct RedoArgs {}

pub fn cmd_undo(ctx: &mut Context<'_>, _args: UndoArgs) -> Result<()> {
    let mut session = ctx.light_session()?;
    let me = session.me().to_string();
    let Some(target) = session.journal.undo_target(&me)? else {
        return Err(Error::input("there is nothing of yours to undo")
            .with_hint("`safe log <PRACTICE>` records a practice"));
    };
    let lines = session.journal.lines_of_op(&me, &target.op)?;
    let touched = last_versions(&lines);
    // What each key the operation changed held just before it.
    let keys: Vec<(&str, String)> = touched.keys().map(Key::in_index).collect();
    let earlier = session.journal.lines_before(&me, &keys, &target.first)?;
    let before: BTreeMap<Key, &OwnLine> = earlier
        .iter()
        .filter_map(|line| Some((key_of(&line.rec)?, line)))
        .collect();
    let mut staged = Vec::new();
    for (key, line) in &touched {
        staged.extend(restore(key, line, before.get(key).copied())?);
    }
    // Only the journal's creation (my first name, never taken away) has
    // nothing to put back: there is nothing before it to undo.
    if staged.is_empty() {
        return Err(Error::input("there is nothing of yours to undo")
            .with_hint("`safe log <PRACTICE>` records a practice"));
    }
    staged.push(Staged::Shared(
        Record::Undo(OpMark {
            op: target.op.clone(),
            rev: Rev::default(),
        }),
        None,
    ));
    let what = describe(ctx, &touched);
    session.write(ctx, staged)?;
    writeln!(ctx.out, "Undid {what}. `safe redo` brings it back.")?;
    auto_sync(ctx, &mut session);
    Ok(())
}

pub fn cmd_redo(ctx: &mut Context<'_>, _args: RedoArgs) -> Result<()> {
    let mut session = ctx.light_session()?;
    let me = session.me().to_string();
    let target = session.journal.redo_target(&me)?.ok_or_else(|| {
        Error::input("there is nothing to redo")
            .with_hint("`safe redo` applies again what `safe undo` just reversed")
    })?;
    let lines = session.journal.lines_of_op(&me, &target.op)?;
    let touched = last_versions(&lines);
    let mut staged = Vec::new();
    for line in touched.values() {
        staged.extend(again(line)?);
    }
    staged.push(Staged::Shared(
        Record::Redo(OpMark {
            op: target.op,
            rev: Rev::default(),
        }),
        None,
    ));
    let what = describe(ctx, &touched);
    session.write(ctx, staged)?;
    writeln!(ctx.out, "Redid {what}.")?;
    auto_sync(ctx, &mut session);
    Ok(())
}

/// What a record is a version of.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Entry(uuid::Uuid),
    Note(uuid::Uuid),
    Name,
    Goal(String),
    Practice(String),
}

impl Key {
    /// The register and key the index keeps this key's versions under.
    fn in_index(&self) -> (&'static str, String) {
        match self {
            Key::Entry(id) => ("entry", id.to_string()),
            Key::Note(id) => ("note", id.to_string()),
            Key::Name => ("name", String::new()),
            Key::Goal(practice) => ("goal", practice.clone()),
            Key::Practice(id) => ("practice", id.clone()),
        }
    }
}

fn key_of(rec: &Record) -> Option<Key> {
    Some(match rec {
        Record::Entry(r) => Key::Entry(r.id),
        Record::Remove(r) => Key::Entry(r.id),
        Record::Note(r) => Key::Note(r.id),
        Record::Name(_) => Key::Name,
        Record::Goal(r) => Key::Goal(r.practice.clone()),
        Record::Practice(r) => Key::Practice(r.id.clone()),
        _ => return None,
    })
}

/// The last version of each key among `lines` (one operation's, in stamp
/// order).
fn last_versions(lines: &[OwnLine]) -> BTreeMap<Key, &OwnLine> {
    lines
        .iter()
        .filter_map(|line| Some((key_of(&line.rec)?, line)))
        .collect()
}

/// The records that put `key` back as it was before: the version `before`
/// holds, or no entry, no note, the default goal, a retired practice.
fn restore(key: &Key, changed: &OwnLine, before: Option<&OwnLine>) -> Result<Vec<Staged>> {
    if let Some(before) = before {
        return again(before);
    }
    let private = changed.private;
    Ok(match key {
        Key::Entry(id) => vec![place(
            Record::Remove(RemoveRecord {
                id: *id,
                rev: Rev::default(),
            }),
            private,
        )],
        Key::Note(id) => vec![Staged::Private(Record::Note(NoteRecord {
            id: *id,
            note: None,
            rev: Rev::default(),
        }))],
        // A name is never taken away, only changed.
        Key::Name => Vec::new(),
        Key::Goal(practice) => {
            let goal = crate::domain::practice::PracticesDoc::default()
                .find("", practice)
                .map(|p| p.goal)
                .unwrap_or_else(|| match &changed.rec {
                    Record::Goal(g) => g.goal,
                    _ => crate::domain::goal::Goal::None,
                });
            vec![Staged::Shared(
                Record::Goal(GoalRecord {
                    practice: practice.clone(),
                    goal,
                    retired: false,
                    rev: Rev::default(),
                }),
                None,
            )]
        }
        // A custom practice cannot be unmade (a partner may have logged
        // it): it is retired for me.
        Key::Practice(id) => {
            let goal = match &changed.rec {
                Record::Practice(p) => p.goal,
                _ => crate::domain::goal::Goal::None,
            };
            vec![Staged::Shared(
                Record::Goal(GoalRecord {
                    practice: id.clone(),
                    goal,
                    retired: true,
                    rev: Rev::default(),
                }),
                None,
            )]
        }
    })
}

/// The records that write `line`'s version again, in the log it was in,
/// its shared note sealed afresh.
fn again(line: &OwnLine) -> Result<Vec<Staged>> {
    let mut rec = line.rec.clone();
    let mut sidecar = None;
    if let Record::Entry(e) = &mut rec {
        e.h = None;
        if let Some(note) = &line.note {
            let (h, side) = NoteSidecar::seal(note).map_err(|e| {
                Error::runtime(format!("could not get random bytes for the note: {e}"))
            })?;
            e.h = Some(Hex32(h));
            sidecar = Some(side);
        }
    }
    Ok(vec![match line.private {
        true => Staged::Private(rec),
        false => Staged::Shared(rec, sidecar),
    }])
}

fn place(rec: Record, private: bool) -> Staged {
    match private {
        true => Staged::Private(rec),
        false => Staged::Shared(rec, None),
    }
}

/// "the log of appreciation today", "2 changes", for the confirmation.
fn describe(ctx: &Context<'_>, touched: &BTreeMap<Key, &OwnLine>) -> String {
    let entry = |e: &EntryRecord| {
        let what = match e.kind {
            Kind::Log => format!("the log of {}", e.practice),
            Kind::Skip => format!("the skip of {}", e.practice),
            Kind::Pause => "the pause".to_string(),
        };
        format!("{what} {}", super::describe_day(ctx.today, e.day))
    };
    let parts: Vec<String> = touched
        .values()
        .filter_map(|l| match &l.rec {
            Record::Entry(e) => Some(entry(e)),
            Record::Remove(_) => Some("a removal".to_string()),
            Record::Name(n) => Some(format!("the name {}", n.name)),
            Record::Goal(g) => Some(format!("the goal for {}", g.practice)),
            Record::Practice(p) => Some(format!("the new practice {}", p.id)),
            _ => None,
        })
        .collect();
    match parts.as_slice() {
        [] => "a note".to_string(),
        [one] => crate::render::sanitize::sanitize_line(one).into_owned(),
        many => format!("{} changes", many.len()),
    }
}
