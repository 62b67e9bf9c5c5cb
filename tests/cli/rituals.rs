//! The rituals of issue 14, as a couple would use them: trends so far.

use serde_json::Value;

use crate::env::TestEnv;

#[test]
fn stats_trend_shows_twelve_weeks_of_strength_per_practice() {
    let env = TestEnv::new();
    for back in 0..21 {
        env.run(&["log", "appreciation", "--date", &format!("{back} days ago")])
            .ok();
    }
    env.run(&["log", "listen"]).ok(); // no goal: no trend
    let out = env.run(&["stats", "--trend"]).ok();
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("appreciation") && l.contains('·'))
        .unwrap_or_else(|| panic!("{out}"));
    let spark: String = line.chars().filter(|c| "·▁▂▃▄▅▆▇█".contains(*c)).collect();
    assert_eq!(spark.chars().count(), 12, "{line}");
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("listen") && l.contains('·'))
    );

    let json: Value = env.run(&["stats", "--trend", "--json"]).json();
    let practices = json["practices"].as_array().unwrap();
    let appreciation = practices
        .iter()
        .find(|p| p["id"] == "appreciation")
        .unwrap();
    let trend = appreciation["trend"].as_array().unwrap();
    assert_eq!(trend.len(), 12);
    let last = trend[11].as_f64().unwrap();
    let strength = appreciation["strength"].as_f64().unwrap();
    assert!((last - strength).abs() < 1e-6, "{last} vs {strength}");
    // Three weeks of practice: the trend rises, and started three weeks back.
    assert!(trend[..8].iter().all(Value::is_null), "{trend:?}");
    // Without --trend, the stable JSON carries no trend.
    let plain: Value = env.run(&["stats", "--json"]).json();
    assert!(plain["practices"][0].get("trend").is_none());
}

/// Two partners paired through a real bare repository: the review shows the
/// week together, what each shared (and nothing unshared or private), the
/// same card on both machines, and never a count of one against the other.
#[test]
fn the_weekly_review_of_two_partners() {
    let (alex, sam, _remote) = TestEnv::couple();
    alex.run(&[
        "log",
        "appreciation",
        "--note",
        "thanks for the soup",
        "--share-note",
    ])
    .ok();
    alex.run(&["log", "listen", "--note", "alex-unshared-marker"])
        .ok();
    alex.run(&["log", "date", "--private", "--note", "alex-private-marker"])
        .ok();
    alex.run(&["log", "repair", "--took", "45m"]).ok();
    sam.run(&[
        "log",
        "appreciation",
        "--note",
        "you carried the bags",
        "--share-note",
    ])
    .ok();
    sam.run(&["log", "check-in", "--date", "yesterday"]).ok();
    alex.run(&["log", "check-in", "--date", "yesterday"]).ok();
    alex.sync();
    sam.sync();
    alex.sync();

    let json: Value = alex.run(&["review", "--json"]).json();
    assert_eq!(json["period"]["from"], "2026-11-23");
    assert_eq!(json["with_partner"], true);
    assert_eq!(json["together_days"]["now"], 2);
    assert_eq!(json["repairs"]["now"], 1);
    assert_eq!(json["median_repair_minutes"]["now"], 45.0);
    assert_eq!(json["trend"].as_array().unwrap().len(), 12);
    let notes: Vec<&str> = json["shared"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["note"].as_str())
        .collect();
    assert!(notes.contains(&"thanks for the soup"), "{notes:?}");
    assert!(notes.contains(&"you carried the bags"), "{notes:?}");
    let text = json.to_string();
    for marker in ["alex-unshared-marker", "alex-private-marker"] {
        assert!(!text.contains(marker), "{marker} in the review");
    }
    // The same card on Sam's machine, chosen without talking to Alex's.
    let theirs: Value = sam.run(&["review", "--json"]).json();
    assert_eq!(theirs["card"], json["card"]);
    assert_eq!(theirs["together_days"], json["together_days"]);

    let out = alex.run(&["review"]).ok();
    assert!(out.contains("The week together"), "{out}");
    assert!(out.contains("Days we both practised   2"), "{out}");
    assert!(out.contains("A card for the talk"), "{out}");
    assert!(out.contains("safe log state-of-us"), "{out}");
    // Nothing per person is counted: no "Sam: 3" or "you 2".
    for line in out.lines().filter(|l| l.contains("Sam")) {
        assert!(line.contains("appreciation"), "{line}");
    }
}

/// On a terminal (a pty made by `script`), the review ends by offering to
/// log the talk; answering `y` logs `state-of-us`.
#[test]
fn on_a_terminal_the_review_offers_to_log_the_talk() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation"]).ok();
    let Some(screen) = env.run_on_terminal(&["review"], "y\n") else {
        return;
    };
    assert!(screen.contains("Log it now? [y/N]"), "{screen}");
    let logged = env.history(&["--practice", "state-of-us"]);
    assert_eq!(logged.len(), 1, "{screen}");
}

/// The card `safe card --today` shows: its id, from the line "  deck · id · …".
fn card_of_the_day(env: &TestEnv) -> String {
    let out = env.run(&["card", "--today"]).ok();
    let line = out
        .lines()
        .find(|l| l.contains("the card of the day for you both"))
        .unwrap_or_else(|| panic!("{out}"));
    line.split('·').nth(1).unwrap().trim().to_string()
}

/// Two partners paired through a real bare repository see the same card of
/// the day without syncing; `--done` records which card it was, `history`
/// shows it on both machines, and a card explored is passed over when its
/// turn comes round again.
#[test]
fn the_card_of_the_day_is_the_same_for_both_and_moves_on_once_done() {
    let (mut alex, mut sam, _remote) = TestEnv::couple();
    let today = card_of_the_day(&alex);
    assert_eq!(card_of_the_day(&sam), today);
    assert!(safe::domain::card::find(&today).is_some(), "{today}");
    // Asking again the same day gives the same card.
    assert_eq!(card_of_the_day(&alex), today);

    let out = alex.run(&["card", "--done"]).ok();
    assert!(out.contains(&format!("The card: {today}")), "{out}");
    let logged = alex.history(&["--practice", "card"]);
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0]["card"], today.as_str());
    assert!(
        alex.run(&["history"])
            .ok()
            .contains(&format!("card ({today})"))
    );
    // Done today, it stays today's card on both machines.
    alex.sync();
    sam.sync();
    assert_eq!(card_of_the_day(&sam), today);
    assert_eq!(
        sam.history(&["--practice", "card"])[0]["card"],
        today.as_str()
    );

    // The next day brings another card, the same for both.
    alex.set_now("2026-11-28T20:00:00+01:00");
    sam.set_now("2026-11-28T20:00:00+01:00");
    let tomorrow = card_of_the_day(&alex);
    assert_ne!(tomorrow, today);
    assert_eq!(card_of_the_day(&sam), tomorrow);

    // A whole round of the deck later, the order would bring today's card
    // back; it was explored, so both get the next one instead.
    let round = safe::domain::card::cards(None).count() as u64;
    let later = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap() + chrono::Days::new(round);
    let later = format!("{later}T20:00:00+01:00");
    alex.set_now(&later);
    sam.set_now(&later);
    let again = card_of_the_day(&alex);
    assert_ne!(again, today);
    assert_eq!(again, tomorrow, "the next card in the couple's order");
    assert_eq!(card_of_the_day(&sam), again);
}

/// `--done` names the card drawn here today; without any card shown today
/// it names the card of the day.
#[test]
fn card_done_names_the_card_shown_today() {
    let env = TestEnv::new();
    let out = env.run(&["card", "--deck", "create"]).ok();
    let drawn = out
        .lines()
        .nth(1)
        .unwrap()
        .split('·')
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    env.run(&["card", "--done"]).ok();
    assert_eq!(
        env.history(&["--practice", "card"])[0]["card"],
        drawn.as_str()
    );

    let other = TestEnv::new();
    let of_the_day = card_of_the_day(&other);
    // A fresh data directory that showed nothing today: the card of the day.
    std::fs::remove_file(other.path("rituals.json")).unwrap();
    other.run(&["card", "--done"]).ok();
    assert_eq!(
        other.history(&["--practice", "card"])[0]["card"],
        of_the_day.as_str()
    );
}

/// The `review --json` schema in the README is the one the binary prints:
/// the same fields, at every level, for a couple with something shared.
#[test]
fn the_readme_documents_the_review_json_schema() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = readme
        .split("`safe review --json` prints a stable object:")
        .nth(1)
        .expect("the README documents review --json");
    let block = after
        .split("```json")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .unwrap();
    let documented: Value = serde_json::from_str(block).expect("the README's example is JSON");

    let (alex, sam, _remote) = TestEnv::couple();
    sam.run(&[
        "log",
        "appreciation",
        "--note",
        "you carried the bags",
        "--share-note",
    ])
    .ok();
    sam.sync();
    alex.sync();
    let printed: Value = alex.run(&["review", "--json"]).json();
    assert_same_fields(&documented, &printed, "review");
}

/// Objects have the same keys, recursively; in arrays, the first items.
fn assert_same_fields(documented: &Value, printed: &Value, at: &str) {
    match (documented, printed) {
        (Value::Object(d), Value::Object(p)) => {
            let dk: std::collections::BTreeSet<&String> = d.keys().collect();
            let pk: std::collections::BTreeSet<&String> = p.keys().collect();
            assert_eq!(dk, pk, "fields of {at}");
            for (key, value) in d {
                assert_same_fields(value, &p[key], &format!("{at}.{key}"));
            }
        }
        (Value::Array(d), Value::Array(p)) => {
            if let (Some(d), Some(p)) = (d.first(), p.first()) {
                assert_same_fields(d, p, &format!("{at}[0]"));
            }
        }
        _ => {}
    }
}
