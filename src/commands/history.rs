//! `safe history`: the entries of a period, mine and (after sync) my
//! partner's, as a table or as JSON.
//!
//! Ten years of entries are read from the index one at a time and written
//! as they come (DESIGN.md §6), never held all at once: a first pass over
//! the period sizes the columns and finds the handles, a second writes
//! the rows. A few rows on a terminal narrower than they are go through
//! comfy_table whole, as before; many rows are laid out by the same
//! rules without it.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::Write;

use chrono::NaiveDate;
use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};
use serde::Serialize;
use unicode_width::UnicodeWidthStr;

use super::Context;
use super::period::{Period, PeriodArgs};
use super::session::Session;
use crate::domain::entry::{Entry, EntryId, Kind};
use crate::domain::person::PeopleDoc;
use crate::error::Result;
use crate::journal::Journal;
use crate::journal::view::{View, item_of};
use crate::render;
use crate::render::sanitize::sanitize_line;
use crate::store::config::Config;
use crate::store::index::entries::Snapshot;

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
    let Some(session) = ctx.reading_session()? else {
        // No journal here yet: nothing is made, nothing is listed.
        let (view, config) = ctx.view()?;
        return show_view(ctx, &args, &view, &config);
    };
    let Session {
        lock,
        mut journal,
        config,
        view,
        ..
    } = session;
    if !view.is_light() {
        // A partner's schema-1 snapshot is only in the whole view.
        drop(lock);
        return show_view(ctx, &args, &view, &config);
    }
    let period = args.period.resolve(ctx, config.week_start)?;
    check_practice(&args, &view, &config)?;
    // The first pass reads the period under the lock, before any output:
    // a damaged index fails here and is made again from the logs, once,
    // as for every command that reads.
    let first = |journal: &Journal| -> Result<Sizing> {
        let snapshot = journal.snapshot()?;
        let listing = Listing::new(Source::Index(&snapshot), &args, &period, &config.id);
        match args.json {
            true => listing.each(true, |_| Ok(())).map(|()| Sizing::default()),
            false => Sizing::of(&listing, &view.people),
        }
    };
    let sizing = journal.read_or_rebuild(ctx.wall_ms(), &lock, first)?;
    // The second pass sees the index as the first did: its snapshot starts
    // under the lock, which is then let go. While the snapshot is open no
    // other command can commit to the index (its rollback journal lets a
    // commit through only when no read is open), so the rows are read on a
    // thread of their own into a spool, which ends the read as soon as the
    // rows are read, however slowly stdout (a pager) takes them.
    let (chunks, spooled) = std::sync::mpsc::channel();
    let second = |journal: Journal, lock| -> Result<()> {
        let snapshot = journal.snapshot()?;
        drop(lock);
        let mut spool = Spool::new(chunks);
        let source = Source::Index(&snapshot);
        show(
            &mut spool,
            &args,
            &period,
            &view,
            &config,
            source,
            Some(sizing),
        )?;
        spool.flush()?;
        Ok(())
    };
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| second(journal, lock));
        let mut written = Ok(());
        for chunk in &spooled {
            written = ctx.out.write_all(&chunk);
            if written.is_err() {
                // The reader's next chunk fails, and it stops.
                break;
            }
        }
        drop(spooled);
        let read = reader.join().expect("the history reader does not panic");
        written?;
        read
    })
}

/// Output on its way to the thread that writes it, in chunks: the thread
/// that reads never waits on the reader of stdout.
struct Spool {
    buffer: Vec<u8>,
    to: std::sync::mpsc::Sender<Vec<u8>>,
}

impl Spool {
    const CHUNK: usize = 64 * 1024;

    fn new(to: std::sync::mpsc::Sender<Vec<u8>>) -> Spool {
        Spool {
            buffer: Vec::with_capacity(Spool::CHUNK),
            to,
        }
    }
}

impl Write for Spool {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= Spool::CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buffer, Vec::with_capacity(Spool::CHUNK));
        self.to
            .send(full)
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::BrokenPipe))
    }
}

/// The entries of a whole view (no index to read from), as asked.
fn show_view(
    ctx: &mut Context<'_>,
    args: &HistoryArgs,
    view: &View,
    config: &Config,
) -> Result<()> {
    let period = args.period.resolve(ctx, config.week_start)?;
    check_practice(args, view, config)?;
    show(
        ctx.out,
        args,
        &period,
        view,
        config,
        Source::View(view),
        None,
    )
}

/// Write the entries of `source` the command line asks for; `sizing`
/// is the first pass, when it was made already.
fn show(
    out: &mut dyn Write,
    args: &HistoryArgs,
    period: &Period,
    view: &View,
    config: &Config,
    source: Source<'_>,
    sizing: Option<Sizing>,
) -> Result<()> {
    let listing = Listing::new(source, args, period, &config.id);
    if args.json {
        return write_json(out, &listing, &view.people);
    }
    let sizing = match sizing {
        Some(sizing) => sizing,
        None => Sizing::of(&listing, &view.people)?,
    };
    if sizing.ids.is_empty() {
        return write_nothing(out, args, period, config);
    }
    let handles = listing.source.handle_lengths(&sizing.ids)?;
    let columns = Columns::new(&sizing, &handles);
    let width = render::width();
    let layout = match width {
        None => Layout::Plain,
        Some(_) if sizing.ids.len() <= TABLE_AT_MOST => Layout::Table,
        Some(width) if sizing.fits(&columns, width) => Layout::Plain,
        Some(width) => Layout::Wrapped(width),
    };
    let mut writer = RowWriter::new(layout, columns);
    let mut next = sizing.ids.iter().zip(handles);
    // A cell is never wider than the terminal: a huge note (from an older
    // safe, or edited by hand) cannot make the layout slow.
    let limit = render::cell_limit();
    let mut dates = Dates::default();
    listing.each(true, |seen| {
        let Some((id, handle)) = next.next().filter(|(id, _)| **id == seen.entry.id) else {
            return Err(changed_while_read());
        };
        let handle = &crate::domain::entry::id_tail(id)[..handle];
        let mut row = Row::of(&seen, handle, &config.id, &view.people, limit);
        row.date = dates.of(seen.entry.day).to_string();
        writer.push(&mut *out, row)
    })?;
    writer.finish(out)
}

/// A practice asked for must be one I know.
fn check_practice(args: &HistoryArgs, view: &View, config: &Config) -> Result<()> {
    if let Some(p) = &args.practice {
        super::known_practice(&view.practices, &config.id, p)?;
    }
    Ok(())
}

/// How many rows on a narrow terminal comfy_table lays out whole.
const TABLE_AT_MOST: usize = 2_000;

fn write_nothing(
    out: &mut dyn Write,
    args: &HistoryArgs,
    period: &Period,
    config: &Config,
) -> Result<()> {
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
        writeln!(out, "Nothing of your partner's here {span}. {how}")?;
    } else {
        writeln!(
            out,
            "Nothing logged {span}. `safe log <PRACTICE>` records a practice."
        )?;
    }
    Ok(())
}

fn changed_while_read() -> crate::error::Error {
    crate::error::Error::runtime("the journal changed while it was listed")
        .with_hint("run the command again")
}

/// Where the entries come from.
enum Source<'a> {
    /// The index, read in order: a journal of schema 2 alone.
    Index(&'a Snapshot<'a>),
    /// The whole view: a journal that still shows a partner's schema-1
    /// snapshot, or none yet.
    View(&'a View),
}

impl Source<'_> {
    /// The handle length of each of `shown`, unique among every live
    /// entry, shown or not, so every id in the table can be given back to
    /// `safe edit` or `safe rm`.
    fn handle_lengths(&self, shown: &[EntryId]) -> Result<Vec<usize>> {
        match self {
            Source::Index(snapshot) => snapshot.handle_lengths(shown),
            Source::View(view) => Ok(view.handles_of(shown).iter().map(String::len).collect()),
        }
    }
}

/// The entries a command line asks for.
struct Listing<'a> {
    source: Source<'a>,
    from: NaiveDate,
    /// `None`: no end.
    to: Option<NaiveDate>,
    practice: Option<&'a str>,
    who: Who,
    me: &'a str,
}

impl<'a> Listing<'a> {
    fn new(source: Source<'a>, args: &'a HistoryArgs, period: &Period, me: &'a str) -> Self {
        Listing {
            source,
            from: period.from,
            // `--all` also shows what lies ahead: a pause planned for next month.
            to: (!period.all).then_some(period.to),
            practice: args.practice.as_deref(),
            who: args.who,
            me,
        }
    }

    /// Each entry shown, in order; with its note when `notes`.
    fn each(&self, notes: bool, mut each: impl FnMut(Seen) -> Result<()>) -> Result<()> {
        let mut keep = |seen: Seen| match self.keeps(&seen.entry) {
            true => each(seen),
            false => Ok(()),
        };
        match &self.source {
            Source::Index(snapshot) => {
                let notes_of = notes.then_some(self.me);
                snapshot.entries(self.from, self.to, notes_of, |listed| {
                    let item = item_of(
                        &listed.record,
                        &listed.owner,
                        self.me,
                        listed.shared.as_ref(),
                        listed.unshared.as_ref(),
                    );
                    keep(Seen {
                        entry: item.entry,
                        private: item.private,
                        note_shared: item.shared_note,
                        card: item.record.card,
                    })
                })
            }
            Source::View(view) => {
                let to = self.to.unwrap_or(NaiveDate::MAX);
                seen_between(view, self.from, to)
                    .into_iter()
                    .try_for_each(keep)
            }
        }
    }

    fn keeps(&self, e: &Entry) -> bool {
        let who = match self.who {
            Who::All => true,
            Who::Me => e.author == self.me,
            Who::Partner => e.author != self.me,
        };
        who && self.practice.is_none_or(|p| e.practice == p)
    }
}

/// The entries as one JSON array, written element by element.
fn write_json(out: &mut dyn Write, listing: &Listing<'_>, people: &PeopleDoc) -> Result<()> {
    let array = JsonArray {
        listing,
        people,
        failed: RefCell::new(None),
    };
    if let Err(e) = render::json::to_writer_pretty(&mut *out, &array) {
        return Err(array.failed.take().unwrap_or_else(|| e.into()));
    }
    writeln!(out)?;
    Ok(())
}

struct JsonArray<'a> {
    listing: &'a Listing<'a>,
    people: &'a PeopleDoc,
    /// Why reading failed, when it did: serde only carries a message.
    failed: RefCell<Option<crate::error::Error>>,
}

impl Serialize for JsonArray<'_> {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error as _, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        let mut written = Ok(());
        let read = self.listing.each(true, |s| {
            let entry = JsonEntry {
                id: s.entry.id.hyphenated().to_string(),
                kind: s.entry.kind.name(),
                practice: &s.entry.practice,
                day: s.entry.day,
                until: s.entry.until,
                at: s.entry.at.to_rfc3339(),
                person: &s.entry.author,
                name: super::name_of(self.people, &s.entry.author),
                note: s.entry.note.as_deref(),
                took_minutes: s.entry.took_minutes,
                private: s.private,
                card: s.card.as_deref(),
            };
            written = seq.serialize_element(&entry);
            // Stop reading once the output fails (a closed pipe).
            match &written {
                Ok(()) => Ok(()),
                Err(_) => Err(crate::error::Error::runtime("the output failed")),
            }
        });
        written?;
        if let Err(e) = read {
            let message = e.to_string();
            *self.failed.borrow_mut() = Some(e);
            return Err(S::Error::custom(message));
        }
        seq.end()
    }
}

/// What the first pass learns of the rows to come.
#[derive(Default)]
struct Sizing {
    /// The shown entries' ids, in order.
    ids: Vec<EntryId>,
    /// The widest `who` cell.
    who: usize,
    /// Each distinct `practice` cell, and the widest practice id (the
    /// words after it, like "(skipped)", may wrap).
    practices: BTreeSet<String>,
    practice_id: usize,
    /// The widest note cell, when notes were read.
    note: String,
}

impl Sizing {
    /// The first pass, notes and all (they are read as the second pass
    /// will read them, and size the note column for a narrow terminal).
    fn of(listing: &Listing<'_>, people: &PeopleDoc) -> Result<Sizing> {
        let mut sizing = Sizing {
            who: "who".len(),
            practice_id: "practice".len(),
            ..Sizing::default()
        };
        let limit = render::cell_limit();
        listing.each(true, |seen| {
            let row = Row::of(&seen, "", listing.me, people, limit);
            sizing.ids.push(seen.entry.id);
            sizing.who = sizing.who.max(row.who.width());
            sizing.practice_id = sizing.practice_id.max(practice_id_width(&row.practice));
            if !sizing.practices.contains(&row.practice) {
                sizing.practices.insert(row.practice);
            }
            if row.note.width() > sizing.note.width() {
                sizing.note = row.note;
            }
            Ok(())
        })?;
        Ok(sizing)
    }

    /// Whether comfy_table would give every column its widest cell on a
    /// terminal `width` wide, as without a width: then rows can be
    /// written one by one. Its layout depends on the widest cell of each
    /// column only when they all fit; so a table of the widest cells
    /// (each practice cell among them) laid out both ways tells.
    fn fits(&self, columns: &Columns, width: u16) -> bool {
        let probe = |width: Option<u16>| {
            let mut table = Table::new();
            table.load_preset(presets::NOTHING);
            set_header(&mut table);
            for practice in &self.practices {
                table.add_row(vec![
                    "x".repeat(DATE_WIDTH),
                    "x".repeat(self.who),
                    practice.clone(),
                    "x".repeat(columns.id),
                    self.note.clone(),
                ]);
            }
            match width {
                Some(width) => {
                    table
                        .set_width(width)
                        .set_content_arrangement(ContentArrangement::Dynamic);
                }
                None => {
                    table.set_content_arrangement(ContentArrangement::Disabled);
                }
            }
            constrain(&mut table, self.practice_id);
            render::table_text(&table)
        };
        probe(Some(width)) == probe(None)
    }
}

/// The width of a date cell, `Fri 2026-11-27`.
const DATE_WIDTH: usize = 14;

/// The display width of each column but the note, which comes last, so
/// no row is padded to the longest note.
struct Columns {
    who: usize,
    practice: usize,
    /// Each distinct practice cell.
    practices: Vec<String>,
    practice_id: usize,
    id: usize,
}

impl Columns {
    fn new(sizing: &Sizing, handles: &[usize]) -> Columns {
        Columns {
            who: sizing.who,
            practice: sizing
                .practices
                .iter()
                .map(|p| p.width())
                .max()
                .unwrap_or(0)
                .max("practice".len()),
            practices: sizing.practices.iter().cloned().collect(),
            practice_id: sizing.practice_id,
            id: handles.iter().copied().max().unwrap_or(0).max("id".len()),
        }
    }
}

/// The date cells of rows in day order, each made once for its day.
#[derive(Default)]
struct Dates {
    last: Option<(NaiveDate, String)>,
}

impl Dates {
    fn of(&mut self, day: NaiveDate) -> &str {
        if self.last.as_ref().is_none_or(|(d, _)| *d != day) {
            self.last = Some((day, day.format("%a %Y-%m-%d").to_string()));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// The cells of one row (the date is left to [`Dates`]).
struct Row {
    date: String,
    who: String,
    practice: String,
    id: String,
    note: String,
}

impl Row {
    fn of(seen: &Seen, handle: &str, me: &str, people: &PeopleDoc, limit: usize) -> Row {
        let e = &seen.entry;
        let who = if e.author == me {
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
        } else if e.author == me && e.note.is_some() && !seen.note_shared {
            note.push_str(" (note not shared)");
        }
        Row {
            date: String::new(),
            who,
            practice,
            id: handle.to_string(),
            note,
        }
    }

    fn cells(self) -> Vec<String> {
        vec![self.date, self.who, self.practice, self.id, self.note]
    }
}

/// The practice id at the start of a practice cell.
fn practice_id_width(cell: &str) -> usize {
    cell.split(" (").next().map_or(0, |id| id.chars().count())
}

/// How rows are laid out.
enum Layout {
    /// Every column as wide as its widest cell, a row at a time.
    Plain,
    /// comfy_table's own layout, for a few rows on a narrow terminal.
    Table,
    /// Many rows on a narrow terminal `width` wide: the dates, names,
    /// practice ids and handles whole, the rest wrapped, laid out by
    /// comfy_table a chunk of rows at a time with fixed columns.
    Wrapped(u16),
}

/// Writes rows as they come, by a [`Layout`].
struct RowWriter {
    layout: Layout,
    columns: Columns,
    /// Rows waiting for comfy_table, and whether the header is written.
    rows: Vec<Row>,
    started: bool,
    line: String,
}

/// How many rows of the wrapped layout go through comfy_table at once.
const CHUNK: usize = 256;

impl RowWriter {
    fn new(layout: Layout, columns: Columns) -> RowWriter {
        RowWriter {
            layout,
            columns,
            rows: Vec::new(),
            started: false,
            line: String::new(),
        }
    }

    fn push(&mut self, out: &mut dyn Write, row: Row) -> Result<()> {
        match self.layout {
            Layout::Plain => {
                if !self.started {
                    self.started = true;
                    let header = HEADER.map(str::to_string);
                    let [date, who, practice, id, note] = header;
                    self.plain(
                        out,
                        &Row {
                            date,
                            who,
                            practice,
                            id,
                            note,
                        },
                    )?;
                }
                self.plain(out, &row)
            }
            Layout::Table => {
                self.rows.push(row);
                Ok(())
            }
            Layout::Wrapped(_) => {
                self.rows.push(row);
                match self.rows.len() >= CHUNK {
                    true => self.wrapped(out),
                    false => Ok(()),
                }
            }
        }
    }

    fn finish(&mut self, out: &mut dyn Write) -> Result<()> {
        match self.layout {
            Layout::Plain => Ok(()),
            Layout::Table => {
                let mut table = Table::new();
                table.load_preset(presets::NOTHING);
                render::fit(&mut table);
                set_header(&mut table);
                for row in std::mem::take(&mut self.rows) {
                    table.add_row(row.cells());
                }
                constrain(&mut table, self.columns.practice_id);
                writeln!(out, "{}", render::table_text(&table))?;
                Ok(())
            }
            Layout::Wrapped(_) => self.wrapped(out),
        }
    }

    /// One row as comfy_table writes it when every column is as wide as
    /// its widest cell: each cell padded by a blank on either side, the
    /// line without the blanks that end it.
    fn plain(&mut self, out: &mut dyn Write, row: &Row) -> Result<()> {
        let c = &self.columns;
        let line = &mut self.line;
        line.clear();
        for (cell, width) in [
            (&row.date, DATE_WIDTH),
            (&row.who, c.who),
            (&row.practice, c.practice),
            (&row.id, c.id),
        ] {
            line.push(' ');
            line.push_str(cell);
            let pad = width.saturating_sub(cell.width()) + 1;
            line.extend(std::iter::repeat_n(' ', pad));
        }
        line.push(' ');
        line.push_str(&row.note);
        writeln!(out, "{}", line.trim_end())?;
        Ok(())
    }

    /// The rows waiting, laid out in the fixed columns of a narrow
    /// terminal, much as comfy_table shares out the room: the practice
    /// column gets its widest cell if that takes at most half the room,
    /// else its cells wrapped at half (never narrower than a practice
    /// id); the note what is left, but at least 10 columns (below that
    /// the row may overflow rather than stack the note one word a line).
    fn wrapped(&mut self, out: &mut dyn Write) -> Result<()> {
        let Layout::Wrapped(width) = self.layout else {
            return Ok(());
        };
        if self.rows.is_empty() {
            return Ok(());
        }
        let c = &self.columns;
        let fixed = DATE_WIDTH + c.who + c.id + 2 * HEADER.len();
        let room = usize::from(width).saturating_sub(fixed);
        let practice = match c.practice <= room / 2 {
            true => c.practice,
            false => c
                .practices
                .iter()
                .flat_map(|p| render::wrap(p, room / 2))
                .map(|line| line.width())
                .max()
                .unwrap_or(0)
                .max(c.practice_id),
        };
        let note = room.saturating_sub(practice).max(MIN_NOTE);
        let mut table = Table::new();
        table.load_preset(presets::NOTHING);
        table.set_content_arrangement(ContentArrangement::Disabled);
        if !self.started {
            self.started = true;
            set_header(&mut table);
        }
        for row in self.rows.drain(..) {
            table.add_row(row.cells());
        }
        for (column, width) in table
            .column_iter_mut()
            .zip([DATE_WIDTH, c.who, practice, c.id, note])
        {
            let width = u16::try_from(width + 2).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(width)));
        }
        writeln!(out, "{}", render::table_text(&table))?;
        Ok(())
    }
}

/// The narrowest a note column gets before rows overflow instead.
const MIN_NOTE: usize = 10;

const HEADER: [&str; 5] = ["date", "who", "practice", "id", "note"];

fn set_header(table: &mut Table) {
    table.set_header(HEADER.to_vec());
}

/// On a narrow terminal the note wraps, and a practice's "(skipped)" or
/// card goes under it: dates, names, practice ids and handles stay whole,
/// so an id can be copied. Below 10 columns for the note, the row may
/// overflow the terminal rather than stack the note one word a line.
fn constrain(table: &mut Table, practice_id: usize) {
    let practice_width = u16::try_from(practice_id + 2).unwrap_or(u16::MAX);
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_constraint(match index {
            2 => ColumnConstraint::LowerBoundary(Width::Fixed(practice_width)),
            4 => ColumnConstraint::LowerBoundary(Width::Fixed(12)),
            _ => ColumnConstraint::ContentWidth,
        });
    }
}
