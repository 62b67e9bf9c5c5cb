//! What a remote may hold, and the errors for what it must not: a file
//! too big for any honest log, or something no safe ever writes.

use std::path::Path;

use crate::error::Error;

pub use crate::domain::limits::MAX_FILE_BYTES;

/// The error for a file over [`MAX_FILE_BYTES`].
pub fn too_big(shown: &Path, size: u64) -> Error {
    Error::runtime(format!(
        "{} is {} MiB, more than safe accepts for one journal file ({} MiB)",
        shown.display(),
        size / (1024 * 1024),
        MAX_FILE_BYTES / (1024 * 1024)
    ))
    .with_hint("nothing was changed; a journal file this big was not written by safe")
}

/// The error for a tree that holds something a journal never does.
pub fn not_a_journal(url: &str, what: &str) -> Error {
    Error::runtime(format!("{url} is not a safe journal: it holds `{what}`")).with_hint(
        "safe syncs with an empty repository or one that safe filled; create a new empty one \
             (no README or licence) and point `safe sync --remote <URL>` at it",
    )
}
