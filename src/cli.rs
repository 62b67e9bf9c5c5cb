//! The command line, declared with clap. Doc comments here are the help text.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::commands;

/// Shown under the top-level help: what safe is not, and where to get help.
/// One line: clap wraps it to the terminal.
pub const NOT_THERAPY: &str = "safe is a journal for practice, not therapy. If you feel afraid of your partner, please reach out: in the US, the National Domestic Violence Hotline is 1-800-799-7233 (or text START to 88788); elsewhere, call your local emergency services.";

const EXAMPLES: &str = "\
Examples:
  safe log appreciation --note \"thanks for the soup\"
  safe log repair --took 2h30m
  safe today
  safe stats --month
  safe sync --remote git@example.org:us/journal.git";

/// A practice journal for couples: log the small acts that build emotional
/// safety, see streaks and strength, and share the journal through git.
#[derive(Debug, Parser)]
#[command(
    name = "safe",
    version,
    propagate_version = true,
    max_term_width = 100,
    after_help = format!("{EXAMPLES}\n\n{NOT_THERAPY}"),
)]
pub struct Cli {
    /// Where safe keeps its data (default: your platform's data directory).
    #[arg(
        long,
        global = true,
        env = "SAFE_DATA_DIR",
        hide_env_values = true,
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,

    /// Without a command, safe shows `safe today`.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Log(commands::log::LogArgs),
    Undo(commands::undo::UndoArgs),
    Redo(commands::undo::RedoArgs),
    Edit(commands::edit::EditArgs),
    Rm(commands::rm::RmArgs),
    History(commands::history::HistoryArgs),
    Today(commands::today::TodayArgs),
    Stats(commands::stats::StatsArgs),
    Calendar(commands::calendar::CalendarArgs),
    Review(commands::review::ReviewArgs),
    Repair(commands::repair::RepairArgs),
    Skip(commands::skip::SkipArgs),
    Pause(commands::pause::PauseArgs),
    Practice(commands::practice::PracticeArgs),
    Card(commands::card::CardArgs),
    Remind(commands::remind::RemindArgs),
    Sync(commands::sync::SyncArgs),
    Invite(commands::pair::InviteArgs),
    Join(commands::pair::JoinArgs),
    Partner(commands::pair::PartnerArgs),
    Device(commands::pair::DeviceArgs),
    Export(commands::export::ExportArgs),
    Import(commands::import::ImportArgs),
    Init(commands::init::InitArgs),
    Config(commands::config::ConfigArgs),
    Completions(commands::completions::CompletionsArgs),
    Man(commands::man::ManArgs),
}
