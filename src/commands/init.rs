//! `safe init`: set up my identity, or rename it.

use super::session::{Session, Staged};
use super::{Context, auto_sync};
use crate::domain::record::{NameRecord, Record, Rev};
use crate::error::Result;
use crate::store::config::valid_name;

/// Set up safe on this machine, with the name your partner will see.
///
/// Not required: the first `safe log` sets up an identity named after your
/// login. Run it again to change your name.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe init --name Alex")]
pub struct InitArgs {
    /// The name your partner sees.
    #[arg(long)]
    pub name: Option<String>,
}

pub fn cmd_init(ctx: &mut Context<'_>, args: InitArgs) -> Result<()> {
    let root = ctx.dir.root().to_path_buf();
    if !crate::journal::Identity::path(&root).exists() {
        let name = match args.name.as_deref() {
            Some(name) => valid_name(name)?,
            None => super::login_name(),
        };
        let lock = ctx.dir.lock()?;
        crate::journal::Journal::create(&root, &name, ctx.wall_ms(), &lock)?;
        writeln!(
            ctx.out,
            "Welcome, {}. Your journal is in {}.",
            name,
            root.display()
        )?;
        writeln!(
            ctx.out,
            "Try `safe log appreciation --note \"...\"`, or `safe practice list` to see what to log."
        )?;
        return Ok(());
    }
    let mut session = ctx.session()?;
    match args.name {
        Some(name) => {
            let name = valid_name(&name)?;
            rename(ctx, &mut session, &name)?;
            writeln!(ctx.out, "You are now {name} in the shared journal.")?;
            auto_sync(ctx, &mut session);
        }
        None => writeln!(
            ctx.out,
            "Already set up as {} in {}.",
            session.config.name,
            root.display()
        )?,
    }
    Ok(())
}

/// Record my (new) name in my log.
pub fn rename(ctx: &mut Context<'_>, session: &mut Session, name: &str) -> Result<()> {
    if session.config.name == name {
        return Ok(());
    }
    let record = Record::Name(NameRecord {
        name: name.to_string(),
        rev: Rev::default(),
    });
    session.write(ctx, vec![Staged::Shared(record, None)])?;
    session.config.name = name.to_string();
    Ok(())
}
