//! A change that was saved is never reported as a failure, a change that was
//! not saved leaves nothing of itself behind, and a crash leaves no junk
//! (DESIGN.md §2 exit codes, §3 "Durability"). Tested with real processes:
//! an unprivileged user (`nobody`) facing read-only directories, a full file
//! system (a small tmpfs), and SIGKILL in the middle of an import or a sync.
//! Where the machine does not allow a set-up (no root, no mounting), the test
//! says why on stderr and passes without checking.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::env::{Run, TestEnv, files_under};

const NOBODY: u32 = 65534;

/// Runs `safe` as `nobody`, for whom file permissions hold (root ignores
/// them), in a home that belongs to `nobody`.
struct Nobody<'a> {
    env: &'a TestEnv,
}

impl<'a> Nobody<'a> {
    /// `None`, with the reason printed, where `setpriv` cannot switch users.
    fn new(env: &'a TestEnv) -> Option<Self> {
        let probe = Command::new("setpriv")
            .args(nobody_args())
            .arg("true")
            .output();
        match probe {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                eprintln!(
                    "skipped: `setpriv` cannot run as nobody here: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                return None;
            }
            Err(e) => {
                eprintln!("skipped: `setpriv` is not available: {e}");
                return None;
            }
        }
        std::os::unix::fs::chown(env.home.path(), Some(NOBODY), Some(NOBODY)).unwrap();
        Some(Nobody { env })
    }

    fn run(&self, args: &[&str]) -> Run {
        let std = self.env.std_cmd();
        let mut cmd = Command::new("setpriv");
        cmd.args(nobody_args())
            .arg(std.get_program())
            .args(args)
            .env_clear()
            .current_dir(self.env.home.path());
        for (key, value) in std.get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        Run {
            output: cmd.output().unwrap(),
        }
    }
}

fn nobody_args() -> [String; 3] {
    [
        format!("--reuid={NOBODY}"),
        format!("--regid={NOBODY}"),
        "--clear-groups".to_string(),
    ]
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// What a crash leaves behind: safe's temporary files (`.tmp-…`), and
/// libgit2's in `sync.git` (`…_git2_…`, `….lock`). The data directory's own
/// lock files, named `.lock`, are meant to stay.
fn junk(env: &TestEnv) -> Vec<PathBuf> {
    files_under(&env.data_dir())
        .into_iter()
        .filter(|path| junk_name(&path.file_name().unwrap().to_string_lossy()))
        .collect()
}

fn junk_name(name: &str) -> bool {
    name.starts_with(".tmp-")
        || name.contains("_git2_")
        || (name.ends_with(".lock") && name != ".lock")
}

/// My goal for a practice, as `safe practice list` shows it.
fn goal_of(env: &TestEnv, id: &str) -> String {
    let out = env.run(&["practice", "list"]).ok();
    let row = out
        .lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("{id} is not listed:\n{out}"));
    row.split_whitespace().nth(1).unwrap().to_string()
}

/// What a user sees of the journal: every entry as `safe export` gives it,
/// my name, and my practices and goals. `run` runs `safe` with its args.
type Seen = (String, String, String);

fn seen_with(run: impl Fn(&[&str]) -> Run) -> Seen {
    (
        run(&["export"]).ok(),
        run(&["config", "get", "name"]).ok(),
        run(&["practice", "list", "--all"]).ok(),
    )
}

/// Either the change is all there (`saved` says so) and the command
/// succeeded, or nothing of it shows (`now` is what was `before`) and the
/// command failed with one of `because` in its message and a hint: never
/// half of it, never a saved change reported as an error. (The logs are
/// append-only: a refused command may leave a line nothing uses, such as
/// the unshared note of an entry that could not be written.)
#[track_caller]
fn whole_or_absent(
    run: &Run,
    before: &Seen,
    now: impl FnOnce() -> Seen,
    because: &[&str],
    saved: impl FnOnce() -> bool,
) -> bool {
    let (stdout, stderr) = (run.stdout(), run.stderr());
    match run.code() {
        0 => {
            assert!(
                saved(),
                "exit 0 but the change is not all there\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
            assert!(!stderr.contains("safe: error"), "{stderr}");
            true
        }
        1 => {
            assert!(
                now() == *before,
                "the command failed but changed the journal\nstderr:\n{stderr}"
            );
            assert!(stderr.starts_with("safe: error: "), "{stderr}");
            assert!(
                because.iter().any(|b| stderr.contains(b)),
                "{because:?}: {stderr}"
            );
            assert!(stderr.contains("\nhint: "), "{stderr}");
            false
        }
        code => panic!("exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"),
    }
}

#[test]
fn a_read_only_index_is_a_warning_after_the_confirmation() {
    let env = TestEnv::new();
    let Some(nobody) = Nobody::new(&env) else {
        return;
    };
    nobody
        .run(&["log", "appreciation", "--date", "yesterday"])
        .ok();
    nobody.run(&["today"]).ok();
    let index = env.path("index");
    let indexed = files_under(&index);
    assert!(!indexed.is_empty(), "the journal keeps an index");
    for file in &indexed {
        set_mode(file, 0o400);
    }
    set_mode(&index, 0o500);

    let run = nobody.run(&["log", "appreciation", "--note", "still saved"]);
    let out = run.ok();
    assert!(out.starts_with("Logged appreciation today"), "{out}");
    let err = run.stderr();
    assert!(err.starts_with("safe: warning: "), "{err}");
    assert!(err.contains("index"), "{err}");
    assert!(!err.contains("safe: error"), "{err}");
    // Saved, note and all, and it reads without the index.
    let today = nobody.run(&["history", "--all", "--json"]);
    let mine: Vec<Value> = serde_json::from_str(&today.ok()).unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().any(|e| e["note"] == "still saved"));
}

/// The same as root, for whom no permission bit stops a write: `index` is
/// a file, so nothing can be made under it, by anyone.
#[test]
fn an_index_that_is_not_a_folder_is_a_warning_after_the_confirmation() {
    let env = TestEnv::new();
    env.run(&["log", "appreciation", "--date", "yesterday"])
        .ok();
    let index = env.path("index");
    std::fs::remove_dir_all(&index).unwrap();
    std::fs::write(&index, "not a folder").unwrap();

    let run = env.run(&["log", "appreciation", "--note", "still saved"]);
    let out = run.ok();
    assert!(out.starts_with("Logged appreciation today"), "{out}");
    let err = run.stderr();
    assert!(err.starts_with("safe: warning: "), "{err}");
    assert!(err.contains("index"), "{err}");
    assert_eq!(err.matches("warning").count(), 1, "warned once: {err}");
    // Reads fold from the logs, and say why.
    let history = env.run(&["history", "--all", "--json"]);
    let mine: Vec<Value> = serde_json::from_str(&history.ok()).unwrap();
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().any(|e| e["note"] == "still saved"));
    assert!(history.stderr().contains("index"), "{}", history.stderr());
    assert_eq!(std::fs::read_to_string(&index).unwrap(), "not a folder");

    // Once the path is free again, the index is made again, quietly.
    std::fs::remove_file(&index).unwrap();
    let history = env.run(&["history", "--all", "--json"]);
    let mine: Vec<Value> = serde_json::from_str(&history.ok()).unwrap();
    assert_eq!(mine.len(), 2);
    assert_eq!(history.stderr(), "");
    assert!(index.join("index.sqlite").is_file());
}

#[test]
fn a_read_only_file_or_directory_leaves_each_change_whole_or_absent() {
    let env = TestEnv::new();
    let Some(nobody) = Nobody::new(&env) else {
        return;
    };
    nobody.run(&["log", "listen", "--note", "first"]).ok();
    nobody
        .run(&["practice", "goal", "appreciation", "daily"])
        .ok();
    // Everything below reads as `nobody`, who owns the data directory.
    let history = || -> Vec<Value> {
        serde_json::from_str(&nobody.run(&["history", "--all", "--json"]).ok()).unwrap()
    };
    let note_kept = |note: &str| history().iter().any(|e| e["note"] == note);
    let name_is = |name: &str| nobody.run(&["config", "get", "name"]).ok().trim() == name;
    let shared = env.segments("shared/log").pop().unwrap();
    let private = env.segments("private/log").pop().unwrap();

    // (what is read-only, command, whether it is all there)
    type Saved<'a> = Box<dyn Fn() -> bool + 'a>;
    let cases: Vec<(PathBuf, Vec<&str>, Saved)> = vec![
        (
            env.path(""),
            vec!["init", "--name", "Robin"],
            Box::new(|| name_is("Robin")),
        ),
        (
            shared.clone(),
            vec!["init", "--name", "Kim"],
            Box::new(|| name_is("Kim")),
        ),
        (
            shared.clone(),
            vec!["practice", "goal", "listen", "3/week"],
            Box::new(|| {
                let out = nobody.run(&["practice", "list"]).ok();
                out.lines()
                    .any(|l| l.split_whitespace().take(2).eq(["listen", "3/week"]))
            }),
        ),
        (
            env.path("shared/log"),
            vec!["log", "appreciation", "--again", "--note", "root"],
            Box::new(|| note_kept("root")),
        ),
        // The entry goes to the shared log, its unshared note to the
        // private one, first.
        (
            private.clone(),
            vec!["log", "listen", "--again", "--note", "secret"],
            Box::new(|| note_kept("secret")),
        ),
        (
            shared.clone(),
            vec!["log", "listen", "--again", "--note", "kept side"],
            Box::new(|| note_kept("kept side")),
        ),
        (
            shared.clone(),
            vec![
                "log",
                "listen",
                "--again",
                "--note",
                "shared side",
                "--share-note",
            ],
            Box::new(|| note_kept("shared side")),
        ),
    ];
    let seen = || seen_with(|args| nobody.run(args));
    let mut refused = 0;
    for (path, args, saved) in cases {
        let count = history().len();
        let before = seen();
        let (locked, open) = match path.is_dir() {
            true => (0o500, 0o700),
            false => (0o400, 0o600),
        };
        set_mode(&path, locked);
        let run = nobody.run(&args);
        set_mode(&path, open);
        let kept = whole_or_absent(&run, &before, seen, &["Permission denied"], saved);
        refused += usize::from(!kept);
        eprintln!("{args:?} with {} read-only: saved {kept}", path.display());
        let added = usize::from(kept && args[0] == "log");
        assert_eq!(history().len(), count + added, "{args:?}");
    }
    // Whole-or-absent holds trivially if nothing is ever refused: some
    // case must have met the read-only file.
    assert!(refused > 0, "no case was refused: the test proves nothing");
    // With the permissions back, everything works again.
    nobody
        .run(&["log", "listen", "--again", "--note", "after"])
        .ok();
    nobody.run(&["init", "--name", "Robin"]).ok();
    assert!(name_is("Robin"));
    assert!(note_kept("after"));
    assert!(junk(&env).is_empty(), "{:?}", junk(&env));
}

#[test]
fn a_failed_auto_sync_is_a_harmless_warning_after_the_confirmation() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    env.run(&["config", "set", "auto_sync", "true"]).ok();
    // A remote that cannot be reached, whose name would retitle the terminal.
    let remote = env.home.path().join("gone\u{1b}]0;pwned\u{7}.git");
    env.run(&["config", "set", "remote", remote.to_str().unwrap()])
        .ok();

    let run = env.run(&["log", "appreciation", "--note", "offline"]);
    let out = run.ok();
    assert!(out.starts_with("Logged appreciation today"), "{out}");
    let err = run.stderr();
    assert!(err.starts_with("safe: warning: "), "{err}");
    assert!(err.contains("sync"), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert_eq!(env.history(&["--all"]).len(), 2);
}

#[test]
fn what_a_crash_left_is_removed_and_nothing_else() {
    let env = TestEnv::new();
    env.run(&["log", "listen", "--note", "kept"]).ok();
    env.run(&["log", "date", "--private"]).ok();
    env.run(&["today"]).ok();
    // What a process killed between "create" and "rename" leaves: safe's
    // temporary files beside every file it writes.
    let torn = b"{\"v\":2,\"device\":";
    let left = [
        ".tmp-a1B2c3",
        "shared/.tmp-d4E5f6",
        "shared/log/.tmp-g7H8i9",
        "private/log/.tmp-j0K1l2",
    ];
    for rel in left {
        std::fs::write(env.path(rel), torn).unwrap();
    }
    // Files that are not safe's to remove, however they look.
    let mine = [
        "notes.txt",
        ".tmp-my-notes.txt",
        "shared/.tmp-x",
        "index/.tmp-x",
    ];
    for rel in mine {
        std::fs::write(env.path(rel), b"mine").unwrap();
    }

    env.run(&["log", "appreciation"]).ok();
    for rel in left {
        assert!(!env.path(rel).exists(), "{rel} is left");
    }
    for rel in mine {
        assert_eq!(std::fs::read(env.path(rel)).unwrap(), b"mine", "{rel}");
    }
    assert_eq!(env.history(&["--all"]).len(), 3);
}

/// The device key is written to a temporary file and renamed: one a crash
/// left behind holds a secret key, and must not stay.
#[test]
fn a_temporary_key_file_a_crash_left_is_removed() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let key = std::fs::read(env.path("keys/device.ed25519")).unwrap();
    std::fs::write(env.path("keys/.tmp-q1W2e3"), &key).unwrap();
    env.run(&["log", "appreciation"]).ok();
    assert!(!env.path("keys/.tmp-q1W2e3").exists());
    assert_eq!(std::fs::read(env.path("keys/device.ed25519")).unwrap(), key);
}

/// `count` lines of JSON to import, one day after another from 2015 on.
fn journal_lines(count: usize) -> String {
    let start = chrono::NaiveDate::from_ymd_opt(2015, 1, 1).unwrap();
    let mut text = String::new();
    for n in 0..count {
        let day = start + chrono::Days::new((n % 4000) as u64);
        let practice = ["appreciation", "check-in", "listen"][n % 3];
        text.push_str(&format!(
            "{{\"practice\":\"{practice}\",\"day\":\"{day}\"}}\n"
        ));
    }
    text
}

/// When a command is killed.
#[derive(Debug, Clone, Copy)]
enum Moment {
    /// As soon as a temporary file shows up in this directory of the data
    /// directory: in the middle of writing.
    Writing(&'static str),
    /// After this many milliseconds.
    After(u64),
}

/// Kill `child` with SIGKILL at `moment` (unless it ends first).
fn kill_at(env: &TestEnv, mut child: Child, moment: Moment) {
    let begun = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        let due = match moment {
            Moment::Writing(dir) => files_under(&env.path(dir))
                .iter()
                .any(|p| junk_name(&p.file_name().unwrap().to_string_lossy())),
            Moment::After(ms) => begun.elapsed() >= Duration::from_millis(ms),
        };
        if due {
            let _ = child.kill();
            child.wait().unwrap();
            return;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// A few fixed moments, where a command may be parsing, writing or done.
const DELAYS: [Moment; 5] = [
    Moment::After(5),
    Moment::After(20),
    Moment::After(50),
    Moment::After(100),
    Moment::After(200),
];

#[test]
fn a_killed_import_leaves_no_temporary_file_behind_the_next_command() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let file = env.home.path().join("big.jsonl");
    std::fs::write(&file, journal_lines(20_000)).unwrap();
    let file = file.to_str().unwrap();

    let mut moments = vec![Moment::Writing("shared/log")];
    moments.extend(DELAYS);
    for moment in moments {
        let child = env.spawn_quiet(&["import", file]);
        kill_at(&env, child, moment);
        let left = junk(&env);
        eprintln!(
            "import killed at {moment:?} left {} temporary files",
            left.len()
        );
        // The next command cleans up before it writes.
        env.run(&["log", "appreciation", "--again"]).ok();
        assert!(
            junk(&env).is_empty(),
            "{moment:?}: left {left:?}, still {:?}",
            junk(&env)
        );
        // The journal reads.
        assert!(!env.history(&["--all"]).is_empty());
    }
}

#[test]
fn a_killed_sync_leaves_no_temporary_file_behind_the_next_command() {
    let (alex, sam, _remote) = TestEnv::couple();
    let file = alex.home.path().join("big.jsonl");
    std::fs::write(&file, journal_lines(20_000)).unwrap();
    alex.run(&["import", file.to_str().unwrap()]).ok();
    alex.sync();
    let theirs = alex.history(&["--all"]).len();

    sam.run(&["log", "listen"]).ok();
    // While it copies Alex's objects, while it writes Alex's logs here,
    // and at fixed moments.
    let mut moments = vec![
        Moment::Writing("sync.git/objects"),
        Moment::Writing("shared/log"),
    ];
    moments.extend(DELAYS);
    for (round, moment) in moments.iter().enumerate() {
        sam.run(&[
            "log",
            "appreciation",
            "--again",
            "--note",
            &format!("round {round}"),
        ])
        .ok();
        let child = sam.spawn_quiet(&["sync"]);
        kill_at(&sam, child, *moment);
        let left = junk(&sam);
        eprintln!("sync killed at {moment:?} left {left:?}");
        sam.run(&["log", "check-in", "--again"]).ok();
        assert!(
            junk(&sam).is_empty(),
            "{moment:?}: left {left:?}, still {:?}",
            junk(&sam)
        );
        sam.run(&["today"]).ok();
    }
    // And sharing carries on where it stopped.
    sam.sync();
    alex.sync();
    let all = sam.history(&["--all", "--who", "all"]);
    assert_eq!(all.len(), theirs + 1 + 2 * moments.len());
    assert_eq!(alex.history(&["--all", "--who", "all"]).len(), all.len());
    assert!(junk(&sam).is_empty() && junk(&alex).is_empty());
}

/// A tmpfs of `size` mounted on the test's data directory, so that the
/// file system can be filled; unmounted on drop.
struct SmallDisk {
    at: PathBuf,
}

impl SmallDisk {
    /// `None`, with the reason printed, where mounting is not allowed.
    fn mount(env: &TestEnv, size: &str) -> Option<SmallDisk> {
        let at = env.data_dir();
        std::fs::create_dir_all(&at).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(&at)
            .output();
        match out {
            Ok(out) if out.status.success() => Some(SmallDisk { at }),
            Ok(out) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs here: {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount: {e}");
                None
            }
        }
    }

    /// Fill the file system, then free `pages` pages of 4 KiB.
    fn leave_free(&self, pages: u64) {
        let path = self.at.join("ballast");
        let mut ballast = std::fs::File::create(&path).unwrap();
        let (chunk, page) = (vec![0u8; 64 * 1024], vec![0u8; 4096]);
        while ballast.write(&chunk).is_ok_and(|n| n > 0) {}
        while ballast.write(&page).is_ok_and(|n| n > 0) {}
        let len = ballast.metadata().unwrap().len();
        ballast.set_len(len.saturating_sub(pages * 4096)).unwrap();
    }

    fn free_all(&self) {
        std::fs::remove_file(self.at.join("ballast")).unwrap();
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.at).status();
    }
}

/// Run `args` with 0, 1, 2… pages free until it succeeds: each failure
/// must leave the journal as it was, and the success must be whole. The
/// journal is read with the space back.
fn fill_and_retry(
    env: &TestEnv,
    disk: &SmallDisk,
    args: &[&str],
    saved: impl Fn(&TestEnv) -> bool,
) {
    for pages in 0..200 {
        let before = seen_with(|args| env.run(args));
        disk.leave_free(pages);
        let run = env.run(args);
        disk.free_all();
        let done = whole_or_absent(
            &run,
            &before,
            || seen_with(|args| env.run(args)),
            &["No space left", "disk is full"],
            || saved(env),
        );
        assert!(junk(env).is_empty(), "{args:?}: {:?}", junk(env));
        if done {
            // With no page free, a line may still fit in the last page of
            // its log file; then the index, which found no room, must have
            // said so (a warning after the confirmation).
            assert!(
                pages > 0 || run.stderr().contains("the index"),
                "{args:?} needs no space: the test proves nothing"
            );
            eprintln!("{:?} saved with {pages} pages free", &args[..2]);
            return;
        }
    }
    panic!("{args:?} never succeeded");
}

#[test]
fn a_full_disk_leaves_each_change_whole_or_absent() {
    let env = TestEnv::new();
    let Some(disk) = SmallDisk::mount(&env, "1m") else {
        return;
    };
    // A private month much larger than the shared one, so that the note
    // of a log needs more room than its entry.
    let long = "a long private thought, ".repeat(12);
    let private = format!(
        "{{\"practice\":\"date\",\"day\":\"2026-11-01\",\"private\":true,\"note\":\"{long}\"}}\n"
    )
    .repeat(80);
    let file = env.home.path().join("private.jsonl");
    std::fs::write(&file, private).unwrap();
    env.run(&["import", file.to_str().unwrap()]).ok();
    env.run(&["log", "listen"]).ok();

    // Near the note limit: its line is longer than a page, so it never
    // fits in the room left in the last page of a log file, and needs
    // space even when the index (which then is only a warning) gets none.
    let note = "said over breakfast, ".repeat(190);
    let note_kept = note.clone();
    fill_and_retry(
        &env,
        &disk,
        &["log", "appreciation", "--note", &note],
        move |env| {
            env.history(&["--all"])
                .iter()
                .any(|e: &Value| e["note"] == note_kept.as_str())
        },
    );
    fill_and_retry(
        &env,
        &disk,
        &["practice", "goal", "listen", "3/week"],
        |env| goal_of(env, "listen") == "3/week",
    );
    fill_and_retry(&env, &disk, &["init", "--name", "Robin"], |env| {
        env.my_name() == "Robin"
    });
    let file = env.home.path().join("many.jsonl");
    std::fs::write(&file, journal_lines(300)).unwrap();
    let before = env.history(&["--all"]).len();
    fill_and_retry(&env, &disk, &["import", file.to_str().unwrap()], |env| {
        env.history(&["--all"]).len() == before + 300
    });
}

/// docs/protocol.md "Appending": a crash in the middle of a batch leaves
/// complete lines after the last signed one; readers do not trust them, and
/// the next change cuts them away and goes on.
#[test]
fn a_batch_cut_short_by_a_crash_is_cut_away_by_the_next_change() {
    let env = TestEnv::new();
    env.run(&["log", "listen"]).ok();
    let lines = "{\"practice\":\"listen\",\"day\":\"2026-11-02\"}\n\
                 {\"practice\":\"listen\",\"day\":\"2026-11-03\"}\n\
                 {\"practice\":\"listen\",\"day\":\"2026-11-04\"}\n";
    env.run_stdin(&["import", "-"], lines).ok();
    // What a crash before the import's last (signed) line leaves.
    let segment = env.segments("shared/log").pop().unwrap();
    let text = std::fs::read_to_string(&segment).unwrap();
    let cut = &text[..text.trim_end().rfind('\n').unwrap() + 1];
    std::fs::write(&segment, cut).unwrap();
    assert_eq!(env.journal().len(), 1, "the cut batch is not trusted");

    env.run(&["log", "check-in"]).ok();
    env.run(&["log", "apology"]).ok();
    let practices: Vec<String> = env
        .journal()
        .iter()
        .map(|e| e["practice"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(practices, ["listen", "check-in", "apology"]);
}
