//! One line of a device's log (schema 2) and the chain that ties a log
//! together: `payload TAB sig TAB sidecar LF`, where the payload is JSON
//! holding the device, `seq`, `prev` (the hash of the previous payload), the
//! operation id and the record. See docs/protocol.md "Lines" and "Chains";
//! each rule there names the test below that checks it.
//!
//! Signatures cover the payload bytes exactly as stored (never a
//! re-serialisation), prefixed by [`LINE_DOMAIN`](super::LINE_DOMAIN).

use std::borrow::Cow;
use std::fmt;

use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::{DeviceId, DeviceKey, hex, unhex, verify_line};

/// The payload format version.
pub const VERSION: u64 = 2;

/// A SHA-256 digest.
pub type Hash = [u8; 32];

/// Which of a device's two logs a chain is: the shared one, which sync
/// carries, or the private one, which never leaves the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogKind {
    Shared,
    Private,
}

impl LogKind {
    fn label(self) -> &'static [u8] {
        match self {
            LogKind::Shared => b"shared",
            LogKind::Private => b"private",
        }
    }
}

/// The hash a log's first line names as `prev`: nothing before it, bound to
/// the journal, to which of the device's logs it is, and to the device's
/// key, so a log cannot be moved to another journal, a private line cannot
/// pass for a shared one, and no other key can claim the log.
pub fn genesis(journal: &str, kind: LogKind, key: &VerifyingKey) -> Hash {
    let mut h = Sha256::new();
    h.update(b"safe-genesis\0");
    h.update(journal.as_bytes());
    h.update(b"\0");
    h.update(kind.label());
    h.update(b"\0");
    h.update(key.as_bytes());
    h.finalize().into()
}

/// The hash of a payload, which the next line names as `prev`.
pub fn payload_hash(payload: &str) -> Hash {
    Sha256::digest(payload.as_bytes()).into()
}

/// The hash of a shared note that a payload carries as `h`:
/// `SHA-256(salt ‖ note)`. The salt keeps a short note from being guessed
/// from its hash once the note itself is stripped.
pub fn note_hash(salt: &[u8; 16], note: &str) -> Hash {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(note.as_bytes());
    h.finalize().into()
}

/// The sidecar that carries a shared note: `{"salt":"<32 hex>","note":"…"}`,
/// the salt being the one hashed into the payload's `h` ([`note_hash`]).
/// JSON escapes every control character, so it never holds a TAB or a LF.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteSidecar {
    pub salt: String,
    pub note: String,
}

impl NoteSidecar {
    /// A sidecar for `note` under a fresh random salt, with the `h` the
    /// payload carries for it.
    pub fn seal(note: &str) -> Result<(Hash, String), getrandom::Error> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt)?;
        let sidecar = NoteSidecar {
            salt: hex(&salt),
            note: note.to_string(),
        };
        let text = serde_json::to_string(&sidecar).expect("a sidecar serialises");
        Ok((note_hash(&salt, note), text))
    }

    /// The note a sidecar carries, if it reads and matches `h`: a sidecar is
    /// accepted only for the hash its payload names.
    pub fn open(sidecar: &str, h: &Hash) -> Option<String> {
        let read: NoteSidecar = serde_json::from_str(sidecar).ok()?;
        let salt: [u8; 16] = unhex(&read.salt)?.try_into().ok()?;
        (note_hash(&salt, &read.note) == *h).then_some(read.note)
    }
}

/// How an unsigned end of batch is worded: what a crash in the middle of
/// a batch leaves, and the one damage the next append may cut away.
pub const UNSIGNED_END: &str = "ends a batch without a signature";

/// One stored line, split but not yet trusted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLine<'a> {
    pub payload: &'a str,
    pub sig: Option<Signature>,
    pub sidecar: Option<&'a str>,
}

/// Why a line cannot be used. The first such line ends the trusted part of
/// its log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Broken {
    /// Not `payload TAB sig [TAB sidecar]`, or a signature that is not 128
    /// hex digits.
    Shape,
    /// The payload is not the JSON of a line (or repeats a key).
    Payload(String),
    /// The payload names another device than the log it is in.
    Device,
    /// `seq` is not the next number: a gap, a repeat, or a fork.
    Seq { expected: u64, found: u64 },
    /// `prev` is not the hash of the previous payload.
    Prev,
    /// The signature does not verify with the device's key.
    Signature,
    /// The last line of a batch or of a segment carries no signature.
    Unsigned,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Broken::Shape => f.write_str("is not a line of a safe log"),
            Broken::Payload(why) => write!(f, "does not read: {why}"),
            Broken::Device => f.write_str("names another device than the log it is in"),
            Broken::Seq { expected, found } => {
                write!(
                    f,
                    "has seq {found} where {expected} comes next (a gap or a fork)"
                )
            }
            Broken::Prev => f.write_str("does not follow the line before it (bad hash)"),
            Broken::Signature => f.write_str("has a signature that does not verify"),
            Broken::Unsigned => f.write_str(UNSIGNED_END),
        }
    }
}

/// Split one line (without its LF) into payload, signature and sidecar.
pub fn split(text: &str) -> Result<RawLine<'_>, Broken> {
    let mut fields = text.splitn(3, '\t');
    let payload = fields.next().ok_or(Broken::Shape)?;
    let sig_text = fields.next().ok_or(Broken::Shape)?;
    let sidecar = fields.next();
    if payload.is_empty() || sidecar.is_some_and(|s| s.contains('\t')) {
        return Err(Broken::Shape);
    }
    let sig = match sig_text {
        "" => None,
        text => {
            let bytes: [u8; 64] = unhex(text)
                .and_then(|b| b.try_into().ok())
                .ok_or(Broken::Shape)?;
            Some(Signature::from_bytes(&bytes))
        }
    };
    Ok(RawLine {
        payload,
        sig,
        sidecar,
    })
}

/// The parts of a payload the chain needs; the record stays raw for the fold.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header<'a> {
    pub v: u64,
    // `Cow`: a string with an escape cannot be borrowed from the payload,
    // and an honest operation id may hold one.
    #[serde(borrow)]
    pub device: Cow<'a, str>,
    pub seq: u64,
    #[serde(borrow)]
    pub prev: Cow<'a, str>,
    #[serde(borrow)]
    pub op: Cow<'a, str>,
    #[serde(borrow)]
    pub rec: &'a RawValue,
}

/// Read a payload: JSON without a repeated key anywhere (two readers must
/// never see two different records in one signed line), of this version.
pub fn header(payload: &str) -> Result<Header<'_>, Broken> {
    let mut check = serde_json::Deserializer::from_str(payload);
    UniqueKeys
        .deserialize(&mut check)
        .and_then(|()| check.end())
        .map_err(|e| Broken::Payload(e.to_string()))?;
    let header: Header =
        serde_json::from_str(payload).map_err(|e| Broken::Payload(e.to_string()))?;
    if header.v != VERSION {
        return Err(Broken::Payload(format!(
            "version {} is not {VERSION}",
            header.v
        )));
    }
    Ok(header)
}

/// Walks any JSON value and fails on an object that repeats a key.
struct UniqueKeys;

impl<'de> DeserializeSeed<'de> for UniqueKeys {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for UniqueKeys {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(UniqueKeys)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut keys = std::collections::HashSet::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if !keys.insert(key.to_string()) {
                return Err(de::Error::custom(format!("the key `{key}` appears twice")));
            }
            map.next_value_seed(UniqueKeys)?;
        }
        Ok(())
    }
}

/// Where a log's chain stands: the next `seq` and the hash it must name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    pub next_seq: u64,
    pub prev: Hash,
}

impl ChainHead {
    /// The head of a log that has no line yet.
    pub fn start(journal: &str, kind: LogKind, key: &VerifyingKey) -> Self {
        ChainHead {
            next_seq: 1,
            prev: genesis(journal, kind, key),
        }
    }
}

/// One record to write, with the sidecar that carries its shared note.
pub struct Record<'a> {
    /// The record's JSON, as serde_json writes it (no repeated keys).
    pub rec: &'a str,
    pub sidecar: Option<&'a str>,
}

/// Write one batch (one operation) of lines after `head`. The last line is
/// signed; so is any line that `segment_ends` says closes a segment.
/// Returns the text of the lines (each ending in LF) and the new head.
pub fn write_batch(
    key: &DeviceKey,
    head: ChainHead,
    op: &str,
    records: &[Record<'_>],
    segment_ends: impl Fn(u64) -> bool,
) -> (String, ChainHead) {
    let device = key.id();
    let mut head = head;
    let mut out = String::new();
    for (i, record) in records.iter().enumerate() {
        let payload = format!(
            r#"{{"v":{VERSION},"device":"{device}","seq":{},"prev":"{}","op":{},"rec":{}}}"#,
            head.next_seq,
            hex(&head.prev),
            serde_json::to_string(op).expect("a string serialises"),
            record.rec
        );
        out.push_str(&payload);
        out.push('\t');
        if i + 1 == records.len() || segment_ends(head.next_seq) {
            out.push_str(&hex(&key.sign_line(payload.as_bytes()).to_bytes()));
        }
        if let Some(sidecar) = record.sidecar {
            out.push('\t');
            out.push_str(sidecar);
        }
        out.push('\n');
        head = ChainHead {
            next_seq: head.next_seq + 1,
            prev: payload_hash(&payload),
        };
    }
    (out, head)
}

/// The outcome of checking a log: how many of its lines are trusted, the
/// head after them, and the first problem, if any, with its line's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub trusted: usize,
    pub head: ChainHead,
    pub problem: Option<(usize, Broken)>,
}

/// Check a device's lines in order, from `start`. A line is trusted when it
/// is chained to `start` and a signature on it or after it verifies: the
/// chain makes one signature vouch for every line before it. The first
/// broken line, or a batch or segment that ends unsigned, ends the trusted
/// part; what follows is quarantined, never used. `segment_ends` tells
/// which seqs close a segment (and so must be signed).
pub fn verify_chain(
    lines: &[RawLine<'_>],
    device: &DeviceId,
    key: &VerifyingKey,
    start: ChainHead,
    segment_ends: impl Fn(u64) -> bool,
) -> Verified {
    let mut trusted = Verified {
        trusted: 0,
        head: start,
        problem: None,
    };
    let mut head = start;
    let mut last_op: Option<String> = None;
    for (index, line) in lines.iter().enumerate() {
        let broken = |why| Some((index, why));
        let header = match header(line.payload) {
            Ok(header) => header,
            Err(why) => {
                trusted.problem = broken(why);
                return trusted;
            }
        };
        let problem = if header.device != device.as_str() {
            Some(Broken::Device)
        } else if header.seq != head.next_seq {
            Some(Broken::Seq {
                expected: head.next_seq,
                found: header.seq,
            })
        } else if unhex(&header.prev).as_deref() != Some(&head.prev[..]) {
            Some(Broken::Prev)
        } else if line
            .sig
            .is_some_and(|sig| !verify_line(key, line.payload.as_bytes(), &sig))
        {
            Some(Broken::Signature)
        } else {
            None
        };
        if let Some(why) = problem {
            trusted.problem = broken(why);
            return trusted;
        }
        // A batch ended on the line before, unsigned: the chain stops there.
        if let (Some(last), Some(before)) = (&last_op, index.checked_sub(1))
            && *last != header.op
            && lines[before].sig.is_none()
        {
            trusted.problem = Some((before, Broken::Unsigned));
            return trusted;
        }
        if segment_ends(header.seq) && line.sig.is_none() {
            trusted.problem = broken(Broken::Unsigned);
            return trusted;
        }
        last_op = Some(header.op.into_owned());
        head = ChainHead {
            next_seq: head.next_seq + 1,
            prev: payload_hash(line.payload),
        };
        if line.sig.is_some() {
            trusted.trusted = index + 1;
            trusted.head = head;
        }
    }
    if trusted.trusted < lines.len() {
        trusted.problem = Some((lines.len() - 1, Broken::Unsigned));
    }
    trusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;

    const JOURNAL: &str = "j-1";

    fn key(seed: u8) -> DeviceKey {
        DeviceKey {
            signing: SigningKey::from_bytes(&[seed; 32]),
        }
    }

    fn never(_: u64) -> bool {
        false
    }

    /// Three batches: two records, one record, three records.
    fn sample(k: &DeviceKey) -> String {
        let mut head = ChainHead::start(JOURNAL, LogKind::Shared, &k.public());
        let mut text = String::new();
        for (op, n) in [("op-a", 2), ("op-b", 1), ("op-c", 3)] {
            let recs: Vec<String> = (0..n)
                .map(|i| format!(r#"{{"kind":"x","n":{i}}}"#))
                .collect();
            let records: Vec<Record> = recs
                .iter()
                .map(|rec| Record { rec, sidecar: None })
                .collect();
            let (lines, next) = write_batch(k, head, op, &records, never);
            text.push_str(&lines);
            head = next;
        }
        text
    }

    fn check(k: &DeviceKey, text: &str) -> Verified {
        let lines: Vec<RawLine> = text.lines().map(|l| split(l).unwrap()).collect();
        verify_chain(
            &lines,
            &k.id(),
            &k.public(),
            ChainHead::start(JOURNAL, LogKind::Shared, &k.public()),
            never,
        )
    }

    #[test]
    fn an_honest_log_is_trusted_whole() {
        let k = key(1);
        let text = sample(&k);
        let v = check(&k, &text);
        assert_eq!((v.trusted, v.problem), (6, None));
        assert_eq!(v.head.next_seq, 7);
        // Only the last line of each batch is signed.
        let signed: Vec<bool> = text
            .lines()
            .map(|l| split(l).unwrap().sig.is_some())
            .collect();
        assert_eq!(signed, [false, true, true, false, false, true]);
    }

    #[test]
    fn a_changed_payload_ends_the_trusted_part_before_its_batch() {
        let k = key(1);
        let text = sample(&k);
        let lines: Vec<&str> = text.lines().collect();
        // Change the record of line 4 (first of the last batch, unsigned).
        let forged = lines[3].replace(r#""n":0"#, r#""n":9"#);
        let tampered = [&lines[..3], &[forged.as_str()], &lines[4..]]
            .concat()
            .join("\n");
        let v = check(&k, &tampered);
        assert_eq!(v.trusted, 3);
        assert_eq!(v.problem, Some((4, Broken::Prev)));
    }

    #[test]
    fn a_signed_line_changed_fails_its_signature() {
        let k = key(1);
        let text = sample(&k);
        let lines: Vec<&str> = text.lines().collect();
        let forged = lines[2].replace(r#""kind":"x""#, r#""kind":"y""#);
        let tampered = [&lines[..2], &[forged.as_str()], &lines[3..]]
            .concat()
            .join("\n");
        let v = check(&k, &tampered);
        assert_eq!(v.trusted, 2);
        assert_eq!(v.problem, Some((2, Broken::Signature)));
    }

    #[test]
    fn a_gap_or_a_fork_is_found() {
        let k = key(1);
        let text = sample(&k);
        let lines: Vec<&str> = text.lines().collect();
        let gap = [&lines[..2], &lines[3..]].concat().join("\n");
        let v = check(&k, &gap);
        assert_eq!(v.trusted, 2);
        assert_eq!(
            v.problem,
            Some((
                2,
                Broken::Seq {
                    expected: 3,
                    found: 4
                }
            ))
        );
        let fork = [&lines[..3], &lines[2..]].concat().join("\n");
        let v = check(&k, &fork);
        assert_eq!(v.trusted, 3);
        assert!(matches!(v.problem, Some((3, Broken::Seq { .. }))));
    }

    #[test]
    fn another_key_or_another_journal_cannot_claim_the_log() {
        let (k, other) = (key(1), key(2));
        let text = sample(&k);
        let lines: Vec<RawLine> = text.lines().map(|l| split(l).unwrap()).collect();
        let v = verify_chain(
            &lines,
            &k.id(),
            &other.public(),
            ChainHead::start(JOURNAL, LogKind::Shared, &k.public()),
            never,
        );
        assert_eq!((v.trusted, v.problem), (0, Some((1, Broken::Signature))));
        let v = verify_chain(
            &lines,
            &k.id(),
            &k.public(),
            ChainHead::start("another journal", LogKind::Shared, &k.public()),
            never,
        );
        assert_eq!((v.trusted, v.problem), (0, Some((0, Broken::Prev))));
        // A shared log does not verify as the private log of the same
        // device, nor the reverse.
        let v = verify_chain(
            &lines,
            &k.id(),
            &k.public(),
            ChainHead::start(JOURNAL, LogKind::Private, &k.public()),
            never,
        );
        assert_eq!((v.trusted, v.problem), (0, Some((0, Broken::Prev))));
        let v = verify_chain(
            &lines,
            &other.id(),
            &k.public(),
            ChainHead::start(JOURNAL, LogKind::Shared, &k.public()),
            never,
        );
        assert_eq!((v.trusted, v.problem), (0, Some((0, Broken::Device))));
    }

    #[test]
    fn an_unsigned_end_of_batch_or_of_the_log_is_not_trusted() {
        let k = key(1);
        let text = sample(&k);
        let strip = |line: &str| {
            let raw = split(line).unwrap();
            format!("{}\t", raw.payload)
        };
        let lines: Vec<&str> = text.lines().collect();
        // The end of batch b (line 3) loses its signature.
        let unsigned = strip(lines[2]);
        let tampered = [&lines[..2], &[unsigned.as_str()], &lines[3..]]
            .concat()
            .join("\n");
        let v = check(&k, &tampered);
        assert_eq!((v.trusted, v.problem), (2, Some((2, Broken::Unsigned))));
        // The very last line loses its signature: its batch is not trusted.
        let last = strip(lines[5]);
        let tampered = [&lines[..5], &[last.as_str()]].concat().join("\n");
        let v = check(&k, &tampered);
        assert_eq!((v.trusted, v.problem), (3, Some((5, Broken::Unsigned))));
    }

    #[test]
    fn segment_ends_must_be_signed() {
        let k = key(1);
        let head = ChainHead::start(JOURNAL, LogKind::Shared, &k.public());
        let recs = [r#"{"n":1}"#, r#"{"n":2}"#, r#"{"n":3}"#];
        let records: Vec<Record> = recs
            .iter()
            .map(|rec| Record { rec, sidecar: None })
            .collect();
        let ends_at_two = |seq| seq == 2;
        let (text, _) = write_batch(&k, head, "op", &records, ends_at_two);
        let lines: Vec<RawLine> = text.lines().map(|l| split(l).unwrap()).collect();
        assert!(lines[1].sig.is_some());
        let v = verify_chain(&lines, &k.id(), &k.public(), head, ends_at_two);
        assert_eq!((v.trusted, v.problem), (3, None));
        let (text, _) = write_batch(&k, head, "op", &records, never);
        let lines: Vec<RawLine> = text.lines().map(|l| split(l).unwrap()).collect();
        let v = verify_chain(&lines, &k.id(), &k.public(), head, ends_at_two);
        assert_eq!((v.trusted, v.problem), (0, Some((1, Broken::Unsigned))));
    }

    #[test]
    fn a_payload_may_not_repeat_a_key_or_carry_unknown_fields() {
        let device = "0".repeat(32);
        let prev = "0".repeat(64);
        let good = format!(
            r#"{{"v":2,"device":"{device}","seq":1,"prev":"{prev}","op":"o","rec":{{"a":1}}}}"#
        );
        assert!(header(&good).is_ok());
        for bad in [
            format!(
                r#"{{"v":2,"device":"{device}","seq":1,"seq":2,"prev":"{prev}","op":"o","rec":{{}}}}"#
            ),
            format!(
                r#"{{"v":2,"device":"{device}","seq":1,"prev":"{prev}","op":"o","rec":{{"by":"a","by":"b"}}}}"#
            ),
            format!(
                r#"{{"v":2,"device":"{device}","seq":1,"prev":"{prev}","op":"o","rec":{{}},"author":"x"}}"#
            ),
            format!(r#"{{"v":3,"device":"{device}","seq":1,"prev":"{prev}","op":"o","rec":{{}}}}"#),
            format!(
                r#"{{"v":2,"device":"{device}","seq":1,"prev":"{prev}","op":"o","rec":{{}}}} x"#
            ),
        ] {
            assert!(matches!(header(&bad), Err(Broken::Payload(_))), "{bad}");
        }
    }

    #[test]
    fn an_operation_id_with_an_escape_still_reads() {
        let device = "0".repeat(32);
        let prev = "0".repeat(64);
        let payload = format!(
            r#"{{"v":2,"device":"{device}","seq":1,"prev":"{prev}","op":"say \"hi\"","rec":{{}}}}"#
        );
        assert_eq!(header(&payload).unwrap().op, "say \"hi\"");
    }

    #[test]
    fn lines_split_into_payload_signature_and_sidecar() {
        let sig = "ab".repeat(64);
        let line = format!("{{}}\t{sig}\t{{\"note\":\"hi\"}}");
        let raw = split(&line).unwrap();
        assert_eq!(raw.payload, "{}");
        assert!(raw.sig.is_some());
        assert_eq!(raw.sidecar, Some("{\"note\":\"hi\"}"));
        assert_eq!(split("{}\t").unwrap().sig, None);
        for bad in [
            "{}",
            "\tab",
            "{}\tabc",
            "{}\t\tx\ty",
            &format!("{{}}\t{}", "AB".repeat(64)),
        ] {
            assert_eq!(split(bad), Err(Broken::Shape), "{bad:?}");
        }
    }

    #[test]
    fn a_note_hash_binds_the_salt_and_the_text() {
        let salt = [7u8; 16];
        assert_eq!(note_hash(&salt, "hi"), note_hash(&salt, "hi"));
        assert_ne!(note_hash(&salt, "hi"), note_hash(&salt, "ho"));
        assert_ne!(note_hash(&salt, "hi"), note_hash(&[8u8; 16], "hi"));
    }

    #[test]
    fn a_sidecar_opens_only_under_its_own_hash() {
        let (h, sidecar) = NoteSidecar::seal("we walked\tand\ntalked").unwrap();
        assert!(!sidecar.contains('\t') && !sidecar.contains('\n'));
        assert_eq!(
            NoteSidecar::open(&sidecar, &h).as_deref(),
            Some("we walked\tand\ntalked")
        );
        let (other, _) = NoteSidecar::seal("we walked\tand\ntalked").unwrap();
        assert_ne!(h, other, "each note gets its own salt");
        assert_eq!(NoteSidecar::open(&sidecar, &other), None);
        assert_eq!(NoteSidecar::open(r#"{"salt":"00","note":"x"}"#, &h), None);
    }
}
