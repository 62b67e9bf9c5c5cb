//! `safe practice`: the catalogue, custom practices and my goals.

use comfy_table::{ColumnConstraint, Table, Width, presets};

use super::session::Staged;
use super::{Context, auto_sync, known_practice};
use crate::domain::goal::Goal;
use crate::domain::practice::{BUILTIN, valid_id};
use crate::domain::record::{GoalRecord, PracticeRecord, Record, Rev};
use crate::error::{Error, Result};
use crate::render::sanitize::sanitize_line;

/// List practices, add your own, and set your goals.
///
/// Goals are personal: `daily`, `N/week` (e.g. `3/week`) or `none` (tracked,
/// without a streak). Changing yours never changes your partner's.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe practice list\n  safe practice add read-aloud --goal 2/week --about \"read to each other\"\n  safe practice goal appreciation 5/week\n  safe practice retire long-kiss"
)]
pub struct PracticeArgs {
    #[command(subcommand)]
    pub command: PracticeCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PracticeCommand {
    /// Show every practice with your goal for it.
    #[command(after_help = "Examples:\n  safe practice list\n  safe practice list --all")]
    List {
        /// Include practices you retired.
        #[arg(long)]
        all: bool,
    },
    /// Add a practice both of you can log.
    #[command(
        after_help = "Examples:\n  safe practice add read-aloud --goal 2/week --about \"read to each other\"\n  safe practice add walk"
    )]
    Add {
        /// A short id: lowercase words joined by dashes, e.g. read-aloud.
        id: String,
        /// Your goal for it: daily, N/week or none.
        #[arg(long, short, default_value = "none")]
        goal: Goal,
        /// What it means, in a few words.
        #[arg(long, short, default_value = "")]
        about: String,
    },
    /// Set your goal for a practice: daily, N/week or none.
    #[command(
        after_help = "Examples:\n  safe practice goal appreciation 5/week\n  safe practice goal long-kiss daily\n  safe practice goal date none"
    )]
    Goal {
        /// The practice, e.g. appreciation (`safe practice list` shows them).
        #[arg(add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
        id: String,
        /// daily, N/week (e.g. 3/week), or none (tracked, without a streak).
        goal: Goal,
    },
    /// Stop tracking a practice; its history stays. `safe practice goal` brings it back.
    #[command(after_help = "Examples:\n  safe practice retire long-kiss")]
    Retire {
        /// The practice to retire.
        #[arg(add = clap_complete::ArgValueCandidates::new(super::completions::practice_candidates))]
        id: String,
    },
}

pub fn cmd_practice(ctx: &mut Context<'_>, args: PracticeArgs) -> Result<()> {
    match args.command {
        PracticeCommand::List { all } => list(ctx, all),
        PracticeCommand::Add { id, goal, about } => add(ctx, id, goal, about),
        PracticeCommand::Goal { id, goal } => set_goal(ctx, &id, goal, false),
        PracticeCommand::Retire { id } => set_goal(ctx, &id, Goal::None, true),
    }
}

fn list(ctx: &mut Context<'_>, all: bool) -> Result<()> {
    let (view, config) = ctx.view()?;
    let practices = view.practices;
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    crate::render::fit(&mut table);
    table.set_header(vec!["practice", "goal", "group", "what it means"]);
    for p in practices
        .catalogue(&config.id)
        .into_iter()
        .filter(|p| all || !p.retired)
    {
        let goal = if p.retired {
            format!("{} (retired)", p.goal)
        } else {
            p.goal.to_string()
        };
        table.add_row(vec![
            sanitize_line(&p.id).into_owned(),
            goal,
            p.group,
            sanitize_line(&p.about).into_owned(),
        ]);
    }
    // On a narrow terminal the meaning wraps at words; the rest stays whole.
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_constraint(if index == 3 {
            ColumnConstraint::LowerBoundary(Width::Fixed(12))
        } else {
            ColumnConstraint::ContentWidth
        });
    }
    writeln!(ctx.out, "{}", crate::render::table_text(&table))?;
    Ok(())
}

fn add(ctx: &mut Context<'_>, id: String, goal: Goal, about: String) -> Result<()> {
    if !valid_id(&id) {
        return Err(Error::input(format!("`{id}` is not a usable practice id"))
            .with_hint("use 2 to 32 lowercase letters, digits and dashes, e.g. `read-aloud`"));
    }
    let about = about.trim();
    let max = crate::domain::limits::MAX_ABOUT_CHARS;
    if about.chars().count() > max
        || about
            .chars()
            .any(|c| c.is_control() || crate::domain::limits::is_unsafe_beyond_c0(c))
    {
        return Err(Error::input(format!(
            "a description is one line of at most {max} characters"
        ))
        .with_hint("say in a few words what the practice means"));
    }
    let mut session = ctx.session()?;
    let practices = &session.view.practices;
    if BUILTIN.iter().any(|b| b.0 == id) || practices.practices.iter().any(|p| p.id == id) {
        return Err(
            Error::input(format!("there is already a practice called `{id}`")).with_hint(format!(
                "set your goal for it with `safe practice goal {id} <GOAL>`"
            )),
        );
    }
    let record = Record::Practice(PracticeRecord {
        id: id.clone(),
        about: about.to_string(),
        goal,
        rev: Rev::default(),
    });
    session.write(ctx, vec![Staged::Shared(record, None)])?;
    writeln!(
        ctx.out,
        "Added {id} (your goal: {goal}). Your partner sees it after the next sync."
    )?;
    auto_sync(ctx, &mut session);
    Ok(())
}

fn set_goal(ctx: &mut Context<'_>, id: &str, goal: Goal, retire: bool) -> Result<()> {
    let mut session = ctx.session()?;
    let practice = known_practice(&session.view.practices, &session.config.id, id)?;
    let id = practice.id.as_str();
    // Retiring keeps the goal, so bringing the practice back restores it.
    let goal = if retire { practice.goal } else { goal };
    let record = Record::Goal(GoalRecord {
        practice: id.to_string(),
        goal,
        retired: retire,
        rev: Rev::default(),
    });
    session.write(ctx, vec![Staged::Shared(record, None)])?;
    if retire {
        writeln!(
            ctx.out,
            "Retired {id}. Its history stays; `safe practice goal {id} {goal}` brings it back."
        )?;
    } else {
        writeln!(ctx.out, "Your goal for {id} is now {goal}.")?;
    }
    auto_sync(ctx, &mut session);
    Ok(())
}
