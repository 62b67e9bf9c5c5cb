//! Conversation cards: no repeats until a deck is used up, and `--done`
//! logs the `card` practice.

use std::collections::HashSet;

use crate::env::TestEnv;

/// Draw once and return the card's id (second line: "  deck · id").
fn draw(env: &TestEnv, deck: Option<&str>) -> (String, String) {
    let mut args = vec!["card"];
    if let Some(deck) = deck {
        args.extend(["--deck", deck]);
    }
    let out = env.run(&args).ok();
    let mut lines = out.lines();
    let prompt = lines.next().unwrap().to_string();
    let id = lines
        .next()
        .unwrap()
        .split('·')
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    (prompt, id)
}

#[test]
fn a_deck_never_repeats_until_it_is_used_up() {
    let env = TestEnv::new();
    let mut seen = HashSet::new();
    let mut size = 0;
    loop {
        let (prompt, id) = draw(&env, Some("connect"));
        assert!(prompt.ends_with('?'), "{prompt}");
        assert!(id.starts_with("connect-"));
        if !seen.insert(id) {
            break;
        }
        size += 1;
        assert!(size < 200, "the deck never ran out");
    }
    assert!(size >= 20, "the connect deck has {size} cards");
    // Once used up, the deck starts over with every card available again.
    let (_, again) = draw(&env, Some("connect"));
    assert!(again.starts_with("connect-"));
}

#[test]
fn all_decks_hold_at_least_sixty_prompts() {
    let env = TestEnv::new();
    let mut seen = HashSet::new();
    for _ in 0..60 {
        let (_, id) = draw(&env, None);
        assert!(
            seen.insert(id.clone()),
            "{id} repeated within the first 60 draws"
        );
    }
    let decks: HashSet<&str> = seen
        .iter()
        .map(|id| id.split('-').next().unwrap())
        .collect();
    assert_eq!(decks.len(), 3);
}

#[test]
fn done_logs_the_card_practice_for_today() {
    let env = TestEnv::new();
    env.run(&["card", "--done"]).ok();
    let entries = env.journal();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["practice"], "card");
    assert_eq!(entries[0]["day"], "2026-11-27");
}

#[test]
fn an_unknown_deck_is_a_usage_error() {
    let env = TestEnv::new();
    let err = env.run(&["card", "--deck", "blame"]).fails(2);
    assert!(err.contains("connect"), "{err}");
}
