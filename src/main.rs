//! The `safe` binary: parse the command line, run it, map errors to exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // Completion scripts call back into the binary to list practices and ids.
    clap_complete::CompleteEnv::with_factory(safe::commands::completions::command).complete();
    let cli = safe::cli::Cli::parse();
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
            let mut stderr = anstream::stderr();
            let _ = writeln!(stderr, "safe: error: {err}");
            if let Some(hint) = err.hint() {
                let _ = writeln!(stderr, "hint: {hint}");
            }
            ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(1))
        }
    }
}
