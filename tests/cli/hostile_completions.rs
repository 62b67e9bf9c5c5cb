//! A partner's crafted practices against real shells. Practice ids that are
//! shell syntax (`hug;touch pwned1;#`, `$(…)`, backticks, quotes, spaces, a
//! newline, escape sequences) and descriptions full of control characters
//! arrive from a partner's hostile build of safe, through the remote. Then bash, zsh and fish,
//! in a pseudo-terminal as a user has them, complete `safe log` from the
//! committed scripts and run the line: nothing may run, only honest
//! practices may be offered, and no listing may carry a control character.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::completions::{bash_candidates, bin_dir, fish_offers, repo_file};
use crate::env::TestEnv;
use crate::sync::Remote;

/// Crafted practice ids, each with what a user types before TAB. Each
/// prefix matches only its own id, so a shell that offered the id would
/// insert it whole, and Enter would run it.
const CRAFTED: &[(&str, &str)] = &[
    ("hug", "hug;touch pwned1;#"),
    ("hum", "hum$(touch pwned2)"),
    ("hut", "hut`touch pwned3`"),
    ("hay", "hay';touch pwned4;'"),
    ("hen", "hen\";touch pwned5;\""),
    ("hip", "hip || touch pwned6"),
    ("hal", "hal\ntouch pwned7"),
    ("hiv", "hiv\u{b}touch pwned8"),
    ("hex", "hex\u{1b}]0;PWNED-TITLE\u{7}\u{1b}[2J"),
    ("hco", "hco:lon"),
];

/// A description written to attack a listing: a window title, a screen
/// clear, a carriage return that overwrites, an 8-bit CSI, a bidi override,
/// each shell's separators, command substitutions, and far too much text.
const HOSTILE_ABOUT: &str = "hold\u{1b}]0;PWNED-TITLE\u{7} hands\r\u{1b}[2J \u{9b}31m\u{202e}red \
     $(touch pwned10) `touch pwned11`\tafter a tab\nsecond line: with a colon \
     and a long tail that goes on and on well past any sensible length for a menu";

/// The honest practice Sam added; its description is the hostile one.
const HONEST: &str = "hold-hands";

/// Alex's journal, holding Sam's crafted practices, and the remote it
/// syncs with (kept alive for the journal's lifetime).
struct Crafted {
    alex: TestEnv,
    _remote: Remote,
}

/// Sam's journal, written by a hostile build of safe, holds the honest
/// practice with the hostile description and every crafted practice; Alex
/// syncs with it. A safe that leaves the crafted ones out of the fold (as
/// it must) still meets the hostile description.
fn crafted_journal() -> Crafted {
    let (alex, sam, remote) = TestEnv::couple();
    let practice = |id: &str, n: usize| {
        json!({
            "t": "practice",
            "id": id,
            "about": HOSTILE_ABOUT,
            "goal": "none",
            "rev": {"ms": 1795806000000u64, "c": n},
        })
    };
    sam.write_unchecked(practice(HONEST, 1));
    for (n, (_, id)) in CRAFTED.iter().enumerate() {
        sam.write_unchecked(practice(id, n + 2));
    }
    sam.sync();
    alex.run(&["log", "appreciation"]).ok();
    alex.sync();
    // The shells below must not reach the remote on every `safe log`.
    alex.run(&["config", "set", "auto_sync", "false"]).ok();
    Crafted {
        alex,
        _remote: remote,
    }
}

/// What `safe log <TAB>` must offer: the built-ins and Sam's honest one.
fn honest_practices() -> Vec<String> {
    let mut all: Vec<String> = [
        "gentle-touch",
        "turn-toward",
        "long-kiss",
        "check-in",
        "ask-need",
        "listen",
        "mirror",
        "stress-talk",
        "apology",
        "repair",
        "gentle-start",
        "time-out",
        "appreciation",
        "card",
        "date",
        "state-of-us",
        HONEST,
    ]
    .map(String::from)
    .to_vec();
    all.sort();
    all
}

/// Text a terminal would act on rather than print: C0 and C1 controls,
/// DEL, and the bidi controls that reorder a line.
fn is_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[derive(Clone, Copy, Debug)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    const ALL: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

    fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// Whether the shell is here, and `script` to give it a terminal.
    fn installed(self) -> bool {
        let runs = |program: &str| {
            Command::new(program)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !runs(self.name()) || !runs("script") {
            eprintln!(
                "{} or script (util-linux) is not installed: skipping the {} completion attack",
                self.name(),
                self.name()
            );
            return false;
        }
        true
    }

    /// The start-up file: a plain prompt the driver waits for, a terminal
    /// large enough that no listing stops to ask "show all?", and the
    /// committed completion script. `extra` is appended.
    fn rc(self, extra: &str) -> String {
        let size = "stty rows 100 cols 250 2>/dev/null\n";
        match self {
            Shell::Bash => format!(
                "PS1='ready> '\n{size}bind 'set bell-style none'\nsource '{}'\n{extra}",
                repo_file("completions/safe.bash").display()
            ),
            Shell::Zsh => format!(
                "PS1='ready> '\n{size}LISTMAX=100000\nunsetopt beep\n\
                 autoload -Uz compinit && compinit -u -D\nsource '{}'\n{extra}",
                repo_file("completions/_safe").display()
            ),
            Shell::Fish => format!(
                "function fish_prompt; echo -n 'ready> '; end\nset -g fish_greeting\n{size}source '{}'\n{extra}",
                repo_file("completions/safe.fish").display()
            ),
        }
    }

    /// The interactive shell's command line, reading `rc` from `dir`.
    fn command_line(self, dir: &Path) -> String {
        match self {
            Shell::Bash => format!(
                "bash --noprofile --rcfile '{}' -i",
                dir.join("rc").display()
            ),
            // ZDOTDIR points at `dir`, whose .zshrc is the rc.
            Shell::Zsh => "zsh -d -i".to_string(),
            Shell::Fish => format!(
                "fish --no-config -i -C \"source '{}'\"",
                dir.join("rc").display()
            ),
        }
    }
}

/// Run `shell` in a pseudo-terminal in `cwd`, wait for its first prompt,
/// type `keys` and `exit`, and return what the terminal showed.
fn in_terminal(shell: Shell, env: &TestEnv, cwd: &Path, rc_extra: &str, keys: &str) -> String {
    let rc_dir = tempfile::tempdir().unwrap();
    let rc = shell.rc(rc_extra);
    std::fs::write(rc_dir.path().join("rc"), &rc).unwrap();
    std::fs::write(rc_dir.path().join(".zshrc"), &rc).unwrap();
    let path = format!(
        "{}:{}",
        bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("script")
        .args(["--quiet", "--return", "--command"])
        .arg(shell.command_line(rc_dir.path()))
        .arg("/dev/null")
        .env_clear()
        .env("PATH", path)
        .env("HOME", env.home.path())
        .env("USER", &env.name)
        .env("SAFE_DATA_DIR", env.data_dir())
        .env("SAFE_NOW", &env.now)
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .env("TERM", "xterm")
        .env("LANG", "C.UTF-8")
        .env("ZDOTDIR", rc_dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .current_dir(cwd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("script runs");
    let screen = Arc::new(Mutex::new(Vec::new()));
    let reader = {
        let screen = Arc::clone(&screen);
        let mut stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                screen.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        })
    };
    let shown = || String::from_utf8_lossy(&screen.lock().unwrap()).into_owned();
    // zsh drops what is typed before its line editor starts: wait for it.
    let ready = wait_until(&mut child, Duration::from_secs(30), || {
        shown().contains("ready> ")
    });
    assert!(
        ready,
        "{} never showed its prompt:\n{}",
        shell.name(),
        shown()
    );
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(keys.as_bytes()).unwrap();
    stdin.write_all(b"exit\r").unwrap();
    let exited = wait_until(&mut child, Duration::from_secs(60), || false);
    if !exited {
        let _ = child.kill();
        let _ = child.wait();
    }
    drop(stdin);
    reader.join().unwrap();
    assert!(exited, "{} did not finish:\n{}", shell.name(), shown());
    shown()
}

/// Poll until `done()` or until the child exits (true either way), or time out.
fn wait_until(child: &mut Child, limit: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if done() || child.try_wait().unwrap().is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// Files named `pwned…` where the crafted commands would have made them.
fn pwned_files(dirs: &[&Path]) -> Vec<PathBuf> {
    dirs.iter()
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten())
        .map(|item| item.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pwned")
        })
        .collect()
}

#[test]
fn completing_a_crafted_practice_and_pressing_enter_runs_nothing() {
    let journal = crafted_journal();
    let alex = &journal.alex;
    // An honest practice, typed the same way: proof that completion worked.
    let honest = [
        (Shell::Bash, "turn-t", "turn-toward"),
        (Shell::Zsh, "apol", "apology"),
        (Shell::Fish, "gentle-t", "gentle-touch"),
    ];
    for (shell, prefix, practice) in honest {
        if !shell.installed() {
            continue;
        }
        let before = alex.history(&["--all", "--practice", practice]).len();
        let cwd = tempfile::tempdir().unwrap();
        let mut keys = String::new();
        for (typed, _) in CRAFTED {
            keys.push_str(&format!("safe log {typed}\t\r"));
        }
        // `h` now has one candidate, Sam's honest practice.
        keys.push_str("safe log h\t\r");
        keys.push_str(&format!("safe log {prefix}\t\r"));
        let screen = in_terminal(shell, alex, cwd.path(), "", &keys);
        let pwned = pwned_files(&[cwd.path(), alex.home.path()]);
        assert!(
            pwned.is_empty(),
            "{}: a crafted practice ran as a command: {pwned:?}\n{screen}",
            shell.name()
        );
        let logged = alex.history(&["--all", "--practice", practice]);
        assert_eq!(
            logged.len(),
            before + 1,
            "{}: `safe log {prefix}<TAB>` did not complete to {practice}\n{screen}",
            shell.name()
        );
    }
}

/// What zsh offers for `line`: each match as zsh would insert it, and the
/// line its listing shows. zsh completes only in its line editor, so a
/// `compadd` wrapper records the matches from a real terminal session.
fn zsh_offers(env: &TestEnv, line: &str) -> Vec<(String, String)> {
    let capture = tempfile::tempdir().unwrap();
    let out = capture.path().join("offers");
    let wrapper = format!(
        r#"zmodload zsh/zutil
compadd() {{
  if [[ ${{@[1,(i)(-|--)]}} == *-(O|A|D)\ * ]]; then
    builtin compadd "$@"; return
  fi
  local -a __hits __disp
  local -A __opts
  zparseopts -E -A __opts d:
  [[ -n ${{__opts[-d]}} ]] && __disp=( "${{(@P)__opts[-d]}}" )
  builtin compadd -A __hits -D __disp "$@"
  local i
  for i in {{1..$#__hits}}; do
    print -rn -- "${{__hits[i]}}"$'\t'"${{__disp[i]}}"$'\0' >> '{}'
  done
  builtin compadd "$@"
}}
unsetopt autolist
"#,
        out.display()
    );
    in_terminal(
        Shell::Zsh,
        env,
        capture.path(),
        &wrapper,
        &format!("{line}\t\x15"),
    );
    let text = std::fs::read_to_string(&out).unwrap_or_default();
    text.split_terminator('\0')
        .map(|offer| {
            let (value, shown) = offer.split_once('\t').unwrap_or((offer, ""));
            (value.to_string(), shown.to_string())
        })
        .collect()
}

/// Each shell's offers for `safe log <TAB>` and `safe log h<TAB>`: the
/// honest practices only, and nothing a terminal would act on.
#[test]
fn every_shell_offers_only_honest_practices_in_clean_listings() {
    let journal = crafted_journal();
    let alex = &journal.alex;
    for shell in Shell::ALL {
        if !shell.installed() {
            continue;
        }
        for (line, expected) in [
            ("safe log ", honest_practices()),
            ("safe log h", vec![HONEST.to_string()]),
        ] {
            let offers: Vec<(String, String)> = match shell {
                Shell::Bash => {
                    let words: Vec<&str> = line.split(' ').collect();
                    bash_candidates(alex, &words)
                        .into_iter()
                        .map(|v| (v.clone(), v))
                        .collect()
                }
                Shell::Zsh => zsh_offers(alex, line),
                Shell::Fish => fish_offers(alex, line),
            };
            // With nothing typed yet, clap offers the flags too.
            let mut values: Vec<String> = offers
                .iter()
                .map(|(v, _)| v.clone())
                .filter(|v| !flag(v))
                .collect();
            values.sort();
            assert_eq!(values, expected, "{}: `{line}<TAB>`", shell.name());
            for (value, shown) in &offers {
                assert!(
                    !value.chars().chain(shown.chars()).any(is_control),
                    "{}: `{line}<TAB>` shows a control character: {value:?} {shown:?}",
                    shell.name()
                );
            }
            if !matches!(shell, Shell::Bash) {
                let (_, shown) = offers.iter().find(|(v, _)| v == HONEST).unwrap();
                assert!(
                    shown.contains("hold") && shown.contains("hands"),
                    "{}: {shown:?}",
                    shell.name()
                );
            }
        }
    }
}

/// The binary's raw answer to each shell's completion protocol, as the
/// scripts ask for it: one value per separator, values that are plain
/// practice ids or hex entry ids, one short clean description each.
#[test]
fn the_raw_completion_answer_is_clean_for_each_shell() {
    let journal = crafted_journal();
    let alex = &journal.alex;
    // An entry of mine whose practice is crafted (a hostile or older build
    // wrote it), so entry ids could carry a crafted description too.
    let bad_practice = CRAFTED.iter().find(|(t, _)| *t == "hex").unwrap().1;
    alex.write_unchecked(json!({
        "t": "entry",
        "id": "01a00000-0000-7000-8000-0000000000cc",
        "practice": bad_practice,
        "day": "2026-11-27",
        "at": "2026-11-27T09:00:00+01:00",
        "rev": {"ms": 1795806000000u64, "c": 0},
    }));

    let ask = |shell: &str, words: &[&str]| -> String {
        let mut cmd = alex.cmd();
        cmd.env("COMPLETE", shell)
            .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
            .env("_CLAP_IFS", if shell == "bash" { "\u{b}" } else { "\n" })
            .arg("--")
            .args(words);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{shell} {words:?}");
        String::from_utf8(out.stdout).expect("completions are UTF-8")
    };
    for (words, is_plain) in [
        (&["safe", "log", ""][..], safe_id as fn(&str) -> bool),
        (&["safe", "rm", ""][..], hex_id),
    ] {
        // bash: values only, split on a vertical tab.
        let raw = ask("bash", words);
        let values: Vec<&str> = raw.split('\u{b}').filter(|v| !flag(v)).collect();
        assert!(values.iter().all(|v| is_plain(v)), "bash: {raw:?}");
        if words[1] == "log" {
            let mut sorted: Vec<String> = values.iter().map(|v| v.to_string()).collect();
            sorted.sort();
            assert_eq!(sorted, honest_practices());
        }

        // zsh: `value:description` a line, `:` in a value escaped.
        let raw = ask("zsh", words);
        for line in raw.split('\n') {
            let (value, about) = line.split_once(':').unwrap_or((line, ""));
            assert!(is_plain(value) || flag(value), "zsh: {line:?}");
            assert_clean_description("zsh", about);
        }

        // fish: `value<TAB>description` a line.
        let raw = ask("fish", words);
        for line in raw.lines() {
            let (value, about) = line.split_once('\t').unwrap_or((line, ""));
            assert!(is_plain(value) || flag(value), "fish: {line:?}");
            assert!(!about.contains('\t'), "fish: {line:?}");
            assert_clean_description("fish", about);
        }
    }
}

#[track_caller]
fn assert_clean_description(shell: &str, about: &str) {
    assert!(!about.chars().any(is_control), "{shell}: {about:?}");
    assert!(about.chars().count() <= 100, "{shell}: {about:?}");
}

/// One of clap's own flags, as completion offers them: `--word-word`.
fn flag(value: &str) -> bool {
    value
        .strip_prefix("--")
        .is_some_and(|name| name.starts_with(|c: char| c.is_ascii_lowercase()) && safe_id(name))
}

/// An entry id as completion offers it: the handle `safe history` shows,
/// 4 to 32 hex digits.
fn hex_id(id: &str) -> bool {
    (4..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The rule of `safe practice add`: lowercase words joined by dashes.
fn safe_id(id: &str) -> bool {
    (2..=32).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
        && !id.ends_with('-')
}
