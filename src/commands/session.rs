//! What a command that changes the journal holds while it works: the lock
//! on the data directory, the open journal (made on first use), my
//! settings, and the journal as it reads now. Everything one command writes
//! is one operation (one operation id), so `safe undo` takes it back whole.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate};

use super::Context;
use crate::domain::carry::Carried;
use crate::domain::entry::{EntryId, Kind};
use crate::domain::record::{EntryRecord, Hex32, NoteRecord, Record, Rev};
use crate::error::{Error, Result};
use crate::journal::view::View;
use crate::journal::{Journal, Report, migrate};
use crate::keys::line::{LogKind, NoteSidecar};
use crate::store::Lock;
use crate::store::config::Config;

/// One record to write, and which log it goes to.
#[derive(Debug, Clone)]
pub enum Staged {
    /// To my shared log, with the sidecar of a shared note.
    Shared(Record, Option<String>),
    /// To my private log, which never leaves this device.
    Private(Record),
}

/// How many written records the view takes one by one; past that it reads
/// the journal again, which costs one pass for them all.
const TAKE_AT_MOST: usize = 64;

pub struct Session {
    pub lock: Lock,
    pub journal: Journal,
    pub config: Config,
    pub view: View,
    op: Option<String>,
}

impl Session {
    /// My person id.
    pub fn me(&self) -> &str {
        &self.view.me
    }

    /// Write `records` as (part of) this command's operation: the private
    /// ones first, so a crash between the two batches leaves a note no
    /// entry shows, never an entry that lost its note. The view reads the
    /// journal again afterwards. A failure to update the index once the
    /// lines are saved is a warning, not an error.
    pub fn write(&mut self, ctx: &mut Context<'_>, records: Vec<Staged>) -> Result<()> {
        let wall_ms = ctx.wall_ms();
        let op = match &self.op {
            Some(op) => op.clone(),
            None => {
                let op = Journal::new_op(wall_ms)?;
                self.op = Some(op.clone());
                op
            }
        };
        let (private, shared): (Vec<Staged>, Vec<Staged>) = records
            .into_iter()
            .partition(|s| matches!(s, Staged::Private(_)));
        let private: Vec<(Record, Option<String>)> = private
            .into_iter()
            .filter_map(|s| match s {
                Staged::Private(r) => Some((r, None)),
                Staged::Shared(..) => None,
            })
            .collect();
        let shared: Vec<(Record, Option<String>)> = shared
            .into_iter()
            .filter_map(|s| match s {
                Staged::Shared(r, sidecar) => Some((r, sidecar)),
                Staged::Private(_) => None,
            })
            .collect();
        let mut warnings = Vec::new();
        let mut taken = Vec::new();
        for (records, kind) in [(private, LogKind::Private), (shared, LogKind::Shared)] {
            if records.is_empty() {
                continue;
            }
            let written = self
                .journal
                .write(&op, &records, kind, wall_ms, &self.lock)?;
            warnings.extend(written.index_warning);
            let notes = records
                .iter()
                .map(|(record, sidecar)| match (record, sidecar) {
                    (Record::Entry(e), Some(sidecar)) => {
                        e.h.as_ref().and_then(|h| NoteSidecar::open(sidecar, &h.0))
                    }
                    _ => None,
                });
            taken.extend(written.records.into_iter().zip(notes));
        }
        for warning in &warnings {
            super::warn_after_save(ctx, "the index was not updated", warning);
        }
        // A light view holds no entries, and a light view's days are not
        // read again after a write: entries leave it as it is. Anything
        // else (a name, a goal, a practice) is read again from the index.
        if self.view.is_light() {
            if taken
                .iter()
                .all(|(r, _)| matches!(r, Record::Entry(_) | Record::Remove(_) | Record::Note(_)))
            {
                return Ok(());
            }
            return self.reread();
        }
        // My newest lines win over what the view holds of mine: it takes
        // them as they are, rather than reading the journal again. Each
        // costs a pass over the view, so a large batch (an import) reads
        // the journal once instead.
        if taken.len() > TAKE_AT_MOST {
            return self.reread();
        }
        for (record, note) in &taken {
            self.view.take_mine(record, note.as_deref());
        }
        Ok(())
    }

    /// Trade the view for a light one, which holds no entries (an import,
    /// once it knows which of its entries are there already). A view that
    /// shows a partner's schema-1 snapshot stays whole, as it was made.
    pub fn lighten(&mut self, ctx: &Context<'_>) -> Result<()> {
        if self.view.is_light() || migrate::Snapshot::path(ctx.dir.root()).exists() {
            return Ok(());
        }
        let me = self.view.me.clone();
        self.view = self
            .journal
            .read_or_rebuild(ctx.wall_ms(), &self.lock, |journal| {
                read(journal, &me, true, Days::None)
            })?;
        Ok(())
    }

    /// Read the journal again into the view.
    pub fn reread(&mut self) -> Result<()> {
        // A sync may have brought this device's own pairing line.
        let me = self.journal.me().unwrap_or_default().to_string();
        self.config.id = me.clone();
        self.view = read(&self.journal, &me, self.view.is_light(), Days::None)?;
        Ok(())
    }

    /// My days of `practice` in the year of `day`: enough to tell whether
    /// it was logged that day. A light session reads only those from the
    /// index.
    pub fn my_practice_days_in(
        &self,
        practice: &str,
        day: NaiveDate,
    ) -> Result<crate::domain::summary::DayIndex> {
        match self.view.is_light() {
            true => self.journal.practice_days_between(
                &self.config.id,
                practice,
                day.year(),
                Some(day.year()),
            ),
            false => Ok(self.view.day_index().into_owned()),
        }
    }

    /// What the streak line of my `practice` needs as of `today`: a light
    /// session reads its days (and pauses) from the year of this week's
    /// start or yesterday on, and where its streak stood at the end of the
    /// year before (`domain::carry`); a whole one has every day.
    pub fn my_streak_days(
        &self,
        practice: &crate::domain::practice::Practice,
        today: NaiveDate,
    ) -> Result<(
        crate::domain::summary::DayIndex,
        Option<(NaiveDate, crate::domain::carry::PracticeCarry)>,
    )> {
        if !self.view.is_light() {
            return Ok((self.view.day_index().into_owned(), None));
        }
        let (me, week_start) = (&self.config.id, self.config.week_start);
        let from = week_start
            .week_of(today)
            .min(today.pred_opt().unwrap_or(today));
        let days = self
            .journal
            .practice_days_between(me, &practice.id, from.year(), None)?;
        let carry = self.journal.practice_carry(
            me,
            &practice.id,
            practice.goal,
            week_start,
            from.year() - 1,
        )?;
        Ok((days, carry))
    }

    /// The one live entry `prefix` names, preferring mine (see
    /// [`View::find_mine`]). A light session looks the handle up in the
    /// index; anything but one plain match (an id, several, none) reads
    /// the whole journal, which then stays read.
    pub fn find_mine(&mut self, prefix: &str) -> Result<crate::journal::view::Item> {
        let me = self.config.id.clone();
        if self.view.is_light() {
            if let Some(start) = crate::journal::view::id_start(prefix)
                && let Some(item) = self.journal.only_entry_by_handle(&start, &me)?
            {
                return Ok(item);
            }
            self.view = View::new(self.journal.state()?, &me);
        }
        self.view.find_mine(prefix, &me).cloned()
    }

    /// The handle of entry `id`, unique among the journal's live entries.
    pub fn short_id(&self, id: &EntryId) -> Result<String> {
        match self.view.is_light() {
            true => self.journal.handle(id),
            false => Ok(self.view.short_id(id)),
        }
    }

    /// "your", or "Sam's": whose data something is, for a message.
    pub fn whose(&self, person: &str) -> String {
        if person == self.me() {
            "your".to_string()
        } else {
            format!("{}'s", super::name_of(&self.view.people, person))
        }
    }

    /// What the last refresh found wrong with the logs.
    pub fn report(&self) -> &Report {
        self.journal.report()
    }
}

impl Context<'_> {
    /// Lock the data directory and open the journal, making it on the first
    /// run (named after the login user) so `safe log` needs no set-up.
    pub fn session(&self) -> Result<Session> {
        let (session, ()) = self.session_checked(|_, _| Ok(()))?;
        Ok(session)
    }

    /// [`session`](Self::session) with a light view ([`View::light`]).
    pub fn light_session(&self) -> Result<Session> {
        let (session, ()) = self.open_session(true, Days::None, |_, _| Ok(()))?;
        Ok(session)
    }

    /// Like [`session`](Self::session), but run `check` under the lock
    /// first, with the journal as it reads (empty on a new machine): input
    /// that fails the check leaves nothing behind, not even a new journal.
    pub fn session_checked<T>(
        &self,
        check: impl FnOnce(&View, &Config) -> Result<T>,
    ) -> Result<(Session, T)> {
        self.open_session(false, Days::None, check)
    }

    /// Like [`session_checked`](Self::session_checked), with a light view
    /// ([`View::light`]): days, names and practices, without the entries,
    /// for a command that needs no more (`safe log`). A journal that still
    /// shows a partner's schema-1 snapshot gets the whole view.
    pub fn light_session_checked<T>(
        &self,
        check: impl FnOnce(&View, &Config) -> Result<T>,
    ) -> Result<(Session, T)> {
        self.open_session(true, Days::None, check)
    }

    /// `light`: without the entries; `days`: which days a light view
    /// holds (for reading commands).
    fn open_session<T>(
        &self,
        light: bool,
        days: Days,
        check: impl FnOnce(&View, &Config) -> Result<T>,
    ) -> Result<(Session, T)> {
        let lock = self.dir.lock()?;
        let root = self.dir.root();
        let wall_ms = self.wall_ms();
        if migrate::is_schema1(root) {
            let moved = migrate::migrate(root, wall_ms, &lock)?;
            eprintln!(
                "safe: moved your journal to the new format ({} of your entries signed into your own log{}); \
                 the old files are kept in {}",
                moved.entries,
                match moved.partner_entries {
                    0 => String::new(),
                    n => format!(", {n} of your partner's kept as they were until they update"),
                },
                root.join(migrate::BACKUP).display()
            );
        }
        let mut config = self.settings()?;
        let journal = if crate::journal::Identity::path(root).exists() {
            Journal::open(root, wall_ms, &lock)?
        } else {
            let name = super::login_name();
            config.name = name.clone();
            let checked = check(&View::default(), &config)?;
            let journal = Journal::create(root, &name, wall_ms, &lock)?;
            eprintln!(
                "safe: started your journal in {} as {}; `safe init --name NAME` changes the name your partner sees",
                root.display(),
                name
            );
            let session = self.finish_session(lock, journal, config, light, days)?;
            return Ok((session, checked));
        };
        let session = self.finish_session(lock, journal, config, light, days)?;
        let checked = check(&session.view, &session.config)?;
        Ok((session, checked))
    }

    fn finish_session(
        &self,
        lock: Lock,
        mut journal: Journal,
        mut config: Config,
        light: bool,
        days: Days,
    ) -> Result<Session> {
        let root = self.dir.root();
        let me = journal.me().unwrap_or_default().to_string();
        let snapshot = migrate::Snapshot::path(root).exists();
        let light = light && !snapshot;
        let mut view = journal.read_or_rebuild(self.wall_ms(), &lock, |journal| {
            read(journal, &me, light, days)
        })?;
        if snapshot {
            // My partner's own migrated batch replaces what I kept of theirs.
            for person in migrate::replaced_people(&view.state, &me) {
                migrate::Snapshot::drop_person(root, &person, &lock)?;
            }
            if let Some(snapshot) = migrate::Snapshot::load(root)? {
                view.add_snapshot(&snapshot);
            }
        }
        config.id = me.clone();
        if let Some(name) = view.state.names.get(&me) {
            config.name = name.clone();
        }
        Ok(Session {
            lock,
            journal,
            config,
            view,
            op: None,
        })
    }

    /// The journal as it reads, for commands that only read: an empty one
    /// if this data directory holds none yet (nothing is made).
    pub fn view(&self) -> Result<(View, Config)> {
        self.read_view(false, Days::None)
    }

    /// [`view`](Self::view), light ([`View::light`]): for commands that
    /// read only days, names and practices.
    pub fn light_view(&self) -> Result<(View, Config)> {
        self.read_view(true, Days::Everyone)
    }

    /// [`light_view`](Self::light_view) whose days are only mine from
    /// `since` on (from the start of its year), with all my pauses: for
    /// `today`, which looks at this week alone.
    pub fn light_view_since(&self, since: NaiveDate) -> Result<(View, Config)> {
        self.read_view(true, Days::MineSince(since))
    }

    /// The light view of `stats`: everyone's days from the year of the
    /// day `earliest` gives (from my settings) on, and the carries of my
    /// practices and our days together to the end of the year before it
    /// (`domain::carry`); every day, and no carries, when `earliest` gives
    /// `None` (`--all`) or the view is whole (a partner's schema-1
    /// snapshot).
    pub fn stats_view(
        &self,
        earliest: impl FnOnce(&Config) -> Result<Option<NaiveDate>>,
    ) -> Result<(View, Config, Option<Carried>)> {
        let Some(session) = self.open_reading(true, Days::None)? else {
            let (view, config) = self.read_view(true, Days::None)?;
            earliest(&config)?;
            return Ok((view, config, None));
        };
        let Session {
            lock,
            mut journal,
            config,
            mut view,
            ..
        } = session;
        let year = earliest(&config)?.map(|day| day.year());
        if !view.is_light() {
            return Ok((view, config, None));
        }
        let catalogue = view.practices.catalogue(&config.id);
        let goal = |id: &str| {
            catalogue
                .iter()
                .find(|p| p.id == id)
                .map_or(crate::domain::goal::Goal::None, |p| p.goal)
        };
        let read = |journal: &Journal| -> Result<_> {
            Ok(match year {
                Some(year) => (
                    journal.days_since(year)?,
                    journal.carried(&config.id, &goal, config.week_start, year - 1)?,
                ),
                None => (journal.day_index()?, None),
            })
        };
        let (days, carried) = journal.read_or_rebuild(self.wall_ms(), &lock, read)?;
        view.days = Some(days);
        Ok((view, config, carried))
    }

    /// The open session of a reading command that asks the index for
    /// entries itself (`history`): a light view, without days, unless a
    /// partner's schema-1 snapshot makes it whole. `None` when this data
    /// directory holds no journal yet (nothing is made).
    pub fn reading_session(&self) -> Result<Option<Session>> {
        self.open_reading(true, Days::None)
    }

    fn read_view(&self, light: bool, days: Days) -> Result<(View, Config)> {
        match self.open_reading(light, days)? {
            Some(session) => Ok((session.view, session.config)),
            None => {
                let mut config = self.settings()?;
                config.name = super::login_name();
                Ok((View::default(), config))
            }
        }
    }

    fn open_reading(&self, light: bool, days: Days) -> Result<Option<Session>> {
        let root = self.dir.root();
        if !crate::journal::Identity::path(root).exists() && !migrate::is_schema1(root) {
            return Ok(None);
        }
        let days = if light { days } else { Days::None };
        let (mut session, ()) = self.open_session(light, days, |_, _| Ok(()))?;
        if let Some(fault) = session.journal.take_index_fault() {
            use crate::render::sanitize::sanitize_line;
            eprintln!(
                "safe: warning: the index could not be updated: {}",
                sanitize_line(fault.message())
            );
            if let Some(hint) = fault.hint() {
                eprintln!("hint: {}", sanitize_line(hint));
            }
        }
        // A damaged log is read up to the damage: say so, every time, so
        // an answer that lacks something never looks whole.
        for q in &session.report().quarantined {
            let whose = session.whose(&q.person);
            eprintln!(
                "safe: warning: {whose} log is read only up to {}{}: {}",
                q.path.display(),
                q.line.map(|l| format!(" line {l}")).unwrap_or_default(),
                crate::render::sanitize::sanitize_line(&q.why)
            );
        }
        Ok(Some(session))
    }

    /// My settings from `config.json`, or the defaults.
    pub fn settings(&self) -> Result<Config> {
        Ok(self
            .dir
            .read_config()?
            .unwrap_or_else(|| Config::new(String::new(), String::new())))
    }
}

/// Which days a light view holds.
#[derive(Debug, Clone, Copy)]
enum Days {
    None,
    Everyone,
    /// Mine from this day on (whole years), and all my pauses.
    MineSince(NaiveDate),
}

/// The journal as `me` reads it from the index: whole, or light (with
/// the `days` asked for).
fn read(journal: &Journal, me: &str, light: bool, days: Days) -> Result<View> {
    Ok(match light {
        true => {
            let days = match days {
                Days::None => None,
                Days::Everyone => Some(journal.day_index()?),
                Days::MineSince(since) => Some(journal.recent_days_of(me, since.year())?),
            };
            View::light(journal.registers()?, me, days)
        }
        false => View::new(journal.state()?, me),
    })
}

/// A new entry of mine, made now: a fresh id, the given day and moment.
pub fn new_entry(
    kind: Kind,
    practice: &str,
    day: NaiveDate,
    at: DateTime<FixedOffset>,
) -> EntryRecord {
    EntryRecord {
        id: EntryId::now_v7(),
        kind,
        practice: practice.to_string(),
        day,
        until: None,
        at,
        took: None,
        h: None,
        card: None,
        private: false,
        rev: Rev::default(),
    }
}

/// How a note travels with an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotePlace {
    /// In the shared log's sidecar: my partner reads it.
    Shared,
    /// In my private log only.
    Kept,
}

/// The records for one version of my entry with its note. A private entry
/// goes, note and all, to the private log; a shared entry goes to the
/// shared log, with its note in the sidecar when shared, or as a `note`
/// record in the private log when kept. `had_kept_note` says whether an
/// earlier version had a kept note that must now be cleared.
pub fn stage_entry(
    mut record: EntryRecord,
    note: Option<&str>,
    place: NotePlace,
    had_kept_note: bool,
) -> Result<Vec<Staged>> {
    let mut staged = Vec::new();
    let id = record.id;
    let note_record = |note: Option<&str>| {
        Record::Note(NoteRecord {
            id,
            note: note.map(str::to_string),
            rev: Rev::default(),
        })
    };
    record.h = None;
    if record.private {
        if note.is_some() || had_kept_note {
            staged.push(Staged::Private(note_record(note)));
        }
        staged.push(Staged::Private(Record::Entry(record)));
        return Ok(staged);
    }
    match (note, place) {
        (Some(text), NotePlace::Shared) => {
            let (h, sidecar) = NoteSidecar::seal(text).map_err(|e| {
                Error::runtime(format!("could not get random bytes for the note: {e}"))
            })?;
            record.h = Some(Hex32(h));
            if had_kept_note {
                staged.push(Staged::Private(note_record(None)));
            }
            staged.push(Staged::Shared(Record::Entry(record), Some(sidecar)));
        }
        (Some(text), NotePlace::Kept) => {
            staged.push(Staged::Private(note_record(Some(text))));
            staged.push(Staged::Shared(Record::Entry(record), None));
        }
        (None, _) => {
            if had_kept_note {
                staged.push(Staged::Private(note_record(None)));
            }
            staged.push(Staged::Shared(Record::Entry(record), None));
        }
    }
    Ok(staged)
}
