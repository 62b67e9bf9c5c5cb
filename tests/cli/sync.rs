//! Sync between partners through real git remotes (schema 2: each device's
//! signed log under `shared/log/<device>/…`): bare repositories in
//! temporary directories (reached by path, `file://` and `git://`), a
//! `git daemon` whose hook moves the branch mid-push, a server that refuses
//! every login, and ports where nothing listens. No test leaves loopback.
//!
//! Partners pair through the real binary (`safe invite` / `safe join`)
//! before they share anything. The attacks of DESIGN.md §7, each a commit
//! crafted with the plain `git` command, are in `threats`.

mod threats;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::env::{TestEnv, contains_bytes, files_under};

/// A bare repository that both partners sync through.
pub(crate) struct Remote {
    dir: TempDir,
    /// The data directory whose keys open the sealed remote for `tamper`:
    /// a partner's, who holds the journal's epochs.
    opener: std::cell::RefCell<Option<PathBuf>>,
}

impl Remote {
    pub(crate) fn new() -> Self {
        let remote = Remote {
            dir: tempfile::tempdir().unwrap(),
            opener: Default::default(),
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

    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join("remote.git")
    }

    pub(crate) fn url(&self) -> String {
        self.path().display().to_string()
    }

    pub(crate) fn git(&self, args: &[&str]) -> String {
        git(&self.path(), args)
    }

    /// Open the sealed remote with the keys of `env` in `tamper`.
    pub(crate) fn open_with(&self, env: &TestEnv) {
        *self.opener.borrow_mut() = Some(env.data_dir());
    }

    /// A plaintext file of `main` as the opener's keys open it: a
    /// segment's path in `shared/log`.
    pub(crate) fn opened(&self, rel: &str) -> Vec<u8> {
        let work = tempfile::tempdir().unwrap();
        let checkout = work.path().join("w");
        git(work.path(), &["clone", "--quiet", &self.url(), "w"]);
        let keys = self.opener.borrow().clone().expect("open_with was called");
        safe::seal::tools::open_checkout(&checkout, &keys).unwrap();
        std::fs::read(checkout.join(rel)).unwrap()
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

    /// The paths of the files of `main`, sorted.
    pub(crate) fn files(&self) -> Vec<String> {
        let mut files: Vec<String> = self
            .git(&["ls-tree", "-r", "--name-only", "main"])
            .lines()
            .map(str::to_string)
            .collect();
        files.sort();
        files
    }

    /// Commit `files` (path, bytes) on top of `main` with plain git, as a
    /// broken or hostile partner could.
    pub(crate) fn commit_files(&self, files: &[(&str, &[u8])]) {
        self.tamper(|checkout| {
            for (rel, bytes) in files {
                let path = checkout.join(rel);
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(path, bytes).unwrap();
            }
        });
    }

    /// What someone with push access does with nothing but `git`: clone
    /// `main`, change the work tree with `edit` (add, change or delete
    /// files), commit everything and push, without force.
    ///
    /// With an opener's keys (`open_with`), the sealed segments are opened
    /// into `shared/log/<device>/…` first and sealed back after, as that
    /// partner could: `edit` changes the plaintext logs.
    pub(crate) fn tamper(&self, edit: impl FnOnce(&Path)) {
        let work = tempfile::tempdir().unwrap();
        let checkout = work.path().join("w");
        git(work.path(), &["clone", "--quiet", &self.url(), "w"]);
        let opened = self
            .opener
            .borrow()
            .as_ref()
            .and_then(|keys| safe::seal::tools::open_checkout(&checkout, keys).ok());
        edit(&checkout);
        if let Some(opened) = opened {
            opened.seal_again().unwrap();
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
                "--allow-empty",
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
pub(crate) fn git(dir: &Path, args: &[&str]) -> String {
    let out = git_output(dir, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn all_objects(repo: &Path) -> Vec<u8> {
    let out = git_output(repo, &["cat-file", "--batch-all-objects", "--batch"]);
    assert!(out.status.success());
    out.stdout
}

/// Every file of `shared/`, by its path inside it, with its bytes.
pub(crate) fn shared_files(env: &TestEnv) -> Vec<(String, Vec<u8>)> {
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

/// `safe history --all --json --who WHO`.
pub(crate) fn history(env: &TestEnv, who: &str) -> Vec<Value> {
    env.history(&["--all", "--who", who])
}

/// The ids of the entries `env` sees, of everyone, sorted.
pub(crate) fn ids(env: &TestEnv) -> Vec<String> {
    let mut ids: Vec<String> = history(env, "all")
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

/// `safe sync`, which must succeed; its stdout.
pub(crate) fn sync(env: &TestEnv) -> String {
    env.run(&["sync"]).ok()
}

/// `safe sync --remote URL`, which must succeed; its stdout.
pub(crate) fn connect(env: &TestEnv, remote: &str) -> String {
    env.run(&["sync", "--remote", remote]).ok()
}

/// Set the remote in config.json without syncing.
pub(crate) fn set_remote(env: &TestEnv, url: &str) {
    env.run(&["config", "set", "remote", url]).ok();
}

/// A loopback port where nothing listens.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// This data directory's device id (its folder name under `shared/log`).
pub(crate) fn device_of(env: &TestEnv) -> String {
    let devices = env.run(&["device", "list", "--json"]).ok();
    devices
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|d| d["this"] == true)
        .and_then(|d| d["id"].as_str().map(str::to_string))
        .expect("device list names this device")
}

/// The journal id both partners share (from `journal.json`, never synced).
pub(crate) fn journal_id(env: &TestEnv) -> String {
    env.read_json("journal.json")["journal"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The person id `env` has in the journal (as `history --json` names it).
pub(crate) fn person_of(env: &TestEnv) -> String {
    env.run(&["stats", "--json"]).json()["person"]["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Alex and Sam, each with `safe init --name`, paired through the real
/// binary and synced so that both can write and each knows the other's
/// name: Alex sets the remote and invites, Sam joins, Alex syncs the
/// pairing line, Sam syncs, and Alex syncs once more.
pub(crate) fn couple() -> (TestEnv, TestEnv, Remote) {
    let remote = Remote::new();
    let (alex, sam) = (TestEnv::named("Alex"), TestEnv::named("Sam"));
    alex.run(&["init", "--name", "Alex"]).ok();
    sam.run(&["init", "--name", "Sam"]).ok();
    connect(&alex, &remote.url());
    alex.pair(&sam, &remote.url(), &[]).ok();
    sync(&alex);
    connect(&sam, &remote.url());
    sync(&alex);
    remote.open_with(&sam);
    (alex, sam, remote)
}

/// A new device of Sam's (`laptop`), holding a shallow copy, writes and
/// pushes; after everyone syncs, Alex reads its shared note and both hold
/// the same journal.
#[track_caller]
pub(crate) fn a_shallow_device_writes_and_everyone_converges(
    alex: &TestEnv,
    sam: &TestEnv,
    laptop: &TestEnv,
) {
    log(laptop, &["date", "--note", "MARKER-laptop", "--share-note"]);
    sync(laptop);
    for env in [alex, sam, laptop] {
        sync(env);
    }
    assert!(
        history(alex, "partner")
            .iter()
            .any(|e| e["note"] == "MARKER-laptop")
    );
    assert_eq!(ids(alex), ids(laptop));
    assert_eq!(shared_files(alex), shared_files(laptop));
}

/// Pair `new` as another device of `by`'s person, and sync both.
pub(crate) fn pair_device(by: &TestEnv, new: &TestEnv, remote: &Remote) {
    let url = remote.url();
    by.pair(new, &url, &["--device"]).ok();
    sync(by);
    new.run(&["sync", "--remote", &url]).ok();
}

/// Clone the remote with plain git, change the sealed files with `edit`,
/// commit and push: what anyone with push access can do without keys.
pub(crate) fn craft(remote: &Remote, edit: impl FnOnce(&Path)) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["clone", "--quiet", &remote.url(), "w"]);
    let checkout = work.path().join("w");
    edit(&checkout);
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
            "crafted",
        ],
    );
    git(&checkout, &["push", "--quiet", "origin", "HEAD:main"]);
}

/// What `env` holds of its own person: its entries as `safe export` writes
/// them, its history, its goals and practices, and its name. A sync that
/// refuses an attack must leave all of it as it was.
pub(crate) fn mine(env: &TestEnv) -> String {
    let me = person_of(env);
    let export = env.run(&["export"]).ok();
    let own: Vec<&str> = export
        .lines()
        .filter(|l| serde_json::from_str::<Value>(l).unwrap()["author"] == me.as_str())
        .collect();
    let stats = env.run(&["stats", "--all", "--json"]).json();
    format!(
        "{}\n{:#?}\n{}\n{}\n{}",
        own.join("\n"),
        history(env, "me"),
        env.run(&["practice", "list", "--all"]).ok(),
        stats["person"],
        stats["practices"]
    )
}

/// The name `env` shows for the person with id `person`, from its history.
pub(crate) fn name_in_history(env: &TestEnv, person: &str) -> Vec<String> {
    let mut names: Vec<String> = history(env, "all")
        .iter()
        .filter(|e| e["person"] == person)
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    names.dedup();
    names
}

#[test]
fn partners_who_log_offline_converge_whichever_syncs_first() {
    for alex_first in [true, false] {
        let (alex, sam, _remote) = couple();
        log(&alex, &["appreciation"]);
        log(&alex, &["repair", "--date", "yesterday", "--took", "45m"]);
        log(&sam, &["check-in"]);
        log(&sam, &["listen", "--date", "2026-11-02"]);
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
        assert_eq!(ids(&alex), ids(&sam));
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
        let mine: Vec<Value> = history(&sam, "partner");
        assert_eq!(mine.len(), 2);
        assert!(mine.iter().all(|e| e["name"] == "Alex"));
    }
}

#[test]
fn the_report_names_the_partner_and_counts_entries() {
    // Alone, the first sync says how a partner joins.
    let remote = Remote::new();
    let alone = TestEnv::named("Alex");
    log(&alone, &["appreciation"]);
    let first = connect(&alone, &remote.url());
    assert!(
        first.starts_with(&format!("Synced with {}: sent ", remote.url())),
        "{first}"
    );
    assert!(
        first.contains("Your partner joins with `safe invite` here and `safe join` there."),
        "{first}"
    );

    let (alex, sam, remote) = couple();
    let url = remote.url();
    for practice in ["check-in", "listen", "repair"] {
        log(&sam, &[practice]);
    }
    assert_eq!(
        sync(&sam).trim(),
        format!("Synced with {url}: sent 3 changes.")
    );
    assert_eq!(
        sync(&alex).trim(),
        format!("Synced with {url}: received 3 entries from Sam.")
    );
    let id = log(&alex, &["appreciation"]);
    alex.run(&["edit", &id, "--date", "yesterday"]).ok();
    assert_eq!(
        sync(&alex).trim(),
        format!("Synced with {url}: sent 2 changes.")
    );
    log(&sam, &["date"]);
    // One entry, though it changed twice; and one of Sam's sent.
    assert_eq!(
        sync(&sam).trim(),
        format!("Synced with {url}: received 1 entry from Alex, sent 1 change.")
    );
    assert_eq!(sync(&sam).trim(), "Already in sync.");
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
    assert!(sync(&alex).contains("Already in sync."));
}

#[test]
fn my_edit_and_my_rm_reach_my_partner() {
    let (alex, sam, _remote) = couple();
    let edited = log(&alex, &["appreciation", "--note", "first", "--share-note"]);
    let removed = log(&alex, &["listen"]);
    sync(&alex);
    sync(&sam);
    assert_eq!(history(&sam, "partner").len(), 2);

    alex.run(&["edit", &edited, "--note", "second"]).ok();
    alex.run(&["rm", "--yes", &removed]).ok();
    sync(&alex);
    let out = sync(&sam);
    // The edit counts as an entry received; the removal is not counted
    // (what is gone is not "received"), so only the name is checked.
    assert!(out.contains("from Alex"), "{out}");
    for env in [&alex, &sam] {
        let seen = history(env, "all");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["id"], edited.as_str());
        assert_eq!(seen[0]["note"], "second");
    }
    assert_eq!(shared_files(&alex), shared_files(&sam));
}

#[test]
fn undo_of_a_synced_rm_brings_the_entry_back_on_both_sides() {
    let (alex, sam, _remote) = couple();
    let id = log(&alex, &["appreciation", "--note", "kept", "--share-note"]);
    sync(&alex);
    alex.run(&["rm", "--yes", &id]).ok();
    sync(&alex);
    sync(&sam);
    assert!(history(&sam, "partner").is_empty());

    alex.run(&["undo"]).ok();
    sync(&alex);
    sync(&sam);
    for env in [&alex, &sam] {
        let seen = history(env, "all");
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0]["id"], id.as_str());
        assert_eq!(seen[0]["note"], "kept");
    }
    assert_eq!(shared_files(&alex), shared_files(&sam));
}

#[test]
fn my_partner_cannot_edit_or_remove_my_entries_through_safe() {
    let (alex, sam, _remote) = couple();
    let id = log(&alex, &["appreciation", "--note", "mine", "--share-note"]);
    sync(&alex);
    sync(&sam);
    let err = sam.run(&["edit", &id, "--note", "theirs"]).fails(2);
    assert!(err.contains("Alex"), "{err}");
    sam.run(&["rm", &id]).fails(2);
    sync(&sam);
    sync(&alex);
    let seen = history(&alex, "me");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0]["note"], "mine");
}

#[test]
fn a_push_race_is_retried_and_ends_consistent() {
    let (alex, sam, remote) = couple();
    log(&alex, &["appreciation"]);
    sync(&alex);

    // Sam's next push, prepared on a copy of the remote and parked in it.
    let side = TempDir::new().unwrap();
    let side_url = side.path().join("remote.git").display().to_string();
    copy_dir(&remote.path(), &side.path().join("remote.git"));
    log(&sam, &["check-in"]);
    connect(&sam, &side_url);
    remote.git(&["fetch", "--quiet", &side_url, "main:refs/race/next"]);

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
    assert!(out.contains("sent 1 change"), "{out}");

    connect(&sam, &remote.url());
    assert_eq!(sync(&alex).trim(), "Already in sync.");
    assert_eq!(ids(&alex).len(), 3);
    assert_eq!(ids(&alex), ids(&sam));
    assert_eq!(shared_files(&alex), shared_files(&sam));
    assert_eq!(remote.main(), Some(local_main(&alex)));
}

fn local_main(env: &TestEnv) -> String {
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
    let (alex, sam, _remote) = couple();
    for round in 0..4 {
        let day = format!("2026-11-{:02}", round + 1);
        log(&alex, &["appreciation", "--date", &day]);
        log(&sam, &["check-in", "--date", &day]);
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
    assert_eq!(ids(&alex), ids(&sam));
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
    assert!(sync(&alex).contains("sent 3 changes"));
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
fn a_schema_1_remote_is_refused_with_the_way_to_a_fresh_one() {
    for (rel, bytes) in [
        ("people.json", &b"{\"schema\": 1, \"people\": []}\n"[..]),
        (
            "log/2026-11.json",
            &b"{\"schema\": 1, \"entries\": []}\n"[..],
        ),
        (
            "shared/log/2026-11.json",
            &b"{\"schema\": 1, \"entries\": []}\n"[..],
        ),
    ] {
        let remote = Remote::new();
        remote.commit_files(&[(rel, bytes)]);
        let tip = remote.main();
        let alex = TestEnv::named("Alex");
        log(&alex, &["appreciation"]);
        set_remote(&alex, &remote.url());
        let before = alex.snapshot();
        let err = alex.run(&["sync"]).fails(1);
        assert!(err.contains("schema 1"), "{rel}: {err}");
        assert!(err.contains("fresh, empty remote"), "{rel}: {err}");
        assert!(
            err.contains("safe sync --remote NEW-URL") && err.contains("plaintext history"),
            "{rel}: {err}"
        );
        assert!(alex.snapshot() == before, "{rel}: local data changed");
        assert_eq!(remote.main(), tip, "{rel}: nothing may be pushed");
    }
}

#[test]
fn what_is_not_part_of_a_sealed_journal_is_refused_and_nothing_changes() {
    let (alex, sam, remote) = couple();
    log(&sam, &["check-in"]);
    sync(&sam);
    for (rel, bytes) in [
        ("README.md", &b"# our journal\n"[..]),
        ("shared/log/notes.txt", &b"hello\n"[..]),
    ] {
        let tip = remote.main();
        remote.commit_files(&[(rel, bytes)]);
        let before = alex.snapshot();
        let err = alex.run(&["sync"]).fails(1);
        assert!(
            err.contains("not part of a sealed journal")
                && err.contains(rel.split('/').next().unwrap()),
            "{err}"
        );
        assert!(err.contains("safe sync --remote NEW_URL"), "{err}");
        assert!(alex.snapshot() == before, "{rel}: local data changed");
        // Taken back by hand, the sync goes through.
        remote.git(&["update-ref", "refs/heads/main", &tip.unwrap()]);
    }
    let run = alex.run(&["sync"]);
    assert!(
        run.ok().contains("received 1 entry from Sam"),
        "{}",
        run.stdout()
    );
}

#[test]
fn a_remote_holding_another_journals_logs_is_not_trusted() {
    let (alex, _sam, remote) = couple();
    let before = mine(&alex);
    // Someone else's journal, synced to the same remote.
    let stranger = TestEnv::named("Robin");
    stranger.run(&["init", "--name", "Robin"]).ok();
    log(
        &stranger,
        &["appreciation", "--note", "ROBIN-NOTE", "--share-note"],
    );
    let robin = device_of(&stranger);
    // Robin's safe cannot put its log into a sealed journal it is not in
    // (it waits for an epoch sealed to it): Robin copies the sealed log of
    // its own remote in with git.
    let robins = Remote::new();
    stranger.run(&["sync", "--remote", &robins.url()]).ok();
    let _ = stranger.run(&["sync", "--remote", &remote.url()]);
    assert!(
        !remote
            .files()
            .iter()
            .any(|f| f.starts_with(&format!("log/{robin}")))
    );
    let from = tempfile::tempdir().unwrap();
    git(from.path(), &["clone", "--quiet", &robins.url(), "r"]);
    remote.tamper(|checkout| {
        copy_dir(
            &from.path().join("r/log").join(&robin),
            &checkout.join("log").join(&robin),
        );
    });
    assert!(remote.files().iter().any(|f| f.contains(&robin)));

    let run = alex.run(&["sync"]);
    let err = run.fails(1);
    assert!(err.contains("safe: refused:"), "{err}");
    assert!(err.contains(&robin[..12]), "{err}");
    assert!(
        err.contains("no pairing") || err.contains("outside pairing"),
        "{err}"
    );
    assert_eq!(mine(&alex), before);
    assert!(
        history(&alex, "all")
            .iter()
            .all(|e| e["note"] != "ROBIN-NOTE"),
        "another journal's entry is shown"
    );
    assert!(!alex.run(&["device", "list"]).ok().contains(&robin[..8]));
}

#[test]
fn private_entries_and_unshared_notes_never_reach_the_remote() {
    let (alex, sam, remote) = couple();
    let private = log(
        &alex,
        &["repair", "--private", "--note", "MARKER-private-entry"],
    );
    let with_note = log(&alex, &["appreciation", "--note", "MARKER-unshared-note"]);
    log(
        &alex,
        &["listen", "--note", "shared-on-purpose", "--share-note"],
    );
    sync(&alex);
    alex.run(&["edit", &with_note, "--note", "MARKER-edited-note"])
        .ok();
    sync(&alex);
    sync(&sam);
    sync(&alex);
    // Objects as a server would keep them too: packed.
    remote.git(&["gc", "--quiet"]);
    // The remote holds not even the shared note in the clear.
    assert!(!contains_bytes(&remote.all_objects(), "shared-on-purpose"));

    for objects in [
        remote.all_objects(),
        all_objects(&alex.path("sync.git")),
        all_objects(&sam.path("sync.git")),
    ] {
        assert!(
            contains_bytes(&objects, "age-encryption.org"),
            "the scan sees the sealed logs"
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
    let (alex, sam, _remote) = couple();
    let note = "hi \u{1b}]0;pwned\u{7}\u{1b}[31mred\u{1b}[0m \u{1b}[2J\rgone";
    log(&sam, &["appreciation", "--note", note, "--share-note"]);
    sync(&sam);

    let out = sync(&alex);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("received 1 entry from Sam"), "{out:?}");
    let table = alex.run(&["history", "--who", "partner"]).ok();
    assert!(table.contains("hi") && table.contains("red"), "{table:?}");
    for c in ['\u{1b}', '\u{7}', '\r'] {
        assert!(!table.contains(c), "{table:?}");
    }
}

#[test]
fn status_needs_no_network() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    log(&alex, &["appreciation"]);

    // An unreachable remote: status answers anyway, from what it knows.
    let offline = format!("ssh://git@127.0.0.1:{}/us.git", closed_port());
    set_remote(&alex, &offline);
    let out = alex.run(&["sync", "--status"]).ok();
    assert!(out.contains(&format!("Remote: {offline}")), "{out}");
    assert!(out.contains("Last sync: never"), "{out}");

    connect(&alex, &remote.url());
    let tip = remote.main();
    let out = alex.run(&["sync", "--status"]).ok();
    assert!(out.contains(&format!("Remote: {}", remote.url())), "{out}");
    assert!(out.contains("Last sync: 2026-11-27 20:00 +01:00"), "{out}");
    // Status never sends.
    log(&alex, &["check-in"]);
    alex.run(&["sync", "--status"]).ok();
    assert_eq!(remote.main(), tip);
}

#[test]
fn status_with_fetch_looks_at_the_remote() {
    let (alex, sam, _remote) = couple();
    log(&sam, &["check-in"]);
    sync(&sam);
    let out = alex.run(&["sync", "--status", "--fetch"]).ok();
    assert!(out.contains("1 entry"), "what waits is said: {out}");
    assert!(history(&alex, "partner").is_empty(), "status never merges");

    let offline = format!("ssh://git@127.0.0.1:{}/us.git", closed_port());
    set_remote(&alex, &offline);
    let err = alex.run(&["sync", "--status", "--fetch"]).fails(1);
    assert!(err.contains("could not reach"), "{err}");
}

/// `--fetch` moves only what sync.git knows of the remote: no log, no
/// entry, nothing pushed; and it says what waits on either side.
#[test]
fn status_with_fetch_changes_nothing_but_what_it_knows() {
    let (alex, sam, remote) = couple();
    let out = alex.run(&["sync", "--status", "--fetch"]).ok();
    assert!(out.contains("nothing new waits for you"), "{out}");

    log(&sam, &["check-in"]);
    log(&sam, &["listen"]);
    sync(&sam);
    log(&alex, &["appreciation"]);
    let before = alex.snapshot();
    let at_remote = remote.main();
    let run = alex.run(&["sync", "--status", "--fetch"]);
    let out = run.ok();
    assert!(out.contains("2 entries from Sam wait there"), "{out}");
    assert!(
        out.contains("1 change of yours is not at the remote yet"),
        "{out}"
    );
    assert_eq!(run.stderr(), "");
    assert_eq!(alex.snapshot(), before, "no file of the journal changed");
    assert_eq!(remote.main(), at_remote, "nothing was pushed");
    assert!(history(&alex, "partner").is_empty());

    // The sync then takes what the status said.
    assert!(sync(&alex).contains("received 2 entries from Sam"));
    let out = alex.run(&["sync", "--status", "--fetch"]).ok();
    assert!(out.contains("nothing new waits for you"), "{out}");
    assert!(!out.contains("not at the remote"), "{out}");
}

/// The `seen` lines in the shared log of `env`'s own device, each with the
/// logs it names.
fn seen_lines(env: &TestEnv) -> Vec<Value> {
    seen_lines_of(env, &device_of(env))
}

/// The `seen` lines of `device`'s log as `env` holds it.
fn seen_lines_of(env: &TestEnv, device: &str) -> Vec<Value> {
    env.segments(&format!("shared/log/{device}"))
        .iter()
        .flat_map(|p| {
            let text = std::fs::read_to_string(p).unwrap();
            text.lines()
                .map(|l| serde_json::from_str::<Value>(l.split('\t').next().unwrap()).unwrap())
                .collect::<Vec<_>>()
        })
        .filter(|line| line["rec"]["t"] == "seen")
        .map(|line| line["rec"]["logs"].clone())
        .collect()
}

#[test]
fn each_syncing_device_writes_one_seen_line_a_day_and_as_of_reads_it() {
    let (mut alex, mut sam, _remote) = couple();
    log(&sam, &["check-in"]);
    sync(&sam);
    assert_eq!(sync(&sam), "Already in sync.\n");
    let seen = seen_lines(&sam);
    assert_eq!(seen.len(), 1, "one a day: {seen:?}");
    // It names the last line of every log Sam holds: Alex's and Sam's own.
    let logs = seen[0].as_object().unwrap();
    assert!(logs.contains_key(&device_of(&alex)), "{logs:?}");
    assert!(logs.contains_key(&device_of(&sam)), "{logs:?}");

    // Three days on, Sam syncs with nothing new: that alone is no news,
    // but it writes the day's line, and Alex's "as of" reads it.
    sam.set_now("2026-11-30T09:00:00+01:00");
    alex.set_now("2026-11-30T10:00:00+01:00");
    let before = alex.run(&["stats"]).ok();
    assert!(
        before.contains("As of Sam's newest change here, Fri 27 Nov"),
        "{before}"
    );
    assert_eq!(sync(&sam), "Already in sync.\n");
    assert_eq!(seen_lines(&sam).len(), 2);
    sync(&alex);
    let after = alex.run(&["stats"]).ok();
    assert!(
        after.contains("As of Sam's newest change here, today"),
        "{after}"
    );
    assert_eq!(seen_lines(&alex).len(), 2);
}

#[test]
fn a_remote_that_withholds_what_a_seen_line_proves_is_reported() {
    let (mut alex, sam, remote) = couple();
    let mut phone = TestEnv::named("Alex");
    pair_device(&alex, &phone, &remote);
    sync(&alex);
    sync(&sam);
    let phone_id = device_of(&phone);
    let before = remote.main().unwrap();

    // The phone logs; the laptop takes it today and, the next day, its
    // seen line says it holds all of the phone's log.
    log(&phone, &["check-in"]);
    log(&phone, &["listen"]);
    sync(&phone);
    sync(&alex);
    alex.set_now("2026-11-28T09:00:00+01:00");
    phone.set_now("2026-11-28T09:00:00+01:00");
    sync(&alex);
    let held = seen_lines(&alex).last().unwrap()[&phone_id][0]
        .as_u64()
        .unwrap();

    // The remote gives back an older copy of the phone's log, and keeps
    // the laptop's: valid, signed, and shorter.
    let folder = format!("log/{phone_id}");
    craft(&remote, |checkout| {
        git(checkout, &["rm", "-r", "--quiet", &folder]);
        git(checkout, &["checkout", &before, "--", &folder]);
    });

    let run = sam.run(&["sync"]);
    let err = run.fails(1);
    assert!(err.contains("withholds part of Alex's log"), "{err}");
    assert!(err.contains(&format!("up to line {held}")), "{err}");
    assert!(err.contains("Alex's device"), "{err}");
    // What the remote gave is still taken: the laptop's log.
    assert_eq!(seen_lines_of(&sam, &device_of(&alex)), seen_lines(&alex));
    assert!(history(&sam, "partner").is_empty());
}

#[test]
fn auto_sync_shares_each_change_quietly() {
    let (alex, sam, remote) = couple();
    alex.run(&["config", "set", "auto_sync", "true"]).ok();
    let before = remote.main();
    let out = alex.run(&["log", "check-in"]).ok();
    assert!(!out.contains("Synced"), "{out}");
    assert_ne!(remote.main(), before);
    assert!(sync(&sam).contains("received 1 entry from Alex"));

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
    assert_eq!(history(&alex, "me").len(), 2);
}

#[test]
fn one_new_entry_after_years_of_data_writes_little() {
    let remote = Remote::new();
    let alex = TestEnv::named("Alex");
    log(&alex, &["appreciation"]);
    // Years of entries: many segments of the log.
    let lines: String = (0..6000u32)
        .map(|i| {
            let day = chrono_day(i);
            format!("{{\"practice\":\"appreciation\",\"day\":\"{day}\",\"note\":\"n{i}\"}}\n")
        })
        .collect();
    alex.run_stdin(&["import", "-"], &lines).ok();
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
    assert!(sync(&alex).contains("sent 1 change"));
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
            written < 32 * 1024,
            "{written} bytes of objects for one entry"
        );
    }
}

/// A day among the ten years before 2026-11-27, for the `i`th entry.
fn chrono_day(i: u32) -> String {
    let (year, month, day) = (2016 + i % 10, 1 + i % 12, 1 + i % 28);
    format!("{year}-{month:02}-{day:02}")
}
