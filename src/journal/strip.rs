//! Stripping superseded shared notes (DESIGN.md §3 "Notes and deletion";
//! docs/protocol.md "Stripping superseded notes").
//!
//! A version of an entry keeps its sidecar only while no version of the same
//! entry with a greater stamp has been folded. The fold is a function of the
//! set of lines and lines only ever arrive, so a version that lost once loses
//! for good: stripping never has to be undone, and every device that holds
//! the superseding line decides alike.
//!
//! The index holds every entry's winner; the lines about to be fed to it
//! (and the waiting lines it is about to release) are the only ones that
//! can make a version lose. So before each feed, the winners of the keys
//! those lines touch are looked up, the new winners worked out, and every
//! version that carries a note and lost (the old winner, or a fed line that
//! never won) has its sidecar cut from the segment that holds it, before
//! the index takes the lines. A crash between the two leaves segments that
//! no longer match the index's marks, and the index is made again from the
//! logs, which strips all that is superseded once more.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::indexed::Indexed;
use super::reading::{log_key, log_root};
use crate::domain::entry::EntryId;
use crate::domain::fold::{AHEAD_MS, Line};
use crate::domain::record::{Record, Rev};
use crate::error::Result;
use crate::keys::DeviceId;
use crate::keys::line::LogKind;
use crate::store::index::{EntryWinner, Index, SegmentMark};
use crate::store::{Lock, segment, strip};

/// An entry's key in the fold: (owner, entry id).
type Key = (String, String);

/// Where a version stands among the versions of its entry, as the fold
/// ranks them: rev, then device id, then seq.
type Stamp = (Rev, String, u64);

/// One version of an entry (or a tombstone) that takes part in the fold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Version {
    key: Key,
    stamp: Stamp,
    /// It carries a shared note (a sidecar that opens under its `h`).
    noted: bool,
}

impl Version {
    /// A line as a version, if the fold at `now_ms` folds it as one: an
    /// entry or a removal that reads and keeps its limits and is not too
    /// far ahead to fold yet (a waiting line keeps its sidecar, since it may
    /// still win).
    fn of(line: &Line<'_>, now_ms: u64) -> Option<Version> {
        let record = line.rec.as_ref().ok()?;
        let (id, rev, noted) = match record {
            Record::Entry(r) => (r.id, r.rev, line.note.is_some()),
            Record::Remove(r) => (r.id, r.rev, false),
            _ => return None,
        };
        if rev.ms > now_ms.saturating_add(AHEAD_MS) || record.check().is_err() {
            return None;
        }
        Some(Version {
            key: (line.owner.to_string(), id.to_string()),
            stamp: (rev, line.device.to_string(), line.seq),
            noted,
        })
    }

    fn winner(key: &Key, w: &EntryWinner) -> Version {
        Version {
            key: key.clone(),
            stamp: (w.rev, w.device.clone(), w.seq),
            noted: w.noted,
        }
    }
}

/// The (device, seq) of every version that carries a note and is beaten by
/// another version of its entry, among `fed` and the winners held `before`,
/// with the owner of the entry.
fn superseded(
    before: &BTreeMap<Key, EntryWinner>,
    fed: &[Version],
) -> BTreeMap<(String, u64), String> {
    let mut by_key: BTreeMap<&Key, Vec<Version>> = BTreeMap::new();
    for version in fed {
        by_key
            .entry(&version.key)
            .or_default()
            .push(version.clone());
    }
    let mut cut = BTreeMap::new();
    for (key, mut versions) in by_key {
        if let Some(winner) = before.get(key) {
            versions.push(Version::winner(key, winner));
        }
        let top = versions
            .iter()
            .map(|v| v.stamp.clone())
            .max()
            .expect("a key has a version");
        for v in versions.into_iter().filter(|v| v.noted && v.stamp < top) {
            cut.insert((v.stamp.1, v.stamp.2), v.key.0);
        }
    }
    cut
}

/// What one feed of the index is about to take.
pub(super) struct Feed<'f, 'l> {
    pub lines: &'f mut [Line<'l>],
    /// The segment marks the feed records, by path relative to the data
    /// directory.
    pub marks: &'f mut Vec<(String, SegmentMark)>,
    pub now_ms: u64,
    /// The index was just made again, empty: it holds no winner, and the
    /// lines are every line of every log.
    pub fresh: bool,
    /// The person this device writes as: their own notes are kept in the
    /// stash when they are cut, for undo and redo.
    pub me: Option<&'f str>,
}

/// Cut the sidecars that `feed` supersedes from the shared logs under
/// `root`, before the index takes it: the fed lines lose their notes, the
/// marks and `indexed`'s digests follow the rewritten segments. Whether
/// anything was cut (the index then forgets, after the feed).
pub(super) fn before_feed(
    root: &Path,
    index: &Index,
    indexed: &mut Indexed,
    feed: Feed<'_, '_>,
    lock: &Lock,
) -> Result<bool> {
    let Feed {
        lines,
        marks,
        now_ms,
        fresh,
        me,
    } = feed;
    let due = match fresh {
        true => Vec::new(),
        false => index.due_waiting(now_ms)?,
    };
    let due_lines: Vec<Line<'_>> = due
        .iter()
        .map(|w| {
            let mut line = Line::read(&w.owner, &w.device, w.seq, &w.op, &w.rec);
            // Only whether it has a note matters here.
            line.note = w.noted.then(String::new);
            line
        })
        .collect();
    // Made again, the index holds no winner: only an entry with a note
    // among the lines can lose one, and the rest need not be looked at (a
    // journal of ten years is fed whole here).
    let noted: Option<BTreeSet<(&str, EntryId)>> = fresh.then(|| {
        lines
            .iter()
            .filter(|l| l.note.is_some())
            .filter_map(|l| match &l.rec {
                Ok(Record::Entry(r)) => Some((l.owner, r.id)),
                _ => None,
            })
            .collect()
    });
    let counts = |line: &&Line<'_>| {
        let id = match &line.rec {
            Ok(Record::Entry(r)) => r.id,
            Ok(Record::Remove(r)) => r.id,
            _ => return false,
        };
        noted.as_ref().is_none_or(|n| n.contains(&(line.owner, id)))
    };
    let fed: Vec<Version> = lines
        .iter()
        .chain(&due_lines)
        .filter(counts)
        .filter_map(|line| Version::of(line, now_ms))
        .collect();
    if fed.is_empty() {
        return Ok(false);
    }
    let keys: BTreeSet<&Key> = fed.iter().map(|v| &v.key).collect();
    let before = match fresh {
        true => BTreeMap::new(),
        false => index.entry_winners(keys)?,
    };
    let cut = superseded(&before, &fed);
    if cut.is_empty() {
        return Ok(false);
    }
    for line in lines.iter_mut() {
        if cut.contains_key(&(line.device.to_string(), line.seq)) {
            line.note = None;
        }
    }
    // By device: each seq to cut, and whether its note is mine to stash.
    let mut by_device: BTreeMap<&str, BTreeMap<u64, bool>> = BTreeMap::new();
    for ((device, seq), owner) in &cut {
        let mine = me == Some(owner.as_str());
        by_device.entry(device).or_default().insert(*seq, mine);
    }
    for (device, seqs) in by_device {
        let Some(device) = DeviceId::parse(device) else {
            continue;
        };
        let rewritten = strip_log(root, indexed, &device, &seqs, lock)?;
        for done in &rewritten {
            follow(root, index, marks, done)?;
        }
        if !rewritten.is_empty() {
            let log_root = log_root(root, LogKind::Shared);
            if let Some(note) = indexed.logs.get_mut(&log_key(LogKind::Shared, &device)) {
                note.digest.0 = super::indexed::fingerprint(&log_root, &device)?;
            }
        }
    }
    Ok(true)
}

/// Cut the sidecars of `seqs` from `device`'s shared log. A segment the
/// log is quarantined from is never rewritten (a file that fails is left
/// as it is); nor is anything past it, which no reader uses.
fn strip_log(
    root: &Path,
    indexed: &Indexed,
    device: &DeviceId,
    seqs: &BTreeMap<u64, bool>,
    lock: &Lock,
) -> Result<Vec<strip::Rewritten>> {
    let log_root = log_root(root, LogKind::Shared);
    let damaged = indexed
        .logs
        .get(&log_key(LogKind::Shared, device))
        .and_then(|n| n.damage.as_ref())
        .map(|d| root.join(&d.path));
    let segments = segment::segments(&log_root, device)?;
    let mut out = Vec::new();
    for (i, seg) in segments.iter().enumerate() {
        if damaged.as_deref() == Some(seg.path.as_path()) {
            break;
        }
        let end = segments.get(i + 1).map_or(u64::MAX, |next| next.first_seq);
        if seqs.range(seg.first_seq..end).next().is_none() {
            continue;
        }
        let mut stashed = Vec::new();
        let keep = |seq: u64, current: Option<&str>| match (seqs.get(&seq), current) {
            (None, current) => current.map(str::to_string),
            (Some(mine), Some(sidecar)) => {
                if *mine {
                    stashed.push(Stashed {
                        device: device.to_string(),
                        seq,
                        sidecar: sidecar.to_string(),
                    });
                }
                None
            }
            (Some(_), None) => None,
        };
        let Some(new) = strip::with_sidecars(&seg.path, seg.first_seq, keep)? else {
            continue;
        };
        // Kept before it is cut: a crash never loses my own note.
        stash(root, &stashed)?;
        out.push(new.put(&log_root, lock)?);
    }
    Ok(out)
}

/// Where a device keeps its person's own shared notes that it cut, so that
/// undo and redo can bring them back: in `private/`, never synced.
const STASH: &str = "private/stripped-notes.jsonl";

/// One cut note of my own: the sidecar as it was, and the line it was on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Stashed {
    device: String,
    seq: u64,
    sidecar: String,
}

/// Append `notes` to the stash (0600) and flush it.
fn stash(root: &Path, notes: &[Stashed]) -> Result<()> {
    use std::io::Write;
    if notes.is_empty() {
        return Ok(());
    }
    let path = root.join(STASH);
    crate::store::file::ensure_dir(path.parent().expect("the stash lives in private/"))?;
    let mut text = String::new();
    for note in notes {
        text.push_str(&serde_json::to_string(note).expect("a note serialises"));
        text.push('\n');
    }
    let mut options = std::fs::OpenOptions::new();
    options.create(true).append(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
        .open(&path)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_data()
        })
        .map_err(|e| crate::error::Error::io("write", &path, e))
}

/// The sidecars of my own cut notes, by (device, seq). A line of the
/// stash that does not read (a torn end) is passed over; a sidecar is
/// used only where it opens under the line's own `h`.
pub(super) fn stashed(root: &Path) -> Result<BTreeMap<(String, u64), String>> {
    let path = root.join(STASH);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(crate::error::Error::io("read", &path, e)),
    };
    Ok(text
        .lines()
        .filter_map(|l| serde_json::from_str::<Stashed>(l).ok())
        .map(|s| ((s.device, s.seq), s.sidecar))
        .collect())
}

/// The index's mark of a rewritten segment: every line cut was read, so
/// the mark (the end of the used lines) moves back by what was cut.
fn follow(
    root: &Path,
    index: &Index,
    marks: &mut Vec<(String, SegmentMark)>,
    done: &strip::Rewritten,
) -> Result<()> {
    let name = done
        .path
        .strip_prefix(root)
        .unwrap_or(&done.path)
        .to_string_lossy()
        .into_owned();
    let cut = done.before.saturating_sub(done.after);
    if let Some((_, mark)) = marks.iter_mut().find(|(n, _)| *n == name) {
        mark.len = mark.len.saturating_sub(cut);
    } else if let Some(mut mark) = index.segment(&name)? {
        mark.len = mark.len.saturating_sub(cut);
        marks.push((name, mark));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::entry::Kind;
    use crate::domain::record::{DeviceRecord, EntryRecord, Hex32, RemoveRecord, Role};
    use crate::journal::Journal;
    use crate::keys::DeviceKey;
    use crate::keys::line::NoteSidecar;
    use crate::store::DataDir;

    /// 2026-11-27T12:00:00Z.
    const T0: u64 = 1_795_780_800_000;
    const MINUTE: u64 = 60_000;

    fn entry_id() -> EntryId {
        uuid::Builder::from_unix_timestamp_millis(T0, &[7; 10]).into_uuid()
    }

    /// A version of the one entry these tests change, with `note` shared.
    fn noted(note: &str, ms: u64) -> (Record, Option<String>) {
        let (h, sidecar) = NoteSidecar::seal(note).unwrap();
        let record = Record::Entry(EntryRecord {
            id: entry_id(),
            kind: Kind::Log,
            practice: "listen".to_string(),
            day: "2026-11-27".parse().unwrap(),
            until: None,
            at: chrono::DateTime::parse_from_rfc3339("2026-11-27T21:14:03+01:00").unwrap(),
            took: None,
            h: Some(Hex32(h)),
            card: None,
            private: false,
            rev: Rev { ms, c: 0 },
        });
        (record, Some(sidecar))
    }

    fn shared_bytes(root: &Path) -> Vec<u8> {
        fn walk(dir: &Path, out: &mut Vec<u8>) {
            for item in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                match item.file_type().unwrap().is_dir() {
                    true => walk(&item.path(), out),
                    false => out.extend(std::fs::read(item.path()).unwrap()),
                }
            }
        }
        let mut out = Vec::new();
        walk(&root.join("shared"), &mut out);
        out
    }

    fn holds(bytes: &[u8], marker: &str) -> bool {
        bytes.windows(marker.len()).any(|w| w == marker.as_bytes())
    }

    /// Leave a mark in the index file that only making it again removes.
    fn probe(root: &Path) {
        let db = rusqlite::Connection::open(root.join("index/index.sqlite")).unwrap();
        db.execute("INSERT INTO meta (key, value) VALUES ('probe', 1)", [])
            .unwrap();
    }

    /// Every segment the index has read is marked as read to its end, as it
    /// is now on disk: the next read of the log goes on from there.
    fn marks_follow_the_files(j: &Journal) {
        let log_root = log_root(&j.root, LogKind::Shared);
        let index = j.index.as_ref().unwrap();
        for device in segment::list_devices(&log_root).unwrap() {
            for seg in segment::segments(&log_root, &device).unwrap() {
                let name = seg.path.strip_prefix(&j.root).unwrap().to_string_lossy();
                let mark = index
                    .segment(&name)
                    .unwrap()
                    .expect("every segment was read");
                let len = std::fs::metadata(&seg.path).unwrap().len();
                assert_eq!(mark.len, len, "{name}");
            }
        }
    }

    fn probed(root: &Path) -> bool {
        let db = rusqlite::Connection::open(root.join("index/index.sqlite")).unwrap();
        db.query_row("SELECT count(*) FROM meta WHERE key = 'probe'", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
            == 1
    }

    #[test]
    fn an_edit_strips_the_old_note_and_the_index_goes_on_from_where_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lock = DataDir::new(root.to_path_buf()).lock().unwrap();
        let mut j = Journal::create(root, "Alex", T0, &lock).unwrap();
        for (i, note) in ["old-marker", "new-marker"].iter().enumerate() {
            let wall = T0 + (i as u64 + 1) * MINUTE;
            let written = j
                .write("op", &[noted(note, 0)], LogKind::Shared, wall, &lock)
                .unwrap();
            assert!(written.index_warning.is_none(), "{written:?}");
        }
        let bytes = shared_bytes(root);
        assert!(!holds(&bytes, "old-marker") && holds(&bytes, "new-marker"));
        probe(root);
        j.refresh(T0 + 3 * MINUTE, &lock).unwrap();
        assert!(probed(root), "the index was made again");
        marks_follow_the_files(&j);
        let state = j.state().unwrap();
        assert_eq!(state, j.fold_everything(T0 + 3 * MINUTE).unwrap());
        assert_eq!(
            state.shared_notes.values().collect::<Vec<_>>(),
            ["new-marker"]
        );
        // A removal strips the last one; the log still verifies whole.
        let gone = Record::Remove(RemoveRecord {
            id: entry_id(),
            rev: Rev::default(),
        });
        j.write(
            "rm",
            &[(gone, None)],
            LogKind::Shared,
            T0 + 4 * MINUTE,
            &lock,
        )
        .unwrap();
        assert!(!holds(&shared_bytes(root), "new-marker"));
        let report = j.refresh(T0 + 5 * MINUTE, &lock).unwrap();
        assert!(report.quarantined.is_empty(), "{report:?}");
        assert!(probed(root), "the index was made again");
        marks_follow_the_files(&j);
        assert!(j.state().unwrap().entries.is_empty());
    }

    #[test]
    fn a_line_that_arrives_strips_the_version_it_supersedes_in_another_log() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let lock = DataDir::new(root.to_path_buf()).lock().unwrap();
        let mut j = Journal::create(root, "Alex", T0, &lock).unwrap();
        // My phone, paired as mine; its log is written beside and copied in.
        let phone = DeviceKey::generate().unwrap();
        let pairing = Record::Device(DeviceRecord {
            device: phone.id().to_string(),
            key: Hex32(phone.public().to_bytes()),
            role: Role::Mine,
            journal: j.identity().journal.clone(),
        });
        let wall = T0 + MINUTE;
        j.write(
            "pair",
            &[(pairing, None), noted("laptop-marker", 0)],
            LogKind::Shared,
            wall,
            &lock,
        )
        .unwrap();
        let phone_dir = tempfile::tempdir().unwrap();
        let phone_root = log_root(phone_dir.path(), LogKind::Shared);
        let (rec, sidecar) = noted("phone-marker", T0 + 2 * MINUTE);
        let text = rec.to_json();
        let batch = [crate::keys::line::Record {
            rec: &text,
            sidecar: sidecar.as_deref(),
        }];
        let journal = j.identity().journal.clone();
        segment::append_batch(
            &phone_root,
            &phone,
            &journal,
            LogKind::Shared,
            "p",
            &batch,
            &lock,
        )
        .unwrap();
        let to = log_root(root, LogKind::Shared).join(phone.id().as_str());
        let from = phone_root.join(phone.id().as_str());
        for seg in segment::segments(&phone_root, &phone.id()).unwrap() {
            let target = to.join(seg.path.strip_prefix(&from).unwrap());
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(&seg.path, target).unwrap();
        }
        probe(root);
        j.refresh(T0 + 3 * MINUTE, &lock).unwrap();
        let bytes = shared_bytes(root);
        assert!(!holds(&bytes, "laptop-marker") && holds(&bytes, "phone-marker"));
        j.refresh(T0 + 4 * MINUTE, &lock).unwrap();
        assert!(probed(root), "the index was made again");
        marks_follow_the_files(&j);
        let state = j.state().unwrap();
        assert_eq!(state, j.fold_everything(T0 + 4 * MINUTE).unwrap());
        assert_eq!(
            state.shared_notes.values().collect::<Vec<_>>(),
            ["phone-marker"]
        );
    }

    fn rev(ms: u64) -> Rev {
        Rev { ms, c: 0 }
    }

    fn version(id: &str, ms: u64, device: &str, seq: u64, noted: bool) -> Version {
        Version {
            key: ("me".to_string(), id.to_string()),
            stamp: (rev(ms), device.to_string(), seq),
            noted,
        }
    }

    fn winner(ms: u64, device: &str, seq: u64, live: bool, noted: bool) -> EntryWinner {
        EntryWinner {
            rev: rev(ms),
            device: device.to_string(),
            seq,
            live,
            noted,
        }
    }

    fn cut(list: &[(&str, u64)]) -> BTreeSet<(String, u64)> {
        list.iter().map(|(d, s)| (d.to_string(), *s)).collect()
    }

    /// Which lines [`super::superseded`] cuts (every entry here is "me"'s).
    fn superseded(before: &BTreeMap<Key, EntryWinner>, fed: &[Version]) -> BTreeSet<(String, u64)> {
        let cut = super::superseded(before, fed);
        assert!(cut.values().all(|owner| owner == "me"));
        cut.into_keys().collect()
    }

    #[test]
    fn only_versions_with_a_note_that_another_version_beats_are_cut() {
        let key = ("me".to_string(), "e1".to_string());
        // An edit: the old winner had a note, the new version beats it.
        let before = BTreeMap::from([(key.clone(), winner(10, "a", 1, true, true))]);
        let fed = [version("e1", 20, "a", 2, true)];
        assert_eq!(superseded(&before, &fed), cut(&[("a", 1)]));
        // A removal beats it as well; a removal has no note to cut.
        let fed = [version("e1", 20, "a", 2, false)];
        assert_eq!(superseded(&before, &fed), cut(&[("a", 1)]));
        // A version older than the winner (a late arrival) loses its own note.
        let fed = [version("e1", 5, "b", 7, true)];
        assert_eq!(superseded(&before, &fed), cut(&[("b", 7)]));
        // At an equal rev the greater device wins, then the greater seq.
        let fed = [version("e1", 10, "b", 1, false)];
        assert_eq!(superseded(&before, &fed), cut(&[("a", 1)]));
        let fed = [version("e1", 10, "a", 0, true)];
        assert_eq!(superseded(&before, &fed), cut(&[("a", 0)]));
        // Within one feed: only the last version keeps its note.
        let fed = [
            version("e1", 30, "a", 3, true),
            version("e1", 40, "a", 4, true),
            version("e2", 1, "a", 5, true),
        ];
        assert_eq!(superseded(&BTreeMap::new(), &fed), cut(&[("a", 3)]));
        // The winner itself is never cut.
        let before = BTreeMap::from([(key, winner(10, "a", 1, true, true))]);
        let fed = [version("e1", 10, "a", 1, true)];
        assert!(superseded(&before, &fed).is_empty());
    }

    #[test]
    fn a_waiting_or_rejected_line_is_no_version() {
        let owner = "me";
        let id = "019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c01";
        let now = 1_795_780_800_000;
        let entry = |ms: u64, practice: &str| {
            format!(
                r#"{{"t":"entry","id":"{id}","practice":"{practice}","day":"2026-11-27","at":"2026-11-27T21:14:03+01:00","rev":{{"ms":{ms},"c":0}}}}"#
            )
        };
        let ok = entry(now, "listen");
        let line = Line::read(owner, "a", 1, "op", &ok);
        assert!(Version::of(&line, now).is_some());
        let ahead = entry(now + 2 * AHEAD_MS, "listen");
        assert_eq!(
            Version::of(&Line::read(owner, "a", 1, "op", &ahead), now),
            None
        );
        let broken = entry(now, "a;b");
        assert_eq!(
            Version::of(&Line::read(owner, "a", 1, "op", &broken), now),
            None
        );
    }
}
