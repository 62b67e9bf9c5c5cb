//! The sealed form of a remote's tree, and the work of moving between it
//! and the plaintext logs the log sync compares (`sync::logs`).
//!
//! Reading: every path must be of the layout ([`super::layout`]) and every
//! segment an age file; epochs are opened with this device's key, segments
//! with the epochs opened. A segment this device opens becomes, for the
//! log sync, the plaintext it holds (kept in memory for the sync, never
//! written to `sync.git`), under its own path below its device's folder.
//!
//! Writing: the segments of the logs to send are sealed to the current
//! epoch, unless the same plaintext at the same place was sealed before
//! (a cache maps it to that blob, so an unchanged segment keeps its blob:
//! age is randomised, and sealing again would change every file). Who the
//! epochs are sealed to comes from this device's roster, never from the
//! remote: the statements found there only give the recipients of devices
//! the roster already trusts.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use age::x25519;
use git2::{Oid, Repository};
use serde::{Deserialize, Serialize};

use super::epoch::Epoch;
use super::key::{SealKey, Statement};
use super::layout::{self, Place};
use super::segment::{self, Unopened};
use crate::domain::limits::MAX_FILE_BYTES;
use crate::error::{Error, Result};
use crate::journal::Identity;
use crate::journal::roster::Roster;
use crate::keys::{DeviceId, DeviceKey};
use crate::store::{Lock, file};

/// Plaintext segment blobs, by device and path below its folder.
pub type PlainLogs = BTreeMap<DeviceId, BTreeMap<String, Oid>>;

/// Where a sync directory remembers what sealing needs between syncs.
const STATE_FILE: &str = "safe-seal.json";
/// The version of the state file. Version 1 was written by a safe that
/// kept each segment it opened in `sync.git` as a plaintext blob; loading
/// it removes those ([`purge_plaintext`]).
const STATE_VERSION: u64 = 2;
/// Statements a remote may hold beyond the roster's devices (joiners
/// waiting for their pairing line); the rest are not carried.
const MAX_STRANGERS: usize = 16;

/// One epoch file of the remote.
pub struct RemoteEpoch {
    pub blob: Oid,
    /// Opened with this device's key, if it is sealed to it.
    pub opened: Option<Epoch>,
}

/// What a sealed remote tree holds, besides the plaintext logs opened.
#[derive(Default)]
pub struct SealedTree {
    pub statements: BTreeMap<DeviceId, (Oid, Statement)>,
    pub epochs: BTreeMap<u64, RemoteEpoch>,
    pub segments: BTreeMap<DeviceId, BTreeMap<u64, Oid>>,
    /// Logs this device cannot open yet (no epoch is sealed to it): they
    /// are carried on as they are.
    pub opaque: BTreeSet<DeviceId>,
}

/// One file of a remote tree: its path, blob and mode.
pub struct RemoteFile {
    pub path: String,
    pub oid: Oid,
    pub mode: i32,
}

/// What [`Sealer::open_tree`] found.
pub struct Opened {
    pub sealed: SealedTree,
    pub logs: PlainLogs,
    /// The bytes of the segments opened this time, by plaintext blob id:
    /// they are kept in memory only, never written to `sync.git`, so that
    /// no old version of a segment (with a note since stripped) stays
    /// there in the clear.
    pub plain: BTreeMap<Oid, Vec<u8>>,
    /// Files refused (each named), whose logs were taken not at all.
    pub refused: Vec<Error>,
}

/// What is kept in `sync.git/safe-seal.json`.
#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    v: u64,
    /// Remotes where a sealed tree was seen: from then on, anything in the
    /// clear there is refused.
    sealed: BTreeSet<String>,
    /// The remote local `main` was last pushed to or taken from.
    main_of: Option<String>,
    /// Statements of devices, as read (verified again when used).
    statements: BTreeMap<String, String>,
    /// Sealed blob -> [device, path below its folder, plaintext blob,
    /// the epoch's recipient].
    cache: BTreeMap<String, [String; 4]>,
}

/// A cached sealing: the plaintext it holds and the epoch it is sealed to.
#[derive(Clone)]
struct Cached {
    device: DeviceId,
    rest: String,
    plain: Oid,
    epoch: String,
}

/// Sealing and opening for one sync with one remote.
pub struct Sealer {
    state_path: PathBuf,
    root: PathBuf,
    /// The sealing key was made by this sync and is not saved yet.
    new_key: bool,
    url: String,
    device: DeviceKey,
    seal: SealKey,
    identity: Identity,
    sealed_remotes: BTreeSet<String>,
    main_of: Option<String>,
    statements: BTreeMap<DeviceId, Statement>,
    by_sealed: BTreeMap<Oid, Cached>,
    by_plain: BTreeMap<(DeviceId, String, Oid), Vec<Oid>>,
    /// Something was learnt since the state file was read or written: a
    /// sync that learnt nothing new neither writes nor even serialises it.
    learnt: bool,
}

impl Sealer {
    /// The sealer of the data directory at `root` for the remote `url`:
    /// its keys (the sealing key made on first use) and what `sync.git`
    /// remembers.
    pub fn load(
        root: &Path,
        git_dir: &Path,
        url: &str,
        identity: &Identity,
        lock: &Lock,
    ) -> Result<Sealer> {
        let device = DeviceKey::load_or_create(root, lock)?;
        // A new sealing key is kept only once the remote was reached
        // ([`Sealer::save`]): a sync that fails before changes nothing.
        let (seal, new_key) = match SealKey::load(root)? {
            Some(seal) => (seal, false),
            None => (SealKey::generate(), true),
        };
        let state_path = git_dir.join(STATE_FILE);
        let stored = std::fs::read(&state_path).unwrap_or_default();
        let state: State = serde_json::from_slice(&stored).unwrap_or_default();
        let mine_stored = state.statements.get(identity.device.as_str()).cloned();
        if state.v < STATE_VERSION {
            purge_plaintext(git_dir, state.cache.values().map(|[_, _, plain, _]| plain));
        }
        let mut sealer = Sealer {
            state_path,
            root: root.to_path_buf(),
            new_key,
            url: url.to_string(),
            device,
            seal,
            identity: identity.clone(),
            sealed_remotes: state.sealed,
            main_of: state.main_of,
            statements: BTreeMap::new(),
            by_sealed: BTreeMap::new(),
            by_plain: BTreeMap::new(),
            learnt: false,
        };
        for (device, text) in state.statements {
            if let Some(device) = DeviceId::parse(&device)
                && let Some(statement) = Statement::parse(text.as_bytes(), &device)
            {
                sealer.statements.insert(device, statement);
            }
        }
        for (sealed, [device, rest, plain, epoch]) in state.cache {
            if let (Ok(sealed), Some(device), Ok(plain)) = (
                Oid::from_str(&sealed),
                DeviceId::parse(&device),
                Oid::from_str(&plain),
            ) {
                sealer.remember(
                    sealed,
                    Cached {
                        device,
                        rest,
                        plain,
                        epoch,
                    },
                );
            }
        }
        let mine = Statement::make(&sealer.device, &sealer.seal);
        sealer.learnt = state.v != STATE_VERSION
            || mine.device != identity.device
            || mine_stored.as_deref() != Some(&*String::from_utf8_lossy(&mine.to_bytes()));
        sealer.statements.insert(mine.device.clone(), mine);
        Ok(sealer)
    }

    /// Save what was learnt: a new sealing key first (an error if it
    /// cannot be: nothing is sealed to a key that is not kept), then the
    /// state, whose loss only costs work next time.
    pub fn save(&mut self) -> Result<()> {
        if self.new_key {
            self.seal.save(&self.root)?;
            self.new_key = false;
        }
        if !self.learnt {
            return Ok(());
        }
        let state = State {
            v: STATE_VERSION,
            sealed: self.sealed_remotes.clone(),
            main_of: self.main_of.clone(),
            statements: self
                .statements
                .iter()
                .map(|(d, s)| {
                    (
                        d.to_string(),
                        String::from_utf8_lossy(&s.to_bytes()).into_owned(),
                    )
                })
                .collect(),
            cache: self
                .by_sealed
                .iter()
                .map(|(sealed, c)| {
                    (
                        sealed.to_string(),
                        [
                            c.device.to_string(),
                            c.rest.clone(),
                            c.plain.to_string(),
                            c.epoch.clone(),
                        ],
                    )
                })
                .collect(),
        };
        let bytes = serde_json::to_vec(&state).unwrap_or_default();
        if file::write_atomic(&self.state_path, &bytes).is_ok() {
            self.learnt = false;
        }
        Ok(())
    }

    fn remember(&mut self, sealed: Oid, cached: Cached) {
        self.learnt = true;
        let key = (cached.device.clone(), cached.rest.clone(), cached.plain);
        let blobs = self.by_plain.entry(key).or_default();
        blobs.retain(|b| *b != sealed);
        blobs.push(sealed);
        self.by_sealed.insert(sealed, cached);
    }

    /// Whether a sealed tree was ever seen at this remote.
    pub fn seen_sealed(&self) -> bool {
        self.sealed_remotes.contains(&self.url)
    }

    /// A sealed tree is at this remote: from now on nothing else is taken.
    pub fn mark_sealed(&mut self) {
        self.learnt |= self.sealed_remotes.insert(self.url.clone());
    }

    /// Local `main` now is (or descends from) the remote's.
    pub fn main_is_the_remotes(&mut self) {
        if self.main_of.as_deref() != Some(self.url.as_str()) {
            self.main_of = Some(self.url.clone());
            self.learnt = true;
        }
        self.mark_sealed();
    }

    /// Whether local `main` came from this remote, so may be a parent of
    /// what is pushed there: the history of another remote never goes.
    pub fn main_may_be_parent(&self) -> bool {
        self.main_of.as_deref() == Some(self.url.as_str())
    }

    pub fn me(&self) -> &DeviceId {
        &self.identity.device
    }

    /// Read the files of a sealed tree. A path outside the layout, a file
    /// that is not regular or too big, a segment or epoch in the clear, or
    /// a statement that does not verify refuses the whole tree (an error:
    /// nothing here changes). A segment that does not open, or opens as
    /// another device's or out of its place, is refused (named in
    /// `refused`) with the rest of its log's copy there.
    pub fn open_tree(
        &mut self,
        git: &Repository,
        files: &[RemoteFile],
        shown: &str,
        whose: &dyn Fn(&DeviceId) -> String,
        local: &dyn Fn(&DeviceId, &str) -> Option<Oid>,
    ) -> Result<Opened> {
        let mut sealed = SealedTree::default();
        let odb = git.odb().map_err(|e| git_error(git, e))?;
        let read = |oid: Oid, path: &str| -> Result<Vec<u8>> {
            let (size, _) = odb
                .read_header(oid)
                .map_err(|_| downgrade(shown, path, "was not fetched (over the size limit)"))?;
            if size as u64 > MAX_FILE_BYTES {
                return Err(downgrade(shown, path, "is over the size safe reads"));
            }
            git.find_blob(oid)
                .map(|b| b.content().to_vec())
                .map_err(|e| git_error(git, e))
        };
        for file in files {
            let place = layout::parse(&file.path)
                .ok_or_else(|| downgrade(shown, &file.path, "is not part of a sealed journal"))?;
            if !matches!(file.mode, 0o100644 | 0o100755) {
                return Err(downgrade(shown, &file.path, "is not a regular file"));
            }
            match place {
                Place::Statement(device) => {
                    let bytes = read(file.oid, &file.path)?;
                    let statement = Statement::parse(&bytes, &device).ok_or_else(|| {
                        downgrade(
                            shown,
                            &file.path,
                            "is not a key statement signed by its device",
                        )
                    })?;
                    sealed.statements.insert(device, (file.oid, statement));
                }
                Place::Epoch(number) => {
                    let bytes = read(file.oid, &file.path)?;
                    if !segment::is_age(&bytes) {
                        return Err(downgrade(
                            shown,
                            &file.path,
                            "is not sealed (it is in the clear)",
                        ));
                    }
                    let opened =
                        Epoch::open(&bytes, self.seal.identity(), &self.identity.journal, number);
                    sealed.epochs.insert(
                        number,
                        RemoteEpoch {
                            blob: file.oid,
                            opened,
                        },
                    );
                }
                Place::Segment { device, index } => {
                    if !self.by_sealed.contains_key(&file.oid)
                        && !segment::is_age(&read(file.oid, &file.path)?)
                    {
                        return Err(downgrade(
                            shown,
                            &file.path,
                            "is not sealed (it is in the clear)",
                        ));
                    }
                    sealed
                        .segments
                        .entry(device)
                        .or_default()
                        .insert(index, file.oid);
                }
            }
        }
        self.mark_sealed();
        for (device, (_, statement)) in &sealed.statements {
            let known = self.statements.get(device).map(Statement::to_bytes);
            if known.as_deref() != Some(&statement.to_bytes()[..]) {
                self.statements.insert(device.clone(), statement.clone());
                self.learnt = true;
            }
        }
        let keys: Vec<(String, &x25519::Identity)> = sealed
            .epochs
            .values()
            .filter_map(|e| e.opened.as_ref())
            .map(|e| (e.recipient().to_string(), &e.secret))
            .collect();
        let identities: Vec<&x25519::Identity> = keys.iter().map(|(_, k)| *k).collect();
        let newest_opened = sealed
            .epochs
            .iter()
            .filter(|(_, e)| e.opened.is_some())
            .map(|(n, _)| *n)
            .max();
        let newer_epoch_not_mine = sealed
            .epochs
            .keys()
            .max()
            .is_some_and(|newest| newest_opened.is_some_and(|mine| *newest > mine));
        let mut logs = PlainLogs::new();
        let mut plain_bytes = BTreeMap::new();
        let mut refused = Vec::new();
        let segments = sealed.segments.clone();
        'logs: for (device, files) in &segments {
            let mut log = BTreeMap::new();
            let mut last: Option<String> = None;
            for (index, oid) in files {
                let path = layout::segment_path(device, *index);
                let cached = self
                    .by_sealed
                    .get(oid)
                    // Its plaintext must be at hand for the log sync: the
                    // file here (by the stat record); else it is opened.
                    .filter(|c| c.device == *device && local(device, &c.rest) == Some(c.plain))
                    .cloned();
                let (rest, plain) = match cached {
                    Some(c) => (c.rest, c.plain),
                    None => {
                        let bytes = read(*oid, &path)?;
                        match segment::open(&bytes, device, &identities) {
                            Ok(o) => {
                                let plain = Oid::hash_object(git2::ObjectType::Blob, &o.bytes)
                                    .map_err(|e| git_error(git, e))?;
                                plain_bytes.insert(plain, o.bytes);
                                let epoch = keys[o.key].0.clone();
                                self.remember(
                                    *oid,
                                    Cached {
                                        device: device.clone(),
                                        rest: o.rest.clone(),
                                        plain,
                                        epoch,
                                    },
                                );
                                (o.rest, plain)
                            }
                            Err(Unopened::NoKey) if identities.is_empty() => {
                                sealed.opaque.insert(device.clone());
                                continue 'logs;
                            }
                            Err(why) => {
                                let why = match why {
                                    Unopened::NoKey if newer_epoch_not_mine => {
                                        "is sealed to a newer epoch that was not sealed to this \
                                         device: this device, or you, may have been removed from \
                                         the journal"
                                            .to_string()
                                    }
                                    Unopened::NoKey => {
                                        "is sealed to keys this device does not hold".to_string()
                                    }
                                    Unopened::Damaged => {
                                        "does not open: it was cut short or changed".to_string()
                                    }
                                    Unopened::OtherDevice(other) => format!(
                                        "holds a segment of another device's log ({}), moved into this one",
                                        crate::render::sanitize::sanitize_line(&other)
                                    ),
                                };
                                refused.push(refuse_file(shown, &path, &whose(device), &why));
                                continue 'logs;
                            }
                        }
                    }
                };
                if last.as_ref().is_some_and(|l| *l >= rest) {
                    let why = "is out of its place in the log (segments were swapped)";
                    refused.push(refuse_file(shown, &path, &whose(device), why));
                    continue 'logs;
                }
                last = Some(rest.clone());
                log.insert(rest, plain);
            }
            logs.insert(device.clone(), log);
        }
        Ok(Opened {
            sealed,
            logs,
            plain: plain_bytes,
            refused,
        })
    }

    /// The epochs of a sealed tree, opened with this device's key (and
    /// nothing else of it): for `safe sync --status`.
    pub fn open_epochs(&self, git: &Repository, files: &[RemoteFile]) -> SealedTree {
        let mut sealed = SealedTree::default();
        for file in files {
            if let Some(Place::Epoch(number)) = layout::parse(&file.path)
                && let Ok(blob) = git.find_blob(file.oid)
            {
                let opened = Epoch::open(
                    blob.content(),
                    self.seal.identity(),
                    &self.identity.journal,
                    number,
                );
                sealed.epochs.insert(
                    number,
                    RemoteEpoch {
                        blob: file.oid,
                        opened,
                    },
                );
            }
        }
        sealed
    }

    /// Whether the tree [`Sealer::write_tree`] would write is the remote's
    /// own, given that the remote's logs opened are the logs to send: no
    /// epoch to make or seal again, and this device's statement there.
    pub fn changes_nothing(&self, remote: &SealedTree, roster: &Roster) -> bool {
        let plan = self.plan(remote, roster);
        plan.new_epoch.is_none()
            && plan.resealed.is_empty()
            && remote.statements.contains_key(self.me())
            && (plan.current.is_some() || remote.segments.keys().all(|d| remote.opaque.contains(d)))
    }

    /// The sealed tree to push: the logs of `union` (read from `root`, or
    /// from `sync.git`) sealed, the epochs (made, or sealed again for new
    /// devices, as the roster says), and the statements.
    pub fn write_tree(
        &mut self,
        git: &Repository,
        root: &Path,
        union: &PlainLogs,
        remote: &SealedTree,
        roster: &Roster,
    ) -> Result<(Oid, SealSummary)> {
        let plan = self.plan(remote, roster);
        let mut files: Vec<(String, Oid)> = Vec::new();
        // Epochs: as they are, sealed again, or new.
        let mut usable: BTreeSet<String> = BTreeSet::new();
        for (number, epoch) in &remote.epochs {
            if let Some(opened) = epoch
                .opened
                .as_ref()
                .filter(|e| plan.trusted.contains(&e.number))
            {
                usable.insert(opened.recipient().to_string());
            }
            let blob = match plan.resealed.get(number) {
                Some(members) => {
                    let opened = epoch
                        .opened
                        .as_ref()
                        .expect("only opened epochs are sealed again");
                    let wider = opened.for_members(members.clone(), &self.device);
                    git.blob(&wider.seal(&self.recipients(members))?)
                        .map_err(|e| git_error(git, e))?
                }
                None => epoch.blob,
            };
            files.push((layout::epoch_path(*number), blob));
        }
        let mut current = plan
            .current
            .and_then(|n| remote.epochs[&n].opened.as_ref())
            .map(|e| e.recipient());
        if let Some((number, members)) = &plan.new_epoch {
            let epoch = Epoch::new(
                *number,
                &self.identity.journal,
                members.clone(),
                &self.device,
            );
            let blob = git
                .blob(&epoch.seal(&self.recipients(members))?)
                .map_err(|e| git_error(git, e))?;
            files.push((layout::epoch_path(*number), blob));
            usable.insert(epoch.recipient().to_string());
            current = Some(epoch.recipient());
        }
        // Logs: sealed when this device may seal; else carried as they are.
        let mut sealed_count = 0;
        for (device, segments) in &remote.segments {
            let carried = match &current {
                Some(_) => remote.opaque.contains(device) && !union.contains_key(device),
                None => true,
            };
            if carried {
                for (index, oid) in segments {
                    files.push((layout::segment_path(device, *index), *oid));
                }
            }
        }
        if let Some(current) = &current {
            for (device, log) in union {
                for (index, (rest, plain)) in log.iter().enumerate() {
                    let reuse = self
                        .by_plain
                        .get(&(device.clone(), rest.clone(), *plain))
                        .and_then(|blobs| {
                            blobs.iter().rev().find(|b| {
                                self.by_sealed
                                    .get(b)
                                    .is_some_and(|c| usable.contains(&c.epoch))
                            })
                        })
                        .copied();
                    let blob = match reuse {
                        Some(blob) => blob,
                        None => {
                            let bytes = plain_bytes(git, root, device, rest, *plain)?;
                            let sealed = segment::seal(current, device, rest, &bytes)?;
                            let blob = git.blob(&sealed).map_err(|e| git_error(git, e))?;
                            self.remember(
                                blob,
                                Cached {
                                    device: device.clone(),
                                    rest: rest.clone(),
                                    plain: *plain,
                                    epoch: current.to_string(),
                                },
                            );
                            sealed_count += 1;
                            blob
                        }
                    };
                    files.push((layout::segment_path(device, index as u64), blob));
                }
            }
        }
        // Statements: of the roster's devices and mine, then a few others.
        let mut strangers = 0;
        for (device, statement) in &self.statements {
            let known = roster.members.contains_key(device) || device == self.me();
            let blob = match remote.statements.get(device) {
                Some((blob, _)) => *blob,
                None if known => git
                    .blob(&statement.to_bytes())
                    .map_err(|e| git_error(git, e))?,
                None => continue,
            };
            if !known {
                strangers += 1;
                if strangers > MAX_STRANGERS {
                    continue;
                }
            }
            files.push((layout::statement_path(device), blob));
        }
        let tree = write_files(git, &files)?;
        let summary = SealSummary {
            epoch: plan.new_epoch.as_ref().map(|(n, _)| *n).or(plan.current),
            waiting: current.is_none(),
            sealed: sealed_count,
        };
        Ok((tree, summary))
    }

    /// The recipients of `members`, from the statements known.
    fn recipients(&self, members: &BTreeSet<DeviceId>) -> Vec<x25519::Recipient> {
        members
            .iter()
            .filter_map(|m| self.statements.get(m))
            .map(|s| s.recipient.clone())
            .collect()
    }

    /// What to do with the epochs, from the roster.
    fn plan(&self, remote: &SealedTree, roster: &Roster) -> Plan {
        let me = self.me();
        let active: BTreeSet<DeviceId> = roster
            .members
            .iter()
            .filter(|(_, m)| m.until.is_none())
            .map(|(d, _)| d.clone())
            .collect();
        let removed: BTreeSet<&DeviceId> = roster
            .members
            .iter()
            .filter(|(_, m)| m.until.is_some())
            .map(|(d, _)| d)
            .collect();
        // Devices an epoch may be sealed to: trusted, not removed, with a
        // statement whose key is the one the roster trusts.
        let reachable: BTreeSet<DeviceId> = active
            .iter()
            .filter(|d| {
                self.statements
                    .get(*d)
                    .is_some_and(|s| roster.members.get(*d).is_some_and(|m| m.key == s.key))
            })
            .cloned()
            .collect();
        let trusted: BTreeSet<u64> = remote
            .epochs
            .values()
            .filter_map(|e| e.opened.as_ref())
            .filter(|e| {
                roster
                    .members
                    .get(&e.by)
                    .is_some_and(|m| m.until.is_none() && e.signed_by(&m.key))
            })
            .map(|e| e.number)
            .collect();
        let mut plan = Plan {
            trusted: trusted.clone(),
            ..Plan::default()
        };
        if !active.contains(me) {
            // Not in the journal (yet, or any more): nothing is sealed here.
            return plan;
        }
        let clean = |e: &Epoch| e.members.iter().all(|m| !removed.contains(m));
        plan.current = trusted
            .iter()
            .rev()
            .copied()
            .find(|n| remote.epochs[n].opened.as_ref().is_some_and(clean));
        // A new epoch when there is none, or when the newest is one this
        // device trusts but it is sealed to a removed device. An epoch
        // newer than any this device trusts is someone else's to seal to
        // it: until then, this device waits.
        // An epoch made by a device the roster has since removed is never
        // used again, and waits for no one.
        let by_removed = |e: &RemoteEpoch| {
            e.opened.as_ref().is_some_and(|o| {
                roster
                    .members
                    .get(&o.by)
                    .is_some_and(|m| m.until.is_some() && o.signed_by(&m.key))
            })
        };
        let newest = remote.epochs.keys().max().copied();
        let newest_trusted = trusted.iter().max().copied().unwrap_or(0);
        let waiting = remote
            .epochs
            .range(newest_trusted + 1..)
            .any(|(_, e)| !by_removed(e));
        if plan.current.is_none() && !waiting {
            plan.new_epoch = Some((newest.unwrap_or(0) + 1, reachable.clone()));
        }
        for number in &trusted {
            let epoch = remote.epochs[number]
                .opened
                .as_ref()
                .expect("trusted epochs are opened");
            let known = epoch
                .members
                .iter()
                .all(|m| self.statements.contains_key(m));
            let wanted: BTreeSet<DeviceId> = epoch.members.union(&reachable).cloned().collect();
            if known && wanted != epoch.members {
                plan.resealed.insert(*number, wanted);
            }
        }
        plan
    }

    /// The devices the newest epoch this device uses is sealed to, and
    /// its number; `None` before it seals anything.
    pub fn status(
        &self,
        remote: &SealedTree,
        roster: &Roster,
    ) -> Option<(u64, BTreeSet<DeviceId>)> {
        let plan = self.plan(remote, roster);
        let number = plan.current?;
        let epoch = remote.epochs[&number].opened.as_ref()?;
        Some((number, epoch.members.clone()))
    }

    /// The signed statement of this device, as `keys/<device>` holds it.
    pub fn my_statement(&self) -> Vec<u8> {
        Statement::make(&self.device, &self.seal).to_bytes()
    }
}

/// What sealing did in one push.
#[derive(Debug, Default)]
pub struct SealSummary {
    /// The epoch segments are sealed to now.
    pub epoch: Option<u64>,
    /// No epoch is sealed to this device yet: its logs were not sent.
    pub waiting: bool,
    /// Segments sealed anew.
    pub sealed: usize,
}

#[derive(Default)]
struct Plan {
    /// Epochs opened and signed by a device the roster trusts, not removed.
    trusted: BTreeSet<u64>,
    /// The epoch to seal segments to.
    current: Option<u64>,
    /// A new epoch to make (none is usable), and its devices.
    new_epoch: Option<(u64, BTreeSet<DeviceId>)>,
    /// Epochs to seal again for more devices.
    resealed: BTreeMap<u64, BTreeSet<DeviceId>>,
}

/// Remove the loose objects of `sync.git` named (the plaintext blobs of
/// segments an older safe opened, by their hex ids): a note stripped since
/// must not stay in the clear there. Nothing reaches them: a sealed tree
/// holds only sealed blobs. One that is not there is already gone.
fn purge_plaintext<'a>(git_dir: &Path, plain: impl Iterator<Item = &'a String>) {
    let objects = git_dir.join("objects");
    for hex in plain {
        let valid = hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if valid {
            let _ = std::fs::remove_file(objects.join(&hex[..2]).join(&hex[2..]));
        }
    }
}

/// The bytes of a plaintext segment: from the file here when it is that
/// blob, else from `sync.git`.
fn plain_bytes(
    git: &Repository,
    root: &Path,
    device: &DeviceId,
    rest: &str,
    plain: Oid,
) -> Result<Vec<u8>> {
    let path = root
        .join("shared")
        .join("log")
        .join(device.as_str())
        .join(rest);
    if let Ok(bytes) = std::fs::read(&path)
        && Oid::hash_object(git2::ObjectType::Blob, &bytes).ok() == Some(plain)
    {
        return Ok(bytes);
    }
    match git.find_blob(plain) {
        Ok(blob) => Ok(blob.content().to_vec()),
        Err(_) => Err(
            Error::runtime(format!("{} changed while safe was syncing", path.display()))
                .with_hint("run `safe sync` again"),
        ),
    }
}

/// Write a tree of `files` (path, blob).
pub fn write_files(git: &Repository, files: &[(String, Oid)]) -> Result<Oid> {
    #[derive(Default)]
    struct Folder<'a> {
        folders: BTreeMap<&'a str, Folder<'a>>,
        files: BTreeMap<&'a str, Oid>,
    }
    impl<'a> Folder<'a> {
        fn insert(&mut self, path: &'a str, oid: Oid) {
            match path.split_once('/') {
                Some((name, rest)) => self.folders.entry(name).or_default().insert(rest, oid),
                None => {
                    self.files.insert(path, oid);
                }
            }
        }
        fn write(&self, git: &Repository) -> std::result::Result<Oid, git2::Error> {
            let mut tree = git.treebuilder(None)?;
            for (name, folder) in &self.folders {
                tree.insert(name, folder.write(git)?, 0o040000)?;
            }
            for (name, oid) in &self.files {
                tree.insert(name, *oid, 0o100644)?;
            }
            tree.write()
        }
    }
    let mut top = Folder::default();
    for (path, oid) in files {
        top.insert(path, *oid);
    }
    top.write(git).map_err(|e| git_error(git, e))
}

fn refuse_file(shown: &str, path: &str, whose: &str, why: &str) -> Error {
    Error::runtime(format!(
        "{shown}:{path}, a segment of {whose}, {why}: safe took none of that log's copy there and \
         kept the copy here"
    ))
    .with_hint(
        "someone with push access put it there, or it was damaged on the way; safe's next push \
         puts the copy here back",
    )
}

/// A sealed remote holding what a sealed journal never holds.
pub fn downgrade(shown: &str, path: &str, why: &str) -> Error {
    let path = crate::render::sanitize::sanitize_line(path);
    Error::runtime(format!(
        "{shown} holds `{path}`, which {why}; this remote held a sealed journal, so safe refuses \
         to sync with it as it is: nothing here was changed"
    ))
    .with_hint(
        "someone with push access wrote it there. Remove it from the remote with git, or move to \
         a fresh, empty remote with `safe sync --remote NEW_URL` (your journal here is whole)",
    )
}

fn git_error(git: &Repository, err: git2::Error) -> Error {
    Error::runtime(format!(
        "could not read or write {}: {}",
        git.path().display(),
        err.message()
    ))
    .with_hint(
        "sync.git only carries the logs between devices: moving it away and running `safe sync` \
         again rebuilds it from shared/",
    )
}
