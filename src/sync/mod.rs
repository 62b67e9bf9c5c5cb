//! Sharing the journal through git (DESIGN.md §4). Git only carries the data:
//! each device's signed log under `shared/log` is committed into the bare
//! repository `sync.git`, fetched and pushed like any branch; two trees are
//! joined file by file (every file has one writer), never by git's merge.
//!
//! - `logs`: the sync of device logs, which takes only verified longer
//!   copies of each log (docs/protocol.md "Sync of device logs");
//! - `journal`: limits and messages for what a remote holds;
//! - `repo`: `sync.git`, trees and commits without a working tree or index;
//! - `transport`: fetch, push, credentials, and errors a person can act on;
//! - `local`: the transport for a remote on this machine;
//! - `stat`: which files of `shared/` changed since the last sync, without
//!   reading them all;
//! - `rendezvous`: a pairing's messages, carried as refs of the remote;
//! - `start`: starting libgit2 on another thread meanwhile.

mod journal;
mod local;
pub mod logs;
pub mod rendezvous;
mod repo;
mod start;
mod stat;
mod transport;

use crate::error::{Error, Result};

pub use start::GitStart;
pub use transport::display_url;

/// What a sync did, for the one line `safe sync` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    /// The remote, with any password hidden.
    pub remote: String,
    /// Entries that came from the remote: new here, or a newer version.
    pub received: usize,
    /// My entries the remote did not have, or had an older version of.
    pub sent: usize,
    /// The names of the other people in the journal, as they wrote them
    /// (untrusted: sanitise before printing).
    pub partners: Vec<String>,
    /// Something was pushed or written to `shared/`.
    pub changed: bool,
}

/// The remote as it is saved: URLs and `host:path` as given, a local path
/// made absolute so that `safe sync` works from any directory.
pub fn normalize_remote(text: &str) -> Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Error::input("the remote is empty").with_hint(
            "give a git URL, e.g. `safe sync --remote git@example.org:us/journal.git`",
        ));
    }
    if !transport::is_local_path(text) {
        return Ok(text.to_string());
    }
    std::path::absolute(text)
        .map(|path| path.display().to_string())
        .map_err(|e| Error::input(format!("`{text}` is not a usable path: {e}")))
}
