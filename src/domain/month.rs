//! A month of a schema-1 journal: the entries whose day falls in one
//! calendar month, as safe 0.1 stored them in `shared/log/YYYY-MM.json` or
//! `private/log/YYYY-MM.json`. Only read now, by the migration
//! (`journal::migrate`).

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::entry::{Entry, EntryId};
use super::rev::Rev;

/// A calendar month, the unit a journal file covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    pub year: i32,
    pub month: u32,
}

impl YearMonth {
    /// A month that can name a file (`YYYY-MM.json`): years 0 to 9999.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((0..=9999).contains(&year) && (1..=12).contains(&month))
            .then_some(YearMonth { year, month })
    }

    pub fn of(day: NaiveDate) -> Self {
        YearMonth {
            year: day.year(),
            month: day.month(),
        }
    }

    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month")
    }

    pub fn last_day(self) -> NaiveDate {
        self.next().first_day().pred_opt().expect("a valid day")
    }

    pub fn next(self) -> Self {
        if self.month == 12 {
            YearMonth {
                year: self.year + 1,
                month: 1,
            }
        } else {
            YearMonth {
                month: self.month + 1,
                ..self
            }
        }
    }

    /// The file name of this month: `YYYY-MM.json`.
    pub fn file_name(self) -> String {
        format!("{self}.json")
    }

    /// Parse a file name like `2026-11.json`.
    pub fn from_file_name(name: &str) -> Option<Self> {
        name.strip_suffix(".json")?.parse().ok()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (y, m) = s.split_once('-').ok_or(())?;
        if y.len() != 4 || m.len() != 2 {
            return Err(());
        }
        YearMonth::new(y.parse().map_err(|_| ())?, m.parse().map_err(|_| ())?).ok_or(())
    }
}

/// The text of a note its author has not shared: it lives only in the
/// private month file, next to the shared entry it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrivateNote {
    pub id: EntryId,
    pub note: String,
    pub rev: Rev,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One month file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonthFile {
    pub schema: u64,
    #[serde(default)]
    pub entries: Vec<Entry>,
    /// Only in private files: notes of shared entries that stay local.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<PrivateNote>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Read by hand for the same reason as [`Entry`]: a derived `flatten` would
/// buffer the whole month before reading a single entry.
impl<'de> Deserialize<'de> for MonthFile {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(MonthVisitor)
    }
}

struct MonthVisitor;

impl<'de> serde::de::Visitor<'de> for MonthVisitor {
    type Value = MonthFile;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a month of the journal (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<MonthFile, A::Error> {
        let (mut schema, mut entries, mut notes) = (None, Vec::new(), Vec::new());
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "schema" => schema = Some(map.next_value()?),
                "entries" => entries = map.next_value()?,
                "notes" => notes = map.next_value()?,
                other => {
                    extra.insert(other.to_string(), map.next_value()?);
                }
            }
        }
        let schema =
            schema.ok_or_else(|| <A::Error as serde::de::Error>::missing_field("schema"))?;
        Ok(MonthFile {
            schema,
            entries,
            notes,
            extra,
        })
    }
}

impl Default for MonthFile {
    fn default() -> Self {
        MonthFile {
            schema: 1,
            entries: Vec::new(),
            notes: Vec::new(),
            extra: Map::new(),
        }
    }
}

impl MonthFile {
    pub fn note(&self, id: &EntryId) -> Option<&PrivateNote> {
        self.notes.iter().find(|n| n.id == *id)
    }

    /// Live entries, without tombstones.
    pub fn live(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.deleted)
    }
}
