//! Who is in the journal: which devices are trusted and to which person
//! each belongs, worked out from the `device` and `leave` lines of the
//! shared logs (DESIGN.md §3 "Ownership is structural", §4 "Pairing" and
//! "Removing"; docs/protocol.md "Roster"). Pure: no disk, no clock.
//!
//! Trust grows only from the root, the device that created the journal:
//! a `device` line counts only in the log of a device already trusted, so
//! a key that appears anywhere else is never read. A record never says
//! whose it is; the roster alone decides, and the fold is told.

use std::collections::BTreeMap;
use std::fmt;

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::domain::fold::PersonId;
use crate::domain::record::{DeviceRecord, LeaveRecord, Record, Role};
use crate::keys::DeviceId;
use crate::keys::line::Hash;

/// What the roster starts from: the journal and its root device, as this
/// data directory's `journal.json` names them, and the device reading it
/// (a partner's removal of *my* devices is never followed here).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Anchor {
    pub journal: String,
    pub root: DeviceId,
    pub root_key: VerifyingKey,
    /// The device whose roster this is.
    pub viewer: DeviceId,
}

/// A `device` or `leave` line of a shared log (other records are no
/// business of the roster's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustLine {
    pub seq: u64,
    pub rec: Record,
}

impl TrustLine {
    /// Whether a record is one the roster reads.
    pub fn concerns(rec: &Record) -> bool {
        matches!(rec, Record::Device(_) | Record::Leave(_))
    }
}

/// The trust lines of each device's verified shared log, in `seq` order.
pub type TrustLogs = BTreeMap<DeviceId, Vec<TrustLine>>;

/// A trusted device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub key: VerifyingKey,
    /// The person whose device it is: the owner of every line it writes.
    pub person: PersonId,
    /// Set once the device is removed: only its lines up to this `seq` are
    /// used, whatever comes after.
    pub until: Option<u64>,
    /// The line that trusted it; `None` for the root.
    pub by: Option<(DeviceId, u64)>,
}

/// The devices of a journal and their persons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roster {
    pub root: DeviceId,
    pub members: BTreeMap<DeviceId, Member>,
    /// Trust lines of trusted logs not followed as written, and why.
    pub refused: Vec<Refusal>,
}

/// A trust line the roster did not follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The device whose log holds the line, and the line.
    pub by: DeviceId,
    pub seq: u64,
    pub why: Refused,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The record breaks a rule of its own (an id that is not its key's).
    Invalid(String),
    /// A `device` line for another journal.
    OtherJournal { device: String },
    /// The key is not an Ed25519 public key.
    NotAKey { device: String },
    /// The device is in the journal already, as another person's.
    Taken { device: DeviceId, person: PersonId },
    /// Only a device of the journal's first person pairs a partner.
    PartnerNotByRoot { device: DeviceId },
    /// The journal has its partner already: one couple.
    SecondPartner { device: DeviceId },
    /// A removal of a device that is not in the journal.
    NotTheirs { device: String },
    /// The partner removed a device of the reader's own person: that ends
    /// the couple on the partner's side only, and changes nothing here.
    PartnerRemovedMine { device: DeviceId },
    /// The removed device's log holds another line at `seq` than the one
    /// the removal accepted: it forked, and none of its lines are used.
    Forked { device: DeviceId, seq: u64 },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {} of the log of device {} ", self.seq, self.by)?;
        match &self.why {
            Refused::Invalid(why) => write!(f, "does not pair a device: {why}"),
            Refused::OtherJournal { device } => {
                write!(f, "pairs device {device} into another journal")
            }
            Refused::NotAKey { device } => {
                write!(f, "gives device {device} a key that is not a key")
            }
            Refused::Taken { device, person } => write!(
                f,
                "pairs device {device}, which is already a device of person {person}"
            ),
            Refused::PartnerNotByRoot { device } => write!(
                f,
                "pairs device {device} as a partner; only the journal's first person pairs a partner"
            ),
            Refused::SecondPartner { device } => write!(
                f,
                "pairs device {device} as a second partner; a journal is one couple"
            ),
            Refused::NotTheirs { device } => write!(
                f,
                "removes device {device}, which is not a device of this journal"
            ),
            Refused::PartnerRemovedMine { device } => write!(
                f,
                "removes your device {device}: your partner ended the couple on their side \
                 (they no longer read what you write, nor send you what they write); your \
                 devices stay yours and keep writing here. `safe partner remove` stops sending \
                 them what you write"
            ),
            Refused::Forked { device, seq } => write!(
                f,
                "removes device {device} after its line {seq}, but the log of that device holds \
                 another line {seq} (a fork); none of its lines are used"
            ),
        }
    }
}

impl Roster {
    /// The person a device belongs to, if it is trusted.
    pub fn person(&self, device: &DeviceId) -> Option<&str> {
        self.members.get(device).map(|m| m.person.as_str())
    }

    /// Whether line `seq` of `device`'s shared log is used.
    pub fn accepts(&self, device: &DeviceId, seq: u64) -> bool {
        self.members
            .get(device)
            .is_some_and(|m| m.until.is_none_or(|until| seq <= until))
    }

    /// The journal's first person: the root device's.
    pub fn root_person(&self) -> &str {
        self.root.as_str()
    }

    /// The partner of the journal's first person, once paired.
    pub fn partner(&self) -> Option<&str> {
        self.members
            .values()
            .map(|m| m.person.as_str())
            .find(|person| *person != self.root_person())
    }
}

/// Work out the roster from the trust lines of every verified shared log.
///
/// `hash_at(device, seq)` is the SHA-256 of the payload of line `seq` of
/// that device's log, if it is held: a removal names the last line it
/// accepted, and a log that holds another line there forked.
///
/// Lines are taken in rounds: the root's log first, then the logs of the
/// devices it trusted, and so on; within a round by device id, within a
/// log by `seq`. So a device trusted by a log that is itself trusted only
/// later still counts (a fixed point), and the first partner paired, in
/// that order, is the one partner. Removals are judged once every reachable
/// device is known; a removal cuts its device's log, which may untrust what
/// that log's later lines trusted, so the rounds run again until nothing is
/// cut further. Cuts only ever add up: a removal once found stands, so the
/// roster never trusts more than any one pass over the logs did, and the
/// answer depends only on the set of lines.
pub fn decide(
    anchor: &Anchor,
    logs: &TrustLogs,
    hash_at: impl Fn(&DeviceId, u64) -> Option<Hash>,
) -> Roster {
    let mut cuts: BTreeMap<DeviceId, u64> = BTreeMap::new();
    loop {
        let mut grown = grow(anchor, logs, &cuts, &hash_at);
        let mut changed = false;
        for (device, cut) in &grown.cuts {
            let held = cuts.get(device).copied();
            if held.is_none_or(|held| *cut < held) {
                cuts.insert(device.clone(), *cut);
                changed = true;
            }
        }
        if !changed {
            for (device, member) in &mut grown.members {
                member.until = cuts.get(device).copied();
            }
            return Roster {
                root: anchor.root.clone(),
                members: grown.members,
                refused: grown.refused,
            };
        }
    }
}

/// One pass of the rounds, with the logs cut where `cuts` says.
struct Grown {
    members: BTreeMap<DeviceId, Member>,
    /// The removals found, as (device, last seq used).
    cuts: Vec<(DeviceId, u64)>,
    refused: Vec<Refusal>,
}

fn grow(
    anchor: &Anchor,
    logs: &TrustLogs,
    cuts: &BTreeMap<DeviceId, u64>,
    hash_at: &impl Fn(&DeviceId, u64) -> Option<Hash>,
) -> Grown {
    let root = Member {
        key: anchor.root_key,
        person: anchor.root.to_string(),
        until: None,
        by: None,
    };
    let mut grown = Grown {
        members: BTreeMap::from([(anchor.root.clone(), root)]),
        cuts: Vec::new(),
        refused: Vec::new(),
    };
    let mut leaves = Vec::new();
    let mut round = vec![anchor.root.clone()];
    while !round.is_empty() {
        round.sort();
        let mut next = Vec::new();
        for writer in &round {
            let until = cuts.get(writer).copied();
            let lines = logs.get(writer).into_iter().flatten();
            for line in lines.filter(|l| until.is_none_or(|until| l.seq <= until)) {
                match &line.rec {
                    Record::Device(r) => match admit(anchor, &grown.members, writer, line.seq, r) {
                        Ok(Some((device, member))) => {
                            grown.members.insert(device.clone(), member);
                            next.push(device);
                        }
                        Ok(None) => {}
                        Err(why) => grown.refused.push(Refusal {
                            by: writer.clone(),
                            seq: line.seq,
                            why,
                        }),
                    },
                    Record::Leave(r) => leaves.push((writer.clone(), line.seq, r)),
                    _ => {}
                }
            }
        }
        round = next;
    }
    for (writer, seq, leave) in leaves {
        let refuse = |why| Refusal {
            by: writer.clone(),
            seq,
            why,
        };
        let viewer = grown.members.get(&anchor.viewer).map(|m| m.person.clone());
        match judge_leave(&grown.members, &writer, viewer.as_deref(), leave, hash_at) {
            Leave::Cut(device, until) => grown.cuts.push((device, until)),
            Leave::Forked(device) => {
                grown.cuts.push((device.clone(), 0));
                let seq = leave.last_seq;
                grown.refused.push(refuse(Refused::Forked { device, seq }));
            }
            Leave::Refused(why) => grown.refused.push(refuse(why)),
        }
    }
    grown
}

/// What a `device` line in `writer`'s log does: trust a new device
/// (`Some`), nothing (the device is already that person's), or nothing
/// for a reason worth telling.
fn admit(
    anchor: &Anchor,
    members: &BTreeMap<DeviceId, Member>,
    writer: &DeviceId,
    seq: u64,
    r: &DeviceRecord,
) -> Result<Option<(DeviceId, Member)>, Refused> {
    let record = Record::Device(r.clone());
    record.check().map_err(Refused::Invalid)?;
    let Some(device) = DeviceId::parse(&r.device) else {
        return Err(Refused::Invalid(format!(
            "`{}` is not a device id",
            r.device
        )));
    };
    if r.journal != anchor.journal {
        return Err(Refused::OtherJournal {
            device: r.device.clone(),
        });
    }
    let Ok(key) = VerifyingKey::from_bytes(&r.key.0) else {
        return Err(Refused::NotAKey {
            device: r.device.clone(),
        });
    };
    let writer_person = &members[writer].person;
    let person = match r.role {
        Role::Mine => writer_person.clone(),
        // A partner is a new person, named after their first device.
        Role::Partner => device.to_string(),
    };
    if let Some(held) = members.get(&device) {
        return if held.person == person {
            Ok(None)
        } else {
            Err(Refused::Taken {
                device,
                person: held.person.clone(),
            })
        };
    }
    if r.role == Role::Partner {
        if writer_person != anchor.root.as_str() {
            return Err(Refused::PartnerNotByRoot { device });
        }
        if members.values().any(|m| m.person != anchor.root.as_str()) {
            return Err(Refused::SecondPartner { device });
        }
    }
    let member = Member {
        key,
        person,
        until: None,
        by: Some((writer.clone(), seq)),
    };
    Ok(Some((device, member)))
}

/// What a `leave` line does.
enum Leave {
    /// The device's lines after this seq are not used.
    Cut(DeviceId, u64),
    /// The device's log forked before the line the removal names: none of
    /// its lines are used.
    Forked(DeviceId),
    Refused(Refused),
}

/// Judge a `leave` line in `writer`'s log. A device of the writer's own
/// person is removed for everyone. A device of the other person is
/// removed for every reader but that person's own devices: the partner
/// ends the couple on their side, and never removes my devices here (the
/// reader is `viewer`, its person if it is in the journal). A removed
/// device whose log holds another line where the removal says it stopped
/// has forked.
fn judge_leave(
    members: &BTreeMap<DeviceId, Member>,
    writer: &DeviceId,
    viewer: Option<&str>,
    r: &LeaveRecord,
    hash_at: &impl Fn(&DeviceId, u64) -> Option<Hash>,
) -> Leave {
    if let Err(why) = Record::Leave(r.clone()).check() {
        return Leave::Refused(Refused::Invalid(why));
    }
    let target = DeviceId::parse(&r.device).and_then(|d| members.get(&d).map(|m| (d, m)));
    let Some((device, member)) = target else {
        return Leave::Refused(Refused::NotTheirs {
            device: r.device.clone(),
        });
    };
    let partners = member.person != members[writer].person;
    if partners && viewer == Some(member.person.as_str()) {
        return Leave::Refused(Refused::PartnerRemovedMine { device });
    }
    let forked =
        r.last_seq >= 1 && hash_at(&device, r.last_seq).is_some_and(|held| held != r.last_hash.0);
    if forked {
        Leave::Forked(device)
    } else {
        Leave::Cut(device, r.last_seq)
    }
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use sha2::{Digest, Sha256};

    use super::*;
    use crate::domain::record::{Hex32, device_id_of};

    const JOURNAL: &str = "0190c0de-7f3a-7c41-9b2e-5d4f3a2b1c0d";

    /// Device `n`: 0 is the root.
    fn key(n: u8) -> VerifyingKey {
        SigningKey::from_bytes(&[n + 1; 32]).verifying_key()
    }

    fn id(n: u8) -> DeviceId {
        DeviceId::of(&key(n))
    }

    /// The payload hash of line `seq` of device `n` in the tests.
    fn line_hash(n: u8, seq: u64) -> Hash {
        Sha256::digest(format!("{n}:{seq}")).into()
    }

    /// What a line of a test log says.
    #[derive(Clone, Copy)]
    enum Say {
        /// `device` line: `n` is a device of mine.
        Mine(u8),
        /// `device` line: `n` is my partner's device.
        Partner(u8),
        /// `leave` line: `n` is removed after its line `seq`.
        Leave(u8, u64),
        /// A `leave` naming a line `n` never wrote there.
        LeaveForked(u8, u64),
        /// A `device` line for another journal.
        Elsewhere(u8),
        /// A `device` line whose id is not its key's.
        Mismatched(u8),
    }

    fn rec(say: Say) -> Record {
        let device = |n: u8, role: Role, journal: &str| {
            Record::Device(DeviceRecord {
                device: id(n).to_string(),
                key: Hex32(key(n).to_bytes()),
                role,
                journal: journal.to_string(),
            })
        };
        let leave = |n: u8, seq: u64, hash: Hash| {
            Record::Leave(LeaveRecord {
                device: id(n).to_string(),
                last_seq: seq,
                last_hash: Hex32(hash),
            })
        };
        match say {
            Say::Mine(n) => device(n, Role::Mine, JOURNAL),
            Say::Partner(n) => device(n, Role::Partner, JOURNAL),
            Say::Leave(n, seq) => leave(n, seq, line_hash(n, seq)),
            Say::LeaveForked(n, seq) => leave(n, seq, [0xee; 32]),
            Say::Elsewhere(n) => device(n, Role::Mine, "another-journal"),
            Say::Mismatched(n) => Record::Device(DeviceRecord {
                device: device_id_of(&Hex32(key(n + 1).to_bytes())),
                key: Hex32(key(n).to_bytes()),
                role: Role::Mine,
                journal: JOURNAL.to_string(),
            }),
        }
    }

    /// The roster as the root device reads it.
    fn run(lines: &[(u8, u64, Say)]) -> Roster {
        run_as(0, lines)
    }

    /// The roster as device `viewer` reads it.
    fn run_as(viewer: u8, lines: &[(u8, u64, Say)]) -> Roster {
        let mut logs = TrustLogs::new();
        for &(writer, seq, say) in lines {
            logs.entry(id(writer))
                .or_default()
                .push(TrustLine { seq, rec: rec(say) });
        }
        let anchor = Anchor {
            journal: JOURNAL.to_string(),
            root: id(0),
            root_key: key(0),
            viewer: id(viewer),
        };
        // Every device holds 10 lines, each hashing as `line_hash` says.
        let hash_at = |device: &DeviceId, seq: u64| {
            let n = (0..20).find(|&n| id(n) == *device)?;
            (seq <= 10).then(|| line_hash(n, seq))
        };
        decide(&anchor, &logs, hash_at)
    }

    /// Each member as (device, the device its person is named after, until).
    fn members(roster: &Roster) -> Vec<(u8, u8, Option<u64>)> {
        let n_of = |text: &str| (0..20).find(|&n| id(n).as_str() == text).unwrap();
        let mut out: Vec<_> = roster
            .members
            .iter()
            .map(|(d, m)| (n_of(d.as_str()), n_of(&m.person), m.until))
            .collect();
        out.sort();
        out
    }

    fn refusals(roster: &Roster) -> Vec<(u8, u64, &'static str)> {
        let n_of = |d: &DeviceId| (0..20).find(|&n| id(n) == *d).unwrap();
        let mut out = roster
            .refused
            .iter()
            .map(|r| {
                let kind = match r.why {
                    Refused::Invalid(_) => "invalid",
                    Refused::OtherJournal { .. } => "other journal",
                    Refused::NotAKey { .. } => "not a key",
                    Refused::Taken { .. } => "taken",
                    Refused::PartnerNotByRoot { .. } => "partner not by root",
                    Refused::SecondPartner { .. } => "second partner",
                    Refused::NotTheirs { .. } => "not theirs",
                    Refused::PartnerRemovedMine { .. } => "partner removed mine",
                    Refused::Forked { .. } => "forked",
                };
                (n_of(&r.by), r.seq, kind)
            })
            .collect::<Vec<_>>();
        out.sort();
        out
    }

    struct Case {
        name: &'static str,
        /// The device reading the roster (0, the root, unless said).
        viewer: u8,
        lines: Vec<(u8, u64, Say)>,
        members: Vec<(u8, u8, Option<u64>)>,
        refused: Vec<(u8, u64, &'static str)>,
    }

    fn check(cases: Vec<Case>) {
        for case in cases {
            let roster = run_as(case.viewer, &case.lines);
            assert_eq!(members(&roster), case.members, "{}: members", case.name);
            assert_eq!(refusals(&roster), case.refused, "{}: refused", case.name);
        }
    }

    #[test]
    fn the_root_is_trusted_and_is_its_own_person() {
        check(vec![Case {
            viewer: 0,
            name: "a journal of one device",
            lines: vec![(0, 1, Say::Mine(0))],
            members: vec![(0, 0, None)],
            refused: vec![],
        }]);
        let roster = run(&[]);
        assert_eq!(roster.root_person(), id(0).as_str());
        assert_eq!(roster.partner(), None);
    }

    #[test]
    fn a_device_line_in_a_trusted_log_trusts_the_device() {
        check(vec![
            Case {
                viewer: 0,
                name: "mine: same person as the writer",
                lines: vec![(0, 2, Say::Mine(1))],
                members: vec![(0, 0, None), (1, 0, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "partner: a new person named after the device",
                lines: vec![(0, 2, Say::Partner(2))],
                members: vec![(0, 0, None), (2, 2, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "the partner's own devices are the partner's",
                lines: vec![(0, 2, Say::Partner(2)), (2, 1, Say::Mine(3))],
                members: vec![(0, 0, None), (2, 2, None), (3, 2, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "another device of the root's person may pair the partner",
                lines: vec![(0, 2, Say::Mine(1)), (1, 1, Say::Partner(2))],
                members: vec![(0, 0, None), (1, 0, None), (2, 2, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "a record that breaks its own rules trusts nothing",
                lines: vec![(0, 2, Say::Mismatched(1)), (0, 3, Say::Elsewhere(3))],
                members: vec![(0, 0, None)],
                refused: vec![(0, 2, "invalid"), (0, 3, "other journal")],
            },
        ]);
    }

    #[test]
    fn only_trusted_logs_add_devices_and_trust_reaches_a_fixed_point() {
        check(vec![
            Case {
                viewer: 0,
                name: "a log no one trusts is not read",
                lines: vec![(9, 1, Say::Mine(8)), (9, 2, Say::Partner(7))],
                members: vec![(0, 0, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "a chain of devices, each trusted by the one before",
                lines: vec![
                    (3, 1, Say::Partner(4)),
                    (1, 1, Say::Mine(3)),
                    (0, 5, Say::Mine(1)),
                ],
                members: vec![(0, 0, None), (1, 0, None), (3, 0, None), (4, 4, None)],
                refused: vec![],
            },
        ]);
    }

    #[test]
    fn one_couple_and_the_partner_is_paired_by_the_first_person() {
        check(vec![
            Case {
                viewer: 0,
                name: "a partner's device cannot pair another partner",
                lines: vec![(0, 2, Say::Partner(2)), (2, 1, Say::Partner(5))],
                members: vec![(0, 0, None), (2, 2, None)],
                refused: vec![(2, 1, "partner not by root")],
            },
            Case {
                viewer: 0,
                name: "a second partner is refused",
                lines: vec![(0, 2, Say::Partner(2)), (0, 3, Say::Partner(5))],
                members: vec![(0, 0, None), (2, 2, None)],
                refused: vec![(0, 3, "second partner")],
            },
            Case {
                viewer: 0,
                name: "the first partner in round order wins, whatever the seqs",
                lines: vec![
                    (0, 1, Say::Mine(1)),
                    (1, 1, Say::Partner(5)),
                    (0, 9, Say::Partner(2)),
                ],
                members: vec![(0, 0, None), (1, 0, None), (2, 2, None)],
                refused: vec![(1, 1, "second partner")],
            },
            Case {
                viewer: 0,
                name: "no one claims another person's device",
                lines: vec![
                    (0, 1, Say::Mine(1)),
                    (0, 2, Say::Partner(2)),
                    (2, 1, Say::Mine(1)),
                    (2, 2, Say::Mine(0)),
                ],
                members: vec![(0, 0, None), (1, 0, None), (2, 2, None)],
                refused: vec![(2, 1, "taken"), (2, 2, "taken")],
            },
        ]);
    }

    #[test]
    fn a_leave_cuts_a_device_of_the_same_person_for_good() {
        check(vec![
            Case {
                viewer: 0,
                name: "lines after the removal are not read",
                lines: vec![
                    (0, 1, Say::Mine(1)),
                    (1, 4, Say::Mine(3)),
                    (0, 2, Say::Leave(1, 3)),
                ],
                members: vec![(0, 0, None), (1, 0, Some(3))],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "a removed device never comes back",
                lines: vec![
                    (0, 1, Say::Mine(1)),
                    (0, 2, Say::Leave(1, 5)),
                    (0, 3, Say::Mine(1)),
                ],
                members: vec![(0, 0, None), (1, 0, Some(5))],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "a removal of a device not in the journal is refused",
                lines: vec![(0, 1, Say::Mine(1)), (0, 2, Say::Leave(9, 0))],
                members: vec![(0, 0, None), (1, 0, None)],
                refused: vec![(0, 2, "not theirs")],
            },
            Case {
                viewer: 0,
                name: "the root can be removed by another device of its person",
                lines: vec![(0, 1, Say::Mine(1)), (1, 1, Say::Leave(0, 4))],
                members: vec![(0, 0, Some(4)), (1, 0, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "what a removed device trusted after its cut is untrusted",
                lines: vec![
                    (0, 1, Say::Mine(1)),
                    (1, 2, Say::Mine(3)),
                    (1, 6, Say::Mine(4)),
                    (3, 1, Say::Leave(1, 4)),
                ],
                members: vec![(0, 0, None), (1, 0, Some(4)), (3, 0, None)],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "removals only add up: two devices that remove each other are both cut",
                lines: vec![
                    (0, 1, Say::Mine(1)),
                    (0, 2, Say::Mine(3)),
                    (1, 5, Say::Leave(3, 2)),
                    (3, 5, Say::Leave(1, 2)),
                ],
                members: vec![(0, 0, None), (1, 0, Some(2)), (3, 0, Some(2))],
                refused: vec![],
            },
            Case {
                viewer: 0,
                name: "a removed device whose log forked is cut to nothing",
                lines: vec![(0, 1, Say::Mine(1)), (0, 2, Say::LeaveForked(1, 3))],
                members: vec![(0, 0, None), (1, 0, Some(0))],
                refused: vec![(0, 2, "forked")],
            },
            Case {
                viewer: 0,
                name: "a removal past what is held cuts there",
                lines: vec![(0, 1, Say::Mine(1)), (0, 2, Say::LeaveForked(1, 30))],
                members: vec![(0, 0, None), (1, 0, Some(30))],
                refused: vec![],
            },
        ]);
    }

    #[test]
    fn a_partner_removal_ends_the_couple_on_the_removers_side_and_never_removes_my_devices() {
        // Person 0 (devices 0 and 1) and partner 2 (devices 2 and 3).
        let couple = [
            (0, 1, Say::Mine(1)),
            (0, 2, Say::Partner(2)),
            (2, 1, Say::Mine(3)),
        ];
        let with = |more: &[(u8, u64, Say)]| [couple.as_slice(), more].concat();
        // 0 removes the partner: for 0's person the partner's devices are
        // cut; what they write after never counts, nor pairs anyone.
        let removed = with(&[
            (0, 3, Say::Leave(2, 4)),
            (0, 4, Say::Leave(3, 2)),
            (2, 6, Say::Mine(5)),
        ]);
        let hostile = with(&[(2, 2, Say::Leave(0, 5)), (2, 3, Say::Leave(1, 3))]);
        check(vec![
            Case {
                name: "my removal of the partner, as my devices read it",
                viewer: 1,
                lines: removed.clone(),
                members: vec![(0, 0, None), (1, 0, None), (2, 2, Some(4)), (3, 2, Some(2))],
                refused: vec![],
            },
            Case {
                name: "the partner's own devices refuse it: I cannot remove their devices there",
                viewer: 3,
                lines: removed,
                members: vec![
                    (0, 0, None),
                    (1, 0, None),
                    (2, 2, None),
                    (3, 2, None),
                    (5, 2, None),
                ],
                refused: vec![
                    (0, 3, "partner removed mine"),
                    (0, 4, "partner removed mine"),
                ],
            },
            Case {
                name: "a hostile partner's removal of my devices changes nothing for me",
                viewer: 0,
                lines: hostile.clone(),
                members: vec![(0, 0, None), (1, 0, None), (2, 2, None), (3, 2, None)],
                refused: vec![
                    (2, 2, "partner removed mine"),
                    (2, 3, "partner removed mine"),
                ],
            },
            Case {
                name: "nor for my other device",
                viewer: 1,
                lines: hostile.clone(),
                members: vec![(0, 0, None), (1, 0, None), (2, 2, None), (3, 2, None)],
                refused: vec![
                    (2, 2, "partner removed mine"),
                    (2, 3, "partner removed mine"),
                ],
            },
            Case {
                name: "on the partner's side, they stop reading me",
                viewer: 3,
                lines: hostile,
                members: vec![(0, 0, Some(5)), (1, 0, Some(3)), (2, 2, None), (3, 2, None)],
                refused: vec![],
            },
        ]);
        // Ending the couple does not free the journal for a second partner.
        let again = run(&with(&[(0, 3, Say::Leave(2, 4)), (0, 4, Say::Partner(5))]));
        assert_eq!(refusals(&again), vec![(0, 4, "second partner")]);
        // The partner cannot become the journal's first person by cutting
        // it: a partner they pair after is still refused on their side.
        let takeover = run_as(
            2,
            &with(&[(2, 2, Say::Leave(0, 5)), (2, 3, Say::Partner(5))]),
        );
        assert_eq!(refusals(&takeover), vec![(2, 3, "partner not by root")]);
        assert_eq!(takeover.person(&id(2)), Some(id(2).as_str()));
    }

    #[test]
    fn a_line_is_accepted_from_a_trusted_device_up_to_its_cut() {
        let cut = run(&[(0, 1, Say::Mine(1)), (0, 2, Say::Leave(1, 3))]);
        assert!(cut.accepts(&id(0), 1_000));
        assert!(cut.accepts(&id(1), 3) && !cut.accepts(&id(1), 4));
        assert!(!cut.accepts(&id(7), 1));
    }
}
