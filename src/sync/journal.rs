//! The journal as sync sees it: which files make up `shared/` (and so the
//! tree sync commits), each one parsed and checked as untrusted input, and how
//! two copies of one file merge and differ.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

use crate::domain::entry::Entry;
use crate::domain::limits;
use crate::domain::month::{MonthFile, YearMonth};
use crate::domain::person::PeopleDoc;
use crate::domain::practice::{PracticesDoc, valid_id};
use crate::domain::rev::Clock;
use crate::error::{Error, Result};
use crate::store::DataDir;
use crate::store::file::{self, SCHEMA};

/// A bigger blob is refused before it is read, so a hostile remote cannot
/// make safe load gigabytes; safe never writes one (see `domain::limits`).
pub use crate::domain::limits::MAX_FILE_BYTES;

/// A file of the journal, by its place in `shared/`. Nothing else is ever
/// committed, so `private/` and `config.json` cannot leak through sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JournalPath {
    People,
    Practices,
    Month(YearMonth),
}

impl JournalPath {
    pub const PEOPLE: &str = "people.json";
    pub const PRACTICES: &str = "practices.json";
    pub const LOG: &str = "log";

    /// The path inside `shared/` and inside the committed tree.
    pub fn rel(self) -> String {
        match self {
            JournalPath::People => Self::PEOPLE.to_string(),
            JournalPath::Practices => Self::PRACTICES.to_string(),
            JournalPath::Month(month) => format!("{}/{}", Self::LOG, month.file_name()),
        }
    }

    /// Where the file lives on this machine.
    pub fn local(self, dir: &DataDir) -> PathBuf {
        match self {
            JournalPath::People => dir.people_path(),
            JournalPath::Practices => dir.practices_path(),
            JournalPath::Month(month) => dir.month_path(crate::store::Side::Shared, month),
        }
    }
}

impl fmt::Display for JournalPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shared/{}", self.rel())
    }
}

/// Where a copy of a file came from, which decides how errors name it and
/// whether its revisions are news to the local clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `shared/` on this machine.
    Disk,
    /// A commit of this machine's `sync.git`.
    Local,
    /// A commit fetched from the remote: untrusted.
    Remote,
}

impl Origin {
    /// The name errors use for `path` from this origin.
    pub fn show(self, dir: &DataDir, path: JournalPath) -> PathBuf {
        match self {
            Origin::Disk => path.local(dir),
            Origin::Local => dir.sync_git_dir().join(format!("main:{path}")),
            Origin::Remote => PathBuf::from(format!("remote:{path}")),
        }
    }
}

/// One parsed and checked journal file.
#[derive(Debug, Clone, PartialEq)]
pub enum Doc {
    People(PeopleDoc),
    Practices(PracticesDoc),
    Month(MonthFile),
}

impl Doc {
    /// Parse a file's bytes and check what the schema alone cannot: a month
    /// file holds only entries of its month, and a shared file never carries
    /// private notes. `shown` names the file in errors.
    ///
    /// What came from the remote must also keep every limit of
    /// `domain::limits` (as of `today`), the same rules `log` and `import`
    /// keep: a partner's client could write anything there.
    pub fn parse(
        path: JournalPath,
        shown: &Path,
        bytes: &[u8],
        origin: Origin,
        today: NaiveDate,
    ) -> Result<Doc> {
        let hint_for = |err: Error| -> Error {
            // A newer schema keeps its "upgrade safe" hint; for anything else
            // the usual "fix it by hand" hint would point at the wrong copy.
            if origin != Origin::Remote || newer_schema(bytes) {
                return err;
            }
            err.with_hint(
                "nothing was changed here or on the remote; safe never writes such a file, so fix or revert \
                 it in the remote repository with git, then sync again",
            )
        };
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(too_big(shown, bytes.len() as u64));
        }
        let doc = match path {
            JournalPath::People => Doc::People(file::parse(shown, bytes).map_err(hint_for)?),
            JournalPath::Practices => Doc::Practices(file::parse(shown, bytes).map_err(hint_for)?),
            JournalPath::Month(month) => {
                let doc: MonthFile = file::parse(shown, bytes).map_err(hint_for)?;
                if let Some(entry) = doc.entries.iter().find(|e| YearMonth::of(e.day) != month) {
                    return Err(hint_for(Error::runtime(format!(
                        "{} is not valid safe data: entry {} is for {}, not a day of {month}",
                        shown.display(),
                        entry.id,
                        entry.day
                    ))));
                }
                if !doc.notes.is_empty() {
                    return Err(hint_for(Error::runtime(format!(
                        "{} is not valid safe data: it holds private notes, which are never shared",
                        shown.display()
                    ))));
                }
                Doc::Month(doc)
            }
        };
        if origin == Origin::Remote
            && let Err(why) = doc.keeps_limits(today)
        {
            return Err(Error::runtime(format!(
                "{} breaks a limit every safe keeps: {why}",
                shown.display()
            ))
            .with_hint(
                "nothing was changed here or on the remote; the partner who wrote it can fix or \
                 remove that record with an up-to-date safe (`safe edit`, `safe rm`), then both sync again",
            ));
        }
        Ok(doc)
    }

    /// Check what a file holds against the limits every record obeys.
    fn keeps_limits(&self, today: NaiveDate) -> Result<(), String> {
        match self {
            Doc::Month(doc) => {
                let mut seen = HashSet::new();
                for entry in &doc.entries {
                    if !seen.insert(entry.id) {
                        return Err(format!("entry {} appears twice", entry.id));
                    }
                    limits::check_entry(entry, today)
                        .map_err(|why| format!("entry {}: {why}", entry.id))?;
                }
            }
            Doc::Practices(doc) => {
                for practice in &doc.practices {
                    if !valid_id(&practice.id) {
                        return Err(format!(
                            "`{}` is not a practice id (lowercase letters, digits and dashes)",
                            practice.id
                        ));
                    }
                    if practice.about.chars().count() > limits::MAX_ABOUT_CHARS {
                        return Err(format!(
                            "the description of `{}` is longer than {} characters",
                            practice.id,
                            limits::MAX_ABOUT_CHARS
                        ));
                    }
                }
                if let Some(goal) = doc.goals.iter().find(|g| !valid_id(&g.practice)) {
                    return Err(format!(
                        "a goal names `{}`, which is not a practice id",
                        goal.practice
                    ));
                }
            }
            Doc::People(doc) => {
                for person in &doc.people {
                    // A partner may be called anything they like, but a name
                    // is one plain line: no controls, no bidi tricks.
                    let who_word = ["me", "partner"]
                        .iter()
                        .any(|w| person.name.trim().eq_ignore_ascii_case(w));
                    if let Err(why) = limits::check_name(&person.name)
                        && !who_word
                    {
                        return Err(format!("the name of person {}: {why}", person.id));
                    }
                }
            }
        }
        Ok(())
    }

    /// The join of two copies of the same file (see `domain::merge`).
    pub fn merge(&self, other: &Doc) -> Doc {
        match (self, other) {
            (Doc::People(a), Doc::People(b)) => Doc::People(a.merge(b)),
            (Doc::Practices(a), Doc::Practices(b)) => Doc::Practices(a.merge(b)),
            (Doc::Month(a), Doc::Month(b)) => Doc::Month(a.merge(b)),
            _ => unreachable!("copies of one path are always the same kind of file"),
        }
    }

    /// The exact bytes safe writes for this document.
    pub fn to_text(&self) -> Vec<u8> {
        match self {
            Doc::People(doc) => file::to_text(doc),
            Doc::Practices(doc) => file::to_text(doc),
            Doc::Month(doc) => file::to_text(doc),
        }
    }

    /// Move `clock` past every revision in this document, so that my next
    /// change outranks everything I have seen.
    pub fn observe(&self, clock: &mut Clock) {
        match self {
            Doc::People(doc) => doc.people.iter().for_each(|p| clock.observe(&p.rev)),
            Doc::Practices(doc) => {
                doc.practices.iter().for_each(|p| clock.observe(&p.rev));
                doc.goals.iter().for_each(|g| clock.observe(&g.rev));
            }
            Doc::Month(doc) => doc.entries.iter().for_each(|e| clock.observe(&e.rev)),
        }
    }

    pub fn entries(&self) -> &[Entry] {
        match self {
            Doc::Month(doc) => &doc.entries,
            _ => &[],
        }
    }

    /// How many entries of `to` are new or different compared with `from`:
    /// what a person would call entries received or sent. The tombstone of an
    /// entry `from` never had is no news to its reader, so it is not counted.
    pub fn entries_changed(from: Option<&Doc>, to: &Doc) -> usize {
        let before: std::collections::HashMap<_, _> = from
            .map(|d| d.entries().iter().map(|e| (e.id, e)).collect())
            .unwrap_or_default();
        to.entries()
            .iter()
            .filter(|e| match before.get(&e.id) {
                Some(old) => *old != *e,
                None => !e.deleted,
            })
            .count()
    }
}

fn newer_schema(bytes: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        schema: u64,
    }
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.schema > SCHEMA)
}

/// The error for a file over [`MAX_FILE_BYTES`].
pub fn too_big(shown: &Path, size: u64) -> Error {
    Error::runtime(format!(
        "{} is {} MiB, more than safe accepts for one journal file ({} MiB)",
        shown.display(),
        size / (1024 * 1024),
        MAX_FILE_BYTES / (1024 * 1024)
    ))
    .with_hint("nothing was changed; a journal file this big was not written by safe")
}

/// The error for a tree that holds something a journal never does.
pub fn not_a_journal(url: &str, what: &str) -> Error {
    Error::runtime(format!("{url} is not a safe journal: it holds `{what}`")).with_hint(
        "safe syncs with an empty repository or one that safe filled; create a new empty one \
             (no README or licence) and point `safe sync --remote <URL>` at it",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn month_text(day: &str, deleted: bool) -> String {
        format!(
            r#"{{"schema": 1, "entries": [{{"id": "019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d", "practice": "repair",
            "day": "{day}", "at": "{day}T21:14:03+01:00", "author": "a",
            "rev": {{"ms": 5, "c": 0, "by": "a"}}, "deleted": {deleted}}}]}}"#
        )
    }

    fn nov() -> JournalPath {
        JournalPath::Month(YearMonth {
            year: 2026,
            month: 11,
        })
    }

    #[test]
    fn paths_are_the_layout_of_shared() {
        assert_eq!(JournalPath::People.rel(), "people.json");
        assert_eq!(nov().rel(), "log/2026-11.json");
        assert_eq!(nov().to_string(), "shared/log/2026-11.json");
    }

    fn today() -> NaiveDate {
        "2026-11-29".parse().unwrap()
    }

    #[test]
    fn received_data_keeps_the_limits_a_log_keeps() {
        let shown = Path::new("remote:shared/practices.json");
        let rev = r#"{"ms": 1, "c": 0, "by": "a"}"#;
        let practice = |id: &str| {
            format!(
                r#"{{"schema": 1, "practices": [{{"id": {}, "about": "x", "goal": "daily", "added_by": "a", "rev": {rev}}}]}}"#,
                serde_json::to_string(id).unwrap()
            )
        };
        let ok = Doc::parse(
            JournalPath::Practices,
            shown,
            practice("read-aloud").as_bytes(),
            Origin::Remote,
            today(),
        );
        assert!(ok.is_ok());
        for id in [
            "hug;touch pwned;#",
            "$(touch x)",
            "a b",
            "`x`",
            "a\nb",
            "\u{1b}[31m",
        ] {
            let err = Doc::parse(
                JournalPath::Practices,
                shown,
                practice(id).as_bytes(),
                Origin::Remote,
                today(),
            )
            .unwrap_err();
            assert!(
                err.message().contains("not a practice id"),
                "{}",
                err.message()
            );
            assert!(!err.message().contains('\u{1b}'));
        }
        // The same file on this machine is the user's own business.
        assert!(
            Doc::parse(
                JournalPath::Practices,
                shown,
                practice("$(x)").as_bytes(),
                Origin::Disk,
                today()
            )
            .is_ok()
        );
        let long_note = format!(
            r#"{{"schema": 1, "entries": [{{"id": "019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d", "practice": "appreciation",
            "day": "2026-11-27", "at": "2026-11-27T20:00:00+01:00", "author": "a", "note": "{}", "rev": {rev}}}]}}"#,
            "x".repeat(4001)
        );
        let err =
            Doc::parse(nov(), shown, long_note.as_bytes(), Origin::Remote, today()).unwrap_err();
        assert!(err.message().contains("at most 4000"), "{}", err.message());
    }

    #[test]
    fn a_month_file_holds_only_its_month() {
        let shown = Path::new("remote:shared/log/2026-11.json");
        assert!(
            Doc::parse(
                nov(),
                shown,
                month_text("2026-11-27", false).as_bytes(),
                Origin::Remote,
                today()
            )
            .is_ok()
        );
        let err = Doc::parse(
            nov(),
            shown,
            month_text("2026-12-01", false).as_bytes(),
            Origin::Remote,
            today(),
        )
        .unwrap_err();
        assert!(
            err.message().contains("not a day of 2026-11"),
            "{}",
            err.message()
        );
        assert!(err.hint().unwrap().contains("nothing was changed"));
    }

    #[test]
    fn remote_errors_name_the_file_and_keep_the_upgrade_hint() {
        let shown = Path::new("remote:shared/people.json");
        let err = Doc::parse(
            JournalPath::People,
            shown,
            b"{\"schema\": 1, \"people\": [}",
            Origin::Remote,
            today(),
        )
        .unwrap_err();
        assert!(
            err.message().starts_with("remote:shared/people.json"),
            "{}",
            err.message()
        );
        let err = Doc::parse(
            JournalPath::People,
            shown,
            b"{\"schema\": 9}",
            Origin::Remote,
            today(),
        )
        .unwrap_err();
        assert!(err.hint().unwrap().contains("upgrade safe"));
    }

    #[test]
    fn shared_files_never_carry_private_notes() {
        let text = r#"{"schema": 1, "entries": [], "notes": [{"id": "019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d",
            "note": "secret", "rev": {"ms": 1, "c": 0, "by": "a"}}]}"#;
        assert!(
            Doc::parse(
                nov(),
                Path::new("x"),
                text.as_bytes(),
                Origin::Disk,
                today()
            )
            .is_err()
        );
    }

    #[test]
    fn counts_new_and_changed_entries_but_not_unknown_tombstones() {
        let shown = Path::new("x");
        let live = Doc::parse(
            nov(),
            shown,
            month_text("2026-11-27", false).as_bytes(),
            Origin::Disk,
            today(),
        )
        .unwrap();
        let gone = Doc::parse(
            nov(),
            shown,
            month_text("2026-11-27", true).as_bytes(),
            Origin::Disk,
            today(),
        )
        .unwrap();
        assert_eq!(Doc::entries_changed(None, &live), 1);
        assert_eq!(Doc::entries_changed(Some(&live), &live), 0);
        assert_eq!(Doc::entries_changed(Some(&live), &gone), 1);
        assert_eq!(Doc::entries_changed(None, &gone), 0);
    }
}
