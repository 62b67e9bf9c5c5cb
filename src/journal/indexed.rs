//! `index/indexed.json`: what the index was last brought up to date with,
//! so that a command whose logs have not changed reads none of them.
//!
//! Who was in the roster, as whom and up to where, when the index was fed;
//! and for every log the index holds, a note of its segments as they were
//! read (a fingerprint of its folders and last segment), and what the roster and
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
use crate::keys::DeviceId;
use crate::keys::line::Hash;
use crate::store::index::{Index, SegmentMark};

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
    /// The [`fingerprint`] of its files when it was read.
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

/// The fingerprint of a log as it lies on disk, cheap enough to take on
/// every command: the modification time of each of its folders (a segment
/// added, removed or renamed over changes its folder's; a copy that keeps
/// times, such as `cp -a` or a restored backup, keeps them), and
/// the whole content of its last segment (the only one a writer appends
/// to). A closed segment changed in place by another program, same length
/// and all, is not seen here; sync verifies every log it takes, and
/// deleting the index makes the next command read every line again.
pub fn fingerprint(log_root: &Path, device: &DeviceId) -> Result<Hash> {
    let mut h = Sha256::new();
    let device_dir = log_root.join(device.as_str());
    let mut last_folder = None;
    let stamp = |dir: &Path, h: &mut Sha256| -> Result<bool> {
        let meta = match std::fs::symlink_metadata(dir) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(Error::io("read", dir, e)),
        };
        let rel = dir.strip_prefix(log_root).unwrap_or(dir);
        h.update(rel.to_string_lossy().as_bytes());
        h.update(b"\0");
        h.update(times(&meta));
        Ok(meta.is_dir())
    };
    if stamp(&device_dir, &mut h)? {
        for d1 in folders(&device_dir)? {
            stamp(&d1, &mut h)?;
            for d2 in folders(&d1)? {
                stamp(&d2, &mut h)?;
                last_folder = Some(d2);
            }
        }
    }
    if let Some(folder) = last_folder {
        let mut files: Vec<PathBuf> = std::fs::read_dir(&folder)
            .map_err(|e| Error::io("read", &folder, e))?
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .collect();
        files.sort();
        if let Some(last) = files.pop() {
            let bytes = std::fs::read(&last).map_err(|e| Error::io("read", &last, e))?;
            h.update(
                last.strip_prefix(log_root)
                    .unwrap_or(&last)
                    .to_string_lossy()
                    .as_bytes(),
            );
            h.update(b"\0");
            h.update((bytes.len() as u64).to_be_bytes());
            h.update(Sha256::digest(&bytes));
        }
    }
    Ok(h.finalize().into())
}

/// The folders in `dir`, sorted by name.
fn folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io("read", dir, e))?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .collect();
    out.sort();
    Ok(out)
}

/// A folder's modification time, to the nanosecond.
fn times(meta: &std::fs::Metadata) -> [u8; 16] {
    let mut out = [0u8; 16];
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        out[..8].copy_from_slice(&meta.mtime().to_be_bytes());
        out[8..].copy_from_slice(&meta.mtime_nsec().to_be_bytes());
    }
    #[cfg(not(unix))]
    if let Ok(modified) = meta.modified()
        && let Ok(since) = modified.duration_since(std::time::UNIX_EPOCH)
    {
        out[..16].copy_from_slice(&since.as_nanos().to_be_bytes());
    }
    out
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
