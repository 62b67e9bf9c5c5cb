//! `index/indexed.json`: what the index was last brought up to date with,
//! so that a command whose logs have not changed reads none of them.
//!
//! Who was in the roster, as whom and up to where, when the index was fed;
//! and for every log the index holds, a note of its segments as they were
//! read (a digest of their lengths and last lines), and what the roster and
//! the clock need from it: its `device` and `leave` lines, the highest rev of
//! its used lines, where it stopped being trusted. Like the index, it is
//! derived and rebuilt when in doubt. It is bound to the index: the index
//! keeps, in the same transaction as the lines, a mark of this file's
//! length and hash (under its own path, beside the segment marks); a file
//! that does not match that mark is not used, and the index is made again.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::roster::{Roster, TrustLine};
use crate::domain::record::{Hex32, Rev};
use crate::error::{Error, Result};
use crate::keys::line::Hash;
use crate::store::index::{Index, SegmentMark};
use crate::store::segment::SegmentStat;

/// The file's path relative to the data directory: also the key of its
/// mark in the index.
pub const FILE: &str = "index/indexed.json";

/// What the index holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Indexed {
    /// Each trusted device's seat in the roster when the index was fed.
    pub seats: BTreeMap<String, Seat>,
    /// By log: `shared/<device>` or `private/<device>`.
    pub logs: BTreeMap<String, LogNote>,
}

/// A device's place in the roster: whose it is, and up to which line of
/// its shared log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seat {
    pub person: String,
    pub until: Option<u64>,
}

/// Every trusted device's seat.
pub fn seats(roster: &Roster) -> BTreeMap<String, Seat> {
    roster
        .members
        .iter()
        .map(|(device, m)| {
            let seat = Seat {
                person: m.person.clone(),
                until: m.until,
            };
            (device.to_string(), seat)
        })
        .collect()
}

/// One log as the index has read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNote {
    /// The digest of its segments' stats when it was read.
    pub digest: Hex32,
    /// How many of its lines were trusted.
    pub held: u64,
    /// Its `device` and `leave` lines (shared logs only).
    pub trust: Vec<TrustLine>,
    /// The highest rev of its used lines (0 for none).
    pub clock: Rev,
    /// Where it stopped being trusted, if it did.
    pub damage: Option<Damage>,
    /// The payload hash of each of its lines that a removal names.
    pub hashes: BTreeMap<u64, Hex32>,
}

/// The first file of a log that failed (see `store::segment::Quarantine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Damage {
    /// Relative to the data directory.
    pub path: PathBuf,
    /// The line, from 1; `None` when the whole file failed.
    pub line: Option<usize>,
    /// What failed, as the segment store words it.
    pub why: String,
}

/// The digest of a log's segment stats, by path relative to its log root:
/// it changes when a segment is added, grows, shrinks or gets another last
/// line.
pub fn digest(log_root: &Path, stats: &[SegmentStat]) -> Hash {
    let mut h = Sha256::new();
    for stat in stats {
        let path = stat.path.strip_prefix(log_root).unwrap_or(&stat.path);
        h.update(path.to_string_lossy().as_bytes());
        h.update(b"\0");
        h.update(stat.len.to_be_bytes());
        match stat.last_payload {
            Some(hash) => h.update(hash),
            None => h.update(b"-"),
        }
    }
    h.finalize().into()
}

impl Indexed {
    /// Whether lines fed under these seats still stand under `now`: every
    /// device kept its person and its cut. Devices may have joined (their
    /// logs are fed whole); anything else makes the index again.
    pub fn seats_hold(&self, now: &BTreeMap<String, Seat>) -> bool {
        self.seats
            .iter()
            .all(|(device, seat)| now.get(device) == Some(seat))
    }

    /// The file that `index` was fed with, if it is still there as it was;
    /// `None` otherwise, and then the index is made again.
    pub fn load(root: &Path, index: &Index) -> Result<Option<Indexed>> {
        let path = root.join(FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        if index.segment(FILE)? != Some(mark(&bytes)) {
            return Ok(None);
        }
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// Write the file and return the mark the index must keep of it, in
    /// the same transaction as the lines it describes. No flush: a file
    /// lost in a crash no longer matches the mark, and the index is made
    /// again.
    pub fn save(&self, root: &Path) -> Result<SegmentMark> {
        let path = root.join(FILE);
        let bytes = serde_json::to_vec(self).expect("notes serialise");
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options
            .open(&path)
            .and_then(|mut f| f.write_all(&bytes))
            .map_err(|e| Error::io("write", &path, e))?;
        Ok(mark(&bytes))
    }
}

fn mark(bytes: &[u8]) -> SegmentMark {
    SegmentMark {
        len: bytes.len() as u64,
        last_hash: Sha256::digest(bytes).into(),
    }
}
