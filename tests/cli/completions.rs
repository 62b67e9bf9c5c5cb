//! Completion scripts and the man page: the committed scripts match the
//! binary, real shells complete practice names from them, and the man page
//! is well-formed roff that names every command.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::env::TestEnv;

const SCRIPTS: &[(&str, &str)] = &[
    ("bash", "safe.bash"),
    ("zsh", "_safe"),
    ("fish", "safe.fish"),
    ("elvish", "safe.elv"),
    ("powershell", "_safe.ps1"),
];

pub(crate) fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The directory of the built binary, so a shell finds `safe` on PATH.
pub(crate) fn bin_dir() -> PathBuf {
    assert_cmd::cargo::cargo_bin("safe")
        .parent()
        .unwrap()
        .to_path_buf()
}

#[test]
fn committed_completion_scripts_match_the_binary() {
    // SAFE_UPDATE_COMPLETIONS=1 cargo test ... rewrites them after a CLI change.
    let env = TestEnv::new();
    let update = std::env::var_os("SAFE_UPDATE_COMPLETIONS").is_some();
    for (shell, file) in SCRIPTS {
        let generated = env.run(&["completions", shell]).ok();
        let path = repo_file(&format!("completions/{file}"));
        if update {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "completions/{file} is out of date: run `SAFE_UPDATE_COMPLETIONS=1 cargo test --test cli completions` and commit it"
        );
    }
}

/// Ask bash, with the committed script loaded, what it offers after `words`.
pub(crate) fn bash_candidates(env: &TestEnv, words: &[&str]) -> Vec<String> {
    let script = repo_file("completions/safe.bash");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().unwrap();
    let previous = words[words.len() - 2];
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE='{}'\nCOMP_POINT=${{#COMP_LINE}}\n_clap_complete_safe safe '{current}' '{previous}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
        words.join(" "),
    );
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("bash")
        .arg("--norc")
        .arg("-c")
        .arg(program)
        .env("PATH", path)
        .env("HOME", env.home.path())
        .env("SAFE_DATA_DIR", env.data_dir())
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .filter(|l| !l.is_empty())
        .collect()
}

#[test]
fn bash_completes_practice_names() {
    let env = TestEnv::new();
    let offered = bash_candidates(&env, &["safe", "log", "ap"]);
    assert_eq!(offered, vec!["apology", "appreciation"]);
}

#[test]
fn bash_completes_custom_practices_and_subcommands() {
    let env = TestEnv::new();
    env.run(&["practice", "add", "read-aloud", "--goal", "2/week"])
        .ok();
    assert_eq!(
        bash_candidates(&env, &["safe", "log", "rea"]),
        vec!["read-aloud"]
    );
    let commands = bash_candidates(&env, &["safe", "hi"]);
    assert_eq!(commands, vec!["history"]);
}

#[test]
fn bash_completes_entry_ids_for_rm_and_edit() {
    let env = TestEnv::new();
    env.run(&["log", "repair"]).ok();
    let id = env.journal()[0]["id"].as_str().unwrap().replace('-', "");
    // The handle `safe history` shows: the start of the id's random tail,
    // which rm and edit take back.
    let tail = &id[17..];
    let offered = bash_candidates(&env, &["safe", "rm", &tail[..2]]);
    assert_eq!(offered.len(), 1, "{offered:?}");
    assert!(tail.starts_with(&offered[0]), "{offered:?} for {id}");
    assert_eq!(
        bash_candidates(&env, &["safe", "edit", &tail[..2]]),
        offered
    );
    env.run(&["edit", &offered[0], "--took", "10m"]).ok();
    env.run(&["rm", &offered[0]]).ok();
    assert!(env.journal().is_empty());
}

/// What fish offers for `line`: value and description.
pub(crate) fn fish_offers(env: &TestEnv, line: &str) -> Vec<(String, String)> {
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = Command::new("fish")
        .arg("--no-config")
        .arg("-c")
        .arg(format!(
            "source '{}'; complete --do-complete '{line}'",
            repo_file("completions/safe.fish").display()
        ))
        .env("PATH", path)
        .env("HOME", env.home.path())
        .env("SAFE_DATA_DIR", env.data_dir())
        .env("LANG", "C.UTF-8")
        .output()
        .expect("fish runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| {
            let (value, about) = l.split_once('\t').unwrap_or((l, ""));
            (value.to_string(), about.to_string())
        })
        .collect()
}

#[test]
fn fish_completes_practice_names_when_installed() {
    if Command::new("fish").arg("--version").output().is_err() {
        eprintln!("fish is not installed: skipping the fish completion test");
        return;
    }
    let env = TestEnv::new();
    let offers = fish_offers(&env, "safe log ap");
    let names: Vec<&str> = offers.iter().map(|(value, _)| value.as_str()).collect();
    assert_eq!(names, vec!["apology", "appreciation"], "{offers:?}");
}

#[test]
fn the_man_page_is_roff_and_names_every_command() {
    let env = TestEnv::new();
    let page = env.run(&["man"]).ok();
    assert!(
        page.starts_with(".ie") || page.contains(".TH safe 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    assert!(page.contains(".TH safe 1"));
    for section in [
        "NAME",
        "SYNOPSIS",
        "FILES",
        "ENVIRONMENT",
        "EXIT STATUS",
        "PRIVACY",
        "EXAMPLES",
    ] {
        assert!(
            page.contains(&format!(".SH {section}"))
                || page.contains(&format!(".SH \"{section}\"")),
            "missing {section}"
        );
    }
    for command in [
        "log",
        "undo",
        "edit",
        "rm",
        "history",
        "today",
        "stats",
        "calendar",
        "skip",
        "pause",
        "practice",
        "card",
        "sync",
        "export",
        "import",
        "init",
        "config",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!(".SS \"safe {command}")),
            "missing {command}"
        );
    }
    assert!(page.contains("1\\-800\\-799\\-7233"));
    // Every request line is a known roff request or macro.
    for line in page.lines().filter(|l| l.starts_with('.')) {
        let request: String = line[1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(
            [
                "TH", "SH", "SS", "PP", "TP", "IP", "RS", "RE", "B", "I", "BR", "IR", "RB", "ie",
                "el", "ds", "nh", "ad", "br", "sp", "in", "nf", "fi", "UR", "UE", "ft", "na", "hy",
                "ne", "LP", "P", "HP", "TQ"
            ]
            .contains(&request.as_str()),
            "unexpected roff request: {line}"
        );
    }
    // Where groff is installed, it must format the page without a warning.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("safe.1");
    std::fs::write(&file, &page).unwrap();
    match Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .output()
    {
        Ok(output) => {
            assert!(output.status.success());
            assert_eq!(
                String::from_utf8_lossy(&output.stderr),
                "",
                "groff warnings"
            );
        }
        Err(_) => eprintln!("groff is not installed: checked the roff structure only"),
    }
}
