//! `safe card`: draw a conversation prompt; `--done` logs the `card` practice.

use super::Context;
use crate::domain::card::{self, Card, Deck, draw};
use crate::domain::entry::Kind;
use crate::error::Result;
use crate::journal::Identity;
use crate::journal::view::View;
use crate::store::rituals::CardShown;

/// Draw a conversation card: one open question to explore together.
///
/// Cards do not repeat until the deck is used up. Decks: connect (getting to
/// know each other now), communicate (needs and feelings, gently), create
/// (dreams, plans and play).
///
/// --today shows the card of the day for the two of you: the same on both
/// your machines without syncing, and one you have not explored yet.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe card\n  safe card --deck create\n  safe card --today       # the card of the day, the same for you both\n  safe card --done        # log that you explored the card shown today"
)]
pub struct CardArgs {
    /// Draw from one deck only.
    #[arg(long, short, value_enum)]
    pub deck: Option<Deck>,
    /// The card of the day for you both, chosen from your shared journal and the date.
    #[arg(long, conflicts_with = "deck")]
    pub today: bool,
    /// Log the `card` practice for today, naming the card shown here today
    /// (with --today: the card of the day).
    #[arg(long, conflicts_with = "deck")]
    pub done: bool,
}

pub fn cmd_card(ctx: &mut Context<'_>, args: CardArgs) -> Result<()> {
    if args.done {
        let card = done_card(ctx, args.today)?;
        writeln!(ctx.out, "The card: {} · {}", card.id, card.prompt)?;
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
            card: Some(card.id.to_string()),
        };
        return super::log::cmd_log(ctx, log);
    }
    if args.today {
        return today(ctx);
    }
    // The journal first (made on a new machine, as `safe log` does): a
    // config.json alone would read as a schema-1 directory to migrate.
    let session = ctx.session()?;
    let mut config = session.config.clone();
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
    let mut rituals = ctx.dir.read_rituals()?;
    rituals.card_shown = Some(CardShown {
        day: ctx.today,
        card: result.card.id.to_string(),
    });
    let mut batch = session.lock.batch();
    ctx.dir.write_config(&config, &mut batch)?;
    ctx.dir.write_rituals(&rituals, &mut batch)?;
    batch.commit()?;
    let card = result.card;
    show_prompt(ctx, card)?;
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

/// `--today`: the card of the day for the couple, remembered as the card
/// shown here today.
fn today(ctx: &mut Context<'_>) -> Result<()> {
    let (view, _) = ctx.view()?;
    let card = card_of_the_day(ctx, &view)?;
    let lock = ctx.dir.lock()?;
    let mut rituals = ctx.dir.read_rituals()?;
    rituals.card_shown = Some(CardShown {
        day: ctx.today,
        card: card.id.to_string(),
    });
    let mut batch = lock.batch();
    ctx.dir.write_rituals(&rituals, &mut batch)?;
    batch.commit()?;
    show_prompt(ctx, card)?;
    writeln!(
        ctx.out,
        "  {} · {} · the card of the day for you both",
        card.deck.name(),
        card.id
    )?;
    writeln!(
        ctx.out,
        "Take turns answering. `safe card --done` logs it when you have talked it through."
    )?;
    Ok(())
}

/// The couple's card for today: from the journal id both partners share
/// after pairing (a journal of one has its own), passing over cards either
/// of them explored on an earlier day.
fn card_of_the_day(ctx: &Context<'_>, view: &View) -> Result<&'static Card> {
    let journal = Identity::read(ctx.dir.root())?
        .map(|identity| identity.journal)
        .unwrap_or_default();
    let done = |id: &str| {
        view.items.iter().any(|i| {
            i.entry.kind == Kind::Log
                && i.entry.day < ctx.today
                && i.record.card.as_deref() == Some(id)
        })
    };
    Ok(card::for_day(&journal, ctx.today, &done))
}

/// The card `--done` names: the card of the day with `--today`, else the
/// card `safe card` last showed here today, else the card of the day (the
/// one both machines show).
fn done_card(ctx: &Context<'_>, of_the_day: bool) -> Result<&'static Card> {
    if !of_the_day {
        let rituals = ctx.dir.read_rituals()?;
        let shown = rituals.card_shown.as_ref().and_then(|s| s.on(ctx.today));
        if let Some(card) = shown.and_then(card::find) {
            return Ok(card);
        }
    }
    let (view, _) = ctx.view()?;
    card_of_the_day(ctx, &view)
}

/// The prompt itself, bold on a terminal.
fn show_prompt(ctx: &mut Context<'_>, card: &Card) -> Result<()> {
    if ctx.color {
        let style = anstyle::Style::new().bold();
        writeln!(ctx.out, "{style}{}{style:#}", card.prompt)?;
    } else {
        writeln!(ctx.out, "{}", card.prompt)?;
    }
    Ok(())
}
