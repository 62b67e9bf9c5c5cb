//! Everything that turns results into text for a person: tables, the
//! heatmap, colour, and the sanitising of untrusted text.

pub mod heatmap;
pub mod sanitize;
