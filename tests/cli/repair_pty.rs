//! `safe repair` driven through a real pseudo-terminal (expectrl), as two
//! people at one keyboard would: a whole walk logs one repair with the right
//! time, Ctrl-C logs nothing, a time-out keeps its time to come back and the
//! next walk says it; without a terminal it explains itself and exits 2.

use std::time::Duration;

use expectrl::process::unix::WaitStatus;
use expectrl::session::OsSession;
use expectrl::{ControlCode, Expect};

use crate::env::TestEnv;

/// `safe <args>` on a new pseudo-terminal, in `env`'s clean environment.
/// The timeout only bounds a hung test; nothing is timed.
fn on_terminal(env: &TestEnv, args: &[&str]) -> OsSession {
    let mut cmd = env.std_cmd();
    cmd.args(args);
    let mut session = expectrl::Session::spawn(cmd).expect("a pseudo-terminal");
    session.set_expect_timeout(Some(Duration::from_secs(60)));
    session
}

/// Wait for `text` on the screen, then type `line` and Enter.
#[track_caller]
fn answer(session: &mut OsSession, text: &str, line: &str) {
    session
        .expect(text)
        .unwrap_or_else(|e| panic!("waiting for {text:?}: {e}"));
    session.send_line(line).unwrap();
}

/// The process's exit code once it ends.
fn exit_code(session: &mut OsSession) -> i32 {
    // Read to the end, so the child never blocks on a full terminal.
    let _ = session.expect(expectrl::Eof);
    match session.get_process().wait().unwrap() {
        WaitStatus::Exited(_, code) => code,
        other => panic!("safe did not exit normally: {other:?}"),
    }
}

/// The steps of one half after the feeling and the need: reflect, make
/// sense of it, imagine; each goes on with Enter.
fn listen(session: &mut OsSession) {
    for _ in 0..3 {
        answer(session, "(Enter when done)", "");
    }
}

#[test]
fn a_whole_walk_logs_one_repair_with_the_time_since_the_rupture() {
    let env = TestEnv::new().at("2026-11-27T21:55:00+01:00");
    env.run(&["init", "--name", "Alex"]).ok();
    let mut s = on_terminal(&env, &["repair"]);
    answer(&mut s, "Is now a good time for both of you?", "");
    answer(&mut s, "When did the rupture happen?", "21:10");
    answer(&mut s, "Your partner's name", "Sam");
    s.expect("Alex speaks, Sam listens").unwrap();
    answer(&mut s, "The feeling", "hurt");
    answer(&mut s, "The need", "a hug");
    s.expect("You feel hurt, and you would like a hug.")
        .unwrap();
    listen(&mut s);
    s.expect("Sam speaks, Alex listens").unwrap();
    answer(&mut s, "The feeling", "");
    answer(&mut s, "The need", "");
    listen(&mut s);
    answer(&mut s, "something you would like to offer", "");
    answer(&mut s, "A note for yourself", "we talked on the sofa");
    s.expect("Logged repair today, repaired in 45m").unwrap();
    assert_eq!(exit_code(&mut s), 0);

    let repairs = env.history(&["--practice", "repair"]);
    assert_eq!(repairs.len(), 1, "{repairs:?}");
    assert_eq!(repairs[0]["took_minutes"], 45);
    assert_eq!(repairs[0]["note"], "we talked on the sofa");
    // The note stays on this machine, and nothing typed in the steps is kept.
    let shared = env.shared_bytes();
    assert!(!crate::env::contains_bytes(&shared, "sofa"));
    for typed in ["hurt", "a hug", "Sam"] {
        assert!(
            env.files_holding("", typed).is_empty(),
            "{typed:?} was written to disk"
        );
    }
}

#[test]
fn ctrl_c_mid_way_logs_nothing() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation"]).ok();
    let before = env.snapshot();
    let mut s = on_terminal(&env, &["repair", "--rupture-at", "19:30"]);
    answer(&mut s, "Is now a good time for both of you?", "y");
    answer(&mut s, "Your partner's name", "Sam");
    answer(&mut s, "The feeling", "hurt");
    s.expect("The need").unwrap();
    s.send(ControlCode::EndOfText).unwrap();
    s.expect("Stopped. Nothing was logged.").unwrap();
    assert_eq!(exit_code(&mut s), 130);
    assert!(env.history(&["--practice", "repair"]).is_empty());
    assert_eq!(env.snapshot(), before, "Ctrl-C changed the journal");
    assert!(!env.path("rituals.json").exists());
}

#[test]
fn without_a_terminal_it_explains_itself_and_exits_2() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation"]).ok();
    let before = env.snapshot();
    let err = env.run_stdin(&["repair"], "").fails(2);
    assert!(err.contains("needs a terminal"), "{err}");
    assert!(err.contains("safe log repair --took"), "{err}");
    assert_eq!(env.snapshot(), before);
    // A rupture time that does not read is refused first.
    let err = env.run(&["repair", "--rupture-at", "soonish"]).fails(2);
    assert!(err.contains("soonish"), "{err}");
}

#[test]
fn a_time_out_keeps_the_time_to_come_back_and_the_next_walk_says_it() {
    let mut env = TestEnv::new().at("2026-11-27T21:10:00+01:00");
    env.run(&["init", "--name", "Alex"]).ok();
    let mut s = on_terminal(&env, &["repair"]);
    answer(&mut s, "Is now a good time for both of you?", "n");
    answer(&mut s, "Come back [30m]:", "21:40");
    s.expect("Come back at 21:40 (in 30 minutes).").unwrap();
    assert_eq!(exit_code(&mut s), 0);
    assert!(env.history(&["--practice", "repair"]).is_empty());
    let kept = env.read_json("rituals.json");
    assert_eq!(kept["time_out"]["back_at"], "2026-11-27T21:40:00+01:00");

    // Asked again, without a terminal: it says the time, then explains.
    env.set_now("2026-11-27T21:45:00+01:00");
    let run = env.run_stdin(&["repair"], "");
    run.fails(2);
    assert!(
        run.stdout()
            .contains("You agreed to come back at 21:40 (5 minutes ago)."),
        "{}",
        run.stdout()
    );

    // Back at a terminal: the walk says it, and `t` at any step can call
    // another time-out; this time they go through to the end.
    let mut s = on_terminal(&env, &["repair", "--rupture-at", "21:10"]);
    s.expect("You agreed to come back at 21:40 (5 minutes ago).")
        .unwrap();
    answer(&mut s, "Is now a good time for both of you?", "yes");
    answer(&mut s, "Your partner's name", "");
    s.expect("Alex speaks, Partner listens").unwrap();
    for _ in 0..2 {
        answer(&mut s, "(Enter to skip)", "");
        answer(&mut s, "(Enter to skip)", "");
        listen(&mut s);
    }
    answer(&mut s, "something you would like to offer", "");
    answer(&mut s, "A note for yourself", "");
    s.expect("Logged repair today, repaired in 35m").unwrap();
    s.expect("You came back, as you said you would.").unwrap();
    assert_eq!(exit_code(&mut s), 0);
    let repairs = env.history(&["--practice", "repair"]);
    assert_eq!(repairs.len(), 1);
    assert_eq!(repairs[0]["took_minutes"], 35);
    // Kept no longer.
    let run = env.run_stdin(&["repair"], "");
    assert!(!run.stdout().contains("come back"), "{}", run.stdout());

    // `t` mid-walk calls a time-out too, with the default break.
    let mut s = on_terminal(&env, &["repair", "--rupture-at", "21:30"]);
    answer(&mut s, "Is now a good time for both of you?", "");
    answer(&mut s, "Your partner's name", "Sam");
    answer(&mut s, "The feeling", "t");
    answer(&mut s, "Come back [30m]:", "");
    s.expect("Come back at 22:15 (in 30 minutes).").unwrap();
    assert_eq!(exit_code(&mut s), 0);
    assert_eq!(env.history(&["--practice", "repair"]).len(), 1);
}
