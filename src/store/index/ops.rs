//! What `safe undo` and `safe redo` ask of the index, so that neither
//! reads the whole journal (DESIGN.md §6): which operation to take back
//! or apply again, which versions that operation wrote, and what each key
//! held before it.
//!
//! `versions` keeps only winners, so the index also keeps `history`: the
//! place (stamp and operation) of every version the fold takes, one row a
//! line, without the record itself (the segment holds it, signed). Like
//! the rest of the index it is derived: a property test checks it against
//! the lines fed to it, as `domain::fold` takes them.

use rusqlite::{OptionalExtension, Transaction, params};

use super::{Index, cached, fail_db, sql_int};
use crate::domain::fold::{Line, OpState};
use crate::domain::record::{Record, Rev};
use crate::error::Result;

pub const SCHEMA: &str = "
-- Every version the fold takes (entries, removals, notes, names, goals,
-- practices), by owner, register and key, with the operation that wrote it.
CREATE TABLE history (
  owner TEXT NOT NULL, reg TEXT NOT NULL, key TEXT NOT NULL,
  ms INTEGER NOT NULL, c INTEGER NOT NULL, device TEXT NOT NULL, seq INTEGER NOT NULL,
  op TEXT NOT NULL,
  PRIMARY KEY (owner, reg, key, ms, c, device, seq)
) WITHOUT ROWID;
";

/// Made with the tables, or after a bulk build has filled them.
pub const INDEXES: &str = "
CREATE INDEX history_by_op ON history (owner, op);
";

/// Where a line stands among the versions of its key, as the fold ranks
/// them: rev, then device id, then seq.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub rev: Rev,
    pub device: String,
    pub seq: u64,
}

/// One version of a record, as `history` keeps it: which register and key
/// it is a version of (`versions`' names), where it is, and its operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    pub reg: String,
    pub key: String,
    pub stamp: Stamp,
    pub op: String,
}

/// One operation of the undo history, with where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpAt {
    pub op: String,
    /// The stamp of its first line.
    pub first: Stamp,
    pub state: OpState,
}

/// Keep the place of `line`, a version of `key` in register `reg` that the
/// fold takes (checked, and not too far ahead).
pub(super) fn keep(
    tx: &Transaction<'_>,
    line: &Line<'_>,
    record: &Record,
    reg: &str,
    key: &str,
    rev: Rev,
) -> Result<()> {
    if !record.is_change() {
        return Ok(());
    }
    cached(
        tx,
        "INSERT OR IGNORE INTO history (owner, reg, key, ms, c, device, seq, op)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            line.owner,
            reg,
            key,
            sql_int(rev.ms),
            rev.c,
            line.device,
            sql_int(line.seq),
            line.op
        ],
    )
    .map_err(|e| fail_db(&e))?;
    Ok(())
}

impl Index {
    /// The operation of `owner`'s that `safe undo` takes back: the newest
    /// that is not undone.
    pub fn undo_target(&self, owner: &str) -> Result<Option<OpAt>> {
        let mut back = self.back_to_not_undone(owner)?;
        Ok(back.pop().filter(|op| op.state != OpState::Undone))
    }

    /// The operation of `owner`'s that `safe redo` applies again: the one
    /// undone last, as long as every operation after it is undone too (a
    /// new change ends the chance). Undos walk backwards from the end, so
    /// the one undone last is the earliest of the trailing undone run.
    pub fn redo_target(&self, owner: &str) -> Result<Option<OpAt>> {
        let back = self.back_to_not_undone(owner)?;
        Ok(back
            .into_iter()
            .take_while(|op| op.state == OpState::Undone)
            .last())
    }

    /// `owner`'s operations from the newest back, in the order and with
    /// the state of the fold's undo history, up to and including the first
    /// that is not undone: only as far as undo and redo look.
    fn back_to_not_undone(&self, owner: &str) -> Result<Vec<OpAt>> {
        let read = || -> rusqlite::Result<Vec<OpAt>> {
            let mut statement = self.db.prepare_cached(
                "SELECT o.op, o.ms, o.c, o.device, o.seq, m.value FROM ops o
                 LEFT JOIN versions m ON m.reg = 'mark' AND m.owner = o.owner AND m.key = o.op
                 WHERE o.owner = ?1 AND o.changes = 1 AND o.marks = 0
                 ORDER BY o.ms DESC, o.c DESC, o.device DESC, o.seq DESC, o.op DESC",
            )?;
            let mut rows = statement.query([owner])?;
            let mut out = Vec::new();
            while let Some(row) = rows.next()? {
                let state = match row.get::<_, Option<String>>(5)?.as_deref() {
                    Some("\"Undo\"") => OpState::Undone,
                    Some("\"Redo\"") => OpState::Redone,
                    _ => OpState::Done,
                };
                let op = OpAt {
                    op: row.get(0)?,
                    first: Stamp {
                        rev: Rev {
                            ms: row.get::<_, i64>(1)? as u64,
                            c: row.get(2)?,
                        },
                        device: row.get(3)?,
                        seq: row.get::<_, i64>(4)? as u64,
                    },
                    state,
                };
                let done = op.state != OpState::Undone;
                out.push(op);
                if done {
                    break;
                }
            }
            Ok(out)
        };
        read().map_err(|e| self.fail(e))
    }

    /// The versions `owner`'s operation `op` wrote, in stamp order.
    pub fn versions_of_op(&self, owner: &str, op: &str) -> Result<Vec<Kept>> {
        let read = || -> rusqlite::Result<Vec<Kept>> {
            let mut found: Vec<Kept> = self
                .db
                .prepare_cached(
                    "SELECT reg, key, ms, c, device, seq, op FROM history
                     WHERE owner = ?1 AND op = ?2",
                )?
                .query_map(params![owner, op], kept)?
                .collect::<rusqlite::Result<_>>()?;
            found.sort_by(|a, b| a.stamp.cmp(&b.stamp));
            Ok(found)
        };
        read().map_err(|e| self.fail(e))
    }

    /// The newest version of `owner`'s key `key` in register `reg` (as
    /// `versions` names them) whose stamp is below `below`.
    pub fn version_before(
        &self,
        owner: &str,
        reg: &str,
        key: &str,
        below: &Stamp,
    ) -> Result<Option<Kept>> {
        self.db
            .prepare_cached(
                "SELECT reg, key, ms, c, device, seq, op FROM history
                 WHERE owner = ?1 AND reg = ?2 AND key = ?3
                   AND (ms, c, device, seq) < (?4, ?5, ?6, ?7)
                 ORDER BY ms DESC, c DESC, device DESC, seq DESC LIMIT 1",
            )
            .and_then(|mut s| {
                s.query_row(
                    params![
                        owner,
                        reg,
                        key,
                        sql_int(below.rev.ms),
                        below.rev.c,
                        below.device,
                        sql_int(below.seq)
                    ],
                    kept,
                )
                .optional()
            })
            .map_err(|e| self.fail(e))
    }
}

fn kept(r: &rusqlite::Row<'_>) -> rusqlite::Result<Kept> {
    Ok(Kept {
        reg: r.get(0)?,
        key: r.get(1)?,
        stamp: Stamp {
            rev: Rev {
                ms: r.get::<_, i64>(2)? as u64,
                c: r.get(3)?,
            },
            device: r.get(4)?,
            seq: r.get::<_, i64>(5)? as u64,
        },
        op: r.get(6)?,
    })
}

/// The checks the property test of the index makes of `history`: what
/// undo and redo ask of it is what the lines say, as the fold takes them.
#[cfg(test)]
pub(super) mod check {
    use proptest::prelude::*;

    use super::*;
    use crate::domain::fold::{AHEAD_MS, fold};

    /// The register and key of a version the fold at `now_ms` takes from
    /// `line`, with its stamp.
    fn version(line: &Line<'_>, now_ms: u64) -> Option<(&'static str, String, Stamp)> {
        let record = line.rec.as_ref().ok()?;
        record.check().ok()?;
        let rev = record.rev()?;
        if rev.ms > now_ms.saturating_add(AHEAD_MS) {
            return None;
        }
        let (reg, key) = match record {
            Record::Entry(r) => ("entry", r.id.to_string()),
            Record::Remove(r) => ("entry", r.id.to_string()),
            Record::Note(r) => ("note", r.id.to_string()),
            Record::Name(_) => ("name", String::new()),
            Record::Goal(r) => ("goal", r.practice.clone()),
            Record::Practice(r) => ("practice", r.id.clone()),
            _ => return None,
        };
        let stamp = Stamp {
            rev,
            device: line.device.to_string(),
            seq: line.seq,
        };
        Some((reg, key, stamp))
    }

    /// For each of `owners`: the undo and redo targets are those of the fold's
    /// history; each operation's versions are its lines' versions; and the
    /// version of each key before each operation is the newest line of
    /// that key below the operation's first stamp.
    pub fn same_as_the_lines(
        index: &Index,
        lines: &[Line<'_>],
        now_ms: u64,
        owners: &[&str],
    ) -> std::result::Result<(), TestCaseError> {
        let journal = fold(lines, now_ms);
        let versions: Vec<(&Line<'_>, (&str, String, Stamp))> = lines
            .iter()
            .filter_map(|l| Some((l, version(l, now_ms)?)))
            .collect();
        for &owner in owners {
            let history = journal.history.get(owner).cloned().unwrap_or_default();
            let undo = history.iter().rev().find(|op| op.state != OpState::Undone);
            let trailing: Vec<_> = history
                .iter()
                .rev()
                .take_while(|op| op.state == OpState::Undone)
                .collect();
            let redo = trailing.last();
            let found = index.undo_target(owner).unwrap();
            prop_assert_eq!(
                found.as_ref().map(|o| (&o.op, o.first.rev)),
                undo.map(|o| (&o.op, o.rev))
            );
            let found = index.redo_target(owner).unwrap();
            prop_assert_eq!(
                found.as_ref().map(|o| (&o.op, o.first.rev)),
                redo.map(|o| (&o.op, o.rev))
            );
            for op in &history {
                let mut expected: Vec<(String, String, Stamp)> = versions
                    .iter()
                    .filter(|(l, _)| l.owner == owner && l.op == op.op)
                    .map(|(_, (reg, key, stamp))| (reg.to_string(), key.clone(), stamp.clone()))
                    .collect();
                expected.sort_by(|a, b| a.2.cmp(&b.2));
                expected.dedup();
                let kept: Vec<(String, String, Stamp)> = index
                    .versions_of_op(owner, &op.op)
                    .unwrap()
                    .into_iter()
                    .map(|k| (k.reg, k.key, k.stamp))
                    .collect();
                prop_assert_eq!(&kept, &expected);
                let first = versions
                    .iter()
                    .filter(|(l, _)| l.owner == owner && l.op == op.op)
                    .map(|(_, (_, _, stamp))| stamp.clone())
                    .min();
                let Some(first) = first else { continue };
                for (reg, key, _) in &expected {
                    let before = versions
                        .iter()
                        .filter(|(l, (r, k, s))| {
                            l.owner == owner && r == reg && k == key && *s < first
                        })
                        .map(|(l, (_, _, s))| (s.clone(), l.op.to_string()))
                        .max();
                    let found = index
                        .version_before(owner, reg, key, &first)
                        .unwrap()
                        .map(|k| (k.stamp, k.op));
                    prop_assert_eq!(found, before);
                }
            }
        }
        Ok(())
    }
}
