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
