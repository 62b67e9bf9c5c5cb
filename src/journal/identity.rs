//! `journal.json`: which journal a schema-2 data directory belongs to, the
//! journal's root device (the one that created it, where all trust starts)
//! and this data directory's own device. It is never synced: each device
//! learns the root from its own creation or from pairing, never from a
//! remote.

use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::domain::record::Hex32;
use crate::error::{Error, Result};
use crate::keys::DeviceId;
use crate::store::{Lock, file};

/// The schema of a data directory that holds `journal.json`.
pub const SCHEMA: u64 = 2;

/// Who this data directory is in which journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The journal id: a UUIDv7 made when the journal was created. Every
    /// log's genesis names it, so a log belongs to one journal.
    pub journal: String,
    /// The device that created the journal.
    pub root: DeviceId,
    pub root_key: VerifyingKey,
    /// This data directory's device.
    pub device: DeviceId,
}

/// `journal.json` as written: checked before it becomes an [`Identity`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct IdentityFile {
    schema: u64,
    journal: String,
    root_device: String,
    root_key: Hex32,
    device: String,
}

#[derive(Deserialize)]
struct SchemaProbe {
    schema: u64,
}

impl Identity {
    /// Where it lives in a data directory.
    pub fn path(root: &Path) -> PathBuf {
        root.join("journal.json")
    }

    /// The identity of the data directory at `root`; `None` if it holds no
    /// schema-2 journal. A newer schema is refused, and a file that does not
    /// read is reported and left as it is.
    pub fn read(root: &Path) -> Result<Option<Identity>> {
        let path = Self::path(root);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", &path, e)),
        };
        if let Ok(probe) = serde_json::from_slice::<SchemaProbe>(&bytes)
            && probe.schema > SCHEMA
        {
            return Err(Error::newer_schema(&path, probe.schema, SCHEMA));
        }
        let written: IdentityFile =
            serde_json::from_slice(&bytes).map_err(|e| Error::corrupt(&path, &e))?;
        Self::check(written).map(Some).map_err(|why| {
            Error::runtime(format!("{} is not a safe journal: {why}", path.display())).with_hint(
                "safe left it untouched; restore it from a backup of this data directory",
            )
        })
    }

    fn check(written: IdentityFile) -> Result<Identity, String> {
        if written.schema != SCHEMA {
            return Err(format!("it has schema {}, not {SCHEMA}", written.schema));
        }
        let journal = uuid::Uuid::parse_str(&written.journal)
            .ok()
            .map(|id| id.hyphenated().to_string())
            .filter(|id| *id == written.journal)
            .ok_or("its journal id is not a UUID")?;
        let root_key = VerifyingKey::from_bytes(&written.root_key.0)
            .map_err(|_| "its root key is not a key".to_string())?;
        let root = DeviceId::parse(&written.root_device)
            .filter(|id| *id == DeviceId::of(&root_key))
            .ok_or("its root device is not the device of the root key")?;
        let device = DeviceId::parse(&written.device).ok_or("its device is not a device id")?;
        Ok(Identity {
            journal,
            root,
            root_key,
            device,
        })
    }

    /// Write it whole or not at all (a temporary file, flushed, renamed),
    /// private to the user.
    pub fn write(&self, root: &Path, _lock: &Lock) -> Result<()> {
        let written = IdentityFile {
            schema: SCHEMA,
            journal: self.journal.clone(),
            root_device: self.root.to_string(),
            root_key: Hex32(self.root_key.to_bytes()),
            device: self.device.to_string(),
        };
        file::write_atomic(&Self::path(root), &file::to_text(&written))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::DeviceKey;
    use crate::store::DataDir;

    fn sample(key: &DeviceKey) -> Identity {
        Identity {
            journal: "0190c0de-7f3a-7c41-9b2e-5d4f3a2b1c0d".into(),
            root: key.id(),
            root_key: key.public(),
            device: key.id(),
        }
    }

    #[test]
    fn journal_json_is_private_and_reads_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
        assert_eq!(Identity::read(dir.path()).unwrap(), None);
        let identity = sample(&DeviceKey::generate().unwrap());
        identity.write(dir.path(), &lock).unwrap();
        assert_eq!(Identity::read(dir.path()).unwrap(), Some(identity));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let meta = std::fs::metadata(Identity::path(dir.path())).unwrap();
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
    }

    #[test]
    fn a_newer_schema_or_a_root_that_is_not_its_key_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
        let key = DeviceKey::generate().unwrap();
        sample(&key).write(dir.path(), &lock).unwrap();
        let path = Identity::path(dir.path());
        let good = std::fs::read_to_string(&path).unwrap();

        std::fs::write(&path, good.replace("\"schema\": 2", "\"schema\": 3")).unwrap();
        let err = Identity::read(dir.path()).unwrap_err();
        assert!(err.hint().unwrap().contains("upgrade safe"), "{err:?}");

        let other = DeviceKey::generate().unwrap().id().to_string();
        let forged = good.replacen(key.id().as_str(), &other, 1);
        std::fs::write(&path, &forged).unwrap();
        let err = Identity::read(dir.path()).unwrap_err();
        assert!(err.message().contains("root device"), "{err:?}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), forged);
    }
}
