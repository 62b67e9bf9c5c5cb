//! Epochs: the keys segments are sealed to.
//!
//! An epoch is an X25519 key pair made by one device. Its secret, with the
//! epoch's number, the journal, the devices it is sealed to and the device
//! that sealed it, signed by that device, is sealed with age to every one
//! of those devices' recipients: `epochs/<n>.age`. Segments are sealed to
//! the epoch's public key alone, so opening one costs one key agreement.
//! Pairing a device seals the same epoch again with one more recipient;
//! removing one starts a new epoch, which the removed device never gets.

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use age::x25519;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::{DeviceId, DeviceKey, hex, unhex, verify_for};

/// What an epoch's signature covers before its fields.
pub const EPOCH_DOMAIN: &[u8] = b"safe-epoch-v1\0";
/// An epoch file holds a few hundred bytes per device; far less than this.
pub const MAX_EPOCH_BYTES: usize = 64 * 1024;

/// One epoch, opened.
pub struct Epoch {
    pub number: u64,
    pub journal: String,
    pub secret: x25519::Identity,
    /// The devices its file is sealed to.
    pub members: BTreeSet<DeviceId>,
    /// The device that sealed it (and signed what it holds).
    pub by: DeviceId,
    sig: Signature,
}

/// The JSON sealed in an epoch file.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EpochFile {
    v: u64,
    journal: String,
    epoch: u64,
    secret: String,
    members: Vec<String>,
    by: String,
    sig: String,
}

impl Epoch {
    /// A new epoch with a fresh secret, for `members`, signed by `by`.
    pub fn new(number: u64, journal: &str, members: BTreeSet<DeviceId>, by: &DeviceKey) -> Epoch {
        Self::signed(number, journal, x25519::Identity::generate(), members, by)
    }

    /// The same epoch (number and secret) for `members`, signed by `by`:
    /// what pairing a device does to every epoch.
    pub fn for_members(&self, members: BTreeSet<DeviceId>, by: &DeviceKey) -> Epoch {
        let secret = x25519::Identity::from_str(self.secret.to_string().expose_secret())
            .expect("an identity reads back");
        Self::signed(self.number, &self.journal, secret, members, by)
    }

    fn signed(
        number: u64,
        journal: &str,
        secret: x25519::Identity,
        members: BTreeSet<DeviceId>,
        by: &DeviceKey,
    ) -> Epoch {
        let sig = by.sign_for(
            EPOCH_DOMAIN,
            &message(number, journal, &secret.to_public(), &members, &by.id()),
        );
        Epoch {
            number,
            journal: journal.to_string(),
            secret,
            members,
            by: by.id(),
            sig,
        }
    }

    pub fn recipient(&self) -> x25519::Recipient {
        self.secret.to_public()
    }

    /// Whether `key` (the key of the device named as its sealer) signed
    /// this epoch.
    pub fn signed_by(&self, key: &VerifyingKey) -> bool {
        DeviceId::of(key) == self.by
            && verify_for(
                key,
                EPOCH_DOMAIN,
                &message(
                    self.number,
                    &self.journal,
                    &self.recipient(),
                    &self.members,
                    &self.by,
                ),
                &self.sig,
            )
    }

    /// The epoch file: the epoch sealed with age to `recipients`.
    pub fn seal(&self, recipients: &[x25519::Recipient]) -> Result<Vec<u8>> {
        let doc = EpochFile {
            v: 1,
            journal: self.journal.clone(),
            epoch: self.number,
            secret: self.secret.to_string().expose_secret().to_string(),
            members: self.members.iter().map(|d| d.to_string()).collect(),
            by: self.by.to_string(),
            sig: hex(&self.sig.to_bytes()),
        };
        let json = serde_json::to_vec(&doc).expect("an epoch serialises");
        encrypt(recipients.iter().map(|r| r as &dyn age::Recipient), &json)
    }

    /// Open an epoch file with this device's identity: `None` when it is
    /// not sealed to it, or does not hold epoch `number` of `journal`.
    /// Who signed it is for the caller to check ([`Epoch::signed_by`]).
    pub fn open(
        bytes: &[u8],
        identity: &x25519::Identity,
        journal: &str,
        number: u64,
    ) -> Option<Epoch> {
        if bytes.len() > MAX_EPOCH_BYTES {
            return None;
        }
        let json = decrypt(bytes, identity).ok()?;
        let doc: EpochFile = serde_json::from_slice(&json).ok()?;
        if doc.v != 1 || doc.journal != journal || doc.epoch != number {
            return None;
        }
        let members = doc
            .members
            .iter()
            .map(|m| DeviceId::parse(m))
            .collect::<Option<BTreeSet<_>>>()?;
        Some(Epoch {
            number,
            journal: doc.journal,
            secret: x25519::Identity::from_str(&doc.secret).ok()?,
            members,
            by: DeviceId::parse(&doc.by)?,
            sig: Signature::from_bytes(&unhex(&doc.sig)?.try_into().ok()?),
        })
    }
}

fn message(
    number: u64,
    journal: &str,
    recipient: &x25519::Recipient,
    members: &BTreeSet<DeviceId>,
    by: &DeviceId,
) -> Vec<u8> {
    let members: Vec<&str> = members.iter().map(DeviceId::as_str).collect();
    format!(
        "{number}\0{journal}\0{recipient}\0{}\0{by}",
        members.join(",")
    )
    .into_bytes()
}

/// Why an age file did not open.
#[derive(Debug, PartialEq, Eq)]
pub enum OpenFailure {
    /// It is not sealed to any key given.
    NoKey,
    /// It is not an age file, or it is cut short or changed.
    Damaged,
}

/// `plain` sealed with age to `recipients`.
pub fn encrypt<'a>(
    recipients: impl Iterator<Item = &'a dyn age::Recipient>,
    plain: &[u8],
) -> Result<Vec<u8>> {
    let failed = |e: &dyn std::fmt::Display| Error::runtime(format!("could not seal: {e}"));
    let encryptor = age::Encryptor::with_recipients(recipients).map_err(|e| failed(&e))?;
    let mut out = Vec::with_capacity(plain.len() + 256);
    let mut writer = encryptor.wrap_output(&mut out).map_err(|e| failed(&e))?;
    writer.write_all(plain).map_err(|e| failed(&e))?;
    writer.finish().map_err(|e| failed(&e))?;
    Ok(out)
}

/// Open an age file with one identity.
pub fn decrypt(bytes: &[u8], identity: &dyn age::Identity) -> Result<Vec<u8>, OpenFailure> {
    let decryptor = age::Decryptor::new_buffered(bytes).map_err(|_| OpenFailure::Damaged)?;
    let mut reader = match decryptor.decrypt(std::iter::once(identity)) {
        Ok(reader) => reader,
        Err(age::DecryptError::NoMatchingKeys) => return Err(OpenFailure::NoKey),
        Err(_) => return Err(OpenFailure::Damaged),
    };
    let mut plain = Vec::with_capacity(bytes.len());
    reader
        .read_to_end(&mut plain)
        .map_err(|_| OpenFailure::Damaged)?;
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(keys: &[&DeviceKey]) -> BTreeSet<DeviceId> {
        keys.iter().map(|k| k.id()).collect()
    }

    #[test]
    fn an_epoch_opens_only_for_its_recipients_and_says_who_sealed_it() {
        let (a, b) = (
            DeviceKey::generate().unwrap(),
            DeviceKey::generate().unwrap(),
        );
        let (sa, sb, sc) = (
            x25519::Identity::generate(),
            x25519::Identity::generate(),
            x25519::Identity::generate(),
        );
        let epoch = Epoch::new(1, "j", members(&[&a, &b]), &a);
        let file = epoch.seal(&[sa.to_public(), sb.to_public()]).unwrap();
        for identity in [&sa, &sb] {
            let opened = Epoch::open(&file, identity, "j", 1).unwrap();
            assert_eq!(
                opened.recipient().to_string(),
                epoch.recipient().to_string()
            );
            assert_eq!(opened.members, members(&[&a, &b]));
            assert!(opened.signed_by(&a.public()));
            assert!(!opened.signed_by(&b.public()));
        }
        assert!(Epoch::open(&file, &sc, "j", 1).is_none());
        // Read as another epoch, or of another journal, it is not one.
        assert!(Epoch::open(&file, &sa, "j", 2).is_none());
        assert!(Epoch::open(&file, &sa, "k", 1).is_none());
        // Sealed again for one more device: the same key, a new signature.
        let c = DeviceKey::generate().unwrap();
        let wider = epoch.for_members(members(&[&a, &b, &c]), &b);
        assert_eq!(wider.recipient().to_string(), epoch.recipient().to_string());
        let file = wider.seal(&[sa.to_public(), sc.to_public()]).unwrap();
        let opened = Epoch::open(&file, &sc, "j", 1).unwrap();
        assert!(opened.signed_by(&b.public()));
        assert_eq!(opened.members.len(), 3);
    }

    #[test]
    fn a_member_list_changed_by_someone_else_does_not_verify() {
        let (a, b) = (
            DeviceKey::generate().unwrap(),
            DeviceKey::generate().unwrap(),
        );
        let mut epoch = Epoch::new(1, "j", members(&[&a]), &a);
        epoch.members.insert(b.id());
        assert!(!epoch.signed_by(&a.public()));
    }

    #[test]
    fn a_cut_or_changed_age_file_is_damaged_and_another_key_is_no_key() {
        let id = x25519::Identity::generate();
        let file = encrypt(
            std::iter::once(&id.to_public() as &dyn age::Recipient),
            &[7u8; 5000],
        )
        .unwrap();
        assert_eq!(decrypt(&file, &id).unwrap(), vec![7u8; 5000]);
        assert_eq!(
            decrypt(&file[..file.len() - 10], &id),
            Err(OpenFailure::Damaged)
        );
        let mut changed = file.clone();
        let last = changed.len() - 1;
        changed[last] ^= 1;
        assert_eq!(decrypt(&changed, &id), Err(OpenFailure::Damaged));
        assert_eq!(
            decrypt(&file, &x25519::Identity::generate()),
            Err(OpenFailure::NoKey)
        );
        assert_eq!(decrypt(b"plain text\n", &id), Err(OpenFailure::Damaged));
    }
}
