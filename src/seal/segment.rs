//! A segment as the remote holds it: sealed with age to one epoch's key.
//!
//! What is sealed is a header binding the segment to its device and to its
//! place in that device's log, the segment's bytes, and zeros up to a
//! multiple of 1 KiB, so a file's size tells its length only to the KiB:
//!
//! ```text
//! safe-segment-v1 LF <device> LF <path below the device's folder> LF <length> LF <bytes> <zeros>
//! ```
//!
//! Opening checks all of it: a segment moved to another device's folder,
//! cut short, padded with anything but zeros, or sealed to a key this
//! device does not hold does not open.

use age::x25519;

use super::epoch::{self, OpenFailure};
use crate::error::Result;
use crate::keys::DeviceId;
use crate::store::segment::parse_segment_path;

/// What every sealed file starts with: the age format's first line.
pub const AGE_MAGIC: &[u8] = b"age-encryption.org/v1\n";
/// Sealed plaintext is padded to a multiple of this.
pub const PADDING: usize = 1024;
const TAG: &str = "safe-segment-v1";

/// Whether `bytes` is an age file (as far as its first line says).
pub fn is_age(bytes: &[u8]) -> bool {
    bytes.starts_with(AGE_MAGIC)
}

/// Seal the segment at `rest` (below the folder of `device`'s log) to an
/// epoch's public key.
pub fn seal(
    recipient: &x25519::Recipient,
    device: &DeviceId,
    rest: &str,
    bytes: &[u8],
) -> Result<Vec<u8>> {
    let mut plain = format!("{TAG}\n{device}\n{rest}\n{}\n", bytes.len()).into_bytes();
    plain.extend_from_slice(bytes);
    let padded = plain.len().div_ceil(PADDING).max(1) * PADDING;
    plain.resize(padded, 0);
    epoch::encrypt(std::iter::once(recipient as &dyn age::Recipient), &plain)
}

/// Why a sealed segment was not opened.
#[derive(Debug, PartialEq, Eq)]
pub enum Unopened {
    /// Sealed to no epoch key this device holds.
    NoKey,
    /// Not age, cut short, changed, or not a sealed segment inside.
    Damaged,
    /// It opens, but it is a segment of another device's log.
    OtherDevice(String),
}

/// A segment opened: its place below the device's folder, and its bytes.
#[derive(Debug)]
pub struct Opened {
    pub rest: String,
    pub bytes: Vec<u8>,
    /// Which of the keys given opened it.
    pub key: usize,
}

/// Open a sealed segment of `device`'s log with the epoch keys given.
pub fn open(
    sealed: &[u8],
    device: &DeviceId,
    keys: &[&x25519::Identity],
) -> Result<Opened, Unopened> {
    if !is_age(sealed) {
        return Err(Unopened::Damaged);
    }
    for (index, key) in keys.iter().enumerate() {
        match epoch::decrypt(sealed, *key) {
            Ok(plain) => return read(&plain, device, index),
            Err(OpenFailure::NoKey) => continue,
            Err(OpenFailure::Damaged) => return Err(Unopened::Damaged),
        }
    }
    Err(Unopened::NoKey)
}

fn read(plain: &[u8], device: &DeviceId, key: usize) -> Result<Opened, Unopened> {
    if plain.is_empty() || !plain.len().is_multiple_of(PADDING) {
        return Err(Unopened::Damaged);
    }
    let mut fields = plain.splitn(5, |b| *b == b'\n');
    let mut text = || {
        fields
            .next()
            .and_then(|f| std::str::from_utf8(f).ok())
            .map(str::to_string)
    };
    let (Some(tag), Some(owner), Some(rest), Some(len)) = (text(), text(), text(), text()) else {
        return Err(Unopened::Damaged);
    };
    let body = fields.next().unwrap_or_default();
    if tag != TAG {
        return Err(Unopened::Damaged);
    }
    if owner != device.as_str() {
        return Err(Unopened::OtherDevice(owner));
    }
    let path = format!("shared/log/{device}/{rest}");
    if parse_segment_path(
        std::path::Path::new("shared/log"),
        std::path::Path::new(&path),
    )
    .map_or(true, |name| name.device != *device)
    {
        return Err(Unopened::Damaged);
    }
    let len: usize = len.parse().map_err(|_| Unopened::Damaged)?;
    if len > body.len() || body[len..].iter().any(|b| *b != 0) {
        return Err(Unopened::Damaged);
    }
    Ok(Opened {
        rest,
        bytes: body[..len].to_vec(),
        key,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;

    const REST: &str = "00/00/0000000001.jsonl";

    #[test]
    fn a_segment_opens_whole_and_is_padded_to_a_kib() {
        let device = DeviceKey::generate().unwrap().id();
        let epoch = x25519::Identity::generate();
        for len in [0, 1, 900, 1024, 5000] {
            let bytes = vec![b'x'; len];
            let sealed = seal(&epoch.to_public(), &device, REST, &bytes).unwrap();
            assert!(is_age(&sealed));
            let opened = open(&sealed, &device, &[&epoch]).unwrap();
            assert_eq!((opened.rest.as_str(), opened.bytes), (REST, bytes));
            // What is sealed is a whole number of KiB, whatever the length.
            let plain = epoch::decrypt(&sealed, &epoch).unwrap();
            assert_eq!(plain.len() % PADDING, 0, "{len}");
            assert!(plain.len() < len + 200 + PADDING, "{len}");
        }
        // Sealing is randomised: the same bytes seal differently.
        let a = seal(&epoch.to_public(), &device, REST, b"same").unwrap();
        let b = seal(&epoch.to_public(), &device, REST, b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn a_segment_of_another_device_cut_or_for_other_keys_does_not_open() {
        let (mine, theirs) = (
            DeviceKey::generate().unwrap().id(),
            DeviceKey::generate().unwrap().id(),
        );
        let (epoch, other) = (x25519::Identity::generate(), x25519::Identity::generate());
        let sealed = seal(&epoch.to_public(), &theirs, REST, b"line\n").unwrap();
        assert_eq!(
            open(&sealed, &mine, &[&epoch]).unwrap_err(),
            Unopened::OtherDevice(theirs.to_string())
        );
        assert_eq!(
            open(&sealed, &theirs, &[&other]).unwrap_err(),
            Unopened::NoKey
        );
        assert_eq!(open(&sealed, &theirs, &[&other, &epoch]).unwrap().key, 1);
        assert_eq!(
            open(&sealed[..sealed.len() - 100], &theirs, &[&epoch]).unwrap_err(),
            Unopened::Damaged
        );
        assert_eq!(
            open(b"line\n", &theirs, &[&epoch]).unwrap_err(),
            Unopened::Damaged
        );
        // A path that is not a segment's is not one.
        let odd = seal(&epoch.to_public(), &theirs, "../../x", b"").unwrap();
        assert_eq!(
            open(&odd, &theirs, &[&epoch]).unwrap_err(),
            Unopened::Damaged
        );
    }
}
