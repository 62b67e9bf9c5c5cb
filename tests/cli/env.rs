//! `TestEnv`: a clean environment for running `safe`, so no test depends on
//! the machine: its own HOME and data directory, a fixed clock, no colour,
//! and git configuration that ignores the user's.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use tempfile::TempDir;

pub const NOW: &str = "2026-11-27T20:00:00+01:00";

pub struct TestEnv {
    pub home: TempDir,
    pub now: String,
    pub name: String,
}

/// What a run of `safe` gave back, with helpers that make assertions read well.
pub struct Run {
    pub output: Output,
}

impl Run {
    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    /// Assert success and return stdout.
    #[track_caller]
    pub fn ok(&self) -> String {
        assert_eq!(
            self.code(),
            0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self.stdout()
    }
    /// Assert the exit code and return stderr.
    #[track_caller]
    pub fn fails(&self, code: i32) -> String {
        assert_eq!(
            self.code(),
            code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self.stderr()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.ok()).expect("stdout is JSON")
    }
}

/// How fast pairing looks at the remote in tests, and how long it waits.
pub const PAIRING: [&str; 4] = ["--poll", "20ms", "--timeout", "60s"];

/// Both sides of one pairing ([`TestEnv::pair`]).
pub struct Pairing {
    /// `safe invite`, run to its end.
    pub invited: Run,
    /// `safe join`.
    pub joined: Run,
}

impl Pairing {
    /// Assert that both sides succeeded.
    #[track_caller]
    pub fn ok(&self) {
        self.joined.ok();
        self.invited.ok();
    }
}

impl TestEnv {
    pub fn new() -> Self {
        Self::named("Alex")
    }

    /// A partner with their own home and data directory.
    pub fn named(name: &str) -> Self {
        TestEnv {
            home: tempfile::tempdir().unwrap(),
            now: NOW.to_string(),
            name: name.to_string(),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.home.path().join("data")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.data_dir().join(rel)
    }

    pub fn at(mut self, now: &str) -> Self {
        self.now = now.to_string();
        self
    }

    pub fn set_now(&mut self, now: &str) {
        self.now = now.to_string();
    }

    /// A `safe` command with a clean environment.
    pub fn cmd(&self) -> Command {
        Command::from_std(self.std_cmd())
    }

    /// Start `safe` with `args` (an `invite`) in the background and read
    /// the first line it prints (the code): the inviter keeps waiting for
    /// the joiner while the test goes on.
    pub fn spawn_invite(&self, args: &[&str]) -> (std::process::Child, String) {
        use std::io::BufRead;
        let mut child = self
            .std_cmd()
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        (child, line.trim().to_string())
    }

    /// Pair `joiner` through `url` with the real binary: `safe invite`
    /// here with `extra` (say `--device`, or `--remote URL`) in the
    /// background, and `safe join URL CODE` on `joiner` with the code it
    /// printed, both polling fast ([`PAIRING`]). Both runs are returned
    /// once the invite ended; nothing is asserted.
    pub fn pair(&self, joiner: &TestEnv, url: &str, extra: &[&str]) -> Pairing {
        let mut args = vec!["invite"];
        args.extend_from_slice(extra);
        args.extend_from_slice(&PAIRING);
        let (inviter, code) = self.spawn_invite(&args);
        let mut args = vec!["join", url, code.as_str()];
        args.extend_from_slice(&PAIRING);
        let joined = joiner.run(&args);
        let invited = Run {
            output: inviter.wait_with_output().unwrap(),
        };
        Pairing { invited, joined }
    }

    /// The same as a std `Command`, which can be spawned and killed (for
    /// the concurrency and crash tests).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_safe"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home.path())
            .env("USER", &self.name)
            .env("SAFE_DATA_DIR", self.data_dir())
            .env("SAFE_NOW", &self.now)
            .env("NO_COLOR", "1")
            .env("TZ", "UTC")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .current_dir(self.home.path());
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run {
            output: self.cmd().args(args).output().unwrap(),
        }
    }

    /// Start `safe` in the background with no stdin, stdout or stderr.
    pub fn spawn_quiet(&self, args: &[&str]) -> std::process::Child {
        use std::process::Stdio;
        self.std_cmd()
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// What each of these command lines prints, in turn (each must succeed).
    #[track_caller]
    pub fn answers(&self, questions: &[&[&str]]) -> Vec<String> {
        questions.iter().map(|q| self.run(q).ok()).collect()
    }

    /// `safe history --json` with `args`, as a list.
    #[track_caller]
    pub fn history(&self, args: &[&str]) -> Vec<serde_json::Value> {
        let mut all = vec!["history", "--json"];
        all.extend_from_slice(args);
        self.run(&all).json().as_array().unwrap().clone()
    }

    /// Run `safe` on a pseudo-terminal (through `script`), typing `input`,
    /// and return what the terminal showed; `None` where `script` is
    /// missing (the caller skips with a printed reason).
    pub fn run_on_terminal(&self, args: &[&str], input: &str) -> Option<String> {
        use std::io::Write;
        use std::process::Stdio;
        if std::process::Command::new("script")
            .arg("--version")
            .output()
            .is_err()
        {
            eprintln!("skipped the terminal part: `script` (util-linux) is not installed");
            return None;
        }
        let base = self.std_cmd();
        let mut cmd = std::process::Command::new("script");
        cmd.env_clear().current_dir(self.home.path());
        for (key, value) in base.get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        let program = std::iter::once(env!("CARGO_BIN_EXE_safe"))
            .chain(args.iter().copied())
            .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = cmd
            .args(["-qec", &program, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .ok()?;
        // Typed once the question is likely on the screen; the terminal
        // keeps what is typed early anyway.
        std::thread::sleep(std::time::Duration::from_millis(300));
        child.stdin.take()?.write_all(input.as_bytes()).ok()?;
        let out = child.wait_with_output().ok()?;
        Some(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        Run {
            output: self
                .cmd()
                .args(args)
                .write_stdin(input.to_string())
                .output()
                .unwrap(),
        }
    }

    /// Read a data file as JSON. Schema 1: only `tests/cli/sync.rs` still
    /// reads month files this way, until it is ported to the device logs.
    pub fn read_json(&self, rel: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        serde_json::from_str(&text).unwrap()
    }

    /// Every live entry I may see, as `safe export --format jsonl` gives it
    /// (id, kind, practice, day, until, at, author, note, took_minutes,
    /// rev, private, note_shared), in the journal's order: by day, then
    /// time, then id.
    #[track_caller]
    pub fn journal(&self) -> Vec<serde_json::Value> {
        self.run(&["export", "--format", "jsonl"])
            .ok()
            .lines()
            .map(|line| serde_json::from_str(line).expect("each exported line is JSON"))
            .collect()
    }

    /// The live entry with this full id, as `safe export` gives it.
    #[track_caller]
    pub fn entry(&self, id: &str) -> serde_json::Value {
        let all = self.journal();
        all.iter()
            .find(|e| e["id"] == id)
            .cloned()
            .unwrap_or_else(|| panic!("{id} is not in the journal: {all:#?}"))
    }

    /// My person id: what `safe export` and `safe history --json` show as
    /// the author of my entries. On a journal of one I am its root, whose
    /// person id is the root device's id (docs/protocol.md, "Roster").
    pub fn my_id(&self) -> String {
        // The person of the journal's first device, or of a partner who
        // joined, is that device's own id (docs/protocol.md "Roster").
        let journal = self.read_json("journal.json");
        journal["device"].as_str().unwrap().to_string()
    }

    /// The name my partner sees, as `safe config get name` says it.
    #[track_caller]
    pub fn my_name(&self) -> String {
        self.run(&["config", "get", "name"]).ok().trim().to_string()
    }

    /// Every file under `rel` (a folder of the data directory), sorted.
    pub fn files_under(&self, rel: &str) -> Vec<PathBuf> {
        let mut files = files_under(&self.path(rel));
        files.sort();
        files
    }

    /// The files under `rel` whose bytes contain `marker`.
    pub fn files_holding(&self, rel: &str, marker: &str) -> Vec<PathBuf> {
        self.files_under(rel)
            .into_iter()
            .filter(|p| contains_bytes(&std::fs::read(p).unwrap(), marker))
            .collect()
    }

    /// All the bytes of every file under `shared/`: what a sync may carry.
    /// A marker of a private entry or an unshared note must never be in it.
    pub fn shared_bytes(&self) -> Vec<u8> {
        self.files_under("shared")
            .iter()
            .flat_map(|p| std::fs::read(p).unwrap())
            .collect()
    }

    /// The segment files of the logs under `rel` (`shared/log` or
    /// `private/log`), in log order.
    pub fn segments(&self, rel: &str) -> Vec<PathBuf> {
        self.files_under(rel)
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .collect()
    }

    /// A paired couple, Alex (the first) and Sam, sharing a bare remote:
    /// each has run `safe sync` once, so each holds the other's logs.
    pub fn couple() -> (TestEnv, TestEnv, crate::sync::Remote) {
        crate::sync::couple()
    }

    /// `safe sync` with the remote this journal was paired through; it
    /// must succeed.
    #[track_caller]
    pub fn sync(&self) -> String {
        self.run(&["sync"]).ok()
    }

    /// Append `record` (the JSON of a record as docs/protocol.md "Records"
    /// has it, `rev` included) to my shared log, signed with my device key
    /// but checked against nothing, as a hostile partner's own build of
    /// safe, or an older one, would write it.
    pub fn write_unchecked(&self, record: serde_json::Value) {
        let root = self.data_dir();
        let dir = safe::store::DataDir::new(root.clone());
        let lock = dir.lock().unwrap();
        let key = safe::keys::DeviceKey::load_or_create(&root, &lock).unwrap();
        let journal = safe::journal::Identity::read(&root)
            .unwrap()
            .unwrap()
            .journal;
        let rec = record.to_string();
        let line = safe::keys::line::Record {
            rec: &rec,
            sidecar: None,
        };
        safe::store::segment::append_batch(
            &root.join("shared").join("log"),
            &key,
            &journal,
            safe::keys::line::LogKind::Shared,
            "unchecked",
            &[line],
            &lock,
        )
        .unwrap();
    }

    /// Every file of the journal with its bytes (the logs, `journal.json`,
    /// the key and `config.json`; not the derived index), to show that a
    /// failed command changed nothing.
    pub fn snapshot(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            let Ok(listing) = std::fs::read_dir(dir) else {
                return;
            };
            for item in listing.flatten() {
                let path = item.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.data_dir().join("shared"), &mut out);
        walk(&self.data_dir().join("private"), &mut out);
        walk(&self.data_dir().join("keys"), &mut out);
        for file in ["config.json", "journal.json"] {
            if let Ok(bytes) = std::fs::read(self.data_dir().join(file)) {
                out.push((self.data_dir().join(file), bytes));
            }
        }
        out.sort();
        out
    }
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(listing) = std::fs::read_dir(dir) else {
        return out;
    };
    for item in listing.flatten() {
        let path = item.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// Whether `needle` occurs anywhere in `haystack`, byte for byte.
pub fn contains_bytes(haystack: &[u8], needle: impl AsRef<[u8]>) -> bool {
    let needle = needle.as_ref();
    haystack.windows(needle.len()).any(|w| w == needle)
}
