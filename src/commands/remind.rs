//! `safe remind`: an opt-in evening nudge. A systemd user timer where
//! systemd runs the user session, else a crontab line (installed only with
//! consent), runs `safe remind run`, which speaks only when one of my own
//! daily practices is still open today, and never of my partner's.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use chrono::NaiveTime;

use super::Context;
use crate::domain::summary;
use crate::error::{Error, Result};
use crate::render::sanitize::sanitize_line;

/// An opt-in evening nudge, only when something is still open today.
///
/// `install` sets up a systemd user timer when systemd runs your session,
/// otherwise a crontab line (shown first, installed with --yes or when you
/// say yes). At the time you choose it runs `safe remind run`, which shows a
/// desktop notification (through notify-send) only if one of your daily
/// practices is still open today. It never mentions your partner. Without
/// desktop notifications, put `safe today --short` in your shell prompt
/// (see the README).
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe remind install --at 20:30\n  safe remind status\n  safe remind remove"
)]
pub struct RemindArgs {
    #[command(subcommand)]
    pub command: RemindCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum RemindCommand {
    /// Install the nudge (a systemd user timer, or a crontab line).
    #[command(
        after_help = "Examples:\n  safe remind install\n  safe remind install --at 21:15\n  safe remind install --via cron --yes"
    )]
    Install {
        /// The time of day, 24-hour.
        #[arg(long, value_name = "HH:MM", default_value = "20:30")]
        at: String,
        /// How to run it; by default systemd when it runs your session, else cron.
        #[arg(long, value_enum)]
        via: Option<Via>,
        /// Install a crontab line without asking.
        #[arg(long, short)]
        yes: bool,
    },
    /// Take the nudge away again, whichever way it was installed.
    #[command(after_help = "Examples:\n  safe remind remove")]
    Remove,
    /// Say what is installed.
    #[command(after_help = "Examples:\n  safe remind status")]
    Status,
    /// What the timer runs: a nudge now if a daily practice is still open today.
    #[command(after_help = "Examples:\n  safe remind run    # try the nudge by hand")]
    Run,
}

/// The two schedulers safe knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Via {
    Systemd,
    Cron,
}

/// The units' names, and the mark on the crontab line.
const SERVICE: &str = "safe-remind.service";
const TIMER: &str = "safe-remind.timer";
const CRON_MARK: &str = "# safe remind";

pub fn cmd_remind(ctx: &mut Context<'_>, args: RemindArgs) -> Result<()> {
    match args.command {
        RemindCommand::Install { at, via, yes } => install(ctx, &at, via, yes),
        RemindCommand::Remove => remove(ctx),
        RemindCommand::Status => status(ctx),
        RemindCommand::Run => run(ctx),
    }
}

fn install(ctx: &mut Context<'_>, at: &str, via: Option<Via>, yes: bool) -> Result<()> {
    let time = parse_at(at)?;
    let command = nudge_command(ctx)?;
    let via = via.unwrap_or_else(|| {
        if systemd_runs_the_session() {
            Via::Systemd
        } else {
            Via::Cron
        }
    });
    match via {
        Via::Systemd => install_systemd(ctx, time, &command)?,
        Via::Cron => install_cron(ctx, time, &command, yes)?,
    }
    if on_path("notify-send").is_none() {
        writeln!(
            ctx.out,
            "No desktop notifications here (notify-send is not installed): put `safe today --short` \
             in your shell prompt to see what is open (the README shows starship and tmux)."
        )?;
    }
    Ok(())
}

fn install_systemd(ctx: &mut Context<'_>, time: NaiveTime, command: &[String]) -> Result<()> {
    let dir = units_dir()?;
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
    let exec = command
        .iter()
        .map(|a| systemd_quote(a))
        .collect::<Result<Vec<_>>>()?
        .join(" ");
    let service = format!(
        "# Written by `safe remind install`; `safe remind remove` takes it away.\n\
         [Unit]\n\
         Description=safe: an evening nudge when a practice is still open today\n\
         \n\
         [Service]\n\
         Type=oneshot\n\
         ExecStart={exec}\n"
    );
    let timer = format!(
        "# Written by `safe remind install`; `safe remind remove` takes it away.\n\
         [Unit]\n\
         Description=safe: the evening nudge at {hm}\n\
         \n\
         [Timer]\n\
         OnCalendar=*-*-* {hm}:00\n\
         AccuracySec=1min\n\
         \n\
         [Install]\n\
         WantedBy=timers.target\n",
        hm = time.format("%H:%M")
    );
    for (name, text) in [(SERVICE, &service), (TIMER, &timer)] {
        crate::store::file::write_atomic(&dir.join(name), text.as_bytes())?;
    }
    writeln!(
        ctx.out,
        "Wrote a systemd user timer for {} every evening:\n  {}\n  {}",
        time.format("%H:%M"),
        dir.join(TIMER).display(),
        dir.join(SERVICE).display()
    )?;
    if !systemd_runs_the_session() {
        writeln!(
            ctx.out,
            "systemd does not run your session here, so nothing was started; where it does, \
             `systemctl --user enable --now {TIMER}` starts it."
        )?;
        return Ok(());
    }
    let started = systemctl(&["daemon-reload"]) && systemctl(&["enable", "--now", TIMER]);
    if started {
        writeln!(
            ctx.out,
            "Started it: `safe remind status` shows it, `safe remind remove` takes it away."
        )?;
    } else {
        writeln!(
            ctx.out,
            "systemctl could not start it; `systemctl --user enable --now {TIMER}` tries again."
        )?;
    }
    Ok(())
}

fn install_cron(
    ctx: &mut Context<'_>,
    time: NaiveTime,
    command: &[String],
    yes: bool,
) -> Result<()> {
    let line = cron_line(time, command)?;
    writeln!(ctx.out, "The crontab line:\n  {line}")?;
    let agreed = yes || ask_consent()?;
    if !agreed {
        return Err(Error::input(
            "nothing installed: a crontab line is added only with your consent",
        )
        .with_hint(
            "`safe remind install --yes` adds it, or add the line yourself with `crontab -e`",
        ));
    }
    let mut lines = read_crontab()?;
    lines.retain(|l| !l.ends_with(CRON_MARK));
    lines.push(line);
    write_crontab(&lines)?;
    writeln!(
        ctx.out,
        "Added it to your crontab: a nudge at {} every evening. `safe remind remove` takes it away.",
        time.format("%H:%M")
    )?;
    Ok(())
}

fn remove(ctx: &mut Context<'_>) -> Result<()> {
    let mut removed = false;
    let dir = units_dir()?;
    if dir.join(TIMER).exists() || dir.join(SERVICE).exists() {
        if systemd_runs_the_session() {
            systemctl(&["disable", "--now", TIMER]);
        }
        for path in [
            dir.join("timers.target.wants").join(TIMER),
            dir.join(TIMER),
            dir.join(SERVICE),
        ] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &path, e)),
            }
        }
        if systemd_runs_the_session() {
            systemctl(&["daemon-reload"]);
        }
        writeln!(
            ctx.out,
            "Removed the systemd user timer ({}).",
            dir.join(TIMER).display()
        )?;
        removed = true;
    }
    if on_path("crontab").is_some() {
        let lines = read_crontab()?;
        if lines.iter().any(|l| l.ends_with(CRON_MARK)) {
            let kept: Vec<String> = lines
                .into_iter()
                .filter(|l| !l.ends_with(CRON_MARK))
                .collect();
            write_crontab(&kept)?;
            writeln!(ctx.out, "Removed the line from your crontab.")?;
            removed = true;
        }
    }
    if !removed {
        writeln!(ctx.out, "No nudge was installed; nothing to remove.")?;
    }
    Ok(())
}

fn status(ctx: &mut Context<'_>) -> Result<()> {
    let mut any = false;
    let dir = units_dir()?;
    let timer = dir.join(TIMER);
    if let Ok(text) = std::fs::read_to_string(&timer) {
        let at = text
            .lines()
            .find_map(|l| l.strip_prefix("OnCalendar=*-*-* "))
            .and_then(|t| t.get(..5))
            .unwrap_or("?");
        let started = if dir.join("timers.target.wants").join(TIMER).exists() {
            "enabled"
        } else {
            "not enabled"
        };
        writeln!(
            ctx.out,
            "A systemd user timer at {} ({started}): {}",
            sanitize_line(at),
            timer.display()
        )?;
        any = true;
    }
    if on_path("crontab").is_some()
        && let Some(line) = read_crontab()?.into_iter().find(|l| l.ends_with(CRON_MARK))
    {
        let mut fields = line.split_whitespace();
        let (minute, hour) = (fields.next().unwrap_or("?"), fields.next().unwrap_or("?"));
        writeln!(
            ctx.out,
            "A crontab line at {}:{:0>2}.",
            sanitize_line(hour),
            sanitize_line(minute)
        )?;
        any = true;
    }
    if !any {
        writeln!(
            ctx.out,
            "No nudge is installed. `safe remind install` sets one up."
        )?;
        return Ok(());
    }
    let how = if on_path("notify-send").is_some() {
        "It speaks through a desktop notification, only when a daily practice is still open."
    } else {
        "notify-send is not installed, so it prints its line instead; `safe today --short` in \
         your shell prompt shows what is open."
    };
    writeln!(ctx.out, "{how}")?;
    Ok(())
}

/// The nudge itself: quiet when nothing of mine is open today.
fn run(ctx: &mut Context<'_>) -> Result<()> {
    let Some(text) = nudge_text(ctx)? else {
        return Ok(());
    };
    if let Some(notify) = on_path("notify-send") {
        let shown = Command::new(notify)
            .args(["--app-name=safe", "safe", &text])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if shown {
            return Ok(());
        }
    }
    writeln!(ctx.out, "safe: {text}")?;
    Ok(())
}

/// What the nudge says, from my own entries only: the daily practices
/// still open today, and a time agreed to come back to a repair.
fn nudge_text(ctx: &Context<'_>) -> Result<Option<String>> {
    let (view, config) = ctx.view()?;
    let catalogue = view.practices.catalogue(&config.id);
    let index = view.day_index();
    let today = summary::today(&index, &config.id, &catalogue, config.week_start, ctx.today);
    let mut parts = Vec::new();
    if !today.open.is_empty() {
        let open: Vec<String> = today
            .open
            .iter()
            .map(|id| sanitize_line(id).into_owned())
            .collect();
        parts.push(format!("still open today: {}.", open.join(", ")));
    }
    if let Some(time_out) = super::repair::pending_time_out(ctx)?
        && time_out.back_at.date_naive() == ctx.today
    {
        parts.push(format!(
            "You agreed to come back to your repair at {}.",
            time_out.back_at.format("%H:%M")
        ));
    }
    if parts.is_empty() {
        return Ok(None);
    }
    parts.push("A small moment is enough.".to_string());
    Ok(Some(parts.join(" ")))
}

/// `20:30` -> a time of day.
fn parse_at(text: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| {
        Error::input(format!(
            "can't read {:?} as a time of day",
            sanitize_line(text)
        ))
        .with_hint("use 24-hour HH:MM, e.g. --at 20:30")
    })
}

/// The command the scheduler runs: this binary, on this data directory,
/// both as absolute paths, since the scheduler starts elsewhere.
fn nudge_command(ctx: &Context<'_>) -> Result<Vec<String>> {
    let exe = std::env::current_exe()
        .map_err(|e| Error::runtime(format!("could not find the safe binary: {e}")))?;
    let data =
        std::path::absolute(ctx.dir.root()).map_err(|e| Error::io("resolve", ctx.dir.root(), e))?;
    let text = |p: &Path| {
        p.to_str().map(str::to_string).ok_or_else(|| {
            Error::input(format!(
                "{} is not UTF-8; a scheduler line cannot hold it",
                p.display()
            ))
        })
    };
    Ok(vec![
        text(&exe)?,
        "--data-dir".to_string(),
        text(&data)?,
        "remind".to_string(),
        "run".to_string(),
    ])
}

/// One word of an `ExecStart=` line: double-quoted, with systemd's
/// specifiers (`%`) and variables (`$`) doubled so they stay literal.
fn systemd_quote(word: &str) -> Result<String> {
    if word.chars().any(char::is_control) {
        return Err(Error::input(format!(
            "{:?} holds a control character; a unit file cannot hold it",
            sanitize_line(word)
        )));
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('"');
    for c in word.chars() {
        match c {
            '\\' | '"' => {
                quoted.push('\\');
                quoted.push(c);
            }
            '%' => quoted.push_str("%%"),
            '$' => quoted.push_str("$$"),
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    Ok(quoted)
}

/// `30 20 * * * 'safe' … # safe remind`: shell-quoted words, `%` escaped
/// (cron reads it as a newline), and the session bus where one is known,
/// so notify-send can reach the desktop.
fn cron_line(time: NaiveTime, command: &[String]) -> Result<String> {
    use chrono::Timelike;
    let mut words = Vec::new();
    if let Ok(runtime) = std::env::var("XDG_RUNTIME_DIR")
        && !runtime.is_empty()
    {
        words.push(shell_quote(&format!(
            "DBUS_SESSION_BUS_ADDRESS=unix:path={runtime}/bus"
        ))?);
    }
    for word in command {
        words.push(shell_quote(word)?);
    }
    Ok(format!(
        "{} {} * * * {} {CRON_MARK}",
        time.minute(),
        time.hour(),
        words.join(" ")
    ))
}

fn shell_quote(word: &str) -> Result<String> {
    if word.chars().any(char::is_control) {
        return Err(Error::input(format!(
            "{:?} holds a control character; a crontab line cannot hold it",
            sanitize_line(word)
        )));
    }
    // An assignment stays an assignment only unquoted before its `=`.
    let (head, value) = match word.split_once('=') {
        Some((name, value))
            if !name.is_empty() && name.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') =>
        {
            (format!("{name}="), value)
        }
        _ => (String::new(), word),
    };
    Ok(format!(
        "{head}'{}'",
        value.replace('\'', "'\\''").replace('%', "\\%")
    ))
}

/// Ask on a terminal whether to add the crontab line; never without one.
fn ask_consent() -> Result<bool> {
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Ok(false);
    }
    super::confirm("Add this line to your crontab?")
}

/// The current crontab, line by line; none is an empty one.
fn read_crontab() -> Result<Vec<String>> {
    let crontab = crontab_program()?;
    let out = Command::new(crontab)
        .arg("-l")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::runtime(format!("could not run crontab -l: {e}")))?;
    if !out.status.success() {
        // "no crontab for <user>" is an empty crontab, not an error.
        return Ok(Vec::new());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn write_crontab(lines: &[String]) -> Result<()> {
    use std::io::Write;
    let crontab = crontab_program()?;
    let mut child = Command::new(crontab)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::runtime(format!("could not run crontab: {e}")))?;
    let mut text = lines.join("\n");
    text.push('\n');
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(text.as_bytes())
            .map_err(|e| Error::runtime(format!("could not write to crontab: {e}")))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::runtime(format!("crontab did not finish: {e}")))?;
    if !out.status.success() {
        return Err(Error::runtime(format!(
            "crontab refused the new table: {}",
            sanitize_line(String::from_utf8_lossy(&out.stderr).trim())
        )));
    }
    Ok(())
}

fn crontab_program() -> Result<PathBuf> {
    on_path("crontab").ok_or_else(|| {
        Error::runtime("crontab is not installed here")
            .with_hint("install cron, or run the line above from the scheduler you use")
    })
}

/// `$XDG_CONFIG_HOME/systemd/user` (or `~/.config/systemd/user`).
fn units_dir() -> Result<PathBuf> {
    let config = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .ok_or_else(|| {
            Error::runtime("could not find your configuration directory")
                .with_hint("set XDG_CONFIG_HOME or HOME")
        })?;
    Ok(config.join("systemd").join("user"))
}

/// Whether a systemd user manager runs this session: `systemctl --user`
/// reaches it.
fn systemd_runs_the_session() -> bool {
    on_path("systemctl").is_some() && systemctl(&["show-environment"])
}

/// `systemctl --user ARGS`, quietly; whether it succeeded.
fn systemctl(args: &[&str]) -> bool {
    Command::new("systemctl")
        .arg("--user")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The program `name` as found on PATH.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_words_stay_literal_for_systemd() {
        assert_eq!(systemd_quote("/usr/bin/safe").unwrap(), "\"/usr/bin/safe\"");
        assert_eq!(
            systemd_quote("/home/a b/100% \"x\" $HOME\\").unwrap(),
            "\"/home/a b/100%% \\\"x\\\" $$HOME\\\\\""
        );
        assert!(systemd_quote("a\nb").is_err());
    }

    #[test]
    fn cron_words_stay_literal_for_the_shell_and_cron() {
        assert_eq!(shell_quote("/usr/bin/safe").unwrap(), "'/usr/bin/safe'");
        assert_eq!(shell_quote("it's 100%").unwrap(), "'it'\\''s 100\\%'");
        assert_eq!(
            shell_quote("DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus").unwrap(),
            "DBUS_SESSION_BUS_ADDRESS='unix:path=/run/user/1000/bus'"
        );
        assert_eq!(shell_quote("--data-dir=x").unwrap(), "'--data-dir=x'");
        let line = cron_line(
            NaiveTime::from_hms_opt(20, 5, 0).unwrap(),
            &["/bin/safe".to_string(), "remind".to_string()],
        )
        .unwrap();
        assert!(line.starts_with("5 20 * * * "), "{line}");
        assert!(
            line.ends_with("'/bin/safe' 'remind' # safe remind"),
            "{line}"
        );
    }

    #[test]
    fn times_of_day_read_as_24_hour_clock() {
        assert_eq!(
            parse_at("20:30").unwrap(),
            NaiveTime::from_hms_opt(20, 30, 0).unwrap()
        );
        assert_eq!(
            parse_at("7:05").unwrap(),
            NaiveTime::from_hms_opt(7, 5, 0).unwrap()
        );
        for bad in ["25:00", "8pm", "", "20:3x"] {
            assert!(parse_at(bad).is_err(), "{bad}");
        }
    }
}
