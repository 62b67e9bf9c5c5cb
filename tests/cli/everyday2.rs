//! Everyday use, continued (issue 13): where a note goes is never a
//! surprise, removing asks before it reaches back, a backup restores the
//! whole journal, and the figures about us count a shared rupture once.

use crate::env::{TestEnv, contains_bytes};

/// The handle a `log` confirmation printed: "… (id 3f2a)."
#[track_caller]
fn logged_id(out: &str) -> String {
    let start = out.find("(id ").unwrap_or_else(|| panic!("no id in {out}")) + 4;
    out[start..]
        .split(')')
        .next()
        .unwrap_or_else(|| panic!("no id in {out}"))
        .to_string()
}

/// My entry of `practice` in `env`'s history of the whole journal.
#[track_caller]
fn one(env: &TestEnv, practice: &str) -> serde_json::Value {
    let found: Vec<_> = env
        .history(&["--all", "--who", "me", "--practice", practice])
        .into_iter()
        .collect();
    assert_eq!(found.len(), 1, "{practice}: {found:#?}");
    found[0].clone()
}

#[test]
fn a_log_says_where_its_note_went() {
    let env = TestEnv::new();
    let kept = env.run(&["log", "listen", "--note", "kept words"]).ok();
    assert!(kept.contains("The note stays on this machine."), "{kept}");
    let shared = env
        .run(&["log", "check-in", "--note", "shared words", "--share-note"])
        .ok();
    // Not paired yet: nothing has left, and the reply says so.
    assert!(shared.contains("to be shared"), "{shared}");
    assert!(shared.contains("until you pair"), "{shared}");
    let private = env
        .run(&["log", "date", "--note", "our words", "--private"])
        .ok();
    assert!(private.contains("It is private"), "{private}");
    let plain = env.run(&["log", "appreciation"]).ok();
    assert!(!plain.contains("note"), "no note, nothing to say: {plain}");
}

#[test]
fn keep_note_overrides_the_share_notes_setting_for_one_entry() {
    let env = TestEnv::new();
    env.run(&["config", "set", "share_notes", "true"]).ok();
    let out = env
        .run(&["log", "listen", "--note", "just for me", "--keep-note"])
        .ok();
    assert!(out.contains("The note stays on this machine."), "{out}");
    env.run(&["log", "check-in", "--note", "for us both"]).ok();
    assert_eq!(one(&env, "listen")["note"], "just for me");
    assert!(!contains_bytes(&env.shared_bytes(), "just for me"));
    assert!(!env.files_holding("private", "just for me").is_empty());
    // The setting still holds for the next entry.
    assert!(contains_bytes(&env.shared_bytes(), "for us both"));
    // Both at once is a usage error that changes nothing.
    let before = env.snapshot();
    env.run(&["log", "date", "--note", "x", "--keep-note", "--share-note"])
        .fails(2);
    assert!(env.snapshot() == before);
}

#[test]
fn sharing_and_unsharing_a_note_names_the_partner_and_what_they_keep() {
    let (alex, sam, _remote) = TestEnv::couple();
    let out = alex
        .run(&["log", "appreciation", "--note", "the soup was perfect"])
        .ok();
    assert!(out.contains("The note stays on this machine."), "{out}");
    let id = logged_id(&out);
    assert!(!contains_bytes(
        &alex.shared_bytes(),
        "the soup was perfect"
    ));

    let shared = alex.run(&["edit", &id, "--share-note"]).ok();
    assert!(shared.contains("The note is shared with Sam."), "{shared}");
    assert!(contains_bytes(&alex.shared_bytes(), "the soup was perfect"));
    // The kept copy is gone from the private log's answer: one note, shared.
    assert_eq!(one(&alex, "appreciation")["note"], "the soup was perfect");
    alex.sync();
    sam.sync();
    let seen = sam.history(&["--all", "--who", "partner"]);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["note"], "the soup was perfect");

    let unshared = alex.run(&["edit", &id, "--unshare-note"]).ok();
    assert!(
        unshared.contains("The note stays on this machine."),
        "{unshared}"
    );
    assert!(unshared.contains("Sam may already have it"), "{unshared}");
    assert_eq!(one(&alex, "appreciation")["note"], "the soup was perfect");
    assert!(
        !alex
            .files_holding("private", "the soup was perfect")
            .is_empty()
    );
    alex.sync();
    sam.sync();
    let seen = sam.history(&["--all", "--who", "partner"]);
    assert_eq!(seen.len(), 1);
    assert!(seen[0]["note"].is_null(), "{:#?}", seen[0]);

    // Asking for the place it already has changes nothing.
    let before = alex.snapshot();
    let again = alex.run(&["edit", &id, "--unshare-note"]).ok();
    assert!(again.contains("Nothing to change"), "{again}");
    assert!(alex.snapshot() == before);
}

#[test]
fn a_note_that_cannot_be_shared_is_refused_with_nothing_changed() {
    let env = TestEnv::new();
    let private = logged_id(
        &env.run(&["log", "date", "--private", "--note", "our secret"])
            .ok(),
    );
    let bare = logged_id(&env.run(&["log", "listen"]).ok());
    let before = env.snapshot();
    let err = env.run(&["edit", &private, "--share-note"]).fails(2);
    assert!(err.contains("private"), "{err}");
    let err = env.run(&["edit", &bare, "--share-note"]).fails(2);
    assert!(err.contains("no note"), "{err}");
    env.run(&["edit", &bare, "--share-note", "--unshare-note"])
        .fails(2);
    assert!(env.snapshot() == before);
    // A new note and its sharing in one edit.
    let out = env
        .run(&[
            "edit",
            &bare,
            "--note",
            "all the way through",
            "--share-note",
        ])
        .ok();
    assert!(out.contains("to be shared"), "{out}");
    assert!(contains_bytes(&env.shared_bytes(), "all the way through"));
}

#[test]
fn rupture_at_works_out_how_long_the_repair_took() {
    // SAFE_NOW is 20:00.
    let env = TestEnv::new();
    let out = env.run(&["log", "repair", "--rupture-at", "18:45"]).ok();
    assert!(out.contains("repaired in 1h15m"), "{out}");
    // A time later than now was last night.
    env.run(&["log", "repair", "--rupture-at", "21:10"]).ok();
    let mut took: Vec<u64> = env
        .history(&["--practice", "repair"])
        .iter()
        .map(|e| e["took_minutes"].as_u64().unwrap())
        .collect();
    took.sort();
    assert_eq!(took, [75, 22 * 60 + 50]);
    let before = env.snapshot();
    let err = env.run(&["log", "repair", "--rupture-at", "9pm"]).fails(2);
    assert!(err.contains("HH:MM"), "{err}");
    let err = env
        .run(&[
            "log",
            "repair",
            "--rupture-at",
            "18:00",
            "--date",
            "yesterday",
        ])
        .fails(2);
    assert!(err.contains("--took"), "{err}");
    env.run(&["log", "repair", "--rupture-at", "18:00", "--took", "5m"])
        .fails(2);
    let err = env
        .run(&["log", "listen", "--rupture-at", "18:00"])
        .fails(2);
    assert!(err.contains("--rupture-at is for repair moments"), "{err}");
    assert!(env.snapshot() == before);
}

#[test]
fn several_entries_go_in_one_rm_and_come_back_with_one_undo() {
    let env = TestEnv::new();
    let a = logged_id(&env.run(&["log", "listen"]).ok());
    let b = logged_id(&env.run(&["log", "check-in"]).ok());
    let c = logged_id(&env.run(&["log", "mirror", "--note", "word for word"]).ok());
    let kept = logged_id(&env.run(&["log", "apology"]).ok());
    // The same entry twice is removed once.
    let out = env.run(&["rm", &a, &b, &c, &a]).ok();
    assert_eq!(out.matches("Removed ").count(), 3, "{out}");
    assert!(out.contains("Removed mirror today"), "{out}");
    assert!(out.contains("One `safe undo` brings all 3 back."), "{out}");
    let left: Vec<_> = env
        .history(&[])
        .iter()
        .map(|e| e["practice"].clone())
        .collect();
    assert_eq!(left, ["apology"]);
    let undone = env.run(&["undo"]).ok();
    assert!(!undone.is_empty());
    assert_eq!(env.history(&[]).len(), 4);
    assert_eq!(one(&env, "mirror")["note"], "word for word");
    // One id that does not name an entry of mine removes nothing.
    let before = env.snapshot();
    let err = env.run(&["rm", &kept, "ffffffff"]).fails(2);
    assert!(err.contains("ffffffff"), "{err}");
    assert!(env.snapshot() == before);
}

#[test]
fn removing_an_older_entry_without_a_terminal_needs_yes() {
    let env = TestEnv::new();
    let old = logged_id(&env.run(&["log", "listen", "--date", "yesterday"]).ok());
    let today = logged_id(&env.run(&["log", "check-in"]).ok());
    let before = env.snapshot();
    let err = env.run(&["rm", &today, &old]).fails(2);
    assert!(err.contains("listen yesterday"), "{err}");
    assert!(err.contains("from an earlier day"), "{err}");
    assert!(err.contains("--yes"), "{err}");
    assert!(env.snapshot() == before, "a refused rm changed the journal");
    env.run(&["rm", "--yes", &today, &old]).ok();
    assert!(env.history(&["--all"]).is_empty());
}

#[test]
fn removing_a_synced_entry_asks_even_today() {
    let env = TestEnv::new();
    let remote = crate::sync::Remote::new();
    let id = logged_id(&env.run(&["log", "listen"]).ok());
    env.run(&["sync", "--remote", &remote.url()]).ok();
    let err = env.run(&["rm", &id]).fails(2);
    assert!(err.contains("already synced"), "{err}");
    // A private entry never leaves, and one of today's that has not
    // synced yet is a slip to take back at once.
    let mut later = env;
    later.set_now("2026-11-27T21:00:00+01:00");
    let private = logged_id(&later.run(&["log", "date", "--private"]).ok());
    let fresh = logged_id(&later.run(&["log", "mirror"]).ok());
    later.run(&["rm", &private, &fresh]).ok();
}

#[test]
fn on_a_terminal_removing_an_older_entry_asks_first() {
    let env = TestEnv::new();
    let old = logged_id(&env.run(&["log", "listen", "--date", "3 days ago"]).ok());
    let Some(screen) = env.run_on_terminal(&["rm", &old], "n\n") else {
        return;
    };
    assert!(screen.contains("from an earlier day? [y/N]"), "{screen}");
    assert!(screen.contains("Nothing removed."), "{screen}");
    assert_eq!(env.history(&["--all"]).len(), 1);
    let screen = env.run_on_terminal(&["rm", &old], "y\n").unwrap();
    assert!(screen.contains("Removed listen"), "{screen}");
    assert!(env.history(&["--all"]).is_empty());
}

/// Each entry of `env` as (kind, practice, day, until, note, private,
/// note_shared), sorted: what a restore must bring back, whatever the ids.
fn contents(env: &TestEnv) -> Vec<String> {
    let mut all: Vec<String> = env
        .journal()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {} {} {}",
                e["kind"].as_str().unwrap_or("log"),
                e["practice"],
                e["day"],
                e["until"],
                e["note"],
                e["took_minutes"],
                e["private"],
                e["note_shared"]
            )
        })
        .collect();
    all.sort();
    all
}

#[test]
fn a_backup_restores_the_whole_journal_in_a_fresh_directory() {
    let old = TestEnv::named("robin");
    old.run(&["init", "--name", "Robin"]).ok();
    old.run(&[
        "practice",
        "add",
        "read-aloud",
        "--goal",
        "2/week",
        "--about",
        "read to each other",
    ])
    .ok();
    old.run(&["practice", "goal", "appreciation", "5/week"])
        .ok();
    old.run(&["practice", "retire", "long-kiss"]).ok();
    old.run(&["log", "read-aloud", "--note", "kept to myself"])
        .ok();
    old.run(&["log", "date", "--private", "--note", "just us two"])
        .ok();
    old.run(&[
        "log",
        "listen",
        "--date",
        "yesterday",
        "--note",
        "for Sam",
        "--share-note",
    ])
    .ok();
    old.run(&["log", "repair", "--took", "40m"]).ok();
    old.run(&["skip", "check-in", "--date", "2 days ago"]).ok();
    old.run(&["pause", "--from", "next monday", "--days", "3"])
        .ok();
    let file = old.home.path().join("safe-backup.jsonl");
    old.run(&["export", "--format", "backup", "-o", file.to_str().unwrap()])
        .ok();
    let backup = std::fs::read_to_string(&file).unwrap();
    let keys = old.files_under("keys");
    assert!(!keys.is_empty());
    for key in keys {
        let bytes = std::fs::read(&key).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !backup.contains(text.trim()),
            "{} is in the backup",
            key.display()
        );
    }

    let new = TestEnv::named("someone");
    let out = new.run(&["import", file.to_str().unwrap()]).ok();
    assert!(out.contains("Imported 6 entries"), "{out}");
    assert!(out.contains("your name (Robin)"), "{out}");
    assert!(out.contains("1 custom practice"), "{out}");
    assert!(out.contains("2 goals"), "{out}");
    assert_eq!(contents(&new), contents(&old));
    assert_eq!(new.my_name(), "Robin");
    let list = new.run(&["practice", "list", "--all"]).ok();
    let row = |id: &str| {
        list.lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("{id} not in {list}"))
            .to_string()
    };
    assert!(row("read-aloud").contains("2/week"), "{list}");
    assert!(row("read-aloud").contains("read to each other"), "{list}");
    assert!(row("appreciation").contains("5/week"), "{list}");
    assert!(row("long-kiss").contains("retired"), "{list}");
    // Private things stayed private, shared ones shared.
    assert!(!contains_bytes(&new.shared_bytes(), "just us two"));
    assert!(!contains_bytes(&new.shared_bytes(), "kept to myself"));
    assert!(contains_bytes(&new.shared_bytes(), "for Sam"));

    // Restoring again adds nothing.
    let before = new.snapshot();
    let again = new.run(&["import", file.to_str().unwrap()]).ok();
    assert!(again.contains("Imported 0 entries; 6 already"), "{again}");
    assert!(!again.contains("restored"), "{again}");
    assert!(new.snapshot() == before, "a second restore wrote something");
}

#[test]
fn a_bad_backup_line_restores_nothing() {
    let env = TestEnv::new();
    let file = env.home.path().join("b.jsonl");
    std::fs::write(
        &file,
        "{\"backup\":\"journal\",\"version\":1,\"person\":\"x\",\"name\":\"Robin\"}\n\
         {\"backup\":\"practice\",\"id\":\"listen\",\"goal\":\"daily\"}\n",
    )
    .unwrap();
    let err = env.run(&["import", file.to_str().unwrap()]).fails(2);
    assert!(err.contains("line 2"), "{err}");
    assert!(env.snapshot().is_empty(), "nothing made on a new machine");
    std::fs::write(
        &file,
        "{\"backup\":\"goal\",\"practice\":\"listen\",\"goal\":\"daily\"}\n",
    )
    .unwrap();
    let err = env.run(&["import", file.to_str().unwrap()]).fails(2);
    assert!(err.contains("begins with its `journal` line"), "{err}");
}

#[test]
fn csv_has_kind_and_until_columns() {
    let env = TestEnv::new();
    env.run(&["skip", "check-in", "--date", "yesterday"]).ok();
    env.run(&[
        "pause",
        "--from",
        "next monday",
        "--days",
        "2",
        "--practice",
        "date",
    ])
    .ok();
    let csv = env.run(&["export", "--format", "csv"]).ok();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,kind,practice,day,at,person,note,took_minutes,until,private"
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows[0][1..4], ["skip", "check-in", "2026-11-26"]);
    assert_eq!(rows[1][1..4], ["pause", "date", "2026-11-30"]);
    assert_eq!(rows[1][8], "2026-12-01");
    assert_eq!(rows[0][8], "");
}

#[test]
fn importing_lines_without_ids_twice_adds_nothing() {
    let env = TestEnv::new();
    let lines = "{\"practice\":\"listen\",\"day\":\"2026-11-20\"}\n\
                 {\"practice\":\"listen\",\"day\":\"2026-11-20\"}\n\
                 {\"practice\":\"mirror\",\"day\":\"2026-11-20\",\"note\":\"word for word\"}\n";
    let first = env.run_stdin(&["import", "-"], lines).ok();
    assert!(first.contains("Imported 3 entries"), "{first}");
    let before = env.snapshot();
    let second = env.run_stdin(&["import", "-"], lines).ok();
    assert!(second.contains("Imported 0 entries; 3 already"), "{second}");
    assert!(env.snapshot() == before);
    // The same entry with another note is another entry.
    let other = "{\"practice\":\"mirror\",\"day\":\"2026-11-20\",\"note\":\"in my words\"}\n";
    env.run_stdin(&["import", "-"], other).ok();
    assert_eq!(env.history(&["--all"]).len(), 4);
}

#[test]
fn both_partners_logging_one_rupture_count_one_repair_moment() {
    let (mut alex, sam, _remote) = TestEnv::couple();
    alex.run(&["log", "repair", "--took", "30m"]).ok();
    sam.run(&["log", "repair", "--took", "50m"]).ok();
    // A second rupture that only Sam logged is a moment of its own.
    sam.run(&["log", "repair", "--took", "2h"]).ok();
    sam.sync();
    alex.sync();
    let us = &alex.run(&["stats", "--json"]).json()["us"];
    assert_eq!(us["repairs"]["count"], 2, "{us}");
    // The moments took 30m (the shorter of 30m and 50m) and 2h.
    assert_eq!(us["repairs"]["median_took_minutes"], 75, "{us}");
    let review = alex.run(&["review", "--json"]).json();
    assert_eq!(review["repairs"]["now"], 2, "{review}");
    sam.sync();
    assert_eq!(sam.run(&["stats", "--json"]).json()["us"], *us);

    // Us says how recent Sam's side is.
    let out = alex.run(&["stats"]).ok();
    assert!(
        out.contains("As of Sam's newest change here, today"),
        "{out}"
    );
    alex.set_now("2026-11-30T09:00:00+01:00");
    let out = alex.run(&["stats"]).ok();
    assert!(
        out.contains("As of Sam's newest change here, Fri 27 Nov"),
        "{out}"
    );
    // Alone, there is nobody to be recent about.
    let alone = TestEnv::new();
    alone.run(&["log", "repair", "--took", "5m"]).ok();
    assert!(!alone.run(&["stats"]).ok().contains("As of"));
}
