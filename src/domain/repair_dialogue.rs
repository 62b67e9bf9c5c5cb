//! The words of `safe repair`, and the times it reads.
//!
//! The walk follows the shape couples therapists teach for coming back
//! together after a rupture: a soft start (one feeling, one need, no blame),
//! a listener who reflects what they heard and asks for more, says what makes
//! sense about it and imagines how it feels, then the roles swap. A break is
//! allowed when either of you is flooded, with an agreed time to come back
//! (about twenty minutes at least, within a day). The wording is ours.
//!
//! Pure: the caller gives the names, what was typed and "now".

use chrono::{DateTime, Duration, FixedOffset, NaiveTime};

/// Who speaks and who listens in one half of the conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Turn<'a> {
    pub speaker: &'a str,
    pub listener: &'a str,
}

impl Turn<'_> {
    /// The heading of this half.
    pub fn heading(&self) -> String {
        format!("{} speaks, {} listens", self.speaker, self.listener)
    }

    /// The speaker names one feeling: a soft start, about themselves.
    pub fn feeling(&self) -> String {
        format!(
            "{s}: say one feeling about what happened, starting with \"I feel…\".\n\
             Keep it about you and this moment, not about what {l} is like.",
            s = self.speaker,
            l = self.listener
        )
    }

    /// The speaker names one need, as something the listener could do.
    pub fn need(&self) -> String {
        format!(
            "{s}: say one thing you need, as a request {l} could say yes to:\n\
             \"I would like…\" or \"Could we…\".",
            s = self.speaker,
            l = self.listener
        )
    }

    /// The listener reflects back what they heard, and asks for more.
    pub fn mirror(&self, feeling: Option<&str>, need: Option<&str>) -> String {
        let heard = match (feeling, need) {
            (Some(f), Some(n)) => {
                format!("\"You feel {f}, and you would like {n}. Did I get that?\"")
            }
            (Some(f), None) => format!("\"You feel {f}. Did I get that?\""),
            (None, Some(n)) => format!("\"You would like {n}. Did I get that?\""),
            (None, None) => "\"What I heard is… Did I get that?\"".to_string(),
        };
        format!(
            "{l}: say back what you heard, in {s}'s words, adding nothing of your own:\n\
             {heard}\n\
             Then ask \"Is there more?\", and reflect again, until {s} has said it all.",
            s = self.speaker,
            l = self.listener
        )
    }

    /// The listener says what makes sense about it.
    pub fn validate(&self, feeling: Option<&str>) -> String {
        let feeling = feeling.unwrap_or("that way");
        format!(
            "{l}: tell {s} what makes sense to you about it:\n\
             \"It makes sense that you feel {feeling}, because…\"\n\
             You can understand without agreeing.",
            s = self.speaker,
            l = self.listener
        )
    }

    /// The listener imagines the speaker's feelings, and checks.
    pub fn empathise(&self) -> String {
        format!(
            "{l}: imagine being {s} right now: \"I imagine you might also feel…\".\n\
             {s}, say whether that is close.",
            s = self.speaker,
            l = self.listener
        )
    }
}

/// The opening lines.
pub const WELCOME: &str = "A repair, one step at a time. Sit where you can see each other.\n\
     Press Enter to go on or to skip a step; type t for a time-out at any step;\n\
     Ctrl-C stops, and nothing is logged.";

/// Asked first: a repair goes better when both are ready.
pub const GOOD_TIME: &str = "Is now a good time for both of you? [Y/n]";

/// Said when a time-out is called.
pub const TIME_OUT: &str = "A break is part of repairing, not walking away from it.\n\
     When will you come back to it? A time like 21:40, or in how long, like 30m.";

/// How to spend the break.
pub const WHILE_APART: &str = "Until then, do something calming on your own: a walk, slow breaths, music.\n\
     Try not to rehearse the argument. A body takes about twenty minutes to settle.";

/// Before the swap.
pub const SWAP: &str = "Now swap.";

/// The last step before the note.
pub const OFFER: &str = "Each of you: is there something you would like to offer?\n\
     An apology without a \"but\", a hug, a small plan for next time.";

/// The default break, in minutes.
pub const DEFAULT_TIME_OUT_MINUTES: i64 = 30;

/// A time or duration that does not read, or is out of range. The message
/// follows "safe: error: " or is shown before asking again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error("can't read {0:?} as a time; use a time like 21:10 or how long, like 45m")]
    Unreadable(String),
    #[error("{0:?} is more than 30 days ago; safe keeps repair times up to 30 days")]
    TooLongAgo(String),
    #[error("{0:?} is more than a day away; agree to come back within a day")]
    TooFar(String),
}

/// Minutes from the rupture to `now`: `text` is a clock time (`21:10`, the
/// most recent one not after now, so just after midnight `23:50` is last
/// night) or how long ago (`45m`, `2h`, `1h30m ago`). At least one minute.
pub fn rupture_minutes(text: &str, now: DateTime<FixedOffset>) -> Result<u32, TimeError> {
    let text = text.trim();
    if let Some(time) = clock_time(text) {
        let mut at = now.date_naive().and_time(time);
        if at > now.naive_local() {
            at -= Duration::days(1);
        }
        let minutes = (now.naive_local() - at).num_minutes().max(1);
        return Ok(u32::try_from(minutes).unwrap_or(1));
    }
    let bare = text.strip_suffix("ago").unwrap_or(text).trim();
    match super::when::parse_took(bare) {
        Ok(minutes) => Ok(minutes),
        Err(super::when::WhenError::DurationTooLong { .. }) => {
            Err(TimeError::TooLongAgo(text.to_string()))
        }
        Err(_) => Err(TimeError::Unreadable(text.to_string())),
    }
}

/// When to come back after a time-out: a clock time (`21:40`, the next one
/// after now) or how long from now (`30m`, `in 1h`). Within a day.
pub fn back_at(text: &str, now: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, TimeError> {
    let text = text.trim();
    let unreadable = || TimeError::Unreadable(text.to_string());
    if let Some(time) = clock_time(text) {
        let mut at = now.date_naive().and_time(time);
        if at <= now.naive_local() {
            at += Duration::days(1);
        }
        let at = at
            .and_local_timezone(*now.offset())
            .single()
            .ok_or_else(unreadable)?;
        return Ok(at);
    }
    let bare = text.strip_prefix("in ").unwrap_or(text).trim();
    let minutes = super::when::parse_took(bare).map_err(|_| unreadable())?;
    if minutes > 24 * 60 {
        return Err(TimeError::TooFar(text.to_string()));
    }
    Ok(now + Duration::minutes(i64::from(minutes)))
}

/// "in 12 minutes", "in 1h30m", "now", "10 minutes ago": `at` seen from `now`.
pub fn from_now(at: DateTime<FixedOffset>, now: DateTime<FixedOffset>) -> String {
    let minutes = (at - now).num_minutes();
    let span = |m: i64| match m {
        1 => "1 minute".to_string(),
        m if m < 60 => format!("{m} minutes"),
        m => {
            let (h, m) = (m / 60, m % 60);
            if m == 0 {
                format!("{h}h")
            } else {
                format!("{h}h{m}m")
            }
        }
    };
    match minutes {
        0 => "now".to_string(),
        m if m > 0 => format!("in {}", span(m)),
        m => format!("{} ago", span(-m)),
    }
}

/// `HH:MM` (24-hour), or `None`.
fn clock_time(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    if h.is_empty() || h.len() > 2 || m.len() != 2 {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(text).unwrap()
    }

    #[test]
    fn the_rupture_is_a_clock_time_or_how_long_ago() {
        let now = at("2026-11-27T21:55:00+01:00");
        for (text, minutes) in [
            ("21:10", 45),
            ("9:55", 720),
            ("21:55", 1),
            ("22:00", 1435), // later than now: last night
            ("45m", 45),
            ("2h", 120),
            ("1h30m ago", 90),
            ("90", 90),
        ] {
            assert_eq!(rupture_minutes(text, now), Ok(minutes), "{text}");
        }
        let midnight = at("2026-11-28T00:20:00+01:00");
        assert_eq!(rupture_minutes("23:50", midnight), Ok(30));
        for text in ["", "soon", "25:00", "21:5", "21:10:00"] {
            assert!(
                matches!(rupture_minutes(text, now), Err(TimeError::Unreadable(_))),
                "{text}"
            );
        }
        assert!(matches!(
            rupture_minutes("31d", now),
            Err(TimeError::TooLongAgo(_))
        ));
    }

    #[test]
    fn the_time_to_come_back_is_ahead_and_within_a_day() {
        let now = at("2026-11-27T21:10:00+01:00");
        assert_eq!(back_at("21:40", now), Ok(at("2026-11-27T21:40:00+01:00")));
        assert_eq!(back_at("08:00", now), Ok(at("2026-11-28T08:00:00+01:00")));
        assert_eq!(back_at("21:10", now), Ok(at("2026-11-28T21:10:00+01:00")));
        assert_eq!(back_at("30m", now), Ok(at("2026-11-27T21:40:00+01:00")));
        assert_eq!(back_at("in 1h", now), Ok(at("2026-11-27T22:10:00+01:00")));
        assert!(matches!(back_at("2d", now), Err(TimeError::TooFar(_))));
        assert!(matches!(
            back_at("later", now),
            Err(TimeError::Unreadable(_))
        ));
    }

    #[test]
    fn from_now_reads_both_ways() {
        let now = at("2026-11-27T21:10:00+01:00");
        for (then, text) in [
            ("2026-11-27T21:10:00+01:00", "now"),
            ("2026-11-27T21:11:00+01:00", "in 1 minute"),
            ("2026-11-27T21:40:00+01:00", "in 30 minutes"),
            ("2026-11-27T22:40:00+01:00", "in 1h30m"),
            ("2026-11-27T23:10:00+01:00", "in 2h"),
            ("2026-11-27T21:00:00+01:00", "10 minutes ago"),
        ] {
            assert_eq!(from_now(at(then), now), text);
        }
    }

    #[test]
    fn the_words_never_blame_or_compare() {
        let turn = Turn {
            speaker: "Alex",
            listener: "Sam",
        };
        let words = [
            turn.heading(),
            turn.feeling(),
            turn.need(),
            turn.mirror(Some("hurt"), Some("a hug")),
            turn.mirror(None, None),
            turn.validate(None),
            turn.empathise(),
            WELCOME.to_string(),
            TIME_OUT.to_string(),
            WHILE_APART.to_string(),
            OFFER.to_string(),
        ];
        for text in &words {
            let lower = text.to_lowercase();
            for banned in [
                "you always",
                "you never",
                "fault",
                "blame",
                "should",
                "wrong",
            ] {
                assert!(!lower.contains(banned), "{banned:?} in {text:?}");
            }
        }
        // The typed feeling and need come back in the listener's words.
        let mirror = turn.mirror(Some("hurt"), Some("a hug"));
        assert!(mirror.contains("You feel hurt, and you would like a hug."));
        assert!(mirror.contains("Is there more?"));
        assert!(
            turn.validate(Some("hurt"))
                .contains("you feel hurt, because")
        );
    }
}
