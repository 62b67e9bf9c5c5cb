//! The pure core of safe: entries, practices, goals, dates, statistics, the
//! schema-1 documents the migration reads (`month`, `person`, `practice`),
//! and the records and their fold (schema 2). Nothing here touches the disk,
//! the clock or the terminal; "today" is always an argument.

pub mod card;
pub mod carry;
pub mod entry;
pub mod fold;
pub mod goal;
pub mod limits;
pub mod month;
pub mod person;
pub mod practice;
pub mod record;
pub mod repair_dialogue;
pub mod rev;
pub mod review;
pub mod streak;
pub mod strength;
pub mod summary;
pub mod us;
pub mod when;
