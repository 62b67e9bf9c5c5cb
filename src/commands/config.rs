//! `safe config`: read and change my settings.

use super::{Context, auto_sync};
use crate::error::Result;
use crate::store::config::KEYS;

/// Read or change a setting.
///
/// Settings: name, week_start (monday|sunday), share_notes (true|false),
/// auto_sync (true|false), remote (a git URL).
///
/// Examples:
///   safe config get name
///   safe config set week_start sunday
///   safe config set share_notes true
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print a setting's value.
    Get { key: String },
    /// Change a setting.
    Set { key: String, value: String },
    /// Print every setting.
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
