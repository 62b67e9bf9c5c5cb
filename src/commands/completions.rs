//! `safe completions`: shell completion scripts. The scripts ask the binary
//! for candidates at completion time, so custom practices and entry ids
//! complete too.
//!
//! A candidate is untrusted: a custom practice may come from the partner
//! through sync. Bash inserts a candidate into the command line exactly as
//! it is, so `hug;touch pwned;#` would run when the user presses Enter; zsh
//! and fish print descriptions raw in their listings, and each shell's
//! protocol splits on its own separators (a vertical tab for bash, a newline
//! and `:` for zsh, a newline and a tab for fish). So a value is offered only
//! when it is plain (a valid practice id, or hex for an entry id), which
//! needs no quoting in any shell, and a description is cut to one clean line.

use clap::CommandFactory;
use clap_complete::CompletionCandidate;

use super::Context;
use crate::cli::Cli;
use crate::domain::practice::valid_id;
use crate::error::Result;
use crate::render::sanitize::sanitize_line;

/// The longest description a listing shows, in characters: a line of a
/// completion menu, not a place for a partner's essay. Long enough that no
/// built-in description (the longest is 87) is cut.
const DESCRIPTION_MAX: usize = 100;

/// Print a completion script for your shell.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe completions bash >> ~/.bash_completion\n  echo 'source <(safe completions zsh)' >> ~/.zshrc\n  safe completions fish > ~/.config/fish/completions/safe.fish\n  echo 'eval (safe completions elvish | slurp)' >> ~/.config/elvish/rc.elv\n  safe completions powershell | Out-String | Invoke-Expression"
)]
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

/// Candidates for a PRACTICE argument: every practice I have not retired
/// whose id `safe practice add` would accept (anything else came from a
/// hand-edited or hostile file). Completion must never fail loudly, so
/// errors give no candidates.
pub fn practice_candidates() -> Vec<CompletionCandidate> {
    let view = completion_view().unwrap_or_default();
    view.practices
        .catalogue(&view.me)
        .into_iter()
        .filter(|p| !p.retired && valid_id(&p.id))
        .map(|p| candidate(p.id, &p.about))
        .collect()
}

/// Candidates for an entry ID: my entries, newest first, by their short
/// handle.
pub fn entry_candidates() -> Vec<CompletionCandidate> {
    let Some(view) = completion_view() else {
        return Vec::new();
    };
    let mut mine: Vec<_> = view.mine().collect();
    mine.sort_by_key(|i| std::cmp::Reverse(i.entry.id));
    mine.into_iter()
        .take(50)
        .filter_map(|i| {
            // Always hex today; checked so that a change of id type cannot
            // start offering shell syntax.
            let id = view.short_id(&i.entry.id);
            id.bytes()
                .all(|b| b.is_ascii_hexdigit())
                .then(|| candidate(id, &format!("{} {}", i.entry.day, i.entry.practice)))
        })
        .collect()
}

/// The journal as the completed command line would read it. Completion
/// must never fail loudly: any error gives no candidates.
fn completion_view() -> Option<crate::journal::view::View> {
    let dir = completion_dir()?;
    let root = dir.root();
    if !crate::journal::Identity::path(root).exists() {
        return None;
    }
    let lock = dir.lock().ok()?;
    let now = u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0);
    let journal = crate::journal::Journal::open(root, now, &lock).ok()?;
    let me = journal.me().unwrap_or_default().to_string();
    Some(crate::journal::view::View::new(journal.state().ok()?, &me))
}

/// A candidate with its description made safe for every shell's listing.
fn candidate(value: String, about: &str) -> CompletionCandidate {
    let help = describe(about);
    CompletionCandidate::new(value).help((!help.is_empty()).then(|| help.into()))
}

/// `text` as one short, inert line: escape sequences removed, other control
/// and bidi characters visible as U+FFFD, newlines and tabs (zsh's and fish's
/// separators) turned into spaces, at most [`DESCRIPTION_MAX`] characters.
/// clap escapes what is left that zsh reads specially (`\`; a `:` after the
/// value's own is part of the description), and no shell expands a
/// description, so `$(...)` in one is only text.
fn describe(text: &str) -> String {
    let line = sanitize_line(text);
    let line = line.trim();
    if line.chars().count() <= DESCRIPTION_MAX {
        return line.to_string();
    }
    let kept: String = line.chars().take(DESCRIPTION_MAX - 1).collect();
    format!("{}…", kept.trim_end())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_are_one_inert_line() {
        let cases = [
            ("told your partner", "told your partner"),
            ("  padded\n", "padded"),
            // Colour, a window title and a screen clear are removed whole.
            ("a \x1b[31mred\x1b[0m hug", "a red hug"),
            ("hi\x1b]0;pwned\x07 there\x1b[2J", "hi there"),
            // zsh's and fish's separators become spaces.
            ("one\ntwo\tthree\r\nfour", "one two three four"),
            // What would overwrite or reorder the line stays visible.
            ("I hate you\rI love you", "I hate you\u{fffd}I love you"),
            ("pay \u{202e}0001", "pay \u{fffd}0001"),
            ("\u{9b}31mX", "X"),
            // Shell syntax is text here: no shell expands a description.
            (
                "sub $(touch x) `y` 'q' \"d\" a:b \\",
                "sub $(touch x) `y` 'q' \"d\" a:b \\",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(describe(text), expected, "{text:?}");
        }
    }

    #[test]
    fn built_in_descriptions_are_never_cut() {
        for (id, _, _, about) in crate::domain::practice::BUILTIN {
            assert_eq!(describe(about), *about, "{id}");
        }
    }

    #[test]
    fn long_descriptions_are_cut_with_an_ellipsis() {
        let long = "word ".repeat(DESCRIPTION_MAX);
        let short = describe(&long);
        assert_eq!(short.chars().count(), DESCRIPTION_MAX);
        assert!(short.ends_with("word…"), "{short}");
        let exact = "x".repeat(DESCRIPTION_MAX);
        assert_eq!(describe(&exact), exact);
        // Counted in characters, so multi-byte text is never split.
        let wide = "好".repeat(100);
        assert_eq!(describe(&wide).chars().count(), DESCRIPTION_MAX);
    }
}
