//! `safe log`: record a practice I did.

use super::session::{NotePlace, Session, new_entry, stage_entry};
use super::{Context, auto_sync, known_practice};
use crate::domain::entry::{Entry, Kind};
use crate::domain::practice::Practice;
use crate::domain::summary::DayIndex;
use crate::error::{Error, Result};
use crate::store::config::Config;

/// Record a practice you did.
///
/// Logs today unless --date says otherwise. Notes stay on this machine unless
/// you share them (--share-note, or `safe config set share_notes true`, which
/// --keep-note overrides for one entry); a --private entry never leaves this
/// machine at all. The reply says where the note went.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe log appreciation --note \"thanks for the soup\"\n  safe log repair --took 2h30m --note \"talked it through after dinner\"\n  safe log repair --rupture-at 21:10\n  safe log date --date \"last friday\" --private"
)]
pub struct LogArgs {
    /// The practice, e.g. appreciation, repair, gentle-touch (see `safe practice list`).
    #[arg(value_name = "PRACTICE", add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
    pub practice: String,
    /// A few words, kept on this machine unless shared; `-` reads standard input.
    ///
    /// Notes hold up to 4000 characters.
    #[arg(long, short)]
    pub note: Option<String>,
    /// When it happened: today, yesterday, 3 days ago, friday, 2026-11-20, 11-20.
    #[arg(long, short, value_name = "WHEN", default_value = "today")]
    pub date: String,
    /// For a repair: time from the rupture to the repair, e.g. 45m, 2h30m, 1d.
    #[arg(long, value_name = "DURATION", conflicts_with = "rupture_at")]
    pub took: Option<String>,
    /// For a repair today: when the rupture happened (HH:MM); safe works
    /// out --took from it.
    ///
    /// A time later than now is taken as yesterday's: 21:10 logged at
    /// 08:30 means last night.
    #[arg(long, value_name = "HH:MM")]
    pub rupture_at: Option<String>,
    /// Keep the whole entry on this machine: it is never synced.
    #[arg(long, conflicts_with = "share_note")]
    pub private: bool,
    /// Share this entry's note with your partner.
    #[arg(long)]
    pub share_note: bool,
    /// Keep this entry's note on this machine, even with share_notes on.
    #[arg(long, conflicts_with = "share_note")]
    pub keep_note: bool,
    /// Log it again on a day it is already logged.
    ///
    /// A practice counts once a day; a repair is always a new moment and
    /// needs no --again.
    #[arg(long)]
    pub again: bool,
    /// A second log the same day is no error but nothing (`card --done`).
    #[arg(skip)]
    pub once_a_day: bool,
    /// The conversation card explored (`card --done`).
    #[arg(skip)]
    pub card: Option<String>,
}

pub fn cmd_log(ctx: &mut Context<'_>, args: LogArgs) -> Result<()> {
    let day = ctx.parse_day(&args.date)?;
    let year_ago = ctx.today - chrono::Days::new(365);
    if day < year_ago
        && !super::confirm(&format!(
            "Log {} for {day}, more than a year ago?",
            args.practice
        ))?
    {
        writeln!(ctx.out, "Nothing logged.")?;
        return Ok(());
    }
    let note = super::read_note(args.note)?.filter(|n| !n.trim().is_empty());
    let took = match (&args.took, &args.rupture_at) {
        (Some(text), _) => Some(crate::domain::when::parse_took(text)?),
        (None, Some(time)) => Some(took_since(ctx, day, time)?),
        (None, None) => None,
    };
    let (mut session, practice) = ctx.light_session_checked(|view, config| {
        let practice = known_practice(&view.practices, &config.id, &args.practice)?;
        loggable(&practice)?;
        if took.is_some() && practice.id != crate::domain::summary::REPAIR {
            let (flag, value) = match (&args.took, &args.rupture_at) {
                (Some(took), _) => ("--took", took.as_str()),
                (None, rupture) => ("--rupture-at", rupture.as_deref().unwrap_or_default()),
            };
            return Err(
                Error::input(format!("{flag} is for repair moments")).with_hint(format!(
                    "log the repair with `safe log repair {flag} {value}`"
                )),
            );
        }
        Ok(practice)
    })?;
    let share = !args.keep_note && (args.share_note || session.config.share_notes);
    if practice.id != crate::domain::summary::REPAIR
        && !args.again
        && logged_on(
            &session.my_practice_days_in(&practice.id, day)?,
            &session.config.id,
            &practice.id,
            day,
        )
    {
        let when = super::describe_day(ctx.today, day);
        if args.once_a_day {
            writeln!(
                ctx.out,
                "Already logged {} {when}: nothing to add.",
                practice.id
            )?;
            return Ok(());
        }
        return Err(
            Error::input(format!("you already logged {} {when}", practice.id))
                .with_hint("a practice counts once a day; `--again` logs it a second time anyway"),
        );
    }
    let mut entry = new_entry(Kind::Log, &practice.id, day, ctx.at_for(day));
    entry.took = took;
    entry.private = args.private;
    entry.card = args.card.clone();
    let id = entry.id;
    let place = if share {
        NotePlace::Shared
    } else {
        NotePlace::Kept
    };
    let staged = stage_entry(entry, note.as_deref(), place, false)?;
    session.write(ctx, staged)?;
    let short = session.short_id(&id)?;

    let when = super::describe_day(ctx.today, day);
    let mut line = format!("Logged {} {when}", practice.id);
    if let Some(minutes) = took {
        line.push_str(&format!(
            ", repaired in {}",
            super::describe_minutes(minutes)
        ));
    }
    line.push_str(&format!(" (id {short})."));
    if args.private {
        line.push_str(" It is private: it stays on this machine.");
    } else if note.is_some() {
        line.push(' ');
        line.push_str(&note_sentence(place, partner_name(&session).as_deref()));
    }
    writeln!(ctx.out, "{line}")?;
    let days = session.my_streak_days(&practice, ctx.today)?;
    if let Some(streak) = super::stats::streak_line(ctx, &session.config, &practice, &days)? {
        writeln!(ctx.out, "{streak}")?;
    }
    auto_sync(ctx, &mut session);
    Ok(())
}

/// The minutes from a rupture at `time` (HH:MM, the latest such moment
/// before now) to now, for a repair logged today.
fn took_since(ctx: &Context<'_>, day: chrono::NaiveDate, time: &str) -> Result<u32> {
    let at = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M").map_err(|_| {
        Error::input(format!("`{time}` is not a time of day"))
            .with_hint("give the time of the rupture as HH:MM, e.g. --rupture-at 21:10")
    })?;
    if day != ctx.today {
        return Err(Error::input(
            "--rupture-at counts from the rupture to now, so it is for a repair logged today",
        )
        .with_hint("for an earlier day, say how long it took: --took 2h30m"));
    }
    let now = ctx.now;
    let mut rupture = now.date_naive().and_time(at);
    if rupture > now.naive_local() {
        rupture -= chrono::TimeDelta::days(1);
    }
    let minutes = (now.naive_local() - rupture).num_minutes();
    let minutes = u32::try_from(minutes).unwrap_or(u32::MAX);
    crate::domain::limits::check_took(minutes).map_err(|why| {
        Error::input(why).with_hint("a rupture a moment ago: log the repair with --took 1m")
    })?;
    Ok(minutes)
}

/// Where a shared or kept note went, as the last sentence of a
/// confirmation: nobody should be surprised by who reads a note.
pub fn note_sentence(place: NotePlace, partner: Option<&str>) -> String {
    match (place, partner) {
        (NotePlace::Shared, Some(name)) => format!("The note is shared with {name}."),
        (NotePlace::Shared, None) => "The note is to be shared; it stays on this machine until \
             you pair with your partner (`safe invite`)."
            .to_string(),
        (NotePlace::Kept, _) => "The note stays on this machine.".to_string(),
    }
}

/// My partner's name (sanitised), once we are paired.
pub fn partner_name(session: &Session) -> Option<String> {
    let me = session.me();
    let person = session
        .journal
        .roster()
        .members
        .values()
        .filter(|m| m.until.is_none())
        .map(|m| m.person.as_str())
        .find(|person| *person != me)?;
    Some(super::name_of(&session.view.people, person))
}

/// Whether `me` logged `practice` on `day`, by the days of the journal.
pub fn logged_on(days: &DayIndex, me: &str, practice: &str, day: chrono::NaiveDate) -> bool {
    days.person(me)
        .logged
        .get(practice)
        .is_some_and(|tally| tally.on(day) > 0)
}

/// A retired practice is not offered for logging; say how to bring it back.
pub fn loggable(practice: &Practice) -> Result<&Practice> {
    if practice.retired {
        return Err(
            Error::input(format!("you retired `{}`", practice.id)).with_hint(format!(
                "bring it back with `safe practice goal {} {}`",
                practice.id, practice.goal
            )),
        );
    }
    Ok(practice)
}

/// Only an entry's author may change it.
pub fn check_author(
    entry: &Entry,
    config: &Config,
    people: &crate::domain::person::PeopleDoc,
) -> Result<()> {
    if entry.author == config.id {
        return Ok(());
    }
    Err(Error::input(format!(
        "this entry is {}'s: only its author can change or remove it",
        super::name_of(people, &entry.author)
    ))
    .with_hint("you can log your own practice with `safe log`"))
}
