//! `safe sync`: share the journal with my partner through a git remote, set
//! that remote, or show where sharing stands. The work is in `crate::sync`.

use super::Context;
use super::session::Session;
use crate::error::{Error, Result};
use crate::journal::{Identity, Journal};
use crate::render::sanitize::sanitize_line;
use crate::sync::{GitStart, SyncReport, display_url, normalize_remote};

/// Share the journal with your partner through a git remote.
///
/// You both point safe at the same git repository: an empty one made for
/// this, that you can both reach (over ssh, https, or a shared folder). Each
/// `safe sync` sends your new entries and brings in your partner's; edits
/// and deletions end up the same on both sides, whoever syncs first.
///
/// What is shared: your entries (their notes only if you shared them), your
/// name, the practices you added and your goals. What never is: entries
/// logged with --private, notes you did not share, your settings.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  safe sync --remote git@example.org:us/journal.git    # once, on each machine\n  safe sync\n  safe sync --status"
)]
pub struct SyncArgs {
    /// Set or replace the remote (ssh, https, file:// or a path), then sync.
    #[arg(long, value_name = "URL", conflicts_with = "status")]
    pub remote: Option<String>,
    /// Show the remote, the last sync and what waits to be shared, without syncing.
    #[arg(long)]
    pub status: bool,
    /// With --status: fetch from the remote first, to see what waits for you.
    #[arg(long, requires = "status")]
    pub fetch: bool,
}

pub fn cmd_sync(ctx: &mut Context<'_>, args: SyncArgs) -> Result<()> {
    if args.status {
        return show_status(ctx, args.fetch);
    }
    // libgit2 starts on another thread while the session loads.
    let _git = GitStart::begin();
    let mut session = ctx.light_session()?;
    let Some(remote) = &args.remote else {
        return sync_now(ctx, &mut session, false).map(|_| ());
    };
    // Saved before syncing, so that after a network failure a plain
    // `safe sync` retries with it, unless it replaced a remote that
    // worked: a mistyped new address must not lose the old one.
    let old = session.config.remote.clone();
    let new = normalize_remote(remote)?;
    session.config.remote = Some(new.clone());
    save_settings(ctx, &session)?;
    match sync_now(ctx, &mut session, false) {
        Ok(_) => Ok(()),
        Err(err) => match old.filter(|old| *old != new) {
            Some(old) => {
                session.config.remote = Some(old.clone());
                save_settings(ctx, &session)?;
                Err(err.with_hint(format!(
                    "safe kept your remote {}; check the new address and run `safe sync --remote` again",
                    display_url(&old)
                )))
            }
            None => Err(err),
        },
    }
}

fn save_settings(ctx: &Context<'_>, session: &Session) -> Result<()> {
    let mut batch = session.lock.batch();
    ctx.dir.write_config(&session.config, &mut batch)?;
    batch.commit()
}

/// Used by `safe sync` and by `auto_sync` after a change; `quiet` prints
/// nothing on success.
pub fn sync_now(ctx: &mut Context<'_>, session: &mut Session, quiet: bool) -> Result<SyncReport> {
    let Some(remote) = session.config.remote.clone() else {
        return Err(Error::input("no sync remote is set").with_hint(
            "point safe at a git repository you and your partner can both reach: \
             `safe sync --remote <URL>`, e.g. `safe sync --remote git@example.org:us/journal.git`",
        ));
    };
    // libgit2 starts on another thread while the sync's first work, which
    // needs no git, goes on (a second start, after `cmd_sync`'s, is free).
    let _git = GitStart::begin();
    // What changed before the sync (a refresh, my own write) is not news.
    session.journal.take_changed()?;
    let report = sync_and_mark_seen(ctx, session, &remote, quiet)?;
    let problems = report.problems;
    let me = session.journal.me().unwrap_or_default().to_string();
    // Entries of others that are new here or have a newer version; when
    // the index was made again meanwhile, the lines that came instead.
    let received = match session.journal.take_changed()? {
        Some(changed) => changed
            .iter()
            .filter(|((owner, _), live)| **live && *owner != me)
            .count(),
        None => report
            .received
            .iter()
            .filter(|(person, _)| **person != me)
            .map(|(_, n)| usize::try_from(*n).unwrap_or(usize::MAX))
            .sum(),
    };
    if report.changed {
        session.reread()?;
    }
    session.config.last_sync = Some(ctx.now);
    save_settings(ctx, session)?;
    let report = SyncReport {
        remote: report.remote,
        received,
        sent: usize::try_from(report.sent).unwrap_or(usize::MAX),
        partners: session
            .view
            .state
            .names
            .iter()
            .filter(|(id, _)| **id != session.view.me)
            .map(|(_, name)| name.clone())
            .collect(),
        changed: report.changed,
    };
    if !quiet {
        writeln!(ctx.out, "{}", describe(&report))?;
        if report.partners.is_empty() {
            writeln!(
                ctx.out,
                "Your partner joins with `safe invite` here and `safe join` there."
            )?;
        }
    }
    // What was refused is said after everything else was done: the sync
    // carried on with the rest, and exits 1.
    let mut refused: Vec<String> = problems.iter().map(|e| e.message().to_string()).collect();
    refused.extend(said_by_journal(session));
    if !refused.is_empty() {
        let _ = ctx.out.flush();
        for problem in &refused {
            eprintln!("safe: refused: {}", sanitize_line(problem));
        }
        return Err(Error::runtime(format!(
            "the sync refused {} of the remote; everything else was synced",
            match refused.len() {
                1 => "one thing".to_string(),
                n => format!("{n} things"),
            }
        ))
        .with_hint(
            "nothing of yours was changed by it; if it is your partner's log, ask them to run \
             `safe sync`, and if it keeps coming back, someone else may be writing to the remote",
        ));
    }
    Ok(report)
}

/// Sync the logs; then, after the first sync of the day that worked, write
/// this device's `seen` line (what it holds now) and sync once more to send
/// it (docs/protocol.md "Seen marks"). A failed sync writes no line, so it
/// changes nothing here. The line alone is no news: it is not counted as
/// sent, and a failure to send it is only a warning (the next sync does).
fn sync_and_mark_seen(
    ctx: &mut Context<'_>,
    session: &mut Session,
    remote: &str,
    quiet: bool,
) -> Result<crate::sync::logs::LogSyncReport> {
    let root = ctx.dir.root();
    let journal = &mut session.journal;
    let mut report =
        crate::sync::logs::sync_logs(root, remote, journal, ctx.wall_ms(), &session.lock)?;
    // A sync that refused something (a fork of this very log among them)
    // marks nothing: the mark says what this device holds, verified.
    let offset = *ctx.now.offset();
    if !report.problems.is_empty()
        || !journal.mark_seen(ctx.wall_ms(), ctx.today, offset, &session.lock)?
    {
        return Ok(report);
    }
    match crate::sync::logs::sync_logs(root, remote, journal, ctx.wall_ms(), &session.lock) {
        Ok(more) => {
            let sent = more.sent.saturating_sub(1);
            report.changed |= sent > 0 || more.received_total() > 0;
            report.sent += sent;
            for (person, lines) in more.received {
                *report.received.entry(person).or_default() += lines;
            }
            report.problems.extend(more.problems);
        }
        Err(err) if !quiet => eprintln!(
            "safe: warning: today's seen mark was not sent, the next sync sends it: {}",
            sanitize_line(err.message())
        ),
        Err(_) => {}
    }
    Ok(report)
}

/// The journal's own report after a sync (damaged logs, devices nobody
/// paired, pairing lines not followed), naming whose each is.
fn said_by_journal(session: &Session) -> Vec<String> {
    let report = session.report();
    let whose = |person: &str| session.whose(person);
    let mut out = Vec::new();
    for q in &report.quarantined {
        out.push(format!(
            "{} log (device {}) is used only up to {}{}: {}",
            whose(&q.person),
            short_device(q.device.as_str()),
            q.path.display(),
            q.line.map(|l| format!(" line {l}")).unwrap_or_default(),
            q.why
        ));
    }
    for s in &report.strangers {
        out.push(format!(
            "a log of device {} that no pairing trusts is not read ({}): a key that appeared outside pairing",
            short_device(s.device.as_str()),
            s.path.display()
        ));
    }
    out.extend(withheld(session));
    for r in &report.refused {
        // Say whose log holds the line, as for the rest.
        match session.journal.roster().person(&r.by) {
            Some(person) => out.push(format!("{} log: {r}", whose(person))),
            None => out.push(r.to_string()),
        }
    }
    out
}

/// Logs my partner's (or my other device's) daily `seen` line proves they
/// held further than the remote gave them to me.
fn withheld(session: &Session) -> Vec<String> {
    let whose = |person: &str| session.whose(person);
    let found = session.journal.withheld().unwrap_or_default();
    found
        .iter()
        .map(|w| {
            let day = chrono::DateTime::from_timestamp_millis(w.at_ms as i64)
                .map(|at| at.date_naive().to_string())
                .unwrap_or_default();
            format!(
                "the remote withholds part of {} log (device {}): {} device {} held it up to \
                 line {} on {day}, but this device got it only up to line {} from the remote",
                whose(&w.owner),
                short_device(w.log.as_str()),
                whose(&w.by),
                short_device(w.by_device.as_str()),
                w.seq,
                w.held
            )
        })
        .collect()
}

fn short_device(device: &str) -> &str {
    &device[..device.len().min(12)]
}

/// One friendly line about a sync.
pub fn describe(report: &SyncReport) -> String {
    if !report.changed {
        return "Already in sync.".to_string();
    }
    let entries = |n: usize| {
        if n == 1 {
            "1 entry".to_string()
        } else {
            format!("{n} entries")
        }
    };
    let names: Vec<String> = report
        .partners
        .iter()
        .map(|n| sanitize_line(n).into_owned())
        .collect();
    let received = match (report.received, names.is_empty()) {
        (0, _) => None,
        (n, true) => Some(format!("received {}", entries(n))),
        (n, false) => Some(format!(
            "received {} from {}",
            entries(n),
            names.join(" and ")
        )),
    };
    // What was sent is counted in lines of the log: an entry, a name, a
    // goal, an undo each are one.
    let sent = match report.sent {
        0 => None,
        1 => Some("sent 1 change".to_string()),
        n => Some(format!("sent {n} changes")),
    };
    let what = match (received, sent) {
        (Some(r), Some(s)) => format!("{r}, {s}"),
        (Some(one), None) | (None, Some(one)) => one,
        (None, None) => "names, practices and goals brought up to date".to_string(),
    };
    format!("Synced with {}: {what}.", sanitize_line(&report.remote))
}

fn show_status(ctx: &mut Context<'_>, fetch: bool) -> Result<()> {
    let (_, config) = ctx.view()?;
    let has_journal = Identity::read(ctx.dir.root())?.is_some();
    if fetch && (config.remote.is_none() || !has_journal) {
        return Err(
            Error::input("--fetch needs a journal and a sync remote to look at").with_hint(
                "set the remote with `safe sync --remote <URL>` (or pair with `safe join`), \
                 then `safe sync --status --fetch`",
            ),
        );
    }
    // Fetched first: an unreachable remote fails before anything is said.
    let lock = ctx.dir.lock()?;
    let opened = match (&config.remote, has_journal) {
        (Some(remote), true) => {
            let journal = Journal::open(ctx.dir.root(), ctx.wall_ms(), &lock)?;
            let waiting = match fetch {
                true => Some(crate::sync::logs::waiting(
                    ctx.dir.root(),
                    remote,
                    &journal,
                    &lock,
                )?),
                false => None,
            };
            Some((remote.clone(), journal, waiting))
        }
        _ => None,
    };
    let out = &mut *ctx.out;
    match &config.remote {
        Some(remote) => writeln!(out, "Remote: {}", sanitize_line(&display_url(remote)))?,
        None => writeln!(
            out,
            "Remote: none yet (set one with `safe sync --remote <URL>`)"
        )?,
    }
    match config.last_sync {
        Some(when) => writeln!(out, "Last sync: {}", when.format("%Y-%m-%d %H:%M %:z"))?,
        None => writeln!(out, "Last sync: never")?,
    }
    let Some((remote, journal, waiting)) = opened else {
        return Ok(());
    };
    let remote = &remote;
    let couple = crate::journal::pair::couple(&journal).ok();
    let out = &mut *ctx.out;
    match crate::sync::logs::sealed_to(ctx.dir.root(), remote, &journal, &lock)? {
        Some((epoch, devices)) => {
            let named: Vec<String> = devices
                .iter()
                .map(|d| {
                    let whose = if *d == journal.identity().device {
                        "this device".to_string()
                    } else if journal.roster().person(d) == journal.me() {
                        "yours".to_string()
                    } else {
                        let name = couple.as_ref().and_then(|c| c.partner.name.clone());
                        format!(
                            "{}'s",
                            sanitize_line(name.as_deref().unwrap_or("your partner"))
                        )
                    };
                    format!("{} ({whose})", crate::journal::pair::short(d))
                })
                .collect();
            writeln!(
                out,
                "Sealed to {} devices (epoch {epoch}): {}",
                devices.len(),
                named.join(", ")
            )?;
        }
        None => writeln!(
            out,
            "Sealed to: nothing yet (the next `safe sync` seals the journal for the remote)"
        )?,
    }
    if let Some(couple) = couple {
        writeln!(
            out,
            "Safety number (compare in person, as `safe partner show` says):\n  {}",
            crate::keys::safety::display(&couple.safety_number).replace('\n', "\n  ")
        )?;
    }
    if let Some(waiting) = waiting {
        write_waiting(ctx, &journal, &waiting)?;
    }
    Ok(())
}

/// What `--fetch` found: what waits at the remote for this device, what
/// waits here for the remote, and what a sync would refuse.
fn write_waiting(
    ctx: &mut Context<'_>,
    journal: &Journal,
    waiting: &crate::sync::logs::Waiting,
) -> Result<()> {
    let out = &mut *ctx.out;
    let remote = sanitize_line(&waiting.remote);
    let from: Vec<String> = waiting
        .from
        .iter()
        .map(|(person, lines)| {
            let whose = match journal.me() == Some(person.as_str()) {
                true => "your other devices".to_string(),
                false => name_of(journal, person),
            };
            let what = match (lines.entries, lines.other) {
                (0, 1) => "1 other change".to_string(),
                (0, n) => format!("{n} other changes"),
                (1, _) => "1 entry".to_string(),
                (n, _) => format!("{n} entries"),
            };
            format!("{what} from {whose}")
        })
        .collect();
    let one = from.len() == 1
        && waiting
            .from
            .values()
            .all(|l| l.entries == 1 || (l.entries == 0 && l.other == 1));
    match (from.is_empty(), one) {
        (true, _) => writeln!(out, "Fetched {remote}: nothing new waits for you there.")?,
        (false, true) => writeln!(
            out,
            "Fetched {remote}: {} waits there; `safe sync` takes it.",
            from[0]
        )?,
        (false, false) => writeln!(
            out,
            "Fetched {remote}: {} wait there; `safe sync` takes them.",
            from.join(" and ")
        )?,
    }
    match waiting.to_send {
        0 => {}
        1 => writeln!(out, "1 change of yours is not at the remote yet.")?,
        n => writeln!(out, "{n} changes of yours are not at the remote yet.")?,
    }
    let _ = out.flush();
    for problem in &waiting.problems {
        eprintln!("safe: warning: {}", sanitize_line(problem.message()));
    }
    Ok(())
}

/// A person's name as the journal holds it (untrusted: sanitised).
fn name_of(journal: &Journal, person: &str) -> String {
    journal
        .registers()
        .ok()
        .and_then(|r| r.names.get(person).cloned())
        .map(|n| sanitize_line(&n).into_owned())
        .unwrap_or_else(|| "your partner".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(received: usize, sent: usize, partners: &[&str], changed: bool) -> SyncReport {
        SyncReport {
            remote: "git@example.org:us/j.git".into(),
            received,
            sent,
            partners: partners.iter().map(|p| p.to_string()).collect(),
            changed,
        }
    }

    #[test]
    fn one_friendly_line() {
        let cases = [
            (report(0, 0, &["Sam"], false), "Already in sync."),
            (
                report(3, 5, &["Sam"], true),
                "Synced with git@example.org:us/j.git: received 3 entries from Sam, sent 5 changes.",
            ),
            (
                report(1, 0, &["Sam"], true),
                "Synced with git@example.org:us/j.git: received 1 entry from Sam.",
            ),
            (
                report(0, 2, &[], true),
                "Synced with git@example.org:us/j.git: sent 2 changes.",
            ),
            (
                report(0, 0, &["Sam"], true),
                "Synced with git@example.org:us/j.git: names, practices and goals brought up to date.",
            ),
            (
                report(2, 0, &["S\u{1b}[31mam"], true),
                "Synced with git@example.org:us/j.git: received 2 entries from Sam.",
            ),
        ];
        for (report, line) in cases {
            assert_eq!(describe(&report), line);
        }
    }
}
