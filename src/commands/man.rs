//! `safe man`: the manual page, generated from the command line definition.

use std::io::Write;

use clap::CommandFactory;

use super::Context;
use crate::cli::Cli;
use crate::error::Result;

/// Print the manual page (roff).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe man > ~/.local/share/man/man1/safe.1    # install it\n  safe man | man -l -                          # read it now"
)]
pub struct ManArgs {}

pub fn cmd_man(ctx: &mut Context<'_>, _args: ManArgs) -> Result<()> {
    ctx.out.write_all(&page())?;
    Ok(())
}

/// Extra sections after the generated ones.
const SECTIONS: &[(&str, &str)] = &[
    (
        "FILES",
        "Data lives in the platform's data directory (~/.local/share/safe on Linux), or in SAFE_DATA_DIR or --data-dir.\n\
         config.json holds your settings and sync remote, and journal.json which journal this is and this computer's id; keys/ holds this computer's signing key. None of them leaves the machine. \
         shared/log/<device>/ holds each computer's append-only, signed log: exactly what sync shares. private/log/<device>/ holds private entries and the notes you did not share; it never leaves the machine. \
         index/ is derived and can be deleted at any time. sync.git is the bare git repository sync uses as transport. backup-schema1/ holds your files as safe 0.1 kept them, after the upgrade. rituals.json holds a repair's agreed time to come back and the card shown today; it never leaves the machine.\n\
         safe remind install writes safe-remind.timer and safe-remind.service to $XDG_CONFIG_HOME/systemd/user/ (~/.config/systemd/user/), or a crontab line marked \"# safe remind\".",
    ),
    (
        "DATES",
        "WHEN, for log, skip and edit and for the periods of history and stats, is one of: today, yesterday, N days ago (3 days ago), a weekday (friday, or last friday: always the most recent past one), YYYY-MM-DD or MM-DD. A day in the future is an error.\n\
         For pause, which plans ahead, a weekday or MM-DD means the next one, and tomorrow, next friday, in 3 days and --days N work too; the reply names the weekdays.\n\
         PERIOD, for history and stats, is --week (this calendar week, the default), --month, --year, --all, or --since WHEN with an optional --until WHEN.\n\
         DURATION, for --took, is like 45m, 2h or 2h30m; --rupture-at takes the time of the rupture, like 21:10, and works out the duration.",
    ),
    (
        "STATISTICS",
        "A day is your local calendar date; a week starts on Monday, or on Sunday with week_start.\n\
         A daily streak is the run of days up to today (or yesterday, while today is still open) on which you logged the practice; skipped and paused days keep it going without adding to it. An N/week streak is the run of weeks that met the goal; this week counts once it is met, and a paused week bridges. Best is the longest run ever.\n\
         Strength, from 0 to 100%, is the exponential smoothing of Loop Habit Tracker: it grows with each practice and fades slowly when you miss, and skipped and paused days leave it as it is. In its first two weeks a practice's strength reads building.\n\
         The stats table shows the count in the period and beside it, in the week view, how far along this week is (2 of 3); for longer periods, how often the goal was met (9 of 22 days, or 3 of 4 weeks), counted from the practice's first day, leaving out days of rest, and today once it is logged. A practice with nothing in the period is dimmed.\n\
         Us shows the days you both practised, the days in a row together, and your repair moments with the median time from rupture to repair, against the period before. When both of you log a repair of the same rupture on one day, it is one moment. Nothing compares one of you with the other.\n\
         The calendar shades each day by how many entries you logged (with --who us, how many of you practised); a skipped day shows -, a paused one ‖, and today is in brackets.",
    ),
    (
        "ENVIRONMENT",
        "SAFE_DATA_DIR moves the data directory. SAFE_NOW (an RFC 3339 time or YYYY-MM-DD) fixes \"now\", for reproducible output and tests. NO_COLOR turns colour off; output that is not a terminal is plain anyway. COLUMNS is the width tables, the calendar and help fit to. XDG_CONFIG_HOME is where safe remind install puts its systemd units.",
    ),
    (
        "RITUALS",
        "safe review is the weekly state-of-us talk: the week together, never one of you against the other.\n\
         safe repair walks you both through a repair at one terminal: a gentle start (one feeling, one need), then the listener says back what they heard, asks for more, says what makes sense and imagines how it feels; then you swap. Enter skips any step; t calls a time-out with a time to come back, which the next safe repair says. It logs a repair at the end, with the time since the rupture (asked, or --rupture-at 21:10) and a note kept on this machine. Ctrl-C logs nothing.\n\
         safe card --today shows the card of the day, the same for both of you without syncing, passing over cards you explored; safe card --done records which card it was, and safe history shows it.\n\
         safe remind install [--at HH:MM] sets up an evening nudge (a systemd user timer, or a crontab line added only with --yes or your yes) that speaks only when one of your daily practices is still open, and never of your partner. safe remind status and safe remind remove. Without desktop notifications, put safe today --short in your prompt.",
    ),
    (
        "EXIT STATUS",
        "0 on success; 1 when the data, the disk or sync failed; 2 for a usage or input error; 130 when safe repair is stopped with Ctrl-C.",
    ),
    (
        "PRIVACY",
        "You log what you did, never what your partner failed to do. Notes stay on your machine unless you share them (--share-note or share_notes). A --private entry never leaves your machine. safe never shows one partner against the other. A shared note you later remove stays in the sync repository's history.",
    ),
    (
        "EXAMPLES",
        "safe log appreciation --note \"thanks for the soup\"\n\
         safe log repair --took 2h30m\n\
         safe today\n\
         safe stats --month\n\
         safe repair --rupture-at 21:10\n\
         safe card --today\n\
         safe remind install --at 20:30\n\
         safe calendar appreciation --weeks 12\n\
         safe sync --remote git@example.org:us/journal.git",
    ),
    ("NOT THERAPY", crate::cli::NOT_THERAPY),
];

/// The whole page: clap_mangen's title, name, synopsis and options, then
/// every command from the same definitions `--help` shows, then ours.
pub fn page() -> Vec<u8> {
    let mut cmd = Cli::command();
    cmd.build();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out).expect("writing to memory");
    man.render_name_section(&mut out)
        .expect("writing to memory");
    man.render_synopsis_section(&mut out)
        .expect("writing to memory");
    let _ = writeln!(out, ".SH DESCRIPTION");
    paragraphs(&mut out, &about(&cmd));
    let _ = writeln!(out, ".SH OPTIONS");
    arguments(&mut out, &cmd, true);
    let _ = writeln!(out, ".SH COMMANDS");
    for sub in visible(&cmd) {
        command(&mut out, "safe", sub);
    }
    for (title, text) in SECTIONS {
        let _ = writeln!(out, ".SH \"{title}\"");
        if *title == "EXAMPLES" {
            // Commands, one a line, as typed.
            let _ = writeln!(out, ".nf");
            for line in text.lines() {
                let _ = writeln!(out, "{}", roff_escape(line));
            }
            let _ = writeln!(out, ".fi");
        } else {
            paragraphs(&mut out, text);
        }
    }
    man.render_version_section(&mut out)
        .expect("writing to memory");
    out
}

/// The subcommands a person uses (not `help`, nor hidden ones).
fn visible(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// What a command's `--help` says of it, its sentences whole (clap drops
/// the full stop of a one-line summary).
fn about(cmd: &clap::Command) -> String {
    let text = cmd
        .get_long_about()
        .or(cmd.get_about())
        .map(ToString::to_string)
        .unwrap_or_default();
    whole(&text)
}

/// `text` ending in a full stop, unless it ends a sentence already.
fn whole(text: &str) -> String {
    let text = text.trim_end();
    if text.is_empty() || text.ends_with(['.', '!', '?', ':']) || text.ends_with(".)") {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// One command: a subsection with its description, arguments and
/// examples, then its own subcommands.
fn command(out: &mut Vec<u8>, parent: &str, cmd: &clap::Command) {
    let path = format!("{parent} {}", cmd.get_name());
    let positionals: Vec<String> = cmd
        .get_positionals()
        .filter(|a| !a.is_hide_set())
        .map(|a| {
            let names = a
                .get_value_names()
                .map(|n| n.join(" "))
                .unwrap_or_else(|| a.get_id().to_string().to_uppercase());
            if a.is_required_set() {
                format!("<{names}>")
            } else {
                format!("[{names}]")
            }
        })
        .collect();
    let title = std::iter::once(path.clone())
        .chain(positionals)
        .collect::<Vec<_>>()
        .join(" ");
    let _ = writeln!(out, ".SS \"{}\"", roff_escape(&title).replace('"', "\\(dq"));
    paragraphs(out, &about(cmd));
    arguments(out, cmd, false);
    if let Some(after) = cmd.get_after_help() {
        let text = after.to_string();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            let _ = writeln!(out, ".PP\n{}\n.RS\n.nf", roff_escape(first));
            for line in lines {
                let _ = writeln!(out, "{}", roff_escape(line.trim_start()));
            }
            let _ = writeln!(out, ".fi\n.RE");
        }
    }
    for sub in visible(cmd) {
        command(out, &path, sub);
    }
}

/// A command's arguments and options, each with its help, whole. The
/// options every command takes (--data-dir, --help) are told once, at the
/// top (`root`).
fn arguments(out: &mut Vec<u8>, cmd: &clap::Command, root: bool) {
    for arg in cmd.get_arguments().filter(|a| {
        let everywhere = a.is_global_set() || matches!(a.get_id().as_str(), "help" | "version");
        !a.is_hide_set() && (root || !everywhere)
    }) {
        let name = match (arg.get_long(), arg.get_short()) {
            (Some(long), Some(short)) => {
                format!("\\fB\\-{short}\\fR, \\fB\\-\\-{}\\fR", roff_escape(long))
            }
            (Some(long), None) => format!("\\fB\\-\\-{}\\fR", roff_escape(long)),
            (None, Some(short)) => format!("\\fB\\-{short}\\fR"),
            (None, None) => format!(
                "\\fI<{}>\\fR",
                roff_escape(
                    &arg.get_value_names()
                        .map(|n| n.join(" "))
                        .unwrap_or_else(|| arg.get_id().to_string().to_uppercase())
                )
            ),
        };
        let value = if arg.is_positional() || !arg.get_action().takes_values() {
            String::new()
        } else {
            let names = arg
                .get_value_names()
                .map(|n| n.join(" "))
                .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
            format!(" \\fI{}\\fR", roff_escape(&names))
        };
        let help = arg
            .get_long_help()
            .or(arg.get_help())
            .map(ToString::to_string)
            .unwrap_or_default();
        let mut help = whole(&help);
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .filter(|v| !v.is_hide_set())
            .map(|v| v.get_name().to_string())
            .collect();
        if !values.is_empty() {
            help.push_str(&format!(" One of: {}.", values.join(", ")));
        }
        if let Some(default) = arg
            .get_default_values()
            .first()
            .filter(|_| arg.get_action().takes_values())
        {
            help.push_str(&format!(" Default: {}.", default.to_string_lossy()));
        }
        let help = roff_escape(&help).replace("\n\n", "\n.IP\n");
        let _ = writeln!(out, ".TP\n{name}{value}\n{help}");
    }
}

/// Paragraphs separated by blank lines or single newlines, each whole.
fn paragraphs(out: &mut Vec<u8>, text: &str) {
    for paragraph in text.split('\n').filter(|p| !p.trim().is_empty()) {
        let _ = writeln!(out, ".PP\n{}", roff_escape(paragraph.trim()));
    }
}

/// Keep text literal in roff: backslashes doubled, and a leading dot or
/// quote escaped so it is not read as a request.
fn roff_escape(text: &str) -> String {
    let text: String = text
        .replace('\\', "\\\\")
        .replace('-', "\\-")
        .chars()
        .map(|c| {
            // Any character beyond ASCII by its code point, which every
            // troff reads.
            if c.is_ascii() {
                c.to_string()
            } else {
                format!("\\[u{:04X}]", u32::from(c))
            }
        })
        .collect();
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}
