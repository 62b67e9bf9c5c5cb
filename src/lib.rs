//! safe: a practice journal for couples.
//!
//! `main` parses the command line and calls [`run`]; each subcommand lives in
//! `commands/`, which reads and writes the journal through `journal/` (over
//! the files and the index of `store/`), computes with the pure `domain/`,
//! shares through `sync/` and prints through `render/`.

pub mod cli;
pub mod commands;
pub mod domain;
pub mod error;
pub mod journal;
pub mod keys;
pub mod render;
pub mod seal;
pub mod store;
pub mod sync;

use std::io::Write;

use chrono::{Local, Timelike};

use cli::{Cli, Command};
use commands::Context;
use error::Result;
use store::DataDir;

/// Run one command line, writing its output to `out`.
pub fn run(cli: Cli, out: &mut dyn Write, color: bool) -> Result<()> {
    let now = match std::env::var("SAFE_NOW") {
        Ok(text) if !text.trim().is_empty() => commands::parse_now(&text)?,
        _ => Local::now().fixed_offset(),
    };
    // Whole seconds are plenty for `at`, and keep the files tidy.
    let now = now.with_nanosecond(0).unwrap_or(now);
    let root = match cli.data_dir {
        // An empty SAFE_DATA_DIR= means "not set", as for most variables.
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => DataDir::default_root()?,
    };
    let mut ctx = Context {
        dir: DataDir::new(root),
        now,
        today: now.date_naive(),
        color,
        out,
    };
    let ctx = &mut ctx;
    // `safe` alone answers the question people open it with: what today.
    let command = cli
        .command
        .unwrap_or(Command::Today(commands::today::TodayArgs { short: false }));
    match command {
        Command::Log(args) => commands::log::cmd_log(ctx, args),
        Command::Undo(args) => commands::undo::cmd_undo(ctx, args),
        Command::Redo(args) => commands::undo::cmd_redo(ctx, args),
        Command::Edit(args) => commands::edit::cmd_edit(ctx, args),
        Command::Rm(args) => commands::rm::cmd_rm(ctx, args),
        Command::History(args) => commands::history::cmd_history(ctx, args),
        Command::Today(args) => commands::today::cmd_today(ctx, args),
        Command::Stats(args) => commands::stats::cmd_stats(ctx, args),
        Command::Calendar(args) => commands::calendar::cmd_calendar(ctx, args),
        Command::Review(args) => commands::review::cmd_review(ctx, args),
        Command::Repair(args) => commands::repair::cmd_repair(ctx, args),
        Command::Skip(args) => commands::skip::cmd_skip(ctx, args),
        Command::Pause(args) => commands::pause::cmd_pause(ctx, args),
        Command::Practice(args) => commands::practice::cmd_practice(ctx, args),
        Command::Card(args) => commands::card::cmd_card(ctx, args),
        Command::Remind(args) => commands::remind::cmd_remind(ctx, args),
        Command::Sync(args) => commands::sync::cmd_sync(ctx, args),
        Command::Invite(args) => commands::pair::cmd_invite(ctx, args),
        Command::Join(args) => commands::pair::cmd_join(ctx, args),
        Command::Partner(args) => commands::pair::cmd_partner(ctx, args),
        Command::Device(args) => commands::pair::cmd_device(ctx, args),
        Command::Export(args) => commands::export::cmd_export(ctx, args),
        Command::Import(args) => commands::import::cmd_import(ctx, args),
        Command::Init(args) => commands::init::cmd_init(ctx, args),
        Command::Config(args) => commands::config::cmd_config(ctx, args),
        Command::Completions(args) => commands::completions::cmd_completions(ctx, args),
        Command::Man(args) => commands::man::cmd_man(ctx, args),
    }
}
