//! A device's log on disk (schema 2): the segment files under a log root
//! (`shared/log` or `private/log`), where each one lives, appending a batch
//! durably, and reading a log back with every line verified. See
//! docs/protocol.md "Segments"; each rule there names the test below that
//! checks it.
//!
//! A log is `<root>/<device>/<d1>/<d2>/<first seq>.jsonl`: segments named by
//! their first `seq`, fanned out by their ordinal so that no folder holds more
//! than 64 entries (git trees stay small). Lines are made and checked by
//! `keys::line`; this file decides which file each line goes to.

use std::fs;
use std::io::{Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use ed25519_dalek::{Signature, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::domain::limits::MAX_FILE_BYTES;
use crate::error::{Error, Result};
use crate::keys::line::{self, Broken, ChainHead, Hash, LogKind, RawLine, Record};
use crate::keys::{DeviceId, DeviceKey, unhex};
use crate::store::Lock;

/// A segment closes with the first line that brings it to this size: small
/// enough that re-sealing the open segment after one entry stays cheap, large
/// enough that ten years of a journal are a few thousand files.
pub const CLOSE_BYTES: u64 = 12 * 1024;

/// A batch whose lines come to more than this (an import, a migration) is
/// cut into segments that close at this size instead of [`CLOSE_BYTES`]:
/// each segment is flushed on its own, and ten years imported at once in
/// 12 KiB segments were some 9,000 flushes, most of an import's time.
/// Closed segments are sealed again only when a note in them is stripped.
pub const BULK_CLOSE_BYTES: u64 = 128 * 1024;

/// Entries in one folder of the fan-out.
pub const FAN_OUT: u64 = 64;

/// The most segments one log may have: 64 folders of 64 folders of 64 files,
/// so that even the device's folder holds at most 64 entries. That is about
/// 3 GiB of lines, a hundred times the reference ten-year journal.
pub const MAX_SEGMENTS: u64 = FAN_OUT * FAN_OUT * FAN_OUT;

/// The largest `seq` a file name can hold: 10 digits.
pub const MAX_SEQ: u64 = 9_999_999_999;

/// Where the segment with this ordinal (0 for a device's first segment, 1
/// for the next, …) and first `seq` lives.
pub fn segment_path(root: &Path, device: &DeviceId, ordinal: u64, first_seq: u64) -> PathBuf {
    root.join(device.as_str())
        .join(format!("{:02x}", ordinal / (FAN_OUT * FAN_OUT)))
        .join(format!("{:02x}", (ordinal / FAN_OUT) % FAN_OUT))
        .join(format!("{first_seq:010}.jsonl"))
}

/// What a segment's path says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentName {
    pub device: DeviceId,
    /// The two fan-out folders, as numbers.
    pub folders: [u64; 2],
    pub first_seq: u64,
}

/// Read a path under `root` as a segment's: exactly
/// `<device>/<d1>/<d2>/<10 digits>.jsonl`, with a device id as
/// [`DeviceId::parse`] takes it and folders of two lowercase hex digits below
/// 64. Anything else is an error naming the path.
pub fn parse_segment_path(root: &Path, path: &Path) -> Result<SegmentName> {
    let rest = path.strip_prefix(root).map_err(|_| stray(path))?;
    let names: Option<Vec<&str>> = rest
        .components()
        .map(|c| match c {
            Component::Normal(name) => name.to_str(),
            _ => None,
        })
        .collect();
    match names.as_deref() {
        Some(&[device, d1, d2, file]) => segment_name(device, d1, d2, file),
        _ => None,
    }
    .ok_or_else(|| stray(path))
}

fn segment_name(device: &str, d1: &str, d2: &str, file: &str) -> Option<SegmentName> {
    Some(SegmentName {
        device: DeviceId::parse(device)?,
        folders: [folder_number(d1)?, folder_number(d2)?],
        first_seq: seq_of_file_name(file)?,
    })
}

/// A fan-out folder's name: two lowercase hex digits, below 64.
fn folder_number(name: &str) -> Option<u64> {
    let ok = name.len() == 2 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let number = u64::from_str_radix(name, 16).ok().filter(|_| ok)?;
    (number < FAN_OUT).then_some(number)
}

/// A segment file's name: its first seq as 10 digits, then `.jsonl`.
fn seq_of_file_name(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".jsonl")?;
    let ok = digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit());
    digits.parse().ok().filter(|seq| ok && *seq >= 1)
}

/// The error for anything under a log root that is not where the layout
/// puts a segment: reported, never read.
fn stray(path: &Path) -> Error {
    Error::runtime(format!(
        "{} is not part of a safe log, so safe did not read it",
        path.display()
    ))
    .with_hint("a log folder holds only safe's own segment files; move anything else out of it")
}

/// One segment file of a log, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub path: PathBuf,
    /// Its place in the log: 0 for the first segment.
    pub ordinal: u64,
    pub first_seq: u64,
}

/// The devices that have a log under `root`, in order. A name that is not a
/// device id, or an entry that is not a folder, is an error naming it.
pub fn list_devices(root: &Path) -> Result<Vec<DeviceId>> {
    let devices = list_checked(root, Entry::Folder, DeviceId::parse)?;
    Ok(devices.into_iter().map(|(id, _)| id).collect())
}

/// A device's segments in order, every path checked; anything else in its
/// folders is an error naming it. A missing log is empty.
pub fn segments(root: &Path, device: &DeviceId) -> Result<Vec<Segment>> {
    let mut out = Vec::new();
    let device_dir = root.join(device.as_str());
    for (_, d1) in list_checked(&device_dir, Entry::Folder, folder_number)? {
        for (_, d2) in list_checked(&d1, Entry::Folder, folder_number)? {
            for (first_seq, path) in list_checked(&d2, Entry::File, seq_of_file_name)? {
                out.push(Segment {
                    path,
                    ordinal: out.len() as u64,
                    first_seq,
                });
            }
        }
    }
    Ok(out)
}

#[derive(Clone, Copy, PartialEq)]
enum Entry {
    Folder,
    File,
}

/// The entries of `dir`, each of the kind wanted and with a name `parse`
/// accepts, sorted; `dir` missing is empty. A symbolic link is neither a
/// folder nor a file here: it is never followed.
fn list_checked<T: Ord>(
    dir: &Path,
    kind: Entry,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<(T, PathBuf)>> {
    let listing = match fs::read_dir(dir) {
        Ok(listing) => listing,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io("list", dir, e)),
    };
    let mut out = Vec::new();
    for item in listing {
        let item = item.map_err(|e| Error::io("list", dir, e))?;
        let path = item.path();
        let file_type = item.file_type().map_err(|e| Error::io("list", &path, e))?;
        let kind_ok = match kind {
            Entry::Folder => file_type.is_dir(),
            Entry::File => file_type.is_file(),
        };
        match item.file_name().to_str().and_then(&parse) {
            Some(name) if kind_ok => out.push((name, path)),
            _ => return Err(stray(&path)),
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

// ---------------------------------------------------------------------------
// Reading

/// A trusted line of a log, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub seq: u64,
    pub op: String,
    /// The payload exactly as stored: what the signature covers.
    pub payload: String,
    pub sig: Option<Signature>,
    pub sidecar: Option<String>,
    /// Where the record's JSON is in `payload`.
    rec: Range<usize>,
}

impl Line {
    /// The record's JSON text, exactly as stored.
    pub fn rec(&self) -> &str {
        &self.payload[self.rec.clone()]
    }

    /// A line that `verify_chain` has passed, copied out of its file.
    fn owned(raw: &RawLine<'_>) -> Self {
        // `verify_chain` has read this header (and refused repeated keys).
        let header: line::Header =
            serde_json::from_str(raw.payload).expect("a verified line has a header");
        let rec_start = header.rec.get().as_ptr() as usize - raw.payload.as_ptr() as usize;
        Line {
            seq: header.seq,
            op: header.op.to_string(),
            payload: raw.payload.to_string(),
            sig: raw.sig,
            sidecar: raw.sidecar.map(str::to_string),
            rec: rec_start..rec_start + header.rec.get().len(),
        }
    }
}

/// A device's log as read: its trusted lines, the head after them, and
/// where it stopped being trusted, if it did.
#[derive(Debug, Clone)]
pub struct Log {
    pub lines: Vec<Line>,
    pub head: ChainHead,
    pub quarantine: Option<Quarantine>,
}

/// The first file of a log that failed, and how: it and everything after
/// it are not used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantine {
    pub path: PathBuf,
    /// The line (from 1) for a fault in a line; `None` for the whole file.
    pub line: Option<usize>,
    pub why: Fault,
}

/// Why a segment file is not (wholly) used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// A line breaks the chain (see [`Broken`]).
    Line(Broken),
    /// The file is named for another seq than the one that comes next: a
    /// segment before it is missing (a gap), or it overlaps one (a fork).
    Seq { expected: u64, named: u64 },
    /// The file is not where the layout puts the segment with its ordinal.
    Misplaced { expected: PathBuf },
    /// Over [`MAX_FILE_BYTES`]: refused before it was read.
    TooBig { len: u64 },
    /// A segment before the last holds nothing.
    Empty,
}

impl std::fmt::Display for Quarantine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let path = self.path.display();
        match (&self.why, self.line) {
            (Fault::Line(why), Some(n)) => write!(f, "{path}: line {n} {why}"),
            (Fault::Line(why), None) => write!(f, "{path} {why}"),
            (Fault::Seq { expected, named }, _) => write!(
                f,
                "{path} starts at seq {named} where {expected} comes next \
                 (a segment is missing or overlaps another)"
            ),
            (Fault::Misplaced { expected }, _) => {
                write!(
                    f,
                    "{path} is not where the layout puts it ({})",
                    expected.display()
                )
            }
            (Fault::TooBig { len }, _) => write!(
                f,
                "{path} is {len} bytes, over the {} MiB safe reads",
                MAX_FILE_BYTES >> 20
            ),
            (Fault::Empty, _) => write!(f, "{path} is empty, yet segments follow it"),
        }
    }
}

/// Read a device's log under `root` and verify all of it, from the genesis
/// of `journal` and `key`, as `verify_chain` does: the last line of every
/// segment file must be signed, and segment files must follow each other
/// without a gap or an overlap. The trusted prefix is returned with the
/// first fault, if any; a file that fails is reported, never changed. A
/// torn last line (no final LF) in the last segment is what a crash leaves:
/// it is ignored.
pub fn read_log(
    root: &Path,
    device: &DeviceId,
    key: &VerifyingKey,
    journal: &str,
    kind: LogKind,
) -> Result<Log> {
    if DeviceId::of(key) != *device {
        return Err(Error::runtime(format!(
            "the key given for device {device} is the key of device {}",
            DeviceId::of(key)
        )));
    }
    let mut log = Log {
        lines: Vec::new(),
        head: ChainHead::start(journal, kind, key),
        quarantine: None,
    };
    let segments = segments(root, device)?;
    for (i, segment) in segments.iter().enumerate() {
        let is_tail = i + 1 == segments.len();
        log.quarantine = read_segment(&mut log, root, device, key, segment, is_tail)?;
        if log.quarantine.is_some() {
            break;
        }
    }
    Ok(log)
}

/// [`read_log`] of a copy of a log whose first `same` segment files are,
/// byte for byte and at the same paths, files of a copy already read
/// (`known`) that are not its last: their lines, being the same bytes read
/// from the same head, verify the same, so they are taken from `known` and
/// only the files after them are read. The log sync compares two copies of
/// a log this way, reading their common files once. When `known` did not
/// trust all of those files, the copy is read whole.
pub fn read_log_after(
    root: &Path,
    device: &DeviceId,
    key: &VerifyingKey,
    journal: &str,
    kind: LogKind,
    known: &Log,
    same: usize,
) -> Result<Log> {
    let segments = segments(root, device)?;
    let Some(next) = segments.get(same).filter(|_| same > 0) else {
        return read_log(root, device, key, journal, kind);
    };
    let held = usize::try_from(next.first_seq - 1).unwrap_or(usize::MAX);
    let Some(last) = known.lines.get(..held).and_then(<[Line]>::last) else {
        return read_log(root, device, key, journal, kind);
    };
    if DeviceId::of(key) != *device || last.seq != next.first_seq - 1 {
        return read_log(root, device, key, journal, kind);
    }
    let mut log = Log {
        lines: known.lines[..held].to_vec(),
        head: ChainHead {
            next_seq: next.first_seq,
            prev: line::payload_hash(&last.payload),
        },
        quarantine: None,
    };
    for (i, segment) in segments.iter().enumerate().skip(same) {
        let is_tail = i + 1 == segments.len();
        log.quarantine = read_segment(&mut log, root, device, key, segment, is_tail)?;
        if log.quarantine.is_some() {
            break;
        }
    }
    Ok(log)
}

/// Verify one segment after the lines already in `log` and add its trusted
/// lines; the fault that ends the trusted part, if any.
fn read_segment(
    log: &mut Log,
    root: &Path,
    device: &DeviceId,
    key: &VerifyingKey,
    segment: &Segment,
    is_tail: bool,
) -> Result<Option<Quarantine>> {
    let fault = |line, why| {
        Some(Quarantine {
            path: segment.path.clone(),
            line,
            why,
        })
    };
    if segment.first_seq != log.head.next_seq {
        let (expected, named) = (log.head.next_seq, segment.first_seq);
        return Ok(fault(None, Fault::Seq { expected, named }));
    }
    let expected = segment_path(root, device, segment.ordinal, segment.first_seq);
    if segment.path != expected {
        return Ok(fault(None, Fault::Misplaced { expected }));
    }
    let bytes = match read_bounded(&segment.path)? {
        Contents::Bytes(bytes) => bytes,
        Contents::TooBig(len) => return Ok(fault(None, Fault::TooBig { len })),
    };
    if bytes.is_empty() && !is_tail {
        return Ok(fault(None, Fault::Empty));
    }
    let lines = Lines::of(&bytes, is_tail);
    let checked = lines.verify(device, key, log.head, segment.first_seq);
    log.lines
        .extend(lines.raw[..checked.trusted].iter().map(Line::owned));
    log.head = checked.head;
    Ok(checked
        .problem
        .and_then(|(i, why)| fault(Some(i + 1), Fault::Line(why))))
}

enum Contents {
    Bytes(Vec<u8>),
    TooBig(u64),
}

/// A file's bytes, unless it is over [`MAX_FILE_BYTES`]: then it is not read
/// at all (and a file that grows while it is read is cut off past the limit).
fn read_bounded(path: &Path) -> Result<Contents> {
    let file = fs::File::open(path).map_err(|e| Error::io("read", path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len > MAX_FILE_BYTES {
        return Ok(Contents::TooBig(len));
    }
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("read", path, e))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Ok(Contents::TooBig(bytes.len() as u64));
    }
    Ok(Contents::Bytes(bytes))
}

/// One segment's bytes split into lines: the complete lines that split, up
/// to the first that does not.
struct Lines<'a> {
    raw: Vec<RawLine<'a>>,
    /// The offset just past each line's LF.
    ends: Vec<usize>,
    /// The first line that is not a line, with its index: one that does not
    /// split, or torn bytes at the end of a segment before the last.
    cut: Option<(usize, Broken)>,
}

impl<'a> Lines<'a> {
    /// Torn bytes after the last LF are ignored in the last segment (a crash
    /// during an append leaves them) and a broken line in any other.
    fn of(bytes: &'a [u8], is_tail: bool) -> Self {
        let complete = memchr::memrchr(b'\n', bytes).map_or(0, |at| at + 1);
        let mut lines = Lines {
            raw: Vec::new(),
            ends: Vec::new(),
            cut: None,
        };
        let mut from = 0;
        for end in memchr::memchr_iter(b'\n', &bytes[..complete]) {
            let split = std::str::from_utf8(&bytes[from..end])
                .map_err(|_| Broken::Shape)
                .and_then(line::split);
            match split {
                Ok(raw) => lines.raw.push(raw),
                Err(why) => {
                    lines.cut = Some((lines.raw.len(), why));
                    return lines;
                }
            }
            from = end + 1;
            lines.ends.push(from);
        }
        if complete < bytes.len() && !is_tail {
            lines.cut = Some((lines.raw.len(), Broken::Shape));
        }
        lines
    }

    /// Verify as a reader does, from `start`: the last line is a segment end
    /// and must be signed. A line that did not split is the fault, unless
    /// the chain broke before it.
    fn verify(
        &self,
        device: &DeviceId,
        key: &VerifyingKey,
        start: ChainHead,
        first_seq: u64,
    ) -> line::Verified {
        // Names are checked to start at 1 or more, so this never underflows.
        let last_seq = first_seq + self.raw.len() as u64 - 1;
        let mut checked = line::verify_chain(&self.raw, device, key, start, |seq| seq == last_seq);
        checked.problem = match (checked.problem, &self.cut) {
            // The lines before the cut end unsigned only because it cut them.
            (Some((i, Broken::Unsigned)), Some(cut)) if i + 1 == self.raw.len() => {
                Some(cut.clone())
            }
            (Some(problem), _) => Some(problem),
            (None, cut) => cut.clone(),
        };
        checked
    }
}

// ---------------------------------------------------------------------------
// Statistics for the index

/// What the index keeps of a segment to notice that it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentStat {
    pub path: PathBuf,
    /// Bytes on disk, a torn last line included.
    pub len: u64,
    /// SHA-256 of the payload (the text before the first TAB) of the last
    /// complete line; `None` for a file without one, or over the size limit.
    pub last_payload: Option<Hash>,
}

/// [`SegmentStat`] of each of a device's segments, in order. Only the end of
/// each file is read.
pub fn segment_stats(root: &Path, device: &DeviceId) -> Result<Vec<SegmentStat>> {
    segments(root, device)?
        .into_iter()
        .map(|segment| segment_stat(segment.path))
        .collect()
}

/// [`SegmentStat`] of the segment file at `path`.
pub fn segment_stat(path: PathBuf) -> Result<SegmentStat> {
    let mut file = fs::File::open(&path).map_err(|e| Error::io("read", &path, e))?;
    let len = file
        .metadata()
        .map_err(|e| Error::io("read", &path, e))?
        .len();
    let last_payload = if len > MAX_FILE_BYTES {
        None
    } else {
        last_line(&mut file, len)
            .map_err(|e| Error::io("read", &path, e))?
            .map(|line| {
                let payload = line.split(|b| *b == b'\t').next().unwrap_or(&[]);
                Sha256::digest(payload).into()
            })
    };
    Ok(SegmentStat {
        path,
        len,
        last_payload,
    })
}

/// The last complete line of a file `len` long (without its LF), read from
/// the end in growing pieces.
fn last_line(file: &mut fs::File, len: u64) -> std::io::Result<Option<Vec<u8>>> {
    let mut piece = 4096u64;
    loop {
        let from = len.saturating_sub(piece);
        file.seek(SeekFrom::Start(from))?;
        let mut bytes = Vec::with_capacity((len - from) as usize);
        Read::by_ref(file)
            .take(len - from)
            .read_to_end(&mut bytes)?;
        let Some(end) = memchr::memrchr(b'\n', &bytes) else {
            if from == 0 {
                return Ok(None);
            }
            piece *= 2;
            continue;
        };
        match memchr::memrchr(b'\n', &bytes[..end]) {
            Some(start) => return Ok(Some(bytes[start + 1..end].to_vec())),
            None if from == 0 => return Ok(Some(bytes[..end].to_vec())),
            None => piece *= 2,
        }
    }
}

// ---------------------------------------------------------------------------
// Appending

/// What an append wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The seq of the batch's first line.
    pub first_seq: u64,
    /// The head after the batch.
    pub head: ChainHead,
    /// The segment files written to, in order (the ones to seal again).
    pub written: Vec<PathBuf>,
}

/// Append one batch (one operation) to this device's log under `root`, and
/// flush it to disk before returning.
///
/// Only the tail of the log is read, so an append costs the same in a new
/// journal and in a ten-year one. That is safe because this device is the
/// only writer of its own log: the appender checks its tail (every line
/// linked to the one before, the signature of the last signed line), trusts
/// the link to the segment before, which it wrote itself, and every reader
/// verifies the whole log anyway. What a crash during an append can leave
/// after the last signed line (a torn line, the unsigned lines of a batch
/// cut short) is trusted by no reader and is cut away, under the lock,
/// before anything is written; anything else that does not verify is an
/// error, and the file is left as it is.
///
/// Segments are flushed one by one, each before the next is created, so a
/// crash leaves a prefix of the batch: a long batch may be trusted up to the
/// end of one of its segments, which is signed, and never beyond it.
pub fn append_batch(
    root: &Path,
    key: &DeviceKey,
    journal: &str,
    kind: LogKind,
    op: &str,
    records: &[Record<'_>],
    lock: &Lock,
) -> Result<Appended> {
    let (appended, flush) = append_then_flush(root, key, journal, kind, op, records, lock)?;
    flush.finish()?;
    Ok(appended)
}

/// [`append_batch`], but the flush of the batch's last piece (of every
/// piece in the common case of one) is left to the caller, who may do other
/// work while it runs, and must [`Flush::finish`] it before saying the batch
/// is saved. Every piece before the last is flushed here, before the next
/// is written.
pub fn append_then_flush(
    root: &Path,
    key: &DeviceKey,
    journal: &str,
    kind: LogKind,
    op: &str,
    records: &[Record<'_>],
    _lock: &Lock,
) -> Result<(Appended, Flush)> {
    check_records(records)?;
    let device = key.id();
    let tail = Tail::find(root, &device, key, journal, kind)?;
    let op_json = serde_json::to_string(op).expect("a string serialises");
    let open = tail.last.as_ref().map(|t| (t.segment.ordinal, t.keep));
    let next_ordinal = tail.last.as_ref().map_or(0, |t| t.segment.ordinal + 1);
    let pieces = plan(tail.head, open, next_ordinal, op_json.len(), records)?;
    let ends: Vec<u64> = pieces[..pieces.len() - 1]
        .iter()
        .map(|p| p.first_seq + p.lines as u64 - 1)
        .collect();
    let (text, head) = line::write_batch(key, tail.head, op, records, |seq| {
        ends.binary_search(&seq).is_ok()
    });
    check_lines(&text)?;
    tail.truncate()?;
    let text = text.as_bytes();
    let mut line_ends = memchr::memchr_iter(b'\n', text);
    let (mut from, mut written) = (0, Vec::with_capacity(pieces.len()));
    let kept = tail.last.as_ref().map(|t| (t.segment.path.clone(), t.keep));
    let mut last = None;
    for (i, piece) in pieces.iter().enumerate() {
        let end = line_ends
            .nth(piece.lines - 1)
            .expect("a record without a line break makes one line")
            + 1;
        let path = match &tail.last {
            Some(last) if piece.append => last.segment.path.clone(),
            _ => segment_path(root, &device, piece.ordinal, piece.first_seq),
        };
        let written_here = write_piece(&path, &text[from..end], piece.append).and_then(|flush| {
            match i + 1 == pieces.len() {
                true => Ok(Some(flush)),
                false => flush.now().map(|()| None),
            }
        });
        match written_here {
            Ok(flush) => last = flush,
            Err(err) => {
                // A failure the process lives through (a full disk, a
                // read-only folder) takes back the pieces already written,
                // so the batch is whole or absent; only a crash can leave a
                // signed prefix of a long batch.
                let _ = take_back(kept.as_ref(), &written, &path);
                return Err(err);
            }
        }
        from = end;
        written.push(path);
    }
    let appended = Appended {
        first_seq: tail.head.next_seq,
        head,
        written: written.clone(),
    };
    let last = last.expect("a batch has at least one piece");
    Ok((
        appended,
        Flush {
            last,
            kept,
            written,
        },
    ))
}

/// The flush still owed for a batch [`append_then_flush`] wrote: its last
/// piece, and its folder when the piece is a new file.
#[must_use = "a batch is saved only once it is flushed"]
pub struct Flush {
    last: PieceFlush,
    /// The tail file before the batch and its length then, and every file
    /// the batch wrote: what a failed flush takes back.
    kept: Option<(PathBuf, u64)>,
    written: Vec<PathBuf>,
}

impl Flush {
    /// Flush the batch's last piece. If that fails, the whole batch is
    /// taken back (new files removed, the tail file cut back) and the
    /// error returned: the batch is not saved.
    pub fn finish(self) -> Result<()> {
        self.sync().inspect_err(|_| {
            let _ = self.take_back();
        })
    }

    /// Flush the batch's last piece, and nothing else: a failure leaves
    /// the batch to [`Flush::take_back`].
    pub fn sync(&self) -> Result<()> {
        self.last.now()
    }

    /// Take the batch back: its new files removed, the tail file cut back
    /// to its length before the batch.
    pub fn take_back(&self) -> Result<()> {
        take_back(self.kept.as_ref(), &self.written, &self.last.path)
    }
}

/// One piece written and not flushed yet.
struct PieceFlush {
    file: fs::File,
    path: PathBuf,
    /// Its folder, when the piece made a new file there.
    folder: Option<PathBuf>,
}

impl PieceFlush {
    fn now(&self) -> Result<()> {
        self.file
            .sync_data()
            .map_err(|e| Error::io("flush", &self.path, e))?;
        match &self.folder {
            Some(folder) => sync_dir(folder),
            None => Ok(()),
        }
    }
}

/// A batch has records, each one line of compact JSON (serde_json never
/// writes a raw line break or tab), and sidecars without either.
fn check_records(records: &[Record<'_>]) -> Result<()> {
    if records.is_empty() {
        return Err(Error::runtime("a batch needs at least one record"));
    }
    let breaks = |text: &str| text.bytes().any(|b| b == b'\n' || b == b'\t');
    match records
        .iter()
        .position(|r| breaks(r.rec) || r.sidecar.is_some_and(breaks))
    {
        Some(i) => Err(Error::runtime(format!(
            "record {} of the batch holds a line break or a tab, so nothing was written",
            i + 1
        ))),
        None => Ok(()),
    }
}

/// Every line of a batch must read back as a line: a record that is not
/// JSON, or repeats a key, is refused before anything is written, rather
/// than written where every reader would quarantine it.
fn check_lines(text: &str) -> Result<()> {
    for (i, text) in text.split_terminator('\n').enumerate() {
        if let Err(why) = line::split(text).and_then(|raw| line::header(raw.payload).map(drop)) {
            return Err(Error::runtime(format!(
                "record {} of the batch {why}, so nothing was written",
                i + 1
            )));
        }
    }
    Ok(())
}

/// The payload's fixed text as `line::write_batch` writes it, with its
/// device id (32 hex digits) and `prev` (64) filled in; a test checks it.
const PAYLOAD_FIXED: usize = r#"{"v":2,"device":"","seq":,"prev":"","op":,"rec":}"#.len() + 32 + 64;

/// How long `line::write_batch` will make a line, known before it is made:
/// payload, TAB, the signature's 128 hex digits if signed, TAB and sidecar,
/// LF. Were it ever off, segments would only close a little off 12 KiB.
fn line_len(seq: u64, op_json: usize, record: &Record<'_>, signed: bool) -> u64 {
    let digits = seq.checked_ilog10().map_or(1, |d| d as usize + 1);
    let payload = PAYLOAD_FIXED + digits + op_json + record.rec.len();
    let sig = if signed { 128 } else { 0 };
    let sidecar = record.sidecar.map_or(0, |s| 1 + s.len());
    (payload + 1 + sig + sidecar + 1) as u64
}

/// A run of a batch's lines that goes to one segment file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Piece {
    ordinal: u64,
    /// The seq of the batch's first line in this piece.
    first_seq: u64,
    lines: usize,
    /// Added to the existing last segment, rather than a new file.
    append: bool,
}

/// Cut a batch after `head` into segments. It goes on in the last segment
/// (`open`: its ordinal and length) while that is under [`CLOSE_BYTES`], else
/// in a new one (`next_ordinal`); a segment closes with the first line that,
/// signed, brings it to [`CLOSE_BYTES`] or more ([`BULK_CLOSE_BYTES`] for a
/// batch of more than that many bytes of lines).
fn plan(
    head: ChainHead,
    open: Option<(u64, u64)>,
    next_ordinal: u64,
    op_json: usize,
    records: &[Record<'_>],
) -> Result<Vec<Piece>> {
    let full = || {
        Error::runtime("this device's log is full: it holds all the lines one device may write")
            .with_hint("pair this computer again as a new device (`safe invite --device`)")
    };
    let mut pieces = Vec::new();
    let mut current = open
        .filter(|(_, len)| *len < CLOSE_BYTES)
        .map(|(ordinal, len)| {
            (
                Piece {
                    ordinal,
                    first_seq: head.next_seq,
                    lines: 0,
                    append: true,
                },
                len,
            )
        });
    let mut ordinal = next_ordinal;
    let batch_bytes: u64 = records
        .iter()
        .enumerate()
        .map(|(i, record)| line_len(head.next_seq + i as u64, op_json, record, false))
        .sum();
    let close = match batch_bytes > BULK_CLOSE_BYTES {
        true => BULK_CLOSE_BYTES,
        false => CLOSE_BYTES,
    };
    for (i, record) in records.iter().enumerate() {
        let seq = head.next_seq + i as u64;
        if seq > MAX_SEQ {
            return Err(full());
        }
        let (mut piece, size) = match current.take() {
            Some(current) => current,
            None if ordinal >= MAX_SEGMENTS => return Err(full()),
            None => {
                ordinal += 1;
                let new = Piece {
                    ordinal: ordinal - 1,
                    first_seq: seq,
                    lines: 0,
                    append: false,
                };
                (new, 0)
            }
        };
        piece.lines += 1;
        let signed = size + line_len(seq, op_json, record, true);
        if signed > MAX_FILE_BYTES {
            return Err(Error::runtime(format!(
                "record {} of the batch would make a segment over {} MiB, so nothing was written",
                i + 1,
                MAX_FILE_BYTES >> 20
            )));
        }
        if signed >= close || i + 1 == records.len() {
            pieces.push(piece);
        } else {
            current = Some((piece, size + line_len(seq, op_json, record, false)));
        }
    }
    Ok(pieces)
}

/// Where this device's log ends, as the appender finds it.
struct Tail {
    head: ChainHead,
    last: Option<TailFile>,
}

/// The last segment file, and how much of it is kept.
struct TailFile {
    segment: Segment,
    /// The bytes up to the last trusted line; anything after is cut away.
    keep: u64,
    len: u64,
}

impl Tail {
    fn find(
        root: &Path,
        device: &DeviceId,
        key: &DeviceKey,
        journal: &str,
        kind: LogKind,
    ) -> Result<Self> {
        let Some(segment) = last_segment(root, device)? else {
            return Ok(Tail {
                head: ChainHead::start(journal, kind, &key.public()),
                last: None,
            });
        };
        let bytes = read_own(&segment.path)?;
        let lines = Lines::of(&bytes, true);
        let end = own_end(&lines, segment.first_seq, device, &key.public())
            .map_err(|(i, why)| damaged(&segment.path, i, &why))?;
        let (keep, head) = match end.head {
            Some(head) => (lines.ends[end.keep - 1] as u64, head),
            // Nothing in the tail is trusted: the log goes on from the
            // segment before, and the tail file is emptied and reused.
            None => (0, head_before(root, device, key, journal, kind, &segment)?),
        };
        Ok(Tail {
            head,
            last: Some(TailFile {
                segment,
                keep,
                len: bytes.len() as u64,
            }),
        })
    }

    /// Cut what a crash left after the trusted lines, and make the cut
    /// durable before anything is written after it.
    fn truncate(&self) -> Result<()> {
        let Some(last) = self.last.as_ref().filter(|t| t.keep < t.len) else {
            return Ok(());
        };
        let path = &last.segment.path;
        let file = fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open", path, e))?;
        file.set_len(last.keep)
            .and_then(|()| file.sync_data())
            .map_err(|e| Error::io("cut the torn end of", path, e))
    }
}

/// The head after the segment before `segment`, whose last line must be a
/// signed end, and which `segment` must follow.
fn head_before(
    root: &Path,
    device: &DeviceId,
    key: &DeviceKey,
    journal: &str,
    kind: LogKind,
    segment: &Segment,
) -> Result<ChainHead> {
    let head = match segment.ordinal.checked_sub(1) {
        None => ChainHead::start(journal, kind, &key.public()),
        Some(ordinal) => {
            let before = segment_at(root, device, ordinal)?;
            let bytes = read_own(&before.path)?;
            let lines = Lines::of(&bytes, false);
            let last = lines.raw.len().saturating_sub(1);
            match own_end(&lines, before.first_seq, device, &key.public()) {
                Ok(End {
                    keep,
                    head: Some(head),
                }) if keep == lines.raw.len() => head,
                Ok(_) => return Err(damaged(&before.path, last, &Broken::Unsigned)),
                Err((i, why)) => return Err(damaged(&before.path, i, &why)),
            }
        }
    };
    if head.next_seq != segment.first_seq {
        return Err(Error::runtime(format!(
            "{} starts at seq {} where {} comes next; safe adds nothing to a log with a gap",
            segment.path.display(),
            segment.first_seq,
            head.next_seq
        ))
        .with_hint("safe left the file as it is; restore the data directory from a backup"));
    }
    Ok(head)
}

/// How much of one of this device's own segments is trusted.
struct End {
    /// Lines kept: up to the last signed line.
    keep: usize,
    /// The head after them, if any is kept.
    head: Option<ChainHead>,
}

/// Check the end of a segment this device wrote: all its lines are linked,
/// the last signed line's signature verifies, and after it come only the
/// unsigned lines of one batch cut short. The index of the first line that
/// fails otherwise.
fn own_end(
    lines: &Lines<'_>,
    first_seq: u64,
    device: &DeviceId,
    key: &VerifyingKey,
) -> Result<End, (usize, Broken)> {
    if let Some(cut) = &lines.cut {
        return Err(cut.clone());
    }
    let raw = &lines.raw;
    if raw.is_empty() {
        return Ok(End {
            keep: 0,
            head: None,
        });
    }
    let signed = raw.iter().rposition(|l| l.sig.is_some()).unwrap_or(0);
    let prev = match signed {
        0 => {
            let header = line::header(raw[0].payload).map_err(|why| (0, why))?;
            unhex(&header.prev)
                .and_then(|bytes| Hash::try_from(bytes).ok())
                .ok_or((0, Broken::Prev))?
        }
        s => {
            linked(&raw[..s], first_seq, device)?;
            line::payload_hash(raw[s - 1].payload)
        }
    };
    let start = ChainHead {
        next_seq: first_seq + signed as u64,
        prev,
    };
    let checked = line::verify_chain(&raw[signed..], device, key, start, |_| false);
    match checked.problem {
        None => {}
        Some((i, Broken::Unsigned)) if signed + i + 1 == raw.len() => {}
        Some((i, why)) => return Err((signed + i, why)),
    }
    Ok(End {
        keep: signed + checked.trusted,
        head: (checked.trusted > 0).then_some(checked.head),
    })
}

/// Each line names this device and the next seq, and each after the first
/// the hash of the one before. Signatures are left to the reader.
fn linked(raw: &[RawLine<'_>], first_seq: u64, device: &DeviceId) -> Result<(), (usize, Broken)> {
    let mut prev: Option<Hash> = None;
    for (i, line) in raw.iter().enumerate() {
        let header = line::header(line.payload).map_err(|why| (i, why))?;
        let seq = first_seq + i as u64;
        if header.device != device.as_str() {
            return Err((i, Broken::Device));
        }
        if header.seq != seq {
            return Err((
                i,
                Broken::Seq {
                    expected: seq,
                    found: header.seq,
                },
            ));
        }
        if prev.is_some_and(|prev| unhex(&header.prev).as_deref() != Some(&prev[..])) {
            return Err((i, Broken::Prev));
        }
        prev = Some(line::payload_hash(line.payload));
    }
    Ok(())
}

/// The error for one of this device's own segments that does not verify.
fn damaged(path: &Path, index: usize, why: &Broken) -> Error {
    Error::runtime(format!(
        "{}: line {} {why}; safe adds nothing to a log that does not verify",
        path.display(),
        index + 1
    ))
    .with_hint("safe left the file as it is; restore the data directory from a backup")
}

/// One of this device's own segments, read whole.
fn read_own(path: &Path) -> Result<Vec<u8>> {
    match read_bounded(path)? {
        Contents::Bytes(bytes) => Ok(bytes),
        Contents::TooBig(len) => Err(Error::runtime(format!(
            "{} is {len} bytes, over the {} MiB safe reads; safe adds nothing to it",
            path.display(),
            MAX_FILE_BYTES >> 20
        ))
        .with_hint("safe left the file as it is; restore the data directory from a backup")),
    }
}

/// The last segment of a device's log, found by listing only the last
/// folders of the fan-out (a folder left empty by a crash is passed over).
pub fn last_segment(root: &Path, device: &DeviceId) -> Result<Option<Segment>> {
    let device_dir = root.join(device.as_str());
    for (d1, d1_path) in list_checked(&device_dir, Entry::Folder, folder_number)?
        .into_iter()
        .rev()
    {
        for (d2, d2_path) in list_checked(&d1_path, Entry::Folder, folder_number)?
            .into_iter()
            .rev()
        {
            let files = list_checked(&d2_path, Entry::File, seq_of_file_name)?;
            if let Some(last) = files.len().checked_sub(1) {
                let base = (d1 * FAN_OUT + d2) * FAN_OUT;
                return in_folder(files, &d2_path, base, last);
            }
        }
    }
    Ok(None)
}

/// The segment of `device`'s log that holds `seq` (the last one whose
/// first line is at or before it), found from the newest folders back:
/// an undo looks for recent lines, which lie in the last few segments.
pub fn segment_holding(root: &Path, device: &DeviceId, seq: u64) -> Result<Option<PathBuf>> {
    let device_dir = root.join(device.as_str());
    for (_, d1_path) in list_checked(&device_dir, Entry::Folder, folder_number)?
        .into_iter()
        .rev()
    {
        for (_, d2_path) in list_checked(&d1_path, Entry::Folder, folder_number)?
            .into_iter()
            .rev()
        {
            let files = list_checked(&d2_path, Entry::File, seq_of_file_name)?;
            let at = files.partition_point(|(first, _)| *first <= seq);
            if let Some(i) = at.checked_sub(1) {
                return Ok(Some(files[i].1.clone()));
            }
        }
    }
    Ok(None)
}

/// The segment with ordinal `ordinal`, which must be there.
fn segment_at(root: &Path, device: &DeviceId, ordinal: u64) -> Result<Segment> {
    let path = segment_path(root, device, ordinal, 1);
    let folder = path.parent().expect("a segment lives in a folder");
    let files = list_checked(folder, Entry::File, seq_of_file_name)?;
    let index = (ordinal % FAN_OUT) as usize;
    in_folder(files, folder, ordinal - index as u64, index)?.ok_or_else(|| {
        Error::runtime(format!(
            "segment {ordinal} of the log of device {device} is missing from {}",
            folder.display()
        ))
    })
}

/// The file at `index` of a fan-out folder whose first file has ordinal
/// `base`; a folder with more than [`FAN_OUT`] files is outside the layout.
fn in_folder(
    files: Vec<(u64, PathBuf)>,
    folder: &Path,
    base: u64,
    index: usize,
) -> Result<Option<Segment>> {
    if files.len() as u64 > FAN_OUT {
        return Err(Error::runtime(format!(
            "{} holds {} segments, more than the {FAN_OUT} a folder of a safe log holds",
            folder.display(),
            files.len()
        ))
        .with_hint("safe left the folder as it is; restore the data directory from a backup"));
    }
    Ok(files
        .into_iter()
        .nth(index)
        .map(|(first_seq, path)| Segment {
            path,
            ordinal: base + index as u64,
            first_seq,
        }))
}

/// Undo the pieces of a batch written so far (and the one that failed at
/// `failed`): new segment files are removed, and the tail file (`kept`:
/// its path, and its length before the batch) is cut back.
fn take_back(kept: Option<&(PathBuf, u64)>, written: &[PathBuf], failed: &Path) -> Result<()> {
    for path in written.iter().map(PathBuf::as_path).chain([failed]) {
        match kept {
            Some((tail_path, keep)) if tail_path == path => {
                let file = fs::OpenOptions::new()
                    .write(true)
                    .open(path)
                    .map_err(|e| Error::io("open", path, e))?;
                file.set_len(*keep)
                    .and_then(|()| file.sync_data())
                    .map_err(|e| Error::io("cut back", path, e))?;
            }
            _ => match fs::remove_file(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", path, e)),
            },
        }
    }
    Ok(())
}

/// Write one piece of a batch, to be flushed ([`PieceFlush::now`]) before
/// anything is written after it; a new file (0600) is flushed into its
/// folder too, and any new folder (0700) into its own here, so a later
/// segment is never on disk while an earlier one is not.
fn write_piece(path: &Path, bytes: &[u8], append: bool) -> Result<PieceFlush> {
    let dir = path.parent().expect("a segment lives in a folder");
    let mut options = fs::OpenOptions::new();
    if append {
        options.append(true);
    } else {
        create_dirs(dir)?;
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
    }
    let mut file = options.open(path).map_err(|e| Error::io("open", path, e))?;
    file.write_all(bytes)
        .map_err(|e| Error::io("write", path, e))?;
    Ok(PieceFlush {
        file,
        path: path.to_path_buf(),
        folder: (!append).then(|| dir.to_path_buf()),
    })
}

/// Create `dir` and its missing parents, each 0700 and flushed into its
/// parent.
fn create_dirs(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let parent = dir.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent {
        create_dirs(parent)?;
    }
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    match builder.create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
        Err(e) => return Err(Error::io("create the directory", dir, e)),
    }
    sync_dir(parent.unwrap_or(Path::new(".")))
}

use super::file::sync_dir;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::DataDir;

    const JOURNAL: &str = "journal-1";

    /// A data directory with a lock and a device key; its shared log root.
    struct Fixture {
        root: PathBuf,
        key: DeviceKey,
        lock: Lock,
        _dir: tempfile::TempDir,
    }

    impl Fixture {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
            Fixture {
                root: dir.path().join("shared").join("log"),
                key: DeviceKey::generate().unwrap(),
                lock,
                _dir: dir,
            }
        }

        fn device(&self) -> DeviceId {
            self.key.id()
        }

        fn try_append(&self, op: &str, recs: &[String]) -> Result<Appended> {
            let records: Vec<Record> = recs
                .iter()
                .map(|rec| Record { rec, sidecar: None })
                .collect();
            append_batch(
                &self.root,
                &self.key,
                JOURNAL,
                LogKind::Shared,
                op,
                &records,
                &self.lock,
            )
        }

        fn append(&self, op: &str, recs: &[String]) -> Appended {
            self.try_append(op, recs).unwrap()
        }

        fn read(&self) -> Log {
            read_log(
                &self.root,
                &self.device(),
                &self.key.public(),
                JOURNAL,
                LogKind::Shared,
            )
            .unwrap()
        }

        fn segments(&self) -> Vec<Segment> {
            segments(&self.root, &self.device()).unwrap()
        }

        /// The length of the last segment file; 0 for no log yet.
        fn tail_len(&self) -> u64 {
            self.segments()
                .last()
                .map_or(0, |s| fs::metadata(&s.path).unwrap().len())
        }

        /// Batches of `size` records until the log has `count` segments.
        fn fill(&self, size: usize, count: usize) -> Vec<String> {
            let mut all = Vec::new();
            while self.segments().len() < count {
                let batch = recs(all.len()..all.len() + size);
                self.append(&format!("op-{}", all.len()), &batch);
                all.extend(batch);
            }
            all
        }
    }

    fn recs(range: Range<usize>) -> Vec<String> {
        range
            .map(|n| format!(r#"{{"kind":"entry","n":{n}}}"#))
            .collect()
    }

    fn text_lines(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// Every folder and file under `dir`.
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for item in fs::read_dir(dir).unwrap() {
            let path = item.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            }
            out.push(path);
        }
    }

    #[test]
    fn segment_paths_fan_out_by_ordinal() {
        let root = Path::new("/data/shared/log");
        let device = DeviceId::parse(&"ab".repeat(16)).unwrap();
        for (ordinal, seq, place) in [
            (0, 1, "00/00/0000000001.jsonl"),
            (63, 2_000, "00/00/0000002000.jsonl"),
            (64, 2_040, "00/01/0000002040.jsonl"),
            (4_095, 99_999, "00/3f/0000099999.jsonl"),
            (4_096, 100_000, "01/00/0000100000.jsonl"),
            (MAX_SEGMENTS - 1, MAX_SEQ, "3f/3f/9999999999.jsonl"),
        ] {
            let path = segment_path(root, &device, ordinal, seq);
            assert_eq!(path, root.join(device.as_str()).join(place));
            let name = parse_segment_path(root, &path).unwrap();
            assert_eq!(name.device, device);
            assert_eq!(name.folders, [ordinal / 4096, (ordinal / 64) % 64]);
            assert_eq!(name.first_seq, seq);
        }
    }

    #[test]
    fn the_segment_holding_a_seq_is_found_from_the_newest_folders() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let device = DeviceId::parse(&"ab".repeat(16)).unwrap();
        // 130 segments of ten lines: three folders, the last one short.
        for ordinal in 0..130u64 {
            let path = segment_path(root, &device, ordinal, 1 + 10 * ordinal);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"").unwrap();
        }
        let all = segments(root, &device).unwrap();
        for seq in [1, 9, 10, 11, 640, 641, 650, 1280, 1290, 1291, 1300, 5000] {
            let at = all.partition_point(|s| s.first_seq <= seq);
            let expected = at.checked_sub(1).map(|i| all[i].path.clone());
            assert_eq!(
                segment_holding(root, &device, seq).unwrap(),
                expected,
                "seq {seq}"
            );
        }
        assert_eq!(segment_holding(root, &device, 0).unwrap(), None);
        let other = DeviceId::parse(&"cd".repeat(16)).unwrap();
        assert_eq!(segment_holding(root, &other, 5).unwrap(), None);
    }

    #[test]
    fn paths_outside_the_layout_are_refused() {
        let root = Path::new("/data/shared/log");
        let dev = "ab".repeat(16);
        for bad in [
            "README".to_string(),
            "../x".to_string(),
            format!("{dev}/00/00/../../x"),
            format!("{dev}/./00/0000000001.jsonl"),
            "not-a-device/00/00/0000000001.jsonl".to_string(),
            format!("{}/00/00/0000000001.jsonl", dev.to_uppercase()),
            format!("{dev}/0/00/0000000001.jsonl"),
            format!("{dev}/40/00/0000000001.jsonl"),
            format!("{dev}/00/0A/0000000001.jsonl"),
            format!("{dev}/00/00/000000001.jsonl"),
            format!("{dev}/00/00/+000000001.jsonl"),
            format!("{dev}/00/00/0000000000.jsonl"),
            format!("{dev}/00/00/0000000001.json"),
            format!("{dev}/00/00/0000000001.jsonl/x"),
            format!("{dev}/00/0000000001.jsonl"),
        ] {
            let path = root.join(&bad);
            let err = parse_segment_path(root, &path).unwrap_err();
            assert!(err.message().contains(&bad), "{bad}: {}", err.message());
        }
        let elsewhere = Path::new("/data/x")
            .join(&dev)
            .join("00/00/0000000001.jsonl");
        assert!(parse_segment_path(root, &elsewhere).is_err());
        let good = root.join(&dev).join("00/00/0000000001.jsonl");
        assert!(parse_segment_path(root, &good).is_ok());
    }

    #[test]
    fn listings_are_in_log_order_and_report_anything_else() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("log");
        let device = DeviceId::parse(&"0f".repeat(16)).unwrap();
        assert_eq!(list_devices(&root).unwrap(), []);
        assert_eq!(segments(&root, &device).unwrap(), []);
        let made: Vec<PathBuf> = [(0, 1), (1, 40), (63, 900), (64, 950), (4096, 70_000)]
            .iter()
            .map(|&(ordinal, seq)| segment_path(&root, &device, ordinal, seq))
            .collect();
        for path in made.iter().rev() {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, "").unwrap();
        }
        let listed = segments(&root, &device).unwrap();
        let paths: Vec<&PathBuf> = listed.iter().map(|s| &s.path).collect();
        assert_eq!(paths, made.iter().collect::<Vec<_>>());
        let firsts: Vec<(u64, u64)> = listed.iter().map(|s| (s.ordinal, s.first_seq)).collect();
        assert_eq!(firsts, [(0, 1), (1, 40), (2, 900), (3, 950), (4, 70_000)]);
        assert_eq!(list_devices(&root).unwrap(), std::slice::from_ref(&device));

        let device_dir = root.join(device.as_str());
        for stray_path in [
            root.join("README"),
            root.join("0F".repeat(16)),
            device_dir.join("README"),
            device_dir.join("100"),
            device_dir.join("00").join("00").join("notes.txt"),
            device_dir.join("00").join("00").join("0000000002.jsonl"),
        ] {
            if stray_path.ends_with("0000000002.jsonl") {
                std::os::unix::fs::symlink(&made[0], &stray_path).unwrap();
            } else if stray_path.ends_with("100") || stray_path.ends_with("0F".repeat(16)) {
                fs::create_dir(&stray_path).unwrap();
            } else {
                fs::write(&stray_path, "").unwrap();
            }
            let err = list_devices(&root)
                .and_then(|_| segments(&root, &device))
                .unwrap_err();
            assert!(
                err.message().contains(&stray_path.display().to_string()),
                "{}",
                err.message()
            );
            fs::remove_file(&stray_path)
                .or_else(|_| fs::remove_dir(&stray_path))
                .unwrap();
        }
        assert_eq!(segments(&root, &device).unwrap().len(), 5);
    }

    #[test]
    fn line_lengths_are_known_before_signing() {
        let key = DeviceKey::generate().unwrap();
        let long_note = format!(r#"{{"salt":"00","note":"{}"}}"#, "x".repeat(5_000));
        let records = [
            Record {
                rec: "{}",
                sidecar: None,
            },
            Record {
                rec: r#"{"kind":"entry","n":7}"#,
                sidecar: Some(&long_note),
            },
            Record {
                rec: r#"{"a":"\"quoted\""}"#,
                sidecar: Some("{}"),
            },
        ];
        for (seq, op) in [
            (1, "o"),
            (9, "op \"x\""),
            (99_999, ""),
            (MAX_SEQ - 3, "019a-op"),
        ] {
            let head = ChainHead {
                next_seq: seq,
                prev: [7; 32],
            };
            let op_json = serde_json::to_string(op).unwrap();
            for sign_all in [false, true] {
                let (text, _) = line::write_batch(&key, head, op, &records, |_| sign_all);
                for (i, (text, record)) in text.lines().zip(&records).enumerate() {
                    let signed = sign_all || i + 1 == records.len();
                    let predicted = line_len(seq + i as u64, op_json.len(), record, signed);
                    assert_eq!(predicted, text.len() as u64 + 1, "{text}");
                }
            }
        }
    }

    #[test]
    fn a_long_batch_is_cut_into_signed_segments_of_about_128_kib() {
        let f = Fixture::new();
        let mut all = recs(0..3);
        f.append("op-first", &all);
        let import = recs(3..100_003);
        let appended = f.append("op-import", &import);
        let import_segments: Vec<PathBuf> = f.segments().into_iter().map(|s| s.path).collect();
        all.extend(import);
        let after = recs(100_003..100_005);
        f.append("op-after", &after);
        all.extend(after);

        let log = f.read();
        assert_eq!(log.quarantine, None);
        assert_eq!(log.lines.len(), all.len());
        for (i, (line, rec)) in log.lines.iter().zip(&all).enumerate() {
            assert_eq!((line.seq, line.rec()), (i as u64 + 1, rec.as_str()));
        }
        assert_eq!(log.lines[2].op, "op-first");
        assert_eq!(log.lines[3].op, "op-import");
        assert_eq!(log.lines[100_002].op, "op-import");
        assert_eq!(log.lines[100_003].op, "op-after");
        assert_eq!(log.head.next_seq, all.len() as u64 + 1);

        let segments = f.segments();
        // Over 64 segments: the fan-out's second folder is used.
        assert!(segments.len() > 64, "{} segments", segments.len());
        assert_eq!(appended.first_seq, 4);
        assert_eq!(appended.head.next_seq, 100_004);
        // The import went on in the first segment, then made all the others.
        assert_eq!(appended.written, import_segments);
        for (i, segment) in segments.iter().enumerate() {
            let lines = text_lines(&segment.path);
            let last = lines.last().unwrap();
            assert!(
                line::split(last).unwrap().sig.is_some(),
                "{i} ends unsigned"
            );
            // The import went on in the first segment (under 12 KiB then),
            // and every segment it filled closes at the bulk size; its last
            // one holds what was left.
            let len = fs::metadata(&segment.path).unwrap().len();
            if i + 2 < segments.len() {
                assert!(len >= BULK_CLOSE_BYTES, "segment {i} is {len} bytes");
                assert!(
                    len - (last.len() as u64 + 1) < BULK_CLOSE_BYTES,
                    "segment {i}: {len}"
                );
            }
        }
        let mut everything = Vec::new();
        walk(&f.root, &mut everything);
        for path in &everything {
            if path.is_dir() {
                assert!(
                    fs::read_dir(path).unwrap().count() <= 64,
                    "{}",
                    path.display()
                );
                assert_eq!(mode(path), 0o700, "{}", path.display());
            } else {
                assert_eq!(mode(path), 0o600, "{}", path.display());
            }
        }
    }

    #[test]
    fn only_a_batch_over_the_bulk_size_makes_bulk_segments() {
        // Records of some 200 bytes of line each: 500 are under 128 KiB, so
        // they close segments at 12 KiB; 1,000 are over, so at 128 KiB.
        let rec = |i: usize| format!(r#"{{"n":{i},"pad":"{}"}}"#, "x".repeat(60));
        for (count, close) in [(500, CLOSE_BYTES), (1_000, BULK_CLOSE_BYTES)] {
            let f = Fixture::new();
            let batch: Vec<String> = (0..count).map(rec).collect();
            f.append("op-batch", &batch);
            let segments = f.segments();
            assert!(segments.len() > 1, "{count}: one segment");
            for segment in &segments[..segments.len() - 1] {
                let len = fs::metadata(&segment.path).unwrap().len();
                let last = text_lines(&segment.path).last().unwrap().len() as u64 + 1;
                assert!(len >= close && len - last < close, "{count}: {len}");
            }
            assert_eq!(f.read().lines.len(), count);
        }
    }

    #[test]
    fn a_segment_closes_on_a_signed_line_and_the_next_batch_starts_a_new_one() {
        let f = Fixture::new();
        let all = f.fill(1, 2);
        let segments = f.segments();
        let first = text_lines(&segments[0].path);
        // One-record batches: every line ends a batch, so every line is signed.
        assert!(first.iter().all(|l| line::split(l).unwrap().sig.is_some()));
        assert_eq!(segments[1].first_seq, first.len() as u64 + 1);
        assert_eq!(all.len(), first.len() + 1);
        assert!(fs::metadata(&segments[0].path).unwrap().len() >= CLOSE_BYTES);

        // A batch of several lines that reaches 12 KiB closes the segment
        // on a signed line in the middle of the batch and goes on in a new one.
        let f = Fixture::new();
        let mut all = Vec::new();
        while f.tail_len() < CLOSE_BYTES - 500 {
            let batch = recs(all.len()..all.len() + 1);
            f.append(&format!("op-{}", all.len()), &batch);
            all.extend(batch);
        }
        f.append("op-long", &recs(all.len()..all.len() + 10));
        let segments = f.segments();
        assert_eq!(segments.len(), 2);
        let first = text_lines(&segments[0].path);
        let last = line::split(first.last().unwrap()).unwrap();
        assert!(last.sig.is_some());
        assert_eq!(line::header(last.payload).unwrap().op, "op-long");
        let second = text_lines(&segments[1].path);
        assert_eq!(first.len() + second.len(), all.len() + 10);
        let log = f.read();
        assert_eq!((log.lines.len(), log.quarantine), (all.len() + 10, None));
    }

    #[test]
    fn a_torn_tail_is_ignored_then_truncated_by_the_next_append() {
        let f = Fixture::new();
        f.append("op-a", &recs(0..2));
        f.append("op-b", &recs(2..3));
        let tail = f.segments().pop().unwrap().path;
        let before = fs::read(&tail).unwrap();
        let torn = &text_lines(&tail)[0][..40];
        fs::OpenOptions::new()
            .append(true)
            .open(&tail)
            .unwrap()
            .write_all(torn.as_bytes())
            .unwrap();

        let log = f.read();
        assert_eq!((log.lines.len(), log.quarantine), (3, None));

        f.append("op-c", &recs(3..4));
        let after = fs::read_to_string(&tail).unwrap();
        assert_eq!(after.as_bytes()[..before.len()], before[..]);
        // Exactly one new line after the old ones: the torn bytes are gone.
        let added = &after[before.len()..];
        assert_eq!(added.lines().count(), 1);
        let added = line::split(added.trim_end_matches('\n')).unwrap();
        assert_eq!(line::header(added.payload).unwrap().seq, 4);
        let log = f.read();
        assert_eq!((log.lines.len(), log.quarantine), (4, None));
        assert_eq!(log.lines[3].rec(), recs(3..4)[0]);
    }

    /// The first `keep` lines of a batch of `n` after the log's head, as a
    /// crash in the middle of writing it would leave them: unsigned.
    fn cut_short_batch(f: &Fixture, n: usize, keep: usize) -> String {
        let head = f.read().head;
        let batch = recs(1_000..1_000 + n);
        let records: Vec<Record> = batch
            .iter()
            .map(|rec| Record { rec, sidecar: None })
            .collect();
        let (text, _) = line::write_batch(&f.key, head, "op-crashed", &records, |_| false);
        text.lines().take(keep).map(|l| format!("{l}\n")).collect()
    }

    #[test]
    fn a_batch_cut_short_by_a_crash_is_not_trusted_then_truncated_by_the_next_append() {
        let f = Fixture::new();
        f.append("op-a", &recs(0..2));
        let tail = f.segments().pop().unwrap().path;
        let partial = cut_short_batch(&f, 3, 2);
        fs::OpenOptions::new()
            .append(true)
            .open(&tail)
            .unwrap()
            .write_all(partial.as_bytes())
            .unwrap();

        let log = f.read();
        assert_eq!(log.lines.len(), 2);
        let quarantine = log.quarantine.unwrap();
        assert_eq!(quarantine.path, tail);
        assert_eq!(quarantine.line, Some(4));
        assert_eq!(quarantine.why, Fault::Line(Broken::Unsigned));

        let appended = f.append("op-b", &recs(2..3));
        assert_eq!(appended.first_seq, 3);
        let log = f.read();
        assert_eq!((log.lines.len(), log.quarantine), (3, None));
        assert_eq!(log.lines[2].op, "op-b");
        assert_eq!(text_lines(&tail).len(), 3);
    }

    #[test]
    fn a_last_segment_with_nothing_trusted_is_emptied_and_reused() {
        let f = Fixture::new();
        f.fill(1, 2);
        let segments = f.segments();
        let tail = segments[1].clone();
        // A crash after the tail was created, in the middle of a long batch:
        // it holds lines, none signed.
        fs::write(&tail.path, "").unwrap();
        let partial = cut_short_batch(&f, 5, 3);
        fs::write(&tail.path, &partial).unwrap();
        let log = f.read();
        assert_eq!(log.lines.len() as u64, tail.first_seq - 1);
        assert_eq!(log.quarantine.unwrap().line, Some(3));

        let appended = f.append("op-next", &recs(0..1));
        assert_eq!(appended.written, std::slice::from_ref(&tail.path));
        assert_eq!(appended.first_seq, tail.first_seq);
        let log = f.read();
        assert_eq!(
            (log.lines.len() as u64, log.quarantine),
            (tail.first_seq, None)
        );
        assert_eq!(text_lines(&tail.path).len(), 1);

        // A crash right after the file was created: it is empty.
        let next = segment_path(&f.root, &f.device(), 2, log.head.next_seq);
        fs::write(&next, "").unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(&tail.path)
            .unwrap()
            .write_all(&vec![b' '; CLOSE_BYTES as usize])
            .unwrap();
        assert!(
            f.try_append("op-x", &recs(0..1)).is_err(),
            "junk is not a torn line"
        );
        fs::write(&tail.path, format!("{}\n", text_lines(&tail.path)[0])).unwrap();
        assert_eq!(f.read().quarantine, None);
        let appended = f.append("op-after", &recs(0..1));
        assert_eq!(appended.written, [next]);
        assert_eq!(f.read().quarantine, None);

        // An empty last file named for a seq that does not come next.
        let head = f.read().head;
        let wrong = segment_path(&f.root, &f.device(), 3, head.next_seq + 1);
        fs::write(&wrong, "").unwrap();
        let err = f.try_append("op-x", &recs(0..1)).unwrap_err();
        assert!(
            err.message().contains("a log with a gap"),
            "{}",
            err.message()
        );
        assert_eq!(fs::read(&wrong).unwrap(), b"");
        let missing = segment_at(&f.root, &f.device(), 9).unwrap_err();
        assert!(
            missing.message().contains("segment 9"),
            "{}",
            missing.message()
        );
    }

    #[test]
    fn a_log_read_after_a_copy_it_shares_files_with_reads_as_a_whole_read() {
        let f = Fixture::new();
        f.fill(5, 3);
        let known = f.read();
        let shared = f.segments().len() - 1;
        let mut n = 1_000;
        while f.segments().len() < 6 {
            f.append(&format!("op-more-{n}"), &recs(n..n + 5));
            n += 5;
        }
        let after = |known: &Log, same: usize| {
            read_log_after(
                &f.root,
                &f.device(),
                &f.key.public(),
                JOURNAL,
                LogKind::Shared,
                known,
                same,
            )
            .unwrap()
        };
        let same = |a: &Log, b: &Log| {
            assert_eq!(a.lines, b.lines);
            assert_eq!(a.head, b.head);
            assert_eq!(a.quarantine, b.quarantine);
        };
        let whole = f.read();
        for files in 0..=shared {
            same(&after(&known, files), &whole);
        }
        // A copy whose lines were not all trusted is no shortcut.
        let partial = Log {
            lines: known.lines[..2].to_vec(),
            head: known.head,
            quarantine: None,
        };
        same(&after(&partial, shared), &whole);
        // Damage in a file after the shared ones is found as a whole read
        // finds it.
        let last = f.segments().last().unwrap().path.clone();
        let mut bytes = fs::read(&last).unwrap();
        let digit = memchr::memmem::find(&bytes, b"\"n\":").unwrap() + 4;
        bytes[digit] ^= 1;
        fs::write(&last, &bytes).unwrap();
        let damaged = f.read();
        assert!(damaged.quarantine.is_some());
        same(&after(&known, shared), &damaged);
    }

    #[test]
    fn a_flipped_byte_in_a_middle_segment_quarantines_from_its_batch() {
        let f = Fixture::new();
        f.fill(5, 3);
        let middle = f.segments()[1].clone();
        let good = f.read();
        let ops: Vec<&str> = good.lines[middle.first_seq as usize - 1..]
            .iter()
            .map(|l| l.op.as_str())
            .collect();
        // A batch that starts inside the middle segment, and its first line.
        let start = (1..ops.len()).find(|&j| ops[j] != ops[j - 1]).unwrap();
        let mut bytes = fs::read(&middle.path).unwrap();
        let line_start = bytes
            .split(|b| *b == b'\n')
            .take(start)
            .map(|l| l.len() + 1)
            .sum::<usize>();
        let digit = line_start + memchr::memmem::find(&bytes[line_start..], b"\"n\":").unwrap() + 4;
        bytes[digit] ^= 1;
        fs::write(&middle.path, &bytes).unwrap();

        let log = f.read();
        assert_eq!(log.lines.len(), middle.first_seq as usize - 1 + start);
        let quarantine = log.quarantine.unwrap();
        assert_eq!(quarantine.path, middle.path);
        assert_eq!(quarantine.line, Some(start + 2));
        assert_eq!(quarantine.why, Fault::Line(Broken::Prev));
        assert!(
            quarantine
                .to_string()
                .contains(&format!("line {}", start + 2))
        );

        // The appender reads only its tail, so it goes on; every reader
        // still stops at the damage.
        f.append("op-later", &recs(0..1));
        assert_eq!(f.read().quarantine, Some(quarantine));
    }

    #[test]
    fn a_damaged_tail_is_refused_and_left_as_it_is() {
        let f = Fixture::new();
        f.append("op-a", &recs(0..3));
        f.append("op-b", &recs(3..4));
        let tail = f.segments().pop().unwrap().path;
        let good = fs::read(&tail).unwrap();
        let damage = |from: &str, to: &str, line: usize| {
            let text = String::from_utf8(good.clone())
                .unwrap()
                .replacen(from, to, 1);
            fs::write(&tail, &text).unwrap();
            let err = f.try_append("op-c", &recs(4..5)).unwrap_err();
            assert!(
                err.message().contains(&format!("line {line} ")),
                "{}",
                err.message()
            );
            assert!(err.message().contains(&tail.display().to_string()));
            assert_eq!(fs::read_to_string(&tail).unwrap(), text);
        };
        // An unsigned line before the last signature, changed.
        damage(r#""n":0"#, r#""n":9"#, 2);
        // The last signed line, changed.
        damage(r#""n":3"#, r#""n":8"#, 4);
        // A line that is not a line at all.
        damage("\t", " ", 1);
        fs::write(&tail, &good).unwrap();
        f.append("op-c", &recs(4..5));
        assert_eq!(f.read().lines.len(), 5);
    }

    #[test]
    fn a_deleted_middle_segment_is_a_gap() {
        let f = Fixture::new();
        f.fill(1, 3);
        let segments = f.segments();
        fs::remove_file(&segments[1].path).unwrap();
        let log = f.read();
        assert_eq!(log.lines.len() as u64, segments[1].first_seq - 1);
        assert_eq!(
            log.quarantine,
            Some(Quarantine {
                path: segments[2].path.clone(),
                line: None,
                why: Fault::Seq {
                    expected: segments[1].first_seq,
                    named: segments[2].first_seq
                },
            })
        );
    }

    #[test]
    fn a_segment_renamed_to_another_first_seq_is_refused() {
        let f = Fixture::new();
        f.fill(1, 3);
        let middle = f.segments()[1].clone();
        for named in [middle.first_seq + 1, middle.first_seq - 1] {
            let renamed = middle.path.with_file_name(format!("{named:010}.jsonl"));
            fs::rename(&middle.path, &renamed).unwrap();
            let log = f.read();
            assert_eq!(log.lines.len() as u64, middle.first_seq - 1);
            let quarantine = log.quarantine.unwrap();
            assert_eq!(quarantine.path, renamed);
            let expected = middle.first_seq;
            assert_eq!(quarantine.why, Fault::Seq { expected, named });
            fs::rename(&renamed, &middle.path).unwrap();
        }
        assert_eq!(f.read().quarantine, None);
    }

    #[test]
    fn a_segment_out_of_its_folder_is_refused() {
        let f = Fixture::new();
        f.fill(1, 3);
        let tail = f.segments().pop().unwrap();
        let moved = f
            .root
            .join(f.device().as_str())
            .join("00/01")
            .join(tail.path.file_name().unwrap());
        fs::create_dir_all(moved.parent().unwrap()).unwrap();
        fs::rename(&tail.path, &moved).unwrap();
        let quarantine = f.read().quarantine.unwrap();
        assert_eq!(quarantine.path, moved);
        assert_eq!(
            quarantine.why,
            Fault::Misplaced {
                expected: tail.path.clone()
            }
        );

        // A folder with more than 64 files is outside the layout too.
        fs::rename(&moved, &tail.path).unwrap();
        fs::remove_dir(moved.parent().unwrap()).unwrap();
        let folder = tail.path.parent().unwrap();
        for seq in 0..64 {
            fs::write(folder.join(format!("{:010}.jsonl", 9_000_000 + seq)), "").unwrap();
        }
        let err = f.try_append("op-x", &recs(0..1)).unwrap_err();
        assert!(
            err.message().contains("more than the 64"),
            "{}",
            err.message()
        );
    }

    #[test]
    fn stray_files_are_reported_not_read() {
        let f = Fixture::new();
        f.append("op-a", &recs(0..3));
        let device_dir = f.root.join(f.device().as_str());
        assert_eq!(list_devices(&f.root).unwrap(), [f.device()]);
        let reported = |path: &Path, err: Error| {
            assert!(
                err.message().contains(&path.display().to_string()),
                "{}",
                err.message()
            );
            assert!(
                err.message().contains("not part of a safe log"),
                "{}",
                err.message()
            );
        };

        let readme = f.root.join("README");
        fs::write(&readme, "not a log").unwrap();
        reported(&readme, list_devices(&f.root).unwrap_err());
        fs::remove_file(&readme).unwrap();

        let not_hex = f.root.join("not-a-device-at-all-not-a-device!");
        fs::create_dir(&not_hex).unwrap();
        reported(&not_hex, list_devices(&f.root).unwrap_err());
        fs::remove_dir(&not_hex).unwrap();

        let inside = device_dir.join("README");
        fs::write(&inside, "{}").unwrap();
        let key = f.key.public();
        reported(
            &inside,
            read_log(&f.root, &f.device(), &key, JOURNAL, LogKind::Shared).unwrap_err(),
        );
        reported(&inside, segment_stats(&f.root, &f.device()).unwrap_err());
        reported(&inside, f.try_append("op-b", &recs(3..4)).unwrap_err());
        fs::remove_file(&inside).unwrap();

        // A link that looks like a segment is never followed.
        let real = f.segments()[0].path.clone();
        let link = real.with_file_name("0000000004.jsonl");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        reported(
            &link,
            read_log(&f.root, &f.device(), &key, JOURNAL, LogKind::Shared).unwrap_err(),
        );
        fs::remove_file(&link).unwrap();
        assert_eq!(f.read().lines.len(), 3);
    }

    #[test]
    fn a_file_over_the_size_limit_is_refused_unread() {
        let f = Fixture::new();
        f.fill(1, 3);
        let segments = f.segments();
        let middle = &segments[1];
        let huge = MAX_FILE_BYTES + 1;
        // Sparse: no 64 MiB written, and zeros that would not parse anyway.
        fs::OpenOptions::new()
            .write(true)
            .open(&middle.path)
            .unwrap()
            .set_len(huge)
            .unwrap();
        let log = f.read();
        assert_eq!(log.lines.len() as u64, middle.first_seq - 1);
        let quarantine = log.quarantine.unwrap();
        assert_eq!(
            (quarantine.path.clone(), quarantine.why.clone()),
            (middle.path.clone(), Fault::TooBig { len: huge })
        );
        assert!(quarantine.to_string().contains("over the 64 MiB"));
        let stats = segment_stats(&f.root, &f.device()).unwrap();
        assert_eq!((stats[1].len, stats[1].last_payload), (huge, None));

        let tail = &segments[2].path;
        fs::OpenOptions::new()
            .write(true)
            .open(tail)
            .unwrap()
            .set_len(huge)
            .unwrap();
        let err = f.try_append("op-x", &recs(0..1)).unwrap_err();
        assert!(
            err.message().contains("over the 64 MiB"),
            "{}",
            err.message()
        );
        assert_eq!(fs::metadata(tail).unwrap().len(), huge);
    }

    #[test]
    fn a_segment_before_the_last_must_end_on_a_complete_line() {
        let f = Fixture::new();
        f.fill(1, 3);
        let middle = f.segments()[1].clone();
        let good = fs::read(&middle.path).unwrap();
        let count = text_lines(&middle.path).len();

        fs::write(&middle.path, &good[..good.len() - 1]).unwrap();
        let quarantine = f.read().quarantine.unwrap();
        assert_eq!(
            (quarantine.line, quarantine.why),
            (Some(count), Fault::Line(Broken::Shape))
        );

        fs::write(&middle.path, "").unwrap();
        let quarantine = f.read().quarantine.unwrap();
        assert_eq!(
            (quarantine.path, quarantine.why),
            (middle.path.clone(), Fault::Empty)
        );

        let mut bytes = good.clone();
        bytes[3] = 0xff;
        fs::write(&middle.path, &bytes).unwrap();
        let quarantine = f.read().quarantine.unwrap();
        assert_eq!(
            (quarantine.line, quarantine.why),
            (Some(1), Fault::Line(Broken::Shape))
        );
    }

    #[test]
    fn a_batch_that_would_not_read_back_is_refused_before_anything_is_written() {
        let f = Fixture::new();
        f.append("op-a", &recs(0..2));
        let tail = f.segments()[0].path.clone();
        let before = fs::read(&tail).unwrap();
        for (rec, sidecar) in [
            (r#"{"a":1,"a":2}"#, None),
            ("not json", None),
            ("{\"a\":\n1}", None),
            ("{\"a\":\t1}", None),
            ("{}", Some("{\"note\":\t1}")),
            ("{}", Some("{\"note\":\n1}")),
        ] {
            let records = [
                Record {
                    rec: "{}",
                    sidecar: None,
                },
                Record { rec, sidecar },
            ];
            let err = append_batch(
                &f.root,
                &f.key,
                JOURNAL,
                LogKind::Shared,
                "op-b",
                &records,
                &f.lock,
            )
            .unwrap_err();
            assert!(
                err.message().contains("record 2 of the batch"),
                "{}",
                err.message()
            );
            assert_eq!(fs::read(&tail).unwrap(), before);
        }
        let err = append_batch(
            &f.root,
            &f.key,
            JOURNAL,
            LogKind::Shared,
            "op-b",
            &[],
            &f.lock,
        )
        .unwrap_err();
        assert!(err.message().contains("at least one record"));
        assert_eq!(f.segments().len(), 1);
    }

    #[test]
    fn sidecars_come_back_with_their_lines() {
        let f = Fixture::new();
        let note = r#"{"salt":"0011","note":"hi"}"#;
        let records = [
            Record {
                rec: r#"{"kind":"entry","h":"ab"}"#,
                sidecar: Some(note),
            },
            Record {
                rec: r#"{"kind":"name"}"#,
                sidecar: None,
            },
        ];
        append_batch(
            &f.root,
            &f.key,
            JOURNAL,
            LogKind::Shared,
            "op-a",
            &records,
            &f.lock,
        )
        .unwrap();
        let log = f.read();
        assert_eq!(log.lines[0].sidecar.as_deref(), Some(note));
        assert_eq!(log.lines[0].rec(), records[0].rec);
        assert_eq!(
            (log.lines[0].sig, log.lines[1].sidecar.clone()),
            (None, None)
        );
        assert!(log.lines[1].sig.is_some());
    }

    #[test]
    fn a_log_is_read_only_with_its_own_devices_key() {
        let f = Fixture::new();
        f.append("op-a", &recs(0..1));
        let other = DeviceKey::generate().unwrap();
        let err = read_log(
            &f.root,
            &f.device(),
            &other.public(),
            JOURNAL,
            LogKind::Shared,
        )
        .unwrap_err();
        assert!(err.message().contains(f.device().as_str()));
        // Another journal's genesis: the first line does not follow it.
        let log = read_log(
            &f.root,
            &f.device(),
            &f.key.public(),
            "journal-2",
            LogKind::Shared,
        )
        .unwrap();
        assert_eq!(log.lines.len(), 0);
        assert_eq!(log.quarantine.unwrap().why, Fault::Line(Broken::Prev));
        // No log at all is an empty one.
        let empty = read_log(
            &f.root,
            &other.id(),
            &other.public(),
            JOURNAL,
            LogKind::Shared,
        )
        .unwrap();
        assert_eq!((empty.lines.len(), empty.quarantine), (0, None));
    }

    #[test]
    fn segment_stats_give_each_length_and_last_payload() {
        let f = Fixture::new();
        f.fill(1, 2);
        let long = format!(r#"{{"kind":"entry","pad":"{}"}}"#, "x".repeat(20_000));
        f.append("op-long", std::slice::from_ref(&long));
        let tail = f.segments().pop().unwrap().path;
        fs::OpenOptions::new()
            .append(true)
            .open(&tail)
            .unwrap()
            .write_all(b"{\"torn")
            .unwrap();
        let stats = segment_stats(&f.root, &f.device()).unwrap();
        let segments = f.segments();
        assert_eq!(stats.len(), segments.len());
        for (stat, segment) in stats.iter().zip(&segments) {
            assert_eq!(stat.path, segment.path);
            assert_eq!(stat.len, fs::metadata(&segment.path).unwrap().len());
            let lines = text_lines(&segment.path);
            let last = lines.iter().rev().find(|l| l.contains('\t')).unwrap();
            let payload = line::split(last).unwrap().payload;
            assert_eq!(stat.last_payload, Some(line::payload_hash(payload)));
        }
        fs::write(&tail, "no line yet").unwrap();
        assert_eq!(
            segment_stats(&f.root, &f.device())
                .unwrap()
                .last()
                .unwrap()
                .last_payload,
            None
        );
    }

    #[test]
    fn a_full_log_takes_no_more_lines() {
        let head = ChainHead {
            next_seq: 1,
            prev: [0; 32],
        };
        let one = [Record {
            rec: "{}",
            sidecar: None,
        }];
        assert!(plan(head, None, MAX_SEGMENTS - 1, 3, &one).is_ok());
        let err = plan(head, None, MAX_SEGMENTS, 3, &one).unwrap_err();
        assert!(err.message().contains("log is full"));
        let near_end = ChainHead {
            next_seq: MAX_SEQ,
            prev: [0; 32],
        };
        assert!(plan(near_end, None, 0, 3, &one).is_ok());
        let two = [
            Record {
                rec: "{}",
                sidecar: None,
            },
            Record {
                rec: "{}",
                sidecar: None,
            },
        ];
        assert!(plan(near_end, None, 0, 3, &two).is_err());
        let huge = "1".repeat(MAX_FILE_BYTES as usize);
        let err = plan(
            head,
            None,
            0,
            3,
            &[Record {
                rec: &huge,
                sidecar: None,
            }],
        )
        .unwrap_err();
        assert!(err.message().contains("over 64 MiB"));
    }
}
