//! Pairing two real data directories through a real bare remote, each side
//! on its own thread, as `safe invite` and `safe join` run on two
//! computers. The logs sync would carry are copied by hand.

use std::path::Path;
use std::process::Command;
use std::sync::mpsc;
use std::thread;

use chrono::DateTime;
use tempfile::TempDir;

use super::*;
use crate::domain::entry::{EntryId, Kind};
use crate::domain::goal::Goal;
use crate::domain::record::{EntryRecord, GoalRecord, PracticeRecord};
use crate::keys::line::note_hash;
use crate::store::DataDir;

/// 2026-11-27T12:00:00Z.
const T0: u64 = 1_795_780_800_000;
const MINUTE: u64 = 60_000;
const POLL: Duration = Duration::from_millis(10);
const PATIENCE: Duration = Duration::from_secs(30);

fn sleep(d: Duration) -> bool {
    thread::sleep(d);
    true
}

/// A bare repository both sides reach by its path.
struct Remote {
    dir: TempDir,
}

impl Remote {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let status = Command::new("git")
            .args(["init", "--bare", "-q", "remote.git"])
            .current_dir(dir.path())
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .status()
            .unwrap();
        assert!(status.success());
        Remote { dir }
    }

    fn url(&self) -> String {
        self.dir.path().join("remote.git").display().to_string()
    }
}

/// A data directory and its lock.
struct Dir {
    dir: TempDir,
    lock: Lock,
}

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let lock = DataDir::new(dir.path().to_path_buf()).lock().unwrap();
        Dir { dir, lock }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn create(&self, name: &str) -> Journal {
        Journal::create(self.root(), name, T0, &self.lock).unwrap()
    }

    fn open(&self, wall_ms: u64) -> Journal {
        Journal::open(self.root(), wall_ms, &self.lock).unwrap()
    }

    fn device(&self) -> DeviceId {
        Identity::read(self.root()).unwrap().unwrap().device
    }

    /// This directory's shared log, copied into `into`, as sync brings it.
    fn send_log_to(&self, into: &Dir) {
        let device = self.device();
        let from = log_root(self.root(), LogKind::Shared).join(device.as_str());
        let to = log_root(into.root(), LogKind::Shared).join(device.as_str());
        if to.exists() {
            std::fs::remove_dir_all(&to).unwrap();
        }
        // Another device of a person writes nothing when it joins.
        if from.exists() {
            copy_tree(&from, &to);
        }
    }

    fn shared_lines(&self) -> Vec<segment::Line> {
        self.lines(LogKind::Shared)
    }

    fn lines(&self, kind: LogKind) -> Vec<segment::Line> {
        let identity = Identity::read(self.root()).unwrap().unwrap();
        let key = DeviceKey::load_or_create(self.root(), &self.lock).unwrap();
        segment::read_log(
            &log_root(self.root(), kind),
            &identity.device,
            &key.public(),
            &identity.journal,
            kind,
        )
        .unwrap()
        .lines
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for item in std::fs::read_dir(from).unwrap() {
        let item = item.unwrap();
        let target = to.join(item.file_name());
        if item.file_type().unwrap().is_dir() {
            copy_tree(&item.path(), &target);
        } else {
            std::fs::copy(item.path(), &target).unwrap();
        }
    }
}

fn place(url: &str) -> (TempDir, Rendezvous) {
    let scratch = tempfile::tempdir().unwrap();
    let rv = Rendezvous::new(scratch.path(), url)
        .unwrap()
        .polling(POLL, PATIENCE);
    (scratch, rv)
}

/// Another word in the last place: a typo.
fn typo(code: &str) -> String {
    let (head, last) = code.rsplit_once('-').unwrap();
    let other = if last == "river" { "rose" } else { "river" };
    format!("{head}-{other}")
}

/// Run `safe invite` (on `inviter`, whose journal exists) and `safe join`
/// (on `joiner`, as "Sam") at once; the joiner types the code `mistype`
/// makes of the one shown.
fn pair_with(
    remote: &Remote,
    inviter: &Dir,
    joiner: &Dir,
    role: Role,
    mistype: fn(&str) -> String,
) -> (Result<Accepted>, Result<Joined>) {
    let url = remote.url();
    let (tx, rx) = mpsc::channel::<String>();
    thread::scope(|s| {
        let url_a = url.clone();
        let invited = s.spawn(move || {
            let mut journal = inviter.open(T0);
            let invitation = Invitation::new(&journal, role)?;
            tx.send(invitation.code().to_string()).unwrap();
            let (_scratch, rv) = place(&url_a);
            let offer = invitation.await_joiner(&rv, &sleep)?;
            invitation.accept(&mut journal, &offer, T0 + MINUTE, &inviter.lock)
        });
        let joined = s.spawn(move || {
            let joining = Joining::prepare(joiner.root(), T0, &joiner.lock)?;
            let code = rx.recv().map_err(|_| Error::runtime("no code was made"))?;
            let code = InviteCode::parse(&mistype(&code)).unwrap();
            let (_scratch, rv) = place(&url);
            let offer = joining.await_inviter(&rv, &code, &sleep)?;
            joining.adopt(joiner.root(), &offer, "Sam", T0 + MINUTE, &joiner.lock)
        });
        (invited.join().unwrap(), joined.join().unwrap())
    })
}

fn pair(remote: &Remote, inviter: &Dir, joiner: &Dir, role: Role) -> (Accepted, Joined) {
    let (accepted, joined) = pair_with(remote, inviter, joiner, role, |c| c.to_string());
    (accepted.unwrap(), joined.unwrap())
}

/// Both directories hold each other's shared log, as after a sync.
fn sync_both(a: &Dir, b: &Dir) {
    a.send_log_to(b);
    b.send_log_to(a);
}

#[test]
fn a_partner_joins_as_a_new_person_and_both_see_one_safety_number() {
    let remote = Remote::new();
    let (alex, sam) = (Dir::new(), Dir::new());
    let root = alex.create("Alex").identity().device.clone();
    let (accepted, joined) = pair(&remote, &alex, &sam, Role::Partner);
    let sam_device = sam.device();
    assert_eq!(accepted.device, sam_device);
    assert_eq!(accepted.role, Role::Partner);
    assert_eq!(joined.role, Role::Partner);
    assert_eq!(joined.inviter, root);
    assert_eq!(joined.backup, None);
    // The joiner anchors the inviter's journal on the inviter's root.
    let identity = Identity::read(sam.root()).unwrap().unwrap();
    assert_eq!(identity.root, root);
    assert_eq!(identity.journal, alex.open(T0).identity().journal);

    sync_both(&alex, &sam);
    let mut a = alex.open(T0 + 2 * MINUTE);
    a.refresh(T0 + 2 * MINUTE, &alex.lock).unwrap();
    let roster = a.roster();
    assert_eq!(roster.person(&sam_device), Some(sam_device.as_str()));
    assert_eq!(roster.partner(), Some(sam_device.as_str()));
    assert_eq!(
        a.state()
            .unwrap()
            .names
            .get(sam_device.as_str())
            .map(String::as_str),
        Some("Sam")
    );
    let s = sam.open(T0 + 2 * MINUTE);
    assert_eq!(s.me(), Some(sam_device.as_str()));
    let (ours, theirs) = (couple(&a).unwrap(), couple(&s).unwrap());
    assert_eq!(ours.safety_number, theirs.safety_number);
    assert_eq!(ours.safety_number.len(), 14);
    assert_eq!(ours.me.name.as_deref(), Some("Alex"));
    assert_eq!(ours.partner.name.as_deref(), Some("Sam"));
    assert_eq!(theirs.partner.name.as_deref(), Some("Alex"));
    assert!(a.report().is_empty(), "{:?}", a.report());
}

#[test]
fn a_device_pairing_joins_the_same_person() {
    let remote = Remote::new();
    let (laptop, phone) = (Dir::new(), Dir::new());
    let root = laptop.create("Alex").identity().device.clone();
    let (accepted, joined) = pair(&remote, &laptop, &phone, Role::Mine);
    assert_eq!((accepted.role, joined.role), (Role::Mine, Role::Mine));
    sync_both(&laptop, &phone);

    let mut p = phone.open(T0 + 2 * MINUTE);
    assert_eq!(p.me(), Some(root.as_str()));
    // It writes as the same person, and no second name appeared.
    let entry = entry(1, "appreciation");
    p.write(
        "op-p",
        &[(entry, None)],
        LogKind::Shared,
        T0 + 2 * MINUTE,
        &phone.lock,
    )
    .unwrap();
    phone.send_log_to(&laptop);
    let l = laptop.open(T0 + 3 * MINUTE);
    assert_eq!(l.roster().partner(), None);
    let state = l.state().unwrap();
    assert!(state.entries.contains_key(&(root.to_string(), id(1))));
    assert_eq!(state.names.len(), 1);
    let devices = my_devices(&l).unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices[0].this && devices[0].origin == Origin::Root);
    assert_eq!(devices[1].origin, Origin::Mine { by: root.clone() });
    assert!(matches!(couple(&l), Err(e) if e.message().contains("no partner")));
}

#[test]
fn a_wrong_code_burns_the_invite_on_both_sides_and_writes_nothing() {
    let remote = Remote::new();
    let (alex, sam) = (Dir::new(), Dir::new());
    alex.create("Alex");
    let before = alex.shared_lines().len();
    let (accepted, joined) = pair_with(&remote, &alex, &sam, Role::Partner, typo);
    for err in [accepted.unwrap_err(), joined.unwrap_err()] {
        assert!(err.message().contains("the codes did not match"), "{err:?}");
        let hint = err.hint().unwrap();
        assert!(hint.contains("burned on both sides"), "{hint}");
        assert!(hint.contains("safe invite"), "{hint}");
        assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
    }
    assert_eq!(alex.shared_lines().len(), before);
    assert_eq!(alex.open(T0).roster().members.len(), 1);
    assert_eq!(Identity::read(sam.root()).unwrap(), None);
}

#[test]
fn the_joiner_cannot_choose_its_role() {
    // A joiner that sends a role of its own is refused, and nothing is
    // written on the inviter's side.
    let remote = Remote::new();
    let alex = Dir::new();
    alex.create("Alex");
    let before = alex.shared_lines().len();
    let (tx, rx) = mpsc::channel::<String>();
    let url = remote.url();
    let (invited, joined) = thread::scope(|s| {
        let (alex, url_a) = (&alex, url.clone());
        let invited = s.spawn(move || {
            let url = url_a;
            let mut journal = alex.open(T0);
            let invitation = Invitation::new(&journal, Role::Partner)?;
            tx.send(invitation.code().to_string()).unwrap();
            let (_scratch, rv) = place(&url);
            let offer = invitation.await_joiner(&rv, &sleep)?;
            invitation.accept(&mut journal, &offer, T0 + MINUTE, &alex.lock)
        });
        let joined = s.spawn(move || {
            let key = DeviceKey::generate().unwrap();
            let pushy = Offer {
                side: Side::Joiner,
                device: key.id().to_string(),
                key: hex(key.public().as_bytes()),
                journal: None,
                role: Some("mine".into()),
                root_key: None,
            };
            let code = InviteCode::parse(&rx.recv().unwrap()).unwrap();
            let (_scratch, rv) = place(&url);
            rv.join(&code, &pushy, &sleep)
        });
        (invited.join().unwrap(), joined.join().unwrap())
    });
    assert!(
        invited.is_err() && joined.is_err(),
        "{invited:?} {joined:?}"
    );
    assert_eq!(alex.shared_lines().len(), before);

    // And whatever a partner code's joiner is, it is never a device of the
    // inviter: its person is its own.
    let (sam, remote) = (Dir::new(), Remote::new());
    let (_, joined) = pair(&remote, &alex, &sam, Role::Partner);
    assert_eq!(joined.role, Role::Partner);
    sync_both(&alex, &sam);
    let a = alex.open(T0 + 2 * MINUTE);
    let root = a.identity().root.clone();
    assert_ne!(a.roster().person(&sam.device()), Some(root.as_str()));
    // The inviter's line is what says so.
    let line = alex.shared_lines().last().unwrap().rec().to_string();
    assert!(line.contains(r#""role":"partner""#), "{line}");
}

#[test]
fn a_joiner_that_had_entries_keeps_them_with_their_ids() {
    let remote = Remote::new();
    let (alex, sam) = (Dir::new(), Dir::new());
    alex.create("Alex");
    let mut own = sam.create("Sam B");
    let old_journal = own.identity().journal.clone();
    let (salt, note) = ([9u8; 16], "the soup was lovely");
    let sidecar = format!(r#"{{"salt":"{}","note":"{note}"}}"#, hex(&salt));
    let mut shared_entry = entry(1, "appreciation");
    if let Record::Entry(e) = &mut shared_entry {
        e.h = Some(Hex32(note_hash(&salt, note)));
    }
    let practice = Record::Practice(PracticeRecord {
        id: "walk-together".into(),
        about: "an evening walk".into(),
        goal: Goal::Daily,
        rev: Rev::default(),
    });
    let goal = Record::Goal(GoalRecord {
        practice: "appreciation".into(),
        goal: Goal::PerWeek(3),
        retired: false,
        rev: Rev::default(),
    });
    let lock = &sam.lock;
    own.write(
        "op-1",
        &[
            (shared_entry, Some(sidecar.clone())),
            (entry(2, "walk-together"), None),
            (entry(3, "listen"), None),
            (practice, None),
            (goal, None),
        ],
        LogKind::Shared,
        T0,
        lock,
    )
    .unwrap();
    let remove = Record::Remove(crate::domain::record::RemoveRecord {
        id: id(3),
        rev: Rev::default(),
    });
    own.write("op-2", &[(remove, None)], LogKind::Shared, T0, lock)
        .unwrap();
    let unshared = Record::Note(NoteRecord {
        id: id(2),
        note: Some("only mine".into()),
        rev: Rev::default(),
    });
    let private = match entry(4, "repair") {
        Record::Entry(mut e) => {
            e.private = true;
            Record::Entry(e)
        }
        other => other,
    };
    own.write(
        "op-3",
        &[(private, None), (unshared, None)],
        LogKind::Private,
        T0,
        lock,
    )
    .unwrap();
    drop(own);

    let (_, joined) = pair(&remote, &alex, &sam, Role::Partner);
    let backup = joined.backup.clone().unwrap();
    assert_eq!(backup, sam.root().join(BACKUP_DIR).join(&old_journal));
    assert!(backup.join("shared/log").is_dir() && backup.join("private/log").is_dir());
    assert!(backup.join("journal.json").is_file());
    assert_eq!(
        joined.carried,
        Carried {
            entries: 2,
            private_entries: 1,
            notes: 1,
            practices: 1,
            goals: 1,
        }
    );

    sync_both(&alex, &sam);
    let me = sam.device().to_string();
    let s = sam.open(T0 + 2 * MINUTE);
    assert_eq!(s.identity().journal, alex.open(T0).identity().journal);
    let state = s.state().unwrap();
    let mut ids: Vec<EntryId> = state.entries.keys().map(|(_, id)| *id).collect();
    ids.sort();
    let mut want = vec![id(1), id(2), id(4)];
    want.sort();
    assert_eq!(ids, want);
    assert!(state.entries.keys().all(|(owner, _)| *owner == me));
    assert_eq!(state.notes.get(&(me.clone(), id(2))).unwrap(), "only mine");
    assert_eq!(state.names.get(&me).unwrap(), "Sam B");
    assert!(
        state
            .practices
            .contains_key(&(me.clone(), "walk-together".into()))
    );
    assert_eq!(
        state
            .goals
            .get(&(me.clone(), "appreciation".into()))
            .unwrap()
            .goal,
        Goal::PerWeek(3)
    );
    // The note's sidecar came along as it was, and still matches its hash.
    let shared = sam.shared_lines();
    assert!(
        shared
            .iter()
            .any(|l| l.sidecar.as_deref() == Some(&sidecar))
    );
    // The private entry and the unshared note stayed private.
    let private: Vec<String> = sam
        .lines(LogKind::Private)
        .iter()
        .map(|l| l.rec().to_string())
        .collect();
    assert_eq!(private.len(), 2, "{private:?}");
    assert!(shared.iter().all(|l| !l.rec().contains("only mine")));
    let a = alex.open(T0 + 2 * MINUTE);
    let theirs = a.state().unwrap();
    assert!(theirs.entries.contains_key(&(me.clone(), id(1))));
    assert!(!theirs.entries.contains_key(&(me.clone(), id(4))));
}

#[test]
fn a_second_partner_invite_is_refused_once_there_is_a_partner() {
    let remote = Remote::new();
    let (alex, sam) = (Dir::new(), Dir::new());
    alex.create("Alex");
    pair(&remote, &alex, &sam, Role::Partner);
    sam.send_log_to(&alex);
    let a = alex.open(T0 + 2 * MINUTE);
    let err = Invitation::new(&a, Role::Partner).err().unwrap();
    assert!(
        err.message().contains("already has a partner (Sam)"),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), crate::error::EXIT_USAGE);
    assert!(err.hint().unwrap().contains("--device"));
    // Another device of mine is still welcome, and so is one of Sam's.
    Invitation::new(&a, Role::Mine).unwrap();
    alex.send_log_to(&sam);
    let s = sam.open(T0 + 2 * MINUTE);
    assert!(Invitation::new(&s, Role::Partner).is_err());
    Invitation::new(&s, Role::Mine).unwrap();
}

#[test]
fn a_joiner_writes_nothing_until_its_pairing_line_arrives() {
    let remote = Remote::new();
    let (alex, sam) = (Dir::new(), Dir::new());
    alex.create("Alex");
    pair(&remote, &alex, &sam, Role::Partner);
    let mut s = sam.open(T0 + 2 * MINUTE);
    assert_eq!(s.me(), None);
    let err = s
        .write(
            "op-s",
            &[(entry(1, "listen"), None)],
            LogKind::Shared,
            T0 + 2 * MINUTE,
            &sam.lock,
        )
        .unwrap_err();
    assert!(err.message().contains("not in the journal yet"), "{err:?}");
    assert!(err.hint().unwrap().contains("safe sync"), "{err:?}");
    // Its own log is no stranger meanwhile.
    assert!(s.report().strangers.is_empty(), "{:?}", s.report());

    // The pairing line arrives (sync refreshes an open journal after it
    // takes the remote's logs).
    alex.send_log_to(&sam);
    s.refresh(T0 + 2 * MINUTE, &sam.lock).unwrap();
    s.write(
        "op-s",
        &[(entry(1, "listen"), None)],
        LogKind::Shared,
        T0 + 2 * MINUTE,
        &sam.lock,
    )
    .unwrap();
    let me = sam.device().to_string();
    assert!(s.state().unwrap().entries.contains_key(&(me, id(1))));
}

#[test]
fn a_directory_shared_with_others_or_already_joined_cannot_join_again() {
    let remote = Remote::new();
    let (alex, sam) = (Dir::new(), Dir::new());
    alex.create("Alex");
    pair(&remote, &alex, &sam, Role::Partner);
    // Sam's directory joined a journal already.
    let err = Joining::prepare(sam.root(), T0, &sam.lock).err().unwrap();
    assert!(err.message().contains("already joined"), "{err:?}");
    // Alex's is shared with Sam once Sam's log arrives.
    sam.send_log_to(&alex);
    let err = Joining::prepare(alex.root(), T0, &alex.lock).err().unwrap();
    assert!(
        err.message().contains("shared with other devices"),
        "{err:?}"
    );
}

fn id(n: u64) -> EntryId {
    uuid::Builder::from_unix_timestamp_millis(T0 - n, &[n as u8; 10]).into_uuid()
}

fn entry(n: u64, practice: &str) -> Record {
    Record::Entry(EntryRecord {
        id: id(n),
        kind: Kind::Log,
        practice: practice.to_string(),
        day: "2026-11-27".parse().unwrap(),
        until: None,
        at: DateTime::parse_from_rfc3339("2026-11-27T21:14:03+01:00").unwrap(),
        took: None,
        h: None,
        card: None,
        private: false,
        rev: Rev::default(),
    })
}
