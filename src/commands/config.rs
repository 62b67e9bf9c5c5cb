//! `safe config`: read and change my settings.

use super::{Context, auto_sync};
use crate::error::Result;
use crate::store::config::KEYS;

/// Read or change a setting.
///
/// Settings: name, week_start (monday|sunday), share_notes (true|false),
/// auto_sync (true|false), remote (a git URL).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe config get name\n  safe config set week_start sunday\n  safe config set share_notes true"
)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print a setting's value.
    #[command(after_help = "Examples:\n  safe config get week_start\n  safe config get name")]
    Get {
        /// The setting: see `safe config list` for them all.
        key: String,
    },
    /// Change a setting.
    #[command(
        after_help = "Examples:\n  safe config set week_start sunday\n  safe config set share_notes true\n  safe config set name Sam"
    )]
    Set {
        /// The setting: see `safe config list` for them all.
        key: String,
        /// Its new value.
        value: String,
    },
    /// Print every setting, with what it does.
    #[command(after_help = "Examples:\n  safe config list")]
    List,
}

pub fn cmd_config(ctx: &mut Context<'_>, args: ConfigArgs) -> Result<()> {
    match args.command {
        ConfigCommand::Get { key } => {
            let (_, config) = ctx.view()?;
            writeln!(ctx.out, "{}", config.get(&key)?)?;
        }
        ConfigCommand::List => {
            let (_, config) = ctx.view()?;
            for (key, about) in KEYS {
                writeln!(ctx.out, "{key} = {}    # {about}", config.get(key)?)?;
            }
        }
        ConfigCommand::Set { key, value } => {
            let mut session = ctx.session()?;
            let mut config = session.config.clone();
            // A relative path would mean something else from another
            // directory; `sync --remote` stores it absolute, and so does this.
            let value = if key == "remote" && !value.trim().is_empty() {
                crate::sync::normalize_remote(&value)?
            } else {
                value
            };
            config.set(&key, &value)?;
            if key == "name" {
                super::init::rename(ctx, &mut session, &config.name)?;
            } else {
                let mut batch = session.lock.batch();
                ctx.dir.write_config(&config, &mut batch)?;
                batch.commit()?;
                session.config = config.clone();
            }
            writeln!(ctx.out, "{key} = {}", config.get(&key)?)?;
            if key == "name" {
                auto_sync(ctx, &mut session);
            }
        }
    }
    Ok(())
}
