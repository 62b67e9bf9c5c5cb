//! `safe history` of a journal too long to hold at once: written row by
//! row, yet the same table (and JSON) the whole-journal layout gave.

use comfy_table::{ColumnConstraint, Table, Width, presets};
use serde_json::{Value, json};

use crate::env::{Run, TestEnv};

/// Ten thousand of my entries over three years: logs, skips, pauses and
/// repairs, notes shared and kept, some private, made from a fixed seed.
fn ten_thousand() -> TestEnv {
    let env = TestEnv::new();
    let practices = [
        "appreciation",
        "listen",
        "gentle-touch",
        "check-in",
        "long-kiss",
    ];
    let notes = [
        "asked about the podcast",
        "a walk, then we could laugh about it",
        "Dank für das Frühstück, 好",
    ];
    let mut seed: u64 = 7;
    let mut next = |below: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below
    };
    let first = chrono::NaiveDate::from_ymd_opt(2023, 11, 1).unwrap();
    let lines: Vec<String> = (0..10_000u64)
        .map(|n| {
            let day = first + chrono::Days::new(n * 1_090 / 10_000);
            let at = format!("{day}T{:02}:{:02}:00+01:00", 7 + next(14), next(60));
            let practice = practices[next(5) as usize];
            let mut line = json!({"practice": practice, "day": day.to_string(), "at": at});
            match n % 97 {
                0 => line["kind"] = json!("skip"),
                1 => {
                    line["kind"] = json!("pause");
                    line["practice"] = json!(if n % 2 == 0 { "*" } else { "listen" });
                    line["until"] = json!((day + chrono::Days::new(3)).to_string());
                }
                2..=4 => {
                    line["practice"] = json!("repair");
                    line["took_minutes"] = json!(5 + next(300));
                }
                5 | 6 => line["private"] = json!(true),
                _ => {}
            }
            if next(5) == 0 {
                line["note"] = json!(notes[next(3) as usize]);
                line["note_shared"] = json!(next(2) == 0);
            }
            line.to_string()
        })
        .collect();
    env.run_stdin(&["import", "-"], &lines.join("\n")).ok();
    env
}

fn in_columns(env: &TestEnv, columns: Option<&str>, args: &[&str]) -> String {
    let mut cmd = env.cmd();
    if let Some(columns) = columns {
        cmd.env("COLUMNS", columns);
    }
    Run {
        output: cmd.args(args).output().unwrap(),
    }
    .ok()
}

/// Every live entry, as `safe export` (which reads the whole journal)
/// writes them, in the order of a table.
fn exported(env: &TestEnv) -> Vec<Value> {
    env.run(&["export", "--format", "jsonl"])
        .ok()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The table the whole-journal layout gave for `entries` (all of them
/// mine): one comfy_table of every row, the handles unique among `all`.
fn table_the_old_way(entries: &[&Value], all: &[Value], columns: Option<u16>) -> String {
    let id = |e: &Value| e["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();
    let mut ids: Vec<_> = entries.iter().map(|e| id(e)).collect();
    let shown: std::collections::HashSet<_> = ids.iter().copied().collect();
    ids.extend(all.iter().map(id).filter(|i| !shown.contains(i)));
    let handles = safe::domain::entry::handles(&ids);
    let mut table = Table::new();
    table.load_preset(presets::NOTHING);
    match columns {
        Some(width) => {
            table
                .set_width(width)
                .set_content_arrangement(comfy_table::ContentArrangement::Dynamic);
        }
        None => {
            table.set_content_arrangement(comfy_table::ContentArrangement::Disabled);
        }
    }
    table.set_header(vec!["date", "who", "practice", "id", "note"]);
    let mut practice_width = "practice".len();
    for (e, handle) in entries.iter().zip(handles) {
        let day: chrono::NaiveDate = e["day"].as_str().unwrap().parse().unwrap();
        let name = e["practice"].as_str().unwrap();
        let practice = match e["kind"].as_str().unwrap_or("log") {
            "skip" => format!("{name} (skipped)"),
            "pause" => format!(
                "{} (paused to {})",
                if name == "*" { "all" } else { name },
                e["until"].as_str().unwrap()
            ),
            _ => name.to_string(),
        };
        let practice_id = practice.split(" (").next().unwrap();
        practice_width = practice_width.max(practice_id.chars().count());
        let mut note = e["note"].as_str().unwrap_or_default().to_string();
        if let Some(minutes) = e["took_minutes"].as_u64() {
            let took = format!(
                "[repaired in {}]",
                safe::commands::describe_minutes(minutes as u32)
            );
            note = if note.is_empty() {
                took
            } else {
                format!("{note} {took}")
            };
        }
        if e["private"] == json!(true) {
            note = if note.is_empty() {
                "(private)".to_string()
            } else {
                format!("{note} (private)")
            };
        } else if e["note_shared"] == json!(false) {
            note.push_str(" (note not shared)");
        }
        table.add_row(vec![
            day.format("%a %Y-%m-%d").to_string(),
            "me".to_string(),
            practice,
            handle,
            note,
        ]);
    }
    let practice_width = u16::try_from(practice_width + 2).unwrap();
    for (index, column) in table.column_iter_mut().enumerate() {
        column.set_constraint(match index {
            2 => ColumnConstraint::LowerBoundary(Width::Fixed(practice_width)),
            4 => ColumnConstraint::LowerBoundary(Width::Fixed(12)),
            _ => ColumnConstraint::ContentWidth,
        });
    }
    let lines: Vec<String> = table.lines().map(|l| l.trim_end().to_string()).collect();
    format!("{}\n", lines.join("\n"))
}

#[test]
fn ten_thousand_entries_show_the_table_the_whole_journal_gave() {
    let env = ten_thousand();
    let all = exported(&env);
    assert_eq!(all.len(), 10_000);
    let every: Vec<&Value> = all.iter().collect();
    // Piped, and on a terminal wide enough: rows written one by one.
    let piped = in_columns(&env, None, &["history", "--all"]);
    assert_eq!(piped, table_the_old_way(&every, &all, None));
    let wide = in_columns(&env, Some("200"), &["history", "--all"]);
    assert_eq!(wide, piped);
    // The rows are what a reader cares about: private entries, kept
    // notes, repairs and pauses, each with a handle that finds it.
    assert!(piped.contains("(private)"), "{piped:.2000}");
    assert!(piped.contains("(note not shared)"));
    assert!(piped.contains("[repaired in "));
    assert!(piped.contains("all (paused to "));
    let row = piped
        .lines()
        .rev()
        .find(|l| l.split_whitespace().nth(3) == Some("listen"))
        .unwrap();
    let handle = row.split_whitespace().nth(4).unwrap();
    env.run(&["edit", handle, "--note", "found"]).ok();
    let again = in_columns(&env, None, &["history", "--all"]);
    assert!(
        again
            .lines()
            .any(|l| l.contains(handle) && l.contains("found"))
    );
}

#[test]
fn a_month_and_a_filter_show_what_the_whole_journal_gave() {
    let env = ten_thousand();
    let all = exported(&env);
    // A period: its rows, handles still unique in the whole journal.
    let month: Vec<&Value> = all
        .iter()
        .filter(|e| e["day"].as_str().unwrap().starts_with("2025-02"))
        .collect();
    let args = ["history", "--since", "2025-02-01", "--until", "2025-02-28"];
    for columns in [None, Some(60)] {
        let out = in_columns(&env, columns.map(|c: u16| c.to_string()).as_deref(), &args);
        assert_eq!(out, table_the_old_way(&month, &all, columns), "{columns:?}");
    }
    // A practice over every day.
    let repairs: Vec<&Value> = all.iter().filter(|e| e["practice"] == "repair").collect();
    let out = in_columns(&env, None, &["history", "--all", "--practice", "repair"]);
    assert_eq!(out, table_the_old_way(&repairs, &all, None));
}

#[test]
fn many_rows_on_a_narrow_terminal_fit_it_and_keep_every_id_whole() {
    let env = ten_thousand();
    let piped = in_columns(&env, None, &["history", "--all"]);
    let narrow = in_columns(&env, Some("60"), &["history", "--all"]);
    // Every line fits: the note wraps under itself.
    for line in narrow.lines() {
        assert!(line.chars().count() <= 60, "{line}");
    }
    // Every row's date, name and handle, whole and in order.
    let starts = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| {
                l.get(5..15)
                    .is_some_and(|d| d.parse::<chrono::NaiveDate>().is_ok())
            })
            .map(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                let handle = cells[3..]
                    .iter()
                    .find(|c| c.len() >= 4 && c.chars().all(|ch| ch.is_ascii_hexdigit()));
                format!("{} {} {}", cells[1], cells[2], handle.unwrap())
            })
            .collect()
    };
    let rows = starts(&piped);
    assert_eq!(rows.len(), 10_000);
    assert_eq!(starts(&narrow), rows);
}

#[test]
fn ten_thousand_entries_as_json_are_every_entry_in_order() {
    let env = ten_thousand();
    let all = exported(&env);
    let out = in_columns(&env, None, &["history", "--all", "--json"]);
    assert!(out.starts_with("[\n  {\n    \"id\": "), "{out:.200}");
    assert!(out.ends_with("  }\n]\n"));
    let shown: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(shown.len(), all.len());
    for (s, e) in shown.iter().zip(&all) {
        for key in [
            "id",
            "practice",
            "day",
            "at",
            "note",
            "took_minutes",
            "private",
        ] {
            assert_eq!(s[key], e[key], "{key} of {s}");
        }
        assert_eq!(s["kind"], e.get("kind").cloned().unwrap_or(json!("log")));
        assert_eq!(s["name"], "Alex");
        assert_eq!(s["until"], e["until"]);
    }
    // The same entries as a re-serialised array, byte for byte.
    let again = serde_json::to_string_pretty(&shown).unwrap();
    let reparsed: Vec<Value> = serde_json::from_str(&again).unwrap();
    assert_eq!(reparsed, shown);
    // An empty period is an empty array.
    let none = in_columns(
        &env,
        None,
        &[
            "history",
            "--since",
            "2020-01-01",
            "--until",
            "2020-01-02",
            "--json",
        ],
    );
    assert_eq!(none, "[]\n");
}

/// A `history` whose reader takes the rows slowly (a pager left open)
/// holds up no other command: the rows are read into a spool, and the
/// index is let go as soon as they are read. It used to hold its read open
/// while it waited on the pipe, so a `log` beside it waited for SQLite's
/// five seconds, then failed on the index and made it again.
#[test]
fn a_history_left_open_in_a_pager_holds_up_no_other_command() {
    use std::io::Read;
    let env = ten_thousand();
    let listed_before = env.history(&["--all"]).len();
    // A row no index made by safe has: gone if the index is made again.
    let index = env.path("index/index.sqlite");
    let db = rusqlite::Connection::open(&index).unwrap();
    db.execute("INSERT INTO meta (key, value) VALUES ('kept', 1)", [])
        .unwrap();
    drop(db);

    let mut pager = env
        .std_cmd()
        .args(["history", "--all", "--json"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut rows = pager.stdout.take().unwrap();
    // Its first byte: history has let go of the data directory's lock and
    // writes rows, far more of them than a pipe holds, so it waits on us.
    let mut first = [0u8; 1];
    rows.read_exact(&mut first).unwrap();

    env.run(&["log", "check-in", "--note", "while the pager was open"])
        .ok();
    let db = rusqlite::Connection::open(&index).unwrap();
    let kept: i64 = db
        .query_row("SELECT count(*) FROM meta WHERE key = 'kept'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(kept, 1, "the log failed on the index and made it again");

    // The pager reads on: the journal as it was when it started.
    let mut rest = Vec::new();
    rows.read_to_end(&mut rest).unwrap();
    assert!(pager.wait().unwrap().success());
    let mut listed = first.to_vec();
    listed.extend(rest);
    let listed: Vec<Value> = serde_json::from_slice(&listed).unwrap();
    assert_eq!(listed.len(), listed_before);
    assert!(
        !listed
            .iter()
            .any(|e| e["note"] == "while the pager was open")
    );
    assert_eq!(env.history(&["--all"]).len(), listed_before + 1);
}
