//! This device's sealing key and the signed statement that publishes it.
//!
//! Each device has, beside its Ed25519 signing key, an X25519 key of its
//! own for age (`keys/seal.x25519`, mode 0600, never synced): epochs are
//! sealed to it. Its public half travels in the clear, at `keys/<device>`
//! of a sealed remote, in a *statement* signed by the device's Ed25519 key
//! under its own domain. A statement only says "this device opens age
//! files with this recipient"; who is sealed to is decided from this
//! device's own verified roster, never from the statements a remote holds.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;
use ed25519_dalek::{Signature, VerifyingKey};

use crate::error::{Error, Result};
use crate::keys::{DeviceId, DeviceKey, hex, unhex, verify_for};
use crate::store::{Lock, file};

/// What a statement's signature covers before its fields.
pub const STATEMENT_DOMAIN: &[u8] = b"safe-seal-key-v1\0";
/// The first word of a statement.
const STATEMENT_TAG: &str = "safe-seal-key-v1";
/// A statement is one short line; anything longer is not one.
pub const MAX_STATEMENT_BYTES: usize = 512;

/// This device's X25519 identity for age.
pub struct SealKey {
    identity: x25519::Identity,
}

impl SealKey {
    /// Where the key lives in a data directory.
    pub fn path(root: &Path) -> PathBuf {
        root.join("keys").join("seal.x25519")
    }

    /// The key of this data directory, made on first use: written whole
    /// (temporary file, flush, rename), private to the user.
    pub fn load_or_create(root: &Path, _lock: &Lock) -> Result<Self> {
        if let Some(key) = Self::load(root)? {
            return Ok(key);
        }
        let key = Self::generate();
        key.save(root)?;
        Ok(key)
    }

    /// A new key, not saved yet.
    pub fn generate() -> Self {
        SealKey {
            identity: x25519::Identity::generate(),
        }
    }

    /// Write the key to `keys/` in the data directory at `root`.
    pub fn save(&self, root: &Path) -> Result<()> {
        let path = Self::path(root);
        file::ensure_dir(path.parent().expect("keys/ has a parent"))?;
        let text = format!("{}\n", self.identity.to_string().expose_secret());
        file::write_atomic(&path, text.as_bytes())
    }

    /// The key, if this data directory has one; a file that holds no key
    /// is reported and left untouched.
    pub fn load(root: &Path) -> Result<Option<Self>> {
        let path = Self::path(root);
        match std::fs::read_to_string(&path) {
            Ok(text) => x25519::Identity::from_str(text.trim())
                .map(|identity| Some(SealKey { identity }))
                .map_err(|_| {
                    Error::runtime(format!("{} is not a safe sealing key", path.display()))
                        .with_hint(
                            "safe left it untouched; restore it from where you keep copies of \
                             your keys, or move it away: the journal here is whole, and \
                             `safe sync --remote NEW_URL` seals it again to a fresh remote",
                        )
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("read", &path, e)),
        }
    }

    pub fn identity(&self) -> &x25519::Identity {
        &self.identity
    }

    pub fn recipient(&self) -> x25519::Recipient {
        self.identity.to_public()
    }
}

/// A device's age recipient, signed by the device's own Ed25519 key:
/// `safe-seal-key-v1 <device> <ed25519 key hex> <age1…> <signature hex> LF`.
#[derive(Clone)]
pub struct Statement {
    pub device: DeviceId,
    pub key: VerifyingKey,
    pub recipient: x25519::Recipient,
    sig: Signature,
}

impl Statement {
    /// This device's statement.
    pub fn make(device: &DeviceKey, seal: &SealKey) -> Statement {
        let recipient = seal.recipient();
        let id = device.id();
        let key = device.public();
        let sig = device.sign_for(STATEMENT_DOMAIN, &message(&id, &key, &recipient));
        Statement {
            device: id,
            key,
            recipient,
            sig,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        format!(
            "{STATEMENT_TAG} {} {} {} {}\n",
            self.device,
            hex(self.key.as_bytes()),
            self.recipient,
            hex(&self.sig.to_bytes())
        )
        .into_bytes()
    }

    /// A statement read from `keys/<device>`: it must name that device,
    /// give the key whose id that is, and carry that key's signature.
    pub fn parse(bytes: &[u8], device: &DeviceId) -> Option<Statement> {
        if bytes.len() > MAX_STATEMENT_BYTES {
            return None;
        }
        let text = std::str::from_utf8(bytes).ok()?.strip_suffix('\n')?;
        let fields: Vec<&str> = text.split(' ').collect();
        let [tag, id, key, recipient, sig] = fields[..] else {
            return None;
        };
        if tag != STATEMENT_TAG || id != device.as_str() {
            return None;
        }
        let key = VerifyingKey::from_bytes(&unhex(key)?.try_into().ok()?).ok()?;
        if DeviceId::of(&key) != *device {
            return None;
        }
        let recipient = x25519::Recipient::from_str(recipient).ok()?;
        let sig = Signature::from_bytes(&unhex(sig)?.try_into().ok()?);
        let statement = Statement {
            device: device.clone(),
            key,
            recipient,
            sig,
        };
        // One spelling: what is read is exactly what would be written.
        (statement.verifies() && statement.to_bytes() == bytes).then_some(statement)
    }

    fn verifies(&self) -> bool {
        verify_for(
            &self.key,
            STATEMENT_DOMAIN,
            &message(&self.device, &self.key, &self.recipient),
            &self.sig,
        )
    }
}

fn message(device: &DeviceId, key: &VerifyingKey, recipient: &x25519::Recipient) -> Vec<u8> {
    format!("{device}\0{}\0{recipient}", hex(key.as_bytes())).into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seal_key_file_is_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let data = crate::store::DataDir::new(dir.path().to_path_buf());
        let lock = data.lock().unwrap();
        let first = SealKey::load_or_create(dir.path(), &lock).unwrap();
        let again = SealKey::load_or_create(dir.path(), &lock).unwrap();
        assert_eq!(first.recipient().to_string(), again.recipient().to_string());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(SealKey::path(dir.path()))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(SealKey::path(dir.path()), "nope").unwrap();
        assert!(SealKey::load(dir.path()).is_err());
        assert_eq!(
            std::fs::read_to_string(SealKey::path(dir.path())).unwrap(),
            "nope"
        );
    }

    #[test]
    fn a_statement_binds_the_recipient_to_the_device_key() {
        let device = DeviceKey::generate().unwrap();
        let seal = SealKey {
            identity: x25519::Identity::generate(),
        };
        let statement = Statement::make(&device, &seal);
        let bytes = statement.to_bytes();
        let read = Statement::parse(&bytes, &device.id()).unwrap();
        assert_eq!(read.recipient.to_string(), seal.recipient().to_string());
        // Under another device's folder, it is not read.
        let other = DeviceKey::generate().unwrap();
        assert!(Statement::parse(&bytes, &other.id()).is_none());
        // Another recipient under the same signature does not verify.
        let text = String::from_utf8(bytes.clone()).unwrap();
        let swapped = text.replace(
            &seal.recipient().to_string(),
            &x25519::Identity::generate().to_public().to_string(),
        );
        assert!(Statement::parse(swapped.as_bytes(), &device.id()).is_none());
        // Nor does a statement another key signed for this device's id.
        let forged = Statement {
            sig: other.sign_for(
                STATEMENT_DOMAIN,
                &message(&device.id(), &device.public(), &seal.recipient()),
            ),
            ..statement
        };
        assert!(Statement::parse(&forged.to_bytes(), &device.id()).is_none());
    }
}
