//! Talking to the remote: fetch its `main`, push ours without force, offer
//! credentials, and turn libgit2's failures into messages a person can act on.
//!
//! Every credential method is offered at most once per connection: libgit2
//! asks again after each refusal, and a callback that keeps giving the same
//! answer makes it ask forever.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use git2::{
    AutotagOption, Cred, CredentialType, ErrorClass, ErrorCode, FetchOptions, Oid, PushOptions,
    RemoteCallbacks, Repository,
};

use super::local;
use super::repo::{ORIGIN_MAIN, ref_target};
use crate::error::{Error, Result};

const FETCH_SPEC: &str = "+refs/heads/main:refs/remotes/origin/main";
/// Pushed from a scratch ref so that local `main` moves only once the push
/// (and the write of the merged files) has succeeded.
const OUTGOING: &str = "refs/safe/outgoing";
/// Where the last fetched `main` waits while a fetch runs.
const FETCH_BASE: &str = "refs/safe/fetch-base";
const PUSH_SPEC: &str = "refs/safe/outgoing:refs/heads/main";
/// The usual private key files, in the order ssh itself tries them.
const KEY_FILES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// What came of a push.
#[derive(Debug, PartialEq, Eq)]
pub enum Pushed {
    Done,
    /// The remote refused to move `main` (usually: it moved meanwhile).
    Rejected(String),
}

/// One remote, reached through `sync.git`.
pub struct Transport<'r> {
    repo: &'r Repository,
    url: String,
    /// `url` without a password, for messages.
    shown: String,
    /// Set for a remote on this machine, which `local` handles.
    local: Option<PathBuf>,
    /// What a copy from or to a local remote takes.
    rules: local::CopyRules,
}

impl<'r> Transport<'r> {
    pub fn new(repo: &'r Repository, url: &str) -> Self {
        Transport {
            repo,
            url: url.to_string(),
            shown: display_url(url),
            local: local::path_of(url),
            rules: local::CopyRules::MONTHS,
        }
    }

    /// The same, for the trees of schema 2 (`sync::logs`): deeper, and
    /// what does not fit is left for the reader to report.
    pub fn for_logs(mut self) -> Self {
        self.rules = local::CopyRules::LOGS;
        self
    }

    /// Fetch the remote's `main` into `refs/remotes/origin/main` and return
    /// it; `None` when the remote has no `main` yet (a new, empty remote).
    pub fn fetch(&self) -> Result<Option<Oid>> {
        let fetched = match &self.local {
            Some(path) => self.fetch_local(path)?,
            None => self.fetch_network()?,
        };
        match fetched {
            Some(oid) => self
                .repo
                .reference(ORIGIN_MAIN, oid, true, "safe sync")
                .map(|_| ()),
            None => match self.repo.find_reference(ORIGIN_MAIN) {
                Ok(mut stale) => stale.delete(),
                Err(_) => Ok(()),
            },
        }
        .map_err(|e| self.error(e, None))?;
        Ok(fetched)
    }

    /// Push `commit` to the remote's `main`, never forcing: it must still be
    /// at `expected`, what the last fetch saw.
    pub fn push(&self, commit: Oid, expected: Option<Oid>) -> Result<Pushed> {
        match &self.local {
            Some(path) => self.push_local(path, commit, expected),
            None => self.push_network(commit),
        }
    }

    /// Open a local remote; only a bare repository will do, as with git,
    /// which refuses to move the branch of someone's working copy.
    fn open_local(&self, path: &Path) -> Result<Repository> {
        let remote = local::open(path).map_err(|e| self.error(e, None))?;
        if !remote.is_bare() {
            return Err(Error::runtime(format!(
                "{} is a working copy, not a bare repository",
                self.shown
            ))
            .with_hint(
                "safe syncs through a bare repository: make one with `git init --bare <path>`",
            ));
        }
        Ok(remote)
    }

    fn fetch_local(&self, path: &Path) -> Result<Option<Oid>> {
        let remote = self.open_local(path)?;
        let Some(main) = local::main_of(&remote).map_err(|e| self.error(e, None))? else {
            return Ok(None);
        };
        local::fetch_reachable(&remote, self.repo, main, &self.shown, self.rules)
            .map_err(|e| self.copy_error(e))?;
        Ok(Some(main))
    }

    fn push_local(&self, path: &Path, commit: Oid, expected: Option<Oid>) -> Result<Pushed> {
        let remote = self.open_local(path)?;
        local::copy_reachable(self.repo, &remote, commit, &self.shown, self.rules)
            .map_err(|e| self.copy_error(e))?;
        match local::update_main(&remote, expected, commit).map_err(|e| self.error(e, None))? {
            true => Ok(Pushed::Done),
            false => Ok(Pushed::Rejected(
                "its main moved since safe fetched it".into(),
            )),
        }
    }

    fn copy_error(&self, err: local::CopyError) -> Error {
        match err {
            local::CopyError::Git(e) => self.error(e, None),
            local::CopyError::Data(e) => e,
        }
    }

    /// Fetch through libgit2: ssh, https, git.
    fn fetch_network(&self) -> Result<Option<Oid>> {
        let auth = RefCell::new(Auth::new(self.repo));
        let fail = |e| self.error(e, Some(&auth.borrow()));
        // Start without the tracking ref, so that afterwards it exists exactly
        // when the remote has `main`: one left by an earlier remote, or by a
        // remote since emptied, must not pass for the remote's state. Its old
        // value stays under another name meanwhile, so that the fetch still
        // offers it as common ground and the remote sends only what is new.
        let before = self.repo.refname_to_id(ORIGIN_MAIN).ok();
        if let Some(before) = before {
            self.repo
                .reference(FETCH_BASE, before, true, "safe sync")
                .map_err(fail)?;
            self.repo
                .find_reference(ORIGIN_MAIN)
                .and_then(|mut r| r.delete())
                .map_err(fail)?;
        }
        let mut options = FetchOptions::new();
        options
            .remote_callbacks(auth_callbacks(&auth))
            .download_tags(AutotagOption::None)
            .update_fetchhead(false);
        // Only the tip: a sync reads the remote's tree and never its
        // history, so a first sync of a years-old journal does not fetch
        // every sealed version each segment ever had. Later fetches send
        // what is here as common ground, as before.
        options.depth(1);
        let fetched = self
            .repo
            .remote_anonymous(&self.url)
            .and_then(|mut remote| {
                remote.fetch(&[FETCH_SPEC], Some(&mut options), Some("safe sync"))
            });
        if let Ok(mut base) = self.repo.find_reference(FETCH_BASE) {
            let _ = base.delete();
        }
        if let Err(e) = fetched {
            if let Some(before) = before {
                let _ = self
                    .repo
                    .reference(ORIGIN_MAIN, before, true, "safe sync: fetch failed");
            }
            return Err(fail(e));
        }
        ref_target(self.repo, ORIGIN_MAIN).map_err(fail)
    }

    /// Push through libgit2, which refuses a push that is not a fast-forward
    /// of what the remote advertises; the remote checks again as it updates.
    fn push_network(&self, commit: Oid) -> Result<Pushed> {
        let auth = RefCell::new(Auth::new(self.repo));
        let rejected: RefCell<Option<String>> = RefCell::new(None);
        let outcome = {
            let mut callbacks = auth_callbacks(&auth);
            // `push()` returns Ok even when the remote refused the update;
            // only this callback tells.
            callbacks.push_update_reference(|_, status| {
                if let Some(status) = status {
                    *rejected.borrow_mut() = Some(status.to_string());
                }
                Ok(())
            });
            let mut options = PushOptions::new();
            options
                .remote_callbacks(callbacks)
                .packbuilder_parallelism(0);
            self.repo
                .reference(OUTGOING, commit, true, "safe sync")
                .and_then(|_| self.repo.remote_anonymous(&self.url))
                .and_then(|mut remote| remote.push(&[PUSH_SPEC], Some(&mut options)))
        };
        if let Ok(mut outgoing) = self.repo.find_reference(OUTGOING) {
            let _ = outgoing.delete();
        }
        match outcome {
            // libgit2 checks fast-forward itself against the refs the remote
            // advertised, so a remote that moved since the fetch lands here.
            Err(e) if e.code() == ErrorCode::NotFastForward => {
                Ok(Pushed::Rejected(e.message().to_string()))
            }
            Err(e) => Err(self.error(e, Some(&auth.borrow()))),
            Ok(()) => Ok(match rejected.into_inner() {
                Some(status) => Pushed::Rejected(status),
                None => Pushed::Done,
            }),
        }
    }

    fn error(&self, err: git2::Error, auth: Option<&Auth<'_>>) -> Error {
        let none = Auth::with(self.repo, None, false);
        classify(&err, &self.shown, auth.unwrap_or(&none)).with_source(err)
    }
}

pub(super) fn auth_callbacks<'a>(auth: &'a RefCell<Auth<'_>>) -> RemoteCallbacks<'a> {
    let mut callbacks = RemoteCallbacks::new();
    callbacks.credentials(move |url, user, allowed| auth.borrow_mut().next(url, user, allowed));
    // No certificate_check callback: libgit2's own check stays in force, so
    // an unknown ssh host key or a bad TLS certificate fails instead of being
    // trusted silently.
    callbacks
}

/// The credential methods offered so far on one connection.
pub(super) struct Auth<'r> {
    repo: &'r Repository,
    /// `~/.ssh`, where the key files are looked for.
    ssh_dir: Option<PathBuf>,
    agent_running: bool,
    username: bool,
    agent: bool,
    keys: usize,
    helper: bool,
    default: bool,
    /// What was offered, in order, for the error message.
    tried: Vec<String>,
    /// libgit2 asked again after every method was used.
    exhausted: bool,
}

impl<'r> Auth<'r> {
    pub(super) fn new(repo: &'r Repository) -> Self {
        let ssh_dir = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(|h| PathBuf::from(h).join(".ssh"));
        Self::with(repo, ssh_dir, std::env::var_os("SSH_AUTH_SOCK").is_some())
    }

    fn with(repo: &'r Repository, ssh_dir: Option<PathBuf>, agent_running: bool) -> Self {
        Auth {
            repo,
            ssh_dir,
            agent_running,
            username: false,
            agent: false,
            keys: 0,
            helper: false,
            default: false,
            tried: Vec::new(),
            exhausted: false,
        }
    }

    /// The next method not yet offered: ssh agent, key files, then git's
    /// credential helper for https, then the platform default.
    fn next(
        &mut self,
        url: &str,
        url_user: Option<&str>,
        allowed: CredentialType,
    ) -> Result<Cred, git2::Error> {
        let user = url_user.map(str::to_string).unwrap_or_else(default_user);
        if allowed.contains(CredentialType::USERNAME) && !self.username {
            self.username = true;
            return Cred::username(&user);
        }
        if allowed.contains(CredentialType::SSH_KEY) {
            if !self.agent && self.agent_running {
                self.agent = true;
                self.tried.push("ssh-agent".into());
                return Cred::ssh_key_from_agent(&user);
            }
            while self.keys < KEY_FILES.len() {
                let name = KEY_FILES[self.keys];
                self.keys += 1;
                if let Some(key) = self
                    .ssh_dir
                    .as_ref()
                    .map(|d| d.join(name))
                    .filter(|k| k.is_file())
                {
                    self.tried.push(format!("~/.ssh/{name}"));
                    return Cred::ssh_key(&user, None, &key, None);
                }
            }
        }
        if allowed.contains(CredentialType::USER_PASS_PLAINTEXT) && !self.helper {
            self.helper = true;
            let config = self.repo.config()?;
            if let Ok(cred) = Cred::credential_helper(&config, url, url_user) {
                self.tried.push("git's credential helper".into());
                return Ok(cred);
            }
        }
        if allowed.contains(CredentialType::DEFAULT) && !self.default {
            self.default = true;
            self.tried.push("your system's default credentials".into());
            return Cred::default();
        }
        self.exhausted = true;
        Err(git2::Error::new(
            ErrorCode::Auth,
            ErrorClass::Callback,
            "no more credentials to try",
        ))
    }
}

/// The login name ssh would use for a URL without one.
fn default_user() -> String {
    ["USER", "USERNAME", "LOGNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok())
        .unwrap_or_else(|| "git".into())
}

/// Is this remote a path on this machine rather than a URL or `host:path`?
pub fn is_local_path(url: &str) -> bool {
    let (before_colon, _) = url.split_once(':').unwrap_or((url, ""));
    // `host:path` is ssh, as in git; a one-letter "host" is a Windows drive.
    let scp_like = url.contains(':') && before_colon.len() > 1 && !before_colon.contains('/');
    !url.contains("://") && !scp_like
}

/// The remote as shown to a person: a password in an https URL is hidden.
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***{}", &rest[at..]),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// One message and hint per way a sync can fail on the network.
pub(super) fn classify(err: &git2::Error, url: &str, auth: &Auth<'_>) -> Error {
    let message = err.message();
    let lower = message.to_ascii_lowercase();
    let saved = "your changes are saved, and the next `safe sync` sends them";
    if auth.exhausted || err.code() == ErrorCode::Auth || lower.contains("authentication") {
        // libgit2 offers a password written in the URL before asking us.
        let mut tried = auth.tried.clone();
        if url.contains(":***@") {
            tried.insert(0, "the password in the address".into());
        }
        let tried = if tried.is_empty() {
            "no credentials were available".to_string()
        } else {
            format!("tried {}", tried.join(", "))
        };
        return Error::runtime(format!("could not log in to {url} ({tried})")).with_hint(format!(
            "for ssh, add your public key to the server (and to ssh-agent if it has a passphrase); for https, \
             set up git's credential helper with a token; {saved}"
        ));
    }
    if err.code() == ErrorCode::Certificate
        || lower.contains("hostkey")
        || lower.contains("host key")
    {
        return Error::runtime(format!("could not verify the identity of the server of {url}: {message}")).with_hint(
            format!(
                "if this is the first time you reach it, connect once with `ssh` (or `git ls-remote {url}`) to check \
                 and accept its key; if its key changed, ask whoever runs it why; {saved}"
            ),
        );
    }
    if err.code() == ErrorCode::Owner {
        return Error::runtime(format!(
            "git refuses to use {url}: it belongs to another user"
        ))
        .with_hint(format!(
            "if you trust it (a folder you share with your partner), allow it with \
                 `git config --global --add safe.directory <its path>`; {saved}"
        ));
    }
    let not_found = err.code() == ErrorCode::NotFound
        || lower.contains("could not find repository")
        || lower.contains("not a git repository")
        || lower.contains("does not appear to be a git repository")
        || lower.contains("repository not found")
        || lower.contains("status code: 404")
        || lower.contains("failed to resolve path")
        // libgit2's word for a local path that does not exist.
        || (lower.contains("unsupported url protocol") && is_local_path(url));
    if not_found {
        return Error::runtime(format!("there is no git repository at {url}")).with_hint(format!(
            "check the address, or create an empty repository there (`git init --bare` on a server or a shared \
             folder), then run `safe sync` again; `safe sync --remote <URL>` changes it; {saved}"
        ));
    }
    let offline = matches!(
        err.class(),
        ErrorClass::Net | ErrorClass::Ssh | ErrorClass::Http
    ) || lower.contains("failed to connect")
        || lower.contains("failed to resolve address")
        || lower.contains("timed out");
    if offline {
        return Error::runtime(format!("could not reach {url}: {message}")).with_hint(format!(
            "check your network connection and the address; {saved}"
        ));
    }
    if err.code() == ErrorCode::Locked {
        return Error::runtime(format!("{url} is busy: {message}")).with_hint(format!(
            "another sync is writing to it; try again in a moment (if this keeps happening, a crashed \
             program left that lock file behind, and removing it helps); {saved}"
        ));
    }
    if lower.contains("permission denied") {
        return Error::runtime(format!("could not write to {url}: {message}")).with_hint(format!(
            "check that you may write to that repository; {saved}"
        ));
    }
    Error::runtime(format!("sync with {url} failed: {message}")).with_hint(format!(
        "check the address (`safe sync --remote <URL>` changes it); {saved}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(repo: &Repository) -> Auth<'_> {
        Auth::with(repo, None, false)
    }

    #[test]
    fn passwords_are_hidden_from_messages() {
        assert_eq!(
            display_url("https://sam:tok3n@example.org/us.git"),
            "https://sam:***@example.org/us.git"
        );
        assert_eq!(
            display_url("https://sam@example.org/us.git"),
            "https://sam@example.org/us.git"
        );
        assert_eq!(
            display_url("git@example.org:us/j.git"),
            "git@example.org:us/j.git"
        );
        assert_eq!(display_url("/srv/us.git"), "/srv/us.git");
    }

    #[test]
    fn each_failure_gets_its_own_message() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(dir.path()).unwrap();
        let cases = [
            (
                ErrorCode::Certificate,
                ErrorClass::Ssh,
                "invalid or unknown remote ssh hostkey",
                "could not verify",
            ),
            (
                ErrorCode::GenericError,
                ErrorClass::Net,
                "failed to connect to 127.0.0.1: Connection refused",
                "could not reach",
            ),
            (
                ErrorCode::NotFound,
                ErrorClass::Repository,
                "could not find repository at '/x'",
                "there is no git repository",
            ),
            (
                ErrorCode::Auth,
                ErrorClass::Callback,
                "no more credentials to try",
                "could not log in",
            ),
            (
                ErrorCode::GenericError,
                ErrorClass::Http,
                "unexpected http status code: 404",
                "there is no git repository",
            ),
            (
                ErrorCode::Locked,
                ErrorClass::Os,
                "failed to lock file 'main.lock' for writing",
                "u is busy",
            ),
            (
                ErrorCode::Owner,
                ErrorClass::Config,
                "repository path '/x' is not owned by current user",
                "git refuses to use u",
            ),
            (
                ErrorCode::GenericError,
                ErrorClass::Os,
                "failed to make directory '/x/objects/ab': Permission denied",
                "could not write to u",
            ),
        ];
        for (code, class, message, expected) in cases {
            let err = classify(&git2::Error::new(code, class, message), "u", &auth(&repo));
            assert!(
                err.message().starts_with(expected),
                "{message} -> {}",
                err.message()
            );
            assert!(err.hint().is_some());
        }
    }

    #[test]
    fn every_method_is_offered_once_then_it_gives_up() {
        let home = tempfile::tempdir().unwrap();
        let repo = Repository::init_bare(home.path().join("r")).unwrap();
        let ssh_dir = home.path().join(".ssh");
        std::fs::create_dir(&ssh_dir).unwrap();
        std::fs::write(ssh_dir.join("id_ecdsa"), "not really a key").unwrap();
        let mut auth = Auth::with(&repo, Some(ssh_dir), true);
        let ssh = CredentialType::SSH_KEY;
        let url = "ssh://git@127.0.0.1/x";
        assert!(auth.next(url, Some("git"), ssh).is_ok());
        assert!(auth.next(url, Some("git"), ssh).is_ok());
        assert!(auth.next(url, Some("git"), ssh).is_err());
        assert_eq!(auth.tried, ["ssh-agent", "~/.ssh/id_ecdsa"]);
        assert!(auth.exhausted);

        // When nothing could be offered, the message says so.
        let mut auth = Auth::with(&repo, None, false);
        assert!(auth.next(url, Some("git"), ssh).is_err());
        let err = classify(
            &git2::Error::from_str("too many redirects or authentication replays"),
            "u",
            &auth,
        );
        assert_eq!(
            err.message(),
            "could not log in to u (no credentials were available)"
        );
    }
}
