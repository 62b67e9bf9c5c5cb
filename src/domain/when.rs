//! Reads the day and duration phrases people type (`yesterday`, `friday`, `2026-11-27`, `2h30m`).
//!
//! Pure: `today` is always an argument, so the same words give the same day
//! in tests and in use.

use chrono::{Datelike, Days, NaiveDate, Weekday};

/// The earliest day safe accepts; anything older is surely a typo.
const EARLIEST: NaiveDate = super::limits::FIRST_DAY;

/// The longest repair time, in minutes (30 days).
const TOOK_LIMIT: u64 = super::limits::MAX_TOOK_MINUTES as u64;

const DAY_FORMS: &str = "accepted days: today, yesterday, 3 days ago, a week ago, 2 weeks ago, \
     friday or fri (the most recent past one), last friday, 2026-11-27, 11-27";

const TOOK_FORMS: &str =
    "accepted durations: 45m, 1h, 2h30m, 2h 30m, 1.5h, 1d, or a bare number of minutes like 90";

/// Why a day or duration could not be read. Messages follow "safe: error: ".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WhenError {
    #[error("no day given; say which day it happened, e.g. today, yesterday or 2026-11-27")]
    EmptyDay,
    #[error(
        "can't read {text:?} as a day; use today, yesterday, N days ago, a weekday, YYYY-MM-DD or MM-DD"
    )]
    BadDay { text: String },
    #[error("{text:?} is not a date on the calendar; check the month (1-12) and the day")]
    BadDate { text: String },
    #[error("{date} is in the future; safe only logs what already happened")]
    Future { date: NaiveDate },
    #[error("{text:?} is before 1900-01-01; safe only logs days from 1900 on")]
    TooOld { text: String },
    #[error("no duration given; say how long it took, e.g. 45m, 1h or 2h30m")]
    EmptyDuration,
    #[error(
        "can't read {text:?} as a duration; use e.g. 45m, 2h30m, 1d or a bare number of minutes"
    )]
    BadDuration { text: String },
    #[error("{text:?} is too long; a repair time is at most 30 days")]
    DurationTooLong { text: String },
    #[error("{text:?} is too short; a repair time is at least 1 minute")]
    DurationTooShort { text: String },
}

impl WhenError {
    /// A follow-up line for the user, usually the forms that would have worked.
    #[must_use]
    pub fn hint(&self) -> Option<String> {
        let hint = match self {
            Self::EmptyDay | Self::BadDay { .. } => DAY_FORMS.to_owned(),
            Self::BadDate { .. } => {
                "dates are YYYY-MM-DD or MM-DD, e.g. 2024-02-29 (February 29 only exists in leap years)"
                    .to_owned()
            }
            Self::Future { .. } => {
                "use today or an earlier day; a weekday name means the last one that has passed"
                    .to_owned()
            }
            Self::TooOld { .. } => "days from 1900-01-01 up to today are accepted".to_owned(),
            Self::EmptyDuration | Self::BadDuration { .. } => TOOK_FORMS.to_owned(),
            Self::DurationTooLong { .. } | Self::DurationTooShort { .. } => {
                "repair times run from 1m to 30d, e.g. 45m, 2h30m or 3d".to_owned()
            }
        };
        Some(hint)
    }
}

/// Reads a day phrase relative to `today`; the result is never after `today`.
///
/// Weekday names (`friday`, `fri`, `last friday`) mean the most recent such
/// day strictly before `today`, so on a Friday `friday` is a week ago: people
/// name the weekday when they mean "not today".
///
/// `MM-DD` means the most recent occurrence on or before `today`: last year's
/// if this year's is still ahead, and the latest real February 29 for `02-29`.
///
/// # Errors
///
/// Unknown phrases, impossible dates, days after `today` and days before
/// 1900-01-01.
pub fn parse_day(text: &str, today: NaiveDate) -> Result<NaiveDate, WhenError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WhenError::EmptyDay);
    }
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let bad = || WhenError::BadDay {
        text: text.to_owned(),
    };

    // `None` means the arithmetic ran off chrono's range: far too old.
    let day = match words.as_slice() {
        ["today"] => Some(today),
        ["yesterday"] => days_before(today, 1),
        [count, unit, "ago"] => {
            let n = parse_count(count).ok_or_else(bad)?;
            let per = match *unit {
                "day" | "days" => 1,
                "week" | "weeks" => 7,
                _ => return Err(bad()),
            };
            n.checked_mul(per).and_then(|d| days_before(today, d))
        }
        ["last", name] => days_before(today, days_since(weekday(name).ok_or_else(bad)?, today)),
        [word] => match weekday(word) {
            Some(wd) => days_before(today, days_since(wd, today)),
            None => Some(parse_numeric(word, text, today)?.ok_or_else(bad)?),
        },
        _ => return Err(bad()),
    };

    match day {
        Some(day) if day > today => Err(WhenError::Future { date: day }),
        Some(day) if day >= EARLIEST => Ok(day),
        _ => Err(WhenError::TooOld {
            text: text.to_owned(),
        }),
    }
}

/// Reads how long a practice took, in whole minutes (seconds round to nearest).
///
/// A bare number is minutes. Otherwise humantime's syntax (`45m`, `2h30m`,
/// `2h 30m`, `1.5h`, `1d`, `2 hours`), case-insensitive, so `45M` is minutes
/// rather than humantime's months. A trailing bare number after hours counts
/// as minutes (`2h30`). From 1 minute to 30 days.
///
/// # Errors
///
/// Empty or unreadable text, and durations under a minute or over 30 days.
pub fn parse_took(text: &str) -> Result<u32, WhenError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(WhenError::EmptyDuration);
    }
    let too_long = || WhenError::DurationTooLong {
        text: text.to_owned(),
    };

    let minutes: u64 = if text.bytes().all(|b| b.is_ascii_digit()) {
        // All digits, so parsing can only fail by overflowing.
        text.parse().map_err(|_| too_long())?
    } else {
        let mut lower = text.to_lowercase();
        // humantime rejects a unitless tail; after hours it can only mean minutes.
        if lower.ends_with(|c: char| c.is_ascii_digit()) && lower.contains('h') {
            lower.push('m');
        }
        let duration = humantime::parse_duration(&lower).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => too_long(),
            _ => WhenError::BadDuration {
                text: text.to_owned(),
            },
        })?;
        let rounded = (duration.as_millis() + 30_000) / 60_000;
        u64::try_from(rounded).unwrap_or(u64::MAX)
    };

    if minutes > TOOK_LIMIT {
        return Err(too_long());
    }
    if minutes < u64::from(super::limits::MIN_TOOK_MINUTES) {
        return Err(WhenError::DurationTooShort {
            text: text.to_owned(),
        });
    }
    // TOOK_LIMIT fits in u32, so this cannot fail.
    u32::try_from(minutes).map_err(|_| too_long())
}

fn days_before(today: NaiveDate, days: u64) -> Option<NaiveDate> {
    today.checked_sub_days(Days::new(days))
}

/// `"a"`, `"an"` or plain digits (no sign); a huge count saturates so it reads as too old.
fn parse_count(word: &str) -> Option<u64> {
    match word {
        "a" | "an" => Some(1),
        _ if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) => {
            Some(word.parse().unwrap_or(u64::MAX))
        }
        _ => None,
    }
}

/// Days back to the most recent `wd` strictly before `today`: 1..=7.
fn days_since(wd: Weekday, today: NaiveDate) -> u64 {
    let back = (today.weekday().num_days_from_monday() + 7 - wd.num_days_from_monday()) % 7;
    u64::from(if back == 0 { 7 } else { back })
}

fn weekday(word: &str) -> Option<Weekday> {
    let wd = match word {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    };
    Some(wd)
}

/// Reads a day phrase for planning ahead (a pause): the phrases of
/// [`parse_day`] that name the past (`yesterday`, `3 days ago`, `last
/// friday`, `YYYY-MM-DD`) mean what they say, and those that could mean
/// either look forward from `anchor` (today for the first day of a pause,
/// its first day for the last): a weekday or `MM-DD` is the next one on or
/// after `anchor`, `next friday` the first Friday after today, `tomorrow`
/// and `in 3 days` count from today.
///
/// # Errors
///
/// Unknown phrases, impossible dates and days before 1900-01-01.
pub fn parse_plan_day(
    text: &str,
    today: NaiveDate,
    anchor: NaiveDate,
) -> Result<NaiveDate, WhenError> {
    let lower = text.trim().to_lowercase();
    let words: Vec<&str> = lower.split_whitespace().collect();
    let bad = || WhenError::BadDay {
        text: text.trim().to_owned(),
    };
    let ahead = |n: u64| today.checked_add_days(Days::new(n)).ok_or_else(bad);
    let on_or_after = |wd: Weekday, from: NaiveDate| {
        let forward = (wd.num_days_from_monday() + 7 - from.weekday().num_days_from_monday()) % 7;
        from + Days::new(u64::from(forward))
    };
    match words.as_slice() {
        ["tomorrow"] => ahead(1),
        ["in", count, unit] => {
            let n = parse_count(count).ok_or_else(bad)?;
            let per = match *unit {
                "day" | "days" => 1,
                "week" | "weeks" => 7,
                _ => return Err(bad()),
            };
            ahead(n.checked_mul(per).ok_or_else(bad)?)
        }
        ["next", name] => {
            let wd = weekday(name).ok_or_else(bad)?;
            Ok(on_or_after(wd, today + Days::new(1)))
        }
        [word] if weekday(word).is_some() => {
            Ok(on_or_after(weekday(word).expect("checked"), anchor))
        }
        [word] if word.split('-').count() == 2 => {
            // MM-DD: the next such day on or after the anchor.
            let past = parse_numeric(word, text, anchor + Days::new(366))?.ok_or_else(bad)?;
            let year_ahead = anchor + Days::new(366);
            [past, past.with_year(past.year() - 1).unwrap_or(past)]
                .into_iter()
                .filter(|d| *d >= anchor && *d <= year_ahead)
                .min()
                .ok_or_else(bad)
        }
        _ => {
            // The rest reads as for a log, but a day ahead in full
            // (YYYY-MM-DD) is a plan, not an error.
            if let Ok(day) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
                if day < EARLIEST {
                    return Err(WhenError::TooOld {
                        text: text.trim().to_owned(),
                    });
                }
                return Ok(day);
            }
            parse_day(text, today)
        }
    }
}

/// `YYYY-MM-DD` or `MM-DD`. `Ok(None)` if the word is not date-shaped at all,
/// so the caller can report it as an unknown phrase rather than a bad date.
fn parse_numeric(word: &str, text: &str, today: NaiveDate) -> Result<Option<NaiveDate>, WhenError> {
    let parts: Vec<&str> = word.split('-').collect();
    let digits = |s: &str, len: std::ops::RangeInclusive<usize>| {
        len.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let bad_date = || WhenError::BadDate {
        text: text.to_owned(),
    };
    // Shapes are checked above, so these parses cannot fail.
    let num = |s: &str| s.parse::<u32>().unwrap_or(0);

    match parts.as_slice() {
        [y, m, d] if digits(y, 4..=4) && digits(m, 1..=2) && digits(d, 1..=2) => {
            let year = i32::try_from(num(y)).unwrap_or(0);
            NaiveDate::from_ymd_opt(year, num(m), num(d))
                .map(Some)
                .ok_or_else(bad_date)
        }
        [m, d] if digits(m, 1..=2) && digits(d, 1..=2) => {
            let (month, day) = (num(m), num(d));
            // Leap days recur at most 8 years apart (e.g. 1896 to 1904).
            (0..=8)
                .filter_map(|back| NaiveDate::from_ymd_opt(today.year() - back, month, day))
                .find(|date| *date <= today)
                .map(Some)
                .ok_or_else(bad_date)
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    const TODAY: &str = "2026-11-27";

    #[test]
    fn today_is_a_friday() {
        assert_eq!(date(TODAY).weekday(), Weekday::Fri);
        assert_eq!(date("2026-01-02").weekday(), Weekday::Fri);
    }

    #[test]
    fn phrases() {
        let cases = [
            ("today", "2026-11-27"),
            ("  Today \n", "2026-11-27"),
            ("TODAY", "2026-11-27"),
            ("yesterday", "2026-11-26"),
            ("0 days ago", "2026-11-27"),
            ("1 day ago", "2026-11-26"),
            ("1 days ago", "2026-11-26"),
            ("3 days ago", "2026-11-24"),
            ("3   DAYS  Ago", "2026-11-24"),
            ("a day ago", "2026-11-26"),
            ("30 days ago", "2026-10-28"),
            ("a week ago", "2026-11-20"),
            ("an week ago", "2026-11-20"),
            ("1 week ago", "2026-11-20"),
            ("2 weeks ago", "2026-11-13"),
            ("0 weeks ago", "2026-11-27"),
            ("friday", "2026-11-20"),
            ("fri", "2026-11-20"),
            ("Friday", "2026-11-20"),
            ("last friday", "2026-11-20"),
            ("Last  FRI", "2026-11-20"),
            ("thursday", "2026-11-26"),
            ("thu", "2026-11-26"),
            ("thurs", "2026-11-26"),
            ("wednesday", "2026-11-25"),
            ("tues", "2026-11-24"),
            ("monday", "2026-11-23"),
            ("sunday", "2026-11-22"),
            ("sat", "2026-11-21"),
            ("last saturday", "2026-11-21"),
            ("2026-11-27", "2026-11-27"),
            ("2026-11-01", "2026-11-01"),
            ("2026-1-5", "2026-01-05"),
            ("2025-12-31", "2025-12-31"),
            ("1970-01-01", "1970-01-01"),
            ("1900-01-01", "1900-01-01"),
            ("11-27", "2026-11-27"),
            ("11-26", "2026-11-26"),
            ("1-5", "2026-01-05"),
            ("11-28", "2025-11-28"),
            ("12-01", "2025-12-01"),
            ("02-29", "2024-02-29"),
        ];
        for (text, want) in cases {
            assert_eq!(parse_day(text, date(TODAY)), Ok(date(want)), "{text:?}");
        }
    }

    #[test]
    fn month_year_and_leap_boundaries() {
        let cases = [
            ("2026-01-02", "yesterday", "2026-01-01"),
            ("2026-01-02", "2 days ago", "2025-12-31"),
            ("2026-01-02", "3 days ago", "2025-12-30"),
            ("2026-01-02", "friday", "2025-12-26"),
            ("2026-01-02", "thursday", "2026-01-01"),
            ("2026-01-02", "12-31", "2025-12-31"),
            ("2026-01-02", "01-03", "2025-01-03"),
            ("2026-01-02", "01-02", "2026-01-02"),
            ("2026-03-01", "yesterday", "2026-02-28"),
            ("2024-03-01", "yesterday", "2024-02-29"),
            ("2024-03-01", "02-29", "2024-02-29"),
            ("2024-02-28", "02-29", "2020-02-29"),
            ("2024-03-01", "2024-02-29", "2024-02-29"),
            ("2026-11-27", "2024-02-29", "2024-02-29"),
        ];
        for (today, text, want) in cases {
            assert_eq!(
                parse_day(text, date(today)),
                Ok(date(want)),
                "{text:?} on {today}"
            );
        }
    }

    #[test]
    fn day_errors() {
        let bad_day = |t: &str| WhenError::BadDay { text: t.to_owned() };
        let bad_date = |t: &str| WhenError::BadDate { text: t.to_owned() };
        let too_old = |t: &str| WhenError::TooOld { text: t.to_owned() };
        let future = |d: &str| WhenError::Future { date: date(d) };
        let cases = [
            ("", WhenError::EmptyDay),
            ("   ", WhenError::EmptyDay),
            ("tomorrow", bad_day("tomorrow")),
            ("friyay", bad_day("friyay")),
            ("3 days", bad_day("3 days")),
            ("-1 days ago", bad_day("-1 days ago")),
            ("+3 days ago", bad_day("+3 days ago")),
            ("3 months ago", bad_day("3 months ago")),
            ("next friday", bad_day("next friday")),
            ("26-11-27", bad_day("26-11-27")),
            ("2026/11/27", bad_day("2026/11/27")),
            ("2026-11-", bad_day("2026-11-")),
            (" Nope ", bad_day("Nope")),
            ("2026-02-30", bad_date("2026-02-30")),
            ("2025-02-29", bad_date("2025-02-29")),
            ("2026-13-01", bad_date("2026-13-01")),
            ("2026-00-10", bad_date("2026-00-10")),
            ("02-30", bad_date("02-30")),
            ("13-01", bad_date("13-01")),
            ("2026-11-28", future("2026-11-28")),
            ("2026-12-01", future("2026-12-01")),
            ("2027-01-01", future("2027-01-01")),
            ("1899-12-31", too_old("1899-12-31")),
            ("0001-01-01", too_old("0001-01-01")),
            ("100000 days ago", too_old("100000 days ago")),
            (
                "99999999999999999999 weeks ago",
                too_old("99999999999999999999 weeks ago"),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_day(text, date(TODAY)), Err(want), "{text:?}");
        }
    }

    #[test]
    fn messages_name_the_text_and_hint_the_forms() {
        let err = parse_day("2026-12-01", date(TODAY)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "2026-12-01 is in the future; safe only logs what already happened"
        );
        let err = parse_day("2026-02-30", date(TODAY)).unwrap_err();
        assert!(err.to_string().contains("\"2026-02-30\""), "{err}");
        let err = parse_day("someday", date(TODAY)).unwrap_err();
        assert!(err.to_string().contains("\"someday\""), "{err}");
        assert!(err.hint().unwrap().contains("last friday"));
        let err = parse_took("a while").unwrap_err();
        assert!(err.to_string().contains("\"a while\""), "{err}");
        assert!(err.hint().unwrap().contains("2h30m"));
        let all = [
            WhenError::EmptyDay,
            WhenError::BadDay { text: "x".into() },
            WhenError::BadDate { text: "x".into() },
            WhenError::Future { date: date(TODAY) },
            WhenError::TooOld { text: "x".into() },
            WhenError::EmptyDuration,
            WhenError::BadDuration { text: "x".into() },
            WhenError::DurationTooLong { text: "x".into() },
            WhenError::DurationTooShort { text: "x".into() },
        ];
        for err in all {
            assert!(!err.to_string().is_empty());
            assert!(err.hint().is_some_and(|h| !h.is_empty()), "{err:?}");
        }
    }

    #[test]
    fn durations() {
        let cases = [
            ("45m", 45),
            ("2h30m", 150),
            ("2h 30m", 150),
            ("2H30M", 150),
            ("2h30", 150),
            ("2h 30", 150),
            ("1d", 1440),
            ("1h", 60),
            ("1.5h", 90),
            ("90", 90),
            (" 90 ", 90),
            (" 45 min ", 45),
            ("2 hours 30 minutes", 150),
            ("1w", 7 * 1440),
            ("30s", 1),
            ("90s", 2),
            ("1m29s", 1),
            ("30d", 43_200),
            ("43200", 43_200),
        ];
        for (text, want) in cases {
            assert_eq!(parse_took(text), Ok(want), "{text:?}");
        }
    }

    #[test]
    fn duration_errors() {
        let bad = |t: &str| WhenError::BadDuration { text: t.to_owned() };
        let long = |t: &str| WhenError::DurationTooLong { text: t.to_owned() };
        let short = |t: &str| WhenError::DurationTooShort { text: t.to_owned() };
        let cases = [
            ("", WhenError::EmptyDuration),
            ("  ", WhenError::EmptyDuration),
            ("abc", bad("abc")),
            ("-5m", bad("-5m")),
            ("5x", bad("5x")),
            ("1.5", bad("1.5")),
            ("45m30", bad("45m30")),
            ("m", bad("m")),
            ("31d", long("31d")),
            ("30d 1m", long("30d 1m")),
            ("2y", long("2y")),
            ("43201", long("43201")),
            ("0", short("0")),
            ("0m", short("0m")),
            ("29s", short("29s")),
            ("99999999999999999999", long("99999999999999999999")),
            ("99999999999999999999h", long("99999999999999999999h")),
        ];
        for (text, want) in cases {
            assert_eq!(parse_took(text), Err(want), "{text:?}");
        }
    }

    /// Any day from 1990-01-01 to 2099-12-31.
    fn any_today() -> impl Strategy<Value = NaiveDate> {
        let start = date("1990-01-01");
        let span = (date("2100-01-01") - start).num_days() as u64;
        (0..span).prop_map(move |n| start + Days::new(n))
    }

    const WEEKDAYS: [(&str, Weekday); 16] = [
        ("monday", Weekday::Mon),
        ("mon", Weekday::Mon),
        ("tuesday", Weekday::Tue),
        ("tue", Weekday::Tue),
        ("tues", Weekday::Tue),
        ("wednesday", Weekday::Wed),
        ("wed", Weekday::Wed),
        ("thursday", Weekday::Thu),
        ("thu", Weekday::Thu),
        ("thurs", Weekday::Thu),
        ("friday", Weekday::Fri),
        ("fri", Weekday::Fri),
        ("saturday", Weekday::Sat),
        ("sat", Weekday::Sat),
        ("sunday", Weekday::Sun),
        ("sun", Weekday::Sun),
    ];

    proptest! {
        #[test]
        fn n_days_ago_subtracts(today in any_today(), n in 0u64..5000) {
            let got = parse_day(&format!("{n} days ago"), today);
            prop_assert_eq!(got, Ok(today - Days::new(n)));
        }

        #[test]
        fn weekday_is_the_last_one_before_today(
            today in any_today(),
            (name, wd) in proptest::sample::select(WEEKDAYS.to_vec()),
            last in any::<bool>(),
            upper in any::<bool>(),
        ) {
            let mut text = if last { format!("last {name}") } else { name.to_owned() };
            if upper {
                text = text.to_uppercase();
            }
            let got = parse_day(&text, today).unwrap();
            let back = (today - got).num_days();
            prop_assert!((1..=7).contains(&back), "{} on {} gave {}", text, today, got);
            prop_assert_eq!(got.weekday(), wd);
        }

        #[test]
        fn past_iso_date_round_trips(a in 0u64..47_000, b in 0u64..47_000) {
            let (past, today) = (EARLIEST + Days::new(a.min(b)), EARLIEST + Days::new(a.max(b)));
            let text = past.format("%Y-%m-%d").to_string();
            prop_assert_eq!(parse_day(&text, today), Ok(past));
        }

        #[test]
        fn month_day_within_the_last_year_round_trips(today in any_today(), n in 0u64..365) {
            let past = today - Days::new(n);
            let text = past.format("%m-%d").to_string();
            prop_assert_eq!(parse_day(&text, today), Ok(past));
        }

        #[test]
        fn hours_and_minutes_add_up(h in 0u32..720, m in 1u32..60) {
            prop_assert_eq!(parse_took(&format!("{h}h{m}m")), Ok(h * 60 + m));
            prop_assert_eq!(parse_took(&format!("{h}h {m}m")), Ok(h * 60 + m));
        }
    }

    #[test]
    fn pauses_plan_ahead() {
        // Monday 2026-11-23.
        let monday = date("2026-11-23");
        let cases = [
            ("wednesday", monday, "2026-11-25"),
            ("monday", monday, "2026-11-23"),
            ("saturday", date("2026-11-25"), "2026-11-28"),
            ("next friday", monday, "2026-11-27"),
            ("tomorrow", monday, "2026-11-24"),
            ("in 3 days", monday, "2026-11-26"),
            ("in 2 weeks", monday, "2026-12-07"),
            ("12-20", monday, "2026-12-20"),
            ("01-02", date("2026-12-20"), "2027-01-02"),
            ("11-23", monday, "2026-11-23"),
            ("11-20", monday, "2027-11-20"),
            ("2027-03-01", monday, "2027-03-01"),
            ("yesterday", monday, "2026-11-22"),
            ("3 days ago", monday, "2026-11-20"),
            ("last friday", monday, "2026-11-20"),
        ];
        for (text, anchor, want) in cases {
            assert_eq!(
                parse_plan_day(text, monday, anchor),
                Ok(date(want)),
                "{text}"
            );
        }
        assert!(parse_plan_day("someday", monday, monday).is_err());
        assert!(parse_plan_day("02-30", monday, monday).is_err());
        assert!(parse_plan_day("1899-12-31", monday, monday).is_err());
    }
}
