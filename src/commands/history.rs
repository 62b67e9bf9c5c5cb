//! `safe history`: the entries of a period, mine and (after sync) my
//! partner's, as a table or as JSON.

use chrono::NaiveDate;
use comfy_table::{ColumnConstraint, Table, Width, presets};
use serde::Serialize;

use super::Context;
use super::period::{Period, PeriodArgs};
use crate::domain::entry::{Entry, Kind};
use crate::error::Result;
use crate::journal::view::View;
use crate::render;
use crate::render::sanitize::sanitize_line;

/// Show what was logged: this week by default.
///
/// Lists your entries and, once you sync, your partner's shared ones. Your
/// private entries and unshared notes are shown only to you.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe history --month\n  safe history --all --practice repair\n  safe history --since 2026-11-01 --who partner --json"
)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Only this practice.
    #[arg(long, short, value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: Option<String>,
    /// Whose entries: me, partner or all.
    #[arg(long, value_enum, default_value_t = Who::All)]
    pub who: Who,
    /// Print JSON (an array of entries) instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Who {
    Me,
    Partner,
    All,
}

/// An entry as I may see it: with my private note joined in.
#[derive(Debug, Clone)]
pub struct Seen {
    pub entry: Entry,
    pub private: bool,
    /// The note is in the shared journal (my partner can read it).
    pub note_shared: bool,
    /// The conversation card explored, for a `card` log.
    pub card: Option<String>,
}

/// Every live entry with a day in `[from, to]`, as `me` may see it, sorted
/// by (day, at, id).
pub fn seen_between(view: &View, from: NaiveDate, to: NaiveDate) -> Vec<Seen> {
    view.items
        .iter()
        .filter(|i| i.entry.day >= from && i.entry.day <= to)
        .map(|i| Seen {
            entry: i.entry.clone(),
            private: i.private,
            note_shared: i.shared_note,
            card: i.record.card.clone(),
        })
        .collect()
}

#[derive(Serialize)]
struct JsonEntry<'a> {
    id: String,
    kind: &'static str,
    practice: &'a str,
    day: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    until: Option<NaiveDate>,
    at: String,
    person: &'a str,
    name: String,
    note: Option<&'a str>,
    took_minutes: Option<u32>,
    private: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    card: Option<&'a str>,
}

pub fn cmd_history(ctx: &mut Context<'_>, args: HistoryArgs) -> Result<()> {
    let (view, config) = ctx.view()?;
    let people = &view.people;
    let period: Period = args.period.resolve(ctx, config.week_start)?;
    if let Some(p) = &args.practice {
        super::known_practice(&view.practices, &config.id, p)?;
    }
    // `--all` also shows what lies ahead: a pause planned for next month.
    let to = if period.all {
        NaiveDate::MAX
    } else {
        period.to
    };
    let shown: Vec<Seen> = seen_between(&view, period.from, to)
        .into_iter()
        .filter(|s| {
            args.practice
                .as_ref()
                .is_none_or(|p| &s.entry.practice == p)
        })
        .filter(|s| match args.who {
            Who::All => true,
            Who::Me => s.entry.author == config.id,
            Who::Partner => s.entry.author != config.id,
        })
        .collect();

    if args.json {
        let items: Vec<JsonEntry> = shown
            .iter()
            .map(|s| JsonEntry {
                id: s.entry.id.hyphenated().to_string(),
                kind: s.entry.kind.name(),
                practice: &s.entry.practice,
                day: s.entry.day,
                until: s.entry.until,
                at: s.entry.at.to_rfc3339(),
                person: &s.entry.author,
                name: super::name_of(people, &s.entry.author),
                note: s.entry.note.as_deref(),
                took_minutes: s.entry.took_minutes,
                private: s.private,
                card: s.card.as_deref(),
            })
            .collect();
        render::json::to_writer_pretty(&mut *ctx.out, &items)?;
        writeln!(ctx.out)?;
        return Ok(());
    }

    if shown.is_empty() {
        let span = if period.all {
            "yet".to_string()
        } else {
            format!("from {} to {}", period.from, period.to)
        };
        if args.who == Who::Partner {
            // Their entries arrive by sync; `safe log` could not help here.
            let how = if config.remote.is_some() {
                "`safe sync` brings in the entries they share."
            } else {
                "`safe sync --remote URL` brings in the entries they share."
            };
            writeln!(ctx.out, "Nothing of your partner's here {span}. {how}")?;
        } else {
            writeln!(
                ctx.out,
                "Nothing logged {span}. `safe log <PRACTICE>` records a practice."
            )?;
        }
        return Ok(());
    }
    let ids: Vec<_> = shown.iter().map(|s| s.entry.id).collect();
    // Handles unique among every entry of the journal, shown or not, so
    // every id in the table can be given back to `safe edit` or `safe rm`.
    let prefixes = view.handles_of(&ids);
    // A cell is never wider than the terminal: a huge note (from an older
    // safe, or edited by hand) cannot make the layout slow.
    let limit = render::cell_limit();
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    render::fit(&mut table);
    // The note comes last, so no row is padded to the longest note.
    table.set_header(vec!["date", "who", "practice", "id", "note"]);
    // The widest practice id: the words after it ("(skipped)") may wrap.
    let mut practice_width = "practice".len();
    for (seen, prefix) in shown.iter().zip(prefixes) {
        let e = &seen.entry;
        let who = if e.author == config.id {
            "me".to_string()
        } else {
            super::name_of(people, &e.author)
        };
        let practice = match e.kind {
            Kind::Log => match &seen.card {
                Some(card) => format!("{} ({})", sanitize_line(&e.practice), sanitize_line(card)),
                None => sanitize_line(&e.practice).into_owned(),
            },
            Kind::Skip => format!("{} (skipped)", sanitize_line(&e.practice)),
            Kind::Pause => {
                let what = if e.practice == crate::domain::entry::ALL_PRACTICES {
                    "all".to_string()
                } else {
                    sanitize_line(&e.practice).into_owned()
                };
                format!("{what} (paused to {})", e.until.unwrap_or(e.day))
            }
        };
        practice_width = practice_width.max(
            practice
                .split(" (")
                .next()
                .map_or(0, |id| id.chars().count()),
        );
        let mut note = e
            .note
            .as_deref()
            .map(|n| render::truncate(&sanitize_line(n), limit).into_owned())
            .unwrap_or_default();
        if let Some(minutes) = e.took_minutes {
            let took = format!("[repaired in {}]", super::describe_minutes(minutes));
            note = if note.is_empty() {
                took
            } else {
                format!("{note} {took}")
            };
        }
        if seen.private {
            note = if note.is_empty() {
                "(private)".to_string()
            } else {
                format!("{note} (private)")
            };
        } else if e.author == config.id && e.note.is_some() && !seen.note_shared {
            note.push_str(" (note not shared)");
        }
        table.add_row(vec![
            e.day.format("%a %Y-%m-%d").to_string(),
            who,
            practice,
            prefix,
            note,
        ]);
    }
    // On a narrow terminal the note wraps, and a practice's "(skipped)"
    // or card goes under it: dates, names, practice ids and handles stay
    // whole, so an id can be copied. Below 10 columns for the note, the row
    // may overflow the terminal rather than stack the note one word a line.
    let practice_width = u16::try_from(practice_width + 2).unwrap_or(u16::MAX);
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_constraint(match index {
            2 => ColumnConstraint::LowerBoundary(Width::Fixed(practice_width)),
            4 => ColumnConstraint::LowerBoundary(Width::Fixed(12)),
            _ => ColumnConstraint::ContentWidth,
        });
    }
    writeln!(ctx.out, "{}", render::table_text(&table))?;
    Ok(())
}
