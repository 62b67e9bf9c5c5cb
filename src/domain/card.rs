//! Conversation cards: a built-in deck of warm, open questions a couple asks each other.
//!
//! Three decks: `connect` (who we are now), `communicate` (needs, feelings and hard
//! topics, approached gently) and `create` (dreams, plans and play). Drawing is pure:
//! the caller supplies the ids already drawn and a seed, and gets back a card that has
//! not come up yet, or a fresh start of the deck once every card has been seen.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// One of the three built-in decks.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    clap::ValueEnum,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Deck {
    /// Getting to know each other as you are now.
    Connect,
    /// Needs, feelings and hard topics, approached gently.
    Communicate,
    /// Dreams, plans and play.
    Create,
}

impl Deck {
    /// Every deck, in display order.
    pub const ALL: [Deck; 3] = [Deck::Connect, Deck::Communicate, Deck::Create];

    /// The deck's name as typed on the command line and used in card ids.
    pub fn name(self) -> &'static str {
        match self {
            Deck::Connect => "connect",
            Deck::Communicate => "communicate",
            Deck::Create => "create",
        }
    }

    /// A one-line description of the deck.
    pub fn about(self) -> &'static str {
        match self {
            Deck::Connect => "Getting to know each other as you are now.",
            Deck::Communicate => "Needs, feelings and hard topics, approached gently.",
            Deck::Create => "Dreams, plans and play.",
        }
    }
}

/// One conversation prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Card {
    /// Stable identifier, `<deck>-<two digits>`, e.g. `connect-07`.
    pub id: &'static str,
    pub deck: Deck,
    pub prompt: &'static str,
}

const fn card(id: &'static str, deck: Deck, prompt: &'static str) -> Card {
    Card { id, deck, prompt }
}

use Deck::{Communicate as M, Connect as N, Create as R};

/// The built-in cards. Ids are stable: never renumber, only append.
static CARDS: &[Card] = &[
    // connect
    card(
        "connect-01",
        N,
        "What has been taking up most of your thoughts this week?",
    ),
    card(
        "connect-02",
        N,
        "What is something small that made you smile recently?",
    ),
    card(
        "connect-03",
        N,
        "Which part of your day do you look forward to most right now?",
    ),
    card(
        "connect-04",
        N,
        "What is something you have learned about yourself in the past year?",
    ),
    card(
        "connect-05",
        N,
        "What does a really good morning look like for you these days?",
    ),
    card(
        "connect-06",
        N,
        "Is there a song, book or show that feels very \"you\" at the moment? What about it fits?",
    ),
    card(
        "connect-07",
        N,
        "What are you quietly proud of lately that I might not know about?",
    ),
    card(
        "connect-08",
        N,
        "Where do you feel most at ease, and what makes it feel that way?",
    ),
    card(
        "connect-09",
        N,
        "What is a belief you held a few years ago that has shifted since?",
    ),
    card(
        "connect-10",
        N,
        "Who has been a good presence in your life lately, and how?",
    ),
    card(
        "connect-11",
        N,
        "What kind of rest actually restores you these days?",
    ),
    card(
        "connect-12",
        N,
        "What is a childhood memory that still feels warm when you think of it?",
    ),
    card("connect-13", N, "What are you curious about at the moment?"),
    card("connect-14", N, "When do you feel most like yourself?"),
    card(
        "connect-15",
        N,
        "What is something you are looking forward to, big or small?",
    ),
    card(
        "connect-16",
        N,
        "What is a habit you picked up recently that you enjoy?",
    ),
    card(
        "connect-17",
        N,
        "What does a day off feel like when it goes just right for you?",
    ),
    card(
        "connect-18",
        N,
        "What is a question you wish people asked you more often?",
    ),
    card(
        "connect-19",
        N,
        "What part of your work or daily routine feels meaningful to you?",
    ),
    card(
        "connect-20",
        N,
        "Is there a smell, taste or sound that instantly takes you somewhere? Where does it take you?",
    ),
    card(
        "connect-21",
        N,
        "Which friendship has shaped you the most, and in what way?",
    ),
    card(
        "connect-22",
        N,
        "What is something that used to feel hard and comes more easily to you now?",
    ),
    card(
        "connect-23",
        N,
        "What small kindness from someone do you still remember, and why did it stay with you?",
    ),
    card(
        "connect-24",
        N,
        "What feels like the biggest open question in your life right now?",
    ),
    // communicate
    card(
        "communicate-01",
        M,
        "What helps you feel safe enough to bring up something difficult with me?",
    ),
    card(
        "communicate-02",
        M,
        "When you are stressed, what support helps most: listening, advice, space, or something else?",
    ),
    card(
        "communicate-03",
        M,
        "Is there something you have wanted to tell me but haven't found the right moment for?",
    ),
    card(
        "communicate-04",
        M,
        "How can I tell when you need a little space, and how would you like me to respond?",
    ),
    card(
        "communicate-05",
        M,
        "What is one thing I do that helps you feel cared for?",
    ),
    card(
        "communicate-06",
        M,
        "When we see things differently, what helps you feel heard even if we still disagree?",
    ),
    card(
        "communicate-07",
        M,
        "What is a feeling you find hard to put into words, and what would help you share it?",
    ),
    card(
        "communicate-08",
        M,
        "Is there a worry you have been carrying alone that you would like to share with me?",
    ),
    card(
        "communicate-09",
        M,
        "How do you like to be comforted when you feel sad?",
    ),
    card(
        "communicate-10",
        M,
        "What does a good repair after a tense moment look like to you?",
    ),
    card(
        "communicate-11",
        M,
        "What would you like more of in our time together right now?",
    ),
    card(
        "communicate-12",
        M,
        "What is a topic that feels tender for you, and how could we approach it gently?",
    ),
    card(
        "communicate-13",
        M,
        "How do you most like to receive appreciation: words, time, touch, help, or something else?",
    ),
    card(
        "communicate-14",
        M,
        "What helps you settle when you feel overwhelmed, and how can I help with that?",
    ),
    card(
        "communicate-15",
        M,
        "Is there a boundary that matters to you that you'd like me to understand more fully?",
    ),
    card(
        "communicate-16",
        M,
        "Is there a pattern between us you'd like us to look at together, with curiosity?",
    ),
    card(
        "communicate-17",
        M,
        "What would you like me to ask you about more often?",
    ),
    card(
        "communicate-18",
        M,
        "When you feel hurt, what do you tend to do first, and what do you need in that moment?",
    ),
    card(
        "communicate-19",
        M,
        "What from your past shapes how you feel in hard conversations?",
    ),
    card(
        "communicate-20",
        M,
        "How could we ask each other for a pause in a way that doesn't feel like walking away?",
    ),
    card(
        "communicate-21",
        M,
        "What is one way I could show up for you this week?",
    ),
    card(
        "communicate-22",
        M,
        "What is a need of yours that feels hard to ask for, and what makes it hard?",
    ),
    card(
        "communicate-23",
        M,
        "What would help you feel more at ease talking about money together?",
    ),
    card(
        "communicate-24",
        M,
        "How would you like me to check in when you seem quiet or far away?",
    ),
    card(
        "communicate-25",
        M,
        "What is one thing you would like me to know about how you are really doing?",
    ),
    // create
    card(
        "create-01",
        R,
        "If we had a whole free day with no obligations, how would you love to spend it together?",
    ),
    card(
        "create-02",
        R,
        "What is a place you dream of visiting, and what would we do there?",
    ),
    card(
        "create-03",
        R,
        "What is a skill you would love for us to learn together?",
    ),
    card(
        "create-04",
        R,
        "What little tradition would you like us to start?",
    ),
    card(
        "create-05",
        R,
        "What would you love your life to look like five years from now?",
    ),
    card(
        "create-06",
        R,
        "What adventure, big or small, would you like to try this year?",
    ),
    card(
        "create-07",
        R,
        "If we made a playlist for this season of our relationship, what would the first song be?",
    ),
    card(
        "create-08",
        R,
        "What is a silly thing you'd like us to do just for the fun of it?",
    ),
    card(
        "create-09",
        R,
        "What would a perfect date look like to you right now?",
    ),
    card(
        "create-10",
        R,
        "Is there a dream you set aside that you might like to pick back up?",
    ),
    card(
        "create-11",
        R,
        "If we could take a class together, which one would you pick?",
    ),
    card(
        "create-12",
        R,
        "What small ritual could we add to our week?",
    ),
    card(
        "create-13",
        R,
        "What would you like us to celebrate more often?",
    ),
    card(
        "create-14",
        R,
        "If our story had a next chapter, what would you call it?",
    ),
    card(
        "create-15",
        R,
        "What is something you would like to make with your own hands?",
    ),
    card(
        "create-16",
        R,
        "What kind of friends would you like us to be to the people around us?",
    ),
    card(
        "create-17",
        R,
        "What game, sport or hobby would you like to try together?",
    ),
    card(
        "create-18",
        R,
        "What is on your someday list that you would love me to be part of?",
    ),
    card(
        "create-19",
        R,
        "If time and money were no object for a month, what would you do with it?",
    ),
    card(
        "create-20",
        R,
        "What does a cozy evening look like for you, and how could we make one happen soon?",
    ),
    card(
        "create-21",
        R,
        "What is a way we could give back to others together?",
    ),
    card(
        "create-22",
        R,
        "What would you like our next shared memory to be?",
    ),
    card(
        "create-23",
        R,
        "If we planned a surprise for someone we both care about, what would it be?",
    ),
    card(
        "create-24",
        R,
        "What is a goal you have this year, and how could I cheer you on?",
    ),
];

/// The cards of one deck, or of all decks when `deck` is `None`, in id order.
pub fn cards(deck: Option<Deck>) -> impl Iterator<Item = &'static Card> {
    CARDS
        .iter()
        .filter(move |c| deck.is_none_or(|d| c.deck == d))
}

/// The card with this id, if any.
pub fn find(id: &str) -> Option<&'static Card> {
    CARDS.iter().find(|c| c.id == id)
}

/// The result of [`draw`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Draw {
    pub card: &'static Card,
    /// Every card of the chosen deck(s) had been drawn, so the deck started over:
    /// the caller should forget the drawn ids of that deck (or of all decks when
    /// drawing from all) before recording this card.
    pub reshuffled: bool,
}

/// Draw one card not in `drawn` (ids already drawn), using `seed` to choose among
/// the rest uniformly. When every card of the chosen deck(s) is in `drawn`, the deck
/// starts over: the card is chosen among all of them and `reshuffled` is true.
/// Ids in `drawn` that belong to other decks or to no card are ignored.
pub fn draw(deck: Option<Deck>, drawn: &[String], seed: u64) -> Draw {
    let fresh = |c: &&'static Card| !drawn.iter().any(|d| d == c.id);
    let remaining = cards(deck).filter(fresh).count();
    let (reshuffled, n) = if remaining == 0 {
        (true, cards(deck).count())
    } else {
        (false, remaining)
    };
    let index = pick(seed, n);
    let card = if reshuffled {
        cards(deck).nth(index)
    } else {
        cards(deck).filter(fresh).nth(index)
    }
    .expect("every deck has cards and index < n");
    Draw { card, reshuffled }
}

/// The couple's card for `day`, the same on both partners' machines: every
/// card in an order of the couple's own (shuffled by their journal id), one a
/// day, going round. A card `done` already (by either of them, on an earlier
/// day) is passed over for the next one in that order, so they meet cards
/// they have not explored yet; once they have explored them all, the day's
/// card in the order comes back.
///
/// What is `done` comes from each machine's own copy of the journal, so two
/// machines could differ only if a card due today was explored on a day one
/// of them has not synced yet; the round is as long as the deck (over two
/// months), so in practice they agree without syncing.
pub fn for_day(journal: &str, day: NaiveDate, done: &dyn Fn(&str) -> bool) -> &'static Card {
    let order = couple_order(journal);
    let days = usize::try_from(day.num_days_from_ce()).unwrap_or(0);
    let start = days % order.len();
    let mut round = order[start..].iter().chain(&order[..start]);
    let fresh = round.clone().find(|c| !done(c.id));
    fresh
        .or_else(|| round.next())
        .copied()
        .expect("the deck has cards")
}

/// Every card, shuffled (Fisher-Yates) by a seed taken from `journal`: an
/// order that belongs to one couple and is the same on all their devices.
fn couple_order(journal: &str) -> Vec<&'static Card> {
    // FNV-1a: stable across versions and platforms, unlike std's hasher.
    let mut seed = journal.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut order: Vec<&'static Card> = cards(None).collect();
    for i in (1..order.len()).rev() {
        seed = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let j = pick(seed, i + 1);
        order.swap(i, j);
    }
    order
}

/// A near-uniform index in `0..n` from `seed` (`n` > 0): SplitMix64 to spread the
/// seed's bits, then a multiply-shift to map onto the range without a modulo.
fn pick(seed: u64, n: usize) -> usize {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    ((u128::from(z) * n as u128) >> 64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn words(prompt: &str) -> Vec<String> {
        prompt
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    }

    /// A simple sequence of varying seeds.
    fn seeds() -> impl Iterator<Item = u64> {
        let mut s: u64 = 12345;
        std::iter::from_fn(move || {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            Some(s)
        })
    }

    #[test]
    fn each_deck_has_at_least_22_cards() {
        for deck in Deck::ALL {
            let n = cards(Some(deck)).count();
            assert!(n >= 22, "{} has only {n} cards", deck.name());
        }
        assert!(cards(None).count() >= 66);
        assert_eq!(
            cards(None).count(),
            Deck::ALL
                .iter()
                .map(|&d| cards(Some(d)).count())
                .sum::<usize>()
        );
    }

    #[test]
    fn ids_are_unique_and_stable_looking() {
        let mut seen = HashSet::new();
        for c in cards(None) {
            assert!(seen.insert(c.id), "duplicate id {}", c.id);
            let (prefix, num) = c.id.rsplit_once('-').expect("id has a dash");
            assert_eq!(prefix, c.deck.name(), "{} is in the wrong deck", c.id);
            assert_eq!(num.len(), 2, "{} needs a two-digit number", c.id);
            assert!(num.bytes().all(|b| b.is_ascii_digit()), "{}", c.id);
            assert_eq!(find(c.id), Some(c));
        }
        // Within a deck, numbers run 01, 02, ... with no gaps.
        for deck in Deck::ALL {
            for (i, c) in cards(Some(deck)).enumerate() {
                assert_eq!(c.id, format!("{}-{:02}", deck.name(), i + 1));
            }
        }
        assert_eq!(find("connect-00"), None);
        assert_eq!(find("nope"), None);
    }

    #[test]
    fn prompts_are_short_open_questions() {
        let mut seen = HashSet::new();
        for c in cards(None) {
            assert!(c.prompt.ends_with('?'), "{}: {}", c.id, c.prompt);
            assert!(c.prompt.chars().count() <= 140, "{} is too long", c.id);
            assert_eq!(c.prompt.trim(), c.prompt, "{}", c.id);
            assert!(
                c.prompt.starts_with(|ch: char| ch.is_uppercase()),
                "{}",
                c.id
            );
            assert!(seen.insert(c.prompt), "duplicate prompt {}", c.id);
        }
    }

    #[test]
    fn no_prompt_blames_scores_or_compares() {
        let banned = [
            "fault", "faults", "blame", "blaming", "rate", "rating", "score", "scores", "rank",
            "worse", "worst", "compare", "wrong", "should",
        ];
        for c in cards(None) {
            let lower = c.prompt.to_lowercase();
            assert!(!lower.contains("better than"), "{}: {}", c.id, c.prompt);
            assert!(!lower.contains("out of 10"), "{}: {}", c.id, c.prompt);
            for w in words(c.prompt) {
                assert!(!banned.contains(&w.as_str()), "{} uses {w:?}", c.id);
            }
        }
    }

    #[test]
    fn no_prompt_presumes_gender_home_or_children() {
        let banned = [
            "he",
            "she",
            "him",
            "her",
            "his",
            "hers",
            "husband",
            "wife",
            "boyfriend",
            "girlfriend",
            "kids",
            "children",
            "child's",
            "parenting",
        ];
        for c in cards(None) {
            let lower = c.prompt.to_lowercase();
            for phrase in ["our home", "our house", "our place", "our kids", "at home"] {
                assert!(!lower.contains(phrase), "{}: {}", c.id, c.prompt);
            }
            for w in words(c.prompt) {
                assert!(!banned.contains(&w.as_str()), "{} uses {w:?}", c.id);
            }
        }
    }

    /// Draw through `deck` twice over, feeding ids back; each cycle covers the
    /// whole deck without repeats, then reports a reshuffle.
    fn full_cycles(deck: Option<Deck>) {
        let total = cards(deck).count();
        let mut seeds = seeds();
        let mut drawn: Vec<String> = Vec::new();
        // Ids from other decks must not disturb a single-deck cycle.
        if let Some(d) = deck {
            drawn.extend(
                cards(None)
                    .filter(|c| c.deck != d)
                    .take(5)
                    .map(|c| c.id.to_string()),
            );
        }
        let foreign = drawn.clone();
        for cycle in 0..3 {
            let mut this_cycle = HashSet::new();
            for i in 0..total {
                let d = draw(deck, &drawn, seeds.next().unwrap());
                if cycle > 0 && i == 0 {
                    assert!(d.reshuffled, "cycle {cycle} should start with a reshuffle");
                    drawn
                        .retain(|id| deck.is_some_and(|dk| find(id).is_some_and(|c| c.deck != dk)));
                } else {
                    assert!(
                        !d.reshuffled,
                        "early reshuffle at draw {i} of cycle {cycle}"
                    );
                }
                assert!(deck.is_none_or(|dk| d.card.deck == dk));
                assert!(this_cycle.insert(d.card.id), "{} repeated", d.card.id);
                drawn.push(d.card.id.to_string());
            }
            assert_eq!(this_cycle.len(), total);
        }
        let d = draw(deck, &drawn, 7);
        assert!(d.reshuffled);
        if deck.is_some() {
            for id in &foreign {
                assert!(drawn.contains(id), "foreign ids kept");
            }
        }
    }

    #[test]
    fn drawing_cycles_through_each_deck() {
        for deck in Deck::ALL {
            full_cycles(Some(deck));
        }
    }

    #[test]
    fn drawing_cycles_through_all_decks() {
        full_cycles(None);
    }

    #[test]
    fn draw_is_deterministic_and_spreads() {
        let a = draw(Some(Deck::Connect), &[], 42);
        let b = draw(Some(Deck::Connect), &[], 42);
        assert_eq!(a, b);
        // Consecutive seeds reach every card of a deck.
        let total = cards(Some(Deck::Create)).count();
        let reached: HashSet<_> = (0..2000u64)
            .map(|s| draw(Some(Deck::Create), &[], s).card.id)
            .collect();
        assert_eq!(reached.len(), total);
    }

    #[test]
    fn draw_picks_the_last_remaining_card() {
        let all: Vec<String> = cards(Some(Deck::Communicate))
            .map(|c| c.id.to_string())
            .collect();
        let rest = &all[1..];
        for seed in [0, 1, u64::MAX] {
            let d = draw(Some(Deck::Communicate), rest, seed);
            assert_eq!(d.card.id, all[0]);
            assert!(!d.reshuffled);
        }
    }

    #[test]
    fn unknown_ids_in_drawn_are_ignored() {
        let drawn = vec!["gone-99".to_string(), String::new()];
        let d = draw(None, &drawn, 3);
        assert!(!d.reshuffled);
    }

    #[test]
    fn deck_names_and_about() {
        for deck in Deck::ALL {
            assert!(!deck.about().is_empty());
            assert!(!deck.about().contains('\n'));
            let json = serde_json::to_string(&deck).unwrap();
            assert_eq!(json, format!("\"{}\"", deck.name()));
            let back: Deck = serde_json::from_str(&json).unwrap();
            assert_eq!(back, deck);
            let parsed = <Deck as clap::ValueEnum>::from_str(deck.name(), false).unwrap();
            assert_eq!(parsed, deck);
        }
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    const JOURNAL: &str = "0195f3a2-7c4e-7d10-9a3b-2f6c1e8d4b71";

    #[test]
    fn the_days_card_is_fixed_by_the_journal_and_the_day() {
        let none = |_: &str| false;
        let a = for_day(JOURNAL, day("2026-11-27"), &none);
        assert_eq!(a, for_day(JOURNAL, day("2026-11-27"), &none));
        // Another couple meets the deck in another order.
        let other = "0195f3a2-7c4e-7d10-9a3b-2f6c1e8d4b72";
        let ours: Vec<_> = (0..10)
            .map(|n| for_day(JOURNAL, day("2026-11-27") + chrono::Days::new(n), &none).id)
            .collect();
        let theirs: Vec<_> = (0..10)
            .map(|n| for_day(other, day("2026-11-27") + chrono::Days::new(n), &none).id)
            .collect();
        assert_ne!(ours, theirs);
    }

    #[test]
    fn a_round_of_days_meets_every_card_once() {
        let none = |_: &str| false;
        let total = cards(None).count();
        let seen: HashSet<_> = (0..total as u64)
            .map(|n| for_day(JOURNAL, day("2026-01-01") + chrono::Days::new(n), &none).id)
            .collect();
        assert_eq!(seen.len(), total);
    }

    #[test]
    fn cards_done_are_passed_over_until_all_are_done() {
        let today = day("2026-11-27");
        let due = for_day(JOURNAL, today, &|_| false);
        let next = for_day(JOURNAL, today, &|id| id == due.id);
        assert_ne!(next, due);
        // Tomorrow's card in the order is the one after today's.
        assert_eq!(
            next,
            for_day(JOURNAL, today + chrono::Days::new(1), &|_| false)
        );
        // Every card done: the day's own card comes back.
        assert_eq!(for_day(JOURNAL, today, &|_| true), due);
        // All done but one: that one, whatever the day.
        let last = find("create-24").unwrap();
        for n in 0..5 {
            let d = today + chrono::Days::new(n);
            assert_eq!(for_day(JOURNAL, d, &|id| id != last.id), last);
        }
    }
}
