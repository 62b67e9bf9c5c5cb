//! A remote on this machine (a path, or a `file://` URL): objects are copied
//! between the two repositories one by one, and the remote's `main` is moved
//! with a compare-and-swap.
//!
//! libgit2 reaches such remotes too, but through its pack builder, which
//! searches deltas between every pair of month files it sends (seconds for a
//! sync that touches a dozen months), and it moves the remote's ref without
//! checking that it still is where it was, so two partners pushing at the
//! same moment could overwrite each other's commit.

use std::path::{Path, PathBuf};

use git2::{ErrorCode, ObjectType, Odb, Oid, Repository, RepositoryOpenFlags};

use super::journal::{MAX_FILE_BYTES, not_a_journal, too_big};
use super::repo::{MAIN, ref_target};

/// How much of a remote's trees a copy takes, and what it does with the
/// rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyRules {
    /// Trees deeper than this are not a journal, and must not make the copy
    /// recurse without end.
    max_depth: usize,
    /// Leave out a blob over the size limit or a tree too deep, instead of
    /// refusing the whole copy: the reader of the tree reports them.
    skip_refused: bool,
}

impl CopyRules {
    /// Schema 1: a journal tree is two levels deep (`log/2026-11.json`);
    /// anything else stops the sync.
    pub const MONTHS: CopyRules = CopyRules {
        max_depth: 4,
        skip_refused: false,
    };
    /// Schema 2: `shared/log/<device>/<d1>/<d2>/<seq>.jsonl`, five trees
    /// deep. What does not fit is left behind and reported by `sync::logs`,
    /// which carries on with everything else.
    pub const LOGS: CopyRules = CopyRules {
        max_depth: 5,
        skip_refused: true,
    };
}

/// How long to wait for a ref another process is updating: 2 s in all.
const LOCK_TRIES: u32 = 40;
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_millis(50);

/// The directory a local remote names, or `None` for network URLs.
pub fn path_of(url: &str) -> Option<PathBuf> {
    if let Some(rest) = url.strip_prefix("file://") {
        let rest = rest.strip_prefix("localhost").unwrap_or(rest);
        return Some(PathBuf::from(percent_decode(rest)));
    }
    super::transport::is_local_path(url).then(|| PathBuf::from(url))
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Open the remote repository. A path that does not exist, or is not a
/// repository, fails with `NotFound`, as it does through libgit2.
pub fn open(path: &Path) -> Result<Repository, git2::Error> {
    if !path.exists() {
        return Err(git2::Error::new(
            ErrorCode::NotFound,
            git2::ErrorClass::Repository,
            format!("could not find repository at '{}'", path.display()),
        ));
    }
    Repository::open_ext(path, RepositoryOpenFlags::NO_SEARCH, &[] as &[&Path])
}

/// The remote's `main`, if it has one.
pub fn main_of(remote: &Repository) -> Result<Option<Oid>, git2::Error> {
    ref_target(remote, MAIN)
}

/// Move the remote's `main` from `expected` to `new`, only if it still is
/// at `expected`. Returns `false` if it moved meanwhile.
pub fn update_main(
    remote: &Repository,
    expected: Option<Oid>,
    new: Oid,
) -> Result<bool, git2::Error> {
    // Another process updating the same ref holds its lock for an instant;
    // wait for it rather than fail, then find out whether it moved `main`.
    let mut tries = 0;
    let updated = loop {
        let updated = match expected {
            Some(old) => remote.reference_matching(MAIN, new, true, old, "safe sync"),
            None => remote.reference(MAIN, new, false, "safe sync"),
        };
        match updated {
            Err(e) if e.code() == ErrorCode::Locked && tries < LOCK_TRIES => {
                tries += 1;
                std::thread::sleep(LOCK_WAIT);
            }
            other => break other,
        }
    };
    match updated {
        Ok(_) => {}
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::Modified | ErrorCode::Exists | ErrorCode::NotFound
            ) =>
        {
            return Ok(false);
        }
        Err(e) => return Err(e),
    }
    // A repository made with plain `git init --bare` may name another
    // branch as HEAD; point it at `main`, so that `git clone` checks it out.
    if let Ok(head) = remote.find_reference("HEAD")
        && let Some(target) = head.symbolic_target()
        && target != MAIN
        && remote.refname_to_id(target).is_err()
    {
        let _ = remote.set_head(MAIN);
    }
    Ok(true)
}

/// What went wrong while copying: git itself, or remote data that is no
/// journal (already worded for a person).
pub enum CopyError {
    Git(git2::Error),
    Data(crate::error::Error),
}

impl From<git2::Error> for CopyError {
    fn from(err: git2::Error) -> Self {
        CopyError::Git(err)
    }
}

/// Copy into `to` every object reachable from `tip` that it lacks. Parents
/// are copied before children and a tree's entries before the tree, so an
/// object that exists always comes with everything it points to, even after
/// an interrupted copy. `url` names `from` in errors about its data.
pub fn copy_reachable(
    from: &Repository,
    to: &Repository,
    tip: Oid,
    url: &str,
    rules: CopyRules,
) -> Result<(), CopyError> {
    copy_history(from, to, tip, url, rules, false)
}

/// For a fetch into `to`: [`copy_reachable`], except when `to` holds none
/// of `tip`'s history (a first sync): then the tip alone is copied and
/// marked shallow, as a network fetch at depth 1 does, so a partner's
/// first sync does not take every sealed copy the remote ever held.
pub fn fetch_reachable(
    from: &Repository,
    to: &Repository,
    tip: Oid,
    url: &str,
    rules: CopyRules,
) -> Result<(), CopyError> {
    copy_history(from, to, tip, url, rules, true)
}

fn copy_history(
    from: &Repository,
    to: &Repository,
    tip: Oid,
    url: &str,
    rules: CopyRules,
    tip_alone_if_new: bool,
) -> Result<(), CopyError> {
    let (from_odb, to_odb) = (from.odb()?, to.odb()?);
    if to_odb.exists(tip) {
        return Ok(());
    }
    let copy = Copy {
        from_odb: &from_odb,
        to_odb: &to_odb,
        url,
        rules,
    };
    let mut commits = lacking(from, &to_odb, tip)?;
    // `to` holds none of it when the oldest commit it lacks is a root.
    let none_held = match commits.first() {
        Some(oldest) => from.find_commit(*oldest)?.parent_count() == 0,
        None => true,
    };
    let shallow = tip_alone_if_new && none_held && commits.len() > 1;
    if shallow {
        commits = vec![tip];
    }
    for commit in commits {
        let tree = from.find_commit(commit)?.tree_id();
        copy.tree(from, tree, "", 0)?;
        copy.object(commit)?;
    }
    if shallow {
        // Written after the commit is in place: git and libgit2 then take
        // it as the end of the history here.
        let path = to.path().join("shallow");
        let mut listed = std::fs::read_to_string(&path).unwrap_or_default();
        listed.push_str(&format!("{tip}\n"));
        crate::store::file::write_atomic(&path, listed.as_bytes()).map_err(CopyError::Data)?;
    }
    Ok(())
}

/// The commits reachable from `tip` that `to` lacks, parents first. The
/// walk stops at each commit `to` has (it has all that commit points to),
/// so it never reads history `to` already holds, which a shallow `from`
/// (a first sync over the network fetches only the tip) may not hold.
fn lacking(from: &Repository, to: &Odb<'_>, tip: Oid) -> Result<Vec<Oid>, git2::Error> {
    let mut out = Vec::new();
    let mut done = std::collections::HashSet::new();
    // (commit, whether its parents were looked at)
    let mut stack = vec![(tip, false)];
    while let Some((oid, expanded)) = stack.pop() {
        if expanded {
            out.push(oid);
            continue;
        }
        if to.exists(oid) || !done.insert(oid) {
            continue;
        }
        stack.push((oid, true));
        for parent in from.find_commit(oid)?.parent_ids() {
            stack.push((parent, false));
        }
    }
    Ok(out)
}

struct Copy<'a> {
    from_odb: &'a Odb<'a>,
    to_odb: &'a Odb<'a>,
    url: &'a str,
    rules: CopyRules,
}

impl Copy<'_> {
    fn tree(&self, from: &Repository, oid: Oid, dir: &str, depth: usize) -> Result<(), CopyError> {
        if self.to_odb.exists(oid) {
            return Ok(());
        }
        if depth > self.rules.max_depth {
            if self.rules.skip_refused {
                return Ok(());
            }
            return Err(CopyError::Data(not_a_journal(self.url, dir)));
        }
        let tree = from.find_tree(oid)?;
        for entry in tree.iter() {
            let name = format!("{dir}{}", entry.name().unwrap_or("?"));
            match entry.kind() {
                Some(ObjectType::Tree) => {
                    self.tree(from, entry.id(), &format!("{name}/"), depth + 1)?
                }
                Some(ObjectType::Blob) if !self.to_odb.exists(entry.id()) => {
                    let (size, _) = self.from_odb.read_header(entry.id())?;
                    if size as u64 > MAX_FILE_BYTES && self.rules.skip_refused {
                        continue;
                    }
                    if size as u64 > MAX_FILE_BYTES {
                        let shown = PathBuf::from(format!("remote:shared/{name}"));
                        return Err(CopyError::Data(too_big(&shown, size as u64)));
                    }
                    self.object(entry.id())?;
                }
                // Submodules point outside; the tree check refuses them later.
                _ => {}
            }
        }
        self.object(oid)
    }

    fn object(&self, oid: Oid) -> Result<(), CopyError> {
        let object = self.from_odb.read(oid)?;
        // Writing names the object by its content: a damaged one would land
        // under another name, so this is where damage shows.
        let written = self.to_odb.write(object.kind(), object.data())?;
        if written != oid {
            return Err(CopyError::Git(git2::Error::from_str(&format!(
                "object {oid} of {} is damaged",
                self.url
            ))));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_remotes_are_paths_and_file_urls() {
        assert_eq!(path_of("/srv/us.git"), Some(PathBuf::from("/srv/us.git")));
        assert_eq!(
            path_of("file:///srv/our%20journal.git"),
            Some(PathBuf::from("/srv/our journal.git"))
        );
        assert_eq!(
            path_of("file://localhost/srv/us.git"),
            Some(PathBuf::from("/srv/us.git"))
        );
        assert_eq!(path_of("git@example.org:us.git"), None);
        assert_eq!(path_of("ssh://example.org/us.git"), None);
        assert_eq!(path_of("https://example.org/us.git"), None);
    }
}
