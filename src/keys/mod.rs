//! This device's identity for schema 2: an Ed25519 key pair kept in `keys/`
//! (never synced, never in a backup), the device id derived from its public
//! key, and the domain-separated signatures that make every line of a
//! device's log its own (DESIGN.md §3, docs/protocol.md "Devices").

pub mod line;
pub mod pairing;
pub mod safety;

use std::fmt;
use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::store::Lock;

/// What every line signature covers before the payload: a signature made
/// for a line can never be replayed as anything else safe signs.
pub const LINE_DOMAIN: &[u8] = b"safe-line-v2\0";

/// A device: `hex(SHA-256(public key))[..32]`. Parsed, never trusted as
/// given: it is checked before it names a folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DeviceId(String);

impl DeviceId {
    /// The id of the device holding `key`.
    pub fn of(key: &VerifyingKey) -> Self {
        let digest = Sha256::digest(key.as_bytes());
        DeviceId(hex(&digest[..16]))
    }

    /// `text` as a device id: exactly 32 lowercase hex digits, so it is safe
    /// as a path component and has one spelling.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 32 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        ok.then(|| DeviceId(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// This device's secret signing key.
pub struct DeviceKey {
    signing: SigningKey,
}

impl DeviceKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self> {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).map_err(|e| {
            Error::runtime(format!("could not get random bytes for a new key: {e}"))
        })?;
        Ok(DeviceKey {
            signing: SigningKey::from_bytes(&secret),
        })
    }

    pub fn public(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn id(&self) -> DeviceId {
        DeviceId::of(&self.public())
    }

    /// The signature of one line's payload, exactly as stored.
    pub fn sign_line(&self, payload: &[u8]) -> Signature {
        self.signing.sign(&line_message(payload))
    }

    /// The signature of `message` under another domain than a line's
    /// (the sealed sync signs its key statements and epochs with it).
    pub fn sign_for(&self, domain: &[u8], message: &[u8]) -> Signature {
        self.signing.sign(&[domain, message].concat())
    }

    /// Where this device's secret key lives in a data directory.
    pub fn path(root: &Path) -> PathBuf {
        root.join("keys").join("device.ed25519")
    }

    /// The key of this data directory, made on first use. The file holds
    /// the secret as hex, is private to the user (0600, in a 0700 folder),
    /// and is written whole or not at all.
    pub fn load_or_create(root: &Path, _lock: &Lock) -> Result<Self> {
        let path = Self::path(root);
        match std::fs::read_to_string(&path) {
            Ok(text) => Self::from_hex(text.trim()).ok_or_else(|| {
                Error::runtime(format!("{} is not a safe device key", path.display())).with_hint(
                    "safe left it untouched; restore it from where you keep copies of your keys",
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                let dir = path.parent().expect("keys/ has a parent");
                crate::store::file::ensure_dir(dir)?;
                let text = format!("{}\n", hex(&key.signing.to_bytes()));
                crate::store::file::write_atomic(&path, text.as_bytes())?;
                Ok(key)
            }
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    fn from_hex(text: &str) -> Option<Self> {
        let bytes: [u8; 32] = unhex(text)?.try_into().ok()?;
        Some(DeviceKey {
            signing: SigningKey::from_bytes(&bytes),
        })
    }
}

/// Whether `sig` is `key`'s signature of this line payload. Strict
/// verification: no malleable or small-order forms are accepted.
pub fn verify_line(key: &VerifyingKey, payload: &[u8], sig: &Signature) -> bool {
    key.verify_strict(&line_message(payload), sig).is_ok()
}

/// Whether `sig` is `key`'s signature of `message` under `domain`
/// ([`DeviceKey::sign_for`]), checked strictly.
pub fn verify_for(key: &VerifyingKey, domain: &[u8], message: &[u8], sig: &Signature) -> bool {
    key.verify_strict(&[domain, message].concat(), sig).is_ok()
}

fn line_message(payload: &[u8]) -> Vec<u8> {
    let mut message = Vec::with_capacity(LINE_DOMAIN.len() + payload.len());
    message.extend_from_slice(LINE_DOMAIN);
    message.extend_from_slice(payload);
    message
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// The bytes of lowercase hex text, or `None` for anything else.
pub fn unhex(text: &str) -> Option<Vec<u8>> {
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> DeviceKey {
        DeviceKey {
            signing: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    #[test]
    fn a_device_id_is_the_start_of_the_hash_of_its_key() {
        let k = key(1);
        let id = k.id();
        assert_eq!(id.as_str().len(), 32);
        let full = hex(&Sha256::digest(k.public().as_bytes()));
        assert!(full.starts_with(id.as_str()));
        assert_ne!(key(2).id(), id);
    }

    #[test]
    fn device_ids_are_checked_before_they_name_a_folder() {
        assert!(DeviceId::parse(&"0123456789abcdef".repeat(2)).is_some());
        for bad in [
            "",
            "../../../../etc/passwd",
            &"0123456789ABCDEF".repeat(2),
            &"0".repeat(31),
            &"0".repeat(33),
            &format!("{}/", "0".repeat(31)),
        ] {
            assert!(DeviceId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn a_signature_covers_the_exact_payload_and_the_domain() {
        let k = key(7);
        let payload = br#"{"v":2,"seq":1}"#;
        let sig = k.sign_line(payload);
        assert!(verify_line(&k.public(), payload, &sig));
        assert!(!verify_line(&k.public(), br#"{"v":2,"seq":2}"#, &sig));
        assert!(!verify_line(&key(8).public(), payload, &sig));
        // The same bytes signed without the domain prefix do not verify.
        let bare = k.signing.sign(payload);
        assert!(!verify_line(&k.public(), payload, &bare));
    }

    #[test]
    fn hex_round_trips_and_refuses_other_spellings() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001abff").unwrap(), bytes);
        for bad in ["0", "0g", "ABFF", " 00"] {
            assert!(unhex(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn the_key_file_is_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let data = crate::store::DataDir::new(dir.path().to_path_buf());
        let lock = data.lock().unwrap();
        let first = DeviceKey::load_or_create(dir.path(), &lock).unwrap();
        let again = DeviceKey::load_or_create(dir.path(), &lock).unwrap();
        assert_eq!(first.id(), again.id());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(DeviceKey::path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(DeviceKey::path(dir.path()), "not a key").unwrap();
        let err = DeviceKey::load_or_create(dir.path(), &lock).err().unwrap();
        assert!(err.message().contains("not a safe device key"));
        assert_eq!(
            std::fs::read_to_string(DeviceKey::path(dir.path())).unwrap(),
            "not a key"
        );
    }
}
