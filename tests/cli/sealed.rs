//! The sealed sync (DESIGN.md §4 "Sealed", §7): the git host reads nothing.
//! Two partners, one with two devices, share notes, names, practices and
//! goals through a real bare remote; then everything the remote holds is
//! searched for what they wrote, and remotes crafted with plain `git`
//! (a segment in the clear, sealed to other keys, cut short, or moved from
//! another device's log) are refused, naming the file, with nothing
//! changed here.

use std::path::Path;

use crate::env::TestEnv;
use crate::sync::{Remote, couple, craft, device_of, git, history, log, mine, pair_device, sync};

/// A change made to a checkout of the remote.
type Edit<'a> = Box<dyn Fn(&Path) + 'a>;

#[test]
fn the_remote_holds_nothing_anyone_wrote_in_the_clear() {
    let (alex, sam, remote) = couple();
    let sam_phone = TestEnv::named("Sam");
    pair_device(&sam, &sam_phone, &remote);
    // Names long enough that no run of random bytes (the sealed files)
    // holds them by chance, as it may hold three letters like `Sam`.
    alex.run(&["init", "--name", "Alex Quillfeather"]).ok();
    sam.run(&["init", "--name", "Sam Brightwater"]).ok();
    alex.run(&[
        "practice",
        "add",
        "read-aloud",
        "--goal",
        "2/week",
        "--about",
        "MARKER-about-reading",
    ])
    .ok();
    log(
        &alex,
        &["appreciation", "--note", "MARKER-alex-note", "--share-note"],
    );
    log(
        &alex,
        &[
            "read-aloud",
            "--note",
            "MARKER-alex-reading",
            "--share-note",
        ],
    );
    log(
        &sam,
        &["listen", "--note", "MARKER-sam-note", "--share-note"],
    );
    sam.run(&["practice", "add", "slow-walks", "--goal", "daily"])
        .ok();
    log(
        &sam_phone,
        &["repair", "--note", "MARKER-phone-note", "--share-note"],
    );
    for _ in 0..2 {
        for env in [&alex, &sam, &sam_phone] {
            sync(env);
        }
    }
    // Everyone sees everything shared.
    for env in [&alex, &sam, &sam_phone] {
        let all = history(env, "all");
        for marker in ["MARKER-alex-note", "MARKER-sam-note", "MARKER-phone-note"] {
            assert!(all.iter().any(|e| e["note"] == marker), "{marker}");
        }
    }
    remote.git(&["gc", "--quiet"]);
    let objects = remote.all_objects();
    let text = String::from_utf8_lossy(&objects);
    for word in [
        "MARKER",
        "Quillfeather",
        "Brightwater",
        "\"Alex\"",
        "\"Sam\"",
        "appreciation",
        "read-aloud",
        "slow-walks",
        "listen",
        "repair",
        "2/week",
        "\"practice\"",
        "\"v\":2",
        "\"rec\"",
    ] {
        assert!(!text.contains(word), "{word} is in the remote");
    }
    // No blob, nor any line of one, is a JSON entry or record. (What the
    // remote does hold in JSON are the pairing messages left unreachable,
    // docs/protocol.md "Carrying them through the remote": no entry.)
    for line in text.lines() {
        if let Ok(serde_json::Value::Object(value)) = serde_json::from_str(line) {
            for field in ["practice", "rec", "note", "day", "name", "payload"] {
                assert!(!value.contains_key(field), "a record in the remote: {line}");
            }
        }
    }
    // Every path is of the sealed layout; the commits name no one, no time.
    for path in remote.files() {
        assert!(safe::seal::layout::parse(&path).is_some(), "{path}");
    }
    let commits = remote.git(&["log", "--format=%an|%ae|%at|%cn|%ce|%ct|%s", "main"]);
    for commit in commits.lines() {
        assert_eq!(
            commit,
            "safe|safe@safe.invalid|0|safe|safe@safe.invalid|0|safe"
        );
    }
    // Plain git still clones it; what it gets is sealed.
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["clone", "--quiet", &remote.url(), "copy"]);
    assert!(work.path().join("copy/epochs/1.age").exists());
    // The status names the three devices the journal is sealed to, and
    // the safety number the partners compare.
    let status = sam.run(&["sync", "--status"]).ok();
    assert!(status.contains("Sealed to 3 devices"), "{status}");
    assert!(
        status.contains("this device") && status.contains("Alex Quillfeather's"),
        "{status}"
    );
    let number = alex.run(&["partner", "show", "--json"]).json()["safety_number"]
        .as_str()
        .unwrap()
        .to_string();
    let first_group = number.split(' ').next().unwrap();
    assert!(status.contains(first_group), "{status}");
}

/// What `alex` refuses in a crafted remote: exit 1, the file named, the
/// reason given, nothing of Alex's changed.
#[track_caller]
fn refused(alex: &TestEnv, file: &str, why: &str) {
    let before = mine(alex);
    let shared = crate::sync::shared_files(alex);
    let err = alex.run(&["sync"]).fails(1);
    assert!(err.contains(file), "{file} not named in:\n{err}");
    assert!(err.contains(why), "{why:?} not in:\n{err}");
    assert_eq!(mine(alex), before);
    assert_eq!(crate::sync::shared_files(alex), shared);
}

#[test]
fn a_segment_sealed_to_other_keys_cut_short_or_moved_from_another_log_is_refused() {
    let (alex, sam, remote) = couple();
    log(&alex, &["appreciation", "--note", "kept", "--share-note"]);
    sync(&alex);
    sync(&sam);
    let (a, s) = (device_of(&alex), device_of(&sam));
    let mine_at = format!("log/{a}/0/0.age");
    let cases: Vec<(&str, Edit)> = vec![
        (
            "sealed to keys this device does not hold",
            Box::new(|c: &Path| {
                let stranger = age::x25519::Identity::generate();
                let device = safe::keys::DeviceId::parse(&a).unwrap();
                let sealed = safe::seal::segment::seal(
                    &stranger.to_public(),
                    &device,
                    "00/00/0000000001.jsonl",
                    b"anything\n",
                )
                .unwrap();
                std::fs::write(c.join(&mine_at), sealed).unwrap();
            }),
        ),
        (
            "cut short or changed",
            Box::new(|c: &Path| {
                let path = c.join(&mine_at);
                let bytes = std::fs::read(&path).unwrap();
                std::fs::write(&path, &bytes[..bytes.len() - 100]).unwrap();
            }),
        ),
        (
            "another device's log",
            Box::new(|c: &Path| {
                std::fs::copy(c.join(format!("log/{s}/0/0.age")), c.join(&mine_at)).unwrap();
            }),
        ),
    ];
    for (why, edit) in cases {
        let tip = remote.main().unwrap();
        craft(&remote, edit);
        refused(&alex, &mine_at, why);
        // The copy here went back over it: the next sync is clean.
        alex.run(&["sync"]).ok();
        remote.git(&["update-ref", "refs/heads/main", &tip]);
    }
}

#[test]
fn once_sealed_a_remote_with_anything_in_the_clear_is_refused() {
    let (alex, _sam, remote) = couple();
    let a = device_of(&alex);
    let plain = std::fs::read(
        alex.segments("shared/log")
            .into_iter()
            .find(|p| p.to_string_lossy().contains(&a))
            .unwrap(),
    )
    .unwrap();
    let cases: Vec<(String, &str, Vec<u8>)> = vec![
        // A segment in the clear where a sealed one belongs.
        (format!("log/{a}/0/0.age"), "not sealed", plain.clone()),
        // A log as a safe without sealing wrote it.
        (
            format!("shared/log/{a}/00/00/0000000001.jsonl"),
            "not part of a sealed journal",
            plain,
        ),
        // Something else entirely.
        (
            "notes.txt".into(),
            "not part of a sealed journal",
            b"hi\n".to_vec(),
        ),
        // A journal of safe 0.1.
        ("people.json".into(), "schema 1", b"{}".to_vec()),
    ];
    for (path, why, bytes) in cases {
        let tip = remote.main().unwrap();
        craft(&remote, |c| {
            let at = c.join(&path);
            std::fs::create_dir_all(at.parent().unwrap()).unwrap();
            std::fs::write(at, &bytes).unwrap();
        });
        let crafted = remote.main();
        let before = alex.snapshot();
        let err = alex.run(&["sync"]).fails(1);
        let top = path.split('/').next().unwrap();
        assert!(err.contains(top), "{path} not named in:\n{err}");
        assert!(err.contains(why), "{why:?} not in:\n{err}");
        assert!(alex.snapshot() == before, "{path}: local data changed");
        assert_eq!(remote.main(), crafted, "nothing is pushed over it");
        remote.git(&["update-ref", "refs/heads/main", &tip]);
    }
}

#[test]
fn a_fresh_remote_gets_the_whole_journal_sealed_again() {
    let (alex, sam, remote) = couple();
    log(
        &alex,
        &["appreciation", "--note", "MARKER-move", "--share-note"],
    );
    sync(&alex);
    let fresh = Remote::new();
    alex.run(&["sync", "--remote", &fresh.url()]).ok();
    // Only the fresh remote's own history: one commit, a new epoch.
    assert_eq!(fresh.git(&["rev-list", "--count", "main"]).trim(), "1");
    assert!(!String::from_utf8_lossy(&fresh.all_objects()).contains("MARKER"));
    let old: Vec<String> = remote
        .files()
        .into_iter()
        .filter(|f| f.starts_with("log/"))
        .collect();
    let new: Vec<String> = fresh
        .files()
        .into_iter()
        .filter(|f| f.starts_with("log/"))
        .collect();
    assert_eq!(old, new);
    // Sam moves too, and reads everything from the fresh remote.
    sam.run(&["sync", "--remote", &fresh.url()]).ok();
    assert!(
        history(&sam, "partner")
            .iter()
            .any(|e| e["note"] == "MARKER-move")
    );
}

/// The plaintext `keys_of`'s keys open from a clone of the remote, as
/// that device could with its saved keys and plain git: every opened
/// segment's bytes, and the sealed segments it could not open.
fn open_as(remote: &Remote, keys_of: &TestEnv) -> (Vec<u8>, Vec<String>) {
    let work = tempfile::tempdir().unwrap();
    git(work.path(), &["clone", "--quiet", &remote.url(), "w"]);
    let checkout = work.path().join("w");
    safe::seal::tools::open_checkout(&checkout, &keys_of.data_dir()).unwrap();
    let mut plain = Vec::new();
    let mut sealed = Vec::new();
    for path in crate::env::files_under(&checkout) {
        let rel = path.strip_prefix(&checkout).unwrap().to_string_lossy();
        if rel.starts_with("shared/log/") {
            plain.extend(std::fs::read(&path).unwrap());
        } else if rel.starts_with("log/") {
            sealed.push(rel.into_owned());
        }
    }
    (plain, sealed)
}

/// The ids of every entry `env` reads, sorted.
fn all_ids(env: &TestEnv) -> Vec<String> {
    let mut ids: Vec<String> = history(env, "all")
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

fn notes(env: &TestEnv) -> Vec<String> {
    history(env, "all")
        .iter()
        .filter_map(|e| e["note"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn a_removed_device_reads_nothing_written_after_and_its_later_lines_are_ignored() {
    let (alex, sam, remote) = couple();
    let laptop = TestEnv::named("Alex");
    pair_device(&alex, &laptop, &remote);
    log(
        &alex,
        &["appreciation", "--note", "MARKER-before", "--share-note"],
    );
    for env in [&alex, &sam, &laptop, &alex] {
        sync(env);
    }
    assert!(notes(&laptop).contains(&"MARKER-before".to_string()));
    let gone = device_of(&laptop);

    // Without a terminal and without --yes, nothing is removed.
    let err = alex.run(&["device", "remove", &gone[..8]]).fails(2);
    assert!(err.contains("--yes"), "{err}");
    // Not this device, nor the partner's, by `device remove`.
    let err = alex
        .run(&["device", "remove", &device_of(&alex), "--yes"])
        .fails(2);
    assert!(err.contains("this device"), "{err}");
    let err = alex
        .run(&["device", "remove", &device_of(&sam), "--yes"])
        .fails(2);
    assert!(err.contains("partner remove"), "{err}");

    let run = alex.run(&["device", "remove", &gone[..8], "--yes"]);
    let out = run.ok();
    assert!(
        out.contains(&format!("Removed device {}", &gone[..8])),
        "{out}"
    );
    assert!(out.contains("safe sync --remote NEW_URL"), "{out}");
    let said = run.stderr();
    assert!(said.contains("keeps everything synced before"), "{said}");
    assert!(said.contains("sees nothing you write after this"), "{said}");
    let listed = alex.run(&["device", "list", "--json"]).ok();
    let removed = listed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|d| d["id"] == gone.as_str())
        .unwrap();
    assert_eq!(removed["removed"], true);

    // The laptop has not heard yet: it writes and syncs (to the old epoch).
    log(
        &laptop,
        &["listen", "--note", "MARKER-laptop-after", "--share-note"],
    );
    sync(&laptop);
    // The remaining devices write after the removal, and sync.
    log(
        &alex,
        &["repair", "--note", "MARKER-alex-after", "--share-note"],
    );
    log(
        &sam,
        &["check-in", "--note", "MARKER-sam-after", "--share-note"],
    );
    for env in [&alex, &sam, &alex, &sam] {
        sync(env);
    }

    // With its saved keys, the laptop opens nothing written after: the
    // segments holding it are sealed to a new epoch it was not given.
    let (plain, unopened) = open_as(&remote, &laptop);
    let plain = String::from_utf8_lossy(&plain);
    assert!(
        !plain.contains("MARKER-alex-after"),
        "the removed device reads it"
    );
    assert!(
        !plain.contains("MARKER-sam-after"),
        "the removed device reads it"
    );
    assert!(!unopened.is_empty());
    // Sam's keys open them: they are there, sealed.
    let (plain, _) = open_as(&remote, &sam);
    let plain = String::from_utf8_lossy(&plain);
    assert!(plain.contains("MARKER-alex-after") && plain.contains("MARKER-sam-after"));
    let status = alex.run(&["sync", "--status"]).ok();
    assert!(status.contains("Sealed to 2 devices"), "{status}");

    // The laptop's sync says what happened; what it had, it keeps.
    let err = laptop.run(&["sync"]).fails(1);
    assert!(err.contains("removed from the journal"), "{err}");
    assert!(notes(&laptop).contains(&"MARKER-before".to_string()));
    // It never reads the removal (sealed to the new epoch): what it
    // writes stays on its side.

    // The remaining devices converge, without the laptop's later line.
    for env in [&alex, &sam] {
        let seen = notes(env);
        assert!(
            !seen.contains(&"MARKER-laptop-after".to_string()),
            "{seen:?}"
        );
        for marker in ["MARKER-before", "MARKER-alex-after", "MARKER-sam-after"] {
            assert!(seen.contains(&marker.to_string()), "{marker}: {seen:?}");
        }
    }
    assert_eq!(all_ids(&alex), all_ids(&sam));
    // The device does not come back.
    let err = alex
        .run(&["device", "remove", &gone[..8], "--yes"])
        .fails(2);
    assert!(err.contains("removed already"), "{err}");
}

#[test]
fn removing_the_partner_ends_the_couple_on_my_side_and_a_partner_cannot_remove_my_devices() {
    let (alex, sam, remote) = couple();
    log(
        &alex,
        &[
            "appreciation",
            "--note",
            "MARKER-alex-before",
            "--share-note",
        ],
    );
    log(
        &sam,
        &["listen", "--note", "MARKER-sam-before", "--share-note"],
    );
    for env in [&alex, &sam, &alex] {
        sync(env);
    }

    // A hostile partner writes a removal of Alex's device and seals it to
    // the epoch Alex holds, so that Alex reads it: Alex refuses it.
    let run = sam.run(&["partner", "remove", "--yes"]);
    let out = run.ok();
    assert!(
        out.contains(&format!("Removed device {}", &device_of(&alex)[..8])),
        "{out}"
    );
    assert!(run.stderr().contains("Alex (1 device)"), "{}", run.stderr());
    let sams = device_of(&sam);
    let sams_log = sam.data_dir().join("shared/log").join(&sams);
    remote.open_with(&sam);
    remote.tamper(|checkout| {
        let into = checkout.join("shared/log").join(&sams);
        for file in crate::env::files_under(&sams_log) {
            let to = into.join(file.strip_prefix(&sams_log).unwrap());
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(&file, to).unwrap();
        }
    });
    let err = alex.run(&["sync"]).fails(1);
    assert!(err.contains("removes your device"), "{err}");
    assert!(err.contains("`safe partner remove`"), "{err}");
    // Alex's devices stay Alex's: Alex writes and is still sealed to.
    log(
        &alex,
        &["repair", "--note", "MARKER-alex-after", "--share-note"],
    );
    let listed = alex.run(&["device", "list", "--json"]).ok();
    assert!(listed.contains("\"removed\":false"), "{listed}");
    assert!(!listed.contains("\"removed\":true"), "{listed}");
    alex.run(&["sync"]).fails(1);

    // On Sam's side the couple has ended: Alex's later lines are ignored,
    // and what Sam writes now is sealed to a new epoch only Sam holds.
    log(
        &sam,
        &["check-in", "--note", "MARKER-sam-after", "--share-note"],
    );
    sync(&sam);
    sync(&sam);
    let seen = notes(&sam);
    assert!(seen.contains(&"MARKER-alex-before".to_string()), "{seen:?}");
    assert!(!seen.contains(&"MARKER-alex-after".to_string()), "{seen:?}");
    let status = sam.run(&["sync", "--status"]).ok();
    assert!(status.contains("Sealed to 1 device"), "{status}");
    let (plain, _) = open_as(&remote, &alex);
    let plain = String::from_utf8_lossy(&plain);
    assert!(
        !plain.contains("MARKER-sam-after"),
        "Alex reads what Sam wrote after"
    );
    let err = alex.run(&["sync"]).fails(1);
    assert!(err.contains("removed from the journal"), "{err}");
    // Alex keeps what was synced before.
    assert!(notes(&alex).contains(&"MARKER-sam-before".to_string()));
    // Sam cannot pair a new partner into this journal, nor end it twice.
    let err = sam.run(&["partner", "remove", "--yes"]).fails(2);
    assert!(err.contains("removed from this journal already"), "{err}");
}
