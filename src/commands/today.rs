//! `safe today`: what I logged today, the daily practices still open, and
//! how far along this week's goals are; or one short line for a prompt.

use anstyle::{AnsiColor, Style};

use super::Context;
use crate::domain::summary::{self, TodayView};
use crate::error::Result;
use crate::render::sanitize::sanitize_line;
use crate::store::rituals::TimeOut;

/// What you did today and what is still open.
///
/// Lists what you logged today, the daily practices not yet done (skipped
/// and paused ones rest), how far along your weekly goals are, and the time
/// you agreed to come back to a repair after a time-out. --short prints one
/// line, for a shell prompt.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe today\n  safe today --short        # safe: 2 done · 2 open"
)]
pub struct TodayArgs {
    /// One short line, for a shell prompt.
    #[arg(long)]
    pub short: bool,
}

pub fn cmd_today(ctx: &mut Context<'_>, args: TodayArgs) -> Result<()> {
    // This week is all it shows: it began at most six days ago.
    let week_ago = ctx.today - chrono::Days::new(6);
    let (view, config) = ctx.light_view_since(week_ago)?;
    let catalogue = view.practices.catalogue(&config.id);
    let index = view.day_index();
    let view = summary::today(&index, &config.id, &catalogue, config.week_start, ctx.today);
    // A repair paused with a time-out (`safe repair`) waits for you both.
    let time_out = super::repair::pending_time_out(ctx)?;
    if args.short {
        return short(ctx, &view, time_out.as_ref());
    }
    let about = |id: &str| {
        catalogue
            .iter()
            .find(|p| p.id == id)
            .map(|p| sanitize_line(&p.about).into_owned())
    };
    let (bold, done, dim) = styles(ctx.color);

    writeln!(
        ctx.out,
        "{bold}Today, {}{bold:#}",
        ctx.today.format("%A %-d %B")
    )?;
    if let Some(time_out) = &time_out {
        writeln!(
            ctx.out,
            "  Repair: you agreed to come back at {} ({}); `safe repair` when you are both ready.",
            time_out.back_at.format("%H:%M"),
            crate::domain::repair_dialogue::from_now(time_out.back_at, ctx.now)
        )?;
    }
    if view.done.is_empty() {
        writeln!(
            ctx.out,
            "  Nothing logged yet today. `safe log <PRACTICE>` when you are ready."
        )?;
    }
    for (id, count) in &view.done {
        let times = if *count > 1 {
            format!(" ×{count}")
        } else {
            String::new()
        };
        writeln!(ctx.out, "  {done}✓{done:#} {}{times}", sanitize_line(id))?;
    }

    if !view.open.is_empty() {
        writeln!(ctx.out)?;
        writeln!(ctx.out, "{bold}Still open today{bold:#}")?;
        let width = view
            .open
            .iter()
            .map(|id| id.chars().count())
            .max()
            .unwrap_or(0);
        // The meaning wraps under itself on a narrow terminal.
        let indent = 4 + width + 2;
        let room =
            crate::render::width().map_or(usize::MAX, |w| usize::from(w).saturating_sub(indent));
        for id in &view.open {
            let id_text = sanitize_line(id);
            let lines = about(id).map_or_else(Vec::new, |about| {
                if room < MIN_ABOUT_WIDTH {
                    Vec::new()
                } else {
                    crate::render::wrap(&about, room)
                }
            });
            match lines.split_first() {
                Some((first, rest)) => {
                    writeln!(ctx.out, "  ○ {id_text:<width$}  {dim}{first}{dim:#}")?;
                    for line in rest {
                        writeln!(ctx.out, "{:indent$}{dim}{line}{dim:#}", "")?;
                    }
                }
                None => writeln!(ctx.out, "  ○ {id_text}")?,
            }
        }
    } else if !view.done.is_empty() {
        writeln!(ctx.out)?;
        writeln!(ctx.out, "Every daily practice is done or resting today.")?;
    }
    if !view.resting.is_empty() {
        let names: Vec<String> = view
            .resting
            .iter()
            .map(|id| sanitize_line(id).into_owned())
            .collect();
        writeln!(
            ctx.out,
            "  {dim}Resting today (skipped or paused): {}{dim:#}",
            names.join(", ")
        )?;
    }

    if !view.weekly.is_empty() {
        writeln!(ctx.out)?;
        writeln!(ctx.out, "{bold}This week{bold:#}")?;
        let width = view
            .weekly
            .iter()
            .map(|w| w.practice.chars().count())
            .max()
            .unwrap_or(0);
        for week in &view.weekly {
            let mark = if week.met() {
                format!(" {done}✓{done:#}")
            } else {
                String::new()
            };
            let id_text = sanitize_line(&week.practice);
            let progress = super::stats::week_progress(week.days, week.goal);
            writeln!(ctx.out, "  {id_text:<width$}  {progress}{mark}")?;
        }
    }
    Ok(())
}

/// Narrower than this, a practice's meaning is left out rather than
/// broken into scraps.
const MIN_ABOUT_WIDTH: usize = 16;

/// One line for a prompt: "safe: 2 done · 2 open", and a repair's time
/// to come back while one waits: "· repair at 21:40".
fn short(ctx: &mut Context<'_>, view: &TodayView, time_out: Option<&TimeOut>) -> Result<()> {
    let (_, done, _) = styles(ctx.color);
    let repair = time_out.map_or_else(String::new, |t| {
        format!(" · repair at {}", t.back_at.format("%H:%M"))
    });
    writeln!(
        ctx.out,
        "safe: {done}{} done{done:#} · {} open{repair}",
        view.done.len(),
        view.open.len()
    )?;
    Ok(())
}

/// Bold headings, green ticks, dim descriptions; all plain without colour.
fn styles(color: bool) -> (Style, Style, Style) {
    if color {
        (
            Style::new().bold(),
            Style::new().fg_color(Some(AnsiColor::Green.into())),
            Style::new().dimmed(),
        )
    } else {
        (Style::new(), Style::new(), Style::new())
    }
}
