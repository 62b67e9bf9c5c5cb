//! Carrying a pairing through the shared remote (DESIGN.md §4 "Pairing",
//! docs/protocol.md "Pairing"). The two sides never talk directly: each
//! posts small messages as refs of the remote both reach and polls for the
//! other's, as magic-wormhole does through its server. `keys::pairing` makes
//! and checks the messages; this file carries them, and decides when a code
//! is spent.
//!
//! Every message is a ref of its own, `refs/safe/pair/<number>/<side>/<step>`,
//! created by a push that never forces, so a message is never overwritten:
//! a ref already there means someone else holds the invite number, or used
//! it. Only those refs are fetched, never the journal.
//!
//! A network remote goes through libgit2, which asks only for the refs a
//! refspec names and creates a ref only where the remote's `receive-pack`
//! still has none. A remote on this machine is opened directly, as a sync
//! does (`local`): libgit2's own local transport packs the objects of every
//! ref the remote has, whatever the refspec, so it would copy the journal.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use git2::{
    AutotagOption, ErrorCode, FetchOptions, ObjectType, Oid, PushOptions, Repository, Signature,
    Time,
};
use serde::{Deserialize, Serialize};

use super::local;
use super::repo::SyncRepo;
use super::transport::{Auth, auth_callbacks, classify, display_url};
use crate::error::Error;
use crate::keys::pairing::{Agreed, Exchange, INVITE_TTL_SECS, InviteCode, Offer, PairError, Side};
use crate::keys::{hex, unhex};

/// Where the messages of every pairing live in the remote.
const PAIR_ROOT: &str = "refs/safe/pair";
/// Where this side's copy of the remote's messages lands on each fetch.
const SEEN_ROOT: &str = "refs/safe/pair-seen";
/// The scratch ref a message is pushed from.
const OUTGOING: &str = "refs/safe/pair-outgoing";
/// The one file of a message's tree.
const BLOB_NAME: &str = "m";
/// Far above any honest message (an offer is under 1 KiB): a larger blob is
/// refused without being read.
const MAX_MESSAGE_BYTES: usize = 4096;
const VERSION: u8 = 1;
/// How long to wait for a ref another process is writing in a local
/// remote: 2 s in all.
const LOCK_TRIES: u32 = 40;
const LOCK_WAIT: Duration = Duration::from_millis(50);
/// Every pairing commit has this author, committer, time and message: the
/// remote learns no name and no time from them.
const COMMIT_NAME: &str = "safe";
const COMMIT_EMAIL: &str = "safe@safe.invalid";
const COMMIT_MESSAGE: &str = "safe\n";

/// How often a side looks for the other's next message, unless told.
pub const DEFAULT_POLL: Duration = Duration::from_secs(2);
/// How long a side waits for each message of the other, unless told.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// The end of every hint the transport gives for a failed sync, which does
/// not hold for a pairing, and what a pairing says instead.
const SYNC_HINT_END: &str = "your changes are saved, and the next `safe sync` sends them";
const PAIR_HINT_END: &str =
    "nothing was paired: once this is fixed, run `safe invite` again for a new code";

/// One side's way to the remote for pairing, through a local bare git
/// directory (a data directory's `sync.git`) that receives only pairing
/// refs, and drops them when a pairing ends.
pub struct Rendezvous {
    git: Repository,
    url: String,
    /// `url` without a password, for messages.
    shown: String,
    /// Set for a remote on this machine.
    local: Option<PathBuf>,
    poll: Duration,
    timeout: Duration,
    /// Unix seconds now: the time written into messages and checked against
    /// `INVITE_TTL_SECS`.
    clock: Box<dyn Fn() -> u64 + Send>,
}

impl Rendezvous {
    /// Reach `remote_url` through the bare repository at `local_git_dir`,
    /// made if it does not exist yet.
    pub fn new(local_git_dir: &Path, remote_url: &str) -> crate::error::Result<Self> {
        let SyncRepo { git } = SyncRepo::open_or_init(local_git_dir)?;
        Ok(Rendezvous {
            git,
            url: remote_url.to_string(),
            shown: display_url(remote_url),
            local: local::path_of(remote_url),
            poll: DEFAULT_POLL,
            timeout: DEFAULT_TIMEOUT,
            clock: Box::new(unix_now),
        })
    }

    /// Look for the other side's next message `every` so often, and give up
    /// on it after `timeout`.
    pub fn polling(mut self, every: Duration, timeout: Duration) -> Self {
        self.poll = every;
        self.timeout = timeout;
        self
    }

    /// Take "now" (Unix seconds) from `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: impl Fn() -> u64 + Send + 'static) -> Self {
        self.clock = Box::new(clock);
        self
    }

    /// Invite with `code`: post the first message, wait for a joiner, and
    /// return its offer once the code is confirmed and the offer verified.
    /// `my_offer` is made only after confirmation. `wait` sleeps for the
    /// time it is given between looks at the remote; `false` cancels.
    pub fn invite(
        &self,
        code: &InviteCode,
        my_offer: impl FnOnce() -> Offer,
        wait: &dyn Fn(Duration) -> bool,
    ) -> Result<Offer, RendezvousError> {
        let mut run = Run::new(self, code.number, Side::Inviter, wait);
        let result = run.invite(code, my_offer);
        run.conclude(result)
    }

    /// Join the invitation `code` names, and return the inviter's verified
    /// offer once the inviter holds `my_offer`.
    pub fn join(
        &self,
        code: &InviteCode,
        my_offer: &Offer,
        wait: &dyn Fn(Duration) -> bool,
    ) -> Result<Offer, RendezvousError> {
        let mut run = Run::new(self, code.number, Side::Joiner, wait);
        let result = run.join(code, my_offer);
        run.conclude(result)
    }

    /// The remote's messages for `number`, fetched afresh: only the refs
    /// under that number, never `main`.
    fn fetch(&self, number: u16) -> Result<Board, Error> {
        match &self.local {
            Some(path) => self.fetch_local(path, number),
            None => self.fetch_network(number),
        }
    }

    /// Create `refname` in the remote at `commit`, never forcing.
    fn push_new(&self, commit: Oid, refname: &str) -> Result<Created, Error> {
        match &self.local {
            Some(path) => self.push_new_local(path, commit, refname),
            None => self.push_new_network(commit, refname),
        }
    }

    /// Delete each ref that still points at the commit this side posted.
    fn remove(&self, mine: &[(String, Oid)]) -> Result<(), Error> {
        match &self.local {
            Some(path) => self.remove_local(path, mine),
            None => {
                let specs: Vec<String> = mine.iter().map(|(name, _)| format!(":{name}")).collect();
                self.push(&specs).map(|_| ())
            }
        }
    }

    fn fetch_network(&self, number: u16) -> Result<Board, Error> {
        self.forget_seen()?;
        let auth = RefCell::new(Auth::new(&self.git));
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(auth_callbacks(&auth))
            .download_tags(AutotagOption::None)
            .update_fetchhead(false);
        let spec = format!("+{PAIR_ROOT}/{number}/*:{SEEN_ROOT}/{number}/*");
        self.git
            .remote_anonymous(&self.url)
            .and_then(|mut remote| remote.fetch(&[spec], Some(&mut options), Some("safe pair")))
            .map_err(|e| self.remote_error(e, &auth.borrow()))?;
        let prefix = format!("{SEEN_ROOT}/{number}/");
        Ok(Board {
            refs: refs_under(&self.git, &prefix).map_err(|e| self.local_error(e))?,
        })
    }

    fn push_new_network(&self, commit: Oid, refname: &str) -> Result<Created, Error> {
        self.git
            .reference(OUTGOING, commit, true, "safe pair")
            .map_err(|e| self.local_error(e))?;
        let pushed = self.push(&[format!("{OUTGOING}:{refname}")]);
        if let Ok(mut outgoing) = self.git.find_reference(OUTGOING) {
            let _ = outgoing.delete();
        }
        pushed
    }

    /// Push `specs` without force.
    fn push(&self, specs: &[String]) -> Result<Created, Error> {
        let auth = RefCell::new(Auth::new(&self.git));
        let refused: RefCell<Option<String>> = RefCell::new(None);
        let outcome = {
            let mut callbacks = auth_callbacks(&auth);
            // `push()` returns Ok even when the remote refused an update;
            // only this callback tells.
            callbacks.push_update_reference(|_, status| {
                if let Some(status) = status {
                    *refused.borrow_mut() = Some(status.to_string());
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options.remote_callbacks(callbacks);
            self.git
                .remote_anonymous(&self.url)
                .and_then(|mut remote| remote.push(specs, Some(&mut options)))
        };
        match outcome {
            // libgit2 refuses itself to replace a ref the remote advertised.
            Err(e) if e.code() == ErrorCode::NotFastForward => Ok(Created::Exists),
            Err(e) => Err(self.remote_error(e, &auth.borrow())),
            Ok(()) => Ok(match refused.into_inner() {
                Some(why) => Created::Refused(why),
                None => Created::Yes,
            }),
        }
    }

    fn open_local(&self, path: &Path) -> Result<Repository, Error> {
        local::open(path).map_err(|e| self.remote_error(e, &Auth::new(&self.git)))
    }

    /// Copy the objects of each message under `number` straight from the
    /// remote's object store.
    fn fetch_local(&self, path: &Path, number: u16) -> Result<Board, Error> {
        let remote = self.open_local(path)?;
        let refs = refs_under(&remote, &format!("{PAIR_ROOT}/{number}/"))
            .map_err(|e| self.remote_error(e, &Auth::new(&self.git)))?;
        for oid in refs.values() {
            // Only a commit can be a message; anything else stays behind,
            // and reads as a damaged message.
            if remote.find_commit(*oid).is_ok() {
                local::copy_reachable(
                    &remote,
                    &self.git,
                    *oid,
                    &self.shown,
                    local::CopyRules::MONTHS,
                )
                .map_err(|e| self.copy_error(e))?;
            }
        }
        Ok(Board { refs })
    }

    fn push_new_local(&self, path: &Path, commit: Oid, refname: &str) -> Result<Created, Error> {
        let remote = self.open_local(path)?;
        local::copy_reachable(
            &self.git,
            &remote,
            commit,
            &self.shown,
            local::CopyRules::MONTHS,
        )
        .map_err(|e| self.copy_error(e))?;
        let mut tries = 0;
        loop {
            match remote.reference(refname, commit, false, "safe pair") {
                Ok(_) => return Ok(Created::Yes),
                Err(e) if e.code() == ErrorCode::Exists => return Ok(Created::Exists),
                // Someone else is writing that very ref: wait for the outcome.
                Err(e) if e.code() == ErrorCode::Locked && tries < LOCK_TRIES => {
                    tries += 1;
                    std::thread::sleep(LOCK_WAIT);
                }
                Err(e) => return Err(self.remote_error(e, &Auth::new(&self.git))),
            }
        }
    }

    fn remove_local(&self, path: &Path, mine: &[(String, Oid)]) -> Result<(), Error> {
        let remote = self.open_local(path)?;
        for (name, oid) in mine {
            if let Ok(mut reference) = remote.find_reference(name)
                && reference.target() == Some(*oid)
            {
                reference
                    .delete()
                    .map_err(|e| self.remote_error(e, &Auth::new(&self.git)))?;
            }
        }
        Ok(())
    }

    /// The remote refused to create a message's ref that it does not hold.
    fn refused(&self, why: &str) -> Error {
        Error::runtime(format!("{} refused a pairing message: {why}", self.shown)).with_hint(
            "safe pairs through refs under refs/safe/pair/ of the remote: check that you may push to it, and that \
             it accepts refs that are not branches",
        )
    }

    fn copy_error(&self, err: local::CopyError) -> Error {
        match err {
            local::CopyError::Git(e) => self.remote_error(e, &Auth::new(&self.git)),
            local::CopyError::Data(e) => e,
        }
    }

    /// A commit of one blob, `m`, holding `message`.
    fn write_message(&self, message: &Message) -> Result<Oid, Error> {
        let bytes = serde_json::to_vec(message).expect("a message serialises");
        let write = || -> Result<Oid, git2::Error> {
            let blob = self.git.blob(&bytes)?;
            let mut tree = self.git.treebuilder(None)?;
            tree.insert(BLOB_NAME, blob, 0o100644)?;
            let tree = self.git.find_tree(tree.write()?)?;
            let who = Signature::new(COMMIT_NAME, COMMIT_EMAIL, &Time::new(0, 0))?;
            self.git
                .commit(None, &who, &who, COMMIT_MESSAGE, &tree, &[])
        };
        write().map_err(|e| self.local_error(e))
    }

    /// The message `oid` holds, if it is one, written by `side` for `step`.
    /// Anything else (another shape, a large blob, a message moved from
    /// another ref) is `None`.
    fn read(&self, oid: Oid, side: Side, step: Step) -> Option<Message> {
        let tree = self.git.find_commit(oid).ok()?.tree().ok()?;
        let entry = tree.get_name(BLOB_NAME)?;
        if tree.len() != 1 || entry.kind() != Some(ObjectType::Blob) || entry.filemode() != 0o100644
        {
            return None;
        }
        let (size, _) = self.git.odb().ok()?.read_header(entry.id()).ok()?;
        if size > MAX_MESSAGE_BYTES {
            return None;
        }
        let blob = self.git.find_blob(entry.id()).ok()?;
        let message: Message = serde_json::from_slice(blob.content()).ok()?;
        (message.v == VERSION && message.side == side && message.step == step).then_some(message)
    }

    /// Drop this side's copies of the remote's pairing refs.
    fn forget_seen(&self) -> Result<(), Error> {
        let seen =
            refs_under(&self.git, &format!("{SEEN_ROOT}/")).map_err(|e| self.local_error(e))?;
        for rest in seen.keys() {
            let name = format!("{SEEN_ROOT}/{rest}");
            if let Ok(mut reference) = self.git.find_reference(&name) {
                reference.delete().map_err(|e| self.local_error(e))?;
            }
        }
        Ok(())
    }

    fn now(&self) -> u64 {
        (self.clock)()
    }

    /// The transport's message for a failure, with a hint for pairing.
    fn remote_error(&self, err: git2::Error, auth: &Auth<'_>) -> Error {
        let error = classify(&err, &self.shown, auth);
        match error
            .hint()
            .map(|h| h.replace(SYNC_HINT_END, PAIR_HINT_END))
        {
            Some(hint) => error.with_hint(hint),
            None => error,
        }
    }

    fn local_error(&self, err: git2::Error) -> Error {
        Error::runtime(format!(
            "could not use {} for pairing: {}",
            self.git.path().display(),
            err.message()
        ))
        .with_source(err)
    }
}

/// The refs of `git` whose names start with `prefix`, by the rest of
/// their names.
fn refs_under(git: &Repository, prefix: &str) -> Result<BTreeMap<String, Oid>, git2::Error> {
    let mut refs = BTreeMap::new();
    for reference in git.references_glob(&format!("{prefix}*"))? {
        let reference = reference?;
        if let (Some(rest), Some(oid)) = (
            reference.name().and_then(|n| n.strip_prefix(prefix)),
            reference.target(),
        ) {
            refs.insert(rest.to_string(), oid);
        }
    }
    Ok(refs)
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// What came of creating a ref in the remote.
enum Created {
    Yes,
    /// The remote holds that ref already.
    Exists,
    /// The remote refused, for the reason it gave.
    Refused(String),
}

/// The messages of a pairing, in the order they are sent; `Burn` marks a
/// code spent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Step {
    Spake,
    Confirm,
    Offer,
    Burn,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::Spake => "spake",
            Step::Confirm => "confirm",
            Step::Offer => "offer",
            Step::Burn => "burn",
        }
    }

    /// What an unreadable message of the other side at this step counts as.
    fn unreadable(self) -> PairError {
        match self {
            Step::Spake | Step::Burn => PairError::Malformed,
            Step::Confirm => PairError::WrongCode,
            Step::Offer => PairError::BadOffer,
        }
    }
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Inviter => "inviter",
        Side::Joiner => "joiner",
    }
}

fn other(side: Side) -> Side {
    match side {
        Side::Inviter => Side::Joiner,
        Side::Joiner => Side::Inviter,
    }
}

/// The content of a message's blob. `created` is the writer's clock: the
/// remote's own times are never trusted.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    v: u8,
    side: Side,
    step: Step,
    /// Unix seconds.
    created: u64,
    /// The message bytes, hex.
    data: String,
}

/// Why a side burned the code, as its burn message says. Nobody
/// authenticates a burn (anyone who may push can write one, as anyone can
/// delete refs): the reason only words the other side's error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BurnReason {
    WrongCode,
    BadOffer,
    Malformed,
    Expired,
    Stopped,
}

impl BurnReason {
    const ALL: [BurnReason; 5] = [
        BurnReason::WrongCode,
        BurnReason::BadOffer,
        BurnReason::Malformed,
        BurnReason::Expired,
        BurnReason::Stopped,
    ];

    fn word(self) -> &'static str {
        match self {
            BurnReason::WrongCode => "wrong-code",
            BurnReason::BadOffer => "bad-offer",
            BurnReason::Malformed => "malformed",
            BurnReason::Expired => "expired",
            BurnReason::Stopped => "stopped",
        }
    }

    fn parse(bytes: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.word().as_bytes() == bytes)
    }

    /// The error of the side that sees this burn.
    fn error(self) -> RendezvousError {
        match self {
            BurnReason::WrongCode => RendezvousError::Pair(PairError::WrongCode),
            BurnReason::BadOffer => RendezvousError::Pair(PairError::BadOffer),
            BurnReason::Malformed => RendezvousError::Pair(PairError::Malformed),
            BurnReason::Expired => RendezvousError::UsedOrExpired,
            BurnReason::Stopped => RendezvousError::OtherSideStopped,
        }
    }
}

/// The remote's pairing refs for one number, by `<side>/<step>`.
struct Board {
    refs: BTreeMap<String, Oid>,
}

impl Board {
    fn get(&self, side: Side, step: Step) -> Option<Oid> {
        self.refs
            .get(&format!("{}/{}", side_name(side), step.name()))
            .copied()
    }

    fn burn(&self) -> Option<(Side, Oid)> {
        [Side::Inviter, Side::Joiner]
            .into_iter()
            .find_map(|side| self.get(side, Step::Burn).map(|oid| (side, oid)))
    }
}

/// One pairing by one side: what it posted, so that it can take it back.
struct Run<'r> {
    rv: &'r Rendezvous,
    number: u16,
    me: Side,
    wait: &'r dyn Fn(Duration) -> bool,
    /// Steps posted, in order, with their commits.
    posted: Vec<(Step, Oid)>,
    /// When the inviter posted its first message, once known.
    first: Option<u64>,
    /// Both SPAKE2 messages are out: from here on, any failure burns.
    exchanged: bool,
    /// A burn is in the remote already.
    saw_burn: bool,
}

impl<'r> Run<'r> {
    fn new(rv: &'r Rendezvous, number: u16, me: Side, wait: &'r dyn Fn(Duration) -> bool) -> Self {
        Run {
            rv,
            number,
            me,
            wait,
            posted: Vec::new(),
            first: None,
            exchanged: false,
            saw_burn: false,
        }
    }

    fn invite(
        &mut self,
        code: &InviteCode,
        my_offer: impl FnOnce() -> Offer,
    ) -> Result<Offer, RendezvousError> {
        let board = self.fetch()?;
        self.check(&board)?;
        if !board.refs.is_empty() {
            return Err(RendezvousError::Taken {
                number: self.number,
            });
        }
        let (exchange, spake) = Exchange::start(code, Side::Inviter);
        self.post(Step::Spake, &spake)?;
        let theirs = self.await_theirs(Step::Spake)?;
        self.exchanged = true;
        let agreed = exchange.finish(&theirs)?;
        self.confirm(&agreed)?;
        self.post(Step::Offer, agreed.seal_offer(&my_offer()).as_bytes())?;
        let sealed = self.await_theirs(Step::Offer)?;
        Ok(agreed.open_offer(&text(sealed, Step::Offer)?)?)
    }

    /// The joiner reads the inviter's offer before it sends its own, and
    /// waits for the inviter to take its messages back before it takes its
    /// own: so neither side removes a message the other has not read.
    fn join(&mut self, code: &InviteCode, my_offer: &Offer) -> Result<Offer, RendezvousError> {
        let theirs = self.await_theirs(Step::Spake)?;
        let (exchange, spake) = Exchange::start(code, Side::Joiner);
        self.post(Step::Spake, &spake)?;
        self.exchanged = true;
        let agreed = exchange.finish(&theirs)?;
        self.confirm(&agreed)?;
        let sealed = self.await_theirs(Step::Offer)?;
        let offer = agreed.open_offer(&text(sealed, Step::Offer)?)?;
        self.post(Step::Offer, agreed.seal_offer(my_offer).as_bytes())?;
        self.await_inviter_done()?;
        Ok(offer)
    }

    /// Both sides post their confirmation at once, then check the other's.
    fn confirm(&mut self, agreed: &Agreed) -> Result<(), RendezvousError> {
        self.post(Step::Confirm, agreed.confirmation().as_bytes())?;
        let theirs = self.await_theirs(Step::Confirm)?;
        agreed.check_confirmation(&text(theirs, Step::Confirm)?)?;
        Ok(())
    }

    /// Burn the code if this run spent it, take back what this side posted
    /// (a burn stays), and drop the local copies of the remote's refs. What
    /// fails here is left: the result is what the caller needs to hear.
    fn conclude<T>(mut self, result: Result<T, RendezvousError>) -> Result<T, RendezvousError> {
        if let Err(err) = &result
            && let Some(reason) = self.burn_reason(err)
        {
            let _ = self.post(Step::Burn, reason.word().as_bytes());
        }
        let mine: Vec<(String, Oid)> = self
            .posted
            .iter()
            .filter(|(step, _)| *step != Step::Burn)
            .map(|(step, oid)| (self.refname(self.me, *step), *oid))
            .collect();
        if !mine.is_empty() {
            let _ = self.rv.remove(&mine);
        }
        let _ = self.rv.forget_seen();
        result
    }

    fn burn_reason(&self, err: &RendezvousError) -> Option<BurnReason> {
        if self.saw_burn {
            return None;
        }
        match err {
            RendezvousError::Pair(PairError::WrongCode) => Some(BurnReason::WrongCode),
            RendezvousError::Pair(PairError::BadOffer) => Some(BurnReason::BadOffer),
            RendezvousError::Pair(PairError::Malformed) => Some(BurnReason::Malformed),
            // With no burn in the remote, only this side's own clock says so.
            RendezvousError::UsedOrExpired => Some(BurnReason::Expired),
            _ if self.exchanged => Some(BurnReason::Stopped),
            _ => None,
        }
    }

    fn refname(&self, side: Side, step: Step) -> String {
        format!(
            "{PAIR_ROOT}/{}/{}/{}",
            self.number,
            side_name(side),
            step.name()
        )
    }

    fn fetch(&self) -> Result<Board, RendezvousError> {
        self.rv.fetch(self.number).map_err(RendezvousError::Git)
    }

    /// Post this side's message for `step`, never over one already there.
    fn post(&mut self, step: Step, data: &[u8]) -> Result<(), RendezvousError> {
        let created = self.rv.now();
        let message = Message {
            v: VERSION,
            side: self.me,
            step,
            created,
            data: hex(data),
        };
        let commit = self.rv.write_message(&message)?;
        let taken = RendezvousError::Taken {
            number: self.number,
        };
        match self.rv.push_new(commit, &self.refname(self.me, step))? {
            Created::Yes => {}
            Created::Exists => return Err(taken),
            // A server refuses a ref that appeared since it advertised its
            // refs, and may refuse refs outside branches: only the first
            // means the number is taken.
            Created::Refused(why) => {
                return Err(match self.fetch()?.get(self.me, step) {
                    Some(_) => taken,
                    None => RendezvousError::Git(self.rv.refused(&why)),
                });
            }
        }
        self.posted.push((step, commit));
        if (self.me, step) == (Side::Inviter, Step::Spake) {
            self.first = Some(created);
        }
        Ok(())
    }

    /// Wait for the other side's message for `step`, and return its bytes.
    fn await_theirs(&mut self, step: Step) -> Result<Vec<u8>, RendezvousError> {
        let them = other(self.me);
        let deadline = Instant::now() + self.rv.timeout;
        loop {
            let board = self.fetch()?;
            self.check(&board)?;
            if let Some(oid) = board.get(them, step) {
                let message = self.rv.read(oid, them, step);
                if let (Some(message), Side::Inviter, Step::Spake) = (&message, them, step) {
                    self.first = Some(message.created);
                    self.check_age()?;
                }
                return message
                    .and_then(|m| unhex(&m.data))
                    .ok_or(RendezvousError::Pair(step.unreadable()));
            }
            self.pause(deadline, step)?;
        }
    }

    /// The inviter takes its messages back only once it holds the joiner's
    /// offer, and burns the code before it takes anything back after a
    /// failure: its offer gone, with no burn, means it is done.
    fn await_inviter_done(&mut self) -> Result<(), RendezvousError> {
        let deadline = Instant::now() + self.rv.timeout;
        loop {
            let board = self.fetch()?;
            self.check(&board)?;
            if board.get(Side::Inviter, Step::Offer).is_none() {
                // One listing may miss the burn and the offer both, as it
                // reads refs one by one; a listing begun after the offer was
                // gone holds the burn that came before it.
                let board = self.fetch()?;
                return self.check(&board);
            }
            self.pause(deadline, Step::Offer)?;
        }
    }

    /// Stop on a burn, or on a code past its time.
    fn check(&mut self, board: &Board) -> Result<(), RendezvousError> {
        if let Some((side, oid)) = board.burn() {
            self.saw_burn = true;
            if !self.exchanged {
                return Err(RendezvousError::UsedOrExpired);
            }
            let reason = self
                .rv
                .read(oid, side, Step::Burn)
                .and_then(|m| unhex(&m.data))
                .and_then(|data| BurnReason::parse(&data));
            return Err(reason.unwrap_or(BurnReason::Stopped).error());
        }
        self.check_age()
    }

    fn check_age(&self) -> Result<(), RendezvousError> {
        match self.first {
            Some(first) if self.rv.now().saturating_sub(first) > INVITE_TTL_SECS => {
                Err(RendezvousError::UsedOrExpired)
            }
            _ => Ok(()),
        }
    }

    /// Wait one poll interval before looking again for `step`, or end.
    fn pause(&self, deadline: Instant, step: Step) -> Result<(), RendezvousError> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let waited = self.rv.timeout;
            return Err(match (self.me, step) {
                (Side::Inviter, Step::Spake) => RendezvousError::NobodyJoined { waited },
                (Side::Joiner, Step::Spake) => RendezvousError::NoInvitation {
                    number: self.number,
                },
                _ => RendezvousError::TimedOut { waited },
            });
        }
        if (self.wait)(self.rv.poll.min(left)) {
            Ok(())
        } else {
            Err(RendezvousError::Cancelled)
        }
    }
}

/// A confirmation or an offer is text.
fn text(bytes: Vec<u8>, step: Step) -> Result<String, RendezvousError> {
    String::from_utf8(bytes).map_err(|_| RendezvousError::Pair(step.unreadable()))
}

/// Why a pairing through the remote stopped.
#[derive(Debug)]
pub enum RendezvousError {
    /// The pairing itself failed: the codes differ, a message was damaged, or
    /// an offer did not verify. The code is burned.
    Pair(PairError),
    /// The code was burned by an earlier failure, or its invitation is more
    /// than 24 hours old.
    UsedOrExpired,
    /// The other side gave up (it timed out, was stopped, or failed) after
    /// the exchange began, and burned the code.
    OtherSideStopped,
    /// A message is already where this side's goes: someone else holds this
    /// invite number, or used it.
    Taken { number: u16 },
    /// No invitation with this number appeared in time.
    NoInvitation { number: u16 },
    /// Nobody joined the invitation in time.
    NobodyJoined { waited: Duration },
    /// The other side stopped answering halfway.
    TimedOut { waited: Duration },
    /// The caller's `wait` asked to stop.
    Cancelled,
    /// The remote or the local git directory failed; worded for a person.
    Git(Error),
}

impl From<PairError> for RendezvousError {
    fn from(err: PairError) -> Self {
        RendezvousError::Pair(err)
    }
}

impl From<Error> for RendezvousError {
    fn from(err: Error) -> Self {
        RendezvousError::Git(err)
    }
}

impl fmt::Display for RendezvousError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RendezvousError::Pair(err) => write!(f, "{err}"),
            RendezvousError::UsedOrExpired => f.write_str("this code was used or has expired"),
            RendezvousError::OtherSideStopped => {
                f.write_str("the other side stopped before the pairing was done")
            }
            RendezvousError::Taken { number } => write!(
                f,
                "invite number {number} is taken or was already used at the remote"
            ),
            RendezvousError::NoInvitation { number } => {
                write!(f, "no invitation number {number} is waiting at the remote")
            }
            RendezvousError::NobodyJoined { waited } => {
                write!(f, "nobody joined within {}", shown(*waited))
            }
            RendezvousError::TimedOut { waited } => {
                write!(f, "the other side did not answer within {}", shown(*waited))
            }
            RendezvousError::Cancelled => f.write_str("pairing was cancelled"),
            RendezvousError::Git(err) => write!(f, "{err}"),
        }
    }
}

impl std::error::Error for RendezvousError {}

fn shown(waited: Duration) -> humantime::FormattedDuration {
    humantime::format_duration(Duration::from_millis(
        u64::try_from(waited.as_millis()).unwrap_or(u64::MAX),
    ))
}

/// A message and a hint a person can act on.
impl From<RendezvousError> for Error {
    fn from(err: RendezvousError) -> Self {
        let again = "run `safe invite` again for a new code";
        let message = err.to_string();
        match err {
            RendezvousError::Git(err) => err,
            RendezvousError::Pair(PairError::WrongCode) => Error::input(message).with_hint(
                format!(
                    "the invite is burned on both sides and cannot be used again: {again}, \
                     and check each word as you type it"
                ),
            ),
            RendezvousError::Pair(_) | RendezvousError::OtherSideStopped => {
                Error::runtime(message).with_hint(format!("the code cannot be used again: {again}"))
            }
            RendezvousError::UsedOrExpired | RendezvousError::Taken { .. } => {
                Error::input(message).with_hint(again)
            }
            RendezvousError::NoInvitation { .. } => Error::input(message).with_hint(
                "check the remote's address and the code, and that `safe invite` is still waiting on the other device",
            ),
            RendezvousError::NobodyJoined { .. } | RendezvousError::TimedOut { .. } => {
                Error::runtime(message)
                    .with_hint(format!("nothing was paired: {again} when you are both ready"))
            }
            RendezvousError::Cancelled => Error::runtime(message),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{TcpListener, TcpStream};
    use std::path::PathBuf;
    use std::process::{Child, Command, Output, Stdio};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::thread;

    use tempfile::TempDir;

    use super::*;
    use crate::keys::DeviceId;

    /// Short enough for tests to run fast, long enough for a busy machine.
    const POLL: Duration = Duration::from_millis(10);
    const PATIENCE: Duration = Duration::from_secs(20);
    /// A fixed "now": 2027-01-15.
    const NOW: u64 = 1_800_000_000;
    const CODE: &str = "7-tulip-orbit-maple-river";

    fn sleep(d: Duration) -> bool {
        thread::sleep(d);
        true
    }

    fn code(text: &str) -> InviteCode {
        InviteCode::parse(text).unwrap()
    }

    fn git_output(dir: &Path, args: &[&str]) -> Output {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .output()
            .expect("git runs")
    }

    #[track_caller]
    fn git(dir: &Path, args: &[&str]) -> String {
        let out = git_output(dir, args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// Every object of a repository, loose or packed, reachable or not.
    fn all_objects(dir: &Path) -> Vec<u8> {
        git_output(dir, &["cat-file", "--batch-all-objects", "--batch"]).stdout
    }

    /// A bare repository both sides reach.
    struct Remote {
        dir: TempDir,
    }

    impl Remote {
        fn new() -> Self {
            let dir = tempfile::tempdir().unwrap();
            git(
                dir.path(),
                &[
                    "init",
                    "--quiet",
                    "--bare",
                    "--initial-branch=main",
                    "remote.git",
                ],
            );
            Remote { dir }
        }

        fn path(&self) -> PathBuf {
            self.dir.path().join("remote.git")
        }

        fn url(&self) -> String {
            self.path().display().to_string()
        }

        #[track_caller]
        fn git(&self, args: &[&str]) -> String {
            git(&self.path(), args)
        }

        /// The pairing refs the remote holds, by name.
        fn pair_refs(&self) -> Vec<String> {
            self.git(&["for-each-ref", "--format=%(refname)", PAIR_ROOT])
                .lines()
                .map(str::to_string)
                .collect()
        }

        /// Give the remote a `main`, as a journal would; its commit.
        fn commit_main(&self) -> String {
            let tree = self.git(&["mktree"]);
            let commit = self.git(&[
                "-c",
                "user.name=x",
                "-c",
                "user.email=x@example.invalid",
                "commit-tree",
                tree.trim(),
                "-m",
                "journal",
            ]);
            self.git(&["update-ref", "refs/heads/main", commit.trim()]);
            commit.trim().to_string()
        }

        fn rev_parse(&self, name: &str) -> Option<String> {
            let out = git_output(&self.path(), &["rev-parse", "--verify", "--quiet", name]);
            out.status
                .success()
                .then(|| String::from_utf8(out.stdout).unwrap().trim().to_string())
        }
    }

    /// One side, with its own local git directory.
    struct Device {
        dir: TempDir,
        rv: Rendezvous,
    }

    impl Device {
        fn new(url: &str) -> Self {
            let dir = tempfile::tempdir().unwrap();
            let rv = Rendezvous::new(&dir.path().join("sync.git"), url)
                .unwrap()
                .polling(POLL, PATIENCE)
                .with_clock(|| NOW);
            Device { dir, rv }
        }

        fn git_dir(&self) -> PathBuf {
            self.dir.path().join("sync.git")
        }

        /// Refs this side's git directory still holds for pairing.
        fn leftover_refs(&self) -> String {
            git(&self.git_dir(), &["for-each-ref", "refs/safe"])
        }
    }

    /// A device key's offer, and its secret to look for where it must not be.
    fn offer(side: Side) -> (Offer, [u8; 32]) {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).unwrap();
        let public = ed25519_dalek::SigningKey::from_bytes(&secret).verifying_key();
        let inviter = side == Side::Inviter;
        let offer = Offer {
            side,
            device: DeviceId::of(&public).to_string(),
            key: hex(public.as_bytes()),
            journal: inviter.then(|| "journal-1".to_string()),
            role: inviter.then(|| "partner".to_string()),
            root_key: inviter.then(|| hex(public.as_bytes())),
        };
        (offer, secret)
    }

    type Outcome = Result<Offer, RendezvousError>;

    /// Run an invitation and a join at once, each on its own thread.
    fn pair(
        inviter: &mut Device,
        joiner: &mut Device,
        codes: (&str, &str),
        offers: (Offer, Offer),
    ) -> (Outcome, Outcome) {
        let (inviter_code, joiner_code) = (code(codes.0), code(codes.1));
        let (inviter_offer, joiner_offer) = offers;
        thread::scope(|s| {
            let invited = s.spawn(move || {
                let outcome = inviter.rv.invite(&inviter_code, || inviter_offer, &sleep);
                assert_eq!(inviter.leftover_refs(), "");
                outcome
            });
            let joined = s.spawn(move || {
                let outcome = joiner.rv.join(&joiner_code, &joiner_offer, &sleep);
                assert_eq!(joiner.leftover_refs(), "");
                outcome
            });
            (invited.join().unwrap(), joined.join().unwrap())
        })
    }

    #[test]
    fn an_invite_and_a_join_hand_each_side_the_others_verified_offer() {
        let remote = Remote::new();
        let (inviter_offer, _) = offer(Side::Inviter);
        let (joiner_offer, _) = offer(Side::Joiner);
        let (invited, joined) = pair(
            &mut Device::new(&remote.url()),
            &mut Device::new(&remote.url()),
            (CODE, CODE),
            (inviter_offer.clone(), joiner_offer.clone()),
        );
        assert_eq!(invited.unwrap(), joiner_offer);
        assert_eq!(joined.unwrap(), inviter_offer);
        // Both sides took back what they posted.
        assert_eq!(remote.pair_refs(), Vec::<String>::new());
    }

    #[test]
    fn a_wrong_code_burns_the_code_on_both_sides() {
        let remote = Remote::new();
        let (invited, joined) = pair(
            &mut Device::new(&remote.url()),
            &mut Device::new(&remote.url()),
            (CODE, "7-tulip-orbit-maple-rose"),
            (offer(Side::Inviter).0, offer(Side::Joiner).0),
        );
        assert!(
            matches!(invited, Err(RendezvousError::Pair(PairError::WrongCode))),
            "{invited:?}"
        );
        assert!(
            matches!(joined, Err(RendezvousError::Pair(PairError::WrongCode))),
            "{joined:?}"
        );
        // Only burns are left, and at least one.
        let left = remote.pair_refs();
        assert!(!left.is_empty());
        assert!(left.iter().all(|r| r.ends_with("/burn")), "{left:?}");

        // The right code, tried next, is refused on either side.
        let late = Device::new(&remote.url());
        let refused = late
            .rv
            .join(&code(CODE), &offer(Side::Joiner).0, &sleep)
            .unwrap_err();
        assert!(
            matches!(refused, RendezvousError::UsedOrExpired),
            "{refused:?}"
        );
        let refused = Error::from(refused);
        assert_eq!(refused.message(), "this code was used or has expired");
        assert_eq!(
            refused.hint(),
            Some("run `safe invite` again for a new code")
        );
        let again =
            Device::new(&remote.url())
                .rv
                .invite(&code(CODE), || offer(Side::Inviter).0, &sleep);
        assert!(
            matches!(again, Err(RendezvousError::UsedOrExpired)),
            "{again:?}"
        );
        assert_eq!(remote.pair_refs(), left);
    }

    #[test]
    fn an_offer_that_does_not_verify_burns_the_code() {
        // A joiner that names the role it wants is refused by the inviter.
        let remote = Remote::new();
        let pushy = Offer {
            role: Some("mine".into()),
            ..offer(Side::Joiner).0
        };
        let (invited, joined) = pair(
            &mut Device::new(&remote.url()),
            &mut Device::new(&remote.url()),
            (CODE, CODE),
            (offer(Side::Inviter).0, pushy),
        );
        assert!(
            matches!(invited, Err(RendezvousError::Pair(PairError::BadOffer))),
            "{invited:?}"
        );
        assert!(
            matches!(joined, Err(RendezvousError::Pair(PairError::BadOffer))),
            "{joined:?}"
        );
        assert_eq!(remote.pair_refs(), ["refs/safe/pair/7/inviter/burn"]);
    }

    #[test]
    fn an_invite_older_than_a_day_is_refused_on_both_sides() {
        let remote = Remote::new();
        let hour = 60 * 60;
        let at = |when: u64| {
            let device = Device::new(&remote.url());
            Device {
                rv: device.rv.with_clock(move || when),
                ..device
            }
        };
        // 23 hours late is in time.
        let (invited, joined) = pair(
            &mut at(NOW - 23 * hour),
            &mut at(NOW),
            (CODE, CODE),
            (offer(Side::Inviter).0, offer(Side::Joiner).0),
        );
        assert!(invited.is_ok() && joined.is_ok(), "{invited:?} {joined:?}");

        // 25 hours late is not, whatever the inviter's clock says.
        let (invited, joined) = pair(
            &mut at(NOW - 25 * hour),
            &mut at(NOW),
            (CODE, CODE),
            (offer(Side::Inviter).0, offer(Side::Joiner).0),
        );
        assert!(
            matches!(joined, Err(RendezvousError::UsedOrExpired)),
            "{joined:?}"
        );
        assert!(
            matches!(invited, Err(RendezvousError::UsedOrExpired)),
            "{invited:?}"
        );
        assert_eq!(remote.pair_refs(), ["refs/safe/pair/7/joiner/burn"]);
    }

    #[test]
    fn an_inviter_stops_waiting_once_its_code_expires() {
        let remote = Remote::new();
        let device = Device::new(&remote.url());
        // Each look at the clock is an hour later.
        let hours = Arc::new(AtomicU64::new(0));
        let clock = Arc::clone(&hours);
        let rv = device
            .rv
            .with_clock(move || NOW + 3600 * clock.fetch_add(1, Ordering::SeqCst));
        let outcome = rv.invite(&code(CODE), || offer(Side::Inviter).0, &sleep);
        assert!(
            matches!(outcome, Err(RendezvousError::UsedOrExpired)),
            "{outcome:?}"
        );
        assert!(hours.load(Ordering::SeqCst) > 24);
        assert_eq!(remote.pair_refs(), ["refs/safe/pair/7/inviter/burn"]);
    }

    #[test]
    fn a_recording_of_the_remote_holds_no_code_and_no_secret() {
        let remote = Remote::new();
        let recorder = tempfile::tempdir().unwrap();
        git(recorder.path(), &["init", "--quiet", "--bare", "r.git"]);
        let recording = recorder.path().join("r.git");
        let done = AtomicBool::new(false);
        let (inviter_offer, inviter_secret) = offer(Side::Inviter);
        let (joiner_offer, joiner_secret) = offer(Side::Joiner);
        let (names, outcomes) = thread::scope(|s| {
            // A third party fetches every pairing ref, as often as it can.
            let recorded = s.spawn(|| {
                let mut names = String::new();
                while !done.load(Ordering::SeqCst) {
                    let url = remote.url();
                    let listed = git_output(&recording, &["ls-remote", &url, "refs/safe/*"]);
                    names.push_str(&String::from_utf8_lossy(&listed.stdout));
                    let spec = format!("+{PAIR_ROOT}/*:refs/recorded/*");
                    git_output(&recording, &["fetch", "--quiet", "--no-tags", &url, &spec]);
                }
                names
            });
            let outcomes = pair(
                &mut Device::new(&remote.url()),
                &mut Device::new(&remote.url()),
                (CODE, CODE),
                (inviter_offer, joiner_offer),
            );
            done.store(true, Ordering::SeqCst);
            (recorded.join().unwrap(), outcomes)
        });
        assert!(outcomes.0.is_ok() && outcomes.1.is_ok(), "{outcomes:?}");

        let mut transcript = names.into_bytes();
        transcript.extend(all_objects(&recording));
        assert!(
            contains(&transcript, br#""step":"spake""#),
            "the recorder saw no message"
        );
        // Everything the remote ever held, taken back or not.
        transcript.extend(all_objects(&remote.path()));
        let mut secrets: Vec<Vec<u8>> = CODE.split('-').skip(1).map(|w| w.into()).collect();
        secrets.push(b"tulip-orbit-maple-river".to_vec());
        for secret in [inviter_secret, joiner_secret] {
            secrets.push(secret.to_vec());
            secrets.push(hex(&secret).into_bytes());
        }
        for secret in secrets {
            assert!(
                !contains(&transcript, &secret),
                "{}",
                String::from_utf8_lossy(&secret)
            );
        }
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn a_message_already_there_is_never_overwritten() {
        let remote = Remote::new();
        let inviter = Device::new(&remote.url());
        Run::new(&inviter.rv, 7, Side::Inviter, &sleep)
            .post(Step::Spake, b"first")
            .unwrap();
        let spake = "refs/safe/pair/7/inviter/spake";
        let before = remote.rev_parse(spake).unwrap();

        // A joiner cannot put its own message in the inviter's place.
        let joiner = Device::new(&remote.url());
        let refused = Run::new(&joiner.rv, 7, Side::Inviter, &sleep)
            .post(Step::Spake, b"second")
            .unwrap_err();
        assert!(
            matches!(refused, RendezvousError::Taken { number: 7 }),
            "{refused:?}"
        );
        let refused = Error::from(refused);
        assert_eq!(
            refused.message(),
            "invite number 7 is taken or was already used at the remote"
        );
        assert_eq!(
            refused.hint(),
            Some("run `safe invite` again for a new code")
        );
        assert_eq!(remote.rev_parse(spake).unwrap(), before);

        // A second invitation under the number is refused before it posts.
        let taken =
            Device::new(&remote.url())
                .rv
                .invite(&code(CODE), || offer(Side::Inviter).0, &sleep);
        assert!(
            matches!(taken, Err(RendezvousError::Taken { number: 7 })),
            "{taken:?}"
        );

        // Once someone has joined, a second joiner is refused, and burns
        // nothing of the pairing under way.
        Run::new(&joiner.rv, 7, Side::Joiner, &sleep)
            .post(Step::Spake, b"joined")
            .unwrap();
        let late = Device::new(&remote.url())
            .rv
            .join(&code(CODE), &offer(Side::Joiner).0, &sleep);
        assert!(
            matches!(late, Err(RendezvousError::Taken { number: 7 })),
            "{late:?}"
        );
        assert_eq!(remote.pair_refs(), [spake, "refs/safe/pair/7/joiner/spake"]);
        assert!(
            remote
                .git(&["show", &format!("{spake}:m")])
                .contains(&hex(b"first"))
        );
    }

    #[test]
    fn pairing_never_touches_main() {
        let remote = Remote::new();
        let main = remote.commit_main();

        let mut inviter = Device::new(&remote.url());
        let mut joiner = Device::new(&remote.url());
        let (invited, joined) = pair(
            &mut inviter,
            &mut joiner,
            (CODE, CODE),
            (offer(Side::Inviter).0, offer(Side::Joiner).0),
        );
        assert!(invited.is_ok() && joined.is_ok(), "{invited:?} {joined:?}");
        assert_eq!(remote.rev_parse("refs/heads/main").unwrap(), main);
        // Only the pairing refs were fetched: neither side holds the journal.
        for device in [&inviter, &joiner] {
            let out = git_output(&device.git_dir(), &["cat-file", "-e", &main]);
            assert!(!out.status.success(), "main was fetched");
        }
    }

    #[test]
    fn a_message_is_one_blob_in_a_commit_that_names_no_one() {
        let remote = Remote::new();
        let device = Device::new(&remote.url());
        let wait = sleep;
        let mut run = Run::new(&device.rv, 7, Side::Inviter, &wait);
        run.post(Step::Spake, b"hi").unwrap();
        let name = "refs/safe/pair/7/inviter/spake";
        let tree = remote.git(&["rev-parse", &format!("{name}^{{tree}}")]);
        assert_eq!(
            remote.git(&["cat-file", "commit", name]),
            format!(
                "tree {}\nauthor safe <safe@safe.invalid> 0 +0000\n\
                 committer safe <safe@safe.invalid> 0 +0000\n\nsafe\n",
                tree.trim()
            )
        );
        let listing = remote.git(&["ls-tree", name]);
        assert!(
            listing.starts_with("100644 blob ") && listing.ends_with("\tm\n"),
            "{listing}"
        );
        assert_eq!(listing.lines().count(), 1);
        assert_eq!(
            remote.git(&["show", &format!("{name}:m")]),
            format!(r#"{{"v":1,"side":"inviter","step":"spake","created":{NOW},"data":"6869"}}"#)
        );

        // Read back only as what its ref says it is.
        let board = run.fetch().unwrap();
        let oid = board.get(Side::Inviter, Step::Spake).unwrap();
        assert!(device.rv.read(oid, Side::Inviter, Step::Spake).is_some());
        assert!(device.rv.read(oid, Side::Joiner, Step::Spake).is_none());
        assert!(device.rv.read(oid, Side::Inviter, Step::Confirm).is_none());
        // A tree with anything beside `m` is no message.
        let git = &device.rv.git;
        let blob = git.blob(b"x").unwrap();
        let mut builder = git
            .treebuilder(Some(&git.find_commit(oid).unwrap().tree().unwrap()))
            .unwrap();
        builder.insert("extra", blob, 0o100644).unwrap();
        let tree = git.find_tree(builder.write().unwrap()).unwrap();
        let who = Signature::new("x", "x@example.invalid", &Time::new(0, 0)).unwrap();
        let padded = git.commit(None, &who, &who, "x", &tree, &[]).unwrap();
        assert!(device.rv.read(padded, Side::Inviter, Step::Spake).is_none());
    }

    #[test]
    fn waiting_ends_at_the_timeout_or_when_cancelled() {
        let remote = Remote::new();
        let brief = Duration::from_millis(100);
        let device = |remote: &Remote| {
            let device = Device::new(&remote.url());
            Device {
                rv: device.rv.polling(POLL, brief),
                ..device
            }
        };
        let started = Instant::now();
        let alone = device(&remote)
            .rv
            .invite(&code(CODE), || offer(Side::Inviter).0, &sleep)
            .unwrap_err();
        assert!(
            matches!(alone, RendezvousError::NobodyJoined { waited } if waited == brief),
            "{alone:?}"
        );
        assert_eq!(Error::from(alone).message(), "nobody joined within 100ms");
        // Nothing was exchanged: the number is free again, and not burned.
        assert_eq!(remote.pair_refs(), Vec::<String>::new());

        let lost = device(&remote)
            .rv
            .join(&code(CODE), &offer(Side::Joiner).0, &sleep)
            .unwrap_err();
        assert!(
            matches!(lost, RendezvousError::NoInvitation { number: 7 }),
            "{lost:?}"
        );
        assert!(started.elapsed() < PATIENCE);

        let stop = |_: Duration| false;
        let cancelled = device(&remote)
            .rv
            .invite(&code(CODE), || offer(Side::Inviter).0, &stop)
            .unwrap_err();
        assert!(
            matches!(cancelled, RendezvousError::Cancelled),
            "{cancelled:?}"
        );
        assert_eq!(remote.pair_refs(), Vec::<String>::new());
    }

    #[test]
    fn a_remote_that_fails_is_named_with_a_hint_for_pairing() {
        let missing = tempfile::tempdir().unwrap();
        let url = missing.path().join("nowhere.git").display().to_string();
        let device = Device::new(&url);
        let err = device
            .rv
            .invite(&code(CODE), || offer(Side::Inviter).0, &sleep)
            .unwrap_err();
        let RendezvousError::Git(err) = err else {
            panic!("{err:?}")
        };
        assert_eq!(
            err.message(),
            format!("there is no git repository at {url}")
        );
        assert!(
            err.hint().unwrap().ends_with(PAIR_HINT_END),
            "{:?}",
            err.hint()
        );

        // Every failure the transport words keeps its advice and loses the
        // promise about `safe sync`, which means nothing here.
        let failures = [
            (
                ErrorCode::Certificate,
                git2::ErrorClass::Ssh,
                "invalid or unknown remote ssh hostkey",
            ),
            (
                ErrorCode::GenericError,
                git2::ErrorClass::Net,
                "failed to connect to 127.0.0.1",
            ),
            (
                ErrorCode::Auth,
                git2::ErrorClass::Callback,
                "no more credentials to try",
            ),
            (
                ErrorCode::Locked,
                git2::ErrorClass::Os,
                "failed to lock file",
            ),
            (
                ErrorCode::Owner,
                git2::ErrorClass::Config,
                "not owned by current user",
            ),
            (
                ErrorCode::GenericError,
                git2::ErrorClass::Os,
                "Permission denied",
            ),
            (
                ErrorCode::GenericError,
                git2::ErrorClass::Http,
                "status code: 500",
            ),
        ];
        for (code, class, message) in failures {
            let err = device.rv.remote_error(
                git2::Error::new(code, class, message),
                &Auth::new(&device.rv.git),
            );
            let hint = err.hint().unwrap();
            assert!(hint.ends_with(PAIR_HINT_END), "{message}: {hint}");
            assert!(!hint.contains("safe sync"), "{message}: {hint}");
        }
    }

    /// `git daemon` serving a directory on a loopback port, pushes allowed.
    struct Daemon {
        child: Child,
        port: u16,
    }

    impl Daemon {
        fn start(base: &Path) -> Self {
            let port = TcpListener::bind(("127.0.0.1", 0))
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            // `git-daemon` itself: `git daemon` would run it as a child and
            // leave it behind when killed.
            let exec_path = git(base, &["--exec-path"]);
            let child = Command::new(Path::new(exec_path.trim()).join("git-daemon"))
                .arg("--listen=127.0.0.1")
                .arg(format!("--port={port}"))
                .args(["--export-all", "--enable=receive-pack", "--reuseaddr"])
                .arg(format!("--base-path={}", base.display()))
                .arg(base)
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .stderr(Stdio::null())
                .spawn()
                .expect("git daemon starts");
            let started = Instant::now();
            while TcpStream::connect(("127.0.0.1", port)).is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "git daemon did not start"
                );
                thread::sleep(Duration::from_millis(20));
            }
            Daemon { child, port }
        }
    }

    impl Drop for Daemon {
        fn drop(&mut self) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }

    /// The network path: libgit2's smart protocol, with `receive-pack`
    /// deciding whether a ref may be created.
    #[test]
    fn a_pairing_runs_through_a_network_remote() {
        let remote = Remote::new();
        let journal = remote.commit_main();
        let daemon = Daemon::start(remote.dir.path());
        let url = format!("git://127.0.0.1:{}/remote.git", daemon.port);
        let wait = sleep;
        let fresh = Device::new(&url);
        assert!(
            Run::new(&fresh.rv, 7, Side::Inviter, &wait)
                .fetch()
                .unwrap()
                .refs
                .is_empty()
        );

        let (inviter_offer, _) = offer(Side::Inviter);
        let (joiner_offer, _) = offer(Side::Joiner);
        let mut inviter = Device::new(&url);
        let mut joiner = Device::new(&url);
        let (invited, joined) = pair(
            &mut inviter,
            &mut joiner,
            (CODE, CODE),
            (inviter_offer.clone(), joiner_offer.clone()),
        );
        assert_eq!(invited.unwrap(), joiner_offer);
        assert_eq!(joined.unwrap(), inviter_offer);
        assert_eq!(remote.pair_refs(), Vec::<String>::new());
        assert_eq!(remote.rev_parse("refs/heads/main").unwrap(), journal);
        for device in [&inviter, &joiner] {
            let out = git_output(&device.git_dir(), &["cat-file", "-e", &journal]);
            assert!(!out.status.success(), "main was fetched");
        }

        // No message is overwritten through the network either.
        Run::new(&inviter.rv, 9, Side::Inviter, &wait)
            .post(Step::Spake, b"first")
            .unwrap();
        let before = remote.rev_parse("refs/safe/pair/9/inviter/spake");
        let refused = Run::new(&joiner.rv, 9, Side::Inviter, &wait)
            .post(Step::Spake, b"second")
            .unwrap_err();
        assert!(
            matches!(refused, RendezvousError::Taken { number: 9 }),
            "{refused:?}"
        );
        assert_eq!(remote.rev_parse("refs/safe/pair/9/inviter/spake"), before);
    }

    /// A host that takes no refs outside branches is not taken for a used
    /// invite number.
    #[test]
    fn a_remote_that_refuses_pairing_refs_says_so() {
        let remote = Remote::new();
        let hook = remote.path().join("hooks").join("pre-receive");
        std::fs::write(&hook, "#!/bin/sh\necho 'only branches here' >&2\nexit 1\n").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let daemon = Daemon::start(remote.dir.path());
        let url = format!("git://127.0.0.1:{}/remote.git", daemon.port);
        let err = Device::new(&url)
            .rv
            .invite(&code(CODE), || offer(Side::Inviter).0, &sleep)
            .unwrap_err();
        let RendezvousError::Git(err) = err else {
            panic!("{err:?}")
        };
        assert!(
            err.message()
                .starts_with(&format!("{url} refused a pairing message: ")),
            "{}",
            err.message()
        );
        assert!(err.hint().unwrap().contains("refs/safe/pair/"));
    }
}
