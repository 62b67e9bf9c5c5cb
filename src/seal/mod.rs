//! Sealed sync (DESIGN.md §4 "Sealed" and "Removing"; docs/protocol.md
//! "Sealing"): what the git host holds is age ciphertext, except the
//! devices' signed key statements and the sealed epoch files around it.
//!
//! - `key`: this device's X25519 key for age, and its signed statement;
//! - `epoch`: epoch keys, sealed to every device of the journal;
//! - `segment`: a segment sealed to an epoch, bound to its device and
//!   place, padded to 1 KiB;
//! - `layout`: the paths of a sealed remote, which name no one;
//! - `remote`: reading a sealed tree into the plaintext logs the log sync
//!   compares, and sealing the logs to send.

pub mod epoch;
pub mod key;
pub mod layout;
pub mod remote;
pub mod segment;
pub mod tools;
