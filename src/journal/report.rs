//! What reading the logs found that the user should hear about: parts of
//! logs that did not verify (never used), logs of devices no pairing
//! trusts (never read), and pairing or removal lines that were not
//! followed. Each names whose log it is: the person and the device.

use std::fmt;
use std::path::PathBuf;

use super::roster::Refusal;
use crate::domain::fold::PersonId;
use crate::keys::DeviceId;
use crate::keys::line::LogKind;

/// Everything one read of the logs has to report; empty when all is well.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub quarantined: Vec<Quarantined>,
    pub strangers: Vec<Stranger>,
    pub refused: Vec<Refusal>,
}

impl Report {
    pub fn is_empty(&self) -> bool {
        self.quarantined.is_empty() && self.strangers.is_empty() && self.refused.is_empty()
    }
}

/// A trusted device's log that stopped verifying: its lines before the
/// failing one are used, nothing from there on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    pub device: DeviceId,
    pub person: PersonId,
    pub kind: LogKind,
    /// The first file that failed.
    pub path: PathBuf,
    /// The first line that failed, from 1; `None` when the whole file did.
    pub line: Option<usize>,
    /// What failed, as the segment store words it (it names the file).
    pub why: String,
}

/// A log on disk whose device is not in the roster: a key that appeared
/// outside pairing. It is never read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stranger {
    pub device: DeviceId,
    pub kind: LogKind,
    /// The log's folder.
    pub path: PathBuf,
}

impl fmt::Display for Quarantined {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let which = match self.kind {
            LogKind::Shared => "log",
            LogKind::Private => "private log",
        };
        write!(
            f,
            "the {which} of device {} (person {}) is used only up to the damage: {}",
            self.device, self.person, self.why
        )
    }
}

impl fmt::Display for Stranger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} holds the log of device {}, a key that appeared outside pairing: \
             no device of this journal paired it, so safe did not read it",
            self.path.display(),
            self.device
        )
    }
}
