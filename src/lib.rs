//! safe: a practice journal for couples.

pub mod domain;
pub mod render;
