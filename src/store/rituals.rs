//! `rituals.json`: what the rituals keep on this machine and never sync: the
//! time a couple agreed to come back to a repair after a time-out, and the
//! card shown here today, so `safe card --done` knows which card it was.

use std::path::PathBuf;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use super::file::{self, Versioned};
use super::{Batch, DataDir};
use crate::error::Result;

/// The rituals' local state. Unknown fields are ignored, so a newer safe of
/// the same schema may add some.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rituals {
    schema: u64,
    /// A time-out called during `safe repair`: when to come back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_out: Option<TimeOut>,
    /// The last card `safe card` showed on this machine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_shown: Option<CardShown>,
}

impl Default for Rituals {
    fn default() -> Self {
        Rituals {
            schema: file::SCHEMA,
            time_out: None,
            card_shown: None,
        }
    }
}

impl Versioned for Rituals {
    fn schema(&self) -> u64 {
        self.schema
    }
}

/// A pause in a repair conversation, and the time agreed to come back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOut {
    pub called_at: DateTime<FixedOffset>,
    pub back_at: DateTime<FixedOffset>,
}

/// A card shown by `safe card` on a day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardShown {
    pub day: NaiveDate,
    pub card: String,
}

impl CardShown {
    /// The card shown on `day`, if it was that day.
    pub fn on(&self, day: NaiveDate) -> Option<&str> {
        (self.day == day).then_some(self.card.as_str())
    }
}

impl DataDir {
    pub fn rituals_path(&self) -> PathBuf {
        self.root().join("rituals.json")
    }

    /// The rituals' state, or the empty one if none was kept yet.
    pub fn read_rituals(&self) -> Result<Rituals> {
        Ok(file::read(&self.rituals_path())?.unwrap_or_default())
    }

    /// Write the rituals' state as part of `batch`.
    pub fn write_rituals(&self, rituals: &Rituals, batch: &mut Batch<'_>) -> Result<()> {
        batch
            .files
            .write(&self.rituals_path(), &file::to_text(rituals))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rituals_round_trip_and_start_empty() {
        let home = tempfile::tempdir().unwrap();
        let dir = DataDir::new(home.path().join("data"));
        let lock = dir.lock().unwrap();
        assert_eq!(dir.read_rituals().unwrap(), Rituals::default());
        let at = DateTime::parse_from_rfc3339("2026-11-27T21:10:00+01:00").unwrap();
        let kept = Rituals {
            time_out: Some(TimeOut {
                called_at: at,
                back_at: at + chrono::Duration::minutes(30),
            }),
            card_shown: Some(CardShown {
                day: at.date_naive(),
                card: "connect-07".to_string(),
            }),
            ..Rituals::default()
        };
        let mut batch = lock.batch();
        dir.write_rituals(&kept, &mut batch).unwrap();
        batch.commit().unwrap();
        assert_eq!(dir.read_rituals().unwrap(), kept);
        let shown = kept.card_shown.unwrap();
        assert_eq!(shown.on(at.date_naive()), Some("connect-07"));
        assert_eq!(shown.on(at.date_naive().succ_opt().unwrap()), None);
    }
}
