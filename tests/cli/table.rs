//! Tables and calendars that read: the stats table's count, progress, rate
//! and "building" strength, faded rows in colour; the calendar's rest days,
//! today, its first week and its width; nothing spilling on a narrow
//! terminal. "Now" is Friday 2026-11-27 (`env::NOW`).

use serde_json::json;

use crate::env::{Run, TestEnv};

/// Import my entries of `practice` on the given days of November 2026.
fn import(env: &TestEnv, practice: &str, days: &[u32]) {
    let lines: Vec<String> = days
        .iter()
        .map(|d| json!({"practice": practice, "day": format!("2026-11-{d:02}")}).to_string())
        .collect();
    env.run_stdin(&["import", "-"], &lines.join("\n")).ok();
}

/// `safe` with `COLUMNS` set, as in a terminal of that width.
fn in_columns(env: &TestEnv, columns: &str, args: &[&str]) -> Run {
    Run {
        output: env
            .cmd()
            .env("COLUMNS", columns)
            .args(args)
            .output()
            .unwrap(),
    }
}

/// The cells of a table row: columns are at least two spaces apart.
fn cells(row: &str) -> Vec<&str> {
    row.split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect()
}

fn row<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.trim_start().starts_with(id))
        .unwrap_or_else(|| panic!("{id}:\n{out}"))
}

/// Appreciation (daily) on nine days from the 3rd, with the 10th and 11th
/// skipped; stress-talk (3/week) first this Tuesday; a date (1/week) in
/// three of the four weeks; gentle-touch (daily) only in October.
fn journal() -> TestEnv {
    let env = TestEnv::new();
    env.run(&["init", "--name", "Alex"]).ok();
    import(&env, "appreciation", &[3, 4, 5, 6, 9, 12, 16, 23, 25]);
    for day in ["2026-11-10", "2026-11-11"] {
        env.run(&["skip", "appreciation", "--date", day]).ok();
    }
    import(&env, "stress-talk", &[24, 25]);
    import(&env, "date", &[7, 14, 24]);
    env.run_stdin(
        &["import", "-"],
        &json!({"practice": "gentle-touch", "day": "2026-10-20"}).to_string(),
    )
    .ok();
    env
}

#[test]
fn the_week_view_shows_the_count_alone_and_the_weeks_progress_beside_it() {
    let env = journal();
    let out = env.run(&["stats"]).ok();
    let header = cells(out.lines().nth(2).unwrap());
    assert_eq!(
        header,
        [
            "practice",
            "goal",
            "count",
            "this week",
            "streak",
            "best",
            "strength"
        ],
        "{out}"
    );
    // This week: Mon 23 and Wed 25 of the four days up to yesterday.
    assert_eq!(
        cells(row(&out, "appreciation"))[..4],
        ["appreciation", "daily", "2", "2 of 4 days"],
        "{out}"
    );
    assert_eq!(
        cells(row(&out, "stress-talk"))[..4],
        ["stress-talk", "3/week", "2", "2 of 3"],
        "{out}"
    );
    assert_eq!(
        cells(row(&out, "date"))[..4],
        ["date", "1/week", "1", "1 of 1"]
    );
    assert!(!out.contains("this week ·"), "{out}");
}

#[test]
fn longer_periods_show_how_often_the_goal_was_met() {
    let env = journal();
    let out = env.run(&["stats", "--month"]).ok();
    assert_eq!(cells(out.lines().nth(2).unwrap())[3], "goal met", "{out}");
    // The 3rd to the 26th (today is not logged yet), less two skipped days.
    assert_eq!(
        cells(row(&out, "appreciation"))[2..4],
        ["9", "9 of 22 days"],
        "{out}"
    );
    // The weeks of Nov 2, 9 and 23 had a date; that of Nov 16 did not.
    assert_eq!(
        cells(row(&out, "date"))[2..4],
        ["3", "3 of 4 weeks"],
        "{out}"
    );
    // This week is not over and not met yet: nothing to rate.
    assert_eq!(cells(row(&out, "stress-talk"))[3], "–", "{out}");
}

#[test]
fn strength_is_building_for_the_first_two_weeks() {
    let env = journal();
    let out = env.run(&["stats"]).ok();
    assert!(row(&out, "stress-talk").ends_with("building"), "{out}");
    assert!(row(&out, "date").ends_with('%'), "{out}");
    assert!(row(&out, "appreciation").ends_with('%'), "{out}");
    // The JSON keeps the number.
    let json = env.run(&["stats", "--json"]).json();
    let stress = json["practices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "stress-talk")
        .unwrap();
    assert!(stress["strength"].is_f64(), "{stress}");
}

#[test]
fn rows_with_nothing_in_the_period_fade_in_colour_only() {
    let env = journal();
    let coloured = env
        .cmd()
        .env_remove("NO_COLOR")
        .env("CLICOLOR_FORCE", "1")
        .arg("stats")
        .output()
        .unwrap();
    let coloured = String::from_utf8(coloured.stdout).unwrap();
    const DIM: &str = "\u{1b}[2m";
    let faded: Vec<&str> = coloured.lines().filter(|l| l.contains(DIM)).collect();
    assert_eq!(faded.len(), 1, "only gentle-touch fades:\n{coloured}");
    assert!(faded[0].contains("gentle-touch"), "{coloured}");
    assert!(
        coloured.lines().all(|l| !l.ends_with(' ')),
        "no padding at the end, styled or not:\n{coloured:?}"
    );
    let plain = env.run(&["stats"]).ok();
    assert!(!plain.contains('\u{1b}'), "{plain}");
    assert!(row(&plain, "gentle-touch").contains(" 0 "), "{plain}");
}

/// The calendar's seven weekday rows.
fn grid(out: &str) -> Vec<&str> {
    out.lines()
        .skip_while(|l| !l.starts_with("Mon"))
        .take(7)
        .collect()
}

#[test]
fn the_calendar_tells_rest_from_a_miss_marks_today_and_starts_with_the_journal() {
    let env = TestEnv::new();
    env.run(&["init", "--name", "Alex"]).ok();
    import(&env, "appreciation", &[18, 24]);
    env.run(&["skip", "appreciation", "--date", "2026-11-19"])
        .ok();
    env.run(&["pause", "--from", "2026-11-20", "--to", "2026-11-21"])
        .ok();
    let out = env.run(&["calendar"]).ok();
    // The journal began in the week of Mon 16 November: two weeks, not 26.
    assert!(out.starts_with("every practice, the last 2 weeks"), "{out}");
    assert_eq!(
        grid(&out),
        [
            "Mon · ·",
            "Tue · ░",
            "Wed ░ ·",
            "Thu - ·",
            "Fri ‖[·]",
            "Sat ‖",
            "Sun ·",
        ],
        "{out}"
    );
    assert!(out.contains("- skipped  ‖ paused  [ ] today"), "{out}");
    // A skip of another practice is not a rest of this one; the pause was
    // of everything.
    let one = env.run(&["calendar", "stress-talk"]).ok();
    assert_eq!(grid(&one)[3], "Thu · ·", "{one}");
    assert_eq!(grid(&one)[4], "Fri ‖[·]", "{one}");
    // Asked for, the weeks before the journal are there.
    let asked = env.run(&["calendar", "--weeks", "4"]).ok();
    assert_eq!(grid(&asked)[2], "Wed · · ░ ·", "{asked}");
}

#[test]
fn the_calendar_fits_the_terminal() {
    let env = TestEnv::new();
    env.run_stdin(
        &["import", "-"],
        &json!({"practice": "appreciation", "day": "2026-01-05"}).to_string(),
    )
    .ok();
    let wide = env.run(&["calendar"]).ok();
    assert!(
        wide.starts_with("every practice, the last 26 weeks"),
        "{wide}"
    );
    for (columns, weeks) in [("60", 27), ("40", 17)] {
        let out = in_columns(&env, columns, &["calendar", "--weeks", "52"]).ok();
        assert!(
            out.starts_with(&format!("every practice, the last {weeks} weeks")),
            "COLUMNS={columns}:\n{out}"
        );
        let width: usize = columns.parse().unwrap();
        for line in out.lines().skip(2).take(8) {
            assert!(line.chars().count() <= width, "{line:?} in\n{out}");
        }
        assert_eq!(grid(&out)[0].chars().count(), 3 + 2 * weeks, "{out}");
    }
}

#[test]
fn nothing_spills_or_strands_a_character_at_sixty_columns() {
    let env = journal();
    env.run(&[
        "log",
        "appreciation",
        "--note",
        "you listened to the whole story about my sister without once looking at your phone",
    ])
    .ok();
    env.run(&["practice", "add", "read-aloud-together", "--goal", "2/week"])
        .ok();
    import(&env, "read-aloud-together", &[26]);
    for args in [
        &["stats"][..],
        &["stats", "--month"],
        &["stats", "--all"],
        &["history", "--month"],
        &["calendar", "--weeks", "52"],
        &["practice", "list"],
        &["today"],
    ] {
        let out = in_columns(&env, "60", args).ok();
        for line in out.lines() {
            let shown = line.chars().count();
            assert!(shown <= 60, "{args:?}: {shown} wide: {line:?}\n{out}");
            assert_eq!(line, line.trim_end(), "{args:?}: trailing blanks\n{out}");
            assert_ne!(
                line.trim().chars().count(),
                1,
                "{args:?}: a lone character: {line:?}\n{out}"
            );
        }
    }
    // Piped, `practice list` has no padding at the ends of its rows either.
    let list = env.run(&["practice", "list"]).ok();
    assert!(list.lines().all(|l| l == l.trim_end()), "{list:?}");
    assert!(list.contains("a kind, non-sexual touch, especially after tension"));
}

/// `safe repair` on a pseudo-terminal, answered up to a time-out at 21:40.
fn call_a_time_out(env: &TestEnv) {
    use expectrl::Expect;
    let mut cmd = env.std_cmd();
    cmd.arg("repair");
    let mut session = expectrl::Session::spawn(cmd).expect("a pseudo-terminal");
    session.set_expect_timeout(Some(std::time::Duration::from_secs(60)));
    session
        .expect("Is now a good time for both of you?")
        .unwrap();
    session.send_line("n").unwrap();
    session.expect("Come back [30m]:").unwrap();
    session.send_line("21:40").unwrap();
    session.expect("Come back at 21:40").unwrap();
    let _ = session.expect(expectrl::Eof);
}

#[test]
fn today_mentions_a_repair_waiting_after_a_time_out() {
    let mut env = TestEnv::new().at("2026-11-27T21:10:00+01:00");
    env.run(&["init", "--name", "Alex"]).ok();
    env.run(&["log", "appreciation"]).ok();
    let before = env.run(&["today", "--short"]).ok();
    assert_eq!(before, "safe: 1 done · 3 open\n");
    call_a_time_out(&env);
    let today = env.run(&["today"]).ok();
    assert!(
        today.contains(
            "Repair: you agreed to come back at 21:40 (in 30 minutes); `safe repair` when you are both ready."
        ),
        "{today}"
    );
    let short = env.run(&["today", "--short"]).ok();
    assert_eq!(short, "safe: 1 done · 3 open · repair at 21:40\n");
    // Past the time it still waits, said as it is.
    env.set_now("2026-11-27T21:50:00+01:00");
    let late = env.run(&["today"]).ok();
    assert!(
        late.contains("come back at 21:40 (10 minutes ago)"),
        "{late}"
    );
    // A day on, it is forgotten.
    env.set_now("2026-11-28T22:00:00+01:00");
    let next = env.run(&["today", "--short"]).ok();
    assert_eq!(next.lines().count(), 1, "{next}");
    assert!(!next.contains("repair"), "{next}");
}

// ------------------------------------------------------------------- help

/// Every command path: `[]`, `["log"]`, `["practice", "goal"]`, ...
fn command_paths(env: &TestEnv) -> Vec<Vec<String>> {
    let mut paths = vec![Vec::new()];
    let mut at = 0;
    while at < paths.len() {
        let path = paths[at].clone();
        at += 1;
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = env.run(&args).ok();
        let commands = help
            .split("\nCommands:\n")
            .nth(1)
            .map(|rest| rest.split("\n\n").next().unwrap_or(""))
            .unwrap_or("");
        for line in commands.lines() {
            let name = line.split_whitespace().next().unwrap_or("");
            if !name.is_empty()
                && name != "help"
                && line.starts_with("  ")
                && !line.starts_with("   ")
            {
                let mut next = path.clone();
                next.push(name.to_string());
                paths.push(next);
            }
        }
    }
    paths
}

#[test]
fn every_commands_help_describes_each_argument_shows_an_example_and_is_not_hand_wrapped() {
    let env = TestEnv::new();
    let paths = command_paths(&env);
    for expected in [
        &["practice", "goal"][..],
        &["config", "get"],
        &["config", "set"],
        &["export"],
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected:?} not in {paths:?}"
        );
    }
    // clap wraps help at 100 columns at most; COLUMNS=200 lets it.
    const WIDTH: usize = 100;
    // Every problem at once, not only the first.
    let mut problems: Vec<String> = Vec::new();
    macro_rules! check {
        ($ok:expr, $($why:tt)+) => {
            if !$ok {
                problems.push(format!($($why)+));
            }
        };
    }
    for path in &paths {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = String::from_utf8(
            env.cmd()
                .env("COLUMNS", "200")
                .args(&args)
                .output()
                .unwrap()
                .stdout,
        )
        .unwrap();
        let name = format!("safe {}", path.join(" "));
        for line in help.lines() {
            check!(line == line.trim_end(), "{name}: trailing blanks: {line:?}");
        }
        // Each argument and option has words beside or under it.
        let lines: Vec<&str> = help.lines().collect();
        let mut section = "";
        for (i, line) in lines.iter().enumerate() {
            if !line.starts_with(' ') && line.ends_with(':') {
                section = line;
                continue;
            }
            if !matches!(section, "Arguments:" | "Options:") {
                continue;
            }
            let entry = line.trim_start();
            let is_entry = line.starts_with("  ")
                && !line.starts_with("       ")
                && (entry.starts_with('-') || entry.starts_with('<') || entry.starts_with('['));
            if !is_entry {
                continue;
            }
            let beside = entry
                .split_once("  ")
                .is_some_and(|(_, d)| !d.trim().is_empty());
            let under = lines
                .get(i + 1)
                .is_some_and(|n| n.starts_with("          ") && !n.trim().is_empty());
            check!(beside || under, "{name}: {entry:?} has no description");
        }
        // An example of this very command.
        let examples = help.split("Examples:\n").nth(1).unwrap_or("");
        check!(
            examples.lines().any(|l| l.trim_start().starts_with(&name)),
            "{name}: no example starts with `{name}`"
        );
        // Prose: a line that ends where the next line's first word would
        // still have fitted was wrapped by hand.
        // Prose is what is not indented and not a heading.
        let is_prose = |l: &str| !l.trim().is_empty() && !l.starts_with(' ') && !l.ends_with(':');
        for pair in lines.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if !is_prose(a) || !is_prose(b) || b.starts_with("Usage:") {
                continue;
            }
            let next = b.split_whitespace().next().unwrap();
            check!(
                a.chars().count() + 1 + next.chars().count() > WIDTH,
                "{name}: hand-wrapped after {a:?}"
            );
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_usage_error_with_safe_data_dir_set_does_not_show_data_dir() {
    let env = TestEnv::new();
    for args in [
        &["log"][..],
        &["stats", "--week", "--month"],
        &["practice", "goal", "x"],
    ] {
        let err = env.run(args).fails(2);
        let usage = err
            .lines()
            .find(|l| l.starts_with("Usage:"))
            .unwrap_or_else(|| panic!("{args:?}: {err}"));
        assert!(!usage.contains("--data-dir"), "{args:?}: {err}");
    }
}

// --------------------------------------------------------------- man page

/// The page's text as a reader sees it: roff's escapes for `-`, quotes and
/// code points undone.
fn unroff(line: &str) -> String {
    let mut text = line
        .replace("\\-", "-")
        .replace("\\&", "")
        .replace("\\\\", "\\");
    while let Some(at) = text.find("\\[u") {
        let end = at + text[at..].find(']').unwrap();
        let c = char::from_u32(u32::from_str_radix(&text[at + 3..end], 16).unwrap()).unwrap();
        text.replace_range(at..=end, &c.to_string());
    }
    text
}

#[test]
fn the_man_page_documents_every_command_whole_from_the_help_text() {
    let env = TestEnv::new();
    let page = env.run(&["man"]).ok();
    let lines: Vec<&str> = page.lines().collect();
    // No references to pages that do not exist (such as safe-log(1)).
    for line in &lines {
        let text = unroff(line);
        let bytes = text.as_bytes();
        for (at, _) in text.match_indices(')') {
            let reference = at >= 2 && bytes[at - 1].is_ascii_digit() && bytes[at - 2] == b'(';
            assert!(!reference, "a reference to another page: {text:?}");
        }
    }
    // Every command has its section, with its summary as `--help` gives it.
    let sections: Vec<String> = lines
        .iter()
        .filter_map(|l| l.strip_prefix(".SS "))
        .map(|l| unroff(l.trim_matches('"')))
        .collect();
    let text = unroff(&page);
    for path in command_paths(&env).into_iter().filter(|p| !p.is_empty()) {
        let name = format!("safe {}", path.join(" "));
        assert!(
            sections
                .iter()
                .any(|s| s == &name || s.starts_with(&format!("{name} "))),
            "{name} has no section in {sections:?}"
        );
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = env
            .cmd()
            .env("COLUMNS", "1000")
            .args(&args)
            .output()
            .unwrap();
        let summary = String::from_utf8(help.stdout).unwrap();
        let summary = summary.lines().next().unwrap().trim_end_matches('.');
        assert!(
            text.contains(summary),
            "{name}: {summary:?} is not in the page"
        );
    }
    // Sentences end where they should: every paragraph and description.
    for (i, line) in lines.iter().enumerate() {
        let next_is_text = |j: usize| lines.get(j).is_some_and(|l| !l.starts_with('.'));
        let body = match *line {
            ".PP" | ".IP" if next_is_text(i + 1) => lines[i + 1],
            ".TP" if next_is_text(i + 2) => lines[i + 2],
            _ => continue,
        };
        let body = unroff(body);
        if body.ends_with(':') {
            continue; // introduces an example block
        }
        assert!(
            body.ends_with(['.', '!', '?']) || body.ends_with(".)") || body.ends_with(".\""),
            "not a whole sentence: {body:?}"
        );
    }
    // The reference sections.
    for (section, words) in [
        (
            "DATES",
            &[
                "yesterday",
                "last friday",
                "in 3 days",
                "--since WHEN",
                "2h30m",
            ][..],
        ),
        (
            "STATISTICS",
            &[
                "strength",
                "building",
                "9 of 22 days",
                "repair moment",
                "skipped",
            ],
        ),
        (
            "FILES",
            &["config.json", "shared/log/", "rituals.json", "index/"],
        ),
        (
            "ENVIRONMENT",
            &["SAFE_DATA_DIR", "SAFE_NOW", "NO_COLOR", "COLUMNS"],
        ),
    ] {
        let body = text
            .split(&format!(".SH \"{section}\"\n"))
            .nth(1)
            .unwrap_or_else(|| panic!("no {section} section"));
        let body = body.split("\n.SH ").next().unwrap();
        for word in words {
            assert!(
                body.contains(word),
                "{section} does not say {word:?}:\n{body}"
            );
        }
    }
}
