//! `safe review`: the week (or month) together, for the weekly state-of-us
//! talk. The figures come from `domain::review`; this file gathers what we
//! shared and prints.

use std::io::IsTerminal;

use anstyle::Style;

use super::Context;
use super::history::seen_between;
use super::period::PeriodArgs;
use crate::domain::entry::Kind;
use crate::domain::review::{self, Review, ReviewRequest, Shared};
use crate::domain::summary::DayRange;
use crate::error::Result;
use crate::render;
use crate::render::sanitize::sanitize_line;

/// The week together, for your weekly state-of-us talk.
///
/// Days you both practised against the week before, repair moments and how
/// fast they were, the appreciations and notes you shared with each other,
/// a trend over the last 12 weeks, and one conversation card for the talk
/// (the same card on both your machines). It never compares one of you
/// with the other. On a terminal it offers to log `state-of-us` at the end.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe review\n  safe review --month\n  safe review --json")]
pub struct ReviewArgs {
    /// This calendar week (the default).
    #[arg(long, conflicts_with = "month")]
    pub week: bool,
    /// This calendar month.
    #[arg(long)]
    pub month: bool,
    /// Print the review as JSON (the object is described in the README).
    #[arg(long)]
    pub json: bool,
}

pub fn cmd_review(ctx: &mut Context<'_>, args: ReviewArgs) -> Result<()> {
    let (view, config) = ctx.view()?;
    let period = PeriodArgs {
        week: args.week,
        month: args.month,
        year: false,
        all: false,
        since: None,
        until: None,
    }
    .resolve(ctx, config.week_start)?;
    let previous = period.previous();
    let people = &view.people;
    let shared = seen_between(&view, period.from, period.to)
        .into_iter()
        .filter(|s| !s.private && s.entry.kind == Kind::Log)
        .filter_map(|s| {
            let mine = s.entry.author == config.id;
            // My own note counts only when I shared it.
            let note = s.entry.note.filter(|_| !mine || s.note_shared);
            let appreciation = s.entry.practice == "appreciation";
            (appreciation || note.is_some()).then(|| Shared {
                day: s.entry.day,
                who: if mine {
                    "me".to_string()
                } else {
                    super::name_of(people, &s.entry.author)
                },
                practice: s.entry.practice,
                note,
            })
        })
        .collect();
    let index = view.day_index();
    let view = review::review(
        &index,
        ReviewRequest {
            me: &config.id,
            week_start: config.week_start,
            today: ctx.today,
            period: period.days(),
            previous: previous.days(),
            shared,
        },
    );
    if args.json {
        render::json::to_writer_pretty(&mut *ctx.out, &view)?;
        writeln!(ctx.out)?;
        return Ok(());
    }
    let unit = if args.month { "month" } else { "week" };
    show(ctx, &view, unit)?;
    offer_state_of_us(ctx)
}

fn show(ctx: &mut Context<'_>, view: &Review, unit: &str) -> Result<()> {
    let bold = if ctx.color {
        Style::new().bold()
    } else {
        Style::new()
    };
    let span = |r: DayRange| {
        format!(
            "{} to {}",
            r.from.format("%a %-d %b"),
            r.to.format("%a %-d %b %Y")
        )
    };
    writeln!(
        ctx.out,
        "{bold}The {unit} together{bold:#}, {}",
        span(view.period)
    )?;
    writeln!(ctx.out)?;
    if !view.with_partner {
        writeln!(
            ctx.out,
            "  Sync with your partner to see your {unit} together (`safe sync --remote URL`)."
        )?;
    } else {
        writeln!(
            ctx.out,
            "  Days we both practised   {} (last {unit} {})",
            view.together_days.now, view.together_days.before
        )?;
    }
    let repairs = match (view.repairs.now, view.median_repair_minutes.now) {
        (0, _) => "none".to_string(),
        (n, Some(m)) => format!("{n}, repaired in {} (median)", minutes(m)),
        (n, None) => n.to_string(),
    };
    let before = match (view.repairs.before, view.median_repair_minutes.before) {
        (0, _) => "none".to_string(),
        (n, Some(m)) => format!("{n}, {}", minutes(m)),
        (n, None) => n.to_string(),
    };
    writeln!(
        ctx.out,
        "  Repair moments           {repairs} (last {unit}: {before})"
    )?;

    writeln!(ctx.out)?;
    writeln!(ctx.out, "{bold}What we shared{bold:#}")?;
    if view.shared.is_empty() {
        writeln!(
            ctx.out,
            "  Nothing yet this {unit}. An appreciation is a good place to start."
        )?;
    }
    let limit = render::cell_limit().saturating_sub(30).max(20);
    let who_width = view
        .shared
        .iter()
        .map(|s| sanitize_line(&s.who).chars().count())
        .max()
        .unwrap_or(0);
    let what_width = view
        .shared
        .iter()
        .map(|s| s.practice.chars().count())
        .max()
        .unwrap_or(0);
    for s in &view.shared {
        let note = s
            .note
            .as_deref()
            .map(|n| format!("  \"{}\"", render::truncate(&sanitize_line(n), limit)))
            .unwrap_or_default();
        let line = format!(
            "  {:<6}  {:<who_width$}  {:<what_width$}{note}",
            s.day.format("%a %-d").to_string(),
            sanitize_line(&s.who),
            sanitize_line(&s.practice)
        );
        writeln!(ctx.out, "{}", line.trim_end())?;
    }

    writeln!(ctx.out)?;
    writeln!(
        ctx.out,
        "{bold}The last {} weeks{bold:#} (oldest first)",
        view.trend.len()
    )?;
    let together: Vec<Option<f64>> = view
        .trend
        .iter()
        .map(|w| Some(f64::from(w.together_days) / 7.0))
        .collect();
    let slowest = view
        .trend
        .iter()
        .filter_map(|w| w.median_repair_minutes)
        .fold(0.0_f64, f64::max);
    let repair: Vec<Option<f64>> = view
        .trend
        .iter()
        .map(|w| {
            w.median_repair_minutes
                .map(|m| if slowest > 0.0 { m / slowest } else { 0.0 })
        })
        .collect();
    writeln!(ctx.out, "  days together  {}", render::sparkline(&together))?;
    writeln!(
        ctx.out,
        "  repair time    {}  (lower is faster; · no repair that week)",
        render::sparkline(&repair)
    )?;

    writeln!(ctx.out)?;
    writeln!(
        ctx.out,
        "{bold}A card for the talk{bold:#} ({})",
        view.card.id
    )?;
    writeln!(ctx.out, "  {}", view.card.prompt)?;
    Ok(())
}

/// On a terminal, offer to log the talk itself; elsewhere say how.
fn offer_state_of_us(ctx: &mut Context<'_>) -> Result<()> {
    writeln!(ctx.out)?;
    if !(std::io::stdin().is_terminal() && std::io::stdout().is_terminal()) {
        writeln!(
            ctx.out,
            "After your talk: `safe log state-of-us` records it."
        )?;
        return Ok(());
    }
    write!(
        ctx.out,
        "Did you have your state-of-us talk? Log it now? [y/N] "
    )?;
    ctx.out.flush()?;
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| crate::error::Error::input(format!("could not read the answer: {e}")))?;
    if matches!(answer.trim(), "y" | "Y" | "yes" | "Yes") {
        super::log::cmd_log(
            ctx,
            super::log::LogArgs {
                practice: "state-of-us".into(),
                note: None,
                date: "today".into(),
                took: None,
                private: false,
                share_note: false,
                keep_note: false,
                rupture_at: None,
                again: false,
                once_a_day: true,
                card: None,
            },
        )?;
    }
    Ok(())
}

/// 45 -> "45m", 150 -> "2h30m" (medians may be halves: rounded).
fn minutes(m: f64) -> String {
    super::describe_minutes(m.round() as u32)
}
