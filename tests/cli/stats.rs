//! Streaks, strength and summaries as a user sees them: `safe stats` (table
//! and JSON), `safe today`, `safe calendar`, the streak line of `safe log`,
//! skips and pauses end to end, and the derived index, which must never
//! change an answer however stale or damaged it is.
//!
//! "Now" is Friday 2026-11-27 (`env::NOW`); weeks start on Monday, so this
//! week runs from Mon 23 to Sun 29 November.

use serde_json::{Value, json};

use crate::env::TestEnv;

/// Every day from `from` to `to`, inclusive, as `YYYY-MM-DD`.
fn days(from: &str, to: &str) -> Vec<String> {
    let (from, to): (chrono::NaiveDate, chrono::NaiveDate) =
        (from.parse().unwrap(), to.parse().unwrap());
    from.iter_days()
        .take_while(|d| *d <= to)
        .map(|d| d.to_string())
        .collect()
}

/// Import my entries of `practice` on `days` (fast, and authored by me).
fn import(env: &TestEnv, practice: &str, days: &[String]) {
    let lines: Vec<String> = days
        .iter()
        .map(|d| json!({"practice": practice, "day": d}).to_string())
        .collect();
    env.run_stdin(&["import", "-"], &lines.join("\n")).ok();
}

fn practice<'a>(stats: &'a Value, id: &str) -> &'a Value {
    stats["practices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not in {stats:#}"))
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect()
}

/// A journal with something of everything: a daily practice with a best run
/// longer than the current one, a weekly one, one without a goal, and one
/// logged 20 days in a row (the reference value of Loop's formula).
fn journal() -> TestEnv {
    let env = TestEnv::new();
    env.run(&["init", "--name", "Alex"]).ok();
    let mut appreciation = days("2026-10-01", "2026-10-21");
    appreciation.extend(days("2026-11-22", "2026-11-27"));
    import(&env, "appreciation", &appreciation);
    import(&env, "gentle-touch", &days("2026-11-08", "2026-11-27"));
    // Three days a week for the three weeks before this one, two so far.
    let stress: Vec<String> = [
        "02", "04", "06", "09", "11", "13", "16", "18", "20", "24", "26",
    ]
    .iter()
    .map(|d| format!("2026-11-{d}"))
    .collect();
    import(&env, "stress-talk", &stress);
    import(
        &env,
        "long-kiss",
        &[
            "2026-11-26".to_string(),
            "2026-11-27".to_string(),
            "2026-11-27".to_string(),
        ],
    );
    env
}

#[test]
fn stats_json_has_the_contract_fields_and_numbers() {
    let env = journal();
    let stats = env.run(&["stats", "--json"]).json();
    assert_eq!(
        keys(&stats),
        ["period", "person", "practices", "today", "us"]
    );
    assert_eq!(stats["today"], "2026-11-27");
    assert_eq!(
        stats["period"],
        json!({"from": "2026-11-23", "to": "2026-11-29"})
    );
    assert_eq!(stats["person"]["name"], "Alex");
    assert_eq!(keys(&stats["person"]), ["id", "name"]);

    let appreciation = practice(&stats, "appreciation");
    assert_eq!(
        keys(appreciation),
        [
            "best_streak",
            "count",
            "current_streak",
            "goal",
            "id",
            "streak_unit",
            "strength"
        ]
    );
    assert_eq!(appreciation["goal"], "daily");
    assert_eq!(appreciation["count"], 5);
    assert_eq!(appreciation["current_streak"], 6);
    assert_eq!(appreciation["best_streak"], 21);
    assert_eq!(appreciation["streak_unit"], "day");

    // 20 days in a row ending today: 0.655747637 by Loop's formula.
    assert_eq!(
        practice(&stats, "gentle-touch")["strength"],
        json!(0.655748)
    );

    let stress = practice(&stats, "stress-talk");
    assert_eq!(
        (stress["goal"].as_str(), stress["count"].as_u64()),
        (Some("3/week"), Some(2))
    );
    assert_eq!(
        (
            stress["current_streak"].as_u64(),
            stress["streak_unit"].as_str()
        ),
        (Some(3), Some("week"))
    );

    let kiss = practice(&stats, "long-kiss");
    assert_eq!(kiss["goal"], "none");
    assert_eq!(kiss["count"], 3);
    for field in ["current_streak", "best_streak", "streak_unit", "strength"] {
        assert_eq!(kiss[field], Value::Null, "{field}");
    }
    // Practices never logged are left out.
    assert!(
        stats["practices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "check-in")
    );

    assert_eq!(
        keys(&stats["us"]),
        ["repairs", "together_days", "together_streak"]
    );
    assert_eq!(
        keys(&stats["us"]["repairs"]),
        [
            "count",
            "median_took_minutes",
            "previous_median_took_minutes"
        ]
    );
    assert_eq!(stats["us"]["together_days"], 0, "no partner yet");
}

#[test]
fn periods_count_over_their_days_and_all_starts_with_the_journal() {
    let env = journal();
    let month = env.run(&["stats", "--month", "--json"]).json();
    assert_eq!(
        month["period"],
        json!({"from": "2026-11-01", "to": "2026-11-30"})
    );
    assert_eq!(practice(&month, "appreciation")["count"], 6);
    let all = env.run(&["stats", "--all", "--json"]).json();
    assert_eq!(
        all["period"],
        json!({"from": "2026-10-01", "to": "2026-11-27"})
    );
    assert_eq!(practice(&all, "appreciation")["count"], 27);
    // Streaks and strength are as of today whatever the period.
    assert_eq!(practice(&all, "appreciation")["current_streak"], 6);
    let since = env
        .run(&[
            "stats",
            "--since",
            "2026-10-20",
            "--until",
            "2026-10-25",
            "--json",
        ])
        .json();
    assert_eq!(practice(&since, "appreciation")["count"], 2);
}

#[test]
fn stats_table_reads_gently() {
    let env = journal();
    let out = env.run(&["stats"]).ok();
    assert!(
        out.starts_with("This week, Mon 23 Nov to Sun 29 Nov 2026"),
        "{out}"
    );
    let row = |id: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("{id}:\n{out}"))
    };
    let appreciation = row("appreciation");
    for part in ["daily", "5", "6 days", "21 days"] {
        assert!(appreciation.contains(part), "{appreciation}");
    }
    assert!(row("gentle-touch").contains("66%"), "{out}");
    assert!(row("stress-talk").contains("2 of 3"), "{out}");
    assert!(row("stress-talk").contains("3 weeks"), "{out}");
    assert!(row("long-kiss").contains('–'), "{out}");
    assert!(out.contains("\nUs\n"), "{out}");
    assert!(out.contains("Sync with your partner"), "{out}");
    assert!(!out.contains('\u{1b}'), "no colour with NO_COLOR:\n{out}");
}

#[test]
fn us_counts_days_together_and_repairs_never_one_against_the_other() {
    let (env, sam, _remote) = TestEnv::couple();
    let mine = journal();
    env.run_stdin(&["import", "-"], &mine.run(&["export"]).ok())
        .ok();
    env.run(&["log", "repair", "--took", "30m"]).ok();
    import(&sam, "mirror", &days("2026-11-24", "2026-11-27"));
    sam.run(&["log", "repair", "--date", "2026-11-25", "--took", "1h"])
        .ok();
    sam.run(&["log", "repair", "--date", "2026-11-18", "--took", "2h"])
        .ok();
    sam.sync();
    env.sync();

    let stats = env.run(&["stats", "--json"]).json();
    assert_eq!(stats["us"]["together_days"], 4);
    assert_eq!(stats["us"]["together_streak"], 4);
    assert_eq!(
        stats["us"]["repairs"],
        json!({"count": 2, "median_took_minutes": 45, "previous_median_took_minutes": 120})
    );
    // Only my practices: my partner's never show as theirs or as a total.
    assert!(
        stats["practices"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != "mirror")
    );
    assert_eq!(practice(&stats, "repair")["count"], 1);

    let out = env.run(&["stats"]).ok();
    assert!(
        out.contains("You both practised on 4 days this week."),
        "{out}"
    );
    assert!(out.contains("4 days in a row together"), "{out}");
    assert!(
        out.contains(
            "2 repair moments this week, repaired in 45m at the median: faster than last week (2h)"
        ),
        "{out}"
    );
    // Sam is named only to say how recent Sam's side is (DESIGN.md §5).
    assert!(
        out.lines()
            .filter(|l| l.contains("Sam"))
            .all(|l| l.trim_start().starts_with("As of Sam's newest change here")),
        "no partner-by-partner figures:\n{out}"
    );
}

#[test]
fn skips_and_pauses_bridge_streaks_and_leave_strength_unchanged() {
    let env = TestEnv::new();
    // check-in: five days, a skip, two days. turn-toward: the same days
    // with the gap paused. appreciation: seven days in a row.
    let mut with_gap = days("2026-11-20", "2026-11-24");
    with_gap.extend(days("2026-11-26", "2026-11-27"));
    import(&env, "check-in", &with_gap);
    import(&env, "turn-toward", &with_gap);
    import(&env, "appreciation", &days("2026-11-21", "2026-11-27"));
    env.run(&["skip", "check-in", "--date", "2026-11-25"]).ok();
    env.run(&[
        "pause",
        "--from",
        "2026-11-25",
        "--to",
        "2026-11-25",
        "--practice",
        "turn-toward",
    ])
    .ok();

    let stats = env.run(&["stats", "--json"]).json();
    let reference = practice(&stats, "appreciation");
    for id in ["check-in", "turn-toward"] {
        let p = practice(&stats, id);
        assert_eq!(
            p["current_streak"], 7,
            "{id}: the bridged day keeps the run without adding to it"
        );
        assert_eq!(
            p["strength"], reference["strength"],
            "{id}: the bridged day leaves strength as it was"
        );
    }

    // A pause of everything bridges every practice.
    let env = TestEnv::new();
    let mut around = days("2026-11-01", "2026-11-10");
    around.extend(days("2026-11-21", "2026-11-27"));
    import(&env, "gentle-touch", &around);
    env.run(&["pause", "--from", "2026-11-11", "--to", "2026-11-20"])
        .ok();
    let stats = env.run(&["stats", "--json"]).json();
    assert_eq!(practice(&stats, "gentle-touch")["current_streak"], 17);
}

#[test]
fn log_ends_with_the_streak_gently() {
    let env = TestEnv::new();
    let first = env.run(&["log", "appreciation"]).ok();
    assert!(
        first.contains("appreciation: day 1 of a new streak"),
        "{first}"
    );

    import(&env, "gentle-touch", &days("2026-11-21", "2026-11-26"));
    let sixth = env.run(&["log", "gentle-touch"]).ok();
    assert!(sixth.contains("gentle-touch: 7 days in a row"), "{sixth}");

    env.run(&["log", "stress-talk", "--date", "2026-11-23"])
        .ok();
    let weekly = env.run(&["log", "stress-talk"]).ok();
    assert!(weekly.contains("stress-talk: 2 of 3 this week"), "{weekly}");

    let goal_less = env.run(&["log", "long-kiss"]).ok();
    assert!(!goal_less.contains("long-kiss:"), "{goal_less}");
    assert!(!goal_less.contains("in a row"), "{goal_less}");
}

#[test]
fn today_lists_what_is_done_and_open() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation"]).ok();
    env.run(&["log", "appreciation", "--again"]).ok();
    env.run(&["log", "long-kiss"]).ok();
    env.run(&["skip", "check-in"]).ok();
    env.run(&["log", "stress-talk", "--date", "2026-11-24"])
        .ok();
    env.run(&["practice", "retire", "turn-toward"]).ok();

    let out = env.run(&["today"]).ok();
    assert!(out.starts_with("Today, Friday 27 November"), "{out}");
    assert!(out.contains("✓ appreciation ×2"), "{out}");
    assert!(out.contains("✓ long-kiss"), "{out}");
    let open = out
        .split("Still open today")
        .nth(1)
        .unwrap_or_else(|| panic!("{out}"));
    let open = open.split("This week").next().unwrap();
    assert!(open.contains("○ gentle-touch"), "{out}");
    assert!(
        !open.contains("○ check-in"),
        "a skipped practice rests:\n{out}"
    );
    assert!(
        !out.contains("turn-toward"),
        "retired practices are not shown:\n{out}"
    );
    let week = out.split("This week").nth(1).unwrap();
    assert!(
        week.lines()
            .any(|l| l.contains("stress-talk") && l.contains("1 of 3")),
        "{out}"
    );
    assert!(
        week.lines()
            .any(|l| l.contains("date") && l.contains("0 of 1")),
        "{out}"
    );

    let short = env.run(&["today", "--short"]).ok();
    assert_eq!(short, "safe: 2 done · 1 open\n");
}

#[test]
fn today_on_a_new_journal_is_kind() {
    let env = TestEnv::new();
    let out = env.run(&["today"]).ok();
    assert!(out.contains("Nothing logged yet today"), "{out}");
    assert_eq!(
        env.run(&["today", "--short"]).ok(),
        "safe: 0 done · 4 open\n"
    );
    let stats = env.run(&["stats"]).ok();
    assert!(stats.contains("Nothing logged yet"), "{stats}");
}

#[test]
fn calendar_is_a_plain_heatmap_without_colour() {
    let env = TestEnv::new();
    import(
        &env,
        "appreciation",
        &[
            "2026-11-23".to_string(),
            "2026-11-25".to_string(),
            "2026-11-25".to_string(),
        ],
    );
    import(
        &env,
        "listen",
        &["2026-11-25".to_string(), "2026-11-26".to_string()],
    );
    let out = env.run(&["calendar", "--weeks", "4"]).ok();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("the last 4 weeks"), "{out}");
    let grid: Vec<&str> = lines
        .iter()
        .copied()
        .skip_while(|l| !l.starts_with("Mon"))
        .take(7)
        .collect();
    let labels: Vec<&str> = grid.iter().map(|l| &l[..3]).collect();
    assert_eq!(
        labels,
        ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        "{out}"
    );
    // One column per week; the last is this week, shaded by count.
    assert_eq!(grid[0], "Mon · · · ░", "{out}");
    assert_eq!(grid[2], "Wed · · · ▓", "{out}");
    assert_eq!(grid[3], "Thu · · · ░", "{out}");
    assert_eq!(grid[5], "Sat · · ·", "the future is blank:\n{out}");
    assert!(out.contains("less · ░ ▒ ▓ more"), "{out}");
    assert!(!out.contains('\u{1b}'), "{out}");

    let one = env.run(&["calendar", "listen", "--weeks", "4"]).ok();
    assert!(one.contains("Wed · · · ░"), "{one}");

    // Half a year, when asked.
    let wide = env.run(&["calendar", "--weeks", "26"]).ok();
    assert!(
        wide.lines()
            .any(|l| l.starts_with("Mon") && l.chars().count() == 3 + 2 * 26),
        "{wide}"
    );
}

#[test]
fn calendar_of_us_shades_the_days_we_both_practised() {
    let (env, sam, _remote) = TestEnv::couple();
    import(
        &env,
        "listen",
        &["2026-11-25".to_string(), "2026-11-26".to_string()],
    );
    sam.run(&["log", "mirror", "--date", "2026-11-25"]).ok();
    sam.sync();
    env.sync();
    let us = env.run(&["calendar", "--who", "us", "--weeks", "4"]).ok();
    assert!(us.contains("Wed · · · ▒"), "both of us:\n{us}");
    assert!(us.contains("Thu · · · ░"), "one of us:\n{us}");
}

#[test]
fn calendar_refuses_what_it_cannot_show() {
    let env = TestEnv::new();
    let err = env.run(&["calendar", "apreciation"]).fails(2);
    assert!(err.contains("appreciation"), "{err}");
    env.run(&["calendar", "--weeks", "0"]).fails(2);
    env.run(&["calendar", "--weeks", "261"]).fails(2);
}

#[test]
fn a_deleted_or_damaged_index_never_changes_an_answer() {
    let env = journal();
    env.run(&["log", "repair", "--took", "30m", "--note", "kept here"])
        .ok();
    env.run(&["pause", "--from", "2026-11-10", "--to", "2026-11-12"])
        .ok();
    let index = env.path("index/index.sqlite");
    let questions: [&[&str]; 6] = [
        &["stats", "--json"],
        &["stats", "--all", "--json"],
        &["history", "--all", "--json"],
        &["today"],
        &["calendar", "--who", "us"],
        &["export"],
    ];
    let answers = |env: &TestEnv| -> Vec<String> {
        questions
            .iter()
            .map(|q| {
                let run = env.run(q);
                assert!(!run.stderr().contains("error"), "{q:?}: {}", run.stderr());
                run.ok()
            })
            .collect()
    };
    let before = answers(&env);
    assert!(index.exists(), "reading keeps an index");
    let built = std::fs::read(&index).unwrap();

    // Deleted whole.
    std::fs::remove_dir_all(env.path("index")).unwrap();
    assert_eq!(answers(&env), before);
    // Garbage, a truncated index, and one with a flipped byte.
    std::fs::write(&index, b"not an index at all").unwrap();
    assert_eq!(answers(&env), before);
    std::fs::write(&index, &built[..built.len() / 2]).unwrap();
    assert_eq!(answers(&env), before);
    let mut flipped = built.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0xff;
    std::fs::write(&index, &flipped).unwrap();
    assert_eq!(answers(&env), before);
    // Its notes of what it has read, lost or garbled.
    std::fs::remove_file(env.path("index/indexed.json")).unwrap();
    assert_eq!(answers(&env), before);
    std::fs::write(env.path("index/indexed.json"), b"{\"garbled\":").unwrap();
    assert_eq!(answers(&env), before);

    // An index of before, put back after a change: stale, never trusted.
    std::fs::remove_dir_all(env.path("index")).unwrap();
    env.run(&["stats"]).ok();
    let stale = std::fs::read(&index).unwrap();
    let stale_notes = std::fs::read(env.path("index/indexed.json")).unwrap();
    env.run(&["log", "check-in"]).ok();
    let after = answers(&env);
    assert_ne!(after, before, "the change shows");
    std::fs::write(&index, &stale).unwrap();
    std::fs::write(env.path("index/indexed.json"), &stale_notes).unwrap();
    assert_eq!(answers(&env), after);
    std::fs::remove_dir_all(env.path("index")).unwrap();
    assert_eq!(answers(&env), after);

    // A rebuild cut short (it builds beside the index, then renames): the
    // half-made file is never read, and goes.
    let building = env.path("index/index.sqlite.new");
    std::fs::write(&building, &built[..built.len() / 2]).unwrap();
    assert_eq!(answers(&env), after);
    assert!(!building.exists(), "the half-made index is left behind");
    std::fs::remove_file(&index).unwrap();
    std::fs::write(&building, &stale).unwrap();
    assert_eq!(answers(&env), after);
    assert!(!building.exists() && index.exists());
}

/// The index's commits are not flushed (docs/protocol.md "Index:
/// flushes"): a crash of the system could leave it with pages torn or
/// lost, in a file that still opens and whose segment marks say it has
/// read every line. An index written under another run of the system
/// (`index/boot`) is made again from the logs before anything reads it.
#[cfg(target_os = "linux")]
#[test]
fn an_index_written_before_the_system_went_down_is_made_again() {
    let env = journal();
    env.run(&["log", "repair", "--took", "30m", "--note", "kept here"])
        .ok();
    let questions: [&[&str]; 3] = [
        &["stats", "--all", "--json"],
        &["history", "--all", "--json"],
        &["today"],
    ];
    let answers = |env: &TestEnv| env.answers(&questions);
    let before = answers(&env);
    let boot = env.path("index/boot");
    let Ok(token) = std::fs::read_to_string(&boot) else {
        // A kernel before 6.8, or a folder not known to be local: every
        // commit is flushed (store::boot).
        eprintln!("no token here: the index's commits are flushed");
        return;
    };
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").unwrap();
    assert!(
        token.starts_with(&format!("boot {}\n", boot_id.trim())),
        "{token}"
    );

    // What a crash could leave: rows lost from a file that is sound.
    let db = rusqlite::Connection::open(env.path("index/index.sqlite")).unwrap();
    db.execute_batch("DELETE FROM days; DELETE FROM versions WHERE reg = 'entry';")
        .unwrap();
    drop(db);
    // ... and the machine started again.
    std::fs::write(
        &boot,
        "boot 5c1e7b5e-0b0e-4a1e-9d2c-000000000001\nmount 7\n",
    )
    .unwrap();

    assert_eq!(answers(&env), before);
    assert_eq!(
        std::fs::read_to_string(&boot).unwrap(),
        token,
        "written under this run again"
    );
}

/// Within one run of the system the index is kept: a command reads and
/// writes the same file, rather than making it again.
#[cfg(target_os = "linux")]
#[test]
fn within_one_run_of_the_system_the_index_is_kept() {
    let env = journal();
    let index = env.path("index/index.sqlite");
    // A row no index made by safe has: gone once the index is made again.
    let mark = || {
        let db = rusqlite::Connection::open(&index).unwrap();
        db.execute("INSERT INTO meta (key, value) VALUES ('kept', 1)", [])
            .unwrap();
    };
    let kept = || {
        let db = rusqlite::Connection::open(&index).unwrap();
        db.query_row("SELECT count(*) FROM meta WHERE key = 'kept'", [], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
            == 1
    };
    env.run(&["stats"]).ok();
    if !env.path("index/boot").exists() {
        eprintln!("no token here: the index's commits are flushed");
        return;
    }
    mark();
    env.run(&["log", "check-in"]).ok();
    env.run(&["stats", "--all"]).ok();
    assert!(kept(), "the index was made again within one run");
    // Without its token, it is made again.
    std::fs::remove_file(env.path("index/boot")).unwrap();
    env.run(&["stats"]).ok();
    assert!(!kept());
}

/// `safe log` feeds the index only the lines it has not seen: the answers
/// must be those of an index made afresh from the logs.
#[test]
fn logging_onto_an_indexed_journal_changes_no_answer() {
    let env = TestEnv::new();
    import(&env, "appreciation", &days("2026-10-20", "2026-11-26"));
    import(&env, "repair", &days("2026-11-02", "2026-11-05"));
    env.run(&["stats", "--all", "--json"]).ok();
    assert!(env.path("index").exists());

    let line = env.run(&["log", "appreciation"]).ok();
    assert!(line.contains("39 days in a row"), "{line}");
    env.run(&["skip", "check-in"]).ok();
    env.run(&["log", "repair", "--took", "30m", "--note", "kept here"])
        .ok();
    env.run(&["log", "appreciation", "--date", "2026-11-03", "--again"])
        .ok();

    let indexed = env.run(&["stats", "--all", "--json"]).json();
    std::fs::remove_dir_all(env.path("index")).unwrap();
    let fresh = env.run(&["stats", "--all", "--json"]).json();
    assert_eq!(indexed, fresh);
    assert_eq!(practice(&fresh, "appreciation")["current_streak"], 39);
    assert_eq!(practice(&fresh, "appreciation")["count"], 40);
    assert_eq!(fresh["us"]["repairs"]["count"], 5);
    // The journal reads in order of day, whatever the order of logging.
    let keys: Vec<String> = env
        .journal()
        .iter()
        .map(|e| format!("{}{}", e["day"], e["at"]))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
}

/// The streak line reaches back only as far as the run goes: a run of
/// twenty months, one of four, one bridged by a pause made long after the
/// days it covers, and a weekly one must each read as an index made afresh
/// from the logs does.
#[test]
fn the_streak_line_reaches_back_as_far_as_the_run() {
    let env = TestEnv::new();
    // Daily since 2025-03-01: longer than the first two windows.
    import(&env, "appreciation", &days("2025-03-01", "2026-11-26"));
    // Daily since 2026-08-01: longer than two months, shorter than 14.
    import(&env, "gentle-touch", &days("2026-08-01", "2026-11-26"));
    // A gap from 2026-07-20 to 2026-09-05, paused; the pause lives in July.
    let mut bridged = days("2026-07-01", "2026-07-19");
    bridged.extend(days("2026-09-06", "2026-11-26"));
    import(&env, "check-in", &bridged);
    env.run(&[
        "pause",
        "--from",
        "2026-07-20",
        "--to",
        "2026-09-05",
        "--practice",
        "check-in",
    ])
    .ok();
    // 3/week: Monday, Wednesday and Friday since the week of 2026-01-05.
    let weekly: Vec<String> = days("2026-01-05", "2026-11-25")
        .into_iter()
        .filter(|d| {
            let day: chrono::NaiveDate = d.parse().unwrap();
            use chrono::Datelike;
            matches!(
                day.weekday(),
                chrono::Weekday::Mon | chrono::Weekday::Wed | chrono::Weekday::Fri
            )
        })
        .collect();
    import(&env, "stress-talk", &weekly);
    env.run(&["stats", "--all", "--json"]).ok();

    let expected = [
        // 2025-03-01 to 2026-11-26 is 636 days; today makes 637.
        ("appreciation", "appreciation: 637 days in a row"),
        // 118 days from August 1st, and today.
        ("gentle-touch", "gentle-touch: 119 days in a row"),
        // 19 days in July, 82 from September 6th, and today; the pause
        // bridges without counting.
        ("check-in", "check-in: 102 days in a row"),
        // Every week from 2026-01-05 to this one: 47 weeks.
        (
            "stress-talk",
            "stress-talk: 3 of 3 this week, goal met · 47 weeks in a row",
        ),
    ];
    for (practice_id, line) in expected {
        let out = env.run(&["log", practice_id]).ok();
        assert!(out.contains(line), "{practice_id}: {out}");
    }
    let indexed = env.run(&["stats", "--all", "--json"]).json();
    std::fs::remove_dir_all(env.path("index")).unwrap();
    let fresh = env.run(&["stats", "--all", "--json"]).json();
    assert_eq!(indexed, fresh);
    for (practice_id, streak) in [
        ("appreciation", 637),
        ("gentle-touch", 119),
        ("check-in", 102),
        ("stress-talk", 47),
    ] {
        assert_eq!(
            practice(&fresh, practice_id)["current_streak"],
            streak,
            "{practice_id}"
        );
    }
}

/// `stats` of a week, and the streak line of `log`, read this year's days
/// and carry the years before from the index (docs/protocol.md, "Index:
/// carries"): a streak that began last year counts whole, and a change to
/// last year, made after the carry was kept, shows at once, as an index
/// made from nothing says.
#[test]
fn a_streak_from_last_year_counts_whole_and_a_change_to_last_year_shows() {
    let env = TestEnv::new();
    env.run(&["init", "--name", "Alex"]).ok();
    import(&env, "appreciation", &days("2025-06-01", "2026-11-27"));
    let whole = |env: &TestEnv| -> Value {
        let kept = env.path("index");
        let _ = std::fs::remove_dir_all(&kept);
        env.run(&["stats", "--json"]).json()
    };
    let streak = |stats: &Value| {
        let p = practice(stats, "appreciation");
        (p["current_streak"].clone(), p["best_streak"].clone())
    };
    let first = env.run(&["stats", "--json"]).json();
    assert_eq!(streak(&first), (json!(545), json!(545)));
    // Read again, from the carries kept by the first.
    assert_eq!(env.run(&["stats", "--json"]).json(), first);

    // The streak line of `log` carries last year too.
    let again = env.run(&["log", "appreciation", "--again"]).ok();
    assert!(again.contains("appreciation: 545 days in a row"), "{again}");

    // One more day before the run, last year.
    let before = env
        .run(&["log", "appreciation", "--date", "2025-05-31"])
        .ok();
    assert!(
        before.contains("appreciation: 546 days in a row"),
        "{before}"
    );
    let longer = env.run(&["stats", "--json"]).json();
    assert_eq!(streak(&longer), (json!(546), json!(546)));
    assert_eq!(longer, whole(&env));
    // A day a month earlier, the month between paused: it bridges.
    env.run(&["log", "appreciation", "--date", "2025-04-30"])
        .ok();
    env.run(&["pause", "--from", "2025-05-01", "--to", "2025-05-30"])
        .ok();
    let paused = env.run(&["stats", "--json"]).json();
    assert_eq!(streak(&paused), (json!(547), json!(547)));
    // And a skipped day before that one.
    env.run(&["log", "appreciation", "--date", "2025-04-28"])
        .ok();
    env.run(&["skip", "appreciation", "--date", "2025-04-29"])
        .ok();
    let line = env.run(&["log", "appreciation", "--again"]).ok();
    assert!(line.contains("appreciation: 548 days in a row"), "{line}");
    let skipped = env.run(&["stats", "--json"]).json();
    assert_eq!(streak(&skipped), (json!(548), json!(548)));
    assert_eq!(skipped, whole(&env));
    // The table says the same.
    let table = env.run(&["stats"]).ok();
    assert!(table.contains("548 days"), "{table}");
}
