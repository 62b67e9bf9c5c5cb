//! A device's log on disk (schema 2): the segment files under a log root
//! (`shared/log` or `private/log`) and where each one lives. See
//! docs/protocol.md "Segments"; each rule there names the test below that
//! checks it.
//!
//! A log is `<root>/<device>/<d1>/<d2>/<first seq>.jsonl`: segments named by
//! their first `seq`, fanned out by their ordinal so that no folder holds more
//! than 64 entries (git trees stay small).

use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::error::{Error, Result};
use crate::keys::DeviceId;

/// A segment closes with the first line that brings it to this size: small
/// enough that re-sealing the open segment after one entry stays cheap, large
/// enough that ten years of a journal are a few thousand files.
pub const CLOSE_BYTES: u64 = 12 * 1024;

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
