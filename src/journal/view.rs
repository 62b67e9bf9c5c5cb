//! The journal as commands read it: the fold of every trusted log, turned
//! into the shapes the domain's statistics, tables and exports take
//! (entries, names, practices and goals, days per person).
//!
//! Every entry here is live. Its `author` is the person whose device's log
//! holds it (never a field of the record), and its note is the shared note
//! from the sidecar or, for my own entries, my unshared note.

use std::collections::BTreeMap;

use serde_json::Map;

use crate::domain::entry::{Entry, EntryId, HANDLE_MIN, Kind, handles, id_tail};
use crate::domain::fold::{self, PersonId};
use crate::domain::person::{PeopleDoc, Person};
use crate::domain::practice::{CustomPractice, GoalSetting, PracticesDoc};
use crate::domain::record::{EntryRecord, Record, Rev};
use crate::domain::rev;
use crate::domain::summary::{DayIndex, Pause, REPAIR, Repair};
use crate::error::{Error, Result};
use crate::render::truncate;

/// One live entry as I may see it.
#[derive(Debug, Clone)]
pub struct Item {
    /// The entry, in the shape tables and exports know: `author` is its
    /// owner's person id.
    pub entry: Entry,
    /// In my private log: it never leaves this device.
    pub private: bool,
    /// The note is shared (it travels in the sidecar); otherwise it is my
    /// unshared note, or there is none.
    pub shared_note: bool,
    /// The record as the log holds it (its rev, `h` and card).
    pub record: EntryRecord,
}

/// The journal, ready to read.
#[derive(Debug, Clone, Default)]
pub struct View {
    /// My person id.
    pub me: PersonId,
    /// Live entries, by day then time then id.
    pub items: Vec<Item>,
    pub people: PeopleDoc,
    pub practices: PracticesDoc,
    /// The fold it was made from (undo history, rejected and waiting lines).
    pub state: fold::Journal,
    /// A light view ([`View::light`]): `items` and the history are empty.
    pub light: bool,
    /// In a light view, the days of every entry as the index holds them,
    /// when the command asked for them.
    pub days: Option<DayIndex>,
}

impl View {
    /// The view of `state` for `me`. A partner's entry that claims to be
    /// private is shown as theirs, like any other: only my own private log
    /// is mine to keep.
    pub fn new(state: fold::Journal, me: &str) -> View {
        let mut items: Vec<Item> = state
            .entries
            .iter()
            .map(|((owner, id), record)| {
                let key = (owner.clone(), *id);
                let shared = state.shared_notes.get(&key);
                let unshared = (owner == me).then(|| state.notes.get(&key)).flatten();
                item_of(record, owner, me, shared, unshared)
            })
            .collect();
        items.sort_by(|a, b| {
            (a.entry.day, a.entry.at, a.entry.id).cmp(&(b.entry.day, b.entry.at, b.entry.id))
        });
        let people = PeopleDoc {
            people: state
                .names
                .iter()
                .map(|(id, name)| Person {
                    id: id.clone(),
                    name: name.clone(),
                    rev: rev::Rev {
                        ms: 0,
                        c: 0,
                        by: id.clone(),
                    },
                    extra: Map::new(),
                })
                .collect(),
            ..PeopleDoc::default()
        };
        // Both of us may define one id: my own definition wins here, else
        // the first person's (by id), so each id is listed once.
        let mut custom: BTreeMap<&str, (&String, &crate::domain::record::PracticeRecord)> =
            BTreeMap::new();
        for ((owner, id), p) in &state.practices {
            if owner == me || !custom.contains_key(id.as_str()) {
                custom.insert(id, (owner, p));
            }
        }
        let practices = PracticesDoc {
            practices: custom
                .into_iter()
                .map(|(id, (owner, p))| CustomPractice {
                    id: id.to_string(),
                    about: p.about.clone(),
                    goal: p.goal,
                    added_by: owner.clone(),
                    rev: schema1_rev(&p.rev, owner),
                    extra: Map::new(),
                })
                .collect(),
            goals: state
                .goals
                .iter()
                .map(|((owner, practice), g)| GoalSetting {
                    person: owner.clone(),
                    practice: practice.clone(),
                    goal: g.goal,
                    retired: g.retired,
                    rev: schema1_rev(&g.rev, owner),
                    extra: Map::new(),
                })
                .collect(),
            ..PracticesDoc::default()
        };
        View {
            me: me.to_string(),
            items,
            people,
            practices,
            state,
            light: false,
            days: None,
        }
    }

    /// A view for commands that read only days, names and practices
    /// (`today`, `stats`, `calendar`, the streak line of `log`): made from
    /// the registers of the fold (`state` without entries) and the index's
    /// days, never from every entry. Its `items` are empty.
    pub fn light(registers: fold::Journal, me: &str, days: Option<DayIndex>) -> View {
        debug_assert!(registers.entries.is_empty());
        let mut view = View::new(registers, me);
        view.light = true;
        view.days = days;
        view
    }

    /// Whether this is a [`View::light`] one, without entries.
    pub fn is_light(&self) -> bool {
        self.light
    }

    /// Add my partner's schema-1 records, kept as a snapshot since the
    /// migration until their own migrated batch arrives: shown as before,
    /// read-only (they are nobody's to change here).
    pub fn add_snapshot(&mut self, snapshot: &crate::journal::migrate::Snapshot) {
        for (id, person) in &snapshot.people {
            if let Some(name) = &person.name {
                self.people.people.push(Person {
                    id: id.clone(),
                    name: name.clone(),
                    rev: rev::Rev {
                        ms: 0,
                        c: 0,
                        by: id.clone(),
                    },
                    extra: Map::new(),
                });
            }
            for entry in person.entries.iter().filter(|e| !e.deleted) {
                let mut entry = entry.clone();
                entry.author = id.clone();
                let record = EntryRecord {
                    id: entry.id,
                    kind: entry.kind,
                    practice: entry.practice.clone(),
                    day: entry.day,
                    until: entry.until,
                    at: entry.at,
                    took: entry.took_minutes,
                    h: None,
                    card: None,
                    private: false,
                    rev: Rev {
                        ms: entry.rev.ms,
                        c: entry.rev.c,
                    },
                };
                self.items.push(Item {
                    shared_note: entry.note.is_some(),
                    entry,
                    private: false,
                    record,
                });
            }
            for p in &person.practices {
                if !self.practices.practices.iter().any(|q| q.id == p.id) {
                    self.practices.practices.push(p.clone());
                }
            }
            self.practices.goals.extend(person.goals.iter().cloned());
        }
        self.items.sort_by(|a, b| {
            (a.entry.day, a.entry.at, a.entry.id).cmp(&(b.entry.day, b.entry.at, b.entry.id))
        });
    }

    /// Take records I just wrote (as [`Journal::write`] returns them,
    /// stamped), without reading the whole journal again: what the fold
    /// would make of them, since they are my newest lines. `note` is the
    /// shared note a record's sidecar carries.
    ///
    /// [`Journal::write`]: crate::journal::Journal::write
    pub fn take_mine(&mut self, record: &Record, note: Option<&str>) {
        let me = self.me.clone();
        match record {
            Record::Entry(r) => {
                if let Some(at) = self
                    .items
                    .iter()
                    .position(|i| i.entry.author == me && i.entry.id == r.id)
                {
                    self.items.remove(at);
                }
                let key = (me.clone(), r.id);
                self.state.entries.insert(key.clone(), r.clone());
                match note {
                    Some(n) => {
                        self.state.shared_notes.insert(key.clone(), n.to_string());
                    }
                    None => {
                        self.state.shared_notes.remove(&key);
                    }
                }
                let unshared = self.state.notes.get(&key).cloned();
                let shown = note.map(str::to_string).or(unshared);
                let item = Item {
                    entry: entry_of(r, &me, shown),
                    private: r.private,
                    shared_note: note.is_some(),
                    record: r.clone(),
                };
                let at = self.items.partition_point(|i| {
                    (i.entry.day, i.entry.at, i.entry.id) < (r.day, r.at, r.id)
                });
                self.items.insert(at, item);
            }
            Record::Remove(r) => {
                self.items
                    .retain(|i| !(i.entry.author == me && i.entry.id == r.id));
                let key = (me.clone(), r.id);
                self.state.entries.remove(&key);
                self.state.shared_notes.remove(&key);
                self.state.notes.remove(&key);
            }
            Record::Note(r) => {
                let key = (me.clone(), r.id);
                match &r.note {
                    Some(n) => {
                        self.state.notes.insert(key, n.clone());
                    }
                    None => {
                        self.state.notes.remove(&key);
                    }
                }
                let shared = self.state.shared_notes.get(&(me.clone(), r.id)).cloned();
                if let Some(item) = self
                    .items
                    .iter_mut()
                    .find(|i| i.entry.author == me && i.entry.id == r.id && !i.shared_note)
                {
                    item.entry.note = r.note.clone().or(shared);
                }
            }
            Record::Name(r) => {
                self.state.names.insert(me.clone(), r.name.clone());
                match self.people.people.iter_mut().find(|p| p.id == me) {
                    Some(p) => p.name = r.name.clone(),
                    None => self.people.people.push(Person {
                        id: me.clone(),
                        name: r.name.clone(),
                        rev: rev::Rev {
                            ms: 0,
                            c: 0,
                            by: me.clone(),
                        },
                        extra: Map::new(),
                    }),
                }
            }
            Record::Goal(g) => {
                self.state
                    .goals
                    .insert((me.clone(), g.practice.clone()), g.clone());
                self.practices
                    .goals
                    .retain(|s| !(s.person == me && s.practice == g.practice));
                self.practices.goals.push(GoalSetting {
                    person: me.clone(),
                    practice: g.practice.clone(),
                    goal: g.goal,
                    retired: g.retired,
                    rev: schema1_rev(&g.rev, &me),
                    extra: Map::new(),
                });
            }
            Record::Practice(p) => {
                self.state
                    .practices
                    .insert((me.clone(), p.id.clone()), p.clone());
                self.practices.practices.retain(|q| q.id != p.id);
                self.practices.practices.push(CustomPractice {
                    id: p.id.clone(),
                    about: p.about.clone(),
                    goal: p.goal,
                    added_by: me.clone(),
                    rev: schema1_rev(&p.rev, &me),
                    extra: Map::new(),
                });
                self.practices.practices.sort_by(|a, b| a.id.cmp(&b.id));
            }
            // Undo marks and the rest change no value here; the undo
            // history is read afresh by `undo` itself.
            _ => {}
        }
    }

    /// My entries.
    pub fn mine(&self) -> impl DoubleEndedIterator<Item = &Item> {
        self.items.iter().filter(|i| i.entry.author == self.me)
    }

    /// The days of everyone's entries, for statistics: those a light view
    /// was read with, or made from the entries of a whole one.
    pub fn day_index(&self) -> std::borrow::Cow<'_, DayIndex> {
        if self.light {
            debug_assert!(self.days.is_some(), "a light view read without its days");
            return match &self.days {
                Some(days) => std::borrow::Cow::Borrowed(days),
                None => std::borrow::Cow::Owned(DayIndex::default()),
            };
        }
        let mut index = DayIndex::default();
        for item in &self.items {
            let e = &item.entry;
            let person = index.people.entry(e.author.clone()).or_default();
            match e.kind {
                Kind::Log => {
                    person
                        .logged
                        .entry(e.practice.clone())
                        .or_default()
                        .add(e.day, 1);
                    if e.practice == REPAIR {
                        person.repairs.push(Repair {
                            day: e.day,
                            at: e.at,
                            took_minutes: e.took_minutes,
                        });
                    }
                }
                Kind::Skip => person
                    .skipped
                    .entry(e.practice.clone())
                    .or_default()
                    .push(e.day),
                Kind::Pause => person.paused.push(Pause {
                    practice: e.practice.clone(),
                    from: e.day,
                    until: e.until.unwrap_or(e.day).max(e.day),
                }),
            }
        }
        for person in index.people.values_mut() {
            person.finish();
        }
        std::borrow::Cow::Owned(index)
    }

    /// The one live entry a handle or an id names: first by the start of
    /// its handle (see [`handles`]), then by the start of its full id
    /// (dashes ignored). Ambiguous and unknown ones are input errors that
    /// say so, and list the candidates.
    pub fn find(&self, prefix: &str) -> Result<&Item> {
        self.find_preferring(prefix, None)
    }

    /// [`Self::find`] for a command that changes one of `me`'s entries:
    /// when every entry the prefix names has the same id and only one of
    /// them is `me`'s, that one. Ids are chosen by their author, so a
    /// partner's log may hold an entry with the very id of mine; it must
    /// never make mine impossible to name. A prefix that names entries of
    /// different ids stays ambiguous.
    pub fn find_mine(&self, prefix: &str, me: &str) -> Result<&Item> {
        self.find_preferring(prefix, Some(me))
    }

    fn find_preferring(&self, prefix: &str, me: Option<&str>) -> Result<&Item> {
        let Some(cleaned) = id_start(prefix) else {
            return Err(Error::input(format!("`{prefix}` is not an entry id"))
                .with_hint("use the id `safe history` shows (at least 4 hex digits)"));
        };
        let by_handle: Vec<&Item> = self
            .items
            .iter()
            .rev()
            .filter(|i| id_tail(&i.entry.id).starts_with(&cleaned))
            .collect();
        let found = match by_handle.len() {
            1 => by_handle,
            _ => {
                let by_id: Vec<&Item> = self
                    .items
                    .iter()
                    .rev()
                    .filter(|i| i.entry.id.simple().to_string().starts_with(&cleaned))
                    .collect();
                if by_id.is_empty() { by_handle } else { by_id }
            }
        };
        let found = match me {
            Some(me)
                if found.len() > 1 && found.iter().all(|i| i.entry.id == found[0].entry.id) =>
            {
                let mine: Vec<&Item> = found
                    .iter()
                    .copied()
                    .filter(|i| i.entry.author == me)
                    .collect();
                if mine.len() == 1 { mine } else { found }
            }
            _ => found,
        };
        match found.as_slice() {
            [] => Err(Error::input(format!("no entry has the id `{prefix}`"))
                .with_hint("`safe history --all` lists entries with their ids")),
            [one] => Ok(one),
            many => {
                let ids: Vec<String> = many
                    .iter()
                    .take(5)
                    .map(|i| {
                        let note = i
                            .entry
                            .note
                            .as_deref()
                            .map(|n| format!(" \"{}\"", truncate(n, 30)))
                            .unwrap_or_default();
                        format!(
                            "{} ({} {}{note})",
                            self.short_id(&i.entry.id),
                            i.entry.day,
                            i.entry.practice
                        )
                    })
                    .collect();
                Err(
                    Error::input(format!("`{prefix}` matches {} entries", many.len()))
                        .with_hint(format!("type more of the id: {}", ids.join(", "))),
                )
            }
        }
    }

    /// The handle of `id`: the shortest start of its random tail that no
    /// other entry of the journal shares (see [`handles`]).
    pub fn short_id(&self, id: &EntryId) -> String {
        let tail = id_tail(id);
        let shared = self
            .items
            .iter()
            .filter(|i| i.entry.id != *id)
            .map(|i| {
                id_tail(&i.entry.id)
                    .bytes()
                    .zip(tail.bytes())
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        tail[..(shared + 1).clamp(HANDLE_MIN, tail.len())].to_string()
    }

    /// The handles of `ids`, each unique among every entry of the journal.
    pub fn handles_of(&self, ids: &[EntryId]) -> Vec<String> {
        let shown: std::collections::HashSet<&EntryId> = ids.iter().collect();
        let mut all = ids.to_vec();
        all.extend(
            self.items
                .iter()
                .map(|i| i.entry.id)
                .filter(|id| !shown.contains(id)),
        );
        let mut out = handles(&all);
        out.truncate(ids.len());
        out
    }

    /// The entry `id` of mine, if it is live.
    pub fn my_entry(&self, id: &EntryId) -> Option<&Item> {
        self.mine().find(|i| i.entry.id == *id)
    }
}

/// What a typed id or handle can name: its hex digits, lowercase, dashes
/// left out; `None` unless that is at least [`HANDLE_MIN`] hex digits.
pub fn id_start(prefix: &str) -> Option<String> {
    let cleaned: String = prefix.chars().filter(|c| *c != '-').collect();
    let cleaned = cleaned.to_ascii_lowercase();
    (cleaned.len() >= HANDLE_MIN && cleaned.chars().all(|c| c.is_ascii_hexdigit()))
        .then_some(cleaned)
}

/// `owner`'s live entry `record` as `me` sees it, with its shared note
/// and, for my own entries, my unshared note.
pub fn item_of(
    record: &EntryRecord,
    owner: &str,
    me: &str,
    shared: Option<&String>,
    unshared: Option<&String>,
) -> Item {
    let unshared = unshared.filter(|_| owner == me);
    Item {
        entry: entry_of(record, owner, shared.or(unshared).cloned()),
        private: owner == me && record.private,
        shared_note: shared.is_some(),
        record: record.clone(),
    }
}

/// The schema-1 shape of an entry record.
fn entry_of(record: &EntryRecord, owner: &str, note: Option<String>) -> Entry {
    Entry {
        id: record.id,
        kind: record.kind,
        practice: record.practice.clone(),
        day: record.day,
        until: record.until,
        at: record.at,
        author: owner.to_string(),
        note,
        took_minutes: record.took,
        rev: schema1_rev(&record.rev, owner),
        deleted: false,
        extra: Map::new(),
    }
}

fn schema1_rev(rev: &Rev, owner: &str) -> rev::Rev {
    rev::Rev {
        ms: rev.ms,
        c: rev.c,
        by: owner.to_string(),
    }
}

/// Entries of `items` by id, for lookups.
pub fn by_id(items: &[Item]) -> BTreeMap<EntryId, &Item> {
    items.iter().map(|i| (i.entry.id, i)).collect()
}
