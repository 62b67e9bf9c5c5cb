//! What `shared/`'s files looked like at the last sync (size and
//! modification time) and their blob ids, so that a sync reads and hashes only the files that
//! changed since, as git's index does. Ten years of journal are some 30 MB;
//! hashing them all on every sync would make each sync grow with history.
//!
//! It lives in `sync.git`, and is only ever a shortcut: a missing or damaged
//! record means "hash the file", never a different answer.

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use git2::Oid;
use serde::{Deserialize, Serialize};

/// A file changed this recently might change again within the same tick of
/// a coarse file-system clock without its times moving: never trust it.
const RACY: Duration = Duration::from_secs(3);

/// What identifies one version of a file without reading it. Every write
/// safe makes is an append or a rename of a new file, so its modification
/// time moves. The change time and inode are left out on purpose: a copy
/// of the data directory that keeps times (`cp -a`, a restored backup) has
/// the same files, and need not hash them all again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    len: u64,
    modified_ns: i64,
}

impl Stamp {
    fn of(meta: &Metadata) -> Stamp {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let ns =
                |secs: i64, nanos: i64| secs.saturating_mul(1_000_000_000).saturating_add(nanos);
            Stamp {
                len: meta.len(),
                modified_ns: ns(meta.mtime(), meta.mtime_nsec()),
            }
        }
        #[cfg(not(unix))]
        {
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok());
            Stamp {
                len: meta.len(),
                modified_ns: modified
                    .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)),
            }
        }
    }

    /// Old enough that a later change must move its times.
    fn settled(&self, now: SystemTime) -> bool {
        let now = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let last = u128::try_from(self.modified_ns).unwrap_or(0);
        last > 0 && now.saturating_sub(last) > RACY.as_nanos()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Seen {
    #[serde(flatten)]
    stamp: Stamp,
    oid: String,
}

/// The record, by path inside `shared/`.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct StatCache {
    files: BTreeMap<String, Seen>,
    #[serde(skip)]
    path: PathBuf,
    /// Changed since it was loaded or saved: an unchanged record is not
    /// written again.
    #[serde(skip)]
    changed: bool,
}

impl StatCache {
    /// The record named `file_name` in `git_dir`; empty when there is none
    /// or it does not parse.
    pub(crate) fn load_named(git_dir: &Path, file_name: &str) -> StatCache {
        let path = git_dir.join(file_name);
        let mut cache: StatCache = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        cache.path = path;
        cache
    }

    /// The blob id of the file at `rel`, if it is the version last recorded.
    pub fn lookup(&self, rel: &str, meta: &Metadata) -> Option<Oid> {
        let seen = self.files.get(rel)?;
        (seen.stamp == Stamp::of(meta))
            .then(|| Oid::from_str(&seen.oid).ok())
            .flatten()
    }

    /// Remember `rel`'s blob id, unless it changed too recently to be sure.
    pub fn record(&mut self, rel: &str, meta: &Metadata, oid: Oid, now: SystemTime) {
        let stamp = Stamp::of(meta);
        if stamp.settled(now) {
            let seen = Seen {
                stamp,
                oid: oid.to_string(),
            };
            if self.files.get(rel) != Some(&seen) {
                self.files.insert(rel.to_string(), seen);
                self.changed = true;
            }
        } else {
            self.changed |= self.files.remove(rel).is_some();
        }
    }

    /// Save the record, if it changed. Failing to is harmless: the next
    /// sync hashes more.
    pub fn save(&mut self) {
        if !self.changed {
            return;
        }
        if let Ok(bytes) = serde_json::to_vec(self)
            && crate::store::file::write_atomic(&self.path, &bytes).is_ok()
        {
            self.changed = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_trusted_only_while_unchanged_and_settled() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("2026-11.json");
        std::fs::write(&file, b"one").unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        let oid = Oid::hash_object(git2::ObjectType::Blob, b"one").unwrap();
        let mut cache = StatCache::load_named(dir.path(), "stat.json");

        // Just written: too fresh to trust.
        cache.record("log/2026-11.json", &meta, oid, SystemTime::now());
        assert_eq!(cache.lookup("log/2026-11.json", &meta), None);

        // Written a minute ago: settled.
        let minute_ago = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .and_then(|f| f.set_modified(minute_ago))
            .unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        cache.record("log/2026-11.json", &meta, oid, SystemTime::now());
        assert_eq!(cache.lookup("log/2026-11.json", &meta), Some(oid));
        cache.save();
        assert_eq!(
            StatCache::load_named(dir.path(), "stat.json").lookup("log/2026-11.json", &meta),
            Some(oid)
        );

        // Replaced the way safe writes: a new file renamed over the old one.
        let tmp = dir.path().join("tmp");
        std::fs::write(&tmp, b"two").unwrap();
        std::fs::rename(&tmp, &file).unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(cache.lookup("log/2026-11.json", &meta), None);
    }

    #[test]
    fn a_copy_that_keeps_its_time_is_still_known() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("0000000001.jsonl");
        std::fs::write(&file, b"one").unwrap();
        let minute_ago = SystemTime::now() - Duration::from_secs(60);
        let set_time = |path: &Path| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .and_then(|f| f.set_modified(minute_ago))
                .unwrap();
        };
        set_time(&file);
        let oid = Oid::hash_object(git2::ObjectType::Blob, b"one").unwrap();
        let mut cache = StatCache::load_named(dir.path(), "stat.json");
        cache.record(
            "log/1",
            &std::fs::metadata(&file).unwrap(),
            oid,
            SystemTime::now(),
        );

        // As `cp -a` restores it: another inode, a new change time.
        let copy = dir.path().join("copy");
        std::fs::copy(&file, &copy).unwrap();
        set_time(&copy);
        std::fs::rename(&copy, &file).unwrap();
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(cache.lookup("log/1", &meta), Some(oid));
    }

    #[test]
    fn a_damaged_record_is_no_record() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stat.json"), b"{not json").unwrap();
        assert!(
            StatCache::load_named(dir.path(), "stat.json")
                .files
                .is_empty()
        );
    }
}
