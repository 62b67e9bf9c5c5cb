//! One file per subcommand: each reads its arguments, calls the store and the
//! domain, and renders. `Context` carries what every command needs.

pub mod calendar;
pub mod card;
pub mod completions;
pub mod config;
pub mod edit;
pub mod export;
pub mod history;
pub mod import;
pub mod init;
pub mod log;
pub mod man;
pub mod pair;
pub mod pause;
pub mod period;
pub mod practice;
pub mod remind;
pub mod repair;
pub mod review;
pub mod rm;
pub mod session;
pub mod skip;
pub mod stats;
pub mod sync;
pub mod today;
pub mod undo;

use std::io::{Read, Write};

use chrono::{DateTime, FixedOffset, Local, NaiveDate, NaiveTime, TimeZone};

use crate::domain::person::PeopleDoc;
use crate::domain::practice::{Practice, PracticesDoc, closest};
use crate::domain::when::WhenError;
use crate::error::{Error, Result};

/// A date or duration the user typed that does not read: an input error,
/// with the phrases that do as its hint.
impl From<WhenError> for Error {
    fn from(e: WhenError) -> Self {
        let hint = e.hint();
        let err = Error::input(e.to_string());
        match hint {
            Some(h) => err.with_hint(h),
            None => err,
        }
    }
}
use crate::store::DataDir;
use crate::store::config::valid_name;

/// What every command gets: where the data is, what time it is, and where
/// to write.
pub struct Context<'a> {
    pub dir: DataDir,
    /// "Now": the real clock, or `SAFE_NOW` for reproducible output.
    pub now: DateTime<FixedOffset>,
    pub today: NaiveDate,
    /// Whether stdout takes colour (a terminal, and no `NO_COLOR`).
    pub color: bool,
    pub out: &'a mut dyn Write,
}

impl Context<'_> {
    /// Milliseconds for the revision clock. It follows `now`, so `SAFE_NOW`
    /// makes whole runs reproducible; the clock's counter keeps revisions
    /// increasing within one millisecond.
    pub fn wall_ms(&self) -> u64 {
        u64::try_from(self.now.timestamp_millis()).unwrap_or(0)
    }

    /// Turn a `--date` phrase into a day.
    pub fn parse_day(&self, text: &str) -> Result<NaiveDate> {
        Ok(crate::domain::when::parse_day(text, self.today)?)
    }

    /// The moment an entry for `day` was made: now if it is today, else noon
    /// of that day in the current offset, so `at` stays on the entry's day.
    pub fn at_for(&self, day: NaiveDate) -> DateTime<FixedOffset> {
        if day == self.today {
            self.now
        } else {
            let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon"));
            self.now
                .offset()
                .from_local_datetime(&noon)
                .single()
                .unwrap_or(self.now)
        }
    }
}

/// The practice `id` as `person` sees it, or an input error that suggests the
/// closest names.
pub fn known_practice(practices: &PracticesDoc, person: &str, id: &str) -> Result<Practice> {
    let catalogue = practices.catalogue(person);
    // Ids are lowercase; `Appreciation` typed at the start of a sentence
    // means the same practice.
    if let Some(p) = catalogue.iter().find(|p| p.id.eq_ignore_ascii_case(id)) {
        return Ok(p.clone());
    }
    let suggestions = closest(
        id,
        catalogue
            .iter()
            .filter(|p| !p.retired)
            .map(|p| p.id.as_str()),
    );
    let hint = if suggestions.is_empty() {
        "`safe practice list` shows every practice; `safe practice add` makes a new one".to_string()
    } else {
        format!(
            "did you mean {}?",
            suggestions
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    Err(Error::input(format!("there is no practice called `{id}`")).with_hint(hint))
}

/// The display name of a person, or a short form of their id.
pub fn name_of(people: &PeopleDoc, id: &str) -> String {
    match people.name_of(id) {
        Some(name) => crate::render::sanitize::sanitize_line(name).into_owned(),
        None => id.chars().take(8).collect(),
    }
}

/// The login user's name, for an identity made without `safe init`: from
/// the environment, else the home directory's name. Never "me", which is
/// how tables label my own entries.
pub fn login_name() -> String {
    let home = std::env::var_os("HOME")
        .map(std::path::PathBuf::from)
        .and_then(|h| h.file_name().map(|n| n.to_string_lossy().into_owned()));
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .filter_map(|key| std::env::var(key).ok())
        .chain(home)
        .find(|name| valid_name(name).is_ok())
        .unwrap_or_else(|| "someone".to_string())
}

/// Parse `SAFE_NOW`: an RFC 3339 time, or a date (taken at noon, local).
pub fn parse_now(text: &str) -> Result<DateTime<FixedOffset>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Ok(time);
    }
    if let Ok(day) = text.parse::<NaiveDate>() {
        let noon = day.and_time(NaiveTime::from_hms_opt(12, 0, 0).expect("noon"));
        if let Some(time) = Local.from_local_datetime(&noon).single() {
            return Ok(time.fixed_offset());
        }
    }
    Err(Error::input(format!("SAFE_NOW=`{text}` is not a time"))
        .with_hint("use an RFC 3339 time like 2026-11-27T21:14:03+01:00 or a date like 2026-11-27"))
}

/// After a change: if the user asked for it, try to sync. A failure is a
/// warning and never undoes or fails the change.
pub fn auto_sync(ctx: &mut Context<'_>, session: &mut session::Session) {
    if !session.config.auto_sync || session.config.remote.is_none() {
        return;
    }
    if let Err(err) = sync::sync_now(ctx, session, true) {
        let err = match err.hint() {
            Some(_) => err,
            None => err.with_hint("`safe sync` retries"),
        };
        warn_after_save(ctx, "the automatic sync failed", &err);
    }
}

/// A step after a saved change failed (the sync, the index): the change
/// stands, so this is a warning on stderr, after the confirmation, and the
/// command still succeeds (DESIGN.md §2). The text may quote a remote or a
/// path: it is neutralised.
pub fn warn_after_save(ctx: &mut Context<'_>, what: &str, err: &Error) {
    use crate::render::sanitize::sanitize_line;
    // stdout is buffered: the confirmation must reach a terminal first.
    let _ = ctx.out.flush();
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(
        stderr,
        "safe: warning: saved, but {what}: {}",
        sanitize_line(err.message())
    );
    if let Some(hint) = err.hint() {
        let _ = writeln!(stderr, "hint: {}", sanitize_line(hint));
    }
}

/// The text of a `--note`: as given, or read from standard input for `-`
/// (a long note, or one with quotes, need not survive the shell). A note
/// over the limit is an input error that names it, before anything is
/// saved; an empty note is no note.
pub fn read_note(arg: Option<String>) -> Result<Option<String>> {
    let Some(mut text) = arg else {
        return Ok(None);
    };
    if text == "-" {
        // Four bytes a character, room for a final CRLF, and one byte more
        // is enough to know a note is too long: a note piped from a huge
        // file is not read whole.
        let cap = crate::domain::limits::MAX_NOTE_CHARS * 4 + 3;
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            eprintln!("Type the note, then press Ctrl-D on a line of its own:");
        }
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(cap as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                Error::input(format!("could not read the note from standard input: {e}"))
            })?;
        if bytes.len() == cap {
            return Err(note_too_long(format!(
                "the note on standard input is longer than {} characters",
                crate::domain::limits::MAX_NOTE_CHARS
            )));
        }
        text = String::from_utf8(bytes).map_err(|_| {
            Error::input("the note on standard input is not UTF-8 text")
                .with_hint("save it as UTF-8, or type it with --note \"...\"")
        })?;
        // A note typed into a pipe ends with the newline of its last line.
        let trimmed = text.trim_end_matches(['\n', '\r']).len();
        text.truncate(trimmed);
    }
    crate::domain::limits::check_note(&text).map_err(note_too_long)?;
    Ok(Some(text))
}

fn note_too_long(why: String) -> Error {
    Error::input(why).with_hint(format!(
        "shorten it to {} characters or fewer; nothing was saved",
        crate::domain::limits::MAX_NOTE_CHARS
    ))
}

/// Ask a yes/no question on a terminal; without one (a script, a pipe) the
/// answer is yes, so nothing waits for a person who is not there.
pub fn confirm(question: &str) -> Result<bool> {
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(true);
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Error::input(format!("could not read the answer: {e}")))?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes" | "YES"))
}

/// "today", "yesterday", or "on Fri 20 Nov" (with the year when it differs).
pub fn describe_day(today: NaiveDate, day: NaiveDate) -> String {
    use chrono::Datelike;
    if day == today {
        "today".to_string()
    } else if Some(day) == today.pred_opt() {
        "yesterday".to_string()
    } else if day.year() == today.year() {
        format!("on {}", day.format("%a %-d %b"))
    } else {
        format!("on {}", day.format("%a %-d %b %Y"))
    }
}

/// 135 -> "2h15m", 45 -> "45m", 1500 -> "1d1h".
pub fn describe_minutes(minutes: u32) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    let mut text = String::new();
    if d > 0 {
        text.push_str(&format!("{d}d"));
    }
    if h > 0 {
        text.push_str(&format!("{h}h"));
    }
    if m > 0 || text.is_empty() {
        text.push_str(&format!("{m}m"));
    }
    text
}
