//! Sync over real ssh, as most couples will sync (a git host over ssh):
//! each test starts its own OpenSSH `sshd` on a loopback port, with a host
//! key and an authorized key of its own in a temporary directory, and
//! reaches a bare repository through `ssh://user@127.0.0.1:PORT/...`.
//!
//! safe reads nothing of the user's real `~/.ssh`: each test environment
//! has its own HOME, whose `.ssh/` holds the key the test gives it and the
//! `known_hosts` line of the test's server (libgit2 checks the host key
//! against `$HOME/.ssh/known_hosts`; `ssh-agent` is not offered, as
//! `SSH_AUTH_SOCK` is not set).
//!
//! `.ci/run` installs `openssh-server` where it is missing; a test skips,
//! saying why, only when no `sshd` can be found.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use crate::env::TestEnv;
use crate::sync::{Remote, connect, git, history, ids, log, set_remote, shared_files, sync};

/// An `sshd` of the test's own, on a loopback port.
struct Sshd {
    dir: TempDir,
    child: Child,
    port: u16,
    /// The login name: the user running the tests.
    user: String,
}

/// Where `sshd` is, if it is installed: it must be run by its absolute
/// path (it re-executes itself).
fn find_sshd() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    let usual = ["/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/bin"].map(PathBuf::from);
    on_path
        .into_iter()
        .chain(usual)
        .map(|dir| dir.join("sshd"))
        .find(|path| path.is_absolute() && path.is_file())
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "safe-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs (it comes with openssh-client)");
    assert!(status.success());
}

impl Sshd {
    /// Start one; `None` (the test skips, saying so) only when no sshd is
    /// installed.
    fn start() -> Option<Sshd> {
        let Some(sshd) = find_sshd() else {
            eprintln!(
                "SKIPPED: no sshd found on PATH or in /usr/sbin: install openssh-server \
                 (.ci/run does) to run the tests over ssh"
            );
            return None;
        };
        // Run as root, sshd needs its privilege separation directory, which
        // the package's service makes at boot; make it as that would.
        if !Path::new("/run/sshd").exists() {
            let _ = std::fs::create_dir_all("/run/sshd");
        }
        let dir = tempfile::tempdir().unwrap();
        keygen(&dir.path().join("host_key"));
        keygen(&dir.path().join("user_key"));
        std::fs::copy(
            dir.path().join("user_key.pub"),
            dir.path().join("authorized_keys"),
        )
        .unwrap();
        let port = {
            let probe = TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let d = dir.path().display();
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\n\
             AuthorizedKeysFile {d}/authorized_keys\nPidFile {d}/sshd.pid\nStrictModes no\n\
             UsePAM no\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
             PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nMaxStartups 50\nLogLevel VERBOSE\n"
        );
        std::fs::write(dir.path().join("sshd_config"), config).unwrap();
        let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
        let child = Command::new(&sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.path().join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_string();
        let mut server = Sshd {
            dir,
            child,
            port,
            user,
        };
        server.wait_until_listening();
        Some(server)
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("sshd stopped ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "sshd did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// The log once it holds `line`, or after five seconds: sshd's child
    /// for a connection writes its last lines after the client has gone,
    /// so a client's exit does not mean they are there yet.
    fn log_once_it_holds(&self, line: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let log = self.log();
            if log.contains(line) || Instant::now() > deadline {
                return log;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The ssh URL of a repository on this machine.
    fn url(&self, repo: &Path) -> String {
        format!(
            "ssh://{}@127.0.0.1:{}{}",
            self.user,
            self.port,
            repo.display()
        )
    }

    /// The `known_hosts` line of this server.
    fn known_host(&self) -> String {
        let public = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
        let mut fields = public.split_whitespace();
        let (kind, key) = (fields.next().unwrap(), fields.next().unwrap());
        format!("[127.0.0.1]:{} {kind} {key}\n", self.port)
    }

    /// Give `env` the authorized key and this server's host key, in its
    /// own HOME.
    fn trust(&self, env: &TestEnv) {
        let ssh = ssh_dir(env);
        install_key(&self.dir.path().join("user_key"), &ssh.join("id_ed25519"));
        std::fs::write(ssh.join("known_hosts"), self.known_host()).unwrap();
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        // The daemon this test started, by its own handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `env`'s `~/.ssh`, made.
fn ssh_dir(env: &TestEnv) -> PathBuf {
    let home = env.data_dir().parent().unwrap().to_path_buf();
    let ssh = home.join(".ssh");
    std::fs::create_dir_all(&ssh).unwrap();
    ssh
}

fn install_key(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Alex and Sam, paired through `url` (invite and join over ssh), both
/// synced.
fn couple_over(url: &str, alex: &TestEnv, sam: &TestEnv) {
    alex.run(&["init", "--name", "Alex"]).ok();
    sam.run(&["init", "--name", "Sam"]).ok();
    connect(alex, url);
    alex.pair(sam, url, &[]).ok();
    sync(alex);
    connect(sam, url);
    sync(alex);
}

#[test]
fn a_sealed_first_sync_pairing_and_a_push_race_work_over_ssh() {
    let Some(sshd) = Sshd::start() else { return };
    let remote = Remote::new();
    let url = sshd.url(&remote.path());
    let (alex, sam) = (TestEnv::named("Alex"), TestEnv::named("Sam"));
    sshd.trust(&alex);
    sshd.trust(&sam);
    log(
        &alex,
        &["appreciation", "--note", "MARKER-ssh", "--share-note"],
    );
    couple_over(&url, &alex, &sam);

    // The first sync sealed the journal; pairing ran through the same URL.
    let files = remote.files();
    assert!(files.contains(&"epochs/1.age".to_string()), "{files:?}");
    for path in &files {
        assert!(safe::seal::layout::parse(path).is_some(), "{path}");
    }
    assert!(!String::from_utf8_lossy(&remote.all_objects()).contains("MARKER"));
    assert!(
        history(&sam, "partner")
            .iter()
            .any(|e| e["note"] == "MARKER-ssh")
    );
    assert!(remote.git(&["for-each-ref", "refs/safe"]).is_empty());
    let number =
        |env: &TestEnv| env.run(&["partner", "show", "--json"]).json()["safety_number"].clone();
    assert_eq!(number(&alex), number(&sam));

    // The push race: Sam's next commit, made on a copy of the remote, lands
    // on `main` (by the `update` hook) while Alex's push is on the way.
    let side = tempfile::tempdir().unwrap();
    let side_repo = side.path().join("side.git");
    git(
        side.path(),
        &["clone", "--quiet", "--bare", &remote.url(), "side.git"],
    );
    log(&sam, &["check-in"]);
    connect(&sam, &side_repo.display().to_string());
    remote.git(&[
        "fetch",
        "--quiet",
        &side_repo.display().to_string(),
        "main:refs/race/next",
    ]);
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
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    log(&alex, &["listen"]);
    let out = sync(&alex);
    assert!(
        remote.git(&["for-each-ref", "refs/race"]).is_empty(),
        "the hook moved main mid-push"
    );
    assert!(out.contains("received 1 entry from Sam"), "{out}");
    assert!(out.contains("sent 1 change"), "{out}");
    connect(&sam, &url);
    assert_eq!(sync(&alex).trim(), "Already in sync.");
    assert_eq!(ids(&alex).len(), 3);
    assert_eq!(ids(&alex), ids(&sam));
    assert_eq!(shared_files(&alex), shared_files(&sam));
}

#[test]
fn an_unknown_host_key_is_refused_clearly_and_changes_nothing() {
    let Some(sshd) = Sshd::start() else { return };
    let remote = Remote::new();
    let url = sshd.url(&remote.path());
    let alex = TestEnv::named("Alex");
    alex.run(&["init", "--name", "Alex"]).ok();
    log(&alex, &["appreciation"]);
    set_remote(&alex, &url);
    let ssh = ssh_dir(&alex);
    install_key(&sshd.dir.path().join("user_key"), &ssh.join("id_ed25519"));
    // No line for this server, then a line that gives it another key.
    let other = tempfile::tempdir().unwrap();
    keygen(&other.path().join("k"));
    let wrong = std::fs::read_to_string(other.path().join("k.pub")).unwrap();
    let wrong: Vec<&str> = wrong.split_whitespace().collect();
    for known in [
        String::new(),
        format!("[127.0.0.1]:{} {} {}\n", sshd.port, wrong[0], wrong[1]),
    ] {
        std::fs::write(ssh.join("known_hosts"), known).unwrap();
        let before = alex.snapshot();
        let err = alex.run(&["sync"]).fails(1);
        assert!(
            err.contains("could not verify the identity of the server"),
            "{err}"
        );
        assert!(err.contains("hint:"), "{err}");
        assert!(alex.snapshot() == before, "local data changed");
        assert_eq!(remote.main(), None, "something reached the remote");
        assert!(!sshd.log().contains("Accepted publickey"), "{}", sshd.log());
    }
    // Once the host is known, the same sync goes through.
    sshd.trust(&alex);
    alex.run(&["sync"]).ok();
    assert!(remote.main().is_some());
}

#[test]
fn a_refused_key_is_named_and_each_method_is_tried_once() {
    let Some(sshd) = Sshd::start() else { return };
    let remote = Remote::new();
    let url = sshd.url(&remote.path());
    let alex = TestEnv::named("Alex");
    alex.run(&["init", "--name", "Alex"]).ok();
    log(&alex, &["appreciation"]);
    set_remote(&alex, &url);
    // Two keys the server does not know, and its host key.
    sshd.trust(&alex);
    let ssh = ssh_dir(&alex);
    std::fs::remove_file(ssh.join("id_ed25519")).unwrap();
    let keys = tempfile::tempdir().unwrap();
    for (name, file) in [("a", "id_ed25519"), ("b", "id_ecdsa")] {
        keygen(&keys.path().join(name));
        install_key(&keys.path().join(name), &ssh.join(file));
    }
    let before = alex.snapshot();
    let err = alex.run(&["sync"]).fails(1);
    assert!(
        err.contains("could not log in")
            && err.contains("tried ~/.ssh/id_ed25519, ~/.ssh/id_ecdsa)"),
        "{err}"
    );
    assert!(err.contains("add your public key to the server"), "{err}");
    // The server saw each key offered once, on one connection.
    let log = sshd.log_once_it_holds("Connection closed by authenticating user");
    let failed: Vec<&str> = log
        .lines()
        .filter(|l| l.starts_with("Failed publickey"))
        .filter_map(|l| l.split_whitespace().last())
        .collect();
    assert_eq!(failed.len(), 2, "{log}");
    assert_ne!(failed[0], failed[1], "{log}");
    assert_eq!(
        log.matches("Connection closed by authenticating user")
            .count(),
        1,
        "{log}"
    );
    assert!(alex.snapshot() == before, "local data changed");
    assert_eq!(remote.main(), None);
}

#[test]
fn a_first_sync_over_ssh_fetches_only_the_tip() {
    let Some(sshd) = Sshd::start() else { return };
    let remote = Remote::new();
    let url = sshd.url(&remote.path());
    let (alex, sam) = (TestEnv::named("Alex"), TestEnv::named("Sam"));
    sshd.trust(&alex);
    sshd.trust(&sam);
    couple_over(&url, &alex, &sam);
    // History at the remote: each sync of a change is a commit, and the
    // last segment of Alex's log is sealed again each time.
    for practice in ["listen", "check-in", "mirror"] {
        log(&alex, &[practice, "--note", "MARKER-old", "--share-note"]);
        sync(&alex);
    }
    let commits = remote.git(&["rev-list", "--count", "main"]);
    assert!(commits.trim().parse::<u32>().unwrap() >= 4, "{commits}");

    // A new device of Sam's: its first sync takes the tip commit only.
    let laptop = TestEnv::named("Sam");
    sshd.trust(&laptop);
    sam.pair(&laptop, &url, &["--device"]).ok();
    sync(&sam);
    let tip = remote.main().unwrap();
    connect(&laptop, &url);
    let git_dir = laptop.path("sync.git");
    assert_eq!(
        git(&git_dir, &["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    // Of the remote's history it holds the tip alone (and, on top, what it
    // pushed itself: its log, then the day's seen line).
    let fetched = git(&git_dir, &["rev-list", "--count", &tip]);
    assert_eq!(fetched.trim(), "1", "more than the tip was fetched");
    assert!(
        history(&laptop, "partner")
            .iter()
            .any(|e| e["note"] == "MARKER-old")
    );
    // It writes, pushes from its shallow copy, and everyone converges.
    crate::sync::a_shallow_device_writes_and_everyone_converges(&alex, &sam, &laptop);
}
