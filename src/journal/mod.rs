//! The schema-2 journal: the one service commands will talk to (STYLE.md).
//! It knows which devices are in the journal and whose each is
//! ([`roster`]), reads their verified logs, keeps the index up to date and
//! writes this device's batches (DESIGN.md §3).

pub mod identity;
pub mod roster;
