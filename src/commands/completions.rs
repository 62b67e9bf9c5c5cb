//! `safe completions`: shell completion scripts. The scripts ask the binary
//! for candidates at completion time, so custom practices and entry ids
//! complete too.

use clap::CommandFactory;
use clap_complete::CompletionCandidate;

use super::Context;
use crate::cli::Cli;
use crate::error::Result;

/// Print a completion script for your shell.
///
/// Examples, to install (one line each):
///   bash:        echo 'source <(safe completions bash)' >> ~/.bashrc
///   zsh:         echo 'source <(safe completions zsh)' >> ~/.zshrc
///   fish:        safe completions fish > ~/.config/fish/completions/safe.fish
///   elvish:      echo 'eval (safe completions elvish | slurp)' >> ~/.config/elvish/rc.elv
///   powershell:  safe completions powershell | Out-String | Invoke-Expression
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell to print a script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Elvish,
    Powershell,
}

impl Shell {
    pub const ALL: [Shell; 5] = [
        Shell::Bash,
        Shell::Zsh,
        Shell::Fish,
        Shell::Elvish,
        Shell::Powershell,
    ];

    /// The file name of the committed script in `completions/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Shell::Bash => "safe.bash",
            Shell::Zsh => "_safe",
            Shell::Fish => "safe.fish",
            Shell::Elvish => "safe.elv",
            Shell::Powershell => "_safe.ps1",
        }
    }
}

/// The clap command, as completion needs it.
pub fn command() -> clap::Command {
    Cli::command()
}

pub fn cmd_completions(ctx: &mut Context<'_>, args: CompletionsArgs) -> Result<()> {
    ctx.out.write_all(script(args.shell).as_bytes())?;
    Ok(())
}

/// The completion script for `shell`. It registers the binary itself as the
/// completer (clap_complete's dynamic completion), so candidates come from
/// the user's own journal: built-in and custom practices, entry ids.
pub fn script(shell: Shell) -> String {
    let name = match shell {
        Shell::Bash => "bash",
        Shell::Zsh => "zsh",
        Shell::Fish => "fish",
        Shell::Elvish => "elvish",
        Shell::Powershell => "powershell",
    };
    let mut out = Vec::new();
    let shells = clap_complete::env::Shells::builtins();
    let completer = shells
        .completer(name)
        .expect("clap_complete knows the built-in shells");
    completer
        .write_registration("COMPLETE", "safe", "safe", "safe", &mut out)
        .expect("writing to memory");
    String::from_utf8(out).expect("scripts are UTF-8")
}

/// Candidates for a PRACTICE argument: every practice I have not retired.
/// Completion must never fail loudly, so errors give no candidates.
pub fn practice_candidates() -> Vec<CompletionCandidate> {
    let Some(dir) = completion_dir() else {
        return Vec::new();
    };
    let me = dir
        .read_config()
        .ok()
        .flatten()
        .map(|c| c.id)
        .unwrap_or_default();
    let practices = dir.read_practices().unwrap_or_default();
    practices
        .catalogue(&me)
        .into_iter()
        .filter(|p| !p.retired)
        .map(|p| CompletionCandidate::new(p.id).help(Some(p.about.into())))
        .collect()
}

/// Candidates for an entry ID: my recent entries (the last three months).
pub fn entry_candidates() -> Vec<CompletionCandidate> {
    let Some(dir) = completion_dir() else {
        return Vec::new();
    };
    let Ok(Some(config)) = dir.read_config() else {
        return Vec::new();
    };
    let Ok(months) = dir.months() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for month in months.into_iter().rev().take(3) {
        for side in [crate::store::Side::Shared, crate::store::Side::Private] {
            let Ok(doc) = dir.read_month(side, month) else {
                continue;
            };
            for e in doc.live().filter(|e| e.author == config.id) {
                let about = format!("{} {}", e.day, e.practice);
                out.push(
                    CompletionCandidate::new(e.id.simple().to_string()).help(Some(about.into())),
                );
            }
        }
    }
    out
}

/// The data directory as the completed command line would use it: the
/// environment, or the default. (`--data-dir` on the line being completed
/// is not visible to a candidate function.)
fn completion_dir() -> Option<crate::store::DataDir> {
    let root = match std::env::var_os("SAFE_DATA_DIR") {
        Some(dir) if !dir.is_empty() => dir.into(),
        _ => crate::store::DataDir::default_root().ok()?,
    };
    Some(crate::store::DataDir::new(root))
}
