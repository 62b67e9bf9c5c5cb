//! Everyday use as a new user meets it (issue 13): `safe` alone, the first
//! log, and practice names typed the way people remember them.

use crate::env::TestEnv;

#[test]
fn safe_alone_shows_today() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation"]).ok();
    let alone = env.run(&[]).ok();
    assert_eq!(alone, env.run(&["today"]).ok());
    assert!(alone.contains("appreciation"), "{alone}");
}

#[test]
fn the_first_log_says_which_name_it_chose_and_how_to_change_it() {
    let env = TestEnv::named("robin");
    let first = env.run(&["log", "appreciation"]);
    assert_eq!(first.code(), 0);
    let told = first.stderr();
    assert!(told.contains("as robin"), "{told}");
    assert!(told.contains("safe init --name"), "{told}");
    // Once: the second log says nothing of it.
    assert_eq!(env.run(&["log", "listen"]).stderr(), "");
}

#[test]
fn practices_are_found_whatever_the_case_and_suggested_by_a_part() {
    let env = TestEnv::new();
    let out = env.run(&["log", "Appreciation"]).ok();
    assert!(out.starts_with("Logged appreciation"), "{out}");
    let err = env.run(&["log", "kiss"]).fails(2);
    assert!(err.contains("did you mean `long-kiss`"), "{err}");
    let err = env.run(&["log", "touch"]).fails(2);
    assert!(err.contains("`gentle-touch`"), "{err}");
}

#[test]
fn a_failing_new_remote_keeps_the_old_one() {
    let env = TestEnv::new();
    let remote = crate::sync::Remote::new();
    env.run(&["log", "appreciation"]).ok();
    env.run(&["sync", "--remote", &remote.url()]).ok();
    let missing = env.home.path().join("no-such.git");
    let err = env
        .run(&["sync", "--remote", missing.to_str().unwrap()])
        .fails(1);
    assert!(err.contains("kept your remote"), "{err}");
    assert_eq!(
        env.run(&["config", "get", "remote"]).ok().trim(),
        remote.url()
    );
    // A first remote that fails is kept, so a plain `safe sync` retries it.
    let fresh = TestEnv::new();
    fresh.run(&["log", "appreciation"]).ok();
    fresh
        .run(&["sync", "--remote", missing.to_str().unwrap()])
        .fails(1);
    assert_eq!(
        fresh.run(&["config", "get", "remote"]).ok().trim(),
        missing.to_str().unwrap()
    );
}

#[test]
fn a_usage_error_shows_only_what_was_typed() {
    // TestEnv sets SAFE_DATA_DIR, as many users do.
    let env = TestEnv::new();
    let err = env.run(&["stats", "--week", "--month"]).fails(2);
    assert!(err.contains("Usage: safe stats --week"), "{err}");
    assert!(!err.contains("--data-dir"), "{err}");
}

#[test]
fn a_practice_counts_once_a_day_unless_asked_again() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation"]).ok();
    let before = env.snapshot();
    let err = env.run(&["log", "appreciation"]).fails(2);
    assert!(err.contains("already logged appreciation today"), "{err}");
    assert!(err.contains("--again"), "{err}");
    assert!(
        env.snapshot() == before,
        "a refused duplicate changed the journal"
    );
    env.run(&["log", "appreciation", "--again"]).ok();
    // Every repair is a moment of its own.
    env.run(&["log", "repair", "--took", "10m"]).ok();
    env.run(&["log", "repair", "--took", "20m"]).ok();
    // Another day is another day.
    env.run(&["log", "appreciation", "--date", "yesterday"])
        .ok();
    let practices: Vec<String> = env
        .history(&[])
        .iter()
        .map(|e| e["practice"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(practices.iter().filter(|p| *p == "appreciation").count(), 3);
    assert_eq!(practices.iter().filter(|p| *p == "repair").count(), 2);
}

#[test]
fn card_done_twice_a_day_adds_nothing() {
    let env = TestEnv::new();
    env.run(&["card", "--done"]).ok();
    let again = env.run(&["card", "--done"]).ok();
    assert!(again.contains("nothing to add"), "{again}");
    assert_eq!(env.history(&["--practice", "card"]).len(), 1);
}

#[test]
fn a_logged_day_cannot_be_skipped() {
    let env = TestEnv::new();
    env.run(&["log", "check-in", "--date", "yesterday"]).ok();
    let err = env
        .run(&["skip", "check-in", "--date", "yesterday"])
        .fails(2);
    assert!(err.contains("a skip is for a day you did not"), "{err}");
    env.run(&["skip", "check-in", "--date", "2 days ago"]).ok();
}

#[test]
fn a_log_more_than_a_year_back_goes_through_without_a_terminal() {
    // Scripts and imports are not asked; a person at a terminal is.
    let env = TestEnv::new();
    env.run(&["log", "listen", "--date", "2024-05-01"]).ok();
    assert_eq!(env.history(&["--all"]).len(), 1);
}

#[test]
fn on_a_terminal_a_log_more_than_a_year_back_asks_first() {
    let env = TestEnv::new();
    let Some(screen) = env.run_on_terminal(&["log", "listen", "--date", "2024-05-01"], "n\n")
    else {
        return;
    };
    assert!(screen.contains("more than a year ago? [y/N]"), "{screen}");
    assert!(screen.contains("Nothing logged."), "{screen}");
    assert!(env.history(&["--all"]).is_empty());
    env.run_on_terminal(&["log", "listen", "--date", "2024-05-01"], "y\n");
    assert_eq!(env.history(&["--all"]).len(), 1);
}

/// `safe history --json` pauses as (practice, from, to).
fn pauses(env: &TestEnv) -> Vec<(String, String, String)> {
    env.history(&["--all"])
        .into_iter()
        .filter(|e| e["kind"] == "pause")
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or_default().to_string();
            (s("practice"), s("day"), s("until"))
        })
        .collect()
}

#[test]
fn pauses_plan_ahead_and_name_their_weekdays() {
    // Monday 23 November 2026.
    let env = TestEnv::new().at("2026-11-23T10:00:00+01:00");
    let out = env
        .run(&["pause", "--from", "wednesday", "--to", "saturday"])
        .ok();
    assert!(
        out.contains("from Wed 25 Nov to Sat 28 Nov (4 days)"),
        "{out}"
    );
    env.run(&["pause", "--from", "12-20", "--to", "01-02"]).ok();
    env.run(&[
        "pause",
        "--from",
        "next friday",
        "--days",
        "4",
        "--practice",
        "date",
    ])
    .ok();
    env.run(&[
        "pause",
        "--from",
        "in 3 days",
        "--to",
        "in 5 days",
        "--practice",
        "listen",
    ])
    .ok();
    let got = pauses(&env);
    for want in [
        ("*", "2026-11-25", "2026-11-28"),
        ("*", "2026-12-20", "2027-01-02"),
        ("date", "2026-11-27", "2026-11-30"),
        ("listen", "2026-11-26", "2026-11-28"),
    ] {
        let want = (want.0.to_string(), want.1.to_string(), want.2.to_string());
        assert!(got.contains(&want), "{want:?} not in {got:?}");
    }
}

#[test]
fn a_pause_in_the_past_or_over_logged_days_says_so() {
    let env = TestEnv::new().at("2026-11-23T10:00:00+01:00");
    env.run(&["log", "appreciation", "--date", "2026-11-20"])
        .ok();
    let out = env
        .run(&["pause", "--from", "2026-11-19", "--to", "2026-11-21"])
        .ok();
    assert!(out.contains("lies entirely in the past"), "{out}");
    assert!(out.contains("you logged on 1 of these days"), "{out}");
    let err = env
        .run(&["pause", "--from", "today", "--to", "2028-01-01"])
        .fails(2);
    assert!(err.contains("more than a year ahead"), "{err}");
}
