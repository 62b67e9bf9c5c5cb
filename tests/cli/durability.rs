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
use tempfile::TempDir;

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

/// My name as config.json and as people.json have it.
fn names(env: &TestEnv) -> (String, String) {
    let config = env.read_json("config.json");
    let people = env.read_json("shared/people.json");
    let mine = people["people"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == config["id"])
        .expect("I am in people.json");
    (
        config["name"].as_str().unwrap().to_string(),
        mine["name"].as_str().unwrap().to_string(),
    )
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

/// Either the change is all there (`saved` says so) and the command
/// succeeded, or nothing of it is and the command failed with `because` in
/// its message and a hint: never half of it, never a saved change reported
/// as an error.
#[track_caller]
fn whole_or_absent(
    env: &TestEnv,
    run: &Run,
    before: &[(PathBuf, Vec<u8>)],
    because: &str,
    saved: impl Fn(&TestEnv) -> bool,
) -> bool {
    let (stdout, stderr) = (run.stdout(), run.stderr());
    match run.code() {
        0 => {
            assert!(
                saved(env),
                "exit 0 but the change is not all there\nstdout:\n{stdout}\nstderr:\n{stderr}"
            );
            assert!(!stderr.contains("safe: error"), "{stderr}");
            true
        }
        1 => {
            assert!(
                env.snapshot() == before,
                "the command failed but changed the journal\nstderr:\n{stderr}"
            );
            assert!(stderr.starts_with("safe: error: "), "{stderr}");
            assert!(stderr.contains(because), "{stderr}");
            assert!(stderr.contains("\nhint: "), "{stderr}");
            false
        }
        code => panic!("exit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}"),
    }
}

#[test]
fn a_read_only_cache_is_a_warning_after_the_confirmation() {
    let env = TestEnv::new();
    let Some(nobody) = Nobody::new(&env) else {
        return;
    };
    nobody
        .run(&["log", "appreciation", "--date", "yesterday"])
        .ok();
    nobody.run(&["today"]).ok();
    let cache = env.path("cache");
    let cached = files_under(&cache);
    assert!(!cached.is_empty(), "`safe today` keeps a day cache");
    for file in &cached {
        set_mode(file, 0o400);
    }
    set_mode(&cache, 0o500);

    let run = nobody.run(&["log", "appreciation", "--note", "still saved"]);
    let out = run.ok();
    assert!(out.starts_with("Logged appreciation today"), "{out}");
    let err = run.stderr();
    assert!(err.starts_with("safe: warning: "), "{err}");
    assert!(err.contains("cache"), "{err}");
    assert!(!err.contains("safe: error"), "{err}");
    // Saved, note and all.
    let mine = env.history(&["--all"]);
    assert_eq!(mine.len(), 2);
    assert!(mine.iter().any(|e| e["note"] == "still saved"));
    // Reading needs no cache: no warning there.
    let today = nobody.run(&["today"]);
    today.ok();
    assert_eq!(today.stderr(), "");
}

#[test]
fn a_read_only_directory_leaves_each_change_whole_or_absent() {
    let env = TestEnv::new();
    let Some(nobody) = Nobody::new(&env) else {
        return;
    };
    nobody.run(&["log", "listen", "--note", "first"]).ok();
    nobody
        .run(&["practice", "goal", "appreciation", "daily"])
        .ok();
    let entries = |env: &TestEnv| env.history(&["--all"]).len();
    let note_kept =
        |env: &TestEnv, note: &str| env.history(&["--all"]).iter().any(|e| e["note"] == note);

    // (read-only directory, command, whether it is all there)
    type Saved = Box<dyn Fn(&TestEnv) -> bool>;
    let cases: Vec<(&str, Vec<&str>, Saved)> = vec![
        (
            "",
            vec!["init", "--name", "Robin"],
            Box::new(|env| names(env) == ("Robin".into(), "Robin".into())),
        ),
        (
            "shared",
            vec!["init", "--name", "Kim"],
            Box::new(|env| names(env) == ("Kim".into(), "Kim".into())),
        ),
        (
            "",
            vec!["practice", "goal", "listen", "3/week"],
            Box::new(|env| goal_of(env, "listen") == "3/week"),
        ),
        (
            "",
            vec!["log", "appreciation", "--again", "--note", "root"],
            Box::new(move |env| note_kept(env, "root")),
        ),
        // The entry goes to shared/, its unshared note to private/.
        (
            "private/log",
            vec!["log", "listen", "--again", "--note", "secret"],
            Box::new(move |env| note_kept(env, "secret")),
        ),
        (
            "shared/log",
            vec!["log", "listen", "--again", "--note", "shared side"],
            Box::new(move |env| note_kept(env, "shared side")),
        ),
    ];
    let mut refused = 0;
    for (dir, args, saved) in cases {
        let count = entries(&env);
        let before = env.snapshot();
        let path = env.path(dir);
        set_mode(&path, 0o500);
        let run = nobody.run(&args);
        set_mode(&path, 0o700);
        let kept = whole_or_absent(&env, &run, &before, "Permission denied", saved);
        refused += usize::from(!kept);
        eprintln!("{args:?} with {dir:?} read-only: saved {kept}");
        let (config, people) = names(&env);
        assert_eq!(
            config, people,
            "{args:?}: config.json and people.json agree"
        );
        let added = usize::from(kept && args[0] == "log");
        assert_eq!(entries(&env), count + added, "{args:?}");
    }
    // Whole-or-absent holds trivially if nothing is ever refused: some
    // case must have met the read-only directory.
    assert!(refused > 0, "no case was refused: the test proves nothing");
    // With the permissions back, everything works again.
    nobody
        .run(&["log", "listen", "--again", "--note", "after"])
        .ok();
    nobody.run(&["init", "--name", "Robin"]).ok();
    assert_eq!(names(&env), ("Robin".into(), "Robin".into()));
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

/// A bare repository for the sync tests, made with plain git.
fn bare_remote() -> (TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("git")
        .args([
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "us.git",
        ])
        .current_dir(dir.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let url = dir.path().join("us.git").display().to_string();
    (dir, url)
}

#[test]
fn what_a_crash_left_is_removed_and_nothing_else() {
    let env = TestEnv::new();
    let (_remote, url) = bare_remote();
    env.run(&["log", "listen", "--note", "kept"]).ok();
    env.run(&["log", "date", "--private"]).ok();
    env.run(&["sync", "--remote", &url]).ok();
    env.run(&["today"]).ok();
    // What a process killed between "create" and "rename" leaves: safe's
    // temporary files beside every file it writes, and libgit2's objects and
    // ref locks in sync.git (a stale lock blocks every later sync).
    let torn = b"{\"schema\":1,\"entries\":[{\"id\":";
    let left = [
        ".tmp-a1B2c3",
        "shared/.tmp-d4E5f6",
        "shared/log/.tmp-g7H8i9",
        "private/log/.tmp-j0K1l2",
        "cache/.tmp-m3N4o5",
        "sync.git/.tmp-p6Q7r8",
        "sync.git/objects/tmp_object_git2_0123456789abcdef",
        "sync.git/objects/pack/pack_git2_fedcba9876543210",
        "sync.git/refs/heads/main.lock",
        "sync.git/refs/remotes/origin/main.lock",
    ];
    for rel in left {
        std::fs::write(env.path(rel), torn).unwrap();
    }
    // Files that are not safe's to remove, however they look.
    let mine = [
        "notes.txt",
        ".tmp-my-notes.txt",
        "shared/log/README",
        "cache/.tmp-x",
    ];
    for rel in mine {
        std::fs::write(env.path(rel), b"mine").unwrap();
    }

    env.run(&["log", "appreciation"]).ok();
    env.run(&["sync"]).ok();
    for rel in left {
        assert!(!env.path(rel).exists(), "{rel} is left");
    }
    for rel in mine {
        assert_eq!(std::fs::read(env.path(rel)).unwrap(), b"mine", "{rel}");
    }
    assert_eq!(env.history(&["--all"]).len(), 3);
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
        // Every month reads.
        assert!(!env.history(&["--all"]).is_empty());
    }
}

#[test]
fn a_killed_sync_leaves_no_temporary_file_behind_the_next_command() {
    let (_remote, url) = bare_remote();
    let alex = TestEnv::new();
    let file = alex.home.path().join("big.jsonl");
    std::fs::write(&file, journal_lines(20_000)).unwrap();
    alex.run(&["import", file.to_str().unwrap()]).ok();
    alex.run(&["sync", "--remote", &url]).ok();
    let theirs = alex.history(&["--all"]).len();

    let sam = TestEnv::named("Sam");
    sam.run(&["log", "listen"]).ok();
    // While it copies Alex's objects, while it writes Alex's months here,
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
        let child = sam.spawn_quiet(&["sync", "--remote", &url]);
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
    sam.run(&["sync", "--remote", &url]).ok();
    alex.run(&["sync"]).ok();
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
/// must leave the journal as it was, and the success must be whole.
fn fill_and_retry(
    env: &TestEnv,
    disk: &SmallDisk,
    args: &[&str],
    saved: impl Fn(&TestEnv) -> bool,
) {
    for pages in 0..200 {
        disk.leave_free(pages);
        let before = env.snapshot();
        let run = env.run(args);
        let done = whole_or_absent(env, &run, &before, "No space left", &saved);
        assert!(junk(env).is_empty(), "{args:?}: {:?}", junk(env));
        // Never a torn file: the journal reads as it is.
        env.history(&["--all"]);
        if done {
            assert!(
                pages > 0,
                "{args:?} needs no space: the test proves nothing"
            );
            eprintln!("{:?} saved with {pages} pages free", &args[..2]);
            disk.free_all();
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

    let note = "said over breakfast, ".repeat(15);
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
        names(env) == ("Robin".into(), "Robin".into())
    });
    let file = env.home.path().join("many.jsonl");
    std::fs::write(&file, journal_lines(300)).unwrap();
    let before = env.history(&["--all"]).len();
    fill_and_retry(&env, &disk, &["import", file.to_str().unwrap()], |env| {
        env.history(&["--all"]).len() == before + 300
    });
}
