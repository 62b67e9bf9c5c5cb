//! Placeholder until the log sync lands (uncommitted).
use std::collections::BTreeMap;
use std::path::Path;
pub struct LogSyncReport {
    pub remote: String,
    pub received: BTreeMap<String, u64>,
    pub sent: u64,
    pub changed: bool,
    pub problems: Vec<crate::error::Error>,
}
pub fn sync_logs(
    _root: &Path,
    _url: &str,
    _journal: &mut crate::journal::Journal,
    _wall_ms: u64,
    _lock: &crate::store::Lock,
) -> crate::error::Result<LogSyncReport> {
    Err(crate::error::Error::runtime("sync is not wired yet"))
}
