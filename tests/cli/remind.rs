//! `safe remind`: the units written under a temporary XDG_CONFIG_HOME (and
//! checked by `systemd-analyze verify` where it is installed), the crontab
//! line shown but never installed without consent, and a nudge that speaks
//! only of my own open practices.
//!
//! Each run gets a PATH of its own, an empty folder unless a test puts a
//! program there: no test can reach the machine's systemd or crontab.

use std::path::Path;

use tempfile::TempDir;

use crate::env::{Run, TestEnv};

/// A place for the units, and a PATH with nothing on it.
struct Desk {
    config: TempDir,
    bin: TempDir,
}

impl Desk {
    fn new() -> Desk {
        Desk {
            config: tempfile::tempdir().unwrap(),
            bin: tempfile::tempdir().unwrap(),
        }
    }

    fn units(&self) -> std::path::PathBuf {
        self.config.path().join("systemd").join("user")
    }

    fn remind(&self, env: &TestEnv, args: &[&str]) -> Run {
        Run {
            output: env
                .cmd()
                .env("XDG_CONFIG_HOME", self.config.path())
                .env("PATH", self.bin.path())
                .arg("remind")
                .args(args)
                .output()
                .unwrap(),
        }
    }
}

#[test]
fn the_systemd_timer_is_written_checked_shown_and_removed() {
    let env = TestEnv::new();
    let desk = Desk::new();
    let out = desk
        .remind(&env, &["install", "--via", "systemd", "--at", "21:15"])
        .ok();
    assert!(out.contains("21:15"), "{out}");
    // No systemd runs this session (systemctl is not on its PATH): the
    // files are written, nothing is started, and it says how to start it.
    assert!(
        out.contains("systemctl --user enable --now safe-remind.timer"),
        "{out}"
    );
    let timer = std::fs::read_to_string(desk.units().join("safe-remind.timer")).unwrap();
    let service = std::fs::read_to_string(desk.units().join("safe-remind.service")).unwrap();
    assert!(timer.contains("OnCalendar=*-*-* 21:15:00"), "{timer}");
    assert!(timer.contains("WantedBy=timers.target"), "{timer}");
    let data = env.data_dir();
    let exec = format!(
        "ExecStart=\"{}\" \"--data-dir\" \"{}\" \"remind\" \"run\"",
        env!("CARGO_BIN_EXE_safe"),
        data.display()
    );
    assert!(service.contains(&exec), "{service}");
    verify_units(&desk.units());

    let status = desk.remind(&env, &["status"]).ok();
    assert!(
        status.contains("A systemd user timer at 21:15 (not enabled)"),
        "{status}"
    );
    assert!(status.contains("notify-send is not installed"), "{status}");

    // Installing again replaces it.
    desk.remind(&env, &["install", "--via", "systemd", "--at", "20:00"])
        .ok();
    let status = desk.remind(&env, &["status"]).ok();
    assert!(status.contains("timer at 20:00"), "{status}");

    let out = desk.remind(&env, &["remove"]).ok();
    assert!(out.contains("Removed the systemd user timer"), "{out}");
    assert!(!desk.units().join("safe-remind.timer").exists());
    assert!(!desk.units().join("safe-remind.service").exists());
    let status = desk.remind(&env, &["status"]).ok();
    assert!(status.contains("No nudge is installed"), "{status}");
    let out = desk.remind(&env, &["remove"]).ok();
    assert!(out.contains("nothing to remove"), "{out}");
}

/// `systemd-analyze verify` on the units, where it is installed.
fn verify_units(dir: &Path) {
    let files = [
        dir.join("safe-remind.timer"),
        dir.join("safe-remind.service"),
    ];
    match std::process::Command::new("systemd-analyze")
        .arg("verify")
        .args(&files)
        .output()
    {
        Err(_) => eprintln!("skipped the unit check: systemd-analyze is not installed"),
        Ok(out) => assert!(
            out.status.success(),
            "systemd-analyze verify refused the units:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

#[test]
fn the_crontab_line_is_shown_and_installed_only_with_consent() {
    let env = TestEnv::new();
    let desk = Desk::new();
    // Without a terminal to ask on and without --yes: shown, not installed.
    let run = desk.remind(&env, &["install", "--via", "cron", "--at", "20:30"]);
    let err = run.fails(2);
    assert!(err.contains("only with your consent"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    let line = run
        .stdout()
        .lines()
        .find(|l| l.contains("# safe remind"))
        .unwrap_or_else(|| panic!("{}", run.stdout()))
        .trim()
        .to_string();
    assert!(line.starts_with("30 20 * * * "), "{line}");
    assert!(
        line.contains(&format!("'{}' '--data-dir'", env!("CARGO_BIN_EXE_safe"))),
        "{line}"
    );
    assert!(line.contains("'remind' 'run'"), "{line}");
    // With consent but no crontab on this PATH: a runtime failure that
    // says so, and still nothing installed.
    let err = desk
        .remind(&env, &["install", "--via", "cron", "--yes"])
        .fails(1);
    assert!(err.contains("crontab is not installed"), "{err}");
    assert!(!desk.units().exists());
    let status = desk.remind(&env, &["status"]).ok();
    assert!(status.contains("No nudge is installed"), "{status}");
}

#[test]
fn a_time_that_does_not_read_is_a_usage_error() {
    let env = TestEnv::new();
    let desk = Desk::new();
    let err = desk
        .remind(&env, &["install", "--via", "systemd", "--at", "25:00"])
        .fails(2);
    assert!(err.contains("25:00") && err.contains("HH:MM"), "{err}");
    assert!(!desk.units().exists());
}

/// The nudge speaks only when one of my daily practices is open, names only
/// mine, and says nothing of what my partner did.
#[test]
fn the_nudge_speaks_only_of_my_own_open_practices() {
    let (alex, sam, _remote) = TestEnv::couple();
    let desk = Desk::new();
    for practice in ["appreciation", "gentle-touch", "turn-toward", "check-in"] {
        sam.run(&["log", practice]).ok();
    }
    alex.run(&["log", "appreciation"]).ok();
    sam.sync();
    alex.sync();

    let out = desk.remind(&alex, &["run"]).ok();
    assert!(out.starts_with("safe: still open today:"), "{out}");
    for open in ["gentle-touch", "turn-toward", "check-in"] {
        assert!(out.contains(open), "{out}");
    }
    assert!(!out.contains("appreciation"), "{out}");
    assert!(!out.contains("Sam"), "{out}");

    // Sam has done every daily practice: Sam's nudge stays quiet.
    let out = desk.remind(&sam, &["run"]).ok();
    assert_eq!(out, "", "a nudge with nothing open");
    // Skipped practices rest: nothing open, nothing said.
    for practice in ["gentle-touch", "turn-toward", "check-in"] {
        alex.run(&["skip", practice]).ok();
    }
    assert_eq!(desk.remind(&alex, &["run"]).ok(), "");
}
