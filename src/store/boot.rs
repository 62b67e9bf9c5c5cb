//! Which run of the system, and which mount of the file system, the index
//! is written under (docs/protocol.md "Index: flushes").
//!
//! The index is derived, and every command holds the data directory's
//! lock, so its commits need not reach the disk before the command ends:
//! a process that dies (even by SIGKILL) leaves its writes, the rollback
//! journal among them, with the operating system, and the next command
//! rolls back a half-made commit. Only the system going down (a power cut,
//! a kernel crash) or the file system going away under it (a drive pulled
//! out) can lose unflushed pages, and so tear the index. Either changes the
//! token here: the kernel draws a new boot id at every start, and a file
//! system mounted again gets a new mount id. So the index's commits are
//! not flushed while `index/boot` holds this run's token; an index found
//! under any other token (or none) is deleted and made again from the logs
//! before it is read.
//!
//! The token file itself is written without a flush: whatever a crash
//! leaves of it names an earlier run, never the next one, whose boot id
//! nobody knew yet.
//!
//! Where no token can be had (another system than Linux, no `/proc`),
//! every commit is flushed, as SQLite does by default.

use std::path::Path;

use crate::error::Result;

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
/// (the caller makes them again from the logs) and the token written.
pub fn settle(dir: &Path, index: &Path) -> Result<Commits> {
    let marker = dir.join(FILE);
    let recorded = std::fs::read(&marker).ok();
    let now = token(dir);
    match (&now, &recorded) {
        (Some(now), Some(recorded)) if now.as_bytes() == recorded.as_slice() => {
            return Ok(Commits::Unflushed);
        }
        (None, None) => return Ok(Commits::Flushed),
        _ => {}
    }
    // Written under another run (or mount), or by a safe that flushed every
    // commit and wrote no token: a crash since may have torn it.
    super::index::remove_files(index)?;
    let Some(now) = now else {
        // No token any more: from here on every commit is flushed.
        let _ = std::fs::remove_file(&marker);
        return Ok(Commits::Flushed);
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options
        .open(&marker)
        .and_then(|mut file| std::io::Write::write_all(&mut file, now.as_bytes()));
    match written {
        Ok(()) => Ok(Commits::Unflushed),
        // A torn or missing token only makes the index again next time.
        Err(_) => Ok(Commits::Flushed),
    }
}

/// This run of the system and the mount that holds `dir`, as text; `None`
/// where either cannot be had.
#[cfg(target_os = "linux")]
pub fn token(dir: &Path) -> Option<String> {
    use rustix::fs::{AtFlags, CWD, StatxFlags, statx};
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let boot = boot.trim();
    if boot.is_empty() {
        return None;
    }
    // A mount id that is never used again in this run (`STATX_MNT_ID_UNIQUE`,
    // Linux 6.8) where the kernel has one; the older kind is freed with its
    // mount, and may be drawn again by the next.
    let unique = StatxFlags::from_bits_retain(0x4000);
    let st = statx(CWD, dir, AtFlags::empty(), unique | StatxFlags::MNT_ID).ok()?;
    let kind = if st.stx_mask & unique.bits() != 0 {
        "mount"
    } else if st.stx_mask & StatxFlags::MNT_ID.bits() != 0 {
        "mount-old"
    } else {
        return None;
    };
    Some(format!("boot {boot}\n{kind} {}\n", st.stx_mnt_id))
}

/// This run of the system and the mount that holds `dir`: not known here.
#[cfg(not(target_os = "linux"))]
pub fn token(_dir: &Path) -> Option<String> {
    None
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn the_token_is_this_runs_and_this_mounts() {
        let here = tempfile::tempdir().unwrap();
        let token = token(here.path()).expect("Linux has a boot id and mount ids");
        let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
        assert!(
            token.starts_with(&format!("boot {}\n", boot.trim())),
            "{token}"
        );
        assert_eq!(token, super::token(here.path()).unwrap(), "stable");
        // `/proc` is a mount of its own.
        assert_ne!(token, super::token(Path::new("/proc")).unwrap());
    }

    #[test]
    fn an_index_of_another_run_is_deleted_and_one_of_this_run_kept() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.sqlite");
        let journal = dir.path().join("index.sqlite-journal");
        std::fs::write(&index, b"pages").unwrap();
        std::fs::write(&journal, b"").unwrap();
        std::fs::write(dir.path().join(FILE), "boot 0\nmount 1\n").unwrap();

        assert_eq!(settle(dir.path(), &index).unwrap(), Commits::Unflushed);
        assert!(!index.exists() && !journal.exists(), "deleted");
        let now = token(dir.path()).unwrap();
        assert_eq!(std::fs::read_to_string(dir.path().join(FILE)).unwrap(), now);

        std::fs::write(&index, b"pages").unwrap();
        assert_eq!(settle(dir.path(), &index).unwrap(), Commits::Unflushed);
        assert_eq!(std::fs::read(&index).unwrap(), b"pages", "kept");
    }

    #[test]
    fn an_index_without_a_token_is_made_again_once() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.sqlite");
        std::fs::write(&index, b"written by a safe that flushed").unwrap();
        assert_eq!(settle(dir.path(), &index).unwrap(), Commits::Unflushed);
        assert!(!index.exists());
        assert!(dir.path().join(FILE).exists());
    }
}
