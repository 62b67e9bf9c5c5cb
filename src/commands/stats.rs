//! `safe stats`: counts, streaks and strength of my practices and an "Us"
//! section, as a table or as the JSON object of DESIGN.md §5; and the streak
//! line `safe log` ends with.

use anstyle::Style;
use chrono::{Days, NaiveDate};
use comfy_table::{
    Attribute, Cell, CellAlignment, ColumnConstraint, ContentArrangement, Table, Width, presets,
};

use super::Context;
use super::period::{Period, PeriodArgs};
use crate::domain::carry::PracticeCarry;
use crate::domain::goal::Goal;
use crate::domain::practice::Practice;
use crate::domain::streak::StreakUnit;
use crate::domain::summary::{self, DayIndex, PersonRef, PracticeStats, Request, Stats, Us};
use crate::domain::us::Trend;
use crate::error::Result;
use crate::render;
use crate::render::sanitize::sanitize_line;
use crate::store::config::Config;

/// Streaks, strength and counts of your practices: this week by default.
///
/// For each practice you have logged: your goal, how often in the period,
/// your current and best streak, and its strength, a score that grows with
/// each practice and fades slowly when you miss (as in Loop Habit Tracker).
/// Skipped and paused days keep streaks going and leave strength as it is.
///
/// "Us" shows the days you both practised and your repair moments, with how
/// quickly repairs came compared with the period before. Nothing here ranks
/// or compares one of you with the other.
///
/// --json prints a stable object for scripts; its fields are described in
/// the README.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe stats\n  safe stats --month\n  safe stats --since 2026-09-01 --until 2026-09-30\n  safe stats --all --json | jq '.practices[] | {id, strength}'"
)]
pub struct StatsArgs {
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Print the JSON object (for scripts) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also show each practice's strength over the last 12 weeks, as a
    /// sparkline (in --json: a `trend` list per practice, oldest week first).
    #[arg(long)]
    pub trend: bool,
}

/// Weeks shown by `--trend`.
const TREND_WEEKS: usize = 12;

pub fn cmd_stats(ctx: &mut Context<'_>, args: StatsArgs) -> Result<()> {
    let trend_weeks = if args.trend { TREND_WEEKS } else { 0 };
    // The figures of a period read its days and a few weeks around it;
    // the years before come as carries (`domain::carry`).
    let mut resolved = None;
    let (view, config, carried) = ctx.stats_view(|config| {
        let period = args.period.resolve(ctx, config.week_start)?;
        let earliest = (!period.all).then(|| {
            let previous = period.previous().days();
            summary::earliest(
                config.week_start,
                ctx.today,
                period.days(),
                previous,
                trend_weeks,
            )
        });
        resolved = Some(period);
        Ok(earliest)
    })?;
    let period = resolved.expect("resolved with the settings");
    let catalogue = view.practices.catalogue(&config.id);
    let index = view.day_index();
    // `--all` starts where the journal does.
    let from = if period.all {
        index.first_day().unwrap_or(ctx.today).min(period.to)
    } else {
        period.from
    };
    let range = Period {
        from,
        to: period.to,
        all: false,
    };
    let previous = range.previous();
    let me = PersonRef {
        id: config.id.clone(),
        name: config.name.clone(),
    };
    let mut stats = summary::stats(
        &index,
        Request {
            me: &me,
            week_start: config.week_start,
            catalogue: &catalogue,
            today: ctx.today,
            period: range.days(),
            previous: previous.days(),
            trend_weeks,
            carried: carried.as_ref(),
        },
    );
    stats.us.partner_as_of = partner_as_of(ctx, &view);
    if args.json {
        render::json::to_writer_pretty(&mut *ctx.out, &stats)?;
        writeln!(ctx.out)?;
        return Ok(());
    }
    let words = Words::of(&args.period, &stats);
    // Whether today is already a day together, to say which day a
    // together streak runs to.
    let done_today = |days: &[chrono::NaiveDate]| days.binary_search(&ctx.today).is_ok();
    let together_today = done_today(&index.person(&config.id).active)
        && index.others(&config.id).any(|p| done_today(&p.active));
    show(ctx, &stats, &words, together_today)
}

/// The line `safe log` ends with: the practice's streak, gently worded, or
/// `None` for a practice without a goal or without a current streak.
///
/// `index` holds the practice's days, from the year of `carry`'s day on
/// when there is one (see `Session::my_streak_days`).
pub fn streak_line(
    ctx: &mut Context<'_>,
    config: &Config,
    practice: &Practice,
    (index, carry): &(DayIndex, Option<(NaiveDate, PracticeCarry)>),
) -> Result<Option<String>> {
    if !practice.goal.has_streak() {
        return Ok(None);
    }
    let (me, week_start, today) = (&config.id, config.week_start, ctx.today);
    let carry = carry.as_ref().map(|(through, c)| (*through, &c.streak));
    let Some(current) = summary::practice_streak(index, me, practice, (week_start, today), carry)
        .map(|(run, _)| run.current)
    else {
        return Ok(None);
    };
    let logged = index.person(me).logged_days(&practice.id);
    let this_week = crate::domain::streak::days_this_week(logged, week_start, today);
    let id = sanitize_line(&practice.id);
    let line = match practice.goal {
        Goal::PerWeek(n) => {
            let met = this_week >= u32::from(n);
            let mut line = format!("{id}: {}", week_progress(this_week, n));
            if met {
                line.push_str(", goal met");
            }
            match current {
                0 => {}
                1 if met => line.push_str(" · week 1 of a new streak"),
                1 => line.push_str(" · goal met last week"),
                weeks => line.push_str(&format!(" · {weeks} weeks in a row")),
            }
            line
        }
        _ => match current {
            0 => return Ok(None),
            1 => format!("{id}: day 1 of a new streak"),
            days => format!("{id}: {days} days in a row"),
        },
    };
    Ok(Some(line))
}

/// How far along a weekly goal is: "1 of 3 this week", and once past the
/// goal "4 this week (goal 3)" rather than "4 of 3".
pub fn week_progress(days: u32, goal: u8) -> String {
    if days > u32::from(goal) {
        format!("{days} this week (goal {goal})")
    } else {
        format!("{days} of {goal} this week")
    }
}

/// How the period is named in sentences: "this week", "last week".
struct Words {
    title: String,
    /// "this week", "in this period", "so far".
    now: String,
    /// Whether the period is the whole journal (`--all`).
    all: bool,
    /// Whether the period is this week: the table then shows the week's
    /// progress rather than rates.
    week_view: bool,
    /// "last week", or `None` when there is nothing before to compare with.
    before: Option<String>,
}

impl Words {
    fn of(args: &PeriodArgs, stats: &Stats) -> Words {
        let (from, to) = (stats.period.from, stats.period.to);
        let (title, now, before) = if args.all {
            (
                format!("Since {}", from.format("%-d %b %Y")),
                "so far".to_string(),
                None,
            )
        } else if args.since.is_some() {
            let days = (to - from).num_days() + 1;
            let title = format!(
                "{} to {}",
                from.format("%a %-d %b %Y"),
                to.format("%a %-d %b %Y")
            );
            let plural = if days == 1 { "day" } else { "days" };
            (
                title,
                "in this period".to_string(),
                Some(format!("the {days} {plural} before")),
            )
        } else if args.month {
            (
                format!("This month, {}", from.format("%B %Y")),
                "this month".to_string(),
                Some("last month".to_string()),
            )
        } else if args.year {
            (
                format!("This year, {}", from.format("%Y")),
                "this year".to_string(),
                Some("last year".to_string()),
            )
        } else {
            let title = format!(
                "This week, {} to {}",
                from.format("%a %-d %b"),
                to.format("%a %-d %b %Y")
            );
            (
                title,
                "this week".to_string(),
                Some("last week".to_string()),
            )
        };
        Words {
            title,
            now,
            before,
            all: args.all,
            week_view: !(args.all || args.since.is_some() || args.month || args.year),
        }
    }
}

fn show(ctx: &mut Context<'_>, stats: &Stats, words: &Words, together_today: bool) -> Result<()> {
    let bold = if ctx.color {
        Style::new().bold()
    } else {
        Style::new()
    };
    writeln!(ctx.out, "{bold}{}{bold:#}", words.title)?;
    writeln!(ctx.out)?;
    if stats.practices.is_empty() {
        writeln!(
            ctx.out,
            "Nothing logged yet. `safe log appreciation` records your first practice."
        )?;
    } else {
        let table = table(&stats.practices, words.week_view, stats.today, ctx.color);
        writeln!(ctx.out, "{table}")?;
        trend_lines(ctx, &stats.practices, bold)?;
    }
    writeln!(ctx.out)?;
    writeln!(ctx.out, "{bold}Us{bold:#}")?;
    // Sentences wrap at words on a narrow terminal, under themselves.
    let room = render::width().map_or(usize::MAX, |w| usize::from(w).saturating_sub(4).max(20));
    for line in us_lines(&stats.us, words, together_today, stats.today) {
        for (i, part) in render::wrap(&line, room).iter().enumerate() {
            let indent = if i == 0 { "  " } else { "    " };
            writeln!(ctx.out, "{indent}{part}")?;
        }
    }
    Ok(())
}

/// `--trend`: one sparkline of strength per practice with a goal.
fn trend_lines(ctx: &mut Context<'_>, practices: &[PracticeStats], bold: Style) -> Result<()> {
    let rows: Vec<&PracticeStats> = practices.iter().filter(|p| p.trend.is_some()).collect();
    if rows.is_empty() {
        return Ok(());
    }
    writeln!(ctx.out)?;
    writeln!(
        ctx.out,
        "{bold}Strength, the last {TREND_WEEKS} weeks{bold:#} (oldest first; · before the first log)"
    )?;
    let width = rows.iter().map(|p| p.id.chars().count()).max().unwrap_or(0);
    for p in rows {
        let now = p
            .strength
            .map_or_else(String::new, |s| format!("{:.0}%", s * 100.0));
        let trend = p.trend.as_deref().unwrap_or_default();
        writeln!(
            ctx.out,
            "  {:<width$}  {}  {now}",
            sanitize_line(&p.id),
            render::sparkline(trend)
        )?;
    }
    Ok(())
}

/// Strength says little before this much history: until then it reads
/// "building".
const SETTLING_DAYS: u64 = 14;

/// The stats table, fitted to the terminal: on a narrow one the gap
/// between columns shrinks to one space, then the rate's unit wraps;
/// names, goals and numbers stay whole.
fn table(practices: &[PracticeStats], week_view: bool, today: NaiveDate, color: bool) -> String {
    let build = |padding, fit: Option<u16>| {
        render::table_text(&build_table(
            practices, week_view, today, color, padding, fit,
        ))
    };
    let Some(width) = render::width() else {
        return build(1, None);
    };
    [build(1, None), build(0, None)]
        .into_iter()
        .find(|text| render::widest_line(text) <= usize::from(width))
        .unwrap_or_else(|| build(0, Some(width)))
}

fn build_table(
    practices: &[PracticeStats],
    week_view: bool,
    today: NaiveDate,
    color: bool,
    padding: u16,
    fit: Option<u16>,
) -> Table {
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    match fit {
        Some(width) => table
            .set_width(width)
            .set_content_arrangement(ContentArrangement::Dynamic),
        None => table.set_content_arrangement(ContentArrangement::Disabled),
    };
    if color {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    let progress = if week_view { "this week" } else { "goal met" };
    table.set_header(vec![
        "practice", "goal", "count", progress, "streak", "best", "strength",
    ]);
    for p in practices {
        let unit = p.streak_unit.unwrap_or(StreakUnit::Day);
        let streak = |n: Option<u32>| n.map_or_else(|| "–".to_string(), |n| run_length(n, unit));
        let building = p
            .first_day
            .is_some_and(|first| first + Days::new(SETTLING_DAYS) > today);
        let strength = match p.strength {
            None => "–".to_string(),
            Some(_) if building => "building".to_string(),
            Some(s) => format!("{:.0}%", s * 100.0),
        };
        let cells = [
            sanitize_line(&p.id).into_owned(),
            p.goal.to_string(),
            p.count.to_string(),
            progress_cell(p, week_view),
            streak(p.current_streak),
            streak(p.best_streak),
            strength,
        ];
        // A practice with nothing in the period fades, in colour only.
        table.add_row(cells.map(|text| {
            let cell = Cell::new(text);
            if color && p.count == 0 {
                cell.add_attribute(Attribute::Dim)
            } else {
                cell
            }
        }));
    }
    // The longest "9 of 22" of the rate column: its unit may wrap, never
    // its numbers.
    let numbers = table
        .column_cells_iter(3)
        .flatten()
        .map(|c| {
            let text = c.content();
            ["days", "day", "weeks", "week"]
                .iter()
                .find_map(|unit| text.strip_suffix(unit))
                .unwrap_or(&text)
                .trim_end()
                .chars()
                .count()
        })
        .max()
        .unwrap_or(0)
        .max(4);
    let numbers = u16::try_from(numbers).unwrap_or(u16::MAX);
    // Fitting a narrow terminal: the rate keeps only its numbers on a line,
    // and the practice names get what is left (a long custom name wraps).
    let gap = 1 + 2 * padding;
    let contents = table.column_max_content_widths();
    let others: u16 = contents
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 0 && *i != 3)
        .map(|(_, w)| w + gap)
        .sum();
    let names = fit.map(|width| {
        width
            .saturating_sub(others + numbers + gap)
            .max(contents[0].min(12) + gap)
    });
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_padding((if index == 0 { padding } else { 0 }, 1 + padding));
        match (index, names) {
            (0, Some(names)) => {
                column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(names)))
            }
            (3, Some(_)) => {
                column.set_constraint(ColumnConstraint::Absolute(Width::Fixed(numbers + gap)))
            }
            _ => column.set_constraint(ColumnConstraint::ContentWidth),
        };
        if index == 6 {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    table
}

/// The goal column's companion: in the week view how far along this
/// week is ("1 of 3"), else how often the goal was met ("9 of 22 days").
fn progress_cell(p: &PracticeStats, week_view: bool) -> String {
    match (p.goal, week_view) {
        (Goal::PerWeek(n), true) => {
            let days = p.days_this_week;
            if days > u32::from(n) {
                format!("{days} (goal {n})")
            } else {
                format!("{days} of {n}")
            }
        }
        _ => match p.rate {
            Some(rate) if rate.of > 0 => {
                let unit = match (rate.unit, rate.of) {
                    (StreakUnit::Day, 1) => "day",
                    (StreakUnit::Day, _) => "days",
                    (StreakUnit::Week, 1) => "week",
                    (StreakUnit::Week, _) => "weeks",
                };
                format!("{} of {} {unit}", rate.met, rate.of)
            }
            _ => "–".to_string(),
        },
    }
}

/// "1 day", "6 days", "4 weeks".
fn run_length(n: u32, unit: StreakUnit) -> String {
    let word = match (unit, n) {
        (StreakUnit::Day, 1) => "day",
        (StreakUnit::Day, _) => "days",
        (StreakUnit::Week, 1) => "week",
        (StreakUnit::Week, _) => "weeks",
    };
    format!("{n} {word}")
}

/// My partner's name and the day of the newest line of theirs here, in
/// my time zone: how recent the figures about us are.
fn partner_as_of(
    ctx: &Context<'_>,
    view: &crate::journal::view::View,
) -> Option<(String, chrono::NaiveDate)> {
    let partner = view.state.history.keys().find(|p| **p != view.me)?;
    let ms = summary::heard_from(&view.state, partner)?;
    let at = chrono::DateTime::from_timestamp_millis(i64::try_from(ms).ok()?)?;
    let day = at.with_timezone(ctx.now.offset()).date_naive();
    Some((super::name_of(&view.people, partner), day.min(ctx.today)))
}

/// The "Us" section in words: about the two of you, never one against the other.
fn us_lines(us: &Us, words: &Words, together_today: bool, today: chrono::NaiveDate) -> Vec<String> {
    let mut lines = Vec::new();
    if us.with_partner {
        let days = match us.together_days {
            0 if words.all => {
                "No days together yet; any small practice from each of you counts.".to_string()
            }
            0 => format!(
                "No days together yet {}; any small practice from each of you counts.",
                words.now
            ),
            1 => format!("You both practised on 1 day {}.", words.now),
            n => format!("You both practised on {n} days {}.", words.now),
        };
        lines.push(days);
        // A together streak runs to today, or to yesterday while today is
        // still open.
        match (us.together_streak, together_today) {
            (0, _) => {}
            (1, true) => lines.push("You both practised today.".to_string()),
            (1, false) => lines.push("You both practised yesterday.".to_string()),
            (n, true) => lines.push(format!("{n} days in a row together, up to today.")),
            (n, false) => lines.push(format!("{n} days in a row together, up to yesterday.")),
        }
    } else {
        lines.push(
            "Sync with your partner to see your days together (`safe sync --remote URL`)."
                .to_string(),
        );
    }
    let repairs = &us.repairs;
    let mut line = match repairs.count {
        0 if words.all => "No repair moments logged yet".to_string(),
        0 => format!("No repair moments logged {}", words.now),
        1 => format!("1 repair moment {}", words.now),
        n => format!("{n} repair moments {}", words.now),
    };
    if let Some(median) = repairs.median_took_minutes {
        let took = super::describe_minutes(median.round() as u32);
        line.push_str(&if repairs.count == 1 {
            format!(", repaired in {took}")
        } else {
            format!(", repaired in {took} at the median")
        });
        if let (Some(before), Some(previous)) =
            (&words.before, repairs.previous_median_took_minutes)
        {
            let then = super::describe_minutes(previous.round() as u32);
            match Trend::between(Some(previous), Some(median)) {
                Trend::Faster => line.push_str(&format!(": faster than {before} ({then})")),
                Trend::Same => line.push_str(&format!(": as quick as {before}")),
                Trend::Slower => {
                    line.push_str(&format!(" ({before}: {then}); every repair counts"))
                }
                Trend::Unknown => {}
            }
        }
    }
    line.push('.');
    lines.push(line);
    if let Some((name, day)) = &us.partner_as_of {
        let when = match super::describe_day(today, *day) {
            when if when.starts_with("on ") => when[3..].to_string(),
            when => when,
        };
        lines.push(format!(
            "As of {name}'s newest change here, {when}; `safe sync` brings anything newer."
        ));
    }
    lines
}
