//! Which run of the system, and which mount of the file system, the index
//! is written under (docs/protocol.md "Index: the run it is written
//! under").
//!
//! The index is derived, and every command holds the data directory's
//! lock, so its commits need not reach the disk before the command ends:
//! a process that dies (even by SIGKILL) leaves its writes, the rollback
//! journal among them, with the operating system, and the next command
//! rolls back a half-made commit. Only the system going down (a power cut,
//! a kernel crash) or the file system going away under it (a drive pulled
//! out) can lose unflushed pages, and so tear the index. Either changes the
//! token here: the kernel draws a new boot id at every start, and a file
//! system mounted again gets a new mount id, never drawn before in that
//! run. So the index's commits are not flushed while `index/boot` holds
//! this run's token; an index found under any other token (or none) is
//! deleted and made again from the logs before it is read.
//!
//! A new token is flushed, once a run: whatever a crash leaves of the file
//! then names an earlier run (never the next, whose boot id nobody knew
//! yet), and a missing file means the index was never written unflushed.
//!
//! There is no token, and every commit is flushed as SQLite does by
//! default, where the index lies on a file system not known to be local
//! (a network or FUSE mount can lose writes while its mount stays), where
//! the kernel has no unique mount id (before Linux 6.8: the older id is
//! drawn again by the next mount), or off Linux.

use std::path::Path;

use crate::error::{Error, Result};

/// The file in `index/` that holds the token the index is written under.
pub const FILE: &str = "boot";

/// How the index's commits reach the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Commits {
    /// Each commit is flushed before the command goes on.
    Flushed,
    /// Commits are left to the operating system: the index is trusted only
    /// under the token it was written under.
    Unflushed,
}

/// Decide how the index at `index` (in the folder `dir`, under the data
/// directory's lock, before the index is opened) is written: unflushed when
/// `dir/boot` holds this run's token. Otherwise the index files are deleted
/// (the caller makes them again from the logs) and this run's token, if
/// there is one, written in place of the old.
pub fn settle(dir: &Path, index: &Path) -> Result<Commits> {
    settle_under(dir, index, token(dir))
}

/// [`settle`] with this run's token given.
fn settle_under(dir: &Path, index: &Path, now: Option<String>) -> Result<Commits> {
    let marker = dir.join(FILE);
    let recorded = std::fs::read(&marker).ok();
    match (&now, &recorded) {
        (Some(now), Some(recorded)) if now.as_bytes() == recorded.as_slice() => {
            return Ok(Commits::Unflushed);
        }
        // Never written unflushed: every commit was flushed.
        (None, None) => return Ok(Commits::Flushed),
        _ => {}
    }
    // Written under another run (or mount), or by a safe that flushed every
    // commit and wrote no token: a crash since may have torn it.
    super::index::remove_files(index)?;
    let settled = match now {
        // Written to a temporary file, flushed, renamed, its folder flushed.
        Some(now) => {
            super::file::write_atomic(&marker, now.as_bytes()).map(|()| Commits::Unflushed)
        }
        // No token any more: from here on every commit is flushed, and the
        // old token goes once the index it covered has gone for good.
        None => remove_flushed(dir, &marker).map(|()| Commits::Flushed),
    };
    settled.map_err(|e| {
        e.with_hint(
            "safe keeps there which run of the system the index was written under; \
             make index/ writable, or delete it",
        )
    })
}

/// Remove `path` from `dir` once what was removed from `dir` before is on
/// the disk, and flush `dir` again.
fn remove_flushed(dir: &Path, path: &Path) -> Result<()> {
    super::file::sync_dir(dir)?;
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io("remove", path, e)),
        _ => super::file::sync_dir(dir),
    }
}

/// This run of the system and the mount that holds `dir`, as text; `None`
/// where either cannot be had, or `dir` is on a file system that is not
/// known to be local.
#[cfg(target_os = "linux")]
pub fn token(dir: &Path) -> Option<String> {
    use rustix::fs::{AtFlags, CWD, StatxFlags, statfs, statx};
    if !LOCAL.contains(&(statfs(dir).ok()?.f_type as u32)) {
        return None;
    }
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let boot = boot.trim();
    if boot.is_empty() {
        return None;
    }
    // `STATX_MNT_ID_UNIQUE` (Linux 6.8): a mount id never drawn twice in
    // one run. The older `STATX_MNT_ID` is freed with its mount, and the
    // next mount may draw it again.
    let unique = StatxFlags::from_bits_retain(0x4000);
    let st = statx(CWD, dir, AtFlags::empty(), unique).ok()?;
    if st.stx_mask & unique.bits() == 0 {
        return None;
    }
    Some(format!("boot {boot}\nmount {}\n", st.stx_mnt_id))
}

/// File systems on a disk of this machine (or in its memory), whose pages
/// are lost only with the system or the mount (`statfs` magic numbers):
/// ext2/3/4, XFS, Btrfs, F2FS, bcachefs, ZFS, tmpfs, and overlayfs (a
/// container's root, over one of these).
#[cfg(target_os = "linux")]
const LOCAL: [u32; 8] = [
    0xEF53,
    0x5846_5342,
    0x9123_683E,
    0xF2F5_2010,
    0xCA45_1A4E,
    0x2FC1_2FC1,
    0x0102_1994,
    0x794C_7630,
];

/// This run of the system and the mount that holds `dir`: not known here.
#[cfg(not(target_os = "linux"))]
pub fn token(_dir: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const THIS: &str = "boot 11\nmount 2147483650\n";
    const EARLIER: &str = "boot 10\nmount 2147483650\n";

    /// A folder with an index, its journal, and `token` in `boot`.
    fn folder(token: Option<&str>) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.sqlite");
        std::fs::write(&index, b"pages").unwrap();
        std::fs::write(dir.path().join("index.sqlite-journal"), b"").unwrap();
        if let Some(token) = token {
            std::fs::write(dir.path().join(FILE), token).unwrap();
        }
        (dir, index)
    }

    fn recorded(dir: &tempfile::TempDir) -> Option<String> {
        std::fs::read_to_string(dir.path().join(FILE)).ok()
    }

    #[test]
    fn an_index_of_this_run_is_kept_unflushed() {
        let (dir, index) = folder(Some(THIS));
        let commits = settle_under(dir.path(), &index, Some(THIS.into())).unwrap();
        assert_eq!(commits, Commits::Unflushed);
        assert_eq!(std::fs::read(&index).unwrap(), b"pages", "kept");
        assert_eq!(recorded(&dir).as_deref(), Some(THIS));
    }

    #[test]
    fn an_index_of_another_run_is_deleted_then_kept() {
        let (dir, index) = folder(Some(EARLIER));
        let commits = settle_under(dir.path(), &index, Some(THIS.into())).unwrap();
        assert_eq!(commits, Commits::Unflushed);
        assert!(!index.exists(), "deleted");
        assert!(
            !dir.path().join("index.sqlite-journal").exists(),
            "its journal too"
        );
        assert_eq!(recorded(&dir).as_deref(), Some(THIS));
        // Made again, it is kept from then on.
        std::fs::write(&index, b"pages").unwrap();
        let commits = settle_under(dir.path(), &index, Some(THIS.into())).unwrap();
        assert_eq!(commits, Commits::Unflushed);
        assert_eq!(std::fs::read(&index).unwrap(), b"pages");
    }

    #[test]
    fn an_index_without_a_token_is_made_again_once() {
        // As a safe that flushed every commit left it.
        let (dir, index) = folder(None);
        let commits = settle_under(dir.path(), &index, Some(THIS.into())).unwrap();
        assert_eq!(commits, Commits::Unflushed);
        assert!(!index.exists());
        assert_eq!(recorded(&dir).as_deref(), Some(THIS));
        std::fs::write(&index, b"pages").unwrap();
        settle_under(dir.path(), &index, Some(THIS.into())).unwrap();
        assert_eq!(
            std::fs::read(&index).unwrap(),
            b"pages",
            "kept the second time"
        );
    }

    #[test]
    fn where_there_is_no_token_every_commit_is_flushed() {
        let (dir, index) = folder(None);
        let commits = settle_under(dir.path(), &index, None).unwrap();
        assert_eq!(commits, Commits::Flushed);
        assert_eq!(
            std::fs::read(&index).unwrap(),
            b"pages",
            "never unflushed: kept"
        );
        assert_eq!(recorded(&dir), None);
    }

    #[test]
    fn an_index_written_unflushed_is_deleted_where_the_token_is_lost() {
        // Say, the next run has no `/proc`.
        let (dir, index) = folder(Some(EARLIER));
        let commits = settle_under(dir.path(), &index, None).unwrap();
        assert_eq!(commits, Commits::Flushed);
        assert!(!index.exists(), "deleted");
        assert_eq!(recorded(&dir), None, "and its token");
        std::fs::write(&index, b"pages").unwrap();
        settle_under(dir.path(), &index, None).unwrap();
        assert_eq!(
            std::fs::read(&index).unwrap(),
            b"pages",
            "kept from then on"
        );
    }

    #[test]
    fn a_token_that_cannot_be_written_is_an_error_that_says_where() {
        let (dir, index) = folder(None);
        std::fs::create_dir(dir.path().join(FILE)).unwrap();
        let err = settle_under(dir.path(), &index, Some(THIS.into())).unwrap_err();
        assert!(err.to_string().contains("boot"), "{err}");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_token_is_this_runs_and_this_mounts() {
        let here = tempfile::tempdir().unwrap();
        let Some(token) = token(here.path()) else {
            // A kernel before 6.8, or a temporary folder that is not local.
            eprintln!("no token here: every commit is flushed");
            return;
        };
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
        assert!(
            token.starts_with(&format!("boot {}\nmount ", boot.trim())),
            "{token}"
        );
        assert_eq!(Some(&token), super::token(here.path()).as_ref(), "stable");
        // `/dev/shm` is a mount of its own (tmpfs).
        if let Some(other) = super::token(Path::new("/dev/shm")) {
            assert_ne!(token, other);
        }
        // `/proc` is no file system for an index.
        assert_eq!(super::token(Path::new("/proc")), None);
    }
}
