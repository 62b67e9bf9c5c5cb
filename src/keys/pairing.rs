//! Pairing two devices through a place both can write (the shared remote),
//! without trusting that place: SPAKE2 over a short one-time code, key
//! confirmation, then each side's full public key under the agreed key
//! (DESIGN.md §4 "Pairing", docs/protocol.md "Pairing"). This file is the
//! pure protocol: codes, messages and checks. Carrying the messages through
//! the remote is the transport's job.
//!
//! Why SPAKE2: anyone who reads the remote sees both pairing messages, yet
//! learns nothing that lets them test a guess of the code offline; each guess
//! needs a run of the protocol with a live party, and a failed run burns the
//! code.

use std::fmt;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use spake2::{Ed25519Group, Identity, Password, Spake2};

use super::{hex, unhex};

/// The words of a code: 256 of them, so each word carries 8 bits and four
/// words carry the 32 bits DESIGN.md asks for. Short, common, easy to say
/// and to type, no two alike.
pub const WORDS: [&str; 256] = [
    "acorn", "adobe", "agate", "alder", "amber", "anchor", "apple", "apron", "arbor", "arrow",
    "aspen", "atlas", "attic", "autumn", "badge", "bagel", "bamboo", "banjo", "barley", "basil",
    "basin", "beach", "beacon", "berry", "birch", "biscuit", "blossom", "bonnet", "border",
    "bramble", "branch", "breeze", "brick", "bridge", "brook", "bucket", "butter", "cabin",
    "cactus", "camel", "canal", "candle", "canoe", "canyon", "carrot", "castle", "cedar", "cello",
    "chalk", "cherry", "chess", "cider", "circle", "citrus", "clover", "cobalt", "cocoa", "comet",
    "copper", "coral", "cotton", "cradle", "crane", "crayon", "creek", "cricket", "crystal",
    "cumin", "daisy", "dawn", "delta", "denim", "desert", "dinner", "dolphin", "dove", "dragon",
    "drift", "drum", "dune", "eagle", "easel", "echo", "eclipse", "elbow", "ember", "emerald",
    "falcon", "fable", "feather", "fennel", "fern", "fiddle", "field", "fig", "flame", "flint",
    "flower", "forest", "fossil", "fox", "frost", "galaxy", "garden", "garlic", "gecko", "ginger",
    "glacier", "globe", "granite", "grape", "gravel", "harbor", "harp", "hazel", "heron", "hill",
    "honey", "horizon", "iris", "island", "ivory", "jacket", "jade", "jasmine", "jelly", "juniper",
    "kayak", "kettle", "kiwi", "ladder", "lagoon", "lantern", "lark", "laurel", "lemon", "lilac",
    "linen", "lotus", "lunar", "magnet", "mango", "maple", "marble", "meadow", "melon", "meteor",
    "mint", "mirror", "mocha", "moss", "mountain", "muffin", "nectar", "needle", "nutmeg", "oasis",
    "ocean", "olive", "onion", "opal", "orbit", "orchid", "otter", "paddle", "panda", "paper",
    "parrot", "peach", "pebble", "pepper", "piano", "pillow", "pine", "planet", "plum", "pocket",
    "pollen", "pond", "poppy", "prairie", "puzzle", "quartz", "quill", "rabbit", "radish", "rain",
    "raven", "reef", "ribbon", "river", "robin", "rocket", "rose", "saddle", "saffron", "sage",
    "salmon", "sand", "satin", "scarf", "shell", "silver", "sketch", "sky", "slate", "snow",
    "sparrow", "spice", "spruce", "squash", "star", "stone", "storm", "straw", "summit", "sunset",
    "swan", "table", "tango", "teapot", "thistle", "thunder", "tiger", "timber", "tomato", "topaz",
    "torch", "tower", "tulip", "tundra", "turtle", "umbrella", "valley", "velvet", "violet",
    "walnut", "wave", "whale", "willow", "window", "winter", "wren", "yarrow", "zebra", "zephyr",
    "badger", "beetle", "canvas", "cobweb", "dahlia", "donkey", "goose", "hammock", "iceberg",
    "igloo",
];

/// Words in a code.
pub const CODE_WORDS: usize = 4;

/// How long an invitation stays valid, in seconds (24 hours).
pub const INVITE_TTL_SECS: u64 = 24 * 60 * 60;

/// A one-time pairing code, `7-tulip-orbit-maple-river`: a public invite
/// number that names the exchange in the remote, and a secret password of
/// four words.
#[derive(Clone, PartialEq, Eq)]
pub struct InviteCode {
    pub number: u16,
    words: [u8; CODE_WORDS],
}

/// The code is a secret: it never appears in a debug print or a log.
impl fmt::Debug for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InviteCode({}-…)", self.number)
    }
}

impl fmt::Display for InviteCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.number)?;
        for w in self.words {
            write!(f, "-{}", WORDS[usize::from(w)])?;
        }
        Ok(())
    }
}

impl InviteCode {
    /// A fresh code from the operating system's random source: a number
    /// from 1 to 999 and four random words.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 2 + CODE_WORDS];
        getrandom::fill(&mut bytes)?;
        let number = 1 + u16::from_le_bytes([bytes[0], bytes[1]]) % 999;
        let mut words = [0u8; CODE_WORDS];
        words.copy_from_slice(&bytes[2..]);
        Ok(InviteCode { number, words })
    }

    /// Read a code as a person types it: any case, dashes or spaces between
    /// the parts.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_lowercase();
        let parts: Vec<&str> = lower
            .split(|c: char| c == '-' || c.is_whitespace())
            .filter(|p| !p.is_empty())
            .collect();
        let bad =
            || "a code is a number and four words, like 7-tulip-orbit-maple-river".to_string();
        let [number, rest @ ..] = parts.as_slice() else {
            return Err(bad());
        };
        let number: u16 = number.parse().map_err(|_| bad())?;
        if number == 0 || rest.len() != CODE_WORDS {
            return Err(bad());
        }
        let mut words = [0u8; CODE_WORDS];
        for (slot, word) in words.iter_mut().zip(rest) {
            let index = WORDS.iter().position(|w| w == word).ok_or_else(|| {
                format!("`{word}` is not one of safe's code words; check the spelling")
            })?;
            *slot = u8::try_from(index).expect("256 words");
        }
        Ok(InviteCode { number, words })
    }

    /// The secret part, as SPAKE2's password.
    fn password(&self) -> Vec<u8> {
        let words: Vec<&str> = self.words.iter().map(|w| WORDS[usize::from(*w)]).collect();
        words.join("-").into_bytes()
    }

    /// The SPAKE2 identity: the protocol and the public number, so a run
    /// for one invitation cannot be replayed into another.
    fn identity(&self) -> Vec<u8> {
        format!("safe-pair-v1:{}", self.number).into_bytes()
    }
}

/// Which side of a pairing a message comes from. The two sides label what
/// they send, so nothing one side sends can be reflected back as the other's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Inviter,
    Joiner,
}

impl Side {
    fn label(self) -> &'static [u8] {
        match self {
            Side::Inviter => b"inviter",
            Side::Joiner => b"joiner",
        }
    }

    fn other(self) -> Side {
        match self {
            Side::Inviter => Side::Joiner,
            Side::Joiner => Side::Inviter,
        }
    }
}

/// Why a pairing stopped. Every failure burns the code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PairError {
    /// The other side's message is not a SPAKE2 message.
    Malformed,
    /// Key confirmation failed: the codes differ (a typo, or someone
    /// guessing), or a message was changed on the way.
    WrongCode,
    /// An offer did not verify under the agreed key.
    BadOffer,
}

impl fmt::Display for PairError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PairError::Malformed => "the other side's pairing message is damaged",
            PairError::WrongCode => {
                "the codes did not match (a typo, or someone else tried to join)"
            }
            PairError::BadOffer => "the other side's keys did not arrive intact",
        })
    }
}

/// One side of an exchange, after sending its first message.
pub struct Exchange {
    side: Side,
    spake: Spake2<Ed25519Group>,
    sent: Vec<u8>,
}

/// What the first message of each side starts: `Exchange::start`.
impl Exchange {
    /// Start an exchange for `code` as `side`; returns the message to send.
    pub fn start(code: &InviteCode, side: Side) -> (Exchange, Vec<u8>) {
        let (spake, message) = Spake2::<Ed25519Group>::start_symmetric(
            &Password::new(code.password()),
            &Identity::new(&code.identity()),
        );
        let exchange = Exchange {
            side,
            spake,
            sent: message.clone(),
        };
        (exchange, message)
    }

    /// Finish with the other side's message. Both sides now hold the same
    /// key if, and only if, they used the same code; the confirmations tell.
    pub fn finish(self, received: &[u8]) -> Result<Agreed, PairError> {
        let Exchange { side, spake, sent } = self;
        let key = spake.finish(received).map_err(|_| PairError::Malformed)?;
        let (inviter, joiner): (&[u8], &[u8]) = match side {
            Side::Inviter => (&sent, received),
            Side::Joiner => (received, &sent),
        };
        let mut transcript = Sha256::new();
        transcript.update(b"safe-pair-v1\0");
        transcript.update((inviter.len() as u64).to_be_bytes());
        transcript.update(inviter);
        transcript.update(joiner);
        Ok(Agreed {
            side,
            key,
            transcript: transcript.finalize().into(),
        })
    }
}

/// The key both sides agreed on, and what it lets them check.
pub struct Agreed {
    side: Side,
    key: Vec<u8>,
    transcript: [u8; 32],
}

impl Agreed {
    fn mac(&self, purpose: &[u8], side: Side, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(purpose);
        mac.update(side.label());
        mac.update(&self.transcript);
        mac.update(body);
        mac
    }

    /// My key confirmation, to send.
    pub fn confirmation(&self) -> String {
        hex(&self
            .mac(b"confirm\0", self.side, &[])
            .finalize()
            .into_bytes())
    }

    /// Check the other side's confirmation. A mismatch means the codes
    /// differ: the caller burns the code and stops.
    pub fn check_confirmation(&self, theirs: &str) -> Result<(), PairError> {
        let bytes = unhex(theirs).ok_or(PairError::WrongCode)?;
        self.mac(b"confirm\0", self.side.other(), &[])
            .verify_slice(&bytes)
            .map_err(|_| PairError::WrongCode)
    }

    /// My offer (my device and key; for the inviter, also the journal and
    /// the role it grants), authenticated under the agreed key.
    pub fn seal_offer(&self, offer: &Offer) -> String {
        let body = serde_json::to_string(offer).expect("an offer serialises");
        let tag = hex(&self
            .mac(b"offer\0", self.side, body.as_bytes())
            .finalize()
            .into_bytes());
        serde_json::to_string(&SealedOffer { body, tag }).expect("serialises")
    }

    /// The other side's offer, if it verifies; a joiner's offer can never
    /// pass as an inviter's, nor the reverse.
    pub fn open_offer(&self, sealed: &str) -> Result<Offer, PairError> {
        let sealed: SealedOffer = serde_json::from_str(sealed).map_err(|_| PairError::BadOffer)?;
        let tag = unhex(&sealed.tag).ok_or(PairError::BadOffer)?;
        self.mac(b"offer\0", self.side.other(), sealed.body.as_bytes())
            .verify_slice(&tag)
            .map_err(|_| PairError::BadOffer)?;
        let offer: Offer = serde_json::from_str(&sealed.body).map_err(|_| PairError::BadOffer)?;
        if offer.side != self.side.other() || !offer.well_formed() {
            return Err(PairError::BadOffer);
        }
        Ok(offer)
    }
}

/// What one side hands the other once the code is confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Offer {
    pub side: Side,
    /// The device id (`keys::DeviceId`).
    pub device: String,
    /// Its Ed25519 public key, hex.
    pub key: String,
    /// The inviter's journal id; absent from a joiner's offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journal: Option<String>,
    /// What the inviter makes the joiner: `partner`, or another device of
    /// the inviter (`mine`). Only the inviter's offer carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// The public key (hex) of the journal's root device, where all trust
    /// starts: the joiner anchors the journal on it (its id is the key's
    /// id), so it learns the root from the agreed key, never from the
    /// remote. Only the inviter's offer carries it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_key: Option<String>,
}

impl Offer {
    /// The device id is the one of the key, and only the inviter's offer
    /// names a journal, a role (`partner` or `mine`) and the root's key
    /// (a valid Ed25519 key): a joiner cannot choose what it becomes.
    fn well_formed(&self) -> bool {
        let Some(key) = public_key(&self.key) else {
            return false;
        };
        if super::DeviceId::of(&key).as_str() != self.device {
            return false;
        }
        match self.side {
            Side::Inviter => {
                self.journal.as_deref().is_some_and(|j| !j.is_empty())
                    && matches!(self.role.as_deref(), Some("partner" | "mine"))
                    && self.root_key.as_deref().and_then(public_key).is_some()
            }
            Side::Joiner => {
                self.journal.is_none() && self.role.is_none() && self.root_key.is_none()
            }
        }
    }
}

/// `text` as an Ed25519 public key, if it is 64 hex digits of one that is
/// not of small order (no honest device has such a key).
fn public_key(text: &str) -> Option<ed25519_dalek::VerifyingKey> {
    let bytes = <[u8; 32]>::try_from(unhex(text)?).ok()?;
    ed25519_dalek::VerifyingKey::from_bytes(&bytes)
        .ok()
        .filter(|key| !key.is_weak())
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SealedOffer {
    body: String,
    tag: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(text: &str) -> InviteCode {
        InviteCode::parse(text).unwrap()
    }

    /// Run both sides to the agreed keys.
    fn run(inviter: &InviteCode, joiner: &InviteCode) -> (Agreed, Agreed) {
        let (a, to_joiner) = Exchange::start(inviter, Side::Inviter);
        let (b, to_inviter) = Exchange::start(joiner, Side::Joiner);
        (
            a.finish(&to_inviter).unwrap(),
            b.finish(&to_joiner).unwrap(),
        )
    }

    #[test]
    fn the_word_list_has_256_distinct_plain_words() {
        let mut sorted = WORDS.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 256);
        assert!(
            WORDS
                .iter()
                .all(|w| w.bytes().all(|b| b.is_ascii_lowercase()))
        );
    }

    #[test]
    fn codes_carry_32_bits_and_read_back_as_typed() {
        let c = InviteCode::generate().unwrap();
        let text = c.to_string();
        assert_eq!(text.split('-').count(), 1 + CODE_WORDS);
        assert_eq!(InviteCode::parse(&text).unwrap(), c);
        assert_eq!(
            InviteCode::parse("  7 Tulip ORBIT-maple   river ").unwrap(),
            code("7-tulip-orbit-maple-river")
        );
        for bad in [
            "",
            "7",
            "0-tulip-orbit-maple-river",
            "7-tulip-orbit-maple",
            "x-tulip-orbit-maple-river",
            "7-tulip-orbit-maple-river-sky",
        ] {
            assert!(InviteCode::parse(bad).is_err(), "{bad:?}");
        }
        let err = InviteCode::parse("7-tulip-orbit-mapel-river").unwrap_err();
        assert!(err.contains("mapel"), "{err}");
        assert!(!format!("{c:?}").contains(WORDS[usize::from(c.words[0])]));
    }

    #[test]
    fn the_same_code_confirms_on_both_sides() {
        let c = code("7-tulip-orbit-maple-river");
        let (a, b) = run(&c, &c);
        assert_eq!(a.key, b.key);
        b.check_confirmation(&a.confirmation()).unwrap();
        a.check_confirmation(&b.confirmation()).unwrap();
    }

    #[test]
    fn a_wrong_code_fails_confirmation_on_both_sides() {
        let (a, b) = run(
            &code("7-tulip-orbit-maple-river"),
            &code("7-tulip-orbit-maple-rose"),
        );
        assert_eq!(
            b.check_confirmation(&a.confirmation()),
            Err(PairError::WrongCode)
        );
        assert_eq!(
            a.check_confirmation(&b.confirmation()),
            Err(PairError::WrongCode)
        );
        // Another invite number is another exchange, even with the same words.
        let (a, b) = run(
            &code("7-tulip-orbit-maple-river"),
            &code("8-tulip-orbit-maple-river"),
        );
        assert_eq!(
            b.check_confirmation(&a.confirmation()),
            Err(PairError::WrongCode)
        );
    }

    #[test]
    fn a_confirmation_cannot_be_reflected_back() {
        let c = code("7-tulip-orbit-maple-river");
        let (a, _) = run(&c, &c);
        assert_eq!(
            a.check_confirmation(&a.confirmation()),
            Err(PairError::WrongCode)
        );
    }

    #[test]
    fn offers_verify_only_under_the_agreed_key_and_from_the_other_side() {
        let c = code("12-comet-harbor-violet-wren");
        let (a, b) = run(&c, &c);
        let device = crate::keys::DeviceKey::generate().unwrap();
        let offer = Offer {
            side: Side::Inviter,
            device: device.id().to_string(),
            key: hex(device.public().as_bytes()),
            journal: Some("journal-1".into()),
            role: Some("partner".into()),
            root_key: Some(hex(device.public().as_bytes())),
        };
        let sealed = a.seal_offer(&offer);
        assert_eq!(b.open_offer(&sealed).unwrap(), offer);
        // The inviter cannot be fed its own offer back as the joiner's.
        assert_eq!(a.open_offer(&sealed), Err(PairError::BadOffer));
        // A changed role or key does not verify.
        let forged = sealed.replace("partner", "mine");
        assert_eq!(b.open_offer(&forged), Err(PairError::BadOffer));
        // An offer that pairs one device's id with another key, or a joiner
        // that names its own role, is refused even when sealed right.
        let other = crate::keys::DeviceKey::generate().unwrap();
        let swapped = Offer {
            key: hex(other.public().as_bytes()),
            ..offer.clone()
        };
        assert_eq!(
            b.open_offer(&a.seal_offer(&swapped)),
            Err(PairError::BadOffer)
        );
        let (a2, b2) = run(&c, &c);
        let pushy = Offer {
            side: Side::Joiner,
            role: Some("mine".into()),
            journal: None,
            root_key: None,
            ..offer.clone()
        };
        assert_eq!(
            a2.open_offer(&b2.seal_offer(&pushy)),
            Err(PairError::BadOffer)
        );
        // Nor can a joiner name a root of its own choosing.
        let rooted = Offer {
            role: None,
            root_key: offer.root_key.clone(),
            ..pushy.clone()
        };
        assert_eq!(
            a2.open_offer(&b2.seal_offer(&rooted)),
            Err(PairError::BadOffer)
        );
        let humble = Offer {
            role: None,
            ..pushy
        };
        assert_eq!(a2.open_offer(&b2.seal_offer(&humble)), Ok(humble));
        // An inviter's offer must name the root by a real key.
        for root_key in [None, Some("00".repeat(32)), Some("zz".into())] {
            let unrooted = Offer {
                root_key,
                ..offer.clone()
            };
            assert_eq!(
                b.open_offer(&a.seal_offer(&unrooted)),
                Err(PairError::BadOffer)
            );
        }
        // Nor does an offer sealed in another run with the same code.
        let (other, _) = run(&c, &c);
        assert_eq!(
            b.open_offer(&other.seal_offer(&offer)),
            Err(PairError::BadOffer)
        );
    }

    /// Someone who recorded both pairing messages and both confirmations,
    /// and replays the recorded inviter message with a guess (even the
    /// right one), reproduces no confirmation: their own SPAKE2 message is
    /// not the recorded one. That guessing needs a live run at all is
    /// SPAKE2's own property (each run tests one password); this test pins
    /// the replay down, and the transport burns a code after a failed run.
    #[test]
    fn a_replayed_transcript_confirms_no_guess() {
        let secret = code("5-ember-lotus-quartz-river");
        let (inviter, to_joiner) = Exchange::start(&secret, Side::Inviter);
        let (joiner, to_inviter) = Exchange::start(&secret, Side::Joiner);
        let a = inviter.finish(&to_inviter).unwrap();
        let b = joiner.finish(&to_joiner).unwrap();
        let recorded_confirmation = b.confirmation();
        a.check_confirmation(&recorded_confirmation).unwrap();

        // The eavesdropper tries guesses, the right one among them, acting
        // as the joiner against the recorded inviter message.
        let guesses = [
            "5-ember-lotus-quartz-rose",
            "5-ember-lotus-quartz-river",
            "5-amber-lotus-quartz-river",
        ];
        for guess in guesses {
            let (attacker, _) = Exchange::start(&code(guess), Side::Joiner);
            let guessed = attacker.finish(&to_joiner).unwrap();
            assert_ne!(guessed.confirmation(), recorded_confirmation, "{guess}");
            assert!(
                guessed.check_confirmation(&a.confirmation()).is_err(),
                "{guess}"
            );
        }
    }
}
