//! Behaviour a user sees, tested by running the real `safe` binary in a
//! temporary data directory with a fixed `SAFE_NOW`.

mod env;

mod basics;
mod cards;
mod completions;
mod concurrency;
mod durability;
mod everyday;
mod everyday2;
mod hardening;
mod history_stream;
mod hostile_completions;
mod output;
mod pairing;
mod remind;
mod repair_pty;
mod rituals;
mod sealed;
mod ssh;
mod stats;
mod sync;
mod sync_perf;
mod table;
mod undo_index;
