//! Rewriting the sidecars of a segment file: how a superseded shared note
//! leaves the disk (docs/protocol.md "Stripping superseded notes").
//!
//! A signature covers a line's payload only, so a sidecar can go (or, in
//! sync, be put back from the copy here) without touching a payload, a
//! signature or the chain: the file still verifies as it did. Which
//! sidecars go is decided by the journal (`journal::strip`); this file only
//! rewrites bytes, and does it so that a crash leaves the old file or the
//! new one, whole.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::domain::limits::MAX_FILE_BYTES;
use crate::error::{Error, Result};
use crate::keys::line;
use crate::store::{Lock, file};

/// A segment file that was rewritten, and its length before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    pub path: PathBuf,
    pub before: u64,
    pub after: u64,
}

/// Rewrite the segment at `path`, whose first line has seq `first_seq`,
/// so that each complete line's sidecar is what `sidecar(seq, current)`
/// says; payloads, signatures and any torn bytes after the last LF stay
/// byte for byte. Nothing is written when no sidecar changes.
///
/// The new file is written beside `log_root` (in `shared/`, where a
/// temporary file a crash leaves is cleared under the lock, and where no
/// log listing trips over it), flushed, and renamed over the old one; the
/// folder is flushed after. A line whose sidecar changes must name the
/// seq its place gives it: the caller read this file under the same lock,
/// and anything else means it did not, so nothing is written.
pub fn rewrite_sidecars(
    log_root: &Path,
    path: &Path,
    first_seq: u64,
    sidecar: impl FnMut(u64, Option<&str>) -> Option<String>,
    lock: &Lock,
) -> Result<Option<Rewritten>> {
    let Some(new) = with_sidecars(path, first_seq, sidecar)? else {
        return Ok(None);
    };
    new.put(log_root, lock).map(Some)
}

/// A segment's new bytes, not yet in place.
pub struct NewSegment {
    path: PathBuf,
    before: u64,
    bytes: Vec<u8>,
}

impl NewSegment {
    /// Put it in place of the old file, atomically (see [`rewrite_sidecars`]).
    pub fn put(self, log_root: &Path, _lock: &Lock) -> Result<Rewritten> {
        replace(log_root, &self.path, &self.bytes)?;
        Ok(Rewritten {
            after: self.bytes.len() as u64,
            before: self.before,
            path: self.path,
        })
    }
}

/// The bytes [`rewrite_sidecars`] would write, without writing them:
/// `None` when no sidecar changes.
pub fn with_sidecars(
    path: &Path,
    first_seq: u64,
    mut sidecar: impl FnMut(u64, Option<&str>) -> Option<String>,
) -> Result<Option<NewSegment>> {
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut changed = false;
    let mut from = 0;
    for (index, end) in memchr::memchr_iter(b'\n', &bytes).enumerate() {
        let text = &bytes[from..end];
        let raw = std::str::from_utf8(text)
            .ok()
            .and_then(|t| line::split(t).ok());
        let Some(raw) = raw else {
            // Not a line: it and everything after it stay as they are.
            break;
        };
        let seq = first_seq + index as u64;
        let new = sidecar(seq, raw.sidecar);
        if new.as_deref() == raw.sidecar {
            out.extend_from_slice(&bytes[from..=end]);
        } else {
            if line::header(raw.payload).map(|h| h.seq).ok() != Some(seq) {
                return Err(Error::runtime(format!(
                    "{}: line {} does not hold seq {seq}, so safe left the file as it is",
                    path.display(),
                    index + 1
                )));
            }
            if new.as_deref().is_some_and(|s| s.contains(['\t', '\n'])) {
                return Err(Error::runtime(format!(
                    "a sidecar for {} line {} holds a tab or a line break",
                    path.display(),
                    index + 1
                )));
            }
            // Payload and signature as stored: everything before the
            // second TAB (or the whole line when it has no sidecar).
            let kept = match raw.sidecar {
                Some(old) => &text[..text.len() - old.len() - 1],
                None => text,
            };
            out.extend_from_slice(kept);
            if let Some(new) = &new {
                out.push(b'\t');
                out.extend_from_slice(new.as_bytes());
            }
            out.push(b'\n');
            changed = true;
        }
        from = end + 1;
    }
    if !changed {
        return Ok(None);
    }
    out.extend_from_slice(&bytes[from..]);
    Ok(Some(NewSegment {
        path: path.to_path_buf(),
        before: bytes.len() as u64,
        bytes: out,
    }))
}

/// Put `bytes` in place of `path` atomically: a private temporary file
/// beside the log root, flushed, renamed, the folder flushed.
fn replace(log_root: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = log_root.parent().unwrap_or(log_root);
    file::ensure_dir(dir)?;
    // Named as `file::is_temporary` knows safe's temporary files, so a
    // crash's leftover is cleared under the next lock.
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .rand_bytes(6)
        .tempfile_in(dir)
        .map_err(|e| Error::io("write", path, e))?;
    debug_assert!(file::is_temporary(
        tmp.path().file_name().unwrap_or_default()
    ));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("write", path, e))?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_data())
        .map_err(|e| Error::io("write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("replace", path, e.error))?;
    let folder = path.parent().expect("a segment lives in a folder");
    fs::File::open(folder)
        .and_then(|handle| handle.sync_all())
        .map_err(|e| Error::io("flush", folder, e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;
    use crate::keys::line::{LogKind, NoteSidecar, Record};
    use crate::store::segment::{append_batch, read_log, segments};

    const JOURNAL: &str = "j-1";

    fn lock(dir: &Path) -> Lock {
        crate::store::DataDir::new(dir.to_path_buf())
            .lock()
            .unwrap()
    }

    /// A shared log of three entries, the first two with a note.
    fn log_with_notes(root: &Path, key: &DeviceKey, lock: &Lock) -> Vec<String> {
        let mut sidecars = Vec::new();
        for (i, note) in ["first-marker", "second-marker"].iter().enumerate() {
            let (_, sidecar) = NoteSidecar::seal(note).unwrap();
            let rec = format!(r#"{{"n":{i}}}"#);
            let records = [Record {
                rec: &rec,
                sidecar: Some(&sidecar),
            }];
            append_batch(root, key, JOURNAL, LogKind::Shared, "op", &records, lock).unwrap();
            sidecars.push(sidecar);
        }
        let records = [Record {
            rec: r#"{"n":2}"#,
            sidecar: None,
        }];
        append_batch(root, key, JOURNAL, LogKind::Shared, "op", &records, lock).unwrap();
        sidecars
    }

    #[test]
    fn a_stripped_segment_still_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        let root = dir.path().join("shared").join("log");
        let key = DeviceKey::generate().unwrap();
        let sidecars = log_with_notes(&root, &key, &lock);
        let read = || read_log(&root, &key.id(), &key.public(), JOURNAL, LogKind::Shared).unwrap();
        let before = read();
        let segment = &segments(&root, &key.id()).unwrap()[0];
        let done = rewrite_sidecars(
            &root,
            &segment.path,
            segment.first_seq,
            |seq, current| (seq != 1).then(|| current.map(str::to_string)).flatten(),
            &lock,
        )
        .unwrap()
        .expect("a sidecar went");
        assert_eq!(done.before - done.after, 1 + sidecars[0].len() as u64);
        let after = read();
        assert_eq!(after.quarantine, None, "the stripped log verifies whole");
        assert_eq!(after.head, before.head);
        assert_eq!(after.lines.len(), 3);
        for (a, b) in after.lines.iter().zip(&before.lines) {
            assert_eq!((&a.payload, a.sig), (&b.payload, b.sig));
        }
        let kept: Vec<Option<&str>> = after.lines.iter().map(|l| l.sidecar.as_deref()).collect();
        assert_eq!(kept, [None, Some(sidecars[1].as_str()), None]);
        let bytes = fs::read(&segment.path).unwrap();
        assert!(!bytes.windows(12).any(|w| w == b"first-marker"));
        // No temporary file is left anywhere.
        let shared = fs::read_dir(dir.path().join("shared")).unwrap().count();
        assert_eq!(shared, 1, "only shared/log");
    }

    #[test]
    fn nothing_is_written_when_no_sidecar_changes_and_torn_bytes_stay() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        let root = dir.path().join("shared").join("log");
        let key = DeviceKey::generate().unwrap();
        log_with_notes(&root, &key, &lock);
        let segment = &segments(&root, &key.id()).unwrap()[0];
        let same = rewrite_sidecars(
            &root,
            &segment.path,
            1,
            |_, current| current.map(str::to_string),
            &lock,
        )
        .unwrap();
        assert_eq!(same, None);
        // A torn tail (what a crash leaves) is kept byte for byte.
        let mut bytes = fs::read(&segment.path).unwrap();
        bytes.extend_from_slice(b"{\"v\":2,\"torn");
        fs::write(&segment.path, &bytes).unwrap();
        rewrite_sidecars(&root, &segment.path, 1, |_, _| None, &lock)
            .unwrap()
            .unwrap();
        let after = fs::read(&segment.path).unwrap();
        assert!(after.ends_with(b"\n{\"v\":2,\"torn"));
        assert!(!after.windows(6).any(|w| w == b"marker"));
    }

    #[test]
    fn a_file_that_is_not_what_the_caller_read_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let lock = lock(dir.path());
        let root = dir.path().join("shared").join("log");
        let key = DeviceKey::generate().unwrap();
        log_with_notes(&root, &key, &lock);
        let segment = &segments(&root, &key.id()).unwrap()[0];
        let before = fs::read(&segment.path).unwrap();
        // Told the file starts at seq 5, it finds seq 1 on its first line.
        let err = rewrite_sidecars(&root, &segment.path, 5, |_, _| None, &lock).unwrap_err();
        assert!(err.to_string().contains("does not hold seq 5"), "{err}");
        assert_eq!(fs::read(&segment.path).unwrap(), before);
    }
}
