//! `safe invite` and `safe join` on two data directories through a real
//! bare remote: the inviter runs in the background, its code is read from
//! its stdout, and the joiner types it. Logs that sync would carry are
//! copied by hand (the schema-2 sync is not in yet).

use std::path::Path;
use std::process::Child;

use crate::env::{PAIRING, Run, TestEnv, files_under};
use crate::sync::Remote;

/// `safe invite` started in the background, and the code it printed.
fn invite(env: &TestEnv, remote: &Remote, extra: &[&str]) -> (Child, String) {
    let url = remote.url();
    let mut args = vec!["invite", "--remote", url.as_str()];
    args.extend_from_slice(extra);
    args.extend_from_slice(&PAIRING);
    env.spawn_invite(&args)
}

fn join(env: &TestEnv, remote: &Remote, code: &str) -> Run {
    let url = remote.url();
    let mut args = vec!["join", url.as_str(), code];
    args.extend_from_slice(&PAIRING);
    env.run(&args)
}

fn finish(child: Child) -> Run {
    Run {
        output: child.wait_with_output().unwrap(),
    }
}

/// Copy `from`'s shared logs into `to`, as a sync would.
fn carry_logs(from: &TestEnv, to: &TestEnv) {
    let (src, dst) = (from.path("shared/log"), to.path("shared/log"));
    for file in files_under(&src) {
        let rel = file.strip_prefix(&src).unwrap();
        let target = dst.join(rel);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

fn safety_number(show: &str) -> String {
    show.lines()
        .filter(|l| l.starts_with("  ") && l.trim().split(' ').all(|g| g.len() == 5))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn invite_and_join_pair_partners_who_see_one_safety_number() {
    let remote = Remote::new();
    let (alex, sam) = (TestEnv::named("Alex"), TestEnv::named("Sam"));
    let (child, code) = invite(&alex, &remote, &[]);
    assert_eq!(code.split('-').count(), 5, "{code:?}");
    let joined = join(&sam, &remote, &code).ok();
    assert!(
        joined.contains("as the partner of the person who invited you"),
        "{joined}"
    );
    let invited = finish(child);
    let out = invited.ok();
    assert!(out.contains("joined as your partner"), "{out}");
    // The code was printed once: the first line, read above.
    assert!(!out.contains(&code), "{out}");
    assert!(!invited.stderr().contains(&code), "{}", invited.stderr());
    assert!(
        invited.stderr().contains("started a journal"),
        "{}",
        invited.stderr()
    );

    // Before the pairing line arrives, the joiner is told to sync.
    let early = sam.run(&["partner", "show"]).fails(1);
    assert!(early.contains("safe sync"), "{early}");

    carry_logs(&alex, &sam);
    carry_logs(&sam, &alex);
    let ours = alex.run(&["partner", "show"]).ok();
    let theirs = sam.run(&["partner", "show"]).ok();
    assert!(ours.contains("Alex and Sam"), "{ours}");
    assert!(theirs.contains("Sam and Alex"), "{theirs}");
    assert!(ours.contains("in person"), "{ours}");
    let number = safety_number(&ours);
    assert_eq!(number.lines().count(), 2, "{ours}");
    assert_eq!(number, safety_number(&theirs));
    let json = alex.run(&["partner", "show", "--json"]).json();
    assert_eq!(json["partner"]["name"], "Sam");
    assert_eq!(
        json["safety_number"].as_str().unwrap(),
        number.split_whitespace().collect::<Vec<_>>().join(" ")
    );

    let devices = sam.run(&["device", "list"]).ok();
    assert!(
        devices.contains("this device") && devices.contains("paired as partner"),
        "{devices}"
    );
    // A second partner is refused, with the way to pair a device instead.
    let again = alex
        .run(&["invite", "--remote", &remote.url(), "--timeout", "1s"])
        .fails(2);
    assert!(again.contains("already has a partner (Sam)"), "{again}");
    assert!(again.contains("--device"), "{again}");
    // Nothing of the pairing is left in the data directories.
    for env in [&alex, &sam] {
        assert!(no_scratch(&env.data_dir()), "a .pairing- folder was left");
    }
}

fn no_scratch(root: &Path) -> bool {
    std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with(".pairing-"))
}

#[test]
fn a_wrong_code_fails_on_both_sides_and_burns_the_invite() {
    let remote = Remote::new();
    let (alex, sam) = (TestEnv::named("Alex"), TestEnv::named("Sam"));
    let (child, code) = invite(&alex, &remote, &[]);
    let (head, last) = code.rsplit_once('-').unwrap();
    let wrong = format!("{head}-{}", if last == "river" { "rose" } else { "river" });
    let joiner = join(&sam, &remote, &wrong).fails(2);
    let inviter = finish(child).fails(2);
    for err in [&joiner, &inviter] {
        assert!(err.contains("the codes did not match"), "{err}");
        assert!(err.contains("burned on both sides"), "{err}");
        assert!(err.contains("run `safe invite` again"), "{err}");
    }
    // The right code, tried next, is refused too.
    let late = join(&sam, &remote, &code).fails(2);
    assert!(late.contains("used or has expired"), "{late}");
    assert!(!sam.path("journal.json").exists());
}

#[test]
fn invite_needs_a_remote_and_join_a_well_formed_code() {
    let alex = TestEnv::new();
    let err = alex.run(&["invite"]).fails(2);
    assert!(err.contains("no remote"), "{err}");
    assert!(err.contains("--remote"), "{err}");
    let err = alex
        .run(&["join", "/nowhere.git", "7-tulip-orbit-mapel-river"])
        .fails(2);
    assert!(
        err.contains("`mapel` is not one of safe's code words"),
        "{err}"
    );
    let err = alex.run(&["partner", "show"]).fails(2);
    assert!(err.contains("not paired"), "{err}");
}

#[test]
fn a_device_invite_pairs_another_device_of_the_same_person() {
    let remote = Remote::new();
    let (laptop, phone) = (TestEnv::named("Alex"), TestEnv::named("Alex"));
    let url = remote.url();
    let pairing = laptop.pair(&phone, &url, &["--remote", &url, "--device"]);
    let joined = pairing.joined.ok();
    assert!(
        joined.contains("another device of the person who invited you"),
        "{joined}"
    );
    assert!(pairing.invited.ok().contains("as another device of yours"));
    carry_logs(&laptop, &phone);
    let devices = phone.run(&["device", "list"]).ok();
    assert_eq!(devices.lines().count(), 2, "{devices}");
    assert!(devices.contains("created the journal"), "{devices}");
    assert!(devices.contains("paired as mine"), "{devices}");
}

/// Ctrl-C (SIGINT, sent with the `kill` command) while `safe invite`
/// waits: the invitation is taken back from the remote, nothing is left
/// half done here, the old code leads nowhere, and a new invite pairs.
#[test]
fn ctrl_c_while_inviting_takes_the_invitation_back() {
    let remote = Remote::new();
    let (alex, sam) = (TestEnv::named("Alex"), TestEnv::named("Sam"));
    let (child, code) = invite(&alex, &remote, &[]);
    let pending = || remote.git(&["for-each-ref", "--format=%(refname)", "refs/safe/pair"]);
    // Its first message is on the remote: the invitation waits there.
    let start = std::time::Instant::now();
    while pending().is_empty() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "the invitation never reached the remote"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let stopped = finish(child);
    let err = stopped.fails(1);
    assert!(err.contains("Ctrl-C"), "{err}");
    assert!(err.contains("taken back from the remote"), "{err}");
    assert!(err.contains("run `safe invite` again"), "{err}");
    assert_eq!(
        pending(),
        "",
        "nothing of the invitation is left on the remote"
    );
    assert!(no_scratch(&alex.data_dir()), "a .pairing- folder was left");

    // The old code finds no invitation.
    let url = remote.url();
    let late = sam
        .run(&["join", &url, &code, "--poll", "20ms", "--timeout", "1s"])
        .fails(2);
    assert!(late.contains("is waiting at the remote"), "{late}");
    // A new invite pairs as if nothing had happened.
    let pairing = alex.pair(&sam, &url, &["--remote", &url]);
    pairing.ok();
    assert!(pairing.invited.stdout().contains("joined as your partner"));
}
