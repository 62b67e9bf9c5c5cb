//! Sync between partners through real git remotes: bare repositories in
//! temporary directories (reached by path, `file://` and `git://`), a
//! `git daemon` whose hook moves the branch mid-push, a server that refuses
//! every login, and ports where nothing listens. No test leaves loopback.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tempfile::TempDir;

use crate::env::{TestEnv, contains_bytes, files_under};

const NOV: &str = "shared/log/2026-11.json";
const LATER: &str = "2026-11-27T21:00:00+01:00";

/// A bare repository that both partners sync through.
pub(crate) struct Remote {
    dir: TempDir,
}

impl Remote {
    pub(crate) fn new() -> Self {
        let remote = Remote {
            dir: tempfile::tempdir().unwrap(),
        };
        git(
            remote.dir.path(),
            &[
                "init",
                "--quiet",
                "--bare",
                "--initial-branch=main",
                "remote.git",
            ],
        );
        remote
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    pub(crate) fn url(&self) -> String {
        self.path().display().to_string()
    }

    fn git(&self, args: &[&str]) -> String {
        git(&self.path(), args)
    }

    /// The commit `main` points at, if any.
    pub(crate) fn main(&self) -> Option<String> {
        let out = git_output(
            &self.path(),
            &["rev-parse", "--verify", "--quiet", "refs/heads/main"],
        );
        out.status
            .success()
            .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
    }

    /// The content of every object, loose or packed.
    pub(crate) fn all_objects(&self) -> Vec<u8> {
        all_objects(&self.path())
    }

    /// Commit `files` (path, bytes) on top of `main` with plain git, as a
    /// broken or hostile partner could.
    pub(crate) fn commit_files(&self, files: &[(&str, &[u8])]) {
        let work = tempfile::tempdir().unwrap();
        let checkout = work.path().join("w");
        git(work.path(), &["clone", "--quiet", &self.url(), "w"]);
        for (rel, bytes) in files {
            let path = checkout.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
        git(&checkout, &["add", "--all"]);
        git(
            &checkout,
            &[
                "-c",
                "user.name=x",
                "-c",
                "user.email=x@example.invalid",
                "commit",
                "--quiet",
                "-m",
                "by hand",
            ],
        );
        git(&checkout, &["push", "--quiet", "origin", "HEAD:main"]);
    }
}

fn git_output(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs")
}

#[track_caller]
fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn all_objects(repo: &Path) -> Vec<u8> {
    let out = git_output(repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(out.status.success());
    out.stdout
}

/// Every file of `shared/`, by its path inside it, with its bytes.
fn shared_files(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
    let root = env.path("shared");
    let mut out: Vec<(String, Vec<u8>)> = files_under(&root)
        .into_iter()
        .map(|p| {
            (
                p.strip_prefix(&root).unwrap().display().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(item.file_name());
        if item.path().is_dir() {
            copy_dir(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), target).unwrap();
        }
    }
}

/// A second machine of the same person: a copy of their data directory,
/// with its own clock.
fn second_machine(env: &TestEnv, now: &str) -> TestEnv {
    let other = TestEnv::named(&env.name).at(now);
    copy_dir(&env.data_dir(), &other.data_dir());
    other
}

/// `safe history --all --json`.
fn history(env: &TestEnv, who: &str) -> Vec<Value> {
    env.history(&["--all", "--who", who])
}

/// The ids of the live entries of November's shared file, sorted.
fn ids(env: &TestEnv) -> Vec<String> {
    let mut ids: Vec<String> = env
        .entries(NOV)
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

/// Log an entry and return its full id.
pub(crate) fn log(env: &TestEnv, args: &[&str]) -> String {
    let mut all = vec!["log"];
    all.extend_from_slice(args);
    env.run(&all).ok();
    history(env, "me")
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .max()
        .unwrap()
}

fn sync(env: &TestEnv) -> String {
    env.run(&["sync"]).ok()
}

pub(crate) fn connect(env: &TestEnv, remote: &str) -> String {
    env.run(&["sync", "--remote", remote]).ok()
}

/// A loopback port where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Set the remote in config.json without syncing.
pub(crate) fn set_remote(env: &TestEnv, url: &str) {
    env.run(&["config", "set", "remote", url]).ok();
}

#[test]
fn partners_who_log_offline_converge_whichever_syncs_first() {
    for alex_first in [true, false] {
        let remote = Remote::new();
        let alex = TestEnv::named("Alex");
        let sam = TestEnv::named("Sam");
        log(&alex, &["appreciation"]);
        log(&alex, &["repair", "--date", "yesterday", "--took", "45m"]);
        log(&sam, &["check-in"]);
        log(&sam, &["listen", "--date", "2026-11-02"]);
        set_remote(&alex, &remote.url());
        set_remote(&sam, &remote.url());
        let order = if alex_first {
            [&alex, &sam]
        } else {
            [&sam, &alex]
        };
        for _ in 0..2 {
            for env in order {
                sync(env);
            }
        }
        assert_eq!(
            shared_files(&alex),
            shared_files(&sam),
            "alex first: {alex_first}"
        );
        assert_eq!(ids(&alex).len(), 4);
        assert_eq!(sync(&alex).trim(), "Already in sync.");
        assert_eq!(sync(&sam).trim(), "Already in sync.");

        // Each sees the other's entries under the other's name.
        let theirs = history(&alex, "partner");
        assert_eq!(theirs.len(), 2);
        assert!(theirs.iter().all(|e| e["name"] == "Sam"));
        let practices: Vec<&str> = theirs
            .iter()
            .map(|e| e["practice"].as_str().unwrap())
            .collect();
        assert_eq!(practices, ["listen", "check-in"]);
        let table = alex.run(&["history", "--all", "--who", "partner"]).ok();
        assert!(
            table.contains("Sam") && table.contains("check-in"),
            "{table}"
        );
        assert_eq!(history(&sam, "partner").len(), 2);
    }
}

#[test]
fn the_report_names_the_partner_and_counts_entries() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    log(&alex, &["appreciation"]);
    let first = connect(&alex, &remote.url());
    assert!(
        first.starts_with(&format!("Synced with {}: sent 1 entry.", remote.url())),
        "{first}"
    );
    assert!(
        first.contains("Your partner joins with `safe sync --remote"),
        "{first}"
    );
    for practice in ["check-in", "listen", "repair"] {
        log(&sam, &[practice]);
    }
    let out = connect(&sam, &remote.url());
    assert_eq!(
        out.trim(),
        format!(
            "Synced with {}: received 1 entry from Alex, sent 3.",
            remote.url()
        )
    );
    let out = sync(&alex);
    assert_eq!(
        out.trim(),
        format!("Synced with {}: received 3 entries from Sam.", remote.url())
    );
}

#[test]
fn a_relative_remote_path_is_saved_absolute() {
    let alex = TestEnv::named("Alex");
    git(
        alex.home.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "us.git",
        ],
    );
    log(&alex, &["appreciation"]);
    connect(&alex, "us.git");
    let saved = alex.read_json("config.json")["remote"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(Path::new(&saved), alex.home.path().join("us.git"));
}

#[test]
fn a_concurrent_edit_ends_with_the_higher_revision_everywhere() {
    for laptop_edits_later in [true, false] {
        let remote = Remote::new();
        let desktop = TestEnv::named("Alex");
        let sam = TestEnv::named("Sam");
        desktop.run(&["config", "set", "share_notes", "true"]).ok();
        let id = log(&desktop, &["appreciation", "--note", "first"]);
        connect(&desktop, &remote.url());
        connect(&sam, &remote.url());

        // The laptop is a copy of the desktop's data: same person, same entry.
        let (early, late) = ("2026-11-27T20:30:00+01:00", LATER);
        let laptop = second_machine(&desktop, if laptop_edits_later { late } else { early });
        let mut desktop = desktop;
        desktop.set_now(if laptop_edits_later { early } else { late });
        desktop
            .run(&["edit", &id, "--note", "from the desktop"])
            .ok();
        laptop.run(&["edit", &id, "--note", "from the laptop"]).ok();

        for env in [&laptop, &desktop, &sam, &laptop, &desktop] {
            sync(env);
        }
        let winner = if laptop_edits_later {
            "from the laptop"
        } else {
            "from the desktop"
        };
        for env in [&desktop, &laptop, &sam] {
            let entries = env.entries(NOV);
            assert_eq!(entries.len(), 1);
            assert_eq!(
                entries[0]["note"], winner,
                "laptop later: {laptop_edits_later}"
            );
        }
        assert_eq!(shared_files(&desktop), shared_files(&sam));
        assert_eq!(shared_files(&laptop), shared_files(&sam));
    }
}

#[test]
fn a_delete_beats_an_edit_and_never_comes_back() {
    for delete_first in [true, false] {
        let remote = Remote::new();
        let desktop = TestEnv::named("Alex");
        let sam = TestEnv::named("Sam");
        let id = log(
            &desktop,
            &["appreciation", "--note", "kept", "--share-note"],
        );
        let other = log(&desktop, &["listen"]);
        connect(&desktop, &remote.url());
        connect(&sam, &remote.url());

        // The edit is the later change, yet the delete still wins.
        let laptop = second_machine(&desktop, LATER);
        desktop.run(&["rm", &id]).ok();
        laptop
            .run(&["edit", &id, "--note", "edited after the delete"])
            .ok();
        let order = if delete_first {
            [&desktop, &laptop, &sam]
        } else {
            [&laptop, &desktop, &sam]
        };
        for _ in 0..2 {
            for env in order {
                sync(env);
            }
        }
        for env in [&desktop, &laptop, &sam] {
            assert_eq!(
                ids(env),
                std::slice::from_ref(&other),
                "delete first: {delete_first}"
            );
            let raw = env.read_json(NOV);
            let gone = raw["entries"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == id.as_str())
                .unwrap();
            assert_eq!(gone["deleted"], true);
            assert!(
                gone.get("note").is_none(),
                "a tombstone keeps no note: {gone}"
            );
        }
        assert_eq!(shared_files(&desktop), shared_files(&laptop));
        assert_eq!(shared_files(&desktop), shared_files(&sam));
        let current = remote.git(&["show", "main:log/2026-11.json"]);
        assert!(!current.contains("edited after the delete"), "{current}");
    }
}

#[test]
fn unrelated_histories_merge() {
    // Each started alone, with a remote of their own.
    let (alex_remote, sam_remote) = (Remote::new(), Remote::new());
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    log(&alex, &["appreciation"]);
    log(&sam, &["check-in"]);
    connect(&alex, &alex_remote.url());
    connect(&sam, &sam_remote.url());

    let out = connect(&sam, &alex_remote.url());
    assert!(out.contains("received 1 entry from Alex, sent 1"), "{out}");
    sync(&alex);
    assert_eq!(shared_files(&alex), shared_files(&sam));
    assert_eq!(ids(&alex).len(), 2);
    // The merge commit joins both histories.
    let parents = alex_remote.git(&["log", "-1", "--format=%P", "main"]);
    assert_eq!(parents.split_whitespace().count(), 2, "{parents}");
}

#[test]
fn a_push_race_is_retried_and_ends_consistent() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    log(&alex, &["appreciation"]);
    connect(&alex, &remote.url());

    // Sam's next push, prepared on a copy of the remote and parked in it.
    let side = TempDir::new().unwrap();
    copy_dir(&remote.path(), &side.path().join("remote.git"));
    log(&sam, &["check-in"]);
    connect(&sam, &side.path().join("remote.git").display().to_string());
    remote.git(&[
        "fetch",
        "--quiet",
        &side.path().join("remote.git").display().to_string(),
        "main:refs/race/next",
    ]);

    // The `update` hook runs after Alex's objects arrive and before `main`
    // moves: it lands Sam's commit there first, so Alex's update is refused.
    let hook = remote.path().join("hooks/update");
    std::fs::write(
        &hook,
        "#!/bin/sh\n\
         if git rev-parse -q --verify refs/race/next >/dev/null; then\n\
           git update-ref refs/heads/main refs/race/next\n\
           git update-ref -d refs/race/next\n\
         fi\n",
    )
    .unwrap();
    make_executable(&hook);
    let daemon = Daemon::start(remote.dir.path());

    log(&alex, &["listen"]);
    let out = connect(
        &alex,
        &format!("git://127.0.0.1:{}/remote.git", daemon.port),
    );
    assert!(
        remote.git(&["for-each-ref", "refs/race"]).is_empty(),
        "the hook moved main mid-push"
    );
    assert!(out.contains("received 1 entry from Sam"), "{out}");

    connect(&sam, &remote.url());
    sync(&alex);
    assert_eq!(ids(&alex).len(), 3);
    assert_eq!(shared_files(&alex), shared_files(&sam));
    assert_eq!(remote.main(), Some(alex_main(&alex)));
}

fn alex_main(env: &TestEnv) -> String {
    git(&env.path("sync.git"), &["rev-parse", "refs/heads/main"])
        .trim()
        .to_string()
}

fn make_executable(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// `git daemon` serving a directory on a loopback port, pushes allowed.
struct Daemon {
    child: Child,
    port: u16,
}

impl Daemon {
    fn start(base: &Path) -> Self {
        let port = closed_port();
        // `git-daemon` itself: `git daemon` would run it as a child process
        // and leave it behind when killed.
        let exec_path = git(base, &["--exec-path"]);
        let child = Command::new(Path::new(exec_path.trim()).join("git-daemon"))
            .args([
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                "--export-all",
            ])
            .arg("--enable=receive-pack")
            .arg(format!("--base-path={}", base.display()))
            .arg(base)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .stderr(Stdio::null())
            .spawn()
            .expect("git daemon starts");
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "git daemon did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Daemon { child, port }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn partners_syncing_at_the_same_moment_end_consistent() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    set_remote(&alex, &remote.url());
    set_remote(&sam, &remote.url());
    for round in 0..4 {
        log(
            &alex,
            &[
                "appreciation",
                "--date",
                &format!("2026-11-{:02}", round + 1),
            ],
        );
        log(
            &sam,
            &["check-in", "--date", &format!("2026-11-{:02}", round + 1)],
        );
        // Two processes at once, as two partners pressing enter together.
        std::thread::scope(|scope| {
            let runs: Vec<_> = [&alex, &sam]
                .map(|env| scope.spawn(move || env.run(&["sync"])))
                .into();
            for run in runs {
                run.join().unwrap().ok();
            }
        });
    }
    for env in [&alex, &sam, &alex] {
        sync(env);
    }
    assert_eq!(ids(&alex).len(), 8);
    assert_eq!(shared_files(&alex), shared_files(&sam));
}

#[test]
fn without_a_remote_sync_says_how_to_set_one() {
    let alex = TestEnv::named("Alex");
    let err = alex.run(&["sync"]).fails(2);
    assert!(err.contains("no sync remote is set"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("safe sync --remote <URL>"),
        "{err}"
    );
}

#[test]
fn an_unreachable_remote_fails_cleanly_and_a_later_sync_carries_on() {
    let missing = TempDir::new().unwrap();
    let missing_path = missing.path().join("not-yet.git");
    let cases = [
        (
            missing_path.display().to_string(),
            "there is no git repository at",
        ),
        (
            format!("file://{}", missing_path.display()),
            "there is no git repository at",
        ),
        (
            format!("ssh://git@127.0.0.1:{}/us.git", closed_port()),
            "could not reach",
        ),
        (
            format!("https://127.0.0.1:{}/us.git", closed_port()),
            "could not reach",
        ),
    ];
    for (url, expected) in cases {
        let alex = TestEnv::named("Alex");
        log(&alex, &["appreciation", "--note", "mine"]);
        log(&alex, &["check-in", "--private"]);
        set_remote(&alex, &url);
        let before = alex.snapshot();
        let err = alex.run(&["sync"]).fails(1);
        assert!(err.contains(expected), "{url}: {err}");
        assert!(
            err.contains("hint:") && err.contains("next `safe sync`"),
            "{url}: {err}"
        );
        assert!(alex.snapshot() == before, "{url}: local data changed");
    }

    // Once the remote exists, the same sync goes through.
    let alex = TestEnv::named("Alex");
    log(&alex, &["appreciation"]);
    set_remote(&alex, &missing_path.display().to_string());
    alex.run(&["sync"]).fails(1);
    git(
        missing.path(),
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "not-yet.git",
        ],
    );
    assert!(sync(&alex).contains("sent 1 entry"));
    assert!(
        git_output(&missing_path, &["rev-parse", "--verify", "main"])
            .status
            .success()
    );
}

/// An HTTP server on loopback that refuses every request for want of a login.
fn refusing_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = Vec::new();
            let mut buf = [0; 1024];
            while !contains_bytes(&request, "\r\n\r\n") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(
                b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"us\"\r\n\
                  Content-Length: 0\r\nConnection: close\r\n\r\n",
            );
        }
    });
    port
}

#[test]
fn a_refused_login_fails_cleanly_after_trying_each_method_once() {
    let port = refusing_server();
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    log(&alex, &["appreciation"]);
    set_remote(&alex, &format!("http://sam:secret@127.0.0.1:{port}/us.git"));
    let before = alex.snapshot();
    let started = Instant::now();
    let err = alex.run(&["sync"]).fails(1);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the credential callback must not loop"
    );
    assert!(
        err.contains("could not log in to http://sam:***@127.0.0.1"),
        "{err}"
    );
    assert!(!err.contains("secret"), "{err}");
    assert!(
        err.contains("hint:") && err.contains("credential helper"),
        "{err}"
    );
    assert!(alex.snapshot() == before);

    // A good remote works from the same state.
    connect(&alex, &remote.url());
    assert!(remote.main().is_some());
}

#[test]
fn bad_remote_data_is_refused_before_anything_changes() {
    let padded = {
        let mut text = b"{\"schema\": 1, \"entries\": [".to_vec();
        text.resize(text.len() + 65 * 1024 * 1024, b' ');
        text.extend_from_slice(b"]}\n");
        text
    };
    let cases: [(&str, &[u8], &str); 5] = [
        (
            "log/2026-11.json",
            b"{\"schema\": 1, \"entries\": [{\"id\": 5}]}",
            "remote:shared/log/2026-11.json is not valid safe data",
        ),
        (
            "log/2026-10.json",
            b"{\"schema\": 1, \"entries\": [",
            "remote:shared/log/2026-10.json is not valid safe data (line 1",
        ),
        (
            "people.json",
            b"{\"schema\": 2, \"people\": []}",
            "remote:shared/people.json uses data format 2",
        ),
        (
            "log/2026-11.json",
            &padded,
            "remote:shared/log/2026-11.json is 65 MiB",
        ),
        (
            "README.md",
            b"# our journal\n",
            "is not a safe journal: it holds `README.md`",
        ),
    ];
    for (rel, bytes, expected) in cases {
        let remote = Remote::new();
        let sam = TestEnv::named("Sam");
        log(&sam, &["check-in"]);
        connect(&sam, &remote.url());
        remote.commit_files(&[(rel, bytes)]);
        let tampered = remote.main();

        let alex = TestEnv::named("Alex");
        log(&alex, &["appreciation"]);
        set_remote(&alex, &remote.url());
        let before = alex.snapshot();
        let err = alex.run(&["sync"]).fails(1);
        assert!(err.contains(expected), "{rel}: {err}");
        assert!(err.contains("hint:"), "{err}");
        assert!(alex.snapshot() == before, "{rel}: local data changed");
        assert_eq!(remote.main(), tampered, "{rel}: nothing may be pushed");
        if expected.contains("data format") {
            assert!(err.contains("upgrade safe"), "{err}");
        }
    }
}

#[test]
fn private_entries_and_unshared_notes_never_reach_the_remote() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    let private = log(
        &alex,
        &["repair", "--private", "--note", "MARKER-private-entry"],
    );
    let with_note = log(&alex, &["appreciation", "--note", "MARKER-unshared-note"]);
    log(
        &alex,
        &["listen", "--note", "shared-on-purpose", "--share-note"],
    );
    connect(&alex, &remote.url());
    alex.run(&["edit", &with_note, "--note", "MARKER-edited-note"])
        .ok();
    sync(&alex);
    connect(&sam, &remote.url());
    sync(&alex);
    // Objects as a server would keep them too: packed.
    remote.git(&["gc", "--quiet"]);

    for objects in [
        remote.all_objects(),
        all_objects(&alex.path("sync.git")),
        all_objects(&sam.path("sync.git")),
    ] {
        assert!(
            contains_bytes(&objects, "shared-on-purpose"),
            "the scan sees shared notes"
        );
        for secret in [
            "MARKER-private-entry",
            "MARKER-unshared-note",
            "MARKER-edited-note",
            &private[..],
        ] {
            assert!(!contains_bytes(&objects, secret), "{secret} reached git");
        }
    }
    // The partner sees the entry without its note, and never the private one.
    let seen = history(&sam, "partner");
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|e| e["id"] != private.as_str()));
    assert!(
        seen.iter()
            .any(|e| e["id"] == with_note.as_str() && e["note"].is_null())
    );
}

#[test]
fn a_partners_escape_sequences_print_harmlessly() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    let note = "hi \u{1b}]0;pwned\u{7}\u{1b}[31mred\u{1b}[0m \u{1b}[2J\rgone";
    log(&sam, &["appreciation", "--note", note, "--share-note"]);
    connect(&sam, &remote.url());

    let out = connect(&alex, &remote.url());
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("received 1 entry from Sam"), "{out:?}");
    let table = alex.run(&["history", "--who", "partner"]).ok();
    assert!(table.contains("hi") && table.contains("red"), "{table:?}");
    for c in ['\u{1b}', '\u{7}', '\r'] {
        assert!(!table.contains(c), "{table:?}");
    }
}

#[test]
fn a_plain_clone_of_the_remote_holds_valid_json() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    log(&alex, &["appreciation"]);
    log(&alex, &["date", "--date", "2026-10-30"]);
    alex.run(&["practice", "add", "read-aloud", "--goal", "2/week"])
        .ok();
    log(&sam, &["check-in"]);
    connect(&alex, &remote.url());
    connect(&sam, &remote.url());

    let work = TempDir::new().unwrap();
    git(work.path(), &["clone", "--quiet", &remote.url(), "journal"]);
    let checkout = work.path().join("journal");
    let mut names: Vec<String> = files_under(&checkout)
        .into_iter()
        .filter(|p| !p.starts_with(checkout.join(".git")))
        .map(|p| p.strip_prefix(&checkout).unwrap().display().to_string())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "log/2026-10.json",
            "log/2026-11.json",
            "people.json",
            "practices.json"
        ]
    );
    for name in &names {
        let doc: Value =
            serde_json::from_slice(&std::fs::read(checkout.join(name)).unwrap()).unwrap();
        assert_eq!(doc["schema"], 1, "{name}");
        assert_eq!(
            std::fs::read(checkout.join(name)).unwrap(),
            std::fs::read(sam.path(&format!("shared/{name}"))).unwrap()
        );
    }
    let nov: Value =
        serde_json::from_slice(&std::fs::read(checkout.join("log/2026-11.json")).unwrap()).unwrap();
    assert_eq!(nov["entries"].as_array().unwrap().len(), 2);
}

#[test]
fn status_needs_no_network() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    log(&alex, &["appreciation"]);
    log(&alex, &["check-in"]);
    log(&alex, &["listen", "--private"]);

    // An unreachable remote: status answers anyway, from what it knows.
    let offline = format!("ssh://git@127.0.0.1:{}/us.git", closed_port());
    set_remote(&alex, &offline);
    let out = alex.run(&["sync", "--status"]).ok();
    assert!(out.contains(&format!("Remote: {offline}")), "{out}");
    assert!(out.contains("Last sync: never"), "{out}");
    assert!(out.contains("Not yet shared: 2 entries."), "{out}");
    assert!(
        alex.run(&["sync", "--status", "--fetch"])
            .fails(1)
            .contains("could not reach")
    );

    connect(&alex, &remote.url());
    let out = alex.run(&["sync", "--status"]).ok();
    assert!(out.contains("Last sync: 2026-11-27 20:00 +01:00"), "{out}");
    assert!(out.contains("Nothing waits to be shared."), "{out}");
    log(&alex, &["repair"]);
    assert!(
        alex.run(&["sync", "--status"])
            .ok()
            .contains("Not yet shared: 1 entry.")
    );

    log(&sam, &["check-in"]);
    connect(&sam, &remote.url());
    let stale = alex.run(&["sync", "--status"]).ok();
    assert!(
        stale.contains("Nothing new from the remote (as of the last sync"),
        "{stale}"
    );
    let fresh = alex.run(&["sync", "--status", "--fetch"]).ok();
    assert!(
        fresh.contains("Waiting to be received: 1 entry."),
        "{fresh}"
    );
    assert!(fresh.contains("Not yet shared: 1 entry."), "{fresh}");
    assert_eq!(ids(&alex).len(), 3, "status never merges");
}

#[test]
fn auto_sync_shares_each_change_quietly() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    log(&alex, &["appreciation"]);
    connect(&alex, &remote.url());
    alex.run(&["config", "set", "auto_sync", "true"]).ok();
    let before = remote.main();
    let out = alex.run(&["log", "check-in"]).ok();
    assert!(!out.contains("Synced"), "{out}");
    assert_ne!(remote.main(), before);

    // Offline, the change is kept and a warning says so.
    set_remote(
        &alex,
        &format!("ssh://git@127.0.0.1:{}/us.git", closed_port()),
    );
    let run = alex.run(&["log", "listen"]);
    run.ok();
    assert!(
        run.stderr().contains("automatic sync failed"),
        "{}",
        run.stderr()
    );
    assert_eq!(ids(&alex).len(), 3);
}

#[test]
fn one_new_entry_after_years_of_data_writes_little() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    log(&alex, &["appreciation"]);
    let me = alex.read_json("config.json")["id"]
        .as_str()
        .unwrap()
        .to_string();
    // Ten years of months, each with a few hundred entries.
    for m in 0..120u32 {
        let (year, month) = (2016 + (m + 10) / 12, (m + 10) % 12 + 1);
        if (year, month) == (2026, 11) {
            continue;
        }
        let entries: Vec<Value> = (0..250u32)
            .map(|i| {
                let day = format!("{year}-{month:02}-{:02}", i % 28 + 1);
                json!({"id": format!("01{m:06x}-0000-7000-8000-{i:012x}"), "practice": "appreciation",
                       "day": day, "at": format!("{day}T12:00:00+01:00"), "author": me,
                       "rev": {"ms": 1_500_000_000_000u64 + u64::from(m * 1000 + i), "c": 0, "by": me},
                       "deleted": false})
            })
            .collect();
        let path = alex.path(&format!("shared/log/{year}-{month:02}.json"));
        std::fs::write(
            path,
            serde_json::to_vec_pretty(&json!({"schema": 1, "entries": entries})).unwrap(),
        )
        .unwrap();
    }
    connect(&alex, &remote.url());

    let object_files = |repo: &Path| -> Vec<(PathBuf, u64)> {
        files_under(&repo.join("objects"))
            .into_iter()
            .map(|p| (p.clone(), p.metadata().unwrap().len()))
            .collect()
    };
    let before_local = object_files(&alex.path("sync.git"));
    let before_remote = object_files(&remote.path());
    log(&alex, &["check-in", "--date", "2021-03-04"]);
    assert!(sync(&alex).contains("sent 1 entry"));
    for (before, after) in [
        (before_local, object_files(&alex.path("sync.git"))),
        (before_remote, object_files(&remote.path())),
    ] {
        let written: u64 = after
            .iter()
            .filter(|f| !before.contains(f))
            .map(|(_, len)| len)
            .sum();
        assert!(
            written < 64 * 1024,
            "{written} bytes of objects for one entry"
        );
    }
}

#[test]
fn a_partner_on_a_newer_safe_keeps_their_extra_fields() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    let sam = TestEnv::named("Sam");
    log(&sam, &["check-in"]);
    let mut doc = sam.read_json(NOV);
    doc["entries"][0]["mood"] = json!("calm");
    doc["from_the_future"] = json!(true);
    std::fs::write(sam.path(NOV), serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    connect(&sam, &remote.url());
    log(&alex, &["appreciation"]);
    connect(&alex, &remote.url());
    sync(&sam);
    for env in [&alex, &sam] {
        let doc = env.read_json(NOV);
        assert_eq!(doc["from_the_future"], true);
        assert!(
            doc["entries"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["mood"] == "calm")
        );
    }
}
