//! Several `safe` processes at once lose nothing, and a process killed at any
//! moment leaves every file whole (DESIGN.md §3, durability).

use std::collections::HashSet;
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::env::TestEnv;

/// Every file of the journal reads after `when`: `journal.json` and
/// `config.json` parse, and every segment holds whole lines, each a JSON
/// payload and a signature field (a crash may leave only a torn last line
/// without its LF, which readers ignore and the next write cuts away); and
/// a reader answers without an error.
fn every_file_reads(env: &TestEnv, when: &str) {
    for rel in ["journal.json", "config.json"] {
        let path = env.path(rel);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        serde_json::from_slice::<Value>(&bytes).unwrap_or_else(|e| {
            panic!(
                "{when}: {rel} is torn ({e}):\n{}",
                String::from_utf8_lossy(&bytes)
            )
        });
    }
    let mut segments = env.segments("shared/log");
    segments.extend(env.segments("private/log"));
    for path in segments {
        let bytes = std::fs::read(&path).unwrap();
        let whole = match bytes.iter().rposition(|b| *b == b'\n') {
            Some(end) => &bytes[..=end],
            None => &[][..],
        };
        for line in String::from_utf8_lossy(whole).lines() {
            let payload = line.split('\t').next().unwrap();
            let parsed: Result<Value, _> = serde_json::from_str(payload);
            assert!(
                parsed.is_ok() && line.contains('\t'),
                "{when}: {} holds a torn line: {line:?}",
                path.display()
            );
        }
    }
    let run = env.run(&["history", "--all", "--json"]);
    assert_eq!(run.code(), 0, "{when}: {}", run.stderr());
}

/// A small xorshift generator: reproducible delays without another crate.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn four_processes_at_once_lose_nothing() {
    const WORKERS: usize = 4;
    const EACH: usize = 50;
    let env = TestEnv::new();
    let practices = ["listen", "appreciation", "check-in", "gentle-touch"];

    // No set-up first: the four also race to create the identity.
    std::thread::scope(|scope| {
        for (worker, practice) in practices.iter().enumerate().take(WORKERS) {
            let env = &env;
            scope.spawn(move || {
                for i in 0..EACH {
                    // Spread over two months of days.
                    let days_ago = format!("{} days ago", (i * 7 + worker) % 45);
                    let note = format!("worker {worker} entry {i}");
                    let mut args = vec![
                        "log", practice, "--again", "--date", &days_ago, "--note", &note,
                    ];
                    // Mostly shared notes (the shared log); every tenth
                    // stays private, so the private log is contended too.
                    if i % 10 != 0 {
                        args.push("--share-note");
                    }
                    let output = env
                        .std_cmd()
                        .args(&args)
                        .stdin(Stdio::null())
                        .output()
                        .unwrap();
                    assert!(
                        output.status.success(),
                        "worker {worker} entry {i}: {}",
                        String::from_utf8_lossy(&output.stderr)
                    );
                }
            });
        }
    });

    let live = env.journal();
    assert_eq!(live.len(), WORKERS * EACH);
    let ids: HashSet<&str> = live.iter().map(|e| e["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), WORKERS * EACH, "ids are distinct");
    let authors: HashSet<&str> = live.iter().map(|e| e["author"].as_str().unwrap()).collect();
    assert_eq!(
        authors.len(),
        1,
        "one identity, even when four first runs race: {authors:?}"
    );
    let months: HashSet<&str> = live
        .iter()
        .map(|e| &e["day"].as_str().unwrap()[..7])
        .collect();
    assert_eq!(months, HashSet::from(["2026-10", "2026-11"]));
    let devices = std::fs::read_dir(env.path("shared/log")).unwrap().count();
    assert_eq!(devices, 1, "one device, one shared log");
    every_file_reads(&env, "after the race");

    // Every note arrived, each with its own entry.
    let seen = env.history(&["--all"]);
    let notes: HashSet<&str> = seen.iter().map(|e| e["note"].as_str().unwrap()).collect();
    assert_eq!(notes.len(), WORKERS * EACH);
    for worker in 0..WORKERS {
        for i in 0..EACH {
            assert!(notes.contains(format!("worker {worker} entry {i}").as_str()));
        }
    }
}

/// Wait a random 0–30 ms, then SIGKILL the child (`Child::kill` on unix).
fn kill_after(child: &mut Child, rng: &mut XorShift) {
    std::thread::sleep(Duration::from_micros(rng.below(30_000)));
    let _ = child.kill();
    child.wait().unwrap();
}

#[test]
fn a_killed_process_never_leaves_a_torn_file() {
    let env = TestEnv::new();
    env.run(&["log", "listen", "--note", "before the storm"])
        .ok();
    let seed = 0x5afe_2026_1127_u64;
    let mut rng = XorShift(seed);
    let practices = ["appreciation", "repair", "check-in", "listen"];

    for round in 0..30 {
        let practice = practices[round % practices.len()];
        let note = format!("round {round}");
        // Alternate months, and sometimes touch both sides of the journal.
        let date = if round % 3 == 0 {
            "2026-10-15"
        } else {
            "today"
        };
        let mut args = vec!["log", practice, "--date", date, "--note", &note];
        if round % 5 == 0 {
            args.push("--private");
        }
        let mut child = env.spawn_quiet(&args);
        kill_after(&mut child, &mut rng);
        every_file_reads(&env, &format!("after round {round} (seed {seed:#x})"));
    }

    // Whatever the kills left behind, safe carries on.
    let before = env.journal().len();
    assert!(before >= 1);
    env.run(&["log", "repair", "--note", "after the storm"])
        .ok();
    let all = env.history(&["--all"]);
    assert_eq!(all.len(), before + 1);
    assert!(all.iter().any(|e| e["note"] == "before the storm"));
    assert!(all.iter().any(|e| e["note"] == "after the storm"));
    every_file_reads(&env, "at the end");

    // The index the kills left (commits cut short, rolled back, fed again)
    // answers as one made afresh from the logs.
    let questions: [&[&str]; 3] = [
        &["stats", "--all", "--json"],
        &["history", "--all", "--json"],
        &["today"],
    ];
    let answers = |env: &TestEnv| env.answers(&questions);
    let kept = answers(&env);
    std::fs::remove_dir_all(env.path("index")).unwrap();
    assert_eq!(answers(&env), kept);
}

#[test]
fn a_killed_undo_or_edit_leaves_whole_files() {
    let env = TestEnv::new();
    for i in 0..10 {
        env.run(&[
            "log",
            "appreciation",
            "--again",
            "--note",
            &format!("note {i}"),
        ])
        .ok();
    }
    let mut rng = XorShift(0x00c0_ffee_u64);
    for round in 0..12 {
        let seen = env.history(&["--all"]);
        let Some(first) = seen.first() else {
            break;
        };
        let id = first["id"].as_str().unwrap().to_string();
        let note = format!("edited {round}");
        // Undo (perhaps of an edit), an edit of the note, a move of day.
        let args: Vec<&str> = match round % 3 {
            0 => vec!["undo"],
            1 => vec!["edit", &id, "--note", &note],
            _ => vec!["edit", &id, "--date", "2026-10-15"],
        };
        let mut child = env.spawn_quiet(&args);
        kill_after(&mut child, &mut rng);
        every_file_reads(&env, &format!("after round {round}: {args:?}"));
    }
    let seen = env.history(&["--all"]);
    assert!(seen.len() <= 10);
    env.run(&["log", "listen"]).ok();
}

#[test]
fn leftover_temporary_files_break_nothing() {
    let env = TestEnv::new();
    env.run(&["log", "listen", "--note", "kept"]).ok();
    env.run(&["log", "date", "--private"]).ok();
    // What a crash between "create the temporary file" and "rename" leaves.
    let torn = b"{\"v\":2,\"device\":";
    for dir in ["", "shared", "shared/log", "private/log", "keys"] {
        std::fs::write(env.path(dir).join(".tmp-crash1"), torn).unwrap();
        std::fs::write(env.path(dir).join(".tmp-empty1"), b"").unwrap();
    }

    env.run(&["log", "repair", "--note", "still works"]).ok();
    env.run(&["log", "check-in", "--date", "2026-10-01"]).ok();
    env.run(&["practice", "goal", "listen", "3/week"]).ok();
    env.run(&["init", "--name", "Robin"]).ok();
    env.run(&["undo"]).ok();
    assert_eq!(env.my_name(), "Alex", "the rename was undone");
    let all = env.history(&["--all"]);
    assert_eq!(all.len(), 4);
    env.run(&["export"]).ok();
    every_file_reads(&env, "with leftovers");
}

/// The index is fed by whichever process reads or writes first: writers
/// and readers at once, and writers killed at any moment, must leave
/// statistics that equal an index made afresh from the logs.
#[test]
fn the_index_survives_writers_readers_and_kills() {
    let env = TestEnv::new();
    let days: Vec<String> = (0..60).map(|n| format!("{n} days ago")).collect();
    for (n, day) in days.iter().enumerate() {
        let practice = ["appreciation", "check-in"][n % 2];
        env.run(&["log", practice, "--date", day]).ok();
    }
    env.run(&["stats", "--all", "--json"]).ok();

    std::thread::scope(|scope| {
        for writer in 0..2 {
            let env = &env;
            scope.spawn(move || {
                for i in 0..15 {
                    let practice = ["appreciation", "gentle-touch"][writer];
                    let when = format!("{} days ago", (i * 3 + writer) % 40);
                    let output = env
                        .std_cmd()
                        .args(["log", practice, "--again", "--date", &when])
                        .stdin(Stdio::null())
                        .output()
                        .unwrap();
                    assert!(output.status.success(), "{output:?}");
                }
            });
        }
        for reader in 0..2 {
            let env = &env;
            scope.spawn(move || {
                for _ in 0..15 {
                    let args: &[&str] = if reader == 0 {
                        &["stats", "--all", "--json"]
                    } else {
                        &["today"]
                    };
                    let output = env
                        .std_cmd()
                        .args(args)
                        .stdin(Stdio::null())
                        .output()
                        .unwrap();
                    assert!(output.status.success(), "{output:?}");
                }
            });
        }
    });

    // Writers killed while they append to the log or feed the index.
    let seed = 0xcafe_2026_u64;
    let mut rng = XorShift(seed);
    for round in 0..15 {
        let mut child = env.spawn_quiet(&["log", "appreciation"]);
        kill_after(&mut child, &mut rng);
        // The index as the kill left it answers first; then the same
        // question is asked of an index made afresh.
        let cached = env.run(&["stats", "--all", "--json"]).json();
        std::fs::remove_dir_all(env.path("index")).unwrap();
        let fresh = env.run(&["stats", "--all", "--json"]).json();
        assert_eq!(cached, fresh, "round {round} (seed {seed:#x})");
    }
    let cached = env.run(&["stats", "--all", "--json"]).json();
    std::fs::remove_dir_all(env.path("index")).unwrap();
    assert_eq!(cached, env.run(&["stats", "--all", "--json"]).json());
}
