//! `safe repair`: a guided repair conversation on one terminal, for two
//! people sitting together, logged as a `repair` at the end.
//!
//! Nothing is written until the last step: Ctrl-C (or the end of input)
//! stops the walk with exit 130 and leaves the journal as it was. A
//! time-out writes only its agreed time, in `rituals.json`, which the next
//! `safe repair` says back.

use std::io::{BufRead, IsTerminal};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, FixedOffset};

use super::Context;
use super::session::{NotePlace, new_entry, stage_entry};
use crate::domain::entry::Kind;
use crate::domain::repair_dialogue::{self as words, Turn};
use crate::domain::summary::REPAIR;
use crate::error::{Error, Result};
use crate::render::sanitize::sanitize_line;
use crate::store::Lock;
use crate::store::rituals::TimeOut;

/// Walk through a repair conversation together, then log it.
///
/// For the two of you, at one terminal, after a rupture: is now a good
/// time; one of you says one feeling and one need, gently; the other says
/// back what they heard, asks "is there more?", says what makes sense about
/// it and imagines how it feels; then you swap. Enter goes on or skips a
/// step; `t` at any step calls a time-out and sets a time to come back,
/// which `safe repair` says when you return. At the end it logs a `repair`
/// with the time since the rupture and an optional note that stays on this
/// machine. Ctrl-C stops and logs nothing.
///
/// What you type during the steps is only shown back to you; it is never
/// saved.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe repair\n  safe repair --rupture-at 21:10")]
pub struct RepairArgs {
    /// When the rupture happened: a time like 21:10 (the last one before
    /// now) or how long ago, like 45m; otherwise you are asked.
    #[arg(long, value_name = "TIME")]
    pub rupture_at: Option<String>,
}

/// The exit code of a walk stopped by Ctrl-C, as a shell reports SIGINT.
pub const STOPPED: i32 = 130;

pub fn cmd_repair(ctx: &mut Context<'_>, args: RepairArgs) -> Result<()> {
    let rupture = match &args.rupture_at {
        Some(text) => Some(words::rupture_minutes(text, ctx.now).map_err(|e| {
            Error::input(e.to_string()).with_hint("e.g. --rupture-at 21:10 or --rupture-at 45m")
        })?),
        None => None,
    };
    let pending = pending_time_out(ctx)?;
    if !std::io::stdin().is_terminal() {
        if let Some(time_out) = &pending {
            writeln!(ctx.out, "{}", come_back_line(time_out, ctx.now))?;
        }
        return Err(Error::input(
            "safe repair is a conversation: it needs a terminal to type into",
        )
        .with_hint(
            "run it in a terminal; to log a repair from a script, use `safe log repair --took 45m`",
        ));
    }
    // Ctrl-C before the last step stops everything; once the repair is
    // being written, it finishes.
    let writing = Arc::new(Mutex::new(false));
    let guard = Arc::clone(&writing);
    ctrlc::set_handler(move || {
        let busy = guard.lock().unwrap_or_else(|e| e.into_inner());
        if !*busy {
            stop();
        }
    })
    .map_err(|e| Error::runtime(format!("could not listen for Ctrl-C: {e}")))?;

    let mut talk = Talk {
        ctx,
        input: std::io::stdin().lock(),
    };
    let outcome = walk(&mut talk, pending.as_ref(), rupture)?;
    let ctx = talk.ctx;
    // From here on the walk is over: a Ctrl-C waits for the write, then
    // changes nothing.
    let mut busy = writing.lock().unwrap_or_else(|e| e.into_inner());
    *busy = true;
    match outcome {
        Outcome::TimeOut(time_out) => {
            let lock = ctx.dir.lock()?;
            save_time_out(ctx, &lock, Some(time_out))
        }
        Outcome::Repaired { took, note } => {
            log_repair(ctx, took, note.as_deref(), pending.is_some())
        }
    }
}

/// How the walk ended.
enum Outcome {
    TimeOut(TimeOut),
    Repaired {
        took: Option<u32>,
        note: Option<String>,
    },
}

/// What a person typed at a step.
enum Answer {
    Text(String),
    Skip,
    TimeOut,
}

/// The terminal the two of you talk through.
struct Talk<'c, 'o> {
    ctx: &'c mut Context<'o>,
    input: std::io::StdinLock<'static>,
}

impl Talk<'_, '_> {
    fn say(&mut self, text: &str) -> Result<()> {
        writeln!(self.ctx.out, "{text}")?;
        Ok(())
    }

    fn heading(&mut self, text: &str) -> Result<()> {
        let bold = if self.ctx.color {
            anstyle::Style::new().bold()
        } else {
            anstyle::Style::new()
        };
        writeln!(self.ctx.out, "\n{bold}── {text} ──{bold:#}")?;
        Ok(())
    }

    /// Show `prompt`, read one line. The end of input stops the walk, as
    /// Ctrl-C does.
    fn ask(&mut self, prompt: &str) -> Result<Answer> {
        write!(self.ctx.out, "{prompt} ")?;
        self.ctx.out.flush()?;
        let mut line = String::new();
        let read = self
            .input
            .read_line(&mut line)
            .map_err(|e| Error::runtime(format!("could not read the terminal: {e}")))?;
        if read == 0 {
            stop();
        }
        let text = line.trim();
        Ok(match text {
            "" => Answer::Skip,
            "t" | "T" | "time-out" | "timeout" => Answer::TimeOut,
            _ => Answer::Text(text.to_string()),
        })
    }

    /// A step with nothing to type: Enter goes on.
    fn step(&mut self, text: &str) -> Result<Option<()>> {
        self.say(text)?;
        match self.ask("  (Enter when done)")? {
            Answer::TimeOut => Ok(None),
            _ => Ok(Some(())),
        }
    }

    /// A step where a few typed words help the next one.
    fn words(&mut self, text: &str, prompt: &str) -> Result<Option<Option<String>>> {
        self.say(text)?;
        match self.ask(prompt)? {
            Answer::TimeOut => Ok(None),
            Answer::Skip => Ok(Some(None)),
            // Shown back in the next steps: neutralised for the terminal.
            Answer::Text(t) => Ok(Some(Some(sanitize_line(&t).into_owned()))),
        }
    }
}

/// Leave now: nothing was written. Exit as a shell reports Ctrl-C.
fn stop() -> ! {
    eprintln!("\nStopped. Nothing was logged.");
    std::process::exit(STOPPED);
}

/// The conversation, step by step, until a time-out or the end.
fn walk(
    talk: &mut Talk<'_, '_>,
    pending: Option<&TimeOut>,
    rupture: Option<u32>,
) -> Result<Outcome> {
    let now = talk.ctx.now;
    if let Some(time_out) = pending {
        talk.say(&come_back_line(time_out, now))?;
        talk.say("Welcome back.\n")?;
    }
    talk.say(words::WELCOME)?;
    writeln!(talk.ctx.out)?;
    match talk.ask(words::GOOD_TIME)? {
        Answer::Skip => {}
        Answer::Text(t) if t.to_lowercase().starts_with('y') => {}
        Answer::Text(_) | Answer::TimeOut => return time_out(talk),
    }
    let took = match rupture {
        Some(minutes) => Some(minutes),
        None => match ask_rupture(talk)? {
            Some(took) => took,
            None => return time_out(talk),
        },
    };
    let (me, partner) = names(talk)?;
    let first = Turn {
        speaker: &me,
        listener: &partner,
    };
    let second = Turn {
        speaker: &partner,
        listener: &me,
    };
    for (i, turn) in [first, second].iter().enumerate() {
        if i == 1 {
            talk.say(&format!("\n{}", words::SWAP))?;
        }
        if half(talk, turn)?.is_none() {
            return time_out(talk);
        }
    }
    talk.heading("Coming back together")?;
    if talk.step(words::OFFER)?.is_none() {
        return time_out(talk);
    }
    let note = loop {
        match talk.ask("A note for yourself, kept on this machine only (Enter for none):")? {
            Answer::Text(t) if t != "-" => match crate::domain::limits::check_note(&t) {
                Ok(()) => break Some(t),
                Err(why) => talk.say(&format!("  {why}"))?,
            },
            _ => break None,
        }
    };
    Ok(Outcome::Repaired { took, note })
}

/// One half: the speaker's soft start, the listener's reflection. `None`
/// when a time-out was called.
fn half(talk: &mut Talk<'_, '_>, turn: &Turn<'_>) -> Result<Option<()>> {
    talk.heading(&turn.heading())?;
    let Some(feeling) = talk.words(
        &turn.feeling(),
        "  The feeling, in a word or two (Enter to skip):",
    )?
    else {
        return Ok(None);
    };
    let Some(need) = talk.words(&turn.need(), "  The need, in a few words (Enter to skip):")?
    else {
        return Ok(None);
    };
    for text in [
        turn.mirror(feeling.as_deref(), need.as_deref()),
        turn.validate(feeling.as_deref()),
        turn.empathise(),
    ] {
        if talk.step(&text)?.is_none() {
            return Ok(None);
        }
    }
    Ok(Some(()))
}

/// Ask when the rupture was, until it reads or is skipped: `Some(None)`
/// skipped, `None` a time-out.
fn ask_rupture(talk: &mut Talk<'_, '_>) -> Result<Option<Option<u32>>> {
    loop {
        let answer = talk.ask(
            "When did the rupture happen? A time like 21:10, or how long ago, like 45m (Enter to skip):",
        )?;
        match answer {
            Answer::Skip => return Ok(Some(None)),
            Answer::TimeOut => return Ok(None),
            Answer::Text(text) => match words::rupture_minutes(&text, talk.ctx.now) {
                Ok(minutes) => return Ok(Some(Some(minutes))),
                Err(e) => talk.say(&format!("  {e}"))?,
            },
        }
    }
}

/// The names the steps use: mine, and my partner's once paired.
fn names(talk: &mut Talk<'_, '_>) -> Result<(String, String)> {
    let (view, config) = talk.ctx.view()?;
    let me = if config.name.is_empty() {
        "You".to_string()
    } else {
        sanitize_line(&config.name).into_owned()
    };
    let partner = view
        .people
        .people
        .iter()
        .find(|p| p.id != view.me && !p.name.is_empty())
        .map(|p| sanitize_line(&p.name).into_owned());
    let partner = match partner {
        Some(name) => name,
        None => match talk.ask("Your partner's name, for the steps (Enter for \"Partner\"):")? {
            Answer::Text(name) => sanitize_line(&name).into_owned(),
            _ => "Partner".to_string(),
        },
    };
    Ok((me, partner))
}

/// Agree on a time to come back; nothing is logged.
fn time_out(talk: &mut Talk<'_, '_>) -> Result<Outcome> {
    talk.heading("Time-out")?;
    talk.say(words::TIME_OUT)?;
    let now = talk.ctx.now;
    let back_at = loop {
        match talk.ask(&format!(
            "Come back [{}m]:",
            words::DEFAULT_TIME_OUT_MINUTES
        ))? {
            Answer::Skip | Answer::TimeOut => {
                break now + Duration::minutes(words::DEFAULT_TIME_OUT_MINUTES);
            }
            Answer::Text(text) => match words::back_at(&text, now) {
                Ok(at) => break at,
                Err(e) => talk.say(&format!("  {e}"))?,
            },
        }
    };
    talk.say(&format!(
        "Come back at {} ({}).",
        back_at.format("%H:%M"),
        words::from_now(back_at, now)
    ))?;
    talk.say(words::WHILE_APART)?;
    talk.say("`safe repair` will say the time when you come back to it. Nothing was logged.")?;
    Ok(Outcome::TimeOut(TimeOut {
        called_at: now,
        back_at,
    }))
}

/// "You agreed to come back at 21:40 (in 12 minutes)."
fn come_back_line(time_out: &TimeOut, now: DateTime<FixedOffset>) -> String {
    format!(
        "You agreed to come back at {} ({}).",
        time_out.back_at.format("%H:%M"),
        words::from_now(time_out.back_at, now)
    )
}

/// The time-out agreed earlier, if it is still of use: a day after the
/// time to come back, it is forgotten.
pub fn pending_time_out(ctx: &Context<'_>) -> Result<Option<TimeOut>> {
    let rituals = ctx.dir.read_rituals()?;
    Ok(rituals
        .time_out
        .filter(|t| ctx.now < t.back_at + Duration::days(1)))
}

fn save_time_out(ctx: &Context<'_>, lock: &Lock, time_out: Option<TimeOut>) -> Result<()> {
    let mut rituals = ctx.dir.read_rituals()?;
    rituals.time_out = time_out;
    let mut batch = lock.batch();
    ctx.dir.write_rituals(&rituals, &mut batch)?;
    batch.commit()
}

/// Log the repair through the journal's write path, with its note kept on
/// this machine whatever `share_notes` says.
fn log_repair(
    ctx: &mut Context<'_>,
    took: Option<u32>,
    note: Option<&str>,
    after_time_out: bool,
) -> Result<()> {
    let (mut session, practice) = ctx.session_checked(|view, config| {
        let practice = super::known_practice(&view.practices, &config.id, REPAIR)?;
        super::log::loggable(&practice)?;
        Ok(practice)
    })?;
    let mut entry = new_entry(Kind::Log, &practice.id, ctx.today, ctx.now);
    entry.took = took;
    let id = entry.id;
    let staged = stage_entry(entry, note, NotePlace::Kept, false)?;
    session.write(ctx, staged)?;
    let short = session.view.short_id(&id);
    let mut line = "\nLogged repair today".to_string();
    if let Some(minutes) = took {
        line.push_str(&format!(
            ", repaired in {}",
            super::describe_minutes(minutes)
        ));
    }
    line.push_str(&format!(" (id {short})."));
    if note.is_some() {
        line.push_str(" The note stays on this machine.");
    }
    writeln!(ctx.out, "{line}")?;
    if after_time_out {
        writeln!(ctx.out, "You came back, as you said you would.")?;
    }
    writeln!(ctx.out, "Thank you both for coming back to each other.")?;
    if after_time_out {
        save_time_out(ctx, &session.lock, None)?;
    }
    super::auto_sync(ctx, &mut session);
    Ok(())
}
