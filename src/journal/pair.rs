//! Pairing a device into a journal, on top of the code exchange
//! (`keys::pairing`) and its carrier (`sync::rendezvous`): what each side
//! checks before it spends a code, and what it writes once the other's
//! offer is verified (DESIGN.md §4 "Pairing"; docs/protocol.md "Joining a
//! journal", where each rule names its test).
//!
//! The inviter grants, the joiner adopts. The inviter's `device` line,
//! signed in its own shared log, is what trusts the joiner, with the role
//! the inviter chose; the joiner learns the journal and its root only from
//! the inviter's offer, verified under the agreed key, and writes
//! `journal.json` for them. Nothing a joiner sends can choose its role.
//!
//! Each side works in three steps so that the data directory's lock is not
//! held while a person walks to the other computer: check and prepare
//! (under the lock), wait at the remote (no lock), then write (under the
//! lock again, re-checking what may have changed).

use std::path::{Path, PathBuf};
use std::time::Duration;

use ed25519_dalek::VerifyingKey;

use super::reading::log_root;
use super::{Identity, Journal, stamp};
use crate::domain::fold::PersonId;
use crate::domain::record::{
    Clock, DeviceRecord, Hex32, NameRecord, NoteRecord, Record, Rev, Role,
};
use crate::error::{Error, Result};
use crate::keys::line::{self, LogKind};
use crate::keys::pairing::{InviteCode, Offer, Side};
use crate::keys::{DeviceId, DeviceKey, hex, safety};
use crate::store::{Lock, file, segment};
use crate::sync::rendezvous::Rendezvous;

/// Where a joiner's own journal goes when it adopts another: one folder
/// per old journal id.
pub const BACKUP_DIR: &str = "backup-before-join";

/// A place to meet at `url`: the rendezvous runs through a scratch git
/// directory of its own inside the data directory, removed when the
/// returned guard drops. Not `sync.git`: the pairing waits without the
/// data directory's lock, and whoever takes that lock clears git's
/// temporary files in `sync.git`.
pub fn meeting_place(root: &Path, url: &str) -> Result<(tempfile::TempDir, Rendezvous)> {
    file::ensure_dir(root)?;
    let scratch = tempfile::Builder::new()
        .prefix(".pairing-")
        .tempdir_in(root)
        .map_err(|e| Error::io("make a scratch folder in", root, e))?;
    let rendezvous = Rendezvous::new(scratch.path(), url)?;
    Ok((scratch, rendezvous))
}

/// The journal of the data directory at `root`, made with this device as
/// its root (and `name` as mine) if it has none; `true` when it was made.
pub fn open_or_create(
    root: &Path,
    name: &str,
    wall_ms: u64,
    lock: &Lock,
) -> Result<(Journal, bool)> {
    if Identity::read(root)?.is_some() {
        return Ok((Journal::open(root, wall_ms, lock)?, false));
    }
    refuse_schema1_logs(root)?;
    Ok((Journal::create(root, name, wall_ms, lock)?, true))
}

fn role_word(role: Role) -> &'static str {
    match role {
        Role::Mine => "mine",
        Role::Partner => "partner",
    }
}

// ---------------------------------------------------------------------------
// The inviter

/// An invitation made and not yet answered: the code, shown once, and the
/// offer that goes to whoever proves they hold it.
pub struct Invitation {
    code: InviteCode,
    role: Role,
    offer: Offer,
}

/// What an accepted invitation wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The device now trusted.
    pub device: DeviceId,
    pub role: Role,
}

impl Invitation {
    /// Check that this device may grant `role` now, and make a fresh code.
    /// A journal is one couple: `partner` is refused once it has one.
    pub fn new(journal: &Journal, role: Role) -> Result<Invitation> {
        check_may_grant(journal, role)?;
        let code = InviteCode::generate()
            .map_err(|e| Error::runtime(format!("could not get random bytes for a code: {e}")))?;
        let identity = journal.identity();
        let offer = Offer {
            side: Side::Inviter,
            device: identity.device.to_string(),
            key: hex(journal.key.public().as_bytes()),
            journal: Some(identity.journal.clone()),
            role: Some(role_word(role).to_string()),
            root_key: Some(hex(identity.root_key.as_bytes())),
        };
        Ok(Invitation { code, role, offer })
    }

    /// The code to show, once, to the person who will join.
    pub fn code(&self) -> &InviteCode {
        &self.code
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// Wait at the remote for a joiner with the code, and return its offer
    /// once the code is confirmed and the offer verified. `wait` sleeps
    /// between looks; `false` cancels.
    pub fn await_joiner(
        &self,
        rendezvous: &Rendezvous,
        wait: &dyn Fn(Duration) -> bool,
    ) -> Result<Offer> {
        let offer = self.offer.clone();
        Ok(rendezvous.invite(&self.code, move || offer, wait)?)
    }

    /// Trust the joiner: one `device` line in this device's shared log,
    /// with the role chosen here, the joiner's id and key, and this
    /// journal's id. The rules are checked again first: the journal may
    /// have changed while it waited.
    pub fn accept(
        self,
        journal: &mut Journal,
        joiner: &Offer,
        wall_ms: u64,
        lock: &Lock,
    ) -> Result<Accepted> {
        journal.refresh(wall_ms, lock)?;
        check_may_grant(journal, self.role)?;
        if self.offer.journal.as_deref() != Some(journal.identity().journal.as_str()) {
            return Err(Error::runtime(
                "this data directory changed journals while the invitation waited, so nothing was paired",
            ));
        }
        let key = (joiner.side == Side::Joiner)
            .then(|| Hex32::parse(&joiner.key))
            .flatten()
            .and_then(|k| VerifyingKey::from_bytes(&k.0).ok())
            .ok_or_else(|| Error::runtime("the joiner's offer holds no key"))?;
        let device = DeviceId::parse(&joiner.device)
            .filter(|d| *d == DeviceId::of(&key))
            .ok_or_else(|| {
                Error::runtime("the joiner's offer names a device that is not its key's")
            })?;
        let key = Hex32(key.to_bytes());
        if journal.roster().members.contains_key(&device) {
            return Err(Error::input(format!(
                "device {} is already in this journal, so nothing was written",
                short(&device)
            )));
        }
        let line = Record::Device(DeviceRecord {
            device: device.to_string(),
            key,
            role: self.role,
            journal: journal.identity().journal.clone(),
        });
        let op = Journal::new_op(wall_ms)?;
        journal.write(&op, &[(line, None)], LogKind::Shared, wall_ms, lock)?;
        Ok(Accepted {
            device,
            role: self.role,
        })
    }
}

/// Whether this device may pair a device with `role` now.
fn check_may_grant(journal: &Journal, role: Role) -> Result<()> {
    let me = &journal.identity().device;
    let roster = journal.roster();
    match roster.members.get(me) {
        None => {
            return Err(not_in_roster_yet());
        }
        Some(member) if member.until.is_some() => {
            return Err(Error::runtime(
                "this device was removed from the journal, so it cannot pair another",
            ));
        }
        Some(_) => {}
    }
    if role == Role::Partner
        && let Some(partner) = roster.partner()
    {
        let who = journal
            .state()?
            .names
            .get(partner)
            .cloned()
            .unwrap_or_else(|| short_text(partner));
        return Err(Error::input(format!(
                "this journal already has a partner ({}): a journal is one couple",
                crate::render::sanitize::sanitize_line(&who)
            ))
            .with_hint(
                "`safe invite --device` pairs another device of yours; `safe partner show` shows who is paired",
            ));
    }
    Ok(())
}

/// What a device that joined but is not trusted yet hears.
fn not_in_roster_yet() -> Error {
    Error::runtime("this device is not in the journal yet").with_hint(
        "if you ran `safe join`, run `safe sync` once the inviting device has synced, \
         so that its pairing line arrives",
    )
}

// ---------------------------------------------------------------------------
// The joiner

/// A join checked and ready: this device's key and the offer it sends.
pub struct Joining {
    key: DeviceKey,
    offer: Offer,
}

/// What a join did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    pub journal: String,
    /// The role the inviter granted, from its verified offer.
    pub role: Role,
    /// The inviting device.
    pub inviter: DeviceId,
    /// Where this data directory's own journal went, if it had one.
    pub backup: Option<PathBuf>,
    /// What of it was written again into the joined journal.
    pub carried: Carried,
}

/// Counts of the records a joiner brought from its own journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Carried {
    pub entries: usize,
    pub private_entries: usize,
    pub notes: usize,
    pub practices: usize,
    pub goals: usize,
}

impl Joining {
    /// Check that the data directory at `root` may join a journal, before
    /// any code is spent, and make its device key if it has none. It may be
    /// new, or hold a journal of its own that no other device is in yet; a
    /// directory already paired with others, or one that joined a journal
    /// already, is refused.
    pub fn prepare(root: &Path, wall_ms: u64, lock: &Lock) -> Result<Joining> {
        check_may_join(root, wall_ms, lock)?;
        let key = DeviceKey::load_or_create(root, lock)?;
        let offer = Offer {
            side: Side::Joiner,
            device: key.id().to_string(),
            key: hex(key.public().as_bytes()),
            journal: None,
            role: None,
            root_key: None,
        };
        Ok(Joining { key, offer })
    }

    pub fn device(&self) -> DeviceId {
        self.key.id()
    }

    /// Run the code through the remote and return the inviter's verified
    /// offer. `wait` sleeps between looks; `false` cancels.
    pub fn await_inviter(
        &self,
        rendezvous: &Rendezvous,
        code: &InviteCode,
        wait: &dyn Fn(Duration) -> bool,
    ) -> Result<Offer> {
        Ok(rendezvous.join(code, &self.offer, wait)?)
    }

    /// Adopt the inviter's journal: `journal.json` names its id and root,
    /// from the inviter's verified offer. A journal this directory held
    /// moves to `backup-before-join/<its id>/`, and my records in it
    /// (live entries with their ids and notes, custom practices, and, for
    /// a partner, my name and goals) are written again, as one operation,
    /// into this device's new logs. A partner also writes its name (from
    /// its old journal, else `name`), so the inviter learns who joined.
    ///
    /// These lines are signed and kept, but read by no one (not even this
    /// device) until the inviter's `device` line arrives by sync; until
    /// then [`Journal::write`] refuses, with a hint to sync.
    pub fn adopt(
        self,
        root: &Path,
        inviter: &Offer,
        name: &str,
        wall_ms: u64,
        lock: &Lock,
    ) -> Result<Joined> {
        let grant = Grant::read(inviter)?;
        check_may_join(root, wall_ms, lock)?;
        if self.key.id() != DeviceKey::load_or_create(root, lock)?.id() {
            return Err(Error::runtime(
                "this data directory's device key changed while it waited, so nothing was joined",
            ));
        }
        if grant.inviter == self.key.id() {
            return Err(Error::input("a device cannot pair with itself"));
        }
        let before = Identity::read(root)?;
        if before.as_ref().is_some_and(|b| b.journal == grant.journal) {
            return Err(Error::input("this device is in that journal already"));
        }
        let (shared, private, carried, old_name) = match &before {
            Some(old) => carry(root, old, &self.key, grant.role, wall_ms, lock)?,
            None => Default::default(),
        };
        let backup = match &before {
            Some(old) => Some(move_aside(root, old)?),
            None => None,
        };
        let identity = Identity {
            journal: grant.journal.clone(),
            root: DeviceId::of(&grant.root_key),
            root_key: grant.root_key,
            device: self.key.id(),
        };
        identity.write(root, lock)?;
        let mut shared = shared;
        if grant.role == Role::Partner {
            let name = old_name.unwrap_or_else(|| name.to_string());
            let name = crate::domain::limits::check_name(&name)
                .map_err(Error::input)?
                .to_string();
            shared.insert(
                0,
                (
                    Record::Name(NameRecord {
                        name,
                        rev: Rev::default(),
                    }),
                    None,
                ),
            );
        }
        let op = Journal::new_op(wall_ms)?;
        let mut clock = Clock::default();
        for (kind, records) in [(LogKind::Shared, &shared), (LogKind::Private, &private)] {
            if !records.is_empty() {
                append(
                    root,
                    &self.key,
                    &identity.journal,
                    kind,
                    &op,
                    records,
                    &mut clock,
                    wall_ms,
                    lock,
                )?;
            }
        }
        Ok(Joined {
            journal: grant.journal,
            role: grant.role,
            inviter: grant.inviter,
            backup,
            carried,
        })
    }
}

/// What the inviter's verified offer grants, checked again here: the
/// rendezvous verified it, this reads it.
struct Grant {
    journal: String,
    role: Role,
    inviter: DeviceId,
    root_key: VerifyingKey,
}

impl Grant {
    fn read(offer: &Offer) -> Result<Grant> {
        let bad = |what: &str| Error::runtime(format!("the inviter's offer {what}"));
        if offer.side != Side::Inviter {
            return Err(bad("is not an inviter's"));
        }
        let journal = offer
            .journal
            .as_deref()
            .and_then(|j| uuid::Uuid::parse_str(j).ok())
            .map(|id| id.hyphenated().to_string())
            .filter(|id| Some(id.as_str()) == offer.journal.as_deref())
            .ok_or_else(|| bad("names no journal safe can use"))?;
        let role = match offer.role.as_deref() {
            Some("partner") => Role::Partner,
            Some("mine") => Role::Mine,
            _ => return Err(bad("grants no role")),
        };
        let root_key = offer
            .root_key
            .as_deref()
            .and_then(Hex32::parse)
            .and_then(|k| VerifyingKey::from_bytes(&k.0).ok())
            .ok_or_else(|| bad("names no root key"))?;
        let inviter = DeviceId::parse(&offer.device).ok_or_else(|| bad("names no device"))?;
        Ok(Grant {
            journal,
            role,
            inviter,
            root_key,
        })
    }
}

/// The rules for a data directory that joins (see [`Joining::prepare`]).
fn check_may_join(root: &Path, wall_ms: u64, lock: &Lock) -> Result<()> {
    let Some(identity) = Identity::read(root)? else {
        return refuse_schema1_logs(root);
    };
    let again = "to join another journal, use a new data directory (--data-dir)";
    if identity.root != identity.device {
        return Err(Error::input(format!(
            "this data directory already joined journal {}",
            identity.journal
        ))
        .with_hint(format!(
            "if that pairing is not finished, run `safe sync`; {again}"
        )));
    }
    let journal = Journal::open(root, wall_ms, lock)?;
    if journal.roster().members.len() > 1 {
        return Err(Error::input(
            "this data directory's journal is already shared with other devices; joining \
             another journal would leave them",
        )
        .with_hint(format!(
            "pair the other computer into this journal instead (`safe invite` here, `safe join` there); {again}"
        )));
    }
    Ok(())
}

/// A data directory that still holds schema-1 logs (monthly files) is not
/// ready: its journal must be migrated before it can join another.
fn refuse_schema1_logs(root: &Path) -> Result<()> {
    for kind in [LogKind::Shared, LogKind::Private] {
        let dir = log_root(root, kind);
        let Ok(listing) = std::fs::read_dir(&dir) else {
            continue;
        };
        let schema1 = listing
            .flatten()
            .any(|item| item.file_name().to_string_lossy().ends_with(".json"));
        if schema1 {
            return Err(Error::input(format!(
                "{} still holds schema-1 logs, which pairing cannot carry",
                dir.display()
            ))
            .with_hint("pair a new data directory (--data-dir) for now; nothing was changed"));
        }
    }
    Ok(())
}

type Batch = Vec<(Record, Option<String>)>;

/// My records in the journal this directory held, to write again into the
/// joined one: (shared, private, counts, my name). The winning version of
/// each comes from the index; which log held it (a private entry stays
/// private) and its note's sidecar come from this device's own logs.
fn carry(
    root: &Path,
    old: &Identity,
    key: &DeviceKey,
    role: Role,
    wall_ms: u64,
    lock: &Lock,
) -> Result<(Batch, Batch, Carried, Option<String>)> {
    let journal = Journal::open(root, wall_ms, lock)?;
    let me: PersonId = journal.me().ok_or_else(not_in_roster_yet)?.to_string();
    let state = journal.state()?;
    let read = |kind| {
        segment::read_log(
            &log_root(root, kind),
            &key.id(),
            &key.public(),
            &old.journal,
            kind,
        )
    };
    let held: Vec<(LogKind, Record, Option<String>)> = [LogKind::Shared, LogKind::Private]
        .into_iter()
        .map(|kind| Ok((kind, read(kind)?)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flat_map(|(kind, log)| {
            log.lines
                .into_iter()
                .filter_map(move |l| Some((kind, Record::parse(l.rec()).ok()?, l.sidecar)))
        })
        .collect();
    let (mut shared, mut private, mut carried) = (Batch::new(), Batch::new(), Carried::default());
    for ((owner, _), entry) in &state.entries {
        if *owner != me {
            continue;
        }
        let record = Record::Entry(entry.clone());
        let found = held.iter().find(|(_, rec, _)| *rec == record);
        match found {
            Some((LogKind::Private, _, sidecar)) => {
                carried.private_entries += 1;
                private.push((record, sidecar.clone()));
            }
            found => {
                carried.entries += 1;
                shared.push((record, found.and_then(|(_, _, s)| s.clone())));
            }
        }
    }
    for ((owner, id), note) in &state.notes {
        if *owner == me {
            carried.notes += 1;
            let note = Record::Note(NoteRecord {
                id: *id,
                note: Some(note.clone()),
                rev: Rev::default(),
            });
            private.push((note, None));
        }
    }
    for ((owner, _), practice) in &state.practices {
        if *owner == me {
            carried.practices += 1;
            shared.push((Record::Practice(practice.clone()), None));
        }
    }
    // Another device of a person joins a person who has their own name and
    // goals already: those stay as that person set them.
    if role == Role::Partner {
        for ((owner, _), goal) in &state.goals {
            if *owner == me {
                carried.goals += 1;
                shared.push((Record::Goal(goal.clone()), None));
            }
        }
    }
    let name = state.names.get(&me).cloned();
    Ok((shared, private, carried, name))
}

/// Move the logs of the journal this directory held, and a copy of its
/// `journal.json`, to `backup-before-join/<journal id>/`; the index, which
/// is derived from them, is deleted. Keys stay where they are.
fn move_aside(root: &Path, old: &Identity) -> Result<PathBuf> {
    let backup = root.join(BACKUP_DIR).join(&old.journal);
    if backup.exists() {
        return Err(Error::runtime(format!(
            "{} exists already, so nothing was moved",
            backup.display()
        )));
    }
    for kind in [LogKind::Shared, LogKind::Private] {
        let from = log_root(root, kind);
        if !from.exists() {
            continue;
        }
        let rel = from
            .strip_prefix(root)
            .expect("a log root is in its data directory");
        let to = backup.join(rel);
        file::ensure_dir(to.parent().expect("a log root has a parent"))?;
        std::fs::rename(&from, &to).map_err(|e| Error::io("move aside", &from, e))?;
    }
    let identity = Identity::path(root);
    let bytes = std::fs::read(&identity).map_err(|e| Error::io("read", &identity, e))?;
    file::write_atomic(&backup.join("journal.json"), &bytes)?;
    let index = root.join("index");
    match std::fs::remove_dir_all(&index) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("remove", &index, e)),
    }
    Ok(backup)
}

/// Stamp `records` with revs from `clock` and append them as one batch to
/// this device's log of `kind`: what [`Journal::write`] does, for a device
/// the roster does not trust yet.
#[allow(clippy::too_many_arguments)]
fn append(
    root: &Path,
    key: &DeviceKey,
    journal: &str,
    kind: LogKind,
    op: &str,
    records: &[(Record, Option<String>)],
    clock: &mut Clock,
    wall_ms: u64,
    lock: &Lock,
) -> Result<()> {
    let stamped = stamp(records, kind, clock, wall_ms)?;
    let texts: Vec<String> = stamped.iter().map(Record::to_json).collect();
    let batch: Vec<line::Record> = texts
        .iter()
        .zip(records)
        .map(|(rec, (_, sidecar))| line::Record {
            rec,
            sidecar: sidecar.as_deref(),
        })
        .collect();
    segment::append_batch(&log_root(root, kind), key, journal, kind, op, &batch, lock)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Who is paired

/// One person of the couple, as `safe partner show` prints them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    /// As they wrote it: untrusted text for a partner.
    pub name: Option<String>,
    /// Their current devices.
    pub devices: Vec<DeviceId>,
}

/// The couple and their safety number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Couple {
    pub me: Person,
    pub partner: Person,
    /// Groups of five digits: both partners compute the same.
    pub safety_number: Vec<String>,
}

/// The couple of this journal, with the safety number over each person's
/// current device keys; an error before a partner is paired (or before
/// this device's own pairing line has arrived).
pub fn couple(journal: &Journal) -> Result<Couple> {
    let roster = journal.roster();
    let me = journal.me().ok_or_else(not_in_roster_yet)?.to_string();
    let root_person = roster.root_person().to_string();
    let other = match roster.partner() {
        Some(partner) if partner != me => partner.to_string(),
        Some(_) => root_person,
        None => {
            return Err(Error::input("no partner is paired with this journal yet").with_hint(
                "`safe invite` makes a code for your partner; after they join, both of you sync",
            ));
        }
    };
    let names = journal.state()?.names;
    let person = |id: &str| {
        let members = roster
            .members
            .iter()
            .filter(|(_, m)| m.person == id && m.until.is_none());
        let devices: Vec<DeviceId> = members.clone().map(|(d, _)| d.clone()).collect();
        let keys: Vec<[u8; 32]> = members.map(|(_, m)| m.key.to_bytes()).collect();
        let person = Person {
            id: id.to_string(),
            name: names.get(id).cloned(),
            devices,
        };
        (person, keys)
    };
    let (me, my_keys) = person(&me);
    let (partner, their_keys) = person(&other);
    let safety_number = safety::safety_number((&me.id, &my_keys), (&partner.id, &their_keys));
    Ok(Couple {
        me,
        partner,
        safety_number,
    })
}

/// How a device came into the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// It created the journal.
    Root,
    /// Paired as another device of its person, by the device given.
    Mine { by: DeviceId },
    /// Paired as the partner's first device, by the device given.
    Partner { by: DeviceId },
}

/// One of my devices, as `safe device list` prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MyDevice {
    pub id: DeviceId,
    pub this: bool,
    pub origin: Origin,
    /// Removed: only its lines up to this seq are used.
    pub removed_after: Option<u64>,
}

/// The devices of my person, this one first.
pub fn my_devices(journal: &Journal) -> Result<Vec<MyDevice>> {
    let me = journal.me().ok_or_else(not_in_roster_yet)?;
    let this = &journal.identity().device;
    let mut devices: Vec<MyDevice> = journal
        .roster()
        .members
        .iter()
        .filter(|(_, m)| m.person == me)
        .map(|(id, m)| MyDevice {
            id: id.clone(),
            this: id == this,
            origin: match &m.by {
                None => Origin::Root,
                Some((by, _)) if id.as_str() == m.person => Origin::Partner { by: by.clone() },
                Some((by, _)) => Origin::Mine { by: by.clone() },
            },
            removed_after: m.until,
        })
        .collect();
    devices.sort_by_key(|d| !d.this);
    Ok(devices)
}

/// The first 8 digits of a device id, as people read it.
pub fn short(device: &DeviceId) -> String {
    short_text(device.as_str())
}

fn short_text(id: &str) -> String {
    id.chars().take(8).collect()
}

#[cfg(test)]
mod tests;
