//! Several `safe` processes at once lose nothing, and a process killed at any
//! moment leaves every file whole (DESIGN.md §3, durability).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::env::{TestEnv, files_under};

/// Parse every `.json` data file (config.json, shared/, private/) as a safe
/// envelope; panic naming the first one that is torn. A derived cache may be
/// torn: it must never change an answer, which the final history checks.
fn every_json_file_parses(env: &TestEnv, when: &str) -> Vec<(PathBuf, Value)> {
    let mut docs = Vec::new();
    let mut paths = files_under(&env.path("shared"));
    paths.extend(files_under(&env.path("private")));
    paths.push(env.path("config.json"));
    for path in paths.into_iter().filter(|p| p.exists()) {
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        let doc: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{when}: {} is torn ({e}):\n{}",
                path.display(),
                String::from_utf8_lossy(&bytes)
            )
        });
        assert_eq!(doc["schema"], 1, "{when}: {}", path.display());
        docs.push((path, doc));
    }
    docs
}

/// The live entries of every month file, shared and private.
fn live_entries(env: &TestEnv) -> Vec<Value> {
    let mut out = Vec::new();
    for (path, doc) in every_json_file_parses(env, "counting") {
        if path
            .parent()
            .and_then(Path::file_name)
            .is_none_or(|n| n != "log")
        {
            continue;
        }
        let entries = doc["entries"].as_array().unwrap();
        out.extend(entries.iter().filter(|e| e["deleted"] != true).cloned());
    }
    out
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
                    // Spread over two months, so two files are contended.
                    let days_ago = format!("{} days ago", (i * 7 + worker) % 45);
                    let note = format!("worker {worker} entry {i}");
                    let mut args = vec![
                        "log", practice, "--again", "--date", &days_ago, "--note", &note,
                    ];
                    // Mostly shared notes (one file); every tenth stays
                    // private, so the private files are contended too.
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

    let live = live_entries(&env);
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
    let people = env.read_json("shared/people.json");
    assert_eq!(people["people"].as_array().unwrap().len(), 1, "{people:#}");

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
        every_json_file_parses(&env, &format!("after round {round} (seed {seed:#x})"));
    }

    // Whatever the kills left behind, safe carries on.
    let before = live_entries(&env).len();
    assert!(before >= 1);
    env.run(&["log", "repair", "--note", "after the storm"])
        .ok();
    let all = env.history(&["--all"]);
    assert_eq!(all.len(), before + 1);
    assert!(all.iter().any(|e| e["note"] == "before the storm"));
    assert!(all.iter().any(|e| e["note"] == "after the storm"));
    every_json_file_parses(&env, "at the end");
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
        // Undo, edit in place, and a move to another month (two files).
        let args: Vec<&str> = match round % 3 {
            0 => vec!["undo"],
            1 => vec!["edit", &id, "--note", &note],
            _ => vec!["edit", &id, "--date", "2026-10-15"],
        };
        let mut child = env.spawn_quiet(&args);
        kill_after(&mut child, &mut rng);
        every_json_file_parses(&env, &format!("after round {round}: {args:?}"));
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
    let torn = b"{\"schema\":1,\"entries\":[{\"id\":";
    for dir in ["", "shared", "shared/log", "private/log"] {
        std::fs::write(env.path(dir).join(".tmp-crashed"), torn).unwrap();
        std::fs::write(env.path(dir).join(".tmp-empty"), b"").unwrap();
    }

    env.run(&["log", "repair", "--note", "still works"]).ok();
    env.run(&["log", "check-in", "--date", "2026-10-01"]).ok();
    env.run(&["practice", "goal", "listen", "3/week"]).ok();
    env.run(&["init", "--name", "Robin"]).ok();
    env.run(&["undo"]).ok();
    let all = env.history(&["--all"]);
    assert_eq!(all.len(), 3);
    env.run(&["export"]).ok();
    every_json_file_parses(&env, "with leftovers");
    // A month is never read from a temporary file.
    assert!(!env.path("shared/log/.tmp-crashed.json").exists());
}

/// The day cache is patched in place by whichever process saves it, while
/// others read it: writers and readers at once, and writers killed at any
/// moment, must leave statistics that equal a fresh computation.
#[test]
fn the_day_cache_survives_writers_readers_and_kills() {
    let env = TestEnv::new();
    let days: Vec<String> = (0..60).map(|n| format!("{n} days ago")).collect();
    for (n, day) in days.iter().enumerate() {
        let practice = ["appreciation", "check-in"][n % 2];
        env.run(&["log", practice, "--date", day]).ok();
    }
    // Old enough for the cache to keep every month, then build it.
    std::thread::sleep(Duration::from_millis(250));
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

    // Writers killed while they write the month or patch the cache.
    let seed = 0xcafe_2026_u64;
    let mut rng = XorShift(seed);
    for round in 0..15 {
        let mut child = env.spawn_quiet(&["log", "appreciation"]);
        kill_after(&mut child, &mut rng);
        // The cache as the kill left it (perhaps torn) answers first; then
        // the same question is asked of a cache built afresh.
        let cached = env.run(&["stats", "--all", "--json"]).json();
        std::fs::remove_dir_all(env.path("cache")).unwrap();
        let fresh = env.run(&["stats", "--all", "--json"]).json();
        assert_eq!(cached, fresh, "round {round} (seed {seed:#x})");
    }
    let cached = env.run(&["stats", "--all", "--json"]).json();
    std::fs::remove_dir_all(env.path("cache")).unwrap();
    assert_eq!(cached, env.run(&["stats", "--all", "--json"]).json());
}
