//! The daily `seen` line (DESIGN.md §4 "Steps"; docs/protocol.md "Seen
//! marks"): once a day, a syncing device writes, in its own shared log, the
//! seq and payload hash of the last line of every shared log it holds. My
//! partner's copy of my marks tells "as of" how recent my data there is,
//! and a mark that names more of a log than a reader holds proves that the
//! remote withheld it.

use chrono::{DateTime, FixedOffset, NaiveDate};

use super::Journal;
use crate::domain::record::{Hex32, MAX_SEEN_LOGS, Record, Rev, SeenRecord};
use crate::error::Result;
use crate::keys::DeviceId;
use crate::keys::line::LogKind;
use crate::store::{Lock, segment};

/// A log that a device's `seen` mark says it held further than this
/// device holds it after a sync.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withheld {
    /// The person whose device wrote the mark, and the device.
    pub by: String,
    pub by_device: DeviceId,
    /// The person whose log it is, and its device.
    pub owner: String,
    pub log: DeviceId,
    /// How far the mark says the log went, and how far it goes here.
    pub seq: u64,
    pub held: u64,
    /// When the mark was written (its rev), in ms since the epoch.
    pub at_ms: u64,
}

impl Journal {
    /// Write this device's `seen` line, as a batch of its own, unless one
    /// was written on `today` (in the time zone of `offset`) already; a
    /// device that is not (or no longer) in the journal writes none. Whether
    /// one was written.
    pub fn mark_seen(
        &mut self,
        wall_ms: u64,
        today: NaiveDate,
        offset: FixedOffset,
        lock: &Lock,
    ) -> Result<bool> {
        let me = &self.identity.device;
        let member = self.roster.members.get(me);
        if member.is_none_or(|m| m.until.is_some()) {
            return Ok(false);
        }
        let state = self.registers()?;
        let last_day = state
            .seen
            .get(me.as_str())
            .and_then(|s| DateTime::from_timestamp_millis(i64::try_from(s.rev.ms).ok()?))
            .map(|at| at.with_timezone(&offset).date_naive());
        if last_day.is_some_and(|day| day >= today) {
            return Ok(false);
        }
        let record = Record::Seen(SeenRecord {
            logs: self.held_logs()?,
            rev: Rev::default(),
        });
        let op = Self::new_op(wall_ms)?;
        self.write(&op, &[(record, None)], LogKind::Shared, wall_ms, lock)?;
        Ok(true)
    }

    /// The seq and payload hash of the last line of each shared log of the
    /// roster held here, as the index last read them. A log that does not
    /// verify to its end is left out: its trusted end is the journal's
    /// report's business, and a mark names only lines that verify.
    fn held_logs(&self) -> Result<std::collections::BTreeMap<String, (u64, Hex32)>> {
        let log_root = self.root.join("shared").join("log");
        let mut logs = std::collections::BTreeMap::new();
        for device in self.roster.members.keys() {
            let Some(note) = self.indexed.logs.get(&format!("shared/{device}")) else {
                continue;
            };
            if note.damage.is_some() || note.held == 0 {
                continue;
            }
            let last = segment::segment_stats(&log_root, device)?
                .pop()
                .and_then(|s| s.last_payload);
            if let Some(hash) = last {
                logs.insert(device.to_string(), (note.held, Hex32(hash)));
            }
            if logs.len() == MAX_SEEN_LOGS {
                break;
            }
        }
        Ok(logs)
    }

    /// The logs other devices' latest `seen` marks say they held further
    /// than this device now holds them: after a sync, what the remote
    /// withheld. Logs of devices no longer (or never) in the roster, and
    /// logs that do not verify here (reported on their own), are not
    /// judged.
    pub fn withheld(&self) -> Result<Vec<Withheld>> {
        let state = self.registers()?;
        let mut out = Vec::new();
        for (by_device, mark) in &state.seen {
            let Some(by_device) = DeviceId::parse(by_device) else {
                continue;
            };
            if by_device == self.identity.device {
                continue;
            }
            for (log, (seq, _)) in &mark.logs {
                let Some(log) = DeviceId::parse(log) else {
                    continue;
                };
                let Some(member) = self.roster.members.get(&log) else {
                    continue;
                };
                let note = self.indexed.logs.get(&format!("shared/{log}"));
                if member.until.is_some() || note.is_some_and(|n| n.damage.is_some()) {
                    continue;
                }
                let held = note.map_or(0, |n| n.held);
                if held < *seq {
                    out.push(Withheld {
                        by: mark.owner.clone(),
                        by_device: by_device.clone(),
                        owner: member.person.clone(),
                        log,
                        seq: *seq,
                        held,
                        at_ms: mark.rev.ms,
                    });
                }
            }
        }
        Ok(out)
    }
}
