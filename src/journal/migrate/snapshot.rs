//! The snapshot of my partner's schema-1 records: what my copy held of
//! everyone but me when I migrated, kept read-only until each person's own
//! migration batch arrives (docs/protocol.md "Migration from schema 1").

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{OP_PREFIX, remove_file, sync_dir};
use crate::domain::entry::Entry;
use crate::domain::fold::{self, PersonId};
use crate::domain::practice::{CustomPractice, GoalSetting};
use crate::error::{Error, Result};
use crate::store::{Lock, file};

/// The partner's schema-1 records, relative to the data directory.
pub const SNAPSHOT: &str = "schema1/snapshot.json";
/// The snapshot format this version reads and writes.
pub const SNAPSHOT_FORMAT: u64 = 1;

/// The records of everyone but me, as my schema-1 copy held them. Read
/// only: nothing changes it but [`Snapshot::drop_person`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub format: u64,
    /// My schema-1 id: whose copy this was taken from.
    pub taken_by: String,
    /// By schema-1 person id.
    pub people: BTreeMap<String, SnapshotPerson>,
}

/// One schema-1 person's records, in their schema-1 shapes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotPerson {
    pub name: Option<String>,
    /// Live entries only, each with its shared note.
    pub entries: Vec<Entry>,
    pub goals: Vec<GoalSetting>,
    /// Custom practices this person added.
    pub practices: Vec<CustomPractice>,
}

impl Snapshot {
    pub fn path(root: &Path) -> PathBuf {
        root.join(SNAPSHOT)
    }

    /// The snapshot of the data directory at `root`; `None` if it has none.
    /// A newer format is refused with "upgrade safe"; a file that does not
    /// read is named.
    pub fn load(root: &Path) -> Result<Option<Snapshot>> {
        let path = Snapshot::path(root);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        #[derive(Deserialize)]
        struct Probe {
            format: u64,
        }
        match serde_json::from_slice::<Probe>(&bytes) {
            Ok(p) if p.format > SNAPSHOT_FORMAT => {
                return Err(Error::newer_schema(&path, p.format, SNAPSHOT_FORMAT));
            }
            _ => {}
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::corrupt(&path, &e))
    }

    /// Drop everything of the schema-1 person `schema1_id`, once their own
    /// migration batch has arrived; the file goes with its last person.
    /// Returns whether they were in the snapshot.
    pub fn drop_person(root: &Path, schema1_id: &str, lock: &Lock) -> Result<bool> {
        let Some(mut snapshot) = Snapshot::load(root)? else {
            return Ok(false);
        };
        if snapshot.people.remove(schema1_id).is_none() {
            return Ok(false);
        }
        if snapshot.people.is_empty() {
            let path = Snapshot::path(root);
            remove_file(&path)?;
            sync_dir(path.parent().expect("the snapshot lives in a folder"));
        } else {
            snapshot.save(root, lock)?;
        }
        Ok(true)
    }

    pub(super) fn save(&self, root: &Path, _lock: &Lock) -> Result<()> {
        file::write_atomic(&Snapshot::path(root), &file::to_text(self))
    }
}

/// The schema-1 ids whose `schema1-<id>` operation is in the history of a
/// person other than `me`: their own records have arrived, signed, so
/// their part of the snapshot can go ([`Snapshot::drop_person`]).
pub fn replaced_people(state: &fold::Journal, me: &PersonId) -> Vec<String> {
    let mut ids: Vec<String> = state
        .history
        .iter()
        .filter(|(person, _)| *person != me)
        .flat_map(|(_, ops)| ops)
        .filter_map(|op| op.op.strip_prefix(OP_PREFIX))
        .map(str::to_string)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}
