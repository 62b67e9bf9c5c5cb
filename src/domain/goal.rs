//! Goals: how often a person means to do a practice, and where weeks start.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Days, NaiveDate, Weekday};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How often a person means to do a practice. Goals are personal: each partner
/// keeps their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Goal {
    /// At least once every day.
    Daily,
    /// At least N distinct days in each calendar week (1..=7).
    PerWeek(u8),
    /// Tracked, but without a streak or a strength.
    None,
}

impl Goal {
    /// The goal as a frequency in repetitions per day, as Loop Habit Tracker
    /// uses it: 1 for daily, N/7 for N per week. `None` for a goal-less practice.
    pub fn frequency(self) -> Option<f64> {
        match self {
            Goal::Daily => Some(1.0),
            Goal::PerWeek(n) => Some(f64::from(n) / 7.0),
            Goal::None => None,
        }
    }

    pub fn has_streak(self) -> bool {
        !matches!(self, Goal::None)
    }
}

impl fmt::Display for Goal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Goal::Daily => f.write_str("daily"),
            Goal::PerWeek(n) => write!(f, "{n}/week"),
            Goal::None => f.write_str("none"),
        }
    }
}

/// Why a goal did not parse; the message is shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoalParseError(pub String);

impl fmt::Display for GoalParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GoalParseError {}

impl FromStr for Goal {
    type Err = GoalParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        match s.as_str() {
            "daily" | "1/day" => return Ok(Goal::Daily),
            "none" | "-" => return Ok(Goal::None),
            "weekly" => return Ok(Goal::PerWeek(1)),
            _ => {}
        }
        let count = s
            .strip_suffix("/week")
            .or_else(|| s.strip_suffix("/wk"))
            .or_else(|| s.strip_suffix("/w"));
        match count.map(|n| n.trim().parse::<u8>()) {
            Some(Ok(n)) if (1..=6).contains(&n) => Ok(Goal::PerWeek(n)),
            Some(Ok(7)) => Ok(Goal::Daily),
            _ => Err(GoalParseError(format!(
                "`{s}` is not a goal: use `daily`, `N/week` with N from 1 to 7 (for example `3/week`), or `none`"
            ))),
        }
    }
}

impl Serialize for Goal {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Goal {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The first day of the calendar week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeekStart {
    #[default]
    Monday,
    Sunday,
}

impl WeekStart {
    pub fn weekday(self) -> Weekday {
        match self {
            WeekStart::Monday => Weekday::Mon,
            WeekStart::Sunday => Weekday::Sun,
        }
    }

    /// The first day of the week that contains `day`.
    pub fn week_of(self, day: NaiveDate) -> NaiveDate {
        let back = match self {
            WeekStart::Monday => day.weekday().num_days_from_monday(),
            WeekStart::Sunday => day.weekday().num_days_from_sunday(),
        };
        day - Days::new(u64::from(back))
    }
}

impl FromStr for WeekStart {
    type Err = GoalParseError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "monday" | "mon" => Ok(WeekStart::Monday),
            "sunday" | "sun" => Ok(WeekStart::Sunday),
            other => Err(GoalParseError(format!(
                "`{other}` is not a week start: use `monday` or `sunday`"
            ))),
        }
    }
}

impl fmt::Display for WeekStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WeekStart::Monday => "monday",
            WeekStart::Sunday => "sunday",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_goals() {
        for (text, goal) in [
            ("daily", Goal::Daily),
            ("3/week", Goal::PerWeek(3)),
            (" 1/WEEK ", Goal::PerWeek(1)),
            ("weekly", Goal::PerWeek(1)),
            ("7/week", Goal::Daily),
            ("none", Goal::None),
        ] {
            assert_eq!(text.parse::<Goal>().unwrap(), goal, "{text}");
        }
        for bad in ["", "0/week", "8/week", "twice", "3/month"] {
            assert!(bad.parse::<Goal>().is_err(), "{bad}");
        }
    }

    #[test]
    fn goal_round_trips_through_text() {
        for goal in [Goal::Daily, Goal::PerWeek(2), Goal::None] {
            assert_eq!(goal.to_string().parse::<Goal>().unwrap(), goal);
        }
    }

    #[test]
    fn weeks_start_on_the_configured_day() {
        let thu = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap();
        assert_eq!(
            WeekStart::Monday.week_of(thu),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        assert_eq!(
            WeekStart::Sunday.week_of(thu),
            NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
        );
        let sun = NaiveDate::from_ymd_opt(2026, 11, 29).unwrap();
        assert_eq!(
            WeekStart::Monday.week_of(sun),
            NaiveDate::from_ymd_opt(2026, 11, 23).unwrap()
        );
        assert_eq!(WeekStart::Sunday.week_of(sun), sun);
    }
}
