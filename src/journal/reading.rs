//! Reading a journal's logs for one refresh of the index, or for one fold
//! of everything: which logs to read (the roster's, worked out to a fixed
//! point as logs of newly trusted devices are read), each verified by the
//! segment store, and which of their lines the index has not seen yet.
//!
//! A log whose segments are as the index last read them (see
//! [`Indexed`](super::indexed::Indexed)) is not read at all: its note says
//! what the roster and the clock need from it.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;

use super::indexed::{self, Damage, LogNote};
use super::roster::{self, Anchor, Roster, TrustLine, TrustLogs};
use crate::domain::fold::{Line, PersonId};
use crate::domain::record::{Hex32, Record};
use crate::error::Result;
use crate::keys::DeviceId;
use crate::keys::line::{Hash, LogKind, payload_hash};
use crate::store::index::{Index, SegmentMark};
use crate::store::segment::{self, Segment};

/// Where a device's logs of one kind live under a data directory.
pub fn log_root(root: &Path, kind: LogKind) -> PathBuf {
    match kind {
        LogKind::Shared => root.join("shared").join("log"),
        LogKind::Private => root.join("private").join("log"),
    }
}

/// A log's name in the notes: `shared/<device>` or `private/<device>`.
pub fn log_key(kind: LogKind, device: &DeviceId) -> String {
    let kind = match kind {
        LogKind::Shared => "shared",
        LogKind::Private => "private",
    };
    format!("{kind}/{device}")
}

/// A log that is used, and as whose.
pub struct Used {
    pub key: String,
    pub kind: LogKind,
    pub device: DeviceId,
    pub device_key: VerifyingKey,
    pub person: PersonId,
    /// Only lines up to this seq are used (a removed device).
    pub until: Option<u64>,
}

/// A log read from disk and verified just now.
pub struct Fresh {
    pub device: DeviceId,
    pub log: segment::Log,
    /// Each trusted line's record, read once.
    pub recs: Vec<Result<Record, String>>,
    pub segments: Vec<Segment>,
    pub digest: Hash,
    pub trust: Vec<TrustLine>,
}

impl Fresh {
    fn read(
        root: &Path,
        kind: LogKind,
        device: &DeviceId,
        key: &VerifyingKey,
        journal: &str,
    ) -> Result<Fresh> {
        let log_root = log_root(root, kind);
        // Taken before reading: a change while reading shows next time.
        let digest = indexed::fingerprint(&log_root, device)?;
        let log = segment::read_log(&log_root, device, key, journal, kind)?;
        let segments = segment::segments(&log_root, device)?;
        let recs: Vec<Result<Record, String>> =
            log.lines.iter().map(|l| Record::parse(l.rec())).collect();
        // Only the shared log speaks for the roster: every device of the
        // journal holds it, so every device decides alike.
        let trust = match kind {
            LogKind::Shared => log
                .lines
                .iter()
                .zip(&recs)
                .filter_map(|(line, rec)| match rec {
                    Ok(rec) if TrustLine::concerns(rec) => Some(TrustLine {
                        seq: line.seq,
                        rec: rec.clone(),
                    }),
                    _ => None,
                })
                .collect(),
            LogKind::Private => Vec::new(),
        };
        Ok(Fresh {
            device: device.clone(),
            log,
            recs,
            segments,
            digest,
            trust,
        })
    }

    /// The payload hash of line `seq`, if it is trusted here.
    fn hash_at(&self, seq: u64) -> Option<Hash> {
        let index = usize::try_from(seq.checked_sub(1)?).ok()?;
        self.log.lines.get(index).map(|l| payload_hash(&l.payload))
    }

    /// How many of its lines are used: all trusted ones up to `until`.
    pub fn used(&self, until: Option<u64>) -> usize {
        let held = self.log.lines.len();
        until.map_or(held, |u| held.min(usize::try_from(u).unwrap_or(usize::MAX)))
    }

    /// Its note for the index, with the hashes of the lines `named` by
    /// removals.
    fn note(&self, root: &Path, until: Option<u64>, named: &[u64]) -> LogNote {
        let clock = self.recs[..self.used(until)]
            .iter()
            .filter_map(|rec| rec.as_ref().ok().and_then(Record::rev))
            .max()
            .unwrap_or_default();
        let damage = self.log.quarantine.as_ref().map(|q| Damage {
            path: q.path.strip_prefix(root).unwrap_or(&q.path).to_path_buf(),
            line: q.line,
            why: q.to_string(),
        });
        LogNote {
            digest: Hex32(self.digest),
            held: self.log.lines.len() as u64,
            trust: self.trust.clone(),
            clock,
            damage,
            hashes: named
                .iter()
                .filter_map(|&seq| Some((seq, Hex32(self.hash_at(seq)?))))
                .collect(),
        }
    }
}

/// The lines of the fresh logs that the index has not seen, and the marks
/// to keep of their segments.
#[derive(Default)]
pub struct Unseen {
    /// By log key: ranges of line indices.
    pub lines: BTreeMap<String, Vec<Range<usize>>>,
    pub marks: Vec<(String, SegmentMark)>,
}

/// The logs one refresh works from.
pub struct Reading<'a> {
    root: &'a Path,
    anchor: &'a Anchor,
    me: &'a DeviceId,
    /// The notes of the index, when it is trusted; `None` reads everything.
    before: Option<&'a BTreeMap<String, LogNote>>,
    /// Logs not read, because their segments are as the index saw them.
    pub kept: BTreeMap<String, LogNote>,
    pub fresh: BTreeMap<String, Fresh>,
}

impl<'a> Reading<'a> {
    pub fn new(
        root: &'a Path,
        anchor: &'a Anchor,
        me: &'a DeviceId,
        before: Option<&'a BTreeMap<String, LogNote>>,
    ) -> Self {
        Reading {
            root,
            anchor,
            me,
            before,
            kept: BTreeMap::new(),
            fresh: BTreeMap::new(),
        }
    }

    /// Make a log available: from its note if its segments have not
    /// changed since the index read them (unless `again`), else read and
    /// verified now.
    fn load(
        &mut self,
        kind: LogKind,
        device: &DeviceId,
        key: &VerifyingKey,
        again: bool,
    ) -> Result<()> {
        let name = log_key(kind, device);
        if self.fresh.contains_key(&name) || (!again && self.kept.contains_key(&name)) {
            return Ok(());
        }
        self.kept.remove(&name);
        if !again && let Some(note) = self.before.and_then(|b| b.get(&name)) {
            let log_root = log_root(self.root, kind);
            if note.digest.0 == indexed::fingerprint(&log_root, device)? {
                self.kept.insert(name, note.clone());
                return Ok(());
            }
        }
        let fresh = Fresh::read(self.root, kind, device, key, &self.anchor.journal)?;
        self.fresh.insert(name, fresh);
        Ok(())
    }

    /// The trust lines of every shared log available.
    fn trust_logs(&self) -> TrustLogs {
        let mut logs = TrustLogs::new();
        let shared = |name: &String| name.starts_with("shared/");
        for (name, note) in self.kept.iter().filter(|(n, _)| shared(n)) {
            if let Some(device) = DeviceId::parse(&name["shared/".len()..]) {
                logs.insert(device, note.trust.clone());
            }
        }
        for (_, fresh) in self.fresh.iter().filter(|(n, _)| shared(n)) {
            logs.insert(fresh.device.clone(), fresh.trust.clone());
        }
        logs
    }

    fn hash_at(&self, device: &DeviceId, seq: u64) -> Option<Hash> {
        let name = log_key(LogKind::Shared, device);
        if let Some(fresh) = self.fresh.get(&name) {
            return fresh.hash_at(seq);
        }
        self.kept.get(&name)?.hashes.get(&seq).map(|h| h.0)
    }

    /// Work out the roster, reading the log of every device it trusts
    /// until no newly trusted device is left unread, and this device's
    /// private log once it is trusted.
    pub fn settle(&mut self) -> Result<Roster> {
        loop {
            let trust = self.trust_logs();
            let roster = roster::decide(self.anchor, &trust, |d, s| self.hash_at(d, s));
            let mut wanted: Vec<(DeviceId, VerifyingKey, bool)> = roster
                .members
                .iter()
                .filter(|(d, _)| !self.has(LogKind::Shared, d))
                .map(|(d, m)| (d.clone(), m.key, false))
                .collect();
            // A removal names a line whose hash the note does not have: read
            // the removed device's log again to check it.
            for (device, seq) in named_by_leaves(&trust) {
                let note = self.kept.get(&log_key(LogKind::Shared, &device));
                let missing = note
                    .is_some_and(|n| (1..=n.held).contains(&seq) && !n.hashes.contains_key(&seq));
                if let (true, Some(member)) = (missing, roster.members.get(&device)) {
                    wanted.push((device, member.key, true));
                }
            }
            if wanted.is_empty() {
                if let Some(member) = roster.members.get(self.me) {
                    let (me, key) = (self.me, member.key);
                    self.load(LogKind::Private, me, &key, false)?;
                }
                return Ok(roster);
            }
            for (device, key, again) in wanted {
                self.load(LogKind::Shared, &device, &key, again)?;
            }
        }
    }

    fn has(&self, kind: LogKind, device: &DeviceId) -> bool {
        let name = log_key(kind, device);
        self.fresh.contains_key(&name) || self.kept.contains_key(&name)
    }

    /// The logs the roster uses: every trusted device's shared log, and
    /// this device's private log (no other device's private log is ever
    /// here to read).
    pub fn used(&self, roster: &Roster) -> Vec<Used> {
        let mut used: Vec<Used> = roster
            .members
            .iter()
            .map(|(device, m)| Used {
                key: log_key(LogKind::Shared, device),
                kind: LogKind::Shared,
                device: device.clone(),
                device_key: m.key,
                person: m.person.clone(),
                until: m.until,
            })
            .collect();
        if let Some(m) = roster.members.get(self.me) {
            used.push(Used {
                key: log_key(LogKind::Private, self.me),
                kind: LogKind::Private,
                device: self.me.clone(),
                device_key: m.key,
                person: m.person.clone(),
                // A removal counts the shared log's seqs; a device's
                // private log is its own until it writes no more.
                until: None,
            });
        }
        used
    }

    /// Read every used log from disk, whatever the notes say.
    pub fn read_all(&mut self, used: &[Used]) -> Result<()> {
        for u in used {
            self.load(u.kind, &u.device, &u.device_key, true)?;
        }
        Ok(())
    }

    /// The notes of the used logs, for the index to keep.
    pub fn notes(&self, used: &[Used]) -> BTreeMap<String, LogNote> {
        let named = named_by_leaves(&self.trust_logs());
        used.iter()
            .filter_map(|u| {
                let note = match (self.kept.get(&u.key), self.fresh.get(&u.key)) {
                    (_, Some(fresh)) => {
                        let seqs: Vec<u64> = named
                            .iter()
                            .filter(|(d, _)| *d == u.device && u.kind == LogKind::Shared)
                            .map(|(_, s)| *s)
                            .collect();
                        fresh.note(self.root, u.until, &seqs)
                    }
                    (Some(note), None) => note.clone(),
                    (None, None) => return None,
                };
                Some((u.key.clone(), note))
            })
            .collect()
    }

    /// Which lines of the fresh used logs `index` has not seen, by the
    /// marks it keeps of each segment; `None` if a segment it read was
    /// replaced or lost lines, and the index must be made again. With no
    /// index, every used line is unseen.
    pub fn unseen(&self, used: &[Used], index: Option<&Index>) -> Result<Option<Unseen>> {
        let mut unseen = Unseen::default();
        for u in used {
            let Some(fresh) = self.fresh.get(&u.key) else {
                continue;
            };
            let held_before = self.before.and_then(|b| b.get(&u.key)).map(|n| n.held);
            if index.is_some() && held_before.is_some_and(|h| (fresh.log.lines.len() as u64) < h) {
                return Ok(None);
            }
            let mut ranges = Vec::new();
            for (i, segment) in fresh.segments.iter().enumerate() {
                let end_seq = fresh.segments.get(i + 1).map(|s| s.first_seq);
                let lines = segment_lines(segment.first_seq, end_seq, fresh.used(u.until));
                let name = self.relative(&segment.path);
                let mark = match index {
                    Some(index) => index.segment(&name)?,
                    None => None,
                };
                let Some(from) = first_unseen(fresh, lines.clone(), mark.as_ref()) else {
                    return Ok(None);
                };
                if from < lines.end {
                    ranges.push(from..lines.end);
                }
                if let Some(last) = lines.clone().last() {
                    let line = &fresh.log.lines[last];
                    let mark = SegmentMark {
                        len: offset_after(fresh, lines.start, last),
                        last_hash: payload_hash(&line.payload),
                    };
                    unseen.marks.push((name, mark));
                }
            }
            unseen.lines.insert(u.key.clone(), ranges);
        }
        Ok(Some(unseen))
    }

    /// The lines to fold, attributed to their persons: the `unseen` ones
    /// of each fresh used log, or all its used lines when `unseen` is
    /// `None`.
    pub fn lines<'r>(&'r self, used: &'r [Used], unseen: Option<&Unseen>) -> Vec<Line<'r>> {
        let mut out = Vec::new();
        for u in used {
            let Some(fresh) = self.fresh.get(&u.key) else {
                continue;
            };
            let ranges = match unseen {
                Some(unseen) => unseen.lines.get(&u.key).cloned().unwrap_or_default(),
                None => std::iter::once(0..fresh.used(u.until)).collect(),
            };
            for i in ranges.into_iter().flatten() {
                let line = &fresh.log.lines[i];
                let line = Line {
                    owner: &u.person,
                    device: fresh.device.as_str(),
                    seq: line.seq,
                    op: &line.op,
                    rec: fresh.recs[i].clone(),
                    note: None,
                }
                .with_sidecar(line.sidecar.as_deref());
                out.push(line);
            }
        }
        out
    }

    fn relative(&self, path: &Path) -> String {
        path.strip_prefix(self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }
}

/// Every (device, seq) a `leave` line names.
fn named_by_leaves(trust: &TrustLogs) -> Vec<(DeviceId, u64)> {
    trust
        .values()
        .flatten()
        .filter_map(|line| match &line.rec {
            Record::Leave(r) => Some((DeviceId::parse(&r.device)?, r.last_seq)),
            _ => None,
        })
        .collect()
}

/// The indices of a segment's used lines: from its first seq to the next
/// segment's, within the first `used` lines of the log.
fn segment_lines(first_seq: u64, next_first: Option<u64>, used: usize) -> Range<usize> {
    let to_index = |seq: u64| usize::try_from(seq - 1).unwrap_or(usize::MAX);
    let start = to_index(first_seq).min(used);
    let end = next_first.map_or(used, |next| to_index(next).min(used));
    start..end.max(start)
}

/// The first of `lines` (a segment's used lines) that the index has not
/// seen, by its mark of the segment: the line after the one that ends
/// where the mark says, with the hash it says. `None` if no line does:
/// the segment is not the one the index read.
fn first_unseen(fresh: &Fresh, lines: Range<usize>, mark: Option<&SegmentMark>) -> Option<usize> {
    let Some(mark) = mark else {
        return Some(lines.start);
    };
    let mut offset = 0;
    for i in lines {
        offset += stored_len(&fresh.log.lines[i]);
        if offset == mark.len {
            return (payload_hash(&fresh.log.lines[i].payload) == mark.last_hash).then_some(i + 1);
        }
        if offset > mark.len {
            return None;
        }
    }
    None
}

/// The byte offset in its segment just past line `last`, the segment's
/// first line being `first`.
fn offset_after(fresh: &Fresh, first: usize, last: usize) -> u64 {
    fresh.log.lines[first..=last].iter().map(stored_len).sum()
}

/// The length of a line as stored: `payload TAB sig [TAB sidecar] LF`,
/// where a signature is 128 hex digits or nothing.
fn stored_len(line: &segment::Line) -> u64 {
    let sig = if line.sig.is_some() { 128 } else { 0 };
    let sidecar = line.sidecar.as_ref().map_or(0, |s| 1 + s.len());
    (line.payload.len() + 1 + sig + sidecar + 1) as u64
}
