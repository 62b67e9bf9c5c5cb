//! The plaintext view of a checkout of a sealed remote, for someone who
//! holds a device's keys and the plain `git` command: open every segment
//! into `shared/log/<device>/…` beside the sealed files, change what you
//! like, and seal it back. It is what a partner turned hostile can do to
//! the remote (the tests of DESIGN.md §7 do it), and a way to look at a
//! sealed remote by hand.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use age::x25519;

use super::epoch::Epoch;
use super::key::SealKey;
use super::layout::{self, Place};
use super::segment;
use crate::error::{Error, Result};
use crate::journal::Identity;
use crate::keys::DeviceId;

/// A checkout whose segments were opened into `shared/log`.
pub struct Checkout {
    dir: PathBuf,
    /// The newest epoch opened, which changed segments are sealed to.
    epoch: Option<x25519::Recipient>,
    /// Each opened segment: its plaintext path, bytes and sealed bytes.
    opened: BTreeMap<PathBuf, (Vec<u8>, Vec<u8>)>,
}

/// Open the sealed checkout at `dir` with the keys of the data directory
/// at `keys_of`: each segment it can open is written to
/// `shared/log/<device>/<path>` and its sealed file removed; the rest stay.
pub fn open_checkout(dir: &Path, keys_of: &Path) -> Result<Checkout> {
    let seal = SealKey::load(keys_of)?
        .ok_or_else(|| Error::runtime(format!("{} has no sealing key", keys_of.display())))?;
    let journal = Identity::read(keys_of)?
        .ok_or_else(|| Error::runtime(format!("{} holds no journal", keys_of.display())))?
        .journal;
    let mut epochs: Vec<Epoch> = Vec::new();
    let mut segments = Vec::new();
    for path in files_under(dir) {
        let rel = path.strip_prefix(dir).expect("under the checkout");
        let rel = rel.to_string_lossy().replace('\\', "/");
        match layout::parse(&rel) {
            Some(Place::Epoch(n)) => {
                let bytes = read(&path)?;
                epochs.extend(Epoch::open(&bytes, seal.identity(), &journal, n));
            }
            Some(Place::Segment { device, index }) => segments.push((path, device, index)),
            _ => {}
        }
    }
    epochs.sort_by_key(|e| e.number);
    let keys: Vec<&x25519::Identity> = epochs.iter().map(|e| &e.secret).collect();
    let mut opened = BTreeMap::new();
    for (path, device, _) in segments {
        let sealed = read(&path)?;
        if let Ok(o) = segment::open(&sealed, &device, &keys) {
            let plain = dir.join("shared/log").join(device.as_str()).join(&o.rest);
            std::fs::create_dir_all(plain.parent().expect("in a folder"))
                .map_err(|e| Error::io("write", &plain, e))?;
            std::fs::write(&plain, &o.bytes).map_err(|e| Error::io("write", &plain, e))?;
            std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
            opened.insert(plain, (o.bytes, sealed));
        }
    }
    Ok(Checkout {
        dir: dir.to_path_buf(),
        epoch: epochs.last().map(Epoch::recipient),
        opened,
    })
}

impl Checkout {
    /// Seal `shared/log` back into `log/`: each segment in its device's
    /// log order, the unchanged ones as they were, the changed and new ones
    /// sealed to the newest epoch opened. Files under `shared/log` that are
    /// not segments stay where they are, in the clear.
    pub fn seal_again(self) -> Result<()> {
        let root = self.dir.join("shared/log");
        let mut logs: BTreeMap<DeviceId, BTreeMap<String, PathBuf>> = BTreeMap::new();
        for path in files_under(&root) {
            if let Ok(name) = crate::store::segment::parse_segment_path(&root, &path) {
                let rest = path
                    .strip_prefix(root.join(name.device.as_str()))
                    .expect("below its device")
                    .to_string_lossy()
                    .replace('\\', "/");
                logs.entry(name.device).or_default().insert(rest, path);
            }
        }
        for (device, log) in logs {
            for (index, (rest, path)) in log.iter().enumerate() {
                let bytes = read(path)?;
                let sealed = match self.opened.get(path) {
                    Some((was, sealed)) if *was == bytes => sealed.clone(),
                    _ => {
                        let epoch = self.epoch.as_ref().ok_or_else(|| {
                            Error::runtime("no epoch of this remote is sealed to these keys")
                        })?;
                        segment::seal(epoch, &device, rest, &bytes)?
                    }
                };
                let target = self.dir.join(layout::segment_path(&device, index as u64));
                std::fs::create_dir_all(target.parent().expect("in a folder"))
                    .map_err(|e| Error::io("write", &target, e))?;
                std::fs::write(&target, sealed).map_err(|e| Error::io("write", &target, e))?;
                std::fs::remove_file(path).map_err(|e| Error::io("remove", path, e))?;
            }
        }
        // Folders left empty go, so that only what stays in the clear is left.
        remove_empty(&self.dir.join("shared"));
        Ok(())
    }
}

fn remove_empty(dir: &Path) {
    if let Ok(listing) = std::fs::read_dir(dir) {
        for item in listing.flatten() {
            if item.path().is_dir() {
                remove_empty(&item.path());
            }
        }
    }
    let _ = std::fs::remove_dir(dir);
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io("read", path, e))
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        let Ok(listing) = std::fs::read_dir(&next) else {
            continue;
        };
        for item in listing.flatten() {
            let path = item.path();
            if item.file_name() == ".git" {
                continue;
            }
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}
