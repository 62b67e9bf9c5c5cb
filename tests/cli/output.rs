//! What output looks like where it meets a terminal or a pipe: table
//! layout, terminal-safe JSON and CSV, and the wording of gentle summaries.

use serde_json::{Value, json};

use crate::env::{Run, TestEnv, contains_bytes};

/// `safe` with `COLUMNS` set, as in a terminal of that width.
fn run_in_columns(env: &TestEnv, columns: &str, args: &[&str]) -> Run {
    Run {
        output: env
            .cmd()
            .env("COLUMNS", columns)
            .args(args)
            .output()
            .unwrap(),
    }
}

/// The C1 CSI (U+009B) and the right-to-left override (U+202E) in UTF-8.
const RAW_CSI: &[u8] = &[0xc2, 0x9b];
const RAW_RLO: &[u8] = "\u{202e}".as_bytes();

// ------------------------------------------------------------ history table

#[test]
fn a_long_note_does_not_pad_every_row() {
    let env = TestEnv::new();
    let long = "word ".repeat(799);
    env.run(&["log", "listen", "--note", long.trim_end()]).ok();
    env.run(&["log", "repair", "--note", "short"]).ok();
    let out = env.run(&["history"]).ok();
    let short = out
        .lines()
        .find(|l| l.contains("repair"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(short.len() < 80, "{short:?}");
    assert!(short.ends_with("short (note not shared)"), "{short:?}");
    assert!(
        out.lines().all(|l| l == l.trim_end()),
        "no line ends in padding"
    );
    let header = out.lines().next().unwrap();
    assert!(header.trim_end().ends_with("note"), "{header:?}");
}

/// Every id and date in the table, whole and on one line.
fn ids_and_dates_are_whole(env: &TestEnv, out: &str) {
    for item in env.history(&[]) {
        let id = item["id"].as_str().unwrap().replace('-', "");
        let row = out
            .lines()
            .find(|l| l.contains(item["practice"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("{out}"));
        let shown = row
            .split_whitespace()
            .nth(4)
            .unwrap_or_else(|| panic!("{row:?}"));
        assert!(
            (4..=8).contains(&shown.len()) && id[17..].starts_with(shown),
            "{shown} is not a whole handle (the start of the id's random tail) in {row:?}\n{out}"
        );
        let day = item["day"].as_str().unwrap();
        assert!(row.contains(day), "{row:?}\n{out}");
    }
}

#[test]
fn a_narrow_terminal_wraps_only_the_note() {
    let env = TestEnv::new();
    env.run(&[
        "log",
        "appreciation",
        "--note",
        "you made soup for me when I was tired and it helped",
    ])
    .ok();
    env.run(&["log", "stress-talk"]).ok();
    let out = run_in_columns(&env, "40", &["history"]).ok();
    ids_and_dates_are_whole(&env, &out);
    assert!(out.contains("soup"), "{out}");
    assert!(out.lines().count() > 3, "the note wraps:\n{out}");
    // Whole words, not one character a line.
    assert!(out.lines().all(|l| l.split_whitespace().count() > 0));
    assert!(
        out.lines()
            .filter(|l| l.starts_with(char::is_whitespace) && !l.contains("2026"))
            .all(|l| l.trim().chars().count() > 2),
        "{out}"
    );
}

#[test]
fn a_terminal_of_zero_columns_gets_the_table_whole() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation", "--note", "the soup"]).ok();
    for columns in ["0", "5"] {
        let out = run_in_columns(&env, columns, &["history"]).ok();
        assert_eq!(out.lines().count(), 2, "COLUMNS={columns}:\n{out}");
        ids_and_dates_are_whole(&env, &out);
        let stats = run_in_columns(&env, columns, &["stats"]).ok();
        assert!(
            stats
                .lines()
                .any(|l| l.contains("appreciation") && l.contains("daily")),
            "COLUMNS={columns}:\n{stats}"
        );
    }
}

#[test]
fn stats_table_keeps_names_and_numbers_whole_when_narrow() {
    let env = TestEnv::new();
    env.run(&["log", "stress-talk"]).ok();
    env.run(&["log", "appreciation"]).ok();
    let out = run_in_columns(&env, "40", &["stats"]).ok();
    let row = out
        .lines()
        .find(|l| l.contains("stress-talk"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("3/week"), "{out}");
    assert!(out.lines().all(|l| l == l.trim_end()), "{out:?}");
    let piped = env.run(&["stats"]).ok();
    assert!(piped.lines().all(|l| l == l.trim_end()), "{piped:?}");
    assert!(piped.contains(" 1 of 3 "), "{piped}");
}

// ------------------------------------------------------- terminal-safe text

#[test]
fn history_json_escapes_c1_controls_and_bidi_overrides() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let hostile = "look \u{9b}31mred\u{9b}0m and \u{202e}txt.exe\u{202c} \u{2066}x\u{2069}";
    env.run(&[
        "log",
        "appreciation",
        "--date",
        "yesterday",
        "--note",
        hostile,
        "--share-note",
    ])
    .ok();

    let run = env.run(&["history", "--json"]);
    let bytes = &run.output.stdout;
    assert!(!contains_bytes(bytes, RAW_CSI), "{:?}", run.stdout());
    assert!(!contains_bytes(bytes, RAW_RLO), "{:?}", run.stdout());
    assert!(!contains_bytes(bytes, "\u{2066}".as_bytes()));
    assert!(run.stdout().contains(r"\u009b31m"), "{}", run.stdout());
    let items = run.json();
    let noted = items
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["practice"] == "appreciation")
        .unwrap();
    assert_eq!(noted["note"], hostile, "the value is unchanged");
}

#[test]
fn a_partners_controls_are_escaped_in_history_json_and_export() {
    let (env, sam, _remote) = TestEnv::couple();
    env.run(&["log", "listen"]).ok();
    let hostile = "look \u{9b}31mred\u{9b}0m and \u{202e}txt.exe\u{202c} \u{85}\u{202d}";
    sam.run(&[
        "log",
        "appreciation",
        "--date",
        "yesterday",
        "--note",
        hostile,
        "--share-note",
    ])
    .ok();
    sam.sync();
    env.sync();
    for args in [&["history", "--json"][..], &["export"]] {
        let run = env.run(args);
        let bytes = &run.output.stdout;
        assert!(
            !contains_bytes(bytes, RAW_CSI),
            "{args:?}: {:?}",
            run.stdout()
        );
        assert!(
            !contains_bytes(bytes, RAW_RLO),
            "{args:?}: {:?}",
            run.stdout()
        );
        assert!(!contains_bytes(bytes, [0xc2, 0x85]), "{args:?}");
    }
    let theirs = env
        .history(&["--who", "partner"])
        .pop()
        .expect("Sam's entry arrived");
    assert_eq!(theirs["person"], sam.my_id().as_str());
    assert_eq!(theirs["note"], hostile, "the value is unchanged");
    let exported = env.journal();
    assert!(exported.iter().any(|e| e["note"] == hostile));
}

#[test]
fn export_jsonl_escapes_terminal_controls_and_round_trips() {
    let env = TestEnv::new();
    let shared = "mine \u{9b}2J\u{202e}";
    let kept = "kept \u{85}\u{202d}";
    env.run(&["log", "listen", "--note", shared, "--share-note"])
        .ok();
    env.run(&["log", "appreciation", "--note", kept]).ok();
    let run = env.run(&["export"]);
    let bytes = &run.output.stdout;
    assert!(!contains_bytes(bytes, RAW_CSI));
    assert!(!contains_bytes(bytes, RAW_RLO));
    assert!(!contains_bytes(bytes, [0xc2, 0x85]));
    let notes: Vec<Value> = run
        .ok()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["note"].clone())
        .collect();
    assert!(notes.contains(&json!(shared)), "{notes:?}");
    assert!(notes.contains(&json!(kept)), "{notes:?}");
    // And back in, whole.
    let other = TestEnv::named("Jo");
    other.run_stdin(&["import", "-"], &run.stdout()).ok();
    let back: Vec<Value> = other.journal().iter().map(|e| e["note"].clone()).collect();
    assert!(
        back.contains(&json!(shared)) && back.contains(&json!(kept)),
        "{back:?}"
    );
}

#[test]
fn stats_json_escapes_terminal_controls() {
    let env = TestEnv::new();
    env.run(&["practice", "add", "hug", "--goal", "daily"]).ok();
    env.run(&["log", "hug"]).ok();
    // safe refuses such a name now; an older safe may have written it.
    env.write_unchecked(
        json!({"t": "name", "name": "Al\u{202e}ex", "rev": {"ms": 1795806000001u64, "c": 0}}),
    );
    let run = env.run(&["stats", "--json"]);
    assert!(
        !contains_bytes(&run.output.stdout, RAW_RLO),
        "{}",
        run.stdout()
    );
    run.json();
}

#[test]
fn export_csv_neutralises_partner_escapes_and_keeps_newlines() {
    let (env, sam, _remote) = TestEnv::couple();
    sam.run(&[
        "log",
        "appreciation",
        "--date",
        "yesterday",
        "--share-note",
        "--note",
        "\u{1b}]0;pwned\u{7}two\nlines\u{1b}[31m\tred\u{9b}1m",
    ])
    .ok();
    sam.sync();
    env.sync();
    let run = env.run(&["export", "--format", "csv"]);
    let out = run.ok();
    for byte in [0x1b, 0x07] {
        assert!(!run.output.stdout.contains(&byte), "{out:?}");
    }
    assert!(!contains_bytes(&run.output.stdout, RAW_CSI), "{out:?}");
    assert!(out.contains("\"two\nlines\tred\""), "{out:?}");
    assert!(out.contains(",Sam,"), "{out:?}");
}

#[test]
fn export_to_dash_writes_standard_output() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let run = env.run(&["export", "-o", "-"]);
    let out = run.ok();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("\"listen\""), "{out}");
    assert!(!env.home.path().join("-").exists(), "no file named -");

    let file = env.home.path().join("one.jsonl");
    let run = env.run(&["export", "-o", file.to_str().unwrap()]);
    run.ok();
    assert!(
        run.stderr().contains("Exported 1 entry to"),
        "{}",
        run.stderr()
    );
    env.run(&["log", "repair"]).ok();
    let run = env.run(&["export", "-o", file.to_str().unwrap()]);
    assert!(
        run.stderr().contains("Exported 2 entries to"),
        "{}",
        run.stderr()
    );
}

// ----------------------------------------------------------------- wording

#[test]
fn today_short_ends_with_a_newline() {
    let env = TestEnv::new();
    let out = env.run(&["today", "--short"]).ok();
    assert!(out.ends_with('\n'), "{out:?}");
    assert_eq!(out.lines().count(), 1, "{out:?}");
}

#[test]
fn a_weekly_goal_exceeded_never_reads_two_of_one() {
    let env = TestEnv::new();
    env.run(&["log", "date", "--date", "2026-11-24"]).ok();
    let logged = env.run(&["log", "date"]).ok();
    assert!(!logged.contains("2 of 1"), "{logged}");
    assert!(logged.contains("date: 2 this week (goal 1)"), "{logged}");
    let today = env.run(&["today"]).ok();
    assert!(!today.contains("2 of 1"), "{today}");
    assert!(
        today
            .lines()
            .any(|l| l.contains("date") && l.contains("2 this week (goal 1)")),
        "{today}"
    );
    let stats = env.run(&["stats"]).ok();
    assert!(!stats.contains("2 of 1"), "{stats}");
    assert!(stats.contains(" 2 (goal 1) "), "{stats}");
}

#[test]
fn repairs_are_stated_plainly_when_none_were_logged() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let out = env.run(&["stats"]).ok();
    assert!(out.contains("No repair moments logged this week."), "{out}");
    let all = env.run(&["stats", "--all"]).ok();
    assert!(all.contains("No repair moments logged yet."), "{all}");
    assert!(!all.contains("in all."), "{all}");
    let since = env.run(&["stats", "--since", "11-20"]).ok();
    assert!(
        since.contains("No repair moments logged in this period."),
        "{since}"
    );
}

#[test]
fn together_streak_and_repairs_are_stated_plainly() {
    let (env, sam, _remote) = TestEnv::couple();
    env.run(&["log", "listen"]).ok();
    sam.run(&["log", "listen"]).ok();
    sam.sync();
    env.sync();
    let out = env.run(&["stats"]).ok();
    assert!(out.contains("You both practised today."), "{out}");
    assert!(!out.contains("today or yesterday"), "{out}");
    assert!(out.contains("No repair moments logged this week."), "{out}");

    // Through yesterday, with today still open.
    let (env, sam, _remote) = TestEnv::couple();
    for day in ["2026-11-25", "2026-11-26"] {
        env.run(&["log", "listen", "--date", day]).ok();
        sam.run(&["log", "listen", "--date", day]).ok();
    }
    sam.sync();
    env.sync();
    let out = env.run(&["stats"]).ok();
    assert!(
        out.contains("2 days in a row together, up to yesterday."),
        "{out}"
    );
}

#[test]
fn nothing_from_a_partner_points_to_sync() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let out = env.run(&["history", "--who", "partner"]).ok();
    assert!(out.contains("Nothing of your partner's"), "{out}");
    assert!(out.contains("safe sync"), "{out}");
    assert!(!out.contains("safe log"), "{out}");
}
