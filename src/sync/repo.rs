//! `sync.git`, the bare repository that carries the journal: blobs, trees
//! and commits without a working tree or an index (the log sync builds its
//! trees, `logs`).

use std::path::Path;

use git2::{ErrorCode, Oid, Repository, RepositoryInitOptions, Signature};

use super::journal::{MAX_FILE_BYTES, too_big};
use crate::error::{Error, Result};
use crate::store::file;

/// The branch both partners share.
pub const MAIN: &str = "refs/heads/main";
/// The remote's `main` as last fetched.
pub const ORIGIN_MAIN: &str = "refs/remotes/origin/main";

pub struct SyncRepo {
    pub git: Repository,
}

impl SyncRepo {
    /// Open `sync.git`, creating it (bare, `main` as HEAD) on first use.
    pub fn open_or_init(path: &Path) -> Result<SyncRepo> {
        if let Some(repo) = Self::open_existing(path)? {
            return Ok(repo);
        }
        file::ensure_dir(path)?;
        let mut options = RepositoryInitOptions::new();
        options.bare(true).initial_head("main").mkdir(true);
        let git = Repository::init_opts(path, &options).map_err(|e| broken("open", path, e))?;
        Ok(SyncRepo { git })
    }

    /// Open `sync.git` if it exists; `None` when this machine never synced.
    pub fn open_existing(path: &Path) -> Result<Option<SyncRepo>> {
        if !path.join("HEAD").exists() {
            return Ok(None);
        }
        Repository::open_bare(path)
            .map(|git| Some(SyncRepo { git }))
            .map_err(|e| broken("open", path, e))
    }

    /// The commit a reference points at, if it exists.
    pub fn commit_of(&self, refname: &str) -> Result<Option<Oid>> {
        ref_target(&self.git, refname).map_err(|e| self.failed("read", e))
    }

    pub fn set_ref(&self, refname: &str, oid: Oid) -> Result<()> {
        self.git
            .reference(refname, oid, true, "safe sync")
            .map(|_| ())
            .map_err(|e| self.failed("update", e))
    }

    pub fn tree_of(&self, commit: Oid) -> Result<Oid> {
        self.git
            .find_commit(commit)
            .map(|c| c.tree_id())
            .map_err(|e| self.failed("read", e))
    }

    /// Is `commit` a descendant of `ancestor`? The walk ends where the
    /// history here does: at a commit whose parents a first sync did not
    /// copy (`shallow`), as git's own walks do. (libgit2's graph walk reads
    /// past such a commit; every commit here has the same time, so it has
    /// nothing to stop it early.)
    pub fn descends_from(&self, commit: Oid, ancestor: Oid) -> Result<bool> {
        let odb = self.git.odb().map_err(|e| self.failed("read", e))?;
        let mut seen = std::collections::HashSet::new();
        let mut stack = vec![commit];
        while let Some(oid) = stack.pop() {
            if !seen.insert(oid) || !odb.exists(oid) {
                continue;
            }
            let found = self
                .git
                .find_commit(oid)
                .map_err(|e| self.failed("read", e))?;
            for parent in found.parent_ids() {
                if parent == ancestor {
                    return Ok(true);
                }
                stack.push(parent);
            }
        }
        Ok(false)
    }

    /// The bytes of a blob, refusing absurd sizes before reading them.
    pub fn blob(&self, oid: Oid, shown: &Path) -> Result<Vec<u8>> {
        let odb = self.git.odb().map_err(|e| self.failed("read", e))?;
        let (size, _) = odb.read_header(oid).map_err(|e| self.failed("read", e))?;
        if size as u64 > MAX_FILE_BYTES {
            return Err(too_big(shown, size as u64));
        }
        let blob = self
            .git
            .find_blob(oid)
            .map_err(|e| self.failed("read", e))?;
        Ok(blob.content().to_vec())
    }

    /// Store bytes as a blob. Git names objects by content, so bytes it
    /// already holds are not written again.
    pub fn write_blob(&self, bytes: &[u8]) -> Result<Oid> {
        self.git.blob(bytes).map_err(|e| self.failed("write to", e))
    }

    pub fn commit(
        &self,
        tree: Oid,
        parents: &[Oid],
        signature: &Signature<'_>,
        message: &str,
    ) -> Result<Oid> {
        let fail = |e| self.failed("write to", e);
        let tree = self.git.find_tree(tree).map_err(fail)?;
        let parents = parents
            .iter()
            .map(|p| self.git.find_commit(*p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        self.git
            .commit(None, signature, signature, message, &tree, &parents)
            .map_err(fail)
    }

    fn failed(&self, action: &str, err: git2::Error) -> Error {
        broken(action, self.git.path(), err)
    }
}

/// The commit a reference points at, if it exists.
pub(super) fn ref_target(git: &Repository, name: &str) -> Result<Option<Oid>, git2::Error> {
    match git.refname_to_id(name) {
        Ok(oid) => Ok(Some(oid)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn broken(action: &str, path: &Path, err: git2::Error) -> Error {
    Error::runtime(format!("could not {action} {}: {}", path.display(), err.message())).with_hint(
        "sync.git only carries data between you and your partner: moving it away and running `safe sync` \
         again rebuilds it from shared/",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo() -> (tempfile::TempDir, SyncRepo) {
        let dir = tempfile::tempdir().unwrap();
        let repo = SyncRepo::open_or_init(&dir.path().join("sync.git")).unwrap();
        (dir, repo)
    }

    #[test]
    fn head_is_main() {
        let (_dir, repo) = repo();
        assert_eq!(
            repo.git.find_reference("HEAD").unwrap().symbolic_target(),
            Some(MAIN)
        );
    }
}
