//! What a remote holds that this data directory has not taken yet, and
//! what it lacks of mine: for `safe sync --status --fetch`. Fetching moves
//! only `refs/remotes/origin/main` in `sync.git` (and adds the objects it
//! brings); no log, no index, no seal state and nothing at the remote
//! changes. The remote copies are verified exactly as a sync would before
//! anything is counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::{Incoming, STAT_FILE, read_fetched, scan_local, shared_log};
use crate::domain::fold::PersonId;
use crate::domain::record::Record;
use crate::error::{Error, Result};
use crate::journal::Journal;
use crate::keys::DeviceId;
use crate::keys::line::LogKind;
use crate::seal::remote::Sealer;
use crate::store::{Lock, segment};
use crate::sync::repo::{ORIGIN_MAIN, SyncRepo};
use crate::sync::stat::StatCache;
use crate::sync::transport::{Transport, display_url};

/// What the remote has that is not taken here, by the person whose log it
/// is, and what it lacks of this device's own log.
#[derive(Debug, Default)]
pub struct Waiting {
    /// The remote, with any password hidden.
    pub remote: String,
    /// Lines that verify and extend a log here: by person.
    pub from: BTreeMap<PersonId, Lines>,
    /// Lines of my own logs (all my devices) the remote lacks.
    pub to_send: u64,
    /// Copies at the remote that a sync would refuse (damaged, forked, a
    /// log nobody paired), each naming the log; nothing was taken anyway.
    pub problems: Vec<Error>,
}

/// Lines of one person's logs, as a person counts them.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Lines {
    /// Versions of entries (new, edited or removed).
    pub entries: u64,
    /// Names, goals, practices, devices, undo marks, `seen` lines.
    pub other: u64,
}

/// Fetch the remote at `url` and compare its logs with the logs here,
/// under the caller's lock, changing nothing but the fetched ref.
pub fn waiting(root: &Path, url: &str, journal: &Journal, lock: &Lock) -> Result<Waiting> {
    git2::opts::strict_hash_verification(false);
    let shown = display_url(url);
    let git_dir = root.join("sync.git");
    let repo = SyncRepo::open_or_init(&git_dir)?;
    let tracked_before = repo.commit_of(ORIGIN_MAIN)?;
    let theirs = Transport::new(&repo.git, url).for_logs().fetch()?;
    // Neither the stat record nor the sealer's state is saved: what they
    // learn here, the next sync learns again.
    let mut stat = StatCache::load_named(&git_dir, STAT_FILE);
    let mut sealer = Sealer::load(root, &git_dir, url, journal.identity(), lock)?;
    let local_blob = |device: &DeviceId, rest: &str| {
        let rel = format!("shared/log/{device}/{rest}");
        let meta = std::fs::metadata(root.join(&rel)).ok()?;
        stat.lookup(&rel, &meta)
    };
    let remote = read_fetched(
        &repo,
        theirs,
        &shown,
        tracked_before,
        &mut sealer,
        journal,
        &local_blob,
    )?;
    let mut waiting = Waiting {
        remote: shown.clone(),
        problems: remote.ignored_problems(&shown),
        ..Waiting::default()
    };
    let local = scan_local(root, &mut stat, &mut waiting.problems)?;
    let incoming = Incoming::new(&git_dir);
    let devices: BTreeSet<&DeviceId> = remote.logs.keys().chain(local.keys()).collect();
    let counted = devices
        .into_iter()
        .filter(|d| remote.logs.get(*d) != local.get(*d))
        .try_for_each(|device| {
            let there = remote.logs.get(device);
            if let Some(files) = there {
                incoming.stage(
                    &repo,
                    root,
                    device,
                    files,
                    &remote.plain,
                    local.get(device),
                    &shown,
                )?;
            }
            compare(
                root,
                journal,
                &incoming,
                device,
                there.is_some(),
                &mut waiting,
            )
        });
    incoming.clear();
    counted.map(|()| waiting)
}

/// Count what the remote copy of `device`'s log adds to the copy here, or
/// what it lacks of mine.
fn compare(
    root: &Path,
    journal: &Journal,
    incoming: &Incoming,
    device: &DeviceId,
    at_remote: bool,
    waiting: &mut Waiting,
) -> Result<()> {
    let roster = journal.roster();
    let (Some(member), Some(person)) = (roster.members.get(device), roster.person(device)) else {
        if at_remote {
            waiting.problems.push(Error::runtime(format!(
                "{} holds shared/log/{device}, a log of a device no pairing here trusts \
                 (a sync would say more, or take it once its pairing line arrives)",
                waiting.remote
            )));
        }
        return Ok(());
    };
    let journal_id = &journal.identity().journal;
    let here = segment::read_log(
        &shared_log(root),
        device,
        &member.key,
        journal_id,
        LogKind::Shared,
    )?;
    let mine = journal.me() == Some(person);
    if !at_remote {
        if mine {
            waiting.to_send += here.lines.len() as u64;
        }
        return Ok(());
    }
    let there = segment::read_log(
        &incoming.log_root(),
        device,
        &member.key,
        journal_id,
        LogKind::Shared,
    )?;
    let common = here
        .lines
        .iter()
        .zip(&there.lines)
        .take_while(|(a, b)| a.payload == b.payload)
        .count();
    let whose = match mine {
        true => "your own log".to_string(),
        false => "your partner's log".to_string(),
    };
    if there.quarantine.is_some() {
        waiting.problems.push(Error::runtime(format!(
            "the copy of {whose} (device {device}) in {} does not verify; a sync would keep \
             the copy here",
            waiting.remote
        )));
    } else if common < here.lines.len().min(there.lines.len()) {
        waiting.problems.push(Error::runtime(format!(
            "the copy of {whose} (device {device}) in {} forks from the copy here at seq {}",
            waiting.remote,
            common + 1
        )));
    } else if there.lines.len() > here.lines.len() {
        let lines = waiting.from.entry(person.to_string()).or_default();
        for line in &there.lines[here.lines.len()..] {
            match Record::parse(line.rec()) {
                Ok(Record::Entry(_) | Record::Remove(_)) => lines.entries += 1,
                _ => lines.other += 1,
            }
        }
    } else if mine {
        waiting.to_send += (here.lines.len() - there.lines.len()) as u64;
    }
    Ok(())
}
