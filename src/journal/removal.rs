//! Removing a device of mine, or my partner (DESIGN.md §4 "Removing";
//! docs/protocol.md "Roster"): one batch of `leave` lines in this device's
//! shared log, each naming a removed device's last line this device
//! accepted. The roster then uses none of that device's later lines, and
//! the next sync seals a new epoch to the devices that remain.

use std::path::Path;

use super::Journal;
use super::reading::log_root;
use crate::domain::fold::PersonId;
use crate::domain::record::{Hex32, LeaveRecord, Record};
use crate::error::{Error, Result};
use crate::keys::DeviceId;
use crate::keys::line::{LogKind, payload_hash};
use crate::store::{Lock, segment};

/// What a removal takes out of the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removal {
    /// The person whose devices go: mine, or my partner.
    pub person: PersonId,
    /// Each device removed, with the last line of its shared log used.
    pub devices: Vec<(DeviceId, u64)>,
}

/// The removal of my device whose id starts with `prefix` (as
/// `safe device list` prints it). Not this device (another of mine removes
/// it), nor a partner's (that is `safe partner remove`), nor one removed
/// already.
pub fn my_device(journal: &Journal, prefix: &str) -> Result<Removal> {
    let me = journal.me().ok_or_else(not_in_the_journal)?.to_string();
    let prefix = prefix.trim().to_ascii_lowercase();
    if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::input(format!(
            "`{}` is not a device id",
            crate::render::sanitize::sanitize_line(&prefix)
        ))
        .with_hint("`safe device list` prints the ids of your devices"));
    }
    let roster = journal.roster();
    let found: Vec<_> = roster
        .members
        .iter()
        .filter(|(d, _)| d.as_str().starts_with(&prefix))
        .collect();
    let (device, member) = match found.as_slice() {
        [one] => *one,
        [] => {
            return Err(Error::input(format!(
                "no device of this journal has an id starting `{prefix}`"
            ))
            .with_hint("`safe device list` prints the ids of your devices"));
        }
        many => {
            let ids: Vec<String> = many.iter().map(|(d, _)| super::pair::short(d)).collect();
            return Err(Error::input(format!(
                "`{prefix}` starts the ids of {} devices: {}",
                many.len(),
                ids.join(", ")
            ))
            .with_hint("type more of the id"));
        }
    };
    if member.person != me {
        return Err(Error::input(format!(
            "device {} is your partner's, not yours",
            super::pair::short(device)
        ))
        .with_hint("`safe partner remove` ends the couple: all of your partner's devices"));
    }
    if *device == journal.identity().device {
        return Err(Error::input("that is this device").with_hint(
            "remove it from another of your devices (`safe device remove` there); or just stop \
             using this data directory",
        ));
    }
    if member.until.is_some() {
        return Err(Error::input(format!(
            "device {} was removed already",
            super::pair::short(device)
        )));
    }
    Ok(Removal {
        person: me,
        devices: vec![(device.clone(), 0)],
    })
}

/// The removal of my partner: every device of theirs not removed yet.
pub fn partner(journal: &Journal) -> Result<Removal> {
    let me = journal.me().ok_or_else(not_in_the_journal)?.to_string();
    let roster = journal.roster();
    let person = roster
        .members
        .values()
        .map(|m| m.person.clone())
        .find(|p| *p != me)
        .ok_or_else(|| Error::input("no partner is paired with this journal"))?;
    let devices: Vec<(DeviceId, u64)> = roster
        .members
        .iter()
        .filter(|(_, m)| m.person == person && m.until.is_none())
        .map(|(d, _)| (d.clone(), 0))
        .collect();
    if devices.is_empty() {
        return Err(
            Error::input("your partner was removed from this journal already")
                .with_hint("`safe sync --remote NEW_URL` moves your journal to a fresh remote"),
        );
    }
    Ok(Removal { person, devices })
}

/// Write the removal: one batch of `leave` lines, each naming the removed
/// device's last line this device holds and trusts (its seq and payload
/// hash; seq 0 and a hash of zeros when none arrived). Returns the removal
/// with those seqs.
pub fn write(
    journal: &mut Journal,
    root: &Path,
    removal: &Removal,
    wall_ms: u64,
    lock: &Lock,
) -> Result<Removal> {
    let journal_id = journal.identity().journal.clone();
    let mut records = Vec::new();
    let mut done = Removal {
        person: removal.person.clone(),
        devices: Vec::new(),
    };
    for (device, _) in &removal.devices {
        let member = journal.roster().members.get(device).ok_or_else(|| {
            Error::runtime(format!("device {device} is no longer in the journal"))
        })?;
        let log = segment::read_log(
            &log_root(root, LogKind::Shared),
            device,
            &member.key,
            &journal_id,
            LogKind::Shared,
        )?;
        let (last_seq, last_hash) = match log.lines.last() {
            Some(line) => (line.seq, payload_hash(&line.payload)),
            None => (0, [0; 32]),
        };
        records.push((
            Record::Leave(LeaveRecord {
                device: device.to_string(),
                last_seq,
                last_hash: Hex32(last_hash),
            }),
            None,
        ));
        done.devices.push((device.clone(), last_seq));
    }
    let op = Journal::new_op(wall_ms)?;
    journal.write(&op, &records, LogKind::Shared, wall_ms, lock)?;
    Ok(done)
}

fn not_in_the_journal() -> Error {
    Error::runtime("this device is not in the journal (yet, or any more)")
        .with_hint("if you ran `safe join`, run `safe sync` once the inviting device has synced")
}
