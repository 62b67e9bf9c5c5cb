//! Adding one record to a month file without parsing the ones already there.
//!
//! `safe log` must cost the same on ten years of data as on an empty journal
//! (DESIGN.md §6), and a month of a busy couple holds a thousand entries.
//! Parsing and re-serialising all of them to add one was most of the cost, so
//! the records already in the file are kept as raw JSON text, checked only
//! for syntax, and written back byte for byte; only the new record is
//! serialised. The file stays sorted: the new record goes where its sort key
//! belongs, found from the end (new entries are nearly always the latest) or
//! by binary search, parsing just the keys it compares.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::domain::entry::Entry;
use crate::domain::month::PrivateNote;

/// A month file with its records left as raw JSON.
pub struct RawMonth<'a> {
    pub schema: u64,
    pub entries: Vec<&'a RawValue>,
    pub notes: Vec<&'a RawValue>,
    pub extra: Map<String, Value>,
}

impl<'de> Deserialize<'de> for RawMonth<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawMonthVisitor)
    }
}

struct RawMonthVisitor;

impl<'de> serde::de::Visitor<'de> for RawMonthVisitor {
    type Value = RawMonth<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a month of the journal (a JSON object)")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> Result<RawMonth<'de>, A::Error> {
        let mut month = RawMonth {
            schema: 0,
            entries: Vec::new(),
            notes: Vec::new(),
            extra: Map::new(),
        };
        let mut schema = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "schema" => schema = Some(map.next_value()?),
                "entries" => month.entries = map.next_value()?,
                "notes" => month.notes = map.next_value()?,
                other => {
                    month.extra.insert(other.to_string(), map.next_value()?);
                }
            }
        }
        month.schema =
            schema.ok_or_else(|| <A::Error as serde::de::Error>::missing_field("schema"))?;
        Ok(month)
    }
}

#[derive(Deserialize)]
struct EntryKey {
    day: NaiveDate,
    at: DateTime<FixedOffset>,
    id: Uuid,
}

#[derive(Deserialize)]
struct NoteKey {
    id: Uuid,
}

/// Where a record with `key` goes in a sorted list, parsing as few of the
/// raw records' keys as it can. `None` if a raw record lacks a readable key
/// (a hand-edited file): the caller then takes the careful path.
fn position<K: Ord>(
    raw: &[&RawValue],
    key: &K,
    parse: impl Fn(&RawValue) -> Option<K>,
) -> Option<usize> {
    let Some(last) = raw.last() else {
        return Some(0);
    };
    if parse(last)? <= *key {
        return Some(raw.len());
    }
    let (mut low, mut high) = (0, raw.len() - 1);
    while low < high {
        let mid = (low + high) / 2;
        if parse(raw[mid])? <= *key {
            low = mid + 1;
        } else {
            high = mid;
        }
    }
    Some(low)
}

/// Where a new entry goes among the raw entries.
pub fn entry_position(raw: &[&RawValue], entry: &Entry) -> Option<usize> {
    position(raw, &entry.sort_key(), |r| {
        serde_json::from_str::<EntryKey>(r.get())
            .ok()
            .map(|k| (k.day, k.at, k.id))
    })
}

/// Where a new private note goes among the raw notes.
pub fn note_position(raw: &[&RawValue], note: &PrivateNote) -> Option<usize> {
    position(raw, &note.id, |r| {
        serde_json::from_str::<NoteKey>(r.get()).ok().map(|k| k.id)
    })
}

/// Raw records with one new record inserted, serialised in order.
struct Inserted<'a, T> {
    raw: &'a [&'a RawValue],
    new: Option<(usize, &'a T)>,
}

impl<T: Serialize> Serialize for Inserted<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq =
            serializer.serialize_seq(Some(self.raw.len() + usize::from(self.new.is_some())))?;
        for (i, raw) in self.raw.iter().enumerate() {
            if let Some((at, new)) = self.new
                && at == i
            {
                seq.serialize_element(new)?;
            }
            seq.serialize_element(raw)?;
        }
        if let Some((at, new)) = self.new
            && at >= self.raw.len()
        {
            seq.serialize_element(new)?;
        }
        seq.end()
    }
}

impl<T> Inserted<'_, T> {
    fn is_empty(&self) -> bool {
        self.raw.is_empty() && self.new.is_none()
    }
}

/// The same shape as a `MonthFile`, field for field, so the text written
/// is what a full rewrite would have produced.
#[derive(Serialize)]
struct Out<'a> {
    schema: u64,
    entries: Inserted<'a, Entry>,
    #[serde(skip_serializing_if = "Inserted::is_empty")]
    notes: Inserted<'a, PrivateNote>,
    #[serde(flatten)]
    extra: &'a Map<String, Value>,
}

/// The text of `month` with `entry` and/or `note` inserted at the given
/// positions, pretty-printed as every month file is.
pub fn render(
    month: &RawMonth<'_>,
    entry: Option<(usize, &Entry)>,
    note: Option<(usize, &PrivateNote)>,
) -> Vec<u8> {
    let out = Out {
        schema: month.schema,
        entries: Inserted {
            raw: &month.entries,
            new: entry,
        },
        notes: Inserted {
            raw: &month.notes,
            new: note,
        },
        extra: &month.extra,
    };
    // Sized for the whole text up front: growing by doubling would copy
    // and fault in a busy month's few hundred kilobytes several times.
    let size = month
        .entries
        .iter()
        .chain(&month.notes)
        .map(|r| r.get().len() + 8)
        .sum::<usize>();
    super::file::to_text_sized(&out, size + 1024)
}

/// The splice of [`splice_streaming`] on a month held whole in memory: the
/// plainest statement of it, which the streaming one is tested against.
#[cfg(test)]
fn splice<'a>(text: &'a [u8], entry: &Entry) -> Option<Spliced<'a>> {
    if !text.starts_with(HEAD) {
        return None;
    }
    let from = HEAD.len() - b"    {".len();
    let end = from - 1 + memchr::memmem::find(&text[from - 1..], b"\n  ]")?;
    match &text[end + 4..] {
        [b',', b'\n', ..] | [b'\n', b'}', ..] => {}
        _ => return None,
    }
    // Every line up to there is indented as an entry's (so that line does
    // close the entries), and the last one closes an entry.
    let inside = &text[from..end];
    let indented =
        memchr::memchr_iter(b'\n', inside).all(|at| inside[at + 1..].starts_with(b"    "));
    if !indented || !inside.ends_with(b"\n    }") {
        return None;
    }
    let last = from - 1 + memchr::memmem::rfind(&text[from - 1..end], b"\n    {")? + 1;
    let key: EntryKey = serde_json::from_slice(&text[last..end]).ok()?;
    if (key.day, key.at, key.id) > entry.sort_key() {
        return None;
    }
    Some(Spliced {
        before: &text[..end],
        new: spliced_entry(entry)?,
        after: &text[end..],
    })
}

/// The start of a month file as safe lays it out, up to its first entry.
const HEAD: &[u8] = b"{\n  \"schema\": 1,\n  \"entries\": [\n    {";

/// What goes in before the entries' closing line: a comma, and the entry
/// printed on its own and indented as a full rewrite indents it.
fn spliced_entry(entry: &Entry) -> Option<Vec<u8>> {
    let printed = serde_json::to_vec_pretty(entry).ok()?;
    let lines = printed.iter().filter(|b| **b == b'\n').count() + 1;
    let mut new = Vec::with_capacity(printed.len() + 4 * lines + 2);
    new.extend_from_slice(b",\n");
    for (i, line) in printed.split(|b| *b == b'\n').enumerate() {
        if i > 0 {
            new.push(b'\n');
        }
        new.extend_from_slice(b"    ");
        new.extend_from_slice(line);
    }
    Some(new)
}

/// Write to `out` the month read from `month` with `entry` added at the end
/// of its entries, without parsing the others: for a month known to parse
/// (the day cache has read it as it is now), laid out as safe writes it,
/// whose last entry sorts before the new one, which is how nearly every
/// `safe log` finds its month. On the way, gather the ids whose first 8 hex
/// digits are one of `heads` (see [`ids_with_heads`]). `None` when any of
/// that does not hold: `out` then holds part of the month and must be thrown
/// away, and [`render`] does the work.
///
/// safe's files are pretty-printed, and a JSON string cannot hold a raw
/// line break, so lines are the file's structure: the entries are the lines
/// indented by four spaces between `"entries": [` and the first line that is
/// just `  ]` (two spaces: nothing inside an entry is indented so little).
/// The new entry goes in printed on its own and indented by four spaces,
/// which is exactly how a full rewrite prints it.
///
/// The month is read `piece` bytes at a time and written as it goes: a busy
/// month is a few hundred kilobytes, and reading it whole into a fresh
/// buffer cost `safe log` more (in page faults) than anything done with it.
pub fn splice_streaming<R: std::io::Read + std::io::Seek>(
    month: &mut R,
    out: &mut impl std::io::Write,
    entry: &Entry,
    heads: &std::collections::HashSet<[u8; 8]>,
    piece: usize,
) -> std::io::Result<Option<Vec<Uuid>>> {
    use std::io::SeekFrom;
    // What a window keeps of the one before: enough for the end marker and
    // what must follow it, a line's indentation, and an id with its key.
    const CARRY: usize = 64;
    const END: &[u8] = b"\n  ]";
    const ENTRY: &[u8] = b"\n    {";
    let from = HEAD.len() - b"    {".len();
    let piece = piece.max(CARRY);
    let mut window: Vec<u8> = Vec::with_capacity(CARRY + piece);
    let mut at = 0; // where the window starts in the month
    let mut eof = false;
    let mut ids = Vec::new();
    let mut last_entry = None;
    loop {
        // Fill the window: what was carried, then up to a piece more.
        let kept = window.len();
        window.resize(kept + piece, 0);
        let mut filled = kept;
        while filled < window.len() {
            match month.read(&mut window[filled..]) {
                Ok(0) => {
                    eof = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        window.truncate(filled);
        if at == 0 && !window.starts_with(HEAD) {
            return Ok(None);
        }
        // The first end marker after the entries begin; it is taken once the
        // two bytes that must follow it are in the window too.
        let search_from = (from - 1).saturating_sub(at).min(window.len());
        let first_end = memchr::memmem::find(&window[search_from..], END).map(|i| search_from + i);
        let scan_to = first_end.unwrap_or(window.len());
        let found = first_end.filter(|e| e + END.len() + 2 <= window.len());
        // Lines before it are indented as an entry's.
        let lines_from = from.saturating_sub(at).min(scan_to);
        for i in memchr::memchr_iter(b'\n', &window[lines_from..scan_to]).map(|i| lines_from + i) {
            match window.get(i + 1..i + 5) {
                Some(indent) if indent == b"    " => {}
                Some(_) => return Ok(None),
                None => {} // seen again, whole, in the next window
            }
        }
        for i in memchr::memmem::find_iter(&window[search_from..scan_to], ENTRY) {
            last_entry = Some(at + search_from + i + 1);
        }
        // The entries' ids (what follows them, a private file's notes, holds
        // only ids of the shared file's entries).
        ids.extend(ids_with_heads(
            &window[..found.unwrap_or(window.len())],
            heads,
        ));
        if let Some(end) = found {
            match &window[end + END.len()..end + END.len() + 2] {
                b",\n" | b"\n}" => {}
                _ => return Ok(None),
            }
            if !window[..end].ends_with(b"\n    }") {
                return Ok(None);
            }
            // The last entry's sort key, read back from the month.
            let Some(start) = last_entry else {
                return Ok(None);
            };
            let end_at = at + end;
            let resume = at + window.len();
            let mut text = vec![0; end_at - start];
            month.seek(SeekFrom::Start(start as u64))?;
            month.read_exact(&mut text)?;
            month.seek(SeekFrom::Start(resume as u64))?;
            let Ok(key) = serde_json::from_slice::<EntryKey>(&text) else {
                return Ok(None);
            };
            if (key.day, key.at, key.id) > entry.sort_key() {
                return Ok(None);
            }
            let Some(new) = spliced_entry(entry) else {
                return Ok(None);
            };
            out.write_all(&window[..end])?;
            out.write_all(&new)?;
            out.write_all(&window[end..])?;
            // What follows the entries is copied as it is.
            std::io::copy(month, out)?;
            ids.dedup();
            return Ok(Some(ids));
        }
        if eof {
            return Ok(None);
        }
        // Write all but the carry, which the next window sees again.
        let keep = window.len().min(CARRY);
        let done = window.len() - keep;
        out.write_all(&window[..done])?;
        window.drain(..done);
        at += done;
    }
}

/// A month's text with a new entry spliced in, in three pieces.
#[cfg(test)]
#[derive(Debug)]
struct Spliced<'a> {
    before: &'a [u8],
    new: Vec<u8>,
    after: &'a [u8],
}

#[cfg(test)]
impl Spliced<'_> {
    fn to_vec(&self) -> Vec<u8> {
        [self.before, &self.new, self.after].concat()
    }
}

/// Every entry id in the text whose first 8 hex digits are one of `heads`,
/// in the order they appear. A few heads (`safe log` has one) are searched
/// for themselves, which is quick since they are rare (ids made in the same
/// minute); many (`safe history` of a busy week) in one pass over the ids.
pub fn ids_with_heads(text: &[u8], heads: &std::collections::HashSet<[u8; 8]>) -> Vec<Uuid> {
    const KEY: &[u8] = b"\"id\": \"";
    let id_at = |at: usize| {
        text.get(at..at + 36)
            .and_then(|id| Uuid::try_parse_ascii(id).ok())
    };
    if heads.len() > 4 {
        return memchr::memmem::find_iter(text, KEY)
            .map(|at| at + KEY.len())
            .filter(|at| {
                text.get(*at..*at + 8)
                    .and_then(|head| <[u8; 8]>::try_from(head).ok())
                    .is_some_and(|head| heads.contains(&head))
            })
            .filter_map(id_at)
            .collect();
    }
    let mut found = Vec::new();
    for head in heads {
        for at in memchr::memmem::find_iter(text, head) {
            if text[..at].ends_with(KEY)
                && let Some(id) = id_at(at)
            {
                found.push((at, id));
            }
        }
    }
    found.sort();
    found.into_iter().map(|(_, id)| id).collect()
}

/// [`ids_with_heads`] of a whole file, read a piece at a time into
/// `buffer` (kept for the next file): the months around a new entry are
/// searched without holding each in memory.
pub fn ids_with_heads_in(
    mut file: impl std::io::Read,
    heads: &std::collections::HashSet<[u8; 8]>,
    buffer: &mut Vec<u8>,
) -> Vec<Uuid> {
    const PIECE: usize = 64 * 1024;
    // Long enough to hold an id and its key: one cut by the end of a piece
    // is found whole in the next, with what is carried over.
    const CARRY: usize = 64;
    buffer.clear();
    buffer.resize(CARRY + PIECE, 0);
    let mut found = Vec::new();
    let mut kept = 0;
    loop {
        let read = match file.read(&mut buffer[kept..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let filled = kept + read;
        found.extend(ids_with_heads(&buffer[..filled], heads));
        kept = filled.min(CARRY);
        buffer.copy_within(filled - kept..filled, 0);
    }
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`splice_streaming`] of `text` in pieces of every size in `pieces`:
    /// each must agree with [`splice`] (bytes) and [`ids_with_heads`] (ids).
    fn streams_like_splice(text: &[u8], new: &Entry) {
        let heads =
            std::collections::HashSet::from([crate::domain::entry::id_head(&new.id), *b"00000000"]);
        let want = splice(text, new).map(|s| s.to_vec());
        for piece in [1, 64, 65, 100, 257, 4096] {
            let mut out = Vec::new();
            let ids = splice_streaming(
                &mut std::io::Cursor::new(text),
                &mut out,
                new,
                &heads,
                piece,
            )
            .unwrap();
            match &want {
                Some(want) => {
                    // The ids of the entries, before their closing line.
                    let from = HEAD.len() - 6;
                    let end = from + memchr::memmem::find(&text[from..], b"\n  ]").unwrap();
                    let want_ids = ids_with_heads(&text[..end], &heads);
                    assert_eq!(ids.as_ref(), Some(&want_ids), "piece {piece}");
                    assert_eq!(
                        String::from_utf8_lossy(&out),
                        String::from_utf8_lossy(want),
                        "piece {piece}"
                    );
                }
                None => assert_eq!(ids, None, "piece {piece}"),
            }
        }
    }

    use crate::domain::month::MonthFile;
    use crate::domain::rev::Rev;

    fn entry(id: u128, day: u32, hour: u32) -> Entry {
        let day = NaiveDate::from_ymd_opt(2026, 11, day).unwrap();
        let at = DateTime::parse_from_rfc3339(&format!("{day}T{hour:02}:00:00+01:00")).unwrap();
        let mut e = Entry::new(
            Default::default(),
            "repair",
            day,
            at,
            "p",
            Rev {
                ms: 1,
                c: 0,
                by: "p".into(),
            },
        );
        e.id = Uuid::from_u128(id);
        e
    }

    /// Appending must give exactly the text a full parse, insert, sort and
    /// rewrite gives, wherever the new entry falls.
    #[test]
    fn appending_matches_a_full_rewrite() {
        let mut doc = MonthFile {
            entries: vec![
                entry(1, 3, 9),
                entry(2, 5, 9),
                entry(3, 5, 20),
                entry(4, 20, 8),
            ],
            ..Default::default()
        };
        doc.extra.insert("future".into(), Value::from(1));
        doc.entries[1]
            .extra
            .insert("mood".into(), Value::from("calm"));
        let text = super::super::file::to_text(&doc);
        for new in [
            entry(9, 1, 1),
            entry(9, 5, 12),
            entry(9, 20, 8),
            entry(9, 28, 23),
            entry(0, 5, 9),
        ] {
            let raw: RawMonth = serde_json::from_slice(&text).unwrap();
            let at = entry_position(&raw.entries, &new).unwrap();
            let appended = render(&raw, Some((at, &new)), None);
            let mut full = doc.clone();
            full.entries.push(new.clone());
            full.sort();
            let want = String::from_utf8(super::super::file::to_text(&full)).unwrap();
            assert_eq!(String::from_utf8(appended).unwrap(), want);
            // Spliced in, where it goes last, the bytes are the same, and
            // streamed in pieces too.
            streams_like_splice(&text, &new);
            let spliced = splice(&text, &new).map(|t| String::from_utf8(t.to_vec()).unwrap());
            if at == raw.entries.len() {
                assert_eq!(spliced.as_deref(), Some(&want[..]));
            } else {
                assert_eq!(spliced, None, "only the latest is spliced");
            }
        }
    }

    /// Files safe did not lay out itself, or with nothing to add after,
    /// are left to the careful path.
    #[test]
    fn splicing_wants_safes_own_layout() {
        let new = entry(9, 28, 23);
        let doc = MonthFile {
            entries: vec![entry(1, 3, 9)],
            ..Default::default()
        };
        let pretty = super::super::file::to_text(&doc);
        assert!(splice(&pretty, &new).is_some());
        streams_like_splice(&pretty, &new);
        let compact = serde_json::to_vec(&doc).unwrap();
        assert!(splice(&compact, &new).is_none());
        let empty = super::super::file::to_text(&MonthFile::default());
        assert!(splice(&empty, &new).is_none());
        let newer = String::from_utf8(pretty.clone())
            .unwrap()
            .replace("\"schema\": 1", "\"schema\": 2");
        assert!(splice(newer.as_bytes(), &new).is_none());
        let mut cut = pretty.clone();
        cut.truncate(pretty.len() - 3);
        assert!(splice(&cut, &new).is_none());
        // Valid JSON laid out by hand: the entries close on their last
        // line, and what follows looks like them.
        let text = String::from_utf8(pretty).unwrap();
        let (entries, rest) = text.split_at(text.find("\n  ]").unwrap());
        let hand = format!(
            "{entries}],\n  \"old\": [\n    {{\"day\": \"2026-11-01\", \"at\": \"2026-11-01T09:00:00+01:00\", \"id\": \"{}\"}}{}",
            Uuid::from_u128(5),
            rest
        );
        serde_json::from_str::<Value>(&hand).expect("still valid JSON");
        assert!(splice(hand.as_bytes(), &new).is_none());
        for text in [
            &compact[..],
            &empty,
            newer.as_bytes(),
            &cut,
            hand.as_bytes(),
        ] {
            streams_like_splice(text, &new);
        }
    }

    proptest::proptest! {
        /// Whatever the notes hold, appending gives the bytes of a full rewrite.
        #[test]
        fn appending_any_notes_matches_a_full_rewrite(
            notes in proptest::collection::vec(".*", 1..6),
            new_note in ".*",
            day in 1u32..29,
        ) {
            let mut doc = MonthFile::default();
            for (i, note) in notes.into_iter().enumerate() {
                let mut e = entry(i as u128 + 1, (i as u32 % 27) + 1, 9);
                e.note = Some(note);
                doc.entries.push(e);
            }
            doc.sort();
            let text = super::super::file::to_text(&doc);
            let raw: RawMonth = serde_json::from_slice(&text).unwrap();
            let mut new = entry(99, day, 12);
            new.note = Some(new_note);
            let at = entry_position(&raw.entries, &new).unwrap();
            let appended = render(&raw, Some((at, &new)), None);
            let spliced = splice(&text, &new).map(|s| s.to_vec());
            streams_like_splice(&text, &new);
            let mut full = doc.clone();
            full.entries.push(new);
            full.sort();
            let want = super::super::file::to_text(&full);
            if at == raw.entries.len() {
                proptest::prop_assert_eq!(spliced.as_ref(), Some(&want));
            }
            proptest::prop_assert_eq!(appended, want);
        }
    }

    #[test]
    fn notes_keep_their_order_too() {
        let note = |id: u128| PrivateNote {
            id: Uuid::from_u128(id),
            note: format!("n{id}"),
            rev: Rev {
                ms: 1,
                c: 0,
                by: "p".into(),
            },
            extra: Map::new(),
        };
        let doc = MonthFile {
            notes: vec![note(2), note(5)],
            ..Default::default()
        };
        let text = super::super::file::to_text(&doc);
        let raw: RawMonth = serde_json::from_slice(&text).unwrap();
        let new = note(3);
        let at = note_position(&raw.notes, &new).unwrap();
        let mut full = doc.clone();
        full.notes.push(new.clone());
        full.sort();
        assert_eq!(
            render(&raw, None, Some((at, &new))),
            super::super::file::to_text(&full)
        );
    }

    #[test]
    fn finds_ids_that_share_the_first_eight_digits() {
        let a = Uuid::parse_str("019ac0de-7f3a-7c41-9b2e-5d4f3a2b1c0d").unwrap();
        let b = Uuid::parse_str("019ac0de-0000-7000-8000-000000000000").unwrap();
        let c = Uuid::parse_str("019b0000-0000-7000-8000-000000000000").unwrap();
        let text =
            format!("{{\"id\": \"{a}\"}} {{\"id\": \"{b}\"}} {{\"id\": \"{c}\"}} \"by\": \"{a}\"");
        let heads = std::collections::HashSet::from([*b"019ac0de"]);
        assert_eq!(ids_with_heads(text.as_bytes(), &heads), vec![a, b]);
        // Many heads are looked up in one pass, with the same answer.
        let many = std::collections::HashSet::from([
            *b"019ac0de",
            *b"00000001",
            *b"00000002",
            *b"00000003",
            *b"00000004",
        ]);
        assert_eq!(ids_with_heads(text.as_bytes(), &many), vec![a, b]);
        // Read a piece at a time, with ids cut by the pieces' ends.
        let long = format!("{}{text}{}{text}", " ".repeat(65_500), " ".repeat(65_510));
        let mut buffer = Vec::new();
        let found = ids_with_heads_in(long.as_bytes(), &heads, &mut buffer);
        assert_eq!(found, vec![a, b, a, b]);
    }
}
