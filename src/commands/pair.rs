//! `safe invite`, `safe join`, `safe partner` and `safe device`: pairing a
//! partner or another device of mine through the shared remote, and who is
//! paired. The rules are in `journal::pair`; this file reads arguments,
//! takes the lock only around each local step (never while waiting for
//! the other person), and prints.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

use super::{Context, login_name};
use crate::domain::record::Role;
use crate::error::{Error, Result};
use crate::journal::pair::{self, Invitation, Joining, Origin};
use crate::journal::removal;
use crate::journal::{Identity, Journal};
use crate::keys::pairing::InviteCode;
use crate::keys::safety;
use crate::render::sanitize::sanitize_line;
use crate::sync::{display_url, normalize_remote};

/// Invite your partner, or another device of yours, into this journal.
///
/// safe prints a one-time code: a number and four words. Give it to the
/// other person face to face (or read it out on a call), never through the
/// remote itself. While they run `safe join`, this command waits, looking
/// at the remote every few seconds; the pairing runs through the remote
/// but the remote cannot read it or slip in a key of its own.
///
/// The code works once: a wrong code burns it on both sides, and it is
/// void after 24 hours. Ctrl-C stops waiting and takes the invitation back
/// from the remote (the code is then spent); `safe invite` again makes a
/// new one.
///
/// Here you see the code, then "Paired: device 3f2a9c1b joined as your
/// partner."; there, `safe join <REMOTE> <CODE>` prints "Joined the journal
/// as …". Then both of you sync, and compare `safe partner show` in person.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe invite --remote git@example.org:us/journal.git\n  safe invite --device          # your laptop, pairing your phone"
)]
pub struct InviteArgs {
    /// Pair another device of yours instead of your partner.
    #[arg(long)]
    pub device: bool,
    /// The git remote you both reach (default: the one `safe sync` uses).
    #[arg(long, value_name = "URL")]
    pub remote: Option<String>,
    #[command(flatten)]
    pub waiting: Waiting,
}

/// Join a journal with the code `safe invite` printed on the other device.
///
/// REMOTE is the git repository both of you reach; CODE the number and
/// four words, in any case, with dashes or spaces. Whether this computer
/// becomes your partner's partner or another device of the inviter is
/// decided by the inviter, never here.
///
/// If this data directory already holds a journal of its own that nobody
/// else shares, it is moved to backup-before-join/ and your entries (with
/// their ids and notes), name, goals and practices are written again into
/// the journal you join. safe can write here once the inviter's computer
/// has synced and you run `safe sync`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe join git@example.org:us/journal.git 7-tulip-orbit-maple-river\n  safe join /mnt/shared/journal.git \"7 tulip orbit maple river\""
)]
pub struct JoinArgs {
    /// The git remote the inviter uses.
    pub remote: String,
    /// The code `safe invite` printed.
    pub code: String,
    #[command(flatten)]
    pub waiting: Waiting,
}

/// How long a side waits at the remote.
#[derive(Debug, clap::Args)]
pub struct Waiting {
    /// How long to wait for each step of the other side (e.g. 15m, 1h).
    #[arg(long, value_name = "DURATION", default_value = "15m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// How often to look at the remote (for tests and slow links).
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = humantime::parse_duration, hide = true)]
    pub poll: Duration,
}

/// Your partner: the couple's safety number, to compare in person; or
/// the end of sharing with them.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe partner show\n  safe partner show --json\n  safe partner remove"
)]
pub struct PartnerArgs {
    #[command(subcommand)]
    pub command: PartnerCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum PartnerCommand {
    /// Print both names and the couple's safety number.
    ///
    /// Both of you see the same number when each holds the other's real
    /// keys. Compare it in person or on a call where you hear each other;
    /// a different number means a key was slipped in outside pairing.
    #[command(after_help = "Examples:\n  safe partner show\n  safe partner show --json")]
    Show {
        /// Print a JSON object instead.
        #[arg(long)]
        json: bool,
    },
    /// Stop sharing with your partner: remove all of their devices.
    ///
    /// They keep what they already received (everything synced before).
    /// From your next sync on, what you write is sealed to a new key only
    /// your devices hold, so they read nothing after it, and what their
    /// devices write later is ignored here. Until their access to the
    /// remote is revoked they still see when and how much you sync: move
    /// to a fresh remote with `safe sync --remote NEW_URL`. This cannot be
    /// undone: the journal stays a journal of one couple.
    #[command(after_help = "Examples:\n  safe partner remove\n  safe partner remove --yes")]
    Remove {
        /// Remove without asking (needed where there is no terminal).
        #[arg(long)]
        yes: bool,
    },
}

/// Your devices in this journal.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  safe device list\n  safe device remove 3f2a9c1b")]
pub struct DeviceArgs {
    #[command(subcommand)]
    pub command: DeviceCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum DeviceCommand {
    /// List your devices: this one first, and how each was paired.
    #[command(after_help = "Examples:\n  safe device list\n  safe device list --json")]
    List {
        /// Print JSON lines instead.
        #[arg(long)]
        json: bool,
    },
    /// Remove one of your devices (a lost or sold computer).
    ///
    /// DEVICE is its id, or the start of it, as `safe device list` prints
    /// it. The device keeps what it already received; from your next sync
    /// on, the journal is sealed to a new key it does not hold, and what
    /// it writes later is ignored by every device. Run it on another of
    /// your devices; it cannot be undone (pair the computer again as a new
    /// device to bring it back).
    #[command(
        after_help = "Examples:\n  safe device remove 3f2a9c1b\n  safe device remove 3f2a --yes"
    )]
    Remove {
        /// The device's id, or the start of it.
        device: String,
        /// Remove without asking (needed where there is no terminal).
        #[arg(long)]
        yes: bool,
    },
}

fn role_phrase(role: Role) -> &'static str {
    match role {
        Role::Partner => "as your partner",
        Role::Mine => "as another device of yours",
    }
}

/// Ctrl-C while a pairing waits for the other side: a flag, so that the
/// wait ends at its next pause and the pairing takes back what it posted on
/// the remote (burning the code once keys were exchanged), rather than
/// dying with its invitation left there and its scratch folder here.
fn stop_on_ctrl_c() -> Result<Arc<AtomicBool>> {
    let stopped = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stopped);
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
        .map_err(|e| Error::runtime(format!("could not listen for Ctrl-C: {e}")))?;
    Ok(stopped)
}

/// Sleep for `d` in short steps; `false` (stop waiting) once Ctrl-C came.
fn pause(stopped: &AtomicBool, d: Duration) -> bool {
    let until = Instant::now() + d;
    loop {
        if stopped.load(Ordering::SeqCst) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// What an invite stopped by Ctrl-C says, whatever step it was at: its
/// messages are gone from the remote, so its code leads nowhere.
fn invite_stopped() -> Error {
    Error::runtime(
        "stopped waiting (Ctrl-C): the invitation was taken back from the remote and nothing \
         was paired; its code cannot be used any more",
    )
    .with_hint("run `safe invite` again for a new code when you are both ready")
}

/// What a join stopped by Ctrl-C says: what it posted is gone from the
/// remote (and the code burned, if keys were already exchanged).
fn join_stopped() -> Error {
    Error::runtime(
        "stopped waiting (Ctrl-C): what this side had posted was taken back from the remote \
         and nothing was paired",
    )
    .with_hint(
        "run `safe join` again while `safe invite` still waits; if it says the code was used, \
         ask for a new one",
    )
}

pub fn cmd_invite(ctx: &mut Context<'_>, args: InviteArgs) -> Result<()> {
    let url = match &args.remote {
        Some(url) => normalize_remote(url)?,
        None => ctx
            .dir
            .read_config()?
            .and_then(|c| c.remote)
            .ok_or_else(|| {
                Error::input("there is no remote to meet at").with_hint(
                    "pass --remote URL (a git repository you both reach), or set one with `safe sync --remote URL`",
                )
            })?,
    };
    let role = if args.device {
        Role::Mine
    } else {
        Role::Partner
    };
    let invitation = {
        let lock = ctx.dir.lock()?;
        let (journal, created) =
            pair::open_or_create(ctx.dir.root(), &login_name(), ctx.wall_ms(), &lock)?;
        if created {
            eprintln!(
                "safe: started a journal in {} for {}",
                ctx.dir.root().display(),
                login_name()
            );
        }
        Invitation::new(&journal, role)?
    };
    // Listening before the code is out: Ctrl-C from then on withdraws it.
    let stopped = stop_on_ctrl_c()?;
    // The code goes to stdout alone, flushed, so a script can read it.
    writeln!(ctx.out, "{}", invitation.code())?;
    ctx.out.flush()?;
    let whom = match role {
        Role::Partner => "your partner",
        Role::Mine => "your other device",
    };
    eprintln!(
        "Give {whom} this code in person. On the other computer, run:\n  safe join {} CODE\n\
         Waiting up to {} for them (Ctrl-C stops; the code is valid once, for 24 hours)...",
        sanitize_line(&display_url(&url)),
        humantime::format_duration(args.waiting.timeout)
    );
    let (_scratch, rendezvous) = pair::meeting_place(ctx.dir.root(), &url)?;
    let rendezvous = rendezvous.polling(args.waiting.poll, args.waiting.timeout);
    let joiner = invitation
        .await_joiner(&rendezvous, &|d| pause(&stopped, d))
        .map_err(|err| match stopped.load(Ordering::SeqCst) {
            true => invite_stopped(),
            false => err,
        })?;
    let lock = ctx.dir.lock()?;
    let mut journal = Journal::open(ctx.dir.root(), ctx.wall_ms(), &lock)?;
    let accepted = invitation.accept(&mut journal, &joiner, ctx.wall_ms(), &lock)?;
    writeln!(
        ctx.out,
        "Paired: device {} joined {}.\n\
         Next: sync (`safe sync`) so that it receives the pairing; then compare \
         `safe partner show` in person.",
        pair::short(&accepted.device),
        role_phrase(accepted.role)
    )?;
    Ok(())
}

pub fn cmd_join(ctx: &mut Context<'_>, args: JoinArgs) -> Result<()> {
    let code = InviteCode::parse(&args.code).map_err(|why| {
        Error::input(why).with_hint("type the code `safe invite` printed on the other computer")
    })?;
    let url = normalize_remote(&args.remote)?;
    let joining = {
        let lock = ctx.dir.lock()?;
        let joining = Joining::prepare(ctx.dir.root(), ctx.wall_ms(), &lock)?;
        // The inviter seals the journal to this device's key once it has
        // it: put it on the remote before the exchange, so that the
        // inviter's next sync finds it.
        if let Err(e) = crate::sync::logs::publish_key(ctx.dir.root(), &url, &lock) {
            eprintln!(
                "safe: this device's key is not on the remote yet ({}); `safe sync` puts it there",
                sanitize_line(e.message())
            );
        }
        joining
    };
    eprintln!("Joining invitation {} at the remote...", code.number);
    let (_scratch, rendezvous) = pair::meeting_place(ctx.dir.root(), &url)?;
    let rendezvous = rendezvous.polling(args.waiting.poll, args.waiting.timeout);
    let stopped = stop_on_ctrl_c()?;
    let inviter = joining
        .await_inviter(&rendezvous, &code, &|d| pause(&stopped, d))
        .map_err(|err| match stopped.load(Ordering::SeqCst) {
            true => join_stopped(),
            false => err,
        })?;
    let lock = ctx.dir.lock()?;
    let joined = joining.adopt(
        ctx.dir.root(),
        &inviter,
        &login_name(),
        ctx.wall_ms(),
        &lock,
    )?;
    let how = match joined.role {
        Role::Partner => "as the partner of the person who invited you",
        Role::Mine => "as another device of the person who invited you",
    };
    writeln!(
        ctx.out,
        "Joined the journal {how} (invited by device {}).",
        pair::short(&joined.inviter)
    )?;
    if let Some(backup) = &joined.backup {
        let c = joined.carried;
        writeln!(
            ctx.out,
            "Your own journal was moved to {}; carried into this one: {} entries ({} private), \
             {} unshared notes, {} practices, {} goals.",
            backup.display(),
            c.entries + c.private_entries,
            c.private_entries,
            c.notes,
            c.practices,
            c.goals
        )?;
    }
    writeln!(
        ctx.out,
        "Next: once the inviting computer has synced, run `safe sync --remote {}` here; \
         safe can write here after that. Then compare `safe partner show` in person.",
        sanitize_line(&display_url(&url))
    )?;
    Ok(())
}

/// The journal of this data directory, for commands that only show.
fn open_paired(ctx: &Context<'_>) -> Result<(crate::store::Lock, Journal)> {
    let lock = ctx.dir.lock()?;
    if Identity::read(ctx.dir.root())?.is_none() {
        return Err(
            Error::input("this data directory is not paired with anyone yet")
                .with_hint("`safe invite` makes a code for your partner; `safe join` uses one"),
        );
    }
    let journal = Journal::open(ctx.dir.root(), ctx.wall_ms(), &lock)?;
    Ok((lock, journal))
}

fn name_or_id(name: Option<&str>, id: &str) -> String {
    match name {
        Some(name) => sanitize_line(name).into_owned(),
        None => id.chars().take(8).collect(),
    }
}

pub fn cmd_partner(ctx: &mut Context<'_>, args: PartnerArgs) -> Result<()> {
    let json = match args.command {
        PartnerCommand::Show { json } => json,
        PartnerCommand::Remove { yes } => return remove(ctx, None, yes),
    };
    let (_lock, journal) = open_paired(ctx)?;
    let couple = pair::couple(&journal)?;
    let me = name_or_id(couple.me.name.as_deref(), &couple.me.id);
    let partner = name_or_id(couple.partner.name.as_deref(), &couple.partner.id);
    if json {
        let person = |p: &pair::Person, name: &str| {
            json!({
                "id": p.id,
                "name": name,
                "devices": p.devices.iter().map(|d| d.as_str()).collect::<Vec<_>>(),
            })
        };
        let value = json!({
            "safety_number": couple.safety_number.join(" "),
            "me": person(&couple.me, &me),
            "partner": person(&couple.partner, &partner),
        });
        writeln!(ctx.out, "{value}")?;
        return Ok(());
    }
    let number = safety::display(&couple.safety_number);
    writeln!(ctx.out, "Safety number for {me} and {partner}:\n")?;
    for row in number.lines() {
        writeln!(ctx.out, "  {row}")?;
    }
    writeln!(
        ctx.out,
        "\nCompare it with {partner} in person, or on a call where you hear each other: \
         read it aloud and check that both screens show the same digits. It is the same \
         on both sides when each holds the other's real keys; if it differs, a key was \
         slipped in outside pairing: stop syncing, and pair again on a fresh remote."
    )?;
    Ok(())
}

pub fn cmd_device(ctx: &mut Context<'_>, args: DeviceArgs) -> Result<()> {
    let json = match args.command {
        DeviceCommand::List { json } => json,
        DeviceCommand::Remove { device, yes } => return remove(ctx, Some(&device), yes),
    };
    let (_lock, journal) = open_paired(ctx)?;
    for device in pair::my_devices(&journal)? {
        let (how, by) = match &device.origin {
            Origin::Root => ("created the journal", None),
            Origin::Mine { by } => ("paired as mine", Some(by)),
            Origin::Partner { by } => ("paired as partner", Some(by)),
        };
        if json {
            let value = json!({
                "id": device.id.as_str(),
                "this": device.this,
                "origin": how,
                "by": by.map(|b| b.as_str()),
                "removed": device.removed_after.is_some(),
            });
            writeln!(ctx.out, "{value}")?;
            continue;
        }
        let this = if device.this { "this device" } else { "" };
        let by = by
            .map(|b| format!(" by {}", pair::short(b)))
            .unwrap_or_default();
        let removed = if device.removed_after.is_some() {
            " (removed)"
        } else {
            ""
        };
        writeln!(
            ctx.out,
            "{}  {this:<11}  {how}{by}{removed}",
            pair::short(&device.id)
        )?;
    }
    Ok(())
}

/// `safe device remove DEVICE` (`device` given) or `safe partner remove`:
/// say what the removed side keeps and sees, ask, write the removal.
fn remove(ctx: &mut Context<'_>, device: Option<&str>, yes: bool) -> Result<()> {
    let (lock, mut journal) = open_paired(ctx)?;
    let removal = match device {
        Some(prefix) => removal::my_device(&journal, prefix)?,
        None => removal::partner(&journal)?,
    };
    let names = journal.state()?.names;
    let whom = match device {
        Some(_) => format!("your device {}", pair::short(&removal.devices[0].0)),
        None => {
            let name = name_or_id(
                names.get(&removal.person).map(String::as_str),
                &removal.person,
            );
            let count = match removal.devices.len() {
                1 => "1 device".to_string(),
                n => format!("{n} devices"),
            };
            format!("{name} ({count})")
        }
    };
    let (they, their) = match device {
        Some(_) => ("it", "its"),
        None => ("they", "their"),
    };
    eprintln!(
        "Removing {whom} from this journal.\n\
         - {they_cap} keep{s} everything synced before now: what {they} already received \
         stays on {their} side.\n\
         - {they_cap} see{s} nothing you write after this: your next sync seals the journal to a \
         new key that only the remaining devices hold.\n\
         - Until {their} access to the remote is revoked, {they} can still see when and how much \
         you sync; a fresh remote ends that too.\n\
         - What {they} write{s} from now on is ignored. This cannot be undone.",
        they_cap = capitalize(they),
        s = if device.is_some() { "s" } else { "" },
    );
    if !yes && !confirmed(&format!("Remove {whom}?"))? {
        writeln!(ctx.out, "Nothing removed.")?;
        return Ok(());
    }
    let done = removal::write(&mut journal, ctx.dir.root(), &removal, ctx.wall_ms(), &lock)?;
    for (device, last) in &done.devices {
        let ignored = match last {
            0 => "everything it writes is ignored".to_string(),
            last => format!("its lines after line {last} are ignored"),
        };
        writeln!(
            ctx.out,
            "Removed device {} ({ignored}).",
            pair::short(device)
        )?;
    }
    writeln!(
        ctx.out,
        "Next: run `safe sync` on each remaining device, so the journal is sealed to a new key \
         without {whom}. To stop {them} from seeing even when you sync, move to a fresh remote \
         that only the remaining devices reach: `safe sync --remote NEW_URL`.",
        them = if device.is_some() { "it" } else { "them" },
    )?;
    Ok(())
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// A yes from the person at the terminal; without one, a removal is
/// refused (exit 2) with what to add.
fn confirmed(question: &str) -> Result<bool> {
    use std::io::IsTerminal;
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        return Err(Error::input("not removing without a yes")
            .with_hint("a removal asks first on a terminal; add --yes to remove here"));
    }
    super::confirm(question)
}
