//! The `safe` binary: parse the command line, run it, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use safe::render::sanitize::sanitize;

fn main() -> ExitCode {
    // Completion scripts call back into the binary to list practices and ids.
    clap_complete::CompleteEnv::with_factory(safe::commands::completions::command).complete();
    let cli = match safe::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return usage_error(&err),
    };
    // safe writes colour only when `color` says so, so stdout needs no
    // filtering: a plain buffered writer keeps large outputs fast.
    let color = !matches!(
        anstream::AutoStream::choice(&std::io::stdout()),
        anstream::ColorChoice::Never
    );
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, stdout.lock());
    let result = safe::run(cli, &mut out, color)
        .and_then(|()| out.flush().map_err(safe::error::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Piped into `head`: stop quietly, as other tools do.
        Err(err) if err.is_broken_pipe() => ExitCode::SUCCESS,
        Err(err) => {
            // Messages are sanitised when made (see `safe::error`); this is
            // the last line of defence, for anything that slipped past.
            let mut stderr = anstream::stderr();
            let _ = writeln!(stderr, "safe: error: {}", sanitize(err.message()));
            if let Some(hint) = err.hint() {
                let _ = writeln!(stderr, "hint: {}", sanitize(hint));
            }
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
        }
    }
}

/// Help and version go to stdout as clap prints them; a usage error is told
/// the way every other error is, `safe: error: ...` with a hint, exit 2.
fn usage_error(err: &clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        // As clap prints it, without the blanks it leaves at line ends.
        let text = err.render().ansi().to_string();
        let text: String = text
            .lines()
            .map(|l| format!("{}\n", l.trim_end()))
            .collect();
        let _ = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            write!(anstream::stderr(), "{text}")
        } else {
            write!(anstream::stdout(), "{text}")
        };
        let code = if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            2
        } else {
            0
        };
        return ExitCode::from(code);
    }
    // clap quotes the argument it could not use, as typed: sanitise it.
    let text = sanitize(&err.render().to_string()).into_owned();
    let text = text.strip_prefix("error: ").unwrap_or(&text);
    let mut stderr = anstream::stderr();
    let mut hint = None;
    let mut first = true;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let trimmed = line.trim();
        if let Some(tip) = trimmed.strip_prefix("tip: ") {
            hint = Some(tip.to_string());
        } else if trimmed.starts_with("For more information") {
            continue;
        } else if first {
            let _ = writeln!(stderr, "safe: error: {trimmed}");
            first = false;
        } else if trimmed.starts_with("Usage:") {
            // clap counts SAFE_DATA_DIR as if --data-dir had been typed and
            // shows it in the usage line; the user typed no such thing.
            let _ = writeln!(stderr, "{}", line.replace(" --data-dir <DIR>", ""));
        } else {
            let _ = writeln!(stderr, "{line}");
        }
    }
    let hint = hint.unwrap_or_else(|| {
        "`safe --help` lists the commands; `safe help <COMMAND>` explains one".to_string()
    });
    let _ = writeln!(stderr, "hint: {hint}");
    ExitCode::from(2)
}
