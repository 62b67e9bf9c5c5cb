//! Property tests of what sync relies on: the merge of month files is a join
//! (commutative, associative, idempotent) over arbitrary entries, edits and
//! tombstones, and replicas that sync through a shared remote in any order
//! end up identical, holding every change anyone made and no deleted entry.

use chrono::{DateTime, NaiveDate};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::domain::entry::Entry;
use crate::domain::month::MonthFile;
use crate::domain::rev::{Clock, Rev};

const PEOPLE: [&str; 2] = ["alex", "sam"];

fn entry(id: u8, day: u32, ms: u64, c: u32, by: usize, deleted: bool, note: u8) -> Entry {
    let day = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
    Entry {
        id: uuid::Uuid::from_u128(u128::from(id)),
        kind: Default::default(),
        practice: "repair".into(),
        day,
        until: None,
        at: DateTime::parse_from_rfc3339(&format!("{day}T10:00:00+01:00")).unwrap(),
        author: PEOPLE[by].into(),
        note: (!deleted && note > 0).then(|| format!("note {note}")),
        took_minutes: None,
        rev: Rev {
            ms,
            c,
            by: PEOPLE[by].into(),
        },
        deleted,
        extra: Map::new(),
    }
}

/// Entries drawn from a few ids and revisions, so that the same entry shows
/// up in several versions, ties included.
fn any_entry() -> impl Strategy<Value = Entry> {
    (
        0u8..6,
        1u32..4,
        0u64..4,
        0u32..2,
        0usize..2,
        any::<bool>(),
        0u8..3,
    )
        .prop_map(|(id, day, ms, c, by, deleted, note)| entry(id, day, ms, c, by, deleted, note))
}

fn any_month() -> impl Strategy<Value = MonthFile> {
    let extra = prop::option::of(0u8..3).prop_map(|v| {
        let mut map = Map::new();
        if let Some(v) = v {
            map.insert("from_newer_safe".into(), Value::from(v));
        }
        map
    });
    (prop::collection::vec(any_entry(), 0..8), extra).prop_map(|(entries, extra)| MonthFile {
        entries,
        extra,
        ..Default::default()
    })
}

proptest! {
    #[test]
    fn merge_is_commutative(a in any_month(), b in any_month()) {
        prop_assert_eq!(a.merge(&b), b.merge(&a));
    }

    #[test]
    fn merge_is_associative(a in any_month(), b in any_month(), c in any_month()) {
        prop_assert_eq!(a.merge(&b).merge(&c), a.merge(&b.merge(&c)));
    }

    #[test]
    fn merge_is_idempotent(a in any_month(), b in any_month()) {
        let joined = a.merge(&b);
        prop_assert_eq!(joined.merge(&joined), joined.clone());
        // Merging an input again changes nothing: a retried sync is harmless.
        prop_assert_eq!(joined.merge(&a), joined.clone());
        prop_assert_eq!(joined.merge(&MonthFile::default()), joined);
    }
}

/// One step of the simulation.
#[derive(Debug, Clone)]
enum Step {
    /// Replica `at` logs a new entry, edits one it holds, or deletes it.
    Change {
        at: usize,
        pick: u8,
        delete: bool,
        wall_ms: u64,
    },
    /// Replica `at` syncs with the shared remote.
    Sync { at: usize },
}

/// Four replicas: two machines each for two people, as when one partner
/// copies their data directory to a laptop.
const REPLICAS: usize = 4;

fn person_of(replica: usize) -> usize {
    replica % 2
}

fn any_step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (
            0..REPLICAS,
            any::<u8>(),
            prop::bool::weighted(0.2),
            0u64..20
        )
            .prop_map(|(at, pick, delete, wall_ms)| Step::Change {
                at,
                pick,
                delete,
                wall_ms
            }),
        (0..REPLICAS).prop_map(|at| Step::Sync { at }),
    ]
}

struct Replica {
    month: MonthFile,
    clock: Clock,
    next_id: u8,
}

proptest! {
    #[test]
    fn replicas_syncing_in_any_order_converge(steps in prop::collection::vec(any_step(), 0..40)) {
        let mut replicas: Vec<Replica> = (0..REPLICAS)
            .map(|_| Replica { month: MonthFile::default(), clock: Clock::default(), next_id: 0 })
            .collect();
        let mut remote = MonthFile::default();
        // Every version anyone ever made, joined: what all must end up holding.
        let mut everything = MonthFile::default();

        let sync = |replica: &mut Replica, remote: &mut MonthFile| {
            *remote = remote.merge(&replica.month);
            replica.month = remote.clone();
            replica.month.entries.iter().for_each(|e| replica.clock.observe(&e.rev));
        };

        for step in steps {
            match step {
                Step::Change { at, pick, delete, wall_ms } => {
                    let replica = &mut replicas[at];
                    let by = PEOPLE[person_of(at)];
                    let live: Vec<usize> = (0..replica.month.entries.len())
                        .filter(|i| !replica.month.entries[*i].deleted)
                        .collect();
                    let rev = replica.clock.tick(wall_ms, by);
                    let changed = if live.is_empty() || pick % 3 == 0 {
                        // Ids are unique per replica, as UUIDv7 ids are in practice.
                        let id = (at as u8) * 50 + replica.next_id;
                        replica.next_id += 1;
                        let mut new = entry(id, 1 + u32::from(pick % 3), 0, 0, person_of(at), false, 1);
                        new.rev = rev;
                        replica.month.entries.push(new.clone());
                        new
                    } else {
                        let i = live[usize::from(pick) % live.len()];
                        let target = &mut replica.month.entries[i];
                        if delete {
                            target.tombstone(rev);
                        } else {
                            target.note = Some(format!("edited at {}", rev.ms));
                            target.rev = rev;
                        }
                        target.clone()
                    };
                    replica.month.sort();
                    everything = everything.merge(&MonthFile { entries: vec![changed], ..Default::default() });
                }
                Step::Sync { at } => sync(&mut replicas[at], &mut remote),
            }
        }
        // Everyone syncs twice, in order: the first round gathers, the second spreads.
        for _ in 0..2 {
            for replica in replicas.iter_mut() {
                sync(replica, &mut remote);
            }
        }
        for replica in &replicas {
            prop_assert_eq!(&replica.month, &remote);
        }
        prop_assert_eq!(&remote, &everything.merge(&MonthFile::default()));
        // A deleted entry never comes back.
        for gone in everything.entries.iter().filter(|e| e.deleted) {
            prop_assert!(remote.entry(&gone.id).is_some_and(|e| e.deleted));
        }
    }
}
