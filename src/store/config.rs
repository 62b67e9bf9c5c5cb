//! `config.json`: who I am on this machine, my settings, the sync remote and
//! the persisted clock. It never leaves the machine.

use std::str::FromStr;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::goal::WeekStart;
use crate::domain::rev::{Clock, Rev};
use crate::error::{Error, Result};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    pub schema: u64,
    /// My person id, from the journal (a schema-1 file named it here; it
    /// is read, never written again).
    #[serde(default, skip_serializing)]
    pub id: String,
    /// My name, from the journal's `name` record.
    #[serde(default, skip_serializing)]
    pub name: String,
    #[serde(default)]
    pub week_start: WeekStart,
    /// Share notes with my partner unless told otherwise (`--share-note`
    /// does it for one entry).
    #[serde(default)]
    pub share_notes: bool,
    /// Try a sync after every change.
    #[serde(default)]
    pub auto_sync: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub clock: Clock,
    /// Conversation cards drawn since the deck last started over.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards_drawn: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Settings a user may read and change with `safe config`.
pub const KEYS: &[(&str, &str)] = &[
    ("name", "the name your partner sees"),
    ("week_start", "monday or sunday"),
    (
        "share_notes",
        "true to share notes with your partner by default",
    ),
    ("auto_sync", "true to sync after every change"),
    ("remote", "the git remote used by `safe sync`"),
];

impl Config {
    pub fn new(id: String, name: String) -> Self {
        Config {
            schema: super::file::SCHEMA,
            id,
            name,
            week_start: WeekStart::Monday,
            share_notes: false,
            auto_sync: false,
            remote: None,
            last_sync: None,
            clock: Clock::default(),
            cards_drawn: Vec::new(),
            extra: Map::new(),
        }
    }

    /// A fresh revision for a change I make now.
    pub fn tick(&mut self, wall_ms: u64) -> Rev {
        self.clock.tick(wall_ms, &self.id)
    }

    pub fn get(&self, key: &str) -> Result<String> {
        Ok(match key {
            "name" => self.name.clone(),
            "id" => self.id.clone(),
            "week_start" => self.week_start.to_string(),
            "share_notes" => self.share_notes.to_string(),
            "auto_sync" => self.auto_sync.to_string(),
            "remote" => self.remote.clone().unwrap_or_default(),
            _ => return Err(unknown_key(key)),
        })
    }

    pub fn set(&mut self, key: &str, value: &str) -> Result<()> {
        match key {
            "name" => self.name = valid_name(value)?,
            "week_start" => {
                self.week_start = WeekStart::from_str(value).map_err(|e| Error::input(e.0))?
            }
            "share_notes" => self.share_notes = parse_bool(key, value)?,
            "auto_sync" => self.auto_sync = parse_bool(key, value)?,
            "remote" => {
                self.remote = if value.trim().is_empty() {
                    None
                } else {
                    Some(value.trim().to_string())
                }
            }
            "id" => {
                return Err(Error::input(
                    "`id` is fixed: it is how your partner's copy knows your entries",
                ));
            }
            _ => return Err(unknown_key(key)),
        }
        Ok(())
    }
}

/// A display name: one line, not empty, not absurdly long.
pub fn valid_name(name: &str) -> Result<String> {
    match crate::domain::limits::check_name(name) {
        Ok(name) => Ok(name.to_string()),
        Err(why) => Err(
            Error::input(format!("`{}` is not a usable name: {why}", name.trim())).with_hint(
                "choose another: one plain line of at most 64 characters, e.g. `safe init --name Alex`",
            ),
        ),
    }
}

fn parse_bool(key: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err(Error::input(format!(
            "`{key}` is true or false, not `{value}`"
        ))),
    }
}

fn unknown_key(key: &str) -> Error {
    let names: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
    Error::input(format!("there is no setting called `{key}`"))
        .with_hint(format!("settings: {}", names.join(", ")))
}
