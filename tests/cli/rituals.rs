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
