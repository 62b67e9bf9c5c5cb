//! `sync.git`, the bare repository that carries the journal: trees built
//! straight from blobs (no working tree, no index), commits, and reading a
//! commit back as journal files, checked as untrusted input.
//!
//! Unchanged files keep their blob and an unchanged `log/` keeps its tree, so
//! a sync after one new entry writes one month blob, the `log` tree, the root
//! tree and a commit, however long the journal is.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{
    ErrorCode, ObjectType, Oid, Repository, RepositoryInitOptions, Signature, TreeWalkMode,
};

use super::journal::{JournalPath, MAX_FILE_BYTES, not_a_journal, too_big};
use crate::domain::month::YearMonth;
use crate::error::{Error, Result};
use crate::store::file;

/// The branch both partners share.
pub const MAIN: &str = "refs/heads/main";
/// The remote's `main` as last fetched.
pub const ORIGIN_MAIN: &str = "refs/remotes/origin/main";

/// The journal files of one commit: where each lives and its blob.
pub type Files = BTreeMap<JournalPath, Oid>;

/// Regular files only: a symlink or a submodule in a journal is an attack or a
/// mistake, never something safe wrote.
const FILE_MODES: [i32; 2] = [0o100644, 0o100755];

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

    /// Is `commit` a descendant of `ancestor`?
    pub fn descends_from(&self, commit: Oid, ancestor: Oid) -> Result<bool> {
        self.git
            .graph_descendant_of(commit, ancestor)
            .map_err(|e| self.failed("read", e))
    }

    /// The journal files of a commit. Anything a journal never holds (other
    /// names, directories, symlinks, blobs over the size limit) is refused
    /// with an error naming it; `url` names the repository it came from.
    pub fn files_of(&self, commit: Oid, url: &str) -> Result<Files> {
        let tree = self
            .git
            .find_commit(commit)
            .and_then(|c| c.tree())
            .map_err(|e| self.failed("read", e))?;
        let mut files = Files::new();
        let mut problem: Option<String> = None;
        // Walk the whole tree (pre-order) so that every entry is looked at.
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let name = entry.name().unwrap_or("(a name that is not UTF-8)");
            let kind = entry.kind();
            let is_file = kind == Some(ObjectType::Blob) && FILE_MODES.contains(&entry.filemode());
            let path = match (dir, name) {
                ("", JournalPath::PEOPLE) if is_file => Some(JournalPath::People),
                ("", JournalPath::PRACTICES) if is_file => Some(JournalPath::Practices),
                ("", JournalPath::LOG) if kind == Some(ObjectType::Tree) => None,
                ("log/", _) if is_file => YearMonth::from_file_name(name).map(JournalPath::Month),
                _ => {
                    problem = Some(format!("{dir}{name}"));
                    return git2::TreeWalkResult::Abort;
                }
            };
            if let Some(path) = path {
                files.insert(path, entry.id());
            } else if dir == "log/" {
                problem = Some(format!("{dir}{name}"));
                return git2::TreeWalkResult::Abort;
            }
            git2::TreeWalkResult::Ok
        })
        .or_else(|e| if problem.is_some() { Ok(()) } else { Err(e) })
        .map_err(|e| self.failed("read", e))?;
        if let Some(what) = problem {
            return Err(not_a_journal(url, &what));
        }
        Ok(files)
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

    /// The root tree for `files`: `people.json`, `practices.json`, `log/`.
    pub fn write_tree(&self, files: &Files) -> Result<Oid> {
        let fail = |e| self.failed("write to", e);
        let mut log = self.git.treebuilder(None).map_err(fail)?;
        let mut root = self.git.treebuilder(None).map_err(fail)?;
        for (path, oid) in files {
            match path {
                JournalPath::Month(month) => {
                    log.insert(month.file_name(), *oid, 0o100644).map(|_| ())
                }
                other => root.insert(other.rel(), *oid, 0o100644).map(|_| ()),
            }
            .map_err(fail)?;
        }
        if !log.is_empty() {
            let log = log.write().map_err(fail)?;
            root.insert(JournalPath::LOG, log, 0o040000).map_err(fail)?;
        }
        root.write().map_err(fail)
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

    fn signature() -> Signature<'static> {
        Signature::new("Alex", "a@safe.invalid", &git2::Time::new(0, 0)).unwrap()
    }

    #[test]
    fn head_is_main_and_trees_round_trip() {
        let (_dir, repo) = repo();
        assert_eq!(
            repo.git.find_reference("HEAD").unwrap().symbolic_target(),
            Some(MAIN)
        );
        let mut files = Files::new();
        files.insert(JournalPath::People, repo.write_blob(b"{}").unwrap());
        files.insert(
            JournalPath::Month(YearMonth {
                year: 2026,
                month: 11,
            }),
            repo.write_blob(b"[]").unwrap(),
        );
        let tree = repo.write_tree(&files).unwrap();
        let commit = repo.commit(tree, &[], &signature(), "test").unwrap();
        assert_eq!(repo.files_of(commit, "r").unwrap(), files);
    }

    #[test]
    fn foreign_trees_are_refused_by_name() {
        let (_dir, repo) = repo();
        let blob = repo.write_blob(b"hello").unwrap();
        let cases: &[(&str, &[(&str, i32)])] = &[
            ("README.md", &[("README.md", 0o100644)]),
            ("log/notes.txt", &[("log/notes.txt", 0o100644)]),
            ("people.json", &[("people.json", 0o120000)]),
        ];
        for (what, entries) in cases {
            let mut root = repo.git.treebuilder(None).unwrap();
            for (name, mode) in *entries {
                if let Some(rest) = name.strip_prefix("log/") {
                    let mut log = repo.git.treebuilder(None).unwrap();
                    log.insert(rest, blob, *mode).unwrap();
                    root.insert("log", log.write().unwrap(), 0o040000).unwrap();
                } else {
                    root.insert(*name, blob, *mode).unwrap();
                }
            }
            let commit = repo
                .commit(root.write().unwrap(), &[], &signature(), "x")
                .unwrap();
            let err = repo.files_of(commit, "r").unwrap_err();
            assert_eq!(
                err.message(),
                format!("r is not a safe journal: it holds `{what}`")
            );
        }
    }
}
