//! Reading a few of a person's lines where the index says they are, for
//! `safe undo` and `safe redo`: the versions one operation wrote and those
//! it replaced, without reading (or folding) every log (DESIGN.md §6).
//!
//! Each line is read from the one segment that holds it, and that segment
//! is verified in itself: its lines are chained and a signature of the
//! device's key closes them. A line the index places is one it was fed
//! from a verified log, so this only guards against a segment changed
//! since; the full check of every log stays with the refresh and sync.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::reading::log_root;
use super::{Journal, OwnLine, strip};
use crate::domain::record::Record;
use crate::error::{Error, Result};
use crate::keys::line::{self, ChainHead, Hash, LogKind, NoteSidecar};
use crate::keys::{DeviceId, unhex};
use crate::store::index::ops::{Kept, OpAt, Stamp};
use crate::store::segment;

/// A verified line of one segment: its seq, its record's JSON, its sidecar.
struct SegmentLine {
    seq: u64,
    op: String,
    rec: String,
    sidecar: Option<String>,
}

impl Journal {
    /// The operation of `person`'s that `safe undo` takes back.
    pub fn undo_target(&self, person: &str) -> Result<Option<OpAt>> {
        self.index()?.undo_target(person)
    }

    /// The operation of `person`'s that `safe redo` applies again.
    pub fn redo_target(&self, person: &str) -> Result<Option<OpAt>> {
        self.index()?.redo_target(person)
    }

    /// The lines of `person`'s operation `op` that wrote a version, in
    /// stamp order.
    pub fn lines_of_op(&self, person: &str, op: &str) -> Result<Vec<OwnLine>> {
        let kept = self.index()?.versions_of_op(person, op)?;
        self.lines_at(person, &kept)
    }

    /// For each key (a register and key as the index names them), the line
    /// of `person`'s newest version of it below `below`, where there is one.
    pub fn lines_before(
        &self,
        person: &str,
        keys: &[(&str, String)],
        below: &Stamp,
    ) -> Result<Vec<OwnLine>> {
        let index = self.index()?;
        let mut kept = Vec::new();
        for (reg, key) in keys {
            kept.extend(index.version_before(person, reg, key, below)?);
        }
        self.lines_at(person, &kept)
    }

    /// `person`'s lines at the places `kept` names, read afresh: each from
    /// its device's shared log, or from this device's private log (the one
    /// whose line there carries the version's rev). A shared note comes
    /// from the line's sidecar, or, once cut, from my stash of my own.
    fn lines_at(&self, person: &str, kept: &[Kept]) -> Result<Vec<OwnLine>> {
        let me = self.me() == Some(person);
        let mut segments: BTreeMap<PathBuf, Vec<SegmentLine>> = BTreeMap::new();
        // The segment each log was last read at, by (private, device): the
        // versions come in stamp order, so the next is most often in it,
        // and finding a segment walks the log's folders from the newest
        // (an operation of a million lines, undone, once walked them for
        // every line).
        let mut last: BTreeMap<(bool, String), PathBuf> = BTreeMap::new();
        let mut stash: Option<BTreeMap<(String, u64), String>> = None;
        let mut out = Vec::new();
        for version in kept {
            let missing = || {
                Error::runtime(format!(
                    "line {} of device {} is in the index but not in its log",
                    version.stamp.seq, version.stamp.device
                ))
                .with_hint("the index is derived: delete the index folder and safe rebuilds it from the logs")
            };
            let device = DeviceId::parse(&version.stamp.device).ok_or_else(missing)?;
            let member = self
                .roster
                .members
                .get(&device)
                .filter(|m| m.person == person)
                .ok_or_else(missing)?;
            let mut kinds = vec![LogKind::Shared];
            if me && device == self.identity.device {
                kinds.insert(0, LogKind::Private);
            }
            let mut found = None;
            for kind in kinds {
                let log = (kind == LogKind::Private, device.to_string());
                let seq = version.stamp.seq;
                let held = |path: &PathBuf| line_at(&segments[path], seq).is_some();
                let path = match last.get(&log).filter(|p| held(p)) {
                    Some(path) => path.clone(),
                    None => {
                        let root = log_root(&self.root, kind);
                        let Some(path) = segment_of(&root, &device, seq)? else {
                            continue;
                        };
                        path
                    }
                };
                if !segments.contains_key(&path) {
                    let lines = read_verified(&path, &device, &member.key)?;
                    segments.insert(path.clone(), lines);
                }
                last.insert(log, path.clone());
                let hit = line_at(&segments[&path], seq).and_then(|l| {
                    let rec = Record::parse(&l.rec).ok()?;
                    (rec.rev() == Some(version.stamp.rev)).then_some((l, rec))
                });
                if let Some((l, rec)) = hit {
                    found = Some((kind, l.op.clone(), rec, l.sidecar.clone()));
                    break;
                }
            }
            let (kind, op, rec, sidecar) = found.ok_or_else(missing)?;
            let note = match &rec {
                Record::Entry(e) => match &e.h {
                    Some(h) => {
                        let opened = sidecar.and_then(|s| NoteSidecar::open(&s, &h.0));
                        match opened {
                            Some(note) => Some(note),
                            None if me => {
                                if stash.is_none() {
                                    stash = Some(strip::stashed(&self.root)?);
                                }
                                stash
                                    .as_ref()
                                    .and_then(|s| s.get(&(device.to_string(), version.stamp.seq)))
                                    .and_then(|s| NoteSidecar::open(s, &h.0))
                            }
                            None => None,
                        }
                    }
                    None => None,
                },
                _ => None,
            };
            out.push(OwnLine {
                device: device.to_string(),
                seq: version.stamp.seq,
                op,
                rec,
                note,
                private: kind == LogKind::Private,
            });
        }
        Ok(out)
    }
}

/// The line `seq` among a segment's verified lines (in seq order).
fn line_at(lines: &[SegmentLine], seq: u64) -> Option<&SegmentLine> {
    lines
        .binary_search_by_key(&seq, |l| l.seq)
        .ok()
        .map(|i| &lines[i])
}

/// The segment of `device`'s log under `root` that holds `seq`, if any.
fn segment_of(root: &Path, device: &DeviceId, seq: u64) -> Result<Option<PathBuf>> {
    segment::segment_holding(root, device, seq)
}

/// The lines of the segment at `path` that verify in it: chained from its
/// first line, up to the last line a signature of `key` closes.
fn read_verified(
    path: &Path,
    device: &DeviceId,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<Vec<SegmentLine>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len > crate::domain::limits::MAX_FILE_BYTES {
        return Ok(Vec::new());
    }
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let text = String::from_utf8_lossy(&bytes);
    // Only complete lines: a torn end is what a crash leaves.
    let complete = text.rfind('\n').map_or("", |at| &text[..at]);
    let mut raw = Vec::new();
    for piece in complete.split('\n') {
        match line::split(piece) {
            Ok(r) => raw.push(r),
            Err(_) => break,
        }
    }
    let Some(first) = raw.first() else {
        return Ok(Vec::new());
    };
    let Ok(header) = line::header(first.payload) else {
        return Ok(Vec::new());
    };
    let Some(prev) = unhex(&header.prev).and_then(|b| Hash::try_from(b).ok()) else {
        return Ok(Vec::new());
    };
    let start = ChainHead {
        next_seq: header.seq,
        prev,
    };
    let checked = line::verify_chain(&raw, device, key, start, |_| false);
    let mut out = Vec::new();
    for r in &raw[..checked.trusted] {
        let Ok(header) = line::header(r.payload) else {
            break;
        };
        out.push(SegmentLine {
            seq: header.seq,
            op: header.op.into_owned(),
            rec: header.rec.get().to_string(),
            sidecar: r.sidecar.map(str::to_string),
        });
    }
    Ok(out)
}
