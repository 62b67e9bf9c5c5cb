//! The derived day cache (DESIGN.md §6): for each month file, the days on
//! which each person logged, skipped or paused each practice, and the repair
//! moments, so that streaks and strength can reach back years without
//! parsing years of JSON on every call.
//!
//! The cache lives in `cache/` beside `shared/` and is never synced. It is
//! only ever a shortcut: every read stats each month file and re-reads the
//! ones whose identity (size, modification and change times, inode) differs
//! from what the cache remembers, or that it does not know; months whose file
//! vanished are dropped. A cache file that does not decode, or whose checksum
//! does not match, is ignored and rebuilt. A file changed within the last
//! tenth of a second (two seconds where timestamps are whole seconds) is
//! never trusted later: a second change within the same clock tick could
//! leave its times as they were, the "racy clean" problem git's index also
//! has. (Files this process has just replaced itself, by rename, are the
//! exception: their contents are known exactly.) So a stale or corrupt
//! cache can cost time but never change an answer.
//!
//! Format: a small header (magic, body length, checksum) and a body of
//! mostly LEB128 varints: a table of names (people and practices), then one
//! record per month file with its identity and, behind its length, its
//! summary: first the pauses and the entries filed in another month (which
//! any answer may need, however old), then the days, grouped by person,
//! practice and kind as a bit per day of the month and, where some day has
//! more than one entry, a count per day, then the repair moments. Ten years
//! of two people's practice (100,000 entries) take under a hundred kilobytes.
//!
//! Loading decodes the names, the identities, the pauses and strays; the days
//! of a month are decoded only when an answer reaches back to it. The streak
//! line of `safe log` asks for recent months first ([`Cache::index_from`])
//! and further back only when the run is that long. Saving copies the bytes
//! of every record that did not change, and rewrites in place only the part
//! of the file that did (usually the last month); the checksum still covers
//! the whole, so a torn write is noticed like any other damage.
//!
//! Reading a changed month takes only the fields the cache needs (a full
//! parse for a file that does not fit, so errors read as everywhere else);
//! after a sync that rewrote years of months they are read on several
//! threads. A month this process has just written is not read at all: the
//! store hands it over with [`remember_written`].

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::io::Read;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

use super::{DataDir, Side, file};
use crate::domain::entry::{ALL_PRACTICES, Entry, Kind};
use crate::domain::month::{MonthFile, YearMonth};
use crate::domain::summary::{DayIndex, Pause, PersonDays, REPAIR, Repair, Tally};
use crate::error::{Error, Result};

/// The cache file, inside [`DataDir::cache_dir`]. The name carries the
/// format, so an older or newer safe leaves this one alone.
const FILE_NAME: &str = "days-v2.bin";

/// What earlier versions called their cache; removed when this one is
/// written, so it does not linger.
const OLD_FILE_NAMES: [&str; 1] = ["days-v1.bin"];

const MAGIC: &[u8; 8] = b"safedc\x00\x02";
const HEADER: usize = MAGIC.len() + 8 + 8;

/// How a group's counts per day are stored.
const COUNTS_ONES: u8 = 0;
const COUNTS_BYTES: u8 = 1;
const COUNTS_WIDE: u8 = 2;

/// A file whose times are this close to now may still change without its
/// times changing, since timestamps only move on with the kernel's clock
/// tick (a few milliseconds on Linux). What was read from such a file is
/// used once and not remembered.
const RACY: Duration = Duration::from_millis(100);

/// The same for file systems with whole-second timestamps (FAT has two).
const RACY_COARSE: Duration = Duration::from_secs(2);

/// A month file: its month and which side of the journal it is on.
type Key = (YearMonth, Side);

/// The days of the journal, with each month file's identity.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cache {
    names: Names,
    months: BTreeMap<Key, Record>,
    /// Something worth remembering changed since the cache was loaded.
    dirty: bool,
    /// The cache file's bytes as loaded: records not decoded yet, and those
    /// saved again unchanged, are ranges of it.
    file: Arc<Vec<u8>>,
    /// The cache file's identity as loaded, so that a save can tell whether
    /// it may patch the file in place.
    file_identity: Option<Identity>,
}

/// What the cache knows about one month file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    identity: Identity,
    /// False for a file read too soon after it changed: used now, re-read
    /// next time, never written to the cache file.
    trusted: bool,
    summary: MonthSummary,
    /// Whether `summary` is all there: a record loaded from the cache file
    /// holds only its pauses and strays until its days are needed.
    whole: bool,
    /// Where the record's summary lies in [`Cache::file`], while that still
    /// describes it.
    saved: Option<Saved>,
}

/// A summary's place in the cache file as loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Saved {
    /// All of it, saved again byte for byte.
    body: Range<usize>,
    /// Where its days (after the pauses and strays) begin.
    days: usize,
}

/// What tells one version of a file from another without reading it. The
/// change time cannot be set by hand, so even a rewrite that keeps the size
/// and restores the modification time is noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Identity {
    len: u64,
    mtime_ns: i64,
    ctime_ns: i64,
    inode: u64,
    device: u64,
}

impl Identity {
    #[cfg(unix)]
    fn of(meta: &fs::Metadata) -> Identity {
        use std::os::unix::fs::MetadataExt;
        Identity {
            len: meta.len(),
            mtime_ns: meta
                .mtime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.mtime_nsec()),
            ctime_ns: meta
                .ctime()
                .saturating_mul(1_000_000_000)
                .saturating_add(meta.ctime_nsec()),
            inode: meta.ino(),
            device: meta.dev(),
        }
    }

    #[cfg(not(unix))]
    fn of(meta: &fs::Metadata) -> Identity {
        let ns = |t: std::io::Result<SystemTime>| t.ok().map_or(0, nanos);
        Identity {
            len: meta.len(),
            mtime_ns: ns(meta.modified()),
            ctime_ns: ns(meta.created()),
            inode: 0,
            device: 0,
        }
    }

    /// Could the file still change without this identity changing?
    fn is_racy(&self, now: SystemTime) -> bool {
        let latest = self.mtime_ns.max(self.ctime_ns);
        // Times in whole seconds: assume the file system keeps no finer ones.
        let coarse = self.mtime_ns % 1_000_000_000 == 0 && self.ctime_ns % 1_000_000_000 == 0;
        let window = if coarse { RACY_COARSE } else { RACY };
        nanos(now).saturating_sub(latest) < i64::try_from(window.as_nanos()).unwrap_or(i64::MAX)
    }
}

fn nanos(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
    }
}

/// The live entries of one month file, as days.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct MonthSummary {
    groups: Vec<Group>,
    /// Entries per day for the groups that have some day with more than
    /// one; each such group owns a run of this, one per day of its mask.
    counts: Vec<u32>,
    /// Entries whose day is not in the file's month: sync and hand edits
    /// can put them there, and they still count.
    strays: Vec<Stray>,
    pauses: Vec<PauseRecord>,
    repairs: Vec<RepairRecord>,
}

impl MonthSummary {
    /// (day of the month from 0, entries) for each day of a group.
    fn days<'a>(&'a self, group: &'a Group) -> impl Iterator<Item = (usize, u32)> + 'a {
        let counts = group
            .counts
            .map_or(&[][..], |at| &self.counts[at as usize..]);
        bits(group.mask)
            .enumerate()
            .map(move |(i, bit)| (bit, counts.get(i).copied().unwrap_or(1)))
    }
}

/// The days of the month one person logged (or skipped) one practice: bit
/// `d - 1` of `mask` for day `d`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    person: u32,
    practice: u32,
    skip: bool,
    mask: u32,
    /// Where this group's entries per day start in [`MonthSummary::counts`];
    /// `None` when every day has one entry.
    counts: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Stray {
    person: u32,
    practice: u32,
    skip: bool,
    day: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct PauseRecord {
    person: u32,
    practice: u32,
    from: NaiveDate,
    until: NaiveDate,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct RepairRecord {
    person: u32,
    day: NaiveDate,
    took: Option<u32>,
}

/// The set bits of a mask, lowest first.
fn bits(mut mask: u32) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        (mask != 0).then(|| {
            let bit = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            bit
        })
    })
}

/// Every day of a month, by day of the month from 0 (the days after its
/// last are never read); cheaper than making each date on its own.
fn month_dates(month: YearMonth) -> [NaiveDate; 31] {
    let first = month.first_day();
    let mut dates = [first; 31];
    for (i, day) in first.iter_days().take(31).enumerate() {
        dates[i] = day;
    }
    dates
}

/// Interned person and practice ids: records refer to them by number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Names {
    list: Vec<String>,
    index: HashMap<String, u32>,
}

impl Names {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = u32::try_from(self.list.len()).expect("fewer than 4 billion names");
        self.list.push(name.to_string());
        self.index.insert(name.to_string(), i);
        i
    }

    fn get(&self, i: u32) -> &str {
        &self.list[i as usize]
    }
}

/// How much of the journal an index needs: less is quicker to build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// Everyone's days of every practice (`safe calendar --who us`).
    Everything,
    /// My days of every practice; of anyone else only the days they
    /// practised at all (their `active` days), skips, pauses and repairs:
    /// what `stats` and `today` show.
    Mine,
    /// My days of one practice, with its skips and pauses (the streak line
    /// of `safe log`). `active` days and repairs are left out.
    Practice(&'a str),
}

/// The journal's days as `me` may see them: everything shared, and my own
/// private entries. Reads the cache, brings it up to date with the month
/// files, and saves it when that changed anything.
pub fn day_index(dir: &DataDir, me: &str, scope: Scope<'_>) -> Result<DayIndex> {
    let mut cache = Cache::open(dir)?;
    let index = cache.index_from(dir, me, scope, None)?;
    // Only a shortcut: a command that just reads says nothing when it
    // cannot keep it.
    let _ = cache.save(dir);
    Ok(index)
}

impl Cache {
    pub fn path(dir: &DataDir) -> PathBuf {
        dir.cache_dir().join(FILE_NAME)
    }

    /// The cache as last saved, brought up to date with the month files.
    pub fn open(dir: &DataDir) -> Result<Cache> {
        let mut cache = Cache::load(dir);
        cache.refresh(dir)?;
        Ok(cache)
    }

    /// The cache as last saved; empty if there is none or it is damaged.
    pub fn load(dir: &DataDir) -> Cache {
        let path = Cache::path(dir);
        let Ok(mut handle) = fs::File::open(&path) else {
            return Cache::default();
        };
        // A save patching the file in place holds it exclusively: wait for
        // it rather than read half of it (which would only cost a rebuild).
        let _ = handle.lock_shared();
        let Ok(meta) = handle.metadata() else {
            return Cache::default();
        };
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        if handle.read_to_end(&mut bytes).is_err() {
            return Cache::default();
        }
        let Some(mut cache) = Cache::decode(bytes) else {
            return Cache::default();
        };
        cache.file_identity = Some(Identity::of(&meta));
        cache
    }

    /// Whether the month file with metadata `meta` is, byte for byte, one
    /// the cache has read whole (or this process wrote): one that parses as
    /// JSON, of this format, with every field the cache takes readable. (The
    /// fields it skips, like ids and times, are checked for syntax only, as
    /// `safe log`'s other path checks them.)
    pub fn vouches_for(&self, side: Side, month: YearMonth, meta: &fs::Metadata) -> bool {
        self.months
            .get(&(month, side))
            .is_some_and(|r| r.trusted && r.identity == Identity::of(meta))
    }

    /// The days as [`Cache::index`] gives them, from `since` on (all of them
    /// for `None`), after decoding the months that needs. A month whose
    /// saved days do not decode is read again from its file.
    pub fn index_from(
        &mut self,
        dir: &DataDir,
        me: &str,
        scope: Scope<'_>,
        since: Option<YearMonth>,
    ) -> Result<DayIndex> {
        if !self.decode_from(since) {
            self.refresh(dir)?;
        }
        Ok(self.index(me, scope, since))
    }

    /// Remember a month's summary, read or written whole, with its names
    /// (numbered as in `names`) numbered as in the cache's table.
    fn insert_read(
        &mut self,
        key: Key,
        identity: Identity,
        names: &[String],
        summary: MonthSummary,
        trusted: bool,
    ) {
        let summary = summary.renumbered(names, &mut self.names);
        self.dirty |= trusted;
        self.months.insert(
            key,
            Record {
                identity,
                trusted,
                summary,
                whole: true,
                saved: None,
            },
        );
    }

    /// Decode the days of every month from `since` on. Months that will not
    /// decode are forgotten (so the next refresh reads them): `false` then.
    fn decode_from(&mut self, since: Option<YearMonth>) -> bool {
        let keys: Vec<Key> = self
            .months
            .iter()
            .filter(|((month, _), r)| !r.whole && since.is_none_or(|s| *month >= s))
            .map(|(key, _)| *key)
            .collect();
        let mut all = true;
        for key in keys {
            all &= self.make_whole(key);
        }
        all
    }

    /// Decode one record's days; a record that will not decode is dropped.
    fn make_whole(&mut self, key: Key) -> bool {
        let name_count = self.names.list.len() as u64;
        let Some(record) = self.months.get_mut(&key) else {
            return false;
        };
        if record.whole {
            return true;
        }
        let decoded = record.saved.as_ref().and_then(|saved| {
            let mut r = Reader {
                bytes: self.file.get(saved.days..saved.body.end)?,
            };
            decode_days(&mut r, key.0, name_count, &mut record.summary)?;
            r.bytes.is_empty().then_some(())
        });
        if decoded.is_some() {
            record.whole = true;
            return true;
        }
        self.months.remove(&key);
        false
    }

    /// Bring the cache up to date with the month files on disk.
    pub fn refresh(&mut self, dir: &DataDir) -> Result<()> {
        self.refresh_at(dir, SystemTime::now())
    }

    fn refresh_at(&mut self, dir: &DataDir, now: SystemTime) -> Result<()> {
        let mut present = BTreeSet::new();
        let mut changed: Vec<(Key, MonthRead)> = Vec::new();
        let mut to_read: Vec<(Key, PathBuf)> = Vec::new();
        // Files this process itself just replaced (by rename: a new inode,
        // new times) are known exactly, so they are trusted at once; only an
        // in-place edit within the same clock tick could hide behind them,
        // and safe never edits in place.
        let mut own = BTreeSet::new();
        for side in [Side::Shared, Side::Private] {
            for (month, path, identity) in month_files(dir, side)? {
                let key = (month, side);
                // A file that vanished since the listing, or could not be
                // stat'ed, is read below, which says what went wrong.
                let identity = identity.unwrap_or_default();
                if self
                    .months
                    .get(&key)
                    .is_some_and(|r| r.trusted && r.identity == identity)
                {
                    present.insert(key);
                } else if let Some((names, summary)) = written(dir, key, identity) {
                    own.insert(key);
                    changed.push((key, Some((identity, names, summary))));
                } else if self.absorb_appended(dir, key, identity) {
                    present.insert(key);
                } else {
                    // A file this process appended to, but whose earlier
                    // state the cache did not hold: read it, and trust what
                    // is read, so the next append can start from it.
                    if appended_here(dir, key, identity) {
                        own.insert(key);
                    }
                    to_read.push((key, path));
                }
            }
        }
        changed.extend(read_months(to_read)?);
        for (key, read) in changed {
            let Some((identity, names, summary)) = read else {
                continue;
            };
            present.insert(key);
            let trusted = own.contains(&key) || !identity.is_racy(now);
            self.insert_read(key, identity, &names, summary, trusted);
        }
        let mut dropped = false;
        self.months.retain(|key, record| {
            let keep = present.contains(key);
            dropped |= !keep && record.trusted;
            keep
        });
        self.dirty |= dropped;
        Ok(())
    }

    /// Write the cache if it changed. It is derived data, so this needs
    /// no lock on the journal (only the cache's own while it is written),
    /// and a failure (a read-only disk, say) only costs time later: the
    /// caller decides whether it is worth a word.
    pub fn save(&mut self, dir: &DataDir) -> Result<()> {
        if !self.dirty {
            return Ok(());
        }
        let bytes = self.encode();
        let path = Cache::path(dir);
        let _writing = writing(dir)?;
        // What a writer killed before its rename left: none is live now.
        file::remove_stale(&dir.cache_dir(), file::is_temporary);
        if self.patch(&path, &bytes) {
            self.dirty = false;
            return Ok(());
        }
        write_quietly(&path, &bytes)?;
        self.dirty = false;
        for old in OLD_FILE_NAMES {
            let _ = fs::remove_file(dir.cache_dir().join(old));
        }
        Ok(())
    }

    /// Rewrite only the bytes of the cache file that changed (mostly the
    /// last months, and the header), when the file still has the identity it
    /// had when loaded. Cheaper than writing it all to a new file, which on
    /// ten years of data was a tenth of the time `safe log` takes. What the
    /// identity cannot tell (another process patching it within the same
    /// clock tick), the checksum over the whole file does: like a crash
    /// halfway, that leaves a cache to rebuild, never a wrong answer.
    #[cfg(unix)]
    fn patch(&self, path: &Path, bytes: &[u8]) -> bool {
        use std::os::unix::fs::FileExt;
        let Some(loaded) = self.file_identity else {
            return false;
        };
        let Ok(handle) = fs::OpenOptions::new().write(true).open(path) else {
            return false;
        };
        // Readers take a shared lock: none may see the file half patched.
        if handle.try_lock().is_err() {
            return false;
        }
        if handle.metadata().map(|m| Identity::of(&m)).ok() != Some(loaded) {
            return false; // replaced or changed since it was loaded
        }
        let old = &self.file[..];
        let same = old
            .iter()
            .zip(bytes)
            .skip(HEADER)
            .take_while(|(a, b)| a == b)
            .count();
        let from = HEADER + same;
        let written = handle.write_all_at(&bytes[from..], from as u64).is_ok()
            && handle.set_len(bytes.len() as u64).is_ok()
            && handle.write_all_at(&bytes[..HEADER], 0).is_ok();
        if !written {
            // Half patched: make sure no one trusts it.
            let _ = handle.set_len(0);
        }
        written
    }

    #[cfg(not(unix))]
    fn patch(&self, _path: &Path, _bytes: &[u8]) -> bool {
        false
    }

    /// The days of everyone's shared entries and of my private ones, as far
    /// as `scope` needs them: the days of the months from `since` on, and
    /// every pause and misfiled entry (the days those months' files hold
    /// must be decoded: see [`Cache::index_from`]).
    fn index(&self, me: &str, scope: Scope<'_>, since: Option<YearMonth>) -> DayIndex {
        let in_window = |month: YearMonth| since.is_none_or(|s| month >= s);
        let me = self.names.index.get(me).copied();
        let only = match scope {
            Scope::Practice(id) => match self.names.index.get(id) {
                Some(&practice) => Some(practice),
                None => return DayIndex::default(),
            },
            _ => None,
        };
        let all = self.names.index.get(ALL_PRACTICES).copied();
        let one_practice = matches!(scope, Scope::Practice(_));
        // Which practices' days to keep one by one: statistics need mine,
        // but of anyone else only the days they practised at all.
        let wanted = |person: u32, practice: u32| match scope {
            Scope::Everything => true,
            Scope::Mine => Some(person) == me,
            Scope::Practice(_) => Some(person) == me && Some(practice) == only,
        };
        // Everything is kept by number (person * n + practice) in flat
        // tables: ten years of days in a few thousand groups is too much
        // work for maps keyed by names.
        let n = self.names.list.len();
        let slot = |person: u32, practice: u32| person as usize * n + practice as usize;
        let mut people = vec![false; n];
        let mut logged: Vec<Tally> = vec![Tally::default(); n * n];
        let mut skipped: Vec<Vec<NaiveDate>> = vec![Vec::new(); n * n];
        let mut active: Vec<Vec<NaiveDate>> = vec![Vec::new(); n];
        let mut paused: Vec<Vec<Pause>> = vec![Vec::new(); n];
        let mut repairs: Vec<Vec<Repair>> = vec![Vec::new(); n];

        // Private files hold only my own entries; anyone else's there (a
        // copied directory, say) is not mine to see.
        let visible = |side: Side, person: u32| side == Side::Shared || Some(person) == me;
        let mut sizes = vec![0usize; n * n];
        for (&(_, side), record) in self.months.iter().filter(|((m, _), _)| in_window(*m)) {
            for g in record
                .summary
                .groups
                .iter()
                .filter(|g| visible(side, g.person) && wanted(g.person, g.practice))
            {
                sizes[slot(g.person, g.practice)] += g.mask.count_ones() as usize;
            }
        }
        for (tally, size) in logged.iter_mut().zip(sizes).filter(|(_, size)| *size > 0) {
            tally.days.reserve_exact(size);
            tally.counts.reserve_exact(size);
        }

        // A month's two files (shared, then private) come one after the
        // other; each person's days with any practice are gathered as one
        // mask per month.
        let mut month: Option<(YearMonth, [NaiveDate; 31])> = None;
        let mut month_active = vec![0u32; n];
        fn flush_active(active: &mut [Vec<NaiveDate>], dates: &[NaiveDate; 31], masks: &mut [u32]) {
            for (person, mask) in masks.iter_mut().enumerate().filter(|(_, m)| **m != 0) {
                active[person].extend(bits(*mask).map(|bit| dates[bit]));
                *mask = 0;
            }
        }
        for (&(ym, side), record) in &self.months {
            if month.is_none_or(|(m, _)| m != ym) {
                if let Some((_, dates)) = &month {
                    flush_active(&mut active, dates, &mut month_active);
                }
                month = Some((ym, month_dates(ym)));
            }
            let dates = &month.as_ref().expect("set above").1;
            let summary = &record.summary;
            // Outside the window only pauses and strays count; inside, the
            // days must have been decoded.
            let days_here = in_window(ym);
            debug_assert!(!days_here || record.whole, "{ym} not decoded");
            let groups = if days_here { &summary.groups[..] } else { &[] };
            for group in groups.iter().filter(|g| visible(side, g.person)) {
                people[group.person as usize] = true;
                if group.skip {
                    if wanted(group.person, group.practice) || !one_practice {
                        skipped[slot(group.person, group.practice)]
                            .extend(bits(group.mask).map(|bit| dates[bit]));
                    }
                    continue;
                }
                if !one_practice {
                    month_active[group.person as usize] |= group.mask;
                }
                if wanted(group.person, group.practice) {
                    let tally = &mut logged[slot(group.person, group.practice)];
                    for (bit, count) in summary.days(group) {
                        tally.add(dates[bit], count);
                    }
                }
            }
            for stray in summary.strays.iter().filter(|s| visible(side, s.person)) {
                people[stray.person as usize] = true;
                let at = slot(stray.person, stray.practice);
                if stray.skip {
                    if wanted(stray.person, stray.practice) || !one_practice {
                        skipped[at].push(stray.day);
                    }
                    continue;
                }
                if !one_practice {
                    active[stray.person as usize].push(stray.day);
                }
                if wanted(stray.person, stray.practice) {
                    logged[at].add(stray.day, 1);
                }
            }
            for pause in summary.pauses.iter().filter(|p| visible(side, p.person)) {
                let bridges_mine = Some(pause.person) == me
                    && (Some(pause.practice) == only || Some(pause.practice) == all);
                if !one_practice || bridges_mine {
                    people[pause.person as usize] = true;
                    paused[pause.person as usize].push(Pause {
                        practice: self.names.get(pause.practice).to_string(),
                        from: pause.from,
                        until: pause.until,
                    });
                }
            }
            if !one_practice && days_here {
                for repair in summary.repairs.iter().filter(|r| visible(side, r.person)) {
                    repairs[repair.person as usize].push(Repair {
                        day: repair.day,
                        took_minutes: repair.took,
                    });
                }
            }
        }
        if let Some((_, dates)) = &month {
            flush_active(&mut active, dates, &mut month_active);
        }

        let mut index = DayIndex::default();
        for person in (0..n).filter(|p| people[*p]) {
            let mut days = PersonDays {
                paused: std::mem::take(&mut paused[person]),
                repairs: std::mem::take(&mut repairs[person]),
                active: std::mem::take(&mut active[person]),
                ..PersonDays::default()
            };
            for practice in 0..n {
                let at = person * n + practice;
                let name = || self.names.list[practice].clone();
                if !logged[at].days.is_empty() {
                    days.logged.insert(name(), std::mem::take(&mut logged[at]));
                }
                if !skipped[at].is_empty() {
                    days.skipped
                        .insert(name(), std::mem::take(&mut skipped[at]));
                }
            }
            if one_practice && days == PersonDays::default() {
                continue;
            }
            days.sort();
            index.people.insert(self.names.list[person].clone(), days);
        }
        index
    }

    /// The bytes of the cache file: trusted records only. A record still
    /// as loaded is copied byte for byte; names keep their numbers.
    fn encode(&self) -> Vec<u8> {
        // The header (length and checksum) is filled in at the end.
        let mut body = Vec::with_capacity(self.file.len() + 1024);
        body.resize(HEADER, 0);
        put(&mut body, self.names.list.len() as u64);
        for name in &self.names.list {
            put(&mut body, name.len() as u64);
            body.extend_from_slice(name.as_bytes());
        }
        let trusted = self.months.iter().filter(|(_, r)| r.trusted);
        put(&mut body, trusted.clone().count() as u64);
        let mut fresh = Vec::new();
        for (&(month, side), record) in trusted {
            body.push(match side {
                Side::Shared => 0,
                Side::Private => 1,
            });
            put_signed(&mut body, i64::from(month.year));
            body.push(u8::try_from(month.month).expect("1..=12"));
            let id = record.identity;
            for n in [
                id.len,
                id.mtime_ns as u64,
                id.ctime_ns as u64,
                id.inode,
                id.device,
            ] {
                body.extend_from_slice(&n.to_le_bytes());
            }
            let summary = match record
                .saved
                .as_ref()
                .and_then(|s| self.file.get(s.body.clone()))
            {
                Some(saved) => saved,
                None => {
                    fresh.clear();
                    encode_summary(&mut fresh, month, &record.summary);
                    &fresh[..]
                }
            };
            put(&mut body, summary.len() as u64);
            body.extend_from_slice(summary);
        }
        let len = (body.len() - HEADER) as u64;
        let sum = checksum(&body[HEADER..]);
        body[..8].copy_from_slice(MAGIC);
        body[8..16].copy_from_slice(&len.to_le_bytes());
        body[16..24].copy_from_slice(&sum.to_le_bytes());
        body
    }

    /// Read the cache file's bytes; `None` for anything but a whole, intact
    /// cache of this format. Each record's pauses and strays are decoded;
    /// its days wait in `file` until needed ([`Cache::make_whole`]).
    fn decode(file: Vec<u8>) -> Option<Cache> {
        let (header, body) = file.split_at_checked(HEADER)?;
        if &header[..8] != MAGIC {
            return None;
        }
        let len = u64::from_le_bytes(header[8..16].try_into().ok()?);
        let sum = u64::from_le_bytes(header[16..24].try_into().ok()?);
        if len != body.len() as u64 || sum != checksum(body) {
            return None;
        }
        let mut r = Reader { bytes: body };
        let mut cache = Cache::default();
        let names = r.count()?;
        for _ in 0..names {
            let len = r.count()?;
            let name = std::str::from_utf8(r.take(len)?).ok()?;
            if cache.names.intern(name) as usize != cache.names.list.len() - 1 {
                return None; // a name twice
            }
        }
        let name_count = cache.names.list.len() as u64;
        for _ in 0..r.count()? {
            let side = match r.byte()? {
                0 => Side::Shared,
                1 => Side::Private,
                _ => return None,
            };
            let year = i32::try_from(r.signed()?).ok()?;
            let month = YearMonth::new(year, u32::from(r.byte()?))?;
            let mut fixed = [0u64; 5];
            for n in &mut fixed {
                *n = u64::from_le_bytes(r.take(8)?.try_into().ok()?);
            }
            let identity = Identity {
                len: fixed[0],
                mtime_ns: fixed[1] as i64,
                ctime_ns: fixed[2] as i64,
                inode: fixed[3],
                device: fixed[4],
            };
            let len = r.count()?;
            let start = file.len() - r.bytes.len();
            let mut summary_bytes = Reader {
                bytes: r.take(len)?,
            };
            let mut summary = MonthSummary::default();
            decode_early(&mut summary_bytes, month, name_count, &mut summary)?;
            let days = file.len() - r.bytes.len() - summary_bytes.bytes.len();
            let record = Record {
                identity,
                trusted: true,
                summary,
                whole: false,
                saved: Some(Saved {
                    body: start..start + len,
                    days,
                }),
            };
            if cache.months.insert((month, side), record).is_some() {
                return None; // a month twice
            }
        }
        if !r.bytes.is_empty() {
            return None;
        }
        cache.file = Arc::new(file);
        Some(cache)
    }
}

/// A month's summary: pauses and strays first, as [`decode_early`] reads
/// them, then the days and repairs, as [`decode_days`] reads them.
fn encode_summary(out: &mut Vec<u8>, month: YearMonth, summary: &MonthSummary) {
    let base = day_number(month.first_day());
    put(out, summary.pauses.len() as u64);
    for pause in &summary.pauses {
        put(out, u64::from(pause.person));
        put(out, u64::from(pause.practice));
        put_signed(out, day_number(pause.from) - base);
        put(
            out,
            (day_number(pause.until) - day_number(pause.from)) as u64,
        );
    }
    put(out, summary.strays.len() as u64);
    for stray in &summary.strays {
        put(out, u64::from(stray.person));
        put(out, u64::from(stray.practice));
        out.push(u8::from(stray.skip));
        put_signed(out, day_number(stray.day) - base);
    }
    put(out, summary.groups.len() as u64);
    for group in &summary.groups {
        put(out, u64::from(group.person));
        put(out, u64::from(group.practice));
        out.push(u8::from(group.skip));
        out.extend_from_slice(&group.mask.to_le_bytes());
        // Counts: none (one entry a day), a byte a day, or varints.
        let n = group.mask.count_ones() as usize;
        let counts = group
            .counts
            .map_or(&[][..], |at| &summary.counts[at as usize..at as usize + n]);
        if counts.is_empty() {
            out.push(COUNTS_ONES);
        } else if counts.iter().all(|c| *c <= u32::from(u8::MAX)) {
            out.push(COUNTS_BYTES);
            out.extend(counts.iter().map(|c| *c as u8));
        } else {
            out.push(COUNTS_WIDE);
            for count in counts {
                put(out, u64::from(*count));
            }
        }
    }
    put(out, summary.repairs.len() as u64);
    for repair in &summary.repairs {
        put(out, u64::from(repair.person));
        put_signed(out, day_number(repair.day) - base);
        put(out, repair.took.map_or(0, |t| u64::from(t) + 1));
    }
}

/// A name's number, if it is one of the `count` names.
fn name(r: &mut Reader<'_>, count: u64) -> Option<u32> {
    r.varint().filter(|n| *n < count).map(|n| n as u32)
}

/// The pauses and strays of a month's summary.
fn decode_early(
    r: &mut Reader<'_>,
    month: YearMonth,
    names: u64,
    summary: &mut MonthSummary,
) -> Option<()> {
    let base = day_number(month.first_day());
    for _ in 0..r.count()? {
        let person = name(r, names)?;
        let practice = name(r, names)?;
        let from = base.checked_add(r.signed()?)?;
        let until = from.checked_add(i64::try_from(r.varint()?).ok()?)?;
        summary.pauses.push(PauseRecord {
            person,
            practice,
            from: from_day_number(from)?,
            until: from_day_number(until)?,
        });
    }
    for _ in 0..r.count()? {
        let person = name(r, names)?;
        let practice = name(r, names)?;
        let skip = r.flag()?;
        let day = from_day_number(base.checked_add(r.signed()?)?)?;
        summary.strays.push(Stray {
            person,
            practice,
            skip,
            day,
        });
    }
    Some(())
}

/// The days and repairs of a month's summary, after [`decode_early`].
fn decode_days(
    r: &mut Reader<'_>,
    month: YearMonth,
    names: u64,
    summary: &mut MonthSummary,
) -> Option<()> {
    let base = day_number(month.first_day());
    // Bits past the month's last day would be days that do not exist.
    let valid = u32::MAX >> (32 - month.last_day().day());
    for _ in 0..r.count()? {
        let person = name(r, names)?;
        let practice = name(r, names)?;
        let skip = r.flag()?;
        let mask = u32::from_le_bytes(r.take(4)?.try_into().ok()?);
        if mask == 0 || mask & !valid != 0 {
            return None;
        }
        let n = mask.count_ones() as usize;
        let at = u32::try_from(summary.counts.len()).ok()?;
        let counts = match r.byte()? {
            COUNTS_ONES => None,
            COUNTS_BYTES => {
                summary
                    .counts
                    .extend(r.take(n)?.iter().map(|c| u32::from(*c)));
                Some(at)
            }
            COUNTS_WIDE => {
                for _ in 0..n {
                    summary.counts.push(u32::try_from(r.varint()?).ok()?);
                }
                Some(at)
            }
            _ => return None,
        };
        if summary.counts[at as usize..].contains(&0) {
            return None;
        }
        summary.groups.push(Group {
            person,
            practice,
            skip,
            mask,
            counts,
        });
    }
    for _ in 0..r.count()? {
        let person = name(r, names)?;
        let day = from_day_number(base.checked_add(r.signed()?)?)?;
        let took = match r.varint()? {
            0 => None,
            n => Some(u32::try_from(n - 1).ok()?),
        };
        summary.repairs.push(RepairRecord { person, day, took });
    }
    Some(())
}

/// Month files this process wrote, summed up as they were written, so that
/// the streak line `safe log` ends with needs not parse again the month it
/// has just written. A summary is used only while its file still has the
/// identity it had right after the write, and (being that recent) is never
/// saved in the cache file.
static WRITTEN: Mutex<Vec<Written>> = Mutex::new(Vec::new());

struct Written {
    root: PathBuf,
    key: Key,
    identity: Identity,
    names: Vec<String>,
    summary: MonthSummary,
}

/// What to note once a month file holds `doc` (the store's `write_month`
/// runs it after the file is in place). Best effort: on any failure the file
/// is simply read again when needed.
pub fn remember_written(
    dir: &DataDir,
    side: Side,
    month: YearMonth,
    doc: &MonthFile,
) -> impl FnOnce() + 'static {
    let path = dir.month_path(side, month);
    let mut names = Names::default();
    let entries: Vec<LeanEntry<'_>> = doc.entries.iter().map(LeanEntry::from).collect();
    let summary = summarize(month, entries.iter(), &mut names);
    let root = dir.root().to_path_buf();
    let key = (month, side);
    move || {
        let Ok(meta) = fs::metadata(path) else {
            return;
        };
        let mut written = WRITTEN.lock().unwrap_or_else(PoisonError::into_inner);
        written.retain(|w| w.root != root || w.key != key);
        written.push(Written {
            root,
            key,
            identity: Identity::of(&meta),
            names: names.list,
            summary,
        });
    }
}

/// A month this process added one entry to without parsing it (see
/// `store::append`): if the cache knew the file as it was before, the new
/// summary is the old one plus that entry (or the same, for a private note).
struct Appended {
    root: PathBuf,
    key: Key,
    before: Identity,
    after: Identity,
    entry: Option<Entry>,
}

static APPENDED: Mutex<Vec<Appended>> = Mutex::new(Vec::new());

/// What to note once `entry` (or only a private note, for `None`) is added
/// to a month file whose metadata, just before, was `before` (run after the
/// file is in place). Best effort, like [`remember_written`].
pub fn remember_appended(
    dir: &DataDir,
    side: Side,
    month: YearMonth,
    before: &fs::Metadata,
    entry: Option<&Entry>,
) -> impl FnOnce() + 'static {
    let path = dir.month_path(side, month);
    let root = dir.root().to_path_buf();
    let key = (month, side);
    let before = Identity::of(before);
    let entry = entry.cloned();
    move || {
        let Ok(after) = fs::metadata(path) else {
            return;
        };
        let mut appended = APPENDED.lock().unwrap_or_else(PoisonError::into_inner);
        appended.retain(|a| a.root != root || a.key != key);
        appended.push(Appended {
            root,
            key,
            before,
            after: Identity::of(&after),
            entry,
        });
    }
}

/// Did this process append to the month file that now has `identity`?
fn appended_here(dir: &DataDir, key: Key, identity: Identity) -> bool {
    let appended = APPENDED.lock().unwrap_or_else(PoisonError::into_inner);
    appended
        .iter()
        .any(|a| a.key == key && a.after == identity && a.root == dir.root())
}

impl Cache {
    /// Bring the record of a month file that this process appended to (and
    /// that now has `identity`) up to date from what the cache held for the
    /// file before, if it held it. `false` if it did not: then the file is
    /// read.
    fn absorb_appended(&mut self, dir: &DataDir, key: Key, identity: Identity) -> bool {
        let appended = APPENDED.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(a) = appended
            .iter()
            .find(|a| a.key == key && a.after == identity && a.root == dir.root())
        else {
            return false;
        };
        if self.months.get(&key).is_none_or(|r| r.identity != a.before) {
            return false;
        }
        if let Some(entry) = &a.entry {
            if !self.make_whole(key) {
                return false;
            }
            let record = &self.months[&key];
            let mut summary = record.summary.clone();
            let mut groups: BTreeMap<(u32, u32, bool), [u32; 31]> = BTreeMap::new();
            for group in &summary.groups {
                let per_day = groups
                    .entry((group.person, group.practice, group.skip))
                    .or_insert([0; 31]);
                for (day, count) in summary.days(group) {
                    per_day[day] += count;
                }
            }
            add_entry(
                key.0,
                &LeanEntry::from(entry),
                &mut self.names,
                &mut groups,
                &mut summary,
            );
            let record = self.months.get_mut(&key).expect("made whole above");
            record.summary = encode_groups(groups, summary);
            record.saved = None;
        }
        // A private note changes no day: the summary (and its saved bytes)
        // stay as they are.
        let record = self.months.get_mut(&key).expect("checked above");
        record.identity = identity;
        // Replaced by this process, by rename: its contents are known.
        record.trusted = true;
        self.dirty = true;
        true
    }

    /// Take in the month files this process has written or appended to,
    /// without looking at any other: what `safe log` does when it prints no
    /// streak line, so that its next append can still splice.
    pub fn keep_own_changes(&mut self, dir: &DataDir) {
        // Written whole first: an append may have followed the write.
        let written: Vec<(Key, Identity, Vec<String>, MonthSummary)> = WRITTEN
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|w| w.root == dir.root())
            .map(|w| (w.key, w.identity, w.names.clone(), w.summary.clone()))
            .collect();
        for (key, identity, names, summary) in written {
            if self
                .months
                .get(&key)
                .is_some_and(|r| r.identity == identity)
            {
                continue;
            }
            self.insert_read(key, identity, &names, summary, true);
        }
        let appended: Vec<(Key, Identity)> = APPENDED
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .filter(|a| a.root == dir.root())
            .map(|a| (a.key, a.after))
            .collect();
        for (key, after) in appended {
            self.absorb_appended(dir, key, after);
        }
    }
}

/// The summary of a month this process wrote, if the file is still as it
/// was written; its names numbered as in `names`.
fn written(dir: &DataDir, key: Key, identity: Identity) -> Option<(Vec<String>, MonthSummary)> {
    let written = WRITTEN.lock().unwrap_or_else(PoisonError::into_inner);
    let w = written
        .iter()
        .find(|w| w.key == key && w.identity == identity && w.root == dir.root())?;
    Some((w.names.clone(), w.summary.clone()))
}

impl MonthSummary {
    /// The same summary with its names (numbered as in `from`) numbered as
    /// in `names`.
    fn renumbered(mut self, from: &[String], names: &mut Names) -> MonthSummary {
        let map: Vec<u32> = from.iter().map(|name| names.intern(name)).collect();
        let n = |i: &mut u32| *i = map[*i as usize];
        for g in &mut self.groups {
            n(&mut g.person);
            n(&mut g.practice);
        }
        for x in &mut self.strays {
            n(&mut x.person);
            n(&mut x.practice);
        }
        for p in &mut self.pauses {
            n(&mut p.person);
            n(&mut p.practice);
        }
        for r in &mut self.repairs {
            n(&mut r.person);
        }
        self
    }
}

/// The month files of one side, with their paths. Like
/// [`DataDir::months_of`], but keeping the paths the listing already gives
/// saves building 240 of them again on ten years of data.
fn month_files(dir: &DataDir, side: Side) -> Result<Vec<(YearMonth, PathBuf, Option<Identity>)>> {
    let log_dir = dir.log_dir(side);
    let listing = match fs::read_dir(&log_dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", &log_dir, e)),
    };
    let mut files = Vec::new();
    for item in listing {
        let item = item.map_err(|e| Error::io("list", &log_dir, e))?;
        let Some(month) = item
            .file_name()
            .to_str()
            .and_then(YearMonth::from_file_name)
        else {
            continue;
        };
        // Stat through the open directory (no walk of the whole path);
        // a symbolic link is followed, so its target's changes are seen.
        let identity = match item.metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                fs::metadata(item.path()).ok().map(|m| Identity::of(&m))
            }
            Ok(meta) => Some(Identity::of(&meta)),
            Err(_) => None,
        };
        files.push((month, item.path(), identity));
    }
    Ok(files)
}

/// What reading one month file gives: its identity, the names its summary
/// numbers, and the summary; `None` if it vanished after the listing.
type MonthRead = Option<(Identity, Vec<String>, MonthSummary)>;

/// Read the month files that changed, on as many threads as help: after
/// a sync has merged years of a partner's journal, every month is new.
/// In the order given.
fn read_months(files: Vec<(Key, PathBuf)>) -> Result<Vec<(Key, MonthRead)>> {
    // A thread costs more than a small month: only spread a real rebuild
    // (and only then ask how many cores there are, which reads /proc).
    const PER_THREAD: usize = 8;
    if files.len() <= PER_THREAD {
        return files
            .into_iter()
            .map(|(key, path)| Ok((key, read_month(&path, key.0)?)))
            .collect();
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let per_thread = files.len().div_ceil(threads).max(PER_THREAD);
    let chunks: Vec<&[(Key, PathBuf)]> = files.chunks(per_thread).collect();
    let read_chunk = |chunk: &[(Key, PathBuf)]| -> Result<Vec<(Key, MonthRead)>> {
        chunk
            .iter()
            .map(|(key, path)| Ok((*key, read_month(path, key.0)?)))
            .collect()
    };
    if chunks.len() <= 1 {
        return chunks
            .first()
            .map_or(Ok(Vec::new()), |chunk| read_chunk(chunk));
    }
    let results: Vec<Result<Vec<_>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = chunks
            .iter()
            .map(|chunk| scope.spawn(move || read_chunk(chunk)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut out = Vec::with_capacity(files.len());
    for result in results {
        out.extend(result?);
    }
    Ok(out)
}

/// Open, stat and read a month file through one handle, so the identity is
/// that of the bytes read even if the file is replaced meanwhile; and sum up
/// its days, with names numbered in a table of its own. `None` if it
/// vanished after the directory was listed.
fn read_month(path: &Path, month: YearMonth) -> Result<MonthRead> {
    let Some((mut handle, meta)) = file::open_existing(path)? else {
        return Ok(None);
    };
    let bytes = file::read_rest(&mut handle, meta.len(), path)?;
    let mut names = Names::default();
    let summary = match serde_json::from_slice::<LeanMonth<'_>>(&bytes) {
        Ok(lean) if lean.schema == file::SCHEMA => {
            summarize(month, lean.entries.iter(), &mut names)
        }
        // Anything unexpected goes through the parser every other reader
        // uses, so a bad or newer file is reported just as `safe history`
        // reports it, with its line and column.
        _ => {
            let doc: MonthFile = file::parse(path, &bytes)?;
            let entries: Vec<LeanEntry<'_>> = doc.entries.iter().map(LeanEntry::from).collect();
            summarize(month, entries.iter(), &mut names)
        }
    };
    Ok(Some((Identity::of(&meta), names.list, summary)))
}

/// What the cache needs of a month file. Everything else (ids, times,
/// notes, revisions) is skipped without being parsed, so re-reading the
/// month `safe log` just wrote costs a fraction of a full parse.
#[derive(Deserialize)]
struct LeanMonth<'a> {
    schema: u64,
    #[serde(default, borrow)]
    entries: Vec<LeanEntry<'a>>,
}

#[derive(Deserialize)]
struct LeanEntry<'a> {
    #[serde(default)]
    kind: Kind,
    #[serde(borrow)]
    practice: Cow<'a, str>,
    day: NaiveDate,
    #[serde(default)]
    until: Option<NaiveDate>,
    #[serde(borrow)]
    author: Cow<'a, str>,
    #[serde(default)]
    took_minutes: Option<u32>,
    #[serde(default)]
    deleted: bool,
}

impl<'a> From<&'a Entry> for LeanEntry<'a> {
    fn from(e: &'a Entry) -> Self {
        LeanEntry {
            kind: e.kind,
            practice: Cow::Borrowed(&e.practice),
            day: e.day,
            until: e.until,
            author: Cow::Borrowed(&e.author),
            took_minutes: e.took_minutes,
            deleted: e.deleted,
        }
    }
}

/// The days of a month file's live entries.
fn summarize<'a>(
    month: YearMonth,
    entries: impl Iterator<Item = &'a LeanEntry<'a>>,
    names: &mut Names,
) -> MonthSummary {
    let mut groups: BTreeMap<(u32, u32, bool), [u32; 31]> = BTreeMap::new();
    let mut summary = MonthSummary::default();
    for entry in entries {
        add_entry(month, entry, names, &mut groups, &mut summary);
    }
    encode_groups(groups, summary)
}

/// Count one entry into a month's per-day tallies (groups) or its lists.
fn add_entry(
    month: YearMonth,
    entry: &LeanEntry<'_>,
    names: &mut Names,
    groups: &mut BTreeMap<(u32, u32, bool), [u32; 31]>,
    summary: &mut MonthSummary,
) {
    if let Some(entry) = Some(entry).filter(|e| !e.deleted) {
        let person = names.intern(&entry.author);
        let practice = names.intern(&entry.practice);
        match entry.kind {
            Kind::Log | Kind::Skip => {
                let skip = entry.kind == Kind::Skip;
                if YearMonth::of(entry.day) == month {
                    groups.entry((person, practice, skip)).or_insert([0; 31])
                        [entry.day.day0() as usize] += 1;
                } else {
                    summary.strays.push(Stray {
                        person,
                        practice,
                        skip,
                        day: entry.day,
                    });
                }
                if !skip && entry.practice == REPAIR {
                    summary.repairs.push(RepairRecord {
                        person,
                        day: entry.day,
                        took: entry.took_minutes,
                    });
                }
            }
            Kind::Pause => summary.pauses.push(PauseRecord {
                person,
                practice,
                from: entry.day,
                until: entry.until.unwrap_or(entry.day).max(entry.day),
            }),
        }
    }
}

/// Turn per-day tallies into the compact groups of a summary.
fn encode_groups(
    groups: BTreeMap<(u32, u32, bool), [u32; 31]>,
    mut summary: MonthSummary,
) -> MonthSummary {
    summary.groups.clear();
    summary.counts.clear();
    for ((person, practice, skip), per_day) in groups {
        let mask = (0..31)
            .filter(|day| per_day[*day] > 0)
            .fold(0u32, |m, day| m | 1 << day);
        let counts = if per_day.iter().all(|n| *n <= 1) {
            None
        } else {
            let at = u32::try_from(summary.counts.len()).expect("a month has few entries");
            summary.counts.extend(per_day.iter().filter(|n| **n > 0));
            Some(at)
        };
        summary.groups.push(Group {
            person,
            practice,
            skip,
            mask,
            counts,
        });
    }
    summary
}

/// The lock every writer of `cache/` holds, beside the cache file: saves
/// happen under it one at a time, so a temporary file there while it is
/// held is a dead writer's.
fn writing(dir: &DataDir) -> Result<fs::File> {
    file::ensure_dir(&dir.cache_dir())?;
    let path = dir.cache_dir().join(".lock");
    let handle = file::open_lock_file(&path)?;
    handle.lock().map_err(|e| Error::io("lock", &path, e))?;
    Ok(handle)
}

/// Remove what a writer of the cache killed mid-save left, if no save is
/// under way now (the next save removes it otherwise).
pub(super) fn remove_stale(dir: &DataDir) {
    let cache = dir.cache_dir();
    let Ok(listing) = fs::read_dir(&cache) else {
        return;
    };
    if !listing
        .flatten()
        .any(|item| file::is_temporary(&item.file_name()))
    {
        return;
    }
    let Ok(handle) = file::open_lock_file(&cache.join(".lock")) else {
        return;
    };
    if handle.try_lock().is_ok() {
        file::remove_stale(&cache, file::is_temporary);
    }
}

/// Replace the cache file atomically (a temporary file renamed over it).
/// Unlike the journal's files it is not flushed to disk first: a crash can
/// at worst leave a torn cache, which the checksum turns away, and skipping
/// the flush keeps `safe log` as quick on ten years as on one day.
fn write_quietly(path: &Path, bytes: &[u8]) -> Result<()> {
    file::stage(path, bytes)?
        .persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    Ok(())
}

fn day_number(day: NaiveDate) -> i64 {
    i64::from(day.num_days_from_ce())
}

fn from_day_number(n: i64) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(i32::try_from(n).ok()?)
}

/// A 64-bit checksum, eight bytes at a time: enough to tell a damaged
/// cache from a whole one (it guards against accidents, not attacks).
fn checksum(bytes: &[u8]) -> u64 {
    let mix = |hash: u64, word: u64| {
        let h = (hash ^ word).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        h ^ (h >> 29)
    };
    let mut chunks = bytes.chunks_exact(8);
    let mut hash = chunks
        .by_ref()
        .fold(0x243f_6a88_85a3_08d3 ^ bytes.len() as u64, |h, c| {
            mix(h, u64::from_le_bytes(c.try_into().expect("eight bytes")))
        });
    let mut tail = [0u8; 8];
    tail[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    hash = mix(hash, u64::from_le_bytes(tail));
    mix(hash, 0)
}

/// Append `n` as an unsigned LEB128 varint.
fn put(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// Append a signed number, zigzag-encoded so small negatives stay small.
fn put_signed(out: &mut Vec<u8>, n: i64) {
    put(out, ((n << 1) ^ (n >> 63)) as u64);
}

/// Reads what `put` wrote; every method is `None` past the end or on
/// nonsense, so damaged bytes can never panic or allocate wildly.
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Option<u8> {
        let (first, rest) = self.bytes.split_first()?;
        self.bytes = rest;
        Some(*first)
    }

    fn flag(&mut self) -> Option<bool> {
        match self.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.bytes.split_at_checked(n)?;
        self.bytes = rest;
        Some(head)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn signed(&mut self) -> Option<i64> {
        let n = self.varint()?;
        Some(((n >> 1) as i64) ^ -((n & 1) as i64))
    }

    /// A length: never more than the bytes left, so a damaged length cannot
    /// make a huge allocation.
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n <= self.bytes.len()).then_some(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rev::Rev;
    use std::io::Write;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn entry(author: &str, kind: Kind, practice: &str, day: &str) -> Entry {
        Entry {
            id: uuid::Uuid::now_v7(),
            kind,
            practice: practice.into(),
            day: d(day),
            until: (kind == Kind::Pause).then(|| d(day) + chrono::Days::new(3)),
            at: format!("{day}T12:00:00+00:00").parse().unwrap(),
            author: author.into(),
            note: Some("a note, which the cache never keeps".into()),
            took_minutes: (practice == REPAIR).then_some(90),
            rev: Rev {
                ms: 1,
                c: 0,
                by: author.into(),
            },
            deleted: false,
            extra: Default::default(),
        }
    }

    fn write(dir: &DataDir, side: Side, month: &str, entries: Vec<Entry>) {
        let lock = dir.lock().unwrap();
        let mut doc = MonthFile {
            entries,
            ..MonthFile::default()
        };
        let mut batch = lock.batch();
        dir.write_month(side, month.parse().unwrap(), &mut doc, &mut batch)
            .unwrap();
        batch.commit().unwrap();
    }

    /// A journal of two people over two months, with every kind of entry.
    fn journal() -> (tempfile::TempDir, DataDir) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = DataDir::new(tmp.path().to_path_buf());
        let mut gone = entry("a", Kind::Log, "check-in", "2026-10-02");
        gone.deleted = true;
        let mut many = vec![
            entry("a", Kind::Log, "appreciation", "2026-10-30"),
            entry("a", Kind::Log, "appreciation", "2026-10-31"),
            entry("a", Kind::Log, "appreciation", "2026-10-31"),
            entry("b", Kind::Log, "gentle-touch", "2026-10-31"),
            entry("a", Kind::Pause, "*", "2026-10-01"),
            entry("a", Kind::Pause, "date", "2026-10-10"),
            gone,
        ];
        // More than 255 on one day: counts too wide for a byte.
        many.extend((0..300).map(|_| entry("b", Kind::Log, "turn-toward", "2026-10-05")));
        write(&dir, Side::Shared, "2026-10", many);
        write(
            &dir,
            Side::Shared,
            "2026-11",
            vec![
                entry("a", Kind::Log, "appreciation", "2026-11-01"),
                entry("a", Kind::Skip, "appreciation", "2026-11-02"),
                entry("b", Kind::Log, REPAIR, "2026-11-02"),
                // Filed in the wrong month (by hand, say): it still counts.
                entry("a", Kind::Log, "appreciation", "2026-09-15"),
            ],
        );
        write(
            &dir,
            Side::Private,
            "2026-11",
            vec![
                entry("a", Kind::Log, "date", "2026-11-01"),
                entry("b", Kind::Log, "date", "2026-11-03"),
            ],
        );
        (tmp, dir)
    }

    /// A time when every file above is old enough to be trusted.
    fn later() -> SystemTime {
        SystemTime::now() + Duration::from_secs(60)
    }

    fn fresh(dir: &DataDir) -> Cache {
        let mut cache = Cache::default();
        cache.refresh_at(dir, later()).unwrap();
        cache
    }

    /// Everything `a` may see, every month decoded.
    fn all(cache: &Cache) -> DayIndex {
        whole(cache).index("a", Scope::Everything, None)
    }

    fn whole(cache: &Cache) -> Cache {
        let mut cache = cache.clone();
        assert!(cache.decode_from(None), "every saved month decodes");
        cache
    }

    #[test]
    fn the_index_holds_the_live_days() {
        let (_tmp, dir) = journal();
        let index = all(&fresh(&dir));
        let a = index.person("a");
        let appreciation = &a.logged["appreciation"];
        assert_eq!(
            appreciation.days,
            vec![
                d("2026-09-15"),
                d("2026-10-30"),
                d("2026-10-31"),
                d("2026-11-01")
            ]
        );
        assert_eq!(appreciation.counts, vec![1, 1, 2, 1]);
        assert!(
            !a.logged.contains_key("check-in"),
            "tombstones are not days"
        );
        assert_eq!(a.skipped["appreciation"], vec![d("2026-11-02")]);
        assert_eq!(a.paused.len(), 2);
        assert_eq!(
            a.paused[0],
            Pause {
                practice: "*".into(),
                from: d("2026-10-01"),
                until: d("2026-10-04")
            }
        );
        assert_eq!(
            a.logged["date"].days,
            vec![d("2026-11-01")],
            "my private entries are mine"
        );
        assert_eq!(
            a.active,
            vec![
                d("2026-09-15"),
                d("2026-10-30"),
                d("2026-10-31"),
                d("2026-11-01")
            ]
        );
        let b = index.person("b");
        assert!(
            !b.logged.contains_key("date"),
            "a private file shows only my entries"
        );
        assert_eq!(b.logged["turn-toward"].counts, vec![300]);
        assert_eq!(
            b.repairs,
            vec![Repair {
                day: d("2026-11-02"),
                took_minutes: Some(90)
            }]
        );
        assert_eq!(
            b.active,
            vec![d("2026-10-05"), d("2026-10-31"), d("2026-11-02")]
        );
    }

    #[test]
    fn smaller_scopes_agree_with_everything() {
        let (_tmp, dir) = journal();
        let cache = fresh(&dir);
        let everything = all(&cache);
        let mine = cache.index("a", Scope::Mine, None);
        assert_eq!(mine.person("a"), everything.person("a"));
        let (b_all, b_mine) = (everything.person("b"), mine.person("b"));
        assert!(b_mine.logged.is_empty(), "of my partner, only whole days");
        assert_eq!(
            (&b_mine.active, &b_mine.repairs),
            (&b_all.active, &b_all.repairs)
        );

        let one = cache.index("a", Scope::Practice("date"), None);
        let a = one.person("a");
        assert_eq!(a.logged.keys().collect::<Vec<_>>(), ["date"]);
        assert_eq!(a.logged["date"], everything.person("a").logged["date"]);
        // Both pauses bridge `date`: the one of everything and its own.
        assert_eq!(a.paused, everything.person("a").paused);
        assert!(!one.people.contains_key("b"));
        assert_eq!(
            cache.index("a", Scope::Practice("no-such-thing"), None),
            DayIndex::default()
        );
    }

    #[test]
    fn encoding_round_trips() {
        let (_tmp, dir) = journal();
        let cache = fresh(&dir);
        let back = Cache::decode(cache.encode()).expect("decodes");
        assert_eq!(back.months.len(), cache.months.len());
        for (key, record) in &cache.months {
            assert_eq!(back.months[key].identity, record.identity, "{key:?}");
            // Pauses and strays come decoded; the days wait.
            assert_eq!(back.months[key].summary.pauses, record.summary.pauses);
            assert_eq!(back.months[key].summary.strays, record.summary.strays);
            assert!(!back.months[key].whole);
        }
        for me in ["a", "b"] {
            assert_eq!(
                whole(&back).index(me, Scope::Everything, None),
                cache.index(me, Scope::Everything, None)
            );
        }
        assert_eq!(back.encode(), cache.encode());
        assert_eq!(whole(&back).encode(), cache.encode());
    }

    #[test]
    fn damaged_bytes_are_refused() {
        let (_tmp, dir) = journal();
        let bytes = fresh(&dir).encode();
        let decode = |bytes: &[u8]| Cache::decode(bytes.to_vec());
        assert!(decode(&bytes).is_some());
        for cut in [0, 5, HEADER, bytes.len() / 2, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_none(), "truncated at {cut}");
        }
        for at in [
            0,
            9,
            17,
            HEADER,
            HEADER + 3,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            let mut bad = bytes.clone();
            bad[at] ^= 0x5a;
            assert!(decode(&bad).is_none(), "flipped byte {at}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_none());
        assert!(decode(b"garbage").is_none());
    }

    /// Days that will not decode (a checksum can be fooled, in principle)
    /// are read again from their month file, never made up.
    #[test]
    fn saved_days_that_do_not_decode_are_read_again() {
        let (_tmp, dir) = journal();
        let want = all(&fresh(&dir));
        let mut cache = fresh(&dir);
        cache.save(&dir).unwrap();
        let mut loaded = Cache::load(&dir);
        let key = ("2026-10".parse().unwrap(), Side::Shared);
        // Cut the record's days short, as a bad write might.
        let saved = loaded.months[&key].saved.clone().unwrap();
        let mut file = loaded.file.to_vec();
        file[saved.days] = 200; // more groups than there are bytes
        loaded.file = Arc::new(file);
        let index = loaded
            .index_from(&dir, "a", Scope::Everything, None)
            .unwrap();
        assert_eq!(index, want);
        assert!(loaded.months[&key].whole);
    }

    /// Saving changes only what changed: the file is patched in place, and
    /// reads back as a cache built afresh.
    #[test]
    fn a_save_patches_the_file_in_place() {
        let (_tmp, dir) = journal();
        let mut cache = fresh(&dir);
        cache.save(&dir).unwrap();
        let before = fs::metadata(Cache::path(&dir)).unwrap();
        let mut cache = Cache::load(&dir);
        write(
            &dir,
            Side::Private,
            "2026-11",
            vec![entry("a", Kind::Log, "listen", "2026-11-07")],
        );
        cache.refresh_at(&dir, later()).unwrap();
        assert!(cache.dirty);
        cache.save(&dir).unwrap();
        let after = fs::metadata(Cache::path(&dir)).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            assert_eq!(before.ino(), after.ino(), "patched, not replaced");
        }
        let reloaded = Cache::load(&dir);
        assert!(reloaded.file_identity.is_some(), "the patched file decodes");
        assert_eq!(all(&reloaded), all(&fresh(&dir)));
        assert_eq!(
            all(&reloaded).person("a").logged["listen"].days,
            vec![d("2026-11-07")]
        );
        // A file replaced since it was loaded is not patched but rewritten.
        let mut stale = Cache::load(&dir);
        fs::write(Cache::path(&dir), b"someone else's").unwrap();
        stale.dirty = true;
        stale.save(&dir).unwrap();
        assert_eq!(all(&Cache::load(&dir)), all(&fresh(&dir)));
    }

    /// An index from a month on holds that month's days and later ones,
    /// and every pause and misfiled entry, however old.
    #[test]
    fn an_index_from_a_month_keeps_old_pauses() {
        let (_tmp, dir) = journal();
        fresh(&dir).save(&dir).unwrap();
        let mut cache = Cache::load(&dir);
        let since: YearMonth = "2026-11".parse().unwrap();
        let index = cache
            .index_from(&dir, "a", Scope::Practice("appreciation"), Some(since))
            .unwrap();
        assert!(!cache.months[&("2026-10".parse().unwrap(), Side::Shared)].whole);
        let a = index.person("a");
        // 2026-09-15 is filed in November's file; October's days are out.
        assert_eq!(
            a.logged["appreciation"].days,
            vec![d("2026-09-15"), d("2026-11-01")]
        );
        // October's pause of everything still bridges.
        assert_eq!(a.paused.len(), 1);
        assert_eq!(a.paused[0].from, d("2026-10-01"));
    }

    /// `safe log` of a practice without a goal refreshes nothing, yet the
    /// cache must learn the months it appended to (an entry, a private
    /// note), so the next log can splice into them again.
    #[test]
    fn own_appends_are_kept_without_a_refresh() {
        let (_tmp, dir) = journal();
        fresh(&dir).save(&dir).unwrap();
        let mut cache = Cache::load(&dir);
        let month: YearMonth = "2026-11".parse().unwrap();
        let lock = dir.lock().unwrap();
        let mut batch = lock.batch();
        let new = entry("a", Kind::Log, "listen", "2026-11-20");
        dir.append(
            Side::Shared,
            month,
            Some(&new),
            None,
            &mut batch,
            Some(&cache),
        )
        .unwrap();
        let note = crate::domain::month::PrivateNote {
            id: new.id,
            note: "kept here".into(),
            rev: new.rev.clone(),
            extra: Default::default(),
        };
        dir.append(Side::Private, month, None, Some(&note), &mut batch, None)
            .unwrap();
        batch.commit().unwrap();
        cache.keep_own_changes(&dir);
        for side in [Side::Shared, Side::Private] {
            let meta = fs::metadata(dir.month_path(side, month)).unwrap();
            assert!(cache.vouches_for(side, month, &meta), "{side:?}");
        }
        cache.save(&dir).unwrap();
        let saved = all(&Cache::load(&dir));
        assert_eq!(saved, all(&fresh(&dir)));
        assert_eq!(
            saved.person("a").logged["listen"].days,
            vec![d("2026-11-20")]
        );
    }

    #[test]
    fn a_damaged_cache_file_is_rebuilt() {
        let (_tmp, dir) = journal();
        let want = all(&fresh(&dir));
        fs::create_dir_all(dir.cache_dir()).unwrap();
        fs::write(Cache::path(&dir), b"\x00\x01garbage").unwrap();
        assert_eq!(day_index(&dir, "a", Scope::Everything).unwrap(), want);
    }

    #[test]
    fn a_month_changed_behind_its_back_is_read_again() {
        let (_tmp, dir) = journal();
        let mut cache = fresh(&dir);
        cache.dirty = false;
        let path = dir.month_path(Side::Shared, "2026-11".parse().unwrap());
        let before = fs::metadata(&path).unwrap();
        // Same size, same modification time, same inode: only the content
        // (and the change time, which no one can set) differs.
        let text = fs::read_to_string(&path)
            .unwrap()
            .replace("\"appreciation\"", "\"check-in\"    ");
        assert_eq!(text.len() as u64, before.len());
        std::thread::sleep(Duration::from_millis(20));
        let mut handle = fs::OpenOptions::new().write(true).open(&path).unwrap();
        handle.write_all(text.as_bytes()).unwrap();
        handle.set_modified(before.modified().unwrap()).unwrap();
        drop(handle);
        cache.refresh_at(&dir, later()).unwrap();
        assert_eq!(all(&cache), all(&fresh(&dir)));
        assert_eq!(
            all(&cache).person("a").logged["check-in"].days,
            vec![d("2026-09-15"), d("2026-11-01")]
        );
        assert!(cache.dirty);
    }

    #[test]
    fn vanished_months_are_dropped_and_new_ones_read() {
        let (_tmp, dir) = journal();
        let mut cache = fresh(&dir);
        fs::remove_file(dir.month_path(Side::Shared, "2026-10".parse().unwrap())).unwrap();
        write(
            &dir,
            Side::Shared,
            "2026-09",
            vec![entry("b", Kind::Log, "listen", "2026-09-09")],
        );
        cache.refresh_at(&dir, later()).unwrap();
        assert_eq!(all(&cache), all(&fresh(&dir)));
        assert!(
            !all(&cache).person("a").logged["appreciation"]
                .days
                .contains(&d("2026-10-30"))
        );
    }

    /// When the last month file was written (or its inode changed).
    fn cache_months_written(dir: &DataDir) -> SystemTime {
        let mut latest = 0;
        for side in [Side::Shared, Side::Private] {
            for (_, _, identity) in month_files(dir, side).unwrap() {
                let identity = identity.unwrap();
                latest = latest.max(identity.mtime_ns.max(identity.ctime_ns));
            }
        }
        UNIX_EPOCH + Duration::from_nanos(latest as u64)
    }

    #[test]
    fn files_that_just_changed_are_not_remembered() {
        let (_tmp, dir) = journal();
        // As another process would see them: not written by this one.
        WRITTEN.lock().unwrap().retain(|w| w.root != dir.root());
        let mut cache = Cache::default();
        // A moment after the last of them was written.
        let written = cache_months_written(&dir);
        cache
            .refresh_at(&dir, written + Duration::from_millis(1))
            .unwrap();
        assert!(cache.months.values().all(|r| !r.trusted));
        assert!(!cache.dirty, "nothing worth saving");
        cache.refresh_at(&dir, later()).unwrap();
        assert!(cache.months.values().all(|r| r.trusted));
        cache.save(&dir).unwrap();
        assert_eq!(all(&Cache::load(&dir)), all(&cache));
    }

    #[test]
    fn a_bad_month_is_reported_as_history_reports_it() {
        let (_tmp, dir) = journal();
        let path = dir.month_path(Side::Shared, "2026-11".parse().unwrap());
        fs::write(&path, b"{\"schema\": 1, \"entries\": [}").unwrap();
        let err = Cache::default().refresh(&dir).unwrap_err();
        assert!(err.to_string().contains("line 1, column"), "{err}");
        fs::write(&path, b"{\"schema\": 9, \"entries\": []}").unwrap();
        let err = Cache::default().refresh(&dir).unwrap_err();
        assert!(err.to_string().contains("format 9"), "{err}");
    }

    #[test]
    fn a_month_this_process_wrote_is_not_parsed_again() {
        let (_tmp, dir) = journal();
        let month: YearMonth = "2026-11".parse().unwrap();
        let lock = dir.lock().unwrap();
        let mut doc = dir.read_month(Side::Shared, month).unwrap();
        doc.entries
            .push(entry("a", Kind::Log, "listen", "2026-11-20"));
        let mut batch = lock.batch();
        dir.write_month(Side::Shared, month, &mut doc, &mut batch)
            .unwrap();
        batch.commit().unwrap();
        // What was written is what the cache sees, without a parse: a
        // different summary remembered for the same file proves it.
        let mut remembered = doc.clone();
        remembered
            .entries
            .push(entry("a", Kind::Log, "mirror", "2026-11-21"));
        remember_written(&dir, Side::Shared, month, &remembered)();
        let index = all(&fresh(&dir));
        assert!(index.person("a").logged.contains_key("mirror"));
        // Once the file changes, the remembered summary no longer applies.
        std::thread::sleep(Duration::from_millis(20));
        let mut batch = lock.batch();
        dir.write_month(Side::Shared, month, &mut doc, &mut batch)
            .unwrap();
        batch.commit().unwrap();
        let index = all(&fresh(&dir));
        assert!(!index.person("a").logged.contains_key("mirror"));
        assert_eq!(
            index.person("a").logged["listen"].days,
            vec![d("2026-11-20")]
        );
    }

    #[test]
    fn varints_round_trip() {
        let mut out = Vec::new();
        let values = [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX];
        for v in values {
            put(&mut out, v);
        }
        let signed = [0i64, -1, 1, -64, 64, i64::MIN, i64::MAX];
        for s in signed {
            put_signed(&mut out, s);
        }
        let mut r = Reader { bytes: &out };
        for v in values {
            assert_eq!(r.varint(), Some(v));
        }
        for s in signed {
            assert_eq!(r.signed(), Some(s));
        }
        assert!(r.bytes.is_empty());
    }
}
