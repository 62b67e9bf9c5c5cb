//! What sync keeps between runs to stay fast (`sync.git`, its stat record
//! and sealing state) never keeps what must go, and a sync that finds
//! nothing new rewrites none of it.

use std::path::Path;

use crate::env::{TestEnv, contains_bytes, files_under};
use crate::sync::{all_objects, couple, device_of, git, history, log, sync};

/// Every file under a data directory holding `marker`, with every object
/// of its `sync.git` decompressed (`git cat-file --batch-all-objects`)
/// counted as a file of its own.
fn holding(env: &TestEnv, marker: &str) -> Vec<String> {
    let dir = env.data_dir();
    let mut found: Vec<String> = files_under(&dir)
        .into_iter()
        .filter(|p| contains_bytes(&std::fs::read(p).unwrap(), marker))
        .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
        .collect();
    if contains_bytes(&all_objects(&dir.join("sync.git")), marker) {
        found.push("an object of sync.git".to_string());
    }
    found
}

/// DESIGN.md §3 "Notes and deletion" with sealed sync: once a shared note
/// is edited away and both sides synced, neither data directory holds it
/// in the clear, `sync.git` included (no plaintext of an old segment is
/// kept there), except the writer's own private stash of stripped notes.
#[test]
fn a_stripped_shared_note_stays_in_no_sync_git() {
    let (alex, sam, _remote) = couple();
    let marker = "MARKER-stripped-note";
    let id = log(&alex, &["listen", "--note", marker, "--share-note"]);
    sync(&alex);
    sync(&sam);
    assert!(
        history(&sam, "all").iter().any(|e| e["note"] == marker),
        "Sam received the note"
    );
    alex.run(&["edit", &id, "--note", "new words"]).ok();
    sync(&alex);
    sync(&sam);
    sync(&alex);
    assert!(
        history(&sam, "all")
            .iter()
            .any(|e| e["note"] == "new words")
    );
    assert_eq!(holding(&sam, marker), Vec::<String>::new());
    assert_eq!(holding(&alex, marker), ["private/stripped-notes.jsonl"]);
}

/// A `sync.git` left by a safe that kept the segments it opened as
/// plaintext blobs (sealing state version 1): the next sync removes them.
#[test]
fn plaintext_blobs_an_older_sync_left_are_removed() {
    let (alex, sam, _remote) = couple();
    log(&alex, &["listen"]);
    sync(&alex);
    sync(&sam);
    let git_dir = sam.data_dir().join("sync.git");
    let blob = write_blob(&git_dir, "MARKER-old-plaintext");
    // The state as version 1 wrote it, naming that blob as the plaintext
    // of one of Alex's segments.
    let state_path = git_dir.join("safe-seal.json");
    let mut state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    state["v"] = 1.into();
    let sealed = "0123456789abcdef0123456789abcdef01234567";
    state["cache"][sealed] =
        serde_json::json!([device_of(&alex), "00/00/0000000001.jsonl", blob, "age1old"]);
    std::fs::write(&state_path, serde_json::to_vec(&state).unwrap()).unwrap();
    assert!(contains_bytes(
        &all_objects(&git_dir),
        "MARKER-old-plaintext"
    ));

    sync(&sam);
    assert!(!contains_bytes(
        &all_objects(&git_dir),
        "MARKER-old-plaintext"
    ));
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state_path).unwrap()).unwrap();
    assert_eq!(state["v"], 2);
    git(&git_dir, &["fsck", "--no-progress"]);
}

fn write_blob(git_dir: &Path, text: &str) -> String {
    let file = git_dir.join("blob.txt");
    std::fs::write(&file, text).unwrap();
    let oid = git(git_dir, &["hash-object", "-w", file.to_str().unwrap()])
        .trim()
        .to_string();
    std::fs::remove_file(file).unwrap();
    oid
}

/// A sync with nothing new on either side says so and leaves the stat
/// record and the sealing state of `sync.git` as they were (not written
/// again, so no flush), whereas a sync that brings something records it.
#[test]
fn a_sync_with_nothing_new_rewrites_no_state_file() {
    let (alex, sam, _remote) = couple();
    log(&alex, &["listen", "--note", "one", "--share-note"]);
    sync(&alex);
    sync(&sam);
    // Each file as it is (its inode changes when it is written again, as
    // every write is a new file renamed into place), or missing.
    let state = |env: &TestEnv| {
        ["safe-log-stat.json", "safe-seal.json"].map(|name| {
            let path = env.data_dir().join("sync.git").join(name);
            std::fs::metadata(&path)
                .ok()
                .map(|meta| (inode(&meta), std::fs::read(&path).unwrap()))
        })
    };
    let before = state(&sam);
    assert!(before[1].is_some(), "the sealing state is kept");
    assert_eq!(sam.run(&["sync"]).ok().trim(), "Already in sync.");
    assert!(
        state(&sam) == before,
        "a sync with nothing new rewrote a state file"
    );

    log(&alex, &["date"]);
    sync(&alex);
    sync(&sam);
    assert!(state(&sam)[1] != before[1], "what was opened is recorded");
}

#[cfg(unix)]
fn inode(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt;
    meta.ino()
}

#[cfg(not(unix))]
fn inode(_meta: &std::fs::Metadata) -> u64 {
    0
}

/// DESIGN.md §4: a first sync takes only the tip's objects, from a remote
/// on this machine as over the network: a partner's new device does not
/// copy every sealed version the remote's history holds.
#[test]
fn a_first_sync_from_a_local_remote_takes_only_the_tip() {
    let (alex, sam, remote) = couple();
    for practice in ["listen", "check-in", "mirror"] {
        log(&alex, &[practice, "--note", "MARKER-old", "--share-note"]);
        sync(&alex);
    }
    let commits = remote.git(&["rev-list", "--count", "main"]);
    assert!(commits.trim().parse::<u32>().unwrap() >= 4, "{commits}");

    let history_before = remote.git(&["rev-list", "main"]);
    let laptop = TestEnv::named("Sam");
    sam.pair(&laptop, &remote.url(), &["--device"]).ok();
    sync(&sam);
    laptop.run(&["sync", "--remote", &remote.url()]).ok();
    let git_dir = laptop.path("sync.git");
    assert_eq!(
        git(&git_dir, &["rev-parse", "--is-shallow-repository"]).trim(),
        "true"
    );
    // Of the history before it joined, the tip at most reached it: not one
    // older commit (nor the sealed segments only they held).
    for commit in history_before.lines().skip(1) {
        let held = std::process::Command::new("git")
            .arg("--git-dir")
            .arg(&git_dir)
            .args(["cat-file", "-e", commit])
            .status()
            .unwrap();
        assert!(
            !held.success(),
            "commit {commit} of the old history was copied"
        );
    }
    assert!(
        history(&laptop, "partner")
            .iter()
            .any(|e| e["note"] == "MARKER-old")
    );
    // It writes and pushes from its shallow copy, and everyone converges.
    crate::sync::a_shallow_device_writes_and_everyone_converges(&alex, &sam, &laptop);
}

/// DESIGN.md §7, push access: "delete or withhold data (each partner keeps
/// a full local copy)". A remote whose history was rewritten with plain
/// git (a new root commit holding the same tree, put in place of `main`)
/// loses no one anything: a shallow copy and a full one both sync through
/// it, and everyone converges.
#[test]
fn a_remote_whose_history_was_rewritten_with_plain_git_loses_nothing() {
    let (alex, sam, remote) = couple();
    log(&alex, &["listen", "--note", "before", "--share-note"]);
    sync(&alex);
    sync(&sam);
    let orphan = remote.git(&[
        "-c",
        "user.name=someone",
        "-c",
        "user.email=someone@example.org",
        "commit-tree",
        "main^{tree}",
        "-m",
        "history rewritten",
    ]);
    remote.git(&["update-ref", "refs/heads/main", orphan.trim()]);
    assert_eq!(remote.git(&["rev-list", "--count", "main"]).trim(), "1");

    log(&alex, &["check-in"]);
    log(&sam, &["mirror"]);
    for env in [&alex, &sam, &alex, &sam] {
        sync(env);
    }
    assert_eq!(crate::sync::ids(&alex), crate::sync::ids(&sam));
    assert_eq!(crate::sync::ids(&alex).len(), 3);
    assert!(
        history(&sam, "partner")
            .iter()
            .any(|e| e["note"] == "before")
    );
}
