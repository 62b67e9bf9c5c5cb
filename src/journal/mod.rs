//! The schema-2 journal: the one service commands will talk to (STYLE.md).
//! It knows which devices are in the journal and whose each is
//! ([`roster`]), reads their verified logs, keeps the index up to date with
//! them, and writes this device's batches (DESIGN.md §3; docs/protocol.md
//! "Roster" and "Journal service").
//!
//! A data directory holds `keys/device.ed25519`, `journal.json`
//! ([`Identity`]), its logs under `shared/log` and `private/log`, and the
//! derived index under `index/`. Nothing here reads the clock: every call
//! that needs "now" takes the wall clock in milliseconds.

pub mod identity;
mod indexed;
mod lines_at;
pub mod migrate;
pub mod pair;
mod reading;
pub mod removal;
pub mod report;
pub mod roster;
pub mod seen;
mod strip;
pub mod view;

use std::path::{Path, PathBuf};

use crate::domain::fold::{self, PersonId, clock_after};
use crate::domain::limits::check_name;
use crate::domain::record::{Clock, DeviceRecord, Hex32, NameRecord, Record, Rev, Role};
use crate::error::{Error, Result};
use crate::keys::line::{self, LogKind};
use crate::keys::{DeviceId, DeviceKey};
use crate::store::index::{Index, SegmentMark};
use crate::store::{Lock, file, segment};

pub use identity::Identity;
pub use report::{Quarantined, Report, Stranger};
pub use roster::{Anchor, Member, Roster};

use indexed::Indexed;
use reading::{Reading, log_key, log_root};

/// A schema-2 journal, open in one data directory.
pub struct Journal {
    root: PathBuf,
    key: DeviceKey,
    identity: Identity,
    anchor: Anchor,
    /// `None` only while the index is being made again.
    index: Option<Index>,
    /// What the index was last brought up to date with.
    indexed: Indexed,
    roster: Roster,
    report: Report,
    /// The index was made again from every log since the last
    /// [`Journal::take_changed`]: it counted every entry as changed.
    rebuilt: bool,
    /// The logs are as the last refresh (and this journal's own writes
    /// since) left them. The data directory's lock keeps other processes
    /// out; in this one, whatever changes the logs behind the journal's
    /// back (sync taking a remote's copies) says so with
    /// [`Journal::logs_changed`] or refreshes. A write refreshes first
    /// only when they are not current.
    current: bool,
    /// Why `index/` could not be written, when it could not: the index is
    /// then kept in memory, fed from the logs (the truth), for this command.
    index_fault: Option<Error>,
    /// The fault was handed out (see [`Journal::take_index_fault`]).
    index_fault_told: bool,
}

/// One verified line of a person's log, owned (see [`Journal::lines_of`]).
#[derive(Debug, Clone)]
pub struct OwnLine {
    pub device: String,
    pub seq: u64,
    pub op: String,
    pub rec: Record,
    /// The shared note its sidecar carries, checked against `h`.
    pub note: Option<String>,
    /// From the private log.
    pub private: bool,
}

/// What [`Journal::write`] wrote.
#[derive(Debug)]
pub struct Written {
    /// The seq of the batch's first line.
    pub first_seq: u64,
    /// The records as written, each with the rev it was given.
    pub records: Vec<Record>,
    /// The batch is saved, but the index could not take it: a warning to
    /// show after the confirmation, never an error (the next refresh
    /// catches the index up, or makes it again).
    pub index_warning: Option<Error>,
}

impl Journal {
    /// Make a new journal in the data directory at `root`, with this
    /// device as its root: its key, `journal.json`, and a first batch in
    /// its shared log that names the device and the person (`name`).
    pub fn create(root: &Path, name: &str, wall_ms: u64, lock: &Lock) -> Result<Journal> {
        let name = check_name(name).map_err(Error::input)?.to_string();
        if Identity::path(root).exists() {
            return Err(Error::input(format!(
                "{} already holds a journal",
                root.display()
            )));
        }
        let key = DeviceKey::load_or_create(root, lock)?;
        let identity = Identity {
            journal: uuid_v7(wall_ms)?,
            root: key.id(),
            root_key: key.public(),
            device: key.id(),
        };
        // journal.json first: a crash before the first batch leaves a
        // journal that opens (its root needs no line to be trusted).
        identity.write(root, lock)?;
        let mut journal = Journal::open(root, wall_ms, lock)?;
        let me = Record::Device(DeviceRecord {
            device: identity.device.to_string(),
            key: Hex32(identity.root_key.to_bytes()),
            role: Role::Mine,
            journal: identity.journal.clone(),
        });
        let name = Record::Name(NameRecord {
            name,
            rev: Rev::default(),
        });
        let op = Self::new_op(wall_ms)?;
        journal.write(
            &op,
            &[(me, None), (name, None)],
            LogKind::Shared,
            wall_ms,
            lock,
        )?;
        Ok(journal)
    }

    /// Open the journal in the data directory at `root` and bring its
    /// index up to date with the logs.
    pub fn open(root: &Path, wall_ms: u64, lock: &Lock) -> Result<Journal> {
        let identity = Identity::read(root)?.ok_or_else(|| {
            Error::runtime(format!("{} holds no schema-2 journal", root.display()))
        })?;
        let key_path = DeviceKey::path(root);
        if !key_path.exists() {
            return Err(Error::runtime(format!(
                "{} is missing: this data directory has lost its device key",
                key_path.display()
            ))
            .with_hint(
                "restore the key from a backup, or pair this computer again as a new device",
            ));
        }
        let key = DeviceKey::load_or_create(root, lock)?;
        if key.id() != identity.device {
            return Err(Error::runtime(format!(
                "{} is the key of device {}, but journal.json names device {}",
                key_path.display(),
                key.id(),
                identity.device
            ))
            .with_hint("safe left both files as they are; restore them together from a backup"));
        }
        let anchor = Anchor {
            journal: identity.journal.clone(),
            root: identity.root.clone(),
            root_key: identity.root_key,
            viewer: identity.device.clone(),
        };
        let roster = roster::decide(&anchor, &roster::TrustLogs::new(), |_, _| None);
        let (index, index_fault) = match open_index(root) {
            Ok(index) => (index, None),
            Err(fault) => (memory_index()?, Some(fault)),
        };
        let mut journal = Journal {
            index: Some(index),
            root: root.to_path_buf(),
            key,
            identity,
            anchor,
            indexed: Indexed::default(),
            roster,
            report: Report::default(),
            rebuilt: false,
            current: false,
            index_fault,
            index_fault_told: false,
        };
        if let Err(failed) = journal.refresh(wall_ms, lock) {
            // The index is derived: one that fails (torn, damaged) is made
            // again from the logs, once; one that cannot be written is kept
            // in memory instead; a failure of the logs fails again.
            let again = journal
                .reset_index()
                .and_then(|()| journal.refresh(wall_ms, lock).map(drop));
            if let Err(fault) = again {
                if journal.index_fault.is_some() {
                    return Err(failed);
                }
                journal.index_fault = Some(fault);
                journal.reset_index()?;
                journal.refresh(wall_ms, lock).map_err(|_| failed)?;
            }
        }
        Ok(journal)
    }

    /// Why the index in `index/` could not be written, the first time it
    /// is asked (so a command warns once): the journal then reads from an
    /// index in memory, fed from the logs, and no answer changes.
    pub fn take_index_fault(&mut self) -> Option<Error> {
        if self.index_fault_told {
            return None;
        }
        let fault = self.index_fault.as_ref()?;
        self.index_fault_told = true;
        Some(
            Error::runtime(format!(
                "{} (this command read the journal from the logs instead)",
                fault.message()
            ))
            .with_hint(
                "the index is derived: make the index folder writable, or delete it, \
                 and safe makes it again from the logs",
            ),
        )
    }

    /// A new operation id: a UUIDv7 of `wall_ms`.
    pub fn new_op(wall_ms: u64) -> Result<String> {
        uuid_v7(wall_ms)
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// Who is in the journal, as of the last refresh.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// What the last refresh found to report.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The person this device belongs to, once it is in the roster.
    pub fn me(&self) -> Option<&str> {
        self.roster.person(&self.identity.device)
    }

    /// The journal, as the index holds it.
    pub fn state(&self) -> Result<fold::Journal> {
        self.index()?.journal()
    }

    /// Make the index again from every log: for a reader whose query
    /// failed on a damaged index (it is derived, so nothing is lost).
    pub fn rebuild_index(&mut self, wall_ms: u64, lock: &Lock) -> Result<()> {
        self.reset_index()?;
        self.refresh(wall_ms, lock).map(drop)
    }

    /// `read` of this journal. A damaged index may fail only when read:
    /// then it is made again from the logs, once, and read again; the
    /// answer is the same.
    pub fn read_or_rebuild<T>(
        &mut self,
        wall_ms: u64,
        lock: &Lock,
        read: impl Fn(&Journal) -> Result<T>,
    ) -> Result<T> {
        match read(self) {
            Ok(value) => Ok(value),
            Err(_) => {
                self.rebuild_index(wall_ms, lock)?;
                read(self)
            }
        }
    }

    /// The entries (owner, id) whose winner changed since the last call,
    /// each with whether it is live now; `None` when the index was made
    /// again meanwhile (then every entry looked changed).
    pub fn take_changed(
        &mut self,
    ) -> Result<Option<std::collections::BTreeMap<(String, String), bool>>> {
        let rebuilt = std::mem::take(&mut self.rebuilt);
        let changed = self.index.as_mut().ok_or_else(index_closed)?.take_changed();
        Ok((!rebuilt).then_some(changed))
    }

    /// The days of `person`'s live entries from `since_year` on, and all
    /// their pauses, from the index.
    pub fn recent_days_of(
        &self,
        person: &str,
        since_year: i32,
    ) -> Result<crate::domain::summary::DayIndex> {
        self.index()?.recent_days_of(person, since_year)
    }

    /// The days of every live entry, by person, from the index.
    pub fn day_index(&self) -> Result<crate::domain::summary::DayIndex> {
        self.index()?.day_index()
    }

    /// What the streak of `person`'s `practice` needs from `since_year` on
    /// (to `until_year`, if given), from the index.
    pub fn practice_days_between(
        &self,
        person: &str,
        practice: &str,
        since_year: i32,
        until_year: Option<i32>,
    ) -> Result<crate::domain::summary::DayIndex> {
        self.index()?
            .practice_days_between(person, practice, since_year, until_year)
    }

    /// Where `me`'s `practice` stood at the end of `year`, from the index.
    pub fn practice_carry(
        &self,
        me: &str,
        practice: &str,
        goal: crate::domain::goal::Goal,
        week_start: crate::domain::goal::WeekStart,
        year: i32,
    ) -> Result<Option<(chrono::NaiveDate, crate::domain::carry::PracticeCarry)>> {
        self.index()?
            .practice_carry(me, practice, goal, week_start, year)
    }

    /// The days of everyone's live entries from `since_year` on, and all
    /// pauses, from the index.
    pub fn days_since(&self, since_year: i32) -> Result<crate::domain::summary::DayIndex> {
        self.index()?.days_since(since_year)
    }

    /// Where `me`'s practices and our days together stood at the end of
    /// `year`, from the index (see `store::index::carries`).
    pub fn carried(
        &self,
        me: &str,
        goal: &dyn Fn(&str) -> crate::domain::goal::Goal,
        week_start: crate::domain::goal::WeekStart,
        year: i32,
    ) -> Result<Option<crate::domain::carry::Carried>> {
        self.index()?.carried(me, goal, week_start, year)
    }

    /// The handle of entry `id`, unique among the live entries.
    pub fn handle(&self, id: &crate::domain::entry::EntryId) -> Result<String> {
        self.index()?.handle(id)
    }

    /// The one live entry whose handle starts with `start` (lowercase hex),
    /// as `me` sees it; `None` when none or several do.
    pub fn only_entry_by_handle(&self, start: &str, me: &str) -> Result<Option<view::Item>> {
        let index = self.index()?;
        let found = index.entries_by_tail(start, 2)?;
        let [(owner, id)] = found.as_slice() else {
            return Ok(None);
        };
        Ok(index
            .live_entry(owner, id)?
            .map(|(record, shared, unshared)| {
                view::item_of(&record, owner, me, shared.as_ref(), unshared.as_ref())
            }))
    }

    /// A read of the index that sees one state of it throughout, for
    /// listing the entries of a period in order (`history`).
    pub fn snapshot(&self) -> Result<crate::store::index::entries::Snapshot<'_>> {
        self.index()?.snapshot()
    }

    /// Names, goals and custom practices, without the entries.
    pub fn registers(&self) -> Result<fold::Journal> {
        self.index()?.registers()
    }

    /// Bring the index up to date with the logs: work out the roster, read
    /// the logs that changed since the index last saw them, and feed it
    /// only the lines it has not seen. A segment replaced since, a log that
    /// lost lines, or a device that changed person or was cut makes the
    /// index again from every log.
    pub fn refresh(&mut self, wall_ms: u64, lock: &Lock) -> Result<&Report> {
        self.current = false;
        // An index in memory has no `indexed.json`: what it was fed is in
        // `self.indexed`, once it was fed at all.
        let before = match self.index_fault {
            None => Indexed::load(&self.root, self.index()?)?,
            Some(_) => Some(self.indexed.clone()).filter(|i| !i.logs.is_empty()),
        };
        let notes = before.as_ref().map(|b| &b.logs);
        let mut reading = Reading::new(&self.root, &self.anchor, &self.identity.device, notes);
        let roster = reading.settle()?;
        let seats = indexed::seats(&roster);
        let used = reading.used(&roster);
        let seats_hold = before.as_ref().is_some_and(|b| b.seats_hold(&seats));
        let unseen = match seats_hold {
            true => reading.unseen(&used, Some(self.index()?))?,
            false => None,
        };
        let (unseen, fresh_index) = match unseen {
            Some(unseen) => (unseen, false),
            None => {
                match self.index_fault {
                    None => reset_index(&self.root, &mut self.index)?,
                    Some(_) => self.index = Some(memory_index()?),
                }
                reading.read_all(&used)?;
                let all = reading.unseen(&used, None)?;
                (all.expect("a new index has seen no segment"), true)
            }
        };
        self.rebuilt |= fresh_index;
        let mut indexed = Indexed {
            seats,
            logs: reading.notes(&used),
        };
        let mut marks = unseen.marks.clone();
        let mut lines = reading.lines(&used, Some(&unseen));
        self.index()?.expect_lines(lines.len())?;
        let now = my_clock(&roster, &indexed, &self.identity.device).now_ms(wall_ms);
        // Notes these lines supersede leave the logs before the index
        // takes the lines (docs/protocol.md "Stripping superseded notes").
        let feed = strip::Feed {
            lines: &mut lines,
            marks: &mut marks,
            now_ms: now,
            fresh: fresh_index,
            me: roster.person(&self.identity.device),
        };
        let stripped = strip::before_feed(&self.root, self.index()?, &mut indexed, feed, lock)?;
        let on_disk = self.index_fault.is_none();
        if on_disk && (fresh_index || before.as_ref() != Some(&indexed)) {
            marks.push((indexed::FILE.to_string(), indexed.save(&self.root)?));
        }
        let index = self.index.as_mut().ok_or_else(index_closed)?;
        // Only my own operations can be undone here.
        index.keep_history_of(roster.person(&self.identity.device));
        index.apply(&lines, &marks, now)?;
        if stripped {
            self.index()?.forget_stripped_notes()?;
        }
        if fresh_index {
            let built = self.index.take().ok_or_else(index_closed)?;
            self.index = Some(built.into_place()?);
        }
        self.report = report(&self.root, &roster, &indexed, &self.identity.device)?;
        self.roster = roster;
        self.indexed = indexed;
        self.current = true;
        Ok(&self.report)
    }

    /// Something other than this journal changed the logs: the next write
    /// reads them again first.
    pub fn logs_changed(&mut self) {
        self.current = false;
    }

    /// Fold every line of every used log, without the index (nor its
    /// notes): what the index must always equal.
    pub fn fold_everything(&self, wall_ms: u64) -> Result<fold::Journal> {
        let mut reading = Reading::new(&self.root, &self.anchor, &self.identity.device, None);
        let roster = reading.settle()?;
        let used = reading.used(&roster);
        reading.read_all(&used)?;
        let lines = reading.lines(&used, None);
        let me = roster.person(&self.identity.device).unwrap_or_default();
        let clock = clock_after(me, &lines);
        Ok(fold::fold(&lines, clock.now_ms(wall_ms)))
    }

    /// Every used line of `person`'s logs (the shared logs of their
    /// devices, and this device's private log when it is theirs), read
    /// afresh and verified: what `undo` and `redo` need to know the
    /// versions an operation replaced. Lines whose record does not read
    /// are left out.
    pub fn lines_of(&self, person: &str) -> Result<Vec<OwnLine>> {
        let mut reading = Reading::new(&self.root, &self.anchor, &self.identity.device, None);
        let roster = reading.settle()?;
        let used: Vec<_> = reading
            .used(&roster)
            .into_iter()
            .filter(|u| u.person == person)
            .collect();
        reading.read_all(&used)?;
        // My own shared notes that were cut stay in my stash, for undo.
        let stash = match roster.person(&self.identity.device) == Some(person) {
            true => strip::stashed(&self.root)?,
            false => Default::default(),
        };
        let mut out = Vec::new();
        for u in &used {
            for line in reading.lines(std::slice::from_ref(u), None) {
                let Ok(rec) = line.rec else { continue };
                let note = line.note.or_else(|| match &rec {
                    Record::Entry(e) => e.h.as_ref().and_then(|h| {
                        let sidecar = stash.get(&(line.device.to_string(), line.seq))?;
                        line::NoteSidecar::open(sidecar, &h.0)
                    }),
                    _ => None,
                });
                out.push(OwnLine {
                    device: line.device.to_string(),
                    seq: line.seq,
                    op: line.op.to_string(),
                    rec,
                    note,
                    private: u.kind == LogKind::Private,
                });
            }
        }
        Ok(out)
    }

    /// Append one batch (one operation, `op`) to this device's log of
    /// `kind`: each record gets a new rev from my clock (the highest rev of
    /// my own person's lines, ticked with `wall_ms`), is checked against the
    /// limits, and is written with its sidecar; then the index takes the new
    /// lines. Nothing is written if any record is refused.
    pub fn write(
        &mut self,
        op: &str,
        records: &[(Record, Option<String>)],
        kind: LogKind,
        wall_ms: u64,
        lock: &Lock,
    ) -> Result<Written> {
        if !self.current {
            self.refresh(wall_ms, lock)?;
        }
        let person = self.writer()?;
        let name = log_key(kind, &self.identity.device);
        let damage = self.indexed.logs.get(&name).and_then(|n| n.damage.as_ref());
        // Damage in the last segment may be what a crash leaves (a torn
        // line, a batch cut before its signed end): the append cuts it
        // away, and refuses anything else it finds there. Damage further
        // back cannot be cut without losing what follows it.
        let last = segment::last_segment(&log_root(&self.root, kind), &self.identity.device)?
            .map(|s| s.path);
        let in_tail = |damage: &indexed::Damage| {
            let tail = last.as_deref().is_some_and(|last| {
                last.ends_with(&damage.path) || self.root.join(&damage.path) == last
            });
            // Only what a crash leaves: complete lines after the last
            // signed one. A line that does not verify is tampering or
            // decay, and is never cut.
            tail && damage.why.contains(line::UNSIGNED_END)
        };
        if let Some(damage) = damage.filter(|d| !in_tail(d)) {
            return Err(Error::runtime(format!(
                "this device's own log does not verify ({}), so nothing was written: \
                 no reader would trust a line after the damage",
                damage.why
            ))
            .with_hint("restore the data directory from a backup, or pair this computer again as a new device"));
        }
        let mut clock = my_clock(&self.roster, &self.indexed, &self.identity.device);
        let stamped = stamp(records, kind, &mut clock, wall_ms)?;
        let texts: Vec<String> = stamped.iter().map(Record::to_json).collect();
        let batch: Vec<line::Record> = texts
            .iter()
            .zip(records)
            .map(|(rec, (_, sidecar))| line::Record {
                rec,
                sidecar: sidecar.as_deref(),
            })
            .collect();
        let log_root = log_root(&self.root, kind);
        // Current again once the index has taken the batch.
        self.current = false;
        let (appended, flush) = segment::append_then_flush(
            &log_root,
            &self.key,
            &self.identity.journal,
            kind,
            op,
            &batch,
            lock,
        )?;
        // The roster may change (or the log was never noted): then the
        // index is brought up to date the long way.
        let fast = !stamped.iter().any(roster::TrustLine::concerns);
        let now_ms = clock.now_ms(wall_ms);
        // The index takes a batch of new entries while the batch's flush
        // runs, when the index's own commits are not flushed
        // (docs/protocol.md "A command says a batch is saved"): a crash of
        // the system that could lose the batch makes the index again
        // anyway. Anything else waits for the flush: feeding the index may
        // cut superseded notes from the logs, which must never happen for
        // a batch that is then taken back; and a flushed index must never
        // hold a line the log could lose.
        // (A failure to tell is taken as "may": the batch is flushed first.)
        let alongside = fast
            && self.index_unflushed()
            && !self.may_cut(&person, &stamped, now_ms).unwrap_or(true);
        let sidecars: Vec<Option<&str>> = records.iter().map(|(_, s)| s.as_deref()).collect();
        let own = OwnBatch {
            kind,
            person: &person,
            op,
            texts: &texts,
            sidecars: &sidecars,
            // Looked up already: nothing to cut.
            strip: !alongside,
        };
        let index = |journal: &mut Journal| match fast {
            true => journal.index_batch(&own, &name, &appended, now_ms, wall_ms, lock),
            false => journal.refresh(wall_ms, lock).map(drop),
        };
        let indexed = match alongside {
            true => {
                let (flushed, indexed) = std::thread::scope(|scope| {
                    let flushing = scope.spawn(|| flush.sync());
                    let indexed = index(self);
                    (flushing.join().expect("a flush does not panic"), indexed)
                });
                flushed.map(|()| indexed).inspect_err(|_| {
                    let _ = flush.take_back();
                    // The index took lines the log no longer has: without
                    // its notes it is made again by the next command.
                    let _ = std::fs::remove_file(self.root.join(indexed::FILE));
                })
            }
            false => flush.finish().map(|()| index(self)),
        };
        let indexed = match indexed {
            Ok(indexed) => indexed,
            Err(err) => {
                // Taken back: the index may hold lines the log no longer
                // has, and the next refresh sees that and makes it again.
                self.current = false;
                return Err(err);
            }
        };
        Ok(Written {
            first_seq: appended.first_seq,
            records: stamped,
            index_warning: indexed.err().or_else(|| self.take_index_fault()),
        })
    }

    /// Whether the index's commits are left unflushed (`store::boot`).
    fn index_unflushed(&self) -> bool {
        self.index_fault.is_none()
            && self
                .index
                .as_ref()
                .is_some_and(|i| i.commits() == crate::store::boot::Commits::Unflushed)
    }

    /// Whether feeding the index `stamped` (`person`'s) at `now_ms` might
    /// cut a superseded note from a log: when any of its entries is in the
    /// index already, when it names an entry twice, when lines waiting for
    /// the clock fall due, or when it is too big to look at line by line.
    fn may_cut(&self, person: &str, stamped: &[Record], now_ms: u64) -> Result<bool> {
        const LOOKED_AT_MOST: usize = 64;
        if stamped.len() > LOOKED_AT_MOST {
            return Ok(true);
        }
        let index = self.index()?;
        if !index.due_waiting(now_ms)?.is_empty() {
            return Ok(true);
        }
        let ids: Vec<(String, String)> = stamped
            .iter()
            .filter_map(|r| match r {
                Record::Entry(e) => Some(e.id),
                Record::Remove(r) => Some(r.id),
                _ => None,
            })
            .map(|id| (person.to_string(), id.to_string()))
            .collect();
        let keys: std::collections::BTreeSet<&(String, String)> = ids.iter().collect();
        if keys.len() < ids.len() {
            return Ok(true);
        }
        Ok(!index.entry_winners(keys)?.is_empty())
    }

    /// Feed the index a batch this device just appended: the fast way when
    /// its log (`name`) was noted whole, else the long way.
    fn index_batch(
        &mut self,
        own: &OwnBatch<'_>,
        name: &str,
        appended: &segment::Appended,
        now_ms: u64,
        wall_ms: u64,
        lock: &Lock,
    ) -> Result<()> {
        // Written: from here on a failure is the index's, not the write's.
        // A log that had damage in its tail was cut: it is read again.
        let noted = self
            .indexed
            .logs
            .get(name)
            .is_some_and(|n| n.damage.is_none());
        if noted {
            let indexed = self.index_own_batch(own, appended, now_ms, lock);
            self.current = indexed.is_ok();
            indexed
        } else {
            self.refresh(wall_ms, lock).map(drop)
        }
    }

    /// The person this device writes as; an error if it is not (or no
    /// longer) in the journal.
    fn writer(&self) -> Result<PersonId> {
        match self.roster.members.get(&self.identity.device) {
            Some(member) if member.until.is_none() => Ok(member.person.clone()),
            Some(_) => Err(Error::runtime(
                "this device was removed from the journal, so nothing was written",
            )
            .with_hint("pair this computer again as a new device (`safe invite --device`)")),
            // A device that joined writes only once the inviter's pairing
            // line has arrived (docs/protocol.md "Joining a journal").
            None => Err(Error::runtime(
                "this device is not in the journal yet, so nothing was written",
            )
            .with_hint(
                "if you ran `safe join`, run `safe sync` once the inviting device has synced, \
                 so that its pairing line arrives; otherwise pair this computer (`safe join`)",
            )),
        }
    }

    /// Feed the index the batch this device just appended, without reading
    /// its log again: the log was verified and indexed up to its end before
    /// the append, and this device is its only writer.
    fn index_own_batch(
        &mut self,
        own: &OwnBatch<'_>,
        appended: &segment::Appended,
        now_ms: u64,
        lock: &Lock,
    ) -> Result<()> {
        let OwnBatch {
            kind,
            person,
            op,
            texts,
            sidecars,
            strip: may_strip,
        } = *own;
        let device = self.identity.device.clone();
        let log_root = log_root(&self.root, kind);
        let mut marks = Vec::new();
        for path in &appended.written {
            let stat = segment::segment_stat(path.clone())?;
            let Some(last_hash) = stat.last_payload else {
                return Err(Error::runtime(format!(
                    "{} was just written but holds no complete line",
                    path.display()
                )));
            };
            let name = path.strip_prefix(&self.root).unwrap_or(path);
            marks.push((
                name.to_string_lossy().into_owned(),
                SegmentMark {
                    len: stat.len,
                    last_hash,
                },
            ));
        }
        let mut lines: Vec<fold::Line> = texts
            .iter()
            .enumerate()
            .map(|(i, rec)| {
                let seq = appended.first_seq + i as u64;
                fold::Line::read(person, device.as_str(), seq, op, rec).with_sidecar(sidecars[i])
            })
            .collect();
        let Some(note) = self.indexed.logs.get_mut(&log_key(kind, &device)) else {
            return Err(Error::runtime(
                "the index has no note of this device's own log",
            ));
        };
        note.digest = Hex32(indexed::fingerprint(&log_root, &device)?);
        note.held = appended.head.next_seq - 1;
        note.clock = lines
            .iter()
            .filter_map(|l| l.rec.as_ref().ok().and_then(Record::rev))
            .fold(note.clock, Rev::max);
        // What this batch supersedes leaves the logs first.
        let feed = strip::Feed {
            lines: &mut lines,
            marks: &mut marks,
            now_ms,
            fresh: false,
            me: Some(person),
        };
        let index = self.index.as_ref().ok_or_else(index_closed)?;
        index.expect_lines(feed.lines.len())?;
        let stripped =
            may_strip && strip::before_feed(&self.root, index, &mut self.indexed, feed, lock)?;
        if self.index_fault.is_none() {
            marks.push((indexed::FILE.to_string(), self.indexed.save(&self.root)?));
        }
        let index = self.index.as_mut().ok_or_else(index_closed)?;
        index.keep_history_of(Some(person));
        index.apply(&lines, &marks, now_ms)?;
        if stripped {
            index.forget_stripped_notes()?;
        }
        Ok(())
    }

    fn index(&self) -> Result<&Index> {
        self.index.as_ref().ok_or_else(index_closed)
    }

    /// Delete the index and make it again, empty, where it is kept (in
    /// `index/`, or in memory): it is fed every log next.
    fn reset_index(&mut self) -> Result<()> {
        match self.index_fault {
            None => reset_index(&self.root, &mut self.index),
            Some(_) => {
                self.index = Some(memory_index()?);
                Ok(())
            }
        }
    }
}

/// A batch this device just appended, as the index takes it.
#[derive(Clone, Copy)]
struct OwnBatch<'a> {
    kind: LogKind,
    person: &'a str,
    op: &'a str,
    texts: &'a [String],
    sidecars: &'a [Option<&'a str>],
    /// Whether feeding it may cut superseded notes (see `Journal::may_cut`):
    /// `false` only once that was looked up, and nothing can be cut.
    strip: bool,
}

/// Give each versioned record a new rev and check it against the limits.
fn stamp(
    records: &[(Record, Option<String>)],
    kind: LogKind,
    clock: &mut Clock,
    wall_ms: u64,
) -> Result<Vec<Record>> {
    records
        .iter()
        .enumerate()
        .map(|(i, (record, _))| {
            let mut record = record.clone();
            if let Some(rev) = rev_mut(&mut record) {
                *rev = clock.tick(wall_ms);
            }
            let refuse = |why: String| {
                Error::input(format!(
                    "record {} of the batch cannot be written, so nothing was: {why}",
                    i + 1
                ))
            };
            record.check().map_err(refuse)?;
            // A shared note keeps the same limit as any other.
            if let Some(sidecar) = &records[i].1
                && let Ok(note) = serde_json::from_str::<line::NoteSidecar>(sidecar)
            {
                crate::domain::limits::check_note(&note.note).map_err(refuse)?;
            }
            if kind == LogKind::Private && roster::TrustLine::concerns(&record) {
                return Err(refuse(
                    "pairing and removals belong in the shared log".to_string(),
                ));
            }
            if let Record::Entry(e) = &record
                && e.private != (kind == LogKind::Private)
            {
                return Err(refuse(
                    "a private entry belongs in the private log, and only there".to_string(),
                ));
            }
            Ok(record)
        })
        .collect()
}

/// The rev of a versioned record, to be set.
fn rev_mut(record: &mut Record) -> Option<&mut Rev> {
    match record {
        Record::Entry(r) => Some(&mut r.rev),
        Record::Remove(r) => Some(&mut r.rev),
        Record::Note(r) => Some(&mut r.rev),
        Record::Name(r) => Some(&mut r.rev),
        Record::Goal(r) => Some(&mut r.rev),
        Record::Practice(r) => Some(&mut r.rev),
        Record::Undo(r) | Record::Redo(r) => Some(&mut r.rev),
        Record::Seen(r) => Some(&mut r.rev),
        Record::Device(_) | Record::Leave(_) => None,
    }
}

/// My clock: the highest rev of the used lines of my own person's logs
/// (`domain::fold::clock_after`, from the notes).
fn my_clock(roster: &Roster, indexed: &Indexed, device: &DeviceId) -> Clock {
    let Some(me) = roster.person(device) else {
        return Clock::default();
    };
    let mine = roster
        .members
        .iter()
        .filter(|(_, m)| m.person == me)
        .map(|(d, _)| log_key(LogKind::Shared, d))
        .chain([log_key(LogKind::Private, device)]);
    let mut clock = Clock::default();
    for note in mine.filter_map(|name| indexed.logs.get(&name)) {
        clock.observe(note.clock);
    }
    clock
}

/// What the user should hear about, from the notes and the disk: the
/// damage in used logs, and the logs of devices the roster does not trust.
fn report(root: &Path, roster: &Roster, indexed: &Indexed, me: &DeviceId) -> Result<Report> {
    let mut report = Report {
        refused: roster.refused.clone(),
        ..Report::default()
    };
    for (device, member) in &roster.members {
        for kind in [LogKind::Shared, LogKind::Private] {
            let note = indexed.logs.get(&log_key(kind, device));
            if let Some(damage) = note.and_then(|n| n.damage.as_ref()) {
                report.quarantined.push(Quarantined {
                    device: device.clone(),
                    person: member.person.clone(),
                    kind,
                    path: root.join(&damage.path),
                    line: damage.line,
                    why: damage.why.clone(),
                });
            }
        }
    }
    for kind in [LogKind::Shared, LogKind::Private] {
        let log_root = log_root(root, kind);
        for device in segment::list_devices(&log_root)? {
            let trusted = match kind {
                LogKind::Shared => roster.members.contains_key(&device),
                LogKind::Private => device == *me,
            };
            // This device's own log, before its pairing line arrives, is no
            // stranger: `write` says what is missing.
            if !trusted && device != *me {
                report.strangers.push(Stranger {
                    path: log_root.join(device.as_str()),
                    device,
                    kind,
                });
            }
        }
    }
    Ok(report)
}

/// The index of the data directory at `root`, in `index/`. SQLite gives
/// its side files the mode of the database file, so that file is made
/// private before SQLite first opens it. An index written under another
/// run of the system is deleted first, and made again from the logs
/// (`store::boot`).
fn open_index(root: &Path) -> Result<Index> {
    let dir = root.join("index");
    file::ensure_dir(&dir)?;
    let commits = crate::store::boot::settle(&dir, &dir.join("index.sqlite"))?;
    let path = index_file(root, "index.sqlite")?;
    // What a rebuild cut short by a crash left behind.
    let building = dir.join("index.sqlite.new");
    if building.exists() {
        crate::store::index::remove_files(&building)?;
    }
    Index::open_with(&path, commits)
}

/// `index/<name>`, made (empty, readable only by me) if it is missing.
fn index_file(root: &Path, name: &str) -> Result<PathBuf> {
    let dir = root.join("index");
    file::ensure_dir(&dir)?;
    let path = dir.join(name);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&path)
        .map_err(|e| Error::io("create", &path, e))?;
    Ok(path)
}

/// An empty index in memory, for a command whose `index/` cannot be
/// written: fed every log, it answers as the file would.
fn memory_index() -> Result<Index> {
    Index::open(Path::new(":memory:"))
}

/// Delete the index and start it again, empty, in a file of its own: it
/// is fed every log next, then put in place ([`Index::into_place`]).
fn reset_index(root: &Path, index: &mut Option<Index>) -> Result<()> {
    let commits = index
        .as_ref()
        .map_or(crate::store::boot::Commits::Flushed, Index::commits);
    // Closed before its files go.
    *index = None;
    let path = root.join("index").join("index.sqlite");
    crate::store::index::remove_files(&path)?;
    let building = root.join("index").join("index.sqlite.new");
    crate::store::index::remove_files(&building)?;
    let building = index_file(root, "index.sqlite.new")?;
    *index = Some(Index::build(&building, &path, commits)?);
    Ok(())
}

fn index_closed() -> Error {
    Error::runtime("the index could not be opened again after it was reset").with_hint(
        "the index is derived: delete the index folder and safe rebuilds it from the logs",
    )
}

/// A UUIDv7 of `wall_ms`, its other bits random.
fn uuid_v7(wall_ms: u64) -> Result<String> {
    let mut random = [0u8; 10];
    getrandom::fill(&mut random)
        .map_err(|e| Error::runtime(format!("could not get random bytes for an id: {e}")))?;
    let id = uuid::Builder::from_unix_timestamp_millis(wall_ms, &random).into_uuid();
    Ok(id.hyphenated().to_string())
}

#[cfg(test)]
mod tests;
