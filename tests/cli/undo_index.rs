//! `safe undo` and `safe redo` on a journal with years behind it: they find
//! the operation and the versions it replaced through the index, however
//! far back those are, and do what they do on a new journal.

use serde_json::Value;

use crate::env::TestEnv;

/// A few thousand entries from the years before, each with a note shared
/// (every tenth) or kept, imported in one go.
fn imported(env: &TestEnv) {
    let start = chrono::NaiveDate::from_ymd_opt(2019, 1, 1).unwrap();
    let practices = ["listen", "appreciation", "check-in", "gentle-touch"];
    let mut text = String::new();
    for i in 0..3000u32 {
        let day = start + chrono::Days::new(u64::from(i / 2));
        let line = serde_json::json!({
            "practice": practices[i as usize % practices.len()],
            "day": day.to_string(),
            "at": format!("{day}T{:02}:15:00+01:00", 8 + i % 2 * 10),
            "note": format!("old note {i}"),
            "note_shared": i % 10 == 0,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let out = env.run_stdin(&["import", "-"], &text).ok();
    assert!(out.contains("Imported 3000"), "{out}");
}

/// The live entry with `note`, as `safe history --json` shows it.
fn with_note(env: &TestEnv, note: &str) -> Option<Value> {
    env.history(&["--all"])
        .into_iter()
        .find(|e| e["note"] == note)
}

/// What `safe history` shows for today.
fn today_practices(env: &TestEnv) -> Vec<String> {
    env.history(&[])
        .iter()
        .filter(|e| e["day"] == "2026-11-27")
        .map(|e| e["practice"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn undo_and_redo_reach_back_through_years_of_entries() {
    let env = TestEnv::new();
    imported(&env);
    let total = env.history(&["--all"]).len();
    assert_eq!(total, 3000);

    // Recent changes: one new log, an edit of an entry from 2019 and the
    // removal of another (with a shared note) from 2019.
    env.run(&["log", "date", "--note", "dinner out"]).ok();
    let edited = with_note(&env, "old note 7").expect("imported");
    let edited_id = edited["id"].as_str().unwrap().to_string();
    env.run(&[
        "edit",
        &edited_id,
        "--note",
        "rewritten",
        "--date",
        "2019-01-09",
    ])
    .ok();
    let removed = with_note(&env, "old note 20").expect("imported");
    let removed_id = removed["id"].as_str().unwrap().to_string();
    env.run(&["rm", "--yes", &removed_id]).ok();
    assert!(with_note(&env, "old note 20").is_none());
    assert_eq!(env.history(&["--all"]).len(), total);

    // The removal comes back with its shared note, as it was in 2019.
    let out = env.run(&["undo"]).ok();
    assert!(out.contains("Undid"), "{out}");
    let back = with_note(&env, "old note 20").expect("the removed entry is back");
    assert_eq!(back["id"], removed_id.as_str());
    assert_eq!(back["day"], removed["day"]);
    assert_eq!(env.entry(&removed_id)["note_shared"], true);

    // The edit is taken back to the imported version, years earlier in
    // the log.
    env.run(&["undo"]).ok();
    assert!(with_note(&env, "rewritten").is_none());
    let restored = with_note(&env, "old note 7").expect("the old note is back");
    assert_eq!(restored["id"], edited_id.as_str());
    assert_eq!(restored["day"], edited["day"]);

    // The new log goes, from today and from the history; the years stay.
    assert_eq!(today_practices(&env), ["date"]);
    let out = env.run(&["undo"]).ok();
    assert!(out.contains("the log of date today"), "{out}");
    assert!(today_practices(&env).is_empty());
    assert!(with_note(&env, "dinner out").is_none());
    assert_eq!(env.history(&["--all"]).len(), 3000);

    // An index made again from the logs knows the same: redo brings the
    // log back, then the edit.
    std::fs::remove_dir_all(env.path("index")).unwrap();
    let out = env.run(&["redo"]).ok();
    assert!(out.contains("Redid the log of date today"), "{out}");
    assert_eq!(today_practices(&env), ["date"]);
    assert_eq!(
        with_note(&env, "dinner out").expect("back")["practice"],
        "date"
    );
    env.run(&["redo"]).ok();
    let again = with_note(&env, "rewritten").expect("the edit is back");
    assert_eq!(again["id"], edited_id.as_str());
    assert_eq!(again["day"], "2019-01-09");

    // A new change ends the chance to redo the removal's undo.
    env.run(&["log", "listen"]).ok();
    let err = env.run(&["redo"]).fails(2);
    assert!(err.contains("nothing to redo"), "{err}");
    assert_eq!(env.history(&["--all"]).len(), 3002);
    assert!(with_note(&env, "old note 20").is_some());
}

/// An import too big to write at once goes in parts (10,000 records each),
/// all of one operation: `safe undo` takes back every part, `safe redo`
/// brings every part back, and a second import finds them all there.
#[test]
fn an_import_written_in_parts_is_one_operation() {
    let env = TestEnv::new();
    env.run(&["init", "--name", "Alex"]).ok();
    env.run(&["log", "check-in", "--note", "before the import"])
        .ok();
    let start = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
    let practices = ["listen", "appreciation", "check-in", "gentle-touch"];
    let mut text = String::new();
    for i in 0..25_000u32 {
        let day = start + chrono::Days::new(u64::from(i / 12));
        let mut line = serde_json::json!({
            "practice": practices[i as usize % practices.len()],
            "day": day.to_string(),
            "at": format!("{day}T{:02}:{:02}:00+01:00", 7 + i % 12, i % 60),
        });
        if i % 1_000 == 0 {
            line["note"] = serde_json::json!(format!("part note {i}"));
            line["note_shared"] = serde_json::json!(i % 2_000 == 0);
        }
        text.push_str(&line.to_string());
        text.push('\n');
    }
    let out = env.run_stdin(&["import", "-"], &text).ok();
    assert!(out.contains("Imported 25000 entries"), "{out}");
    let all = env.history(&["--all"]);
    assert_eq!(all.len(), 25_001);
    // Notes of the first part and of the last, shared and kept.
    assert!(all.iter().any(|e| e["note"] == "part note 0"));
    assert!(all.iter().any(|e| e["note"] == "part note 24000"));
    assert!(all.iter().any(|e| e["note"] == "part note 23000"));

    let again = env.run_stdin(&["import", "-"], &text).ok();
    assert!(again.contains("25000 already in the journal"), "{again}");

    env.run(&["undo"]).ok();
    let left = env.history(&["--all"]);
    assert_eq!(left.len(), 1, "every part undone");
    assert_eq!(left[0]["note"], "before the import");

    env.run(&["redo"]).ok();
    let back = env.history(&["--all"]);
    assert_eq!(back.len(), 25_001, "every part back");
    assert!(back.iter().any(|e| e["note"] == "part note 24000"));
}
