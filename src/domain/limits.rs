//! The limits every record obeys, wherever it comes from: typed at the
//! command line, imported from a file, or received from a partner through
//! sync. One set of rules, so that nothing one path accepts is refused by
//! another (an import can never make a journal that sync then refuses).

use chrono::{Days, NaiveDate};

/// The longest note, in characters. A few paragraphs: more than any note a
/// person writes about one practice, and small enough that no note can make
/// a table, a file or a sync slow.
pub const MAX_NOTE_CHARS: usize = 4000;

/// The first day an entry may be for.
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid day");

/// The shortest repair time worth recording: one minute.
pub const MIN_TOOK_MINUTES: u32 = 1;

/// The longest repair time: 30 days. A rupture left longer than that is a
/// different story than a repair moment.
pub const MAX_TOOK_MINUTES: u32 = 30 * 24 * 60;

/// How far ahead a pause may be planned.
pub const MAX_PAUSE_AHEAD_DAYS: u64 = 366;

/// The largest journal file safe writes or reads. Ten years of two people's
/// entries are about 30 MB in all, a month a few hundred KB; a bigger file is
/// refused before it is read, and never written.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// The longest description of a custom practice, in characters.
pub const MAX_ABOUT_CHARS: usize = 200;

/// The longest name, in characters.
pub const MAX_NAME_CHARS: usize = 64;

/// Characters outside C0 that must never reach a terminal as they are: DEL,
/// C1 (which include 8-bit escape introducers), and the bidi controls that
/// reorder what a reader sees (Trojan Source): embeddings, overrides,
/// isolates, and the left-to-right, right-to-left and Arabic letter marks.
pub fn is_unsafe_beyond_c0(c: char) -> bool {
    matches!(c,
        '\u{7f}'..='\u{9f}'                // DEL and C1
        | '\u{200e}' | '\u{200f}' | '\u{61c}' // direction marks
        | '\u{202a}'..='\u{202e}'          // bidi embeddings and overrides
        | '\u{2066}'..='\u{2069}' // bidi isolates
    )
}

/// A person's name as they chose it, trimmed, or why it cannot be one: one
/// line of at most [`MAX_NAME_CHARS`] characters, without control or bidi
/// characters, and not `me` or `partner`, the words `--who` uses for people.
pub fn check_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("a name cannot be empty".to_string());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!("a name has at most {MAX_NAME_CHARS} characters"));
    }
    if name
        .chars()
        .any(|c| c.is_control() || is_unsafe_beyond_c0(c) || matches!(c, '\u{2028}' | '\u{2029}'))
    {
        return Err("a name cannot hold control or text-direction characters".to_string());
    }
    if ["me", "partner"]
        .iter()
        .any(|w| name.eq_ignore_ascii_case(w))
    {
        return Err(format!(
            "`{name}` is a word safe uses for people (`--who me|partner`)"
        ));
    }
    Ok(name)
}

/// A note within [`MAX_NOTE_CHARS`], or why not.
pub fn check_note(note: &str) -> Result<(), String> {
    let chars = note.chars().count();
    if chars > MAX_NOTE_CHARS {
        return Err(format!(
            "the note is {chars} characters long; notes hold at most {MAX_NOTE_CHARS}"
        ));
    }
    Ok(())
}

/// A repair time within [`MIN_TOOK_MINUTES`]..=[`MAX_TOOK_MINUTES`], or why not.
pub fn check_took(minutes: u32) -> Result<(), String> {
    if !(MIN_TOOK_MINUTES..=MAX_TOOK_MINUTES).contains(&minutes) {
        return Err(format!(
            "a repair time is between 1 minute and 30 days, not {minutes} minutes"
        ));
    }
    Ok(())
}

/// A day a practice can be logged or skipped for: from [`FIRST_DAY`] to
/// `latest` (today, or a day later for a partner whose clock is in a time
/// zone ahead of ours).
pub fn check_day(day: NaiveDate, latest: NaiveDate) -> Result<(), String> {
    if day < FIRST_DAY {
        return Err(format!(
            "{day} is before {FIRST_DAY}, the first day safe keeps"
        ));
    }
    if day > latest {
        return Err(format!(
            "{day} is in the future; safe only logs what already happened"
        ));
    }
    Ok(())
}

/// The last day a pause may reach when planned on `today`.
pub fn last_pause_day(today: NaiveDate) -> NaiveDate {
    today
        .checked_add_days(Days::new(MAX_PAUSE_AHEAD_DAYS))
        .unwrap_or(NaiveDate::MAX)
}

/// A pause from `from` to `until` (both included) planned on `today`.
pub fn check_pause(from: NaiveDate, until: NaiveDate, today: NaiveDate) -> Result<(), String> {
    if from < FIRST_DAY {
        return Err(format!(
            "{from} is before {FIRST_DAY}, the first day safe keeps"
        ));
    }
    if until < from {
        return Err(format!(
            "the pause ends ({until}) before it starts ({from})"
        ));
    }
    if until > last_pause_day(today) {
        return Err(format!(
            "{until} is more than a year ahead; pauses are planned at most a year ahead"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn names_are_one_plain_line_and_not_a_who_word() {
        assert_eq!(check_name("  Alex "), Ok("Alex"));
        assert_eq!(check_name("Zoë Ångström"), Ok("Zoë Ångström"));
        assert_eq!(check_name("שרה"), Ok("שרה"));
        for bad in [
            "",
            " ",
            "me",
            "ME",
            "Partner",
            "a\nb",
            "a\u{1b}[31mb",
            "a\u{202e}b",
            "a\u{200f}b",
            "a\u{9b}b",
            "a\u{2028}b",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(65)).is_err());
        assert!(check_name("meg").is_ok());
    }

    #[test]
    fn notes_are_capped_by_characters_not_bytes() {
        assert!(check_note(&"é".repeat(MAX_NOTE_CHARS)).is_ok());
        let err = check_note(&"x".repeat(MAX_NOTE_CHARS + 1)).unwrap_err();
        assert!(err.contains("4001") && err.contains("4000"), "{err}");
    }

    #[test]
    fn repair_times_run_from_a_minute_to_thirty_days() {
        for (minutes, ok) in [(0, false), (1, true), (43_200, true), (43_201, false)] {
            assert_eq!(check_took(minutes).is_ok(), ok, "{minutes}");
        }
    }

    #[test]
    fn days_run_from_1900_to_today() {
        let today = day("2026-11-27");
        for (d, ok) in [
            ("1899-12-31", false),
            ("1900-01-01", true),
            ("2026-11-27", true),
            ("2026-11-28", false),
        ] {
            assert_eq!(check_day(day(d), today).is_ok(), ok, "{d}");
        }
    }

    #[test]
    fn pauses_reach_at_most_a_year_ahead() {
        let today = day("2026-11-27");
        assert!(check_pause(day("2026-12-20"), day("2027-01-02"), today).is_ok());
        assert!(check_pause(day("2027-11-28"), day("2027-11-28"), today).is_ok());
        assert!(check_pause(day("2027-11-29"), day("2027-11-29"), today).is_err());
        assert!(check_pause(day("2026-12-02"), day("2026-12-01"), today).is_err());
    }
}
