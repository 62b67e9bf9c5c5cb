//! Everyday use: logging, history, undo/edit/rm, practices, settings,
//! export/import, damaged data and the help text, each run against the real
//! binary in its own temporary data directory.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::env::TestEnv;

use crate::env::{contains_bytes, files_under};

/// Every directory under `dir` (itself included), recursively.
fn dirs_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    let Ok(listing) = std::fs::read_dir(dir) else {
        return out;
    };
    for item in listing.flatten() {
        if item.path().is_dir() {
            out.extend(dirs_under(&item.path()));
        }
    }
    out
}

/// The days of a history listing, in order.
fn days(items: &[Value]) -> Vec<&str> {
    items.iter().map(|e| e["day"].as_str().unwrap()).collect()
}

/// Log and return the full id of the new entry: UUIDv7 ids grow with
/// creation time, so it is the greatest of my ids.
fn log(env: &TestEnv, args: &[&str]) -> String {
    // These tests log what they need, the same practice twice a day too.
    let mut all = vec!["log", "--again"];
    all.extend_from_slice(args);
    env.run(&all).ok();
    env.history(&["--all"])
        .iter()
        .filter(|e| e["name"] == env.name.as_str())
        .map(|e| e["id"].as_str().unwrap().to_string())
        .max()
        .expect("an entry was logged")
}

// ---------------------------------------------------------------- log

#[cfg(unix)]
#[test]
fn first_log_sets_everything_up() {
    use std::os::unix::fs::PermissionsExt;

    let env = TestEnv::new();
    assert!(!env.data_dir().exists());
    let run = env.run(&["log", "repair"]);
    let out = run.ok();
    // The one word about the new journal, on stderr; no error.
    let err = run.stderr();
    assert!(err.starts_with("safe: started your journal"), "{err}");
    assert!(
        err.contains("as Alex") && err.contains("safe init --name"),
        "{err}"
    );
    let first = out.lines().next().unwrap();
    assert!(first.contains("repair") && first.contains("today"), "{out}");
    assert!(!first.contains("error"), "{out}");

    // Private permissions everywhere.
    for dir in dirs_under(&env.data_dir()) {
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} is {mode:o}", dir.display());
    }
    let files = files_under(&env.data_dir());
    assert!(files.len() >= 3, "{files:?}");
    for file in &files {
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is {mode:o}", file.display());
    }

    // The journal, this device's key, and its shared log (DESIGN.md §3).
    let journal = env.read_json("journal.json");
    assert_eq!(journal["schema"], 2);
    let device = journal["device"].as_str().unwrap();
    assert_eq!(journal["root_device"], device, "a new journal's root");
    let key = std::fs::read_to_string(env.path("keys/device.ed25519")).unwrap();
    let key = key.trim_end();
    assert_eq!(key.len(), 64, "{key:?}");
    assert!(key.bytes().all(|b| b.is_ascii_hexdigit()), "{key:?}");
    let segments = env.segments("shared/log");
    assert_eq!(
        segments,
        [env.path(&format!("shared/log/{device}/00/00/0000000001.jsonl"))]
    );
    // config.json holds settings only, when there is one.
    if env.path("config.json").exists() {
        let config = env.read_json("config.json");
        assert!(config.get("id").is_none() && config.get("name").is_none());
    }

    // An identity named after the login user.
    assert_eq!(env.my_name(), "Alex");
    let me = env.my_id();

    // The entry, as `safe export` shows it.
    let entries = env.journal();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["practice"], "repair");
    assert_eq!(entry["day"], "2026-11-27");
    assert_eq!(entry["author"], me.as_str());
    assert_eq!(entry["private"], false);
    assert!(entry.get("note").is_none());
    assert!(
        entry["at"].as_str().unwrap().starts_with("2026-11-27T"),
        "{entry}"
    );
    let id = uuid_of(entry);
    assert_eq!(id.get_version_num(), 7, "{id}");
    assert!(entry["rev"]["ms"].as_u64().unwrap() > 0);
    assert!(entry["rev"]["c"].is_u64());
    assert_eq!(entry["rev"]["by"], me.as_str());
    // Its line is in the shared log.
    assert!(contains_bytes(&env.shared_bytes(), id.to_string()));
}

fn uuid_of(entry: &Value) -> uuid::Uuid {
    entry["id"].as_str().unwrap().parse().expect("a UUID")
}

#[test]
fn an_unshared_note_stays_out_of_shared_files() {
    let env = TestEnv::new();
    let out = env
        .run(&["log", "appreciation", "--note", "thanks for the soup"])
        .ok();
    assert!(out.contains("stays on this machine"), "{out}");

    assert!(!contains_bytes(&env.shared_bytes(), "thanks for the soup"));
    assert!(
        !env.files_holding("private", "thanks for the soup")
            .is_empty()
    );
    let entry = &env.journal()[0];
    assert_eq!(entry["note"], "thanks for the soup");
    assert_eq!(entry["note_shared"], false);
    assert_eq!(entry["private"], false, "the entry itself is shared");
    assert!(contains_bytes(
        &env.shared_bytes(),
        entry["id"].as_str().unwrap()
    ));
}

#[test]
fn share_note_puts_the_note_in_the_shared_entry() {
    let env = TestEnv::new();
    env.run(&[
        "log",
        "appreciation",
        "--note",
        "you made me laugh",
        "--share-note",
    ])
    .ok();
    let entry = &env.journal()[0];
    assert_eq!(entry["note"], "you made me laugh");
    assert_eq!(entry["note_shared"], true);
    assert!(contains_bytes(&env.shared_bytes(), "you made me laugh"));
    assert_eq!(
        env.files_holding("private", "you made me laugh"),
        Vec::<PathBuf>::new()
    );
}

#[test]
fn share_notes_setting_shares_by_default() {
    let env = TestEnv::new();
    env.run(&["config", "set", "share_notes", "true"]).ok();
    env.run(&["log", "check-in", "--note", "asked about the interview"])
        .ok();
    let entry = &env.journal()[0];
    assert_eq!(entry["note"], "asked about the interview");
    assert_eq!(entry["note_shared"], true);
    assert!(contains_bytes(
        &env.shared_bytes(),
        "asked about the interview"
    ));
    assert_eq!(
        env.files_holding("private", "asked about the interview"),
        Vec::<PathBuf>::new()
    );
}

#[test]
fn a_private_entry_is_only_in_the_private_log() {
    let env = TestEnv::new();
    let out = env
        .run(&["log", "date", "--private", "--note", "picnic by the lake"])
        .ok();
    assert!(out.contains("private"), "{out}");
    let entries = env.journal();
    assert_eq!(entries.len(), 1);
    let entry = &entries[0];
    assert_eq!(entry["practice"], "date");
    assert_eq!(entry["private"], true);
    assert_eq!(entry["note"], "picnic by the lake");
    let id = entry["id"].as_str().unwrap();
    // Neither the entry nor its note is anywhere a sync could carry.
    let shared = env.shared_bytes();
    assert!(!contains_bytes(&shared, "picnic"));
    assert!(!contains_bytes(&shared, id));
    assert!(!contains_bytes(&shared, "\"date\""));
    assert!(!env.files_holding("private", id).is_empty());
    assert!(
        !env.files_holding("private", "picnic by the lake")
            .is_empty()
    );
}

#[test]
fn private_and_share_note_together_are_a_usage_error() {
    let env = TestEnv::new();
    env.run(&["log", "date", "--private", "--share-note"])
        .fails(2);
    assert!(env.snapshot().is_empty());
}

#[test]
fn date_phrases_pick_the_right_day() {
    // SAFE_NOW is Friday 2026-11-27.
    let env = TestEnv::new();
    let cases = [
        ("yesterday", "2026-11-26"),
        ("3 days ago", "2026-11-24"),
        ("friday", "2026-11-20"), // a weekday name is never today
        ("11-20", "2026-11-20"),
        ("2026-11-02", "2026-11-02"),
        ("today", "2026-11-27"),
    ];
    for (phrase, day) in cases {
        let id = log(&env, &["listen", "--date", phrase]);
        let entry = env.entry(&id);
        assert_eq!(entry["day"], day, "--date {phrase:?}");
        assert!(entry["at"].as_str().unwrap().starts_with(day), "{entry}");
    }
    assert_eq!(env.journal().len(), cases.len());
}

#[test]
fn a_future_date_is_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let err = env.run(&["log", "listen", "--date", "2026-11-28"]).fails(2);
    assert!(
        err.contains("safe: error:") && err.contains("future"),
        "{err}"
    );
    assert!(env.snapshot().is_empty(), "{:?}", env.snapshot());

    env.run(&["log", "listen"]).ok();
    let before = env.snapshot();
    env.run(&["log", "listen", "--date", "2026-12-01"]).fails(2);
    env.run(&["log", "listen", "--date", "someday"]).fails(2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn took_records_the_repair_time_in_minutes() {
    let env = TestEnv::new();
    let out = env.run(&["log", "repair", "--took", "2h30m"]).ok();
    assert!(out.contains("2h30m"), "{out}");
    assert_eq!(env.journal()[0]["took_minutes"], 150);
}

#[test]
fn a_bad_duration_is_refused() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let before = env.snapshot();
    let err = env.run(&["log", "repair", "--took", "a while"]).fails(2);
    assert!(err.contains("duration"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    env.run(&["log", "repair", "--took", "-5m"]).fails(2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn an_unknown_practice_suggests_the_closest_name() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let before = env.snapshot();
    let err = env.run(&["log", "apreciation"]).fails(2);
    assert!(err.contains("apreciation"), "{err}");
    assert!(err.contains("did you mean `appreciation`"), "{err}");
    assert_eq!(env.snapshot(), before);

    // On a fresh machine, the typo starts no journal either.
    let fresh = TestEnv::new();
    fresh.run(&["log", "apreciation"]).fails(2);
    assert!(fresh.snapshot().is_empty(), "{:?}", fresh.snapshot());
}

// ---------------------------------------------------------------- history

#[test]
fn history_shows_date_practice_note_and_short_id() {
    let env = TestEnv::new();
    let id = log(
        &env,
        &["appreciation", "--note", "the soup", "--share-note"],
    );
    let out = env.run(&["history"]).ok();
    let row = out
        .lines()
        .find(|l| l.contains("appreciation"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("2026-11-27"), "{out}");
    assert!(row.contains("the soup"), "{out}");
    // The handle: the start of the id's random tail, at most 8 digits.
    let tail = &id.replace('-', "")[17..];
    assert!(
        row.split_whitespace()
            .any(|t| (4..=8).contains(&t.len()) && tail.starts_with(t)),
        "{out}"
    );
    // The id shown is accepted back.
    let shown = row
        .split_whitespace()
        .find(|t| t.len() >= 4 && tail.starts_with(*t))
        .unwrap_or_else(|| panic!("no id in {row}"));
    env.run(&["edit", shown, "--note", "the soup, again"]).ok();
    assert_eq!(env.entry(&id)["note"], "the soup, again");
}

#[test]
fn history_json_has_the_documented_fields() {
    let env = TestEnv::new();
    let id = log(
        &env,
        &["repair", "--took", "45m", "--note", "walked it off"],
    );
    let items = env.history(&[]);
    assert_eq!(items.len(), 1);
    let e = &items[0];
    assert_eq!(e["id"], id.as_str());
    assert_eq!(e["practice"], "repair");
    assert_eq!(e["day"], "2026-11-27");
    assert!(e["at"].as_str().unwrap().starts_with("2026-11-27T"));
    assert_eq!(e["person"], env.my_id().as_str());
    assert_eq!(e["name"], "Alex");
    assert_eq!(e["note"], "walked it off");
    assert_eq!(e["took_minutes"], 45);
    assert_eq!(e["private"], false);
}

#[test]
fn history_periods_choose_the_days() {
    let env = TestEnv::new();
    for day in [
        "2026-11-27",
        "2026-11-23",
        "2026-11-20",
        "2026-10-30",
        "2025-12-31",
    ] {
        log(&env, &["listen", "--date", day]);
    }
    // This week (Monday 23 to Sunday 29 November) by default.
    assert_eq!(days(&env.history(&[])), ["2026-11-23", "2026-11-27"]);
    assert_eq!(
        days(&env.history(&["--week"])),
        ["2026-11-23", "2026-11-27"]
    );
    assert_eq!(
        days(&env.history(&["--month"])),
        ["2026-11-20", "2026-11-23", "2026-11-27"]
    );
    assert_eq!(
        days(&env.history(&["--year"])),
        ["2026-10-30", "2026-11-20", "2026-11-23", "2026-11-27"]
    );
    assert_eq!(days(&env.history(&["--all"])).len(), 5);
    assert_eq!(
        days(&env.history(&["--since", "11-21"])),
        ["2026-11-23", "2026-11-27"]
    );
    env.run(&["history", "--month", "--all"]).fails(2);
    // An empty week says so, gently.
    let quiet = TestEnv::new();
    let out = quiet.run(&["history"]).ok();
    assert!(out.contains("Nothing logged"), "{out}");
}

#[test]
fn history_since_until_limits_both_ends() {
    let env = TestEnv::new();
    for day in ["2026-11-27", "2026-11-20", "2026-10-30", "2026-09-30"] {
        log(&env, &["listen", "--date", day]);
    }
    assert_eq!(
        days(&env.history(&["--since", "2026-10-01", "--until", "2026-11-20"])),
        ["2026-10-30", "2026-11-20"]
    );
    assert_eq!(
        days(&env.history(&["--since", "10-30", "--until", "10-30"])),
        ["2026-10-30"]
    );
    let err = env
        .run(&["history", "--since", "11-27", "--until", "11-01"])
        .fails(2);
    assert!(err.contains("before"), "{err}");
    // --until means nothing without --since.
    env.run(&["history", "--until", "11-20"]).fails(2);
}

#[test]
fn history_filters_by_practice() {
    let env = TestEnv::new();
    log(&env, &["listen"]);
    log(&env, &["repair"]);
    let repairs = env.history(&["--practice", "repair"]);
    assert_eq!(repairs.len(), 1);
    assert_eq!(repairs[0]["practice"], "repair");
    let err = env.run(&["history", "--practice", "repiar"]).fails(2);
    assert!(err.contains("did you mean `repair`"), "{err}");
    assert_eq!(env.history(&["--who", "me"]).len(), 2);
    assert!(env.history(&["--who", "partner"]).is_empty());
    env.run(&["history", "--who", "nobody"]).fails(2);
}

#[test]
fn history_filters_by_person() {
    let (alex, sam, _remote) = TestEnv::couple();
    log(&alex, &["listen"]);
    log(&alex, &["repair"]);
    sam.run(&["log", "appreciation", "--date", "yesterday"])
        .ok();
    sam.sync();
    alex.sync();

    let mine = alex.history(&["--who", "me"]);
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().all(|e| e["name"] == "Alex"));
    let theirs = alex.history(&["--who", "partner"]);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["name"], "Sam");
    assert_eq!(theirs[0]["person"], sam.my_id().as_str());
    assert_eq!(alex.history(&["--who", "all"]).len(), 3);
    // --practice and --who together.
    assert!(
        alex.history(&["--who", "partner", "--practice", "repair"])
            .is_empty()
    );
}

#[test]
fn history_shows_my_private_notes_to_me() {
    let env = TestEnv::new();
    log(&env, &["appreciation", "--note", "kept to myself"]);
    log(&env, &["date", "--private", "--note", "just us"]);
    let out = env.run(&["history"]).ok();
    assert!(out.contains("kept to myself"), "{out}");
    assert!(out.contains("just us"), "{out}");
    assert!(out.contains("(private)"), "{out}");
    let items = env.history(&[]);
    let private = items.iter().find(|e| e["practice"] == "date").unwrap();
    assert_eq!(private["private"], true);
    assert_eq!(private["note"], "just us");
    let unshared = items
        .iter()
        .find(|e| e["practice"] == "appreciation")
        .unwrap();
    assert_eq!(unshared["note"], "kept to myself");
}

#[test]
fn partner_entries_show_with_their_name_and_escapes_neutralised() {
    let (env, sam, _remote) = TestEnv::couple();
    log(&env, &["listen"]);
    let hostile = "\u{1b}[31mred\u{1b}]0;title\u{7}";
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

    let run = env.run(&["history"]);
    let out = run.ok();
    let row = out
        .lines()
        .find(|l| l.contains("appreciation"))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(row.contains("Sam"), "{row}");
    assert!(row.contains("red"), "{row}");
    assert!(
        !row.contains("title"),
        "the OSC sequence is removed whole: {row}"
    );
    for output in [&run.output.stdout, &run.output.stderr] {
        assert!(
            !output.contains(&0x1b),
            "an ESC byte reached the terminal: {out:?}"
        );
        assert!(
            !output.contains(&0x07),
            "a BEL byte reached the terminal: {out:?}"
        );
    }
    // My own rows say "me", never a partner-versus-partner tally.
    assert!(
        out.lines()
            .any(|l| l.contains("listen") && l.contains("me")),
        "{out}"
    );

    let json = env.run(&["history", "--json"]);
    assert!(!json.output.stdout.contains(&0x1b));
    let items = json.json();
    let theirs = items
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["person"] == sam.my_id().as_str())
        .unwrap();
    assert_eq!(theirs["name"], "Sam");
    assert_eq!(theirs["note"], hostile, "JSON keeps the text, escaped");
}

// ---------------------------------------------------------------- undo, edit, rm

#[test]
fn undo_removes_my_most_recent_entry_and_forgets_its_note() {
    let env = TestEnv::new();
    let first = log(&env, &["listen"]);
    let second = log(&env, &["appreciation", "--note", "a secret thank-you"]);
    let out = env.run(&["undo"]).ok();
    assert!(out.contains("appreciation"), "{out}");
    assert!(out.contains("safe redo"), "{out}");

    let live = env.journal();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], first.as_str());
    assert!(
        env.history(&["--all"])
            .iter()
            .all(|e| e["id"] != second.as_str())
    );
    // The note is shown nowhere, and was never in shared/ or kept in the
    // index.
    assert!(!contains_bytes(&env.shared_bytes(), "a secret thank-you"));
    assert_eq!(
        env.files_holding("index", "a secret thank-you"),
        Vec::<PathBuf>::new()
    );
    assert!(!env.run(&["history", "--all"]).ok().contains("secret"));

    // Undo again takes the one before, then there is nothing left.
    env.run(&["undo"]).ok();
    assert!(env.journal().is_empty());
    let err = env.run(&["undo"]).fails(2);
    assert!(err.contains("nothing"), "{err}");
}

#[test]
fn undo_removes_a_private_entry_too() {
    let env = TestEnv::new();
    log(&env, &["listen"]);
    let private = log(&env, &["date", "--private", "--note", "our spot"]);
    env.run(&["undo"]).ok();
    let live = env.journal();
    assert_eq!(live.len(), 1);
    assert_ne!(live[0]["id"], private.as_str());
    assert!(!contains_bytes(&env.shared_bytes(), "our spot"));
    assert!(!contains_bytes(&env.shared_bytes(), &private));
    assert!(!env.run(&["history", "--all"]).ok().contains("our spot"));
}

#[test]
fn undo_of_an_rm_brings_the_entry_back_with_its_note() {
    let env = TestEnv::new();
    let id = log(&env, &["repair", "--took", "20m", "--note", "we hugged"]);
    log(&env, &["listen"]);
    env.run(&["rm", &id]).ok();
    assert_eq!(env.journal().len(), 1);

    let out = env.run(&["undo"]).ok();
    assert!(out.contains("Undid"), "{out}");
    let back = env.entry(&id);
    assert_eq!(back["practice"], "repair");
    assert_eq!(back["took_minutes"], 20);
    assert_eq!(back["note"], "we hugged");
    assert_eq!(env.journal().len(), 2);
    assert!(!contains_bytes(&env.shared_bytes(), "we hugged"));
}

#[test]
fn undo_of_an_edit_restores_the_old_note_and_day() {
    let env = TestEnv::new();
    let id = log(&env, &["appreciation", "--note", "before"]);
    env.run(&["edit", &id, "--note", "after", "--date", "yesterday"])
        .ok();
    let edited = env.entry(&id);
    assert_eq!(
        (&edited["note"], &edited["day"]),
        (&json!("after"), &json!("2026-11-26"))
    );

    env.run(&["undo"]).ok();
    let restored = env.entry(&id);
    assert_eq!(restored["note"], "before");
    assert_eq!(restored["day"], "2026-11-27");
    assert_eq!(env.journal().len(), 1, "the entry itself stays");
    assert!(!contains_bytes(&env.shared_bytes(), "before"));
}

#[test]
fn redo_applies_again_what_undo_took_back_until_something_else_changes() {
    let env = TestEnv::new();
    let kept = log(&env, &["listen"]);
    let id = log(&env, &["repair", "--took", "1h", "--note", "long talk"]);
    env.run(&["undo"]).ok();
    assert_eq!(env.journal().len(), 1);

    let out = env.run(&["redo"]).ok();
    assert!(out.contains("Redid") && out.contains("repair"), "{out}");
    let back = env.entry(&id);
    assert_eq!(back["took_minutes"], 60);
    assert_eq!(back["note"], "long talk");
    let err = env.run(&["redo"]).fails(2);
    assert!(err.contains("nothing to redo"), "{err}");

    // Two undos, two redos, in order.
    env.run(&["undo"]).ok();
    env.run(&["undo"]).ok();
    assert!(env.journal().is_empty());
    env.run(&["redo"]).ok();
    assert_eq!(env.journal().len(), 1);
    assert_eq!(env.journal()[0]["id"], kept.as_str());
    env.run(&["redo"]).ok();
    assert_eq!(env.journal().len(), 2);

    // Once something else changes, what was undone stays undone.
    env.run(&["undo"]).ok();
    log(&env, &["check-in"]);
    let before = env.snapshot();
    env.run(&["redo"]).fails(2);
    assert_eq!(env.snapshot(), before);
    let practices: Vec<Value> = env
        .journal()
        .iter()
        .map(|e| e["practice"].clone())
        .collect();
    assert_eq!(practices, [json!("listen"), json!("check-in")]);
}

#[test]
fn undo_takes_back_a_goal_and_a_name_too() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    env.run(&["practice", "goal", "listen", "3/week"]).ok();
    env.run(&["init", "--name", "Robin"]).ok();
    let out = env.run(&["undo"]).ok();
    assert!(out.contains("Robin"), "{out}");
    assert_eq!(env.my_name(), "Alex");
    env.run(&["undo"]).ok();
    let list = env.run(&["practice", "list"]).ok();
    let row = list
        .lines()
        .find(|l| l.split_whitespace().next() == Some("listen"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(!row.contains("3/week"), "{row}");
    assert_eq!(env.journal().len(), 1, "the log before stays");
}

#[test]
fn undo_never_removes_a_partners_entry() {
    let (env, sam, _remote) = TestEnv::couple();
    log(&env, &["listen"]);
    // Sam's entry is the journal's latest.
    sam.run(&["log", "appreciation"]).ok();
    sam.sync();
    env.sync();
    env.run(&["undo"]).ok();
    let live = env.journal();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["author"], sam.my_id().as_str());
    let err = env.run(&["undo"]).fails(2);
    assert!(err.contains("nothing"), "{err}");
    // Nor does it once it reaches Sam.
    env.sync();
    sam.sync();
    assert_eq!(sam.journal().len(), 1);
}

#[test]
fn edit_changes_the_note_and_keeps_it_private() {
    let env = TestEnv::new();
    let id = log(&env, &["appreciation", "--note", "first words"]);
    env.run(&["edit", &id, "--note", "better words"]).ok();
    let edited = env.entry(&id);
    assert_eq!(edited["note"], "better words");
    assert_eq!(edited["note_shared"], false);
    assert!(!env.run(&["history", "--all"]).ok().contains("first words"));
    let shared = env.shared_bytes();
    assert!(!contains_bytes(&shared, "first words"));
    assert!(!contains_bytes(&shared, "better words"));

    // A shared note stays shared.
    let shared = log(&env, &["listen", "--note", "heard you", "--share-note"]);
    env.run(&["edit", &shared, "--note", "really heard you"])
        .ok();
    let edited = env.entry(&shared);
    assert_eq!(edited["note"], "really heard you");
    assert_eq!(edited["note_shared"], true);
    assert!(contains_bytes(&env.shared_bytes(), "really heard you"));

    // An empty note removes it.
    env.run(&["edit", &id, "--note", ""]).ok();
    assert!(env.entry(&id).get("note").is_none());
    assert!(!env.run(&["history", "--all"]).ok().contains("better words"));
}

/// DESIGN.md §3 "Notes and deletion" (docs/protocol.md "Stripping
/// superseded notes"): a shared note that is edited, cleared, removed with
/// its entry, or taken back by undo leaves every file under shared/ and the
/// index at once; the current notes stay. My own stripped notes wait in my
/// private stash, so undoing a removal brings the entry back with its note,
/// shared again.
#[test]
fn a_superseded_shared_note_leaves_the_shared_files() {
    let env = TestEnv::new();
    let share = |practice: &str, note: &str| log(&env, &[practice, "--note", note, "--share-note"]);
    let edited = share("listen", "edited-marker");
    let cleared = share("date", "cleared-marker");
    let removed = share("check-in", "removed-marker");
    let moved = share("appreciation", "moved-marker");
    let unshared = share("apology", "unshared-marker");
    env.run(&["edit", &edited, "--note", "new words"]).ok();
    env.run(&["edit", &unshared, "--unshare-note"]).ok();
    env.run(&["edit", &cleared, "--note", ""]).ok();
    // Moving keeps the note: it is sealed again, and the old copy goes.
    env.run(&["edit", &moved, "--date", "yesterday"]).ok();
    env.run(&["rm", &removed]).ok();
    assert!(!contains_bytes(&env.shared_bytes(), "removed-marker"));
    env.run(&["undo"]).ok(); // the rm: the check-in is back, with its note
    let back = env.entry(&removed);
    assert_eq!(back["practice"], "check-in");
    assert_eq!(back["note"], "removed-marker");
    assert_eq!(back["note_shared"], true);
    assert!(contains_bytes(&env.shared_bytes(), "removed-marker"));
    env.run(&["rm", &removed]).ok();
    share("apology", "undone-marker");
    env.run(&["undo"]).ok(); // the apology goes, and its note

    let shared = env.shared_bytes();
    let mut index = Vec::new();
    for file in env.files_under("index") {
        index.extend(std::fs::read(file).unwrap());
    }
    for marker in [
        "edited-marker",
        "unshared-marker",
        "cleared-marker",
        "removed-marker",
        "undone-marker",
    ] {
        assert!(!contains_bytes(&shared, marker), "{marker} is still shared");
        // An unshared note is still my note: the index keeps it as a kept one.
        assert_eq!(
            contains_bytes(&index, marker),
            marker == "unshared-marker",
            "{marker} in the index"
        );
    }
    for current in ["new words", "moved-marker"] {
        assert_eq!(
            shared
                .windows(current.len())
                .filter(|w| *w == current.as_bytes())
                .count(),
            1,
            "{current} is shared once, in the version that is current"
        );
    }
    assert_eq!(env.entry(&edited)["note"], "new words");
    assert_eq!(env.entry(&moved)["note"], "moved-marker");
    // Unshared, the note stays mine, kept in private/.
    assert_eq!(env.entry(&unshared)["note"], "unshared-marker");
    assert_eq!(env.entry(&unshared)["note_shared"], false);
    // My own stripped notes wait only in my private stash, 0600.
    let stash = env.path("private/stripped-notes.jsonl");
    assert_eq!(
        env.files_holding("private", "removed-marker"),
        std::slice::from_ref(&stash)
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&stash).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The logs still verify: nothing is reported, and a rebuilt index
    // reads the same journal.
    let before = env.journal();
    std::fs::remove_dir_all(env.path("index")).unwrap();
    assert_eq!(env.journal(), before);
    let run = env.run(&["history", "--all"]);
    run.ok();
    assert_eq!(run.stderr(), "", "no log is reported damaged");
}

#[test]
fn edit_moves_a_day_within_the_month() {
    let env = TestEnv::new();
    let id = log(&env, &["listen"]);
    let rev_before = env.entry(&id)["rev"].clone();
    env.run(&["edit", &id, "--date", "11-20"]).ok();
    let live = env.journal();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["id"], id.as_str());
    assert_eq!(live[0]["day"], "2026-11-20");
    assert!(live[0]["at"].as_str().unwrap().starts_with("2026-11-20"));
    assert_ne!(live[0]["rev"], rev_before, "every change gets a new rev");
}

#[test]
fn edit_to_another_month_keeps_the_id_and_the_private_note() {
    let env = TestEnv::new();
    let id = log(&env, &["appreciation", "--note", "moving note"]);
    let out = env.run(&["edit", &id, "--date", "2026-10-30"]).ok();
    assert!(out.contains("2026-10-30"), "{out}");

    let all = env.journal();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["id"], id.as_str(), "the same entry, moved");
    assert_eq!(all[0]["day"], "2026-10-30");
    assert_eq!(all[0]["practice"], "appreciation");
    // The note moved with it, and stayed private.
    assert_eq!(all[0]["note"], "moving note");
    assert!(!contains_bytes(&env.shared_bytes(), "moving note"));
    let history = env.history(&["--all"]);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["note"], "moving note");
    // Given back by the id it always had.
    env.run(&["rm", "--yes", &id[..8]]).ok();
    assert!(env.journal().is_empty());
}

#[test]
fn edit_took_on_a_repair_only() {
    let env = TestEnv::new();
    let repair = log(&env, &["repair", "--took", "2h"]);
    env.run(&["edit", &repair, "--took", "45m"]).ok();
    assert_eq!(env.entry(&repair)["took_minutes"], 45);

    let listen = log(&env, &["listen"]);
    let before = env.snapshot();
    let err = env.run(&["edit", &listen, "--took", "45m"]).fails(2);
    assert!(err.contains("repair"), "{err}");
    env.run(&["edit", &listen]).fails(2); // nothing to change
    env.run(&["edit", &listen, "--date", "tomorrow"]).fails(2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn rm_by_a_four_character_prefix() {
    let env = TestEnv::new();
    let id = log(&env, &["listen", "--note", "to be removed"]);
    let out = env.run(&["rm", &id[..4]]).ok();
    assert!(out.contains("listen"), "{out}");
    assert!(env.journal().is_empty());
    assert!(env.history(&["--all"]).is_empty());
    assert!(!contains_bytes(&env.shared_bytes(), "to be removed"));
}

#[test]
fn rm_accepts_the_prefix_history_shows() {
    let env = TestEnv::new();
    log(&env, &["listen"]);
    let target = log(&env, &["repair"]);
    let out = env.run(&["history"]).ok();
    let row = out.lines().find(|l| l.contains("repair")).unwrap();
    let tail = target.replace('-', "")[17..].to_string();
    let shown = row
        .split_whitespace()
        .find(|t| t.len() >= 4 && tail.starts_with(*t))
        .unwrap_or_else(|| panic!("no handle in {row}"));
    env.run(&["rm", shown]).ok();
    let live = env.journal();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["practice"], "listen");
    assert!(live.iter().all(|e| e["id"] != target.as_str()));
}

#[test]
fn the_id_log_prints_can_be_given_back_to_rm() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let out = env.run(&["log", "repair"]).ok();
    let printed = out
        .lines()
        .find_map(|l| l.split("(id ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .unwrap_or_else(|| panic!("no id line in {out:?}"))
        .trim()
        .to_string();
    let run = env.run(&["rm", &printed]);
    assert_eq!(
        run.code(),
        0,
        "`safe rm {printed}` after `safe log` printed it:\n{}",
        run.stderr()
    );
    let live = env.journal();
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["practice"], "listen");
}

#[test]
fn rm_refuses_ambiguous_short_and_unknown_prefixes() {
    let env = TestEnv::new();
    let a = log(&env, &["listen"]);
    let b = log(&env, &["repair"]);
    let common: String = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect();
    assert!(
        common.len() >= 4,
        "entries made a moment apart share a prefix: {a} {b}"
    );
    let before = env.snapshot();

    let err = env.run(&["rm", &common[..4]]).fails(2);
    assert!(err.contains("matches 2 entries"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    let err = env.run(&["rm", &a[..3]]).fails(2);
    assert!(err.contains("not an entry id"), "{err}");
    let unknown = if a.starts_with("ffff") {
        "eeee"
    } else {
        "ffff"
    };
    let err = env.run(&["rm", unknown]).fails(2);
    assert!(err.contains("no entry"), "{err}");
    env.run(&["rm", "not-hex"]).fails(2);
    env.run(&["edit", &common[..4], "--note", "x"]).fails(2);
    assert_eq!(env.snapshot(), before);
}

#[test]
fn partners_entries_cannot_be_edited_or_removed() {
    let (env, sam, _remote) = TestEnv::couple();
    log(&env, &["listen"]);
    let theirs = log(
        &sam,
        &[
            "appreciation",
            "--date",
            "yesterday",
            "--note",
            "from Sam",
            "--share-note",
        ],
    );
    sam.sync();
    env.sync();
    let before = env.snapshot();

    let err = env.run(&["rm", &theirs]).fails(2);
    assert!(err.contains("Sam"), "{err}");
    let err = env
        .run(&["edit", &theirs[..13], "--note", "rewritten"])
        .fails(2);
    assert!(err.contains("only its author"), "{err}");
    env.run(&["edit", &theirs, "--date", "2026-11-20"]).fails(2);
    assert_eq!(env.snapshot(), before);
    assert_eq!(env.entry(&theirs)["note"], "from Sam");
}

// ---------------------------------------------------------------- practices

#[test]
fn practice_list_shows_the_builtins_with_my_goals() {
    let env = TestEnv::new();
    let out = env.run(&["practice", "list"]).ok();
    for id in [
        "gentle-touch",
        "repair",
        "appreciation",
        "stress-talk",
        "state-of-us",
    ] {
        assert!(out.contains(id), "{id} missing:\n{out}");
    }
    let row = out.lines().find(|l| l.contains("stress-talk")).unwrap();
    assert!(row.contains("3/week"), "{row}");
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("appreciation"))
        .unwrap();
    assert!(row.contains("daily"), "{row}");
}

#[test]
fn practice_add_makes_a_practice_i_can_log() {
    let env = TestEnv::new();
    env.run(&[
        "practice",
        "add",
        "read-aloud",
        "--goal",
        "2/week",
        "--about",
        "read to each other",
    ])
    .ok();
    // It travels in the shared log, for my partner too.
    assert!(contains_bytes(&env.shared_bytes(), "read to each other"));

    let out = env.run(&["practice", "list"]).ok();
    let row = out.lines().find(|l| l.contains("read-aloud")).unwrap();
    assert!(
        row.contains("2/week") && row.contains("read to each other"),
        "{row}"
    );
    env.run(&["log", "read-aloud"]).ok();
    assert_eq!(env.journal()[0]["practice"], "read-aloud");

    env.run(&["practice", "add", "read-aloud"]).fails(2);
    env.run(&["practice", "add", "repair"]).fails(2);
    env.run(&["practice", "add", "Read Aloud"]).fails(2);
    env.run(&["practice", "add", "walk", "--goal", "often"])
        .fails(2);
}

#[test]
fn practice_add_makes_a_practice_both_can_log() {
    let (alex, sam, _remote) = TestEnv::couple();
    alex.run(&[
        "practice",
        "add",
        "read-aloud",
        "--goal",
        "2/week",
        "--about",
        "read to each other",
    ])
    .ok();
    alex.sync();
    sam.sync();
    let out = sam.run(&["practice", "list"]).ok();
    let row = out.lines().find(|l| l.contains("read-aloud")).unwrap();
    assert!(row.contains("read to each other"), "{row}");
    sam.run(&["log", "read-aloud"]).ok();
    sam.sync();
    alex.sync();
    let theirs = alex.history(&["--who", "partner", "--practice", "read-aloud"]);
    assert_eq!(theirs.len(), 1);
}

#[test]
fn goals_are_personal() {
    let (env, sam, _remote) = TestEnv::couple();
    env.run(&["log", "listen"]).ok();
    // My partner already has a goal of their own for appreciation.
    sam.run(&["practice", "goal", "appreciation", "daily"]).ok();
    sam.sync();
    env.sync();
    let out = env
        .run(&["practice", "goal", "appreciation", "3/week"])
        .ok();
    assert!(out.contains("3/week"), "{out}");
    env.sync();
    sam.sync();

    let goal = |who: &TestEnv| {
        let out = who.run(&["practice", "list"]).ok();
        out.lines()
            .find(|l| l.trim_start().starts_with("appreciation"))
            .unwrap()
            .to_string()
    };
    assert!(goal(&env).contains("3/week"), "{}", goal(&env));
    assert!(goal(&sam).contains("daily"), "{}", goal(&sam));
    env.run(&["practice", "goal", "appreciation", "9/week"])
        .fails(2);
    env.run(&["practice", "goal", "apreciation", "daily"])
        .fails(2);
}

#[test]
fn a_retired_practice_cannot_be_logged_until_brought_back() {
    let env = TestEnv::new();
    env.run(&["log", "long-kiss", "--date", "yesterday"]).ok();
    let out = env.run(&["practice", "retire", "long-kiss"]).ok();
    assert!(out.contains("long-kiss"), "{out}");

    assert!(!env.run(&["practice", "list"]).ok().contains("long-kiss"));
    let all = env.run(&["practice", "list", "--all"]).ok();
    let row = all.lines().find(|l| l.contains("long-kiss")).unwrap();
    assert!(row.contains("retired"), "{row}");

    let before = env.snapshot();
    let err = env.run(&["log", "long-kiss"]).fails(2);
    assert!(err.contains("retired"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("safe practice goal long-kiss"),
        "{err}"
    );
    assert_eq!(env.snapshot(), before);
    // Its history stays.
    assert_eq!(env.history(&["--all"]).len(), 1);

    env.run(&["practice", "goal", "long-kiss", "none"]).ok();
    env.run(&["log", "long-kiss"]).ok();
    assert_eq!(env.journal().len(), 2);
}

// ---------------------------------------------------------------- init, config

#[test]
fn init_name_renames_me_and_keeps_my_id() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let me = env.my_id();
    let out = env.run(&["init", "--name", "Robin"]).ok();
    assert!(out.contains("Robin"), "{out}");
    assert_eq!(env.my_id(), me, "renaming keeps the identity");
    assert_eq!(env.my_name(), "Robin");
    let all = env.history(&["--all"]);
    assert_eq!(all[0]["name"], "Robin");
    assert_eq!(all[0]["person"], me.as_str());
    assert_eq!(env.journal()[0]["author"], me.as_str());
    // The new name travels in the shared log, for my partner.
    assert!(contains_bytes(&env.shared_bytes(), "Robin"));
    let again = env.run(&["init"]).ok();
    assert!(again.contains("Already set up as Robin"), "{again}");

    env.run(&["config", "set", "name", "Robin Q"]).ok();
    assert_eq!(env.my_name(), "Robin Q");
    assert_eq!(env.history(&["--all"])[0]["name"], "Robin Q");
    env.run(&["init", "--name", ""]).fails(2);
    assert_eq!(env.my_name(), "Robin Q");
}

#[test]
fn init_on_a_fresh_machine_uses_the_given_name() {
    let env = TestEnv::new();
    let out = env.run(&["init", "--name", "Jo"]).ok();
    assert!(out.contains("Jo"), "{out}");
    assert_eq!(env.my_name(), "Jo");
    assert!(env.path("journal.json").exists());
    let run = env.run(&["log", "listen"]);
    run.ok();
    assert_eq!(run.stderr(), "", "the journal was already there");
    assert_eq!(env.journal()[0]["author"], env.my_id().as_str());
    assert_eq!(env.history(&[])[0]["name"], "Jo");
}

#[test]
fn config_get_set_and_list() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    assert_eq!(env.run(&["config", "get", "name"]).ok().trim(), "Alex");
    assert_eq!(
        env.run(&["config", "get", "week_start"]).ok().trim(),
        "monday"
    );
    assert_eq!(
        env.run(&["config", "get", "share_notes"]).ok().trim(),
        "false"
    );

    env.run(&["config", "set", "week_start", "sunday"]).ok();
    assert_eq!(
        env.run(&["config", "get", "week_start"]).ok().trim(),
        "sunday"
    );
    assert_eq!(env.read_json("config.json")["week_start"], "sunday");
    // A Sunday-start week runs Sunday 22 to Saturday 28 November.
    env.run(&["log", "listen", "--date", "2026-11-22"]).ok();
    assert_eq!(days(&env.history(&[])), ["2026-11-22", "2026-11-27"]);

    let list = env.run(&["config", "list"]).ok();
    for key in ["name", "week_start", "share_notes", "auto_sync", "remote"] {
        assert!(
            list.lines().any(|l| l.starts_with(key)),
            "{key} missing:\n{list}"
        );
    }
    assert!(list.contains("sunday"), "{list}");
}

#[test]
fn config_rejects_unknown_keys_and_bad_values() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let before = env.snapshot();
    let err = env.run(&["config", "get", "colour"]).fails(2);
    assert!(err.contains("colour") && err.contains("hint:"), "{err}");
    env.run(&["config", "set", "colour", "blue"]).fails(2);
    let err = env
        .run(&["config", "set", "week_start", "tuesday"])
        .fails(2);
    assert!(err.contains("tuesday"), "{err}");
    env.run(&["config", "set", "share_notes", "maybe"]).fails(2);
    env.run(&["config", "set", "id", "someone-else"]).fails(2);
    assert_eq!(env.snapshot(), before);
}

// ---------------------------------------------------------------- export, import

/// A journal with a shared note, an unshared note, a private entry, a repair
/// time and an entry in another month.
fn varied_journal() -> TestEnv {
    let env = TestEnv::new();
    env.run(&[
        "log",
        "appreciation",
        "--note",
        "shared words",
        "--share-note",
    ])
    .ok();
    env.run(&["log", "listen", "--note", "quiet words"]).ok();
    env.run(&["log", "date", "--private", "--note", "our secret"])
        .ok();
    env.run(&["log", "repair", "--took", "1h15m", "--date", "2026-10-30"])
        .ok();
    env
}

fn jsonl(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

#[test]
fn export_jsonl_to_stdout_and_to_a_file() {
    let env = varied_journal();
    let lines = jsonl(&env.run(&["export"]).ok());
    assert_eq!(lines.len(), 4);
    let by = |p: &str| lines.iter().find(|l| l["practice"] == p).unwrap().clone();
    assert_eq!(by("appreciation")["note"], "shared words");
    assert_eq!(by("appreciation")["private"], false);
    assert_eq!(by("listen")["note"], "quiet words");
    assert_eq!(by("date")["private"], true);
    assert_eq!(by("date")["note"], "our secret");
    assert_eq!(by("repair")["took_minutes"], 75);
    assert_eq!(by("repair")["day"], "2026-10-30");
    for line in &lines {
        assert!(line["id"].is_string() && line["at"].is_string() && line["author"].is_string());
    }

    let file = env.home.path().join("journal.jsonl");
    let run = env.run(&["export", "-o", file.to_str().unwrap()]);
    assert_eq!(run.ok(), "", "the export went to the file, not stdout");
    assert!(run.stderr().contains("4 entries"), "{}", run.stderr());
    assert_eq!(jsonl(&std::fs::read_to_string(&file).unwrap()), lines);
}

#[test]
fn export_csv_quotes_awkward_notes() {
    let env = TestEnv::new();
    let note = "we said \"sorry\", then\nwe laughed";
    let id = log(
        &env,
        &["repair", "--took", "30m", "--note", note, "--share-note"],
    );
    let out = env.run(&["export", "--format", "csv"]).ok();
    let mut lines = out.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,kind,practice,day,at,person,note,took_minutes,until,private"
    );
    let at = env.entry(&id)["at"].as_str().unwrap().to_string();
    let expected = format!(
        "{id},log,repair,2026-11-27,{at},Alex,\"we said \"\"sorry\"\", then\nwe laughed\",30,,false\n"
    );
    assert!(
        out.ends_with(&expected),
        "{out}\nwanted to end with:\n{expected}"
    );

    let file = env.home.path().join("journal.csv");
    env.run(&["export", "--format", "csv", "-o", file.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read_to_string(&file).unwrap(), out);
    env.run(&["export", "--format", "xml"]).fails(2);
}

#[test]
fn import_round_trips_into_a_fresh_journal() {
    let source = varied_journal();
    let exported = source.run(&["export"]).ok();
    let source_ids: Vec<Value> = source
        .history(&["--all"])
        .iter()
        .map(|e| e["id"].clone())
        .collect();

    let target = TestEnv::named("Jo");
    let out = target.run_stdin(&["import", "-"], &exported).ok();
    assert!(out.contains('4'), "{out}");
    let imported = target.history(&["--all"]);
    // Someone else's entries become mine under ids of their own (so the
    // originals can never be overwritten), made at the same time.
    let ids: Vec<String> = imported
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), source_ids.len());
    for (id, source) in ids.iter().zip(&source_ids) {
        let source = source.as_str().unwrap();
        assert_ne!(id, source);
        assert_eq!(id[..13], source[..13], "the same creation time");
    }
    let what = |list: &[Value]| -> Vec<(Value, Value, Value)> {
        list.iter()
            .map(|e| (e["practice"].clone(), e["day"].clone(), e["note"].clone()))
            .collect()
    };
    assert_eq!(what(&imported), what(&source.history(&["--all"])));
    assert!(
        imported.iter().all(|e| e["name"] == "Jo"),
        "imported entries are the importer's"
    );

    // Privacy survives the trip.
    let shared = target.shared_bytes();
    assert!(!contains_bytes(&shared, "quiet words"));
    assert!(!contains_bytes(&shared, "our secret"));
    assert!(contains_bytes(&shared, "shared words"));
    let entries = target.journal();
    let by = |p: &str| entries.iter().find(|e| e["practice"] == p).unwrap();
    assert_eq!(by("appreciation")["note_shared"], true);
    assert_eq!(by("listen")["note_shared"], false);
    assert_eq!(by("date")["private"], true);
    assert_eq!(by("repair")["took_minutes"], 75);
    assert_eq!(by("repair")["day"], "2026-10-30");
}

#[test]
fn reimporting_is_harmless() {
    let env = varied_journal();
    let file = env.home.path().join("journal.jsonl");
    env.run(&["export", "-o", file.to_str().unwrap()]).ok();
    let before = env.history(&["--all"]);

    let out = env.run(&["import", file.to_str().unwrap()]).ok();
    assert!(out.contains("Imported 0"), "{out}");
    assert!(out.contains("4 already"), "{out}");
    assert_eq!(env.history(&["--all"]), before);

    // And into a fresh journal twice: the second time adds nothing.
    let other = TestEnv::new();
    other.run(&["import", file.to_str().unwrap()]).ok();
    let once = other.history(&["--all"]);
    other.run(&["import", file.to_str().unwrap()]).ok();
    assert_eq!(other.history(&["--all"]), once);
    assert_eq!(once.len(), 4);
}

#[test]
fn import_from_stdin_needs_only_practice_and_day() {
    let env = TestEnv::new();
    let input = "{\"practice\":\"listen\",\"day\":\"2026-11-02\"}\n\n\
                 {\"practice\":\"repair\",\"day\":\"2026-09-15\",\"took_minutes\":20,\"note\":\"a\"}\n";
    let out = env.run_stdin(&["import", "-"], input).ok();
    assert!(out.contains("Imported 2"), "{out}");
    let all = env.history(&["--all"]);
    assert_eq!(days(&all), ["2026-09-15", "2026-11-02"]);
    assert_eq!(all[0]["took_minutes"], 20);
    assert_eq!(all[0]["note"], "a");
    for e in &all {
        assert_eq!(uuid_of(e).get_version_num(), 7);
    }
}

#[test]
fn import_with_one_bad_line_writes_nothing() {
    let good = "{\"practice\":\"listen\",\"day\":\"2026-10-02\"}";
    let cases = [
        (
            "{\"practice\":\"juggling\",\"day\":\"2026-10-03\"}",
            "juggling",
        ),
        ("{\"practice\":\"listen\",\"day\":", "EOF"),
        ("{\"practice\":\"listen\",\"day\":\"2026-12-25\"}", "future"),
        (
            "{\"practice\":\"listen\",\"day\":\"25/10/2026\"}",
            "25/10/2026",
        ),
        ("{\"day\":\"2026-10-03\"}", "practice"),
    ];
    for (bad, says) in cases {
        let env = TestEnv::new();
        env.run(&["log", "listen"]).ok();
        let before = env.snapshot();
        let input = format!("{good}\n{good}\n{bad}\n{good}\n");
        let err = env.run_stdin(&["import", "-"], &input).fails(2);
        assert!(err.contains("line 3"), "{bad}: {err}");
        assert!(err.contains(says), "{bad}: {err}");
        assert_eq!(env.snapshot(), before, "{bad}");
        assert_eq!(env.journal().len(), 1, "{bad}");
    }
}

#[test]
fn import_of_a_missing_file_is_an_input_error() {
    let env = TestEnv::new();
    let err = env.run(&["import", "no-such-file.jsonl"]).fails(2);
    assert!(err.contains("no-such-file.jsonl"), "{err}");
    assert!(env.snapshot().is_empty());
}

// ---------------------------------------------------------------- damaged data

/// My shared log, with one line's payload changed behind safe's back (its
/// length changes, so the index notices).
fn tamper_with_my_log(env: &TestEnv, line: usize, from: &str, to: &str) -> (PathBuf, Vec<u8>) {
    let segment = env.segments("shared/log").pop().unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    assert!(lines[line - 1].contains(from), "{}", lines[line - 1]);
    lines[line - 1] = lines[line - 1].replacen(from, to, 1);
    let bytes = (lines.join("\n") + "\n").into_bytes();
    std::fs::write(&segment, &bytes).unwrap();
    (segment, bytes)
}

#[test]
fn a_tampered_segment_is_reported_with_its_path_and_line_and_left_alone() {
    let env = TestEnv::new();
    // Line 1 is the device, line 2 the name, lines 3 and 4 the entries.
    env.run(&["log", "listen"]).ok();
    env.run(&["log", "repair", "--took", "15m"]).ok();
    let (segment, tampered) = tamper_with_my_log(&env, 3, "\"listen\"", "\"apology\"");
    let path = segment.display().to_string();

    // A change is refused: nothing may follow the damage.
    for args in [
        &["log", "check-in"][..],
        &["practice", "goal", "listen", "3/week"],
        &["init", "--name", "Kim"],
    ] {
        let err = env.run(args).fails(1);
        assert!(err.starts_with("safe: error:"), "{args:?}: {err}");
        assert!(err.contains(&path), "{args:?} should name {path}: {err}");
        assert!(err.contains("line 3"), "{args:?}: {err}");
        assert!(err.contains("hint:"), "{args:?}: {err}");
        assert_eq!(std::fs::read(&segment).unwrap(), tampered, "{args:?}");
    }
    // Reading uses what came before the damage, and nothing from it on.
    for args in [&["history", "--all"][..], &["stats", "--json"], &["export"]] {
        env.run(args).ok();
        assert_eq!(std::fs::read(&segment).unwrap(), tampered, "{args:?}");
    }
    let seen = env.journal();
    assert!(seen.iter().all(|e| e["practice"] != "apology"), "{seen:?}");
    assert!(seen.iter().all(|e| e["practice"] != "repair"), "{seen:?}");
}

#[test]
fn a_line_that_is_not_a_log_line_is_reported_by_its_number() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    env.run(&["log", "repair"]).ok();
    let segment = env.segments("shared/log").pop().unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    lines[1] = "{\"v\":2, oops";
    let broken = lines.join("\n") + "\n";
    std::fs::write(&segment, &broken).unwrap();
    let err = env.run(&["log", "check-in"]).fails(1);
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains(&segment.display().to_string()), "{err}");
    env.run(&["history"]).ok();
    assert_eq!(std::fs::read_to_string(&segment).unwrap(), broken);
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let mut journal = env.read_json("journal.json");
    journal["schema"] = json!(99);
    journal["hologram"] = json!(true);
    let newer = serde_json::to_vec_pretty(&journal).unwrap();
    std::fs::write(env.path("journal.json"), &newer).unwrap();
    let logs = env.snapshot();
    for args in [&["log", "repair"][..], &["history"], &["stats"], &["undo"]] {
        let err = env.run(args).fails(1);
        assert!(err.contains("upgrade safe"), "{args:?}: {err}");
        assert!(
            err.contains(&env.path("journal.json").display().to_string()),
            "{err}"
        );
        assert_eq!(std::fs::read(env.path("journal.json")).unwrap(), newer);
        assert_eq!(env.snapshot(), logs, "{args:?}");
    }
    journal["schema"] = json!(2);
    journal.as_object_mut().unwrap().remove("hologram");
    std::fs::write(
        env.path("journal.json"),
        serde_json::to_vec_pretty(&journal).unwrap(),
    )
    .unwrap();
    env.run(&["history"]).ok();

    // A newer config is refused the same way.
    env.run(&["config", "set", "week_start", "sunday"]).ok();
    let mut config = env.read_json("config.json");
    config["schema"] = json!(99);
    let newer_config = serde_json::to_vec(&config).unwrap();
    std::fs::write(env.path("config.json"), &newer_config).unwrap();
    let err = env.run(&["log", "listen", "--date", "2026-10-01"]).fails(1);
    assert!(err.contains("upgrade safe"), "{err}");
    assert_eq!(
        std::fs::read(env.path("config.json")).unwrap(),
        newer_config
    );
}

#[test]
fn a_change_appends_to_the_logs_and_never_rewrites_them() {
    let env = TestEnv::new();
    let id = log(&env, &["listen", "--note", "kept"]);
    log(&env, &["date", "--private"]);
    let before: Vec<(PathBuf, Vec<u8>)> = env
        .files_under("shared")
        .into_iter()
        .chain(env.files_under("private"))
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p, bytes)
        })
        .collect();

    let second = log(&env, &["repair"]);
    env.run(&["edit", &second, "--took", "10m"]).ok();
    env.run(&["edit", &id, "--note", "changed"]).ok();
    env.run(&["rm", &id]).ok();
    env.run(&["undo"]).ok();
    env.run(&["init", "--name", "Robin"]).ok();
    env.run(&["practice", "goal", "listen", "3/week"]).ok();

    for (path, bytes) in &before {
        let now = std::fs::read(path).unwrap();
        assert!(
            now.starts_with(bytes) && now.len() > bytes.len(),
            "{} was rewritten, not appended to",
            path.display()
        );
    }
    assert_eq!(env.journal().len(), 3);
}

#[test]
fn log_lines_are_numbered_and_signed_and_the_journal_reads_by_day() {
    let env = TestEnv::new();
    for day in ["2026-11-20", "2026-11-02", "2026-11-27", "2026-11-10"] {
        env.run(&["log", "listen", "--date", day]).ok();
    }
    assert_eq!(
        days(&env.journal()),
        ["2026-11-02", "2026-11-10", "2026-11-20", "2026-11-27"]
    );
    // docs/protocol.md "Lines": payload TAB signature, one a line, each
    // with the next seq; every command's last line signed.
    let segment = env.segments("shared/log").pop().unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 + 4, "the device, my name, four entries");
    for (n, line) in lines.iter().enumerate() {
        let mut parts = line.split('\t');
        let payload: Value = serde_json::from_str(parts.next().unwrap()).unwrap();
        assert_eq!(payload["v"], 2);
        assert_eq!(payload["seq"], n + 1, "{line}");
        let sig = parts.next().unwrap();
        assert!(sig.is_empty() || sig.len() == 128, "{line}");
    }
    let last_sig = lines.last().unwrap().split('\t').nth(1).unwrap();
    assert_eq!(last_sig.len(), 128, "the last line is signed");
}

// ---------------------------------------------------------------- help, usage

#[test]
fn help_says_not_therapy_and_gives_the_hotline() {
    let env = TestEnv::new();
    for flag in ["--help", "-h"] {
        let out = env.run(&[flag]).ok();
        assert!(out.contains("not therapy"), "{out}");
        assert!(out.contains("1-800-799-7233"), "{out}");
        assert!(out.contains("88788"), "{out}");
    }
    assert!(env.snapshot().is_empty());
}

#[test]
fn log_help_shows_an_example() {
    let env = TestEnv::new();
    for args in [&["help", "log"][..], &["log", "--help"]] {
        let out = env.run(args).ok();
        assert!(out.contains("Example"), "{args:?}: {out}");
        assert!(out.contains("safe log appreciation"), "{args:?}: {out}");
        assert!(
            out.contains("--share-note") && out.contains("--took"),
            "{out}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let env = TestEnv::new();
    env.run(&["log"]).fails(2);
    env.run(&["frobnicate"]).fails(2);
    env.run(&["log", "listen", "--bogus"]).fails(2);
    assert!(env.snapshot().is_empty());
}

#[test]
fn data_dir_flag_works_like_the_environment_variable() {
    let env = TestEnv::new();
    let elsewhere = env.home.path().join("elsewhere");
    let run = |args: &[&str]| {
        let output = env
            .cmd()
            .env_remove("SAFE_DATA_DIR")
            .args(args)
            .output()
            .unwrap();
        crate::env::Run { output }
    };
    let dir = elsewhere.to_str().unwrap();
    run(&["--data-dir", dir, "log", "listen"]).ok();
    run(&["log", "repair", "--data-dir", dir]).ok();
    assert!(elsewhere.join("journal.json").exists());
    let logs: Vec<u8> = files_under(&elsewhere.join("shared/log"))
        .iter()
        .flat_map(|p| std::fs::read(p).unwrap())
        .collect();
    assert!(contains_bytes(&logs, "listen") && contains_bytes(&logs, "repair"));
    assert!(
        !env.data_dir().exists(),
        "SAFE_DATA_DIR's place was not used"
    );

    // The flag wins over the variable.
    env.run(&["--data-dir", dir, "log", "apology"]).ok();
    assert!(!env.data_dir().exists());
    let all = run(&["history", "--all", "--json", "--data-dir", dir]).json();
    assert_eq!(all.as_array().unwrap().len(), 3);
}

#[test]
fn safe_now_fixes_the_clock_and_a_bad_one_is_refused() {
    let env = TestEnv::new().at("2026-03-01");
    env.run(&["log", "listen", "--date", "yesterday"]).ok();
    assert_eq!(env.journal()[0]["day"], "2026-02-28");
    let bad = TestEnv::new().at("the day after tomorrow");
    bad.run(&["log", "listen"]).fails(2);
    assert!(bad.snapshot().is_empty());
}

// --- Findings of a review, kept fixed ---

#[test]
fn import_never_makes_a_partners_entry_mine() {
    let (env, sam, _remote) = TestEnv::couple();
    env.run(&["log", "listen"]).ok();
    sam.run(&["log", "repair", "--date", "2026-11-20"]).ok();
    sam.sync();
    env.sync();
    let me = env.my_id();
    let theirs = sam.my_id();
    // My export holds Sam's entry, authored by Sam; an export line may
    // also claim it without an id.
    let mut lines = env.run(&["export"]).ok();
    assert!(lines.contains(theirs.as_str()), "{lines}");
    lines.push_str(
        &json!({"practice": "check-in", "day": "2026-11-19", "author": theirs}).to_string(),
    );
    lines.push('\n');
    lines.push_str(&json!({"practice": "apology", "day": "2026-11-21", "author": me}).to_string());
    lines.push('\n');
    let out = env.run_stdin(&["import", "-"], &lines).ok();
    assert!(out.contains("of your partner's left out"), "{out}");
    let entries = env.journal();
    let mine: Vec<&Value> = entries
        .iter()
        .filter(|e| e["author"] == me.as_str())
        .collect();
    assert!(
        mine.iter()
            .all(|e| e["practice"] != "repair" && e["practice"] != "check-in")
    );
    assert!(mine.iter().any(|e| e["practice"] == "apology"));
    let repairs: Vec<&Value> = entries
        .iter()
        .filter(|e| e["practice"] == "repair")
        .collect();
    assert_eq!(repairs.len(), 1);
    assert_eq!(repairs[0]["author"], theirs.as_str());
}

#[test]
fn import_explains_a_csv_file() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let csv = env.run(&["export", "--format", "csv"]).ok();
    let before = env.snapshot();
    let err = env.run_stdin(&["import", "-"], &csv).fails(2);
    assert!(err.contains("looks like CSV"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(env.snapshot(), before);
}

#[test]
fn a_pause_can_be_planned_ahead_but_not_years_ahead() {
    let env = TestEnv::new();
    let out = env
        .run(&["pause", "--from", "2026-12-20", "--to", "2027-01-02"])
        .ok();
    assert!(out.contains("14 days"), "{out}");
    let pauses = env.journal();
    assert_eq!(pauses.len(), 1);
    assert_eq!(pauses[0]["kind"], "pause");
    assert_eq!(pauses[0]["day"], "2026-12-20");
    assert_eq!(pauses[0]["until"], "2027-01-02");
    let err = env
        .run(&["pause", "--from", "2026-12-20", "--to", "2028-01-02"])
        .fails(2);
    assert!(err.contains("more than a year ahead"), "{err}");
    // A log still refuses the future.
    env.run(&["log", "date", "--date", "2026-12-20"]).fails(2);
}

#[test]
fn the_printed_id_is_unique_across_months_and_sides() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    env.run(&["log", "date", "--private"]).ok();
    let out = env.run(&["log", "mirror", "--date", "2026-10-05"]).ok();
    let id = out
        .lines()
        .find_map(|l| l.split("(id ").nth(1))
        .and_then(|rest| rest.split(')').next())
        .unwrap()
        .trim()
        .to_string();
    env.run(&["edit", &id, "--note", "found it"]).ok();
    let mirror = env
        .journal()
        .into_iter()
        .find(|e| e["practice"] == "mirror")
        .unwrap();
    assert_eq!(mirror["note"], "found it");
    env.run(&["rm", "--yes", &id]).ok();
    assert!(env.journal().iter().all(|e| e["practice"] != "mirror"));
}

#[test]
fn usage_errors_read_like_every_other_error() {
    let env = TestEnv::new();
    let err = env.run(&["log", "appreciation", "--nte", "x"]).fails(2);
    assert!(
        err.starts_with("safe: error: unexpected argument '--nte'"),
        "{err}"
    );
    assert!(
        err.contains("hint: a similar argument exists: '--note'"),
        "{err}"
    );
    let err = env.run(&["lgo"]).fails(2);
    assert!(err.starts_with("safe: error:"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    env.run(&["--version"]).ok();
}

#[test]
fn an_identity_is_never_named_me() {
    let env = TestEnv::new();
    let mut cmd = env.cmd();
    cmd.env("USER", "me")
        .args(["log", "listen"])
        .assert()
        .success();
    let name = env.my_name();
    assert_ne!(name.to_lowercase(), "me");
    assert!(!name.is_empty());
}

#[test]
fn skipping_twice_keeps_one_skip() {
    let env = TestEnv::new();
    env.run(&["skip", "check-in"]).ok();
    let out = env.run(&["skip", "check-in"]).ok();
    assert!(out.contains("already skipped"), "{out}");
    let skips: Vec<_> = env
        .journal()
        .into_iter()
        .filter(|e| e["kind"] == "skip")
        .collect();
    assert_eq!(skips.len(), 1);
}

#[test]
fn every_id_history_shows_can_be_given_back() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    env.run(&["log", "mirror", "--date", "2026-10-05"]).ok();
    env.run(&["log", "date", "--private"]).ok();
    // This week's table shows listen and date; mirror, made the same minute,
    // lives in October but must not make their ids ambiguous.
    let out = env.run(&["history"]).ok();
    for practice in ["listen", "date"] {
        let row = out
            .lines()
            .find(|l| l.contains("2026-11-27") && l.contains(practice))
            .unwrap();
        let id = row.split_whitespace().nth(4).unwrap();
        env.run(&["edit", id, "--note", "still findable"]).ok();
    }
    // A pause planned ahead shows in --all, so it can be removed.
    env.run(&["pause", "--from", "2026-12-24", "--to", "2026-12-26"])
        .ok();
    let all = env.run(&["history", "--all"]).ok();
    assert!(all.contains("paused to 2026-12-26"), "{all}");
}
