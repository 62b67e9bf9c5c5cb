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
        "ENVIRONMENT",
        "SAFE_DATA_DIR moves the data directory. SAFE_NOW (an RFC 3339 time or YYYY-MM-DD) fixes \"now\", for reproducible output and tests. NO_COLOR turns colour off; output that is not a terminal is plain anyway.",
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

/// The whole page: clap_mangen's sections, then ours.
pub fn page() -> Vec<u8> {
    let cmd = Cli::command();
    let man = clap_mangen::Man::new(cmd.clone());
    let mut out = Vec::new();
    man.render_title(&mut out).expect("writing to memory");
    man.render_name_section(&mut out)
        .expect("writing to memory");
    man.render_synopsis_section(&mut out)
        .expect("writing to memory");
    man.render_description_section(&mut out)
        .expect("writing to memory");
    man.render_options_section(&mut out)
        .expect("writing to memory");
    man.render_subcommands_section(&mut out)
        .expect("writing to memory");
    for (title, text) in SECTIONS {
        let _ = writeln!(out, ".SH \"{title}\"");
        for paragraph in text.split('\n') {
            let _ = writeln!(out, ".PP\n{}", roff_escape(paragraph));
        }
    }
    man.render_version_section(&mut out)
        .expect("writing to memory");
    out
}

/// Keep text literal in roff: backslashes doubled, and a leading dot or
/// quote escaped so it is not read as a request.
fn roff_escape(text: &str) -> String {
    let text = text.replace('\\', "\\\\").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}
