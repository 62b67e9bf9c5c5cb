//! DESIGN.md §7, row by row: what someone with push access (here Sam, a
//! partner turned hostile, who holds his own device key and the plain
//! `git` command) cannot do to Alex. Each attack is a commit crafted in a
//! clone of the remote and pushed; then Alex syncs with the real binary.
//!
//! A line is forged the way docs/protocol.md "Lines" and "Chains" write
//! one: `payload TAB sig [TAB sidecar] LF`, the payload naming the device,
//! the next `seq` and the hash of the line before; the signature Ed25519
//! over `safe-line-v2\0` and the payload.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signer, SigningKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{
    Remote, couple, device_of, git, history, journal_id, log, mine, name_in_history, person_of,
    shared_files, sync,
};
use crate::env::{TestEnv, contains_bytes, files_under};

/// `rev.ms` of `NOW` (2026-11-27 19:00 UTC), the clock of every test here.
const NOW_MS: u64 = 1_795_806_000_000;
/// 2100-01-01 00:00 UTC.
const FAR_AHEAD_MS: u64 = 4_102_444_800_000;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// The secret key of a data directory, as its owner can read it.
fn key_of(env: &TestEnv) -> SigningKey {
    let text = std::fs::read_to_string(env.path("keys/device.ed25519")).unwrap();
    SigningKey::from_bytes(&unhex(text.trim()).try_into().unwrap())
}

/// A key nobody paired, made by the attacker.
fn new_key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn device_id(key: &SigningKey) -> String {
    hex(&Sha256::digest(key.verifying_key().as_bytes()))[..32].to_string()
}

fn sha(text: &[u8]) -> String {
    hex(&Sha256::digest(text))
}

/// The folder of `device`'s log in a checkout (or a data directory).
fn log_dir(root: &Path, device: &str) -> PathBuf {
    root.join("shared/log").join(device)
}

/// The last segment of a log, and the `seq` and payload hash of its last line.
fn tail(root: &Path, device: &str) -> (PathBuf, u64, String) {
    let mut segments = files_under(&log_dir(root, device));
    segments.sort();
    let last = segments.pop().expect("the log has a segment");
    let text = std::fs::read_to_string(&last).unwrap();
    let line = text.lines().last().unwrap();
    let payload = line.split('\t').next().unwrap();
    let seq = serde_json::from_str::<Value>(payload).unwrap()["seq"]
        .as_u64()
        .unwrap();
    (last, seq, sha(payload.as_bytes()))
}

/// One line: `payload TAB sig [TAB sidecar] LF`, signed by `signer` (or
/// with an empty signature).
fn line(
    device: &str,
    seq: u64,
    prev: &str,
    rec: &str,
    signer: Option<&SigningKey>,
    sidecar: Option<&str>,
) -> String {
    let payload = format!(
        r#"{{"v":2,"device":"{device}","seq":{seq},"prev":"{prev}","op":"forged-{seq}","rec":{rec}}}"#
    );
    let sig = signer
        .map(|key| {
            let mut message = b"safe-line-v2\0".to_vec();
            message.extend_from_slice(payload.as_bytes());
            hex(&key.sign(&message).to_bytes())
        })
        .unwrap_or_default();
    match sidecar {
        Some(sidecar) => format!("{payload}\t{sig}\t{sidecar}\n"),
        None => format!("{payload}\t{sig}\n"),
    }
}

/// Append one line to `device`'s log in `root`, chained to its last line.
fn append(root: &Path, device: &str, rec: &str, signer: Option<&SigningKey>) {
    let (segment, seq, prev) = tail(root, device);
    let mut bytes = std::fs::read(&segment).unwrap();
    bytes.extend_from_slice(line(device, seq + 1, &prev, rec, signer, None).as_bytes());
    std::fs::write(segment, bytes).unwrap();
}

/// A whole new log for `key` in `root`, from its genesis in `journal`:
/// each record one signed line.
fn new_log(root: &Path, journal: &str, key: &SigningKey, recs: &[String]) {
    let device = device_id(key);
    let mut genesis = b"safe-genesis\0".to_vec();
    genesis.extend_from_slice(journal.as_bytes());
    genesis.extend_from_slice(b"\0shared\0");
    genesis.extend_from_slice(key.verifying_key().as_bytes());
    let mut prev = sha(&genesis);
    let mut text = String::new();
    for (i, rec) in recs.iter().enumerate() {
        let one = line(&device, i as u64 + 1, &prev, rec, Some(key), None);
        prev = sha(one.split('\t').next().unwrap().as_bytes());
        text.push_str(&one);
    }
    let path = log_dir(root, &device).join("00/00/0000000001.jsonl");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// Change the line of `device`'s log that holds `needle`, with `change`.
fn rewrite_line(root: &Path, device: &str, needle: &str, change: impl Fn(&str) -> String) {
    for segment in files_under(&log_dir(root, device)) {
        let text = std::fs::read_to_string(&segment).unwrap();
        if !text.contains(needle) {
            continue;
        }
        let changed: String = text
            .lines()
            .map(|l| {
                let l = if l.contains(needle) {
                    change(l)
                } else {
                    l.to_string()
                };
                l + "\n"
            })
            .collect();
        assert_ne!(changed, text, "the line changed");
        std::fs::write(segment, changed).unwrap();
        return;
    }
    panic!("no line holds {needle}");
}

fn rev(ms: u64) -> String {
    format!(r#"{{"ms":{ms},"c":0}}"#)
}

fn entry(id: &str, practice: &str, ms: u64) -> String {
    format!(
        r#"{{"t":"entry","id":"{id}","practice":"{practice}","day":"2026-11-27","at":"2026-11-27T20:00:00+01:00","rev":{}}}"#,
        rev(ms)
    )
}

/// A couple where each has shared something, and Sam has logged one more
/// honest entry and synced it, which Alex has not received yet: the
/// attack comes on top of it.
struct Scene {
    alex: TestEnv,
    sam: TestEnv,
    remote: Remote,
    /// Alex's device (Alex's person is the root: the same id).
    alex_dev: String,
    sam_dev: String,
    /// Alex's entry, with the shared note `ALEX-NOTE`.
    alex_entry: String,
    /// Sam's entry logged before the attack.
    honest: String,
    /// `mine(&alex)` before the attack.
    before: String,
}

fn scene() -> Scene {
    let (alex, sam, remote) = couple();
    let alex_entry = log(
        &alex,
        &["appreciation", "--note", "ALEX-NOTE", "--share-note"],
    );
    alex.run(&[
        "practice",
        "add",
        "read-aloud",
        "--goal",
        "2/week",
        "--about",
        "read to each other",
    ])
    .ok();
    sync(&alex);
    sync(&sam);
    let honest = log(&sam, &["check-in", "--note", "honest", "--share-note"]);
    sync(&sam);
    Scene {
        alex_dev: device_of(&alex),
        sam_dev: device_of(&sam),
        before: mine(&alex),
        alex,
        sam,
        remote,
        alex_entry,
        honest,
    }
}

impl Scene {
    /// Alex syncs: the attack is refused with a message naming whose data
    /// it was (`whose`), exit 1; Alex's own journal is as it was; Sam's
    /// honest entry arrived all the same. Returns stderr.
    #[track_caller]
    fn refused(&self, whose: &str) -> String {
        let run = self.alex.run(&["sync"]);
        let err = run.fails(1);
        assert!(err.contains("safe: refused:"), "{err}");
        assert!(err.contains(whose), "expected {whose:?} in:\n{err}");
        self.unharmed();
        err
    }

    /// Alex's journal is what it was, and Sam's honest entry is there.
    #[track_caller]
    fn unharmed(&self) {
        assert_eq!(mine(&self.alex), self.before, "Alex's journal changed");
        assert!(
            history(&self.alex, "partner")
                .iter()
                .any(|e| e["id"] == self.honest.as_str() && e["note"] == "honest"),
            "Sam's honest entry did not arrive"
        );
        assert_eq!(self.alex.run(&["device", "list"]).ok().lines().count(), 1);
    }

    /// The remote holds Alex's log exactly as Alex has it: the copy here
    /// was sent back over the forged one.
    #[track_caller]
    fn my_log_is_back_on_the_remote(&self) {
        let root = self.alex.data_dir();
        for file in files_under(&log_dir(&root, &self.alex_dev)) {
            let rel = file.strip_prefix(&root).unwrap().display().to_string();
            let there = self.remote.opened(&rel);
            assert_eq!(there, std::fs::read(&file).unwrap(), "{rel}");
        }
    }
}

const MY_LOG: &str = "this device's own log";

#[test]
fn an_entry_added_in_my_name_is_refused_whether_signed_by_my_partner_or_unsigned() {
    for signed in [true, false] {
        let s = scene();
        let sam_key = key_of(&s.sam);
        let forged = "01a22999-0000-7000-8000-00000000f00d";
        s.remote.tamper(|checkout| {
            let rec = entry(forged, "apology", NOW_MS + 60_000);
            append(checkout, &s.alex_dev, &rec, signed.then_some(&sam_key));
        });
        let err = s.refused(MY_LOG);
        assert!(err.contains("does not verify"), "{err}");
        assert!(
            history(&s.alex, "all").iter().all(|e| e["id"] != forged),
            "signed: {signed}"
        );
        s.my_log_is_back_on_the_remote();
        // Sam, syncing after, does not see it either.
        s.sam.run(&["sync"]);
        assert!(history(&s.sam, "all").iter().all(|e| e["id"] != forged));
    }
}

/// `stats` goes on from carries kept in the index for past years
/// (docs/protocol.md, "Index: carries"). An entry forged into my log on a
/// day of last year, right before a long run of mine, would lengthen my
/// streak if it reached the index: it is refused, and neither `stats` nor
/// the carries it reads move.
#[test]
fn an_entry_forged_into_last_year_of_my_log_moves_neither_my_streak_nor_its_carry() {
    let mut s = scene();
    let days: Vec<String> = {
        let from: chrono::NaiveDate = "2025-06-01".parse().unwrap();
        let to: chrono::NaiveDate = "2026-11-26".parse().unwrap();
        from.iter_days()
            .take_while(|d| *d <= to)
            .map(|d| format!(r#"{{"practice":"appreciation","day":"{d}"}}"#))
            .collect()
    };
    s.alex.run_stdin(&["import", "-"], &days.join("\n")).ok();
    sync(&s.alex);
    s.before = mine(&s.alex);
    // Read once, so that the carries of 2025 are kept in the index.
    let stats = |env: &TestEnv| -> Value { env.run(&["stats", "--json"]).json() };
    let before = stats(&s.alex);
    let run = |stats: &Value| -> Value {
        stats["practices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "appreciation")
            .unwrap()["current_streak"]
            .clone()
    };
    assert_eq!(run(&before), serde_json::json!(545));

    let sam_key = key_of(&s.sam);
    s.remote.tamper(|checkout| {
        let rec = format!(
            r#"{{"t":"entry","id":"01a22999-0000-7000-8000-00000000beef","practice":"appreciation","day":"2025-05-31","at":"2025-05-31T20:00:00+01:00","rev":{}}}"#,
            rev(NOW_MS + 60_000)
        );
        append(checkout, &s.alex_dev, &rec, Some(&sam_key));
    });
    s.refused(MY_LOG);
    let after = stats(&s.alex);
    assert_eq!(
        run(&after),
        serde_json::json!(545),
        "the forged day counted"
    );
    assert_eq!(after["practices"], before["practices"]);
    // The same as an index made from every line again.
    std::fs::remove_dir_all(s.alex.path("index")).unwrap();
    assert_eq!(stats(&s.alex)["practices"], after["practices"]);
    s.my_log_is_back_on_the_remote();
}

#[test]
fn my_entry_edited_or_tombstoned_on_the_remote_is_refused() {
    for tombstone in [false, true] {
        let s = scene();
        let id = s.alex_entry.clone();
        s.remote.tamper(|checkout| {
            rewrite_line(checkout, &s.alex_dev, &format!("\"id\":\"{id}\""), |l| {
                if tombstone {
                    let (payload, rest) = l.split_once('\t').unwrap();
                    let head = &payload[..payload.find(r#""rec":"#).unwrap()];
                    let rec = format!(r#"{{"t":"remove","id":"{id}","rev":{}}}"#, rev(NOW_MS + 1));
                    format!("{head}\"rec\":{rec}}}\t{rest}")
                } else {
                    l.replace("\"practice\":\"appreciation\"", "\"practice\":\"apology\"")
                }
            });
        });
        let err = s.refused(MY_LOG);
        assert!(err.contains("does not verify"), "{err}");
        let mine = history(&s.alex, "me");
        assert!(
            mine.iter()
                .any(|e| e["id"] == id.as_str() && e["practice"] == "appreciation"),
            "tombstone: {tombstone}: {mine:?}"
        );
        s.my_log_is_back_on_the_remote();
    }
}

#[test]
fn a_name_forged_into_my_log_does_not_rename_me() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    s.remote.tamper(|checkout| {
        let rec = format!(
            r#"{{"t":"name","name":"Mallory","rev":{}}}"#,
            rev(NOW_MS + 60_000)
        );
        append(checkout, &s.alex_dev, &rec, Some(&sam_key));
    });
    s.refused(MY_LOG);
    let me = person_of(&s.alex);
    assert_eq!(
        s.alex.run(&["stats", "--json"]).json()["person"]["name"],
        "Alex"
    );
    s.sam.run(&["sync"]);
    assert_eq!(name_in_history(&s.sam, &me), ["Alex"]);
    s.my_log_is_back_on_the_remote();
}

#[test]
fn a_name_in_my_partners_log_can_rename_only_my_partner() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    s.remote.tamper(|checkout| {
        let rec = format!(
            r#"{{"t":"name","name":"Alex","rev":{}}}"#,
            rev(NOW_MS + 60_000)
        );
        append(checkout, &s.sam_dev, &rec, Some(&sam_key));
    });
    // Sam's own log, signed with Sam's key: Sam may call himself anything.
    sync(&s.alex);
    s.unharmed();
    let (me, them) = (person_of(&s.alex), person_of(&s.sam));
    assert_ne!(me, them);
    assert_eq!(name_in_history(&s.alex, &me), ["Alex"]);
    assert_eq!(name_in_history(&s.alex, &them), ["Alex"]);
    // Entries stay whose they are: Alex's are still "me", Sam's "partner".
    assert!(
        history(&s.alex, "me")
            .iter()
            .all(|e| e["person"] == me.as_str())
    );
    assert!(
        history(&s.alex, "partner")
            .iter()
            .any(|e| e["id"] == s.honest.as_str())
    );
}

#[test]
fn my_goal_and_my_practice_forged_into_my_log_are_refused() {
    let forgeries = [
        format!(
            r#"{{"t":"goal","practice":"appreciation","goal":"none","retired":true,"rev":{}}}"#,
            rev(NOW_MS + 60_000)
        ),
        format!(
            r#"{{"t":"goal","practice":"read-aloud","goal":"daily","rev":{}}}"#,
            rev(NOW_MS + 60_000)
        ),
        format!(
            r#"{{"t":"practice","id":"read-aloud","about":"SAM-SAYS","goal":"daily","rev":{}}}"#,
            rev(NOW_MS + 60_000)
        ),
    ];
    for rec in forgeries {
        let s = scene();
        let sam_key = key_of(&s.sam);
        s.remote.tamper(|checkout| {
            append(checkout, &s.alex_dev, &rec, Some(&sam_key));
        });
        s.refused(MY_LOG);
        let stats = s.alex.run(&["stats", "--json"]).json();
        let goal = stats["practices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == "appreciation")
            .map(|p| p["goal"].clone());
        assert_eq!(goal, Some("daily".into()), "{rec}");
        let list = s.alex.run(&["practice", "list", "--all"]).ok();
        assert!(list.contains("read to each other"), "{rec}: {list}");
        assert!(
            !list.contains("SAM-SAYS") && !list.contains("retired"),
            "{rec}: {list}"
        );
        s.my_log_is_back_on_the_remote();
    }
}

#[test]
fn goals_and_practices_in_my_partners_log_change_only_theirs() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    s.remote.tamper(|checkout| {
        for rec in [
            format!(
                r#"{{"t":"goal","practice":"appreciation","goal":"3/week","rev":{}}}"#,
                rev(NOW_MS + 60_000)
            ),
            format!(
                r#"{{"t":"goal","practice":"check-in","goal":"daily","retired":true,"rev":{}}}"#,
                rev(NOW_MS + 60_000)
            ),
            format!(
                r#"{{"t":"practice","id":"read-aloud","about":"SAM-SAYS","goal":"daily","rev":{}}}"#,
                rev(NOW_MS + 60_000)
            ),
        ] {
            append(checkout, &s.sam_dev, &rec, Some(&sam_key));
        }
    });
    sync(&s.alex);
    s.unharmed();
    let goal_of = |env: &TestEnv, practice: &str| {
        env.run(&["stats", "--all", "--json"]).json()["practices"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == practice)
            .map(|p| p["goal"].clone())
    };
    log(&s.alex, &["check-in"]);
    assert_eq!(goal_of(&s.alex, "appreciation"), Some("daily".into()));
    assert_eq!(goal_of(&s.alex, "check-in"), Some("daily".into()));
    let list = s.alex.run(&["practice", "list"]).ok();
    assert!(list.contains("read to each other"), "{list}");
    assert!(!list.contains("SAM-SAYS"), "{list}");

    // On Sam's side, the same lines are Sam's own goals and practice.
    sync(&s.sam);
    log(&s.sam, &["appreciation"]);
    assert_eq!(goal_of(&s.sam, "appreciation"), Some("3/week".into()));
    let list = s.sam.run(&["practice", "list", "--all"]).ok();
    assert!(list.contains("SAM-SAYS"), "{list}");
    assert!(
        list.lines()
            .any(|l| l.contains("check-in") && l.contains("retired")),
        "{list}"
    );
    // ...and Alex's stay Alex's on both sides.
    sync(&s.alex);
    assert_eq!(goal_of(&s.alex, "appreciation"), Some("daily".into()));
}

#[test]
fn a_device_forged_into_my_log_is_refused() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    let intruder = new_key(7);
    let journal = journal_id(&s.alex);
    s.remote.tamper(|checkout| {
        let rec = format!(
            r#"{{"t":"device","device":"{}","key":"{}","role":"mine","journal":"{journal}"}}"#,
            device_id(&intruder),
            hex(intruder.verifying_key().as_bytes())
        );
        append(checkout, &s.alex_dev, &rec, Some(&sam_key));
        new_log(
            checkout,
            &journal,
            &intruder,
            &[entry(
                "01a22999-0000-7000-8000-0000000bad01",
                "apology",
                NOW_MS,
            )],
        );
    });
    s.refused(MY_LOG);
    assert!(
        history(&s.alex, "all")
            .iter()
            .all(|e| e["practice"] != "apology")
    );
    s.my_log_is_back_on_the_remote();
}

#[test]
fn a_device_my_partner_adds_is_never_a_device_of_mine() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    let extra = new_key(8);
    let journal = journal_id(&s.alex);
    let extra_entry = "01a22999-0000-7000-8000-0000000bad02";
    s.remote.tamper(|checkout| {
        // Sam's own log names a new key as "mine": it is Sam's, if anyone's.
        let rec = format!(
            r#"{{"t":"device","device":"{}","key":"{}","role":"mine","journal":"{journal}"}}"#,
            device_id(&extra),
            hex(extra.verifying_key().as_bytes())
        );
        append(checkout, &s.sam_dev, &rec, Some(&sam_key));
        new_log(
            checkout,
            &journal,
            &extra,
            &[entry(extra_entry, "apology", NOW_MS + 60_000)],
        );
    });
    sync(&s.alex);
    s.unharmed();
    let them = person_of(&s.sam);
    let seen: Vec<Value> = history(&s.alex, "all")
        .into_iter()
        .filter(|e| e["id"] == extra_entry)
        .collect();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["person"], them.as_str());
    assert!(
        history(&s.alex, "me")
            .iter()
            .all(|e| e["id"] != extra_entry)
    );
    let devices = s.alex.run(&["device", "list"]).ok();
    assert!(!devices.contains(&device_id(&extra)[..8]), "{devices}");
}

#[test]
fn a_second_partner_paired_by_my_partner_is_refused() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    let extra = new_key(9);
    let journal = journal_id(&s.alex);
    let extra_entry = "01a22999-0000-7000-8000-0000000bad03";
    s.remote.tamper(|checkout| {
        let rec = format!(
            r#"{{"t":"device","device":"{}","key":"{}","role":"partner","journal":"{journal}"}}"#,
            device_id(&extra),
            hex(extra.verifying_key().as_bytes())
        );
        append(checkout, &s.sam_dev, &rec, Some(&sam_key));
        new_log(
            checkout,
            &journal,
            &extra,
            &[entry(extra_entry, "apology", NOW_MS + 60_000)],
        );
    });
    let err = s.refused("Sam");
    assert!(err.contains(&device_id(&extra)[..12]), "{err}");
    assert!(
        history(&s.alex, "all")
            .iter()
            .all(|e| e["id"] != extra_entry)
    );
}

#[test]
fn a_log_of_a_device_nobody_paired_is_not_read() {
    let s = scene();
    let stranger = new_key(10);
    let journal = journal_id(&s.alex);
    let id = device_id(&stranger);
    let stranger_entry = "01a22999-0000-7000-8000-0000000bad04";
    s.remote.tamper(|checkout| {
        // It names itself, as a root's first line does, and logs in the journal.
        let rec = format!(
            r#"{{"t":"device","device":"{id}","key":"{}","role":"mine","journal":"{journal}"}}"#,
            hex(stranger.verifying_key().as_bytes())
        );
        new_log(
            checkout,
            &journal,
            &stranger,
            &[rec, entry(stranger_entry, "apology", NOW_MS + 60_000)],
        );
    });
    let err = s.refused(&id[..12]);
    assert!(err.contains("outside pairing"), "{err}");
    assert!(
        history(&s.alex, "all")
            .iter()
            .all(|e| e["id"] != stranger_entry)
    );
}

#[test]
fn a_rev_far_in_the_future_waits_and_never_moves_my_clock() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    let future = "01a22999-0000-7000-8000-0000000bad05";
    s.remote.tamper(|checkout| {
        append(
            checkout,
            &s.sam_dev,
            &entry(future, "apology", FAR_AHEAD_MS),
            Some(&sam_key),
        );
    });
    sync(&s.alex);
    s.unharmed();
    assert!(history(&s.alex, "all").iter().all(|e| e["id"] != future));
    // Kept: the line is in the copy of Sam's log here.
    let kept = files_under(&log_dir(&s.alex.data_dir(), &s.sam_dev))
        .iter()
        .any(|f| contains_bytes(&std::fs::read(f).unwrap(), future));
    assert!(kept, "the waiting line was not kept");

    // Alex's next edit is stamped by Alex's clock, not 2100, and wins.
    s.alex
        .run(&["edit", &s.alex_entry, "--note", "EDITED-NOW"])
        .ok();
    let (segment, _, _) = tail(&s.alex.data_dir(), &s.alex_dev);
    let text = std::fs::read_to_string(segment).unwrap();
    let last: Value =
        serde_json::from_str(text.lines().last().unwrap().split('\t').next().unwrap()).unwrap();
    let ms = last["rec"]["rev"]["ms"].as_u64().unwrap();
    assert!(
        (NOW_MS..NOW_MS + 86_400_000).contains(&ms),
        "my clock moved to {ms}"
    );
    let note_of = |env: &TestEnv| {
        history(env, "all")
            .into_iter()
            .find(|e| e["id"] == s.alex_entry.as_str())
            .map(|e| e["note"].clone())
    };
    assert_eq!(note_of(&s.alex), Some("EDITED-NOW".into()));
    sync(&s.alex);
    sync(&s.sam);
    assert_eq!(note_of(&s.sam), Some("EDITED-NOW".into()));

    // Kept, and folded once the clock reaches it.
    let Scene { mut alex, .. } = s;
    alex.set_now("2100-01-02T12:00:00+00:00");
    assert!(history(&alex, "partner").iter().any(|e| e["id"] == future));
}

#[test]
fn a_remote_that_makes_my_note_look_shared_never_makes_me_push_it() {
    let s = scene();
    let secret = log(&s.alex, &["listen", "--note", "MARKER-keep-me"]);
    sync(&s.alex);
    let sam_key = key_of(&s.sam);
    s.remote.tamper(|checkout| {
        // Sam's log claims an entry with my entry's id and a note hash.
        let rec = format!(
            r#"{{"t":"entry","id":"{secret}","practice":"listen","day":"2026-11-27","at":"2026-11-27T20:00:00+01:00","h":"{}","rev":{}}}"#,
            "ab".repeat(32),
            rev(NOW_MS + 60_000)
        );
        append(checkout, &s.sam_dev, &rec, Some(&sam_key));
    });
    let before = history(&s.alex, "me");
    // A line of Sam's own log: it makes an entry of Sam's, nothing of mine.
    sync(&s.alex);
    assert_eq!(history(&s.alex, "me"), before);
    // My edits of the note keep it here, and my later syncs never carry it.
    s.alex
        .run(&["edit", &secret, "--note", "MARKER-keep-me-too"])
        .ok();
    log(&s.alex, &["date"]);
    sync(&s.alex);
    sync(&s.sam);
    sync(&s.alex);
    s.remote.git(&["gc", "--quiet"]);
    for objects in [
        s.remote.all_objects(),
        super::all_objects(&s.alex.path("sync.git")),
    ] {
        for marker in ["MARKER-keep-me", "MARKER-keep-me-too"] {
            assert!(!contains_bytes(&objects, marker), "{marker} reached git");
        }
    }
    let export = s.alex.run(&["export"]).ok();
    let mine: Vec<Value> = export
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|e| e["id"] == secret.as_str() && e["author"] == person_of(&s.alex).as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{export}");
    assert_eq!(mine[0]["note"], "MARKER-keep-me-too");
    assert_eq!(mine[0]["note_shared"], false);
}

#[test]
fn a_removed_entrys_shared_note_is_gone_from_my_partners_view() {
    let s = scene();
    assert!(
        history(&s.sam, "partner")
            .iter()
            .any(|e| e["id"] == s.alex_entry.as_str() && e["note"] == "ALEX-NOTE")
    );
    s.alex.run(&["rm", "--yes", &s.alex_entry]).ok();
    sync(&s.alex);
    sync(&s.sam);
    for env in [&s.alex, &s.sam] {
        assert!(
            history(env, "all")
                .iter()
                .all(|e| e["id"] != s.alex_entry.as_str())
        );
        let export = env.run(&["export"]).ok();
        assert!(!export.contains("ALEX-NOTE"), "{export}");
    }
}

/// Every segment of the remote's `main`, opened with the keys of `keys`:
/// what a partner, or anyone holding their keys, reads there.
fn opened_tip(remote: &Remote, keys: &TestEnv) -> Vec<u8> {
    let work = tempfile::tempdir().unwrap();
    let checkout = work.path().join("w");
    git(work.path(), &["clone", "--quiet", &remote.url(), "w"]);
    safe::seal::tools::open_checkout(&checkout, &keys.data_dir()).unwrap();
    let mut out = Vec::new();
    for file in files_under(&checkout.join("shared/log")) {
        out.extend(std::fs::read(file).unwrap());
    }
    assert!(!out.is_empty(), "the remote's segments opened");
    out
}

/// `marker` is in no file of `env`'s data directory: not in its logs, its
/// index or its notes. `sync.git` is left out: it holds the sealed commits,
/// and plaintext blobs of the segments it opened, older versions included
/// (docs/protocol.md "Stripping superseded notes" says what stripping
/// cannot reach). The note's author keeps it in one more place: the
/// private stash that lets undo bring it back, never synced.
#[track_caller]
fn gone_from(env: &TestEnv, marker: &str, author: bool) {
    let root = env.data_dir();
    let git_dir = root.join("sync.git");
    let stash = root.join("private/stripped-notes.jsonl");
    for file in files_under(&root) {
        if file.starts_with(&git_dir) || (author && file == stash) {
            continue;
        }
        let bytes = std::fs::read(&file).unwrap();
        assert!(!contains_bytes(&bytes, marker), "{}", file.display());
    }
}

/// The line of `device`'s log in `root` that holds `needle`, whole.
fn line_holding(root: &Path, device: &str, needle: &str) -> String {
    files_under(&log_dir(root, device))
        .iter()
        .flat_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            text.lines().map(str::to_string).collect::<Vec<_>>()
        })
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line holds {needle}"))
}

/// A line without its sidecar: `payload TAB sig`.
fn without_sidecar(line: &str) -> String {
    line.splitn(3, '\t').take(2).collect::<Vec<_>>().join("\t")
}

#[test]
fn a_removed_entrys_shared_note_is_stripped_from_my_partners_copy() {
    let s = scene();
    s.alex.run(&["rm", "--yes", &s.alex_entry]).ok();
    sync(&s.alex);
    sync(&s.sam);
    sync(&s.alex);
    gone_from(&s.alex, "ALEX-NOTE", true);
    gone_from(&s.sam, "ALEX-NOTE", false);
    assert!(!contains_bytes(&opened_tip(&s.remote, &s.sam), "ALEX-NOTE"));
    // What was pushed before stays in the remote's history, sealed: safe
    // never rewrites it (a push never forces). The README says so.
}

#[test]
fn an_edited_shared_notes_old_words_leave_both_partners_and_the_remotes_tip() {
    let (alex, sam, remote) = couple();
    let id = log(&alex, &["listen", "--note", "FIRST-WORDS", "--share-note"]);
    let kept = log(&alex, &["date", "--note", "STILL-SHARED", "--share-note"]);
    sync(&alex);
    sync(&sam);
    let partner_note = |id: &str| {
        history(&sam, "partner")
            .into_iter()
            .find(|e| e["id"] == id)
            .map(|e| e["note"].clone())
    };
    assert_eq!(partner_note(&id), Some("FIRST-WORDS".into()));
    alex.run(&["edit", &id, "--note", "SECOND-WORDS"]).ok();
    sync(&alex);
    sync(&sam);
    sync(&alex);
    assert_eq!(partner_note(&id), Some("SECOND-WORDS".into()));
    assert_eq!(partner_note(&kept), Some("STILL-SHARED".into()));
    for (env, author) in [(&alex, true), (&sam, false)] {
        gone_from(env, "FIRST-WORDS", author);
        let shared = env.shared_bytes();
        assert!(contains_bytes(&shared, "SECOND-WORDS"));
        assert!(contains_bytes(&shared, "STILL-SHARED"));
    }
    let tip = opened_tip(&remote, &sam);
    assert!(!contains_bytes(&tip, "FIRST-WORDS"));
    assert!(contains_bytes(&tip, "SECOND-WORDS") && contains_bytes(&tip, "STILL-SHARED"));
    // Both copies are the same bytes: each sync after this sends nothing.
    assert_eq!(shared_files(&alex), shared_files(&sam));
    let tip_before = remote.main();
    sync(&sam);
    sync(&alex);
    assert_eq!(remote.main(), tip_before);
}

/// Someone with push access takes an old sidecar from the remote's history
/// (here from Sam's disk) and puts it back on its line, in a copy of the log
/// as long as the copy here, or one signed line longer so that it is taken:
/// the note does not come back to either partner, and their copies go back
/// over it.
#[test]
fn a_copy_that_puts_a_stripped_note_back_does_not_restore_it() {
    for longer in [false, true] {
        let s = scene();
        let id = log(
            &s.sam,
            &["apology", "--note", "SAM-OLD-WORDS", "--share-note"],
        );
        let old_line = line_holding(&s.sam.data_dir(), &s.sam_dev, "SAM-OLD-WORDS");
        sync(&s.sam);
        sync(&s.alex);
        s.sam.run(&["edit", &id, "--note", "SAM-NEW-WORDS"]).ok();
        sync(&s.sam);
        sync(&s.alex);
        gone_from(&s.alex, "SAM-OLD-WORDS", false);
        let sam_key = key_of(&s.sam);
        s.remote.tamper(|checkout| {
            let stripped = without_sidecar(&old_line);
            rewrite_line(checkout, &s.sam_dev, &stripped, |l| {
                assert_eq!(l, stripped);
                old_line.clone()
            });
            if longer {
                let rec = entry("01a22999-0000-7000-8000-00000000be11", "listen", NOW_MS + 1);
                append(checkout, &s.sam_dev, &rec, Some(&sam_key));
            }
        });
        assert!(contains_bytes(
            &opened_tip(&s.remote, &s.alex),
            "SAM-OLD-WORDS"
        ));
        sync(&s.alex);
        gone_from(&s.alex, "SAM-OLD-WORDS", false);
        let notes: Vec<Value> = history(&s.alex, "partner")
            .into_iter()
            .filter(|e| e["id"] == id.as_str())
            .map(|e| e["note"].clone())
            .collect();
        assert_eq!(notes, ["SAM-NEW-WORDS"], "longer: {longer}");
        if longer {
            let taken = history(&s.alex, "partner");
            assert!(
                taken
                    .iter()
                    .any(|e| e["id"] == "01a22999-0000-7000-8000-00000000be11")
            );
        }
        // Alex's copy went back over the tampered one, and Sam's stays clean.
        assert!(!contains_bytes(
            &opened_tip(&s.remote, &s.alex),
            "SAM-OLD-WORDS"
        ));
        sync(&s.sam);
        gone_from(&s.sam, "SAM-OLD-WORDS", true);
    }
}

/// A remote that strips the sidecar of my partner's current note (as long
/// a copy, or one that is also a line longer) does not take the note from
/// me: my copy keeps it, and goes back to the remote.
#[test]
fn a_copy_that_strips_my_partners_current_note_does_not_take_it_from_me() {
    for longer in [false, true] {
        let s = scene();
        sync(&s.alex);
        let note_of = |id: &str| {
            history(&s.alex, "partner")
                .into_iter()
                .find(|e| e["id"] == id)
                .map(|e| e["note"].clone())
        };
        assert_eq!(note_of(&s.honest), Some("honest".into()));
        let sam_key = key_of(&s.sam);
        s.remote.tamper(|checkout| {
            rewrite_line(checkout, &s.sam_dev, r#""note":"honest""#, without_sidecar);
            if longer {
                let rec = entry("01a22999-0000-7000-8000-00000000be12", "listen", NOW_MS + 1);
                append(checkout, &s.sam_dev, &rec, Some(&sam_key));
            }
        });
        sync(&s.alex);
        assert_eq!(
            note_of(&s.honest),
            Some("honest".into()),
            "longer: {longer}"
        );
        assert!(contains_bytes(&s.alex.shared_bytes(), r#""note":"honest""#));
        assert!(contains_bytes(
            &opened_tip(&s.remote, &s.alex),
            r#""note":"honest""#
        ));
    }
}

#[test]
fn an_entry_of_my_partner_with_my_entrys_id_never_stops_me_changing_mine() {
    let s = scene();
    let sam_key = key_of(&s.sam);
    let id = s.alex_entry.clone();
    s.remote.tamper(|checkout| {
        append(
            checkout,
            &s.sam_dev,
            &entry(&id, "apology", NOW_MS + 60_000),
            Some(&sam_key),
        );
    });
    sync(&s.alex);
    s.unharmed();
    // The id, with or without its dashes, names my entry: the one I may change.
    s.alex.run(&["edit", &id, "--note", "still mine"]).ok();
    s.alex.run(&["rm", "--yes", &id.replace('-', "")]).ok();
    assert!(
        history(&s.alex, "me")
            .iter()
            .all(|e| e["id"] != id.as_str())
    );
    // Sam's entry of that id is Sam's: mine to neither edit nor remove.
    let err = s.alex.run(&["rm", &id]).fails(2);
    assert!(err.contains("Sam's"), "{err}");
}

/// A partner's first sync of my entries skips the index's winner lookups
/// for an owner it holds nothing of (docs/protocol.md "Stripping
/// superseded notes" takes the winners within the lines then). Sam's old
/// words, put back on the remote after he edited them away, reach Alex in
/// the same first sync as the edit: they are cut, never shown, and Sam's
/// honest lines still merge.
#[test]
fn a_stripped_note_put_back_before_my_first_sync_of_my_partner_never_reaches_me() {
    let s = scene();
    assert!(
        history(&s.alex, "partner").is_empty(),
        "Alex holds none of Sam's yet"
    );
    let id = log(
        &s.sam,
        &["apology", "--note", "SAM-OLD-WORDS", "--share-note"],
    );
    let old_line = line_holding(&s.sam.data_dir(), &s.sam_dev, "SAM-OLD-WORDS");
    sync(&s.sam);
    s.sam.run(&["edit", &id, "--note", "SAM-NEW-WORDS"]).ok();
    sync(&s.sam);
    s.remote.tamper(|checkout| {
        let stripped = without_sidecar(&old_line);
        rewrite_line(checkout, &s.sam_dev, &stripped, |l| {
            assert_eq!(l, stripped);
            old_line.clone()
        });
    });
    assert!(contains_bytes(
        &opened_tip(&s.remote, &s.alex),
        "SAM-OLD-WORDS"
    ));

    sync(&s.alex);
    s.unharmed();
    let notes: Vec<Value> = history(&s.alex, "partner")
        .into_iter()
        .filter(|e| e["id"] == id.as_str())
        .map(|e| e["note"].clone())
        .collect();
    assert_eq!(notes, ["SAM-NEW-WORDS"]);
    gone_from(&s.alex, "SAM-OLD-WORDS", false);
}
