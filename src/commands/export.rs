//! `safe export`: the journal as I may see it, as JSON lines or CSV, or a
//! backup of my own journal that `safe import` restores whole.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::Context;
use super::history::{Seen, seen_between};
use crate::domain::goal::Goal;
use crate::error::{Error, Result};
use crate::journal::view::View;
use crate::render;
use crate::render::sanitize::sanitize;

/// Write the journal out, for backups, spreadsheets or another tool.
///
/// jsonl: one entry a line (the format `safe import` reads), with your
/// private entries and notes and your partner's shared entries.
///
/// csv: the same, with columns
/// id,kind,practice,day,at,person,note,took_minutes,until,private.
///
/// backup: your own journal, complete: your entries with their private
/// notes, your custom practices, your goals and your name (never your
/// keys); `safe import` restores it, on a new machine too.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe export -o journal.jsonl\n  safe export --format csv -o journal.csv\n  safe export --format backup -o safe-backup.jsonl"
)]
pub struct ExportArgs {
    /// What to write: jsonl, csv, or backup (everything of yours, to restore with `safe import`).
    #[arg(long, short, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Write to this file instead of standard output (`-` is standard output).
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Jsonl,
    Csv,
    Backup,
}

/// The lines of a backup that are not entries. Each begins with its
/// `"backup"` key (serde writes the tag first), which is how `safe import`
/// tells them from entry lines; the `journal` line comes first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "backup", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackupLine {
    /// Whose journal this is.
    Journal {
        version: u32,
        person: String,
        name: String,
    },
    /// A practice of my own making.
    Practice {
        id: String,
        goal: Goal,
        #[serde(default)]
        about: String,
    },
    /// My goal for a practice, or its retirement.
    Goal {
        practice: String,
        goal: Goal,
        #[serde(default)]
        retired: bool,
    },
}

/// How a backup line begins.
pub const BACKUP_PREFIX: &str = "{\"backup\":";

pub fn cmd_export(ctx: &mut Context<'_>, args: ExportArgs) -> Result<()> {
    let (view, _) = ctx.view()?;
    let people = &view.people;
    // Every live entry, whatever its day: a backup that skipped old days
    // would lose them.
    let mut seen = seen_between(&view, chrono::NaiveDate::MIN, chrono::NaiveDate::MAX);
    let mut text = Vec::with_capacity(seen.len() * 256);
    match args.format {
        Format::Jsonl => {
            for s in &seen {
                render::json::to_writer(&mut text, &json_line(s))?;
                text.push(b'\n');
            }
        }
        Format::Backup => {
            seen.retain(|s| s.entry.author == view.me);
            for line in backup_lines(&view) {
                render::json::to_writer(&mut text, &line)?;
                text.push(b'\n');
            }
            for s in &seen {
                render::json::to_writer(&mut text, &json_line(s))?;
                text.push(b'\n');
            }
        }
        Format::Csv => {
            text.extend_from_slice(
                b"id,kind,practice,day,at,person,note,took_minutes,until,private\n",
            );
            for s in &seen {
                let e = &s.entry;
                let fields = [
                    e.id.hyphenated().to_string(),
                    e.kind.name().to_string(),
                    // A partner's text may be on its way to a terminal:
                    // no escape sequences (newlines and tabs stay).
                    sanitize(&e.practice).into_owned(),
                    e.day.to_string(),
                    e.at.to_rfc3339(),
                    super::name_of(people, &e.author),
                    e.note
                        .as_deref()
                        .map(sanitize)
                        .unwrap_or_default()
                        .into_owned(),
                    e.took_minutes.map(|m| m.to_string()).unwrap_or_default(),
                    e.until.map(|d| d.to_string()).unwrap_or_default(),
                    s.private.to_string(),
                ];
                let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                text.extend_from_slice(row.join(",").as_bytes());
                text.push(b'\n');
            }
        }
    }
    let output = args.output.filter(|path| path.as_os_str() != "-");
    match output {
        Some(path) => {
            std::fs::write(&path, &text).map_err(|e| Error::io("write", &path, e))?;
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
            }
            let entries = if seen.len() == 1 { "entry" } else { "entries" };
            let what = match args.format {
                Format::Backup => format!(
                    "a backup of your journal ({} {entries} with their notes, your practices, goals and name; no keys)",
                    seen.len()
                ),
                _ => format!("{} {entries}", seen.len()),
            };
            eprintln!("Exported {what} to {}.", path.display());
        }
        None => ctx.out.write_all(&text)?,
    }
    Ok(())
}

/// The lines of a backup before its entries: whose journal it is, my
/// custom practices, my goals.
fn backup_lines(view: &View) -> Vec<BackupLine> {
    let me = &view.me;
    let state = &view.state;
    let mut lines = vec![BackupLine::Journal {
        version: 1,
        person: me.clone(),
        name: state.names.get(me).cloned().unwrap_or_default(),
    }];
    lines.extend(
        state
            .practices
            .iter()
            .filter(|((owner, _), _)| owner == me)
            .map(|((_, id), p)| BackupLine::Practice {
                id: id.clone(),
                goal: p.goal,
                about: p.about.clone(),
            }),
    );
    lines.extend(
        state
            .goals
            .iter()
            .filter(|((owner, _), _)| owner == me)
            .map(|((_, practice), g)| BackupLine::Goal {
                practice: practice.clone(),
                goal: g.goal,
                retired: g.retired,
            }),
    );
    lines
}

/// One interchange line: the entry's fields, whether it is private, and
/// whether its note is shared.
#[derive(serde::Serialize)]
struct Line<'a> {
    #[serde(flatten)]
    entry: &'a crate::domain::entry::Entry,
    private: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    note_shared: Option<bool>,
}

fn json_line(s: &Seen) -> Line<'_> {
    let note_shared = (s.entry.note.is_some() && !s.private).then_some(s.note_shared);
    Line {
        entry: &s.entry,
        private: s.private,
        note_shared,
    }
}

/// Quote a CSV field when it needs it (RFC 4180), and keep spreadsheets from
/// running it: a cell that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return is read as a formula by Excel, LibreOffice and Google
/// Sheets (CSV injection), so such a cell starts with `'`, which they show
/// as text.
fn csv_field(field: &str) -> String {
    let field = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{field}"))
    } else {
        std::borrow::Cow::Borrowed(field)
    };
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.into_owned()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(super::csv_field("plain"), "plain");
        assert_eq!(super::csv_field("a, b"), "\"a, b\"");
        assert_eq!(super::csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        for (cell, written) in [
            ("=1+1", "'=1+1"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "\"'\rx\""),
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\"",
            ),
            ("a=b", "a=b"),
        ] {
            assert_eq!(super::csv_field(cell), written, "{cell:?}");
        }
    }
}
