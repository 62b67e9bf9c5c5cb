//! The pure core of safe: entries, practices, goals, dates, statistics and
//! the merge. Nothing here touches the disk, the clock or the terminal; "today"
//! is always an argument.

pub mod card;
pub mod goal;
pub mod streak;
pub mod strength;
pub mod us;
pub mod when;
