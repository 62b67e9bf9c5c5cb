//! `safe init`: set up my identity, or rename it.

use super::{Context, auto_sync};
use crate::error::Result;
use crate::store::config::valid_name;

/// Set up safe on this machine, with the name your partner will see.
///
/// Not required: the first `safe log` sets up an identity named after your
/// login. Run it again to change your name.
///
/// Example:
///   safe init --name Alex
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// The name your partner sees.
    #[arg(long)]
    pub name: Option<String>,
}

pub fn cmd_init(ctx: &mut Context<'_>, args: InitArgs) -> Result<()> {
    let lock = ctx.dir.lock()?;
    match ctx.dir.read_config()? {
        None => {
            let config = ctx.create_identity(&lock, args.name.as_deref())?;
            writeln!(
                ctx.out,
                "Welcome, {}. Your journal is in {}.",
                config.name,
                ctx.dir.root().display()
            )?;
            writeln!(
                ctx.out,
                "Try `safe log appreciation --note \"...\"`, or `safe practice list` to see what to log."
            )?;
        }
        Some(mut config) => match args.name {
            Some(name) => {
                config.name = valid_name(&name)?;
                rename(ctx, &lock, &mut config)?;
                writeln!(
                    ctx.out,
                    "You are now {} in the shared journal.",
                    config.name
                )?;
                auto_sync(ctx, &lock, &mut config);
            }
            None => writeln!(
                ctx.out,
                "Already set up as {} in {}.",
                config.name,
                ctx.dir.root().display()
            )?,
        },
    }
    Ok(())
}

/// Record my (new) name in config.json and people.json: both or neither.
pub fn rename(
    ctx: &Context<'_>,
    lock: &crate::store::Lock,
    config: &mut crate::store::config::Config,
) -> Result<()> {
    let rev = config.tick(ctx.wall_ms());
    let mut people = ctx.dir.read_people()?;
    let mut batch = lock.batch();
    if people.set(&config.id, &config.name, rev) {
        ctx.dir.write_people(&people, &mut batch)?;
    }
    ctx.dir.write_config(config, &mut batch)?;
    batch.commit()
}
