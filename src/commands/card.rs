//! `safe card`: draw a conversation prompt; `--done` logs the `card` practice.

use super::Context;
use crate::domain::card::{Deck, draw};
use crate::error::Result;

/// Draw a conversation card: one open question to explore together.
///
/// Cards do not repeat until the deck is used up. Decks: connect (getting to
/// know each other now), communicate (needs and feelings, gently), create
/// (dreams, plans and play).
///
/// Examples:
///   safe card
///   safe card --deck create
///   safe card --done        # log that you explored a card today
#[derive(Debug, clap::Args)]
#[command(verbatim_doc_comment)]
pub struct CardArgs {
    /// Draw from one deck only.
    #[arg(long, short, value_enum)]
    pub deck: Option<Deck>,
    /// Log the `card` practice for today instead of drawing.
    #[arg(long, conflicts_with = "deck")]
    pub done: bool,
}

pub fn cmd_card(ctx: &mut Context<'_>, args: CardArgs) -> Result<()> {
    if args.done {
        let log = super::log::LogArgs {
            practice: "card".to_string(),
            note: None,
            date: "today".to_string(),
            took: None,
            private: false,
            share_note: false,
            keep_note: false,
            rupture_at: None,
            again: false,
            once_a_day: true,
            card: None,
        };
        return super::log::cmd_log(ctx, log);
    }
    let lock = ctx.dir.lock()?;
    let mut config = ctx.settings()?;
    let result = draw(args.deck, &config.cards_drawn, seed(ctx));
    if result.reshuffled {
        // The deck starts over: forget what was drawn from it.
        match args.deck {
            Some(deck) => config
                .cards_drawn
                .retain(|id| crate::domain::card::find(id).is_some_and(|c| c.deck != deck)),
            None => config.cards_drawn.clear(),
        }
    }
    config.cards_drawn.push(result.card.id.to_string());
    let mut batch = lock.batch();
    ctx.dir.write_config(&config, &mut batch)?;
    batch.commit()?;
    let card = result.card;
    if ctx.color {
        let style = anstyle::Style::new().bold();
        writeln!(
            ctx.out,
            "{}{}{}",
            style.render(),
            card.prompt,
            style.render_reset()
        )?;
    } else {
        writeln!(ctx.out, "{}", card.prompt)?;
    }
    let note = if result.reshuffled {
        " (the deck starts over)"
    } else {
        ""
    };
    writeln!(ctx.out, "  {} · {}{note}", card.deck.name(), card.id)?;
    writeln!(
        ctx.out,
        "Take turns answering. `safe card --done` logs it when you have talked it through."
    )?;
    Ok(())
}

/// Different on every draw; `SAFE_NOW` alone must not fix the card, or a
/// test would always see the same one, so the clock's counter is mixed in.
fn seed(ctx: &Context<'_>) -> u64 {
    let wall = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    wall ^ (ctx.wall_ms().rotate_left(17)) ^ u64::from(std::process::id())
}
