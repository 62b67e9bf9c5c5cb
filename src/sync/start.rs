//! Starting libgit2 on another thread while the sync does its first work.
//!
//! libgit2 makes its one OpenSSL context as it starts, and OpenSSL parses
//! the whole CA bundle into it then: some 20 ms, a third of a `safe sync`
//! with nothing new, spent even for a remote on this machine or over ssh
//! that never uses TLS. It cannot be skipped (that takes changing the
//! process environment or libgit2's options, both `unsafe`, which safe
//! forbids, or a libgit2 built to load OpenSSL lazily), so it is moved
//! aside instead: a sync starts libgit2 on a second thread at once, and
//! meanwhile loads the session, the stat record and the sealing state
//! and looks through `shared/log`, none of which touches git. The first
//! call into git2 waits for the start to finish (git2 starts libgit2 under
//! a `Once`).

use std::thread::JoinHandle;

/// libgit2 starting on another thread; dropping it waits for the start to
/// finish, so that the process never exits in the middle of it.
pub struct GitStart(Option<JoinHandle<()>>);

impl GitStart {
    /// Start libgit2 now on another thread. If no thread can be made, it
    /// starts on the first use instead.
    pub fn begin() -> GitStart {
        GitStart(
            std::thread::Builder::new()
                .name("git-start".into())
                .spawn(start_git)
                .ok(),
        )
    }
}

impl Drop for GitStart {
    fn drop(&mut self) {
        if let Some(thread) = self.0.take() {
            let _ = thread.join();
        }
    }
}

/// Start libgit2 (once per process), with the option every sync wants:
/// blobs are checked by name when copied, and every line is verified
/// before use, so libgit2 need not hash each object again as it reads it.
pub fn start_git() {
    git2::opts::strict_hash_verification(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_works_after_a_start_on_another_thread() {
        let start = GitStart::begin();
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path()).unwrap();
        assert!(repo.is_bare());
        drop(start);
        // A second start is harmless.
        drop(GitStart::begin());
        start_git();
    }
}
